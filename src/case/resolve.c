/* Which operation of the loaded spec a step calls: by operationId, or by
 * method and path template (`request: GET /1/tasks/{taskID}`).
 *
 * When the spec was given apart from the schemas directory (--spec), the
 * cases name operations in the directory's revision (its operations.json,
 * the one they were written against). Such an id is looked up by its
 * method and path in the loaded spec first: the spec's operation there runs,
 * under its own id when that differs (renamed). Else the loaded spec's
 * operation of the same id runs; else the step is unresolved and fails when
 * it runs. An id neither revision knows is refused while loading.
 *
 * Templates compare segment by segment with parameter names ignored: a
 * literal segment only matches the same literal, a templated one only a
 * templated one of the same shape ("1{path}" matches "1{x}"). A catch-all
 * such as /{path} therefore only resolves when written as such, and never
 * shadows a specific operation. */
#include "case/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

const cJSON *case_ops_find_id(const cJSON *ops, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ops, "operations"))
    {
        const cJSON *oid = cJSON_GetObjectItemCaseSensitive(it, "operationId");
        if (cJSON_IsString(oid) && strcmp(oid->valuestring, id) == 0)
            return it;
    }
    return NULL;
}

/* Whether templates a and b have the same shape: same literal text, a
 * parameter wherever the other has one (names ignored). */
static bool same_shape(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a == '{' && *b == '{') {
            const char *ea = strchr(a, '}'), *eb = strchr(b, '}');
            if (!ea || !eb)
                return false;
            a = ea + 1;
            b = eb + 1;
            continue;
        }
        if (*a != *b || *a == '{' || *b == '{')
            return false;
        a++;
        b++;
    }
    return *a == *b;
}

const cJSON *case_ops_find_route(const cJSON *ops, const char *method, const char *path)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ops, "operations"))
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "method");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
        if (cJSON_IsString(m) && cJSON_IsString(p) && strcasecmp(m->valuestring, method) == 0 &&
            same_shape(p->valuestring, path))
            return it;
    }
    return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 127 || lb > 127)
        return (size_t)-1;
    size_t prev[128], cur[128];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost =
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

/* The operationId of ops closest to id (at most 3 edits), or NULL. */
static const char *closest_operation(const cJSON *ops, const char *id, size_t *bestd)
{
    const char *best = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ops, "operations"))
    {
        const cJSON *oid = cJSON_GetObjectItemCaseSensitive(it, "operationId");
        if (!cJSON_IsString(oid))
            continue;
        size_t d = edit_distance(id, oid->valuestring);
        if (d < *bestd) {
            *bestd = d;
            best = oid->valuestring;
        }
    }
    return *bestd <= 3 ? best : NULL;
}

static const char *str_of(const cJSON *op, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Fills r from the case-side operation cop (of the directory's revision). */
static void resolve_case_side(const struct case_loader *l, const cJSON *cop, const char *id,
                              struct case_resolved *r)
{
    const char *method = str_of(cop, "method"), *path = str_of(cop, "path");
    r->written = cop;
    r->op = case_ops_find_route(l->operations, method, path);
    if (!r->op && (r->op = case_ops_find_id(l->operations, id)) != NULL)
        r->written = r->op; /* moved: the step follows the loaded spec's path */
    if (r->op)
        r->renamed = strcmp(str_of(r->op, "operationId"), id) != 0;
    else
        snprintf(r->missing, sizeof(r->missing),
                 "the loaded spec has no operation %s (%s %s), by id or by method and path", id,
                 method, path);
}

int case_resolve_id(struct case_ctx *c, const char *id, const char *pointer,
                    struct case_resolved *r)
{
    const struct case_loader *l = c->l;
    memset(r, 0, sizeof(*r));
    const cJSON *cop = l->case_operations ? case_ops_find_id(l->case_operations, id) : NULL;
    if (cop) {
        resolve_case_side(l, cop, id, r);
        return UTIL_OK;
    }
    r->op = r->written = case_ops_find_id(l->operations, id);
    if (r->op)
        return UTIL_OK;
    size_t d = (size_t)-1;
    const char *near = closest_operation(l->operations, id, &d);
    const char *near_case =
        l->case_operations ? closest_operation(l->case_operations, id, &d) : NULL;
    if (near_case)
        near = near_case;
    if (near)
        return case_fail_at(c, pointer, UTIL_ERR_INVALID,
                            "unknown operation '%s' (did you mean '%s'?)", id, near);
    return case_fail_at(c, pointer, UTIL_ERR_INVALID,
                        "unknown operation '%s' (not an operationId of the spec)", id);
}

int case_resolve_request(struct case_ctx *c, const char *request, const char *pointer,
                         struct case_resolved *r)
{
    const struct case_loader *l = c->l;
    char method[16];
    memset(r, 0, sizeof(*r));
    /* The schema checked the form: a method, one space, a path. */
    const char *sp = strchr(request, ' ');
    size_t n = sp ? (size_t)(sp - request) : 0;
    if (!sp || n >= sizeof(method))
        return case_fail_at(c, pointer, UTIL_ERR_INVALID,
                            "request: expected a method and a path template such as GET "
                            "/1/tasks/{taskID}");
    memcpy(method, request, n);
    method[n] = '\0';
    const char *path = sp + 1;
    r->op = r->written = case_ops_find_route(l->operations, method, path);
    if (r->op)
        return UTIL_OK;
    const cJSON *cop =
        l->case_operations ? case_ops_find_route(l->case_operations, method, path) : NULL;
    if (cop) {
        r->written = cop;
        snprintf(r->missing, sizeof(r->missing), "the loaded spec has no operation %s %s", method,
                 path);
        return UTIL_OK;
    }
    if (strchr(path, '?'))
        return case_fail_at(c, pointer, UTIL_ERR_INVALID,
                            "request: %s: the path template takes no query (use query:)", request);
    return case_fail_at(c, pointer, UTIL_ERR_INVALID,
                        "request: no operation of the spec is %s %s (write the method and the path "
                        "template as the spec does, GET /1/tasks/{taskID}; path parameters go in "
                        "path:)",
                        method, path);
}

/* Appends step st's rename to (*out, *n) unless its id is there already. */
static int add_rename(const struct case_step *st, struct case_rename **out, size_t *n,
                      size_t *alloc)
{
    if (!st->declared_id || !st->operation)
        return UTIL_OK;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*out)[i].declared_id, st->declared_id) == 0)
            return UTIL_OK;
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 8;
        struct case_rename *p = realloc(*out, na * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        *out = p;
        *alloc = na;
    }
    (*out)[(*n)++] = (struct case_rename){
        .declared_id = st->declared_id,
        .operation_id = st->operation_id,
        .method = str_of(st->operation, "method"),
        .path = str_of(st->operation, "path"),
    };
    return UTIL_OK;
}

int case_suite_renames(const struct case_suite *s, struct case_rename **out, size_t *n)
{
    size_t alloc = 0;
    int rc = UTIL_OK;
    *out = NULL;
    *n = 0;
    for (size_t f = 0; !rc && f < s->count; f++) {
        const struct case_file *file = s->files[f];
        for (size_t k = 0; !rc && k < file->ncases; k++) {
            const struct case_case *kc = &file->cases[k];
            for (size_t i = 0; !rc && i < kc->nsteps; i++)
                rc = add_rename(&kc->steps[i], out, n, &alloc);
            for (size_t i = 0; !rc && i < kc->nteardown; i++)
                rc = add_rename(&kc->teardown[i], out, n, &alloc);
        }
    }
    if (rc) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
