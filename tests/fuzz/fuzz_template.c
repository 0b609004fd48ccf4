/* Fuzz target: templates ({{...}}) and capture expressions (JSON Pointer,
 * simple JSONPath, header:NAME).
 *
 * Input format (text):
 *
 *   <JSON document>\n<line>\n<line>...
 *
 * The first line is the document captures are taken from (a fixed
 * listTasks-like document when it does not parse). Each further line is
 * used as everything a case file's string can be:
 *  - a capture expression: case_capture_valid and case_capture_eval;
 *  - "name=expr": a capture into variable name (set when it evaluates);
 *  - a template: case_template_scan, case_template_expand_string and
 *    case_template_expand_text, with variables a, n, t (a date-time), obj, big and
 *    loop ("{{loop}}"), env.NAME defined for names not starting with X,
 *    a fixed clock and UUIDs;
 *  - a duration (case_parse_duration).
 * Last, the document itself is expanded (case_template_expand_json).
 *
 * Oracle (abort() on failure):
 *  - case_capture_eval returns NULL or a node of the document, and never
 *    a node for an expression case_capture_valid refuses; "$" and "" give
 *    the document;
 *  - a JSON Pointer capture agrees with json_pointer_get (RFC 6901);
 *  - when case_template_scan accepts a line and every variable it names is
 *    defined, expansion succeeds (or hits the size cap, or an unset env.X);
 *    when scan refuses it, expansion refuses it too; expansion never
 *    returns a code without setting err;
 *  - a template without placeholders expands to itself; a variable's value
 *    is never expanded again ({{loop}} gives "{{loop}}");
 *  - {{now - 1h}} and friends give a time within the shift of the clock;
 *  - {{t - 1h}} (t a date-time variable) gives an RFC 3339 date-time; a
 *    shifted variable that is no date-time ({{a + 1s}}) is refused. */
#include "fuzz_common.h"

#include "case/case.h"
#include "case/template.h"
#include "util/error.h"
#include "json/json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lines looked at per input. */
#define MAX_LINES 64
#define FIXED_NOW ((time_t)1713312000) /* 2024-04-17T00:00:00Z */

static const char default_doc[] =
    "{\"tasks\":[{\"taskID\":\"6c02aeb1-775e-418e-870b-1faccd4b2c0f\",\"enabled\":true},"
    "{\"taskID\":\"x\",\"a/b\":{\"m~n\":1}}],\"pagination\":{\"page\":1,\"nbPages\":3},"
    "\"a b\":[null,false,0.5,\"\"],\"\":\"empty\"}";

static time_t fixed_now(void *user)
{
    (void)user;
    return FIXED_NOW;
}

static void fixed_uuid(void *user, char out[37])
{
    unsigned *n = user;
    snprintf(out, 37, "00000000-0000-4000-8000-%012u", (*n)++ % 1000000000u);
}

static const char *fake_getenv(void *user, const char *name)
{
    (void)user;
    return name[0] == 'X' ? NULL : "env-value";
}

static bool is_inside(const cJSON *root, const cJSON *n)
{
    if (root == n)
        return true;
    for (const cJSON *c = root->child; c; c = c->next)
        if (is_inside(c, n))
            return true;
    return false;
}

static void check_capture(const cJSON *doc, const char *expr)
{
    bool valid = case_capture_valid(expr);
    const cJSON *got = case_capture_eval(doc, expr);
    if (got && !valid)
        fuzz_fail("capture \"%s\" is refused by case_capture_valid but evaluates", expr);
    if (got && !is_inside(doc, got))
        fuzz_fail("capture \"%s\" gave a node outside the document", expr);
    if ((strcmp(expr, "$") == 0 || expr[0] == '\0') && got != doc)
        fuzz_fail("capture \"%s\" is not the whole document", expr);
    if (expr[0] == '/' || expr[0] == '\0') {
        const cJSON *want = json_pointer_get(doc, expr, false);
        if (got != want)
            fuzz_fail("pointer capture \"%s\" gave %p, json_pointer_get %p", expr,
                      (const void *)got, (const void *)want);
    }
}

struct scan_state {
    const struct case_vars *vars;
    bool undefined;
};

static void on_var(const char *name, void *user)
{
    struct scan_state *s = user;
    if (!case_vars_get(s->vars, name))
        s->undefined = true;
}

/* A lone "{{now...}}" placeholder must give an RFC 3339 time. */
static void check_now(const char *line, const cJSON *val)
{
    size_t n = strlen(line);
    if (strncmp(line, "{{", 2) != 0 || strstr(line + 2, "{{") || n < 4 ||
        strstr(line, "}}") != line + n - 2 || !cJSON_IsString(val))
        return; /* not one lone placeholder */
    const char *o = line;
    const char *p = o + 2;
    while (*p == ' ')
        p++;
    if (strncmp(p, "now", 3) != 0)
        return;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(val->valuestring, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end)
        fuzz_fail("{{now...}} in \"%s\" gave \"%s\", not RFC 3339", line, val->valuestring);
}

static void check_template(struct case_vars *vars, const char *line)
{
    struct util_error serr, eerr;
    struct scan_state st = {.vars = vars};
    util_error_clear(&serr);
    util_error_clear(&eerr);
    int scan = case_template_scan(line, on_var, &st, &serr);
    if (scan != UTIL_OK && (scan != UTIL_ERR_PARSE || serr.code != scan))
        fuzz_fail("scan of \"%s\" returned %d (err.code %d)", line, scan, serr.code);
    bool has = case_template_has(line);
    if (has != (strstr(line, "{{") != NULL))
        fuzz_fail("case_template_has(\"%s\") is %d", line, has);

    cJSON *val = NULL;
    int rc = case_template_expand_string(vars, line, &val, &eerr);
    if (rc != UTIL_OK && eerr.code != rc)
        fuzz_fail("expansion of \"%s\" returned %d but err.code is %d", line, rc, eerr.code);
    if ((rc == UTIL_OK) != (val != NULL))
        fuzz_fail("expansion of \"%s\" returned %d with value %p", line, rc, (void *)val);
    if (scan == UTIL_OK && !st.undefined && rc != UTIL_OK && rc != UTIL_ERR_LIMIT &&
        !(rc == UTIL_ERR_NOTFOUND && strstr(eerr.message, "environment")) &&
        !(rc == UTIL_ERR_INVALID && strstr(eerr.message, "is not an RFC 3339 date-time")))
        fuzz_fail("\"%s\" scans fine, its variables are set, but expansion says: %s", line,
                  eerr.message);
    if (scan == UTIL_ERR_PARSE && rc == UTIL_OK)
        fuzz_fail("\"%s\" is malformed for scan (%s) but expands", line, serr.message);
    if (rc == UTIL_OK && !has && (!cJSON_IsString(val) || strcmp(val->valuestring, line) != 0))
        fuzz_fail("\"%s\" has no placeholder but expands to something else", line);
    if (rc == UTIL_OK && strcmp(line, "{{loop}}") == 0 &&
        (!cJSON_IsString(val) || strcmp(val->valuestring, "{{loop}}") != 0))
        fuzz_fail("a variable's value was expanded again");
    if (rc == UTIL_OK)
        check_now(line, val);
    struct case_instant shifted;
    if (rc == UTIL_OK && strncmp(line, "{{t ", 4) == 0 && strstr(line, "}}")[2] == '\0' &&
        (!cJSON_IsString(val) || case_instant_parse(val->valuestring, &shifted) != 0))
        fuzz_fail("\"%s\" shifts a date-time but gives no RFC 3339 date-time", line);
    cJSON_Delete(val);

    char *text = NULL;
    util_error_clear(&eerr);
    int rc2 = case_template_expand_text(vars, line, &text, &eerr);
    if ((rc2 == UTIL_OK) != (rc == UTIL_OK) && rc != UTIL_ERR_NOMEM && rc2 != UTIL_ERR_NOMEM)
        fuzz_fail("expand_text and expand_string disagree on \"%s\" (%d, %d)", line, rc2, rc);
    if ((rc2 == UTIL_OK) != (text != NULL))
        fuzz_fail("expand_text of \"%s\" returned %d with text %p", line, rc2, (void *)text);
    free(text);
}

static struct case_vars *make_vars(const cJSON *doc, unsigned *uuids)
{
    struct case_template_hooks hooks = {
        .now = fixed_now, .uuid = fixed_uuid, .getenv = fake_getenv, .user = uuids};
    struct case_vars *v = case_vars_create("run-fuzz", &hooks);
    if (!v)
        return NULL;
    cJSON *a = cJSON_CreateString("x"), *n = cJSON_CreateNumber(42);
    cJSON *t = cJSON_CreateString("2024-04-17T10:00:00.5+02:00");
    cJSON *loop = cJSON_CreateString("{{loop}}");
    char big[2048];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cJSON *b = cJSON_CreateString(big);
    if (a && n && t && loop && b) {
        case_vars_set(v, "a", a);
        case_vars_set(v, "t", t);
        case_vars_set(v, "n", n);
        case_vars_set(v, "loop", loop);
        case_vars_set(v, "big", b);
        case_vars_set(v, "obj", doc);
    }
    cJSON_Delete(a);
    cJSON_Delete(n);
    cJSON_Delete(t);
    cJSON_Delete(loop);
    cJSON_Delete(b);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    /* A NUL-terminated copy: templates and captures are C strings. */
    char *text = fuzz_cstr(data, size);
    if (!text)
        return 0;

    char *nl = strchr(text, '\n');
    char *rest = nl ? nl + 1 : NULL;
    if (nl)
        *nl = '\0';
    cJSON *doc = NULL;
    if (json_parse(text, strlen(text), "doc", &doc, NULL) != UTIL_OK &&
        json_parse(default_doc, strlen(default_doc), "doc", &doc, NULL) != UTIL_OK)
        fuzz_fail("the default document does not parse");
    if (!rest)
        rest = text; /* one line: it is the expression too */

    unsigned uuids = 0;
    struct case_vars *vars = make_vars(doc, &uuids);
    if (!vars) {
        cJSON_Delete(doc);
        free(text);
        return 0;
    }
    size_t lines = 0;
    for (char *line = rest; line && lines < MAX_LINES; lines++) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        check_capture(doc, line);
        char *eq = strchr(line, '=');
        if (eq && eq != line) {
            *eq = '\0';
            const cJSON *got = case_capture_eval(doc, eq + 1);
            if (got)
                case_vars_set(vars, line, got);
            *eq = '=';
        }
        check_template(vars, line);
        long ms = -1;
        if (case_parse_duration(line, &ms) == 0 && ms < 0)
            fuzz_fail("duration \"%s\" parsed as %ld ms", line, ms);
        line = next;
    }

    cJSON *expanded = NULL;
    struct util_error err;
    util_error_clear(&err);
    int rc = case_template_expand_json(vars, doc, &expanded, &err);
    if (rc != UTIL_OK && err.code != rc)
        fuzz_fail("expand_json returned %d but err.code is %d", rc, err.code);
    cJSON_Delete(expanded);

    case_vars_destroy(vars);
    cJSON_Delete(doc);
    free(text);
    return 0;
}
