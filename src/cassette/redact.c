/* Redaction of secrets on record (and of incoming requests on replay, so
 * that they compare equal to their redacted recordings). */
#include "cassette/caps.h"
#include "cassette/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const secret_headers[] = {
    "x-algolia-api-key", "x-algolia-application-id",
    "authorization",     "proxy-authorization",
    "set-cookie",        "cookie",
};
#define NSECRET_HEADERS (sizeof(secret_headers) / sizeof(secret_headers[0]))

static const char *const default_fields[] = {"client_secret", "password", "key", "apiKey",
                                             "privateKey"};

struct secret {
    char *value;
    size_t len;
    char *placeholder; /* "<REDACTED:label>" */
    char *uri_placeholder;
    /* The value percent-encoded and JSON-escaped, NULL when the same as
     * value (computed once: every string of every exchange is searched). */
    char *uri_form, *json_form;
};

/* The remembered secrets: grows while recording (longest first, so a
 * secret containing another is replaced whole). */
struct secret_set {
    struct secret *items;
    size_t count;
    size_t alloc;
};

struct cassette_redactor {
    char **fields;
    size_t nfields;
    struct secret_set *known;
};

struct cassette_redactor *cassette_redactor_create(void)
{
    struct cassette_redactor *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->known = calloc(1, sizeof(*r->known));
    if (!r->known) {
        free(r);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(default_fields) / sizeof(default_fields[0]); i++) {
        if (cassette_redactor_add_field(r, default_fields[i], NULL) != UTIL_OK) {
            cassette_redactor_destroy(r);
            return NULL;
        }
    }
    return r;
}

void cassette_redactor_destroy(struct cassette_redactor *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfields; i++)
        free(r->fields[i]);
    free(r->fields);
    if (r->known) {
        for (size_t i = 0; i < r->known->count; i++) {
            free(r->known->items[i].value);
            free(r->known->items[i].placeholder);
            free(r->known->items[i].uri_placeholder);
            free(r->known->items[i].uri_form);
            free(r->known->items[i].json_form);
        }
        free(r->known->items);
        free(r->known);
    }
    free(r);
}

int cassette_redactor_add_field(struct cassette_redactor *r, const char *name,
                                struct util_error *err)
{
    if (!name || !*name)
        return util_error_set(err, UTIL_ERR_USAGE, "empty field name to redact");
    for (size_t i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i], name) == 0)
            return UTIL_OK;
    if (r->nfields >= CASSETTE_CAP_REDACT_RULES)
        return util_error_set(err, UTIL_ERR_LIMIT, "more than %u fields to redact",
                              CASSETTE_CAP_REDACT_RULES);
    char **p = realloc(r->fields, (r->nfields + 1) * sizeof(*p));
    if (!p)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    r->fields = p;
    if (!(r->fields[r->nfields] = strdup(name)))
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    r->nfields++;
    return UTIL_OK;
}

static char *make_placeholder(const char *label)
{
    static const char head[] = "<REDACTED:";
    size_t h = sizeof(head) - 1, n = strlen(label);
    char *s = malloc(h + n + 2);
    if (s) {
        memcpy(s, head, h);
        memcpy(s + h, label, n);
        memcpy(s + h + n, ">", 2);
    }
    return s;
}

static int json_escape(const char *s, size_t n, struct util_buf *out);

/* A heap copy of the encoding of value by enc into *form, left NULL when
 * the encoding is value itself. */
static int encoded_form(const char *value, size_t len,
                        int (*enc)(const char *, size_t, struct util_buf *), char **form)
{
    struct util_buf u;
    util_buf_init(&u, CASSETTE_CAP_SCALAR * 6u);
    int rc = enc(value, len, &u);
    *form = NULL;
    if (rc == UTIL_OK && u.data && (u.len != len || memcmp(u.data, value, len) != 0) &&
        !(*form = util_buf_steal(&u)))
        rc = UTIL_ERR_NOMEM;
    util_buf_finish(&u);
    return rc;
}

/* Remembers value under label; a value already known keeps its label. */
static int learn(const struct cassette_redactor *r, const char *value, size_t len,
                 const char *label)
{
    struct secret_set *k = r->known;
    if (len == 0)
        return UTIL_OK;
    for (size_t i = 0; i < k->count; i++)
        if (k->items[i].len == len && memcmp(k->items[i].value, value, len) == 0)
            return UTIL_OK;
    if (k->count >= CASSETTE_CAP_REDACT_RULES)
        return UTIL_ERR_LIMIT;
    if (k->count == k->alloc) {
        size_t n = k->alloc ? k->alloc * 2 : 8;
        struct secret *p = realloc(k->items, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        k->items = p;
        k->alloc = n;
    }
    struct secret s = {0};
    struct util_buf u;
    util_buf_init(&u, CASSETTE_CAP_SCALAR);
    s.value = malloc(len + 1);
    s.len = len;
    s.placeholder = make_placeholder(label);
    if (s.value) {
        memcpy(s.value, value, len);
        s.value[len] = '\0';
    }
    if (s.placeholder && uri_encode(s.placeholder, strlen(s.placeholder), &u) == UTIL_OK)
        s.uri_placeholder = util_buf_steal(&u);
    util_buf_finish(&u);
    int rc = s.value ? encoded_form(s.value, len, uri_encode, &s.uri_form) : UTIL_ERR_NOMEM;
    if (rc == UTIL_OK)
        rc = encoded_form(s.value, len, json_escape, &s.json_form);
    if (rc || !s.placeholder || !s.uri_placeholder) {
        free(s.value);
        free(s.placeholder);
        free(s.uri_placeholder);
        free(s.uri_form);
        free(s.json_form);
        return rc ? rc : UTIL_ERR_NOMEM;
    }
    /* Longest first. */
    size_t at = 0;
    while (at < k->count && k->items[at].len >= len)
        at++;
    memmove(k->items + at + 1, k->items + at, (k->count - at) * sizeof(*k->items));
    k->items[at] = s;
    k->count++;
    return UTIL_OK;
}

int cassette_redactor_add_secret(struct cassette_redactor *r, const char *value, const char *label,
                                 struct util_error *err)
{
    if (!value || !label || !*label)
        return util_error_set(err, UTIL_ERR_USAGE, "a secret needs a value and a label");
    int rc = learn(r, value, strlen(value), label);
    if (rc)
        return util_error_set(err, rc, "remembering a secret: %s", util_status_name(rc));
    return UTIL_OK;
}

static bool is_secret_header(const char *name)
{
    for (size_t i = 0; i < NSECRET_HEADERS; i++)
        if (strcasecmp(secret_headers[i], name) == 0)
            return true;
    return false;
}

static const char *secret_field(const struct cassette_redactor *r, const char *name, size_t n)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strlen(r->fields[i]) == n && memcmp(r->fields[i], name, n) == 0)
            return r->fields[i];
    return NULL;
}

/* ---- replacing remembered secrets anywhere ---- */

static int json_escape(const char *s, size_t n, struct util_buf *out)
{
    int rc = UTIL_OK;
    for (size_t i = 0; rc == UTIL_OK && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            rc = util_buf_append(out, e, 2);
        } else if (c < 0x20) {
            rc = util_buf_printf(out, "\\u%04x", c);
        } else {
            rc = util_buf_putc(out, (char)c);
        }
    }
    return rc;
}

/* memmem (a GNU extension, not in POSIX). */
static const char *find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0 || m > n)
        return NULL;
    const char *end = hay + n - m;
    for (const char *p = hay; p <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
    }
    return NULL;
}

/* Replaces every occurrence of needle in *cur (len *n) by rep, swapping
 * buffers a and b. */
static int replace_all(const char *needle, size_t nlen, const char *rep, const char **cur,
                       size_t *n, struct util_buf *a, struct util_buf *b, bool *changed)
{
    if (nlen == 0 || nlen > *n || !find_bytes(*cur, *n, needle, nlen))
        return UTIL_OK;
    struct util_buf *dst = (*cur == a->data) ? b : a;
    util_buf_reset(dst);
    const char *p = *cur, *end = *cur + *n;
    int rc = UTIL_OK;
    while (rc == UTIL_OK) {
        const char *hit = find_bytes(p, (size_t)(end - p), needle, nlen);
        if (!hit) {
            rc = util_buf_append(dst, p, (size_t)(end - p));
            break;
        }
        if ((rc = util_buf_append(dst, p, (size_t)(hit - p))) == UTIL_OK)
            rc = util_buf_puts(dst, rep);
        p = hit + nlen;
    }
    if (rc)
        return rc;
    if (!dst->data && (rc = util_buf_append(dst, "", 0)))
        return rc;
    *cur = dst->data;
    *n = dst->len;
    *changed = true;
    return UTIL_OK;
}

static int known_pass(const struct cassette_redactor *r, const char *s, size_t n, bool in_uri,
                      struct util_buf *out, bool *changed, struct cassette *c)
{
    struct util_buf a, b;
    util_buf_init(&a, CASSETTE_CAP_BODY * 2u);
    util_buf_init(&b, CASSETTE_CAP_BODY * 2u);
    const char *cur = s;
    size_t len = n;
    int rc = UTIL_OK;
    *changed = false;
    for (size_t i = 0; r && rc == UTIL_OK && i < r->known->count; i++) {
        const struct secret *k = &r->known->items[i];
        if (k->len < CASSETTE_MIN_SECRET_SEARCH_LEN)
            continue;
        const char *rep = in_uri ? k->uri_placeholder : k->placeholder;
        bool hit = false;
        rc = replace_all(k->value, k->len, rep, &cur, &len, &a, &b, &hit);
        if (rc == UTIL_OK && k->uri_form)
            rc = replace_all(k->uri_form, strlen(k->uri_form), rep, &cur, &len, &a, &b, &hit);
        if (rc == UTIL_OK && k->json_form)
            rc = replace_all(k->json_form, strlen(k->json_form), rep, &cur, &len, &a, &b, &hit);
        if (rc == UTIL_OK && hit) {
            *changed = true;
            if (c)
                rc = cassette_note_placeholder(c, k->placeholder);
        }
    }
    if (rc == UTIL_OK)
        rc = util_buf_append(out, cur, len);
    util_buf_finish(&a);
    util_buf_finish(&b);
    return rc;
}

int redact_known(const struct cassette_redactor *r, const char *s, size_t n, bool in_uri,
                 struct util_buf *out, bool *changed)
{
    return known_pass(r, s, n, in_uri, out, changed, NULL);
}

/* ---- fields of JSON bodies, edited as text ---- */

/* End (index past the closing quote) of the JSON string starting at s[i]
 * == '"', or 0 when it does not end. */
static size_t string_end(const char *s, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++) {
        if (s[j] == '\\')
            j++;
        else if (s[j] == '"')
            return j + 1;
    }
    return 0;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

/* Replaces the string value of every member named like a secret field;
 * remembers the value when remember is true (requests only: what a client
 * sends as a credential is a secret, while a response's "key" member may
 * well be an ordinary word that must not be replaced everywhere). */
static int redact_fields(const struct cassette_redactor *r, const char *s, size_t n, bool remember,
                         struct util_buf *out, bool *changed, struct cassette *c)
{
    int rc = UTIL_OK;
    size_t i = skip_ws(s, n, 0);
    *changed = false;
    if (i >= n || (s[i] != '{' && s[i] != '['))
        return util_buf_append(out, s, n);
    size_t copied = 0;
    while (rc == UTIL_OK && i < n) {
        if (s[i] != '"') {
            i++;
            continue;
        }
        size_t kend = string_end(s, n, i);
        if (!kend)
            break;
        size_t colon = skip_ws(s, n, kend);
        if (colon >= n || s[colon] != ':') {
            i = kend;
            continue;
        }
        const char *field = secret_field(r, s + i + 1, kend - i - 2);
        size_t v = skip_ws(s, n, colon + 1);
        if (!field || v >= n || s[v] != '"') {
            i = kend;
            continue;
        }
        size_t vend = string_end(s, n, v);
        if (!vend)
            break;
        cJSON *str = cJSON_ParseWithLength(s + v, vend - v);
        if (remember && cJSON_IsString(str))
            rc = learn(r, str->valuestring, strlen(str->valuestring), field);
        cJSON_Delete(str);
        char *ph = make_placeholder(field);
        if (!ph)
            rc = UTIL_ERR_NOMEM;
        if (rc == UTIL_OK && (rc = util_buf_append(out, s + copied, v - copied)) == UTIL_OK &&
            (rc = util_buf_putc(out, '"')) == UTIL_OK && (rc = util_buf_puts(out, ph)) == UTIL_OK)
            rc = util_buf_putc(out, '"');
        if (rc == UTIL_OK && c)
            rc = cassette_note_placeholder(c, ph);
        free(ph);
        copied = vend;
        i = vend;
        *changed = true;
    }
    if (rc == UTIL_OK)
        rc = util_buf_append(out, s + copied, n - copied);
    return rc;
}

/* Body: fields, then remembered secrets. *out_body is malloc'ed. */
static int redact_body(const struct cassette_redactor *r, const char *body, size_t n, bool remember,
                       char **out_body, size_t *out_len, struct cassette *c)
{
    struct util_buf f, k;
    util_buf_init(&f, CASSETTE_CAP_BODY * 2u);
    util_buf_init(&k, CASSETTE_CAP_BODY * 2u);
    bool changed = false;
    int rc = redact_fields(r, body, n, remember, &f, &changed, c);
    if (rc == UTIL_OK)
        rc = known_pass(r, f.data ? f.data : "", f.len, false, &k, &changed, c);
    if (rc == UTIL_OK && !k.data)
        rc = util_buf_append(&k, "", 0);
    if (rc == UTIL_OK) {
        *out_len = k.len;
        *out_body = util_buf_steal(&k);
        if (!*out_body)
            rc = UTIL_ERR_NOMEM;
    }
    util_buf_finish(&f);
    util_buf_finish(&k);
    return rc;
}

static int redact_headers(const struct cassette_redactor *r, const struct http_headers *in,
                          struct http_headers *out, struct cassette *c)
{
    int rc = UTIL_OK;
    struct util_buf v, lower;
    util_buf_init(&v, CASSETTE_CAP_SCALAR * 2u);
    util_buf_init(&lower, CASSETTE_CAP_SCALAR);
    for (size_t i = 0; rc == UTIL_OK && i < in->count; i++) {
        const struct http_header *h = &in->items[i];
        util_buf_reset(&v);
        if (is_secret_header(h->name)) {
            util_buf_reset(&lower);
            for (const char *p = h->name; rc == UTIL_OK && *p; p++)
                rc = util_buf_putc(&lower, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
            if (rc)
                break;
            if ((rc = learn(r, h->value, strlen(h->value), lower.data)))
                break;
            char *ph = make_placeholder(lower.data);
            if (!ph) {
                rc = UTIL_ERR_NOMEM;
                break;
            }
            rc = http_headers_add(out, h->name, ph);
            if (rc == UTIL_OK && c)
                rc = cassette_note_placeholder(c, ph);
            free(ph);
            continue;
        }
        bool changed = false;
        if ((rc = known_pass(r, h->value, strlen(h->value), false, &v, &changed, c)))
            break;
        rc = http_headers_add(out, h->name, v.data ? v.data : "");
    }
    util_buf_finish(&v);
    util_buf_finish(&lower);
    return rc;
}

/* Query parameters named like a secret header or field get their value
 * replaced (percent-encoded placeholder); then remembered secrets. */
static int redact_uri(const struct cassette_redactor *r, const char *uri, char **out,
                      struct cassette *c)
{
    struct util_buf u, k, name, value;
    util_buf_init(&u, CASSETTE_CAP_SCALAR * 4u);
    util_buf_init(&k, CASSETTE_CAP_SCALAR * 4u);
    util_buf_init(&name, CASSETTE_CAP_SCALAR);
    util_buf_init(&value, CASSETTE_CAP_SCALAR);
    int rc = UTIL_OK;
    size_t qlen;
    const char *q = uri_query(uri, &qlen);
    if (!q) {
        rc = util_buf_puts(&u, uri);
    } else {
        rc = util_buf_append(&u, uri, (size_t)(q - uri));
        size_t i = 0;
        while (rc == UTIL_OK && i <= qlen) {
            size_t j = i;
            while (j < qlen && q[j] != '&')
                j++;
            size_t eq = i;
            while (eq < j && q[eq] != '=')
                eq++;
            util_buf_reset(&name);
            rc = uri_decode(q + i, eq - i, true, &name);
            const char *label = NULL;
            if (rc == UTIL_OK && eq < j) {
                if (is_secret_header(name.data))
                    label = name.data;
                else
                    label = secret_field(r, name.data, name.len);
            }
            if (rc == UTIL_OK && label) {
                util_buf_reset(&value);
                if ((rc = uri_decode(q + eq + 1, j - eq - 1, true, &value)) == UTIL_OK &&
                    (rc = learn(r, value.data, value.len, label)) == UTIL_OK) {
                    char *ph = make_placeholder(label);
                    if (!ph)
                        rc = UTIL_ERR_NOMEM;
                    if (rc == UTIL_OK && (rc = util_buf_append(&u, q + i, eq + 1 - i)) == UTIL_OK)
                        rc = uri_encode(ph, strlen(ph), &u);
                    if (rc == UTIL_OK && c)
                        rc = cassette_note_placeholder(c, ph);
                    free(ph);
                }
            } else if (rc == UTIL_OK) {
                rc = util_buf_append(&u, q + i, j - i);
            }
            if (rc == UTIL_OK && j < qlen)
                rc = util_buf_putc(&u, '&');
            i = j + 1;
        }
        if (rc == UTIL_OK)
            rc = util_buf_puts(&u, q + qlen);
    }
    bool changed = false;
    if (rc == UTIL_OK)
        rc = known_pass(r, u.data ? u.data : "", u.len, true, &k, &changed, c);
    if (rc == UTIL_OK) {
        if (!k.data)
            rc = util_buf_append(&k, "", 0);
        *out = rc ? NULL : util_buf_steal(&k);
        if (!*out)
            rc = UTIL_ERR_NOMEM;
    }
    util_buf_finish(&u);
    util_buf_finish(&k);
    util_buf_finish(&name);
    util_buf_finish(&value);
    return rc;
}

int redact_exchange(const struct cassette_redactor *r, const struct http_request *req,
                    const struct http_response *resp, struct http_request *req_out,
                    struct http_response *resp_out, struct cassette *c)
{
    struct cassette_redactor *own = NULL;
    char *uri = NULL;
    int rc = UTIL_OK;
    if (!r) {
        if (!(own = cassette_redactor_create()))
            return UTIL_ERR_NOMEM;
        r = own;
    }
    /* Learn from the headers and bodies first, so that a secret sent in the
     * body is also found in the URI and the response. */
    http_request_finish(req_out);
    http_request_init(req_out);
    if ((rc = redact_headers(r, &req->headers, &req_out->headers, c)))
        goto cleanup;
    if (req->body) {
        char *b = NULL;
        size_t n = 0;
        if ((rc = redact_body(r, req->body, req->body_len, true, &b, &n, c)))
            goto cleanup;
        req_out->body = b;
        req_out->body_len = n;
    }
    if ((rc = redact_uri(r, req->url, &uri, c)) ||
        (rc = http_request_set(req_out, req->method, uri)))
        goto cleanup;
    if (resp && resp_out) {
        http_response_finish(resp_out);
        http_response_init(resp_out);
        resp_out->status = resp->status;
        resp_out->failure = resp->failure;
        resp_out->elapsed_ms = resp->elapsed_ms;
        if ((rc = redact_headers(r, &resp->headers, &resp_out->headers, c)))
            goto cleanup;
        char *b = NULL;
        size_t n = 0;
        if ((rc = redact_body(r, resp->body ? resp->body : "", resp->body ? resp->body_len : 0,
                              false, &b, &n, c)))
            goto cleanup;
        resp_out->body = b;
        resp_out->body_len = n;
        /* The request again: a secret first seen in the response (learned
         * above) must not stay in the request either. */
        struct util_buf k;
        util_buf_init(&k, CASSETTE_CAP_BODY * 2u);
        bool changed = false;
        if (req_out->body &&
            (rc = known_pass(r, req_out->body, req_out->body_len, false, &k, &changed, c)) ==
                UTIL_OK &&
            changed) {
            free(req_out->body);
            req_out->body_len = k.len;
            req_out->body = util_buf_steal(&k);
            if (!req_out->body)
                rc = UTIL_ERR_NOMEM;
        }
        util_buf_finish(&k);
    }
cleanup:
    free(uri);
    cassette_redactor_destroy(own);
    return rc;
}

int cassette_redact_request(const struct cassette_redactor *r, const struct http_request *req,
                            struct http_request *out, struct util_error *err)
{
    int rc = redact_exchange(r, req, NULL, out, NULL, NULL);
    if (rc)
        return util_error_set(err, rc, "redacting %s %s: %s", req->method, req->url,
                              util_status_name(rc));
    return UTIL_OK;
}
