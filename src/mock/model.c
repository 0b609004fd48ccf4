/* Binding the operations of the loaded spec to the resource models by
 * method and path template (parameter names aside), never by operationId:
 * revisions rename operations but keep their paths. What no model row
 * takes is generated (generated.c). */
#include "mock/resource.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    const struct mock_model_row *rows;
} resources[] = {
    {"authentications", mock_authentications_rows},
    {"destinations", mock_destinations_rows},
    {"sources", mock_sources_rows},
    {"tasks", mock_tasks_rows},
    {"runs", mock_runs_rows},
};

/* The post-state schema of PATCH is the body schema of the resource's
 * create operation: the resource must stay creatable. */
static const struct {
    const char *path;
    size_t offset;
} creates[] = {
    {"/1/authentications", offsetof(struct mock_api, auth_create)},
    {"/1/sources", offsetof(struct mock_api, source_create)},
    {"/1/destinations", offsetof(struct mock_api, dest_create)},
    {"/1/tasks", offsetof(struct mock_api, task_create)},
};

/* Whether template t ("/1/tasks/{taskID}") has op's segments, any
 * parameter name matching any other. */
static bool same_template(const struct mock_op *op, const char *t)
{
    size_t s = 0;
    while (*t) {
        while (*t == '/')
            t++;
        if (!*t)
            break;
        const char *end = strchr(t, '/');
        size_t n = end ? (size_t)(end - t) : strlen(t);
        if (s >= op->nsegs)
            return false;
        const char *seg = op->segs[s++];
        bool param = t[0] == '{', op_param = seg[0] == '{';
        if (param != op_param || (!param && (strlen(seg) != n || strncmp(seg, t, n) != 0)))
            return false;
        t += n;
    }
    return s == op->nsegs;
}

/* The row's path parameter names, in order, as a NULL-ended array. */
static const char **canon_names(const char *t)
{
    size_t n = 0;
    for (const char *p = t; *p; p++)
        n += *p == '{';
    const char **out = calloc(n + 1, sizeof(*out));
    char *names = malloc(strlen(t) + 1);
    if (!out || !names) {
        free(out);
        free(names);
        return NULL;
    }
    char *w = names;
    size_t i = 0;
    for (const char *p = strchr(t, '{'); p; p = strchr(p, '{')) {
        const char *close = strchr(p, '}');
        size_t len = close ? (size_t)(close - p - 1) : strlen(p + 1);
        memcpy(w, p + 1, len);
        w[len] = '\0';
        out[i++] = w;
        w += len + 1;
        p += len + 1;
    }
    if (!i)
        free(names);
    return out;
}

static void free_canon(const char *const *canon)
{
    if (canon && canon[0])
        free((void *)(uintptr_t)canon[0]);
    free((void *)(uintptr_t)canon);
}

/* The documented answer: 200, else the first 2xx in document order. */
static void find_ok(struct mock_api *api, struct mock_op *op)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(api->ops_doc, "operations");
    const cJSON *o = cJSON_GetArrayItem(list, (int)op->index);
    const cJSON *responses = cJSON_GetObjectItemCaseSensitive(o, "responses");
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(responses, "200"), *r;
    if (!ok) {
        cJSON_ArrayForEach(r, responses)
        {
            if (r->string && r->string[0] == '2' && strlen(r->string) == 3) {
                ok = r;
                break;
            }
        }
    }
    op->ok_status = ok ? atoi(ok->string) : 200;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(ok, "schema");
    op->ok_schema = cJSON_IsObject(schema) || cJSON_IsBool(schema) ? schema : NULL;
}

int mock_model_bind(struct mock_api *api, struct util_error *err)
{
    api->nmodelled = api->ngenerated = 0;
    for (size_t i = 0; i < api->nops; i++) {
        struct mock_op *op = &api->ops[i];
        find_ok(api, op);
        const char *brace = op->nsegs == 1 ? strchr(op->segs[0], '{') : NULL;
        if (brace) {
            op->catch_all = true;
            op->prefix_len = (size_t)(brace - op->segs[0]);
        }
        const struct mock_model_row *row = NULL;
        for (size_t r = 0; !op->catch_all && !row && r < sizeof(resources) / sizeof(*resources);
             r++)
            for (const struct mock_model_row *x = resources[r].rows; x->method && !row; x++)
                if (strcmp(x->method, op->method) == 0 && same_template(op, x->path))
                    row = x;
        if (row) {
            op->kind = MOCK_OP_MODELLED;
            op->handler = row->fn;
            op->canon = canon_names(row->path);
            op->plan = mock_plan_for(api, op->ok_schema);
            if (!op->canon)
                return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            api->nmodelled++;
            for (size_t c = 0; c < sizeof(creates) / sizeof(*creates); c++)
                if (strcmp(op->method, "POST") == 0 && same_template(op, creates[c].path))
                    *(struct schema **)(void *)((char *)api + creates[c].offset) = op->body_schema;
        } else {
            op->kind = MOCK_OP_GENERATED;
            op->handler = mock_generated_handle;
            api->ngenerated++;
        }
    }
    return UTIL_OK;
}

void mock_model_unbind(struct mock_api *api)
{
    for (size_t i = 0; i < api->nops; i++) {
        free_canon(api->ops[i].canon);
        api->ops[i].canon = NULL;
        mock_gen_free(&api->ops[i]);
    }
}
