/* --preload-tasks: a store filled at start. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- preload (--preload, --preload-tasks) ---- */

int mock_preload(struct mock_api *api, size_t ntasks, struct util_error *err)
{
    struct mock_preload p = {
        .authentications = 1, .sources = 10, .destinations = 10, .tasks = ntasks};
    return mock_preload_counts(api, &p, err);
}

/* Fills the store with the counts of want (tasks need a source and a
 * destination, runs a task: one of each is added when none is asked for),
 * created one second apart before the clock's start, in dependency order:
 * destination i uses authentication i mod A, task i source i mod S and
 * destination (i / S) mod D, run i task i mod T. Tasks take every action,
 * trigger type and enabled state in turn; runs are old enough to have
 * finished (with the outcome and event count of --run-outcome and
 * --run-events). */
int mock_preload_counts(struct mock_api *api, const struct mock_preload *want,
                        struct util_error *err)
{
    struct mock_store *s = &api->store;
    struct mock_preload p = *want;
    if (p.runs && !p.tasks)
        p.tasks = 1;
    if (p.tasks && !p.sources)
        p.sources = 1;
    if (p.tasks && !p.destinations)
        p.destinations = 1;
    if (p.authentications > MOCK_CAP_PRELOAD || p.sources > MOCK_CAP_PRELOAD ||
        p.destinations > MOCK_CAP_PRELOAD || p.tasks > MOCK_CAP_PRELOAD ||
        p.runs > MOCK_CAP_PRELOAD)
        return util_error_set(err, UTIL_ERR_LIMIT, "at most %u preloaded resources of a kind",
                              MOCK_CAP_PRELOAD);
    size_t total = p.authentications + p.sources + p.destinations + p.tasks + p.runs, n = 0;
    int64_t base = api->now - (int64_t)total * 1000;
    if (p.runs) /* old enough that every preloaded run has finished */
        base -= (int64_t)(api->run_events_max + 2) * api->stage_ms;
    int rc = UTIL_OK;
    char name[64];
    struct mock_auth **auths = calloc(p.authentications + 1, sizeof(*auths));
    struct mock_source **src = calloc(p.sources + 1, sizeof(*src));
    struct mock_dest **dst = calloc(p.destinations + 1, sizeof(*dst));
    struct mock_task **tasks = calloc(p.tasks + 1, sizeof(*tasks));
    if (!auths || !src || !dst || !tasks)
        goto nomem;
#define STAMP(h)                                                                                   \
    do {                                                                                           \
        mock_new_id(api, (h).id);                                                                  \
        (h).created = (h).updated = base + (int64_t)(n++) * 1000;                                  \
    } while (0)
    for (size_t i = 0; i < p.authentications; i++) {
        struct mock_auth *a = calloc(1, sizeof(*a));
        if (!a)
            goto nomem;
        STAMP(a->h);
        a->type = "algolia";
        snprintf(name, sizeof(name), "preloaded algolia credentials %zu", i);
        a->name = mock_strdup(i ? name : "preloaded algolia credentials");
        a->input = cJSON_Parse("{\"appID\":\"PRELOADED\",\"apiKey\":\"preloaded-secret\"}");
        if (!a->name || !a->input || mock_store_add(s, KIND_AUTH, &a->h)) {
            mock_res_free(KIND_AUTH, &a->h);
            goto nomem;
        }
        auths[i] = a;
    }
    for (size_t i = 0; i < p.sources; i++) {
        struct mock_source *x = calloc(1, sizeof(*x));
        if (!x)
            goto nomem;
        STAMP(x->h);
        x->type = "json";
        snprintf(name, sizeof(name), "preloaded source %zu", i);
        x->name = mock_strdup(name);
        x->input = cJSON_CreateObject();
        snprintf(name, sizeof(name), "https://example.com/feed-%zu.json", i);
        if (!x->name || !x->input || !cJSON_AddStringToObject(x->input, "url", name) ||
            mock_store_add(s, KIND_SOURCE, &x->h)) {
            mock_res_free(KIND_SOURCE, &x->h);
            goto nomem;
        }
        src[i] = x;
    }
    for (size_t i = 0; i < p.destinations; i++) {
        struct mock_dest *x = calloc(1, sizeof(*x));
        if (!x)
            goto nomem;
        STAMP(x->h);
        x->type = i % 2 ? "insights" : "search";
        snprintf(name, sizeof(name), "preloaded destination %zu", i);
        x->name = mock_strdup(name);
        x->input = cJSON_CreateObject();
        snprintf(name, sizeof(name), "index_%zu", i);
        struct mock_auth *a = p.authentications ? auths[i % p.authentications] : NULL;
        if (a)
            mock_copy_id(x->auth_id, a->h.id);
        if (!x->name || !x->input || !cJSON_AddStringToObject(x->input, "indexName", name) ||
            mock_store_add(s, KIND_DEST, &x->h)) {
            mock_res_free(KIND_DEST, &x->h);
            goto nomem;
        }
        if (a)
            a->refs++;
        dst[i] = x;
    }
    for (size_t i = 0; i < p.tasks; i++) {
        struct mock_task *t = calloc(1, sizeof(*t));
        if (!t)
            goto nomem;
        STAMP(t->h);
        struct mock_source *x = src[i % p.sources];
        struct mock_dest *d = dst[(i / p.sources) % p.destinations];
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
        tasks[i] = t;
    }
    for (size_t i = 0; i < p.runs; i++) {
        struct mock_run *r = calloc(1, sizeof(*r));
        if (!r)
            goto nomem;
        STAMP(r->h);
        struct mock_task *t = tasks[i % p.tasks];
        mock_copy_id(r->task_id, t->h.id);
        r->status = "created";
        r->type = strcmp(t->action, "replace") == 0 ? "reindex" : "update";
        r->failure_threshold = -1;
        mock_vary_run(api, r);
        if (mock_store_add(s, KIND_RUN, &r->h)) {
            mock_res_free(KIND_RUN, &r->h);
            goto nomem;
        }
        t->last_run = r->h.created;
    }
#undef STAMP
    goto cleanup;
nomem:
    rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory preloading %zu resources", total);
cleanup:
    free(auths);
    free(src);
    free(dst);
    free(tasks);
    return rc;
}
