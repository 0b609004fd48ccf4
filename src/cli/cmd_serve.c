/* `ingestcheck serve`: the embedded mock of the Ingestion API as a
 * standalone server, until SIGINT or SIGTERM. */
#include "cli/cli.h"

#include "mock/caps.h"
#include "mock/mock.h"
#include "openapi/source.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_HOST = 1,
    OPT_PORT,
    OPT_APP_ID,
    OPT_API_KEY,
    OPT_SEED,
    OPT_VIOLATE,
    OPT_SLOW_MS,
    OPT_MAX_BODY,
    OPT_PRELOAD,
    OPT_CONN_LIMIT,
    OPT_CONN_TIMEOUT,
    OPT_RUN_STAGE_MS,
    OPT_LIST_OPERATIONS,
    OPT_SPEC,
    OPT_LATENCY,
    OPT_CLOCK_OFFSET,
    OPT_RUN_OUTCOME,
    OPT_RUN_EVENTS,
    OPT_PRELOAD_COUNTS,
};

static const struct cli_option serve_options[] = {
    CLI_SPEC_OPTION(OPT_SPEC),
    {"host", 0, CLI_ARG_STRING, "ADDR",
     "address to bind (default 127.0.0.1; anything else exposes the mock)", OPT_HOST, false},
    {"port", 'p', CLI_ARG_INT, "PORT", "port to listen on (default 0: an ephemeral port)", OPT_PORT,
     false},
    {"app-id", 0, CLI_ARG_STRING, "ID",
     "application ID to accept (default $INGESTCHECK_MOCK_APP_ID, else generated)", OPT_APP_ID,
     false},
    {"api-key", 0, CLI_ARG_STRING, "KEY",
     "API key to accept (default $INGESTCHECK_MOCK_API_KEY, else generated and printed)",
     OPT_API_KEY, false},
    {"seed", 0, CLI_ARG_STRING, "N",
     "reproducible IDs, timestamps (a logical clock from 2024-04-17T00:00:00Z, one second per "
     "request) and generated credentials",
     OPT_SEED, false},
    {"violate", 0, CLI_ARG_STRING, "CLASS[:OPERATION]",
     "break the contract: missing-required, wrong-type, bad-enum, extra-property, "
     "undocumented-status, wrong-content-type, malformed-json, slow, drop-connection",
     OPT_VIOLATE, true},
    {"slow-ms", 0, CLI_ARG_INT, "MS", "delay of the slow fault (default 3000)", OPT_SLOW_MS, false},
    {"max-body", 0, CLI_ARG_INT, "BYTES", "request body cap, 413 past it (default 1048576)",
     OPT_MAX_BODY, false},
    {"preload-tasks", 0, CLI_ARG_INT, "N",
     "start with N tasks (over 10 sources, 10 destinations, 1 authentication)", OPT_PRELOAD, false},
    {"connection-limit", 0, CLI_ARG_INT, "N", "concurrent connections (default 256)",
     OPT_CONN_LIMIT, false},
    {"connection-timeout", 0, CLI_ARG_INT, "SECONDS", "idle connection timeout (default 30)",
     OPT_CONN_TIMEOUT, false},
    {"run-stage-ms", 0, CLI_ARG_INT, "MS",
     "time a run spends in each stage (default 100 ms; with --seed 2000 ms of its logical clock, "
     "two requests)",
     OPT_RUN_STAGE_MS, false},
    {"run-outcome", 0, CLI_ARG_STRING, "success|failure|random",
     "how runs end (default success); failure: outcome failure, reasonCode critical, the last "
     "event failed; random: either, drawn per run",
     OPT_RUN_OUTCOME, false},
    {"run-events", 0, CLI_ARG_STRING, "MIN[:MAX]",
     "events a task run publishes, drawn per run from MIN to MAX (default 4; 0 allowed: the run "
     "finishes without events)",
     OPT_RUN_EVENTS, false},
    {"latency", 0, CLI_ARG_STRING, "MS[:JITTER]",
     "delay every answer by MS, plus or minus up to JITTER ms drawn from the mock's RNG "
     "(reproducible with --seed); other connections are not held up",
     OPT_LATENCY, false},
    {"clock-offset", 0, CLI_ARG_STRING, "DURATION",
     "the mock's clock is the real one (or --seed's logical one) plus DURATION: -3h, +26h, 90m "
     "(units ms, s, m, h, d); timestamps and run progress follow it",
     OPT_CLOCK_OFFSET, false},
    {"preload", 0, CLI_ARG_STRING, "KIND=N,...",
     "start with existing data: authentications, sources, destinations, tasks, runs (e.g. "
     "authentications=3,sources=5,destinations=5,tasks=20,runs=50), named \"preloaded ...\"; "
     "tasks add a source and a destination, runs a task, when none is asked for",
     OPT_PRELOAD_COUNTS, false},
    {"list-operations", 0, CLI_ARG_NONE, NULL,
     "print each operation with how it is served (modelled or generated) and exit",
     OPT_LIST_OPERATIONS, false},
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

/* "serving 61 operations: 31 modelled, 30 generated". */
static void print_counts(struct mock_api *api)
{
    size_t n = mock_api_operation_count(api), m = mock_api_modelled_count(api);
    printf("serving %zu operations: %zu modelled, %zu generated\n", n, m, n - m);
}

/* --list-operations: one line per operation, "modelled  GET /1/tasks listTasksV1". */
static int list_operations(const struct mock_options *opts)
{
    struct util_error err;
    util_error_clear(&err);
    struct mock_api *api = mock_api_create(opts, &err);
    if (!api) {
        cli_report_error(&err);
        return CLI_EXIT_USAGE;
    }
    print_counts(api);
    for (size_t i = 0; i < mock_api_operation_count(api); i++) {
        struct mock_operation_info info;
        mock_api_operation_at(api, i, &info);
        printf("%-9s %-6s %s %s\n", info.modelled ? "modelled" : "generated", info.method,
               info.path, info.operation_id);
    }
    mock_api_destroy(api);
    return CLI_EXIT_OK;
}

static int run_serve(const struct cli_command *cmd, const struct cli_args *args)
{
    int exit_code = CLI_EXIT_USAGE;
    struct util_error err;
    struct mock_violation violations[MOCK_CAP_VIOLATIONS];
    struct mock_options opts = {0};
    struct mock_server *server = NULL;
    struct openapi_source *source = NULL;
    (void)cmd;
    util_error_clear(&err);

    if (!(source = cli_open_source(args, OPT_SPEC, false)))
        goto out;
    opts.source = source;
    opts.host = cli_get(args, OPT_HOST);
    opts.app_id = cli_get(args, OPT_APP_ID);
    if (!opts.app_id && getenv("INGESTCHECK_MOCK_APP_ID") && *getenv("INGESTCHECK_MOCK_APP_ID"))
        opts.app_id = getenv("INGESTCHECK_MOCK_APP_ID");
    opts.api_key = cli_get(args, OPT_API_KEY);
    if (!opts.api_key && getenv("INGESTCHECK_MOCK_API_KEY") && *getenv("INGESTCHECK_MOCK_API_KEY"))
        opts.api_key = getenv("INGESTCHECK_MOCK_API_KEY");
    if (!cli_num_in_range(args, OPT_PORT, 0, 65535, "port") ||
        !cli_num_in_range(args, OPT_SLOW_MS, 1, 3600000, "slow-ms") ||
        !cli_num_in_range(args, OPT_MAX_BODY, 1, 1024L * 1024 * 1024, "max-body") ||
        !cli_num_in_range(args, OPT_PRELOAD, 0, MOCK_CAP_PRELOAD, "preload-tasks") ||
        !cli_num_in_range(args, OPT_CONN_LIMIT, 1, 65536, "connection-limit") ||
        !cli_num_in_range(args, OPT_CONN_TIMEOUT, 1, 86400, "connection-timeout") ||
        !cli_num_in_range(args, OPT_RUN_STAGE_MS, 1, 86400000, "run-stage-ms"))
        goto out;
    if (cli_has(args, OPT_PRELOAD) && cli_has(args, OPT_PRELOAD_COUNTS)) {
        cli_error("--preload-tasks N and --preload exclude each other (--preload-tasks N is "
                  "--preload authentications=1,sources=10,destinations=10,tasks=N)");
        goto out;
    }
    if ((cli_has(args, OPT_LATENCY) &&
         mock_latency_parse(cli_get(args, OPT_LATENCY), &opts.latency_ms, &opts.latency_jitter_ms,
                            &err)) ||
        (cli_has(args, OPT_CLOCK_OFFSET) &&
         mock_offset_parse(cli_get(args, OPT_CLOCK_OFFSET), &opts.clock_offset_ms, &err)) ||
        (cli_has(args, OPT_RUN_OUTCOME) &&
         mock_outcome_parse(cli_get(args, OPT_RUN_OUTCOME), &opts.run_outcome, &err)) ||
        (cli_has(args, OPT_RUN_EVENTS) &&
         mock_events_parse(cli_get(args, OPT_RUN_EVENTS), &opts.run_events_min,
                           &opts.run_events_max, &err)) ||
        (cli_has(args, OPT_PRELOAD_COUNTS) &&
         mock_preload_parse(cli_get(args, OPT_PRELOAD_COUNTS), &opts.preload, &err))) {
        cli_report_error(&err);
        goto out;
    }
    opts.run_events_set = cli_has(args, OPT_RUN_EVENTS);
    opts.run_stage_ms = cli_get_num(args, OPT_RUN_STAGE_MS, 0);
    opts.port = (unsigned)cli_get_num(args, OPT_PORT, 0);
    opts.slow_ms = cli_get_num(args, OPT_SLOW_MS, 0);
    opts.max_body = (size_t)cli_get_num(args, OPT_MAX_BODY, 0);
    opts.preload_tasks = (size_t)cli_get_num(args, OPT_PRELOAD, 0);
    opts.connection_limit = (unsigned)cli_get_num(args, OPT_CONN_LIMIT, 0);
    opts.connection_timeout_s = (unsigned)cli_get_num(args, OPT_CONN_TIMEOUT, 0);
    const char *seed = cli_get(args, OPT_SEED);
    if (seed) {
        char *end;
        errno = 0;
        opts.seed = strtoull(seed, &end, 0);
        if (errno || !*seed || *end || *seed == '-') {
            cli_error("--seed expects a non-negative integer, got '%s'", seed);
            goto out;
        }
        opts.seeded = true;
    }
    for (size_t i = 0; i < args->nvalues; i++) {
        if (args->values[i].id != OPT_VIOLATE)
            continue;
        if (opts.nviolations == MOCK_CAP_VIOLATIONS) {
            cli_error("at most %d --violate options", MOCK_CAP_VIOLATIONS);
            goto out;
        }
        if (mock_violation_parse(args->values[i].str, &violations[opts.nviolations], &err)) {
            cli_report_error(&err);
            goto out;
        }
        opts.nviolations++;
    }
    opts.violations = violations;
    if (cli_has(args, OPT_LIST_OPERATIONS)) {
        exit_code = list_operations(&opts);
        goto out;
    }

    /* Signals are taken by sigwait below: block them before any thread starts. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    server = mock_server_create(&opts, &err);
    if (!server) {
        cli_report_error(&err);
        goto out;
    }
    struct mock_api *api = mock_server_api(server);
    if (opts.host && strcmp(opts.host, "127.0.0.1") != 0 && strcmp(opts.host, "::1") != 0 &&
        strcmp(opts.host, "localhost") != 0)
        cli_error("warning: listening on %s, reachable from other machines", opts.host);
    /* "listening on" comes last: a reader waiting for it has the rest. */
    if (!opts.app_id)
        printf("application ID: %s (generated)\n", mock_api_app_id(api));
    if (!opts.api_key)
        printf("API key: %s (generated)\n", mock_api_api_key(api));
    for (size_t i = 0; i < opts.nviolations; i++)
        printf("violating: %s%s%s\n", mock_fault_name(violations[i].fault),
               violations[i].operation[0] ? " on " : " on every operation",
               violations[i].operation);
    print_counts(api);
    printf("listening on %s\n", mock_server_url(server));
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    if (!cli_has(args, CLI_OPT_QUIET))
        fprintf(stderr, "ingestcheck: %s received, shutting down\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    exit_code = CLI_EXIT_OK;
out:
    mock_server_destroy(server);
    openapi_source_destroy(source);
    return exit_code;
}

static const struct cli_command serve_command = {
    .name = "serve",
    .synopsis = "[--host ADDR] [--port PORT] [--seed N] [--violate CLASS[:OPERATION]]...",
    .summary = "run the embedded mock of the Ingestion API",
    .description =
        "Serves every operation of the derived schemas (any revision of the spec) until "
        "SIGINT or SIGTERM, validating requests like the real API (400 naming the field). "
        "An operation is modelled when its method and path template (parameter names aside, "
        "never its operationId) are those of a resource model: authentications, sources, "
        "destinations, tasks, runs and events under /1/; those are stateful, and their answers "
        "are made to conform to the spec (required fields the model lacks generated, fields a "
        "closed schema does not declare dropped). Every other operation is generated: it "
        "answers its documented 2xx from the schema's examples or a value generated from the "
        "schema, always valid, with fresh IDs for a POST; an unknown <x>ID in its path answers "
        "404. A catch-all template (/{path}) answers only what no specific template takes. "
        "Prints the counts of modelled and generated operations (--list-operations lists "
        "them), the URL it listens on and any generated credentials. Requests must carry "
        "x-algolia-application-id and x-algolia-api-key. --violate plants one contract "
        "violation for one operation, or for all, to test checkers.",
    .options = serve_options,
    .min_positional = 0,
    .max_positional = 0,
    .run = run_serve,
};

const struct cli_command *const cli_serve_commands[] = {&serve_command, NULL};
