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
#include "commands.h"
#include "made_inputs.h"
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
    S_RAW_CONTROL,   /* OK_BODY with a raw U+0001 in a string */
    S_NUL_STRING,    /* a task whose sourceID is "line1\nline2\u0000hidden" */
    S_NUL_ENUM,      /* a task whose action is "replace\u0000hidden" */
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
    S_ERROR_CRLF,    /* 400 with a message holding CR LF and "X-Injected: yes" */
    S_SPEC,          /* no server: `schemas generate --spec INPUT --out DIR` */
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
    E_FIFO,          /* a FIFO in the cassette's place */
};

struct row {
    const char *group;
    const char *name;
    const char *input; /* in tests/data/bad; "@20MB" and made_inputs.c's made here;
                          "@missing" absent */
    enum script script;
    enum edit edit;
    const char *timeout; /* --timeout MS, or NULL */
    int exit_code;
    const char *check;  /* a check that must have failed (exit 1, or 2 with reports) */
    const char *detail; /* ... whose message contains this */
    const char *line;   /* exit 2: the stderr line contains this */
    /* Injection rows (issue 12): more arguments ("@LONG": 20 000 bytes;
     * --app-id and --api-key replace the defaults), an environment
     * variable NAME=VALUE, and what the exit-2 line names instead of the
     * case file or URL ("@input": the case file; then the scripted server
     * must have had no request at all). */
    const char *args[6];
    const char *env;
    const char *names;
};

#define CASE_ROW(name, file, code, check, detail, line)                                            \
    {                                                                                              \
        "case file", name, file, S_MOCK, E_NONE, NULL, code, check, detail, line, .env = NULL      \
    }
#define RESPONSE_ROW(name, script, code, check, detail)                                            \
    {                                                                                              \
        "response", name, "get-tasks.yaml", script, E_NONE, "5000", code, check, detail, NULL,     \
            .env = NULL                                                                            \
    }
#define SERVER_ROW(name, script, timeout, code, check, detail, line)                               \
    {                                                                                              \
        "server", name, "get-tasks.yaml", script, E_NONE, timeout, code, check, detail, line,      \
            .env = NULL                                                                            \
    }
/* A header row runs against the scripted server, which must never see an
 * X-Injected header (no row may, in fact). */
#define HEADER_ROW(name, file, script, code, check, detail, line, names, env, ...)                 \
    {                                                                                              \
        "injection", name, file, script, E_NONE, NULL, code, check, detail, line, {__VA_ARGS__},   \
            env, names                                                                             \
    }
#define URL_ROW(name, url, line)                                                                   \
    {                                                                                              \
        "url", name, "get-tasks.yaml", S_MOCK, E_NONE, NULL, 2, NULL, NULL, line,                  \
            {"--base-url", url, "--app-id", "BADAPP", "--api-key", "bad-input-key"}, NULL,         \
            "--base-url"                                                                           \
    }
#define SECRET_ROW(name, script, file, code, check, detail, line)                                  \
    {                                                                                              \
        "secrets", name, file, script, E_NONE, NULL, code, check, detail, line, .env = NULL        \
    }
#define CASSETTE_ROW(name, edit, code, line)                                                       \
    {                                                                                              \
        "cassette", name, NULL, S_CASSETTE, edit, NULL, code, NULL, NULL, line, .env = NULL        \
    }
#define SPEC_ROW(name, file, code, line)                                                           \
    {                                                                                              \
        "spec", name, file, S_SPEC, E_NONE, NULL, code, NULL, NULL, line, .env = NULL              \
    }

static const struct row rows[] = {
    CASE_ROW("invalid YAML", "invalid-yaml.yaml", 2, NULL, NULL,
             "did not find expected node content"),
    CASE_ROW("wrong type", "wrong-type.yaml", 2, NULL, NULL, "tags: expected array, got integer"),
    CASE_ROW("unknown key", "unknown-key.yaml", 2, NULL, NULL, "unknown key 'retries' in case"),
    CASE_ROW("a malformed matcher", "bad-matcher.yaml", 2, NULL, NULL,
             "bad-matcher.yaml:6:51: $sorted: order: expected asc or desc"),
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
    CASE_ROW("not UTF-8", "not-utf8.yaml", 2, NULL, NULL,
             "not-utf8.yaml:2:15: byte 0xE9 is not UTF-8"),
    CASE_ROW("a file that does not exist", "@missing", 2, NULL, NULL, "cannot open"),
    /* Issue 12: linear YAML, aliases capped in bytes, FIFOs, encodings. */
    CASE_ROW("450 000 items in a flat list", "@450k-items", 2, NULL, NULL,
             "450k-items.yaml:5:9: getTasks takes no request body"),
    CASE_ROW("a mapping of 90 000 keys", "@90k-keys", 2, NULL, NULL,
             "90k-keys.yaml:5:9: getTasks takes no request body"),
    CASE_ROW("a 400 KB string aliased 190 000 times", "@alias-400KB-x190k", 2, NULL, NULL,
             "alias-400KB-x190k.yaml:7:141: aliases copy more than the cap of 16777216 bytes"),
    CASE_ROW("a 900 KB string aliased 1 000 times", "@alias-900KB-x1000", 2, NULL, NULL,
             "alias-900KB-x1000.yaml:7:72: aliases copy more than the cap of 16777216 bytes"),
    CASE_ROW("a FIFO", "@fifo", 2, NULL, NULL,
             "fifo.yaml: is a FIFO (named pipe); expected a "
             "regular file"),

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
    RESPONSE_ROW("a raw control character in a string", S_RAW_CONTROL, 1, "contract.json",
                 "body:1:88: raw control character U+0001 in a string"),
    /* results.json has "replace\u0000hidden", which cJSON reads as "replace". */
    RESPONSE_ROW("NUL in an enum value (not cut)", S_NUL_ENUM, 1, "contract.schema",
                 "/tasks/0/action: \"replace"),
    {"response", "NUL in an expected string (not cut)", "nul-expect.yaml", S_NUL_STRING, E_NONE,
     "5000", 1, "expect.body", "/tasks/0/sourceID: expected \"line1\\nline2\"", NULL, .env = NULL},
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
    CASSETTE_ROW("not UTF-8", E_NOT_UTF8, 2, "smoke.yaml:4:17: byte 0xFF is not UTF-8"),
    CASSETTE_ROW("missing, replay only", E_MISSING, 2, "no cassette for"),

    HEADER_ROW(
        "CR LF in a header value", "header-crlf.yaml", S_OK, 2, NULL, NULL,
        "header-crlf.yaml:6:19: headers: x-custom: the value contains a carriage return (CR)",
        "@input", NULL, NULL),
    HEADER_ROW("a space in a header name", "header-name-space.yaml", S_OK, 2, NULL, NULL,
               "headers: the name 'x custom' contains a space (a header name is an RFC 9110 "
               "token)",
               "@input", NULL, NULL),
    HEADER_ROW("CR LF in content_type", "content-type-crlf.yaml", S_OK, 2, NULL, NULL,
               "content-type-crlf.yaml:8:9: content_type contains a carriage return (CR)", "@input",
               NULL, NULL),
    HEADER_ROW("CR LF from vars: into a header", "header-var-crlf.yaml", S_OK, 2, NULL, NULL,
               "headers: x-custom: the value contains a carriage return (CR) once its templates "
               "are filled in",
               "@input", NULL, NULL),
    HEADER_ROW(
        "CR LF from vars: into a raw path", "raw-path-crlf.yaml", S_OK, 2, NULL, NULL,
        "raw-path-crlf.yaml:7:9: path: the request path contains a carriage return (CR) once "
        "its templates are filled in",
        "@input", NULL, NULL),
    HEADER_ROW("CR LF from the environment into a header", "header-env-crlf.yaml", S_OK, 2, NULL,
               NULL, "headers: x-custom: the value contains a carriage return (CR) once its",
               "@input", "INGESTCHECK_BAD_HEADER=a\r\nX-Injected: yes", NULL),
    HEADER_ROW("CR LF in --run-id, used in a header", "header-run-id.yaml", S_OK, 2, NULL, NULL,
               "--run-id contains a carriage return (CR)", "--run-id", NULL, "--run-id",
               "a\r\nX-Injected: yes"),
    HEADER_ROW("a 20 000-byte --run-id, used in a header", "header-run-id.yaml", S_OK, 2, NULL,
               NULL, "--run-id must be 1 to 256 bytes long, got 20000", "--run-id", NULL,
               "--run-id", "@LONG"),
    HEADER_ROW("LF in --api-key", "get-tasks.yaml", S_OK, 2, NULL, NULL,
               "--api-key contains a line feed (LF); it goes into the x-algolia-api-key header",
               "--api-key", NULL, "--api-key", "key\nX-Injected: yes"),
    HEADER_ROW("a 20 000-byte --api-key", "get-tasks.yaml", S_OK, 2, NULL, NULL,
               "--api-key is longer than", "--api-key", NULL, "--api-key", "@LONG"),
    HEADER_ROW("CR LF in ALGOLIA_APPLICATION_ID", "get-tasks.yaml", S_OK, 2, NULL, NULL,
               "ALGOLIA_APPLICATION_ID contains a carriage return (CR); it goes into the "
               "x-algolia-application-id header",
               "ALGOLIA_APPLICATION_ID", "ALGOLIA_APPLICATION_ID=APP\r\nX-Injected: yes", NULL),
    HEADER_ROW("CR LF captured from a response, used in a header", "header-captured-crlf.yaml",
               S_ERROR_CRLF, 1, "template",
               "header x-custom: the value contains a carriage return (CR)", NULL, NULL, NULL,
               NULL),

    URL_ROW("a file: URL", "file:///etc/passwd#",
            "--base-url has the scheme 'file:'; only http and https are supported"),
    URL_ROW("a gopher: URL", "gopher://127.0.0.1:70/",
            "--base-url has the scheme 'gopher:'; only http and https are supported"),
    URL_ROW("an empty URL", "", "--base-url is empty"),
    URL_ROW("a space before the port", "http://127.0.0.1: 80", "--base-url contains a space"),
    URL_ROW("port 99999", "http://127.0.0.1:99999",
            "--base-url has the port '99999', not a number from 1 to 65535"),
    URL_ROW("no host", "http://", "--base-url has no host"),
    URL_ROW("not a URL", "127.0.0.1:8080", "--base-url is not an absolute URL"),
    CASSETTE_ROW("a FIFO", E_FIFO, 2,
                 "smoke.yaml: is a FIFO (named pipe); expected a regular file"),

    SPEC_ROW("300 000 items in a list", "@spec-300k-items", 0, NULL),
    SPEC_ROW("a FIFO", "@fifo", 2, "fifo.yaml: is a FIFO (named pipe); expected a regular file"),
    SPEC_ROW("not UTF-8", "@spec-not-utf8", 2,
             "spec-not-utf8.yaml:1296:25: byte 0xFF is not UTF-8"),
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
    atomic_int requests;         /* request heads read */
    atomic_int injected;         /* ... of which held an X-Injected header */
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
            atomic_fetch_add(&s->requests, 1);
            if (strstr(buf, "\nX-Injected:") || strstr(buf, "\rX-Injected:"))
                atomic_fetch_add(&s->injected, 1);
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
    case S_RAW_CONTROL: {
        char b[256];
        snprintf(b, sizeof(b),
                 "%.*s,\"note\":\"a\x01"
                 "b\"}",
                 (int)okn - 1, ok);
        answer(c, "application/json", NULL, b, strlen(b));
        break;
    }
    case S_NUL_STRING:
    case S_NUL_ENUM: {
        char b[1024];
        snprintf(b, sizeof(b),
                 "{\"tasks\":[{\"taskID\":\"dcf83ab9-a2b0-4168-b1db-bb3e7caf8512\","
                 "\"sourceID\":\"%s\",\"destinationID\":\"6a0da881-492d-4bfd-9f6b-51d30d502b3a\","
                 "\"trigger\":{\"type\":\"onDemand\"},\"enabled\":true,\"action\":\"%s\","
                 "\"createdAt\":\"2024-04-17T00:02:09Z\",\"updatedAt\":\"2024-04-17T00:02:09Z\"}],"
                 "\"pagination\":{\"nbPages\":1,\"page\":1,\"nbItems\":1,\"itemsPerPage\":10}}",
                 s->script == S_NUL_STRING ? "line1\\nline2\\u0000hidden"
                                           : "a293144f-4f3b-43fa-bb38-bd77133b0bda",
                 s->script == S_NUL_ENUM ? "replace\\u0000hidden" : "replace");
        answer(c, "application/json", NULL, b, strlen(b));
        break;
    }
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
    case S_ERROR_CRLF: {
        static const char b[] = "{\"message\":\"a\\r\\nX-Injected: yes\"}";
        sendf(c,
              "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
              "Content-Length: %zu\r\n\r\n%s",
              sizeof(b) - 1, b);
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
/* Whether ingestcheck starts under ulimit -v 1 GB (not a sanitizer build);
 * if not, the alias bomb rows run without the limit (the caps hold their
 * memory anyway) and say so. */
static bool have_as_limit;

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
    long deadline_ms;
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
    if (r->edit == E_FIFO)
        return made_fifo(o->cassette);
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
        broken(o, "hung: killed after %ld ms", o->deadline_ms);
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
        const char *name = r->names && strcmp(r->names, "@input") == 0  ? o->input
                           : r->names                                   ? r->names
                           : r->script == S_CASSETTE                    ? o->cassette
                           : r->script == S_MOCK || r->script == S_SPEC ? o->input
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
    const struct made_input *made = r->input ? made_input_find(r->input) : NULL;
    const struct made_input *timed = r->edit == E_FIFO ? made_input_find("@fifo") : made;
    struct proc_limits lim = {.as_kib = made && have_as_limit ? made->as_kib : 0,
                              .no_valgrind = true};
    o->deadline_ms =
        proc_deadline(timed && timed->deadline_ms ? timed->deadline_ms : ROW_DEADLINE_MS);
    if (r->script == S_SPEC) {
        snprintf(reports, sizeof(reports), "%s/schemas", o->dir);
        const char *spec_args[] = {"schemas", "generate", "--spec", o->input,
                                   "--out",   reports,    NULL};
        memcpy(args, spec_args, sizeof(spec_args));
        n = sizeof(spec_args) / sizeof(spec_args[0]) - 1;
    }
    if (made) {
        snprintf(o->input, sizeof(o->input), "%s/%s.yaml", o->dir, r->input + 1);
        if (!made_input_make(made, o->input, proc_source)) {
            broken(o, "cannot make %s", o->input);
            return;
        }
    } else if (r->script == S_CASSETTE) {
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
    } else if (r->script != S_MOCK && r->script != S_CASSETTE && r->script != S_SPEC) {
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
    static char long_arg[20001];
    memset(long_arg, 'a', sizeof(long_arg) - 1);
    bool secret =
        r->script == S_SECRETS || r->script == S_BASIC_AUTH || r->script == S_REFUSED_AUTH;
    char url[sizeof(o->url) + 64];
    snprintf(url, sizeof(url), "%s", o->url);
    if ((r->script == S_BASIC_AUTH || r->script == S_REFUSED_AUTH) &&
        strncmp(o->url, "http://", 7) == 0)
        snprintf(url, sizeof(url), "http://%s@%s", BAD_SECRET_USERINFO, o->url + 7);
    bool own_app_id = r->env && strncmp(r->env, "ALGOLIA_APPLICATION_ID=", 23) == 0,
         own_api_key = false;
    for (size_t i = 0; i < sizeof(r->args) / sizeof(r->args[0]) && r->args[i]; i++) {
        own_app_id = own_app_id || strcmp(r->args[i], "--app-id") == 0;
        own_api_key = own_api_key || strcmp(r->args[i], "--api-key") == 0;
        args[n++] = strcmp(r->args[i], "@LONG") == 0 ? long_arg : r->args[i];
    }
    if (o->url[0]) {
        args[n++] = "--base-url";
        args[n++] = url;
        if (!own_app_id) {
            args[n++] = "--app-id";
            args[n++] = secret ? BAD_SECRET_APP : "BADAPP";
        }
        if (!own_api_key) {
            args[n++] = "--api-key";
            args[n++] = secret ? BAD_SECRET_KEY : "bad-input-key";
        }
    }
    char env_name[64] = "";
    if (r->env) {
        snprintf(env_name, sizeof(env_name), "%.*s", (int)strcspn(r->env, "="), r->env);
        setenv(env_name, strchr(r->env, '=') + 1, 1);
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
    if (r->script != S_SPEC)
        args[n++] = o->input;
    args[n] = NULL;

    o->code = proc_run(args, out, err, lim.as_kib ? &lim : NULL, o->deadline_ms, &o->hung);
    if (env_name[0])
        unsetenv(env_name);
    if (started) {
        atomic_store(&srv.stop, 1);
        pthread_join(srv.thread, NULL);
        close(srv.fd);
    }
    tls_stop(&tls);
    o->out = test_slurp(out, NULL);
    o->err = test_slurp(err, NULL);
    judge(r, o);
    if (started && atomic_load(&srv.injected))
        broken(o, "the server received an X-Injected header");
    if (started && r->names && r->exit_code == 2 && atomic_load(&srv.requests))
        broken(o, "the server had %d request(s): nothing may be sent", atomic_load(&srv.requests));
    char why[2048] = "";
    if (secret && !o->hung &&
        (!bad_secrets_export_har(o->dir, why, sizeof(why)) ||
         !bad_secrets_scan(o->dir, why, sizeof(why))))
        broken(o, "%s", why);
}

/* ---- commands other than run, on generated inputs (issue 12) ----
 *
 * Each row runs `ingestcheck ARGS...` where "@S" is replaced by the path of
 * the generated schema (or case) file, "@I" by the generated document and
 * "@D" by the row's folder,
 * within its own deadline; it must exit exit_code, print out on stdout
 * (when set) and, for exit 2, one stderr line "ingestcheck: ..." saying
 * line. */
struct cmd_row {
    const char *name;
    const char *schema;   /* generator of @S: see make_cmd_input */
    const char *document; /* text of @I */
    const char *args[8];
    long deadline_ms;
    int exit_code;
    const char *out;
    const char *line;
};

/* A validation that must answer at once (the H2 deadline is 1 s; the
 * catalogue allows slow machines ten). */
#define QUICK_MS 10000

/* A usable revision to diff a bad one with. */
#define SMALL_SPEC                                                                                 \
    "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /x:\n    get:\n"                  \
    "      operationId: getX\n      responses: {'200': {description: ok}}\n"

static const struct cmd_row cmd_rows[] = {
    {"validate: 40 nested anyOf with shared branches, invalid",
     "anyOf40",
     "42",
     {"validate", "--schema", "@S", "@I"},
     QUICK_MS,
     1,
     "expected string, got integer",
     NULL},
    {"validate: 40 nested anyOf with shared branches, valid",
     "anyOf40",
     "\"s\"",
     {"validate", "--schema", "@S", "@I"},
     QUICK_MS,
     0,
     "valid",
     NULL},
    {"validate: 40 nested allOf with shared branches, valid",
     "allOf40",
     "\"s\"",
     {"validate", "--schema", "@S", "@I"},
     QUICK_MS,
     0,
     "valid",
     NULL},
    {"validate: 40 nested allOf with shared branches, invalid",
     "allOf40",
     "42",
     {"validate", "--schema", "@S", "@I"},
     QUICK_MS,
     1,
     "expected string, got integer",
     NULL},
    {"validate: 40 nested oneOf with shared branches",
     "oneOf40",
     "42",
     {"validate", "--schema", "@S", "@I"},
     QUICK_MS,
     1,
     "alternatives of oneOf",
     NULL},
    {"validate: a pattern of 3000 alternatives",
     "pattern3000",
     "\"s\"",
     {"validate", "--schema", "@S", "@I"},
     QUICK_MS,
     2,
     NULL,
     "too many alternatives"},
    {"run: a $regex of 3000 alternatives",
     "regex3000",
     NULL,
     {"run", "--reports", "@D", "@S"},
     QUICK_MS,
     2,
     NULL,
     "3000 alternatives"},
    {"validate: minItems -5",
     "minItems",
     "[]",
     {"validate", "--schema", "@S", "@I"},
     QUICK_MS,
     2,
     NULL,
     "must be a non-negative integer, got -5"},
    {"serve: --max-body past the largest number",
     NULL,
     NULL,
     {"serve", "--max-body", "99999999999999999999999"},
     QUICK_MS,
     2,
     NULL,
     "--max-body is out of range, got '99999999999999999999999'"},
    {"serve: --latency not a number",
     NULL,
     NULL,
     {"serve", "--latency", "fast"},
     QUICK_MS,
     2,
     NULL,
     "--latency expects MS or MS:JITTER, milliseconds from 0 to 600000, got 'fast'"},
    {"serve: --latency past ten minutes",
     NULL,
     NULL,
     {"serve", "--latency", "150:9999999"},
     QUICK_MS,
     2,
     NULL,
     "--latency expects MS or MS:JITTER"},
    {"serve: --clock-offset without a unit it knows",
     NULL,
     NULL,
     {"serve", "--clock-offset", "-3y"},
     QUICK_MS,
     2,
     NULL,
     "--clock-offset expects a signed duration such as -3h, +26h, 90m or 1500ms (units ms, s, m, h, d; within ten years), got '-3y'"},
    {"serve: --run-outcome unknown",
     NULL,
     NULL,
     {"serve", "--run-outcome", "sometimes"},
     QUICK_MS,
     2,
     NULL,
     "--run-outcome expects success, failure or random, got 'sometimes'"},
    {"serve: --run-events reversed",
     NULL,
     NULL,
     {"serve", "--run-events", "9:2"},
     QUICK_MS,
     2,
     NULL,
     "--run-events expects N or MIN:MAX with 0 <= MIN <= MAX <= 1000, got '9:2'"},
    {"serve: --preload unknown kind",
     NULL,
     NULL,
     {"serve", "--preload", "tasks=3,indices=2"},
     QUICK_MS,
     2,
     NULL,
     "--preload: 'indices' is not KIND=N"},
    {"serve: --preload a kind twice",
     NULL,
     NULL,
     {"serve", "--preload", "runs=3,runs=4"},
     QUICK_MS,
     2,
     NULL,
     "--preload: runs given twice"},
    {"serve: --preload and --preload-tasks",
     NULL,
     NULL,
     {"serve", "--preload", "runs=3", "--preload-tasks", "5"},
     QUICK_MS,
     2,
     NULL,
     "--preload-tasks N and --preload exclude each other"},
    {"schemas generate: a cycle of $ref only",
     "refcycle",
     NULL,
     {"schemas", "generate", "--spec", "@S", "--out", "@D"},
     QUICK_MS,
     2,
     NULL,
     "reference cycle with no schema in it: #/components/schemas/B -> #/components/schemas/A -> "
     "#/components/schemas/B"},
    {"schemas generate: a recursive schema through an alias",
     "refrecursive",
     NULL,
     {"schemas", "generate", "--spec", "@S", "--out", "@D"},
     QUICK_MS,
     0,
     "wrote",
     NULL},
    {"schemas generate: no paths (a location at the root)",
     "nopaths",
     NULL,
     {"schemas", "generate", "--spec", "@S", "--out", "@D"},
     QUICK_MS,
     2,
     NULL,
     "document without a paths object (at the document root)"},
    {"run: a status past the largest number",
     "status23",
     NULL,
     {"run", "--reports", "@D", "@S"},
     QUICK_MS,
     2,
     NULL,
     "got 99999999999999999999999"},
    /* spec diff OLD NEW (issue 13): @S is the bad revision, @I a good one. */
    {"spec diff: not OpenAPI",
     "swagger",
     SMALL_SPEC,
     {"spec", "diff", "@S", "@I"},
     QUICK_MS,
     2,
     NULL,
     "schema.json:1: expected an OpenAPI 3.x document (openapi: 3.x.y)"},
    {"spec diff: a $ref to another file",
     "fileref",
     SMALL_SPEC,
     {"spec", "diff", "@I", "@S"},
     QUICK_MS,
     2,
     NULL,
     "schema.json:6: $ref other.yml#/components/schemas/B does not resolve (only references "
     "inside the document, #/..., are supported) (at /components/schemas/A/properties/b/$ref)"},
    {"spec diff: a $ref to a URL",
     "urlref",
     SMALL_SPEC,
     {"spec", "diff", "@S", "@I"},
     QUICK_MS,
     2,
     NULL,
     "schema.json:6: $ref https://x.example/s.json does not resolve"},
    {"spec diff: a cycle of $ref only",
     "refcycle",
     SMALL_SPEC,
     {"spec", "diff", "@S", "@I"},
     QUICK_MS,
     2,
     NULL,
     "reference cycle with no schema in it: #/components/schemas/B -> #/components/schemas/A -> "
     "#/components/schemas/B"},
    {"spec diff: a 50 MB document",
     "spec50mb",
     SMALL_SPEC,
     {"spec", "diff", "@I", "@S"},
     QUICK_MS,
     2,
     NULL,
     "schema.json: larger than the cap of"},
    {"spec diff: one revision only",
     NULL,
     SMALL_SPEC,
     {"spec", "diff", "@I"},
     QUICK_MS,
     2,
     NULL,
     "'spec diff' needs arguments"},
    /* sweep (issue 14): a missing or short prefix is refused before any
     * request (nothing listens on port 9). */
    {"sweep: no prefix",
     NULL,
     NULL,
     {"sweep", "--yes", "--base-url", "http://127.0.0.1:9"},
     QUICK_MS,
     2,
     NULL,
     "sweep needs --prefix of at least 4 bytes"},
    {"sweep: a prefix of 3 bytes",
     NULL,
     NULL,
     {"sweep", "--yes", "--prefix", "ic-", "--base-url", "http://127.0.0.1:9"},
     QUICK_MS,
     2,
     NULL,
     "sweep needs --prefix of at least 4 bytes"},
};

/* Inputs written as they are. */
static const struct {
    const char *kind, *text;
} fixed_inputs[] = {
    {"refcycle", "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /x:\n    get:\n"
                 "      operationId: getX\n      responses:\n        '200':\n"
                 "          description: ok\n          content:\n            application/json:\n"
                 "              schema: {$ref: '#/components/schemas/A'}\n"
                 "components:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n"
                 "    B: {$ref: '#/components/schemas/A'}\n"},
    {"refrecursive",
     "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths:\n  /x:\n    get:\n"
     "      operationId: getX\n      responses:\n        '200':\n"
     "          description: ok\n          content:\n            application/json:\n"
     "              schema: {$ref: '#/components/schemas/A'}\n"
     "components:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n"
     "    B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}\n"},
    {"nopaths", "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\n"},
    {"swagger", "swagger: \"2.0\"\ninfo: {title: t, version: \"1\"}\npaths: {}\n"},
    {"fileref",
     "openapi: 3.0.2\ninfo: {title: t, version: \"1\"}\npaths: {}\ncomponents:\n"
     "  schemas:\n    A: {properties: {b: {$ref: \"other.yml#/components/schemas/B\"}}}\n"},
    {"urlref", "openapi: 3.0.2\ninfo: {title: t, version: \"1\"}\npaths: {}\ncomponents:\n"
               "  schemas:\n    A: {properties: {b: {$ref: \"https://x.example/s.json\"}}}\n"},
    {"status23", "cases:\n  - name: x\n    steps:\n      - operation: getTasks\n"
                 "        expect: {status: 99999999999999999999999}\n"},
};

/* 3000 alternatives: word0|word1|...|word2999. */
static void put_alternatives(FILE *f)
{
    for (int i = 0; i < 3000; i++)
        fprintf(f, "%sword%d", i ? "|" : "", i);
}

/* Writes the schema (or case file) generator kind names to path. */
static bool make_cmd_input(const char *kind, const char *path)
{
    for (size_t i = 0; i < sizeof(fixed_inputs) / sizeof(fixed_inputs[0]); i++)
        if (strcmp(kind, fixed_inputs[i].kind) == 0)
            return proc_write(path, fixed_inputs[i].text, strlen(fixed_inputs[i].text));
    if (strcmp(kind, "pattern3000") == 0 || strcmp(kind, "regex3000") == 0 ||
        strcmp(kind, "minItems") == 0) {
        FILE *f = fopen(path, "w");
        if (!f)
            return false;
        if (strcmp(kind, "pattern3000") == 0) {
            fputs("{\"pattern\": \"", f);
            put_alternatives(f);
            fputs("\"}\n", f);
        } else if (strcmp(kind, "regex3000") == 0) {
            fputs("cases:\n  - name: x\n    steps:\n      - operation: getTasks\n"
                  "        expect: {body: {message: {$regex: \"",
                  f);
            put_alternatives(f);
            fputs("\"}}}\n", f);
        } else {
            fputs("{\"minItems\": -5}\n", f);
        }
        return fclose(f) == 0;
    }
    if (strcmp(kind, "spec50mb") == 0) {
        /* A spec whose one description makes it 50 MB. */
        FILE *f = fopen(path, "w");
        if (!f)
            return false;
        fputs("openapi: 3.0.2\ninfo: {title: t, version: \"1\"}\npaths: {}\ncomponents:\n"
              "  schemas:\n    S: {type: string, description: \"",
              f);
        static char chunk[65536];
        memset(chunk, 'x', sizeof(chunk));
        for (int i = 0; i < 800; i++)
            fwrite(chunk, 1, sizeof(chunk), f);
        fputs("\"}\n", f);
        return fclose(f) == 0;
    }
    char kw[16];
    int levels = 0;
    if (sscanf(kind, "%15[a-zA-Z]%d", kw, &levels) != 2 || levels <= 0)
        return false;
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "{\"$ref\": \"#/$defs/d0\", \"$defs\": {\n");
    for (int i = 0; i < levels; i++)
        fprintf(f,
                "\"d%d\": {\"%s\": [{\"$ref\": \"#/$defs/d%d\"}, {\"$ref\": \"#/$defs/d%d\"}]},\n",
                i, kw, i + 1, i + 1);
    fprintf(f, "\"d%d\": {\"type\": \"string\"}}}\n", levels);
    return fclose(f) == 0;
}

static void run_cmd_row(size_t index, const struct cmd_row *r, struct outcome *o)
{
    char schema[PROC_PATH_MAX + 64], doc[PROC_PATH_MAX + 64], out[PROC_PATH_MAX + 64],
        err[PROC_PATH_MAX + 64];
    snprintf(o->dir, sizeof(o->dir), "%s/cmd-%02zu", tmp, index + 1);
    mkdir(o->dir, 0755);
    snprintf(schema, sizeof(schema), "%s/schema.json", o->dir);
    snprintf(doc, sizeof(doc), "%s/document.json", o->dir);
    snprintf(out, sizeof(out), "%s/stdout", o->dir);
    snprintf(err, sizeof(err), "%s/stderr", o->dir);
    if ((r->schema && !make_cmd_input(r->schema, schema)) ||
        (r->document && !proc_write(doc, r->document, strlen(r->document)))) {
        broken(o, "cannot write the inputs in %s", o->dir);
        return;
    }
    const char *args[10];
    size_t n = 0;
    for (; n < 8 && r->args[n]; n++)
        args[n] = strcmp(r->args[n], "@S") == 0   ? schema
                  : strcmp(r->args[n], "@I") == 0 ? doc
                  : strcmp(r->args[n], "@D") == 0 ? o->dir
                                                  : r->args[n];
    args[n] = NULL;
    o->code = proc_run(args, out, err, NULL, proc_deadline(r->deadline_ms), &o->hung);
    o->out = test_slurp(out, NULL);
    o->err = test_slurp(err, NULL);
    const char *e = o->err ? o->err : "";
    if (o->hung)
        broken(o, "hung: killed after %ld ms", proc_deadline(r->deadline_ms));
    else if (o->code != r->exit_code)
        broken(o, "exit %d, expected %d (stderr: %.300s)", o->code, r->exit_code, e);
    else if (r->out && (!o->out || !strstr(o->out, r->out)))
        broken(o, "stdout does not say \"%s\"", r->out);
    else if (r->exit_code == 2 &&
             (strncmp(e, "ingestcheck: ", 13) != 0 || !strchr(e, '\n') || strchr(e, '\n')[1]))
        broken(o, "stderr is not one line \"ingestcheck: ...\": %s", e);
    else if (r->line && !strstr(e, r->line))
        broken(o, "the message does not say \"%s\": %s", r->line, e);
}

/* Runs the command rows whose name contains only (all when NULL). */
static void run_cmd_rows(const char *only, size_t *passed, size_t *failed, size_t *total)
{
    size_t nrows = sizeof(cmd_rows) / sizeof(cmd_rows[0]);
    *total += nrows;
    for (size_t i = 0; i < nrows; i++) {
        const struct cmd_row *r = &cmd_rows[i];
        if (only && !strstr(r->name, only))
            continue;
        struct outcome o;
        memset(&o, 0, sizeof(o));
        long t0 = proc_now_ms();
        run_cmd_row(i, r, &o);
        long ms = proc_now_ms() - t0;
        if (o.why[0]) {
            (*failed)++;
            printf("FAIL  c%-2zu command   %s: %s\n", i + 1, r->name, o.why);
        } else {
            (*passed)++;
            printf("ok    c%-2zu command   %s: exit %d (%ld ms)\n", i + 1, r->name, o.code, ms);
        }
        free(o.out);
        free(o.err);
    }
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
    if (!proc_main_args(argc, argv, "ROW-NAME-SUBSTRING"))
        return 2;
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
    {
        const char *version[] = {"--version", NULL};
        struct proc_limits lim = {.as_kib = made_input_find("@alias-900KB-x1000")->as_kib,
                                  .no_valgrind = true};
        have_as_limit = proc_run(version, NULL, NULL, &lim, 30000, NULL) == 0;
        if (!have_as_limit)
            printf("note: ingestcheck does not start under ulimit -v (a sanitizer build?): the "
                   "alias bomb rows run without it\n");
    }

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
    run_cmd_rows(only, &passed, &failed, &nrows);
    bad_command_rows(tmp, only, &passed, &failed, &nrows);
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
