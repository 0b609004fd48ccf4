/* Checks of one HTTP exchange: the contract (every response, unasked) and
 * the case's own expectations, plus the redaction of secrets.
 *
 * Check names, stable for reports and tests:
 *   contract.operation     the response is matched to an operation by method
 *                          and path template
 *   contract.status        its status is documented for that operation
 *                          (an allowed undocumented status is a GAP)
 *   contract.content-type  its Content-Type is the documented (JSON) one
 *   contract.json          its body is well-formed JSON
 *   contract.schema        its body validates against the documented schema
 *                          (one failed item per violation)
 *   expect.status, expect.header, expect.body
 * The runner adds: transport, template, capture, until. */
#ifndef INGESTCHECK_CHECK_CHECK_H
#define INGESTCHECK_CHECK_CHECK_H

#include "case/case.h"
#include "http/http.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Schema violations listed per response; the rest are counted. */
#define CHECK_CAP_VIOLATIONS 20
/* Text of a value quoted in expected/actual. */
#define CHECK_CAP_QUOTE 200

enum check_outcome {
    CHECK_PASS = 0,
    CHECK_FAIL,
    CHECK_GAP, /* accepted, but the spec does not document it */
    CHECK_SKIP,
};

/* "pass", "fail", "gap", "skip". */
const char *check_outcome_name(enum check_outcome o);

/* One check. All strings owned by the list; pointer, expected and actual
 * may be NULL. */
struct check_item {
    char *name;
    enum check_outcome outcome;
    char *message; /* one line */
    char *pointer; /* JSON Pointer into the response body */
    char *expected;
    char *actual;
};

struct check_list {
    struct check_item *items;
    size_t count;
    size_t alloc;
};

void check_list_init(struct check_list *l);
void check_list_finish(struct check_list *l);
/* Appends a check with a printf-formatted message; strings are copied. */
int check_list_add(struct check_list *l, const char *name, enum check_outcome outcome,
                   const char *pointer, const char *expected, const char *actual, const char *fmt,
                   ...) __attribute__((format(printf, 7, 8)));
/* Moves every item of src to the end of dst (src is left empty). */
int check_list_move(struct check_list *dst, struct check_list *src);
size_t check_list_count(const struct check_list *l, enum check_outcome o);

/* ---- the contract ---- */

/* Opaque: the operations of operations.json with their response schemas,
 * compiled once. Read-only after creation, so one contract may serve many
 * threads. */
struct check_contract;

/* Loads schemas_dir/operations.json and compiles every response schema.
 * NULL on failure with err set. Caller destroys. */
struct check_contract *check_contract_create(const char *schemas_dir, struct util_error *err);
/* Accepts NULL. */
void check_contract_destroy(struct check_contract *c);

/* check_contract_create on a thread of its own, so that a command can load
 * its other inputs meanwhile: start returns at once (NULL only when out of
 * memory), finish waits and hands over what check_contract_create returned
 * (NULL with err set on failure; err may be NULL to discard it) and frees
 * the loader. Every started loader must be finished. schemas_dir must live
 * until then. */
struct check_contract_loader;
struct check_contract_loader *check_contract_load_start(const char *schemas_dir);
struct check_contract *check_contract_load_finish(struct check_contract_loader *l,
                                                  struct util_error *err);

/* The operationId whose method and path template match (path without the
 * query string); borrowed, NULL when none. A literal segment beats a
 * template segment (POST /1/tasks/search is searchTasks). */
const char *check_contract_match(const struct check_contract *c, const char *method,
                                 const char *path);

/* Path template of an operation ("/1/tasks/{taskID}"), borrowed, or NULL. */
const char *check_contract_path(const struct check_contract *c, const char *operation_id);

/* The SHA-256 (64 hex digits) of the spec the schemas were generated
 * from (operations.json spec.sha256); borrowed, NULL when it is absent. */
const char *check_contract_spec_sha256(const struct check_contract *c);

/* The response as the contract checks see it. */
struct check_response {
    int status;
    const char *content_type; /* NULL when absent */
    const char *body;
    size_t body_len;
};

/* Runs the contract checks on one response and appends them to out.
 * operation_id may be NULL: the operation is then matched by method and
 * path. allowed lists the undocumented statuses the case accepts (reported
 * as CHECK_GAP). *parsed (may be NULL) receives the parsed body when it is
 * JSON (caller frees), else NULL; *operation (may be NULL) the operationId
 * matched (borrowed). Returns an error only on local failure (ENOMEM). */
int check_contract_response(const struct check_contract *c, const char *operation_id,
                            const char *method, const char *path, const struct check_response *resp,
                            const int *allowed, size_t nallowed, struct check_list *out,
                            cJSON **parsed, const char **operation, struct util_error *err);

/* ---- expectations ---- */

/* Checks status, headers and body of a response against e. headers and
 * body are e->headers and e->body after template expansion (NULL when not
 * given). body_doc is the parsed response body or NULL. Appends
 * expect.status, expect.header and expect.body items. */
int check_expect(const struct case_expect *e, const cJSON *headers, const cJSON *body, int status,
                 const struct http_headers *resp_headers, const cJSON *body_doc,
                 struct check_list *out);

/* Matches one expected value (matchers allowed) against actual (NULL when
 * absent); appends a failed item named name per mismatch, with its pointer,
 * under base. Returns the number of mismatches (or -1 on ENOMEM). */
int check_match_value(const cJSON *expected, const cJSON *actual, bool exact, const char *name,
                      const char *base, struct check_list *out);

/* ---- secrets ---- */

/* Masks secrets are replaced with. */
#define CHECK_REDACTED "****"

/* Whether a header carries a secret (x-algolia-api-key, authorization,
 * cookie, set-cookie, proxy-authorization). */
bool check_secret_header(const char *name);
/* Whether a body field carries a secret (client_secret, password, key,
 * apiKey, privateKey; case-insensitive). */
bool check_secret_field(const char *name);

/* A set of literal secret values to scrub from any text. */
struct check_secrets {
    char **items;
    size_t count;
    size_t alloc;
};

void check_secrets_init(struct check_secrets *s);
void check_secrets_finish(struct check_secrets *s);
/* Adds a copy of value (values shorter than 4 bytes are ignored: masking
 * them would garble unrelated text). */
int check_secrets_add(struct check_secrets *s, const char *value);
/* Adds the values of every secret field in doc. */
int check_secrets_collect(struct check_secrets *s, const cJSON *doc);
/* Whether text holds one of the secret values of s (s may be NULL). */
bool check_secrets_hit(const struct check_secrets *s, const char *text);
/* A copy of text with every secret value replaced by CHECK_REDACTED; NULL
 * on ENOMEM or when text is NULL. Caller frees. */
char *check_secrets_scrub(const struct check_secrets *s, const char *text);
/* Replaces, in place, the values of secret fields and every string holding
 * a secret value by CHECK_REDACTED. */
int check_redact_json(const struct check_secrets *s, cJSON *doc);
/* Scrubs every text field of the items of l in place. */
int check_list_scrub(const struct check_secrets *s, struct check_list *l);

#endif
