/* Reading a whole file, for the tests that run ingestcheck as a process. */
#ifndef INGESTCHECK_TESTS_SLURP_H
#define INGESTCHECK_TESTS_SLURP_H

#include <stddef.h>

/* The whole file, NUL-terminated (NULL when it cannot be read or memory
 * runs out); *len its size when len is not NULL. Caller frees. */
char *test_slurp(const char *path, size_t *len);

#endif
