/* See fuzz_case_common.h. */
#include "fuzz_case_common.h"

#include "fuzz_common.h"
#include "spec/source.h"

#include <stdlib.h>

static struct case_loader *loader;

/* A case loader over the schemas directory (a source read from disk). */
static struct case_loader *loader_of(const char *dir, struct util_error *err)
{
    struct spec_source *src = NULL;
    struct case_loader *l =
        spec_source_open_dir(dir, &src, err) ? NULL : case_loader_create(dir, src, err);
    spec_source_destroy(src);
    return l;
}

static void destroy_loader(void)
{
    case_loader_destroy(loader);
    loader = NULL;
}

const struct case_loader *fuzz_case_loader(void)
{
    if (!loader) {
        struct util_error err;
        util_error_clear(&err);
        loader = loader_of(fuzz_schemas_dir(), &err);
        if (!loader)
            fuzz_fail("case_loader_create(%s): %s", fuzz_schemas_dir(), err.message);
        atexit(destroy_loader);
    }
    return loader;
}
