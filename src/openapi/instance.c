/* Candidate instances of OpenAPI schemas, for finding overlapping unions:
 * a value built from a branch's own constraints (required properties,
 * first enum value, minimum, examples), to be validated by the engine. */
#include "openapi/instance.h"

#include "openapi/internal.h"

#include <string.h>

#define MAX_DEPTH 32

static cJSON *build(const cJSON *doc, const cJSON *s, bool full, int depth);

static const char *type_of(const cJSON *s)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (cJSON_IsString(t))
        return t->valuestring;
    if (cJSON_GetObjectItemCaseSensitive(s, "properties") ||
        cJSON_GetObjectItemCaseSensitive(s, "additionalProperties"))
        return "object";
    if (cJSON_GetObjectItemCaseSensitive(s, "items"))
        return "array";
    return NULL;
}

static bool in_required(const cJSON *s, const char *name)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s, "required"))
    {
        if (cJSON_IsString(r) && !strcmp(r->valuestring, name))
            return true;
    }
    return false;
}

static double number_of(const cJSON *s, const char *key, bool *has)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, key);
    *has = cJSON_IsNumber(n);
    return *has ? n->valuedouble : 0;
}

static cJSON *build_number(const cJSON *s, bool integer)
{
    bool has_min, has_max;
    double min = number_of(s, "minimum", &has_min);
    double max = number_of(s, "maximum", &has_max);
    double v = has_min ? min : 1;
    if (has_max && v > max)
        v = max;
    if (integer && v != (double)(long long)v)
        v = (double)(long long)v + 1;
    return cJSON_CreateNumber(v);
}

static cJSON *build_object(const cJSON *doc, const cJSON *s, bool full, int depth)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(s, "properties"))
    {
        bool req = in_required(s, p->string);
        if (!full && !req)
            continue;
        cJSON *v = build(doc, p, full, depth + 1);
        if (!v) {
            if (!req)
                continue;
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, p->string, v);
    }
    /* A required name without a property schema: any value will do. */
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s, "required"))
    {
        if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(o, r->valuestring))
            cJSON_AddItemToObject(o, r->valuestring, cJSON_CreateString("x"));
    }
    return o;
}

static bool declares(const cJSON *doc, const cJSON *part, const char *name)
{
    const cJSON *props =
        cJSON_GetObjectItemCaseSensitive(openapi_ref_target(doc, part), "properties");
    return cJSON_GetObjectItemCaseSensitive(props, name) != NULL;
}

/* allOf: build every part and merge objects; otherwise the first part. A
 * property's value comes from the first part that declares it, so a name
 * one part only requires is not left as a placeholder. */
static cJSON *build_all_of(const cJSON *doc, const cJSON *parts, bool full, int depth)
{
    cJSON *acc = NULL;
    cJSON *declared = cJSON_CreateObject(); /* names whose value a declaring part gave */
    if (!declared)
        return NULL;
    const cJSON *part;
    cJSON_ArrayForEach(part, parts)
    {
        cJSON *v = build(doc, part, full, depth + 1);
        if (!v) {
            cJSON_Delete(acc);
            acc = NULL;
            break;
        }
        if (!acc)
            acc = cJSON_IsObject(v) ? cJSON_CreateObject() : v;
        if (acc == v)
            continue;
        if (cJSON_IsObject(acc) && cJSON_IsObject(v)) {
            while (v->child) {
                cJSON *k = cJSON_DetachItemViaPointer(v, v->child);
                bool decl = declares(doc, part, k->string);
                cJSON *have = cJSON_GetObjectItemCaseSensitive(acc, k->string);
                if (have && (!decl || cJSON_GetObjectItemCaseSensitive(declared, k->string))) {
                    cJSON_Delete(k);
                    continue;
                }
                if (have)
                    cJSON_DeleteItemFromObjectCaseSensitive(acc, k->string);
                if (decl)
                    cJSON_AddTrueToObject(declared, k->string);
                cJSON_AddItemToObject(acc, k->string, k);
            }
        }
        cJSON_Delete(v);
    }
    cJSON_Delete(declared);
    return acc;
}

static cJSON *build(const cJSON *doc, const cJSON *node, bool full, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    const cJSON *s = openapi_ref_target(doc, node);
    if (!cJSON_IsObject(s))
        return NULL;
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(s, "example");
    if (ex)
        return cJSON_Duplicate(ex, 1);
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (cJSON_IsArray(en) && en->child)
        return cJSON_Duplicate(en->child, 1);
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(s, "allOf");
    if (cJSON_IsArray(all) && all->child)
        return build_all_of(doc, all, full, depth);
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(s, "oneOf");
    if (!cJSON_IsArray(one) || !one->child)
        one = cJSON_GetObjectItemCaseSensitive(s, "anyOf");
    if (cJSON_IsArray(one) && one->child)
        return build(doc, one->child, full, depth + 1);
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(s, "default");
    const char *type = type_of(s);
    if (!type)
        return cJSON_CreateObject();
    if (!strcmp(type, "object"))
        return build_object(doc, s, full, depth);
    if (!strcmp(type, "array")) {
        cJSON *a = cJSON_CreateArray();
        bool has;
        double min_items = number_of(s, "minItems", &has);
        if (a && (full || min_items >= 1)) {
            cJSON *item = build(doc, cJSON_GetObjectItemCaseSensitive(s, "items"), full, depth + 1);
            if (item)
                cJSON_AddItemToArray(a, item);
        }
        return a;
    }
    if (def && !cJSON_IsNull(def))
        return cJSON_Duplicate(def, 1);
    if (!strcmp(type, "string"))
        return cJSON_CreateString("x");
    if (!strcmp(type, "integer"))
        return build_number(s, true);
    if (!strcmp(type, "number"))
        return build_number(s, false);
    if (!strcmp(type, "boolean"))
        return cJSON_CreateTrue();
    if (!strcmp(type, "null"))
        return cJSON_CreateNull();
    return NULL;
}

cJSON *openapi_instance_build(const cJSON *doc, const cJSON *schema, bool full)
{
    return build(doc, schema, full, 0);
}

bool openapi_instance_is_object_schema(const cJSON *doc, const cJSON *schema)
{
    const cJSON *s = openapi_ref_target(doc, schema);
    if (!cJSON_IsObject(s))
        return false;
    const char *type = type_of(s);
    if (type)
        return !strcmp(type, "object");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(s, "allOf");
    return cJSON_IsArray(all) && all->child && openapi_instance_is_object_schema(doc, all->child);
}
