/* Tests of src/case/resolve.c: steps by `request: METHOD /template`, and
 * operationIds of the schemas directory's revision resolved in another
 * revision (../shared's 2025-09, derived in memory; those tests skip when
 * it is absent): renamed ids, removed operations, catch-all templates. */
#include "case/case.h"
#include "openapi/source.h"

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
static char revision[4300];
static struct case_loader *committed; /* the schemas directory alone */
static struct case_loader *newer;     /* 2025-09, cases of the directory's revision */

static struct case_loader *loader_over(const char *spec, struct util_error *err)
{
    struct openapi_source *src = NULL;
    int rc = spec ? openapi_source_open_spec(spec, &src, err)
                  : openapi_source_open_dir(schemas, &src, err);
    struct case_loader *l = rc ? NULL : case_loader_create(schemas, src, err);
    openapi_source_destroy(src);
    return l;
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    struct util_error err;
    util_error_clear(&err);
    snprintf(schemas, sizeof(schemas), "%s/schemas", src ? src : ".");
    snprintf(revision, sizeof(revision),
             "%s/../shared/spec/revisions/ingestion-2025-09-15-f4ca029309.yml", src ? src : ".");
    committed = loader_over(NULL, &err);
    if (committed && access(revision, R_OK) == 0)
        newer = loader_over(revision, &err);
    if (!committed || (access(revision, R_OK) == 0 && !newer))
        fprintf(stderr, "setup: %s\n", err.message);
    return committed && (newer || access(revision, R_OK) != 0) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    case_loader_destroy(committed);
    case_loader_destroy(newer);
    return 0;
}

static struct case_file *load(const struct case_loader *l, const char *text)
{
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (case_file_load_text(l, text, strlen(text), "r.yaml", &f, &err))
        fail_msg("%s", err.message);
    return f;
}

static void expect_error(const struct case_loader *l, const char *text, const char *want)
{
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (case_file_load_text(l, text, strlen(text), "r.yaml", &f, &err) == UTIL_OK)
        fail_msg("loaded, expected: %s", want);
    if (strcmp(err.message, want) != 0)
        fail_msg("got      %s\nexpected %s", err.message, want);
    assert_int_equal(err.code, UTIL_ERR_INVALID);
    assert_string_equal(err.file, "r.yaml");
}

#define ONE_STEP(step) "cases:\n  - name: a\n    steps:\n      - " step

static void test_request_form(void **state)
{
    (void)state;
    struct case_file *f =
        load(committed, ONE_STEP("request: GET /1/tasks/{taskID}\n        path: {taskID: x}\n"
                                 "      - request: POST /1/tasks/search\n"
                                 "        body: {taskIDs: [x]}\n"));
    const struct case_step *s = &f->cases[0].steps[0];
    assert_int_equal(s->kind, CASE_STEP_OPERATION);
    assert_string_equal(s->operation_id, "getTask");
    assert_string_equal(s->name, "getTask");
    assert_string_equal(s->method, "GET");
    assert_string_equal(s->path_template, "/1/tasks/{taskID}");
    assert_null(s->declared_id);
    assert_null(s->unresolved);
    assert_non_null(s->operation);
    /* A literal segment is not a parameter: /1/tasks/search is searchTasks. */
    assert_string_equal(f->cases[0].steps[1].operation_id, "searchTasks");
    case_file_destroy(f);
    /* Parameter names may differ from the spec's: same shape. */
    f = load(committed, ONE_STEP("request: DELETE /1/tasks/{id}\n        path: {taskID: x}\n"));
    assert_string_equal(f->cases[0].steps[0].operation_id, "deleteTask");
    case_file_destroy(f);
}

static void test_request_errors(void **state)
{
    (void)state;
    expect_error(committed, ONE_STEP("request: GET /1/nothing\n"),
                 "r.yaml:4:9: request: no operation of the spec is GET /1/nothing (write the "
                 "method and the path template as the spec does, GET /1/tasks/{taskID}; path "
                 "parameters go in path:)");
    /* A concrete path is not a template. */
    expect_error(committed, ONE_STEP("request: GET /1/tasks/abc\n"),
                 "r.yaml:4:9: request: no operation of the spec is GET /1/tasks/abc (write the "
                 "method and the path template as the spec does, GET /1/tasks/{taskID}; path "
                 "parameters go in path:)");
    expect_error(committed, ONE_STEP("request: PUT /1/tasks\n"),
                 "r.yaml:4:9: request: no operation of the spec is PUT /1/tasks (write the "
                 "method and the path template as the spec does, GET /1/tasks/{taskID}; path "
                 "parameters go in path:)");
    expect_error(committed, ONE_STEP("request: GET /1/tasks?x=1\n"),
                 "r.yaml:4:9: request: GET /1/tasks?x=1: the path template takes no query (use "
                 "query:)");
    /* The schema checks the form. */
    expect_error(committed, ONE_STEP("request: FETCH /1/tasks\n"),
                 "r.yaml:4:9: request: expected a method and a path template such as GET "
                 "/1/tasks/{taskID}, got \"FETCH /1/tasks\"");
    expect_error(committed, ONE_STEP("request: GET /1/tasks\n        operation: getTasks\n"),
                 "r.yaml:4:9: a step has one of operation:, request: or method: and path:");
    expect_error(committed, ONE_STEP("request: GET /1/tasks/{taskID}\n"),
                 "r.yaml:4:9: getTask needs the path parameter 'taskID' (path: {taskID: ...})");
    expect_error(committed, ONE_STEP("request: GET /1/tasks\n        path: {taskID: x}\n"),
                 "r.yaml:5:16: 'taskID' is not a path parameter of getTasks (/1/tasks has: none)");
}

static void test_renamed_and_removed(void **state)
{
    (void)state;
    if (!newer)
        skip();
    struct case_file *f =
        load(newer, ONE_STEP("operation: getTasks\n"
                             "      - operation: createTask\n"
                             "        body: {sourceID: s, destinationID: d, action: replace, "
                             "trigger: {type: onDemand}}\n"
                             "      - operation: getTasks\n"
                             "      - operation: getDockerSourceStreams\n"
                             "        path: {sourceID: x}\n"
                             "      - operation: listTransformations\n"
                             "      - request: GET /1/tasks\n"
                             "      - request: GET /{path}\n"
                             "        path: {path: 1/x}\n"
                             "      - operation: getSource\n"
                             "        path: {sourceID: x}\n"));
    const struct case_step *s = f->cases[0].steps;
    /* Renamed: the loaded spec's operation at the same method and path. */
    assert_string_equal(s[0].operation_id, "listTasksV1");
    assert_string_equal(s[0].declared_id, "getTasks");
    assert_string_equal(s[0].name, "getTasks");
    assert_string_equal(s[0].path_template, "/1/tasks");
    /* createTask is /2/tasks in 2025-09: the case's /1/tasks one runs. */
    assert_string_equal(s[1].operation_id, "createTaskV1");
    assert_string_equal(s[1].path_template, "/1/tasks");
    /* Removed: kept, to fail when it runs. */
    assert_null(s[3].operation);
    assert_string_equal(s[3].operation_id, "getDockerSourceStreams");
    assert_string_equal(s[3].declared_id, "getDockerSourceStreams");
    assert_string_equal(s[3].unresolved,
                        "the loaded spec has no operation getDockerSourceStreams (GET "
                        "/1/sources/{sourceID}/discover), by id or by method and path");
    /* An operationId only the loaded spec has. */
    assert_string_equal(s[4].operation_id, "listTransformations");
    assert_null(s[4].declared_id);
    /* The catch-all never shadows a specific template. */
    assert_string_equal(s[5].operation_id, "listTasksV1");
    assert_string_equal(s[6].operation_id, "customGet");
    /* Unchanged. */
    assert_string_equal(s[7].operation_id, "getSource");
    assert_null(s[7].declared_id);
    /* One entry per renamed id, in order of first use. */
    struct case_suite suite;
    case_suite_init(&suite);
    suite.files = calloc(1, sizeof(*suite.files));
    assert_non_null(suite.files);
    suite.files[0] = f;
    suite.count = suite.alloc = 1;
    struct case_rename *r = NULL;
    size_t n = 0;
    assert_int_equal(case_suite_renames(&suite, &r, &n), UTIL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].declared_id, "getTasks");
    assert_string_equal(r[0].operation_id, "listTasksV1");
    assert_string_equal(r[0].method, "GET");
    assert_string_equal(r[0].path, "/1/tasks");
    assert_string_equal(r[1].declared_id, "createTask");
    assert_string_equal(r[1].operation_id, "createTaskV1");
    free(r);
    case_suite_finish(&suite);
}

static void test_unknown_in_both(void **state)
{
    (void)state;
    if (!newer)
        skip();
    /* An id neither revision has is a typo: refused with the nearest. */
    expect_error(newer, ONE_STEP("operation: getTaks\n"),
                 "r.yaml:4:9: unknown operation 'getTaks' (did you mean 'getTasks'?)");
    /* A request: the loaded spec lacks but the directory's revision has
     * fails when it runs; one neither has is refused. */
    struct case_file *f = load(newer, ONE_STEP("request: GET /1/sources/{sourceID}/discover\n"
                                               "        path: {sourceID: x}\n"));
    assert_string_equal(f->cases[0].steps[0].unresolved,
                        "the loaded spec has no operation GET /1/sources/{sourceID}/discover");
    case_file_destroy(f);
    expect_error(newer, ONE_STEP("request: GET /1/nothing\n"),
                 "r.yaml:4:9: request: no operation of the spec is GET /1/nothing (write the "
                 "method and the path template as the spec does, GET /1/tasks/{taskID}; path "
                 "parameters go in path:)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_form),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_renamed_and_removed),
        cmocka_unit_test(test_unknown_in_both),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
