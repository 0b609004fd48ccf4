/* TLS behaviour of the libcurl transport and of `ingestcheck run` against
 * real TLS servers on loopback: `openssl s_server -www` children serving
 * certificates that the test makes at start-up with the openssl tool (a
 * throw-away CA, a server certificate it signed, an expired one, one for
 * another host name, and a self-signed one).
 *
 * Arguments: the ingestcheck binary and tests/data/http (tls.cnf).
 * Exits 77 (skipped) when the openssl command-line tool is not installed. */
#define _GNU_SOURCE /* strcasestr */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define PATH_CAP 4096
/* How long a child may take: server start-up, one `ingestcheck run`. */
#define SERVER_START_MS 10000
#define RUN_DEADLINE_MS 60000
/* ingestcheck run --timeout (ms): long enough for a handshake under valgrind. */
#define RUN_REQUEST_TIMEOUT "3000"

static const char *ingestcheck_bin;
static const char *data_dir;

struct tls_server {
    const char *name; /* also names its certificate and key files */
    pid_t pid;
    unsigned port;
};

static struct {
    char dir[1024];            /* the temporary directory, "" when none */
    struct tls_server good;    /* signed by the test CA, for 127.0.0.1 and localhost */
    struct tls_server expired; /* signed by the test CA, expired on 2020-01-02 */
    struct tls_server other;   /* signed by the test CA, for another host name */
    struct tls_server self;    /* self-signed, for 127.0.0.1 and localhost */
} fx = {
    .good = {.name = "good"},
    .expired = {.name = "expired"},
    .other = {.name = "other"},
    .self = {.name = "self"},
};

/* ---- small helpers ---- */

/* argv wants char *; execv does not write through it. */
static char *arg(const char *s)
{
    return (char *)(uintptr_t)s;
}

static void path_in(char *out, const char *name)
{
    snprintf(out, PATH_CAP, "%s/%s", fx.dir, name);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void nap_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Reads a whole (small) file into buf; "" when it cannot be read. */
static void slurp(const char *path, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Redirects fd to path (appending), or to /dev/null when path is NULL. */
static void redirect(int fd, const char *path)
{
    int f = path ? open(path, O_WRONLY | O_CREAT | O_APPEND, 0600) : open("/dev/null", O_RDWR);
    if (f < 0)
        _exit(126);
    if (f != fd) {
        dup2(f, fd);
        close(f);
    }
}

/* Forks argv[0] (searched in PATH when search) with stdin from /dev/null,
 * stdout to out and stderr to err (NULL: /dev/null). The child gets SIGTERM
 * if this process dies, so that no server can outlive a crashed test. */
static pid_t spawn(char *const argv[], bool search, const char *out, const char *err)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid; /* -1 or the child */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(125);
    redirect(STDIN_FILENO, NULL);
    redirect(STDOUT_FILENO, out);
    redirect(STDERR_FILENO, err);
    if (search)
        execvp(argv[0], argv);
    else
        execv(argv[0], argv);
    _exit(127);
}

/* Waits for pid up to deadline_ms, then kills it; its wait status, or -1. */
static int wait_for(pid_t pid, long deadline_ms)
{
    double end = now_ms() + (double)deadline_ms;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        nap_ms(10);
    }
}

/* Runs `openssl args...` in the temporary directory's context (IC_TLS_DIR
 * is set for tls.cnf); 0 when it exited 0. Output goes to openssl.log. */
static int openssl(const char *first, ...)
{
    char *argv[40];
    size_t n = 0;
    argv[n++] = arg("openssl");
    argv[n++] = arg(first);
    va_list ap;
    va_start(ap, first);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 39)
        argv[n++] = arg(a);
    va_end(ap);
    argv[n] = NULL;
    char log[PATH_CAP];
    path_in(log, "openssl.log");
    pid_t pid = spawn(argv, true, log, log);
    if (pid < 0)
        return -1;
    int st = wait_for(pid, 60000);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char text[8192];
        slurp(log, text, sizeof(text));
        fprintf(stderr, "openssl %s failed:\n%s\n", first, text);
        return -1;
    }
    return 0;
}

static bool openssl_installed(void)
{
    char *const argv[] = {arg("openssl"), arg("version"), NULL};
    pid_t pid = spawn(argv, true, NULL, NULL);
    if (pid < 0)
        return false;
    int st = wait_for(pid, 30000);
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- certificates ---- */

#define EC_KEY "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"

/* A key and a CSR for CN=127.0.0.1, then the certificate the CA signs with
 * the given extensions section of tls.cnf; NULL dates: valid from now on. */
static int ca_sign(const char *cnf, const char *name, const char *section, const char *start,
                   const char *end)
{
    char key[PATH_CAP], csr[PATH_CAP], pem[PATH_CAP], base[64];
    snprintf(base, sizeof(base), "%s.key", name);
    path_in(key, base);
    snprintf(base, sizeof(base), "%s.csr", name);
    path_in(csr, base);
    snprintf(base, sizeof(base), "%s.pem", name);
    path_in(pem, base);
    if (openssl("req", "-config", cnf, EC_KEY, "-keyout", key, "-out", csr, "-subj",
                "/CN=127.0.0.1", NULL))
        return -1;
    if (start)
        return openssl("ca", "-config", cnf, "-batch", "-notext", "-in", csr, "-out", pem,
                       "-extensions", section, "-startdate", start, "-enddate", end, NULL);
    return openssl("ca", "-config", cnf, "-batch", "-notext", "-in", csr, "-out", pem,
                   "-extensions", section, NULL);
}

static int make_certificates(void)
{
    char cnf[PATH_CAP], p[PATH_CAP], key[PATH_CAP], pem[PATH_CAP];
    snprintf(cnf, sizeof(cnf), "%s/tls.cnf", data_dir);
    if (access(cnf, R_OK) != 0) {
        fprintf(stderr, "cannot read %s\n", cnf);
        return -1;
    }
    setenv("IC_TLS_DIR", fx.dir, 1);
    path_in(p, "issued");
    if (mkdir(p, 0700) != 0)
        return -1;
    path_in(p, "index.txt");
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fclose(f);
    path_in(p, "serial");
    f = fopen(p, "w");
    if (!f)
        return -1;
    fputs("1000\n", f);
    fclose(f);

    path_in(key, "ca.key");
    path_in(pem, "ca.pem");
    if (openssl("req", "-config", cnf, "-x509", EC_KEY, "-keyout", key, "-out", pem, "-days", "2",
                "-subj", "/CN=ingestcheck test CA", "-extensions", "v3_ca", NULL))
        return -1;
    if (ca_sign(cnf, "good", "server_loopback", NULL, NULL) ||
        ca_sign(cnf, "other", "server_other", NULL, NULL) ||
        ca_sign(cnf, "expired", "server_loopback", "20200101000000Z", "20200102000000Z"))
        return -1;
    path_in(key, "self.key");
    path_in(pem, "self.pem");
    return openssl("req", "-config", cnf, "-x509", EC_KEY, "-keyout", key, "-out", pem, "-days",
                   "2", "-subj", "/CN=127.0.0.1", "-extensions", "self_signed", NULL);
}

/* ---- servers ---- */

/* A port that was free a moment ago (bound on port 0, then closed). */
static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    unsigned port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void server_stop(struct tls_server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    if (wait_for(s->pid, 3000) < 0) /* wait_for kills with SIGKILL at the deadline */
        fprintf(stderr, "openssl s_server (%s) ignored SIGTERM\n", s->name);
    s->pid = 0;
}

/* Starts s_server for s->name's certificate. s_server prints ACCEPT on
 * stdout once it listens; when it exits instead (the port was taken between
 * free_port and its bind), it is retried on another port. */
static int server_start(struct tls_server *s)
{
    char cert[PATH_CAP], key[PATH_CAP], out[PATH_CAP], err[PATH_CAP], base[64], accept[64];
    char text[4096];
    snprintf(base, sizeof(base), "%s.pem", s->name);
    path_in(cert, base);
    snprintf(base, sizeof(base), "%s.key", s->name);
    path_in(key, base);
    snprintf(base, sizeof(base), "server-%s.out", s->name);
    path_in(out, base);
    snprintf(base, sizeof(base), "server-%s.err", s->name);
    path_in(err, base);
    for (int attempt = 0; attempt < 8; attempt++) {
        s->port = free_port();
        if (!s->port)
            return -1;
        snprintf(accept, sizeof(accept), "127.0.0.1:%u", s->port);
        char *const argv[] = {arg("openssl"),
                              arg("s_server"),
                              arg("-www"),
                              arg("-accept"),
                              accept,
                              arg("-cert"),
                              cert,
                              arg("-key"),
                              key,
                              NULL};
        unlink(out);
        s->pid = spawn(argv, true, out, err);
        if (s->pid < 0) {
            s->pid = 0;
            return -1;
        }
        double end = now_ms() + SERVER_START_MS;
        for (;;) {
            slurp(out, text, sizeof(text));
            if (strstr(text, "ACCEPT"))
                return 0;
            int st;
            if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                s->pid = 0;
                break; /* most likely the port was taken: try another */
            }
            if (now_ms() > end) {
                server_stop(s);
                fprintf(stderr, "openssl s_server (%s) did not start\n", s->name);
                return -1;
            }
            nap_ms(10);
        }
    }
    slurp(err, text, sizeof(text));
    fprintf(stderr, "openssl s_server (%s) kept exiting:\n%s\n", s->name, text);
    return -1;
}

/* ---- fixture ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    server_stop(&fx.good);
    server_stop(&fx.expired);
    server_stop(&fx.other);
    server_stop(&fx.self);
    if (fx.dir[0]) {
        if (getenv("INGESTCHECK_KEEP_TLS_DIR"))
            fprintf(stderr, "kept %s\n", fx.dir);
        else
            nftw(fx.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        fx.dir[0] = '\0';
    }
    return 0;
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(fx.dir, sizeof(fx.dir), "%s/ingestcheck-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx.dir)) {
        fx.dir[0] = '\0';
        return -1;
    }
    if (make_certificates() || server_start(&fx.good) || server_start(&fx.expired) ||
        server_start(&fx.other) || server_start(&fx.self)) {
        teardown(state); /* cmocka does not tear down a group whose setup failed */
        return -1;
    }
    return 0;
}

/* ---- one request through the live transport ---- */

struct outcome {
    int rc;
    struct http_response resp;
    struct util_error err;
};

static void get(struct outcome *o, const struct http_options *opts, const char *host,
                const struct tls_server *s)
{
    char url[256];
    snprintf(url, sizeof(url), "https://%s:%u/", host, s->port);
    util_error_clear(&o->err);
    http_response_init(&o->resp);
    struct http_transport *t = http_curl_create(opts, &o->err);
    assert_non_null(t);
    struct http_request req;
    http_request_init(&req);
    assert_int_equal(http_request_set(&req, "GET", url), 0);
    o->rc = http_send(t, &req, &o->resp, &o->err);
    http_request_finish(&req);
    http_transport_destroy(t);
}

static void outcome_finish(struct outcome *o)
{
    http_response_finish(&o->resp);
}

/* The exchange succeeded with s_server's status page. */
static void assert_served(struct outcome *o)
{
    if (o->resp.failure != HTTP_ERR_NONE)
        print_error("unexpected failure: %s\n", o->err.message);
    assert_int_equal(o->rc, UTIL_OK);
    assert_int_equal(o->resp.failure, HTTP_ERR_NONE);
    assert_int_equal(o->resp.status, 200);
    assert_non_null(o->resp.body);
    /* s_server -www answers with an HTML page echoing its command line. */
    assert_non_null(strstr(o->resp.body, "s_server"));
}

/* A non-empty single-line reason. */
static void assert_one_line(const char *s)
{
    assert_non_null(s);
    assert_true(s[0] != '\0');
    assert_null(strchr(s, '\n'));
    assert_null(strchr(s, '\r'));
}

/* The exchange failed on TLS with a one-line reason containing each of the
 * NULL-terminated words (case-insensitive). */
static void assert_tls_failure(struct outcome *o, ...)
{
    if (o->resp.failure != HTTP_ERR_TLS)
        print_error("failure %d (%s), reason: %s\n", (int)o->resp.failure,
                    http_failure_name(o->resp.failure), o->err.message);
    assert_int_equal(o->rc, UTIL_OK); /* carried out: the network failed, not the caller */
    assert_int_equal(o->resp.failure, HTTP_ERR_TLS);
    assert_int_equal(o->resp.status, 0);
    assert_one_line(o->err.message);
    print_message("reason: %s\n", o->err.message);
    va_list ap;
    va_start(ap, o);
    const char *word;
    while ((word = va_arg(ap, const char *)) != NULL) {
        if (!strcasestr(o->err.message, word))
            print_error("reason \"%s\" lacks \"%s\"\n", o->err.message, word);
        assert_non_null(strcasestr(o->err.message, word));
    }
    va_end(ap);
}

/* ---- the transport ---- */

/* TLS alerts s->name's server has logged: one per refused handshake. */
static int alerts(const struct tls_server *s)
{
    char path[PATH_CAP], base[64];
    static char text[65536];
    snprintf(base, sizeof(base), "server-%s.err", s->name);
    path_in(path, base);
    slurp(path, text, sizeof(text));
    int n = 0;
    for (const char *p = text; (p = strstr(p, "alert number")) != NULL; p++)
        n++;
    return n;
}

/* Waits until the server has logged more than `before` alerts, then lets
 * any further ones arrive; the count. */
static int alerts_after(const struct tls_server *s, int before)
{
    double end = now_ms() + 5000;
    while (alerts(s) <= before && now_ms() < end)
        nap_ms(10);
    nap_ms(300);
    return alerts(s);
}

/* Verification is on by default: a self-signed certificate is refused. */
static void test_self_signed_refused(void **state)
{
    (void)state;
    struct http_options opts = {.timeout_ms = 10000};
    struct outcome o;
    int first = alerts(&fx.self);
    get(&o, &opts, "127.0.0.1", &fx.self);
    assert_tls_failure(&o, "certificate", "self", "signed", NULL);
    outcome_finish(&o);
    /* The server logs the refusal's alert after the client has gone. */
    int before = alerts_after(&fx.self, first);
    /* Also when retries are allowed: a TLS failure is final, the handshake
     * is not tried again (the server sees one refusal). */
    opts.retries = 2;
    get(&o, &opts, "127.0.0.1", &fx.self);
    assert_tls_failure(&o, "certificate", NULL);
    outcome_finish(&o);
    assert_int_equal(alerts_after(&fx.self, before), before + 1);
}

/* The CA given in cacert makes its certificate trusted, by address and by
 * name; without it the same server is refused. */
static void test_cacert_trusts_ca(void **state)
{
    (void)state;
    char ca[PATH_CAP];
    path_in(ca, "ca.pem");
    struct http_options opts = {.timeout_ms = 10000, .cacert = ca};
    struct outcome o;
    get(&o, &opts, "127.0.0.1", &fx.good);
    assert_served(&o);
    outcome_finish(&o);
    get(&o, &opts, "localhost", &fx.good);
    assert_served(&o);
    outcome_finish(&o);

    struct http_options dflt = {.timeout_ms = 10000};
    get(&o, &dflt, "127.0.0.1", &fx.good);
    assert_tls_failure(&o, "certificate", NULL);
    outcome_finish(&o);
}

/* cacert adds a trust anchor; it does not turn verification off. */
static void test_cacert_still_verifies(void **state)
{
    (void)state;
    char ca[PATH_CAP];
    path_in(ca, "ca.pem");
    struct http_options opts = {.timeout_ms = 10000, .cacert = ca};
    struct outcome o;
    get(&o, &opts, "127.0.0.1", &fx.self);
    assert_tls_failure(&o, "certificate", "self", "signed", NULL);
    outcome_finish(&o);
}

static void test_expired_refused(void **state)
{
    (void)state;
    char ca[PATH_CAP];
    path_in(ca, "ca.pem");
    struct http_options opts = {.timeout_ms = 10000, .cacert = ca};
    struct outcome o;
    get(&o, &opts, "127.0.0.1", &fx.expired);
    assert_tls_failure(&o, "certificate", "expired", NULL);
    outcome_finish(&o);
}

/* A trusted certificate for another name is refused (host verification). */
static void test_wrong_host_refused(void **state)
{
    (void)state;
    char ca[PATH_CAP];
    path_in(ca, "ca.pem");
    struct http_options opts = {.timeout_ms = 10000, .cacert = ca};
    struct outcome o;
    get(&o, &opts, "127.0.0.1", &fx.other);
    assert_tls_failure(&o, "certificate", "name", NULL);
    outcome_finish(&o);
}

/* A CA bundle that cannot be read is a TLS failure naming the file. */
static void test_missing_cacert(void **state)
{
    (void)state;
    char ca[PATH_CAP];
    path_in(ca, "no-such-ca.pem");
    struct http_options opts = {.timeout_ms = 10000, .cacert = ca};
    struct outcome o;
    get(&o, &opts, "127.0.0.1", &fx.good);
    assert_tls_failure(&o, "no-such-ca.pem", NULL);
    outcome_finish(&o);
}

/* insecure skips every check: issuer, dates and host name. */
static void test_insecure_accepts(void **state)
{
    (void)state;
    struct http_options opts = {.timeout_ms = 10000, .insecure = true};
    struct outcome o;
    get(&o, &opts, "127.0.0.1", &fx.self);
    assert_served(&o);
    outcome_finish(&o);
    get(&o, &opts, "127.0.0.1", &fx.expired);
    assert_served(&o);
    outcome_finish(&o);
    get(&o, &opts, "127.0.0.1", &fx.other);
    assert_served(&o);
    outcome_finish(&o);
}

/* ---- ingestcheck run ---- */

struct run {
    int status; /* exit status, -1 when it did not exit normally */
    char out[65536];
    char err[65536];
};

/* Runs `ingestcheck run --base-url https://127.0.0.1:PORT smoke.yaml
 * --app-id a --api-key k [extra]` with its reports in the temporary dir. */
static void run_ingestcheck(struct run *r, const struct tls_server *s, const char *extra1,
                            const char *extra2)
{
    char url[128], cases[PATH_CAP], reports[PATH_CAP], out[PATH_CAP], err[PATH_CAP];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    assert_non_null(src);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", s->port);
    snprintf(cases, sizeof(cases), "%s/cases/smoke.yaml", src);
    path_in(reports, "reports");
    path_in(out, "run.out");
    path_in(err, "run.err");
    unlink(out);
    unlink(err);
    char *argv[16];
    size_t n = 0;
    argv[n++] = arg(ingestcheck_bin);
    argv[n++] = arg("run");
    argv[n++] = arg("--base-url");
    argv[n++] = url;
    argv[n++] = cases;
    argv[n++] = arg("--app-id");
    argv[n++] = arg("a");
    argv[n++] = arg("--api-key");
    argv[n++] = arg("k");
    argv[n++] = arg("--reports");
    argv[n++] = reports;
    argv[n++] = arg("--timeout"); /* s_server -www never answers a POST */
    argv[n++] = arg(RUN_REQUEST_TIMEOUT);
    if (extra1)
        argv[n++] = arg(extra1);
    if (extra2)
        argv[n++] = arg(extra2);
    argv[n] = NULL;
    pid_t pid = spawn(argv, false, out, err);
    assert_true(pid > 0);
    int st = wait_for(pid, RUN_DEADLINE_MS);
    r->status = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    slurp(out, r->out, sizeof(r->out));
    slurp(err, r->err, sizeof(r->err));
}

/* Number of lines of s (a last line without '\n' counts). */
static size_t lines(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        if (*p == '\n')
            n++;
    if (*s && s[strlen(s) - 1] != '\n')
        n++;
    return n;
}

/* An unverifiable target is a target error: exit 2 and one line on stderr
 * naming the TLS certificate problem; the report on stdout has libcurl's
 * precise reason. */
static void test_run_self_signed(void **state)
{
    (void)state;
    static struct run r;
    run_ingestcheck(&r, &fx.self, NULL, NULL);
    if (r.status != 2 || lines(r.err) != 1)
        print_error("exit %d\nstdout:\n%s\nstderr:\n%s\n", r.status, r.out, r.err);
    assert_int_equal(r.status, 2);
    assert_int_equal(lines(r.err), 1);
    assert_non_null(strstr(r.err, "target error"));
    assert_non_null(strcasestr(r.err, "certificate"));
    assert_non_null(strstr(r.err, "127.0.0.1"));
    assert_non_null(strcasestr(r.out, "self-signed"));
}

static void test_run_expired(void **state)
{
    (void)state;
    static struct run r;
    char ca[PATH_CAP];
    path_in(ca, "ca.pem");
    run_ingestcheck(&r, &fx.expired, "--cacert", ca);
    if (r.status != 2 || lines(r.err) != 1)
        print_error("exit %d\nstdout:\n%s\nstderr:\n%s\n", r.status, r.out, r.err);
    assert_int_equal(r.status, 2);
    assert_int_equal(lines(r.err), 1);
    assert_non_null(strcasestr(r.err, "certificate"));
    assert_non_null(strcasestr(r.out, "expired"));
}

/* --cacert and --insecure reach the transport: the handshake succeeds and
 * the request is sent. s_server -www never answers a POST, so the first
 * step times out (a failed case, exit 1) instead of ending on a TLS error
 * (a target error, exit 2). */
static void assert_run_got_past_tls(struct run *r)
{
    if (r->status != 1 || strcasestr(r->err, "certificate") || strcasestr(r->out, "certificate"))
        print_error("exit %d\nstdout:\n%s\nstderr:\n%s\n", r->status, r->out, r->err);
    assert_int_equal(r->status, 1);
    assert_null(strcasestr(r->err, "certificate"));
    assert_null(strcasestr(r->out, "certificate"));
    assert_non_null(strstr(r->out, "timed out"));
}

static void test_run_cacert(void **state)
{
    (void)state;
    static struct run r;
    char ca[PATH_CAP];
    path_in(ca, "ca.pem");
    run_ingestcheck(&r, &fx.good, "--cacert", ca);
    assert_run_got_past_tls(&r);
}

static void test_run_insecure(void **state)
{
    (void)state;
    static struct run r;
    run_ingestcheck(&r, &fx.self, "--insecure", NULL);
    assert_run_got_past_tls(&r);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s INGESTCHECK_BINARY DATA_DIR\n", argv[0]);
        return 2;
    }
    ingestcheck_bin = argv[1];
    data_dir = argv[2];
    if (!openssl_installed()) {
        printf("skipped: the openssl command-line tool is not installed (Debian package "
               "openssl)\n");
        return 77;
    }
    /* No proxy may come between the transport and the loopback servers. */
    static const char *const proxies[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                          "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
        unsetenv(proxies[i]);
    /* The system bundle must not be what trusts (or distrusts) anything. */
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    unsetenv("CURL_CA_BUNDLE");
    struct util_error err;
    util_error_clear(&err);
    if (http_global_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_signed_refused),   cmocka_unit_test(test_cacert_trusts_ca),
        cmocka_unit_test(test_cacert_still_verifies), cmocka_unit_test(test_expired_refused),
        cmocka_unit_test(test_wrong_host_refused),    cmocka_unit_test(test_missing_cacert),
        cmocka_unit_test(test_insecure_accepts),      cmocka_unit_test(test_run_self_signed),
        cmocka_unit_test(test_run_expired),           cmocka_unit_test(test_run_cacert),
        cmocka_unit_test(test_run_insecure),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    http_global_cleanup();
    return rc;
}
