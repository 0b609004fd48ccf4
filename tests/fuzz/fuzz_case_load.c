/* Fuzz target: arbitrary bytes as a case file.
 *
 * case_file_load_text (libyaml into cJSON with a line table, validation
 * against case.schema.json, libcyaml for the typed skeleton, then the
 * semantic checks: operations, parameters, matchers, regular expressions,
 * templates and captures) with the loader of the source tree's schemas/,
 * created once.
 *
 * Oracle (abort() on failure):
 *  - a failure sets err->code to the code returned, leaves *out NULL, and
 *    says in one line "fuzz.yaml:..." (the file, then where and what);
 *    out of memory alone may say only that;
 *  - a success gives a model that holds what case.h promises: at least
 *    one case, each named, with at least one step, each step with a name,
 *    an upper-case method, a path template starting with '/', statuses in
 *    range, well-formed captures, an operation for operation steps, and
 *    templates that parse. */
#include "fuzz_case_common.h"
#include "fuzz_common.h"

#include "case/case.h"
#include "case/limits.h"
#include "case/template.h"
#include "util/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz.yaml"

static void check_expect(const struct case_expect *e, const char *what)
{
    if (e->nstatus > CASE_CAP_STATUSES || (e->nstatus && !e->status))
        fuzz_fail("%s: %zu statuses", what, e->nstatus);
    for (size_t i = 0; i < e->nstatus; i++) {
        const struct case_status *s = &e->status[i];
        if (s->is_class ? (s->code < 1 || s->code > 5) : (s->code < 100 || s->code > 599))
            fuzz_fail("%s: status %d (class %d) out of range", what, s->code, s->is_class);
    }
    if (e->body_exact && !e->body)
        fuzz_fail("%s: body_exact without a body", what);
}

static void check_step(const struct case_step *s, const char *what)
{
    struct util_error err;
    if (!s->name || !*s->name || !s->method || !s->path_template)
        fuzz_fail("%s: a step without name, method or path", what);
    for (const char *m = s->method; *m; m++)
        if (islower((unsigned char)*m))
            fuzz_fail("%s: method \"%s\" is not upper case", what, s->method);
    if (s->path_template[0] != '/' && !case_template_has(s->path_template))
        fuzz_fail("%s: path \"%s\" does not start with '/'", what, s->path_template);
    if (s->kind == CASE_STEP_OPERATION && (!s->operation_id || !s->operation))
        fuzz_fail("%s: an operation step without its operation", what);
    util_error_clear(&err);
    if (case_template_scan(s->path_template, NULL, NULL, &err) != UTIL_OK)
        fuzz_fail("%s: path \"%s\" was accepted but does not parse: %s", what, s->path_template,
                  err.message);
    if (s->ncaptures > CASE_CAP_CAPTURES || (s->ncaptures && !s->captures))
        fuzz_fail("%s: %zu captures", what, s->ncaptures);
    for (size_t i = 0; i < s->ncaptures; i++) {
        if (!s->captures[i].name || !s->captures[i].expr)
            fuzz_fail("%s: capture %zu without name or expression", what, i);
        if (!case_capture_valid(s->captures[i].expr))
            fuzz_fail("%s: capture \"%s\" was accepted but is not well-formed", what,
                      s->captures[i].expr);
    }
    if (s->nallow && !s->allow_undocumented)
        fuzz_fail("%s: %zu allowed statuses without an array", what, s->nallow);
    check_expect(&s->expect, what);
    if (s->has_until)
        check_expect(&s->until, what);
    if (s->has_until && (s->poll_interval_ms <= 0 || s->poll_timeout_ms <= 0))
        fuzz_fail("%s: polling every %ld ms for %ld ms", what, s->poll_interval_ms,
                  s->poll_timeout_ms);
}

static void check_model(const struct case_file *f)
{
    char what[96];
    if (!f->doc || !f->path || strcmp(f->path, NAME) != 0)
        fuzz_fail("loaded file without document or path");
    if (f->ncases == 0 || f->ncases > CASE_CAP_CASES_PER_FILE || !f->cases)
        fuzz_fail("loaded file with %zu cases", f->ncases);
    for (size_t i = 0; i < f->ncases; i++) {
        const struct case_case *k = &f->cases[i];
        if (!k->name || k->file != f->path || k->index != i)
            fuzz_fail("case %zu: no name, or wrong file or index", i);
        if (k->nsteps == 0 || k->nsteps > CASE_CAP_STEPS || k->nteardown > CASE_CAP_STEPS)
            fuzz_fail("case %zu: %zu steps, %zu teardown steps", i, k->nsteps, k->nteardown);
        for (size_t t = 0; t < k->ntags; t++)
            if (!k->tags[t])
                fuzz_fail("case %zu: tag %zu is NULL", i, t);
        for (size_t j = 0; j < k->nsteps; j++) {
            snprintf(what, sizeof what, "case %zu step %zu", i, j);
            if (k->steps[j].teardown || k->steps[j].index != j)
                fuzz_fail("%s: wrong index or teardown flag", what);
            check_step(&k->steps[j], what);
        }
        for (size_t j = 0; j < k->nteardown; j++) {
            snprintf(what, sizeof what, "case %zu teardown %zu", i, j);
            if (!k->teardown[j].teardown || k->teardown[j].index != j)
                fuzz_fail("%s: wrong index or teardown flag", what);
            check_step(&k->teardown[j], what);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    const struct case_loader *l = fuzz_case_loader();
    struct case_file *f = (struct case_file *)&f; /* must be reset to NULL */
    struct util_error err;
    util_error_clear(&err);
    int rc = case_file_load_text(l, (const char *)data, size, NAME, &f, &err);
    if (rc != UTIL_OK) {
        if (f)
            fuzz_fail("failed with %d but *out is not NULL", rc);
        if (err.code != rc)
            fuzz_fail("returned %d but err.code is %d", rc, err.code);
        if (rc == UTIL_ERR_NOMEM)
            return 0;
        if (!fuzz_one_line_with_prefix(err.message, NAME ":"))
            fuzz_fail("error %s is not one line naming the file: \"%s\"", util_status_name(rc),
                      err.message);
        return 0;
    }
    if (!f)
        fuzz_fail("succeeded without a file");
    check_model(f);
    case_file_destroy(f);
    return 0;
}
