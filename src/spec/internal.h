/* Internals of the spec module shared between its files. */
#ifndef INGESTCHECK_SPEC_INTERNAL_H
#define INGESTCHECK_SPEC_INTERNAL_H

#include "spec/spec.h"
#include "spec/yaml_json.h"

struct spec {
    cJSON *doc;
    struct spec_line_table *lines;
    char *source;
    char sha256[SPEC_SHA256_HEX_SIZE];
    const char *title;
    const char *version;
    const char *openapi;
    struct spec_operation *ops;
    size_t nops;
};

/* Follows local $ref chains inside doc; NULL when one does not resolve. */
const cJSON *spec_ref_target(const cJSON *doc, const cJSON *node);
/* Why spec_ref_target(doc, node) is NULL, in out: "$ref #/x does not
 * resolve", or a cycle of references with the chain ("... : #/a -> #/b ->
 * #/a"). */
void spec_ref_problem(const cJSON *doc, const cJSON *node, char *out, size_t cap);

/* The component name of "#/components/schemas/<Name>" (unescaped, heap,
 * caller frees), or NULL when ref is not of that form. */
char *spec_schema_ref_name(const char *ref);

/* Appends the pointer of "#/..." ref (URI fragment decoded) to b. */
int spec_ref_pointer(const char *ref, struct util_buf *b);

#endif
