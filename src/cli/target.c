/* What a run sends that comes from options and the environment: the
 * target URL, the credentials and the run id, checked before anything
 * runs so that none of them can split a header line or reach another
 * scheme than http and https. */
#include "cli/cli.h"

#include "http/http.h"
#include "util/caps.h"
#include "util/header.h"

#include <stdio.h>
#include <string.h>

bool cli_check_url(const char *option, const char *url)
{
    struct util_error err;
    util_error_clear(&err);
    if (http_url_check(url, &err) == UTIL_OK)
        return true;
    cli_error("%s %s", option, err.message);
    return false;
}

bool cli_check_header_value(const char *source, const char *header, const char *value)
{
    char why[128];
    if (!value)
        return true;
    size_t n = strlen(value);
    if (!util_header_value_ok(value, n, why, sizeof(why))) {
        cli_error("%s %s; it goes into the %s header", source, why, header);
        return false;
    }
    if (n + strlen(header) + 2 > UTIL_CAP_HEADER_LINE) {
        cli_error("%s is longer than %zu bytes; it goes into the %s header", source,
                  UTIL_CAP_HEADER_LINE - strlen(header) - 2, header);
        return false;
    }
    return true;
}

bool cli_check_run_id(const char *id)
{
    char why[128];
    if (!id)
        return true;
    size_t n = strlen(id);
    if (n == 0 || n > CLI_CAP_RUN_ID) {
        cli_error("--run-id must be 1 to %d bytes long, got %zu", CLI_CAP_RUN_ID, n);
        return false;
    }
    if (strchr(id, '\t'))
        snprintf(why, sizeof(why), "contains a tab");
    else if (util_header_value_ok(id, n, why, sizeof(why)))
        return true;
    cli_error("--run-id %s; it goes into resource names, paths and headers", why);
    return false;
}
