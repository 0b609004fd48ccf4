/* Allocation failure injection for tests (curl's torture tests, in
 * process): alloc_fail.c defines malloc, calloc, realloc, free, strdup and
 * strndup in the test executable, so every allocation of the process goes
 * through it, the project's and its libraries' (cJSON, libyaml, libcyaml
 * and glibc's own calls alike; glibc supports replacing malloc so). Each
 * forwards to the next definition (the C library's, ASan's under
 * -fsanitize=address with gcc, valgrind's under memcheck), counting.
 *
 * While armed, allocation number N (1-based, counted from arming) fails
 * with ENOMEM, and with sticky mode every one after it too. The live count
 * (allocations made minus those freed) lets a test check that an operation
 * that failed freed everything it held, in any build. */
#ifndef INGESTCHECK_TESTS_ALLOC_FAIL_H
#define INGESTCHECK_TESTS_ALLOC_FAIL_H

#include <stdbool.h>
#include <stddef.h>

/* Starts counting; fail_at 0 fails nothing. */
void alloc_fail_arm(size_t fail_at, bool sticky);
/* Whether to print the stack of the first failed allocation of each run
 * to stderr (for finding what did not cope). */
void alloc_fail_trace(bool on);
/* Stops counting and failing. */
void alloc_fail_disarm(void);
/* Allocations requested since the last arm (failed ones included). */
size_t alloc_fail_seen(void);
/* Allocations failed on purpose since the last arm. */
size_t alloc_fail_injected(void);
/* Blocks allocated through these functions and not yet freed. */
long alloc_fail_live(void);

#endif
