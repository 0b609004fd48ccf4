#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void util_error_clear(struct util_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

int util_error_set(struct util_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
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
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
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
