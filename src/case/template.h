/* Templates in case values, variables and captures.
 *
 * A string may hold `{{expr}}` placeholders; expr is one of
 *   name            a variable (from vars: or an earlier capture)
 *   env.NAME        the environment variable NAME (missing: an error)
 *   run.id          the run's identifier (prefix of resource names)
 *   uuid            a new random UUID v4 at each use
 *   now             the current time, RFC 3339 UTC ("2024-04-17T10:00:00Z")
 *   now - 1h        now shifted by N s, m, h or d (+ or -), at most 1000
 *                   years (CASE_CAP_NOW_SHIFT_S)
 *   name - 1h       a variable holding an RFC 3339 date-time, shifted the
 *                   same way; the result is RFC 3339 in UTC ("Z"), with the
 *                   fraction digits the value had
 * A string that is exactly one `{{name}}` takes the variable's JSON value
 * (a number stays a number); otherwise values are spliced in as text.
 *
 * The clock and the UUID source are hooks so that a replaying transport can
 * give back the values of a recording. */
#ifndef INGESTCHECK_CASE_TEMPLATE_H
#define INGESTCHECK_CASE_TEMPLATE_H

#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Hooks; any may be NULL (the real clock, a random UUID, getenv). */
struct case_template_hooks {
    time_t (*now)(void *user);
    void (*uuid)(void *user, char out[37]);
    const char *(*getenv)(void *user, const char *name);
    void *user;
};

/* Variables of one case execution. Not thread-safe: one per worker. */
struct case_vars;

/* run_id is copied; hooks (may be NULL) are copied. NULL on ENOMEM. */
struct case_vars *case_vars_create(const char *run_id, const struct case_template_hooks *hooks);
/* Accepts NULL. */
void case_vars_destroy(struct case_vars *v);
/* Removes every variable (keeps run id and hooks), for the next case. */
void case_vars_clear(struct case_vars *v);
/* Sets name to a copy of value. */
int case_vars_set(struct case_vars *v, const char *name, const cJSON *value);
/* Borrowed value or NULL. */
const cJSON *case_vars_get(const struct case_vars *v, const char *name);

/* Expands the placeholders of s. *out is a new cJSON (a string, or the
 * variable's value for a lone `{{name}}`); caller frees. UTIL_ERR_NOTFOUND
 * for an undefined variable or environment variable (err names it),
 * UTIL_ERR_PARSE for a malformed placeholder. */
int case_template_expand_string(struct case_vars *v, const char *s, cJSON **out,
                                struct util_error *err);

/* Same, always giving text: *out is a heap string (caller frees). */
int case_template_expand_text(struct case_vars *v, const char *s, char **out,
                              struct util_error *err);

/* Deep copy of in with every string value expanded (keys are not). */
int case_template_expand_json(struct case_vars *v, const cJSON *in, cJSON **out,
                              struct util_error *err);

/* Checks the placeholders of s without expanding. Calls on_var(name, user)
 * for each plain variable used (not env., run.id, uuid, now). Returns
 * UTIL_ERR_PARSE with a message when one is malformed. */
int case_template_scan(const char *s, void (*on_var)(const char *name, void *user), void *user,
                       struct util_error *err);

/* Whether s holds a placeholder. */
bool case_template_has(const char *s);

/* Takes a value out of doc by expression: a JSON Pointer ("/tasks/0/taskID",
 * "" for the whole) or a simple JSONPath ("$", "$.tasks[0].taskID",
 * "$['a b'][1]"). Returns the borrowed node, or NULL when it is absent. */
const cJSON *case_capture_eval(const cJSON *doc, const char *expr);

/* Whether expr is a well-formed capture path (pointer or JSONPath). */
bool case_capture_valid(const char *expr);

/* Formats t as RFC 3339 UTC into out (21 bytes at least). */
void case_format_time(time_t t, char out[32]);

/* An instant read from an RFC 3339 date-time: seconds since the epoch
 * (UTC), nanoseconds, and how many fraction digits it was written with
 * (at most 9). */
struct case_instant {
    long long s;
    long ns;
    int digits;
};

/* Parses an RFC 3339 date-time (2024-04-17T10:00:00.123+02:00) into *out.
 * Returns 0, or -1 when s is not one (out untouched). */
int case_instant_parse(const char *s, struct case_instant *out);
/* Writes t in UTC ("...Z") with its fraction digits into out; a year past
 * 0000..9999 is clamped to the first or last second of that range. */
void case_instant_format(const struct case_instant *t, char out[48]);
/* <0, 0, >0 as a is before, at or after b. */
int case_instant_cmp(const struct case_instant *a, const struct case_instant *b);

#endif
