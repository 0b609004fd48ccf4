/* Fuzz target: arbitrary bytes as a shard's results.json, as `ingestcheck
 * merge` reads it.
 *
 * json_parse, report_results_from_json, then what merge does with what it
 * read: the results written again (results.json and junit.xml), and, for
 * a one-shard plan, report_merge.
 *
 * Oracle (abort() on failure):
 *  - a failure returns UTIL_ERR_INVALID (or out of memory) with err->code
 *    set and a one-line message;
 *  - what was read writes a results.json that reads back into results
 *    writing the same document (writing is a fixed point after one read),
 *    and a junit.xml (or hits the report cap);
 *  - merging a single shard 1/1 succeeds or is refused as invalid. */
#include "fuzz_common.h"

#include "report/report.h"
#include "run/run.h"
#include "util/buf.h"
#include "util/error.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

/* Writes r as results.json text (caller frees); NULL when out of memory. */
static char *written(const struct run_results *r)
{
    struct util_error err;
    cJSON *doc = NULL;
    util_error_clear(&err);
    int rc = report_results_json(r, &doc, &err);
    if (rc == UTIL_ERR_NOMEM)
        return NULL;
    if (rc)
        fuzz_fail("report_results_json of read results failed: %d %s", rc, err.message);
    char *text = json_print(doc, false);
    cJSON_Delete(doc);
    return text;
}

static void check_refusal(int rc, const struct util_error *err)
{
    if (rc != UTIL_ERR_INVALID && rc != UTIL_ERR_NOMEM && rc != UTIL_ERR_LIMIT)
        fuzz_fail("refused with code %d: %s", rc, err->message);
    if (err->code != rc)
        fuzz_fail("returned %d but err->code is %d", rc, err->code);
    if (!err->message[0] || strchr(err->message, '\n'))
        fuzz_fail("the refusal is not one line: '%s'", err->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct util_error err;
    struct run_results r, back, merged;
    struct util_buf junit;
    cJSON *doc = NULL, *again = NULL;
    char *t1 = NULL, *t2 = NULL;
    if (size > FUZZ_MAX_INPUT)
        return 0;
    util_error_clear(&err);
    run_results_init(&r);
    run_results_init(&back);
    run_results_init(&merged);
    util_buf_init(&junit, REPORT_CAP_SIZE);
    if (json_parse((const char *)data, size, "results.json", &doc, &err) != UTIL_OK)
        goto done;
    int rc = report_results_from_json(doc, &r, &err);
    if (rc) {
        check_refusal(rc, &err);
        goto done;
    }
    /* Written again, read back, written again: the same document. */
    if (!(t1 = written(&r)))
        goto done;
    util_error_clear(&err);
    if (json_parse(t1, strlen(t1), "written.json", &again, &err) != UTIL_OK) {
        if (err.code == UTIL_ERR_NOMEM || err.code == UTIL_ERR_LIMIT)
            goto done;
        fuzz_fail("the written results.json does not parse: %s", err.message);
    }
    rc = report_results_from_json(again, &back, &err);
    if (rc == UTIL_ERR_NOMEM)
        goto done;
    if (rc)
        fuzz_fail("the written results.json does not read back: %s\n%s", err.message, t1);
    if (!(t2 = written(&back)))
        goto done;
    if (strcmp(t1, t2) != 0)
        fuzz_fail("writing is not a fixed point:\n%s\n%s", t1, t2);
    rc = report_junit(&junit, &r);
    if (rc && rc != UTIL_ERR_NOMEM && rc != UTIL_ERR_LIMIT)
        fuzz_fail("report_junit failed: %d", rc);
    /* A plan of one shard merges on its own, or is refused as invalid. */
    if (r.shards == 1) {
        size_t culprit = 0;
        util_error_clear(&err);
        rc = report_merge(&r, 1, &merged, &culprit, &err);
        if (rc)
            check_refusal(rc, &err);
        else if (merged.count != merged.planned)
            fuzz_fail("merged %zu cases of a plan of %zu", merged.count, merged.planned);
    }
done:
    free(t1);
    free(t2);
    cJSON_Delete(doc);
    cJSON_Delete(again);
    util_buf_finish(&junit);
    run_results_finish(&r);
    run_results_finish(&back);
    run_results_finish(&merged);
    return 0;
}
