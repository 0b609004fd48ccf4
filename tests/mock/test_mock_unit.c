/* The mock without sockets: time text, cron, the ID map, mock_handle on
 * garbage and mutated requests, determinism, and the store at 100 000
 * tasks. */
#include "mock/internal.h"
#include "mock/mock.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static const char *schemas(void)
{
    static char dir[4096];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(dir, sizeof(dir), "%s/schemas", src ? src : ".");
    return dir;
}

static void test_time(void **state)
{
    (void)state;
    char t[32];
    mock_time_format(MOCK_SEED_EPOCH_MS, t);
    assert_string_equal(t, "2024-04-17T00:00:00Z");
    mock_time_format(MOCK_SEED_EPOCH_MS + 1234, t);
    assert_string_equal(t, "2024-04-17T00:00:01.234Z");
    mock_time_format(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00Z");
    mock_time_format(951782400000LL, t); /* leap day */
    assert_string_equal(t, "2000-02-29T00:00:00Z");
    int64_t ms;
    assert_int_equal(mock_time_parse("2024-04-17T00:00:00Z", &ms), 0);
    assert_true(ms == MOCK_SEED_EPOCH_MS);
    assert_int_equal(mock_time_parse("2024-04-17T02:00:00+02:00", &ms), 0);
    assert_true(ms == MOCK_SEED_EPOCH_MS);
    assert_int_equal(mock_time_parse("2024-04-17t00:00:00.5z", &ms), 0);
    assert_true(ms == MOCK_SEED_EPOCH_MS + 500);
    assert_int_equal(mock_time_parse("2024-04-17", &ms), 0);
    assert_true(ms == MOCK_SEED_EPOCH_MS);
    const char *bad[] = {"",
                         "2024",
                         "2024-02-30",
                         "2024-04-17T25:00:00Z",
                         "2024-04-17T00:00:00",
                         "2024-04-17T00:00:00Zx",
                         "2024-04-17T00:00:00.Z",
                         "yesterday",
                         "2024-04-17T00:00:00+2:00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(mock_time_parse(bad[i], &ms), -1);
    assert_int_equal(mock_time_parse(NULL, &ms), -1);
}

static void test_cron(void **state)
{
    (void)state;
    struct mock_cron c;
    char t[32];
    assert_int_equal(mock_cron_parse("0 * * * *", &c), 0);
    mock_time_format(mock_cron_next(&c, MOCK_SEED_EPOCH_MS), t);
    assert_string_equal(t, "2024-04-17T01:00:00Z");
    assert_int_equal(mock_cron_parse("*/15 3 * * *", &c), 0);
    mock_time_format(mock_cron_next(&c, MOCK_SEED_EPOCH_MS + 3 * 3600000LL + 60000), t);
    assert_string_equal(t, "2024-04-17T03:15:00Z");
    assert_int_equal(mock_cron_parse("30 12 29 2 *", &c), 0); /* next leap day */
    mock_time_format(mock_cron_next(&c, MOCK_SEED_EPOCH_MS), t);
    assert_string_equal(t, "2028-02-29T12:30:00Z");
    assert_int_equal(mock_cron_parse("0 9 * * 1-5", &c), 0); /* 2024-04-17 is a Wednesday */
    mock_time_format(mock_cron_next(&c, MOCK_SEED_EPOCH_MS + 10 * 3600000LL), t);
    assert_string_equal(t, "2024-04-18T09:00:00Z");
    assert_int_equal(mock_cron_parse("0 0 * * 7", &c), 0); /* Sunday */
    mock_time_format(mock_cron_next(&c, MOCK_SEED_EPOCH_MS), t);
    assert_string_equal(t, "2024-04-21T00:00:00Z");
    assert_int_equal(mock_cron_parse("5,10 1-2/1 1 1,7 *", &c), 0);
    assert_int_equal(mock_cron_parse("* * 1 * *", &c), 0);
    assert_int_equal(mock_cron_parse("0 0 30 2 *", &c), 0);
    assert_true(mock_cron_next(&c, MOCK_SEED_EPOCH_MS) < 0);
    const char *bad[] = {"",          "* * * *",     "60 * * * *",  "* 24 * * *",
                         "* * 0 * *", "* * * 13 *",  "* * * * 8",   "*/0 * * * *",
                         "a * * * *", "1-0 * * * *", "* * * * * *", "1, * * * *"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (mock_cron_parse(bad[i], &c) == 0)
            fail_msg("cron '%s' accepted", bad[i]);
}

static void test_idmap_and_uuid(void **state)
{
    (void)state;
    struct mock_idmap m;
    assert_int_equal(mock_idmap_init(&m), 0);
    enum { N = 20000 };
    char(*keys)[MOCK_ID_LEN + 1] = malloc(N * sizeof(*keys));
    struct mock_rng r;
    mock_rng_seed(&r, 7);
    for (int i = 0; i < N; i++) {
        mock_uuid(&r, keys[i]);
        assert_int_equal(strlen(keys[i]), 36);
        assert_int_equal(keys[i][14], '4');
        assert_non_null(strchr("89ab", keys[i][19]));
        assert_int_equal(mock_idmap_put(&m, keys[i], keys[i]), 0);
    }
    for (int i = 0; i < N; i += 2)
        mock_idmap_del(&m, keys[i]);
    for (int i = 0; i < N; i++)
        assert_true((mock_idmap_get(&m, keys[i]) != NULL) == (i % 2 == 1));
    for (int i = 0; i < N; i += 2)
        assert_int_equal(mock_idmap_put(&m, keys[i], keys[i]), 0);
    assert_int_equal(m.count, N);
    assert_null(mock_idmap_get(&m, "nope"));
    mock_idmap_finish(&m);
    free(keys);
    /* The same seed gives the same IDs. */
    struct mock_rng a, b;
    char x[37], y[37];
    mock_rng_seed(&a, 99);
    mock_rng_seed(&b, 99);
    for (int i = 0; i < 10; i++) {
        mock_uuid(&a, x);
        mock_uuid(&b, y);
        assert_string_equal(x, y);
    }
}

static struct mock_api *api_new(uint64_t seed, size_t preload)
{
    struct util_error err;
    util_error_clear(&err);
    struct mock_options o = {.schemas_dir = schemas(),
                             .seeded = true,
                             .seed = seed,
                             .app_id = "APP",
                             .api_key = "KEY",
                             .preload_tasks = preload};
    struct mock_api *api = mock_api_create(&o, &err);
    if (!api)
        fail_msg("mock_api_create: %s", err.message);
    return api;
}

static void test_query_split(void **state)
{
    (void)state;
    char q[] = "a=1&type=basic%2Coauth&&flag&b=x+y&=v&c=%zz";
    struct mock_query_arg args[8];
    size_t n;
    mock_query_split(q, args, 8, &n);
    assert_int_equal(n, 6);
    assert_string_equal(args[1].value, "basic,oauth");
    assert_null(args[2].value);
    assert_string_equal(args[3].value, "x y");
    assert_string_equal(args[4].key, "");
    assert_string_equal(args[5].value, "%zz");
}

/* Requests built from pieces, then mutated at random: mock_handle must
 * answer every one with a JSON body and a sane status. */
static void test_garbage(void **state)
{
    (void)state;
    struct mock_api *api = api_new(5, 20);
    static const char *const methods[] = {"GET",  "POST",    "PATCH", "PUT",    "DELETE",
                                          "HEAD", "OPTIONS", "",      "G\xffT", "get"};
    static const char *const paths[] = {"/1/tasks",
                                        "/1/tasks/",
                                        "/1/tasks/search",
                                        "/1/authentications",
                                        "/1/sources/x/discover",
                                        "/1/runs",
                                        "/1/runs/a/events/b",
                                        "/",
                                        "",
                                        "//1//tasks//",
                                        "/1/tasks/%00",
                                        "/1/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s",
                                        "/1/destinations/../tasks",
                                        "/1/runs/\xff\xfe/events"};
    static const char *const bodies[] = {
        "{}",
        "[]",
        "null",
        "{\"type\":\"json\",\"name\":\"x\",\"input\":{\"url\":\"u\"}}",
        "{\"taskIDs\":[\"a\",1,null]}",
        ("{\"sourceID\":\"x\",\"destinationID\":\"y\","
         "\"trigger\":{\"type\":\"schedule\",\"cron\":\"* * * * *\"},\"action\":\"save\"}"),
        "{",
        "\"",
        "{\"a\":",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "\x00\x01\x02",
        "{\"type\":\"basic\",\"name\":\"n\",\"input\":{\"username\":\"u\",\"password\":\"p\"}}"};
    static const char *const keys[] = {
        "itemsPerPage", "page",      "sort",    "order",  "type",   "platform",         "enabled",
        "status",       "startDate", "endDate", "action", "taskID", "authenticationID", "x"};
    static const char *const values[] = {
        "1",    "0",    "-1",  "100",        "1e308",
        "nan",  "true", "",    ",,,",        "none",
        "null", "name", "asc", "2024-01-01", "9999999999999999999999",
        "\xff", "a,b,c"};
    static const char *const ctypes[] = {"application/json", "text/plain", NULL,
                                         "application/jsonx", "APPLICATION/JSON; charset=x"};
    struct mock_rng rng;
    mock_rng_seed(&rng, 1234);
#define PICK(a) (a[mock_rng_next(&rng) % (sizeof(a) / sizeof(a[0]))])
    struct mock_response resp;
    mock_response_init(&resp);
    char body[256], path[256];
    for (int i = 0; i < 600; i++) {
        struct mock_query_arg args[6];
        size_t nargs = mock_rng_next(&rng) % 6;
        for (size_t a = 0; a < nargs; a++) {
            args[a].key = PICK(keys);
            args[a].value = mock_rng_next(&rng) % 8 ? PICK(values) : NULL;
        }
        snprintf(path, sizeof(path), "%s", PICK(paths));
        snprintf(body, sizeof(body), "%s", PICK(bodies));
        size_t blen = strlen(body);
        /* Mutations: flip bytes of the body and the path. */
        for (int m = (int)(mock_rng_next(&rng) % 4); m > 0 && blen; m--)
            body[mock_rng_next(&rng) % blen] = (char)(mock_rng_next(&rng) & 0xff);
        if (mock_rng_next(&rng) % 5 == 0 && strlen(path))
            path[mock_rng_next(&rng) % strlen(path)] = (char)(mock_rng_next(&rng) & 0xff);
        struct mock_request req = {
            .method = PICK(methods),
            .path = path,
            .args = args,
            .nargs = nargs,
            .app_id = mock_rng_next(&rng) % 10 ? "APP" : "NOPE",
            .api_key = mock_rng_next(&rng) % 10 ? "KEY" : NULL,
            .content_type = PICK(ctypes),
            .body = mock_rng_next(&rng) % 3 ? body : NULL,
            .body_len = blen,
        };
        if (!req.body)
            req.body_len = 0;
        mock_handle(api, &req, &resp);
        assert_true(resp.status >= 200 && resp.status < 600);
        assert_non_null(resp.body);
        assert_int_equal(strlen(resp.body), resp.body_len);
        assert_true(resp.body[0] == '{' || resp.body[0] == '[');
    }
    /* NULL pieces. */
    struct mock_request empty = {0};
    mock_handle(api, &empty, &resp);
    assert_int_equal(resp.status, 400);
    mock_handle(NULL, &empty, &resp);
    assert_int_equal(resp.status, 400);
    mock_response_finish(&resp);
    mock_api_destroy(api);
    mock_api_destroy(NULL);
}

static char *answer(struct mock_api *api, const char *method, const char *path, const char *body)
{
    char target[1024];
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
                               .content_type = "application/json",
                               .body = body,
                               .body_len = body ? strlen(body) : 0};
    struct mock_response resp;
    mock_response_init(&resp);
    mock_handle(api, &req, &resp);
    char *out = resp.body;
    resp.body = NULL;
    mock_response_finish(&resp);
    return out;
}

static void test_determinism(void **state)
{
    (void)state;
    struct mock_api *a = api_new(77, 5), *b = api_new(77, 5);
    const char *steps[][3] = {
        {"POST", "/1/authentications",
         "{\"type\":\"basic\",\"name\":\"n\",\"input\":{\"username\":\"u\",\"password\":\"p\"}}"},
        {"GET", "/1/authentications", NULL},
        {"GET", "/1/tasks?itemsPerPage=100", NULL},
        {"GET", "/1/sources", NULL},
    };
    for (size_t i = 0; i < 4; i++) {
        char *x = answer(a, steps[i][0], steps[i][1], steps[i][2]);
        char *y = answer(b, steps[i][0], steps[i][1], steps[i][2]);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }
    mock_api_destroy(a);
    mock_api_destroy(b);
}

/* The createdAt of a new basic authentication, in ms. */
static int64_t created_at(struct mock_api *api)
{
    char *body = answer(api, "POST", "/1/authentications",
                        "{\"type\":\"basic\",\"name\":\"n\",\"input\":{\"username\":\"u\","
                        "\"password\":\"p\"}}");
    cJSON *doc = cJSON_Parse(body);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "createdAt");
    int64_t ms = -1;
    if (!cJSON_IsString(c) || mock_time_parse(c->valuestring, &ms))
        fail_msg("no createdAt in %s", body);
    cJSON_Delete(doc);
    free(body);
    return ms;
}

/* The status of run in api. */
static char *run_status(struct mock_api *api, const char *run)
{
    char path[128];
    snprintf(path, sizeof(path), "/1/runs/%s", run);
    char *body = answer(api, "GET", path, NULL);
    cJSON *doc = cJSON_Parse(body);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
    char *out = strdup(cJSON_IsString(st) ? st->valuestring : "?");
    cJSON_Delete(doc);
    free(body);
    return out;
}

/* mock_api_advance_clock: fake timers for the unseeded clock (timestamps
 * and run progress jump at once); ignored by the seeded logical clock. */
static void test_advance_clock(void **state)
{
    (void)state;
    struct util_error err;
    util_error_clear(&err);
    struct mock_options o = {.schemas_dir = schemas(),
                             .app_id = "APP",
                             .api_key = "KEY",
                             .preload_tasks = 1,
                             .run_stage_ms = 60000};
    struct mock_api *api = mock_api_create(&o, &err);
    if (!api)
        fail_msg("mock_api_create: %s", err.message);
    int64_t t1 = created_at(api);
    assert_true(mock_api_advance_clock(api, 3600000) == 3600000);
    assert_true(mock_api_advance_clock(api, 0) == 0);
    assert_true(mock_api_advance_clock(api, -5) == 0);
    int64_t t2 = created_at(api);
    assert_true(t2 - t1 >= 3600000 && t2 - t1 < 3600000 + 60000);

    /* A run (a minute of the clock per stage here) finishes when the clock
     * is moved, with no time passing on the wall clock. */
    char *tasks = answer(api, "GET", "/1/tasks?itemsPerPage=1", NULL);
    cJSON *doc = cJSON_Parse(tasks);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "tasks"), 0), "taskID");
    assert_true(cJSON_IsString(id));
    char path[128];
    snprintf(path, sizeof(path), "/1/tasks/%s/run", id->valuestring);
    cJSON_Delete(doc);
    free(tasks);
    char *ran = answer(api, "POST", path, NULL);
    doc = cJSON_Parse(ran);
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(doc, "runID");
    assert_true(cJSON_IsString(rid));
    char run[64];
    snprintf(run, sizeof(run), "%s", rid->valuestring);
    cJSON_Delete(doc);
    free(ran);
    char *st = run_status(api, run);
    assert_string_equal(st, "created");
    free(st);
    mock_api_advance_clock(api, 3600000);
    st = run_status(api, run);
    assert_string_equal(st, "finished");
    free(st);
    mock_api_destroy(api);

    /* Seeded: one second per request, whatever is asked. */
    api = api_new(5, 0);
    t1 = created_at(api);
    assert_true(mock_api_advance_clock(api, 3600000) == 0);
    t2 = created_at(api);
    assert_true(t2 - t1 == MOCK_SEED_STEP_MS);
    mock_api_destroy(api);
}

static int status_of(struct mock_api *api, const char *method, const char *path)
{
    struct mock_request req = {.method = method, .path = path, .app_id = "APP", .api_key = "KEY"};
    struct mock_response resp;
    mock_response_init(&resp);
    mock_handle(api, &req, &resp);
    int status = resp.status;
    mock_response_finish(&resp);
    return status;
}

/* Paths route as the contract checks match them: a leading '/', no empty
 * segment, one trailing '/' allowed (the fuzzer found "GET 1/tasks" and
 * "//1//tasks" answered as getTasks). */
static void test_path_shapes(void **state)
{
    (void)state;
    struct mock_api *api = api_new(9, 0);
    assert_int_equal(status_of(api, "GET", "/1/tasks"), 200);
    assert_int_equal(status_of(api, "GET", "/1/tasks/"), 200);
    assert_int_equal(status_of(api, "HEAD", "/1/tasks"), 200);
    assert_int_equal(status_of(api, "GET", "1/tasks"), 404);
    assert_int_equal(status_of(api, "GET", "//1/tasks"), 404);
    assert_int_equal(status_of(api, "GET", "/1//tasks"), 404);
    assert_int_equal(status_of(api, "GET", "/1/tasks//"), 404);
    assert_int_equal(status_of(api, "GET", "/"), 404);
    assert_int_equal(status_of(api, "GET", ""), 404);
    mock_api_destroy(api);
}

/* mock_api_reset: an empty store, and the answers of a fresh API. */
static void test_reset(void **state)
{
    (void)state;
    struct mock_api *a = api_new(77, 0), *b = api_new(77, 0);
    const char *create =
        "{\"type\":\"basic\",\"name\":\"n\",\"input\":{\"username\":\"u\",\"password\":\"p\"}}";
    free(answer(a, "POST", "/1/authentications", create));
    free(answer(a, "POST", "/1/authentications", create));
    assert_int_equal(mock_api_reset(a, 77), UTIL_OK);
    struct mock_counts cnt;
    mock_api_counts(a, &cnt);
    assert_int_equal(cnt.authentications, 0);
    char *x = answer(a, "POST", "/1/authentications", create);
    char *y = answer(b, "POST", "/1/authentications", create);
    assert_string_equal(x, y);
    free(x);
    free(y);
    mock_api_destroy(a);
    mock_api_destroy(b);
}

static double ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 100 000 tasks: lookups stay O(1), lists O(n log n). */
static void test_scale(void **state)
{
    (void)state;
    bool valgrind = getenv("INGESTCHECK_UNDER_VALGRIND") != NULL;
    size_t n = valgrind ? 5000 : 100000;
    struct mock_api *api = api_new(3, n);
    struct mock_counts cnt;
    mock_api_counts(api, &cnt);
    assert_int_equal(cnt.tasks, n);
    double t0 = ms_now();
    char *page = answer(api, "GET", "/1/tasks?itemsPerPage=100&sort=updatedAt&order=asc", NULL);
    double list_ms = ms_now() - t0;
    char expect[64];
    snprintf(expect, sizeof(expect), "\"nbItems\":%zu", n);
    assert_non_null(strstr(page, expect));
    free(page);
    t0 = ms_now();
    page = answer(api, "GET", "/1/tasks?itemsPerPage=100&action=save&enabled=true", NULL);
    double filter_ms = ms_now() - t0;
    assert_non_null(strstr(page, "\"tasks\":[{"));
    free(page);
    if (!valgrind) {
        /* Generous bounds: a quadratic list would take minutes. */
        assert_true(list_ms < 2000);
        assert_true(filter_ms < 2000);
    }
    mock_api_destroy(api);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),           cmocka_unit_test(test_cron),
        cmocka_unit_test(test_idmap_and_uuid), cmocka_unit_test(test_query_split),
        cmocka_unit_test(test_garbage),        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_scale),          cmocka_unit_test(test_advance_clock),
        cmocka_unit_test(test_path_shapes),    cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
