/* Keywords that look at a scalar instance: const/enum, numbers and
 * strings, in the collecting (eval) and the yes/no (fast) forms. */

#include "schema/eval.h"

#include "util/buf.h"
#include "util/caps.h"
#include "json/json.h"

#include <float.h>
#include <math.h>
#include <string.h>

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

bool schema_ev_enum_ok(const struct schema *s, const cJSON *inst)
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

bool schema_ev_number(struct ctx *c, const struct frame *f)
{
    const struct schema *s = f->s;
    double v = f->inst->valuedouble;
    bool ok = true;
    if ((s->has & HAS_MIN) && v < s->minimum) {
        schema_ev_report_number(c, f, "minimum", " is less than the minimum of ", s->minimum);
        FAIL();
    }
    if ((s->has & HAS_XMIN) && v <= s->xminimum) {
        schema_ev_report_number(c, f, s->xmin_kw, " must be greater than ", s->xminimum);
        FAIL();
    }
    if ((s->has & HAS_MAX) && v > s->maximum) {
        schema_ev_report_number(c, f, "maximum", " is greater than the maximum of ", s->maximum);
        FAIL();
    }
    if ((s->has & HAS_XMAX) && v >= s->xmaximum) {
        schema_ev_report_number(c, f, s->xmax_kw, " must be less than ", s->xmaximum);
        FAIL();
    }
    if ((s->has & HAS_MULT) && !is_multiple(v, s->multiple_of)) {
        schema_ev_report_number(c, f, "multipleOf", " is not a multiple of ", s->multiple_of);
        FAIL();
    }
done:
    return ok;
}

bool schema_ev_num_ok(const struct schema *s, double v)
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

static size_t utf8_length(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

bool schema_ev_string(struct ctx *c, const struct frame *f)
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
            schema_ev_report(c, f, "minLength", NULL,
                             "string has %zu character%s, fewer than the minimum of %zu", n,
                             n == 1 ? "" : "s", s->min_len);
            FAIL();
        }
        if ((s->has & HAS_MAXLEN) && n > s->max_len) {
            schema_ev_report(c, f, "maxLength", NULL,
                             "string has %zu characters, more than the maximum of %zu", n,
                             s->max_len);
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
            schema_ev_abort(c, f, "pattern", UTIL_ERR_LIMIT,
                            "pattern %s could not be evaluated within its step budget",
                            s->pattern_src);
            ok = false;
            goto done;
        }
        if (!m && c->collect && c->res) {
            struct util_buf b;
            util_buf_init(&b, UTIL_CAP_MESSAGE);
            schema_ev_put_value(&b, f->inst, true);
            util_buf_puts(&b, " does not match the pattern ");
            schema_ev_put_string(&b, s->pattern_src, 200, false);
            schema_ev_report_buf(c, f, "pattern", NULL, &b, SIZE_MAX);
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
                schema_ev_put_value(&b, f->inst, true);
                util_buf_printf(&b, " is not a valid %s", s->format_name);
                schema_ev_report_buf(c, f, "format", NULL, &b, SIZE_MAX);
                util_buf_finish(&b);
            }
            FAIL();
        }
    }
done:
    return ok;
}

/* 1 passes, 0 fails, -1 a pattern ran out of its step budget. */
int schema_ev_str_ok(const struct schema *s, const char *str, bool check_formats)
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
