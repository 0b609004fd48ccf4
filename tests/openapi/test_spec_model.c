/* The spec model over the committed OpenAPI document. */
#include "openapi/spec.h"
#include "util/file.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char spec_path[4096];

static int setup(void **state)
{
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    if (!src)
        return -1;
    snprintf(spec_path, sizeof(spec_path), "%s/schemas/openapi/ingestion.yml", src);
    struct openapi *spec = NULL;
    struct util_error e;
    util_error_clear(&e);
    if (openapi_load(spec_path, &spec, &e) != UTIL_OK) {
        fprintf(stderr, "%s\n", e.message);
        return -1;
    }
    *state = spec;
    return 0;
}

static int teardown(void **state)
{
    openapi_destroy(*state);
    return 0;
}

static const struct {
    const char *id, *method, *path;
} EXPECTED[33] = {
    {"getAuthentications", "GET", "/1/authentications"},
    {"createAuthentication", "POST", "/1/authentications"},
    {"searchAuthentications", "POST", "/1/authentications/search"},
    {"getAuthentication", "GET", "/1/authentications/{authenticationID}"},
    {"updateAuthentication", "PATCH", "/1/authentications/{authenticationID}"},
    {"deleteAuthentication", "DELETE", "/1/authentications/{authenticationID}"},
    {"getDestinations", "GET", "/1/destinations"},
    {"createDestination", "POST", "/1/destinations"},
    {"searchDestinations", "POST", "/1/destinations/search"},
    {"getDestination", "GET", "/1/destinations/{destinationID}"},
    {"updateDestination", "PATCH", "/1/destinations/{destinationID}"},
    {"deleteDestination", "DELETE", "/1/destinations/{destinationID}"},
    {"getSources", "GET", "/1/sources"},
    {"createSource", "POST", "/1/sources"},
    {"searchSources", "POST", "/1/sources/search"},
    {"getSource", "GET", "/1/sources/{sourceID}"},
    {"updateSource", "PATCH", "/1/sources/{sourceID}"},
    {"deleteSource", "DELETE", "/1/sources/{sourceID}"},
    {"getDockerSourceStreams", "GET", "/1/sources/{sourceID}/discover"},
    {"triggerDockerSourceDiscover", "POST", "/1/sources/{sourceID}/discover"},
    {"getTasks", "GET", "/1/tasks"},
    {"createTask", "POST", "/1/tasks"},
    {"searchTasks", "POST", "/1/tasks/search"},
    {"getTask", "GET", "/1/tasks/{taskID}"},
    {"updateTask", "PATCH", "/1/tasks/{taskID}"},
    {"deleteTask", "DELETE", "/1/tasks/{taskID}"},
    {"runTask", "POST", "/1/tasks/{taskID}/run"},
    {"enableTask", "PUT", "/1/tasks/{taskID}/enable"},
    {"disableTask", "PUT", "/1/tasks/{taskID}/disable"},
    {"getRuns", "GET", "/1/runs"},
    {"getRun", "GET", "/1/runs/{runID}"},
    {"getEvents", "GET", "/1/runs/{runID}/events"},
    {"getEvent", "GET", "/1/runs/{runID}/events/{eventID}"},
};

static void test_operations(void **state)
{
    const struct openapi *spec = *state;
    assert_string_equal(openapi_title(spec), "Ingestion API");
    assert_string_equal(openapi_version(spec), "1.0.0");
    assert_string_equal(openapi_openapi_version(spec), "3.0.2");
    assert_int_equal(openapi_operation_count(spec), 33);
    for (size_t i = 0; i < 33; i++) {
        const struct openapi_operation *op = openapi_operation_at(spec, i);
        assert_int_equal(op->index, i);
        assert_string_equal(op->operation_id, EXPECTED[i].id);
        assert_string_equal(op->method_upper, EXPECTED[i].method);
        assert_string_equal(op->path, EXPECTED[i].path);
        assert_ptr_equal(openapi_operation_find(spec, EXPECTED[i].id), op);
        assert_int_equal(op->ntags, 1);
        assert_non_null(op->summary);
        /* Only 200 and 400 are documented, in that order. */
        assert_int_equal(op->nresponses, 2);
        assert_string_equal(op->responses[0].status, "200");
        assert_string_equal(op->responses[1].status, "400");
        assert_string_equal(op->responses[1].description, "Bad request or request arguments.");
        assert_string_equal(op->responses[1].content_type, "application/json");
        assert_string_equal(op->responses[1].pointer, "/components/responses/BadRequest");
        assert_non_null(op->responses[0].schema);
    }
    assert_null(openapi_operation_at(spec, 33));
    assert_null(openapi_operation_find(spec, "customGet"));
    const struct openapi_operation *op = openapi_operation_find(spec, "getRuns");
    assert_string_equal(op->tags[0], "observability");
    assert_string_equal(op->summary, "List task runs");
    assert_string_equal(op->pointer, "/paths/~11~1runs/get");
}

static void test_acl(void **state)
{
    const struct openapi *spec = *state;
    size_t without = 0;
    for (size_t i = 0; i < openapi_operation_count(spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(spec, i);
        if (!op->acl_documented) {
            without++;
            assert_int_equal(op->nacl, 0);
            assert_true(!strcmp(op->operation_id, "createTask") ||
                        !strcmp(op->operation_id, "updateTask") ||
                        !strcmp(op->operation_id, "deleteTask"));
        } else {
            assert_int_equal(op->nacl, 3);
            assert_string_equal(op->acl[0], "addObject");
            assert_string_equal(op->acl[1], "deleteIndex");
            assert_string_equal(op->acl[2], "editSettings");
        }
    }
    assert_int_equal(without, 3);
}

static void test_parameters(void **state)
{
    const struct openapi *spec = *state;
    const struct openapi_operation *op = openapi_operation_find(spec, "getAuthentications");
    static const char *const names[] = {"itemsPerPage", "page", "type",
                                        "platform",     "sort", "order"};
    assert_int_equal(op->nparams, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(op->params[i].name, names[i]);
        assert_string_equal(op->params[i].in, "query");
        assert_int_equal(op->params[i].where, OPENAPI_IN_QUERY);
        assert_false(op->params[i].required);
        assert_string_equal(op->params[i].style, "form");
    }
    /* Declared style: form, explode: false. */
    const struct openapi_parameter *p = openapi_operation_parameter(op, "type", "query");
    assert_true(p->style_declared && p->explode_declared);
    assert_false(p->explode);
    assert_true(p->is_array);
    assert_false(p->accept_both_forms);
    assert_string_equal(p->pointer, "/components/parameters/type");
    assert_string_equal(p->use_pointer, "/paths/~11~1authentications/get/parameters/2");
    /* Scalar query parameter: OAS default explode true. */
    p = openapi_operation_parameter(op, "itemsPerPage", NULL);
    assert_false(p->style_declared || p->explode_declared);
    assert_true(p->explode);
    assert_false(p->is_array);
    assert_false(p->accept_both_forms);
    /* Path parameter. */
    op = openapi_operation_find(spec, "getEvent");
    assert_int_equal(op->nparams, 2);
    assert_string_equal(op->params[0].name, "runID");
    assert_string_equal(op->params[1].name, "eventID");
    assert_int_equal(op->params[1].where, OPENAPI_IN_PATH);
    assert_true(op->params[1].required);
    assert_string_equal(op->params[1].style, "simple");
    assert_false(op->params[1].explode);
    /* Exactly three array query params declare neither style nor explode. */
    size_t both = 0;
    for (size_t i = 0; i < openapi_operation_count(spec); i++) {
        const struct openapi_operation *o = openapi_operation_at(spec, i);
        for (size_t j = 0; j < o->nparams; j++) {
            const struct openapi_parameter *q = &o->params[j];
            if (!q->accept_both_forms)
                continue;
            both++;
            assert_true(q->explode);
            assert_string_equal(q->style, "form");
            assert_true((!strcmp(o->operation_id, "getRuns") && !strcmp(q->name, "status")) ||
                        (!strcmp(o->operation_id, "getEvents") &&
                         (!strcmp(q->name, "status") || !strcmp(q->name, "type"))));
        }
    }
    assert_int_equal(both, 3);
    /* Query params of getEvents in spec order. */
    op = openapi_operation_find(spec, "getEvents");
    static const char *const ev[] = {"runID", "itemsPerPage", "page",      "status", "type",
                                     "sort",  "order",        "startDate", "endDate"};
    assert_int_equal(op->nparams, 9);
    for (size_t i = 0; i < 9; i++)
        assert_string_equal(op->params[i].name, ev[i]);
    /* A parameter-level example. */
    p = openapi_operation_parameter(openapi_operation_find(spec, "getDestinations"), "sort", NULL);
    assert_non_null(p->example);
    assert_string_equal(p->example->valuestring, "type");
}

static void test_bodies(void **state)
{
    const struct openapi *spec = *state;
    size_t with_body = 0;
    for (size_t i = 0; i < openapi_operation_count(spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(spec, i);
        if (!op->body)
            continue;
        with_body++;
        assert_true(op->body->required);
        assert_string_equal(op->body->content_type, "application/json");
        assert_non_null(op->body->schema);
    }
    /* createX, searchX, updateX for the 4 resources (OPERATIONS.md says 11;
     * the document has 12). */
    assert_int_equal(with_body, 12);
    const struct openapi_operation *op = openapi_operation_find(spec, "createTask");
    const cJSON *ref = cJSON_GetObjectItem(op->body->schema, "$ref");
    assert_string_equal(ref->valuestring, "#/components/schemas/TaskCreate");
    const cJSON *target = openapi_resolve(spec, op->body->schema);
    assert_non_null(cJSON_GetObjectItem(target, "properties"));
    assert_null(openapi_operation_find(spec, "getTasks")->body);
}

/* Line of the first line equal to `text` after line `after` (1-based). */
static int find_line(const char *path, const char *text, int after)
{
    char *data = NULL;
    size_t len = 0;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(util_file_read(path, 1u << 24, &data, &len, &e), UTIL_OK);
    int line = 1, found = 0;
    size_t tl = strlen(text);
    for (char *p = data; *p && !found; line++) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (line > after && n == tl && !memcmp(p, text, n))
            found = line;
        p = nl ? nl + 1 : p + n;
    }
    free(data);
    return found;
}

static void test_lines_and_sha(void **state)
{
    const struct openapi *spec = *state;
    int path_line = find_line(spec_path, "  /1/runs:", 0);
    assert_true(path_line > 0);
    int get_line = find_line(spec_path, "    get:", path_line);
    assert_int_equal(openapi_line_of(spec, "/paths/~11~1runs"), path_line);
    assert_int_equal(openapi_line_of(spec, "/paths/~11~1runs/get"), get_line);
    int st = find_line(spec_path, "        '400':", get_line);
    assert_int_equal(openapi_line_of(spec, "/paths/~11~1runs/get/responses/400"), st);
    int enum_line = find_line(spec_path, "    RunStatus:", 0);
    assert_int_equal(openapi_line_of(spec, "/components/schemas/RunStatus"), enum_line);
    assert_int_equal(openapi_line_of(spec, "/components/schemas/RunStatus/enum/0"), enum_line + 4);
    assert_int_equal(openapi_line_of(spec, "/nope"), 0);
    assert_int_equal(strlen(openapi_sha256(spec)), 64);
    /* The digest is of the file bytes. */
    char *data = NULL;
    size_t len = 0;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(util_file_read(spec_path, 1u << 24, &data, &len, &e), UTIL_OK);
    char hex[OPENAPI_SHA256_HEX_SIZE];
    openapi_sha256_hex(data, len, hex);
    assert_string_equal(hex, openapi_sha256(spec));
    free(data);
}

static void test_invalid_documents(void **state)
{
    (void)state;
    struct openapi *spec = NULL;
    struct util_error e;
    util_error_clear(&e);
    const char *no_id = "openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths:\n"
                        "  /a:\n    get:\n      responses: {'200': {description: ok}}\n";
    assert_int_equal(openapi_load_text(no_id, strlen(no_id), "x.yml", &spec, &e), UTIL_ERR_INVALID);
    assert_null(spec);
    assert_int_equal(e.line, 5);
    assert_non_null(strstr(e.message, "x.yml:5:"));
    assert_non_null(strstr(e.message, "operationId"));

    const char *bad_ref = "openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths:\n"
                          "  /a:\n    get:\n      operationId: a\n"
                          "      parameters:\n      - $ref: '#/components/parameters/nope'\n"
                          "      responses: {'200': {description: ok}}\n";
    assert_int_equal(openapi_load_text(bad_ref, strlen(bad_ref), "x.yml", &spec, &e),
                     UTIL_ERR_INVALID);
    assert_non_null(strstr(e.message, "does not resolve"));
    assert_int_equal(e.line, 8);

    const char *swagger = "swagger: '2.0'\n";
    assert_int_equal(openapi_load_text(swagger, strlen(swagger), "x.yml", &spec, &e),
                     UTIL_ERR_INVALID);
    const char *yaml_err = "openapi: [\n";
    assert_int_equal(openapi_load_text(yaml_err, strlen(yaml_err), "x.yml", &spec, &e),
                     UTIL_ERR_PARSE);
    assert_int_equal(openapi_load("/nonexistent.yml", &spec, &e), UTIL_ERR_IO);
    openapi_destroy(NULL);

    /* Path-level parameters are merged; operation-level ones override. */
    const char *merged = "openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths:\n"
                         "  /a/{id}:\n"
                         "    parameters:\n"
                         "    - {name: id, in: path, required: true, schema: {type: string}}\n"
                         "    - {name: q, in: query, schema: {type: string}}\n"
                         "    get:\n      operationId: a\n"
                         "      parameters:\n"
                         "      - {name: q, in: query, required: true, schema: {type: integer}}\n"
                         "      responses: {'200': {description: ok}}\n";
    assert_int_equal(openapi_load_text(merged, strlen(merged), "x.yml", &spec, &e), UTIL_OK);
    const struct openapi_operation *op = openapi_operation_at(spec, 0);
    assert_int_equal(op->nparams, 2);
    assert_string_equal(op->params[0].use_pointer, "/paths/~1a~1{id}/parameters/0");
    assert_true(op->params[1].required);
    assert_string_equal(op->params[1].use_pointer, "/paths/~1a~1{id}/get/parameters/0");
    openapi_destroy(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operations),    cmocka_unit_test(test_acl),
        cmocka_unit_test(test_parameters),    cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_lines_and_sha),
    };
    const struct CMUnitTest standalone[] = {
        cmocka_unit_test(test_invalid_documents),
    };
    int failed = cmocka_run_group_tests_name("model", tests, setup, teardown);
    failed += cmocka_run_group_tests_name("documents", standalone, NULL, NULL);
    return failed;
}
