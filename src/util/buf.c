#include "util/buf.h"

#include "util/error.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void util_buf_init(struct util_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->limit = limit;
    b->error = UTIL_OK;
}

void util_buf_finish(struct util_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
    b->error = UTIL_OK;
}

void util_buf_reset(struct util_buf *b)
{
    b->len = 0;
    b->error = UTIL_OK;
    if (b->data)
        b->data[0] = '\0';
}

/* Records the first failure of b and returns rc. */
static int failed(struct util_buf *b, int rc)
{
    if (b->error == UTIL_OK)
        b->error = rc;
    return rc;
}

static int reserve(struct util_buf *b, size_t extra)
{
    if (b->error == UTIL_ERR_NOMEM)
        return UTIL_ERR_NOMEM;
    if (extra > b->limit || b->len > b->limit - extra)
        return failed(b, UTIL_ERR_LIMIT);
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return UTIL_OK;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    char *p = realloc(b->data, n);
    if (!p)
        return failed(b, UTIL_ERR_NOMEM);
    b->data = p;
    b->alloc = n;
    return UTIL_OK;
}

int util_buf_append(struct util_buf *b, const void *data, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return UTIL_OK;
}

int util_buf_puts(struct util_buf *b, const char *s)
{
    return util_buf_append(b, s, strlen(s));
}

int util_buf_putc(struct util_buf *b, char c)
{
    /* The common case, room already there: no call, no checks beyond it. */
    if (b->len + 1 < b->alloc && b->len < b->limit && b->error != UTIL_ERR_NOMEM) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return UTIL_OK;
    }
    return util_buf_append(b, &c, 1);
}

int util_buf_vprintf(struct util_buf *b, const char *fmt, va_list ap)
{
    /* Formats once into the room already there, or into a small stack
     * buffer when there is less; only a longer text is measured, the
     * buffer grown and the text formatted again. */
    char small[256];
    size_t room = b->alloc > b->len ? b->alloc - b->len : 0;
    bool in_place = room >= sizeof(small);
    va_list ap2;
    va_copy(ap2, ap);
    int n =
        vsnprintf(in_place ? b->data + b->len : small, in_place ? room : sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return failed(b, UTIL_ERR_INVALID);
    if (!in_place && (size_t)n < sizeof(small))
        return util_buf_append(b, small, (size_t)n);
    if (in_place && (size_t)n < room && (size_t)n <= b->limit && b->len <= b->limit - (size_t)n) {
        b->len += (size_t)n;
        return UTIL_OK;
    }
    if (in_place)
        b->data[b->len] = '\0';
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return UTIL_OK;
}

int util_buf_printf(struct util_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = util_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *util_buf_steal(struct util_buf *b)
{
    char *p = b->data;
    if (!p) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    b->data = NULL;
    b->len = b->alloc = 0;
    b->error = UTIL_OK;
    return p;
}
