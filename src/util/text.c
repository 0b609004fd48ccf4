/* UTF-8 helpers shared by the parsers, the cassette writer and the
 * reports. */
#include "util/text.h"

#include "util/error.h"

#include <stdint.h>
#include <string.h>

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

void util_text_pos_init(struct util_text_pos *p)
{
    memset(p, 0, sizeof(*p));
    p->line = 1;
    p->column = 1;
    p->lead_byte = -1;
}

void util_text_pos_advance(struct util_text_pos *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, p->offset++) {
        unsigned char c = (unsigned char)s[i];
        bool cr = p->after_cr;
        p->after_cr = c == '\r';
        if ((c & 0xc0) != 0x80) {
            p->lead_byte = c;
            p->lead_line = p->line;
            p->lead_column = p->column;
        }
        if (c == '\n' && cr)
            continue; /* \r\n: the line ended at the \r */
        if (c == '\n' || c == '\r') {
            p->line++;
            p->column = 1;
        } else if ((c & 0xc0) != 0x80 && !(p->offset == 0 && c == 0xef)) {
            p->column++;
        }
    }
}

int util_text_reader_error(struct util_error *err, const char *name,
                           const struct util_text_pos *pos, const char *problem, int byte,
                           long value)
{
    const char *what = problem ? problem : "unreadable input";
    struct util_text_pos at = *pos;
    if (strstr(what, "trailing") && at.offset > 0) {
        byte = at.lead_byte;
        at.line = at.lead_line;
        at.column = at.lead_column;
    }
    pos = &at;
    if (strstr(what, "control characters"))
        util_error_set(err, UTIL_ERR_PARSE,
                       "%s:%d:%d: control character U+%04lX is not allowed (write it as an "
                       "escape in a double-quoted string)",
                       name, pos->line, pos->column, (unsigned long)value);
    else if (strstr(what, "UTF-8") || strstr(what, "Unicode")) {
        if (byte >= 0)
            util_error_set(err, UTIL_ERR_PARSE, "%s:%d:%d: byte 0x%02X is not UTF-8", name,
                           pos->line, pos->column, (unsigned)byte);
        else
            util_error_set(err, UTIL_ERR_PARSE,
                           "%s:%d:%d: the file ends inside a UTF-8 sequence", name, pos->line,
                           pos->column);
    } else {
        util_error_set(err, UTIL_ERR_PARSE, "%s:%d:%d: %s (expected UTF-8 text)", name,
                       pos->line, pos->column, what);
    }
    util_error_at(err, name, pos->line, pos->column);
    return UTIL_ERR_PARSE;
}
