/* The HTTP server around mock_handle(): libmicrohttpd with a pool of epoll
 * threads, the only file that includes <microhttpd.h>. A slow answer (the
 * slow fault) suspends its connection and a timer thread resumes it, so it
 * never holds a pool thread. */
#include "mock/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A suspended connection waiting for its slow answer. */
struct sleeper {
    struct MHD_Connection *conn;
    int64_t wake_ms; /* CLOCK_MONOTONIC */
    struct sleeper *next;
};

struct mock_server {
    struct mock_api *api;
    struct MHD_Daemon *daemon;
    char url[128];
    unsigned port;
    pthread_mutex_t lock; /* guards sleepers and stopping */
    pthread_cond_t cond;
    bool stopping;
    struct sleeper *sleepers;
    pthread_t timer;
    bool timer_started;
    /* MHD's last diagnostic while the daemon starts (why it failed). */
    char start_log[256];
    atomic_bool starting;
    /* MHD's diagnostics of a lack of memory or threads once started (a
     * connection it dropped or refused). */
    atomic_size_t resource_errors;
};

/* State of one request while its body arrives and, for a slow answer,
 * while it waits. */
struct request_state {
    struct util_buf body;
    bool too_large;
    bool has_pending;
    struct mock_response pending;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Resumes connections whose time has come; at shutdown, all of them. */
static void *timer_main(void *arg)
{
    struct mock_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = mono_ms(), next = INT64_MAX;
        for (struct sleeper **pp = &s->sleepers; *pp;) {
            struct sleeper *z = *pp;
            if (z->wake_ms <= now) {
                *pp = z->next;
                MHD_resume_connection(z->conn);
                free(z);
                continue;
            }
            if (z->wake_ms < next)
                next = z->wake_ms;
            pp = &z->next;
        }
        if (next == INT64_MAX) {
            pthread_cond_wait(&s->cond, &s->lock);
        } else {
            struct timespec until = {.tv_sec = next / 1000, .tv_nsec = (next % 1000) * 1000000L};
            pthread_cond_timedwait(&s->cond, &s->lock, &until);
        }
    }
    while (s->sleepers) {
        struct sleeper *z = s->sleepers;
        s->sleepers = z->next;
        MHD_resume_connection(z->conn);
        free(z);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Suspends conn until delay_ms from now. False when the server is
 * stopping (answer at once) or out of memory. */
static bool sleep_connection(struct mock_server *s, struct MHD_Connection *conn, long delay_ms)
{
    struct sleeper *z = malloc(sizeof(*z));
    if (!z)
        return false;
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        free(z);
        return false;
    }
    MHD_suspend_connection(conn);
    z->conn = conn;
    z->wake_ms = mono_ms() + delay_ms;
    z->next = s->sleepers;
    s->sleepers = z;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return true;
}

/* The drop fault: a body that stops halfway. */
struct drop_reader {
    char *body;
    size_t len, cut;
};

static ssize_t drop_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct drop_reader *d = cls;
    if (pos >= d->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = d->cut - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, d->body + pos, n);
    return (ssize_t)n;
}

static void drop_free(void *cls)
{
    struct drop_reader *d = cls;
    free(d->body);
    free(d);
}

struct args {
    struct mock_query_arg items[MOCK_CAP_QUERY_ARGS];
    size_t n;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct args *a = cls;
    (void)kind;
    if (a->n >= MOCK_CAP_QUERY_ARGS)
        return MHD_NO;
    a->items[a->n].key = key;
    a->items[a->n].value = value;
    a->n++;
    return MHD_YES;
}

static enum MHD_Result respond(struct MHD_Connection *conn, struct mock_response *r)
{
    struct MHD_Response *resp;
    if (r->drop) {
        struct drop_reader *d = malloc(sizeof(*d));
        if (!d)
            return MHD_NO;
        d->body = r->body;
        d->len = r->body_len;
        d->cut = r->body_len / 2;
        resp = MHD_create_response_from_callback(r->body_len, 4096, drop_read, d, drop_free);
        if (!resp) {
            free(d);
            return MHD_NO;
        }
        r->body = NULL; /* owned by the reader now */
    } else {
        resp = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            return MHD_NO;
        r->body = NULL; /* MHD frees it */
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* MHD's unescaping of the path and of the query's keys and values (MHD
 * turns '+' into a space first): mock_unescape, so that %00 in an ID is
 * kept (an unknown ID, written back as \u0000), not a cut. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *uri)
{
    (void)cls;
    (void)conn;
    return mock_unescape(uri, false);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct mock_server *s = cls;
    struct request_state *st = *con_cls;
    size_t cap = mock_api_max_body(s->api);
    (void)version;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        util_buf_init(&st->body, cap);
        *con_cls = st;
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > cap) {
            /* Refuse before reading the body; MHD closes the connection. */
            struct mock_request req = {.method = method, .path = url, .body_too_large = true};
            struct mock_response r;
            mock_response_init(&r);
            mock_handle(s->api, &req, &r);
            enum MHD_Result ret = respond(conn, &r);
            mock_response_finish(&r);
            return ret;
        }
        return MHD_YES;
    }
    if (st->has_pending) { /* resumed after a delay */
        st->has_pending = false;
        return respond(conn, &st->pending);
    }
    if (*upload_data_size) {
        if (!st->too_large && util_buf_append(&st->body, upload_data, *upload_data_size))
            st->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct args args = {.n = 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &args);
    struct mock_request req = {
        .method = method,
        .path = url,
        .args = args.items,
        .nargs = args.n,
        .app_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-algolia-application-id"),
        .api_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-algolia-api-key"),
        .content_type =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = st->body.data,
        .body_len = st->body.len,
        .body_too_large = st->too_large,
    };
    struct mock_response r;
    mock_response_init(&r);
    mock_handle(s->api, &req, &r);
    if (r.delay_ms > 0) {
        st->pending = r;
        st->has_pending = true;
        if (sleep_connection(s, conn, r.delay_ms))
            return MHD_YES;
        /* Not suspended (the server is stopping): answered now, r owns
         * the answer again. */
        st->has_pending = false;
        mock_response_init(&st->pending);
    }
    enum MHD_Result ret = respond(conn, &r);
    mock_response_finish(&r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request_state *st = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (st) {
        util_buf_finish(&st->body);
        mock_response_finish(&st->pending);
        free(st);
        *con_cls = NULL;
    }
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    /* Library code never prints: MHD's diagnostics are dropped, but for
     * the last one at start-up, which explains a failure to start. */
    struct mock_server *s = cls;
    if (!s->starting) {
        char msg[256];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        if (strstr(msg, "memory") || strstr(msg, "alloc") || strstr(msg, "thread") ||
            strstr(msg, "Thread"))
            atomic_fetch_add(&s->resource_errors, 1);
        return;
    }
    vsnprintf(s->start_log, sizeof(s->start_log), fmt, ap);
    size_t n = strlen(s->start_log);
    while (n && (s->start_log[n - 1] == '\n' || s->start_log[n - 1] == '.'))
        s->start_log[--n] = '\0';
}

size_t mock_server_failures(const struct mock_server *s)
{
    return s ? atomic_load(&s->resource_errors) + mock_api_internal_errors(s->api) : 0;
}

struct mock_server *mock_server_create(const struct mock_options *opts, struct util_error *err)
{
    struct mock_server *s = calloc(1, sizeof(*s));
    struct addrinfo *ai = NULL;
    int rc = UTIL_OK;
    if (!s) {
        util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    s->api = mock_api_create(opts, err);
    if (!s->api) {
        rc = err ? err->code : UTIL_ERR_INVALID;
        goto cleanup;
    }
    const char *host = opts->host ? opts->host : "127.0.0.1";
    if (opts->port > 65535) {
        rc = util_error_set(err, UTIL_ERR_USAGE, "port %u out of range", opts->port);
        goto cleanup;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    int gai = getaddrinfo(host, NULL, &hints, &ai);
    if (gai || !ai) {
        rc = util_error_set(err, UTIL_ERR_USAGE, "cannot resolve host '%s': %s", host,
                            gai_strerror(gai));
        goto cleanup;
    }
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    bool v6 = ai->ai_family == AF_INET6;
    if (v6)
        ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)opts->port);
    else
        ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)opts->port);
    if (pthread_create(&s->timer, NULL, timer_main, s) != 0) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "cannot start the timer thread");
        goto cleanup;
    }
    s->timer_started = true;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned pool = cpus < MOCK_MIN_THREADS   ? MOCK_MIN_THREADS
                    : cpus > MOCK_MAX_THREADS ? MOCK_MAX_THREADS
                                              : (unsigned)cpus;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (v6 ? MHD_USE_IPv6 : 0);
    s->starting = true;
    errno = 0;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, pool,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(opts->connection_limit ? opts->connection_limit : MOCK_DEFAULT_CONNECTION_LIMIT),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(opts->connection_timeout_s ? opts->connection_timeout_s
                                              : MOCK_DEFAULT_CONNECTION_TIMEOUT_S),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(opts->connection_memory ? opts->connection_memory
                                         : MOCK_DEFAULT_CONNECTION_MEMORY),
        MHD_OPTION_END);
    s->starting = false;
    if (!s->daemon) {
        rc = util_error_set(err, UTIL_ERR_IO, "cannot listen on %s port %u: %s", host, opts->port,
                            s->start_log[0] ? s->start_log
                            : errno         ? strerror(errno)
                                            : "libmicrohttpd failed to start");
        goto cleanup;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    if (!info || getsockname(info->listen_fd, (struct sockaddr *)&bound, &blen) != 0) {
        rc = util_error_set(err, UTIL_ERR_IO, "cannot read the listening port");
        goto cleanup;
    }
    char text[INET6_ADDRSTRLEN];
    if (bound.ss_family == AF_INET6) {
        s->port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&bound)->sin6_addr, text, sizeof(text));
        snprintf(s->url, sizeof(s->url), "http://[%s]:%u", text, s->port);
    } else {
        s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
        inet_ntop(AF_INET, &((struct sockaddr_in *)&bound)->sin_addr, text, sizeof(text));
        snprintf(s->url, sizeof(s->url), "http://%s:%u", text, s->port);
    }
cleanup:
    if (ai)
        freeaddrinfo(ai);
    if (rc) {
        mock_server_destroy(s);
        return NULL;
    }
    return s;
}

const char *mock_server_url(const struct mock_server *s)
{
    return s->url;
}

unsigned mock_server_port(const struct mock_server *s)
{
    return s->port;
}

struct mock_api *mock_server_api(struct mock_server *s)
{
    return s->api;
}

void mock_server_destroy(struct mock_server *s)
{
    if (!s)
        return;
    /* The timer resumes every suspended connection before it exits, so
     * that the daemon can close them. */
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->timer_started)
        pthread_join(s->timer, NULL);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    mock_api_destroy(s->api);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
