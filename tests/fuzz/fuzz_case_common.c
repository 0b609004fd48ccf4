/* See fuzz_case_common.h. */
#include "fuzz_case_common.h"

#include "fuzz_common.h"

#include <stdlib.h>

static struct case_loader *loader;

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
        loader = case_loader_create_dir(fuzz_schemas_dir(), &err);
        if (!loader)
            fuzz_fail("case_loader_create(%s): %s", fuzz_schemas_dir(), err.message);
        atexit(destroy_loader);
    }
    return loader;
}
