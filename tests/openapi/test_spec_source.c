/* Tests of src/openapi/source.c: a schemas directory and the spec it was
 * derived from, opened as sources, give the same operations, files, spec
 * identity and registered schemas; a revision of ../shared is derived in
 * memory with its own operations. */
#include "openapi/source.h"
#include "openapi/spec.h"

#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char schemas[4200];
static char spec_path[4300];

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(schemas, sizeof(schemas), "%s/schemas", src ? src : ".");
    snprintf(spec_path, sizeof(spec_path), "%s/openapi/ingestion.yml", schemas);
    return 0;
}

static void test_dir_and_spec_agree(void **state)
{
    (void)state;
    struct util_error err;
    struct openapi_source *dir = NULL, *mem = NULL;
    util_error_clear(&err);
    assert_int_equal(openapi_source_open_dir(schemas, &dir, &err), UTIL_OK);
    assert_int_equal(openapi_source_open_spec(spec_path, &mem, &err), UTIL_OK);
    assert_false(openapi_source_derived(dir));
    assert_true(openapi_source_derived(mem));
    /* The same operations.json, so the same operations in the same order. */
    assert_true(json_equal(openapi_source_operations(dir), openapi_source_operations(mem)));
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItem(openapi_source_operations(mem), "operations")), 33);
    assert_string_equal(openapi_source_title(dir), openapi_source_title(mem));
    assert_string_equal(openapi_source_version(dir), openapi_source_version(mem));
    assert_string_equal(openapi_source_sha256(dir), openapi_source_sha256(mem));
    /* A component's and the defects' bytes are the committed ones. */
    static const char *const files[] = {"components/Task.json", "defects.json"};
    for (size_t i = 0; i < 2; i++) {
        char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0;
        assert_int_equal(openapi_source_read(dir, files[i], &a, &la, &err), UTIL_OK);
        assert_int_equal(openapi_source_read(mem, files[i], &b, &lb, &err), UTIL_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
    }
    /* The loaded spec: the directory's openapi/ingestion.yml, the same
     * document. */
    const struct openapi *sd = NULL, *sm = NULL;
    assert_int_equal(openapi_source_spec(dir, &sd, &err), UTIL_OK);
    assert_int_equal(openapi_source_spec(mem, &sm, &err), UTIL_OK);
    assert_string_equal(openapi_sha256(sd), openapi_sha256(sm));
    assert_string_equal(openapi_sha256(sm), openapi_source_sha256(mem));
    assert_int_equal(openapi_operation_count(sd), openapi_operation_count(sm));
    /* Registered, a response schema resolves from either. */
    for (size_t i = 0; i < 2; i++) {
        struct openapi_source *s = i ? mem : dir;
        struct schema_registry *reg = schema_registry_create(NULL);
        char *uri = NULL;
        struct schema *sch = NULL;
        assert_non_null(reg);
        assert_int_equal(openapi_source_register(s, reg, &uri, &err), UTIL_OK);
        size_t n = strlen(uri) + 64;
        char *frag = malloc(n);
        assert_non_null(frag);
        snprintf(frag, n, "%s#/operations/0/responses/200/schema", uri);
        assert_int_equal(schema_registry_lookup(reg, frag, &sch, &err), UTIL_OK);
        assert_non_null(sch);
        free(frag);
        free(uri);
        schema_registry_destroy(reg);
    }
    openapi_source_destroy(dir);
    openapi_source_destroy(mem);
}

static void test_errors(void **state)
{
    (void)state;
    struct util_error err;
    struct openapi_source *s = NULL;
    util_error_clear(&err);
    assert_int_not_equal(openapi_source_open_dir("/nonexistent/schemas", &s, &err), UTIL_OK);
    assert_null(s);
    assert_non_null(strstr(err.message, "/nonexistent/schemas/operations.json"));
    util_error_clear(&err);
    assert_int_not_equal(openapi_source_open_spec("/nonexistent/spec.yml", &s, &err), UTIL_OK);
    assert_null(s);
    assert_non_null(strstr(err.message, "/nonexistent/spec.yml"));
    assert_int_equal(openapi_source_open_spec(spec_path, &s, &err), UTIL_OK);
    char *data = NULL;
    size_t len = 0;
    /* Only files of the schemas directory. */
    assert_int_equal(openapi_source_read(s, "components/Nope.json", &data, &len, &err),
                     UTIL_ERR_NOTFOUND);
    assert_int_equal(openapi_source_read(s, "../spec.yml", &data, &len, &err), UTIL_ERR_NOTFOUND);
    assert_int_equal(openapi_source_read(s, "/etc/passwd", &data, &len, &err), UTIL_ERR_NOTFOUND);
    assert_null(data);
    openapi_source_destroy(s);
    struct openapi_source *d = NULL;
    assert_int_equal(openapi_source_open_dir(schemas, &d, &err), UTIL_OK);
    assert_int_equal(openapi_source_read(d, "components/../../README.md", &data, &len, &err),
                     UTIL_ERR_NOTFOUND);
    openapi_source_destroy(d);
}

/* The 2025-09 revision (../shared; skipped when absent): 61 operations,
 * its own identity, components read from memory. */
static void test_revision(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    char path[4200];
    snprintf(path, sizeof(path), "%s/../shared/spec/revisions/ingestion-2025-09-15-f4ca029309.yml",
             src ? src : ".");
    if (access(path, R_OK) != 0)
        skip();
    struct util_error err;
    struct openapi_source *s = NULL;
    util_error_clear(&err);
    assert_int_equal(openapi_source_open_spec(path, &s, &err), UTIL_OK);
    const cJSON *ops = cJSON_GetObjectItem(openapi_source_operations(s), "operations");
    assert_int_equal(cJSON_GetArraySize(ops), 61);
    const struct openapi *sp = NULL;
    assert_int_equal(openapi_source_spec(s, &sp, &err), UTIL_OK);
    assert_int_equal(openapi_operation_count(sp), 61);
    assert_string_equal(openapi_source_sha256(s), openapi_sha256(sp));
    assert_string_equal(openapi_source_origin(s), path);
    assert_non_null(openapi_operation_find(sp, "listTasksV1"));
    assert_null(openapi_operation_find(sp, "getDockerSourceStreams"));
    cJSON *task = NULL;
    assert_int_equal(openapi_source_read_json(s, "components/TaskV1.json", &task, &err), UTIL_OK);
    assert_true(cJSON_IsObject(task));
    cJSON_Delete(task);
    openapi_source_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dir_and_spec_agree),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_revision),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
