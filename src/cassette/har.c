/* HAR 1.2 export. */
#include "cassette/caps.h"
#include "cassette/internal.h"
#include "ingestcheck_config.h"
#include "util/base64.h"
#include "util/secret.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- HAR ---- */

static const char *header_value(const struct cassette_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

/* Headers; the value of a secret one is its placeholder (a cassette
 * written by hand or by an older ingestcheck may hold it). */
static cJSON *har_headers(const struct cassette_header *h, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    char ph[300];
    for (size_t i = 0; a && i < n; i++) {
        const char *v = h[i].value;
        if (util_secret_header(h[i].name) && strncmp(v, "<REDACTED:", 10) != 0) {
            snprintf(ph, sizeof(ph), "<REDACTED:%.256s>", h[i].name);
            v = ph;
        }
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(a, o) || !cJSON_AddStringToObject(o, "name", h[i].name) ||
            !cJSON_AddStringToObject(o, "value", v)) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *har_query(const char *uri)
{
    struct query_list q;
    memset(&q, 0, sizeof(q));
    size_t len;
    const char *s = uri_query(uri, &len);
    cJSON *a = cJSON_CreateArray();
    if (!a || (s && query_parse(s, len, &q))) {
        cJSON_Delete(a);
        query_list_finish(&q);
        return NULL;
    }
    for (size_t i = 0; i < q.count; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(a, o) ||
            !cJSON_AddStringToObject(o, "name", q.items[i].name) ||
            !cJSON_AddStringToObject(o, "value", q.items[i].value)) {
            cJSON_Delete(a);
            a = NULL;
            break;
        }
    }
    query_list_finish(&q);
    return a;
}

/* A body as HAR text, with its secret members redacted; *base64 when it
 * is not UTF-8 text. NULL on ENOMEM. */
static char *body_text(const char *s, size_t n, bool *base64)
{
    struct util_buf r, b;
    util_buf_init(&r, CASSETTE_CAP_BODY * 2u);
    util_buf_init(&b, CASSETTE_CAP_BODY * 2u);
    int rc = redact_members(s, n, &r);
    if (rc == UTIL_OK) {
        s = r.data ? r.data : "";
        n = r.len;
        *base64 = !util_utf8_valid(s, n) || memchr(s, '\0', n);
        rc = *base64 ? util_base64_encode((const unsigned char *)s, n, &b)
                     : util_buf_append(&b, s, n);
    }
    if (rc == UTIL_OK && !b.data)
        rc = util_buf_append(&b, "", 0);
    char *out = rc ? NULL : util_buf_steal(&b);
    util_buf_finish(&r);
    util_buf_finish(&b);
    return out;
}

static cJSON *har_entry(const struct cassette *c, const struct cassette_interaction *in)
{
    cJSON *e = cJSON_CreateObject();
    if (!e)
        return NULL;
    const char *started = c->recorded_at ? c->recorded_at : "1970-01-01T00:00:00Z";
    bool ok = cJSON_AddStringToObject(e, "startedDateTime", started) &&
              cJSON_AddNumberToObject(e, "time", 0);
    cJSON *req = ok ? cJSON_AddObjectToObject(e, "request") : NULL;
    cJSON *resp = req ? cJSON_AddObjectToObject(e, "response") : NULL;
    cJSON *content = resp ? cJSON_AddObjectToObject(resp, "content") : NULL;
    cJSON *timings = content ? cJSON_AddObjectToObject(e, "timings") : NULL;
    ok = timings && cJSON_AddObjectToObject(e, "cache");
    /* request */
    char *url = NULL, *userinfo = NULL;
    ok = ok && util_secret_split_userinfo(in->uri, &url, &userinfo) == UTIL_OK;
    ok = ok && cJSON_AddStringToObject(req, "method", in->method) &&
         cJSON_AddStringToObject(req, "url", url) &&
         cJSON_AddStringToObject(req, "httpVersion", "HTTP/1.1") &&
         cJSON_AddArrayToObject(req, "cookies");
    cJSON *h = ok ? har_headers(in->request_headers, in->request_header_count) : NULL;
    ok = ok && h && cJSON_AddItemToObject(req, "headers", h);
    cJSON *q = ok ? har_query(url) : NULL;
    free(url);
    free(userinfo);
    ok = ok && q && cJSON_AddItemToObject(req, "queryString", q);
    if (ok && in->request_body) {
        bool b64 = false;
        char *t = body_text(in->request_body, in->request_body_len, &b64);
        cJSON *pd = cJSON_CreateObject();
        const char *ct =
            header_value(in->request_headers, in->request_header_count, "content-type");
        ok = t && pd && cJSON_AddItemToObject(req, "postData", pd);
        if (!ok)
            cJSON_Delete(pd);
        ok = ok && cJSON_AddStringToObject(pd, "mimeType", ct ? ct : "application/octet-stream") &&
             cJSON_AddStringToObject(pd, "text", t) &&
             (!b64 || cJSON_AddStringToObject(pd, "comment", "text is base64 (binary body)"));
        free(t);
    }
    ok = ok && cJSON_AddNumberToObject(req, "headersSize", -1) &&
         cJSON_AddNumberToObject(req, "bodySize",
                                 in->request_body ? (double)in->request_body_len : 0);
    /* response */
    ok =
        ok && cJSON_AddNumberToObject(resp, "status", in->status) &&
        cJSON_AddStringToObject(resp, "statusText", in->status_message ? in->status_message : "") &&
        cJSON_AddStringToObject(resp, "httpVersion", "HTTP/1.1") &&
        cJSON_AddArrayToObject(resp, "cookies");
    h = ok ? har_headers(in->response_headers, in->response_header_count) : NULL;
    ok = ok && h && cJSON_AddItemToObject(resp, "headers", h);
    if (ok) {
        bool b64 = false;
        char *t = body_text(in->response_body, in->response_body_len, &b64);
        const char *ct =
            header_value(in->response_headers, in->response_header_count, "content-type");
        ok = t && cJSON_AddNumberToObject(content, "size", (double)in->response_body_len) &&
             cJSON_AddStringToObject(content, "mimeType", ct ? ct : "") &&
             cJSON_AddStringToObject(content, "text", t) &&
             (!b64 || cJSON_AddStringToObject(content, "encoding", "base64"));
        free(t);
    }
    ok = ok && cJSON_AddStringToObject(resp, "redirectURL", "") &&
         cJSON_AddNumberToObject(resp, "headersSize", -1) &&
         cJSON_AddNumberToObject(resp, "bodySize", (double)in->response_body_len);
    ok = ok && cJSON_AddNumberToObject(timings, "send", 0) &&
         cJSON_AddNumberToObject(timings, "wait", 0) &&
         cJSON_AddNumberToObject(timings, "receive", 0);
    if (ok && (in->case_name || in->step)) {
        char comment[1024];
        snprintf(comment, sizeof(comment), "ingestcheck case %s, step %s",
                 in->case_name ? in->case_name : "-", in->step ? in->step : "-");
        ok = cJSON_AddStringToObject(e, "comment", comment) != NULL;
    }
    if (!ok) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

int cassette_export_har(const struct cassette *c, cJSON **out, struct util_error *err)
{
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *log = root ? cJSON_AddObjectToObject(root, "log") : NULL;
    cJSON *creator = log ? cJSON_CreateObject() : NULL;
    bool ok = log && creator && cJSON_AddStringToObject(log, "version", "1.2") &&
              cJSON_AddItemToObject(log, "creator", creator);
    if (!ok && creator && !cJSON_GetObjectItem(log, "creator"))
        cJSON_Delete(creator);
    ok = ok && cJSON_AddStringToObject(creator, "name", "ingestcheck") &&
         cJSON_AddStringToObject(creator, "version", c->version ? c->version : INGESTCHECK_VERSION);
    cJSON *entries = ok ? cJSON_AddArrayToObject(log, "entries") : NULL;
    ok = ok && entries;
    for (size_t i = 0; ok && i < c->count; i++) {
        cJSON *e = har_entry(c, &c->items[i].pub);
        ok = e && cJSON_AddItemToArray(entries, e);
        if (!ok)
            cJSON_Delete(e);
    }
    if (!ok) {
        cJSON_Delete(root);
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory building the HAR");
    }
    *out = root;
    return UTIL_OK;
}
