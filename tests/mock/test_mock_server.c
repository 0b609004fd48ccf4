/* The embedded mock over HTTP (libcurl transport, server on port 0): every
 * operation validated against schemas/ with the schema engine, filters,
 * sorts, refusals, limits, determinism and the planted faults. */
#include "mock_client.h"

#include "json/json.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static bool covered[64];

/* Rotating buffers for formatted paths and bodies. */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char bufs[8][8192];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof(bufs[0]), f, ap);
    va_end(ap);
    return b;
}

/* Calls and asserts a 200 that validates against op's schema. */
static struct reply ok(struct client *c, const char *op, const char *method, const char *path,
                       const char *body)
{
    struct reply r = client_call(c, method, path, body);
    if (r.status != 200)
        fail_msg("%s %s %s: status %d: %s", op, method, path, r.status, r.body ? r.body : "");
    if (!reply_valid(op, &r))
        fail_msg("%s %s %s: response does not match the schema", op, method, path);
    covered[op_index(op)] = true;
    return r;
}

/* Calls and asserts an ErrorBase answer with status and a message holding
 * needle. */
static void refused(struct client *c, const char *op, const char *method, const char *path,
                    const char *body, int status, const char *needle)
{
    struct reply r = client_call(c, method, path, body);
    if (r.status != status)
        fail_msg("%s %s %s: expected %d, got %d: %s", op, method, path, status, r.status,
                 r.body ? r.body : "");
    if (!reply_valid_as(op, 400, &r))
        fail_msg("%s: error body is not an ErrorBase: %s", op, r.body);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r.json, "message");
    assert_true(cJSON_IsString(m));
    if (needle && !strstr(m->valuestring, needle))
        fail_msg("%s: message '%s' lacks '%s'", op, m->valuestring, needle);
    reply_free(&r);
}

static char *field(const struct reply *r, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, k);
    assert_true(cJSON_IsString(v));
    return strdup(v->valuestring);
}

static char *create(struct client *c, const char *op, const char *path, const char *body,
                    const char *idkey)
{
    struct reply r = ok(c, op, "POST", path, body);
    char *id = field(&r, idkey);
    reply_free(&r);
    return id;
}

static int list_count(const struct reply *r, const char *key)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r->json, key));
}

static struct mock_options seeded(uint64_t seed)
{
    struct mock_options o = {
        .seeded = true, .seed = seed, .app_id = "TESTAPP", .api_key = "test-key"};
    return o;
}

/* ---- fixtures: one of every kind ---- */

struct world {
    char *auth[6];
    char *dest[2];
    char *src[9]; /* json, docker, commercetools, bigcommerce, csv, bigquery, ga4, shopify, sfcc */
    char *task[4];
};

static const char *const auth_bodies[6] = {
    "{\"type\":\"googleServiceAccount\",\"name\":\"gsa\",\"input\":{\"clientEmail\":"
    "\"a@b.c\",\"privateKey\":\"PK\"}}",
    "{\"type\":\"basic\",\"name\":\"basic\",\"input\":{\"username\":\"u\",\"password\":\"pw\"}}",
    "{\"type\":\"apiKey\",\"name\":\"key\",\"platform\":null,\"input\":{\"key\":\"K\"}}",
    "{\"type\":\"oauth\",\"name\":\"oauth\",\"platform\":\"commercetools\",\"input\":{\"url\":"
    "\"https://auth\",\"client_id\":\"id\",\"client_secret\":\"CS\",\"scope\":\"read\"}}",
    "{\"type\":\"algolia\",\"name\":\"algolia\",\"input\":{\"appID\":\"APP\",\"apiKey\":\"AK\"}}",
    "{\"type\":\"algoliaInsights\",\"name\":\"insights\",\"platform\":\"shopify\",\"input\":"
    "{\"appID\":\"APP\",\"apiKey\":\"AK\"}}",
};

static void build_world(struct client *c, struct world *w)
{
    for (int i = 0; i < 6; i++)
        w->auth[i] = create(c, "createAuthentication", "/1/authentications", auth_bodies[i],
                            "authenticationID");
    w->dest[0] = create(c, "createDestination", "/1/destinations",
                        fmt("{\"type\":\"search\",\"name\":\"d-search\",\"input\":{\"indexPrefix\":"
                            "\"p_\"},\"authenticationID\":\"%s\"}",
                            w->auth[4]),
                        "destinationID");
    w->dest[1] = create(c, "createDestination", "/1/destinations",
                        "{\"type\":\"insights\",\"name\":\"d-insights\",\"input\":{\"indexName\":"
                        "\"events\",\"recordType\":\"product\",\"attributesToExclude\":[\"a\"]}}",
                        "destinationID");
    const char *srcs[9] = {
        "{\"type\":\"json\",\"name\":\"s-json\",\"input\":{\"url\":\"https://x/feed.json\"}}",
        "{\"type\":\"docker\",\"name\":\"s-docker\",\"input\":{\"registry\":\"dockerhub\","
        "\"image\":\"algolia/zendesk\",\"imageType\":\"singer\",\"configuration\":{}}}",
        fmt("{\"type\":\"commercetools\",\"name\":\"s-ct\",\"authenticationID\":\"%s\",\"input\":"
            "{\"url\":\"https://ct\",\"projectKey\":\"pk\",\"storeKeys\":[\"s\"],\"locales\":"
            "[\"de\"]}}",
            w->auth[3]),
        "{\"type\":\"bigcommerce\",\"name\":\"s-bc\",\"input\":{\"storeHash\":\"h\"}}",
        "{\"type\":\"csv\",\"name\":\"s-csv\",\"input\":{\"url\":\"https://x.csv\",\"delimiter\":"
        "\";\",\"mapping\":{\"price\":\"float\"}}}",
        fmt("{\"type\":\"bigquery\",\"name\":\"s-bq\",\"authenticationID\":\"%s\",\"input\":"
            "{\"projectID\":\"p\",\"datasetID\":\"d\"}}",
            w->auth[0]),
        "{\"type\":\"ga4BigqueryExport\",\"name\":\"s-ga4\",\"input\":{\"projectID\":\"p\","
        "\"datasetID\":\"d\",\"tablePrefix\":\"t_\"}}",
        "{\"type\":\"shopify\",\"name\":\"s-shop\",\"input\":{\"shopURL\":\"https://shop\"}}",
        "{\"type\":\"sfcc\",\"name\":\"s-sfcc\",\"input\":{\"url\":\"https://sfcc\"}}",
    };
    for (int i = 0; i < 9; i++)
        w->src[i] = create(c, "createSource", "/1/sources", srcs[i], "sourceID");
    const char *tasks[4] = {
        fmt("{\"sourceID\":\"%s\",\"destinationID\":\"%s\",\"trigger\":{\"type\":\"onDemand\"},"
            "\"action\":\"replace\",\"input\":{\"startDate\":\"2024-01-01T00:00:00Z\","
            "\"endDate\":\"2024-01-02T00:00:00Z\"}}",
            w->src[0], w->dest[0]),
        fmt("{\"sourceID\":\"%s\",\"destinationID\":\"%s\",\"trigger\":{\"type\":\"schedule\","
            "\"cron\":\"0 * * * *\"},\"action\":\"save\",\"enabled\":false,"
            "\"failureThreshold\":10,\"input\":{\"timeframe\":7}}",
            w->src[3], w->dest[0]),
        fmt("{\"sourceID\":\"%s\",\"destinationID\":\"%s\",\"trigger\":{\"type\":"
            "\"subscription\"},\"action\":\"partial\"}",
            w->src[2], w->dest[1]),
        fmt("{\"sourceID\":\"%s\",\"destinationID\":\"%s\",\"trigger\":{\"type\":\"streaming\"},"
            "\"action\":\"append\",\"input\":{\"mapping\":{\"format\":\"mappingkit/v1\","
            "\"actions\":[{\"enabled\":true,\"trigger\":\"t\",\"fieldDirectives\":[{\"fieldKey\":"
            "\"k\",\"value\":{\"a\":1}}]}]}}}",
            w->src[7], w->dest[1]),
    };
    for (int i = 0; i < 4; i++)
        w->task[i] = create(c, "createTask", "/1/tasks", tasks[i], "taskID");
}

static void free_world(struct world *w)
{
    for (int i = 0; i < 6; i++)
        free(w->auth[i]);
    for (int i = 0; i < 2; i++)
        free(w->dest[i]);
    for (int i = 0; i < 9; i++)
        free(w->src[i]);
    for (int i = 0; i < 4; i++)
        free(w->task[i]);
}

/* Polls getRun until the run finishes (each request moves the logical clock). */
static void wait_finished(struct client *c, const char *run)
{
    for (int i = 0; i < 20; i++) {
        struct reply r = ok(c, "getRun", "GET", fmt("/1/runs/%s", run), NULL);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(r.json, "status");
        bool done = cJSON_IsString(st) && strcmp(st->valuestring, "finished") == 0;
        reply_free(&r);
        if (done)
            return;
    }
    fail_msg("run %s never finished", run);
}

/* ---- the sweep: all 33 operations, every answer validated ---- */

static void test_sweep_all_operations(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(1);
    struct world w;
    memset(covered, 0, sizeof(covered));
    client_start(&c, &o, 10000);
    build_world(&c, &w);

    static const char *const secrets[] = {"client_secret", "password", "key", "apiKey",
                                          "privateKey"};
    for (int i = 0; i < 6; i++) {
        struct reply r =
            ok(&c, "getAuthentication", "GET", fmt("/1/authentications/%s", w.auth[i]), NULL);
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(r.json, "input");
        assert_true(cJSON_IsObject(in));
        for (size_t s = 0; s < 5; s++)
            assert_null(cJSON_GetObjectItemCaseSensitive(in, secrets[s]));
        assert_null(strstr(r.body, "\"PK\""));
        assert_null(strstr(r.body, "\"CS\""));
        reply_free(&r);
    }
    struct reply r =
        ok(&c, "getAuthentications", "GET", "/1/authentications?itemsPerPage=100", NULL);
    assert_int_equal(list_count(&r, "authentications"), 6);
    assert_null(strstr(r.body, "\"AK\""));
    reply_free(&r);
    r = ok(&c, "searchAuthentications", "POST", "/1/authentications/search",
           fmt("{\"authenticationIDs\":[\"%s\",\"00000000-0000-4000-8000-000000000000\",\"%s\","
               "\"%s\"]}",
               w.auth[2], w.auth[0], w.auth[2]));
    assert_int_equal(cJSON_GetArraySize(r.json), 2);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r.json, 0), "authenticationID")
            ->valuestring,
        w.auth[2]);
    reply_free(&r);
    r = ok(&c, "updateAuthentication", "PATCH", fmt("/1/authentications/%s", w.auth[3]),
           "{\"name\":\"renamed\",\"input\":{\"scope\":\"write\"}}");
    reply_free(&r);

    r = ok(&c, "getDestinations", "GET", "/1/destinations", NULL);
    assert_int_equal(list_count(&r, "destinations"), 2);
    reply_free(&r);
    r = ok(&c, "searchDestinations", "POST", "/1/destinations/search",
           fmt("{\"destinationIDs\":[\"%s\"]}", w.dest[1]));
    assert_int_equal(cJSON_GetArraySize(r.json), 1);
    reply_free(&r);
    for (int i = 0; i < 2; i++) {
        r = ok(&c, "getDestination", "GET", fmt("/1/destinations/%s", w.dest[i]), NULL);
        reply_free(&r);
    }
    r = ok(&c, "updateDestination", "PATCH", fmt("/1/destinations/%s", w.dest[1]),
           fmt("{\"name\":\"d2\",\"authenticationID\":\"%s\",\"input\":{\"indexPrefix\":\"q_\"}}",
               w.auth[5]));
    reply_free(&r);

    r = ok(&c, "getSources", "GET", "/1/sources?itemsPerPage=100", NULL);
    assert_int_equal(list_count(&r, "sources"), 9);
    reply_free(&r);
    r = ok(&c, "searchSources", "POST", "/1/sources/search",
           fmt("{\"sourceIDs\":[\"%s\",\"%s\"]}", w.src[4], w.src[5]));
    assert_int_equal(cJSON_GetArraySize(r.json), 2);
    reply_free(&r);
    for (int i = 0; i < 9; i++) {
        r = ok(&c, "getSource", "GET", fmt("/1/sources/%s", w.src[i]), NULL);
        reply_free(&r);
    }
    r = ok(&c, "updateSource", "PATCH", fmt("/1/sources/%s", w.src[0]),
           "{\"name\":\"s-json-2\",\"input\":{\"url\":\"https://y/feed.json\"}}");
    reply_free(&r);

    r = ok(&c, "getDockerSourceStreams", "GET", fmt("/1/sources/%s/discover", w.src[1]), NULL);
    assert_int_equal(list_count(&r, "streams"), 0);
    reply_free(&r);
    r = ok(&c, "triggerDockerSourceDiscover", "POST", fmt("/1/sources/%s/discover", w.src[1]),
           NULL);
    char *discover = field(&r, "runID");
    reply_free(&r);
    wait_finished(&c, discover);
    r = ok(&c, "getRun", "GET", fmt("/1/runs/%s", discover), NULL);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.json, "type")->valuestring, "discover");
    reply_free(&r);
    r = ok(&c, "getDockerSourceStreams", "GET", fmt("/1/sources/%s/discover", w.src[1]), NULL);
    assert_int_equal(list_count(&r, "streams"), 1);
    reply_free(&r);
    free(discover);

    r = ok(&c, "getTasks", "GET", "/1/tasks", NULL);
    assert_int_equal(list_count(&r, "tasks"), 4);
    reply_free(&r);
    r = ok(&c, "searchTasks", "POST", "/1/tasks/search",
           fmt("{\"taskIDs\":[\"%s\",\"%s\",\"%s\",\"%s\"]}", w.task[3], w.task[2], w.task[1],
               w.task[0]));
    assert_int_equal(cJSON_GetArraySize(r.json), 4);
    reply_free(&r);
    for (int i = 0; i < 4; i++) {
        r = ok(&c, "getTask", "GET", fmt("/1/tasks/%s", w.task[i]), NULL);
        reply_free(&r);
    }
    r = ok(&c, "updateTask", "PATCH", fmt("/1/tasks/%s", w.task[1]),
           fmt("{\"trigger\":{\"cron\":\"*/5 * * * *\"},\"failureThreshold\":50,"
               "\"destinationID\":\"%s\",\"input\":{\"timeframe\":3}}",
               w.dest[1]));
    reply_free(&r);
    r = ok(&c, "enableTask", "PUT", fmt("/1/tasks/%s/enable", w.task[1]), NULL);
    reply_free(&r);
    r = ok(&c, "disableTask", "PUT", fmt("/1/tasks/%s/disable", w.task[2]), NULL);
    reply_free(&r);
    r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[0]), NULL);
    char *run = field(&r, "runID");
    reply_free(&r);
    wait_finished(&c, run);
    r = ok(&c, "getRuns", "GET", fmt("/1/runs?taskID=%s", w.task[0]), NULL);
    assert_int_equal(list_count(&r, "runs"), 1);
    reply_free(&r);
    r = ok(&c, "getEvents", "GET", fmt("/1/runs/%s/events?order=asc", run), NULL);
    assert_int_equal(list_count(&r, "events"), 4);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(r.json, "events");
    static const char *const types[] = {"fetch", "transform", "record", "log"};
    for (int i = 0; i < 4; i++) {
        const cJSON *e = cJSON_GetArrayItem(events, i);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring, types[i]);
        struct reply ev = ok(&c, "getEvent", "GET",
                             fmt("/1/runs/%s/events/%s", run,
                                 cJSON_GetObjectItemCaseSensitive(e, "eventID")->valuestring),
                             NULL);
        reply_free(&ev);
    }
    reply_free(&r);
    free(run);

    for (int i = 0; i < 4; i++) {
        r = ok(&c, "deleteTask", "DELETE", fmt("/1/tasks/%s", w.task[i]), NULL);
        reply_free(&r);
    }
    r = ok(&c, "deleteSource", "DELETE", fmt("/1/sources/%s", w.src[2]), NULL);
    reply_free(&r);
    r = ok(&c, "deleteDestination", "DELETE", fmt("/1/destinations/%s", w.dest[0]), NULL);
    reply_free(&r);
    r = ok(&c, "deleteAuthentication", "DELETE", fmt("/1/authentications/%s", w.auth[3]), NULL);
    reply_free(&r);

    int missing = 0;
    for (int i = 0; i < 33; i++)
        if (!covered[i]) {
            fprintf(stderr, "operation %d not covered\n", i);
            missing++;
        }
    assert_int_equal(missing, 0);
    assert_int_equal(op_index("getEvent"), 32);
    free_world(&w);
    client_stop(&c);
}

/* ---- refusals ---- */

static void test_credentials(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = {0};
    client_start(&c, &o, 5000); /* generated credentials */
    assert_true(mock_api_credentials_generated(mock_server_api(c.srv)));
    assert_int_equal(strlen(c.app), 10);
    const char *body = "{\"type\":\"apiKey\",\"name\":\"k\",\"input\":{\"key\":\"K\"}}";
    struct {
        const char *app, *key;
        bool creds;
    } cases[] = {{NULL, NULL, false}, {"WRONG", NULL, true}, {NULL, "wrong", true}, {"", "", true}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct reply r = client_call_ex(&c, "POST", "/1/authentications", body, strlen(body), NULL,
                                        cases[i].app, cases[i].key, cases[i].creds);
        assert_int_equal(r.status, 403);
        assert_string_equal(r.body, "{\"message\":\"Invalid Application-Id or API-Key\"}");
        assert_string_equal(r.ctype, "application/json");
        reply_free(&r);
        r = client_call_ex(&c, "GET", "/1/nothing/here", NULL, 0, NULL, cases[i].app, cases[i].key,
                           cases[i].creds);
        assert_int_equal(r.status, 403);
        reply_free(&r);
    }
    struct mock_counts n;
    mock_api_counts(mock_server_api(c.srv), &n);
    assert_int_equal(n.authentications, 0); /* nothing changed */
    struct reply r = ok(&c, "getAuthentications", "GET", "/1/authentications", NULL);
    assert_int_equal(list_count(&r, "authentications"), 0);
    reply_free(&r);
    client_stop(&c);
}

static void test_unknown_ids(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(2);
    client_start(&c, &o, 5000);
    const char *id = "6c02aeb1-775e-418e-870b-1faccd4b2c0f";
    struct {
        const char *op, *method, *path, *body;
    } cases[] = {
        {"getAuthentication", "GET", "/1/authentications/%s", NULL},
        {"updateAuthentication", "PATCH", "/1/authentications/%s", "{\"name\":\"x\"}"},
        {"deleteAuthentication", "DELETE", "/1/authentications/%s", NULL},
        {"getDestination", "GET", "/1/destinations/%s", NULL},
        {"updateDestination", "PATCH", "/1/destinations/%s", "{\"name\":\"x\"}"},
        {"deleteDestination", "DELETE", "/1/destinations/%s", NULL},
        {"getSource", "GET", "/1/sources/%s", NULL},
        {"updateSource", "PATCH", "/1/sources/%s", "{\"name\":\"x\"}"},
        {"deleteSource", "DELETE", "/1/sources/%s", NULL},
        {"getDockerSourceStreams", "GET", "/1/sources/%s/discover", NULL},
        {"triggerDockerSourceDiscover", "POST", "/1/sources/%s/discover", NULL},
        {"getTask", "GET", "/1/tasks/%s", NULL},
        {"updateTask", "PATCH", "/1/tasks/%s", "{\"enabled\":true}"},
        {"deleteTask", "DELETE", "/1/tasks/%s", NULL},
        {"runTask", "POST", "/1/tasks/%s/run", NULL},
        {"enableTask", "PUT", "/1/tasks/%s/enable", NULL},
        {"disableTask", "PUT", "/1/tasks/%s/disable", NULL},
        {"getRun", "GET", "/1/runs/%s", NULL},
        {"getEvents", "GET", "/1/runs/%s/events", NULL},
        {"getEvent", "GET", "/1/runs/%s/events/x", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Each template has exactly one %s: substitute by hand. */
        char path[256];
        const char *at = strstr(cases[i].path, "%s");
        snprintf(path, sizeof(path), "%.*s%s%s", (int)(at - cases[i].path), cases[i].path, id,
                 at + 2);
        refused(&c, cases[i].op, cases[i].method, path, cases[i].body, 404, id);
    }
    /* An unknown event of a known run. */
    struct world w;
    build_world(&c, &w);
    struct reply r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[0]), NULL);
    char *run = field(&r, "runID");
    reply_free(&r);
    refused(&c, "getEvent", "GET", fmt("/1/runs/%s/events/%s", run, id), NULL, 404, "event");
    free(run);
    /* Unknown paths and methods. */
    refused(&c, "getTasks", "GET", "/1/nothing", NULL, 404, NULL);
    refused(&c, "getTasks", "DELETE", "/1/tasks", NULL, 405, NULL);
    free_world(&w);
    client_stop(&c);
}

static void test_referential(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(3);
    client_start(&c, &o, 5000);
    struct world w;
    build_world(&c, &w);
    const char *ghost = "00000000-0000-4000-8000-000000000001";
    refused(&c, "createSource", "POST", "/1/sources",
            fmt("{\"type\":\"json\",\"name\":\"s\",\"input\":{\"url\":\"u\"},"
                "\"authenticationID\":\"%s\"}",
                ghost),
            400, "authenticationID");
    refused(&c, "createDestination", "POST", "/1/destinations",
            fmt("{\"type\":\"search\",\"name\":\"d\",\"input\":{\"indexName\":\"i\"},"
                "\"authenticationID\":\"%s\"}",
                ghost),
            400, ghost);
    refused(&c, "updateSource", "PATCH", fmt("/1/sources/%s", w.src[0]),
            fmt("{\"authenticationID\":\"%s\"}", ghost), 400, ghost);
    refused(&c, "updateDestination", "PATCH", fmt("/1/destinations/%s", w.dest[0]),
            fmt("{\"authenticationID\":\"%s\"}", ghost), 400, ghost);
    refused(&c, "createTask", "POST", "/1/tasks",
            fmt("{\"sourceID\":\"%s\",\"destinationID\":\"%s\",\"trigger\":{\"type\":"
                "\"onDemand\"},\"action\":\"save\"}",
                ghost, w.dest[0]),
            400, "sourceID");
    refused(&c, "createTask", "POST", "/1/tasks",
            fmt("{\"sourceID\":\"%s\",\"destinationID\":\"%s\",\"trigger\":{\"type\":"
                "\"onDemand\"},\"action\":\"save\"}",
                w.src[0], ghost),
            400, "destinationID");
    refused(&c, "updateTask", "PATCH", fmt("/1/tasks/%s", w.task[0]),
            fmt("{\"destinationID\":\"%s\"}", ghost), 400, ghost);
    /* Deleting what is used: the message names a user. */
    refused(&c, "deleteAuthentication", "DELETE", fmt("/1/authentications/%s", w.auth[3]), NULL,
            400, w.src[2]);
    refused(&c, "deleteAuthentication", "DELETE", fmt("/1/authentications/%s", w.auth[4]), NULL,
            400, w.dest[0]);
    refused(&c, "deleteSource", "DELETE", fmt("/1/sources/%s", w.src[0]), NULL, 400, w.task[0]);
    refused(&c, "deleteDestination", "DELETE", fmt("/1/destinations/%s", w.dest[0]), NULL, 400,
            "used by task");
    /* Moving the task away frees the source and destination. */
    struct reply r = ok(&c, "updateTask", "PATCH", fmt("/1/tasks/%s", w.task[1]),
                        fmt("{\"destinationID\":\"%s\"}", w.dest[1]));
    reply_free(&r);
    r = ok(&c, "deleteTask", "DELETE", fmt("/1/tasks/%s", w.task[0]), NULL);
    reply_free(&r);
    r = ok(&c, "deleteDestination", "DELETE", fmt("/1/destinations/%s", w.dest[0]), NULL);
    reply_free(&r);
    r = ok(&c, "deleteSource", "DELETE", fmt("/1/sources/%s", w.src[0]), NULL);
    reply_free(&r);
    r = ok(&c, "deleteAuthentication", "DELETE", fmt("/1/authentications/%s", w.auth[4]), NULL);
    reply_free(&r);
    refused(&c, "getSource", "GET", fmt("/1/sources/%s", w.src[0]), NULL, 404, NULL);
    free_world(&w);
    client_stop(&c);
}

static void test_bad_params(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(4);
    client_start(&c, &o, 5000);
    struct {
        const char *op, *path, *needle;
    } cases[] = {
        {"getTasks", "/1/tasks?itemsPerPage=0", "itemsPerPage: must be between 1 and 100"},
        {"getTasks", "/1/tasks?itemsPerPage=101", "itemsPerPage: must be between 1 and 100"},
        {"getTasks", "/1/tasks?itemsPerPage=abc", "itemsPerPage: expected integer"},
        {"getTasks", "/1/tasks?itemsPerPage=1.5", "itemsPerPage"},
        {"getTasks", "/1/tasks?page=0", "page:"},
        {"getTasks", "/1/tasks?sort=name", "sort:"},
        {"getTasks", "/1/tasks?order=up", "order:"},
        {"getTasks", "/1/tasks?enabled=maybe", "enabled: expected boolean"},
        {"getTasks", "/1/tasks?action=save,upsert", "action:"},
        {"getTasks", "/1/tasks?triggerType=cron", "triggerType:"},
        {"getAuthentications", "/1/authentications?type=password", "type:"},
        {"getAuthentications", "/1/authentications?platform=magento", "platform:"},
        {"getAuthentications", "/1/authentications?sort=type", "sort:"},
        {"getSources", "/1/sources?type=ftp", "type:"},
        {"getDestinations", "/1/destinations?type=index", "type:"},
        {"getRuns", "/1/runs?status=running", "status:"},
        {"getRuns", "/1/runs?startDate=yesterday", "startDate"},
        {"getRuns", "/1/runs?startDate=2024-02-01T00:00:00Z&endDate=2024-01-01T00:00:00Z",
         "startDate"},
        {"getRuns", "/1/runs?endDate=2024-13-01", "endDate"},
        {"getRuns", "/1/runs?sort=publishedAt", "sort:"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        refused(&c, cases[i].op, "GET", cases[i].path, NULL, 400, cases[i].needle);
    struct world w;
    build_world(&c, &w);
    struct reply r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[0]), NULL);
    char *run = field(&r, "runID");
    reply_free(&r);
    refused(&c, "getEvents", "GET", fmt("/1/runs/%s/events?type=push", run), NULL, 400, "type:");
    refused(&c, "getEvents", "GET", fmt("/1/runs/%s/events?status=ok", run), NULL, 400, "status:");
    refused(&c, "getEvents", "GET", fmt("/1/runs/%s/events?sort=createdAt", run), NULL, 400,
            "sort:");
    refused(&c, "getEvents", "GET", fmt("/1/runs/%s/events?itemsPerPage=500", run), NULL, 400,
            "itemsPerPage: must be between 1 and 100");
    free(run);
    free_world(&w);
    client_stop(&c);
}

/* NUL (\u0000) survives the store, and a %00 in an ID is part of the ID
 * (issue 12, D1); a malformed body is answered with the parser's reason
 * and position (U3). */
static void test_nul_and_json_errors(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(12);
    client_start(&c, &o, 5000);
    struct reply r = client_call(&c, "POST", "/1/authentications",
                                 "{\"type\":\"basic\",\"name\":\"a\\u0000b\",\"input\":"
                                 "{\"username\":\"u\",\"password\":\"p\"}}");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"name\":\"a\\u0000b\""));
    char *id = field(&r, "authenticationID");
    reply_free(&r);
    r = client_call(&c, "GET", fmt("/1/authentications/%s", id), NULL);
    assert_int_equal(r.status, 200);
    if (!strstr(r.body, "\"name\":\"a\\u0000b\""))
        fail_msg("the stored name came back as %s", r.body);
    reply_free(&r);
    /* Not the list, not the authentication of the ID after the NUL (the
     * client's cJSON cuts the message at \u0000: the raw body is checked). */
    refused(&c, "getAuthentication", "GET", "/1/authentications/%00abc", NULL, 404,
            "authentication '");
    refused(&c, "getAuthentication", "GET", fmt("/1/authentications/%%00%s", id), NULL, 404,
            "authentication '");
    r = client_call(&c, "GET", "/1/authentications/%00abc", NULL);
    assert_non_null(strstr(r.body, "authentication '\\u0000abc' does not exist"));
    reply_free(&r);
    free(id);
    refused(&c, "createSource", "POST", "/1/sources", "{\"type\":\"json\",\n\"type\":\"json\"}",
            400, "body: not valid JSON at line 2, column 1: duplicate member name \"type\"");
    refused(&c, "createSource", "POST", "/1/sources", "{\"type\":1e999999}", 400,
            "body: not valid JSON at line 1, column 9: the number at /type is beyond the range");
    refused(&c, "createSource", "POST", "/1/sources", "{\"type\":\"js\ton\"}", 400,
            "body: not valid JSON at line 1, column 12: raw control character U+0009");
    client_stop(&c);
}

static void test_bad_body(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(5);
    client_start(&c, &o, 5000);
    refused(&c, "createSource", "POST", "/1/sources",
            "{\"type\":\"json\",\"name\":\"x\",\"input\":{\"url\":5}}", 400,
            "body /input/url: expected string, got integer");
    refused(&c, "createSource", "POST", "/1/sources", "{\"type\":\"json\",\"input\":{}}", 400,
            "body");
    refused(&c, "createSource", "POST", "/1/sources", "{\"type\":\"json\",", 400, "not valid JSON");
    refused(&c, "createSource", "POST", "/1/sources", "[1,2]", 400, "body");
    refused(&c, "createTask", "POST", "/1/tasks", "{}", 400, "body");
    refused(&c, "createAuthentication", "POST", "/1/authentications",
            "{\"type\":\"basic\",\"name\":\"b\",\"input\":{\"username\":\"u\"}}", 400, "password");
    refused(&c, "createAuthentication", "POST", "/1/authentications",
            "{\"type\":\"basic\",\"name\":\"b\",\"input\":{\"username\":\"u\",\"password\":"
            "\"p\"},\"extra\":1}",
            400, "extra");
    refused(&c, "searchTasks", "POST", "/1/tasks/search", "{\"taskIDs\":\"x\"}", 400,
            "body /taskIDs");
    /* text/plain or no Content-Type: read as JSON, as the API does for
     * Algolia's clients (400 when it does not parse); another type: 400;
     * no body. */
    const char *body = "{\"taskIDs\":[]}";
    struct reply r = client_call_ex(&c, "POST", "/1/tasks/search", body, strlen(body), "text/plain",
                                    NULL, NULL, true);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = client_call_ex(&c, "POST", "/1/tasks/search", "taskIDs=x", 9, "text/plain", NULL, NULL,
                       true);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "not valid JSON"));
    reply_free(&r);
    /* Without a Content-Type of ours libcurl sends
     * application/x-www-form-urlencoded (no header at all: test_mock_vary). */
    r = client_call_ex(&c, "POST", "/1/tasks/search", body, strlen(body), "", NULL, NULL, true);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "Content-Type"));
    reply_free(&r);
    r = client_call_ex(&c, "POST", "/1/tasks/search", body, strlen(body),
                       "application/json; charset=utf-8", NULL, NULL, true);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = client_call(&c, "POST", "/1/tasks/search", NULL);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "required"));
    reply_free(&r);
    /* A cron that never fires or does not parse. */
    struct world w;
    build_world(&c, &w);
    refused(&c, "createTask", "POST", "/1/tasks",
            fmt("{\"sourceID\":\"%s\",\"destinationID\":\"%s\",\"trigger\":{\"type\":"
                "\"schedule\",\"cron\":\"61 * * * *\"},\"action\":\"save\"}",
                w.src[0], w.dest[0]),
            400, "trigger.cron");
    refused(&c, "updateTask", "PATCH", fmt("/1/tasks/%s", w.task[1]),
            "{\"trigger\":{\"cron\":\"0 0 30 2 *\"}}", 400, "trigger.cron");
    /* cron on a task that has no schedule: the updated task would be invalid. */
    refused(&c, "updateTask", "PATCH", fmt("/1/tasks/%s", w.task[0]),
            "{\"trigger\":{\"cron\":\"0 * * * *\"}}", 400, "updated task");
    /* Changing an authentication's type without the new credentials. */
    refused(&c, "updateAuthentication", "PATCH", fmt("/1/authentications/%s", w.auth[1]),
            "{\"type\":\"oauth\"}", 400, "updated authentication");
    free_world(&w);
    client_stop(&c);
}

static void test_body_cap(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(6);
    o.max_body = 1000;
    client_start(&c, &o, 5000);
    char *big = malloc(5001);
    memset(big, ' ', 5000);
    memcpy(big, "{\"taskIDs\":[]}", 14);
    big[5000] = '\0';
    struct reply r = client_call(&c, "POST", "/1/tasks/search", big);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "larger than 1000 bytes"));
    reply_free(&r);
    /* Chunked upload: the size is known only while reading. */
    struct http_request req;
    struct http_response resp;
    struct util_error err;
    http_request_init(&req);
    http_response_init(&resp);
    http_request_set(&req, "POST", fmt("%s/1/tasks/search", c.base));
    http_headers_add(&req.headers, "x-algolia-application-id", c.app);
    http_headers_add(&req.headers, "x-algolia-api-key", c.key);
    http_headers_add(&req.headers, "Content-Type", "application/json");
    http_headers_add(&req.headers, "Transfer-Encoding", "chunked");
    http_request_set_body(&req, big, 5000);
    assert_int_equal(http_send(c.t, &req, &resp, &err), 0);
    assert_int_equal(resp.status, 413);
    http_request_finish(&req);
    http_response_finish(&resp);
    /* Just under the cap is fine. */
    big[999] = '\0';
    r = client_call(&c, "POST", "/1/tasks/search", big);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    free(big);
    /* Oversized headers (past the connection memory limit) are refused by
     * the server without harm. */
    char *hdr = malloc(15001);
    memset(hdr, 'a', 15000);
    hdr[15000] = '\0';
    http_request_init(&req);
    http_request_set(&req, "GET", fmt("%s/1/tasks", c.base));
    http_headers_add(&req.headers, "x-algolia-application-id", c.app);
    http_headers_add(&req.headers, "x-algolia-api-key", c.key);
    for (int i = 0; i < 6; i++)
        http_headers_add(&req.headers, fmt("x-padding-%d", i), hdr);
    assert_int_equal(http_send(c.t, &req, &resp, &err), 0);
    assert_true(resp.failure != HTTP_ERR_NONE || resp.status == 431 || resp.status == 413);
    http_request_finish(&req);
    http_response_finish(&resp);
    free(hdr);
    r = ok(&c, "getTasks", "GET", "/1/tasks", NULL); /* still serving */
    reply_free(&r);
    client_stop(&c);
}

/* ---- listing: pagination, sorts, filters ---- */

static void test_pagination(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(7);
    o.preload_tasks = 25;
    client_start(&c, &o, 5000);
    struct reply r = ok(&c, "getTasks", "GET", "/1/tasks?itemsPerPage=10&page=3", NULL);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(r.json, "pagination");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "nbPages")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "nbItems")->valueint, 25);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "page")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "itemsPerPage")->valueint, 10);
    assert_int_equal(list_count(&r, "tasks"), 5);
    reply_free(&r);
    r = ok(&c, "getTasks", "GET", "/1/tasks?page=9", NULL);
    assert_int_equal(list_count(&r, "tasks"), 0);
    reply_free(&r);
    r = ok(&c, "getTasks", "GET", "/1/tasks", NULL);
    assert_int_equal(list_count(&r, "tasks"), 10); /* default itemsPerPage */
    reply_free(&r);
    /* Pages tile the whole list without overlap. */
    char seen[25][40];
    int n = 0;
    for (int page = 1; page <= 5; page++) {
        r = ok(&c, "getTasks", "GET", fmt("/1/tasks?itemsPerPage=6&page=%d&sort=action", page),
               NULL);
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(r.json, "tasks"))
        {
            const char *id = cJSON_GetObjectItemCaseSensitive(t, "taskID")->valuestring;
            for (int k = 0; k < n; k++)
                assert_string_not_equal(seen[k], id);
            snprintf(seen[n++], sizeof(seen[0]), "%s", id);
        }
        reply_free(&r);
    }
    assert_int_equal(n, 25);
    /* Empty lists still have nbPages >= 1. */
    r = ok(&c, "getRuns", "GET", "/1/runs", NULL);
    p = cJSON_GetObjectItemCaseSensitive(r.json, "pagination");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "nbPages")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "nbItems")->valueint, 0);
    reply_free(&r);
    client_stop(&c);
}

/* The comparable text of an item's sort field (booleans and numbers too). */
static void key_text(const cJSON *item, const char *fieldname, char *out, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, fieldname);
    if (cJSON_IsString(v))
        snprintf(out, n, "s%s", v->valuestring);
    else if (cJSON_IsBool(v))
        snprintf(out, n, "s%d", cJSON_IsTrue(v));
    else
        snprintf(out, n, "%s", ""); /* null sorts first */
}

/* Lists with sort=key in both orders: asc is non-decreasing with ties in
 * creation order, desc is its exact reverse. */
static void check_sort(struct client *c, const char *op, const char *path, const char *listkey,
                       const char *key, const char *fieldname, const char *idkey)
{
    const char *sep = strchr(path, '?') ? "&" : "?";
    struct reply asc =
        ok(c, op, "GET", fmt("%s%ssort=%s&order=asc&itemsPerPage=100", path, sep, key), NULL);
    struct reply desc =
        ok(c, op, "GET", fmt("%s%ssort=%s&order=desc&itemsPerPage=100", path, sep, key), NULL);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(asc.json, listkey);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(desc.json, listkey);
    int n = cJSON_GetArraySize(a);
    assert_int_equal(n, cJSON_GetArraySize(d));
    assert_true(n >= 2);
    char prev[256] = "", cur[256];
    bool distinct = false;
    for (int i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(a, i);
        key_text(it, fieldname, cur, sizeof(cur));
        if (i && strcmp(prev, cur) > 0)
            fail_msg("%s sort=%s: %s after %s", op, key, cur, prev);
        if (i && strcmp(prev, cur) != 0)
            distinct = true;
        snprintf(prev, sizeof(prev), "%s", cur);
        const cJSON *mirror = cJSON_GetArrayItem(d, n - 1 - i);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(it, idkey)->valuestring,
                            cJSON_GetObjectItemCaseSensitive(mirror, idkey)->valuestring);
    }
    assert_true(distinct);
    reply_free(&asc);
    reply_free(&desc);
}

static void test_sorts(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(8);
    o.preload_tasks = 40;
    client_start(&c, &o, 5000);
    struct world w;
    build_world(&c, &w);
    /* Make updatedAt differ from createdAt order. */
    struct reply r = ok(&c, "updateAuthentication", "PATCH",
                        fmt("/1/authentications/%s", w.auth[0]), "{\"name\":\"zzz\"}");
    reply_free(&r);
    r = ok(&c, "updateSource", "PATCH", fmt("/1/sources/%s", w.src[0]), "{\"name\":\"a\"}");
    reply_free(&r);
    r = ok(&c, "updateDestination", "PATCH", fmt("/1/destinations/%s", w.dest[0]),
           "{\"name\":\"a\"}");
    reply_free(&r);
    r = ok(&c, "disableTask", "PUT", fmt("/1/tasks/%s/disable", w.task[0]), NULL);
    reply_free(&r);
    const char *auth_keys[][2] = {{"name", "name"},
                                  {"auth_type", "type"},
                                  {"platform", "platform"},
                                  {"updatedAt", "updatedAt"},
                                  {"createdAt", "createdAt"}};
    for (size_t i = 0; i < 5; i++)
        check_sort(&c, "getAuthentications", "/1/authentications", "authentications",
                   auth_keys[i][0], auth_keys[i][1], "authenticationID");
    const char *sd_keys[] = {"name", "type", "updatedAt", "createdAt"};
    for (size_t i = 0; i < 4; i++) {
        check_sort(&c, "getSources", "/1/sources", "sources", sd_keys[i], sd_keys[i], "sourceID");
        check_sort(&c, "getDestinations", "/1/destinations", "destinations", sd_keys[i], sd_keys[i],
                   "destinationID");
    }
    const char *task_keys[][2] = {{"enabled", "enabled"},
                                  {"triggerType", NULL},
                                  {"action", "action"},
                                  {"updatedAt", "updatedAt"},
                                  {"createdAt", "createdAt"}};
    for (size_t i = 0; i < 5; i++) {
        if (!task_keys[i][1]) {
            /* triggerType sits in trigger.type: check order by hand. */
            struct reply a = ok(&c, "getTasks", "GET",
                                "/1/tasks?sort=triggerType&order=asc&itemsPerPage=100", NULL);
            char prev[64] = "";
            const cJSON *t;
            cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(a.json, "tasks"))
            {
                const char *tt = cJSON_GetObjectItemCaseSensitive(
                                     cJSON_GetObjectItemCaseSensitive(t, "trigger"), "type")
                                     ->valuestring;
                assert_true(strcmp(prev, tt) <= 0);
                snprintf(prev, sizeof(prev), "%s", tt);
            }
            reply_free(&a);
            continue;
        }
        check_sort(&c, "getTasks", "/1/tasks", "tasks", task_keys[i][0], task_keys[i][1], "taskID");
    }
    /* Runs and events. */
    char *runs[3];
    for (int i = 0; i < 3; i++) {
        r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[i]), NULL);
        runs[i] = field(&r, "runID");
        reply_free(&r);
    }
    wait_finished(&c, runs[0]);
    wait_finished(&c, runs[1]);
    wait_finished(&c, runs[2]);
    /* A fourth run, "started" while the checks below run (its status holds
     * from the second to the eighth request after it). */
    r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[3]), NULL);
    reply_free(&r);
    r = ok(&c, "getTasks", "GET", "/1/tasks", NULL);
    reply_free(&r);
    check_sort(&c, "getRuns", "/1/runs", "runs", "status", "status", "runID");
    check_sort(&c, "getRuns", "/1/runs", "runs", "createdAt", "createdAt", "runID");
    check_sort(&c, "getRuns", "/1/runs", "runs", "updatedAt", "createdAt", "runID");
    const char *ev_path = fmt("/1/runs/%s/events", runs[0]);
    char path[256];
    snprintf(path, sizeof(path), "%s", ev_path);
    check_sort(&c, "getEvents", path, "events", "type", "type", "eventID");
    check_sort(&c, "getEvents", path, "events", "publishedAt", "publishedAt", "eventID");
    /* All events succeed: status ties keep creation order. */
    struct reply a = ok(&c, "getEvents", "GET", fmt("%s?sort=status&order=asc", path), NULL);
    struct reply p = ok(&c, "getEvents", "GET", fmt("%s?sort=publishedAt&order=asc", path), NULL);
    assert_true(json_equal(cJSON_GetObjectItemCaseSensitive(a.json, "events"),
                           cJSON_GetObjectItemCaseSensitive(p.json, "events")));
    reply_free(&a);
    reply_free(&p);
    for (int i = 0; i < 3; i++)
        free(runs[i]);
    free_world(&w);
    client_stop(&c);
}

/* IDs of a list answer. */
static int ids(const struct reply *r, const char *listkey, const char *idkey, char out[][40],
               int max)
{
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->json, listkey))
    {
        if (n < max)
            snprintf(out[n], 40, "%s", cJSON_GetObjectItemCaseSensitive(it, idkey)->valuestring);
        n++;
    }
    return n;
}

static int count(struct client *c, const char *op, const char *path, const char *listkey)
{
    struct reply r = ok(c, op, "GET", path, NULL);
    int n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r.json, "pagination"),
                                             "nbItems")
                ->valueint;
    assert_int_equal(n > 100 ? 100 : n, list_count(&r, listkey) < n ? n : list_count(&r, listkey));
    reply_free(&r);
    return n;
}

static void test_filters(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(9);
    client_start(&c, &o, 5000);
    struct world w;
    build_world(&c, &w);
    /* authentications: type, platform with none */
    assert_int_equal(
        count(&c, "getAuthentications", "/1/authentications?type=basic,oauth", "authentications"),
        2);
    assert_int_equal(
        count(&c, "getAuthentications", "/1/authentications?type=basic%2Coauth", "authentications"),
        2);
    assert_int_equal(count(&c, "getAuthentications", "/1/authentications?platform=commercetools",
                           "authentications"),
                     1);
    assert_int_equal(
        count(&c, "getAuthentications", "/1/authentications?platform=none", "authentications"), 4);
    assert_int_equal(count(&c, "getAuthentications",
                           "/1/authentications?platform=commercetools,none&type=oauth,basic",
                           "authentications"),
                     2);
    assert_int_equal(count(&c, "getAuthentications", "/1/authentications?platform=bigcommerce",
                           "authentications"),
                     0);
    /* sources: type, authenticationID with none */
    assert_int_equal(count(&c, "getSources", "/1/sources?type=json,csv", "sources"), 2);
    assert_int_equal(
        count(&c, "getSources", fmt("/1/sources?authenticationID=%s", w.auth[3]), "sources"), 1);
    assert_int_equal(count(&c, "getSources", "/1/sources?authenticationID=none", "sources"), 7);
    assert_int_equal(count(&c, "getSources",
                           fmt("/1/sources?authenticationID=%s,none&type=commercetools", w.auth[3]),
                           "sources"),
                     1);
    /* destinations: type, authenticationID */
    assert_int_equal(count(&c, "getDestinations", "/1/destinations?type=insights", "destinations"),
                     1);
    assert_int_equal(count(&c, "getDestinations",
                           fmt("/1/destinations?authenticationID=%s", w.auth[4]), "destinations"),
                     1);
    assert_int_equal(
        count(&c, "getDestinations", "/1/destinations?authenticationID=none", "destinations"), 1);
    /* tasks: action, enabled, sourceID, destinationID, triggerType */
    assert_int_equal(count(&c, "getTasks", "/1/tasks?action=replace,append", "tasks"), 2);
    assert_int_equal(count(&c, "getTasks", "/1/tasks?enabled=false", "tasks"), 1);
    assert_int_equal(count(&c, "getTasks", "/1/tasks?enabled=true", "tasks"), 3);
    assert_int_equal(
        count(&c, "getTasks", fmt("/1/tasks?sourceID=%s,%s", w.src[0], w.src[2]), "tasks"), 2);
    assert_int_equal(count(&c, "getTasks", fmt("/1/tasks?destinationID=%s", w.dest[1]), "tasks"),
                     2);
    assert_int_equal(count(&c, "getTasks", "/1/tasks?triggerType=schedule,streaming", "tasks"), 2);
    assert_int_equal(
        count(&c, "getTasks",
              fmt("/1/tasks?triggerType=onDemand&destinationID=%s&enabled=true", w.dest[0]),
              "tasks"),
        1);
    /* runs: status (both serialisations), taskID, window */
    char *run[2];
    for (int i = 0; i < 2; i++) {
        struct reply r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[i]), NULL);
        run[i] = field(&r, "runID");
        reply_free(&r);
    }
    wait_finished(&c, run[0]);
    wait_finished(&c, run[1]);
    struct reply r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[2]), NULL);
    reply_free(&r);
    /* The third run is "created" for one request, then "started". */
    assert_int_equal(count(&c, "getRuns", "/1/runs?status=created,finished", "runs"), 3);
    assert_int_equal(count(&c, "getRuns", "/1/runs?status=started&status=finished", "runs"), 3);
    assert_int_equal(count(&c, "getRuns", "/1/runs?status=finished", "runs"), 2);
    assert_int_equal(count(&c, "getRuns", "/1/runs?status=started", "runs"), 1);
    assert_int_equal(count(&c, "getRuns", "/1/runs?status=created", "runs"), 0);
    assert_int_equal(count(&c, "getRuns", fmt("/1/runs?taskID=%s", w.task[1]), "runs"), 1);
    assert_int_equal(
        count(&c, "getRuns", "/1/runs?startDate=2024-04-18T00:00:00Z&endDate=2024-04-19", "runs"),
        0);
    assert_int_equal(count(&c, "getRuns", "/1/runs?endDate=2024-04-16T00:00:00Z", "runs"), 0);
    assert_int_equal(
        count(&c, "getRuns",
              "/1/runs?startDate=2024-04-16T00:00:00Z&endDate=2024-04-18T00:00:00%2B02:00", "runs"),
        3);
    r = ok(&c, "getRuns", "GET", "/1/runs", NULL);
    const cJSON *win = cJSON_GetObjectItemCaseSensitive(r.json, "window");
    const char *sd = cJSON_GetObjectItemCaseSensitive(win, "startDate")->valuestring;
    assert_true(strncmp(sd, "2024-04-10T00:", 14) == 0); /* now minus seven days */
    reply_free(&r);
    r = ok(&c, "getRuns", "GET", "/1/runs?startDate=2024-04-01&endDate=2024-04-20", NULL);
    win = cJSON_GetObjectItemCaseSensitive(r.json, "window");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(win, "startDate")->valuestring,
                        "2024-04-01T00:00:00Z");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(win, "endDate")->valuestring,
                        "2024-04-20T00:00:00Z");
    reply_free(&r);
    /* events: status, type (both serialisations), window */
    const char *ep = fmt("/1/runs/%s/events", run[0]);
    char path[256];
    snprintf(path, sizeof(path), "%s", ep);
    assert_int_equal(count(&c, "getEvents", fmt("%s?type=fetch,log", path), "events"), 2);
    assert_int_equal(count(&c, "getEvents", fmt("%s?type=fetch&type=record", path), "events"), 2);
    assert_int_equal(count(&c, "getEvents", fmt("%s?status=succeeded", path), "events"), 4);
    assert_int_equal(count(&c, "getEvents", fmt("%s?status=failed,critical", path), "events"), 0);
    assert_int_equal(count(&c, "getEvents", fmt("%s?endDate=2024-04-16T00:00:00Z", path), "events"),
                     0);
    r = ok(&c, "getEvents", "GET", path, NULL);
    win = cJSON_GetObjectItemCaseSensitive(r.json, "window");
    sd = cJSON_GetObjectItemCaseSensitive(win, "startDate")->valuestring;
    assert_true(strncmp(sd, "2024-04-16T21:", 14) == 0); /* now minus three hours */
    reply_free(&r);
    char seen[4][40];
    r = ok(&c, "getEvents", "GET", fmt("%s?itemsPerPage=2&page=2&order=asc", path), NULL);
    assert_int_equal(ids(&r, "events", "eventID", seen, 4), 2);
    reply_free(&r);
    free(run[0]);
    free(run[1]);
    free_world(&w);
    client_stop(&c);
}

/* ---- behaviour ---- */

static void test_patch_and_toggles(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(10);
    client_start(&c, &o, 5000);
    struct world w;
    build_world(&c, &w);
    struct reply before = ok(&c, "getTask", "GET", fmt("/1/tasks/%s", w.task[1]), NULL);
    struct reply r =
        ok(&c, "updateTask", "PATCH", fmt("/1/tasks/%s", w.task[1]), "{\"failureThreshold\":42}");
    char *updated = field(&r, "updatedAt");
    reply_free(&r);
    struct reply after = ok(&c, "getTask", "GET", fmt("/1/tasks/%s", w.task[1]), NULL);
    char *created_before = field(&before, "createdAt");
    char *updated_before = field(&before, "updatedAt");
    char *created_after = field(&after, "createdAt");
    char *updated_after = field(&after, "updatedAt");
    assert_string_equal(created_before, created_after);
    assert_true(strcmp(updated_after, updated_before) > 0);
    assert_string_equal(updated, updated_after);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(after.json, "failureThreshold")->valueint,
                     42);
    /* Everything not sent is unchanged. */
    static const char *const same[] = {"sourceID", "destinationID", "trigger",
                                       "input",    "enabled",       "action"};
    for (size_t i = 0; i < 6; i++)
        assert_true(json_equal(cJSON_GetObjectItemCaseSensitive(before.json, same[i]),
                               cJSON_GetObjectItemCaseSensitive(after.json, same[i])));
    free(created_before);
    free(updated_before);
    free(created_after);
    free(updated_after);
    free(updated);
    reply_free(&before);
    reply_free(&after);
    /* enable and disable flip enabled. */
    r = ok(&c, "enableTask", "PUT", fmt("/1/tasks/%s/enable", w.task[1]), NULL);
    reply_free(&r);
    r = ok(&c, "getTask", "GET", fmt("/1/tasks/%s", w.task[1]), NULL);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.json, "enabled")));
    reply_free(&r);
    r = ok(&c, "disableTask", "PUT", fmt("/1/tasks/%s/disable", w.task[1]), NULL);
    reply_free(&r);
    r = ok(&c, "getTask", "GET", fmt("/1/tasks/%s", w.task[1]), NULL);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r.json, "enabled")));
    const cJSON *trig = cJSON_GetObjectItemCaseSensitive(r.json, "trigger");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(trig, "cron")->valuestring, "0 * * * *");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(trig, "nextRun"));
    reply_free(&r);
    /* A partial authentication input keeps the secret it does not send. */
    r = ok(&c, "updateAuthentication", "PATCH", fmt("/1/authentications/%s", w.auth[1]),
           "{\"input\":{\"username\":\"v\"}}");
    reply_free(&r);
    r = ok(&c, "getAuthentication", "GET", fmt("/1/authentications/%s", w.auth[1]), NULL);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(r.json, "input"), "username")
                            ->valuestring,
                        "v");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.json, "name")->valuestring, "basic");
    reply_free(&r);
    /* The type can change when the new credentials come with it. */
    r = ok(&c, "updateAuthentication", "PATCH", fmt("/1/authentications/%s", w.auth[1]),
           "{\"type\":\"apiKey\",\"input\":{\"key\":\"new\"},\"platform\":\"bigcommerce\"}");
    reply_free(&r);
    r = ok(&c, "getAuthentication", "GET", fmt("/1/authentications/%s", w.auth[1]), NULL);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.json, "type")->valuestring, "apiKey");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.json, "platform")->valuestring,
                        "bigcommerce");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "input")), 0);
    reply_free(&r);
    /* runTask records lastRun on the trigger. */
    r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[0]), NULL);
    char *run_created = field(&r, "createdAt");
    reply_free(&r);
    r = ok(&c, "getTask", "GET", fmt("/1/tasks/%s", w.task[0]), NULL);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(r.json, "trigger"), "lastRun")
                            ->valuestring,
                        run_created);
    free(run_created);
    reply_free(&r);
    free_world(&w);
    client_stop(&c);
}

static void test_run_progression(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(11);
    client_start(&c, &o, 5000);
    struct world w;
    build_world(&c, &w);
    struct reply r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[0]), NULL);
    char *run = field(&r, "runID");
    reply_free(&r);
    const char *seen[12];
    int n = 0;
    for (int i = 0; i < 12; i++) {
        r = ok(&c, "getRun", "GET", fmt("/1/runs/%s", run), NULL);
        const char *st = cJSON_GetObjectItemCaseSensitive(r.json, "status")->valuestring;
        if (!n || strcmp(seen[n - 1], st) != 0)
            seen[n++] = strcmp(st, "started") == 0    ? "started"
                        : strcmp(st, "finished") == 0 ? "finished"
                                                      : "created";
        if (strcmp(st, "finished") == 0) {
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.json, "outcome")->valuestring,
                                "success");
            assert_non_null(cJSON_GetObjectItemCaseSensitive(r.json, "finishedAt"));
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.json, "appID")->valuestring,
                                "TESTAPP");
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.json, "type")->valuestring,
                                "reindex");
        }
        reply_free(&r);
    }
    assert_int_equal(n, 3);
    assert_string_equal(seen[0], "created");
    assert_string_equal(seen[1], "started");
    assert_string_equal(seen[2], "finished");
    /* Right after runTask the run is still "created". */
    r = ok(&c, "runTask", "POST", fmt("/1/tasks/%s/run", w.task[1]), NULL);
    char *run2 = field(&r, "runID");
    reply_free(&r);
    r = ok(&c, "getRuns", "GET", fmt("/1/runs?taskID=%s&status=created,started", w.task[1]), NULL);
    assert_int_equal(list_count(&r, "runs"), 1);
    reply_free(&r);
    r = ok(&c, "getRun", "GET", fmt("/1/runs/%s", run2), NULL);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(r.json, "type")->valuestring, "update");
    reply_free(&r);
    free(run);
    free(run2);
    free_world(&w);
    client_stop(&c);
}

static void test_docker_rules(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(12);
    client_start(&c, &o, 5000);
    struct world w;
    build_world(&c, &w);
    refused(&c, "getDockerSourceStreams", "GET", fmt("/1/sources/%s/discover", w.src[0]), NULL, 400,
            "type: docker and imageType: singer");
    refused(&c, "triggerDockerSourceDiscover", "POST", fmt("/1/sources/%s/discover", w.src[0]),
            NULL, 400, "singer");
    char *airbyte = create(&c, "createSource", "/1/sources",
                           "{\"type\":\"docker\",\"name\":\"ab\",\"input\":{\"registry\":\"ghcr\","
                           "\"image\":\"a/b\",\"imageType\":\"airbyte\",\"configuration\":{}}}",
                           "sourceID");
    refused(&c, "getDockerSourceStreams", "GET", fmt("/1/sources/%s/discover", airbyte), NULL, 400,
            "airbyte");
    refused(&c, "triggerDockerSourceDiscover", "POST", fmt("/1/sources/%s/discover", airbyte), NULL,
            400, "singer");
    free(airbyte);
    free_world(&w);
    client_stop(&c);
}

/* ---- determinism ---- */

static char *transcript(uint64_t seed)
{
    struct client c;
    struct mock_options o = seeded(seed);
    o.app_id = NULL;
    o.api_key = NULL; /* generated from the seed too */
    client_start(&c, &o, 5000);
    struct world w;
    build_world(&c, &w);
    size_t cap = 1 << 20, len = 0;
    char *out = calloc(1, cap);
    const char *paths[][3] = {
        {"GET", "/1/tasks?itemsPerPage=100", NULL},
        {"GET", "/1/authentications?sort=name", NULL},
        {"GET", "/1/sources?itemsPerPage=100", NULL},
        {"GET", "/1/destinations", NULL},
    };
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < 4; i++) {
            struct reply r = client_call(&c, paths[i][0], paths[i][1], NULL);
            len += (size_t)snprintf(out + len, cap - len, "%d %s\n", r.status, r.body);
            reply_free(&r);
        }
        struct reply r = client_call(&c, "POST", fmt("/1/tasks/%s/run", w.task[0]), NULL);
        len += (size_t)snprintf(out + len, cap - len, "%d %s\n", r.status, r.body);
        reply_free(&r);
        r = client_call(&c, "GET", "/1/runs", NULL);
        len += (size_t)snprintf(out + len, cap - len, "%d %s\n", r.status, r.body);
        reply_free(&r);
    }
    struct reply r = client_call(&c, "GET", "/1/runs?status=finished", NULL);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(r.json, "runs");
    const char *rid =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(runs, 0), "runID")->valuestring;
    struct reply e = client_call(&c, "GET", fmt("/1/runs/%s/events", rid), NULL);
    len += (size_t)snprintf(out + len, cap - len, "%d %s\n%d %s\n", r.status, r.body, e.status,
                            e.body);
    reply_free(&e);
    reply_free(&r);
    len += (size_t)snprintf(out + len, cap - len, "%s %s\n", c.app, c.key);
    free_world(&w);
    client_stop(&c);
    return out;
}

static void test_determinism(void **state)
{
    (void)state;
    char *a = transcript(42), *b = transcript(42), *d = transcript(43);
    assert_true(strlen(a) > 1000);
    assert_string_equal(a, b);
    assert_string_not_equal(a, d);
    free(a);
    free(b);
    free(d);
}

/* ---- planted faults ---- */

/* --latency: every answer waits, through the slow fault's suspension
 * (no pool thread held); errors too. Only the lower bound is timed. */
static void test_latency(void **state)
{
    (void)state;
    struct client c;
    struct mock_options o = seeded(17);
    o.latency_ms = 300;
    o.latency_jitter_ms = 20;
    client_start(&c, &o, 5000);
    struct reply r = client_call(&c, "GET", "/1/tasks", NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = client_call(&c, "GET", "/1/tasks/nope", NULL);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    struct util_error err;
    util_error_clear(&err);
    struct http_transport *t = http_curl_create(&(struct http_options){.timeout_ms = 5000}, &err);
    assert_non_null(t);
    struct http_request req;
    struct http_response resp;
    http_request_init(&req);
    http_response_init(&resp);
    http_request_set(&req, "GET", fmt("%s/1/sources", c.base));
    http_headers_add(&req.headers, "x-algolia-application-id", c.app);
    http_headers_add(&req.headers, "x-algolia-api-key", c.key);
    assert_int_equal(http_send(t, &req, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    assert_true(resp.elapsed_ms >= 280);
    http_request_finish(&req);
    http_response_finish(&resp);
    http_transport_destroy(t);
    client_stop(&c);
}

static void start_violating(struct client *c, const char *spec, long slow_ms, long timeout_ms)
{
    struct mock_violation v;
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(mock_violation_parse(spec, &v, &err), 0);
    struct mock_options o = seeded(13);
    o.violations = &v;
    o.nviolations = 1;
    o.slow_ms = slow_ms;
    client_start(c, &o, timeout_ms);
}

/* The string field k of r's JSON, or "" (faulty answers may lack it). */
static const char *sfield(const struct reply *r, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void expect_broken(const char *spec, const char *op, const struct reply *target,
                          const char *keyword)
{
    if (target->status != 200)
        fail_msg("%s: %s answered %d: %s", spec, op, target->status, target->body);
    if (!reply_violates(op, 200, target, ""))
        fail_msg("%s: %s still conforms: %s", spec, op, target->body);
    if (!reply_violates(op, 200, target, keyword))
        fail_msg("%s: %s breaks no %s: %.300s", spec, op, keyword, target->body);
}

static void test_fault_structure(void **state)
{
    (void)state;
    struct {
        const char *spec, *op, *keyword;
    } cases[] = {
        {"missing-required:getTask", "getTask", "/required"},
        {"wrong-type:getTask", "getTask", "/type"},
        {"bad-enum:getTask", "getTask", "/enum"},
        {"extra-property:getTask", "getTask", "/additionalProperties"},
        {"missing-required:getTasks", "getTasks", "/required"},
        {"bad-enum:getTasks", "getTasks", "/enum"},
        {"wrong-type:searchTasks", "searchTasks", "/type"},
        {"extra-property:searchTasks", "searchTasks", "/additionalProperties"},
        {"missing-required:createTask", "createTask", "/required"},
        {"wrong-type:runTask", "runTask", "/type"},
        {"bad-enum:getRun", "getRun", "/enum"},
        {"extra-property:getDockerSourceStreams", "getDockerSourceStreams",
         "/additionalProperties"},
        {"missing-required:deleteTask", "deleteTask", "/required"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct client c;
        start_violating(&c, cases[i].spec, 0, 5000);
        const char *op = cases[i].op;
        /* IDs come from the create answers of operations the fault spares. */
        struct reply s = client_call(&c, "POST", "/1/sources",
                                     "{\"type\":\"docker\",\"name\":\"s\",\"input\":{\"registry\":"
                                     "\"dockerhub\",\"image\":\"x/y\",\"imageType\":\"singer\","
                                     "\"configuration\":{}}}");
        struct reply d = client_call(&c, "POST", "/1/destinations",
                                     "{\"type\":\"search\",\"name\":\"d\",\"input\":"
                                     "{\"indexName\":\"i\"}}");
        struct reply t = client_call(&c, "POST", "/1/tasks",
                                     fmt("{\"sourceID\":\"%s\",\"destinationID\":\"%s\","
                                         "\"trigger\":{\"type\":\"onDemand\"},\"action\":"
                                         "\"replace\"}",
                                         sfield(&s, "sourceID"), sfield(&d, "destinationID")));
        char tid[64];
        snprintf(tid, sizeof(tid), "%s", sfield(&t, "taskID"));
        struct reply run = client_call(&c, "POST", fmt("/1/tasks/%s/run", tid), NULL);
        struct reply target;
        if (strcmp(op, "getTask") == 0)
            target = client_call(&c, "GET", fmt("/1/tasks/%s", tid), NULL);
        else if (strcmp(op, "getTasks") == 0)
            target = client_call(&c, "GET", "/1/tasks", NULL);
        else if (strcmp(op, "searchTasks") == 0)
            target = client_call(&c, "POST", "/1/tasks/search", fmt("{\"taskIDs\":[\"%s\"]}", tid));
        else if (strcmp(op, "createTask") == 0)
            target = t, t.body = NULL, t.json = NULL;
        else if (strcmp(op, "runTask") == 0)
            target = run, run.body = NULL, run.json = NULL;
        else if (strcmp(op, "getRun") == 0)
            target = client_call(&c, "GET", fmt("/1/runs/%s", sfield(&run, "runID")), NULL);
        else if (strcmp(op, "deleteTask") == 0)
            target = client_call(&c, "DELETE", fmt("/1/tasks/%s", tid), NULL);
        else
            target =
                client_call(&c, "GET", fmt("/1/sources/%s/discover", sfield(&s, "sourceID")), NULL);
        expect_broken(cases[i].spec, op, &target, cases[i].keyword);
        reply_free(&target);
        reply_free(&s);
        reply_free(&d);
        reply_free(&t);
        reply_free(&run);
        client_stop(&c);
    }
    /* Without an operation the fault hits every operation it fits. */
    struct {
        const char *spec, *keyword;
    } global[] = {{"missing-required", "/required"},
                  {"wrong-type", "/type"},
                  {"bad-enum", "/enum"},
                  {"extra-property", "/additionalProperties"}};
    static const char *const lists[][2] = {{"getTasks", "/1/tasks"},
                                           {"getSources", "/1/sources"},
                                           {"getDestinations", "/1/destinations"},
                                           {"getAuthentications", "/1/authentications"}};
    for (size_t i = 0; i < 4; i++) {
        struct mock_violation v;
        struct util_error err;
        util_error_clear(&err);
        assert_int_equal(mock_violation_parse(global[i].spec, &v, &err), 0);
        struct mock_options o = seeded(14);
        o.violations = &v;
        o.nviolations = 1;
        o.preload_tasks = 5;
        struct client c;
        client_start(&c, &o, 5000);
        for (size_t l = 0; l < 4; l++) {
            struct reply r = client_call(&c, "GET", lists[l][1], NULL);
            expect_broken(global[i].spec, lists[l][0], &r, global[i].keyword);
            reply_free(&r);
        }
        client_stop(&c);
    }
}

/* Sends GET url again and again (timeout 100 ms) until stop is set. */
struct hammer {
    char url[512], app[256], key[256];
    atomic_bool stop;
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    struct util_error err;
    util_error_clear(&err);
    struct http_transport *t = http_curl_create(&(struct http_options){.timeout_ms = 100}, &err);
    while (t && !atomic_load(&h->stop)) {
        struct http_request req;
        struct http_response resp;
        http_request_init(&req);
        http_response_init(&resp);
        http_request_set(&req, "GET", h->url);
        http_headers_add(&req.headers, "x-algolia-application-id", h->app);
        http_headers_add(&req.headers, "x-algolia-api-key", h->key);
        util_error_clear(&err);
        http_send(t, &req, &resp, &err);
        http_request_finish(&req);
        http_response_finish(&resp);
    }
    http_transport_destroy(t);
    return NULL;
}

/* The server stopped while slow answers arrive and wait: a request that
 * comes in once it is stopping is answered at once, and nothing is freed
 * twice (a race found by .ci/coverage: the answer was kept as pending and
 * freed again when the connection closed). */
static void test_stop_during_slow_answers(void **state)
{
    (void)state;
    for (int i = 0; i < 25; i++) {
        struct client c;
        struct hammer h = {.stop = false};
        pthread_t th;
        start_violating(&c, "slow:getTasks", 300, 1000);
        snprintf(h.url, sizeof(h.url), "%s/1/tasks", c.base);
        snprintf(h.app, sizeof(h.app), "%s", c.app);
        snprintf(h.key, sizeof(h.key), "%s", c.key);
        assert_int_equal(pthread_create(&th, NULL, hammer_main, &h), 0);
        struct timespec pause = {0, (long)(10 + i % 5 * 10) * 1000000L};
        nanosleep(&pause, NULL);
        client_stop(&c);
        atomic_store(&h.stop, true);
        assert_int_equal(pthread_join(th, NULL), 0);
    }
}

static void test_fault_transport(void **state)
{
    (void)state;
    struct client c;
    /* undocumented-status */
    start_violating(&c, "undocumented-status:getTasks", 0, 5000);
    struct reply r = client_call(&c, "GET", "/1/tasks", NULL);
    assert_int_equal(r.status, 202);
    assert_false(op_documents("getTasks", r.status));
    reply_free(&r);
    r = ok(&c, "getSources", "GET", "/1/sources", NULL); /* other operations conform */
    reply_free(&r);
    client_stop(&c);
    /* wrong-content-type */
    start_violating(&c, "wrong-content-type", 0, 5000);
    r = client_call(&c, "GET", "/1/tasks", NULL);
    assert_int_equal(r.status, 200);
    assert_true(strncmp(r.ctype, "application/json", 16) != 0);
    reply_free(&r);
    client_stop(&c);
    /* malformed-json */
    start_violating(&c, "malformed-json:getAuthentications", 0, 5000);
    r = client_call(&c, "GET", "/1/authentications", NULL);
    assert_int_equal(r.status, 200);
    cJSON *doc = NULL;
    struct util_error err;
    util_error_clear(&err);
    assert_int_not_equal(json_parse(r.body, r.len, "body", &doc, &err), 0);
    assert_null(doc);
    reply_free(&r);
    client_stop(&c);
    /* slow: the client's timeout fires first */
    start_violating(&c, "slow:getTasks", 1500, 300);
    r = client_call(&c, "GET", "/1/tasks", NULL);
    assert_int_equal(r.failure, HTTP_ERR_TIMEOUT);
    reply_free(&r);
    r = client_call(&c, "GET", "/1/sources", NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    client_stop(&c);
    /* slow with a patient client: the answer comes after the delay, and
     * the server keeps answering others meanwhile (the connection is
     * suspended, no thread waits). */
    start_violating(&c, "slow:getTasks", 400, 5000);
    struct http_transport *other =
        http_curl_create(&(struct http_options){.timeout_ms = 5000}, &err);
    assert_non_null(other);
    r = client_call(&c, "GET", "/1/tasks", NULL);
    assert_int_equal(r.status, 200);
    assert_true(reply_valid("getTasks", &r));
    reply_free(&r);
    struct http_request req;
    struct http_response resp;
    http_request_init(&req);
    http_response_init(&resp);
    http_request_set(&req, "GET", fmt("%s/1/sources", c.base));
    http_headers_add(&req.headers, "x-algolia-application-id", c.app);
    http_headers_add(&req.headers, "x-algolia-api-key", c.key);
    assert_int_equal(http_send(other, &req, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    assert_true(resp.elapsed_ms < 400);
    http_request_finish(&req);
    http_response_finish(&resp);
    http_transport_destroy(other);
    client_stop(&c);
    /* drop-connection: the body stops halfway */
    start_violating(&c, "drop-connection:getAuthentications", 0, 5000);
    r = client_call(&c, "GET", "/1/authentications", NULL);
    assert_int_equal(r.failure, HTTP_ERR_PROTOCOL);
    reply_free(&r);
    r = client_call(&c, "GET", "/1/sources", NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    client_stop(&c);
}

static void test_fault_rejected(void **state)
{
    (void)state;
    struct mock_violation v;
    struct util_error err;
    util_error_clear(&err);
    assert_int_not_equal(mock_violation_parse("lying", &v, &err), 0);
    assert_int_not_equal(mock_violation_parse("slow:", &v, &err), 0);
    struct mock_options o = {.schemas_dir = schemas_dir(), .violations = &v, .nviolations = 1};
    /* DeleteResponse allows extra properties; createTask answers have no enum. */
    const char *bad[] = {"extra-property:deleteTask", "bad-enum:createTask", "slow:noSuchOp"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(mock_violation_parse(bad[i], &v, &err), 0);
        struct mock_api *api = mock_api_create(&o, &err);
        assert_null(api);
        assert_non_null(strstr(err.message, bad[i]));
    }
}

int main(void)
{
    schemas_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_all_operations),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_unknown_ids),
        cmocka_unit_test(test_nul_and_json_errors),
        cmocka_unit_test(test_referential),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_bad_body),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_sorts),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_patch_and_toggles),
        cmocka_unit_test(test_run_progression),
        cmocka_unit_test(test_docker_rules),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_fault_structure),
        cmocka_unit_test(test_fault_transport),
        cmocka_unit_test(test_stop_during_slow_answers),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_fault_rejected),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    schemas_finish();
    return rc;
}
