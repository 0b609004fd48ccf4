/* The runner: selects cases into a plan, executes the plan against a
 * target through a transport, and collects results.
 *
 * Data flow: case -> request (templates expanded, parameters serialized as
 * the operation says) -> transport -> response -> contract checks (always)
 * -> until: polling -> expectations -> captures -> a step result. A case
 * stops at its first failed step; its teardown steps always run (a teardown
 * step whose variables were never captured is skipped).
 *
 * With jobs > 1 the cases run on worker threads, each with its own
 * transport and variables; results sit at their plan index and on_case_done
 * is called in plan order, so every output is the same whatever jobs is,
 * timings aside.
 *
 * Secrets never reach a result: secret headers and body fields are masked,
 * and the literal values of the API key and of every secret field sent are
 * scrubbed from every stored text. */
#ifndef INGESTCHECK_RUN_RUN_H
#define INGESTCHECK_RUN_RUN_H

#include "case/case.h"
#include "case/template.h"
#include "check/check.h"
#include "http/http.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Response body text kept in a step result; longer bodies are cut. */
#define RUN_CAP_STORED_BODY (64u * 1024u)
/* Worker threads. */
#define RUN_CAP_JOBS 64
/* A request URL. */
#define RUN_CAP_URL (64u * 1024u)
/* Shards of a plan (--shard K/N). */
#define RUN_CAP_SHARDS 1024

/* ---- selection and plan ---- */

/* Every list may be empty. A case is selected when it has one of tags (or
 * tags is empty), none of exclude_tags, its name matches one of the case
 * globs (fnmatch) and one of its steps or teardown steps uses one of
 * operations. */
struct run_selection {
    const char *const *tags;
    size_t ntags;
    const char *const *exclude_tags;
    size_t nexclude_tags;
    const char *const *case_globs;
    size_t ncase_globs;
    const char *const *operations;
    size_t noperations;
    /* Plan the cases tagged RUN_TAG_MOCK as skipped (RUN_SKIP_MOCK_ONLY):
     * against a live target, where only the embedded mock meets them. */
    bool skip_mock;
};

/* The tag of cases whose expectations only the embedded mock meets, and
 * the message of such a case skipped against a live target. */
#define RUN_TAG_MOCK "mock"
#define RUN_SKIP_MOCK_ONLY "mock-only"

bool run_case_selected(const struct case_case *k, const struct run_selection *sel);

/* The cases to run, in suite order (file order, then case order). */
struct run_plan {
    const struct case_case **cases; /* owned array; cases borrowed from the suite */
    size_t count;
    bool *mock_only; /* owned, one per case: planned as skipped (selection skip_mock) */
    size_t planned;  /* cases of the whole plan (before sharding) */
    size_t *indexes; /* owned; after run_plan_shard, each case's position in
                        the whole plan; NULL when not sharded */
    unsigned shard;  /* 1-based shard kept, 0 when not sharded */
    unsigned shards; /* number of shards, 0 when not sharded */
    /* After run_plan_shard: a fingerprint of the whole plan (its cases'
     * names and the base names of their files, in order), 16 hex digits; "" when not sharded. The
     * shards of one run share it; merge refuses shards of other plans. */
    char plan_id[17];
};

void run_plan_init(struct run_plan *p);
void run_plan_finish(struct run_plan *p);
/* Fills p (initialised, empty) with the selected cases of s. */
int run_plan_build(const struct case_suite *s, const struct run_selection *sel, struct run_plan *p,
                   struct util_error *err);

/* Keeps in p (built, not yet sharded) only the cases of shard k of n
 * (1 <= k <= n <= RUN_CAP_SHARDS). The partition is longest processing time
 * first: cases are taken by decreasing cost (costs[i] is the cost of
 * p->cases[i], e.g. a recorded duration; NULL: every case costs 1), ties
 * broken by case name, then file, then plan position, and each goes to the
 * shard with the least total cost so far (the lowest-numbered on a tie).
 * It depends only on the plan, the costs and n, so the n shards of one
 * plan hold every case exactly once. The kept cases stay in plan order;
 * p->indexes holds their positions in the whole plan. A shard may be empty
 * (n above the number of cases). UTIL_ERR_USAGE for a bad k, n or cost. */
int run_plan_shard(struct run_plan *p, unsigned k, unsigned n, const double *costs,
                   struct util_error *err);

/* ---- results ---- */

enum run_outcome {
    RUN_PASSED = 0,
    RUN_FAILED,
    RUN_SKIPPED,
    RUN_ERROR, /* the target could not be reached (name, connection, TLS) */
};

/* "passed", "failed", "skipped", "error". */
const char *run_outcome_name(enum run_outcome o);

/* One request/response exchange (the last one when polling). Every
 * pointer is owned by the result; texts are redacted. */
struct run_step_result {
    char *name;
    bool teardown;
    size_t index;       /* in steps or teardown */
    int line;           /* of the step in the case file */
    char *operation_id; /* declared or matched; NULL when none */
    char *method;       /* NULL when the request could not be built */
    char *url;
    cJSON *request_headers;  /* object name -> value */
    cJSON *params;           /* {"path": {...}, "query": {...}} as sent (expanded) */
    cJSON *request_body;     /* the JSON body sent, or NULL */
    char *request_body_raw;  /* a body_raw sent, or NULL */
    int status;              /* 0 when no response */
    cJSON *response_headers; /* object, or NULL */
    char *content_type;      /* or NULL */
    cJSON *response_body;    /* parsed JSON body, or NULL */
    char *response_text;     /* body text when not JSON (cut at RUN_CAP_STORED_BODY) */
    double elapsed_ms;       /* all attempts */
    unsigned attempts;
    unsigned retries;     /* requests repeated after a 429 or 503 (run_config) */
    double waited_ms;     /* between polling attempts (until:), on either clock */
    enum run_outcome outcome;
    char *message; /* why it failed or was skipped; NULL when passed */
    struct check_list checks;
};

struct run_case_result {
    char *name;
    char *file;
    int line;
    char **tags;
    size_t ntags;
    size_t index; /* in the whole plan (a shard's cases keep their positions) */
    enum run_outcome outcome;
    char *message;    /* first failure, one line; NULL when passed */
    bool interrupted; /* cfg->interrupt cut it short or kept it from running */
    double elapsed_ms;
    size_t gaps;                   /* checks with CHECK_GAP */
    struct run_step_result *steps; /* steps then teardown, in order run */
    size_t nsteps;
};

/* A cassette the run recorded to or replayed from (run/cassettes.h). */
struct run_cassette_file {
    char *path;
    char *spec_sha256; /* the spec it was recorded against; NULL when unknown */
    bool spec_changed; /* both known and different from today's */
    size_t replayed, recorded;
    bool written;
};

/* An operation the cases name by an id the loaded spec calls otherwise
 * (case_suite_renames). All owned. */
struct run_renamed {
    char *declared_id, *operation_id, *method, *path;
};

struct run_results {
    struct run_case_result *cases; /* plan order */
    size_t count;
    size_t planned;         /* cases of the whole plan (more than count in a shard) */
    unsigned shard, shards; /* the plan's shard (1-based) and shards; 0 when not sharded */
    char plan_id[17];       /* run_plan.plan_id; "" when not sharded (or unknown) */
    char *run_id;
    char *base_url;
    double elapsed_ms;
    unsigned jobs;
    size_t passed, failed, skipped, errors, gaps, checks;
    /* Where the time went: waiting for the target to answer (inside the
     * transport) and sleeping between polls, summed over the workers, and
     * how far polling moved the target's clock (run_config.clock). */
    double transport_ms, poll_sleep_ms, clock_advanced_ms;
    size_t retries;    /* requests repeated after a 429, or a 503 with Retry-After */
    long requests;     /* requests sent, retries included */
    bool budget_spent; /* run_config.max_requests stopped the run */
    bool target_error; /* a target error stopped the run */
    bool interrupted;  /* cfg->interrupt stopped the run */
    char target_message[UTIL_ERROR_MESSAGE_MAX];
    /* Cassettes (none when ncassettes is 0): the record mode, today's spec
     * SHA-256 (NULL when unknown), the files in plan order. All owned. */
    char *cassette_mode;
    char *spec_sha256;
    struct run_cassette_file *cassettes;
    size_t ncassettes;
    /* The spec the responses were checked against (its info.title,
     * info.version, SHA-256), set by the caller; NULL when unknown. */
    char *spec_title, *spec_version, *spec_hash;
    /* The renamed operations (set by the caller), in order of first use. */
    struct run_renamed *renamed;
    size_t nrenamed;
};

void run_results_init(struct run_results *r);
void run_results_finish(struct run_results *r);
/* Recomputes the totals (passed, failed, skipped, errors, gaps, checks)
 * from the cases. */
void run_results_tally(struct run_results *r);
/* The cases an interrupt (SIGINT) kept from running or cut short. */
size_t run_results_cut_count(const struct run_results *r);

/* ---- execution ---- */

/* Creates the transport of one worker; NULL on failure with err set. */
typedef struct http_transport *(*run_transport_create_fn)(void *user, struct util_error *err);

/* Optional hooks for transports that record or replay (cassettes). They
 * run on worker threads (one case stays on one thread); any may be NULL. */
struct run_hooks {
    /* Before a case: the transport for it (the worker's, a wrapper of it,
     * or another). NULL with err set stops the run as a local failure. */
    struct http_transport *(*case_begin)(void *user, const struct case_case *k,
                                         struct http_transport *worker, struct util_error *err);
    /* After the case, with the transport case_begin gave (the runner does
     * not destroy it); called whenever case_begin succeeded, even when the
     * case stopped on a local failure. A non-zero return stops the run as a
     * local failure. */
    int (*case_end)(void *user, const struct case_case *k, struct http_transport *t,
                    const struct run_case_result *r, struct util_error *err);
    /* Before each request of a step (labels a recording). */
    void (*step_begin)(void *user, struct http_transport *t, const struct case_case *k,
                       const struct case_step *s);
    /* Whether polling may skip its waits (a replay answers at once). */
    bool (*skip_wait)(void *user, const struct http_transport *t);
    /* A secret the case learned (a capture of the member named member of
     * a response), to be redacted from what t records; may be NULL. */
    void (*secret)(void *user, struct http_transport *t, const char *value, const char *member);
    void *user;
};

/* A target whose clock the runner may move (the embedded mock). With one,
 * polling does not sleep on the wall clock: an until: interval elapses on
 * the target's clock, which the runner moves forward instead (fake timers).
 * With several workers, time passes only when no worker has anything else
 * to do: a waiting worker blocks until every other one waits too or has
 * finished, then the clock moves to the earliest wake-up and the workers due
 * go on, so no case sees the clock jump between two of its requests because
 * another case polled. A worker never blocks longer than its interval on the
 * wall clock (the others stayed busy): the interval has then elapsed on the
 * wall clock instead, and the target's clock is not moved for it. */
struct run_clock {
    /* Moves the target's clock forward by ms (> 0) and returns how far it
     * moved (0 when the target keeps its own time, as a seeded mock does);
     * called under the runner's lock, never concurrently. */
    long (*advance)(void *user, long ms);
    void *user;
};

struct run_config {
    const char *base_url; /* "http://127.0.0.1:8080"; a trailing '/' is dropped */
    const char *app_id;   /* sent as x-algolia-application-id; may be NULL */
    const char *api_key;  /* sent as x-algolia-api-key; may be NULL */
    /* "user:password" sent as HTTP basic authentication (the userinfo of a
     * --base-url, which is never written anywhere); may be NULL. A
     * base_url holding userinfo is used without it, and its userinfo is
     * used when this is NULL. */
    const char *userinfo;
    const char *run_id; /* NULL: generated ("ic-" and 10 hex digits) */
    unsigned jobs;      /* 0 or 1: sequential; capped at RUN_CAP_JOBS */
    run_transport_create_fn transport_create;
    void *transport_user;
    const struct check_contract *contract;
    const struct case_template_hooks *hooks; /* may be NULL */
    const struct run_hooks *run_hooks;       /* may be NULL */
    const struct run_clock *clock;           /* NULL: polls sleep on the wall clock */
    /* Requests per second across every worker (retries included); 0: no
     * cap. */
    double rate;
    /* The request budget (retries included; 0: none). When it is spent no
     * request is sent any more but teardown's: the step and its case are
     * skipped ("not sent: the request budget is spent"), no case starts
     * any more, and results.budget_spent is set. */
    long max_requests;
    /* Variables from outside the case files (--var, --vars): an object of
     * names to scalars, set in every case before its vars:, whose entries of
     * the same names they override (they are defaults); captures override
     * them in turn. Borrowed; may be NULL. */
    const cJSON *vars;
    /* More JSON member names whose values are secrets (--redact), besides
     * check_secret_field's; borrowed, may be empty. */
    const char *const *secret_fields;
    size_t nsecret_fields;
    /* Set to non-zero (by a signal handler) to stop early: no case starts
     * any more (each is "not run: interrupted"), a running case stops
     * before its next step or polling attempt (its teardown still runs)
     * and is skipped as interrupted unless a step already failed. May be
     * NULL. */
    const volatile sig_atomic_t *interrupt;
    /* Called once per case, in plan order, never concurrently; may be NULL. */
    void (*on_case_done)(const struct run_case_result *r, size_t total, void *user);
    void *user;
};

/* Runs every case of plan; out (initialised) receives one result per case
 * in plan order. Returns UTIL_OK when the run was carried out, whatever the
 * checks said (see out->failed, out->target_error); an error code only for
 * local failures (out of memory, a transport that cannot be created). */
int run_execute(const struct run_config *cfg, const struct run_plan *plan, struct run_results *out,
                struct util_error *err);

/* ---- variables from outside the case files ---- */

/* Variables given (--var, --vars). */
#define RUN_CAP_VARS 1024
/* A variable's name, and a string value, in bytes. */
#define RUN_CAP_VAR_NAME 128
#define RUN_CAP_VAR_VALUE (64u * 1024u)
/* A vars file. */
#define RUN_CAP_VARS_FILE (1024u * 1024u)

/* Sets the variable of "NAME=VALUE" (VALUE a string, may be empty) in vars
 * (a JSON object; a name given before is replaced). A bad name, or a value
 * with CR, LF, NUL or another control character but tab (as a case's
 * header), is UTIL_ERR_USAGE with err saying which. */
int run_vars_assign(cJSON *vars, const char *assignment, struct util_error *err);
/* Sets the variables of a vars file (len bytes of YAML: a mapping of
 * names to strings, numbers or booleans; name is used in messages) in vars,
 * each replacing one given before. Errors say name:line:column. */
int run_vars_parse(cJSON *vars, const char *text, size_t len, const char *name,
                   struct util_error *err);
/* Reads path (capped at RUN_CAP_VARS_FILE) and parses it. */
int run_vars_load_file(cJSON *vars, const char *path, struct util_error *err);

/* A fresh run identifier, "ic-" and 10 hex digits, in out. */
void run_make_id(char out[16]);

#endif
