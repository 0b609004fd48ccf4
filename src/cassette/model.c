/* The cassette model: an arena of strings, the interactions, the index by
 * method + normalised path, metadata. */
#include "cassette/caps.h"
#include "cassette/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- arena ---- */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used;
    size_t size;
    _Alignas(8) char data[];
};

#define ARENA_CHUNK (1024u * 1024u)

void arena_init(struct arena *a)
{
    a->head = NULL;
}

void arena_finish(struct arena *a)
{
    struct arena_chunk *k = a->head;
    while (k) {
        struct arena_chunk *next = k->next;
        free(k);
        k = next;
    }
    a->head = NULL;
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + 7u) & ~(size_t)7u;
    if (need < n)
        return NULL;
    struct arena_chunk *k = a->head;
    if (!k || k->size - k->used < need) {
        if (need > ARENA_CHUNK / 4) {
            /* A large block gets its own chunk, linked behind the head so
             * the head's free space is not wasted. */
            struct arena_chunk *big = malloc(sizeof(*big) + need);
            if (!big)
                return NULL;
            big->size = need;
            big->used = need;
            if (k) {
                big->next = k->next;
                k->next = big;
            } else {
                big->next = NULL;
                a->head = big;
            }
            return big->data;
        }
        k = malloc(sizeof(*k) + ARENA_CHUNK);
        if (!k)
            return NULL;
        k->size = ARENA_CHUNK;
        k->used = 0;
        k->next = a->head;
        a->head = k;
    }
    void *p = k->data + k->used;
    k->used += need;
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- hashing ---- */

static uint64_t key_hash(const char *method, const char *path)
{
    uint64_t h = util_fnv1a(HASH_SEED, method, strlen(method) + 1);
    h = util_fnv1a(h, path, strlen(path));
    return h ^ (h >> 29);
}

/* ---- cassette ---- */

struct cassette *cassette_create(void)
{
    struct cassette *c = calloc(1, sizeof(*c));
    if (c)
        arena_init(&c->arena);
    return c;
}

void cassette_destroy(struct cassette *c)
{
    if (!c)
        return;
    arena_finish(&c->arena);
    free(c->items);
    free(c->slots);
    free(c->source);
    free(c->recorded_at);
    free(c->version);
    free(c->spec_sha256);
    for (size_t i = 0; i < c->nplaceholders; i++)
        free(c->placeholders[i]);
    free(c->placeholders);
    free(c->values);
    free(c);
}

size_t cassette_count(const struct cassette *c)
{
    return c ? c->count : 0;
}

const struct cassette_interaction *cassette_at(const struct cassette *c, size_t i)
{
    return c && i < c->count ? &c->items[i].pub : NULL;
}

const char *cassette_source(const struct cassette *c)
{
    return c->source;
}

const char *cassette_recorded_at(const struct cassette *c)
{
    return c->recorded_at;
}

const char *cassette_ingestcheck_version(const struct cassette *c)
{
    return c->version;
}

const char *cassette_spec_sha256(const struct cassette *c)
{
    return c->spec_sha256;
}

static int set_str(char **slot, const char *v)
{
    char *s = NULL;
    if (v && !(s = strdup(v)))
        return UTIL_ERR_NOMEM;
    free(*slot);
    *slot = s;
    return UTIL_OK;
}

int cassette_set_recorded_at(struct cassette *c, const char *iso8601)
{
    return set_str(&c->recorded_at, iso8601);
}

int cassette_set_ingestcheck_version(struct cassette *c, const char *version)
{
    return set_str(&c->version, version);
}

int cassette_set_spec_sha256(struct cassette *c, const char *hex)
{
    return set_str(&c->spec_sha256, hex);
}

bool cassette_placeholder_field(const struct cassette *c, size_t i, char *name, size_t cap)
{
    static const char prefix[] = "<REDACTED:";
    const char *ph = cassette_placeholder_at(c, i);
    size_t len = ph ? strlen(ph) : 0, plen = sizeof(prefix) - 1;
    if (len <= plen + 1 || strncmp(ph, prefix, plen) != 0 || ph[len - 1] != '>' ||
        len - plen - 1 >= cap)
        return false;
    memcpy(name, ph + plen, len - plen - 1);
    name[len - plen - 1] = '\0';
    return true;
}

size_t cassette_placeholder_count(const struct cassette *c)
{
    return c->nplaceholders;
}

const char *cassette_placeholder_at(const struct cassette *c, size_t i)
{
    return i < c->nplaceholders ? c->placeholders[i] : NULL;
}

int cassette_note_placeholder(struct cassette *c, const char *ph)
{
    size_t lo = 0, hi = c->nplaceholders;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->placeholders[mid], ph);
        if (cmp == 0)
            return UTIL_OK;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (c->nplaceholders >= CASSETTE_CAP_VALUES)
        return UTIL_ERR_LIMIT;
    if (c->nplaceholders == c->aplaceholders) {
        size_t n = c->aplaceholders ? c->aplaceholders * 2 : 8;
        char **p = realloc(c->placeholders, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        c->placeholders = p;
        c->aplaceholders = n;
    }
    char *s = strdup(ph);
    if (!s)
        return UTIL_ERR_NOMEM;
    memmove(c->placeholders + lo + 1, c->placeholders + lo,
            (c->nplaceholders - lo) * sizeof(*c->placeholders));
    c->placeholders[lo] = s;
    c->nplaceholders++;
    return UTIL_OK;
}

int cassette_value_append(struct cassette *c, const char *name, const char *value,
                          struct util_error *err)
{
    if (!name || !value)
        return util_error_set(err, UTIL_ERR_USAGE, "cassette value without a name or value");
    if (c->nvalues >= CASSETTE_CAP_VALUES)
        return util_error_set(err, UTIL_ERR_LIMIT, "more than %u recorded values",
                              CASSETTE_CAP_VALUES);
    if (c->nvalues == c->avalues) {
        size_t n = c->avalues ? c->avalues * 2 : 16;
        struct cassette_value *p = realloc(c->values, n * sizeof(*p));
        if (!p)
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        c->values = p;
        c->avalues = n;
    }
    const char *n = arena_strndup(&c->arena, name, strlen(name));
    const char *v = arena_strndup(&c->arena, value, strlen(value));
    if (!n || !v)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    c->values[c->nvalues].name = n;
    c->values[c->nvalues].value = v;
    c->nvalues++;
    return UTIL_OK;
}

size_t cassette_value_count(const struct cassette *c)
{
    return c->nvalues;
}

const struct cassette_value *cassette_value_at(const struct cassette *c, size_t i)
{
    return i < c->nvalues ? &c->values[i] : NULL;
}

const char *cassette_value_next(const struct cassette *c, const char *name, size_t *cursor)
{
    for (size_t i = *cursor; i < c->nvalues; i++) {
        if (strcmp(c->values[i].name, name) == 0) {
            *cursor = i + 1;
            return c->values[i].value;
        }
    }
    *cursor = c->nvalues;
    return NULL;
}

/* The index of the last duration value of case_name, or SIZE_MAX. */
static size_t duration_index(const struct cassette *c, const char *case_name)
{
    size_t plen = strlen(CASSETTE_DURATION_PREFIX);
    for (size_t i = c->nvalues; i-- > 0;) {
        const char *n = c->values[i].name;
        if (strncmp(n, CASSETTE_DURATION_PREFIX, plen) == 0 && strcmp(n + plen, case_name) == 0)
            return i;
    }
    return SIZE_MAX;
}

int cassette_set_case_duration_ms(struct cassette *c, const char *case_name, double ms,
                                  struct util_error *err)
{
    char v[32];
    size_t i = duration_index(c, case_name);
    if (!(ms >= 0 && ms < 1e15))
        return util_error_set(err, UTIL_ERR_USAGE, "case '%s': duration %g ms out of range",
                              case_name, ms);
    snprintf(v, sizeof(v), "%.0f", ms);
    if (i == SIZE_MAX) {
        size_t n = strlen(CASSETTE_DURATION_PREFIX) + strlen(case_name) + 1;
        char *name = malloc(n);
        if (!name)
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        snprintf(name, n, "%s%s", CASSETTE_DURATION_PREFIX, case_name);
        int rc = cassette_value_append(c, name, v, err);
        free(name);
        return rc;
    }
    const char *copy = arena_strndup(&c->arena, v, strlen(v));
    if (!copy)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    c->values[i].value = copy;
    return UTIL_OK;
}

double cassette_case_duration_ms(const struct cassette *c, const char *case_name)
{
    size_t i = duration_index(c, case_name);
    if (i == SIZE_MAX)
        return -1;
    const char *v = c->values[i].value;
    char *end = NULL;
    errno = 0;
    unsigned long long ms = *v >= '0' && *v <= '9' ? strtoull(v, &end, 10) : 0;
    return end && !*end && !errno ? (double)ms : -1;
}

/* ---- index ---- */

static struct index_slot *find_slot(struct index_slot *slots, size_t nslots, uint64_t h,
                                    const struct entry *items, const char *method, const char *path)
{
    size_t mask = nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct index_slot *s = &slots[i];
        if (s->head == NO_ENTRY)
            return s;
        if (s->hash == h && strcmp(items[s->head].pub.method, method) == 0 &&
            strcmp(items[s->head].keypath, path) == 0)
            return s;
    }
}

static int index_grow(struct cassette *c)
{
    size_t n = c->nslots ? c->nslots * 2 : 64;
    struct index_slot *slots = malloc(n * sizeof(*slots));
    if (!slots)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        slots[i].head = NO_ENTRY;
    for (size_t i = 0; i < c->nslots; i++) {
        const struct index_slot *o = &c->slots[i];
        if (o->head == NO_ENTRY)
            continue;
        /* Keys are distinct: the first free slot of the probe is the one. */
        size_t mask = n - 1;
        size_t j = (size_t)o->hash & mask;
        while (slots[j].head != NO_ENTRY)
            j = (j + 1) & mask;
        slots[j] = *o;
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = n;
    return UTIL_OK;
}

uint32_t cassette_index_lookup(const struct cassette *c, const char *method, const char *path)
{
    if (c->nslots == 0)
        return NO_ENTRY;
    uint64_t h = key_hash(method, path);
    const struct index_slot *s = find_slot(c->slots, c->nslots, h, c->items, method, path);
    return s->head;
}

int cassette_push_entry(struct cassette *c, const struct cassette_interaction *in,
                        struct util_error *err)
{
    struct util_buf path;
    util_buf_init(&path, CASSETTE_CAP_SCALAR);
    int rc = UTIL_OK;
    if (c->count >= CASSETTE_CAP_INTERACTIONS) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "more than %u interactions in one cassette",
                            CASSETTE_CAP_INTERACTIONS);
        goto cleanup;
    }
    if (c->count == c->alloc) {
        size_t n = c->alloc ? c->alloc + c->alloc / 2 : 64;
        struct entry *p = realloc(c->items, n * sizeof(*p));
        if (!p) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        c->items = p;
        c->alloc = n;
    }
    if ((c->nkeys + 1) * 2 > c->nslots && (rc = index_grow(c))) {
        rc = util_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    if ((rc = uri_normalised_path(in->uri, &path))) {
        rc = util_error_set(err, rc, "URI too long or out of memory");
        goto cleanup;
    }
    struct entry *e = &c->items[c->count];
    e->pub = *in;
    e->keypath = arena_strndup(&c->arena, path.data ? path.data : "/", path.data ? path.len : 1);
    if (!e->keypath) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    e->keyhash = key_hash(in->method, e->keypath);
    e->next = NO_ENTRY;
    struct index_slot *s =
        find_slot(c->slots, c->nslots, e->keyhash, c->items, in->method, e->keypath);
    uint32_t me = (uint32_t)c->count;
    if (s->head == NO_ENTRY) {
        s->hash = e->keyhash;
        s->head = me;
        s->tail = me;
        c->nkeys++;
    } else {
        c->items[s->tail].next = me;
        s->tail = me;
    }
    c->count++;
cleanup:
    util_buf_finish(&path);
    return rc;
}

void cassette_clear(struct cassette *c)
{
    /* Strings stay in the arena until destroy; the index is rebuilt. */
    c->count = 0;
    c->nkeys = 0;
    for (size_t i = 0; i < c->nslots; i++)
        c->slots[i].head = NO_ENTRY;
}

/* ---- appending a recorded exchange ---- */

static int copy_headers(struct cassette *c, const struct http_headers *h,
                        const struct cassette_header **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (h->count == 0)
        return UTIL_OK;
    if (h->count > CASSETTE_CAP_HEADERS)
        return UTIL_ERR_LIMIT;
    struct cassette_header *v = arena_alloc(&c->arena, h->count * sizeof(*v));
    if (!v)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < h->count; i++) {
        v[i].name = arena_strndup(&c->arena, h->items[i].name, strlen(h->items[i].name));
        v[i].value = arena_strndup(&c->arena, h->items[i].value, strlen(h->items[i].value));
        if (!v[i].name || !v[i].value)
            return UTIL_ERR_NOMEM;
    }
    *out = v;
    *count = h->count;
    return UTIL_OK;
}

int cassette_append(struct cassette *c, const struct http_request *req,
                    const struct http_response *resp, const char *case_name, const char *step,
                    const struct cassette_redactor *r, struct util_error *err)
{
    struct http_request rq;
    struct http_response rs;
    http_request_init(&rq);
    http_response_init(&rs);
    int rc = UTIL_OK;
    if (!req->method || !req->url || resp->failure != HTTP_ERR_NONE) {
        rc = util_error_set(err, UTIL_ERR_USAGE, "cannot record a request that got no answer");
        goto cleanup;
    }
    if (resp->status < 100 || resp->status > 599) {
        rc = util_error_set(err, UTIL_ERR_INVALID,
                            "cannot record %s %s: the server answered status %d, outside "
                            "100-599",
                            req->method, req->url, resp->status);
        goto cleanup;
    }
    if (req->body_len > CASSETTE_CAP_BODY || resp->body_len > CASSETTE_CAP_BODY) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "body larger than the cap of %u bytes",
                            CASSETTE_CAP_BODY);
        goto cleanup;
    }
    if ((rc = redact_exchange(r, req, resp, &rq, &rs, c))) {
        rc = util_error_set(err, rc, "redacting %s %s: %s", req->method, req->url,
                            util_status_name(rc));
        goto cleanup;
    }
    struct cassette_interaction in;
    memset(&in, 0, sizeof(in));
    in.method = arena_strndup(&c->arena, rq.method, strlen(rq.method));
    in.uri = arena_strndup(&c->arena, rq.url, strlen(rq.url));
    if (rq.body) {
        in.request_body = arena_strndup(&c->arena, rq.body, rq.body_len);
        in.request_body_len = rq.body_len;
    }
    in.status = rs.status;
    in.status_message = cassette_reason_phrase(rs.status);
    in.response_body = arena_strndup(&c->arena, rs.body ? rs.body : "", rs.body ? rs.body_len : 0);
    in.response_body_len = rs.body ? rs.body_len : 0;
    in.case_name = case_name ? arena_strndup(&c->arena, case_name, strlen(case_name)) : NULL;
    in.step = step ? arena_strndup(&c->arena, step, strlen(step)) : NULL;
    if (!in.method || !in.uri || (rq.body && !in.request_body) || !in.response_body ||
        (case_name && !in.case_name) || (step && !in.step)) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = copy_headers(c, &rq.headers, &in.request_headers, &in.request_header_count)) ||
        (rc = copy_headers(c, &rs.headers, &in.response_headers, &in.response_header_count))) {
        rc = util_error_set(err, rc, "copying headers: %s", util_status_name(rc));
        goto cleanup;
    }
    rc = cassette_push_entry(c, &in, err);
cleanup:
    http_request_finish(&rq);
    http_response_finish(&rs);
    return rc;
}

int cassette_interaction_request(const struct cassette *c, size_t i, struct http_request *out,
                                 struct util_error *err)
{
    const struct cassette_interaction *in = cassette_at(c, i);
    if (!in)
        return util_error_set(err, UTIL_ERR_USAGE, "no interaction %zu", i);
    http_request_finish(out);
    http_request_init(out);
    int rc = http_request_set(out, in->method, in->uri);
    for (size_t k = 0; rc == UTIL_OK && k < in->request_header_count; k++)
        rc = http_headers_add(&out->headers, in->request_headers[k].name,
                              in->request_headers[k].value);
    if (rc == UTIL_OK && in->request_body)
        rc = http_request_set_body(out, in->request_body, in->request_body_len);
    if (rc)
        return util_error_set(err, rc, "copying interaction %zu: %s", i, util_status_name(rc));
    return UTIL_OK;
}

int cassette_interaction_response(const struct cassette *c, size_t i, struct http_response *out,
                                  struct util_error *err)
{
    const struct cassette_interaction *in = cassette_at(c, i);
    if (!in)
        return util_error_set(err, UTIL_ERR_USAGE, "no interaction %zu", i);
    http_response_finish(out);
    http_response_init(out);
    int rc = UTIL_OK;
    out->status = in->status;
    out->failure = HTTP_ERR_NONE;
    for (size_t k = 0; rc == UTIL_OK && k < in->response_header_count; k++)
        rc = http_headers_add(&out->headers, in->response_headers[k].name,
                              in->response_headers[k].value);
    if (rc == UTIL_OK) {
        out->body = malloc(in->response_body_len + 1);
        if (!out->body) {
            rc = UTIL_ERR_NOMEM;
        } else {
            memcpy(out->body, in->response_body, in->response_body_len);
            out->body[in->response_body_len] = '\0';
            out->body_len = in->response_body_len;
        }
    }
    if (rc)
        return util_error_set(err, rc, "copying interaction %zu: %s", i, util_status_name(rc));
    return UTIL_OK;
}

/* ---- small helpers ---- */

void cassette_now_iso8601(char *buf, size_t size)
{
    time_t t = time(NULL);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end = NULL;
        long long v = strtoll(sde, &end, 10);
        if (end && *end == '\0' && v >= 0)
            t = (time_t)v;
    }
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        if (size)
            buf[0] = '\0';
    }
}

const char *cassette_reason_phrase(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 203:
        return "Non-Authoritative Information";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "";
    }
}

const char *cassette_record_mode_name(enum cassette_record_mode m)
{
    switch (m) {
    case CASSETTE_RECORD_ONCE:
        return "once";
    case CASSETTE_RECORD_NEW_EPISODES:
        return "new_episodes";
    case CASSETTE_RECORD_NONE:
        return "none";
    case CASSETTE_RECORD_ALL:
        return "all";
    }
    return "?";
}

int cassette_record_mode_parse(const char *s)
{
    static const char *const names[] = {"once", "new_episodes", "none", "all"};
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *cassette_field_name(enum cassette_field f)
{
    switch (f) {
    case CASSETTE_FIELD_NONE:
        return "none";
    case CASSETTE_FIELD_METHOD:
        return "method";
    case CASSETTE_FIELD_PATH:
        return "path";
    case CASSETTE_FIELD_QUERY:
        return "query";
    case CASSETTE_FIELD_BODY:
        return "body";
    case CASSETTE_FIELD_EXHAUSTED:
        return "exhausted";
    case CASSETTE_FIELD_EMPTY:
        return "empty";
    }
    return "?";
}
