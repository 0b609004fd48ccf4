/* The case's expectations: status, headers, body values and matchers. */
#include "check/check.h"
#include "check/internal.h"

#include "case/template.h"

#include "util/buf.h"
#include "json/json.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(s) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* RFC 3339 date-time: 2024-04-17T10:00:00(.123)?(Z|+02:00). */
static bool is_date_time(const char *s)
{
    struct case_instant t;
    return case_instant_parse(s, &t) == 0;
}

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static bool type_is(const cJSON *v, const char *t)
{
    if (!v)
        return false;
    if (strcmp(t, "number") == 0)
        return cJSON_IsNumber(v);
    if (strcmp(t, "integer") == 0)
        return cJSON_IsNumber(v) && json_is_integer(v);
    if (strcmp(t, "boolean") == 0)
        return cJSON_IsBool(v);
    return strcmp(json_type_name(v), t) == 0;
}

int check_fail_at(struct check_list *out, const char *name, const struct at *at,
                  const cJSON *actual, const char *expected, const char *why)
{
    struct util_buf b;
    util_buf_init(&b, CHECK_CAP_QUOTE + 16);
    const char *pointer = at->ptr->data;
    int rc = check_quote(&b, actual, at->secret, at->s);
    if (rc == UTIL_OK)
        rc = check_list_add(out, name, CHECK_FAIL, pointer, expected, b.data, "%s%s%s",
                            *pointer ? pointer : "body", *pointer ? ": " : ": ", why);
    util_buf_finish(&b);
    return rc ? -1 : 1;
}

/* Evaluates one matcher object; returns the number of mismatches. */
static int match_matcher(const cJSON *m, const cJSON *act, const char *name, const struct at *at,
                         struct check_list *out)
{
    char exp[512];
    const cJSON *absent = cJSON_GetObjectItemCaseSensitive(m, "$absent");
    if (absent) {
        if (cJSON_IsTrue(absent) && act)
            return check_fail_at(out, name, at, act, "absent", "present, expected absent");
        if (cJSON_IsFalse(absent) && !act)
            return check_fail_at(out, name, at, act, "present", "absent, expected present");
    }
    const cJSON *it;
    if (!act) {
        /* Only $absent and $not say something of an absent value. */
        cJSON_ArrayForEach(it, m)
        {
            if (strcmp(it->string, "$absent") != 0 && strcmp(it->string, "$not") != 0)
                return check_fail_at(out, name, at, act, "present", "absent");
        }
    }
    int bad = 0;
    cJSON_ArrayForEach(it, m)
    {
        const char *k = it->string;
        int r = 0;
        if (strcmp(k, "$type") == 0) {
            bool ok = false;
            if (cJSON_IsString(it)) {
                ok = type_is(act, it->valuestring);
                snprintf(exp, sizeof(exp), "type %s", it->valuestring);
            } else {
                const cJSON *t;
                size_t n = (size_t)snprintf(exp, sizeof(exp), "type");
                cJSON_ArrayForEach(t, it)
                {
                    ok = ok || (cJSON_IsString(t) && type_is(act, t->valuestring));
                    if (cJSON_IsString(t) && n < sizeof(exp))
                        n += (size_t)snprintf(exp + n, sizeof(exp) - n, "%s%s",
                                              t == it->child ? " " : " or ", t->valuestring);
                }
            }
            if (!ok) {
                char why[600];
                snprintf(why, sizeof(why), "expected %s, got %s", exp, json_type_name(act));
                r = check_fail_at(out, name, at, act, exp, why);
            }
        } else if (strcmp(k, "$regex") == 0) {
            snprintf(exp, sizeof(exp), "matches /%s/", cJSON_IsString(it) ? it->valuestring : "");
            regex_t re;
            char why[256] = "";
            if (!cJSON_IsString(it) || case_regex_compile(&re, it->valuestring, why, sizeof(why))) {
                char msg[300];
                snprintf(msg, sizeof(msg), "invalid regular expression%s%s", *why ? ": " : "", why);
                r = check_fail_at(out, name, at, act, exp, msg);
            } else {
                if (!cJSON_IsString(act))
                    r = check_fail_at(out, name, at, act, exp, "not a string");
                else if (regexec(&re, act->valuestring, 0, NULL, 0) != 0)
                    r = check_fail_at(out, name, at, act, exp, "does not match the pattern");
                regfree(&re);
            }
        } else if (strcmp(k, "$uuid") == 0 || strcmp(k, "$date-time") == 0) {
            bool want = cJSON_IsTrue(it);
            bool uuid = k[1] == 'u';
            bool is = cJSON_IsString(act) &&
                      (uuid ? is_uuid(act->valuestring) : is_date_time(act->valuestring));
            snprintf(exp, sizeof(exp), "%s%s", want ? "" : "not ",
                     uuid ? "a UUID" : "an RFC 3339 date-time");
            if (is != want) {
                char why[600];
                snprintf(why, sizeof(why), "expected %s", exp);
                r = check_fail_at(out, name, at, act, exp, why);
            }
        } else if (strcmp(k, "$length") == 0) {
            long len = -1;
            if (cJSON_IsString(act))
                len = (long)utf8_length(act->valuestring);
            else if (cJSON_IsArray(act) || cJSON_IsObject(act))
                len = cJSON_GetArraySize(act);
            long lo = 0, hi = -1;
            if (cJSON_IsNumber(it)) {
                lo = hi = (long)it->valuedouble;
                snprintf(exp, sizeof(exp), "length %ld", lo);
            } else {
                const cJSON *mn = cJSON_GetObjectItemCaseSensitive(it, "min");
                const cJSON *mx = cJSON_GetObjectItemCaseSensitive(it, "max");
                lo = cJSON_IsNumber(mn) ? (long)mn->valuedouble : 0;
                hi = cJSON_IsNumber(mx) ? (long)mx->valuedouble : -1;
                if (hi >= 0)
                    snprintf(exp, sizeof(exp), "length %ld..%ld", lo, hi);
                else
                    snprintf(exp, sizeof(exp), "length at least %ld", lo);
            }
            if (len < 0) {
                r = check_fail_at(out, name, at, act, exp,
                                  "has no length (not a string, list or "
                                  "mapping)");
            } else if (len < lo || (hi >= 0 && len > hi)) {
                char why[600];
                snprintf(why, sizeof(why), "length %ld, expected %s", len, exp);
                r = check_fail_at(out, name, at, act, exp, why);
            }
        } else if (strcmp(k, "$contains") == 0) {
            struct util_buf q;
            util_buf_init(&q, CHECK_CAP_QUOTE + 16);
            check_quote(&q, it, at->secret, at->s);
            snprintf(exp, sizeof(exp), "contains %s", q.data ? q.data : "");
            util_buf_finish(&q);
            if (cJSON_IsString(act)) {
                if (!cJSON_IsString(it) || !strstr(act->valuestring, it->valuestring))
                    r = check_fail_at(out, name, at, act, exp, "does not contain the text");
            } else if (cJSON_IsArray(act)) {
                bool found = false;
                const cJSON *el;
                struct check_list scratch;
                check_list_init(&scratch);
                cJSON_ArrayForEach(el, act)
                {
                    struct util_buf p2;
                    util_buf_init(&p2, 4096);
                    util_buf_puts(&p2, "");
                    struct at at2 = {&p2, at->secret, at->s};
                    int m2 = check_match_at(it, el, false, name, &at2, &scratch);
                    util_buf_finish(&p2);
                    if (m2 == 0) {
                        found = true;
                        break;
                    }
                }
                check_list_finish(&scratch);
                if (!found)
                    r = check_fail_at(out, name, at, act, exp, "no item matches");
            } else {
                r = check_fail_at(out, name, at, act, exp, "not a string or a list");
            }
        } else if (strcmp(k, "$exact") == 0) {
            r = check_match_at(it, act, true, name, at, out);
        } else if (strcmp(k, "$absent") != 0) {
            r = check_match_more(k, it, act, name, at, out);
        }
        if (r < 0)
            return -1;
        bad += r;
    }
    return bad;
}

int check_match_at(const cJSON *exp, const cJSON *act, bool exact, const char *name,
                   const struct at *at, struct check_list *out)
{
    struct util_buf b;
    struct util_buf *ptr = at->ptr;
    if (case_is_matcher(exp))
        return match_matcher(exp, act, name, at, out);
    util_buf_init(&b, CHECK_CAP_QUOTE + 16);
    int bad = 0;
    if (!act) {
        check_quote(&b, exp, at->secret, at->s);
        bad = check_fail_at(out, name, at, act, b.data, "absent");
    } else if (cJSON_IsObject(exp)) {
        if (!cJSON_IsObject(act)) {
            char why[128];
            snprintf(why, sizeof(why), "expected an object, got %s", json_type_name(act));
            bad = check_fail_at(out, name, at, act, "an object", why);
        } else {
            size_t len = ptr->len;
            const cJSON *it;
            cJSON_ArrayForEach(it, exp)
            {
                json_pointer_append(ptr, it->string);
                struct at in = {ptr, at->secret || check_secrets_is_field(at->s, it->string),
                                at->s};
                int r = check_match_at(it, cJSON_GetObjectItemCaseSensitive(act, it->string), exact,
                                       name, &in, out);
                ptr->len = len;
                ptr->data[len] = '\0';
                if (r < 0) {
                    bad = -1;
                    goto cleanup;
                }
                bad += r;
            }
            if (exact) {
                cJSON_ArrayForEach(it, act)
                {
                    if (cJSON_GetObjectItemCaseSensitive(exp, it->string))
                        continue;
                    json_pointer_append(ptr, it->string);
                    struct at in = {ptr, at->secret || check_secrets_is_field(at->s, it->string),
                                    at->s};
                    int r = check_fail_at(out, name, &in, it, "(absent)",
                                          "unexpected key (body_exact lists every key)");
                    ptr->len = len;
                    ptr->data[len] = '\0';
                    if (r < 0) {
                        bad = -1;
                        goto cleanup;
                    }
                    bad += r;
                }
            }
        }
    } else if (cJSON_IsArray(exp)) {
        int ne = cJSON_GetArraySize(exp), na = cJSON_IsArray(act) ? cJSON_GetArraySize(act) : -1;
        if (na < 0) {
            char why[128];
            snprintf(why, sizeof(why), "expected a list, got %s", json_type_name(act));
            bad = check_fail_at(out, name, at, act, "a list", why);
        } else if (ne != na) {
            char why[128], e[64];
            snprintf(e, sizeof(e), "a list of %d", ne);
            snprintf(why, sizeof(why), "a list of %d, expected %d (use $contains for membership)",
                     na, ne);
            bad = check_fail_at(out, name, at, act, e, why);
        } else {
            size_t len = ptr->len;
            for (int i = 0; i < ne; i++) {
                json_pointer_append_index(ptr, (size_t)i);
                int r = check_match_at(cJSON_GetArrayItem(exp, i), cJSON_GetArrayItem(act, i),
                                       exact, name, at, out);
                ptr->len = len;
                ptr->data[len] = '\0';
                if (r < 0) {
                    bad = -1;
                    goto cleanup;
                }
                bad += r;
            }
        }
    } else if (!json_equal(exp, act)) {
        check_quote(&b, exp, at->secret, at->s);
        char why[CHECK_CAP_QUOTE + 32];
        snprintf(why, sizeof(why), "expected %s", b.data);
        bad = check_fail_at(out, name, at, act, b.data, why);
    }
cleanup:
    util_buf_finish(&b);
    return bad;
}

/* check_match_value, with the value under a secret member when secret. */
static int match_value(const cJSON *expected, const cJSON *actual, bool exact, const char *name,
                       const char *base, bool secret, const struct check_secrets *s,
                       struct check_list *out)
{
    struct util_buf ptr;
    util_buf_init(&ptr, 64 * 1024);
    if (util_buf_puts(&ptr, base ? base : "") != UTIL_OK) {
        util_buf_finish(&ptr);
        return -1;
    }
    struct at at = {&ptr, secret, s};
    int r = check_match_at(expected, actual, exact, name, &at, out);
    util_buf_finish(&ptr);
    return r;
}

int check_match_value(const cJSON *expected, const cJSON *actual, bool exact, const char *name,
                      const char *base, const struct check_secrets *s, struct check_list *out)
{
    return match_value(expected, actual, exact, name, base, false, s, out);
}

int check_expect(const struct case_expect *e, const cJSON *headers, const cJSON *body, int status,
                 const struct http_headers *resp_headers, const cJSON *body_doc,
                 const struct check_secrets *s, struct check_list *out)
{
    char want[256], got[16];
    case_expect_status_text(e, want, sizeof(want));
    snprintf(got, sizeof(got), "%d", status);
    bool ok = case_expect_status_matches(e, status);
    if (check_list_add(out, "expect.status", ok ? CHECK_PASS : CHECK_FAIL, NULL, want, got,
                       ok ? "status %d" : "status %d, expected %s", status, want))
        return UTIL_ERR_NOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, headers)
    {
        const char *v = resp_headers ? http_headers_get(resp_headers, it->string) : NULL;
        cJSON *actual = v ? cJSON_CreateString(v) : NULL;
        if (v && !actual)
            return UTIL_ERR_NOMEM;
        char base[300];
        snprintf(base, sizeof(base), "header %.256s", it->string);
        /* Header values compare as text: 42 in the case matches "42". */
        cJSON *exp = NULL;
        if (cJSON_IsNumber(it) || cJSON_IsBool(it)) {
            char *text = cJSON_PrintUnformatted(it);
            exp = text ? cJSON_CreateString(text) : NULL;
            free(text);
            if (!exp) {
                cJSON_Delete(actual);
                return UTIL_ERR_NOMEM;
            }
        }
        size_t before = out->count;
        int r = match_value(exp ? exp : it, actual, false, "expect.header", "",
                            check_secret_header(it->string), s, out);
        for (size_t i = before; i < out->count; i++) {
            /* A header check names the header, not a body location. */
            struct check_item *ci = &out->items[i];
            const char *rest =
                strncmp(ci->message, "body: ", 6) == 0 ? ci->message + 6 : ci->message;
            size_t n = strlen(base) + strlen(rest) + 3;
            char *msg = malloc(n);
            if (msg) {
                snprintf(msg, n, "%s: %s", base, rest);
                free(ci->message);
                ci->message = msg;
            }
            free(ci->pointer);
            ci->pointer = NULL;
        }
        cJSON_Delete(exp);
        cJSON_Delete(actual);
        if (r < 0)
            return UTIL_ERR_NOMEM;
        if (r == 0 && check_list_add(out, "expect.header", CHECK_PASS, base, NULL,
                                     v && check_secret_header(it->string) ? CHECK_REDACTED : v,
                                     "%s as expected", base))
            return UTIL_ERR_NOMEM;
    }
    if (body || e->body) {
        const cJSON *exp = body ? body : e->body;
        int r = check_match_value(exp, body_doc, e->body_exact, "expect.body", "", s, out);
        if (r < 0)
            return UTIL_ERR_NOMEM;
        if (r == 0 && check_list_add(out, "expect.body", CHECK_PASS, NULL, NULL, NULL,
                                     e->body_exact ? "body equals the expected body"
                                                   : "body holds the expected values"))
            return UTIL_ERR_NOMEM;
    }
    return UTIL_OK;
}
