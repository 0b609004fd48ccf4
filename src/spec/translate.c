/* OpenAPI 3.0 Schema Object -> JSON Schema draft 2020-12 (see spec.h). */
#include "spec/gen.h"

#include "util/caps.h"
#include "json/json.h"

#include <ctype.h>
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

bool gen_is_overlapping(const struct gen *g, const char *src)
{
    for (size_t i = 0; i < g->noverlapping; i++)
        if (!strcmp(g->overlapping[i], src))
            return true;
    return false;
}

/* ---- names ---- */

struct words {
    char *w[32];
    size_t n;
};

static void words_free(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->w[i]);
    w->n = 0;
}

/* "AuthAPIKeyPartial" -> auth, api, key, partial; "SourceGA4BigQueryExport"
 * -> source, ga4, big, query, export. */
static int split_words(const char *name, struct words *out)
{
    out->n = 0;
    size_t len = strlen(name);
    size_t start = 0;
    for (size_t i = 1; i <= len; i++) {
        bool cut = i == len;
        if (!cut) {
            char p = name[i - 1], c = name[i], nx = name[i + 1];
            bool up = isupper((unsigned char)c);
            cut = (up && (islower((unsigned char)p) || isdigit((unsigned char)p))) ||
                  (up && isupper((unsigned char)p) && islower((unsigned char)nx)) ||
                  !isalnum((unsigned char)c);
            /* digits stay with the word before them */
        }
        if (!cut)
            continue;
        if (i > start && isalnum((unsigned char)name[start])) {
            if (out->n == sizeof(out->w) / sizeof(out->w[0]))
                return UTIL_ERR_LIMIT;
            char *w = malloc(i - start + 1);
            if (!w)
                return UTIL_ERR_NOMEM;
            size_t k = 0;
            for (size_t j = start; j < i; j++)
                if (isalnum((unsigned char)name[j]))
                    w[k++] = (char)tolower((unsigned char)name[j]);
            w[k] = '\0';
            out->w[out->n++] = w;
        }
        start = (i < len && !isalnum((unsigned char)name[i])) ? i + 1 : i;
    }
    return UTIL_OK;
}

int gen_branch_keys(char *const *names, size_t n, char **keys)
{
    int rc = UTIL_OK;
    struct words *ws = calloc(n ? n : 1, sizeof(*ws));
    if (!ws)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        keys[i] = NULL;
    for (size_t i = 0; i < n && !rc; i++)
        rc = split_words(names[i], &ws[i]);
    if (rc)
        goto cleanup;
    size_t lead = 0, trail = 0;
    for (;;) {
        bool same = n > 1;
        for (size_t i = 0; i < n && same; i++)
            same = ws[i].n > lead + trail + 1 && !strcmp(ws[i].w[lead], ws[0].w[lead]);
        if (!same)
            break;
        lead++;
    }
    for (;;) {
        bool same = n > 1;
        for (size_t i = 0; i < n && same; i++)
            same = ws[i].n > lead + trail + 1 &&
                   !strcmp(ws[i].w[ws[i].n - 1 - trail], ws[0].w[ws[0].n - 1 - trail]);
        if (!same)
            break;
        trail++;
    }
    for (size_t i = 0; i < n; i++) {
        struct util_buf b;
        util_buf_init(&b, UTIL_CAP_MESSAGE);
        for (size_t j = lead; j + trail < ws[i].n && !rc; j++)
            rc = util_buf_puts(&b, ws[i].w[j]);
        if (!rc && !(keys[i] = util_buf_steal(&b)))
            rc = UTIL_ERR_NOMEM;
        util_buf_finish(&b);
        if (rc)
            break;
    }
cleanup:
    for (size_t i = 0; i < n; i++)
        words_free(&ws[i]);
    free(ws);
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            free(keys[i]);
            keys[i] = NULL;
        }
    }
    return rc;
}

char *gen_value_key(const char *value)
{
    char *k = malloc(strlen(value) + 1);
    if (!k)
        return NULL;
    size_t j = 0;
    for (const char *p = value; *p; p++)
        if (isalnum((unsigned char)*p))
            k[j++] = (char)tolower((unsigned char)*p);
    k[j] = '\0';
    return k;
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
    int line = spec_line_of(t->g->spec, src);
    const char *name = spec_source_name(t->g->spec);
    if (code == UTIL_ERR_NOMEM)
        return util_error_set(t->g->err, code, "out of memory");
    util_error_set(t->g->err, code, "%s:%d: %s (at #%s)", name, line, what, src);
    util_error_at(t->g->err, name, line, 0);
    return code;
}

/* ---- translation ---- */

static int tr_schema(struct tr *t, const cJSON *src, cJSON **out, int depth);

static int tr_ref(struct tr *t, const char *ref, cJSON **out)
{
    char *name = spec_schema_ref_name(ref);
    if (!name)
        return fail(t, UTIL_ERR_INVALID,
                    "only references to #/components/schemas/<Name> are supported in schemas");
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    int rc = util_buf_printf(&b, "%s%s.json", t->prefix, name);
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

static int tr_properties(struct tr *t, const cJSON *props, cJSON *out, int depth)
{
    if (!cJSON_IsObject(props))
        return fail(t, UTIL_ERR_INVALID, "properties is not an object");
    cJSON *o = cJSON_AddObjectToObject(out, "properties");
    if (!o)
        return UTIL_ERR_NOMEM;
    struct mark m = {0, 0};
    int rc = enter(t, "properties", "properties", &m);
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
        const cJSON *pa = spec_ref_target(doc, a);
        if (!cJSON_IsObject(pa) ||
            !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(pa, "additionalProperties")))
            continue;
        const cJSON *props_a = cJSON_GetObjectItemCaseSensitive(pa, "properties");
        const cJSON *b;
        cJSON_ArrayForEach(b, all)
        {
            if (b == a)
                continue;
            const cJSON *pb = spec_ref_target(doc, b);
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
            rc = fail(t, UTIL_ERR_INVALID,
                      "cannot merge an allOf whose container declares properties itself");
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
        const cJSON *p = spec_ref_target(t->g->doc, part);
        struct util_buf where;
        util_buf_init(&where, UTIL_CAP_MESSAGE);
        if (cJSON_IsString(ref)) {
            rc = spec_ref_pointer(ref->valuestring, &where);
            char *name = spec_schema_ref_name(ref->valuestring);
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
            rc = fail(t, UTIL_ERR_INVALID, "allOf part does not resolve to a schema");
        cJSON_ArrayForEach(k, (rc ? none : p))
        {
            if (!mergeable_key(k->string)) {
                rc = fail(t, UTIL_ERR_INVALID,
                          "cannot merge an allOf part with keywords other "
                          "than type/properties/required/"
                          "additionalProperties");
                break;
            }
        }
        if (!rc && cJSON_GetObjectItemCaseSensitive(p, "type") && !type_is(p, "object"))
            rc = fail(t, UTIL_ERR_INVALID, "cannot merge an allOf part that is not an object");
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
                const cJSON *qp =
                    cJSON_GetObjectItemCaseSensitive(spec_ref_target(t->g->doc, q), "properties");
                if (!prev)
                    prev = cJSON_GetObjectItemCaseSensitive(qp, prop->string);
            }
            if (prev) {
                if (!json_equal(prev, prop))
                    rc = fail(t, UTIL_ERR_INVALID,
                              "allOf parts define the same property differently");
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

/* For an object with an enum-typed "type" property and a property P that is
 * a $ref to an overlapping union U (a oneOf of component $refs), adds
 * allOf [{if: type == v, then: P is the branch named like v}] to out. */
static int tr_selectors(struct tr *t, const cJSON *src, cJSON *out)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(src, "properties");
    const cJSON *sel = cJSON_GetObjectItemCaseSensitive(props, "type");
    const cJSON *sel_schema = sel ? spec_ref_target(t->g->doc, sel) : NULL;
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(sel_schema, "enum");
    if (!cJSON_IsArray(values))
        return UTIL_OK;
    int rc = UTIL_OK;
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(p, "$ref");
        if (p == sel || !cJSON_IsString(ref))
            continue;
        struct util_buf up;
        util_buf_init(&up, UTIL_CAP_MESSAGE);
        rc = spec_ref_pointer(ref->valuestring, &up);
        bool overlapping = !rc && gen_is_overlapping(t->g, cur(&up));
        util_buf_finish(&up);
        if (rc)
            return rc;
        if (!overlapping)
            continue;
        const cJSON *u = spec_ref_target(t->g->doc, p);
        const cJSON *branches = cJSON_GetObjectItemCaseSensitive(u, "oneOf");
        size_t n = (size_t)cJSON_GetArraySize(branches);
        char **names = calloc(n ? n : 1, sizeof(*names));
        char **keys = calloc(n ? n : 1, sizeof(*keys));
        char *uname = spec_schema_ref_name(ref->valuestring);
        cJSON *extra = cJSON_CreateObject();
        cJSON *mapping = cJSON_CreateObject();
        cJSON *unmapped = cJSON_CreateArray();
        cJSON *conds = cJSON_CreateArray();
        bool *used = calloc(n ? n : 1, sizeof(*used));
        if (!names || !keys || !uname || !extra || !mapping || !unmapped || !conds || !used) {
            rc = UTIL_ERR_NOMEM;
            goto next;
        }
        size_t i = 0;
        bool all_named = true;
        const cJSON *b;
        cJSON_ArrayForEach(b, branches)
        {
            const cJSON *bref = cJSON_GetObjectItemCaseSensitive(b, "$ref");
            names[i] = cJSON_IsString(bref) ? spec_schema_ref_name(bref->valuestring) : NULL;
            all_named = all_named && names[i];
            i++;
        }
        if (all_named && (rc = gen_branch_keys(names, n, keys)))
            goto next;
        const cJSON *v;
        cJSON_ArrayForEach(v, values)
        {
            if (!cJSON_IsString(v))
                continue;
            char *vk = gen_value_key(v->valuestring);
            if (!vk) {
                rc = UTIL_ERR_NOMEM;
                goto next;
            }
            size_t hit = n;
            for (size_t j = 0; j < n; j++) {
                if (keys[j] && !strcmp(keys[j], vk)) {
                    if (hit != n) {
                        free(vk);
                        rc = fail(t, UTIL_ERR_INVALID,
                                  "two union branches map to the same \"type\" value");
                        goto next;
                    }
                    hit = j;
                }
            }
            free(vk);
            if (hit == n) {
                cJSON_AddItemToArray(unmapped, cJSON_CreateString(v->valuestring));
                continue;
            }
            used[hit] = true;
            cJSON_AddStringToObject(mapping, v->valuestring, names[hit]);
            /* {"if": {...type const...}, "then": {"properties": {P: {$ref}}}} */
            cJSON *c = cJSON_CreateObject();
            cJSON *ifs = cJSON_AddObjectToObject(c, "if");
            cJSON *ip = cJSON_AddObjectToObject(ifs, "properties");
            cJSON *it = cJSON_AddObjectToObject(ip, "type");
            cJSON_AddStringToObject(it, "const", v->valuestring);
            cJSON *ir = cJSON_AddArrayToObject(ifs, "required");
            cJSON_AddItemToArray(ir, cJSON_CreateString("type"));
            cJSON *then = cJSON_AddObjectToObject(c, "then");
            cJSON *tp = cJSON_AddObjectToObject(then, "properties");
            cJSON *tb = cJSON_AddObjectToObject(tp, p->string);
            struct util_buf rb;
            util_buf_init(&rb, UTIL_CAP_MESSAGE);
            int rrc = util_buf_printf(&rb, "%s%s.json", t->prefix, names[hit]);
            if (!rrc)
                cJSON_AddStringToObject(tb, "$ref", rb.data);
            util_buf_finish(&rb);
            cJSON_AddItemToArray(conds, c);
            if (rrc) {
                rc = rrc;
                goto next;
            }
        }
        /* No branch named like any type value: this union is not selected
         * by "type" (it stays a plain anyOf). Some but not all: fail. */
        size_t nused = 0;
        for (size_t j = 0; j < n; j++)
            nused += used[j];
        if (nused == 0)
            goto next;
        for (size_t j = 0; j < n; j++) {
            if (!used[j]) {
                char msg[512];
                snprintf(msg, sizeof(msg),
                         "union branch %s of %s matches no value of the sibling \"type\" enum "
                         "(by name); cannot derive a type-selected schema",
                         names[j] ? names[j] : "(inline schema)", uname);
                rc = fail(t, UTIL_ERR_INVALID, msg);
                goto next;
            }
        }
        {
            cJSON *all = cJSON_GetObjectItemCaseSensitive(out, "allOf");
            if (!all)
                all = cJSON_AddArrayToObject(out, "allOf");
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
            struct util_buf key;
            util_buf_init(&key, UTIL_CAP_MESSAGE);
            rc = util_buf_printf(&key, "%s/properties/%s", cur(&t->src), p->string);
            if (!rc) {
                rc = gen_sites_add(&t->g->selectors, key.data, t->file, cur(&t->out), src, extra);
                extra = NULL;
            }
            util_buf_finish(&key);
        }
    next:
        free_keys(names, n);
        free_keys(keys, n);
        free(uname);
        free(used);
        cJSON_Delete(extra);
        cJSON_Delete(mapping);
        cJSON_Delete(unmapped);
        cJSON_Delete(conds);
        if (rc)
            return rc;
    }
    return rc;
}

static bool documents_null(const cJSON *src)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(src, "description");
    return cJSON_IsString(d) && strstr(d->valuestring, "`null` in the API response") &&
           !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "nullable")) &&
           !type_is(src, "null");
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
        if (!spec_ref_target(t->g->doc, src)) {
            char why[UTIL_ERROR_MESSAGE_MAX / 2];
            spec_ref_problem(t->g->doc, src, why, sizeof(why));
            return fail(t, UTIL_ERR_NOTFOUND, why);
        }
        return tr_ref(t, ref->valuestring, out);
    }
    if (needs_merge(t->g->doc, cJSON_GetObjectItemCaseSensitive(src, "allOf")))
        return tr_merge(t, src, out, depth);
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
        if (!strcmp(key, "example")) {
            cJSON *arr = cJSON_AddArrayToObject(o, "examples");
            if (!arr) {
                rc = UTIL_ERR_NOMEM;
                break;
            }
            cJSON_AddItemToArray(arr, cJSON_Duplicate(k, 1));
            struct mark m = {0, 0};
            rc = enter(t, "example", NULL, &m);
            if (!rc)
                rc = gen_sites_add(&t->g->examples, cur(&t->src), t->file, cur(&t->out), k, NULL);
            leave(t, &m);
        } else if (!strcmp(key, "properties")) {
            rc = tr_properties(t, k, o, depth);
        } else if (!strcmp(key, "additionalProperties") || !strcmp(key, "items") ||
                   !strcmp(key, "not")) {
            if (cJSON_IsBool(k))
                cJSON_AddItemToObject(o, key, cJSON_Duplicate(k, 0));
            else
                rc = tr_child(t, k, key, key, o, depth);
        } else if (!strcmp(key, "allOf") || !strcmp(key, "anyOf")) {
            rc = tr_list(t, k, key, key, o, depth);
        } else if (!strcmp(key, "oneOf")) {
            const char *as = gen_is_overlapping(t->g, cur(&t->src)) ? "anyOf" : "oneOf";
            rc = gen_sites_add(&t->g->unions, cur(&t->src), t->file, cur(&t->out), src, NULL);
            if (!rc)
                rc = tr_list(t, k, key, as, o, depth);
        } else {
            if (!strcmp(key, "type") && cJSON_IsString(k) && !strcmp(k->valuestring, "null") &&
                t->g->oas30) {
                struct mark m = {0, 0};
                rc = enter(t, "type", NULL, &m);
                if (!rc)
                    rc =
                        gen_sites_add(&t->g->nulls, cur(&t->src), t->file, cur(&t->out), src, NULL);
                leave(t, &m);
            }
            cJSON *dup = cJSON_Duplicate(k, 1);
            if (!dup) {
                rc = UTIL_ERR_NOMEM;
                break;
            }
            cJSON_AddItemToObject(o, key, dup);
        }
        if (rc)
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
        rc = util_buf_printf(&file, "components/%s.json", name);
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
