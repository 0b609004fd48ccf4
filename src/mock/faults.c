/* Planted faults that break the structure of a 200 answer, found by
 * walking the documented response schema next to the instance. */
#include "mock/internal.h"

#include <string.h>

#define WALK_DEPTH 8

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The object schema the fault works on: the root, or the items of a root
 * array. */
static const cJSON *target_schema(struct mock_api *api, const struct mock_op *op, bool *is_array)
{
    const cJSON *s = mock_resolve(&api->comps, op->resp_raw);
    *is_array = false;
    const cJSON *t = get(s, "type");
    if (cJSON_IsString(t) && strcmp(t->valuestring, "array") == 0) {
        *is_array = true;
        s = mock_resolve(&api->comps, get(s, "items"));
    }
    return s;
}

static bool has_enum(struct mock_api *api, const cJSON *s, int depth)
{
    s = mock_resolve(&api->comps, s);
    if (!s || depth > WALK_DEPTH)
        return false;
    if (cJSON_IsArray(get(s, "enum")))
        return true;
    static const char *const unions[] = {"oneOf", "anyOf"};
    for (int u = 0; u < 2; u++) {
        const cJSON *b;
        cJSON_ArrayForEach(b, get(s, unions[u]))
        {
            if (has_enum(api, b, depth + 1))
                return true;
        }
    }
    return false;
}

/* Whether an enum is reachable through properties and items. */
static bool enum_reachable(struct mock_api *api, const cJSON *s, int depth)
{
    s = mock_resolve(&api->comps, s);
    if (!s || depth > WALK_DEPTH)
        return false;
    const cJSON *p;
    cJSON_ArrayForEach(p, get(s, "properties"))
    {
        if (has_enum(api, p, 0) || enum_reachable(api, p, depth + 1))
            return true;
    }
    const cJSON *items = get(s, "items");
    return items && enum_reachable(api, items, depth + 1);
}

bool mock_fault_applies(struct mock_api *api, const struct mock_op *op, enum mock_fault f)
{
    bool arr;
    const cJSON *s;
    switch (f) {
    case MOCK_FAULT_MISSING_REQUIRED:
    case MOCK_FAULT_WRONG_TYPE:
        s = op->resp_raw ? target_schema(api, op, &arr) : NULL;
        return cJSON_GetArraySize(get(s, "required")) > 0;
    case MOCK_FAULT_EXTRA_PROPERTY:
        s = op->resp_raw ? target_schema(api, op, &arr) : NULL;
        return cJSON_IsFalse(get(s, "additionalProperties"));
    case MOCK_FAULT_BAD_ENUM:
        return op->resp_raw && enum_reachable(api, op->resp_raw, 0);
    case MOCK_FAULT_UNDOCUMENTED_STATUS:
    case MOCK_FAULT_WRONG_CONTENT_TYPE:
    case MOCK_FAULT_MALFORMED_JSON:
    case MOCK_FAULT_SLOW:
    case MOCK_FAULT_DROP_CONNECTION:
        return true;
    case MOCK_FAULT_COUNT:
        break;
    }
    return false;
}

/* A value of another JSON type than v. */
static cJSON *wrong_value(const cJSON *v)
{
    if (cJSON_IsString(v))
        return cJSON_CreateNumber(12345);
    if (cJSON_IsNumber(v))
        return cJSON_CreateString("12345");
    if (cJSON_IsBool(v))
        return cJSON_CreateString("true");
    if (cJSON_IsNull(v))
        return cJSON_CreateNumber(0);
    return cJSON_CreateString("not-an-object-or-array");
}

/* Replaces the first enum-typed value found in inst (walking s). */
static bool break_enum(struct mock_api *api, cJSON *inst, const cJSON *s, int depth)
{
    s = mock_resolve(&api->comps, s);
    if (!s || depth > WALK_DEPTH)
        return false;
    if (cJSON_IsObject(inst)) {
        const cJSON *props = get(s, "properties");
        for (cJSON *child = inst->child; child; child = child->next) {
            const cJSON *ps = get(props, child->string);
            if (!ps)
                continue;
            if (has_enum(api, ps, 0) && (cJSON_IsString(child) || cJSON_IsNull(child))) {
                cJSON *bad = cJSON_CreateString("ingestcheck-not-in-enum");
                if (bad && cJSON_ReplaceItemInObjectCaseSensitive(inst, child->string, bad))
                    return true;
                cJSON_Delete(bad);
                return false;
            }
            if (break_enum(api, child, ps, depth + 1))
                return true;
        }
    } else if (cJSON_IsArray(inst)) {
        const cJSON *items = get(s, "items");
        cJSON *el;
        cJSON_ArrayForEach(el, inst)
        {
            if (break_enum(api, el, items, depth + 1))
                return true;
        }
    }
    return false;
}

static void apply(struct mock_api *api, const struct mock_op *op, enum mock_fault f, cJSON **doc)
{
    bool arr;
    const cJSON *s = target_schema(api, op, &arr);
    cJSON *inst = arr ? (cJSON_IsArray(*doc) ? (*doc)->child : NULL) : *doc;
    if (arr && !cJSON_IsArray(*doc))
        return;
    switch (f) {
    case MOCK_FAULT_MISSING_REQUIRED:
        if (!inst) {
            cJSON_AddItemToArray(*doc, cJSON_CreateObject()); /* misses every property */
            return;
        }
        for (const cJSON *r = get(s, "required") ? get(s, "required")->child : NULL; r;
             r = r->next) {
            if (cJSON_IsString(r) && get(inst, r->valuestring)) {
                cJSON_DeleteItemFromObjectCaseSensitive(inst, r->valuestring);
                return;
            }
        }
        return;
    case MOCK_FAULT_WRONG_TYPE:
        if (!inst) {
            cJSON *o = cJSON_CreateObject(); /* an object where an array belongs */
            if (o) {
                cJSON_Delete(*doc);
                *doc = o;
            }
            return;
        }
        for (const cJSON *r = get(s, "required") ? get(s, "required")->child : NULL; r;
             r = r->next) {
            cJSON *v =
                cJSON_IsString(r) ? cJSON_GetObjectItemCaseSensitive(inst, r->valuestring) : NULL;
            if (v) {
                cJSON *w = wrong_value(v);
                if (w && !cJSON_ReplaceItemInObjectCaseSensitive(inst, r->valuestring, w))
                    cJSON_Delete(w);
                return;
            }
        }
        return;
    case MOCK_FAULT_EXTRA_PROPERTY:
        if (!inst) {
            inst = cJSON_CreateObject();
            if (!inst || !cJSON_AddItemToArray(*doc, inst))
                return;
        }
        cJSON_AddBoolToObject(inst, "ingestcheckUnexpected", 1);
        return;
    case MOCK_FAULT_BAD_ENUM:
        break_enum(api, *doc, op->resp_raw, 0);
        return;
    default:
        return;
    }
}

void mock_faults_apply_doc(struct mock_api *api, const struct mock_op *op, cJSON **doc)
{
    static const enum mock_fault order[] = {MOCK_FAULT_BAD_ENUM, MOCK_FAULT_WRONG_TYPE,
                                            MOCK_FAULT_EXTRA_PROPERTY, MOCK_FAULT_MISSING_REQUIRED};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (op->faults & (1u << order[i]))
            apply(api, op, order[i], doc);
}
