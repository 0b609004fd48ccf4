/* Helpers shared by the tests that run the Ingestion suite as processes
 * (test_suite_faults.c, test_suite_shard.c). cmocka assertions: a helper
 * that cannot do its job fails the current test. */
#ifndef INGESTCHECK_TESTS_CASES_SUITE_UTIL_H
#define INGESTCHECK_TESTS_CASES_SUITE_UTIL_H

#include <cjson/cJSON.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Longest a child may take before it is killed and the test fails. */
#define CHILD_DEADLINE_MS 90000

/* The ingestcheck binary (argv[1]) and the test's temporary directory. */
extern const char *binary;
extern char tmpdir[4096];

/* main's start: binary from argv[1], the working directory
 * $INGESTCHECK_SOURCE_DIR when set; -1 (after a message) on bad usage. */
int suite_main_init(int argc, char **argv);

/* ---- files ---- */

/* The whole file, NUL-terminated (caller frees); NULL when unreadable. */
char *slurp(const char *path);
/* tmpdir/name into out. */
void path_in_tmp(char *out, size_t cap, const char *name);
/* Creates tmpdir ("$TMPDIR/ingestcheck-NAME-XXXXXX"); 0 on success. */
int suite_tmp_setup(const char *name);
/* Removes tmpdir, unless INGESTCHECK_KEEP_TMP is set (then says where). */
void suite_tmp_teardown(void);

/* ---- child processes ---- */

/* In a child: never outlive the test. */
void child_common(void);
/* CLOCK_MONOTONIC in milliseconds. */
long now_ms(void);
/* Waits for pid, killing it past the deadline (then fails). Returns the
 * exit code, or 128 + signal. */
int wait_child(pid_t pid, long deadline_ms);
/* Starts `ingestcheck ARGS...` (NULL-terminated) with stdout and stderr to
 * files; returns its pid. */
pid_t spawn_ingestcheck(const char *const *args, const char *out_path, const char *err_path);
/* The same, waiting (CHILD_DEADLINE_MS); returns the exit code. */
int run_ingestcheck(const char *const *args, const char *out_path, const char *err_path);

/* ---- results.json ---- */

/* reports/name (a JSON report) parsed (caller frees); fails when absent. */
cJSON *load_report(const char *reports, const char *name);
/* reports/results.json parsed (caller frees); fails when absent. */
cJSON *load_results(const char *reports);
const cJSON *get(const cJSON *o, const char *k);
/* A string member, or NULL. */
const char *str(const cJSON *o, const char *k);
/* A number member, or -1. */
double num(const cJSON *o, const char *k);

/* ---- comparing two runs ---- */

/* What legitimately varies between two runs of the suite, normalised. */
struct norm {
    regex_t host, date, uuid, time_attr;
    char **uuids; /* first-seen order within one document */
    size_t nuuids;
};

void norm_init(struct norm *n);
/* Forgets the UUID numbering (call between documents). */
void norm_reset(struct norm *n);
void norm_finish(struct norm *n);
/* Each takes s (freed) and returns the normalised text (caller frees). */
char *normalise_text(struct norm *n, char *s);
char *normalise_console(struct norm *n, char *s);
char *normalise_junit(struct norm *n, char *s);
/* Normalises a results.json tree in place. */
void normalise_json(struct norm *n, cJSON *node);
/* Fails with the first difference of two normalised texts, labelled la
 * and lb ("-j 1", "4 shards merged"). */
void assert_same(const char *what, const char *la, const char *a, const char *lb, const char *b);
/* junit.xml and results.json of the report directories ra and rb are the
 * same once normalised. */
void assert_same_reports(const char *la, const char *ra, const char *lb, const char *rb);

#endif
