/* Entry points for `ingestcheck schemas generate|check|lint` (no printing). */
#include "spec/spec.h"

int spec_cmd_generate(const char *spec_path, const char *out_dir, struct util_error *err)
{
    struct spec *spec = NULL;
    struct spec_files files;
    spec_files_init(&files);
    int rc = spec_load(spec_path, &spec, err);
    if (!rc)
        rc = spec_generate(spec, &files, err);
    if (!rc)
        rc = spec_files_write(&files, out_dir, err);
    spec_files_finish(&files);
    spec_destroy(spec);
    return rc;
}

int spec_cmd_check(const char *spec_path, const char *schemas_dir, struct spec_diff *diff,
                   struct util_error *err)
{
    struct spec *spec = NULL;
    struct spec_files files;
    spec_files_init(&files);
    int rc = spec_load(spec_path, &spec, err);
    if (!rc)
        rc = spec_generate(spec, &files, err);
    if (!rc)
        rc = spec_files_compare(&files, schemas_dir, diff, err);
    spec_files_finish(&files);
    spec_destroy(spec);
    return rc;
}

int spec_cmd_lint(const char *spec_path, cJSON **defects, struct util_error *err)
{
    struct spec *spec = NULL;
    *defects = NULL;
    int rc = spec_load(spec_path, &spec, err);
    if (!rc)
        rc = spec_lint(spec, defects, err);
    spec_destroy(spec);
    return rc;
}
