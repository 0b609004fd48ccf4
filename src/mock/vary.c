/* The options that vary the mock's conforming behaviour (the conformance
 * matrix: --latency, --clock-offset, --run-outcome, --run-events,
 * --preload): their parsers, and the draws they make per answer and per
 * run from the API's variation RNG. */
#include "mock/internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A decimal number in [0, max] at *p, which moves past it; -1 when none. */
static long long read_count(const char **p, long long max)
{
    if (!isdigit((unsigned char)**p))
        return -1;
    errno = 0;
    char *end;
    long long n = strtoll(*p, &end, 10);
    if (errno || n < 0 || n > max)
        return -1;
    *p = end;
    return n;
}

int mock_latency_parse(const char *text, long *ms, long *jitter, struct util_error *err)
{
    const char *p = text ? text : "";
    long long a = read_count(&p, MOCK_CAP_LATENCY_MS), b = 0;
    if (a >= 0 && *p == ':') {
        p++;
        b = read_count(&p, MOCK_CAP_LATENCY_MS);
    }
    if (a < 0 || b < 0 || *p)
        return util_error_set(err, UTIL_ERR_USAGE,
                              "--latency expects MS or MS:JITTER, milliseconds from 0 to %ld, "
                              "got '%.64s'",
                              MOCK_CAP_LATENCY_MS, text ? text : "");
    *ms = (long)a;
    *jitter = (long)b;
    return UTIL_OK;
}

int mock_offset_parse(const char *text, int64_t *ms, struct util_error *err)
{
    static const struct {
        const char *suffix;
        long long mul;
    } units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    const char *p = text ? text : "";
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    long long n = read_count(&p, MOCK_CAP_CLOCK_OFFSET_MS);
    for (size_t i = 0; n >= 0 && i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].suffix) != 0)
            continue;
        if (n > MOCK_CAP_CLOCK_OFFSET_MS / units[i].mul)
            break;
        *ms = sign * n * units[i].mul;
        return UTIL_OK;
    }
    return util_error_set(err, UTIL_ERR_USAGE,
                          "--clock-offset expects a signed duration such as -3h, +26h, 90m or "
                          "1500ms (units ms, s, m, h, d; within ten years), got '%.64s'",
                          text ? text : "");
}

int mock_outcome_parse(const char *text, enum mock_run_outcome *out, struct util_error *err)
{
    static const char *const names[] = {"success", "failure", "random"};
    for (int i = 0; text && i < 3; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (enum mock_run_outcome)i;
            return UTIL_OK;
        }
    }
    return util_error_set(err, UTIL_ERR_USAGE,
                          "--run-outcome expects success, failure or random, got '%.64s'",
                          text ? text : "");
}

int mock_events_parse(const char *text, int *min, int *max, struct util_error *err)
{
    const char *p = text ? text : "";
    long long a = read_count(&p, MOCK_CAP_RUN_EVENTS), b = a;
    if (a >= 0 && *p == ':') {
        p++;
        b = read_count(&p, MOCK_CAP_RUN_EVENTS);
    }
    if (a < 0 || b < 0 || *p || b < a)
        return util_error_set(err, UTIL_ERR_USAGE,
                              "--run-events expects N or MIN:MAX with 0 <= MIN <= MAX <= %d, "
                              "got '%.64s'",
                              MOCK_CAP_RUN_EVENTS, text ? text : "");
    *min = (int)a;
    *max = (int)b;
    return UTIL_OK;
}

int mock_preload_parse(const char *text, struct mock_preload *out, struct util_error *err)
{
    static const char *const kinds[] = {"authentications", "sources", "destinations", "tasks",
                                        "runs"};
    size_t counts[5] = {0};
    bool seen[5] = {false};
    const char *p = text ? text : "";
    if (!*p)
        return util_error_set(err, UTIL_ERR_USAGE,
                              "--preload expects KIND=N[,KIND=N]... (authentications, sources, "
                              "destinations, tasks, runs), got ''");
    while (*p) {
        const char *eq = strchr(p, '=');
        size_t n = eq ? (size_t)(eq - p) : strlen(p);
        int k = -1;
        for (int i = 0; i < 5; i++)
            if (strlen(kinds[i]) == n && strncmp(kinds[i], p, n) == 0)
                k = i;
        if (k < 0 || !eq)
            return util_error_set(err, UTIL_ERR_USAGE,
                                  "--preload: '%.*s' is not KIND=N with a kind of "
                                  "authentications, sources, destinations, tasks, runs",
                                  (int)(n > 64 ? 64 : n), p);
        if (seen[k])
            return util_error_set(err, UTIL_ERR_USAGE, "--preload: %s given twice", kinds[k]);
        seen[k] = true;
        p = eq + 1;
        long long v = read_count(&p, MOCK_CAP_PRELOAD);
        if (v < 0 || (*p && *p != ','))
            return util_error_set(err, UTIL_ERR_USAGE, "--preload: %s expects a count from 0 to %u",
                                  kinds[k], MOCK_CAP_PRELOAD);
        counts[k] = (size_t)v;
        if (*p == ',' && !*++p)
            return util_error_set(err, UTIL_ERR_USAGE, "--preload: a trailing comma");
    }
    out->authentications = counts[0];
    out->sources = counts[1];
    out->destinations = counts[2];
    out->tasks = counts[3];
    out->runs = counts[4];
    return UTIL_OK;
}

/* ---- draws ---- */

/* Uniform in [lo, hi]. */
static long long draw(struct mock_api *api, long long lo, long long hi)
{
    if (hi <= lo)
        return lo;
    return lo + (long long)(mock_rng_next(&api->vary_rng) % (uint64_t)(hi - lo + 1));
}

long mock_vary_latency(struct mock_api *api)
{
    if (!api->latency_ms && !api->latency_jitter_ms)
        return 0;
    long long d = api->latency_ms + draw(api, -api->latency_jitter_ms, api->latency_jitter_ms);
    return d > 0 ? (long)d : 0;
}

void mock_vary_run(struct mock_api *api, struct mock_run *r)
{
    if (strcmp(r->type, "discover") != 0)
        r->expected = (int)draw(api, api->run_events_min, api->run_events_max);
    r->fails = api->run_outcome == MOCK_RUN_FAILURE ||
               (api->run_outcome == MOCK_RUN_RANDOM && draw(api, 0, 1) == 1);
}
