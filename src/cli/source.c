/* The schemas source of a command (spec/source.h): `--spec FILE` derived
 * in memory, else the schemas directory (--schemas, $INGESTCHECK_SCHEMAS,
 * ./schemas, the source tree's). */
#include "cli/cli.h"

#include "openapi/source.h"

struct openapi_source *cli_open_source(const struct cli_args *a, int spec_id, bool uses_dir)
{
    struct util_error err;
    struct openapi_source *s = NULL;
    const char *spec = cli_get(a, spec_id);
    util_error_clear(&err);
    if (spec && !uses_dir && cli_has(a, CLI_OPT_SCHEMAS)) {
        cli_error("--spec %s derives every schema this command uses; --schemas %s would add "
                  "nothing (give one of them)",
                  spec, cli_get(a, CLI_OPT_SCHEMAS));
        return NULL;
    }
    if (spec ? openapi_source_open_spec(spec, &s, &err)
             : openapi_source_open_dir(cli_schemas_dir(a), &s, &err)) {
        cli_report_error(&err);
        return NULL;
    }
    return s;
}
