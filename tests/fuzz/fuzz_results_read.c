/* Fuzz target: arbitrary bytes as a shard's results.json, as `ingestcheck
 * merge` reads it.
 *
 * report_results_read_text (json_parse, the digest that ends the file,
 * report_results_from_json with its caps) on the input as it is and on a
 * copy whose digest is recomputed (report_digest_seal, when it ends with
 * one: what a fuzzer changes breaks the digest, and the reader behind it
 * must still be reached), and with small caps (report_read_caps) so that
 * every cap is reached within FUZZ_MAX_INPUT; then what merge does with
 * what it read: the results written again (results.json and junit.xml),
 * and, for a one-shard plan, report_merge.
 *
 * Oracle (abort() on failure):
 *  - a failure returns UTIL_ERR_PARSE, UTIL_ERR_INVALID or UTIL_ERR_LIMIT
 *    (or out of memory) with err->code set and a one-line message;
 *  - an input that is read as it is (its digest matched) is refused once
 *    any one of its bytes is changed;
 *  - a copy whose last member is "digest" is not refused for its digest
 *    once sealed;
 *  - what the small caps accept, the default caps accept, and what only the
 *    default caps accept the small ones refuse with UTIL_ERR_LIMIT;
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

/* Caps small enough for a fuzzer's inputs, large enough for the seeds. */
static const struct report_read_caps small_caps = {
    .name = 80, .text = 2048, .cases = 4, .steps = 6, .cassettes = 3};

static void check_refusal(int rc, const struct util_error *err)
{
    if (rc != UTIL_ERR_INVALID && rc != UTIL_ERR_NOMEM && rc != UTIL_ERR_LIMIT &&
        rc != UTIL_ERR_PARSE)
        fuzz_fail("refused with code %d: %s", rc, err->message);
    if (err->code != rc)
        fuzz_fail("returned %d but err->code is %d", rc, err->code);
    if (!err->message[0] || strchr(err->message, '\n'))
        fuzz_fail("the refusal is not one line: '%s'", err->message);
}

/* Reads text as merge does, with caps; a refusal must be one line. */
static int read_as_merge(const char *text, size_t len, const struct report_read_caps *caps,
                         struct run_results *out, struct util_error *err)
{
    util_error_clear(err);
    int rc = report_results_read_text(text, len, "results.json", caps, out, err);
    if (rc)
        check_refusal(rc, err);
    return rc;
}

/* Whether the last member of the JSON object text is a string named
 * "digest" (a seal makes it match then). */
static bool ends_with_digest_member(const char *text, size_t len)
{
    struct util_error err;
    cJSON *doc = NULL;
    bool yes = false;
    util_error_clear(&err);
    if (json_parse(text, len, "sealed.json", &doc, &err) == UTIL_OK && cJSON_IsObject(doc)) {
        const cJSON *last = doc->child;
        while (last && last->next)
            last = last->next;
        yes = cJSON_IsString(last) && strcmp(last->string, REPORT_DIGEST_MEMBER) == 0 &&
              strlen(last->valuestring) == strlen(REPORT_DIGEST_PREFIX) + 64;
    }
    cJSON_Delete(doc);
    return yes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct util_error err;
    struct run_results r, back, merged, small, flipped;
    struct util_buf junit;
    cJSON *again = NULL;
    char *t1 = NULL, *t2 = NULL, *copy = NULL;
    if (size > FUZZ_MAX_INPUT)
        return 0;
    run_results_init(&r);
    run_results_init(&back);
    run_results_init(&merged);
    run_results_init(&small);
    run_results_init(&flipped);
    util_buf_init(&junit, REPORT_CAP_SIZE);
    if (!(copy = fuzz_cstr(data, size)))
        goto done;
    int rc = read_as_merge(copy, size, NULL, &r, &err);
    if (!rc) {
        /* Accepted as it is: any one byte changed is refused. */
        size_t at = fuzz_hash(data, size) % size;
        copy[at] = (char)(copy[at] ^ 0x21);
        if (!read_as_merge(copy, size, NULL, &flipped, &err))
            fuzz_fail("accepted with byte %zu changed", at);
        copy[at] = (char)(copy[at] ^ 0x21);
    } else if (report_digest_seal(copy, size)) {
        bool member = ends_with_digest_member(copy, size);
        run_results_finish(&r);
        run_results_init(&r);
        rc = read_as_merge(copy, size, NULL, &r, &err);
        if (member && rc && strstr(err.message, "digest"))
            fuzz_fail("refused for its digest once sealed: %s", err.message);
    }
    if (rc)
        goto done;
    /* The small caps: a subset of what the default caps accept. */
    if (read_as_merge(copy, size, &small_caps, &small, &err) && err.code != UTIL_ERR_LIMIT)
        fuzz_fail("the small caps refuse what the default ones accept, not for a cap: %s",
                  err.message);
    /* Written again, read back, written again: the same document. */
    if (!(t1 = written(&r)))
        goto done;
    util_error_clear(&err);
    if (json_parse(t1, strlen(t1), "written.json", &again, &err) != UTIL_OK) {
        if (err.code == UTIL_ERR_NOMEM || err.code == UTIL_ERR_LIMIT)
            goto done;
        fuzz_fail("the written results.json does not parse: %s", err.message);
    }
    rc = report_results_from_json(again, NULL, &back, &err);
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
    free(copy);
    cJSON_Delete(again);
    util_buf_finish(&junit);
    run_results_finish(&r);
    run_results_finish(&back);
    run_results_finish(&merged);
    run_results_finish(&small);
    run_results_finish(&flipped);
    return 0;
}
