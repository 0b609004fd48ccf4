#include "json/json.h"
#include "util/text.h"

#include "util/caps.h"
#include "util/file.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The first JSON_NUL in s[0..n), or NULL. */
static const char *find_nul(const char *s, size_t n)
{
    for (const char *p = s; n >= 2 && (p = memchr(p, 0xc0, n - 1 - (size_t)(p - s)));) {
        if ((unsigned char)p[1] == 0x80)
            return p;
        p++;
        if ((size_t)(p - s) + 1 >= n)
            break;
    }
    return NULL;
}

int json_string_repair(struct util_buf *b)
{
    if (!b->data || !find_nul(b->data, b->len))
        return util_utf8_repair(b, 0);
    struct util_buf out;
    util_buf_init(&out, b->limit > SIZE_MAX / 3 ? SIZE_MAX : b->limit * 3);
    int rc = UTIL_OK;
    for (size_t i = 0; i < b->len && !rc;) {
        const char *nul = find_nul(b->data + i, b->len - i);
        size_t seg = nul ? (size_t)(nul - b->data) - i : b->len - i, from = out.len;
        rc = util_buf_append(&out, b->data + i, seg);
        if (!rc)
            rc = util_utf8_repair(&out, from);
        if (!rc && nul)
            rc = util_buf_append(&out, JSON_NUL, 2);
        i += seg + (nul ? 2 : 0);
    }
    if (rc) {
        util_buf_finish(&out);
        return rc;
    }
    util_buf_finish(b);
    *b = out;
    return UTIL_OK;
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
        /* Up to a byte that is escaped, JSON_NUL, or the terminating NUL. */
        while ((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\' && (unsigned char)*p != 0xc0)
            p++;
        rc = put(b, run, (size_t)(p - run));
        if (rc || !*p)
            break;
        if ((unsigned char)*p == 0xc0) {
            /* JSON_NUL is U+0000; a lone 0xC0 (not from json_parse) stays. */
            bool nul = (unsigned char)p[1] == 0x80;
            rc = nul ? put(b, "\\u0000", 6) : put(b, p, 1);
            p += nul ? 2 : 1;
            continue;
        }
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
    /* Exactly (cJSON accepts a difference of one epsilon, which loses the
     * last bit: 9007199254740993 would come back as 9007199254740990). */
    if (back != d)
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
    struct util_buf text;
    util_buf_init(&text, UTIL_CAP_JSON_DOCUMENT);
    int rc = json_write(&text, n, false);
    if (rc == UTIL_ERR_INVALID)
        rc = util_buf_puts(&text, "null");
    if (rc) {
        util_buf_finish(&text);
        return rc;
    }
    if (text.len > max && max > 3) {
        size_t cut = max - 3;
        while (cut && ((unsigned char)text.data[cut] & 0xc0) == 0x80)
            cut--; /* not inside a UTF-8 sequence */
        rc = util_buf_append(b, text.data, cut);
        if (!rc)
            rc = util_buf_puts(b, "...");
    } else {
        rc = util_buf_append(b, text.data, text.len);
    }
    util_buf_finish(&text);
    return rc;
}
