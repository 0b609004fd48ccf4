/* coverage.html: one self-contained page (inline CSS, no script, a CSP
 * forbidding any load), readable without a server or network. */
#include "coverage/internal.h"

#include <stdio.h>
#include <string.h>

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;"
    "padding:0 1em;color:#1b1f24}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em}h4{margin:.8em 0 .3em}"
    "code{font:12px ui-monospace,monospace}.meta{color:#57606a}"
    "table{border-collapse:collapse;margin:.4em 0}"
    "th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:left;vertical-align:top}"
    "th{background:#f6f8fa}td.num,th.num{text-align:right}"
    ".full{background:#dafbe1}.part{background:#fff8c5}.none{background:#ffebe9}"
    ".na{color:#8c959f}"
    ".bar{width:160px;height:10px;background:#ffebe9;border:1px solid #d0d7de}"
    ".bar span{display:block;height:100%;background:#2da44e}"
    "details{border:1px solid #d0d7de;border-radius:4px;margin:.3em 0;padding:.2em .6em}"
    "summary{cursor:pointer}"
    ".chip{display:inline-block;margin:1px 3px 1px 0;padding:0 5px;border-radius:3px;"
    "font:12px ui-monospace,monospace}"
    ".hit{background:#dafbe1}.miss{background:#ffebe9}.amb{background:#fff8c5}"
    ".line{color:#8c959f;font-size:11px}";

static void esc(struct cov_out *o, const char *s)
{
    char buf[256];
    size_t n = 0;
    for (; s && *s; s++) {
        const char *rep = *s == '&'    ? "&amp;"
                          : *s == '<'  ? "&lt;"
                          : *s == '>'  ? "&gt;"
                          : *s == '"'  ? "&quot;"
                          : *s == '\'' ? "&#39;"
                                       : NULL;
        size_t need = rep ? strlen(rep) : 1;
        if (n + need + 1 > sizeof(buf)) {
            buf[n] = '\0';
            cov_puts(o, buf);
            n = 0;
        }
        if (rep) {
            memcpy(buf + n, rep, need);
            n += need;
        } else {
            buf[n++] = *s;
        }
    }
    buf[n] = '\0';
    cov_puts(o, buf);
}

static const char *level(struct coverage_count c)
{
    return !c.total ? "na" : c.covered == c.total ? "full" : c.covered ? "part" : "none";
}

static void count_cell(struct cov_out *o, struct coverage_count c)
{
    if (!c.total)
        cov_puts(o, "<td class=\"na\">&ndash;</td>");
    else
        cov_printf(o, "<td class=\"%s\">%zu/%zu <small>%.1f%%</small></td>", level(c), c.covered,
                   c.total, coverage_percent(c));
}

static void line_ref(struct cov_out *o, int line)
{
    if (line > 0)
        cov_printf(o, " <span class=\"line\">line %d</span>", line);
}

static void chip(struct cov_out *o, uint64_t count, const char *label, int line)
{
    cov_printf(o, "<span class=\"chip %s\">", count ? "hit" : "miss");
    esc(o, label);
    cov_printf(o, " &times;%llu", (unsigned long long)count);
    line_ref(o, line);
    cov_puts(o, "</span>");
}

static void totals_table(struct cov_out *o, const struct coverage_totals *t)
{
    cov_puts(o, "<h2>Totals</h2>\n<table class=\"totals\"><tr><th>dimension</th>"
                "<th class=\"num\">covered</th><th class=\"num\">total</th>"
                "<th class=\"num\">%</th><th></th></tr>\n");
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++) {
        double p = coverage_percent(t->dim[d]);
        cov_printf(o,
                   "<tr class=\"%s\"><td>%s</td><td class=\"num\">%zu</td><td class=\"num\">%zu"
                   "</td><td class=\"num\">%.1f</td><td><div class=\"bar\"><span "
                   "style=\"width:%.0f%%\"></span></div></td></tr>\n",
                   level(t->dim[d]), coverage_dimension_name((enum coverage_dimension)d),
                   t->dim[d].covered, t->dim[d].total, p, p);
    }
    cov_puts(o, "</table>\n");
}

static void matrix(struct cov_out *o, const struct coverage *cov, const struct coverage_totals *t)
{
    const struct coverage_context *ctx = cov->ctx;
    cov_puts(o, "<h2>Operations &times; dimensions</h2>\n<table class=\"matrix\" id=\"matrix\">"
                "<thead><tr><th>operation</th><th>request</th><th class=\"num\">calls</th>");
    for (int d = COVERAGE_STATUSES; d < COVERAGE_NDIMENSIONS; d++)
        cov_printf(o, "<th>%s</th>", coverage_dimension_name((enum coverage_dimension)d));
    cov_puts(o, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < ctx->nops; i++) {
        const struct cov_op *op = &ctx->ops[i];
        struct coverage_count c[COVERAGE_NDIMENSIONS];
        cov_op_counts(cov, op, c);
        cov_printf(o, "<tr class=\"op\"><td class=\"%s\"><a href=\"#op-", level(c[0]));
        esc(o, op->op->operation_id);
        cov_puts(o, "\">");
        esc(o, op->op->operation_id);
        cov_printf(o, "</a></td><td><code>%s ", op->op->method_upper);
        esc(o, op->op->path);
        cov_printf(o, "</code></td><td class=\"num\">%llu</td>",
                   (unsigned long long)cov->counts[op->c]);
        for (int d = COVERAGE_STATUSES; d < COVERAGE_NDIMENSIONS; d++)
            count_cell(o, c[d]);
        cov_puts(o, "</tr>\n");
    }
    cov_puts(o, "</tbody>\n<tfoot><tr><th>total</th>");
    cov_printf(o, "<th>%zu/%zu operations</th><th class=\"num\">%llu</th>",
               t->dim[COVERAGE_OPERATIONS].covered, t->dim[COVERAGE_OPERATIONS].total,
               (unsigned long long)t->exchanges);
    for (int d = COVERAGE_STATUSES; d < COVERAGE_NDIMENSIONS; d++)
        count_cell(o, t->dim[d]);
    cov_puts(o, "</tr></tfoot></table>\n");
}

static void gap_rows(struct cov_out *o, const struct coverage *cov, const struct cov_gaps *g)
{
    for (size_t i = 0; i < g->n; i++) {
        const struct cov_gap *gap = &g->items[i];
        cov_puts(o, "<tr><td>");
        if (gap->op != SIZE_MAX) {
            const struct openapi_operation *op = cov->ctx->ops[gap->op].op;
            esc(o, op->operation_id);
            cov_printf(o, "</td><td><code>%s ", op->method_upper);
            esc(o, op->path);
        } else {
            cov_puts(o, "&ndash;</td><td><code>");
            esc(o, gap->method);
            cov_puts(o, " ");
            esc(o, gap->path);
        }
        cov_printf(o, "</code></td><td class=\"num\">%d</td><td class=\"num\">%llu</td><td>",
                   gap->status, (unsigned long long)gap->count);
        for (size_t k = 0; k < gap->nexamples; k++) {
            cov_puts(o, k ? "<br><code>" : "<code>");
            esc(o, gap->examples[k].request);
            cov_puts(o, "</code>");
            if (gap->examples[k].source) {
                cov_puts(o, " <span class=\"line\">");
                esc(o, gap->examples[k].source);
                cov_puts(o, "</span>");
            }
        }
        cov_puts(o, "</td></tr>\n");
    }
}

static void gaps(struct cov_out *o, const struct coverage *cov, const struct coverage_totals *t)
{
    static const char head[] = "<table class=\"gaps\"><tr><th>operation</th><th>request</th>"
                               "<th class=\"num\">status</th><th class=\"num\">count</th>"
                               "<th>requests that provoked it</th></tr>\n";
    cov_printf(o,
               "<h2 id=\"gaps\">Spec gaps</h2>\n<p>%zu undocumented statuses seen, in %llu "
               "responses.</p>\n",
               t->gaps, (unsigned long long)t->gap_count);
    if (cov->gaps.n) {
        cov_puts(o, head);
        gap_rows(o, cov, &cov->gaps);
        cov_puts(o, "</table>\n");
    }
    if (cov->unmatched.n) {
        cov_printf(o,
                   "<h2>Requests outside the spec</h2>\n<p>%llu requests matched no "
                   "operation.</p>\n",
                   (unsigned long long)t->unmatched);
        cov_puts(o, head);
        gap_rows(o, cov, &cov->unmatched);
        cov_puts(o, "</table>\n");
    }
}

static void op_unions(struct cov_out *o, const struct coverage *cov, const struct cov_op *op)
{
    const uint64_t *k = cov->counts;
    cov_puts(o, "<h4>Request-body unions</h4>\n<ul>\n");
    for (size_t i = 0; i < op->nunions; i++) {
        const struct cov_union *u = &op->unions[i];
        cov_puts(o, "<li><code>");
        esc(o, *u->path ? u->path : "(body)");
        cov_printf(o, "</code> %s of <code>", u->keyword);
        esc(o, u->pointer);
        cov_puts(o, "</code>");
        line_ref(o, u->line);
        cov_printf(o, ": %llu values", (unsigned long long)k[u->c_values]);
        if (u->selector) {
            cov_puts(o, ", ");
            cov_printf(o, "%llu picked by <code>", (unsigned long long)k[u->c_selected]);
            esc(o, u->selector);
            cov_puts(o, "</code>");
        }
        cov_printf(o, ", %llu ambiguous, %llu matching no branch<br>\n",
                   (unsigned long long)k[u->c_ambiguous], (unsigned long long)k[u->c_unmatched]);
        for (size_t b = 0; b < u->n; b++) {
            const struct cov_branch *br = &u->branches[b];
            bool only_amb = k[br->c] && k[br->c] == k[br->c_ambiguous];
            cov_printf(o, "<span class=\"chip %s\">", only_amb ? "amb" : k[br->c] ? "hit" : "miss");
            esc(o, br->name);
            cov_printf(o, " &times;%llu", (unsigned long long)k[br->c]);
            if (k[br->c_ambiguous])
                cov_printf(o, " (%llu ambiguous)", (unsigned long long)k[br->c_ambiguous]);
            line_ref(o, br->line);
            cov_puts(o, "</span>");
        }
        cov_puts(o, "</li>\n");
    }
    cov_puts(o, "</ul>\n");
}

static void op_details(struct cov_out *o, const struct coverage *cov, const struct cov_op *op)
{
    const uint64_t *k = cov->counts;
    struct coverage_count c[COVERAGE_NDIMENSIONS];
    cov_op_counts(cov, op, c);
    cov_puts(o, "<details class=\"op\" id=\"op-");
    esc(o, op->op->operation_id);
    cov_printf(o, "\"><summary><code>%s ", op->op->method_upper);
    esc(o, op->op->path);
    cov_puts(o, "</code> <b>");
    esc(o, op->op->operation_id);
    cov_printf(o, "</b>: %llu calls", (unsigned long long)k[op->c]);
    for (int d = COVERAGE_STATUSES; d < COVERAGE_NDIMENSIONS; d++)
        if (c[d].total)
            cov_printf(o, ", %s %zu/%zu", coverage_dimension_name((enum coverage_dimension)d),
                       c[d].covered, c[d].total);
    line_ref(o, op->line);
    cov_puts(o, "</summary>\n<h4>Statuses</h4>\n<p>");
    for (size_t i = 0; i < op->nstatuses; i++)
        chip(o, k[op->statuses[i].c], op->statuses[i].r->status, op->statuses[i].line);
    for (size_t i = 0; i < cov->gaps.n; i++) {
        const struct cov_gap *g = &cov->gaps.items[i];
        if (g->op == op->op->index)
            cov_printf(o, "<span class=\"chip amb\">%d undocumented &times;%llu</span>", g->status,
                       (unsigned long long)g->count);
    }
    cov_puts(o, "</p>\n");
    if (op->nparams) {
        cov_puts(o, "<h4>Parameters</h4>\n<p>");
        for (size_t i = 0; i < op->nparams; i++) {
            char label[300];
            snprintf(label, sizeof(label), "%s (%s)", op->params[i].p->name,
                     cov_where_name(op->params[i].where));
            chip(o, k[op->params[i].c], label, op->params[i].line);
        }
        cov_puts(o, "</p>\n");
    }
    if (op->nenums) {
        cov_puts(o, "<h4>Enum values</h4>\n<table>\n");
        for (size_t i = 0; i < op->nenums; i++) {
            const struct cov_enum *e = &op->enums[i];
            cov_printf(o, "<tr><td>%s <code>", cov_where_name(e->where));
            esc(o, *e->name ? e->name : "(body)");
            cov_puts(o, "</code></td><td>");
            for (size_t v = 0; v < e->n; v++)
                chip(o, k[e->values[v].c], e->values[v].value, e->values[v].line);
            cov_puts(o, "</td></tr>\n");
        }
        cov_puts(o, "</table>\n");
    }
    if (op->nunions)
        op_unions(o, cov, op);
    for (size_t i = 0; i < op->nstatuses; i++) {
        const struct cov_status *s = &op->statuses[i];
        if (!s->nprops)
            continue;
        size_t seen = 0;
        for (size_t p = 0; p < s->nprops; p++)
            seen += k[s->props[p].c] > 0;
        cov_printf(o, "<h4>Response %s properties: %zu of %zu observed</h4>\n<p>", s->r->status,
                   seen, s->nprops);
        for (size_t p = 0; p < s->nprops; p++)
            chip(o, k[s->props[p].c], s->props[p].path, s->props[p].line);
        cov_puts(o, "</p>\n");
    }
    cov_puts(o, "</details>\n");
}

int coverage_html(const struct coverage *cov, struct util_buf *b)
{
    const struct coverage_context *ctx = cov->ctx;
    struct cov_out o = {b, UTIL_OK};
    struct coverage_totals t;
    coverage_totals(cov, &t);
    cov_puts(&o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "style-src 'unsafe-inline'\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>API coverage: ");
    esc(&o, openapi_title(ctx->spec));
    cov_puts(&o, "</title>\n<style>");
    cov_puts(&o, style);
    cov_puts(&o, "</style>\n</head>\n<body>\n<h1>API coverage: ");
    esc(&o, openapi_title(ctx->spec));
    cov_puts(&o, " ");
    esc(&o, openapi_version(ctx->spec));
    cov_puts(&o, "</h1>\n<p class=\"meta\">Spec <code>");
    esc(&o, ctx->spec_path);
    cov_printf(&o,
               "</code> (sha256 <code>%.12s</code>); %llu exchanges, %llu without a response, "
               "%llu outside the spec, %llu union values matching several branches.</p>\n",
               openapi_sha256(ctx->spec), (unsigned long long)t.exchanges,
               (unsigned long long)t.no_response, (unsigned long long)t.unmatched,
               (unsigned long long)t.ambiguous);
    totals_table(&o, &t);
    matrix(&o, cov, &t);
    gaps(&o, cov, &t);
    cov_puts(&o, "<h2>Operations</h2>\n");
    for (size_t i = 0; i < ctx->nops; i++)
        op_details(&o, cov, &ctx->ops[i]);
    cov_puts(&o, "</body>\n</html>\n");
    return o.rc;
}
