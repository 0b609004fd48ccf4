/* What the expectation files of the check module share (expect.c,
 * matchers.c): where a match is, and the recursive matcher. Not part of
 * the module's interface. */
#ifndef INGESTCHECK_CHECK_INTERNAL_H
#define INGESTCHECK_CHECK_INTERNAL_H

#include "check/check.h"

/* Where a match is: its pointer, whether it lies under a secret member,
 * and what is secret. */
struct at {
    struct util_buf *ptr;
    bool secret;
    const struct check_secrets *s;
};

/* Appends a failed item at at's pointer: actual quoted (no secret shown),
 * message "POINTER: why" ("body: why" at the root). Returns 1, or -1 on
 * ENOMEM. */
int check_fail_at(struct check_list *out, const char *name, const struct at *at,
                  const cJSON *actual, const char *expected, const char *why);
/* Matches exp against act (NULL: absent) at at; appends mismatches;
 * returns their count (-1 on ENOMEM). exact: objects list every key. */
int check_match_at(const cJSON *exp, const cJSON *act, bool exact, const char *name,
                   const struct at *at, struct check_list *out);
/* Evaluates the matcher k (one of $each, $sorted, $not, $in, $gt, $gte,
 * $lt, $lte) with argument arg against act (NULL only for $not); same
 * return as check_match_at. */
int check_match_more(const char *k, const cJSON *arg, const cJSON *act, const char *name,
                     const struct at *at, struct check_list *out);

#endif
