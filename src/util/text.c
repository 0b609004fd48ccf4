/* UTF-8 helpers shared by the parsers, the cassette writer and the
 * reports. */
#include "util/text.h"

#include "util/error.h"

#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 when it is
 * not one (overlong forms, surrogates and code points past U+10FFFF are
 * not well-formed, as RFC 3629 says). */
static size_t sequence_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t util_utf8_valid_prefix(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        size_t k = sequence_length(s + i, n - i);
        if (!k)
            break;
        i += k;
    }
    return i;
}

bool util_utf8_valid(const char *s, size_t n)
{
    return util_utf8_valid_prefix(s, n) == n;
}

int util_utf8_repair(struct util_buf *b, size_t from)
{
    if (!b->data || from >= b->len || util_utf8_valid(b->data + from, b->len - from))
        return UTIL_OK;
    struct util_buf out;
    /* A replacement is 3 bytes for 1. */
    util_buf_init(&out, b->limit > SIZE_MAX / 3 ? SIZE_MAX : b->limit * 3);
    int rc = util_buf_append(&out, b->data, from);
    const unsigned char *s = (const unsigned char *)b->data;
    for (size_t i = from; i < b->len && !rc;) {
        size_t k = sequence_length(s + i, b->len - i);
        if (k) {
            rc = util_buf_append(&out, b->data + i, k);
            i += k;
        } else {
            rc = util_buf_puts(&out, UTIL_UTF8_REPLACEMENT);
            i++;
        }
    }
    if (rc) {
        util_buf_finish(&out);
        return rc;
    }
    util_buf_finish(b);
    *b = out;
    return UTIL_OK;
}
