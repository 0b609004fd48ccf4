/* `ingestcheck schemas generate | check | lint | examples`: derive schemas/
 * from the OpenAPI document, gate on the committed copy, report the spec's
 * defects and check its examples. The work is in src/openapi; this file only
 * parses options, prints and picks exit codes. */
#include "cli/cli.h"

#include "openapi/spec.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_SPEC = 1,
    OPT_OUT,
    OPT_JSON,
    OPT_REPORTS,
    OPT_STRICT,
};

#define SPEC_OPTION                                                                                \
    {                                                                                              \
        "spec", 0, CLI_ARG_STRING, "FILE",                                                         \
            "OpenAPI document (default: <schemas>/openapi/ingestion.yml)", OPT_SPEC, false         \
    }
#define END_OPTIONS                                                                                \
    {                                                                                              \
        NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false                                                \
    }

static const struct cli_option generate_options[] = {
    SPEC_OPTION,
    {"out", 0, CLI_ARG_STRING, "DIR", "write here instead of the schemas directory", OPT_OUT,
     false},
    END_OPTIONS,
};

static const struct cli_option check_options[] = {
    SPEC_OPTION,
    END_OPTIONS,
};

static const struct cli_option lint_options[] = {
    SPEC_OPTION,
    {"json", 0, CLI_ARG_NONE, NULL, "print the defects as JSON", OPT_JSON, false},
    {"reports", 0, CLI_ARG_STRING, "DIR", "also write DIR/lint.json", OPT_REPORTS, false},
    {"strict", 0, CLI_ARG_NONE, NULL, "exit 1 when the spec has any defect", OPT_STRICT, false},
    END_OPTIONS,
};

static const struct cli_option examples_options[] = {
    SPEC_OPTION,
    {"json", 0, CLI_ARG_NONE, NULL, "print the results as JSON", OPT_JSON, false},
    {"reports", 0, CLI_ARG_STRING, "DIR", "also write DIR/examples.json and DIR/examples-junit.xml",
     OPT_REPORTS, false},
    END_OPTIONS,
};

/* The spec path: --spec, else <schemas>/openapi/ingestion.yml (heap). */
static char *spec_path(const struct cli_args *args)
{
    const char *s = cli_get(args, OPT_SPEC);
    return s ? strdup(s) : util_path_join(cli_schemas_dir(args), "openapi/ingestion.yml");
}

static int load(const struct cli_args *args, struct openapi **spec)
{
    struct util_error err;
    util_error_clear(&err);
    char *path = spec_path(args);
    if (!path) {
        cli_error("out of memory");
        return CLI_EXIT_USAGE;
    }
    int rc = openapi_load(path, spec, &err);
    free(path);
    if (rc) {
        cli_report_error(&err);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Whether writing files into out leaves the spec alone: it is none of
 * them and not in out/components/, whose other files the write removes.
 * Prints the one-line error when not. */
static bool generate_spares_spec(const struct cli_args *args, const struct openapi_files *files,
                                 const char *out)
{
    char *spec = spec_path(args);
    char *components = util_path_join(out, "components");
    bool ok = spec && components;
    if (!ok)
        cli_error("out of memory");
    if (ok && cli_path_inside(spec, components)) {
        cli_error("--out %s: the spec %s is inside %s, which generate rewrites", out, spec,
                  components);
        ok = false;
    }
    for (size_t i = 0; ok && i < files->count; i++) {
        char *p = util_path_join(out, files->items[i].path);
        const char *in[] = {spec};
        ok = p ? cli_check_not_input(p, in, 1, "--out") : false;
        free(p);
    }
    free(components);
    free(spec);
    return ok;
}

/* Whether --reports (when given) can receive the files names, none of
 * them the spec; prints the one-line error when not. */
static bool reports_spare_spec(const struct cli_args *args, const char *const *names)
{
    const char *dir = cli_get(args, OPT_REPORTS);
    if (!dir)
        return true;
    char *spec = spec_path(args);
    bool ok = spec && cli_check_output(dir, true, "--reports");
    for (; ok && *names; names++) {
        char *p = util_path_join(dir, *names);
        const char *in[] = {spec};
        ok = p ? cli_check_not_input(p, in, 1, "--reports") : false;
        free(p);
    }
    free(spec);
    return ok;
}

static int run_generate(const struct cli_command *cmd, const struct cli_args *args)
{
    (void)cmd;
    struct openapi *spec = NULL;
    struct openapi_files files;
    struct util_error err;
    util_error_clear(&err);
    openapi_files_init(&files);
    const char *out = cli_get(args, OPT_OUT) ? cli_get(args, OPT_OUT) : cli_schemas_dir(args);
    int code = load(args, &spec);
    if (code == CLI_EXIT_OK && openapi_generate(spec, &files, &err)) {
        cli_report_error(&err);
        code = CLI_EXIT_USAGE;
    }
    if (code == CLI_EXIT_OK && !generate_spares_spec(args, &files, out))
        code = CLI_EXIT_USAGE;
    if (code == CLI_EXIT_OK && openapi_files_write(&files, out, &err)) {
        cli_report_error(&err);
        code = CLI_EXIT_USAGE;
    }
    if (code == CLI_EXIT_OK && !cli_has(args, CLI_OPT_QUIET))
        printf("wrote %zu files to %s\n", files.count, out);
    openapi_files_finish(&files);
    openapi_destroy(spec);
    return code;
}

static int run_check(const struct cli_command *cmd, const struct cli_args *args)
{
    (void)cmd;
    struct openapi *spec = NULL;
    struct openapi_files files;
    struct openapi_diff diff;
    struct util_error err;
    util_error_clear(&err);
    openapi_files_init(&files);
    openapi_diff_init(&diff);
    const char *dir = cli_schemas_dir(args);
    int code = load(args, &spec);
    if (code == CLI_EXIT_OK &&
        (openapi_generate(spec, &files, &err) || openapi_files_compare(&files, dir, &diff, &err))) {
        cli_report_error(&err);
        code = CLI_EXIT_USAGE;
    }
    if (code == CLI_EXIT_OK) {
        for (size_t i = 0; i < diff.count; i++)
            printf("%s/%s: %s\n", dir, diff.items[i].path,
                   openapi_diff_kind_name(diff.items[i].kind));
        if (diff.count) {
            printf("%zu of the generated files differ from %s; run `ingestcheck schemas "
                   "generate`\n",
                   diff.count, dir);
            code = CLI_EXIT_FAIL;
        } else if (!cli_has(args, CLI_OPT_QUIET)) {
            printf("%s is up to date (%zu files)\n", dir, files.count);
        }
    }
    openapi_diff_finish(&diff);
    openapi_files_finish(&files);
    openapi_destroy(spec);
    return code;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void print_compact(const cJSON *v)
{
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    if (json_print_short(&b, v, 200) == UTIL_OK)
        fputs(b.data ? b.data : "", stdout);
    util_buf_finish(&b);
}

/* One line per defect (per overlapping pair for unions). */
static void print_defect(const char *spec, const cJSON *d)
{
    const char *kind = str(d, "kind");
    int line = cJSON_GetObjectItemCaseSensitive(d, "line")->valueint;
    if (!strcmp(kind, "overlapping-union")) {
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(d, "overlaps"))
        {
            const cJSON *br = cJSON_GetObjectItemCaseSensitive(o, "branches");
            printf("%s:%d: %s: oneOf %s: %s and %s both accept ", spec, line, kind, str(d, "union"),
                   cJSON_GetArrayItem(br, 0)->valuestring, cJSON_GetArrayItem(br, 1)->valuestring);
            print_compact(cJSON_GetObjectItemCaseSensitive(o, "example"));
            putchar('\n');
        }
        return;
    }
    printf("%s:%d: %s: %s", spec, line, kind, str(d, "location"));
    if (!strcmp(kind, "invalid-example")) {
        fputs(": ", stdout);
        print_compact(cJSON_GetObjectItemCaseSensitive(d, "example"));
        printf(" (%s)", str(d, "reason"));
    } else if (!strcmp(kind, "allof-contradiction")) {
        fputs(": no instance satisfies the allOf; e.g. ", stdout);
        print_compact(cJSON_GetObjectItemCaseSensitive(d, "example"));
        fputs(" is rejected by ", stdout);
        print_compact(cJSON_GetObjectItemCaseSensitive(d, "rejectedBy"));
    } else if (!strcmp(kind, "unmapped-selector-value")) {
        fputs(": no variant for type ", stdout);
        print_compact(cJSON_GetObjectItemCaseSensitive(d, "values"));
    } else if (!strcmp(kind, "missing-acl")) {
        printf(": %s has no x-acl", str(d, "operationId"));
    } else if (!strcmp(kind, "undocumented-statuses")) {
        fputs(": only ", stdout);
        print_compact(cJSON_GetObjectItemCaseSensitive(d, "documented"));
        fputs(" documented, never ", stdout);
        print_compact(cJSON_GetObjectItemCaseSensitive(d, "neverDocumented"));
    } else if (!strcmp(kind, "unmerged-allof") || !strcmp(kind, "unselected-union")) {
        printf(": %s", str(d, "resolution"));
    } else if (!strcmp(kind, "implicit-explode")) {
        printf(": %s has no style/explode, both forms accepted", str(d, "parameter"));
    }
    putchar('\n');
}

static int write_report(const char *dir, const char *name, const char *data, size_t len)
{
    struct util_error err;
    util_error_clear(&err);
    char *path = util_path_join(dir, name);
    int rc = path ? util_mkdir_p(dir, &err) : UTIL_ERR_NOMEM;
    if (!rc)
        rc = util_file_write_atomic(path, data, len, &err);
    if (rc)
        cli_report_error(&err);
    free(path);
    return rc;
}

static int write_json_report(const char *dir, const char *name, const cJSON *doc)
{
    char *s = json_print(doc, true);
    if (!s) {
        cli_error("out of memory");
        return UTIL_ERR_NOMEM;
    }
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_JSON_DOCUMENT);
    int rc = util_buf_puts(&b, s);
    if (!rc)
        rc = util_buf_putc(&b, '\n');
    if (!rc)
        rc = write_report(dir, name, b.data, b.len);
    util_buf_finish(&b);
    free(s);
    return rc;
}

static int run_lint(const struct cli_command *cmd, const struct cli_args *args)
{
    (void)cmd;
    struct openapi *spec = NULL;
    cJSON *defects = NULL;
    struct util_error err;
    util_error_clear(&err);
    static const char *const outputs[] = {"lint.json", NULL};
    if (!reports_spare_spec(args, outputs))
        return CLI_EXIT_USAGE;
    int code = load(args, &spec);
    if (code == CLI_EXIT_OK && openapi_lint(spec, &defects, &err)) {
        cli_report_error(&err);
        code = CLI_EXIT_USAGE;
    }
    if (code == CLI_EXIT_OK) {
        if (cli_has(args, OPT_JSON)) {
            char *s = json_print(defects, true);
            if (s)
                puts(s);
            free(s);
        } else {
            const cJSON *d;
            cJSON_ArrayForEach(d, defects)
            {
                print_defect(openapi_source_name(spec), d);
            }
            printf("%d defects in %s\n", cJSON_GetArraySize(defects), openapi_source_name(spec));
        }
        if (cli_get(args, OPT_REPORTS) &&
            write_json_report(cli_get(args, OPT_REPORTS), "lint.json", defects))
            code = CLI_EXIT_USAGE;
        if (code == CLI_EXIT_OK && cli_has(args, OPT_STRICT) && cJSON_GetArraySize(defects))
            code = CLI_EXIT_FAIL;
    }
    cJSON_Delete(defects);
    openapi_destroy(spec);
    return code;
}

/* Whether defects (the committed defects.json) lists the example at loc. */
static bool known_defect(const cJSON *defects, const char *loc)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(defects, "defects"))
    {
        if (!strcmp(str(d, "kind"), "invalid-example") && !strcmp(str(d, "location"), loc))
            return true;
    }
    return false;
}

static int xml_escape(struct util_buf *b, const char *s)
{
    int rc = UTIL_OK;
    for (; *s && !rc; s++) {
        switch (*s) {
        case '<':
            rc = util_buf_puts(b, "&lt;");
            break;
        case '>':
            rc = util_buf_puts(b, "&gt;");
            break;
        case '&':
            rc = util_buf_puts(b, "&amp;");
            break;
        case '"':
            rc = util_buf_puts(b, "&quot;");
            break;
        default:
            rc = util_buf_putc(b, *s);
        }
    }
    return rc;
}

static int junit(const cJSON *results, const cJSON *known, struct util_buf *b)
{
    int n = cJSON_GetArraySize(results), failures = 0, skipped = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, results)
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "valid"))) {
            if (known_defect(known, str(r, "location")))
                skipped++;
            else
                failures++;
        }
    }
    int rc = util_buf_printf(b,
                             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                             "<testsuite name=\"spec-examples\" tests=\"%d\" failures=\"%d\" "
                             "skipped=\"%d\">\n",
                             n, failures, skipped);
    cJSON_ArrayForEach(r, results)
    {
        if (rc)
            break;
        rc = util_buf_puts(b, "  <testcase classname=\"examples\" name=\"");
        if (!rc)
            rc = xml_escape(b, str(r, "location"));
        if (!rc)
            rc = util_buf_puts(b, "\"");
        if (!rc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "valid"))) {
            rc = util_buf_puts(b, "/>\n");
            continue;
        }
        bool is_known = known_defect(known, str(r, "location"));
        if (!rc)
            rc = util_buf_puts(b, is_known ? ">\n    <skipped message=\"known spec defect: "
                                           : ">\n    <failure message=\"");
        if (!rc)
            rc = xml_escape(b, str(r, "reason"));
        if (!rc)
            rc = util_buf_puts(b, "\"/>\n  </testcase>\n");
    }
    if (!rc)
        rc = util_buf_puts(b, "</testsuite>\n");
    return rc;
}

static int run_examples(const struct cli_command *cmd, const struct cli_args *args)
{
    (void)cmd;
    struct openapi *spec = NULL;
    cJSON *results = NULL;
    cJSON *known = NULL;
    char *defects_path = NULL;
    struct util_error err;
    util_error_clear(&err);
    static const char *const outputs[] = {"examples.json", "examples-junit.xml", NULL};
    if (!reports_spare_spec(args, outputs))
        return CLI_EXIT_USAGE;
    int code = load(args, &spec);
    /* --spec without --schemas: the defects are the ones that spec derives
     * (there is no committed copy for it); else the schemas directory's. */
    bool derived = cli_get(args, OPT_SPEC) && !cli_get(args, CLI_OPT_SCHEMAS);
    if (code == CLI_EXIT_OK && derived) {
        cJSON *defects = NULL;
        known = cJSON_CreateObject();
        if (openapi_examples(spec, &results, &defects, &err)) {
            cli_report_error(&err);
            code = CLI_EXIT_USAGE;
        } else if (!known || !cJSON_AddItemToObject(known, "defects", defects)) {
            cJSON_Delete(defects);
            cli_error("out of memory");
            code = CLI_EXIT_USAGE;
        }
    } else if (code == CLI_EXIT_OK) {
        defects_path = util_path_join(cli_schemas_dir(args), "defects.json");
        if (!defects_path || openapi_examples(spec, &results, NULL, &err) ||
            json_load_file(defects_path, UTIL_CAP_SCHEMA_FILE, &known, &err)) {
            cli_report_error(&err);
            code = CLI_EXIT_USAGE;
        }
    }
    if (code == CLI_EXIT_OK) {
        int valid = 0, listed = 0, unlisted = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, results)
        {
            const char *loc = str(r, "location");
            int line = cJSON_GetObjectItemCaseSensitive(r, "line")->valueint;
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "valid"))) {
                valid++;
                continue;
            }
            bool is_known = known_defect(known, loc);
            listed += is_known;
            unlisted += !is_known;
            if (!cli_has(args, OPT_JSON))
                printf("%s:%d: example %s does not validate (%s)%s\n", openapi_source_name(spec),
                       line, loc, str(r, "reason"),
                       is_known ? "; listed in defects.json" : "; NOT listed in defects.json");
        }
        if (cli_has(args, OPT_JSON)) {
            char *s = json_print(results, true);
            if (s)
                puts(s);
            free(s);
        } else {
            printf("%d examples: %d valid, %d invalid and listed as spec defects, %d invalid "
                   "and not listed\n",
                   cJSON_GetArraySize(results), valid, listed, unlisted);
        }
        const char *dir = cli_get(args, OPT_REPORTS);
        if (dir) {
            struct util_buf x;
            util_buf_init(&x, UTIL_CAP_JSON_DOCUMENT);
            if (write_json_report(dir, "examples.json", results) || junit(results, known, &x) ||
                write_report(dir, "examples-junit.xml", x.data, x.len))
                code = CLI_EXIT_USAGE;
            util_buf_finish(&x);
        }
        if (code == CLI_EXIT_OK && unlisted)
            code = CLI_EXIT_FAIL;
    }
    free(defects_path);
    cJSON_Delete(results);
    cJSON_Delete(known);
    openapi_destroy(spec);
    return code;
}

static const struct cli_command generate_command = {
    .name = "schemas generate",
    .synopsis = "[--spec FILE] [--out DIR]",
    .summary = "derive schemas/ (components, operations.json, defects.json) from the spec",
    .description = "Reads the OpenAPI document (3.0 or 3.1) and writes components/<Name>.json "
                   "(JSON Schema 2020-12), operations.json and defects.json, reproducibly, "
                   "replacing stale component files. A union or allOf it cannot specialise is "
                   "translated as written and reported by `schemas lint`; names equal but for "
                   "case get <Name>~<k>.json (listed in operations.json, componentFiles). "
                   "Exits 2 when the spec cannot be used.",
    .options = generate_options,
    .run = run_generate,
};

static const struct cli_command check_command = {
    .name = "schemas check",
    .synopsis = "[--spec FILE]",
    .summary = "fail when the committed schemas/ differ from what the spec derives",
    .description = "Regenerates in memory and compares with the schemas directory (--schemas "
                   "DIR, e.g. one generated from another --spec); lists every changed, missing "
                   "or extra file and exits 1 when there is one.",
    .options = check_options,
    .run = run_check,
};

static const struct cli_command lint_command = {
    .name = "schemas lint",
    .synopsis = "[--spec FILE] [--json] [--reports DIR] [--strict]",
    .summary = "report the spec's defects (overlapping unions with a witness value, ...)",
    .description = "Prints each ambiguous oneOf with two branches and a value that matches both, "
                   "contradictory allOfs, invalid examples, OpenAPI 3.1 constructs, missing ACLs, "
                   "undocumented statuses, and the schemas translated as written because they "
                   "could not be specialised (unselected-union, unmerged-allof), each with its "
                   "spec line and JSON Pointer. Exits 0 unless --strict and a defect exists.",
    .options = lint_options,
    .run = run_lint,
};

static const struct cli_command examples_command = {
    .name = "schemas examples",
    .synopsis = "[--spec FILE] [--json] [--reports DIR]",
    .summary = "validate every example of the spec against its derived schema",
    .description = "Exits 1 when an example does not validate and is not listed as a spec defect "
                   "in the schemas directory's defects.json (with --spec FILE and no --schemas: "
                   "in the defects that FILE derives).",
    .options = examples_options,
    .run = run_examples,
};

const struct cli_command *const cli_schemas_commands[] = {
    &generate_command, &check_command, &lint_command, &examples_command, NULL,
};
