/* `ingestcheck serve` as a process: prints the URL, prints generated
 * credentials but never a given API key, answers, and exits 0 on SIGTERM
 * and SIGINT; bad options exit 2. argv[1] is the ingestcheck binary. */
#include "http/http.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const char *binary;
static pid_t live; /* a child to kill if a test fails midway */

struct proc {
    pid_t pid;
    FILE *out;
    char lines[8][512];
    int nlines;
};

/* Starts `ingestcheck serve ARGS...` with extra environment "K=V" pairs and
 * reads its output up to the "listening on" line (or EOF). */
static void start(struct proc *p, const char *const *env, const char *const *args)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(fds[1], 1);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        close(fds[0]);
        close(fds[1]);
        for (; env && *env; env++)
            putenv((char *)(uintptr_t)*env);
        char *argv[32] = {(char *)(uintptr_t)binary, "serve", "--quiet"};
        int n = 3;
        for (; args && *args && n < 31; args++)
            argv[n++] = (char *)(uintptr_t)*args;
        argv[n] = NULL;
        execv(binary, argv);
        _exit(127);
    }
    close(fds[1]);
    live = p->pid;
    p->out = fdopen(fds[0], "r");
    p->nlines = 0;
    char line[512];
    while (p->nlines < 8 && fgets(line, sizeof(line), p->out)) {
        snprintf(p->lines[p->nlines++], sizeof(p->lines[0]), "%s", line);
        if (strncmp(line, "listening on ", 13) == 0)
            break;
    }
}

static int stop(struct proc *p, int sig)
{
    int status = 0;
    if (sig)
        kill(p->pid, sig);
    char rest[512];
    while (fgets(rest, sizeof(rest), p->out)) {
        if (p->nlines < 8)
            snprintf(p->lines[p->nlines++], sizeof(p->lines[0]), "%s", rest);
    }
    fclose(p->out);
    waitpid(p->pid, &status, 0);
    live = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *url_of(const struct proc *p)
{
    static char url[256];
    for (int i = 0; i < p->nlines; i++)
        if (sscanf(p->lines[i], "listening on %255s", url) == 1)
            return url;
    return NULL;
}

static const char *printed(const struct proc *p, const char *prefix)
{
    static char v[256];
    for (int i = 0; i < p->nlines; i++)
        if (strncmp(p->lines[i], prefix, strlen(prefix)) == 0 &&
            sscanf(p->lines[i] + strlen(prefix), "%255s", v) == 1)
            return v;
    return NULL;
}

static int get(const char *url, const char *path, const char *app, const char *key)
{
    struct util_error err;
    util_error_clear(&err);
    struct http_transport *t = http_curl_create(NULL, &err);
    struct http_request req;
    struct http_response resp;
    http_request_init(&req);
    http_response_init(&resp);
    char full[512];
    snprintf(full, sizeof(full), "%s%s", url, path);
    http_request_set(&req, "GET", full);
    http_headers_add(&req.headers, "x-algolia-application-id", app);
    http_headers_add(&req.headers, "x-algolia-api-key", key);
    assert_int_equal(http_send(t, &req, &resp, &err), 0);
    int status = resp.status;
    http_request_finish(&req);
    http_response_finish(&resp);
    http_transport_destroy(t);
    return status;
}

static void test_generated_credentials(void **state)
{
    (void)state;
    struct proc p;
    const char *args[] = {"--seed", "1", "--port", "0", NULL};
    start(&p, NULL, args);
    const char *url = url_of(&p);
    assert_non_null(url);
    assert_true(strncmp(url, "http://127.0.0.1:", 17) == 0);
    char app[256], key[256];
    assert_non_null(printed(&p, "application ID: "));
    snprintf(app, sizeof(app), "%s", printed(&p, "application ID: "));
    assert_non_null(printed(&p, "API key: "));
    snprintf(key, sizeof(key), "%s", printed(&p, "API key: "));
    assert_int_equal(get(url, "/1/tasks", app, key), 200);
    assert_int_equal(get(url, "/1/tasks", app, "wrong"), 403);
    /* The committed revision: every operation has a model. */
    assert_non_null(printed(&p, "serving "));
    assert_string_equal(printed(&p, "serving "), "33");
    bool counts = false;
    for (int i = 0; i < p.nlines; i++)
        counts = counts ||
                 strcmp(p.lines[i], "serving 33 operations: 33 modelled, 0 generated\n") == 0 ||
                 strcmp(p.lines[i], "serving 33 operations: 33 modelled, 0 generated") == 0;
    assert_true(counts);
    assert_int_equal(stop(&p, SIGTERM), 0);
}

static void test_given_key_never_printed(void **state)
{
    (void)state;
    struct proc p;
    const char *env[] = {"INGESTCHECK_MOCK_API_KEY=given-secret-key",
                         "INGESTCHECK_MOCK_APP_ID=GIVENAPP", NULL};
    start(&p, env, NULL);
    const char *url = url_of(&p);
    assert_non_null(url);
    char u[256];
    snprintf(u, sizeof(u), "%s", url);
    assert_int_equal(get(u, "/1/sources", "GIVENAPP", "given-secret-key"), 200);
    assert_int_equal(stop(&p, SIGINT), 0);
    for (int i = 0; i < p.nlines; i++)
        assert_null(strstr(p.lines[i], "given-secret-key"));
    assert_null(printed(&p, "API key: "));
    /* --api-key on the command line: not printed either. */
    const char *args[] = {"--api-key", "cli-secret", "--app-id", "CLIAPP", NULL};
    start(&p, NULL, args);
    assert_non_null(url_of(&p));
    assert_int_equal(stop(&p, SIGTERM), 0);
    for (int i = 0; i < p.nlines; i++)
        assert_null(strstr(p.lines[i], "cli-secret"));
}

static void test_bad_options(void **state)
{
    (void)state;
    const char *cases[][3] = {{"--violate", "nonsense", NULL},
                              {"--violate", "bad-enum:createTask", NULL},
                              {"--port", "70000", NULL},
                              {"--seed", "-1", NULL},
                              {"--schemas", "/nonexistent", NULL}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct proc p;
        start(&p, NULL, cases[i]);
        assert_null(url_of(&p));
        assert_int_equal(stop(&p, 0), 2);
    }
}

static int teardown(void **state)
{
    (void)state;
    if (live > 0) {
        kill(live, SIGKILL);
        waitpid(live, NULL, 0);
        live = 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_serve_cli INGESTCHECK\n");
        return 2;
    }
    binary = argv[1];
    signal(SIGPIPE, SIG_IGN);
    struct util_error err;
    util_error_clear(&err);
    if (http_global_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_generated_credentials, teardown),
        cmocka_unit_test_teardown(test_given_key_never_printed, teardown),
        cmocka_unit_test_teardown(test_bad_options, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return rc;
}
