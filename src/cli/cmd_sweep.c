/* `ingestcheck sweep`: removes what a killed run left on an account (the
 * resources whose name starts with --prefix, and the tasks over them);
 * a dry run unless --yes. */
#include "cli/cli.h"

#include "http/caps.h"
#include "http/http.h"
#include "openapi/source.h"
#include "run/sweep.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/secret.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_PREFIX = 1,
    OPT_YES,
    OPT_BASE_URL,
    OPT_REGION,
    OPT_APP_ID,
    OPT_API_KEY,
    OPT_TIMEOUT,
    OPT_RETRIES,
    OPT_CACERT,
    OPT_INSECURE,
    OPT_SPEC,
};

static const struct cli_option sweep_options[] = {
    {"prefix", 0, CLI_ARG_STRING, "P",
     "sweep the authentications, sources and destinations whose name starts with P (at least 4 "
     "bytes), and the tasks over those sources and destinations",
     OPT_PREFIX, false},
    {"yes", 0, CLI_ARG_NONE, NULL, "delete them (default: a dry run that lists them)", OPT_YES,
     false},
    CLI_SPEC_OPTION(OPT_SPEC),
    {"base-url", 0, CLI_ARG_STRING, "URL", "sweep this http:// or https:// server", OPT_BASE_URL,
     false},
    {"region", 0, CLI_ARG_STRING, "REGION", "sweep https://data.REGION.algolia.com (us or eu)",
     OPT_REGION, false},
    {"app-id", 0, CLI_ARG_STRING, "ID", "application ID (default: $ALGOLIA_APPLICATION_ID)",
     OPT_APP_ID, false},
    {"api-key", 0, CLI_ARG_STRING, "KEY", "API key (default: $ALGOLIA_API_KEY; never printed)",
     OPT_API_KEY, false},
    {"timeout", 0, CLI_ARG_INT, "MS",
     "per-request timeout in milliseconds, 1 to 86400000 (default 30000)", OPT_TIMEOUT, false},
    {"retries", 0, CLI_ARG_INT, "N",
     "retries of a request after a network error, 0 to 100 (default 0)", OPT_RETRIES, false},
    {"cacert", 0, CLI_ARG_STRING, "FILE", "CA bundle for TLS verification", OPT_CACERT, false},
    {"insecure", 0, CLI_ARG_NONE, NULL, "do not verify TLS certificates", OPT_INSECURE, false},
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

/* Prints s with every control byte as '?': a name comes from the server. */
static void put_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

/* "task ID (over "NAME")" or "source ID "NAME"". */
static void put_item(FILE *f, const struct run_sweep_item *it)
{
    fprintf(f, "%s ", run_sweep_kind_name(it->kind));
    put_text(f, it->id);
    fputs(it->kind == RUN_SWEEP_TASK ? " (over \"" : " \"", f);
    put_text(f, it->name);
    fputs(it->kind == RUN_SWEEP_TASK ? "\")" : "\"", f);
}

static int run_sweep_cmd(const struct cli_command *cmd, const struct cli_args *args)
{
    int rc = CLI_EXIT_USAGE;
    struct util_error err;
    struct openapi_source *source = NULL;
    struct http_transport *t = NULL;
    struct run_sweep_result res;
    struct util_buf auth;
    char *clean_url = NULL, *userinfo = NULL;
    char region_url[128];
    bool http_ready = false;
    (void)cmd;
    util_error_clear(&err);
    run_sweep_result_init(&res);
    util_buf_init(&auth, 4096);

    const char *prefix = cli_get(args, OPT_PREFIX);
    const char *base_url = cli_get(args, OPT_BASE_URL), *region = cli_get(args, OPT_REGION);
    if (!prefix || strlen(prefix) < RUN_SWEEP_MIN_PREFIX) {
        cli_error("sweep needs --prefix of at least %d bytes, so that nobody sweeps an account by "
                  "accident",
                  RUN_SWEEP_MIN_PREFIX);
        goto cleanup;
    }
    if (base_url && region) {
        cli_error("--base-url and --region exclude each other");
        goto cleanup;
    }
    if (!base_url && !region) {
        cli_error("sweep needs a target: --base-url URL or --region us|eu");
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
    if (!cli_num_in_range(args, OPT_TIMEOUT, 1, HTTP_CAP_TIMEOUT_MS, "timeout") ||
        !cli_num_in_range(args, OPT_RETRIES, 0, HTTP_CAP_RETRIES, "retries"))
        goto cleanup;
    if (cli_has(args, OPT_BASE_URL) && !cli_check_url("--base-url", base_url))
        goto cleanup;
    /* Credentials in the URL are sent as HTTP basic authentication, never
     * printed. */
    if (util_secret_split_userinfo(base_url, &clean_url, &userinfo) ||
        (userinfo && (util_buf_puts(&auth, "Basic ") ||
                      util_base64_encode((const unsigned char *)userinfo, strlen(userinfo),
                                         &auth)))) {
        cli_error("out of memory");
        goto cleanup;
    }
    const char *app_id = cli_get(args, OPT_APP_ID), *api_key = cli_get(args, OPT_API_KEY);
    const char *app_src = app_id ? "--app-id" : "ALGOLIA_APPLICATION_ID";
    const char *key_src = api_key ? "--api-key" : "ALGOLIA_API_KEY";
    if (!app_id)
        app_id = getenv("ALGOLIA_APPLICATION_ID");
    if (!api_key)
        api_key = getenv("ALGOLIA_API_KEY");
    if (!cli_check_header_value(app_src, "x-algolia-application-id", app_id) ||
        !cli_check_header_value(key_src, "x-algolia-api-key", api_key))
        goto cleanup;
    if (!(source = cli_open_source(args, OPT_SPEC, false)))
        goto cleanup;
    if (http_global_init(&err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    http_ready = true;
    struct http_options hopts = {
        .timeout_ms = cli_get_num(args, OPT_TIMEOUT, 0),
        .retries = (int)cli_get_num(args, OPT_RETRIES, 0),
        .insecure = cli_has(args, OPT_INSECURE),
        .cacert = cli_get(args, OPT_CACERT),
    };
    if (!(t = http_curl_create(&hopts, &err))) {
        cli_report_error(&err);
        goto cleanup;
    }
    struct run_sweep_target tgt = {
        .base_url = clean_url ? clean_url : base_url,
        .app_id = app_id,
        .api_key = api_key,
        .authorization = userinfo ? auth.data : NULL,
    };
    bool yes = cli_has(args, OPT_YES);
    if (run_sweep(t, openapi_source_operations(source), &tgt, prefix, yes, &res, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    size_t deleted = 0;
    for (size_t i = 0; i < res.count; i++) {
        const struct run_sweep_item *it = &res.items[i];
        if (!yes || it->deleted) {
            fputs(yes ? "deleted " : "would delete ", stdout);
            put_item(stdout, it);
            fputc('\n', stdout);
            deleted += it->deleted;
        } else {
            fputs("ingestcheck: cannot delete ", stderr);
            put_item(stderr, it);
            fputs(": ", stderr);
            put_text(stderr, it->error ? it->error : "failed");
            fputc('\n', stderr);
        }
    }
    size_t failed = run_sweep_failures(&res);
    if (yes)
        printf("sweep %s: %zu deleted, %zu failed\n", prefix, deleted, failed);
    else
        printf("sweep %s: %zu to delete (dry run; --yes deletes them)\n", prefix, res.count);
    rc = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
cleanup:
    http_transport_destroy(t);
    if (http_ready)
        http_global_cleanup();
    openapi_source_destroy(source);
    run_sweep_result_finish(&res);
    util_buf_finish(&auth);
    free(userinfo);
    free(clean_url);
    return rc;
}

static const struct cli_command sweep_command = {
    .name = "sweep",
    .synopsis = "--prefix P [--yes] [--spec FILE] (--base-url URL | --region us|eu)",
    .summary = "delete what a killed run left on an account (a dry run unless --yes)",
    .description =
        "Lists every authentication, source and destination whose name starts with P, and every "
        "task whose source or destination is one of those (tasks have no name), following "
        "pagination; with --yes deletes them in dependency order: tasks, then sources and "
        "destinations, then authentications. Without --yes it deletes nothing and prints what it "
        "would delete (kind, ID, name). The operations are the loaded spec's at GET and DELETE "
        "/1/tasks, /1/sources, /1/destinations and /1/authentications. A prefix shorter than 4 "
        "bytes is refused. Exit 0 when everything was deleted (or listed, in a dry run), 1 when "
        "a deletion failed (one line each), 2 for a usage error or a list that could not be "
        "read.",
    .options = sweep_options,
    .min_positional = 0,
    .max_positional = 0,
    .run = run_sweep_cmd,
};

const struct cli_command *const cli_sweep_commands[] = {&sweep_command, NULL};
