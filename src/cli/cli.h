/* The command-line front end. Only cli/ prints and picks exit codes. Every
 * subcommand is a struct cli_command whose option table drives parsing,
 * `--help` and the man page (see options.c). */
#ifndef INGESTCHECK_CLI_CLI_H
#define INGESTCHECK_CLI_CLI_H

#include "util/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cli_exit {
    CLI_EXIT_OK = 0,    /* everything checked passed */
    CLI_EXIT_FAIL = 1,  /* some check failed */
    CLI_EXIT_USAGE = 2, /* usage or configuration error, unusable input */
};

enum cli_arg { CLI_ARG_NONE, CLI_ARG_STRING, CLI_ARG_INT };

struct cli_option {
    const char *long_name; /* without "--"; NULL ends a table */
    char short_name;       /* 0 when none */
    enum cli_arg arg;
    const char *metavar; /* shown in help: --status N */
    const char *help;    /* one line */
    int id;              /* key used by cli_get*; unique within a command */
    bool repeatable;     /* may be given more than once */
};

#define CLI_MAX_VALUES 64
#define CLI_MAX_POSITIONAL 256

struct cli_value {
    int id;
    const char *str; /* borrowed from argv; NULL for CLI_ARG_NONE */
    long num;
};

/* Parsed arguments of one command; borrows from argv. */
struct cli_args {
    struct cli_value values[CLI_MAX_VALUES];
    size_t nvalues;
    char *positional[CLI_MAX_POSITIONAL];
    size_t npositional;
};

struct cli_command {
    const char *name;                 /* "validate", "schemas generate" */
    const char *synopsis;             /* after the name: "[OPTIONS] DOCUMENT" */
    const char *summary;              /* one line */
    const char *description;          /* paragraph for --help and the man page; may be NULL */
    const struct cli_option *options; /* terminated by an entry with long_name NULL */
    size_t min_positional;
    size_t max_positional;
    int (*run)(const struct cli_command *cmd, const struct cli_args *args);
};

/* Options every command accepts (--help, --schemas, --no-color). */
enum { CLI_OPT_HELP = 1000, CLI_OPT_SCHEMAS, CLI_OPT_NO_COLOR, CLI_OPT_QUIET };

/* The table of common options. */
const struct cli_option *cli_common_options(void);

/* Parses argv (argv[0] is the first word after the command name) against
 * cmd's table and the common options. On error fills err with a one-line
 * message naming the option. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *out,
              struct util_error *err);

bool cli_has(const struct cli_args *a, int id);
/* Last value given for id, or NULL. */
const char *cli_get(const struct cli_args *a, int id);
/* Last numeric value for id, or dflt. */
long cli_get_num(const struct cli_args *a, int id, long dflt);

/* Prints `usage:` and the option table of cmd. */
void cli_print_command_help(FILE *f, const struct cli_command *cmd);

/* The schemas directory: --schemas, else $INGESTCHECK_SCHEMAS, else
 * ./schemas when it holds operations.json, else the source tree's. Borrowed
 * or static storage. */
const char *cli_schemas_dir(const struct cli_args *a);

/* The --spec entry of a command's option table (source.c). */
#define CLI_SPEC_OPTION(id)                                                                        \
    {                                                                                              \
        "spec", 0, CLI_ARG_STRING, "FILE",                                                         \
            "use this revision of the OpenAPI document, derived in memory (default: the schemas "  \
            "directory's)",                                                                        \
            id, false                                                                              \
    }

/* The derived schemas of a command: --spec FILE (the option spec_id)
 * derived in memory, else the schemas directory. uses_dir: the command
 * also reads the schemas directory itself (case.schema.json), so --spec
 * and --schemas go together; else giving both is refused. Prints the
 * one-line error and returns NULL on failure; caller destroys
 * (openapi_source_destroy). */
struct openapi_source;
struct openapi_source *cli_open_source(const struct cli_args *a, int spec_id, bool uses_dir);

/* Prints "ingestcheck: <message>" to stderr (one line). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an error struct as "ingestcheck: [file:line:col: ]message". */
void cli_report_error(const struct util_error *err);

/* Longest --run-id: it prefixes resource names and may go into paths,
 * bodies and headers. */
#define CLI_CAP_RUN_ID 256

/* Whether --base-url (option names it) is an http or https URL with a host
 * and a valid port; prints a one-line error and returns false when not. */
bool cli_check_url(const char *option, const char *url);
/* Whether value (may be NULL), given by source (an option or environment
 * variable), can be sent in the header called header: no CR, LF, NUL or
 * other control character, within the header line cap. Prints a one-line
 * error naming source (never the value) and returns false when not. */
bool cli_check_header_value(const char *source, const char *header, const char *value);
/* Whether --run-id (may be NULL) has no control character and is at most
 * CLI_CAP_RUN_ID bytes; prints a one-line error when not. */
bool cli_check_run_id(const char *id);

/* File descriptors a run needs besides those open: reports, case files,
 * cassettes and the embedded mock's own; then per job a socket at each end
 * of a connection to the embedded mock and libcurl's. */
#define CLI_FDS_BASE 10
#define CLI_FDS_PER_JOB 4

/* Whether a run with jobs workers has the descriptors it needs, raising
 * the soft RLIMIT_NOFILE up to the hard one when that is enough; prints a
 * one-line error and returns false when it is not. */
bool cli_ensure_fds(long jobs);

/* Whether the numeric option id (absent: fine) lies in [lo, hi]; else
 * prints "--name must be between lo and hi, got v" and returns false. */
bool cli_num_in_range(const struct cli_args *args, int id, long lo, long hi, const char *name);

/* ---- outputs (outputs.c): checked before anything runs ---- */

/* The files a reports directory receives (run, merge, coverage),
 * NULL-terminated. */
extern const char *const cli_report_files[];
/* Whether a and b are the same file: same device and inode when both
 * exist, else the same resolved path (b may be an output not there yet). */
bool cli_same_file(const char *a, const char *b);
/* Whether path (which need not exist) lies inside the directory dir. */
bool cli_path_inside(const char *path, const char *dir);
/* Whether path, a directory (is_dir) or a file, can be written: it is of
 * that kind when it exists, its deepest existing ancestor is a directory,
 * and a file can be created there. Else prints one line naming option and
 * path and returns false. */
bool cli_check_output(const char *path, bool is_dir, const char *option);
/* Whether output is none of the inputs (cli_same_file); else prints one
 * line naming both and returns false. inputs may hold NULLs. */
bool cli_check_not_input(const char *output, const char *const *inputs, size_t ninputs,
                         const char *option);
/* cli_check_output of the reports directory dir, and cli_check_not_input
 * of each of its cli_report_files. */
bool cli_check_reports_dir(const char *dir, const char *const *inputs, size_t ninputs,
                           const char *option);

/* Whether stdout gets colour (a TTY, no NO_COLOR, no --no-color). */
bool cli_color(const struct cli_args *a);

/* --shard K/N of `run` (cmd_merge.c): parses spec and keeps that shard of
 * plan, balanced by the durations recorded in the cassettes of the
 * directory cassettes (NULL: the default of --cassettes), else by count;
 * prints "shard K/N: X of P cases" when announce, and any error. Returns
 * an exit code (CLI_EXIT_OK to go on). */
struct run_plan;
int cli_shard_plan(const char *spec, struct run_plan *plan, const char *cassettes, bool announce);
/* Writes the reports of a shard that holds no case into reports (NULL:
 * "reports"), so that `merge` finds every shard. Returns an exit code. */
int cli_shard_write_empty(const struct run_plan *plan, const char *run_id, const char *base_url,
                          const char *reports);

/* ---- API coverage (cmd_coverage.c), shared by run and coverage ---- */

struct coverage_gates;
struct run_results;

/* The option entries of the coverage gates, for a command's table. */
/* clang-format off */
#define CLI_COVERAGE_GATE_OPTIONS(fail_under_id, fail_on_gap_id)                                   \
    {"fail-under", 0, CLI_ARG_STRING, "DIM=P,...",                                                 \
     "exit 1 when API coverage is below P % (operations, statuses, parameters, enums, branches, " \
     "properties)",                                                                                \
     fail_under_id, false},                                                                        \
    {"fail-on-spec-gap", 0, CLI_ARG_NONE, NULL,                                                    \
     "exit 1 when a status the spec does not document was seen", fail_on_gap_id, false}
/* clang-format on */

/* Fills g from the values of --fail-under (may be NULL) and
 * --fail-on-spec-gap; prints the error and returns false on a bad value. */
bool cli_coverage_gates(const char *fail_under, bool fail_on_spec_gap, struct coverage_gates *g);

/* Computes the API coverage of a run's results over source, writes
 * coverage.json, coverage.html, coverage.md and api-coverage.info into
 * dir, prints the coverage summary line and every failed
 * gate. Returns CLI_EXIT_OK, CLI_EXIT_FAIL when a gate failed, or
 * CLI_EXIT_USAGE when coverage could not be computed while a gate was
 * asked for (without gates that is only a warning). quiet: the caller
 * reports an error of its own (stderr keeps one line), so coverage that
 * cannot be computed or written is not said. */
int cli_coverage_run(const struct openapi_source *source, const char *dir,
                     const struct run_results *r, const struct coverage_gates *g, bool quiet);

/* Command tables of the subcommand files, NULL-terminated arrays. */
extern const struct cli_command *const cli_validate_commands[];
extern const struct cli_command *const cli_schemas_commands[];
extern const struct cli_command *const cli_spec_commands[];
extern const struct cli_command *const cli_serve_commands[];
extern const struct cli_command *const cli_run_commands[];
extern const struct cli_command *const cli_cassette_commands[];
extern const struct cli_command *const cli_merge_commands[];
extern const struct cli_command *const cli_coverage_commands[];
extern const struct cli_command *const cli_sweep_commands[];

#endif
