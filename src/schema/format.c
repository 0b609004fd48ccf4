#include "schema/format.h"

#include "schema/regex.h"

#include <stdint.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Reads exactly n ASCII digits at s[*i]; false if any is not a digit. */
static bool read_digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    if (*i + (size_t)n > len)
        return false;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (!is_digit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return true;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* full-date (RFC 3339 section 5.6) at s[*i]. */
static bool parse_date(const char *s, size_t len, size_t *i)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    if (!read_digits(s, len, i, 4, &y) || *i >= len || s[(*i)++] != '-')
        return false;
    if (!read_digits(s, len, i, 2, &m) || *i >= len || s[(*i)++] != '-')
        return false;
    if (!read_digits(s, len, i, 2, &d))
        return false;
    if (m < 1 || m > 12 || d < 1)
        return false;
    int maxd = mdays[m - 1] + (m == 2 && leap_year(y) ? 1 : 0);
    return d <= maxd;
}

/* full-time (partial-time time-offset) at s[*i], to the end of s. */
static bool parse_time(const char *s, size_t len, size_t *i)
{
    int h, m, sec, oh = 0, om = 0, sign = 0;
    if (!read_digits(s, len, i, 2, &h) || *i >= len || s[(*i)++] != ':')
        return false;
    if (!read_digits(s, len, i, 2, &m) || *i >= len || s[(*i)++] != ':')
        return false;
    if (!read_digits(s, len, i, 2, &sec))
        return false;
    if (*i < len && s[*i] == '.') {
        (*i)++;
        size_t start = *i;
        while (*i < len && is_digit(s[*i]))
            (*i)++;
        if (*i == start)
            return false;
    }
    if (*i >= len)
        return false;
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
    } else if (s[*i] == '+' || s[*i] == '-') {
        sign = s[*i] == '+' ? 1 : -1;
        (*i)++;
        if (!read_digits(s, len, i, 2, &oh) || *i >= len || s[(*i)++] != ':')
            return false;
        if (!read_digits(s, len, i, 2, &om))
            return false;
        if (oh > 23 || om > 59)
            return false;
    } else {
        return false;
    }
    if (*i != len)
        return false;
    if (h > 23 || m > 59 || sec > 60)
        return false;
    if (sec == 60) {
        int utc = h * 60 + m - sign * (oh * 60 + om);
        utc = ((utc % 1440) + 1440) % 1440;
        if (utc != 23 * 60 + 59)
            return false;
    }
    return true;
}

static bool check_date_time(const char *s, size_t len)
{
    size_t i = 0;
    if (!parse_date(s, len, &i))
        return false;
    if (i >= len || (s[i] != 'T' && s[i] != 't'))
        return false;
    i++;
    return parse_time(s, len, &i);
}

static bool check_date(const char *s, size_t len)
{
    size_t i = 0;
    return parse_date(s, len, &i) && i == len;
}

static bool check_time(const char *s, size_t len)
{
    size_t i = 0;
    return parse_time(s, len, &i);
}

/* ISO 8601 duration as in RFC 3339 appendix A. */
static bool check_duration(const char *s, size_t len)
{
    static const char date_units[] = "YMD";
    static const char time_units[] = "HMS";
    size_t i = 0;
    if (len < 2 || s[i++] != 'P')
        return false;
    bool any = false, in_time = false, time_any = false;
    int last = -1;
    while (i < len) {
        if (s[i] == 'T') {
            if (in_time)
                return false;
            in_time = true;
            last = -1;
            i++;
            continue;
        }
        size_t st = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == st || i >= len)
            return false;
        char u = s[i++];
        if (u == 'W') {
            if (any || in_time || i != len)
                return false;
            return true;
        }
        const char *units = in_time ? time_units : date_units;
        const char *p = strchr(units, u);
        if (!p || u == '\0')
            return false;
        int idx = (int)(p - units);
        if (last >= 0 && idx != last + 1)
            return false;
        last = idx;
        any = true;
        if (in_time)
            time_any = true;
    }
    if (in_time && !time_any)
        return false;
    return any;
}

static bool check_uuid(const char *s, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}

static bool parse_ipv4(const char *s, size_t len)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t st = i;
        int v = 0;
        while (i < len && is_digit(s[i]) && i - st < 4)
            v = v * 10 + (s[i++] - '0');
        size_t n = i - st;
        if (n == 0 || n > 3 || v > 255 || (n > 1 && s[st] == '0'))
            return false;
    }
    return i == len;
}

static bool parse_ipv6(const char *s, size_t len)
{
    int groups = 0;
    bool dcolon = false;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        dcolon = true;
        i = 2;
        if (i == len)
            return true;
    } else if (len > 0 && s[0] == ':') {
        return false;
    }
    while (i < len) {
        size_t st = i;
        while (i < len && is_hex(s[i]) && i - st < 5)
            i++;
        size_t n = i - st;
        if (i < len && s[i] == '.') {
            /* embedded IPv4 in the last 32 bits */
            if (!parse_ipv4(s + st, len - st))
                return false;
            groups += 2;
            i = len;
            break;
        }
        if (n == 0 || n > 4)
            return false;
        groups++;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (dcolon)
                return false;
            dcolon = true;
            i++;
            if (i == len)
                break;
        } else if (i == len) {
            return false;
        }
    }
    return dcolon ? groups < 8 : groups == 8;
}

/* RFC 3492 punycode decoding of an xn-- label body; true when it decodes
 * to at least one non-ASCII code point. */
static bool punycode_ok(const char *s, size_t len)
{
    enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700 };
    uint32_t out[64];
    size_t nout = 0, b = 0;
    for (size_t j = 0; j < len; j++)
        if (s[j] == '-')
            b = j;
    size_t i0 = 0;
    if (b > 0) {
        for (size_t j = 0; j < b; j++) {
            if (nout >= 64)
                return false;
            out[nout++] = (unsigned char)s[j];
        }
        i0 = b + 1;
    }
    uint32_t n = 128, bias = 72, i = 0;
    size_t in = i0;
    if (in >= len)
        return false;
    while (in < len) {
        uint32_t oldi = i, w = 1;
        for (uint32_t k = BASE;; k += BASE) {
            if (in >= len)
                return false;
            char c = s[in++];
            uint32_t digit;
            if (c >= '0' && c <= '9')
                digit = (uint32_t)(c - '0' + 26);
            else if (c >= 'a' && c <= 'z')
                digit = (uint32_t)(c - 'a');
            else if (c >= 'A' && c <= 'Z')
                digit = (uint32_t)(c - 'A');
            else
                return false;
            if (digit > (UINT32_MAX - i) / w)
                return false;
            i += digit * w;
            uint32_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if (digit < t)
                break;
            if (w > UINT32_MAX / (BASE - t))
                return false;
            w *= BASE - t;
        }
        uint32_t delta = oldi == 0 ? (i - oldi) / DAMP : (i - oldi) / 2;
        delta += delta / (uint32_t)(nout + 1);
        uint32_t k = 0;
        while (delta > ((BASE - TMIN) * TMAX) / 2) {
            delta /= BASE - TMIN;
            k += BASE;
        }
        bias = k + (BASE - TMIN + 1) * delta / (delta + SKEW);
        n += i / (uint32_t)(nout + 1);
        i %= (uint32_t)(nout + 1);
        if (n > 0x10FFFF || nout >= 64)
            return false;
        memmove(out + i + 1, out + i, (nout - i) * sizeof(out[0]));
        out[i++] = n;
        nout++;
    }
    return nout > 0;
}

static bool check_hostname(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t i = 0;
    while (i <= len) {
        size_t st = i;
        while (i < len && s[i] != '.')
            i++;
        size_t n = i - st;
        if (n == 0 || n > 63)
            return false;
        const char *l = s + st;
        for (size_t k = 0; k < n; k++)
            if (!is_alpha(l[k]) && !is_digit(l[k]) && l[k] != '-')
                return false;
        if (l[0] == '-' || l[n - 1] == '-')
            return false;
        if (n >= 4 && l[2] == '-' && l[3] == '-') {
            if ((l[0] != 'x' && l[0] != 'X') || (l[1] != 'n' && l[1] != 'N'))
                return false;
            if (!punycode_ok(l + 4, n - 4))
                return false;
        }
        if (i == len)
            break;
        i++;
    }
    return true;
}

static bool is_atext(char c)
{
    return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static bool check_email(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0)
        return false;
    if (s[0] == '"') {
        i = 1;
        while (i < len && s[i] != '"') {
            if (s[i] == '\\')
                i++;
            else if ((unsigned char)s[i] < 0x20)
                return false;
            i++;
        }
        if (i >= len)
            return false;
        i++;
    } else {
        size_t st = i;
        bool prev_dot = true;
        while (i < len && s[i] != '@') {
            if (s[i] == '.') {
                if (prev_dot)
                    return false;
                prev_dot = true;
            } else if (is_atext(s[i])) {
                prev_dot = false;
            } else {
                return false;
            }
            i++;
        }
        if (i == st || prev_dot)
            return false;
    }
    if (i >= len || s[i] != '@')
        return false;
    i++;
    const char *d = s + i;
    size_t dn = len - i;
    if (dn >= 2 && d[0] == '[' && d[dn - 1] == ']') {
        if (dn > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
            return parse_ipv6(d + 6, dn - 7);
        return parse_ipv4(d + 1, dn - 2);
    }
    return check_hostname(d, dn);
}

static bool uri_unreserved(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool uri_sub_delim(char c)
{
    return c && strchr("!$&'()*+,;=", c) != NULL;
}

/* Checks n bytes made of pchar and the extra characters allowed. */
static bool uri_chars_ok(const char *s, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            if (!is_hex(s[i + 1]) || !is_hex(s[i + 2]))
                return false;
            i += 2;
        } else if (!uri_unreserved(c) && !uri_sub_delim(c) && c != ':' && c != '@' &&
                   !(c && strchr(extra, c))) {
            return false;
        }
    }
    return true;
}

static bool uri_authority_ok(const char *a, size_t n)
{
    const char *at = memchr(a, '@', n);
    size_t hs = 0;
    if (at) {
        size_t un = (size_t)(at - a);
        for (size_t i = 0; i < un; i++)
            if (a[i] == '@')
                return false;
        if (!uri_chars_ok(a, un, ""))
            return false;
        hs = un + 1;
    }
    const char *h = a + hs;
    size_t hn = n - hs;
    size_t hostlen;
    if (hn > 0 && h[0] == '[') {
        const char *close = memchr(h, ']', hn);
        if (!close)
            return false;
        hostlen = (size_t)(close - h) + 1;
        const char *lit = h + 1;
        size_t litn = hostlen - 2;
        if (litn > 0 && (lit[0] == 'v' || lit[0] == 'V')) {
            if (!uri_chars_ok(lit, litn, ""))
                return false;
        } else if (!parse_ipv6(lit, litn)) {
            return false;
        }
    } else {
        hostlen = 0;
        while (hostlen < hn && h[hostlen] != ':')
            hostlen++;
        for (size_t i = 0; i < hostlen; i++) {
            char c = h[i];
            if (c == '%') {
                if (i + 2 >= hostlen || !is_hex(h[i + 1]) || !is_hex(h[i + 2]))
                    return false;
                i += 2;
            } else if (!uri_unreserved(c) && !uri_sub_delim(c)) {
                return false;
            }
        }
    }
    if (hostlen < hn) {
        if (h[hostlen] != ':')
            return false;
        for (size_t i = hostlen + 1; i < hn; i++)
            if (!is_digit(h[i]))
                return false;
    }
    return true;
}

/* URI (need_scheme) or URI-reference per RFC 3986. */
static bool check_uri(const char *s, size_t len, bool need_scheme)
{
    size_t i = 0;
    bool scheme = false;
    if (len > 0 && is_alpha(s[0])) {
        size_t k = 1;
        while (k < len &&
               (is_alpha(s[k]) || is_digit(s[k]) || s[k] == '+' || s[k] == '-' || s[k] == '.'))
            k++;
        if (k < len && s[k] == ':') {
            scheme = true;
            i = k + 1;
        }
    }
    if (need_scheme && !scheme)
        return false;
    size_t pend = i;
    while (pend < len && s[pend] != '?' && s[pend] != '#')
        pend++;
    const char *path = s + i;
    size_t pn = pend - i;
    if (pn >= 2 && path[0] == '/' && path[1] == '/') {
        size_t an = 2;
        while (an < pn && path[an] != '/')
            an++;
        if (!uri_authority_ok(path + 2, an - 2))
            return false;
        path += an;
        pn -= an;
    } else if (!scheme) {
        size_t k = 0;
        while (k < pn && path[k] != '/') {
            if (path[k] == ':')
                return false;
            k++;
        }
    }
    if (!uri_chars_ok(path, pn, "/"))
        return false;
    i = pend;
    if (i < len && s[i] == '?') {
        size_t st = ++i;
        while (i < len && s[i] != '#')
            i++;
        if (!uri_chars_ok(s + st, i - st, "/?"))
            return false;
    }
    if (i < len && s[i] == '#') {
        i++;
        if (!uri_chars_ok(s + i, len - i, "/?"))
            return false;
    }
    return true;
}

static bool check_json_pointer(const char *s, size_t len)
{
    if (len > 0 && s[0] != '/')
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
            return false;
    return true;
}

static bool check_relative_json_pointer(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_digit(s[i]))
        i++;
    if (i == 0 || (i > 1 && s[0] == '0'))
        return false;
    if (i == len)
        return true;
    if (s[i] == '#')
        return i + 1 == len;
    return check_json_pointer(s + i, len - i);
}

static bool check_regex(const char *s, size_t len)
{
    if (memchr(s, '\0', len))
        return false;
    bool nomem = false;
    struct schema_regex *re = schema_regex_compile(s, NULL, 0, &nomem);
    if (!re)
        return nomem;
    schema_regex_destroy(re);
    return true;
}

enum schema_format schema_format_lookup(const char *name)
{
    static const struct {
        const char *name;
        enum schema_format f;
    } formats[] = {
        {"date-time", SCHEMA_FORMAT_DATE_TIME},
        {"date", SCHEMA_FORMAT_DATE},
        {"time", SCHEMA_FORMAT_TIME},
        {"duration", SCHEMA_FORMAT_DURATION},
        {"uuid", SCHEMA_FORMAT_UUID},
        {"uri", SCHEMA_FORMAT_URI},
        {"uri-reference", SCHEMA_FORMAT_URI_REFERENCE},
        {"email", SCHEMA_FORMAT_EMAIL},
        {"hostname", SCHEMA_FORMAT_HOSTNAME},
        {"ipv4", SCHEMA_FORMAT_IPV4},
        {"ipv6", SCHEMA_FORMAT_IPV6},
        {"regex", SCHEMA_FORMAT_REGEX},
        {"json-pointer", SCHEMA_FORMAT_JSON_POINTER},
        {"relative-json-pointer", SCHEMA_FORMAT_RELATIVE_JSON_POINTER},
    };
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, name) == 0)
            return formats[i].f;
    return SCHEMA_FORMAT_UNKNOWN;
}

bool schema_format_check(enum schema_format f, const char *s, size_t len)
{
    switch (f) {
    case SCHEMA_FORMAT_DATE_TIME:
        return check_date_time(s, len);
    case SCHEMA_FORMAT_DATE:
        return check_date(s, len);
    case SCHEMA_FORMAT_TIME:
        return check_time(s, len);
    case SCHEMA_FORMAT_DURATION:
        return check_duration(s, len);
    case SCHEMA_FORMAT_UUID:
        return check_uuid(s, len);
    case SCHEMA_FORMAT_URI:
        return check_uri(s, len, true);
    case SCHEMA_FORMAT_URI_REFERENCE:
        return check_uri(s, len, false);
    case SCHEMA_FORMAT_EMAIL:
        return check_email(s, len);
    case SCHEMA_FORMAT_HOSTNAME:
        return check_hostname(s, len);
    case SCHEMA_FORMAT_IPV4:
        return parse_ipv4(s, len);
    case SCHEMA_FORMAT_IPV6:
        return parse_ipv6(s, len);
    case SCHEMA_FORMAT_REGEX:
        return check_regex(s, len);
    case SCHEMA_FORMAT_JSON_POINTER:
        return check_json_pointer(s, len);
    case SCHEMA_FORMAT_RELATIVE_JSON_POINTER:
        return check_relative_json_pointer(s, len);
    case SCHEMA_FORMAT_UNKNOWN:
    default:
        return true;
    }
}
