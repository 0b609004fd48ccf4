/* JSON helpers over cJSON: capped parsing with line/column errors, JSON
 * Pointer (RFC 6901), deep equality with JSON-number semantics. */
#ifndef INGESTCHECK_JSON_JSON_H
#define INGESTCHECK_JSON_JSON_H

#include "util/buf.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Parses len bytes of text. On success *out is a new tree (caller frees with
 * cJSON_Delete). Rejects trailing garbage, nesting deeper than
 * UTIL_CAP_NESTING_DEPTH, an object naming a member twice (RFC 8259 leaves
 * its meaning open, so a checker refuses it) and input over
 * UTIL_CAP_JSON_DOCUMENT; err gives the
 * 1-based line and column of the first problem (name is used as err->file). */
int json_parse(const char *text, size_t len, const char *name, cJSON **out, struct util_error *err);

/* Reads and parses a file (capped at limit bytes). */
int json_load_file(const char *path, size_t limit, cJSON **out, struct util_error *err);

/* Resolves a JSON Pointer ("" is the whole document, "/a/0/b~1c"); the
 * pointer may be percent-encoded as in a URI fragment when uri_fragment is
 * true. Returns a borrowed node or NULL. */
const cJSON *json_pointer_get(const cJSON *doc, const char *pointer, bool uri_fragment);

/* Appends "/" + token escaped per RFC 6901 ('~' -> "~0", '/' -> "~1"). */
int json_pointer_append(struct util_buf *b, const char *token);
/* Appends "/" + decimal index. */
int json_pointer_append_index(struct util_buf *b, size_t index);

/* Deep equality with JSON semantics: numbers compare by value (1.0 == 1),
 * object key order does not matter, arrays compare element-wise. */
bool json_equal(const cJSON *a, const cJSON *b);

/* True for a number with no fractional part (1.0 counts). */
bool json_is_integer(const cJSON *n);

/* "object", "array", "string", "number", "integer", "boolean", "null". */
const char *json_type_name(const cJSON *n);

/* Serializes compactly (pretty=false) or with two-space indentation; heap
 * string, caller frees with free(); NULL on allocation failure. The text is
 * cJSON's (cJSON_Print with two spaces for each tab, or
 * cJSON_PrintUnformatted), written without cJSON's per-number rescanning. */
char *json_print(const cJSON *n, bool pretty);

/* Appends n serialized as json_print does to b. UTIL_ERR_LIMIT past b's
 * limit, UTIL_ERR_NOMEM, UTIL_ERR_INVALID for a node cJSON could not
 * print either (a raw node without text). */
int json_write(struct util_buf *b, const cJSON *n, bool pretty);
/* json_write of n as if it were nested depth levels deep in a pretty
 * document (its members indented for that depth), to assemble a document
 * from parts written apart. */
int json_write_at(struct util_buf *b, const cJSON *n, bool pretty, size_t depth);

/* Serializes n into b truncated to at most max bytes (with "..." when cut),
 * for messages. */
int json_print_short(struct util_buf *b, const cJSON *n, size_t max);

#endif
