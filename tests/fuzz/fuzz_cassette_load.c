/* Fuzz target: arbitrary bytes as a cassette.
 *
 * cassette_load_text, then on success everything a loaded cassette is used
 * for: the HAR export, the copy of each interaction back into an HTTP
 * request and response, matching each recorded request against the
 * cassette, and a save/load round trip.
 *
 * Oracle (abort() on failure):
 *  - a failure sets err->code to the code returned, leaves *out NULL and
 *    says in one line "fuzz.yaml:..." (out of memory may say only that);
 *  - a loaded interaction has a method, a URI, a status in 100..599, a
 *    response body and a status message, and its metadata getters work;
 *  - every recorded request, replayed in recorded order, matches a
 *    recording (the cassette answers what it recorded);
 *  - saving succeeds (or fails on a cap), the saved bytes load again into
 *    the same number of interactions with the same methods, URIs, statuses
 *    and bodies, and saving that gives the same bytes (saving is a fixed
 *    point). */
#include "fuzz_common.h"

#include "cassette/caps.h"
#include "cassette/cassette.h"
#include "http/http.h"
#include "util/buf.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz.yaml"
/* Interactions whose requests are matched (matching is quadratic in the
 * worst case: a fuzz input must stay fast). */
#define MATCH_MAX 64

static void check_error(int rc, const struct cassette *c, const struct util_error *err,
                        const char *what)
{
    if (c)
        fuzz_fail("%s failed with %d but *out is not NULL", what, rc);
    if (err->code != rc)
        fuzz_fail("%s returned %d but err.code is %d", what, rc, err->code);
    if (rc != UTIL_ERR_NOMEM && !fuzz_one_line_with_prefix(err->message, NAME ":"))
        fuzz_fail("%s: error %s is not one line naming the file: \"%s\"", what,
                  util_status_name(rc), err->message);
}

static void check_interactions(const struct cassette *c)
{
    size_t n = cassette_count(c);
    if (cassette_at(c, n) != NULL)
        fuzz_fail("cassette_at(count) is not NULL");
    for (size_t i = 0; i < n; i++) {
        const struct cassette_interaction *in = cassette_at(c, i);
        if (!in || !in->method || !in->uri || !in->response_body || !in->status_message)
            fuzz_fail("interaction %zu: a NULL method, uri, body or status message", i);
        if (in->status < 100 || in->status > 599)
            fuzz_fail("interaction %zu: status %d", i, in->status);
        if ((in->request_header_count && !in->request_headers) ||
            (in->response_header_count && !in->response_headers))
            fuzz_fail("interaction %zu: headers counted but missing", i);
        for (size_t h = 0; h < in->request_header_count; h++)
            if (!in->request_headers[h].name || !in->request_headers[h].value)
                fuzz_fail("interaction %zu: request header %zu is NULL", i, h);
        for (size_t h = 0; h < in->response_header_count; h++)
            if (!in->response_headers[h].name || !in->response_headers[h].value)
                fuzz_fail("interaction %zu: response header %zu is NULL", i, h);
        if (in->response_body[in->response_body_len] != '\0' ||
            (in->request_body && in->request_body[in->request_body_len] != '\0'))
            fuzz_fail("interaction %zu: a body is not NUL-terminated", i);
    }
    for (size_t i = 0; i < cassette_placeholder_count(c); i++)
        if (!cassette_placeholder_at(c, i))
            fuzz_fail("placeholder %zu is NULL", i);
    for (size_t i = 0; i < cassette_value_count(c); i++) {
        const struct cassette_value *v = cassette_value_at(c, i);
        if (!v || !v->name || !v->value)
            fuzz_fail("value %zu is NULL", i);
    }
}

/* Each recorded request, taken back out of the cassette, must find a
 * recording: in recorded order, the earliest unused equal one. */
static void check_matching(struct cassette *c)
{
    struct util_error err;
    util_error_clear(&err);
    struct cassette_matcher *m = cassette_matcher_create(c, NULL, NULL);
    if (!m)
        return; /* out of memory */
    size_t n = cassette_count(c) < MATCH_MAX ? cassette_count(c) : MATCH_MAX;
    for (size_t i = 0; i < n; i++) {
        struct http_request req;
        struct http_response resp;
        http_request_init(&req);
        http_response_init(&resp);
        int rc = cassette_interaction_request(c, i, &req, &err);
        if (rc == UTIL_OK)
            rc = cassette_interaction_response(c, i, &resp, &err);
        if (rc == UTIL_OK) {
            size_t index = SIZE_MAX;
            struct cassette_miss miss;
            memset(&miss, 0, sizeof miss);
            rc = cassette_match(m, &req, NULL, &index, &miss, &err);
            if (rc == UTIL_ERR_NOTFOUND)
                fuzz_fail("interaction %zu (%s %s) does not match its own recording: %s", i,
                          req.method, req.url, err.message);
            if (rc == UTIL_OK && index > i)
                fuzz_fail("interaction %zu matched the later recording %zu", i, index);
            if (resp.status != cassette_at(c, i)->status ||
                resp.body_len != cassette_at(c, i)->response_body_len)
                fuzz_fail("interaction %zu: the response copy differs", i);
        }
        if (rc != UTIL_OK && rc != UTIL_ERR_NOMEM && rc != UTIL_ERR_LIMIT)
            fuzz_fail("interaction %zu: copy or match failed with %s: %s", i, util_status_name(rc),
                      err.message);
        http_request_finish(&req);
        http_response_finish(&resp);
    }
    cassette_matcher_destroy(m);
}

static void check_same(const struct cassette *a, const struct cassette *b)
{
    if (cassette_count(a) != cassette_count(b))
        fuzz_fail("round trip: %zu interactions became %zu", cassette_count(a), cassette_count(b));
    for (size_t i = 0; i < cassette_count(a); i++) {
        const struct cassette_interaction *x = cassette_at(a, i), *y = cassette_at(b, i);
        if (strcmp(x->method, y->method) != 0 || strcmp(x->uri, y->uri) != 0 ||
            x->status != y->status || x->response_body_len != y->response_body_len ||
            memcmp(x->response_body, y->response_body, x->response_body_len) != 0 ||
            !x->request_body != !y->request_body || x->request_body_len != y->request_body_len ||
            (x->request_body &&
             memcmp(x->request_body, y->request_body, x->request_body_len) != 0) ||
            x->request_header_count != y->request_header_count ||
            x->response_header_count != y->response_header_count)
            fuzz_fail("round trip: interaction %zu differs (%s %s %d)", i, x->method, x->uri,
                      x->status);
    }
    if (cassette_value_count(a) != cassette_value_count(b) ||
        cassette_placeholder_count(a) != cassette_placeholder_count(b))
        fuzz_fail("round trip: values or placeholders differ");
}

static void check_round_trip(const struct cassette *c)
{
    struct util_buf first, second;
    struct util_error err;
    struct cassette *again = NULL;
    util_buf_init(&first, CASSETTE_CAP_FILE);
    util_buf_init(&second, CASSETTE_CAP_FILE);
    util_error_clear(&err);
    int rc = cassette_save_buf(c, NULL, &first, &err);
    if (rc == UTIL_OK) {
        rc = cassette_load_text(first.data ? first.data : "", first.len, NAME, &again, &err);
        if (rc != UTIL_OK && rc != UTIL_ERR_NOMEM) {
            fprintf(stderr, "fuzz oracle: saved cassette:\n%.*s\n", (int)first.len,
                    first.data ? first.data : "");
            fuzz_fail("a saved cassette does not load: %s", err.message);
        }
    }
    if (rc == UTIL_OK) {
        check_same(c, again);
        rc = cassette_save_buf(again, NULL, &second, &err);
        if (rc == UTIL_OK &&
            (first.len != second.len || memcmp(first.data, second.data, first.len) != 0)) {
            fprintf(stderr, "fuzz oracle: first save:\n%.*s\nsecond save:\n%.*s\n", (int)first.len,
                    first.data, (int)second.len, second.data);
            fuzz_fail("saving a loaded save gives other bytes");
        }
    }
    if (rc != UTIL_OK && rc != UTIL_ERR_NOMEM && rc != UTIL_ERR_LIMIT)
        fuzz_fail("save failed with %s: %s", util_status_name(rc), err.message);
    cassette_destroy(again);
    util_buf_finish(&first);
    util_buf_finish(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    struct cassette *c = (struct cassette *)&c; /* must be reset to NULL */
    struct util_error err;
    util_error_clear(&err);
    int rc = cassette_load_text((const char *)data, size, NAME, &c, &err);
    if (rc != UTIL_OK) {
        check_error(rc, c, &err, "cassette_load_text");
        return 0;
    }
    if (!c)
        fuzz_fail("loaded without a cassette");
    if (!cassette_source(c) || strcmp(cassette_source(c), NAME) != 0)
        fuzz_fail("cassette_source is not the name given");
    (void)cassette_recorded_at(c);
    (void)cassette_spec_sha256(c);
    (void)cassette_ingestcheck_version(c);
    check_interactions(c);

    cJSON *har = NULL;
    util_error_clear(&err);
    rc = cassette_export_har(c, &har, &err);
    if (rc != UTIL_OK && rc != UTIL_ERR_NOMEM && rc != UTIL_ERR_LIMIT)
        fuzz_fail("HAR export failed with %s: %s", util_status_name(rc), err.message);
    cJSON_Delete(har);

    check_round_trip(c);
    check_matching(c);
    cassette_destroy(c);
    return 0;
}
