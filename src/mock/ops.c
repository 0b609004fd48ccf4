/* The operations of schemas/operations.json as the mock serves them:
 * routes from the path templates, parameters with their declared types,
 * and compiled request schemas. */
#include "mock/internal.h"

#include "openapi/source.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static const cJSON *component(struct mock_components *c, const char *name)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->items[i].name, name) == 0)
            return c->items[i].doc;
    if (strchr(name, '/') || strstr(name, ".."))
        return NULL;
    char *path = util_path_join("components", name);
    cJSON *doc = NULL;
    struct util_error err;
    util_error_clear(&err);
    int rc = path ? openapi_source_read_json(c->source, path, &doc, &err) : UTIL_ERR_NOMEM;
    free(path);
    if (rc)
        return NULL;
    if (c->count == c->alloc) {
        size_t n = c->alloc ? c->alloc * 2 : 32;
        struct mock_component *p = realloc(c->items, n * sizeof(*p));
        if (!p) {
            cJSON_Delete(doc);
            return NULL;
        }
        c->items = p;
        c->alloc = n;
    }
    char *nm = dup_str(name);
    if (!nm) {
        cJSON_Delete(doc);
        return NULL;
    }
    c->items[c->count].name = nm;
    c->items[c->count].doc = doc;
    c->count++;
    return doc;
}

const cJSON *mock_resolve(struct mock_components *c, const cJSON *node)
{
    for (int hops = 0; node && hops < 32; hops++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
        if (!cJSON_IsString(ref))
            return node;
        const char *slash = strrchr(ref->valuestring, '/');
        const char *name = slash ? slash + 1 : ref->valuestring;
        if (strchr(name, '#'))
            return NULL;
        node = component(c, name);
    }
    return NULL;
}

static unsigned type_bit(const char *t)
{
    static const struct {
        const char *name;
        unsigned bit;
    } map[] = {{"null", JT_NULL},     {"boolean", JT_BOOLEAN}, {"integer", JT_INTEGER},
               {"number", JT_NUMBER}, {"string", JT_STRING},   {"array", JT_ARRAY},
               {"object", JT_OBJECT}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, t) == 0)
            return map[i].bit;
    return 0;
}

/* JSON types a schema admits, from type, enum and its oneOf/anyOf branches. */
static unsigned types_of(struct mock_components *c, const cJSON *node, int depth)
{
    node = mock_resolve(c, node);
    if (!node || depth > 16)
        return 0;
    unsigned mask = 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(node, "type");
    if (cJSON_IsString(t)) {
        mask |= type_bit(t->valuestring);
    } else if (cJSON_IsArray(t)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, t)
        {
            if (cJSON_IsString(it))
                mask |= type_bit(it->valuestring);
        }
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(node, "enum");
    if (!mask && cJSON_IsArray(e)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, e)
        {
            mask |= cJSON_IsString(it)   ? JT_STRING
                    : cJSON_IsNumber(it) ? JT_NUMBER
                    : cJSON_IsBool(it)   ? JT_BOOLEAN
                    : cJSON_IsNull(it)   ? JT_NULL
                                         : 0;
        }
    }
    static const char *const unions[] = {"oneOf", "anyOf", "allOf"};
    for (size_t u = 0; u < 3; u++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(node, unions[u]);
        const cJSON *it;
        cJSON_ArrayForEach(it, arr)
        {
            mask |= types_of(c, it, depth + 1);
        }
    }
    return mask;
}

static int split_template(struct mock_op *op, struct util_error *err)
{
    const char *p = op->path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (op->nsegs >= MOCK_CAP_PATH_SEGMENTS)
            return util_error_set(err, UTIL_ERR_LIMIT, "%s: path template too deep", op->path);
        char *seg = malloc(n + 1);
        if (!seg)
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        memcpy(seg, p, n);
        seg[n] = '\0';
        op->segs[op->nsegs++] = seg;
        if (seg[0] != '{')
            op->nliteral++;
        p += n;
    }
    return UTIL_OK;
}

int mock_ops_lookup(struct mock_api *api, const char *fragment, struct schema **out,
                    struct util_error *err)
{
    struct util_buf b;
    util_buf_init(&b, PATH_MAX + 256);
    int rc = util_buf_printf(&b, "%s#%s", api->ops_uri, fragment);
    if (!rc)
        rc = schema_registry_lookup(api->reg, b.data, out, err);
    else
        util_error_set(err, rc, "out of memory");
    util_buf_finish(&b);
    return rc;
}

static int load_param(struct mock_api *api, struct mock_op *op, size_t j, const cJSON *p,
                      struct util_error *err)
{
    struct mock_param *mp = &op->params[j];
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(p, "in");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(p, "schema");
    if (!cJSON_IsString(name) || !cJSON_IsString(in) || !cJSON_IsObject(schema))
        return util_error_set(err, UTIL_ERR_INVALID, "%s: parameter %zu is incomplete", op->id, j);
    mp->name = name->valuestring;
    mp->in = strcmp(in->valuestring, "path") == 0    ? PARAM_PATH
             : strcmp(in->valuestring, "query") == 0 ? PARAM_QUERY
                                                     : PARAM_OTHER;
    mp->required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "required"));
    const cJSON *explode = cJSON_GetObjectItemCaseSensitive(p, "explode");
    mp->explode = explode ? cJSON_IsTrue(explode) : true;
    mp->both_forms = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "acceptBothForms"));
    mp->types = types_of(&api->comps, schema, 0);
    const cJSON *resolved = mock_resolve(&api->comps, schema);
    if (mp->types & JT_ARRAY)
        mp->item_types =
            types_of(&api->comps, cJSON_GetObjectItemCaseSensitive(resolved, "items"), 0);
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(resolved, "minimum");
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(resolved, "maximum");
    if (cJSON_IsNumber(mn)) {
        mp->has_min = true;
        mp->min = mn->valuedouble;
    }
    if (cJSON_IsNumber(mx)) {
        mp->has_max = true;
        mp->max = mx->valuedouble;
    }
    char frag[128];
    snprintf(frag, sizeof(frag), "/operations/%zu/parameters/%zu/schema", op->index, j);
    return mock_ops_lookup(api, frag, &mp->schema, err);
}

static int load_op(struct mock_api *api, size_t i, const cJSON *o, struct util_error *err)
{
    struct mock_op *op = &api->ops[i];
    op->index = i;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "operationId");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(o, "method");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path");
    if (!cJSON_IsString(id) || !cJSON_IsString(method) || !cJSON_IsString(path))
        return util_error_set(err, UTIL_ERR_INVALID, "operation %zu is incomplete", i);
    op->id = id->valuestring;
    op->method = method->valuestring;
    op->path = path->valuestring;
    int rc = split_template(op, err);
    if (rc)
        return rc;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "parameters");
    size_t n = (size_t)cJSON_GetArraySize(params);
    if (n) {
        op->params = calloc(n, sizeof(*op->params));
        if (!op->params)
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    op->nparams = n;
    size_t j = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, params)
    {
        if ((rc = load_param(api, op, j++, p, err)))
            return rc;
    }
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(o, "requestBody");
    if (cJSON_IsObject(body)) {
        op->has_body = true;
        op->body_required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "required"));
        char frag[96];
        snprintf(frag, sizeof(frag), "/operations/%zu/requestBody/schema", i);
        if ((rc = mock_ops_lookup(api, frag, &op->body_schema, err)))
            return rc;
    }
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "responses"), "200"),
        "schema");
    op->resp_raw = ok;
    return UTIL_OK;
}

int mock_ops_load(struct mock_api *api, const struct openapi_source *source,
                  const char *schemas_dir, struct util_error *err)
{
    int rc;
    if (!source) {
        char abs[PATH_MAX];
        if (!schemas_dir || !realpath(schemas_dir, abs))
            return util_error_set(err, UTIL_ERR_IO, "%s: no such schemas directory",
                                  schemas_dir ? schemas_dir : "(null)");
        if ((rc = openapi_source_open_dir(abs, &api->own_source, err)))
            return rc;
        source = api->own_source;
    }
    api->comps.source = source;
    if (!(api->ops_path = strdup(openapi_source_operations_name(source))) ||
        !(api->ops_doc = cJSON_Duplicate(openapi_source_operations(source), true)))
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    struct schema_options so = {.default_dialect = SCHEMA_DIALECT_2020_12, .check_formats = false};
    api->reg = schema_registry_create(&so);
    if (!api->reg)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    if ((rc = openapi_source_register(source, api->reg, &api->ops_uri, err)))
        return rc;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(api->ops_doc, "operations");
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return util_error_set(err, UTIL_ERR_INVALID, "%s: no operations", api->ops_path);
    api->nops = (size_t)cJSON_GetArraySize(list);
    api->ops = calloc(api->nops, sizeof(*api->ops));
    if (!api->ops)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    size_t i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, list)
    {
        if ((rc = load_op(api, i++, o, err))) {
            util_error_prefix(err, "%s: ", api->ops_path);
            return rc;
        }
    }
    return UTIL_OK;
}

void mock_ops_free(struct mock_api *api)
{
    for (size_t i = 0; i < api->nops; i++) {
        for (size_t s = 0; s < api->ops[i].nsegs; s++)
            free(api->ops[i].segs[s]);
        free(api->ops[i].params);
    }
    free(api->ops);
    api->ops = NULL;
    api->nops = 0;
    for (size_t i = 0; i < api->comps.count; i++) {
        free(api->comps.items[i].name);
        cJSON_Delete(api->comps.items[i].doc);
    }
    free(api->comps.items);
    memset(&api->comps, 0, sizeof(api->comps));
    schema_registry_destroy(api->reg);
    api->reg = NULL;
    cJSON_Delete(api->ops_doc);
    api->ops_doc = NULL;
    free(api->ops_path);
    api->ops_path = NULL;
    free(api->ops_uri);
    api->ops_uri = NULL;
    openapi_source_destroy(api->own_source);
    api->own_source = NULL;
}

/* Whether the catch-all op takes the path of segs: its literal prefix
 * starts the first segment. */
static bool catch_all_takes(const struct mock_op *op, char **segs, size_t nsegs)
{
    return nsegs > 0 && strncmp(segs[0], op->segs[0], op->prefix_len) == 0;
}

const struct mock_op *mock_ops_match(const struct mock_api *api, const char *method, char **segs,
                                     size_t nsegs, const char **values, bool *path_known)
{
    const struct mock_op *best = NULL, *any = NULL;
    *path_known = false;
    bool head = strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < api->nops; i++) {
        const struct mock_op *op = &api->ops[i];
        bool same_method =
            strcmp(op->method, method) == 0 || (head && strcmp(op->method, "GET") == 0);
        if (op->catch_all) {
            if (same_method && !any && catch_all_takes(op, segs, nsegs))
                any = op;
            continue;
        }
        if (op->nsegs != nsegs)
            continue;
        bool ok = true;
        for (size_t s = 0; s < nsegs && ok; s++)
            if (op->segs[s][0] != '{' && strcmp(op->segs[s], segs[s]) != 0)
                ok = false;
        if (!ok)
            continue;
        if (!same_method) {
            *path_known = true;
            continue;
        }
        if (!best || op->nliteral > best->nliteral)
            best = op;
    }
    if (best) {
        size_t v = 0;
        for (size_t s = 0; s < nsegs; s++)
            if (best->segs[s][0] == '{')
                values[v++] = segs[s];
        return best;
    }
    /* A catch-all answers what no specific template takes with this method. */
    if (any)
        *path_known = false;
    return any;
}
