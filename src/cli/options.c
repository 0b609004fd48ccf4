#include "cli/cli.h"

#include "ingestcheck_config.h"
#include "util/file.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cli_option common_options[] = {
    {"help", 'h', CLI_ARG_NONE, NULL, "show this help and exit", CLI_OPT_HELP, false},
    {"schemas", 0, CLI_ARG_STRING, "DIR",
     "derived schemas directory (default: ./schemas, then the source tree's)", CLI_OPT_SCHEMAS,
     false},
    {"no-color", 0, CLI_ARG_NONE, NULL, "never colour the output (NO_COLOR is honoured too)",
     CLI_OPT_NO_COLOR, false},
    {"quiet", 'q', CLI_ARG_NONE, NULL, "print only failures and the summary", CLI_OPT_QUIET, false},
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

static const struct cli_option *find_long(const struct cli_option *t, const char *name, size_t len)
{
    for (; t && t->long_name; t++)
        if (strlen(t->long_name) == len && strncmp(t->long_name, name, len) == 0)
            return t;
    return NULL;
}

static const struct cli_option *find_short(const struct cli_option *t, char c)
{
    for (; t && t->long_name; t++)
        if (t->short_name && t->short_name == c)
            return t;
    return NULL;
}

static int store(const struct cli_option *o, const char *value, struct cli_args *out,
                 struct util_error *err)
{
    if (!o->repeatable)
        for (size_t i = 0; i < out->nvalues; i++)
            if (out->values[i].id == o->id)
                return util_error_set(err, UTIL_ERR_USAGE, "option --%s given twice", o->long_name);
    if (out->nvalues == CLI_MAX_VALUES)
        return util_error_set(err, UTIL_ERR_USAGE, "too many options (at most %d)", CLI_MAX_VALUES);
    struct cli_value *v = &out->values[out->nvalues];
    v->id = o->id;
    v->str = value;
    v->num = 0;
    if (o->arg == CLI_ARG_INT) {
        char *end = NULL;
        errno = 0;
        long n = strtol(value, &end, 10);
        if (errno == ERANGE && *value && !*end)
            return util_error_set(err, UTIL_ERR_USAGE,
                                  "option --%s is out of range, got '%s' (a number from %ld to %ld)",
                                  o->long_name, value, LONG_MIN, LONG_MAX);
        if (errno || !*value || *end)
            return util_error_set(err, UTIL_ERR_USAGE, "option --%s expects a number, got '%s'",
                                  o->long_name, value);
        v->num = n;
    }
    out->nvalues++;
    return UTIL_OK;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *out,
              struct util_error *err)
{
    memset(out, 0, sizeof(*out));
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        const struct cli_option *o = NULL;
        const char *value = NULL;
        if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
            if (out->npositional == CLI_MAX_POSITIONAL)
                return util_error_set(err, UTIL_ERR_USAGE, "too many arguments (at most %d)",
                                      CLI_MAX_POSITIONAL);
            out->positional[out->npositional++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(cmd->options, name, len);
            if (!o)
                o = find_long(common_options, name, len);
            if (!o)
                return util_error_set(err, UTIL_ERR_USAGE,
                                      "unknown option '%.*s' for '%s' (see --help)", (int)len + 2,
                                      a, cmd->name);
            if (eq) {
                if (o->arg == CLI_ARG_NONE)
                    return util_error_set(err, UTIL_ERR_USAGE, "option --%s takes no value",
                                          o->long_name);
                value = eq + 1;
            }
        } else {
            if (a[2] != '\0')
                return util_error_set(err, UTIL_ERR_USAGE,
                                      "unknown option '%s' (short options stand alone)", a);
            o = find_short(cmd->options, a[1]);
            if (!o)
                o = find_short(common_options, a[1]);
            if (!o)
                return util_error_set(err, UTIL_ERR_USAGE, "unknown option '%s' for '%s'", a,
                                      cmd->name);
        }
        if (o->arg != CLI_ARG_NONE && !value) {
            if (i + 1 >= argc)
                return util_error_set(err, UTIL_ERR_USAGE, "option --%s needs a value (%s)",
                                      o->long_name, o->metavar ? o->metavar : "VALUE");
            value = argv[++i];
        }
        int rc = store(o, value, out, err);
        if (rc)
            return rc;
    }
    if (cli_has(out, CLI_OPT_HELP))
        return UTIL_OK;
    if (out->npositional < cmd->min_positional)
        return util_error_set(err, UTIL_ERR_USAGE, "'%s' needs %s (usage: ingestcheck %s %s)",
                              cmd->name, cmd->min_positional == 1 ? "an argument" : "arguments",
                              cmd->name, cmd->synopsis);
    if (out->npositional > cmd->max_positional)
        return util_error_set(err, UTIL_ERR_USAGE, "'%s' takes at most %zu argument%s, got %zu",
                              cmd->name, cmd->max_positional, cmd->max_positional == 1 ? "" : "s",
                              out->npositional);
    return UTIL_OK;
}

bool cli_has(const struct cli_args *a, int id)
{
    for (size_t i = 0; i < a->nvalues; i++)
        if (a->values[i].id == id)
            return true;
    return false;
}

const char *cli_get(const struct cli_args *a, int id)
{
    const char *r = NULL;
    for (size_t i = 0; i < a->nvalues; i++)
        if (a->values[i].id == id)
            r = a->values[i].str;
    return r;
}

long cli_get_num(const struct cli_args *a, int id, long dflt)
{
    long r = dflt;
    for (size_t i = 0; i < a->nvalues; i++)
        if (a->values[i].id == id)
            r = a->values[i].num;
    return r;
}

static void print_table(FILE *f, const struct cli_option *t)
{
    for (; t && t->long_name; t++) {
        char left[96];
        const char *mv = t->arg == CLI_ARG_NONE ? "" : (t->metavar ? t->metavar : "VALUE");
        if (t->short_name)
            snprintf(left, sizeof(left), "  -%c, --%s%s%s", t->short_name, t->long_name,
                     *mv ? " " : "", mv);
        else
            snprintf(left, sizeof(left), "      --%s%s%s", t->long_name, *mv ? " " : "", mv);
        fprintf(f, "%-32s %s%s\n", left, t->help, t->repeatable ? " (repeatable)" : "");
    }
}

void cli_print_command_help(FILE *f, const struct cli_command *cmd)
{
    fprintf(f, "usage: ingestcheck %s %s\n\n%s\n", cmd->name, cmd->synopsis, cmd->summary);
    if (cmd->description)
        fprintf(f, "\n%s\n", cmd->description);
    fprintf(f, "\noptions:\n");
    print_table(f, cmd->options);
    print_table(f, common_options);
}

const struct cli_option *cli_common_options(void)
{
    return common_options;
}

const char *cli_schemas_dir(const struct cli_args *a)
{
    const char *d = a ? cli_get(a, CLI_OPT_SCHEMAS) : NULL;
    if (d)
        return d;
    d = getenv("INGESTCHECK_SCHEMAS");
    if (d && *d)
        return d;
    if (util_file_exists("schemas/operations.json"))
        return "schemas";
    return INGESTCHECK_SOURCE_DIR "/schemas";
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ingestcheck: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_report_error(const struct util_error *err)
{
    fprintf(stderr, "ingestcheck: %s\n",
            err->message[0] ? err->message : util_status_name(err->code));
}

bool cli_color(const struct cli_args *a)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return false;
    if (a && cli_has(a, CLI_OPT_NO_COLOR))
        return false;
    return isatty(STDOUT_FILENO) != 0;
}
