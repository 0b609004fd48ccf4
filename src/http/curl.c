/* The live transport over libcurl, the only file that includes
 * <curl/curl.h>. One easy handle per transport, reset and reused for every
 * request so that its connection cache gives keep-alive reuse. */
#include "http/http.h"

#include "http/caps.h"
#include "util/buf.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct curl_transport {
    struct http_transport base; /* first: the generic header */
    CURL *easy;
    CURLM *multi; /* runs easy, so that a wait can look at opts.cancel */
    struct http_options opts;
    double cancel_seen; /* when opts.cancel was first seen set; 0: not yet */
    char *cacert;  /* owned copy of opts.cacert */
    char *noproxy; /* $NO_PROXY plus the loopback names, owned */
};

/* Per-exchange state shared with the callbacks. */
struct exchange {
    struct util_buf body;
    struct http_headers *headers;
    bool too_large;
    bool out_of_memory;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct exchange *x = userdata;
    size_t n = size * nmemb;
    int rc = util_buf_append(&x->body, ptr, n);
    if (rc == UTIL_ERR_LIMIT) {
        x->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (rc) {
        x->out_of_memory = true;
        return 0;
    }
    return n;
}

/* Trims spaces, tabs and line ends at both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && strchr(" \t\r\n", (*s)[*n - 1]))
        (*n)--;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct exchange *x = userdata;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        /* A new status line (after 100 Continue or a proxy CONNECT):
         * only the last response's headers count. */
        http_headers_finish(x->headers);
        return n;
    }
    const char *colon = memchr(ptr, ':', n);
    if (!colon || n > HTTP_CAP_HEADER_LINE)
        return n;
    const char *name = ptr, *value = colon + 1;
    size_t nlen = (size_t)(colon - ptr), vlen = n - nlen - 1;
    trim(&name, &nlen);
    trim(&value, &vlen);
    if (!nlen)
        return n;
    char line[HTTP_CAP_HEADER_LINE + 2];
    memcpy(line, name, nlen);
    line[nlen] = '\0';
    memcpy(line + nlen + 1, value, vlen);
    line[nlen + 1 + vlen] = '\0';
    int rc = http_headers_add(x->headers, line, line + nlen + 1);
    if (rc == UTIL_ERR_NOMEM) {
        x->out_of_memory = true;
        return 0;
    }
    return n; /* past HTTP_CAP_HEADER_COUNT further headers are dropped */
}

static enum http_failure map_code(CURLcode c, const struct exchange *x)
{
    if (x->too_large)
        return HTTP_ERR_TOO_LARGE;
    switch (c) {
    case CURLE_OK:
        return HTTP_ERR_NONE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return HTTP_ERR_RESOLVE;
    case CURLE_COULDNT_CONNECT:
        return HTTP_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTP_ERR_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        return HTTP_ERR_TLS;
    case CURLE_FILESIZE_EXCEEDED:
        return HTTP_ERR_TOO_LARGE;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return HTTP_ERR_PROTOCOL;
    case CURLE_TOO_MANY_REDIRECTS:
        return HTTP_ERR_REDIRECT;
    default:
        return HTTP_ERR_OTHER;
    }
}

/* Whether a failure may be retried for this method: connecting failures
 * always (nothing was sent), others only for idempotent methods. */
static bool retryable(enum http_failure f, const char *method)
{
    if (f == HTTP_ERR_CONNECT || f == HTTP_ERR_RESOLVE)
        return true;
    if (f != HTTP_ERR_TIMEOUT && f != HTTP_ERR_PROTOCOL)
        return false;
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static bool cancelled(const struct curl_transport *t)
{
    return t->opts.cancel && *t->opts.cancel;
}

/* Whether a request in flight is to be aborted: at once when opts.cancel
 * was set while it ran; for a request begun after that (a teardown's),
 * once HTTP_CANCEL_GRACE_MS have passed since the transport first saw it. */
static bool cancel_due(struct curl_transport *t, bool begun_cancelled)
{
    if (!cancelled(t))
        return false;
    double now = now_ms();
    if (t->cancel_seen == 0.0)
        t->cancel_seen = now;
    return !begun_cancelled || now - t->cancel_seen >= (double)HTTP_CANCEL_GRACE_MS;
}

/* Sleeps ms in slices, ending early when opts.cancel is set; returns
 * false when it did. */
static bool backoff(const struct curl_transport *t, long ms)
{
    while (ms > 0 && !cancelled(t)) {
        long slice = ms < HTTP_CANCEL_SLICE_MS ? ms : HTTP_CANCEL_SLICE_MS;
        struct timespec ts = {.tv_sec = slice / 1000, .tv_nsec = (slice % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        ms -= slice;
    }
    return !cancelled(t);
}

/* Runs the transfer configured on t->easy through t->multi, looking at
 * opts.cancel at least every HTTP_CANCEL_SLICE_MS; *aborted when
 * cancel_due stopped it (CURLE_ABORTED_BY_CALLBACK). */
static CURLcode perform(struct curl_transport *t, bool *aborted)
{
    CURLMcode m = curl_multi_add_handle(t->multi, t->easy);
    if (m != CURLM_OK)
        return m == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
    CURLcode result = CURLE_FAILED_INIT;
    bool begun_cancelled = cancelled(t);
    if (begun_cancelled && t->cancel_seen == 0.0)
        t->cancel_seen = now_ms();
    for (;;) {
        int running = 0, left = 0;
        bool done = false;
        m = curl_multi_perform(t->multi, &running);
        CURLMsg *msg;
        while (m == CURLM_OK && (msg = curl_multi_info_read(t->multi, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->easy) {
                result = msg->data.result;
                done = true;
            }
        if (m != CURLM_OK || done || running == 0)
            break;
        if (cancel_due(t, begun_cancelled)) {
            *aborted = true;
            result = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        m = curl_multi_poll(t->multi, NULL, 0, (int)HTTP_CANCEL_SLICE_MS, NULL);
        if (m != CURLM_OK)
            break;
    }
    if (m == CURLM_OUT_OF_MEMORY)
        result = CURLE_OUT_OF_MEMORY;
    curl_multi_remove_handle(t->multi, t->easy);
    return result;
}

/* Sets every option of one attempt (the handle was reset). */
static int configure(struct curl_transport *t, const struct http_request *req,
                     struct curl_slist *hdrs, struct exchange *x, char *errbuf)
{
    CURL *e = t->easy;
    CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (c == CURLE_OK)                                                                         \
            c = curl_easy_setopt(e, opt, val);                                                     \
    } while (0)
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_TIMEOUT_MS, t->opts.timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, t->opts.connect_timeout_ms);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->opts.max_body);
    SET(CURLOPT_SSL_VERIFYPEER, t->opts.insecure ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, t->opts.insecure ? 0L : 2L);
    if (t->cacert)
        SET(CURLOPT_CAINFO, t->cacert);
    SET(CURLOPT_NOPROXY, t->noproxy);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_HTTPHEADER, hdrs);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    const char *m = req->method;
    if (strcmp(m, "GET") == 0 && !req->body) {
        SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(m, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, m);
        if (req->body || strcmp(m, "GET") != 0) {
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
            SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
        }
    }
#undef SET
    return c == CURLE_OK ? UTIL_OK : c == CURLE_OUT_OF_MEMORY ? UTIL_ERR_NOMEM : UTIL_ERR_INVALID;
}

static int curl_send(struct http_transport *base, const struct http_request *req,
                     struct http_response *resp, struct util_error *err)
{
    struct curl_transport *t = (struct curl_transport *)base;
    struct curl_slist *hdrs = NULL;
    struct util_buf line;
    int rc = UTIL_OK;
    util_buf_init(&line, HTTP_CAP_HEADER_LINE);
    if (!req || !req->method || !req->url || !resp) {
        rc = util_error_set(err, UTIL_ERR_USAGE, "incomplete HTTP request");
        goto cleanup;
    }
    http_response_finish(resp);
    /* The last line of defence: the runner refuses these earlier, with the
     * case file's position or the option's name. */
    rc = http_headers_check(&req->headers, err);
    if (rc) {
        util_error_prefix(err, "request not sent");
        goto cleanup;
    }
    for (size_t i = 0; i < req->headers.count; i++) {
        util_buf_reset(&line);
        const struct http_header *h = &req->headers.items[i];
        rc = util_buf_printf(&line, "%s:%s%s", h->name, *h->value ? " " : "", h->value);
        if (!*h->value && !rc) /* "Name;" sends an empty header; "Name:" removes it */
            line.data[strlen(h->name)] = ';';
        struct curl_slist *n = rc ? NULL : curl_slist_append(hdrs, line.data);
        if (!n) {
            rc = rc ? rc : UTIL_ERR_NOMEM;
            if (rc == UTIL_ERR_LIMIT)
                util_error_set(err, rc,
                               "header %s is longer than %u bytes; the request is not sent",
                               h->name, HTTP_CAP_HEADER_LINE);
            else
                util_error_set(err, rc, "out of memory building header %s", h->name);
            goto cleanup;
        }
        hdrs = n;
    }
    if (!http_headers_get(&req->headers, "Expect")) {
        struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
        if (!n) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        hdrs = n;
    }

    double start = now_ms();
    for (int attempt = 0;; attempt++) {
        struct exchange x = {.headers = &resp->headers};
        char errbuf[CURL_ERROR_SIZE] = "";
        util_buf_init(&x.body, t->opts.max_body);
        http_response_finish(resp);
        curl_easy_reset(t->easy);
        int crc = configure(t, req, hdrs, &x, errbuf);
        if (crc) {
            util_buf_finish(&x.body);
            rc =
                crc == UTIL_ERR_NOMEM
                    ? util_error_set(err, crc, "out of memory configuring libcurl for %s", req->url)
                    : util_error_set(err, crc, "libcurl rejected an option for %s", req->url);
            goto cleanup;
        }
        bool aborted = false;
        CURLcode c = perform(t, &aborted);
        if (x.out_of_memory || c == CURLE_OUT_OF_MEMORY) {
            util_buf_finish(&x.body);
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory reading %s", req->url);
            goto cleanup;
        }
        enum http_failure f = aborted ? HTTP_ERR_INTERRUPTED : map_code(c, &x);
        long os_errno = 0;
        if (f == HTTP_ERR_CONNECT &&
            curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
            (os_errno == EMFILE || os_errno == ENFILE)) {
            /* Not the target's fault: this process is out of descriptors. */
            util_buf_finish(&x.body);
            rc = util_error_set(err, UTIL_ERR_IO, "%s: cannot open a socket: %s (ulimit -n)",
                                req->url, strerror((int)os_errno));
            goto cleanup;
        }
        if (f == HTTP_ERR_NONE) {
            long status = 0;
            curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
            resp->status = (int)status;
            resp->body_len = x.body.len;
            resp->body = util_buf_steal(&x.body);
            if (!resp->body) {
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
                goto cleanup;
            }
            resp->failure = HTTP_ERR_NONE;
            break;
        }
        util_buf_finish(&x.body);
        if (attempt < t->opts.retries && retryable(f, req->method)) {
            if (backoff(t, HTTP_RETRY_BACKOFF_MS * (attempt + 1)))
                continue;
            f = HTTP_ERR_INTERRUPTED; /* the signal came while retrying */
        }
        http_headers_finish(&resp->headers);
        resp->status = 0;
        resp->failure = f;
        resp->body = calloc(1, 1);
        resp->body_len = 0;
        if (f == HTTP_ERR_TOO_LARGE)
            util_error_set(err, UTIL_ERR_LIMIT, "%s: response body larger than %zu bytes", req->url,
                           t->opts.max_body);
        else if (f == HTTP_ERR_INTERRUPTED)
            util_error_set(err, UTIL_ERR_IO, "%s: interrupted after %d attempt%s", req->url,
                           attempt + 1, attempt ? "s" : "");
        else
            util_error_set(err, UTIL_ERR_IO, "%s: %s (%s)", req->url, http_failure_name(f),
                           errbuf[0] ? errbuf : curl_easy_strerror(c));
        break;
    }
    resp->elapsed_ms = now_ms() - start;
cleanup:
    util_buf_finish(&line);
    curl_slist_free_all(hdrs);
    return rc;
}

static void curl_destroy(struct http_transport *base)
{
    struct curl_transport *t = (struct curl_transport *)base;
    if (!t)
        return;
    if (t->multi)
        curl_multi_cleanup(t->multi);
    if (t->easy)
        curl_easy_cleanup(t->easy);
    free(t->cacert);
    free(t->noproxy);
    free(t);
}

/* Proxies come from the environment (libcurl's default), but loopback is
 * never proxied: the embedded mock listens there. */
static char *noproxy_list(void)
{
    const char *env = getenv("no_proxy");
    if (!env || !*env)
        env = getenv("NO_PROXY");
    struct util_buf b;
    util_buf_init(&b, HTTP_CAP_HEADER_LINE);
    int rc = env && *env ? util_buf_printf(&b, "%s,", env) : UTIL_OK;
    if (!rc)
        rc = util_buf_puts(&b, "localhost,127.0.0.1,::1");
    if (rc) {
        util_buf_finish(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

static const struct http_transport_ops curl_ops = {
    .name = "live",
    .send = curl_send,
    .destroy = curl_destroy,
};

struct http_transport *http_curl_create(const struct http_options *opts, struct util_error *err)
{
    struct curl_transport *t = calloc(1, sizeof(*t));
    if (!t) {
        util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    t->base.ops = &curl_ops;
    if (opts)
        t->opts = *opts;
    if (t->opts.timeout_ms <= 0)
        t->opts.timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
    if (t->opts.connect_timeout_ms <= 0)
        t->opts.connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    if (!t->opts.max_body)
        t->opts.max_body = HTTP_DEFAULT_MAX_BODY;
    if (t->opts.retries < 0)
        t->opts.retries = 0;
    if (t->opts.retries > HTTP_CAP_RETRIES)
        t->opts.retries = HTTP_CAP_RETRIES;
    if (t->opts.cacert) {
        size_t n = strlen(t->opts.cacert);
        t->cacert = malloc(n + 1);
        if (!t->cacert) {
            curl_destroy(&t->base);
            util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            return NULL;
        }
        memcpy(t->cacert, t->opts.cacert, n + 1);
    }
    t->opts.cacert = t->cacert;
    t->noproxy = noproxy_list();
    if (!t->noproxy) {
        curl_destroy(&t->base);
        util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    t->easy = curl_easy_init();
    t->multi = curl_multi_init();
    if (!t->easy || !t->multi) {
        curl_destroy(&t->base);
        util_error_set(err, UTIL_ERR_NOMEM, "cannot create a libcurl handle");
        return NULL;
    }
    return &t->base;
}

long long http_retry_after_ms(const char *value, time_t now)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value >= '0' && *value <= '9') {
        long long s = 0;
        const char *p = value;
        for (; *p >= '0' && *p <= '9'; p++)
            if ((s = s * 10 + (*p - '0')) > 100000000LL)
                return -1;
        while (*p == ' ' || *p == '\t')
            p++;
        return *p ? -1 : s * 1000;
    }
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1)
        return -1;
    return t > now ? (long long)(t - now) * 1000 : 0;
}

int http_global_init(struct util_error *err)
{
    CURLcode c = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (c != CURLE_OK)
        return util_error_set(err, UTIL_ERR_IO, "libcurl initialisation failed: %s",
                              curl_easy_strerror(c));
    return UTIL_OK;
}

void http_global_cleanup(void)
{
    curl_global_cleanup();
}
