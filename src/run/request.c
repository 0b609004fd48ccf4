/* Building a step's request: the path with its parameters encoded, the
 * query in the parameter's style, the headers and the body; see internal.h. */
#include "run/internal.h"

#include "util/base64.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/secret.h"
#include "json/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int run_url_encode(struct util_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = UTIL_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if (p[0] == 0xc0 && p[1] == 0x80) { /* JSON_NUL: U+0000 */
            rc = util_buf_append(b, "%00", 3);
            p++;
        } else if (unreserved(*p)) {
            rc = util_buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = util_buf_append(b, e, 3);
        }
    }
    return rc;
}

/* Text of a scalar for a URL: strings raw, numbers without ".0", booleans. */
static char *scalar_text(const cJSON *v)
{
    char buf[64];
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    if (cJSON_IsBool(v))
        return strdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        if (json_is_integer(v) && fabs(v->valuedouble) < 9e15)
            snprintf(buf, sizeof(buf), "%.0f", v->valuedouble);
        else
            snprintf(buf, sizeof(buf), "%.17g", v->valuedouble);
        return strdup(buf);
    }
    if (cJSON_IsNull(v))
        return strdup("");
    return json_print(v, false);
}


void run_built_finish(struct built *b)
{
    http_request_finish(&b->req);
    free(b->path);
    cJSON_Delete(b->params);
    cJSON_Delete(b->headers);
    cJSON_Delete(b->body);
    free(b->body_raw);
}

static int set_header(cJSON *h, const char *name, const char *value)
{
    cJSON_DeleteItemFromObject(h, name); /* case-insensitive */
    if (!value)
        return UTIL_OK;
    return cJSON_AddStringToObject(h, name, value) ? UTIL_OK : UTIL_ERR_NOMEM;
}

static int build_path(struct worker *w, const struct case_step *s, struct built *b,
                      struct util_buf *url, struct util_error *err)
{
    int rc = UTIL_OK;
    cJSON *pp = cJSON_CreateObject();
    if (!pp || !cJSON_AddItemToObject(b->params, "path", pp)) {
        cJSON_Delete(pp);
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    size_t start = url->len;
    if (s->kind == CASE_STEP_RAW) {
        char *path = NULL;
        rc = case_template_expand_text(w->vars, s->path_template, &path, err);
        if (!rc && util_buf_puts(url, path))
            rc = util_error_set(err, UTIL_ERR_LIMIT, "URL too long");
        free(path);
    } else {
        for (const char *p = s->path_template; *p && !rc;) {
            if (*p != '{') {
                rc = util_buf_putc(url, *p++);
                continue;
            }
            const char *end = strchr(p, '}');
            if (!end)
                return util_error_set(err, UTIL_ERR_INVALID, "malformed path template %s",
                                      s->path_template);
            char name[256];
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->path_params, name);
            cJSON *val = NULL;
            rc = v ? case_template_expand_json(w->vars, v, &val, err)
                   : util_error_set(err, UTIL_ERR_INVALID, "no value for path parameter %s", name);
            char *text = rc ? NULL : scalar_text(val);
            if (!rc && !text)
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            if (!rc && run_url_encode(url, text))
                rc = util_error_set(err, UTIL_ERR_LIMIT, "URL too long");
            if (!rc) {
                cJSON_AddItemToObject(pp, name, val);
                val = NULL;
            }
            cJSON_Delete(val);
            free(text);
            p = end + 1;
        }
    }
    if (!rc) {
        size_t plen = strcspn(url->data + start, "?#");
        b->path = strndup(url->data + start, plen);
        if (!b->path)
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    return rc;
}

static int build_query(struct worker *w, const struct case_step *s, struct built *b,
                       struct util_buf *url, struct util_error *err)
{
    cJSON *qp = cJSON_CreateObject();
    if (!qp || !cJSON_AddItemToObject(b->params, "query", qp)) {
        cJSON_Delete(qp);
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    bool first = strchr(url->data ? url->data : "", '?') == NULL;
    const cJSON *it;
    int rc = UTIL_OK;
    cJSON_ArrayForEach(it, s->query)
    {
        cJSON *val = NULL;
        rc = case_template_expand_json(w->vars, it, &val, err);
        if (rc)
            return rc;
        bool explode = true;
        const cJSON *param = s->operation ? case_op_param(s->operation, it->string, "query") : NULL;
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(param, "explode");
        if (cJSON_IsBool(ex))
            explode = cJSON_IsTrue(ex);
        if (cJSON_IsArray(val) && !explode) {
            /* form, explode=false: one comma-joined value */
            rc = util_buf_puts(url, first ? "?" : "&");
            first = false;
            if (!rc)
                rc = run_url_encode(url, it->string);
            if (!rc)
                rc = util_buf_putc(url, '=');
            const cJSON *el;
            cJSON_ArrayForEach(el, val)
            {
                char *t = scalar_text(el);
                if (!t) {
                    rc = UTIL_ERR_NOMEM;
                    break;
                }
                if (!rc && el != val->child)
                    rc = util_buf_putc(url, ',');
                if (!rc)
                    rc = run_url_encode(url, t);
                free(t);
            }
        } else {
            const cJSON *el = cJSON_IsArray(val) ? val->child : val;
            for (; el && !rc; el = cJSON_IsArray(val) ? el->next : NULL) {
                char *t = scalar_text(el);
                if (!t) {
                    rc = UTIL_ERR_NOMEM;
                    break;
                }
                rc = util_buf_puts(url, first ? "?" : "&");
                first = false;
                if (!rc)
                    rc = run_url_encode(url, it->string);
                if (!rc)
                    rc = util_buf_putc(url, '=');
                if (!rc)
                    rc = run_url_encode(url, t);
                free(t);
            }
        }
        cJSON_AddItemToObject(qp, it->string, val);
        if (rc)
            return util_error_set(err, rc, rc == UTIL_ERR_NOMEM ? "out of memory" : "URL too long");
    }
    return UTIL_OK;
}

int run_build_request(struct worker *w, const struct case_step *s, struct built *b,
                         struct util_error *err)
{
    const struct run_config *cfg = w->sh->cfg;
    struct util_buf url;
    util_buf_init(&url, RUN_CAP_URL);
    int rc = UTIL_OK;
    b->params = cJSON_CreateObject();
    b->headers = cJSON_CreateObject();
    if (!b->params || !b->headers || util_buf_puts(&url, w->sh->base_url)) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    rc = build_path(w, s, b, &url, err);
    if (!rc)
        rc = build_query(w, s, b, &url, err);
    if (rc)
        goto cleanup;

    /* The body. */
    char *body_text = NULL;
    if (s->body) {
        rc = case_template_expand_json(w->vars, s->body, &b->body, err);
        if (!rc && !(body_text = json_print(b->body, false)))
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        if (!rc)
            rc = check_secrets_collect(&w->secrets, b->body);
    } else if (s->body_raw) {
        rc = case_template_expand_text(w->vars, s->body_raw, &b->body_raw, err);
        if (!rc && !(body_text = strdup(b->body_raw)))
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }

    /* Headers: defaults, then the step's (null removes one). */
    if (!rc)
        rc = set_header(b->headers, "accept", "application/json");
    if (!rc && cfg->app_id)
        rc = set_header(b->headers, "x-algolia-application-id", cfg->app_id);
    if (!rc && cfg->api_key)
        rc = set_header(b->headers, "x-algolia-api-key", cfg->api_key);
    if (!rc && w->sh->authorization)
        rc = set_header(b->headers, "authorization", w->sh->authorization);
    if (!rc && body_text)
        rc = set_header(b->headers, "content-type",
                        s->content_type ? s->content_type : "application/json");
    const cJSON *it;
    cJSON_ArrayForEach(it, s->headers)
    {
        if (rc)
            break;
        char *v = NULL;
        if (cJSON_IsString(it))
            rc = case_template_expand_text(w->vars, it->valuestring, &v, err);
        else if (!cJSON_IsNull(it) && !(v = scalar_text(it)))
            rc = UTIL_ERR_NOMEM;
        if (!rc)
            rc = set_header(b->headers, it->string, v);
        if (!rc && v && check_secret_header(it->string))
            rc = check_secrets_add(&w->secrets, v);
        free(v);
    }
    if (!rc)
        rc = http_request_set(&b->req, s->method, url.data);
    cJSON_ArrayForEach(it, b->headers)
    {
        if (!rc)
            rc = http_headers_add(&b->req.headers, it->string, it->valuestring);
    }
    if (!rc)
        rc = http_headers_check(&b->req.headers, err); /* a captured value may hold CR or LF */
    if (!rc && body_text)
        rc = http_request_set_body(&b->req, body_text, strlen(body_text));
    free(body_text);
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
cleanup:
    util_buf_finish(&url);
    return rc;
}

