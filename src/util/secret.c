/* Secrets in text: names, encoded forms, JSON members; see secret.h. */
#include "util/secret.h"

#include "util/base64.h"
#include "util/error.h"
#include "util/text.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Offsets a partial match may reach at once; more (a secret of many
 * backslashes in text of many backslashes) are not followed. */
#define SECRET_MATCH_WAYS 32
/* Characters of base64 that must depend on the secret alone. */
#define SECRET_B64_MIN 8

static bool in_names(const char *name, size_t n, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
            return true;
    return false;
}

bool util_secret_field(const char *name, size_t n)
{
    static const char *const names[] = {"client_secret", "clientSecret", "password", "key",
                                        "apiKey",        "privateKey",   "secret"};
    return name && in_names(name, n, names, sizeof(names) / sizeof(names[0]));
}

bool util_secret_header(const char *name)
{
    static const char *const names[] = {"x-algolia-api-key",
                                        "x-algolia-application-id",
                                        "authorization",
                                        "proxy-authorization",
                                        "cookie",
                                        "set-cookie"};
    return name && in_names(name, strlen(name), names, sizeof(names) / sizeof(names[0]));
}

/* ---- one secret ---- */

int util_secret_init(struct util_secret *s, const char *value, size_t len)
{
    memset(s, 0, sizeof(*s));
    if (!(s->value = malloc(len + 1)))
        return UTIL_ERR_NOMEM;
    memcpy(s->value, value, len);
    s->value[len] = '\0';
    s->len = len;
    /* Base64 of the value after a = 0, 1, 2 bytes: the characters whose six
     * bits all come from the value are the same whatever surrounds it. */
    unsigned char *pad = malloc(len + 4);
    struct util_buf b;
    util_buf_init(&b, (len + 4) / 3 * 4 + 8);
    int rc = pad ? UTIL_OK : UTIL_ERR_NOMEM;
    for (size_t a = 0; rc == UTIL_OK && a < 3; a++) {
        memset(pad, 0, len + 4);
        memcpy(pad + a, value, len);
        util_buf_reset(&b);
        if ((rc = util_base64_encode(pad, a + len + 2, &b)))
            break;
        size_t from = (8 * a + 5) / 6, to = (8 * (a + len)) / 6;
        if (to < from + SECRET_B64_MIN)
            continue;
        if (!(s->b64[a] = malloc(to - from + 1))) {
            rc = UTIL_ERR_NOMEM;
            break;
        }
        memcpy(s->b64[a], b.data + from, to - from);
        s->b64[a][to - from] = '\0';
        s->b64_len[a] = to - from;
    }
    util_buf_finish(&b);
    free(pad);
    if (rc)
        util_secret_finish(s);
    return rc;
}

void util_secret_finish(struct util_secret *s)
{
    free(s->value);
    for (size_t a = 0; a < 3; a++)
        free(s->b64[a]);
    memset(s, 0, sizeof(*s));
}

/* ---- the forms of one byte ---- */

/* Value of &quot; &amp; &lt; &gt; &apos; &#N; &#xN; at t (n bytes), with
 * its length in *len; -1 when none. */
static int xml_reference(const char *t, size_t n, size_t *len)
{
    static const struct {
        const char *s;
        char c;
    } named[] = {{"&quot;", '"'}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        size_t k = strlen(named[i].s);
        if (n >= k && memcmp(t, named[i].s, k) == 0) {
            *len = k;
            return (unsigned char)named[i].c;
        }
    }
    if (n < 4 || t[1] != '#')
        return -1;
    bool hex = t[2] == 'x' || t[2] == 'X';
    size_t i = hex ? 3 : 2;
    long v = 0;
    size_t digits = 0;
    for (; i < n && digits < 8; i++, digits++) {
        int d = hex ? util_hex_digit(t[i]) : (t[i] >= '0' && t[i] <= '9' ? t[i] - '0' : -1);
        if (d < 0)
            break;
        v = v * (hex ? 16 : 10) + d;
    }
    if (!digits || i >= n || t[i] != ';' || v > 0x7f)
        return -1;
    *len = i + 1;
    return (int)v;
}

/* Value of the JSON escape at t (n bytes, t[0] == '\\') with its length
 * in *len; -1 when none (or beyond ASCII). */
static int json_escape_value(const char *t, size_t n, size_t *len)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (n < 2)
        return -1;
    const char *p = t[1] ? strchr(from, t[1]) : NULL;
    if (p) {
        *len = 2;
        return (unsigned char)to[p - from];
    }
    if (t[1] != 'u' || n < 6)
        return -1;
    int v = 0;
    for (size_t i = 2; i < 6; i++) {
        int d = util_hex_digit(t[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    if (v > 0x7f)
        return -1;
    *len = 6;
    return v;
}

/* The lengths of the forms of byte c that t (n bytes, n > 0) starts with,
 * into lens; returns how many. */
static size_t forms_at(const char *t, size_t n, unsigned char c, size_t lens[3])
{
    size_t k = 0, len = 0;
    if ((unsigned char)t[0] == c)
        lens[k++] = 1;
    switch (t[0]) {
    case '+':
        if (c == ' ')
            lens[k++] = 1;
        break;
    case '%':
        if (n >= 3 && util_hex_digit(t[1]) >= 0 && util_hex_digit(t[2]) >= 0 &&
            util_hex_digit(t[1]) * 16 + util_hex_digit(t[2]) == c)
            lens[k++] = 3;
        break;
    case '\\':
        if (json_escape_value(t, n, &len) == c)
            lens[k++] = len;
        break;
    case '&':
        if (xml_reference(t, n, &len) == c)
            lens[k++] = len;
        break;
    default:
        break;
    }
    return k;
}

/* Length of the longest span at t (n bytes) that is s in some form, 0 when
 * none. The offsets a partial match may have reached are followed
 * together. */
static size_t match_at(const struct util_secret *s, const char *t, size_t n)
{
    size_t cur[SECRET_MATCH_WAYS], next[SECRET_MATCH_WAYS], ncur = 1;
    /* The raw form first: it is never lost among too many ways. */
    size_t raw = n >= s->len && memcmp(t, s->value, s->len) == 0 ? s->len : 0;
    cur[0] = 0;
    for (size_t i = 0; i < s->len; i++) {
        size_t nnext = 0;
        unsigned char c = (unsigned char)s->value[i];
        for (size_t j = 0; j < ncur; j++) {
            if (cur[j] >= n)
                continue;
            size_t lens[3];
            size_t k = forms_at(t + cur[j], n - cur[j], c, lens);
            for (size_t m = 0; m < k; m++) {
                size_t off = cur[j] + lens[m];
                bool seen = false;
                for (size_t q = 0; q < nnext && !seen; q++)
                    seen = next[q] == off;
                if (!seen && nnext < SECRET_MATCH_WAYS)
                    next[nnext++] = off;
            }
        }
        if (!nnext)
            return raw;
        memcpy(cur, next, nnext * sizeof(*cur));
        ncur = nnext;
    }
    size_t best = raw;
    for (size_t j = 0; j < ncur; j++)
        best = cur[j] > best ? cur[j] : best;
    return best;
}

/* Whether a and b are the same base64 digit in either alphabet. */
static bool b64_same(char a, char b)
{
    if (a == '+' || a == '-')
        return b == '+' || b == '-';
    if (a == '/' || a == '_')
        return b == '/' || b == '_';
    return a == b;
}

/* The first occurrence of the base64 core f (m bytes) in t (n bytes). */
static bool find_b64(const char *f, size_t m, const char *t, size_t n, size_t *at)
{
    for (size_t i = 0; m && i + m <= n; i++) {
        size_t j = 0;
        while (j < m && b64_same(f[j], t[i + j]))
            j++;
        if (j == m) {
            *at = i;
            return true;
        }
    }
    return false;
}

bool util_secret_find(const struct util_secret *s, const char *text, size_t n, size_t *at,
                      size_t *len)
{
    if (!s->len || !n)
        return false;
    bool found = false;
    size_t best_at = 0, best_len = 0;
    /* The bytes a form of the first byte may start with. */
    unsigned char c0 = (unsigned char)s->value[0];
    for (size_t i = 0; i < n; i++) {
        char t = text[i];
        if ((unsigned char)t != c0 && t != '%' && t != '\\' && t != '&' && t != '+')
            continue;
        size_t m = match_at(s, text + i, n - i);
        if (m) {
            found = true;
            best_at = i;
            best_len = m;
            break;
        }
    }
    for (size_t a = 0; a < 3; a++) {
        size_t p = 0;
        size_t limit = found ? best_at + s->b64_len[a] : n;
        if (s->b64[a] && find_b64(s->b64[a], s->b64_len[a], text, limit < n ? limit : n, &p) &&
            (!found || p < best_at)) {
            found = true;
            best_at = p;
            best_len = s->b64_len[a];
        }
    }
    if (found) {
        *at = best_at;
        *len = best_len;
    }
    return found;
}

int util_secret_replace(const struct util_secret *secrets, size_t count, const char *text, size_t n,
                        util_secret_put_fn put, void *user, struct util_buf *out, bool *changed)
{
    if (changed)
        *changed = false;
    size_t pos = 0;
    int rc = UTIL_OK;
    while (rc == UTIL_OK && pos < n) {
        size_t hit_at = n, hit_len = 0, which = 0;
        for (size_t i = 0; i < count; i++) {
            size_t at = 0, len = 0;
            if (util_secret_find(&secrets[i], text + pos, n - pos, &at, &len) &&
                (pos + at < hit_at || (pos + at == hit_at && len > hit_len))) {
                hit_at = pos + at;
                hit_len = len;
                which = i;
            }
        }
        if (!hit_len)
            break;
        if ((rc = util_buf_append(out, text + pos, hit_at - pos)) == UTIL_OK)
            rc = put(user, which, out);
        pos = hit_at + hit_len;
        if (changed)
            *changed = true;
    }
    if (rc == UTIL_OK)
        rc = util_buf_append(out, text + pos, n - pos);
    return rc;
}

/* ---- members of JSON text ---- */

/* Skips white space, and every other control byte as cJSON does (text
 * that only looks like JSON is scanned as a lenient parser would read it). */
static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (unsigned char)s[i] <= ' ')
        i++;
    return i;
}

/* End (past the closing quote) of the string at s[i] == '"', n when it
 * does not end. */
static size_t string_end(const char *s, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++) {
        if (s[j] == '\\')
            j++;
        else if (s[j] == '"')
            return j + 1;
    }
    return n;
}

/* End of the JSON value at s[i]: a string, an object or array (nesting
 * followed through strings), or a scalar up to a delimiter; n when it
 * does not end. */
static size_t value_end(const char *s, size_t n, size_t i)
{
    if (i >= n)
        return n;
    if (s[i] == '"')
        return string_end(s, n, i);
    if (s[i] == '{' || s[i] == '[') {
        size_t depth = 0;
        for (size_t j = i; j < n; j++) {
            if (s[j] == '"') {
                j = string_end(s, n, j) - 1;
            } else if (s[j] == '{' || s[j] == '[') {
                depth++;
            } else if (s[j] == '}' || s[j] == ']') {
                if (--depth == 0)
                    return j + 1;
            }
        }
        return n;
    }
    size_t j = i;
    while (j < n && (unsigned char)s[j] > ' ' && s[j] != ',' && s[j] != '}' && s[j] != ']')
        j++;
    return j;
}

/* The unescaped text of the JSON string s[i..end) (quotes included) into
 * name; escapes beyond ASCII become '?'. */
static int unescape_name(const char *s, size_t i, size_t end, struct util_buf *name)
{
    util_buf_reset(name);
    size_t last = end > i + 1 && s[end - 1] == '"' ? end - 1 : end;
    int rc = UTIL_OK;
    for (size_t j = i + 1; rc == UTIL_OK && j < last; j++) {
        size_t len = 0;
        int v = s[j] == '\\' ? json_escape_value(s + j, last - j, &len) : -1;
        if (s[j] != '\\') {
            rc = util_buf_putc(name, s[j]);
        } else if (v >= 0) {
            rc = util_buf_putc(name, (char)v);
            j += len - 1;
        } else {
            rc = util_buf_putc(name, '?');
            j += j + 1 < last && s[j + 1] == 'u' ? 5 : 1;
        }
    }
    if (rc == UTIL_OK && !name->data)
        rc = util_buf_append(name, "", 0);
    return rc;
}

int util_secret_members(const char *text, size_t n, util_secret_name_fn is_secret,
                        util_secret_value_fn put, void *user, struct util_buf *out, bool *changed)
{
    struct util_buf name;
    util_buf_init(&name, n + 1);
    int rc = UTIL_OK;
    size_t i = 0, copied = 0;
    if (changed)
        *changed = false;
    while (rc == UTIL_OK && i < n) {
        const char *q = memchr(text + i, '"', n - i);
        if (!q)
            break;
        i = (size_t)(q - text);
        size_t kend = string_end(text, n, i);
        size_t colon = skip_ws(text, n, kend);
        if (colon >= n || text[colon] != ':') {
            i = kend;
            continue;
        }
        if ((rc = unescape_name(text, i, kend, &name)))
            break;
        if (!is_secret(user, name.data)) {
            i = colon + 1;
            continue;
        }
        size_t v = skip_ws(text, n, colon + 1);
        size_t vend = value_end(text, n, v);
        if ((rc = util_buf_append(out, text + copied, v - copied)) == UTIL_OK)
            rc = put(user, name.data, text + v, vend - v, out);
        copied = i = vend;
        if (changed)
            *changed = true;
    }
    if (rc == UTIL_OK)
        rc = util_buf_append(out, text + copied, n - copied);
    util_buf_finish(&name);
    return rc;
}

/* ---- URL userinfo ---- */

int util_secret_split_userinfo(const char *url, char **clean, char **userinfo)
{
    *clean = NULL;
    *userinfo = NULL;
    const char *sep = strstr(url, "://");
    const char *auth = sep ? sep + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + alen; p++)
        if (*p == '@')
            at = p; /* the last one: nothing of a sloppy password stays in the host */
    size_t head = (size_t)(auth - url);
    size_t tail = strlen(at ? at + 1 : auth);
    if (!(*clean = malloc(head + tail + 1)))
        return UTIL_ERR_NOMEM;
    memcpy(*clean, url, head);
    memcpy(*clean + head, at ? at + 1 : auth, tail + 1);
    if (!at)
        return UTIL_OK;
    struct util_buf b;
    util_buf_init(&b, (size_t)(at - auth) + 2);
    int rc = UTIL_OK;
    bool colon = false;
    for (const char *p = auth; rc == UTIL_OK && p < at; p++) {
        colon = colon || *p == ':';
        if (*p == '%' && p + 2 < at && util_hex_digit(p[1]) >= 0 && util_hex_digit(p[2]) >= 0) {
            rc = util_buf_putc(&b, (char)(util_hex_digit(p[1]) * 16 + util_hex_digit(p[2])));
            p += 2;
        } else {
            rc = util_buf_putc(&b, *p);
        }
    }
    if (rc == UTIL_OK && !colon)
        rc = util_buf_putc(&b, ':');
    if (rc == UTIL_OK && !(*userinfo = util_buf_steal(&b)))
        rc = UTIL_ERR_NOMEM;
    util_buf_finish(&b);
    if (rc) {
        free(*clean);
        *clean = NULL;
    }
    return rc;
}
