/* The changes between two revisions of an OpenAPI document, each classified
 * as breaking for a client written against the old one or not
 * (`ingestcheck spec diff OLD NEW`; doc/spec-diff.md has the rules).
 *
 * Operations are matched by method and path template, the names of path
 * parameters left out ("/1/tasks/{taskID}" is "/1/tasks/{id}"), never by
 * operationId. Matched operations are compared member by member: the
 * operationId, parameters (path parameters by position in the template,
 * others by name and location), the request body and the responses (by
 * status); the schemas under them are walked together through $ref, allOf
 * (merged: properties, required and additionalProperties of every part),
 * oneOf/anyOf (branches matched by $ref, else by position), properties and
 * items, at most OPENAPI_DIFF_MAX_DEPTH levels deep; a pair of schemas already
 * compared for the operation (a shared or recursive component) is not
 * compared again. A type is compared only where both revisions declare one.
 *
 * Every change names both operationIds, method and path, and where it is in
 * each document: a JSON Pointer (RFC 6901, as openapi_line_of takes it) and its
 * YAML line, absent (NULL, line 0) in the document that lacks the thing. */
#ifndef INGESTCHECK_OPENAPI_DIFF_H
#define INGESTCHECK_OPENAPI_DIFF_H

#include "openapi/spec.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Most changes one comparison lists; past it openapi_changes_compute fails
 * with UTIL_ERR_LIMIT. */
#define OPENAPI_DIFF_CAP_CHANGES 100000u
/* Most pairs of schemas one comparison visits, all operations together
 * (bounds the time on documents made to blow up a walk). */
#define OPENAPI_DIFF_CAP_VISITS 4000000u
/* Deepest nesting of schemas compared; deeper levels are not compared. */
#define OPENAPI_DIFF_MAX_DEPTH 64
/* Most allOf parts merged into one object view. */
#define OPENAPI_DIFF_MAX_PARTS 64

enum openapi_change_where {
    OPENAPI_CHANGE_OPERATION, /* the operation itself */
    OPENAPI_CHANGE_PARAMETER, /* a parameter or its schema */
    OPENAPI_CHANGE_REQUEST,   /* the request body or its schema */
    OPENAPI_CHANGE_RESPONSE,  /* a response or its schema */
};

enum openapi_change_kind {
    OPENAPI_CHANGE_ADDED,            /* operation, parameter, body, status */
    OPENAPI_CHANGE_REMOVED,          /* operation, parameter, body, status */
    OPENAPI_CHANGE_ID_CHANGED,       /* operationId */
    OPENAPI_CHANGE_BECAME_REQUIRED,  /* parameter, body */
    OPENAPI_CHANGE_BECAME_OPTIONAL,  /* parameter, body */
    OPENAPI_CHANGE_MEDIA_ADDED,      /* a content type of a body */
    OPENAPI_CHANGE_MEDIA_REMOVED,    /* a content type of a body */
    OPENAPI_CHANGE_PROP_ADDED,       /* a property of an object schema */
    OPENAPI_CHANGE_PROP_REMOVED,     /* a property of an object schema */
    OPENAPI_CHANGE_PROP_REQUIRED,    /* a property became required */
    OPENAPI_CHANGE_PROP_OPTIONAL,    /* a property became optional */
    OPENAPI_CHANGE_ENUM_VALUE_ADDED, /* a value added to an enum */
    OPENAPI_CHANGE_ENUM_VALUE_REMOVED,
    OPENAPI_CHANGE_ENUM_ADDED,    /* a schema without enum got one */
    OPENAPI_CHANGE_ENUM_REMOVED,  /* a schema lost its enum */
    OPENAPI_CHANGE_TYPE_NARROWED, /* the new types are a subset of the old */
    OPENAPI_CHANGE_TYPE_WIDENED,  /* the old types are a subset of the new */
    OPENAPI_CHANGE_TYPE_CHANGED,  /* neither */
    OPENAPI_CHANGE_VARIANT_ADDED, /* a branch of a oneOf/anyOf */
    OPENAPI_CHANGE_VARIANT_REMOVED,
};

/* One end of a change: where the changed thing is in one document. */
struct openapi_change_loc {
    char *pointer; /* owned; NULL when the document lacks it */
    int line;      /* 1-based YAML line, 0 when absent or unknown */
};

struct openapi_change {
    enum openapi_change_where where;
    enum openapi_change_kind kind;
    char id[48]; /* "request-property-became-required", see doc/spec-diff.md */
    bool breaking;
    const char *old_operation_id; /* borrowed from the old spec; NULL when added */
    const char *new_operation_id; /* borrowed from the new spec; NULL when removed */
    const char *method;           /* "GET", borrowed */
    const char *path;             /* template of the new document (the old when removed) */
    struct openapi_change_loc old_loc, new_loc;
    char *message; /* owned, one line: "request body property name became required" */
};

/* The changes in operation order: the new document's operations in its
 * order (each with its changes together), then the removed ones in the old
 * document's order. Owned storage: init, then finish. */
struct openapi_changes {
    struct openapi_change *items;
    size_t count;
    size_t alloc;
    size_t breaking;           /* changes with breaking set */
    size_t operations_added;   /* in NEW only */
    size_t operations_removed; /* in OLD only */
    size_t operations_renamed; /* matched, another operationId */
    size_t operations_changed; /* matched operations with at least one change */
    size_t visits;             /* pairs of schemas compared */
};

void openapi_changes_init(struct openapi_changes *c);
void openapi_changes_finish(struct openapi_changes *c);

/* Compares old_spec with new_spec and appends every change to out
 * (initialised, empty). Refuses (UTIL_ERR_INVALID, one line with the file,
 * line and pointer) a document holding a $ref that is not a local pointer
 * ("#/..."), that does not resolve, or that is part of a cycle of $refs
 * alone; UTIL_ERR_LIMIT past OPENAPI_DIFF_CAP_CHANGES or
 * OPENAPI_DIFF_CAP_VISITS. On failure out holds what was found before. */
int openapi_changes_compute(const struct openapi *old_spec, const struct openapi *new_spec,
                            struct openapi_changes *out, struct util_error *err);

/* The changes as the document `spec diff --json` prints (shape in
 * doc/spec-diff.md): {"old": {...}, "new": {...}, "summary": {...},
 * "changes": [...]}. A new tree (caller frees), NULL when out of memory. */
cJSON *openapi_changes_to_json(const struct openapi *old_spec, const struct openapi *new_spec,
                               const struct openapi_changes *c);

#endif
