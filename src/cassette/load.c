/* Cassette loading: one pass over libyaml's event stream, straight into
 * the cassette's arena (no intermediate tree), so time and memory are
 * linear in the file. */
#include "cassette/caps.h"
#include "cassette/internal.h"
#include "util/base64.h"
#include "util/file.h"
#include "util/text.h"

#include <yaml.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct loader {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;
    const char *name;
    struct cassette *c;
    struct util_error *err;
    struct cassette_header *hdrs; /* scratch for one header mapping */
    size_t nhdrs;
    size_t ahdrs;
    struct util_buf tmp;
    bool saw_version;
    const char *text; /* the input: text and len, or file */
    size_t len;
    FILE *file;
};

static int fail_at(struct loader *ld, int code, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct loader *ld, int code, yaml_mark_t mark, const char *fmt, ...)
{
    char msg[UTIL_ERROR_MESSAGE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line = (int)mark.line + 1;
    int col = (int)mark.column + 1;
    util_error_set(ld->err, code, "%s:%d:%d: %s", ld->name, line, col, msg);
    util_error_at(ld->err, ld->name, line, col);
    return code;
}

static int nomem(struct loader *ld)
{
    util_error_set(ld->err, UTIL_ERR_NOMEM, "%s: out of memory", ld->name);
    util_error_at(ld->err, ld->name, 0, 0);
    return UTIL_ERR_NOMEM;
}

static const char *event_kind(const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return "a scalar";
    case YAML_SEQUENCE_START_EVENT:
        return "a sequence";
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_ALIAS_EVENT:
        return "an alias";
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return "the end of a collection";
    case YAML_DOCUMENT_START_EVENT:
        return "a new document";
    case YAML_DOCUMENT_END_EVENT:
    case YAML_STREAM_END_EVENT:
        return "the end of the file";
    default:
        return "something else";
    }
}

/* libyaml's reader error (bad encoding) at a byte offset, as file:line:
 * column: the bytes before it are counted again, from the text or the
 * file. */
static int reader_error(struct loader *ld)
{
    const yaml_parser_t *p = &ld->parser;
    size_t off = p->problem_offset;
    struct util_text_pos pos;
    int byte = -1;
    util_text_pos_init(&pos);
    if (ld->text) {
        if (off > ld->len)
            off = ld->len;
        util_text_pos_advance(&pos, ld->text, off);
        if (off < ld->len)
            byte = (unsigned char)ld->text[off];
    } else if (ld->file && fseek(ld->file, 0, SEEK_SET) == 0) {
        char chunk[8192];
        while (pos.offset < off) {
            size_t want = off - pos.offset < sizeof(chunk) ? off - pos.offset : sizeof(chunk);
            size_t got = fread(chunk, 1, want, ld->file);
            util_text_pos_advance(&pos, chunk, got);
            if (got < want)
                break;
        }
        byte = pos.offset == off ? fgetc(ld->file) : EOF;
        if (byte == EOF)
            byte = -1;
    }
    return util_text_reader_error(ld->err, ld->name, &pos, p->problem, byte,
                                  (long)p->problem_value);
}

/* Fetches the next event into ld->ev. */
static int next(struct loader *ld)
{
    if (ld->have_ev) {
        yaml_event_delete(&ld->ev);
        ld->have_ev = false;
    }
    if (!yaml_parser_parse(&ld->parser, &ld->ev)) {
        const yaml_parser_t *p = &ld->parser;
        if (p->error == YAML_MEMORY_ERROR)
            return nomem(ld);
        if (p->error == YAML_READER_ERROR)
            return reader_error(ld);
        if (p->context)
            return fail_at(ld, UTIL_ERR_PARSE, p->problem_mark, "%s (%s at line %d, column %d)",
                           p->problem ? p->problem : "syntax error", p->context,
                           (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
        return fail_at(ld, UTIL_ERR_PARSE, p->problem_mark, "%s",
                       p->problem ? p->problem : "syntax error");
    }
    ld->have_ev = true;
    if (ld->ev.type == YAML_ALIAS_EVENT)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "aliases (*%s) are not supported in cassettes",
                       (const char *)ld->ev.data.alias.anchor);
    return UTIL_OK;
}

static int expect(struct loader *ld, yaml_event_type_t type, const char *what)
{
    if (ld->ev.type == type)
        return UTIL_OK;
    return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark, "expected %s, found %s", what,
                   event_kind(&ld->ev));
}

/* Skips the value starting at the current event (any shape). */
static int skip_value(struct loader *ld)
{
    int depth = 0;
    for (;;) {
        switch (ld->ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > CASSETTE_CAP_SKIP_DEPTH)
                return fail_at(ld, UTIL_ERR_LIMIT, ld->ev.start_mark,
                               "nesting deeper than %d levels", CASSETTE_CAP_SKIP_DEPTH);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        if (depth == 0)
            return UTIL_OK;
        int rc = next(ld);
        if (rc)
            return rc;
    }
}

/* Reads the next mapping key: *key is NULL at the end of the mapping.
 * Borrowed from the current event. */
static int next_key(struct loader *ld, const char **key)
{
    int rc = next(ld);
    if (rc)
        return rc;
    *key = NULL;
    if (ld->ev.type == YAML_MAPPING_END_EVENT)
        return UTIL_OK;
    if (ld->ev.type != YAML_SCALAR_EVENT)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "expected a scalar mapping key, found %s", event_kind(&ld->ev));
    *key = (const char *)ld->ev.data.scalar.value;
    if (memchr(*key, '\0', ld->ev.data.scalar.length))
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark, "NUL in a mapping key");
    return UTIL_OK;
}

static int duplicate(struct loader *ld, unsigned *seen, unsigned bit, const char *key)
{
    if (*seen & bit)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "duplicate key \"%s\"; expected unique keys", key);
    *seen |= bit;
    return UTIL_OK;
}

static bool plain_null(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
        return ev->data.scalar.tag && strcmp((const char *)ev->data.scalar.tag, YAML_NULL_TAG) == 0;
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    return n == 0 || (n == 1 && v[0] == '~') ||
           (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

enum scalar_kind { TEXT, BODY };

/* Reads the current event as a string into the arena. With kind BODY a
 * null gives *out = NULL and a !!binary scalar is base64-decoded. */
static int read_string(struct loader *ld, const char *what, enum scalar_kind kind, const char **out,
                       size_t *len)
{
    *out = NULL;
    if (len)
        *len = 0;
    if (ld->ev.type != YAML_SCALAR_EVENT)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark, "expected %s (a string), found %s",
                       what, event_kind(&ld->ev));
    const yaml_event_t *ev = &ld->ev;
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    size_t cap = kind == BODY ? CASSETTE_CAP_BODY : CASSETTE_CAP_SCALAR;
    if (plain_null(ev)) {
        if (kind == BODY)
            return UTIL_OK;
        return fail_at(ld, UTIL_ERR_INVALID, ev->start_mark, "expected %s (a string), found null",
                       what);
    }
    if (tag && strcmp(tag, "!") != 0 && strcmp(tag, YAML_STR_TAG) != 0) {
        if (kind == BODY && strcmp(tag, "tag:yaml.org,2002:binary") == 0) {
            util_buf_reset(&ld->tmp);
            if (!util_base64_decode(v, n, &ld->tmp))
                return fail_at(ld, UTIL_ERR_INVALID, ev->start_mark,
                               "%s: malformed base64 in a !!binary scalar", what);
            v = ld->tmp.data ? ld->tmp.data : "";
            n = ld->tmp.len;
        } else {
            return fail_at(ld, UTIL_ERR_INVALID, ev->start_mark,
                           "unsupported tag %s on %s (expected a plain string%s)", tag, what,
                           kind == BODY ? " or !!binary" : "");
        }
    }
    if (n > cap)
        return fail_at(ld, UTIL_ERR_LIMIT, ev->start_mark, "%s is longer than the cap of %zu bytes",
                       what, cap);
    if (kind != BODY && memchr(v, '\0', n))
        return fail_at(ld, UTIL_ERR_INVALID, ev->start_mark, "NUL character in %s", what);
    *out = arena_strndup(&ld->c->arena, v, n);
    if (!*out)
        return nomem(ld);
    if (len)
        *len = n;
    return UTIL_OK;
}

/* A plain decimal integer in [lo, hi]. */
static int read_int(struct loader *ld, const char *what, long lo, long hi, long *out)
{
    if (ld->ev.type != YAML_SCALAR_EVENT)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "expected %s (an integer), found %s", what, event_kind(&ld->ev));
    const char *v = (const char *)ld->ev.data.scalar.value;
    size_t n = ld->ev.data.scalar.length;
    const char *tag = (const char *)ld->ev.data.scalar.tag;
    bool ok = ld->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
              (!tag || strcmp(tag, YAML_INT_TAG) == 0) && n > 0 && n < 12;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] >= '0' && v[i] <= '9';
    if (!ok)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "expected %s (an integer), found '%.40s'", what, v);
    long x = strtol(v, NULL, 10);
    if (x < lo || x > hi)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "%s %ld is out of range (expected %ld to %ld)", what, x, lo, hi);
    *out = x;
    return UTIL_OK;
}

static int version_check(struct loader *ld, const char *what)
{
    long v = 0;
    int rc = read_int(ld, what, 0, 1000000, &v);
    if (rc)
        return rc;
    if (v > CASSETTE_FORMAT_VERSION)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "%s %ld is newer than this ingestcheck reads (%d); upgrade ingestcheck",
                       what, v, CASSETTE_FORMAT_VERSION);
    if (v < 1)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "%s %ld is not a cassette format this ingestcheck reads (expected %d)", what,
                       v, CASSETTE_FORMAT_VERSION);
    return UTIL_OK;
}

static int push_header(struct loader *ld, const char *name, const char *value)
{
    if (ld->nhdrs >= CASSETTE_CAP_HEADERS)
        return fail_at(ld, UTIL_ERR_LIMIT, ld->ev.start_mark, "more than %u header values",
                       CASSETTE_CAP_HEADERS);
    if (ld->nhdrs == ld->ahdrs) {
        size_t n = ld->ahdrs ? ld->ahdrs * 2 : 16;
        struct cassette_header *p = realloc(ld->hdrs, n * sizeof(*p));
        if (!p)
            return nomem(ld);
        ld->hdrs = p;
        ld->ahdrs = n;
    }
    ld->hdrs[ld->nhdrs].name = name;
    ld->hdrs[ld->nhdrs].value = value;
    ld->nhdrs++;
    return UTIL_OK;
}

/* headers: {Name: [v1, v2], Other: v} */
static int read_headers(struct loader *ld, const struct cassette_header **out, size_t *count)
{
    int rc = expect(ld, YAML_MAPPING_START_EVENT, "a mapping of header names to lists");
    if (rc)
        return rc;
    ld->nhdrs = 0;
    size_t names = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            break;
        /* Duplicate names: a linear check over at most CASSETTE_CAP_HEADERS. */
        for (size_t i = 0; i < ld->nhdrs; i++)
            if (strcmp(ld->hdrs[i].name, key) == 0)
                return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                               "duplicate header \"%s\"; expected unique keys", key);
        const char *name = NULL;
        if ((rc = read_string(ld, "a header name", TEXT, &name, NULL)))
            return rc;
        if (++names > CASSETTE_CAP_HEADERS)
            return fail_at(ld, UTIL_ERR_LIMIT, ld->ev.start_mark, "more than %u headers",
                           CASSETTE_CAP_HEADERS);
        if ((rc = next(ld)))
            return rc;
        if (ld->ev.type == YAML_SEQUENCE_START_EVENT) {
            for (;;) {
                if ((rc = next(ld)))
                    return rc;
                if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
                    break;
                const char *value;
                if ((rc = read_string(ld, "a header value", TEXT, &value, NULL)) ||
                    (rc = push_header(ld, name, value)))
                    return rc;
            }
        } else {
            const char *value;
            if ((rc = read_string(ld, "a header value or list of values", TEXT, &value, NULL)) ||
                (rc = push_header(ld, name, value)))
                return rc;
        }
    }
    *out = NULL;
    *count = ld->nhdrs;
    if (ld->nhdrs) {
        struct cassette_header *v = arena_alloc(&ld->c->arena, ld->nhdrs * sizeof(*v));
        if (!v)
            return nomem(ld);
        memcpy(v, ld->hdrs, ld->nhdrs * sizeof(*v));
        *out = v;
    }
    return UTIL_OK;
}

static int read_request(struct loader *ld, struct cassette_interaction *in)
{
    int rc = expect(ld, YAML_MAPPING_START_EVENT, "the request (a mapping)");
    if (rc)
        return rc;
    yaml_mark_t start = ld->ev.start_mark;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            break;
        if (!strcmp(key, "method")) {
            if ((rc = duplicate(ld, &seen, 1, key)) || (rc = next(ld)) ||
                (rc = read_string(ld, "the method", TEXT, &in->method, NULL)))
                return rc;
        } else if (!strcmp(key, "uri")) {
            if ((rc = duplicate(ld, &seen, 2, key)) || (rc = next(ld)) ||
                (rc = read_string(ld, "the uri", TEXT, &in->uri, NULL)))
                return rc;
        } else if (!strcmp(key, "body")) {
            if ((rc = duplicate(ld, &seen, 4, key)) || (rc = next(ld)) ||
                (rc = read_string(ld, "the request body", BODY, &in->request_body,
                                  &in->request_body_len)))
                return rc;
        } else if (!strcmp(key, "headers")) {
            if ((rc = duplicate(ld, &seen, 8, key)) || (rc = next(ld)) ||
                (rc = read_headers(ld, &in->request_headers, &in->request_header_count)))
                return rc;
        } else {
            return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                           "unknown request key \"%s\" (expected method, uri, body, headers)", key);
        }
    }
    if (!(seen & 1) || !(seen & 2))
        return fail_at(ld, UTIL_ERR_INVALID, start, "the request has no %s",
                       !(seen & 1) ? "method" : "uri");
    return UTIL_OK;
}

static int read_status(struct loader *ld, struct cassette_interaction *in)
{
    int rc = expect(ld, YAML_MAPPING_START_EVENT, "the status (a mapping of code and message)");
    if (rc)
        return rc;
    yaml_mark_t start = ld->ev.start_mark;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            break;
        if (!strcmp(key, "code")) {
            long code = 0;
            if ((rc = duplicate(ld, &seen, 1, key)) || (rc = next(ld)) ||
                (rc = read_int(ld, "the status code", 100, 599, &code)))
                return rc;
            in->status = (int)code;
        } else if (!strcmp(key, "message")) {
            if ((rc = duplicate(ld, &seen, 2, key)) || (rc = next(ld)))
                return rc;
            if (ld->ev.type == YAML_SCALAR_EVENT && plain_null(&ld->ev))
                in->status_message = "";
            else if ((rc = read_string(ld, "the status message", TEXT, &in->status_message, NULL)))
                return rc;
        } else {
            return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                           "unknown status key \"%s\" (expected code, message)", key);
        }
    }
    if (!(seen & 1))
        return fail_at(ld, UTIL_ERR_INVALID, start, "the status has no code");
    if (!in->status_message)
        in->status_message = "";
    return UTIL_OK;
}

static int read_response_body(struct loader *ld, struct cassette_interaction *in)
{
    int rc = expect(ld, YAML_MAPPING_START_EVENT, "the response body (a mapping with string)");
    if (rc)
        return rc;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            break;
        if (!strcmp(key, "string")) {
            if ((rc = duplicate(ld, &seen, 1, key)) || (rc = next(ld)) ||
                (rc = read_string(ld, "the response body", BODY, &in->response_body,
                                  &in->response_body_len)))
                return rc;
        } else {
            return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                           "unknown response body key \"%s\" (expected string)", key);
        }
    }
    return UTIL_OK;
}

static int read_response(struct loader *ld, struct cassette_interaction *in)
{
    int rc = expect(ld, YAML_MAPPING_START_EVENT, "the response (a mapping)");
    if (rc)
        return rc;
    yaml_mark_t start = ld->ev.start_mark;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            break;
        if (!strcmp(key, "status")) {
            if ((rc = duplicate(ld, &seen, 1, key)) || (rc = next(ld)) ||
                (rc = read_status(ld, in)))
                return rc;
        } else if (!strcmp(key, "headers")) {
            if ((rc = duplicate(ld, &seen, 2, key)) || (rc = next(ld)) ||
                (rc = read_headers(ld, &in->response_headers, &in->response_header_count)))
                return rc;
        } else if (!strcmp(key, "body")) {
            if ((rc = duplicate(ld, &seen, 4, key)) || (rc = next(ld)) ||
                (rc = read_response_body(ld, in)))
                return rc;
        } else {
            /* vcrpy's stubs add keys of their own (aiohttp's "url"); vcrpy
             * ignores them on replay, and so do we. */
            if ((rc = next(ld)) || (rc = skip_value(ld)))
                return rc;
        }
    }
    if (!(seen & 1))
        return fail_at(ld, UTIL_ERR_INVALID, start, "the response has no status");
    if (!in->response_body)
        in->response_body = "";
    return UTIL_OK;
}

/* The ingestcheck mapping of one interaction: {case, step}. */
static int read_interaction_meta(struct loader *ld, struct cassette_interaction *in)
{
    int rc = expect(ld, YAML_MAPPING_START_EVENT, "ingestcheck metadata (a mapping)");
    if (rc)
        return rc;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            break;
        if (!strcmp(key, "case")) {
            if ((rc = duplicate(ld, &seen, 1, key)) || (rc = next(ld)) ||
                (rc = read_string(ld, "the case name", TEXT, &in->case_name, NULL)))
                return rc;
        } else if (!strcmp(key, "step")) {
            if ((rc = duplicate(ld, &seen, 2, key)) || (rc = next(ld)) ||
                (rc = read_string(ld, "the step", TEXT, &in->step, NULL)))
                return rc;
        } else if ((rc = next(ld)) || (rc = skip_value(ld))) {
            return rc; /* metadata of a later ingestcheck: forward compatible */
        }
    }
    return UTIL_OK;
}

static int read_interaction(struct loader *ld)
{
    int rc = expect(ld, YAML_MAPPING_START_EVENT, "an interaction (a mapping)");
    if (rc)
        return rc;
    yaml_mark_t start = ld->ev.start_mark;
    struct cassette_interaction in;
    memset(&in, 0, sizeof(in));
    in.line = (int)start.line + 1;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            break;
        if (!strcmp(key, "request")) {
            if ((rc = duplicate(ld, &seen, 1, key)) || (rc = next(ld)) ||
                (rc = read_request(ld, &in)))
                return rc;
        } else if (!strcmp(key, "response")) {
            if ((rc = duplicate(ld, &seen, 2, key)) || (rc = next(ld)) ||
                (rc = read_response(ld, &in)))
                return rc;
        } else if (!strcmp(key, "ingestcheck")) {
            if ((rc = duplicate(ld, &seen, 4, key)) || (rc = next(ld)) ||
                (rc = read_interaction_meta(ld, &in)))
                return rc;
        } else {
            return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                           "unknown interaction key \"%s\" (expected request, response, "
                           "ingestcheck)",
                           key);
        }
    }
    if (!(seen & 1) || !(seen & 2))
        return fail_at(ld, UTIL_ERR_INVALID, start, "the interaction has no %s",
                       !(seen & 1) ? "request" : "response");
    rc = cassette_push_entry(ld->c, &in, ld->err);
    if (rc) {
        util_error_prefix(ld->err, "%s:%d:%d: ", ld->name, in.line, (int)start.column + 1);
        util_error_at(ld->err, ld->name, in.line, (int)start.column + 1);
    }
    return rc;
}

static int read_meta_values(struct loader *ld)
{
    int rc = expect(ld, YAML_SEQUENCE_START_EVENT, "values (a sequence)");
    if (rc)
        return rc;
    for (;;) {
        if ((rc = next(ld)))
            return rc;
        if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
            return UTIL_OK;
        if ((rc = expect(ld, YAML_MAPPING_START_EVENT, "a value (a mapping of name and value)")))
            return rc;
        yaml_mark_t start = ld->ev.start_mark;
        const char *name = NULL, *value = NULL;
        for (;;) {
            const char *key;
            if ((rc = next_key(ld, &key)))
                return rc;
            if (!key)
                break;
            if (!strcmp(key, "name")) {
                if ((rc = next(ld)) ||
                    (rc = read_string(ld, "the value's name", TEXT, &name, NULL)))
                    return rc;
            } else if (!strcmp(key, "value")) {
                if ((rc = next(ld)) || (rc = read_string(ld, "the value", TEXT, &value, NULL)))
                    return rc;
            } else {
                return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                               "unknown key \"%s\" in a value (expected name, value)", key);
            }
        }
        if (!name || !value)
            return fail_at(ld, UTIL_ERR_INVALID, start, "a value needs both name and value");
        struct cassette *c = ld->c;
        if (c->nvalues >= CASSETTE_CAP_VALUES)
            return fail_at(ld, UTIL_ERR_LIMIT, start, "more than %u values", CASSETTE_CAP_VALUES);
        if (c->nvalues == c->avalues) {
            size_t n = c->avalues ? c->avalues * 2 : 16;
            struct cassette_value *p = realloc(c->values, n * sizeof(*p));
            if (!p)
                return nomem(ld);
            c->values = p;
            c->avalues = n;
        }
        c->values[c->nvalues].name = name;
        c->values[c->nvalues].value = value;
        c->nvalues++;
    }
}

static int read_meta_string(struct loader *ld, const char *what, char **slot)
{
    const char *s = NULL;
    int rc = next(ld);
    if (rc || (rc = read_string(ld, what, TEXT, &s, NULL)))
        return rc;
    free(*slot);
    *slot = strdup(s);
    return *slot ? UTIL_OK : nomem(ld);
}

static int read_meta(struct loader *ld)
{
    int rc = expect(ld, YAML_MAPPING_START_EVENT, "ingestcheck metadata (a mapping)");
    if (rc)
        return rc;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            return UTIL_OK;
        if (!strcmp(key, "format")) {
            if ((rc = duplicate(ld, &seen, 1, key)) || (rc = next(ld)) ||
                (rc = version_check(ld, "ingestcheck cassette format")))
                return rc;
        } else if (!strcmp(key, "ingestcheck_version")) {
            if ((rc = duplicate(ld, &seen, 2, key)) ||
                (rc = read_meta_string(ld, "the ingestcheck version", &ld->c->version)))
                return rc;
        } else if (!strcmp(key, "recorded_at")) {
            if ((rc = duplicate(ld, &seen, 4, key)) ||
                (rc = read_meta_string(ld, "the recording time", &ld->c->recorded_at)))
                return rc;
        } else if (!strcmp(key, "spec_sha256")) {
            if ((rc = duplicate(ld, &seen, 8, key)) ||
                (rc = read_meta_string(ld, "the spec's SHA-256", &ld->c->spec_sha256)))
                return rc;
        } else if (!strcmp(key, "placeholders")) {
            if ((rc = duplicate(ld, &seen, 16, key)) || (rc = next(ld)) ||
                (rc = expect(ld, YAML_SEQUENCE_START_EVENT, "placeholders (a sequence)")))
                return rc;
            for (;;) {
                const char *ph;
                if ((rc = next(ld)))
                    return rc;
                if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
                    break;
                if ((rc = read_string(ld, "a placeholder", TEXT, &ph, NULL)))
                    return rc;
                if ((rc = cassette_note_placeholder(ld->c, ph)))
                    return rc == UTIL_ERR_NOMEM
                               ? nomem(ld)
                               : fail_at(ld, rc, ld->ev.start_mark, "too many placeholders");
            }
        } else if (!strcmp(key, "values")) {
            if ((rc = duplicate(ld, &seen, 32, key)) || (rc = next(ld)) ||
                (rc = read_meta_values(ld)))
                return rc;
        } else if ((rc = next(ld)) || (rc = skip_value(ld))) {
            return rc;
        }
    }
}

static int read_root(struct loader *ld)
{
    int rc;
    if ((rc = next(ld)) || (rc = expect(ld, YAML_STREAM_START_EVENT, "a YAML stream")) ||
        (rc = next(ld)))
        return rc;
    if (ld->ev.type == YAML_STREAM_END_EVENT)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "empty file; expected a cassette (a mapping with interactions and "
                       "version)");
    if ((rc = expect(ld, YAML_DOCUMENT_START_EVENT, "a YAML document")) || (rc = next(ld)))
        return rc;
    if ((rc = expect(ld, YAML_MAPPING_START_EVENT,
                     "a cassette (a mapping with interactions and version)")))
        return rc;
    yaml_mark_t start = ld->ev.start_mark;
    unsigned seen = 0;
    for (;;) {
        const char *key;
        if ((rc = next_key(ld, &key)))
            return rc;
        if (!key)
            break;
        if (!strcmp(key, "interactions")) {
            if ((rc = duplicate(ld, &seen, 1, key)) || (rc = next(ld)))
                return rc;
            if (ld->ev.type == YAML_SCALAR_EVENT && plain_null(&ld->ev))
                continue; /* "interactions:" with nothing: an empty cassette */
            if ((rc = expect(ld, YAML_SEQUENCE_START_EVENT, "interactions (a sequence)")))
                return rc;
            for (;;) {
                if ((rc = next(ld)))
                    return rc;
                if (ld->ev.type == YAML_SEQUENCE_END_EVENT)
                    break;
                if ((rc = read_interaction(ld)))
                    return rc;
            }
        } else if (!strcmp(key, "version")) {
            if ((rc = duplicate(ld, &seen, 2, key)) || (rc = next(ld)) ||
                (rc = version_check(ld, "cassette version")))
                return rc;
        } else if (!strcmp(key, "ingestcheck")) {
            if ((rc = duplicate(ld, &seen, 4, key)) || (rc = next(ld)) || (rc = read_meta(ld)))
                return rc;
        } else {
            return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                           "unknown key \"%s\" (expected interactions, version, ingestcheck)", key);
        }
    }
    if (!(seen & 1))
        return fail_at(ld, UTIL_ERR_INVALID, start, "no interactions key; not a cassette");
    if (!(seen & 2))
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "no version key (a truncated cassette?); expected version: %d",
                       CASSETTE_FORMAT_VERSION);
    if ((rc = next(ld)) || (rc = expect(ld, YAML_DOCUMENT_END_EVENT, "the end of the document")) ||
        (rc = next(ld)))
        return rc;
    if (ld->ev.type != YAML_STREAM_END_EVENT)
        return fail_at(ld, UTIL_ERR_INVALID, ld->ev.start_mark,
                       "a second YAML document; expected one cassette per file");
    return UTIL_OK;
}

static int load(struct loader *ld, struct cassette **out)
{
    int rc = read_root(ld);
    if (rc == UTIL_OK) {
        *out = ld->c;
        ld->c = NULL;
    }
    if (ld->have_ev)
        yaml_event_delete(&ld->ev);
    yaml_parser_delete(&ld->parser);
    cassette_destroy(ld->c);
    free(ld->hdrs);
    util_buf_finish(&ld->tmp);
    return rc;
}

static int loader_init(struct loader *ld, const char *name, struct util_error *err)
{
    memset(ld, 0, sizeof(*ld));
    ld->name = name ? name : "<cassette>";
    ld->err = err;
    util_buf_init(&ld->tmp, CASSETTE_CAP_BODY);
    ld->c = cassette_create();
    if (!ld->c || !(ld->c->source = strdup(ld->name))) {
        cassette_destroy(ld->c);
        ld->c = NULL;
        return nomem(ld);
    }
    if (!yaml_parser_initialize(&ld->parser)) {
        cassette_destroy(ld->c);
        ld->c = NULL;
        return nomem(ld);
    }
    return UTIL_OK;
}

int cassette_load_text(const char *text, size_t len, const char *name, struct cassette **out,
                       struct util_error *err)
{
    *out = NULL;
    if (len > CASSETTE_CAP_FILE) {
        const char *n = name ? name : "<cassette>";
        int rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: larger than the cap of %u bytes", n,
                                CASSETTE_CAP_FILE);
        util_error_at(err, n, 0, 0);
        return rc;
    }
    struct loader ld;
    int rc = loader_init(&ld, name, err);
    if (rc)
        return rc;
    ld.text = text;
    ld.len = len;
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, len);
    return load(&ld, out);
}

int cassette_load_file(const char *path, struct cassette **out, struct util_error *err)
{
    *out = NULL;
    int rc = UTIL_OK;
    struct stat st;
    FILE *f = NULL;
    if ((rc = util_file_open(path, &f, err)))
        return rc;
    if (fstat(fileno(f), &st) != 0) {
        rc = util_error_set(err, UTIL_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        util_error_at(err, path, 0, 0);
        goto cleanup;
    }
    if ((unsigned long long)st.st_size > CASSETTE_CAP_FILE) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: larger than the cap of %u bytes", path,
                            CASSETTE_CAP_FILE);
        util_error_at(err, path, 0, 0);
        goto cleanup;
    }
    struct loader ld;
    if ((rc = loader_init(&ld, path, err)))
        goto cleanup;
    ld.file = f;
    yaml_parser_set_input_file(&ld.parser, f);
    rc = load(&ld, out);
    if (rc == UTIL_OK && ferror(f)) {
        cassette_destroy(*out);
        *out = NULL;
        rc = util_error_set(err, UTIL_ERR_IO, "%s: read error", path);
        util_error_at(err, path, 0, 0);
    }
cleanup:
    fclose(f);
    return rc;
}
