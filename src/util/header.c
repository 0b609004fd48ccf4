/* Header names and values that can be sent; see header.h. */
#include "util/header.h"

#include <stdio.h>
#include <string.h>

bool util_header_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Names the control character c for a message. */
static void describe(unsigned char c, char *why, size_t size, const char *what)
{
    if (!why || !size)
        return;
    if (c == '\r')
        snprintf(why, size, "contains a carriage return (CR)%s", what);
    else if (c == '\n')
        snprintf(why, size, "contains a line feed (LF)%s", what);
    else if (c == '\0')
        snprintf(why, size, "contains a NUL byte%s", what);
    else if (c == ' ')
        snprintf(why, size, "contains a space%s", what);
    else if (c < 0x20 || c == 0x7f)
        snprintf(why, size, "contains the control character 0x%02X%s", c, what);
    else
        snprintf(why, size, "contains '%c'%s", c, what);
}

bool util_header_name_ok(const char *name, char *why, size_t size)
{
    if (!name || !*name) {
        if (why && size)
            snprintf(why, size, "is empty (a header name is an RFC 9110 token)");
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (!util_header_tchar(*p)) {
            describe(*p, why, size, " (a header name is an RFC 9110 token)");
            return false;
        }
    }
    return true;
}

bool util_header_value_ok(const char *value, size_t len, char *why, size_t size)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        /* 0xC0 0x80 is how a JSON string holds U+0000 (json.h's JSON_NUL). */
        if (c == 0xC0 && i + 1 < len && (unsigned char)value[i + 1] == 0x80)
            c = '\0';
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            describe(c, why, size, "");
            return false;
        }
    }
    return true;
}
