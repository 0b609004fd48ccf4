/* Variables given to a run from outside the case files: --var NAME=VALUE
 * and --vars FILE (a YAML mapping of names to scalars); see run.h. */
#include "run/run.h"

#include "openapi/yaml_json.h"
#include "util/caps.h"
#include "util/file.h"
#include "util/header.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A variable name as templates write it: a letter or '_', then letters,
 * digits and '_'. */
static bool name_ok(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* Sets name (n bytes) to v (taken) in vars, where says where it comes from
 * in messages. */
static int put(cJSON *vars, const char *name, size_t n, cJSON *v, const char *where,
               struct util_error *err)
{
    char why[128];
    int rc = UTIL_OK;
    if (!name_ok(name, n)) {
        rc = util_error_set(err, UTIL_ERR_USAGE,
                            "%s: '%.*s' is not a variable name (a letter or _, then letters, "
                            "digits and _)",
                            where, (int)(n > 64 ? 64 : n), name);
        goto cleanup;
    }
    if (cJSON_IsString(v)) {
        size_t len = strlen(v->valuestring);
        if (len > RUN_CAP_VAR_VALUE) {
            rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: the value of %.*s is longer than %u bytes",
                                where, (int)n, name, RUN_CAP_VAR_VALUE);
            goto cleanup;
        }
        /* As a header of a case file: no CR, LF, NUL or other control
         * character (but tab), whatever the value goes into. */
        if (!util_header_value_ok(v->valuestring, len, why, sizeof(why))) {
            rc = util_error_set(err, UTIL_ERR_USAGE, "%s: the value of %.*s %s", where, (int)n,
                                name, why);
            goto cleanup;
        }
    } else if (!cJSON_IsNumber(v) && !cJSON_IsBool(v)) {
        rc = util_error_set(err, UTIL_ERR_USAGE,
                            "%s: the value of %.*s is not a scalar (a string, number or boolean)",
                            where, (int)n, name);
        goto cleanup;
    }
    char key[RUN_CAP_VAR_NAME + 1];
    if (n > RUN_CAP_VAR_NAME) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: a variable name is longer than %d bytes",
                            where, RUN_CAP_VAR_NAME);
        goto cleanup;
    }
    memcpy(key, name, n);
    key[n] = '\0';
    if (!cJSON_GetObjectItemCaseSensitive(vars, key) &&
        cJSON_GetArraySize(vars) >= RUN_CAP_VARS) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: more than %d variables", where,
                            RUN_CAP_VARS);
        goto cleanup;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(vars, key);
    if (!cJSON_AddItemToObject(vars, key, v)) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    v = NULL;
cleanup:
    cJSON_Delete(v);
    return rc;
}

int run_vars_assign(cJSON *vars, const char *assignment, struct util_error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return util_error_set(err, UTIL_ERR_USAGE, "--var wants NAME=VALUE, got no '='");
    cJSON *v = cJSON_CreateString(eq + 1);
    if (!v)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    return put(vars, assignment, (size_t)(eq - assignment), v, "--var", err);
}

int run_vars_parse(cJSON *vars, const char *text, size_t len, const char *name,
                   struct util_error *err)
{
    cJSON *doc = NULL;
    struct openapi_line_table *lines = NULL;
    int rc = openapi_yaml_parse(text, len, name, &doc, &lines, err);
    if (rc)
        goto cleanup;
    if (!cJSON_IsObject(doc)) {
        int col = 0, line = openapi_line_table_lookup(lines, "", &col);
        rc = util_error_set(err, UTIL_ERR_USAGE,
                            "%s:%d:%d: a vars file is a mapping of names to scalars", name,
                            line ? line : 1, col ? col : 1);
        util_error_at(err, name, line ? line : 1, col ? col : 1);
        goto cleanup;
    }
    cJSON *it = doc->child;
    while (it && !rc) {
        cJSON *next = it->next;
        char ptr[2 * RUN_CAP_VAR_NAME + 2], where[512];
        int col = 0, line = 0;
        if (strlen(it->string) <= RUN_CAP_VAR_NAME) {
            /* The member's JSON Pointer ('~' and '/' escaped). */
            size_t n = 0;
            ptr[n++] = '/';
            for (const char *c = it->string; *c; c++) {
                if (*c == '~' || *c == '/')
                    ptr[n++] = '~';
                ptr[n++] = *c == '~' ? '0' : *c == '/' ? '1' : *c;
            }
            ptr[n] = '\0';
            line = openapi_line_table_lookup(lines, ptr, &col);
        }
        if (line < 1) /* a name too long to look up: the mapping's place */
            line = openapi_line_table_lookup(lines, "", &col);
        if (line < 1 || col < 1)
            line = col = 1;
        snprintf(where, sizeof(where), "%.256s:%d:%d", name, line, col);
        cJSON_DetachItemViaPointer(doc, it);
        char *key = it->string;
        it->string = NULL;
        rc = put(vars, key, strlen(key), it, where, err);
        cJSON_free(key);
        if (rc)
            util_error_at(err, name, line, col);
        it = next;
    }
cleanup:
    cJSON_Delete(doc);
    openapi_line_table_destroy(lines);
    return rc;
}

int run_vars_load_file(cJSON *vars, const char *path, struct util_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = util_file_read(path, RUN_CAP_VARS_FILE, &text, &len, err);
    if (!rc)
        rc = run_vars_parse(vars, text, len, path, err);
    free(text);
    return rc;
}
