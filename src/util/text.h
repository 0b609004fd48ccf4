/* Small character helpers shared by the parsers. */
#ifndef INGESTCHECK_UTIL_TEXT_H
#define INGESTCHECK_UTIL_TEXT_H

#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* U+FFFD, which stands for a byte that is not UTF-8. */
#define UTIL_UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Value of a hexadecimal digit, or -1 when c is not one. */
static inline int util_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Length of the longest prefix of s[0..n) that is well-formed UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF);
 * n when all of it is. */
size_t util_utf8_valid_prefix(const char *s, size_t n);
bool util_utf8_valid(const char *s, size_t n);

/* Replaces every byte of b->data from offset from on that is not part of
 * a well-formed UTF-8 sequence by UTIL_UTF8_REPLACEMENT, so that text from
 * a server can go into a UTF-8 report. UTIL_OK or UTIL_ERR_NOMEM. */
int util_utf8_repair(struct util_buf *b, size_t from);

#endif
