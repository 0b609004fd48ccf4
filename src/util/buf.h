/* A growable byte buffer with a cap. Caller-owned storage: util_buf_init,
 * then util_buf_finish. data is always NUL-terminated after any append. */
#ifndef INGESTCHECK_UTIL_BUF_H
#define INGESTCHECK_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct util_buf {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes used, excluding the terminating NUL */
    size_t alloc; /* bytes allocated */
    size_t limit; /* cap on len; appends past it fail with UTIL_ERR_LIMIT */
    int error;    /* the first append failure (UTIL_OK: none). After
                     UTIL_ERR_NOMEM every append fails too, so text built
                     without checking each append is a prefix, never a
                     string with a piece missing; check error at the end. */
};

void util_buf_init(struct util_buf *b, size_t limit);
void util_buf_finish(struct util_buf *b);
/* Empties b (keeping its storage) and clears error. */
void util_buf_reset(struct util_buf *b);

/* Appends n bytes; returns UTIL_OK, UTIL_ERR_NOMEM or UTIL_ERR_LIMIT. */
int util_buf_append(struct util_buf *b, const void *data, size_t n);
int util_buf_puts(struct util_buf *b, const char *s);
int util_buf_putc(struct util_buf *b, char c);
int util_buf_printf(struct util_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int util_buf_vprintf(struct util_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Hands the data to the caller (free() it) and resets the buffer. Returns an
 * empty heap string when nothing was appended, NULL on allocation failure. */
char *util_buf_steal(struct util_buf *b);

#endif
