/* The OpenAPI document of the Ingestion API as a model, and the generator
 * that derives schemas/ from it.
 *
 * openapi_load() reads the YAML (yaml_json.h) and indexes the operations in
 * document order; the model borrows every string and schema from the
 * document, which lives as long as the struct openapi.
 *
 * openapi_generate() derives, in memory and byte-for-byte reproducibly:
 *   components/<Name>.json  one JSON Schema (draft 2020-12) per component
 *                           schema; references between them are relative
 *                           ("Other.json"), resolved against the file itself.
 *                           Names equal but for case get distinct files: in
 *                           each such group, sorted bytewise, the k-th name
 *                           from 1 is written <Name>~<k>.json, and
 *                           operations.json lists them under "componentFiles"
 *                           (component name -> "components/<file>")
 *   operations.json         {"spec": {...}, "operations": [...]} with one
 *                           entry per operation in document order; schemas
 *                           in it refer to "components/<Name>.json"
 *   defects.json            the spec's defects the generator found
 * openapi_files_write() writes them, openapi_files_compare() diffs them against a
 * directory (the `schemas check` gate).
 *
 * Translation of the OpenAPI 3.0 schema dialect: nullable:true adds "null"
 * to type (and to enum); type:'null' stays a null type; example becomes
 * examples:[...]; readOnly, writeOnly, default, format stay; boolean
 * exclusiveMinimum/Maximum become numeric; x-* extensions are dropped; a
 * $ref drops its siblings (OAS 3.0 ignores them). OpenAPI 3.1 schemas are
 * JSON Schema 2020-12 already: type arrays, const and examples stay, a $ref
 * keeps its siblings, and references inside every 2020-12 subschema keyword
 * are rewritten. An allOf whose parts close themselves with
 * additionalProperties:false is merged into one object schema. A oneOf
 * whose branches overlap (found by building candidate instances and
 * validating them with the schema engine) becomes anyOf, and an object
 * holding such a union next to an enum-typed "type" property gets
 * allOf[if type == v then <property> is the branch named like v]; an OpenAPI
 * discriminator adds allOf[if <propertyName> == v then <mapped branch>]. A
 * union whose branches the type values do not all name, or an allOf that
 * cannot be merged, is translated as written and recorded as degraded
 * (unselected-union, unmerged-allof). Every such decision is recorded in
 * defects.json. */
#ifndef INGESTCHECK_OPENAPI_SPEC_H
#define INGESTCHECK_OPENAPI_SPEC_H

#include "openapi/sha256.h"
#include "schema/schema.h"
#include "util/buf.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- model ---- */

struct openapi;

enum openapi_param_in { OPENAPI_IN_QUERY, OPENAPI_IN_PATH, OPENAPI_IN_HEADER, OPENAPI_IN_COOKIE };

/* One parameter of an operation ($ref resolved, path-level parameters
 * merged). Strings and schema are borrowed from the document; pointers are
 * owned by the spec. */
struct openapi_parameter {
    const char *name;
    const char *in; /* "query", "path", "header", "cookie" */
    enum openapi_param_in where;
    bool required;
    const char *style; /* declared, else the OAS default: form (query, cookie), simple */
    bool explode;      /* declared, else the OAS default: true for form, else false */
    bool style_declared;
    bool explode_declared;
    bool is_array; /* the schema is (a $ref to) type: array */
    /* An array query parameter declaring neither style nor explode: OAS says
     * form/explode=true (status=a&status=b) but the official clients send
     * one comma-joined value, so a server (and the mock) must accept both. */
    bool accept_both_forms;
    const cJSON *schema;  /* the OpenAPI schema object, possibly a {$ref} */
    const cJSON *example; /* parameter-level example, or NULL */
    char *pointer;        /* JSON Pointer of the parameter object (after $ref) */
    char *use_pointer;    /* JSON Pointer of the entry in the operation's list */
};

struct openapi_request_body {
    bool required;
    const char *content_type; /* first media type in document order, or NULL */
    const cJSON *schema;      /* or NULL */
    char *pointer;            /* of the request body object (after $ref) */
};

struct openapi_response {
    const char *status;       /* "200", "400", "default", ... */
    const char *description;  /* or NULL */
    const char *content_type; /* first media type, NULL when no content */
    const cJSON *schema;      /* NULL when no content */
    char *pointer;            /* of the response object (after $ref) */
    char *use_pointer;        /* /paths/<path>/<method>/responses/<status> */
};

struct openapi_operation {
    size_t index; /* position in document order, from 0 */
    const char *operation_id;
    const char *method;   /* as in the document: "get", "post", ... */
    char method_upper[8]; /* "GET", "POST", ... */
    const char *path;     /* template, "/1/tasks/{taskID}" */
    const char **tags;    /* array owned by the spec, strings borrowed */
    size_t ntags;
    const char *summary; /* or NULL */
    bool acl_documented; /* the operation has x-acl */
    const char **acl;    /* x-acl entries (empty when not documented) */
    size_t nacl;
    struct openapi_parameter *params;
    size_t nparams;
    struct openapi_request_body *body;  /* NULL when the operation takes no body */
    struct openapi_response *responses; /* document order */
    size_t nresponses;
    char *pointer; /* /paths/~11~1tasks/get */
};

/* Reads and indexes the OpenAPI document at path. *out (caller destroys)
 * is set on success. Fails with UTIL_ERR_PARSE on YAML errors and
 * UTIL_ERR_INVALID (with the YAML line) on a document that is not an OpenAPI
 * 3.x document this tool can use (missing operationId, unresolvable local
 * $ref of a parameter, response or request body, ...). */
int openapi_load(const char *path, struct openapi **out, struct util_error *err);

/* Same from memory; name is used in messages and as the source name. */
int openapi_load_text(const char *text, size_t len, const char *name, struct openapi **out,
                      struct util_error *err);

/* Frees the spec and everything it owns; accepts NULL. */
void openapi_destroy(struct openapi *spec);

/* The whole document (borrowed). */
const cJSON *openapi_document(const struct openapi *spec);
/* info.title, info.version, openapi (borrowed). */
const char *openapi_title(const struct openapi *spec);
const char *openapi_version(const struct openapi *spec);
const char *openapi_openapi_version(const struct openapi *spec);
/* The path or name the spec was loaded from (borrowed). */
const char *openapi_source_name(const struct openapi *spec);
/* SHA-256 of the file bytes, 64 lower-case hex digits (borrowed). */
const char *openapi_sha256(const struct openapi *spec);

size_t openapi_operation_count(const struct openapi *spec);
/* Borrowed; NULL when i is out of range. */
const struct openapi_operation *openapi_operation_at(const struct openapi *spec, size_t i);
/* Borrowed; NULL when no operation has that operationId. */
const struct openapi_operation *openapi_operation_find(const struct openapi *spec,
                                                       const char *operation_id);
/* The response documented for status ("200"), or NULL. */
const struct openapi_response *openapi_operation_response(const struct openapi_operation *op,
                                                          const char *status);
/* The parameter (name, in), or NULL; in may be NULL to match any location. */
const struct openapi_parameter *openapi_operation_parameter(const struct openapi_operation *op,
                                                            const char *name, const char *in);

/* 1-based YAML line of the node at pointer ("" root, "/paths/~11~1tasks/get",
 * unescaped RFC 6901 form, not URI-encoded), 0 when unknown. For a mapping
 * member this is the line of its key. */
int openapi_line_of(const struct openapi *spec, const char *pointer);

/* Follows local "$ref": "#/..." chains from node (at most 32 hops). Returns
 * the target (borrowed) or NULL when a reference does not resolve. A node
 * without $ref is returned as is. */
const cJSON *openapi_resolve(const struct openapi *spec, const cJSON *node);

/* ---- generated files ---- */

struct openapi_file {
    char *path; /* relative to the schemas directory: "components/Task.json" */
    char *data; /* NUL-terminated; len bytes */
    size_t len;
};

/* A set of files sorted by path. Owned storage: init, then finish. */
struct openapi_files {
    struct openapi_file *items;
    size_t count;
    size_t alloc;
};

void openapi_files_init(struct openapi_files *f);
void openapi_files_finish(struct openapi_files *f);
/* Borrowed; NULL when absent. */
const struct openapi_file *openapi_files_find(const struct openapi_files *f, const char *path);

/* Derives every generated file (see the top of this header) into out, which
 * must be initialised and empty. Deterministic: the same spec bytes give the
 * same files. Fails with UTIL_ERR_INVALID when the spec cannot be translated
 * faithfully (for instance an overlapping union next to a "type" enum whose
 * branches cannot all be mapped to enum values by name). Needs a working
 * schema engine (src/schema) for the overlap and example checks. */
int openapi_generate(const struct openapi *spec, struct openapi_files *out, struct util_error *err);

/* The defects the generator finds, as the "defects" array of defects.json
 * (each entry {"kind", "location", "line", ...}; see defects.json for the
 * kinds). *out is a new tree, caller frees. */
int openapi_lint(const struct openapi *spec, cJSON **out, struct util_error *err);

/* Every `example` of the spec checked against its translated schema, in
 * document order: [{"location": "#/...", "line", "example", "schema":
 * "<file>#<pointer>", "valid": bool, "reason" (when invalid)}]. *out is a
 * new tree, caller frees. When defects is not NULL it receives the spec's
 * defects too (as openapi_lint; caller frees). */
int openapi_examples(const struct openapi *spec, cJSON **out, cJSON **defects,
                     struct util_error *err);

/* Writes every file under dir atomically (util_file_write_atomic), creating
 * directories, and removes the .json files in dir/components/ that are not in
 * files (that directory is wholly generated). Nothing else in dir is touched. */
int openapi_files_write(const struct openapi_files *files, const char *dir, struct util_error *err);

enum openapi_diff_kind {
    OPENAPI_DIFF_CHANGED, /* on disk with different bytes */
    OPENAPI_DIFF_MISSING, /* generated but not on disk */
    OPENAPI_DIFF_EXTRA,   /* a components/<Name>.json on disk that is not generated */
};

struct openapi_diff_entry {
    char *path; /* relative, owned */
    enum openapi_diff_kind kind;
};

struct openapi_diff {
    struct openapi_diff_entry *items;
    size_t count;
    size_t alloc;
};

void openapi_diff_init(struct openapi_diff *d);
void openapi_diff_finish(struct openapi_diff *d);
const char *openapi_diff_kind_name(enum openapi_diff_kind k); /* "changed", "missing", "extra" */

/* Compares files with dir; appends one entry per differing, missing or extra
 * file to out (sorted by path). Returns UTIL_OK when the comparison ran
 * (out->count == 0 means identical); an error only when dir cannot be read. */
int openapi_files_compare(const struct openapi_files *files, const char *dir,
                          struct openapi_diff *out, struct util_error *err);

/* ---- using the generated schemas with the engine ---- */

/* Base URI under which generated files are registered in memory. */
#define OPENAPI_MEMORY_BASE_URI "file:///ingestcheck-generated/schemas/"

/* Adds every generated schema document (components/<Name>.json, operations.json)
 * to reg under base_uri + path (base_uri ends with '/'). */
int openapi_registry_add_files(struct schema_registry *reg, const struct openapi_files *files,
                               const char *base_uri, struct util_error *err);

/* Makes a schemas directory on disk usable: maps "file://<abs dir>/" to dir
 * and adds operations.json. *operations_uri (may be NULL; caller frees)
 * receives "file://<abs dir>/operations.json". */
int openapi_registry_add_dir(struct schema_registry *reg, const char *schemas_dir,
                             char **operations_uri, struct util_error *err);

enum openapi_site {
    OPENAPI_SITE_REQUEST_BODY, /* key unused */
    OPENAPI_SITE_RESPONSE,     /* key: status, "200" */
    OPENAPI_SITE_PARAMETER,    /* key: parameter name */
};

/* Appends to out the JSON Pointer, inside operations.json (the parsed
 * document ops), of the schema of operation_id at site, e.g.
 * "/operations/20/responses/200/schema". Append it to the operations.json URI
 * after '#' to look it up in a registry. UTIL_ERR_NOTFOUND when the
 * operation, status or parameter is not documented. */
int openapi_operation_schema_pointer(const cJSON *ops, const char *operation_id,
                                     enum openapi_site site, const char *key, struct util_buf *out,
                                     struct util_error *err);

/* ---- entry points for the CLI (no printing) ---- */

/* Loads spec_path, generates and writes into out_dir. */
int openapi_cmd_generate(const char *spec_path, const char *out_dir, struct util_error *err);

/* Loads spec_path, generates and compares with schemas_dir into diff
 * (initialised by the caller). UTIL_OK when the check ran; diff->count == 0
 * means the committed files are up to date. */
int openapi_cmd_check(const char *spec_path, const char *schemas_dir, struct openapi_diff *diff,
                      struct util_error *err);

/* Loads spec_path and returns its defects (see openapi_lint). */
int openapi_cmd_lint(const char *spec_path, cJSON **defects, struct util_error *err);

#endif
