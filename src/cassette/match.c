/* Matching a request against the recordings: the index by method +
 * normalised path, then query (multiset, comma-aware) and body (by
 * meaning), recorded order for identical requests, and the closest
 * recording when nothing matches. */
#include "cassette/caps.h"
#include "cassette/internal.h"
#include "openapi/spec.h"
#include "util/text.h"
#include "json/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

_Static_assert(sizeof(((struct cassette_miss *)0)->detail) == CASSETTE_MISS_DETAIL_MAX,
               "cassette_miss.detail is CASSETTE_MISS_DETAIL_MAX bytes");

/* ---- URIs ---- */

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Start of the path in uri: after "scheme://authority", or uri itself. */
static const char *path_start(const char *uri)
{
    const char *p = strstr(uri, "://");
    if (!p)
        return uri;
    p += 3;
    while (*p && *p != '/' && *p != '?' && *p != '#')
        p++;
    return p;
}

int uri_normalised_path(const char *uri, struct util_buf *out)
{
    const char *p = path_start(uri);
    int rc = UTIL_OK;
    if (*p != '/')
        rc = util_buf_putc(out, '/');
    for (; rc == UTIL_OK && *p && *p != '?' && *p != '#'; p++) {
        if (*p == '%' && util_hex_digit(p[1]) >= 0 && util_hex_digit(p[2]) >= 0) {
            unsigned char c = (unsigned char)(util_hex_digit(p[1]) * 16 + util_hex_digit(p[2]));
            if (unreserved(c)) {
                rc = util_buf_putc(out, (char)c);
            } else {
                static const char hex[] = "0123456789ABCDEF";
                char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
                rc = util_buf_append(out, esc, 3);
            }
            p += 2;
        } else {
            rc = util_buf_putc(out, *p);
        }
    }
    if (rc == UTIL_OK && !out->data)
        rc = util_buf_putc(out, '/');
    return rc;
}

const char *uri_query(const char *uri, size_t *len)
{
    const char *q = strchr(uri, '?');
    *len = 0;
    if (!q)
        return NULL;
    q++;
    const char *end = strchr(q, '#');
    *len = end ? (size_t)(end - q) : strlen(q);
    return q;
}

int uri_decode(const char *s, size_t n, bool form, struct util_buf *out)
{
    int rc = UTIL_OK;
    for (size_t i = 0; rc == UTIL_OK && i < n; i++) {
        if (s[i] == '%' && i + 2 < n && util_hex_digit(s[i + 1]) >= 0 &&
            util_hex_digit(s[i + 2]) >= 0) {
            rc = util_buf_putc(out,
                               (char)(util_hex_digit(s[i + 1]) * 16 + util_hex_digit(s[i + 2])));
            i += 2;
        } else {
            rc = util_buf_putc(out, form && s[i] == '+' ? ' ' : s[i]);
        }
    }
    if (rc == UTIL_OK && !out->data)
        rc = util_buf_append(out, "", 0);
    return rc;
}

int uri_encode(const char *s, size_t n, struct util_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = UTIL_OK;
    for (size_t i = 0; rc == UTIL_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            rc = util_buf_putc(out, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = util_buf_append(out, esc, 3);
        }
    }
    return rc;
}

void query_list_finish(struct query_list *q)
{
    for (size_t i = 0; i < q->count; i++) {
        free(q->items[i].name);
        free(q->items[i].value);
    }
    free(q->items);
    memset(q, 0, sizeof(*q));
}

static char *decode_dup(const char *s, size_t n)
{
    struct util_buf b;
    util_buf_init(&b, CASSETTE_CAP_SCALAR);
    if (uri_decode(s, n, true, &b)) {
        util_buf_finish(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

int query_parse(const char *s, size_t n, struct query_list *q)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && s[eq] != '=')
                eq++;
            if (q->count == q->alloc) {
                size_t a = q->alloc ? q->alloc * 2 : 8;
                struct query_param *p = realloc(q->items, a * sizeof(*p));
                if (!p)
                    return UTIL_ERR_NOMEM;
                q->items = p;
                q->alloc = a;
            }
            char *name = decode_dup(s + i, eq - i);
            char *value = decode_dup(eq < j ? s + eq + 1 : "", eq < j ? j - eq - 1 : 0);
            if (!name || !value) {
                free(name);
                free(value);
                return UTIL_ERR_NOMEM;
            }
            q->items[q->count].name = name;
            q->items[q->count].value = value;
            q->items[q->count].pos = q->count;
            q->count++;
        }
        i = j + 1;
    }
    return UTIL_OK;
}

/* ---- the normalised query: one entry per name, values joined by ',' ---- */

struct nquery {
    struct query_param *items; /* name, joined value; sorted by name */
    size_t count;
};

static void nquery_finish(struct nquery *q)
{
    for (size_t i = 0; i < q->count; i++) {
        free(q->items[i].name);
        free(q->items[i].value);
    }
    free(q->items);
    q->items = NULL;
    q->count = 0;
}

static int param_cmp(const void *a, const void *b)
{
    const struct query_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    /* Stable for equal names: values keep their order in the query. */
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool ignored(const char *name, const struct cassette_match_options *o)
{
    for (size_t i = 0; o && i < o->ignore_query_count; i++)
        if (strcmp(o->ignore_query[i], name) == 0)
            return true;
    return false;
}

/* Joining a name's values with ',' makes a=1,2 equal to a=1&a=2. With an
 * operation known, only its array parameters are joined; the others keep
 * each value separate (joined with '\n', which a decoded query value may
 * contain only when it was percent-encoded, a negligible ambiguity). */
static bool joins_with_comma(const struct openapi_operation *op, const char *name)
{
    if (!op)
        return true;
    const struct openapi_parameter *p = openapi_operation_parameter(op, name, "query");
    return !p || p->is_array;
}

static int nquery_build(const char *uri, const struct cassette_match_options *o,
                        const struct openapi_operation *op, struct nquery *out)
{
    struct query_list q;
    memset(&q, 0, sizeof(q));
    memset(out, 0, sizeof(*out));
    size_t len;
    const char *s = uri_query(uri, &len);
    int rc = s ? query_parse(s, len, &q) : UTIL_OK;
    if (rc)
        goto cleanup;
    /* By name; values of one name keep their order (pos tiebreak). */
    if (q.count)
        qsort(q.items, q.count, sizeof(*q.items), param_cmp);
    out->items = calloc(q.count ? q.count : 1, sizeof(*out->items));
    if (!out->items) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < q.count;) {
        size_t j = i;
        while (j < q.count && strcmp(q.items[j].name, q.items[i].name) == 0)
            j++;
        if (!ignored(q.items[i].name, o)) {
            char sep = joins_with_comma(op, q.items[i].name) ? ',' : '\n';
            struct util_buf v;
            util_buf_init(&v, CASSETTE_CAP_SCALAR);
            for (size_t k = i; rc == UTIL_OK && k < j; k++) {
                if (k > i)
                    rc = util_buf_putc(&v, sep);
                if (rc == UTIL_OK)
                    rc = util_buf_puts(&v, q.items[k].value);
            }
            char *value = rc ? NULL : util_buf_steal(&v);
            util_buf_finish(&v);
            char *name = value ? strdup(q.items[i].name) : NULL;
            if (!name) {
                free(value);
                rc = UTIL_ERR_NOMEM;
                goto cleanup;
            }
            out->items[out->count].name = name;
            out->items[out->count].value = value;
            out->count++;
        }
        i = j;
    }
cleanup:
    query_list_finish(&q);
    if (rc)
        nquery_finish(out);
    return rc;
}

/* ---- bodies ---- */

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Parses a body as JSON, NULL when it is not JSON. */
static cJSON *body_json(const char *s, size_t n)
{
    if (!s || blank(s, n))
        return NULL;
    cJSON *doc = NULL;
    if (json_parse(s, n, "body", &doc, NULL) != UTIL_OK)
        return NULL;
    return doc;
}

/* Removes the node at pointer from doc (the root cannot be removed). */
static void remove_pointer(cJSON *doc, const char *pointer)
{
    const char *slash = strrchr(pointer, '/');
    if (!slash || !*pointer)
        return;
    char *parent_ptr = strndup(pointer, (size_t)(slash - pointer));
    if (!parent_ptr)
        return;
    cJSON *parent = (cJSON *)(uintptr_t)json_pointer_get(doc, parent_ptr, false);
    free(parent_ptr);
    if (!parent)
        return;
    /* Unescape the last token (~1 -> /, ~0 -> ~). */
    char tok[1024];
    size_t k = 0;
    for (const char *p = slash + 1; *p && k + 1 < sizeof(tok); p++) {
        if (p[0] == '~' && p[1] == '1') {
            tok[k++] = '/';
            p++;
        } else if (p[0] == '~' && p[1] == '0') {
            tok[k++] = '~';
            p++;
        } else {
            tok[k++] = *p;
        }
    }
    tok[k] = '\0';
    if (cJSON_IsObject(parent)) {
        cJSON_DeleteItemFromObjectCaseSensitive(parent, tok);
    } else if (cJSON_IsArray(parent)) {
        char *end = NULL;
        long idx = strtol(tok, &end, 10);
        if (end && *end == '\0' && idx >= 0)
            cJSON_DeleteItemFromArray(parent, (int)idx);
    }
}

/* First difference between a and b as a JSON Pointer into ptr; false when
 * equal. */
static bool json_first_diff(const cJSON *a, const cJSON *b, struct util_buf *ptr)
{
    if (json_equal(a, b))
        return false;
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        size_t len = ptr->len;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            json_pointer_append(ptr, x->string);
            if (!y || json_first_diff(x, y, ptr))
                return true;
            ptr->len = len;
            ptr->data[len] = '\0';
        }
        for (const cJSON *y = b->child; y; y = y->next) {
            if (!cJSON_GetObjectItemCaseSensitive(a, y->string)) {
                json_pointer_append(ptr, y->string);
                return true;
            }
        }
        return true;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b) && cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
        size_t len = ptr->len;
        size_t i = 0;
        for (const cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next, i++) {
            json_pointer_append_index(ptr, i);
            if (json_first_diff(x, y, ptr))
                return true;
            ptr->len = len;
            ptr->data[len] = '\0';
        }
    }
    return true;
}

/* ---- canonical hashes (for the fast path without ignore options) ---- */

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Consistent with json_equal: member order ignored (commutative sum),
 * numbers by value. */
static uint64_t json_hash(const cJSON *n)
{
    if (cJSON_IsObject(n)) {
        uint64_t sum = 0x0b1ec7;
        for (const cJSON *k = n->child; k; k = k->next)
            sum += mix(util_fnv1a(HASH_SEED, k->string, strlen(k->string)) ^ json_hash(k));
        return mix(sum);
    }
    if (cJSON_IsArray(n)) {
        uint64_t h = 0xa77a7;
        for (const cJSON *k = n->child; k; k = k->next)
            h = mix(h ^ json_hash(k));
        return h;
    }
    if (cJSON_IsString(n))
        return mix(util_fnv1a(HASH_SEED ^ 0x57, n->valuestring, strlen(n->valuestring)));
    if (cJSON_IsNumber(n)) {
        double d = n->valuedouble;
        if (d == 0)
            d = 0; /* -0 == 0 */
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        return mix(bits ^ 0x4e);
    }
    if (cJSON_IsBool(n))
        return cJSON_IsTrue(n) ? 0x7 : 0x8;
    return 0x9; /* null */
}

/* The hash of body s (n bytes) whose parse, body_json(s, n), is doc. */
static uint64_t body_hash_parsed(const char *s, size_t n, const cJSON *doc)
{
    if (!s || blank(s, n))
        return 0x1;
    return doc ? json_hash(doc) : mix(util_fnv1a(HASH_SEED ^ 0xb, s, n));
}

static uint64_t body_hash(const char *s, size_t n)
{
    cJSON *doc = body_json(s, n);
    uint64_t h = body_hash_parsed(s, n, doc);
    cJSON_Delete(doc);
    return h;
}

static uint64_t nquery_hash(const struct nquery *q)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < q->count; i++) {
        h = util_fnv1a(h, q->items[i].name, strlen(q->items[i].name) + 1);
        h = util_fnv1a(h, q->items[i].value, strlen(q->items[i].value) + 1);
    }
    return mix(h);
}

/* ---- the matcher ---- */

struct matcher_slot {
    uint64_t hash;  /* query + body hash, valid when hashed */
    uint32_t fnext; /* next entry with the same full hash, recorded order */
    bool hashed;
    bool used;
};

/* Two indexes: the cassette's (method + path, for candidates and the
 * closest recording) and, built on the first match without ignore options,
 * the matcher's own by full hash (method, path, normalised query, body by
 * meaning), so a path recorded 20 000 times with different bodies is not
 * scanned per request. */
struct cassette_matcher {
    struct cassette *c;
    const struct openapi *spec;
    const struct cassette_redactor *r;
    struct matcher_slot *slots;
    size_t nslots;
    size_t used;
    size_t cursor;           /* ordered mode: first index not known to be used */
    struct index_slot *full; /* open addressing by full hash; head skips used */
    size_t nfull;            /* power of two */
    size_t nfullkeys;
    size_t indexed; /* entries [0, indexed) are in full */
};

struct cassette_matcher *cassette_matcher_create(struct cassette *c, const struct openapi *spec,
                                                 const struct cassette_redactor *r)
{
    struct cassette_matcher *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->c = c;
    m->spec = spec;
    m->r = r;
    return m;
}

void cassette_matcher_destroy(struct cassette_matcher *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m->full);
    free(m);
}

static int sync_slots(struct cassette_matcher *m)
{
    size_t n = m->c->count;
    if (n <= m->nslots)
        return UTIL_OK;
    struct matcher_slot *p = realloc(m->slots, n * sizeof(*p));
    if (!p)
        return UTIL_ERR_NOMEM;
    memset(p + m->nslots, 0, (n - m->nslots) * sizeof(*p));
    for (size_t i = m->nslots; i < n; i++)
        p[i].fnext = NO_ENTRY;
    m->slots = p;
    m->nslots = n;
    return UTIL_OK;
}

void cassette_matcher_mark_used(struct cassette_matcher *m, size_t i)
{
    if (sync_slots(m) || i >= m->nslots || m->slots[i].used)
        return;
    m->slots[i].used = true;
    m->used++;
}

size_t cassette_matcher_unused_count(const struct cassette_matcher *m)
{
    return m->c->count > m->used ? m->c->count - m->used : 0;
}

/* The operation of the spec whose template matches method + path. */
static const struct openapi_operation *find_operation(const struct openapi *spec,
                                                      const char *method, const char *path)
{
    if (!spec)
        return NULL;
    for (size_t i = 0; i < openapi_operation_count(spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(spec, i);
        if (strcasecmp(op->method_upper, method) != 0)
            continue;
        const char *t = op->path, *p = path;
        bool ok = true;
        while (ok && *t && *p) {
            if (*t == '{') {
                const char *te = strchr(t, '}');
                if (!te) {
                    ok = false;
                    break;
                }
                t = te + 1;
                const char *pe = p;
                while (*pe && *pe != '/')
                    pe++;
                ok = pe > p;
                p = pe;
            } else {
                ok = *t++ == *p++;
            }
        }
        if (ok && !*t && !*p)
            return op;
    }
    return NULL;
}

/* The request as the matcher compares it. */
struct probe {
    const char *method;
    const char *uri;
    const char *body;
    size_t body_len;
    char *path; /* normalised */
    const struct openapi_operation *op;
    struct nquery query;
    cJSON *json;   /* parsed body (ignore pointers removed) or NULL */
    uint64_t hash; /* query + body */
};

static void probe_finish(struct probe *p)
{
    free(p->path);
    nquery_finish(&p->query);
    cJSON_Delete(p->json);
}

static cJSON *body_json_ignoring(const char *s, size_t n, const struct cassette_match_options *o)
{
    cJSON *doc = body_json(s, n);
    for (size_t i = 0; doc && o && i < o->ignore_body_count; i++)
        remove_pointer(doc, o->ignore_body[i]);
    return doc;
}

static bool has_ignores(const struct cassette_match_options *o)
{
    return o && (o->ignore_query_count || o->ignore_body_count);
}

/* Field where recording e differs from the probe (NONE when it matches);
 * detail (may be NULL) receives the explanation. */
static enum cassette_field compare(const struct cassette_matcher *m, const struct probe *p,
                                   size_t i, const struct cassette_match_options *o,
                                   struct util_buf *detail)
{
    const struct entry *e = &m->c->items[i];
    if (strcmp(e->pub.method, p->method) != 0) {
        if (detail)
            util_buf_printf(detail, "method: recorded %s, got %s", e->pub.method, p->method);
        return CASSETTE_FIELD_METHOD;
    }
    if (strcmp(e->keypath, p->path) != 0) {
        if (detail)
            util_buf_printf(detail, "path: recorded %s, got %s", e->keypath, p->path);
        return CASSETTE_FIELD_PATH;
    }
    struct nquery rq;
    if (nquery_build(e->pub.uri, o, p->op, &rq) != UTIL_OK)
        return CASSETTE_FIELD_QUERY;
    enum cassette_field f = CASSETTE_FIELD_NONE;
    size_t a = 0, b = 0;
    while (a < rq.count || b < p->query.count) {
        int c = a == rq.count         ? 1
                : b == p->query.count ? -1
                                      : strcmp(rq.items[a].name, p->query.items[b].name);
        if (c < 0) {
            if (detail)
                util_buf_printf(detail,
                                "query parameter \"%s\": recorded \"%.100s\", absent "
                                "from the request",
                                rq.items[a].name, rq.items[a].value);
            f = CASSETTE_FIELD_QUERY;
            break;
        }
        if (c > 0) {
            if (detail)
                util_buf_printf(detail, "query parameter \"%s\": not recorded, got \"%.100s\"",
                                p->query.items[b].name, p->query.items[b].value);
            f = CASSETTE_FIELD_QUERY;
            break;
        }
        if (strcmp(rq.items[a].value, p->query.items[b].value) != 0) {
            if (detail)
                util_buf_printf(detail,
                                "query parameter \"%s\": recorded \"%.100s\", got "
                                "\"%.100s\"",
                                rq.items[a].name, rq.items[a].value, p->query.items[b].value);
            f = CASSETTE_FIELD_QUERY;
            break;
        }
        a++;
        b++;
    }
    nquery_finish(&rq);
    if (f)
        return f;
    /* Bodies: by meaning when both are JSON, else bytes; no body == "". */
    const char *rb = e->pub.request_body;
    size_t rn = e->pub.request_body_len;
    bool r_blank = !rb || blank(rb, rn);
    bool p_blank = !p->body || blank(p->body, p->body_len);
    if (r_blank && p_blank)
        return CASSETTE_FIELD_NONE;
    cJSON *rj = r_blank ? NULL : body_json_ignoring(rb, rn, o);
    if (rj && p->json) {
        struct util_buf ptr;
        util_buf_init(&ptr, CASSETTE_CAP_SCALAR);
        util_buf_puts(&ptr, "");
        if (json_first_diff(rj, p->json, &ptr)) {
            f = CASSETTE_FIELD_BODY;
            if (detail) {
                const cJSON *x = json_pointer_get(rj, ptr.data, false);
                const cJSON *y = json_pointer_get(p->json, ptr.data, false);
                util_buf_printf(detail, "body at \"%s\": recorded ", ptr.data);
                if (x)
                    json_print_short(detail, x, 100);
                else
                    util_buf_puts(detail, "nothing");
                util_buf_puts(detail, ", got ");
                if (y)
                    json_print_short(detail, y, 100);
                else
                    util_buf_puts(detail, "nothing");
            }
        }
        util_buf_finish(&ptr);
    } else if (r_blank != p_blank || (rj == NULL) != (p->json == NULL) || rn != p->body_len ||
               memcmp(rb, p->body, rn) != 0) {
        f = CASSETTE_FIELD_BODY;
        if (detail)
            util_buf_printf(detail, "body: recorded %s%zu bytes, got %s%zu bytes",
                            r_blank ? "no body, "
                            : rj    ? "JSON, "
                                    : "",
                            r_blank ? 0 : rn,
                            p_blank   ? "no body, "
                            : p->json ? "JSON, "
                                      : "",
                            p_blank ? 0 : p->body_len);
    }
    cJSON_Delete(rj);
    return f;
}

static uint64_t entry_hash(struct cassette_matcher *m, size_t i, const struct openapi_operation *op)
{
    struct matcher_slot *s = &m->slots[i];
    if (!s->hashed) {
        const struct entry *e = &m->c->items[i];
        struct nquery q;
        uint64_t qh = 0;
        if (nquery_build(e->pub.uri, NULL, op, &q) == UTIL_OK) {
            qh = nquery_hash(&q);
            nquery_finish(&q);
        }
        s->hash = mix(qh ^ body_hash(e->pub.request_body, e->pub.request_body_len));
        s->hashed = true;
    }
    return s->hash;
}

static uint64_t full_hash(const char *method, const char *path, uint64_t qb)
{
    uint64_t h = util_fnv1a(HASH_SEED, method, strlen(method) + 1);
    h = util_fnv1a(h, path, strlen(path));
    return mix(h ^ qb);
}

static struct index_slot *full_slot(struct index_slot *t, size_t n, uint64_t h)
{
    size_t mask = n - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask)
        if (t[i].head == NO_ENTRY || t[i].hash == h)
            return &t[i];
}

/* Adds entries [indexed, count) to the full-hash index. */
static int full_sync(struct cassette_matcher *m)
{
    for (size_t i = m->indexed; i < m->c->count; i++) {
        if ((m->nfullkeys + 1) * 2 > m->nfull) {
            size_t n = m->nfull ? m->nfull * 2 : 1024;
            struct index_slot *t = malloc(n * sizeof(*t));
            if (!t)
                return UTIL_ERR_NOMEM;
            for (size_t k = 0; k < n; k++)
                t[k].head = NO_ENTRY;
            for (size_t k = 0; k < m->nfull; k++)
                if (m->full[k].head != NO_ENTRY)
                    *full_slot(t, n, m->full[k].hash) = m->full[k];
            free(m->full);
            m->full = t;
            m->nfull = n;
        }
        const struct entry *e = &m->c->items[i];
        const struct openapi_operation *op = find_operation(m->spec, e->pub.method, e->keypath);
        uint64_t h = full_hash(e->pub.method, e->keypath, entry_hash(m, i, op));
        struct index_slot *s = full_slot(m->full, m->nfull, h);
        if (s->head == NO_ENTRY) {
            s->hash = h;
            s->head = (uint32_t)i;
            s->tail = (uint32_t)i;
            m->nfullkeys++;
        } else if (m->slots[s->tail].fnext == NO_ENTRY && s->tail != i) {
            m->slots[s->tail].fnext = (uint32_t)i;
            s->tail = (uint32_t)i;
        }
        m->indexed = i + 1;
    }
    return UTIL_OK;
}

static size_t common_prefix_segments(const char *a, const char *b)
{
    size_t n = 0;
    while (*a && *a == *b) {
        if (*a == '/')
            n++;
        a++;
        b++;
    }
    return n;
}

/* Fills miss for probe p; candidates are the chain starting at head. */
static void closest(struct cassette_matcher *m, const struct probe *p, uint32_t head,
                    const struct cassette_match_options *o, struct cassette_miss *miss)
{
    struct util_buf d;
    util_buf_init(&d, CASSETTE_MISS_DETAIL_MAX);
    miss->closest = SIZE_MAX;
    miss->field = CASSETTE_FIELD_EMPTY;
    miss->detail[0] = '\0';
    if (m->c->count == 0) {
        snprintf(miss->detail, sizeof(miss->detail), "the cassette has no interactions");
        goto done;
    }
    if (head != NO_ENTRY) {
        /* Same method and path: prefer a recording differing in the body
         * only (the query matched) over one differing in the query; among
         * equals the first not yet replayed, else the first. */
        size_t best = SIZE_MAX;
        int best_score = 99;
        bool all_match = true;
        for (uint32_t i = head; i != NO_ENTRY; i = m->c->items[i].next) {
            enum cassette_field f = compare(m, p, i, o, NULL);
            int score = f == CASSETTE_FIELD_NONE ? 0 : f == CASSETTE_FIELD_BODY ? 1 : 2;
            if (f != CASSETTE_FIELD_NONE)
                all_match = false;
            score = score * 2 + (m->slots[i].used ? 1 : 0);
            if (score < best_score) {
                best_score = score;
                best = i;
            }
        }
        miss->closest = best;
        if (all_match) {
            size_t n = 0;
            for (uint32_t i = head; i != NO_ENTRY; i = m->c->items[i].next)
                n++;
            miss->field = CASSETTE_FIELD_EXHAUSTED;
            util_buf_printf(&d, "all %zu recording%s of this request %s already replayed", n,
                            n == 1 ? "" : "s", n == 1 ? "was" : "were");
        } else {
            miss->field = compare(m, p, best, o, &d);
        }
        goto done;
    }
    /* Nothing with this method and path: the same path with another
     * method, else the same method with the longest common path prefix. */
    size_t best = 0;
    long best_score = -1;
    for (size_t i = 0; i < m->c->count; i++) {
        const struct entry *e = &m->c->items[i];
        bool same_method = strcmp(e->pub.method, p->method) == 0;
        bool same_path = strcmp(e->keypath, p->path) == 0;
        long score = same_path ? 1000000
                               : (long)common_prefix_segments(e->keypath, p->path) * 2 +
                                     (same_method ? 1 : 0);
        if (score > best_score) {
            best_score = score;
            best = i;
        }
    }
    miss->closest = best;
    miss->field = compare(m, p, best, o, &d);
done:
    if (d.data)
        snprintf(miss->detail, sizeof(miss->detail), "%s", d.data);
    util_buf_finish(&d);
}

int cassette_match(struct cassette_matcher *m, const struct http_request *req,
                   const struct cassette_match_options *opts, size_t *index,
                   struct cassette_miss *miss, struct util_error *err)
{
    struct probe p;
    struct http_request red;
    struct util_buf path;
    memset(&p, 0, sizeof(p));
    http_request_init(&red);
    util_buf_init(&path, CASSETTE_CAP_SCALAR);
    int rc = UTIL_OK;
    *index = SIZE_MAX;
    if (miss) {
        miss->closest = SIZE_MAX;
        miss->field = CASSETTE_FIELD_NONE;
        miss->detail[0] = '\0';
    }
    if (!req->method || !req->url) {
        rc = util_error_set(err, UTIL_ERR_USAGE, "cassette_match: request without method or URL");
        goto cleanup;
    }
    if ((rc = sync_slots(m)))
        goto nomem;
    /* Compare in redacted form: today's credentials equal the placeholders. */
    const struct http_request *q = req;
    if (m->r) {
        if ((rc = cassette_redact_request(m->r, req, &red, err)))
            goto cleanup;
        q = &red;
    }
    if ((rc = uri_normalised_path(q->url, &path)))
        goto nomem;
    p.method = q->method;
    p.uri = q->url;
    p.body = q->body;
    p.body_len = q->body_len;
    p.path = util_buf_steal(&path);
    if (!p.path)
        goto nomem;
    p.op = find_operation(m->spec, p.method, p.path);
    if ((rc = nquery_build(p.uri, opts, p.op, &p.query)))
        goto nomem;
    p.json = body_json_ignoring(p.body, p.body_len, opts);
    uint32_t head = cassette_index_lookup(m->c, p.method, p.path);
    size_t found = SIZE_MAX;
    if (opts && opts->ordered) {
        while (m->cursor < m->c->count && m->slots[m->cursor].used)
            m->cursor++;
        /* The next recording not replayed (of ordered_case, when given). */
        size_t next = m->cursor;
        while (opts->ordered_case && next < m->c->count &&
               (m->slots[next].used || !m->c->items[next].pub.case_name ||
                strcmp(m->c->items[next].pub.case_name, opts->ordered_case) != 0))
            next++;
        if (next < m->c->count && compare(m, &p, next, opts, NULL) == 0) {
            found = next;
        } else if (miss) {
            if (next >= m->c->count) {
                closest(m, &p, head, opts, miss);
            } else {
                struct util_buf d;
                util_buf_init(&d, CASSETTE_MISS_DETAIL_MAX);
                miss->closest = next;
                miss->field = compare(m, &p, next, opts, &d);
                snprintf(miss->detail, sizeof(miss->detail), "in recorded order, %s",
                         d.data ? d.data : "");
                util_buf_finish(&d);
            }
        }
    } else {
        bool fast = !has_ignores(opts);
        if (fast) {
            if ((rc = full_sync(m)))
                goto nomem;
            /* Without ignores, p.json is the body's parse as it stands. */
            p.hash = mix(nquery_hash(&p.query) ^ body_hash_parsed(p.body, p.body_len, p.json));
            struct index_slot *s =
                m->nfull ? full_slot(m->full, m->nfull, full_hash(p.method, p.path, p.hash)) : NULL;
            if (s && s->head != NO_ENTRY) {
                /* Used recordings never come back: skip them for good. */
                while (s->head != NO_ENTRY && m->slots[s->head].used &&
                       m->slots[s->head].fnext != NO_ENTRY)
                    s->head = m->slots[s->head].fnext;
                for (uint32_t i = s->head; i != NO_ENTRY; i = m->slots[i].fnext) {
                    if (!m->slots[i].used && compare(m, &p, i, opts, NULL) == CASSETTE_FIELD_NONE) {
                        found = i;
                        break;
                    }
                }
            }
        } else {
            for (uint32_t i = head; i != NO_ENTRY; i = m->c->items[i].next) {
                if (!m->slots[i].used && compare(m, &p, i, opts, NULL) == CASSETTE_FIELD_NONE) {
                    found = i;
                    break;
                }
            }
        }
        if (found == SIZE_MAX && miss)
            closest(m, &p, head, opts, miss);
    }
    if (found == SIZE_MAX) {
        rc = UTIL_ERR_NOTFOUND;
        if (miss) {
            const struct cassette_interaction *c = cassette_at(m->c, miss->closest);
            if (c)
                util_error_set(err, rc,
                               "no recording matches %s %s; closest: interaction %zu (case %s, "
                               "step %s, line %d): %s",
                               p.method, p.path, miss->closest, c->case_name ? c->case_name : "-",
                               c->step ? c->step : "-", c->line, miss->detail);
            else
                util_error_set(err, rc, "no recording matches %s %s: %s", p.method, p.path,
                               miss->detail);
        } else {
            util_error_set(err, rc, "no recording matches %s %s", p.method, p.path);
        }
        goto cleanup;
    }
    m->slots[found].used = true;
    m->used++;
    *index = found;
    goto cleanup;
nomem:
    rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
cleanup:
    probe_finish(&p);
    http_request_finish(&red);
    util_buf_finish(&path);
    return rc;
}
