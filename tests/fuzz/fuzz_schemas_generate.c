/* Fuzz target: arbitrary bytes as an OpenAPI document, as `ingestcheck
 * schemas generate | lint | examples --spec` read it.
 *
 * openapi_load_text, then openapi_generate, openapi_lint and openapi_examples.
 *
 * Oracle (abort() on failure):
 *  - a refusal returns a status code with err->code set and a one-line
 *    message, and leaves no files;
 *  - a derived spec has operations.json and defects.json, every file is
 *    valid JSON, and generating again gives the same bytes (deterministic);
 *  - lint and examples succeed on what generate accepted. */
#include "fuzz_common.h"

#include "openapi/spec.h"
#include "util/error.h"
#include "json/json.h"

#include <string.h>

static void check_files(const struct openapi_files *files)
{
    if (!openapi_files_find(files, "operations.json") || !openapi_files_find(files, "defects.json"))
        fuzz_fail("generated %zu files without operations.json or defects.json", files->count);
    for (size_t i = 0; i < files->count; i++) {
        cJSON *doc = NULL;
        struct util_error err;
        util_error_clear(&err);
        if (json_parse(files->items[i].data, files->items[i].len, files->items[i].path, &doc,
                       &err) != UTIL_OK)
            fuzz_fail("%s is not JSON: %s", files->items[i].path, err.message);
        cJSON_Delete(doc);
    }
}

static void same_files(const struct openapi_files *a, const struct openapi_files *b)
{
    if (a->count != b->count)
        fuzz_fail("generate is not deterministic: %zu then %zu files", a->count, b->count);
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->items[i].path, b->items[i].path) != 0 || a->items[i].len != b->items[i].len ||
            memcmp(a->items[i].data, b->items[i].data, a->items[i].len) != 0)
            fuzz_fail("generate is not deterministic: %s", a->items[i].path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    struct util_error err;
    util_error_clear(&err);
    struct openapi *spec = NULL;
    int rc = openapi_load_text((const char *)data, size, "fuzz.yml", &spec, &err);
    if (rc) {
        fuzz_check_refusal(rc, &err, "openapi_load_text");
        return 0;
    }
    struct openapi_files files, again;
    openapi_files_init(&files);
    openapi_files_init(&again);
    util_error_clear(&err);
    rc = openapi_generate(spec, &files, &err);
    if (rc) {
        fuzz_check_refusal(rc, &err, "openapi_generate");
        if (files.count)
            fuzz_fail("a refused spec left %zu files", files.count);
    } else {
        check_files(&files);
        if (openapi_generate(spec, &again, &err) == UTIL_OK)
            same_files(&files, &again);
        cJSON *defects = NULL, *results = NULL;
        rc = openapi_lint(spec, &defects, &err);
        if (rc && rc != UTIL_ERR_NOMEM)
            fuzz_fail("lint failed where generate succeeded: %s", err.message);
        cJSON_Delete(defects);
        rc = openapi_examples(spec, &results, NULL, &err);
        if (rc && rc != UTIL_ERR_NOMEM)
            fuzz_fail("examples failed where generate succeeded: %s", err.message);
        cJSON_Delete(results);
    }
    openapi_files_finish(&files);
    openapi_files_finish(&again);
    openapi_destroy(spec);
    return 0;
}
