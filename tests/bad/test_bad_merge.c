/* The bad-input catalogue of `ingestcheck merge` (issue 12, W4): one table
 * row per changed shard, each merged with the other shard of its run and
 * held to merge's exact outcome:
 *
 *   exit 1   the shards as `run --shard K/2` wrote them (one case fails);
 *   exit 2   one line on stderr, "ingestcheck: ...", naming the changed
 *            shard's results.json and saying why, and no merged report.
 *
 * The shards come from `ingestcheck run --shard 1/2` and `2/2` of a case
 * file written here (a case that passes, one that fails) against the
 * embedded mock. A row edits the results.json of the shard holding the
 * named case as a person or a broken copy would: an edited case name, the
 * failed case made to pass, a 100 MB case name (its digest recomputed, so
 * that the name cap refuses it, and left as it was), the file cut in half,
 * the digest removed (as an older ingestcheck wrote it).
 *
 * Usage: test_bad_merge INGESTCHECK SOURCE_DIR [ROW-NAME-SUBSTRING]
 * Prints one line per row and the number of rows. INGESTCHECK_KEEP_TMP=1
 * keeps the files. */
#include "proc.h"

#include "report/report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest one `ingestcheck` of a row may take. */
#define ROW_DEADLINE_MS 60000
/* The huge case name. */
#define HUGE_NAME (100u * 1024u * 1024u)

#define PASSING "listing passes"
#define FAILING "listing fails"

static const char case_file[] = "cases:\n"
                                "  - name: " PASSING "\n"
                                "    steps:\n"
                                "      - operation: getTasks\n"
                                "  - name: " FAILING "\n"
                                "    steps:\n"
                                "      - operation: getTasks\n"
                                "        expect: {status: 201}\n";

enum edit {
    E_NONE,        /* the shards as written */
    E_NAME,        /* the passing case renamed */
    E_PASS,        /* the failed case, its step and check made to pass */
    E_HUGE_SEALED, /* a 100 MB case name, the digest recomputed */
    E_HUGE,        /* a 100 MB case name, the digest as it was */
    E_TRUNCATED,   /* the first half of the file */
    E_NO_DIGEST,   /* the digest member removed: an older version's file */
};

struct row {
    const char *name;
    enum edit edit;
    const char *shard_of; /* the case whose shard is edited */
    int exit_code;
    const char *line; /* exit 2: the stderr line contains this */
};

static const struct row rows[] = {
    {"the shards as written (control)", E_NONE, FAILING, 1, NULL},
    {"an edited case name", E_NAME, PASSING, 2, "does not match its digest (sha256 "},
    {"a failed case edited to pass", E_PASS, FAILING, 2, "changed after ingestcheck wrote it"},
    {"a 100 MB case name, digest recomputed", E_HUGE_SEALED, PASSING, 2,
     "/cases/0/name: 104857600 bytes, longer than the cap of 1048576 bytes for a name"},
    {"a 100 MB case name", E_HUGE, PASSING, 2, "does not match its digest"},
    {"cut in half", E_TRUNCATED, FAILING, 2,
     "(the file is cut short: it ends before its document does)"},
    {"no digest (an older version's file)", E_NO_DIGEST, PASSING, 2,
     "no \"digest\": written by an ingestcheck older than this one, or not by ingestcheck "
     "(re-run the shard with this version)"},
};

static char tmp[1024], shard[2][1100];

/* Replaces the first `from` in *text (*len bytes) with `to` (tlen bytes);
 * false when there is none. */
static bool replace(char **text, size_t *len, const char *from, const char *to, size_t tlen)
{
    char *at = strstr(*text, from);
    if (!at)
        return false;
    size_t flen = strlen(from), pre = (size_t)(at - *text), n = *len - flen + tlen;
    char *out = malloc(n + 1);
    if (!out)
        return false;
    memcpy(out, *text, pre);
    memcpy(out + pre, to, tlen);
    memcpy(out + pre + tlen, at + flen, *len - pre - flen + 1);
    free(*text);
    *text = out;
    *len = n;
    return true;
}

/* Replaces every `from` in *text with `to`; the number replaced. */
static size_t replace_all(char **text, size_t *len, const char *from, const char *to)
{
    size_t n = 0;
    while (replace(text, len, from, to, strlen(to)))
        n++;
    return n;
}

/* The edit of r applied to text; false (with *why) when it cannot be. */
static bool apply(const struct row *r, char **text, size_t *len, const char **why)
{
    *why = "the text to edit is not there";
    switch (r->edit) {
    case E_NONE:
        return true;
    case E_NAME:
        return replace(text, len, "\"" PASSING "\"", "\"listing passed\"", 16);
    case E_PASS:
        return replace_all(text, len, "\"outcome\":  \"failed\"", "\"outcome\":  \"passed\"") &&
               replace_all(text, len, "\"outcome\":  \"fail\"", "\"outcome\":  \"pass\"") &&
               replace_all(text, len, "\"failed\":  1", "\"failed\":  0");
    case E_HUGE_SEALED:
    case E_HUGE: {
        char *name = malloc(HUGE_NAME + 3);
        if (!name)
            return false;
        memset(name, 'x', HUGE_NAME + 2);
        name[0] = name[HUGE_NAME + 1] = '"';
        name[HUGE_NAME + 2] = '\0';
        bool ok = replace(text, len, "\"" PASSING "\"", name, HUGE_NAME + 2);
        free(name);
        /* Recomputed where there is a digest (not in an older version's
         * file: the row fails then, as it should). */
        if (ok && r->edit == E_HUGE_SEALED)
            report_digest_seal(*text, *len);
        return ok;
    }
    case E_TRUNCATED:
        *len /= 2;
        (*text)[*len] = '\0';
        return true;
    case E_NO_DIGEST: {
        char *at = strstr(*text, ",\n  \"" REPORT_DIGEST_MEMBER "\":");
        if (!at)
            return true; /* written without one: as an older version writes it */
        memcpy(at, "\n}\n", 4);
        *len = (size_t)(at - *text) + 3;
        return true;
    }
    }
    return false;
}

/* The shard of the two whose results.json names the case. */
static int shard_of(const char *name)
{
    for (int k = 0; k < 2; k++) {
        char p[1200];
        snprintf(p, sizeof(p), "%.1050s/results.json", shard[k]);
        char *text = test_slurp(p, NULL);
        bool has = text && strstr(text, name);
        free(text);
        if (has)
            return k;
    }
    return -1;
}

/* Runs row r; prints its line; false when it broke its promise. */
static bool run_row(size_t i, const struct row *r)
{
    char dir[1100], path[1200], into[1200], out[1100], err[1100], problem[1600] = "";
    const char *why = NULL;
    int k = shard_of(r->shard_of);
    snprintf(dir, sizeof(dir), "%s/row-%zu", tmp, i);
    snprintf(into, sizeof(into), "%s/merged-%zu", tmp, i);
    snprintf(out, sizeof(out), "%s/row-%zu.stdout", tmp, i);
    snprintf(err, sizeof(err), "%s/row-%zu.stderr", tmp, i);
    snprintf(path, sizeof(path), "%.1050s/results.json", k >= 0 ? shard[k] : "?");
    size_t len = 0;
    char *text = k >= 0 ? test_slurp(path, &len) : NULL;
    if (!text) {
        snprintf(problem, sizeof(problem), "no shard holds '%s'", r->shard_of);
        goto done;
    }
    if (!apply(r, &text, &len, &why)) {
        snprintf(problem, sizeof(problem), "cannot edit the shard: %s", why);
        goto done;
    }
    snprintf(path, sizeof(path), "%s/results.json", dir);
    if (mkdir(dir, 0700) != 0 || !proc_write(path, text, len)) {
        snprintf(problem, sizeof(problem), "cannot write %.600s", path);
        goto done;
    }
    const char *args[] = {"merge",
                          "--no-color",
                          "--quiet",
                          "--reports",
                          into,
                          k == 0 ? dir : shard[0],
                          k == 1 ? dir : shard[1],
                          NULL};
    bool hung = false;
    int code = proc_run(args, out, err, NULL, proc_deadline(ROW_DEADLINE_MS), &hung);
    char *said = test_slurp(err, NULL);
    const char *e = said ? said : "";
    const char *nl = strchr(e, '\n');
    snprintf(into + strlen(into), sizeof(into) - strlen(into), "/results.json");
    if (hung)
        snprintf(problem, sizeof(problem), "hung: killed after %ld ms",
                 proc_deadline(ROW_DEADLINE_MS));
    else if (code != r->exit_code)
        snprintf(problem, sizeof(problem), "exit %d, expected %d; stderr: %.400s", code,
                 r->exit_code, e);
    else if (r->exit_code == 2 && (strncmp(e, "ingestcheck: ", 13) != 0 || !nl || nl[1] != '\0'))
        snprintf(problem, sizeof(problem), "stderr is not one line \"ingestcheck: ...\": %.400s",
                 e);
    else if (r->exit_code == 2 && !strstr(e, path))
        snprintf(problem, sizeof(problem), "the message does not name %.600s: %.400s", path, e);
    else if (r->line && !strstr(e, r->line))
        snprintf(problem, sizeof(problem), "the message does not say \"%s\": %.400s", r->line, e);
    else if (r->exit_code == 2 && access(into, F_OK) == 0)
        snprintf(problem, sizeof(problem), "a merged results.json was written");
    free(said);
done:
    free(text);
    printf("%-4s merge: %s%s%s\n", problem[0] ? "FAIL" : "ok", r->name, problem[0] ? ": " : "",
           problem);
    return !problem[0];
}

/* The two shards of the case file, from the embedded mock. */
static bool make_shards(void)
{
    char cases[1100], out[1100], err[1100];
    snprintf(cases, sizeof(cases), "%s/listing.yaml", tmp);
    if (!proc_write(cases, case_file, sizeof(case_file) - 1))
        return false;
    for (int k = 0; k < 2; k++) {
        char spec[8];
        bool hung = false;
        snprintf(spec, sizeof(spec), "%d/2", k + 1);
        snprintf(shard[k], sizeof(shard[k]), "%s/shard-%d", tmp, k + 1);
        snprintf(out, sizeof(out), "%s/shard-%d.stdout", tmp, k + 1);
        snprintf(err, sizeof(err), "%s/shard-%d.stderr", tmp, k + 1);
        const char *args[] = {"run",      "--no-color", "--quiet",   "--run-id", "X",
                              "--app-id", "A",          "--api-key", "K",        "--shard",
                              spec,       "--reports",  shard[k],    cases,      NULL};
        int code = proc_run(args, out, err, NULL, proc_deadline(ROW_DEADLINE_MS), &hung);
        if (hung || (code != 0 && code != 1)) {
            fprintf(stderr, "run --shard %s exited %d\n", spec, code);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    if (!proc_main_args(argc, argv, "ROW-NAME-SUBSTRING"))
        return 2;
    proc_mkdtemp(tmp, sizeof(tmp), "bad-merge");
    size_t failed = 0, ran = 0;
    if (!make_shards()) {
        failed++;
        goto end;
    }
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (argc > 3 && !strstr(rows[i].name, argv[3]))
            continue;
        ran++;
        failed += !run_row(i, &rows[i]);
    }
    printf("%zu rows, %zu failed\n", ran, failed);
end:
    if (!getenv("INGESTCHECK_KEEP_TMP"))
        proc_rmtree(tmp);
    else
        printf("kept %s\n", tmp);
    return failed ? 1 : 0;
}
