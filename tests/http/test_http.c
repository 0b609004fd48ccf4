/* The http module: header helpers, and the libcurl transport against a tiny
 * raw-socket server on port 0 whose behaviour each test picks. */
#include "http/http.h"

#include "http/caps.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- a scripted server ---- */

enum behaviour {
    SERVE_OK,      /* 200 with a small JSON body, keep-alive */
    SERVE_SLOW,    /* waits 1.5 s before answering */
    SERVE_DROP,    /* promises 1000 bytes, sends 100, closes */
    SERVE_BIG,     /* 200 with a 200 000-byte body */
    SERVE_HEADERS, /* 100 Continue first, then 201 with several headers */
    SERVE_ECHO,    /* answers with the request it read */
};

struct server {
    int fd;
    unsigned port;
    enum behaviour how;
    pthread_t thread;
    int accepted; /* connections accepted */
    int requests; /* requests answered */
    volatile int stop;
};

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

/* Reads one request (headers plus Content-Length body); 0 at EOF. */
static size_t read_request(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
        if (k <= 0)
            return 0;
        len += (size_t)k;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            size_t need = (size_t)(end + 4 - buf);
            char *cl = strstr(buf, "Content-Length:");
            if (!cl)
                cl = strstr(buf, "content-length:");
            if (cl)
                need += strtoul(cl + 15, NULL, 10);
            while (len < need && len < cap - 1) {
                k = recv(fd, buf + len, cap - 1 - len, 0);
                if (k <= 0)
                    break;
                len += (size_t)k;
            }
            buf[len] = '\0';
            return len;
        }
        if (len >= cap - 1)
            return len;
    }
}

static void *serve(void *arg)
{
    struct server *s = arg;
    static char buf[65536];
    while (!s->stop) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            break;
        if (s->stop) {
            close(c);
            break;
        }
        s->accepted++;
        size_t n;
        while ((n = read_request(c, buf, sizeof(buf))) > 0) {
            s->requests++;
            char head[512];
            if (s->how == SERVE_SLOW) {
                struct timespec ts = {1, 500000000L};
                nanosleep(&ts, NULL);
            }
            if (s->how == SERVE_DROP) {
                const char *h = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                "Content-Length: 1000\r\n\r\n";
                write_all(c, h, strlen(h));
                char part[100];
                memset(part, 'x', sizeof(part));
                write_all(c, part, sizeof(part));
                break;
            }
            if (s->how == SERVE_BIG) {
                size_t big = 200000;
                snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big);
                write_all(c, head, strlen(head));
                char *b = malloc(big);
                memset(b, 'a', big);
                write_all(c, b, big);
                free(b);
                continue;
            }
            if (s->how == SERVE_HEADERS) {
                const char *h = "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
                                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                                "X-Multi: one\r\nX-Multi: two\r\nX-Spaced:   padded value  \r\n"
                                "Content-Length: 2\r\n\r\n{}";
                write_all(c, h, strlen(h));
                continue;
            }
            if (s->how == SERVE_ECHO) {
                snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
                write_all(c, head, strlen(head));
                write_all(c, buf, n);
                continue;
            }
            const char *body = "{\"ok\":true}";
            snprintf(head, sizeof(head),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
            write_all(c, head, strlen(head));
        }
        close(c);
    }
    return NULL;
}

static struct server *server_start(enum behaviour how)
{
    struct server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->how = how;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    socklen_t len = sizeof(a);
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
    return s;
}

static void server_stop(struct server *s)
{
    s->stop = 1;
    /* Wake accept() with a last connection. */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(c, (struct sockaddr *)&a, sizeof(a));
    close(c);
    pthread_join(s->thread, NULL);
    close(s->fd);
    free(s);
}

static char *url_of(const struct server *s, const char *path)
{
    static char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", s->port, path);
    return url;
}

/* ---- tests ---- */

static void test_headers(void **state)
{
    (void)state;
    struct http_headers h;
    http_headers_init(&h);
    assert_int_equal(http_headers_add(&h, "Content-Type", "a"), 0);
    assert_int_equal(http_headers_add(&h, "X-A", "1"), 0);
    assert_int_equal(http_headers_add(&h, "x-a", "2"), 0);
    assert_string_equal(http_headers_get(&h, "content-type"), "a");
    assert_string_equal(http_headers_get(&h, "X-A"), "1");
    assert_int_equal(http_headers_set(&h, "X-a", "3"), 0);
    assert_int_equal(h.count, 2);
    assert_string_equal(http_headers_get(&h, "x-A"), "3");
    assert_null(http_headers_get(&h, "missing"));
    assert_int_not_equal(http_headers_add(&h, NULL, "x"), 0);
    http_headers_finish(&h);
    http_headers_finish(NULL);

    struct http_request r;
    http_request_init(&r);
    assert_int_equal(http_request_set(&r, "GET", "http://x/"), 0);
    assert_int_equal(http_request_set_body(&r, "abc", 3), 0);
    assert_int_equal(r.body_len, 3);
    assert_string_equal(r.body, "abc");
    http_request_finish(&r);
    http_request_finish(NULL);
    http_transport_destroy(NULL);
    assert_string_equal(http_failure_name(HTTP_ERR_CONNECT), "connection refused");
    assert_string_equal(http_failure_name(HTTP_ERR_TIMEOUT), "timed out");
    assert_string_equal(http_failure_name(HTTP_ERR_RESOLVE), "name not resolved");
    assert_string_equal(http_failure_name(HTTP_ERR_TLS), "TLS certificate problem");
    assert_string_equal(http_failure_name(HTTP_ERR_NO_RECORDING), "no recording matches");
}

static struct http_transport *transport(long timeout_ms, size_t max_body, int retries)
{
    struct util_error err;
    util_error_clear(&err);
    struct http_options o = {.timeout_ms = timeout_ms, .max_body = max_body, .retries = retries};
    struct http_transport *t = http_curl_create(&o, &err);
    assert_non_null(t);
    return t;
}

static void send_get(struct http_transport *t, const char *url, struct http_response *resp,
                     struct util_error *err)
{
    struct http_request req;
    http_request_init(&req);
    assert_int_equal(http_request_set(&req, "GET", url), 0);
    util_error_clear(err);
    assert_int_equal(http_send(t, &req, resp, err), 0);
    http_request_finish(&req);
}

static void test_ok_and_keepalive(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_OK);
    struct http_transport *t = transport(5000, 0, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    for (int i = 0; i < 5; i++) {
        send_get(t, url_of(s, "/x"), &resp, &err);
        assert_int_equal(resp.failure, HTTP_ERR_NONE);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, "{\"ok\":true}");
        assert_int_equal(resp.body_len, 11);
        assert_string_equal(http_headers_get(&resp.headers, "content-type"), "application/json");
    }
    assert_int_equal(s->requests, 5);
    assert_int_equal(s->accepted, 1); /* one connection, reused */
    http_response_finish(&resp);
    http_transport_destroy(t);
    server_stop(s);
}

static void test_methods_and_body(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_ECHO);
    struct http_transport *t = transport(5000, 0, 0);
    struct http_request req;
    struct http_response resp;
    struct util_error err;
    http_request_init(&req);
    http_response_init(&resp);
    static const char *const methods[] = {"POST", "PATCH", "PUT", "DELETE"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(http_request_set(&req, methods[i], url_of(s, "/echo?a=1")), 0);
        assert_int_equal(http_request_set_body(&req, "{\"k\":1}", 7), 0);
        assert_int_equal(http_headers_set(&req.headers, "Content-Type", "application/json"), 0);
        assert_int_equal(http_headers_set(&req.headers, "x-algolia-api-key", "secret"), 0);
        assert_int_equal(http_send(t, &req, &resp, &err), 0);
        assert_int_equal(resp.status, 200);
        char line[64];
        snprintf(line, sizeof(line), "%s /echo?a=1 HTTP/1.1\r\n", methods[i]);
        assert_true(strncmp(resp.body, line, strlen(line)) == 0);
        assert_non_null(strstr(resp.body, "\r\n\r\n{\"k\":1}"));
        assert_non_null(strstr(resp.body, "x-algolia-api-key: secret"));
        assert_non_null(strstr(resp.body, "Accept-Encoding:"));
        assert_null(strstr(resp.body, "Expect:"));
    }
    http_request_finish(&req);
    http_response_finish(&resp);
    http_transport_destroy(t);
    server_stop(s);
}

static void test_headers_parsed(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_HEADERS);
    struct http_transport *t = transport(5000, 0, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    send_get(t, url_of(s, "/"), &resp, &err);
    assert_int_equal(resp.status, 201);
    assert_null(http_headers_get(&resp.headers, "x-interim")); /* from the 100, dropped */
    assert_string_equal(http_headers_get(&resp.headers, "X-MULTI"), "one");
    assert_string_equal(http_headers_get(&resp.headers, "x-spaced"), "padded value");
    size_t multi = 0;
    for (size_t i = 0; i < resp.headers.count; i++)
        multi += strcmp(resp.headers.items[i].name, "X-Multi") == 0;
    assert_int_equal(multi, 2);
    http_response_finish(&resp);
    http_transport_destroy(t);
    server_stop(s);
}

static void test_refused(void **state)
{
    (void)state;
    /* A port nobody listens on: bind one, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", ntohs(a.sin_port));
    struct http_transport *t = transport(2000, 0, 1);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    send_get(t, url, &resp, &err);
    assert_int_equal(resp.failure, HTTP_ERR_CONNECT);
    assert_int_equal(resp.status, 0);
    assert_non_null(strstr(err.message, "connection refused"));
    assert_null(strchr(err.message, '\n'));
    http_response_finish(&resp);
    http_transport_destroy(t);
}

static void test_resolve(void **state)
{
    (void)state;
    struct http_transport *t = transport(3000, 0, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    send_get(t, "http://no-such-host.invalid/", &resp, &err);
    assert_int_equal(resp.failure, HTTP_ERR_RESOLVE);
    assert_non_null(strstr(err.message, "name not resolved"));
    http_response_finish(&resp);
    http_transport_destroy(t);
}

static void test_timeout(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_SLOW);
    struct http_transport *t = transport(300, 0, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    send_get(t, url_of(s, "/"), &resp, &err);
    assert_int_equal(resp.failure, HTTP_ERR_TIMEOUT);
    assert_non_null(strstr(err.message, "timed out"));
    assert_true(resp.elapsed_ms < 1400);
    http_response_finish(&resp);
    http_transport_destroy(t);
    server_stop(s);
}

static void test_drop_mid_body(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_DROP);
    struct http_transport *t = transport(3000, 0, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    send_get(t, url_of(s, "/"), &resp, &err);
    assert_int_equal(resp.failure, HTTP_ERR_PROTOCOL);
    assert_int_equal(resp.status, 0);
    http_response_finish(&resp);
    http_transport_destroy(t);
    server_stop(s);
}

static void test_retry_idempotent(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_DROP);
    struct http_transport *t = transport(3000, 0, 2);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    send_get(t, url_of(s, "/"), &resp, &err);
    assert_int_equal(resp.failure, HTTP_ERR_PROTOCOL);
    assert_int_equal(s->requests, 3); /* GET: two retries */
    struct http_request req;
    http_request_init(&req);
    assert_int_equal(http_request_set(&req, "POST", url_of(s, "/")), 0);
    assert_int_equal(http_send(t, &req, &resp, &err), 0);
    assert_int_equal(resp.failure, HTTP_ERR_PROTOCOL);
    assert_int_equal(s->requests, 4); /* POST: never retried after sending */
    http_request_finish(&req);
    http_response_finish(&resp);
    http_transport_destroy(t);
    server_stop(s);
}

static void test_body_cap(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_BIG);
    struct http_transport *t = transport(3000, 1000, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    send_get(t, url_of(s, "/"), &resp, &err);
    assert_int_equal(resp.failure, HTTP_ERR_TOO_LARGE);
    assert_int_equal(err.code, UTIL_ERR_LIMIT);
    http_transport_destroy(t);
    /* The same body fits a larger cap. */
    t = transport(3000, 300000, 0);
    send_get(t, url_of(s, "/"), &resp, &err);
    assert_int_equal(resp.failure, HTTP_ERR_NONE);
    assert_int_equal(resp.body_len, 200000);
    http_response_finish(&resp);
    http_transport_destroy(t);
    server_stop(s);
}

/* A proxy from the environment is used, but never for loopback. */
static void test_loopback_not_proxied(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_OK);
    setenv("http_proxy", "http://127.0.0.1:9", 1);
    setenv("NO_PROXY", "example.com", 1);
    struct http_transport *t = transport(3000, 0, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    send_get(t, url_of(s, "/"), &resp, &err);
    assert_int_equal(resp.failure, HTTP_ERR_NONE);
    assert_int_equal(resp.status, 200);
    send_get(t, "http://example.org/", &resp, &err); /* proxied: the dead proxy refuses */
    assert_int_equal(resp.failure, HTTP_ERR_CONNECT);
    http_response_finish(&resp);
    http_transport_destroy(t);
    unsetenv("http_proxy");
    unsetenv("NO_PROXY");
    server_stop(s);
}

static void test_bad_request(void **state)
{
    (void)state;
    struct http_transport *t = transport(1000, 0, 0);
    struct http_request req;
    struct http_response resp;
    struct util_error err;
    http_request_init(&req);
    http_response_init(&resp);
    util_error_clear(&err);
    assert_int_not_equal(http_send(t, &req, &resp, &err), 0);
    http_transport_destroy(t);
}

/* No request whose headers could split the header block leaves: the
 * transport refuses it and the server sees nothing. */
static void test_injection_not_sent(void **state)
{
    (void)state;
    struct server *s = server_start(SERVE_ECHO);
    struct http_transport *t = transport(5000, 0, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    static const struct {
        const char *name, *value, *why;
    } bad[] = {
        {"x-custom", "a\r\nX-Injected: yes",
         "header x-custom: the value contains a carriage return"},
        {"x-custom", "a\nX-Injected: yes", "header x-custom: the value contains a line feed (LF)"},
        {"x-custom", "a\rX-Injected: yes", "the value contains a carriage return (CR)"},
        {"x-custom",
         "a\x01"
         "b",
         "the value contains the control character 0x01"},
        {"x custom", "a", "header name 'x custom' contains a space"},
        {"x-a\r\nX-Injected", "yes", "contains a carriage return (CR) (a header name is"},
        {"", "a", "is empty"},
        {"x:y", "a", "contains ':'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_request req;
        http_request_init(&req);
        assert_int_equal(http_request_set(&req, "GET", url_of(s, "/x")), 0);
        assert_int_equal(http_headers_add(&req.headers, bad[i].name, bad[i].value), 0);
        assert_int_equal(http_headers_check(&req.headers, &err), UTIL_ERR_INVALID);
        util_error_clear(&err);
        assert_int_equal(http_send(t, &req, &resp, &err), UTIL_ERR_INVALID);
        if (!strstr(err.message, bad[i].why))
            fail_msg("row %zu: '%s' does not say '%s'", i, err.message, bad[i].why);
        assert_null(strchr(err.message, '\n'));
        http_request_finish(&req);
    }
    /* A header line past the cap is refused the same way. */
    struct http_request req;
    http_request_init(&req);
    char *big = malloc(HTTP_CAP_HEADER_LINE + 1);
    memset(big, 'a', HTTP_CAP_HEADER_LINE);
    big[HTTP_CAP_HEADER_LINE] = '\0';
    assert_int_equal(http_request_set(&req, "GET", url_of(s, "/x")), 0);
    assert_int_equal(http_headers_add(&req.headers, "x-big", big), 0);
    assert_int_equal(http_send(t, &req, &resp, &err), UTIL_ERR_LIMIT);
    assert_non_null(strstr(err.message, "header x-big: longer than 16384 bytes"));
    free(big);
    assert_int_equal(s->requests, 0);
    /* Tab, obs-text and an empty value are fine. */
    http_headers_finish(&req.headers);
    assert_int_equal(http_headers_add(&req.headers, "x-tab", "a\tb \xc3\xa9"), 0);
    assert_int_equal(http_headers_add(&req.headers, "X-Odd!#$%&'*+.^_`|~", ""), 0);
    assert_int_equal(http_send(t, &req, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body, "x-tab: a\tb \xc3\xa9\r\n"));
    assert_int_equal(s->requests, 1);
    http_request_finish(&req);
    http_response_finish(&resp);
    http_transport_destroy(t);
    server_stop(s);
}

static void test_url_check(void **state)
{
    (void)state;
    static const char *const good[] = {
        "http://127.0.0.1:1",         "https://data.us.algolia.com",
        "HTTP://EXAMPLE.com/base/",   "http://[::1]:8080",
        "http://user:pw@host:80/p",   "https://h:65535",
        "http://host_name.example-1", "http://h/a%20b",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct util_error err;
        util_error_clear(&err);
        if (http_url_check(good[i], &err) != UTIL_OK)
            fail_msg("%s refused: %s", good[i], err.message);
    }
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"", "is empty"},
        {"file:///etc/passwd#", "has the scheme 'file:'; only http and https are supported"},
        {"gopher://h:70/", "has the scheme 'gopher:'"},
        {"ftp://h/", "has the scheme 'ftp:'"},
        {"http://127.0.0.1: 80", "contains a space"},
        {"http://127.0.0.1:99999", "has the port '99999', not a number from 1 to 65535"},
        {"http://127.0.0.1:0", "has the port '0'"},
        {"http://127.0.0.1:", "has the port ''"},
        {"http://127.0.0.1:8x", "has the port '8x'"},
        {"http://127.0.0.1:0000000000000000000080", "has the port"},
        {"http://", "has no host"},
        {"http://:80", "has no host"},
        {"http://user:pw@", "has no host"},
        {"http:///path", "has no host"},
        {"127.0.0.1:8080", "is not an absolute URL"},
        {"//host", "is not an absolute URL"},
        {"http://h/a?b", "has a query or a fragment"},
        {"http://h#", "has a query or a fragment"},
        {"http://h\r\nX-Injected: yes", "contains the control character 0x0D"},
        {"http://h\x7f", "contains the control character 0x7F"},
        {"http://[zz]:80", "has a malformed [IPv6] host"},
        {"http://[::1", "has a malformed [IPv6] host"},
        {"http://[::1]x", "has a malformed [IPv6] host"},
        {"http://a\"b/", "has '\"' in its host name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct util_error err;
        util_error_clear(&err);
        assert_int_equal(http_url_check(bad[i].url, &err), UTIL_ERR_USAGE);
        if (!strstr(err.message, bad[i].why))
            fail_msg("%s: '%s' does not say '%s'", bad[i].url, err.message, bad[i].why);
    }
    /* Userinfo is never echoed. */
    struct util_error err;
    util_error_clear(&err);
    assert_int_equal(http_url_check("http://admin:hunter2PASS@h:99999", &err), UTIL_ERR_USAGE);
    assert_null(strstr(err.message, "hunter2PASS"));
}

/* The live transport speaks http and https only, whatever URL it is given. */
static void test_other_schemes_refused(void **state)
{
    (void)state;
    struct http_transport *t = transport(2000, 0, 0);
    struct http_response resp;
    struct util_error err;
    http_response_init(&resp);
    static const char *const urls[] = {"file:///etc/passwd", "gopher://127.0.0.1:1/",
                                       "dict://127.0.0.1:1/"};
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        send_get(t, urls[i], &resp, &err);
        assert_int_not_equal(resp.failure, HTTP_ERR_NONE);
        assert_int_equal(resp.body_len, 0);
    }
    http_response_finish(&resp);
    http_transport_destroy(t);
}

/* Retry-After: delay-seconds or an HTTP date, against a given now. */
static void test_retry_after(void **state)
{
    (void)state;
    time_t date = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    assert_int_equal(http_retry_after_ms("120", 0), 120000);
    assert_int_equal(http_retry_after_ms(" 0 ", 0), 0);
    assert_int_equal(http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", date - 5), 5000);
    assert_int_equal(http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", date + 5), 0);
    assert_int_equal(http_retry_after_ms("soon", 0), -1);
    assert_int_equal(http_retry_after_ms("12x", 0), -1);
    assert_int_equal(http_retry_after_ms("99999999999999999999", 0), -1);
    assert_int_equal(http_retry_after_ms(NULL, 0), -1);
}

int main(void)
{
    struct util_error err;
    util_error_clear(&err);
    /* The tests pick their own proxies. */
    static const char *const proxies[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                          "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
    if (http_global_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_ok_and_keepalive),
        cmocka_unit_test(test_methods_and_body),
        cmocka_unit_test(test_headers_parsed),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_drop_mid_body),
        cmocka_unit_test(test_retry_idempotent),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_loopback_not_proxied),
        cmocka_unit_test(test_bad_request),
        cmocka_unit_test(test_injection_not_sent),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_other_schemes_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return rc;
}
