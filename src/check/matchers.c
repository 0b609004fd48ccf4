/* The matchers for live data: $each, $sorted, $not, $in and the range
 * matchers $gt, $gte, $lt, $lte (numbers, or RFC 3339 date-times compared
 * as instants). The case loader has refused malformed arguments; what is
 * checked here is what depends on the expanded templates. */
#include "check/internal.h"

#include "case/template.h"
#include "util/buf.h"
#include "json/json.h"

#include <stdio.h>
#include <string.h>

/* Quotes v (secrets masked as at says) into buf (size bytes). */
static void quote(char *buf, size_t size, const cJSON *v, const struct at *at)
{
    struct util_buf q;
    util_buf_init(&q, CHECK_CAP_QUOTE + 16);
    check_quote(&q, v, at->secret, at->s);
    snprintf(buf, size, "%s", q.data ? q.data : "");
    util_buf_finish(&q);
}

static void ptr_restore(struct util_buf *ptr, size_t len)
{
    ptr->len = len;
    if (ptr->data)
        ptr->data[len] = '\0';
}

static int match_each(const cJSON *arg, const cJSON *act, const char *name, const struct at *at,
                      struct check_list *out)
{
    if (!cJSON_IsArray(act)) {
        char why[128];
        snprintf(why, sizeof(why), "expected a list ($each), got %s", json_type_name(act));
        return check_fail_at(out, name, at, act, "a list", why);
    }
    struct util_buf *ptr = at->ptr;
    size_t len = ptr->len;
    int bad = 0;
    size_t i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, act)
    {
        if (json_pointer_append_index(ptr, i++) != UTIL_OK)
            return -1;
        int r = check_match_at(arg, el, false, name, at, out);
        ptr_restore(ptr, len);
        if (r < 0)
            return -1;
        bad += r;
    }
    return bad;
}

/* The sort key of item: member `by`, or the value at the JSON Pointer by;
 * NULL when absent. */
static const cJSON *sort_key(const cJSON *item, const char *by)
{
    if (by[0] == '/')
        return json_pointer_get(item, by, false);
    return cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, by) : NULL;
}

/* Compares two sort keys into *cmp: absent and null first, then false
 * before true, numbers by value, strings as instants when both are RFC
 * 3339 date-times, else bytewise. Returns -1 when they cannot be compared
 * (different types, a list or a mapping). */
static int key_cmp(const cJSON *a, const cJSON *b, int *cmp)
{
    bool na = !a || cJSON_IsNull(a), nb = !b || cJSON_IsNull(b);
    if (na || nb) {
        *cmp = na && nb ? 0 : na ? -1 : 1;
        return 0;
    }
    if (cJSON_IsBool(a) && cJSON_IsBool(b)) {
        *cmp = cJSON_IsTrue(a) - cJSON_IsTrue(b);
        return 0;
    }
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
        *cmp = a->valuedouble < b->valuedouble ? -1 : a->valuedouble > b->valuedouble;
        return 0;
    }
    if (cJSON_IsString(a) && cJSON_IsString(b)) {
        struct case_instant ta, tb;
        if (case_instant_parse(a->valuestring, &ta) == 0 &&
            case_instant_parse(b->valuestring, &tb) == 0)
            *cmp = case_instant_cmp(&ta, &tb);
        else
            *cmp = strcmp(a->valuestring, b->valuestring);
        return 0;
    }
    return -1;
}

static int match_sorted(const cJSON *arg, const cJSON *act, const char *name, const struct at *at,
                        struct check_list *out)
{
    const cJSON *by_node = cJSON_GetObjectItemCaseSensitive(arg, "by");
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(arg, "order");
    const char *by = cJSON_IsString(by_node) ? by_node->valuestring : "";
    bool desc = cJSON_IsString(order) && strcmp(order->valuestring, "desc") == 0;
    char exp[400];
    snprintf(exp, sizeof(exp), "sorted by %.256s, %s", by, desc ? "desc" : "asc");
    if (!cJSON_IsArray(act)) {
        char why[600];
        snprintf(why, sizeof(why), "expected a list %s, got %s", exp, json_type_name(act));
        return check_fail_at(out, name, at, act, exp, why);
    }
    struct util_buf *ptr = at->ptr;
    size_t len = ptr->len;
    const cJSON *prev = NULL, *el;
    size_t i = 0;
    cJSON_ArrayForEach(el, act)
    {
        const cJSON *k = sort_key(el, by);
        int cmp = 0;
        bool bad = false;
        char why[1200], qa[CHECK_CAP_QUOTE + 16], qb[CHECK_CAP_QUOTE + 16];
        if (i > 0) {
            const cJSON *pk = sort_key(prev, by);
            quote(qa, sizeof(qa), pk, at);
            quote(qb, sizeof(qb), k, at);
            if (key_cmp(pk, k, &cmp) != 0) {
                bad = true;
                snprintf(why, sizeof(why),
                         "%s cannot be ordered against %s of the item before (expected %s)", qb, qa,
                         exp);
            } else if (desc ? cmp < 0 : cmp > 0) {
                bad = true;
                snprintf(why, sizeof(why), "%s after %s (the item before): expected %s", qb, qa,
                         exp);
            }
        }
        if (bad) {
            int rc = json_pointer_append_index(ptr, i);
            if (!rc)
                rc = by[0] == '/' ? util_buf_puts(ptr, by) : json_pointer_append(ptr, by);
            int r = rc ? -1 : check_fail_at(out, name, at, k, exp, why);
            ptr_restore(ptr, len);
            return r;
        }
        prev = el;
        i++;
    }
    return 0;
}

static int match_not(const cJSON *arg, const cJSON *act, const char *name, const struct at *at,
                     struct check_list *out)
{
    struct check_list scratch;
    struct util_buf p2;
    check_list_init(&scratch);
    util_buf_init(&p2, 64 * 1024);
    int r = util_buf_puts(&p2, at->ptr->data ? at->ptr->data : "") ? -1 : 0;
    if (!r) {
        struct at at2 = {&p2, at->secret, at->s};
        r = check_match_at(arg, act, false, name, &at2, &scratch);
    }
    check_list_finish(&scratch);
    util_buf_finish(&p2);
    if (r != 0)
        return r < 0 ? -1 : 0;
    char q[CHECK_CAP_QUOTE + 16], exp[CHECK_CAP_QUOTE + 32], why[CHECK_CAP_QUOTE + 64];
    quote(q, sizeof(q), arg, at);
    snprintf(exp, sizeof(exp), "not %s", q);
    snprintf(why, sizeof(why), "matches %s, expected it not to ($not)", q);
    return check_fail_at(out, name, at, act, exp, why);
}

static int match_in(const cJSON *arg, const cJSON *act, const char *name, const struct at *at,
                    struct check_list *out)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, arg)
    {
        if (json_equal(v, act))
            return 0;
    }
    char q[CHECK_CAP_QUOTE + 16], exp[CHECK_CAP_QUOTE + 32], why[CHECK_CAP_QUOTE + 64];
    quote(q, sizeof(q), arg, at);
    snprintf(exp, sizeof(exp), "one of %s", q);
    snprintf(why, sizeof(why), "expected one of %s", q);
    return check_fail_at(out, name, at, act, exp, why);
}

/* $gt, $gte, $lt, $lte: a number bound compares numbers, a string bound
 * (an RFC 3339 date-time once expanded) compares instants. */
static int match_range(const char *k, const cJSON *arg, const cJSON *act, const char *name,
                       const struct at *at, struct check_list *out)
{
    const char *op = strcmp(k, "$gt") == 0    ? ">"
                     : strcmp(k, "$gte") == 0 ? ">="
                     : strcmp(k, "$lt") == 0  ? "<"
                                              : "<=";
    char exp[CHECK_CAP_QUOTE + 64], why[CHECK_CAP_QUOTE + 128];
    int cmp;
    if (cJSON_IsNumber(arg)) {
        char *b = cJSON_PrintUnformatted(arg);
        snprintf(exp, sizeof(exp), "%s %s", op, b ? b : "?");
        cJSON_free(b);
        if (!cJSON_IsNumber(act)) {
            snprintf(why, sizeof(why), "expected a number %s, got %s", exp, json_type_name(act));
            return check_fail_at(out, name, at, act, exp, why);
        }
        cmp = act->valuedouble < arg->valuedouble ? -1 : act->valuedouble > arg->valuedouble;
    } else {
        const char *bound = cJSON_IsString(arg) ? arg->valuestring : "";
        struct case_instant tb, ta;
        snprintf(exp, sizeof(exp), "a date-time %s %.200s", op, bound);
        if (case_instant_parse(bound, &tb) != 0) {
            snprintf(why, sizeof(why), "%s: the bound '%.200s' is not an RFC 3339 date-time", k,
                     bound);
            return check_fail_at(out, name, at, act, exp, why);
        }
        if (!cJSON_IsString(act) || case_instant_parse(act->valuestring, &ta) != 0) {
            snprintf(why, sizeof(why), "expected %s, got %s", exp,
                     cJSON_IsString(act) ? "a string that is not an RFC 3339 date-time"
                                         : json_type_name(act));
            return check_fail_at(out, name, at, act, exp, why);
        }
        cmp = case_instant_cmp(&ta, &tb);
    }
    bool ok = op[0] == '>' ? (op[1] ? cmp >= 0 : cmp > 0) : (op[1] ? cmp <= 0 : cmp < 0);
    if (ok)
        return 0;
    snprintf(why, sizeof(why), "expected %s", exp);
    return check_fail_at(out, name, at, act, exp, why);
}

int check_match_more(const char *k, const cJSON *arg, const cJSON *act, const char *name,
                     const struct at *at, struct check_list *out)
{
    if (strcmp(k, "$not") == 0)
        return match_not(arg, act, name, at, out);
    if (!act)
        return check_fail_at(out, name, at, act, "present", "absent");
    if (strcmp(k, "$each") == 0)
        return match_each(arg, act, name, at, out);
    if (strcmp(k, "$sorted") == 0)
        return match_sorted(arg, act, name, at, out);
    if (strcmp(k, "$in") == 0)
        return match_in(arg, act, name, at, out);
    if (strcmp(k, "$gt") == 0 || strcmp(k, "$gte") == 0 || strcmp(k, "$lt") == 0 ||
        strcmp(k, "$lte") == 0)
        return match_range(k, arg, act, name, at, out);
    return 0;
}
