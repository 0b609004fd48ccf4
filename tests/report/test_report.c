/* Tests of src/report: console lines and failure details, JUnit XML,
 * results.json, atomic writing, no secret in any output, the same reports
 * whatever -j (timings aside). */
#include "report/report.h"

#include "util/file.h"
#include "util/text.h"
#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define API_KEY "K3Y-report-test-9f8e7d"

static struct case_loader *loader;
static struct check_contract *contract;

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    char schemas[4200];
    snprintf(schemas, sizeof(schemas), "%s/schemas", src ? src : ".");
    struct util_error err;
    util_error_clear(&err);
    loader = case_loader_create_dir(schemas, &err);
    contract = loader ? check_contract_create_dir(schemas, &err) : NULL;
    return contract ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    check_contract_destroy(contract);
    case_loader_destroy(loader);
    return 0;
}

/* getTask answers a Task-less body (a schema failure), deleteTask and the
 * rest answer well; a secret is echoed back in a message. */
static int fake_send(struct http_transport *t, const struct http_request *req,
                     struct http_response *resp, struct util_error *err)
{
    (void)t;
    (void)err;
    const char *body;
    resp->status = 200;
    if (strcmp(req->method, "DELETE") == 0) {
        body = "{\"deletedAt\":\"2024-04-17T10:00:00Z\"}";
    } else if (strstr(req->url, "/1/tasks/bad")) {
        body = "{\"taskID\":12}";
    } else {
        resp->status = 400;
        body = "{\"message\":\"key " API_KEY " refused, password hunter2-secret\"}";
    }
    http_headers_add(&resp->headers, "Content-Type", "application/json");
    resp->body = strdup(body);
    resp->body_len = strlen(body);
    return UTIL_OK;
}

static void fake_destroy(struct http_transport *t)
{
    free(t);
}

static const struct http_transport_ops fake_ops = {"fake", fake_send, fake_destroy};

static struct http_transport *fake_create(void *user, struct util_error *err)
{
    (void)user;
    (void)err;
    struct http_transport *t = calloc(1, sizeof(*t));
    t->ops = &fake_ops;
    return t;
}

static const char *const cases_text =
    "cases:\n"
    "  - name: passes\n"
    "    steps:\n"
    "      - operation: deleteTask\n"
    "        path: {taskID: ok}\n"
    "  - name: a <b> & \"c\"\n"
    "    steps:\n"
    "      - name: read\n"
    "        operation: getTask\n"
    "        path: {taskID: bad}\n"
    "    teardown:\n"
    "      - operation: deleteTask\n"
    "        path: {taskID: bad}\n"
    "  - name: gap and secret\n"
    "    steps:\n"
    "      - operation: createAuthentication\n"
    "        body: {type: basic, name: n, input: {username: u, password: hunter2-secret}}\n"
    "        expect: {status: 400}\n";

/* Runs shard k of n of cases_text (n = 0: the whole plan). */
static void execute_shard(unsigned jobs, unsigned k, unsigned n, struct case_file **f,
                          struct run_results *r)
{
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(case_file_load_text(loader, cases_text, strlen(cases_text), "t.yaml", f, &err),
                     UTIL_OK);
    struct case_suite s = {.files = f, .count = 1, .alloc = 1};
    struct run_plan plan;
    run_plan_init(&plan);
    assert_int_equal(run_plan_build(&s, NULL, &plan, &err), UTIL_OK);
    if (n)
        assert_int_equal(run_plan_shard(&plan, k, n, NULL, &err), UTIL_OK);
    struct run_config cfg = {.base_url = "http://fake.invalid",
                             .app_id = "APP",
                             .api_key = API_KEY,
                             .run_id = "ic-r",
                             .jobs = jobs,
                             .transport_create = fake_create,
                             .contract = contract};
    run_results_init(r);
    assert_int_equal(run_execute(&cfg, &plan, r, &err), UTIL_OK);
    run_plan_finish(&plan);
}

static void execute(unsigned jobs, struct case_file **f, struct run_results *r)
{
    execute_shard(jobs, 0, 0, f, r);
}

static void test_console(void **state)
{
    (void)state;
    struct case_file *f = NULL;
    struct run_results r;
    execute(1, &f, &r);
    struct util_buf b;
    struct report_console_options plain = {0}, color = {.color = true};
    util_buf_init(&b, 1u << 20);
    for (size_t i = 0; i < r.count; i++)
        assert_int_equal(report_console_case(&b, &r.cases[i], &plain), UTIL_OK);
    assert_string_equal(b.data, "PASS  passes (t.yaml:2)\n"
                                "FAIL  a <b> & \"c\" (t.yaml:6)\n"
                                "PASS  gap and secret (t.yaml:14)\n");
    util_buf_reset(&b);
    assert_int_equal(report_console_case(&b, &r.cases[0], &color), UTIL_OK);
    assert_string_equal(b.data, "\033[32mPASS \033[0m passes (t.yaml:2)\n");
    util_buf_reset(&b);
    assert_int_equal(report_console_failure(&b, &r.cases[0], &plain), UTIL_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(report_console_failure(&b, &r.cases[1], &plain), UTIL_OK);
    assert_non_null(strstr(b.data, "  step 'read' (getTask) at t.yaml:8\n"
                                   "    request:  GET http://fake.invalid/1/tasks/bad\n"
                                   "    response: 200 application/json\n"));
    assert_non_null(strstr(b.data, "    contract.schema: 200 response of getTask: /taskID: "));
    assert_non_null(strstr(b.data, "      actual:   12\n"));
    assert_non_null(strstr(b.data, "      expected: components/"));
    util_buf_reset(&b);
    assert_int_equal(report_console_summary(&b, &r, &plain), UTIL_OK);
    assert_non_null(strstr(b.data, "3 cases: 2 passed, 1 failed, 0 skipped; "));
    assert_null(strstr(b.data, "spec gap:")); /* 400 is documented: no gap */
    util_buf_reset(&b);
    assert_int_equal(report_console_progress(&b, 2, 3, "x"), UTIL_OK);
    assert_string_equal(b.data, "\r\033[K[2/3] x");
    util_buf_finish(&b);
    run_results_finish(&r);
    case_file_destroy(f);
}

/* Spec gaps on the console: one line per undocumented status by default
 * (operations counted once each), every gap with verbose. */
static void test_console_gaps(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *op;
    } gaps[] = {{404, "getTask"}, {404, "getSource"}, {403, "getTask"}, {404, "getTask"}};
    struct run_results r;
    run_results_init(&r);
    struct run_case_result k;
    memset(&k, 0, sizeof(k));
    struct run_step_result steps[4];
    memset(steps, 0, sizeof(steps));
    for (size_t i = 0; i < 4; i++) {
        check_list_init(&steps[i].checks);
        steps[i].status = gaps[i].status;
        steps[i].operation_id = (char *)(uintptr_t)gaps[i].op;
        steps[i].method = (char *)(uintptr_t) "GET";
        steps[i].url = (char *)(uintptr_t) "http://x/1/tasks/u";
        assert_int_equal(check_list_add(&steps[i].checks, "contract.status", CHECK_GAP, NULL, NULL,
                                        NULL, "undocumented"),
                         UTIL_OK);
    }
    k.name = (char *)(uintptr_t) "c";
    k.file = (char *)(uintptr_t) "t.yaml";
    k.steps = steps;
    k.nsteps = 4;
    r.cases = &k;
    r.count = 1;
    struct util_buf b;
    util_buf_init(&b, 1u << 20);
    struct report_console_options plain = {0}, verbose = {.verbose = true};
    assert_int_equal(report_console_summary(&b, &r, &plain), UTIL_OK);
    assert_non_null(strstr(b.data, "spec gap: 403 undocumented on 1 operation (1 response; "
                                   "--verbose lists them)\n"
                                   "spec gap: 404 undocumented on 2 operations (3 responses; "));
    util_buf_reset(&b);
    assert_int_equal(report_console_summary(&b, &r, &verbose), UTIL_OK);
    size_t lines = 0;
    for (const char *p = b.data; (p = strstr(p, "spec gap: GET ")) != NULL; p++)
        lines++;
    assert_int_equal(lines, 4);
    assert_null(strstr(b.data, "undocumented on"));
    util_buf_finish(&b);
    for (size_t i = 0; i < 4; i++)
        check_list_finish(&steps[i].checks);
}

static void test_junit(void **state)
{
    (void)state;
    struct case_file *f = NULL;
    struct run_results r;
    execute(1, &f, &r);
    struct util_buf b;
    util_buf_init(&b, 1u << 20);
    assert_int_equal(report_junit(&b, &r), UTIL_OK);
    assert_non_null(strstr(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                   "<testsuites name=\"ingestcheck\" tests=\"3\" failures=\"1\" "
                                   "errors=\"0\" skipped=\"0\" time=\""));
    assert_non_null(strstr(b.data, "<testsuite name=\"t.yaml\" tests=\"3\" failures=\"1\""));
    assert_non_null(strstr(b.data, "<testcase classname=\"t.yaml\" name=\"passes\" "
                                   "file=\"t.yaml\" line=\"2\" time=\""));
    assert_non_null(strstr(b.data, "name=\"a &lt;b&gt; &amp; &quot;c&quot;\""));
    assert_non_null(strstr(b.data, "<failure message=\"step &apos;read&apos;: contract.schema: "));
    assert_non_null(strstr(b.data, "type=\"contract.schema\">"));
    assert_null(strstr(b.data, API_KEY));
    util_buf_finish(&b);
    run_results_finish(&r);
    case_file_destroy(f);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(util_file_read(path, 1u << 26, &text, &len, &err), UTIL_OK);
    return text;
}

/* A server's bytes that are not UTF-8 (and a quote cut inside a
 * character) become U+FFFD in every report, so that each stays UTF-8. */
static void test_reports_stay_utf8(void **state)
{
    (void)state;
    struct run_results r;
    run_results_init(&r);
    r.cases = calloc(1, sizeof(*r.cases));
    r.count = 1;
    r.failed = 1;
    struct run_case_result *k = &r.cases[0];
    k->name = strdup("case \xff");
    k->file = strdup("t.yaml");
    k->outcome = RUN_FAILED;
    k->message = strdup("step 's': contract.json: body is not JSON");
    k->steps = calloc(1, sizeof(*k->steps));
    k->nsteps = 1;
    struct run_step_result *st = &k->steps[0];
    st->name = strdup("s");
    st->outcome = RUN_FAILED;
    st->status = 200;
    st->method = strdup("GET");
    st->url = strdup("http://h/1/tasks");
    check_list_init(&st->checks);
    check_list_add(&st->checks, "contract.json", CHECK_FAIL, NULL, "a JSON document",
                   "malformed \xc3", "body is not JSON");
    /* 399 ASCII bytes then a 2-byte character: the console quote cuts it. */
    char text[512];
    memset(text, 'a', 399);
    memcpy(text + 399, "\xc3\xa9\xfe", 4);
    st->response_text = strdup(text);

    struct util_buf b;
    util_buf_init(&b, 1u << 20);
    assert_int_equal(report_console_case(&b, k, NULL), UTIL_OK);
    assert_int_equal(report_console_failure(&b, k, NULL), UTIL_OK);
    assert_int_equal(report_console_summary(&b, &r, NULL), UTIL_OK);
    assert_true(util_utf8_valid(b.data, b.len));
    assert_non_null(strstr(b.data, "case \xef\xbf\xbd"));
    util_buf_finish(&b);

    char dir[] = "/tmp/ic-report-XXXXXX", p[128];
    assert_non_null(mkdtemp(dir));
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(report_write(dir, &r, &err), UTIL_OK);
    const char *names[] = {"junit.xml", "results.json"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        char *t = slurp(p);
        assert_true(util_utf8_valid(t, strlen(t)));
        assert_non_null(strstr(t, "\xef\xbf\xbd"));
        free(t);
        unlink(p);
    }
    rmdir(dir);

    /* results.json cannot be written (a directory is in the way): no
     * junit.xml is left either, not even an older one. */
    assert_non_null(mkdtemp(strcpy(dir, "/tmp/ic-report-XXXXXX")));
    snprintf(p, sizeof(p), "%s/junit.xml", dir);
    FILE *old = fopen(p, "w");
    assert_non_null(old);
    fputs("<testsuites/>\n", old);
    fclose(old);
    snprintf(p, sizeof(p), "%s/results.json", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_not_equal(report_write(dir, &r, &err), UTIL_OK);
    snprintf(p, sizeof(p), "%s/junit.xml", dir);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof(p), "%s/results.json", dir);
    rmdir(p);
    rmdir(dir);
    run_results_finish(&r);
}

/* Removes every `time="..."` attribute, the timing members
 * ("elapsed_ms", "transport_ms", "poll_sleep_ms", "clock_advanced_ms") and
 * the digest (of the text, timings included). */
static void strip_timings(char *s)
{
    static const char *const keys[] = {"\"elapsed_ms\":", "\"transport_ms\":", "\"poll_sleep_ms\":",
                                       "\"clock_advanced_ms\":", "\"digest\":",
                                       "\"waited_ms\":"};
    char *p;
    while ((p = strstr(s, "time=\"")) != NULL) {
        char *end = strchr(p + 6, '"');
        memmove(p, end + 1, strlen(end + 1) + 1);
    }
    for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
        while ((p = strstr(s, keys[k])) != NULL) {
            char *end = p + strlen(keys[k]);
            while (*end && *end != ',' && *end != '\n' && *end != '}')
                end++;
            memmove(p, end, strlen(end) + 1);
        }
    }
}

static void test_write_and_determinism(void **state)
{
    (void)state;
    char dir1[] = "/tmp/ic-report-XXXXXX", dir2[] = "/tmp/ic-report-XXXXXX";
    assert_non_null(mkdtemp(dir1));
    assert_non_null(mkdtemp(dir2));
    char sub1[64], sub2[64];
    snprintf(sub1, sizeof(sub1), "%s/nested/reports", dir1);
    snprintf(sub2, sizeof(sub2), "%s/r", dir2);
    struct case_file *f1 = NULL, *f3 = NULL;
    struct run_results r1, r3;
    struct util_error err;
    util_error_clear(&err);
    execute(1, &f1, &r1);
    execute(3, &f3, &r3);
    assert_int_equal(report_write(sub1, &r1, &err), UTIL_OK);
    assert_int_equal(report_write(sub2, &r3, &err), UTIL_OK);
    char p[128];
    snprintf(p, sizeof(p), "%s/junit.xml", sub1);
    char *j1 = slurp(p);
    snprintf(p, sizeof(p), "%s/results.json", sub1);
    char *x1 = slurp(p);
    snprintf(p, sizeof(p), "%s/junit.xml", sub2);
    char *j3 = slurp(p);
    snprintf(p, sizeof(p), "%s/results.json", sub2);
    char *x3 = slurp(p);

    /* No secret anywhere: not the key, not the password sent. */
    assert_null(strstr(j1, API_KEY));
    assert_null(strstr(x1, API_KEY));
    assert_null(strstr(x1, "hunter2-secret"));
    assert_null(strstr(j1, "hunter2-secret"));

    /* results.json: the summary and a check with its pointer. */
    cJSON *doc = cJSON_Parse(x1);
    assert_non_null(doc);
    assert_int_equal(json_pointer_get(doc, "/summary/cases", false)->valueint, 3);
    assert_int_equal(json_pointer_get(doc, "/summary/failed", false)->valueint, 1);
    assert_string_equal(json_pointer_get(doc, "/run_id", false)->valuestring, "ic-r");
    const cJSON *steps = json_pointer_get(doc, "/cases/1/steps", false);
    assert_int_equal(cJSON_GetArraySize(steps), 2);
    assert_string_equal(json_pointer_get(doc, "/cases/1/steps/1/phase", false)->valuestring,
                        "teardown");
    bool pointer = false;
    const cJSON *c;
    cJSON_ArrayForEach(c, json_pointer_get(doc, "/cases/1/steps/0/checks", false))
    {
        const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(c, "pointer");
        pointer = pointer || (cJSON_IsString(ptr) && strcmp(ptr->valuestring, "/taskID") == 0);
    }
    assert_true(pointer);
    assert_string_equal(
        json_pointer_get(doc, "/cases/2/steps/0/request/body/input/password", false)->valuestring,
        "****");
    assert_string_equal(
        json_pointer_get(doc, "/cases/0/steps/0/request/params/path/taskID", false)->valuestring,
        "ok");
    cJSON_Delete(doc);

    /* -j 1 and -j 3 give the same reports, timings aside. */
    strip_timings(j1);
    strip_timings(j3);
    strip_timings(x1);
    strip_timings(x3);
    assert_string_equal(j1, j3);
    assert_string_equal(x1, x3);
    free(j1);
    free(j3);
    free(x1);
    free(x3);

    /* Atomic writing leaves no temporary file behind. */
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 2", sub1);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir1, dir2);
    assert_int_equal(system(cmd), 0);
    run_results_finish(&r1);
    run_results_finish(&r3);
    case_file_destroy(f1);
    case_file_destroy(f3);
}

/* Sets every duration to 0, so that two runs' reports compare equal. */
static void zero_timings(struct run_results *r)
{
    r->elapsed_ms = r->transport_ms = r->poll_sleep_ms = r->clock_advanced_ms = 0;
    for (size_t i = 0; i < r->count; i++) {
        r->cases[i].elapsed_ms = 0;
        for (size_t s = 0; s < r->cases[i].nsteps; s++)
            r->cases[i].steps[s].elapsed_ms = 0;
    }
}

/* junit.xml and results.json of r, as text (caller frees). */
static void render(const struct run_results *r, char **junit, char **json)
{
    struct util_buf b;
    struct util_error err;
    cJSON *doc = NULL;
    util_error_clear(&err);
    util_buf_init(&b, 1u << 24);
    assert_int_equal(report_junit(&b, r), UTIL_OK);
    *junit = util_buf_steal(&b);
    util_buf_finish(&b);
    assert_int_equal(report_results_json(r, &doc, &err), UTIL_OK);
    *json = cJSON_Print(doc);
    assert_non_null(*json);
    cJSON_Delete(doc);
}

/* a and b render to the same junit.xml and results.json, byte for byte;
 * when json_has is not NULL, b's results.json contains it or not as
 * has says. */
static void assert_same_render(const struct run_results *a, const struct run_results *b,
                               const char *json_has, bool has)
{
    char *j1, *x1, *j2, *x2;
    render(a, &j1, &x1);
    render(b, &j2, &x2);
    if (json_has)
        assert_int_equal(strstr(x2, json_has) != NULL, has);
    assert_string_equal(j1, j2);
    assert_string_equal(x1, x2);
    free(j1);
    free(j2);
    free(x1);
    free(x2);
}

/* The results of the suite of execute(), written to results.json and
 * read back, render to the same junit.xml and results.json byte for byte
 * (timings included); with interrupted, one case and the run were cut
 * short by SIGINT and stay so. */
static void read_back(bool interrupted)
{
    struct case_file *f = NULL;
    struct run_results r, back;
    struct util_error err;
    cJSON *doc = NULL;
    util_error_clear(&err);
    execute(1, &f, &r);
    r.cases[2].interrupted = r.interrupted = interrupted;
    assert_int_equal(report_results_json(&r, &doc, &err), UTIL_OK);
    run_results_init(&back);
    assert_int_equal(report_results_from_json(doc, NULL, &back, &err), UTIL_OK);
    cJSON_Delete(doc);
    assert_int_equal(back.count, 3);
    assert_int_equal(back.failed, r.failed);
    assert_int_equal(back.checks, r.checks);
    assert_int_equal(back.gaps, r.gaps);
    assert_int_equal(back.shards, 0);
    assert_string_equal(back.cases[1].steps[1].name, r.cases[1].steps[1].name);
    assert_true(back.cases[1].steps[1].teardown);
    assert_int_equal(back.interrupted, interrupted);
    assert_false(back.cases[1].interrupted);
    assert_int_equal(back.cases[2].interrupted, interrupted);
    assert_same_render(&r, &back, "\"interrupted\":\ttrue", interrupted);
    run_results_finish(&back);
    run_results_finish(&r);
    case_file_destroy(f);
}

static void test_read_back(void **state)
{
    (void)state;
    read_back(false);
}

/* Merging an interrupted shard keeps it interrupted. */
static void test_read_back_interrupted(void **state)
{
    (void)state;
    read_back(true);
}

/* Runs shards 1..n into in[] and reads them back from results.json, as
 * `merge` does. */
static void shards_read_back(unsigned n, struct run_results *in, struct case_file **f)
{
    struct util_error err;
    util_error_clear(&err);
    for (unsigned k = 1; k <= n; k++) {
        struct run_results r;
        cJSON *doc = NULL;
        execute_shard(1, k, n, &f[k - 1], &r);
        assert_int_equal(r.shard, k);
        assert_int_equal(r.shards, n);
        assert_int_equal(r.planned, 3);
        assert_int_equal(report_results_json(&r, &doc, &err), UTIL_OK);
        run_results_init(&in[k - 1]);
        assert_int_equal(report_results_from_json(doc, NULL, &in[k - 1], &err), UTIL_OK);
        cJSON_Delete(doc);
        run_results_finish(&r);
    }
}

static void test_merge(void **state)
{
    (void)state;
    struct case_file *f = NULL, *fs[3] = {0};
    struct run_results whole, in[3], swapped[3], merged;
    struct util_error err;
    size_t culprit = 0;
    util_error_clear(&err);
    execute(1, &f, &whole);
    shards_read_back(3, in, fs);
    /* Given in any order. */
    swapped[0] = in[2];
    swapped[1] = in[0];
    swapped[2] = in[1];
    run_results_init(&merged);
    assert_int_equal(report_merge(swapped, 3, &merged, &culprit, &err), UTIL_OK);
    assert_int_equal(merged.count, 3);
    assert_int_equal(merged.shards, 0);
    assert_int_equal(merged.failed, 1);
    assert_int_equal(merged.checks, whole.checks);
    zero_timings(&whole);
    zero_timings(&merged);
    assert_same_render(&whole, &merged, NULL, false);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(swapped[i].count, 0); /* moved */
        run_results_finish(&swapped[i]);
        case_file_destroy(fs[i]);
    }
    run_results_finish(&merged);
    run_results_finish(&whole);
    case_file_destroy(f);
}

/* A target error in shards 3 and 2: the merged run has one, with shard
 * 2's message, whatever the order given. */
static void test_merge_target_error(void **state)
{
    (void)state;
    struct case_file *fs[3] = {0};
    struct run_results in[3], merged;
    struct util_error err;
    size_t culprit = 0;
    util_error_clear(&err);
    shards_read_back(3, in, fs);
    in[2].target_error = in[1].target_error = true;
    snprintf(in[2].target_message, sizeof(in[2].target_message), "from 3");
    snprintf(in[1].target_message, sizeof(in[1].target_message), "from 2");
    struct run_results order[3] = {in[2], in[0], in[1]};
    run_results_init(&merged);
    assert_int_equal(report_merge(order, 3, &merged, &culprit, &err), UTIL_OK);
    assert_true(merged.target_error);
    assert_string_equal(merged.target_message, "from 2");
    assert_false(merged.interrupted);
    for (int i = 0; i < 3; i++) {
        run_results_finish(&order[i]);
        case_file_destroy(fs[i]);
    }
    run_results_finish(&merged);
}

/* merge(in[0..n-1]) fails with UTIL_ERR_INVALID, blaming input culprit,
 * saying needle. */
static void assert_merge_refused(struct run_results *in, size_t n, size_t culprit,
                                 const char *needle)
{
    struct run_results merged;
    struct util_error err;
    size_t got = 0;
    util_error_clear(&err);
    run_results_init(&merged);
    assert_int_equal(report_merge(in, n, &merged, &got, &err), UTIL_ERR_INVALID);
    assert_int_equal(got, culprit);
    if (!strstr(err.message, needle))
        fail_msg("'%s' does not say '%s'", err.message, needle);
    run_results_finish(&merged);
}

static void test_merge_refuses(void **state)
{
    (void)state;
    struct case_file *fs[3] = {0}, *f4[4] = {0};
    struct run_results in[3], of4[4], set[4];
    shards_read_back(3, in, fs);
    shards_read_back(4, of4, f4);
    /* A shard missing, one given twice, shards of two partitions. */
    set[0] = in[0];
    set[1] = in[2];
    assert_merge_refused(set, 2, SIZE_MAX, "shard 2/3 missing (2 of 3 given)");
    set[1] = in[0];
    set[2] = in[1];
    assert_merge_refused(set, 3, 1, "shard 1/3 given twice");
    set[0] = in[0];
    set[1] = of4[1];
    assert_merge_refused(set, 2, 1,
                         "shard 2/4 of a plan of 3 cases, but the first is a shard "
                         "of 3");
    /* Shards that do not hold one plan: two hold the same position. */
    size_t saved = in[2].cases[0].index;
    in[2].cases[0].index = in[0].cases[0].index;
    assert_merge_refused(in, 3, SIZE_MAX, "not one plan");
    in[2].cases[0].index = saved;
    /* A run without --shard. */
    unsigned s = in[1].shards;
    in[1].shards = 0;
    assert_merge_refused(in, 3, 1, "without --shard");
    in[1].shards = s;
    /* Nothing given. */
    struct run_results merged;
    struct util_error err;
    size_t culprit;
    run_results_init(&merged);
    assert_int_equal(report_merge(in, 0, &merged, &culprit, &err), UTIL_ERR_USAGE);
    for (int i = 0; i < 3; i++) {
        run_results_finish(&in[i]);
        case_file_destroy(fs[i]);
    }
    for (int i = 0; i < 4; i++) {
        run_results_finish(&of4[i]);
        case_file_destroy(f4[i]);
    }
}

/* results.json documents that are not what report_results_json writes:
 * refused naming the member. */
static void test_read_refuses(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *says;
    } bad[] = {
        {"[]", "expected an object"},
        {"{\"tool\": \"other\"}", "/tool: expected \"ingestcheck\""},
        {"{\"tool\": \"ingestcheck\", \"run_id\": 1}", "/run_id: expected a string or null"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": \"x\", \"base_url\": null}",
         "/elapsed_ms: expected a number"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": 0}",
         "/target_error: expected true or false"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, \"interrupted\": 1}",
         "/interrupted: expected true or false"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, \"cases\": [], \"cassettes\": {\"mode\": \"none\", "
         "\"spec_sha256\": null, \"files\": [{\"path\": \"c/t.yaml\", \"spec_sha256\": null, "
         "\"replayed\": 3, \"recorded\": 0, \"spec_changed\": false, \"written\": 1}]}}",
         "/cassettes/files/0/written: expected true or false"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, \"cases\": [], \"cassettes\": {\"mode\": null, "
         "\"spec_sha256\": null, \"files\": []}}",
         "/cassettes/mode: expected a string"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [{\"name\": \"n\", \"file\": \"f\", \"line\": 1, \"index\": 0, "
         "\"outcome\": \"skipped\", \"message\": null, \"gaps\": 0, \"elapsed_ms\": 1, "
         "\"interrupted\": \"yes\", \"tags\": [], \"steps\": []}]}",
         "/cases/0/interrupted: expected true or false"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": true, "
         "\"target_message\": 2}",
         "/target_message: expected a string or null"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": {}}",
         "/cases: expected an array"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [{\"name\": \"n\", \"file\": \"f\", \"line\": -1}]}",
         "/cases/0/line: expected a non-negative integer"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [{\"name\": \"n\", \"file\": \"f\", \"line\": 1, \"index\": 0, "
         "\"outcome\": \"won\"}]}",
         "/cases/0/outcome: expected passed, failed, skipped or error"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [{\"name\": \"n\", \"file\": \"f\", \"line\": 1, \"index\": 0, "
         "\"outcome\": \"passed\", \"message\": null, \"gaps\": 0, \"elapsed_ms\": 1, "
         "\"tags\": [1], \"steps\": []}]}",
         "/cases/0/tags/0: expected a string"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [{\"name\": \"n\", \"file\": \"f\", \"line\": 1, \"index\": 0, "
         "\"outcome\": \"passed\", \"message\": null, \"gaps\": 0, \"elapsed_ms\": 1, "
         "\"tags\": [], \"steps\": [{\"phase\": \"before\"}]}]}",
         "/cases/0/steps/0/phase: expected steps or teardown"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [{\"name\": \"n\", \"file\": \"f\", \"line\": 1, \"index\": 0, "
         "\"outcome\": \"passed\", \"message\": null, \"gaps\": 0, \"elapsed_ms\": 1, "
         "\"tags\": [], \"steps\": [{\"phase\": \"steps\", \"name\": \"s\", \"index\": 0, "
         "\"line\": 1, \"operation\": null, \"outcome\": \"passed\", \"message\": null, "
         "\"elapsed_ms\": 0, \"attempts\": 1, \"request\": {\"method\": null, \"url\": null}, "
         "\"response\": {\"status\": 200, \"content_type\": null}, \"checks\": [{\"name\": \"c\", "
         "\"outcome\": \"maybe\"}]}]}]}",
         "/cases/0/steps/0/checks/0/outcome: expected pass, fail, gap or skip"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [{\"name\": \"n\", \"file\": \"f\", \"line\": 1, \"index\": 5, "
         "\"outcome\": \"passed\", \"message\": null, \"gaps\": 0, \"elapsed_ms\": 1, "
         "\"tags\": [], \"steps\": []}]}",
         "/cases/0/index: 5, but the plan has 1 cases"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [], \"shard\": {\"index\": 3, \"count\": 2, \"planned\": 0}}",
         "/shard: shard 3 of 2"},
        {"{\"tool\": \"ingestcheck\", \"run_id\": null, \"base_url\": null, \"elapsed_ms\": 1, "
         "\"target_error\": false, "
         "\"cases\": [], \"shard\": {\"index\": 1, \"count\": 2, \"planned\": 0, \"plan\": "
         "\"xyz\"}}",
         "/shard/plan: expected 16 hexadecimal digits or null"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct run_results r;
        struct util_error err;
        cJSON *doc = cJSON_Parse(bad[i].doc);
        assert_non_null(doc);
        util_error_clear(&err);
        run_results_init(&r);
        assert_int_equal(report_results_from_json(doc, NULL, &r, &err), UTIL_ERR_INVALID);
        if (!strstr(err.message, bad[i].says))
            fail_msg("document %zu: '%s' does not say '%s'", i, err.message, bad[i].says);
        run_results_finish(&r);
        cJSON_Delete(doc);
    }
    /* report_read names the file. */
    struct run_results r;
    struct util_error err;
    util_error_clear(&err);
    run_results_init(&r);
    assert_int_equal(report_read("/nonexistent-ic-dir", &r, &err), UTIL_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent-ic-dir/results.json"));
    run_results_finish(&r);
}

/* results.json as written (cases serialized apart, in halves, and put
 * between the ends of the rest) is exactly the text of the whole tree with
 * its digest as the last member, for 3, 1 and 0 cases, and reads back. */
static void test_results_json_text(void **state)
{
    (void)state;
    char dir[] = "/tmp/ic-report-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct case_file *f = NULL;
    struct run_results r, back;
    struct util_error err;
    util_error_clear(&err);
    run_results_init(&back);
    execute(1, &f, &r);
    size_t count = r.count;
    const size_t counts[] = {count, 1, 0};
    for (size_t k = 0; k < sizeof(counts) / sizeof(*counts); k++) {
        r.count = counts[k];
        assert_int_equal(report_write(dir, &r, &err), UTIL_OK);
        char p[128];
        snprintf(p, sizeof(p), "%s/results.json", dir);
        char *written = slurp(p);
        cJSON *tree = NULL;
        assert_int_equal(report_results_json(&r, &tree, &err), UTIL_OK);
        /* Written with its digest as the last member, which matches. */
        assert_int_equal(report_results_read_text(written, strlen(written), p, NULL, &back, &err),
                         UTIL_OK);
        assert_int_equal(back.count, counts[k]);
        run_results_finish(&back);
        run_results_init(&back);
        char value[sizeof(REPORT_DIGEST_PREFIX) + 64] = "";
        size_t at = report_digest_find(written, strlen(written));
        assert_true(at != SIZE_MAX);
        snprintf(value, sizeof(value), REPORT_DIGEST_PREFIX "%.64s", written + at);
        assert_non_null(cJSON_AddStringToObject(tree, REPORT_DIGEST_MEMBER, value));
        char *want = json_print(tree, true);
        assert_non_null(want);
        assert_string_equal(written, want);
        free(want);
        free(written);
        cJSON_Delete(tree);
    }
    r.count = count;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    run_results_finish(&r);
    case_file_destroy(f);
}

/* results.json as merge reads it: the digest must match (one byte
 * changed, the digest removed, moved or cut off: refused, each saying
 * so), and the caps hold (a name, a text, the cases, the steps). */
static void test_read_digest_and_caps(void **state)
{
    (void)state;
    char dir[] = "/tmp/ic-report-XXXXXX", p[128];
    assert_non_null(mkdtemp(dir));
    struct case_file *f = NULL;
    struct run_results r, back;
    struct util_error err;
    util_error_clear(&err);
    run_results_init(&back);
    execute(1, &f, &r);
    assert_int_equal(report_write(dir, &r, &err), UTIL_OK);
    snprintf(p, sizeof(p), "%s/results.json", dir);
    char *text = slurp(p);
    size_t len = strlen(text);
    assert_int_equal(report_results_read_text(text, len, p, NULL, &back, &err), UTIL_OK);
    run_results_finish(&back);
    static const struct {
        const char *what, *says;
        int code;
    } refused[] = {
        {"a byte changed", "does not match its digest", UTIL_ERR_INVALID},
        {"no digest", "no \"digest\": written by an ingestcheck older than this one",
         UTIL_ERR_INVALID},
        {"cut short", "the file is cut short", UTIL_ERR_PARSE},
        {"a name past a small cap", "/cases/0/name: ", UTIL_ERR_LIMIT},
        {"a text past a small cap", "bytes, longer than the cap of 8 bytes for a text",
         UTIL_ERR_LIMIT},
        {"cases past a small cap", "/cases: more than the cap of 2 cases", UTIL_ERR_LIMIT},
        {"steps past a small cap", "/cases/1/steps: more than the cap of 1 steps", UTIL_ERR_LIMIT},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
        char *t = strdup(text);
        size_t n = len;
        struct report_read_caps caps = report_read_caps_default;
        assert_non_null(t);
        if (i == 0)
            t[strstr(t, "\"name\"") - t + 11] ^= 1; /* a letter of the first case's name */
        else if (i == 1)
            strcpy(strstr(t, ",\n  \"digest\""), "\n}\n");
        else if (i == 2)
            t[n / 2] = '\0';
        else if (i == 3)
            caps.name = 4; /* "plain" and its like are longer */
        else if (i == 4)
            caps.text = 8;
        else if (i == 5)
            caps.cases = 2;
        else
            caps.steps = 1;
        n = strlen(t);
        util_error_clear(&err);
        run_results_init(&back);
        int rc = report_results_read_text(t, n, p, &caps, &back, &err);
        if (rc != refused[i].code || !strstr(err.message, refused[i].says) ||
            !strstr(err.message, p) || strchr(err.message, '\n'))
            fail_msg("%s: %d '%s', expected %d saying '%s'", refused[i].what, rc, err.message,
                     refused[i].code, refused[i].says);
        run_results_finish(&back);
        free(t);
    }
    free(text);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    run_results_finish(&r);
    case_file_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_console_gaps),
        cmocka_unit_test(test_junit),
        cmocka_unit_test(test_write_and_determinism),
        cmocka_unit_test(test_read_back),
        cmocka_unit_test(test_read_back_interrupted),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_target_error),
        cmocka_unit_test(test_merge_refuses),
        cmocka_unit_test(test_read_refuses),
        cmocka_unit_test(test_results_json_text),
        cmocka_unit_test(test_read_digest_and_caps),
        cmocka_unit_test(test_reports_stay_utf8),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
