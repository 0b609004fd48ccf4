/* base64 (RFC 4648, standard alphabet, padded). */
#ifndef INGESTCHECK_UTIL_BASE64_H
#define INGESTCHECK_UTIL_BASE64_H

#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Appends the base64 of n bytes to out (an empty string for none). */
int util_base64_encode(const unsigned char *p, size_t n, struct util_buf *out);
/* Appends the bytes s[0..n) decodes to (whitespace skipped); false on
 * malformed input or when out is full. */
bool util_base64_decode(const char *s, size_t n, struct util_buf *out);

#endif
