/* Console text, JUnit XML and results.json; see report.h. */
#include "report/report.h"

#include "run/cassettes.h"
#include "util/file.h"
#include "util/text.h"
#include "json/json.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static const char *label(enum run_outcome o)
{
    switch (o) {
    case RUN_PASSED:
        return "PASS";
    case RUN_FAILED:
        return "FAIL";
    case RUN_SKIPPED:
        return "SKIP";
    case RUN_ERROR:
        return "ERROR";
    }
    return "?";
}

static const char *colour(enum run_outcome o)
{
    return o == RUN_PASSED ? GREEN : o == RUN_SKIPPED ? YELLOW : RED;
}

static const char *str(const char *s)
{
    return s ? s : "?";
}

/* Whether a step of r failed or erred (else a failure of r is its own:
 * vars:, a template blow-up). */
static bool has_failed_step(const struct run_case_result *r)
{
    for (size_t i = 0; i < r->nsteps; i++)
        if (r->steps[i].outcome == RUN_FAILED || r->steps[i].outcome == RUN_ERROR)
            return true;
    return false;
}

static int build_console_case(struct util_buf *b, const struct run_case_result *r,
                              const struct report_console_options *o)
{
    int rc;
    if (o && o->color)
        rc = util_buf_printf(b, "%s%-5s%s %s (%s:%d)", colour(r->outcome), label(r->outcome), RESET,
                             str(r->name), str(r->file), r->line);
    else
        rc = util_buf_printf(b, "%-5s %s (%s:%d)", label(r->outcome), str(r->name), str(r->file),
                             r->line);
    if (!rc && r->gaps)
        rc = util_buf_printf(b, ", %zu spec gap%s", r->gaps, r->gaps == 1 ? "" : "s");
    /* The reason on the case's line when no step says it. */
    if (!rc && r->message && r->outcome != RUN_PASSED &&
        (r->outcome == RUN_SKIPPED || !has_failed_step(r)))
        rc = util_buf_printf(b, ": %s", r->message);
    if (!rc && o && o->timings)
        rc = util_buf_printf(b, " %.0f ms", r->elapsed_ms);
    if (!rc)
        rc = util_buf_putc(b, '\n');
    return rc;
}

static int build_console_failure(struct util_buf *b, const struct run_case_result *r,
                                 const struct report_console_options *o)
{
    int rc = UTIL_OK;
    bool c = o && o->color;
    if (r->outcome == RUN_PASSED || r->outcome == RUN_SKIPPED)
        return UTIL_OK;
    for (size_t i = 0; i < r->nsteps && !rc; i++) {
        const struct run_step_result *s = &r->steps[i];
        if (s->outcome != RUN_FAILED && s->outcome != RUN_ERROR)
            continue;
        rc = util_buf_printf(b, "  %s%s%s '%s'%s%s%s at %s:%d\n", c ? BOLD : "",
                             s->teardown ? "teardown step" : "step", c ? RESET : "", str(s->name),
                             s->operation_id ? " (" : "", s->operation_id ? s->operation_id : "",
                             s->operation_id ? ")" : "", str(r->file), s->line);
        if (!rc && s->method)
            rc = util_buf_printf(b, "    request:  %s %s\n", s->method, str(s->url));
        if (!rc && s->status)
            rc = util_buf_printf(b, "    response: %d%s%s%s\n", s->status,
                                 s->content_type ? " " : "", s->content_type ? s->content_type : "",
                                 s->attempts > 1 ? " (last of several attempts)" : "");
        size_t shown = 0, failed = 0;
        for (size_t k = 0; k < s->checks.count && !rc; k++) {
            const struct check_item *it = &s->checks.items[k];
            if (it->outcome != CHECK_FAIL)
                continue;
            failed++;
            if (shown == REPORT_CAP_CONSOLE_CHECKS)
                continue;
            shown++;
            rc = util_buf_printf(b, "    %s%s%s", c ? RED : "", it->name, c ? RESET : "");
            /* The pointer, unless the message already names it. */
            if (!rc && it->pointer && *it->pointer && !strstr(it->message, it->pointer))
                rc = util_buf_printf(b, " at %s", it->pointer);
            if (!rc)
                rc = util_buf_printf(b, ": %s\n", it->message);
            if (!rc && it->expected)
                rc = util_buf_printf(b, "      expected: %s\n", it->expected);
            if (!rc && it->actual)
                rc = util_buf_printf(b, "      actual:   %s\n", it->actual);
        }
        if (!rc && failed > shown)
            rc = util_buf_printf(b, "    ... and %zu more failed checks (see results.json)\n",
                                 failed - shown);
        if (!rc && !failed && s->message)
            rc = util_buf_printf(b, "    %s\n", s->message);
        if (!rc && failed && s->response_text) {
            rc = util_buf_printf(b, "    body: %.*s%s\n", REPORT_CAP_BODY_QUOTE, s->response_text,
                                 strlen(s->response_text) > REPORT_CAP_BODY_QUOTE ? "..." : "");
        }
    }
    return rc;
}

/* A spec gap seen by a step: its status and operation (or URL). */
struct gap {
    int status;
    const char *op;
};

static int cmp_gap(const void *a, const void *b)
{
    const struct gap *x = a, *y = b;
    if (x->status != y->status)
        return x->status < y->status ? -1 : 1;
    return strcmp(x->op, y->op);
}

/* One line per undocumented status: on how many operations and in how
 * many responses it was seen (each gap is in results.json and
 * coverage.html; o->verbose lists them). */
static int gaps_by_status(struct util_buf *b, const struct run_results *r)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < r->count; i++)
        for (size_t s = 0; s < r->cases[i].nsteps; s++)
            n += check_list_count(&r->cases[i].steps[s].checks, CHECK_GAP);
    if (!n)
        return UTIL_OK;
    struct gap *g = calloc(n, sizeof(*g));
    if (!g)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < r->count; i++)
        for (size_t s = 0; s < r->cases[i].nsteps; s++) {
            const struct run_step_result *st = &r->cases[i].steps[s];
            for (size_t j = 0; j < st->checks.count && k < n; j++)
                if (st->checks.items[j].outcome == CHECK_GAP)
                    g[k++] = (struct gap){st->status,
                                          st->operation_id ? st->operation_id : str(st->url)};
        }
    qsort(g, k, sizeof(*g), cmp_gap);
    int rc = UTIL_OK;
    for (size_t i = 0; i < k && !rc;) {
        size_t j = i, ops = 0;
        for (; j < k && g[j].status == g[i].status; j++)
            ops += j == i || strcmp(g[j].op, g[j - 1].op) != 0;
        rc = util_buf_printf(b,
                             "spec gap: %d undocumented on %zu operation%s (%zu response%s; "
                             "--verbose lists them)\n",
                             g[i].status, ops, ops == 1 ? "" : "s", j - i, j - i == 1 ? "" : "s");
        i = j;
    }
    free(g);
    return rc;
}

static int build_console_summary(struct util_buf *b, const struct run_results *r,
                                 const struct report_console_options *o)
{
    int rc = UTIL_OK;
    bool c = o && o->color;
    for (size_t i = 0; o && o->verbose && i < r->count && !rc; i++) {
        const struct run_case_result *k = &r->cases[i];
        for (size_t s = 0; s < k->nsteps && !rc; s++) {
            const struct run_step_result *st = &k->steps[s];
            for (size_t j = 0; j < st->checks.count && !rc; j++) {
                const struct check_item *it = &st->checks.items[j];
                if (it->outcome == CHECK_GAP)
                    rc = util_buf_printf(b,
                                         "spec gap: %s %s answered %d, not documented for "
                                         "%s (case '%s', %s:%d)\n",
                                         str(st->method), str(st->url), st->status,
                                         str(st->operation_id), str(k->name), str(k->file),
                                         st->line);
            }
        }
    }
    if (!rc && !(o && o->verbose))
        rc = gaps_by_status(b, r);
    if (rc)
        return rc;
    const char *col = !c ? "" : (r->failed || r->errors) ? RED : GREEN;
    rc = util_buf_printf(b, "%s%zu case%s: %zu passed, %zu failed, %zu skipped", col, r->count,
                         r->count == 1 ? "" : "s", r->passed, r->failed, r->skipped);
    if (!rc && r->errors)
        rc = util_buf_printf(b, ", %zu error%s", r->errors, r->errors == 1 ? "" : "s");
    if (!rc)
        rc = util_buf_printf(b, "; %zu checks; %zu spec gap%s", r->checks, r->gaps,
                             r->gaps == 1 ? "" : "s");
    if (!rc && r->retries)
        rc = util_buf_printf(b, "; %zu retr%s after 429/503", r->retries,
                             r->retries == 1 ? "y" : "ies");
    if (!rc && c)
        rc = util_buf_puts(b, RESET);
    if (!rc && o && o->timings)
        rc = util_buf_printf(b, " in %.2f s", r->elapsed_ms / 1000.0);
    if (!rc)
        rc = util_buf_putc(b, '\n');
    return rc;
}

int report_console_progress(struct util_buf *b, size_t done, size_t total, const char *name)
{
    return util_buf_printf(b, "\r\033[K[%zu/%zu] %.60s", done, total, str(name));
}

/* ---- JUnit ---- */

static int xml_escape(struct util_buf *b, const char *s)
{
    int rc = UTIL_OK;
    for (const unsigned char *p = (const unsigned char *)str(s); *p && !rc; p++) {
        switch (*p) {
        case '&':
            rc = util_buf_puts(b, "&amp;");
            break;
        case '<':
            rc = util_buf_puts(b, "&lt;");
            break;
        case '>':
            rc = util_buf_puts(b, "&gt;");
            break;
        case '"':
            rc = util_buf_puts(b, "&quot;");
            break;
        case '\'':
            rc = util_buf_puts(b, "&apos;");
            break;
        default:
            /* XML 1.0 forbids most control characters, even as references. */
            if (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
                rc = util_buf_putc(b, '?');
            else
                rc = util_buf_putc(b, (char)*p);
        }
    }
    return rc;
}

/* The details text of a failed case (plain console form). */
static int failure_text(struct util_buf *b, const struct run_case_result *r)
{
    struct util_buf t;
    struct report_console_options o = {0};
    util_buf_init(&t, REPORT_CAP_SIZE);
    int rc = report_console_failure(&t, r, &o);
    if (!rc)
        rc = xml_escape(b, t.data ? t.data : "");
    util_buf_finish(&t);
    return rc;
}

static const char *first_failed_check(const struct run_case_result *r)
{
    for (size_t s = 0; s < r->nsteps; s++)
        for (size_t i = 0; i < r->steps[s].checks.count; i++)
            if (r->steps[s].checks.items[i].outcome == CHECK_FAIL)
                return r->steps[s].checks.items[i].name;
    return r->outcome == RUN_ERROR ? "transport" : "failure";
}

static int build_junit(struct util_buf *b, const struct run_results *r)
{
    int rc = util_buf_printf(b,
                             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<testsuites name=\"ingestcheck\" tests=\"%zu\" failures=\"%zu\" "
                             "errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
                             r->count, r->failed, r->errors, r->skipped, r->elapsed_ms / 1000.0);
    size_t i = 0;
    while (i < r->count && !rc) {
        /* One testsuite per run of consecutive cases of one file. */
        const char *file = str(r->cases[i].file);
        size_t j = i, failed = 0, errors = 0, skipped = 0;
        double time = 0;
        while (j < r->count && strcmp(str(r->cases[j].file), file) == 0) {
            failed += r->cases[j].outcome == RUN_FAILED;
            errors += r->cases[j].outcome == RUN_ERROR;
            skipped += r->cases[j].outcome == RUN_SKIPPED;
            time += r->cases[j].elapsed_ms;
            j++;
        }
        rc = util_buf_puts(b, "  <testsuite name=\"");
        if (!rc)
            rc = xml_escape(b, file);
        if (!rc)
            rc = util_buf_printf(b,
                                 "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
                                 "skipped=\"%zu\" time=\"%.3f\">\n",
                                 j - i, failed, errors, skipped, time / 1000.0);
        for (; i < j && !rc; i++) {
            const struct run_case_result *k = &r->cases[i];
            rc = util_buf_puts(b, "    <testcase classname=\"");
            if (!rc)
                rc = xml_escape(b, file);
            if (!rc)
                rc = util_buf_puts(b, "\" name=\"");
            if (!rc)
                rc = xml_escape(b, k->name);
            if (!rc)
                rc = util_buf_puts(b, "\" file=\"");
            if (!rc)
                rc = xml_escape(b, file);
            if (!rc)
                rc = util_buf_printf(b, "\" line=\"%d\" time=\"%.3f\"", k->line,
                                     k->elapsed_ms / 1000.0);
            if (rc)
                break;
            if (k->outcome == RUN_PASSED && !k->gaps) {
                rc = util_buf_puts(b, "/>\n");
                continue;
            }
            rc = util_buf_puts(b, ">\n");
            if (!rc && (k->outcome == RUN_FAILED || k->outcome == RUN_ERROR)) {
                const char *tag = k->outcome == RUN_ERROR ? "error" : "failure";
                rc = util_buf_printf(b, "      <%s message=\"", tag);
                if (!rc)
                    rc = xml_escape(b, k->message ? k->message : "failed");
                if (!rc)
                    rc = util_buf_puts(b, "\" type=\"");
                if (!rc)
                    rc = xml_escape(b, first_failed_check(k));
                if (!rc)
                    rc = util_buf_puts(b, "\">");
                if (!rc)
                    rc = failure_text(b, k);
                if (!rc)
                    rc = util_buf_printf(b, "</%s>\n", tag);
            } else if (!rc && k->outcome == RUN_SKIPPED) {
                rc = util_buf_puts(b, "      <skipped message=\"");
                if (!rc)
                    rc = xml_escape(b, k->message ? k->message : "skipped");
                if (!rc)
                    rc = util_buf_puts(b, "\"/>\n");
            }
            if (!rc && k->gaps) {
                rc = util_buf_puts(b, "      <system-out>");
                for (size_t s = 0; s < k->nsteps && !rc; s++)
                    for (size_t c = 0; c < k->steps[s].checks.count && !rc; c++) {
                        const struct check_item *it = &k->steps[s].checks.items[c];
                        if (it->outcome != CHECK_GAP)
                            continue;
                        rc = util_buf_puts(b, "spec gap: ");
                        if (!rc)
                            rc = xml_escape(b, it->message);
                        if (!rc)
                            rc = util_buf_putc(b, '\n');
                    }
                if (!rc)
                    rc = util_buf_puts(b, "</system-out>\n");
            }
            if (!rc)
                rc = util_buf_puts(b, "    </testcase>\n");
        }
        if (!rc)
            rc = util_buf_puts(b, "  </testsuite>\n");
    }
    if (!rc)
        rc = util_buf_puts(b, "</testsuites>\n");
    return rc;
}

/* ---- public builders: what comes from a server may be any bytes, and
 * every report is UTF-8 ---- */

int report_console_case(struct util_buf *b, const struct run_case_result *r,
                        const struct report_console_options *o)
{
    size_t from = b->len;
    int rc = build_console_case(b, r, o);
    return rc ? rc : util_utf8_repair(b, from);
}

int report_console_failure(struct util_buf *b, const struct run_case_result *r,
                           const struct report_console_options *o)
{
    size_t from = b->len;
    int rc = build_console_failure(b, r, o);
    return rc ? rc : util_utf8_repair(b, from);
}

int report_console_summary(struct util_buf *b, const struct run_results *r,
                           const struct report_console_options *o)
{
    size_t from = b->len;
    int rc = build_console_summary(b, r, o);
    return rc ? rc : util_utf8_repair(b, from);
}

int report_junit(struct util_buf *b, const struct run_results *r)
{
    size_t from = b->len;
    int rc = build_junit(b, r);
    return rc ? rc : util_utf8_repair(b, from);
}

/* ---- results.json ---- */

/* The tree is built over the results without copying them: keys are
 * literals, strings and documents are references (valid while the results
 * live); report_results_json hands out a deep copy. */

/* Adds c as o[k] (k a literal); frees c when it cannot. */
static bool add_item(cJSON *o, const char *k, cJSON *c)
{
    if (c && cJSON_AddItemToObjectCS(o, k, c))
        return true;
    cJSON_Delete(c);
    return false;
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
    return add_item(o, k, v ? cJSON_CreateStringReference(v) : cJSON_CreateNull());
}

static bool add_num(cJSON *o, const char *k, double v)
{
    return add_item(o, k, cJSON_CreateNumber(v));
}

/* Adds v's content by reference (NULL: null) as o[k]. */
static bool add_ref(cJSON *o, const char *k, const cJSON *v)
{
    cJSON *c;
    if (!v)
        c = cJSON_CreateNull();
    else if (cJSON_IsObject(v))
        c = cJSON_CreateObjectReference(v->child);
    else if (cJSON_IsArray(v))
        c = cJSON_CreateArrayReference(v->child);
    else
        c = cJSON_Duplicate(v, true);
    return add_item(o, k, c);
}

static cJSON *check_json(const struct check_item *it)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add_str(o, "name", it->name) ||
        !add_str(o, "outcome", check_outcome_name(it->outcome)) ||
        !add_str(o, "message", it->message) ||
        (it->pointer && !add_str(o, "pointer", it->pointer)) ||
        (it->expected && !add_str(o, "expected", it->expected)) ||
        (it->actual && !add_str(o, "actual", it->actual))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *step_json(const struct run_step_result *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *req = cJSON_CreateObject(), *resp = cJSON_CreateObject();
    cJSON *checks = cJSON_CreateArray();
    bool ok = o && req && resp && checks;
    ok = ok && add_str(o, "name", s->name) &&
         add_str(o, "phase", s->teardown ? "teardown" : "steps") &&
         add_num(o, "index", (double)s->index) && add_num(o, "line", s->line) &&
         add_str(o, "operation", s->operation_id) &&
         add_str(o, "outcome", run_outcome_name(s->outcome)) && add_str(o, "message", s->message) &&
         add_num(o, "elapsed_ms", s->elapsed_ms) && add_num(o, "attempts", s->attempts) &&
         (!s->retries || add_num(o, "retries", s->retries)) &&
         (!s->waited_ms || add_num(o, "waited_ms", s->waited_ms));
    ok = ok && add_str(req, "method", s->method) && add_str(req, "url", s->url) &&
         add_ref(req, "headers", s->request_headers) && add_ref(req, "params", s->params);
    if (ok && s->request_body)
        ok = add_ref(req, "body", s->request_body);
    if (ok && s->request_body_raw)
        ok = add_str(req, "body_raw", s->request_body_raw);
    ok = ok && add_num(resp, "status", s->status) &&
         add_str(resp, "content_type", s->content_type) &&
         add_ref(resp, "headers", s->response_headers);
    if (ok && s->response_body)
        ok = add_ref(resp, "body", s->response_body);
    if (ok && s->response_text)
        ok = add_str(resp, "text", s->response_text);
    for (size_t i = 0; ok && i < s->checks.count; i++) {
        cJSON *c = check_json(&s->checks.items[i]);
        ok = c && cJSON_AddItemToArray(checks, c);
        if (!ok)
            cJSON_Delete(c);
    }
    if (ok) {
        ok = cJSON_AddItemToObjectCS(o, "request", req);
        req = ok ? NULL : req;
    }
    if (ok) {
        ok = cJSON_AddItemToObjectCS(o, "response", resp);
        resp = ok ? NULL : resp;
    }
    if (ok) {
        ok = cJSON_AddItemToObjectCS(o, "checks", checks);
        checks = ok ? NULL : checks;
    }
    cJSON_Delete(req);
    cJSON_Delete(resp);
    cJSON_Delete(checks);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *case_json(const struct run_case_result *k)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *tags = cJSON_CreateArray(), *steps = cJSON_CreateArray();
    bool ok = o && tags && steps;
    for (size_t i = 0; ok && i < k->ntags; i++) {
        cJSON *t = cJSON_CreateStringReference(k->tags[i]);
        ok = t && cJSON_AddItemToArray(tags, t);
    }
    for (size_t i = 0; ok && i < k->nsteps; i++) {
        cJSON *s = step_json(&k->steps[i]);
        ok = s && cJSON_AddItemToArray(steps, s);
        if (!ok)
            cJSON_Delete(s);
    }
    ok = ok && add_str(o, "name", k->name) && add_str(o, "file", k->file) &&
         add_num(o, "line", k->line) && add_num(o, "index", (double)k->index) &&
         add_str(o, "outcome", run_outcome_name(k->outcome)) && add_str(o, "message", k->message) &&
         (!k->interrupted || add_item(o, "interrupted", cJSON_CreateBool(true))) &&
         add_num(o, "gaps", (double)k->gaps) && add_num(o, "elapsed_ms", k->elapsed_ms);
    if (ok) {
        ok = cJSON_AddItemToObjectCS(o, "tags", tags);
        tags = ok ? NULL : tags;
    }
    if (ok) {
        ok = cJSON_AddItemToObjectCS(o, "steps", steps);
        steps = ok ? NULL : steps;
    }
    cJSON_Delete(tags);
    cJSON_Delete(steps);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* {"mode", "spec_sha256", "files": [...], "warnings": [...]}: the
 * cassettes of the run, with one warning per cassette recorded against
 * another spec. NULL when out of memory. */
static cJSON *cassettes_json(const struct run_results *r)
{
    cJSON *o = cJSON_CreateObject(), *files = NULL, *warnings = NULL;
    bool ok = o && add_str(o, "mode", r->cassette_mode) &&
              add_str(o, "spec_sha256", r->spec_sha256) &&
              (files = cJSON_AddArrayToObject(o, "files")) &&
              (warnings = cJSON_AddArrayToObject(o, "warnings"));
    for (size_t i = 0; ok && i < r->ncassettes; i++) {
        const struct run_cassette_file *f = &r->cassettes[i];
        cJSON *j = cJSON_CreateObject();
        ok = j && cJSON_AddItemToArray(files, j);
        if (!ok) {
            cJSON_Delete(j);
            break;
        }
        ok = add_str(j, "path", f->path) && add_str(j, "spec_sha256", f->spec_sha256) &&
             cJSON_AddBoolToObject(j, "spec_changed", f->spec_changed) &&
             cJSON_AddNumberToObject(j, "replayed", (double)f->replayed) &&
             cJSON_AddNumberToObject(j, "recorded", (double)f->recorded) &&
             cJSON_AddBoolToObject(j, "written", f->written);
        if (ok && f->spec_changed) {
            char w[1024];
            run_cassettes_spec_warning(f->path, f->spec_sha256, r->spec_sha256, w, sizeof(w));
            cJSON *s = cJSON_CreateString(w);
            ok = s && cJSON_AddItemToArray(warnings, s);
            if (!ok)
                cJSON_Delete(s);
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The cases of r as an array of case_json; NULL when out of memory. */
static cJSON *cases_array(const struct run_results *r)
{
    cJSON *cases = cJSON_CreateArray();
    for (size_t i = 0; cases && i < r->count; i++) {
        cJSON *c = case_json(&r->cases[i]);
        if (!c || !cJSON_AddItemToArray(cases, c)) {
            cJSON_Delete(c);
            cJSON_Delete(cases);
            return NULL;
        }
    }
    return cases;
}

/* results.json as a tree over r (see above), with cases (taken, may be
 * NULL: out of memory) as its "cases". */
static int results_tree(const struct run_results *r, cJSON *cases, cJSON **out,
                        struct util_error *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *summary = cJSON_CreateObject();
    bool ok = o && summary && cases;
    *out = NULL;
    ok = ok && add_num(summary, "cases", (double)r->count) &&
         add_num(summary, "passed", (double)r->passed) &&
         add_num(summary, "failed", (double)r->failed) &&
         add_num(summary, "skipped", (double)r->skipped) &&
         add_num(summary, "errors", (double)r->errors) &&
         add_num(summary, "gaps", (double)r->gaps) && add_num(summary, "checks", (double)r->checks) &&
         add_num(summary, "retries", (double)r->retries) &&
         add_num(summary, "requests", (double)r->requests) &&
         add_item(summary, "budget_spent", cJSON_CreateBool(r->budget_spent));
    ok = ok && add_str(o, "tool", "ingestcheck") && add_str(o, "run_id", r->run_id) &&
         add_str(o, "base_url", r->base_url) &&
         add_item(o, "target_error", cJSON_CreateBool(r->target_error)) &&
         add_item(o, "interrupted", cJSON_CreateBool(r->interrupted)) &&
         add_str(o, "target_message", r->target_error ? r->target_message : NULL) &&
         add_num(o, "elapsed_ms", r->elapsed_ms) && add_num(o, "transport_ms", r->transport_ms) &&
         add_num(o, "poll_sleep_ms", r->poll_sleep_ms) &&
         add_num(o, "clock_advanced_ms", r->clock_advanced_ms);
    if (ok && r->shards) {
        cJSON *sh = cJSON_CreateObject();
        ok = add_item(o, "shard", sh) && add_num(sh, "index", r->shard) &&
             add_num(sh, "count", r->shards) && add_num(sh, "planned", (double)r->planned) &&
             add_str(sh, "plan", r->plan_id[0] ? r->plan_id : NULL);
    }
    if (ok && (r->spec_hash || r->spec_title)) {
        cJSON *sp = cJSON_CreateObject();
        ok = add_item(o, "spec", sp) && add_str(sp, "title", r->spec_title) &&
             add_str(sp, "version", r->spec_version) && add_str(sp, "sha256", r->spec_hash);
    }
    if (ok && r->nrenamed) {
        cJSON *list = cJSON_CreateArray();
        ok = add_item(o, "renamedOperations", list);
        for (size_t i = 0; ok && i < r->nrenamed; i++) {
            cJSON *e = cJSON_CreateObject();
            ok = e && cJSON_AddItemToArray(list, e) &&
                 add_str(e, "caseOperationId", r->renamed[i].declared_id) &&
                 add_str(e, "specOperationId", r->renamed[i].operation_id) &&
                 add_str(e, "method", r->renamed[i].method) &&
                 add_str(e, "path", r->renamed[i].path);
        }
    }
    if (ok) {
        ok = cJSON_AddItemToObjectCS(o, "summary", summary);
        summary = ok ? NULL : summary;
    }
    if (ok) {
        ok = cJSON_AddItemToObjectCS(o, "cases", cases);
        cases = ok ? NULL : cases;
    }
    if (ok && r->ncassettes) {
        cJSON *cas = cassettes_json(r);
        ok = cas && cJSON_AddItemToObject(o, "cassettes", cas);
        if (!ok)
            cJSON_Delete(cas);
    }
    cJSON_Delete(summary);
    cJSON_Delete(cases);
    if (!ok) {
        cJSON_Delete(o);
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    *out = o;
    return UTIL_OK;
}

int report_results_json(const struct run_results *r, cJSON **out, struct util_error *err)
{
    cJSON *tree = NULL;
    int rc = results_tree(r, cases_array(r), &tree, err);
    if (rc)
        return rc;
    *out = cJSON_Duplicate(tree, true);
    cJSON_Delete(tree);
    return *out ? UTIL_OK : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
}

/* ---- writing the reports ----
 *
 * junit.xml is built and written on one thread while results.json is
 * written on this one, its cases serialized in two halves on two threads
 * as the array the tree writer would have written (elements at depth 2,
 * ", " between them) and written between the two ends of the rest of the
 * document, with no copy of the whole. Either thread's work runs here when
 * a thread cannot be started. */

/* Stands for the cases in the document written around them: a raw byte
 * that no serialized string holds (control bytes are escaped). */
#define CASES_MARK "\x01"
/* The digest's value while the text it covers is hashed. */
#define DIGEST_PLACEHOLDER                                                                         \
    REPORT_DIGEST_PREFIX "0000000000000000000000000000000000000000000000000000000000000000"

struct cases_part {
    const struct run_results *r;
    size_t from, to;
    struct util_buf text; /* the cases, ", "-separated */
    int rc;
};

static void *write_cases(void *arg)
{
    struct cases_part *p = arg;
    for (size_t i = p->from; i < p->to && !p->rc; i++) {
        cJSON *c = case_json(&p->r->cases[i]);
        if (!c)
            p->rc = UTIL_ERR_NOMEM;
        if (!p->rc && i > p->from)
            p->rc = util_buf_append(&p->text, ", ", 2);
        if (!p->rc)
            p->rc = json_write_at(&p->text, c, true, 2);
        cJSON_Delete(c);
    }
    return NULL;
}

struct junit_job {
    const struct run_results *r;
    const char *path;
    int rc;
    struct util_error err;
};

static void *write_junit(void *arg)
{
    struct junit_job *j = arg;
    struct util_buf b;
    util_buf_init(&b, REPORT_CAP_SIZE);
    util_error_clear(&j->err);
    j->rc = report_junit(&b, j->r);
    if (j->rc)
        util_error_set(&j->err, j->rc, "junit.xml: %s", util_status_name(j->rc));
    else
        j->rc = util_file_write_atomic(j->path, b.data, b.len, &j->err);
    util_buf_finish(&b);
    return NULL;
}

/* Writes results.json to path. */
static int write_results(const struct run_results *r, const char *path, struct util_error *err)
{
    struct cases_part half[2] = {{.r = r, .from = 0, .to = r->count / 2},
                                 {.r = r, .from = r->count / 2, .to = r->count}};
    struct util_buf rest;
    cJSON *doc = NULL;
    pthread_t t;
    int rc = UTIL_OK;
    util_buf_init(&rest, REPORT_CAP_SIZE);
    for (int i = 0; i < 2; i++)
        util_buf_init(&half[i].text, REPORT_CAP_SIZE);
    bool threaded = pthread_create(&t, NULL, write_cases, &half[0]) == 0;
    if (!threaded)
        write_cases(&half[0]);
    write_cases(&half[1]);
    if (threaded)
        pthread_join(t, NULL);
    rc = half[0].rc ? half[0].rc : half[1].rc;
    /* Texts from a server may hold bytes that are not UTF-8 (strings are
     * copied as they came): each becomes U+FFFD. */
    for (int i = 0; i < 2 && !rc; i++)
        rc = util_utf8_repair(&half[i].text, 0);
    if (!rc)
        rc = results_tree(r, cJSON_CreateRaw(CASES_MARK), &doc, err);
    if (!rc && !add_str(doc, REPORT_DIGEST_MEMBER, DIGEST_PLACEHOLDER))
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = json_write(&rest, doc, true);
    if (!rc)
        rc = util_utf8_repair(&rest, 0);
    const char *mark = rc ? NULL : strchr(rest.data, CASES_MARK[0]);
    if (!rc && !mark)
        rc = UTIL_ERR_INVALID;
    if (rc) {
        if (!err || !err->code)
            util_error_set(err, rc, "results.json: %s", util_status_name(rc));
        goto cleanup;
    }
    bool both = half[0].text.len && half[1].text.len;
    struct util_file_part parts[] = {
        {rest.data, (size_t)(mark - rest.data)},
        {"[", 1},
        {half[0].text.data, half[0].text.len},
        {", ", both ? 2u : 0u},
        {half[1].text.data, half[1].text.len},
        {"]", 1},
        {mark + 1, rest.len - (size_t)(mark + 1 - rest.data)},
    };
    /* The digest, over the text with its own digits as '0' (as written so
     * far), in place of those digits: the last member of the rest. */
    size_t at = report_digest_find(rest.data, rest.len);
    if (at == SIZE_MAX || at < (size_t)(mark + 1 - rest.data)) {
        rc = util_error_set(err, UTIL_ERR_INVALID, "results.json: no place for its digest");
        goto cleanup;
    }
    char hex[REPORT_DIGEST_HEX_SIZE];
    report_digest_compute(parts, sizeof(parts) / sizeof(parts[0]), SIZE_MAX, hex);
    memcpy(rest.data + at, hex, REPORT_DIGEST_HEX_SIZE - 1);
    rc = util_file_write_parts_atomic(path, parts, sizeof(parts) / sizeof(parts[0]), err);
cleanup:
    for (int i = 0; i < 2; i++)
        util_buf_finish(&half[i].text);
    util_buf_finish(&rest);
    cJSON_Delete(doc);
    return rc;
}

int report_write(const char *dir, const struct run_results *r, struct util_error *err)
{
    char *jpath = util_path_join(dir, "junit.xml"), *rpath = util_path_join(dir, "results.json");
    struct junit_job junit = {.r = r, .path = jpath};
    pthread_t t;
    bool threaded = false;
    int rc = UTIL_OK;
    if (!jpath || !rpath) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    rc = util_mkdir_p(dir, err);
    if (rc)
        goto cleanup;
    threaded = pthread_create(&t, NULL, write_junit, &junit) == 0;
    if (!threaded)
        write_junit(&junit);
    rc = write_results(r, rpath, err);
    if (threaded)
        pthread_join(t, NULL);
    if (!rc && junit.rc) {
        rc = junit.rc;
        if (err)
            *err = junit.err;
    }
    /* The two go together: when one could not be written, neither is
     * left, so that no report of another run passes for this one's. */
    if (rc) {
        unlink(jpath);
        unlink(rpath);
    }
cleanup:
    free(jpath);
    free(rpath);
    return rc;
}
