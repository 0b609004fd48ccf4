/* Where the derived schemas come from: a schemas directory on disk (files
 * read lazily, as `schemas generate` wrote them) or an OpenAPI document
 * derived in memory, once (openapi_load + openapi_generate). Every consumer of the
 * derived files (case loader, contract, mock, coverage, the CLI commands)
 * reads them through a source, so that `--spec FILE` and `--schemas DIR`
 * give the same behaviour.
 *
 * A source is read-only after opening except for the spec of a directory
 * (loaded on first use, under a lock): one source may serve many threads. */
#ifndef INGESTCHECK_OPENAPI_SOURCE_H
#define INGESTCHECK_OPENAPI_SOURCE_H

#include "schema/schema.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct openapi;
struct openapi_source;

/* Opens a schemas directory holding operations.json, components/ and
 * (optionally) defects.json and openapi/ingestion.yml. operations.json is
 * read now; *out (caller destroys) is set on success. */
int openapi_source_open_dir(const char *dir, struct openapi_source **out, struct util_error *err);

/* Loads the OpenAPI document at spec_path and derives every file in memory.
 * Fails as openapi_load and openapi_generate do. */
int openapi_source_open_spec(const char *spec_path, struct openapi_source **out,
                             struct util_error *err);

/* Accepts NULL. */
void openapi_source_destroy(struct openapi_source *s);

/* Whether the files were derived in memory (openapi_source_open_spec). */
bool openapi_source_derived(const struct openapi_source *s);

/* The directory or the spec file the source was opened from (borrowed). */
const char *openapi_source_origin(const struct openapi_source *s);

/* Where operations.json is, for messages: "<dir>/operations.json", or
 * "<spec file> (derived operations.json)" (borrowed). */
const char *openapi_source_operations_name(const struct openapi_source *s);

/* The parsed operations.json (borrowed): {"spec": {...}, "operations": [...]}. */
const cJSON *openapi_source_operations(const struct openapi_source *s);

/* The spec's info.title, info.version and the SHA-256 of its bytes, as
 * operations.json records them (borrowed; NULL when absent). */
const char *openapi_source_title(const struct openapi_source *s);
const char *openapi_source_version(const struct openapi_source *s);
const char *openapi_source_sha256(const struct openapi_source *s);

/* The bytes of a derived file by relative path ("components/Task.json",
 * "defects.json"); *data is a NUL-terminated copy (caller frees).
 * UTIL_ERR_NOTFOUND when the source has no such file (the message names
 * it); a path that is absolute or holds ".." is not found. */
int openapi_source_read(const struct openapi_source *s, const char *rel, char **data, size_t *len,
                        struct util_error *err);

/* The same file parsed as JSON (*out: caller frees). */
int openapi_source_read_json(const struct openapi_source *s, const char *rel, cJSON **out,
                             struct util_error *err);

/* Makes the derived schemas usable in reg: the directory is mapped under
 * "file://<abs dir>/", the memory files are added under
 * OPENAPI_MEMORY_BASE_URI. *operations_uri (may be NULL; caller frees)
 * receives the absolute URI of operations.json; every file's URI is that
 * URI with "operations.json" replaced by its relative path. */
int openapi_source_register(const struct openapi_source *s, struct schema_registry *reg,
                            char **operations_uri, struct util_error *err);

/* The loaded OpenAPI document (borrowed): the one derived from, or for a
 * directory <dir>/openapi/ingestion.yml, loaded on first use. */
int openapi_source_spec(const struct openapi_source *s, const struct openapi **out,
                        struct util_error *err);

#endif
