/* The counting allocator of alloc_fail.h. Not thread-safe: the tests that
 * link it are single-threaded. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "alloc_fail.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym may allocate while the real functions are looked up: those few
 * blocks come from here and are never freed. */
static _Alignas(16) char boot[16384];
static size_t boot_used;
static bool resolving;

static bool armed, sticky, trace;
static size_t fail_at, seen, injected;
static long live;

/* *slot = the next definition of name (memcpy: ISO C has no cast from
 * an object pointer to a function pointer). */
static void lookup(void *slot, size_t size, const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    if (!sym || size != sizeof(sym))
        abort();
    memcpy(slot, &sym, size);
}

static void resolve(void)
{
    resolving = true;
    lookup(&real_malloc, sizeof(real_malloc), "malloc");
    lookup(&real_calloc, sizeof(real_calloc), "calloc");
    lookup(&real_realloc, sizeof(real_realloc), "realloc");
    lookup(&real_free, sizeof(real_free), "free");
    resolving = false;
}

static void *boot_alloc(size_t n)
{
    n = (n + 15u) & ~(size_t)15u;
    if (n > sizeof(boot) - boot_used)
        return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p;
}

static bool in_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + sizeof(boot);
}

/* Whether this allocation is to fail. */
static bool inject(void)
{
    if (!armed)
        return false;
    seen++;
    if (fail_at && (seen == fail_at || (sticky && seen > fail_at))) {
        injected++;
        if (trace && injected == 1) {
            void *frames[32];
            armed = false; /* backtrace() may allocate */
            int n = backtrace(frames, 32);
            backtrace_symbols_fd(frames, n, 2);
            armed = true;
        }
        return true;
    }
    return false;
}

void *malloc(size_t n)
{
    if (!real_malloc) {
        if (resolving)
            return boot_alloc(n);
        resolve();
    }
    if (inject()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = real_malloc(n);
    if (p)
        live++;
    return p;
}

void *calloc(size_t n, size_t size)
{
    if (!real_calloc) {
        if (resolving) {
            if (size && n > SIZE_MAX / size)
                return NULL;
            return boot_alloc(n * size); /* static storage: zeroed */
        }
        resolve();
    }
    if (inject()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = real_calloc(n, size);
    if (p)
        live++;
    return p;
}

void free(void *p)
{
    if (!p || in_boot(p))
        return;
    if (!real_free)
        resolve();
    live--;
    real_free(p);
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (n == 0) { /* glibc's and ASan's realloc(p, 0) free p */
        free(p);
        return NULL;
    }
    if (in_boot(p)) {
        void *q = malloc(n);
        if (q) {
            size_t avail = (size_t)(boot + sizeof(boot) - (char *)p);
            memcpy(q, p, n < avail ? n : avail);
        }
        return q;
    }
    if (!real_realloc)
        resolve();
    if (inject()) {
        errno = ENOMEM;
        return NULL;
    }
    return real_realloc(p, n);
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void alloc_fail_arm(size_t at, bool stick)
{
    fail_at = at;
    sticky = stick;
    seen = injected = 0;
    armed = true;
}

void alloc_fail_trace(bool on)
{
    void *frames[2];
    if (on && !trace)
        backtrace(frames, 2); /* loads libgcc_s now, not in a counted run */
    trace = on;
}

void alloc_fail_disarm(void)
{
    armed = false;
}

size_t alloc_fail_seen(void)
{
    return seen;
}

size_t alloc_fail_injected(void)
{
    return injected;
}

long alloc_fail_live(void)
{
    return live;
}
