/* Counting: one exchange at a time (coverage_observe), from a run's
 * results, results.json documents and cassettes; merging models and
 * coverage.json documents; totals. */
#include "coverage/internal.h"

#include "util/caps.h"
#include "util/text.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest query parameter name or path segment compared. */
#define TOKEN_MAX 256

struct coverage *coverage_create(const struct coverage_context *ctx)
{
    struct coverage *cov = calloc(1, sizeof(*cov));
    if (!cov)
        return NULL;
    cov->ctx = ctx;
    if (!(cov->counts = calloc(ctx->ncounters ? ctx->ncounters : 1, sizeof(*cov->counts)))) {
        free(cov);
        return NULL;
    }
    return cov;
}

void coverage_destroy(struct coverage *cov)
{
    if (!cov)
        return;
    cov_gaps_finish(&cov->gaps);
    cov_gaps_finish(&cov->unmatched);
    free(cov->counts);
    free(cov);
}

/* ---- gaps ---- */

static int gap_cmp(const struct cov_gap *g, size_t op, int status, const char *method,
                   const char *path)
{
    if (g->op != op)
        return g->op < op ? -1 : 1;
    int c = strcmp(g->method ? g->method : "", method ? method : "");
    if (c)
        return c;
    c = strcmp(g->path ? g->path : "", path ? path : "");
    if (c)
        return c;
    return g->status < status ? -1 : g->status > status;
}

static char *dup_cut(const char *s)
{
    size_t n = strlen(s);
    return strndup(s, n > COVERAGE_CAP_EXAMPLE ? COVERAGE_CAP_EXAMPLE : n);
}

static int gap_add_example(struct cov_gap *g, const char *request, const char *source)
{
    if (!request || g->nexamples >= COVERAGE_CAP_GAP_EXAMPLES)
        return UTIL_OK;
    for (size_t i = 0; i < g->nexamples; i++)
        if (strcmp(g->examples[i].request, request) == 0)
            return UTIL_OK;
    struct cov_example *e = &g->examples[g->nexamples];
    e->request = dup_cut(request);
    e->source = source ? dup_cut(source) : NULL;
    if (!e->request || (source && !e->source)) {
        free(e->request);
        free(e->source);
        return UTIL_ERR_NOMEM;
    }
    g->nexamples++;
    return UTIL_OK;
}

int cov_gap_add(struct cov_gaps *g, size_t op, int status, const char *method, const char *path,
                uint64_t count, const char *request, const char *source)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gap_cmp(&g->items[mid], op, status, method, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < g->n && gap_cmp(&g->items[lo], op, status, method, path) == 0) {
        g->items[lo].count += count;
        return gap_add_example(&g->items[lo], request, source);
    }
    if (g->n >= COVERAGE_CAP_GAPS) {
        g->dropped += count;
        return UTIL_OK;
    }
    if (g->n == g->alloc) {
        size_t na = g->alloc ? g->alloc * 2 : 16;
        struct cov_gap *ni = realloc(g->items, na * sizeof(*ni));
        if (!ni)
            return UTIL_ERR_NOMEM;
        g->items = ni;
        g->alloc = na;
    }
    struct cov_gap item = {.op = op, .status = status, .count = count};
    if ((method && !(item.method = strdup(method))) || (path && !(item.path = dup_cut(path)))) {
        free(item.method);
        return UTIL_ERR_NOMEM;
    }
    memmove(&g->items[lo + 1], &g->items[lo], (g->n - lo) * sizeof(*g->items));
    g->items[lo] = item;
    g->n++;
    return gap_add_example(&g->items[lo], request, source);
}

void cov_gaps_finish(struct cov_gaps *g)
{
    for (size_t i = 0; i < g->n; i++) {
        for (size_t k = 0; k < g->items[i].nexamples; k++) {
            free(g->items[i].examples[k].request);
            free(g->items[i].examples[k].source);
        }
        free(g->items[i].method);
        free(g->items[i].path);
    }
    free(g->items);
    memset(g, 0, sizeof(*g));
}

static int gaps_merge(struct cov_gaps *dst, const struct cov_gaps *src)
{
    int rc = UTIL_OK;
    for (size_t i = 0; i < src->n && !rc; i++) {
        const struct cov_gap *s = &src->items[i];
        for (size_t k = 0; k < (s->nexamples ? s->nexamples : 1) && !rc; k++)
            rc = cov_gap_add(dst, s->op, s->status, s->method, s->path, k ? 0 : s->count,
                             s->nexamples ? s->examples[k].request : NULL,
                             s->nexamples ? s->examples[k].source : NULL);
    }
    dst->dropped += src->dropped;
    return rc;
}

/* ---- walking observed documents ---- */

typedef void (*visit_fn)(const cJSON *node, const cJSON *parent, void *user);

/* Calls fn for every node at path under node; a "*" token of path is
 * every array item or object member. */
static void visit(const cJSON *node, const cJSON *parent, const char *path, visit_fn fn, void *user,
                  int depth)
{
    if (!node || depth > COVERAGE_CAP_DEPTH * 4)
        return;
    if (!*path) {
        fn(node, parent, user);
        return;
    }
    char tok[TOKEN_MAX];
    size_t n = 0;
    const char *p = path + 1;
    for (; *p && *p != '/'; p++) {
        char c = *p;
        if (c == '~' && (p[1] == '0' || p[1] == '1'))
            c = *++p == '0' ? '~' : '/';
        if (n + 1 >= sizeof(tok))
            return;
        tok[n++] = c;
    }
    tok[n] = '\0';
    if (strcmp(tok, "*") == 0 && (cJSON_IsArray(node) || cJSON_IsObject(node))) {
        const cJSON *c;
        cJSON_ArrayForEach(c, node) visit(c, node, p, fn, user, depth + 1);
    } else if (cJSON_IsObject(node)) {
        visit(cJSON_GetObjectItemCaseSensitive(node, tok), node, p, fn, user, depth + 1);
    }
}

static void mark_found(const cJSON *node, const cJSON *parent, void *user)
{
    (void)node;
    (void)parent;
    *(bool *)user = true;
}

struct enum_visit {
    const struct cov_enum *e;
    uint64_t *counts;
};

static void mark_enum_value(const struct cov_enum *e, uint64_t *counts, const char *text,
                            size_t len, bool is_string)
{
    for (size_t i = 0; i < e->n; i++) {
        const struct cov_value *v = &e->values[i];
        if (v->is_string == is_string && strlen(v->value) == len &&
            memcmp(v->value, text, len) == 0)
            counts[v->c]++;
    }
}

static void visit_enum(const cJSON *node, const cJSON *parent, void *user)
{
    struct enum_visit *ev = user;
    (void)parent;
    if (cJSON_IsString(node)) {
        mark_enum_value(ev->e, ev->counts, node->valuestring, strlen(node->valuestring), true);
    } else if (!cJSON_IsObject(node) && !cJSON_IsArray(node)) {
        char *text = json_print(node, false);
        if (text)
            mark_enum_value(ev->e, ev->counts, text, strlen(text), false);
        free(text);
    }
}

struct union_visit {
    const struct cov_union *u;
    uint64_t *counts;
};

/* Counts one value of a union: the selected branch, or every branch it
 * matches (ambiguous when several), or unmatched. */
static void visit_union(const cJSON *node, const cJSON *parent, void *user)
{
    struct union_visit *uv = user;
    const struct cov_union *u = uv->u;
    uint64_t *counts = uv->counts;
    bool matched[64];
    size_t n = u->n < 64 ? u->n : 64, nmatch = 0;
    counts[u->c_values]++;
    for (size_t i = 0; i < n; i++) {
        matched[i] = u->branches[i].schema && schema_is_valid(u->branches[i].schema, node);
        nmatch += matched[i];
    }
    if (u->selector && cJSON_IsObject(parent)) {
        const cJSON *sel = cJSON_GetObjectItemCaseSensitive(parent, u->selector);
        const cJSON *name = cJSON_IsString(sel)
                                ? cJSON_GetObjectItemCaseSensitive(u->mapping, sel->valuestring)
                                : NULL;
        for (size_t i = 0; cJSON_IsString(name) && i < n; i++) {
            if (matched[i] && strcmp(u->branches[i].name, name->valuestring) == 0) {
                counts[u->branches[i].c]++;
                counts[u->c_selected]++;
                return;
            }
        }
    }
    if (nmatch == 0) {
        counts[u->c_unmatched]++;
        return;
    }
    if (nmatch > 1)
        counts[u->c_ambiguous]++;
    for (size_t i = 0; i < n; i++) {
        if (!matched[i])
            continue;
        counts[u->branches[i].c]++;
        if (nmatch > 1)
            counts[u->branches[i].c_ambiguous]++;
    }
}

/* ---- requests ---- */

/* Splits a URL into its path (without query and fragment) and query. */
static void split_url(const char *url, const char **path, size_t *path_len, const char **query,
                      size_t *query_len)
{
    const char *p = strstr(url, "://");
    if (p && p < url + strcspn(url, "/?#")) {
        p = p + 3 + strcspn(p + 3, "/?#");
    } else {
        p = url;
    }
    *path = p;
    *path_len = strcspn(p, "?#");
    *query = NULL;
    *query_len = 0;
    if (p[*path_len] == '?') {
        *query = p + *path_len + 1;
        *query_len = strcspn(*query, "#");
    }
}

/* Percent-decodes (and '+' to space when plus) n bytes of s into out
 * (size bytes); returns the length, or SIZE_MAX when it does not fit. */
static size_t decode(const char *s, size_t n, bool plus, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && util_hex_digit(s[i + 1]) >= 0 &&
            util_hex_digit(s[i + 2]) >= 0) {
            c = (char)(util_hex_digit(s[i + 1]) * 16 + util_hex_digit(s[i + 2]));
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (o + 1 >= size)
            return SIZE_MAX;
        out[o++] = c;
    }
    out[o] = '\0';
    return o;
}

static const struct cov_enum *param_enum_of(const struct cov_op *o, enum cov_where where,
                                            const char *name)
{
    for (size_t i = 0; i < o->nenums; i++)
        if (o->enums[i].where == where && strcmp(o->enums[i].name, name) == 0)
            return &o->enums[i];
    return NULL;
}

/* Marks the enum values in a parameter value (comma-split for arrays). */
static void mark_param_value(const struct cov_enum *e, uint64_t *counts, const char *value,
                             size_t len)
{
    if (!e)
        return;
    if (!e->split) {
        mark_enum_value(e, counts, value, len, true);
        return;
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || value[i] == ',') {
            mark_enum_value(e, counts, value + start, i - start, true);
            start = i + 1;
        }
    }
}

static void observe_query(const struct coverage *cov, const struct cov_op *o, const char *q,
                          size_t qlen, bool *seen)
{
    char name[TOKEN_MAX];
    char *value = malloc(qlen + 1);
    if (!value)
        return;
    size_t pos = 0;
    while (pos < qlen) {
        size_t end = pos;
        while (end < qlen && q[end] != '&')
            end++;
        size_t eq = pos;
        while (eq < end && q[eq] != '=')
            eq++;
        size_t nl = decode(q + pos, eq - pos, true, name, sizeof(name));
        size_t vl = eq < end ? decode(q + eq + 1, end - eq - 1, true, value, qlen + 1) : 0;
        if (eq >= end)
            value[0] = '\0';
        for (size_t i = 0; nl != SIZE_MAX && vl != SIZE_MAX && i < o->nparams; i++) {
            if (o->params[i].where != COV_QUERY || strcmp(o->params[i].p->name, name) != 0)
                continue;
            seen[i] = true;
            mark_param_value(param_enum_of(o, COV_QUERY, name), cov->counts, value, vl);
        }
        pos = end + 1;
    }
    free(value);
}

/* Path parameters: sent whenever the operation is called; enum values are
 * taken from the segment at the template's {name}. */
static void observe_path(const struct coverage *cov, const struct cov_op *o, const char *path,
                         size_t plen, bool *seen)
{
    char buf[TOKEN_MAX];
    for (size_t i = 0; i < o->nparams; i++) {
        if (o->params[i].where != COV_PATH)
            continue;
        seen[i] = true;
        const struct cov_enum *e = param_enum_of(o, COV_PATH, o->params[i].p->name);
        if (!e)
            continue;
        /* Segment index of "{name}" in the template. */
        const char *t = o->op->path;
        size_t seg = 0, want = SIZE_MAX;
        for (const char *s = t; *s; s++) {
            if (*s == '/')
                seg++;
            else if (*s == '{' && strncmp(s + 1, e->name, strlen(e->name)) == 0 &&
                     s[1 + strlen(e->name)] == '}')
                want = seg;
        }
        size_t cur = 0, start = 0;
        for (size_t k = 0; k <= plen && want != SIZE_MAX; k++) {
            if (k < plen && path[k] != '/')
                continue;
            if (cur == want) {
                size_t n = decode(path + start, k - start, false, buf, sizeof(buf));
                if (n != SIZE_MAX)
                    mark_enum_value(e, cov->counts, buf, n, true);
                break;
            }
            cur++;
            start = k + 1;
        }
    }
}

static const struct cov_status *find_status(const struct cov_op *o, int status)
{
    char code[16], range[16];
    snprintf(code, sizeof(code), "%d", status);
    snprintf(range, sizeof(range), "%dXX", status / 100);
    for (size_t i = 0; i < o->nstatuses; i++)
        if (strcmp(o->statuses[i].r->status, code) == 0)
            return &o->statuses[i];
    for (size_t i = 0; i < o->nstatuses; i++)
        if (strcasecmp(o->statuses[i].r->status, range) == 0)
            return &o->statuses[i];
    for (size_t i = 0; i < o->nstatuses; i++)
        if (strcmp(o->statuses[i].r->status, "default") == 0)
            return &o->statuses[i];
    return NULL;
}

/* The body as a tree: given, else parsed from text (NULL when not JSON). */
static const cJSON *body_of(const cJSON *given, const char *text, size_t len, cJSON **owned)
{
    *owned = NULL;
    if (given)
        return given;
    if (!text || !len)
        return NULL;
    struct util_error ignored;
    util_error_clear(&ignored);
    if (json_parse(text, len, "body", owned, &ignored))
        *owned = NULL;
    return *owned;
}

static int observe_body(struct coverage *cov, const struct cov_op *o, const cJSON *body)
{
    for (size_t i = 0; i < o->nenums; i++) {
        if (o->enums[i].where != COV_BODY)
            continue;
        struct enum_visit ev = {&o->enums[i], cov->counts};
        visit(body, NULL, o->enums[i].name, visit_enum, &ev, 0);
    }
    for (size_t i = 0; i < o->nunions; i++) {
        struct union_visit uv = {&o->unions[i], cov->counts};
        visit(body, NULL, o->unions[i].path, visit_union, &uv, 0);
    }
    return UTIL_OK;
}

int coverage_observe(struct coverage *cov, const struct coverage_exchange *x,
                     struct util_error *err)
{
    const struct coverage_context *ctx = cov->ctx;
    const char *path, *query;
    size_t plen, qlen;
    char *path_copy = NULL, *request = NULL;
    bool *seen = NULL;
    cJSON *req_owned = NULL, *resp_owned = NULL;
    int rc = UTIL_ERR_NOMEM;
    cov->exchanges++;
    if (!x->method || !x->url)
        return UTIL_OK;
    split_url(x->url, &path, &plen, &query, &qlen);
    if (!(path_copy = strndup(path, plen)))
        goto cleanup;
    size_t rlen = strlen(x->method) + plen + 2;
    if (!(request = malloc(rlen)))
        goto cleanup;
    snprintf(request, rlen, "%s %s", x->method, path_copy);
    rc = UTIL_OK;
    if (x->status <= 0) {
        cov->no_response++;
        goto cleanup;
    }
    const struct openapi_operation *op = NULL;
    if (x->operation_id)
        op = openapi_operation_find(ctx->spec, x->operation_id);
    else {
        const char *id = check_contract_match(ctx->contract, x->method, path_copy);
        op = id ? openapi_operation_find(ctx->spec, id) : NULL;
    }
    if (!op) {
        cov->unmatched_count++;
        rc = cov_gap_add(&cov->unmatched, SIZE_MAX, x->status, x->method, path_copy, 1, request,
                         x->source);
        goto cleanup;
    }
    const struct cov_op *o = &ctx->ops[op->index];
    cov->counts[o->c]++;
    const struct cov_status *st = find_status(o, x->status);
    if (st) {
        cov->counts[st->c]++;
        const cJSON *resp =
            st->nprops ? body_of(x->response_body, x->response_text, x->response_len, &resp_owned)
                       : NULL;
        for (size_t i = 0; resp && i < st->nprops; i++) {
            bool found = false;
            visit(resp, NULL, st->props[i].path, mark_found, &found, 0);
            cov->counts[st->props[i].c] += found;
        }
    } else if ((rc = cov_gap_add(&cov->gaps, op->index, x->status, NULL, NULL, 1, request,
                                 x->source))) {
        goto cleanup;
    }
    if (!(seen = calloc(o->nparams ? o->nparams : 1, sizeof(*seen)))) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    observe_path(cov, o, path_copy, plen, seen);
    if (query)
        observe_query(cov, o, query, qlen, seen);
    for (size_t i = 0; i < o->nparams; i++)
        cov->counts[o->params[i].c] += seen[i];
    const cJSON *body = body_of(x->request_body, x->request_text, x->request_len, &req_owned);
    if (body)
        rc = observe_body(cov, o, body);
cleanup:
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
    cJSON_Delete(req_owned);
    cJSON_Delete(resp_owned);
    free(seen);
    free(request);
    free(path_copy);
    return rc;
}

/* ---- sources ---- */

int coverage_add_results(struct coverage *cov, const struct run_results *r, struct util_error *err)
{
    char source[COVERAGE_CAP_EXAMPLE];
    for (size_t i = 0; i < r->count; i++) {
        const struct run_case_result *k = &r->cases[i];
        for (size_t j = 0; j < k->nsteps; j++) {
            const struct run_step_result *s = &k->steps[j];
            if (!s->method)
                continue;
            snprintf(source, sizeof(source), "%s:%d", k->file ? k->file : "?", s->line);
            struct coverage_exchange x = {
                .method = s->method,
                .url = s->url,
                .operation_id = s->operation_id,
                .request_body = s->request_body,
                .request_text = s->request_body_raw,
                .request_len = s->request_body_raw ? strlen(s->request_body_raw) : 0,
                .status = s->status,
                .response_body = s->response_body,
                .source = source,
            };
            int rc = coverage_observe(cov, &x, err);
            if (rc)
                return rc;
        }
    }
    return UTIL_OK;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int coverage_add_results_json(struct coverage *cov, const cJSON *doc, struct util_error *err)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases"), *k;
    char source[COVERAGE_CAP_EXAMPLE];
    if (!cJSON_IsArray(cases))
        return util_error_set(err, UTIL_ERR_INVALID, "not a results.json document (no cases)");
    cJSON_ArrayForEach(k, cases)
    {
        const cJSON *steps = cJSON_GetObjectItemCaseSensitive(k, "steps"), *s;
        const char *file = str_of(k, "file");
        cJSON_ArrayForEach(s, steps)
        {
            const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "request");
            const cJSON *resp = cJSON_GetObjectItemCaseSensitive(s, "response");
            const cJSON *line = cJSON_GetObjectItemCaseSensitive(s, "line");
            const cJSON *status = cJSON_GetObjectItemCaseSensitive(resp, "status");
            const char *raw = str_of(req, "body_raw"), *text = str_of(resp, "text");
            snprintf(source, sizeof(source), "%s:%d", file ? file : "?",
                     cJSON_IsNumber(line) ? line->valueint : 0);
            struct coverage_exchange x = {
                .method = str_of(req, "method"),
                .url = str_of(req, "url"),
                .operation_id = str_of(s, "operation"),
                .request_body = cJSON_GetObjectItemCaseSensitive(req, "body"),
                .request_text = raw,
                .request_len = raw ? strlen(raw) : 0,
                .status = cJSON_IsNumber(status) ? status->valueint : 0,
                .response_body = cJSON_GetObjectItemCaseSensitive(resp, "body"),
                .response_text = text,
                .response_len = text ? strlen(text) : 0,
                .source = source,
            };
            int rc = coverage_observe(cov, &x, err);
            if (rc)
                return rc;
        }
    }
    return UTIL_OK;
}

int coverage_add_cassette(struct coverage *cov, const struct cassette *c, struct util_error *err)
{
    char source[COVERAGE_CAP_EXAMPLE];
    const char *name = cassette_source(c);
    for (size_t i = 0; i < cassette_count(c); i++) {
        const struct cassette_interaction *it = cassette_at(c, i);
        if (it->line)
            snprintf(source, sizeof(source), "%s:%d", name ? name : "cassette", it->line);
        else
            snprintf(source, sizeof(source), "%s#%zu", name ? name : "cassette", i);
        struct coverage_exchange x = {
            .method = it->method,
            .url = it->uri,
            .request_text = it->request_body,
            .request_len = it->request_body ? it->request_body_len : 0,
            .status = it->status,
            .response_text = it->response_body,
            .response_len = it->response_body_len,
            .source = source,
        };
        int rc = coverage_observe(cov, &x, err);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* ---- merging ---- */

int coverage_merge(struct coverage *dst, const struct coverage *src, struct util_error *err)
{
    if (dst->ctx != src->ctx)
        return util_error_set(err, UTIL_ERR_USAGE, "coverage models over different contexts");
    for (size_t i = 0; i < dst->ctx->ncounters; i++)
        dst->counts[i] += src->counts[i];
    dst->exchanges += src->exchanges;
    dst->no_response += src->no_response;
    dst->unmatched_count += src->unmatched_count;
    int rc = gaps_merge(&dst->gaps, &src->gaps);
    if (!rc)
        rc = gaps_merge(&dst->unmatched, &src->unmatched);
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
    return rc;
}

/* A count read from a document: 0 unless a positive number, at most 2^62
 * (so that sums of a few documents cannot wrap). */
static uint64_t count_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
        return 0;
    return v->valuedouble < 4611686018427387904.0 ? (uint64_t)v->valuedouble : (uint64_t)1 << 62;
}

static const cJSON *find_member(const cJSON *arr, const char *k1, const char *v1, const char *k2,
                                const char *v2)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        const char *a = str_of(e, k1), *b = k2 ? str_of(e, k2) : NULL;
        if (a && strcmp(a, v1) == 0 && (!k2 || (b && strcmp(b, v2) == 0)))
            return e;
    }
    return NULL;
}

static void add_enum_json(struct coverage *cov, const struct cov_enum *e, const cJSON *values)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, values)
    {
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(v, "value");
        char *text = cJSON_IsString(val) ? NULL : json_print(val, false);
        const char *cmp = cJSON_IsString(val) ? val->valuestring : text;
        for (size_t i = 0; cmp && i < e->n; i++)
            if (e->values[i].is_string == cJSON_IsString(val) &&
                strcmp(e->values[i].value, cmp) == 0)
                cov->counts[e->values[i].c] += count_of(v, "count");
        free(text);
    }
}

static void add_union_json(struct coverage *cov, const struct cov_union *u, const cJSON *j)
{
    const cJSON *branches = cJSON_GetObjectItemCaseSensitive(j, "branches");
    cov->counts[u->c_values] += count_of(j, "values");
    cov->counts[u->c_selected] += count_of(j, "selected");
    cov->counts[u->c_ambiguous] += count_of(j, "ambiguous");
    cov->counts[u->c_unmatched] += count_of(j, "unmatched");
    for (size_t i = 0; i < u->n; i++) {
        const cJSON *b = find_member(branches, "location", u->branches[i].pointer, NULL, NULL);
        cov->counts[u->branches[i].c] += count_of(b, "count");
        cov->counts[u->branches[i].c_ambiguous] += count_of(b, "ambiguous");
    }
}

static void add_op_json(struct coverage *cov, const struct cov_op *o, const cJSON *j)
{
    const cJSON *statuses = cJSON_GetObjectItemCaseSensitive(j, "statuses");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(j, "parameters");
    const cJSON *enums = cJSON_GetObjectItemCaseSensitive(j, "enums");
    const cJSON *unions = cJSON_GetObjectItemCaseSensitive(j, "unions");
    const cJSON *responses = cJSON_GetObjectItemCaseSensitive(j, "responses");
    cov->counts[o->c] += count_of(j, "calls");
    for (size_t i = 0; i < o->nstatuses; i++) {
        const struct cov_status *s = &o->statuses[i];
        cov->counts[s->c] +=
            count_of(find_member(statuses, "status", s->r->status, NULL, NULL), "count");
        const cJSON *r = find_member(responses, "status", s->r->status, NULL, NULL);
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(r, "properties");
        for (size_t k = 0; k < s->nprops; k++)
            cov->counts[s->props[k].c] +=
                count_of(find_member(props, "path", s->props[k].path, NULL, NULL), "count");
    }
    for (size_t i = 0; i < o->nparams; i++)
        cov->counts[o->params[i].c] +=
            count_of(find_member(params, "name", o->params[i].p->name, "in",
                                 cov_where_name(o->params[i].where)),
                     "count");
    for (size_t i = 0; i < o->nenums; i++) {
        const cJSON *e =
            find_member(enums, "name", o->enums[i].name, "in", cov_where_name(o->enums[i].where));
        add_enum_json(cov, &o->enums[i], cJSON_GetObjectItemCaseSensitive(e, "values"));
    }
    for (size_t i = 0; i < o->nunions; i++) {
        const cJSON *u =
            find_member(unions, "location", o->unions[i].pointer, "path", o->unions[i].path);
        if (u)
            add_union_json(cov, &o->unions[i], u);
    }
}

static int add_gaps_json(struct cov_gaps *g, const struct coverage_context *ctx, const cJSON *arr,
                         bool unmatched)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(e, "status");
        const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(e, "requests"), *r;
        const char *method = unmatched ? str_of(e, "method") : NULL;
        const char *path = unmatched ? str_of(e, "path") : NULL;
        size_t op = SIZE_MAX;
        if (!unmatched) {
            const char *id = str_of(e, "operationId");
            const struct openapi_operation *so = id ? openapi_operation_find(ctx->spec, id) : NULL;
            if (!so)
                continue;
            op = so->index;
        } else if (!method || !path) {
            continue;
        }
        int code = cJSON_IsNumber(status) ? status->valueint : 0;
        uint64_t count = count_of(e, "count");
        int rc = cov_gap_add(g, op, code, method, path, count, NULL, NULL);
        cJSON_ArrayForEach(r, reqs)
        {
            if (rc)
                break;
            rc = cov_gap_add(g, op, code, method, path, 0, str_of(r, "request"),
                             str_of(r, "source"));
        }
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

int coverage_add_json(struct coverage *cov, const cJSON *doc, struct util_error *err)
{
    const struct coverage_context *ctx = cov->ctx;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(doc, "format");
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(doc, "operations"), *o;
    const cJSON *sources = cJSON_GetObjectItemCaseSensitive(doc, "totals");
    const char *sha = str_of(spec, "sha256");
    if (!cJSON_IsNumber(format) || format->valueint != COVERAGE_FORMAT_VERSION ||
        !cJSON_IsArray(ops))
        return util_error_set(err, UTIL_ERR_INVALID, "not a coverage.json document of format %d",
                              COVERAGE_FORMAT_VERSION);
    if (!sha || strcmp(sha, openapi_sha256(ctx->spec)) != 0)
        return util_error_set(err, UTIL_ERR_INVALID,
                              "coverage.json was computed for another spec (sha256 %s)",
                              sha ? sha : "absent");
    cJSON_ArrayForEach(o, ops)
    {
        const char *id = str_of(o, "operationId");
        const struct openapi_operation *so = id ? openapi_operation_find(ctx->spec, id) : NULL;
        if (so)
            add_op_json(cov, &ctx->ops[so->index], o);
    }
    cov->exchanges += count_of(sources, "exchanges");
    cov->no_response += count_of(sources, "no_response");
    cov->unmatched_count += count_of(sources, "unmatched");
    int rc = add_gaps_json(&cov->gaps, ctx, cJSON_GetObjectItemCaseSensitive(doc, "gaps"), false);
    if (!rc)
        rc = add_gaps_json(&cov->unmatched, ctx, cJSON_GetObjectItemCaseSensitive(doc, "unmatched"),
                           true);
    if (!rc) {
        cov->gaps.dropped += count_of(doc, "dropped_gaps");
        cov->unmatched.dropped += count_of(doc, "dropped_unmatched");
    }
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
    return rc;
}

/* ---- totals ---- */

static void tally(struct coverage_count *c, uint64_t n)
{
    c->total++;
    c->covered += n > 0;
}

void cov_op_counts(const struct coverage *cov, const struct cov_op *o,
                   struct coverage_count out[COVERAGE_NDIMENSIONS])
{
    const uint64_t *k = cov->counts;
    memset(out, 0, COVERAGE_NDIMENSIONS * sizeof(*out));
    tally(&out[COVERAGE_OPERATIONS], k[o->c]);
    for (size_t i = 0; i < o->nstatuses; i++) {
        tally(&out[COVERAGE_STATUSES], k[o->statuses[i].c]);
        for (size_t p = 0; p < o->statuses[i].nprops; p++)
            tally(&out[COVERAGE_PROPERTIES], k[o->statuses[i].props[p].c]);
    }
    for (size_t i = 0; i < o->nparams; i++)
        tally(&out[COVERAGE_PARAMETERS], k[o->params[i].c]);
    for (size_t i = 0; i < o->nenums; i++)
        for (size_t v = 0; v < o->enums[i].n; v++)
            tally(&out[COVERAGE_ENUMS], k[o->enums[i].values[v].c]);
    for (size_t i = 0; i < o->nunions; i++)
        for (size_t b = 0; b < o->unions[i].n; b++)
            tally(&out[COVERAGE_BRANCHES], k[o->unions[i].branches[b].c]);
}

void coverage_totals(const struct coverage *cov, struct coverage_totals *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < cov->ctx->nops; i++) {
        const struct cov_op *o = &cov->ctx->ops[i];
        struct coverage_count c[COVERAGE_NDIMENSIONS];
        cov_op_counts(cov, o, c);
        for (size_t d = 0; d < COVERAGE_NDIMENSIONS; d++) {
            out->dim[d].covered += c[d].covered;
            out->dim[d].total += c[d].total;
        }
        for (size_t u = 0; u < o->nunions; u++)
            out->ambiguous += cov->counts[o->unions[u].c_ambiguous];
    }
    out->gaps = cov->gaps.n;
    for (size_t i = 0; i < cov->gaps.n; i++)
        out->gap_count += cov->gaps.items[i].count;
    out->gap_count += cov->gaps.dropped;
    out->exchanges = cov->exchanges;
    out->unmatched = cov->unmatched_count;
    out->no_response = cov->no_response;
}
