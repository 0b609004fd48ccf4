/* `ingestcheck coverage`: API coverage offline, from cassettes (and
 * results.json or coverage.json files), and the coverage step at the end
 * of `ingestcheck run`: outputs, summary line and gates. */
#include "cli/cli.h"

#include "cassette/cassette.h"
#include "coverage/coverage.h"
#include "openapi/source.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_REPORTS = 1,
    OPT_FAIL_UNDER,
    OPT_FAIL_ON_SPEC_GAP,
    OPT_SPEC,
};

/* The cassettes read when none are given. */
#define DEFAULT_CASSETTES "cases/cassettes"

bool cli_coverage_gates(const char *fail_under, bool fail_on_spec_gap, struct coverage_gates *g)
{
    struct util_error err;
    util_error_clear(&err);
    coverage_gates_init(g);
    g->fail_on_spec_gap = fail_on_spec_gap;
    if (fail_under && coverage_gates_parse(fail_under, g, &err)) {
        cli_report_error(&err);
        return false;
    }
    return true;
}

/* Prints the summary line: every dimension with its figures (the same
 * whatever the reports directory, so outputs of runs compare equal). */
static void print_summary(const struct coverage_totals *t)
{
    printf("API coverage:");
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++)
        printf("%s %s %zu/%zu (%.1f%%)", d ? "," : "",
               coverage_dimension_name((enum coverage_dimension)d), t->dim[d].covered,
               t->dim[d].total, coverage_percent(t->dim[d]));
    printf("; %zu spec gap%s (details in coverage.html)\n", t->gaps, t->gaps == 1 ? "" : "s");
}

/* Prints each failed gate; returns CLI_EXIT_FAIL when one failed. */
static int check_gates(const struct coverage_totals *t, const struct coverage_gates *g)
{
    struct coverage_gate_failure f[COVERAGE_NDIMENSIONS + 1];
    size_t n = coverage_gates_check(t, g, f);
    for (size_t i = 0; i < n; i++) {
        if (f[i].dim == COVERAGE_NDIMENSIONS) {
            cli_error("--fail-on-spec-gap: %zu undocumented status%s seen (see coverage.html)",
                      f[i].needed, f[i].needed == 1 ? "" : "es");
            continue;
        }
        cli_error("--fail-under: %s coverage %.2f%% is below %d.%02d%% by %.2f points "
                  "(%zu of %zu covered; %zu more needed)",
                  coverage_dimension_name(f[i].dim), f[i].actual, f[i].required / 100,
                  f[i].required % 100, f[i].required / 100.0 - f[i].actual, f[i].covered,
                  f[i].total, f[i].needed);
    }
    return n ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static bool gates_asked(const struct coverage_gates *g)
{
    for (int d = 0; d < COVERAGE_NDIMENSIONS; d++)
        if (g->min[d] >= 0)
            return true;
    return g->fail_on_spec_gap;
}

/* Writes the outputs, prints the summary and checks the gates. */
static int finish(const struct coverage *cov, const char *dir, const struct coverage_gates *g,
                  bool quiet)
{
    struct util_error err;
    struct coverage_totals t;
    util_error_clear(&err);
    if (coverage_write(dir, cov, &err)) {
        if (!quiet)
            cli_report_error(&err);
        return CLI_EXIT_USAGE;
    }
    coverage_totals(cov, &t);
    print_summary(&t);
    fflush(stdout);
    return check_gates(&t, g);
}

int cli_coverage_run(const struct openapi_source *source, const char *dir,
                     const struct run_results *r, const struct coverage_gates *g, bool quiet)
{
    struct util_error err;
    struct coverage *cov = NULL;
    int exit_code = CLI_EXIT_USAGE;
    util_error_clear(&err);
    struct coverage_context *ctx = coverage_context_create(source, &err);
    if (!ctx || !(cov = coverage_create(ctx)) || coverage_add_results(cov, r, &err)) {
        if (quiet) {
            exit_code = CLI_EXIT_USAGE;
        } else if (!gates_asked(g)) {
            fprintf(stderr, "ingestcheck: note: API coverage not written: %s\n",
                    err.code ? err.message : "out of memory");
            exit_code = CLI_EXIT_OK;
        } else {
            cli_error("API coverage cannot be computed: %s",
                      err.code ? err.message : "out of memory");
        }
        goto cleanup;
    }
    exit_code = finish(cov, dir, g, quiet);
cleanup:
    coverage_destroy(cov);
    coverage_context_destroy(ctx);
    return exit_code;
}

/* Adds one input: a cassette (.yaml, .yml), or a JSON document that is a
 * coverage.json (merged) or a results.json (its exchanges counted). */
static int add_input(struct coverage *cov, const char *path, struct util_error *err)
{
    size_t len = strlen(path);
    int rc;
    if (len > 5 && strcmp(path + len - 5, ".json") == 0) {
        cJSON *doc = NULL;
        if ((rc = json_load_file(path, UTIL_CAP_JSON_DOCUMENT, &doc, err)))
            return rc;
        if (cJSON_GetObjectItemCaseSensitive(doc, "operations"))
            rc = coverage_add_json(cov, doc, err);
        else
            rc = coverage_add_results_json(cov, doc, err);
        cJSON_Delete(doc);
        if (rc && rc != UTIL_ERR_NOMEM)
            util_error_prefix(err, "%s: ", path);
        return rc;
    }
    struct cassette *c = NULL;
    if ((rc = cassette_load_file(path, &c, err)))
        return rc;
    rc = coverage_add_cassette(cov, c, err);
    cassette_destroy(c);
    return rc;
}

/* Expands a directory into its *.yaml files (sorted); a file stays as is. */
static int add_path(struct coverage *cov, const char *path, size_t *inputs, struct util_error *err)
{
    if (!util_dir_exists(path)) {
        (*inputs)++;
        return add_input(cov, path, err);
    }
    char *pattern = util_path_join(path, "*.yaml");
    glob_t gl;
    int rc = UTIL_OK;
    if (!pattern)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    int g = glob(pattern, 0, NULL, &gl);
    free(pattern);
    if (g == GLOB_NOMATCH)
        return util_error_set(err, UTIL_ERR_IO, "%s: no *.yaml cassette in this directory", path);
    if (g)
        return util_error_set(err, UTIL_ERR_IO, "%s: cannot list the directory", path);
    for (size_t i = 0; i < gl.gl_pathc && !rc; i++) {
        (*inputs)++;
        rc = add_input(cov, gl.gl_pathv[i], err);
    }
    globfree(&gl);
    return rc;
}

static int coverage_run(const struct cli_command *cmd, const struct cli_args *args)
{
    struct util_error err;
    struct coverage_gates gates;
    struct coverage_context *ctx = NULL;
    struct coverage *cov = NULL;
    struct openapi_source *source = NULL;
    size_t inputs = 0;
    int exit_code = CLI_EXIT_USAGE;
    (void)cmd;
    util_error_clear(&err);
    if (!cli_coverage_gates(cli_get(args, OPT_FAIL_UNDER), cli_has(args, OPT_FAIL_ON_SPEC_GAP),
                            &gates))
        return CLI_EXIT_USAGE;
    const char *dir = cli_get(args, OPT_REPORTS);
    if (!cli_check_reports_dir(dir ? dir : "reports", (const char *const *)args->positional,
                               args->npositional, dir ? "--reports" : "reports directory"))
        return CLI_EXIT_USAGE;
    if (!(source = cli_open_source(args, OPT_SPEC, false)))
        goto cleanup;
    if (!(ctx = coverage_context_create(source, &err)) || !(cov = coverage_create(ctx))) {
        cli_report_error(&err);
        goto cleanup;
    }
    if (args->npositional == 0 && add_path(cov, DEFAULT_CASSETTES, &inputs, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    for (size_t i = 0; i < args->npositional; i++) {
        if (add_path(cov, args->positional[i], &inputs, &err)) {
            cli_report_error(&err);
            goto cleanup;
        }
    }
    exit_code = finish(cov, dir ? dir : "reports", &gates, false);
cleanup:
    coverage_destroy(cov);
    coverage_context_destroy(ctx);
    openapi_source_destroy(source);
    return exit_code;
}

static const struct cli_option coverage_options[] = {
    CLI_SPEC_OPTION(OPT_SPEC),
    {"reports", 0, CLI_ARG_STRING, "DIR",
     "write coverage.json, coverage.html, coverage.md and api-coverage.info here (default: "
     "reports)",
     OPT_REPORTS, false},
    CLI_COVERAGE_GATE_OPTIONS(OPT_FAIL_UNDER, OPT_FAIL_ON_SPEC_GAP),
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

static const struct cli_command coverage_command = {
    .name = "coverage",
    .synopsis =
        "[--spec FILE] [--reports DIR] [--fail-under DIM=P,...] [--fail-on-spec-gap] [INPUTS...]",
    .summary = "API coverage of the spec, offline from cassettes",
    .description =
        "Computes which part of the spec the recorded exchanges exercise: per operation whether "
        "it was called, each documented status seen, each parameter sent, each enum value sent "
        "(parameters and request-body fields), each branch of each request-body union taken "
        "(ambiguous matches of overlapping unions are counted for every branch and flagged), and "
        "each response property observed; statuses the spec does not document are listed as "
        "spec gaps with the request that provoked them. INPUTS are cassettes (files, or "
        "directories whose *.yaml files are read; default cases/cassettes), results.json files "
        "of runs, or coverage.json files (merged, e.g. from shards). Writes coverage.json, "
        "coverage.html (self-contained), coverage.md (for $GITHUB_STEP_SUMMARY) and "
        "api-coverage.info (an lcov tracefile over the OpenAPI document) into the reports "
        "directory; `ingestcheck run` writes the same after every run. Exit 0, 1 when a "
        "--fail-under or --fail-on-spec-gap gate failed, 2 for a usage error or an unreadable "
        "input.",
    .options = coverage_options,
    .min_positional = 0,
    .max_positional = CLI_MAX_POSITIONAL,
    .run = coverage_run,
};

const struct cli_command *const cli_coverage_commands[] = {&coverage_command, NULL};
