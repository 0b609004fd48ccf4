/* Plain HTTP request/response types and the transport interface. The rest
 * of ingestcheck sees only these types; libcurl stays inside curl.c (the
 * only file that includes <curl/curl.h>). A transport is a small const
 * vtable (live, record, replay), as wlroots does backends. */
#ifndef INGESTCHECK_HTTP_HTTP_H
#define INGESTCHECK_HTTP_HTTP_H

#include "util/error.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct http_header {
    char *name;  /* owned: one allocation with value */
    char *value; /* inside name's allocation; never freed on its own */
};

/* An ordered header list; names compare case-insensitively. */
struct http_headers {
    struct http_header *items;
    size_t count;
    size_t alloc;
};

void http_headers_init(struct http_headers *h);
void http_headers_finish(struct http_headers *h);
/* Appends a copy of name and value. */
int http_headers_add(struct http_headers *h, const char *name, const char *value);
/* Removes every header called name (case-insensitive). */
void http_headers_remove(struct http_headers *h, const char *name);
/* Replaces every header called name by one with value (adds when absent). */
int http_headers_set(struct http_headers *h, const char *name, const char *value);
/* First value of name (case-insensitive), borrowed, or NULL. */
const char *http_headers_get(const struct http_headers *h, const char *name);
/* Whether every header of h can be sent: its name an RFC 9110 token, its
 * value free of CR, LF, NUL and other control characters, the line within
 * HTTP_CAP_HEADER_LINE. UTIL_OK, or UTIL_ERR_INVALID / UTIL_ERR_LIMIT with
 * err naming the first header that cannot (never its value). */
int http_headers_check(const struct http_headers *h, struct util_error *err);

struct http_request {
    char *method; /* owned, "GET" */
    char *url;    /* owned, absolute */
    struct http_headers headers;
    char *body; /* owned, may be NULL */
    size_t body_len;
};

void http_request_init(struct http_request *r);
void http_request_finish(struct http_request *r);
/* Sets method and url (copied). */
int http_request_set(struct http_request *r, const char *method, const char *url);
/* Sets a copy of the body. */
int http_request_set_body(struct http_request *r, const char *body, size_t len);

/* Why a request got no response. HTTP_ERR_NONE when it got one, whatever
 * its status. */
enum http_failure {
    HTTP_ERR_NONE = 0,
    HTTP_ERR_RESOLVE,      /* host name did not resolve */
    HTTP_ERR_CONNECT,      /* connection refused or unreachable */
    HTTP_ERR_TIMEOUT,      /* no complete answer within the timeout */
    HTTP_ERR_TLS,          /* certificate or handshake failure */
    HTTP_ERR_TOO_LARGE,    /* body larger than the cap */
    HTTP_ERR_PROTOCOL,     /* malformed answer, connection dropped mid-body */
    HTTP_ERR_REDIRECT,     /* too many redirects */
    HTTP_ERR_NO_RECORDING, /* replay only: no recording matches (no network) */
    HTTP_ERR_INTERRUPTED,  /* http_options.cancel was set: aborted, or not retried */
    HTTP_ERR_OTHER,
};

struct http_response {
    int status; /* 0 when failure != HTTP_ERR_NONE */
    struct http_headers headers;
    char *body; /* owned, NUL-terminated, may contain NULs */
    size_t body_len;
    double elapsed_ms;
    enum http_failure failure;
};

void http_response_init(struct http_response *r);
void http_response_finish(struct http_response *r);

/* Transport options shared by every transport. */
struct http_options {
    long timeout_ms;         /* whole request; 0 means 30000 */
    long connect_timeout_ms; /* 0 means 10000 */
    int retries;             /* retries for network errors only (never for an HTTP status) */
    bool insecure;           /* skip TLS verification (explicit --insecure only) */
    const char *cacert;      /* CA bundle path or NULL */
    size_t max_body;         /* response body cap; 0 means HTTP_DEFAULT_MAX_BODY */
    /* Set to non-zero (by a signal handler) to stop: no retry and no
     * backoff any more, a request in flight is aborted (within
     * HTTP_CANCEL_SLICE_MS), and a request sent after it was set (a
     * teardown's) has until HTTP_CANCEL_GRACE_MS after the transport
     * first saw it, so that a quick server still answers. Such a request
     * fails with HTTP_ERR_INTERRUPTED. May be NULL. */
    const volatile sig_atomic_t *cancel;
};

#define HTTP_DEFAULT_MAX_BODY (64u * 1024u * 1024u)

struct http_transport;

struct http_transport_ops {
    const char *name;
    /* Sends req and fills resp. Returns UTIL_OK when the exchange was
     * carried out, even if resp->failure says the network failed (then err
     * holds the one-line reason); an error code only for local failures
     * (out of memory, no file descriptor left, bad request struct). */
    int (*send)(struct http_transport *t, const struct http_request *req,
                struct http_response *resp, struct util_error *err);
    void (*destroy)(struct http_transport *t);
};

/* Every transport starts with this header; implementations extend it. */
struct http_transport {
    const struct http_transport_ops *ops;
};

static inline int http_send(struct http_transport *t, const struct http_request *req,
                            struct http_response *resp, struct util_error *err)
{
    return t->ops->send(t, req, resp, err);
}

/* Destroys any transport; accepts NULL. */
void http_transport_destroy(struct http_transport *t);

/* The live transport over libcurl: keep-alive connection reuse, TLS
 * verification on unless opts->insecure, proxies from the environment.
 * NULL on failure with err set. Not thread-safe: one per thread. */
struct http_transport *http_curl_create(const struct http_options *opts, struct util_error *err);

/* Calls curl_global_init once; call from main before threads start. */
int http_global_init(struct util_error *err);
void http_global_cleanup(void);

/* Whether url can be a target: an absolute http or https URL with a host,
 * a port from 1 to 65535 when one is given, an optional path, no query,
 * fragment, space or control character. UTIL_OK, or UTIL_ERR_USAGE with
 * err saying what is wrong, to follow the option's name ("has the scheme
 * 'file:'; only http and https are supported"); userinfo is never echoed. */
int http_url_check(const char *url, struct util_error *err);

/* The wait a Retry-After header value asks for, in ms: delay-seconds
 * ("120") or an HTTP date (RFC 9110, section 10.2.3; a date in the past is
 * 0) against now; -1 when value is NULL or neither. */
long long http_retry_after_ms(const char *value, time_t now);

/* One-line name of a failure ("connection refused", "timed out", ...). */
const char *http_failure_name(enum http_failure f);

#endif
