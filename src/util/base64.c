/* base64 (RFC 4648). */
#include "util/base64.h"

#include "util/error.h"

#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int util_base64_encode(const unsigned char *p, size_t n, struct util_buf *out)
{
    int rc = UTIL_OK;
    size_t i = 0;
    for (; rc == UTIL_OK && i + 3 <= n; i += 3) {
        char q[4] = {b64_alphabet[p[i] >> 2], b64_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
                     b64_alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)],
                     b64_alphabet[p[i + 2] & 63]};
        rc = util_buf_append(out, q, 4);
    }
    if (rc == UTIL_OK && n - i == 1) {
        char q[4] = {b64_alphabet[p[i] >> 2], b64_alphabet[(p[i] & 3) << 4], '=', '='};
        rc = util_buf_append(out, q, 4);
    } else if (rc == UTIL_OK && n - i == 2) {
        char q[4] = {b64_alphabet[p[i] >> 2], b64_alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
                     b64_alphabet[(p[i + 1] & 15) << 2], '='};
        rc = util_buf_append(out, q, 4);
    }
    if (rc == UTIL_OK && !out->data)
        rc = util_buf_append(out, "", 0);
    return rc;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64_alphabet, c) : NULL;
    return p ? (int)(p - b64_alphabet) : -1;
}

bool util_base64_decode(const char *s, size_t n, struct util_buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    size_t pad = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad)
            return false;
        digits++;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (util_buf_putc(out, (char)((acc >> bits) & 0xff)))
                return false;
        }
    }
    if (pad > 2 || (digits + pad) % 4 != 0)
        return false;
    if (!out->data && util_buf_append(out, "", 0))
        return false;
    return true;
}
