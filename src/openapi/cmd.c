/* Entry points for `ingestcheck schemas generate|check|lint` (no printing). */
#include "openapi/spec.h"

int openapi_cmd_generate(const char *spec_path, const char *out_dir, struct util_error *err)
{
    struct openapi *spec = NULL;
    struct openapi_files files;
    openapi_files_init(&files);
    int rc = openapi_load(spec_path, &spec, err);
    if (!rc)
        rc = openapi_generate(spec, &files, err);
    if (!rc)
        rc = openapi_files_write(&files, out_dir, err);
    openapi_files_finish(&files);
    openapi_destroy(spec);
    return rc;
}

int openapi_cmd_check(const char *spec_path, const char *schemas_dir, struct openapi_diff *diff,
                      struct util_error *err)
{
    struct openapi *spec = NULL;
    struct openapi_files files;
    openapi_files_init(&files);
    int rc = openapi_load(spec_path, &spec, err);
    if (!rc)
        rc = openapi_generate(spec, &files, err);
    if (!rc)
        rc = openapi_files_compare(&files, schemas_dir, diff, err);
    openapi_files_finish(&files);
    openapi_destroy(spec);
    return rc;
}

int openapi_cmd_lint(const char *spec_path, cJSON **defects, struct util_error *err)
{
    struct openapi *spec = NULL;
    *defects = NULL;
    int rc = openapi_load(spec_path, &spec, err);
    if (!rc)
        rc = openapi_lint(spec, defects, err);
    openapi_destroy(spec);
    return rc;
}
