/* Redaction of secrets on record (and of incoming requests on replay, so
 * that they compare equal to their redacted recordings). */
#include "cassette/caps.h"
#include "cassette/internal.h"
#include "util/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct secret {
    char *value;
    size_t len;
    char *placeholder; /* "<REDACTED:label>" */
    char *uri_placeholder;
};

/* The remembered secrets: grows while recording. The ones long enough to
 * be searched for anywhere are in search too (every form of them, see
 * util/secret.h), search_item[i] naming their item. */
struct secret_set {
    struct secret *items;
    size_t count;
    size_t alloc;
    struct util_secret *search;
    size_t *search_item;
    size_t nsearch;
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
        }
        for (size_t i = 0; i < r->known->nsearch; i++)
            util_secret_finish(&r->known->search[i]);
        free(r->known->items);
        free(r->known->search);
        free(r->known->search_item);
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
        struct util_secret *q = realloc(k->search, n * sizeof(*q));
        if (p)
            k->items = p;
        if (q)
            k->search = q;
        size_t *w = p && q ? realloc(k->search_item, n * sizeof(*w)) : NULL;
        if (!w)
            return UTIL_ERR_NOMEM;
        k->search_item = w;
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
    int rc = s.value && s.placeholder && s.uri_placeholder ? UTIL_OK : UTIL_ERR_NOMEM;
    bool search = len >= CASSETTE_MIN_SECRET_SEARCH_LEN;
    if (rc == UTIL_OK && search)
        rc = util_secret_init(&k->search[k->nsearch], value, len);
    if (rc) {
        free(s.value);
        free(s.placeholder);
        free(s.uri_placeholder);
        return rc;
    }
    if (search)
        k->search_item[k->nsearch++] = k->count;
    k->items[k->count++] = s;
    return UTIL_OK;
}

int redact_learn(const struct cassette_redactor *r, const char *value, const char *label)
{
    return r && value && label ? learn(r, value, strlen(value), label) : UTIL_ERR_USAGE;
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
    return util_secret_header(name);
}

/* Whether a member (or query parameter) named name (n bytes) is secret:
 * a built-in name or a field added (any case). */
static bool secret_field(const struct cassette_redactor *r, const char *name, size_t n)
{
    if (util_secret_field(name, n))
        return true;
    for (size_t i = 0; r && i < r->nfields; i++)
        if (strlen(r->fields[i]) == n && strncasecmp(r->fields[i], name, n) == 0)
            return true;
    return false;
}

/* ---- replacing remembered secrets anywhere ---- */

struct known_ctx {
    const struct cassette_redactor *r;
    bool in_uri;
    struct cassette *c;
};

static int put_known(void *user, size_t index, struct util_buf *out)
{
    const struct known_ctx *x = user;
    const struct secret *k = &x->r->known->items[x->r->known->search_item[index]];
    int rc = util_buf_puts(out, x->in_uri ? k->uri_placeholder : k->placeholder);
    if (rc == UTIL_OK && x->c)
        rc = cassette_note_placeholder(x->c, k->placeholder);
    return rc;
}

/* Appends s with every remembered secret, in any form, replaced by its
 * placeholder (percent-encoded in a URI). */
static int known_pass(const struct cassette_redactor *r, const char *s, size_t n, bool in_uri,
                      struct util_buf *out, bool *changed, struct cassette *c)
{
    struct known_ctx x = {r, in_uri, c};
    *changed = false;
    if (!r || !r->known->nsearch)
        return util_buf_append(out, s, n);
    return util_secret_replace(r->known->search, r->known->nsearch, s, n, put_known, &x, out,
                               changed);
}

int redact_known(const struct cassette_redactor *r, const char *s, size_t n, bool in_uri,
                 struct util_buf *out, bool *changed)
{
    return known_pass(r, s, n, in_uri, out, changed, NULL);
}

/* ---- fields of JSON bodies, edited as text ---- */

struct fields_ctx {
    const struct cassette_redactor *r;
    bool remember;
    struct cassette *c;
};

static bool field_is_secret(void *user, const char *name)
{
    const struct fields_ctx *x = user;
    return secret_field(x->r, name, strlen(name));
}

/* Remembers every string inside v (v included) under label. */
static int learn_strings(const struct cassette_redactor *r, const cJSON *v, const char *label)
{
    if (cJSON_IsString(v))
        return learn(r, v->valuestring, strlen(v->valuestring), label);
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        int rc = learn_strings(r, it, label);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* Replaces the value of a secret member, whatever its type, by the
 * placeholder string; remembers the strings in it when remembering
 * (requests only: what a client sends as a credential is a secret, while
 * a response's "key" member may well be an ordinary word that must not be
 * replaced everywhere). */
static int put_field(void *user, const char *name, const char *value, size_t n,
                     struct util_buf *out)
{
    const struct fields_ctx *x = user;
    int rc = UTIL_OK;
    if (x->remember) {
        cJSON *v = cJSON_ParseWithLength(value, n);
        rc = learn_strings(x->r, v, name);
        cJSON_Delete(v);
        if (rc == UTIL_ERR_LIMIT)
            rc = UTIL_OK; /* replaced here all the same; only not searched for elsewhere */
    }
    char *ph = make_placeholder(name);
    if (!ph)
        rc = UTIL_ERR_NOMEM;
    if (rc == UTIL_OK && (rc = util_buf_putc(out, '"')) == UTIL_OK &&
        (rc = util_buf_puts(out, ph)) == UTIL_OK)
        rc = util_buf_putc(out, '"');
    if (rc == UTIL_OK && x->c)
        rc = cassette_note_placeholder(x->c, ph);
    free(ph);
    return rc;
}

/* Replaces the value of every member named like a secret field. */
static int redact_fields(const struct cassette_redactor *r, const char *s, size_t n, bool remember,
                         struct util_buf *out, bool *changed, struct cassette *c)
{
    struct fields_ctx x = {r, remember, c};
    return util_secret_members(s, n, field_is_secret, put_field, &x, out, changed);
}

int redact_members(const char *s, size_t n, struct util_buf *out)
{
    bool changed = false;
    return redact_fields(NULL, s, n, false, out, &changed, NULL);
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
            if (rc == UTIL_OK && eq < j && name.data &&
                (is_secret_header(name.data) || secret_field(r, name.data, name.len)))
                label = name.data;
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
