/* Fuzz target: arbitrary bytes as a schema document.
 *
 * json_parse -> schema_registry_add (compile, resolve references) -> a few
 * lookups by fragment -> validation of fixed instances (and of the document
 * itself) through the fuzz_check_validate oracle. The dialect and format
 * assertion are picked from a hash of the input, so the same input always
 * takes the same path (reproducible crashes). Must never crash, leak or hang. */
#include "fuzz_common.h"

#include "schema/schema.h"
#include "util/error.h"
#include "json/json.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define BASE_URI "https://fuzz.example/schemas/root.json"

static const char *const instances[] = {
    "null",
    "true",
    "0",
    "-1.5",
    "1e308",
    "18446744073709551617",
    "\"\"",
    "\"abc\"",
    "\"2024-05-01T12:34:56Z\"",
    "\"6c02aeb1-775e-418e-870b-1faccd4b2c0f\"",
    "[]",
    "[1, \"a\", null, [2], {\"b\": false}]",
    "[1, 1]",
    "{}",
    "{\"a\": 1, \"b\": [true, {\"c\": \"d\"}], \"foo\": \"bar\", \"\": null}",
};

static const char *const fragments[] = {
    "#", "#/$defs/a", "#/properties/foo", "#/items", "#foo", "#/definitions/a",
};

static enum schema_dialect pick_dialect(uint32_t h)
{
    switch (h % 8) {
    case 0:
        return SCHEMA_DIALECT_DRAFT7;
    case 1:
        return SCHEMA_DIALECT_DRAFT4;
    case 2:
        return SCHEMA_DIALECT_OAS30;
    case 3:
        return SCHEMA_DIALECT_2020_12;
    default:
        return SCHEMA_DIALECT_AUTO;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    struct util_error err;
    util_error_clear(&err);
    cJSON *doc = NULL;
    if (json_parse((const char *)data, size, "fuzz-input", &doc, &err) != UTIL_OK)
        return 0;

    uint32_t h = fuzz_hash(data, size);
    struct schema_options opts;
    memset(&opts, 0, sizeof opts);
    opts.default_dialect = pick_dialect(h);
    opts.check_formats = (h >> 3) & 1u;

    struct schema_registry *reg = schema_registry_create(&opts);
    if (!reg) {
        cJSON_Delete(doc);
        return 0;
    }
    struct schema *root = NULL;
    util_error_clear(&err);
    int rc = schema_registry_add(reg, BASE_URI, doc, &root, &err);
    if (rc != UTIL_OK && err.code == UTIL_OK)
        fuzz_fail("schema_registry_add returned %d without setting err", rc);
    if (rc == UTIL_OK && root) {
        char what[64];
        for (size_t i = 0; i < sizeof instances / sizeof instances[0]; i++) {
            cJSON *inst = NULL;
            if (json_parse(instances[i], strlen(instances[i]), "instance", &inst, NULL) != UTIL_OK)
                fuzz_fail("fixed instance %zu does not parse", i);
            snprintf(what, sizeof what, "fixed instance %zu", i);
            fuzz_check_validate(root, inst, what);
            cJSON_Delete(inst);
        }
        /* The schema document is also a fine instance (deep, odd keys). */
        fuzz_check_validate(root, doc, "the document itself");

        for (size_t i = 0; i < sizeof fragments / sizeof fragments[0]; i++) {
            char uri[128];
            struct schema *sub = NULL;
            snprintf(uri, sizeof uri, "%s%s", BASE_URI, fragments[i]);
            util_error_clear(&err);
            if (schema_registry_lookup(reg, uri, &sub, &err) == UTIL_OK && sub) {
                snprintf(what, sizeof what, "lookup %s", fragments[i]);
                fuzz_check_validate(sub, doc, what);
            }
        }
    }
    schema_registry_destroy(reg);
    cJSON_Delete(doc);
    return 0;
}
