/* --preload-tasks: a store filled at start. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- preload (--preload-tasks) ---- */

int mock_preload(struct mock_api *api, size_t ntasks, struct util_error *err)
{
    struct mock_store *s = &api->store;
    size_t total = 1 + 10 + 10 + ntasks, n = 0;
    int64_t base = api->now - (int64_t)total * 1000;
    char name[64];
#define STAMP(h)                                                                                   \
    do {                                                                                           \
        mock_new_id(api, (h).id);                                                                  \
        (h).created = (h).updated = base + (int64_t)(n++) * 1000;                                  \
    } while (0)
    struct mock_auth *a = calloc(1, sizeof(*a));
    if (!a)
        goto nomem;
    STAMP(a->h);
    a->type = "algolia";
    a->name = mock_strdup("preloaded algolia credentials");
    a->input = cJSON_Parse("{\"appID\":\"PRELOADED\",\"apiKey\":\"preloaded-secret\"}");
    if (!a->name || !a->input || mock_store_add(s, KIND_AUTH, &a->h)) {
        mock_res_free(KIND_AUTH, &a->h);
        goto nomem;
    }
    struct mock_source *src[10];
    struct mock_dest *dst[10];
    for (int i = 0; i < 10; i++) {
        struct mock_source *x = calloc(1, sizeof(*x));
        if (!x)
            goto nomem;
        STAMP(x->h);
        x->type = "json";
        snprintf(name, sizeof(name), "preloaded source %d", i);
        x->name = mock_strdup(name);
        x->input = cJSON_CreateObject();
        snprintf(name, sizeof(name), "https://example.com/feed-%d.json", i);
        if (!x->name || !x->input || !cJSON_AddStringToObject(x->input, "url", name) ||
            mock_store_add(s, KIND_SOURCE, &x->h)) {
            mock_res_free(KIND_SOURCE, &x->h);
            goto nomem;
        }
        src[i] = x;
    }
    for (int i = 0; i < 10; i++) {
        struct mock_dest *x = calloc(1, sizeof(*x));
        if (!x)
            goto nomem;
        STAMP(x->h);
        x->type = i % 2 ? "insights" : "search";
        snprintf(name, sizeof(name), "preloaded destination %d", i);
        x->name = mock_strdup(name);
        x->input = cJSON_CreateObject();
        snprintf(name, sizeof(name), "index_%d", i);
        mock_copy_id(x->auth_id, a->h.id);
        if (!x->name || !x->input || !cJSON_AddStringToObject(x->input, "indexName", name) ||
            mock_store_add(s, KIND_DEST, &x->h)) {
            mock_res_free(KIND_DEST, &x->h);
            goto nomem;
        }
        a->refs++;
        dst[i] = x;
    }
    for (size_t i = 0; i < ntasks; i++) {
        struct mock_task *t = calloc(1, sizeof(*t));
        if (!t)
            goto nomem;
        STAMP(t->h);
        struct mock_source *x = src[i % 10];
        struct mock_dest *d = dst[(i / 10) % 10];
        mock_copy_id(t->source_id, x->h.id);
        mock_copy_id(t->dest_id, d->h.id);
        t->action = mock_actions[i % 4];
        t->trigger_type = mock_trigger_types[(i / 4) % 4];
        t->enabled = i % 3 != 0;
        t->failure_threshold = -1;
        if (strcmp(t->trigger_type, "schedule") == 0) {
            t->cron = mock_strdup("0 * * * *");
            if (!t->cron || mock_cron_parse(t->cron, &t->cron_parsed)) {
                mock_res_free(KIND_TASK, &t->h);
                goto nomem;
            }
        }
        if (mock_store_add(s, KIND_TASK, &t->h)) {
            mock_res_free(KIND_TASK, &t->h);
            goto nomem;
        }
        x->refs++;
        d->refs++;
    }
#undef STAMP
    return UTIL_OK;
nomem:
    return util_error_set(err, UTIL_ERR_NOMEM, "out of memory preloading %zu tasks", ntasks);
}
