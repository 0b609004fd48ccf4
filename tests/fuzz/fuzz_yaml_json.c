/* Fuzz target: arbitrary bytes as YAML, converted to JSON.
 *
 * openapi_yaml_parse (libyaml events into cJSON, with the line table), the
 * reader of specs and case files.
 *
 * Oracle (abort() on failure):
 *  - a failure sets err->code to the code returned, leaves the tree and the
 *    line table NULL, and says in one line "fuzz.yaml:LINE:COLUMN: ..."
 *    with LINE and COLUMN >= 1 and equal to err->line and err->column (out
 *    of memory alone may say only that);
 *  - a success gives a tree that serialises (json_write), whose text the
 *    strict JSON parser (json_parse) reads back to the same tree (same
 *    members in the same order, same types and values), and that
 *    serialises again to the same bytes; the line table knows the root. */
#include "fuzz_common.h"

#include "openapi/yaml_json.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/error.h"
#include "json/json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz.yaml"

static void check_error(int rc, const struct util_error *err)
{
    if (err->code != rc)
        fuzz_fail("returned %d but err.code is %d", rc, err->code);
    if (rc == UTIL_ERR_NOMEM)
        return;
    if (!fuzz_one_line_with_prefix(err->message, NAME ":"))
        fuzz_fail("error %s is not one line naming the file: \"%s\"", util_status_name(rc),
                  err->message);
    int line = 0, col = 0, used = 0;
    if (sscanf(err->message, NAME ":%d:%d: %n", &line, &col, &used) != 2 || used == 0 || line < 1 ||
        col < 1)
        fuzz_fail("error has no line and column: \"%s\"", err->message);
    if (err->line != line || err->column != col)
        fuzz_fail("error says %d:%d but err holds %d:%d: \"%s\"", line, col, err->line, err->column,
                  err->message);
}

/* Whether a and b are the same tree, members in the same order (linear:
 * cJSON_Compare is exponential in the depth of nested objects). */
static bool same_tree(const cJSON *a, const cJSON *b)
{
    if ((a->type & 0xff) != (b->type & 0xff) || !a->string != !b->string ||
        (a->string && strcmp(a->string, b->string) != 0))
        return false;
    if (cJSON_IsNumber(a) && a->valuedouble != b->valuedouble)
        return false;
    if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring) != 0)
        return false;
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!same_tree(x, y))
            return false;
    return !x && !y;
}

static void check_tree(const cJSON *doc, const struct openapi_line_table *lines)
{
    struct util_buf a, b;
    util_buf_init(&a, UTIL_CAP_JSON_DOCUMENT);
    util_buf_init(&b, UTIL_CAP_JSON_DOCUMENT);
    cJSON *back = NULL;
    struct util_error err;
    util_error_clear(&err);
    int rc = json_write(&a, doc, false);
    if (rc == UTIL_ERR_NOMEM)
        goto out;
    if (rc != UTIL_OK)
        fuzz_fail("the tree does not serialise: %d", rc);
    rc = json_parse(a.data ? a.data : "", a.len, "re.json", &back, &err);
    if (rc == UTIL_ERR_NOMEM)
        goto out;
    if (rc != UTIL_OK)
        fuzz_fail("the serialised tree is not read back: %s\n%.400s", err.message,
                  a.data ? a.data : "");
    if (!same_tree(doc, back))
        fuzz_fail("the tree read back differs:\n%.400s", a.data ? a.data : "");
    rc = json_write(&b, back, false);
    if (rc == UTIL_ERR_NOMEM)
        goto out;
    if (rc != UTIL_OK || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        fuzz_fail("serialising again gives other bytes:\n%.400s\n%.400s", a.data ? a.data : "",
                  b.data ? b.data : "");
    if (openapi_line_table_lookup(lines, "", NULL) < 1)
        fuzz_fail("the line table does not know the root");
out:
    cJSON_Delete(back);
    util_buf_finish(&a);
    util_buf_finish(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    cJSON *doc = (cJSON *)&doc; /* must be reset to NULL */
    struct openapi_line_table *lines = (struct openapi_line_table *)&lines;
    struct util_error err;
    util_error_clear(&err);
    int rc = openapi_yaml_parse((const char *)data, size, NAME, &doc, &lines, &err);
    if (rc != UTIL_OK) {
        if (doc || lines)
            fuzz_fail("failed with %d but the tree or the line table is not NULL", rc);
        check_error(rc, &err);
        return 0;
    }
    if (!doc || !lines)
        fuzz_fail("succeeded without a tree or a line table");
    check_tree(doc, lines);
    cJSON_Delete(doc);
    openapi_line_table_destroy(lines);
    return 0;
}
