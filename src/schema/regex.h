/* A small ECMA-262-flavoured regular expression engine for `pattern`,
 * `patternProperties` and the `regex` format. Patterns compile to a
 * program run by a Pike VM over Unicode code points, so matching time is
 * linear in the subject (lookahead sub-matches are bounded by a step
 * budget). Internal to src/schema. */
#ifndef INGESTCHECK_SCHEMA_REGEX_H
#define INGESTCHECK_SCHEMA_REGEX_H

#include <stdbool.h>
#include <stddef.h>

struct schema_regex;

/* Compiles an ECMA-262 pattern (no flags, unicode mode). Returns NULL and
 * writes a reason (at most errlen bytes) when the pattern is malformed,
 * uses an unsupported feature (backreferences, lookbehind) or is too
 * large; *nomem is set when the failure was an allocation. */
struct schema_regex *schema_regex_compile(const char *pattern, char *errbuf, size_t errlen,
                                          bool *nomem);
void schema_regex_destroy(struct schema_regex *re);

/* Searches s (len bytes of UTF-8) for a match anywhere. Returns 1 on a
 * match, 0 on none, -1 when the step budget ran out or memory failed. */
int schema_regex_search(const struct schema_regex *re, const char *s, size_t len);

#endif
