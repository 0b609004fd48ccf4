/* Error reporting shared by every module: library code fills a struct
 * util_error and returns its code; only cli/ prints. */
#ifndef INGESTCHECK_UTIL_ERROR_H
#define INGESTCHECK_UTIL_ERROR_H

#include <stddef.h>

enum util_status {
    UTIL_OK = 0,
    UTIL_ERR_NOMEM = -1,    /* allocation failed */
    UTIL_ERR_IO = -2,       /* reading or writing a file failed */
    UTIL_ERR_PARSE = -3,    /* input is not well-formed (JSON, YAML, ...) */
    UTIL_ERR_LIMIT = -4,    /* a named cap was exceeded */
    UTIL_ERR_INVALID = -5,  /* well-formed input that is semantically wrong */
    UTIL_ERR_NOTFOUND = -6, /* a reference or name does not resolve */
    UTIL_ERR_USAGE = -7,    /* bad arguments from the caller */
};

#define UTIL_ERROR_MESSAGE_MAX 1024

/* One error: a code, a one-line message for a person (util_error_set and
 * util_error_prefix escape control characters: \n, \xNN), and where it applies
 * (file and 1-based line/column; 0 when unknown). */
struct util_error {
    int code;
    int line;
    int column;
    char file[256];
    char message[UTIL_ERROR_MESSAGE_MAX];
};

/* Clears err (may be NULL). */
void util_error_clear(struct util_error *err);

/* Sets err->code and a printf-formatted message; returns code so callers can
 * write `return util_error_set(err, UTIL_ERR_IO, "...")`. err may be NULL. */
int util_error_set(struct util_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the location the error applies to; keeps code and message. */
void util_error_at(struct util_error *err, const char *file, int line, int column);

/* Prefixes the existing message with a printf-formatted context. */
void util_error_prefix(struct util_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Short name of a status code ("out of memory", "I/O error", ...). */
const char *util_status_name(int code);

#endif
