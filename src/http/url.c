/* Target URLs checked before anything is sent; see http_url_check. */
#include "http/http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A character that may appear in a host name (ASCII letters, digits,
 * "-._~", or a byte of a UTF-8 name). */
static bool host_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c >= 0x80;
}

/* Checks [s, end) as "host[:port]" (host may be an [IPv6] literal). */
static int check_host_port(const char *s, const char *end, struct util_error *err)
{
    const char *host_end;
    if (s < end && *s == '[') {
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close || close == s + 1)
            return util_error_set(err, UTIL_ERR_USAGE, "has a malformed [IPv6] host");
        for (const char *p = s + 1; p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return util_error_set(err, UTIL_ERR_USAGE, "has a malformed [IPv6] host");
        host_end = close + 1;
        if (host_end < end && *host_end != ':')
            return util_error_set(err, UTIL_ERR_USAGE, "has a malformed [IPv6] host");
    } else {
        host_end = s;
        while (host_end < end && *host_end != ':')
            host_end++;
        if (host_end == s)
            return util_error_set(err, UTIL_ERR_USAGE, "has no host");
        for (const char *p = s; p < host_end; p++)
            if (!host_char((unsigned char)*p))
                return util_error_set(err, UTIL_ERR_USAGE, "has '%c' in its host name", *p);
    }
    if (host_end == end)
        return UTIL_OK;
    const char *port = host_end + 1;
    size_t n = (size_t)(end - port);
    unsigned long value = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)port[i]) || value > 65535)
            return util_error_set(err, UTIL_ERR_USAGE,
                                  "has the port '%.*s', not a number from 1 to 65535",
                                  (int)(n > 16 ? 16 : n), port);
        value = value * 10 + (unsigned long)(port[i] - '0');
    }
    if (n == 0 || n > 5 || value < 1 || value > 65535)
        return util_error_set(err, UTIL_ERR_USAGE,
                              "has the port '%.*s', not a number from 1 to 65535",
                              (int)(n > 16 ? 16 : n), port);
    return UTIL_OK;
}

int http_url_check(const char *url, struct util_error *err)
{
    if (!url || !*url)
        return util_error_set(err, UTIL_ERR_USAGE, "is empty (expected http://HOST[:PORT])");
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p == ' ')
            return util_error_set(err, UTIL_ERR_USAGE, "contains a space");
        if (*p < 0x20 || *p == 0x7f)
            return util_error_set(err, UTIL_ERR_USAGE, "contains the control character 0x%02X", *p);
    }
    const char *sep = strstr(url, "://");
    size_t slen = sep ? (size_t)(sep - url) : 0;
    if (!sep || slen == 0 ||
        strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789+-.") != slen)
        return util_error_set(err, UTIL_ERR_USAGE,
                              "is not an absolute URL (expected http://HOST[:PORT] or "
                              "https://HOST[:PORT])");
    if (!((slen == 4 && strncasecmp(url, "http", 4) == 0) ||
          (slen == 5 && strncasecmp(url, "https", 5) == 0)))
        return util_error_set(err, UTIL_ERR_USAGE,
                              "has the scheme '%.*s:'; only http and https are supported",
                              (int)(slen > 16 ? 16 : slen), url);
    const char *auth = sep + 3;
    const char *auth_end = auth + strcspn(auth, "/?#");
    if (*auth_end == '?' || *auth_end == '#' || strpbrk(auth_end, "?#"))
        return util_error_set(err, UTIL_ERR_USAGE,
                              "has a query or a fragment ('?' or '#'); a base URL is a prefix "
                              "of request paths");
    /* Userinfo (user:password@) is skipped: its letters are never echoed. */
    const char *at = NULL;
    for (const char *p = auth; p < auth_end; p++)
        if (*p == '@')
            at = p;
    const char *host = at ? at + 1 : auth;
    return check_host_port(host, auth_end, err);
}
