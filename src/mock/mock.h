/* The embedded mock of the Ingestion API: a stateful store that answers
 * every operation of schemas/operations.json (any revision of the spec)
 * like the real service, plus an HTTP server (libmicrohttpd, server.c
 * only) around it.
 *
 * Request handling is independent of any socket: mock_handle() takes a
 * plain struct mock_request and fills a struct mock_response, so tests and
 * fuzz targets drive it directly. The server only moves bytes.
 *
 * Thread safety: mock_handle() may be called from any thread; the store is
 * behind one mutex. */
#ifndef INGESTCHECK_MOCK_MOCK_H
#define INGESTCHECK_MOCK_MOCK_H

#include "util/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Planted faults (--violate CLASS[:operationId]). */
enum mock_fault {
    MOCK_FAULT_MISSING_REQUIRED = 0, /* a required property is removed */
    MOCK_FAULT_WRONG_TYPE,           /* a required property gets a value of another type */
    MOCK_FAULT_BAD_ENUM,             /* an enum-typed property gets a value outside the enum */
    MOCK_FAULT_EXTRA_PROPERTY,       /* a property the schema forbids is added */
    MOCK_FAULT_UNDOCUMENTED_STATUS,  /* 202 instead of 200 */
    MOCK_FAULT_WRONG_CONTENT_TYPE,   /* text/plain instead of application/json */
    MOCK_FAULT_MALFORMED_JSON,       /* the body is cut before its last byte */
    MOCK_FAULT_SLOW,                 /* the answer waits slow_ms */
    MOCK_FAULT_DROP_CONNECTION,      /* the connection closes mid-body */
    MOCK_FAULT_COUNT
};

/* "missing-required", ...; NULL past the range. */
const char *mock_fault_name(enum mock_fault f);

struct openapi_source;

struct mock_violation {
    enum mock_fault fault;
    char operation[128]; /* operationId, "" for every operation */
};

/* Parses "CLASS[:operationId]". The operationId is checked later, by
 * mock_api_create, against the spec. */
int mock_violation_parse(const char *text, struct mock_violation *out, struct util_error *err);

/* How runs end (--run-outcome). */
enum mock_run_outcome {
    MOCK_RUN_SUCCESS = 0, /* every run finishes with outcome success */
    MOCK_RUN_FAILURE,     /* every run finishes with outcome failure */
    MOCK_RUN_RANDOM       /* each run draws one of the two */
};

/* Resources created at start (--preload kind=N,...), named so that no
 * case's names match ("preloaded ..."). */
struct mock_preload {
    size_t authentications, sources, destinations, tasks, runs;
};

/* Parsers of the options that vary conforming behaviour (vary.c); each
 * fills its outputs only on success, else sets err (UTIL_ERR_USAGE) with
 * a message that names the option. */
/* "MS" or "MS:JITTER", both 0..MOCK_CAP_LATENCY_MS. */
int mock_latency_parse(const char *text, long *ms, long *jitter, struct util_error *err);
/* "[+|-]N[ms|s|m|h|d]" (a bare N is milliseconds), within ten years. */
int mock_offset_parse(const char *text, int64_t *ms, struct util_error *err);
/* "success", "failure" or "random". */
int mock_outcome_parse(const char *text, enum mock_run_outcome *out, struct util_error *err);
/* "N" or "MIN:MAX", 0 <= MIN <= MAX <= MOCK_CAP_RUN_EVENTS. */
int mock_events_parse(const char *text, int *min, int *max, struct util_error *err);
/* "kind=N[,kind=N]..." with the kinds of struct mock_preload, each at most
 * once, N at most MOCK_CAP_PRELOAD; kinds not named are 0. */
int mock_preload_parse(const char *text, struct mock_preload *out, struct util_error *err);

struct mock_options {
    /* The derived schemas (spec/source.h; must outlive the mock), else the
     * directory schemas_dir holding operations.json and components/. */
    const struct openapi_source *source;
    const char *schemas_dir;
    const char *app_id;  /* NULL: generated (see mock_api_app_id) */
    const char *api_key; /* NULL: generated */
    bool seeded;         /* --seed given: IDs, timestamps and generated
                            credentials derive from seed and a logical clock */
    uint64_t seed;
    size_t max_body;   /* request body cap; 0: MOCK_DEFAULT_MAX_BODY */
    long slow_ms;      /* delay of the slow fault; 0: MOCK_DEFAULT_SLOW_MS */
    long run_stage_ms; /* time a run spends in each stage (created, started,
                          ...); 0: 2000 ms of the logical clock when seeded
                          (one request = 1000 ms), 100 ms of real time else */
    const struct mock_violation *violations;
    size_t nviolations;
    size_t preload_tasks;        /* create this many tasks (and 10 sources, 10
                                    destinations, 1 authentication) at start */
    struct mock_preload preload; /* when any count is set: these instead
                                    (tasks add a source and a destination
                                    when none, runs a task) */
    /* Conforming variations (the conformance matrix): */
    long latency_ms;                    /* every answer waits this long ... */
    long latency_jitter_ms;             /* ... plus or minus up to this, drawn
                                           from the mock's RNG (seeded: reproducible) */
    int64_t clock_offset_ms;            /* the clock is the real (or logical) one plus this */
    enum mock_run_outcome run_outcome;  /* how runs end */
    bool run_events_set;                /* else task runs publish 4 events */
    int run_events_min, run_events_max; /* events a task run publishes, drawn per run */
    /* Server only (mock_server_create): */
    const char *host;              /* NULL: 127.0.0.1 */
    unsigned port;                 /* 0: ephemeral */
    unsigned connection_limit;     /* 0: MOCK_DEFAULT_CONNECTION_LIMIT */
    unsigned connection_timeout_s; /* 0: MOCK_DEFAULT_CONNECTION_TIMEOUT_S */
    size_t connection_memory;      /* 0: MOCK_DEFAULT_CONNECTION_MEMORY */
};

/* One decoded query argument; value NULL for "?flag" without '='. */
struct mock_query_arg {
    const char *key;
    const char *value;
};

/* A request as the server received it. Every pointer is borrowed. */
struct mock_request {
    const char *method;                /* "GET" */
    const char *path;                  /* decoded path without the query: "/1/tasks/abc" */
    const struct mock_query_arg *args; /* decoded, in order, repeats kept */
    size_t nargs;
    const char *app_id;       /* x-algolia-application-id or NULL */
    const char *api_key;      /* x-algolia-api-key or NULL */
    const char *content_type; /* Content-Type or NULL */
    const char *body;         /* may be NULL when body_len is 0; need not be NUL-terminated */
    size_t body_len;
    bool body_too_large; /* the server stopped reading past max_body */
};

struct mock_response {
    int status;
    const char *content_type; /* static string */
    char *body;               /* owned (free()), NUL-terminated */
    size_t body_len;
    long delay_ms; /* answer only after this delay (slow fault, latency) */
    bool drop;     /* send about half the body, then close (drop fault) */
};

void mock_response_init(struct mock_response *r);
void mock_response_finish(struct mock_response *r);

struct mock_api;

/* Loads schemas_dir/operations.json, compiles its schemas with the schema
 * engine, checks the violations and fills the store (preload). NULL on
 * failure with err set. The caller owns the result (mock_api_destroy). */
struct mock_api *mock_api_create(const struct mock_options *opts, struct util_error *err);
/* Accepts NULL. */
void mock_api_destroy(struct mock_api *api);

/* The credentials the API accepts; borrowed, valid while api lives. */
const char *mock_api_app_id(const struct mock_api *api);
const char *mock_api_api_key(const struct mock_api *api);
/* Whether the credentials were generated rather than given. */
bool mock_api_credentials_generated(const struct mock_api *api);
/* Request body cap in bytes. */
size_t mock_api_max_body(const struct mock_api *api);

/* Moves the API's clock forward by ms, as fake timers do: timestamps, run
 * progress and cache expiry see the time pass at once; the clock is then
 * the real clock plus every advance so far. A seeded API ignores advances:
 * its logical clock moves one step per request and nothing else, so its
 * state is a function of the requests it received. Returns the ms the
 * clock moved (0 when seeded or ms <= 0). The runner calls this instead of
 * sleeping between polls of the embedded mock. */
int64_t mock_api_advance_clock(struct mock_api *api, int64_t ms);

/* Answers one request: never fails, never crashes on any input; a local
 * failure (out of memory) answers 500. resp must be initialised; its
 * previous content is released. */
void mock_handle(struct mock_api *api, const struct mock_request *req, struct mock_response *resp);

/* Empties the store and, for a seeded API, restarts its logical clock and
 * its ID generator from seed, so that the same requests get the same
 * answers again: for fuzz targets and tests, which would otherwise pay
 * mock_api_create (the compilation of every schema) per input. Requests
 * must not be in flight. UTIL_ERR_NOMEM leaves an API that may only be
 * destroyed. */
int mock_api_reset(struct mock_api *api, uint64_t seed);

/* Splits a raw query string ("a=1&b=x%2Cy") in place: percent-decodes keys
 * and values, '+' as space, fills at most max args and sets *n. For tests
 * and fuzz targets (the server gets decoded arguments from its library). */
/* Percent-decodes s in place (with plus, '+' is a space, as in a query):
 * %XX is the byte, and %00 is JSON_NUL, so that a NUL neither cuts the
 * text nor is lost. Returns the new length. */
size_t mock_unescape(char *s, bool plus);

void mock_query_split(char *query, struct mock_query_arg *args, size_t max, size_t *n);

/* The operations served, in the loaded spec's order. An operation is
 * modelled when a resource model (authentications, sources, destinations,
 * tasks, runs and events under /1/) has its method and path template:
 * stateful, answers made to conform to the spec. Every other operation is
 * generated: its request is validated the same way, its answer is the
 * documented 2xx built from the spec's schema. */
struct mock_operation_info {
    const char *operation_id, *method, *path; /* borrowed */
    bool modelled;
};
size_t mock_api_operation_count(const struct mock_api *api);
size_t mock_api_modelled_count(const struct mock_api *api);
/* Fills out for operation i (< mock_api_operation_count). */
void mock_api_operation_at(const struct mock_api *api, size_t i, struct mock_operation_info *out);

/* Total resources held by kind, for tests and benches. */
struct mock_counts {
    size_t authentications, sources, destinations, tasks, runs;
};
void mock_api_counts(struct mock_api *api, struct mock_counts *out);
/* How many answers were the mock's own failures (status 5xx: out of memory
 * or another internal error): the checks of those requests say nothing of
 * the contract. */
size_t mock_api_internal_errors(const struct mock_api *api);

/* ---- the HTTP server ---- */

struct mock_server;

/* Creates the API (mock_api_create) and starts serving it on opts->host
 * (127.0.0.1 when NULL) and opts->port (0: ephemeral) in background threads.
 * NULL on failure with err set. */
struct mock_server *mock_server_create(const struct mock_options *opts, struct util_error *err);
/* Base URL, "http://127.0.0.1:40123" (borrowed). */
const char *mock_server_url(const struct mock_server *s);
unsigned mock_server_port(const struct mock_server *s);
/* The API behind the server (borrowed). */
struct mock_api *mock_server_api(struct mock_server *s);
/* The mock's own failures so far: answers of status 5xx
 * (mock_api_internal_errors) and connections libmicrohttpd dropped or
 * refused for want of memory or threads. 0 for NULL. */
size_t mock_server_failures(const struct mock_server *s);
/* Stops serving (waits for connection threads, cuts short slow answers) and
 * frees everything. Accepts NULL. */
void mock_server_destroy(struct mock_server *s);

#endif
