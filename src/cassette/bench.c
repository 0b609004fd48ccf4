/* A synthetic cassette for benchmarks: Ingestion-shaped traffic, the same
 * for the same seed. */
#include "cassette/caps.h"
#include "cassette/internal.h"

#include <stdio.h>
#include <string.h>

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void uuid(uint64_t *s, char out[37])
{
    uint64_t a = next_rand(s), b = next_rand(s);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffffu, (unsigned)a & 0xfffu,
             (unsigned)((b >> 48) & 0x3fffu) | 0x8000u,
             (unsigned long long)(b & 0xffffffffffffull));
}

static const char *dup(struct cassette *c, const char *s)
{
    return arena_strndup(&c->arena, s, strlen(s));
}

static const struct cassette_header *headers(struct cassette *c, size_t n, const char *const *kv)
{
    struct cassette_header *h = arena_alloc(&c->arena, n * sizeof(*h));
    if (!h)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        h[i].name = kv[2 * i];
        h[i].value = kv[2 * i + 1];
    }
    return h;
}

int cassette_generate_synthetic(size_t n, uint64_t seed, struct cassette **out,
                                struct util_error *err)
{
    static const char *const req_kv[] = {"Content-Type",
                                         "application/json",
                                         "User-Agent",
                                         "ingestcheck/bench",
                                         "x-algolia-application-id",
                                         "<REDACTED:x-algolia-application-id>",
                                         "x-algolia-api-key",
                                         "<REDACTED:x-algolia-api-key>"};
    static const char *const resp_kv[] = {"Content-Type", "application/json; charset=utf-8",
                                          "Server", "ingestcheck-mock"};
    static const char *const methods[] = {"GET", "POST", "GET", "PATCH", "DELETE"};
    static const char *const kinds[] = {"bigquery", "commercetools", "json", "csv", "docker"};
    *out = NULL;
    struct cassette *c = cassette_create();
    int rc = UTIL_OK;
    if (!c)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    uint64_t s = seed;
    const struct cassette_header *rq = headers(c, 4, req_kv);
    const struct cassette_header *rs = headers(c, 2, resp_kv);
    if (!rq || !rs || cassette_set_recorded_at(c, "2024-01-01T00:00:00Z") ||
        cassette_note_placeholder(c, "<REDACTED:x-algolia-api-key>") ||
        cassette_note_placeholder(c, "<REDACTED:x-algolia-application-id>")) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    char id[37], id2[37], uri[256], body[1024], rbody[1024], step[32];
    for (size_t i = 0; i < n; i++) {
        struct cassette_interaction in;
        memset(&in, 0, sizeof(in));
        int kind = (int)(next_rand(&s) % 5);
        uuid(&s, id);
        uuid(&s, id2);
        const char *k = kinds[next_rand(&s) % 5];
        body[0] = '\0';
        switch (kind) {
        case 0:
            snprintf(uri, sizeof(uri), "http://127.0.0.1:8080/1/tasks/%s", id);
            snprintf(
                rbody, sizeof(rbody),
                "{\"taskID\":\"%s\",\"sourceID\":\"%s\",\"destinationID\":\"%s\","
                "\"enabled\":true,\"failureThreshold\":%u,\"action\":\"replace\","
                "\"createdAt\":\"2024-01-01T00:00:00Z\",\"updatedAt\":\"2024-01-02T00:00:00Z\"}",
                id, id2, id, (unsigned)(next_rand(&s) % 100));
            break;
        case 1:
            snprintf(uri, sizeof(uri), "http://127.0.0.1:8080/1/tasks");
            snprintf(body, sizeof(body),
                     "{\"sourceID\":\"%s\",\"destinationID\":\"%s\",\"action\":\"replace\","
                     "\"cron\":\"* * * * %zu\",\"notes\":\"bench %zu\"}",
                     id, id2, i % 7, i);
            snprintf(rbody, sizeof(rbody),
                     "{\"taskID\":\"%s\",\"createdAt\":\"2024-01-01T00:00:00Z\"}", id2);
            break;
        case 2:
            snprintf(
                uri, sizeof(uri),
                "http://127.0.0.1:8080/1/sources?itemsPerPage=10&page=%zu&type=%s,json&order=asc",
                i, k);
            snprintf(rbody, sizeof(rbody),
                     "{\"sources\":[{\"sourceID\":\"%s\",\"type\":\"%s\",\"name\":\"source %zu\","
                     "\"createdAt\":\"2024-01-01T00:00:00Z\"}],\"pagination\":{\"nbPages\":%zu,"
                     "\"page\":%zu,\"nbItems\":%zu,\"itemsPerPage\":10}}",
                     id, k, i, n / 10 + 1, i, n);
            break;
        case 3:
            snprintf(uri, sizeof(uri), "http://127.0.0.1:8080/1/destinations/%s", id);
            snprintf(body, sizeof(body),
                     "{\"name\":\"destination %zu\",\"input\":{\"indexName\":\"idx_%s\"}}", i, id2);
            snprintf(rbody, sizeof(rbody),
                     "{\"destinationID\":\"%s\",\"name\":\"destination %zu\","
                     "\"updatedAt\":\"2024-01-02T00:00:00Z\"}",
                     id, i);
            break;
        default:
            snprintf(uri, sizeof(uri), "http://127.0.0.1:8080/1/authentications/%s", id);
            snprintf(rbody, sizeof(rbody), "{\"deletedAt\":\"2024-01-03T00:00:00Z\"}");
            break;
        }
        snprintf(step, sizeof(step), "step %zu", i % 10);
        in.method = methods[kind];
        in.uri = dup(c, uri);
        if (body[0]) {
            in.request_body = dup(c, body);
            in.request_body_len = strlen(body);
        }
        in.request_headers = rq;
        in.request_header_count = body[0] ? 4 : 3;
        if (!body[0])
            in.request_headers = rq + 1; /* no Content-Type without a body */
        in.status = 200;
        in.status_message = "OK";
        in.response_headers = rs;
        in.response_header_count = 2;
        in.response_body = dup(c, rbody);
        in.response_body_len = strlen(rbody);
        in.case_name = "bench";
        in.step = dup(c, step);
        if (!in.uri || (body[0] && !in.request_body) || !in.response_body || !in.step) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        if ((rc = cassette_push_entry(c, &in, err)))
            goto cleanup;
    }
    *out = c;
    c = NULL;
cleanup:
    cassette_destroy(c);
    return rc;
}
