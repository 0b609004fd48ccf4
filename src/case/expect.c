/* Expectations (expect:, until:): statuses and matchers. */
#include "case/internal.h"

#include "case/limits.h"
#include "case/template.h"
#include "json/json.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_status_one(const cJSON *n, struct case_status *out)
{
    if (cJSON_IsNumber(n) && json_is_integer(n) && n->valuedouble >= 100 && n->valuedouble <= 599) {
        out->code = (int)n->valuedouble;
        out->is_class = false;
        return 0;
    }
    if (cJSON_IsString(n) && strlen(n->valuestring) == 3 && n->valuestring[0] >= '1' &&
        n->valuestring[0] <= '5' && strcmp(n->valuestring + 1, "xx") == 0) {
        out->code = n->valuestring[0] - '0';
        out->is_class = true;
        return 0;
    }
    return -1;
}

static const char *const matcher_names[] = {
    "$type",  "$regex",  "$uuid", "$date-time", "$length", "$contains",
    "$exact", "$absent", "$each", "$not",       "$in",     "$sorted",
    "$gt",    "$gte",    "$lt",   "$lte",       NULL};

static bool is_range(const char *m)
{
    return strcmp(m, "$gt") == 0 || strcmp(m, "$gte") == 0 || strcmp(m, "$lt") == 0 ||
           strcmp(m, "$lte") == 0;
}

/* A range bound: a number, or a string that is an RFC 3339 date-time or
 * holds a template (checked once expanded). *date says which. */
static bool range_bound(const cJSON *b, bool *date)
{
    struct case_instant t;
    *date = cJSON_IsString(b);
    if (cJSON_IsNumber(b))
        return true;
    return cJSON_IsString(b) &&
           (case_template_has(b->valuestring) || case_instant_parse(b->valuestring, &t) == 0);
}

/* Checks a $sorted argument: {by: KEY, order: asc|desc}, KEY a member
 * name or a JSON Pointer ("/a/b"); order defaults to asc. */
static int check_sorted(struct case_ctx *c, const cJSON *it, const char *p)
{
    static const char what[] = "$sorted: expected {by: KEY, order: asc or desc} (KEY a member "
                               "name or a JSON Pointer such as /a/b)";
    const cJSON *b;
    bool by = false;
    if (!cJSON_IsObject(it))
        return case_fail_at(c, p, UTIL_ERR_INVALID, "%s", what);
    cJSON_ArrayForEach(b, it)
    {
        char q[1024];
        case_ptr_join(q, sizeof(q), p, b->string);
        if (strcmp(b->string, "by") == 0) {
            if (!cJSON_IsString(b) || !b->valuestring[0])
                return case_fail_at(c, q, UTIL_ERR_INVALID, "%s", what);
            by = true;
        } else if (strcmp(b->string, "order") == 0) {
            if (!cJSON_IsString(b) ||
                (strcmp(b->valuestring, "asc") != 0 && strcmp(b->valuestring, "desc") != 0))
                return case_fail_at(c, q, UTIL_ERR_INVALID, "$sorted: order: expected asc or desc");
        } else {
            return case_fail_at(c, q, UTIL_ERR_INVALID, "%s", what);
        }
    }
    if (!by)
        return case_fail_at(c, p, UTIL_ERR_INVALID, "%s", what);
    return UTIL_OK;
}

bool case_is_matcher(const cJSON *node)
{
    if (!cJSON_IsObject(node) || !node->child)
        return false;
    const cJSON *it;
    cJSON_ArrayForEach(it, node)
    {
        if (!it->string || it->string[0] != '$')
            return false;
    }
    return true;
}

static bool known_type(const char *t)
{
    static const char *const types[] = {"string", "number", "integer", "boolean",
                                        "array",  "object", "null",    NULL};
    for (size_t i = 0; types[i]; i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

/* Checks every matcher object inside an expected value. */
static int check_matchers(struct case_ctx *c, const cJSON *n, const char *pointer)
{
    char p[1024];
    const cJSON *it;
    if (case_is_matcher(n)) {
        cJSON_ArrayForEach(it, n)
        {
            case_ptr_join(p, sizeof(p), pointer, it->string);
            size_t k = 0;
            while (matcher_names[k] && strcmp(matcher_names[k], it->string) != 0)
                k++;
            if (!matcher_names[k])
                return case_fail_at(
                    c, p, UTIL_ERR_INVALID,
                    "unknown matcher '%s' (expected $type, $regex, $uuid, $date-time, "
                    "$length, $contains, $exact, $absent, $each, $not, $in, $sorted, $gt, "
                    "$gte, $lt or $lte)",
                    it->string);
            const char *m = it->string;
            if (strcmp(m, "$type") == 0) {
                bool ok = cJSON_IsString(it) && known_type(it->valuestring);
                if (cJSON_IsArray(it)) {
                    const cJSON *t;
                    ok = cJSON_GetArraySize(it) > 0;
                    cJSON_ArrayForEach(t, it) ok =
                        ok && cJSON_IsString(t) && known_type(t->valuestring);
                }
                if (!ok)
                    return case_fail_at(c, p, UTIL_ERR_INVALID,
                                        "$type: expected string, number, integer, boolean, array, "
                                        "object or null (or a list of them)");
            } else if (strcmp(m, "$regex") == 0) {
                if (!cJSON_IsString(it))
                    return case_fail_at(c, p, UTIL_ERR_INVALID, "$regex: expected a string");
                if (!case_template_has(it->valuestring)) {
                    regex_t re;
                    char why[256];
                    if (case_regex_compile(&re, it->valuestring, why, sizeof(why)))
                        return case_fail_at(c, p, UTIL_ERR_INVALID,
                                            "$regex: not a POSIX extended regular expression: %s",
                                            why);
                    regfree(&re);
                }
            } else if (strcmp(m, "$uuid") == 0 || strcmp(m, "$date-time") == 0 ||
                       strcmp(m, "$absent") == 0) {
                if (!cJSON_IsBool(it))
                    return case_fail_at(c, p, UTIL_ERR_INVALID, "%s: expected true or false", m);
            } else if (strcmp(m, "$length") == 0) {
                bool ok = cJSON_IsNumber(it) && json_is_integer(it) && it->valuedouble >= 0;
                if (cJSON_IsObject(it)) {
                    const cJSON *b;
                    ok = it->child != NULL;
                    cJSON_ArrayForEach(b, it)
                    {
                        ok = ok &&
                             (strcmp(b->string, "min") == 0 || strcmp(b->string, "max") == 0) &&
                             cJSON_IsNumber(b) && json_is_integer(b) && b->valuedouble >= 0;
                    }
                }
                if (!ok)
                    return case_fail_at(c, p, UTIL_ERR_INVALID,
                                        "$length: expected a count (3) or {min: N, max: N}");
            } else if (strcmp(m, "$in") == 0) {
                bool ok = cJSON_IsArray(it) && it->child != NULL;
                const cJSON *v;
                cJSON_ArrayForEach(v, it) ok = ok && !case_is_matcher(v);
                if (!ok)
                    return case_fail_at(c, p, UTIL_ERR_INVALID,
                                        "$in: expected a non-empty list of values (not matchers)");
            } else if (strcmp(m, "$sorted") == 0) {
                int rc = check_sorted(c, it, p);
                if (rc)
                    return rc;
            } else if (is_range(m)) {
                bool date;
                if (!range_bound(it, &date))
                    return case_fail_at(c, p, UTIL_ERR_INVALID,
                                        "%s: expected a number or an RFC 3339 date-time (such as "
                                        "\"{{createdAt - 1h}}\")",
                                        m);
                const cJSON *o;
                cJSON_ArrayForEach(o, n)
                {
                    bool od;
                    if (o != it && is_range(o->string) && range_bound(o, &od) && od != date)
                        return case_fail_at(c, p, UTIL_ERR_INVALID,
                                            "%s: the bounds of one matcher are all numbers or "
                                            "all date-times",
                                            m);
                }
            } else {
                /* $contains, $exact, $each, $not: an expected value. */
                int rc = check_matchers(c, it, p);
                if (rc)
                    return rc;
            }
        }
        return UTIL_OK;
    }
    size_t i = 0;
    cJSON_ArrayForEach(it, n)
    {
        if (cJSON_IsArray(n))
            case_ptr_index(p, sizeof(p), pointer, i++);
        else
            case_ptr_join(p, sizeof(p), pointer, it->string);
        int rc = check_matchers(c, it, p);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

int case_build_expect(struct case_ctx *c, const cJSON *node, const char *pointer,
                      struct case_expect *e)
{
    char p[1024];
    if (!node)
        return UTIL_OK;
    e->given = true;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(node, "status");
    if (status) {
        size_t n = cJSON_IsArray(status) ? (size_t)cJSON_GetArraySize(status) : 1;
        case_ptr_join(p, sizeof(p), pointer, "status");
        if (n > CASE_CAP_STATUSES)
            return case_fail_at(c, p, UTIL_ERR_LIMIT, "more than %d statuses", CASE_CAP_STATUSES);
        e->status = calloc(n, sizeof(*e->status));
        if (!e->status)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        if (cJSON_IsArray(status)) {
            const cJSON *it;
            cJSON_ArrayForEach(it, status)
            {
                if (parse_status_one(it, &e->status[e->nstatus]) != 0)
                    return case_fail_at(c, p, UTIL_ERR_INVALID, "bad status");
                e->nstatus++;
            }
        } else {
            if (parse_status_one(status, &e->status[0]) != 0)
                return case_fail_at(c, p, UTIL_ERR_INVALID, "bad status");
            e->nstatus = 1;
        }
    }
    e->headers = cJSON_GetObjectItemCaseSensitive(node, "headers");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(node, "body");
    const cJSON *exact = cJSON_GetObjectItemCaseSensitive(node, "body_exact");
    if (body && exact) {
        case_ptr_join(p, sizeof(p), pointer, "body_exact");
        return case_fail_at(c, p, UTIL_ERR_INVALID, "body and body_exact exclude each other");
    }
    e->body = exact ? exact : body;
    e->body_exact = exact != NULL;
    int rc = UTIL_OK;
    if (e->body) {
        case_ptr_join(p, sizeof(p), pointer, exact ? "body_exact" : "body");
        rc = check_matchers(c, e->body, p);
    }
    if (!rc && e->headers) {
        case_ptr_join(p, sizeof(p), pointer, "headers");
        rc = check_matchers(c, e->headers, p);
    }
    return rc;
}
