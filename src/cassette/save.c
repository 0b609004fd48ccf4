/* Cassette saving with libyaml's emitter: fixed key order, deterministic
 * bytes, quoting chosen by libyaml. */
#include "cassette/caps.h"
#include "cassette/internal.h"
#include "util/base64.h"
#include "ingestcheck_config.h"
#include "util/file.h"
#include "util/text.h"

#include <yaml.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct emit {
    yaml_emitter_t e;
    struct util_buf *out;
    int out_rc;
    const struct cassette_redactor *r;
    struct util_buf scratch;
    struct util_buf b64;
    struct util_error *err;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    struct emit *em = data;
    int rc = util_buf_append(em->out, buffer, size);
    if (rc) {
        em->out_rc = rc;
        return 0;
    }
    return 1;
}

static int emitted(struct emit *em, yaml_event_t *ev)
{
    if (yaml_emitter_emit(&em->e, ev))
        return UTIL_OK;
    if (em->out_rc)
        return util_error_set(em->err, em->out_rc, "writing the cassette: %s",
                              util_status_name(em->out_rc));
    if (em->e.error == YAML_MEMORY_ERROR)
        return util_error_set(em->err, UTIL_ERR_NOMEM, "out of memory");
    return util_error_set(em->err, UTIL_ERR_INVALID, "YAML emitter: %s",
                          em->e.problem ? em->e.problem : "error");
}

static int map_start(struct emit *em)
{
    yaml_event_t ev;
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
        return util_error_set(em->err, UTIL_ERR_NOMEM, "out of memory");
    return emitted(em, &ev);
}

static int map_end(struct emit *em)
{
    yaml_event_t ev;
    yaml_mapping_end_event_initialize(&ev);
    return emitted(em, &ev);
}

static int seq_start(struct emit *em)
{
    yaml_event_t ev;
    if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
        return util_error_set(em->err, UTIL_ERR_NOMEM, "out of memory");
    return emitted(em, &ev);
}

static int seq_end(struct emit *em)
{
    yaml_event_t ev;
    yaml_sequence_end_event_initialize(&ev);
    return emitted(em, &ev);
}

/* True when s may be written plain: YAML 1.1 (PyYAML, vcrpy) and 1.2 both
 * read it back as this very string. Only strings starting with a letter
 * qualify (numbers, dates, .inf, ~, <<, = all start otherwise), minus the
 * words either version reads as a boolean or null. Whether plain is
 * syntactically allowed (": ", " #", trailing spaces...) is libyaml's call:
 * it falls back to quotes. */
static bool plain_safe(const char *s, size_t n)
{
    static const char *const words[] = {"y",   "n",    "yes",   "no",  "on",
                                        "off", "true", "false", "null"};
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i]) == n && strncasecmp(words[i], s, n) == 0)
            return false;
    return true;
}

static int scalar(struct emit *em, const char *s, size_t n, const char *what)
{
    if (!util_utf8_valid(s, n) || memchr(s, '\0', n))
        return util_error_set(em->err, UTIL_ERR_INVALID, "%s is not UTF-8 text", what);
    yaml_event_t ev;
    yaml_scalar_style_t style =
        plain_safe(s, n) ? YAML_PLAIN_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s, (int)n, 1, 1,
                                      style))
        return util_error_set(em->err, UTIL_ERR_INVALID, "%s cannot be written as YAML", what);
    return emitted(em, &ev);
}

static int str(struct emit *em, const char *s)
{
    return scalar(em, s, strlen(s), "a string");
}

static int integer(struct emit *em, long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld", v);
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)buf, n, 1, 0,
                                      YAML_PLAIN_SCALAR_STYLE))
        return util_error_set(em->err, UTIL_ERR_NOMEM, "out of memory");
    return emitted(em, &ev);
}

static int null_scalar(struct emit *em)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t) "null", 4, 1, 0,
                                      YAML_PLAIN_SCALAR_STYLE))
        return util_error_set(em->err, UTIL_ERR_NOMEM, "out of memory");
    return emitted(em, &ev);
}

/* Applies the redactor's remembered secrets to s; returns the text to
 * write in *p and *len (s itself or em->scratch). */
static int redacted(struct emit *em, const char *s, size_t n, bool in_uri, const char **p,
                    size_t *len)
{
    *p = s;
    *len = n;
    if (!em->r)
        return UTIL_OK;
    bool changed = false;
    util_buf_reset(&em->scratch);
    int rc = redact_known(em->r, s, n, in_uri, &em->scratch, &changed);
    if (rc)
        return util_error_set(em->err, rc, "redacting: %s", util_status_name(rc));
    if (changed) {
        *p = em->scratch.data ? em->scratch.data : "";
        *len = em->scratch.len;
    }
    return UTIL_OK;
}

static int text(struct emit *em, const char *s, size_t n, bool in_uri, const char *what)
{
    const char *p;
    size_t len;
    int rc = redacted(em, s, n, in_uri, &p, &len);
    return rc ? rc : scalar(em, p, len, what);
}

/* A body: text when it is UTF-8 without NULs, else !!binary base64. */
static int body(struct emit *em, const char *s, size_t n)
{
    const char *p;
    size_t len;
    int rc = redacted(em, s, n, false, &p, &len);
    if (rc)
        return rc;
    if (util_utf8_valid(p, len) && !memchr(p, '\0', len))
        return scalar(em, p, len, "a body");
    util_buf_reset(&em->b64);
    if ((rc = util_base64_encode((const unsigned char *)p, len, &em->b64)))
        return util_error_set(em->err, rc, "encoding a binary body: %s", util_status_name(rc));
    yaml_event_t ev;
    const char *data = em->b64.data ? em->b64.data : "";
    if (!yaml_scalar_event_initialize(
            &ev, NULL, (yaml_char_t *)(uintptr_t) "tag:yaml.org,2002:binary",
            (yaml_char_t *)(uintptr_t)data, (int)em->b64.len, 0, 0, YAML_ANY_SCALAR_STYLE))
        return util_error_set(em->err, UTIL_ERR_NOMEM, "out of memory");
    return emitted(em, &ev);
}

/* {Name: [values...]} grouping values by exact name, in order of first
 * appearance (as vcrpy keeps them). */
static int headers(struct emit *em, const struct cassette_header *h, size_t n)
{
    int rc = map_start(em);
    for (size_t i = 0; rc == UTIL_OK && i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(h[j].name, h[i].name) == 0;
        if (seen)
            continue;
        if ((rc = scalar(em, h[i].name, strlen(h[i].name), "a header name")) ||
            (rc = seq_start(em)))
            break;
        for (size_t j = i; rc == UTIL_OK && j < n; j++)
            if (strcmp(h[j].name, h[i].name) == 0)
                rc = text(em, h[j].value, strlen(h[j].value), false, "a header value");
        if (rc == UTIL_OK)
            rc = seq_end(em);
    }
    return rc ? rc : map_end(em);
}

static int interaction(struct emit *em, const struct cassette_interaction *in)
{
    int rc = map_start(em);
    if (rc)
        return rc;
    if (in->case_name || in->step) {
        if ((rc = str(em, "ingestcheck")) || (rc = map_start(em)))
            return rc;
        if (in->case_name && ((rc = str(em, "case")) || (rc = str(em, in->case_name))))
            return rc;
        if (in->step && ((rc = str(em, "step")) || (rc = str(em, in->step))))
            return rc;
        if ((rc = map_end(em)))
            return rc;
    }
    if ((rc = str(em, "request")) || (rc = map_start(em)) || (rc = str(em, "body")))
        return rc;
    rc = in->request_body ? body(em, in->request_body, in->request_body_len) : null_scalar(em);
    if (rc || (rc = str(em, "headers")) ||
        (rc = headers(em, in->request_headers, in->request_header_count)) ||
        (rc = str(em, "method")) || (rc = str(em, in->method)) || (rc = str(em, "uri")) ||
        (rc = text(em, in->uri, strlen(in->uri), true, "the uri")) || (rc = map_end(em)))
        return rc;
    if ((rc = str(em, "response")) || (rc = map_start(em)) || (rc = str(em, "body")) ||
        (rc = map_start(em)) || (rc = str(em, "string")) ||
        (rc = body(em, in->response_body, in->response_body_len)) || (rc = map_end(em)) ||
        (rc = str(em, "headers")) ||
        (rc = headers(em, in->response_headers, in->response_header_count)) ||
        (rc = str(em, "status")) || (rc = map_start(em)) || (rc = str(em, "code")) ||
        (rc = integer(em, in->status)) || (rc = str(em, "message")) ||
        (rc = str(em, in->status_message ? in->status_message : "")) || (rc = map_end(em)) ||
        (rc = map_end(em)))
        return rc;
    return map_end(em);
}

static int meta(struct emit *em, const struct cassette *c)
{
    int rc;
    if ((rc = str(em, "ingestcheck")) || (rc = map_start(em)) || (rc = str(em, "format")) ||
        (rc = integer(em, CASSETTE_FORMAT_VERSION)) || (rc = str(em, "ingestcheck_version")) ||
        (rc = str(em, c->version ? c->version : INGESTCHECK_VERSION)))
        return rc;
    if (c->recorded_at && ((rc = str(em, "recorded_at")) || (rc = str(em, c->recorded_at))))
        return rc;
    if (c->spec_sha256 && ((rc = str(em, "spec_sha256")) || (rc = str(em, c->spec_sha256))))
        return rc;
    if (c->nplaceholders) {
        if ((rc = str(em, "placeholders")) || (rc = seq_start(em)))
            return rc;
        for (size_t i = 0; i < c->nplaceholders; i++)
            if ((rc = str(em, c->placeholders[i])))
                return rc;
        if ((rc = seq_end(em)))
            return rc;
    }
    if (c->nvalues) {
        if ((rc = str(em, "values")) || (rc = seq_start(em)))
            return rc;
        for (size_t i = 0; i < c->nvalues; i++)
            if ((rc = map_start(em)) || (rc = str(em, "name")) ||
                (rc = str(em, c->values[i].name)) || (rc = str(em, "value")) ||
                (rc = text(em, c->values[i].value, strlen(c->values[i].value), false, "a value")) ||
                (rc = map_end(em)))
                return rc;
        if ((rc = seq_end(em)))
            return rc;
    }
    return map_end(em);
}

int cassette_save_buf(const struct cassette *c, const struct cassette_redactor *r,
                      struct util_buf *out, struct util_error *err)
{
    struct emit em;
    memset(&em, 0, sizeof(em));
    em.out = out;
    em.r = r;
    em.err = err;
    util_buf_init(&em.scratch, CASSETTE_CAP_BODY * 2u);
    util_buf_init(&em.b64, CASSETTE_CAP_BODY * 2u);
    int rc = UTIL_OK;
    bool have_emitter = false;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em.e)) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    have_emitter = true;
    yaml_emitter_set_output(&em.e, write_handler, &em);
    yaml_emitter_set_unicode(&em.e, 1);
    yaml_emitter_set_width(&em.e, -1);
    yaml_emitter_set_indent(&em.e, 2);
    yaml_emitter_set_break(&em.e, YAML_LN_BREAK);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    if ((rc = emitted(&em, &ev)))
        goto cleanup;
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    if ((rc = emitted(&em, &ev)) || (rc = map_start(&em)) || (rc = meta(&em, c)) ||
        (rc = str(&em, "interactions")) || (rc = seq_start(&em)))
        goto cleanup;
    for (size_t i = 0; i < c->count; i++) {
        if ((rc = interaction(&em, &c->items[i].pub))) {
            util_error_prefix(err, "interaction %zu (%s %s): ", i, c->items[i].pub.method,
                              c->items[i].keypath);
            goto cleanup;
        }
    }
    if ((rc = seq_end(&em)) || (rc = str(&em, "version")) ||
        (rc = integer(&em, CASSETTE_FORMAT_VERSION)) || (rc = map_end(&em)))
        goto cleanup;
    yaml_document_end_event_initialize(&ev, 1);
    if ((rc = emitted(&em, &ev)))
        goto cleanup;
    yaml_stream_end_event_initialize(&ev);
    if ((rc = emitted(&em, &ev)))
        goto cleanup;
    if (!yaml_emitter_flush(&em.e))
        rc = util_error_set(err, em.out_rc ? em.out_rc : UTIL_ERR_NOMEM,
                            "writing the cassette failed");
cleanup:
    if (have_emitter)
        yaml_emitter_delete(&em.e);
    util_buf_finish(&em.scratch);
    util_buf_finish(&em.b64);
    return rc;
}

int cassette_save_file(const struct cassette *c, const struct cassette_redactor *r,
                       const char *path, struct util_error *err)
{
    struct util_buf out;
    util_buf_init(&out, (size_t)CASSETTE_CAP_FILE);
    int rc = cassette_save_buf(c, r, &out, err);
    if (rc == UTIL_OK)
        rc = util_file_write_atomic(path, out.data ? out.data : "", out.len, err);
    else
        util_error_prefix(err, "%s: ", path);
    util_buf_finish(&out);
    return rc;
}
