/* The case-file loader; see case.h. The only file of the project that
 * includes <cyaml/cyaml.h>. */
#include "case/case.h"

#include "case/limits.h"
#include "case/template.h"
#include "schema/schema.h"
#include "spec/yaml_json.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <cyaml/cyaml.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct case_loader {
    struct schema_registry *reg;
    struct schema *schema; /* case.schema.json, compiled */
    cJSON *schema_doc;     /* the same document, for x-expected and key lists */
    cJSON *operations;     /* operations.json */
};

/* ---- the typed skeleton, read with libcyaml ---- */

struct cy_match {
    char **ignore_query;
    unsigned ignore_query_count;
    char **ignore_body;
    unsigned ignore_body_count;
    bool *ordered; /* NULL when not given */
};

struct cy_step {
    char *name;
    char *operation;
    char *method;
    char *body_raw;
    char *content_type;
    int *allow;
    unsigned allow_count;
    struct cy_match *cassette;
};

struct cy_case {
    char *name;
    char *description;
    char **tags;
    unsigned tags_count;
    struct cy_step *steps;
    unsigned steps_count;
    struct cy_step *teardown;
    unsigned teardown_count;
    struct cy_match *cassette;
};

struct cy_file {
    struct cy_case *cases;
    unsigned cases_count;
};

static const cyaml_schema_value_t cy_string = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_value_t cy_int = {
    CYAML_VALUE_INT(CYAML_FLAG_DEFAULT, int),
};

static const cyaml_schema_field_t cy_match_fields[] = {
    CYAML_FIELD_SEQUENCE("ignore_query", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_match,
                         ignore_query, &cy_string, 0, CASE_CAP_MATCH_IGNORES),
    CYAML_FIELD_SEQUENCE("ignore_body", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_match,
                         ignore_body, &cy_string, 0, CASE_CAP_MATCH_IGNORES),
    CYAML_FIELD_BOOL_PTR("ordered", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_match,
                         ordered),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t cy_step_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_OPTIONAL, struct cy_step, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("operation", CYAML_FLAG_OPTIONAL, struct cy_step, operation, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("method", CYAML_FLAG_OPTIONAL, struct cy_step, method, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("body_raw", CYAML_FLAG_OPTIONAL, struct cy_step, body_raw, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("content_type", CYAML_FLAG_OPTIONAL, struct cy_step, content_type, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("allow_undocumented", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                         struct cy_step, allow, &cy_int, 0, CYAML_UNLIMITED),
    CYAML_FIELD_MAPPING_PTR("cassette", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_step,
                            cassette, cy_match_fields),
    /* Free-form values: read from the libyaml tree instead. */
    CYAML_FIELD_IGNORE("path", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_IGNORE("query", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_IGNORE("headers", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_IGNORE("body", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_IGNORE("expect", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_IGNORE("until", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_IGNORE("capture", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t cy_step_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct cy_step, cy_step_fields),
};

static const cyaml_schema_field_t cy_case_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct cy_case, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("description", CYAML_FLAG_OPTIONAL, struct cy_case, description, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("tags", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_case, tags,
                         &cy_string, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("steps", CYAML_FLAG_POINTER, struct cy_case, steps, &cy_step_schema, 1,
                         CASE_CAP_STEPS),
    CYAML_FIELD_SEQUENCE("teardown", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_case,
                         teardown, &cy_step_schema, 0, CASE_CAP_STEPS),
    CYAML_FIELD_MAPPING_PTR("cassette", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, struct cy_case,
                            cassette, cy_match_fields),
    CYAML_FIELD_IGNORE("vars", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t cy_case_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct cy_case, cy_case_fields),
};

static const cyaml_schema_field_t cy_file_fields[] = {
    CYAML_FIELD_SEQUENCE("cases", CYAML_FLAG_POINTER, struct cy_file, cases, &cy_case_schema, 1,
                         CASE_CAP_CASES_PER_FILE),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t cy_file_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct cy_file, cy_file_fields),
};

/* Collects libcyaml's log lines; the backtrace lines carry the position. */
struct cy_log {
    char first[512];
    int line, column;
};

__attribute__((format(printf, 3, 0))) static void cy_log_fn(cyaml_log_t level, void *ctx,
                                                            const char *fmt, va_list args)
{
    struct cy_log *log = ctx;
    char msg[512];
    if (level < CYAML_LOG_ERROR)
        return;
    vsnprintf(msg, sizeof(msg), fmt, args);
    msg[strcspn(msg, "\n")] = '\0';
    const char *pos = strstr(msg, "(line: ");
    if (pos && !log->line)
        sscanf(pos, "(line: %d, column: %d)", &log->line, &log->column);
    else if (!log->first[0] && strncmp(msg, "Load: Backtrace", 15) != 0)
        snprintf(log->first, sizeof(log->first), "%s",
                 strncmp(msg, "Load: ", 6) == 0 ? msg + 6 : msg);
}

/* ---- errors with positions ---- */

struct ctx {
    const struct case_loader *l;
    const char *name;
    struct spec_line_table *lines;
    struct util_error *err;
    const char *text; /* the file, for values echoed as written */
    size_t len;
};

/* Appends number n as the file writes it at pointer (a key's position: the
 * value after its colon), or printed when that text is not found there. */
static void put_number_as_written(const struct ctx *c, const char *pointer, const cJSON *n,
                                  struct util_buf *b)
{
    int col = 0, line = c->lines ? spec_line_table_lookup(c->lines, pointer, &col) : 0;
    const char *p = c->text, *end = c->text ? c->text + c->len : NULL;
    for (int l = 1; p && p < end && l < line; p++)
        l += *p == '\n';
    if (p && line > 0 && col > 0 && end - p >= col) {
        p += col - 1;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        eol = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        const char *q = colon && (p[0] < '0' || p[0] > '9') && p[0] != '-' ? colon + 1 : p;
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        size_t k = strspn(q, "0123456789+-.eE");
        char tok[64];
        if (k > 0 && k < sizeof(tok) && q + k <= eol) {
            memcpy(tok, q, k);
            tok[k] = '\0';
            char *stop = NULL;
            double d = strtod(tok, &stop);
            if (*stop == '\0' && d == n->valuedouble) {
                util_buf_puts(b, tok);
                return;
            }
        }
    }
    json_print_short(b, n, 60);
}

/* Sets err to "name:line:col: message" with the position of pointer. */
static int fail_at(struct ctx *c, const char *pointer, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct ctx *c, const char *pointer, int code, const char *fmt, ...)
{
    char msg[UTIL_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int col = 0;
    int line = c->lines ? spec_line_table_lookup(c->lines, pointer ? pointer : "", &col) : 0;
    util_error_set(c->err, code, "%s:%d:%d: %s", c->name, line, col, msg);
    util_error_at(c->err, c->name, line, col);
    return code;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Appends "/" + escaped token to a fixed pointer buffer. */
static void ptr_join(char *out, size_t size, const char *base, const char *token)
{
    /* base + "/" + token escaped (RFC 6901), cut to fit; base may be out. */
    size_t n = strlen(base);
    if (n > size - 1)
        n = size - 1;
    memmove(out, base, n);
    if (n + 1 < size)
        out[n++] = '/';
    for (const char *t = token; *t && n + 1 < size; t++) {
        if (*t == '~' || *t == '/') {
            if (n + 2 >= size)
                break;
            out[n++] = '~';
            out[n++] = *t == '~' ? '0' : '1';
        } else {
            out[n++] = *t;
        }
    }
    out[n] = '\0';
}

static void ptr_index(char *out, size_t size, const char *base, size_t i)
{
    int n = snprintf(out, size, "%s/%zu", base, i);
    if (n < 0 || (size_t)n >= size)
        out[size - 1] = '\0';
}

/* ---- loader ---- */

struct case_loader *case_loader_create(const char *schemas_dir, struct util_error *err)
{
    struct case_loader *l = calloc(1, sizeof(*l));
    char *schema_path = util_path_join(schemas_dir, "case.schema.json");
    char *ops_path = util_path_join(schemas_dir, "operations.json");
    int rc = UTIL_ERR_NOMEM;
    struct schema_options opts = {.default_dialect = SCHEMA_DIALECT_2020_12};
    if (!l || !schema_path || !ops_path) {
        util_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    l->reg = schema_registry_create(&opts);
    if (!l->reg) {
        util_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    rc = json_load_file(schema_path, UTIL_CAP_SCHEMA_FILE, &l->schema_doc, err);
    if (!rc)
        rc = schema_registry_add(l->reg, "file:///ingestcheck/case.schema.json", l->schema_doc,
                                 &l->schema, err);
    if (!rc)
        rc = json_load_file(ops_path, UTIL_CAP_SCHEMA_FILE, &l->operations, err);
    if (!rc && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(l->operations, "operations")))
        rc = util_error_set(err, UTIL_ERR_INVALID, "%s: no \"operations\" array", ops_path);
cleanup:
    free(schema_path);
    free(ops_path);
    if (rc) {
        case_loader_destroy(l);
        return NULL;
    }
    return l;
}

void case_loader_destroy(struct case_loader *l)
{
    if (!l)
        return;
    schema_registry_destroy(l->reg);
    cJSON_Delete(l->schema_doc);
    cJSON_Delete(l->operations);
    free(l);
}

const cJSON *case_loader_operations(const struct case_loader *l)
{
    return l->operations;
}

/* ---- schema violations as messages ---- */

/* The schema node at the fragment of an absolute location, minus `up`
 * trailing segments. */
static const cJSON *schema_node(const struct case_loader *l, const char *absolute, int up)
{
    const char *hash = strchr(absolute, '#');
    char frag[1024];
    snprintf(frag, sizeof(frag), "%s", hash ? hash + 1 : "");
    for (int i = 0; i < up; i++) {
        char *slash = strrchr(frag, '/');
        if (!slash)
            return NULL;
        *slash = '\0';
    }
    return json_pointer_get(l->schema_doc, frag, true);
}

/* Extracts the first "quoted" name of a message. */
static bool quoted_name(const char *msg, char *out, size_t size)
{
    const char *a = strchr(msg, '"');
    const char *b = a ? strchr(a + 1, '"') : NULL;
    if (!b || (size_t)(b - a - 1) >= size)
        return false;
    memcpy(out, a + 1, (size_t)(b - a - 1));
    out[b - a - 1] = '\0';
    return true;
}

static const char *last_segment(const char *pointer)
{
    const char *s = strrchr(pointer, '/');
    return s ? s + 1 : pointer;
}

/* The instance location a violation is best shown at, and its rank. */
struct ranked {
    const struct schema_violation *v;
    int kind; /* 0: an unknown key (most often a typo, reported first), 1: other */
    char target[1024];
    int line, column;
    size_t kwlen;
};

static void rank_violation(struct ctx *c, const struct schema_violation *v, struct ranked *r)
{
    r->v = v;
    r->kwlen = strlen(v->keyword_location);
    snprintf(r->target, sizeof(r->target), "%s", v->instance_location);
    char name[256];
    r->kind = 1;
    if (strcmp(last_segment(v->keyword_location), "additionalProperties") == 0 &&
        strstr(v->message, "is not allowed") && quoted_name(v->message, name, sizeof(name))) {
        ptr_join(r->target, sizeof(r->target), v->instance_location, name);
        r->kind = 0;
    }
    r->line = spec_line_table_lookup(c->lines, r->target, &r->column);
}

static void key_list(const cJSON *props, struct util_buf *b)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, props)
    {
        util_buf_printf(b, "%s%s", b->len ? ", " : "", it->string);
    }
}

/* Which thing a pointer names, for messages: "step", "case", "tags[1]"... */
static const char *what_at(const char *pointer)
{
    static _Thread_local char item[96];
    const char *seg = last_segment(pointer);
    char prev[64] = "";
    const char *end = seg > pointer ? seg - 1 : pointer;
    const char *start = end;
    while (start > pointer && start[-1] != '/')
        start--;
    if (end > start && (size_t)(end - start) < sizeof(prev)) {
        memcpy(prev, start, (size_t)(end - start));
        prev[end - start] = '\0';
    }
    bool index = *seg && strspn(seg, "0123456789") == strlen(seg);
    if (index && (strcmp(prev, "steps") == 0 || strcmp(prev, "teardown") == 0))
        return "step";
    if (index && strcmp(prev, "cases") == 0)
        return "case";
    if (*pointer == '\0')
        return "case file";
    if (index && prev[0]) {
        snprintf(item, sizeof(item), "%.60s[%.20s]", prev, seg);
        return item;
    }
    return seg;
}

static int violation_error(struct ctx *c, const struct schema_result *res, const cJSON *doc)
{
    struct ranked best = {0}, cur;
    bool have = false;
    for (size_t i = 0; i < res->count; i++) {
        rank_violation(c, &res->items[i], &cur);
        bool better = !have || cur.kind < best.kind;
        if (have && cur.kind == best.kind)
            better = cur.line < best.line || (cur.line == best.line && cur.column < best.column) ||
                     (cur.line == best.line && cur.column == best.column && cur.kwlen < best.kwlen);
        if (better) {
            best = cur;
            have = true;
        }
    }
    if (!have)
        return fail_at(c, "", UTIL_ERR_INVALID, "not a valid case file");
    const struct schema_violation *v = best.v;
    const char *kw = last_segment(v->keyword_location);
    char name[256];
    if (strcmp(kw, "additionalProperties") == 0 && quoted_name(v->message, name, sizeof(name))) {
        struct util_buf keys;
        util_buf_init(&keys, 4096);
        const cJSON *parent = schema_node(c->l, v->absolute_location, 1);
        key_list(cJSON_GetObjectItemCaseSensitive(parent, "properties"), &keys);
        int rc = fail_at(c, best.target, UTIL_ERR_INVALID,
                         "unknown key '%s' in %s (expected one of: %s)", name,
                         what_at(v->instance_location), keys.data ? keys.data : "none");
        util_buf_finish(&keys);
        return rc;
    }
    if (strcmp(kw, "required") == 0 && quoted_name(v->message, name, sizeof(name)))
        return fail_at(c, best.target, UTIL_ERR_INVALID, "%s is missing the required key '%s'",
                       what_at(v->instance_location), name);
    /* The innermost schema node with an x-expected text. */
    for (int up = 0; up < 64; up++) {
        const cJSON *node = schema_node(c->l, v->absolute_location, up);
        if (!node)
            break;
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(node, "x-expected");
        if (cJSON_IsString(x)) {
            struct util_buf got;
            util_buf_init(&got, 256);
            const cJSON *val = json_pointer_get(doc, v->instance_location, false);
            if (cJSON_IsNumber(val))
                put_number_as_written(c, best.target, val, &got);
            else
                json_print_short(&got, val, 60);
            int rc =
                fail_at(c, best.target, UTIL_ERR_INVALID, "%s: expected %s, got %s",
                        what_at(v->instance_location), x->valuestring, got.data ? got.data : "?");
            util_buf_finish(&got);
            return rc;
        }
    }
    const char *msg = v->message;
    const char *colon = strstr(msg, ": ");
    if (colon && strncmp(msg, v->instance_location, (size_t)(colon - msg)) == 0)
        msg = colon + 2;
    return fail_at(c, best.target, UTIL_ERR_INVALID, "%s: %s", what_at(v->instance_location), msg);
}

/* ---- model ---- */

static void expect_finish(struct case_expect *e)
{
    free(e->status);
    memset(e, 0, sizeof(*e));
}

static void match_finish(struct case_match *m)
{
    for (size_t i = 0; i < m->nignore_query; i++)
        free(m->ignore_query[i]);
    free(m->ignore_query);
    for (size_t i = 0; i < m->nignore_body; i++)
        free(m->ignore_body[i]);
    free(m->ignore_body);
    memset(m, 0, sizeof(*m));
}

static void step_finish(struct case_step *s)
{
    free(s->name);
    free(s->operation_id);
    free(s->method);
    free(s->path_template);
    expect_finish(&s->expect);
    expect_finish(&s->until);
    for (size_t i = 0; i < s->ncaptures; i++) {
        free(s->captures[i].name);
        free(s->captures[i].expr);
    }
    free(s->captures);
    free(s->allow_undocumented);
    match_finish(&s->match);
}

static void case_finish(struct case_case *k)
{
    free(k->name);
    for (size_t i = 0; i < k->ntags; i++)
        free(k->tags[i]);
    free(k->tags);
    for (size_t i = 0; i < k->nsteps; i++)
        step_finish(&k->steps[i]);
    free(k->steps);
    for (size_t i = 0; i < k->nteardown; i++)
        step_finish(&k->teardown[i]);
    free(k->teardown);
    match_finish(&k->match);
}

void case_file_destroy(struct case_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ncases; i++)
        case_finish(&f->cases[i]);
    free(f->cases);
    cJSON_Delete(f->doc);
    spec_line_table_destroy(f->lines);
    free(f->path);
    free(f);
}

int case_parse_duration(const char *s, long *ms)
{
    char *end = NULL;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || n < 0 || n > 1000L * 1000L * 1000L)
        return -1;
    long mul;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else if (strcmp(end, "h") == 0)
        mul = 3600000;
    else
        return -1;
    if (n > LONG_MAX / mul)
        return -1;
    *ms = n * mul;
    return 0;
}

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
    "$type", "$regex", "$uuid", "$date-time", "$length", "$contains", "$exact", "$absent", NULL};

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
static int check_matchers(struct ctx *c, const cJSON *n, const char *pointer)
{
    char p[1024];
    const cJSON *it;
    if (case_is_matcher(n)) {
        cJSON_ArrayForEach(it, n)
        {
            ptr_join(p, sizeof(p), pointer, it->string);
            size_t k = 0;
            while (matcher_names[k] && strcmp(matcher_names[k], it->string) != 0)
                k++;
            if (!matcher_names[k])
                return fail_at(c, p, UTIL_ERR_INVALID,
                               "unknown matcher '%s' (expected $type, $regex, $uuid, $date-time, "
                               "$length, $contains, $exact or $absent)",
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
                    return fail_at(c, p, UTIL_ERR_INVALID,
                                   "$type: expected string, number, integer, boolean, array, "
                                   "object or null (or a list of them)");
            } else if (strcmp(m, "$regex") == 0) {
                if (!cJSON_IsString(it))
                    return fail_at(c, p, UTIL_ERR_INVALID, "$regex: expected a string");
                if (!case_template_has(it->valuestring)) {
                    regex_t re;
                    char why[256];
                    if (case_regex_compile(&re, it->valuestring, why, sizeof(why)))
                        return fail_at(c, p, UTIL_ERR_INVALID,
                                       "$regex: not a POSIX extended regular expression: %s", why);
                    regfree(&re);
                }
            } else if (strcmp(m, "$uuid") == 0 || strcmp(m, "$date-time") == 0 ||
                       strcmp(m, "$absent") == 0) {
                if (!cJSON_IsBool(it))
                    return fail_at(c, p, UTIL_ERR_INVALID, "%s: expected true or false", m);
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
                    return fail_at(c, p, UTIL_ERR_INVALID,
                                   "$length: expected a count (3) or {min: N, max: N}");
            } else {
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
            ptr_index(p, sizeof(p), pointer, i++);
        else
            ptr_join(p, sizeof(p), pointer, it->string);
        int rc = check_matchers(c, it, p);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

static int build_expect(struct ctx *c, const cJSON *node, const char *pointer,
                        struct case_expect *e)
{
    char p[1024];
    if (!node)
        return UTIL_OK;
    e->given = true;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(node, "status");
    if (status) {
        size_t n = cJSON_IsArray(status) ? (size_t)cJSON_GetArraySize(status) : 1;
        ptr_join(p, sizeof(p), pointer, "status");
        if (n > CASE_CAP_STATUSES)
            return fail_at(c, p, UTIL_ERR_LIMIT, "more than %d statuses", CASE_CAP_STATUSES);
        e->status = calloc(n, sizeof(*e->status));
        if (!e->status)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        if (cJSON_IsArray(status)) {
            const cJSON *it;
            cJSON_ArrayForEach(it, status)
            {
                if (parse_status_one(it, &e->status[e->nstatus]) != 0)
                    return fail_at(c, p, UTIL_ERR_INVALID, "bad status");
                e->nstatus++;
            }
        } else {
            if (parse_status_one(status, &e->status[0]) != 0)
                return fail_at(c, p, UTIL_ERR_INVALID, "bad status");
            e->nstatus = 1;
        }
    }
    e->headers = cJSON_GetObjectItemCaseSensitive(node, "headers");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(node, "body");
    const cJSON *exact = cJSON_GetObjectItemCaseSensitive(node, "body_exact");
    if (body && exact) {
        ptr_join(p, sizeof(p), pointer, "body_exact");
        return fail_at(c, p, UTIL_ERR_INVALID, "body and body_exact exclude each other");
    }
    e->body = exact ? exact : body;
    e->body_exact = exact != NULL;
    int rc = UTIL_OK;
    if (e->body) {
        ptr_join(p, sizeof(p), pointer, exact ? "body_exact" : "body");
        rc = check_matchers(c, e->body, p);
    }
    if (!rc && e->headers) {
        ptr_join(p, sizeof(p), pointer, "headers");
        rc = check_matchers(c, e->headers, p);
    }
    return rc;
}

static const cJSON *find_operation(const struct case_loader *l, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(l->operations, "operations"))
    {
        const cJSON *oid = cJSON_GetObjectItemCaseSensitive(it, "operationId");
        if (cJSON_IsString(oid) && strcmp(oid->valuestring, id) == 0)
            return it;
    }
    return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 127 || lb > 127)
        return (size_t)-1;
    size_t prev[128], cur[128];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost =
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

static const char *closest_operation(const struct case_loader *l, const char *id)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(l->operations, "operations"))
    {
        const cJSON *oid = cJSON_GetObjectItemCaseSensitive(it, "operationId");
        if (!cJSON_IsString(oid))
            continue;
        size_t d = edit_distance(id, oid->valuestring);
        if (d < bestd) {
            bestd = d;
            best = oid->valuestring;
        }
    }
    return bestd <= 3 ? best : NULL;
}

/* The operation's parameter named name in `in`, or NULL. */
static const cJSON *op_param(const cJSON *op, const char *name, const char *in)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "in");
        if (cJSON_IsString(n) && cJSON_IsString(w) && strcmp(n->valuestring, name) == 0 &&
            strcmp(w->valuestring, in) == 0)
            return it;
    }
    return NULL;
}

static void param_names(const cJSON *op, const char *in, struct util_buf *b)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(it, "in");
        if (cJSON_IsString(n) && cJSON_IsString(w) && strcmp(w->valuestring, in) == 0)
            util_buf_printf(b, "%s%s", b->len ? ", " : "", n->valuestring);
    }
}

/* Variables known while checking templates: names defined so far. */
struct known {
    char **names;
    size_t count;
    size_t alloc;
};

static bool known_has(const struct known *k, const char *name)
{
    for (size_t i = 0; i < k->count; i++)
        if (strcmp(k->names[i], name) == 0)
            return true;
    return false;
}

static int known_add(struct known *k, const char *name)
{
    if (known_has(k, name))
        return UTIL_OK;
    if (k->count == k->alloc) {
        size_t n = k->alloc ? k->alloc * 2 : 16;
        char **p = realloc(k->names, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        k->names = p;
        k->alloc = n;
    }
    k->names[k->count] = strdup(name);
    if (!k->names[k->count])
        return UTIL_ERR_NOMEM;
    k->count++;
    return UTIL_OK;
}

static void known_finish(struct known *k)
{
    for (size_t i = 0; i < k->count; i++)
        free(k->names[i]);
    free(k->names);
    memset(k, 0, sizeof(*k));
}

struct scan_state {
    const struct known *k;
    char missing[256];
};

static void on_var(const char *name, void *user)
{
    struct scan_state *s = user;
    if (!s->missing[0] && !known_has(s->k, name))
        snprintf(s->missing, sizeof(s->missing), "%s", name);
}

/* Checks every template in the strings of n (keys excluded). */
static int check_templates(struct ctx *c, const cJSON *n, const char *pointer,
                           const struct known *k, const char *hint)
{
    char p[1024];
    if (cJSON_IsString(n)) {
        struct scan_state st = {.k = k};
        struct util_error e;
        util_error_clear(&e);
        if (case_template_scan(n->valuestring, on_var, &st, &e))
            return fail_at(c, pointer, UTIL_ERR_INVALID, "%s", e.message);
        if (st.missing[0])
            return fail_at(c, pointer, UTIL_ERR_INVALID, "{{%s}} is not defined here (%s)",
                           st.missing, hint);
        return UTIL_OK;
    }
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, n)
    {
        if (cJSON_IsArray(n))
            ptr_index(p, sizeof(p), pointer, i++);
        else
            ptr_join(p, sizeof(p), pointer, it->string);
        int rc = check_templates(c, it, p, k, hint);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

static int build_step(struct ctx *c, const cJSON *node, const struct cy_step *cy,
                      const char *pointer, struct case_step *s, struct known *k, bool teardown)
{
    char p[1024];
    int rc = UTIL_OK;
    s->teardown = teardown;
    s->line = spec_line_table_lookup(c->lines, pointer, &s->column);
    s->path_params = NULL;
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(node, "path");
    s->query = cJSON_GetObjectItemCaseSensitive(node, "query");
    s->headers = cJSON_GetObjectItemCaseSensitive(node, "headers");
    s->body = cJSON_GetObjectItemCaseSensitive(node, "body");
    s->body_raw =
        cy->body_raw ? cJSON_GetObjectItemCaseSensitive(node, "body_raw")->valuestring : NULL;
    s->content_type = cy->content_type
                          ? cJSON_GetObjectItemCaseSensitive(node, "content_type")->valuestring
                          : NULL;
    if (cy->operation && cy->method)
        return fail_at(c, pointer, UTIL_ERR_INVALID,
                       "a step has either operation: or method: and path:, not both");
    if (!cy->operation && !cy->method)
        return fail_at(c, pointer, UTIL_ERR_INVALID,
                       "a step needs operation: (an operationId) or method: and path:");
    if (s->body && s->body_raw)
        return fail_at(c, pointer, UTIL_ERR_INVALID, "body and body_raw exclude each other");
    if (cy->operation) {
        s->kind = CASE_STEP_OPERATION;
        ptr_join(p, sizeof(p), pointer, "operation");
        s->operation = find_operation(c->l, cy->operation);
        if (!s->operation) {
            const char *near = closest_operation(c->l, cy->operation);
            if (near)
                return fail_at(c, p, UTIL_ERR_INVALID,
                               "unknown operation '%s' (did you mean '%s'?)", cy->operation, near);
            return fail_at(c, p, UTIL_ERR_INVALID,
                           "unknown operation '%s' (not an operationId of the spec)",
                           cy->operation);
        }
        s->operation_id = xstrdup(cy->operation);
        s->method = xstrdup(cJSON_GetObjectItemCaseSensitive(s->operation, "method")->valuestring);
        s->path_template =
            xstrdup(cJSON_GetObjectItemCaseSensitive(s->operation, "path")->valuestring);
        if (!s->operation_id || !s->method || !s->path_template)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        ptr_join(p, sizeof(p), pointer, "path");
        if (path && !cJSON_IsObject(path))
            return fail_at(c, p, UTIL_ERR_INVALID,
                           "with operation:, path: is a mapping of path parameters (%s)",
                           s->path_template);
        s->path_params = path;
        const cJSON *it;
        cJSON_ArrayForEach(it, path)
        {
            if (!op_param(s->operation, it->string, "path")) {
                char q[1024];
                ptr_join(q, sizeof(q), p, it->string);
                struct util_buf names;
                util_buf_init(&names, 4096);
                param_names(s->operation, "path", &names);
                rc = fail_at(c, q, UTIL_ERR_INVALID,
                             "'%s' is not a path parameter of %s (%s has: %s)", it->string,
                             cy->operation, s->path_template, names.data ? names.data : "none");
                util_buf_finish(&names);
                return rc;
            }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(s->operation, "parameters"))
        {
            const cJSON *in = cJSON_GetObjectItemCaseSensitive(it, "in");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
            if (cJSON_IsString(in) && strcmp(in->valuestring, "path") == 0 &&
                !cJSON_GetObjectItemCaseSensitive(path, name->valuestring))
                return fail_at(c, path ? p : pointer, UTIL_ERR_INVALID,
                               "%s needs the path parameter '%s' (path: {%s: ...})", cy->operation,
                               name->valuestring, name->valuestring);
        }
        ptr_join(p, sizeof(p), pointer, "query");
        cJSON_ArrayForEach(it, s->query)
        {
            if (!op_param(s->operation, it->string, "query")) {
                char q[1024];
                ptr_join(q, sizeof(q), p, it->string);
                struct util_buf names;
                util_buf_init(&names, 4096);
                param_names(s->operation, "query", &names);
                rc = fail_at(c, q, UTIL_ERR_INVALID,
                             "'%s' is not a query parameter of %s (documented: %s); use method: "
                             "and path: for undocumented parameters",
                             it->string, cy->operation, names.data ? names.data : "none");
                util_buf_finish(&names);
                return rc;
            }
        }
        if ((s->body || s->body_raw) &&
            !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s->operation, "requestBody"))) {
            ptr_join(p, sizeof(p), pointer, s->body ? "body" : "body_raw");
            return fail_at(c, p, UTIL_ERR_INVALID, "%s takes no request body", cy->operation);
        }
    } else {
        s->kind = CASE_STEP_RAW;
        s->method = xstrdup(cy->method);
        ptr_join(p, sizeof(p), pointer, "path");
        if (!cJSON_IsString(path))
            return fail_at(c, path ? p : pointer, UTIL_ERR_INVALID,
                           "with method:, path: is the request path (a string starting with "
                           "'/')");
        s->path_template = xstrdup(path->valuestring);
        if (!s->method || !s->path_template)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
    }
    if (cy->name)
        s->name = xstrdup(cy->name);
    else if (s->operation_id)
        s->name = xstrdup(s->operation_id);
    else {
        size_t n = strlen(s->method) + strlen(s->path_template) + 2;
        s->name = malloc(n);
        if (s->name)
            snprintf(s->name, n, "%s %s", s->method, s->path_template);
    }
    if (!s->name)
        return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");

    /* Templates of the request: variables from vars and earlier captures. */
    const char *hint = teardown ? "teardown sees vars: and the captures of the steps"
                                : "set it in vars: or capture it in an earlier step";
    static const char *const request_keys[] = {"path",     "query",  "headers", "body",
                                               "body_raw", "expect", "until",   NULL};
    for (size_t i = 0; request_keys[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, request_keys[i]);
        if (!v)
            continue;
        ptr_join(p, sizeof(p), pointer, request_keys[i]);
        rc = check_templates(c, v, p, k, hint);
        if (rc)
            return rc;
    }

    ptr_join(p, sizeof(p), pointer, "expect");
    rc = build_expect(c, cJSON_GetObjectItemCaseSensitive(node, "expect"), p, &s->expect);
    if (rc)
        return rc;
    const cJSON *until = cJSON_GetObjectItemCaseSensitive(node, "until");
    s->poll_interval_ms = CASE_DEFAULT_POLL_INTERVAL_MS;
    s->poll_timeout_ms = CASE_DEFAULT_POLL_TIMEOUT_MS;
    if (until) {
        ptr_join(p, sizeof(p), pointer, "until");
        s->has_until = true;
        rc = build_expect(c, until, p, &s->until);
        if (rc)
            return rc;
        static const char *const dkeys[] = {"interval", "timeout"};
        for (size_t i = 0; i < 2; i++) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(until, dkeys[i]);
            if (!d)
                continue;
            long ms = 0;
            char q[1024];
            ptr_join(q, sizeof(q), p, dkeys[i]);
            if (cJSON_IsNumber(d)) /* the schema says an integer >= 0 */
                ms = d->valuedouble >= (double)LONG_MAX ? LONG_MAX : (long)d->valuedouble;
            else if (case_parse_duration(d->valuestring, &ms) != 0)
                return fail_at(c, q, UTIL_ERR_INVALID, "%s: expected a duration", dkeys[i]);
            if (i == 0 && ms < CASE_MIN_POLL_INTERVAL_MS)
                return fail_at(c, q, UTIL_ERR_INVALID, "interval: at least %ldms",
                               CASE_MIN_POLL_INTERVAL_MS);
            if (i == 1 && ms > CASE_CAP_POLL_TIMEOUT_MS)
                return fail_at(c, q, UTIL_ERR_LIMIT, "timeout: at most %ld minutes",
                               CASE_CAP_POLL_TIMEOUT_MS / 60000);
            if (i == 0)
                s->poll_interval_ms = ms;
            else
                s->poll_timeout_ms = ms;
        }
        if (s->poll_interval_ms > s->poll_timeout_ms)
            return fail_at(c, p, UTIL_ERR_INVALID,
                           "until: the interval (%ldms) is longer than the timeout (%ldms): the "
                           "step would poll only once",
                           s->poll_interval_ms, s->poll_timeout_ms);
    }
    if (cy->allow_count) {
        s->allow_undocumented = malloc(cy->allow_count * sizeof(int));
        if (!s->allow_undocumented)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        memcpy(s->allow_undocumented, cy->allow, cy->allow_count * sizeof(int));
        s->nallow = cy->allow_count;
    }
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(node, "capture");
    if (cap) {
        size_t n = (size_t)cJSON_GetArraySize(cap);
        ptr_join(p, sizeof(p), pointer, "capture");
        if (n > CASE_CAP_CAPTURES)
            return fail_at(c, p, UTIL_ERR_LIMIT, "more than %d captures in one step",
                           CASE_CAP_CAPTURES);
        s->captures = calloc(n ? n : 1, sizeof(*s->captures));
        if (!s->captures)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        const cJSON *it;
        cJSON_ArrayForEach(it, cap)
        {
            char q[1024];
            ptr_join(q, sizeof(q), p, it->string);
            if (!case_capture_valid(it->valuestring))
                return fail_at(c, q, UTIL_ERR_INVALID,
                               "capture '%s': malformed path '%s' (expected /a/0, $.a[0] or "
                               "header:NAME)",
                               it->string, it->valuestring);
            struct case_capture *cc = &s->captures[s->ncaptures++];
            cc->name = xstrdup(it->string);
            cc->expr = xstrdup(it->valuestring);
            if (!cc->name || !cc->expr)
                return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        }
    }
    return UTIL_OK;
}

/* Appends copies of the n strings of items to the list (*list, *count). */
static int strings_append(char ***list, size_t *count, char *const *items, size_t n)
{
    if (!n)
        return UTIL_OK;
    char **grown = realloc(*list, (*count + n) * sizeof(char *));
    if (!grown)
        return UTIL_ERR_NOMEM;
    *list = grown;
    for (size_t i = 0; i < n; i++) {
        if (!(grown[*count] = strdup(items[i])))
            return UTIL_ERR_NOMEM;
        (*count)++;
    }
    return UTIL_OK;
}

/* Sets out (zeroed) to base (may be NULL) merged with the cassette: block
 * cy (may be NULL): base's ignore lists then cy's, cy's ordered when given. */
static int build_match(struct ctx *c, const struct case_match *base, const struct cy_match *cy,
                       struct case_match *out)
{
    int rc = UTIL_OK;
    out->ordered = base && base->ordered;
    if (base)
        rc = strings_append(&out->ignore_query, &out->nignore_query, base->ignore_query,
                            base->nignore_query);
    if (!rc && base)
        rc = strings_append(&out->ignore_body, &out->nignore_body, base->ignore_body,
                            base->nignore_body);
    if (!rc && cy)
        rc = strings_append(&out->ignore_query, &out->nignore_query, cy->ignore_query,
                            cy->ignore_query_count);
    if (!rc && cy)
        rc = strings_append(&out->ignore_body, &out->nignore_body, cy->ignore_body,
                            cy->ignore_body_count);
    if (cy && cy->ordered)
        out->ordered = *cy->ordered;
    return rc ? util_error_set(c->err, rc, "out of memory") : UTIL_OK;
}

static int build_case(struct ctx *c, const cJSON *node, const struct cy_case *cy,
                      const char *pointer, struct case_case *k)
{
    char p[1024];
    int rc = UTIL_OK;
    struct known known = {0};
    k->line = spec_line_table_lookup(c->lines, pointer, &k->column);
    k->name = xstrdup(cy->name);
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(node, "description");
    k->description = cJSON_IsString(desc) ? desc->valuestring : NULL;
    k->vars = cJSON_GetObjectItemCaseSensitive(node, "vars");
    if (!k->name)
        return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
    if ((rc = build_match(c, NULL, cy->cassette, &k->match)))
        return rc;
    if (cy->tags_count) {
        k->tags = calloc(cy->tags_count, sizeof(char *));
        if (!k->tags)
            return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        for (unsigned i = 0; i < cy->tags_count; i++) {
            k->tags[i] = xstrdup(cy->tags[i]);
            if (!k->tags[i])
                return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
            k->ntags++;
        }
    }
    /* vars: each may use the ones above it. */
    const cJSON *it;
    ptr_join(p, sizeof(p), pointer, "vars");
    cJSON_ArrayForEach(it, k->vars)
    {
        char q[1024];
        ptr_join(q, sizeof(q), p, it->string);
        rc = check_templates(c, it, q, &known, "vars: may use the variables above it");
        if (!rc && known_add(&known, it->string))
            rc = util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        if (rc)
            goto cleanup;
    }
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(node, "steps");
    const cJSON *teardown = cJSON_GetObjectItemCaseSensitive(node, "teardown");
    k->steps = calloc(cy->steps_count ? cy->steps_count : 1, sizeof(*k->steps));
    k->teardown = calloc(cy->teardown_count ? cy->teardown_count : 1, sizeof(*k->teardown));
    if (!k->steps || !k->teardown) {
        rc = util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (unsigned i = 0; i < cy->steps_count; i++) {
        char sp[1024];
        ptr_join(p, sizeof(p), pointer, "steps");
        ptr_index(sp, sizeof(sp), p, i);
        k->steps[i].index = i;
        k->nsteps++;
        rc = build_step(c, cJSON_GetArrayItem(steps, (int)i), &cy->steps[i], sp, &k->steps[i],
                        &known, false);
        if (!rc)
            rc = build_match(c, &k->match, cy->steps[i].cassette, &k->steps[i].match);
        for (size_t j = 0; !rc && j < k->steps[i].ncaptures; j++)
            if (known_add(&known, k->steps[i].captures[j].name))
                rc = util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        if (rc)
            goto cleanup;
    }
    for (unsigned i = 0; i < cy->teardown_count; i++) {
        char sp[1024];
        ptr_join(p, sizeof(p), pointer, "teardown");
        ptr_index(sp, sizeof(sp), p, i);
        k->teardown[i].index = i;
        k->nteardown++;
        rc = build_step(c, cJSON_GetArrayItem(teardown, (int)i), &cy->teardown[i], sp,
                        &k->teardown[i], &known, true);
        if (!rc)
            rc = build_match(c, &k->match, cy->teardown[i].cassette, &k->teardown[i].match);
        for (size_t j = 0; !rc && j < k->teardown[i].ncaptures; j++)
            if (known_add(&known, k->teardown[i].captures[j].name))
                rc = util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        if (rc)
            goto cleanup;
    }
cleanup:
    known_finish(&known);
    return rc;
}

int case_file_load_text(const struct case_loader *l, const char *text, size_t len, const char *name,
                        struct case_file **out, struct util_error *err)
{
    struct case_file *f = NULL;
    struct cy_file *cy = NULL;
    struct schema_result res;
    struct cy_log log = {0};
    cyaml_config_t cfg = {
        .log_fn = cy_log_fn,
        .log_ctx = &log,
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_DEFAULT,
    };
    struct ctx c = {.l = l, .name = name, .err = err, .text = text, .len = len};
    int rc;
    *out = NULL;
    schema_result_init(&res);
    if (len > CASE_CAP_FILE_SIZE) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: larger than the case file cap of %u bytes",
                            name, CASE_CAP_FILE_SIZE);
        util_error_at(err, name, 0, 0);
        goto cleanup;
    }
    f = calloc(1, sizeof(*f));
    if (!f || !(f->path = strdup(name))) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    rc = spec_yaml_parse(text, len, name, &f->doc, &f->lines, err);
    if (rc)
        goto cleanup;
    c.name = f->path;
    c.lines = f->lines;
    rc = schema_validate(l->schema, f->doc, &res, err);
    if (rc)
        goto cleanup;
    if (!res.valid) {
        rc = violation_error(&c, &res, f->doc);
        goto cleanup;
    }
    cyaml_err_t cerr =
        cyaml_load_data((const uint8_t *)text, len, &cfg, &cy_file_schema, (void **)&cy, NULL);
    if (cerr == CYAML_ERR_OOM || cerr == CYAML_ERR_LIBYAML_PARSER_INIT ||
        cerr == CYAML_ERR_LIBYAML_EVENT_INIT || cerr == CYAML_ERR_LIBYAML_PARSER) {
        /* libyaml parsed these bytes once already (spec_yaml_parse): the
         * second time it can only have run out of memory. */
        rc = util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", name);
        goto cleanup;
    }
    if (cerr != CYAML_OK) {
        rc = util_error_set(err, UTIL_ERR_INVALID, "%s:%d:%d: %s", name, log.line, log.column,
                            log.first[0] ? log.first : cyaml_strerror(cerr));
        util_error_at(err, name, log.line, log.column);
        goto cleanup;
    }
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(f->doc, "cases");
    if ((size_t)cJSON_GetArraySize(cases) != cy->cases_count) {
        rc = util_error_set(err, UTIL_ERR_INVALID, "%s: the YAML readers disagree on the cases",
                            name);
        goto cleanup;
    }
    f->cases = calloc(cy->cases_count, sizeof(*f->cases));
    if (!f->cases) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (unsigned i = 0; i < cy->cases_count; i++) {
        char p[64];
        snprintf(p, sizeof(p), "/cases/%u", i);
        struct case_case *k = &f->cases[i];
        k->file = f->path;
        k->index = i;
        f->ncases++;
        rc = build_case(&c, cJSON_GetArrayItem(cases, (int)i), &cy->cases[i], p, k);
        if (rc)
            goto cleanup;
        for (unsigned j = 0; j < i; j++) {
            if (strcmp(f->cases[j].name, k->name) == 0) {
                char q[80];
                snprintf(q, sizeof(q), "%s/name", p);
                rc = fail_at(&c, q, UTIL_ERR_INVALID, "case name '%s' is already used at line %d",
                             k->name, f->cases[j].line);
                goto cleanup;
            }
        }
    }
    *out = f;
    f = NULL;
cleanup:
    if (cy)
        cyaml_free(&cfg, &cy_file_schema, cy, 0);
    schema_result_finish(&res);
    case_file_destroy(f);
    return rc;
}

int case_file_load(const struct case_loader *l, const char *path, struct case_file **out,
                   struct util_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = util_file_read(path, CASE_CAP_FILE_SIZE, &text, &len, err);
    if (rc == UTIL_ERR_LIMIT) {
        util_error_set(err, rc, "%s: larger than the case file cap of %u bytes", path,
                       CASE_CAP_FILE_SIZE);
        util_error_at(err, path, 0, 0);
    }
    if (!rc)
        rc = case_file_load_text(l, text, len, path, out, err);
    free(text);
    return rc;
}

/* ---- suites ---- */

void case_suite_init(struct case_suite *s)
{
    memset(s, 0, sizeof(*s));
}

void case_suite_finish(struct case_suite *s)
{
    for (size_t i = 0; i < s->count; i++)
        case_file_destroy(s->files[i]);
    free(s->files);
    memset(s, 0, sizeof(*s));
}

size_t case_suite_count(const struct case_suite *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += s->files[i]->ncases;
    return n;
}

struct path_list {
    char **items;
    size_t count;
    size_t alloc;
};

static int path_list_add(struct path_list *l, char *p)
{
    if (l->count == l->alloc) {
        size_t n = l->alloc ? l->alloc * 2 : 32;
        char **q = realloc(l->items, n * sizeof(*q));
        if (!q)
            return UTIL_ERR_NOMEM;
        l->items = q;
        l->alloc = n;
    }
    l->items[l->count++] = p;
    return UTIL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *n)
{
    size_t len = strlen(n);
    return (len > 5 && strcmp(n + len - 5, ".yaml") == 0) ||
           (len > 4 && strcmp(n + len - 4, ".yml") == 0);
}

/* Collects the YAML files under dir (recursively). */
static int collect_dir(const char *dir, struct path_list *out, int depth, struct util_error *err)
{
    if (depth > 32)
        return util_error_set(err, UTIL_ERR_LIMIT, "%s: directories nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d)
        return util_error_set(err, UTIL_ERR_IO, "%s: cannot open directory: %s", dir,
                              strerror(errno));
    int rc = UTIL_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = util_path_join(dir, e->d_name);
        if (!p) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            break;
        }
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = collect_dir(p, out, depth + 1, err);
            free(p);
        } else if (yaml_name(e->d_name)) {
            if (out->count >= CASE_CAP_FILES) {
                free(p);
                rc = util_error_set(err, UTIL_ERR_LIMIT, "more than %d case files", CASE_CAP_FILES);
            } else if (path_list_add(out, p)) {
                free(p);
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            }
        } else {
            free(p);
        }
    }
    closedir(d);
    return rc;
}

/* Case files being loaded by several threads: each takes the next file,
 * largest first (so that the threads finish together). */
struct load_job {
    const struct case_loader *l;
    const struct path_list *files;
    size_t *order;             /* file indexes, largest file first */
    off_t *size;               /* one per file, for the order */
    struct case_file **out;    /* one per file */
    int *rc;                   /* one per file */
    struct util_error *errors; /* one per file */
    pthread_mutex_t lock;
    size_t next;
};

static void *load_worker(void *arg)
{
    struct load_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t next = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (next >= j->files->count)
            return NULL;
        size_t i = j->order[next];
        util_error_clear(&j->errors[i]);
        j->rc[i] = case_file_load(j->l, j->files->items[i], &j->out[i], &j->errors[i]);
    }
}

/* Loads every file of files into s, in order, on up to CASE_LOAD_THREADS
 * threads (the loader is only read); on failure, the error of the first
 * failing file in order, and s is left as it was. */
static int load_all(const struct case_loader *l, const struct path_list *files,
                    struct case_suite *s, struct util_error *err)
{
    size_t n = files->count;
    struct load_job j = {.l = l, .files = files};
    pthread_t threads[CASE_LOAD_THREADS];
    size_t started = 0, want = n;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int rc = UTIL_OK;
    if (cpus >= 1 && want > (size_t)cpus)
        want = (size_t)cpus;
    if (want > CASE_LOAD_THREADS)
        want = CASE_LOAD_THREADS;
    j.out = calloc(n ? n : 1, sizeof(*j.out));
    j.rc = calloc(n ? n : 1, sizeof(*j.rc));
    j.errors = calloc(n ? n : 1, sizeof(*j.errors));
    j.order = calloc(n ? n : 1, sizeof(*j.order));
    j.size = calloc(n ? n : 1, sizeof(*j.size));
    if (!j.out || !j.rc || !j.errors || !j.order || !j.size ||
        n > SIZE_MAX / sizeof(*s->files) - s->count) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        j.size[i] = stat(files->items[i], &st) == 0 ? st.st_size : 0;
        /* insertion by size, descending; equal sizes keep file order */
        size_t k = i;
        for (; k > 0 && j.size[j.order[k - 1]] < j.size[i]; k--)
            j.order[k] = j.order[k - 1];
        j.order[k] = i;
    }
    pthread_mutex_init(&j.lock, NULL);
    /* This thread is one of the loaders. */
    while (started + 1 < want && pthread_create(&threads[started], NULL, load_worker, &j) == 0)
        started++;
    load_worker(&j);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&j.lock);
    for (size_t i = 0; i < n && !rc; i++) {
        if (j.rc[i]) {
            rc = j.rc[i];
            if (err)
                *err = j.errors[i];
        }
    }
    if (!rc && s->count + n > s->alloc) {
        size_t cap = s->alloc ? s->alloc : 16;
        while (cap < s->count + n)
            cap *= 2;
        struct case_file **q = realloc(s->files, cap * sizeof(*q));
        if (!q)
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        else {
            s->files = q;
            s->alloc = cap;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (rc)
            case_file_destroy(j.out[i]);
        else
            s->files[s->count++] = j.out[i];
    }
cleanup:
    free(j.out);
    free(j.rc);
    free(j.errors);
    free(j.order);
    free(j.size);
    return rc;
}

int case_suite_load(const struct case_loader *l, const char *const *paths, size_t npaths,
                    struct case_suite *s, struct util_error *err)
{
    struct path_list files = {0};
    int rc = UTIL_OK;
    for (size_t i = 0; !rc && i < npaths; i++) {
        if (util_dir_exists(paths[i])) {
            size_t first = files.count;
            rc = collect_dir(paths[i], &files, 0, err);
            if (!rc)
                qsort(files.items + first, files.count - first, sizeof(char *), cmp_str);
        } else {
            char *p = strdup(paths[i]);
            if (!p || path_list_add(&files, p)) {
                free(p);
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            }
        }
    }
    if (!rc)
        rc = load_all(l, &files, s, err);
    for (size_t i = 0; i < files.count; i++)
        free(files.items[i]);
    free(files.items);
    return rc;
}

bool case_expect_status_matches(const struct case_expect *e, int status)
{
    if (!e->nstatus)
        return status >= 200 && status < 300;
    for (size_t i = 0; i < e->nstatus; i++) {
        if (e->status[i].is_class ? status / 100 == e->status[i].code : status == e->status[i].code)
            return true;
    }
    return false;
}

void case_expect_status_text(const struct case_expect *e, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    if (!e->nstatus) {
        snprintf(buf, size, "2xx");
        return;
    }
    for (size_t i = 0; i < e->nstatus && n < size; i++) {
        int w = e->status[i].is_class
                    ? snprintf(buf + n, size - n, "%s%dxx", i ? ", " : "", e->status[i].code)
                    : snprintf(buf + n, size - n, "%s%d", i ? ", " : "", e->status[i].code);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}
