/* `ingestcheck validate`: one or more JSON documents against a derived
 * operation schema or any schema file. */
#include "cli/cli.h"

#include "openapi/source.h"
#include "schema/schema.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_OPERATION = 1,
    OPT_STATUS,
    OPT_REQUEST,
    OPT_SCHEMA,
    OPT_FORMATS,
    OPT_DIALECT,
    OPT_LOCATIONS,
    OPT_SPEC,
};

static const struct cli_option validate_options[] = {
    CLI_SPEC_OPTION(OPT_SPEC),
    {"operation", 'o', CLI_ARG_STRING, "ID", "validate against this operationId's schema",
     OPT_OPERATION, false},
    {"status", 's', CLI_ARG_INT, "CODE", "response status whose schema applies (default 200)",
     OPT_STATUS, false},
    {"request", 0, CLI_ARG_NONE, NULL, "validate the operation's request body instead", OPT_REQUEST,
     false},
    {"schema", 0, CLI_ARG_STRING, "FILE", "validate against this JSON Schema file", OPT_SCHEMA,
     false},
    {"formats", 0, CLI_ARG_NONE, NULL, "assert `format` (date-time, uuid, uri, email, date)",
     OPT_FORMATS, false},
    {"dialect", 0, CLI_ARG_STRING, "NAME",
     "dialect of a schema without $schema: 2020-12 (default), draft7, draft4, oas30", OPT_DIALECT,
     false},
    {"locations", 0, CLI_ARG_NONE, NULL, "also print each violation's schema keyword location",
     OPT_LOCATIONS, false},
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

/* Reads a document from a path or "-" (stdin). */
static int read_document(const char *path, cJSON **out, struct util_error *err)
{
    if (strcmp(path, "-") != 0)
        return json_load_file(path, UTIL_CAP_JSON_DOCUMENT, out, err);
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_JSON_DOCUMENT);
    char chunk[65536];
    size_t n;
    int rc = UTIL_OK;
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0 && !rc)
        rc = util_buf_append(&b, chunk, n);
    if (rc)
        util_error_set(err, rc, "<stdin>: %s",
                       rc == UTIL_ERR_LIMIT ? "larger than the cap" : "out of memory");
    else
        rc = json_parse(b.data ? b.data : "", b.len, "<stdin>", out, err);
    util_buf_finish(&b);
    return rc;
}

/* Finds the operation entry and builds the URI of the wanted schema inside
 * operations.json (registered under ops_uri). *uri is heap-allocated. */
static int operation_schema_uri(const char *ops_path, const char *ops_uri, const cJSON *ops,
                                const char *op_id, bool request, long status, char **uri,
                                struct util_error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(ops, "operations");
    int index = 0;
    const cJSON *op = NULL, *it;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "operationId");
        if (cJSON_IsString(id) && strcmp(id->valuestring, op_id) == 0) {
            op = it;
            break;
        }
        index++;
    }
    if (!op)
        return util_error_set(err, UTIL_ERR_USAGE, "%s: no operation '%s' in the spec", ops_path,
                              op_id);
    struct util_buf b;
    util_buf_init(&b, PATH_MAX + 256);
    int rc;
    if (request) {
        const cJSON *body = cJSON_GetObjectItemCaseSensitive(op, "requestBody");
        if (!cJSON_IsObject(body)) {
            util_buf_finish(&b);
            return util_error_set(err, UTIL_ERR_USAGE, "operation '%s' takes no request body",
                                  op_id);
        }
        rc = util_buf_printf(&b, "%s#/operations/%d/requestBody/schema", ops_uri, index);
    } else {
        char code[16];
        snprintf(code, sizeof(code), "%ld", status);
        const cJSON *responses = cJSON_GetObjectItemCaseSensitive(op, "responses");
        if (!cJSON_GetObjectItemCaseSensitive(responses, code)) {
            struct util_buf doc;
            util_buf_init(&doc, 256);
            const cJSON *r;
            cJSON_ArrayForEach(r, responses)
            {
                util_buf_printf(&doc, "%s%s", doc.len ? ", " : "", r->string);
            }
            util_error_set(err, UTIL_ERR_USAGE,
                           "status %ld is not documented for %s (documented: %s)", status, op_id,
                           doc.data ? doc.data : "none");
            util_buf_finish(&doc);
            util_buf_finish(&b);
            return UTIL_ERR_USAGE;
        }
        rc = util_buf_printf(&b, "%s#/operations/%d/responses/%s/schema", ops_uri, index, code);
    }
    if (rc) {
        util_buf_finish(&b);
        return util_error_set(err, rc, "out of memory");
    }
    *uri = util_buf_steal(&b);
    return UTIL_OK;
}

static int parse_dialect(const char *s, enum schema_dialect *out)
{
    if (!s || strcmp(s, "2020-12") == 0)
        *out = SCHEMA_DIALECT_2020_12;
    else if (strcmp(s, "draft7") == 0)
        *out = SCHEMA_DIALECT_DRAFT7;
    else if (strcmp(s, "draft4") == 0)
        *out = SCHEMA_DIALECT_DRAFT4;
    else if (strcmp(s, "oas30") == 0)
        *out = SCHEMA_DIALECT_OAS30;
    else
        return -1;
    return 0;
}

static int run_validate(const struct cli_command *cmd, const struct cli_args *args)
{
    int exit_code = CLI_EXIT_USAGE;
    struct util_error err;
    util_error_clear(&err);
    struct schema_registry *reg = NULL;
    struct schema *schema = NULL;
    struct openapi_source *source = NULL;
    char *ops_uri = NULL, *uri = NULL;
    const char *op_id = cli_get(args, OPT_OPERATION);
    const char *schema_path = cli_get(args, OPT_SCHEMA);
    (void)cmd;

    if (!!op_id == !!schema_path) {
        cli_error("validate needs exactly one of --operation ID or --schema FILE");
        goto out;
    }
    if (schema_path && (cli_has(args, OPT_STATUS) || cli_has(args, OPT_REQUEST))) {
        cli_error("--status and --request go with --operation, not --schema");
        goto out;
    }
    if (schema_path && cli_has(args, OPT_SPEC)) {
        cli_error("--spec goes with --operation; --schema FILE is validated as it is");
        goto out;
    }
    if (cli_has(args, OPT_STATUS) && cli_has(args, OPT_REQUEST)) {
        cli_error("--status and --request exclude each other");
        goto out;
    }
    struct schema_options opts = {.default_dialect = SCHEMA_DIALECT_2020_12,
                                  .check_formats = cli_has(args, OPT_FORMATS)};
    if (parse_dialect(cli_get(args, OPT_DIALECT), &opts.default_dialect) != 0) {
        cli_error("unknown --dialect '%s' (2020-12, draft7, draft4, oas30)",
                  cli_get(args, OPT_DIALECT));
        goto out;
    }
    reg = schema_registry_create(&opts);
    if (!reg) {
        cli_error("out of memory");
        goto out;
    }
    if (schema_path) {
        if (schema_registry_add_file(reg, schema_path, &schema, &err)) {
            cli_report_error(&err);
            goto out;
        }
    } else {
        if (!(source = cli_open_source(args, OPT_SPEC, false)))
            goto out;
        /* The operation and status first: registering compiles schemas. */
        bool found = !operation_schema_uri(
            openapi_source_operations_name(source), "", openapi_source_operations(source), op_id,
            cli_has(args, OPT_REQUEST), cli_get_num(args, OPT_STATUS, 200), &uri, &err);
        free(uri);
        uri = NULL;
        if (!found || openapi_source_register(source, reg, &ops_uri, &err) ||
            operation_schema_uri(openapi_source_operations_name(source), ops_uri,
                                 openapi_source_operations(source), op_id,
                                 cli_has(args, OPT_REQUEST), cli_get_num(args, OPT_STATUS, 200),
                                 &uri, &err) ||
            schema_registry_lookup(reg, uri, &schema, &err)) {
            cli_report_error(&err);
            goto out;
        }
    }

    bool all_valid = true, unusable = false;
    bool quiet = cli_has(args, CLI_OPT_QUIET);
    for (size_t i = 0; i < args->npositional; i++) {
        const char *path = args->positional[i];
        cJSON *doc = NULL;
        util_error_clear(&err);
        if (read_document(path, &doc, &err)) {
            cli_report_error(&err);
            unusable = true;
            continue;
        }
        struct schema_result res;
        schema_result_init(&res);
        if (schema_validate(schema, doc, &res, &err)) {
            cli_report_error(&err);
            unusable = true;
        } else if (res.valid) {
            if (!quiet)
                printf("%s: valid\n", path);
        } else {
            all_valid = false;
            printf("%s: invalid (%zu violation%s%s)\n", path, res.count, res.count == 1 ? "" : "s",
                   res.truncated ? ", list truncated" : "");
            for (size_t v = 0; v < res.count; v++) {
                printf("  %s\n", res.items[v].message);
                if (cli_has(args, OPT_LOCATIONS))
                    printf("    at %s\n", res.items[v].keyword_location);
            }
        }
        schema_result_finish(&res);
        cJSON_Delete(doc);
    }
    exit_code = unusable ? CLI_EXIT_USAGE : all_valid ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    free(uri);
    free(ops_uri);
    schema_registry_destroy(reg);
    openapi_source_destroy(source);
    return exit_code;
}

static const struct cli_command validate_command = {
    .name = "validate",
    .synopsis = "(--operation ID [--status CODE | --request] [--spec FILE] | --schema FILE) "
                "DOCUMENT...",
    .summary = "validate JSON documents against a derived operation schema or a schema file",
    .description = "Each DOCUMENT (a path, or - for standard input) is validated and every "
                   "violation printed with its JSON Pointer. Exit 0 when all are valid, 1 when "
                   "one is invalid, 2 when a document or schema cannot be used.",
    .options = validate_options,
    .min_positional = 1,
    .max_positional = CLI_MAX_POSITIONAL,
    .run = run_validate,
};

const struct cli_command *const cli_validate_commands[] = {&validate_command, NULL};
