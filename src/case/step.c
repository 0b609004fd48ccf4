/* Steps: the operation or raw request, parameters, templates, polling and
 * captures. */
#include "case/internal.h"

#include "case/limits.h"
#include "case/template.h"
#include "openapi/yaml_json.h"
#include "util/buf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cJSON *case_op_param(const cJSON *op, const char *name, const char *in)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "in");
        if (cJSON_IsString(n) && cJSON_IsString(w) && strcmp(n->valuestring, name) == 0 &&
            strcmp(w->valuestring, in) == 0)
            return it;
    }
    return NULL;
}

static void param_names(const cJSON *op, const char *in, struct util_buf *b)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "in");
        if (cJSON_IsString(n) && cJSON_IsString(w) && strcmp(w->valuestring, in) == 0)
            util_buf_printf(b, "%s%s", b->len ? ", " : "", n->valuestring);
    }
}

bool case_known_has(const struct case_known *k, const char *name)
{
    for (size_t i = 0; i < k->count; i++)
        if (strcmp(k->names[i], name) == 0)
            return true;
    return false;
}

int case_known_add(struct case_known *k, const char *name)
{
    if (case_known_has(k, name))
        return UTIL_OK;
    if (k->count == k->alloc) {
        size_t n = k->alloc ? k->alloc * 2 : 16;
        char **p = realloc(k->names, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        k->names = p;
        k->alloc = n;
    }
    k->names[k->count] = strdup(name);
    if (!k->names[k->count])
        return UTIL_ERR_NOMEM;
    k->count++;
    return UTIL_OK;
}

void case_known_finish(struct case_known *k)
{
    for (size_t i = 0; i < k->count; i++)
        free(k->names[i]);
    free(k->names);
    memset(k, 0, sizeof(*k));
}

struct scan_state {
    const struct case_known *k;
    char missing[256];
};

static void on_var(const char *name, void *user)
{
    struct scan_state *s = user;
    if (!s->missing[0] && !case_known_has(s->k, name))
        snprintf(s->missing, sizeof(s->missing), "%s", name);
}

/* Checks every template in the strings of n (keys excluded). */
int case_check_templates(struct case_ctx *c, const cJSON *n, const char *pointer,
                         const struct case_known *k, const char *hint)
{
    char p[1024];
    if (cJSON_IsString(n)) {
        struct scan_state st = {.k = k};
        struct util_error e;
        util_error_clear(&e);
        if (case_template_scan(n->valuestring, on_var, &st, &e))
            return case_fail_at(c, pointer, UTIL_ERR_INVALID, "%s", e.message);
        if (st.missing[0])
            return case_fail_at(c, pointer, UTIL_ERR_INVALID, "{{%s}} is not defined here (%s)",
                                st.missing, hint);
        return UTIL_OK;
    }
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, n)
    {
        if (cJSON_IsArray(n))
            case_ptr_index(p, sizeof(p), pointer, i++);
        else
            case_ptr_join(p, sizeof(p), pointer, it->string);
        int rc = case_check_templates(c, it, p, k, hint);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

int case_build_step(struct case_ctx *c, const cJSON *node, const struct cy_step *cy,
                    const char *pointer, struct case_step *s, struct case_known *k, bool teardown)
{
    char p[1024];
    int rc = UTIL_OK;
    s->teardown = teardown;
    s->line = openapi_line_table_lookup(c->lines, pointer, &s->column);
    s->path_params = NULL;
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(node, "path");
    s->query = cJSON_GetObjectItemCaseSensitive(node, "query");
    s->headers = cJSON_GetObjectItemCaseSensitive(node, "headers");
    s->body = cJSON_GetObjectItemCaseSensitive(node, "body");
    s->body_raw =
        cy->body_raw ? cJSON_GetObjectItemCaseSensitive(node, "body_raw")->valuestring : NULL;
    s->content_type = cy->content_type
                          ? cJSON_GetObjectItemCaseSensitive(node, "content_type")->valuestring
                          : NULL;
    int forms = !!cy->operation + !!cy->request + !!cy->method;
    if (forms > 1)
        return case_fail_at(c, pointer, UTIL_ERR_INVALID,
                            "a step has one of operation:, request: or method: and path:");
    if (!forms)
        return case_fail_at(c, pointer, UTIL_ERR_INVALID,
                            "a step needs operation: (an operationId), request: (GET "
                            "/1/tasks/{taskID}) or method: and path:");
    if (s->body && s->body_raw)
        return case_fail_at(c, pointer, UTIL_ERR_INVALID, "body and body_raw exclude each other");
    if (cy->operation || cy->request) {
        struct case_resolved res;
        s->kind = CASE_STEP_OPERATION;
        case_ptr_join(p, sizeof(p), pointer, cy->operation ? "operation" : "request");
        rc = cy->operation ? case_resolve_id(c, cy->operation, p, &res)
                           : case_resolve_request(c, cy->request, p, &res);
        if (rc)
            return rc;
        /* The case's parameters are checked against the operation it was
         * written for; the request goes to the loaded spec's. */
        const cJSON *wop = res.written;
        const char *wid = cJSON_GetObjectItemCaseSensitive(wop, "operationId")->valuestring;
        s->operation = res.op;
        s->operation_id = case_strdup(
            res.op ? cJSON_GetObjectItemCaseSensitive(res.op, "operationId")->valuestring : wid);
        if (res.renamed || !res.op)
            s->declared_id = case_strdup(wid);
        if (!res.op)
            s->unresolved = case_strdup(res.missing);
        s->method = case_strdup(cJSON_GetObjectItemCaseSensitive(wop, "method")->valuestring);
        s->path_template = case_strdup(cJSON_GetObjectItemCaseSensitive(wop, "path")->valuestring);
        if (!s->operation_id || !s->method || !s->path_template ||
            ((res.renamed || !res.op) && !s->declared_id) || (!res.op && !s->unresolved))
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        case_ptr_join(p, sizeof(p), pointer, "path");
        if (path && !cJSON_IsObject(path))
            return case_fail_at(c, p, UTIL_ERR_INVALID,
                                "with %s, path: is a mapping of path parameters (%s)",
                                cy->operation ? "operation:" : "request:", s->path_template);
        s->path_params = path;
        const cJSON *it;
        cJSON_ArrayForEach(it, path)
        {
            if (!case_op_param(wop, it->string, "path")) {
                char q[1024];
                case_ptr_join(q, sizeof(q), p, it->string);
                struct util_buf names;
                util_buf_init(&names, 4096);
                param_names(wop, "path", &names);
                rc = case_fail_at(c, q, UTIL_ERR_INVALID,
                                  "'%s' is not a path parameter of %s (%s has: %s)", it->string,
                                  wid, s->path_template, names.data ? names.data : "none");
                util_buf_finish(&names);
                return rc;
            }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(wop, "parameters"))
        {
            const cJSON *in = cJSON_GetObjectItemCaseSensitive(it, "in");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
            if (cJSON_IsString(in) && strcmp(in->valuestring, "path") == 0 &&
                !cJSON_GetObjectItemCaseSensitive(path, name->valuestring))
                return case_fail_at(c, path ? p : pointer, UTIL_ERR_INVALID,
                                    "%s needs the path parameter '%s' (path: {%s: ...})", wid,
                                    name->valuestring, name->valuestring);
        }
        case_ptr_join(p, sizeof(p), pointer, "query");
        cJSON_ArrayForEach(it, s->query)
        {
            if (!case_op_param(wop, it->string, "query")) {
                char q[1024];
                case_ptr_join(q, sizeof(q), p, it->string);
                struct util_buf names;
                util_buf_init(&names, 4096);
                param_names(wop, "query", &names);
                rc = case_fail_at(
                    c, q, UTIL_ERR_INVALID,
                    "'%s' is not a query parameter of %s (documented: %s); use method: "
                    "and path: for undocumented parameters",
                    it->string, wid, names.data ? names.data : "none");
                util_buf_finish(&names);
                return rc;
            }
        }
        if ((s->body || s->body_raw) &&
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(wop, "requestBody"))) {
            case_ptr_join(p, sizeof(p), pointer, s->body ? "body" : "body_raw");
            return case_fail_at(c, p, UTIL_ERR_INVALID, "%s takes no request body", wid);
        }
        /* The loaded spec's path: the same shape, its parameter names may
         * differ; the request is built from the case's template. */
    } else {
        s->kind = CASE_STEP_RAW;
        s->method = case_strdup(cy->method);
        case_ptr_join(p, sizeof(p), pointer, "path");
        if (!cJSON_IsString(path))
            return case_fail_at(c, path ? p : pointer, UTIL_ERR_INVALID,
                                "with method:, path: is the request path (a string starting with "
                                "'/')");
        char why[128];
        if (!case_path_ok(path->valuestring, why, sizeof(why)))
            return case_fail_at(c, p, UTIL_ERR_INVALID, "path: the request path %s", why);
        s->path_template = case_strdup(path->valuestring);
        if (!s->method || !s->path_template)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
    }
    if (cy->name)
        s->name = case_strdup(cy->name);
    else if (s->declared_id)
        s->name = case_strdup(s->declared_id);
    else if (s->operation_id)
        s->name = case_strdup(s->operation_id);
    else {
        size_t n = strlen(s->method) + strlen(s->path_template) + 2;
        s->name = malloc(n);
        if (s->name)
            snprintf(s->name, n, "%s %s", s->method, s->path_template);
    }
    if (!s->name)
        return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");

    /* Templates of the request: variables from vars and earlier captures. */
    const char *hint = teardown ? "teardown sees vars: and the captures of the steps"
                                : "set it in vars: or capture it in an earlier step";
    static const char *const request_keys[] = {"path",     "query",  "headers", "body",
                                               "body_raw", "expect", "until",   NULL};
    for (size_t i = 0; request_keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, request_keys[i]);
        if (!v)
            continue;
        case_ptr_join(p, sizeof(p), pointer, request_keys[i]);
        rc = case_check_templates(c, v, p, k, hint);
        if (rc)
            return rc;
    }

    rc = case_check_step_headers(c, node, pointer);
    if (rc)
        return rc;

    case_ptr_join(p, sizeof(p), pointer, "expect");
    rc = case_build_expect(c, cJSON_GetObjectItemCaseSensitive(node, "expect"), p, &s->expect);
    if (rc)
        return rc;
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(node, "until");
    s->poll_interval_ms = CASE_DEFAULT_POLL_INTERVAL_MS;
    s->poll_timeout_ms = CASE_DEFAULT_POLL_TIMEOUT_MS;
    if (until) {
        case_ptr_join(p, sizeof(p), pointer, "until");
        s->has_until = true;
        rc = case_build_expect(c, until, p, &s->until);
        if (rc)
            return rc;
        static const char *const dkeys[] = {"interval", "timeout"};
        for (size_t i = 0; i < 2; i++) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(until, dkeys[i]);
            if (!d)
                continue;
            long ms = 0;
            char q[1024];
            case_ptr_join(q, sizeof(q), p, dkeys[i]);
            if (cJSON_IsNumber(d)) /* the schema says an integer >= 0 */
                ms = d->valuedouble >= (double)LONG_MAX ? LONG_MAX : (long)d->valuedouble;
            else if (case_parse_duration(d->valuestring, &ms) != 0)
                return case_fail_at(c, q, UTIL_ERR_INVALID, "%s: expected a duration", dkeys[i]);
            if (i == 0 && ms < CASE_MIN_POLL_INTERVAL_MS)
                return case_fail_at(c, q, UTIL_ERR_INVALID, "interval: at least %ldms",
                                    CASE_MIN_POLL_INTERVAL_MS);
            if (i == 1 && ms > CASE_CAP_POLL_TIMEOUT_MS)
                return case_fail_at(c, q, UTIL_ERR_LIMIT, "timeout: at most %ld minutes",
                                    CASE_CAP_POLL_TIMEOUT_MS / 60000);
            if (i == 0)
                s->poll_interval_ms = ms;
            else
                s->poll_timeout_ms = ms;
        }
        if (s->poll_interval_ms > s->poll_timeout_ms)
            return case_fail_at(
                c, p, UTIL_ERR_INVALID,
                "until: the interval (%ldms) is longer than the timeout (%ldms): the "
                "step would poll only once",
                s->poll_interval_ms, s->poll_timeout_ms);
    }
    if (cy->allow_count) {
        s->allow_undocumented = malloc(cy->allow_count * sizeof(int));
        if (!s->allow_undocumented)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        memcpy(s->allow_undocumented, cy->allow, cy->allow_count * sizeof(int));
        s->nallow = cy->allow_count;
    }
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(node, "capture");
    if (cap) {
        size_t n = (size_t)cJSON_GetArraySize(cap);
        case_ptr_join(p, sizeof(p), pointer, "capture");
        if (n > CASE_CAP_CAPTURES)
            return case_fail_at(c, p, UTIL_ERR_LIMIT, "more than %d captures in one step",
                                CASE_CAP_CAPTURES);
        s->captures = calloc(n ? n : 1, sizeof(*s->captures));
        if (!s->captures)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        const cJSON *it;
        cJSON_ArrayForEach(it, cap)
        {
            char q[1024];
            case_ptr_join(q, sizeof(q), p, it->string);
            if (!case_capture_valid(it->valuestring))
                return case_fail_at(c, q, UTIL_ERR_INVALID,
                                    "capture '%s': malformed path '%s' (expected /a/0, $.a[0] or "
                                    "header:NAME)",
                                    it->string, it->valuestring);
            struct case_capture *cc = &s->captures[s->ncaptures++];
            cc->name = case_strdup(it->string);
            cc->expr = case_strdup(it->valuestring);
            if (!cc->name || !cc->expr)
                return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        }
    }
    return UTIL_OK;
}
