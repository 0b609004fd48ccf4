/* What may go into an HTTP request header (RFC 9110, section 5): a name is
 * a token, a value has no CR, LF, NUL or other control character but tab.
 * Case files, options and the transport all ask these, so that no source
 * can split a header line. */
#ifndef INGESTCHECK_UTIL_HEADER_H
#define INGESTCHECK_UTIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

/* Whether c is a tchar of RFC 9110 (token characters). */
bool util_header_tchar(unsigned char c);

/* Whether name is a non-empty token. When not, and why is not NULL, why
 * (size bytes) says what is wrong: "contains a space (a header name is an
 * RFC 9110 token)". */
bool util_header_name_ok(const char *name, char *why, size_t size);

/* Whether the len bytes of value can be sent as a header value. When not,
 * why says which character is wrong: "contains a line feed (LF)". */
bool util_header_value_ok(const char *value, size_t len, char *why, size_t size);

#endif
