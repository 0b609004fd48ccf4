/* `ingestcheck run`: loads case files, runs them against a target (the
 * embedded mock by default), prints one line per case and writes
 * reports/junit.xml and reports/results.json. */
#include "cli/cli.h"

#include "case/case.h"
#include "check/check.h"
#include "coverage/coverage.h"
#include "http/caps.h"
#include "http/http.h"
#include "openapi/source.h"
#include "report/report.h"
#include "run/cassettes.h"
#include "run/run.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/secret.h"

#include "cassette/cassette.h"
#include "mock/caps.h"
#include "mock/mock.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    OPT_BASE_URL = 1,
    OPT_REGION,
    OPT_APP_ID,
    OPT_API_KEY,
    OPT_JOBS,
    OPT_TAG,
    OPT_EXCLUDE_TAG,
    OPT_CASE,
    OPT_OPERATION,
    OPT_REPORTS,
    OPT_TIMEOUT,
    OPT_RETRIES,
    OPT_CACERT,
    OPT_INSECURE,
    OPT_RUN_ID,
    OPT_LIST,
    OPT_TIMINGS,
    OPT_CASSETTES,
    OPT_RECORD_MODE,
    OPT_REPLAY,
    OPT_REDACT,
    OPT_MOCK_SEED,
    OPT_SHARD,
    OPT_WALL_CLOCK,
    OPT_FAIL_UNDER,
    OPT_FAIL_ON_SPEC_GAP,
    OPT_SPEC,
    OPT_INCLUDE_TAG,
    OPT_VERBOSE,
    OPT_VAR,
    OPT_VARS,
    OPT_RATE,
    OPT_MAX_REQUESTS,
};

static const struct cli_option run_options[] = {
    CLI_SPEC_OPTION(OPT_SPEC),
    {"base-url", 0, CLI_ARG_STRING, "URL",
     "run against this http:// or https:// server (default: the embedded mock)", OPT_BASE_URL,
     false},
    {"region", 0, CLI_ARG_STRING, "REGION",
     "run against https://data.REGION.algolia.com (us or eu)", OPT_REGION, false},
    {"app-id", 0, CLI_ARG_STRING, "ID", "application ID (default: $ALGOLIA_APPLICATION_ID)",
     OPT_APP_ID, false},
    {"api-key", 0, CLI_ARG_STRING, "KEY", "API key (default: $ALGOLIA_API_KEY; never printed)",
     OPT_API_KEY, false},
    {"jobs", 'j', CLI_ARG_INT, "N", "run N cases at a time, 1 to 64 (output is the same for any N)",
     OPT_JOBS, false},
    {"tag", 0, CLI_ARG_STRING, "TAG", "run the cases with this tag", OPT_TAG, true},
    {"exclude-tag", 0, CLI_ARG_STRING, "TAG", "skip the cases with this tag", OPT_EXCLUDE_TAG,
     true},
    {"include-tag", 0, CLI_ARG_STRING, "TAG",
     "also run, against --base-url or --region, the cases tagged TAG that are skipped there by "
     "default (mock: what only the embedded mock guarantees)",
     OPT_INCLUDE_TAG, true},
    {"case", 0, CLI_ARG_STRING, "GLOB", "run the cases whose name matches the glob", OPT_CASE,
     true},
    {"operation", 0, CLI_ARG_STRING, "ID", "run the cases that call this operationId",
     OPT_OPERATION, true},
    {"reports", 0, CLI_ARG_STRING, "DIR",
     "write junit.xml, results.json and the API coverage here (default: reports)", OPT_REPORTS,
     false},
    {"timeout", 0, CLI_ARG_INT, "MS",
     "per-request timeout in milliseconds, 1 to 86400000 (default 30000)", OPT_TIMEOUT, false},
    {"retries", 0, CLI_ARG_INT, "N",
     "retries of a request after a network error, 0 to 100 (default 0)", OPT_RETRIES, false},
    {"cacert", 0, CLI_ARG_STRING, "FILE", "CA bundle for TLS verification", OPT_CACERT, false},
    {"insecure", 0, CLI_ARG_NONE, NULL, "do not verify TLS certificates", OPT_INSECURE, false},
    {"run-id", 0, CLI_ARG_STRING, "ID",
     "the run's identifier, {{run.id}}: 1 to 256 bytes, no control characters (default: random)",
     OPT_RUN_ID, false},
    {"list", 0, CLI_ARG_NONE, NULL, "list the selected cases and exit", OPT_LIST, false},
    {"timings", 0, CLI_ARG_NONE, NULL,
     "show durations on the console, and where the run's time went", OPT_TIMINGS, false},
    {"cassettes", 0, CLI_ARG_STRING, "DIR",
     "record to / replay from one cassette per case file in DIR (default: cases/cassettes)",
     OPT_CASSETTES, false},
    {"record-mode", 0, CLI_ARG_STRING, "MODE",
     "once (record a missing cassette, else replay), new_episodes, none (replay only), all",
     OPT_RECORD_MODE, false},
    {"replay", 0, CLI_ARG_NONE, NULL,
     "replay from the cassettes with no network at all (--record-mode none)", OPT_REPLAY, false},
    {"redact", 0, CLI_ARG_STRING, "FIELD",
     "also redact the value of every JSON member named FIELD (any case) from reports, the console "
     "and recordings",
     OPT_REDACT, true},
    {"mock-seed", 0, CLI_ARG_INT, "N",
     "seed the embedded mock (IDs, timestamps, credentials, {{uuid}}): reproducible recordings",
     OPT_MOCK_SEED, false},
    {"shard", 0, CLI_ARG_STRING, "K/N",
     "run shard K of N: a balanced part of the selected cases (combine with merge)", OPT_SHARD,
     false},
    {"wall-clock", 0, CLI_ARG_NONE, NULL,
     "sleep each polling interval (until:) even against the embedded mock, instead of moving "
     "the mock's clock forward",
     OPT_WALL_CLOCK, false},
    {"rate", 0, CLI_ARG_INT, "N",
     "send at most N requests per second across all workers, 1 to 100000 (default: no cap)",
     OPT_RATE, false},
    {"max-requests", 0, CLI_ARG_INT, "N",
     "send at most N requests (retries included; teardown always runs), then stop: the rest is "
     "not run, exit 1",
     OPT_MAX_REQUESTS, false},
    {"var", 0, CLI_ARG_STRING, "NAME=VALUE",
     "set the variable NAME of every case that declares it in vars: (overrides --vars and the "
     "case's default)",
     OPT_VAR, true},
    {"vars", 0, CLI_ARG_STRING, "FILE",
     "set variables from a YAML mapping of names to scalars (overrides the cases' vars: "
     "defaults; a later file overrides an earlier one)",
     OPT_VARS, true},
    {"verbose", 'v', CLI_ARG_NONE, NULL,
     "list every spec gap on the console (default: one line per undocumented status)",
     OPT_VERBOSE, false},
    CLI_COVERAGE_GATE_OPTIONS(OPT_FAIL_UNDER, OPT_FAIL_ON_SPEC_GAP),
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

struct console {
    struct report_console_options opts;
    bool tty;
    bool quiet;
    size_t done;
};

/* SIGINT or SIGTERM during a run: the runner starts no more cases (see
 * run_config.interrupt); a second one ends the process (SA_RESETHAND). */
static volatile sig_atomic_t run_interrupt;

static void on_interrupt(int sig)
{
    (void)sig;
    run_interrupt = 1;
}

static void catch_interrupts(bool on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on ? on_interrupt : SIG_DFL;
    sa.sa_flags = on ? SA_RESTART | SA_RESETHAND : 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void on_case_done(const struct run_case_result *r, size_t total, void *user)
{
    struct console *c = user;
    struct util_buf b;
    util_buf_init(&b, REPORT_CAP_SIZE);
    c->done++;
    if (c->tty)
        util_buf_puts(&b, "\r\033[K");
    if (!c->quiet || r->outcome == RUN_FAILED || r->outcome == RUN_ERROR)
        report_console_case(&b, r, &c->opts);
    report_console_failure(&b, r, &c->opts);
    if (c->tty && c->done < total)
        report_console_progress(&b, c->done, total, "running");
    if (b.data)
        fputs(b.data, stdout);
    fflush(stdout);
    util_buf_finish(&b);
}

/* Polling against the embedded mock moves its clock (run_clock). */
static long advance_mock_clock(void *api, long ms)
{
    return (long)mock_api_advance_clock(api, ms);
}

/* Collects the YAML files under dir, recursively, skipping directories
 * called "cassettes" (recordings live next to the cases), sorted. */
static int collect_cases(const char *dir, char ***files, size_t *n, size_t *alloc, int depth)
{
    if (depth > 32)
        return UTIL_ERR_LIMIT;
    DIR *d = opendir(dir);
    if (!d)
        return UTIL_ERR_IO;
    int rc = UTIL_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = util_path_join(dir, e->d_name); /* "cases//" + x: "cases/x" */
        if (!p) {
            rc = UTIL_ERR_NOMEM;
            break;
        }
        struct stat st;
        size_t nl = strlen(e->d_name);
        bool yaml = (nl > 5 && strcmp(e->d_name + nl - 5, ".yaml") == 0) ||
                    (nl > 4 && strcmp(e->d_name + nl - 4, ".yml") == 0);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (strcmp(e->d_name, "cassettes") != 0)
                rc = collect_cases(p, files, n, alloc, depth + 1);
            free(p);
        } else if (yaml) {
            if (*n == *alloc) {
                size_t na = *alloc ? *alloc * 2 : 16;
                char **nf = realloc(*files, na * sizeof(*nf));
                if (!nf) {
                    free(p);
                    rc = UTIL_ERR_NOMEM;
                    break;
                }
                *files = nf;
                *alloc = na;
            }
            (*files)[(*n)++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct http_transport *make_transport(void *user, struct util_error *err)
{
    return http_curl_create(user, err);
}

/* Collects every value of a repeatable option. */
static size_t values_of(const struct cli_args *a, int id, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nvalues && n < max; i++)
        if (a->values[i].id == id)
            out[n++] = a->values[i].str;
    return n;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Whether every cassette a recording may write can be written, and none
 * is one of the case files; prints the one-line error when not. */
static bool check_cassette_outputs(const struct run_cassettes *cas, enum cassette_record_mode mode,
                                   char **case_files, size_t ncase_files, bool option_given)
{
    const char *what = option_given ? "--cassettes" : "cassette directory";
    const char *p;
    bool dir_checked = false;
    for (size_t i = 0; (p = run_cassettes_path(cas, i)) != NULL; i++) {
        /* Mode once only writes the cassettes that are missing. */
        if (mode == CASSETTE_RECORD_ONCE && access(p, F_OK) == 0)
            continue;
        if (!dir_checked && !cli_check_output(run_cassettes_dir(cas), true, what))
            return false;
        dir_checked = true;
        if (!cli_check_output(p, false, what) ||
            !cli_check_not_input(p, (const char *const *)case_files, ncase_files, what))
            return false;
    }
    return true;
}

static char *dup_or_null(const char *s, bool *failed)
{
    char *d = s ? strdup(s) : NULL;
    *failed = *failed || (s && !d);
    return d;
}

/* Records in r the spec the run checked against and its renamed
 * operations. Non-zero when out of memory. */
static int record_spec(struct run_results *r, const struct openapi_source *source,
                       const struct case_rename *renames, size_t n)
{
    bool failed = false;
    r->spec_title = dup_or_null(openapi_source_title(source), &failed);
    r->spec_version = dup_or_null(openapi_source_version(source), &failed);
    r->spec_hash = dup_or_null(openapi_source_sha256(source), &failed);
    if (n && !(r->renamed = calloc(n, sizeof(*r->renamed))))
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++, r->nrenamed++) {
        r->renamed[i].declared_id = dup_or_null(renames[i].declared_id, &failed);
        r->renamed[i].operation_id = dup_or_null(renames[i].operation_id, &failed);
        r->renamed[i].method = dup_or_null(renames[i].method, &failed);
        r->renamed[i].path = dup_or_null(renames[i].path, &failed);
    }
    return failed ? UTIL_ERR_NOMEM : UTIL_OK;
}

/* Against --base-url or --region, the cases tagged mock are planned as
 * skipped ("mock-only") unless --include-tag mock or --tag mock asks for
 * them; the embedded mock and replays run them. An --include-tag that
 * nothing skips by default is a usage error. */
static int mock_skip_policy(const struct cli_args *args, struct run_selection *sel)
{
    const char *inc[CLI_MAX_VALUES];
    size_t ninc = values_of(args, OPT_INCLUDE_TAG, inc, CLI_MAX_VALUES);
    bool include = false;
    for (size_t i = 0; i < ninc; i++) {
        if (strcmp(inc[i], RUN_TAG_MOCK) != 0) {
            cli_error("--include-tag '%s': only the '%s' tag is skipped by default", inc[i],
                      RUN_TAG_MOCK);
            return CLI_EXIT_USAGE;
        }
        include = true;
    }
    for (size_t i = 0; i < sel->ntags; i++)
        include = include || strcmp(sel->tags[i], RUN_TAG_MOCK) == 0;
    sel->skip_mock = (cli_has(args, OPT_BASE_URL) || cli_has(args, OPT_REGION)) && !include;
    return CLI_EXIT_OK;
}

/* Says which --var or --vars names no selected case declares in vars:
 * (a case takes only the variables it declares, with their defaults). */
static void warn_unused_vars(const cJSON *vars, const struct run_plan *plan)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, vars)
    {
        bool used = false;
        for (size_t i = 0; i < plan->count && !used; i++)
            used = cJSON_GetObjectItemCaseSensitive(plan->cases[i]->vars, it->string) != NULL;
        if (!used)
            fprintf(stderr,
                    "ingestcheck: warning: variable %s is declared in the vars: of no selected "
                    "case; it is not used\n",
                    it->string);
    }
}

static int run_run(const struct cli_command *cmd, const struct cli_args *args)
{
    /* --timings: the phases' ends (loading cases, schemas, target ready,
     * cases run) from t_start. */
    double t_start = mono_ms(), t_cases = 0, t_schemas = 0, t_target = 0, t_run = 0;
    int exit_code = CLI_EXIT_USAGE;
    struct util_error err;
    struct case_loader *loader = NULL;
    struct check_contract *contract = NULL;
    struct check_contract_loader *contract_loader = NULL; /* loads while the cases do */
    struct case_suite suite;
    struct run_plan plan;
    struct run_results results;
    struct util_buf out;
    char region_url[128];
    bool http_ready = false, caught = false;
    const char *tags[CLI_MAX_VALUES], *xtags[CLI_MAX_VALUES], *globs[CLI_MAX_VALUES],
        *ops[CLI_MAX_VALUES];
    struct mock_server *mock = NULL;
    const char *mock_url = NULL;
    struct run_cassettes *cas = NULL;
    struct run_cassettes_options cas_opts = {.mode = CASSETTE_RECORD_ONCE};
    char **case_files = NULL;
    size_t ncase_files = 0, case_files_alloc = 0;
    const char *redact_fields[CLI_MAX_VALUES];
    char *clean_url = NULL, *url_userinfo = NULL;
    struct openapi_source *source = NULL;
    struct case_rename *renames = NULL;
    size_t nrenames = 0;
    cJSON *ext_vars = NULL;
    (void)cmd;
    util_error_clear(&err);
    case_suite_init(&suite);
    run_plan_init(&plan);
    run_results_init(&results);
    util_buf_init(&out, REPORT_CAP_SIZE);

    const char *schemas = cli_schemas_dir(args);
    const char *base_url = cli_get(args, OPT_BASE_URL);
    const char *region = cli_get(args, OPT_REGION);
    long jobs = cli_get_num(args, OPT_JOBS, 1);
    if (base_url && region) {
        cli_error("--base-url and --region exclude each other");
        goto cleanup;
    }
    if (region) {
        if (strcmp(region, "us") != 0 && strcmp(region, "eu") != 0) {
            cli_error("unknown --region '%s' (us or eu)", region);
            goto cleanup;
        }
        snprintf(region_url, sizeof(region_url), "https://data.%s.algolia.com", region);
        base_url = region_url;
    }
    /* Credentials in the URL are used (HTTP basic authentication) but never
     * written: from here on the URL is without them. */
    if (base_url && util_secret_split_userinfo(base_url, &clean_url, &url_userinfo)) {
        cli_error("out of memory");
        goto cleanup;
    }
    if (base_url)
        base_url = clean_url;
    if (!cli_num_in_range(args, OPT_JOBS, 1, RUN_CAP_JOBS, "jobs") ||
        !cli_num_in_range(args, OPT_TIMEOUT, 1, HTTP_CAP_TIMEOUT_MS, "timeout") ||
        !cli_num_in_range(args, OPT_RETRIES, 0, HTTP_CAP_RETRIES, "retries") ||
        !cli_num_in_range(args, OPT_MOCK_SEED, 0, LONG_MAX, "mock-seed") ||
        !cli_num_in_range(args, OPT_RATE, 1, 100000, "rate") ||
        !cli_num_in_range(args, OPT_MAX_REQUESTS, 1, LONG_MAX, "max-requests") ||
        !cli_ensure_fds(jobs))
        goto cleanup;
    /* What goes into the URL and the headers: refused before anything runs. */
    const char *opt_app_id = cli_get(args, OPT_APP_ID), *opt_api_key = cli_get(args, OPT_API_KEY);
    if ((cli_has(args, OPT_BASE_URL) && !cli_check_url("--base-url", base_url)) ||
        !cli_check_run_id(cli_get(args, OPT_RUN_ID)) ||
        !cli_check_header_value(opt_app_id ? "--app-id" : "ALGOLIA_APPLICATION_ID",
                                "x-algolia-application-id",
                                opt_app_id ? opt_app_id : getenv("ALGOLIA_APPLICATION_ID")) ||
        !cli_check_header_value(opt_api_key ? "--api-key" : "ALGOLIA_API_KEY", "x-algolia-api-key",
                                opt_api_key ? opt_api_key : getenv("ALGOLIA_API_KEY")))
        goto cleanup;
    /* --vars files in order, then --var: the last given wins. */
    if (!(ext_vars = cJSON_CreateObject())) {
        cli_error("out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < args->nvalues; i++) {
        const struct cli_value *v = &args->values[i];
        if (v->id == OPT_VARS && run_vars_load_file(ext_vars, v->str, &err)) {
            cli_report_error(&err);
            goto cleanup;
        }
    }
    for (size_t i = 0; i < args->nvalues; i++) {
        const struct cli_value *v = &args->values[i];
        if (v->id == OPT_VAR && run_vars_assign(ext_vars, v->str, &err)) {
            cli_report_error(&err);
            goto cleanup;
        }
    }
    struct coverage_gates gates;
    if (!cli_coverage_gates(cli_get(args, OPT_FAIL_UNDER), cli_has(args, OPT_FAIL_ON_SPEC_GAP),
                            &gates))
        goto cleanup;

    /* The spec: --spec FILE derived in memory, else the schemas directory;
     * case.schema.json always comes from the schemas directory. */
    if (!(source = cli_open_source(args, OPT_SPEC, true)))
        goto cleanup;
    /* Cases: refused before anything runs when one file is malformed. */
    contract_loader = check_contract_load_start(source);
    loader = case_loader_create(schemas, source, &err);
    if (!loader) {
        cli_report_error(&err);
        goto cleanup;
    }
    const char *default_paths[] = {"cases"};
    const char *const *given =
        args->npositional ? (const char *const *)args->positional : default_paths;
    size_t ngiven = args->npositional ? args->npositional : 1;
    /* Directories are expanded here so that their cassettes/ are skipped. */
    for (size_t i = 0; i < ngiven; i++) {
        struct stat st;
        int crc;
        if (stat(given[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t first = ncase_files;
            crc = collect_cases(given[i], &case_files, &ncase_files, &case_files_alloc, 0);
            if (!crc)
                qsort(case_files + first, ncase_files - first, sizeof(char *), cmp_path);
        } else {
            crc = UTIL_OK;
            if (ncase_files == case_files_alloc) {
                size_t na = case_files_alloc ? case_files_alloc * 2 : 16;
                char **nf = realloc(case_files, na * sizeof(*nf));
                if (!nf)
                    crc = UTIL_ERR_NOMEM;
                else {
                    case_files = nf;
                    case_files_alloc = na;
                }
            }
            if (!crc && !(case_files[ncase_files] = strdup(given[i])))
                crc = UTIL_ERR_NOMEM;
            if (!crc)
                ncase_files++;
        }
        if (crc) {
            cli_error("%s: cannot read the case directory (%s)", given[i], util_status_name(crc));
            goto cleanup;
        }
    }
    if (ncase_files == 0) {
        cli_error("no case file found in %s", given[0]);
        goto cleanup;
    }
    if (case_suite_load(loader, (const char *const *)case_files, ncase_files, &suite, &err) ||
        case_suite_check_headers(&suite, cli_get(args, OPT_RUN_ID), &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    t_cases = mono_ms();
    /* Operations the cases name by ids the loaded spec calls otherwise:
     * said once each. */
    if (case_suite_renames(&suite, &renames, &nrenames)) {
        cli_error("out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < nrenames; i++)
        fprintf(stderr, "ingestcheck: warning: %s is %s in this spec (%s %s)\n",
                renames[i].declared_id, renames[i].operation_id, renames[i].method,
                renames[i].path);
    struct run_selection sel = {
        .tags = tags,
        .ntags = values_of(args, OPT_TAG, tags, CLI_MAX_VALUES),
        .exclude_tags = xtags,
        .nexclude_tags = values_of(args, OPT_EXCLUDE_TAG, xtags, CLI_MAX_VALUES),
        .case_globs = globs,
        .ncase_globs = values_of(args, OPT_CASE, globs, CLI_MAX_VALUES),
        .operations = ops,
        .noperations = values_of(args, OPT_OPERATION, ops, CLI_MAX_VALUES),
    };
    if (mock_skip_policy(args, &sel) != CLI_EXIT_OK)
        goto cleanup;
    const cJSON *opdoc = case_loader_operations(loader);
    for (size_t i = 0; i < sel.noperations; i++) {
        bool found = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(opdoc, "operations"))
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "operationId");
            found = found || (cJSON_IsString(id) && strcmp(id->valuestring, ops[i]) == 0);
        }
        for (size_t j = 0; j < nrenames; j++)
            found = found || strcmp(renames[j].declared_id, ops[i]) == 0;
        if (!found) {
            cli_error("--operation '%s' is not an operationId of the spec", ops[i]);
            goto cleanup;
        }
    }
    if (run_plan_build(&suite, &sel, &plan, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    if (cli_has(args, OPT_SHARD) &&
        cli_shard_plan(cli_get(args, OPT_SHARD), &plan, cli_get(args, OPT_CASSETTES),
                       !cli_has(args, OPT_LIST) && !cli_has(args, CLI_OPT_QUIET)) != CLI_EXIT_OK)
        goto cleanup;
    warn_unused_vars(ext_vars, &plan);
    if (cli_has(args, OPT_LIST)) {
        for (size_t i = 0; i < plan.count; i++)
            printf("%s (%s:%d)\n", plan.cases[i]->name, plan.cases[i]->file, plan.cases[i]->line);
        exit_code = CLI_EXIT_OK;
        goto cleanup;
    }
    const char *dir = cli_get(args, OPT_REPORTS) ? cli_get(args, OPT_REPORTS) : "reports";
    if (!cli_check_reports_dir(dir, (const char *const *)case_files, ncase_files,
                               cli_has(args, OPT_REPORTS) ? "--reports" : "reports directory"))
        goto cleanup;
    if (plan.count == 0 && plan.planned) {
        exit_code = cli_shard_write_empty(&plan, cli_get(args, OPT_RUN_ID), base_url,
                                          cli_get(args, OPT_REPORTS));
        goto cleanup;
    }
    if (plan.count == 0) {
        cli_error("no case selected (%zu cases loaded)", case_suite_count(&suite));
        goto cleanup;
    }
    contract = check_contract_load_finish(contract_loader, &err);
    contract_loader = NULL;
    if (!contract) {
        cli_report_error(&err);
        goto cleanup;
    }
    t_schemas = mono_ms();

    /* Cassettes: mode, directory, redaction; every cassette is loaded (and
     * a corrupt one refused) before anything runs. */
    cas_opts.enabled =
        cli_has(args, OPT_CASSETTES) || cli_has(args, OPT_RECORD_MODE) || cli_has(args, OPT_REPLAY);
    if (cli_has(args, OPT_REPLAY) && cli_has(args, OPT_RECORD_MODE) &&
        cassette_record_mode_parse(cli_get(args, OPT_RECORD_MODE)) != CASSETTE_RECORD_NONE) {
        cli_error("--replay is --record-mode none; it excludes --record-mode %s",
                  cli_get(args, OPT_RECORD_MODE));
        goto cleanup;
    }
    if (cli_has(args, OPT_REPLAY))
        cas_opts.mode = CASSETTE_RECORD_NONE;
    if (cli_has(args, OPT_RECORD_MODE)) {
        int m = cassette_record_mode_parse(cli_get(args, OPT_RECORD_MODE));
        if (m < 0) {
            cli_error("unknown --record-mode '%s' (once, new_episodes, none or all)",
                      cli_get(args, OPT_RECORD_MODE));
            goto cleanup;
        }
        cas_opts.mode = (enum cassette_record_mode)m;
    }
    if (cli_has(args, OPT_MOCK_SEED) && base_url) {
        cli_error("--mock-seed seeds the embedded mock; it excludes --base-url and --region");
        goto cleanup;
    }
    cas_opts.seeded = cli_has(args, OPT_MOCK_SEED);
    cas_opts.seed = (uint64_t)cli_get_num(args, OPT_MOCK_SEED, 0);
    cas_opts.seeded_epoch = (time_t)(MOCK_SEED_EPOCH_MS / 1000);
    cas_opts.dir = cli_get(args, OPT_CASSETTES);
    cas_opts.run_id = cli_get(args, OPT_RUN_ID);
    cas_opts.redact_fields = redact_fields;
    cas_opts.nredact_fields = values_of(args, OPT_REDACT, redact_fields, CLI_MAX_VALUES);
    cas_opts.userinfo = url_userinfo;
    cas_opts.spec_sha256 = check_contract_spec_sha256(contract);
    if ((cas_opts.enabled || cas_opts.seeded) &&
        run_cassettes_create(&cas_opts, &plan, &cas, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    bool use_cas = cas_opts.enabled;
    bool offline = use_cas && cas_opts.mode == CASSETTE_RECORD_NONE;
    if (use_cas && !offline &&
        !check_cassette_outputs(cas, cas_opts.mode, case_files, ncase_files,
                                cli_has(args, OPT_CASSETTES)))
        goto cleanup;
    if (cas_opts.seeded && use_cas && !offline && jobs > 1)
        fprintf(stderr,
                "ingestcheck: note: with -j %ld the cases share the seeded mock in an "
                "order that varies; record with -j 1 for reproducible cassettes\n",
                jobs);

    /* Target and credentials. */
    const char *app_id = cli_get(args, OPT_APP_ID);
    const char *api_key = cli_get(args, OPT_API_KEY);
    if (!app_id)
        app_id = getenv("ALGOLIA_APPLICATION_ID");
    if (!api_key)
        api_key = getenv("ALGOLIA_API_KEY");
    if (offline) {
        /* Replay only: no mock, no name resolution, no socket. The
         * credentials only take part in matching, as placeholders. */
        if (!base_url)
            base_url = RUN_CASSETTES_MOCK_BASE;
        if (!app_id)
            app_id = "REPLAYAPPID";
        if (!api_key)
            api_key = "replay-api-key";
    } else if (!base_url) {
        struct mock_options mo = {.source = source,
                                  .app_id = app_id,
                                  .api_key = api_key,
                                  .seeded = cas_opts.seeded,
                                  .seed = cas_opts.seed,
                                  .run_stage_ms =
                                      cas_opts.seeded ? RUN_CASSETTES_SEEDED_RUN_STAGE_MS : 0};
        mock = mock_server_create(&mo, &err);
        if (!mock) {
            cli_error("cannot start the embedded mock: %s", err.message);
            goto cleanup;
        }
        base_url = mock_server_url(mock);
        app_id = mock_api_app_id(mock_server_api(mock));
        api_key = mock_api_api_key(mock_server_api(mock));
        if (use_cas) {
            /* Recordings name a fixed host, not the mock's ephemeral port. */
            mock_url = base_url;
            base_url = RUN_CASSETTES_MOCK_BASE;
        }
    } else if (!app_id || !api_key) {
        cli_error("credentials needed for %s: set ALGOLIA_APPLICATION_ID and ALGOLIA_API_KEY "
                  "(or --app-id and --api-key)",
                  base_url);
        goto cleanup;
    }
    if (use_cas && run_cassettes_open(cas, app_id, api_key, mock_url, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    if (!offline) {
        if (http_global_init(&err)) {
            cli_report_error(&err);
            goto cleanup;
        }
        http_ready = true;
    }

    struct http_options hopts = {
        .timeout_ms = cli_get_num(args, OPT_TIMEOUT, 0),
        .retries = (int)cli_get_num(args, OPT_RETRIES, 0),
        .insecure = cli_has(args, OPT_INSECURE),
        .cacert = cli_get(args, OPT_CACERT),
        .cancel = &run_interrupt,
    };
    struct console con = {
        .opts = {.color = cli_color(args),
                 .timings = cli_has(args, OPT_TIMINGS),
                 .verbose = cli_has(args, OPT_VERBOSE)},
        .tty =
            isatty(STDOUT_FILENO) && !getenv("CI") && !(getenv("NO_COLOR") && *getenv("NO_COLOR")),
        .quiet = cli_has(args, CLI_OPT_QUIET),
    };
    struct run_config cfg = {
        .base_url = base_url,
        .app_id = app_id,
        .api_key = api_key,
        .userinfo = url_userinfo,
        .run_id = cli_get(args, OPT_RUN_ID),
        .jobs = (unsigned)jobs,
        .transport_create = make_transport,
        .transport_user = &hopts,
        .contract = contract,
        .on_case_done = on_case_done,
        .user = &con,
        .vars = ext_vars,
        .rate = (double)cli_get_num(args, OPT_RATE, 0),
        .max_requests = cli_get_num(args, OPT_MAX_REQUESTS, 0),
    };
    cfg.secret_fields = redact_fields;
    cfg.nsecret_fields = values_of(args, OPT_REDACT, redact_fields, CLI_MAX_VALUES);
    if (cas)
        run_cassettes_configure(cas, &cfg);
    struct run_clock mock_clock = {.advance = advance_mock_clock};
    if (mock && !cli_has(args, OPT_WALL_CLOCK)) {
        mock_clock.user = mock_server_api(mock);
        cfg.clock = &mock_clock;
    }
    t_target = mono_ms();
    /* Caught until the end: a signal after the last case lets the cassettes
     * and reports be written as usual. */
    run_interrupt = 0;
    cfg.interrupt = &run_interrupt;
    catch_interrupts(true);
    caught = true;
    if (run_execute(&cfg, &plan, &results, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    t_run = mono_ms();
    if (record_spec(&results, source, renames, nrenames)) {
        cli_error("out of memory");
        goto cleanup;
    }
    size_t saved = 0;
    /* An interrupted recording is not saved: the cassettes on disk stay
     * whole. A cassette that cannot be saved does not keep the reports
     * from being written: it is said at the end. */
    struct util_error save_err;
    util_error_clear(&save_err);
    bool save_failed =
        cas && !results.interrupted && run_cassettes_save(cas, results.run_id, &saved, &save_err);
    if (save_failed && save_err.code == UTIL_ERR_NOMEM) {
        cli_report_error(&save_err);
        goto cleanup;
    }
    if (cas && run_cassettes_report(cas, &results, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    if (con.tty)
        fputs("\r\033[K", stdout);
    util_error_clear(&err);
    if (report_write(dir, &results, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    report_console_summary(&out, &results, &con.opts);
    if (con.opts.timings)
        util_buf_printf(&out,
                        "timings: loading cases %.1f ms, schemas %.1f ms, target %.1f ms; running "
                        "%.1f ms (waiting on the target %.1f ms, sleeping between polls %.1f ms; "
                        "the target's clock moved %.0f ms); reports %.1f ms\n",
                        t_cases - t_start, t_schemas - t_cases, t_target - t_schemas,
                        results.elapsed_ms, results.transport_ms, results.poll_sleep_ms,
                        results.clock_advanced_ms, mono_ms() - t_run);
    if (out.data)
        fputs(out.data, stdout);
    if (use_cas && !con.quiet) {
        size_t replayed = 0, recorded = 0;
        run_cassettes_counts(cas, &replayed, &recorded);
        printf("cassettes (%s, mode %s): %zu replayed, %zu recorded, %zu file%s written\n",
               run_cassettes_dir(cas), cassette_record_mode_name(cas_opts.mode), replayed, recorded,
               saved, saved == 1 ? "" : "s");
    }
    for (size_t i = 0; i < results.ncassettes; i++) {
        char w[1024];
        if (!results.cassettes[i].spec_changed)
            continue;
        run_cassettes_spec_warning(results.cassettes[i].path, results.cassettes[i].spec_sha256,
                                   results.spec_sha256, w, sizeof(w));
        fflush(stdout);
        fprintf(stderr, "ingestcheck: warning: %s\n", w);
    }
    fflush(stdout);
    /* The embedded mock failed by itself (out of memory or threads): the
     * failed checks of those requests are not the contract's. */
    size_t mock_failures = mock_server_failures(mock);
    /* One error line: when the run ends on an error of its own, coverage
     * that cannot be written is not said as well. */
    bool run_error = save_failed || results.target_error || mock_failures || results.interrupted ||
                     results.budget_spent;
    int cov_exit = cli_coverage_run(source, dir, &results, &gates, run_error);
    if (save_failed) {
        fflush(stdout);
        cli_error("%s; reports written to %s", save_err.message, dir);
        goto cleanup;
    }
    if (results.target_error) {
        cli_error("target error: %s", results.target_message);
        goto cleanup;
    }
    if (mock_failures && !results.interrupted) {
        cli_error("the embedded mock failed %zu time%s for want of memory or threads (HTTP 500 "
                  "or a dropped connection): the run says nothing of the contract",
                  mock_failures, mock_failures == 1 ? "" : "s");
        goto cleanup;
    }
    if (results.interrupted) {
        /* Exit 1 when a case that finished failed, else 2: the run is
         * incomplete. */
        cli_error("interrupted: %zu of %zu cases not run or cut short%s; reports written to %s",
                  run_results_cut_count(&results), results.count,
                  use_cas && cas_opts.mode != CASSETTE_RECORD_NONE ? ", cassettes not saved" : "",
                  dir);
        exit_code = results.failed || results.errors ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
        goto cleanup;
    }
    if (results.budget_spent) {
        cli_error("request budget spent (--max-requests %ld): %zu of %zu cases skipped or not "
                  "run; reports written to %s",
                  cfg.max_requests, results.skipped, results.count, dir);
        exit_code = CLI_EXIT_FAIL;
        goto cleanup;
    }
    exit_code = results.failed || results.errors ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    exit_code = cov_exit > exit_code ? cov_exit : exit_code;
cleanup:
    if (caught)
        catch_interrupts(false);
    util_buf_finish(&out);
    run_results_finish(&results);
    run_cassettes_destroy(cas);
    for (size_t i = 0; i < ncase_files; i++)
        free(case_files[i]);
    free(case_files);
    run_plan_finish(&plan);
    case_suite_finish(&suite);
    check_contract_destroy(contract);
    if (contract_loader)
        check_contract_destroy(check_contract_load_finish(contract_loader, NULL));
    case_loader_destroy(loader);
    mock_server_destroy(mock);
    if (http_ready)
        http_global_cleanup();
    free(clean_url);
    free(url_userinfo);
    free(renames);
    cJSON_Delete(ext_vars);
    openapi_source_destroy(source);
    return exit_code;
}

static const struct cli_command run_command = {
    .name = "run",
    .synopsis =
        "[--spec FILE] [--base-url URL | --region us|eu] [-j N] [--tag T] [--exclude-tag T] "
        "[--include-tag mock] "
        "[--case GLOB] [--operation ID] [--reports DIR] [--cassettes DIR] "
        "[--record-mode MODE | --replay] [--redact FIELD] [--mock-seed N] [--shard K/N] "
        "[--var NAME=VALUE] [--vars FILE] [--rate N] [--max-requests N] [--verbose] [CASES...]",
    .summary = "run contract-test cases against the embedded mock or a live server",
    .description =
        "Loads the case files (CASES: files or directories, default cases/), refusing a "
        "malformed one with file:line:column before anything runs. Each response is checked "
        "against the contract (operation, documented status, JSON content type, schema) and the "
        "case's expectations. Credentials come from ALGOLIA_APPLICATION_ID and ALGOLIA_API_KEY "
        "(or --app-id and --api-key) and are never printed; a --base-url with user:password@ "
        "sends them as HTTP basic authentication and is written without them. Writes junit.xml "
        "and results.json "
        "into the reports directory. With --cassettes, --record-mode or --replay, each case file "
        "records to and replays from one cassette (cases/tasks.yaml: DIR/tasks.yaml, default "
        "cases/cassettes): once records a missing cassette and replays an existing one, "
        "new_episodes replays what matches and records the rest, all re-records the cases that run "
        "(a file's other cases keep their recordings, and its run id), none (--replay) "
        "replays only, with no socket and no name resolved; every check runs on the replayed "
        "responses. The API key and application ID (in any encoding: raw, percent-encoded, "
        "JSON-escaped, base64) and the value of every secret member (password, key, apiKey, "
        "privateKey, client_secret, clientSecret, secret and --redact, at any depth and of any "
        "type) are redacted from cassettes, reports, coverage and the console, failure excerpts "
        "included. "
        "--mock-seed makes a recording against the embedded mock reproducible (same seed and "
        "--run-id, -j 1: byte-identical cassettes). Against the embedded mock, polling (until:) "
        "does not sleep: each interval elapses on the mock's clock, which the runner moves "
        "forward, as fake timers do (--wall-clock sleeps instead; a --base-url or --region "
        "target is always polled on the wall clock, its interval doubling at each attempt up to "
        "what is left of the timeout). Against --base-url or --region, the cases "
        "tagged mock (what only the embedded mock guarantees: its stage timing, its event counts) "
        "are skipped, each reported by name as skipped \"mock-only\", unless --include-tag mock "
        "(or --tag mock) is given. --var and --vars override the cases' vars: defaults "
        "(a capture, then --var, then the last --vars file, then vars:). --rate caps the "
        "requests per second across the workers; a 429, or a 503 with Retry-After, is retried "
        "after the time it names (at most 60 s), else with exponential backoff and jitter, six "
        "attempts at most, and counted in results.json and the summary line; --max-requests "
        "is a budget after which only teardowns are sent and the rest is not run (exit 1). "
        "Spec gaps are summed up on the console, one line per status (--verbose: each). "
        "--shard K/N runs the K-th of N balanced "
        "parts of the selected cases (by the durations the cassettes recorded, else by count; "
        "give every shard the same cases and selection); `ingestcheck merge` combines the "
        "shards' reports. SIGINT or SIGTERM stops the run within a second: no case "
        "starts any more, retries, polling and a request in flight stop, a "
        "running case stops before its next step (its teardown still runs, for at most 0.3 "
        "seconds against a live target), "
        "the reports are written with the unfinished cases skipped as \"not run: interrupted\", "
        "and an interrupted recording is not saved; a second signal ends the process at once. "
        "Exit 0 when every check passed, 1 when one failed or the request budget was spent (also "
        "when the run was interrupted "
        "after a case failed), 2 for a usage, case-file, cassette or target error (unreachable "
        "server, TLS failure), too few file descriptors for -j, the embedded mock failing for "
        "want of memory or threads, or an interrupted run in which "
        "no finished case failed.",
    .options = run_options,
    .min_positional = 0,
    .max_positional = CLI_MAX_POSITIONAL,
    .run = run_run,
};

const struct cli_command *const cli_run_commands[] = {&run_command, NULL};
