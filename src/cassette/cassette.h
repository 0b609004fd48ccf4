/* Cassettes: recorded HTTP interactions, replayed with no network at all.
 *
 * File format: vcrpy's version-1 YAML, so any VCR user (and Debian's
 * python3-vcr deserializer) reads an ingestcheck cassette:
 *
 *   ingestcheck:                  # ingestcheck's metadata (vcrpy ignores
 *     format: 1                   #   top-level keys other than
 *     ingestcheck_version: 0.1.0  #   "interactions")
 *     recorded_at: '2024-05-01T10:00:00Z'
 *     spec_sha256: 3f0c...
 *     placeholders: ['<REDACTED:x-algolia-api-key>', ...]
 *     values: [{name: now, value: '...'}, {name: uuid, value: '...'}]
 *                                 # (`ingestcheck run` names them now@CASE,
 *                                 #   uuid@CASE, run.id and duration_ms@CASE)
 *   interactions:
 *   - ingestcheck: {case: tasks, step: create}   # vcrpy reads only the
 *     request:                                   #   "request" and "response"
 *       body: '{"name":"x"}'   # or null           keys of an interaction
 *       headers: {Content-Type: [application/json]}
 *       method: POST
 *       uri: http://localhost:8080/1/tasks
 *     response:
 *       body: {string: '{"taskID":"..."}'}
 *       headers: {Content-Type: [application/json]}
 *       status: {code: 200, message: OK}
 *   version: 1
 *
 * (vcrpy 4.2 serialize.deserialize reads data["interactions"] and, per
 * interaction, r["request"] (passed to Request(**dct), so a request holds
 * exactly method, uri, body, headers) and r["response"]; every other key is
 * never looked at.) A body that is not UTF-8 text, or holds a NUL, is
 * written as a !!binary scalar (base64), which PyYAML reads as bytes.
 *
 * Loading (cassette_load_text, cassette_load_file) is one pass over the
 * libyaml event stream into an arena: linear in the input, with
 * name:line:column errors (UTIL_ERR_PARSE for malformed YAML and truncated
 * files, UTIL_ERR_INVALID for a wrong type, an unknown key or a newer
 * format version, UTIL_ERR_LIMIT past a cap of caps.h). Anchors and aliases
 * are refused. Saving emits with libyaml's emitter (quoting is libyaml's),
 * in a fixed key order, so the same cassette gives the same bytes; a
 * string is written plain only when both YAML 1.1 (PyYAML) and YAML 1.2
 * read it back as the same string.
 *
 * Thread safety: none; a cassette and its transports belong to one thread
 * (one case runs on one thread). */
#ifndef INGESTCHECK_CASSETTE_CASSETTE_H
#define INGESTCHECK_CASSETTE_CASSETTE_H

#include "http/http.h"
#include "util/buf.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct openapi;

/* The format version this build writes and the newest it reads (both the
 * vcrpy "version" and ingestcheck.format). */
#define CASSETTE_FORMAT_VERSION 1

/* ---- model ---- */

struct cassette;

/* One header value; a name with several values appears several times, in
 * order. Strings are owned by the cassette. */
struct cassette_header {
    const char *name;
    const char *value;
};

/* One recorded exchange. Every pointer is owned by the cassette and lives
 * as long as it; bodies are NUL-terminated and may contain NULs. */
struct cassette_interaction {
    const char *method;       /* "GET" */
    const char *uri;          /* absolute, as sent (secrets redacted) */
    const char *request_body; /* NULL when the request had no body */
    size_t request_body_len;
    const struct cassette_header *request_headers;
    size_t request_header_count;
    int status;                 /* 100..599 */
    const char *status_message; /* "OK" */
    const struct cassette_header *response_headers;
    size_t response_header_count;
    const char *response_body; /* never NULL ("" when empty) */
    size_t response_body_len;
    const char *case_name; /* ingestcheck metadata, NULL when absent */
    const char *step;      /* NULL when absent */
    int line;              /* 1-based line in the loaded file, 0 if recorded */
};

/* A {{now}} or {{uuid}} (or any named generated) value, in recorded order. */
struct cassette_value {
    const char *name;
    const char *value;
};

/* An empty cassette. NULL on allocation failure. */
struct cassette *cassette_create(void);
/* Frees the cassette and everything it owns; accepts NULL. Transports over
 * it must be destroyed first. */
void cassette_destroy(struct cassette *c);

size_t cassette_count(const struct cassette *c);
/* Borrowed; NULL when i is out of range. */
const struct cassette_interaction *cassette_at(const struct cassette *c, size_t i);

/* The file or name the cassette was loaded from (borrowed), NULL for a
 * cassette made with cassette_create. */
const char *cassette_source(const struct cassette *c);

/* Metadata; getters return borrowed strings or NULL. Setters copy. */
const char *cassette_recorded_at(const struct cassette *c);
const char *cassette_ingestcheck_version(const struct cassette *c);
const char *cassette_spec_sha256(const struct cassette *c);
int cassette_set_recorded_at(struct cassette *c, const char *iso8601);
int cassette_set_ingestcheck_version(struct cassette *c, const char *version);
int cassette_set_spec_sha256(struct cassette *c, const char *hex);

/* Placeholders that redaction put into this cassette, sorted, unique. */
size_t cassette_placeholder_count(const struct cassette *c);
const char *cassette_placeholder_at(const struct cassette *c, size_t i);
/* Whether the i-th placeholder names a redacted JSON field,
 * "<REDACTED:NAME>"; NAME is copied into name (cap bytes; a longer one is
 * not a field). */
bool cassette_placeholder_field(const struct cassette *c, size_t i, char *name, size_t cap);

/* Generated values ({{now}}, {{uuid}}) in the order the run drew them.
 * While recording the runner appends each value it generates; on replay it
 * takes the next one of that name with cassette_value_next, so a replayed
 * run uses the recorded values. */
int cassette_value_append(struct cassette *c, const char *name, const char *value,
                          struct util_error *err);
size_t cassette_value_count(const struct cassette *c);
const struct cassette_value *cassette_value_at(const struct cassette *c, size_t i);
/* The value of name after index *cursor (start with *cursor = 0): returns
 * it (borrowed) and advances *cursor past it, or NULL when none is left. */
const char *cassette_value_next(const struct cassette *c, const char *name, size_t *cursor);

/* How long a case took when it was recorded is the value named
 * CASSETTE_DURATION_PREFIX + case name, in whole milliseconds ("1234"):
 * what `run --shard` balances shards by. */
#define CASSETTE_DURATION_PREFIX "duration_ms@"
/* The last duration recorded for case_name, or -1 when none is (or it is
 * not a non-negative integer). */
double cassette_case_duration_ms(const struct cassette *c, const char *case_name);
/* Records ms (rounded) as case_name's duration, replacing the last one. */
int cassette_set_case_duration_ms(struct cassette *c, const char *case_name, double ms,
                                  struct util_error *err);

/* Appends a copy of an exchange (redacted by r when r is not NULL; see
 * below) and indexes it. case_name and step may be NULL. resp must have
 * failure == HTTP_ERR_NONE. */
struct cassette_redactor;
int cassette_append(struct cassette *c, const struct http_request *req,
                    const struct http_response *resp, const char *case_name, const char *step,
                    const struct cassette_redactor *r, struct util_error *err);

/* Re-recording some of a file's cases (--record-mode all with --case,
 * --tag, --shard...) must not lose the recordings of the others. Whether
 * old holds an interaction or a value ("KIND@CASE") of a case not among
 * ran[0..nran-1]. */
bool cassette_holds_other_cases(const struct cassette *old, const char *const *ran, size_t nran);
/* A new cassette (*out, the caller's to destroy) holding fresh's
 * recordings of the cases that ran and old's of the others: interactions
 * and values in old's order, a re-recorded case's fresh items in place of
 * its first old one, fresh's items of cases old lacked at the end;
 * run-wide values ("run.id") and the metadata fresh's, placeholders of
 * both. old's interactions without a case are dropped, as a whole
 * re-recording drops them. */
int cassette_merge_kept(const struct cassette *fresh, const struct cassette *old,
                        const char *const *ran, size_t nran, struct cassette **out,
                        struct util_error *err);

/* Removes every interaction (metadata other than placeholders stays).
 * Matchers and transports over c must be created after, not before. */
void cassette_clear(struct cassette *c);

/* Copies interaction i back into plain structs (initialised by the
 * caller; any previous content is replaced). */
int cassette_interaction_request(const struct cassette *c, size_t i, struct http_request *out,
                                 struct util_error *err);
int cassette_interaction_response(const struct cassette *c, size_t i, struct http_response *out,
                                  struct util_error *err);

/* ---- load and save ---- */

/* Parses len bytes (name is used in messages and as the source). A pure
 * function of its input (no I/O), the fuzz target's entry point. *out is
 * a new cassette on success, NULL on failure with err set:
 * "name:line:column: reason" in err->message and err->file/line/column. */
int cassette_load_text(const char *text, size_t len, const char *name, struct cassette **out,
                       struct util_error *err);

/* Reads path (capped at CASSETTE_CAP_FILE; streamed, not read whole) and
 * parses it as cassette_load_text does. */
int cassette_load_file(const char *path, struct cassette **out, struct util_error *err);

/* Serialises c (deterministically: the same cassette gives the same
 * bytes) by appending to out. Known secrets of r (may be NULL) are
 * searched for once more in every string and replaced, so a secret that
 * first showed up late is still not written. */
int cassette_save_buf(const struct cassette *c, const struct cassette_redactor *r,
                      struct util_buf *out, struct util_error *err);

/* Serialises and writes path atomically (util_file_write_atomic): an
 * interrupted save leaves the previous file intact. */
int cassette_save_file(const struct cassette *c, const struct cassette_redactor *r,
                       const char *path, struct util_error *err);

/* ---- redaction ---- */

/* What a recording must never write: the values of the headers
 * x-algolia-api-key, x-algolia-application-id, authorization, set-cookie
 * (also as query parameters), and the string values of the JSON body
 * members client_secret, password, key, apiKey, privateKey plus any field
 * added with cassette_redactor_add_field, at any depth, in requests and
 * responses. Each is replaced by the stable placeholder
 * "<REDACTED:NAME>" (NAME the lower-cased header or the field name; in a
 * URI the placeholder is percent-encoded). The values found this way are
 * remembered, with those given to cassette_redactor_add_secret, and any
 * later occurrence (CASSETTE_MIN_SECRET_SEARCH_LEN bytes or longer) in any
 * URI, header or body, raw, percent-encoded or JSON-escaped, is replaced
 * too. JSON bodies are edited as text (never re-serialised), so numbers
 * and formatting are kept.
 *
 * Redaction learns (a remembered secret set grows), so a redactor is not
 * const while recording; cassette_append takes it const and learns through
 * an internal mutable set. */
struct cassette_redactor *cassette_redactor_create(void);
void cassette_redactor_destroy(struct cassette_redactor *r);
/* A JSON member name whose string values are secrets (--redact NAME). */
int cassette_redactor_add_field(struct cassette_redactor *r, const char *name,
                                struct util_error *err);
/* A known secret value (the API key of the run, credentials of the case
 * variables); label names it in the placeholder ("<REDACTED:label>"). */
int cassette_redactor_add_secret(struct cassette_redactor *r, const char *value, const char *label,
                                 struct util_error *err);
/* Redacts a copy of req into out (initialised by the caller). Used on
 * replay so that an incoming request with today's credentials compares
 * equal to its redacted recording. */
int cassette_redact_request(const struct cassette_redactor *r, const struct http_request *req,
                            struct http_request *out, struct util_error *err);

/* ---- matching ---- */

/* Per-step matching options (all borrowed; the zero value is the default:
 * everything compared, any order). */
struct cassette_match_options {
    const char *const *ignore_query; /* query parameter names not compared */
    size_t ignore_query_count;
    const char *const *ignore_body; /* JSON Pointers removed from both bodies */
    size_t ignore_body_count;
    bool ordered; /* the next unreplayed recording must match */
    /* With ordered: only the recordings labelled with this case count (a
     * cassette transport sets it from its context when NULL); NULL: all. */
    const char *ordered_case;
};

enum cassette_field {
    CASSETTE_FIELD_NONE = 0,
    CASSETTE_FIELD_METHOD,
    CASSETTE_FIELD_PATH,
    CASSETTE_FIELD_QUERY,
    CASSETTE_FIELD_BODY,
    CASSETTE_FIELD_EXHAUSTED, /* matching recordings exist, all already replayed */
    CASSETTE_FIELD_EMPTY,     /* the cassette has no interaction (left) */
};

/* Why a request matched nothing, for "failed step naming the closest
 * recording". closest is an interaction index, or SIZE_MAX when the
 * cassette is empty. */
struct cassette_miss {
    size_t closest;
    enum cassette_field field;
    char detail[512]; /* CASSETTE_MISS_DETAIL_MAX: "query parameter "limit":
                         recorded "10", got "20"" */
};

/* "method", "path", "query", "body", "exhausted", "empty", "none". */
const char *cassette_field_name(enum cassette_field f);

/* Replay state over a cassette: which recordings were replayed, the
 * ordered-mode cursor. Requests are looked up through an index keyed by
 * method and normalised path (percent-encoding of unreserved characters
 * decoded, hex upper-cased; scheme, host and fragment ignored), then
 * compared by: query parameters as a multiset of names, each name's values
 * joined by ',' (a=1,2 == a=1&a=2; with a spec only for the operation's
 * array parameters; percent- and '+'-decoded), and bodies by meaning when
 * both are JSON (json_equal), else byte for byte. Identical requests take
 * the recordings in recorded order. spec and r may be NULL; both are
 * borrowed, as is c. */
struct cassette_matcher;
struct cassette_matcher *cassette_matcher_create(struct cassette *c, const struct openapi *spec,
                                                 const struct cassette_redactor *r);
void cassette_matcher_destroy(struct cassette_matcher *m);

/* Finds the recording for req. Returns UTIL_OK with *index set and the
 * recording marked replayed when one matches; UTIL_ERR_NOTFOUND with miss
 * filled (and err holding the one-line message) when none does; another
 * code for local failures. */
int cassette_match(struct cassette_matcher *m, const struct http_request *req,
                   const struct cassette_match_options *opts, size_t *index,
                   struct cassette_miss *miss, struct util_error *err);

/* Marks interaction i as already replayed (a recording just made). */
void cassette_matcher_mark_used(struct cassette_matcher *m, size_t i);
/* Interactions never replayed so far. */
size_t cassette_matcher_unused_count(const struct cassette_matcher *m);

/* ---- transports ---- */

enum cassette_record_mode {
    CASSETTE_RECORD_ONCE,         /* cassette loaded from a file: replay only;
                                     else record everything */
    CASSETTE_RECORD_NEW_EPISODES, /* replay what matches, record the rest */
    CASSETTE_RECORD_NONE,         /* replay only (--replay) */
    CASSETTE_RECORD_ALL,          /* drop the recordings, record everything */
};

/* "once", "new_episodes", "none", "all"; parse returns -1 when unknown. */
const char *cassette_record_mode_name(enum cassette_record_mode m);
int cassette_record_mode_parse(const char *s);

struct cassette_transport_options {
    const struct openapi *spec;               /* borrowed, may be NULL */
    const struct cassette_redactor *redactor; /* borrowed, may be NULL */
};

/* A transport that answers from the cassette (borrowed; it must outlive
 * the transport) and never opens a socket or resolves a name. A request
 * with no recording gets resp->failure = HTTP_ERR_NO_RECORDING, err holding
 * "no recording matches METHOD PATH; closest: interaction N (case C, step
 * S, line L): DETAIL", and cassette_transport_last_miss() the details;
 * send still returns UTIL_OK, as for a network failure. NULL on failure. */
struct http_transport *cassette_replay_transport_create(struct cassette *c,
                                                        const struct cassette_transport_options *o,
                                                        struct util_error *err);

/* A transport that records into c through inner (borrowed, may be NULL
 * when the mode never sends: none, or once over a loaded cassette; it must
 * outlive the transport). Recorded interactions are redacted with
 * o->redactor (a default redactor when NULL) and appended to c; save c
 * with cassette_save_file afterwards. Mode all clears c at creation.
 * Network failures of inner are passed through and never recorded. */
struct http_transport *cassette_record_transport_create(struct http_transport *inner,
                                                        struct cassette *c,
                                                        enum cassette_record_mode mode,
                                                        const struct cassette_transport_options *o,
                                                        struct util_error *err);

/* Both kinds of cassette transport: the case and step labelling the
 * following recordings (copied; NULL clears), and the match options of the
 * following requests (copied shallowly: the arrays must stay valid until
 * the next call; NULL restores the default). UTIL_ERR_USAGE when t is not
 * a cassette transport. */
int cassette_transport_set_context(struct http_transport *t, const char *case_name,
                                   const char *step);
int cassette_transport_set_match_options(struct http_transport *t,
                                         const struct cassette_match_options *opts);
/* A secret the runner learned from a response (a captured credential):
 * redacted as "<REDACTED:label>" from what t records from now on and from
 * the whole cassette when it is saved with t's redactor. UTIL_ERR_USAGE
 * when t is not a cassette transport. */
int cassette_transport_add_secret(struct http_transport *t, const char *value, const char *label);
/* The miss of the last request that matched nothing (NULL when the last
 * request matched, or t is not a cassette transport). */
const struct cassette_miss *cassette_transport_last_miss(const struct http_transport *t);
/* True when requests are answered from the cassette without sending (the
 * runner then skips polling intervals). */
bool cassette_transport_replays_only(const struct http_transport *t);
/* Marks interaction i of t's cassette as replayed already, so that no
 * request replays it (the recordings of cases that do not run here, such
 * as another shard's). Does nothing when t matches nothing (mode all). */
void cassette_transport_mark_replayed(struct http_transport *t, size_t i);
/* Counters: requests answered from the cassette, requests recorded. */
void cassette_transport_counts(const struct http_transport *t, size_t *replayed, size_t *recorded);

/* ---- export ---- */

/* HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): one entry per
 * interaction with startedDateTime from recorded_at (the epoch when
 * absent), zero timings, queryString parsed from the URI, postData for
 * request bodies, content.encoding "base64" for non-text response bodies,
 * and the case and step in the entry's comment. *out is a new tree. */
int cassette_export_har(const struct cassette *c, cJSON **out, struct util_error *err);

/* ---- helpers ---- */

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes),
 * from SOURCE_DATE_EPOCH when set (reproducible recordings). */
void cassette_now_iso8601(char *buf, size_t size);

/* Standard reason phrase of an HTTP status ("OK"), "" when unknown. */
const char *cassette_reason_phrase(int status);

/* A synthetic cassette of n interactions over the Ingestion API's paths
 * (GET, POST, PATCH, DELETE; JSON bodies of a few hundred bytes; query
 * strings), the same for the same seed, for benchmarks (tests/bench). */
int cassette_generate_synthetic(size_t n, uint64_t seed, struct cassette **out,
                                struct util_error *err);

#endif
