/* Reports of a run: console text (built into buffers; only cli/ prints),
 * JUnit XML and results.json, written atomically into a directory.
 *
 * Every output is a function of the results in plan order, so a run gives
 * the same text whatever its -j, timings aside (and console timings are
 * only shown when asked). Results are already redacted (see run.h). */
#ifndef INGESTCHECK_REPORT_REPORT_H
#define INGESTCHECK_REPORT_REPORT_H

#include "run/run.h"
#include "util/buf.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Bytes of a report built in memory. */
#define REPORT_CAP_SIZE (512u * 1024u * 1024u)
/* Characters of a body quoted in console failure details. */
#define REPORT_CAP_BODY_QUOTE 400
/* Failed checks listed per step on the console. */
#define REPORT_CAP_CONSOLE_CHECKS 10

struct report_console_options {
    bool color;   /* ANSI colours */
    bool timings; /* append durations */
};

/* Appends one line (with '\n') for a finished case:
 * "PASS  name (file:line)", "FAIL ...", "SKIP ...", "ERROR ...", with
 * ", N spec gaps" when the case accepted undocumented statuses. */
int report_console_case(struct util_buf *b, const struct run_case_result *r,
                        const struct report_console_options *o);

/* Appends the details of a case that did not pass: per failed step its
 * file:line, the request, the response status and each failed check with
 * its JSON Pointer, expected and actual. Nothing for a passed case. */
int report_console_failure(struct util_buf *b, const struct run_case_result *r,
                           const struct report_console_options *o);

/* Appends the spec gaps of the run (undocumented statuses accepted by
 * cases), one line each, and the summary line. */
int report_console_summary(struct util_buf *b, const struct run_results *r,
                           const struct report_console_options *o);

/* Appends a progress line for a terminal: "\r[12/40] name" padded, no
 * newline. */
int report_console_progress(struct util_buf *b, size_t done, size_t total, const char *name);

/* Appends the JUnit XML document (one testsuite per case file, one testcase
 * per case; failures carry message, type = the first failed check, and the
 * details as text). */
int report_junit(struct util_buf *b, const struct run_results *r);

/* Builds results.json: every case, step, request, response, check and
 * timing. *out is a new tree (caller frees). */
int report_results_json(const struct run_results *r, cJSON **out, struct util_error *err);

/* Writes dir/junit.xml and dir/results.json, each atomically (creating
 * dir). When one cannot be written, neither is left in dir: no report of
 * an earlier run can pass for this one's. */
int report_write(const char *dir, const struct run_results *r, struct util_error *err);

/* ---- reading back and merging (merge.c) ---- */

/* Reads a results.json document, as report_results_json writes it, back
 * into out (initialised, empty; run_results_finish frees it on failure
 * too): report_results_json(out) gives the same document. The totals are
 * recomputed from the cases. UTIL_ERR_INVALID naming the JSON Pointer of
 * the first member of the wrong type. */
int report_results_from_json(const cJSON *doc, struct run_results *out, struct util_error *err);

/* Reads dir/results.json into out as report_results_from_json does; err
 * names the file. */
int report_read(const char *dir, struct run_results *out, struct util_error *err);

/* Merges the results of the n shards of one run (--shard K/N, K = 1..N,
 * each exactly once, in any order) into out (initialised, empty): every
 * case at its position in the whole plan, so the reports are those a
 * single run would write, timings aside. The cases are moved out of in
 * (left with none); run_id and base_url are those of the lowest-numbered
 * shard that ran cases, elapsed_ms the longest shard's, totals recomputed.
 * On UTIL_ERR_INVALID (not the shards of one plan) *culprit is the index
 * in in of the offending input, or SIZE_MAX when the set as a whole is
 * wrong (a shard missing). */
int report_merge(struct run_results *in, size_t n, struct run_results *out, size_t *culprit,
                 struct util_error *err);

#endif
