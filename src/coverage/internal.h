/* Internals of the coverage module: the skeleton a context derives from the
 * spec (model.c), the counts of a model (observe.c), shared by the outputs
 * (output.c, html.c). Every countable item holds the index of its counter
 * in struct coverage's counts array. */
#ifndef INGESTCHECK_COVERAGE_INTERNAL_H
#define INGESTCHECK_COVERAGE_INTERNAL_H

#include "coverage/coverage.h"

#include "check/check.h"
#include "openapi/spec.h"
#include "schema/schema.h"

enum cov_where { COV_PATH, COV_QUERY, COV_HEADER, COV_COOKIE, COV_BODY };

/* "path", "query", "header", "cookie", "body". */
const char *cov_where_name(enum cov_where w);

/* One value of an enum. */
struct cov_value {
    char *value;    /* the string, or the compact JSON of a non-string */
    bool is_string; /* the value is a JSON string */
    int line;
    size_t c;
};

/* The enum values of one parameter or one body field. */
struct cov_enum {
    enum cov_where where;
    char *name; /* parameter name, or body path ("/trigger/type") */
    bool split; /* an array parameter: a value may hold several, comma-joined */
    struct cov_value *values;
    size_t n, alloc;
};

struct cov_branch {
    char *name;    /* component name, or the inline branch's type */
    char *pointer; /* of the branch in the spec ("/components/schemas/X/oneOf/0") */
    int line;
    const struct schema *schema; /* compiled in the context's registry */
    size_t c;                    /* bodies counted for it */
    size_t c_ambiguous;          /* of them, bodies that matched other branches too */
};

/* A oneOf/anyOf of a request body. */
struct cov_union {
    char *path;           /* body path of the union's value ("/input") */
    char *pointer;        /* of the union's schema ("/components/schemas/AuthInput") */
    char *keyword;        /* "oneOf" or "anyOf" */
    int line;             /* of the keyword */
    char *selector;       /* sibling property picking the branch ("type"), or NULL */
    const cJSON *mapping; /* selector value -> branch name (borrowed from defects) */
    struct cov_branch *branches;
    size_t n;
    size_t c_values;    /* values seen at path */
    size_t c_selected;  /* of them, attributed by the selector */
    size_t c_ambiguous; /* matched several branches, no selector decided */
    size_t c_unmatched; /* matched no branch */
};

struct cov_param {
    const struct openapi_parameter *p;
    enum cov_where where;
    int line;
    size_t c;
};

struct cov_prop {
    char *path; /* JSON Pointer whose "*" tokens stand for any array item */
    int line;
    size_t c;
};

struct cov_status {
    const struct openapi_response *r;
    int line;
    size_t c;
    struct cov_prop *props;
    size_t nprops, alloc;
};

struct cov_op {
    const struct openapi_operation *op;
    int line;
    size_t c;
    struct cov_status *statuses;
    size_t nstatuses;
    struct cov_param *params;
    size_t nparams;
    struct cov_enum *enums;
    size_t nenums, enums_alloc;
    struct cov_union *unions;
    size_t nunions, unions_alloc;
};

struct coverage_context {
    const struct openapi *spec; /* borrowed from the source */
    struct check_contract *contract;
    struct schema_registry *reg;
    cJSON *defects;   /* defects.json, or NULL */
    char *spec_path;  /* as given (lcov SF:) */
    char *schema_uri; /* "file:///abs/schemas/" */
    struct cov_op *ops;
    size_t nops;
    size_t ncounters;
};

/* One gap: an undocumented status of an operation, or (op == SIZE_MAX) a
 * request that matched no operation, keyed by method and path. */
struct cov_example {
    char *request; /* "GET /1/tasks/x" */
    char *source;  /* or NULL */
};

struct cov_gap {
    size_t op; /* SIZE_MAX: no operation */
    int status;
    char *method;
    char *path; /* request path for unmatched requests; NULL for an operation's gap */
    uint64_t count;
    struct cov_example examples[COVERAGE_CAP_GAP_EXAMPLES];
    size_t nexamples;
};

struct cov_gaps {
    struct cov_gap *items;
    size_t n, alloc;
    uint64_t dropped; /* past COVERAGE_CAP_GAPS */
};

struct coverage {
    const struct coverage_context *ctx;
    uint64_t *counts;          /* ctx->ncounters */
    struct cov_gaps gaps;      /* undocumented statuses, sorted (op, status) */
    struct cov_gaps unmatched; /* requests outside the spec, sorted (method, path) */
    uint64_t exchanges, no_response, unmatched_count, ambiguous;
};

/* Adds count to the gap (op, status) or the unmatched request (method,
 * path) in g, creating it (sorted) when new, with one example. */
int cov_gap_add(struct cov_gaps *g, size_t op, int status, const char *method, const char *path,
                uint64_t count, const char *request, const char *source);
void cov_gaps_finish(struct cov_gaps *g);

/* Counts of one operation per dimension (operations: called or not). */
void cov_op_counts(const struct coverage *cov, const struct cov_op *o,
                   struct coverage_count out[COVERAGE_NDIMENSIONS]);

/* A text output being built: the first failed append is kept in rc and
 * later appends are skipped. */
struct cov_out {
    struct util_buf *b;
    int rc;
};

void cov_printf(struct cov_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cov_puts(struct cov_out *o, const char *s);

#endif
