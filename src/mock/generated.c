/* Operations the mock does not model (transformations, push, /2/ tasks,
 * custom*, ...): the request has been validated like any other (api.c);
 * the answer is the documented 2xx, built once per operation from its
 * schema (the schema's examples where they validate, else generated) and
 * checked against the compiled schema, then handed out with fresh IDs.
 *
 * IDs: every "<x>ID" string a generated answer holds is remembered under
 * its property name; a POST answer gets fresh ones. A path parameter named
 * "<x>ID" of a generated operation must name a remembered ID or a resource
 * of the store, else 404. A DELETE forgets its ID. Catch-all operations
 * answer for any path. */
#include "mock/resource.h"

#include "util/buf.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mock_gen_state {
    cJSON *answer;     /* the valid answer, NULL: none could be built */
    char *text;        /* its JSON text */
    char *error;       /* why there is no answer */
    bool fresh_ids;    /* POST: top-level "<x>ID" strings get fresh IDs */
    bool subst_ok;     /* a fresh UUID in place of an ID keeps the answer valid */
    bool path_id_echo; /* the answer has a top-level property named like a path ID */
};

/* ---- the generator ---- */

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool ends_with_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 2 && strcmp(s + n - 2, "ID") == 0;
}

/* What a generation varies: examples or not, and which enum value and
 * union branch come first (variant modulo their count). */
struct genopt {
    bool ex;
    unsigned variant;
};

static cJSON *gen(struct mock_api *api, const cJSON *s, const struct genopt *o, int depth);

/* The first type a schema names that is not null ("null" when only null). */
static const char *first_type(const cJSON *s)
{
    const cJSON *t = get(s, "type");
    if (cJSON_IsString(t))
        return t->valuestring;
    const char *only_null = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, t)
    {
        if (!cJSON_IsString(it))
            continue;
        if (strcmp(it->valuestring, "null") != 0)
            return it->valuestring;
        only_null = "null";
    }
    if (only_null)
        return only_null;
    if (get(s, "properties") || get(s, "required") || get(s, "additionalProperties"))
        return "object";
    if (get(s, "items"))
        return "array";
    return NULL;
}

static double num(const cJSON *s, const char *k, double dflt)
{
    const cJSON *v = get(s, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static cJSON *gen_number(const cJSON *s, bool integer)
{
    double lo = num(s, "minimum", -INFINITY), hi = num(s, "maximum", INFINITY);
    double xlo = num(s, "exclusiveMinimum", -INFINITY), xhi = num(s, "exclusiveMaximum", INFINITY);
    double v = 0;
    if (isfinite(lo) || isfinite(xlo))
        v = isfinite(xlo) && xlo >= lo ? (integer ? floor(xlo) + 1 : xlo + 1) : lo;
    else if (isfinite(hi) && hi < 0)
        v = hi;
    else if (isfinite(xhi) && xhi <= 0)
        v = xhi - 1;
    if (integer)
        v = ceil(v);
    double m = num(s, "multipleOf", 0);
    if (m > 0)
        v = ceil(v / m) * m;
    if (v > hi)
        v = hi;
    return cJSON_CreateNumber(v);
}

static cJSON *gen_string(const cJSON *s)
{
    const cJSON *f = get(s, "format");
    const char *fmt = cJSON_IsString(f) ? f->valuestring : "";
    static const struct {
        const char *format, *value;
    } formats[] = {
        {"date-time", "2024-04-17T00:00:00Z"},
        {"date", "2024-04-17"},
        {"time", "00:00:00Z"},
        {"uuid", "6c02aeb1-775e-418e-870b-1faccd4b2c0f"},
        {"email", "user@example.com"},
        {"uri", "https://example.com"},
        {"url", "https://example.com"},
        {"hostname", "example.com"},
        {"ipv4", "127.0.0.1"},
    };
    for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++)
        if (strcmp(formats[i].format, fmt) == 0)
            return cJSON_CreateString(formats[i].value);
    char buf[256] = "example";
    size_t min = (size_t)fmax(0, fmin(num(s, "minLength", 0), sizeof(buf) - 1));
    size_t max = (size_t)fmax(0, fmin(num(s, "maxLength", sizeof(buf) - 1), sizeof(buf) - 1));
    size_t n = strlen(buf);
    while (n < min)
        buf[n++] = 'x';
    if (n > max)
        n = max;
    buf[n] = '\0';
    return cJSON_CreateString(buf);
}

/* Merges the members of src into dst (an object); takes src. */
static bool merge_into(cJSON *dst, cJSON *src)
{
    if (!cJSON_IsObject(src)) {
        cJSON_Delete(src);
        return true;
    }
    while (src->child) {
        cJSON *it = cJSON_DetachItemViaPointer(src, src->child);
        if (get(dst, it->string))
            cJSON_DeleteItemFromObjectCaseSensitive(dst, it->string);
        cJSON_AddItemToObject(dst, it->string, it);
    }
    cJSON_Delete(src);
    return true;
}

/* Whether obj satisfies the simple conditions of an "if": properties with
 * const or enum, and required names. */
static bool if_holds(struct mock_api *api, const cJSON *cond, const cJSON *obj)
{
    cond = mock_resolve(&api->comps, cond);
    const cJSON *it;
    cJSON_ArrayForEach(it, get(cond, "required"))
    {
        if (cJSON_IsString(it) && !get(obj, it->valuestring))
            return false;
    }
    cJSON_ArrayForEach(it, get(cond, "properties"))
    {
        const cJSON *v = get(obj, it->string);
        if (!v)
            continue;
        const cJSON *c = get(it, "const");
        if (c && !cJSON_Compare(c, v, 1))
            return false;
        const cJSON *e = get(it, "enum"), *x;
        if (cJSON_IsArray(e)) {
            bool found = false;
            cJSON_ArrayForEach(x, e)
            {
                found = found || cJSON_Compare(x, v, 1);
            }
            if (!found)
                return false;
        }
    }
    return true;
}

/* Applies the if/then conditions of s (its own and its allOf parts') to obj. */
static void apply_conditions(struct mock_api *api, const cJSON *s, cJSON *obj,
                             const struct genopt *go, int depth)
{
    s = mock_resolve(&api->comps, s);
    if (!s || depth > MOCK_CAP_SCHEMA_DEPTH)
        return;
    const cJSON *cond = get(s, "if");
    if (cond) {
        const cJSON *branch = if_holds(api, cond, obj) ? get(s, "then") : get(s, "else");
        const cJSON *b = mock_resolve(&api->comps, branch), *p;
        if (b) {
            merge_into(obj, gen(api, b, go, depth + 1));
            /* The branch narrows properties the object has already. */
            cJSON_ArrayForEach(p, get(b, "properties"))
            {
                cJSON *v = get(obj, p->string) ? gen(api, p, go, depth + 1) : NULL;
                if (v && !cJSON_ReplaceItemInObjectCaseSensitive(obj, p->string, v))
                    cJSON_Delete(v);
            }
            apply_conditions(api, b, obj, go, depth + 1);
        }
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, get(s, "allOf"))
    {
        apply_conditions(api, it, obj, go, depth + 1);
    }
}

static cJSON *gen_object(struct mock_api *api, const cJSON *s, const struct genopt *go, int depth)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *props = get(s, "properties"), *it;
    cJSON_ArrayForEach(it, get(s, "required"))
    {
        if (!cJSON_IsString(it) || get(o, it->valuestring))
            continue;
        const cJSON *ps = get(props, it->valuestring);
        cJSON *v = ps ? gen(api, ps, go, depth + 1) : cJSON_CreateString("example");
        if (!v)
            v = cJSON_CreateNull();
        cJSON_AddItemToObject(o, it->valuestring, v);
    }
    return o;
}

static cJSON *gen(struct mock_api *api, const cJSON *s, const struct genopt *go, int depth)
{
    bool ex = go->ex;
    s = mock_resolve(&api->comps, s);
    if (!s || depth > MOCK_CAP_SCHEMA_DEPTH)
        return NULL;
    if (cJSON_IsBool(s))
        return cJSON_IsTrue(s) ? cJSON_CreateObject() : NULL;
    const cJSON *examples = get(s, "examples");
    if (ex && cJSON_IsArray(examples) && examples->child)
        return cJSON_Duplicate(examples->child, 1);
    const cJSON *c = get(s, "const");
    if (c)
        return cJSON_Duplicate(c, 1);
    const cJSON *e = get(s, "enum"), *it;
    if (cJSON_IsArray(e) && e->child) {
        int n = 0, k = 0;
        cJSON_ArrayForEach(it, e)
        {
            n += !cJSON_IsNull(it);
        }
        cJSON_ArrayForEach(it, e)
        {
            if (!cJSON_IsNull(it) && k++ == (int)(go->variant % (unsigned)n))
                return cJSON_Duplicate(it, 1);
        }
        return cJSON_CreateNull();
    }
    const char *type = first_type(s);
    static const char *const unions[] = {"oneOf", "anyOf"};
    for (int u = 0; !type && u < 2; u++) {
        /* The first branch that is not only null. */
        const cJSON *fallback = NULL, *branches = get(s, unions[u]);
        int n = cJSON_GetArraySize(branches);
        for (int k = 0; k < n; k++) {
            it = cJSON_GetArrayItem(branches, (int)((go->variant + (unsigned)k) % (unsigned)n));
            const cJSON *b = mock_resolve(&api->comps, it);
            const char *bt = b ? first_type(b) : NULL;
            if (bt && strcmp(bt, "null") == 0) {
                fallback = fallback ? fallback : it;
                continue;
            }
            cJSON *v = gen(api, it, go, depth + 1);
            if (v)
                return v;
        }
        if (fallback)
            return gen(api, fallback, go, depth + 1);
    }
    const cJSON *all = get(s, "allOf");
    if (!type && all) {
        cJSON *o = NULL;
        cJSON_ArrayForEach(it, all)
        {
            if (get(mock_resolve(&api->comps, it), "if"))
                continue;
            cJSON *part = gen(api, it, go, depth + 1);
            if (!o && !cJSON_IsObject(part))
                return part;
            if (!o) {
                o = part;
                continue;
            }
            merge_into(o, part);
        }
        if (o)
            apply_conditions(api, s, o, go, depth);
        return o ? o : cJSON_CreateObject();
    }
    if (!type)
        return cJSON_CreateObject();
    if (strcmp(type, "object") == 0) {
        cJSON *o = gen_object(api, s, go, depth);
        cJSON_ArrayForEach(it, all)
        {
            if (!get(mock_resolve(&api->comps, it), "if"))
                merge_into(o, gen(api, it, go, depth + 1));
        }
        apply_conditions(api, s, o, go, depth);
        return o;
    }
    if (strcmp(type, "array") == 0) {
        cJSON *a = cJSON_CreateArray();
        size_t n = (size_t)fmin(num(s, "minItems", 0), 3);
        for (size_t i = 0; a && i < n; i++) {
            cJSON *v = gen(api, get(s, "items"), go, depth + 1);
            if (!v || !cJSON_AddItemToArray(a, v)) {
                cJSON_Delete(v);
                cJSON_Delete(a);
                return NULL;
            }
        }
        return a;
    }
    if (strcmp(type, "string") == 0)
        return gen_string(s);
    if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)
        return gen_number(s, type[0] == 'i');
    if (strcmp(type, "boolean") == 0)
        return cJSON_CreateTrue();
    return cJSON_CreateNull();
}

cJSON *mock_generate(struct mock_api *api, const cJSON *schema, bool use_examples)
{
    return mock_generate_variant(api, schema, use_examples, 0);
}

cJSON *mock_generate_variant(struct mock_api *api, const cJSON *schema, bool use_examples,
                             unsigned variant)
{
    struct genopt o = {use_examples, variant};
    return gen(api, schema, &o, 0);
}

/* ---- remembered IDs ---- */

static struct mock_idmap *ids_of(struct mock_api *api, const char *name, bool create)
{
    struct mock_idmap *m = mock_idmap_get(&api->handed_out, name);
    if (m || !create)
        return m;
    if (api->handed_out.count >= MOCK_CAP_HANDED_OUT)
        return NULL;
    char *key = malloc(sizeof(*m) + strlen(name) + 1);
    if (!key)
        return NULL;
    m = (struct mock_idmap *)(void *)key;
    char *k = key + sizeof(*m);
    strcpy(k, name);
    if (mock_idmap_init(m) || mock_idmap_put(&api->handed_out, k, m)) {
        mock_idmap_finish(m);
        free(key);
        return NULL;
    }
    return m;
}

int mock_ids_remember(struct mock_api *api, const char *name, const char *id)
{
    struct mock_idmap *m = ids_of(api, name, true);
    if (!m)
        return UTIL_ERR_NOMEM;
    if (mock_idmap_get(m, id))
        return UTIL_OK;
    if (m->count >= MOCK_CAP_HANDED_OUT)
        return UTIL_ERR_LIMIT;
    char *copy = malloc(strlen(id) + 1);
    if (!copy)
        return UTIL_ERR_NOMEM;
    strcpy(copy, id);
    if (mock_idmap_put(m, copy, copy)) {
        free(copy);
        return UTIL_ERR_NOMEM;
    }
    return UTIL_OK;
}

static void ids_forget(struct mock_api *api, const char *name, const char *id)
{
    struct mock_idmap *m = ids_of(api, name, false);
    char *copy = m ? mock_idmap_get(m, id) : NULL;
    if (copy) {
        mock_idmap_del(m, id);
        free(copy);
    }
}

static void free_values(struct mock_idmap *m)
{
    for (size_t i = 0; m->slots && i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != m->slots[i].value)
            continue; /* a tombstone or a foreign key */
        else if (m->slots[i].key)
            free(m->slots[i].value);
}

void mock_ids_free(struct mock_api *api)
{
    struct mock_idmap *h = &api->handed_out;
    for (size_t i = 0; h->slots && i < h->cap; i++) {
        struct mock_idmap *m = h->slots[i].value;
        if (!h->slots[i].key || !m || (const void *)h->slots[i].key != (const void *)(m + 1))
            continue;
        free_values(m);
        mock_idmap_finish(m);
        free(m);
    }
    mock_idmap_finish(h);
    memset(h, 0, sizeof(*h));
}

/* Whether id names a resource the mock knows under the parameter name. */
static bool id_known(struct mock_api *api, const char *name, const char *id)
{
    static const struct {
        const char *name;
        enum mock_kind kind;
    } kinds[] = {{"authenticationID", KIND_AUTH},
                 {"sourceID", KIND_SOURCE},
                 {"destinationID", KIND_DEST},
                 {"taskID", KIND_TASK},
                 {"runID", KIND_RUN}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
        if (strcmp(kinds[i].name, name) == 0 && mock_store_get(&api->store, kinds[i].kind, id))
            return true;
    struct mock_idmap *m = ids_of(api, name, false);
    return m && mock_idmap_get(m, id);
}

/* Remembers every "<x>ID" string of doc. */
static int remember_all(struct mock_api *api, const cJSON *doc, int depth)
{
    if (depth > MOCK_CAP_SCHEMA_DEPTH)
        return UTIL_OK;
    for (const cJSON *it = doc ? doc->child : NULL; it; it = it->next) {
        int rc = UTIL_OK;
        if (cJSON_IsString(it) && ends_with_id(it->string))
            rc = mock_ids_remember(api, it->string, it->valuestring);
        else if (cJSON_IsObject(it) || cJSON_IsArray(it))
            rc = remember_all(api, it, depth + 1);
        if (rc == UTIL_ERR_NOMEM)
            return rc;
    }
    return UTIL_OK;
}

/* ---- the answer ---- */

static bool valid(struct schema *compiled, const cJSON *doc, char *why, size_t n)
{
    struct schema_result res;
    struct util_error err;
    util_error_clear(&err);
    schema_result_init(&res);
    bool ok = schema_validate(compiled, doc, &res, &err) == UTIL_OK && res.valid;
    if (!ok)
        snprintf(why, n, "%s",
                 err.code    ? err.message
                 : res.count ? res.items[0].message
                             : "invalid");
    schema_result_finish(&res);
    return ok;
}

/* Replaces the top-level "<x>ID" strings of doc: a path parameter's value
 * where one has the name, else (fresh) a new ID, remembered. */
static int substitute(struct mock_ctx *c, cJSON *doc, bool fresh)
{
    for (cJSON *it = doc->child; it; it = it->next) {
        if (!cJSON_IsString(it) || !ends_with_id(it->string))
            continue;
        const char *path_value = NULL;
        for (size_t p = 0; p < c->op->nparams; p++)
            if (c->op->params[p].in == PARAM_PATH && strcmp(c->op->params[p].name, it->string) == 0)
                path_value = mock_gets(c->params, it->string);
        char id[MOCK_ID_LEN + 1];
        if (!path_value && !fresh)
            continue;
        if (!path_value)
            mock_new_id(c->api, id);
        if (!cJSON_SetValuestring(it, path_value ? path_value : id))
            return UTIL_ERR_NOMEM;
        if (!path_value && mock_ids_remember(c->api, it->string, id) == UTIL_ERR_NOMEM)
            return UTIL_ERR_NOMEM;
    }
    return UTIL_OK;
}

/* Builds the operation's answer once: examples, else generated; valid. */
static struct mock_gen_state *state_of(struct mock_api *api, struct mock_op *op)
{
    if (op->gen)
        return op->gen;
    struct mock_gen_state *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->fresh_ids = strcmp(op->method, "POST") == 0;
    op->gen = g;
    if (!op->ok_schema)
        return g;
    struct schema *compiled = NULL;
    struct util_error err;
    util_error_clear(&err);
    char frag[96], why[1100] = "";
    snprintf(frag, sizeof(frag), "/operations/%zu/responses/%d/schema", op->index, op->ok_status);
    if (mock_ops_lookup(api, frag, &compiled, &err)) {
        snprintf(why, sizeof(why), "%s", err.message);
    } else {
        for (unsigned v = 0; v < 2 * MOCK_GEN_VARIANTS && !g->answer; v++) {
            cJSON *doc = mock_generate_variant(api, op->ok_schema, v % 2 == 0, v / 2);
            if (doc && valid(compiled, doc, why, sizeof(why)))
                g->answer = doc;
            else
                cJSON_Delete(doc);
        }
    }
    if (!g->answer) {
        size_t n = strlen(op->id) + strlen(why) + 64;
        g->error = malloc(n);
        if (g->error)
            snprintf(g->error, n, "no valid answer can be generated for %s: %s", op->id, why);
        return g;
    }
    /* Would a fresh ID or a path value in place of the answer's IDs keep it
     * valid? Tried once, with an ID of the mock's own shape. */
    bool has_ids = false;
    for (cJSON *it = g->answer->child; it && cJSON_IsObject(g->answer); it = it->next)
        if (cJSON_IsString(it) && ends_with_id(it->string))
            has_ids = true;
    for (size_t p = 0; p < op->nparams; p++)
        if (op->params[p].in == PARAM_PATH && get(g->answer, op->params[p].name))
            g->path_id_echo = true;
    if (has_ids) {
        cJSON *trial = cJSON_Duplicate(g->answer, 1);
        for (cJSON *it = trial ? trial->child : NULL; it; it = it->next)
            if (cJSON_IsString(it) && ends_with_id(it->string))
                cJSON_SetValuestring(it, "6c02aeb1-775e-418e-870b-1faccd4b2c0f");
        g->subst_ok = trial && valid(compiled, trial, why, sizeof(why));
        cJSON_Delete(trial);
    }
    if (remember_all(api, g->answer, 0))
        return g;
    g->text = cJSON_PrintUnformatted(g->answer);
    return g;
}

void mock_generated_handle(struct mock_ctx *c)
{
    struct mock_op *op = (struct mock_op *)(uintptr_t)c->op;
    if (!op->catch_all) {
        for (size_t p = 0; p < op->nparams; p++) {
            const struct mock_param *mp = &op->params[p];
            const char *v = mock_gets(c->params, mp->name);
            if (mp->in == PARAM_PATH && ends_with_id(mp->name) && v &&
                !id_known(c->api, mp->name, v)) {
                mock_fail(c, 404, "%s '%.100s' does not exist", mp->name, v);
                return;
            }
        }
    }
    struct mock_gen_state *g = state_of(c->api, op);
    if (!g) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (!op->ok_schema) {
        c->status = op->ok_status;
        c->no_content = true;
        return;
    }
    if (!g->answer) {
        mock_fail(c, 500, "%s", g->error ? g->error : "out of memory");
        return;
    }
    bool subst = g->subst_ok && (g->fresh_ids || g->path_id_echo) && cJSON_IsObject(g->answer);
    cJSON *doc = subst || !g->text ? cJSON_Duplicate(g->answer, 1) : cJSON_CreateRaw(g->text);
    if (doc && subst && substitute(c, doc, g->fresh_ids)) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    mock_ok(c, doc);
    if (doc)
        c->status = op->ok_status;
    if (doc && strcmp(op->method, "DELETE") == 0 && !op->catch_all)
        for (size_t p = 0; p < op->nparams; p++)
            if (op->params[p].in == PARAM_PATH && ends_with_id(op->params[p].name))
                ids_forget(c->api, op->params[p].name, mock_gets(c->params, op->params[p].name));
}

void mock_gen_free(struct mock_op *op)
{
    struct mock_gen_state *g = op->gen;
    if (!g)
        return;
    cJSON_Delete(g->answer);
    free(g->text);
    free(g->error);
    free(g);
    op->gen = NULL;
}
