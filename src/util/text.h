/* Small character helpers shared by the parsers. */
#ifndef INGESTCHECK_UTIL_TEXT_H
#define INGESTCHECK_UTIL_TEXT_H

#include "util/buf.h"
#include "util/error.h"

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

/* A position in a text read piece by piece: 1-based line (a line ends at
 * \n, \r\n or a lone \r) and column in characters (UTF-8 continuation
 * bytes do not count; a UTF-8 byte order mark at the start neither), as
 * libyaml counts its marks. */
struct util_text_pos {
    int line;
    int column;
    size_t offset; /* bytes seen so far */
    bool after_cr;
    /* The last byte seen that is no UTF-8 continuation byte, and where. */
    int lead_byte;
    int lead_line;
    int lead_column;
};

void util_text_pos_init(struct util_text_pos *p);
/* Moves p over the n bytes at s, which follow those already seen. */
void util_text_pos_advance(struct util_text_pos *p, const char *s, size_t n);

/* Sets err to "NAME:LINE:COL: what" for a YAML reader problem (libyaml's
 * problem text and value) at pos, whose byte is byte (-1 at the end of the
 * input): "byte 0xFF is not UTF-8" for an encoding problem (a sequence
 * with a bad trailing byte is named by its leading byte), "control
 * character U+0001 is not allowed ..." for a forbidden character. Returns
 * UTIL_ERR_PARSE. */
int util_text_reader_error(struct util_error *err, const char *name,
                           const struct util_text_pos *pos, const char *problem, int byte,
                           long value);

#endif
