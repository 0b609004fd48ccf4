/* JSON helpers over cJSON: capped parsing with line/column errors, JSON
 * Pointer (RFC 6901), deep equality with JSON-number semantics. */
#ifndef INGESTCHECK_JSON_JSON_H
#define INGESTCHECK_JSON_JSON_H

#include "util/buf.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* U+0000 inside a string: a C string cannot hold a NUL, so json_parse
 * keeps the code point as these two bytes (Modified UTF-8, as Java's JNI
 * does). No well-formed UTF-8 contains them, so they never collide with
 * text; json_write and json_print write them as \u0000, a count of code
 * points (bytes that are not continuation bytes) counts one, and the regex
 * engine reads U+0000. Code that makes a string from raw bytes (a decoded
 * URL, a rendered template) writes a NUL byte this way or refuses it. */
#define JSON_NUL "\xc0\x80"

/* Parses len bytes of strict JSON text (RFC 8259; src/json/parse.c). On
 * success *out is a new tree (caller frees with cJSON_Delete). Refuses
 * (UTIL_ERR_PARSE) what the grammar does not allow (raw control characters
 * in strings, leading zeros, other whitespace), text that is not UTF-8,
 * trailing data (a NUL byte ends the text), an object naming a member twice
 * (RFC 8259 leaves its meaning open, so a checker refuses it) and a lone
 * surrogate escape; refuses (UTIL_ERR_LIMIT) input over
 * UTIL_CAP_JSON_DOCUMENT, nesting deeper than UTIL_CAP_NESTING_DEPTH and
 * numbers beyond the range of a double. Every refusal of the text (not the
 * size cap, not out of memory) is "name:line:column: what" (column in
 * characters), with err->line and err->column set; name is used as
 * err->file. \u0000 becomes JSON_NUL. */
int json_parse(const char *text, size_t len, const char *name, cJSON **out, struct util_error *err);

/* util_utf8_repair for text that goes into a JSON string: every byte of
 * b->data that is not UTF-8 becomes U+FFFD, except JSON_NUL, which stays.
 * UTIL_OK or UTIL_ERR_NOMEM (b unchanged). */
int json_string_repair(struct util_buf *b);

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
 * cJSON_PrintUnformatted), written without cJSON's per-number rescanning,
 * except that JSON_NUL is written \u0000. Use these, never cJSON_Print, for
 * trees that may hold JSON_NUL. */
char *json_print(const cJSON *n, bool pretty);

/* Appends n serialized as json_print does to b. UTIL_ERR_LIMIT past b's
 * limit, UTIL_ERR_NOMEM, UTIL_ERR_INVALID for a node cJSON could not
 * print either (a raw node without text). */
int json_write(struct util_buf *b, const cJSON *n, bool pretty);
/* json_write of n as if it were nested depth levels deep in a pretty
 * document (its members indented for that depth), to assemble a document
 * from parts written apart. */
int json_write_at(struct util_buf *b, const cJSON *n, bool pretty, size_t depth);

/* Serializes n as json_write does (compact) into b, truncated to at most
 * max bytes (with "..." when cut, never inside a UTF-8 sequence), for
 * messages. */
int json_print_short(struct util_buf *b, const cJSON *n, size_t max);

#endif
