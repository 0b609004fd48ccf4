/* Fuzz target: request headers, from a case file to the header list the
 * transport sends (issue 12, W1: no header injection).
 *
 * Input format: a case file (YAML). Its steps' headers are built as a run
 * builds them: templates filled in from vars:, a run id, the environment
 * (CRLF is "a\r\nX-Injected: yes", FUZZ_OK "env-value") and captured variables (each capture of an
 * earlier step holds, in turn, "ok", "a\r\nb", "a\nb", "a\x01b" and 20 000 bytes); defaults and
 * content_type first, then http_headers_check decides what could be sent. The first line, split at
 * its first ':', is also checked as one header.
 *
 * Oracle (abort() on failure):
 *  - a file that loads has header names that are RFC 9110 tokens and
 *    header values and content_type without CR, LF, NUL or another control
 *    character but tab (checked here byte by byte, not with util/header);
 *  - when case_suite_check_headers accepts the file, every header whose
 *    template uses no captured variable passes http_headers_check;
 *  - whatever http_headers_check accepts has a token name and a value
 *    without CR, LF or NUL, within HTTP_CAP_HEADER_LINE; what it refuses
 *    has a one-line message naming the header (UTIL_ERR_INVALID or
 *    UTIL_ERR_LIMIT). */
#include "fuzz_case_common.h"
#include "fuzz_common.h"

#include "case/case.h"
#include "case/template.h"
#include "http/caps.h"
#include "http/http.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz.yaml"

/* RFC 9110 tchar, written out again so as not to trust util/header.c. */
static bool token(const char *s)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (!*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !strchr(extra, c))
            return false;
    }
    return true;
}

static bool clean_value(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return false;
    return true;
}

/* Checks what http_headers_check says about h against the oracle. */
static void check_list(const struct http_headers *h, const char *what)
{
    struct util_error err;
    util_error_clear(&err);
    int rc = http_headers_check(h, &err);
    if (rc == UTIL_OK) {
        for (size_t i = 0; i < h->count; i++) {
            const struct http_header *x = &h->items[i];
            if (!token(x->name) || !clean_value(x->value) ||
                strlen(x->name) + 2 + strlen(x->value) > HTTP_CAP_HEADER_LINE)
                fuzz_fail("%s: header %zu would be sent but is not clean", what, i);
        }
        return;
    }
    if ((rc != UTIL_ERR_INVALID && rc != UTIL_ERR_LIMIT) || err.code != rc)
        fuzz_fail("%s: http_headers_check returned %d (err.code %d)", what, rc, err.code);
    if (strchr(err.message, '\n') || strchr(err.message, '\r') ||
        strncmp(err.message, "header ", 7) != 0)
        fuzz_fail("%s: message \"%s\" is not one line naming the header", what, err.message);
}

struct uses {
    const struct case_step *steps;
    size_t before;
    bool captured;
};

static void on_use(const char *name, void *user)
{
    struct uses *u = user;
    for (size_t i = 0; i < u->before; i++)
        for (size_t j = 0; j < u->steps[i].ncaptures; j++)
            if (strcmp(u->steps[i].captures[j].name, name) == 0)
                u->captured = true;
}

static char *long_value(void)
{
    static char v[20001];
    memset(v, 'v', sizeof(v) - 1);
    return v;
}

/* Builds the headers of the steps of k as a run does and checks them. */
static void check_case(const struct case_case *k, bool preflight_ok, unsigned round)
{
    static const char *const captured[] = {"ok", "a\r\nb", "a\nb",
                                           "a\x01"
                                           "b",
                                           NULL};
    struct case_vars *v = case_vars_create("run-fuzz", NULL);
    if (!v)
        return;
    const cJSON *it;
    cJSON_ArrayForEach(it, k->vars)
    {
        cJSON *val = NULL;
        struct util_error e;
        util_error_clear(&e);
        if (case_template_expand_json(v, it, &val, &e) == UTIL_OK)
            case_vars_set(v, it->string, val);
        cJSON_Delete(val);
    }
    for (size_t i = 0; i < k->nsteps; i++) {
        const struct case_step *s = &k->steps[i];
        struct http_headers h;
        http_headers_init(&h);
        http_headers_set(&h, "accept", "application/json");
        if (s->content_type) {
            if (!clean_value(s->content_type))
                fuzz_fail("step %zu: content_type loaded with a control character", i);
            http_headers_set(&h, "content-type", s->content_type);
        }
        cJSON_ArrayForEach(it, s->headers)
        {
            if (!token(it->string))
                fuzz_fail("step %zu: header name \"%s\" loaded but is not a token", i, it->string);
            if (cJSON_IsString(it) && !case_template_has(it->valuestring) &&
                !clean_value(it->valuestring))
                fuzz_fail("step %zu: header %s loaded with a control character", i, it->string);
            if (!cJSON_IsString(it))
                continue;
            struct uses u = {.steps = k->steps, .before = i};
            struct util_error e;
            util_error_clear(&e);
            if (case_template_scan(it->valuestring, on_use, &u, &e))
                continue;
            char *text = NULL;
            if (case_template_expand_text(v, it->valuestring, &text, &e) != UTIL_OK)
                continue;
            struct http_headers one;
            http_headers_init(&one);
            if (http_headers_add(&one, it->string, text) == UTIL_OK && preflight_ok &&
                !u.captured && http_headers_check(&one, &e) != UTIL_OK)
                fuzz_fail("step %zu: header %s passed the checks before the run, then: %s", i,
                          it->string, e.message);
            http_headers_finish(&one);
            http_headers_set(&h, it->string, text);
            free(text);
        }
        check_list(&h, "built headers");
        http_headers_finish(&h);
        /* Captures of this step, for the next ones. */
        for (size_t j = 0; j < s->ncaptures; j++) {
            const char *c = captured[(round + j) % 5];
            cJSON *val = cJSON_CreateString(c ? c : long_value());
            if (val)
                case_vars_set(v, s->captures[j].name, val);
            cJSON_Delete(val);
        }
    }
    case_vars_destroy(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *text = fuzz_cstr(data, size);
    if (!text)
        return 0;

    /* The first line as one header. */
    size_t line = strcspn(text, "\n");
    char *first = strndup(text, line);
    if (first) {
        char *colon = strchr(first, ':');
        struct http_headers h;
        http_headers_init(&h);
        if (colon) {
            *colon = '\0';
            if (http_headers_add(&h, first, colon + 1 + strspn(colon + 1, " ")) == UTIL_OK)
                check_list(&h, "first line");
        }
        http_headers_finish(&h);
        free(first);
    }

    /* What {{env.CRLF}} and {{env.FUZZ_OK}} give, before the run and in it. */
    setenv("CRLF", "a\r\nX-Injected: yes", 1);
    setenv("FUZZ_OK", "env-value", 1);
    struct case_file *f = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (case_file_load_text(fuzz_case_loader(), text, size, NAME, &f, &err) == UTIL_OK) {
        struct case_suite s = {.files = &f, .count = 1, .alloc = 1};
        util_error_clear(&err);
        int rc = case_suite_check_headers(&s, "run-fuzz", &err);
        if (rc != UTIL_OK && (err.code != rc || strncmp(err.message, NAME ":", 10) != 0 ||
                              strchr(err.message, '\n')))
            fuzz_fail("case_suite_check_headers: %d, \"%s\"", rc, err.message);
        for (size_t i = 0; i < f->ncases; i++)
            check_case(&f->cases[i], rc == UTIL_OK, (unsigned)fuzz_hash(data, size));
        case_file_destroy(f);
    }
    free(text);
    return 0;
}
