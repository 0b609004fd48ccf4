/* The Ingestion suite in cases/ against a broken mock, as processes.
 *
 * faults: for each --violate class of `ingestcheck serve`, the real suite
 * (the cases that call VIOLATED_OP) is run against a mock that breaks
 * that operation's 200 answer, and must exit 1 with the check of that
 * class failing on a step of that operation (and no other contract or
 * transport check failing anywhere). With no violation the same run
 * passes.
 *
 * jobs: the whole suite against the embedded mock with -j 1 and -j 4, and
 * against `ingestcheck serve` (a fresh one per run) with -j 1 and -j 16
 * (same --run-id), gives the same console output, junit.xml and
 * results.json once what legitimately varies is normalised (see
 * normalise_* below).
 *
 * argv[1] is the ingestcheck binary; the working directory is the source
 * root (cases/ and schemas/ are found there). Set INGESTCHECK_KEEP_TMP=1
 * to keep the reports of a run. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cmocka.h>

/* An operation that most Ingestion cases call (7 cases, every resource
 * type), so each fault is seen from many cases. */
#define VIOLATED_OP "getTask"
/* The slow fault against the runner's timeout. */
#define SLOW_MS "6000"
#define RUN_TIMEOUT_MS "2000"
/* Longest a child may take before it is killed and the test fails. */
#define CHILD_DEADLINE_MS 90000

static const char *binary;
static char tmpdir[4096];
static pid_t server_pid; /* the mock, killed by the teardown if a test fails midway */
static FILE *server_out;

/* ---- files ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", tmpdir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

/* ---- child processes ---- */

static void child_common(void)
{
#ifdef __linux__
    /* Never outlive the test, even when it is killed by a timeout. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for pid, killing it past the deadline (then fails). Returns the
 * exit code, or 128 + signal. */
static int wait_child(pid_t pid, long deadline_ms)
{
    long end = now_ms() + deadline_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            fail_msg("waitpid(%d): %s", (int)pid, strerror(errno));
        if (now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("child %d did not finish within %ld ms", (int)pid, deadline_ms);
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs `ingestcheck ARGS...` with stdout and stderr to files; returns the
 * exit code. */
static int run_ingestcheck(const char *const *args, const char *out_path, const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_common();
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(126);
        dup2(o, 1);
        dup2(e, 2);
        char *argv[64] = {(char *)(uintptr_t)binary};
        int n = 1;
        for (; *args && n < 63; args++)
            argv[n++] = (char *)(uintptr_t)*args;
        argv[n] = NULL;
        execv(binary, argv);
        _exit(127);
    }
    return wait_child(pid, CHILD_DEADLINE_MS);
}

/* Starts `ingestcheck serve ARGS...` and reads its stdout up to the
 * "listening on URL" line; url receives URL. */
static void start_server(const char *const *args, char *url, size_t url_cap)
{
    int fds[2];
    char err_path[4200];
    path_in_tmp(err_path, sizeof(err_path), "serve.stderr");
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_common();
        dup2(fds[1], 1);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (e >= 0)
            dup2(e, 2);
        close(fds[0]);
        close(fds[1]);
        char *argv[32] = {(char *)(uintptr_t)binary, "serve"};
        int n = 2;
        for (; *args && n < 31; args++)
            argv[n++] = (char *)(uintptr_t)*args;
        argv[n] = NULL;
        execv(binary, argv);
        _exit(127);
    }
    close(fds[1]);
    server_pid = pid;
    server_out = fdopen(fds[0], "r");
    assert_non_null(server_out);
    url[0] = '\0';
    long end = now_ms() + 20000;
    char line[512];
    size_t len = 0;
    while (now_ms() < end) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pfd, 1, 100);
        if (pr <= 0)
            continue;
        char ch;
        ssize_t r = read(fds[0], &ch, 1); /* unbuffered: the FILE is only for closing */
        if (r <= 0)
            break;
        if (ch != '\n') {
            if (len + 1 < sizeof(line))
                line[len++] = ch;
            continue;
        }
        line[len] = '\0';
        len = 0;
        if (strncmp(line, "listening on ", 13) == 0) {
            snprintf(url, url_cap, "%s", line + 13);
            break;
        }
    }
    if (!url[0]) {
        char *err = slurp(err_path);
        print_error("serve printed no 'listening on' line; stderr:\n%s\n", err ? err : "");
        free(err);
        fail();
    }
}

/* SIGTERM, then waits; returns the server's exit code. */
static int stop_server(void)
{
    if (!server_pid)
        return 0;
    pid_t pid = server_pid;
    server_pid = 0;
    kill(pid, SIGTERM);
    int rc = wait_child(pid, 20000);
    if (server_out)
        fclose(server_out);
    server_out = NULL;
    return rc;
}

/* ---- results.json ---- */

static cJSON *load_results(const char *reports)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/results.json", reports);
    char *text = slurp(path);
    if (!text)
        fail_msg("no %s", path);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        fail_msg("%s is not JSON", path);
    return doc;
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* ---- faults ---- */

struct fault {
    const char *cls;
    const char *check;  /* the check that must fail */
    const char *field;  /* a field of that failed check ... */
    const char *needle; /* ... that contains this (tells the class apart) */
};

static const struct fault faults[] = {
    {"missing-required", "contract.schema", "expected", "#/required"},
    {"wrong-type", "contract.schema", "expected", "#/type"},
    {"bad-enum", "contract.schema", "actual", "ingestcheck-not-in-enum"},
    {"extra-property", "contract.schema", "message", "\"ingestcheckUnexpected\" is not allowed"},
    {"undocumented-status", "contract.status", "actual", "202"},
    {"wrong-content-type", "contract.content-type", "actual", "text/plain"},
    {"malformed-json", "contract.json", "expected", "a JSON document"},
    {"slow", "transport", "actual", "timed out"},
    {"drop-connection", "transport", "actual", "connection dropped"},
};

/* Whether a check is one of the unasked ones a fault can trip (the
 * case's own expect.* checks may fail as a consequence). */
static bool contract_or_transport(const char *name)
{
    return strncmp(name, "contract.", 9) == 0 || strcmp(name, "transport") == 0;
}

/* Runs the cases calling VIOLATED_OP against `serve` (with --violate
 * CLS:VIOLATED_OP when cls is set); returns the exit code, *doc the
 * results. */
static int run_against_serve(const char *cls, const char *tag, cJSON **doc)
{
    char url[512], violate[128], reports[4200], out[4200], err[4200];
    snprintf(violate, sizeof(violate), "%s:%s", cls ? cls : "", VIOLATED_OP);
    /* No --seed: the suite's runs cases need the mock's wall clock (see the
     * report of this test); the faults do not depend on the seed. */
    const char *sargs[] = {"--port",    "0",         "--app-id",
                           "A",         "--api-key", "K",
                           "--slow-ms", SLOW_MS,     cls ? "--violate" : NULL,
                           violate,     NULL};
    start_server(sargs, url, sizeof(url));
    char name[160];
    snprintf(name, sizeof(name), "reports-%s", tag);
    path_in_tmp(reports, sizeof(reports), name);
    snprintf(name, sizeof(name), "run-%s.stdout", tag);
    path_in_tmp(out, sizeof(out), name);
    snprintf(name, sizeof(name), "run-%s.stderr", tag);
    path_in_tmp(err, sizeof(err), name);
    const char *rargs[] = {"run",       "--no-color",   "--operation", VIOLATED_OP, "--base-url",
                           url,         "--app-id",     "A",           "--api-key", "K",
                           "--timeout", RUN_TIMEOUT_MS, "-j",          "4",         "--reports",
                           reports,     "cases/",       NULL};
    int rc = run_ingestcheck(rargs, out, err);
    assert_int_equal(stop_server(), 0);
    if (rc != (cls ? 1 : 0)) {
        char *o = slurp(out), *e = slurp(err);
        print_error("ingestcheck run (violate %s) exited %d\nstdout:\n%s\nstderr:\n%s\n",
                    cls ? cls : "nothing", rc, o ? o : "", e ? e : "");
        free(o);
        free(e);
    }
    *doc = load_results(reports);
    return rc;
}

static void test_no_violation_passes(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    int rc = run_against_serve(NULL, "clean", &doc);
    assert_int_equal(rc, 0);
    const cJSON *summary = get(doc, "summary");
    assert_true(num(summary, "cases") >= 2);
    assert_true(num(summary, "failed") == 0);
    assert_true(num(summary, "errors") == 0);
    assert_true(cJSON_IsFalse(get(doc, "target_error")));
    size_t steps_of_op = 0;
    const cJSON *k, *s, *c;
    cJSON_ArrayForEach(k, get(doc, "cases"))
    {
        assert_string_equal(str(k, "outcome"), "passed");
        cJSON_ArrayForEach(s, get(k, "steps"))
        {
            const char *op = str(s, "operation");
            steps_of_op += op && strcmp(op, VIOLATED_OP) == 0;
            cJSON_ArrayForEach(c, get(s, "checks"))
            {
                if (strcmp(str(c, "outcome"), "fail") == 0)
                    fail_msg("case '%s' step '%s': %s failed: %s", str(k, "name"), str(s, "name"),
                             str(c, "name"), str(c, "message"));
            }
        }
    }
    assert_true(steps_of_op >= 2);
    cJSON_Delete(doc);
}

static void test_fault(const struct fault *f)
{
    cJSON *doc = NULL;
    int rc = run_against_serve(f->cls, f->cls, &doc);
    /* Every class is a failed check, exit 1: the runner counts only name
     * resolution, connection and TLS failures as target errors (exit 2);
     * a timeout or a dropped body is a failed `transport` check. */
    assert_int_equal(rc, 1);
    assert_true(cJSON_IsFalse(get(doc, "target_error")));
    const cJSON *summary = get(doc, "summary");
    assert_true(num(summary, "failed") >= 1);
    assert_true(num(summary, "errors") == 0);

    size_t hits = 0;
    const cJSON *k, *s, *c;
    cJSON_ArrayForEach(k, get(doc, "cases"))
    {
        cJSON_ArrayForEach(s, get(k, "steps"))
        {
            const char *op = str(s, "operation");
            cJSON_ArrayForEach(c, get(s, "checks"))
            {
                const char *name = str(c, "name");
                if (strcmp(str(c, "outcome"), "fail") != 0 || !contract_or_transport(name))
                    continue;
                /* Only the violated operation breaks the contract, and only
                 * with the check of this class. */
                if (!op || strcmp(op, VIOLATED_OP) != 0 || strcmp(name, f->check) != 0)
                    fail_msg("--violate %s:%s: unexpected failed check %s on step '%s' (%s) "
                             "of case '%s': %s",
                             f->cls, VIOLATED_OP, name, str(s, "name"), op ? op : "raw",
                             str(k, "name"), str(c, "message"));
                const char *v = str(c, f->field);
                if (!v || !strstr(v, f->needle))
                    fail_msg("--violate %s: %s failed on '%s' with %s '%s', expected it to "
                             "contain '%s'",
                             f->cls, name, str(s, "name"), f->field, v ? v : "(none)", f->needle);
                assert_string_equal(str(s, "outcome"), "failed");
                assert_string_equal(str(k, "outcome"), "failed");
                hits++;
            }
        }
    }
    if (hits == 0)
        fail_msg("--violate %s:%s: no failed %s check on a %s step", f->cls, VIOLATED_OP, f->check,
                 VIOLATED_OP);
    cJSON_Delete(doc);
}

#define FAULT_TEST(fn, i)                                                                          \
    static void fn(void **state)                                                                   \
    {                                                                                              \
        (void)state;                                                                               \
        test_fault(&faults[i]);                                                                    \
    }
FAULT_TEST(test_missing_required, 0)
FAULT_TEST(test_wrong_type, 1)
FAULT_TEST(test_bad_enum, 2)
FAULT_TEST(test_extra_property, 3)
FAULT_TEST(test_undocumented_status, 4)
FAULT_TEST(test_wrong_content_type, 5)
FAULT_TEST(test_malformed_json, 6)
FAULT_TEST(test_slow, 7)
FAULT_TEST(test_drop_connection, 8)

/* ---- -j does not change the results ---- */

struct norm {
    regex_t host, date, uuid, time_attr;
    char **uuids; /* first-seen order within one document */
    size_t nuuids;
};

static void norm_init(struct norm *n)
{
    memset(n, 0, sizeof(*n));
    /* The embedded mock listens on an ephemeral port. */
    assert_int_equal(regcomp(&n->host, "127\\.0\\.0\\.1:[0-9]+", REG_EXTENDED), 0);
    /* {{now}} in requests is the wall clock; with -j the same request is
     * sent at another second. Plain and URL-encoded forms. */
    assert_int_equal(regcomp(&n->date,
                             "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}(:|%3A)[0-9]{2}(:|%3A)[0-9]{2}"
                             "(\\.[0-9]+)?(Z|(\\+|-|%2B)[0-9]{2}(:|%3A)[0-9]{2})",
                             REG_EXTENDED | REG_ICASE),
                     0);
    /* IDs: the embedded mock is not seeded (random UUIDs), and {{uuid}}
     * is random. Numbered by first appearance, so that the same ID still
     * has to be used in the same places. */
    assert_int_equal(regcomp(&n->uuid,
                             "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                             "[0-9a-fA-F]{12}",
                             REG_EXTENDED),
                     0);
    assert_int_equal(regcomp(&n->time_attr, " time=\"[0-9.]*\"", REG_EXTENDED), 0);
}

static void norm_reset(struct norm *n)
{
    for (size_t i = 0; i < n->nuuids; i++)
        free(n->uuids[i]);
    free(n->uuids);
    n->uuids = NULL;
    n->nuuids = 0;
}

static void norm_finish(struct norm *n)
{
    norm_reset(n);
    regfree(&n->host);
    regfree(&n->date);
    regfree(&n->uuid);
    regfree(&n->time_attr);
}

struct buf {
    char *p;
    size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + len + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        assert_non_null(p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

/* Replaces every match of re in in (freed) by repl, or by the number of
 * the UUID when numbered. */
static char *subst(char *in, const regex_t *re, const char *repl, struct norm *numbered)
{
    struct buf b = {0};
    const char *p = in;
    regmatch_t m;
    while (*p && regexec(re, p, 1, &m, p == in ? 0 : REG_NOTBOL) == 0 && m.rm_eo > m.rm_so) {
        buf_add(&b, p, (size_t)m.rm_so);
        if (numbered) {
            size_t len = (size_t)(m.rm_eo - m.rm_so), i;
            for (i = 0; i < numbered->nuuids; i++)
                if (strlen(numbered->uuids[i]) == len &&
                    strncmp(numbered->uuids[i], p + m.rm_so, len) == 0)
                    break;
            if (i == numbered->nuuids) {
                char **grown =
                    realloc(numbered->uuids, (numbered->nuuids + 1) * sizeof(*numbered->uuids));
                assert_non_null(grown);
                numbered->uuids = grown;
                numbered->uuids[i] = strndup(p + m.rm_so, len);
                assert_non_null(numbered->uuids[i]);
                numbered->nuuids++;
            }
            char tag[32];
            int tn = snprintf(tag, sizeof(tag), "<uuid-%zu>", i + 1);
            buf_add(&b, tag, (size_t)tn);
        } else {
            buf_add(&b, repl, strlen(repl));
        }
        p += m.rm_eo;
    }
    buf_add(&b, p, strlen(p));
    free(in);
    return b.p;
}

static char *normalise_text(struct norm *n, char *s)
{
    s = subst(s, &n->host, "HOST", NULL);
    s = subst(s, &n->date, "<date-time>", NULL);
    return subst(s, &n->uuid, NULL, n);
}

/* Console output (with --no-color, no --timings: it prints no duration). */
static char *normalise_console(struct norm *n, char *s)
{
    return normalise_text(n, s);
}

/* junit.xml: time attributes removed. */
static char *normalise_junit(struct norm *n, char *s)
{
    s = subst(s, &n->time_attr, "", NULL);
    return normalise_text(n, s);
}

/* results.json: timings (elapsed_ms, and where the time went:
 * transport_ms, poll_sleep_ms, clock_advanced_ms) and attempts (how many
 * polls an until: step took, a timing too) removed; each response's headers and
 * body removed: they are the target's data, and on one shared target a
 * listing sees the resources of the cases running at the same time (with
 * -j 4 getAuthentications?type=basic lists the authentications of other
 * cases: nbItems 2 instead of 1). Every string normalised as text. */
static void normalise_json(struct norm *n, cJSON *node)
{
    for (cJSON *c = node->child, *next; c; c = next) {
        next = c->next;
        static const char *const timings[] = {"elapsed_ms", "transport_ms", "poll_sleep_ms",
                                              "clock_advanced_ms", "attempts"};
        bool timing = false;
        for (size_t i = 0; c->string && i < sizeof(timings) / sizeof(*timings); i++)
            timing = timing || strcmp(c->string, timings[i]) == 0;
        if (timing) {
            cJSON_Delete(cJSON_DetachItemViaPointer(node, c));
            continue;
        }
        if (c->string && strcmp(c->string, "response") == 0 && cJSON_IsObject(c)) {
            cJSON_DeleteItemFromObjectCaseSensitive(c, "headers");
            cJSON_DeleteItemFromObjectCaseSensitive(c, "body");
        }
        if (cJSON_IsString(c)) {
            char *v = strdup(c->valuestring);
            assert_non_null(v);
            v = normalise_text(n, v);
            assert_true(cJSON_SetValuestring(c, v) != NULL);
            free(v);
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            normalise_json(n, c);
        }
    }
}

/* Fails with the first difference of two normalised texts. */
static void assert_same(const char *what, const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return;
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    size_t from = i > 200 ? i - 200 : 0;
    print_error("%s differs between -j 1 and -j N at byte %zu:\n-j 1: ...%.400s\n-j N: ...%.400s\n",
                what, i, a + from, b + from);
    fail();
}

struct jrun {
    char *console, *errors, *junit;
    cJSON *results;
};

/* Runs the suite with -j jobs against the embedded mock, or, with
 * serve, against a fresh `ingestcheck serve` of its own. */
static void run_jobs(const char *jobs, bool serve, struct jrun *r)
{
    char reports[4200], out[4200], err[4200], name[64], url[512] = "";
    const char *tag = serve ? "serve-j" : "j";
    snprintf(name, sizeof(name), "reports-%s%s", tag, jobs);
    path_in_tmp(reports, sizeof(reports), name);
    snprintf(name, sizeof(name), "%s%s.stdout", tag, jobs);
    path_in_tmp(out, sizeof(out), name);
    snprintf(name, sizeof(name), "%s%s.stderr", tag, jobs);
    path_in_tmp(err, sizeof(err), name);
    if (serve) {
        const char *sargs[] = {"--port", "0", "--app-id", "A", "--api-key", "K", NULL};
        start_server(sargs, url, sizeof(url));
    }
    /* Fixed credentials: an unconfigured embedded mock generates a random
     * application ID. */
    const char *args[] = {"run",       "--no-color",
                          "--run-id",  "X",
                          "--app-id",  "A",
                          "--api-key", "K",
                          "-j",        jobs,
                          "--reports", reports,
                          "cases/",    serve ? "--base-url" : NULL,
                          url,         NULL};
    int rc = run_ingestcheck(args, out, err);
    if (serve)
        assert_int_equal(stop_server(), 0);
    r->console = slurp(out);
    r->errors = slurp(err);
    if (rc != 0)
        fail_msg("the suite with -j %s exited %d:\n%s\n%s", jobs, rc, r->console ? r->console : "",
                 r->errors ? r->errors : "");
    char path[4300];
    snprintf(path, sizeof(path), "%s/junit.xml", reports);
    r->junit = slurp(path);
    assert_non_null(r->junit);
    r->results = load_results(reports);
}

/* The suite with -j 1 and with -j jobs gives the same normalised console
 * output, junit.xml and results.json. */
static void compare_jobs(const char *jobs, bool serve)
{
    struct jrun j1 = {0}, j4 = {0};
    run_jobs("1", serve, &j1);
    run_jobs(jobs, serve, &j4);
    struct norm n;
    norm_init(&n);
    char *a, *b;

    a = normalise_console(&n, j1.console);
    norm_reset(&n);
    b = normalise_console(&n, j4.console);
    norm_reset(&n);
    assert_same("the console output", a, b);
    free(a);
    free(b);
    assert_string_equal(j1.errors, j4.errors);

    a = normalise_junit(&n, j1.junit);
    norm_reset(&n);
    b = normalise_junit(&n, j4.junit);
    norm_reset(&n);
    assert_same("junit.xml", a, b);
    free(a);
    free(b);

    /* Same cases in the same order, then each case on its own (a clearer
     * message), then the whole document. */
    const cJSON *ca = get(j1.results, "cases"), *cb = get(j4.results, "cases");
    assert_int_equal(cJSON_GetArraySize(ca), cJSON_GetArraySize(cb));
    assert_true(cJSON_GetArraySize(ca) > 0);
    assert_string_equal(str(j1.results, "run_id"), "X");
    normalise_json(&n, j1.results);
    norm_reset(&n);
    normalise_json(&n, j4.results);
    norm_reset(&n);
    for (int i = 0; i < cJSON_GetArraySize(ca); i++) {
        char *x = cJSON_Print(cJSON_GetArrayItem(ca, i));
        char *y = cJSON_Print(cJSON_GetArrayItem(cb, i));
        assert_non_null(x);
        assert_non_null(y);
        char what[512];
        snprintf(what, sizeof(what), "results.json case %d '%s'", i,
                 str(cJSON_GetArrayItem(ca, i), "name"));
        assert_same(what, x, y);
        free(x);
        free(y);
    }
    a = cJSON_Print(j1.results);
    b = cJSON_Print(j4.results);
    assert_same("results.json", a, b);
    free(a);
    free(b);

    norm_finish(&n);
    free(j1.errors);
    free(j4.errors);
    cJSON_Delete(j1.results);
    cJSON_Delete(j4.results);
    printf("-j 1 and -j %s%s: same console output, junit.xml and results.json (normalised)\n", jobs,
           serve ? " against ingestcheck serve" : "");
}

static void test_jobs_do_not_change_results(void **state)
{
    (void)state;
    compare_jobs("4", false);
}

/* Issue 7: -j 16 against `ingestcheck serve` (a process of its own, as
 * a staging server would be), each run with a fresh one. */
static void test_jobs16_against_serve(void **state)
{
    (void)state;
    compare_jobs("16", true);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/ingestcheck-suite-faults-XXXXXX",
             base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    stop_server();
    const char *keep = getenv("INGESTCHECK_KEEP_TMP");
    if (keep && *keep)
        fprintf(stderr, "reports kept in %s\n", tmpdir);
    else
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* A test that failed midway leaves its mock running: end it. */
static int test_teardown(void **state)
{
    (void)state;
    if (server_pid) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    if (server_out)
        fclose(server_out);
    server_out = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s INGESTCHECK\n", argv[0]);
        return 2;
    }
    binary = argv[1];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    if (src && *src && chdir(src) != 0) {
        fprintf(stderr, "cannot enter %s\n", src);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_no_violation_passes, test_teardown),
        cmocka_unit_test_teardown(test_missing_required, test_teardown),
        cmocka_unit_test_teardown(test_wrong_type, test_teardown),
        cmocka_unit_test_teardown(test_bad_enum, test_teardown),
        cmocka_unit_test_teardown(test_extra_property, test_teardown),
        cmocka_unit_test_teardown(test_undocumented_status, test_teardown),
        cmocka_unit_test_teardown(test_wrong_content_type, test_teardown),
        cmocka_unit_test_teardown(test_malformed_json, test_teardown),
        cmocka_unit_test_teardown(test_slow, test_teardown),
        cmocka_unit_test_teardown(test_drop_connection, test_teardown),
        cmocka_unit_test_teardown(test_jobs_do_not_change_results, test_teardown),
        cmocka_unit_test_teardown(test_jobs16_against_serve, test_teardown),
    };
    return cmocka_run_group_tests_name("suite-faults", tests, group_setup, group_teardown);
}
