/* Tests of src/coverage over a small spec (tests/data/coverage/mini.yml,
 * its schemas derived at setup): the skeleton, counting from exchanges,
 * run results, results.json and cassettes, union selection and ambiguity,
 * spec gaps, merging and the coverage.json round trip, the lcov tracefile,
 * the other outputs, and the gates' arithmetic. */
#include "coverage/coverage.h"

#include "openapi/source.h"
#include "openapi/spec.h"
#include "report/report.h"
#include "util/file.h"
#include "json/json.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char tmpdir[4096];
static char spec_path[4096];
static struct openapi_source *mini; /* the mini spec, derived in memory */
static struct coverage_context *ctx;

/* Writes a copy of the file from into to (creating its directory). */
static int copy_file(const char *from, const char *to, struct util_error *err)
{
    char *text = NULL, *dir = strdup(to);
    size_t len = 0;
    int rc = dir ? UTIL_OK : UTIL_ERR_NOMEM;
    if (!rc && strrchr(dir, '/'))
        *strrchr(dir, '/') = '\0';
    if (!rc)
        rc = util_mkdir_p(dir, err);
    if (!rc)
        rc = util_file_read(from, 1u << 26, &text, &len, err);
    if (!rc)
        rc = util_file_write_atomic(to, text, len, err);
    free(text);
    free(dir);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    struct util_error err;
    util_error_clear(&err);
    snprintf(spec_path, sizeof(spec_path), "%s/tests/data/coverage/mini.yml", src ? src : ".");
    snprintf(tmpdir, sizeof(tmpdir), "%s/ic-coverage-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    if (openapi_cmd_generate(spec_path, tmpdir, &err)) {
        fprintf(stderr, "generate: %s\n", err.message);
        return -1;
    }
    if (openapi_source_open_spec(spec_path, &mini, &err)) {
        fprintf(stderr, "source: %s\n", err.message);
        return -1;
    }
    ctx = coverage_context_create(mini, &err);
    if (!ctx)
        fprintf(stderr, "context: %s\n", err.message);
    return ctx ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    coverage_context_destroy(ctx);
    openapi_source_destroy(mini);
    char cmd[8300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

/* The exchanges of the tests, in one place. */
enum {
    EX_LIST,
    EX_CREATE,
    EX_UPDATE_AMBIGUOUS,
    EX_UNKNOWN_ID,
    EX_UNMATCHED,
    EX_BAD_INPUT,
    EX_NO_RESPONSE,
    EX_COUNT
};

static const struct {
    const char *method, *url, *req, *resp, *source;
    int status;
} exchanges[EX_COUNT] = {
    {"GET", "http://h.invalid/1/things?kind=json,csv&sort=name&kind=csv", NULL,
     "{\"things\":[{\"thingID\":\"a\",\"tags\":[{\"label\":\"x\"}]}],\"total\":1}", "t.yaml:1",
     200},
    {"POST", "/1/things", "{\"type\":\"json\",\"input\":{\"url\":\"u\"},\"note\":3}",
     "{\"thingID\":\"b\"}", "t.yaml:2", 200},
    {"PATCH", "http://h.invalid/1/things/b", "{\"input\":{\"url\":\"u\"}}", "{\"message\":\"m\"}",
     "t.yaml:3", 400},
    {"GET", "http://h.invalid/1/things/zzz", NULL, "{\"message\":\"no\"}", "t.yaml:4", 404},
    {"DELETE", "http://h.invalid/1/things", NULL, "", "t.yaml:5", 405},
    {"POST", "http://h.invalid/1/things", "{\"type\":\"csv\",\"input\":{\"nope\":1}}",
     "{\"message\":\"bad\"}", "t.yaml:6", 400},
    {"GET", "http://h.invalid/1/things/q", NULL, NULL, "t.yaml:7", 0},
};

static void observe(struct coverage *cov, int i)
{
    struct util_error err;
    util_error_clear(&err);
    struct coverage_exchange x = {
        .method = exchanges[i].method,
        .url = exchanges[i].url,
        .request_text = exchanges[i].req,
        .request_len = exchanges[i].req ? strlen(exchanges[i].req) : 0,
        .status = exchanges[i].status,
        .response_text = exchanges[i].resp,
        .response_len = exchanges[i].resp ? strlen(exchanges[i].resp) : 0,
        .source = exchanges[i].source,
    };
    assert_int_equal(coverage_observe(cov, &x, &err), UTIL_OK);
}

static cJSON *to_json(const struct coverage *cov)
{
    struct util_error err;
    cJSON *doc = NULL;
    util_error_clear(&err);
    assert_int_equal(coverage_json(cov, &doc, &err), UTIL_OK);
    assert_non_null(doc);
    return doc;
}

static const cJSON *find(const cJSON *arr, const char *key, const char *value)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
        if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
            return e;
    }
    fail_msg("no element with %s = %s", key, value);
    return NULL;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("no number %s", key);
    return v->valuedouble;
}

static const cJSON *get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        fail_msg("no member %s", key);
    return v;
}

static const cJSON *op_of(const cJSON *doc, const char *id)
{
    return find(get(doc, "operations"), "operationId", id);
}

/* Count of the enum value of (op, in, name). */
static double enum_count(const cJSON *doc, const char *op, const char *name, const char *value)
{
    const cJSON *e = find(get(op_of(doc, op), "enums"), "name", name);
    const cJSON *v;
    cJSON_ArrayForEach(v, get(e, "values"))
    {
        const cJSON *val = get(v, "value");
        if (cJSON_IsString(val) && strcmp(val->valuestring, value) == 0)
            return num(v, "count");
    }
    fail_msg("no enum value %s", value);
    return -1;
}

static const cJSON *union_of(const cJSON *doc, const char *op, const char *path)
{
    return find(get(op_of(doc, op), "unions"), "path", path);
}

static double branch_count(const cJSON *u, const char *name, const char *key)
{
    return num(find(get(u, "branches"), "name", name), key);
}

static double prop_count(const cJSON *doc, const char *op, const char *status, const char *path)
{
    const cJSON *r = find(get(op_of(doc, op), "responses"), "status", status);
    return num(find(get(r, "properties"), "path", path), "count");
}

/* 1-based line of the first line of the fixture equal to text. */
static int fixture_line(const char *text)
{
    char *data = NULL;
    size_t len = 0;
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(util_file_read(spec_path, 1u << 20, &data, &len, &err), UTIL_OK);
    int line = 1, found = 0;
    for (char *p = data; *p && !found; line++) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n == strlen(text) && strncmp(p, text, n) == 0)
            found = line;
        p += n + (nl ? 1 : 0);
    }
    free(data);
    assert_true(found > 0);
    return found;
}

/* ---- tests ---- */

static void test_skeleton(void **state)
{
    (void)state;
    struct coverage *cov = coverage_create(ctx);
    struct coverage_totals t;
    coverage_totals(cov, &t);
    /* 4 operations with 200 and 400; parameters kind, sort, page and the
     * thingID of two operations; enum values kind (2), sort (2) and the
     * body's /type (2); branches: createThing /input (2) and /note (2),
     * updateThing /input (2); properties: ThingList 6, Thing 4 (x3), Error 1
     * (x4). */
    size_t want[COVERAGE_NDIMENSIONS][2] = {{0, 4}, {0, 8}, {0, 5}, {0, 6}, {0, 6}, {0, 22}};
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++) {
        assert_int_equal(t.dim[d].covered, want[d][0]);
        assert_int_equal(t.dim[d].total, want[d][1]);
    }
    cJSON *doc = to_json(cov);
    /* Lines point at the declarations in the YAML. */
    assert_int_equal((int)num(op_of(doc, "listThings"), "line"), fixture_line("    get:"));
    assert_int_equal(
        (int)num(find(get(op_of(doc, "listThings"), "statuses"), "status", "400"), "line"),
        fixture_line("        '400':"));
    const cJSON *kind = find(get(op_of(doc, "listThings"), "enums"), "name", "kind");
    assert_string_equal(get(kind, "in")->valuestring, "query");
    assert_int_equal((int)num(cJSON_GetArrayItem(get(kind, "values"), 0), "line"),
                     fixture_line("      - json"));
    const cJSON *u = union_of(doc, "createThing", "/input");
    assert_string_equal(get(u, "selector")->valuestring, "type");
    assert_true(cJSON_IsNull(get(union_of(doc, "updateThing", "/input"), "selector")));
    assert_int_equal((int)num(find(get(u, "branches"), "name", "InputCsv"), "line"),
                     fixture_line("      - $ref: '#/components/schemas/InputCsv'"));
    const cJSON *note = union_of(doc, "createThing", "/note");
    assert_non_null(find(get(note, "branches"), "name", "integer"));
    cJSON_Delete(doc);
    coverage_destroy(cov);
}

static void test_parameters_enums_properties(void **state)
{
    (void)state;
    struct coverage *cov = coverage_create(ctx);
    observe(cov, EX_LIST);
    cJSON *doc = to_json(cov);
    const cJSON *op = op_of(doc, "listThings");
    assert_int_equal((int)num(op, "calls"), 1);
    assert_int_equal((int)num(find(get(op, "statuses"), "status", "200"), "count"), 1);
    assert_int_equal((int)num(find(get(op, "statuses"), "status", "400"), "count"), 0);
    /* kind given twice in one request counts once; page never sent. */
    assert_int_equal((int)num(find(get(op, "parameters"), "name", "kind"), "count"), 1);
    assert_int_equal((int)num(find(get(op, "parameters"), "name", "sort"), "count"), 1);
    assert_int_equal((int)num(find(get(op, "parameters"), "name", "page"), "count"), 0);
    /* kind=json,csv splits; the second kind=csv adds one. */
    assert_int_equal((int)enum_count(doc, "listThings", "kind", "json"), 1);
    assert_int_equal((int)enum_count(doc, "listThings", "kind", "csv"), 2);
    assert_int_equal((int)enum_count(doc, "listThings", "sort", "name"), 1);
    assert_int_equal((int)enum_count(doc, "listThings", "sort", "createdAt"), 0);
    assert_int_equal((int)prop_count(doc, "listThings", "200", "/things"), 1);
    assert_int_equal((int)prop_count(doc, "listThings", "200", "/things/*/thingID"), 1);
    assert_int_equal((int)prop_count(doc, "listThings", "200", "/things/*/tags/*/label"), 1);
    assert_int_equal((int)prop_count(doc, "listThings", "200", "/things/*/type"), 0);
    assert_int_equal((int)prop_count(doc, "listThings", "200", "/total"), 1);
    struct coverage_totals t;
    coverage_totals(cov, &t);
    assert_int_equal(t.dim[COVERAGE_OPERATIONS].covered, 1);
    assert_int_equal(t.dim[COVERAGE_PARAMETERS].covered, 2);
    assert_int_equal(t.dim[COVERAGE_ENUMS].covered, 3);
    assert_int_equal(t.dim[COVERAGE_PROPERTIES].covered, 5);
    cJSON_Delete(doc);
    coverage_destroy(cov);
}

static void test_unions(void **state)
{
    (void)state;
    struct coverage *cov = coverage_create(ctx);
    observe(cov, EX_CREATE);
    observe(cov, EX_UPDATE_AMBIGUOUS);
    observe(cov, EX_BAD_INPUT);
    cJSON *doc = to_json(cov);
    /* {url} matches both branches; type json picks InputJson. */
    const cJSON *u = union_of(doc, "createThing", "/input");
    assert_int_equal((int)num(u, "values"), 2);
    assert_int_equal((int)num(u, "selected"), 1);
    assert_int_equal((int)num(u, "ambiguous"), 0);
    assert_int_equal((int)num(u, "unmatched"), 1);
    assert_int_equal((int)branch_count(u, "InputJson", "count"), 1);
    assert_int_equal((int)branch_count(u, "InputCsv", "count"), 0);
    /* No selector: counted for both branches and flagged. */
    const cJSON *v = union_of(doc, "updateThing", "/input");
    assert_int_equal((int)num(v, "values"), 1);
    assert_int_equal((int)num(v, "ambiguous"), 1);
    assert_int_equal((int)branch_count(v, "InputJson", "count"), 1);
    assert_int_equal((int)branch_count(v, "InputJson", "ambiguous"), 1);
    assert_int_equal((int)branch_count(v, "InputCsv", "count"), 1);
    assert_int_equal((int)branch_count(v, "InputCsv", "ambiguous"), 1);
    /* An inline union: note 3 is the integer branch. */
    const cJSON *n = union_of(doc, "createThing", "/note");
    assert_int_equal((int)branch_count(n, "integer", "count"), 1);
    assert_int_equal((int)branch_count(n, "string", "count"), 0);
    assert_int_equal((int)enum_count(doc, "createThing", "/type", "json"), 1);
    assert_int_equal((int)enum_count(doc, "createThing", "/type", "csv"), 1);
    struct coverage_totals t;
    coverage_totals(cov, &t);
    assert_int_equal(t.ambiguous, 1);
    assert_int_equal(t.dim[COVERAGE_BRANCHES].covered, 4);
    cJSON_Delete(doc);
    coverage_destroy(cov);
}

static void test_gaps(void **state)
{
    (void)state;
    struct coverage *cov = coverage_create(ctx);
    for (int i = 0; i < EX_COUNT; i++)
        observe(cov, i);
    observe(cov, EX_UNKNOWN_ID);
    cJSON *doc = to_json(cov);
    const cJSON *gaps = get(doc, "gaps");
    assert_int_equal(cJSON_GetArraySize(gaps), 1);
    const cJSON *g = cJSON_GetArrayItem(gaps, 0);
    assert_string_equal(get(g, "operationId")->valuestring, "getThing");
    assert_int_equal((int)num(g, "status"), 404);
    assert_int_equal((int)num(g, "count"), 2);
    const cJSON *reqs = get(g, "requests");
    assert_int_equal(cJSON_GetArraySize(reqs), 1); /* the same request once */
    assert_string_equal(get(cJSON_GetArrayItem(reqs, 0), "request")->valuestring,
                        "GET /1/things/zzz");
    assert_string_equal(get(cJSON_GetArrayItem(reqs, 0), "source")->valuestring, "t.yaml:4");
    const cJSON *um = cJSON_GetArrayItem(get(doc, "unmatched"), 0);
    assert_string_equal(get(um, "method")->valuestring, "DELETE");
    assert_string_equal(get(um, "path")->valuestring, "/1/things");
    assert_int_equal((int)num(um, "status"), 405);
    const cJSON *tot = get(doc, "totals");
    assert_int_equal((int)num(tot, "exchanges"), EX_COUNT + 1);
    assert_int_equal((int)num(tot, "no_response"), 1);
    assert_int_equal((int)num(tot, "unmatched"), 1);
    assert_int_equal((int)num(tot, "gaps"), 1);
    assert_int_equal((int)num(tot, "gap_responses"), 2);
    cJSON_Delete(doc);
    coverage_destroy(cov);
}

static void test_gap_cap(void **state)
{
    (void)state;
    struct coverage *cov = coverage_create(ctx);
    struct util_error err;
    char url[64];
    util_error_clear(&err);
    for (int i = 0; i < COVERAGE_CAP_GAPS + 5; i++) {
        snprintf(url, sizeof(url), "/2/nothing/%d", i);
        struct coverage_exchange x = {.method = "GET", .url = url, .status = 404};
        assert_int_equal(coverage_observe(cov, &x, &err), UTIL_OK);
    }
    cJSON *doc = to_json(cov);
    assert_int_equal(cJSON_GetArraySize(get(doc, "unmatched")), COVERAGE_CAP_GAPS);
    assert_int_equal((int)num(doc, "dropped_unmatched"), 5);
    assert_int_equal((int)num(get(doc, "totals"), "unmatched"), COVERAGE_CAP_GAPS + 5);
    cJSON_Delete(doc);
    coverage_destroy(cov);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct coverage *cov = coverage_create(ctx);
    struct util_error err;
    char longname[1000];
    util_error_clear(&err);
    memset(longname, 'k', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    char url[1200];
    snprintf(url, sizeof(url), "/1/things?%s=1&kind=%%zz,%%6Ason&&=&sort", longname);
    const struct coverage_exchange xs[] = {
        {.method = NULL, .url = "/1/things", .status = 200},
        {.method = "GET", .url = NULL, .status = 200},
        {.method = "GET", .url = "http://host.invalid", .status = 200},
        {.method = "GET",
         .url = url,
         .status = 200,
         .response_text = "{\"things\":",
         .response_len = 10},
        {.method = "POST",
         .url = "/1/things",
         .request_text = "not json",
         .request_len = 8,
         .status = 400},
        {.method = "POST",
         .url = "/1/things",
         .request_text = "[1,2]",
         .request_len = 5,
         .status = 400},
        {.method = "GET",
         .url = "/1/things/%00",
         .status = 200,
         .response_text = "null",
         .response_len = 4},
    };
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
        assert_int_equal(coverage_observe(cov, &xs[i], &err), UTIL_OK);
    cJSON *doc = to_json(cov);
    /* %6Ason decodes to json; %zz is kept as text and matches nothing. */
    assert_int_equal((int)enum_count(doc, "listThings", "kind", "json"), 1);
    assert_int_equal(
        (int)num(find(get(op_of(doc, "listThings"), "parameters"), "name", "sort"), "count"), 1);
    assert_int_equal((int)num(op_of(doc, "createThing"), "calls"), 2);
    assert_int_equal((int)num(union_of(doc, "createThing", "/input"), "values"), 0);
    cJSON_Delete(doc);
    coverage_destroy(cov);
}

/* coverage.json documents with wrong types, huge and negative counts and
 * unknown names are read without harm. */
static void test_odd_coverage_json(void **state)
{
    (void)state;
    struct util_error err;
    util_error_clear(&err);
    struct coverage *cov = coverage_create(ctx);
    cJSON *doc = to_json(cov);
    const char *sha = get(get(doc, "spec"), "sha256")->valuestring;
    char text[2048];
    snprintf(text, sizeof(text),
             "{\"format\": 1, \"spec\": {\"sha256\": \"%s\"}, \"totals\": {\"exchanges\": 1e300},"
             " \"operations\": [{\"operationId\": \"listThings\", \"calls\": 1e300,"
             " \"statuses\": {\"status\": 200}, \"parameters\": [{\"name\": 5}],"
             " \"enums\": [{\"in\": \"query\", \"name\": \"kind\", \"values\": [{\"value\": "
             "{\"a\": 1}, \"count\": 3}, {\"value\": \"json\", \"count\": -4}]}],"
             " \"unions\": \"x\", \"responses\": [1, 2]}, {\"operationId\": \"nope\"}, 7],"
             " \"gaps\": [{\"operationId\": \"getThing\", \"status\": \"404\", \"requests\": "
             "[{\"request\": 3}]}, {\"operationId\": \"zzz\"}], \"unmatched\": [{\"method\": "
             "\"GET\"}]}",
             sha);
    cJSON *odd = cJSON_Parse(text);
    assert_non_null(odd);
    assert_int_equal(coverage_add_json(cov, odd, &err), UTIL_OK);
    assert_int_equal(coverage_add_json(cov, odd, &err), UTIL_OK);
    cJSON *out = to_json(cov);
    assert_true(num(op_of(out, "listThings"), "calls") > 1e18);
    assert_int_equal((int)enum_count(out, "listThings", "kind", "json"), 0);
    assert_int_equal(cJSON_GetArraySize(get(out, "gaps")), 1);
    assert_int_equal(cJSON_GetArraySize(get(out, "unmatched")), 0);
    cJSON_Delete(out);
    cJSON_Delete(odd);
    cJSON_Delete(doc);
    coverage_destroy(cov);
}

static void test_merge_and_json_round_trip(void **state)
{
    (void)state;
    struct util_error err;
    util_error_clear(&err);
    struct coverage *a = coverage_create(ctx), *b = coverage_create(ctx),
                    *all = coverage_create(ctx);
    for (int i = 0; i < EX_COUNT; i++) {
        observe(i < 4 ? a : b, i);
        observe(all, i);
    }
    assert_int_equal(coverage_merge(a, b, &err), UTIL_OK);
    cJSON *merged = to_json(a), *whole = to_json(all);
    assert_true(json_equal(merged, whole));
    /* coverage.json back into an empty model gives the same document, and
     * twice gives twice the counts. */
    struct coverage *c = coverage_create(ctx);
    assert_int_equal(coverage_add_json(c, whole, &err), UTIL_OK);
    cJSON *again = to_json(c);
    assert_true(json_equal(again, whole));
    assert_int_equal(coverage_add_json(c, whole, &err), UTIL_OK);
    cJSON *twice = to_json(c);
    assert_int_equal((int)num(op_of(twice, "listThings"), "calls"),
                     2 * (int)num(op_of(whole, "listThings"), "calls"));
    assert_int_equal((int)num(cJSON_GetArrayItem(get(twice, "gaps"), 0), "count"), 2);
    /* Another spec or format is refused. */
    cJSON *other = cJSON_Duplicate(whole, true);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(other, "spec"), "sha256",
                              cJSON_CreateString("00"));
    assert_int_equal(coverage_add_json(c, other, &err), UTIL_ERR_INVALID);
    cJSON_ReplaceItemInObject(other, "format", cJSON_CreateNumber(99));
    assert_int_equal(coverage_add_json(c, other, &err), UTIL_ERR_INVALID);
    /* Models over another context do not merge: the same spec's, from the
     * directory it was derived into. */
    char copy[4200];
    struct openapi_source *dir_source = NULL;
    snprintf(copy, sizeof(copy), "%s/openapi/ingestion.yml", tmpdir);
    assert_int_equal(copy_file(spec_path, copy, &err), UTIL_OK);
    assert_int_equal(openapi_source_open_dir(tmpdir, &dir_source, &err), UTIL_OK);
    struct coverage_context *ctx2 = coverage_context_create(dir_source, &err);
    assert_non_null(ctx2);
    struct coverage *d = coverage_create(ctx2);
    assert_int_equal(coverage_merge(d, a, &err), UTIL_ERR_USAGE);
    coverage_destroy(d);
    coverage_context_destroy(ctx2);
    openapi_source_destroy(dir_source);
    cJSON_Delete(other);
    cJSON_Delete(twice);
    cJSON_Delete(again);
    cJSON_Delete(merged);
    cJSON_Delete(whole);
    coverage_destroy(a);
    coverage_destroy(b);
    coverage_destroy(c);
    coverage_destroy(all);
}

/* Run results built by hand, and their results.json, count the same. */
static void test_run_results(void **state)
{
    (void)state;
    struct util_error err;
    struct run_results r;
    util_error_clear(&err);
    run_results_init(&r);
    r.cases = calloc(1, sizeof(*r.cases));
    r.count = 1;
    r.run_id = strdup("ic-test");
    r.base_url = strdup("http://h.invalid");
    struct run_case_result *k = &r.cases[0];
    k->name = strdup("case");
    k->file = strdup("t.yaml");
    k->steps = calloc(EX_COUNT, sizeof(*k->steps));
    k->nsteps = EX_COUNT;
    for (int i = 0; i < EX_COUNT; i++) {
        struct run_step_result *s = &k->steps[i];
        check_list_init(&s->checks);
        s->name = strdup("step");
        s->line = i + 1;
        s->method = strdup(exchanges[i].method);
        s->url = strdup(exchanges[i].url);
        s->status = exchanges[i].status;
        if (exchanges[i].req)
            assert_int_equal(
                json_parse(exchanges[i].req, strlen(exchanges[i].req), "r", &s->request_body, &err),
                UTIL_OK);
        if (exchanges[i].resp && *exchanges[i].resp)
            assert_int_equal(json_parse(exchanges[i].resp, strlen(exchanges[i].resp), "r",
                                        &s->response_body, &err),
                             UTIL_OK);
    }
    struct coverage *from_results = coverage_create(ctx), *from_json = coverage_create(ctx),
                    *direct = coverage_create(ctx);
    assert_int_equal(coverage_add_results(from_results, &r, &err), UTIL_OK);
    cJSON *results_doc = NULL;
    assert_int_equal(report_results_json(&r, &results_doc, &err), UTIL_OK);
    assert_int_equal(coverage_add_results_json(from_json, results_doc, &err), UTIL_OK);
    for (int i = 0; i < EX_COUNT; i++)
        observe(direct, i);
    cJSON *x = to_json(from_results), *y = to_json(from_json), *z = to_json(direct);
    assert_true(json_equal(x, y));
    assert_true(json_equal(x, z));
    cJSON *empty = cJSON_CreateObject();
    assert_int_equal(coverage_add_results_json(from_json, empty, &err), UTIL_ERR_INVALID);
    cJSON_Delete(empty);
    cJSON_Delete(x);
    cJSON_Delete(y);
    cJSON_Delete(z);
    cJSON_Delete(results_doc);
    coverage_destroy(from_results);
    coverage_destroy(from_json);
    coverage_destroy(direct);
    run_results_finish(&r);
}

static void test_cassette(void **state)
{
    (void)state;
    static const char text[] =
        "interactions:\n"
        "- request:\n"
        "    body: null\n"
        "    headers: {}\n"
        "    method: GET\n"
        "    uri: http://h.invalid/1/things?sort=createdAt\n"
        "  response:\n"
        "    body: {string: '{\"things\":[],\"total\":0}'}\n"
        "    headers: {Content-Type: [application/json]}\n"
        "    status: {code: 200, message: OK}\n"
        "- request:\n"
        "    body: '{\"type\":\"csv\",\"input\":{\"url\":\"u\",\"delimiter\":\";\"}}'\n"
        "    headers: {}\n"
        "    method: POST\n"
        "    uri: http://h.invalid/1/things\n"
        "  response:\n"
        "    body: {string: '{\"message\":\"x\"}'}\n"
        "    headers: {}\n"
        "    status: {code: 409, message: Conflict}\n"
        "version: 1\n";
    struct util_error err;
    struct cassette *c = NULL;
    util_error_clear(&err);
    assert_int_equal(cassette_load_text(text, strlen(text), "c.yaml", &c, &err), UTIL_OK);
    struct coverage *cov = coverage_create(ctx);
    assert_int_equal(coverage_add_cassette(cov, c, &err), UTIL_OK);
    cJSON *doc = to_json(cov);
    assert_int_equal((int)enum_count(doc, "listThings", "sort", "createdAt"), 1);
    assert_int_equal((int)prop_count(doc, "listThings", "200", "/total"), 1);
    const cJSON *u = union_of(doc, "createThing", "/input");
    assert_int_equal((int)branch_count(u, "InputCsv", "count"), 1);
    assert_int_equal((int)num(u, "selected"), 1);
    const cJSON *g = cJSON_GetArrayItem(get(doc, "gaps"), 0);
    assert_int_equal((int)num(g, "status"), 409);
    const char *source = get(cJSON_GetArrayItem(get(g, "requests"), 0), "source")->valuestring;
    assert_string_equal(source, "c.yaml:11");
    cJSON_Delete(doc);
    coverage_destroy(cov);
    cassette_destroy(c);
}

static void test_lcov(void **state)
{
    (void)state;
    struct coverage *cov = coverage_create(ctx);
    struct util_buf b;
    util_buf_init(&b, COVERAGE_CAP_OUTPUT);
    observe(cov, EX_LIST);
    observe(cov, EX_CREATE);
    observe(cov, EX_CREATE);
    assert_int_equal(coverage_lcov(cov, &b), UTIL_OK);
    char *text = b.data;
    assert_true(strncmp(text, "TN:api_coverage\nSF:", 19) == 0);
    assert_true(strstr(text, spec_path) == text + 19);
    assert_true(b.len > 14 && strcmp(text + b.len - 14, "end_of_record\n") == 0);
    size_t fn = 0, fnda = 0, fnh_seen = 0, brda = 0, brda_taken = 0, da = 0, da_hit = 0;
    long fnf = -1, fnh = -1, brf = -1, brh = -1, lf = -1, lh = -1;
    int last = 0, json_line = fixture_line("      - json"), json_count = -1;
    int get_line = fixture_line("    get:"), get_count = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int l;
        unsigned long long c;
        char name[64];
        if (sscanf(line, "FN:%d,%63s", &l, name) == 2) {
            fn++;
        } else if (sscanf(line, "FNDA:%llu,%63s", &c, name) == 2) {
            fnda++;
            fnh_seen += c > 0;
        } else if (sscanf(line, "BRDA:%d,%*d,%*d,%31s", &l, name) == 2) {
            brda++;
            brda_taken += strcmp(name, "-") != 0 && strcmp(name, "0") != 0;
        } else if (sscanf(line, "DA:%d,%llu", &l, &c) == 2) {
            assert_true(l > last); /* sorted, one record per line */
            last = l;
            da++;
            da_hit += c > 0;
            if (l == json_line)
                json_count = (int)c;
            if (l == get_line)
                get_count = (int)c;
        } else {
            sscanf(line, "FNF:%ld", &fnf);
            sscanf(line, "FNH:%ld", &fnh);
            sscanf(line, "BRF:%ld", &brf);
            sscanf(line, "BRH:%ld", &brh);
            sscanf(line, "LF:%ld", &lf);
            sscanf(line, "LH:%ld", &lh);
        }
    }
    assert_int_equal(fn, 4);
    assert_int_equal(fnda, 4);
    assert_int_equal(fnf, 4);
    assert_int_equal(fnh, 2);
    assert_int_equal(fnh_seen, 2);
    /* Input (shared by two operations: one record) and the inline note. */
    assert_int_equal(brda, 4);
    assert_int_equal(brf, 4);
    assert_int_equal(brh, (long)brda_taken);
    assert_int_equal(brh, 2); /* InputJson (picked by type) and integer */
    /* 4 operations + 8 statuses + 4 distinct parameter lines (thingID is
     * declared once for its path) + 4 enum value lines (Kind shared). */
    assert_int_equal(lf, 4 + 8 + 4 + 4);
    assert_int_equal(lf, (long)da);
    assert_int_equal(lh, (long)da_hit);
    /* "- json": one from the kind parameter, two from the bodies' type. */
    assert_int_equal(json_count, 3);
    assert_int_equal(get_count, 1);
    util_buf_finish(&b);
    coverage_destroy(cov);
}

static void test_outputs(void **state)
{
    (void)state;
    struct util_error err;
    char dir[4200], path[4300];
    util_error_clear(&err);
    snprintf(dir, sizeof(dir), "%s/reports", tmpdir);
    struct coverage *cov = coverage_create(ctx);
    for (int i = 0; i < EX_COUNT; i++)
        observe(cov, i);
    struct coverage_exchange x = {.method = "GET",
                                  .url = "/1/<script>alert(1)</script>",
                                  .status = 404,
                                  .source = "<b>src</b>"};
    assert_int_equal(coverage_observe(cov, &x, &err), UTIL_OK);
    assert_int_equal(coverage_write(dir, cov, &err), UTIL_OK);
    const char *names[] = {"api-coverage.info", "coverage.html", "coverage.json", "coverage.md"};
    size_t found = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        bool known = false;
        for (size_t i = 0; i < 4; i++)
            known = known || strcmp(e->d_name, names[i]) == 0;
        assert_true(known); /* no temporary file left */
        found++;
    }
    closedir(d);
    assert_int_equal(found, 4);
    char *html = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/coverage.html", dir);
    assert_int_equal(util_file_read(path, 1u << 26, &html, &len, &err), UTIL_OK);
    assert_non_null(strstr(html, "Content-Security-Policy\" content=\"default-src 'none'"));
    assert_non_null(strstr(html, "<table class=\"matrix\" id=\"matrix\">"));
    size_t rows = 0, details = 0;
    for (const char *p = html; (p = strstr(p, "<tr class=\"op\">")); p++)
        rows++;
    for (const char *p = html; (p = strstr(p, "<details class=\"op\" id=\"op-")); p++)
        details++;
    assert_int_equal(rows, 4);
    assert_int_equal(details, 4);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<b>src"));
    assert_non_null(strstr(html, "/1/&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_null(strstr(html, "src=\""));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    free(html);
    char *md = NULL;
    snprintf(path, sizeof(path), "%s/coverage.md", dir);
    assert_int_equal(util_file_read(path, 1u << 20, &md, &len, &err), UTIL_OK);
    assert_non_null(strstr(md, "| operations | 4 | 4 | 100.0 |"));
    assert_non_null(strstr(md, "**Spec gaps:** 1 undocumented statuses seen (1 responses): "
                               "`getThing` 404 (1)"));
    free(md);
    cJSON *doc = NULL;
    snprintf(path, sizeof(path), "%s/coverage.json", dir);
    assert_int_equal(json_load_file(path, 1u << 26, &doc, &err), UTIL_OK);
    cJSON *direct = to_json(cov);
    assert_true(json_equal(doc, direct));
    cJSON_Delete(direct);
    cJSON_Delete(doc);
    coverage_destroy(cov);
}

static void test_gates(void **state)
{
    (void)state;
    struct coverage_gates g;
    struct util_error err;
    util_error_clear(&err);
    coverage_gates_init(&g);
    assert_int_equal(coverage_gates_parse("operations=100,statuses=87.5,enums=0.05", &g, &err),
                     UTIL_OK);
    assert_int_equal(g.min[COVERAGE_OPERATIONS], 10000);
    assert_int_equal(g.min[COVERAGE_STATUSES], 8750);
    assert_int_equal(g.min[COVERAGE_ENUMS], 5);
    assert_int_equal(g.min[COVERAGE_BRANCHES], -1);
    const char *bad[] = {"",
                         "foo=1",
                         "operations",
                         "operations=101",
                         "enums=1.234",
                         "operations=1,operations=2",
                         "operations=-1",
                         "operations=",
                         "operations=1.",
                         "statuses=100.5",
                         "enums=5,",
                         "=5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        coverage_gates_init(&g);
        assert_int_equal(coverage_gates_parse(bad[i], &g, &err), UTIL_ERR_USAGE);
    }
    coverage_gates_init(&g);
    assert_int_equal(coverage_gates_parse("statuses=100.0", &g, &err), UTIL_OK);
    assert_int_equal(g.min[COVERAGE_STATUSES], 10000);

    struct coverage_totals t;
    struct coverage_gate_failure f[COVERAGE_NDIMENSIONS + 1];
    memset(&t, 0, sizeof(t));
    t.dim[COVERAGE_OPERATIONS] = (struct coverage_count){2, 3}; /* 66.666...% */
    t.dim[COVERAGE_STATUSES] = (struct coverage_count){56, 66}; /* 84.848...% */
    t.dim[COVERAGE_ENUMS] = (struct coverage_count){0, 0};      /* nothing: 100% */
    coverage_gates_init(&g);
    assert_int_equal(coverage_gates_check(&t, &g, f), 0);
    assert_int_equal(coverage_gates_parse("operations=66.66,enums=100", &g, &err), UTIL_OK);
    assert_int_equal(coverage_gates_check(&t, &g, f), 0);
    coverage_gates_init(&g);
    assert_int_equal(coverage_gates_parse("operations=66.67,statuses=90", &g, &err), UTIL_OK);
    assert_int_equal(coverage_gates_check(&t, &g, f), 2);
    assert_int_equal(f[0].dim, COVERAGE_OPERATIONS);
    assert_int_equal(f[0].required, 6667);
    assert_int_equal(f[0].needed, 1);
    assert_true(f[0].actual > 66.66 && f[0].actual < 66.67);
    assert_int_equal(f[1].dim, COVERAGE_STATUSES);
    assert_int_equal(f[1].needed, 4); /* 60 of 66 is 90.9%, 59 is 89.4% */
    assert_int_equal(f[1].covered, 56);
    assert_int_equal(f[1].total, 66);
    coverage_gates_init(&g);
    assert_int_equal(coverage_gates_parse("statuses=84.84", &g, &err), UTIL_OK);
    assert_int_equal(coverage_gates_check(&t, &g, f), 0);
    coverage_gates_init(&g);
    assert_int_equal(coverage_gates_parse("statuses=84.85", &g, &err), UTIL_OK);
    assert_int_equal(coverage_gates_check(&t, &g, f), 1);
    assert_int_equal(f[0].needed, 1);
    coverage_gates_init(&g);
    g.fail_on_spec_gap = true;
    assert_int_equal(coverage_gates_check(&t, &g, f), 0);
    t.gaps = 3;
    assert_int_equal(coverage_gates_check(&t, &g, f), 1);
    assert_int_equal(f[0].dim, COVERAGE_NDIMENSIONS);
    assert_int_equal(f[0].needed, 3);
}

static void test_context_errors(void **state)
{
    (void)state;
    struct util_error err;
    char other[4200];
    util_error_clear(&err);
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(other, sizeof(other), "%s/schemas/openapi/ingestion.yml", src ? src : ".");
    /* A directory holding the mini spec's schemas and the Ingestion API's
     * spec. */
    char mixed[4200], copy[4300];
    struct openapi_source *s = NULL;
    snprintf(mixed, sizeof(mixed), "%s/mixed", tmpdir);
    snprintf(copy, sizeof(copy), "%s/openapi/ingestion.yml", mixed);
    assert_int_equal(openapi_cmd_generate(spec_path, mixed, &err), UTIL_OK);
    assert_int_equal(copy_file(other, copy, &err), UTIL_OK);
    assert_int_equal(openapi_source_open_dir(mixed, &s, &err), UTIL_OK);
    assert_null(coverage_context_create(s, &err));
    assert_int_equal(err.code, UTIL_ERR_INVALID);
    assert_non_null(strstr(err.message, "was not derived from"));
    openapi_source_destroy(s);
    /* A directory without its spec. */
    util_error_clear(&err);
    snprintf(mixed, sizeof(mixed), "%s/bare", tmpdir);
    assert_int_equal(openapi_cmd_generate(spec_path, mixed, &err), UTIL_OK);
    assert_int_equal(openapi_source_open_dir(mixed, &s, &err), UTIL_OK);
    assert_null(coverage_context_create(s, &err));
    assert_int_not_equal(err.code, UTIL_OK);
    assert_non_null(strstr(err.message, "openapi/ingestion.yml"));
    openapi_source_destroy(s);
}

/* The real spec: 33 operations; every union branch compiled. */
static void test_ingestion_spec(void **state)
{
    (void)state;
    struct util_error err;
    char schemas[4200];
    util_error_clear(&err);
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(schemas, sizeof(schemas), "%s/schemas", src ? src : ".");
    struct openapi_source *s = NULL;
    assert_int_equal(openapi_source_open_dir(schemas, &s, &err), UTIL_OK);
    struct coverage_context *real = coverage_context_create(s, &err);
    assert_non_null(real);
    struct coverage *cov = coverage_create(real);
    struct coverage_totals t;
    coverage_totals(cov, &t);
    assert_int_equal(t.dim[COVERAGE_OPERATIONS].total, 33);
    assert_int_equal(t.dim[COVERAGE_STATUSES].total, 66);
    cJSON *doc = to_json(cov);
    /* Every authentication type is a branch of createAuthentication's input. */
    const cJSON *u = union_of(doc, "createAuthentication", "/input");
    assert_int_equal(cJSON_GetArraySize(get(u, "branches")), 6);
    assert_string_equal(get(u, "selector")->valuestring, "type");
    assert_int_equal(cJSON_GetArraySize(get(union_of(doc, "createTask", "/trigger"), "branches")),
                     4);
    cJSON_Delete(doc);
    coverage_destroy(cov);
    coverage_context_destroy(real);
    openapi_source_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skeleton),
        cmocka_unit_test(test_parameters_enums_properties),
        cmocka_unit_test(test_unions),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_gap_cap),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_odd_coverage_json),
        cmocka_unit_test(test_merge_and_json_round_trip),
        cmocka_unit_test(test_run_results),
        cmocka_unit_test(test_cassette),
        cmocka_unit_test(test_lcov),
        cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_gates),
        cmocka_unit_test(test_context_errors),
        cmocka_unit_test(test_ingestion_spec),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
