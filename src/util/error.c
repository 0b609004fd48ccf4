#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void util_error_clear(struct util_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

/* Copies src into dst (size bytes) as one line of text: control
 * characters (a newline inside a quoted YAML key, an escape sequence of a
 * file's content) are written as \n, \r, \t or \xNN, so that a message
 * is one line and cannot drive a terminal. Cut at size - 1 bytes. */
static void one_line(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        char esc[5];
        if (*p >= 0x20 && *p != 0x7f) {
            esc[0] = (char)*p;
            esc[1] = '\0';
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            esc[0] = '\\';
            esc[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
            esc[2] = '\0';
        } else {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
        }
        size_t m = strlen(esc);
        if (n + m >= size)
            break;
        memcpy(dst + n, esc, m);
        n += m;
    }
    dst[n] = '\0';
}

int util_error_set(struct util_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    char text[UTIL_ERROR_MESSAGE_MAX];
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    one_line(err->message, sizeof(err->message), text);
    return code;
}

void util_error_at(struct util_error *err, const char *file, int line, int column)
{
    if (!err)
        return;
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    err->column = column;
}

void util_error_prefix(struct util_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[UTIL_ERROR_MESSAGE_MAX];
    char old[UTIL_ERROR_MESSAGE_MAX];
    va_list ap;
    char text[UTIL_ERROR_MESSAGE_MAX];
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    one_line(prefix, sizeof(prefix), text);
    memcpy(old, err->message, sizeof(old));
    size_t n = strlen(prefix);
    if (n > sizeof(err->message) - 3)
        n = sizeof(err->message) - 3;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, ": ", 2);
    size_t room = sizeof(err->message) - n - 3;
    size_t m = strnlen(old, room);
    memcpy(err->message + n + 2, old, m);
    err->message[n + 2 + m] = '\0';
}

const char *util_status_name(int code)
{
    switch (code) {
    case UTIL_OK:
        return "ok";
    case UTIL_ERR_NOMEM:
        return "out of memory";
    case UTIL_ERR_IO:
        return "I/O error";
    case UTIL_ERR_PARSE:
        return "parse error";
    case UTIL_ERR_LIMIT:
        return "limit exceeded";
    case UTIL_ERR_INVALID:
        return "invalid";
    case UTIL_ERR_NOTFOUND:
        return "not found";
    case UTIL_ERR_USAGE:
        return "usage error";
    default:
        return "error";
    }
}
