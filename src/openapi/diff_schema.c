/* The spec diff's walk of two schemas together: types, enums, object
 * properties (allOf merged), items, oneOf/anyOf branches. */
#include "openapi/diff_internal.h"

#include "openapi/internal.h"
#include "json/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- pairs already compared ---- */

static size_t memo_hash(const void *o, const void *n, int flags)
{
    uint64_t h = (uint64_t)(uintptr_t)o * 0x9E3779B97F4A7C15u;
    h ^= (uint64_t)(uintptr_t)n * 0xC2B2AE3D27D4EB4Fu;
    h ^= (uint64_t)flags;
    return (size_t)(h ^ (h >> 29));
}

void diff_memo_next(struct diff_memo *m)
{
    /* Generation 0 marks an empty slot; on wrapping, empty them all. */
    if (++m->gen == 0) {
        if (m->slots)
            memset(m->slots, 0, m->size * sizeof(*m->slots));
        m->gen = 1;
    }
    m->count = 0;
}

static int memo_grow(struct diff_memo *m)
{
    size_t size = m->size ? m->size * 2 : 256;
    struct diff_memo_entry *s = calloc(size, sizeof(*s));
    if (!s)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < m->size; i++) {
        const struct diff_memo_entry *e = &m->slots[i];
        if (e->gen != m->gen)
            continue;
        size_t j = memo_hash(e->o, e->n, e->flags) & (size - 1);
        while (s[j].gen == m->gen)
            j = (j + 1) & (size - 1);
        s[j] = *e;
    }
    free(m->slots);
    m->slots = s;
    m->size = size;
    return UTIL_OK;
}

/* Whether (o, n, flags) is in m. */
static bool memo_has(const struct diff_memo *m, const void *o, const void *n, int flags)
{
    if (!m->size || !m->gen)
        return false;
    size_t j = memo_hash(o, n, flags) & (m->size - 1);
    for (; m->slots[j].gen == m->gen; j = (j + 1) & (m->size - 1)) {
        const struct diff_memo_entry *e = &m->slots[j];
        if (e->o == o && e->n == n && e->flags == flags)
            return true;
    }
    return false;
}

/* Adds (o, n, flags); *seen tells whether it was there already. */
static int memo_add(struct diff_memo *m, const void *o, const void *n, int flags, bool *seen)
{
    *seen = false;
    if (!m->gen)
        diff_memo_next(m);
    if ((m->count + 1) * 2 > m->size) {
        int rc = memo_grow(m);
        if (rc)
            return rc;
    }
    size_t j = memo_hash(o, n, flags) & (m->size - 1);
    while (m->slots[j].gen == m->gen) {
        const struct diff_memo_entry *e = &m->slots[j];
        if (e->o == o && e->n == n && e->flags == flags) {
            *seen = true;
            return UTIL_OK;
        }
        j = (j + 1) & (m->size - 1);
    }
    m->slots[j] = (struct diff_memo_entry){o, n, m->gen, flags};
    m->count++;
    return UTIL_OK;
}

/* ---- types ---- */

enum {
    T_NULL = 1,
    T_BOOLEAN = 2,
    T_OBJECT = 4,
    T_ARRAY = 8,
    T_NUMBER = 16,
    T_STRING = 32,
    T_INTEGER = 64
};

static const char *const TYPE_NAMES[] = {"null",   "boolean", "object", "array",
                                         "number", "string",  "integer"};

static unsigned type_bit(const cJSON *t)
{
    if (!cJSON_IsString(t))
        return 0;
    for (unsigned i = 0; i < sizeof(TYPE_NAMES) / sizeof(TYPE_NAMES[0]); i++)
        if (!strcmp(t->valuestring, TYPE_NAMES[i]))
            return 1u << i;
    return 0;
}

/* The declared types of s as bits, 0 when it declares none. */
static unsigned types_of(const cJSON *s)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    unsigned bits = 0;
    if (cJSON_IsArray(t)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, t)
        {
            bits |= type_bit(it);
        }
    } else {
        bits = type_bit(t);
    }
    if (bits && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "nullable")))
        bits |= T_NULL;
    return bits;
}

/* Whether every value of types a is a value of types b. */
static bool types_within(unsigned a, unsigned b)
{
    if (b & T_NUMBER)
        a &= ~(unsigned)T_INTEGER;
    return (a & ~b) == 0;
}

static void types_text(struct util_buf *b, unsigned bits)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 7; i++)
        n += (bits >> i) & 1u;
    if (n > 1)
        util_buf_putc(b, '[');
    bool first = true;
    /* Most significant first: "string, null" reads better than the reverse. */
    static const unsigned order[] = {5, 6, 4, 1, 2, 3, 0};
    for (unsigned k = 0; k < 7; k++) {
        if (!(bits & (1u << order[k])))
            continue;
        if (!first)
            util_buf_puts(b, ", ");
        util_buf_puts(b, TYPE_NAMES[order[k]]);
        first = false;
    }
    if (n > 1)
        util_buf_putc(b, ']');
}

static bool request_like(const struct diff_ctx *cx)
{
    return cx->where != OPENAPI_CHANGE_RESPONSE;
}

static int compare_types(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os,
                         const cJSON *n, const struct diff_seg *ns, const struct diff_lab *lab)
{
    unsigned ot = types_of(o), nt = types_of(n);
    if (!ot || !nt || ot == nt)
        return UTIL_OK;
    enum openapi_change_kind kind;
    bool breaking;
    if (types_within(nt, ot)) {
        kind = OPENAPI_CHANGE_TYPE_NARROWED;
        breaking = request_like(cx);
    } else if (types_within(ot, nt)) {
        kind = OPENAPI_CHANGE_TYPE_WIDENED;
        breaking = !request_like(cx);
    } else {
        kind = OPENAPI_CHANGE_TYPE_CHANGED;
        breaking = true;
    }
    struct util_buf a, b;
    util_buf_init(&a, 256);
    util_buf_init(&b, 256);
    types_text(&a, ot);
    types_text(&b, nt);
    const char *ok = cJSON_GetObjectItemCaseSensitive(o, "type") ? "type" : NULL;
    const char *nk = cJSON_GetObjectItemCaseSensitive(n, "type") ? "type" : NULL;
    struct diff_loc ol = {os, ok, -1}, nl = {ns, nk, -1};
    int rc = a.error ? a.error : b.error;
    if (!rc)
        rc = diff_emit(cx, kind, breaking, &ol, &nl, "%s: type %s became %s",
                       diff_describe(cx, lab, NULL), a.data, b.data);
    util_buf_finish(&a);
    util_buf_finish(&b);
    return rc;
}

/* ---- enums ---- */

static bool is_scalar(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsNull(v);
}

static int scalar_rank(const cJSON *v)
{
    return cJSON_IsNull(v) ? 0 : cJSON_IsBool(v) ? 1 : cJSON_IsNumber(v) ? 2 : 3;
}

static int scalar_cmp(const void *pa, const void *pb)
{
    const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
    int ra = scalar_rank(a), rb = scalar_rank(b);
    if (ra != rb)
        return ra - rb;
    if (ra == 1)
        return cJSON_IsTrue(a) - cJSON_IsTrue(b);
    if (ra == 2)
        return (a->valuedouble > b->valuedouble) - (a->valuedouble < b->valuedouble);
    if (ra == 3)
        return strcmp(a->valuestring, b->valuestring);
    return 0;
}

/* Whether v is among the values of arr; sorted (n entries) when not NULL. */
static bool enum_has(const cJSON *arr, const cJSON *const *sorted, size_t n, const cJSON *v)
{
    if (sorted) /* every value of arr is a scalar */
        return is_scalar(v) && bsearch(&v, sorted, n, sizeof(*sorted), scalar_cmp) != NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (json_equal(it, v))
            return true;
    }
    return false;
}

/* The values of arr sorted for bsearch (NULL when one is not a scalar:
 * those are compared one by one); *n receives the count. */
static const cJSON **enum_sorted(const cJSON *arr, size_t *n, int *rc)
{
    *n = (size_t)cJSON_GetArraySize(arr);
    *rc = UTIL_OK;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!is_scalar(it))
            return NULL;
    }
    const cJSON **v = malloc((*n ? *n : 1) * sizeof(*v));
    if (!v) {
        *rc = UTIL_ERR_NOMEM;
        return NULL;
    }
    size_t i = 0;
    cJSON_ArrayForEach(it, arr)
    {
        v[i++] = it;
    }
    qsort(v, *n, sizeof(*v), scalar_cmp);
    return v;
}

/* One direction: the values of from missing in to, as kind. */
static int enum_missing(struct diff_ctx *cx, const cJSON *from, const struct diff_seg *fs,
                        const cJSON *to, bool from_is_old, enum openapi_change_kind kind,
                        bool breaking, const struct diff_lab *lab)
{
    size_t n = 0;
    int rc = UTIL_OK;
    const cJSON **sorted = enum_sorted(to, &n, &rc);
    if (rc)
        return rc;
    /* Values that are objects or arrays: compared pairwise, within reason. */
    if (!sorted && (size_t)cJSON_GetArraySize(from) * n > 1000000u) {
        free(sorted);
        return UTIL_OK;
    }
    long i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, from)
    {
        if (rc)
            break;
        if (!enum_has(to, sorted, n, v)) {
            struct util_buf t;
            util_buf_init(&t, 256);
            json_print_short(&t, v, 80);
            struct diff_loc here = {fs, "enum", i};
            rc = t.error ? t.error
                         : diff_emit(cx, kind, breaking, from_is_old ? &here : NULL,
                                     from_is_old ? NULL : &here, "%s: enum value %s %s",
                                     diff_describe(cx, lab, NULL), t.data,
                                     from_is_old ? "removed" : "added");
            util_buf_finish(&t);
        }
        i++;
    }
    free(sorted);
    return rc;
}

static int compare_enums(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os,
                         const cJSON *n, const struct diff_seg *ns, const struct diff_lab *lab)
{
    const cJSON *oe = cJSON_GetObjectItemCaseSensitive(o, "enum");
    const cJSON *ne = cJSON_GetObjectItemCaseSensitive(n, "enum");
    bool req = request_like(cx);
    if (!cJSON_IsArray(oe) && !cJSON_IsArray(ne))
        return UTIL_OK;
    if (!cJSON_IsArray(oe)) {
        struct diff_loc nl = {ns, "enum", -1};
        return diff_emit(cx, OPENAPI_CHANGE_ENUM_ADDED, req, NULL, &nl,
                         "%s: now limited to an enum", diff_describe(cx, lab, NULL));
    }
    if (!cJSON_IsArray(ne)) {
        struct diff_loc ol = {os, "enum", -1};
        return diff_emit(cx, OPENAPI_CHANGE_ENUM_REMOVED, !req, &ol, NULL,
                         "%s: no longer limited to an enum", diff_describe(cx, lab, NULL));
    }
    int rc = enum_missing(cx, oe, os, ne, true, OPENAPI_CHANGE_ENUM_VALUE_REMOVED, req, lab);
    if (!rc)
        rc = enum_missing(cx, ne, ns, oe, false, OPENAPI_CHANGE_ENUM_VALUE_ADDED, !req, lab);
    return rc;
}

/* ---- objects: the merged view of a schema and its allOf parts ---- */

struct view_part {
    struct diff_seg allof, index, root, props, req;
    const struct diff_seg *at; /* the part's own pointer */
    const cJSON *node;
};

struct view_prop {
    const char *name;
    const cJSON *schema; /* NULL: required but declared nowhere */
    size_t part;
    size_t order;
    long req_index; /* in the part's required (schema NULL only) */
    bool required;
};

struct view {
    struct view_part parts[OPENAPI_DIFF_MAX_PARTS];
    size_t nparts;
    struct view_prop *props;
    size_t nprops, alloc;
    bool closed;
};

static int view_push(struct view *v, const struct view_prop *p)
{
    if (v->nprops == v->alloc) {
        size_t n = v->alloc ? v->alloc * 2 : 16;
        struct view_prop *np = realloc(v->props, n * sizeof(*np));
        if (!np)
            return UTIL_ERR_NOMEM;
        v->props = np;
        v->alloc = n;
    }
    v->props[v->nprops] = *p;
    v->props[v->nprops].order = v->nprops;
    v->nprops++;
    return UTIL_OK;
}

static int prop_cmp(const void *pa, const void *pb)
{
    const struct view_prop *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    return (a->order > b->order) - (a->order < b->order);
}

/* Index of the property name among the first n (sorted), or SIZE_MAX. */
static size_t view_index(const struct view *v, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v->props[mid].name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static const struct view_prop *view_find(const struct view *v, const char *name)
{
    size_t i = view_index(v, v->nprops, name);
    return i == SIZE_MAX ? NULL : &v->props[i];
}

/* Adds node (already dereferenced, at seg) and its allOf parts. */
static int view_add(struct diff_ctx *cx, const struct openapi *sp, struct view *v,
                    const cJSON *node, const struct diff_seg *seg)
{
    if (!cJSON_IsObject(node) || v->nparts == OPENAPI_DIFF_MAX_PARTS)
        return UTIL_OK;
    for (size_t i = 0; i < v->nparts; i++)
        if (v->parts[i].node == node)
            return UTIL_OK;
    size_t pi = v->nparts++;
    struct view_part *p = &v->parts[pi];
    p->node = node;
    p->at = seg;
    p->props = (struct diff_seg){seg, "properties", 0, NULL, NULL};
    p->req = (struct diff_seg){seg, "required", 0, NULL, NULL};
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(node, "additionalProperties");
    const cJSON *up = cJSON_GetObjectItemCaseSensitive(node, "unevaluatedProperties");
    if (cJSON_IsFalse(ap) || cJSON_IsFalse(up))
        v->closed = true;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(node, "properties"))
    {
        if (!m->string)
            continue;
        struct view_prop vp = {m->string, m, pi, 0, -1, false};
        int rc = view_push(v, &vp);
        if (rc)
            return rc;
    }
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(node, "allOf");
    if (!cJSON_IsArray(all))
        return UTIL_OK;
    size_t i = 0;
    cJSON_ArrayForEach(m, all)
    {
        if (v->nparts == OPENAPI_DIFF_MAX_PARTS)
            break;
        /* The part's segments live in the slot it will take. */
        struct view_part *q = &v->parts[v->nparts];
        q->allof = (struct diff_seg){seg, "allOf", 0, NULL, NULL};
        q->index = (struct diff_seg){&q->allof, NULL, i++, NULL, NULL};
        const struct diff_seg *at = &q->index;
        const cJSON *part = m;
        int rc = diff_deref(cx, sp, &part, &q->root, &at);
        if (!rc)
            rc = view_add(cx, sp, v, part, at);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* The required names of every part marked on the properties (sorted by
 * name, first declaration kept); a required name declared nowhere becomes a
 * property without schema. */
static int view_finish(struct view *v)
{
    if (v->nprops) /* props is NULL until the first push */
        qsort(v->props, v->nprops, sizeof(*v->props), prop_cmp);
    size_t w = 0;
    for (size_t i = 0; i < v->nprops; i++)
        if (w == 0 || strcmp(v->props[w - 1].name, v->props[i].name) != 0)
            v->props[w++] = v->props[i];
    v->nprops = w;
    size_t declared = v->nprops;
    for (size_t pi = 0; pi < v->nparts; pi++) {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(v->parts[pi].node, "required");
        long i = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, req)
        {
            long at = i++;
            if (!cJSON_IsString(r))
                continue;
            /* Only the declared ones are sorted yet. */
            size_t k = view_index(v, declared, r->valuestring);
            if (k != SIZE_MAX) {
                v->props[k].required = true;
                continue;
            }
            bool known = false;
            for (size_t e = declared; e < v->nprops && !known; e++)
                known = !strcmp(v->props[e].name, r->valuestring);
            if (known)
                continue;
            struct view_prop vp = {r->valuestring, NULL, pi, 0, at, true};
            int rc = view_push(v, &vp);
            if (rc)
                return rc;
        }
    }
    if (v->nprops > declared)
        qsort(v->props, v->nprops, sizeof(*v->props), prop_cmp);
    return UTIL_OK;
}

static struct diff_loc prop_loc(const struct view *v, const struct view_prop *p)
{
    const struct view_part *part = &v->parts[p->part];
    if (p->schema)
        return (struct diff_loc){&part->props, p->name, -1};
    return (struct diff_loc){&part->req, NULL, p->req_index};
}

/* Whether the property's schema says readOnly (flag "readOnly") or
 * writeOnly. */
static bool prop_flag(const struct openapi *sp, const struct view_prop *p, const char *flag)
{
    if (!p->schema)
        return false;
    const cJSON *s = openapi_resolve(sp, p->schema);
    return s && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, flag));
}

static int compare_props(struct diff_ctx *cx, const struct view *ov, const struct view *nv,
                         const struct diff_lab *lab, int depth);

static void view_init(struct view *v)
{
    v->nparts = 0;
    v->props = NULL;
    v->nprops = v->alloc = 0;
    v->closed = false;
}

/* Whether s may contribute properties to a view. */
static bool has_object_keywords(const cJSON *s)
{
    return cJSON_GetObjectItemCaseSensitive(s, "properties") ||
           cJSON_GetObjectItemCaseSensitive(s, "required") ||
           cJSON_GetObjectItemCaseSensitive(s, "allOf");
}

static int compare_object(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os,
                          const cJSON *n, const struct diff_seg *ns, const struct diff_lab *lab,
                          int depth)
{
    if (!has_object_keywords(o) && !has_object_keywords(n))
        return UTIL_OK;
    /* Not calloc: a view is large and only its counts need clearing. */
    struct view *ov = malloc(sizeof(*ov));
    struct view *nv = malloc(sizeof(*nv));
    if (ov)
        view_init(ov);
    if (nv)
        view_init(nv);
    int rc = ov && nv ? UTIL_OK : UTIL_ERR_NOMEM;
    if (!rc)
        rc = view_add(cx, cx->o, ov, o, os);
    if (!rc)
        rc = view_add(cx, cx->n, nv, n, ns);
    if (!rc)
        rc = view_finish(ov);
    if (!rc)
        rc = view_finish(nv);
    if (!rc && (ov->nprops || nv->nprops))
        rc = compare_props(cx, ov, nv, lab, depth);
    if (ov)
        free(ov->props);
    if (nv)
        free(nv->props);
    free(ov);
    free(nv);
    return rc;
}

static int walk(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os, const cJSON *n,
                const struct diff_seg *ns, const struct diff_lab *lab, int depth, bool props);

static int compare_props(struct diff_ctx *cx, const struct view *ov, const struct view *nv,
                         const struct diff_lab *lab, int depth)
{
    bool req = request_like(cx);
    /* The side a client never sends (request) or never reads (response). */
    const char *hidden = req ? "readOnly" : "writeOnly";
    int rc = UTIL_OK;
    for (size_t i = 0; i < nv->nprops && !rc; i++) {
        const struct view_prop *np = &nv->props[i];
        const struct view_prop *op = view_find(ov, np->name);
        struct diff_loc nl = prop_loc(nv, np);
        bool skip = prop_flag(cx->n, np, hidden);
        if (!op) {
            rc = diff_emit(cx, OPENAPI_CHANGE_PROP_ADDED, req && np->required && !skip, NULL, &nl,
                           "%s added%s", diff_describe(cx, lab, np->name),
                           np->required ? " (required)" : "");
            continue;
        }
        struct diff_loc ol = prop_loc(ov, op);
        if (np->required && !op->required)
            rc = diff_emit(cx, OPENAPI_CHANGE_PROP_REQUIRED, req && !skip, &ol, &nl,
                           "%s became required", diff_describe(cx, lab, np->name));
        else if (!np->required && op->required)
            rc = diff_emit(cx, OPENAPI_CHANGE_PROP_OPTIONAL, !req && !skip, &ol, &nl,
                           "%s became optional", diff_describe(cx, lab, np->name));
        if (!rc && op->schema && np->schema) {
            struct diff_seg oseg = {&ov->parts[op->part].props, op->name, 0, NULL, NULL};
            struct diff_seg nseg = {&nv->parts[np->part].props, np->name, 0, NULL, NULL};
            struct diff_lab child = {lab, np->name};
            rc = walk(cx, op->schema, &oseg, np->schema, &nseg, &child, depth + 1, true);
        }
    }
    for (size_t i = 0; i < ov->nprops && !rc; i++) {
        const struct view_prop *op = &ov->props[i];
        if (view_find(nv, op->name))
            continue;
        struct diff_loc ol = prop_loc(ov, op);
        bool breaking = req ? nv->closed && !prop_flag(cx->o, op, hidden)
                            : op->required && !prop_flag(cx->o, op, hidden);
        rc = diff_emit(cx, OPENAPI_CHANGE_PROP_REMOVED, breaking, &ol, NULL, "%s removed%s",
                       diff_describe(cx, lab, op->name),
                       req && nv->closed ? " (additionalProperties: false)" : "");
    }
    return rc;
}

/* ---- unions and parts ---- */

static const char *branch_ref(const cJSON *b)
{
    const cJSON *r = cJSON_IsObject(b) ? cJSON_GetObjectItemCaseSensitive(b, "$ref") : NULL;
    return cJSON_IsString(r) ? r->valuestring : NULL;
}

/* Pairs the branches of o[key] and n[key]: by $ref where a branch is one,
 * else by position among the branches without $ref. Unpaired branches are
 * reported for oneOf/anyOf (report), paired ones compared. */
static int compare_branches(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os,
                            const cJSON *n, const struct diff_seg *ns, const char *key,
                            const struct diff_lab *lab, int depth, bool report)
{
    const cJSON *oa = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *na = cJSON_GetObjectItemCaseSensitive(n, key);
    if (!cJSON_IsArray(oa) && !cJSON_IsArray(na))
        return UTIL_OK;
    size_t on = cJSON_IsArray(oa) ? (size_t)cJSON_GetArraySize(oa) : 0;
    size_t nn = cJSON_IsArray(na) ? (size_t)cJSON_GetArraySize(na) : 0;
    const cJSON **ob = calloc(on ? on : 1, sizeof(*ob));
    bool *used = calloc(on ? on : 1, sizeof(*used));
    int rc = ob && used ? UTIL_OK : UTIL_ERR_NOMEM;
    size_t i = 0;
    const cJSON *it;
    if (!rc && on)
        cJSON_ArrayForEach(it, oa)
        {
            ob[i++] = it;
        }
    struct diff_seg oks = {os, key, 0, NULL, NULL}, nks = {ns, key, 0, NULL, NULL};
    bool req = request_like(cx);
    size_t j = 0, plain = 0;
    if (!rc && nn)
        cJSON_ArrayForEach(it, na)
        {
            if (rc)
                break;
            size_t at = j++;
            const char *ref = branch_ref(it);
            size_t match = on;
            if (ref) {
                for (size_t k = 0; k < on && match == on; k++)
                    if (!used[k] && branch_ref(ob[k]) && !strcmp(branch_ref(ob[k]), ref))
                        match = k;
            } else {
                size_t seen = 0;
                for (size_t k = 0; k < on && match == on; k++)
                    if (!branch_ref(ob[k]) && seen++ == plain)
                        match = used[k] ? on : k;
                plain++;
            }
            struct diff_loc nl = {&nks, NULL, (long)at};
            if (match == on) {
                if (report)
                    rc = diff_emit(cx, OPENAPI_CHANGE_VARIANT_ADDED, !req, NULL, &nl,
                                   "%s: %s branch %s added", diff_describe(cx, lab, NULL), key,
                                   ref ? ref : "(inline)");
                continue;
            }
            used[match] = true;
            struct diff_seg oseg = {&oks, NULL, match, NULL, NULL};
            struct diff_seg nseg = {&nks, NULL, at, NULL, NULL};
            rc = walk(cx, ob[match], &oseg, it, &nseg, lab, depth + 1, report);
        }
    for (size_t k = 0; k < on && !rc; k++) {
        if (used[k] || !report)
            continue;
        struct diff_loc ol = {&oks, NULL, (long)k};
        const char *ref = branch_ref(ob[k]);
        rc = diff_emit(cx, OPENAPI_CHANGE_VARIANT_REMOVED, req, &ol, NULL,
                       "%s: %s branch %s removed", diff_describe(cx, lab, NULL), key,
                       ref ? ref : "(inline)");
    }
    free(ob);
    free(used);
    return rc;
}

/* ---- the walk ---- */

/* The one branch of s, a union of it and {type: 'null'} only (the way the
 * spec makes a $ref or an enum nullable), or NULL; *key and *index say
 * where it is. */
static const cJSON *nullable_branch(const struct openapi *sp, const cJSON *s, const char **key,
                                    size_t *index)
{
    static const char *const keys[] = {"oneOf", "anyOf"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(s, keys[k]);
        if (!cJSON_IsArray(u) || cJSON_GetArraySize(u) != 2)
            continue;
        const cJSON *other = NULL;
        size_t i = 0, at = 0, nulls = 0;
        const cJSON *b;
        cJSON_ArrayForEach(b, u)
        {
            const cJSON *r = openapi_resolve(sp, b);
            const cJSON *t = r ? cJSON_GetObjectItemCaseSensitive(r, "type") : NULL;
            if (cJSON_IsString(t) && !strcmp(t->valuestring, "null")) {
                nulls++;
            } else {
                other = b;
                at = i;
            }
            i++;
        }
        if (nulls == 1 && other) {
            *key = keys[k];
            *index = at;
            return other;
        }
    }
    return NULL;
}

static bool has_union(const cJSON *s)
{
    return cJSON_GetObjectItemCaseSensitive(s, "oneOf") ||
           cJSON_GetObjectItemCaseSensitive(s, "anyOf");
}

static int walk_pair(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os, const cJSON *n,
                     const struct diff_seg *ns, const struct diff_lab *lab, int depth, bool props);

/* Compares o and n; props: also their (merged) properties, which an allOf
 * part leaves to the view of the schema holding it. A pair found without
 * any change, its whole walk done, is not walked again in another context
 * (the schemas shared by many operations); one met again in the same
 * context (a recursive or shared schema) is not walked again either, but
 * then the walk that met it is not known to be clean. */
static int walk(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os, const cJSON *n,
                const struct diff_seg *ns, const struct diff_lab *lab, int depth, bool props)
{
    if (depth > OPENAPI_DIFF_MAX_DEPTH) {
        cx->uncertain++;
        return UTIL_OK;
    }
    struct diff_seg oroot, nroot;
    int rc = diff_deref(cx, cx->o, &o, &oroot, &os);
    if (!rc)
        rc = diff_deref(cx, cx->n, &n, &nroot, &ns);
    if (rc || !cJSON_IsObject(o) || !cJSON_IsObject(n))
        return rc;
    if (memo_has(&cx->clean, o, n, props))
        return UTIL_OK;
    bool seen = false;
    if ((rc = memo_add(&cx->memo, o, n, props, &seen)))
        return rc;
    if (seen) {
        cx->uncertain++;
        return UTIL_OK;
    }
    size_t count = cx->out->count, uncertain = cx->uncertain;
    rc = walk_pair(cx, o, os, n, ns, lab, depth, props);
    if (!rc && cx->out->count == count && cx->uncertain == uncertain)
        rc = memo_add(&cx->clean, o, n, props, &seen);
    return rc;
}

/* walk() of a dereferenced pair seen for the first time in the context. */
static int walk_pair(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os, const cJSON *n,
                     const struct diff_seg *ns, const struct diff_lab *lab, int depth, bool props)
{
    int rc = UTIL_OK;
    /* X against a union of X and null (or back): null allowed or not, then
     * X against X. */
    const char *key = NULL;
    size_t at = 0;
    const cJSON *ob = has_union(n) ? NULL : nullable_branch(cx->o, o, &key, &at);
    const cJSON *nb = has_union(o) ? NULL : nullable_branch(cx->n, n, &key, &at);
    if (ob || nb) {
        struct diff_seg ks = {ob ? os : ns, key, 0, NULL, NULL};
        struct diff_seg bs = {&ks, NULL, at, NULL, NULL};
        struct diff_loc here = {ob ? os : ns, key, -1};
        bool req = request_like(cx);
        rc = diff_emit(cx, ob ? OPENAPI_CHANGE_TYPE_NARROWED : OPENAPI_CHANGE_TYPE_WIDENED,
                       ob ? req : !req, ob ? &here : NULL, ob ? NULL : &here, "%s: null %s",
                       diff_describe(cx, lab, NULL), ob ? "no longer allowed" : "now allowed");
        if (!rc)
            rc = ob ? walk(cx, ob, &bs, n, ns, lab, depth + 1, props)
                    : walk(cx, o, os, nb, &bs, lab, depth + 1, props);
        return rc;
    }
    if (++cx->out->visits > OPENAPI_DIFF_CAP_VISITS)
        return util_error_set(cx->err, UTIL_ERR_LIMIT,
                              "spec diff: more than %u pairs of schemas to compare",
                              OPENAPI_DIFF_CAP_VISITS);
    if ((rc = compare_types(cx, o, os, n, ns, lab)))
        return rc;
    if ((rc = compare_enums(cx, o, os, n, ns, lab)))
        return rc;
    if (props && (rc = compare_object(cx, o, os, n, ns, lab, depth)))
        return rc;
    const cJSON *oi = cJSON_GetObjectItemCaseSensitive(o, "items");
    const cJSON *ni = cJSON_GetObjectItemCaseSensitive(n, "items");
    if (cJSON_IsObject(oi) && cJSON_IsObject(ni)) {
        struct diff_seg oseg = {os, "items", 0, NULL, NULL}, nseg = {ns, "items", 0, NULL, NULL};
        struct diff_lab child = {lab, NULL};
        if ((rc = walk(cx, oi, &oseg, ni, &nseg, &child, depth + 1, true)))
            return rc;
    }
    if ((rc = compare_branches(cx, o, os, n, ns, "oneOf", lab, depth, true)))
        return rc;
    if ((rc = compare_branches(cx, o, os, n, ns, "anyOf", lab, depth, true)))
        return rc;
    return compare_branches(cx, o, os, n, ns, "allOf", lab, depth, false);
}

int diff_schema(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os, const cJSON *n,
                const struct diff_seg *ns, const struct diff_lab *lab)
{
    return walk(cx, o, os, n, ns, lab, 0, true);
}
