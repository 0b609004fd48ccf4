/* Selection of cases into a plan, and the results' lifetime. */
#include "run/run.h"

#include "util/hash.h"

#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static bool has_tag(const struct case_case *k, const char *tag)
{
    for (size_t i = 0; i < k->ntags; i++)
        if (strcmp(k->tags[i], tag) == 0)
            return true;
    return false;
}

/* Whether step s calls id: the loaded spec's operationId, or the one the
 * case wrote for it. */
static bool calls(const struct case_step *s, const char *id)
{
    return (s->operation_id && strcmp(s->operation_id, id) == 0) ||
           (s->declared_id && strcmp(s->declared_id, id) == 0);
}

static bool uses_operation(const struct case_case *k, const char *id)
{
    for (size_t i = 0; i < k->nsteps; i++)
        if (calls(&k->steps[i], id))
            return true;
    for (size_t i = 0; i < k->nteardown; i++)
        if (calls(&k->teardown[i], id))
            return true;
    return false;
}

bool run_case_selected(const struct case_case *k, const struct run_selection *sel)
{
    if (!sel)
        return true;
    bool ok = sel->ntags == 0;
    for (size_t i = 0; !ok && i < sel->ntags; i++)
        ok = has_tag(k, sel->tags[i]);
    for (size_t i = 0; ok && i < sel->nexclude_tags; i++)
        ok = !has_tag(k, sel->exclude_tags[i]);
    if (ok && sel->ncase_globs) {
        ok = false;
        for (size_t i = 0; !ok && i < sel->ncase_globs; i++)
            ok = fnmatch(sel->case_globs[i], k->name, 0) == 0;
    }
    if (ok && sel->noperations) {
        ok = false;
        for (size_t i = 0; !ok && i < sel->noperations; i++)
            ok = uses_operation(k, sel->operations[i]);
    }
    return ok;
}

void run_plan_init(struct run_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void run_plan_finish(struct run_plan *p)
{
    free(p->cases);
    free(p->mock_only);
    free(p->indexes);
    memset(p, 0, sizeof(*p));
}

int run_plan_build(const struct case_suite *s, const struct run_selection *sel, struct run_plan *p,
                   struct util_error *err)
{
    size_t total = case_suite_count(s);
    p->cases = calloc(total ? total : 1, sizeof(*p->cases));
    p->mock_only = calloc(total ? total : 1, sizeof(*p->mock_only));
    if (!p->cases || !p->mock_only)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    for (size_t f = 0; f < s->count; f++)
        for (size_t i = 0; i < s->files[f]->ncases; i++) {
            const struct case_case *k = &s->files[f]->cases[i];
            if (!run_case_selected(k, sel))
                continue;
            p->mock_only[p->count] = sel && sel->skip_mock && has_tag(k, RUN_TAG_MOCK);
            p->cases[p->count++] = k;
        }
    p->planned = p->count;
    return UTIL_OK;
}

/* ---- sharding ---- */

struct shard_item {
    double cost;
    const struct case_case *k;
    size_t pos; /* in the plan */
};

/* Decreasing cost, then name, file and plan position: a total order. */
static int cmp_shard_item(const void *a, const void *b)
{
    const struct shard_item *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    int c = strcmp(x->k->name, y->k->name);
    if (!c)
        c = strcmp(x->k->file, y->k->file);
    if (!c)
        c = x->pos < y->pos ? -1 : x->pos > y->pos;
    return c;
}

int run_plan_shard(struct run_plan *p, unsigned k, unsigned n, const double *costs,
                   struct util_error *err)
{
    struct shard_item *items = NULL;
    double *load = NULL;
    bool *keep = NULL;
    size_t *indexes = NULL, kept = 0;
    int rc = UTIL_OK;
    if (n < 1 || n > RUN_CAP_SHARDS || k < 1 || k > n)
        return util_error_set(err, UTIL_ERR_USAGE, "shard %u/%u: expected 1 <= K <= N <= %u", k, n,
                              RUN_CAP_SHARDS);
    if (p->shards)
        return util_error_set(err, UTIL_ERR_USAGE, "the plan is already a shard");
    for (size_t i = 0; costs && i < p->count; i++)
        if (!(costs[i] >= 0 && costs[i] <= 1e15)) /* also refuses NaN */
            return util_error_set(err, UTIL_ERR_USAGE, "case '%s': cost %g out of range",
                                  p->cases[i]->name, costs[i]);
    /* The fingerprint: FNV-1a of "name\0base\0"... over the whole plan,
     * with the file's base name (shards may name the directory apart). */
    uint64_t h = UTIL_FNV1A_OFFSET;
    for (size_t i = 0; i < p->count; i++) {
        const char *name = p->cases[i]->name ? p->cases[i]->name : "";
        const char *file = p->cases[i]->file ? p->cases[i]->file : "";
        const char *slash = strrchr(file, '/');
        file = slash ? slash + 1 : file;
        h = util_fnv1a(h, name, strlen(name) + 1);
        h = util_fnv1a(h, file, strlen(file) + 1);
    }
    items = calloc(p->count ? p->count : 1, sizeof(*items));
    load = calloc(n, sizeof(*load));
    keep = calloc(p->count ? p->count : 1, sizeof(*keep));
    indexes = calloc(p->count ? p->count : 1, sizeof(*indexes));
    if (!items || !load || !keep || !indexes) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < p->count; i++)
        items[i] = (struct shard_item){costs ? costs[i] : 1.0, p->cases[i], i};
    qsort(items, p->count, sizeof(*items), cmp_shard_item);
    for (size_t i = 0; i < p->count; i++) {
        unsigned least = 0;
        for (unsigned s = 1; s < n; s++)
            if (load[s] < load[least])
                least = s;
        load[least] += items[i].cost;
        keep[items[i].pos] = least == k - 1;
    }
    for (size_t i = 0; i < p->count; i++)
        if (keep[i]) {
            p->cases[kept] = p->cases[i];
            if (p->mock_only)
                p->mock_only[kept] = p->mock_only[i];
            indexes[kept++] = i;
        }
    p->planned = p->count;
    p->count = kept;
    p->indexes = indexes;
    indexes = NULL;
    snprintf(p->plan_id, sizeof(p->plan_id), "%016llx", (unsigned long long)h);
    p->shard = k;
    p->shards = n;
cleanup:
    free(items);
    free(load);
    free(keep);
    free(indexes);
    return rc;
}

const char *run_outcome_name(enum run_outcome o)
{
    switch (o) {
    case RUN_PASSED:
        return "passed";
    case RUN_FAILED:
        return "failed";
    case RUN_SKIPPED:
        return "skipped";
    case RUN_ERROR:
        return "error";
    }
    return "?";
}

void run_make_id(char out[16])
{
    unsigned char b[5];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        unsigned long t = (unsigned long)time(NULL) ^ (unsigned long)(uintptr_t)out;
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)(t >> (8 * i));
    }
    snprintf(out, 16, "ic-%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4]);
}

void run_results_init(struct run_results *r)
{
    memset(r, 0, sizeof(*r));
}

static void step_result_finish(struct run_step_result *s)
{
    free(s->name);
    free(s->operation_id);
    free(s->method);
    free(s->url);
    cJSON_Delete(s->request_headers);
    cJSON_Delete(s->params);
    cJSON_Delete(s->request_body);
    free(s->request_body_raw);
    cJSON_Delete(s->response_headers);
    free(s->content_type);
    cJSON_Delete(s->response_body);
    free(s->response_text);
    free(s->message);
    check_list_finish(&s->checks);
}

void run_results_tally(struct run_results *r)
{
    r->passed = r->failed = r->skipped = r->errors = r->gaps = r->checks = 0;
    for (size_t i = 0; i < r->count; i++) {
        const struct run_case_result *c = &r->cases[i];
        r->passed += c->outcome == RUN_PASSED;
        r->failed += c->outcome == RUN_FAILED;
        r->skipped += c->outcome == RUN_SKIPPED;
        r->errors += c->outcome == RUN_ERROR;
        r->interrupted = r->interrupted || c->interrupted;
        r->gaps += c->gaps;
        for (size_t s = 0; s < c->nsteps; s++)
            r->checks += c->steps[s].checks.count;
    }
}

size_t run_results_cut_count(const struct run_results *r)
{
    size_t cut = 0;
    for (size_t i = 0; i < r->count; i++)
        cut += r->cases[i].interrupted;
    return cut;
}

void run_results_finish(struct run_results *r)
{
    for (size_t i = 0; i < r->count; i++) {
        struct run_case_result *c = &r->cases[i];
        free(c->name);
        free(c->file);
        for (size_t t = 0; t < c->ntags; t++)
            free(c->tags[t]);
        free(c->tags);
        free(c->message);
        for (size_t s = 0; s < c->nsteps; s++)
            step_result_finish(&c->steps[s]);
        free(c->steps);
    }
    free(r->cases);
    free(r->run_id);
    free(r->base_url);
    for (size_t i = 0; i < r->ncassettes; i++) {
        free(r->cassettes[i].path);
        free(r->cassettes[i].spec_sha256);
    }
    free(r->cassettes);
    free(r->cassette_mode);
    free(r->spec_sha256);
    free(r->spec_title);
    free(r->spec_version);
    free(r->spec_hash);
    for (size_t i = 0; i < r->nrenamed; i++) {
        free(r->renamed[i].declared_id);
        free(r->renamed[i].operation_id);
        free(r->renamed[i].method);
        free(r->renamed[i].path);
    }
    free(r->renamed);
    memset(r, 0, sizeof(*r));
}
