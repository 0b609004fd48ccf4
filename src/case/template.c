/* Templates, variables and captures; see template.h. */
#include "case/template.h"

#include "case/limits.h"
#include "util/buf.h"
#include "json/json.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct var {
    char *name;
    cJSON *value;
};

struct case_vars {
    char *run_id;
    struct case_template_hooks hooks;
    struct var *items;
    size_t count;
    size_t alloc;
    uint64_t rng[2];
};

static uint64_t rng_next(uint64_t s[2])
{
    /* xorshift128+ */
    uint64_t a = s[0];
    const uint64_t b = s[1];
    s[0] = b;
    a ^= a << 23;
    s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return s[1] + b;
}

struct case_vars *case_vars_create(const char *run_id, const struct case_template_hooks *hooks)
{
    struct case_vars *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->run_id = strdup(run_id ? run_id : "");
    if (!v->run_id) {
        free(v);
        return NULL;
    }
    if (hooks)
        v->hooks = *hooks;
    if (getrandom(v->rng, sizeof(v->rng), 0) != (ssize_t)sizeof(v->rng)) {
        v->rng[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)v;
        v->rng[1] = 0x9e3779b97f4a7c15ull;
    }
    if (!v->rng[0] && !v->rng[1])
        v->rng[1] = 1;
    return v;
}

void case_vars_clear(struct case_vars *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++) {
        free(v->items[i].name);
        cJSON_Delete(v->items[i].value);
    }
    v->count = 0;
}

void case_vars_destroy(struct case_vars *v)
{
    if (!v)
        return;
    case_vars_clear(v);
    free(v->items);
    free(v->run_id);
    free(v);
}

int case_vars_set(struct case_vars *v, const char *name, const cJSON *value)
{
    cJSON *copy = cJSON_Duplicate(value, true);
    if (!copy)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < v->count; i++) {
        if (strcmp(v->items[i].name, name) == 0) {
            cJSON_Delete(v->items[i].value);
            v->items[i].value = copy;
            return UTIL_OK;
        }
    }
    if (v->count == CASE_CAP_VARIABLES) {
        cJSON_Delete(copy);
        return UTIL_ERR_LIMIT;
    }
    if (v->count == v->alloc) {
        size_t n = v->alloc ? v->alloc * 2 : 16;
        struct var *p = realloc(v->items, n * sizeof(*p));
        if (!p) {
            cJSON_Delete(copy);
            return UTIL_ERR_NOMEM;
        }
        v->items = p;
        v->alloc = n;
    }
    v->items[v->count].name = strdup(name);
    if (!v->items[v->count].name) {
        cJSON_Delete(copy);
        return UTIL_ERR_NOMEM;
    }
    v->items[v->count++].value = copy;
    return UTIL_OK;
}

const cJSON *case_vars_get(const struct case_vars *v, const char *name)
{
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->items[i].name, name) == 0)
            return v->items[i].value;
    return NULL;
}

void case_format_time(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        /* Not reachable from a template (the shift is capped); a clock
         * hook gave a time RFC 3339 cannot write. */
        snprintf(out, 32, "%s", t < 0 ? "0000-01-01T00:00:00Z" : "9999-12-31T23:59:59Z");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- placeholder parsing ---- */

enum expr_kind { EXPR_VAR, EXPR_ENV, EXPR_RUN_ID, EXPR_UUID, EXPR_NOW };

struct expr {
    enum expr_kind kind;
    char name[256];    /* variable or environment name */
    long long shift_s; /* for now, and a shifted variable */
    bool shifted;      /* a variable with "+ N<unit>" or "- N<unit>" */
};

static bool ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Parses " - 1h" (from s[i] to s[len]): a sign, a count of at most 9
 * digits and one of s, m, h, d, spaces allowed between. Returns 0 with
 * *shift in seconds, -1 when malformed, -2 past CASE_CAP_NOW_SHIFT_S. */
static int parse_shift(const char *s, size_t i, size_t len, long long *shift)
{
    *shift = 0;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    if (i == len)
        return 0;
    char sign = s[i++];
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    long n = 0;
    size_t digits = 0;
    while (i < len && isdigit((unsigned char)s[i]) && digits < 9) {
        n = n * 10 + (s[i++] - '0');
        digits++;
    }
    long unit = 0;
    if (i + 1 == len) {
        switch (s[i]) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            break;
        }
    }
    if ((sign != '+' && sign != '-') || !digits || !unit)
        return -1;
    if ((long long)n * unit > CASE_CAP_NOW_SHIFT_S)
        return -2;
    *shift = (sign == '-' ? -1 : 1) * (long long)n * unit;
    return 0;
}

/* Parses the text between {{ and }} (len bytes). */
static int parse_expr(const char *s, size_t len, struct expr *e, struct util_error *err)
{
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    memset(e, 0, sizeof(*e));
    if (len == 0)
        return util_error_set(err, UTIL_ERR_PARSE, "empty placeholder {{}}");
    if (len >= sizeof(e->name))
        return util_error_set(err, UTIL_ERR_PARSE, "placeholder too long");
    if (len == 6 && strncmp(s, "run.id", 6) == 0) {
        e->kind = EXPR_RUN_ID;
        return UTIL_OK;
    }
    if (len == 4 && strncmp(s, "uuid", 4) == 0) {
        e->kind = EXPR_UUID;
        return UTIL_OK;
    }
    if (len >= 3 && strncmp(s, "now", 3) == 0 && (len == 3 || !ident_char(s[3]))) {
        e->kind = EXPR_NOW;
        int r = parse_shift(s, 3, len, &e->shift_s);
        if (r == -1)
            return util_error_set(err, UTIL_ERR_PARSE,
                                  "malformed placeholder {{%.*s}} (expected now, now - 1h, "
                                  "now + 30m: a number and one of s, m, h, d)",
                                  (int)len, s);
        if (r == -2)
            return util_error_set(err, UTIL_ERR_PARSE,
                                  "placeholder {{%.*s}} shifts the time by more than 1000 years",
                                  (int)len, s);
        return UTIL_OK;
    }
    if (len > 4 && strncmp(s, "env.", 4) == 0) {
        for (size_t i = 4; i < len; i++)
            if (!ident_char(s[i]))
                goto bad;
        e->kind = EXPR_ENV;
        memcpy(e->name, s + 4, len - 4);
        return UTIL_OK;
    }
    if (!ident_start(s[0]))
        goto bad;
    size_t n = 1;
    while (n < len && ident_char(s[n]))
        n++;
    e->kind = EXPR_VAR;
    memcpy(e->name, s, n);
    if (n == len)
        return UTIL_OK;
    int r = parse_shift(s, n, len, &e->shift_s);
    if (r == -1)
        return util_error_set(err, UTIL_ERR_PARSE,
                              "malformed placeholder {{%.*s}} (expected a variable name, or a "
                              "date-time variable shifted as in name - 1h, name + 30s: a number "
                              "and one of s, m, h, d)",
                              (int)len, s);
    if (r == -2)
        return util_error_set(err, UTIL_ERR_PARSE,
                              "placeholder {{%.*s}} shifts the time by more than 1000 years",
                              (int)len, s);
    e->shifted = true;
    return UTIL_OK;
bad:
    return util_error_set(err, UTIL_ERR_PARSE,
                          "malformed placeholder {{%.*s}} (expected a variable name, env.NAME, "
                          "run.id, uuid, now or now - 1h)",
                          (int)len, s);
}

/* Finds the next placeholder at or after s: *open at "{{", *close at "}}".
 * Returns 0 when none, 1 when found, -1 when "{{" is not closed. */
static int next_placeholder(const char *s, const char **open, const char **close)
{
    const char *o = strstr(s, "{{");
    if (!o)
        return 0;
    const char *c = strstr(o + 2, "}}");
    if (!c)
        return -1;
    *open = o;
    *close = c;
    return 1;
}

bool case_template_has(const char *s)
{
    return s && strstr(s, "{{") != NULL;
}

int case_template_scan(const char *s, void (*on_var)(const char *name, void *user), void *user,
                       struct util_error *err)
{
    const char *p = s, *o, *c;
    int r;
    while ((r = next_placeholder(p, &o, &c)) == 1) {
        struct expr e;
        int rc = parse_expr(o + 2, (size_t)(c - o - 2), &e, err);
        if (rc)
            return rc;
        if (e.kind == EXPR_VAR && on_var)
            on_var(e.name, user);
        p = c + 2;
    }
    if (r < 0)
        return util_error_set(err, UTIL_ERR_PARSE, "unterminated placeholder: '{{' without '}}'");
    return UTIL_OK;
}

static void make_uuid(struct case_vars *v, char out[37])
{
    if (v->hooks.uuid) {
        v->hooks.uuid(v->hooks.user, out);
        return;
    }
    uint8_t b[16];
    uint64_t x = rng_next(v->rng), y = rng_next(v->rng);
    memcpy(b, &x, 8);
    memcpy(b + 8, &y, 8);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* Evaluates e; *out is a new cJSON value. */
static int eval_expr(struct case_vars *v, const struct expr *e, cJSON **out, struct util_error *err)
{
    char buf[64];
    switch (e->kind) {
    case EXPR_RUN_ID:
        *out = cJSON_CreateString(v->run_id);
        break;
    case EXPR_UUID:
        make_uuid(v, buf);
        *out = cJSON_CreateString(buf);
        break;
    case EXPR_NOW: {
        time_t t = v->hooks.now ? v->hooks.now(v->hooks.user) : time(NULL);
        case_format_time(t + e->shift_s, buf);
        *out = cJSON_CreateString(buf);
        break;
    }
    case EXPR_ENV: {
        const char *val =
            v->hooks.getenv ? v->hooks.getenv(v->hooks.user, e->name) : getenv(e->name);
        if (!val)
            return util_error_set(err, UTIL_ERR_NOTFOUND,
                                  "environment variable %s is not set ({{env.%s}})", e->name,
                                  e->name);
        *out = cJSON_CreateString(val);
        break;
    }
    case EXPR_VAR: {
        const cJSON *val = case_vars_get(v, e->name);
        if (!val)
            return util_error_set(err, UTIL_ERR_NOTFOUND, "undefined variable '%s'", e->name);
        if (!e->shifted) {
            *out = cJSON_Duplicate(val, true);
            break;
        }
        struct case_instant t;
        if (!cJSON_IsString(val) || case_instant_parse(val->valuestring, &t) != 0)
            return util_error_set(err, UTIL_ERR_INVALID,
                                  "variable '%s' is not an RFC 3339 date-time, so it cannot be "
                                  "shifted in {{%s %c %llds}}",
                                  e->name, e->name, e->shift_s < 0 ? '-' : '+',
                                  e->shift_s < 0 ? -e->shift_s : e->shift_s);
        t.s += e->shift_s;
        case_instant_format(&t, buf);
        *out = cJSON_CreateString(buf);
        break;
    }
    }
    if (!*out)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    return UTIL_OK;
}

/* Appends the text form of a value: strings raw, others as compact JSON. */
static int append_value(struct util_buf *b, const cJSON *val)
{
    if (cJSON_IsString(val))
        return util_buf_puts(b, val->valuestring);
    char *s = json_print(val, false);
    if (!s)
        return UTIL_ERR_NOMEM;
    int rc = util_buf_puts(b, s);
    free(s);
    return rc;
}

/* The error of a string expansion that could not grow (rc). */
static void expansion_error(struct util_error *err, int rc)
{
    if (rc == UTIL_ERR_LIMIT)
        util_error_set(err, rc,
                       "the expanded value would exceed %u bytes (placeholders that multiply "
                       "each other?)",
                       (unsigned)CASE_CAP_EXPANDED);
    else
        util_error_set(err, rc, "out of memory expanding a template");
}

int case_template_expand_string(struct case_vars *v, const char *s, cJSON **out,
                                struct util_error *err)
{
    *out = NULL;
    const char *o, *c;
    int r = next_placeholder(s, &o, &c);
    if (r < 0)
        return util_error_set(err, UTIL_ERR_PARSE, "unterminated placeholder: '{{' without '}}'");
    if (r == 0) {
        *out = cJSON_CreateString(s);
        return *out ? UTIL_OK : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    struct expr e;
    int rc;
    if (o == s && c[2] == '\0') {
        /* A lone placeholder keeps the value's type. */
        rc = parse_expr(o + 2, (size_t)(c - o - 2), &e, err);
        if (rc)
            return rc;
        return eval_expr(v, &e, out, err);
    }
    struct util_buf b;
    util_buf_init(&b, CASE_CAP_EXPANDED);
    const char *p = s;
    rc = UTIL_OK;
    while (!rc && (r = next_placeholder(p, &o, &c)) == 1) {
        cJSON *val = NULL;
        rc = util_buf_append(&b, p, (size_t)(o - p));
        if (!rc)
            rc = parse_expr(o + 2, (size_t)(c - o - 2), &e, err);
        if (!rc)
            rc = eval_expr(v, &e, &val, err);
        if (!rc) {
            rc = append_value(&b, val);
            if (rc)
                expansion_error(err, rc);
        }
        cJSON_Delete(val);
        p = c + 2;
    }
    if (!rc && r < 0)
        rc = util_error_set(err, UTIL_ERR_PARSE, "unterminated placeholder: '{{' without '}}'");
    if (!rc && (rc = util_buf_puts(&b, p)) != UTIL_OK)
        expansion_error(err, rc);
    if (!rc) {
        *out = cJSON_CreateString(b.data ? b.data : "");
        if (!*out)
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    util_buf_finish(&b);
    return rc;
}

int case_template_expand_text(struct case_vars *v, const char *s, char **out,
                              struct util_error *err)
{
    cJSON *val = NULL;
    *out = NULL;
    int rc = case_template_expand_string(v, s, &val, err);
    if (rc)
        return rc;
    if (cJSON_IsString(val)) {
        *out = strdup(val->valuestring);
    } else {
        *out = json_print(val, false);
    }
    cJSON_Delete(val);
    return *out ? UTIL_OK : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
}

int case_template_expand_json(struct case_vars *v, const cJSON *in, cJSON **out,
                              struct util_error *err)
{
    *out = NULL;
    if (cJSON_IsString(in))
        return case_template_expand_string(v, in->valuestring, out, err);
    if (!cJSON_IsArray(in) && !cJSON_IsObject(in)) {
        *out = cJSON_Duplicate(in, false);
        return *out ? UTIL_OK : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    cJSON *res = cJSON_IsArray(in) ? cJSON_CreateArray() : cJSON_CreateObject();
    if (!res)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, in)
    {
        cJSON *child = NULL;
        int rc = case_template_expand_json(v, it, &child, err);
        if (rc) {
            cJSON_Delete(res);
            return rc;
        }
        if (cJSON_IsArray(in))
            cJSON_AddItemToArray(res, child);
        else
            cJSON_AddItemToObject(res, it->string, child);
    }
    *out = res;
    return UTIL_OK;
}

/* ---- captures ---- */

/* Parses the index of "[N]" at p (digits only: no sign, no space) into
 * *idx; returns the character after ']' or NULL when malformed. An index
 * past INT_MAX is well-formed but names no item (*idx = -1). */
static const char *parse_index(const char *p, long *idx)
{
    if (!isdigit((unsigned char)*p))
        return NULL;
    long v = 0;
    for (; isdigit((unsigned char)*p); p++)
        v = v > INT_MAX ? v : v * 10 + (*p - '0');
    if (*p != ']')
        return NULL;
    *idx = v > INT_MAX ? -1 : v;
    return p + 1;
}

/* The member of object o named by the n bytes at k, or NULL. */
static const cJSON *member(const cJSON *o, const char *k, size_t n)
{
    const cJSON *it;
    if (!cJSON_IsObject(o))
        return NULL;
    cJSON_ArrayForEach(it, o)
    {
        if (it->string && strlen(it->string) == n && memcmp(it->string, k, n) == 0)
            return it;
    }
    return NULL;
}

/* Walks a simple JSONPath; returns NULL when absent or malformed. With
 * doc == NULL only checks the syntax (returns a non-NULL sentinel when
 * valid). Keys (no escapes) are compared in place: any length works. */
static const cJSON *jsonpath(const cJSON *doc, const char *p, bool *ok)
{
    static const cJSON sentinel;
    const cJSON *cur = doc;
    *ok = false;
    if (*p++ != '$')
        return NULL;
    while (*p) {
        const char *k;
        size_t n;
        if (*p == '.') {
            k = ++p;
            n = strcspn(p, ".[");
            if (!n)
                return NULL;
            p += n;
            cur = cur ? member(cur, k, n) : NULL;
        } else if (*p == '[' && (p[1] == '\'' || p[1] == '"')) {
            char q[2] = {p[1], '\0'};
            k = p + 2;
            n = strcspn(k, q);
            if (k[n] != q[0] || k[n + 1] != ']')
                return NULL;
            p = k + n + 2;
            cur = cur ? member(cur, k, n) : NULL;
        } else if (*p == '[') {
            long idx = 0;
            p = parse_index(p + 1, &idx);
            if (!p)
                return NULL;
            if (cur)
                cur = cJSON_IsArray(cur) && idx >= 0 ? cJSON_GetArrayItem(cur, (int)idx) : NULL;
        } else {
            return NULL;
        }
    }
    *ok = true;
    return doc ? cur : &sentinel;
}

const cJSON *case_capture_eval(const cJSON *doc, const char *expr)
{
    bool ok;
    if (!doc || !expr)
        return NULL;
    if (expr[0] == '$')
        return jsonpath(doc, expr, &ok);
    if (expr[0] == '/' || expr[0] == '\0')
        return json_pointer_get(doc, expr, false); /* RFC 6901 */
    return NULL;
}

bool case_capture_valid(const char *expr)
{
    bool ok = false;
    if (!expr)
        return false;
    if (expr[0] == '$') {
        jsonpath(NULL, expr, &ok);
        return ok;
    }
    if (strncmp(expr, "header:", 7) == 0)
        return expr[7] != '\0';
    return expr[0] == '/' || expr[0] == '\0';
}
