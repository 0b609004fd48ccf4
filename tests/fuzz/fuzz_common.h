/* Shared by the fuzz targets: the libFuzzer entry point, the oracle that
 * checks schema_validate against schema_is_valid, and small helpers. */
#ifndef INGESTCHECK_TESTS_FUZZ_COMMON_H
#define INGESTCHECK_TESTS_FUZZ_COMMON_H

#include "schema/schema.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest input a target looks at; longer inputs return at once, so the
 * fuzzer spends its time on shapes, not on size. */
#define FUZZ_MAX_INPUT (256u * 1024u)

/* Defined once per target; called by libFuzzer or by corpus_driver.c. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FNV-1a of the input: picks per-input options deterministically. */
uint32_t fuzz_hash(const uint8_t *data, size_t size);

/* Validates instance against s twice (schema_validate and schema_is_valid)
 * and abort()s, after printing what disagreed, when:
 *  - schema_validate returns UTIL_OK but its res.valid differs from
 *    schema_is_valid;
 *  - a valid result carries violations, or an invalid one carries none;
 *  - a violation has a NULL location or message, or an instance_location
 *    that does not resolve in the instance (unless an object of the instance
 *    has duplicate member names: the pointer is ambiguous then);
 *  - schema_validate returns a code other than UTIL_OK, UTIL_ERR_NOMEM and
 *    UTIL_ERR_LIMIT (the evaluation depth cap), or such an error leaves
 *    err->code unset.
 * what names the case in the report. */
void fuzz_check_validate(const struct schema *s, const cJSON *instance, const char *what);

/* The schemas/ directory of the source tree (operations.json,
 * case.schema.json, components/): $INGESTCHECK_SOURCE_DIR/schemas when the
 * variable is set (meson test sets it), else the source dir this binary
 * was configured from. Borrowed, static. */
const char *fuzz_schemas_dir(void);

/* Whether text is one line (no '\n'), starts with prefix and has more
 * after it: the shape of every error message of a loader. */
bool fuzz_one_line_with_prefix(const char *text, const char *prefix);

/* A NUL-terminated heap copy of the input (free() it); NULL when out of
 * memory. Loaders of C strings take this, not data. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* abort()s unless (rc, err) is a refusal as loaders give it: a negative
 * status with err->code set to it and a one-line message (out of memory
 * may leave err alone). what names the call in the report. */
struct util_error;
void fuzz_check_refusal(int rc, const struct util_error *err, const char *what);

/* abort()s with a message: the oracle failed. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
