/* `spec diff`: operations matched by method and path, their parameters,
 * bodies and responses compared (schemas in diff_schema.c), the changes as
 * JSON. */
#include "openapi/diff_internal.h"

#include "openapi/internal.h"
#include "util/caps.h"
#include "util/hash.h"
#include "json/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void openapi_changes_init(struct openapi_changes *c)
{
    memset(c, 0, sizeof(*c));
}

void openapi_changes_finish(struct openapi_changes *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->items[i].old_loc.pointer);
        free(c->items[i].new_loc.pointer);
        free(c->items[i].message);
    }
    free(c->items);
    memset(c, 0, sizeof(*c));
}

/* ---- pointers, names, messages ---- */

static void seg_write(const struct diff_seg *s, struct util_buf *b)
{
    if (!s)
        return;
    if (s->raw) {
        util_buf_puts(b, s->raw);
    } else if (s->ref) {
        openapi_ref_pointer(s->ref, b);
    } else {
        seg_write(s->up, b);
        if (s->key)
            json_pointer_append(b, s->key);
        else
            json_pointer_append_index(b, s->index);
    }
}

/* Fills l from loc (NULL: absent) in sp. */
static int loc_fill(struct diff_ctx *cx, const struct openapi *sp, const struct diff_loc *loc,
                    struct openapi_change_loc *l)
{
    l->pointer = NULL;
    l->line = 0;
    if (!loc)
        return UTIL_OK;
    util_buf_reset(&cx->ptr);
    util_buf_puts(&cx->ptr, "");
    seg_write(loc->seg, &cx->ptr);
    if (loc->key)
        json_pointer_append(&cx->ptr, loc->key);
    if (loc->index >= 0)
        json_pointer_append_index(&cx->ptr, (size_t)loc->index);
    if (cx->ptr.error)
        return cx->ptr.error;
    if (!(l->pointer = strdup(cx->ptr.data)))
        return UTIL_ERR_NOMEM;
    l->line = openapi_line_of(sp, l->pointer);
    return UTIL_OK;
}

static const char *const WHERE_NAMES[] = {"operation", "parameter", "request", "response"};

/* The id of a change: "<where>-<what>" (doc/spec-diff.md lists them). */
static void change_id(struct openapi_change *c)
{
    static const char *const things[] = {"operation", "parameter", "request-body",
                                         "response-status"};
    const char *what = NULL;
    switch (c->kind) {
    case OPENAPI_CHANGE_ADDED:
        what = "added";
        break;
    case OPENAPI_CHANGE_REMOVED:
        what = "removed";
        break;
    case OPENAPI_CHANGE_ID_CHANGED:
        snprintf(c->id, sizeof(c->id), "operation-id-changed");
        return;
    case OPENAPI_CHANGE_BECAME_REQUIRED:
        what = "became-required";
        break;
    case OPENAPI_CHANGE_BECAME_OPTIONAL:
        what = "became-optional";
        break;
    default:
        break;
    }
    if (what) {
        snprintf(c->id, sizeof(c->id), "%s-%s", things[c->where], what);
        return;
    }
    static const char *const schema_kinds[] = {
        [OPENAPI_CHANGE_MEDIA_ADDED] = "media-type-added",
        [OPENAPI_CHANGE_MEDIA_REMOVED] = "media-type-removed",
        [OPENAPI_CHANGE_PROP_ADDED] = "property-added",
        [OPENAPI_CHANGE_PROP_REMOVED] = "property-removed",
        [OPENAPI_CHANGE_PROP_REQUIRED] = "property-became-required",
        [OPENAPI_CHANGE_PROP_OPTIONAL] = "property-became-optional",
        [OPENAPI_CHANGE_ENUM_VALUE_ADDED] = "enum-value-added",
        [OPENAPI_CHANGE_ENUM_VALUE_REMOVED] = "enum-value-removed",
        [OPENAPI_CHANGE_ENUM_ADDED] = "became-enum",
        [OPENAPI_CHANGE_ENUM_REMOVED] = "enum-removed",
        [OPENAPI_CHANGE_TYPE_NARROWED] = "type-narrowed",
        [OPENAPI_CHANGE_TYPE_WIDENED] = "type-widened",
        [OPENAPI_CHANGE_TYPE_CHANGED] = "type-changed",
        [OPENAPI_CHANGE_VARIANT_ADDED] = "variant-added",
        [OPENAPI_CHANGE_VARIANT_REMOVED] = "variant-removed",
    };
    snprintf(c->id, sizeof(c->id), "%s-%s", WHERE_NAMES[c->where], schema_kinds[c->kind]);
}

int diff_emit(struct diff_ctx *cx, enum openapi_change_kind kind, bool breaking,
              const struct diff_loc *ol, const struct diff_loc *nl, const char *fmt, ...)
{
    struct openapi_changes *out = cx->out;
    if (out->count == OPENAPI_DIFF_CAP_CHANGES)
        return util_error_set(cx->err, UTIL_ERR_LIMIT, "spec diff: more than %u changes",
                              OPENAPI_DIFF_CAP_CHANGES);
    if (out->count == out->alloc) {
        size_t n = out->alloc ? out->alloc * 2 : 64;
        struct openapi_change *p = realloc(out->items, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        out->items = p;
        out->alloc = n;
    }
    struct openapi_change *c = &out->items[out->count];
    memset(c, 0, sizeof(*c));
    c->where = cx->where;
    c->kind = kind;
    c->breaking = breaking;
    c->old_operation_id = cx->oop ? cx->oop->operation_id : NULL;
    c->new_operation_id = cx->nop ? cx->nop->operation_id : NULL;
    const struct openapi_operation *op = cx->nop ? cx->nop : cx->oop;
    c->method = op->method_upper;
    c->path = op->path;
    change_id(c);
    util_buf_reset(&cx->msg);
    va_list ap;
    va_start(ap, fmt);
    util_buf_vprintf(&cx->msg, fmt, ap);
    va_end(ap);
    /* The description in the message, when there is one, must be whole. */
    int rc = cx->msg.error ? cx->msg.error : cx->lab.error;
    util_buf_reset(&cx->lab);
    if (!rc && !(c->message = strdup(cx->msg.data ? cx->msg.data : "")))
        rc = UTIL_ERR_NOMEM;
    if (!rc)
        rc = loc_fill(cx, cx->o, ol, &c->old_loc);
    if (!rc)
        rc = loc_fill(cx, cx->n, nl, &c->new_loc);
    /* The entry is counted even when half filled, so that finish frees it. */
    out->count++;
    out->breaking += breaking;
    return rc;
}

static void lab_write(const struct diff_lab *l, struct util_buf *b, size_t start)
{
    if (!l)
        return;
    lab_write(l->up, b, start);
    if (!l->name) {
        util_buf_puts(b, "[]");
        return;
    }
    if (b->len > start)
        util_buf_putc(b, '.');
    util_buf_puts(b, l->name);
}

const char *diff_describe(struct diff_ctx *cx, const struct diff_lab *lab, const char *name)
{
    struct util_buf *b = &cx->lab;
    util_buf_reset(b);
    util_buf_puts(b, cx->where_text);
    /* "request body property a.b", "response 200 body[].id" */
    struct diff_lab last = {lab, name};
    const struct diff_lab *l = name ? &last : lab;
    const struct diff_lab *first = l;
    while (first && first->up)
        first = first->up;
    if (first && first->name)
        util_buf_puts(b, " property ");
    lab_write(l, b, b->len);
    /* A failed append shows in b->error, which diff_emit checks. */
    return b->data ? b->data : "";
}

/* ---- references ---- */

static int ref_refused(struct diff_ctx *cx, const struct openapi *sp, const cJSON *node,
                       const struct diff_seg *seg)
{
    char why[UTIL_ERROR_MESSAGE_MAX / 2];
    openapi_ref_problem(openapi_document(sp), node, why, sizeof(why));
    util_buf_reset(&cx->ptr);
    util_buf_puts(&cx->ptr, "");
    seg_write(seg, &cx->ptr);
    json_pointer_append(&cx->ptr, "$ref");
    const char *p = cx->ptr.data ? cx->ptr.data : "";
    int line = openapi_line_of(sp, p);
    util_error_set(cx->err, UTIL_ERR_INVALID, "%s:%d: %s (at %s)", openapi_source_name(sp), line,
                   why, p);
    util_error_at(cx->err, openapi_source_name(sp), line, 0);
    return UTIL_ERR_INVALID;
}

static size_t str_hash(const char *s)
{
    return (size_t)util_fnv1a(UTIL_FNV1A_OFFSET, s, strlen(s));
}

/* The target of ref ("#/...") in sp, one hop, through the cache; NULL
 * when it does not resolve (or out of memory: then *rc is set). */
static const cJSON *ref_lookup(struct diff_ctx *cx, const struct openapi *sp, const char *ref,
                               int *rc)
{
    struct diff_refs *t = sp == cx->o ? &cx->oref : &cx->nref;
    if ((t->count + 1) * 2 > t->size) {
        size_t size = t->size ? t->size * 2 : 256;
        struct diff_ref_entry *s = calloc(size, sizeof(*s));
        if (!s) {
            *rc = UTIL_ERR_NOMEM;
            return NULL;
        }
        for (size_t i = 0; i < t->size; i++) {
            if (!t->slots[i].ref)
                continue;
            size_t j = str_hash(t->slots[i].ref) & (size - 1);
            while (s[j].ref)
                j = (j + 1) & (size - 1);
            s[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = s;
        t->size = size;
    }
    size_t j = str_hash(ref) & (t->size - 1);
    while (t->slots[j].ref) {
        if (!strcmp(t->slots[j].ref, ref))
            return t->slots[j].target;
        j = (j + 1) & (t->size - 1);
    }
    const cJSON *target =
        ref[0] == '#' ? json_pointer_get(openapi_document(sp), ref + 1, true) : NULL;
    t->slots[j] = (struct diff_ref_entry){ref, target};
    t->count++;
    return target;
}

int diff_deref(struct diff_ctx *cx, const struct openapi *sp, const cJSON **node,
               struct diff_seg *root, const struct diff_seg **seg)
{
    const cJSON *start = *node;
    const struct diff_seg *start_seg = *seg;
    for (int hops = 0;; hops++) {
        const cJSON *r =
            cJSON_IsObject(*node) ? cJSON_GetObjectItemCaseSensitive(*node, "$ref") : NULL;
        if (!cJSON_IsString(r))
            return UTIL_OK;
        int rc = UTIL_OK;
        const cJSON *next = hops <= 32 ? ref_lookup(cx, sp, r->valuestring, &rc) : NULL;
        if (rc)
            return rc;
        if (!next)
            return ref_refused(cx, sp, start, start_seg);
        *root = (struct diff_seg){NULL, NULL, 0, NULL, r->valuestring};
        *seg = root;
        *node = next;
    }
}

/* Members whose values are data, not OpenAPI: a "$ref" in them is none. */
static bool data_member(const char *name)
{
    return name && (!strcmp(name, "example") || !strcmp(name, "default") || !strcmp(name, "enum") ||
                    !strcmp(name, "const") || !strncmp(name, "x-", 2));
}

/* Refuses the first "$ref" under node that is not a local pointer, does not
 * resolve, or only leads to other references in a cycle. */
static int check_refs(struct diff_ctx *cx, const struct openapi *sp, const cJSON *node,
                      const struct diff_seg *seg)
{
    if (cJSON_IsObject(node) && cJSON_GetObjectItemCaseSensitive(node, "$ref")) {
        struct diff_seg root;
        const struct diff_seg *at = seg;
        const cJSON *target = node;
        int rc = diff_deref(cx, sp, &target, &root, &at);
        if (rc)
            return rc;
    }
    size_t i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, node)
    {
        if (!cJSON_IsObject(m) && !cJSON_IsArray(m)) {
            i++;
            continue;
        }
        if (cJSON_IsObject(node) && data_member(m->string))
            continue;
        struct diff_seg s = {seg, cJSON_IsObject(node) ? m->string : NULL, i++, NULL, NULL};
        int rc = check_refs(cx, sp, m, &s);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* ---- operations ---- */

/* "GET /1/tasks/{}": the method and the template without parameter names. */
static char *op_key(const struct openapi_operation *op)
{
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    util_buf_puts(&b, op->method_upper);
    util_buf_putc(&b, ' ');
    for (const char *p = op->path; *p; p++) {
        util_buf_putc(&b, *p);
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close)
                p = close - 1;
        }
    }
    if (b.error) {
        util_buf_finish(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

struct keyed {
    char *key;
    size_t index;
};

static int keyed_cmp(const void *pa, const void *pb)
{
    const struct keyed *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* Position of the path parameter name among the template's, or -1. */
static long template_position(const char *path, const char *name)
{
    long k = 0;
    size_t len = strlen(name);
    for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{'), k++) {
        const char *close = strchr(p, '}');
        if (!close)
            return -1;
        if ((size_t)(close - p - 1) == len && !strncmp(p + 1, name, len))
            return k;
    }
    return -1;
}

static const struct openapi_parameter *find_param(const struct openapi_operation *in,
                                                  const struct openapi_operation *from,
                                                  const struct openapi_parameter *p)
{
    long k = p->where == OPENAPI_IN_PATH ? template_position(from->path, p->name) : -1;
    /* Not a path parameter, or one the template does not name: by name. */
    if (k < 0)
        return openapi_operation_parameter(in, p->name, p->in);
    for (size_t i = 0; i < in->nparams; i++)
        if (in->params[i].where == OPENAPI_IN_PATH &&
            template_position(in->path, in->params[i].name) == k)
            return &in->params[i];
    return NULL;
}

/* Makes "<in> parameter <name>" the context of the changes that follow. */
static int param_context(struct diff_ctx *cx, struct util_buf *where,
                         const struct openapi_parameter *p)
{
    util_buf_reset(where);
    util_buf_printf(where, "%s parameter %s", p->in, p->name);
    cx->where_text = where->data ? where->data : "";
    return where->error;
}

static int compare_params(struct diff_ctx *cx)
{
    const struct openapi_operation *oop = cx->oop, *nop = cx->nop;
    struct util_buf where;
    util_buf_init(&where, UTIL_CAP_MESSAGE);
    cx->where = OPENAPI_CHANGE_PARAMETER;
    int rc = UTIL_OK;
    for (size_t i = 0; i < nop->nparams && !rc; i++) {
        const struct openapi_parameter *np = &nop->params[i];
        const struct openapi_parameter *op = find_param(oop, nop, np);
        if ((rc = param_context(cx, &where, np)))
            break;
        struct diff_seg ns = {NULL, NULL, 0, np->pointer, NULL};
        struct diff_loc nl = {&ns, NULL, -1};
        if (!op) {
            rc = diff_emit(cx, OPENAPI_CHANGE_ADDED, np->required, NULL, &nl, "%s added (%s)",
                           where.data, np->required ? "required" : "optional");
            continue;
        }
        struct diff_seg os = {NULL, NULL, 0, op->pointer, NULL};
        struct diff_loc ol = {&os, NULL, -1};
        if (np->required && !op->required)
            rc = diff_emit(cx, OPENAPI_CHANGE_BECAME_REQUIRED, true, &ol, &nl, "%s became required",
                           where.data);
        else if (!np->required && op->required)
            rc = diff_emit(cx, OPENAPI_CHANGE_BECAME_OPTIONAL, false, &ol, &nl,
                           "%s became optional", where.data);
        if (!rc && op->schema && np->schema) {
            struct diff_seg oss = {&os, "schema", 0, NULL, NULL};
            struct diff_seg nss = {&ns, "schema", 0, NULL, NULL};
            diff_memo_next(&cx->memo);
            rc = diff_schema(cx, op->schema, &oss, np->schema, &nss, NULL);
        }
    }
    for (size_t i = 0; i < oop->nparams && !rc; i++) {
        const struct openapi_parameter *op = &oop->params[i];
        if (find_param(nop, oop, op))
            continue;
        if ((rc = param_context(cx, &where, op)))
            break;
        struct diff_seg os = {NULL, NULL, 0, op->pointer, NULL};
        struct diff_loc ol = {&os, NULL, -1};
        rc = diff_emit(cx, OPENAPI_CHANGE_REMOVED, true, &ol, NULL, "%s removed", where.data);
    }
    util_buf_finish(&where);
    return rc;
}

/* The content map of the body or response object at pointer. */
static const cJSON *content_at(const struct openapi *sp, const char *pointer)
{
    const cJSON *obj = openapi_resolve(sp, json_pointer_get(openapi_document(sp), pointer, false));
    const cJSON *c = obj ? cJSON_GetObjectItemCaseSensitive(obj, "content") : NULL;
    return cJSON_IsObject(c) ? c : NULL;
}

/* Compares the media types of two content maps (either may be NULL) and
 * the schemas of those in both. what: "request body", "response 200". */
static int compare_content(struct diff_ctx *cx, const char *opointer, const char *npointer,
                           const char *what)
{
    const cJSON *oc = content_at(cx->o, opointer), *nc = content_at(cx->n, npointer);
    struct diff_seg ob = {NULL, NULL, 0, opointer, NULL}, nb = {NULL, NULL, 0, npointer, NULL};
    struct diff_seg ocs = {&ob, "content", 0, NULL, NULL}, ncs = {&nb, "content", 0, NULL, NULL};
    int rc = UTIL_OK;
    const cJSON *m;
    cJSON_ArrayForEach(m, oc)
    {
        if (rc)
            break;
        const cJSON *other = cJSON_GetObjectItemCaseSensitive(nc, m->string);
        struct diff_loc ol = {&ocs, m->string, -1};
        if (!other) {
            rc = diff_emit(cx, OPENAPI_CHANGE_MEDIA_REMOVED, true, &ol, NULL,
                           "%s: content type %s removed", what, m->string);
            continue;
        }
        const cJSON *os = cJSON_GetObjectItemCaseSensitive(m, "schema");
        const cJSON *ns = cJSON_GetObjectItemCaseSensitive(other, "schema");
        if (!os || !ns)
            continue;
        struct diff_seg om = {&ocs, m->string, 0, NULL, NULL};
        struct diff_seg nm = {&ncs, other->string, 0, NULL, NULL};
        struct diff_seg oss = {&om, "schema", 0, NULL, NULL};
        struct diff_seg nss = {&nm, "schema", 0, NULL, NULL};
        diff_memo_next(&cx->memo);
        rc = diff_schema(cx, os, &oss, ns, &nss, NULL);
    }
    cJSON_ArrayForEach(m, nc)
    {
        if (rc)
            break;
        if (cJSON_GetObjectItemCaseSensitive(oc, m->string))
            continue;
        struct diff_loc nl = {&ncs, m->string, -1};
        rc = diff_emit(cx, OPENAPI_CHANGE_MEDIA_ADDED, false, NULL, &nl,
                       "%s: content type %s added", what, m->string);
    }
    return rc;
}

static int compare_body(struct diff_ctx *cx)
{
    const struct openapi_request_body *ob = cx->oop->body, *nb = cx->nop->body;
    cx->where = OPENAPI_CHANGE_REQUEST;
    cx->where_text = "request body";
    if (!ob && !nb)
        return UTIL_OK;
    struct diff_seg os = {NULL, NULL, 0, ob ? ob->pointer : NULL, NULL};
    struct diff_seg ns = {NULL, NULL, 0, nb ? nb->pointer : NULL, NULL};
    struct diff_loc ol = {&os, NULL, -1}, nl = {&ns, NULL, -1};
    if (!ob)
        return diff_emit(cx, OPENAPI_CHANGE_ADDED, nb->required, NULL, &nl,
                         "request body added (%s)", nb->required ? "required" : "optional");
    if (!nb)
        return diff_emit(cx, OPENAPI_CHANGE_REMOVED, true, &ol, NULL, "request body removed");
    int rc = UTIL_OK;
    if (nb->required && !ob->required)
        rc = diff_emit(cx, OPENAPI_CHANGE_BECAME_REQUIRED, true, &ol, &nl,
                       "request body became required");
    else if (!nb->required && ob->required)
        rc = diff_emit(cx, OPENAPI_CHANGE_BECAME_OPTIONAL, false, &ol, &nl,
                       "request body became optional");
    if (!rc)
        rc = compare_content(cx, ob->pointer, nb->pointer, "request body");
    return rc;
}

static bool success_status(const char *status)
{
    return status[0] == '2';
}

static int compare_responses(struct diff_ctx *cx)
{
    const struct openapi_operation *oop = cx->oop, *nop = cx->nop;
    cx->where = OPENAPI_CHANGE_RESPONSE;
    struct util_buf where;
    util_buf_init(&where, UTIL_CAP_MESSAGE);
    int rc = UTIL_OK;
    for (size_t i = 0; i < oop->nresponses && !rc; i++) {
        const struct openapi_response * or = &oop->responses[i];
        const struct openapi_response *nr = openapi_operation_response(nop, or->status);
        util_buf_reset(&where);
        util_buf_printf(&where, "response %s", or->status);
        if ((rc = where.error))
            break;
        cx->where_text = where.data;
        struct diff_seg os = {NULL, NULL, 0, or->pointer, NULL};
        struct diff_loc ol = {&os, NULL, -1};
        if (!nr) {
            rc = diff_emit(cx, OPENAPI_CHANGE_REMOVED, success_status(or->status), &ol, NULL,
                           "response %s removed", or->status);
            continue;
        }
        util_buf_puts(&where, " body");
        if ((rc = where.error))
            break;
        cx->where_text = where.data;
        char what[64];
        snprintf(what, sizeof(what), "response %.40s", or->status);
        rc = compare_content(cx, or->pointer, nr->pointer, what);
    }
    for (size_t i = 0; i < nop->nresponses && !rc; i++) {
        const struct openapi_response *nr = &nop->responses[i];
        if (openapi_operation_response(oop, nr->status))
            continue;
        struct diff_seg ns = {NULL, NULL, 0, nr->pointer, NULL};
        struct diff_loc nl = {&ns, NULL, -1};
        rc = diff_emit(cx, OPENAPI_CHANGE_ADDED, false, NULL, &nl, "response %s added", nr->status);
    }
    util_buf_finish(&where);
    return rc;
}

static int compare_operation(struct diff_ctx *cx)
{
    size_t before = cx->out->count;
    cx->where = OPENAPI_CHANGE_OPERATION;
    int rc = UTIL_OK;
    if (strcmp(cx->oop->operation_id, cx->nop->operation_id) != 0) {
        struct diff_seg os = {NULL, NULL, 0, cx->oop->pointer, NULL};
        struct diff_seg ns = {NULL, NULL, 0, cx->nop->pointer, NULL};
        struct diff_loc ol = {&os, "operationId", -1}, nl = {&ns, "operationId", -1};
        rc = diff_emit(cx, OPENAPI_CHANGE_ID_CHANGED, false, &ol, &nl, "operationId %s is now %s",
                       cx->oop->operation_id, cx->nop->operation_id);
        cx->out->operations_renamed++;
    }
    if (!rc)
        rc = compare_params(cx);
    if (!rc)
        rc = compare_body(cx);
    if (!rc)
        rc = compare_responses(cx);
    if (cx->out->count > before)
        cx->out->operations_changed++;
    return rc;
}

/* One operation only in one document. */
static int operation_alone(struct diff_ctx *cx, bool added)
{
    const struct openapi_operation *op = added ? cx->nop : cx->oop;
    struct diff_seg s = {NULL, NULL, 0, op->pointer, NULL};
    struct diff_loc l = {&s, NULL, -1};
    cx->where = OPENAPI_CHANGE_OPERATION;
    if (added) {
        cx->out->operations_added++;
        return diff_emit(cx, OPENAPI_CHANGE_ADDED, false, NULL, &l, "operation %s added",
                         op->operation_id);
    }
    cx->out->operations_removed++;
    return diff_emit(cx, OPENAPI_CHANGE_REMOVED, true, &l, NULL, "operation %s removed",
                     op->operation_id);
}

static void keyed_free(struct keyed *k, size_t n)
{
    for (size_t i = 0; k && i < n; i++)
        free(k[i].key);
    free(k);
}

/* Keys of the operations of sp in document order (sorted when sort). */
static int make_keys(const struct openapi *sp, struct keyed **out, bool sort)
{
    size_t n = openapi_operation_count(sp);
    struct keyed *k = calloc(n ? n : 1, sizeof(*k));
    if (!k)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        k[i].index = i;
        if (!(k[i].key = op_key(openapi_operation_at(sp, i)))) {
            keyed_free(k, n);
            return UTIL_ERR_NOMEM;
        }
    }
    if (sort)
        qsort(k, n, sizeof(*k), keyed_cmp);
    *out = k;
    return UTIL_OK;
}

/* match[i]: the old operation matched to new operation i, or SIZE_MAX. */
static int match_operations(const struct openapi *o, const struct openapi *n, size_t *match)
{
    size_t on = openapi_operation_count(o), nn = openapi_operation_count(n);
    struct keyed *ok = NULL, *nk = NULL;
    bool *taken = calloc(on ? on : 1, sizeof(*taken));
    int rc = taken ? make_keys(o, &ok, true) : UTIL_ERR_NOMEM;
    if (!rc)
        rc = make_keys(n, &nk, false);
    for (size_t i = 0; !rc && i < nn; i++) {
        match[i] = SIZE_MAX;
        /* First old operation with the key, in document order, not taken. */
        size_t lo = 0, hi = on;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(ok[mid].key, nk[i].key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < on && !strcmp(ok[lo].key, nk[i].key); lo++) {
            if (!taken[ok[lo].index]) {
                taken[ok[lo].index] = true;
                match[i] = ok[lo].index;
                break;
            }
        }
    }
    keyed_free(ok, on);
    keyed_free(nk, nn);
    free(taken);
    return rc;
}

int openapi_changes_compute(const struct openapi *old_spec, const struct openapi *new_spec,
                            struct openapi_changes *out, struct util_error *err)
{
    struct diff_ctx cx;
    memset(&cx, 0, sizeof(cx));
    cx.o = old_spec;
    cx.n = new_spec;
    cx.out = out;
    cx.err = err;
    util_buf_init(&cx.msg, UTIL_CAP_MESSAGE);
    util_buf_init(&cx.ptr, UTIL_CAP_MESSAGE);
    util_buf_init(&cx.lab, UTIL_CAP_MESSAGE);
    size_t on = openapi_operation_count(old_spec), nn = openapi_operation_count(new_spec);
    size_t *match = calloc(nn ? nn : 1, sizeof(*match));
    bool *matched = calloc(on ? on : 1, sizeof(*matched));
    struct diff_seg root = {NULL, NULL, 0, "", NULL};
    int rc = match && matched ? UTIL_OK : UTIL_ERR_NOMEM;
    if (!rc)
        rc = check_refs(&cx, old_spec, openapi_document(old_spec), &root);
    if (!rc)
        rc = check_refs(&cx, new_spec, openapi_document(new_spec), &root);
    if (!rc)
        rc = match_operations(old_spec, new_spec, match);
    for (size_t i = 0; !rc && i < nn; i++) {
        cx.nop = openapi_operation_at(new_spec, i);
        cx.oop = match[i] == SIZE_MAX ? NULL : openapi_operation_at(old_spec, match[i]);
        if (cx.oop) {
            matched[match[i]] = true;
            rc = compare_operation(&cx);
        } else {
            rc = operation_alone(&cx, true);
        }
    }
    cx.nop = NULL;
    for (size_t i = 0; !rc && i < on; i++) {
        if (matched[i])
            continue;
        cx.oop = openapi_operation_at(old_spec, i);
        rc = operation_alone(&cx, false);
    }
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
    else if (rc && !err->message[0])
        util_error_set(err, rc, "spec diff: %s", util_status_name(rc));
    free(match);
    free(matched);
    free(cx.memo.slots);
    free(cx.clean.slots);
    free(cx.oref.slots);
    free(cx.nref.slots);
    util_buf_finish(&cx.msg);
    util_buf_finish(&cx.ptr);
    util_buf_finish(&cx.lab);
    return rc;
}

/* ---- JSON ---- */

static cJSON *doc_json(const struct openapi *sp)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddStringToObject(d, "source", openapi_source_name(sp)) ||
        !cJSON_AddStringToObject(d, "title", openapi_title(sp)) ||
        !cJSON_AddStringToObject(d, "version", openapi_version(sp)) ||
        !cJSON_AddStringToObject(d, "sha256", openapi_sha256(sp)) ||
        !cJSON_AddNumberToObject(d, "operations", (double)openapi_operation_count(sp))) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

static bool add_loc(cJSON *o, const char *name, const struct openapi_change_loc *l)
{
    if (!l->pointer)
        return cJSON_AddNullToObject(o, name) != NULL;
    cJSON *x = cJSON_AddObjectToObject(o, name);
    return x && cJSON_AddStringToObject(x, "pointer", l->pointer) &&
           cJSON_AddNumberToObject(x, "line", l->line);
}

static bool add_str_or_null(cJSON *o, const char *name, const char *s)
{
    return s ? cJSON_AddStringToObject(o, name, s) != NULL : cJSON_AddNullToObject(o, name) != NULL;
}

cJSON *openapi_changes_to_json(const struct openapi *old_spec, const struct openapi *new_spec,
                               const struct openapi_changes *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *od = doc_json(old_spec), *nd = doc_json(new_spec);
    bool ok = root && od && nd && cJSON_AddItemToObject(root, "old", od);
    if (ok)
        od = NULL;
    ok = ok && cJSON_AddItemToObject(root, "new", nd);
    if (ok)
        nd = NULL;
    cJSON *s = ok ? cJSON_AddObjectToObject(root, "summary") : NULL;
    ok = s && cJSON_AddNumberToObject(s, "changes", (double)c->count) &&
         cJSON_AddNumberToObject(s, "breaking", (double)c->breaking) &&
         cJSON_AddNumberToObject(s, "operationsAdded", (double)c->operations_added) &&
         cJSON_AddNumberToObject(s, "operationsRemoved", (double)c->operations_removed) &&
         cJSON_AddNumberToObject(s, "operationsRenamed", (double)c->operations_renamed) &&
         cJSON_AddNumberToObject(s, "operationsChanged", (double)c->operations_changed);
    cJSON *arr = ok ? cJSON_AddArrayToObject(root, "changes") : NULL;
    ok = arr != NULL;
    for (size_t i = 0; ok && i < c->count; i++) {
        const struct openapi_change *ch = &c->items[i];
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(arr, e);
        if (!ok) {
            cJSON_Delete(e);
            break;
        }
        ok = cJSON_AddStringToObject(e, "kind", ch->id) &&
             cJSON_AddBoolToObject(e, "breaking", ch->breaking) &&
             cJSON_AddStringToObject(e, "method", ch->method) &&
             cJSON_AddStringToObject(e, "path", ch->path) &&
             add_str_or_null(e, "oldOperationId", ch->old_operation_id) &&
             add_str_or_null(e, "newOperationId", ch->new_operation_id) &&
             add_loc(e, "old", &ch->old_loc) && add_loc(e, "new", &ch->new_loc) &&
             cJSON_AddStringToObject(e, "message", ch->message);
    }
    if (!ok) {
        cJSON_Delete(root);
        root = NULL;
    }
    cJSON_Delete(od);
    cJSON_Delete(nd);
    return root;
}
