/* Generator internals shared by translate.c and generate.c. */
#ifndef INGESTCHECK_SPEC_GEN_H
#define INGESTCHECK_SPEC_GEN_H

#include "spec/internal.h"

#include <stdbool.h>
#include <stddef.h>

#define GEN_SCHEMA_DIALECT "https://json-schema.org/draft/2020-12/schema"

/* A place in the source document and its translation. */
struct gen_site {
    char *src;         /* JSON Pointer in the OpenAPI document */
    char *file;        /* generated file, "components/X.json" or "operations.json" */
    char *out;         /* JSON Pointer of the translated node in that file */
    const cJSON *node; /* borrowed source node (schema, or example value) */
    cJSON *extra;      /* owned details, or NULL */
};

struct gen_sites {
    struct gen_site *items;
    size_t count;
    size_t alloc;
};

struct gen {
    const struct spec *spec;
    const cJSON *doc;
    bool oas30;         /* openapi: 3.0.x */
    char **overlapping; /* src pointers of oneOf schemas to emit as anyOf */
    size_t noverlapping;
    struct gen_sites unions;    /* every oneOf */
    struct gen_sites examples;  /* every example (node = the value) */
    struct gen_sites nulls;     /* every type: 'null' */
    struct gen_sites merges;    /* every merged allOf (extra: {"parts": [...]}) */
    struct gen_sites selectors; /* every type-selected union (extra: see translate.c) */
    struct gen_sites null_docs; /* "`null` in the API response" on a non-null type */
    struct util_error *err;
};

void gen_sites_clear(struct gen_sites *s);
/* Records a site unless one with the same src already exists. Takes
 * ownership of extra (freed on failure or duplicate). */
int gen_sites_add(struct gen_sites *s, const char *src, const char *file, const char *out,
                  const cJSON *node, cJSON *extra);

bool gen_is_overlapping(const struct gen *g, const char *src);

/* Translates the component schema `name` into a complete schema document
 * ($schema, title first). *out is new, caller frees. */
int gen_translate_component(struct gen *g, const char *name, const cJSON *schema, cJSON **out);

/* Translates an inline schema found at src_ptr, placed at out_ptr of file;
 * references become ref_prefix + "<Name>.json". */
int gen_translate_inline(struct gen *g, const cJSON *schema, const char *src_ptr, const char *file,
                         const char *out_ptr, const char *ref_prefix, cJSON **out);

/* Splits a component name into words and lower-cases them, stripping the
 * words all names share at the start and end; used to match union branches
 * to enum values ("AuthAPIKeyPartial" among its siblings -> "apikey").
 * keys[i] are heap strings the caller frees. */
int gen_branch_keys(char *const *names, size_t n, char **keys);

/* Lower-case alphanumerics of an enum value ("ga4BigqueryExport" ->
 * "ga4bigqueryexport"); heap, caller frees. */
char *gen_value_key(const char *value);

#endif
