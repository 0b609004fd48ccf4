/* Shared internals of the cassette module (not installed, not for other
 * modules). */
#ifndef INGESTCHECK_CASSETTE_INTERNAL_H
#define INGESTCHECK_CASSETTE_INTERNAL_H

#include "cassette/cassette.h"
#include "util/hash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- arena: bump allocation in chunks, freed all at once ---- */

struct arena_chunk;
struct arena {
    struct arena_chunk *head;
};

void arena_init(struct arena *a);
void arena_finish(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);                  /* 8-byte aligned */
char *arena_strndup(struct arena *a, const char *s, size_t n); /* NUL-terminated copy */

/* ---- the cassette ---- */

#define NO_ENTRY UINT32_MAX

struct entry {
    struct cassette_interaction pub;
    const char *keypath; /* normalised path (arena) */
    uint64_t keyhash;    /* hash of method + keypath */
    uint32_t next;       /* next entry with the same key, recorded order */
};

struct index_slot {
    uint64_t hash;
    uint32_t head; /* NO_ENTRY when the slot is free */
    uint32_t tail;
};

struct cassette {
    struct arena arena;
    struct entry *items;
    size_t count;
    size_t alloc;
    struct index_slot *slots;
    size_t nslots; /* power of two */
    size_t nkeys;
    char *source;
    char *recorded_at;
    char *version;
    char *spec_sha256;
    char **placeholders; /* sorted, malloc'ed */
    size_t nplaceholders;
    size_t aplaceholders;
    struct cassette_value *values; /* strings in the arena */
    size_t nvalues;
    size_t avalues;
};

/* Appends an entry whose pub fields point into the arena already, and
 * indexes it. */
int cassette_push_entry(struct cassette *c, const struct cassette_interaction *in,
                        struct util_error *err);
/* Adds a placeholder (copied) to the sorted set. */
int cassette_note_placeholder(struct cassette *c, const char *ph);

/* Head of the chain of entries with method + normalised path, or
 * NO_ENTRY. path is already normalised. */
uint32_t cassette_index_lookup(const struct cassette *c, const char *method, const char *path);

/* ---- URIs and queries (match.c) ---- */

/* Appends the normalised path of uri to out (see cassette.h). */
int uri_normalised_path(const char *uri, struct util_buf *out);
/* The query of uri (after '?', before '#'), borrowed span; NULL if none. */
const char *uri_query(const char *uri, size_t *len);
/* Percent-decodes (and '+' to space when form) n bytes into out. */
int uri_decode(const char *s, size_t n, bool form, struct util_buf *out);
/* Appends s percent-encoded (unreserved characters kept). */
int uri_encode(const char *s, size_t n, struct util_buf *out);

struct query_param {
    char *name;  /* decoded, malloc'ed */
    char *value; /* decoded, malloc'ed */
    size_t pos;  /* position in the query */
};
struct query_list {
    struct query_param *items;
    size_t count;
    size_t alloc;
};
void query_list_finish(struct query_list *q);
/* Parses "a=1&b=2" (n bytes) into q (zeroed by the caller). */
int query_parse(const char *s, size_t n, struct query_list *q);

/* The seed of the index and matching hashes (util_fnv1a). */
#define HASH_SEED UTIL_FNV1A_OFFSET

/* ---- redaction (redact.c) ---- */

/* Redacts req (and resp when not NULL) into the outputs (initialised by
 * the caller), noting placeholders in c when c is not NULL. */
int redact_exchange(const struct cassette_redactor *r, const struct http_request *req,
                    const struct http_response *resp, struct http_request *req_out,
                    struct http_response *resp_out, struct cassette *c);
/* Remembers value as a secret labelled label (a redactor learns, through
 * a const pointer, as it redacts). */
int redact_learn(const struct cassette_redactor *r, const char *value, const char *label);
/* Appends s with the value of every member named like a built-in secret
 * field replaced by its placeholder (no redactor: what an export does to a
 * cassette that may predate today's redaction). */
int redact_members(const char *s, size_t n, struct util_buf *out);
/* Replaces the remembered secrets (in any form) in s; appends to out. */
int redact_known(const struct cassette_redactor *r, const char *s, size_t n, bool in_uri,
                 struct util_buf *out, bool *changed);

#endif
