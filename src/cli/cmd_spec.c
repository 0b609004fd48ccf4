/* `ingestcheck spec diff OLD NEW`: the changes between two revisions of the
 * OpenAPI document, breaking or not. The work is in src/openapi/diff.c; this
 * file parses options, prints (console, --json, --markdown) and picks the
 * exit code. */
#include "cli/cli.h"

#include "openapi/diff.h"
#include "openapi/spec.h"
#include "json/json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_JSON = 1,
    OPT_MARKDOWN,
    OPT_FAIL_ON_BREAKING,
};

static const struct cli_option diff_options[] = {
    {"json", 0, CLI_ARG_NONE, NULL, "print the changes as JSON (shape in doc/spec-diff.md)",
     OPT_JSON, false},
    {"markdown", 0, CLI_ARG_NONE, NULL, "print a Markdown table per operation, for a pull request",
     OPT_MARKDOWN, false},
    {"fail-on-breaking", 0, CLI_ARG_NONE, NULL, "exit 1 when a change is breaking",
     OPT_FAIL_ON_BREAKING, false},
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

/* Prints s with control characters as \xNN (one line whatever the spec
 * holds) and, for Markdown, '|' escaped. */
static void put_text(const char *s, bool markdown)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            printf("\\x%02X", *p);
        else if (markdown && (*p == '|' || *p == '`'))
            printf("\\%c", *p);
        else
            putchar(*p);
    }
}

/* "#/pointer:line", or "-" when absent. */
static void put_loc(const struct openapi_change_loc *l, bool markdown)
{
    if (!l->pointer) {
        fputs("-", stdout);
        return;
    }
    if (markdown)
        fputs("`", stdout);
    putchar('#');
    put_text(l->pointer, markdown);
    printf(":%d", l->line);
    if (markdown)
        fputs("`", stdout);
}

static bool same_operation(const struct openapi_change *a, const struct openapi_change *b)
{
    return !strcmp(a->method, b->method) && !strcmp(a->path, b->path) &&
           a->old_operation_id == b->old_operation_id && a->new_operation_id == b->new_operation_id;
}

/* "GET /1/tasks (getTasks -> listTasksV1)" */
static void put_operation(const struct openapi_change *c, bool markdown)
{
    if (markdown)
        fputs("### `", stdout);
    put_text(c->method, markdown);
    putchar(' ');
    put_text(c->path, markdown);
    if (markdown)
        fputs("`", stdout);
    fputs(" (", stdout);
    const char *o = c->old_operation_id, *n = c->new_operation_id;
    if (o && n && strcmp(o, n) != 0) {
        put_text(o, markdown);
        fputs(" -> ", stdout);
        put_text(n, markdown);
    } else {
        put_text(n ? n : o, markdown);
    }
    fputs(!o ? ", added)" : !n ? ", removed)" : ")", stdout);
    putchar('\n');
}

static void put_summary(const struct openapi *o, const struct openapi *n,
                        const struct openapi_changes *c)
{
    printf("%zu changes, %zu breaking; operations: %zu added, %zu removed, %zu renamed, %zu "
           "changed (%s %s -> %s %s)\n",
           c->count, c->breaking, c->operations_added, c->operations_removed, c->operations_renamed,
           c->operations_changed, openapi_source_name(o), openapi_version(o),
           openapi_source_name(n), openapi_version(n));
}

static void print_console(const struct openapi *o, const struct openapi *n,
                          const struct openapi_changes *c, bool color, bool quiet)
{
    const struct openapi_change *group = NULL;
    for (size_t i = 0; i < c->count; i++) {
        const struct openapi_change *ch = &c->items[i];
        if (quiet && !ch->breaking)
            continue;
        if (!group || !same_operation(group, ch)) {
            put_operation(ch, false);
            group = ch;
        }
        if (ch->breaking)
            fputs(color ? "  \033[31mBREAKING\033[0m " : "  BREAKING ", stdout);
        else
            fputs("           ", stdout);
        put_text(ch->message, false);
        printf(" [%s] (old ", ch->id);
        put_loc(&ch->old_loc, false);
        fputs(", new ", stdout);
        put_loc(&ch->new_loc, false);
        fputs(")\n", stdout);
    }
    put_summary(o, n, c);
}

static void print_markdown(const struct openapi *o, const struct openapi *n,
                           const struct openapi_changes *c)
{
    printf("## API changes: %s %s -> %s %s\n\n", openapi_title(o), openapi_version(o),
           openapi_title(n), openapi_version(n));
    printf("**%zu changes, %zu breaking.** Operations: %zu added, %zu removed, %zu renamed, %zu "
           "changed.\n",
           c->count, c->breaking, c->operations_added, c->operations_removed, c->operations_renamed,
           c->operations_changed);
    const struct openapi_change *group = NULL;
    for (size_t i = 0; i < c->count; i++) {
        const struct openapi_change *ch = &c->items[i];
        if (!group || !same_operation(group, ch)) {
            putchar('\n');
            put_operation(ch, true);
            fputs("\n| | Change | Kind | Old | New |\n|---|---|---|---|---|\n", stdout);
            group = ch;
        }
        fputs(ch->breaking ? "| **breaking** | " : "| | ", stdout);
        put_text(ch->message, true);
        printf(" | `%s` | ", ch->id);
        put_loc(&ch->old_loc, true);
        fputs(" | ", stdout);
        put_loc(&ch->new_loc, true);
        fputs(" |\n", stdout);
    }
}

static int run_diff(const struct cli_command *cmd, const struct cli_args *args)
{
    (void)cmd;
    if (cli_has(args, OPT_JSON) && cli_has(args, OPT_MARKDOWN)) {
        cli_error("spec diff: --json and --markdown exclude each other");
        return CLI_EXIT_USAGE;
    }
    struct openapi *o = NULL, *n = NULL;
    struct openapi_changes changes;
    openapi_changes_init(&changes);
    struct util_error err;
    util_error_clear(&err);
    int code = CLI_EXIT_OK;
    if (openapi_load(args->positional[0], &o, &err) ||
        openapi_load(args->positional[1], &n, &err) ||
        openapi_changes_compute(o, n, &changes, &err)) {
        cli_report_error(&err);
        code = CLI_EXIT_USAGE;
    }
    if (code == CLI_EXIT_OK && cli_has(args, OPT_JSON)) {
        cJSON *doc = openapi_changes_to_json(o, n, &changes);
        char *s = doc ? json_print(doc, true) : NULL;
        if (s)
            puts(s);
        else
            code = CLI_EXIT_USAGE;
        if (!s)
            cli_error("out of memory");
        free(s);
        cJSON_Delete(doc);
    } else if (code == CLI_EXIT_OK && cli_has(args, OPT_MARKDOWN)) {
        print_markdown(o, n, &changes);
    } else if (code == CLI_EXIT_OK) {
        print_console(o, n, &changes, cli_color(args), cli_has(args, CLI_OPT_QUIET));
    }
    if (code == CLI_EXIT_OK && cli_has(args, OPT_FAIL_ON_BREAKING) && changes.breaking)
        code = CLI_EXIT_FAIL;
    openapi_changes_finish(&changes);
    openapi_destroy(o);
    openapi_destroy(n);
    return code;
}

static const struct cli_command diff_command = {
    .name = "spec diff",
    .synopsis = "[--json | --markdown] [--fail-on-breaking] OLD NEW",
    .summary = "list the changes between two revisions of the spec, breaking or not",
    .description =
        "Matches operations by method and path template (path parameter names aside), not by "
        "operationId, and compares their operationIds, parameters, request bodies and responses "
        "down their schemas ($ref, allOf, oneOf/anyOf, properties, items). Each change has a "
        "kind, whether it breaks a client written against OLD (the rules follow oasdiff's, "
        "differences in doc/spec-diff.md), both operationIds and the JSON Pointer and line in "
        "each document. Prints one group per operation and a summary; -q prints only breaking "
        "changes. Exits 2 when a document cannot be used, 1 with --fail-on-breaking when a "
        "change is breaking, else 0.",
    .options = diff_options,
    .min_positional = 2,
    .max_positional = 2,
    .run = run_diff,
};

const struct cli_command *const cli_spec_commands[] = {
    &diff_command,
    NULL,
};
