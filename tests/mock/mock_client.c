#include "mock_client.h"

#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct schema_registry *reg;
static cJSON *ops;
static char ops_abs[PATH_MAX];

const char *schemas_dir(void)
{
    static char dir[PATH_MAX];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(dir, sizeof(dir), "%s/schemas", src ? src : ".");
    return dir;
}

void schemas_init(void)
{
    struct util_error err;
    util_error_clear(&err);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/operations.json", schemas_dir());
    if (!realpath(path, ops_abs) || json_load_file(ops_abs, UTIL_CAP_SCHEMA_FILE, &ops, &err)) {
        fprintf(stderr, "cannot load %s: %s\n", path, err.message);
        abort();
    }
    struct schema_options so = {.default_dialect = SCHEMA_DIALECT_2020_12};
    reg = schema_registry_create(&so);
    if (!reg || http_global_init(&err))
        abort();
}

void schemas_finish(void)
{
    schema_registry_destroy(reg);
    cJSON_Delete(ops);
    reg = NULL;
    ops = NULL;
    http_global_cleanup();
}

int op_index(const char *op)
{
    int i = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(ops, "operations"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "operationId");
        if (cJSON_IsString(id) && strcmp(id->valuestring, op) == 0)
            return i;
        i++;
    }
    return -1;
}

bool op_documents(const char *op, int status)
{
    int i = op_index(op);
    const cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ops, "operations"), i);
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "responses"),
                                            code) != NULL;
}

struct schema *op_schema(const char *op, int status)
{
    int i = op_index(op);
    if (i < 0)
        fail_msg("no operation %s", op);
    char uri[PATH_MAX + 128];
    if (status)
        snprintf(uri, sizeof(uri), "file://%s#/operations/%d/responses/%d/schema", ops_abs, i,
                 status);
    else
        snprintf(uri, sizeof(uri), "file://%s#/operations/%d/requestBody/schema", ops_abs, i);
    struct schema *s = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (schema_registry_lookup(reg, uri, &s, &err))
        fail_msg("%s: %s", uri, err.message);
    return s;
}

static bool validate(const char *op, int status, const struct reply *r, const char *keyword,
                     bool print)
{
    if (!r->json) {
        if (print)
            fprintf(stderr, "%s %d: body is not JSON: %.200s\n", op, status, r->body);
        return false;
    }
    struct schema *s = op_schema(op, status);
    struct schema_result res;
    struct util_error err;
    util_error_clear(&err);
    schema_result_init(&res);
    assert_int_equal(schema_validate(s, r->json, &res, &err), 0);
    bool out = res.valid;
    if (keyword) {
        out = false;
        for (size_t i = 0; i < res.count; i++) {
            const char *k = res.items[i].keyword_location;
            size_t n = strlen(k), m = strlen(keyword);
            if (n >= m && strcmp(k + n - m, keyword) == 0)
                out = true;
        }
    }
    if (print && !res.valid) {
        fprintf(stderr, "%s %d: %.300s\n", op, status, r->body);
        for (size_t i = 0; i < res.count; i++)
            fprintf(stderr, "  %s (at %s)\n", res.items[i].message, res.items[i].keyword_location);
    }
    schema_result_finish(&res);
    return out;
}

bool reply_valid(const char *op, const struct reply *r)
{
    if (!op_documents(op, r->status)) {
        fprintf(stderr, "%s: status %d not documented: %.200s\n", op, r->status, r->body);
        return false;
    }
    return validate(op, r->status, r, NULL, true);
}

bool reply_valid_as(const char *op, int status, const struct reply *r)
{
    return validate(op, status, r, NULL, true);
}

bool reply_violates(const char *op, int status, const struct reply *r, const char *keyword)
{
    return validate(op, status, r, keyword, false);
}

void client_start(struct client *c, struct mock_options *opts, long timeout_ms)
{
    struct util_error err;
    util_error_clear(&err);
    memset(c, 0, sizeof(*c));
    struct mock_options o = *opts;
    if (!o.schemas_dir)
        o.schemas_dir = schemas_dir();
    c->srv = mock_server_create(&o, &err);
    if (!c->srv)
        fail_msg("mock_server_create: %s", err.message);
    snprintf(c->base, sizeof(c->base), "%s", mock_server_url(c->srv));
    snprintf(c->app, sizeof(c->app), "%s", mock_api_app_id(mock_server_api(c->srv)));
    snprintf(c->key, sizeof(c->key), "%s", mock_api_api_key(mock_server_api(c->srv)));
    struct http_options ho = {.timeout_ms = timeout_ms};
    c->t = http_curl_create(&ho, &err);
    assert_non_null(c->t);
}

void client_stop(struct client *c)
{
    http_transport_destroy(c->t);
    mock_server_destroy(c->srv);
    memset(c, 0, sizeof(*c));
}

struct reply client_call_ex(struct client *c, const char *method, const char *path,
                            const char *body, size_t body_len, const char *ctype, const char *app,
                            const char *key, bool creds)
{
    struct reply r;
    memset(&r, 0, sizeof(r));
    struct http_request req;
    struct http_response resp;
    struct util_error err;
    util_error_clear(&err);
    http_request_init(&req);
    http_response_init(&resp);
    char url[4096];
    snprintf(url, sizeof(url), "%s%s", c->base, path);
    assert_int_equal(http_request_set(&req, method, url), 0);
    if (creds) {
        http_headers_add(&req.headers, "x-algolia-application-id", app ? app : c->app);
        http_headers_add(&req.headers, "x-algolia-api-key", key ? key : c->key);
    }
    if (body) {
        assert_int_equal(http_request_set_body(&req, body, body_len), 0);
        if (!ctype)
            ctype = "application/json";
        if (*ctype)
            http_headers_add(&req.headers, "Content-Type", ctype);
    }
    assert_int_equal(http_send(c->t, &req, &resp, &err), 0);
    r.status = resp.status;
    r.failure = resp.failure;
    r.body = resp.body;
    r.len = resp.body_len;
    resp.body = NULL;
    const char *ct = http_headers_get(&resp.headers, "content-type");
    snprintf(r.ctype, sizeof(r.ctype), "%s", ct ? ct : "");
    if (r.body && r.failure == HTTP_ERR_NONE)
        r.json = cJSON_ParseWithLength(r.body, r.len);
    http_request_finish(&req);
    http_response_finish(&resp);
    return r;
}

struct reply client_call(struct client *c, const char *method, const char *path, const char *body)
{
    return client_call_ex(c, method, path, body, body ? strlen(body) : 0, NULL, NULL, NULL, true);
}

void reply_free(struct reply *r)
{
    free(r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
}
