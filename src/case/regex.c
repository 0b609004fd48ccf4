/* $regex patterns: POSIX extended expressions, compiled by the C library
 * only once they are known to compile in bounded time; see case.h. */
#include "case/case.h"

#include "case/limits.h"

#include <stdio.h>
#include <string.h>

/* Nesting of groups the estimate follows (deeper is refused). */
#define GROUP_DEPTH 64

struct frame {
    size_t total; /* nodes of the group so far (every alternative) */
    size_t last;  /* nodes of the last atom, what a repetition repeats */
};

static size_t sat_add(size_t a, size_t b)
{
    return a > (size_t)-1 - b ? (size_t)-1 : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
    return b && a > (size_t)-1 / b ? (size_t)-1 : a * b;
}

/* Skips a bracket expression starting at p ('['); returns the character
 * after its ']', or NULL when it is not closed. */
static const char *skip_bracket(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++;
    while (*p && *p != ']') {
        if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            const char *end = strchr(p + 2, p[1]);
            while (end && end[1] != ']')
                end = strchr(end + 1, p[1]);
            if (!end)
                return NULL;
            p = end + 2;
        } else {
            p++;
        }
    }
    return *p ? p + 1 : NULL;
}

/* Reads "{m}", "{m,}" or "{m,n}" at p; *times is how many copies the C
 * library makes of the repeated atom. Returns the character after '}', or
 * NULL when it is not a well-formed bound (regcomp then says why). */
static const char *read_bound(const char *p, size_t *times)
{
    size_t m = 0, n = 0;
    bool comma = false, have_n = false;
    for (p++; *p >= '0' && *p <= '9'; p++)
        m = m > 100000 ? m : m * 10 + (size_t)(*p - '0');
    if (*p == ',') {
        comma = true;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            n = n > 100000 ? n : n * 10 + (size_t)(*p - '0');
            have_n = true;
        }
    }
    if (*p != '}')
        return NULL;
    size_t copies = !comma ? m : have_n ? n : m + 1;
    *times = copies ? copies : 1;
    return p + 1;
}

/* The number of nodes glibc's regcomp builds for pattern, roughly: every
 * repetition {m,n} copies its atom max(m, n) times, nested ones multiply.
 * Returns false with why set for a backreference or too deep a nesting. */
static bool estimate(const char *pattern, size_t *nodes, bool *expanded, char *why, size_t size)
{
    *expanded = false;
    struct frame st[GROUP_DEPTH + 1];
    size_t depth = 0;
    memset(&st[0], 0, sizeof st[0]);
    for (const char *p = pattern; *p;) {
        struct frame *f = &st[depth];
        size_t atom = 1, times = 0;
        switch (*p) {
        case '\\':
            if (p[1] >= '1' && p[1] <= '9') {
                snprintf(why, size, "backreferences (\\%c) are not supported", p[1]);
                return false;
            }
            p += p[1] ? 2 : 1;
            break;
        case '[': {
            const char *end = skip_bracket(p);
            p = end ? end : p + strlen(p);
            break;
        }
        case '(':
            if (depth == GROUP_DEPTH) {
                snprintf(why, size, "groups nested deeper than %d", GROUP_DEPTH);
                return false;
            }
            memset(&st[++depth], 0, sizeof st[0]);
            p++;
            continue;
        case ')':
            if (depth == 0) {
                p++;
                break;
            }
            atom = sat_add(st[depth--].total, 1);
            f = &st[depth];
            p++;
            break;
        case '|':
            f->last = 0;
            p++;
            continue;
        case '*':
        case '+':
        case '?':
            times = 2;
            p++;
            break;
        case '{': {
            const char *end = read_bound(p, &times);
            if (!end) {
                p++;
                break;
            }
            p = end;
            break;
        }
        default:
            p++;
            break;
        }
        if (times) {
            /* The last atom is copied: (times - 1) more of it. */
            size_t extra = sat_mul(f->last, times - 1);
            *expanded = *expanded || extra > 1;
            f->total = sat_add(f->total, extra);
            f->last = sat_add(f->last, extra);
        } else {
            f->total = sat_add(f->total, atom);
            f->last = atom;
        }
        if (f->total > CASE_CAP_REGEX_NODES)
            break;
    }
    size_t total = 0;
    for (size_t i = 0; i <= depth; i++)
        total = sat_add(total, st[i].total);
    *nodes = total;
    return true;
}

int case_regex_compile(regex_t *re, const char *pattern, char *why, size_t size)
{
    size_t nodes = 0;
    bool expanded = false;
    if (!estimate(pattern, &nodes, &expanded, why, size))
        return -1;
    if (nodes > CASE_CAP_REGEX_NODES && expanded) {
        snprintf(why, size,
                 "its repetitions expand to more than %d elements (nested {m,n} multiply)",
                 CASE_CAP_REGEX_NODES);
        return -1;
    }
    if (nodes > CASE_CAP_REGEX_NODES) {
        size_t alternatives = 1;
        for (const char *p = pattern; *p; p++)
            alternatives += *p == '|';
        snprintf(why, size,
                 "it is too long: more than %d elements (characters, classes, groups) where the "
                 "cap is %d; it has %zu alternatives",
                 CASE_CAP_REGEX_NODES, CASE_CAP_REGEX_NODES, alternatives);
        return -1;
    }
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        regerror(rc, re, why, size);
        regfree(re);
        return -1;
    }
    return 0;
}
