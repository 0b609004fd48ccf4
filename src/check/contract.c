/* The contract checks and the check list; see check.h. */
#include "check/check.h"

#include "openapi/source.h"
#include "openapi/spec.h"
#include "schema/schema.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- check lists ---- */

const char *check_outcome_name(enum check_outcome o)
{
    switch (o) {
    case CHECK_PASS:
        return "pass";
    case CHECK_FAIL:
        return "fail";
    case CHECK_GAP:
        return "gap";
    case CHECK_SKIP:
        return "skip";
    }
    return "?";
}

void check_list_init(struct check_list *l)
{
    memset(l, 0, sizeof(*l));
}

static void item_finish(struct check_item *it)
{
    free(it->name);
    free(it->message);
    free(it->pointer);
    free(it->expected);
    free(it->actual);
}

void check_list_finish(struct check_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        item_finish(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

static int reserve(struct check_list *l)
{
    if (l->count < l->alloc)
        return UTIL_OK;
    size_t n = l->alloc ? l->alloc * 2 : 8;
    struct check_item *p = realloc(l->items, n * sizeof(*p));
    if (!p)
        return UTIL_ERR_NOMEM;
    l->items = p;
    l->alloc = n;
    return UTIL_OK;
}

/* Appends s (n bytes) at *pos of out (size bytes); false when it does not
 * fit with a NUL. */
static bool put(char *out, size_t size, size_t *pos, const char *s, size_t n)
{
    if (n >= size - *pos)
        return false;
    memcpy(out + *pos, s, n);
    *pos += n;
    return true;
}

/* Writes v in decimal (with a minus sign when neg) ending just before end;
 * returns where it starts. Room for 21 characters is needed. */
static char *decimal(char *end, unsigned long long v, bool neg)
{
    do
        *--end = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    if (neg)
        *--end = '-';
    return end;
}

/* "%d" of v in buf (24 bytes at least), without snprintf. */
static void int_text(char *buf, size_t size, int v)
{
    char tmp[24];
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    const char *s = decimal(tmp + sizeof(tmp), m, v < 0);
    size_t n = (size_t)(tmp + sizeof(tmp) - s);
    if (n >= size)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

/* vsnprintf for the conversions check messages mostly use (%s of a string,
 * %d, %zu, %%), the same text without glibc's general machinery. Returns the
 * length, or -1 when fmt needs another conversion or the text does not fit:
 * the caller then formats with vsnprintf. */
static int format_simple(char *out, size_t size, const char *fmt, va_list ap)
{
    size_t pos = 0;
    char num[32];
    while (*fmt) {
        const char *pct = strchr(fmt, '%');
        size_t lit = pct ? (size_t)(pct - fmt) : strlen(fmt);
        if (!put(out, size, &pos, fmt, lit))
            return -1;
        if (!pct)
            break;
        const char *s = num;
        size_t n;
        if (pct[1] == 's') {
            s = va_arg(ap, const char *);
            if (!s)
                return -1;
            n = strlen(s);
            fmt = pct + 2;
        } else if (pct[1] == 'd' || (pct[1] == 'z' && pct[2] == 'u')) {
            bool neg = false;
            unsigned long long v;
            if (pct[1] == 'd') {
                int d = va_arg(ap, int);
                neg = d < 0;
                v = neg ? 0ull - (unsigned long long)d : (unsigned long long)d;
                fmt = pct + 2;
            } else {
                v = va_arg(ap, size_t);
                fmt = pct + 3;
            }
            s = decimal(num + sizeof(num), v, neg);
            n = (size_t)(num + sizeof(num) - s);
        } else if (pct[1] == '%') {
            s = "%";
            n = 1;
            fmt = pct + 2;
        } else {
            return -1;
        }
        if (!put(out, size, &pos, s, n))
            return -1;
    }
    out[pos] = '\0';
    return (int)pos;
}

int check_list_add(struct check_list *l, const char *name, enum check_outcome outcome,
                   const char *pointer, const char *expected, const char *actual, const char *fmt,
                   ...)
{
    if (reserve(l))
        return UTIL_ERR_NOMEM;
    /* A short message is formatted on the stack and copied once. */
    char small[512];
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    va_list ap;
    va_start(ap, fmt);
    int n = format_simple(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_start(ap, fmt);
        n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
    }
    if (n < 0 || (size_t)n >= sizeof(small)) {
        va_start(ap, fmt);
        util_buf_vprintf(&b, fmt, ap);
        va_end(ap);
    }
    struct check_item it = {
        .name = strdup(name),
        .outcome = outcome,
        .message = n >= 0 && (size_t)n < sizeof(small) ? strdup(small) : util_buf_steal(&b),
        .pointer = pointer ? strdup(pointer) : NULL,
        .expected = expected ? strdup(expected) : NULL,
        .actual = actual ? strdup(actual) : NULL,
    };
    util_buf_finish(&b);
    if (!it.name || !it.message || (pointer && !it.pointer) || (expected && !it.expected) ||
        (actual && !it.actual)) {
        item_finish(&it);
        return UTIL_ERR_NOMEM;
    }
    l->items[l->count++] = it;
    return UTIL_OK;
}

int check_list_move(struct check_list *dst, struct check_list *src)
{
    for (size_t i = 0; i < src->count; i++) {
        if (reserve(dst)) {
            /* Keep what was not moved in src. */
            memmove(src->items, src->items + i, (src->count - i) * sizeof(*src->items));
            src->count -= i;
            return UTIL_ERR_NOMEM;
        }
        dst->items[dst->count++] = src->items[i];
    }
    src->count = 0;
    return UTIL_OK;
}

size_t check_list_count(const struct check_list *l, enum check_outcome o)
{
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++)
        n += l->items[i].outcome == o;
    return n;
}

/* ---- the contract ---- */

struct resp_entry {
    char *status;          /* "200", "default", "4XX" */
    char *content_type;    /* or NULL */
    struct schema *schema; /* owned by the registry; NULL without content */
};

struct op_entry {
    char *id;
    char *method;    /* upper case */
    char *path;      /* template */
    char **segments; /* split path; "{x}" for a parameter */
    size_t nsegments;
    size_t nliteral;
    struct resp_entry *responses;
    size_t nresponses;
};

struct check_contract {
    struct schema_registry *reg;
    cJSON *ops_doc;
    char *schemas_prefix; /* "file:///abs/schemas/", stripped from locations */
    struct op_entry *ops;
    size_t nops;
};

static void op_finish(struct op_entry *o)
{
    free(o->id);
    free(o->method);
    free(o->path);
    for (size_t i = 0; i < o->nsegments; i++)
        free(o->segments[i]);
    free(o->segments);
    for (size_t i = 0; i < o->nresponses; i++) {
        free(o->responses[i].status);
        free(o->responses[i].content_type);
    }
    free(o->responses);
}

struct check_contract *check_contract_create_dir(const char *dir, struct util_error *err)
{
    struct openapi_source *src = NULL;
    struct check_contract *c =
        openapi_source_open_dir(dir, &src, err) ? NULL : check_contract_create(src, err);
    openapi_source_destroy(src);
    return c;
}

void check_contract_destroy(struct check_contract *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nops; i++)
        op_finish(&c->ops[i]);
    free(c->ops);
    free(c->schemas_prefix);
    cJSON_Delete(c->ops_doc);
    schema_registry_destroy(c->reg);
    free(c);
}

struct check_contract_loader {
    const struct openapi_source *source;
    pthread_t thread;
    bool threaded;
    struct check_contract *contract;
    struct util_error err;
};

static void *contract_load(void *arg)
{
    struct check_contract_loader *l = arg;
    util_error_clear(&l->err);
    l->contract = check_contract_create(l->source, &l->err);
    return NULL;
}

struct check_contract_loader *check_contract_load_start(const struct openapi_source *source)
{
    struct check_contract_loader *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->source = source;
    /* Without a thread, finish loads it. */
    l->threaded = pthread_create(&l->thread, NULL, contract_load, l) == 0;
    return l;
}

struct check_contract *check_contract_load_finish(struct check_contract_loader *l,
                                                  struct util_error *err)
{
    if (!l) {
        util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (l->threaded)
        pthread_join(l->thread, NULL);
    else
        contract_load(l);
    struct check_contract *c = l->contract;
    if (!c && err)
        *err = l->err;
    free(l);
    return c;
}

static int split_path(const char *path, struct op_entry *o)
{
    size_t n = 0;
    for (const char *p = path; *p; p++)
        n += *p == '/';
    o->segments = calloc(n ? n : 1, sizeof(char *));
    if (!o->segments)
        return UTIL_ERR_NOMEM;
    const char *p = path;
    while (*p == '/') {
        p++;
        size_t len = strcspn(p, "/");
        char *seg = strndup(p, len);
        if (!seg)
            return UTIL_ERR_NOMEM;
        o->segments[o->nsegments++] = seg;
        if (seg[0] != '{')
            o->nliteral++;
        p += len;
    }
    return UTIL_OK;
}

struct check_contract *check_contract_create(const struct openapi_source *source,
                                             struct util_error *err)
{
    struct check_contract *c = calloc(1, sizeof(*c));
    const char *ops_path = openapi_source_operations_name(source);
    char *ops_uri = NULL;
    struct util_buf uri;
    util_buf_init(&uri, UTIL_CAP_MESSAGE);
    struct schema_options opts = {.default_dialect = SCHEMA_DIALECT_2020_12};
    int rc = UTIL_ERR_NOMEM;
    if (!c || !(c->reg = schema_registry_create(&opts)) ||
        !(c->ops_doc = cJSON_Duplicate(openapi_source_operations(source), true))) {
        util_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    if ((rc = openapi_source_register(source, c->reg, &ops_uri, err)))
        goto cleanup;
    /* "file:///abs/operations.json" -> "file:///abs/" */
    c->schemas_prefix = strdup(ops_uri);
    if (!c->schemas_prefix) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    c->schemas_prefix[strlen(c->schemas_prefix) - strlen("operations.json")] = '\0';
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->ops_doc, "operations");
    size_t n = (size_t)cJSON_GetArraySize(list);
    c->ops = calloc(n ? n : 1, sizeof(*c->ops));
    if (!c->ops) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    size_t index = 0;
    const cJSON *op;
    cJSON_ArrayForEach(op, list)
    {
        struct op_entry *o = &c->ops[c->nops++];
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(op, "operationId");
        const cJSON *method = cJSON_GetObjectItemCaseSensitive(op, "method");
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(op, "path");
        const cJSON *responses = cJSON_GetObjectItemCaseSensitive(op, "responses");
        if (!cJSON_IsString(id) || !cJSON_IsString(method) || !cJSON_IsString(path)) {
            rc = util_error_set(err, UTIL_ERR_INVALID,
                                "%s: operation %zu lacks operationId, method or path", ops_path,
                                index);
            goto cleanup;
        }
        o->id = strdup(id->valuestring);
        o->method = strdup(method->valuestring);
        o->path = strdup(path->valuestring);
        if (!o->id || !o->method || !o->path || split_path(o->path, o)) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        for (char *m = o->method; *m; m++)
            if (*m >= 'a' && *m <= 'z')
                *m = (char)(*m - 'a' + 'A');
        size_t nr = (size_t)cJSON_GetArraySize(responses);
        o->responses = calloc(nr ? nr : 1, sizeof(*o->responses));
        if (!o->responses) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        const cJSON *r;
        cJSON_ArrayForEach(r, responses)
        {
            struct resp_entry *e = &o->responses[o->nresponses++];
            const cJSON *ct = cJSON_GetObjectItemCaseSensitive(r, "contentType");
            e->status = strdup(r->string);
            e->content_type = cJSON_IsString(ct) ? strdup(ct->valuestring) : NULL;
            if (!e->status || (cJSON_IsString(ct) && !e->content_type)) {
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
                goto cleanup;
            }
            const cJSON *schema = cJSON_GetObjectItemCaseSensitive(r, "schema");
            if (!schema || cJSON_IsNull(schema))
                continue;
            util_buf_reset(&uri);
            util_buf_printf(&uri, "%s#/operations/%zu/responses/", ops_uri, index);
            /* The status is a pointer token ("200"): no escaping needed, but
             * be exact anyway. */
            struct util_buf tok;
            util_buf_init(&tok, 256);
            json_pointer_append(&tok, r->string);
            util_buf_printf(&uri, "%s/schema", tok.data ? tok.data + 1 : "");
            util_buf_finish(&tok);
            rc = schema_registry_lookup(c->reg, uri.data, &e->schema, err);
            if (rc)
                goto cleanup;
        }
        index++;
    }
    rc = UTIL_OK;
cleanup:
    util_buf_finish(&uri);
    free(ops_uri);
    if (rc) {
        check_contract_destroy(c);
        return NULL;
    }
    return c;
}

static const struct op_entry *find_op(const struct check_contract *c, const char *id)
{
    for (size_t i = 0; i < c->nops; i++)
        if (strcmp(c->ops[i].id, id) == 0)
            return &c->ops[i];
    return NULL;
}

const char *check_contract_spec_sha256(const struct check_contract *c)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(c->ops_doc, "spec");
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(spec, "sha256");
    return cJSON_IsString(sha) && strlen(sha->valuestring) == 64 ? sha->valuestring : NULL;
}

const char *check_contract_path(const struct check_contract *c, const char *operation_id)
{
    const struct op_entry *o = find_op(c, operation_id);
    return o ? o->path : NULL;
}

static bool path_matches(const struct op_entry *o, const char *path)
{
    const char *p = path;
    for (size_t i = 0; i < o->nsegments; i++) {
        if (*p != '/')
            return false;
        p++;
        size_t len = strcspn(p, "/");
        const char *seg = o->segments[i];
        if (seg[0] == '{') {
            if (len == 0)
                return false;
        } else if (strlen(seg) != len || strncmp(seg, p, len) != 0) {
            return false;
        }
        p += len;
    }
    return *p == '\0' || (p[0] == '/' && p[1] == '\0');
}

static const struct op_entry *match_op(const struct check_contract *c, const char *method,
                                       const char *path)
{
    const struct op_entry *best = NULL;
    size_t plen = strcspn(path, "?#");
    char *p = strndup(path, plen);
    if (!p)
        return NULL;
    for (size_t i = 0; i < c->nops; i++) {
        const struct op_entry *o = &c->ops[i];
        if (strcasecmp(o->method, method) != 0 || !path_matches(o, p))
            continue;
        if (!best || o->nliteral > best->nliteral)
            best = o;
    }
    free(p);
    return best;
}

const char *check_contract_match(const struct check_contract *c, const char *method,
                                 const char *path)
{
    const struct op_entry *o = match_op(c, method, path);
    return o ? o->id : NULL;
}

static const struct resp_entry *find_response(const struct op_entry *o, int status)
{
    char code[24];
    int_text(code, sizeof(code), status);
    for (size_t i = 0; i < o->nresponses; i++)
        if (strcmp(o->responses[i].status, code) == 0)
            return &o->responses[i];
    for (size_t i = 0; i < o->nresponses; i++) {
        const char *s = o->responses[i].status;
        if (strlen(s) == 3 && s[0] == code[0] && (s[1] == 'X' || s[1] == 'x') &&
            (s[2] == 'X' || s[2] == 'x'))
            return &o->responses[i];
    }
    for (size_t i = 0; i < o->nresponses; i++)
        if (strcmp(o->responses[i].status, "default") == 0)
            return &o->responses[i];
    return NULL;
}

/* Media type without parameters, lower case, in out. */
static void media_type(const char *ct, char *out, size_t size)
{
    size_t n = 0;
    while (ct && *ct == ' ')
        ct++;
    for (; ct && *ct && *ct != ';' && *ct != ' ' && n + 1 < size; ct++)
        out[n++] = (char)((*ct >= 'A' && *ct <= 'Z') ? *ct - 'A' + 'a' : *ct);
    out[n] = '\0';
}

static bool is_json_media(const char *mt)
{
    size_t n = strlen(mt);
    return strcmp(mt, "application/json") == 0 || (n > 5 && strcmp(mt + n - 5, "+json") == 0);
}

static void documented_list(const struct op_entry *o, struct util_buf *b)
{
    for (size_t i = 0; i < o->nresponses; i++) {
        if (i)
            util_buf_puts(b, ", ");
        util_buf_puts(b, o->responses[i].status);
    }
}

/* Whether the message of a violation of keyword_location never quotes
 * the instance (types, counts, names, branches), so that it may be shown
 * when the instance holds a secret. */
static bool message_free_of_values(const char *keyword_location)
{
    static const char *const kws[] = {"type",
                                      "required",
                                      "additionalProperties",
                                      "unevaluatedProperties",
                                      "unevaluatedItems",
                                      "minLength",
                                      "maxLength",
                                      "minItems",
                                      "maxItems",
                                      "minProperties",
                                      "maxProperties",
                                      "uniqueItems",
                                      "contains",
                                      "minContains",
                                      "maxContains",
                                      "anyOf",
                                      "oneOf",
                                      "allOf",
                                      "not",
                                      "items",
                                      "prefixItems",
                                      "additionalItems",
                                      "propertyNames"};
    /* Keywords reported with a key (".../properties/NAME") name it last. */
    static const char *const keyed[] = {"properties", "patternProperties", "dependentRequired",
                                        "dependencies"};
    const char *last = strrchr(keyword_location, '/');
    if (!last)
        return false;
    for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
        if (strcmp(last + 1, kws[i]) == 0)
            return true;
    for (size_t i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++) {
        size_t n = strlen(keyed[i]);
        const char *k = last - n;
        if (k > keyword_location && k[-1] == '/' && strncmp(k, keyed[i], n) == 0)
            return true;
    }
    return false;
}

/* Location of a keyword relative to the schemas directory. */
static const char *relative_location(const struct check_contract *c, const char *abs)
{
    size_t n = strlen(c->schemas_prefix);
    return strncmp(abs, c->schemas_prefix, n) == 0 ? abs + n : abs;
}

static int validate_body(const struct check_contract *c, const struct op_entry *o,
                         const struct resp_entry *r, const cJSON *doc,
                         const struct check_secrets *secrets, struct check_list *out,
                         struct util_error *err)
{
    struct schema_result res;
    struct util_buf actual;
    schema_result_init(&res);
    util_buf_init(&actual, CHECK_CAP_QUOTE + 16);
    int rc = schema_validate(r->schema, doc, &res, err);
    if (rc)
        goto cleanup;
    if (res.valid) {
        rc =
            check_list_add(out, "contract.schema", CHECK_PASS, NULL, NULL, NULL,
                           "body validates against the %s response schema of %s", r->status, o->id);
        goto cleanup;
    }
    size_t shown = res.count < CHECK_CAP_VIOLATIONS ? res.count : CHECK_CAP_VIOLATIONS;
    for (size_t i = 0; i < shown && !rc; i++) {
        const struct schema_violation *v = &res.items[i];
        const cJSON *at = json_pointer_get(doc, v->instance_location, false);
        bool secret = check_secret_pointer(secrets, doc, v->instance_location);
        if ((rc = check_quote(&actual, at, secret, secrets)))
            break;
        if ((secret || check_secrets_in(secrets, at)) &&
            !message_free_of_values(v->keyword_location)) {
            const char *kw = strrchr(v->keyword_location, '/');
            rc = check_list_add(out, "contract.schema", CHECK_FAIL, v->instance_location,
                                relative_location(c, v->absolute_location), actual.data,
                                "%s response of %s: %s: the value fails \"%s\" (not shown: it "
                                "holds a secret)",
                                r->status, o->id,
                                v->instance_location[0] ? v->instance_location : "/",
                                kw ? kw + 1 : v->keyword_location);
            continue;
        }
        rc = check_list_add(out, "contract.schema", CHECK_FAIL, v->instance_location,
                            relative_location(c, v->absolute_location), actual.data,
                            "%s response of %s: %s", r->status, o->id, v->message);
    }
    if (!rc && (res.count > shown || res.truncated))
        rc = check_list_add(out, "contract.schema", CHECK_FAIL, NULL, NULL, NULL,
                            "%s response of %s: %zu%s more violations not listed", r->status, o->id,
                            res.count - shown, res.truncated ? "+" : "");
cleanup:
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
    util_buf_finish(&actual);
    schema_result_finish(&res);
    return rc;
}

int check_contract_response(const struct check_contract *c, const char *operation_id,
                            const char *method, const char *path, const struct check_response *resp,
                            const int *allowed, size_t nallowed, struct check_list *out,
                            cJSON **parsed, const char **operation, struct util_error *err)
{
    cJSON *doc = NULL;
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    int rc = UTIL_OK;
    char status_text[24];
    int_text(status_text, sizeof(status_text), resp->status);
    if (parsed)
        *parsed = NULL;
    if (operation)
        *operation = NULL;

    /* The body, parsed whenever it is JSON (captures need it). */
    struct util_error perr;
    util_error_clear(&perr);
    bool has_body = resp->body && resp->body_len > 0;
    if (has_body && json_parse(resp->body, resp->body_len, "body", &doc, &perr) == UTIL_ERR_NOMEM)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");

    const struct op_entry *o = operation_id ? find_op(c, operation_id) : match_op(c, method, path);
    if (!o) {
        rc = check_list_add(out, "contract.operation", CHECK_FAIL, NULL, NULL, NULL,
                            operation_id ? "no operation '%s' in the spec"
                                         : "no operation of the spec answers %s %s",
                            operation_id ? operation_id : method, path);
        goto cleanup;
    }
    if (operation)
        *operation = o->id;
    rc = check_list_add(out, "contract.operation", CHECK_PASS, NULL, NULL, NULL, "%s %s (%s)",
                        o->method, o->path, o->id);
    if (rc)
        goto cleanup;

    const struct resp_entry *r = find_response(o, resp->status);
    documented_list(o, &b);
    if (!r) {
        bool ok = false;
        for (size_t i = 0; i < nallowed; i++)
            ok = ok || allowed[i] == resp->status;
        rc = check_list_add(out, "contract.status", ok ? CHECK_GAP : CHECK_FAIL, NULL, b.data,
                            status_text,
                            ok ? "status %d is not documented for %s (documented: %s); the case "
                                 "allows it: a gap in the spec"
                               : "status %d is not documented for %s (documented: %s)",
                            resp->status, o->id, b.data);
        if (rc || !has_body)
            goto cleanup;
    } else {
        rc = check_list_add(out, "contract.status", CHECK_PASS, NULL, b.data, status_text,
                            "status %d is documented for %s", resp->status, o->id);
        if (rc)
            goto cleanup;
    }

    /* Content type: the documented one, JSON for an undocumented status. */
    const char *want = r ? r->content_type : "application/json";
    if (!want) {
        if (has_body)
            rc = check_list_add(out, "contract.content-type", CHECK_FAIL, NULL, "no content",
                                resp->content_type ? resp->content_type : "(none)",
                                "the %s response of %s documents no content, got a %zu-byte "
                                "body",
                                r->status, o->id, resp->body_len);
        goto cleanup;
    }
    char got[128], exp[128];
    media_type(resp->content_type, got, sizeof(got));
    media_type(want, exp, sizeof(exp));
    bool ct_ok = strcmp(got, exp) == 0 || (is_json_media(exp) && is_json_media(got));
    rc = check_list_add(out, "contract.content-type", ct_ok ? CHECK_PASS : CHECK_FAIL, NULL, want,
                        resp->content_type ? resp->content_type : "(none)",
                        ct_ok ? "Content-Type is %s" : "Content-Type is %s, expected %s",
                        resp->content_type ? resp->content_type : "absent", want);
    if (rc || !is_json_media(exp))
        goto cleanup;

    /* Well-formed JSON. */
    if (!doc) {
        bool limit = perr.code == UTIL_ERR_LIMIT;
        rc = check_list_add(out, "contract.json", CHECK_FAIL, NULL, "a JSON document",
                            !has_body ? "an empty body"
                            : limit   ? "JSON beyond ingestcheck's limits"
                                      : "malformed JSON",
                            !has_body ? "body is empty, expected JSON%s"
                            : limit   ? "body cannot be checked: %s"
                                      : "body is not JSON: %s",
                            has_body ? perr.message : "");
        goto cleanup;
    }
    rc = check_list_add(out, "contract.json", CHECK_PASS, NULL, NULL, NULL, "body is JSON");
    if (rc || !r || !r->schema)
        goto cleanup;
    rc = validate_body(c, o, r, doc, resp->secrets, out, err);
cleanup:
    util_buf_finish(&b);
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
    if (!rc && parsed) {
        *parsed = doc;
        doc = NULL;
    }
    cJSON_Delete(doc);
    return rc;
}
