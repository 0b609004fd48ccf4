/* Five-field cron expressions: enough to give a schedule trigger its
 * nextRun. */
#include "mock/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Parses one number at *p. */
static int number(const char **p, long *out)
{
    if (!isdigit((unsigned char)**p))
        return -1;
    char *end;
    *out = strtol(*p, &end, 10);
    *p = end;
    return 0;
}

/* Parses one field into bits lo..hi; *star tells whether it was "*". */
static int field(const char **pp, int lo, int hi, uint64_t *bits, bool *star)
{
    const char *p = *pp;
    *bits = 0;
    *star = false;
    for (;;) {
        long a, b, step = 1;
        bool single = false;
        if (*p == '*') {
            a = lo;
            b = hi;
            p++;
            if (*p != '/')
                *star = true;
        } else {
            if (number(&p, &a))
                return -1;
            b = a;
            single = true;
            if (*p == '-') {
                single = false;
                p++;
                if (number(&p, &b))
                    return -1;
            }
        }
        if (*p == '/') {
            p++;
            if (number(&p, &step) || step < 1)
                return -1;
            if (single)
                b = hi; /* "5/10": from 5 to the end */
        }
        if (a < lo || b > hi || a > b)
            return -1;
        for (long i = a; i <= b; i += step)
            *bits |= 1ULL << i;
        if (*p != ',')
            break;
        p++;
        *star = false;
    }
    if (*p && *p != ' ' && *p != '\t')
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    *pp = p;
    return 0;
}

int mock_cron_parse(const char *text, struct mock_cron *out)
{
    const char *p = text;
    uint64_t b;
    bool star;
    while (*p == ' ' || *p == '\t')
        p++;
    memset(out, 0, sizeof(*out));
    if (field(&p, 0, 59, &b, &star))
        return -1;
    out->minute = b;
    if (field(&p, 0, 23, &b, &star))
        return -1;
    out->hour = (uint32_t)b;
    if (field(&p, 1, 31, &b, &out->mday_star))
        return -1;
    out->mday = (uint32_t)b;
    if (field(&p, 1, 12, &b, &star))
        return -1;
    out->month = (uint16_t)b;
    if (field(&p, 0, 7, &b, &out->wday_star))
        return -1;
    if (b & (1ULL << 7))
        b |= 1; /* 7 is Sunday too */
    out->wday = (uint8_t)(b & 0x7f);
    return *p ? -1 : 0;
}

int64_t mock_cron_next(const struct mock_cron *c, int64_t ms)
{
    int64_t minute = ms / 60000 + 1; /* strictly after */
    int64_t day = minute / 1440;
    int start_min = (int)(minute % 1440);
    /* Walk days (at most five years), then hours and minutes inside one. */
    for (int64_t n = 0; n < 5 * 366; n++, start_min = 0) {
        int64_t dd = day + n;
        /* civil date of dd */
        int64_t z = dd + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;
        int wday = (int)(((dd % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
        if (!(c->month & (1u << m)))
            continue;
        bool mday_ok = (c->mday >> d) & 1, wday_ok = (c->wday >> wday) & 1;
        bool day_ok = c->mday_star || c->wday_star ? (mday_ok && wday_ok) : (mday_ok || wday_ok);
        if (!day_ok)
            continue;
        for (int h = start_min / 60; h < 24; h++) {
            if (!((c->hour >> h) & 1))
                continue;
            for (int mi = h == start_min / 60 ? start_min % 60 : 0; mi < 60; mi++)
                if ((c->minute >> mi) & 1)
                    return (dd * 1440 + h * 60 + mi) * 60000;
        }
    }
    return -1;
}
