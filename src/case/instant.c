/* RFC 3339 date-times as instants: parsing, shifting, formatting and
 * comparing, for template arithmetic ({{createdAt - 1h}}) and the date
 * bounds of range matchers. */
#include "case/template.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int case_instant_parse(const char *s, struct case_instant *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return -1;
    int year = num(s, 4), month = num(s + 5, 2), day = num(s + 8, 2);
    int hh = num(s + 11, 2), mm = num(s + 14, 2), ss = num(s + 17, 2);
    if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1] || hh > 23 || mm > 59 ||
        ss > 60)
        return -1;
    if (month == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return -1;
    const char *p = s + 19;
    long ns = 0;
    int nd = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, nd++)
            if (nd < 9)
                ns = ns * 10 + (*p - '0');
        for (int i = nd; i < 9; i++)
            ns *= 10;
    }
    long long offset = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset = 0;
    } else if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
               p[6] == '\0' && num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59) {
        offset = (num(p + 1, 2) * 3600LL + num(p + 4, 2) * 60LL) * (*p == '-' ? -1 : 1);
    } else {
        return -1;
    }
    out->s = days_from_civil(year, month, day) * 86400LL + hh * 3600LL + mm * 60LL + ss - offset;
    out->ns = ns;
    out->digits = nd > 9 ? 9 : nd;
    return 0;
}

void case_instant_format(const struct case_instant *t, char out[48])
{
    long long days = t->s / 86400, rem = t->s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    long long y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(out, 48, "%s", y < 0 ? "0000-01-01T00:00:00Z" : "9999-12-31T23:59:59Z");
        return;
    }
    int n = snprintf(out, 48, "%04lld-%02d-%02dT%02lld:%02lld:%02lld", y, m, d, rem / 3600,
                     rem / 60 % 60, rem % 60);
    if (t->digits > 0) {
        char frac[16];
        snprintf(frac, sizeof(frac), "%09ld", t->ns);
        n += snprintf(out + n, 48 - (size_t)n, ".%.*s", t->digits, frac);
    }
    snprintf(out + n, 48 - (size_t)n, "Z");
}

int case_instant_cmp(const struct case_instant *a, const struct case_instant *b)
{
    if (a->s != b->s)
        return a->s < b->s ? -1 : 1;
    return a->ns < b->ns ? -1 : a->ns > b->ns;
}
