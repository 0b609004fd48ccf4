/* The bad-input catalogue's command rows (issue 12): options past their
 * caps, outputs that cannot be written, outputs that are inputs, and
 * reasons that must reach the console, through every command that has
 * them. Each row runs one `ingestcheck` command in a fresh directory and
 * is held to its exact outcome: the exit code, one stderr line saying
 * what and where (exit 2), no case run when the refusal must come first,
 * and an input left byte-identical. See commands.h. */
#include "commands.h"

#include "proc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD_DEADLINE_MS 60000

/* What a row prepares in its directory D before the command runs. */
enum setup {
    SET_NONE,
    SET_FILE,           /* D/afile, a regular file */
    SET_CASE_COPY,      /* D/cases/get-tasks.yaml */
    SET_CASSETTE,       /* D/c.yaml, the shipped smoke cassette */
    SET_SHARDS,         /* D/sh1 and D/sh2: the reports of `run --shard 1/2` and 2/2 */
    SET_SPEC_IN_OUT,    /* the spec at D/out/components/ingestion.json */
    SET_SPEC_AS_LINT,   /* the spec at D/rep/lint.json */
    SET_CASE_AS_REPORT, /* get-tasks.yaml at D/rep/results.json */
    SET_BOMB,           /* D/bomb.yaml: vars that multiply each other */
    SET_ODD_SERVER,     /* a server on @U answering status 999 */
};

struct cmd_row {
    const char *name;
    enum setup setup;
    /* argv after the binary; "@D/x": D/x, "@S/x": the source tree's x,
     * "@U": the odd server's URL. */
    const char *argv[20];
    int exit_code;
    const char *err_has;   /* exit 2: the one stderr line contains this */
    bool nothing_ran;      /* stdout has no case line (refused first) */
    const char *out_has;   /* stdout contains this */
    const char *unchanged; /* D/this stays byte-identical */
};

static const struct cmd_row rows[] = {
    /* Caps of numeric options (H3). */
    {"--retries past its cap",
     SET_NONE,
     {"run", "--reports", "@D/r", "--retries", "1000000000", "@S/tests/data/bad/get-tasks.yaml"},
     2,
     "--retries must be between 0 and 100, got 1000000000",
     true,
     NULL,
     NULL},
    {"--timeout past its cap",
     SET_NONE,
     {"run", "--reports", "@D/r", "--timeout", "99999999999", "@S/tests/data/bad/get-tasks.yaml"},
     2,
     "--timeout must be between 1 and 86400000",
     true,
     NULL,
     NULL},
    {"--run-id past its cap",
     SET_NONE,
     {"run", "--reports", "@D/r", "--run-id", "@LONG", "@S/tests/data/bad/get-tasks.yaml"},
     2,
     "--run-id must be 1 to 256 bytes long, got 300",
     true,
     NULL,
     NULL},
    /* Outputs checked before the first case (D2). */
    {"an unwritable cassette directory",
     SET_NONE,
     {"run", "--reports", "@D/r", "--record-mode", "all", "--cassettes",
      "/proc/ingestcheck-cassettes", "@S/tests/data/bad/get-tasks.yaml"},
     2,
     "--cassettes /proc/ingestcheck-cassettes",
     true,
     NULL,
     NULL},
    {"a cassette directory under a file",
     SET_FILE,
     {"run", "--reports", "@D/r", "--record-mode", "all", "--cassettes", "@D/afile/cas",
      "@S/tests/data/bad/get-tasks.yaml"},
     2,
     "afile is not a directory",
     true,
     NULL,
     NULL},
    {"a reports directory under a file",
     SET_FILE,
     {"run", "--reports", "@D/afile/r", "@S/tests/data/bad/get-tasks.yaml"},
     2,
     "afile is not a directory",
     true,
     NULL,
     NULL},
    /* An output that is an input (D3). */
    {"run: a cassette that is the case file",
     SET_CASE_COPY,
     {"run", "--reports", "@D/r", "--record-mode", "all", "--cassettes", "@D/cases",
      "@D/cases/get-tasks.yaml"},
     2,
     "is the input",
     true,
     NULL,
     "cases/get-tasks.yaml"},
    {"run: a report that is the case file",
     SET_CASE_AS_REPORT,
     {"run", "--reports", "@D/rep", "@D/rep/results.json"},
     2,
     "is the input",
     true,
     NULL,
     "rep/results.json"},
    {"cassette export: --har is the cassette",
     SET_CASSETTE,
     {"cassette", "export", "--har", "@D/c.yaml", "@D/c.yaml"},
     2,
     "is the input",
     false,
     NULL,
     "c.yaml"},
    {"cassette export: --har is the cassette, spelt otherwise",
     SET_CASSETTE,
     {"cassette", "export", "--har", "@D/./c.yaml", "@D/../@B/c.yaml"},
     2,
     "is the input",
     false,
     NULL,
     "c.yaml"},
    {"merge: --reports is a shard",
     SET_SHARDS,
     {"merge", "--reports", "@D/sh1", "@D/sh1", "@D/sh2"},
     2,
     "is the input",
     false,
     NULL,
     "sh1/results.json"},
    {"coverage: --reports receives an input",
     SET_CASSETTE,
     {"coverage", "--reports", "@D", "@D/coverage.md"},
     2,
     "is the input",
     false,
     NULL,
     "coverage.md"},
    {"schemas generate: the spec inside --out",
     SET_SPEC_IN_OUT,
     {"schemas", "generate", "--spec", "@D/out/components/ingestion.json", "--out", "@D/out"},
     2,
     "which generate rewrites",
     false,
     NULL,
     "out/components/ingestion.json"},
    {"schemas lint: --reports receives the spec",
     SET_SPEC_AS_LINT,
     {"schemas", "lint", "--spec", "@D/rep/lint.json", "--reports", "@D/rep"},
     2,
     "is the input",
     false,
     NULL,
     "rep/lint.json"},
    /* Reasons on the console (U4, U5). */
    {"a template bomb gives its reason on the console",
     SET_BOMB,
     {"run", "--reports", "@D/r", "@D/bomb.yaml"},
     1,
     NULL,
     false,
     "FAIL  template bomb (@D/bomb.yaml:2): vars: f: the expanded value would exceed",
     NULL},
    {"an answer that cannot be recorded fails its step, reports written",
     SET_ODD_SERVER,
     {"run", "--reports", "@D/r", "--base-url", "@U", "--app-id", "ODDAPP", "--api-key", "odd-key",
      "--record-mode", "all", "--cassettes", "@D/cas", "@S/tests/data/bad/get-tasks.yaml"},
     1,
     NULL,
     false,
     "cannot record GET @U/1/tasks: the server answered status 999, outside 100-599",
     NULL},
};

/* ---- fixtures ---- */

static const char bomb[] =
    "cases:\n"
    "  - name: template bomb\n"
    "    vars:\n"
    "      a: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n"
    "      b: \"{{a}}{{a}}{{a}}{{a}}{{a}}{{a}}{{a}}{{a}}{{a}}{{a}}\"\n"
    "      c: \"{{b}}{{b}}{{b}}{{b}}{{b}}{{b}}{{b}}{{b}}{{b}}{{b}}\"\n"
    "      d: \"{{c}}{{c}}{{c}}{{c}}{{c}}{{c}}{{c}}{{c}}{{c}}{{c}}\"\n"
    "      e: \"{{d}}{{d}}{{d}}{{d}}{{d}}{{d}}{{d}}{{d}}{{d}}{{d}}\"\n"
    "      f: \"{{e}}{{e}}{{e}}{{e}}{{e}}{{e}}{{e}}{{e}}{{e}}{{e}}\"\n"
    "      g: \"{{f}}{{f}}{{f}}{{f}}{{f}}{{f}}{{f}}{{f}}{{f}}{{f}}\"\n"
    "    steps:\n"
    "      - operation: getTasks\n"
    "        query: {itemsPerPage: \"{{g}}\"}\n";

static bool copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *text = test_slurp(from, &n);
    bool ok = text && proc_write(to, text, n);
    free(text);
    return ok;
}

/* A scripted server, until stop: mode 0 answers every request with
 * status 999; mode 1 with an empty getTasks page whose nbItems is
 * released (0, then 1 once the test sets it). */
struct odd_server {
    int fd;
    unsigned port;
    int mode;
    atomic_int stop, released, requests;
    pthread_t thread;
};

static void *odd_serve(void *arg)
{
    struct odd_server *s = arg;
    static const char odd[] = "HTTP/1.1 999 Odd\r\nContent-Type: application/json\r\n"
                              "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    char page[512];
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) != 1)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        char buf[8192];
        struct pollfd q = {.fd = c, .events = POLLIN};
        const char *answer = odd;
        if (s->mode == 1) {
            char body[160];
            int bl = snprintf(body, sizeof(body),
                              "{\"tasks\":[],\"pagination\":{\"nbPages\":1,\"page\":1,"
                              "\"nbItems\":%d,\"itemsPerPage\":10}}",
                              atomic_load(&s->released));
            snprintf(page, sizeof(page),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "%d\r\nConnection: close\r\n\r\n%s",
                     bl, body);
            answer = page;
        }
        if (poll(&q, 1, 5000) == 1 && recv(c, buf, sizeof(buf), 0) > 0) {
            (void)!send(c, answer, strlen(answer), MSG_NOSIGNAL);
            atomic_fetch_add(&s->requests, 1);
        }
        close(c);
    }
    return NULL;
}

static bool odd_start(struct odd_server *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->fd, 16) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &len) != 0)
        return false;
    s->port = ntohs(a.sin_port);
    atomic_store(&s->stop, 0);
    return pthread_create(&s->thread, NULL, odd_serve, s) == 0;
}

static void odd_stop(struct odd_server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* Copies the source tree's file rel to D/dest, after making the
 * directories of D/sub (NULL: none). */
static bool place(const char *dir, const char *sub, const char *rel, const char *dest)
{
    char a[PROC_PATH_MAX + 64], b[PROC_PATH_MAX + 64];
    if (sub) {
        snprintf(a, sizeof(a), "%s/%s", dir, sub);
        for (char *p = a + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
            *p = '\0';
            mkdir(a, 0755);
            *p = '/';
        }
        mkdir(a, 0755);
    }
    snprintf(a, sizeof(a), "%s/%s", proc_source, rel);
    snprintf(b, sizeof(b), "%s/%s", dir, dest);
    return copy_file(a, b);
}

/* Prepares the row's directory; false when it could not. */
static bool prepare(const struct cmd_row *r, const char *dir)
{
    char a[PROC_PATH_MAX + 64], b[PROC_PATH_MAX + 64];
    switch (r->setup) {
    case SET_NONE:
    case SET_ODD_SERVER:
        return true;
    case SET_FILE:
        snprintf(a, sizeof(a), "%s/afile", dir);
        return proc_write(a, "x\n", 2);
    case SET_CASE_COPY:
        return place(dir, "cases", "tests/data/bad/get-tasks.yaml", "cases/get-tasks.yaml");
    case SET_CASE_AS_REPORT:
        return place(dir, "rep", "tests/data/bad/get-tasks.yaml", "rep/results.json");
    case SET_CASSETTE: /* coverage.md: a cassette, by its content */
        return place(dir, NULL, "cases/cassettes/smoke.yaml", "c.yaml") &&
               place(dir, NULL, "cases/cassettes/smoke.yaml", "coverage.md");
    case SET_SPEC_IN_OUT:
        return place(dir, "out/components", "schemas/openapi/ingestion.yml",
                     "out/components/ingestion.json");
    case SET_SPEC_AS_LINT:
        return place(dir, "rep", "schemas/openapi/ingestion.yml", "rep/lint.json");
    case SET_BOMB:
        snprintf(a, sizeof(a), "%s/bomb.yaml", dir);
        return proc_write(a, bomb, sizeof(bomb) - 1);
    case SET_SHARDS:
        for (int k = 1; k <= 2; k++) {
            char shard[8], out[PROC_PATH_MAX + 64];
            snprintf(shard, sizeof(shard), "%d/2", k);
            snprintf(a, sizeof(a), "%s/sh%d", dir, k);
            snprintf(b, sizeof(b), "%s/tests/data/bad/get-tasks.yaml", proc_source);
            snprintf(out, sizeof(out), "%s/shard-out", dir);
            const char *args[] = {"run",       "--shard", shard, "--run-id", "ic-shards",
                                  "--reports", a,         b,     NULL};
            bool hung = false;
            if (proc_run(args, out, NULL, NULL, proc_deadline(CMD_DEADLINE_MS), &hung) != 0)
                return false;
        }
        return true;
    }
    return false;
}

/* Replaces the row's placeholders in s into out: "@D" the row's
 * directory, "@B" its base name, "@S" the source tree, "@U" the server's
 * URL; "@LONG" alone is 300 characters. */
static void expand(const char *s, const char *dir, const char *url, char *out, size_t cap)
{
    if (strcmp(s, "@LONG") == 0) {
        memset(out, 'r', 300);
        out[300] = '\0';
        return;
    }
    const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = s; *p && used + 1 < cap; p++) {
        const char *rep = NULL;
        if (p[0] == '@' && p[1] == 'D')
            rep = dir;
        else if (p[0] == '@' && p[1] == 'B')
            rep = base;
        else if (p[0] == '@' && p[1] == 'S')
            rep = proc_source;
        else if (p[0] == '@' && p[1] == 'U')
            rep = url;
        if (rep) {
            used += (size_t)snprintf(out + used, cap - used, "%s", rep);
            p++;
        } else {
            out[used++] = *p;
            out[used] = '\0';
        }
    }
}

/* Runs one row; why gets the first broken expectation ("" when it held). */
static void run_cmd_row(const struct cmd_row *r, const char *dir, char *why, size_t cap)
{
    char out[PROC_PATH_MAX + 64], err[PROC_PATH_MAX + 64], unchanged[PROC_PATH_MAX + 64];
    char args_buf[20][PROC_PATH_MAX + 256], url[64] = "";
    const char *args[22];
    struct odd_server odd = {.fd = -1};
    bool odd_started = false;
    why[0] = '\0';
    mkdir(dir, 0755);
    if (!prepare(r, dir)) {
        snprintf(why, cap, "cannot prepare the row's files");
        return;
    }
    if (r->setup == SET_ODD_SERVER) {
        if (!(odd_started = odd_start(&odd))) {
            snprintf(why, cap, "cannot start the server");
            return;
        }
        snprintf(url, sizeof(url), "http://127.0.0.1:%u", odd.port);
    }
    size_t n = 0, i = 0;
    args[n++] = r->argv[i++];
    /* "--no-color" goes after the subcommand's name. */
    if (strcmp(r->argv[0], "cassette") == 0 || strcmp(r->argv[0], "schemas") == 0)
        args[n++] = r->argv[i++];
    args[n++] = "--no-color";
    for (; i < 20 && r->argv[i]; i++) {
        expand(r->argv[i], dir, url, args_buf[i], sizeof(args_buf[i]));
        args[n++] = args_buf[i];
    }
    args[n] = NULL;
    char *before = NULL, *after = NULL;
    size_t before_len = 0, after_len = 0;
    if (r->unchanged) {
        snprintf(unchanged, sizeof(unchanged), "%s/%s", dir, r->unchanged);
        before = test_slurp(unchanged, &before_len);
    }
    snprintf(out, sizeof(out), "%s/stdout", dir);
    snprintf(err, sizeof(err), "%s/stderr", dir);
    bool hung = false;
    int code = proc_run(args, out, err, NULL, proc_deadline(CMD_DEADLINE_MS), &hung);
    if (odd_started)
        odd_stop(&odd);
    char *o = test_slurp(out, NULL), *e = test_slurp(err, NULL);
    const char *ev = e ? e : "", *ov = o ? o : "";
    char want[PROC_PATH_MAX + 256];
    if (hung)
        snprintf(why, cap, "hung");
    else if (code != r->exit_code)
        snprintf(why, cap, "exit %d, expected %d; stderr: %.300s", code, r->exit_code, ev);
    else if (r->exit_code == 2 &&
             (strncmp(ev, "ingestcheck: ", 13) != 0 || strchr(ev, '\n') != ev + strlen(ev) - 1))
        snprintf(why, cap, "stderr is not one line \"ingestcheck: ...\": %.300s", ev);
    else if (r->nothing_ran && (strstr(ov, "PASS ") || strstr(ov, "FAIL ") || strstr(ov, "ERROR ")))
        snprintf(why, cap, "cases ran before the refusal: %.200s", ov);
    else if (r->err_has && !strstr(ev, r->err_has))
        snprintf(why, cap, "stderr does not say \"%s\": %.300s", r->err_has, ev);
    if (!why[0] && r->out_has) {
        expand(r->out_has, dir, url, want, sizeof(want));
        if (!strstr(ov, want))
            snprintf(why, cap, "stdout does not say \"%.300s\": %.400s", want, ov);
    }
    if (!why[0] && r->unchanged) {
        after = test_slurp(unchanged, &after_len);
        if (!before || !after || before_len != after_len || memcmp(before, after, after_len) != 0)
            snprintf(why, cap, "%s was %s", r->unchanged, after ? "overwritten" : "removed");
    }
    if (!why[0] && r->exit_code != 2) {
        char rj[PROC_PATH_MAX + 64];
        snprintf(rj, sizeof(rj), "%s/r/results.json", dir);
        char *written = test_slurp(rj, NULL);
        if (!written)
            snprintf(why, cap, "no reports were written");
        free(written);
    }
    free(before);
    free(after);
    free(o);
    free(e);
}

/* D2: a cassette directory that becomes a file while the run polls (the
 * server holds the poll until the test has made it one): the save fails at
 * the end, and still the reports are written and the line says which
 * cassettes were not saved. */
static void save_fails_at_the_end(const char *dir, char *why, size_t cap)
{
    static const char poll_case[] = "cases:\n"
                                    "  - name: polls until released\n"
                                    "    steps:\n"
                                    "      - operation: getTasks\n"
                                    "        until: {body: {pagination: {nbItems: 1}}, interval: "
                                    "20ms, timeout: 120s}\n";
    char file[PROC_PATH_MAX + 64], cas[PROC_PATH_MAX + 64], reports[PROC_PATH_MAX + 64],
        out[PROC_PATH_MAX + 64], err[PROC_PATH_MAX + 64], url[64], rj[PROC_PATH_MAX + 64];
    struct odd_server srv = {.fd = -1, .mode = 1};
    why[0] = '\0';
    mkdir(dir, 0755);
    snprintf(file, sizeof(file), "%s/poll.yaml", dir);
    snprintf(cas, sizeof(cas), "%s/cas", dir);
    snprintf(reports, sizeof(reports), "%s/r", dir);
    snprintf(out, sizeof(out), "%s/stdout", dir);
    snprintf(err, sizeof(err), "%s/stderr", dir);
    snprintf(rj, sizeof(rj), "%s/r/results.json", dir);
    if (!proc_write(file, poll_case, sizeof(poll_case) - 1) || !odd_start(&srv)) {
        snprintf(why, cap, "cannot prepare the row");
        return;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", srv.port);
    const char *args[] = {
        "run",         "--no-color", "--reports", reports,   "--base-url",    url,
        "--app-id",    "ODDAPP",     "--api-key", "odd-key", "--record-mode", "all",
        "--cassettes", cas,          file,        NULL};
    pid_t pid = proc_spawn(args, out, err, NULL);
    long end = proc_now_ms() + proc_deadline(CMD_DEADLINE_MS);
    while (atomic_load(&srv.requests) == 0 && proc_now_ms() < end)
        proc_sleep_ms(5);
    bool made = proc_write(cas, "not a directory\n", 16);
    atomic_store(&srv.released, 1);
    bool hung = false;
    int code = proc_wait(pid, proc_deadline(CMD_DEADLINE_MS), &hung);
    odd_stop(&srv);
    char *e = test_slurp(err, NULL), *results = test_slurp(rj, NULL);
    const char *ev = e ? e : "";
    if (!made)
        snprintf(why, cap, "cannot make %.900s a file", cas);
    else if (hung)
        snprintf(why, cap, "hung");
    else if (code != 2)
        snprintf(why, cap, "exit %d, expected 2; stderr: %.300s", code, ev);
    else if (strncmp(ev, "ingestcheck: cassette", 21) != 0 || !strstr(ev, " not saved: ") ||
             !strstr(ev, cas) || !strstr(ev, "; reports written to") ||
             strchr(ev, '\n') != ev + strlen(ev) - 1)
        snprintf(why, cap, "stderr is not one line saying the cassettes were not saved: %.300s",
                 ev);
    cJSON *doc = results ? cJSON_Parse(results) : NULL;
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "cases"), 0);
    const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(first, "outcome");
    if (!why[0] && (!cJSON_IsString(outcome) || strcmp(outcome->valuestring, "passed") != 0))
        snprintf(why, cap, "results.json was not written, or its case did not pass");
    cJSON_Delete(doc);
    free(e);
    free(results);
}

void bad_command_rows(const char *tmp, const char *only, size_t *passed, size_t *failed,
                      size_t *total)
{
    size_t nrows = sizeof(rows) / sizeof(rows[0]);
    *total += nrows;
    for (size_t i = 0; i < nrows; i++) {
        const struct cmd_row *r = &rows[i];
        if (only && !strstr(r->name, only))
            continue;
        char dir[PROC_PATH_MAX], why[1024];
        snprintf(dir, sizeof(dir), "%s/cmd-%02zu", tmp, i + 1);
        long t0 = proc_now_ms();
        run_cmd_row(r, dir, why, sizeof(why));
        if (why[0]) {
            (*failed)++;
            printf("FAIL  r%-2zu %-9s %s: %s\n      files in %s\n", i + 1, "command", r->name, why,
                   dir);
        } else {
            (*passed)++;
            printf("ok    r%-2zu %-9s %s: exit %d (%ld ms)\n", i + 1, "command", r->name,
                   r->exit_code, proc_now_ms() - t0);
        }
    }
    static const char save_row[] = "cassettes that cannot be saved at the end, reports written";
    (*total)++;
    if (only && !strstr(save_row, only))
        return;
    char dir[PROC_PATH_MAX], why[1024];
    snprintf(dir, sizeof(dir), "%s/cmd-save", tmp);
    save_fails_at_the_end(dir, why, sizeof(why));
    if (why[0])
        (*failed)++;
    else
        (*passed)++;
    printf("%s  r%-2zu %-9s %s%s%s\n", why[0] ? "FAIL" : "ok  ", nrows + 1, "command", save_row,
           why[0] ? ": " : "", why);
}
