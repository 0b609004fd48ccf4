/* Tests of src/case: the loader's model and its precise errors, templates,
 * variables and captures. */
#include "case/case.h"
#include "case/limits.h"
#include "case/template.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct case_loader *loader;
static char source_dir[4096];

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(source_dir, sizeof(source_dir), "%s", src ? src : ".");
    char schemas[4200];
    snprintf(schemas, sizeof(schemas), "%s/schemas", source_dir);
    struct util_error err;
    util_error_clear(&err);
    loader = case_loader_create_dir(schemas, &err);
    if (!loader)
        fprintf(stderr, "loader: %s\n", err.message);
    return loader ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    case_loader_destroy(loader);
    return 0;
}

/* Loads text and expects an error whose message is exactly want. */
static void expect_error(const char *text, int code, const char *want)
{
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    int rc = case_file_load_text(loader, text, strlen(text), "t.yaml", &f, &err);
    if (rc == UTIL_OK)
        fail_msg("loaded, expected: %s", want);
    assert_null(f);
    if (strcmp(err.message, want) != 0)
        fail_msg("got      %s\nexpected %s", err.message, want);
    assert_int_equal(rc, code);
    assert_string_equal(err.file, "t.yaml");
}

static struct case_file *load_ok(const char *text)
{
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (case_file_load_text(loader, text, strlen(text), "t.yaml", &f, &err))
        fail_msg("%s", err.message);
    return f;
}

static void test_valid_file_model(void **state)
{
    (void)state;
    char path[4300];
    snprintf(path, sizeof(path), "%s/tests/data/case/valid.yaml", source_dir);
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(case_file_load(loader, path, &f, &err), UTIL_OK);
    assert_int_equal(f->ncases, 2);
    const struct case_case *k = &f->cases[0];
    assert_string_equal(k->name, "task lifecycle");
    assert_int_equal(k->line, 3);
    assert_int_equal(k->ntags, 2);
    assert_string_equal(k->tags[1], "smoke");
    assert_int_equal(k->nsteps, 4);
    assert_int_equal(k->nteardown, 1);
    const struct case_step *s = &k->steps[0];
    assert_string_equal(s->name, "create a task");
    assert_int_equal(s->kind, CASE_STEP_OPERATION);
    assert_string_equal(s->method, "POST");
    assert_string_equal(s->path_template, "/1/tasks");
    assert_int_equal(s->line, 8);
    assert_int_equal(s->expect.nstatus, 1);
    assert_int_equal(s->expect.status[0].code, 200);
    assert_int_equal(s->ncaptures, 1);
    assert_string_equal(s->captures[0].name, "taskID");
    assert_string_equal(s->captures[0].expr, "$.taskID");
    assert_true(cJSON_IsObject(s->body));
    /* Step named after its operation; raw step after method and path. */
    assert_string_equal(k->steps[1].name, "getTask");
    assert_string_equal(k->steps[2].name, "GET /1/tasks/{{taskID}}");
    assert_int_equal(k->steps[2].kind, CASE_STEP_RAW);
    assert_true(k->steps[2].expect.status[0].is_class);
    assert_int_equal(k->steps[2].expect.status[0].code, 4);
    assert_int_equal(k->steps[2].nallow, 2);
    assert_int_equal(k->steps[2].allow_undocumented[1], 403);
    assert_true(k->steps[3].has_until);
    assert_int_equal(k->steps[3].poll_interval_ms, 100);
    assert_int_equal(k->steps[3].poll_timeout_ms, 2000);
    assert_true(k->teardown[0].teardown);
    assert_true(f->cases[1].steps[0].expect.body_exact);
    case_file_destroy(f);
}

static void test_yaml_syntax_error(void **state)
{
    (void)state;
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTask\n"
                 "        path: {taskID: x\n",
                 UTIL_ERR_PARSE,
                 "t.yaml:6:1: did not find expected ',' or '}' (while parsing a flow mapping at "
                 "line 5, column 15)");
}

static void test_unknown_operation(void **state)
{
    (void)state;
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: creatTask\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:4:9: unknown operation 'creatTask' (did you mean 'createTask'?)");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: fooBarBaz\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:4:9: unknown operation 'fooBarBaz' (not an operationId of the spec)");
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        expct: {status: 200}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:9: unknown key 'expct' in step (expected one of: name, operation, "
                 "request, method, path, query, headers, body, body_raw, content_type, expect, "
                 "until, capture, allow_undocumented, cassette)");
    expect_error("cases:\n  - name: a\n    stps: []\n", UTIL_ERR_INVALID,
                 "t.yaml:3:5: unknown key 'stps' in case (expected one of: name, description, "
                 "tags, vars, steps, teardown, cassette)");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error("cases:\n  - name: a\n    tags: tasks\n    steps:\n      - operation: getTasks\n",
                 UTIL_ERR_INVALID, "t.yaml:3:5: tags: expected array, got string");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        expect: {status: 6xx}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:18: status: expected a status code (200), a class (4xx) or a list of "
                 "them, got \"6xx\"");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        allow_undocumented: [four]\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:30: allow_undocumented[0]: expected integer, got string");
    expect_error("cases:\n  - steps:\n      - operation: getTasks\n", UTIL_ERR_INVALID,
                 "t.yaml:2:5: case is missing the required key 'name'");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        until: {interval: 5 s}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:17: interval: expected a duration such as 500ms, 2s, 1m or a number "
                 "of milliseconds, got \"5 s\"");
}

/* cassette: of a case and of its steps: the step's lists add to the
 * case's, the step's ordered overrides; malformed blocks are refused. */
static void test_cassette_match(void **state)
{
    (void)state;
    struct case_file *f = load_ok("cases:\n"
                                  "  - name: a\n"
                                  "    cassette: {ignore_query: [startDate], ordered: true}\n"
                                  "    steps:\n"
                                  "      - operation: getTasks\n"
                                  "      - operation: createTask\n"
                                  "        body: {sourceID: s, destinationID: d, action: replace}\n"
                                  "        cassette:\n"
                                  "          ignore_query: [x]\n"
                                  "          ignore_body: [/input/a~1b, /name]\n"
                                  "          ordered: false\n"
                                  "    teardown:\n"
                                  "      - operation: getTasks\n"
                                  "  - name: b\n"
                                  "    steps:\n"
                                  "      - operation: getTasks\n");
    const struct case_case *k = &f->cases[0];
    assert_int_equal(k->match.nignore_query, 1);
    assert_true(k->match.ordered);
    const struct case_match *m0 = &k->steps[0].match;
    assert_int_equal(m0->nignore_query, 1);
    assert_string_equal(m0->ignore_query[0], "startDate");
    assert_int_equal(m0->nignore_body, 0);
    assert_true(m0->ordered);
    const struct case_match *m1 = &k->steps[1].match;
    assert_int_equal(m1->nignore_query, 2);
    assert_string_equal(m1->ignore_query[0], "startDate");
    assert_string_equal(m1->ignore_query[1], "x");
    assert_int_equal(m1->nignore_body, 2);
    assert_string_equal(m1->ignore_body[0], "/input/a~1b");
    assert_string_equal(m1->ignore_body[1], "/name");
    assert_false(m1->ordered);
    assert_int_equal(k->teardown[0].match.nignore_query, 1);
    assert_true(k->teardown[0].match.ordered);
    const struct case_match *mb = &f->cases[1].steps[0].match;
    assert_int_equal(mb->nignore_query + mb->nignore_body, 0);
    assert_false(mb->ordered);
    case_file_destroy(f);

    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        cassette: {ignore_body: [name]}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:34: ignore_body[0]: expected a JSON Pointer such as "
                 "/window/startDate, got \"name\"");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        cassette: {ignore_body: [/a~2]}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:34: ignore_body[0]: expected a JSON Pointer such as "
                 "/window/startDate, got \"/a~2\"");
    expect_error("cases:\n  - name: a\n    cassette: {ordred: true}\n    steps:\n"
                 "      - operation: getTasks\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:3:16: unknown key 'ordred' in cassette (expected one of: "
                 "ignore_query, ignore_body, ordered)");
    expect_error("cases:\n  - name: a\n    cassette: {ordered: yes please}\n    steps:\n"
                 "      - operation: getTasks\n",
                 UTIL_ERR_INVALID, "t.yaml:3:16: ordered: expected boolean, got string");
    expect_error("cases:\n  - name: a\n    cassette: {ignore_query: x}\n    steps:\n"
                 "      - operation: getTasks\n",
                 UTIL_ERR_INVALID, "t.yaml:3:16: ignore_query: expected array, got string");
}

static void test_parameters(void **state)
{
    (void)state;
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTask\n", UTIL_ERR_INVALID,
                 "t.yaml:4:9: getTask needs the path parameter 'taskID' (path: {taskID: ...})");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTask\n"
                 "        path: {taskId: x}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:16: 'taskId' is not a path parameter of getTask (/1/tasks/{taskID} "
                 "has: taskID)");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getRuns\n"
                 "        query: {sortt: name}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:17: 'sortt' is not a query parameter of getRuns (documented: "
                 "itemsPerPage, page, status, taskID, sort, order, startDate, endDate); use "
                 "method: and path: for undocumented parameters");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        body: {a: 1}\n",
                 UTIL_ERR_INVALID, "t.yaml:5:9: getTasks takes no request body");
    expect_error("cases:\n  - name: a\n    steps:\n      - method: GET\n        path: {x: 1}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:9: with method:, path: is the request path (a string starting with "
                 "'/')");
    expect_error("cases:\n  - name: a\n    steps:\n      - name: x\n", UTIL_ERR_INVALID,
                 "t.yaml:4:9: a step needs operation: (an operationId), request: (GET "
                 "/1/tasks/{taskID}) or method: and path:");
}

static void test_templates_and_matchers(void **state)
{
    (void)state;
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTask\n"
                 "        path: {taskID: \"{{tid}}\"}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:16: {{tid}} is not defined here (set it in vars: or capture it in an "
                 "earlier step)");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        headers: {h: \"{{now - 1x}}\"}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:19: malformed placeholder {{now - 1x}} (expected now, now - 1h, now + "
                 "30m: a number and one of s, m, h, d)");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        expect:\n          body: {a: {$regx: x}}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:6:22: unknown matcher '$regx' (expected $type, $regex, $uuid, "
                 "$date-time, $length, $contains, $exact, $absent, $each, $not, $in, $sorted, "
                 "$gt, $gte, $lt or $lte)");
    expect_error(
        "cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
        "        expect:\n          body: {a: {$regex: \"(\"}}\n",
        UTIL_ERR_INVALID,
        "t.yaml:6:22: $regex: not a POSIX extended regular expression: Unmatched ( or \\(");
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        capture: {x: \"tasks.0\"}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:19: x: expected a JSON Pointer (/a/0), a JSONPath ($.a[0]) or "
                 "header:NAME, got \"tasks.0\"");
    /* A capture is usable in later steps and in the teardown, not before. */
    struct case_file *f =
        load_ok("cases:\n  - name: a\n    vars: {p: \"{{run.id}}\", q: \"{{p}}-x\"}\n"
                "    steps:\n      - operation: getTasks\n"
                "        capture:\n          t: $.tasks[0].taskID\n"
                "      - operation: getTask\n        path: {taskID: \"{{t}}\"}\n"
                "    teardown:\n      - operation: deleteTask\n"
                "        path: {taskID: \"{{t}}\"}\n");
    assert_int_equal(f->cases[0].nsteps, 2);
    case_file_destroy(f);
    expect_error("cases:\n  - name: a\n    vars: {q: \"{{p}}\", p: x}\n    steps:\n"
                 "      - operation: getTasks\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:3:12: {{p}} is not defined here (vars: may use the variables above it)");
}

static void test_duplicate_case_and_cap(void **state)
{
    (void)state;
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "  - name: a\n    steps:\n      - operation: getTasks\n",
                 UTIL_ERR_INVALID, "t.yaml:5:5: case name 'a' is already used at line 2");
    size_t n = CASE_CAP_FILE_SIZE + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, '#', n);
    big[n] = '\0';
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(case_file_load_text(loader, big, n, "big.yaml", &f, &err), UTIL_ERR_LIMIT);
    assert_non_null(strstr(err.message, "big.yaml: larger than the case file cap"));
    free(big);
}

static void test_suite_directory(void **state)
{
    (void)state;
    char dir[4300];
    snprintf(dir, sizeof(dir), "%s/tests/data/case/suite", source_dir);
    const char *paths[] = {dir};
    struct case_suite s;
    struct util_error err;
    util_error_clear(&err);
    case_suite_init(&s);
    assert_int_equal(case_suite_load(loader, paths, 1, &s, &err), UTIL_OK);
    assert_int_equal(s.count, 2);
    /* Sorted by path: a.yaml before sub/b.yml; other extensions ignored. */
    assert_non_null(strstr(s.files[0]->path, "/a.yaml"));
    assert_non_null(strstr(s.files[1]->path, "/sub/b.yml"));
    assert_int_equal(case_suite_count(&s), 3);
    case_suite_finish(&s);
}

/* ---- request headers (issue 12, W1) ---- */

static void test_header_fields(void **state)
{
    (void)state;
    const char *head = "cases:\n  - name: a\n    steps:\n      - operation: getTasks\n";
    static const struct {
        const char *step, *want;
        int code;
    } bad[] = {
        {"        headers: {x-custom: \"a\\r\\nX-Injected: yes\"}\n",
         "t.yaml:5:19: headers: x-custom: the value contains a carriage return (CR)",
         UTIL_ERR_INVALID},
        {"        headers: {x-custom: \"a\\nb\"}\n",
         "t.yaml:5:19: headers: x-custom: the value contains a line feed (LF)", UTIL_ERR_INVALID},
        {"        headers: {x-custom: \"a\\x7fb\"}\n",
         "t.yaml:5:19: headers: x-custom: the value contains the control character 0x7F",
         UTIL_ERR_INVALID},
        {"        headers: {\"x custom\": a}\n",
         "t.yaml:5:19: headers: the name 'x custom' contains a space (a header name is an RFC "
         "9110 token)",
         UTIL_ERR_INVALID},
        {"        headers: {\"x:y\": a}\n",
         "t.yaml:5:19: headers: the name 'x:y' contains ':' (a header name is an RFC 9110 token)",
         UTIL_ERR_INVALID},
        {"        headers: {\"x\\ny\": a}\n",
         "t.yaml:5:19: headers: the name 'x\\ny' contains a line feed (LF) (a header name is an "
         "RFC 9110 token)",
         UTIL_ERR_INVALID},
        {"        headers: {\"\": a}\n",
         "t.yaml:5:19: headers: the name '' is empty (a header name is an RFC 9110 token)",
         UTIL_ERR_INVALID},
        {"        content_type: \"text/plain\\r\\nX-Injected: yes\"\n",
         "t.yaml:5:9: content_type contains a carriage return (CR); it is sent as the "
         "Content-Type header",
         UTIL_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text), "%s%s", head, bad[i].step);
        expect_error(text, bad[i].code, bad[i].want);
    }
    /* A value past the header line cap. */
    size_t n = 17000;
    char *text = malloc(n + 200);
    int k = snprintf(text, 200, "%s        headers: {x-big: ", head);
    memset(text + k, 'a', n);
    strcpy(text + k + n, "}\n");
    expect_error(text, UTIL_ERR_LIMIT, "t.yaml:5:19: headers: x-big: longer than 16384 bytes");
    free(text);
    /* Tokens, tabs, numbers, null and templates load. */
    struct case_file *f =
        load_ok("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                "        headers: {\"X-Odd!#$%&'*+.^_`|~\": \"a\\tb\", x-n: 3, x-api-key: null,"
                " x-t: \"{{run.id}}\"}\n");
    case_file_destroy(f);
}

/* Loads text and checks its headers' templates as a run with run_id would;
 * want NULL: accepted. */
static void check_headers(const char *text, const char *run_id, const char *want)
{
    struct case_file *f = load_ok(text);
    struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
    struct util_error err;
    util_error_clear(&err);
    int rc = case_suite_check_headers(&s, run_id, &err);
    if (want && (rc == UTIL_OK || strcmp(err.message, want) != 0))
        fail_msg("got      %s\nexpected %s", rc ? err.message : "no error", want);
    if (!want && rc)
        fail_msg("refused: %s", err.message);
    case_file_destroy(f);
}

static void test_header_templates(void **state)
{
    (void)state;
    const char *vars = "cases:\n  - name: a\n    vars: {evil: \"a\\r\\nX: y\", ok: fine}\n"
                       "    steps:\n      - operation: getTasks\n";
    char text[4096];
    snprintf(text, sizeof(text), "%s        headers: {x-custom: \"pre-{{evil}}\"}\n", vars);
    check_headers(text, NULL,
                  "t.yaml:6:19: headers: x-custom: the value contains a carriage return (CR) once "
                  "its templates are filled in (from vars:, --run-id or the environment)");
    snprintf(text, sizeof(text), "%s        headers: {x-custom: \"{{ok}}\"}\n", vars);
    check_headers(text, NULL, NULL);
    /* A var set from another, in a teardown step. */
    check_headers("cases:\n  - name: a\n    vars: {a: \"x\\ny\", b: \"<{{a}}>\"}\n"
                  "    steps:\n      - operation: getTasks\n"
                  "    teardown:\n      - operation: getTasks\n        headers: {x-b: \"{{b}}\"}\n",
                  NULL,
                  "t.yaml:8:19: headers: x-b: the value contains a line feed (LF) once its "
                  "templates are filled in (from vars:, --run-id or the environment)");
    /* The environment. */
    setenv("INGESTCHECK_TEST_HEADER", "a\nX-Injected: yes", 1);
    check_headers("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                  "        headers: {x-e: \"{{env.INGESTCHECK_TEST_HEADER}}\"}\n",
                  NULL,
                  "t.yaml:5:19: headers: x-e: the value contains a line feed (LF) once its "
                  "templates are filled in (from vars:, --run-id or the environment)");
    unsetenv("INGESTCHECK_TEST_HEADER");
    /* Missing: left to the run, which reports it. */
    check_headers("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                  "        headers: {x-e: \"{{env.INGESTCHECK_TEST_HEADER}}\"}\n",
                  NULL, NULL);
    /* The run id, long enough to pass the line cap when used 100 times. */
    char id[200];
    memset(id, 'r', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    char many[2000] = "";
    for (int i = 0; i < 100; i++)
        strcat(many, "{{run.id}}");
    snprintf(text, sizeof(text),
             "cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
             "        headers: {x-r: \"%s\"}\n",
             many);
    check_headers(text, id,
                  "t.yaml:5:19: headers: x-r: longer than 16384 bytes once its templates are "
                  "filled in (from vars:, --run-id or the environment)");
    check_headers(text, "short", NULL);
    /* A raw request path, as written and from vars. */
    expect_error("cases:\n  - name: a\n    steps:\n      - method: GET\n"
                 "        path: \"/1/tasks\\r\\nX-Injected: yes\"\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:9: path: the request path contains a carriage return (CR)");
    check_headers("cases:\n  - name: a\n    vars: {p: \"a\\nb\"}\n    steps:\n"
                  "      - method: GET\n        path: \"/1/{{p}}\"\n",
                  NULL,
                  "t.yaml:6:9: path: the request path contains a line feed (LF) once its "
                  "templates are filled in (from vars:, --run-id or the environment)");
    /* A capture shadowing the var: the run checks the captured value. */
    snprintf(text, sizeof(text),
             "%s        capture: {evil: $.tasks}\n      - operation: getTasks\n"
             "        headers: {x-custom: \"{{evil}}\"}\n",
             vars);
    check_headers(text, NULL, NULL);
}

/* ---- templates ---- */

static time_t fixed_now(void *user)
{
    (void)user;
    return 1713348000; /* 2024-04-17T10:00:00Z */
}

static const char *fake_env(void *user, const char *name)
{
    (void)user;
    return strcmp(name, "HOME_X") == 0 ? "/h" : NULL;
}

static void expand(struct case_vars *v, const char *in, const char *want)
{
    char *out = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (case_template_expand_text(v, in, &out, &err))
        fail_msg("%s: %s", in, err.message);
    assert_string_equal(out, want);
    free(out);
}

static void test_template_expansion(void **state)
{
    (void)state;
    struct case_template_hooks hooks = {.now = fixed_now, .getenv = fake_env};
    struct case_vars *v = case_vars_create("ic-run1", &hooks);
    assert_non_null(v);
    cJSON *n = cJSON_CreateNumber(42);
    assert_int_equal(case_vars_set(v, "count", n), UTIL_OK);
    cJSON_Delete(n);
    expand(v, "{{run.id}}-task", "ic-run1-task");
    expand(v, "{{ now }}", "2024-04-17T10:00:00Z");
    expand(v, "{{now - 1h}}", "2024-04-17T09:00:00Z");
    expand(v, "{{now + 2d}}", "2024-04-19T10:00:00Z");
    expand(v, "{{now - 365000d}}", "1024-12-16T10:00:00Z");
    expand(v, "{{env.HOME_X}}/x", "/h/x");
    expand(v, "n={{count}}", "n=42");
    expand(v, "plain", "plain");

    /* A lone placeholder keeps the type. */
    cJSON *out = NULL;
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(case_template_expand_string(v, "{{count}}", &out, &err), UTIL_OK);
    assert_true(cJSON_IsNumber(out));
    assert_int_equal((int)out->valuedouble, 42);
    cJSON_Delete(out);

    /* uuid: v4 shape, different each time. */
    char *a = NULL, *b = NULL;
    assert_int_equal(case_template_expand_text(v, "{{uuid}}", &a, &err), UTIL_OK);
    assert_int_equal(case_template_expand_text(v, "{{uuid}}", &b, &err), UTIL_OK);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '4');
    assert_string_not_equal(a, b);
    free(a);
    free(b);

    /* Errors. */
    char *o = NULL;
    assert_int_equal(case_template_expand_text(v, "{{nope}}", &o, &err), UTIL_ERR_NOTFOUND);
    assert_string_equal(err.message, "undefined variable 'nope'");
    assert_int_equal(case_template_expand_text(v, "{{env.NOPE}}", &o, &err), UTIL_ERR_NOTFOUND);
    assert_string_equal(err.message, "environment variable NOPE is not set ({{env.NOPE}})");
    assert_int_equal(case_template_expand_text(v, "x {{run.id", &o, &err), UTIL_ERR_PARSE);
    /* Past 1000 years the time is no RFC 3339 one (year -2735883). */
    assert_int_equal(case_template_expand_text(v, "{{now - 999999999d}}", &o, &err),
                     UTIL_ERR_PARSE);
    assert_non_null(strstr(err.message, "more than 1000 years"));
    assert_null(o);

    /* JSON: strings expanded, keys kept. */
    cJSON *in = cJSON_Parse("{\"{{count}}\": [\"{{count}}\", \"a{{run.id}}\", true]}");
    assert_int_equal(case_template_expand_json(v, in, &out, &err), UTIL_OK);
    char *txt = cJSON_PrintUnformatted(out);
    assert_string_equal(txt, "{\"{{count}}\":[42,\"aic-run1\",true]}");
    free(txt);
    cJSON_Delete(in);
    cJSON_Delete(out);
    case_vars_destroy(v);
}

/* {{name - 1h}}: a captured RFC 3339 date-time shifted, out in UTC with
 * its fraction digits; a non-date variable or a bad shift is refused. */
static void test_template_date_arithmetic(void **state)
{
    (void)state;
    struct case_vars *v = case_vars_create("ic-run1", NULL);
    assert_non_null(v);
    cJSON *t = cJSON_CreateString("2024-04-17T10:00:00.123+02:00");
    cJSON *n = cJSON_CreateNumber(42);
    cJSON *leap = cJSON_CreateString("2024-02-29T23:30:00Z");
    assert_int_equal(case_vars_set(v, "at", t), UTIL_OK);
    assert_int_equal(case_vars_set(v, "count", n), UTIL_OK);
    assert_int_equal(case_vars_set(v, "leap", leap), UTIL_OK);
    cJSON_Delete(t);
    cJSON_Delete(n);
    cJSON_Delete(leap);
    expand(v, "{{at - 1h}}", "2024-04-17T07:00:00.123Z");
    expand(v, "{{at+30s}}", "2024-04-17T08:00:30.123Z");
    expand(v, "{{ at + 0s }}", "2024-04-17T08:00:00.123Z");
    expand(v, "from {{at - 8d}} on", "from 2024-04-09T08:00:00.123Z on");
    expand(v, "{{leap + 1h}}", "2024-03-01T00:30:00Z");
    expand(v, "{{leap - 60d}}", "2023-12-31T23:30:00Z");
    expand(v, "{{at}}", "2024-04-17T10:00:00.123+02:00");
    char *o = NULL;
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(case_template_expand_text(v, "{{count - 1h}}", &o, &err), UTIL_ERR_INVALID);
    assert_string_equal(err.message, "variable 'count' is not an RFC 3339 date-time, so it cannot "
                                     "be shifted in {{count - 3600s}}");
    assert_null(o);
    assert_int_equal(case_template_expand_text(v, "{{at - 1w}}", &o, &err), UTIL_ERR_PARSE);
    assert_non_null(strstr(err.message, "malformed placeholder {{at - 1w}}"));
    assert_int_equal(case_template_expand_text(v, "{{at * 2}}", &o, &err), UTIL_ERR_PARSE);
    assert_int_equal(case_template_expand_text(v, "{{at - 999999999d}}", &o, &err), UTIL_ERR_PARSE);
    assert_non_null(strstr(err.message, "more than 1000 years"));
    assert_int_equal(case_template_expand_text(v, "{{nope - 1h}}", &o, &err), UTIL_ERR_NOTFOUND);
    case_vars_destroy(v);

    struct case_instant a, b;
    assert_int_equal(case_instant_parse("1970-01-01T00:00:00Z", &a), 0);
    assert_true(a.s == 0 && a.ns == 0 && a.digits == 0);
    assert_int_equal(case_instant_parse("1969-12-31T23:00:00-01:00", &b), 0);
    assert_int_equal(case_instant_cmp(&a, &b), 0);
    assert_int_equal(case_instant_parse("1970-01-01T00:00:00.000000001Z", &b), 0);
    assert_true(case_instant_cmp(&a, &b) < 0);
    assert_int_equal(case_instant_parse("2023-02-29T00:00:00Z", &b), -1);
    assert_int_equal(case_instant_parse("2024-04-17 10:00:00Z", &b), -1);
    assert_int_equal(case_instant_parse("2024-04-17T10:00:00", &b), -1);
}

/* A date shift is checked at load like any placeholder. */
static void test_template_date_arithmetic_load(void **state)
{
    (void)state;
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        headers: {h: \"{{later + 1h}}\"}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:19: {{later}} is not defined here (set it in vars: or capture it in an "
                 "earlier step)");
    expect_error("cases:\n  - name: a\n    vars: {at: \"2024-04-17T10:00:00Z\"}\n"
                 "    steps:\n      - operation: getTasks\n"
                 "        headers: {h: \"{{at + 1y}}\"}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:6:19: malformed placeholder {{at + 1y}} (expected a variable name, or a "
                 "date-time variable shifted as in name - 1h, name + 30s: a number and one of s, "
                 "m, h, d)");
}

/* The matchers for live data: each malformed one refused with
 * file:line:column. */
static void test_live_matchers_load(void **state)
{
    (void)state;
    static const char head[] = "cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                               "        expect:\n          body: ";
    static const struct {
        const char *body, *want;
    } bad[] = {
        {"{a: {$in: []}}", "t.yaml:6:22: $in: expected a non-empty list of values (not matchers)"},
        {"{a: {$in: x}}", "t.yaml:6:22: $in: expected a non-empty list of values (not matchers)"},
        {"{a: {$in: [{$type: string}]}}",
         "t.yaml:6:22: $in: expected a non-empty list of values (not matchers)"},
        {"{a: {$sorted: {order: asc}}}",
         "t.yaml:6:22: $sorted: expected {by: KEY, order: asc or desc} (KEY a member name or a "
         "JSON Pointer such as /a/b)"},
        {"{a: {$sorted: {by: k, order: up}}}", "t.yaml:6:39: $sorted: order: expected asc or desc"},
        {"{a: {$sorted: {by: k, then: x}}}",
         "t.yaml:6:39: $sorted: expected {by: KEY, order: asc or desc} (KEY a member name or a "
         "JSON Pointer such as /a/b)"},
        {"{a: {$sorted: createdAt}}",
         "t.yaml:6:22: $sorted: expected {by: KEY, order: asc or desc} (KEY a member name or a "
         "JSON Pointer such as /a/b)"},
        {"{a: {$gte: yesterday}}",
         "t.yaml:6:22: $gte: expected a number or an RFC 3339 date-time (such as \"{{createdAt - "
         "1h}}\")"},
        {"{a: {$lt: [1]}}",
         "t.yaml:6:22: $lt: expected a number or an RFC 3339 date-time (such as \"{{createdAt - "
         "1h}}\")"},
        {"{a: {$gt: 1, $lt: \"2024-04-17T10:00:00Z\"}}",
         "t.yaml:6:22: $gt: the bounds of one matcher are all numbers or all date-times"},
        {"{a: {$each: {b: {$regx: x}}}}",
         "t.yaml:6:34: unknown matcher '$regx' (expected $type, $regex, $uuid, $date-time, "
         "$length, $contains, $exact, $absent, $each, $not, $in, $sorted, $gt, $gte, $lt or "
         "$lte)"},
        {"{a: {$not: {$length: -1}}}",
         "t.yaml:6:29: $length: expected a count (3) or {min: N, max: N}"},
    };
    char text[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "%s%s\n", head, bad[i].body);
        expect_error(text, UTIL_ERR_INVALID, bad[i].want);
    }
    snprintf(text, sizeof(text), "%s%s\n", head,
             "{tasks: {$each: {action: {$in: [replace, save]}, enabled: {$not: false}}, "
             "$sorted: {by: /trigger/type, order: desc}}, n: {$gte: 1, $lt: 5}, "
             "at: {$gte: \"2024-04-17T10:00:00Z\", $lte: \"{{run.id}}\"}}");
    case_file_destroy(load_ok(text));
}

static void test_captures(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse("{\"tasks\":[{\"taskID\":\"t1\"},{\"taskID\":\"t2\"}],"
                             "\"a/b\":{\"c d\":3}}");
    assert_string_equal(case_capture_eval(doc, "$.tasks[1].taskID")->valuestring, "t2");
    assert_string_equal(case_capture_eval(doc, "/tasks/0/taskID")->valuestring, "t1");
    assert_int_equal((int)case_capture_eval(doc, "/a~1b/c d")->valuedouble, 3);
    assert_int_equal((int)case_capture_eval(doc, "$['a/b']['c d']")->valuedouble, 3);
    assert_ptr_equal(case_capture_eval(doc, "$"), doc);
    assert_ptr_equal(case_capture_eval(doc, ""), doc);
    assert_null(case_capture_eval(doc, "$.tasks[5].taskID"));
    assert_null(case_capture_eval(doc, "/tasks/x"));
    assert_null(case_capture_eval(doc, "$.nope"));
    assert_true(case_capture_valid("$.a[0]['b']"));
    assert_true(case_capture_valid("header:x-request-id"));
    assert_false(case_capture_valid("$.a[x]"));
    assert_false(case_capture_valid("$..a"));
    assert_false(case_capture_valid("tasks"));
    /* Array indexes are digits only (RFC 6901 for pointers: no leading
     * zero); one past INT_MAX names no item rather than wrapping to 0. */
    assert_null(case_capture_eval(doc, "/tasks/+1"));
    assert_null(case_capture_eval(doc, "/tasks/ 1"));
    assert_null(case_capture_eval(doc, "/tasks/01"));
    assert_null(case_capture_eval(doc, "/tasks/4294967296/taskID"));
    assert_null(case_capture_eval(doc, "$.tasks[4294967296].taskID"));
    assert_null(case_capture_eval(doc, "$.tasks[+1]"));
    assert_false(case_capture_valid("$.tasks[-1]"));
    assert_false(case_capture_valid("$.tasks[ 1]"));
    cJSON_Delete(doc);

    /* Keys of any length, not cut at a buffer's size. */
    char key[700], expr[720];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, key, 7);
    key[511] = '\0'; /* a key that is a prefix of the long one */
    cJSON_AddNumberToObject(doc, key, 5);
    key[511] = 'k';
    snprintf(expr, sizeof(expr), "/%s", key);
    assert_int_equal((int)case_capture_eval(doc, expr)->valuedouble, 7);
    snprintf(expr, sizeof(expr), "$.%s", key);
    assert_int_equal((int)case_capture_eval(doc, expr)->valuedouble, 7);
    snprintf(expr, sizeof(expr), "$['%s']", key);
    assert_int_equal((int)case_capture_eval(doc, expr)->valuedouble, 7);
    cJSON_Delete(doc);
}

static void test_until_bounds(void **state)
{
    (void)state;
    /* Found by fuzzing: polling every hour for 0 ms. */
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        until: {interval: 1h, timeout: 0}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:9: until: the interval (3600000ms) is longer than the timeout (0ms): "
                 "the step would poll only once");
    /* The default interval (500ms) against a short timeout. */
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        until: {timeout: 100ms}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:5:9: until: the interval (500ms) is longer than the timeout (100ms): the "
                 "step would poll only once");
    /* A number past LONG_MAX is capped, not undefined behaviour. */
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        until: {timeout: 1e300}\n",
                 UTIL_ERR_LIMIT, "t.yaml:5:17: timeout: at most 30 minutes");
}

static void test_regex_bounds(void **state)
{
    (void)state;
    regex_t re;
    char why[256];
    assert_int_equal(case_regex_compile(&re, "^[0-9a-f]{8}-[0-9a-f]{4}$", why, sizeof(why)), 0);
    regfree(&re);
    assert_int_equal(case_regex_compile(&re, "a{2000}", why, sizeof(why)), 0);
    regfree(&re);
    /* glibc's regcomp takes minutes over this one (found by fuzzing). */
    assert_int_equal(case_regex_compile(&re, "((a{0,50}){1,50}){1,50}", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "expand to more than 2000"));
    assert_int_equal(case_regex_compile(&re, "(a*)\\1", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "backreferences"));
    assert_int_equal(case_regex_compile(&re, "(", why, sizeof(why)), -1);
    expect_error("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n"
                 "        expect:\n          body: {a: {$regex: '(a{0,50}){1,50}'}}\n",
                 UTIL_ERR_INVALID,
                 "t.yaml:6:22: $regex: not a POSIX extended regular expression: its repetitions "
                 "expand to more than 2000 elements (nested {m,n} multiply)");
}

static void test_durations_and_status(void **state)
{
    (void)state;
    long ms = 0;
    assert_int_equal(case_parse_duration("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(case_parse_duration("2s", &ms), 0);
    assert_int_equal(ms, 2000);
    assert_int_equal(case_parse_duration("1m", &ms), 0);
    assert_int_equal(ms, 60000);
    assert_int_equal(case_parse_duration("250", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(case_parse_duration("5 s", &ms), -1);
    assert_int_equal(case_parse_duration("-1s", &ms), -1);
    struct case_status st[] = {{200, false}, {4, true}};
    struct case_expect e = {.status = st, .nstatus = 2};
    assert_true(case_expect_status_matches(&e, 200));
    assert_true(case_expect_status_matches(&e, 404));
    assert_false(case_expect_status_matches(&e, 201));
    char buf[64];
    case_expect_status_text(&e, buf, sizeof(buf));
    assert_string_equal(buf, "200, 4xx");
    struct case_expect none = {0};
    assert_true(case_expect_status_matches(&none, 204));
    assert_false(case_expect_status_matches(&none, 400));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_file_model),
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_unknown_operation),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_cassette_match),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_templates_and_matchers),
        cmocka_unit_test(test_template_date_arithmetic),
        cmocka_unit_test(test_template_date_arithmetic_load),
        cmocka_unit_test(test_live_matchers_load),
        cmocka_unit_test(test_duplicate_case_and_cap),
        cmocka_unit_test(test_suite_directory),
        cmocka_unit_test(test_template_expansion),
        cmocka_unit_test(test_captures),
        cmocka_unit_test(test_regex_bounds),
        cmocka_unit_test(test_until_bounds),
        cmocka_unit_test(test_durations_and_status),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_header_templates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
