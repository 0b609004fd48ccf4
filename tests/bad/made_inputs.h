/* Inputs of the bad-input catalogue that are made when the test runs (too
 * big to commit, or not files at all): rows name them "@NAME". */
#ifndef INGESTCHECK_TESTS_BAD_MADE_INPUTS_H
#define INGESTCHECK_TESTS_BAD_MADE_INPUTS_H

#include <stdbool.h>

/* What a made input needs from its row's run. */
struct made_input {
    const char *name;     /* "@..." as rows give it */
    long deadline_ms;     /* the run's deadline (0: the catalogue's) */
    unsigned long as_kib; /* ulimit -v for the run (0: none) */
};

/* The made input called name, or NULL. */
const struct made_input *made_input_find(const char *name);

/* Makes input m at path; source is the source root (for the shipped
 * spec). False when it cannot be made. */
bool made_input_make(const struct made_input *m, const char *path, const char *source);

/* Makes a FIFO at path (nothing ever writes to it). */
bool made_fifo(const char *path);

#endif
