/* Named caps of the cassette module. */
#ifndef INGESTCHECK_CASSETTE_CAPS_H
#define INGESTCHECK_CASSETTE_CAPS_H

/* A cassette file; a larger file is refused before it is parsed. */
#define CASSETTE_CAP_FILE (1024u * 1024u * 1024u)
/* Interactions in one cassette. */
#define CASSETTE_CAP_INTERACTIONS 4000000u
/* Header values kept per request or response (as HTTP_CAP_HEADER_COUNT). */
#define CASSETTE_CAP_HEADERS 512u
/* One body (request or response), as HTTP_DEFAULT_MAX_BODY. */
#define CASSETTE_CAP_BODY (64u * 1024u * 1024u)
/* One scalar other than a body (URI, header value, metadata). */
#define CASSETTE_CAP_SCALAR (1024u * 1024u)
/* Nesting of a skipped (ignored) YAML value. */
#define CASSETTE_CAP_SKIP_DEPTH 64
/* Recorded {{now}}/{{uuid}} values and placeholders listed in a cassette. */
#define CASSETTE_CAP_VALUES 1000000u
/* Redaction rules: field names and known secret values. */
#define CASSETTE_CAP_REDACT_RULES 1024u
/* Secret values shorter than this are redacted only where they are found
 * by name (header, JSON field), never by a byte search elsewhere: replacing
 * every "ab" in a cassette would damage unrelated text. */
#define CASSETTE_MIN_SECRET_SEARCH_LEN 6u
/* Detail text of a match miss. */
#define CASSETTE_MISS_DETAIL_MAX 512u

#endif
