/* Request headers and raw paths of steps: what the case file writes must
 * be sendable (names are RFC 9110 tokens; values, content_type and raw
 * paths hold no CR, LF, NUL or other control character), and so must what
 * vars:, --run-id and the environment put into them through templates.
 * Values captured from a response are checked when the request is built
 * (the step fails). */
#include "case/internal.h"

#include "case/template.h"
#include "openapi/yaml_json.h"
#include "util/caps.h"
#include "util/header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refuses a value whose line (with name) would not fit the header cap. */
static bool too_long(const char *name, size_t vlen)
{
    return strlen(name) + 2 + vlen > UTIL_CAP_HEADER_LINE;
}

bool case_path_ok(const char *path, char *why, size_t size)
{
    /* A tab is no more welcome in a request line than CR or LF. */
    const char *tab = strchr(path, '\t');
    if (tab) {
        snprintf(why, size, "contains the control character 0x09");
        return false;
    }
    return util_header_value_ok(path, strlen(path), why, size);
}

int case_check_step_headers(struct case_ctx *c, const cJSON *node, const char *pointer)
{
    char p[1024], why[128];
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(node, "content_type");
    if (cJSON_IsString(ct)) {
        case_ptr_join(p, sizeof(p), pointer, "content_type");
        if (!util_header_value_ok(ct->valuestring, strlen(ct->valuestring), why, sizeof(why)))
            return case_fail_at(c, p, UTIL_ERR_INVALID,
                                "content_type %s; it is sent as the "
                                "Content-Type header",
                                why);
        if (too_long("content-type", strlen(ct->valuestring)))
            return case_fail_at(c, p, UTIL_ERR_LIMIT, "content_type is longer than %u bytes",
                                UTIL_CAP_HEADER_LINE);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(node, "headers"))
    {
        case_ptr_join(p, sizeof(p), pointer, "headers");
        case_ptr_join(p, sizeof(p), p, it->string);
        if (!util_header_name_ok(it->string, why, sizeof(why)))
            return case_fail_at(c, p, UTIL_ERR_INVALID, "headers: the name '%s' %s", it->string,
                                why);
        if (!cJSON_IsString(it))
            continue;
        if (!util_header_value_ok(it->valuestring, strlen(it->valuestring), why, sizeof(why)))
            return case_fail_at(c, p, UTIL_ERR_INVALID, "headers: %s: the value %s", it->string,
                                why);
        if (too_long(it->string, strlen(it->valuestring)))
            return case_fail_at(c, p, UTIL_ERR_LIMIT, "headers: %s: longer than %u bytes",
                                it->string, UTIL_CAP_HEADER_LINE);
    }
    return UTIL_OK;
}

/* ---- templates filled in before the run ---- */

struct uses {
    const struct case_known *captured;
    bool captured_used;
};

static void on_use(const char *name, void *user)
{
    struct uses *u = user;
    if (case_known_has(u->captured, name))
        u->captured_used = true;
}

/* Fills in the templates of the headers of step s (at pointer) as the run
 * will, with vars and --run-id set in v; a header using a captured value
 * (or a variable that cannot be filled in now) is left to the run. */
static int check_step(struct case_ctx *c, const struct case_step *s, const char *pointer,
                      struct case_vars *v, const struct case_known *captured)
{
    char p[1024], why[128];
    const cJSON *it;
    if (s->kind == CASE_STEP_RAW && case_template_has(s->path_template)) {
        struct uses u = {.captured = captured};
        struct util_error e;
        util_error_clear(&e);
        char *text = NULL;
        int rc = UTIL_OK;
        if (!case_template_scan(s->path_template, on_use, &u, &e) && !u.captured_used &&
            !case_template_expand_text(v, s->path_template, &text, &e) &&
            !case_path_ok(text, why, sizeof(why))) {
            case_ptr_join(p, sizeof(p), pointer, "path");
            rc = case_fail_at(c, p, UTIL_ERR_INVALID,
                              "path: the request path %s once its templates are filled in "
                              "(from vars:, --run-id or the environment)",
                              why);
        }
        free(text);
        if (rc)
            return rc;
    }
    cJSON_ArrayForEach(it, s->headers)
    {
        if (!cJSON_IsString(it) || !case_template_has(it->valuestring))
            continue;
        struct uses u = {.captured = captured};
        struct util_error e;
        util_error_clear(&e);
        char *text = NULL;
        if (case_template_scan(it->valuestring, on_use, &u, &e) || u.captured_used ||
            case_template_expand_text(v, it->valuestring, &text, &e))
            continue;
        int rc = UTIL_OK;
        case_ptr_join(p, sizeof(p), pointer, "headers");
        case_ptr_join(p, sizeof(p), p, it->string);
        if (!util_header_value_ok(text, strlen(text), why, sizeof(why)))
            rc = case_fail_at(c, p, UTIL_ERR_INVALID,
                              "headers: %s: the value %s once its templates are filled in "
                              "(from vars:, --run-id or the environment)",
                              it->string, why);
        else if (too_long(it->string, strlen(text)))
            rc = case_fail_at(c, p, UTIL_ERR_LIMIT,
                              "headers: %s: longer than %u bytes once its templates are filled "
                              "in (from vars:, --run-id or the environment)",
                              it->string, UTIL_CAP_HEADER_LINE);
        free(text);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* Sets the vars: of k in v, in order, as the run does; a var that cannot
 * be filled in now is left unset. */
static int set_vars(struct case_vars *v, const struct case_case *k)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, k->vars)
    {
        cJSON *val = NULL;
        struct util_error e;
        util_error_clear(&e);
        int rc = case_template_expand_json(v, it, &val, &e);
        if (rc == UTIL_ERR_NOMEM)
            return rc;
        if (!rc)
            rc = case_vars_set(v, it->string, val);
        cJSON_Delete(val);
        if (rc == UTIL_ERR_NOMEM)
            return rc;
    }
    return UTIL_OK;
}

static int check_case(struct case_ctx *c, const struct case_case *k, struct case_vars *v)
{
    char p[1024], sp[1024];
    struct case_known captured = {0};
    int rc = set_vars(v, k);
    for (int part = 0; part < 2 && !rc; part++) {
        const struct case_step *steps = part ? k->teardown : k->steps;
        size_t n = part ? k->nteardown : k->nsteps;
        snprintf(p, sizeof(p), "/cases/%zu/%s", k->index, part ? "teardown" : "steps");
        for (size_t i = 0; i < n && !rc; i++) {
            case_ptr_index(sp, sizeof(sp), p, i);
            rc = check_step(c, &steps[i], sp, v, &captured);
            for (size_t j = 0; !rc && j < steps[i].ncaptures; j++)
                rc = case_known_add(&captured, steps[i].captures[j].name);
        }
    }
    case_known_finish(&captured);
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(c->err, rc, "out of memory");
    return rc;
}

int case_suite_check_headers(const struct case_suite *s, const char *run_id, struct util_error *err)
{
    struct case_vars *v = case_vars_create(run_id ? run_id : "ic-run-id", NULL);
    if (!v)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    int rc = UTIL_OK;
    for (size_t f = 0; f < s->count && !rc; f++) {
        const struct case_file *file = s->files[f];
        struct case_ctx c = {.name = file->path, .lines = file->lines, .err = err};
        for (size_t i = 0; i < file->ncases && !rc; i++) {
            case_vars_clear(v);
            rc = check_case(&c, &file->cases[i], v);
        }
    }
    case_vars_destroy(v);
    return rc;
}
