/* API coverage: what part of the contract a suite exercised, computed from
 * the spec and from observed exchanges (a run's results, results.json
 * documents, cassettes), with its outputs (coverage.json, coverage.html,
 * coverage.md, an lcov tracefile over the OpenAPI document) and gates.
 *
 * The model, per operation of the spec (document order):
 *   calls       responses received for it
 *   statuses    each documented status, seen or not
 *   parameters  each parameter, sent or not: a path parameter whenever the
 *               operation is called, a query parameter when the query string
 *               names it (header and cookie parameters are not observed; the
 *               Ingestion API declares none)
 *   enums       each value of an enum parameter (array items included) and
 *               of an enum field of the request body (through properties,
 *               items, allOf and every union branch), sent or not
 *   branches    each branch of each oneOf/anyOf in the request body: a body
 *               value is validated against every branch (schema engine;
 *               $ref branches use the derived schemas/components files);
 *               when the union has a sibling selector ("type" mapping to a
 *               branch, from defects.json) and the named branch matches,
 *               only that branch counts ("selected"); otherwise every
 *               matching branch counts, and when more than one matches the
 *               body is flagged ambiguous (the spec has overlapping unions)
 *   properties  each property of each documented response schema (through
 *               items and unions; the path of a property of array items has
 *               a "*" token: tasks, *, taskID), observed or not
 * Statuses seen but not documented are spec gaps, listed with the request
 * (method and path) that provoked them and where it came from; requests
 * that match no operation are listed apart.
 *
 * Counting runs on one thread; a context is read-only once created and may
 * be shared by several models (shards merged with coverage_merge). */
#ifndef INGESTCHECK_COVERAGE_COVERAGE_H
#define INGESTCHECK_COVERAGE_COVERAGE_H

#include "cassette/cassette.h"
#include "run/run.h"
#include "util/buf.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting of schemas followed when walking a body or response schema. */
#define COVERAGE_CAP_DEPTH 24
/* Properties listed per response status; more are not tracked. */
#define COVERAGE_CAP_PROPERTIES 4096
/* Distinct spec gaps (operation, status) and requests outside the spec. */
#define COVERAGE_CAP_GAPS 1024
/* Example requests kept per gap. */
#define COVERAGE_CAP_GAP_EXAMPLES 5
/* Characters of a request or source kept in an example. */
#define COVERAGE_CAP_EXAMPLE 512
/* Bytes of a generated report (HTML, Markdown, lcov). */
#define COVERAGE_CAP_OUTPUT (256u * 1024u * 1024u)

/* The format of coverage.json this build writes and reads. */
#define COVERAGE_FORMAT_VERSION 1

enum coverage_dimension {
    COVERAGE_OPERATIONS = 0,
    COVERAGE_STATUSES,
    COVERAGE_PARAMETERS,
    COVERAGE_ENUMS,
    COVERAGE_BRANCHES,
    COVERAGE_PROPERTIES,
    COVERAGE_NDIMENSIONS,
};

/* "operations", "statuses", "parameters", "enums", "branches",
 * "properties"; parse returns -1 when unknown. */
const char *coverage_dimension_name(enum coverage_dimension d);
int coverage_dimension_parse(const char *s, size_t len);

struct coverage_count {
    size_t covered;
    size_t total;
};

/* 100.0 * covered / total; 100 when total is 0 (nothing to cover). */
double coverage_percent(struct coverage_count c);

struct coverage_totals {
    struct coverage_count dim[COVERAGE_NDIMENSIONS];
    size_t gaps;          /* distinct (operation, undocumented status) seen */
    uint64_t gap_count;   /* responses with an undocumented status */
    uint64_t exchanges;   /* exchanges observed */
    uint64_t unmatched;   /* requests that matched no operation */
    uint64_t no_response; /* requests that got no response */
    uint64_t ambiguous;   /* union values that matched several branches */
};

/* ---- context: the skeleton derived from the spec ---- */

struct coverage_context;

struct openapi_source;

/* Derives the skeleton from the spec of source (spec/source.h: a schemas
 * directory's openapi/ingestion.yml, or the spec it was derived from), with
 * its contract (operations.json, for matching requests to operations) and
 * defects.json (union selectors; optional). Fails with UTIL_ERR_INVALID
 * when a directory's operations.json was not derived from its spec
 * (different sha256). The spec's path is the lcov SF: name. source must
 * outlive the context. Caller destroys; NULL on failure with err set. */
struct coverage_context *coverage_context_create(const struct openapi_source *source,
                                                 struct util_error *err);
/* Accepts NULL. Models over it must be destroyed first. */
void coverage_context_destroy(struct coverage_context *ctx);

/* ---- the model: counts over a context ---- */

struct coverage;

/* An empty model over ctx (borrowed; it must outlive the model). NULL on
 * allocation failure. */
struct coverage *coverage_create(const struct coverage_context *ctx);
/* Accepts NULL. */
void coverage_destroy(struct coverage *cov);

/* One observed HTTP exchange; every pointer is borrowed for the call. */
struct coverage_exchange {
    const char *method;        /* "GET" (required) */
    const char *url;           /* absolute URL or path, with its query string */
    const char *operation_id;  /* NULL: matched by method and path template */
    const cJSON *request_body; /* parsed body, or NULL */
    const char *request_text;  /* parsed when request_body is NULL; may be NULL */
    size_t request_len;
    int status; /* 0: no response */
    const cJSON *response_body;
    const char *response_text; /* parsed when response_body is NULL; may be NULL */
    size_t response_len;
    const char *source; /* where it comes from ("cases/tasks.yaml:42"); may be NULL */
};

/* Counts one exchange. Errors only on local failure (ENOMEM). */
int coverage_observe(struct coverage *cov, const struct coverage_exchange *x,
                     struct util_error *err);

/* Counts the last exchange of every step of every case (a polling step
 * keeps only its last exchange). */
int coverage_add_results(struct coverage *cov, const struct run_results *r, struct util_error *err);

/* Same from a results.json document (report_results_json). Fails with
 * UTIL_ERR_INVALID when doc has no "cases" array. */
int coverage_add_results_json(struct coverage *cov, const cJSON *doc, struct util_error *err);

/* Counts every interaction of a cassette; the source of an interaction is
 * "FILE:LINE" (cassette_source and the interaction's line). */
int coverage_add_cassette(struct coverage *cov, const struct cassette *c, struct util_error *err);

/* Adds the counts of a coverage.json document (coverage_json) to cov, for
 * merging the outputs of shards. Items are matched by name (operationId,
 * status, parameter, enum value, union path and branch, property path);
 * fails with UTIL_ERR_INVALID when the document is for another spec (its
 * spec.sha256 differs) or not a coverage.json of this format. */
int coverage_add_json(struct coverage *cov, const cJSON *doc, struct util_error *err);

/* Adds every count and gap of src to dst. Both must be over the same
 * context (UTIL_ERR_USAGE otherwise). */
int coverage_merge(struct coverage *dst, const struct coverage *src, struct util_error *err);

void coverage_totals(const struct coverage *cov, struct coverage_totals *out);

/* ---- outputs ---- */

/* coverage.json: spec, totals, every operation with every item and its
 * count and YAML line, the gaps and the requests outside the spec. *out is
 * a new tree (caller frees). Deterministic: items in spec order, gaps in
 * operation then status order, examples in observation order. */
int coverage_json(const struct coverage *cov, cJSON **out, struct util_error *err);

/* coverage.html: one self-contained page (inline CSS, no script, a
 * Content-Security-Policy that forbids any network load): totals, the
 * matrix of operations x dimensions, spec gaps, then each operation as a
 * <details> element listing what was and was not exercised. */
int coverage_html(const struct coverage *cov, struct util_buf *b);

/* coverage.md: totals table, uncalled operations, missing documented
 * statuses and spec gaps (lists cut to a few entries). */
int coverage_markdown(const struct coverage *cov, struct util_buf *b);

/* api-coverage.info, an lcov tracefile with one record for the spec file:
 * FN/FNDA per operation (its line), BRDA per union branch (the union's
 * line, branch index; counts summed over the operations using it), DA per
 * line declaring an operation, a documented status, a parameter or an
 * enum value (counts summed over the items on that line), and the
 * FNF/FNH, BRF/BRH, LF/LH totals. */
int coverage_lcov(const struct coverage *cov, struct util_buf *b);

/* Writes dir/coverage.json, coverage.html, coverage.md and
 * api-coverage.info atomically (creating dir). */
int coverage_write(const char *dir, const struct coverage *cov, struct util_error *err);

/* ---- gates ---- */

/* Thresholds in hundredths of a percent (10000 is 100 %), -1 when unset. */
struct coverage_gates {
    int min[COVERAGE_NDIMENSIONS];
    bool fail_on_spec_gap;
};

void coverage_gates_init(struct coverage_gates *g);

/* Parses "operations=100,statuses=87.5" (each dimension at most once,
 * percentages from 0 to 100 with at most two decimals) into g. Fails with
 * UTIL_ERR_USAGE and a message naming the bad item. */
int coverage_gates_parse(const char *text, struct coverage_gates *g, struct util_error *err);

struct coverage_gate_failure {
    enum coverage_dimension dim; /* COVERAGE_NDIMENSIONS: the spec-gap gate */
    int required;                /* hundredths of a percent */
    double actual;               /* percent */
    size_t covered, total;
    size_t needed; /* more items to cover to pass (the spec-gap gate: gaps seen) */
};

/* Checks t against g; fills out (room for COVERAGE_NDIMENSIONS + 1) with
 * one entry per failed gate, in dimension order then the spec-gap gate, and
 * returns how many failed. A dimension passes when covered / total >=
 * required exactly (integer arithmetic). */
size_t coverage_gates_check(const struct coverage_totals *t, const struct coverage_gates *g,
                            struct coverage_gate_failure *out);

#endif
