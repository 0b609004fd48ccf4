/* JSON Schema engine: draft 2020-12, draft-07 (and draft-04 where cheap),
 * plus the OpenAPI 3.0 schema dialect. Schemas are compiled once into a
 * registry (references resolved, property lookups indexed) and validated
 * many times. The engine never opens a socket: remote references resolve
 * only from documents added to the registry or from local directories
 * mapped to URI prefixes. */
#ifndef INGESTCHECK_SCHEMA_SCHEMA_H
#define INGESTCHECK_SCHEMA_SCHEMA_H

#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

enum schema_dialect {
    SCHEMA_DIALECT_AUTO = 0, /* from $schema; the registry default when absent */
    SCHEMA_DIALECT_2020_12,
    SCHEMA_DIALECT_DRAFT7,
    SCHEMA_DIALECT_DRAFT4,
    SCHEMA_DIALECT_OAS30, /* OpenAPI 3.0 Schema Object: nullable, readOnly/writeOnly,
                             discriminator as annotation, example ignored */
};

struct schema_options {
    enum schema_dialect default_dialect; /* used when a document has no $schema;
                                            AUTO means 2020-12 */
    bool check_formats;                  /* assert `format` (date-time, date, uuid, uri,
                                            email, ...) instead of annotating */
};

/* Opaque: a set of documents and their compiled schemas. */
struct schema_registry;
/* Opaque: one compiled schema, owned by its registry. */
struct schema;

/* Creates an empty registry; opts may be NULL (defaults). NULL on ENOMEM. */
struct schema_registry *schema_registry_create(const struct schema_options *opts);
/* Frees the registry and every schema compiled in it. Accepts NULL. */
void schema_registry_destroy(struct schema_registry *reg);

/* Maps a URI prefix (e.g. "http://localhost:1234/") to a local directory:
 * a reference to prefix + "a/b.json" loads dir/a/b.json on first use. */
int schema_registry_map_dir(struct schema_registry *reg, const char *uri_prefix, const char *dir,
                            struct util_error *err);

/* Adds a schema document under base_uri (copied; the caller keeps doc) and
 * compiles it. *out (may be NULL) receives the root schema, owned by reg.
 * Unresolvable $ref, malformed keywords and reference cycles that can never
 * terminate are reported through err. */
int schema_registry_add(struct schema_registry *reg, const char *base_uri, const cJSON *doc,
                        struct schema **out, struct util_error *err);

/* Adds n documents (each under its base URI) at once, as
 * schema_registry_add does one: references between them resolve whatever
 * their order, so documents that reference each other in a cycle can be
 * added. */
int schema_registry_add_all(struct schema_registry *reg, size_t n, const char *const *base_uris,
                            const cJSON *const *docs, struct util_error *err);

/* Loads a schema file; its base URI is "file://" + absolute path unless the
 * document sets $id. */
int schema_registry_add_file(struct schema_registry *reg, const char *path, struct schema **out,
                             struct util_error *err);

/* Finds a compiled schema by absolute URI with optional fragment (JSON
 * Pointer or anchor), compiling it on demand. */
int schema_registry_lookup(struct schema_registry *reg, const char *uri, struct schema **out,
                           struct util_error *err);

/* One violation. All strings are owned by the schema_result. */
struct schema_violation {
    char *instance_location; /* JSON Pointer into the instance, "" for the root */
    char *keyword_location;  /* JSON Pointer into the schema, through $ref ("/properties/a/type") */
    char *absolute_location; /* absolute URI of the failing keyword */
    char *message;           /* "/tasks/3/action: \"upsert\" is not one of append, ..." */
};

struct schema_result {
    bool valid;
    struct schema_violation *items;
    size_t count;
    size_t alloc;
    bool truncated; /* more than UTIL_CAP_VIOLATIONS violations: the rest were dropped */
};

void schema_result_init(struct schema_result *res);
void schema_result_finish(struct schema_result *res);

/* Validates instance; fills res with every violation (leaf causes, with the
 * applicator they sit under). Returns UTIL_OK whether or not the instance is
 * valid (see res->valid); an error code only when validation itself failed
 * (out of memory, evaluation depth cap). */
int schema_validate(const struct schema *s, const cJSON *instance, struct schema_result *res,
                    struct util_error *err);

/* Fast yes/no validation that collects nothing. */
bool schema_is_valid(const struct schema *s, const cJSON *instance);

/* Counters for tests and diagnostics: documents held, documents loaded on
 * demand (remote, file:// or embedded metaschemas), schemas compiled and
 * references resolved. Validation never changes them. */
struct schema_stats {
    size_t documents;
    size_t documents_loaded;
    size_t schemas_compiled;
    size_t refs_resolved;
};

void schema_registry_stats(const struct schema_registry *reg, struct schema_stats *out);

#endif
