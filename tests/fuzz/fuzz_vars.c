/* Fuzz target: arbitrary bytes as a vars file (--vars FILE).
 *
 * run_vars_parse: a YAML mapping of variable names to scalars.
 *
 * Oracle (abort() on failure):
 *  - a failure says in one line "fuzz.yaml:LINE:COLUMN: ..." with LINE and
 *    COLUMN >= 1 and equal to err->line and err->column (out of memory
 *    alone may say only that);
 *  - a success gives only names a template can write (a letter or _, then
 *    letters, digits and _) bound to strings, numbers or booleans, and no
 *    string holds a control character but tab. */
#include "fuzz_common.h"

#include "run/run.h"
#include "util/error.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
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
    int line = 0, col = 0;
    if (sscanf(err->message, NAME ":%d:%d:", &line, &col) != 2 || line < 1 || col < 1)
        fuzz_fail("error has no line and column: \"%s\"", err->message);
    if (err->line != line || err->column != col)
        fuzz_fail("error says %d:%d but err holds %d:%d: \"%s\"", line, col, err->line, err->column,
                  err->message);
}

static void check_vars(const cJSON *vars)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, vars)
    {
        const char *n = it->string;
        if (!n || !(isalpha((unsigned char)n[0]) || n[0] == '_'))
            fuzz_fail("a variable name is not one a template can write: \"%s\"", n ? n : "");
        for (const char *c = n; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_')
                fuzz_fail("a variable name is not one a template can write: \"%s\"", n);
        if (cJSON_IsString(it)) {
            for (const unsigned char *c = (const unsigned char *)it->valuestring; *c; c++)
                if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
                    fuzz_fail("the value of %s holds a control character", n);
        } else if (!cJSON_IsNumber(it) && !cJSON_IsBool(it)) {
            fuzz_fail("the value of %s is not a scalar", n);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    cJSON *vars = cJSON_CreateObject();
    if (!vars)
        return 0;
    struct util_error err;
    util_error_clear(&err);
    int rc = run_vars_parse(vars, (const char *)data, size, NAME, &err);
    if (rc != UTIL_OK)
        check_error(rc, &err);
    else
        check_vars(vars);
    cJSON_Delete(vars);
    return 0;
}
