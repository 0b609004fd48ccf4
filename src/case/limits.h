/* Named caps of the case module. */
#ifndef INGESTCHECK_CASE_LIMITS_H
#define INGESTCHECK_CASE_LIMITS_H

/* One case file (YAML). */
#define CASE_CAP_FILE_SIZE (1u * 1024u * 1024u)
/* Case files loaded in one suite. */
#define CASE_CAP_FILES 4096
/* Threads loading the files of a suite (at most one per CPU). */
#define CASE_LOAD_THREADS 8
/* Cases in one file, steps (or teardown steps) in one case. */
#define CASE_CAP_CASES_PER_FILE 1000
#define CASE_CAP_STEPS 500
/* Captures of one step, statuses of one expectation. */
#define CASE_CAP_CAPTURES 64
#define CASE_CAP_STATUSES 32
/* Entries of one ignore_query or ignore_body list of a cassette: block. */
#define CASE_CAP_MATCH_IGNORES 64
/* A string after template expansion. */
#define CASE_CAP_EXPANDED (4u * 1024u * 1024u)
/* Largest shift of {{now - N<unit>}}: 1000 years either way keeps the
 * time an RFC 3339 one (years 0000-9999). */
#define CASE_CAP_NOW_SHIFT_S (1000LL * 366LL * 86400LL)
/* Elements a $regex may expand to: glibc's regcomp copies the atom of
 * every {m,n} max(m, n) times (nested ones multiply) and takes time
 * quadratic in the copies: 2000 compile in about 25 ms, 125000 take
 * minutes. */
#define CASE_CAP_REGEX_NODES 2000
/* Variables of one case (vars plus captures). */
#define CASE_CAP_VARIABLES 1024
/* Polling: longest timeout and smallest interval accepted. */
#define CASE_CAP_POLL_TIMEOUT_MS (30L * 60L * 1000L)
#define CASE_MIN_POLL_INTERVAL_MS 10L
/* Polling defaults. */
#define CASE_DEFAULT_POLL_INTERVAL_MS 500L
#define CASE_DEFAULT_POLL_TIMEOUT_MS 30000L

#endif
