/* Tests of src/check: contract checks against the real derived schemas,
 * expectations and matchers, redaction. */
#include "check/check.h"
#include "openapi/source.h"
#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct check_contract *contract;

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    char schemas[4200];
    snprintf(schemas, sizeof(schemas), "%s/schemas", src ? src : ".");
    struct util_error err;
    util_error_clear(&err);
    contract = check_contract_create_dir(schemas, &err);
    if (!contract)
        fprintf(stderr, "contract: %s\n", err.message);
    return contract ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    check_contract_destroy(contract);
    return 0;
}

/* The item named name (index-th of that name), or fails. */
static const struct check_item *item(const struct check_list *l, const char *name, size_t index)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i].name, name) == 0 && index-- == 0)
            return &l->items[i];
    fail_msg("no check %s", name);
    return NULL;
}

static size_t count_named(const struct check_list *l, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++)
        n += strcmp(l->items[i].name, name) == 0;
    return n;
}

static void contract_run(const char *op, const char *method, const char *path, int status,
                         const char *ct, const char *body, const int *allowed, size_t nallowed,
                         struct check_list *out, const char **matched)
{
    struct check_response r = {status, ct, body, body ? strlen(body) : 0, NULL};
    struct util_error err;
    util_error_clear(&err);
    cJSON *doc = NULL;
    check_list_init(out);
    assert_int_equal(check_contract_response(contract, op, method, path, &r, allowed, nallowed, out,
                                             &doc, matched, &err),
                     UTIL_OK);
    cJSON_Delete(doc);
}

static void test_match(void **state)
{
    (void)state;
    assert_string_equal(check_contract_match(contract, "GET", "/1/tasks/abc"), "getTask");
    assert_string_equal(check_contract_match(contract, "POST", "/1/tasks/search"), "searchTasks");
    assert_string_equal(check_contract_match(contract, "get", "/1/tasks?page=2"), "getTasks");
    assert_string_equal(check_contract_match(contract, "PUT", "/1/tasks/x/enable"), "enableTask");
    assert_string_equal(check_contract_match(contract, "GET", "/1/runs/r/events/e"), "getEvent");
    assert_null(check_contract_match(contract, "PUT", "/1/tasks/x"));
    assert_null(check_contract_match(contract, "GET", "/1/nope"));
    assert_null(check_contract_match(contract, "GET", "/1/tasks//"));
    assert_string_equal(check_contract_path(contract, "getRun"), "/1/runs/{runID}");
}

static void test_contract_pass(void **state)
{
    (void)state;
    struct check_list l;
    const char *matched = NULL;
    contract_run(NULL, "DELETE", "/1/tasks/t1", 200, "application/json; charset=utf-8",
                 "{\"deletedAt\":\"2024-04-17T10:00:00Z\"}", NULL, 0, &l, &matched);
    assert_string_equal(matched, "deleteTask");
    assert_int_equal(l.count, 5);
    assert_int_equal(check_list_count(&l, CHECK_FAIL), 0);
    assert_string_equal(item(&l, "contract.operation", 0)->message,
                        "DELETE /1/tasks/{taskID} (deleteTask)");
    assert_int_equal(item(&l, "contract.schema", 0)->outcome, CHECK_PASS);
    check_list_finish(&l);
}

static void test_contract_schema_violations(void **state)
{
    (void)state;
    struct check_list l;
    contract_run("deleteTask", "DELETE", "/1/tasks/t1", 200, "application/json",
                 "{\"deletedAt\":7}", NULL, 0, &l, NULL);
    assert_int_equal(check_list_count(&l, CHECK_FAIL), 1);
    const struct check_item *v = item(&l, "contract.schema", 0);
    assert_int_equal(v->outcome, CHECK_FAIL);
    assert_string_equal(v->pointer, "/deletedAt");
    assert_string_equal(v->actual, "7");
    assert_string_equal(v->expected, "components/DeleteResponse.json#/properties/deletedAt/type");
    assert_non_null(strstr(v->message, "200 response of deleteTask: /deletedAt: expected string"));
    check_list_finish(&l);

    contract_run("deleteTask", "DELETE", "/1/tasks/t1", 200, "application/json", "{}", NULL, 0, &l,
                 NULL);
    v = item(&l, "contract.schema", 0);
    assert_int_equal(v->outcome, CHECK_FAIL);
    assert_string_equal(v->pointer, "");
    assert_non_null(strstr(v->message, "missing required property \"deletedAt\""));
    check_list_finish(&l);

    /* An array response with a bad item: the pointer names the item. */
    contract_run(NULL, "POST", "/1/tasks/search", 200, "application/json", "[{\"taskID\":1}]", NULL,
                 0, &l, NULL);
    assert_true(check_list_count(&l, CHECK_FAIL) >= 1);
    bool found = false;
    for (size_t i = 0; i < l.count; i++)
        found = found || (l.items[i].pointer && strcmp(l.items[i].pointer, "/0/taskID") == 0);
    assert_true(found);
    check_list_finish(&l);
}

static void test_contract_status_and_gaps(void **state)
{
    (void)state;
    struct check_list l;
    contract_run("getTask", "GET", "/1/tasks/x", 404, "application/json",
                 "{\"message\":\"not found\"}", NULL, 0, &l, NULL);
    const struct check_item *s = item(&l, "contract.status", 0);
    assert_int_equal(s->outcome, CHECK_FAIL);
    assert_string_equal(s->message, "status 404 is not documented for getTask (documented: 200, "
                                    "400)");
    assert_string_equal(s->expected, "200, 400");
    assert_string_equal(s->actual, "404");
    check_list_finish(&l);

    int allowed[] = {401, 404};
    contract_run("getTask", "GET", "/1/tasks/x", 404, "application/json",
                 "{\"message\":\"not found\"}", allowed, 2, &l, NULL);
    s = item(&l, "contract.status", 0);
    assert_int_equal(s->outcome, CHECK_GAP);
    assert_int_equal(check_list_count(&l, CHECK_FAIL), 0);
    assert_int_equal(check_list_count(&l, CHECK_GAP), 1);
    check_list_finish(&l);

    /* 400 is documented with ErrorBase. */
    contract_run("getTask", "GET", "/1/tasks/x", 400, "application/json", "{\"message\":\"bad\"}",
                 NULL, 0, &l, NULL);
    assert_int_equal(check_list_count(&l, CHECK_FAIL), 0);
    check_list_finish(&l);
}

static void test_contract_content_type_and_json(void **state)
{
    (void)state;
    struct check_list l;
    contract_run("deleteTask", "DELETE", "/1/tasks/t", 200, "text/plain", "{\"deletedAt\":\"x\"}",
                 NULL, 0, &l, NULL);
    const struct check_item *c = item(&l, "contract.content-type", 0);
    assert_int_equal(c->outcome, CHECK_FAIL);
    assert_string_equal(c->message, "Content-Type is text/plain, expected application/json");
    check_list_finish(&l);

    contract_run("deleteTask", "DELETE", "/1/tasks/t", 200, "application/json",
                 "{\"deletedAt\":\"x\"", NULL, 0, &l, NULL);
    c = item(&l, "contract.json", 0);
    assert_int_equal(c->outcome, CHECK_FAIL);
    assert_non_null(strstr(c->message, "body is not JSON"));
    assert_int_equal(count_named(&l, "contract.schema"), 0);
    check_list_finish(&l);

    contract_run(NULL, "GET", "/1/unknown", 200, "application/json", "{}", NULL, 0, &l, NULL);
    c = item(&l, "contract.operation", 0);
    assert_int_equal(c->outcome, CHECK_FAIL);
    assert_string_equal(c->message, "no operation of the spec answers GET /1/unknown");
    assert_int_equal(l.count, 1);
    check_list_finish(&l);
}

/* ---- expectations ---- */

static int mismatches(const char *expected, const char *actual, bool exact, struct check_list *out)
{
    cJSON *e = cJSON_Parse(expected), *a = actual ? cJSON_Parse(actual) : NULL;
    assert_non_null(e);
    check_list_init(out);
    int n = check_match_value(e, a, exact, "expect.body", "", NULL, out);
    cJSON_Delete(e);
    cJSON_Delete(a);
    return n;
}

static void test_body_subset_and_exact(void **state)
{
    (void)state;
    struct check_list l;
    const char *actual = "{\"a\":1,\"b\":{\"c\":\"x\",\"d\":[1,2]},\"e\":null}";
    assert_int_equal(mismatches("{\"a\":1.0,\"b\":{\"c\":\"x\"}}", actual, false, &l), 0);
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"a\":1,\"b\":{\"c\":\"x\"}}", actual, true, &l), 2);
    assert_string_equal(l.items[0].pointer, "/b/d");
    assert_string_equal(l.items[1].pointer, "/e");
    assert_string_equal(l.items[0].message, "/b/d: unexpected key (body_exact lists every key)");
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"b\":{\"c\":\"y\",\"z\":1}}", actual, false, &l), 2);
    assert_string_equal(l.items[0].pointer, "/b/c");
    assert_string_equal(l.items[0].expected, "\"y\"");
    assert_string_equal(l.items[0].actual, "\"x\"");
    assert_string_equal(l.items[1].pointer, "/b/z");
    assert_string_equal(l.items[1].actual, "(absent)");
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"b\":{\"d\":[1]}}", actual, false, &l), 1);
    assert_string_equal(l.items[0].message,
                        "/b/d: a list of 2, expected 1 (use $contains for membership)");
    check_list_finish(&l);
}

static void test_matchers(void **state)
{
    (void)state;
    struct check_list l;
    const char *doc = "{\"id\":\"6c02aeb1-775e-418e-870b-1faccd4b2c0f\",\"at\":\"2024-04-17T10:"
                      "00:00.5+02:00\",\"n\":3,\"name\":\"ic-abc-task\",\"list\":[{\"k\":1},{\"k\":"
                      "2}],\"flag\":true}";
    assert_int_equal(mismatches("{\"id\":{\"$uuid\":true},\"at\":{\"$date-time\":true},"
                                "\"n\":{\"$type\":\"integer\"},\"name\":{\"$regex\":\"^ic-[a-z]+-"
                                "task$\",\"$length\":{\"min\":3,\"max\":20}},\"list\":{\"$length\":"
                                "2,\"$contains\":{\"k\":2}},\"flag\":{\"$type\":[\"string\","
                                "\"boolean\"]},\"gone\":{\"$absent\":true},\"list2\":{\"$absent\":"
                                "true}}",
                                doc, false, &l),
                     0);
    check_list_finish(&l);

    assert_int_equal(mismatches("{\"name\":{\"$uuid\":true}}", doc, false, &l), 1);
    assert_string_equal(l.items[0].message, "/name: expected a UUID");
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"at\":{\"$date-time\":true}}",
                                "{\"at\":\"2024-02-30T10:00:00Z\"}", false, &l),
                     1);
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"n\":{\"$type\":\"string\"}}", doc, false, &l), 1);
    assert_string_equal(l.items[0].message, "/n: expected type string, got integer");
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"name\":{\"$regex\":\"^x\"}}", doc, false, &l), 1);
    assert_string_equal(l.items[0].expected, "matches /^x/");
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"list\":{\"$length\":{\"min\":3}}}", doc, false, &l), 1);
    assert_string_equal(l.items[0].message, "/list: length 2, expected length at least 3");
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"list\":{\"$contains\":{\"k\":3}}}", doc, false, &l), 1);
    assert_string_equal(l.items[0].message, "/list: no item matches");
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"name\":{\"$contains\":\"abc\"}}", doc, false, &l), 0);
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"n\":{\"$absent\":true}}", doc, false, &l), 1);
    assert_string_equal(l.items[0].message, "/n: present, expected absent");
    check_list_finish(&l);
    assert_int_equal(
        mismatches("{\"list\":{\"$exact\":[{\"k\":1},{\"k\":2,\"x\":0}]}}", doc, false, &l), 1);
    assert_string_equal(l.items[0].pointer, "/list/1/x");
    check_list_finish(&l);
    assert_int_equal(mismatches("{\"missing\":{\"$type\":\"string\"}}", doc, false, &l), 1);
    assert_string_equal(l.items[0].message, "/missing: absent");
    check_list_finish(&l);
}

/* One mismatch whose message and pointer are as given. */
static void one(const char *expected, const char *actual, const char *message, const char *pointer)
{
    struct check_list l;
    int n = mismatches(expected, actual, false, &l);
    if (n != 1)
        fail_msg("%s against %s: %d mismatches", expected, actual, n);
    assert_string_equal(l.items[0].message, message);
    assert_string_equal(l.items[0].pointer, pointer);
    check_list_finish(&l);
}

static void none(const char *expected, const char *actual)
{
    struct check_list l;
    int n = mismatches(expected, actual, false, &l);
    if (n != 0)
        fail_msg("%s against %s: %s", expected, actual, l.items[0].message);
    check_list_finish(&l);
}

/* $each, $sorted, $not, $in and the ranges: pass, fail and the message,
 * which names what was expected and where. */
static void test_live_matchers(void **state)
{
    (void)state;
    const char *runs = "{\"runs\":[{\"id\":\"a\",\"status\":\"finished\",\"at\":"
                       "\"2024-04-17T10:00:00Z\",\"n\":3},{\"id\":\"b\",\"status\":"
                       "\"created\",\"at\":\"2024-04-17T11:30:00+02:00\",\"n\":1},{\"id\":"
                       "\"c\",\"status\":\"created\",\"at\":\"2024-04-17T09:59:59.5Z\"}]}";
    /* $each */
    none("{\"runs\":{\"$each\":{\"status\":{\"$in\":[\"finished\",\"created\"]}}}}", runs);
    none("{\"runs\":{\"$each\":{\"status\":\"x\"}}}", "{\"runs\":[]}");
    one("{\"runs\":{\"$each\":{\"status\":\"created\"}}}", runs,
        "/runs/0/status: expected \"created\"", "/runs/0/status");
    one("{\"runs\":{\"$each\":{\"n\":{\"$type\":\"integer\"}}}}", runs, "/runs/2/n: absent",
        "/runs/2/n");
    one("{\"runs\":{\"$each\":1}}", "{\"runs\":{}}", "/runs: expected a list ($each), got object",
        "/runs");
    /* $sorted: dates as instants (11:30+02:00 is before 10:00Z), absent
     * and null first, strings bytewise. */
    none("{\"runs\":{\"$sorted\":{\"by\":\"id\",\"order\":\"asc\"}}}", runs);
    none("{\"runs\":{\"$sorted\":{\"by\":\"status\",\"order\":\"desc\"}}}", runs);
    none("{\"r\":{\"$sorted\":{\"by\":\"at\"}}}",
         "{\"r\":[{\"at\":null},{\"x\":1},{\"at\":\"2024-04-17T11:30:00+02:00\"},{\"at\":"
         "\"2024-04-17T09:59:59.5Z\"},{\"at\":\"2024-04-17T10:00:00Z\"}]}");
    none("{\"r\":{\"$sorted\":{\"by\":\"/a/b\",\"order\":\"desc\"}}}",
         "{\"r\":[{\"a\":{\"b\":true}},{\"a\":{\"b\":false}},{\"a\":{}}]}");
    none("{\"r\":{\"$sorted\":{\"by\":\"k\"}}}", "{\"r\":[{\"k\":\"B\"},{\"k\":\"a\"}]}");
    one("{\"runs\":{\"$sorted\":{\"by\":\"at\",\"order\":\"asc\"}}}", runs,
        "/runs/1/at: \"2024-04-17T11:30:00+02:00\" after \"2024-04-17T10:00:00Z\" (the item "
        "before): expected sorted by at, asc",
        "/runs/1/at");
    none("{\"runs\":{\"$sorted\":{\"by\":\"n\",\"order\":\"desc\"}}}", runs);
    one("{\"runs\":{\"$sorted\":{\"by\":\"n\",\"order\":\"asc\"}}}", runs,
        "/runs/1/n: 1 after 3 (the item before): expected sorted by n, asc", "/runs/1/n");
    one("{\"r\":{\"$sorted\":{\"by\":\"k\"}}}", "{\"r\":[{\"k\":1},{\"k\":\"1\"}]}",
        "/r/1/k: \"1\" cannot be ordered against 1 of the item before (expected sorted by k, asc)",
        "/r/1/k");
    one("{\"r\":{\"$sorted\":{\"by\":\"k\"}}}", "{\"r\":3}",
        "/r: expected a list sorted by k, asc, got integer", "/r");
    /* $not */
    none("{\"runs\":{\"$each\":{\"id\":{\"$not\":{\"$in\":[\"x\",\"y\"]}}}}}", runs);
    none("{\"gone\":{\"$not\":\"x\"}}", runs);
    one("{\"runs\":{\"$each\":{\"id\":{\"$not\":\"b\"}}}}", runs,
        "/runs/1/id: matches \"b\", expected it not to ($not)", "/runs/1/id");
    one("{\"runs\":{\"$not\":{\"$length\":3}}}", runs,
        "/runs: matches {\"$length\":3}, expected it not to ($not)", "/runs");
    /* $in */
    none("{\"runs\":{\"$contains\":{\"n\":{\"$in\":[1,2]}}}}", runs);
    one("{\"runs\":[{\"status\":{\"$in\":[\"success\",\"failure\"]}},{},{}]}", runs,
        "/runs/0/status: expected one of [\"success\",\"failure\"]", "/runs/0/status");
    one("{\"missing\":{\"$in\":[1]}}", runs, "/missing: absent", "/missing");
    /* ranges over numbers */
    none("{\"runs\":[{\"n\":{\"$gte\":3,\"$lte\":3}},{\"n\":{\"$gt\":0,\"$lt\":1.5}},{}]}", runs);
    one("{\"runs\":[{\"n\":{\"$gt\":3}},{},{}]}", runs, "/runs/0/n: expected > 3", "/runs/0/n");
    one("{\"runs\":[{\"n\":{\"$lt\":1}},{},{}]}", "{\"runs\":[{\"n\":\"1\"},{},{}]}",
        "/runs/0/n: expected a number < 1, got string", "/runs/0/n");
    /* ranges over date-times: instants, whatever the offset or fraction */
    none("{\"runs\":{\"$each\":{\"at\":{\"$gte\":\"2024-04-17T08:59:59Z\",\"$lt\":"
         "\"2024-04-17T12:00:01+02:00\"}}}}",
         runs);
    one("{\"runs\":{\"$each\":{\"at\":{\"$gte\":\"2024-04-17T09:30:00.001Z\"}}}}", runs,
        "/runs/1/at: expected a date-time >= 2024-04-17T09:30:00.001Z", "/runs/1/at");
    one("{\"a\":{\"$lte\":\"2024-04-17T10:00:00Z\"}}", "{\"a\":\"today\"}",
        "/a: expected a date-time <= 2024-04-17T10:00:00Z, got a string that is not an RFC 3339 "
        "date-time",
        "/a");
    one("{\"a\":{\"$gt\":\"later\"}}", "{\"a\":\"2024-04-17T10:00:00Z\"}",
        "/a: $gt: the bound 'later' is not an RFC 3339 date-time", "/a");
}

static void test_expect_status_headers_body(void **state)
{
    (void)state;
    struct case_status st[] = {{200, false}, {4, true}};
    struct case_expect e = {.status = st, .nstatus = 2};
    struct http_headers h;
    http_headers_init(&h);
    http_headers_add(&h, "Content-Type", "application/json");
    http_headers_add(&h, "X-Count", "42");
    cJSON *eh = cJSON_Parse("{\"content-type\":{\"$regex\":\"json\"},\"x-count\":42,"
                            "\"x-none\":{\"$absent\":true}}");
    cJSON *eb = cJSON_Parse("{\"a\":1}");
    cJSON *doc = cJSON_Parse("{\"a\":2}");
    struct check_list l;
    check_list_init(&l);
    assert_int_equal(check_expect(&e, eh, eb, 201, &h, doc, NULL, &l), UTIL_OK);
    const struct check_item *s = item(&l, "expect.status", 0);
    assert_int_equal(s->outcome, CHECK_FAIL);
    assert_string_equal(s->message, "status 201, expected 200, 4xx");
    assert_int_equal(count_named(&l, "expect.header"), 3);
    assert_int_equal(item(&l, "expect.header", 0)->outcome, CHECK_PASS);
    assert_int_equal(item(&l, "expect.header", 1)->outcome, CHECK_PASS);
    const struct check_item *b = item(&l, "expect.body", 0);
    assert_int_equal(b->outcome, CHECK_FAIL);
    assert_string_equal(b->pointer, "/a");
    check_list_finish(&l);

    cJSON *bad = cJSON_Parse("{\"x-count\":\"43\"}");
    check_list_init(&l);
    assert_int_equal(check_expect(&e, bad, NULL, 404, &h, doc, NULL, &l), UTIL_OK);
    assert_int_equal(item(&l, "expect.status", 0)->outcome, CHECK_PASS);
    assert_int_equal(item(&l, "expect.header", 0)->outcome, CHECK_FAIL);
    assert_string_equal(item(&l, "expect.header", 0)->message, "header x-count: expected \"43\"");
    check_list_finish(&l);
    cJSON_Delete(bad);
    cJSON_Delete(eh);
    cJSON_Delete(eb);
    cJSON_Delete(doc);
    http_headers_finish(&h);
}

static void test_redaction(void **state)
{
    (void)state;
    assert_true(check_secret_header("X-Algolia-API-Key"));
    assert_true(check_secret_header("Set-Cookie"));
    assert_true(check_secret_header("x-algolia-application-id"));
    assert_false(check_secret_header("x-algolia-agent"));
    assert_true(check_secret_field("client_secret"));
    assert_true(check_secret_field("apiKey"));
    assert_false(check_secret_field("username"));

    struct check_secrets s;
    check_secrets_init(&s);
    cJSON *body = cJSON_Parse("{\"type\":\"oauth\",\"input\":{\"client_id\":\"cid\","
                              "\"client_secret\":\"s3cr3t-value\",\"list\":[{\"password\":"
                              "\"hunter22\"}]}}");
    assert_int_equal(check_secrets_collect(&s, body), UTIL_OK);
    assert_int_equal(check_secrets_add(&s, "APIKEY-0123456789"), UTIL_OK);
    assert_int_equal(check_secrets_add(&s, "ab"), UTIL_OK); /* too short: ignored */
    assert_int_equal(s.count, 3);
    char *t = check_secrets_scrub(&s, "url?k=APIKEY-0123456789&p=hunter22 ab");
    assert_string_equal(t, "url?k=****&p=**** ab");
    free(t);
    /* Back to back, at both ends, nothing around, nothing at all. */
    t = check_secrets_scrub(&s, "hunter22hunter22 mid APIKEY-0123456789");
    assert_string_equal(t, "******** mid ****");
    free(t);
    t = check_secrets_scrub(&s, "");
    assert_string_equal(t, "");
    free(t);
    /* Where two secrets start at one place, the longer one wins: no
     * piece of it is left. */
    struct check_secrets two;
    check_secrets_init(&two);
    assert_int_equal(check_secrets_add(&two, "abcd"), UTIL_OK);
    assert_int_equal(check_secrets_add(&two, "abcdefgh"), UTIL_OK);
    t = check_secrets_scrub(&two, "xabcdefghx");
    assert_string_equal(t, "x****x");
    free(t);
    check_secrets_finish(&two);
    cJSON *resp = cJSON_Parse("{\"echo\":\"was s3cr3t-value\",\"key\":\"k\",\"input\":{"
                              "\"password\":null}}");
    assert_int_equal(check_redact_json(&s, body), UTIL_OK);
    assert_int_equal(check_redact_json(&s, resp), UTIL_OK);
    char *bt = cJSON_PrintUnformatted(body), *rt = cJSON_PrintUnformatted(resp);
    assert_string_equal(bt, "{\"type\":\"oauth\",\"input\":{\"client_id\":\"cid\","
                            "\"client_secret\":\"****\",\"list\":[{\"password\":\"****\"}]}}");
    assert_string_equal(rt, "{\"echo\":\"was ****\",\"key\":\"****\",\"input\":{\"password\":"
                            "null}}");
    free(bt);
    free(rt);
    struct check_list l;
    check_list_init(&l);
    check_list_add(&l, "expect.body", CHECK_FAIL, "/x", "hunter22", "s3cr3t-value", "saw %s",
                   "APIKEY-0123456789");
    assert_int_equal(check_list_scrub(&s, &l), UTIL_OK);
    assert_string_equal(l.items[0].message, "saw ****");
    assert_string_equal(l.items[0].expected, "****");
    assert_string_equal(l.items[0].actual, "****");
    check_list_finish(&l);
    cJSON_Delete(body);
    cJSON_Delete(resp);
    check_secrets_finish(&s);
}

/* Fails when a text field of an item of l holds needle. */
static void assert_no_leak(const struct check_list *l, const char *needle)
{
    for (size_t i = 0; i < l->count; i++) {
        const struct check_item *it = &l->items[i];
        const char *f[] = {it->message, it->pointer, it->expected, it->actual};
        for (size_t k = 0; k < 4; k++)
            if (f[k] && strstr(f[k], needle))
                fail_msg("%s in %s: %s", needle, it->name, f[k]);
    }
}

/* A GET /1/authentications answer with secrets of every type in a basic
 * input, one undocumented property, and a secret inside a value that
 * fails an enum. */
#define SECRET_LIST                                                                                \
    "{\"authentications\":[{\"authenticationID\":\"6c02aeb1-775e-418e-870b-1faccd4b2c0f\","        \
    "\"type\":\"basic\",\"name\":\"n\",\"input\":{\"username\":\"u\",\"password\":\"SECRET-PW\","  \
    "\"client_secret\":\"SECRET-CS\",\"apiKey\":\"SECRET-AK\",\"privateKey\":{\"nested\":"         \
    "\"SECRET-PK\"},\"key\":[\"SECRET-KA\"],\"undocumented\":\"x\"},\"createdAt\":"                \
    "\"2024-01-01T00:00:00Z\"},{\"authenticationID\":\"6c02aeb1-775e-418e-870b-1faccd4b2c0f\","    \
    "\"type\":{\"password\":\"SECRET-EN\"},\"name\":\"n\",\"input\":{},\"createdAt\":"             \
    "\"2024-01-01T00:00:00Z\"}],\"pagination\":{\"nbPages\":1,\"page\":1,\"nbItems\":2,"           \
    "\"itemsPerPage\":10}}"

/* Issue 12, L1: schema violations show the failing value with its secret
 * members replaced (any type), and a message that would quote a secret is
 * withheld; the checks still see the real body. */
static void test_contract_excerpts_redacted(void **state)
{
    (void)state;
    struct check_secrets s;
    check_secrets_init(&s);
    const char *fields[] = {"Undocumented"};
    check_secrets_fields(&s, fields, 1);
    struct check_response r = {200, "application/json", SECRET_LIST, strlen(SECRET_LIST), &s};
    struct util_error err;
    util_error_clear(&err);
    struct check_list l;
    check_list_init(&l);
    cJSON *doc = NULL;
    assert_int_equal(check_contract_response(contract, "getAuthentications", "GET",
                                             "/1/authentications", &r, NULL, 0, &l, &doc, NULL,
                                             &err),
                     UTIL_OK);
    assert_true(check_list_count(&l, CHECK_FAIL) >= 3);
    assert_no_leak(&l, "SECRET");
    assert_no_leak(&l, "\"x\"");
    bool input = false, withheld = false;
    for (size_t i = 0; i < l.count; i++) {
        const struct check_item *it = &l.items[i];
        if (it->pointer && strcmp(it->pointer, "/authentications/0/input") == 0) {
            input = true;
            assert_string_equal(it->actual,
                                "{\"username\":\"u\",\"password\":\"****\",\"client_secret\":"
                                "\"****\",\"apiKey\":\"****\",\"privateKey\":\"****\",\"key\":"
                                "\"****\",\"undocumented\":\"****\"}");
        }
        if (it->pointer && strcmp(it->pointer, "/authentications/1/type") == 0 &&
            strstr(it->message, "not shown: it holds a secret"))
            withheld = true;
    }
    assert_true(input);
    assert_true(withheld);
    /* The caller still gets the real body. */
    const cJSON *pw = json_pointer_get(doc, "/authentications/0/input/password", false);
    assert_string_equal(pw->valuestring, "SECRET-PW");
    cJSON_Delete(doc);
    check_list_finish(&l);
    check_secrets_finish(&s);
}

/* Issue 12, L1: an expect.body mismatch on a secret path shows "****" for
 * both sides; the comparison is made on the real values. */
static void test_expect_excerpts_redacted(void **state)
{
    (void)state;
    cJSON *doc = cJSON_Parse(SECRET_LIST);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "authentications"), 0);
    cJSON *exp = cJSON_Parse("{\"input\":{\"password\":\"not-it\",\"privateKey\":{\"nested\":"
                             "\"nope\"},\"key\":{\"$length\":3},\"username\":\"someone\"}}");
    cJSON *same = cJSON_Parse("{\"input\":{\"password\":\"SECRET-PW\"}}");
    cJSON *whole = cJSON_Parse("{\"input\":7}");
    cJSON *exact = cJSON_Parse("{\"username\":\"u\"}");
    struct check_secrets s;
    check_secrets_init(&s);
    struct check_list l;
    check_list_init(&l);
    assert_int_equal(check_match_value(exp, first, false, "expect.body", "", &s, &l), 4);
    assert_no_leak(&l, "SECRET");
    assert_string_equal(l.items[0].pointer, "/input/password");
    assert_string_equal(l.items[0].actual, "\"****\"");
    assert_string_equal(l.items[0].expected, "\"****\"");
    assert_string_equal(l.items[0].message, "/input/password: expected \"****\"");
    /* Not a secret member: shown. */
    assert_string_equal(l.items[3].actual, "\"u\"");
    check_list_finish(&l);
    assert_int_equal(check_match_value(same, first, false, "expect.body", "", &s, &l), 0);
    check_list_finish(&l);
    /* A value holding secrets, and body_exact naming secret members. */
    assert_int_equal(check_match_value(whole, first, false, "expect.body", "", &s, &l), 1);
    assert_no_leak(&l, "SECRET");
    assert_non_null(strstr(l.items[0].actual, "\"privateKey\":\"****\""));
    check_list_finish(&l);
    assert_int_equal(check_match_value(exact, cJSON_GetObjectItem(first, "input"), true,
                                       "expect.body", "", &s, &l),
                     6);
    assert_no_leak(&l, "SECRET");
    check_list_finish(&l);
    cJSON_Delete(exact);
    cJSON_Delete(exp);
    cJSON_Delete(same);
    cJSON_Delete(whole);
    cJSON_Delete(doc);
    check_secrets_finish(&s);
}

/* Issue 12, L4: a literal secret is found raw, percent-encoded in either
 * case, JSON- and XML-escaped, with '+' for a space, in any mix, and in
 * base64 at any alignment; L2: secret members of any type are replaced
 * (null is left: it holds nothing). */
static void test_secret_forms(void **state)
{
    (void)state;
    struct check_secrets s;
    check_secrets_init(&s);
    assert_int_equal(check_secrets_add(&s, "sk+LEAK/CHECK=1234\"q\\x&y<z> 1"), UTIL_OK);
    const char *const texts[] = {
        "[sk+LEAK/CHECK=1234\"q\\x&y<z> 1]",
        "[sk%2BLEAK%2FCHECK%3D1234%22q%5Cx%26y%3Cz%3E%201]",
        "[sk%2bLEAK%2fCHECK%3d1234%22q%5cx%26y%3cz%3e+1]",
        "[sk+LEAK/CHECK=1234\\\"q\\\\x&y<z> 1]",
        "[sk+LEAK\\/CHECK=1234\\u0022q\\u005cx\\u0026y\\u003cz\\u003e 1]",
        "[sk+LEAK/CHECK=1234&quot;q\\x&amp;y&lt;z&gt; 1]",
        "[sk+LEAK/CHECK%3D1234\"q\\x&y<z>%201]",
        "[c2srTEVBSy9DSEVDSz0xMjM0InFceCZ5PHo+IDE=]",
        "[eHNrK0xFQUsvQ0hFQ0s9MTIzNCJxXHgmeTx6PiAx]",
        "[eHlzaytMRUFLL0NIRUNLPTEyMzQicVx4Jnk8ej4gMQ==]",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *t = check_secrets_scrub(&s, texts[i]);
        assert_non_null(t);
        if (strstr(t, "LEAK") || strstr(t, "TEVBSy9DSEVDSz0xMjM0") ||
            strstr(t, "xFQUsvQ0hFQ0s9MTIzNC") || strstr(t, "MRUFLL0NIRUNLPTEyMzQ"))
            fail_msg("form %zu not scrubbed: %s -> %s", i, texts[i], t);
        assert_non_null(strstr(t, "****"));
        free(t);
    }
    char *t = check_secrets_scrub(&s, "sk+LEAK/CHECK=1234 is not the key");
    assert_string_equal(t, "sk+LEAK/CHECK=1234 is not the key");
    free(t);
    /* Secret members of any type, at any depth, in JSON and in JSON text. */
    const char *fields[] = {"Token"};
    check_secrets_fields(&s, fields, 1);
    cJSON *doc = cJSON_Parse("{\"a\":[{\"privateKey\":{\"n\":\"X1\"},\"KEY\":[\"X2\"],\"password\":"
                             "12345,\"secret\":true,\"token\":{\"t\":1},\"apiKey\":null},"
                             "\"{\\\"password\\\":\\\"X3\\\"}\"]}");
    assert_int_equal(check_redact_json(&s, doc), UTIL_OK);
    char *out = cJSON_PrintUnformatted(doc);
    assert_string_equal(out, "{\"a\":[{\"privateKey\":\"****\",\"KEY\":\"****\",\"password\":"
                             "\"****\",\"secret\":\"****\",\"token\":\"****\",\"apiKey\":null},"
                             "\"{\\\"password\\\":\\\"****\\\"}\"]}");
    free(out);
    cJSON_Delete(doc);
    t = check_secrets_scrub(&s,
                            "{\"x\":{\"password\":[\"X4\",{\"y\":\"X5\"}]},\"cut\":{\"key\":\"X6");
    assert_string_equal(t, "{\"x\":{\"password\":\"****\"},\"cut\":{\"key\":\"****\"");
    free(t);
    check_secrets_finish(&s);
}

/* check_contract_load_start/finish: the contract of check_contract_create,
 * loaded on a thread; a bad directory's error comes out of finish. */
static void test_contract_loader(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    char schemas[4200];
    snprintf(schemas, sizeof(schemas), "%s/schemas", src ? src : ".");
    struct util_error err;
    util_error_clear(&err);
    struct openapi_source *dir = NULL;
    assert_int_equal(openapi_source_open_dir(schemas, &dir, &err), UTIL_OK);
    struct check_contract *c = check_contract_load_finish(check_contract_load_start(dir), &err);
    assert_non_null(c);
    assert_string_equal(check_contract_match(c, "GET", "/1/tasks/abc"), "getTask");
    check_contract_destroy(c);
    /* Started and abandoned (a command that stops early). */
    check_contract_destroy(check_contract_load_finish(check_contract_load_start(dir), NULL));
    openapi_source_destroy(dir);
    /* A bad directory is refused when it is opened, naming it. */
    struct openapi_source *bad = NULL;
    assert_int_not_equal(openapi_source_open_dir("/nonexistent/schemas", &bad, &err), UTIL_OK);
    assert_null(bad);
    assert_non_null(strstr(err.message, "/nonexistent/schemas"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_contract_pass),
        cmocka_unit_test(test_contract_schema_violations),
        cmocka_unit_test(test_contract_status_and_gaps),
        cmocka_unit_test(test_contract_content_type_and_json),
        cmocka_unit_test(test_body_subset_and_exact),
        cmocka_unit_test(test_matchers),
        cmocka_unit_test(test_live_matchers),
        cmocka_unit_test(test_expect_status_headers_body),
        cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_contract_excerpts_redacted),
        cmocka_unit_test(test_expect_excerpts_redacted),
        cmocka_unit_test(test_secret_forms),
        cmocka_unit_test(test_contract_loader),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
