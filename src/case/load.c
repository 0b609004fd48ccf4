/* The case-file loader; see case.h. The only file of the project that
 * includes <cyaml/cyaml.h>: it reads the typed skeleton, then builds the
 * model (steps in step.c, expectations in expect.c) and explains schema
 * violations (messages.c). */
#include "case/internal.h"

#include "case/limits.h"
#include "openapi/source.h"
#include "openapi/yaml_json.h"
#include "schema/schema.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <cyaml/cyaml.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    CYAML_FIELD_STRING_PTR("request", CYAML_FLAG_OPTIONAL, struct cy_step, request, 0,
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

int case_fail_at(struct case_ctx *c, const char *pointer, int code, const char *fmt, ...)
{
    char msg[UTIL_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int col = 0;
    int line = c->lines ? openapi_line_table_lookup(c->lines, pointer ? pointer : "", &col) : 0;
    util_error_set(c->err, code, "%s:%d:%d: %s", c->name, line, col, msg);
    util_error_at(c->err, c->name, line, col);
    return code;
}

/* Appends "/" + escaped token to a fixed pointer buffer. */
void case_ptr_join(char *out, size_t size, const char *base, const char *token)
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

void case_ptr_index(char *out, size_t size, const char *base, size_t i)
{
    int n = snprintf(out, size, "%s/%zu", base, i);
    if (n < 0 || (size_t)n >= size)
        out[size - 1] = '\0';
}

/* ---- loader ---- */

struct case_loader *case_loader_create(const char *schemas_dir, const struct openapi_source *source,
                                       struct util_error *err)
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
    if (!l->reg || !(l->operations = cJSON_Duplicate(openapi_source_operations(source), true))) {
        util_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    rc = json_load_file(schema_path, UTIL_CAP_SCHEMA_FILE, &l->schema_doc, err);
    if (!rc)
        rc = schema_registry_add(l->reg, "file:///ingestcheck/case.schema.json", l->schema_doc,
                                 &l->schema, err);
    /* A spec given apart from the schemas directory: the cases name the
     * operations of the directory's revision (see case_resolve.c). */
    if (!rc && openapi_source_derived(source) && util_file_exists(ops_path))
        rc = json_load_file(ops_path, UTIL_CAP_SCHEMA_FILE, &l->case_operations, err);
    if (!rc && l->case_operations &&
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(l->case_operations, "operations")))
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

struct case_loader *case_loader_create_dir(const char *schemas_dir, struct util_error *err)
{
    struct openapi_source *src = NULL;
    struct case_loader *l = openapi_source_open_dir(schemas_dir, &src, err)
                                ? NULL
                                : case_loader_create(schemas_dir, src, err);
    openapi_source_destroy(src);
    return l;
}

void case_loader_destroy(struct case_loader *l)
{
    if (!l)
        return;
    schema_registry_destroy(l->reg);
    cJSON_Delete(l->schema_doc);
    cJSON_Delete(l->operations);
    cJSON_Delete(l->case_operations);
    free(l);
}

const cJSON *case_loader_operations(const struct case_loader *l)
{
    return l->operations;
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
static int build_match(struct case_ctx *c, const struct case_match *base, const struct cy_match *cy,
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

static int build_case(struct case_ctx *c, const cJSON *node, const struct cy_case *cy,
                      const char *pointer, struct case_case *k)
{
    char p[1024];
    int rc = UTIL_OK;
    struct case_known known = {0};
    k->line = openapi_line_table_lookup(c->lines, pointer, &k->column);
    k->name = case_strdup(cy->name);
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
            k->tags[i] = case_strdup(cy->tags[i]);
            if (!k->tags[i])
                return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
            k->ntags++;
        }
    }
    /* vars: each may use the ones above it. */
    const cJSON *it;
    case_ptr_join(p, sizeof(p), pointer, "vars");
    cJSON_ArrayForEach(it, k->vars)
    {
        char q[1024];
        case_ptr_join(q, sizeof(q), p, it->string);
        rc = case_check_templates(c, it, q, &known, "vars: may use the variables above it");
        if (!rc && case_known_add(&known, it->string))
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
        case_ptr_join(p, sizeof(p), pointer, "steps");
        case_ptr_index(sp, sizeof(sp), p, i);
        k->steps[i].index = i;
        k->nsteps++;
        rc = case_build_step(c, cJSON_GetArrayItem(steps, (int)i), &cy->steps[i], sp, &k->steps[i],
                             &known, false);
        if (!rc)
            rc = build_match(c, &k->match, cy->steps[i].cassette, &k->steps[i].match);
        for (size_t j = 0; !rc && j < k->steps[i].ncaptures; j++)
            if (case_known_add(&known, k->steps[i].captures[j].name))
                rc = util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        if (rc)
            goto cleanup;
    }
    for (unsigned i = 0; i < cy->teardown_count; i++) {
        char sp[1024];
        case_ptr_join(p, sizeof(p), pointer, "teardown");
        case_ptr_index(sp, sizeof(sp), p, i);
        k->teardown[i].index = i;
        k->nteardown++;
        rc = case_build_step(c, cJSON_GetArrayItem(teardown, (int)i), &cy->teardown[i], sp,
                             &k->teardown[i], &known, true);
        if (!rc)
            rc = build_match(c, &k->match, cy->teardown[i].cassette, &k->teardown[i].match);
        for (size_t j = 0; !rc && j < k->teardown[i].ncaptures; j++)
            if (case_known_add(&known, k->teardown[i].captures[j].name))
                rc = util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
        if (rc)
            goto cleanup;
    }
cleanup:
    case_known_finish(&known);
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
    struct case_ctx c = {.l = l, .name = name, .err = err, .text = text, .len = len};
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
    rc = openapi_yaml_parse(text, len, name, &f->doc, &f->lines, err);
    if (rc)
        goto cleanup;
    c.name = f->path;
    c.lines = f->lines;
    rc = schema_validate(l->schema, f->doc, &res, err);
    if (rc)
        goto cleanup;
    if (!res.valid) {
        rc = case_violation_error(&c, &res, f->doc);
        goto cleanup;
    }
    cyaml_err_t cerr =
        cyaml_load_data((const uint8_t *)text, len, &cfg, &cy_file_schema, (void **)&cy, NULL);
    if (cerr == CYAML_ERR_OOM || cerr == CYAML_ERR_LIBYAML_PARSER_INIT ||
        cerr == CYAML_ERR_LIBYAML_EVENT_INIT || cerr == CYAML_ERR_LIBYAML_PARSER) {
        /* libyaml parsed these bytes once already (openapi_yaml_parse): the
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
                rc = case_fail_at(&c, q, UTIL_ERR_INVALID,
                                  "case name '%s' is already used at line %d", k->name,
                                  f->cases[j].line);
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
