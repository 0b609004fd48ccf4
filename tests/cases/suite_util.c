/* Helpers of the tests that run the Ingestion suite as processes: child
 * processes with a deadline, a temporary directory, results.json, and the
 * normalisation that lets two runs' reports be compared (see
 * suite_util.h). */
#include "suite_util.h"

#include "slurp.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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

const char *binary;
char tmpdir[4096];

int suite_main_init(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s INGESTCHECK\n", argv[0]);
        return -1;
    }
    binary = argv[1];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    if (src && *src && chdir(src) != 0) {
        fprintf(stderr, "cannot enter %s\n", src);
        return -1;
    }
    return 0;
}

char *slurp(const char *path)
{
    return test_slurp(path, NULL);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void path_in_tmp(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", tmpdir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

void child_common(void)
{
#ifdef __linux__
    /* Never outlive the test, even when it is killed by a timeout. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}

long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for pid, killing it past the deadline (then fails). Returns the
 * exit code, or 128 + signal. */
int wait_child(pid_t pid, long deadline_ms)
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

int run_ingestcheck(const char *const *args, const char *out_path, const char *err_path)
{
    return wait_child(spawn_ingestcheck(args, out_path, err_path), CHILD_DEADLINE_MS);
}

cJSON *load_report(const char *reports, const char *name)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", reports, name);
    char *text = slurp(path);
    if (!text)
        fail_msg("no %s", path);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        fail_msg("%s is not JSON", path);
    return doc;
}

cJSON *load_results(const char *reports)
{
    return load_report(reports, "results.json");
}

const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double num(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

void norm_init(struct norm *n)
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

void norm_reset(struct norm *n)
{
    for (size_t i = 0; i < n->nuuids; i++)
        free(n->uuids[i]);
    free(n->uuids);
    n->uuids = NULL;
    n->nuuids = 0;
}

void norm_finish(struct norm *n)
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
        } else if (repl) {
            buf_add(&b, repl, strlen(repl));
        }
        p += m.rm_eo;
    }
    buf_add(&b, p, strlen(p));
    free(in);
    return b.p;
}

char *normalise_text(struct norm *n, char *s)
{
    s = subst(s, &n->host, "HOST", NULL);
    s = subst(s, &n->date, "<date-time>", NULL);
    return subst(s, &n->uuid, NULL, n);
}

/* Console output (with --no-color, no --timings: it prints no duration). */
char *normalise_console(struct norm *n, char *s)
{
    return normalise_text(n, s);
}

/* junit.xml: time attributes removed. */
char *normalise_junit(struct norm *n, char *s)
{
    s = subst(s, &n->time_attr, "", NULL);
    return normalise_text(n, s);
}

/* results.json: timings (elapsed_ms, and where the time went:
 * transport_ms, poll_sleep_ms, clock_advanced_ms), attempts (how many
 * polls an until: step took, a timing too) and the digest (of the whole
 * text, timings included) removed; each response's headers and
 * body removed: they are the target's data, and on one shared target a
 * listing sees the resources of the cases running at the same time (with
 * -j 4 getAuthentications?type=basic lists the authentications of other
 * cases: nbItems 2 instead of 1). Every string normalised as text. */
void normalise_json(struct norm *n, cJSON *node)
{
    for (cJSON *c = node->child, *next; c; c = next) {
        next = c->next;
        static const char *const timings[] = {"elapsed_ms",        "transport_ms", "poll_sleep_ms",
                                              "clock_advanced_ms", "attempts",     "digest", "waited_ms", "requests"};
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

void assert_same(const char *what, const char *la, const char *a, const char *lb, const char *b)
{
    if (strcmp(a, b) == 0)
        return;
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    size_t from = i > 200 ? i - 200 : 0;
    print_error("%s differs between %s and %s at byte %zu:\n%s: ...%.400s\n%s: ...%.400s\n", what,
                la, lb, i, la, a + from, lb, b + from);
    fail();
}

pid_t spawn_ingestcheck(const char *const *args, const char *out_path, const char *err_path)
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
    return pid;
}

void assert_same_reports(const char *la, const char *ra, const char *lb, const char *rb)
{
    char pa[4300], pb[4300];
    struct norm n;
    norm_init(&n);
    snprintf(pa, sizeof(pa), "%s/junit.xml", ra);
    snprintf(pb, sizeof(pb), "%s/junit.xml", rb);
    char *a = slurp(pa), *b = slurp(pb);
    if (!a || !b)
        fail_msg("no %s", a ? pb : pa);
    a = normalise_junit(&n, a);
    norm_reset(&n);
    b = normalise_junit(&n, b);
    norm_reset(&n);
    assert_same("junit.xml", la, a, lb, b);
    free(a);
    free(b);

    /* Same cases in the same order, then each case on its own (a clearer
     * message), then the whole document. */
    cJSON *da = load_results(ra), *db = load_results(rb);
    const cJSON *ca = get(da, "cases"), *cb = get(db, "cases");
    assert_int_equal(cJSON_GetArraySize(ca), cJSON_GetArraySize(cb));
    assert_true(cJSON_GetArraySize(ca) > 0);
    normalise_json(&n, da);
    norm_reset(&n);
    normalise_json(&n, db);
    norm_reset(&n);
    for (int i = 0; i < cJSON_GetArraySize(ca); i++) {
        char *x = cJSON_Print(cJSON_GetArrayItem(ca, i));
        char *y = cJSON_Print(cJSON_GetArrayItem(cb, i));
        assert_non_null(x);
        assert_non_null(y);
        char what[512];
        snprintf(what, sizeof(what), "results.json case %d '%s'", i,
                 str(cJSON_GetArrayItem(ca, i), "name"));
        assert_same(what, la, x, lb, y);
        free(x);
        free(y);
    }
    a = cJSON_Print(da);
    b = cJSON_Print(db);
    assert_same("results.json", la, a, lb, b);
    free(a);
    free(b);
    cJSON_Delete(da);
    cJSON_Delete(db);
    norm_finish(&n);
}

int suite_tmp_setup(const char *name)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/ingestcheck-%s-XXXXXX", base && *base ? base : "/tmp",
             name);
    return mkdtemp(tmpdir) ? 0 : -1;
}

void suite_tmp_teardown(void)
{
    const char *keep = getenv("INGESTCHECK_KEEP_TMP");
    if (keep && *keep)
        fprintf(stderr, "reports kept in %s\n", tmpdir);
    else
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
