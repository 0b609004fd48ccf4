/* Answers of the modelled resources made to conform to the loaded spec:
 * a property the response schema requires and the model does not render
 * is generated from the schema; a property the model renders that a
 * closed object (additionalProperties: false) does not declare is dropped.
 *
 * The schema is walked once per node into a plan (which properties it
 * declares and requires, whether it is closed, the plans of its
 * properties and items), kept for the API's life; conforming an answer
 * then only walks the answer. */
#include "mock/resource.h"

#include <stdlib.h>
#include <string.h>

struct mock_plan {
    const cJSON *schema; /* resolved node */
    bool closed;
    size_t nprops;
    const char **names;           /* declared properties (borrowed) */
    const cJSON **prop_schemas;   /* their schemas (borrowed) */
    const struct mock_plan **sub; /* their plans */
    const char **required;        /* borrowed */
    size_t nrequired;
    const struct mock_plan *items;
    const cJSON *enumv; /* the node's enum: a value outside it is dropped
                           (optional) or replaced (required) */
};

struct mock_plan_cache {
    const cJSON **keys;
    struct mock_plan **plans;
    size_t count, alloc;
};

static struct mock_plan *cached(struct mock_plan_cache *pc, const cJSON *key)
{
    for (size_t i = 0; i < pc->count; i++)
        if (pc->keys[i] == key)
            return pc->plans[i];
    return NULL;
}

static int remember(struct mock_plan_cache *pc, const cJSON *key, struct mock_plan *p)
{
    if (pc->count == pc->alloc) {
        size_t n = pc->alloc ? pc->alloc * 2 : 64;
        const cJSON **k = realloc(pc->keys, n * sizeof(*k));
        if (!k)
            return UTIL_ERR_NOMEM;
        pc->keys = k;
        struct mock_plan **v = realloc(pc->plans, n * sizeof(*v));
        if (!v)
            return UTIL_ERR_NOMEM;
        pc->plans = v;
        pc->alloc = n;
    }
    pc->keys[pc->count] = key;
    pc->plans[pc->count++] = p;
    return UTIL_OK;
}

static bool has_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return true;
    return false;
}

/* Adds the properties and required names of s and of its allOf parts. */
static int collect(struct mock_api *api, struct mock_plan *p, const cJSON *s, int depth)
{
    s = mock_resolve(&api->comps, s);
    if (!cJSON_IsObject(s) || depth > MOCK_CAP_SCHEMA_DEPTH)
        return UTIL_OK;
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties"), *it;
    size_t add = (size_t)cJSON_GetArraySize(props);
    size_t radd = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s, "required"));
    if (add) {
        const char **n = realloc(p->names, (p->nprops + add) * sizeof(*n));
        if (!n)
            return UTIL_ERR_NOMEM;
        p->names = n;
        const cJSON **ps = realloc(p->prop_schemas, (p->nprops + add) * sizeof(*ps));
        if (!ps)
            return UTIL_ERR_NOMEM;
        p->prop_schemas = ps;
        cJSON_ArrayForEach(it, props)
        {
            if (!has_name(p->names, p->nprops, it->string)) {
                p->names[p->nprops] = it->string;
                p->prop_schemas[p->nprops++] = it;
            }
        }
    }
    if (radd) {
        const char **r = realloc(p->required, (p->nrequired + radd) * sizeof(*r));
        if (!r)
            return UTIL_ERR_NOMEM;
        p->required = r;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s, "required"))
        {
            if (cJSON_IsString(it) && !has_name(p->required, p->nrequired, it->valuestring))
                p->required[p->nrequired++] = it->valuestring;
        }
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s, "allOf"))
    {
        int rc = collect(api, p, it, depth + 1);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

static const struct mock_plan *plan_for(struct mock_api *api, const cJSON *schema, int depth)
{
    const cJSON *s = mock_resolve(&api->comps, schema);
    if (!cJSON_IsObject(s) || depth > MOCK_CAP_SCHEMA_DEPTH)
        return NULL;
    if (!api->plans && !(api->plans = calloc(1, sizeof(*api->plans))))
        return NULL;
    struct mock_plan *p = cached(api->plans, s);
    if (p)
        return p;
    p = calloc(1, sizeof(*p));
    if (!p || remember(api->plans, s, p)) {
        free(p);
        return NULL;
    }
    p->schema = s;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "enum");
    p->enumv = cJSON_IsArray(e) ? e : NULL;
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    p->closed = cJSON_IsFalse(ap) && !cJSON_GetObjectItemCaseSensitive(s, "patternProperties");
    if (collect(api, p, s, 0))
        return p; /* partial: conforms less, never wrongly */
    p->sub = calloc(p->nprops ? p->nprops : 1, sizeof(*p->sub));
    for (size_t i = 0; p->sub && i < p->nprops; i++)
        p->sub[i] = plan_for(api, p->prop_schemas[i], depth + 1);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    if (items)
        p->items = plan_for(api, items, depth + 1);
    return p;
}

const struct mock_plan *mock_plan_for(struct mock_api *api, const cJSON *schema)
{
    return schema ? plan_for(api, schema, 0) : NULL;
}

static size_t prop_index(const struct mock_plan *p, const char *name)
{
    for (size_t i = 0; i < p->nprops; i++)
        if (strcmp(p->names[i], name) == 0)
            return i;
    return SIZE_MAX;
}

const struct mock_plan *mock_plan_child(const struct mock_plan *p, const char *name)
{
    size_t i = p ? prop_index(p, name) : SIZE_MAX;
    return i == SIZE_MAX || !p->sub ? NULL : p->sub[i];
}

const struct mock_plan *mock_plan_items(const struct mock_plan *p)
{
    return p ? p->items : NULL;
}

static bool in_enum(const cJSON *e, const cJSON *v)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, e)
    {
        if (cJSON_Compare(it, v, 1))
            return true;
    }
    return false;
}

static int conform(struct mock_api *api, const struct mock_plan *p, cJSON *doc, int depth)
{
    if (!p || !doc || cJSON_IsRaw(doc) || depth > MOCK_CAP_SCHEMA_DEPTH)
        return UTIL_OK;
    if (cJSON_IsArray(doc)) {
        cJSON *it;
        cJSON_ArrayForEach(it, doc)
        {
            int rc = conform(api, p->items, it, depth + 1);
            if (rc)
                return rc;
        }
        return UTIL_OK;
    }
    if (!cJSON_IsObject(doc))
        return UTIL_OK;
    if (p->closed) {
        for (cJSON *it = doc->child, *next; it; it = next) {
            next = it->next;
            if (prop_index(p, it->string) == SIZE_MAX)
                cJSON_Delete(cJSON_DetachItemViaPointer(doc, it));
        }
    }
    for (size_t r = 0; r < p->nrequired; r++) {
        if (cJSON_GetObjectItemCaseSensitive(doc, p->required[r]))
            continue;
        size_t i = prop_index(p, p->required[r]);
        if (i == SIZE_MAX)
            continue;
        cJSON *v = mock_generate(api, p->prop_schemas[i], true);
        if (!v || !cJSON_AddItemToObject(doc, p->required[r], v)) {
            cJSON_Delete(v);
            return UTIL_ERR_NOMEM;
        }
    }
    for (cJSON *it = doc->child, *next; it && p->sub; it = next) {
        next = it->next;
        size_t i = prop_index(p, it->string);
        if (i != SIZE_MAX && p->sub[i] && p->sub[i]->enumv && !in_enum(p->sub[i]->enumv, it)) {
            /* A value the revision's enum lacks. */
            if (!has_name(p->required, p->nrequired, it->string)) {
                cJSON_Delete(cJSON_DetachItemViaPointer(doc, it));
                continue;
            }
            cJSON *v = mock_generate(api, p->prop_schemas[i], true);
            if (!v || !cJSON_ReplaceItemInObjectCaseSensitive(doc, it->string, v)) {
                cJSON_Delete(v);
                return UTIL_ERR_NOMEM;
            }
            continue;
        }
        int rc = i == SIZE_MAX ? UTIL_OK : conform(api, p->sub[i], it, depth + 1);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

int mock_conform(struct mock_api *api, const struct mock_plan *p, cJSON *doc)
{
    return conform(api, p, doc, 0);
}

void mock_plans_free(struct mock_api *api)
{
    struct mock_plan_cache *pc = api->plans;
    if (!pc)
        return;
    for (size_t i = 0; i < pc->count; i++) {
        struct mock_plan *p = pc->plans[i];
        free(p->names);
        free(p->prop_schemas);
        free(p->sub);
        free(p->required);
        free(p);
    }
    free(pc->keys);
    free(pc->plans);
    free(pc);
    api->plans = NULL;
}
