/* Tests of src/run: plans and selection; the executor with a scripted
 * transport (teardown, captures, parameters, polling, target errors,
 * secrets, -j determinism); and, end to end, against the embedded mock over
 * HTTP on an ephemeral port, including each planted fault of the mock. */
#include "run/internal.h"
#include "run/run.h"

#include "http/http.h"
#include "mock/mock.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static char source_dir[4096];
static char schemas[4200];
static struct case_loader *loader;
static struct check_contract *contract;

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(source_dir, sizeof(source_dir), "%s", src ? src : ".");
    snprintf(schemas, sizeof(schemas), "%s/schemas", source_dir);
    struct util_error err;
    util_error_clear(&err);
    loader = case_loader_create_dir(schemas, &err);
    contract = loader ? check_contract_create_dir(schemas, &err) : NULL;
    if (!contract)
        fprintf(stderr, "setup: %s\n", err.message);
    return contract && http_global_init(&err) == UTIL_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    check_contract_destroy(contract);
    case_loader_destroy(loader);
    http_global_cleanup();
    return 0;
}

static struct case_file *load(const char *text)
{
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (case_file_load_text(loader, text, strlen(text), "t.yaml", &f, &err))
        fail_msg("%s", err.message);
    return f;
}

/* ---- a scripted transport ---- */

#define FAKE_LOG 64

struct fake {
    struct http_transport base;
    unsigned polls;        /* GET /1/runs/... answered so far */
    unsigned finish_after; /* the run reports finished from this poll on */
    enum http_failure fail_with;
    unsigned busy;           /* answers busy_status to this many requests first */
    int busy_status;         /* 429 or 503 */
    const char *retry_after; /* the busy answers' Retry-After, or NULL */
    char *log[FAKE_LOG]; /* "METHOD URL BODY" of each request */
    size_t nlog;
};

static pthread_mutex_t fakes_lock = PTHREAD_MUTEX_INITIALIZER;
static char *all_requests[1024];
static size_t nall;
/* run_config.interrupt of execute(); the fake sets it at request number
 * interrupt_at (0: never), as a SIGINT would. */
static volatile sig_atomic_t interrupt_flag;
static size_t interrupt_at;

/* A target clock the runner may move (run_clock): each request logged in
 * all_requests starts with its value. */
static long long fake_now;
static unsigned fake_advances;
/* Each answer takes this long (so that workers overlap). */
static unsigned fake_delay_us;

static long fake_advance(void *user, long ms)
{
    (void)user;
    pthread_mutex_lock(&fakes_lock);
    fake_now += ms;
    fake_advances++;
    pthread_mutex_unlock(&fakes_lock);
    return ms;
}

static void answer(struct http_response *resp, int status, const char *ct, const char *body)
{
    resp->status = status;
    if (ct)
        http_headers_add(&resp->headers, "Content-Type", ct);
    http_headers_add(&resp->headers, "Set-Cookie", "session=abcdef123");
    resp->body = strdup(body);
    resp->body_len = strlen(body);
}

static int fake_send(struct http_transport *t, const struct http_request *req,
                     struct http_response *resp, struct util_error *err)
{
    struct fake *f = (struct fake *)t;
    char line[2048];
    snprintf(line, sizeof(line), "%s %s %s", req->method, req->url, req->body ? req->body : "-");
    if (f->nlog < FAKE_LOG)
        f->log[f->nlog++] = strdup(line);
    pthread_mutex_lock(&fakes_lock);
    if (nall < 1024) {
        char *entry = malloc(strlen(line) + 32);
        if (entry)
            sprintf(entry, "%lld %s", fake_now, line);
        all_requests[nall++] = entry;
    }
    if (interrupt_at && nall == interrupt_at)
        interrupt_flag = 1;
    pthread_mutex_unlock(&fakes_lock);
    const char *path = strstr(req->url, "/1/");
    if (fake_delay_us) {
        struct timespec ts = {0, (long)fake_delay_us * 1000L};
        nanosleep(&ts, NULL);
    }
    if (f->busy) {
        f->busy--;
        answer(resp, f->busy_status, "application/json", "{\"message\":\"slow down\"}");
        if (f->retry_after)
            http_headers_add(&resp->headers, "Retry-After", f->retry_after);
        return UTIL_OK;
    }
    if (f->fail_with) {
        resp->failure = f->fail_with;
        util_error_set(err, UTIL_ERR_IO, "Connection refused");
        return UTIL_OK;
    }
    if (strcmp(req->method, "POST") == 0 && strcmp(path, "/1/tasks") == 0) {
        f->polls = 0; /* a new case on this worker: its run starts over */
        if (req->body && strstr(req->body, "\"bad\""))
            answer(resp, 400, "application/json", "{\"message\":\"bad body\"}");
        else
            answer(resp, 200, "application/json",
                   "{\"taskID\":\"6c02aeb1-775e-418e-870b-1faccd4b2c0f\",\"createdAt\":"
                   "\"2024-04-17T10:00:00Z\"}");
    } else if (strcmp(req->method, "DELETE") == 0) {
        answer(resp, 200, "application/json", "{\"deletedAt\":\"2024-04-17T10:00:00Z\"}");
    } else if (strncmp(path, "/1/runs/", 8) == 0) {
        f->polls++;
        answer(resp, 400, "application/json",
               f->polls >= f->finish_after ? "{\"message\":\"finished\"}"
                                           : "{\"message\":\"running\"}");
    } else {
        answer(resp, 404, "application/json", "{\"message\":\"no route\"}");
    }
    return UTIL_OK;
}

static void fake_destroy(struct http_transport *t)
{
    struct fake *f = (struct fake *)t;
    for (size_t i = 0; i < f->nlog; i++)
        free(f->log[i]);
    free(f);
}

static const struct http_transport_ops fake_ops = {"fake", fake_send, fake_destroy};

struct fake_config {
    unsigned finish_after;
    enum http_failure fail_with;
    unsigned busy;
    int busy_status;
    const char *retry_after;
};

static struct http_transport *fake_create(void *user, struct util_error *err)
{
    (void)err;
    const struct fake_config *c = user;
    struct fake *f = calloc(1, sizeof(*f));
    f->base.ops = &fake_ops;
    f->finish_after = c ? c->finish_after : 1;
    f->fail_with = c ? c->fail_with : HTTP_ERR_NONE;
    f->busy = c ? c->busy : 0;
    f->busy_status = c ? c->busy_status : 0;
    f->retry_after = c ? c->retry_after : NULL;
    return &f->base;
}

static void clear_requests(void)
{
    for (size_t i = 0; i < nall; i++)
        free(all_requests[i]);
    nall = 0;
}

/* run_config.max_requests and .vars of the next execute(). */
static long next_max_requests;
static const cJSON *next_vars;

static void execute_clock(struct case_file *f, unsigned jobs, struct fake_config *fc,
                          const struct run_clock *clock, struct run_results *out)
{
    struct run_plan plan;
    struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
    struct util_error err;
    util_error_clear(&err);
    run_plan_init(&plan);
    assert_int_equal(run_plan_build(&s, NULL, &plan, &err), UTIL_OK);
    struct run_config cfg = {
        .base_url = "http://fake.invalid/",
        .app_id = "APPID",
        .api_key = "SECRET-API-KEY-42",
        .run_id = "ic-test",
        .jobs = jobs,
        .transport_create = fake_create,
        .transport_user = fc,
        .contract = contract,
        .clock = clock,
        .interrupt = &interrupt_flag,
        .max_requests = next_max_requests,
        .vars = next_vars,
    };
    run_results_init(out);
    clear_requests();
    interrupt_flag = 0;
    fake_now = 0;
    fake_advances = 0;
    assert_int_equal(run_execute(&cfg, &plan, out, &err), UTIL_OK);
    run_plan_finish(&plan);
}

static void execute(struct case_file *f, unsigned jobs, struct fake_config *fc,
                    struct run_results *out)
{
    execute_clock(f, jobs, fc, NULL, out);
}

static const char *const lifecycle =
    "cases:\n"
    "  - name: create then fail\n"
    "    vars: {label: \"{{run.id}}-x\"}\n"
    "    steps:\n"
    "      - operation: createTask\n"
    "        body: {sourceID: s, destinationID: d, action: replace, trigger: {type: onDemand},\n"
    "               input: {password: pw-123456, name: \"{{label}}\"}}\n"
    "        expect: {body: {taskID: {$uuid: true}}}\n"
    "        capture: {taskID: $.taskID}\n"
    "      - operation: getTask\n"
    "        path: {taskID: \"{{taskID}}\"}\n"
    "      - operation: getTasks\n"
    "    teardown:\n"
    "      - operation: deleteTask\n"
    "        path: {taskID: \"{{taskID}}\"}\n"
    "  - name: nothing created\n"
    "    steps:\n"
    "      - operation: createTask\n"
    "        body: {sourceID: bad, destinationID: d, action: replace, trigger: {type: onDemand}}\n"
    "        capture: {taskID: $.taskID}\n"
    "    teardown:\n"
    "      - operation: deleteTask\n"
    "        path: {taskID: \"{{taskID}}\"}\n";

static void test_teardown_and_captures(void **state)
{
    (void)state;
    struct case_file *f = load(lifecycle);
    struct run_results r;
    execute(f, 1, NULL, &r);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.failed, 2);

    const struct run_case_result *c = &r.cases[0];
    assert_int_equal(c->outcome, RUN_FAILED);
    assert_int_equal(c->nsteps, 4);
    assert_int_equal(c->steps[0].outcome, RUN_PASSED);
    /* The capture went into the next request's path. */
    assert_string_equal(c->steps[1].url,
                        "http://fake.invalid/1/tasks/6c02aeb1-775e-418e-870b-1faccd4b2c0f");
    assert_int_equal(c->steps[1].outcome, RUN_FAILED);
    assert_string_equal(c->message, "step 'getTask': contract.status: status 404 is not "
                                    "documented for getTask (documented: 200, 400)");
    /* After a failure: skipped; the teardown still ran. */
    assert_int_equal(c->steps[2].outcome, RUN_SKIPPED);
    assert_string_equal(c->steps[2].message, "skipped: an earlier step failed");
    assert_true(c->steps[3].teardown);
    assert_int_equal(c->steps[3].outcome, RUN_PASSED);
    assert_string_equal(c->steps[3].url,
                        "http://fake.invalid/1/tasks/6c02aeb1-775e-418e-870b-1faccd4b2c0f");
    assert_int_equal(c->steps[3].status, 200);
    assert_int_equal(nall, 4); /* 3 for this case, 1 for the next */

    /* Redaction: the key header and the password are masked; the request
     * body kept the expanded variable. */
    cJSON *h = cJSON_GetObjectItemCaseSensitive(c->steps[0].request_headers, "x-algolia-api-key");
    assert_string_equal(h->valuestring, "****");
    char *body = cJSON_PrintUnformatted(c->steps[0].request_body);
    assert_non_null(strstr(body, "\"password\":\"****\""));
    assert_non_null(strstr(body, "\"name\":\"ic-test-x\""));
    free(body);
    cJSON *sc = cJSON_GetObjectItemCaseSensitive(c->steps[0].response_headers, "set-cookie");
    assert_string_equal(sc->valuestring, "****");

    /* Second case: create refused (400 is documented, but 2xx expected),
     * no capture, teardown skipped for want of taskID. */
    c = &r.cases[1];
    assert_int_equal(c->outcome, RUN_FAILED);
    assert_int_equal(c->steps[0].status, 400);
    bool capture_failed = false;
    for (size_t i = 0; i < c->steps[0].checks.count; i++)
        capture_failed =
            capture_failed || (strcmp(c->steps[0].checks.items[i].name, "capture") == 0 &&
                               c->steps[0].checks.items[i].outcome == CHECK_FAIL);
    assert_true(capture_failed);
    assert_int_equal(c->steps[1].outcome, RUN_SKIPPED);
    assert_string_equal(c->steps[1].message,
                        "skipped: undefined variable 'taskID' (nothing to clean up)");
    run_results_finish(&r);
    case_file_destroy(f);
}

static void test_query_serialization(void **state)
{
    (void)state;
    struct case_file *f = load(
        "cases:\n"
        "  - name: q\n"
        "    steps:\n"
        "      - operation: getTasks\n"
        "        query: {action: [replace, save], enabled: true, itemsPerPage: 5, sort: name}\n"
        "        expect: {status: 404}\n"
        "        allow_undocumented: [404]\n"
        "      - operation: getRuns\n"
        "        query: {status: [finished, failed], startDate: \"a b/c\"}\n"
        "        expect: {status: 404}\n"
        "        allow_undocumented: [404]\n"
        "      - method: GET\n"
        "        path: /1/tasks?x={{run.id}}\n"
        "        query: {y: [1, 2]}\n"
        "        expect: {status: 404}\n"
        "        allow_undocumented: [404]\n");
    struct run_results r;
    execute(f, 1, NULL, &r);
    const struct run_case_result *c = &r.cases[0];
    assert_string_equal(c->steps[0].url, "http://fake.invalid/1/tasks?action=replace,save&"
                                         "enabled=true&itemsPerPage=5&sort=name");
    /* getRuns status declares neither style nor explode: form, explode=true. */
    assert_string_equal(c->steps[1].url, "http://fake.invalid/1/runs?status=finished&"
                                         "status=failed&startDate=a%20b%2Fc");
    assert_string_equal(c->steps[2].url, "http://fake.invalid/1/tasks?x=ic-test&y=1&y=2");
    assert_string_equal(c->steps[2].operation_id, "getTasks");
    cJSON *q = cJSON_GetObjectItemCaseSensitive(c->steps[0].params, "query");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(q, "action")), 2);
    /* 404 on an undocumented status, allowed: a gap, and the case passes. */
    assert_int_equal(c->outcome, RUN_PASSED);
    assert_int_equal(c->gaps, 3);
    assert_int_equal(r.gaps, 3);
    run_results_finish(&r);
    case_file_destroy(f);
}

static const char *const polling = "cases:\n"
                                   "  - name: poll\n"
                                   "    steps:\n"
                                   "      - operation: getRun\n"
                                   "        path: {runID: r1}\n"
                                   "        until:\n"
                                   "          status: 400\n"
                                   "          body: {message: finished}\n"
                                   "          interval: 10ms\n"
                                   "          timeout: 2s\n"
                                   "        expect: {status: 400}\n";

/* A 429, or a 503 with Retry-After, is sent again after the time it names
 * (0 s here, or a date in the past); a 503 without Retry-After is not. The
 * retries are counted per step and per run. */
static void test_retry_after(void **state)
{
    (void)state;
    struct case_file *f = load("cases:\n  - name: one\n    steps:\n      - operation: getRun\n"
                               "        path: {runID: r1}\n        expect: {status: 400}\n");
    struct fake_config fc = {.finish_after = 1, .busy = 2, .busy_status = 429, .retry_after = "0"};
    struct run_results r;
    execute(f, 1, &fc, &r);
    assert_int_equal(r.cases[0].outcome, RUN_PASSED);
    assert_int_equal(r.cases[0].steps[0].retries, 2);
    assert_int_equal(r.retries, 2);
    assert_int_equal(r.requests, 3);
    assert_int_equal(nall, 3);
    run_results_finish(&r);

    fc = (struct fake_config){.finish_after = 1, .busy = 1, .busy_status = 503,
                              .retry_after = "Wed, 21 Oct 2015 07:28:00 GMT"};
    execute(f, 1, &fc, &r);
    assert_int_equal(r.cases[0].outcome, RUN_PASSED);
    assert_int_equal(r.retries, 1);
    run_results_finish(&r);

    /* 503 without Retry-After: the answer stands (and fails the step). */
    fc = (struct fake_config){.finish_after = 1, .busy = 1, .busy_status = 503};
    execute(f, 1, &fc, &r);
    assert_int_equal(r.cases[0].outcome, RUN_FAILED);
    assert_int_equal(r.retries, 0);
    assert_int_equal(nall, 1);
    run_results_finish(&r);

    /* Always busy: at most RUN_STATUS_ATTEMPTS attempts, then the 429 stands. */
    fc = (struct fake_config){.finish_after = 1, .busy = 1000, .busy_status = 429,
                              .retry_after = "0"};
    execute(f, 1, &fc, &r);
    assert_int_equal(r.cases[0].outcome, RUN_FAILED);
    assert_int_equal(nall, RUN_STATUS_ATTEMPTS);
    assert_int_equal(r.retries, RUN_STATUS_ATTEMPTS - 1);
    run_results_finish(&r);
    case_file_destroy(f);
}

/* Pacing and backoff as functions of the time asked (no clock read). */
static void test_rate_and_backoff(void **state)
{
    (void)state;
    double next = 0;
    /* 10 per second asked at once: one every 100 ms. */
    for (int i = 0; i < 5; i++)
        assert_true(fabs(run_rate_slot(&next, 100.0, 1000.0) - (1000.0 + 100.0 * i)) < 1e-9);
    /* Asked later than the next slot: at once. */
    assert_true(fabs(run_rate_slot(&next, 100.0, 5000.0) - 5000.0) < 1e-9);
    for (unsigned retry = 0; retry < 20; retry++) {
        long lo = run_backoff_ms(retry, 0), hi = run_backoff_ms(retry, UINT32_MAX - 1);
        assert_true(lo >= RUN_BACKOFF_BASE_MS / 2 && hi <= RUN_CAP_BACKOFF_MS);
        assert_true(lo <= hi);
        if (retry && retry < 5)
            assert_true(run_backoff_ms(retry, 0) == 2 * run_backoff_ms(retry - 1, 0));
    }
    assert_int_equal(run_backoff_ms(40, 0), RUN_CAP_BACKOFF_MS / 2);
}

/* --max-requests: the request that would pass the budget is not sent, the
 * case's other steps are skipped, its teardown still runs (never
 * refused), and the next case is not run. */
static void test_budget(void **state)
{
    (void)state;
    struct case_file *f = load(lifecycle);
    struct run_results r;
    next_max_requests = 1;
    execute(f, 1, NULL, &r);
    next_max_requests = 0;
    assert_true(r.budget_spent);
    const struct run_case_result *k = &r.cases[0];
    assert_int_equal(k->outcome, RUN_SKIPPED);
    assert_int_equal(k->steps[0].outcome, RUN_PASSED);
    assert_int_equal(k->steps[1].outcome, RUN_SKIPPED);
    assert_non_null(strstr(k->steps[1].message, "request budget"));
    assert_int_equal(k->steps[2].outcome, RUN_SKIPPED);
    assert_true(k->steps[3].teardown);
    assert_int_equal(k->steps[3].outcome, RUN_PASSED);
    assert_int_equal(r.cases[1].outcome, RUN_SKIPPED);
    assert_non_null(strstr(r.cases[1].message, "request budget"));
    assert_int_equal(nall, 2); /* create, and the teardown's delete */
    assert_non_null(strstr(all_requests[1], "DELETE "));
    run_results_finish(&r);
    case_file_destroy(f);
}

/* Against a target without a clock, polling doubles its interval: a
 * condition never met within 300 ms at 20 ms takes a handful of attempts
 * (15 at a fixed interval), and the step says how long it waited. */
static void test_polling_backoff(void **state)
{
    (void)state;
    struct case_file *f =
        load("cases:\n  - name: poll\n    steps:\n      - operation: getRun\n"
             "        path: {runID: r1}\n        until:\n          body: {message: finished}\n"
             "          interval: 20ms\n          timeout: 300ms\n        expect: {status: 400}\n");
    struct fake_config fc = {.finish_after = 1000};
    struct run_results r;
    execute(f, 1, &fc, &r);
    const struct run_step_result *s = &r.cases[0].steps[0];
    assert_int_equal(s->outcome, RUN_FAILED);
    assert_true(s->attempts >= 3 && s->attempts <= 7);
    assert_true(s->waited_ms > 0);
    run_results_finish(&r);
    case_file_destroy(f);
}

/* --var / --vars: names checked, values refused with CR or LF, a file's
 * errors at file:line:column; given values override a case's vars:
 * defaults. */
static void test_vars(void **state)
{
    (void)state;
    struct util_error err;
    util_error_clear(&err);
    cJSON *vars = cJSON_CreateObject();
    assert_int_equal(run_vars_assign(vars, "label=staging-x", &err), UTIL_OK);
    assert_int_equal(run_vars_assign(vars, "empty=", &err), UTIL_OK);
    assert_int_equal(run_vars_assign(vars, "noequals", &err), UTIL_ERR_USAGE);
    assert_int_equal(run_vars_assign(vars, "1x=a", &err), UTIL_ERR_USAGE);
    assert_int_equal(run_vars_assign(vars, "x=a\r\nX-Injected: 1", &err), UTIL_ERR_USAGE);
    assert_non_null(strstr(err.message, "carriage return"));
    const char *text = "sourceUrl: https://staging.example/feed.json\n"
                       "count: 3\n"
                       "bad: [1, 2]\n";
    assert_int_equal(run_vars_parse(vars, text, strlen(text), "v.yaml", &err), UTIL_ERR_USAGE);
    assert_non_null(strstr(err.message, "v.yaml:3:1: the value of bad is not a scalar"));
    const char *nl = "a: \"x\\ny\"\n";
    assert_int_equal(run_vars_parse(vars, nl, strlen(nl), "v.yaml", &err), UTIL_ERR_USAGE);
    assert_non_null(strstr(err.message, "v.yaml:1:1: the value of a contains a line feed"));
    const char *list = "- a\n";
    assert_int_equal(run_vars_parse(vars, list, strlen(list), "v.yaml", &err), UTIL_ERR_USAGE);
    assert_non_null(strstr(err.message, "v.yaml:1:1: a vars file is a mapping"));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(vars, "count")));

    struct case_file *f = load(lifecycle);
    struct run_results r;
    next_vars = vars;
    execute(f, 1, NULL, &r);
    next_vars = NULL;
    assert_int_equal(r.cases[0].outcome, RUN_FAILED); /* getTasks, as without vars */
    assert_non_null(strstr(all_requests[0], "\"name\":\"staging-x\""));
    run_results_finish(&r);
    case_file_destroy(f);
    cJSON_Delete(vars);
}

static void test_polling(void **state)
{
    (void)state;
    struct case_file *f = load(polling);
    struct fake_config fc = {.finish_after = 3};
    struct run_results r;
    execute(f, 1, &fc, &r);
    assert_int_equal(r.cases[0].outcome, RUN_PASSED);
    assert_int_equal(r.cases[0].steps[0].attempts, 3);
    run_results_finish(&r);

    /* Never finished within the timeout: the until check fails with the
     * mismatch that kept it false. */
    fc.finish_after = 1000;
    case_file_destroy(f);
    f = load("cases:\n  - name: poll\n    steps:\n      - operation: getRun\n"
             "        path: {runID: r1}\n        until:\n          body: {message: finished}\n"
             "          interval: 20ms\n          timeout: 100ms\n        expect: {status: 400}\n");
    execute(f, 1, &fc, &r);
    const struct run_step_result *s = &r.cases[0].steps[0];
    assert_int_equal(s->outcome, RUN_FAILED);
    assert_true(s->attempts >= 3 && s->attempts <= 7);
    bool timeout = false, why = false;
    for (size_t i = 0; i < s->checks.count; i++) {
        const struct check_item *it = &s->checks.items[i];
        timeout = timeout || (strcmp(it->name, "until") == 0 && it->outcome == CHECK_FAIL &&
                              strcmp(it->message, "condition not met within 100 ms") == 0);
        why = why || (strcmp(it->name, "until") == 0 && it->pointer &&
                      strcmp(it->pointer, "/message") == 0);
    }
    assert_true(timeout);
    assert_true(why);
    run_results_finish(&r);
    case_file_destroy(f);
}

/* With a target clock, polling moves it instead of sleeping: each wait is
 * one advance by the interval, and the poll's timeout counts that time. */
static void test_polling_clock(void **state)
{
    (void)state;
    struct run_clock clock = {.advance = fake_advance};
    struct case_file *f = load(polling);
    struct fake_config fc = {.finish_after = 3};
    struct run_results r;
    execute_clock(f, 1, &fc, &clock, &r);
    assert_int_equal(r.cases[0].outcome, RUN_PASSED);
    assert_int_equal(r.cases[0].steps[0].attempts, 3);
    assert_int_equal(fake_advances, 2);
    assert_int_equal(fake_now, 20);
    assert_true(r.clock_advanced_ms == 20.0);
    assert_true(r.poll_sleep_ms == 0.0);
    assert_true(r.transport_ms >= 0.0);
    /* The message does not depend on how many attempts it took. */
    bool met = false;
    for (size_t i = 0; i < r.cases[0].steps[0].checks.count; i++) {
        const struct check_item *it = &r.cases[0].steps[0].checks.items[i];
        met = met || (strcmp(it->name, "until") == 0 && strcmp(it->message, "condition met") == 0);
    }
    assert_true(met);
    run_results_finish(&r);
    case_file_destroy(f);

    /* Never finished: the 5 s timeout is reached on the target's clock (a
     * second per wait), not by sleeping. */
    fc.finish_after = 1000;
    f = load("cases:\n  - name: poll\n    steps:\n      - operation: getRun\n"
             "        path: {runID: r1}\n        until:\n          body: {message: finished}\n"
             "          interval: 1s\n          timeout: 5s\n        expect: {status: 400}\n");
    execute_clock(f, 1, &fc, &clock, &r);
    const struct run_step_result *st = &r.cases[0].steps[0];
    assert_int_equal(st->outcome, RUN_FAILED);
    assert_true(st->attempts >= 5 && st->attempts <= 6);
    assert_int_equal(fake_advances, st->attempts - 1);
    assert_int_equal(fake_now, 1000LL * (st->attempts - 1));
    assert_true(r.poll_sleep_ms == 0.0);
    run_results_finish(&r);
    case_file_destroy(f);
}

/* With -j 4 and a target clock, time passes only when no worker has
 * anything else to do: a case never sees the clock move between two of its
 * requests unless it waited in between itself. Each case logs
 * "CLOCK POST .../1/tasks {sourceID:cNN}", then "CLOCK GET .../1/runs/cNN"
 * per attempt, then "CLOCK DELETE .../1/tasks/cNN". */
static void test_polling_clock_jobs(void **state)
{
    (void)state;
    char text[16384];
    size_t n = (size_t)snprintf(text, sizeof(text), "cases:\n");
    for (int i = 0; i < 12; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "  - name: case %02d\n    steps:\n"
                              "      - operation: createTask\n"
                              "        body: {sourceID: c%02d, destinationID: d, action: replace,"
                              " trigger: {type: onDemand}}\n"
                              "      - operation: getRun\n        path: {runID: c%02d}\n"
                              "        until: {body: {message: finished}, interval: %dms}\n"
                              "        expect: {status: 400}\n"
                              "    teardown:\n      - operation: deleteTask\n"
                              "        path: {taskID: c%02d}\n",
                              i, i, i, 10 + 7 * (i % 3), i);
    struct case_file *f = load(text);
    struct fake_config fc = {.finish_after = 3};
    struct run_clock clock = {.advance = fake_advance};
    struct run_results r;
    fake_delay_us = 300;
    execute_clock(f, 4, &fc, &clock, &r);
    fake_delay_us = 0;
    assert_int_equal(r.passed, 12);
    assert_int_equal(nall, 12 * 5);
    for (int i = 0; i < 12; i++) {
        char tag[16], run[32], del[32];
        snprintf(tag, sizeof(tag), "\"c%02d\"", i);
        snprintf(run, sizeof(run), "/1/runs/c%02d ", i);
        snprintf(del, sizeof(del), "/1/tasks/c%02d ", i);
        long long created = -1, first_poll = -1, last_poll = -1, deleted = -1;
        for (size_t k = 0; k < nall; k++) {
            long long at = strtoll(all_requests[k], NULL, 10);
            if (strstr(all_requests[k], " POST ") && strstr(all_requests[k], tag))
                created = at;
            else if (strstr(all_requests[k], run)) {
                if (first_poll < 0)
                    first_poll = at;
                last_poll = at;
            } else if (strstr(all_requests[k], del)) {
                deleted = at;
            }
        }
        assert_true(created >= 0 && deleted >= 0);
        if (created != first_poll || last_poll != deleted)
            fail_msg("case %02d saw the clock move without waiting: created at %lld, polled "
                     "from %lld to %lld, deleted at %lld",
                     i, created, first_poll, last_poll, deleted);
        /* Two waits of its interval between the three polls, at least,
         * unless a wait ended on the wall clock (the others stayed busy). */
        if (r.poll_sleep_ms == 0.0)
            assert_true(last_poll - first_poll >= 2LL * (10 + 7 * (i % 3)));
    }
    assert_true(r.clock_advanced_ms == (double)fake_now);
    run_results_finish(&r);
    case_file_destroy(f);
}

static void test_interrupt(void **state)
{
    (void)state;
    /* After the first request: the case stops before its next step, its
     * teardown still runs, and the next case is not run. */
    struct case_file *f = load(lifecycle);
    struct fake_config fc = {.finish_after = 1};
    struct run_results r;
    interrupt_at = 1;
    execute(f, 1, &fc, &r);
    assert_true(r.interrupted);
    assert_int_equal(r.skipped, 2);
    assert_int_equal(r.failed, 0);
    const struct run_case_result *c = &r.cases[0];
    assert_int_equal(c->outcome, RUN_SKIPPED);
    assert_true(c->interrupted);
    assert_string_equal(c->message, "interrupted before the case finished");
    assert_int_equal(c->steps[0].outcome, RUN_PASSED);
    assert_int_equal(c->steps[1].outcome, RUN_SKIPPED);
    assert_string_equal(c->steps[1].message, "skipped: interrupted");
    assert_true(c->steps[3].teardown);
    assert_int_equal(c->steps[3].outcome, RUN_PASSED);
    assert_true(r.cases[1].interrupted);
    assert_string_equal(r.cases[1].message, "not run: interrupted");
    assert_int_equal(nall, 2);
    assert_non_null(strstr(all_requests[1], "DELETE"));
    run_results_finish(&r);

    /* While polling: the wait ends at once, the step is skipped. */
    case_file_destroy(f);
    f = load("cases:\n  - name: poll\n    steps:\n      - operation: getRun\n"
             "        path: {runID: r1}\n        until:\n          body: {message: finished}\n"
             "          interval: 10ms\n          timeout: 20s\n        expect: {status: 400}\n");
    fc.finish_after = 1000;
    interrupt_at = 3;
    execute(f, 1, &fc, &r);
    assert_true(r.interrupted);
    assert_int_equal(r.cases[0].outcome, RUN_SKIPPED);
    assert_int_equal(r.cases[0].steps[0].outcome, RUN_SKIPPED);
    assert_string_equal(r.cases[0].steps[0].message, "interrupted while polling (3 attempts)");
    assert_true(r.elapsed_ms < 10000);
    run_results_finish(&r);

    /* A case that failed before the interruption stays failed. */
    case_file_destroy(f);
    f = load(lifecycle);
    fc.finish_after = 1;
    interrupt_at = 3; /* create, getTask (404: fails), delete */
    execute(f, 1, &fc, &r);
    assert_int_equal(r.cases[0].outcome, RUN_FAILED);
    assert_true(r.interrupted);
    assert_string_equal(r.cases[1].message, "not run: interrupted");
    interrupt_at = 0;
    run_results_finish(&r);
    case_file_destroy(f);
}

static void test_target_error(void **state)
{
    (void)state;
    struct case_file *f = load(lifecycle);
    struct fake_config fc = {.finish_after = 1, .fail_with = HTTP_ERR_CONNECT};
    struct run_results r;
    execute(f, 1, &fc, &r);
    assert_true(r.target_error);
    assert_int_equal(r.errors, 1);
    assert_int_equal(r.cases[0].outcome, RUN_ERROR);
    assert_int_equal(r.cases[0].steps[0].outcome, RUN_ERROR);
    assert_int_equal(r.cases[0].steps[3].outcome, RUN_SKIPPED);
    assert_int_equal(r.cases[1].outcome, RUN_SKIPPED);
    assert_string_equal(r.cases[1].message, "not run: the run stopped early");
    assert_non_null(strstr(r.target_message, "connection refused"));
    assert_int_equal(nall, 1);
    run_results_finish(&r);
    case_file_destroy(f);
}

/* Serializes what must not depend on -j: names, outcomes, messages,
 * steps, URLs, statuses and checks, in result order. */
static char *fingerprint(const struct run_results *r)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < r->count; i++) {
        const struct run_case_result *c = &r->cases[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddStringToObject(o, "outcome", run_outcome_name(c->outcome));
        for (size_t s = 0; s < c->nsteps; s++) {
            char key[32];
            snprintf(key, sizeof(key), "s%zu", s);
            cJSON *so = cJSON_AddObjectToObject(o, key);
            cJSON_AddStringToObject(so, "url", c->steps[s].url ? c->steps[s].url : "-");
            cJSON_AddNumberToObject(so, "status", c->steps[s].status);
            for (size_t k = 0; k < c->steps[s].checks.count; k++)
                cJSON_AddStringToObject(so, c->steps[s].checks.items[k].name,
                                        c->steps[s].checks.items[k].message);
        }
        cJSON_AddItemToArray(a, o);
    }
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

static void test_jobs_determinism(void **state)
{
    (void)state;
    /* 12 cases, alternating passing, failing and polling. */
    char text[16384];
    size_t n = (size_t)snprintf(text, sizeof(text), "cases:\n");
    for (int i = 0; i < 12; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "  - name: case %02d\n    steps:\n"
                              "      - operation: createTask\n"
                              "        body: {sourceID: %s, destinationID: d, action: replace,"
                              " trigger: {type: onDemand}}\n"
                              "        capture: {taskID: $.taskID}\n"
                              "      - operation: getRun\n        path: {runID: \"{{taskID}}\"}\n"
                              "        until: {body: {message: finished}, interval: 10ms}\n"
                              "        expect: {status: 400}\n"
                              "    teardown:\n      - operation: deleteTask\n"
                              "        path: {taskID: \"{{taskID}}\"}\n",
                              i, i % 3 == 1 ? "bad" : "ok");
    struct case_file *f = load(text);
    struct fake_config fc = {.finish_after = 2};
    struct run_results r1, r4;
    execute(f, 1, &fc, &r1);
    char *a = fingerprint(&r1);
    execute(f, 4, &fc, &r4);
    char *b = fingerprint(&r4);
    assert_int_equal(r4.jobs, 4);
    assert_int_equal(r1.failed, 4);
    assert_int_equal(r4.failed, 4);
    assert_string_equal(a, b);
    for (size_t i = 0; i < r4.count; i++)
        assert_int_equal(r4.cases[i].index, i);
    free(a);
    free(b);
    run_results_finish(&r1);
    run_results_finish(&r4);
    case_file_destroy(f);
}

static void test_selection(void **state)
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
    struct run_plan p;
    const char *tags[] = {"tasks", "sources"}, *xtags[] = {"slow"}, *globs[] = {"list r*"},
               *ops[] = {"getSources"};
    struct run_selection sel = {.tags = tags, .ntags = 2};
    run_plan_init(&p);
    assert_int_equal(run_plan_build(&s, &sel, &p, &err), UTIL_OK);
    assert_int_equal(p.count, 2);
    assert_string_equal(p.cases[0]->name, "list tasks");
    assert_string_equal(p.cases[1]->name, "list sources");
    run_plan_finish(&p);
    sel.exclude_tags = xtags;
    sel.nexclude_tags = 1;
    run_plan_init(&p);
    assert_int_equal(run_plan_build(&s, &sel, &p, &err), UTIL_OK);
    assert_int_equal(p.count, 1);
    run_plan_finish(&p);
    struct run_selection g = {.case_globs = globs, .ncase_globs = 1};
    run_plan_init(&p);
    assert_int_equal(run_plan_build(&s, &g, &p, &err), UTIL_OK);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.cases[0]->name, "list runs");
    run_plan_finish(&p);
    struct run_selection o = {.operations = ops, .noperations = 1};
    run_plan_init(&p);
    assert_int_equal(run_plan_build(&s, &o, &p, &err), UTIL_OK);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.cases[0]->name, "list sources");
    run_plan_finish(&p);
    case_suite_finish(&s);
}

/* ---- shards ---- */

/* A plan of n cases named by names (the order of the file). */
static struct case_file *named_cases(const char *const *names, size_t n)
{
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof(text), "cases:\n");
    for (size_t i = 0; i < n; i++)
        len +=
            (size_t)snprintf(text + len, sizeof(text) - len,
                             "  - name: %s\n    steps:\n      - operation: getTasks\n", names[i]);
    return load(text);
}

/* Shard k of n of f's plan with costs: "name,name,..." of the kept cases,
 * checking that indexes point back at them. */
static void shard_names(struct case_file *f, unsigned k, unsigned n, const double *costs, char *out,
                        size_t cap)
{
    struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
    struct run_plan p, whole;
    struct util_error err;
    util_error_clear(&err);
    run_plan_init(&p);
    run_plan_init(&whole);
    assert_int_equal(run_plan_build(&s, NULL, &whole, &err), UTIL_OK);
    assert_int_equal(run_plan_build(&s, NULL, &p, &err), UTIL_OK);
    assert_int_equal(run_plan_shard(&p, k, n, costs, &err), UTIL_OK);
    assert_int_equal(p.planned, whole.count);
    assert_int_equal(p.shard, k);
    assert_int_equal(p.shards, n);
    out[0] = '\0';
    for (size_t i = 0; i < p.count; i++) {
        assert_ptr_equal(whole.cases[p.indexes[i]], p.cases[i]);
        if (i)
            assert_true(p.indexes[i] > p.indexes[i - 1]); /* plan order */
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", i ? "," : "", p.cases[i]->name);
    }
    run_plan_finish(&p);
    run_plan_finish(&whole);
}

static void test_shard_by_count(void **state)
{
    (void)state;
    static const char *const names[] = {"g", "b", "e", "a", "f", "c", "d"};
    struct case_file *f = named_cases(names, 7);
    char got[512];
    /* Equal costs: by name, each to the least loaded shard (lowest first):
     * a b c -> 1 2 3, d e f -> 1 2 3, g -> 1; listed in plan order. */
    shard_names(f, 1, 3, NULL, got, sizeof(got));
    assert_string_equal(got, "g,a,d");
    shard_names(f, 2, 3, NULL, got, sizeof(got));
    assert_string_equal(got, "b,e");
    shard_names(f, 3, 3, NULL, got, sizeof(got));
    assert_string_equal(got, "f,c");
    /* Every n: every case in exactly one shard, sizes within one. */
    for (unsigned n = 1; n <= 9; n++) {
        unsigned seen[7] = {0};
        for (unsigned k = 1; k <= n; k++) {
            shard_names(f, k, n, NULL, got, sizeof(got));
            size_t m = 0;
            for (char *save = NULL, *t = strtok_r(got, ",", &save); t;
                 t = strtok_r(NULL, ",", &save), m++)
                seen[*t - 'a']++;
            assert_true(m == 7 / n || m == 7 / n + 1);
        }
        for (int i = 0; i < 7; i++)
            assert_int_equal(seen[i], 1);
    }
    case_file_destroy(f);
}

static void test_shard_by_cost(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "c", "d", "e", "f"};
    /* LPT: 10 -> 1; 6 -> 2; 5 -> 2 (11); 4 -> 1 (14); 3 (a before e) -> 2
     * (14); 3 -> 1 (17, both at 14: the lowest). */
    const double costs[] = {3, 10, 4, 5, 3, 6};
    struct case_file *f = named_cases(names, 6);
    char got[512];
    shard_names(f, 1, 2, costs, got, sizeof(got));
    assert_string_equal(got, "b,c,e");
    shard_names(f, 2, 2, costs, got, sizeof(got));
    assert_string_equal(got, "a,d,f");
    /* One long case alone against the rest. */
    const double skewed[] = {1, 1, 1, 100, 1, 1};
    shard_names(f, 1, 2, skewed, got, sizeof(got));
    assert_string_equal(got, "d");
    shard_names(f, 2, 2, skewed, got, sizeof(got));
    assert_string_equal(got, "a,b,c,e,f");

    /* Refused: K or N out of range, a bad cost, sharding twice. */
    struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
    struct run_plan p;
    struct util_error err;
    const double nan_cost[] = {1, 1, NAN, 1, 1, 1}, negative[] = {1, -1, 1, 1, 1, 1};
    util_error_clear(&err);
    run_plan_init(&p);
    assert_int_equal(run_plan_build(&s, NULL, &p, &err), UTIL_OK);
    assert_int_equal(run_plan_shard(&p, 0, 2, NULL, &err), UTIL_ERR_USAGE);
    assert_int_equal(run_plan_shard(&p, 3, 2, NULL, &err), UTIL_ERR_USAGE);
    assert_int_equal(run_plan_shard(&p, 1, RUN_CAP_SHARDS + 1, NULL, &err), UTIL_ERR_USAGE);
    assert_int_equal(run_plan_shard(&p, 1, 2, nan_cost, &err), UTIL_ERR_USAGE);
    assert_int_equal(run_plan_shard(&p, 1, 2, negative, &err), UTIL_ERR_USAGE);
    assert_non_null(strstr(err.message, "case 'b'"));
    assert_int_equal(p.count, 6);
    assert_int_equal(run_plan_shard(&p, 2, 2, NULL, &err), UTIL_OK);
    assert_int_equal(run_plan_shard(&p, 1, 2, NULL, &err), UTIL_ERR_USAGE);
    run_plan_finish(&p);
    case_file_destroy(f);
}

/* A shard's results keep the cases' positions in the whole plan. */
static void test_shard_results(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "b", "c", "d", "e"};
    struct case_file *f = named_cases(names, 5);
    struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
    struct run_plan p;
    struct run_results r;
    struct util_error err;
    util_error_clear(&err);
    run_plan_init(&p);
    assert_int_equal(run_plan_build(&s, NULL, &p, &err), UTIL_OK);
    assert_int_equal(run_plan_shard(&p, 2, 2, NULL, &err), UTIL_OK);
    struct run_config cfg = {.base_url = "http://fake.invalid",
                             .run_id = "ic-test",
                             .jobs = 2,
                             .transport_create = fake_create,
                             .contract = contract};
    run_results_init(&r);
    assert_int_equal(run_execute(&cfg, &p, &r, &err), UTIL_OK);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.planned, 5);
    assert_int_equal(r.shard, 2);
    assert_int_equal(r.shards, 2);
    assert_string_equal(r.cases[0].name, "b");
    assert_int_equal(r.cases[0].index, 1);
    assert_string_equal(r.cases[1].name, "d");
    assert_int_equal(r.cases[1].index, 3);
    run_results_finish(&r);
    run_plan_finish(&p);
    case_file_destroy(f);
}

/* skip_mock: the cases tagged mock are planned, not run, and reported as
 * skipped "mock-only" by name and with their tags, sharded or not;
 * without it they run. */
static void test_mock_skip(void **state)
{
    (void)state;
    struct case_file *f = load("cases:\n"
                               "  - name: live\n    tags: [tasks]\n"
                               "    steps: [{operation: getTasks}]\n"
                               "  - name: schedule\n    tags: [runs, mock]\n"
                               "    steps: [{operation: getTasks}]\n"
                               "  - name: other\n    steps: [{operation: getTasks}]\n");
    struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
    struct run_selection sel = {.skip_mock = true};
    struct run_config cfg = {.base_url = "http://fake.invalid",
                             .run_id = "ic-test",
                             .jobs = 2,
                             .transport_create = fake_create,
                             .contract = contract};
    struct util_error err;
    util_error_clear(&err);
    for (int pass = 0; pass < 3; pass++) {
        struct run_plan p;
        struct run_results r;
        sel.skip_mock = pass != 1;
        run_plan_init(&p);
        assert_int_equal(run_plan_build(&s, &sel, &p, &err), UTIL_OK);
        if (pass == 2)
            assert_int_equal(run_plan_shard(&p, 1, 1, NULL, &err), UTIL_OK);
        assert_int_equal(p.count, 3);
        run_results_init(&r);
        clear_requests();
        assert_int_equal(run_execute(&cfg, &p, &r, &err), UTIL_OK);
        const struct run_case_result *c = &r.cases[1];
        assert_string_equal(c->name, "schedule");
        if (pass == 1) {
            assert_int_not_equal(c->outcome, RUN_SKIPPED);
            assert_int_equal(r.skipped, 0);
            assert_int_equal(nall, 3);
        } else {
            assert_int_equal(c->outcome, RUN_SKIPPED);
            assert_string_equal(c->message, RUN_SKIP_MOCK_ONLY);
            assert_int_equal(c->ntags, 2);
            assert_string_equal(c->tags[1], "mock");
            assert_int_equal(c->nsteps, 0);
            assert_int_equal(r.skipped, 1);
            assert_int_not_equal(r.cases[0].outcome, RUN_SKIPPED);
            assert_int_not_equal(r.cases[2].outcome, RUN_SKIPPED);
            assert_int_equal(nall, 2);
        }
        run_results_finish(&r);
        run_plan_finish(&p);
    }
    case_file_destroy(f);
}

/* ---- end to end against the embedded mock ---- */

static struct http_transport *curl_create(void *user, struct util_error *err)
{
    return http_curl_create(user, err);
}

static void run_against_mock(const char *file, const struct mock_violation *v, size_t nv,
                             long timeout_ms, unsigned jobs, struct run_results *out)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/tests/data/case/%s", source_dir, file);
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (case_file_load(loader, path, &f, &err))
        fail_msg("%s", err.message);
    struct mock_options mo = {
        .schemas_dir = schemas, .violations = v, .nviolations = nv, .slow_ms = 1500};
    struct mock_server *srv = mock_server_create(&mo, &err);
    if (!srv)
        fail_msg("mock: %s", err.message);
    struct http_options ho = {.timeout_ms = timeout_ms};
    struct run_plan plan;
    struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
    run_plan_init(&plan);
    assert_int_equal(run_plan_build(&s, NULL, &plan, &err), UTIL_OK);
    struct run_config cfg = {
        .base_url = mock_server_url(srv),
        .app_id = mock_api_app_id(mock_server_api(srv)),
        .api_key = mock_api_api_key(mock_server_api(srv)),
        .jobs = jobs,
        .transport_create = curl_create,
        .transport_user = &ho,
        .contract = contract,
    };
    run_results_init(out);
    if (run_execute(&cfg, &plan, out, &err))
        fail_msg("run: %s", err.message);
    run_plan_finish(&plan);
    mock_server_destroy(srv);
    case_file_destroy(f);
}

/* The first failed check of the run, "case/step/check". */
static const char *first_failure(const struct run_results *r, const char **step)
{
    for (size_t i = 0; i < r->count; i++)
        for (size_t s = 0; s < r->cases[i].nsteps; s++)
            for (size_t k = 0; k < r->cases[i].steps[s].checks.count; k++)
                if (r->cases[i].steps[s].checks.items[k].outcome == CHECK_FAIL) {
                    *step = r->cases[i].steps[s].name;
                    return r->cases[i].steps[s].checks.items[k].name;
                }
    return NULL;
}

static void test_mock_passes(void **state)
{
    (void)state;
    struct run_results r;
    run_against_mock("mock-flow.yaml", NULL, 0, 5000, 2, &r);
    const char *step = NULL;
    const char *failed = first_failure(&r, &step);
    if (failed)
        fail_msg("step %s failed check %s: %s", step, failed, r.cases[0].message);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.passed, r.count);
    assert_int_equal(r.gaps, 2); /* 404 on an unknown ID, 403 on a wrong key */
    run_results_finish(&r);
}

static void test_mock_violations(void **state)
{
    (void)state;
    static const struct {
        const char *fault;
        const char *check;
    } want[] = {
        {"missing-required:getTask", "contract.schema"},
        {"wrong-type:getTask", "contract.schema"},
        {"bad-enum:getTask", "contract.schema"},
        {"extra-property:getTask", "contract.schema"},
        {"undocumented-status:getTask", "contract.status"},
        {"wrong-content-type:getTask", "contract.content-type"},
        {"malformed-json:getTask", "contract.json"},
        {"slow:getTask", "transport"},
        {"drop-connection:getTask", "transport"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct mock_violation v;
        struct util_error err;
        util_error_clear(&err);
        assert_int_equal(mock_violation_parse(want[i].fault, &v, &err), UTIL_OK);
        struct run_results r;
        run_against_mock("mock-flow.yaml", &v, 1, 700, 1, &r);
        const char *step = NULL;
        const char *failed = first_failure(&r, &step);
        if (!failed || strcmp(failed, want[i].check) != 0)
            fail_msg("%s: expected %s to fail, got %s", want[i].fault, want[i].check,
                     failed ? failed : "no failure");
        assert_string_equal(step, "read the task");
        assert_int_equal(r.failed, 1);
        assert_false(r.target_error);
        run_results_finish(&r);
    }
}

static void test_mock_unreachable(void **state)
{
    (void)state;
    struct util_error err;
    util_error_clear(&err);
    struct http_options ho = {.timeout_ms = 2000};
    struct case_file *f = load("cases:\n  - name: a\n    steps:\n      - operation: getTasks\n");
    struct run_plan plan;
    struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
    run_plan_init(&plan);
    run_plan_build(&s, NULL, &plan, &err);
    struct run_config cfg = {.base_url = "http://127.0.0.1:1",
                             .app_id = "a",
                             .api_key = "k",
                             .transport_create = curl_create,
                             .transport_user = &ho,
                             .contract = contract};
    struct run_results r;
    run_results_init(&r);
    assert_int_equal(run_execute(&cfg, &plan, &r, &err), UTIL_OK);
    assert_true(r.target_error);
    assert_int_equal(r.cases[0].outcome, RUN_ERROR);
    run_results_finish(&r);
    run_plan_finish(&plan);
    case_file_destroy(f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_teardown_and_captures),
        cmocka_unit_test(test_query_serialization),
        cmocka_unit_test(test_polling),
        cmocka_unit_test(test_polling_clock),
        cmocka_unit_test(test_polling_clock_jobs),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_target_error),
        cmocka_unit_test(test_jobs_determinism),
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_mock_skip),
        cmocka_unit_test(test_shard_by_count),
        cmocka_unit_test(test_shard_by_cost),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_rate_and_backoff),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_polling_backoff),
        cmocka_unit_test(test_vars),
        cmocka_unit_test(test_shard_results),
    };
    const struct CMUnitTest integration[] = {
        cmocka_unit_test(test_mock_passes),
        cmocka_unit_test(test_mock_violations),
        cmocka_unit_test(test_mock_unreachable),
    };
    const char *which = argc > 1 ? argv[1] : NULL; /* "unit", "integration" or both */
    int rc = 0;
    if (!which || strcmp(which, "integration") != 0)
        rc |= cmocka_run_group_tests_name("run-unit", unit, setup, teardown);
    if (!which || strcmp(which, "unit") != 0)
        rc |= cmocka_run_group_tests_name("run-integration", integration, setup, teardown);
    clear_requests();
    return rc;
}
