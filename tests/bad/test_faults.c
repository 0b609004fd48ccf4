/* Faults around `ingestcheck run`, as processes (issue 7):
 *
 *   fd-limit      a small `ulimit -n`: exit 2 with one line before anything
 *                 runs, for -j 1 and -j 16; a soft limit below a sufficient
 *                 hard one is raised; enough descriptors: the run passes.
 *   memory-limit  `ulimit -v` swept upwards from the least the binary
 *                 starts with to where the suite passes: every run exits 0
 *                 or 2 with one line, never crashes, leaves no partial file
 *                 (skipped under AddressSanitizer, which needs terabytes of
 *                 address space).
 *   interrupt     SIGINT during a run: complete reports for the cases that
 *                 finished, the rest "not run: interrupted", exit 2 (or 1
 *                 when a case that finished failed); with -j 4 too.
 *   signals       SIGINT or SIGTERM ends a run within 2 s wherever it is:
 *                 retrying against a server that drops every connection
 *                 and then closes its port (--retries 30), polling, a
 *                 request in flight to a server that never answers
 *                 (--timeout 30000); the reports are complete.
 *   recording     SIGINT and SIGKILL during `--record-mode all` over
 *                 existing cassettes: each cassette stays byte-identical to
 *                 what it was (the kills land on every file event of the
 *                 save, as inotify sees them, and at timed points).
 *
 * Usage: test_faults INGESTCHECK SOURCE_DIR [TEST] */
#include "proc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include <cmocka.h>

#define RUN_DEADLINE_MS 120000

static char tmp[1024];

/* ---- helpers ---- */

struct result {
    int code;
    char *out, *err;
    char dir[1200]; /* the run's own directory: stdout, stderr, reports/ */
};

static void result_finish(struct result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* A fresh directory under tmp for one run. */
static void run_dir(struct result *r, const char *name)
{
    snprintf(r->dir, sizeof(r->dir), "%s/%s", tmp, name);
    proc_rmtree(r->dir);
    assert_int_equal(mkdir(r->dir, 0755), 0);
}

static void paths(const struct result *r, char *out, char *err, char *reports)
{
    snprintf(out, PROC_PATH_MAX, "%s/stdout", r->dir);
    snprintf(err, PROC_PATH_MAX, "%s/stderr", r->dir);
    snprintf(reports, PROC_PATH_MAX, "%s/reports", r->dir);
}

/* Starts `ingestcheck run --no-color --reports DIR/reports extra...` in the
 * background, in a fresh directory for r; returns its pid. */
static pid_t start(struct result *r, const char *name, const struct proc_limits *lim,
                   const char *const *extra)
{
    char out[PROC_PATH_MAX], err[PROC_PATH_MAX], reports[PROC_PATH_MAX];
    run_dir(r, name);
    paths(r, out, err, reports);
    const char *args[40] = {"run", "--no-color", "--reports", reports};
    size_t n = 4;
    for (; *extra && n < 39; extra++)
        args[n++] = *extra;
    args[n] = NULL;
    pid_t pid = proc_spawn(args, out, err, lim);
    assert_true(pid > 0);
    return pid;
}

/* Runs it to the end: r gets the exit code, stdout and stderr. */
static void run(struct result *r, const char *name, const struct proc_limits *lim,
                const char *const *extra)
{
    char out[PROC_PATH_MAX], err[PROC_PATH_MAX], reports[PROC_PATH_MAX];
    pid_t pid = start(r, name, lim, extra);
    paths(r, out, err, reports);
    bool hung = false;
    r->code = proc_wait(pid, proc_deadline(RUN_DEADLINE_MS), &hung);
    r->out = test_slurp(out, NULL);
    r->err = test_slurp(err, NULL);
    if (hung)
        fail_msg("%s: killed after %ld ms", name, proc_deadline(RUN_DEADLINE_MS));
}

/* stderr is exactly one line "ingestcheck: ..." containing needle. */
static void assert_one_line(const struct result *r, const char *needle)
{
    if (!r->err)
        fail_msg("%s: no stderr", r->dir);
    const char *e = r->err;
    /* GnuTLS (loaded by libmicrohttpd and libcurl) initialises in a
     * library constructor, before main, and prints its own failure there
     * when memory runs out. */
    static const char gnutls[] = "Error in GnuTLS initialization: ";
    if (strncmp(e, gnutls, sizeof(gnutls) - 1) == 0 && strchr(e, '\n'))
        e = strchr(e, '\n') + 1;
    const char *nl = strchr(e, '\n');
    if (strncmp(e, "ingestcheck: ", 13) != 0 || !nl || nl[1] != '\0')
        fail_msg("%s: stderr is not one line \"ingestcheck: ...\":\n%s", r->dir, e);
    if (needle && !strstr(e, needle))
        fail_msg("%s: stderr does not say \"%s\": %s", r->dir, needle, e);
}

/* The reports of r, which must be whole when present: results.json
 * parses and junit.xml is closed. NULL when none were written. */
static cJSON *reports_of(const struct result *r)
{
    char p[PROC_PATH_MAX];
    snprintf(p, sizeof(p), "%s/reports/results.json", r->dir);
    char *json = test_slurp(p, NULL);
    snprintf(p, sizeof(p), "%s/reports/junit.xml", r->dir);
    char *junit = test_slurp(p, NULL);
    if (!json != !junit)
        fail_msg("%s: only one of results.json and junit.xml was written", r->dir);
    cJSON *doc = json ? cJSON_Parse(json) : NULL;
    if (json && !doc)
        fail_msg("%s: results.json is not JSON", r->dir);
    if (junit && !strstr(junit, "</testsuites>\n"))
        fail_msg("%s: junit.xml is not complete", r->dir);
    free(json);
    free(junit);
    if (proc_count_temp_files(r->dir))
        fail_msg("%s: a temporary file was left behind", r->dir);
    return doc;
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static char *source_path(const char *rel)
{
    static char p[8][PROC_PATH_MAX];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof(p[i]), "%s/%s", proc_source, rel);
    return p[i];
}

/* ---- ulimit -n ---- */

static void test_fd_limit(void **state)
{
    (void)state;
    struct {
        const char *jobs;
        unsigned long nofile;
        bool soft_only;
        int code;
    } runs[] = {
        {"1", 6, false, 2},  {"1", 12, false, 2},   {"16", 40, false, 2}, {"16", 70, false, 2},
        {"1", 64, false, 0}, {"16", 128, false, 0}, {"16", 16, true, 0}, /* the soft limit is raised
                                                                            to what -j 16 needs */
    };
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        struct proc_limits lim = {
            .nofile = runs[i].nofile, .nofile_soft_only = runs[i].soft_only, .no_valgrind = true};
        const char *extra[] = {"--quiet", "-j", runs[i].jobs, source_path("cases/smoke.yaml"),
                               NULL};
        struct result r = {0};
        char name[64];
        snprintf(name, sizeof(name), "nofile-%zu", i);
        run(&r, name, &lim, extra);
        if (r.code != runs[i].code)
            fail_msg("-j %s, ulimit -n %lu%s: exit %d, expected %d\n%s%s", runs[i].jobs,
                     runs[i].nofile, runs[i].soft_only ? " (soft)" : "", r.code, runs[i].code,
                     r.out ? r.out : "", r.err ? r.err : "");
        if (r.code == 2) {
            assert_one_line(&r, "(ulimit -n)");
            cJSON *doc = reports_of(&r);
            assert_null(doc); /* refused before anything ran */
        }
        printf("-j %-2s ulimit -n %3lu%s: exit %d %s", runs[i].jobs, runs[i].nofile,
               runs[i].soft_only ? " (soft only)" : "", r.code, r.code == 2 ? r.err : "\n");
        result_finish(&r);
    }
}

/* ---- ulimit -v ---- */

static bool starts_with_limit(unsigned long kib)
{
    char out[PROC_PATH_MAX], err[PROC_PATH_MAX];
    snprintf(out, sizeof(out), "%s/version.out", tmp);
    snprintf(err, sizeof(err), "%s/version.err", tmp);
    const char *args[] = {"--version", NULL};
    struct proc_limits lim = {.as_kib = kib, .no_valgrind = true};
    return proc_run(args, out, err, &lim, 30000, NULL) == 0;
}

static void test_memory_limit(void **state)
{
    (void)state;
    /* 8 GiB of address space is plenty for ingestcheck, not for ASan. */
    if (!starts_with_limit(8ul << 20)) {
        printf("ingestcheck does not start under ulimit -v 8 GiB (a sanitizer build?): "
               "skipped\n");
        skip();
    }
    unsigned long lo = 1024, hi = 8ul << 20;
    while (hi - lo > 256) {
        unsigned long mid = lo + (hi - lo) / 2;
        if (starts_with_limit(mid))
            hi = mid;
        else
            lo = mid;
    }
    printf("ingestcheck --version starts from ulimit -v %lu KiB\n", hi);
    /* The suite but cases/runs.yaml, whose run-progress steps have 100 ms
     * windows that a process short of memory can miss (a timing failure,
     * not a fault). */
    const char *extra[] = {"--quiet",
                           "-j",
                           "4",
                           source_path("cases/authentications.yaml"),
                           source_path("cases/credentials.yaml"),
                           source_path("cases/destinations.yaml"),
                           source_path("cases/smoke.yaml"),
                           source_path("cases/sources.yaml"),
                           source_path("cases/tasks.yaml"),
                           NULL};
    size_t refused = 0, passed = 0;
    char first_msg[512] = "", last_msg[512] = "";
    unsigned long kib = hi;
    unsigned long prev = kib;
    /* Steps of 8 %: threads reserve address space by the megabyte (stacks,
     * malloc arenas), so -j 4 needs about 20 times what --version does. */
    for (int step = 0; step < 80 && passed < 2; step++, prev = kib, kib += kib / 12) {
        struct proc_limits lim = {.as_kib = kib, .no_valgrind = true};
        struct result r = {0};
        run(&r, "as", &lim, extra);
        if (r.code != 0 && r.code != 2)
            fail_msg("ulimit -v %lu: exit %d (expected 0, or 2 with a message)\n%s%s", kib, r.code,
                     r.out ? r.out : "", r.err ? r.err : "");
        cJSON *doc = reports_of(&r);
        if (r.code == 2) {
            assert_one_line(&r, NULL);
            refused++;
            snprintf(first_msg[0] ? last_msg : first_msg, sizeof(first_msg), "%lu KiB: %s", kib,
                     r.err);
        } else {
            assert_non_null(doc);
            assert_true(num(get(doc, "summary"), "failed") == 0);
            passed++;
        }
        cJSON_Delete(doc);
        result_finish(&r);
    }
    printf(
        "ulimit -v sweep, steps of 8 %%, -j 4, the suite but runs.yaml: %zu refused with one line "
        "(exit 2), then %zu passed, the last at %lu KiB\n  first: %s  last:  %s",
        refused, passed, prev, first_msg, last_msg[0] ? last_msg : "\n");
    assert_true(refused > 0);
    assert_int_equal(passed, 2);
}

/* ---- SIGINT during a run ---- */

/* Waits until stdout has count lines starting with prefix. */
static void wait_for_lines(const struct result *r, pid_t pid, const char *prefix, int count)
{
    char out[PROC_PATH_MAX];
    snprintf(out, sizeof(out), "%s/stdout", r->dir);
    long end = proc_now_ms() + proc_deadline(60000);
    while (proc_now_ms() < end) {
        char *text = test_slurp(out, NULL);
        int n = 0;
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
            n += strncmp(p, prefix, strlen(prefix)) == 0;
        free(text);
        if (n >= count)
            return;
        proc_sleep_ms(5);
    }
    kill(pid, SIGKILL);
    fail_msg("%s: no %d '%s' lines on stdout", r->dir, count, prefix);
}

/* Sends SIGINT and collects the result; the run must end promptly. */
static void interrupt(struct result *r, pid_t pid)
{
    char out[PROC_PATH_MAX], err[PROC_PATH_MAX], reports[PROC_PATH_MAX];
    paths(r, out, err, reports);
    long t0 = proc_now_ms();
    kill(pid, SIGINT);
    bool hung = false;
    r->code = proc_wait(pid, proc_deadline(15000), &hung);
    r->out = test_slurp(out, NULL);
    r->err = test_slurp(err, NULL);
    if (hung)
        fail_msg("%s: still running %ld ms after SIGINT", r->dir, proc_deadline(15000));
    printf("%s: exit %d %ld ms after SIGINT: %s", r->dir + strlen(tmp) + 1, r->code,
           proc_now_ms() - t0, r->err ? r->err : "\n");
}

static void assert_case(const cJSON *c, const char *name, const char *outcome, const char *message,
                        bool interrupted)
{
    assert_string_equal(str(c, "name"), name);
    assert_string_equal(str(c, "outcome"), outcome);
    if (message)
        assert_string_equal(str(c, "message"), message);
    assert_true(cJSON_IsTrue(get(c, "interrupted")) == interrupted);
}

/* Starts a run, waits for lines lines of stdout starting with prefix and
 * pause_ms more, interrupts it and checks the exit code and the stderr
 * line. Returns the reports, which must be there. */
static cJSON *interrupted_run(struct result *r, const char *name, const char *const *extra,
                              const char *prefix, int lines, long pause_ms, int code,
                              const char *line)
{
    pid_t pid = start(r, name, NULL, extra);
    wait_for_lines(r, pid, prefix, lines);
    proc_sleep_ms(pause_ms);
    interrupt(r, pid);
    assert_int_equal(r->code, code);
    assert_one_line(r, line);
    cJSON *doc = reports_of(r);
    assert_non_null(doc);
    assert_true(cJSON_IsTrue(get(doc, "interrupted")));
    return doc;
}

static void test_interrupt(void **state)
{
    (void)state;
    /* -j 1: two cases pass, the third is interrupted while it polls, the
     * fourth never starts. */
    struct result r = {0};
    /* --wall-clock: polling against the embedded mock would otherwise move
     * the mock's clock instead of waiting, and the minute pass at once. */
    const char *extra[] = {"-j", "1", "--wall-clock", source_path("tests/data/bad/interrupt.yaml"),
                           NULL};
    /* 300 ms: into the polling case. */
    cJSON *doc = interrupted_run(&r, "interrupt-j1", extra, "PASS", 2, 300, 2,
                                 "interrupted: 2 of 4 cases not run or cut short; reports "
                                 "written to");
    const cJSON *s = get(doc, "summary");
    assert_true(num(s, "passed") == 2 && num(s, "skipped") == 2 && num(s, "failed") == 0);
    const cJSON *cases = get(doc, "cases");
    assert_int_equal(cJSON_GetArraySize(cases), 4);
    assert_case(cJSON_GetArrayItem(cases, 0), "quick one", "passed", NULL, false);
    assert_case(cJSON_GetArrayItem(cases, 1), "quick two", "passed", NULL, false);
    const cJSON *cut = cJSON_GetArrayItem(cases, 2);
    assert_case(cut, "waits for a minute", "skipped", "interrupted before the case finished", true);
    const cJSON *steps = get(cut, "steps");
    assert_string_equal(str(cJSON_GetArrayItem(steps, 0), "outcome"), "skipped");
    assert_non_null(
        strstr(str(cJSON_GetArrayItem(steps, 0), "message"), "interrupted while polling"));
    assert_string_equal(str(cJSON_GetArrayItem(steps, 1), "message"), "skipped: interrupted");
    assert_case(cJSON_GetArrayItem(cases, 3), "never started", "skipped", "not run: interrupted",
                true);
    cJSON_Delete(doc);
    char p[PROC_PATH_MAX];
    snprintf(p, sizeof(p), "%s/reports/junit.xml", r.dir);
    char *junit = test_slurp(p, NULL);
    assert_non_null(strstr(junit, "skipped=\"2\""));
    assert_non_null(strstr(junit, "<skipped message=\"not run: interrupted\"/>"));
    free(junit);
    result_finish(&r);

    /* A case that finished failed: exit 1. */
    const char *extra2[] = {"--wall-clock", source_path("tests/data/bad/interrupt-failed.yaml"),
                            NULL};
    doc = interrupted_run(&r, "interrupt-failed", extra2, "FAIL", 1, 300, 1,
                          "interrupted: 2 of 3 cases");
    cases = get(doc, "cases");
    assert_string_equal(str(cJSON_GetArrayItem(cases, 0), "outcome"), "failed");
    assert_case(cJSON_GetArrayItem(cases, 2), "never started", "skipped", "not run: interrupted",
                true);
    cJSON_Delete(doc);
    result_finish(&r);

    /* -j 4 over the whole suite and interrupt.yaml (its minute-long poll
     * keeps the run going): whatever finished is reported as it ended,
     * everything else is skipped as interrupted. */
    const char *extra3[] = {"-j",
                            "4",
                            "--wall-clock",
                            source_path("cases"),
                            source_path("tests/data/bad/interrupt.yaml"),
                            NULL};
    doc = interrupted_run(&r, "interrupt-j4", extra3, "PASS", 3, 0, 2, "interrupted: ");
    s = get(doc, "summary");
    double n = num(s, "cases"), cut_short = 0;
    assert_true(num(s, "passed") >= 3 && num(s, "failed") == 0);
    assert_true(num(s, "passed") + num(s, "skipped") == n);
    const cJSON *c;
    cJSON_ArrayForEach(c, get(doc, "cases"))
    {
        if (strcmp(str(c, "outcome"), "passed") == 0)
            continue;
        assert_string_equal(str(c, "outcome"), "skipped");
        assert_true(cJSON_IsTrue(get(c, "interrupted")));
        cut_short++;
    }
    assert_true(cut_short > 0 && cut_short == num(s, "skipped"));
    cJSON_Delete(doc);
    result_finish(&r);
}

/* ---- signals are prompt ---- */

/* How long a run may take to end after SIGINT or SIGTERM. */
#define SIGNAL_DEADLINE_MS 2000

/* A listening socket on 127.0.0.1, port 0; its port in *port. */
static int listen_loopback(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Waits until fd has a connection to accept; fails past the deadline. */
static void wait_for_connection(int fd, pid_t pid, const char *what)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, (int)proc_deadline(30000)) != 1) {
        kill(pid, SIGKILL);
        fail_msg("%s: the run never connected", what);
    }
}

/* Sends sig and waits for the end, which must come within
 * SIGNAL_DEADLINE_MS: exit 2, one line saying the case was cut short,
 * complete reports in which it is skipped as interrupted. */
static void assert_prompt_stop(struct result *r, pid_t pid, int sig, const char *what)
{
    char out[PROC_PATH_MAX], err[PROC_PATH_MAX], reports[PROC_PATH_MAX];
    paths(r, out, err, reports);
    long t0 = proc_now_ms();
    kill(pid, sig);
    bool hung = false;
    r->code = proc_wait(pid, proc_deadline(SIGNAL_DEADLINE_MS), &hung);
    long ms = proc_now_ms() - t0;
    r->out = test_slurp(out, NULL);
    r->err = test_slurp(err, NULL);
    if (hung)
        fail_msg("%s: still running %ld ms after %s", what, proc_deadline(SIGNAL_DEADLINE_MS),
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    printf("%s: %s: exit %d %ld ms after the signal: %s", what,
           sig == SIGINT ? "SIGINT" : "SIGTERM", r->code, ms, r->err ? r->err : "\n");
    assert_int_equal(r->code, 2);
    assert_one_line(r, "interrupted: 1 of 1 cases not run or cut short; reports written to");
    cJSON *doc = reports_of(r);
    assert_non_null(doc);
    assert_true(cJSON_IsTrue(get(doc, "interrupted")));
    const cJSON *c = cJSON_GetArrayItem(get(doc, "cases"), 0);
    assert_case(c, "list tasks", "skipped", "interrupted before the case finished", true);
    const cJSON *step = cJSON_GetArrayItem(get(c, "steps"), 0);
    assert_non_null(strstr(str(step, "message"), "interrupted"));
    cJSON_Delete(doc);
}

/* Starts get-tasks.yaml against 127.0.0.1:port with option value. */
static pid_t start_get_tasks(struct result *r, const char *name, unsigned port, const char *option,
                             const char *value)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    const char *extra[] = {option,      value,      "--base-url",
                           url,         "--app-id", "SIGAPP",
                           "--api-key", "sig-key",  source_path("tests/data/bad/get-tasks.yaml"),
                           NULL};
    return start(r, name, NULL, extra);
}

static void test_signals(void **state)
{
    (void)state;
    static const int sigs[] = {SIGINT, SIGTERM};
    char name[64];
    for (size_t i = 0; i < 2; i++) {
        /* Retries: a server that closes each connection at once (a GET is
         * retried), then its port closes (connection refused). */
        struct result r = {0};
        unsigned port = 0;
        int fd = listen_loopback(&port);
        snprintf(name, sizeof(name), "retries-%zu", i);
        pid_t pid = start_get_tasks(&r, name, port, "--retries", "30");
        for (int n = 0; n < 2; n++) {
            wait_for_connection(fd, pid, name);
            int c = accept(fd, NULL, NULL);
            assert_true(c >= 0);
            close(c);
        }
        close(fd);
        assert_prompt_stop(&r, pid, sigs[i], name);
        result_finish(&r);

        /* A request in flight to a server that never answers: the
         * connection waits in the listening socket's backlog. */
        fd = listen_loopback(&port);
        snprintf(name, sizeof(name), "in-flight-%zu", i);
        pid = start_get_tasks(&r, name, port, "--timeout", "30000");
        wait_for_connection(fd, pid, name);
        assert_prompt_stop(&r, pid, sigs[i], name);
        close(fd);
        result_finish(&r);
    }
    /* Polling (until:) on the wall clock, -j 1: the third case polls for a
     * minute. */
    struct result r = {0};
    const char *poll_args[] = {"-j", "1", "--wall-clock",
                               source_path("tests/data/bad/interrupt.yaml"), NULL};
    pid_t pid = start(&r, "polling", NULL, poll_args);
    wait_for_lines(&r, pid, "PASS", 2);
    long t0 = proc_now_ms();
    kill(pid, SIGTERM);
    bool hung = false;
    r.code = proc_wait(pid, proc_deadline(SIGNAL_DEADLINE_MS), &hung);
    if (hung)
        fail_msg("polling: still running %ld ms after SIGTERM", proc_deadline(SIGNAL_DEADLINE_MS));
    printf("polling: SIGTERM: exit %d %ld ms after the signal\n", r.code, proc_now_ms() - t0);
    assert_int_equal(r.code, 2);
    cJSON *doc = reports_of(&r);
    assert_non_null(doc);
    assert_case(cJSON_GetArrayItem(get(doc, "cases"), 3), "never started", "skipped",
                "not run: interrupted", true);
    cJSON_Delete(doc);
    result_finish(&r);
}

/* ---- signals during a recording ---- */

#define CASSETTE_FILES 3
static const char *const recorded[CASSETTE_FILES] = {"smoke", "credentials", "authentications"};

/* The cassettes of dir, read into texts (NULL when missing). */
static void read_cassettes(const char *dir, char *texts[CASSETTE_FILES],
                           size_t lens[CASSETTE_FILES])
{
    for (size_t i = 0; i < CASSETTE_FILES; i++) {
        char p[PROC_PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s.yaml", dir, recorded[i]);
        texts[i] = test_slurp(p, &lens[i]);
    }
}

static void free_cassettes(char *texts[CASSETTE_FILES])
{
    for (size_t i = 0; i < CASSETTE_FILES; i++)
        free(texts[i]);
}

/* Every cassette of dir is byte-identical to base. */
static void assert_cassettes_whole(const char *dir, char *base[CASSETTE_FILES],
                                   const size_t base_len[CASSETTE_FILES], const char *when)
{
    char *now[CASSETTE_FILES];
    size_t len[CASSETTE_FILES];
    read_cassettes(dir, now, len);
    for (size_t i = 0; i < CASSETTE_FILES; i++)
        if (!now[i] || len[i] != base_len[i] || memcmp(now[i], base[i], len[i]) != 0)
            fail_msg("%s: cassette %s.yaml is %s", when, recorded[i],
                     now[i] ? "not what it was (damaged)" : "gone");
    free_cassettes(now);
}

/* Removes the temporary files a killed save left; returns how many. */
static size_t remove_temp_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".tmp."))
            continue;
        char p[PROC_PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        n += unlink(p) == 0;
    }
    if (d)
        closedir(d);
    return n;
}

/* Records the three case files into cassettes, reproducibly (seeded mock,
 * fixed run id, -j 1): a recording that completes rewrites identical
 * bytes, so any difference is damage. */
static pid_t start_recording(struct result *r, const char *name, const char *cassettes,
                             const char *jobs)
{
    const char *extra[] = {"--mock-seed",
                           "42",
                           "--run-id",
                           "ic-0000000042",
                           "--record-mode",
                           "all",
                           "-j",
                           jobs,
                           "--cassettes",
                           cassettes,
                           source_path("cases/smoke.yaml"),
                           source_path("cases/credentials.yaml"),
                           source_path("cases/authentications.yaml"),
                           NULL};
    /* With -j > 1: the whole suite and the minute-long poll of
     * interrupt.yaml on the wall clock (still running when interrupted),
     * not seeded (the seeded mock is for -j 1). */
    const char *parallel[] = {"--record-mode",
                              "all",
                              "-j",
                              jobs,
                              "--cassettes",
                              cassettes,
                              "--wall-clock",
                              source_path("cases"),
                              source_path("tests/data/bad/interrupt.yaml"),
                              NULL};
    return start(r, name, NULL, strcmp(jobs, "1") == 0 ? extra : parallel);
}

#ifdef __linux__
/* What a watch on the cassette directory sees: a file created, written or
 * renamed into place. A save that wrote a cassette in place would show its
 * writes too, so a kill lands in the middle of one. */
#define SAVE_EVENTS (IN_CREATE | IN_MODIFY | IN_MOVED_TO)

/* Counts the watched events until pid ends; with nth > 0, SIGKILLs pid at
 * once on the nth event instead. Returns the events seen. */
static int watch_save(const char *dir, pid_t pid, int nth)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), seen = 0;
    assert_true(ino >= 0);
    assert_true(inotify_add_watch(ino, dir, SAVE_EVENTS) >= 0);
    long end = proc_now_ms() + proc_deadline(RUN_DEADLINE_MS);
    while (proc_now_ms() < end) {
        struct pollfd p = {.fd = ino, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) {
            siginfo_t info = {0};
            if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                info.si_pid == pid)
                break; /* ended (not reaped: proc_wait does that) */
            continue;
        }
        ssize_t len = read(ino, buf, sizeof(buf));
        for (char *q = buf; len > 0 && q < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)q;
            if (++seen == nth) {
                kill(pid, SIGKILL);
                close(ino);
                return seen;
            }
            q += sizeof(*ev) + ev->len;
        }
    }
    close(ino);
    return seen;
}
#endif

static void test_recording(void **state)
{
    (void)state;
    char cassettes[1200], base_dir[1200];
    snprintf(cassettes, sizeof(cassettes), "%s/cassettes", tmp);
    snprintf(base_dir, sizeof(base_dir), "%s/baseline", tmp);

    /* The baseline: one whole recording; a second one gives the same bytes. */
    struct result r = {0};
    pid_t pid = start_recording(&r, "baseline", base_dir, "1");
    r.code = proc_wait(pid, proc_deadline(RUN_DEADLINE_MS), NULL);
    assert_int_equal(r.code, 0);
    char *base[CASSETTE_FILES];
    size_t base_len[CASSETTE_FILES];
    read_cassettes(base_dir, base, base_len);
    for (size_t i = 0; i < CASSETTE_FILES; i++)
        assert_non_null(base[i]);
    assert_int_equal(mkdir(cassettes, 0755), 0);
    pid = start_recording(&r, "again", cassettes, "1");
    int events = 0;
#ifdef __linux__
    events = watch_save(cassettes, pid, 0);
#endif
    assert_int_equal(proc_wait(pid, proc_deadline(RUN_DEADLINE_MS), NULL), 0);
    assert_cassettes_whole(cassettes, base, base_len, "a second recording");

    /* SIGINT: the recording is not saved, the cassettes stay. With -j 4
     * too (the whole suite), where the cases of a file take turns on its
     * cassette: the cases not run still pass their turn, so no worker
     * waits for ever. */
    const char *jobs[] = {"1", "4"};
    for (size_t i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof(name), "sigint-j%s", jobs[i]);
        pid = start_recording(&r, name, cassettes, jobs[i]);
        wait_for_lines(&r, pid, "PASS", 2);
        interrupt(&r, pid);
        assert_int_equal(r.code, 2);
        assert_one_line(&r, "cassettes not saved");
        assert_cassettes_whole(cassettes, base, base_len, "after SIGINT");
        assert_int_equal(proc_count_temp_files(cassettes), 0);
        result_finish(&r);
    }

    /* SIGKILL at timed points, then on each file event of the save. */
    size_t kills = 0, left = 0;
    const long delays[] = {50, 150, 300, 450};
    for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
        pid = start_recording(&r, "kill", cassettes, "1");
        proc_sleep_ms(proc_under_valgrind() ? delays[i] * 10 : delays[i]);
        kill(pid, SIGKILL);
        proc_wait(pid, 10000, NULL);
        kills++;
        char when[64];
        snprintf(when, sizeof(when), "SIGKILL after %ld ms", delays[i]);
        left += remove_temp_files(cassettes);
        assert_cassettes_whole(cassettes, base, base_len, when);
    }
#ifdef __linux__
    /* Then on the file events of a save, a stride apart (at most 24 runs). */
    int stride = events > 24 ? events / 24 : 1;
    for (int nth = 1; nth <= events; nth += stride) {
        pid = start_recording(&r, "kill-event", cassettes, "1");
        kills += watch_save(cassettes, pid, nth) == nth;
        proc_wait(pid, 10000, NULL);
        char when[64];
        snprintf(when, sizeof(when), "SIGKILL at file event %d of %d", nth, events);
        left += remove_temp_files(cassettes);
        assert_cassettes_whole(cassettes, base, base_len, when);
    }
#endif
    printf("%zu SIGKILLs during a recording over existing cassettes (%d file events in a "
           "save): every cassette whole after each (%zu temporary files left by killed "
           "saves, removed)\n",
           kills, events, left);
    free_cassettes(base);
}

int main(int argc, char **argv)
{
    if (!proc_main_args(argc, argv, "TEST"))
        return 2;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    proc_mkdtemp(tmp, sizeof(tmp), "faults");
    if (argc > 3)
        cmocka_set_test_filter(argv[3]);
#ifdef INGESTCHECK_COVERAGE_BUILD
    if (argc > 3 && strcmp(argv[3], "test_memory_limit") == 0) {
        printf("a --coverage build: gcov's exit handler needs memory of its own and can crash "
               "under ulimit -v after ingestcheck has exited: skipped\n");
        proc_rmtree(tmp);
        return 77;
    }
#endif
    if (argc > 3 && strcmp(argv[3], "test_memory_limit") == 0 && !starts_with_limit(8ul << 20)) {
        printf("ingestcheck does not start under ulimit -v 8 GiB (a sanitizer build?): skipped\n");
        proc_rmtree(tmp);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_limit),  cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_interrupt), cmocka_unit_test(test_signals),
        cmocka_unit_test(test_recording),
    };
    int rc = cmocka_run_group_tests_name("faults", tests, NULL, NULL);
    const char *keep = getenv("INGESTCHECK_KEEP_TMP");
    if (keep && *keep)
        printf("files kept in %s\n", tmp);
    else
        proc_rmtree(tmp);
    return rc;
}
