/* Fuzz target: the embedded mock's request handling, without sockets.
 *
 * Input format (text, HTTP-like, so seeds read like requests):
 *
 *   METHOD PATH[?QUERY]
 *   Header-Name: value
 *   ...
 *   <empty line>
 *   BODY
 *   %%
 *   METHOD PATH ... (the next request)
 *
 * Up to MAX_REQUESTS requests, separated by a line "%%", go in order
 * through mock_handle() of one seeded API (the function the libmicrohttpd
 * server calls with the request it parsed), which mock_api_reset empties
 * before each input so that an input always gets the same answers. The
 * query is split and decoded with mock_query_split, as the server's library
 * does. Headers: x-algolia-application-id and x-algolia-api-key (the API's
 * own credentials when absent), content-type (application/json when
 * absent), x-fuzz-too-large (any value: the server stopped reading the
 * body). "$0".."$9" in the path, query and body stand for the IDs the
 * earlier answers gave (any top-level string member named *ID of a 200
 * answer), so that inputs can create a source and then read, update, run
 * or delete it.
 *
 * Oracle (abort() on failure), for every answer:
 *  - a status in 100..599, never 500 (the mock answers 500 only when out
 *    of memory) nor 501;
 *  - Content-Type application/json, a NUL-terminated body of body_len
 *    bytes that is JSON: an object with a string "message" unless 200;
 *  - a 200 or 400 answer passes the contract checks that ingestcheck run
 *    applies to it (check_contract_response: documented status, JSON,
 *    body valid against the documented schema; HEAD is checked as GET); a
 *    200 comes only from an operation of the spec. */
#include "fuzz_common.h"

#include "check/check.h"
#include "mock/mock.h"
#include "util/buf.h"
#include "util/error.h"
#include "json/json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define APP_ID "fuzz-app"
#define API_KEY "fuzz-key-0123456789"
#define SEED 42u
#define MAX_REQUESTS 32
#define MAX_IDS 10
#define MAX_ARGS 64

static struct mock_api *api;
static struct check_contract *contract;

static void destroy_all(void)
{
    mock_api_destroy(api);
    check_contract_destroy(contract);
    api = NULL;
    contract = NULL;
}

static void setup(void)
{
    if (api)
        return;
    struct util_error err;
    util_error_clear(&err);
    struct mock_options o = {
        .schemas_dir = fuzz_schemas_dir(),
        .app_id = APP_ID,
        .api_key = API_KEY,
        .seeded = true,
        .seed = SEED,
        .max_body = 64u * 1024u,
    };
    api = mock_api_create(&o, &err);
    if (!api)
        fuzz_fail("mock_api_create(%s): %s", o.schemas_dir, err.message);
    contract = check_contract_create_dir(fuzz_schemas_dir(), &err);
    if (!contract)
        fuzz_fail("check_contract_create(%s): %s", o.schemas_dir, err.message);
    atexit(destroy_all);
}

struct ids {
    char items[MAX_IDS][128];
    size_t count;
};

/* Copies src (len bytes) into out with "$N" replaced by the Nth ID. */
static int substitute(const struct ids *ids, const char *src, size_t len, struct util_buf *out)
{
    util_buf_reset(out);
    int rc = util_buf_append(out, "", 0);
    for (size_t i = 0; !rc && i < len; i++) {
        if (src[i] == '$' && i + 1 < len && src[i + 1] >= '0' && src[i + 1] <= '9' &&
            (size_t)(src[i + 1] - '0') < ids->count) {
            rc = util_buf_puts(out, ids->items[src[i + 1] - '0']);
            i++;
        } else {
            rc = util_buf_append(out, src + i, 1);
        }
    }
    return rc;
}

static void remember_ids(struct ids *ids, const char *body)
{
    cJSON *doc = NULL;
    if (json_parse(body, strlen(body), "answer", &doc, NULL) != UTIL_OK)
        return;
    const cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        size_t n = it->string ? strlen(it->string) : 0;
        if (ids->count < MAX_IDS && n >= 2 && strcmp(it->string + n - 2, "ID") == 0 &&
            cJSON_IsString(it) && strlen(it->valuestring) < sizeof ids->items[0])
            strcpy(ids->items[ids->count++], it->valuestring);
    }
    cJSON_Delete(doc);
}

static void check_answer(const char *method, const char *path, const struct mock_response *r)
{
    if (r->status < 100 || r->status > 599 || r->status == 500 || r->status == 501)
        fuzz_fail("%s %s: status %d: %.300s", method, path, r->status, r->body ? r->body : "");
    if (!r->content_type || strcmp(r->content_type, "application/json") != 0)
        fuzz_fail("%s %s: content type %s", method, path,
                  r->content_type ? r->content_type : "(null)");
    if (!r->body || strlen(r->body) != r->body_len)
        fuzz_fail("%s %s: body NULL or body_len %zu wrong", method, path, r->body_len);
    cJSON *doc = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (json_parse(r->body, r->body_len, "answer", &doc, &err) != UTIL_OK)
        fuzz_fail("%s %s: %d answer is not JSON (%s): %.300s", method, path, r->status, err.message,
                  r->body);
    if (r->status != 200 && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "message")))
        fuzz_fail("%s %s: %d answer without a message: %.300s", method, path, r->status, r->body);
    cJSON_Delete(doc);
    if (r->status != 200 && r->status != 400)
        return;
    /* HEAD is answered as GET (RFC 9110 9.3.2): check it as the GET. */
    if (strcmp(method, "HEAD") == 0)
        method = "GET";
    const char *op = check_contract_match(contract, method, path);
    if (!op && r->status == 200)
        fuzz_fail("%s %s: 200 without an operation", method, path);
    if (!op)
        return;
    struct check_list checks;
    check_list_init(&checks);
    struct check_response cr = {.status = r->status,
                                .content_type = r->content_type,
                                .body = r->body,
                                .body_len = r->body_len};
    util_error_clear(&err);
    if (check_contract_response(contract, op, method, path, &cr, NULL, 0, &checks, NULL, NULL,
                                &err) != UTIL_OK)
        fuzz_fail("%s %s: contract check failed: %s", method, path, err.message);
    for (size_t i = 0; i < checks.count; i++) {
        const struct check_item *c = &checks.items[i];
        if (c->outcome == CHECK_FAIL)
            fuzz_fail("%s %s (%s): %d answer breaks %s: %s%s%s (body %.300s)", method, path, op,
                      r->status, c->name, c->message, c->pointer ? " at " : "",
                      c->pointer ? c->pointer : "", r->body);
    }
    check_list_finish(&checks);
}

/* Answers one request of the input: text holds "METHOD TARGET\nheaders\n\nbody". */
static void one_request(const char *text, size_t len, struct ids *ids, struct util_buf *scratch)
{
    const char *eol = memchr(text, '\n', len);
    size_t line_len = eol ? (size_t)(eol - text) : len;
    char line[4096];
    if (line_len >= sizeof line)
        line_len = sizeof line - 1;
    memcpy(line, text, line_len);
    line[line_len] = '\0';
    if (line_len && line[line_len - 1] == '\r')
        line[--line_len] = '\0';
    char *sp = strchr(line, ' ');
    if (!sp)
        return;
    *sp = '\0';
    const char *method = line;
    if (substitute(ids, sp + 1, strlen(sp + 1), scratch) != UTIL_OK)
        return;
    char *target = util_buf_steal(scratch);
    if (!target)
        return;
    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    struct mock_query_arg args[MAX_ARGS];
    size_t nargs = 0;
    mock_query_split(query, args, MAX_ARGS, &nargs);

    char app_id[256] = APP_ID, api_key[256] = API_KEY, ctype[256] = "application/json";
    bool too_large = false;
    const char *p = eol ? eol + 1 : text + len;
    const char *end = text + len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
        if (n && p[n - 1] == '\r')
            n--;
        const char *next = e ? e + 1 : end;
        if (n == 0) {
            p = next;
            break;
        }
        const char *colon = memchr(p, ':', n);
        if (colon) {
            size_t nlen = (size_t)(colon - p);
            const char *v = colon + 1;
            while (v < p + n && *v == ' ')
                v++;
            size_t vlen = (size_t)(p + n - v);
            char *slot = NULL;
            if (nlen == 24 && strncasecmp(p, "x-algolia-application-id", nlen) == 0)
                slot = app_id;
            else if (nlen == 17 && strncasecmp(p, "x-algolia-api-key", nlen) == 0)
                slot = api_key;
            else if (nlen == 12 && strncasecmp(p, "content-type", nlen) == 0)
                slot = ctype;
            else if (nlen == 16 && strncasecmp(p, "x-fuzz-too-large", nlen) == 0)
                too_large = true;
            if (slot) {
                if (vlen >= 256)
                    vlen = 255;
                memcpy(slot, v, vlen);
                slot[vlen] = '\0';
            }
        }
        p = next;
    }
    size_t body_len = p < end ? (size_t)(end - p) : 0;
    char *body = NULL;
    if (body_len) {
        /* Exact size and no NUL after it: the server's body is not a C string. */
        if (substitute(ids, p, body_len, scratch) != UTIL_OK) {
            free(target);
            return;
        }
        body_len = scratch->len;
        body = malloc(body_len);
        if (!body) {
            free(target);
            return;
        }
        memcpy(body, scratch->data, body_len);
    }
    struct mock_request req = {
        .method = method,
        .path = target,
        .args = args,
        .nargs = nargs,
        .app_id = app_id,
        .api_key = api_key,
        .content_type = ctype,
        .body = body,
        .body_len = body_len,
        .body_too_large = too_large,
    };
    struct mock_response resp;
    mock_response_init(&resp);
    mock_handle(api, &req, &resp);
    check_answer(method, target, &resp);
    if (resp.status == 200)
        remember_ids(ids, resp.body);
    mock_response_finish(&resp);
    free(body);
    free(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    setup();
    if (mock_api_reset(api, SEED) != UTIL_OK)
        fuzz_fail("mock_api_reset failed");
    const char *text = (const char *)data;
    const char *end = text + size;
    struct ids ids = {.count = 0};
    struct util_buf scratch;
    util_buf_init(&scratch, 2u * FUZZ_MAX_INPUT);
    for (int n = 0; n < MAX_REQUESTS && text < end; n++) {
        /* The request ends at a line "%%" (or at the end of the input). */
        const char *sep = NULL;
        for (const char *q = text; q + 2 <= end; q++) {
            if (q[0] == '%' && q[1] == '%' && (q == text || q[-1] == '\n') &&
                (q + 2 == end || q[2] == '\n')) {
                sep = q;
                break;
            }
        }
        size_t len = (size_t)((sep ? sep : end) - text);
        if (len && text[len - 1] == '\n' && sep)
            len--; /* the newline before "%%" ends the body */
        one_request(text, len, &ids, &scratch);
        if (!sep)
            break;
        text = sep + 2 < end ? sep + 3 : end;
    }
    util_buf_finish(&scratch);
    return 0;
}
