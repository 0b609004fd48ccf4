/* Every growable buffer in ingestcheck has a named cap, defined here. */
#ifndef INGESTCHECK_UTIL_CAPS_H
#define INGESTCHECK_UTIL_CAPS_H

/* A JSON document read from a file or given on the command line. */
#define UTIL_CAP_JSON_DOCUMENT (256u * 1024u * 1024u)
/* A JSON Schema file (a schema larger than this is not a schema). */
#define UTIL_CAP_SCHEMA_FILE (16u * 1024u * 1024u)
/* The OpenAPI document. */
#define UTIL_CAP_SPEC_FILE (16u * 1024u * 1024u)
/* Bytes (scalars and member names) that YAML aliases may copy into one
 * document, all aliases together: an alias bomb of big strings stops here. */
#define UTIL_CAP_YAML_ALIAS_BYTES (16u * 1024u * 1024u)
/* Bytes of JSON Pointers the YAML line table may hold: so many per input
 * byte, plus a floor (small documents nested to the depth cap): a deep chain
 * of long keys over many items stays linear in the input. */
#define UTIL_CAP_LINE_TABLE_PER_BYTE 64u
#define UTIL_CAP_LINE_TABLE_FLOOR (16u * 1024u * 1024u)
/* Nesting depth of JSON and YAML documents we accept. */
#define UTIL_CAP_NESTING_DEPTH 512
/* Number of violations one validation collects before it stops collecting. */
#define UTIL_CAP_VIOLATIONS 1000
/* Depth of schema evaluation ($ref chains, nested applicators). */
#define UTIL_CAP_EVAL_DEPTH 512
/* One HTTP header line (name, ": ", value), sent or kept. */
#define UTIL_CAP_HEADER_LINE (16u * 1024u)
/* A diagnostic message built in a buffer. */
#define UTIL_CAP_MESSAGE (64u * 1024u)

#endif
