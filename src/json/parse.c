/* The project's strict JSON parser (RFC 8259): one pass over the text,
 * no recursion, building cJSON nodes through cJSON's allocator so that
 * cJSON_Delete frees them.
 *
 * Strictness: the grammar exactly (no leading zeros, no "1.", no raw
 * control characters in strings, whitespace is space, tab, LF and CR only),
 * UTF-8 text, no member name twice in an object, numbers within a double,
 * nesting at most UTIL_CAP_NESTING_DEPTH deep. Every error carries the line
 * and column of the offending byte.
 *
 * U+0000: a C string cannot hold a NUL, so a string containing \u0000 keeps
 * it as the two bytes 0xC0 0x80 (Modified UTF-8, as Java's JNI does). No
 * well-formed UTF-8 text contains them, so nothing collides; the writer
 * (json_write) turns them back into \u0000, code point counts (counting
 * bytes that are not continuation bytes) see one character, and the regex
 * engine reads them as U+0000. See JSON_NUL in json.h. */
#include "json/json.h"

#include "util/caps.h"
#include "util/hash.h"
#include "util/text.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A container being filled. */
struct frame {
    cJSON *node;
    cJSON *last;   /* its last child, NULL when empty */
    size_t count;  /* children so far */
    uint32_t id;   /* the object's number in the member index (objects only) */
    bool indexed;  /* members are in the member index (more than a few) */
};

/* Member names of large objects, to find a name given twice without
 * comparing every pair: open addressing over (object id, name). */
struct member_index {
    struct slot {
        const cJSON *member;
        uint64_t hash; /* 0: an empty slot */
        uint32_t id;   /* the object's number */
    } *slots;
    size_t cap, used;
};

struct parser {
    const char *text, *p, *end;
    const char *name;
    struct util_error *err;
    struct frame stack[UTIL_CAP_NESTING_DEPTH + 1];
    size_t depth;
    struct member_index index;
    uint32_t next_id;
    size_t indexed_open; /* objects on the stack whose members are indexed */
    const char *pending_key; /* the member whose value is being parsed */
};

/* Objects with at most this many members are checked pair by pair. */
#define PAIRWISE_MEMBERS 16

/* What a byte inside a string is: 0 plain ASCII, 1 '"', 2 '\\', 3 a
 * control character, 4 a byte >= 0x80. */
static const unsigned char string_class[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

static void offset_to_line_col(const char *text, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Appends s to b with control characters and U+0000 (JSON_NUL) written
 * as \uXXXX, so that a message stays one line of UTF-8. */
static void put_printable(struct util_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20) {
            util_buf_printf(b, "\\u%04X", *p);
        } else if (p[0] == 0xc0 && p[1] == 0x80) {
            util_buf_puts(b, "\\u0000");
            p++;
        } else {
            util_buf_putc(b, (char)*p);
        }
    }
}

/* The JSON Pointer, made printable, of the container levels deep on the
 * stack; with pending, of the value being parsed in it. */
static void current_pointer(const struct parser *ps, struct util_buf *b, size_t levels,
                            bool pending)
{
    struct util_buf ptr;
    util_buf_init(&ptr, UTIL_CAP_MESSAGE);
    util_buf_puts(&ptr, "");
    for (size_t i = 0; i < levels; i++) {
        const struct frame *f = &ps->stack[i];
        bool last_level = i + 1 == levels;
        if (cJSON_IsObject(f->node))
            json_pointer_append(&ptr, pending && last_level ? ps->pending_key : f->last->string);
        else
            json_pointer_append_index(&ptr, pending && last_level ? f->count : f->count - 1);
    }
    put_printable(b, ptr.len ? ptr.data : "/");
    util_buf_finish(&ptr);
}

/* Sets err to "name:line:col: " + the message for the byte at `at`. */
static int fail_at(struct parser *ps, const char *at, int code, const char *what)
{
    int line, col;
    offset_to_line_col(ps->text, (size_t)(at - ps->text), &line, &col);
    util_error_set(ps->err, code, "%s:%d:%d: %s", ps->name, line, col, what);
    util_error_at(ps->err, ps->name, line, col);
    return code;
}

static int fail_nomem(struct parser *ps)
{
    util_error_set(ps->err, UTIL_ERR_NOMEM, "%s: out of memory", ps->name);
    util_error_at(ps->err, ps->name, 0, 0);
    return UTIL_ERR_NOMEM;
}

/* "malformed JSON (why)" at `at`, or the UTF-8 message when the byte there
 * is not UTF-8 (a syntax error on a non-ASCII byte). */
static int fail_syntax(struct parser *ps, const char *at, const char *why)
{
    char msg[160];
    size_t rem = (size_t)(ps->end - at);
    if (at < ps->end && (unsigned char)*at >= 0x80 &&
        util_utf8_valid_prefix(at, rem < 4 ? rem : 4) == 0) {
        snprintf(msg, sizeof(msg), "byte 0x%02X is not UTF-8", (unsigned)(unsigned char)*at);
        return fail_at(ps, at, UTIL_ERR_PARSE, msg);
    }
    snprintf(msg, sizeof(msg), "malformed JSON (%s)", why);
    return fail_at(ps, at, UTIL_ERR_PARSE, msg);
}

static inline void skip_space(struct parser *ps)
{
    const char *p = ps->p, *end = ps->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    ps->p = p;
}

static cJSON *new_node(int type)
{
    cJSON *n = cJSON_malloc(sizeof(*n));
    if (n) {
        memset(n, 0, sizeof(*n));
        n->type = type;
    }
    return n;
}

/* Length of the UTF-8 sequence at p (p[0] >= 0x80), 0 when it is not
 * well-formed. */
static size_t utf8_at(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if ((size_t)(end - p) < want)
        want = (size_t)(end - p);
    size_t ok = util_utf8_valid_prefix(p, want);
    return ok ? ok : 0;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = util_hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Parses the string whose opening quote is at ps->p into a new heap
 * string (cJSON's allocator); ps->p ends past the closing quote. */
static int parse_string(struct parser *ps, char **out)
{
    const char *start = ps->p + 1, *p = start, *end = ps->end;
    bool escapes = false;
    *out = NULL;
    for (;;) {
        while (p < end && string_class[(unsigned char)*p] == 0)
            p++;
        if (p >= end)
            return fail_syntax(ps, ps->p, "a string is not closed");
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            escapes = true;
            p += 2; /* the escape is checked while decoding */
            if (p > end)
                return fail_syntax(ps, ps->p, "a string is not closed");
            continue;
        }
        if (c < 0x20) {
            char msg[96];
            snprintf(msg, sizeof(msg),
                     "raw control character U+%04X in a string (JSON needs it escaped, "
                     "as \\u%04X)",
                     c, c);
            return fail_at(ps, p, UTIL_ERR_PARSE, msg);
        }
        size_t k = utf8_at(p, end);
        if (!k) {
            char msg[48];
            snprintf(msg, sizeof(msg), "byte 0x%02X is not UTF-8", c);
            return fail_at(ps, p, UTIL_ERR_PARSE, msg);
        }
        p += k;
    }
    size_t raw = (size_t)(p - start);
    /* Every escape is at least as long as what it decodes to (\u0000, six
     * bytes, becomes two). */
    char *s = cJSON_malloc(raw + 1);
    if (!s)
        return fail_nomem(ps);
    if (!escapes) {
        memcpy(s, start, raw);
        s[raw] = '\0';
        ps->p = p + 1;
        *out = s;
        return UTIL_OK;
    }
    char *o = s;
    for (const char *q = start; q < p;) {
        if (*q != '\\') {
            const char *run = q;
            while (q < p && *q != '\\')
                q++;
            memcpy(o, run, (size_t)(q - run));
            o += q - run;
            continue;
        }
        const char *esc = q;
        char e = q[1];
        q += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *o++ = e;
            continue;
        case 'b':
            *o++ = '\b';
            continue;
        case 'f':
            *o++ = '\f';
            continue;
        case 'n':
            *o++ = '\n';
            continue;
        case 'r':
            *o++ = '\r';
            continue;
        case 't':
            *o++ = '\t';
            continue;
        case 'u':
            break;
        default:
            cJSON_free(s);
            return fail_syntax(ps, esc, "unknown escape in a string");
        }
        unsigned cp, lo;
        if (p - q < 4 || hex4(q, &cp)) {
            cJSON_free(s);
            return fail_syntax(ps, esc, "\\u needs four hexadecimal digits");
        }
        q += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            cJSON_free(s);
            return fail_syntax(ps, esc, "a low surrogate \\u escape without a high one");
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (p - q < 6 || q[0] != '\\' || q[1] != 'u' || hex4(q + 2, &lo) || lo < 0xdc00 ||
                lo > 0xdfff) {
                cJSON_free(s);
                return fail_syntax(ps, esc, "a high surrogate \\u escape without a low one");
            }
            q += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0) { /* JSON_NUL */
            *o++ = (char)0xc0;
            *o++ = (char)0x80;
        } else if (cp < 0x80) {
            *o++ = (char)cp;
        } else if (cp < 0x800) {
            *o++ = (char)(0xc0 | cp >> 6);
            *o++ = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            *o++ = (char)(0xe0 | cp >> 12);
            *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
            *o++ = (char)(0x80 | (cp & 0x3f));
        } else {
            *o++ = (char)(0xf0 | cp >> 18);
            *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
            *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
            *o++ = (char)(0x80 | (cp & 0x3f));
        }
    }
    *o = '\0';
    ps->p = p + 1;
    *out = s;
    return UTIL_OK;
}

/* The number at ps->p, by the RFC's grammar; ps->p ends past it. */
static int parse_number(struct parser *ps, double *out)
{
    const char *start = ps->p, *p = start, *end = ps->end;
    bool neg = false, simple = true;
    int rc;
    if (*p == '-') {
        neg = true;
        p++;
    }
    const char *digits = p;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return fail_syntax(ps, p, "a number needs a digit here");
    }
    size_t ndigits = (size_t)(p - digits);
    if (p < end && *p == '.') {
        simple = false;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail_syntax(ps, p, "a number needs a digit after '.'");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        simple = false;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail_syntax(ps, p, "a number needs a digit in its exponent");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    ps->p = p;
    if (simple && ndigits <= 15) { /* exact in a double */
        int64_t v = 0;
        for (const char *q = digits; q < p; q++)
            v = v * 10 + (*q - '0');
        *out = neg ? -(double)v : (double)v;
        return UTIL_OK;
    }
    char small[64], *copy = small;
    size_t n = (size_t)(p - start);
    if (n >= sizeof(small) && !(copy = malloc(n + 1)))
        return fail_nomem(ps);
    memcpy(copy, start, n);
    copy[n] = '\0';
    *out = strtod(copy, NULL);
    if (copy != small)
        free(copy);
    if (isinf(*out)) {
        struct util_buf msg;
        util_buf_init(&msg, UTIL_CAP_MESSAGE);
        util_buf_puts(&msg, "the number at ");
        current_pointer(ps, &msg, ps->depth, true);
        util_buf_puts(&msg, " is beyond the range of a double (about 1.8e308)");
        rc = fail_at(ps, start, UTIL_ERR_LIMIT, msg.data ? msg.data : "a number is too large");
        util_buf_finish(&msg);
        return rc;
    }
    return UTIL_OK;
}

static uint64_t slot_hash(uint32_t id, const char *name)
{
    uint64_t h = util_fnv1a(UTIL_FNV1A_OFFSET, &id, sizeof(id));
    return util_fnv1a(h, name, strlen(name)) | 1;
}

/* Adds member (of the object numbered id) to the index; 1 when the object
 * already has a member of that name, -1 on ENOMEM. */
static int index_add(struct member_index *ix, uint32_t id, const cJSON *member)
{
    if (ix->used * 2 >= ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 256;
        struct slot *s = calloc(cap, sizeof(*s));
        if (!s)
            return -1;
        for (size_t i = 0; i < ix->cap; i++) {
            if (!ix->slots[i].hash)
                continue;
            size_t j = ix->slots[i].hash & (cap - 1);
            while (s[j].hash)
                j = (j + 1) & (cap - 1);
            s[j] = ix->slots[i];
        }
        free(ix->slots);
        ix->slots = s;
        ix->cap = cap;
    }
    uint64_t h = slot_hash(id, member->string);
    size_t j = h & (ix->cap - 1);
    for (; ix->slots[j].hash; j = (j + 1) & (ix->cap - 1)) {
        if (ix->slots[j].hash == h && ix->slots[j].id == id &&
            strcmp(ix->slots[j].member->string, member->string) == 0)
            return 1;
    }
    ix->slots[j] = (struct slot){.member = member, .hash = h, .id = id};
    ix->used++;
    return 0;
}

/* Whether the object of frame f already has a member named like its new
 * last member; indexes large objects. -1 on ENOMEM. */
static int duplicate_member(struct parser *ps, struct frame *f)
{
    const cJSON *m = f->last;
    if (f->count <= PAIRWISE_MEMBERS) {
        for (const cJSON *c = f->node->child; c != m; c = c->next)
            if (strcmp(c->string, m->string) == 0)
                return 1;
        return 0;
    }
    if (!f->indexed) {
        f->indexed = true;
        f->id = ps->next_id++;
        ps->indexed_open++;
        for (const cJSON *c = f->node->child; c != m; c = c->next)
            if (index_add(&ps->index, f->id, c) < 0)
                return -1;
    }
    return index_add(&ps->index, f->id, m);
}

/* Links node as the next child of the container on top of the stack. */
static void link_child(struct frame *f, cJSON *node)
{
    if (f->last) {
        f->last->next = node;
        node->prev = f->last;
    } else {
        f->node->child = node;
    }
    f->last = node;
    f->node->child->prev = node; /* cJSON keeps the tail in child->prev */
    f->count++;
}

/* Parses one value at ps->p (whitespace skipped) into a new node: scalars
 * whole, containers empty (pushed on the stack). */
static int parse_value(struct parser *ps, cJSON **out)
{
    const char *p = ps->p, *end = ps->end;
    size_t rem = (size_t)(end - p);
    cJSON *n = NULL;
    *out = NULL;
    if (p >= end)
        return fail_syntax(ps, p, "a value is missing");
    switch (*p) {
    case '{':
    case '[':
        if (ps->depth >= UTIL_CAP_NESTING_DEPTH) {
            char msg[64];
            snprintf(msg, sizeof(msg), "nesting deeper than %d levels", UTIL_CAP_NESTING_DEPTH);
            return fail_at(ps, p, UTIL_ERR_LIMIT, msg);
        }
        if (!(n = new_node(*p == '{' ? cJSON_Object : cJSON_Array)))
            return fail_nomem(ps);
        ps->p = p + 1;
        break;
    case '"': {
        char *s;
        int rc = parse_string(ps, &s);
        if (rc)
            return rc;
        if (!(n = new_node(cJSON_String))) {
            cJSON_free(s);
            return fail_nomem(ps);
        }
        n->valuestring = s;
        break;
    }
    case 't':
    case 'f':
    case 'n': {
        const char *word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
        size_t wn = strlen(word);
        if (rem < wn || memcmp(p, word, wn) != 0)
            return fail_syntax(ps, p, "expected a value");
        if (!(n = new_node(*p == 't' ? cJSON_True : *p == 'f' ? cJSON_False : cJSON_NULL)))
            return fail_nomem(ps);
        if (*p == 't')
            n->valueint = 1;
        ps->p = p + wn;
        break;
    }
    default: {
        if (*p != '-' && (*p < '0' || *p > '9'))
            return fail_syntax(ps, p, "expected a value");
        double d = 0;
        int rc = parse_number(ps, &d);
        if (rc)
            return rc;
        if (!(n = new_node(cJSON_Number)))
            return fail_nomem(ps);
        n->valuedouble = d;
        n->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    }
    }
    *out = n;
    return UTIL_OK;
}

/* The member name of an object, then ':' (at ps->p, whitespace skipped). */
static int parse_key(struct parser *ps, char **key)
{
    *key = NULL;
    if (ps->p >= ps->end || *ps->p != '"')
        return fail_syntax(ps, ps->p, "expected a member name in double quotes");
    int rc = parse_string(ps, key);
    if (rc)
        return rc;
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != ':') {
        cJSON_free(*key);
        *key = NULL;
        return fail_syntax(ps, ps->p, "expected ':' after a member name");
    }
    ps->p++;
    skip_space(ps);
    return UTIL_OK;
}

/* The whole document; *root is the tree built so far, also on failure. */
static int parse_document(struct parser *ps, cJSON **root)
{
    int rc;
    skip_space(ps);
    if ((rc = parse_value(ps, root)))
        return rc;
    if (cJSON_IsObject(*root) || cJSON_IsArray(*root))
        ps->stack[ps->depth++] = (struct frame){.node = *root};
    while (ps->depth) {
        struct frame *f = &ps->stack[ps->depth - 1];
        bool object = cJSON_IsObject(f->node);
        skip_space(ps);
        if (ps->p >= ps->end)
            return fail_syntax(ps, ps->p, object ? "an object is not closed"
                                                 : "an array is not closed");
        char c = *ps->p;
        if (c == (object ? '}' : ']')) {
            ps->p++;
            ps->depth--;
            if (f->indexed && --ps->indexed_open == 0) {
                /* No indexed object is open: start the next one afresh
                 * rather than among the entries of closed ones. */
                free(ps->index.slots);
                ps->index = (struct member_index){0};
            }
            continue;
        }
        if (f->count) {
            if (c != ',')
                return fail_syntax(ps, ps->p, object ? "expected ',' or '}'" : "expected ',' or ']'");
            ps->p++;
            skip_space(ps);
        }
        char *key = NULL;
        const char *key_at = ps->p;
        if (object && (rc = parse_key(ps, &key)))
            return rc;
        cJSON *v;
        ps->pending_key = key;
        if ((rc = parse_value(ps, &v))) {
            cJSON_free(key);
            return rc;
        }
        v->string = key;
        link_child(f, v);
        if (object) {
            int dup = duplicate_member(ps, f);
            if (dup < 0)
                return fail_nomem(ps);
            if (dup) {
                struct util_buf msg;
                util_buf_init(&msg, UTIL_CAP_MESSAGE);
                util_buf_puts(&msg, "duplicate member name \"");
                put_printable(&msg, key);
                util_buf_puts(&msg, "\" in the object at ");
                current_pointer(ps, &msg, ps->depth - 1, false);
                rc = fail_at(ps, key_at, UTIL_ERR_PARSE,
                             msg.data ? msg.data : "duplicate member name");
                util_buf_finish(&msg);
                return rc;
            }
        }
        if (cJSON_IsObject(v) || cJSON_IsArray(v))
            ps->stack[ps->depth++] = (struct frame){.node = v};
    }
    return UTIL_OK;
}

int json_parse(const char *text, size_t len, const char *name, cJSON **out, struct util_error *err)
{
    *out = NULL;
    if (!name)
        name = "<input>";
    if (len > UTIL_CAP_JSON_DOCUMENT) {
        util_error_set(err, UTIL_ERR_LIMIT, "%s: document larger than the cap of %u bytes", name,
                       (unsigned)UTIL_CAP_JSON_DOCUMENT);
        util_error_at(err, name, 0, 0);
        return UTIL_ERR_LIMIT;
    }
    struct parser *ps = malloc(sizeof(*ps));
    if (!ps) {
        util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", name);
        util_error_at(err, name, 0, 0);
        return UTIL_ERR_NOMEM;
    }
    ps->text = ps->p = text ? text : "";
    ps->end = ps->text + (text ? len : 0);
    ps->name = name;
    ps->err = err;
    ps->depth = 0;
    ps->index = (struct member_index){0};
    ps->next_id = 0;
    ps->indexed_open = 0;
    cJSON *root = NULL;
    int rc = parse_document(ps, &root);
    if (!rc) {
        skip_space(ps);
        /* A NUL ends the text (a terminated buffer passed with it). */
        if (ps->p < ps->end && *ps->p != '\0')
            rc = fail_at(ps, ps->p, UTIL_ERR_PARSE, "trailing data after the JSON value");
    }
    free(ps->index.slots);
    free(ps);
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return UTIL_OK;
}
