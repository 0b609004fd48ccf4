/* Cassettes: format round trips, loader errors, redaction, matching,
 * transports in every record mode, atomic saving, HAR export. */
#include "cassette/caps.h"
#include "cassette/cassette.h"
#include "cassette/internal.h" /* cassette_note_placeholder */
#include "openapi/spec.h"
#include "schema/schema.h"
#include "util/base64.h"
#include "util/file.h"
#include "json/json.h"

#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- helpers ---- */

static char tmpdir[256];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ic-cassette-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void req_set(struct http_request *r, const char *method, const char *url, const char *body)
{
    http_request_finish(r);
    http_request_init(r);
    assert_int_equal(http_request_set(r, method, url), UTIL_OK);
    if (body)
        assert_int_equal(http_request_set_body(r, body, strlen(body)), UTIL_OK);
}

static void resp_set(struct http_response *r, int status, const char *body)
{
    http_response_finish(r);
    http_response_init(r);
    r->status = status;
    r->body = strdup(body);
    assert_non_null(r->body);
    r->body_len = strlen(body);
}

/* Appends one exchange without a redactor's secrets. */
static void add(struct cassette *c, const char *method, const char *url, const char *body,
                int status, const char *rbody)
{
    struct http_request rq;
    struct http_response rs;
    http_request_init(&rq);
    http_response_init(&rs);
    req_set(&rq, method, url, body);
    if (body)
        assert_int_equal(http_headers_add(&rq.headers, "Content-Type", "application/json"),
                         UTIL_OK);
    resp_set(&rs, status, rbody);
    assert_int_equal(http_headers_add(&rs.headers, "Content-Type", "application/json"), UTIL_OK);
    struct util_error e;
    util_error_clear(&e);
    int rc = cassette_append(c, &rq, &rs, "case", "step", NULL, &e);
    if (rc)
        fail_msg("append: %s", e.message);
    http_request_finish(&rq);
    http_response_finish(&rs);
}

static char *save(const struct cassette *c, const struct cassette_redactor *r, size_t *len)
{
    struct util_buf b;
    util_buf_init(&b, CASSETTE_CAP_FILE);
    struct util_error e;
    util_error_clear(&e);
    if (cassette_save_buf(c, r, &b, &e) != UTIL_OK)
        fail_msg("save: %s", e.message);
    if (len)
        *len = b.len;
    return util_buf_steal(&b);
}

static struct cassette *load(const char *text, size_t len)
{
    struct cassette *c = NULL;
    struct util_error e;
    util_error_clear(&e);
    if (cassette_load_text(text, len, "t.yaml", &c, &e) != UTIL_OK)
        fail_msg("load: %s\n--- text ---\n%.*s", e.message, (int)len, text);
    return c;
}

static struct util_error load_fail(const char *text, int code)
{
    struct cassette *c = NULL;
    struct util_error e;
    util_error_clear(&e);
    int rc = cassette_load_text(text, strlen(text), "t.yaml", &c, &e);
    if (rc != code)
        fail_msg("expected code %d, got %d (%s) for:\n%s", code, rc, e.message, text);
    assert_null(c);
    return e;
}

static void assert_same_interaction(const struct cassette_interaction *a,
                                    const struct cassette_interaction *b)
{
    assert_string_equal(a->method, b->method);
    assert_string_equal(a->uri, b->uri);
    assert_int_equal(a->request_body == NULL, b->request_body == NULL);
    if (a->request_body) {
        assert_int_equal(a->request_body_len, b->request_body_len);
        assert_memory_equal(a->request_body, b->request_body, a->request_body_len);
    }
    assert_int_equal(a->request_header_count, b->request_header_count);
    for (size_t i = 0; i < a->request_header_count; i++) {
        assert_string_equal(a->request_headers[i].name, b->request_headers[i].name);
        assert_string_equal(a->request_headers[i].value, b->request_headers[i].value);
    }
    assert_int_equal(a->status, b->status);
    assert_string_equal(a->status_message, b->status_message);
    assert_int_equal(a->response_header_count, b->response_header_count);
    for (size_t i = 0; i < a->response_header_count; i++) {
        assert_string_equal(a->response_headers[i].name, b->response_headers[i].name);
        assert_string_equal(a->response_headers[i].value, b->response_headers[i].value);
    }
    assert_int_equal(a->response_body_len, b->response_body_len);
    assert_memory_equal(a->response_body, b->response_body, a->response_body_len);
    assert_true((a->case_name == NULL) == (b->case_name == NULL));
    if (a->case_name)
        assert_string_equal(a->case_name, b->case_name);
    assert_true((a->step == NULL) == (b->step == NULL));
    if (a->step)
        assert_string_equal(a->step, b->step);
}

/* ---- format ---- */

static const char *const tricky[] = {
    "",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "null",
    "~",
    "200",
    "1e3",
    "0x1F",
    "1:20",
    "2024-01-01",
    "true",
    ".inf",
    "-",
    "- a",
    "a: b",
    "a #b",
    " lead",
    "trail ",
    "'quote'",
    "\"dq\"",
    "back\\slash",
    "tab\there",
    "line1\nline2",
    "line1\n\nline3\n",
    "\r\n",
    "é ü 日本 🎉",
    "<REDACTED:x>",
    "&anchor",
    "*alias",
    "!tag",
    "%percent",
    "@at",
    "`tick",
    "{flow}",
    "[seq]",
    "a,b",
    "?q",
    "| lit",
    "> fold",
    "=",
    "<<",
    "\xc2\x85nel",
    "\xe2\x80\xa8ls",
    "\xef\xbb\xbf\x62om",
    "ctrl\x01\x1f",
    "del\x7f",
};

static void test_round_trip_tricky(void **state)
{
    (void)state;
    struct cassette *c = cassette_create();
    assert_non_null(c);
    assert_int_equal(cassette_set_recorded_at(c, "2024-05-01T10:00:00Z"), UTIL_OK);
    assert_int_equal(cassette_set_spec_sha256(c, "00ff"), UTIL_OK);
    struct util_error e;
    util_error_clear(&e);
    size_t n = sizeof(tricky) / sizeof(tricky[0]);
    for (size_t i = 0; i < n; i++) {
        struct http_request rq;
        struct http_response rs;
        http_request_init(&rq);
        http_response_init(&rs);
        char url[256];
        snprintf(url, sizeof(url), "http://h/1/t%zu?q=%zu", i, i);
        req_set(&rq, i % 2 ? "POST" : "GET", url, i % 3 ? tricky[i] : NULL);
        assert_int_equal(http_headers_add(&rq.headers, "X-Tricky", tricky[i]), UTIL_OK);
        assert_int_equal(http_headers_add(&rq.headers, "X-Tricky", "second"), UTIL_OK);
        if (tricky[i][0])
            assert_int_equal(http_headers_add(&rq.headers, tricky[i], "as a name"), UTIL_OK);
        resp_set(&rs, 200 + (int)i % 3, tricky[i]);
        assert_int_equal(http_headers_add(&rs.headers, "Content-Type", tricky[i]), UTIL_OK);
        assert_int_equal(cassette_append(c, &rq, &rs, tricky[i], tricky[n - 1 - i], NULL, &e),
                         UTIL_OK);
        assert_int_equal(cassette_value_append(c, i % 2 ? "now" : "uuid", tricky[i], &e), UTIL_OK);
        http_request_finish(&rq);
        http_response_finish(&rs);
    }
    /* Binary bodies: NUL, invalid UTF-8. */
    struct http_request rq;
    struct http_response rs;
    http_request_init(&rq);
    http_response_init(&rs);
    req_set(&rq, "PUT", "http://h/bin", NULL);
    assert_int_equal(http_request_set_body(&rq, "a\0b\xff", 4), UTIL_OK);
    resp_set(&rs, 200, "");
    free(rs.body);
    rs.body = malloc(3);
    memcpy(rs.body, "\x80\0z", 3);
    rs.body_len = 3;
    assert_int_equal(cassette_append(c, &rq, &rs, NULL, NULL, NULL, &e), UTIL_OK);
    http_request_finish(&rq);
    http_response_finish(&rs);

    size_t len1, len2;
    char *y1 = save(c, NULL, &len1);
    struct cassette *d = load(y1, len1);
    assert_int_equal(cassette_count(d), cassette_count(c));
    for (size_t i = 0; i < cassette_count(c); i++)
        assert_same_interaction(cassette_at(c, i), cassette_at(d, i));
    assert_int_equal(cassette_value_count(d), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(cassette_value_at(d, i)->value, tricky[i]);
    assert_string_equal(cassette_recorded_at(d), "2024-05-01T10:00:00Z");
    assert_string_equal(cassette_spec_sha256(d), "00ff");
    assert_non_null(strstr(y1, "!!binary"));
    /* Deterministic: saving the loaded copy gives the same bytes. */
    char *y2 = save(d, NULL, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(y1, y2, len1);
    /* Interaction lines point at the "- " items. */
    assert_true(cassette_at(d, 0)->line > 1);
    free(y1);
    free(y2);
    cassette_destroy(c);
    cassette_destroy(d);
}

static void test_layout_and_plain_scalars(void **state)
{
    (void)state;
    struct cassette *c = cassette_create();
    add(c, "GET", "http://localhost:8080/1/tasks?page=2", NULL, 200, "{\"a\":1}");
    size_t len;
    char *y = save(c, NULL, &len);
    /* vcrpy's layout: top-level interactions and version, request and
     * response keys, header lists. */
    assert_non_null(strstr(y, "\ninteractions:\n- ingestcheck:\n"));
    assert_non_null(strstr(y, "  request:\n    body: null\n    headers: {}\n    method: GET\n"
                              "    uri: http://localhost:8080/1/tasks?page=2\n"));
    assert_non_null(strstr(y, "    headers:\n      Content-Type:\n      - application/json\n"));
    assert_non_null(strstr(y, "    status:\n      code: 200\n      message: OK\n"));
    assert_non_null(strstr(y, "\nversion: 1\n"));
    assert_non_null(strstr(y, "string: '{\"a\":1}'"));
    assert_int_equal(strncmp(y, "ingestcheck:\n  format: 1\n", 25), 0);
    free(y);
    cassette_destroy(c);
}

static void test_file_save_load(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof(path), "%s/a.yaml", tmpdir);
    struct cassette *c = cassette_create();
    add(c, "POST", "http://h/1/tasks", "{\"x\":1}", 201, "{}");
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(cassette_save_file(c, NULL, path, &e), UTIL_OK);
    struct cassette *d = NULL;
    assert_int_equal(cassette_load_file(path, &d, &e), UTIL_OK);
    assert_string_equal(cassette_source(d), path);
    assert_same_interaction(cassette_at(c, 0), cassette_at(d, 0));
    cassette_destroy(d);
    snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
    assert_int_equal(cassette_load_file(path, &d, &e), UTIL_ERR_IO);
    assert_non_null(strstr(e.message, "missing.yaml"));
    cassette_destroy(c);
}

/* ---- loader errors ---- */

static const char *const minimal = "interactions:\n"
                                   "- request:\n"
                                   "    body: null\n"
                                   "    headers: {}\n"
                                   "    method: GET\n"
                                   "    uri: http://h/1/tasks\n"
                                   "  response:\n"
                                   "    body: {string: ''}\n"
                                   "    headers: {}\n"
                                   "    status: {code: 200, message: OK}\n"
                                   "version: 1\n";

struct bad {
    const char *text;
    int code;
    int line;
    const char *needle;
};

static void test_load_errors(void **state)
{
    (void)state;
    const struct bad bads[] = {
        {"", UTIL_ERR_INVALID, 1, "empty file"},
        {"- a\n", UTIL_ERR_INVALID, 1, "expected a cassette"},
        {"interactions: {}\nversion: 1\n", UTIL_ERR_INVALID, 1,
         "expected interactions (a sequence), found a mapping"},
        {"interactions: []\n", UTIL_ERR_INVALID, 2, "no version key"},
        {"version: 1\n", UTIL_ERR_INVALID, 1, "no interactions"},
        {"interactions: []\nversion: 2\n", UTIL_ERR_INVALID, 2, "newer than this ingestcheck"},
        {"ingestcheck: {format: 7}\ninteractions: []\nversion: 1\n", UTIL_ERR_INVALID, 1,
         "format 7 is newer"},
        {"interactions: []\nversion: one\n", UTIL_ERR_INVALID, 2, "expected cassette version"},
        {"interactions: []\nversion: 1\nextra: 1\n", UTIL_ERR_INVALID, 3, "unknown key \"extra\""},
        {"interactions: []\nversion: 1\nversion: 1\n", UTIL_ERR_INVALID, 3, "duplicate key"},
        {"interactions:\n- request: {method: GET, uri: u}\nversion: 1\n", UTIL_ERR_INVALID, 2,
         "no response"},
        {"interactions:\n- request: {method: GET}\n  response: {status: {code: 200}}\nversion: 1\n",
         UTIL_ERR_INVALID, 2, "no uri"},
        {"interactions:\n- request: {method: GET, uri: u, x: 1}\n  response: {status: {code: "
         "200}}\n"
         "version: 1\n",
         UTIL_ERR_INVALID, 2, "unknown request key \"x\""},
        {"interactions:\n- request: {method: GET, uri: u}\n  response: {status: {code: OK}}\n"
         "version: 1\n",
         UTIL_ERR_INVALID, 3, "expected the status code (an integer)"},
        {"interactions:\n- request: {method: GET, uri: u}\n  response: {status: {code: 999}}\n"
         "version: 1\n",
         UTIL_ERR_INVALID, 3, "out of range"},
        {"interactions:\n- request: {method: [GET], uri: u}\n  response: {status: {code: 200}}\n"
         "version: 1\n",
         UTIL_ERR_INVALID, 2, "expected the method (a string), found a sequence"},
        {"interactions:\n- request: {method: GET, uri: u, headers: {A: [x], A: [y]}}\n"
         "  response: {status: {code: 200}}\nversion: 1\n",
         UTIL_ERR_INVALID, 2, "duplicate header \"A\""},
        {"interactions:\n- request: {method: &m GET, uri: *m}\n  response: {status: {code: 200}}\n"
         "version: 1\n",
         UTIL_ERR_INVALID, 2, "aliases"},
        {"interactions:\n- request: {method: GET, uri: !!int 5}\n  response: {status: {code: "
         "200}}\n"
         "version: 1\n",
         UTIL_ERR_INVALID, 2, "unsupported tag"},
        {"interactions:\n- request: {method: GET, uri: u, body: !!binary '***'}\n"
         "  response: {status: {code: 200}}\nversion: 1\n",
         UTIL_ERR_INVALID, 2, "malformed base64"},
        {"interactions:\n- request: {method: GET, uri: u\n", UTIL_ERR_PARSE, 0, "t.yaml:"},
        {"interactions: []\nversion: 1\n---\ninteractions: []\nversion: 1\n", UTIL_ERR_INVALID, 3,
         "second YAML document"},
        {"interactions: [\x01]\nversion: 1\n", UTIL_ERR_PARSE, 0, "t.yaml"},
        {"interactions: []\nversion: 1\n\xff\n", UTIL_ERR_PARSE, 0, "UTF-8"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct util_error e = load_fail(bads[i].text, bads[i].code);
        if (!strstr(e.message, bads[i].needle))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, e.message, bads[i].needle);
        if (bads[i].line && e.line != bads[i].line)
            fail_msg("case %zu: line %d, expected %d (%s)", i, e.line, bads[i].line, e.message);
        assert_non_null(strstr(e.message, "t.yaml"));
    }
    /* The minimal cassette itself loads, and its vcrpy-style "url" extra
     * in a response is ignored as vcrpy ignores it. */
    struct cassette *c = load(minimal, strlen(minimal));
    assert_int_equal(cassette_count(c), 1);
    cassette_destroy(c);
}

/* Every strict prefix of a saved cassette is refused (the version key
 * comes last), except the one missing only the final newline. */
static void test_truncation_refused(void **state)
{
    (void)state;
    struct cassette *c = cassette_create();
    add(c, "POST", "http://h/1/tasks?x=1", "{\"name\":\"a\"}", 200, "{\"taskID\":\"t\"}");
    add(c, "GET", "http://h/1/tasks/t", NULL, 200, "{\"taskID\":\"t\",\"enabled\":true}");
    size_t len;
    char *y = save(c, NULL, &len);
    for (size_t cut = 0; cut + 1 < len; cut++) {
        struct cassette *d = NULL;
        struct util_error e;
        util_error_clear(&e);
        int rc = cassette_load_text(y, cut, "t.yaml", &d, &e);
        if (rc == UTIL_OK)
            fail_msg("prefix of %zu/%zu bytes loaded:\n%.*s", cut, len, (int)cut, y);
        assert_true(rc == UTIL_ERR_PARSE || rc == UTIL_ERR_INVALID);
        assert_non_null(strstr(e.message, "t.yaml"));
    }
    free(y);
    cassette_destroy(c);
}

/* Mutated cassettes (byte flips, cut ranges, duplicated ranges) load or
 * fail with a located message; never crash (ASan, valgrind). A stand-in
 * for the later fuzz target, which is one line over cassette_load_text. */
static void test_mutations(void **state)
{
    (void)state;
    struct cassette *c = cassette_create();
    struct util_error e;
    util_error_clear(&e);
    add(c, "POST", "http://h/1/tasks?x=1&y=a,b", "{\"name\":\"a\",\"n\":[1,2]}", 200,
        "{\"taskID\":\"t\"}");
    add(c, "GET", "http://h/1/tasks/t", NULL, 404, "line1\nline2 'q' \"d\"");
    assert_int_equal(cassette_value_append(c, "now", "2024-01-01T00:00:00Z", &e), UTIL_OK);
    size_t len;
    char *y = save(c, NULL, &len);
    char *buf = malloc(len * 2 + 16);
    uint64_t s = 12345;
    static const char alphabet[] = " \n:-'\"{}[],#&*!|>%@`?\t\\0aZ9\x80\xff";
    int loaded = 0, refused = 0;
    for (int iter = 0; iter < 3000; iter++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = len;
        memcpy(buf, y, len);
        int kind = (int)((s >> 33) % 3);
        size_t at = (size_t)((s >> 13) % len);
        size_t span = 1 + (size_t)((s >> 45) % 40);
        if (at + span > len)
            span = len - at;
        if (kind == 0) {
            for (size_t k = 0; k < 1 + span % 3; k++)
                buf[(at + k * 7) % len] = alphabet[(s >> (k * 5 + 3)) % (sizeof(alphabet) - 1)];
        } else if (kind == 1) {
            memmove(buf + at, buf + at + span, len - at - span);
            n = len - span;
        } else {
            memmove(buf + at + span, buf + at, len - at);
            n = len + span;
        }
        struct cassette *d = NULL;
        util_error_clear(&e);
        int rc = cassette_load_text(buf, n, "m.yaml", &d, &e);
        if (rc == UTIL_OK) {
            loaded++;
            /* Whatever loaded saves again. */
            struct util_buf out;
            util_buf_init(&out, CASSETTE_CAP_FILE);
            struct util_error se;
            util_error_clear(&se);
            int src = cassette_save_buf(d, NULL, &out, &se);
            assert_true(src == UTIL_OK || src == UTIL_ERR_INVALID);
            util_buf_finish(&out);
            cassette_destroy(d);
        } else {
            refused++;
            assert_null(d);
            assert_true(rc == UTIL_ERR_PARSE || rc == UTIL_ERR_INVALID || rc == UTIL_ERR_LIMIT);
            assert_non_null(strstr(e.message, "m.yaml"));
        }
    }
    assert_true(loaded > 0 && refused > 0);
    free(buf);
    free(y);
    cassette_destroy(c);
}

/* Case durations (for `run --shard`): set, replaced, kept through a save
 * and load, apart from the other values; a value that is not a whole
 * number of milliseconds reads as none. */
static void test_case_durations(void **state)
{
    (void)state;
    struct cassette *c = cassette_create(), *d = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_true(cassette_case_duration_ms(c, "a") < 0);
    assert_int_equal(cassette_value_append(c, "now@a", "1700000000", &e), UTIL_OK);
    assert_int_equal(cassette_set_case_duration_ms(c, "a", 1234.4, &e), UTIL_OK);
    assert_int_equal(cassette_set_case_duration_ms(c, "a: b", 7, &e), UTIL_OK);
    assert_int_equal(cassette_set_case_duration_ms(c, "a", 99.6, &e), UTIL_OK); /* replaces */
    assert_int_equal(cassette_value_count(c), 3);
    assert_true(cassette_case_duration_ms(c, "a") == 100);
    assert_true(cassette_case_duration_ms(c, "a: b") == 7);
    assert_true(cassette_case_duration_ms(c, "now") < 0);
    assert_int_equal(cassette_set_case_duration_ms(c, "a", -1, &e), UTIL_ERR_USAGE);
    assert_int_equal(cassette_set_case_duration_ms(c, "a", NAN, &e), UTIL_ERR_USAGE);
    size_t len, cursor = 0;
    char *y = save(c, NULL, &len);
    assert_non_null(strstr(y, "name: 'duration_ms@a: b'"));
    assert_int_equal(cassette_load_text(y, len, "d.yaml", &d, &e), UTIL_OK);
    assert_true(cassette_case_duration_ms(d, "a") == 100);
    assert_true(cassette_case_duration_ms(d, "a: b") == 7);
    assert_string_equal(cassette_value_next(d, "now@a", &cursor), "1700000000");
    assert_int_equal(cassette_value_append(d, "duration_ms@x", "12ms", &e), UTIL_OK);
    assert_int_equal(cassette_value_append(d, "duration_ms@y", "-3", &e), UTIL_OK);
    assert_true(cassette_case_duration_ms(d, "x") < 0);
    assert_true(cassette_case_duration_ms(d, "y") < 0);
    free(y);
    cassette_destroy(d);
    cassette_destroy(c);
}

/* ---- redaction ---- */

static void random_token(char *out, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[64];
    int fd = open("/dev/urandom", O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, r, n), (ssize_t)n);
    close(fd);
    for (size_t i = 0; i < n; i++)
        out[i] = a[r[i] % (sizeof(a) - 1)];
    out[n] = '\0';
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

static void test_redaction(void **state)
{
    (void)state;
    char key[33], app[11], secret[25], pass[21], pk[41], custom[17], bearer[30], cookie[20];
    random_token(key, 32);
    random_token(app, 10);
    random_token(secret, 24);
    random_token(pass, 20);
    random_token(pk, 40);
    random_token(custom, 16);
    random_token(bearer, 29);
    random_token(cookie, 19);
    struct cassette_redactor *r = cassette_redactor_create();
    assert_non_null(r);
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(cassette_redactor_add_field(r, "webhookToken", &e), UTIL_OK);
    struct cassette *c = cassette_create();
    char url[256], body[1024], rbody[1024];
    struct http_request rq;
    struct http_response rs;
    http_request_init(&rq);
    http_response_init(&rs);
    /* 1: credentials in headers and an authentication input. */
    snprintf(body, sizeof(body),
             "{\"type\":\"oauth\",\"name\":\"a\",\"input\":{\"url\":\"https://x\","
             "\"client_id\":\"id\",\"client_secret\":\"%s\",\"password\":\"%s\","
             "\"nested\":[{\"privateKey\":\"%s\"}],\"webhookToken\":\"%s\"}}",
             secret, pass, pk, custom);
    req_set(&rq, "POST", "http://h/1/authentications", body);
    http_headers_add(&rq.headers, "x-algolia-api-key", key);
    http_headers_add(&rq.headers, "X-Algolia-Application-Id", app);
    http_headers_add(&rq.headers, "Authorization", bearer);
    snprintf(rbody, sizeof(rbody), "{\"authenticationID\":\"a1\",\"echo\":\"%s and %s\"}", pass,
             key);
    resp_set(&rs, 200, rbody);
    char setcookie[64];
    snprintf(setcookie, sizeof(setcookie), "session=%s; Path=/", cookie);
    http_headers_add(&rs.headers, "Set-Cookie", setcookie);
    assert_int_equal(cassette_append(c, &rq, &rs, "auth", "create", r, &e), UTIL_OK);
    /* 2: the key as a query parameter and in a path; the secret again. */
    snprintf(url, sizeof(url), "http://h/1/x/%s?x-algolia-api-key=%s&q=%s", pass, key, secret);
    req_set(&rq, "GET", url, NULL);
    snprintf(rbody, sizeof(rbody), "{\"client_secret\":\"%s\",\"other\":\"%s\"}", secret, pk);
    resp_set(&rs, 200, rbody);
    assert_int_equal(cassette_append(c, &rq, &rs, "auth", "get", r, &e), UTIL_OK);
    /* Values appended by the runner are scanned at save too. */
    char val[64];
    snprintf(val, sizeof(val), "token-%s", custom);
    assert_int_equal(cassette_value_append(c, "uuid", val, &e), UTIL_OK);

    char path[300];
    snprintf(path, sizeof(path), "%s/redacted.yaml", tmpdir);
    assert_int_equal(cassette_save_file(c, r, path, &e), UTIL_OK);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(util_file_read(path, CASSETTE_CAP_FILE, &text, &len, &e), UTIL_OK);
    const char *const secrets[] = {key, app, secret, pass, pk, custom, bearer, cookie};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (contains(text, len, secrets[i]))
            fail_msg("secret %zu (%s) written to the cassette:\n%s", i, secrets[i], text);
    assert_true(contains(text, len, "<REDACTED:x-algolia-api-key>"));
    assert_true(contains(text, len, "<REDACTED:client_secret>"));
    assert_true(contains(text, len, "<REDACTED:webhookToken>"));
    assert_true(contains(text, len, "%3CREDACTED%3Ax-algolia-api-key%3E"));
    assert_true(contains(text, len, "- <REDACTED:set-cookie>") ||
                contains(text, len, "'<REDACTED:set-cookie>'"));
    /* Placeholders are listed in the metadata. */
    struct cassette *d = load(text, len);
    assert_true(cassette_placeholder_count(d) >= 5);
    /* Field placeholders name the field; others (and short buffers) do not. */
    bool webhook = false;
    char field[64];
    for (size_t i = 0; i < cassette_placeholder_count(d); i++) {
        if (!cassette_placeholder_field(d, i, field, sizeof(field)))
            continue;
        webhook = webhook || strcmp(field, "webhookToken") == 0;
        assert_false(cassette_placeholder_field(d, i, field, 3));
    }
    assert_true(webhook);
    /* Stable: the same traffic redacted by a fresh redactor gives the same
     * file. */
    struct cassette_redactor *r2 = cassette_redactor_create();
    cassette_redactor_add_field(r2, "webhookToken", &e);
    struct cassette *c2 = cassette_create();
    snprintf(body, sizeof(body),
             "{\"type\":\"oauth\",\"name\":\"a\",\"input\":{\"url\":\"https://x\","
             "\"client_id\":\"id\",\"client_secret\":\"%s\",\"password\":\"%s\","
             "\"nested\":[{\"privateKey\":\"%s\"}],\"webhookToken\":\"%s\"}}",
             secret, pass, pk, custom);
    req_set(&rq, "POST", "http://h/1/authentications", body);
    http_headers_add(&rq.headers, "x-algolia-api-key", key);
    http_headers_add(&rq.headers, "X-Algolia-Application-Id", app);
    http_headers_add(&rq.headers, "Authorization", bearer);
    snprintf(rbody, sizeof(rbody), "{\"authenticationID\":\"a1\",\"echo\":\"%s and %s\"}", pass,
             key);
    resp_set(&rs, 200, rbody);
    http_headers_add(&rs.headers, "Set-Cookie", setcookie);
    assert_int_equal(cassette_append(c2, &rq, &rs, "auth", "create", r2, &e), UTIL_OK);
    snprintf(url, sizeof(url), "http://h/1/x/%s?x-algolia-api-key=%s&q=%s", pass, key, secret);
    req_set(&rq, "GET", url, NULL);
    snprintf(rbody, sizeof(rbody), "{\"client_secret\":\"%s\",\"other\":\"%s\"}", secret, pk);
    resp_set(&rs, 200, rbody);
    assert_int_equal(cassette_append(c2, &rq, &rs, "auth", "get", r2, &e), UTIL_OK);
    assert_int_equal(cassette_value_append(c2, "uuid", val, &e), UTIL_OK);
    size_t len2;
    char *text2 = save(c2, r2, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(text, text2, len);

    /* Replay: today's credentials (different values) match the recording. */
    struct cassette_matcher *m = cassette_matcher_create(d, NULL, r2);
    char key2[33], pass2[21], secret2[25], pk2[41], custom2[17];
    random_token(key2, 32);
    random_token(pass2, 20);
    random_token(secret2, 24);
    random_token(pk2, 40);
    random_token(custom2, 16);
    snprintf(body, sizeof(body),
             "{\"name\":\"a\",\"type\":\"oauth\",\"input\":{\"client_id\":\"id\","
             "\"url\":\"https://x\",\"client_secret\":\"%s\",\"password\":\"%s\","
             "\"nested\":[{\"privateKey\":\"%s\"}],\"webhookToken\":\"%s\"}}",
             secret2, pass2, pk2, custom2);
    req_set(&rq, "POST", "http://h/1/authentications", body);
    http_headers_add(&rq.headers, "x-algolia-api-key", key2);
    size_t idx;
    struct cassette_miss miss;
    if (cassette_match(m, &rq, NULL, &idx, &miss, &e) != UTIL_OK)
        fail_msg("%s", e.message);
    assert_int_equal(idx, 0);
    cassette_matcher_destroy(m);

    http_request_finish(&rq);
    http_response_finish(&rs);
    free(text);
    free(text2);
    cassette_destroy(c);
    cassette_destroy(c2);
    cassette_destroy(d);
    cassette_redactor_destroy(r);
    cassette_redactor_destroy(r2);
}

/* Issue 12, L2 and L4: a secret member of any type (object, array,
 * number, boolean) is replaced whole, in requests and responses; a key
 * with characters that need encoding is found raw, percent-encoded (either
 * case), JSON-escaped and base64; a HAR export redacts even a cassette
 * recorded without redaction. */
static void test_redaction_any_type_and_form(void **state)
{
    (void)state;
    static const char key[] = "sk+LEAK/CHECK=1234\"q\\x&y<z>";
    static const char key_json[] = "sk+LEAK/CHECK=1234\\\"q\\\\x&y<z>";
    static const char key_upper[] = "sk%2BLEAK%2FCHECK%3D1234%22q%5Cx%26y%3Cz%3E";
    static const char key_lower[] = "sk%2bLEAK%2fCHECK%3d1234%22q%5cx%26y%3cz%3e";
    struct cassette_redactor *r = cassette_redactor_create();
    assert_non_null(r);
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(cassette_redactor_add_secret(r, key, "x-algolia-api-key", &e), UTIL_OK);
    assert_int_equal(cassette_redactor_add_field(r, "token", &e), UTIL_OK);
    struct util_buf b64;
    util_buf_init(&b64, 1024);
    /* The key base64-encoded one byte into a longer text. */
    char shifted[64];
    snprintf(shifted, sizeof(shifted), "x%s", key);
    assert_int_equal(util_base64_encode((const unsigned char *)shifted, strlen(shifted), &b64),
                     UTIL_OK);
    struct cassette *c = cassette_create();
    struct http_request rq;
    struct http_response rs;
    http_request_init(&rq);
    http_response_init(&rs);
    char url[512], body[1024], rbody[1024];
    snprintf(url, sizeof(url), "http://h/1/authentications/%s?type=%s", key_lower, key_upper);
    snprintf(body, sizeof(body),
             "{\"input\":{\"privateKey\":{\"nested\":\"PKNEST-123456\"},\"key\":[\"KEYARR-123456\"]"
             ",\"password\":987654321,\"secret\":true,\"TOKEN\":{\"a\":[1,\"TOKSECRET-1\"]}},"
             "\"echo\":\"%s\"}",
             key_json);
    req_set(&rq, "POST", url, body);
    snprintf(rbody, sizeof(rbody),
             "{\"privateKey\":{\"nested\":\"RESPNEST-1\"},\"Key\":[\"RESPARR-1\"],"
             "\"echo\":\"PKNEST-123456\",\"blob\":\"%s\",\"cut\":{\"password\":\"CUTPW-1",
             b64.data);
    resp_set(&rs, 200, rbody);
    assert_int_equal(cassette_append(c, &rq, &rs, "case", "step", r, &e), UTIL_OK);
    size_t len = 0;
    char *text = save(c, r, &len);
    const char *const leaks[] = {"PKNEST",   "KEYARR",  "987654321", "TOKSECRET",
                                 "RESPNEST", "RESPARR", "CUTPW",     key,
                                 key_json,   key_upper, key_lower,   "LEAK"};
    for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
        if (contains(text, len, leaks[i]))
            fail_msg("%s written to the cassette:\n%s", leaks[i], text);
    char core[32];
    snprintf(core, sizeof(core), "%.12s", b64.data + 4);
    if (contains(text, len, core))
        fail_msg("the base64 of the key (%s) written to the cassette:\n%s", core, text);
    assert_true(contains(text, len, "\"privateKey\": \"<REDACTED:privateKey>\"") ||
                contains(text, len, "\"privateKey\":\"<REDACTED:privateKey>\""));
    assert_true(contains(text, len, "<REDACTED:TOKEN>"));
    assert_true(contains(text, len, "<REDACTED:Key>"));

    /* A cassette recorded with no redaction at all, exported to HAR. */
    struct cassette *raw = cassette_create();
    http_headers_add(&rq.headers, "X-Algolia-API-Key", "HDRKEY-123456");
    assert_int_equal(cassette_append(raw, &rq, &rs, "case", "step", NULL, &e), UTIL_OK);
    cJSON *har = NULL;
    assert_int_equal(cassette_export_har(raw, &har, &e), UTIL_OK);
    char *h = cJSON_PrintUnformatted(har);
    const char *const har_leaks[] = {"PKNEST-123456\"}", "KEYARR", "987654321", "RESPNEST",
                                     "RESPARR",          "CUTPW",  "HDRKEY"};
    for (size_t i = 0; i < sizeof(har_leaks) / sizeof(har_leaks[0]); i++)
        if (strstr(h, har_leaks[i]))
            fail_msg("%s exported to the HAR:\n%s", har_leaks[i], h);
    free(h);
    cJSON_Delete(har);
    cassette_destroy(raw);

    util_buf_finish(&b64);
    http_request_finish(&rq);
    http_response_finish(&rs);
    free(text);
    cassette_destroy(c);
    cassette_redactor_destroy(r);
}

/* ---- matching ---- */

static size_t match_ok(struct cassette_matcher *m, const char *method, const char *url,
                       const char *body, const struct cassette_match_options *o)
{
    struct http_request rq;
    http_request_init(&rq);
    req_set(&rq, method, url, body);
    size_t idx = SIZE_MAX;
    struct cassette_miss miss;
    struct util_error e;
    util_error_clear(&e);
    int rc = cassette_match(m, &rq, o, &idx, &miss, &e);
    http_request_finish(&rq);
    if (rc != UTIL_OK)
        fail_msg("%s %s did not match: %s", method, url, e.message);
    return idx;
}

static struct cassette_miss match_miss(struct cassette_matcher *m, const char *method,
                                       const char *url, const char *body,
                                       const struct cassette_match_options *o, char *msg,
                                       size_t msgsize)
{
    struct http_request rq;
    http_request_init(&rq);
    req_set(&rq, method, url, body);
    size_t idx = 0;
    struct cassette_miss miss;
    struct util_error e;
    util_error_clear(&e);
    int rc = cassette_match(m, &rq, o, &idx, &miss, &e);
    http_request_finish(&rq);
    if (rc != UTIL_ERR_NOTFOUND)
        fail_msg("%s %s matched interaction %zu, expected a miss", method, url, idx);
    assert_int_equal(idx, SIZE_MAX);
    if (msg)
        snprintf(msg, msgsize, "%s", e.message);
    return miss;
}

static void test_match_basics(void **state)
{
    (void)state;
    struct cassette *c = cassette_create();
    add(c, "GET", "http://rec:1/1/sources?page=1&type=json,csv&order=asc", NULL, 200, "{\"i\":0}");
    add(c, "POST", "http://rec:1/1/tasks", "{\"a\":1,\"b\":{\"c\":[1,2]},\"t\":\"x\"}", 200, "1");
    add(c, "GET", "http://rec:1/1/tasks/abc", NULL, 200, "first");
    add(c, "GET", "http://rec:1/1/tasks/abc", NULL, 200, "second");
    add(c, "GET", "http://rec:1/1/%7Etilde/%2f", NULL, 200, "enc");
    struct cassette_matcher *m = cassette_matcher_create(c, NULL, NULL);
    /* Another host, parameters reordered, repeated form of an array. */
    assert_int_equal(match_ok(m, "GET",
                              "http://other/1/sources?order=asc&type=json&type=csv&page=1", NULL,
                              NULL),
                     0);
    /* JSON by meaning: key order, whitespace, 1.0 == 1. */
    assert_int_equal(match_ok(m, "POST", "http://x/1/tasks",
                              "{ \"t\": \"x\", \"b\": {\"c\": [1.0, 2]}, \"a\": 1 }", NULL),
                     1);
    /* Identical requests replay in recorded order, then are exhausted. */
    assert_int_equal(match_ok(m, "GET", "http://x/1/tasks/abc", NULL, NULL), 2);
    assert_int_equal(match_ok(m, "GET", "http://x/1/tasks/abc", NULL, NULL), 3);
    char msg[1024];
    struct cassette_miss miss =
        match_miss(m, "GET", "http://x/1/tasks/abc", NULL, NULL, msg, sizeof(msg));
    assert_int_equal(miss.field, CASSETTE_FIELD_EXHAUSTED);
    assert_non_null(strstr(msg, "already replayed"));
    /* Unreserved escapes normalised, others kept (case-insensitive hex). */
    assert_int_equal(match_ok(m, "GET", "http://x/1/~tilde/%2F", NULL, NULL), 4);
    assert_int_equal(cassette_matcher_unused_count(m), 0);
    cassette_matcher_destroy(m);

    /* Misses name the closest recording and the field. */
    m = cassette_matcher_create(c, NULL, NULL);
    miss = match_miss(m, "GET", "http://x/1/sources?page=2&type=json,csv&order=asc", NULL, NULL,
                      msg, sizeof(msg));
    assert_int_equal(miss.closest, 0);
    assert_int_equal(miss.field, CASSETTE_FIELD_QUERY);
    assert_non_null(strstr(miss.detail, "query parameter \"page\": recorded \"1\", got \"2\""));
    assert_non_null(strstr(msg, "closest: interaction 0 (case case, step step, line "));
    miss = match_miss(m, "POST", "http://x/1/tasks", "{\"a\":1,\"b\":{\"c\":[1,3]},\"t\":\"x\"}",
                      NULL, NULL, 0);
    assert_int_equal(miss.closest, 1);
    assert_int_equal(miss.field, CASSETTE_FIELD_BODY);
    assert_non_null(strstr(miss.detail, "body at \"/b/c/1\": recorded 2, got 3"));
    miss = match_miss(m, "DELETE", "http://x/1/tasks/abc", NULL, NULL, NULL, 0);
    assert_int_equal(miss.field, CASSETTE_FIELD_METHOD);
    assert_int_equal(miss.closest, 2);
    miss = match_miss(m, "GET", "http://x/1/tasks/abd", NULL, NULL, NULL, 0);
    assert_int_equal(miss.field, CASSETTE_FIELD_PATH);
    assert_non_null(strstr(miss.detail, "recorded /1/tasks/abc, got /1/tasks/abd"));
    miss = match_miss(m, "GET", "http://x/1/sources?page=1&type=json,csv", NULL, NULL, NULL, 0);
    assert_non_null(strstr(miss.detail, "\"order\": recorded \"asc\", absent"));
    cassette_matcher_destroy(m);

    /* Empty cassette. */
    struct cassette *empty = cassette_create();
    m = cassette_matcher_create(empty, NULL, NULL);
    miss = match_miss(m, "GET", "http://x/", NULL, NULL, NULL, 0);
    assert_int_equal(miss.field, CASSETTE_FIELD_EMPTY);
    assert_int_equal(miss.closest, SIZE_MAX);
    cassette_matcher_destroy(m);
    cassette_destroy(empty);
    cassette_destroy(c);
}

static void test_match_options(void **state)
{
    (void)state;
    struct cassette *c = cassette_create();
    add(c, "POST", "http://h/1/runs?ts=100&x=1", "{\"at\":\"2024-01-01\",\"n\":{\"id\":1,\"k\":2}}",
        200, "a");
    add(c, "POST", "http://h/1/runs?ts=100&x=1", "{\"at\":\"2024-01-02\",\"n\":{\"id\":2,\"k\":2}}",
        200, "b");
    add(c, "GET", "http://h/1/a", NULL, 200, "c");
    struct cassette_matcher *m = cassette_matcher_create(c, NULL, NULL);
    const char *iq[] = {"ts"};
    const char *ib[] = {"/at", "/n/id"};
    struct cassette_match_options o = {
        .ignore_query = iq, .ignore_query_count = 1, .ignore_body = ib, .ignore_body_count = 2};
    /* Ignoring ts and two body fields, both recordings match; recorded
     * order decides. */
    assert_int_equal(match_ok(m, "POST", "http://h/1/runs?x=1&ts=999",
                              "{\"at\":\"now\",\"n\":{\"id\":7,\"k\":2}}", &o),
                     0);
    assert_int_equal(match_ok(m, "POST", "http://h/1/runs?ts=5&x=1",
                              "{\"n\":{\"k\":2,\"id\":8},\"at\":\"later\"}", &o),
                     1);
    cassette_matcher_destroy(m);
    /* Without the options the same requests miss. */
    m = cassette_matcher_create(c, NULL, NULL);
    match_miss(m, "POST", "http://h/1/runs?x=1&ts=999",
               "{\"at\":\"2024-01-01\",\"n\":{\"id\":1,\"k\":2}}", NULL, NULL, 0);
    /* Ordered: the next recording must match, even if a later one would. */
    struct cassette_match_options ord = {.ordered = true};
    struct cassette_miss miss = match_miss(m, "GET", "http://h/1/a", NULL, &ord, NULL, 0);
    assert_int_equal(miss.closest, 0);
    assert_non_null(strstr(miss.detail, "in recorded order"));
    assert_int_equal(match_ok(m, "POST", "http://h/1/runs?x=1&ts=100",
                              "{\"at\":\"2024-01-01\",\"n\":{\"id\":1,\"k\":2}}", &ord),
                     0);
    assert_int_equal(match_ok(m, "POST", "http://h/1/runs?x=1&ts=100",
                              "{\"at\":\"2024-01-02\",\"n\":{\"id\":2,\"k\":2}}", &ord),
                     1);
    assert_int_equal(match_ok(m, "GET", "http://h/1/a", NULL, &ord), 2);
    cassette_matcher_destroy(m);
    cassette_destroy(c);
}

/* Appends a bodiless GET of case_name answered with 200 "{}". */
static void add_in_case(struct cassette *c, const char *case_name, const char *url)
{
    struct http_request rq;
    struct http_response rs;
    struct util_error e;
    http_request_init(&rq);
    http_response_init(&rs);
    util_error_clear(&e);
    req_set(&rq, "GET", url, NULL);
    resp_set(&rs, 200, "{}");
    assert_int_equal(cassette_append(c, &rq, &rs, case_name, "step", NULL, &e), UTIL_OK);
    http_request_finish(&rq);
    http_response_finish(&rs);
}

/* Re-recording cases B and D of a cassette holding A, B, C (and values of
 * each): A's and C's recordings and values are kept byte for byte and in
 * place, B's fresh ones replace its old ones, D (new) comes last; the
 * run-wide value is fresh's; placeholders of both are kept. */
static void test_merge_kept(void **state)
{
    (void)state;
    struct cassette *old = cassette_create(), *fresh = cassette_create(), *m = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_non_null(old);
    assert_non_null(fresh);
    add_in_case(old, "A", "http://x/1/a1");
    add_in_case(old, "B", "http://x/1/b-old");
    add_in_case(old, "A", "http://x/1/a2");
    add_in_case(old, "C", "http://x/1/c");
    add_in_case(old, NULL, "http://x/1/caseless");
    assert_int_equal(cassette_value_append(old, "uuid@A", "ua", &e), UTIL_OK);
    assert_int_equal(cassette_value_append(old, "uuid@B", "ub-old", &e), UTIL_OK);
    assert_int_equal(cassette_value_append(old, "duration_ms@C", "12", &e), UTIL_OK);
    assert_int_equal(cassette_value_append(old, "run.id", "R", &e), UTIL_OK);
    assert_int_equal(cassette_value_append(old, "only.old", "O", &e), UTIL_OK);
    assert_int_equal(cassette_note_placeholder(old, "<REDACTED:password>"), UTIL_OK);
    add_in_case(fresh, "D", "http://x/1/d");
    add_in_case(fresh, "B", "http://x/1/b-new1");
    add_in_case(fresh, "B", "http://x/1/b-new2");
    assert_int_equal(cassette_value_append(fresh, "uuid@B", "ub-new", &e), UTIL_OK);
    assert_int_equal(cassette_value_append(fresh, "run.id", "R", &e), UTIL_OK);
    assert_int_equal(cassette_note_placeholder(fresh, "<REDACTED:x-algolia-api-key>"), UTIL_OK);
    assert_int_equal(cassette_set_spec_sha256(fresh, "abc"), UTIL_OK);

    const char *ran[] = {"B", "D"}, *all[] = {"A", "B", "C"};
    assert_true(cassette_holds_other_cases(old, ran, 2));
    assert_false(cassette_holds_other_cases(old, all, 3));
    assert_int_equal(cassette_merge_kept(fresh, old, ran, 2, &m, &e), UTIL_OK);
    static const char *const uris[] = {"http://x/1/a1", "http://x/1/b-new1", "http://x/1/b-new2",
                                       "http://x/1/a2", "http://x/1/c",      "http://x/1/d"};
    assert_int_equal(cassette_count(m), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(cassette_at(m, i)->uri, uris[i]);
    static const char *const values[][2] = {{"uuid@A", "ua"},
                                            {"uuid@B", "ub-new"},
                                            {"duration_ms@C", "12"},
                                            {"only.old", "O"},
                                            {"run.id", "R"}};
    assert_int_equal(cassette_value_count(m), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(cassette_value_at(m, i)->name, values[i][0]);
        assert_string_equal(cassette_value_at(m, i)->value, values[i][1]);
    }
    assert_int_equal(cassette_placeholder_count(m), 2);
    assert_string_equal(cassette_spec_sha256(m), "abc");
    /* The kept interactions are those of old, byte for byte. */
    assert_same_interaction(cassette_at(m, 0), cassette_at(old, 0));
    assert_same_interaction(cassette_at(m, 4), cassette_at(old, 3));
    /* The matcher finds them (the index was built). */
    struct cassette_matcher *mm = cassette_matcher_create(m, NULL, NULL);
    assert_non_null(mm);
    assert_int_equal(match_ok(mm, "GET", "http://x/1/c", NULL, NULL), 4);
    cassette_matcher_destroy(mm);
    /* Saved and loaded back: the same text (deterministic). */
    size_t n1, n2;
    char *t1 = save(m, NULL, &n1);
    struct cassette *back = load(t1, n1);
    char *t2 = save(back, NULL, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(t1, t2, n1);
    free(t1);
    free(t2);
    cassette_destroy(back);
    cassette_destroy(m);
    cassette_destroy(old);
    cassette_destroy(fresh);
}

/* Ordered matching scoped to a case: the recordings of other cases, even
 * unreplayed ones before, do not count (a replay of a subset of cases). */
static void test_match_ordered_case(void **state)
{
    (void)state;
    struct cassette *c = cassette_create();
    add_in_case(c, "a", "http://h/1/x");
    add_in_case(c, "b", "http://h/1/y");
    add_in_case(c, "b", "http://h/1/z");
    add_in_case(c, "a", "http://h/1/w");
    struct cassette_matcher *m = cassette_matcher_create(c, NULL, NULL);
    struct cassette_match_options b = {.ordered = true, .ordered_case = "b"};
    struct cassette_miss miss = match_miss(m, "GET", "http://h/1/z", NULL, &b, NULL, 0);
    assert_int_equal(miss.closest, 1);
    assert_int_equal(miss.field, CASSETTE_FIELD_PATH);
    assert_int_equal(match_ok(m, "GET", "http://h/1/y", NULL, &b), 1);
    assert_int_equal(match_ok(m, "GET", "http://h/1/z", NULL, &b), 2);
    struct cassette_match_options a = {.ordered = true, .ordered_case = "a"};
    match_miss(m, "GET", "http://h/1/w", NULL, &a, NULL, 0);
    assert_int_equal(match_ok(m, "GET", "http://h/1/x", NULL, &a), 0);
    assert_int_equal(match_ok(m, "GET", "http://h/1/w", NULL, &a), 3);
    cassette_matcher_destroy(m);
    /* Unscoped, the next recording of any case must match. */
    m = cassette_matcher_create(c, NULL, NULL);
    struct cassette_match_options any = {.ordered = true};
    miss = match_miss(m, "GET", "http://h/1/y", NULL, &any, NULL, 0);
    assert_int_equal(miss.closest, 0);
    cassette_matcher_destroy(m);
    cassette_destroy(c);
}

static void test_match_with_spec(void **state)
{
    (void)state;
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/schemas/openapi/ingestion.yml", src ? src : ".");
    struct openapi *spec = NULL;
    struct util_error e;
    util_error_clear(&e);
    if (openapi_load(path, &spec, &e) != UTIL_OK)
        fail_msg("%s", e.message);
    struct cassette *c = cassette_create();
    add(c, "GET", "http://h/1/sources?type=json,csv&page=1", NULL, 200, "a");
    add(c, "GET", "http://h/1/sources?type=json&page=1,2", NULL, 200, "b");
    struct cassette_matcher *m = cassette_matcher_create(c, spec, NULL);
    /* type is an array parameter: both forms are the same request. */
    assert_int_equal(match_ok(m, "GET", "http://h/1/sources?page=1&type=json&type=csv", NULL, NULL),
                     0);
    /* page is not: page=1&page=2 is not page=1,2. */
    struct cassette_miss miss =
        match_miss(m, "GET", "http://h/1/sources?type=json&page=1&page=2", NULL, NULL, NULL, 0);
    assert_int_equal(miss.field, CASSETTE_FIELD_QUERY);
    assert_int_equal(match_ok(m, "GET", "http://h/1/sources?type=json&page=1%2C2", NULL, NULL), 1);
    cassette_matcher_destroy(m);
    cassette_destroy(c);
    openapi_destroy(spec);
}

/* ---- transports ---- */

struct fake {
    struct http_transport base;
    int sends;
    int status;
};

static int fake_send(struct http_transport *t, const struct http_request *req,
                     struct http_response *resp, struct util_error *err)
{
    (void)err;
    struct fake *f = (struct fake *)t;
    f->sends++;
    http_response_finish(resp);
    http_response_init(resp);
    resp->status = f->status;
    char body[256];
    snprintf(body, sizeof(body), "{\"live\":%d,\"url\":\"%s\"}", f->sends, req->url);
    resp->body = strdup(body);
    resp->body_len = strlen(body);
    http_headers_add(&resp->headers, "Content-Type", "application/json");
    return UTIL_OK;
}

static void fake_destroy(struct http_transport *t)
{
    (void)t;
}

static const struct http_transport_ops fake_ops = {"fake", fake_send, fake_destroy};

static int send_get(struct http_transport *t, const char *url, struct http_response *resp)
{
    struct http_request rq;
    http_request_init(&rq);
    req_set(&rq, "GET", url, NULL);
    struct util_error e;
    util_error_clear(&e);
    int rc = http_send(t, &rq, resp, &e);
    http_request_finish(&rq);
    assert_int_equal(rc, UTIL_OK);
    return resp->failure == HTTP_ERR_NONE ? resp->status : -1;
}

static void test_transports(void **state)
{
    (void)state;
    struct fake live = {{&fake_ops}, 0, 200};
    struct util_error e;
    util_error_clear(&e);
    struct http_response resp;
    http_response_init(&resp);

    /* once over a new cassette: records everything, repeats too. */
    struct cassette *c = cassette_create();
    struct http_transport *t =
        cassette_record_transport_create(&live.base, c, CASSETTE_RECORD_ONCE, NULL, &e);
    assert_non_null(t);
    assert_false(cassette_transport_replays_only(t));
    assert_int_equal(cassette_transport_set_context(t, "case-a", "s1"), UTIL_OK);
    assert_int_equal(send_get(t, "http://h/1/a", &resp), 200);
    assert_int_equal(send_get(t, "http://h/1/a", &resp), 200);
    assert_int_equal(cassette_transport_set_context(t, "case-a", "s2"), UTIL_OK);
    assert_int_equal(send_get(t, "http://h/1/b", &resp), 200);
    assert_int_equal(live.sends, 3);
    assert_int_equal(cassette_count(c), 3);
    assert_string_equal(cassette_at(c, 2)->step, "s2");
    http_transport_destroy(t);
    size_t len;
    char *y = save(c, NULL, &len);
    cassette_destroy(c);

    /* once over a loaded cassette: replay only, the live transport is
     * never called (and may be absent). */
    c = load(y, len);
    live.sends = 0;
    t = cassette_record_transport_create(NULL, c, CASSETTE_RECORD_ONCE, NULL, &e);
    assert_non_null(t);
    assert_true(cassette_transport_replays_only(t));
    assert_int_equal(send_get(t, "http://h/1/a", &resp), 200);
    assert_non_null(strstr(resp.body, "\"live\":1"));
    assert_int_equal(send_get(t, "http://h/1/a", &resp), 200);
    assert_non_null(strstr(resp.body, "\"live\":2"));
    assert_int_equal(send_get(t, "http://h/1/zzz", &resp), -1);
    assert_int_equal(resp.failure, HTTP_ERR_NO_RECORDING);
    const struct cassette_miss *miss = cassette_transport_last_miss(t);
    assert_non_null(miss);
    assert_int_equal(miss->field, CASSETTE_FIELD_PATH);
    size_t replayed, recorded;
    cassette_transport_counts(t, &replayed, &recorded);
    assert_int_equal(replayed, 2);
    assert_int_equal(recorded, 0);
    http_transport_destroy(t);

    /* none == the replay transport: same behaviour, no inner at all. */
    t = cassette_replay_transport_create(c, NULL, &e);
    assert_non_null(t);
    assert_int_equal(send_get(t, "http://h/1/b", &resp), 200);
    assert_null(cassette_transport_last_miss(t));
    struct http_request rq;
    http_request_init(&rq);
    req_set(&rq, "GET", "http://h/1/nothing", NULL);
    util_error_clear(&e);
    assert_int_equal(http_send(t, &rq, &resp, &e), UTIL_OK);
    assert_int_equal(resp.failure, HTTP_ERR_NO_RECORDING);
    assert_non_null(strstr(e.message, "no recording matches GET /1/nothing; closest: interaction"));
    http_request_finish(&rq);
    http_transport_destroy(t);
    assert_int_equal(live.sends, 0);

    /* new_episodes: replays what matches, records the rest. */
    t = cassette_record_transport_create(&live.base, c, CASSETTE_RECORD_NEW_EPISODES, NULL, &e);
    assert_int_equal(send_get(t, "http://h/1/b", &resp), 200);
    assert_int_equal(live.sends, 0);
    assert_int_equal(send_get(t, "http://h/1/new", &resp), 200);
    assert_int_equal(live.sends, 1);
    assert_int_equal(send_get(t, "http://h/1/b", &resp), 200); /* exhausted: recorded anew */
    assert_int_equal(live.sends, 2);
    assert_int_equal(cassette_count(c), 5);
    cassette_transport_counts(t, &replayed, &recorded);
    assert_int_equal(replayed, 1);
    assert_int_equal(recorded, 2);
    http_transport_destroy(t);

    /* all: drops the recordings, records everything. */
    live.sends = 0;
    t = cassette_record_transport_create(&live.base, c, CASSETTE_RECORD_ALL, NULL, &e);
    assert_int_equal(cassette_count(c), 0);
    assert_int_equal(send_get(t, "http://h/1/a", &resp), 200);
    assert_int_equal(send_get(t, "http://h/1/a", &resp), 200);
    assert_int_equal(live.sends, 2);
    assert_int_equal(cassette_count(c), 2);
    http_transport_destroy(t);

    /* Modes that send need a live transport. */
    assert_null(cassette_record_transport_create(NULL, c, CASSETTE_RECORD_NEW_EPISODES, NULL, &e));
    assert_int_equal(e.code, UTIL_ERR_USAGE);
    /* Non-cassette transports are refused by the accessors. */
    assert_int_equal(cassette_transport_set_context(&live.base, "x", "y"), UTIL_ERR_USAGE);
    assert_int_equal(cassette_record_mode_parse("new_episodes"), CASSETTE_RECORD_NEW_EPISODES);
    assert_int_equal(cassette_record_mode_parse("sometimes"), -1);
    assert_string_equal(cassette_record_mode_name(CASSETTE_RECORD_ALL), "all");

    http_response_finish(&resp);
    free(y);
    cassette_destroy(c);
}

/* A save killed mid-way leaves the previous cassette intact. */
static void test_killed_save_keeps_previous(void **state)
{
    (void)state;
    if (getenv("INGESTCHECK_UNDER_VALGRIND"))
        skip();
    char path[300];
    snprintf(path, sizeof(path), "%s/killed.yaml", tmpdir);
    struct cassette *c = cassette_create();
    add(c, "GET", "http://h/1/a", NULL, 200, "previous");
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(cassette_save_file(c, NULL, path, &e), UTIL_OK);
    char *before = NULL;
    size_t blen = 0;
    assert_int_equal(util_file_read(path, CASSETTE_CAP_FILE, &before, &blen, &e), UTIL_OK);
    /* The child builds a big cassette, tells the parent it starts saving,
     * and is killed after 0, 1, 4, 16 and 64 ms of the save. */
    int killed_mid_save = 0;
    for (long delay_us = 0; delay_us <= 64000; delay_us = delay_us ? delay_us * 4 : 1000) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            struct cassette *big = NULL;
            struct util_error ce;
            if (cassette_generate_synthetic(100000, 1, &big, &ce) != UTIL_OK)
                _exit(3);
            if (write(fds[1], "s", 1) != 1)
                _exit(5);
            cassette_save_file(big, NULL, path, &ce);
            _exit(4);
        }
        close(fds[1]);
        char ch;
        assert_int_equal(read(fds[0], &ch, 1), 1);
        close(fds[0]);
        struct timespec ts = {0, delay_us * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status))
            break; /* the save finished: the next file is the new one */
        killed_mid_save++;
        char *after = NULL;
        size_t alen = 0;
        assert_int_equal(util_file_read(path, CASSETTE_CAP_FILE, &after, &alen, &e), UTIL_OK);
        assert_int_equal(alen, blen);
        assert_memory_equal(after, before, blen);
        free(after);
    }
    assert_true(killed_mid_save > 0);
    struct cassette *d = NULL;
    assert_int_equal(cassette_load_file(path, &d, &e), UTIL_OK);
    cassette_destroy(d);
    free(before);
    cassette_destroy(c);
}

/* ---- HAR ---- */

static void test_har(void **state)
{
    (void)state;
    struct cassette *c = cassette_create();
    add(c, "POST", "http://h/1/tasks?a=1&b=x%20y", "{\"x\":1}", 200, "{\"taskID\":\"t\"}");
    add(c, "GET", "http://h/1/tasks/t", NULL, 404, "{\"message\":\"no\"}");
    struct http_request rq;
    struct http_response rs;
    http_request_init(&rq);
    http_response_init(&rs);
    req_set(&rq, "GET", "http://h/bin", NULL);
    resp_set(&rs, 200, "");
    free(rs.body);
    rs.body = malloc(2);
    memcpy(rs.body, "\xff\0", 2);
    rs.body_len = 2;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(cassette_append(c, &rq, &rs, NULL, NULL, NULL, &e), UTIL_OK);
    http_request_finish(&rq);
    http_response_finish(&rs);
    cJSON *har = NULL;
    assert_int_equal(cassette_export_har(c, &har, &e), UTIL_OK);

    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/data/cassette/har.schema.json", src ? src : ".");
    struct schema_registry *reg = schema_registry_create(NULL);
    assert_non_null(reg);
    struct schema *s = NULL;
    if (schema_registry_add_file(reg, path, &s, &e) != UTIL_OK)
        fail_msg("%s", e.message);
    struct schema_result res;
    schema_result_init(&res);
    assert_int_equal(schema_validate(s, har, &res, &e), UTIL_OK);
    if (!res.valid)
        fail_msg("HAR invalid: %s", res.count ? res.items[0].message : "?");
    schema_result_finish(&res);
    /* The schema is not vacuous: breaking the HAR is caught. */
    cJSON *entry =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(har, "log"), "entries"), 0);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(entry, "request"), "httpVersion");
    schema_result_init(&res);
    assert_int_equal(schema_validate(s, har, &res, &e), UTIL_OK);
    assert_false(res.valid);
    schema_result_finish(&res);
    /* Spot checks. */
    cJSON *q = cJSON_GetObjectItem(cJSON_GetObjectItem(entry, "request"), "queryString");
    assert_int_equal(cJSON_GetArraySize(q), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(q, 1), "value")->valuestring, "x y");
    cJSON *e2 =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(har, "log"), "entries"), 2);
    cJSON *content = cJSON_GetObjectItem(cJSON_GetObjectItem(e2, "response"), "content");
    assert_string_equal(cJSON_GetObjectItem(content, "encoding")->valuestring, "base64");
    assert_string_equal(cJSON_GetObjectItem(content, "text")->valuestring, "/wA=");
    schema_registry_destroy(reg);
    cJSON_Delete(har);
    cassette_destroy(c);
}

/* ---- synthetic ---- */

static void test_synthetic(void **state)
{
    (void)state;
    struct cassette *a = NULL, *b = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(cassette_generate_synthetic(500, 42, &a, &e), UTIL_OK);
    assert_int_equal(cassette_generate_synthetic(500, 42, &b, &e), UTIL_OK);
    size_t la, lb;
    char *ya = save(a, NULL, &la);
    char *yb = save(b, NULL, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ya, yb, la);
    struct cassette *d = load(ya, la);
    assert_int_equal(cassette_count(d), 500);
    /* Every interaction replays against itself. */
    struct cassette_matcher *m = cassette_matcher_create(d, NULL, NULL);
    struct http_request rq;
    http_request_init(&rq);
    for (size_t i = 0; i < cassette_count(d); i++) {
        assert_int_equal(cassette_interaction_request(d, i, &rq, &e), UTIL_OK);
        size_t idx;
        struct cassette_miss miss;
        if (cassette_match(m, &rq, NULL, &idx, &miss, &e) != UTIL_OK)
            fail_msg("%zu: %s", i, e.message);
        assert_int_equal(idx, i);
    }
    http_request_finish(&rq);
    cassette_matcher_destroy(m);
    free(ya);
    free(yb);
    cassette_destroy(a);
    cassette_destroy(b);
    cassette_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_tricky),
        cmocka_unit_test(test_layout_and_plain_scalars),
        cmocka_unit_test(test_file_save_load),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_truncation_refused),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_case_durations),
        cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_redaction_any_type_and_form),
        cmocka_unit_test(test_match_basics),
        cmocka_unit_test(test_match_options),
        cmocka_unit_test(test_match_ordered_case),
        cmocka_unit_test(test_merge_kept),
        cmocka_unit_test(test_match_with_spec),
        cmocka_unit_test(test_transports),
        cmocka_unit_test(test_killed_save_keeps_previous),
        cmocka_unit_test(test_har),
        cmocka_unit_test(test_synthetic),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
