/* results.json read back, and the shards of one run merged; see report.h. */
#include "report/report.h"

#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading results.json ----
 *
 * Every reader takes the JSON Pointer of its node (for messages) and fails
 * with UTIL_ERR_INVALID naming the first member of the wrong type. */

static int bad(struct util_error *err, const char *where, const char *key, const char *what)
{
    return util_error_set(err, UTIL_ERR_INVALID, "%s/%s: expected %s", where, key, what);
}

/* A string member copied into *out; NULL when null (or absent, unless
 * required). UTIL_ERR_LIMIT past cap bytes (what says which cap). */
static int read_capped(const cJSON *o, const char *key, bool required, size_t cap, const char *what,
                       char **out, const char *where, struct util_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (cJSON_IsString(v)) {
        size_t len = strlen(v->valuestring);
        if (len > cap)
            return util_error_set(err, UTIL_ERR_LIMIT,
                                  "%s/%s: %zu bytes, longer than the cap of %zu bytes for %s",
                                  where, key, len, cap, what);
        *out = strdup(v->valuestring);
        return *out ? UTIL_OK : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    if (cJSON_IsNull(v) || (!v && !required))
        return UTIL_OK;
    return bad(err, where, key, required ? "a string or null" : "a string");
}

/* A name (of a case, step, tag, check...): capped at caps->name. */
static int read_name(const cJSON *o, const char *key, bool required,
                     const struct report_read_caps *caps, char **out, const char *where,
                     struct util_error *err)
{
    return read_capped(o, key, required, caps->name, "a name (the case file cap)", out, where, err);
}

/* Any other string: capped at caps->text. */
static int read_str(const cJSON *o, const char *key, bool required,
                    const struct report_read_caps *caps, char **out, const char *where,
                    struct util_error *err)
{
    return read_capped(o, key, required, caps->text, "a text", out, where, err);
}

/* An array member of at most cap elements (what they are). */
static const cJSON *read_list(const cJSON *o, const char *key, size_t cap, const char *what,
                              const char *where, struct util_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    size_t n = 0;
    if (!cJSON_IsArray(v)) {
        bad(err, where, key, "an array");
        return NULL;
    }
    for (const cJSON *c = v->child; c && n <= cap; c = c->next)
        n++;
    if (n > cap) {
        util_error_set(err, UTIL_ERR_LIMIT, "%s/%s: more than the cap of %zu %s", where, key, cap,
                       what);
        return NULL;
    }
    return v;
}

/* A non-negative integer member (at most max: UTIL_ERR_LIMIT past it). */
static int read_size(const cJSON *o, const char *key, double max, size_t *out, const char *where,
                     struct util_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !json_is_integer(v) || v->valuedouble < 0)
        return bad(err, where, key, "a non-negative integer");
    if (v->valuedouble > max)
        return util_error_set(err, UTIL_ERR_LIMIT, "%s/%s: %.0f, over the cap of %.0f", where, key,
                              v->valuedouble, max);
    *out = (size_t)v->valuedouble;
    return UTIL_OK;
}

static int read_int(const cJSON *o, const char *key, int *out, const char *where,
                    struct util_error *err)
{
    size_t n = 0;
    int rc = read_size(o, key, INT32_MAX, &n, where, err);
    *out = (int)n;
    return rc;
}

static int read_ms(const cJSON *o, const char *key, double *out, const char *where,
                   struct util_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        return bad(err, where, key, "a number");
    *out = v->valuedouble;
    return UTIL_OK;
}

/* A top-level number that results.json of older versions lack (0 then). */
static int read_opt_ms(const cJSON *o, const char *key, double *out, struct util_error *err)
{
    if (!cJSON_GetObjectItemCaseSensitive(o, key)) {
        *out = 0;
        return UTIL_OK;
    }
    return read_ms(o, key, out, "", err);
}

/* A copy of any member; NULL when null (or absent). */
static int read_any(const cJSON *o, const char *key, bool keep_null, cJSON **out,
                    struct util_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v || (cJSON_IsNull(v) && !keep_null))
        return UTIL_OK;
    *out = cJSON_Duplicate(v, true);
    return *out ? UTIL_OK : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
}

static const cJSON *member(const cJSON *o, const char *key, bool (*is)(const cJSON *),
                           const char *what, const char *where, struct util_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!is(v)) {
        bad(err, where, key, what);
        return NULL;
    }
    return v;
}

static bool is_object(const cJSON *v)
{
    return cJSON_IsObject(v) != 0;
}

static bool is_array(const cJSON *v)
{
    return cJSON_IsArray(v) != 0;
}

static int read_run_outcome(const cJSON *o, enum run_outcome *out, const char *where,
                            struct util_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "outcome");
    for (int i = RUN_PASSED; cJSON_IsString(v) && i <= RUN_ERROR; i++)
        if (strcmp(v->valuestring, run_outcome_name((enum run_outcome)i)) == 0) {
            *out = (enum run_outcome)i;
            return UTIL_OK;
        }
    return bad(err, where, "outcome", "passed, failed, skipped or error");
}

static int read_check(const cJSON *o, const struct report_read_caps *caps, struct check_list *l,
                      const char *where, struct util_error *err)
{
    char *name = NULL, *message = NULL, *pointer = NULL, *expected = NULL, *actual = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "outcome");
    int outcome = -1, rc;
    for (int i = CHECK_PASS; cJSON_IsString(v) && i <= CHECK_SKIP; i++)
        if (strcmp(v->valuestring, check_outcome_name((enum check_outcome)i)) == 0)
            outcome = i;
    if (!cJSON_IsObject(o))
        return util_error_set(err, UTIL_ERR_INVALID, "%s: expected an object", where);
    if (outcome < 0)
        return bad(err, where, "outcome", "pass, fail, gap or skip");
    if (!(rc = read_name(o, "name", true, caps, &name, where, err)) && !name)
        rc = bad(err, where, "name", "a string");
    if (!rc)
        rc = read_str(o, "message", true, caps, &message, where, err);
    if (!rc && message && strlen(message) >= UTIL_CAP_MESSAGE)
        rc = bad(err, where, "message", "a message shorter than the cap");
    if (!rc)
        rc = read_str(o, "pointer", false, caps, &pointer, where, err);
    if (!rc)
        rc = read_str(o, "expected", false, caps, &expected, where, err);
    if (!rc)
        rc = read_str(o, "actual", false, caps, &actual, where, err);
    if (!rc && check_list_add(l, name, (enum check_outcome)outcome, pointer, expected, actual, "%s",
                              message ? message : ""))
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    free(name);
    free(message);
    free(pointer);
    free(expected);
    free(actual);
    return rc;
}

static int read_step(const cJSON *o, const struct report_read_caps *caps, struct run_step_result *s,
                     const char *where, struct util_error *err)
{
    char here[128];
    const cJSON *req, *resp, *checks, *phase = cJSON_GetObjectItemCaseSensitive(o, "phase");
    size_t n = 0;
    int rc;
    if (!cJSON_IsObject(o))
        return util_error_set(err, UTIL_ERR_INVALID, "%s: expected an object", where);
    if (!cJSON_IsString(phase) ||
        (strcmp(phase->valuestring, "steps") != 0 && strcmp(phase->valuestring, "teardown") != 0))
        return bad(err, where, "phase", "steps or teardown");
    s->teardown = strcmp(phase->valuestring, "teardown") == 0;
    if ((rc = read_name(o, "name", true, caps, &s->name, where, err)) ||
        (rc = read_size(o, "index", (double)caps->steps, &s->index, where, err)) ||
        (rc = read_int(o, "line", &s->line, where, err)) ||
        (rc = read_str(o, "operation", true, caps, &s->operation_id, where, err)) ||
        (rc = read_run_outcome(o, &s->outcome, where, err)) ||
        (rc = read_str(o, "message", true, caps, &s->message, where, err)) ||
        (rc = read_ms(o, "elapsed_ms", &s->elapsed_ms, where, err)) ||
        (rc = read_size(o, "attempts", UINT32_MAX, &n, where, err)))
        return rc;
    s->attempts = (unsigned)n;
    /* Absent when none (and in results.json of older versions). */
    n = 0;
    if ((cJSON_GetObjectItemCaseSensitive(o, "retries") &&
         (rc = read_size(o, "retries", UINT32_MAX, &n, where, err))) ||
        (rc = read_opt_ms(o, "waited_ms", &s->waited_ms, err)))
        return rc;
    s->retries = (unsigned)n;
    if (!(req = member(o, "request", is_object, "an object", where, err)) ||
        !(resp = member(o, "response", is_object, "an object", where, err)) ||
        !(checks = member(o, "checks", is_array, "an array", where, err)))
        return err->code;
    snprintf(here, sizeof(here), "%.100s/request", where);
    if ((rc = read_name(req, "method", true, caps, &s->method, here, err)) ||
        (rc = read_str(req, "url", true, caps, &s->url, here, err)) ||
        (rc = read_any(req, "headers", false, &s->request_headers, err)) ||
        (rc = read_any(req, "params", false, &s->params, err)) ||
        (rc = read_any(req, "body", true, &s->request_body, err)) ||
        (rc = read_str(req, "body_raw", false, caps, &s->request_body_raw, here, err)))
        return rc;
    snprintf(here, sizeof(here), "%.100s/response", where);
    if ((rc = read_int(resp, "status", &s->status, here, err)) ||
        (rc = read_str(resp, "content_type", true, caps, &s->content_type, here, err)) ||
        (rc = read_any(resp, "headers", false, &s->response_headers, err)) ||
        (rc = read_any(resp, "body", true, &s->response_body, err)) ||
        (rc = read_str(resp, "text", false, caps, &s->response_text, here, err)))
        return rc;
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, checks)
    {
        snprintf(here, sizeof(here), "%.100s/checks/%zu", where, i++);
        if ((rc = read_check(c, caps, &s->checks, here, err)))
            return rc;
    }
    return UTIL_OK;
}

static int read_case(const cJSON *o, const struct report_read_caps *caps, struct run_case_result *k,
                     const char *where, struct util_error *err)
{
    char here[128];
    const cJSON *tags, *steps, *v;
    int rc;
    if (!cJSON_IsObject(o))
        return util_error_set(err, UTIL_ERR_INVALID, "%s: expected an object", where);
    if ((rc = read_name(o, "name", true, caps, &k->name, where, err)) ||
        (rc = read_name(o, "file", true, caps, &k->file, where, err)) ||
        (rc = read_int(o, "line", &k->line, where, err)) ||
        (rc = read_size(o, "index", (double)caps->cases, &k->index, where, err)) ||
        (rc = read_run_outcome(o, &k->outcome, where, err)) ||
        (rc = read_str(o, "message", true, caps, &k->message, where, err)) ||
        (rc = read_size(o, "gaps", SIZE_MAX / 2, &k->gaps, where, err)) ||
        (rc = read_ms(o, "elapsed_ms", &k->elapsed_ms, where, err)))
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(o, "interrupted");
    if (v && !cJSON_IsBool(v))
        return bad(err, where, "interrupted", "true or false");
    k->interrupted = cJSON_IsTrue(v);
    if (!(tags = member(o, "tags", is_array, "an array", where, err)) ||
        !(steps = read_list(o, "steps", caps->steps, "steps", where, err)))
        return err->code;
    size_t nt = (size_t)cJSON_GetArraySize(tags), ns = (size_t)cJSON_GetArraySize(steps);
    k->tags = calloc(nt ? nt : 1, sizeof(*k->tags));
    k->steps = calloc(ns ? ns : 1, sizeof(*k->steps));
    if (!k->tags || !k->steps)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(v, tags)
    {
        if (!cJSON_IsString(v))
            return util_error_set(err, UTIL_ERR_INVALID, "%s/tags/%zu: expected a string", where,
                                  k->ntags);
        if (strlen(v->valuestring) > caps->name)
            return util_error_set(err, UTIL_ERR_LIMIT,
                                  "%s/tags/%zu: %zu bytes, longer than the cap of %zu bytes for a "
                                  "name (the case file cap)",
                                  where, k->ntags, strlen(v->valuestring), caps->name);
        if (!(k->tags[k->ntags++] = strdup(v->valuestring)))
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    cJSON_ArrayForEach(v, steps)
    {
        struct run_step_result *s = &k->steps[k->nsteps++];
        check_list_init(&s->checks);
        snprintf(here, sizeof(here), "%.100s/steps/%zu", where, k->nsteps - 1);
        if ((rc = read_step(v, caps, s, here, err)))
            return rc;
    }
    return UTIL_OK;
}

/* The "cassettes" section, when there is one: the record mode, today's
 * spec, each file's counts ("warnings" derive from spec_changed). */
static int read_cassettes(const cJSON *doc, const struct report_read_caps *caps,
                          struct run_results *out, struct util_error *err)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, "cassettes"), *files, *v, *b;
    char here[64];
    int rc;
    if (!o)
        return UTIL_OK;
    if (!cJSON_IsObject(o))
        return bad(err, "", "cassettes", "an object");
    if ((rc = read_str(o, "mode", true, caps, &out->cassette_mode, "/cassettes", err)) ||
        (rc = read_name(o, "spec_sha256", true, caps, &out->spec_sha256, "/cassettes", err)))
        return rc;
    if (!out->cassette_mode)
        return bad(err, "/cassettes", "mode", "a string");
    if (!(files = read_list(o, "files", caps->cassettes, "cassettes", "/cassettes", err)))
        return err->code;
    size_t n = (size_t)cJSON_GetArraySize(files);
    out->cassettes = calloc(n ? n : 1, sizeof(*out->cassettes));
    if (!out->cassettes)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(v, files)
    {
        struct run_cassette_file *f = &out->cassettes[out->ncassettes];
        snprintf(here, sizeof(here), "/cassettes/files/%zu", out->ncassettes++);
        if (!cJSON_IsObject(v))
            return util_error_set(err, UTIL_ERR_INVALID, "%s: expected an object", here);
        if ((rc = read_name(v, "path", true, caps, &f->path, here, err)) ||
            (rc = read_name(v, "spec_sha256", true, caps, &f->spec_sha256, here, err)) ||
            (rc = read_size(v, "replayed", SIZE_MAX / 2, &f->replayed, here, err)) ||
            (rc = read_size(v, "recorded", SIZE_MAX / 2, &f->recorded, here, err)))
            return rc;
        if (!f->path)
            return bad(err, here, "path", "a string");
        if (!cJSON_IsBool(b = cJSON_GetObjectItemCaseSensitive(v, "spec_changed")))
            return bad(err, here, "spec_changed", "true or false");
        f->spec_changed = cJSON_IsTrue(b);
        if (!cJSON_IsBool(b = cJSON_GetObjectItemCaseSensitive(v, "written")))
            return bad(err, here, "written", "true or false");
        f->written = cJSON_IsTrue(b);
    }
    return UTIL_OK;
}

/* The "spec" and "renamedOperations" members, when there are (results.json
 * of older versions lack them). */
static int read_spec(const cJSON *doc, const struct report_read_caps *caps, struct run_results *out,
                     struct util_error *err)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, "spec"), *v;
    char here[64];
    int rc;
    if (o && !cJSON_IsObject(o))
        return bad(err, "", "spec", "an object");
    if (o && ((rc = read_name(o, "title", false, caps, &out->spec_title, "/spec", err)) ||
              (rc = read_name(o, "version", false, caps, &out->spec_version, "/spec", err)) ||
              (rc = read_name(o, "sha256", false, caps, &out->spec_hash, "/spec", err))))
        return rc;
    if (!cJSON_GetObjectItemCaseSensitive(doc, "renamedOperations"))
        return UTIL_OK;
    const cJSON *list =
        read_list(doc, "renamedOperations", caps->steps, "renamed operations", "", err);
    if (!list)
        return err->code;
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (!(out->renamed = calloc(n ? n : 1, sizeof(*out->renamed))))
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(v, list)
    {
        struct run_renamed *r = &out->renamed[out->nrenamed];
        snprintf(here, sizeof(here), "/renamedOperations/%zu", out->nrenamed++);
        if (!cJSON_IsObject(v))
            return util_error_set(err, UTIL_ERR_INVALID, "%s: expected an object", here);
        if ((rc = read_name(v, "caseOperationId", true, caps, &r->declared_id, here, err)) ||
            (rc = read_name(v, "specOperationId", true, caps, &r->operation_id, here, err)) ||
            (rc = read_name(v, "method", true, caps, &r->method, here, err)) ||
            (rc = read_name(v, "path", true, caps, &r->path, here, err)))
            return rc;
        if (!r->declared_id || !r->operation_id || !r->method || !r->path)
            return util_error_set(err, UTIL_ERR_INVALID, "%s: expected four strings", here);
    }
    return UTIL_OK;
}

const struct report_read_caps report_read_caps_default = {
    .name = REPORT_CAP_NAME,
    .text = REPORT_CAP_TEXT,
    .cases = REPORT_CAP_CASES,
    .steps = REPORT_CAP_STEPS,
    .cassettes = REPORT_CAP_CASSETTES,
};

int report_results_from_json(const cJSON *doc, const struct report_read_caps *caps,
                             struct run_results *out, struct util_error *err)
{
    char here[64];
    const cJSON *cases, *v, *shard;
    int rc;
    if (!caps)
        caps = &report_read_caps_default;
    if (!cJSON_IsObject(doc))
        return util_error_set(err, UTIL_ERR_INVALID, "expected an object");
    v = cJSON_GetObjectItemCaseSensitive(doc, "tool");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, "ingestcheck") != 0)
        return util_error_set(err, UTIL_ERR_INVALID,
                              "/tool: expected \"ingestcheck\" (not an ingestcheck results.json)");
    if ((rc = read_str(doc, "run_id", true, caps, &out->run_id, "", err)) ||
        (rc = read_str(doc, "base_url", true, caps, &out->base_url, "", err)) ||
        (rc = read_ms(doc, "elapsed_ms", &out->elapsed_ms, "", err)) ||
        (rc = read_opt_ms(doc, "transport_ms", &out->transport_ms, err)) ||
        (rc = read_opt_ms(doc, "poll_sleep_ms", &out->poll_sleep_ms, err)) ||
        (rc = read_opt_ms(doc, "clock_advanced_ms", &out->clock_advanced_ms, err)))
        return rc;
    /* The request counts: in the summary since issue 14, 0 before. */
    const cJSON *summary = cJSON_GetObjectItemCaseSensitive(doc, "summary");
    double retries = 0, requests = 0;
    if ((rc = read_opt_ms(summary, "retries", &retries, err)) ||
        (rc = read_opt_ms(summary, "requests", &requests, err)))
        return rc;
    if (retries < 0 || requests < 0 || retries > 1e15 || requests > 1e15)
        return bad(err, "/summary", "retries", "a count");
    out->retries = (size_t)retries;
    out->requests = (long)requests;
    out->budget_spent = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(summary, "budget_spent"));
    v = cJSON_GetObjectItemCaseSensitive(doc, "target_error");
    if (!cJSON_IsBool(v))
        return bad(err, "", "target_error", "true or false");
    out->target_error = cJSON_IsTrue(v);
    v = cJSON_GetObjectItemCaseSensitive(doc, "interrupted");
    if (v && !cJSON_IsBool(v))
        return bad(err, "", "interrupted", "true or false");
    out->interrupted = cJSON_IsTrue(v);
    v = cJSON_GetObjectItemCaseSensitive(doc, "target_message");
    if (cJSON_IsString(v))
        snprintf(out->target_message, sizeof(out->target_message), "%s", v->valuestring);
    else if (v && !cJSON_IsNull(v))
        return bad(err, "", "target_message", "a string or null");
    if (!(cases = read_list(doc, "cases", caps->cases, "cases", "", err)))
        return err->code;
    size_t n = (size_t)cJSON_GetArraySize(cases);
    out->cases = calloc(n ? n : 1, sizeof(*out->cases));
    if (!out->cases)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(v, cases)
    {
        snprintf(here, sizeof(here), "/cases/%zu", out->count);
        if ((rc = read_case(v, caps, &out->cases[out->count++], here, err)))
            return rc;
    }
    out->planned = out->count;
    if ((rc = read_cassettes(doc, caps, out, err)) || (rc = read_spec(doc, caps, out, err)))
        return rc;
    shard = cJSON_GetObjectItemCaseSensitive(doc, "shard");
    if (shard) {
        size_t k = 0, of = 0;
        if (!cJSON_IsObject(shard))
            return bad(err, "", "shard", "an object");
        if ((rc = read_size(shard, "index", RUN_CAP_SHARDS, &k, "/shard", err)) ||
            (rc = read_size(shard, "count", RUN_CAP_SHARDS, &of, "/shard", err)) ||
            (rc = read_size(shard, "planned", (double)caps->cases, &out->planned, "/shard", err)))
            return rc;
        if (k < 1 || k > of)
            return util_error_set(err, UTIL_ERR_INVALID, "/shard: shard %zu of %zu", k, of);
        /* The plan's fingerprint; results.json of older versions lack it. */
        const cJSON *plan = cJSON_GetObjectItemCaseSensitive(shard, "plan");
        if (plan && !cJSON_IsNull(plan)) {
            const char *p = cJSON_GetStringValue(plan);
            if (!p || strlen(p) != 16 || strspn(p, "0123456789abcdef") != 16)
                return bad(err, "/shard", "plan", "16 hexadecimal digits or null");
            memcpy(out->plan_id, p, 17);
        }
        out->shard = (unsigned)k;
        out->shards = (unsigned)of;
    }
    for (size_t i = 0; i < out->count; i++)
        if (out->cases[i].index >= out->planned)
            return util_error_set(err, UTIL_ERR_INVALID,
                                  "/cases/%zu/index: %zu, but the plan has %zu cases", i,
                                  out->cases[i].index, out->planned);
    run_results_tally(out);
    return UTIL_OK;
}

/* Appends to a parse error of text that it is cut short when text ends
 * inside its document: in a string, or with an object or array still open
 * (a cut may land just after an inner closing brace). */
static void say_cut_short(const char *text, size_t len, struct util_error *err)
{
    size_t depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && depth) {
            depth--;
        }
    }
    if (err && err->code == UTIL_ERR_PARSE && (in_string || depth || !len)) {
        size_t used = strlen(err->message);
        snprintf(err->message + used, sizeof(err->message) - used,
                 " (the file is cut short: it ends before its document does)");
    }
}

int report_results_read_text(const char *text, size_t len, const char *name,
                             const struct report_read_caps *caps, struct run_results *out,
                             struct util_error *err)
{
    cJSON *doc = NULL;
    int rc = json_parse(text, len, name, &doc, err);
    if (rc) {
        say_cut_short(text, len, err);
        return rc;
    }
    /* Not ingestcheck's at all: say so before looking for a digest. */
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(doc, "tool");
    if (!cJSON_IsString(tool) || strcmp(tool->valuestring, "ingestcheck") != 0)
        rc = report_results_from_json(doc, caps, out, err);
    if (!rc)
        rc = report_digest_verify(text, len, doc, err);
    if (!rc)
        rc = report_results_from_json(doc, caps, out, err);
    if (rc) {
        util_error_prefix(err, "%s", name);
        util_error_at(err, name, 0, 0);
    }
    cJSON_Delete(doc);
    return rc;
}

int report_read(const char *dir, struct run_results *out, struct util_error *err)
{
    char *text = NULL, *path = util_path_join(dir, "results.json");
    size_t len = 0;
    int rc;
    if (!path)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    rc = util_file_read(path, REPORT_CAP_RESULTS_FILE, &text, &len, err);
    if (rc == UTIL_ERR_LIMIT)
        util_error_set(err, rc, "%s: larger than the cap of %u bytes for a results.json", path,
                       REPORT_CAP_RESULTS_FILE);
    if (!rc)
        rc = report_results_read_text(text, len, path, NULL, out, err);
    free(text);
    free(path);
    return rc;
}

/* ---- merging shards ---- */

/* The position in the merged plan of the first case recorded into the
 * cassette at path (DIR/<basename of the case file>): the single run lists
 * its cassettes in that order. SIZE_MAX when no case maps to it. */
static size_t cassette_rank(const struct run_results *out, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < out->count; i++) {
        const char *file = out->cases[i].file, *fb = file ? strrchr(file, '/') : NULL;
        fb = fb ? fb + 1 : file;
        if (fb && strcmp(fb, base) == 0)
            return i;
    }
    return SIZE_MAX;
}

/* The shards' cassette sections as one: files by path, their counts
 * summed, in the single run's order. Shards that ran with cassettes must
 * agree on the mode and today's spec (*culprit the one that does not). */
static int merge_cassettes(struct run_results *in, size_t n, struct run_results *out,
                           size_t *culprit, struct util_error *err)
{
    size_t total = 0;
    const struct run_results *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].cassette_mode)
            continue;
        total += in[i].ncassettes;
        if (!first) {
            first = &in[i];
            continue;
        }
        bool same_spec = !first->spec_sha256 == !in[i].spec_sha256 &&
                         (!first->spec_sha256 || !strcmp(first->spec_sha256, in[i].spec_sha256));
        if (strcmp(first->cassette_mode, in[i].cassette_mode) != 0 || !same_spec) {
            *culprit = i;
            return util_error_set(err, UTIL_ERR_INVALID,
                                  "cassettes in mode %s against spec %.12s, but shard %u's in "
                                  "mode %s against spec %.12s: not one run",
                                  in[i].cassette_mode,
                                  in[i].spec_sha256 ? in[i].spec_sha256 : "(unknown)", first->shard,
                                  first->cassette_mode,
                                  first->spec_sha256 ? first->spec_sha256 : "(unknown)");
        }
    }
    if (!first)
        return UTIL_OK;
    out->cassette_mode = strdup(first->cassette_mode);
    out->spec_sha256 = first->spec_sha256 ? strdup(first->spec_sha256) : NULL;
    out->cassettes = calloc(total ? total : 1, sizeof(*out->cassettes));
    size_t *rank = calloc(total ? total : 1, sizeof(*rank));
    if (!out->cassette_mode || (first->spec_sha256 && !out->spec_sha256) || !out->cassettes ||
        !rank) {
        free(rank);
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; in[i].cassette_mode && j < in[i].ncassettes; j++) {
            struct run_cassette_file *from = &in[i].cassettes[j], *to = NULL;
            for (size_t k = 0; k < out->ncassettes && !to; k++)
                if (strcmp(out->cassettes[k].path, from->path) == 0)
                    to = &out->cassettes[k];
            if (!to) {
                to = &out->cassettes[out->ncassettes++];
                to->spec_sha256 = from->spec_sha256; /* moved */
                from->spec_sha256 = NULL;
                to->path = from->path;
                from->path = NULL;
            }
            to->replayed += from->replayed;
            to->recorded += from->recorded;
            to->written = to->written || from->written;
            to->spec_changed = to->spec_changed || from->spec_changed;
        }
    /* Insertion sort by rank, then path: a few files. */
    for (size_t k = 0; k < out->ncassettes; k++)
        rank[k] = cassette_rank(out, out->cassettes[k].path);
    for (size_t k = 1; k < out->ncassettes; k++)
        for (size_t m = k; m > 0 && (rank[m - 1] > rank[m] || (rank[m - 1] == rank[m] &&
                                                               strcmp(out->cassettes[m - 1].path,
                                                                      out->cassettes[m].path) > 0));
             m--) {
            struct run_cassette_file t = out->cassettes[m];
            size_t r = rank[m];
            out->cassettes[m] = out->cassettes[m - 1];
            rank[m] = rank[m - 1];
            out->cassettes[m - 1] = t;
            rank[m - 1] = r;
        }
    free(rank);
    return UTIL_OK;
}

static int cmp_case_index(const void *a, const void *b)
{
    const struct run_case_result *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

int report_merge(struct run_results *in, size_t n, struct run_results *out, size_t *culprit,
                 struct util_error *err)
{
    size_t shards = n ? in[0].shards : 0, planned = n ? in[0].planned : 0, total = 0;
    const struct run_results *first = NULL;
    *culprit = SIZE_MAX;
    if (n == 0)
        return util_error_set(err, UTIL_ERR_USAGE, "nothing to merge");
    for (size_t i = 0; i < n; i++) {
        *culprit = i;
        if (!in[i].shards)
            return util_error_set(err, UTIL_ERR_INVALID,
                                  "the results of a run without --shard K/N: not a shard");
        if (in[i].plan_id[0] && in[0].plan_id[0] && strcmp(in[i].plan_id, in[0].plan_id) != 0)
            return util_error_set(err, UTIL_ERR_INVALID,
                                  "shard %u/%u of plan %s, but the first is of plan %s: other "
                                  "cases or another selection",
                                  in[i].shard, in[i].shards, in[i].plan_id, in[0].plan_id);
        if (in[i].shards != shards || in[i].planned != planned)
            return util_error_set(err, UTIL_ERR_INVALID,
                                  "shard %u/%u of a plan of %zu cases, but the first is a shard "
                                  "of %zu of a plan of %zu cases",
                                  in[i].shard, in[i].shards, in[i].planned, shards, planned);
        for (size_t j = 0; j < i; j++)
            if (in[j].shard == in[i].shard)
                return util_error_set(err, UTIL_ERR_INVALID, "shard %u/%u given twice", in[i].shard,
                                      in[i].shards);
        if (in[i].spec_hash && in[0].spec_hash && strcmp(in[i].spec_hash, in[0].spec_hash) != 0)
            return util_error_set(err, UTIL_ERR_INVALID,
                                  "shard %u/%u ran against spec %.12s, but the first against "
                                  "spec %.12s: not one run",
                                  in[i].shard, in[i].shards, in[i].spec_hash, in[0].spec_hash);
        total += in[i].count;
    }
    /* run_id and base_url: the lowest-numbered shard that ran cases. */
    for (size_t i = 0; i < n; i++) {
        bool ran = in[i].count > 0, first_ran = first && first->count > 0;
        if (!first || (ran && !first_ran) || (ran == first_ran && in[i].shard < first->shard))
            first = &in[i];
    }
    *culprit = SIZE_MAX;
    if (n != shards) {
        unsigned missing = 1;
        for (bool found = true; found; missing += found) {
            found = false;
            for (size_t i = 0; i < n; i++)
                found = found || in[i].shard == missing;
        }
        return util_error_set(err, UTIL_ERR_INVALID, "shard %u/%zu missing (%zu of %zu given)",
                              missing, shards, n, shards);
    }
    if (total != planned)
        return util_error_set(err, UTIL_ERR_INVALID,
                              "the shards hold %zu cases, their plan %zu: not one plan", total,
                              planned);
    out->cases = calloc(total ? total : 1, sizeof(*out->cases));
    out->run_id = strdup(first->run_id ? first->run_id : "");
    out->base_url = strdup(first->base_url ? first->base_url : "");
    if (!out->cases || !out->run_id || !out->base_url)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    /* The spec and its renamed operations: every shard's (moved). */
    for (size_t i = 0; i < n; i++) {
        struct run_results *from = &in[i];
        if (!out->spec_hash && from->spec_hash) {
            out->spec_title = from->spec_title;
            out->spec_version = from->spec_version;
            out->spec_hash = from->spec_hash;
            from->spec_title = from->spec_version = from->spec_hash = NULL;
        }
        if (!out->nrenamed && from->nrenamed) {
            out->renamed = from->renamed;
            out->nrenamed = from->nrenamed;
            from->renamed = NULL;
            from->nrenamed = 0;
        }
    }
    unsigned message_from = 0; /* the target message of the lowest-numbered shard */
    for (size_t i = 0; i < n; i++) {
        memcpy(out->cases + out->count, in[i].cases, in[i].count * sizeof(*in[i].cases));
        out->count += in[i].count;
        in[i].count = 0; /* moved */
        if (in[i].elapsed_ms > out->elapsed_ms)
            out->elapsed_ms = in[i].elapsed_ms;
        out->transport_ms += in[i].transport_ms;
        out->poll_sleep_ms += in[i].poll_sleep_ms;
        out->clock_advanced_ms += in[i].clock_advanced_ms;
        out->retries += in[i].retries;
        out->requests += in[i].requests;
        out->budget_spent = out->budget_spent || in[i].budget_spent;
        if (in[i].jobs > out->jobs)
            out->jobs = in[i].jobs;
        out->interrupted = out->interrupted || in[i].interrupted;
        if (in[i].target_error && (!message_from || in[i].shard < message_from)) {
            out->target_error = true;
            message_from = in[i].shard;
            memcpy(out->target_message, in[i].target_message, sizeof(out->target_message));
        }
    }
    qsort(out->cases, out->count, sizeof(*out->cases), cmp_case_index);
    for (size_t i = 0; i < out->count; i++)
        if (out->cases[i].index != i)
            return util_error_set(err, UTIL_ERR_INVALID,
                                  "no shard holds plan position %zu, another is held twice: "
                                  "not one plan",
                                  i);
    out->planned = out->count;
    run_results_tally(out);
    return merge_cassettes(in, n, out, culprit, err);
}
