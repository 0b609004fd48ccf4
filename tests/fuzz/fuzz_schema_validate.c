/* Fuzz target: a schema and an instance, validated with the oracle.
 *
 * Input format (text, so seeds are easy to write by hand):
 *
 *   <schema>\n<instance>
 *
 * The first line is the schema: JSON on one line, or "@name" to pick one of
 * the built-in schemas below (a listTasksResponse modelled on the Ingestion
 * API, recursion, $dynamicRef, unevaluated*, formats, numbers, strings,
 * arrays), so that the fuzzer can spend its time on instances against
 * realistic schemas. The rest of the input is the instance. An input without
 * a newline is an instance for built-in schema number hash(input) % N.
 *
 * The schema is compiled, then schema_validate and schema_is_valid must
 * agree (fuzz_check_validate abort()s otherwise). */
#include "fuzz_common.h"

#include "schema/schema.h"
#include "util/error.h"
#include "json/json.h"

#include <stdbool.h>
#include <string.h>

#define BASE_URI "https://fuzz.example/schemas/input.json"

/* JSON written as C tokens: the preprocessor turns it into a string with
 * the quotes and backslashes escaped. Non-ASCII text is written as UTF-8,
 * never as backslash-u escapes (stringizing a universal character name is
 * unspecified in C11). */
#define JSON(...) #__VA_ARGS__

struct builtin {
    const char *name;
    bool check_formats;
    const char *json;
};

/* clang-format off */
static const struct builtin builtins[] = {
    {"task", false, JSON({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "listTasksResponse",
        "type": "object",
        "additionalProperties": false,
        "required": ["tasks", "pagination"],
        "properties": {
            "tasks": {"type": "array", "items": {"$ref": "#/$defs/Task"}},
            "pagination": {"$ref": "#/$defs/Pagination"}
        },
        "$defs": {
            "uuid": {"type": "string", "format": "uuid"},
            "LastRun": {"type": "string"},
            "Task": {
                "type": "object",
                "additionalProperties": false,
                "required": ["taskID", "sourceID", "destinationID", "trigger", "enabled",
                             "action", "createdAt"],
                "properties": {
                    "taskID": {"$ref": "#/$defs/uuid"},
                    "sourceID": {"$ref": "#/$defs/uuid"},
                    "destinationID": {"$ref": "#/$defs/uuid"},
                    "trigger": {"$ref": "#/$defs/Trigger"},
                    "input": {"$ref": "#/$defs/TaskInput"},
                    "enabled": {"type": "boolean", "default": true},
                    "failureThreshold": {"type": "integer", "minimum": 0, "maximum": 100},
                    "action": {"enum": ["replace", "save", "partial", "append"]},
                    "createdAt": {"type": "string"},
                    "updatedAt": {"type": "string"}
                }
            },
            "Trigger": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["type"],
                 "properties": {"type": {"const": "onDemand"},
                                "lastRun": {"$ref": "#/$defs/LastRun"}}},
                {"type": "object", "additionalProperties": false,
                 "required": ["type", "cron", "nextRun"],
                 "properties": {"type": {"const": "schedule"}, "cron": {"type": "string"},
                                "lastRun": {"$ref": "#/$defs/LastRun"},
                                "nextRun": {"type": "string"}}},
                {"type": "object", "additionalProperties": false, "required": ["type"],
                 "properties": {"type": {"enum": ["subscription"]}}},
                {"type": "object", "additionalProperties": false, "required": ["type"],
                 "properties": {"type": {"enum": ["streaming"]}}}
            ]},
            "Mapping": {
                "type": "object", "additionalProperties": false,
                "required": ["format", "actions"],
                "properties": {
                    "format": {"enum": ["mappingkit/v1"]},
                    "actions": {"type": "array", "items": {
                        "type": "object", "additionalProperties": false,
                        "required": ["enabled", "trigger", "fieldDirectives"],
                        "properties": {
                            "id": {"type": "string"},
                            "enabled": {"type": "boolean"},
                            "trigger": {"type": "string"},
                            "fieldDirectives": {"type": "array", "items": {
                                "type": "object", "additionalProperties": false,
                                "required": ["fieldKey", "value"],
                                "properties": {"fieldKey": {"type": "string"},
                                               "value": {"type": "object",
                                                         "additionalProperties": true}}}}}}}
                }
            },
            "TaskInput": {"oneOf": [
                {"type": "object", "additionalProperties": false,
                 "required": ["startDate", "endDate"],
                 "properties": {"startDate": {"type": "string"}, "endDate": {"type": "string"},
                                "mapping": {"$ref": "#/$defs/Mapping"}}},
                {"type": "object", "additionalProperties": false, "required": ["timeframe"],
                 "properties": {"timeframe": {"type": "integer", "minimum": 1, "maximum": 30},
                                "mapping": {"$ref": "#/$defs/Mapping"}}},
                {"type": "object", "additionalProperties": false, "required": ["mapping"],
                 "properties": {"mapping": {"$ref": "#/$defs/Mapping"}}},
                {"type": "object", "additionalProperties": false,
                 "required": ["metafields", "market"],
                 "properties": {
                     "metafields": {"type": "array", "items": {
                         "type": "object", "additionalProperties": false,
                         "required": ["namespace", "key", "value"],
                         "properties": {"namespace": {"type": "string"},
                                        "key": {"type": "string"},
                                        "value": {"type": "string"}}}},
                     "market": {"type": "object", "additionalProperties": false,
                                "required": ["countries", "currencies", "locales"],
                                "properties": {
                                    "countries": {"type": "array", "items": {"type": "string"}},
                                    "currencies": {"type": "array", "items": {"type": "string"}},
                                    "locales": {"type": "array", "items": {"type": "string"}}}}}}
            ]},
            "Pagination": {
                "type": "object", "additionalProperties": false,
                "required": ["nbPages", "page", "nbItems", "itemsPerPage"],
                "properties": {
                    "nbPages": {"type": "integer", "minimum": 1},
                    "page": {"type": "integer", "minimum": 1},
                    "nbItems": {"type": "integer", "minimum": 0},
                    "itemsPerPage": {"type": "integer", "minimum": 1, "maximum": 100}
                }
            }
        }
    })},
    {"recursive", false, JSON({
        "$id": "https://fuzz.example/tree.json",
        "$ref": "#/$defs/node",
        "$defs": {"node": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "value": {"type": ["number", "string", "null"]},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 8},
                "next": {"$ref": "tree.json"}
            }
        }}
    })},
    {"dynamic", false, JSON({
        "$id": "https://fuzz.example/strict-tree.json",
        "$dynamicAnchor": "node",
        "$ref": "#/$defs/tree",
        "unevaluatedProperties": false,
        "$defs": {"tree": {
            "$id": "https://fuzz.example/tree-dyn.json",
            "$dynamicAnchor": "node",
            "type": "object",
            "properties": {
                "data": true,
                "children": {"type": "array", "items": {"$dynamicRef": "#node"}}
            }
        }}
    })},
    {"unevaluated", false, JSON({
        "type": "object",
        "properties": {"kind": {"enum": ["a", "b"]}},
        "allOf": [{"properties": {"common": {"type": "string"}}}],
        "if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
        "then": {"properties": {"alpha": {"type": "integer"}}},
        "else": {"properties": {"beta": {"type": "boolean"}},
                 "patternProperties": {"^x-": true}},
        "dependentSchemas": {"alpha": {"required": ["common"]}},
        "dependentRequired": {"beta": ["kind"]},
        "unevaluatedProperties": false
    })},
    {"formats", true, JSON({
        "type": "object",
        "properties": {
            "dt": {"format": "date-time"},
            "d": {"format": "date"},
            "t": {"format": "time"},
            "u": {"format": "uuid"},
            "e": {"format": "email"},
            "uri": {"format": "uri"},
            "ref": {"format": "uri-reference"},
            "v4": {"format": "ipv4"},
            "v6": {"format": "ipv6"},
            "host": {"format": "hostname"},
            "re": {"format": "regex"},
            "ptr": {"format": "json-pointer"},
            "dur": {"format": "duration"}
        },
        "additionalProperties": {"type": "string", "format": "date-time"}
    })},
    {"numbers", false, JSON({
        "type": "array",
        "prefixItems": [
            {"type": "integer"},
            {"multipleOf": 0.01},
            {"minimum": -1e308, "exclusiveMaximum": 1e308},
            {"const": 12345678901234567890},
            {"enum": [0, 1.5, -0.0, 1e-300, "1"]},
            {"multipleOf": 1e-9, "maximum": 9007199254740993}
        ],
        "items": {"type": "number", "minimum": 0, "multipleOf": 3}
    })},
    {"strings", false, JSON({
        "type": "object",
        "propertyNames": {"pattern": "^[a-z_][a-z0-9_]*$", "maxLength": 16},
        "patternProperties": {
            "^s_": {"type": "string", "minLength": 2, "maxLength": 5},
            "^p_": {"type": "string", "pattern": "^(\\d{3}-)?\\d{4}$"},
            "^u_": {"type": "string", "pattern": "^[^0-9]+$", "maxLength": 3}
        },
        "properties": {"e": {"enum": ["café", "naïve", "😀"]}},
        "additionalProperties": {"type": "string", "pattern": "a*b"}
    })},
    {"arrays", false, JSON({
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "object"}],
        "contains": {"type": "integer"},
        "minContains": 1,
        "maxContains": 3,
        "uniqueItems": true,
        "unevaluatedItems": {"anyOf": [{"type": "boolean"}, {"type": "array", "items": false}]}
    })},
};

/* clang-format on */

#define N_BUILTINS (sizeof builtins / sizeof builtins[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    uint32_t h = fuzz_hash(data, size);
    const struct builtin *bi = NULL;
    const char *schema_text;
    size_t schema_len;
    const char *inst_text;
    size_t inst_len;

    if (!nl) {
        bi = &builtins[h % N_BUILTINS];
        inst_text = text;
        inst_len = size;
    } else {
        size_t line_len = (size_t)(nl - text);
        inst_text = nl + 1;
        inst_len = size - line_len - 1;
        if (line_len > 1 && text[0] == '@') {
            for (size_t i = 0; i < N_BUILTINS; i++) {
                size_t n = strlen(builtins[i].name);
                if (n == line_len - 1 && memcmp(text + 1, builtins[i].name, n) == 0)
                    bi = &builtins[i];
            }
            if (!bi)
                return 0;
        }
    }
    if (bi) {
        schema_text = bi->json;
        schema_len = strlen(bi->json);
    } else {
        schema_text = text;
        schema_len = (size_t)(nl - text);
    }

    struct util_error err;
    util_error_clear(&err);
    cJSON *schema_doc = NULL;
    if (json_parse(schema_text, schema_len, "schema", &schema_doc, &err) != UTIL_OK) {
        if (bi)
            fuzz_fail("built-in schema @%s does not parse: %s", bi->name, err.message);
        return 0;
    }
    cJSON *instance = NULL;
    if (json_parse(inst_text, inst_len, "instance", &instance, &err) != UTIL_OK) {
        cJSON_Delete(schema_doc);
        return 0;
    }

    struct schema_options opts;
    memset(&opts, 0, sizeof opts);
    opts.check_formats = bi ? bi->check_formats : ((h >> 7) & 1u) != 0;
    struct schema_registry *reg = schema_registry_create(&opts);
    if (reg) {
        struct schema *s = NULL;
        util_error_clear(&err);
        int rc = schema_registry_add(reg, BASE_URI, schema_doc, &s, &err);
        if (rc == UTIL_OK && s)
            fuzz_check_validate(s, instance, bi ? bi->name : "input schema");
        else if (bi)
            fuzz_fail("built-in schema @%s does not compile: %s", bi->name, err.message);
        schema_registry_destroy(reg);
    }
    cJSON_Delete(instance);
    cJSON_Delete(schema_doc);
    return 0;
}
