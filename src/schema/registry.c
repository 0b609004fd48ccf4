
#include "schema/internal.h"

#include "schema/metaschemas.h"
#include "schema/uri.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_MAX_SCHEMA_DEPTH 1024
#define SC_MAX_META_DEPTH 8

enum { D_2020 = 1, D_7 = 2, D_4 = 4, D_OAS = 8 };
enum { K_ONE, K_MAP, K_ARRAY, K_ONE_OR_ARRAY, K_DEPS };

/* Keywords whose values hold subschemas, per dialect. */
static const struct {
    const char *kw;
    int kind;
    unsigned dialects;
} sub_keywords[] = {
    {"$defs", K_MAP, D_2020},
    {"definitions", K_MAP, D_7 | D_4},
    {"properties", K_MAP, D_2020 | D_7 | D_4 | D_OAS},
    {"patternProperties", K_MAP, D_2020 | D_7 | D_4},
    {"dependentSchemas", K_MAP, D_2020},
    {"dependencies", K_DEPS, D_7 | D_4},
    {"prefixItems", K_ARRAY, D_2020},
    {"allOf", K_ARRAY, D_2020 | D_7 | D_4 | D_OAS},
    {"anyOf", K_ARRAY, D_2020 | D_7 | D_4 | D_OAS},
    {"oneOf", K_ARRAY, D_2020 | D_7 | D_4 | D_OAS},
    {"items", K_ONE, D_2020 | D_OAS},
    {"items", K_ONE_OR_ARRAY, D_7 | D_4},
    {"additionalItems", K_ONE, D_7 | D_4},
    {"contains", K_ONE, D_2020 | D_7},
    {"additionalProperties", K_ONE, D_2020 | D_7 | D_4 | D_OAS},
    {"propertyNames", K_ONE, D_2020 | D_7},
    {"if", K_ONE, D_2020 | D_7},
    {"then", K_ONE, D_2020 | D_7},
    {"else", K_ONE, D_2020 | D_7},
    {"not", K_ONE, D_2020 | D_7 | D_4 | D_OAS},
    {"unevaluatedItems", K_ONE, D_2020},
    {"unevaluatedProperties", K_ONE, D_2020},
};

static unsigned dialect_bit(enum schema_dialect d)
{
    switch (d) {
    case SCHEMA_DIALECT_DRAFT7:
        return D_7;
    case SCHEMA_DIALECT_DRAFT4:
        return D_4;
    case SCHEMA_DIALECT_OAS30:
        return D_OAS;
    case SCHEMA_DIALECT_AUTO:
    case SCHEMA_DIALECT_2020_12:
    default:
        return D_2020;
    }
}

/* ---- hash maps ---- */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static uint32_t hash_ptr(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    v ^= v >> 17;
    v *= 0xed5ad4bbu;
    v ^= v >> 11;
    return (uint32_t)v;
}

static uint32_t map_hash(const struct sc_map *m, const void *key)
{
    return m->strkeys ? hash_str(key) : hash_ptr(key);
}

static bool map_keyeq(const struct sc_map *m, const void *a, const void *b)
{
    return m->strkeys ? strcmp(a, b) == 0 : a == b;
}

static void *map_get(const struct sc_map *m, const void *key)
{
    if (!m->cap)
        return NULL;
    uint32_t h = map_hash(m, key);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        const struct sc_map_entry *e = &m->e[i];
        if (!e->key)
            return NULL;
        if (e->hash == h && map_keyeq(m, e->key, key))
            return e->val;
    }
}

static int map_put(struct sc_map *m, const void *key, void *val);

static int map_grow(struct sc_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    struct sc_map_entry *old = m->e;
    size_t ocap = m->cap;
    m->e = calloc(ncap, sizeof(*m->e));
    if (!m->e) {
        m->e = old;
        return UTIL_ERR_NOMEM;
    }
    m->cap = ncap;
    m->n = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            map_put(m, old[i].key, old[i].val);
    free(old);
    return UTIL_OK;
}

/* Inserts or replaces key; the key must outlive the map. */
static int map_put(struct sc_map *m, const void *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m))
        return UTIL_ERR_NOMEM;
    uint32_t h = map_hash(m, key);
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct sc_map_entry *e = &m->e[i];
        if (!e->key) {
            e->key = key;
            e->val = val;
            e->hash = h;
            m->n++;
            return UTIL_OK;
        }
        if (e->hash == h && map_keyeq(m, e->key, key)) {
            e->key = key;
            e->val = val;
            return UTIL_OK;
        }
    }
}

/* Appends item to a growable array of pointers. */
static int vec_push(void ***arr, size_t *n, size_t *alloc, void *item)
{
    if (*n == *alloc) {
        size_t na = *alloc ? *alloc * 2 : 16;
        void **nv = realloc(*arr, na * sizeof(*nv));
        if (!nv)
            return UTIL_ERR_NOMEM;
        *arr = nv;
        *alloc = na;
    }
    (*arr)[(*n)++] = item;
    return UTIL_OK;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int nomem(struct util_error *err)
{
    return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
}

/* ---- registry ---- */

struct schema_registry *schema_registry_create(const struct schema_options *opts)
{
    struct schema_registry *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return NULL;
    if (opts)
        reg->opts = *opts;
    if (reg->opts.default_dialect == SCHEMA_DIALECT_AUTO)
        reg->opts.default_dialect = SCHEMA_DIALECT_2020_12;
    reg->by_uri.strkeys = true;
    return reg;
}

void schema_registry_destroy(struct schema_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->nschemas; i++)
        schema_free_compiled(reg->schemas[i]);
    free(reg->schemas);
    for (size_t i = 0; i < reg->ninfos; i++) {
        free(reg->infos[i]->ptr);
        free(reg->infos[i]);
    }
    free(reg->infos);
    for (size_t i = 0; i < reg->nres; i++) {
        struct sc_resource *r = reg->res[i];
        for (size_t k = 0; k < r->nanchors; k++)
            free(r->anchors[k].name);
        free(r->anchors);
        free(r->uri);
        free(r);
    }
    free(reg->res);
    for (size_t i = 0; i < reg->ndocs; i++) {
        cJSON_Delete(reg->docs[i]->root);
        free(reg->docs[i]->uri);
        free(reg->docs[i]);
    }
    free(reg->docs);
    for (size_t i = 0; i < reg->ndirs; i++) {
        free(reg->dirs[i].prefix);
        free(reg->dirs[i].dir);
    }
    free(reg->dirs);
    for (size_t i = 0; i < reg->npending; i++)
        free(reg->pending[i].uri);
    free(reg->pending);
    free(reg->by_uri.e);
    free(reg->by_node.e);
    free(reg);
}

int schema_registry_map_dir(struct schema_registry *reg, const char *uri_prefix, const char *dir,
                            struct util_error *err)
{
    if (!reg || !uri_prefix || !dir)
        return util_error_set(err, UTIL_ERR_USAGE, "schema_registry_map_dir: missing argument");
    if (!util_dir_exists(dir))
        return util_error_set(err, UTIL_ERR_IO, "%s: not a directory", dir);
    struct sc_dirmap *nd = realloc(reg->dirs, (reg->ndirs + 1) * sizeof(*nd));
    if (!nd)
        return nomem(err);
    reg->dirs = nd;
    char *p = schema_uri_resolve(NULL, uri_prefix);
    char *d = dupstr(dir);
    if (!p || !d) {
        free(p);
        free(d);
        return nomem(err);
    }
    reg->dirs[reg->ndirs].prefix = p;
    reg->dirs[reg->ndirs].dir = d;
    reg->ndirs++;
    return UTIL_OK;
}

struct sc_nodeinfo *schema_reg_info(const struct schema_registry *reg, const cJSON *node)
{
    return map_get(&reg->by_node, node);
}

void schema_reg_location(const struct sc_nodeinfo *info, const char *kw, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s#%s%s%s", info->res->uri, info->ptr, kw ? "/" : "", kw ? kw : "");
}

static struct sc_resource *find_resource(const struct schema_registry *reg, const char *uri)
{
    struct sc_resource *r = map_get(&reg->by_uri, uri);
    if (r && r->doc->broken)
        return NULL;
    return r;
}

/* Creates a resource and registers it under uri (a copy is kept). */
static int res_new(struct schema_registry *reg, const char *uri, const cJSON *node,
                   struct sc_document *doc, enum schema_dialect d, unsigned vocab,
                   struct sc_resource **out, struct util_error *err)
{
    struct sc_resource *old = find_resource(reg, uri);
    if (old && old->node != node)
        return util_error_set(err, UTIL_ERR_INVALID, "two schemas use the URI %s", uri);
    struct sc_resource *r = calloc(1, sizeof(*r));
    if (!r || !(r->uri = dupstr(uri))) {
        free(r);
        return nomem(err);
    }
    r->node = node;
    r->doc = doc;
    r->dialect = d;
    r->vocab = vocab;
    if (vec_push((void ***)&reg->res, &reg->nres, &reg->ares, r)) {
        free(r->uri);
        free(r);
        return nomem(err);
    }
    if (map_put(&reg->by_uri, r->uri, r))
        return nomem(err);
    *out = r;
    return UTIL_OK;
}

static int add_anchor(struct sc_resource *r, const char *name, const cJSON *node, bool dynamic,
                      struct util_error *err)
{
    for (size_t i = 0; i < r->nanchors; i++) {
        if (strcmp(r->anchors[i].name, name) == 0) {
            if (r->anchors[i].node == node) {
                r->anchors[i].dynamic |= dynamic;
                r->has_dynamic |= dynamic;
                return UTIL_OK;
            }
            return util_error_set(err, UTIL_ERR_INVALID, "%s: anchor \"%s\" is defined twice",
                                  r->uri, name);
        }
    }
    if (r->nanchors == r->aanchors) {
        size_t na = r->aanchors ? r->aanchors * 2 : 4;
        struct sc_anchor *nv = realloc(r->anchors, na * sizeof(*nv));
        if (!nv)
            return nomem(err);
        r->anchors = nv;
        r->aanchors = na;
    }
    struct sc_anchor *a = &r->anchors[r->nanchors];
    if (!(a->name = dupstr(name)))
        return nomem(err);
    a->node = node;
    a->dynamic = dynamic;
    a->compiled = NULL;
    r->nanchors++;
    r->has_dynamic |= dynamic;
    return UTIL_OK;
}

static int info_new(struct schema_registry *reg, const cJSON *node, struct sc_resource *res,
                    const char *ptr, struct util_error *err)
{
    struct sc_nodeinfo *in = calloc(1, sizeof(*in));
    if (!in || !(in->ptr = dupstr(ptr))) {
        free(in);
        return nomem(err);
    }
    in->node = node;
    in->res = res;
    if (vec_push((void ***)&reg->infos, &reg->ninfos, &reg->ainfos, in)) {
        free(in->ptr);
        free(in);
        return nomem(err);
    }
    if (map_put(&reg->by_node, node, in))
        return nomem(err);
    return UTIL_OK;
}

static int load_document(struct schema_registry *reg, const char *uri, struct sc_resource **out,
                         struct util_error *err);

/* Dialect and vocabularies named by a $schema URI. Custom metaschemas are
 * loaded to read their $vocabulary; an unknown, unloadable $schema falls
 * back to the registry default. */
static int dialect_of(struct schema_registry *reg, const char *schema_uri, int depth,
                      enum schema_dialect *d, unsigned *vocab, struct util_error *err)
{
    static const struct {
        const char *uri;
        enum schema_dialect d;
    } known[] = {
        {"https://json-schema.org/draft/2020-12/schema", SCHEMA_DIALECT_2020_12},
        {"https://json-schema.org/draft/2019-09/schema", SCHEMA_DIALECT_2020_12},
        {"http://json-schema.org/draft-07/schema", SCHEMA_DIALECT_DRAFT7},
        {"http://json-schema.org/draft-06/schema", SCHEMA_DIALECT_DRAFT7},
        {"http://json-schema.org/draft-04/schema", SCHEMA_DIALECT_DRAFT4},
    };
    static const struct {
        const char *uri;
        unsigned vocab;
    } vocabs[] = {
        {"https://json-schema.org/draft/2020-12/vocab/core", VOC_CORE},
        {"https://json-schema.org/draft/2020-12/vocab/applicator", VOC_APPLICATOR},
        {"https://json-schema.org/draft/2020-12/vocab/unevaluated", VOC_UNEVALUATED},
        {"https://json-schema.org/draft/2020-12/vocab/validation", VOC_VALIDATION},
        {"https://json-schema.org/draft/2020-12/vocab/meta-data", VOC_METADATA},
        {"https://json-schema.org/draft/2020-12/vocab/format-annotation", VOC_FORMAT_ANNOTATION},
        {"https://json-schema.org/draft/2020-12/vocab/format-assertion", VOC_FORMAT_ASSERTION},
        {"https://json-schema.org/draft/2020-12/vocab/content", VOC_CONTENT},
    };
    int rc = UTIL_OK;
    char *norm = schema_uri_resolve(NULL, schema_uri);
    if (!norm)
        return nomem(err);
    *d = reg->opts.default_dialect;
    *vocab = VOC_ALL;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(norm, known[i].uri) == 0) {
            *d = known[i].d;
            goto cleanup;
        }
    }
    if (depth >= SC_MAX_META_DEPTH)
        goto cleanup;
    size_t bl = schema_uri_base_len(norm);
    norm[bl] = '\0';
    struct sc_resource *meta = find_resource(reg, norm);
    if (!meta) {
        struct util_error ignored;
        util_error_clear(&ignored);
        if (load_document(reg, norm, &meta, &ignored) != UTIL_OK)
            goto cleanup;
    }
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(meta->node, "$schema");
    if (cJSON_IsString(ms) && strcmp(ms->valuestring, norm) != 0) {
        unsigned ignored_vocab;
        rc = dialect_of(reg, ms->valuestring, depth + 1, d, &ignored_vocab, err);
        if (rc)
            goto cleanup;
    }
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(meta->node, "$vocabulary");
    if (cJSON_IsObject(vs)) {
        const cJSON *v;
        *vocab = VOC_CORE;
        cJSON_ArrayForEach(v, vs)
        {
            for (size_t i = 0; i < sizeof(vocabs) / sizeof(vocabs[0]); i++)
                if (strcmp(v->string, vocabs[i].uri) == 0)
                    *vocab |= vocabs[i].vocab;
        }
    }
cleanup:
    free(norm);
    return rc;
}

static int ptr_child(struct util_buf *b, const char *ptr, const char *kw, const char *key, long idx)
{
    util_buf_reset(b);
    int rc = util_buf_puts(b, ptr);
    if (!rc)
        rc = json_pointer_append(b, kw);
    if (!rc && key)
        rc = json_pointer_append(b, key);
    if (!rc && idx >= 0)
        rc = json_pointer_append_index(b, (size_t)idx);
    if (!rc && !b->data)
        rc = util_buf_puts(b, "");
    return rc;
}

/* Records node and its subschemas: resources ($id), anchors, and the base
 * URI and pointer of every schema position. */
static int scan(struct schema_registry *reg, struct sc_document *doc, const cJSON *node,
                struct sc_resource *res, const char *ptr, enum schema_dialect d, unsigned vocab,
                int depth, struct util_error *err)
{
    int rc = UTIL_OK;
    struct util_buf cp;
    util_buf_init(&cp, SIZE_MAX / 2);
    if (map_get(&reg->by_node, node))
        goto cleanup;
    if (depth > SC_MAX_SCHEMA_DEPTH) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "%s#%s: schema nested deeper than %d levels",
                            res->uri, ptr, SC_MAX_SCHEMA_DEPTH);
        goto cleanup;
    }
    if (cJSON_IsBool(node)) {
        rc = info_new(reg, node, res, ptr, err);
        goto cleanup;
    }
    if (!cJSON_IsObject(node))
        goto cleanup;
    bool legacy = d != SCHEMA_DIALECT_2020_12;
    const char *idkw = d == SCHEMA_DIALECT_DRAFT4 ? "id" : d == SCHEMA_DIALECT_OAS30 ? NULL : "$id";
    const cJSON *id = idkw ? cJSON_GetObjectItemCaseSensitive(node, idkw) : NULL;
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(node, "$schema");
    bool has_ref = cJSON_GetObjectItemCaseSensitive(node, "$ref") != NULL;
    if (legacy && has_ref)
        id = NULL;
    if (!cJSON_IsString(id))
        id = NULL;
    if (cJSON_IsString(ms) && (node == res->node || id)) {
        rc = dialect_of(reg, ms->valuestring, 0, &d, &vocab, err);
        if (rc)
            goto cleanup;
        legacy = d != SCHEMA_DIALECT_2020_12;
        if (node == res->node) {
            res->dialect = d;
            res->vocab = vocab;
        }
        if (legacy && has_ref)
            id = NULL;
    }
    if (id) {
        const char *v = id->valuestring;
        if (legacy && v[0] == '#') {
            if (v[1] && (rc = add_anchor(res, v + 1, node, false, err)))
                goto cleanup;
        } else {
            char *full = schema_uri_resolve(res->uri, v);
            if (!full) {
                rc = nomem(err);
                goto cleanup;
            }
            size_t bl = schema_uri_base_len(full);
            char *frag = full[bl] ? full + bl + 1 : NULL;
            full[bl] = '\0';
            if (node == res->node) {
                if (strcmp(full, res->uri) != 0) {
                    struct sc_resource *old = find_resource(reg, full);
                    if (old && old->node != node) {
                        rc = util_error_set(err, UTIL_ERR_INVALID, "two schemas use the URI %s",
                                            full);
                        free(full);
                        goto cleanup;
                    }
                    free(res->uri);
                    res->uri = full;
                    full = NULL;
                    rc = map_put(&reg->by_uri, res->uri, res) ? nomem(err) : UTIL_OK;
                }
            } else {
                struct sc_resource *nr = NULL;
                rc = res_new(reg, full, node, doc, d, vocab, &nr, err);
                if (!rc) {
                    res = nr;
                    ptr = "";
                }
            }
            if (!rc && frag && *frag && legacy && frag[0] != '/')
                rc = add_anchor(res, frag, node, false, err);
            free(full);
            if (rc)
                goto cleanup;
        }
    }
    if (!legacy) {
        const cJSON *an = cJSON_GetObjectItemCaseSensitive(node, "$anchor");
        const cJSON *dan = cJSON_GetObjectItemCaseSensitive(node, "$dynamicAnchor");
        if (cJSON_IsString(an) && (rc = add_anchor(res, an->valuestring, node, false, err)))
            goto cleanup;
        if (cJSON_IsString(dan) && (rc = add_anchor(res, dan->valuestring, node, true, err)))
            goto cleanup;
    }
    if ((rc = info_new(reg, node, res, ptr, err)))
        goto cleanup;
    if (legacy && has_ref)
        goto cleanup;
    unsigned bit = dialect_bit(d);
    for (size_t k = 0; k < sizeof(sub_keywords) / sizeof(sub_keywords[0]) && !rc; k++) {
        if (!(sub_keywords[k].dialects & bit))
            continue;
        const char *kw = sub_keywords[k].kw;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, kw);
        const cJSON *c;
        long i = 0;
        if (!v)
            continue;
        switch (sub_keywords[k].kind) {
        case K_ONE_OR_ARRAY:
            if (!cJSON_IsArray(v))
                goto one;
            /* fall through */
        case K_ARRAY:
            cJSON_ArrayForEach(c, v)
            {
                if (ptr_child(&cp, ptr, kw, NULL, i++)) {
                    rc = nomem(err);
                    break;
                }
                if ((rc = scan(reg, doc, c, res, cp.data, d, vocab, depth + 1, err)))
                    break;
            }
            break;
        case K_MAP:
        case K_DEPS:
            cJSON_ArrayForEach(c, v)
            {
                if (sub_keywords[k].kind == K_DEPS && cJSON_IsArray(c))
                    continue;
                if (ptr_child(&cp, ptr, kw, c->string, -1)) {
                    rc = nomem(err);
                    break;
                }
                if ((rc = scan(reg, doc, c, res, cp.data, d, vocab, depth + 1, err)))
                    break;
            }
            break;
        case K_ONE:
        one:
            if (ptr_child(&cp, ptr, kw, NULL, -1)) {
                rc = nomem(err);
                break;
            }
            rc = scan(reg, doc, v, res, cp.data, d, vocab, depth + 1, err);
            break;
        default:
            break;
        }
    }
cleanup:
    util_buf_finish(&cp);
    return rc;
}

/* Takes ownership of root, registers it under uri, scans and compiles it. */
static int add_document(struct schema_registry *reg, const char *uri, cJSON *root,
                        struct sc_nodeinfo **out, struct util_error *err)
{
    int rc;
    struct sc_document *doc = calloc(1, sizeof(*doc));
    if (!doc || !(doc->uri = dupstr(uri))) {
        free(doc);
        cJSON_Delete(root);
        return nomem(err);
    }
    doc->root = root;
    if (vec_push((void ***)&reg->docs, &reg->ndocs, &reg->adocs, doc)) {
        cJSON_Delete(root);
        free(doc->uri);
        free(doc);
        return nomem(err);
    }
    struct sc_resource *res = NULL;
    enum schema_dialect d = reg->opts.default_dialect;
    if ((rc = res_new(reg, uri, root, doc, d, VOC_ALL, &res, err)))
        return rc;
    if (map_put(&reg->by_uri, doc->uri, res))
        return nomem(err);
    if ((rc = scan(reg, doc, root, res, "", d, VOC_ALL, 0, err)))
        return rc;
    struct sc_nodeinfo *info = schema_reg_info(reg, root);
    if (!info)
        return util_error_set(err, UTIL_ERR_INVALID,
                              "%s: a schema must be a JSON object or a boolean", uri);
    if (!info->compiled && (rc = schema_compile_node(reg, info, 0, err)))
        return rc;
    if (out)
        *out = info;
    return UTIL_OK;
}

static bool has_dotdot(const char *path)
{
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

/* Retrieves the document for an absolute URI without fragment from the
 * embedded metaschemas, a mapped directory or a file:// path. */
static int load_document(struct schema_registry *reg, const char *uri, struct sc_resource **out,
                         struct util_error *err)
{
    int rc = UTIL_OK;
    cJSON *root = NULL;
    char *path = NULL, *rel = NULL, *text = NULL;
    struct sc_nodeinfo *info = NULL;
    text = schema_metaschema_text(uri);
    if (text) {
        rc = json_parse(text, strlen(text), uri, &root, err);
        if (rc)
            goto cleanup;
    }
    for (size_t i = 0; !root && i < reg->ndirs; i++) {
        size_t pl = strlen(reg->dirs[i].prefix);
        if (strncmp(uri, reg->dirs[i].prefix, pl) != 0)
            continue;
        const char *rest = uri + pl;
        size_t rl = strcspn(rest, "?");
        free(rel);
        rel = schema_uri_decode(rest, rl);
        if (!rel) {
            rc = nomem(err);
            goto cleanup;
        }
        if (has_dotdot(rel))
            continue;
        free(path);
        path = util_path_join(reg->dirs[i].dir, rel);
        if (!path) {
            rc = nomem(err);
            goto cleanup;
        }
        if (!util_file_exists(path))
            continue;
        rc = json_load_file(path, UTIL_CAP_SCHEMA_FILE, &root, err);
        if (rc)
            goto cleanup;
    }
    if (!root && strncmp(uri, "file://", 7) == 0) {
        const char *p = uri + 7;
        if (strncmp(p, "localhost/", 10) == 0)
            p += 9;
        if (*p == '/') {
            free(path);
            path = schema_uri_decode(p, strcspn(p, "?"));
            if (!path) {
                rc = nomem(err);
                goto cleanup;
            }
            rc = json_load_file(path, UTIL_CAP_SCHEMA_FILE, &root, err);
            if (rc)
                goto cleanup;
        }
    }
    if (!root) {
        rc = util_error_set(err, UTIL_ERR_NOTFOUND, "no schema document is known for %s", uri);
        goto cleanup;
    }
    reg->docs_loaded++;
    rc = add_document(reg, uri, root, &info, err);
    root = NULL;
    if (rc)
        goto cleanup;
    *out = find_resource(reg, uri);
    if (!*out)
        *out = info->res;
cleanup:
    cJSON_Delete(root);
    free(text);
    free(path);
    free(rel);
    return rc;
}

/* Walks a JSON Pointer fragment (URI-encoded) from the resource root;
 * *near receives the deepest scanned node on the way. */
static const cJSON *walk_pointer(const struct schema_registry *reg, const cJSON *root,
                                 const char *frag, struct sc_nodeinfo **near, bool *oom)
{
    char *dec = schema_uri_decode(frag, strlen(frag));
    const cJSON *cur = root;
    *near = schema_reg_info(reg, root);
    if (!dec) {
        *oom = true;
        return NULL;
    }
    char *p = dec;
    while (cur && *p == '/') {
        p++;
        char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *tok = p;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[k++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                tok[k++] = p[i];
            }
        }
        char save = p[n];
        tok[k] = '\0';
        if (cJSON_IsObject(cur)) {
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        } else if (cJSON_IsArray(cur)) {
            char *endp = NULL;
            unsigned long idx = strtoul(tok, &endp, 10);
            if (!*tok || *endp || (tok[0] == '0' && tok[1]) || idx > INT_MAX)
                cur = NULL;
            else
                cur = cJSON_GetArrayItem(cur, (int)idx);
        } else {
            cur = NULL;
        }
        if (cur) {
            struct sc_nodeinfo *in = schema_reg_info(reg, cur);
            if (in)
                *near = in;
        }
        if (!save)
            break;
        p[n] = save;
        p += n;
    }
    free(dec);
    return cur;
}

/* Resolves an absolute URI (with optional fragment) to a scanned node,
 * loading documents as needed. *anchor receives the anchor used, if any. */
static int resolve_uri(struct schema_registry *reg, const char *uri, struct sc_nodeinfo **out,
                       const struct sc_anchor **anchor, struct util_error *err)
{
    int rc = UTIL_OK;
    size_t bl = schema_uri_base_len(uri);
    char *base = dupn(uri, bl);
    char *name = NULL;
    const char *frag = uri[bl] == '#' ? uri + bl + 1 : "";
    const cJSON *node = NULL;
    struct sc_nodeinfo *info = NULL;
    if (anchor)
        *anchor = NULL;
    if (!base)
        return nomem(err);
    struct sc_resource *res = find_resource(reg, base);
    if (!res && (rc = load_document(reg, base, &res, err)))
        goto cleanup;
    if (!*frag) {
        node = res->node;
        info = schema_reg_info(reg, node);
    } else if (frag[0] == '/') {
        bool oom = false;
        struct sc_nodeinfo *near = NULL;
        node = walk_pointer(reg, res->node, frag, &near, &oom);
        if (oom) {
            rc = nomem(err);
            goto cleanup;
        }
        if (!node) {
            rc = util_error_set(err, UTIL_ERR_NOTFOUND, "%s has no value at the pointer #%s", base,
                                frag);
            goto cleanup;
        }
        info = schema_reg_info(reg, node);
        if (!info && near) {
            name = schema_uri_decode(frag, strlen(frag));
            if (!name) {
                rc = nomem(err);
                goto cleanup;
            }
            rc = scan(reg, near->res->doc, node, near->res, name, near->res->dialect,
                      near->res->vocab, 0, err);
            if (rc)
                goto cleanup;
            info = schema_reg_info(reg, node);
        }
    } else {
        name = schema_uri_decode(frag, strlen(frag));
        if (!name) {
            rc = nomem(err);
            goto cleanup;
        }
        for (size_t i = 0; i < res->nanchors; i++) {
            if (strcmp(res->anchors[i].name, name) == 0) {
                node = res->anchors[i].node;
                if (anchor)
                    *anchor = &res->anchors[i];
                break;
            }
        }
        if (!node) {
            rc = util_error_set(err, UTIL_ERR_NOTFOUND, "%s has no anchor \"%s\"", base, name);
            goto cleanup;
        }
        info = schema_reg_info(reg, node);
    }
    if (!info) {
        rc = util_error_set(err, UTIL_ERR_INVALID, "%s does not point to a schema", uri);
        goto cleanup;
    }
    *out = info;
cleanup:
    free(base);
    free(name);
    return rc;
}

int schema_reg_defer(struct schema_registry *reg, struct schema *s, const char *ref, bool dynamic,
                     struct util_error *err)
{
    if (reg->npending == reg->apending) {
        size_t na = reg->apending ? reg->apending * 2 : 16;
        struct sc_pending *np = realloc(reg->pending, na * sizeof(*np));
        if (!np)
            return nomem(err);
        reg->pending = np;
        reg->apending = na;
    }
    char *uri = schema_uri_resolve(s->info->res->uri, ref);
    if (!uri)
        return nomem(err);
    struct sc_pending *p = &reg->pending[reg->npending++];
    p->s = s;
    p->uri = uri;
    p->text = ref;
    p->dynamic = dynamic;
    return UTIL_OK;
}

/* Resolves every deferred reference, compiling targets (and documents
 * they load) until nothing is left, then compiles anchor targets. */
static int finish_pending(struct schema_registry *reg, struct util_error *err)
{
    int rc = UTIL_OK;
    for (;;) {
        while (reg->npending > 0) {
            struct sc_pending p = reg->pending[--reg->npending];
            struct sc_nodeinfo *info = NULL;
            const struct sc_anchor *anchor = NULL;
            rc = resolve_uri(reg, p.uri, &info, &anchor, err);
            if (!rc && !info->compiled)
                rc = schema_compile_node(reg, info, 0, err);
            if (rc) {
                char where[1024];
                schema_reg_location(p.s->info, p.dynamic ? "$dynamicRef" : "$ref", where,
                                    sizeof(where));
                if (rc != UTIL_ERR_NOMEM)
                    util_error_prefix(err, "%s: cannot resolve reference \"%s\"", where, p.text);
                free(p.uri);
                return rc;
            }
            reg->refs_resolved++;
            if (p.dynamic) {
                p.s->dynref = info->compiled;
                if (anchor && anchor->dynamic && !p.s->dyn_anchor) {
                    p.s->dyn_anchor = dupstr(anchor->name);
                    if (!p.s->dyn_anchor) {
                        free(p.uri);
                        return nomem(err);
                    }
                }
            } else {
                p.s->ref = info->compiled;
            }
            free(p.uri);
        }
        bool more = false;
        for (size_t i = 0; i < reg->nres && !rc; i++) {
            struct sc_resource *r = reg->res[i];
            for (size_t k = 0; k < r->nanchors && !rc; k++) {
                struct sc_anchor *a = &r->anchors[k];
                if (a->compiled)
                    continue;
                struct sc_nodeinfo *in = schema_reg_info(reg, a->node);
                if (!in)
                    continue;
                if (!in->compiled) {
                    rc = schema_compile_node(reg, in, 0, err);
                    more = true;
                }
                a->compiled = in->compiled;
            }
        }
        if (rc)
            return rc;
        if (!more && reg->npending == 0)
            return UTIL_OK;
    }
}

/* Marks documents added since first_doc as broken after a failed call. */
static void rollback(struct schema_registry *reg, size_t first_doc)
{
    for (size_t i = first_doc; i < reg->ndocs; i++)
        reg->docs[i]->broken = true;
    for (size_t i = 0; i < reg->npending; i++)
        free(reg->pending[i].uri);
    reg->npending = 0;
}

/* Resolves the pending references, then checks the cycles of and links
 * the schemas compiled since first_schema. */
static int settle(struct schema_registry *reg, size_t first_schema, struct util_error *err)
{
    int rc = finish_pending(reg, err);
    if (!rc)
        rc = schema_check_cycles(reg, first_schema, err);
    if (!rc)
        rc = schema_link(reg, err);
    return rc;
}

/* Adds docs[0..n) under base_uris and resolves, checks and links them
 * together; *first (may be NULL) receives the first one's node. On error,
 * the documents added are marked broken. */
static int add_docs(struct schema_registry *reg, size_t n, const char *const *base_uris,
                    const cJSON *const *docs, struct sc_nodeinfo **first, struct util_error *err)
{
    int rc = UTIL_OK;
    char *uri = NULL;
    size_t first_doc = reg->ndocs, first_schema = reg->nschemas;
    for (size_t i = 0; i < n && !rc; i++) {
        struct sc_nodeinfo *info = NULL;
        uri = schema_uri_resolve(NULL, base_uris[i]);
        if (!uri) {
            rc = nomem(err);
            break;
        }
        uri[schema_uri_base_len(uri)] = '\0';
        if (find_resource(reg, uri)) {
            rc = util_error_set(err, UTIL_ERR_INVALID, "a schema with URI %s is already registered",
                                uri);
            break;
        }
        cJSON *copy = cJSON_Duplicate(docs[i], true);
        rc = copy ? add_document(reg, uri, copy, &info, err) : nomem(err);
        if (!rc && i == 0 && first)
            *first = info;
        free(uri);
        uri = NULL;
    }
    if (!rc)
        rc = settle(reg, first_schema, err);
    if (rc)
        rollback(reg, first_doc);
    free(uri);
    return rc;
}

int schema_registry_add(struct schema_registry *reg, const char *base_uri, const cJSON *doc,
                        struct schema **out, struct util_error *err)
{
    char anon[64];
    struct sc_nodeinfo *info = NULL;
    if (out)
        *out = NULL;
    if (!reg || !doc)
        return util_error_set(err, UTIL_ERR_USAGE, "schema_registry_add: missing argument");
    if (!base_uri || !*base_uri) {
        snprintf(anon, sizeof(anon), "urn:ingestcheck:schema:%u", ++reg->anon_counter);
        base_uri = anon;
    }
    int rc = add_docs(reg, 1, &base_uri, &doc, &info, err);
    if (!rc && out)
        *out = info->compiled;
    return rc;
}

int schema_registry_add_all(struct schema_registry *reg, size_t n, const char *const *base_uris,
                            const cJSON *const *docs, struct util_error *err)
{
    if (!reg || (n && (!base_uris || !docs)))
        return util_error_set(err, UTIL_ERR_USAGE, "schema_registry_add_all: missing argument");
    return add_docs(reg, n, base_uris, docs, NULL, err);
}

int schema_registry_add_file(struct schema_registry *reg, const char *path, struct schema **out,
                             struct util_error *err)
{
    int rc;
    cJSON *doc = NULL;
    char *abs = NULL;
    struct util_buf uri;
    util_buf_init(&uri, UTIL_CAP_MESSAGE);
    if (out)
        *out = NULL;
    if (!reg || !path)
        return util_error_set(err, UTIL_ERR_USAGE, "schema_registry_add_file: missing argument");
    rc = json_load_file(path, UTIL_CAP_SCHEMA_FILE, &doc, err);
    if (rc)
        goto cleanup;
    abs = realpath(path, NULL);
    if (!abs) {
        rc = util_error_set(err, UTIL_ERR_IO, "%s: cannot resolve the path", path);
        goto cleanup;
    }
    rc = util_buf_puts(&uri, "file://");
    for (const char *p = abs; !rc && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || c == '%' || c == '#' || c == '?')
            rc = util_buf_printf(&uri, "%%%02X", c);
        else
            rc = util_buf_putc(&uri, (char)c);
    }
    if (rc) {
        rc = nomem(err);
        goto cleanup;
    }
    struct sc_resource *have = find_resource(reg, uri.data);
    if (have) {
        rc = schema_registry_lookup(reg, uri.data, out, err);
        goto cleanup;
    }
    rc = schema_registry_add(reg, uri.data, doc, out, err);
cleanup:
    cJSON_Delete(doc);
    free(abs);
    util_buf_finish(&uri);
    return rc;
}

int schema_registry_lookup(struct schema_registry *reg, const char *uri, struct schema **out,
                           struct util_error *err)
{
    int rc;
    struct sc_nodeinfo *info = NULL;
    size_t first_doc, first_schema;
    char *full = NULL;
    if (out)
        *out = NULL;
    if (!reg || !uri)
        return util_error_set(err, UTIL_ERR_USAGE, "schema_registry_lookup: missing argument");
    first_doc = reg->ndocs;
    first_schema = reg->nschemas;
    full = schema_uri_resolve(NULL, uri);
    if (!full)
        return nomem(err);
    rc = resolve_uri(reg, full, &info, NULL, err);
    if (!rc && !info->compiled)
        rc = schema_compile_node(reg, info, 0, err);
    if (!rc)
        rc = settle(reg, first_schema, err);
    if (rc) {
        if (rc != UTIL_ERR_NOMEM)
            util_error_prefix(err, "%s", uri);
        rollback(reg, first_doc);
        goto cleanup;
    }
    if (out)
        *out = info->compiled;
cleanup:
    free(full);
    return rc;
}

void schema_registry_stats(const struct schema_registry *reg, struct schema_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!reg)
        return;
    out->documents = reg->ndocs;
    out->documents_loaded = reg->docs_loaded;
    out->schemas_compiled = reg->nschemas;
    out->refs_resolved = reg->refs_resolved;
}
