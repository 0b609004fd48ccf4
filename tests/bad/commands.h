/* The command rows of the bad-input catalogue (commands.c). */
#ifndef INGESTCHECK_TESTS_BAD_COMMANDS_H
#define INGESTCHECK_TESTS_BAD_COMMANDS_H

#include <stddef.h>

/* Runs every command row whose name contains only (NULL: all) in
 * directories under tmp, printing one line each; adds to the counts
 * (total: every row, run or not). */
void bad_command_rows(const char *tmp, const char *only, size_t *passed, size_t *failed,
                      size_t *total);

#endif
