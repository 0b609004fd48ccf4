/* The options that vary the mock's conforming behaviour (issue 14): their
 * parsers, latency and its jitter, the clock offset, run outcomes, event
 * counts, preloading of every resource, and bodies sent as text/plain or
 * without a Content-Type (Algolia's own clients). Without sockets: the
 * server's delay of an answer is tested in test_mock_server.c. */
#include "mock/internal.h"
#include "mock/mock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct mock_options base(uint64_t seed)
{
    static char dir[4096];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(dir, sizeof(dir), "%s/schemas", src ? src : ".");
    struct mock_options o = {
        .schemas_dir = dir, .seeded = true, .seed = seed, .app_id = "APP", .api_key = "KEY"};
    return o;
}

static struct mock_api *create(const struct mock_options *o)
{
    struct util_error err;
    util_error_clear(&err);
    struct mock_api *api = mock_api_create(o, &err);
    if (!api)
        fail_msg("mock_api_create: %s", err.message);
    return api;
}

/* One request; the response is the caller's (mock_response_finish). */
static void call(struct mock_api *api, const char *method, const char *path, const char *ctype,
                 const char *body, struct mock_response *resp)
{
    char target[512];
    struct mock_query_arg args[16];
    size_t nargs = 0;
    snprintf(target, sizeof(target), "%s", path);
    char *q = strchr(target, '?');
    if (q) {
        *q++ = '\0';
        mock_query_split(q, args, 16, &nargs);
    }
    struct mock_request req = {.method = method,
                               .path = target,
                               .args = args,
                               .nargs = nargs,
                               .app_id = "APP",
                               .api_key = "KEY",
                               .content_type = ctype,
                               .body = body,
                               .body_len = body ? strlen(body) : 0};
    mock_response_init(resp);
    mock_handle(api, &req, resp);
}

/* The answer's JSON (the caller deletes it); fails on another status. */
static cJSON *json_of(struct mock_api *api, const char *method, const char *path, const char *body)
{
    struct mock_response r;
    call(api, method, path, "application/json", body, &r);
    if (r.status != 200)
        fail_msg("%s %s: %d %s", method, path, r.status, r.body);
    cJSON *doc = cJSON_Parse(r.body);
    mock_response_finish(&r);
    assert_non_null(doc);
    return doc;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_parsers(void **state)
{
    (void)state;
    struct util_error err;
    util_error_clear(&err);
    long ms = -1, jitter = -1;
    assert_int_equal(mock_latency_parse("150", &ms, &jitter, &err), 0);
    assert_true(ms == 150 && jitter == 0);
    assert_int_equal(mock_latency_parse("150:50", &ms, &jitter, &err), 0);
    assert_true(ms == 150 && jitter == 50);
    assert_int_equal(mock_latency_parse("0:0", &ms, &jitter, &err), 0);
    const char *bad_latency[] = {"", "-5", "150:", ":5", "1.5", "150ms", "600001", "5:x", NULL};
    for (size_t i = 0; bad_latency[i]; i++) {
        assert_int_equal(mock_latency_parse(bad_latency[i], &ms, &jitter, &err), UTIL_ERR_USAGE);
        assert_non_null(strstr(err.message, "--latency expects"));
    }

    int64_t off = 0;
    struct {
        const char *text;
        int64_t ms;
    } offsets[] = {
        {"-3h", -3 * 3600000LL}, {"+26h", 26 * 3600000LL}, {"90m", 5400000}, {"1500ms", 1500},
        {"1500", 1500},          {"-2d", -2 * 86400000LL}, {"0", 0},         {"+45s", 45000}};
    for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        assert_int_equal(mock_offset_parse(offsets[i].text, &off, &err), 0);
        assert_true(off == offsets[i].ms);
    }
    const char *bad_offset[] = {"",  "-", "3x", "h", "--3h", "3 h", "4000d", "99999999999999999999",
                                NULL};
    for (size_t i = 0; bad_offset[i]; i++) {
        assert_int_equal(mock_offset_parse(bad_offset[i], &off, &err), UTIL_ERR_USAGE);
        assert_non_null(strstr(err.message, "--clock-offset expects"));
    }

    enum mock_run_outcome out = MOCK_RUN_SUCCESS;
    assert_int_equal(mock_outcome_parse("failure", &out, &err), 0);
    assert_int_equal(out, MOCK_RUN_FAILURE);
    assert_int_equal(mock_outcome_parse("random", &out, &err), 0);
    assert_int_equal(out, MOCK_RUN_RANDOM);
    assert_int_equal(mock_outcome_parse("success", &out, &err), 0);
    assert_int_equal(out, MOCK_RUN_SUCCESS);
    assert_int_equal(mock_outcome_parse("Failure", &out, &err), UTIL_ERR_USAGE);
    assert_int_equal(mock_outcome_parse(NULL, &out, &err), UTIL_ERR_USAGE);

    int lo = -1, hi = -1;
    assert_int_equal(mock_events_parse("0", &lo, &hi, &err), 0);
    assert_true(lo == 0 && hi == 0);
    assert_int_equal(mock_events_parse("2:9", &lo, &hi, &err), 0);
    assert_true(lo == 2 && hi == 9);
    const char *bad_events[] = {"", "9:2", "-1", "1:", "1001", "0:1001", "a", NULL};
    for (size_t i = 0; bad_events[i]; i++)
        assert_int_equal(mock_events_parse(bad_events[i], &lo, &hi, &err), UTIL_ERR_USAGE);

    struct mock_preload p;
    assert_int_equal(
        mock_preload_parse("authentications=2,sources=3,destinations=4,tasks=5,runs=6", &p, &err),
        0);
    assert_true(p.authentications == 2 && p.sources == 3 && p.destinations == 4 && p.tasks == 5 &&
                p.runs == 6);
    assert_int_equal(mock_preload_parse("runs=7", &p, &err), 0);
    assert_true(p.authentications == 0 && p.runs == 7);
    const char *bad_preload[] = {"",         "tasks",    "tasks=",          "tasks=x",
                                 "task=1",   "tasks=1,", "tasks=1,tasks=2", "tasks=-1",
                                 "tasks=1;", "=1",       "tasks=10000001",  NULL};
    for (size_t i = 0; bad_preload[i]; i++)
        assert_int_equal(mock_preload_parse(bad_preload[i], &p, &err), UTIL_ERR_USAGE);
}

/* Algolia's clients send JSON as text/plain (no CORS preflight): read as
 * JSON, as is a body without a Content-Type; such a body that is not JSON,
 * or a body of another type, answers 400. */
static void test_content_types(void **state)
{
    (void)state;
    struct mock_options o = base(3);
    struct mock_api *api = create(&o);
    const char *json = "{\"type\":\"json\",\"name\":\"n\",\"input\":{\"url\":\"https://x/y\"}}";
    struct {
        const char *ctype, *body;
        int status;
        const char *message;
    } rows[] = {
        {"text/plain", json, 200, NULL},
        {"text/plain;charset=UTF-8", json, 200, NULL},
        {"TEXT/PLAIN; charset=utf-8", json, 200, NULL},
        {NULL, json, 200, NULL},
        {"application/json", json, 200, NULL},
        {"text/plain", "type=json", 400, "body: not valid JSON"},
        {NULL, "{\"type\":", 400, "body: not valid JSON"},
        {"text/plain", "{\"type\":\"json\"}", 400, "body"},
        {"application/xml", json, 400,
         "Content-Type must be application/json, not application/xml"},
        {"text/plainer", json, 400, "Content-Type must be application/json"},
        {"text/html", json, 400, "Content-Type must be application/json"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct mock_response r;
        call(api, "POST", "/1/sources", rows[i].ctype, rows[i].body, &r);
        if (r.status != rows[i].status || (rows[i].message && !strstr(r.body, rows[i].message)))
            fail_msg("row %zu (%s): %d %s", i, rows[i].ctype ? rows[i].ctype : "none", r.status,
                     r.body);
        mock_response_finish(&r);
    }
    mock_api_destroy(api);
}

/* Every answer waits latency plus or minus the jitter, drawn from the
 * variation RNG: the same delays for the same seed, and the same IDs as
 * without latency. */
static void test_latency(void **state)
{
    (void)state;
    struct mock_options o = base(11);
    o.latency_ms = 150;
    o.latency_jitter_ms = 50;
    struct mock_api *a = create(&o), *b = create(&o);
    o.latency_ms = o.latency_jitter_ms = 0;
    struct mock_api *plain = create(&o);
    long lo = 1000, hi = 0;
    for (int i = 0; i < 200; i++) {
        struct mock_response x, y, z;
        call(a, "POST", "/1/sources", NULL,
             "{\"type\":\"json\",\"name\":\"n\",\"input\":{\"url\":\"https://x/y\"}}", &x);
        call(b, "POST", "/1/sources", NULL,
             "{\"type\":\"json\",\"name\":\"n\",\"input\":{\"url\":\"https://x/y\"}}", &y);
        call(plain, "POST", "/1/sources", NULL,
             "{\"type\":\"json\",\"name\":\"n\",\"input\":{\"url\":\"https://x/y\"}}", &z);
        assert_int_equal(x.status, 200);
        assert_true(x.delay_ms == y.delay_ms);
        assert_true(z.delay_ms == 0);
        assert_string_equal(x.body, z.body);
        lo = x.delay_ms < lo ? x.delay_ms : lo;
        hi = x.delay_ms > hi ? x.delay_ms : hi;
        mock_response_finish(&x);
        mock_response_finish(&y);
        mock_response_finish(&z);
    }
    assert_true(lo >= 100 && hi <= 200 && lo < hi);
    mock_api_destroy(a);
    mock_api_destroy(b);
    mock_api_destroy(plain);

    /* No jitter: exactly the latency, errors included. */
    o.latency_ms = 150;
    a = create(&o);
    struct mock_response r;
    call(a, "GET", "/1/tasks/nope", NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_true(r.delay_ms == 150);
    mock_response_finish(&r);
    mock_api_destroy(a);
}

/* The clock is the logical one (seeded) or the real one plus the offset. */
static void test_clock_offset(void **state)
{
    (void)state;
    int64_t expect[] = {MOCK_SEED_EPOCH_MS - 5 * 3600000LL + MOCK_SEED_STEP_MS,
                        MOCK_SEED_EPOCH_MS + 26 * 3600000LL + MOCK_SEED_STEP_MS};
    int64_t offsets[] = {-5 * 3600000LL, 26 * 3600000LL};
    for (int i = 0; i < 2; i++) {
        struct mock_options o = base(1);
        o.clock_offset_ms = offsets[i];
        struct mock_api *api = create(&o);
        cJSON *doc =
            json_of(api, "POST", "/1/sources",
                    "{\"type\":\"json\",\"name\":\"n\",\"input\":{\"url\":\"https://x\"}}");
        int64_t ms = 0;
        assert_int_equal(mock_time_parse(str(doc, "createdAt"), &ms), 0);
        assert_true(ms == expect[i]);
        cJSON_Delete(doc);
        mock_api_destroy(api);
    }
    /* Unseeded: the real clock plus 26 hours, within the test's span. */
    struct mock_options o = base(0);
    o.seeded = false;
    o.clock_offset_ms = 26 * 3600000LL;
    int64_t before = mock_real_now_ms();
    struct mock_api *api = create(&o);
    cJSON *doc = json_of(api, "POST", "/1/sources",
                         "{\"type\":\"json\",\"name\":\"n\",\"input\":{\"url\":\"https://x\"}}");
    int64_t after = mock_real_now_ms(), ms = 0;
    assert_int_equal(mock_time_parse(str(doc, "createdAt"), &ms), 0);
    assert_true(ms >= before + o.clock_offset_ms && ms <= after + o.clock_offset_ms);
    cJSON_Delete(doc);
    mock_api_destroy(api);
}

/* Runs the first task of api and asks for the run until it has finished
 * (the seeded clock moves one step per request); returns the run. */
static cJSON *finished_run(struct mock_api *api, char *run_id, size_t cap)
{
    cJSON *tasks = json_of(api, "GET", "/1/tasks?itemsPerPage=1", NULL);
    const char *task =
        str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tasks, "tasks"), 0), "taskID");
    assert_non_null(task);
    char path[256];
    snprintf(path, sizeof(path), "/1/tasks/%s/run", task);
    cJSON_Delete(tasks);
    cJSON *ran = json_of(api, "POST", path, NULL);
    snprintf(run_id, cap, "%s", str(ran, "runID"));
    cJSON_Delete(ran);
    snprintf(path, sizeof(path), "/1/runs/%s", run_id);
    for (int i = 0; i < 5000; i++) {
        cJSON *run = json_of(api, "GET", path, NULL);
        if (strcmp(str(run, "status"), "finished") == 0)
            return run;
        cJSON_Delete(run);
    }
    fail_msg("run %s never finished", run_id);
    return NULL;
}

/* The events of run_id, in publication order. */
static cJSON *events_of(struct mock_api *api, const char *run_id)
{
    char path[256];
    snprintf(path, sizeof(path), "/1/runs/%s/events?itemsPerPage=100&sort=publishedAt&order=asc",
             run_id);
    return json_of(api, "GET", path, NULL);
}

/* --run-outcome failure: outcome failure, reasonCode critical, the last
 * event failed; --run-events N: that many events, 0 a run without any. */
static void test_runs(void **state)
{
    (void)state;
    struct {
        enum mock_run_outcome outcome;
        int events;
        const char *result, *code, *last_status;
    } rows[] = {
        {MOCK_RUN_FAILURE, 4, "failure", "critical", "failed"},
        {MOCK_RUN_FAILURE, 0, "failure", "critical", NULL},
        {MOCK_RUN_SUCCESS, 0, "success", "no_events", NULL},
        {MOCK_RUN_SUCCESS, 7, "success", "ok", "succeeded"},
        {MOCK_RUN_FAILURE, 1, "failure", "critical", "failed"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct mock_options o = base(21);
        o.preload_tasks = 1;
        o.run_outcome = rows[i].outcome;
        o.run_events_set = true;
        o.run_events_min = o.run_events_max = rows[i].events;
        struct mock_api *api = create(&o);
        char id[64];
        cJSON *run = finished_run(api, id, sizeof(id));
        assert_string_equal(str(run, "outcome"), rows[i].result);
        assert_string_equal(str(run, "reasonCode"), rows[i].code);
        assert_non_null(str(run, "reason"));
        assert_non_null(str(run, "startedAt"));
        assert_non_null(str(run, "finishedAt"));
        const cJSON *prog = cJSON_GetObjectItemCaseSensitive(run, "progress");
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(prog, "expectedNbOfEvents")->valueint,
                         rows[i].events);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(prog, "receivedNbOfEvents")->valueint,
                         rows[i].events);
        cJSON *ev = events_of(api, id);
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(ev, "events");
        assert_int_equal(cJSON_GetArraySize(list), rows[i].events);
        if (rows[i].last_status) {
            const cJSON *last = cJSON_GetArrayItem(list, rows[i].events - 1);
            assert_string_equal(str(last, "status"), rows[i].last_status);
            assert_string_equal(str(last, "type"), "log");
            for (int k = 0; k < rows[i].events - 1; k++)
                assert_string_equal(str(cJSON_GetArrayItem(list, k), "status"), "succeeded");
        }
        cJSON_Delete(ev);
        cJSON_Delete(run);
        mock_api_destroy(api);
    }

    /* A range and random outcomes: every count in range, both outcomes,
     * and the same draws for the same seed. */
    struct mock_options o = base(8);
    o.preload_tasks = 1;
    o.run_outcome = MOCK_RUN_RANDOM;
    o.run_events_set = true;
    o.run_events_min = 0;
    o.run_events_max = 3;
    struct mock_api *a = create(&o), *b = create(&o);
    int seen_counts = 0, failures = 0;
    for (int i = 0; i < 40; i++) {
        char ida[64], idb[64];
        cJSON *ra = finished_run(a, ida, sizeof(ida)), *rb = finished_run(b, idb, sizeof(idb));
        assert_string_equal(ida, idb);
        assert_string_equal(str(ra, "outcome"), str(rb, "outcome"));
        int n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ra, "progress"),
                                                 "expectedNbOfEvents")
                    ->valueint;
        assert_true(n >= 0 && n <= 3);
        seen_counts |= 1 << n;
        failures += strcmp(str(ra, "outcome"), "failure") == 0;
        cJSON_Delete(ra);
        cJSON_Delete(rb);
    }
    assert_int_equal(seen_counts, 0xf);
    assert_true(failures > 0 && failures < 40);
    mock_api_destroy(a);
    mock_api_destroy(b);
}

/* --preload: the counts asked for (tasks and runs bring what they need),
 * named "preloaded ...", created before the clock's start; preloaded runs
 * finish like any run. */
static void test_preload(void **state)
{
    (void)state;
    struct mock_options o = base(4);
    o.preload.authentications = 2;
    o.preload.sources = 3;
    o.preload.destinations = 4;
    o.preload.tasks = 25;
    o.preload.runs = 30;
    struct mock_api *api = create(&o);
    struct mock_counts n;
    mock_api_counts(api, &n);
    assert_true(n.authentications == 2 && n.sources == 3 && n.destinations == 4 && n.tasks == 25 &&
                n.runs == 30);
    cJSON *runs = json_of(api, "GET", "/1/runs?itemsPerPage=100", NULL);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(runs, "runs");
    assert_int_equal(cJSON_GetArraySize(list), 30);
    const cJSON *r;
    cJSON_ArrayForEach(r, list)
    {
        assert_string_equal(str(r, "status"), "finished");
        int64_t ms = 0;
        assert_int_equal(mock_time_parse(str(r, "createdAt"), &ms), 0);
        assert_true(ms < MOCK_SEED_EPOCH_MS);
    }
    cJSON_Delete(runs);
    cJSON *srcs = json_of(api, "GET", "/1/sources", NULL);
    assert_non_null(strstr(
        str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(srcs, "sources"), 0), "name"),
        "preloaded "));
    cJSON_Delete(srcs);
    mock_api_destroy(api);

    /* Runs alone bring a task, a source and a destination. */
    o = base(4);
    o.preload.runs = 3;
    api = create(&o);
    mock_api_counts(api, &n);
    assert_true(n.authentications == 0 && n.sources == 1 && n.destinations == 1 && n.tasks == 1 &&
                n.runs == 3);
    mock_api_destroy(api);

    /* --preload-tasks N is the same as its counts. */
    o = base(4);
    o.preload_tasks = 7;
    struct mock_api *legacy = create(&o);
    o = base(4);
    o.preload = (struct mock_preload){1, 10, 10, 7, 0};
    api = create(&o);
    cJSON *x = json_of(legacy, "GET", "/1/tasks?itemsPerPage=100", NULL);
    cJSON *y = json_of(api, "GET", "/1/tasks?itemsPerPage=100", NULL);
    assert_true(cJSON_Compare(x, y, true));
    cJSON_Delete(x);
    cJSON_Delete(y);
    mock_api_destroy(legacy);
    mock_api_destroy(api);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers), cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_latency), cmocka_unit_test(test_clock_offset),
        cmocka_unit_test(test_runs),    cmocka_unit_test(test_preload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
