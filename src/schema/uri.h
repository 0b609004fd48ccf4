/* RFC 3986 URI references: parsing, resolution against a base, and the
 * fragment handling the schema registry needs. Internal to src/schema. */
#ifndef INGESTCHECK_SCHEMA_URI_H
#define INGESTCHECK_SCHEMA_URI_H

#include <stdbool.h>
#include <stddef.h>

/* Resolves ref against base (RFC 3986 section 5.2, with dot-segment
 * removal). base may be NULL or empty, in which case ref is only
 * normalised. The scheme and host are lower-cased and an empty trailing
 * fragment ("#") is dropped. Heap string, caller frees; NULL on ENOMEM. */
char *schema_uri_resolve(const char *base, const char *ref);

/* True when uri starts with a scheme ("http:", "urn:", "file:"). */
bool schema_uri_has_scheme(const char *uri);

/* Length of uri without its fragment (the offset of '#', or strlen). */
size_t schema_uri_base_len(const char *uri);

/* Percent-decodes n bytes of s into a heap string; NULL on ENOMEM. */
char *schema_uri_decode(const char *s, size_t n);

#endif
