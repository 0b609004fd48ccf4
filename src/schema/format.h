/* Checkers for the `format` keyword, used when check_formats is on.
 * Internal to src/schema. */
#ifndef INGESTCHECK_SCHEMA_FORMAT_H
#define INGESTCHECK_SCHEMA_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

enum schema_format {
    SCHEMA_FORMAT_UNKNOWN = 0, /* not checked: always valid */
    SCHEMA_FORMAT_DATE_TIME,
    SCHEMA_FORMAT_DATE,
    SCHEMA_FORMAT_TIME,
    SCHEMA_FORMAT_DURATION,
    SCHEMA_FORMAT_UUID,
    SCHEMA_FORMAT_URI,
    SCHEMA_FORMAT_URI_REFERENCE,
    SCHEMA_FORMAT_EMAIL,
    SCHEMA_FORMAT_HOSTNAME,
    SCHEMA_FORMAT_IPV4,
    SCHEMA_FORMAT_IPV6,
    SCHEMA_FORMAT_REGEX,
    SCHEMA_FORMAT_JSON_POINTER,
    SCHEMA_FORMAT_RELATIVE_JSON_POINTER,
};

/* Maps a format name to its checker; SCHEMA_FORMAT_UNKNOWN when none. */
enum schema_format schema_format_lookup(const char *name);

/* True when s (len bytes) is valid for the format. */
bool schema_format_check(enum schema_format f, const char *s, size_t len);

#endif
