/* The coverage context: the skeleton of countable items derived from the
 * spec (operations, statuses, parameters, enum values, union branches,
 * response properties), each with its YAML line and counter index, and
 * the compiled schema of every union branch. */
#include "coverage/internal.h"

#include "openapi/source.h"

#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Base URI of the spec's own schemas (inline union branches), read in the
 * OpenAPI 3.0 dialect. */
#define SPEC_DOC_URI "urn:ingestcheck:coverage:openapi"

const char *cov_where_name(enum cov_where w)
{
    static const char *const names[] = {"path", "query", "header", "cookie", "body"};
    return (unsigned)w < sizeof(names) / sizeof(names[0]) ? names[w] : "?";
}

/* What a walk over a schema collects. */
enum walk_mode {
    WALK_PARAM,    /* enum values of one parameter (items and unions followed) */
    WALK_BODY,     /* enum fields and unions of a request body, by body path */
    WALK_RESPONSE, /* property paths of a response */
};

/* Walk state over one operation's parameter, request body or response. */
struct walk {
    struct coverage_context *ctx;
    struct cov_op *op;
    enum walk_mode mode;
    const struct openapi_parameter *param; /* WALK_PARAM */
    struct cov_status *status;             /* WALK_RESPONSE */
    const char *stack[COVERAGE_CAP_DEPTH]; /* $ref targets being walked */
    size_t depth;
    bool spec_doc_added;
    struct util_error *err;
};

static char *child_pointer(const char *base, const char *token)
{
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    if (util_buf_puts(&b, base) || json_pointer_append(&b, token)) {
        util_buf_finish(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

static char *child_index(const char *base, size_t i)
{
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    if (util_buf_puts(&b, base) || json_pointer_append_index(&b, i)) {
        util_buf_finish(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

/* Follows local $ref chains from node; *ptr (heap, replaced) becomes the
 * target's pointer. NULL when a reference does not resolve. */
static const cJSON *resolve(const struct coverage_context *ctx, const cJSON *node, char **ptr)
{
    for (int hops = 0; node && hops < 32; hops++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
        if (!cJSON_IsString(ref))
            return node;
        if (ref->valuestring[0] != '#')
            return NULL;
        char *p = strdup(ref->valuestring + 1);
        if (!p)
            return NULL;
        free(*ptr);
        *ptr = p;
        node = json_pointer_get(openapi_document(ctx->spec), p, true);
    }
    return NULL;
}

static const char *component_name(const cJSON *node)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
    static const char prefix[] = "#/components/schemas/";
    if (!cJSON_IsString(ref) || strncmp(ref->valuestring, prefix, sizeof(prefix) - 1) != 0)
        return NULL;
    const char *name = ref->valuestring + sizeof(prefix) - 1;
    return *name && !strchr(name, '/') ? name : NULL;
}

static int line_of(const struct coverage_context *ctx, const char *ptr)
{
    return openapi_line_of(ctx->spec, ptr);
}

/* ---- enums ---- */

static struct cov_enum *enum_find_or_add(struct cov_op *o, enum cov_where where, const char *name,
                                         bool split)
{
    for (size_t i = 0; i < o->nenums; i++)
        if (o->enums[i].where == where && strcmp(o->enums[i].name, name) == 0)
            return &o->enums[i];
    if (o->nenums == o->enums_alloc) {
        size_t na = o->enums_alloc ? o->enums_alloc * 2 : 4;
        struct cov_enum *e = realloc(o->enums, na * sizeof(*e));
        if (!e)
            return NULL;
        o->enums = e;
        o->enums_alloc = na;
    }
    struct cov_enum *e = &o->enums[o->nenums];
    memset(e, 0, sizeof(*e));
    if (!(e->name = strdup(name)))
        return NULL;
    e->where = where;
    e->split = split;
    o->nenums++;
    return e;
}

/* Adds the values of enum (the "enum" array at ptr/enum) to e, once each. */
static int enum_add_values(struct coverage_context *ctx, struct cov_enum *e, const cJSON *values,
                           const char *ptr)
{
    char *eptr = child_pointer(ptr, "enum");
    if (!eptr)
        return UTIL_ERR_NOMEM;
    int rc = UTIL_OK;
    size_t i = 0;
    for (const cJSON *v = values->child; v && !rc; v = v->next, i++) {
        bool is_string = cJSON_IsString(v);
        char *text = is_string ? strdup(v->valuestring) : json_print(v, false);
        if (!text) {
            rc = UTIL_ERR_NOMEM;
            break;
        }
        bool dup = false;
        for (size_t k = 0; k < e->n && !dup; k++)
            dup = e->values[k].is_string == is_string && strcmp(e->values[k].value, text) == 0;
        if (dup) {
            free(text);
            continue;
        }
        if (e->n == e->alloc) {
            size_t na = e->alloc ? e->alloc * 2 : 8;
            struct cov_value *nv = realloc(e->values, na * sizeof(*nv));
            if (!nv) {
                free(text);
                rc = UTIL_ERR_NOMEM;
                break;
            }
            e->values = nv;
            e->alloc = na;
        }
        char *vptr = child_index(eptr, i);
        e->values[e->n] = (struct cov_value){
            .value = text,
            .is_string = is_string,
            .line = vptr ? line_of(ctx, vptr) : 0,
            .c = ctx->ncounters++,
        };
        e->n++;
        free(vptr);
    }
    free(eptr);
    return rc;
}

/* ---- unions ---- */

/* The selector of the union at site ("#/components/schemas/X/properties/p"
 * in defects.json's selectedBy), or NULL. */
static const cJSON *find_selector(const struct coverage_context *ctx, const char *site)
{
    const cJSON *defects = cJSON_GetObjectItemCaseSensitive(ctx->defects, "defects");
    const cJSON *d;
    if (!site)
        return NULL;
    cJSON_ArrayForEach(d, defects)
    {
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(d, "resolution");
        const cJSON *sel = cJSON_GetObjectItemCaseSensitive(res, "selectedBy"), *s;
        cJSON_ArrayForEach(s, sel)
        {
            const cJSON *loc = cJSON_GetObjectItemCaseSensitive(s, "location");
            if (cJSON_IsString(loc) && loc->valuestring[0] == '#' &&
                strcmp(loc->valuestring + 1, site) == 0)
                return s;
        }
    }
    return NULL;
}

/* Registers the spec's component schemas (OpenAPI 3.0 dialect) once, for
 * inline branches. */
static int add_spec_doc(struct walk *w)
{
    if (w->spec_doc_added)
        return UTIL_OK;
    const cJSON *doc = openapi_document(w->ctx->spec);
    const cJSON *schemas = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "components"), "schemas");
    cJSON *wrapper = cJSON_CreateObject();
    cJSON *comps = cJSON_AddObjectToObject(wrapper, "components");
    cJSON *copy = schemas ? cJSON_Duplicate(schemas, true) : cJSON_CreateObject();
    int rc = UTIL_ERR_NOMEM;
    if (comps && copy && cJSON_AddItemToObject(comps, "schemas", copy)) {
        copy = NULL;
        rc = schema_registry_add(w->ctx->reg, SPEC_DOC_URI, wrapper, NULL, w->err);
    }
    cJSON_Delete(copy);
    cJSON_Delete(wrapper);
    if (!rc)
        w->spec_doc_added = true;
    return rc;
}

/* The branch's label: its component name, else its title, else "enum" or
 * its type(s), else "#i". */
static char *branch_label(const cJSON *b, size_t i)
{
    const char *name = component_name(b);
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(b, "title");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(b, "type");
    if (name)
        return strdup(name);
    if (cJSON_IsString(title))
        return strdup(title->valuestring);
    if (cJSON_GetObjectItemCaseSensitive(b, "enum"))
        return strdup("enum");
    if (cJSON_IsString(type))
        return strdup(type->valuestring);
    char buf[32];
    snprintf(buf, sizeof(buf), "#%zu", i);
    return strdup(buf);
}

static int compile_branch(struct walk *w, struct cov_branch *br, const cJSON *b)
{
    struct util_buf uri;
    int rc;
    struct schema *s = NULL;
    const char *name = component_name(b);
    util_buf_init(&uri, UTIL_CAP_MESSAGE);
    if (name)
        rc = util_buf_printf(&uri, "%scomponents/%s.json", w->ctx->schema_uri, name);
    else if (!(rc = add_spec_doc(w)))
        rc = util_buf_printf(&uri, "%s#%s", SPEC_DOC_URI, br->pointer);
    if (!rc)
        rc = schema_registry_lookup(w->ctx->reg, uri.data, &s, w->err);
    if (rc && rc != UTIL_ERR_NOMEM)
        util_error_prefix(w->err, "union branch %s: ", br->pointer);
    br->schema = s;
    util_buf_finish(&uri);
    return rc;
}

static int walk_schema(struct walk *w, const cJSON *node, const char *ptr, const char *site,
                       const char *path);

/* Walks each schema of the array node[keyword] (at pointer at) at path. */
static int walk_each(struct walk *w, const cJSON *node, const char *at, const char *keyword,
                     const char *site, const char *path)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(node, keyword);
    if (!cJSON_IsArray(arr))
        return UTIL_OK;
    char *kp = child_pointer(at, keyword);
    int rc = kp ? UTIL_OK : UTIL_ERR_NOMEM;
    size_t i = 0;
    for (const cJSON *b = arr->child; b && !rc; b = b->next, i++) {
        char *bp = child_index(kp, i);
        rc = bp ? walk_schema(w, b, bp, site, path) : UTIL_ERR_NOMEM;
        free(bp);
    }
    free(kp);
    return rc;
}

/* Walks the schema node[keyword] at path + "/" + token (path itself when
 * token is NULL). */
static int walk_child(struct walk *w, const cJSON *node, const char *at, const char *keyword,
                      const char *token, const char *path)
{
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(node, keyword);
    if (!cJSON_IsObject(sub))
        return UTIL_OK;
    char *cp = child_pointer(at, keyword);
    char *sp = token ? child_pointer(path, token) : strdup(path);
    int rc = cp && sp ? walk_schema(w, sub, cp, NULL, sp) : UTIL_ERR_NOMEM;
    free(cp);
    free(sp);
    return rc;
}

/* Adds a union site of a request body (node[keyword] at pointer at), with
 * the compiled schema of each branch, then walks the branches. */
static int add_union(struct walk *w, const cJSON *node, const char *at, const char *keyword,
                     const char *site, const char *path)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(node, keyword);
    struct cov_op *o = w->op;
    if (o->nunions == o->unions_alloc) {
        size_t na = o->unions_alloc ? o->unions_alloc * 2 : 4;
        struct cov_union *nu = realloc(o->unions, na * sizeof(*nu));
        if (!nu)
            return UTIL_ERR_NOMEM;
        o->unions = nu;
        o->unions_alloc = na;
    }
    struct cov_union *u = &o->unions[o->nunions];
    memset(u, 0, sizeof(*u));
    o->nunions++;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    char *kp = child_pointer(at, keyword);
    u->path = strdup(path);
    u->pointer = strdup(at);
    u->keyword = strdup(keyword);
    u->branches = calloc(n ? n : 1, sizeof(*u->branches));
    if (!kp || !u->path || !u->pointer || !u->keyword || !u->branches) {
        free(kp);
        return UTIL_ERR_NOMEM;
    }
    u->line = line_of(w->ctx, kp);
    const cJSON *sel = find_selector(w->ctx, site);
    const cJSON *prop = cJSON_GetObjectItemCaseSensitive(sel, "selector");
    if (cJSON_IsString(prop)) {
        if (!(u->selector = strdup(prop->valuestring))) {
            free(kp);
            return UTIL_ERR_NOMEM;
        }
        u->mapping = cJSON_GetObjectItemCaseSensitive(sel, "mapping");
    }
    u->c_values = w->ctx->ncounters++;
    u->c_selected = w->ctx->ncounters++;
    u->c_ambiguous = w->ctx->ncounters++;
    u->c_unmatched = w->ctx->ncounters++;
    int rc = UTIL_OK;
    size_t i = 0;
    for (const cJSON *b = arr->child; b && !rc; b = b->next, i++) {
        struct cov_branch *br = &u->branches[i];
        br->pointer = child_index(kp, i);
        br->name = branch_label(b, i);
        if (!br->pointer || !br->name) {
            rc = UTIL_ERR_NOMEM;
            break;
        }
        u->n = i + 1;
        br->line = line_of(w->ctx, br->pointer);
        br->c = w->ctx->ncounters++;
        br->c_ambiguous = w->ctx->ncounters++;
        rc = compile_branch(w, br, b);
    }
    free(kp);
    /* Nested enums and unions of the branches (the union array may move
     * while walking, so u is not used past this point). */
    return rc ? rc : walk_each(w, node, at, keyword, NULL, path);
}

static int add_prop(struct walk *w, const char *path, const char *ptr)
{
    struct cov_status *s = w->status;
    for (size_t i = 0; i < s->nprops; i++)
        if (strcmp(s->props[i].path, path) == 0)
            return UTIL_OK;
    if (s->nprops >= COVERAGE_CAP_PROPERTIES)
        return UTIL_OK;
    if (s->nprops == s->alloc) {
        size_t na = s->alloc ? s->alloc * 2 : 16;
        struct cov_prop *np = realloc(s->props, na * sizeof(*np));
        if (!np)
            return UTIL_ERR_NOMEM;
        s->props = np;
        s->alloc = na;
    }
    char *copy = strdup(path);
    if (!copy)
        return UTIL_ERR_NOMEM;
    s->props[s->nprops++] =
        (struct cov_prop){.path = copy, .line = line_of(w->ctx, ptr), .c = w->ctx->ncounters++};
    return UTIL_OK;
}

/* Adds the values of node's enum to the parameter's enum (WALK_PARAM) or
 * to the body field at path (WALK_BODY). */
static int add_enum(struct walk *w, const cJSON *values, const char *at, const char *path)
{
    const struct openapi_parameter *p = w->param;
    struct cov_enum *e =
        w->mode == WALK_PARAM
            ? enum_find_or_add(w->op, p->where == OPENAPI_IN_PATH ? COV_PATH : COV_QUERY, p->name,
                               p->is_array)
            : enum_find_or_add(w->op, COV_BODY, path, false);
    return e ? enum_add_values(w->ctx, e, values, at) : UTIL_ERR_NOMEM;
}

/* Walks one schema (node at pointer ptr, $ref followed, each component at
 * most once per branch of the walk) for w->mode. path is the instance path
 * the schema describes; site is the pointer of the property holding node
 * (the key of union selectors). */
static int walk_schema(struct walk *w, const cJSON *node, const char *ptr, const char *site,
                       const char *path)
{
    if (w->depth >= COVERAGE_CAP_DEPTH)
        return UTIL_OK;
    char *at = strdup(ptr);
    if (!at)
        return UTIL_ERR_NOMEM;
    int rc = UTIL_OK;
    bool pushed = false;
    node = resolve(w->ctx, node, &at);
    if (!node || !cJSON_IsObject(node))
        goto cleanup;
    for (size_t i = 0; i < w->depth; i++)
        if (strcmp(w->stack[i], at) == 0)
            goto cleanup; /* a recursive schema: walked once */
    w->stack[w->depth++] = at;
    pushed = true;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(node, "enum");
    if (w->mode != WALK_RESPONSE && cJSON_IsArray(en))
        rc = add_enum(w, en, at, path);
    static const char *const unions[] = {"oneOf", "anyOf"};
    for (size_t k = 0; k < 2 && !rc; k++) {
        if (w->mode == WALK_BODY &&
            cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(node, unions[k])))
            rc = add_union(w, node, at, unions[k], site, path);
        else
            rc = walk_each(w, node, at, unions[k], NULL, path);
    }
    if (!rc)
        rc = walk_each(w, node, at, "allOf", site, path);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(node, "properties");
    if (w->mode == WALK_PARAM || !cJSON_IsObject(props))
        props = NULL;
    char *pp = props ? child_pointer(at, "properties") : NULL;
    for (const cJSON *p = props ? props->child : NULL; p && !rc; p = p->next) {
        char *cp = pp ? child_pointer(pp, p->string) : NULL;
        char *sub = child_pointer(path, p->string);
        rc = cp && sub ? UTIL_OK : UTIL_ERR_NOMEM;
        if (!rc && w->mode == WALK_RESPONSE)
            rc = add_prop(w, sub, cp);
        if (!rc)
            rc = walk_schema(w, p, cp, cp, sub);
        free(cp);
        free(sub);
    }
    free(pp);
    if (!rc)
        rc = walk_child(w, node, at, "items", w->mode == WALK_PARAM ? NULL : "*", path);
    if (!rc && w->mode == WALK_BODY)
        rc = walk_child(w, node, at, "additionalProperties", "*", path);
cleanup:
    if (pushed)
        w->depth--;
    free(at);
    return rc;
}

/* Walks the schema of a media type of the object at base ("content" ->
 * type -> "schema") in mode. */
static int walk_media(struct walk *w, enum walk_mode mode, const cJSON *schema, const char *base,
                      const char *content_type)
{
    char *sp = child_pointer(base, "content");
    char *mp = sp ? child_pointer(sp, content_type) : NULL;
    char *schema_ptr = mp ? child_pointer(mp, "schema") : NULL;
    w->mode = mode;
    w->depth = 0;
    int rc = schema_ptr ? walk_schema(w, schema, schema_ptr, NULL, "") : UTIL_ERR_NOMEM;
    free(sp);
    free(mp);
    free(schema_ptr);
    return rc;
}

/* ---- operations ---- */

static int build_op(struct walk *w, const struct openapi_operation *op)
{
    struct coverage_context *ctx = w->ctx;
    struct cov_op *o = &ctx->ops[op->index];
    int rc = UTIL_OK;
    w->op = o;
    o->op = op;
    o->line = line_of(ctx, op->pointer);
    o->c = ctx->ncounters++;
    o->statuses = calloc(op->nresponses ? op->nresponses : 1, sizeof(*o->statuses));
    o->params = calloc(op->nparams ? op->nparams : 1, sizeof(*o->params));
    if (!o->statuses || !o->params)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < op->nresponses && !rc; i++) {
        struct cov_status *s = &o->statuses[i];
        s->r = &op->responses[i];
        s->line = line_of(ctx, s->r->use_pointer);
        s->c = ctx->ncounters++;
        o->nstatuses = i + 1;
        w->status = s;
        if (s->r->schema && s->r->content_type)
            rc = walk_media(w, WALK_RESPONSE, s->r->schema, s->r->pointer, s->r->content_type);
    }
    for (size_t i = 0; i < op->nparams && !rc; i++) {
        const struct openapi_parameter *p = &op->params[i];
        struct cov_param *cp = &o->params[i];
        cp->p = p;
        cp->where = p->where == OPENAPI_IN_PATH     ? COV_PATH
                    : p->where == OPENAPI_IN_QUERY  ? COV_QUERY
                    : p->where == OPENAPI_IN_HEADER ? COV_HEADER
                                                    : COV_COOKIE;
        cp->line = line_of(ctx, p->use_pointer);
        cp->c = ctx->ncounters++;
        o->nparams = i + 1;
        if (p->schema && (cp->where == COV_PATH || cp->where == COV_QUERY)) {
            char *sp = child_pointer(p->pointer, "schema");
            w->mode = WALK_PARAM;
            w->param = p;
            w->depth = 0;
            rc = sp ? walk_schema(w, p->schema, sp, NULL, "") : UTIL_ERR_NOMEM;
            free(sp);
        }
    }
    if (!rc && op->body && op->body->schema && op->body->content_type)
        rc = walk_media(w, WALK_BODY, op->body->schema, op->body->pointer, op->body->content_type);
    return rc;
}

struct coverage_context *coverage_context_create(const struct openapi_source *source,
                                                 struct util_error *err)
{
    struct coverage_context *ctx = calloc(1, sizeof(*ctx));
    char *ops_uri = NULL;
    struct schema_options opts = {.default_dialect = SCHEMA_DIALECT_OAS30};
    int rc = UTIL_ERR_NOMEM;
    if (!ctx)
        goto cleanup;
    if ((rc = openapi_source_spec(source, &ctx->spec, err)))
        goto cleanup;
    if (!(ctx->spec_path = strdup(openapi_source_name(ctx->spec)))) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    /* A directory's operations.json must have been derived from its spec. */
    const char *sha = openapi_source_sha256(source);
    if (!sha || strcmp(sha, openapi_sha256(ctx->spec)) != 0) {
        rc = util_error_set(err, UTIL_ERR_INVALID,
                            "%s was not derived from %s (spec sha256 differs; run "
                            "'ingestcheck schemas generate')",
                            openapi_source_operations_name(source), openapi_source_name(ctx->spec));
        goto cleanup;
    }
    if (!(ctx->contract = check_contract_create(source, err))) {
        rc = err && err->code ? err->code : UTIL_ERR_INVALID;
        goto cleanup;
    }
    rc = UTIL_ERR_NOMEM;
    if (!(ctx->reg = schema_registry_create(&opts)))
        goto cleanup;
    if ((rc = openapi_source_register(source, ctx->reg, &ops_uri, err)))
        goto cleanup;
    rc = UTIL_ERR_NOMEM;
    char *slash = strrchr(ops_uri, '/');
    if (!slash || !(ctx->schema_uri = strndup(ops_uri, (size_t)(slash - ops_uri) + 1)))
        goto cleanup;
    rc = openapi_source_read_json(source, "defects.json", &ctx->defects, err);
    if (rc == UTIL_ERR_NOTFOUND) /* optional */
        util_error_clear(err);
    else if (rc)
        goto cleanup;
    rc = UTIL_ERR_NOMEM;
    ctx->nops = openapi_operation_count(ctx->spec);
    if (!(ctx->ops = calloc(ctx->nops ? ctx->nops : 1, sizeof(*ctx->ops))))
        goto cleanup;
    struct walk w = {.ctx = ctx, .err = err};
    rc = UTIL_OK;
    for (size_t i = 0; i < ctx->nops && !rc; i++)
        rc = build_op(&w, openapi_operation_at(ctx->spec, i));
cleanup:
    if (rc == UTIL_ERR_NOMEM && err && !err->code)
        util_error_set(err, rc, "out of memory");
    free(ops_uri);
    if (rc) {
        coverage_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

static void free_op(struct cov_op *o)
{
    for (size_t i = 0; i < o->nstatuses; i++) {
        for (size_t k = 0; k < o->statuses[i].nprops; k++)
            free(o->statuses[i].props[k].path);
        free(o->statuses[i].props);
    }
    free(o->statuses);
    free(o->params);
    for (size_t i = 0; i < o->nenums; i++) {
        for (size_t k = 0; k < o->enums[i].n; k++)
            free(o->enums[i].values[k].value);
        free(o->enums[i].values);
        free(o->enums[i].name);
    }
    free(o->enums);
    for (size_t i = 0; i < o->nunions; i++) {
        struct cov_union *u = &o->unions[i];
        for (size_t k = 0; k < u->n; k++) {
            free(u->branches[k].name);
            free(u->branches[k].pointer);
        }
        free(u->branches);
        free(u->path);
        free(u->pointer);
        free(u->keyword);
        free(u->selector);
    }
    free(o->unions);
}

void coverage_context_destroy(struct coverage_context *ctx)
{
    if (!ctx)
        return;
    for (size_t i = 0; ctx->ops && i < ctx->nops; i++)
        free_op(&ctx->ops[i]);
    free(ctx->ops);
    schema_registry_destroy(ctx->reg);
    check_contract_destroy(ctx->contract);
    cJSON_Delete(ctx->defects);
    free(ctx->spec_path);
    free(ctx->schema_uri);
    free(ctx);
}
