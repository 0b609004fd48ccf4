/* Generator internals shared by translate.c and generate.c. */
#ifndef INGESTCHECK_OPENAPI_GEN_H
#define INGESTCHECK_OPENAPI_GEN_H

#include "openapi/internal.h"

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
    const struct openapi *spec;
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
    struct gen_sites degraded;  /* schemas translated as written (extra: {kind, reason}) */
    char **renamed;             /* component names whose file is not <Name>.json ... */
    char **renamed_files;       /* ... and their file stems ("name~1") */
    size_t nrenamed;
    struct util_error *err;
};

void gen_sites_clear(struct gen_sites *s);
/* Records a site unless one with the same src already exists. Takes
 * ownership of extra (freed on failure or duplicate). */
int gen_sites_add(struct gen_sites *s, const char *src, const char *file, const char *out,
                  const cJSON *node, cJSON *extra);

bool gen_is_overlapping(const struct gen *g, const char *src);

/* Drops the sites added after the first n (n <= s->count). */
void gen_sites_truncate(struct gen_sites *s, size_t n);

/* Appends a copy of s to the heap list (*list, *n). */
int gen_push(char ***list, size_t *n, const char *s);

/* Fills g->renamed / g->renamed_files for the component schemas (a JSON
 * object, may be NULL): names equal but for case would share a file on a
 * case-insensitive file system, so in each such group, sorted bytewise, the
 * first keeps <Name>.json and the k-th (from 1) becomes <Name>~<k>.json ('~'
 * cannot occur in a component name). Refuses (UTIL_ERR_INVALID, with the
 * spec line) a name that is not a valid OpenAPI component name. */
int gen_name_files(struct gen *g, const cJSON *schemas);

/* The file stem of component `name`: the name itself, or its collision-free
 * replacement ("name~1") when another component differs from it only in
 * case. Borrowed. */
const char *gen_component_file(const struct gen *g, const char *name);

/* Translates the component schema `name` into a complete schema document
 * ($schema, title first). *out is new, caller frees. */
int gen_translate_component(struct gen *g, const char *name, const cJSON *schema, cJSON **out);

/* Translates an inline schema found at src_ptr, placed at out_ptr of file;
 * references become ref_prefix + "<Name>.json". */
int gen_translate_inline(struct gen *g, const cJSON *schema, const char *src_ptr, const char *file,
                         const char *out_ptr, const char *ref_prefix, cJSON **out);

/* Matches union branches (component names) to selector enum values by
 * name: branch j matches value v when v's lower-case alphanumerics spell a
 * run of consecutive words of its name ("AuthAlgoliaInsightsPartial" and
 * "algoliaInsights"); it takes the value covering the most words, and a
 * value claimed by several branches stays with the one with the fewest
 * words left over. out[j] is the value index, or nv when branch j matches
 * none or a tie leaves it ambiguous. */
int gen_match_branches(char *const *names, size_t n, char *const *values, size_t nv, size_t *out);

#endif
