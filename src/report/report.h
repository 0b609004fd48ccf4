/* Reports of a run: console text (built into buffers; only cli/ prints),
 * JUnit XML and results.json, written atomically into a directory.
 *
 * Every output is a function of the results in plan order, so a run gives
 * the same text whatever its -j, timings aside (and console timings are
 * only shown when asked). Results are already redacted (see run.h). */
#ifndef INGESTCHECK_REPORT_REPORT_H
#define INGESTCHECK_REPORT_REPORT_H

#include "case/limits.h"
#include "run/run.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/error.h"
#include "util/file.h"

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
    bool verbose; /* every spec gap on a line of its own */
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
 * cases), one line per status ("spec gap: 404 undocumented on 20
 * operations (31 responses; ...)"), or with o->verbose one line per gap,
 * and the summary line. */
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
 * dir); results.json ends with its digest (see below). When one cannot be
 * written, neither is left in dir: no report of an earlier run can pass
 * for this one's. */
int report_write(const char *dir, const struct run_results *r, struct util_error *err);

/* ---- the digest of results.json (digest.c) ----
 *
 * report_write ends results.json with a member "digest": "sha256:<64
 * lower-case hex digits>", the SHA-256 of the file's bytes with those 64
 * digits read as '0'. merge refuses a results.json whose digest is missing
 * or does not match: a check against accidental edits and corruption, not
 * authentication. Anyone can recompute a plain digest; a keyed one (HMAC)
 * would need a secret shared by the shard jobs and the merge job, which
 * ingestcheck does not have (a key in the binary or the repository is no
 * secret). */
#define REPORT_DIGEST_MEMBER "digest"
#define REPORT_DIGEST_PREFIX "sha256:"
/* 64 hex digits and a NUL. */
#define REPORT_DIGEST_HEX_SIZE 65

/* The offset of the 64 hex digits of the "sha256:..." string that ends
 * text (its last member, before the closing brace and white space); SIZE_MAX
 * when text does not end so. */
size_t report_digest_find(const char *text, size_t len);

/* The digest (lower-case hex) of the n parts taken as one text, the 64
 * bytes at offset at of that text read as '0' (at SIZE_MAX: none). */
void report_digest_compute(const struct util_file_part *parts, size_t n, size_t at,
                           char hex[REPORT_DIGEST_HEX_SIZE]);

/* Writes the digest of text into its last member (see report_digest_find),
 * for a results.json changed on purpose (tests). False when text does not
 * end with one. */
bool report_digest_seal(char *text, size_t len);

/* Checks that doc, parsed from text, ends with the digest of text.
 * UTIL_ERR_INVALID with a one-line reason: no digest (an older version),
 * a digest not where ingestcheck writes it, or one that does not match. */
int report_digest_verify(const char *text, size_t len, const cJSON *doc, struct util_error *err);

/* ---- reading back and merging (merge.c) ---- */

/* The file merge reads. */
#define REPORT_CAP_RESULTS_FILE UTIL_CAP_JSON_DOCUMENT
/* Bytes of a name (case, step, tag, check, method, case file path): a name
 * comes from a case file, and is no longer than case files are. */
#define REPORT_CAP_NAME CASE_CAP_FILE_SIZE
/* Bytes of any other string (messages, URLs, quoted values, bodies kept
 * as text): a template expansion at most, each byte of which may come back
 * as a 3-byte U+FFFD. */
#define REPORT_CAP_TEXT (4u * CASE_CAP_EXPANDED)
/* Cases of one plan, steps (with teardown steps) of one case, cassettes
 * (one per case file). */
#define REPORT_CAP_CASES ((size_t)CASE_CAP_FILES * CASE_CAP_CASES_PER_FILE)
#define REPORT_CAP_STEPS (2u * CASE_CAP_STEPS)
#define REPORT_CAP_CASSETTES CASE_CAP_FILES

/* What report_results_from_json accepts (smaller ones let a fuzzer reach
 * every cap). */
struct report_read_caps {
    size_t name, text, cases, steps, cassettes;
};

/* The REPORT_CAP_* values. */
extern const struct report_read_caps report_read_caps_default;

/* Reads a results.json document, as report_results_json writes it, back
 * into out (initialised, empty; run_results_finish frees it on failure
 * too): report_results_json(out) gives the same document. The totals are
 * recomputed from the cases. UTIL_ERR_INVALID naming the JSON Pointer of
 * the first member of the wrong type, UTIL_ERR_LIMIT of the first string
 * or list over its cap in caps (NULL: report_read_caps_default). The
 * digest is not checked here (report_results_read_text does). */
int report_results_from_json(const cJSON *doc, const struct report_read_caps *caps,
                             struct run_results *out, struct util_error *err);

/* Parses len bytes of text (a results.json, called name in messages),
 * checks its digest and reads it as report_results_from_json does. */
int report_results_read_text(const char *text, size_t len, const char *name,
                             const struct report_read_caps *caps, struct run_results *out,
                             struct util_error *err);

/* Reads dir/results.json (at most REPORT_CAP_RESULTS_FILE bytes) into out
 * as report_results_read_text does; err names the file. */
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
