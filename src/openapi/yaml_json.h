/* YAML (libyaml event API) to cJSON, for the OpenAPI document.
 *
 * Scalars are typed with the YAML 1.2 core schema, which is what OpenAPI
 * tooling (js-yaml, redocly) uses: quoted, literal and folded scalars are
 * strings ('200' stays a string); plain scalars are null (~, null, Null,
 * NULL, empty), booleans (true/True/TRUE, false/False/FALSE), integers
 * (decimal, 0o octal, 0x hex), floats, else strings. YAML 1.1-only forms
 * (yes/no/on/off, 1:20) therefore stay strings. Explicit tags !!str, !!int,
 * !!float, !!bool, !!null are honoured; other tags are refused. .inf and .nan
 * are refused (not representable in JSON).
 *
 * Anchors and aliases are resolved by copying the anchored node; the copies
 * are budgeted (at most one node per input byte plus 1024, and at most
 * UTIL_CAP_YAML_ALIAS_BYTES bytes of scalars and member names copied by all
 * aliases together) so alias bombs fail before they are built. Time and
 * memory are linear in the input (sequences are appended at their tail,
 * duplicate keys are found with a hash set per mapping). Duplicate mapping keys, complex
 * (non-scalar) keys, merge keys (<<), more than one document, nesting deeper than
 * UTIL_CAP_NESTING_DEPTH and input over UTIL_CAP_SPEC_FILE are refused. Errors carry
 * name:line:column in err->message and in err->file/line/column.
 *
 * While parsing, a line table records the 1-based line (and column) where
 * every node sits, keyed by its JSON Pointer: for a mapping member the
 * position of its key, for a sequence item the position of the item, ""
 * for the root. Nodes inside an alias copy are not listed (the alias is). */
#ifndef INGESTCHECK_OPENAPI_YAML_JSON_H
#define INGESTCHECK_OPENAPI_YAML_JSON_H

#include "util/error.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Opaque: JSON Pointer -> YAML position. */
struct openapi_line_table;

/* Parses len bytes of YAML (name is used in messages). On success *out is a
 * new cJSON tree (caller frees with cJSON_Delete) and, when lines is not
 * NULL, *lines a new line table (caller frees with openapi_line_table_destroy).
 * On failure both are NULL and err says where and what was expected. */
int openapi_yaml_parse(const char *text, size_t len, const char *name, cJSON **out,
                       struct openapi_line_table **lines, struct util_error *err);

/* Reads path (capped at UTIL_CAP_SPEC_FILE) and parses it. */
int openapi_yaml_load_file(const char *path, cJSON **out, struct openapi_line_table **lines,
                           struct util_error *err);

/* 1-based line of the node at pointer (unescaped RFC 6901 form, "" for the
 * root), 0 when unknown. column (may be NULL) receives the 1-based column. */
int openapi_line_table_lookup(const struct openapi_line_table *t, const char *pointer, int *column);

/* Number of entries (nodes with a recorded position). */
size_t openapi_line_table_count(const struct openapi_line_table *t);

/* Frees the table; accepts NULL. */
void openapi_line_table_destroy(struct openapi_line_table *t);

#endif
