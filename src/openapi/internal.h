/* Internals of the spec module shared between its files. */
#ifndef INGESTCHECK_OPENAPI_INTERNAL_H
#define INGESTCHECK_OPENAPI_INTERNAL_H

#include "openapi/spec.h"
#include "openapi/yaml_json.h"

struct openapi {
    cJSON *doc;
    struct openapi_line_table *lines;
    char *source;
    char sha256[OPENAPI_SHA256_HEX_SIZE];
    const char *title;
    const char *version;
    const char *openapi;
    struct openapi_operation *ops;
    size_t nops;
};

/* Follows local $ref chains inside doc; NULL when one does not resolve. */
const cJSON *openapi_ref_target(const cJSON *doc, const cJSON *node);
/* Why openapi_ref_target(doc, node) is NULL, in out: "$ref #/x does not
 * resolve", or a cycle of references with the chain ("... : #/a -> #/b ->
 * #/a"). */
void openapi_ref_problem(const cJSON *doc, const cJSON *node, char *out, size_t cap);

/* The component name of "#/components/schemas/<Name>" (unescaped, heap,
 * caller frees), or NULL when ref is not of that form. */
char *openapi_schema_ref_name(const char *ref);

/* Appends the pointer of "#/..." ref (URI fragment decoded) to b. */
int openapi_ref_pointer(const char *ref, struct util_buf *b);

#endif
