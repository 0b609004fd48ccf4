/* Headers, requests and responses: plain owned data, no libcurl. */
#include "http/http.h"

#include "http/caps.h"
#include "util/header.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

void http_headers_init(struct http_headers *h)
{
    h->items = NULL;
    h->count = 0;
    h->alloc = 0;
}

void http_headers_finish(struct http_headers *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++)
        free(h->items[i].name); /* the value shares its allocation */
    free(h->items);
    http_headers_init(h);
}

int http_headers_add(struct http_headers *h, const char *name, const char *value)
{
    if (!name || !value)
        return UTIL_ERR_USAGE;
    if (h->count >= HTTP_CAP_HEADER_COUNT)
        return UTIL_ERR_LIMIT;
    if (h->count == h->alloc) {
        size_t n = h->alloc ? h->alloc * 2 : 8;
        struct http_header *p = realloc(h->items, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        h->items = p;
        h->alloc = n;
    }
    /* One allocation for both: name, NUL, value, NUL. */
    size_t nl = strlen(name), vl = strlen(value);
    char *n = malloc(nl + vl + 2);
    if (!n)
        return UTIL_ERR_NOMEM;
    memcpy(n, name, nl + 1);
    memcpy(n + nl + 1, value, vl + 1);
    h->items[h->count].name = n;
    h->items[h->count].value = n + nl + 1;
    h->count++;
    return UTIL_OK;
}

void http_headers_remove(struct http_headers *h, const char *name)
{
    size_t out = 0;
    for (size_t i = 0; i < h->count; i++) {
        if (strcasecmp(h->items[i].name, name) == 0) {
            free(h->items[i].name);
            continue;
        }
        h->items[out++] = h->items[i];
    }
    h->count = out;
}

int http_headers_set(struct http_headers *h, const char *name, const char *value)
{
    if (!name || !value)
        return UTIL_ERR_USAGE;
    http_headers_remove(h, name);
    return http_headers_add(h, name, value);
}

const char *http_headers_get(const struct http_headers *h, const char *name)
{
    for (size_t i = 0; i < h->count; i++)
        if (strcasecmp(h->items[i].name, name) == 0)
            return h->items[i].value;
    return NULL;
}

int http_headers_check(const struct http_headers *h, struct util_error *err)
{
    for (size_t i = 0; i < h->count; i++) {
        const struct http_header *x = &h->items[i];
        char why[128];
        size_t vlen = strlen(x->value);
        if (!util_header_name_ok(x->name, why, sizeof(why)))
            return util_error_set(err, UTIL_ERR_INVALID, "header name '%s' %s", x->name, why);
        if (!util_header_value_ok(x->value, vlen, why, sizeof(why)))
            return util_error_set(err, UTIL_ERR_INVALID, "header %s: the value %s", x->name, why);
        if (strlen(x->name) + 2 + vlen > HTTP_CAP_HEADER_LINE)
            return util_error_set(err, UTIL_ERR_LIMIT, "header %s: longer than %u bytes", x->name,
                                  HTTP_CAP_HEADER_LINE);
    }
    return UTIL_OK;
}

void http_request_init(struct http_request *r)
{
    r->method = NULL;
    r->url = NULL;
    http_headers_init(&r->headers);
    r->body = NULL;
    r->body_len = 0;
}

void http_request_finish(struct http_request *r)
{
    if (!r)
        return;
    free(r->method);
    free(r->url);
    http_headers_finish(&r->headers);
    free(r->body);
    http_request_init(r);
}

int http_request_set(struct http_request *r, const char *method, const char *url)
{
    if (!method || !url)
        return UTIL_ERR_USAGE;
    char *m = dup_str(method), *u = dup_str(url);
    if (!m || !u) {
        free(m);
        free(u);
        return UTIL_ERR_NOMEM;
    }
    free(r->method);
    free(r->url);
    r->method = m;
    r->url = u;
    return UTIL_OK;
}

int http_request_set_body(struct http_request *r, const char *body, size_t len)
{
    char *b = malloc(len + 1);
    if (!b)
        return UTIL_ERR_NOMEM;
    if (len)
        memcpy(b, body, len);
    b[len] = '\0';
    free(r->body);
    r->body = b;
    r->body_len = len;
    return UTIL_OK;
}

void http_response_init(struct http_response *r)
{
    r->status = 0;
    http_headers_init(&r->headers);
    r->body = NULL;
    r->body_len = 0;
    r->elapsed_ms = 0;
    r->failure = HTTP_ERR_NONE;
}

void http_response_finish(struct http_response *r)
{
    if (!r)
        return;
    http_headers_finish(&r->headers);
    free(r->body);
    http_response_init(r);
}

void http_transport_destroy(struct http_transport *t)
{
    if (t && t->ops && t->ops->destroy)
        t->ops->destroy(t);
}

const char *http_failure_name(enum http_failure f)
{
    switch (f) {
    case HTTP_ERR_NONE:
        return "no failure";
    case HTTP_ERR_RESOLVE:
        return "name not resolved";
    case HTTP_ERR_CONNECT:
        return "connection refused";
    case HTTP_ERR_TIMEOUT:
        return "timed out";
    case HTTP_ERR_TLS:
        return "TLS certificate problem";
    case HTTP_ERR_TOO_LARGE:
        return "response body too large";
    case HTTP_ERR_PROTOCOL:
        return "connection dropped or malformed answer";
    case HTTP_ERR_REDIRECT:
        return "too many redirects";
    case HTTP_ERR_NO_RECORDING:
        return "no recording matches";
    case HTTP_ERR_INTERRUPTED:
        return "interrupted";
    case HTTP_ERR_OTHER:
        break;
    }
    return "network failure";
}
