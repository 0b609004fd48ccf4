/* Entry point: picks the subcommand, handles --help, --version and the man
 * page, and maps results to exit codes (0 passed, 1 failed, 2 usage). */
#include "cli/cli.h"

#include "ingestcheck_config.h"

#include <stdio.h>
#include <string.h>

static const struct cli_command *const *const command_groups[] = {
    cli_schemas_commands, cli_validate_commands, cli_serve_commands,    cli_run_commands,
    cli_sweep_commands,
    cli_merge_commands,   cli_cassette_commands, cli_coverage_commands, cli_spec_commands,
};

#define NGROUPS (sizeof(command_groups) / sizeof(command_groups[0]))

/* Matches the longest command name made of the leading words of argv. */
static const struct cli_command *find_command(int argc, char **argv, int *words)
{
    const struct cli_command *best = NULL;
    int best_words = 0;
    for (size_t g = 0; g < NGROUPS; g++) {
        for (const struct cli_command *const *c = command_groups[g]; *c; c++) {
            const char *name = (*c)->name;
            int w = 0;
            const char *p = name;
            bool ok = true;
            while (*p && ok) {
                const char *sp = strchr(p, ' ');
                size_t len = sp ? (size_t)(sp - p) : strlen(p);
                if (w >= argc || strlen(argv[w]) != len || strncmp(argv[w], p, len) != 0)
                    ok = false;
                w++;
                p += len + (sp ? 1 : 0);
            }
            if (ok && w > best_words) {
                best = *c;
                best_words = w;
            }
        }
    }
    *words = best_words;
    return best;
}

static void print_usage(FILE *f)
{
    fprintf(f, "usage: ingestcheck [--help] [--version] COMMAND [OPTIONS] [ARGS]\n\n"
               "Contract tests and conformance checks for the Algolia Ingestion API (v1).\n\n"
               "commands:\n");
    for (size_t g = 0; g < NGROUPS; g++)
        for (const struct cli_command *const *c = command_groups[g]; *c; c++)
            fprintf(f, "  %-20s %s\n", (*c)->name, (*c)->summary);
    fprintf(f, "\n'ingestcheck COMMAND --help' describes a command's options.\n"
               "exit status: 0 all checks passed, 1 some check failed, 2 usage or "
               "configuration error.\n");
}

/* roff-escapes s (backslashes and leading dots/hyphens in words). */
static void roff(FILE *f, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\\')
            fputs("\\e", f);
        else if (*p == '-')
            fputs("\\-", f);
        else if ((*p == '.' || *p == '\'') && (p == s || p[-1] == '\n'))
            fputs("\\&.", f);
        else
            fputc(*p, f);
    }
}

static void man_options(FILE *f, const struct cli_option *t)
{
    for (; t && t->long_name; t++) {
        fputs(".TP\n", f);
        if (t->short_name)
            fprintf(f, "\\fB\\-%c\\fR, ", t->short_name);
        fputs("\\fB\\-\\-", f);
        roff(f, t->long_name);
        fputs("\\fR", f);
        if (t->arg != CLI_ARG_NONE) {
            fputs(" \\fI", f);
            roff(f, t->metavar ? t->metavar : "VALUE");
            fputs("\\fR", f);
        }
        fputc('\n', f);
        roff(f, t->help);
        if (t->repeatable)
            fputs(" (repeatable)", f);
        fputc('\n', f);
    }
}

/* Writes the man page, generated from the same tables as --help. */
static void print_man(FILE *f)
{
    fprintf(f, ".TH INGESTCHECK 1 \"\" \"ingestcheck %s\" \"User Commands\"\n",
            INGESTCHECK_VERSION);
    fputs(".SH NAME\ningestcheck \\- contract tests and conformance checks for the Algolia "
          "Ingestion API\n.SH SYNOPSIS\n\\fBingestcheck\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] "
          "[\\fIARGS\\fR]\n.SH DESCRIPTION\n"
          "ingestcheck derives JSON Schemas from the Ingestion API's OpenAPI document, "
          "validates documents and responses against them, and reports the spec's defects.\n",
          f);
    fputs(".SH COMMANDS\n", f);
    for (size_t g = 0; g < NGROUPS; g++) {
        for (const struct cli_command *const *c = command_groups[g]; *c; c++) {
            fputs(".SS \"", f);
            roff(f, (*c)->name);
            fputs(" ", f);
            roff(f, (*c)->synopsis);
            fputs("\"\n", f);
            roff(f, (*c)->summary);
            fputc('\n', f);
            if ((*c)->description) {
                fputs(".PP\n", f);
                roff(f, (*c)->description);
                fputc('\n', f);
            }
            man_options(f, (*c)->options);
        }
    }
    fputs(".SH COMMON OPTIONS\n", f);
    man_options(f, cli_common_options());
    fputs(".SH ENVIRONMENT\n.TP\n\\fBINGESTCHECK_SCHEMAS\\fR\nDerived schemas directory "
          "when \\fB\\-\\-schemas\\fR is not given.\n.TP\n\\fBNO_COLOR\\fR\nDisables colour.\n"
          ".SH EXIT STATUS\n0 all checks passed; 1 some check failed; 2 usage or "
          "configuration error, or unusable input.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("ingestcheck %s\n", INGESTCHECK_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[2], "--man") == 0) {
            print_man(stdout);
            return CLI_EXIT_OK;
        }
        int words = 0;
        const struct cli_command *cmd = argc > 2 ? find_command(argc - 2, argv + 2, &words) : NULL;
        if (!cmd) {
            print_usage(argc > 2 ? stderr : stdout);
            return argc > 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
        }
        cli_print_command_help(stdout, cmd);
        return CLI_EXIT_OK;
    }
    int words = 0;
    const struct cli_command *cmd = find_command(argc - 1, argv + 1, &words);
    if (!cmd) {
        cli_error("unknown command '%s' (see 'ingestcheck --help')", argv[1]);
        return CLI_EXIT_USAGE;
    }
    struct cli_args args;
    struct util_error err;
    util_error_clear(&err);
    if (cli_parse(cmd, argc - 1 - words, argv + 1 + words, &args, &err)) {
        cli_report_error(&err);
        return CLI_EXIT_USAGE;
    }
    if (cli_has(&args, CLI_OPT_HELP)) {
        cli_print_command_help(stdout, cmd);
        return CLI_EXIT_OK;
    }
    return cmd->run(cmd, &args);
}
