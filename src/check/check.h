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
#include "util/buf.h"
#include "util/error.h"
#include "util/secret.h"

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

struct openapi_source;

/* Takes the operations of source (spec/source.h) and compiles every
 * response schema. NULL on failure with err set. Caller destroys; source
 * may be destroyed before the contract. */
struct check_contract *check_contract_create(const struct openapi_source *source,
                                             struct util_error *err);
/* check_contract_create over the schemas directory dir (a source opened
 * on it). */
struct check_contract *check_contract_create_dir(const char *dir, struct util_error *err);
/* Accepts NULL. */
void check_contract_destroy(struct check_contract *c);

/* check_contract_create on a thread of its own, so that a command can load
 * its other inputs meanwhile: start returns at once (NULL only when out of
 * memory), finish waits and hands over what check_contract_create returned
 * (NULL with err set on failure; err may be NULL to discard it) and frees
 * the loader. Every started loader must be finished. source must live
 * until then. */
struct check_contract_loader;
struct check_contract_loader *check_contract_load_start(const struct openapi_source *source);
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

struct check_secrets;

/* The response as the contract checks see it. */
struct check_response {
    int status;
    const char *content_type; /* NULL when absent */
    const char *body;
    size_t body_len;
    /* What is secret (may be NULL: the built-in member names): excerpts
     * and messages never show it, while the checks see the real body. */
    const struct check_secrets *secrets;
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
 * expect.status, expect.header and expect.body items; their excerpts show
 * no secret of s (may be NULL: the built-in member names). */
int check_expect(const struct case_expect *e, const cJSON *headers, const cJSON *body, int status,
                 const struct http_headers *resp_headers, const cJSON *body_doc,
                 const struct check_secrets *s, struct check_list *out);

/* Matches one expected value (matchers allowed) against actual (NULL when
 * absent); appends a failed item named name per mismatch, with its pointer,
 * under base. Excerpts show no secret of s (may be NULL). Returns the
 * number of mismatches (or -1 on ENOMEM). */
int check_match_value(const cJSON *expected, const cJSON *actual, bool exact, const char *name,
                      const char *base, const struct check_secrets *s, struct check_list *out);

/* ---- secrets ---- */

/* Masks secrets are replaced with. */
#define CHECK_REDACTED UTIL_SECRET_MASK
/* Literal secret values shorter than this are not searched for: masking
 * them would garble unrelated text. */
#define CHECK_SECRET_MIN_LEN 4
/* Literal secret values remembered per case. */
#define CHECK_CAP_SECRETS 1024

/* Whether a header carries a secret (util_secret_header:
 * x-algolia-api-key, x-algolia-application-id, authorization, cookie,
 * set-cookie, proxy-authorization). */
bool check_secret_header(const char *name);
/* Whether a body member carries a secret (util_secret_field:
 * client_secret, clientSecret, password, key, apiKey, privateKey, secret;
 * any case). */
bool check_secret_field(const char *name);

/* What is secret in a case's exchanges: the members named like secrets
 * (the built-in names and fields, --redact), whatever their value, and
 * literal values (the API key, the application ID, what the requests sent
 * in secret members), found in any encoded form (util/secret.h). */
struct check_secrets {
    struct util_secret *items;
    size_t count;
    size_t alloc;
    const char *const *fields; /* borrowed */
    size_t nfields;
};

void check_secrets_init(struct check_secrets *s);
void check_secrets_finish(struct check_secrets *s);
/* More member names whose values are secret (borrowed; any case). */
void check_secrets_fields(struct check_secrets *s, const char *const *fields, size_t count);
/* Whether a member named name is secret (s may be NULL: built-in names). */
bool check_secrets_is_field(const struct check_secrets *s, const char *name);
/* Adds a copy of value (values shorter than CHECK_SECRET_MIN_LEN are
 * ignored). UTIL_ERR_LIMIT past CHECK_CAP_SECRETS. */
int check_secrets_add(struct check_secrets *s, const char *value);
/* Adds every string inside the secret members of doc, at any depth. */
int check_secrets_collect(struct check_secrets *s, const cJSON *doc);
/* The name (borrowed from doc) of the secret member of doc, at any depth,
 * whose value is or holds the string value; NULL when none. A capture of
 * a secret stays secret wherever it is used next. */
const char *check_secret_member_holding(const struct check_secrets *s, const cJSON *doc,
                                        const char *value);
/* Whether text holds one of the literal secrets of s (s may be NULL). */
bool check_secrets_hit(const struct check_secrets *s, const char *text);
/* A copy of text with the value of every member named like a secret
 * (when text holds JSON) and every literal secret, in any form, replaced
 * by CHECK_REDACTED; NULL on ENOMEM or when text is NULL. Caller frees. */
char *check_secrets_scrub(const struct check_secrets *s, const char *text);
/* Replaces, in place, the value of every secret member (of any type but
 * null) and every string holding a secret by CHECK_REDACTED. */
int check_redact_json(const struct check_secrets *s, cJSON *doc);
/* Scrubs every text field of the items of l in place. */
int check_list_scrub(const struct check_secrets *s, struct check_list *l);

/* Whether v holds a secret: a non-null secret member at any depth, or a
 * string holding a literal secret or a secret member. */
bool check_secrets_in(const struct check_secrets *s, const cJSON *v);
/* Whether the JSON Pointer into doc passes through a member named like a
 * secret (the value it points at is then secret, whatever its type). */
bool check_secret_pointer(const struct check_secrets *s, const cJSON *doc, const char *pointer);
/* Writes (b is reset) the excerpt of v quoted in a check's actual or
 * expected: "(absent)" for NULL; "\"****\"" when secret (v lies under a
 * secret member); else v serialized, at most CHECK_CAP_QUOTE bytes, with
 * its secrets replaced before it is cut. s may be NULL. */
int check_quote(struct util_buf *b, const cJSON *v, bool secret, const struct check_secrets *s);

#endif
