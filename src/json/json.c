#include "json/json.h"
#include "util/text.h"

#include "util/caps.h"
#include "util/file.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void offset_to_line_col(const char *text, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Depth of the deepest container, computed on the text so that an
 * over-deep document is refused before cJSON recurses into it. */
static bool nesting_ok(const char *text, size_t len, size_t *where)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            /* To the next quote not escaped: one preceded by an odd run of
             * backslashes is escaped (the run starts inside the string). */
            const char *q = memchr(text + i, '"', len - i);
            if (!q)
                return true;
            size_t at = (size_t)(q - text), run = 0;
            while (at - run > i && text[at - run - 1] == '\\')
                run++;
            i = at;
            in_string = run % 2 != 0;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > UTIL_CAP_NESTING_DEPTH) {
                *where = i;
                return false;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

static int key_cmp(const void *a, const void *b)
{
    const cJSON *const *x = a;
    const cJSON *const *y = b;
    return strcmp((*x)->string, (*y)->string);
}

/* Whether node, an object, holds a member name twice (its own members
 * only); sets *dup. Many members are checked by sorting. -1: out of memory. */
static int object_duplicate(const cJSON *node, const char **dup)
{
    size_t n = 0;
    const cJSON *c;
    for (c = node->child; c; c = c->next)
        n++;
    if (n > 1 && n <= 8) {
        for (const cJSON *a = node->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (strcmp(a->string, b->string) == 0) {
                    *dup = a->string;
                    return 1;
                }
    } else if (n > 8) {
        const cJSON **v = malloc(n * sizeof(*v));
        if (!v)
            return -1;
        size_t i = 0;
        for (c = node->child; c; c = c->next)
            v[i++] = c;
        qsort(v, n, sizeof(*v), key_cmp);
        for (i = 1; i < n; i++)
            if (strcmp(v[i - 1]->string, v[i]->string) == 0) {
                *dup = v[i]->string;
                free(v);
                return 1;
            }
        free(v);
    }
    return 0;
}

/* Whether an object of node's tree holds a member name twice: the pass
 * without paths, in find_duplicate_key's order. -1: out of memory. */
static int has_duplicate_key(const cJSON *node)
{
    const char *dup;
    int rc = cJSON_IsObject(node) ? object_duplicate(node, &dup) : 0;
    for (const cJSON *c = node->child; !rc && c; c = c->next)
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            rc = has_duplicate_key(c);
    return rc;
}

/* Finds the first object holding a member name twice; fills where (JSON
 * Pointer of the object) and *dup. Objects with many members are checked by
 * sorting, so the walk is O(n log n) in the document size. */
static int find_duplicate_key(const cJSON *node, struct util_buf *where, const char **dup)
{
    if (cJSON_IsObject(node)) {
        int rc = object_duplicate(node, dup);
        if (rc)
            return rc;
    }
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
        return 0;
    size_t mark = where->len, index = 0;
    for (const cJSON *c = node->child; c; c = c->next, index++) {
        if (!cJSON_IsObject(c) && !cJSON_IsArray(c))
            continue;
        int rc = cJSON_IsObject(node) ? json_pointer_append(where, c->string)
                                      : json_pointer_append_index(where, index);
        if (rc)
            return -1;
        rc = find_duplicate_key(c, where, dup);
        if (rc)
            return rc;
        where->len = mark;
        where->data[mark] = '\0';
    }
    return 0;
}

int json_parse(const char *text, size_t len, const char *name, cJSON **out, struct util_error *err)
{
    int line, col;
    size_t where = 0;
    *out = NULL;
    if (!name)
        name = "<input>";
    if (len > UTIL_CAP_JSON_DOCUMENT) {
        util_error_set(err, UTIL_ERR_LIMIT, "%s: document larger than the cap of %u bytes", name,
                       (unsigned)UTIL_CAP_JSON_DOCUMENT);
        util_error_at(err, name, 0, 0);
        return UTIL_ERR_LIMIT;
    }
    if (!nesting_ok(text, len, &where)) {
        offset_to_line_col(text, where, &line, &col);
        util_error_set(err, UTIL_ERR_LIMIT, "%s:%d:%d: nesting deeper than %d levels", name, line,
                       col, UTIL_CAP_NESTING_DEPTH);
        util_error_at(err, name, line, col);
        return UTIL_ERR_LIMIT;
    }
    const char *end = NULL;
    /* cJSON answers NULL both for malformed text and when an allocation
     * failed; only the latter sets errno to ENOMEM (malloc does, and
     * parsing calls nothing else that would). */
    errno = 0;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!doc && errno == ENOMEM) {
        util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", name);
        util_error_at(err, name, 0, 0);
        return UTIL_ERR_NOMEM;
    }
    if (!doc) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        if (off > len)
            off = len;
        offset_to_line_col(text, off, &line, &col);
        util_error_set(err, UTIL_ERR_PARSE, "%s:%d:%d: malformed JSON", name, line, col);
        util_error_at(err, name, line, col);
        return UTIL_ERR_PARSE;
    }
    size_t off = (size_t)(end - text);
    while (off < len &&
           (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r'))
        off++;
    if (off < len && text[off] != '\0') {
        cJSON_Delete(doc);
        offset_to_line_col(text, off, &line, &col);
        util_error_set(err, UTIL_ERR_PARSE, "%s:%d:%d: trailing data after the JSON value", name,
                       line, col);
        util_error_at(err, name, line, col);
        return UTIL_ERR_PARSE;
    }
    /* Most documents have no duplicate: only then is the path built. */
    int found = has_duplicate_key(doc);
    if (!found) {
        *out = doc;
        return UTIL_OK;
    }
    struct util_buf at;
    util_buf_init(&at, UTIL_CAP_MESSAGE);
    util_buf_puts(&at, "");
    const char *dup = NULL;
    if (found > 0)
        found = find_duplicate_key(doc, &at, &dup);
    if (found) {
        if (found < 0)
            util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", name);
        else
            util_error_set(err, UTIL_ERR_PARSE,
                           "%s: duplicate member name \"%s\" in the object at %s", name, dup,
                           at.len ? at.data : "/");
        util_error_at(err, name, 0, 0);
        util_buf_finish(&at);
        cJSON_Delete(doc);
        return found < 0 ? UTIL_ERR_NOMEM : UTIL_ERR_PARSE;
    }
    util_buf_finish(&at);
    *out = doc;
    return UTIL_OK;
}

int json_load_file(const char *path, size_t limit, cJSON **out, struct util_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = util_file_read(path, limit, &text, &len, err);
    if (rc)
        return rc;
    rc = json_parse(text, len, path, out, err);
    free(text);
    return rc;
}

/* The next character of a pointer token at *p (before end), with ~0 and
 * ~1 (and, in a URI fragment, %XX) decoded; advances *p. -1 for a
 * malformed escape. */
static int token_char(const char **p, const char *end, bool uri)
{
    const char *s = *p;
    int c = (unsigned char)*s++;
    if (uri && c == '%' && end - s >= 2 && util_hex_digit(s[0]) >= 0 && util_hex_digit(s[1]) >= 0) {
        c = util_hex_digit(s[0]) * 16 + util_hex_digit(s[1]);
        s += 2;
    }
    if (c == '~') {
        int d = s < end ? (unsigned char)*s : -1;
        if (uri && d == '%' && end - s >= 3 && util_hex_digit(s[1]) >= 0 &&
            util_hex_digit(s[2]) >= 0) {
            d = util_hex_digit(s[1]) * 16 + util_hex_digit(s[2]);
            s += 2;
        }
        if (d != '0' && d != '1')
            return -1;
        c = d == '0' ? '~' : '/';
        s++;
    }
    *p = s;
    return c;
}

/* Whether the token [tok, end) decodes to exactly name. */
static bool token_equals(const char *tok, const char *end, bool uri, const char *name)
{
    while (tok < end) {
        int c = token_char(&tok, end, uri);
        if (c < 0 || !*name || (unsigned char)*name != c)
            return false;
        name++;
    }
    return *name == '\0';
}

/* Walks the pointer without allocating (a lookup must not fail for want
 * of memory, and is on hot paths). */
const cJSON *json_pointer_get(const cJSON *doc, const char *pointer, bool uri_fragment)
{
    const cJSON *cur = doc;
    const char *p = pointer;
    if (!p || !*p)
        return doc;
    if (*p != '/')
        return NULL;
    while (cur && *p == '/') {
        const char *tok = ++p, *end = p + strcspn(p, "/");
        p = end;
        /* Decode once: malformed escapes fail the lookup; an array index
         * needs the digits. */
        char digits[24];
        size_t n = 0;
        bool all_digits = true;
        for (const char *q = tok; q < end;) {
            int c = token_char(&q, end, uri_fragment);
            if (c < 0)
                return NULL;
            if (c < '0' || c > '9')
                all_digits = false;
            else if (n < sizeof(digits) - 1)
                digits[n] = (char)c;
            n++;
        }
        if (cJSON_IsObject(cur)) {
            const cJSON *child = NULL;
            cJSON_ArrayForEach(child, cur)
            {
                if (child->string && token_equals(tok, end, uri_fragment, child->string))
                    break;
            }
            cur = child;
        } else if (cJSON_IsArray(cur)) {
            /* RFC 6901: "0" or digits without a leading zero (no sign, no
             * space); past INT_MAX no item. */
            if (n == 0 || !all_digits || (n > 1 && digits[0] == '0') || n >= sizeof(digits))
                return NULL;
            digits[n] = '\0';
            errno = 0;
            unsigned long idx = strtoul(digits, NULL, 10);
            if (errno || idx > (unsigned long)INT_MAX)
                return NULL;
            cur = cJSON_GetArrayItem(cur, (int)idx);
        } else {
            return NULL;
        }
    }
    return cur;
}

int json_pointer_append(struct util_buf *b, const char *token)
{
    int rc = util_buf_putc(b, '/');
    for (const char *p = token; !rc && *p;) {
        size_t run = strcspn(p, "~/");
        rc = util_buf_append(b, p, run);
        p += run;
        if (!rc && *p)
            rc = util_buf_append(b, *p++ == '~' ? "~0" : "~1", 2);
    }
    return rc;
}

int json_pointer_append_index(struct util_buf *b, size_t index)
{
    char text[24], *p = text + sizeof(text);
    do {
        *--p = (char)('0' + index % 10);
        index /= 10;
    } while (index);
    *--p = '/';
    return util_buf_append(b, p, (size_t)(text + sizeof(text) - p));
}

bool json_is_integer(const cJSON *n)
{
    if (!cJSON_IsNumber(n))
        return false;
    double d = n->valuedouble;
    return isfinite(d) && d == floor(d);
}

const char *json_type_name(const cJSON *n)
{
    if (!n)
        return "nothing";
    if (cJSON_IsObject(n))
        return "object";
    if (cJSON_IsArray(n))
        return "array";
    if (cJSON_IsString(n))
        return "string";
    if (cJSON_IsNumber(n))
        return json_is_integer(n) ? "integer" : "number";
    if (cJSON_IsBool(n))
        return "boolean";
    if (cJSON_IsNull(n))
        return "null";
    return "invalid";
}

bool json_equal(const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return a == b;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsBool(a) && cJSON_IsBool(b))
        return cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return false;
    if (cJSON_IsNull(a))
        return true;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!json_equal(x, y))
                return false;
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
        if (na != nb)
            return false;
        const cJSON *x;
        cJSON_ArrayForEach(x, a)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !json_equal(x, y))
                return false;
        }
        return true;
    }
    return false;
}

/* ---- serialization ---- */

/* Appends n bytes; while the text is written the buffer is not kept
 * NUL-terminated (json_write terminates it), so that most appends are a
 * bare copy into the room already there. */
static inline int put(struct util_buf *b, const void *s, size_t n)
{
    if (n < b->alloc - b->len && n <= b->limit - b->len) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        return UTIL_OK;
    }
    return util_buf_append(b, s, n);
}

static inline int put_c(struct util_buf *b, char c)
{
    return put(b, &c, 1);
}

static int write_string(struct util_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = put_c(b, '"');
    const char *p = s ? s : "";
    while (!rc) {
        const char *run = p;
        /* Up to a byte that is escaped, or the terminating NUL. */
        while ((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
            p++;
        rc = put(b, run, (size_t)(p - run));
        if (rc || !*p)
            break;
        unsigned char c = (unsigned char)*p++;
        char e[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"':
        case '\\':
            e[1] = (char)c;
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            memcpy(e + 1, "u00", 3);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            n = 6;
        }
        rc = put(b, e, n);
    }
    return rc ? rc : put_c(b, '"');
}

/* Numbers as cJSON prints them: the shorter of 15 or 17 significant
 * digits that reads back the same (an integer below 1e15 is its digits,
 * done here without printf); not finite: null. */
static int write_number(struct util_buf *b, double d)
{
    char text[32];
    if (isnan(d) || isinf(d))
        return put(b, "null", 4);
    if (d > -1e15 && d < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
        char *p = text + sizeof(text);
        long long v = (long long)d;
        unsigned long long u = v < 0 ? (unsigned long long)-v : (unsigned long long)v;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0)
            *--p = '-';
        return put(b, p, (size_t)(text + sizeof(text) - p));
    }
    snprintf(text, sizeof(text), "%1.15g", d);
    double back = strtod(text, NULL);
    double most = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
    if (!(fabs(back - d) <= most * DBL_EPSILON))
        snprintf(text, sizeof(text), "%1.17g", d);
    return put(b, text, strlen(text));
}

/* A newline and the indentation of depth. */
static int write_newline(struct util_buf *b, size_t depth)
{
    static const char spaces[] =
        "\n                                                               ";
    int rc = put(b, spaces, 1);
    for (size_t n = depth * 2; n && !rc;) {
        size_t k = n < sizeof(spaces) - 2 ? n : sizeof(spaces) - 2;
        rc = put(b, spaces + 1, k);
        n -= k;
    }
    return rc;
}

static int write_value(struct util_buf *b, const cJSON *n, bool pretty, size_t depth)
{
    int rc = UTIL_OK;
    switch (n->type & 0xff) {
    case cJSON_NULL:
        return put(b, "null", 4);
    case cJSON_False:
        return put(b, "false", 5);
    case cJSON_True:
        return put(b, "true", 4);
    case cJSON_Number:
        return write_number(b, n->valuedouble);
    case cJSON_String:
        return write_string(b, n->valuestring);
    case cJSON_Raw:
        return n->valuestring ? put(b, n->valuestring, strlen(n->valuestring)) : UTIL_ERR_INVALID;
    case cJSON_Array:
        rc = put_c(b, '[');
        for (const cJSON *c = n->child; c && !rc; c = c->next) {
            rc = write_value(b, c, pretty, depth + 1);
            if (!rc && c->next)
                rc = put(b, ", ", pretty ? 2 : 1);
        }
        return rc ? rc : put_c(b, ']');
    case cJSON_Object:
        rc = put_c(b, '{');
        for (const cJSON *c = n->child; c && !rc; c = c->next) {
            if (pretty)
                rc = write_newline(b, depth + 1);
            if (!rc)
                rc = write_string(b, c->string);
            if (!rc)
                rc = put(b, ":  ", pretty ? 3 : 1);
            if (!rc)
                rc = write_value(b, c, pretty, depth + 1);
            if (!rc && c->next)
                rc = put_c(b, ',');
        }
        if (!rc && pretty)
            rc = write_newline(b, depth);
        return rc ? rc : put_c(b, '}');
    default:
        return UTIL_ERR_INVALID;
    }
}

int json_write(struct util_buf *b, const cJSON *n, bool pretty)
{
    return json_write_at(b, n, pretty, 0);
}

int json_write_at(struct util_buf *b, const cJSON *n, bool pretty, size_t depth)
{
    int rc = n ? write_value(b, n, pretty, depth) : UTIL_ERR_INVALID;
    if (b->data) /* put() leaves the buffer unterminated */
        b->data[b->len] = '\0';
    return rc;
}

char *json_print(const cJSON *n, bool pretty)
{
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_JSON_DOCUMENT);
    if (json_write(&b, n, pretty)) {
        util_buf_finish(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

int json_print_short(struct util_buf *b, const cJSON *n, size_t max)
{
    char *s = cJSON_PrintUnformatted(n);
    if (!s)
        return UTIL_ERR_NOMEM;
    size_t len = strlen(s);
    int rc;
    if (len > max && max > 3) {
        rc = util_buf_append(b, s, max - 3);
        if (!rc)
            rc = util_buf_puts(b, "...");
    } else {
        rc = util_buf_append(b, s, len);
    }
    cJSON_free(s);
    return rc;
}
