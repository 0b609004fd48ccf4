/* Shared by the fuzz targets that load case files (case_load, headers). */
#ifndef INGESTCHECK_TESTS_FUZZ_CASE_COMMON_H
#define INGESTCHECK_TESTS_FUZZ_CASE_COMMON_H

#include "case/case.h"

/* The loader of the source tree's schemas/, made at the first call and
 * destroyed at exit; abort()s when it cannot be made. */
const struct case_loader *fuzz_case_loader(void);

#endif
