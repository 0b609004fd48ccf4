/* The bad-input catalogue (issue 7): one table row per bad input, each run
 * through `ingestcheck run` as a process and held to its exact outcome:
 *
 *   exit 0   the input is handled (a gzip or chunked body, a slow server);
 *   exit 1   a failed check, named, whose message says why;
 *   exit 2   one line on stderr, "ingestcheck: ...", naming the case file,
 *            the cassette or the URL, and saying why (a cassette of another
 *            spec is replayed with one such line, a warning, and exit 0);
 *
 * and never a crash (a signal, a sanitizer or valgrind report), a hang (each
 * run has a deadline), a partial file (reports parse and are complete, no
 * temporary file is left, a cassette is never changed by a replay).
 *
 * Case files come from tests/data/bad/ (the 20 MB one is made here);
 * responses come from a scripted raw-socket server on port 0 in this
 * process; TLS servers are `openssl s_server` children with certificates
 * made here (the TLS rows are skipped without the openssl tool, the gzip
 * rows without gzip); cassettes are edited copies of the shipped
 * cases/cassettes/smoke.yaml.
 *
 * Usage: test_bad_inputs INGESTCHECK SOURCE_DIR [ROW-NAME-SUBSTRING]
 * Prints one line per row and the number of rows. INGESTCHECK_KEEP_TMP=1
 * keeps the files of every row. */
#include "proc.h"
#include "secrets.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest one `ingestcheck run` of a row may take. */
#define ROW_DEADLINE_MS 60000
/* A body larger than the runner's response cap (64 MB). */
#define HUGE_BODY (100u * 1024u * 1024u)

/* A getTasks answer that passes every check. */
#define OK_BODY                                                                                    \
    "{\"tasks\":[],\"pagination\":{\"nbPages\":1,\"page\":1,\"nbItems\":0,\"itemsPerPage\":10}}"

/* What the scripted server answers (or what kind of server there is). */
enum script {
    S_MOCK,          /* no scripted server: the embedded mock */
    S_OK,            /* 200 with OK_BODY */
    S_TRUNCATED,     /* OK_BODY cut in the middle, Content-Length agreeing */
    S_TRAILING,      /* OK_BODY then " garbage" */
    S_HUGE,          /* a 100 MB body announced by Content-Length */
    S_HUGE_CHUNKED,  /* a 100 MB body in chunks, no length */
    S_WRONG_TYPE,    /* OK_BODY as text/html */
    S_GZIP,          /* OK_BODY gzipped, Content-Encoding: gzip */
    S_GZIP_BAD,      /* Content-Encoding: gzip over bytes that are not gzip */
    S_GZIP_BOMB,     /* 100 KB of gzip that inflates to 100 MB */
    S_CHUNKED,       /* OK_BODY one byte per chunk */
    S_CHUNKED_BAD,   /* a chunk size that is not hexadecimal */
    S_EMPTY,         /* 200 with no body */
    S_NOT_UTF8,      /* OK_BODY with a byte 0xFF in a member name */
    S_DUPLICATE,     /* a member named twice */
    S_BIG_NUMBER,    /* 1e400 */
    S_DEEP,          /* 100 000 nested arrays */
    S_NUL,           /* a body of NUL and control bytes */
    S_NOT_HTTP,      /* a line that is not an HTTP status line */
    S_SILENT,        /* accepts, reads, never answers */
    S_DROP,          /* promises 1000 bytes, sends 20, closes */
    S_CLOSE,         /* accepts and closes at once */
    S_DRIP,          /* the OK answer one byte every 2 ms */
    S_DRIP_SLOW,     /* one byte every 100 ms: longer than the timeout */
    S_REDIRECT_LOOP, /* 302 to itself */
    S_HEADER_FLOOD,  /* 20 000 response headers */
    S_REFUSED,       /* nothing listens on the port */
    S_TLS_SELF,      /* openssl s_server with a self-signed certificate */
    S_TLS_EXPIRED,   /* with an expired one, trusted by --cacert */
    S_CASSETTE,      /* no server: replay of cases/smoke.yaml from a cassette */
    /* Secret rows (secrets.h): recorded to cassettes, exported to HAR, and
     * no file written may hold a secret in any encoded form. */
    S_SECRETS,      /* bad_secrets_body, with the key from the case file's env */
    S_BASIC_AUTH,   /* OK_BODY to BAD_SECRET_BASIC, else 401; --base-url has userinfo */
    S_REFUSED_AUTH, /* nothing listens; --base-url has userinfo */
};

/* How a cassette row edits the shipped cases/cassettes/smoke.yaml. */
enum edit {
    E_NONE,
    E_TRUNCATED,     /* cut after 700 bytes */
    E_WRONG_TYPE,    /* a status code that is a string */
    E_BODY_TYPE,     /* a response body that is a list */
    E_NEWER_FORMAT,  /* ingestcheck format: 2 */
    E_NEWER_VERSION, /* version: 2 (vcrpy's) */
    E_SPEC_HASH,     /* another spec_sha256 */
    E_EMPTY,         /* an empty file */
    E_NOT_UTF8,      /* a byte 0xFF in a value */
    E_MISSING,       /* no cassette at all */
};

struct row {
    const char *group;
    const char *name;
    const char *input; /* in tests/data/bad; "@20MB" made here; "@missing" absent */
    enum script script;
    enum edit edit;
    const char *timeout; /* --timeout MS, or NULL */
    int exit_code;
    const char *check;  /* a check that must have failed (exit 1, or 2 with reports) */
    const char *detail; /* ... whose message contains this */
    const char *line;   /* exit 2: the stderr line contains this */
};

#define CASE_ROW(name, file, code, check, detail, line)                                            \
    {                                                                                              \
        "case file", name, file, S_MOCK, E_NONE, NULL, code, check, detail, line                   \
    }
#define RESPONSE_ROW(name, script, code, check, detail)                                            \
    {                                                                                              \
        "response", name, "get-tasks.yaml", script, E_NONE, "5000", code, check, detail, NULL      \
    }
#define SERVER_ROW(name, script, timeout, code, check, detail, line)                               \
    {                                                                                              \
        "server", name, "get-tasks.yaml", script, E_NONE, timeout, code, check, detail, line       \
    }
#define SECRET_ROW(name, script, file, code, check, detail, line)                                  \
    {                                                                                              \
        "secrets", name, file, script, E_NONE, NULL, code, check, detail, line                     \
    }
#define CASSETTE_ROW(name, edit, code, line)                                                       \
    {                                                                                              \
        "cassette", name, NULL, S_CASSETTE, edit, NULL, code, NULL, NULL, line                     \
    }

static const struct row rows[] = {
    CASE_ROW("invalid YAML", "invalid-yaml.yaml", 2, NULL, NULL,
             "did not find expected node content"),
    CASE_ROW("wrong type", "wrong-type.yaml", 2, NULL, NULL, "tags: expected array, got integer"),
    CASE_ROW("unknown key", "unknown-key.yaml", 2, NULL, NULL, "unknown key 'retries' in case"),
    CASE_ROW("unknown operationId", "unknown-operation.yaml", 2, NULL, NULL,
             "unknown operation 'listAllTheTasks'"),
    CASE_ROW("a capture that never matches", "capture-never-matches.yaml", 1, "capture",
             "capture 'taskID': $.tasks[0].taskID is not in the body", NULL),
    CASE_ROW("a variable never set", "variable-never-set.yaml", 2, NULL, NULL,
             "{{taskID}} is not defined here"),
    CASE_ROW("a 20 MB file", "@20MB", 2, NULL, NULL, "larger than the case file cap of"),
    CASE_ROW("nesting 2000 levels deep", "deep-nesting.yaml", 2, NULL, NULL,
             "nesting deeper than 512 levels"),
    CASE_ROW("an alias bomb", "alias-bomb.yaml", 2, NULL, NULL, "(alias expansion?)"),
    CASE_ROW("an empty file", "empty.yaml", 2, NULL, NULL, "expected object, got null"),
    CASE_ROW("a duplicate key", "duplicate-key.yaml", 2, NULL, NULL,
             "duplicate key \"name\" in mapping"),
    CASE_ROW("not UTF-8", "not-utf8.yaml", 2, NULL, NULL, "(expected UTF-8 text)"),
    CASE_ROW("a file that does not exist", "@missing", 2, NULL, NULL, "cannot open"),

    RESPONSE_ROW("a valid answer (control)", S_OK, 0, NULL, NULL),
    RESPONSE_ROW("truncated JSON", S_TRUNCATED, 1, "contract.json", "malformed JSON"),
    RESPONSE_ROW("JSON with trailing garbage", S_TRAILING, 1, "contract.json",
                 "trailing data after the JSON value"),
    RESPONSE_ROW("a 100 MB body (Content-Length)", S_HUGE, 1, "transport",
                 "response body larger than 67108864 bytes"),
    RESPONSE_ROW("a 100 MB body (chunked)", S_HUGE_CHUNKED, 1, "transport",
                 "response body larger than 67108864 bytes"),
    RESPONSE_ROW("a wrong content type", S_WRONG_TYPE, 1, "contract.content-type",
                 "Content-Type is text/html, expected application/json"),
    RESPONSE_ROW("a gzip body (decoded)", S_GZIP, 0, NULL, NULL),
    RESPONSE_ROW("a gzip body that is not gzip", S_GZIP_BAD, 1, "transport",
                 "connection dropped or malformed answer"),
    RESPONSE_ROW("a gzip bomb (100 MB inflated)", S_GZIP_BOMB, 1, "transport",
                 "response body larger than 67108864 bytes"),
    RESPONSE_ROW("a chunked body", S_CHUNKED, 0, NULL, NULL),
    RESPONSE_ROW("a malformed chunk", S_CHUNKED_BAD, 1, "transport",
                 "connection dropped or malformed answer"),
    RESPONSE_ROW("an empty 200", S_EMPTY, 1, "contract.json", "body is empty, expected JSON"),
    RESPONSE_ROW("invalid UTF-8", S_NOT_UTF8, 1, "contract.json",
                 "body:1:5: byte 0xFF is not UTF-8"),
    RESPONSE_ROW("duplicate keys", S_DUPLICATE, 1, "contract.json",
                 "duplicate member name \"tasks\" in the object at /"),
    RESPONSE_ROW("a number beyond double range", S_BIG_NUMBER, 1, "contract.json",
                 "the number at /pagination/nbPages is beyond the range of a double"),
    RESPONSE_ROW("100 000 nested arrays", S_DEEP, 1, "contract.json",
                 "nesting deeper than 512 levels"),
    RESPONSE_ROW("NUL and control bytes", S_NUL, 1, "contract.json", "malformed JSON"),
    RESPONSE_ROW("20 000 headers", S_HEADER_FLOOD, 1, "transport",
                 "connection dropped or malformed answer"),
    RESPONSE_ROW("not HTTP at all", S_NOT_HTTP, 1, "transport", "HTTP/0.9"),

    SERVER_ROW("connection refused", S_REFUSED, NULL, 2, "transport", "Couldn't connect",
               "connection refused"),
    SERVER_ROW("accepts and never answers", S_SILENT, "1500", 1, "transport", "timed out", NULL),
    SERVER_ROW("drops the connection mid-body", S_DROP, NULL, 1, "transport",
               "transfer closed with 980 bytes remaining", NULL),
    SERVER_ROW("closes without a word", S_CLOSE, NULL, 1, "transport", "Empty reply from server",
               NULL),
    SERVER_ROW("answers byte by byte", S_DRIP, "30000", 0, NULL, NULL, NULL),
    SERVER_ROW("byte by byte, past the timeout", S_DRIP_SLOW, "1500", 1, "transport", "timed out",
               NULL),
    SERVER_ROW("TLS, self-signed certificate", S_TLS_SELF, NULL, 2, "transport",
               "self-signed certificate", "TLS certificate problem"),
    SERVER_ROW("TLS, expired certificate", S_TLS_EXPIRED, NULL, 2, "transport",
               "certificate has expired", "TLS certificate problem"),
    SERVER_ROW("a redirect loop (not followed)", S_REDIRECT_LOOP, NULL, 1, "contract.status",
               "status 302 is not documented for getTasks", NULL),

    CASSETTE_ROW("the shipped cassette (control)", E_NONE, 0, NULL),
    CASSETTE_ROW("truncated", E_TRUNCATED, 2, "smoke.yaml:"),
    CASSETTE_ROW("a status code that is a string", E_WRONG_TYPE, 2,
                 "expected the status code (an integer), found 'two hundred'"),
    CASSETTE_ROW("a body that is a list", E_BODY_TYPE, 2,
                 "expected the response body (a string), found a sequence"),
    CASSETTE_ROW("a newer ingestcheck format", E_NEWER_FORMAT, 2,
                 "ingestcheck cassette format 2 is newer than this ingestcheck reads (1)"),
    CASSETTE_ROW("a newer cassette version", E_NEWER_VERSION, 2,
                 "cassette version 2 is newer than this ingestcheck reads (1)"),
    /* Replayed and re-checked against today's schemas, with a warning. */
    CASSETTE_ROW("another spec's hash", E_SPEC_HASH, 0, "recorded against spec sha256 0000"),
    CASSETTE_ROW("an empty file", E_EMPTY, 2, NULL),
    CASSETTE_ROW("not UTF-8", E_NOT_UTF8, 2, NULL),
    CASSETTE_ROW("missing, replay only", E_MISSING, 2, "no cassette for"),

    /* Issue 12: no secret in any file written, in any form. */
    SECRET_ROW("secrets of every type in failure excerpts", S_SECRETS, "secrets-excerpts.yaml", 1,
               "expect.body", "/authentications/0/input/password: expected \"****\"", NULL),
    SECRET_ROW("an API key to encode, in a path and a query", S_SECRETS, "secrets-key.yaml", 1,
               "contract.schema", "property \"echo\" is not allowed", NULL),
    SECRET_ROW("a password in --base-url (basic auth)", S_BASIC_AUTH, "get-tasks.yaml", 0, NULL,
               NULL, NULL),
    SECRET_ROW("a password in --base-url, unreachable", S_REFUSED_AUTH, "get-tasks.yaml", 2,
               "transport", "Couldn't connect", "connection refused"),
};

/* ---- the scripted server ---- */

struct server {
    int fd;
    unsigned port;
    enum script script;
    pthread_t thread;
    atomic_int stop;
    const char *gz_ok, *gz_bomb; /* gzip bodies */
    size_t gz_ok_len, gz_bomb_len;
    char head[8192]; /* the last request head read */
};

static bool stopped(struct server *s)
{
    return atomic_load(&s->stop) != 0;
}

static bool send_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool sendf(int fd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return n > 0 && (size_t)n < sizeof(buf) && send_all(fd, buf, (size_t)n);
}

static bool answer(int fd, const char *type, const char *extra, const void *body, size_t n)
{
    return sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n", type,
                 n, extra ? extra : "") &&
           send_all(fd, body, n);
}

/* Sleeps ms, or less when the server stops. */
static void nap(struct server *s, long ms)
{
    for (long t = 0; t < ms && !stopped(s); t += 10)
        proc_sleep_ms(ms - t < 10 ? ms - t : 10);
}

/* Reads the request head (a GET has no body); false at EOF or stop. */
static bool read_head(struct server *s, int c)
{
    char buf[65536];
    size_t len = 0;
    while (!stopped(s)) {
        struct pollfd p = {.fd = c, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t k = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
        if (k <= 0)
            return false;
        len += (size_t)k;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") || len == sizeof(buf) - 1) {
            size_t keep = len < sizeof(s->head) - 1 ? len : sizeof(s->head) - 1;
            memcpy(s->head, buf, keep);
            s->head[keep] = '\0';
            return true;
        }
    }
    return false;
}

/* Sends n bytes of filler in 1 MB writes, chunked or not. */
static void send_filler(struct server *s, int c, size_t n, bool chunked)
{
    static char block[1 << 20];
    memset(block, ' ', sizeof(block));
    for (size_t sent = 0; sent < n && !stopped(s); sent += sizeof(block)) {
        if (chunked && !sendf(c, "%zx\r\n", sizeof(block)))
            return;
        if (!send_all(c, block, sizeof(block)) || (chunked && !send_all(c, "\r\n", 2)))
            return;
    }
    if (chunked)
        send_all(c, "0\r\n\r\n", 5);
}

static void serve_one(struct server *s, int c)
{
    static const char ok[] = OK_BODY;
    size_t okn = sizeof(ok) - 1;
    if (s->script == S_CLOSE)
        return;
    if (!read_head(s, c))
        return;
    switch (s->script) {
    case S_OK:
        answer(c, "application/json", NULL, ok, okn);
        break;
    case S_TRUNCATED:
        answer(c, "application/json", NULL, ok, okn / 2);
        break;
    case S_TRAILING: {
        char b[256];
        snprintf(b, sizeof(b), "%s garbage", ok);
        answer(c, "application/json", NULL, b, strlen(b));
        break;
    }
    case S_HUGE:
        if (sendf(c,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %u\r\n\r\n",
                  HUGE_BODY))
            send_filler(s, c, HUGE_BODY, false);
        break;
    case S_HUGE_CHUNKED:
        if (sendf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"))
            send_filler(s, c, HUGE_BODY, true);
        break;
    case S_WRONG_TYPE:
        answer(c, "text/html", NULL, ok, okn);
        break;
    case S_GZIP:
        answer(c, "application/json", "Content-Encoding: gzip\r\n", s->gz_ok, s->gz_ok_len);
        break;
    case S_GZIP_BAD: {
        /* A gzip header, then bytes that are no deflate stream. */
        static const char bad[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03not a deflate stream at all";
        answer(c, "application/json", "Content-Encoding: gzip\r\n", bad, sizeof(bad) - 1);
    } break;
    case S_GZIP_BOMB:
        answer(c, "application/json", "Content-Encoding: gzip\r\n", s->gz_bomb, s->gz_bomb_len);
        break;
    case S_CHUNKED:
        if (!sendf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"))
            break;
        for (size_t i = 0; i < okn; i++)
            if (!sendf(c, "1\r\n%c\r\n", ok[i]))
                return;
        send_all(c, "0\r\n\r\n", 5);
        break;
    case S_CHUNKED_BAD:
        sendf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
        break;
    case S_EMPTY:
        answer(c, "application/json", NULL, "", 0);
        break;
    case S_NOT_UTF8: {
        char b[256];
        snprintf(b, sizeof(b), "{\"ta\xffsks\":[],%s", ok + 12);
        answer(c, "application/json", NULL, b, strlen(b));
        break;
    }
    case S_DUPLICATE: {
        char b[256];
        snprintf(b, sizeof(b), "{\"tasks\":[],%s", ok + 1);
        answer(c, "application/json", NULL, b, strlen(b));
        break;
    }
    case S_BIG_NUMBER: {
        const char *b = "{\"tasks\":[],\"pagination\":{\"nbPages\":1e400,\"page\":1,"
                        "\"nbItems\":0,\"itemsPerPage\":10}}";
        answer(c, "application/json", NULL, b, strlen(b));
        break;
    }
    case S_DEEP: {
        size_t n = 100000;
        char *b = malloc(2 * n);
        if (!b)
            break;
        memset(b, '[', n);
        memset(b + n, ']', n);
        answer(c, "application/json", NULL, b, 2 * n);
        free(b);
        break;
    }
    case S_NUL:
        answer(c, "application/json", NULL, "\0\x01\x02\x1b[2J\0", 8);
        break;
    case S_NOT_HTTP:
        sendf(c, "SSH-2.0-OpenSSH_9.2\r\nthis is not HTTP\r\n\r\n");
        break;
    case S_SILENT:
        nap(s, 3600 * 1000L);
        break;
    case S_DROP:
        if (sendf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: 1000\r\n\r\n"))
            send_all(c, ok, 20);
        break;
    case S_DRIP:
    case S_DRIP_SLOW: {
        char b[512];
        int n = snprintf(b, sizeof(b),
                         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n%s",
                         okn, ok);
        for (int i = 0; i < n && !stopped(s); i++) {
            if (!send_all(c, b + i, 1))
                break;
            nap(s, s->script == S_DRIP ? 2 : 100);
        }
        break;
    }
    case S_SECRETS: {
        char *b = bad_secrets_body(s->head);
        if (b)
            answer(c, "application/json", NULL, b, strlen(b));
        free(b);
        break;
    }
    case S_BASIC_AUTH:
        if (bad_secrets_basic_auth(s->head))
            answer(c, "application/json", NULL, ok, okn);
        else
            sendf(c, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        break;
    case S_REDIRECT_LOOP:
        sendf(c, "HTTP/1.1 302 Found\r\nLocation: /1/tasks\r\nContent-Length: 0\r\n\r\n");
        break;
    case S_HEADER_FLOOD:
        if (!sendf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"))
            break;
        for (int i = 0; i < 20000; i++)
            if (!sendf(c, "X-Flood-%d: %064d\r\n", i, i))
                return;
        sendf(c, "Content-Length: %zu\r\n\r\n%s", okn, ok);
        break;
    default:
        break;
    }
}

static void *serve(void *arg)
{
    struct server *s = arg;
    while (!stopped(s)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        serve_one(s, c);
        shutdown(c, SHUT_WR);
        close(c);
    }
    return NULL;
}

/* A listening socket on 127.0.0.1 port 0; its port in *port. */
static int listen_loopback(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- fixture: temporary files, gzip bodies, certificates ---- */

static char tmp[1024];
static char *gz_ok, *gz_bomb;
static size_t gz_ok_len, gz_bomb_len;
static bool have_gzip, have_tls;

/* gzip -c of n bytes (data, or n spaces when data is NULL) through a file. */
static char *gzip_of(const char *data, size_t n, size_t *out_len)
{
    char in[PROC_PATH_MAX + 16], out[PROC_PATH_MAX + 16];
    snprintf(in, sizeof(in), "%s/gz.in", tmp);
    snprintf(out, sizeof(out), "%s/gz.out", tmp);
    FILE *f = fopen(in, "wb");
    if (!f)
        return NULL;
    static char block[1 << 20];
    memset(block, ' ', sizeof(block));
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof(block) ? n - done : sizeof(block);
        fwrite(data ? data + done : block, 1, k, f);
        done += k;
    }
    fclose(f);
    char cmd[2 * PROC_PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "gzip -c -9 < '%s' > '%s' 2>/dev/null", in, out);
    int rc = system(cmd);
    unlink(in);
    char *z = rc == 0 ? test_slurp(out, out_len) : NULL;
    unlink(out);
    return z;
}

static bool tool_runs(const char *const *argv)
{
    pid_t pid = proc_spawn_tool(argv, NULL, NULL);
    return pid > 0 && proc_wait(pid, 60000, NULL) == 0;
}

/* A self-signed certificate for 127.0.0.1 valid for a day, and one that
 * expired yesterday (x509 -days -1); keys next to them. */
static bool make_certificates(void)
{
    char key[PROC_PATH_MAX + 16], self[PROC_PATH_MAX + 16], csr[PROC_PATH_MAX + 16],
        expired[PROC_PATH_MAX + 16], ext[PROC_PATH_MAX + 16];
    snprintf(key, sizeof(key), "%s/tls.key", tmp);
    snprintf(self, sizeof(self), "%s/self.pem", tmp);
    snprintf(csr, sizeof(csr), "%s/tls.csr", tmp);
    snprintf(expired, sizeof(expired), "%s/expired.pem", tmp);
    snprintf(ext, sizeof(ext), "%s/tls.ext", tmp);
    const char *san = "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    if (!proc_write(ext, san, strlen(san)))
        return false;
    const char *mk_self[] = {"openssl",
                             "req",
                             "-x509",
                             "-newkey",
                             "ec",
                             "-pkeyopt",
                             "ec_paramgen_curve:prime256v1",
                             "-nodes",
                             "-keyout",
                             key,
                             "-out",
                             self,
                             "-days",
                             "1",
                             "-subj",
                             "/CN=127.0.0.1",
                             "-addext",
                             "subjectAltName=IP:127.0.0.1,DNS:localhost",
                             NULL};
    const char *mk_csr[] = {"openssl", "req", "-new",  "-key",          key,
                            "-out",    csr,   "-subj", "/CN=127.0.0.1", NULL};
    const char *mk_expired[] = {"openssl", "x509", "-req",     "-in", csr,    "-signkey", key,
                                "-days",   "-1",   "-extfile", ext,   "-out", expired,    NULL};
    return tool_runs(mk_self) && tool_runs(mk_csr) && tool_runs(mk_expired);
}

struct tls_server {
    pid_t pid;
    unsigned port;
};

/* openssl s_server -www on 127.0.0.1 port 0 with cert; reads its port
 * from the ACCEPT line. */
static bool tls_start(struct tls_server *t, const char *cert)
{
    char pem[PROC_PATH_MAX + 16], key[PROC_PATH_MAX + 16], out[PROC_PATH_MAX + 16];
    snprintf(pem, sizeof(pem), "%s/%s.pem", tmp, cert);
    snprintf(key, sizeof(key), "%s/tls.key", tmp);
    snprintf(out, sizeof(out), "%s/s_server-%s.out", tmp, cert);
    unlink(out);
    const char *argv[] = {"openssl", "s_server", "-www", "-accept", "127.0.0.1:0",
                          "-cert",   pem,        "-key", key,       NULL};
    t->pid = proc_spawn_tool(argv, out, NULL);
    t->port = 0;
    for (long end = proc_now_ms() + 10000; t->pid > 0 && proc_now_ms() < end;) {
        char *text = test_slurp(out, NULL);
        const char *a = text ? strstr(text, "ACCEPT 127.0.0.1:") : NULL;
        if (a && strchr(a, '\n'))
            t->port = (unsigned)strtoul(a + 17, NULL, 10);
        free(text);
        if (t->port)
            return true;
        proc_sleep_ms(10);
    }
    return false;
}

static void tls_stop(struct tls_server *t)
{
    if (t->pid > 0) {
        kill(t->pid, SIGTERM);
        proc_wait(t->pid, 5000, NULL);
    }
    t->pid = 0;
}

/* ---- one row ---- */

struct outcome {
    char dir[1200];
    char input[PROC_PATH_MAX + 64]; /* the case file given */
    char cassette[PROC_PATH_MAX + 64];
    char url[128];
    int code;
    bool hung;
    char *out, *err;
    char *cassette_before; /* the cassette as written, to compare after */
    size_t cassette_len;
    char why[1024]; /* the first broken expectation; "" when the row passed */
};

static void broken(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void broken(struct outcome *o, const char *fmt, ...)
{
    if (o->why[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why, sizeof(o->why), fmt, ap);
    va_end(ap);
}

/* A 20 MB case file: valid YAML, case after case. */
static bool make_big_case_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs("cases:\n", f);
    for (long i = 0; ftell(f) < 20L * 1024 * 1024; i++)
        fprintf(f, "  - name: case %ld\n    steps:\n      - operation: getTasks\n", i);
    return fclose(f) == 0;
}

/* Writes the cassette of a cassette row (edited shipped smoke.yaml). */
static bool make_cassette(const struct row *r, struct outcome *o)
{
    char shipped[PROC_PATH_MAX + 64], dir[PROC_PATH_MAX + 16];
    snprintf(shipped, sizeof(shipped), "%s/cases/cassettes/smoke.yaml", proc_source);
    snprintf(dir, sizeof(dir), "%s/cassettes", o->dir);
    snprintf(o->cassette, sizeof(o->cassette), "%s/smoke.yaml", dir);
    if (mkdir(dir, 0755) != 0)
        return false;
    if (r->edit == E_MISSING)
        return true;
    size_t n = 0;
    char *text = test_slurp(shipped, &n);
    if (!text)
        return false;
    struct {
        enum edit e;
        const char *from, *to;
    } subs[] = {
        {E_WRONG_TYPE, "      code: 200\n", "      code: two hundred\n"},
        {E_BODY_TYPE, "      string: '", "      string: [1, 2]\n      x: '"},
        {E_NEWER_FORMAT, "  format: 1\n", "  format: 2\n"},
        {E_NEWER_VERSION, "\nversion: 1\n", "\nversion: 2\n"},
        {E_SPEC_HASH, "  spec_sha256: '", "  spec_sha256: '0000"},
        {E_NOT_UTF8, "  recorded_at: '", "  recorded_at: '\xff"},
    };
    char *edited = NULL;
    size_t len = n;
    if (r->edit == E_TRUNCATED)
        len = n < 700 ? n : 700;
    else if (r->edit == E_EMPTY)
        len = 0;
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (subs[i].e != r->edit)
            continue;
        const char *at = strstr(text, subs[i].from);
        if (!at) {
            free(text);
            return false;
        }
        size_t pre = (size_t)(at - text), fl = strlen(subs[i].from), tl = strlen(subs[i].to);
        edited = malloc(n - fl + tl + 1);
        memcpy(edited, text, pre);
        memcpy(edited + pre, subs[i].to, tl);
        memcpy(edited + pre + tl, at + fl, n - pre - fl + 1);
        len = n - fl + tl;
        /* The hash keeps its length: cut what the prefix added. */
        if (r->edit == E_SPEC_HASH) {
            memmove(edited + pre + tl + 60, edited + pre + tl + 64, len - pre - tl - 64 + 1);
            len -= 4;
        }
    }
    const char *data = edited ? edited : text;
    bool ok = proc_write(o->cassette, data, len);
    o->cassette_before = malloc(len + 1);
    memcpy(o->cassette_before, data, len);
    o->cassette_len = len;
    free(edited);
    free(text);
    return ok;
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The reports, when there are any, are whole: results.json parses and
 * junit.xml ends its root element. Returns the parsed results or NULL. */
static cJSON *check_reports(struct outcome *o)
{
    char rj[PROC_PATH_MAX + 64], ju[PROC_PATH_MAX + 64];
    snprintf(rj, sizeof(rj), "%s/reports/results.json", o->dir);
    snprintf(ju, sizeof(ju), "%s/reports/junit.xml", o->dir);
    char *results = test_slurp(rj, NULL), *junit = test_slurp(ju, NULL);
    cJSON *doc = results ? cJSON_Parse(results) : NULL;
    if (results && !doc)
        broken(o, "reports/results.json is not JSON (a partial file?)");
    if (!results != !junit)
        broken(o, "only one of results.json and junit.xml was written");
    size_t jl = junit ? strlen(junit) : 0;
    const char *end = "</testsuites>\n";
    if (junit && (jl < strlen(end) || strcmp(junit + jl - strlen(end), end) != 0))
        broken(o, "reports/junit.xml does not end with </testsuites> (a partial file?)");
    free(results);
    free(junit);
    return doc;
}

/* The failed check of the results named check whose message has detail. */
static bool has_failed_check(const cJSON *doc, const char *check, const char *detail, char *seen,
                             size_t cap)
{
    const cJSON *k, *s, *c;
    seen[0] = '\0';
    cJSON_ArrayForEach(k, get(doc, "cases"))
    {
        cJSON_ArrayForEach(s, get(k, "steps"))
        {
            cJSON_ArrayForEach(c, get(s, "checks"))
            {
                const cJSON *name = get(c, "name"), *out = get(c, "outcome"),
                            *msg = get(c, "message");
                if (!cJSON_IsString(name) || !cJSON_IsString(out) || !cJSON_IsString(msg) ||
                    strcmp(out->valuestring, "fail") != 0)
                    continue;
                if (!seen[0])
                    snprintf(seen, cap, "%s: %s", name->valuestring, msg->valuestring);
                if (strcmp(name->valuestring, check) == 0 &&
                    (!detail || strstr(msg->valuestring, detail)))
                    return true;
            }
        }
    }
    return false;
}

static void judge(const struct row *r, struct outcome *o)
{
    if (o->hung) {
        broken(o, "hung: killed after %ld ms", proc_deadline(ROW_DEADLINE_MS));
        return;
    }
    if (o->code != r->exit_code) {
        broken(o, "exit %d, expected %d", o->code, r->exit_code);
        return;
    }
    const char *err = o->err ? o->err : "";
    cJSON *doc = check_reports(o);
    if (r->exit_code == 2) {
        size_t n = strlen(err);
        const char *nl = strchr(err, '\n');
        const char *name = r->script == S_CASSETTE ? o->cassette
                           : r->script == S_MOCK   ? o->input
                                                   : o->url;
        if (strncmp(err, "ingestcheck: ", 13) != 0 || !nl || nl != err + n - 1)
            broken(o, "stderr is not one line \"ingestcheck: ...\": %s", err);
        else if (!strstr(err, name))
            broken(o, "the message does not name %s: %s", name, err);
        else if (r->line && !strstr(err, r->line))
            broken(o, "the message does not say \"%s\": %s", r->line, err);
    } else if (r->line) {
        /* A warning: one line naming the cassette. */
        const char *nl = strchr(err, '\n');
        if (strncmp(err, "ingestcheck: warning: ", 22) != 0 || !nl || nl[1])
            broken(o, "stderr is not one line \"ingestcheck: warning: ...\": %s", err);
        else if (!strstr(err, o->cassette) || !strstr(err, r->line))
            broken(o, "the warning does not name %s and say \"%s\": %s", o->cassette, r->line, err);
    } else if (err[0]) {
        broken(o, "unexpected stderr: %s", err);
    }
    if (r->exit_code == 0 && doc && !cJSON_IsFalse(get(doc, "target_error")))
        broken(o, "target_error is set");
    if (r->exit_code == 0 && doc) {
        const cJSON *failed = get(get(doc, "summary"), "failed");
        if (!cJSON_IsNumber(failed) || failed->valuedouble != 0)
            broken(o, "a case failed");
    }
    if (r->check) {
        char seen[600];
        if (!doc)
            broken(o, "no reports, expected a failed %s check", r->check);
        else if (!has_failed_check(doc, r->check, r->detail, seen, sizeof(seen)))
            broken(o, "no failed %s check saying \"%s\" (first failure: %s)", r->check,
                   r->detail ? r->detail : "", seen[0] ? seen : "none");
    }
    cJSON_Delete(doc);
    size_t temps = proc_count_temp_files(o->dir);
    if (temps)
        broken(o, "%zu temporary file(s) left behind", temps);
    if (o->cassette_before) {
        size_t n = 0;
        char *now = test_slurp(o->cassette, &n);
        if (!now || n != o->cassette_len || memcmp(now, o->cassette_before, n) != 0)
            broken(o, "the replay changed the cassette");
        free(now);
    }
}

static void run_row(size_t index, const struct row *r, struct outcome *o)
{
    char name[64], out[PROC_PATH_MAX + 64], err[PROC_PATH_MAX + 64], reports[PROC_PATH_MAX + 64],
        cacert[PROC_PATH_MAX + 64], casdir[PROC_PATH_MAX + 32];
    snprintf(name, sizeof(name), "row-%02zu", index + 1);
    snprintf(o->dir, sizeof(o->dir), "%s/%s", tmp, name);
    mkdir(o->dir, 0755);
    snprintf(out, sizeof(out), "%s/stdout", o->dir);
    snprintf(err, sizeof(err), "%s/stderr", o->dir);
    snprintf(reports, sizeof(reports), "%s/reports", o->dir);
    const char *args[32] = {"run", "--no-color", "--reports", reports};
    size_t n = 4;

    struct server srv = {.fd = -1, .script = r->script};
    struct tls_server tls = {0};
    bool started = false;
    if (r->script == S_CASSETTE) {
        if (!make_cassette(r, o)) {
            broken(o, "cannot make the cassette");
            return;
        }
        snprintf(o->input, sizeof(o->input), "%s/cases/smoke.yaml", proc_source);
        snprintf(casdir, sizeof(casdir), "%s/cassettes", o->dir);
        args[n++] = "--replay";
        args[n++] = "--cassettes";
        args[n++] = casdir;
    } else if (strcmp(r->input, "@20MB") == 0) {
        snprintf(o->input, sizeof(o->input), "%s/big.yaml", o->dir);
        if (!make_big_case_file(o->input)) {
            broken(o, "cannot write %s", o->input);
            return;
        }
    } else if (strcmp(r->input, "@missing") == 0) {
        snprintf(o->input, sizeof(o->input), "%s/no-such-file.yaml", o->dir);
    } else {
        snprintf(o->input, sizeof(o->input), "%s/tests/data/bad/%s", proc_source, r->input);
    }

    if (r->script == S_TLS_SELF || r->script == S_TLS_EXPIRED) {
        if (!tls_start(&tls, r->script == S_TLS_SELF ? "self" : "expired")) {
            broken(o, "openssl s_server did not start");
            return;
        }
        snprintf(o->url, sizeof(o->url), "https://127.0.0.1:%u", tls.port);
        if (r->script == S_TLS_EXPIRED) {
            snprintf(cacert, sizeof(cacert), "%s/expired.pem", tmp);
            args[n++] = "--cacert";
            args[n++] = cacert;
        }
    } else if (r->script == S_REFUSED || r->script == S_REFUSED_AUTH) {
        unsigned port = 0;
        int fd = listen_loopback(&port);
        close(fd);
        snprintf(o->url, sizeof(o->url), "http://127.0.0.1:%u", port);
    } else if (r->script != S_MOCK && r->script != S_CASSETTE) {
        srv.fd = listen_loopback(&srv.port);
        srv.gz_ok = gz_ok;
        srv.gz_ok_len = gz_ok_len;
        srv.gz_bomb = gz_bomb;
        srv.gz_bomb_len = gz_bomb_len;
        if (srv.fd < 0 || pthread_create(&srv.thread, NULL, serve, &srv) != 0) {
            broken(o, "cannot start the scripted server");
            return;
        }
        started = true;
        snprintf(o->url, sizeof(o->url), "http://127.0.0.1:%u", srv.port);
    }
    bool secret =
        r->script == S_SECRETS || r->script == S_BASIC_AUTH || r->script == S_REFUSED_AUTH;
    char url[sizeof(o->url) + 64];
    snprintf(url, sizeof(url), "%s", o->url);
    if ((r->script == S_BASIC_AUTH || r->script == S_REFUSED_AUTH) &&
        strncmp(o->url, "http://", 7) == 0)
        snprintf(url, sizeof(url), "http://%s@%s", BAD_SECRET_USERINFO, o->url + 7);
    if (o->url[0]) {
        args[n++] = "--base-url";
        args[n++] = url;
        args[n++] = "--app-id";
        args[n++] = secret ? BAD_SECRET_APP : "BADAPP";
        args[n++] = "--api-key";
        args[n++] = secret ? BAD_SECRET_KEY : "bad-input-key";
    }
    if (secret) {
        snprintf(casdir, sizeof(casdir), "%s/cassettes", o->dir);
        args[n++] = "--cassettes";
        args[n++] = casdir;
        args[n++] = "--record-mode";
        args[n++] = "all";
        args[n++] = "--redact";
        args[n++] = "extraToken";
        setenv(BAD_SECRET_KEY_ENV, BAD_SECRET_KEY, 1);
    }
    if (r->timeout) {
        args[n++] = "--timeout";
        args[n++] = r->timeout;
    }
    args[n++] = o->input;
    args[n] = NULL;

    o->code = proc_run(args, out, err, NULL, proc_deadline(ROW_DEADLINE_MS), &o->hung);
    if (started) {
        atomic_store(&srv.stop, 1);
        pthread_join(srv.thread, NULL);
        close(srv.fd);
    }
    tls_stop(&tls);
    o->out = test_slurp(out, NULL);
    o->err = test_slurp(err, NULL);
    judge(r, o);
    char why[2048] = "";
    if (secret && !o->hung &&
        (!bad_secrets_export_har(o->dir, why, sizeof(why)) ||
         !bad_secrets_scan(o->dir, why, sizeof(why))))
        broken(o, "%s", why);
}

static bool row_skipped(const struct row *r, const char **why)
{
    if ((r->script == S_GZIP || r->script == S_GZIP_BOMB) && !have_gzip) {
        *why = "no gzip tool";
        return true;
    }
    if ((r->script == S_TLS_SELF || r->script == S_TLS_EXPIRED) && !have_tls) {
        *why = "no openssl tool";
        return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s INGESTCHECK SOURCE_DIR [ROW-NAME-SUBSTRING]\n", argv[0]);
        return 2;
    }
    proc_binary = argv[1];
    proc_source = argv[2];
    const char *only = argc > 3 ? argv[3] : NULL;
    signal(SIGPIPE, SIG_IGN);
    proc_mkdtemp(tmp, sizeof(tmp), "bad-inputs");

    const char *gz_probe[] = {"gzip", "--version", NULL};
    const char *ssl_probe[] = {"openssl", "version", NULL};
    have_gzip = tool_runs(gz_probe);
    if (have_gzip) {
        gz_ok = gzip_of(OK_BODY, strlen(OK_BODY), &gz_ok_len);
        gz_bomb = gzip_of(NULL, HUGE_BODY, &gz_bomb_len);
        have_gzip = gz_ok && gz_bomb;
    }
    have_tls = tool_runs(ssl_probe) && make_certificates();

    size_t nrows = sizeof(rows) / sizeof(rows[0]), passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        if (only && !strstr(r->name, only))
            continue;
        const char *why = NULL;
        if (row_skipped(r, &why)) {
            printf("SKIP  %2zu %-9s %s (%s)\n", i + 1, r->group, r->name, why);
            skipped++;
            continue;
        }
        struct outcome o;
        memset(&o, 0, sizeof(o));
        long t0 = proc_now_ms();
        run_row(i, r, &o);
        long ms = proc_now_ms() - t0;
        if (o.why[0]) {
            failed++;
            printf("FAIL  %2zu %-9s %s: %s\n", i + 1, r->group, r->name, o.why);
            printf("      files in %s; stdout:\n%.2000s\n", o.dir, o.out ? o.out : "");
        } else {
            passed++;
            printf("ok    %2zu %-9s %s: exit %d (%ld ms)\n", i + 1, r->group, r->name, o.code, ms);
        }
        free(o.out);
        free(o.err);
        free(o.cassette_before);
    }
    printf("bad-input catalogue: %zu rows: %zu passed, %zu failed, %zu skipped\n", nrows, passed,
           failed, skipped);
    free(gz_ok);
    free(gz_bomb);
    const char *keep = getenv("INGESTCHECK_KEEP_TMP");
    if (keep && *keep)
        printf("files kept in %s\n", tmp);
    else
        proc_rmtree(tmp);
    return failed ? 1 : 0;
}
