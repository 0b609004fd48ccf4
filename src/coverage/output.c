/* Outputs of a coverage model other than HTML: coverage.json, coverage.md,
 * the lcov tracefile, writing them all; and the gates. */
#include "coverage/internal.h"

#include "util/file.h"
#include "json/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Entries of a list printed in coverage.md before "and N more". */
#define MD_LIST_MAX 10

static const char *const dimension_names[COVERAGE_NDIMENSIONS] = {
    "operations", "statuses", "parameters", "enums", "branches", "properties",
};

const char *coverage_dimension_name(enum coverage_dimension d)
{
    return (unsigned)d < COVERAGE_NDIMENSIONS ? dimension_names[d] : "spec-gap";
}

int coverage_dimension_parse(const char *s, size_t len)
{
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++)
        if (strlen(dimension_names[d]) == len && strncmp(dimension_names[d], s, len) == 0)
            return d;
    return -1;
}

double coverage_percent(struct coverage_count c)
{
    return c.total ? 100.0 * (double)c.covered / (double)c.total : 100.0;
}

/* ---- coverage.json ---- */

/* Tracks allocation failures while a tree is built. */
struct jb {
    bool ok;
};

static cJSON *jb_check(struct jb *j, cJSON *item)
{
    if (!item)
        j->ok = false;
    return item;
}

static void jb_num(struct jb *j, cJSON *o, const char *k, double v)
{
    jb_check(j, cJSON_AddNumberToObject(o, k, v));
}

static void jb_str(struct jb *j, cJSON *o, const char *k, const char *v)
{
    jb_check(j, v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k));
}

static cJSON *jb_push(struct jb *j, cJSON *arr)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        j->ok = false;
        return NULL;
    }
    return o;
}

/* Pushes {key: value, "line", "count"} to arr (value NULL: no key). */
static cJSON *jb_counted(struct jb *j, cJSON *arr, const char *key, const char *value, int line,
                         uint64_t count)
{
    cJSON *o = jb_push(j, arr);
    if (value)
        jb_str(j, o, key, value);
    jb_num(j, o, "line", line);
    jb_num(j, o, "count", (double)count);
    return o;
}

static double round2(double v)
{
    return floor(v * 100.0 + 0.5) / 100.0;
}

static void jb_counts(struct jb *j, cJSON *parent, const char *key,
                      const struct coverage_count c[COVERAGE_NDIMENSIONS])
{
    cJSON *o = jb_check(j, cJSON_AddObjectToObject(parent, key));
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++) {
        cJSON *e = jb_check(j, cJSON_AddObjectToObject(o, dimension_names[d]));
        jb_num(j, e, "covered", (double)c[d].covered);
        jb_num(j, e, "total", (double)c[d].total);
        jb_num(j, e, "percent", round2(coverage_percent(c[d])));
    }
}

static void op_json(struct jb *j, const struct coverage *cov, const struct cov_op *o, cJSON *arr)
{
    const uint64_t *k = cov->counts;
    cJSON *e = jb_push(j, arr);
    struct coverage_count c[COVERAGE_NDIMENSIONS];
    cov_op_counts(cov, o, c);
    jb_str(j, e, "operationId", o->op->operation_id);
    jb_str(j, e, "method", o->op->method_upper);
    jb_str(j, e, "path", o->op->path);
    jb_num(j, e, "line", o->line);
    jb_num(j, e, "calls", (double)k[o->c]);
    jb_counts(j, e, "totals", c);
    cJSON *st = jb_check(j, cJSON_AddArrayToObject(e, "statuses"));
    cJSON *rs = jb_check(j, cJSON_AddArrayToObject(e, "responses"));
    for (size_t i = 0; i < o->nstatuses; i++) {
        const struct cov_status *s = &o->statuses[i];
        jb_counted(j, st, "status", s->r->status, s->line, k[s->c]);
        cJSON *r = jb_push(j, rs);
        jb_str(j, r, "status", s->r->status);
        cJSON *props = jb_check(j, cJSON_AddArrayToObject(r, "properties"));
        for (size_t p = 0; p < s->nprops; p++)
            jb_counted(j, props, "path", s->props[p].path, s->props[p].line, k[s->props[p].c]);
    }
    cJSON *ps = jb_check(j, cJSON_AddArrayToObject(e, "parameters"));
    for (size_t i = 0; i < o->nparams; i++) {
        const struct cov_param *p = &o->params[i];
        jb_str(j, jb_counted(j, ps, "name", p->p->name, p->line, k[p->c]), "in",
               cov_where_name(p->where));
    }
    cJSON *es = jb_check(j, cJSON_AddArrayToObject(e, "enums"));
    for (size_t i = 0; i < o->nenums; i++) {
        const struct cov_enum *en = &o->enums[i];
        cJSON *x = jb_push(j, es);
        jb_str(j, x, "in", cov_where_name(en->where));
        jb_str(j, x, "name", en->name);
        cJSON *vs = jb_check(j, cJSON_AddArrayToObject(x, "values"));
        for (size_t v = 0; v < en->n; v++) {
            const struct cov_value *cv = &en->values[v];
            cJSON *y = jb_counted(j, vs, NULL, NULL, cv->line, k[cv->c]);
            cJSON *val = cv->is_string ? cJSON_CreateString(cv->value) : cJSON_Parse(cv->value);
            if (!val || !cJSON_AddItemToObject(y, "value", val)) {
                cJSON_Delete(val);
                j->ok = false;
            }
        }
    }
    cJSON *us = jb_check(j, cJSON_AddArrayToObject(e, "unions"));
    for (size_t i = 0; i < o->nunions; i++) {
        const struct cov_union *u = &o->unions[i];
        cJSON *x = jb_push(j, us);
        jb_str(j, x, "path", u->path);
        jb_str(j, x, "location", u->pointer);
        jb_str(j, x, "keyword", u->keyword);
        jb_num(j, x, "line", u->line);
        jb_str(j, x, "selector", u->selector);
        jb_num(j, x, "values", (double)k[u->c_values]);
        jb_num(j, x, "selected", (double)k[u->c_selected]);
        jb_num(j, x, "ambiguous", (double)k[u->c_ambiguous]);
        jb_num(j, x, "unmatched", (double)k[u->c_unmatched]);
        cJSON *bs = jb_check(j, cJSON_AddArrayToObject(x, "branches"));
        for (size_t b = 0; b < u->n; b++) {
            const struct cov_branch *br = &u->branches[b];
            cJSON *y = jb_counted(j, bs, "name", br->name, br->line, k[br->c]);
            jb_str(j, y, "location", br->pointer);
            jb_num(j, y, "ambiguous", (double)k[br->c_ambiguous]);
        }
    }
}

static void gaps_json(struct jb *j, const struct coverage *cov, const struct cov_gaps *g,
                      cJSON *arr)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct cov_gap *gap = &g->items[i];
        cJSON *e = jb_push(j, arr);
        if (gap->op != SIZE_MAX) {
            const struct openapi_operation *op = cov->ctx->ops[gap->op].op;
            jb_str(j, e, "operationId", op->operation_id);
            jb_str(j, e, "method", op->method_upper);
            jb_str(j, e, "path", op->path);
        } else {
            jb_str(j, e, "method", gap->method);
            jb_str(j, e, "path", gap->path);
        }
        jb_num(j, e, "status", gap->status);
        jb_num(j, e, "count", (double)gap->count);
        cJSON *reqs = jb_check(j, cJSON_AddArrayToObject(e, "requests"));
        for (size_t k = 0; k < gap->nexamples; k++) {
            cJSON *r = jb_push(j, reqs);
            jb_str(j, r, "request", gap->examples[k].request);
            jb_str(j, r, "source", gap->examples[k].source);
        }
    }
}

int coverage_json(const struct coverage *cov, cJSON **out, struct util_error *err)
{
    const struct coverage_context *ctx = cov->ctx;
    struct jb j = {true};
    struct coverage_totals t;
    cJSON *doc = jb_check(&j, cJSON_CreateObject());
    coverage_totals(cov, &t);
    jb_num(&j, doc, "format", COVERAGE_FORMAT_VERSION);
    cJSON *spec = jb_check(&j, cJSON_AddObjectToObject(doc, "spec"));
    jb_str(&j, spec, "title", openapi_title(ctx->spec));
    jb_str(&j, spec, "version", openapi_version(ctx->spec));
    jb_str(&j, spec, "sha256", openapi_sha256(ctx->spec));
    jb_str(&j, spec, "source", ctx->spec_path);
    jb_counts(&j, doc, "totals", t.dim);
    cJSON *tot = cJSON_GetObjectItemCaseSensitive(doc, "totals");
    jb_num(&j, tot, "gaps", (double)t.gaps);
    jb_num(&j, tot, "gap_responses", (double)t.gap_count);
    jb_num(&j, tot, "exchanges", (double)t.exchanges);
    jb_num(&j, tot, "unmatched", (double)t.unmatched);
    jb_num(&j, tot, "no_response", (double)t.no_response);
    jb_num(&j, tot, "ambiguous", (double)t.ambiguous);
    cJSON *ops = jb_check(&j, cJSON_AddArrayToObject(doc, "operations"));
    for (size_t i = 0; i < ctx->nops; i++)
        op_json(&j, cov, &ctx->ops[i], ops);
    gaps_json(&j, cov, &cov->gaps, jb_check(&j, cJSON_AddArrayToObject(doc, "gaps")));
    gaps_json(&j, cov, &cov->unmatched, jb_check(&j, cJSON_AddArrayToObject(doc, "unmatched")));
    jb_num(&j, doc, "dropped_gaps", (double)cov->gaps.dropped);
    jb_num(&j, doc, "dropped_unmatched", (double)cov->unmatched.dropped);
    if (!j.ok) {
        cJSON_Delete(doc);
        *out = NULL;
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    *out = doc;
    return UTIL_OK;
}

/* ---- coverage.md ---- */

void cov_printf(struct cov_out *o, const char *fmt, ...)
{
    va_list ap;
    if (o->rc)
        return;
    va_start(ap, fmt);
    o->rc = util_buf_vprintf(o->b, fmt, ap);
    va_end(ap);
}

void cov_puts(struct cov_out *o, const char *s)
{
    if (!o->rc)
        o->rc = util_buf_puts(o->b, s);
}

static void md_cut(struct cov_out *o, size_t shown, size_t total)
{
    if (total > shown)
        cov_printf(o, ", and %zu more", total - shown);
    cov_puts(o, "\n");
}

int coverage_markdown(const struct coverage *cov, struct util_buf *b)
{
    const struct coverage_context *ctx = cov->ctx;
    struct cov_out o = {b, UTIL_OK};
    struct coverage_totals t;
    coverage_totals(cov, &t);
    cov_printf(&o, "## API coverage: %s %s\n\n", openapi_title(ctx->spec),
               openapi_version(ctx->spec));
    cov_puts(&o, "| dimension | covered | total | % |\n| --- | ---: | ---: | ---: |\n");
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++)
        cov_printf(&o, "| %s | %zu | %zu | %.1f |\n", dimension_names[d], t.dim[d].covered,
                   t.dim[d].total, coverage_percent(t.dim[d]));
    cov_printf(&o,
               "\n%llu exchanges; %llu requests outside the spec; %llu union values matching "
               "several branches.\n",
               (unsigned long long)t.exchanges, (unsigned long long)t.unmatched,
               (unsigned long long)t.ambiguous);
    size_t n = 0, shown = 0;
    for (size_t i = 0; i < ctx->nops; i++)
        n += cov->counts[ctx->ops[i].c] == 0;
    if (n) {
        cov_puts(&o, "\n**Operations never called:** ");
        for (size_t i = 0; i < ctx->nops && shown < MD_LIST_MAX; i++)
            if (!cov->counts[ctx->ops[i].c])
                cov_printf(&o, "%s`%s`", shown++ ? ", " : "", ctx->ops[i].op->operation_id);
        md_cut(&o, shown, n);
    }
    n = shown = 0;
    for (size_t i = 0; i < ctx->nops; i++)
        for (size_t s = 0; s < ctx->ops[i].nstatuses; s++)
            n += cov->counts[ctx->ops[i].statuses[s].c] == 0;
    if (n) {
        cov_puts(&o, "\n**Documented statuses never seen:** ");
        for (size_t i = 0; i < ctx->nops; i++)
            for (size_t s = 0; s < ctx->ops[i].nstatuses && shown < MD_LIST_MAX; s++)
                if (!cov->counts[ctx->ops[i].statuses[s].c])
                    cov_printf(&o, "%s`%s` %s", shown++ ? ", " : "", ctx->ops[i].op->operation_id,
                               ctx->ops[i].statuses[s].r->status);
        md_cut(&o, shown, n);
    }
    if (cov->gaps.n) {
        cov_printf(&o, "\n**Spec gaps:** %zu undocumented statuses seen (%llu responses): ", t.gaps,
                   (unsigned long long)t.gap_count);
        for (shown = 0; shown < cov->gaps.n && shown < MD_LIST_MAX; shown++) {
            const struct cov_gap *g = &cov->gaps.items[shown];
            cov_printf(&o, "%s`%s` %d (%llu)", shown ? ", " : "", ctx->ops[g->op].op->operation_id,
                       g->status, (unsigned long long)g->count);
        }
        md_cut(&o, shown, cov->gaps.n);
    }
    cov_puts(&o, "\nDetails: `coverage.html`, `coverage.json`, `api-coverage.info`.\n");
    return o.rc;
}

/* ---- lcov ---- */

struct line_count {
    int line;
    uint64_t count;
};

static int cmp_line(const void *a, const void *b)
{
    const struct line_count *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

struct lines {
    struct line_count *items;
    size_t n, alloc;
};

static int lines_add(struct lines *l, int line, uint64_t count)
{
    if (line <= 0)
        return UTIL_OK;
    if (l->n == l->alloc) {
        size_t na = l->alloc ? l->alloc * 2 : 256;
        struct line_count *ni = realloc(l->items, na * sizeof(*ni));
        if (!ni)
            return UTIL_ERR_NOMEM;
        l->items = ni;
        l->alloc = na;
    }
    l->items[l->n++] = (struct line_count){line, count};
    return UTIL_OK;
}

/* Sorts by line and sums the counts of equal lines. */
static void lines_merge(struct lines *l)
{
    size_t o = 0;
    qsort(l->items, l->n, sizeof(*l->items), cmp_line);
    for (size_t i = 0; i < l->n; i++) {
        if (o && l->items[o - 1].line == l->items[i].line)
            l->items[o - 1].count += l->items[i].count;
        else
            l->items[o++] = l->items[i];
    }
    l->n = o;
}

/* Appends the BRDA records: one block per union line, counts summed over
 * the operations sharing the union. */
static int lcov_branches(const struct coverage *cov, struct util_buf *b, size_t *brf, size_t *brh)
{
    const struct coverage_context *ctx = cov->ctx;
    struct lines seen = {0};
    int rc = UTIL_OK;
    for (size_t i = 0; i < ctx->nops && !rc; i++)
        for (size_t u = 0; u < ctx->ops[i].nunions && !rc; u++)
            rc = lines_add(&seen, ctx->ops[i].unions[u].line, 0);
    lines_merge(&seen);
    for (size_t l = 0; l < seen.n && !rc; l++) {
        const struct cov_union *first = NULL;
        uint64_t values = 0, taken[64] = {0};
        for (size_t i = 0; i < ctx->nops; i++) {
            for (size_t u = 0; u < ctx->ops[i].nunions; u++) {
                const struct cov_union *un = &ctx->ops[i].unions[u];
                if (un->line != seen.items[l].line)
                    continue;
                first = first ? first : un;
                values += cov->counts[un->c_values];
                for (size_t k = 0; k < un->n && k < 64; k++)
                    taken[k] += cov->counts[un->branches[k].c];
            }
        }
        for (size_t k = 0; first && k < first->n && k < 64 && !rc; k++) {
            if (values)
                rc = util_buf_printf(b, "BRDA:%d,0,%zu,%llu\n", first->line, k,
                                     (unsigned long long)taken[k]);
            else
                rc = util_buf_printf(b, "BRDA:%d,0,%zu,-\n", first->line, k);
            (*brf)++;
            *brh += taken[k] > 0;
        }
    }
    free(seen.items);
    return rc;
}

int coverage_lcov(const struct coverage *cov, struct util_buf *b)
{
    const struct coverage_context *ctx = cov->ctx;
    const uint64_t *k = cov->counts;
    struct lines da = {0};
    size_t fnh = 0, brf = 0, brh = 0, lh = 0;
    int rc = util_buf_printf(b, "TN:api_coverage\nSF:%s\n", ctx->spec_path);
    for (size_t i = 0; i < ctx->nops && !rc; i++)
        rc = util_buf_printf(b, "FN:%d,%s\n", ctx->ops[i].line, ctx->ops[i].op->operation_id);
    for (size_t i = 0; i < ctx->nops && !rc; i++) {
        rc = util_buf_printf(b, "FNDA:%llu,%s\n", (unsigned long long)k[ctx->ops[i].c],
                             ctx->ops[i].op->operation_id);
        fnh += k[ctx->ops[i].c] > 0;
    }
    if (!rc)
        rc = util_buf_printf(b, "FNF:%zu\nFNH:%zu\n", ctx->nops, fnh);
    if (!rc)
        rc = lcov_branches(cov, b, &brf, &brh);
    if (!rc)
        rc = util_buf_printf(b, "BRF:%zu\nBRH:%zu\n", brf, brh);
    for (size_t i = 0; i < ctx->nops && !rc; i++) {
        const struct cov_op *o = &ctx->ops[i];
        rc = lines_add(&da, o->line, k[o->c]);
        for (size_t s = 0; s < o->nstatuses && !rc; s++)
            rc = lines_add(&da, o->statuses[s].line, k[o->statuses[s].c]);
        for (size_t p = 0; p < o->nparams && !rc; p++)
            rc = lines_add(&da, o->params[p].line, k[o->params[p].c]);
        for (size_t e = 0; e < o->nenums && !rc; e++)
            for (size_t v = 0; v < o->enums[e].n && !rc; v++)
                rc = lines_add(&da, o->enums[e].values[v].line, k[o->enums[e].values[v].c]);
    }
    if (!rc) {
        lines_merge(&da);
        for (size_t i = 0; i < da.n && !rc; i++) {
            rc = util_buf_printf(b, "DA:%d,%llu\n", da.items[i].line,
                                 (unsigned long long)da.items[i].count);
            lh += da.items[i].count > 0;
        }
    }
    if (!rc)
        rc = util_buf_printf(b, "LF:%zu\nLH:%zu\nend_of_record\n", da.n, lh);
    free(da.items);
    return rc;
}

/* ---- writing ---- */

static int write_buf(const char *dir, const char *name, const struct util_buf *b,
                     struct util_error *err)
{
    char *path = util_path_join(dir, name);
    int rc = path ? util_file_write_atomic(path, b->data ? b->data : "", b->len, err)
                  : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    free(path);
    return rc;
}

int coverage_write(const char *dir, const struct coverage *cov, struct util_error *err)
{
    struct util_buf b;
    cJSON *doc = NULL;
    char *text = NULL;
    int rc;
    util_buf_init(&b, COVERAGE_CAP_OUTPUT);
    if ((rc = util_mkdir_p(dir, err)) || (rc = coverage_json(cov, &doc, err)))
        goto cleanup;
    if (!(text = json_print(doc, true)) || util_buf_puts(&b, text) || util_buf_putc(&b, '\n')) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = write_buf(dir, "coverage.json", &b, err)))
        goto cleanup;
    static const struct {
        const char *name;
        int (*fn)(const struct coverage *, struct util_buf *);
    } outputs[] = {
        {"coverage.html", coverage_html},
        {"coverage.md", coverage_markdown},
        {"api-coverage.info", coverage_lcov},
    };
    for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
        util_buf_reset(&b);
        if ((rc = outputs[i].fn(cov, &b))) {
            util_error_set(err, rc, "%s: %s", outputs[i].name, util_status_name(rc));
            goto cleanup;
        }
        if ((rc = write_buf(dir, outputs[i].name, &b, err)))
            goto cleanup;
    }
cleanup:
    free(text);
    cJSON_Delete(doc);
    util_buf_finish(&b);
    return rc;
}

/* ---- gates ---- */

void coverage_gates_init(struct coverage_gates *g)
{
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++)
        g->min[d] = -1;
    g->fail_on_spec_gap = false;
}

/* Parses "87", "87.5" or "87.55" (0 to 100) into hundredths; -1 if bad. */
static int parse_percent(const char *s, size_t len)
{
    int whole = 0, frac = 0;
    size_t i = 0, digits = 0, fdigits = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9' && digits < 4; i++, digits++)
        whole = whole * 10 + (s[i] - '0');
    if (!digits)
        return -1;
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9' && fdigits < 2; i++, fdigits++)
            frac = frac * 10 + (s[i] - '0');
        if (!fdigits)
            return -1;
        if (fdigits == 1)
            frac *= 10;
    }
    if (i != len || whole > 100 || (whole == 100 && frac))
        return -1;
    return whole * 100 + frac;
}

int coverage_gates_parse(const char *text, struct coverage_gates *g, struct util_error *err)
{
    const char *p = text;
    if (!*p)
        return util_error_set(err, UTIL_ERR_USAGE, "--fail-under: empty (e.g. operations=100)");
    for (;;) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        int d = eq ? coverage_dimension_parse(p, (size_t)(eq - p)) : -1;
        if (d < 0)
            return util_error_set(err, UTIL_ERR_USAGE,
                                  "--fail-under: '%.*s' is not DIMENSION=PERCENT with DIMENSION "
                                  "one of operations, statuses, parameters, enums, branches, "
                                  "properties",
                                  (int)len, p);
        int v = parse_percent(eq + 1, len - (size_t)(eq + 1 - p));
        if (v < 0)
            return util_error_set(err, UTIL_ERR_USAGE,
                                  "--fail-under: '%.*s': the percentage must be 0 to 100 with at "
                                  "most two decimals",
                                  (int)len, p);
        if (g->min[d] >= 0)
            return util_error_set(err, UTIL_ERR_USAGE, "--fail-under: %s given twice",
                                  dimension_names[d]);
        g->min[d] = v;
        if (!p[len])
            break;
        p += len + 1;
    }
    return UTIL_OK;
}

size_t coverage_gates_check(const struct coverage_totals *t, const struct coverage_gates *g,
                            struct coverage_gate_failure *out)
{
    size_t n = 0;
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++) {
        if (g->min[d] < 0)
            continue;
        uint64_t covered = t->dim[d].covered, total = t->dim[d].total;
        uint64_t want = (uint64_t)g->min[d] * total; /* in hundredths of an item */
        if (covered * 10000 >= want)
            continue;
        out[n++] = (struct coverage_gate_failure){
            .dim = (enum coverage_dimension)d,
            .required = g->min[d],
            .actual = coverage_percent(t->dim[d]),
            .covered = (size_t)covered,
            .total = (size_t)total,
            .needed = (size_t)((want + 9999) / 10000 - covered),
        };
    }
    if (g->fail_on_spec_gap && t->gaps)
        out[n++] = (struct coverage_gate_failure){
            .dim = COVERAGE_NDIMENSIONS,
            .covered = 0,
            .total = t->gaps,
            .needed = t->gaps,
        };
    return n;
}
