/* YAML to cJSON over the libyaml event API; see yaml_json.h. */
#include "openapi/yaml_json.h"

#include "util/buf.h"
#include "util/caps.h"
#include "util/file.h"
#include "util/hash.h"
#include "util/text.h"
#include "json/json.h"

#include <yaml.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct line_entry {
    size_t offset; /* of the pointer in the table's text */
    size_t hash;
    int line;
    int column;
};

/* Entries in recording order; their pointers one after the other in text
 * (NUL-terminated), found through an open-addressing index (slot: entry
 * number + 1, 0 empty). No sorting and no allocation per entry. */
struct openapi_line_table {
    struct line_entry *items;
    size_t count;
    size_t alloc;
    char *text;
    size_t bytes; /* of the pointers held, NULs included */
    size_t text_alloc;
    size_t *slots;
    size_t nslots; /* a power of two, or 0 */
};

/* What a node costs once built: its nodes, the bytes of its scalars and
 * member names, and its depth in containers (0 for a scalar). Kept for
 * every open container and every anchor, so an alias is weighed in O(1). */
struct weight {
    size_t nodes;
    size_t bytes;
    size_t depth;
};

/* The member names of one mapping (borrowed from its members), in an
 * open-addressing table: duplicate keys are found in O(1). */
struct key_set {
    const char **slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
};

struct frame {
    cJSON *node;
    bool is_map;
    char *key;    /* pending mapping key, owned; NULL when a key is awaited */
    int key_line; /* 1-based position of the pending key */
    int key_column;
    size_t parent_len; /* length of path before this container's token */
    char *anchor;      /* owned; registered when the container is complete */
    size_t items;      /* children attached so far (a sequence's next index) */
    struct key_set keys;
    struct weight w; /* of the container and what it holds so far */
};

struct anchor {
    char *name;
    const cJSON *node; /* borrowed from the tree being built */
    struct weight w;
};

struct builder {
    const char *name;
    cJSON *root;
    struct frame *frames;
    size_t depth;
    struct anchor *anchors;
    size_t nanchors;
    size_t aanchors;
    struct util_buf path; /* JSON Pointer of the innermost open container */
    struct openapi_line_table *lines;
    size_t nodes;
    size_t budget;
    size_t alias_bytes;  /* scalar and name bytes copied by aliases so far */
    size_t lines_budget; /* bytes the line table's pointers may take */
    int documents;
    struct util_error *err;
};

static int fail_at(struct builder *b, int code, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct builder *b, int code, yaml_mark_t mark, const char *fmt, ...)
{
    char msg[UTIL_ERROR_MESSAGE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line = (int)mark.line + 1;
    int col = (int)mark.column + 1;
    util_error_set(b->err, code, "%s:%d:%d: %s", b->name, line, col, msg);
    util_error_at(b->err, b->name, line, col);
    return code;
}

/* ---- line table ---- */

static size_t pointer_hash(const char *p, size_t len)
{
    uint64_t h = util_fnv1a(UTIL_FNV1A_OFFSET, p, len);
    return (size_t)(h ^ (h >> 32));
}

/* Puts entry i into the index (which has room). */
static void lines_index(struct openapi_line_table *t, size_t i)
{
    size_t j = t->items[i].hash & (t->nslots - 1);
    while (t->slots[j])
        j = (j + 1) & (t->nslots - 1);
    t->slots[j] = i + 1;
}

static int lines_add(struct openapi_line_table *t, const char *pointer, size_t len, int line,
                     int column)
{
    if (!t)
        return UTIL_OK;
    if (t->count == t->alloc) {
        size_t n = t->alloc ? t->alloc * 2 : 256;
        struct line_entry *p = realloc(t->items, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        t->items = p;
        t->alloc = n;
    }
    if (t->bytes + len + 1 > t->text_alloc) {
        size_t n = t->text_alloc ? t->text_alloc : 4096;
        while (n < t->bytes + len + 1)
            n *= 2;
        char *p = realloc(t->text, n);
        if (!p)
            return UTIL_ERR_NOMEM;
        t->text = p;
        t->text_alloc = n;
    }
    if ((t->count + 1) * 2 > t->nslots) {
        size_t n = t->nslots ? t->nslots * 2 : 512;
        size_t *slots = calloc(n, sizeof(*slots));
        if (!slots)
            return UTIL_ERR_NOMEM;
        free(t->slots);
        t->slots = slots;
        t->nslots = n;
        for (size_t i = 0; i < t->count; i++)
            lines_index(t, i);
    }
    memcpy(t->text + t->bytes, pointer, len);
    t->text[t->bytes + len] = '\0';
    struct line_entry *e = &t->items[t->count];
    e->offset = t->bytes;
    e->hash = pointer_hash(pointer, len);
    e->line = line;
    e->column = column;
    t->bytes += len + 1;
    lines_index(t, t->count++);
    return UTIL_OK;
}

/* The first entry recorded for pointer, or NULL. */
static const struct line_entry *lines_get(const struct openapi_line_table *t, const char *pointer)
{
    if (!t || !t->nslots || !pointer)
        return NULL;
    size_t len = strlen(pointer);
    size_t h = pointer_hash(pointer, len);
    for (size_t j = h & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
        const struct line_entry *e = &t->items[t->slots[j] - 1];
        if (e->hash == h && strcmp(t->text + e->offset, pointer) == 0)
            return e;
    }
    return NULL;
}

int openapi_line_table_lookup(const struct openapi_line_table *t, const char *pointer, int *column)
{
    if (column)
        *column = 0;
    const struct line_entry *e = lines_get(t, pointer);
    if (!e)
        return 0;
    if (column)
        *column = e->column;
    return e->line;
}

size_t openapi_line_table_count(const struct openapi_line_table *t)
{
    return t ? t->count : 0;
}

void openapi_line_table_destroy(struct openapi_line_table *t)
{
    if (!t)
        return;
    free(t->items);
    free(t->text);
    free(t->slots);
    free(t);
}

/* Line of an already recorded pointer (only used for messages). */
static int lines_find(const struct openapi_line_table *t, const char *pointer)
{
    const struct line_entry *e = lines_get(t, pointer);
    return e ? e->line : 0;
}

/* ---- scalar typing (YAML 1.2 core schema) ---- */

static bool is_null_text(const char *v, size_t n)
{
    return n == 0 || (n == 1 && v[0] == '~') ||
           (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

/* 1 true, 0 false, -1 not a boolean. */
static int bool_text(const char *v, size_t n)
{
    if (n == 4 && (!memcmp(v, "true", 4) || !memcmp(v, "True", 4) || !memcmp(v, "TRUE", 4)))
        return 1;
    if (n == 5 && (!memcmp(v, "false", 5) || !memcmp(v, "False", 5) || !memcmp(v, "FALSE", 5)))
        return 0;
    return -1;
}

static bool all_in(const char *v, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, v[i]) || v[i] == '\0')
            return false;
    return true;
}

/* Integer forms: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. */
static bool int_text(const char *v, size_t n, double *out)
{
    if (n > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'x')) {
        bool hex = v[1] == 'x';
        if (!all_in(v + 2, n - 2, hex ? "0123456789abcdefABCDEF" : "01234567"))
            return false;
        errno = 0;
        unsigned long long x = strtoull(v + 2, NULL, hex ? 16 : 8);
        if (errno == ERANGE)
            *out = HUGE_VAL;
        else
            *out = (double)x;
        return true;
    }
    size_t i = (n > 0 && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
    if (!all_in(v + i, n - i, "0123456789"))
        return false;
    *out = strtod(v, NULL);
    return true;
}

/* Float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_text(const char *v, size_t n, double *out)
{
    size_t i = 0;
    if (i < n && (v[i] == '-' || v[i] == '+'))
        i++;
    size_t digits = 0;
    while (i < n && v[i] >= '0' && v[i] <= '9') {
        i++;
        digits++;
    }
    if (i < n && v[i] == '.') {
        i++;
        size_t frac = 0;
        while (i < n && v[i] >= '0' && v[i] <= '9') {
            i++;
            frac++;
        }
        if (digits == 0 && frac == 0)
            return false;
    } else if (digits == 0) {
        return false;
    }
    if (i < n && (v[i] == 'e' || v[i] == 'E')) {
        i++;
        if (i < n && (v[i] == '-' || v[i] == '+'))
            i++;
        size_t e = 0;
        while (i < n && v[i] >= '0' && v[i] <= '9') {
            i++;
            e++;
        }
        if (e == 0)
            return false;
    }
    if (i != n)
        return false;
    *out = strtod(v, NULL);
    return true;
}

static bool special_float_text(const char *v, size_t n)
{
    if (n > 0 && (v[0] == '-' || v[0] == '+')) {
        v++;
        n--;
    }
    return (n == 4 && (!memcmp(v, ".inf", 4) || !memcmp(v, ".Inf", 4) || !memcmp(v, ".INF", 4) ||
                       !memcmp(v, ".nan", 4) || !memcmp(v, ".NaN", 4) || !memcmp(v, ".NAN", 4)));
}

static int number_node(struct builder *b, yaml_mark_t mark, const char *v, double d, cJSON **out)
{
    if (!isfinite(d))
        return fail_at(b, UTIL_ERR_PARSE, mark,
                       "number %s is out of range (not representable in JSON)", v);
    *out = cJSON_CreateNumber(d);
    return *out ? UTIL_OK : UTIL_ERR_NOMEM;
}

static int scalar_node(struct builder *b, const yaml_event_t *ev, cJSON **out)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    yaml_mark_t mark = ev->start_mark;
    double d = 0;
    int bv;
    *out = NULL;
    if (memchr(v, '\0', n))
        return fail_at(b, UTIL_ERR_PARSE, mark, "NUL characters in scalars are not supported");
    if (tag && strcmp(tag, "!") != 0) {
        if (!strcmp(tag, YAML_STR_TAG)) {
            *out = cJSON_CreateString(v);
        } else if (!strcmp(tag, YAML_NULL_TAG)) {
            if (!is_null_text(v, n))
                return fail_at(b, UTIL_ERR_PARSE, mark, "expected a null for tag !!null, got '%s'",
                               v);
            *out = cJSON_CreateNull();
        } else if (!strcmp(tag, YAML_BOOL_TAG)) {
            if ((bv = bool_text(v, n)) < 0)
                return fail_at(b, UTIL_ERR_PARSE, mark,
                               "expected true or false for tag !!bool, got '%s'", v);
            *out = cJSON_CreateBool(bv);
        } else if (!strcmp(tag, YAML_INT_TAG)) {
            if (!int_text(v, n, &d))
                return fail_at(b, UTIL_ERR_PARSE, mark,
                               "expected an integer for tag !!int, got '%s'", v);
            return number_node(b, mark, v, d, out);
        } else if (!strcmp(tag, YAML_FLOAT_TAG)) {
            if (special_float_text(v, n))
                return fail_at(b, UTIL_ERR_PARSE, mark, "%s is not representable in JSON", v);
            if (!int_text(v, n, &d) && !float_text(v, n, &d))
                return fail_at(b, UTIL_ERR_PARSE, mark,
                               "expected a number for tag !!float, got '%s'", v);
            return number_node(b, mark, v, d, out);
        } else {
            return fail_at(b, UTIL_ERR_PARSE, mark,
                           "unsupported tag %s (expected !!str, !!int, !!float, !!bool or "
                           "!!null)",
                           tag);
        }
        return *out ? UTIL_OK : UTIL_ERR_NOMEM;
    }
    if (!plain || tag) {
        *out = cJSON_CreateString(v);
        return *out ? UTIL_OK : UTIL_ERR_NOMEM;
    }
    if (is_null_text(v, n))
        *out = cJSON_CreateNull();
    else if ((bv = bool_text(v, n)) >= 0)
        *out = cJSON_CreateBool(bv);
    else if (int_text(v, n, &d) || float_text(v, n, &d))
        return number_node(b, mark, v, d, out);
    else if (special_float_text(v, n))
        return fail_at(b, UTIL_ERR_PARSE, mark,
                       "%s is not representable in JSON (quote it to make it a string)", v);
    else
        *out = cJSON_CreateString(v);
    return *out ? UTIL_OK : UTIL_ERR_NOMEM;
}

/* ---- tree building ---- */

static uint64_t key_hash(const char *k)
{
    return util_fnv1a(UTIL_FNV1A_OFFSET, k, strlen(k));
}

/* The slot of k in set: where it is, or the empty slot where it goes. */
static size_t key_slot(const struct key_set *set, const char *k)
{
    size_t mask = set->cap - 1;
    size_t i = (size_t)key_hash(k) & mask;
    while (set->slots[i] && strcmp(set->slots[i], k) != 0)
        i = (i + 1) & mask;
    return i;
}

static bool key_set_has(const struct key_set *set, const char *k)
{
    return set->cap && set->slots[key_slot(set, k)];
}

/* Adds k (borrowed: it must outlive the set), growing the table at half
 * full; the number of keys is bounded by the builder's node budget. */
static int key_set_add(struct key_set *set, const char *k)
{
    if (2 * (set->count + 1) > set->cap) {
        struct key_set bigger = {.cap = set->cap ? 2 * set->cap : 16};
        bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
        if (!bigger.slots)
            return UTIL_ERR_NOMEM;
        for (size_t i = 0; i < set->cap; i++)
            if (set->slots[i])
                bigger.slots[key_slot(&bigger, set->slots[i])] = set->slots[i];
        bigger.count = set->count;
        free(set->slots);
        *set = bigger;
    }
    set->slots[key_slot(set, k)] = k;
    set->count++;
    return UTIL_OK;
}

static void key_set_finish(struct key_set *set)
{
    free(set->slots);
    memset(set, 0, sizeof(*set));
}

/* Adds a finished child's weight to the innermost open container. */
static void add_weight(struct builder *b, const struct weight *w)
{
    if (b->depth == 0)
        return;
    struct weight *p = &b->frames[b->depth - 1].w;
    p->nodes += w->nodes;
    p->bytes += w->bytes;
    if (w->depth + 1 > p->depth)
        p->depth = w->depth + 1;
}

/* Appends the token of the next child to b->path and records its position.
 * *saved receives the path length to restore afterwards. */
static int begin_child(struct builder *b, yaml_mark_t mark, size_t *saved)
{
    *saved = b->path.len;
    int line = (int)mark.line + 1;
    int col = (int)mark.column + 1;
    int rc = UTIL_OK;
    if (b->depth > 0) {
        struct frame *f = &b->frames[b->depth - 1];
        if (f->is_map) {
            rc = json_pointer_append(&b->path, f->key);
            line = f->key_line;
            col = f->key_column;
        } else {
            rc = json_pointer_append_index(&b->path, f->items);
        }
    } else if (b->root) {
        return fail_at(b, UTIL_ERR_PARSE, mark, "expected the end of the document");
    }
    if (rc == UTIL_OK && b->lines && b->path.len + 1 > b->lines_budget - b->lines->bytes)
        return fail_at(b, UTIL_ERR_LIMIT, mark,
                       "the paths of this document's nodes take more than %zu bytes (%u per "
                       "input byte and %u more: keys too long, nested too deep)",
                       b->lines_budget, UTIL_CAP_LINE_TABLE_PER_BYTE, UTIL_CAP_LINE_TABLE_FLOOR);
    if (rc == UTIL_OK)
        rc = lines_add(b->lines, b->path.data ? b->path.data : "", b->path.len, line, col);
    return rc;
}

static void restore_path(struct builder *b, size_t len)
{
    b->path.len = len;
    if (b->path.data)
        b->path.data[len] = '\0';
}

/* Attaches node to the innermost container; the tree owns it, or on
 * failure it is freed. A member takes the pending key as its name (no
 * copy: cJSON_AddItemToObject would strdup it, and when that failed the
 * member would silently be left out, and leaked). */
static int attach(struct builder *b, cJSON *node)
{
    if (b->depth == 0) {
        b->root = node;
        return UTIL_OK;
    }
    struct frame *f = &b->frames[b->depth - 1];
    /* An alias copy carries the name the anchored node had. */
    if (!(node->type & cJSON_StringIsConst))
        free(node->string);
    node->type &= ~cJSON_StringIsConst;
    node->string = NULL;
    if (f->is_map) {
        f->w.bytes += strlen(f->key);
        node->string = f->key; /* freed by cJSON_Delete from now on */
        f->key = NULL;
    }
    /* cJSON (1.7.13 on) appends in O(1): the first child's prev is the tail. */
    if (!cJSON_AddItemToArray(f->node, node)) {
        cJSON_Delete(node);
        return UTIL_ERR_NOMEM;
    }
    f->items++;
    return UTIL_OK;
}

static int count_node(struct builder *b, yaml_mark_t mark, size_t n)
{
    b->nodes += n;
    if (b->nodes > b->budget)
        return fail_at(b, UTIL_ERR_LIMIT, mark,
                       "document expands to more than %zu nodes (alias expansion?)", b->budget);
    return UTIL_OK;
}

static int add_anchor(struct builder *b, const char *name, const cJSON *node,
                      const struct weight *w)
{
    if (b->nanchors == b->aanchors) {
        size_t n = b->aanchors ? b->aanchors * 2 : 16;
        struct anchor *p = realloc(b->anchors, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        b->anchors = p;
        b->aanchors = n;
    }
    char *s = strdup(name);
    if (!s)
        return UTIL_ERR_NOMEM;
    b->anchors[b->nanchors].name = s;
    b->anchors[b->nanchors].node = node;
    b->anchors[b->nanchors].w = *w;
    b->nanchors++;
    return UTIL_OK;
}

/* A scalar in key position of a mapping. */
static int take_key(struct builder *b, const yaml_event_t *ev)
{
    struct frame *f = &b->frames[b->depth - 1];
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (memchr(v, '\0', n))
        return fail_at(b, UTIL_ERR_PARSE, ev->start_mark,
                       "NUL characters in mapping keys are not supported");
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && n == 2 && !memcmp(v, "<<", 2))
        return fail_at(b, UTIL_ERR_PARSE, ev->start_mark,
                       "merge keys (<<) are not supported; expected a plain mapping key");
    if (key_set_has(&f->keys, v)) {
        struct util_buf p;
        util_buf_init(&p, UTIL_CAP_MESSAGE);
        int first = 0;
        if (util_buf_append(&p, b->path.data ? b->path.data : "", b->path.len) == UTIL_OK &&
            json_pointer_append(&p, v) == UTIL_OK)
            first = lines_find(b->lines, p.data);
        util_buf_finish(&p);
        if (first > 0)
            return fail_at(b, UTIL_ERR_PARSE, ev->start_mark,
                           "duplicate key \"%s\" in mapping (first defined at line %d); expected "
                           "unique keys",
                           v, first);
        return fail_at(b, UTIL_ERR_PARSE, ev->start_mark,
                       "duplicate key \"%s\" in mapping; expected unique keys", v);
    }
    f->key = strdup(v);
    if (!f->key || key_set_add(&f->keys, f->key))
        return UTIL_ERR_NOMEM;
    f->key_line = (int)ev->start_mark.line + 1;
    f->key_column = (int)ev->start_mark.column + 1;
    if (ev->data.scalar.anchor)
        return fail_at(b, UTIL_ERR_PARSE, ev->start_mark,
                       "anchors on mapping keys are not "
                       "supported");
    return UTIL_OK;
}

static bool awaiting_key(const struct builder *b)
{
    return b->depth > 0 && b->frames[b->depth - 1].is_map && !b->frames[b->depth - 1].key;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    if (awaiting_key(b))
        return take_key(b, ev);
    int rc = count_node(b, ev->start_mark, 1);
    if (rc)
        return rc;
    size_t saved;
    if ((rc = begin_child(b, ev->start_mark, &saved)))
        return rc;
    cJSON *node = NULL;
    if ((rc = scalar_node(b, ev, &node)) || (rc = attach(b, node)))
        return rc;
    restore_path(b, saved);
    struct weight w = {.nodes = 1, .bytes = ev->data.scalar.length};
    add_weight(b, &w);
    if (ev->data.scalar.anchor)
        rc = add_anchor(b, (const char *)ev->data.scalar.anchor, node, &w);
    return rc;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    if (awaiting_key(b))
        return fail_at(b, UTIL_ERR_PARSE, ev->start_mark,
                       "an alias (*%s) as a mapping key is not supported", name);
    const struct anchor *target = NULL;
    for (size_t i = b->nanchors; i-- > 0;) {
        if (!strcmp(b->anchors[i].name, name)) {
            target = &b->anchors[i];
            break;
        }
    }
    if (!target) {
        for (size_t i = 0; i < b->depth; i++)
            if (b->frames[i].anchor && !strcmp(b->frames[i].anchor, name))
                return fail_at(b, UTIL_ERR_PARSE, ev->start_mark,
                               "alias *%s refers to a node that contains it (recursive alias)",
                               name);
        return fail_at(b, UTIL_ERR_PARSE, ev->start_mark, "alias *%s has no anchor &%s before it",
                       name, name);
    }
    if (b->depth + target->w.depth > UTIL_CAP_NESTING_DEPTH)
        return fail_at(b, UTIL_ERR_LIMIT, ev->start_mark, "alias *%s nests deeper than %d levels",
                       name, UTIL_CAP_NESTING_DEPTH);
    if (target->w.bytes > UTIL_CAP_YAML_ALIAS_BYTES - b->alias_bytes)
        return fail_at(b, UTIL_ERR_LIMIT, ev->start_mark,
                       "aliases copy more than the cap of %u bytes (alias *%s copies %zu bytes, "
                       "%zu copied before it)",
                       UTIL_CAP_YAML_ALIAS_BYTES, name, target->w.bytes, b->alias_bytes);
    int rc = count_node(b, ev->start_mark, target->w.nodes);
    if (rc)
        return rc;
    b->alias_bytes += target->w.bytes;
    size_t saved;
    if ((rc = begin_child(b, ev->start_mark, &saved)))
        return rc;
    cJSON *copy = cJSON_Duplicate(target->node, 1);
    if (!copy || (rc = attach(b, copy)))
        return copy ? rc : UTIL_ERR_NOMEM;
    restore_path(b, saved);
    add_weight(b, &target->w);
    return UTIL_OK;
}

static int on_start(struct builder *b, const yaml_event_t *ev, bool is_map)
{
    if (awaiting_key(b))
        return fail_at(b, UTIL_ERR_PARSE, ev->start_mark,
                       "complex (%s) mapping keys are not supported; expected a scalar key",
                       is_map ? "mapping" : "sequence");
    if (b->depth >= UTIL_CAP_NESTING_DEPTH)
        return fail_at(b, UTIL_ERR_LIMIT, ev->start_mark, "nesting deeper than %d levels",
                       UTIL_CAP_NESTING_DEPTH);
    int rc = count_node(b, ev->start_mark, 1);
    if (rc)
        return rc;
    const char *tag =
        (const char *)(is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
    const char *want = is_map ? YAML_MAP_TAG : YAML_SEQ_TAG;
    if (tag && strcmp(tag, "!") != 0 && strcmp(tag, want) != 0)
        return fail_at(b, UTIL_ERR_PARSE, ev->start_mark, "unsupported tag %s on a %s", tag,
                       is_map ? "mapping" : "sequence");
    size_t saved;
    if ((rc = begin_child(b, ev->start_mark, &saved)))
        return rc;
    cJSON *node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!node)
        return UTIL_ERR_NOMEM;
    if ((rc = attach(b, node)))
        return rc;
    struct frame *f = &b->frames[b->depth];
    memset(f, 0, sizeof(*f));
    f->node = node;
    f->is_map = is_map;
    f->parent_len = saved;
    f->w.nodes = 1;
    f->w.depth = 1;
    const yaml_char_t *anchor =
        is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    b->depth++;
    if (anchor) {
        f->anchor = strdup((const char *)anchor);
        if (!f->anchor)
            return UTIL_ERR_NOMEM;
    }
    return UTIL_OK;
}

static int on_end(struct builder *b)
{
    struct frame *f = &b->frames[b->depth - 1];
    int rc = UTIL_OK;
    struct weight w = f->w;
    if (f->anchor)
        rc = add_anchor(b, f->anchor, f->node, &w);
    free(f->anchor);
    free(f->key);
    key_set_finish(&f->keys);
    f->anchor = NULL;
    f->key = NULL;
    restore_path(b, f->parent_len);
    b->depth--;
    add_weight(b, &w);
    return rc;
}

/* libyaml's error as one line with the file, line and column. A reader
 * error (bad encoding) carries a byte offset only: text gives its place. */
static int parser_error(struct builder *b, const yaml_parser_t *p, const char *text, size_t len)
{
    yaml_mark_t mark = p->problem_mark;
    if (p->error == YAML_READER_ERROR) {
        size_t off = p->problem_offset < len ? p->problem_offset : len;
        struct util_text_pos pos;
        util_text_pos_init(&pos);
        util_text_pos_advance(&pos, text, off);
        return util_text_reader_error(b->err, b->name, &pos, p->problem,
                                      off < len ? (unsigned char)text[off] : -1,
                                      (long)p->problem_value);
    }
    if (p->error == YAML_MEMORY_ERROR)
        return util_error_set(b->err, UTIL_ERR_NOMEM, "%s: out of memory while parsing YAML",
                              b->name);
    if (p->context)
        return fail_at(b, UTIL_ERR_PARSE, mark, "%s (%s at line %d, column %d)",
                       p->problem ? p->problem : "syntax error", p->context,
                       (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return fail_at(b, UTIL_ERR_PARSE, mark, "%s", p->problem ? p->problem : "syntax error");
}

static void builder_finish(struct builder *b)
{
    for (size_t i = 0; i < b->depth; i++) {
        free(b->frames[i].key);
        free(b->frames[i].anchor);
        key_set_finish(&b->frames[i].keys);
    }
    free(b->frames);
    for (size_t i = 0; i < b->nanchors; i++)
        free(b->anchors[i].name);
    free(b->anchors);
    util_buf_finish(&b->path);
}

int openapi_yaml_parse(const char *text, size_t len, const char *name, cJSON **out,
                       struct openapi_line_table **lines, struct util_error *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_parser = false;
    bool have_event = false;
    int rc = UTIL_OK;
    struct builder b;
    memset(&b, 0, sizeof(b));
    util_buf_init(&b.path, UTIL_CAP_SPEC_FILE);
    b.name = name ? name : "<yaml>";
    b.err = err;
    *out = NULL;
    if (lines)
        *lines = NULL;
    if (len > UTIL_CAP_SPEC_FILE) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: document larger than the cap of %u bytes",
                            b.name, UTIL_CAP_SPEC_FILE);
        util_error_at(err, b.name, 0, 0);
        goto cleanup;
    }
    b.budget = len + 1024;
    b.lines_budget = len * UTIL_CAP_LINE_TABLE_PER_BYTE + UTIL_CAP_LINE_TABLE_FLOOR;
    b.frames = calloc(UTIL_CAP_NESTING_DEPTH + 1, sizeof(*b.frames));
    /* Always built: duplicate-key messages cite the first key's line. */
    b.lines = calloc(1, sizeof(*b.lines));
    if (!b.lines) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    if (!b.frames || !yaml_parser_initialize(&parser)) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    have_parser = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = parser_error(&b, &parser, text, len);
            goto cleanup;
        }
        have_event = true;
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++b.documents > 1) {
                rc = fail_at(&b, UTIL_ERR_PARSE, ev.start_mark,
                             "expected a single YAML document, found a second one");
                goto cleanup;
            }
            break;
        case YAML_SCALAR_EVENT:
            rc = on_scalar(&b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(&b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = on_start(&b, &ev, false);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = on_start(&b, &ev, true);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = on_end(&b);
            break;
        default:
            break;
        }
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        have_event = false;
        if (rc) {
            if (rc == UTIL_ERR_NOMEM && err && err->code != UTIL_ERR_NOMEM)
                util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", b.name);
            goto cleanup;
        }
        if (end)
            break;
    }
    if (!b.root) {
        b.root = cJSON_CreateNull();
        if (!b.root) {
            rc = UTIL_ERR_NOMEM;
            goto cleanup;
        }
        if (b.lines && (rc = lines_add(b.lines, "", 0, 1, 1)))
            goto cleanup;
    }
    *out = b.root;
    b.root = NULL;
    if (lines) {
        *lines = b.lines;
        b.lines = NULL;
    }
cleanup:
    if (rc == UTIL_ERR_NOMEM && err && err->code != UTIL_ERR_NOMEM)
        util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", b.name);
    if (have_event)
        yaml_event_delete(&ev);
    if (have_parser)
        yaml_parser_delete(&parser);
    cJSON_Delete(b.root);
    openapi_line_table_destroy(b.lines);
    builder_finish(&b);
    return rc;
}

int openapi_yaml_load_file(const char *path, cJSON **out, struct openapi_line_table **lines,
                           struct util_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    if (lines)
        *lines = NULL;
    int rc = util_file_read(path, UTIL_CAP_SPEC_FILE, &text, &len, err);
    if (rc == UTIL_OK)
        rc = openapi_yaml_parse(text, len, path, out, lines, err);
    free(text);
    return rc;
}
