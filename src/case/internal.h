/* What the files of the case loader share (load.c, messages.c, expect.c,
 * step.c, headers.c): the loader, the typed skeleton read with libcyaml (plain
 * structs: only load.c includes <cyaml/cyaml.h>), the context of one file
 * being loaded and its error helpers. Not part of the module's interface. */
#ifndef INGESTCHECK_CASE_INTERNAL_H
#define INGESTCHECK_CASE_INTERNAL_H

#include "case/case.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct schema_result;

struct case_loader {
    struct schema_registry *reg;
    struct schema *schema; /* case.schema.json, compiled */
    cJSON *schema_doc;     /* the same document, for x-expected and key lists */
    cJSON *operations;     /* operations.json of the loaded spec */
    /* operations.json of the schemas directory when the spec was given
     * apart (--spec): the revision the cases name operations in; NULL when
     * it is the loaded one. */
    cJSON *case_operations;
};

/* The typed skeleton, read with libcyaml. */

struct cy_match {
    char **ignore_query;
    unsigned ignore_query_count;
    char **ignore_body;
    unsigned ignore_body_count;
    bool *ordered; /* NULL when not given */
};

struct cy_step {
    char *name;
    char *operation;
    char *request;
    char *method;
    char *body_raw;
    char *content_type;
    int *allow;
    unsigned allow_count;
    struct cy_match *cassette;
};

struct cy_case {
    char *name;
    char *description;
    char **tags;
    unsigned tags_count;
    struct cy_step *steps;
    unsigned steps_count;
    struct cy_step *teardown;
    unsigned teardown_count;
    struct cy_match *cassette;
};

struct cy_file {
    struct cy_case *cases;
    unsigned cases_count;
};

/* One file being loaded: where messages point. */
struct case_ctx {
    const struct case_loader *l;
    const char *name;
    struct openapi_line_table *lines;
    struct util_error *err;
    const char *text; /* the file, for values echoed as written */
    size_t len;
};

/* Sets err to "name:line:col: message" with the position of pointer. */
int case_fail_at(struct case_ctx *c, const char *pointer, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends "/" + token escaped (RFC 6901) to base into out (cut to fit;
 * base may be out). */
void case_ptr_join(char *out, size_t size, const char *base, const char *token);
/* Appends "/i" to base into out. */
void case_ptr_index(char *out, size_t size, const char *base, size_t i);

static inline char *case_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The one-line message of the most telling schema violation of res. */
int case_violation_error(struct case_ctx *c, const struct schema_result *res, const cJSON *doc);

/* Builds an expect: or until: block (node may be NULL) into e. */
int case_build_expect(struct case_ctx *c, const cJSON *node, const char *pointer,
                      struct case_expect *e);

/* Variables known while checking templates: names defined so far. */
struct case_known {
    char **names;
    size_t count;
    size_t alloc;
};

bool case_known_has(const struct case_known *k, const char *name);
int case_known_add(struct case_known *k, const char *name);
void case_known_finish(struct case_known *k);
/* Checks every template in the strings of n (keys excluded): well formed,
 * and every variable defined in k; hint says where variables come from. */
int case_check_templates(struct case_ctx *c, const cJSON *n, const char *pointer,
                         const struct case_known *k, const char *hint);

/* Builds one step from its node and skeleton; k holds the variables
 * defined before it. */
int case_build_step(struct case_ctx *c, const cJSON *node, const struct cy_step *cy,
                    const char *pointer, struct case_step *s, struct case_known *k, bool teardown);

/* The operation a step names (resolve.c). */
struct case_resolved {
    const cJSON *op;      /* the loaded spec's operation; NULL when it has none */
    const cJSON *written; /* the operation the step's parameters are checked against: op, or
                             the case-side revision's when the step names one */
    bool renamed;         /* op's operationId is not the one the step wrote */
    char missing[512];    /* why op is NULL, when written is not */
};

/* The entry of operations.json (the parsed document ops) with this
 * operationId, or NULL. */
const cJSON *case_ops_find_id(const cJSON *ops, const char *id);
/* The entry of ops with this method (any case) and a path template of the
 * same shape as path (parameter names ignored), or NULL. */
const cJSON *case_ops_find_route(const cJSON *ops, const char *method, const char *path);
/* Resolves `operation: id` (at pointer) into r; an id no revision knows
 * is refused with file:line:column. */
int case_resolve_id(struct case_ctx *c, const char *id, const char *pointer,
                    struct case_resolved *r);
/* Resolves `request: METHOD /path/{template}` (at pointer) into r; a
 * method and path no revision has is refused with file:line:column. */
int case_resolve_request(struct case_ctx *c, const char *request, const char *pointer,
                         struct case_resolved *r);

/* Refuses header names that are not RFC 9110 tokens and header values or
 * content_type holding CR, LF, NUL or another control character, in the
 * step node at pointer. */
int case_check_step_headers(struct case_ctx *c, const cJSON *node, const char *pointer);
/* Whether a raw request path can go into the request line: no CR, LF, NUL
 * or other control character (why says which when not). */
bool case_path_ok(const char *path, char *why, size_t size);

#endif
