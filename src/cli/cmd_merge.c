/* Sharding across CI jobs: `ingestcheck run --shard K/N` (the partition is
 * run/plan.c's; this file parses K/N and reads the durations recorded in
 * the cassettes) and `ingestcheck merge DIR...`, which combines the
 * shards' reports into those a single run would write. */
#include "cli/cli.h"

#include "cassette/cassette.h"
#include "coverage/coverage.h"
#include "openapi/source.h"
#include "report/report.h"
#include "run/run.h"
#include "util/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses "K/N" (decimal, 1 <= K <= N <= RUN_CAP_SHARDS). */
static bool parse_shard(const char *s, unsigned *k, unsigned *n)
{
    char *end = NULL;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long a = strtoul(s, &end, 10);
    if (errno || *end != '/' || end[1] < '0' || end[1] > '9')
        return false;
    unsigned long b = strtoul(end + 1, &end, 10);
    if (errno || *end || a < 1 || b < 1 || a > b || b > RUN_CAP_SHARDS)
        return false;
    *k = (unsigned)a;
    *n = (unsigned)b;
    return true;
}

/* The cases' costs for sharding: the durations recorded in the cassettes
 * (dir/<basename of the case file>, dir NULL: "cassettes" next to the
 * plan's first case file), a case with none costing the mean of the
 * others (whole milliseconds, so that every shard computes the same). NULL
 * when no case has a recorded duration: shards balance by count. A
 * missing or unreadable cassette holds no duration. */
static double *recorded_costs(const struct run_plan *plan, const char *dir)
{
    char dflt[4096], path[8192];
    double *costs = calloc(plan->count ? plan->count : 1, sizeof(*costs));
    unsigned long long sum = 0, known = 0;
    if (!costs || !plan->count)
        goto none;
    if (!dir) {
        const char *first = plan->cases[0]->file, *slash = strrchr(first, '/');
        snprintf(dflt, sizeof(dflt), "%.*s%scassettes", slash ? (int)(slash - first) : 0, first,
                 slash ? "/" : "");
        dir = dflt;
    }
    for (size_t i = 0; i < plan->count; i++)
        costs[i] = -1;
    for (size_t i = 0; i < plan->count; i++) {
        const char *file = plan->cases[i]->file, *base = strrchr(file, '/');
        struct cassette *c = NULL;
        struct util_error err;
        if (costs[i] >= 0 || (i && strcmp(plan->cases[i - 1]->file, file) == 0))
            continue; /* the file's cassette was read already */
        snprintf(path, sizeof(path), "%s/%s", dir, base ? base + 1 : file);
        util_error_clear(&err);
        if (access(path, R_OK) != 0 || cassette_load_file(path, &c, &err))
            continue;
        for (size_t j = i; j < plan->count; j++)
            if (strcmp(plan->cases[j]->file, file) == 0 &&
                (costs[j] = cassette_case_duration_ms(c, plan->cases[j]->name)) >= 0) {
                sum += (unsigned long long)costs[j];
                known++;
            }
        cassette_destroy(c);
    }
    if (!known)
        goto none;
    for (size_t i = 0; i < plan->count; i++)
        if (costs[i] < 0)
            costs[i] = (double)(sum / known);
    return costs;
none:
    free(costs);
    return NULL;
}

int cli_shard_plan(const char *spec, struct run_plan *plan, const char *cassettes, bool announce)
{
    unsigned k = 0, n = 0;
    struct util_error err;
    util_error_clear(&err);
    if (!parse_shard(spec, &k, &n)) {
        cli_error("--shard expects K/N with 1 <= K <= N <= %u, got '%s'", RUN_CAP_SHARDS, spec);
        return CLI_EXIT_USAGE;
    }
    double *costs = recorded_costs(plan, cassettes);
    int rc = run_plan_shard(plan, k, n, costs, &err);
    free(costs);
    if (rc) {
        cli_report_error(&err);
        return CLI_EXIT_USAGE;
    }
    if (announce)
        printf("shard %u/%u: %zu of %zu cases (balanced by %s)\n", k, n, plan->count, plan->planned,
               costs ? "recorded durations" : "count");
    return CLI_EXIT_OK;
}

int cli_shard_write_empty(const struct run_plan *plan, const char *run_id, const char *base_url,
                          const char *reports)
{
    struct run_results r;
    struct util_error err;
    char id[16];
    int exit_code = CLI_EXIT_USAGE;
    run_results_init(&r);
    util_error_clear(&err);
    if (!run_id) {
        run_make_id(id);
        run_id = id;
    }
    r.run_id = strdup(run_id);
    r.base_url = strdup(base_url ? base_url : "");
    r.planned = plan->planned;
    r.shard = plan->shard;
    r.shards = plan->shards;
    memcpy(r.plan_id, plan->plan_id, sizeof(r.plan_id));
    if (!r.run_id || !r.base_url) {
        cli_error("out of memory");
        goto cleanup;
    }
    if (report_write(reports ? reports : "reports", &r, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    exit_code = CLI_EXIT_OK;
cleanup:
    run_results_finish(&r);
    return exit_code;
}

/* ---- merge ---- */

enum { OPT_REPORTS = 1, OPT_FAIL_UNDER, OPT_FAIL_ON_SPEC_GAP, OPT_SPEC };

static const struct cli_option merge_options[] = {
    CLI_SPEC_OPTION(OPT_SPEC),
    {"reports", 0, CLI_ARG_STRING, "DIR",
     "write the merged junit.xml, results.json and API coverage here (default: reports)",
     OPT_REPORTS, false},
    CLI_COVERAGE_GATE_OPTIONS(OPT_FAIL_UNDER, OPT_FAIL_ON_SPEC_GAP),
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

static int merge_run(const struct cli_command *cmd, const struct cli_args *args)
{
    int exit_code = CLI_EXIT_USAGE;
    size_t n = args->npositional, culprit = SIZE_MAX;
    struct run_results *in = calloc(n ? n : 1, sizeof(*in)), merged;
    struct util_error err;
    struct util_buf out;
    struct report_console_options opts = {.color = cli_color(args)};
    struct coverage_gates gates;
    const char *dir = cli_get(args, OPT_REPORTS);
    struct openapi_source *source = NULL;
    (void)cmd;
    util_error_clear(&err);
    run_results_init(&merged);
    util_buf_init(&out, REPORT_CAP_SIZE);
    if (!in) {
        cli_error("out of memory");
        goto cleanup;
    }
    if (!cli_coverage_gates(cli_get(args, OPT_FAIL_UNDER), cli_has(args, OPT_FAIL_ON_SPEC_GAP),
                            &gates))
        goto cleanup;
    for (size_t i = 0; i < n; i++)
        run_results_init(&in[i]);
    /* The merged reports must not replace a shard's. */
    const char *const *shards = (const char *const *)args->positional;
    const char *what = dir ? "--reports" : "reports directory";
    if (!cli_check_not_input(dir ? dir : "reports", shards, n, what) ||
        !cli_check_reports_dir(dir ? dir : "reports", shards, n, what))
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        if (report_read(args->positional[i], &in[i], &err)) {
            cli_report_error(&err);
            goto cleanup;
        }
    }
    if (report_merge(in, n, &merged, &culprit, &err)) {
        if (culprit < n)
            cli_error("%s/results.json: %s", args->positional[culprit], err.message);
        else
            cli_report_error(&err);
        goto cleanup;
    }
    /* Coverage over the spec the shards ran against: --spec must be it. */
    if (!(source = cli_open_source(args, OPT_SPEC, false)))
        goto cleanup;
    const char *sha = openapi_source_sha256(source);
    if (merged.spec_hash && sha && strcmp(merged.spec_hash, sha) != 0) {
        cli_error("the shards ran against spec %.12s, but %s is spec %.12s (give the same --spec "
                  "as the runs)",
                  merged.spec_hash, openapi_source_origin(source), sha);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        if (in[i].run_id && strcmp(in[i].run_id, merged.run_id) != 0) {
            fprintf(stderr,
                    "ingestcheck: note: the shards ran with different run ids (%s, %s); "
                    "results.json keeps %s (give every shard the same --run-id)\n",
                    merged.run_id, in[i].run_id, merged.run_id);
            break;
        }
    if (report_write(dir ? dir : "reports", &merged, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    int rc = UTIL_OK;
    for (size_t i = 0; i < merged.count && !rc; i++)
        if (merged.cases[i].outcome == RUN_FAILED || merged.cases[i].outcome == RUN_ERROR) {
            rc = report_console_case(&out, &merged.cases[i], &opts);
            if (!rc)
                rc = report_console_failure(&out, &merged.cases[i], &opts);
        }
    if (!rc)
        rc = report_console_summary(&out, &merged, &opts);
    if (out.data)
        fputs(out.data, stdout);
    fflush(stdout);
    if (rc) {
        cli_error("%s", util_status_name(rc));
        goto cleanup;
    }
    /* API coverage as the single run computes it: over the merged cases,
     * in plan order (so gap examples keep the single run's order). */
    int cov_exit = cli_coverage_run(source, dir ? dir : "reports", &merged, &gates,
                                    merged.target_error || merged.interrupted);
    if (!cli_has(args, CLI_OPT_QUIET))
        printf("merged %zu shard%s into %s\n", n, n == 1 ? "" : "s", dir ? dir : "reports");
    /* The exit status of the single run: 2 for a target error, 1 or 2
     * for an interrupted shard as `run` decides for an interrupted run. */
    if (merged.target_error) {
        cli_error("target error in a shard: %s", merged.target_message);
        goto cleanup;
    }
    if (merged.interrupted) {
        cli_error("a shard was interrupted: %zu of %zu cases not run or cut short",
                  run_results_cut_count(&merged), merged.count);
        exit_code = merged.failed || merged.errors ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
        goto cleanup;
    }
    exit_code = merged.failed || merged.errors ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    exit_code = cov_exit > exit_code ? cov_exit : exit_code;
cleanup:
    for (size_t i = 0; in && i < n; i++)
        run_results_finish(&in[i]);
    free(in);
    run_results_finish(&merged);
    util_buf_finish(&out);
    openapi_source_destroy(source);
    return exit_code;
}

static const struct cli_command merge_command = {
    .name = "merge",
    .synopsis = "[--spec FILE] [--reports DIR] [--fail-under DIM=P,...] [--fail-on-spec-gap] "
                "SHARD_REPORTS...",
    .summary = "merge the reports of `run --shard K/N` jobs into those of a single run",
    .description =
        "Reads results.json from each directory (the --reports of `ingestcheck run --shard K/N`, "
        "K = 1..N, each once, in any order) and writes junit.xml, results.json and the API "
        "coverage (coverage.json, coverage.html, coverage.md, api-coverage.info, computed from "
        "the merged cases; --fail-under and --fail-on-spec-gap gate it) as a single "
        "run of the same plan would: the cases in plan order, the same totals, the shards' "
        "cassettes sections as one (counts summed); run_id and "
        "base_url are those of the lowest-numbered shard that ran cases, elapsed_ms the longest "
        "shard's. Prints the "
        "failed cases, the spec gaps, the summary and the API coverage line. Exit 0 when every "
        "merged case passed, 1 when one failed or a coverage gate failed, 2 for an unreadable or "
        "inconsistent input (a shard missing or given "
        "twice, shards of different plans: other cases or another selection), naming the file "
        "and the reason, and for a shard "
        "whose target failed; a shard interrupted (SIGINT) gives 1 when a merged case failed, "
        "else 2, as an interrupted run does. Each results.json ends with a sha256 digest of its "
        "text: a shard changed after ingestcheck wrote it, or written by an older version (no "
        "digest: re-run it), is refused with exit 2, and names and lists are held to the caps "
        "of case files. The digest guards against accidental edits and corruption, not "
        "against forgery: anyone can recompute it.",
    .options = merge_options,
    .min_positional = 1,
    .max_positional = CLI_MAX_POSITIONAL,
    .run = merge_run,
};

const struct cli_command *const cli_merge_commands[] = {&merge_command, NULL};
