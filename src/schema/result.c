/* Violations: the result list, locations, and the messages
 * each keyword reports. */

#include "schema/eval.h"

#include "util/buf.h"
#include "util/caps.h"
#include "json/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void schema_result_init(struct schema_result *res)
{
    memset(res, 0, sizeof(*res));
    res->valid = true;
}

void schema_ev_viol_free(struct schema_violation *v)
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
        schema_ev_viol_free(&res->items[i]);
    free(res->items);
    schema_result_init(res);
}

struct rmark schema_ev_rmark(const struct ctx *c)
{
    struct rmark m = {0, false};
    if (c->res) {
        m.count = c->res->count;
        m.truncated = c->res->truncated;
    }
    return m;
}

void schema_ev_rollback(struct ctx *c, struct rmark m)
{
    if (!c->res)
        return;
    for (size_t i = m.count; i < c->res->count; i++)
        schema_ev_viol_free(&c->res->items[i]);
    c->res->count = m.count;
    c->res->truncated = m.truncated;
}

/* Frees [at, start) and moves [start, count) down to at. */
void schema_ev_keep_tail(struct schema_result *r, size_t at, size_t start)
{
    if (start == at)
        return;
    for (size_t i = at; i < start; i++)
        schema_ev_viol_free(&r->items[i]);
    memmove(&r->items[at], &r->items[start], (r->count - start) * sizeof(r->items[0]));
    r->count -= start - at;
}

int schema_ev_result_reserve(struct schema_result *r)
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

int schema_ev_inst_path(struct util_buf *b, const struct frame *f)
{
    int rc = UTIL_OK;
    if (f->up)
        rc = schema_ev_inst_path(b, f->up);
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
    rc = schema_ev_inst_path(&b, f);
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
    schema_ev_viol_free(v);
    return UTIL_ERR_NOMEM;
}

void schema_ev_set_nomem(struct ctx *c)
{
    if (!c->status) {
        c->status = UTIL_ERR_NOMEM;
        snprintf(c->abort_msg, sizeof(c->abort_msg), "out of memory");
    }
}

/* Records a violation (in collecting mode) at position pos of the
 * result, or appended when pos is SIZE_MAX. */
void schema_ev_report_msg(struct ctx *c, const struct frame *f, const char *kw, const char *kw_key,
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
    if (build_violation(f, kw, kw_key, msg, &v) || schema_ev_result_reserve(r)) {
        schema_ev_viol_free(&v);
        schema_ev_set_nomem(c);
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
void schema_ev_report_buf(struct ctx *c, const struct frame *f, const char *kw, const char *kw_key,
                          const struct util_buf *b, size_t pos)
{
    if (b->error == UTIL_ERR_NOMEM)
        schema_ev_set_nomem(c);
    else
        schema_ev_report_msg(c, f, kw, kw_key, b->data ? b->data : "", pos);
}

void schema_ev_report(struct ctx *c, const struct frame *f, const char *kw, const char *kw_key,
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
    schema_ev_report_buf(c, f, kw, kw_key, &b, SIZE_MAX);
    util_buf_finish(&b);
}

/* Stops evaluation: records why (code and message) and, when collecting,
 * the violation that is appended once evaluation has unwound. */
void schema_ev_abort(struct ctx *c, const struct frame *f, const char *kw, int code,
                     const char *fmt, ...)
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

void schema_ev_put_number(struct util_buf *b, double d)
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
void schema_ev_put_string(struct util_buf *b, const char *s, size_t max, bool quote)
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
        else if (ch == 0xC0 && (unsigned char)p[1] == 0x80) {
            util_buf_puts(b, "\\u0000"); /* JSON_NUL */
            p++;
        } else
            util_buf_putc(b, (char)ch);
    }
    if (quote)
        util_buf_putc(b, '"');
}

/* Short human form of a value: strings quoted, containers abbreviated. */
void schema_ev_put_value(struct util_buf *b, const cJSON *n, bool quote_strings)
{
    if (cJSON_IsString(n))
        schema_ev_put_string(b, n->valuestring, SC_VALUE_SHOW_MAX, quote_strings);
    else if (cJSON_IsNumber(n))
        schema_ev_put_number(b, n->valuedouble);
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

void schema_ev_put_types(struct util_buf *b, unsigned types)
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

void schema_ev_report_type(struct ctx *c, const struct frame *f)
{
    struct util_buf b;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    util_buf_puts(&b, "expected ");
    schema_ev_put_types(&b, f->s->types | (f->s->nullable ? T_NULL : 0u));
    util_buf_printf(&b, ", got %s", json_type_name(f->inst));
    schema_ev_report_buf(c, f, "type", NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
}

void schema_ev_report_enum(struct ctx *c, const struct frame *f)
{
    struct util_buf b;
    const struct schema *s = f->s;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    schema_ev_put_value(&b, f->inst, true);
    util_buf_puts(&b, s->n_enum == 1 ? " is not " : " is not one of ");
    for (size_t i = 0; i < s->n_enum && i < SC_ENUM_LIST_MAX; i++) {
        if (i)
            util_buf_puts(&b, ", ");
        schema_ev_put_value(&b, s->enum_vals[i], false);
    }
    if (s->n_enum > SC_ENUM_LIST_MAX)
        util_buf_printf(&b, ", ... (%zu more)", s->n_enum - SC_ENUM_LIST_MAX);
    schema_ev_report_buf(c, f, "enum", NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
}

void schema_ev_report_const(struct ctx *c, const struct frame *f)
{
    struct util_buf b;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    util_buf_puts(&b, "must be ");
    schema_ev_put_value(&b, f->s->const_val, true);
    util_buf_puts(&b, ", got ");
    schema_ev_put_value(&b, f->inst, true);
    schema_ev_report_buf(c, f, "const", NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
}

/* Reports "<value> <text> <number>" style messages for numeric keywords. */
void schema_ev_report_number(struct ctx *c, const struct frame *f, const char *kw, const char *text,
                             double limit)
{
    struct util_buf b;
    if (!c->collect || !c->res)
        return;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    schema_ev_put_number(&b, f->inst->valuedouble);
    util_buf_puts(&b, text);
    schema_ev_put_number(&b, limit);
    schema_ev_report_buf(c, f, kw, NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
}
