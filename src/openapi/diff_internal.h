/* Internals of the spec diff shared by diff.c (operations, output) and
 * diff_schema.c (the walk of two schemas together). */
#ifndef INGESTCHECK_OPENAPI_DIFF_INTERNAL_H
#define INGESTCHECK_OPENAPI_DIFF_INTERNAL_H

#include "openapi/diff.h"
#include "util/buf.h"

/* A JSON Pointer built lazily: a chain of steps up to a root, written out
 * only when a change is recorded. A root is either raw (an escaped pointer,
 * "/paths/~11~1tasks/get") or ref (a "#/..." reference whose target it is). */
struct diff_seg {
    const struct diff_seg *up;
    const char *key; /* member name; NULL: index */
    size_t index;
    const char *raw; /* root: an escaped pointer */
    const char *ref; /* root: the target of this "#/..." */
};

/* One end of a change: seg, then optionally key, then optionally index
 * (index >= 0). */
struct diff_loc {
    const struct diff_seg *seg;
    const char *key;
    long index;
};

/* The display path of a schema under its context: "input.url", "data[]". */
struct diff_lab {
    const struct diff_lab *up;
    const char *name; /* NULL: array items, "[]" */
};

/* Pairs of schemas compared in the current context (one parameter, body
 * or response of one operation): open addressing, entries of older
 * generations count as empty. */
struct diff_memo_entry {
    const void *o, *n;
    unsigned gen;
    int flags;
};

struct diff_memo {
    struct diff_memo_entry *slots;
    size_t size;  /* power of two, 0 before the first insert */
    size_t count; /* entries of the current generation */
    unsigned gen;
};

/* "$ref" string -> its target (one hop), per document: a reference is
 * looked up once, however often the walk meets it. Holds at most one entry
 * per distinct reference of the document. */
struct diff_refs {
    struct diff_ref_entry {
        const char *ref;     /* NULL: empty slot */
        const cJSON *target; /* NULL: does not resolve */
    } * slots;
    size_t size, count;
};

struct diff_ctx {
    const struct openapi *o, *n;
    struct openapi_changes *out;
    struct util_error *err;
    const struct openapi_operation *oop, *nop;
    enum openapi_change_where where;
    const char *where_text; /* "request body", "response 200 body", "query parameter limit" */
    struct diff_memo memo;  /* pairs compared in this context */
    struct diff_memo clean; /* pairs found without any change, in any context */
    size_t uncertain;       /* walks cut short (by the memo or the depth cap) */
    struct diff_refs oref, nref;
    struct util_buf msg; /* scratch: message */
    struct util_buf ptr; /* scratch: pointer */
    struct util_buf lab; /* scratch: display path */
};

/* Records one change of the current operations (either may be NULL);
 * ol/nl NULL where the document lacks the thing. The message is
 * printf-formatted. */
int diff_emit(struct diff_ctx *cx, enum openapi_change_kind kind, bool breaking,
              const struct diff_loc *ol, const struct diff_loc *nl, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Writes "<where_text>" followed by the display path of lab (name, when
 * not NULL, appended as a last property) into cx->lab; returns its text. */
const char *diff_describe(struct diff_ctx *cx, const struct diff_lab *lab, const char *name);

/* Follows the "$ref" chain of *node in sp; *seg becomes root (filled here)
 * when a reference was followed. Fails (UTIL_ERR_INVALID, with the pointer
 * and line) when a reference does not resolve. */
int diff_deref(struct diff_ctx *cx, const struct openapi *sp, const cJSON **node,
               struct diff_seg *root, const struct diff_seg **seg);

/* Starts a new context: forgets the pairs compared so far. */
void diff_memo_next(struct diff_memo *m);

/* Compares schema o (old document, at os) with n (new, at ns) in the
 * current context and records the changes. */
int diff_schema(struct diff_ctx *cx, const cJSON *o, const struct diff_seg *os, const cJSON *n,
                const struct diff_seg *ns, const struct diff_lab *lab);

#endif
