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
 * suite_util.h).
 *
 * argv[1] is the ingestcheck binary; the working directory is the source
 * root (cases/ and schemas/ are found there). Set INGESTCHECK_KEEP_TMP=1
 * to keep the reports of a run. */
#include "suite_util.h"

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* An operation that most Ingestion cases call (7 cases, every resource
 * type), so each fault is seen from many cases. */
#define VIOLATED_OP "getTask"
/* The slow fault against the runner's timeout. */
#define SLOW_MS "6000"
#define RUN_TIMEOUT_MS "2000"
static pid_t server_pid; /* the mock, killed by the teardown if a test fails midway */
static FILE *server_out;

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
    /* serve is the embedded mock: the cases tagged mock hold there too. */
    const char *rargs[] = {"run",       "--no-color",    "--operation", VIOLATED_OP, "--base-url",
                           url,         "--app-id",      "A",           "--api-key", "K",
                           "--timeout", RUN_TIMEOUT_MS,  "-j",          "4",         "--reports",
                           reports,     "--include-tag", "mock",        "cases/",    NULL};
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

struct jrun {
    char *console, *errors;
    char reports[4200];
};

/* Runs the suite with -j jobs against the embedded mock, or, with
 * serve, against a fresh `ingestcheck serve` of its own. */
static void run_jobs(const char *jobs, bool serve, struct jrun *r)
{
    char out[4200], err[4200], name[64], url[512] = "";
    const char *tag = serve ? "serve-j" : "j";
    snprintf(name, sizeof(name), "reports-%s%s", tag, jobs);
    path_in_tmp(r->reports, sizeof(r->reports), name);
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
                          "--reports", r->reports,
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
    cJSON *doc = load_results(r->reports);
    assert_string_equal(str(doc, "run_id"), "X");
    cJSON_Delete(doc);
}

/* The suite with -j 1 and with -j jobs gives the same normalised console
 * output, junit.xml and results.json. */
static void compare_jobs(const char *jobs, bool serve)
{
    struct jrun j1 = {0}, jn = {0};
    char label[32];
    snprintf(label, sizeof(label), "-j %s", jobs);
    run_jobs("1", serve, &j1);
    run_jobs(jobs, serve, &jn);
    struct norm n;
    norm_init(&n);
    char *a = normalise_console(&n, j1.console);
    norm_reset(&n);
    char *b = normalise_console(&n, jn.console);
    norm_finish(&n);
    assert_same("the console output", "-j 1", a, label, b);
    free(a);
    free(b);
    assert_string_equal(j1.errors, jn.errors);
    free(j1.errors);
    free(jn.errors);
    assert_same_reports("-j 1", j1.reports, label, jn.reports);
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
    return suite_tmp_setup("suite-faults");
}

static int group_teardown(void **state)
{
    (void)state;
    stop_server();
    suite_tmp_teardown();
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
    if (suite_main_init(argc, argv))
        return 2;
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
