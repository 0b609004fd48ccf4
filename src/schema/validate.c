#include "schema/internal.h"

#include "util/buf.h"
#include "util/caps.h"
#include "json/json.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_ENUM_LIST_MAX 20
#define SC_VALUE_SHOW_MAX 60
#define SC_ANNOT_INLINE_WORDS 4
#define SC_SEEN_WORDS 4

/* One step of evaluation: schema s applied to instance inst, reached from
 * up through the keyword path kw[/kw_key][/kw_idx] and the instance path
 * ikey or iidx. Frames live on the C stack. */
struct frame {
    const struct frame *up;
    const struct schema *s;
    const cJSON *inst;
    const char *kw;
    const char *kw_key;
    long kw_idx;
    const char *ikey;
    long iidx;
};

struct ctx {
    struct schema_result *res; /* NULL for yes/no validation */
    bool collect;              /* record violations now */
    bool check_formats;
    int status; /* UTIL_OK, or why evaluation was aborted */
    unsigned depth;
    char abort_msg[UTIL_ERROR_MESSAGE_MAX];
    struct schema_violation abort_v;
    bool has_abort_v;
    bool no_fast;      /* fv() gave up once (dynamic scope, annotations): stop trying it */
    unsigned in_retry; /* collecting the violations of a failed anyOf/oneOf */
};

/* Which properties/items of one instance were evaluated (for
 * unevaluatedProperties and unevaluatedItems). */
struct annot {
    bool all;
    size_t upto; /* items [0, upto) evaluated */
    size_t n;
    uint64_t *bits;
    uint64_t inl[SC_ANNOT_INLINE_WORDS];
};

struct rmark {
    size_t count;
    bool truncated;
};

/* ---- JSON hashing consistent with json_equal ---- */

static uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

uint32_t schema_json_hash(const cJSON *n)
{
    if (cJSON_IsNumber(n)) {
        double d = n->valuedouble;
        uint64_t bits;
        if (d == 0)
            d = 0;
        memcpy(&bits, &d, sizeof(bits));
        return mix32((uint32_t)bits ^ (uint32_t)(bits >> 32) ^ 0x9e3779b9u);
    }
    if (cJSON_IsString(n)) {
        uint32_t h = 2166136261u;
        for (const char *p = n->valuestring; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        return h ^ 0x5bd1e995u;
    }
    if (cJSON_IsTrue(n))
        return 0x1b873593u;
    if (cJSON_IsFalse(n))
        return 0xcc9e2d51u;
    if (cJSON_IsNull(n))
        return 0xe6546b64u;
    if (cJSON_IsArray(n)) {
        uint32_t h = 0x85ebca6bu;
        const cJSON *c;
        cJSON_ArrayForEach(c, n) h = h * 31u + schema_json_hash(c);
        return mix32(h);
    }
    if (cJSON_IsObject(n)) {
        uint32_t h = 0xc2b2ae35u;
        const cJSON *c;
        cJSON_ArrayForEach(c, n)
        {
            uint32_t k = 2166136261u;
            for (const char *p = c->string; *p; p++)
                k = (k ^ (unsigned char)*p) * 16777619u;
            h += mix32(k * 31u + schema_json_hash(c));
        }
        return mix32(h);
    }
    return 0;
}

/* ---- results ---- */

void schema_result_init(struct schema_result *res)
{
    memset(res, 0, sizeof(*res));
    res->valid = true;
}

static void viol_free(struct schema_violation *v)
{
    free(v->instance_location);
    free(v->keyword_location);
    free(v->absolute_location);
    free(v->message);
    memset(v, 0, sizeof(*v));
}

void schema_result_finish(struct schema_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->count; i++)
        viol_free(&res->items[i]);
    free(res->items);
    schema_result_init(res);
}

static struct rmark rmark_get(const struct ctx *c)
{
    struct rmark m = {0, false};
    if (c->res) {
        m.count = c->res->count;
        m.truncated = c->res->truncated;
    }
    return m;
}

static void rollback_to(struct ctx *c, struct rmark m)
{
    if (!c->res)
        return;
    for (size_t i = m.count; i < c->res->count; i++)
        viol_free(&c->res->items[i]);
    c->res->count = m.count;
    c->res->truncated = m.truncated;
}

/* Frees [at, start) and moves [start, count) down to at. */
static void keep_tail(struct schema_result *r, size_t at, size_t start)
{
    if (start == at)
        return;
    for (size_t i = at; i < start; i++)
        viol_free(&r->items[i]);
    memmove(&r->items[at], &r->items[start], (r->count - start) * sizeof(r->items[0]));
    r->count -= start - at;
}

static int result_reserve(struct schema_result *r)
{
    if (r->count < r->alloc)
        return UTIL_OK;
    size_t na = r->alloc ? r->alloc * 2 : 8;
    struct schema_violation *ni = realloc(r->items, na * sizeof(*ni));
    if (!ni)
        return UTIL_ERR_NOMEM;
    r->items = ni;
    r->alloc = na;
    return UTIL_OK;
}

/* ---- locations and messages ---- */

static int inst_path(struct util_buf *b, const struct frame *f)
{
    int rc = UTIL_OK;
    if (f->up)
        rc = inst_path(b, f->up);
    if (!rc && f->ikey)
        rc = json_pointer_append(b, f->ikey);
    else if (!rc && f->iidx >= 0)
        rc = json_pointer_append_index(b, (size_t)f->iidx);
    return rc;
}

static int kw_path(struct util_buf *b, const struct frame *f)
{
    int rc = UTIL_OK;
    if (f->up)
        rc = kw_path(b, f->up);
    if (!rc && f->kw)
        rc = json_pointer_append(b, f->kw);
    if (!rc && f->kw_key)
        rc = json_pointer_append(b, f->kw_key);
    if (!rc && f->kw_idx >= 0)
        rc = json_pointer_append_index(b, (size_t)f->kw_idx);
    return rc;
}

static char *steal_or_empty(struct util_buf *b)
{
    return util_buf_steal(b);
}

/* Builds the violation for keyword kw (and kw_key) of f->s with message
 * msg (the instance pointer prefix is added here). */
static int build_violation(const struct frame *f, const char *kw, const char *kw_key,
                           const char *msg, struct schema_violation *v)
{
    struct util_buf b;
    int rc;
    memset(v, 0, sizeof(*v));
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    rc = inst_path(&b, f);
    if (rc == UTIL_ERR_NOMEM)
        goto fail;
    v->instance_location = steal_or_empty(&b);
    rc = kw_path(&b, f);
    if (!rc && kw)
        rc = json_pointer_append(&b, kw);
    if (!rc && kw_key)
        rc = json_pointer_append(&b, kw_key);
    if (rc == UTIL_ERR_NOMEM)
        goto fail;
    v->keyword_location = steal_or_empty(&b);
    const struct sc_nodeinfo *in = f->s->info;
    rc = util_buf_printf(&b, "%s#%s", in->res->uri, in->ptr);
    if (!rc && kw)
        rc = json_pointer_append(&b, kw);
    if (!rc && kw_key)
        rc = json_pointer_append(&b, kw_key);
    if (rc == UTIL_ERR_NOMEM)
        goto fail;
    v->absolute_location = steal_or_empty(&b);
    rc = util_buf_printf(&b, "%s: %s",
                         v->instance_location && *v->instance_location ? v->instance_location : "/",
                         msg);
    if (rc == UTIL_ERR_NOMEM)
        goto fail;
    v->message = steal_or_empty(&b);
    if (!v->instance_location || !v->keyword_location || !v->absolute_location || !v->message)
        goto fail;
    util_buf_finish(&b);
    return UTIL_OK;
fail:
    util_buf_finish(&b);
    viol_free(v);
    return UTIL_ERR_NOMEM;
}

static void set_nomem(struct ctx *c)
{
    if (!c->status) {
        c->status = UTIL_ERR_NOMEM;
        snprintf(c->abort_msg, sizeof(c->abort_msg), "out of memory");
    }
}

/* Records a violation (in collecting mode) at position pos of the
 * result, or appended when pos is SIZE_MAX. */
static void report_msg(struct ctx *c, const struct frame *f, const char *kw, const char *kw_key,
                       const char *msg, size_t pos)
{
    struct schema_result *r = c->res;
    struct schema_violation v;
    if (!c->collect || !r)
        return;
    if (r->count >= UTIL_CAP_VIOLATIONS) {
        r->truncated = true;
        return;
    }
    if (build_violation(f, kw, kw_key, msg, &v) || result_reserve(r)) {
        viol_free(&v);
        set_nomem(c);
        return;
    }
    if (pos >= r->count) {
        r->items[r->count++] = v;
    } else {
        memmove(&r->items[pos + 1], &r->items[pos], (r->count - pos) * sizeof(v));
        r->items[pos] = v;
        r->count++;
    }
}

/* Records the message built in b as report_msg does, or out of memory
 * when building it failed: never a message with a piece missing. */
static void report_buf(struct ctx *c, const struct frame *f, const char *kw, const char *kw_key,
                       const struct util_buf *b, size_t pos)
{
    if (b->error == UTIL_ERR_NOMEM)
        set_nomem(c);
    else
        report_msg(c, f, kw, kw_key, b->data ? b->data : "", pos);
}

__attribute__((format(printf, 5, 6))) static void report(struct ctx *c, const struct frame *f,
                                                         const char *kw, const char *kw_key,
                                                         const char *fmt, ...)
{
    struct util_buf b;
    va_list ap;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    va_start(ap, fmt);
    util_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    report_buf(c, f, kw, kw_key, &b, SIZE_MAX);
    util_buf_finish(&b);
}

/* Stops evaluation: records why (code and message) and, when collecting,
 * the violation that is appended once evaluation has unwound. */
__attribute__((format(printf, 5, 6))) static void
abort_eval(struct ctx *c, const struct frame *f, const char *kw, int code, const char *fmt, ...)
{
    va_list ap;
    if (c->status)
        return;
    c->status = code;
    va_start(ap, fmt);
    vsnprintf(c->abort_msg, sizeof(c->abort_msg), fmt, ap);
    va_end(ap);
    if (c->res && build_violation(f, kw, NULL, c->abort_msg, &c->abort_v) == UTIL_OK)
        c->has_abort_v = true;
}

static void put_number(struct util_buf *b, double d)
{
    char tmp[40];
    if (d == floor(d) && fabs(d) < 1e15) {
        snprintf(tmp, sizeof(tmp), "%.0f", d);
    } else {
        for (int p = 1; p <= 17; p++) {
            snprintf(tmp, sizeof(tmp), "%.*g", p, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
    }
    util_buf_puts(b, tmp);
}

/* Appends at most max code points of s, escaping quotes and controls. */
static void put_string(struct util_buf *b, const char *s, size_t max, bool quote)
{
    size_t cps = 0;
    if (quote)
        util_buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch & 0xC0) != 0x80 && ++cps > max) {
            util_buf_puts(b, "...");
            break;
        }
        if (ch == '"' && quote)
            util_buf_puts(b, "\\\"");
        else if (ch == '\\' && quote)
            util_buf_puts(b, "\\\\");
        else if (ch == '\n')
            util_buf_puts(b, "\\n");
        else if (ch < 0x20)
            util_buf_printf(b, "\\u%04x", ch);
        else
            util_buf_putc(b, (char)ch);
    }
    if (quote)
        util_buf_putc(b, '"');
}

/* Short human form of a value: strings quoted, containers abbreviated. */
static void put_value(struct util_buf *b, const cJSON *n, bool quote_strings)
{
    if (cJSON_IsString(n))
        put_string(b, n->valuestring, SC_VALUE_SHOW_MAX, quote_strings);
    else if (cJSON_IsNumber(n))
        put_number(b, n->valuedouble);
    else if (cJSON_IsTrue(n))
        util_buf_puts(b, "true");
    else if (cJSON_IsFalse(n))
        util_buf_puts(b, "false");
    else if (cJSON_IsNull(n))
        util_buf_puts(b, "null");
    else if (cJSON_IsArray(n) && !n->child)
        util_buf_puts(b, "[]");
    else if (cJSON_IsObject(n) && !n->child)
        util_buf_puts(b, "{}");
    else
        json_print_short(b, n, SC_VALUE_SHOW_MAX);
}

static void put_list_sep(struct util_buf *b, size_t i, size_t n)
{
    if (i == 0)
        return;
    util_buf_puts(b, i + 1 == n ? " or " : ", ");
}

static void put_types(struct util_buf *b, unsigned types)
{
    static const struct {
        unsigned bit;
        const char *name;
    } order[] = {
        {T_OBJECT, "object"},   {T_ARRAY, "array"},     {T_STRING, "string"}, {T_NUMBER, "number"},
        {T_INTEGER, "integer"}, {T_BOOLEAN, "boolean"}, {T_NULL, "null"},
    };
    size_t n = 0, i = 0;
    if ((types & T_NUMBER) && (types & T_INTEGER))
        types &= ~(unsigned)T_INTEGER;
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
        n += (types & order[k].bit) != 0;
    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        if (!(types & order[k].bit))
            continue;
        put_list_sep(b, i++, n);
        util_buf_puts(b, order[k].name);
    }
}

/* ---- annotations ---- */

static bool annot_init(struct annot *a, const cJSON *inst)
{
    size_t n = 0;
    if (cJSON_IsObject(inst) || cJSON_IsArray(inst))
        for (const cJSON *ch = inst->child; ch; ch = ch->next)
            n++;
    a->all = false;
    a->upto = 0;
    a->n = n;
    size_t words = (n + 63) / 64;
    if (words <= SC_ANNOT_INLINE_WORDS) {
        a->bits = a->inl;
        memset(a->inl, 0, sizeof(a->inl));
        return true;
    }
    a->bits = calloc(words, sizeof(uint64_t));
    return a->bits != NULL;
}

static void annot_finish(struct annot *a)
{
    if (a->bits != a->inl)
        free(a->bits);
    a->bits = NULL;
}

static void annot_mark(struct annot *a, size_t i)
{
    if (i < a->n)
        a->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool annot_has(const struct annot *a, size_t i)
{
    return a->all || i < a->upto || (i < a->n && ((a->bits[i / 64] >> (i % 64)) & 1));
}

static void annot_merge(struct annot *dst, const struct annot *src)
{
    dst->all |= src->all;
    if (src->upto > dst->upto)
        dst->upto = src->upto;
    size_t words = (dst->n + 63) / 64;
    for (size_t i = 0; i < words && src->n == dst->n; i++)
        dst->bits[i] |= src->bits[i];
}

/* ---- evaluation ---- */

static bool eval(struct ctx *c, const struct frame *f, struct annot *ann);
static bool fast_try(struct ctx *c, const struct schema *s, const cJSON *inst, bool *verdict);

static bool eval_at(struct ctx *c, const struct frame *up, const struct schema *s,
                    const cJSON *inst, const char *kw, const char *kw_key, long kw_idx,
                    const char *ikey, long iidx, struct annot *ann)
{
    if (s->is_bool && s->bool_value)
        return true;
    bool verdict;
    if (!c->collect && !ann && !c->no_fast && fast_try(c, s, inst, &verdict))
        return verdict;
    struct frame f = {up, s, inst, kw, kw_key, kw_idx, ikey, iidx};
    return eval(c, &f, ann);
}

#define FAIL()                                                                                     \
    do {                                                                                           \
        ok = false;                                                                                \
        if (!c->collect || c->status)                                                              \
            goto done;                                                                             \
    } while (0)

static void report_type(struct ctx *c, const struct frame *f)
{
    struct util_buf b;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    util_buf_puts(&b, "expected ");
    put_types(&b, f->s->types | (f->s->nullable ? T_NULL : 0u));
    util_buf_printf(&b, ", got %s", json_type_name(f->inst));
    report_buf(c, f, "type", NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
}

static void report_enum(struct ctx *c, const struct frame *f)
{
    struct util_buf b;
    const struct schema *s = f->s;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    put_value(&b, f->inst, true);
    util_buf_puts(&b, s->n_enum == 1 ? " is not " : " is not one of ");
    for (size_t i = 0; i < s->n_enum && i < SC_ENUM_LIST_MAX; i++) {
        if (i)
            util_buf_puts(&b, ", ");
        put_value(&b, s->enum_vals[i], false);
    }
    if (s->n_enum > SC_ENUM_LIST_MAX)
        util_buf_printf(&b, ", ... (%zu more)", s->n_enum - SC_ENUM_LIST_MAX);
    report_buf(c, f, "enum", NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
}

static void report_const(struct ctx *c, const struct frame *f)
{
    struct util_buf b;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    util_buf_puts(&b, "must be ");
    put_value(&b, f->s->const_val, true);
    util_buf_puts(&b, ", got ");
    put_value(&b, f->inst, true);
    report_buf(c, f, "const", NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
}

/* Reports "<value> <text> <number>" style messages for numeric keywords. */
static void report_number(struct ctx *c, const struct frame *f, const char *kw, const char *text,
                          double limit)
{
    struct util_buf b;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    put_number(&b, f->inst->valuedouble);
    util_buf_puts(&b, text);
    put_number(&b, limit);
    report_buf(c, f, kw, NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
}

static bool is_multiple(double v, double m)
{
    if (v == 0)
        return true;
    double q = v / m;
    if (!isfinite(q)) {
        double inv = 1.0 / m;
        return v == floor(v) && isfinite(inv) && inv == floor(inv);
    }
    double r = round(q);
    return fabs(q - r) <= fabs(q) * 8 * DBL_EPSILON;
}

static bool eval_number(struct ctx *c, const struct frame *f)
{
    const struct schema *s = f->s;
    double v = f->inst->valuedouble;
    bool ok = true;
    if ((s->has & HAS_MIN) && v < s->minimum) {
        report_number(c, f, "minimum", " is less than the minimum of ", s->minimum);
        FAIL();
    }
    if ((s->has & HAS_XMIN) && v <= s->xminimum) {
        report_number(c, f, s->xmin_kw, " must be greater than ", s->xminimum);
        FAIL();
    }
    if ((s->has & HAS_MAX) && v > s->maximum) {
        report_number(c, f, "maximum", " is greater than the maximum of ", s->maximum);
        FAIL();
    }
    if ((s->has & HAS_XMAX) && v >= s->xmaximum) {
        report_number(c, f, s->xmax_kw, " must be less than ", s->xmaximum);
        FAIL();
    }
    if ((s->has & HAS_MULT) && !is_multiple(v, s->multiple_of)) {
        report_number(c, f, "multipleOf", " is not a multiple of ", s->multiple_of);
        FAIL();
    }
done:
    return ok;
}

static size_t utf8_length(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static bool eval_string(struct ctx *c, const struct frame *f)
{
    const struct schema *s = f->s;
    const char *str = f->inst->valuestring;
    bool ok = true;
    size_t bytes = 0;
    bool have_bytes = false;
    if (s->has & (HAS_MINLEN | HAS_MAXLEN)) {
        bytes = strlen(str);
        have_bytes = true;
        size_t n;
        if ((s->has & HAS_MINLEN) && bytes < s->min_len)
            n = bytes;
        else if (!(s->has & HAS_MAXLEN) && bytes / 4 >= s->min_len)
            n = bytes / 4;
        else if (!(s->has & HAS_MINLEN) && bytes <= s->max_len)
            n = bytes;
        else
            n = utf8_length(str, bytes);
        if ((s->has & HAS_MINLEN) && n < s->min_len) {
            report(c, f, "minLength", NULL,
                   "string has %zu character%s, fewer than the minimum of %zu", n,
                   n == 1 ? "" : "s", s->min_len);
            FAIL();
        }
        if ((s->has & HAS_MAXLEN) && n > s->max_len) {
            report(c, f, "maxLength", NULL,
                   "string has %zu characters, more than the maximum of %zu", n, s->max_len);
            FAIL();
        }
    }
    if (s->pattern) {
        if (!have_bytes) {
            bytes = strlen(str);
            have_bytes = true;
        }
        int m = schema_regex_search(s->pattern, str, bytes);
        if (m < 0) {
            abort_eval(c, f, "pattern", UTIL_ERR_LIMIT,
                       "pattern %s could not be evaluated within its step budget", s->pattern_src);
            ok = false;
            goto done;
        }
        if (!m && c->collect && c->res) {
            struct util_buf b;
            util_buf_init(&b, UTIL_CAP_MESSAGE);
            put_value(&b, f->inst, true);
            util_buf_puts(&b, " does not match the pattern ");
            put_string(&b, s->pattern_src, 200, false);
            report_buf(c, f, "pattern", NULL, &b, SIZE_MAX);
            util_buf_finish(&b);
        }
        if (!m)
            FAIL();
    }
    if (s->format && c->check_formats) {
        if (!have_bytes)
            bytes = strlen(str);
        if (!schema_format_check(s->format, str, bytes)) {
            if (c->collect && c->res) {
                struct util_buf b;
                util_buf_init(&b, UTIL_CAP_MESSAGE);
                put_value(&b, f->inst, true);
                util_buf_printf(&b, " is not a valid %s", s->format_name);
                report_buf(c, f, "format", NULL, &b, SIZE_MAX);
                util_buf_finish(&b);
            }
            FAIL();
        }
    }
done:
    return ok;
}

static int32_t prop_find(const struct schema *s, const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (size_t i = h & (s->n_slots - 1);; i = (i + 1) & (s->n_slots - 1)) {
        int32_t k = s->prop_slots[i];
        if (k < 0)
            return -1;
        if (s->props[k].hash == h && strcmp(s->props[k].name, name) == 0)
            return k;
    }
}

static bool is_false(const struct schema *s)
{
    return s->is_bool && !s->bool_value;
}

/* Validates a property name against propertyNames; the name is wrapped in
 * a stack cJSON string. */
static bool eval_property_name(struct ctx *c, const struct frame *f, const cJSON *ch)
{
    cJSON tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.type = cJSON_String;
    tmp.valuestring = ch->string;
    if (!c->collect || !c->res)
        return eval_at(c, f, f->s->prop_names, &tmp, "propertyNames", NULL, -1, NULL, -1, NULL);
    struct rmark m = rmark_get(c);
    bool r = eval_at(c, f, f->s->prop_names, &tmp, "propertyNames", NULL, -1, NULL, -1, NULL);
    if (r || c->status)
        return r;
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    util_buf_puts(&b, "property name ");
    put_string(&b, ch->string, SC_VALUE_SHOW_MAX, true);
    util_buf_puts(&b, " is invalid");
    if (c->res->count > m.count) {
        const char *msg = c->res->items[m.count].message;
        const char *why = strstr(msg, ": ");
        if (why)
            util_buf_printf(&b, ": %s", why + 2);
    }
    rollback_to(c, m);
    report_buf(c, f, "propertyNames", NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
    return false;
}

static bool eval_object(struct ctx *c, const struct frame *f, struct annot *a)
{
    const struct schema *s = f->s;
    const cJSON *inst = f->inst;
    bool ok = true;
    uint64_t seen[SC_SEEN_WORDS] = {0};
    bool use_seen = s->n_props <= 64 * SC_SEEN_WORDS;
    size_t idx = 0;
    const char *depkw = s->dialect == SCHEMA_DIALECT_2020_12 ? NULL : "dependencies";
    for (const cJSON *ch = inst->child; ch; ch = ch->next, idx++) {
        const char *name = ch->string;
        bool matched = false;
        if (s->n_props) {
            int32_t pi = prop_find(s, name);
            if (pi >= 0) {
                matched = true;
                if (use_seen)
                    seen[pi / 64] |= (uint64_t)1 << (pi % 64);
                const struct schema *ps = s->props[pi].s;
                if (is_false(ps)) {
                    report(c, f, "properties", name, "property \"%s\" is not allowed", name);
                    FAIL();
                } else if (!eval_at(c, f, ps, ch, "properties", name, -1, name, -1, NULL)) {
                    FAIL();
                }
            }
        }
        for (size_t k = 0; k < s->n_pprops; k++) {
            const struct sc_pprop *pp = &s->pprops[k];
            int m = schema_regex_search(pp->re, name, strlen(name));
            if (m < 0) {
                abort_eval(c, f, "patternProperties", UTIL_ERR_LIMIT,
                           "pattern %s could not be evaluated within its step budget", pp->src);
                ok = false;
                goto done;
            }
            if (!m)
                continue;
            matched = true;
            if (is_false(pp->s)) {
                report(c, f, "patternProperties", pp->src, "property \"%s\" is not allowed", name);
                FAIL();
            } else if (!eval_at(c, f, pp->s, ch, "patternProperties", pp->src, -1, name, -1,
                                NULL)) {
                FAIL();
            }
        }
        if (!matched && s->addl_props) {
            matched = true;
            if (is_false(s->addl_props)) {
                report(c, f, "additionalProperties", NULL, "property \"%s\" is not allowed", name);
                FAIL();
            } else if (!eval_at(c, f, s->addl_props, ch, "additionalProperties", NULL, -1, name, -1,
                                NULL)) {
                FAIL();
            }
        }
        if (s->prop_names && !eval_property_name(c, f, ch))
            FAIL();
        if (a && matched)
            annot_mark(a, idx);
    }
    if ((s->has & HAS_MINPROPS) && idx < s->min_props) {
        report(c, f, "minProperties", NULL,
               "object has %zu propert%s, fewer than the minimum of %zu", idx,
               idx == 1 ? "y" : "ies", s->min_props);
        FAIL();
    }
    if ((s->has & HAS_MAXPROPS) && idx > s->max_props) {
        report(c, f, "maxProperties", NULL,
               "object has %zu properties, more than the maximum of %zu", idx, s->max_props);
        FAIL();
    }
    for (size_t i = 0; i < s->n_required; i++) {
        int32_t pi = s->required_idx[i];
        bool present;
        if (use_seen && pi >= 0)
            present = (seen[pi / 64] >> (pi % 64)) & 1;
        else
            present = cJSON_GetObjectItemCaseSensitive(inst, s->required[i]) != NULL;
        if (!present) {
            report(c, f, "required", NULL, "missing required property \"%s\"", s->required[i]);
            FAIL();
        }
    }
    for (size_t i = 0; i < s->n_dep_req; i++) {
        const struct sc_depreq *d = &s->dep_req[i];
        if (!cJSON_GetObjectItemCaseSensitive(inst, d->name))
            continue;
        for (size_t k = 0; k < d->nreq; k++) {
            if (cJSON_GetObjectItemCaseSensitive(inst, d->req[k]))
                continue;
            report(c, f, depkw ? depkw : "dependentRequired", d->name,
                   "property \"%s\" is required when \"%s\" is present", d->req[k], d->name);
            FAIL();
        }
    }
    for (size_t i = 0; i < s->n_dep_sch; i++) {
        const struct sc_depsch *d = &s->dep_sch[i];
        if (!cJSON_GetObjectItemCaseSensitive(inst, d->name))
            continue;
        if (!eval_at(c, f, d->s, inst, depkw ? depkw : "dependentSchemas", d->name, -1, NULL, -1,
                     a))
            FAIL();
    }
done:
    return ok;
}

struct item_hash {
    uint32_t h;
    size_t i;
    const cJSON *n;
};

static int cmp_item_hash(const void *a, const void *b)
{
    const struct item_hash *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Finds two equal items: returns 1 when all are distinct, 0 (with
 * *first < *second) when two are equal, -1 when out of memory. */
static int items_unique(const cJSON *arr, size_t n, size_t *first, size_t *second)
{
    struct item_hash stackbuf[32];
    struct item_hash *v = stackbuf;
    bool unique = true;
    *first = *second = 0;
    if (n > 32) {
        v = malloc(n * sizeof(*v));
        if (!v)
            return -1;
    }
    size_t k = 0;
    for (const cJSON *ch = arr->child; ch && k < n; ch = ch->next, k++) {
        v[k].h = schema_json_hash(ch);
        v[k].i = k;
        v[k].n = ch;
    }
    if (k > 16)
        qsort(v, k, sizeof(*v), cmp_item_hash);
    else
        for (size_t i = 1; i < k; i++)
            for (size_t j = i; j > 0 && cmp_item_hash(&v[j - 1], &v[j]) > 0; j--) {
                struct item_hash t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
    *first = *second = SIZE_MAX;
    for (size_t i = 0; i < k; i++) {
        for (size_t j = i + 1; j < k && v[j].h == v[i].h; j++) {
            if (json_equal(v[i].n, v[j].n)) {
                size_t lo = v[i].i < v[j].i ? v[i].i : v[j].i;
                size_t hi = v[i].i < v[j].i ? v[j].i : v[i].i;
                if (unique || lo < *first || (lo == *first && hi < *second)) {
                    *first = lo;
                    *second = hi;
                }
                unique = false;
            }
        }
    }
    if (v != stackbuf)
        free(v);
    return unique ? 1 : 0;
}

/* ---- fast yes/no evaluation ----
 *
 * fv() answers "does inst pass s" without frames, annotations or
 * messages. It checks keywords in the order eval() does, with the same
 * short-circuits and the same depth accounting, so evaluation limits are
 * met alike. It serves schema_is_valid, the first attempt of
 * schema_validate (a valid instance needs nothing collected), and every
 * evaluation eval() makes with collection off. Two things make it give up
 * (status FV_FALLBACK) so that the caller runs eval(): a $dynamicRef whose
 * target depends on the dynamic scope, and unevaluatedProperties/Items
 * (annotations). */

#define FV_FALLBACK 1

struct fctx {
    int status; /* 0, FV_FALLBACK, or the UTIL_ERR_* code that stopped it */
    unsigned depth;
    bool check_formats;
};

static bool fv(struct fctx *c, const struct schema *s, const cJSON *inst);

static bool fv_stop(struct fctx *c, int code)
{
    if (!c->status)
        c->status = code;
    return false;
}

static inline int ctype(const cJSON *n)
{
    return n->type & 0xFF;
}

static inline bool is_integral(double d)
{
    return isfinite(d) && d == floor(d);
}

static inline bool type_ok_fast(const struct schema *s, const cJSON *inst, int t)
{
    if (s->ctypes & (unsigned)t)
        return true;
    return t == cJSON_Number && (s->types & T_INTEGER) && is_integral(inst->valuedouble);
}

static bool enum_ok(const struct schema *s, const cJSON *inst)
{
    int t = ctype(inst);
    if (s->enum_scalar_scan) {
        if (t == cJSON_String) {
            for (size_t i = 0; i < s->n_enum; i++) {
                const cJSON *v = s->enum_vals[i];
                if (ctype(v) == cJSON_String && strcmp(v->valuestring, inst->valuestring) == 0)
                    return true;
            }
            return false;
        }
        if (t == cJSON_Number) {
            for (size_t i = 0; i < s->n_enum; i++) {
                const cJSON *v = s->enum_vals[i];
                if (ctype(v) == cJSON_Number && v->valuedouble == inst->valuedouble)
                    return true;
            }
            return false;
        }
        return false; /* the enum holds only strings and numbers */
    }
    uint32_t h = schema_json_hash(inst);
    for (size_t i = 0; i < s->n_enum; i++)
        if (s->enum_hash[i] == h && json_equal(s->enum_vals[i], inst))
            return true;
    return false;
}

static bool num_ok(const struct schema *s, double v)
{
    if ((s->has & HAS_MIN) && v < s->minimum)
        return false;
    if ((s->has & HAS_XMIN) && v <= s->xminimum)
        return false;
    if ((s->has & HAS_MAX) && v > s->maximum)
        return false;
    if ((s->has & HAS_XMAX) && v >= s->xmaximum)
        return false;
    if ((s->has & HAS_MULT) && !is_multiple(v, s->multiple_of))
        return false;
    return true;
}

/* 1 passes, 0 fails, -1 a pattern ran out of its step budget. */
static int str_ok(const struct schema *s, const char *str, bool check_formats)
{
    size_t bytes = 0;
    bool have_bytes = false;
    if (s->has & (HAS_MINLEN | HAS_MAXLEN)) {
        bytes = strlen(str);
        have_bytes = true;
        size_t n;
        if ((s->has & HAS_MINLEN) && bytes < s->min_len)
            return 0;
        if (!(s->has & HAS_MAXLEN) && bytes / 4 >= s->min_len)
            n = bytes / 4;
        else if (!(s->has & HAS_MINLEN) && bytes <= s->max_len)
            n = bytes;
        else
            n = utf8_length(str, bytes);
        if ((s->has & HAS_MINLEN) && n < s->min_len)
            return 0;
        if ((s->has & HAS_MAXLEN) && n > s->max_len)
            return 0;
    }
    if (s->pattern) {
        if (!have_bytes) {
            bytes = strlen(str);
            have_bytes = true;
        }
        int m = schema_regex_search(s->pattern, str, bytes);
        if (m <= 0)
            return m < 0 ? -1 : 0;
    }
    if (s->format && check_formats) {
        if (!have_bytes)
            bytes = strlen(str);
        if (!schema_format_check(s->format, str, bytes))
            return 0;
    }
    return 1;
}

/* The property of s named name, trying first the one after the last match
 * (instances usually list properties in the schema's order). */
static inline int32_t prop_lookup(const struct schema *s, const char *name, size_t *guess)
{
    size_t g = *guess;
    if (g < s->n_props && strcmp(s->props[g].name, name) == 0) {
        *guess = g + 1;
        return (int32_t)g;
    }
    int32_t k = prop_find(s, name);
    if (k >= 0)
        *guess = (size_t)k + 1;
    return k;
}

/* Evaluates subschema s as eval_at() would: true schemas cost nothing;
 * pure "$ref" chains are skipped, their levels still counted. */
static inline bool fv_sub(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    const struct schema *t = s->direct;
    unsigned hops = s->hops;
    if (t->fm & (F_TRUE | F_FALSE)) {
        if (hops && c->depth + hops > UTIL_CAP_EVAL_DEPTH)
            return fv_stop(c, UTIL_ERR_LIMIT);
        return (t->fm & F_TRUE) != 0;
    }
    c->depth += hops;
    bool r = fv(c, t, inst);
    c->depth -= hops;
    return r;
}

static const cJSON *obj_get(const cJSON *obj, const char *name)
{
    for (const cJSON *ch = obj->child; ch; ch = ch->next)
        if (strcmp(ch->string, name) == 0)
            return ch;
    return NULL;
}

/* A cheap necessary condition for branch b of anyOf/oneOf: the type,
 * the required properties and the const/enum of properties of the schema
 * the branch lands on. False means the branch cannot pass. */
static bool branch_may_pass(const struct schema *b, const cJSON *inst)
{
    const struct schema *e = b->direct;
    uint32_t m = e->fm;
    int t = ctype(inst);
    if (m & (F_TRUE | F_FALSE))
        return true;
    if ((m & F_TYPE) && !type_ok_fast(e, inst, t))
        return false;
    if (t != cJSON_Object || !(m & F_OBJ))
        return true;
    for (size_t i = 0; i < e->n_required; i++)
        if (!obj_get(inst, e->required[i]))
            return false;
    for (size_t i = 0; i < e->n_disc; i++) {
        const struct sc_prop *p = &e->props[e->disc[i]];
        const cJSON *v = obj_get(inst, p->name);
        if (!v)
            continue;
        const struct schema *ps = p->s->direct;
        if ((ps->fm & F_CONST) && !json_equal(ps->const_val, v))
            return false;
        if ((ps->fm & F_ENUM) && !enum_ok(ps, v))
            return false;
    }
    return true;
}

static bool fv_object(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    uint64_t seen[SC_SEEN_WORDS] = {0};
    bool use_seen = s->n_props <= 64 * SC_SEEN_WORDS;
    size_t idx = 0, guess = 0;
    for (const cJSON *ch = inst->child; ch; ch = ch->next, idx++) {
        const char *name = ch->string;
        bool matched = false;
        if (s->n_props) {
            int32_t pi = prop_lookup(s, name, &guess);
            if (pi >= 0) {
                matched = true;
                if (use_seen)
                    seen[pi / 64] |= (uint64_t)1 << (pi % 64);
                if (!fv_sub(c, s->props[pi].s, ch))
                    return false;
            }
        }
        for (size_t k = 0; k < s->n_pprops; k++) {
            const struct sc_pprop *pp = &s->pprops[k];
            int m = schema_regex_search(pp->re, name, strlen(name));
            if (m < 0)
                return fv_stop(c, UTIL_ERR_LIMIT);
            if (!m)
                continue;
            matched = true;
            if (!fv_sub(c, pp->s, ch))
                return false;
        }
        if (!matched && s->addl_props && !fv_sub(c, s->addl_props, ch))
            return false;
        if (s->prop_names) {
            cJSON tmp;
            memset(&tmp, 0, sizeof(tmp));
            tmp.type = cJSON_String;
            tmp.valuestring = ch->string;
            if (!fv_sub(c, s->prop_names, &tmp))
                return false;
        }
    }
    if ((s->has & HAS_MINPROPS) && idx < s->min_props)
        return false;
    if ((s->has & HAS_MAXPROPS) && idx > s->max_props)
        return false;
    for (size_t i = 0; i < s->n_required; i++) {
        int32_t pi = s->required_idx[i];
        bool present;
        if (use_seen && pi >= 0)
            present = (seen[pi / 64] >> (pi % 64)) & 1;
        else
            present = obj_get(inst, s->required[i]) != NULL;
        if (!present)
            return false;
    }
    for (size_t i = 0; i < s->n_dep_req; i++) {
        const struct sc_depreq *d = &s->dep_req[i];
        if (!obj_get(inst, d->name))
            continue;
        for (size_t k = 0; k < d->nreq; k++)
            if (!obj_get(inst, d->req[k]))
                return false;
    }
    for (size_t i = 0; i < s->n_dep_sch; i++) {
        const struct sc_depsch *d = &s->dep_sch[i];
        if (obj_get(inst, d->name) && !fv_sub(c, d->s, inst))
            return false;
    }
    return true;
}

static bool fv_array(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    size_t i = 0;
    for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
        if (i < s->n_prefix) {
            if (!fv_sub(c, s->prefix[i], ch))
                return false;
        } else if (s->items) {
            /* items false: every later item is too many */
            if (!fv_sub(c, s->items, ch))
                return false;
        }
    }
    size_t n = i;
    if ((s->has & HAS_MINITEMS) && n < s->min_items)
        return false;
    if ((s->has & HAS_MAXITEMS) && n > s->max_items)
        return false;
    if ((s->has & HAS_UNIQUE) && n > 1) {
        size_t x, y;
        int u = items_unique(inst, n, &x, &y);
        if (u < 0)
            return fv_stop(c, UTIL_ERR_NOMEM);
        if (u == 0)
            return false;
    }
    if (s->contains) {
        size_t matches = 0;
        size_t minc = (s->has & HAS_MINCONTAINS) ? s->min_contains : 1;
        for (const cJSON *ch = inst->child; ch; ch = ch->next) {
            if (fv_sub(c, s->contains, ch)) {
                matches++;
                if (matches >= minc && !(s->has & HAS_MAXCONTAINS))
                    break;
            }
            if (c->status)
                return false;
        }
        if (matches < minc)
            return false;
        if ((s->has & HAS_MAXCONTAINS) && matches > s->max_contains)
            return false;
    }
    return true;
}

static bool fv_body(struct fctx *c, const struct schema *s, const cJSON *inst, uint32_t m)
{
    int t = ctype(inst);
    if ((m & F_REF) && !fv_sub(c, s->ref, inst))
        return false;
    if (m & F_DYNREF) {
        if (s->dyn_anchor)
            return fv_stop(c, FV_FALLBACK);
        if (!fv_sub(c, s->dynref, inst))
            return false;
    }
    if ((m & F_TYPE) && !type_ok_fast(s, inst, t))
        return false;
    if ((m & F_CONST) && !json_equal(s->const_val, inst))
        return false;
    if ((m & F_ENUM) && !enum_ok(s, inst))
        return false;
    switch (t) {
    case cJSON_Number:
        if ((m & F_NUM) && !num_ok(s, inst->valuedouble))
            return false;
        break;
    case cJSON_String:
        if (m & F_STR) {
            int r = str_ok(s, inst->valuestring, c->check_formats);
            if (r < 0)
                return fv_stop(c, UTIL_ERR_LIMIT);
            if (r == 0)
                return false;
        }
        break;
    case cJSON_Object:
        if ((m & F_OBJ) && !fv_object(c, s, inst))
            return false;
        break;
    case cJSON_Array:
        if ((m & F_ARR) && !fv_array(c, s, inst))
            return false;
        break;
    default:
        break;
    }
    if (m & F_ALLOF)
        for (size_t i = 0; i < s->n_all_of; i++)
            if (!fv_sub(c, s->all_of[i], inst))
                return false;
    if (m & F_ANYOF) {
        bool any = false;
        for (size_t i = 0; i < s->n_any_of && !any; i++) {
            const struct schema *b = s->any_of[i];
            any = branch_may_pass(b, inst) && fv_sub(c, b, inst);
            if (c->status)
                return false;
        }
        if (!any)
            return false;
    }
    if (m & F_ONEOF) {
        size_t passed = 0;
        for (size_t i = 0; i < s->n_one_of && passed < 2; i++) {
            const struct schema *b = s->one_of[i];
            passed += branch_may_pass(b, inst) && fv_sub(c, b, inst);
            if (c->status)
                return false;
        }
        if (passed != 1)
            return false;
    }
    if (m & F_NOT) {
        bool r = fv_sub(c, s->not_, inst);
        if (c->status || r)
            return false;
    }
    if (m & F_IF) {
        bool cond = fv_sub(c, s->if_, inst);
        if (c->status)
            return false;
        if (cond) {
            if (s->then_ && !fv_sub(c, s->then_, inst))
                return false;
        } else if (s->else_ && !fv_sub(c, s->else_, inst)) {
            return false;
        }
    }
    return !c->status;
}

static bool fv(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    uint32_t m = s->fm;
    if (m & (F_TRUE | F_FALSE))
        return (m & F_TRUE) != 0;
    if (c->status)
        return false;
    if (c->depth >= UTIL_CAP_EVAL_DEPTH)
        return fv_stop(c, UTIL_ERR_LIMIT);
    if (m & F_UNEVAL)
        return fv_stop(c, FV_FALLBACK);
    if (!m)
        return true;
    c->depth++;
    bool ok = fv_body(c, s, inst, m);
    c->depth--;
    return ok;
}

/* Runs fv() for eval_at() when nothing is collected: true with *verdict
 * set, or false when eval() must do the work (fv gave up, or stopped on a
 * limit whose violation eval() records). */
static bool fast_try(struct ctx *c, const struct schema *s, const cJSON *inst, bool *verdict)
{
    if (c->status) {
        *verdict = false;
        return true;
    }
    struct fctx fx = {0, c->depth, c->check_formats};
    bool r = fv_sub(&fx, s, inst);
    if (!fx.status) {
        *verdict = r;
        return true;
    }
    if (fx.status == FV_FALLBACK)
        c->no_fast = true;
    return false;
}

static bool eval_array(struct ctx *c, const struct frame *f, struct annot *a)
{
    const struct schema *s = f->s;
    const cJSON *inst = f->inst;
    bool ok = true;
    size_t i = 0, extra = 0;
    for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
        if (i < s->n_prefix) {
            if (!eval_at(c, f, s->prefix[i], ch, s->prefix_kw, NULL, (long)i, NULL, (long)i, NULL))
                FAIL();
        } else if (s->items) {
            if (is_false(s->items))
                extra++;
            else if (!eval_at(c, f, s->items, ch, s->items_kw, NULL, -1, NULL, (long)i, NULL))
                FAIL();
        }
    }
    size_t n = i;
    if (extra) {
        report(c, f, s->items_kw, NULL, "array has %zu items, at most %zu allowed", n, s->n_prefix);
        FAIL();
    }
    if (a) {
        size_t upto = n < s->n_prefix ? n : s->n_prefix;
        if (upto > a->upto)
            a->upto = upto;
        if (s->items && n > s->n_prefix)
            a->all = true;
    }
    if ((s->has & HAS_MINITEMS) && n < s->min_items) {
        report(c, f, "minItems", NULL, "array has %zu item%s, fewer than the minimum of %zu", n,
               n == 1 ? "" : "s", s->min_items);
        FAIL();
    }
    if ((s->has & HAS_MAXITEMS) && n > s->max_items) {
        report(c, f, "maxItems", NULL, "array has %zu items, more than the maximum of %zu", n,
               s->max_items);
        FAIL();
    }
    if ((s->has & HAS_UNIQUE) && n > 1) {
        size_t x = 0, y = 0;
        int u = items_unique(inst, n, &x, &y);
        if (u < 0) {
            set_nomem(c);
            ok = false;
            goto done;
        }
        if (u == 0) {
            report(c, f, "uniqueItems", NULL, "items %zu and %zu are equal; items must be unique",
                   x, y);
            FAIL();
        }
    }
    if (s->contains) {
        size_t matches = 0;
        size_t minc = (s->has & HAS_MINCONTAINS) ? s->min_contains : 1;
        bool save = c->collect;
        c->collect = false;
        i = 0;
        for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
            if (eval_at(c, f, s->contains, ch, "contains", NULL, -1, NULL, (long)i, NULL)) {
                matches++;
                if (a)
                    annot_mark(a, i);
                else if (matches >= minc && !(s->has & HAS_MAXCONTAINS))
                    break;
            }
            if (c->status)
                break;
        }
        c->collect = save;
        if (c->status) {
            ok = false;
            goto done;
        }
        if (matches < minc) {
            if (matches == 0)
                report(c, f, (s->has & HAS_MINCONTAINS) ? "minContains" : "contains", NULL,
                       "no item matches the \"contains\" schema");
            else
                report(c, f, "minContains", NULL,
                       "only %zu item%s match%s the \"contains\" schema, at least %zu required",
                       matches, matches == 1 ? "" : "s", matches == 1 ? "es" : "", minc);
            FAIL();
        }
        if ((s->has & HAS_MAXCONTAINS) && matches > s->max_contains) {
            report(c, f, "maxContains", NULL,
                   "%zu items match the \"contains\" schema, at most %zu allowed", matches,
                   s->max_contains);
            FAIL();
        }
    }
done:
    return ok;
}

/* The schema a $dynamicRef lands on: the outermost resource in the
 * dynamic scope that defines the anchor, else the static target. */
static const struct schema *dyn_target(const struct frame *f, const struct schema *s)
{
    if (!s->dyn_anchor)
        return s->dynref;
    const struct schema *found = NULL;
    const struct sc_resource *last = NULL;
    for (const struct frame *g = f; g; g = g->up) {
        const struct sc_resource *r = g->s->info->res;
        if (r == last)
            continue;
        last = r;
        if (!r->has_dynamic)
            continue;
        for (size_t k = 0; k < r->nanchors; k++) {
            const struct sc_anchor *an = &r->anchors[k];
            if (an->dynamic && an->compiled && strcmp(an->name, s->dyn_anchor) == 0) {
                found = an->compiled;
                break;
            }
        }
    }
    return found ? found : s->dynref;
}

static bool eval_ref(struct ctx *c, const struct frame *f, const struct schema *target,
                     const char *kw, struct annot *a)
{
    for (const struct frame *g = f; g && g->inst == f->inst; g = g->up) {
        if (g->s == target) {
            char loc[1024];
            schema_reg_location(target->info, NULL, loc, sizeof(loc));
            abort_eval(c, f, kw, UTIL_ERR_INVALID,
                       "infinite recursion: %s re-enters %s at the same instance location", kw,
                       loc);
            return false;
        }
    }
    return eval_at(c, f, target, f->inst, kw, NULL, -1, NULL, -1, a);
}

static const char *branch_title(const struct schema *b)
{
    for (int hops = 0; b && hops < 8; hops++) {
        if (b->title)
            return b->title;
        b = b->ref;
    }
    return NULL;
}

static unsigned branch_types(const struct schema *b)
{
    for (int hops = 0; b && hops < 8; hops++) {
        if (b->types)
            return b->types | (b->nullable ? T_NULL : 0u);
        b = b->ref;
    }
    return 0;
}

static void put_branch(struct util_buf *b, const struct schema *br, size_t i)
{
    const char *t = branch_title(br);
    util_buf_printf(b, "%zu", i);
    if (t) {
        util_buf_puts(b, " (");
        put_string(b, t, SC_VALUE_SHOW_MAX, true);
        util_buf_putc(b, ')');
    }
}

/* Scores the violations of a failed branch: lower is closer to a match.
 * A branch that rejects the instance's type outright scores worst. */
static size_t branch_score(const struct schema_result *r, size_t start, const char *here)
{
    size_t n = r->count - start;
    for (size_t i = start; i < r->count; i++) {
        const char *kl = r->items[i].keyword_location;
        size_t kn = strlen(kl);
        if (kn >= 5 && strcmp(kl + kn - 5, "/type") == 0 &&
            strcmp(r->items[i].instance_location, here) == 0)
            return 1000000 + n;
    }
    return n;
}

/* anyOf (one_of false) and oneOf (one_of true), one pass. */
static bool choice_pass(struct ctx *c, const struct frame *f, struct annot *a, bool one_of)
{
    const struct schema *s = f->s;
    struct schema *const *br = one_of ? s->one_of : s->any_of;
    size_t n = one_of ? s->n_one_of : s->n_any_of;
    const char *kw = one_of ? "oneOf" : "anyOf";
    bool collect = c->collect && c->res;
    struct rmark m0 = rmark_get(c);
    size_t passed = 0, first_pass = 0, second_pass = 0;
    size_t best = SIZE_MAX, best_score = SIZE_MAX;
    char *here = NULL;
    struct annot ba;
    if (collect) {
        struct util_buf b;
        util_buf_init(&b, UTIL_CAP_MESSAGE);
        inst_path(&b, f);
        here = util_buf_steal(&b);
        util_buf_finish(&b);
        if (!here) {
            set_nomem(c);
            return false;
        }
    }
    for (size_t i = 0; i < n; i++) {
        bool use_ann = a != NULL;
        if (use_ann && !annot_init(&ba, f->inst)) {
            set_nomem(c);
            break;
        }
        size_t start = c->res ? c->res->count : 0;
        bool r = eval_at(c, f, br[i], f->inst, kw, NULL, (long)i, NULL, -1, use_ann ? &ba : NULL);
        if (c->status) {
            if (use_ann)
                annot_finish(&ba);
            break;
        }
        if (r) {
            if (passed == 0)
                first_pass = i;
            else if (passed == 1)
                second_pass = i;
            passed++;
            if (use_ann && (!one_of || passed == 1))
                annot_merge(a, &ba);
        }
        if (collect) {
            if (!r && passed == 0) {
                size_t score = branch_score(c->res, start, here);
                if (score < best_score) {
                    keep_tail(c->res, m0.count, start);
                    best = i;
                    best_score = score;
                } else {
                    struct rmark ms = {start, c->res->truncated};
                    rollback_to(c, ms);
                }
            } else {
                struct rmark ms = {start, c->res->truncated};
                rollback_to(c, ms);
            }
        }
        if (use_ann)
            annot_finish(&ba);
        if (!one_of && passed && !a)
            break;
        if (one_of && passed > 1)
            break;
    }
    if (c->status) {
        rollback_to(c, m0);
        free(here);
        return false;
    }
    bool ok = one_of ? passed == 1 : passed > 0;
    if (ok || !collect) {
        if (collect)
            rollback_to(c, m0);
        free(here);
        return ok;
    }
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    if (passed > 1) {
        rollback_to(c, m0);
        util_buf_puts(&b, "matches more than one alternative of oneOf: ");
        put_branch(&b, br[first_pass], first_pass);
        util_buf_puts(&b, " and ");
        put_branch(&b, br[second_pass], second_pass);
    } else if (best_score >= 1000000) {
        unsigned types = 0;
        bool known = true;
        for (size_t i = 0; i < n; i++) {
            unsigned t = branch_types(br[i]);
            known = known && t;
            types |= t;
        }
        rollback_to(c, m0);
        if (known) {
            util_buf_puts(&b, "expected ");
            put_types(&b, types);
            util_buf_printf(&b, ", got %s (no alternative of %s matches)", json_type_name(f->inst),
                            kw);
        } else {
            util_buf_printf(&b, "does not match any of the %zu alternatives of %s", n, kw);
        }
    } else {
        util_buf_printf(&b, "does not match any of the %zu alternatives of %s", n, kw);
        if (best != SIZE_MAX && n > 1) {
            util_buf_puts(&b, " (closest: alternative ");
            put_branch(&b, br[best], best);
            util_buf_putc(&b, ')');
        }
    }
    report_buf(c, f, kw, NULL, &b, m0.count);
    util_buf_finish(&b);
    free(here);
    return false;
}

/* anyOf/oneOf. When collecting, the branches are first evaluated without
 * collecting anything: a choice that holds (the usual case) then costs no
 * violation built for the branches that failed before one matched. Only a
 * failed choice is evaluated again, collecting, to report its closest
 * branch; choices nested in that second pass are evaluated once,
 * collecting, so the work stays linear. */
static bool eval_choice(struct ctx *c, const struct frame *f, struct annot *a, bool one_of)
{
    if (!c->collect || !c->res || c->in_retry)
        return choice_pass(c, f, a, one_of);
    c->collect = false;
    bool ok = choice_pass(c, f, a, one_of);
    c->collect = true;
    if (ok || c->status)
        return ok && !c->status;
    c->in_retry++;
    ok = choice_pass(c, f, a, one_of);
    c->in_retry--;
    return ok;
}

static bool eval_if(struct ctx *c, const struct frame *f, struct annot *a)
{
    const struct schema *s = f->s;
    struct annot ia;
    bool use_ann = a != NULL;
    if (use_ann && !annot_init(&ia, f->inst)) {
        set_nomem(c);
        return false;
    }
    bool save = c->collect;
    c->collect = false;
    bool cond = eval_at(c, f, s->if_, f->inst, "if", NULL, -1, NULL, -1, use_ann ? &ia : NULL);
    c->collect = save;
    bool ok = true;
    if (c->status) {
        ok = false;
    } else if (cond) {
        if (use_ann)
            annot_merge(a, &ia);
        if (s->then_)
            ok = eval_at(c, f, s->then_, f->inst, "then", NULL, -1, NULL, -1, a);
    } else if (s->else_) {
        ok = eval_at(c, f, s->else_, f->inst, "else", NULL, -1, NULL, -1, a);
    }
    if (use_ann)
        annot_finish(&ia);
    return ok;
}

static bool eval_unevaluated(struct ctx *c, const struct frame *f, struct annot *a)
{
    const struct schema *s = f->s;
    const cJSON *inst = f->inst;
    bool ok = true;
    size_t i = 0;
    if (s->uneval_props && cJSON_IsObject(inst)) {
        for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
            if (annot_has(a, i))
                continue;
            if (is_false(s->uneval_props)) {
                report(c, f, "unevaluatedProperties", NULL,
                       "property \"%s\" is not allowed (unevaluatedProperties)", ch->string);
                FAIL();
            } else if (!eval_at(c, f, s->uneval_props, ch, "unevaluatedProperties", NULL, -1,
                                ch->string, -1, NULL)) {
                FAIL();
            }
        }
        a->all = true;
    }
    if (s->uneval_items && cJSON_IsArray(inst)) {
        for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
            if (annot_has(a, i))
                continue;
            if (is_false(s->uneval_items)) {
                report(c, f, "unevaluatedItems", NULL, "item %zu is not allowed (unevaluatedItems)",
                       i);
                FAIL();
            } else if (!eval_at(c, f, s->uneval_items, ch, "unevaluatedItems", NULL, -1, NULL,
                                (long)i, NULL)) {
                FAIL();
            }
        }
        a->all = true;
    }
done:
    return ok;
}

static bool eval(struct ctx *c, const struct frame *f, struct annot *ann)
{
    const struct schema *s = f->s;
    const cJSON *inst = f->inst;
    bool ok = true;
    struct annot local;
    struct annot *a = ann;
    bool own = false;
    if (c->status)
        return false;
    if (s->is_bool) {
        if (s->bool_value)
            return true;
        report(c, f, NULL, NULL, "no value is allowed here (the schema is false)");
        return false;
    }
    if (++c->depth > UTIL_CAP_EVAL_DEPTH) {
        abort_eval(c, f, NULL, UTIL_ERR_LIMIT, "schema evaluation nested deeper than %d levels",
                   UTIL_CAP_EVAL_DEPTH);
        c->depth--;
        return false;
    }
    if (s->unevaluated && (ctype(inst) == cJSON_Object || ctype(inst) == cJSON_Array)) {
        if (!annot_init(&local, inst)) {
            set_nomem(c);
            c->depth--;
            return false;
        }
        own = true;
        a = &local;
    }
    if (s->ref && !eval_ref(c, f, s->ref, "$ref", a))
        FAIL();
    if (s->dynref && !eval_ref(c, f, dyn_target(f, s), "$dynamicRef", a))
        FAIL();
    const uint32_t m = s->fm;
    const int t = ctype(inst);
    if ((m & F_TYPE) && !type_ok_fast(s, inst, t)) {
        report_type(c, f);
        FAIL();
    }
    if ((m & F_CONST) && !json_equal(s->const_val, inst)) {
        report_const(c, f);
        FAIL();
    }
    if ((m & F_ENUM) && !enum_ok(s, inst)) {
        report_enum(c, f);
        FAIL();
    }
    if (t == cJSON_Number) {
        if ((m & F_NUM) && !eval_number(c, f))
            FAIL();
    } else if (t == cJSON_String) {
        if ((m & F_STR) && !eval_string(c, f))
            FAIL();
    } else if (t == cJSON_Object) {
        if ((m & F_OBJ) && !eval_object(c, f, a))
            FAIL();
    } else if (t == cJSON_Array) {
        if ((m & F_ARR) && !eval_array(c, f, a))
            FAIL();
    }
    for (size_t i = 0; i < s->n_all_of; i++)
        if (!eval_at(c, f, s->all_of[i], inst, "allOf", NULL, (long)i, NULL, -1, a))
            FAIL();
    if (s->n_any_of && !eval_choice(c, f, a, false))
        FAIL();
    if (s->n_one_of && !eval_choice(c, f, a, true))
        FAIL();
    if (s->not_) {
        bool save = c->collect;
        c->collect = false;
        bool r = eval_at(c, f, s->not_, inst, "not", NULL, -1, NULL, -1, NULL);
        c->collect = save;
        if (c->status)
            FAIL();
        if (r) {
            report(c, f, "not", NULL, "must not match the schema in \"not\"");
            FAIL();
        }
    }
    if (s->if_ && !eval_if(c, f, a))
        FAIL();
    if (own && !eval_unevaluated(c, f, a))
        FAIL();
done:
    if (own) {
        if (ok && ann)
            annot_merge(ann, &local);
        annot_finish(&local);
    }
    c->depth--;
    return ok && !c->status;
}

int schema_validate(const struct schema *s, const cJSON *instance, struct schema_result *res,
                    struct util_error *err)
{
    struct ctx c;
    if (!s || !instance || !res)
        return util_error_set(err, UTIL_ERR_USAGE, "schema_validate: missing argument");
    schema_result_finish(res);
    /* A valid instance has no violation to collect: answer it fast. */
    struct fctx fx = {0, 0, s->reg->opts.check_formats};
    if (fv_sub(&fx, s, instance) && !fx.status) {
        res->valid = true;
        return UTIL_OK;
    }
    memset(&c, 0, sizeof(c));
    c.res = res;
    c.no_fast = fx.status == FV_FALLBACK;
    c.collect = true;
    c.check_formats = s->reg->opts.check_formats;
    struct frame root = {NULL, s, instance, NULL, NULL, -1, NULL, -1};
    bool ok = eval(&c, &root, NULL);
    if (c.status) {
        res->valid = false;
        if (c.has_abort_v) {
            if (res->count < UTIL_CAP_VIOLATIONS && result_reserve(res) == UTIL_OK)
                res->items[res->count++] = c.abort_v;
            else
                viol_free(&c.abort_v);
        }
        return util_error_set(err, c.status, "%s", c.abort_msg);
    }
    res->valid = ok;
    if (!ok && res->count == 0 && !res->truncated) {
        c.collect = true;
        report_msg(&c, &root, NULL, NULL, "the instance is not valid against the schema", SIZE_MAX);
    }
    return c.status ? util_error_set(err, c.status, "%s", c.abort_msg) : UTIL_OK;
}

bool schema_is_valid(const struct schema *s, const cJSON *instance)
{
    struct ctx c;
    if (!s || !instance)
        return false;
    struct fctx fx = {0, 0, s->reg->opts.check_formats};
    bool ok = fv_sub(&fx, s, instance);
    if (fx.status != FV_FALLBACK)
        return ok && !fx.status;
    memset(&c, 0, sizeof(c));
    c.check_formats = s->reg->opts.check_formats;
    c.no_fast = true;
    struct frame root = {NULL, s, instance, NULL, NULL, -1, NULL, -1};
    ok = eval(&c, &root, NULL);
    return ok && !c.status;
}
