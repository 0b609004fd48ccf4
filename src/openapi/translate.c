/* OpenAPI 3.0 Schema Object -> JSON Schema draft 2020-12 (see spec.h). */
#include "openapi/gen.h"

#include "util/caps.h"
#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TR_DEPTH 128

struct tr {
    struct gen *g;
    const char *prefix; /* prepended to "<Name>.json" in references */
    const char *file;
    struct util_buf src;
    struct util_buf out;
    const char *merge_reason; /* set by a merge that cannot be done (see tr_merge) */
};

struct mark {
    size_t src;
    size_t out;
};

/* ---- sites ---- */

void gen_sites_clear(struct gen_sites *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].src);
        free(s->items[i].file);
        free(s->items[i].out);
        cJSON_Delete(s->items[i].extra);
    }
    free(s->items);
    memset(s, 0, sizeof(*s));
}

int gen_sites_add(struct gen_sites *s, const char *src, const char *file, const char *out,
                  const cJSON *node, cJSON *extra)
{
    for (size_t i = 0; i < s->count; i++) {
        if (!strcmp(s->items[i].src, src)) {
            cJSON_Delete(extra);
            return UTIL_OK;
        }
    }
    if (s->count == s->alloc) {
        size_t n = s->alloc ? s->alloc * 2 : 16;
        struct gen_site *p = realloc(s->items, n * sizeof(*p));
        if (!p) {
            cJSON_Delete(extra);
            return UTIL_ERR_NOMEM;
        }
        s->items = p;
        s->alloc = n;
    }
    struct gen_site *e = &s->items[s->count];
    e->src = strdup(src);
    e->file = strdup(file ? file : "");
    e->out = strdup(out ? out : "");
    e->node = node;
    e->extra = extra;
    if (!e->src || !e->file || !e->out) {
        free(e->src);
        free(e->file);
        free(e->out);
        cJSON_Delete(extra);
        return UTIL_ERR_NOMEM;
    }
    s->count++;
    return UTIL_OK;
}

void gen_sites_truncate(struct gen_sites *s, size_t n)
{
    while (s->count > n) {
        struct gen_site *e = &s->items[--s->count];
        free(e->src);
        free(e->file);
        free(e->out);
        cJSON_Delete(e->extra);
    }
}

static bool in_list(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], s))
            return true;
    return false;
}

bool gen_is_overlapping(const struct gen *g, const char *src)
{
    return in_list(g->overlapping, g->noverlapping, src);
}

/* ---- pointer bookkeeping ---- */

static int enter(struct tr *t, const char *src_tok, const char *out_tok, struct mark *m)
{
    m->src = t->src.len;
    m->out = t->out.len;
    int rc = src_tok ? json_pointer_append(&t->src, src_tok) : UTIL_OK;
    if (!rc && out_tok)
        rc = json_pointer_append(&t->out, out_tok);
    return rc;
}

static int enter_index(struct tr *t, size_t i, struct mark *m)
{
    m->src = t->src.len;
    m->out = t->out.len;
    int rc = json_pointer_append_index(&t->src, i);
    if (!rc)
        rc = json_pointer_append_index(&t->out, i);
    return rc;
}

static void leave(struct tr *t, const struct mark *m)
{
    t->src.len = m->src;
    if (t->src.data)
        t->src.data[m->src] = '\0';
    t->out.len = m->out;
    if (t->out.data)
        t->out.data[m->out] = '\0';
}

static const char *cur(const struct util_buf *b)
{
    return b->data ? b->data : "";
}

static int fail(struct tr *t, int code, const char *what)
{
    const char *src = cur(&t->src);
    int line = openapi_line_of(t->g->spec, src);
    const char *name = openapi_source_name(t->g->spec);
    if (code == UTIL_ERR_NOMEM)
        return util_error_set(t->g->err, code, "out of memory");
    util_error_set(t->g->err, code, "%s:%d: %s (at #%s)", name, line, what, src);
    util_error_at(t->g->err, name, line, 0);
    return code;
}

/* ---- translation ---- */

static int tr_schema(struct tr *t, const cJSON *src, cJSON **out, int depth);

/* A merge that cannot be done: tr_schema translates the allOf as written. */
static int merge_fail(struct tr *t, const char *why)
{
    t->merge_reason = why;
    return UTIL_ERR_INVALID;
}

static int tr_ref(struct tr *t, const char *ref, cJSON **out)
{
    char *name = openapi_schema_ref_name(ref);
    if (!name)
        return fail(t, UTIL_ERR_INVALID,
                    "only references to #/components/schemas/<Name> are supported in schemas");
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    int rc = util_buf_printf(&b, "%s%s.json", t->prefix, gen_component_file(t->g, name));
    free(name);
    if (!rc) {
        *out = cJSON_CreateObject();
        if (!*out || !cJSON_AddStringToObject(*out, "$ref", b.data))
            rc = UTIL_ERR_NOMEM;
    }
    util_buf_finish(&b);
    return rc;
}

/* Translates src[key] (a schema) into out[out_key]. */
static int tr_child(struct tr *t, const cJSON *child, const char *key, const char *out_key,
                    cJSON *out, int depth)
{
    struct mark m = {0, 0};
    cJSON *v = NULL;
    int rc = enter(t, key, out_key, &m);
    if (!rc)
        rc = tr_schema(t, child, &v, depth + 1);
    leave(t, &m);
    if (!rc)
        cJSON_AddItemToObject(out, out_key, v);
    return rc;
}

/* Translates a keyword whose value is an array of schemas. */
static int tr_list(struct tr *t, const cJSON *list, const char *key, const char *out_key,
                   cJSON *out, int depth)
{
    if (!cJSON_IsArray(list))
        return fail(t, UTIL_ERR_INVALID, "expected an array of schemas");
    cJSON *arr = cJSON_AddArrayToObject(out, out_key);
    if (!arr)
        return UTIL_ERR_NOMEM;
    struct mark m = {0, 0};
    int rc = enter(t, key, out_key, &m);
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        struct mark mi = {0, 0};
        cJSON *v = NULL;
        if (!rc)
            rc = enter_index(t, i++, &mi);
        if (!rc)
            rc = tr_schema(t, it, &v, depth + 1);
        leave(t, &mi);
        if (rc)
            break;
        cJSON_AddItemToArray(arr, v);
    }
    leave(t, &m);
    return rc;
}

/* Translates a keyword whose value is a map of schemas (properties, ...). */
static int tr_properties(struct tr *t, const cJSON *props, const char *key, cJSON *out, int depth)
{
    if (!cJSON_IsObject(props))
        return fail(t, UTIL_ERR_INVALID, "expected an object of schemas");
    cJSON *o = cJSON_AddObjectToObject(out, key);
    if (!o)
        return UTIL_ERR_NOMEM;
    struct mark m = {0, 0};
    int rc = enter(t, key, key, &m);
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    {
        if (rc)
            break;
        rc = tr_child(t, p, p->string, p->string, o, depth);
    }
    leave(t, &m);
    return rc;
}

static bool type_is(const cJSON *s, const char *type)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    return cJSON_IsString(t) && !strcmp(t->valuestring, type);
}

/* nullable: true -> "null" added to type and enum. */
static int apply_nullable(cJSON *out)
{
    cJSON *type = cJSON_GetObjectItemCaseSensitive(out, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "null") != 0) {
        cJSON *arr = cJSON_CreateArray();
        if (!arr)
            return UTIL_ERR_NOMEM;
        cJSON_AddItemToArray(arr, cJSON_CreateString(type->valuestring));
        cJSON_AddItemToArray(arr, cJSON_CreateString("null"));
        cJSON_ReplaceItemViaPointer(out, type, arr);
    }
    cJSON *en = cJSON_GetObjectItemCaseSensitive(out, "enum");
    if (cJSON_IsArray(en)) {
        bool has_null = false;
        const cJSON *v;
        cJSON_ArrayForEach(v, en)
        {
            has_null = has_null || cJSON_IsNull(v);
        }
        if (!has_null)
            cJSON_AddItemToArray(en, cJSON_CreateNull());
    }
    return UTIL_OK;
}

/* Boolean exclusiveMinimum/Maximum (OAS 3.0, draft 4) -> numeric. */
static void apply_exclusive(cJSON *out, const char *excl, const char *bound)
{
    cJSON *e = cJSON_GetObjectItemCaseSensitive(out, excl);
    if (!cJSON_IsBool(e))
        return;
    cJSON *b = cJSON_GetObjectItemCaseSensitive(out, bound);
    if (cJSON_IsTrue(e) && cJSON_IsNumber(b)) {
        cJSON *n = cJSON_CreateNumber(b->valuedouble);
        if (n)
            cJSON_ReplaceItemViaPointer(out, e, n);
        cJSON_DeleteItemFromObjectCaseSensitive(out, bound);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(out, excl);
    }
}

/* Whether an allOf must be merged: some part closes itself with
 * additionalProperties:false while another part declares or requires a
 * property it does not list, so no instance could satisfy the allOf. */
static bool needs_merge(const cJSON *doc, const cJSON *all)
{
    if (!cJSON_IsArray(all) || cJSON_GetArraySize(all) < 2)
        return false;
    const cJSON *a;
    cJSON_ArrayForEach(a, all)
    {
        const cJSON *pa = openapi_ref_target(doc, a);
        if (!cJSON_IsObject(pa) ||
            !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(pa, "additionalProperties")))
            continue;
        const cJSON *props_a = cJSON_GetObjectItemCaseSensitive(pa, "properties");
        const cJSON *b;
        cJSON_ArrayForEach(b, all)
        {
            if (b == a)
                continue;
            const cJSON *pb = openapi_ref_target(doc, b);
            const cJSON *k;
            cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(pb, "properties"))
            {
                if (!cJSON_GetObjectItemCaseSensitive(props_a, k->string))
                    return true;
            }
            cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(pb, "required"))
            {
                if (cJSON_IsString(k) && !cJSON_GetObjectItemCaseSensitive(props_a, k->valuestring))
                    return true;
            }
        }
    }
    return false;
}

static bool mergeable_key(const char *k)
{
    static const char *const ok[] = {"type",  "properties", "required", "additionalProperties",
                                     "title", "description"};
    if (!strncmp(k, "x-", 2))
        return true;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!strcmp(k, ok[i]))
            return true;
    return false;
}

static int add_required(cJSON *req, const char *name)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, req)
    {
        if (!strcmp(r->valuestring, name))
            return UTIL_OK;
    }
    cJSON *s = cJSON_CreateString(name);
    if (!s)
        return UTIL_ERR_NOMEM;
    cJSON_AddItemToArray(req, s);
    return UTIL_OK;
}

/* Merges the object parts of src.allOf into one object schema: properties
 * united (each translated from where it is defined), required united,
 * additionalProperties:false when every part is closed. */
static int tr_merge(struct tr *t, const cJSON *src, cJSON **out, int depth)
{
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(src, "allOf");
    cJSON *o = cJSON_CreateObject();
    cJSON *parts = cJSON_CreateArray();
    cJSON *req = cJSON_CreateArray();
    cJSON *props = cJSON_CreateObject();
    int rc = UTIL_OK;
    bool all_closed = true;
    const cJSON *none = NULL;
    struct util_buf saved_src;
    util_buf_init(&saved_src, UTIL_CAP_MESSAGE);
    if (!o || !parts || !req || !props) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    /* The container's own keywords (description, ...), allOf excepted. */
    const cJSON *k;
    cJSON_ArrayForEach(k, src)
    {
        if (!strcmp(k->string, "allOf") || !strncmp(k->string, "x-", 2))
            continue;
        if (!strcmp(k->string, "properties") || !strcmp(k->string, "required") ||
            !strcmp(k->string, "additionalProperties") || !strcmp(k->string, "type")) {
            rc = merge_fail(t, "the allOf's container declares properties itself");
            goto cleanup;
        }
    }
    if ((rc = util_buf_append(&saved_src, cur(&t->src), t->src.len)))
        goto cleanup;
    if (!saved_src.data && (rc = util_buf_puts(&saved_src, "")))
        goto cleanup;
    cJSON_AddStringToObject(o, "type", "object");
    size_t i = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, all)
    {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(part, "$ref");
        const cJSON *p = openapi_ref_target(t->g->doc, part);
        struct util_buf where;
        util_buf_init(&where, UTIL_CAP_MESSAGE);
        if (cJSON_IsString(ref)) {
            if (openapi_ref_pointer(ref->valuestring, &where) != UTIL_OK)
                rc = merge_fail(t, "an allOf part's $ref is not a reference into this document");
            char *name = openapi_schema_ref_name(ref->valuestring);
            if (name) {
                cJSON_AddItemToArray(parts, cJSON_CreateString(name));
                free(name);
            }
        } else {
            rc = util_buf_printf(&where, "%s/allOf/%zu", saved_src.data, i);
            cJSON_AddItemToArray(parts, cJSON_CreateString(where.data ? where.data : ""));
        }
        i++;
        if (!rc && !cJSON_IsObject(p))
            rc = merge_fail(t, "an allOf part does not resolve to a schema");
        cJSON_ArrayForEach(k, (rc ? none : p))
        {
            if (!mergeable_key(k->string)) {
                rc = merge_fail(t, "an allOf part has keywords other than "
                                   "type/properties/required/additionalProperties");
                break;
            }
        }
        if (!rc && cJSON_GetObjectItemCaseSensitive(p, "type") && !type_is(p, "object"))
            rc = merge_fail(t, "an allOf part is not an object schema");
        if (!rc)
            all_closed = all_closed &&
                         cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p, "additionalProperties"));
        const cJSON *prop;
        cJSON_ArrayForEach(prop, (rc ? none : cJSON_GetObjectItemCaseSensitive(p, "properties")))
        {
            const cJSON *prev = NULL;
            const cJSON *q;
            cJSON_ArrayForEach(q, all)
            {
                if (q == part)
                    break;
                const cJSON *qp = cJSON_GetObjectItemCaseSensitive(openapi_ref_target(t->g->doc, q),
                                                                   "properties");
                if (!prev)
                    prev = cJSON_GetObjectItemCaseSensitive(qp, prop->string);
            }
            if (prev) {
                if (!json_equal(prev, prop))
                    rc = merge_fail(t, "allOf parts define the same property differently");
                if (rc)
                    break;
                continue;
            }
            /* Translate the property from where it is defined. */
            t->src.len = 0;
            if (t->src.data)
                t->src.data[0] = '\0';
            struct mark m = {0, 0};
            cJSON *v = NULL;
            rc = util_buf_append(&t->src, where.data, where.len);
            if (!rc)
                rc = enter(t, "properties", "properties", &m);
            struct mark m2 = {0, 0};
            if (!rc)
                rc = enter(t, prop->string, prop->string, &m2);
            if (!rc)
                rc = tr_schema(t, prop, &v, depth + 1);
            leave(t, &m);
            if (rc)
                break;
            cJSON_AddItemToObject(props, prop->string, v);
        }
        cJSON_ArrayForEach(prop, (rc ? none : cJSON_GetObjectItemCaseSensitive(p, "required")))
        {
            if (cJSON_IsString(prop) && (rc = add_required(req, prop->valuestring)))
                break;
        }
        /* back to the container's source pointer */
        t->src.len = 0;
        if (t->src.data)
            t->src.data[0] = '\0';
        int rc2 = util_buf_append(&t->src, saved_src.data, saved_src.len);
        util_buf_finish(&where);
        if (!rc)
            rc = rc2;
        if (rc)
            goto cleanup;
    }
    cJSON_ArrayForEach(k, src)
    {
        if (!strcmp(k->string, "allOf") || !strncmp(k->string, "x-", 2))
            continue;
        cJSON_AddItemToObject(o, k->string, cJSON_Duplicate(k, 1));
    }
    if (all_closed)
        cJSON_AddFalseToObject(o, "additionalProperties");
    cJSON_AddItemToObject(o, "properties", props);
    props = NULL;
    if (cJSON_GetArraySize(req) > 0) {
        cJSON_AddItemToObject(o, "required", req);
        req = NULL;
    }
    cJSON *extra = cJSON_CreateObject();
    if (!extra) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    cJSON_AddItemToObject(extra, "parts", parts);
    parts = NULL;
    if ((rc = gen_sites_add(&t->g->merges, cur(&t->src), t->file, cur(&t->out), src, extra)))
        goto cleanup;
    *out = o;
    o = NULL;
cleanup:
    util_buf_finish(&saved_src);
    cJSON_Delete(o);
    cJSON_Delete(parts);
    cJSON_Delete(req);
    cJSON_Delete(props);
    return rc;
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
}

/* Records that the schema at src_ptr (translated at the current output
 * pointer) is translated as written instead of specialised, and why. */
static int degrade(struct tr *t, const char *src_ptr, const cJSON *node, const char *kind,
                   const char *reason)
{
    cJSON *extra = cJSON_CreateObject();
    if (!extra || !cJSON_AddStringToObject(extra, "kind", kind) ||
        !cJSON_AddStringToObject(extra, "reason", reason)) {
        cJSON_Delete(extra);
        return UTIL_ERR_NOMEM;
    }
    return gen_sites_add(&t->g->degraded, src_ptr, t->file, cur(&t->out), node, extra);
}

/* {"if": {"properties": {prop: {"const": value}}, "required": [prop]},
 *  "then": <then>}; takes then. */
static cJSON *if_const(const char *prop, const char *value, cJSON *then)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *ifs = cJSON_AddObjectToObject(c, "if");
    cJSON *ip = cJSON_AddObjectToObject(ifs, "properties");
    cJSON *it = cJSON_AddObjectToObject(ip, prop);
    cJSON *ir = cJSON_AddArrayToObject(ifs, "required");
    if (!then || !it || !cJSON_AddStringToObject(it, "const", value) || !ir ||
        !cJSON_AddItemToArray(ir, cJSON_CreateString(prop)) ||
        !cJSON_AddItemToObject(c, "then", then)) {
        cJSON_Delete(then);
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

/* {"$ref": prefix + file of component name + ".json"}. */
static cJSON *component_ref(struct tr *t, const char *name)
{
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    cJSON *o = NULL;
    if (!util_buf_printf(&b, "%s%s.json", t->prefix, gen_component_file(t->g, name))) {
        o = cJSON_CreateObject();
        if (o && !cJSON_AddStringToObject(o, "$ref", b.data)) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    util_buf_finish(&b);
    return o;
}

static cJSON *array_of(cJSON *out, const char *key)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(out, key);
    return a ? a : cJSON_AddArrayToObject(out, key);
}

/* For an object with an enum-typed "type" property and a property P that is
 * a $ref to an overlapping union U (a oneOf of component $refs), adds
 * allOf [{if: type == v, then: P is the branch named like v}] to out. A
 * union none of whose branches is named like a type value is not selected
 * by type (it stays a plain anyOf); one that only some branches (or
 * ambiguous names) map is left unselected and recorded as degraded. */
static int tr_selectors(struct tr *t, const cJSON *src, cJSON *out)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(src, "properties");
    const cJSON *sel = cJSON_GetObjectItemCaseSensitive(props, "type");
    const cJSON *sel_schema = sel ? openapi_ref_target(t->g->doc, sel) : NULL;
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(sel_schema, "enum");
    if (!cJSON_IsArray(values))
        return UTIL_OK;
    size_t nv = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, values)
    {
        nv += cJSON_IsString(v);
    }
    char **vals = calloc(nv ? nv : 1, sizeof(*vals));
    if (!vals)
        return UTIL_ERR_NOMEM;
    nv = 0;
    cJSON_ArrayForEach(v, values)
    {
        if (cJSON_IsString(v))
            vals[nv++] = v->valuestring;
    }
    int rc = UTIL_OK;
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(p, "$ref");
        if (p == sel || !cJSON_IsString(ref))
            continue;
        struct util_buf up;
        util_buf_init(&up, UTIL_CAP_MESSAGE);
        /* A $ref that is not a local pointer selects nothing here; its
         * translation reports it. */
        bool overlapping = openapi_ref_pointer(ref->valuestring, &up) == UTIL_OK &&
                           gen_is_overlapping(t->g, cur(&up));
        util_buf_finish(&up);
        if (!overlapping)
            continue;
        const cJSON *u = openapi_ref_target(t->g->doc, p);
        const cJSON *branches = cJSON_GetObjectItemCaseSensitive(u, "oneOf");
        size_t n = (size_t)cJSON_GetArraySize(branches);
        char **names = calloc(n ? n : 1, sizeof(*names));
        size_t *pick = calloc(n ? n : 1, sizeof(*pick));
        char *uname = openapi_schema_ref_name(ref->valuestring);
        cJSON *extra = cJSON_CreateObject();
        cJSON *mapping = cJSON_CreateObject();
        cJSON *unmapped = cJSON_CreateArray();
        cJSON *conds = cJSON_CreateArray();
        struct util_buf key;
        util_buf_init(&key, UTIL_CAP_MESSAGE);
        if (!names || !pick || !uname || !extra || !mapping || !unmapped || !conds ||
            util_buf_printf(&key, "%s/properties/%s", cur(&t->src), p->string)) {
            rc = UTIL_ERR_NOMEM;
            goto next;
        }
        size_t i = 0;
        bool all_named = true;
        const cJSON *b;
        cJSON_ArrayForEach(b, branches)
        {
            const cJSON *bref = cJSON_GetObjectItemCaseSensitive(b, "$ref");
            names[i] = cJSON_IsString(bref) ? openapi_schema_ref_name(bref->valuestring) : NULL;
            all_named = all_named && names[i];
            i++;
        }
        for (size_t j = 0; j < n; j++)
            pick[j] = nv;
        if (all_named && (rc = gen_match_branches(names, n, vals, nv, pick)))
            goto next;
        size_t nused = 0;
        for (size_t vi = 0; vi < nv && !rc; vi++) {
            size_t hit = n;
            for (size_t j = 0; j < n && hit == n; j++)
                if (pick[j] == vi)
                    hit = j;
            if (hit == n) {
                if (!cJSON_AddItemToArray(unmapped, cJSON_CreateString(vals[vi])))
                    rc = UTIL_ERR_NOMEM;
                continue;
            }
            nused++;
            cJSON *then = cJSON_CreateObject();
            cJSON *tp = cJSON_AddObjectToObject(then, "properties");
            cJSON *r = component_ref(t, names[hit]);
            if (!tp || !r || !cJSON_AddItemToObject(tp, p->string, r)) {
                cJSON_Delete(r);
                cJSON_Delete(then);
                rc = UTIL_ERR_NOMEM;
                break;
            }
            cJSON *c = if_const("type", vals[vi], then);
            if (!c || !cJSON_AddStringToObject(mapping, vals[vi], names[hit])) {
                cJSON_Delete(c);
                rc = UTIL_ERR_NOMEM;
                break;
            }
            cJSON_AddItemToArray(conds, c);
        }
        if (rc || nused == 0)
            goto next;
        for (size_t j = 0; j < n; j++) {
            if (pick[j] != nv)
                continue;
            char msg[512];
            snprintf(msg, sizeof(msg),
                     "union branch %s of %s matches no value of the sibling \"type\" enum (by "
                     "name) or matches it ambiguously; %s is checked against the union only",
                     names[j] ? names[j] : "(inline schema)", uname, p->string);
            rc = degrade(t, key.data, p, "unselected-union", msg);
            goto next;
        }
        {
            cJSON *all = array_of(out, "allOf");
            if (!all) {
                rc = UTIL_ERR_NOMEM;
                goto next;
            }
            size_t base = (size_t)cJSON_GetArraySize(all);
            while (conds->child)
                cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(conds, conds->child));
            cJSON_AddStringToObject(extra, "property", p->string);
            cJSON_AddStringToObject(extra, "selector", "type");
            cJSON_AddStringToObject(extra, "union", uname);
            cJSON_AddNumberToObject(extra, "allOfStart", (double)base);
            cJSON_AddItemToObject(extra, "mapping", mapping);
            mapping = NULL;
            cJSON_AddItemToObject(extra, "unmapped", unmapped);
            unmapped = NULL;
            rc = gen_sites_add(&t->g->selectors, key.data, t->file, cur(&t->out), src, extra);
            extra = NULL;
        }
    next:
        free_keys(names, n);
        free(pick);
        free(uname);
        util_buf_finish(&key);
        cJSON_Delete(extra);
        cJSON_Delete(mapping);
        cJSON_Delete(unmapped);
        cJSON_Delete(conds);
        if (rc)
            break;
    }
    free(vals);
    return rc;
}

/* OpenAPI discriminator on a union: adds allOf [{if: propertyName == value,
 * then: the mapped component}] to out, from discriminator.mapping and,
 * for branches it does not map, the component name as the value. */
static int tr_discriminator(struct tr *t, const cJSON *src, const cJSON *branches, cJSON *out)
{
    const cJSON *disc = cJSON_GetObjectItemCaseSensitive(src, "discriminator");
    const cJSON *pn = cJSON_GetObjectItemCaseSensitive(disc, "propertyName");
    if (!cJSON_IsString(pn))
        return UTIL_OK;
    const cJSON *mapping = cJSON_GetObjectItemCaseSensitive(disc, "mapping");
    cJSON *all = array_of(out, "allOf");
    if (!all)
        return UTIL_ERR_NOMEM;
    const cJSON *b;
    cJSON_ArrayForEach(b, branches)
    {
        const cJSON *bref = cJSON_GetObjectItemCaseSensitive(b, "$ref");
        char *name = cJSON_IsString(bref) ? openapi_schema_ref_name(bref->valuestring) : NULL;
        if (!name)
            continue;
        bool mapped = false;
        int rc = UTIL_OK;
        const cJSON *m;
        cJSON_ArrayForEach(m, mapping)
        {
            if (rc || !cJSON_IsString(m))
                continue;
            char *target = openapi_schema_ref_name(m->valuestring);
            bool same = !strcmp(target ? target : m->valuestring, name);
            free(target);
            if (!same)
                continue;
            mapped = true;
            cJSON *c = if_const(pn->valuestring, m->string, component_ref(t, name));
            if (!c || !cJSON_AddItemToArray(all, c))
                rc = UTIL_ERR_NOMEM;
        }
        if (!rc && !mapped) {
            cJSON *c = if_const(pn->valuestring, name, component_ref(t, name));
            if (!c || !cJSON_AddItemToArray(all, c))
                rc = UTIL_ERR_NOMEM;
        }
        free(name);
        if (rc)
            return rc;
    }
    if (!all->child)
        cJSON_DeleteItemFromObjectCaseSensitive(out, "allOf");
    return UTIL_OK;
}

static bool documents_null(const cJSON *src)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(src, "description");
    return cJSON_IsString(d) && strstr(d->valuestring, "`null` in the API response") &&
           !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "nullable")) &&
           !type_is(src, "null");
}

static size_t site_count(const struct gen *g, size_t i)
{
    const struct gen_sites *all[] = {&g->unions, &g->examples,  &g->nulls,
                                     &g->merges, &g->selectors, &g->degraded};
    return all[i]->count;
}

#define NSITE_LISTS 6

static void sites_rewind(struct gen *g, const size_t *counts)
{
    struct gen_sites *all[] = {&g->unions, &g->examples,  &g->nulls,
                               &g->merges, &g->selectors, &g->degraded};
    for (size_t i = 0; i < NSITE_LISTS; i++)
        gen_sites_truncate(all[i], counts[i]);
}

/* An allOf that needs merging: merged, or, when it cannot be merged,
 * *merged stays false and the allOf is recorded as degraded for tr_schema
 * to translate as written. */
static int tr_try_merge(struct tr *t, const cJSON *src, cJSON **out, int depth, bool *merged)
{
    *merged = false;
    size_t counts[NSITE_LISTS];
    for (size_t i = 0; i < NSITE_LISTS; i++)
        counts[i] = site_count(t->g, i);
    t->merge_reason = NULL;
    int rc = tr_merge(t, src, out, depth);
    if (rc != UTIL_ERR_INVALID || !t->merge_reason) {
        *merged = !rc;
        return rc;
    }
    const char *why = t->merge_reason;
    t->merge_reason = NULL;
    util_error_clear(t->g->err);
    sites_rewind(t->g, counts);
    char msg[512];
    snprintf(msg, sizeof(msg),
             "allOf not merged (%s); translated as written, so closed parts may reject each "
             "other's properties",
             why);
    return degrade(t, cur(&t->src), src, "unmerged-allof", msg);
}

/* Adds value to out.examples and records it as an example site at
 * src + tokens (tok2 may be NULL). */
static int add_example(struct tr *t, cJSON *o, const cJSON *value, const char *tok, size_t index,
                       bool indexed)
{
    cJSON *arr = array_of(o, "examples");
    cJSON *dup = cJSON_Duplicate(value, 1);
    if (!arr || !dup || !cJSON_AddItemToArray(arr, dup)) {
        cJSON_Delete(dup);
        return UTIL_ERR_NOMEM;
    }
    struct mark m = {t->src.len, t->out.len};
    int rc = json_pointer_append(&t->src, tok);
    if (!rc && indexed)
        rc = json_pointer_append_index(&t->src, index);
    if (!rc)
        rc = gen_sites_add(&t->g->examples, cur(&t->src), t->file, cur(&t->out), value, NULL);
    leave(t, &m);
    return rc;
}

/* Keywords whose value is a map of schemas (2020-12). */
static bool schema_map_keyword(const char *k)
{
    return !strcmp(k, "properties") || !strcmp(k, "patternProperties") ||
           !strcmp(k, "dependentSchemas") || !strcmp(k, "$defs");
}

/* Keywords whose value is one schema. */
static bool schema_keyword(const char *k)
{
    static const char *const kw[] = {"additionalProperties",
                                     "items",
                                     "not",
                                     "contains",
                                     "propertyNames",
                                     "if",
                                     "then",
                                     "else",
                                     "unevaluatedItems",
                                     "unevaluatedProperties",
                                     "additionalItems",
                                     "contentSchema"};
    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (!strcmp(k, kw[i]))
            return true;
    return false;
}

static int tr_keyword(struct tr *t, const cJSON *src, const cJSON *k, cJSON *o, int depth)
{
    const char *key = k->string;
    if (!strcmp(key, "$ref")) {
        cJSON *r = NULL;
        int rc = tr_ref(t, k->valuestring, &r);
        if (!rc)
            cJSON_AddItemToObject(o, "$ref", cJSON_DetachItemFromObjectCaseSensitive(r, "$ref"));
        cJSON_Delete(r);
        return rc;
    }
    if (!strcmp(key, "example"))
        return add_example(t, o, k, "example", 0, false);
    if (!strcmp(key, "examples") && cJSON_IsArray(k)) {
        int rc = UTIL_OK;
        size_t i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, k)
        {
            if (!rc)
                rc = add_example(t, o, e, "examples", i++, true);
        }
        return rc;
    }
    if (schema_map_keyword(key))
        return tr_properties(t, k, key, o, depth);
    if (schema_keyword(key))
        return tr_child(t, k, key, key, o, depth);
    if (!strcmp(key, "allOf") || !strcmp(key, "anyOf") || !strcmp(key, "prefixItems"))
        return tr_list(t, k, key, key, o, depth);
    if (!strcmp(key, "oneOf")) {
        const char *as = gen_is_overlapping(t->g, cur(&t->src)) ? "anyOf" : "oneOf";
        int rc = gen_sites_add(&t->g->unions, cur(&t->src), t->file, cur(&t->out), src, NULL);
        return rc ? rc : tr_list(t, k, key, as, o, depth);
    }
    if (!strcmp(key, "type") && cJSON_IsString(k) && !strcmp(k->valuestring, "null") &&
        t->g->oas30) {
        struct mark m = {0, 0};
        int rc = enter(t, "type", NULL, &m);
        if (!rc)
            rc = gen_sites_add(&t->g->nulls, cur(&t->src), t->file, cur(&t->out), src, NULL);
        leave(t, &m);
        if (rc)
            return rc;
    }
    cJSON *dup = cJSON_Duplicate(k, 1);
    if (!dup)
        return UTIL_ERR_NOMEM;
    cJSON_AddItemToObject(o, key, dup);
    return UTIL_OK;
}

static int tr_schema(struct tr *t, const cJSON *src, cJSON **out, int depth)
{
    *out = NULL;
    if (depth > MAX_TR_DEPTH)
        return fail(t, UTIL_ERR_LIMIT, "schema nests too deeply");
    if (cJSON_IsBool(src)) {
        *out = cJSON_Duplicate(src, 0);
        return *out ? UTIL_OK : UTIL_ERR_NOMEM;
    }
    if (!cJSON_IsObject(src))
        return fail(t, UTIL_ERR_INVALID, "expected a schema object");
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(src, "$ref");
    if (ref) {
        if (!cJSON_IsString(ref))
            return fail(t, UTIL_ERR_INVALID, "$ref is not a string");
        if (!openapi_ref_target(t->g->doc, src)) {
            char why[UTIL_ERROR_MESSAGE_MAX / 2];
            openapi_ref_problem(t->g->doc, src, why, sizeof(why));
            return fail(t, UTIL_ERR_NOTFOUND, why);
        }
        /* OAS 3.0 ignores a $ref's siblings; 3.1 (JSON Schema 2020-12)
         * applies them. */
        if (t->g->oas30 || cJSON_GetArraySize(src) == 1)
            return tr_ref(t, ref->valuestring, out);
    }
    if (needs_merge(t->g->doc, cJSON_GetObjectItemCaseSensitive(src, "allOf"))) {
        bool merged = false;
        int rc = tr_try_merge(t, src, out, depth, &merged);
        if (rc || merged)
            return rc;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return UTIL_ERR_NOMEM;
    int rc = UTIL_OK;
    const cJSON *k;
    cJSON_ArrayForEach(k, src)
    {
        const char *key = k->string;
        if (!strncmp(key, "x-", 2) || !strcmp(key, "nullable") || !strcmp(key, "discriminator") ||
            !strcmp(key, "xml") || !strcmp(key, "externalDocs"))
            continue;
        if ((rc = tr_keyword(t, src, k, o, depth)))
            break;
    }
    if (!rc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "nullable")))
        rc = apply_nullable(o);
    if (!rc) {
        apply_exclusive(o, "exclusiveMinimum", "minimum");
        apply_exclusive(o, "exclusiveMaximum", "maximum");
    }
    if (!rc && documents_null(src))
        rc = gen_sites_add(&t->g->null_docs, cur(&t->src), t->file, cur(&t->out), src, NULL);
    if (!rc && cJSON_GetObjectItemCaseSensitive(src, "properties"))
        rc = tr_selectors(t, src, o);
    if (!rc && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(src, "discriminator"))) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(src, "oneOf");
        rc = tr_discriminator(t, src, u ? u : cJSON_GetObjectItemCaseSensitive(src, "anyOf"), o);
    }
    if (rc) {
        cJSON_Delete(o);
        if (rc == UTIL_ERR_NOMEM)
            util_error_set(t->g->err, rc, "out of memory");
        return rc;
    }
    *out = o;
    return UTIL_OK;
}

static int tr_run(struct gen *g, const cJSON *schema, const char *src_ptr, const char *file,
                  const char *out_ptr, const char *prefix, cJSON **out)
{
    struct tr t = {.g = g, .prefix = prefix, .file = file};
    util_buf_init(&t.src, UTIL_CAP_MESSAGE);
    util_buf_init(&t.out, UTIL_CAP_MESSAGE);
    int rc = util_buf_puts(&t.src, src_ptr);
    if (!rc)
        rc = util_buf_puts(&t.out, out_ptr);
    if (!rc)
        rc = tr_schema(&t, schema, out, 0);
    util_buf_finish(&t.src);
    util_buf_finish(&t.out);
    return rc;
}

int gen_translate_inline(struct gen *g, const cJSON *schema, const char *src_ptr, const char *file,
                         const char *out_ptr, const char *ref_prefix, cJSON **out)
{
    *out = NULL;
    return tr_run(g, schema, src_ptr, file, out_ptr, ref_prefix, out);
}

int gen_translate_component(struct gen *g, const char *name, const cJSON *schema, cJSON **out)
{
    *out = NULL;
    struct util_buf src, file;
    util_buf_init(&src, UTIL_CAP_MESSAGE);
    util_buf_init(&file, UTIL_CAP_MESSAGE);
    cJSON *body = NULL;
    cJSON *doc = NULL;
    int rc = util_buf_puts(&src, "/components/schemas");
    if (!rc)
        rc = json_pointer_append(&src, name);
    if (!rc)
        rc = util_buf_printf(&file, "components/%s.json", gen_component_file(g, name));
    if (!rc)
        rc = tr_run(g, schema, src.data, file.data, "", "", &body);
    if (rc)
        goto cleanup;
    doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddStringToObject(doc, "$schema", GEN_SCHEMA_DIALECT) ||
        !cJSON_AddStringToObject(doc, "title", name)) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(body, "title");
    if (cJSON_IsString(title) && strcmp(title->valuestring, name) != 0) {
        struct util_buf c;
        util_buf_init(&c, UTIL_CAP_MESSAGE);
        rc = util_buf_printf(&c, "OpenAPI title: %s", title->valuestring);
        if (!rc && !cJSON_AddStringToObject(doc, "$comment", c.data))
            rc = UTIL_ERR_NOMEM;
        util_buf_finish(&c);
        if (rc)
            goto cleanup;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(body, "title");
    cJSON_DeleteItemFromObjectCaseSensitive(body, "$schema");
    while (body->child) {
        cJSON *k = cJSON_DetachItemViaPointer(body, body->child);
        cJSON_AddItemToObject(doc, k->string, k);
    }
    *out = doc;
    doc = NULL;
cleanup:
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(g->err, rc, "out of memory");
    cJSON_Delete(body);
    cJSON_Delete(doc);
    util_buf_finish(&src);
    util_buf_finish(&file);
    return rc;
}
