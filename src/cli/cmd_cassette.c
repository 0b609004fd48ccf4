/* `ingestcheck cassette lint` and `ingestcheck cassette export`: work on
 * recorded cassettes without their cases and without any network.
 *
 * lint re-runs the contract checks (operation known, status documented,
 * JSON content type, response schema) on every recorded response with
 * today's schemas, so a spec change that breaks an old recording shows up
 * offline. export writes HAR 1.2 for browser devtools and Polly.js. */
#include "cli/cli.h"

#include "cassette/cassette.h"
#include "check/check.h"
#include "openapi/source.h"
#include "run/cassettes.h"
#include "util/buf.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum {
    OPT_STRICT = 1,
    OPT_HAR,
    OPT_SPEC,
};

/* The value of the first header called name (case-insensitive), or NULL. */
static const char *header_of(const struct cassette_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

/* The path of an absolute or relative URI, without query and fragment,
 * into out (size bytes). */
static void uri_path(const char *uri, char *out, size_t size)
{
    const char *p = strstr(uri, "://");
    p = p ? strchr(p + 3, '/') : uri;
    if (!p)
        p = "/";
    size_t n = strcspn(p, "?#");
    if (n >= size)
        n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects DIR's *.yaml (not recursive), sorted; files given as is. Each
 * entry of *out is a heap string. */
static int expand_paths(const char *const *given, size_t ngiven, char ***out, size_t *n)
{
    size_t alloc = 16;
    *n = 0;
    *out = malloc(alloc * sizeof(**out));
    if (!*out)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < ngiven; i++) {
        struct stat st;
        size_t first = *n;
        DIR *d = NULL;
        if (stat(given[i], &st) == 0 && S_ISDIR(st.st_mode) && (d = opendir(given[i]))) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                size_t len = strlen(e->d_name);
                if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
                    continue;
                if (*n == alloc) {
                    char **m = realloc(*out, alloc * 2 * sizeof(**out));
                    if (!m) {
                        closedir(d);
                        return UTIL_ERR_NOMEM;
                    }
                    *out = m;
                    alloc *= 2;
                }
                size_t sz = strlen(given[i]) + len + 2;
                if (!((*out)[*n] = malloc(sz))) {
                    closedir(d);
                    return UTIL_ERR_NOMEM;
                }
                snprintf((*out)[*n], sz, "%s/%s", given[i], e->d_name);
                (*n)++;
            }
            closedir(d);
            qsort(*out + first, *n - first, sizeof(**out), cmp_str);
            continue;
        }
        if (*n == alloc) {
            char **m = realloc(*out, alloc * 2 * sizeof(**out));
            if (!m)
                return UTIL_ERR_NOMEM;
            *out = m;
            alloc *= 2;
        }
        if (!((*out)[*n] = strdup(given[i])))
            return UTIL_ERR_NOMEM;
        (*n)++;
    }
    return UTIL_OK;
}

static void free_paths(char **p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        free(p[i]);
    free(p);
}

/* Lints one cassette: prints one line per failed check. */
static int lint_one(const struct check_contract *contract, const struct cassette *c,
                    const char *file, bool strict, size_t *checks, size_t *failed, size_t *gaps,
                    struct util_error *err)
{
    int rc = UTIL_OK;
    for (size_t i = 0; i < cassette_count(c) && !rc; i++) {
        const struct cassette_interaction *it = cassette_at(c, i);
        char path[4096];
        struct check_list l;
        cJSON *doc = NULL;
        uri_path(it->uri, path, sizeof(path));
        struct check_response cr = {
            .status = it->status,
            .content_type =
                header_of(it->response_headers, it->response_header_count, "content-type"),
            .body = it->response_body,
            .body_len = it->response_body_len,
        };
        /* Without the case, an undocumented status is a gap (the case
         * accepted it when recording), unless --strict. */
        int allowed[1] = {it->status};
        check_list_init(&l);
        rc = check_contract_response(contract, NULL, it->method, path, &cr, allowed, strict ? 0 : 1,
                                     &l, &doc, NULL, err);
        cJSON_Delete(doc);
        for (size_t k = 0; !rc && k < l.count; k++) {
            const struct check_item *ci = &l.items[k];
            (*checks)++;
            if (ci->outcome == CHECK_GAP)
                (*gaps)++;
            if (ci->outcome != CHECK_FAIL)
                continue;
            (*failed)++;
            printf("%s:%d: interaction %zu (case %s, step %s): %s %s -> %d: %s: %s\n", file,
                   it->line, i, it->case_name ? it->case_name : "-", it->step ? it->step : "-",
                   it->method, path, it->status, ci->name, ci->message ? ci->message : "");
        }
        check_list_finish(&l);
    }
    return rc;
}

static int run_lint(const struct cli_command *cmd, const struct cli_args *args)
{
    (void)cmd;
    int exit_code = CLI_EXIT_USAGE;
    struct util_error err;
    struct check_contract *contract = NULL;
    struct openapi_source *source = NULL;
    char **files = NULL;
    size_t nfiles = 0, checks = 0, failed = 0, gaps = 0, interactions = 0;
    const char *default_dir[] = {"cases/cassettes"};
    util_error_clear(&err);
    const char *const *given =
        args->npositional ? (const char *const *)args->positional : default_dir;
    size_t ngiven = args->npositional ? args->npositional : 1;
    if (expand_paths(given, ngiven, &files, &nfiles)) {
        cli_error("out of memory");
        goto cleanup;
    }
    if (nfiles == 0) {
        cli_error("no cassette found in %s", given[0]);
        goto cleanup;
    }
    if (!(source = cli_open_source(args, OPT_SPEC, false)))
        goto cleanup;
    contract = check_contract_create(source, &err);
    if (!contract) {
        cli_report_error(&err);
        goto cleanup;
    }
    for (size_t i = 0; i < nfiles; i++) {
        struct cassette *c = NULL;
        if (cassette_load_file(files[i], &c, &err)) {
            cli_report_error(&err);
            goto cleanup;
        }
        interactions += cassette_count(c);
        const char *was = cassette_spec_sha256(c), *now = check_contract_spec_sha256(contract);
        if (was && now && strcmp(was, now) != 0) {
            char w[1024];
            run_cassettes_spec_warning(files[i], was, now, w, sizeof(w));
            fflush(stdout);
            fprintf(stderr, "ingestcheck: warning: %s\n", w);
        }
        int rc = lint_one(contract, c, files[i], cli_has(args, OPT_STRICT), &checks, &failed, &gaps,
                          &err);
        cassette_destroy(c);
        if (rc) {
            cli_report_error(&err);
            goto cleanup;
        }
    }
    printf("%zu cassette%s, %zu interactions: %zu checks, %zu failed, %zu spec gaps\n", nfiles,
           nfiles == 1 ? "" : "s", interactions, checks, failed, gaps);
    exit_code = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
cleanup:
    free_paths(files, nfiles);
    check_contract_destroy(contract);
    openapi_source_destroy(source);
    return exit_code;
}

static int run_export(const struct cli_command *cmd, const struct cli_args *args)
{
    (void)cmd;
    int exit_code = CLI_EXIT_USAGE;
    struct util_error err;
    cJSON *har = NULL;
    char *text = NULL;
    util_error_clear(&err);
    const char *out = cli_get(args, OPT_HAR);
    if (!out) {
        cli_error("cassette export needs --har FILE (the only format)");
        goto cleanup;
    }
    if (strcmp(out, "-") != 0 && (!cli_check_not_input(out, (const char *const *)args->positional,
                                                       args->npositional, "--har") ||
                                  !cli_check_output(out, false, "--har")))
        goto cleanup;
    cJSON *entries = NULL;
    for (size_t i = 0; i < args->npositional; i++) {
        struct cassette *c = NULL;
        cJSON *one = NULL;
        if (cassette_load_file(args->positional[i], &c, &err)) {
            cli_report_error(&err);
            goto cleanup;
        }
        int rc = cassette_export_har(c, &one, &err);
        cassette_destroy(c);
        if (rc) {
            cli_report_error(&err);
            goto cleanup;
        }
        if (!har) {
            har = one;
            entries = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(har, "log"),
                                                       "entries");
            continue;
        }
        /* Later cassettes: their entries join the first one's log. */
        cJSON *more = cJSON_DetachItemFromObjectCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(one, "log"), "entries");
        cJSON *e;
        while (more && entries && (e = cJSON_DetachItemViaPointer(more, more->child)) != NULL)
            cJSON_AddItemToArray(entries, e);
        cJSON_Delete(more);
        cJSON_Delete(one);
    }
    if (!har || !(text = cJSON_Print(har))) {
        cli_error("out of memory");
        goto cleanup;
    }
    size_t len = strlen(text);
    if (strcmp(out, "-") == 0) {
        fwrite(text, 1, len, stdout);
        fputc('\n', stdout);
    } else if (util_file_write_atomic(out, text, len, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    exit_code = CLI_EXIT_OK;
cleanup:
    free(text);
    cJSON_Delete(har);
    return exit_code;
}

static const struct cli_option lint_options[] = {
    CLI_SPEC_OPTION(OPT_SPEC),
    {"strict", 0, CLI_ARG_NONE, NULL, "an undocumented status is a failure, not a spec gap",
     OPT_STRICT, false},
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

static const struct cli_option export_options[] = {
    {"har", 0, CLI_ARG_STRING, "FILE", "write HAR 1.2 to FILE ('-': standard output)", OPT_HAR,
     false},
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

static const struct cli_command lint_command = {
    .name = "cassette lint",
    .synopsis = "[--spec FILE] [--strict] [CASSETTES...]",
    .summary = "re-check recorded responses against today's spec, without the cases",
    .description =
        "Loads each cassette (files, or directories of *.yaml; default cases/cassettes) and runs "
        "the contract checks on every recorded response: operation known, status documented, "
        "JSON content type, response schema. Without the cases, an undocumented status counts as "
        "a spec gap (--strict: a failure). A cassette recorded against another spec (its "
        "spec_sha256) gets a warning on stderr. Opens no socket. Exit 0 when every check passed, 1 "
        "when one failed, 2 for an unreadable or corrupt cassette (file:line: reason).",
    .options = lint_options,
    .min_positional = 0,
    .max_positional = CLI_MAX_POSITIONAL,
    .run = run_lint,
};

static const struct cli_command export_command = {
    .name = "cassette export",
    .synopsis = "--har FILE CASSETTE...",
    .summary = "write cassettes as HAR 1.2 (browser devtools, Polly.js)",
    .description =
        "Writes one HAR 1.2 log with an entry per recorded interaction of the CASSETTES, in "
        "order; the case and step of each go into the entry's comment. Secrets stay redacted as "
        "they are in the cassette. The file is written atomically.",
    .options = export_options,
    .min_positional = 1,
    .max_positional = CLI_MAX_POSITIONAL,
    .run = run_export,
};

const struct cli_command *const cli_cassette_commands[] = {&lint_command, &export_command, NULL};
