/* The OpenAPI model: loading, operations, parameters, bodies, responses. */
#include "openapi/internal.h"

#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REF_HOPS 32

static const char *const METHODS[] = {"get",     "put",  "post",  "delete",
                                      "options", "head", "patch", "trace"};

int openapi_ref_pointer(const char *ref, struct util_buf *b)
{
    if (ref[0] != '#')
        return UTIL_ERR_INVALID;
    for (const char *p = ref + 1; *p; p++) {
        char c = *p;
        if (c == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], '\0'};
            c = (char)strtol(hex, NULL, 16);
            p += 2;
        }
        int rc = util_buf_putc(b, c);
        if (rc)
            return rc;
    }
    if (!b->data)
        return util_buf_puts(b, "");
    return UTIL_OK;
}

const cJSON *openapi_ref_target(const cJSON *doc, const cJSON *node)
{
    for (int hops = 0; node && hops <= MAX_REF_HOPS; hops++) {
        const cJSON *ref =
            cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, "$ref") : NULL;
        if (!ref)
            return node;
        if (!cJSON_IsString(ref) || ref->valuestring[0] != '#')
            return NULL;
        node = json_pointer_get(doc, ref->valuestring + 1, true);
    }
    return NULL;
}

void openapi_ref_problem(const cJSON *doc, const cJSON *node, char *out, size_t cap)
{
    const cJSON *seen[MAX_REF_HOPS + 2];
    const char *refs[MAX_REF_HOPS + 2];
    size_t n = 0;
    snprintf(out, cap, "$ref does not resolve");
    while (node && n <= MAX_REF_HOPS) {
        const cJSON *ref =
            cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, "$ref") : NULL;
        if (!ref)
            return;
        for (size_t i = 0; i < n; i++) {
            if (seen[i] != node)
                continue;
            /* refs[i..n) lead from node back to itself */
            size_t len = (size_t)snprintf(out, cap, "reference cycle with no schema in it: ");
            for (size_t k = i; k < n && len < cap; k++)
                len += (size_t)snprintf(out + len, cap - len, "%s -> ", refs[k]);
            if (len < cap)
                snprintf(out + len, cap - len, "%s", refs[i]);
            return;
        }
        if (!cJSON_IsString(ref)) {
            snprintf(out, cap, "$ref is not a string");
            return;
        }
        seen[n] = node;
        refs[n++] = ref->valuestring;
        if (ref->valuestring[0] != '#') {
            snprintf(out, cap,
                     "$ref %s does not resolve (only references inside the document, "
                     "#/..., are supported)",
                     ref->valuestring);
            return;
        }
        const cJSON *next = json_pointer_get(doc, ref->valuestring + 1, true);
        if (!next) {
            snprintf(out, cap, "$ref %s does not resolve", ref->valuestring);
            return;
        }
        node = next;
    }
    if (node)
        snprintf(out, cap, "$ref chain longer than %d references", MAX_REF_HOPS);
}

char *openapi_schema_ref_name(const char *ref)
{
    static const char prefix[] = "#/components/schemas/";
    if (strncmp(ref, prefix, sizeof(prefix) - 1) != 0)
        return NULL;
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    char *out = NULL;
    if (openapi_ref_pointer(ref, &b) != UTIL_OK)
        goto cleanup;
    /* b holds "/components/schemas/<escaped name>"; a '/' after it would be
     * a deeper pointer. */
    const char *tok = b.data + sizeof(prefix) - 2;
    if (strchr(tok, '/'))
        goto cleanup;
    out = malloc(strlen(tok) + 1);
    if (!out)
        goto cleanup;
    char *q = out;
    for (const char *p = tok; *p; p++) {
        if (p[0] == '~' && p[1] == '1') {
            *q++ = '/';
            p++;
        } else if (p[0] == '~' && p[1] == '0') {
            *q++ = '~';
            p++;
        } else {
            *q++ = *p;
        }
    }
    *q = '\0';
cleanup:
    util_buf_finish(&b);
    return out;
}

const cJSON *openapi_resolve(const struct openapi *spec, const cJSON *node)
{
    return spec ? openapi_ref_target(spec->doc, node) : NULL;
}

static int invalid_at(const struct openapi *spec, struct util_error *err, const char *pointer,
                      const char *fmt, const char *detail)
{
    int line = openapi_line_of(spec, pointer);
    if (!pointer || !*pointer)
        pointer = "the document root";
    if (line > 0)
        util_error_set(err, UTIL_ERR_INVALID, "%s:%d: %s%s (at %s)", spec->source, line, fmt,
                       detail ? detail : "", pointer);
    else
        util_error_set(err, UTIL_ERR_INVALID, "%s: %s%s (at %s)", spec->source, fmt,
                       detail ? detail : "", pointer);
    util_error_at(err, spec->source, line, 0);
    return UTIL_ERR_INVALID;
}

/* invalid_at for a reference of node that does not lead to an object. */
static int ref_invalid(const struct openapi *spec, struct util_error *err, const char *pointer,
                       const char *what, const cJSON *node)
{
    char why[UTIL_ERROR_MESSAGE_MAX / 2];
    openapi_ref_problem(spec->doc, node, why, sizeof(why));
    return invalid_at(spec, err, pointer, what, why);
}

static char *dup_buf(const struct util_buf *b)
{
    const char *s = b->data ? b->data : "";
    size_t n = b->len;
    char *o = malloc(n + 1);
    if (o) {
        memcpy(o, s, n);
        o[n] = '\0';
    }
    return o;
}

/* Pointer of a $ref target ("#/components/parameters/x" -> "/components/..."),
 * or of the node itself (here) when it is not a reference. */
static char *target_pointer(const cJSON *node, const struct util_buf *here)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
    if (!cJSON_IsString(ref))
        return dup_buf(here);
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    char *out = NULL;
    if (openapi_ref_pointer(ref->valuestring, &b) == UTIL_OK)
        out = dup_buf(&b);
    util_buf_finish(&b);
    return out;
}

static void free_operation(struct openapi_operation *op)
{
    free(op->tags);
    free(op->acl);
    for (size_t i = 0; i < op->nparams; i++) {
        free(op->params[i].pointer);
        free(op->params[i].use_pointer);
    }
    free(op->params);
    if (op->body)
        free(op->body->pointer);
    free(op->body);
    for (size_t i = 0; i < op->nresponses; i++) {
        free(op->responses[i].pointer);
        free(op->responses[i].use_pointer);
    }
    free(op->responses);
    free(op->pointer);
}

void openapi_destroy(struct openapi *spec)
{
    if (!spec)
        return;
    for (size_t i = 0; i < spec->nops; i++)
        free_operation(&spec->ops[i]);
    free(spec->ops);
    cJSON_Delete(spec->doc);
    openapi_line_table_destroy(spec->lines);
    free(spec->source);
    free(spec);
}

static int string_array(const cJSON *arr, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(arr))
        return UTIL_OK;
    size_t count = (size_t)cJSON_GetArraySize(arr);
    const char **v = calloc(count ? count : 1, sizeof(*v));
    if (!v)
        return UTIL_ERR_NOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it)) {
            free(v);
            return UTIL_ERR_INVALID;
        }
        v[(*n)++] = it->valuestring;
    }
    *out = v;
    return UTIL_OK;
}

static bool schema_is_array(const struct openapi *spec, const cJSON *schema)
{
    const cJSON *s = openapi_ref_target(spec->doc, schema);
    const cJSON *t = s ? cJSON_GetObjectItemCaseSensitive(s, "type") : NULL;
    return cJSON_IsString(t) && !strcmp(t->valuestring, "array");
}

static int fill_parameter(const struct openapi *spec, const cJSON *entry,
                          const struct util_buf *here, struct openapi_parameter *p,
                          struct util_error *err)
{
    memset(p, 0, sizeof(*p));
    const cJSON *obj = openapi_ref_target(spec->doc, entry);
    p->use_pointer = dup_buf(here);
    p->pointer = target_pointer(entry, here);
    if (!p->use_pointer || !p->pointer)
        return UTIL_ERR_NOMEM;
    if (!cJSON_IsObject(obj))
        return ref_invalid(spec, err, here->data, "parameter ", entry);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(obj, "in");
    if (!cJSON_IsString(name) || !cJSON_IsString(in))
        return invalid_at(spec, err, p->pointer, "parameter without a string name and in", NULL);
    p->name = name->valuestring;
    p->in = in->valuestring;
    if (!strcmp(p->in, "query"))
        p->where = OPENAPI_IN_QUERY;
    else if (!strcmp(p->in, "path"))
        p->where = OPENAPI_IN_PATH;
    else if (!strcmp(p->in, "header"))
        p->where = OPENAPI_IN_HEADER;
    else if (!strcmp(p->in, "cookie"))
        p->where = OPENAPI_IN_COOKIE;
    else
        return invalid_at(spec, err, p->pointer,
                          "parameter location is not one of query, path, "
                          "header, cookie: ",
                          p->in);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(obj, "required");
    p->required = cJSON_IsTrue(req);
    if (p->where == OPENAPI_IN_PATH && !p->required)
        return invalid_at(spec, err, p->pointer, "path parameter is not required: ", p->name);
    const cJSON *style = cJSON_GetObjectItemCaseSensitive(obj, "style");
    const cJSON *explode = cJSON_GetObjectItemCaseSensitive(obj, "explode");
    p->style_declared = cJSON_IsString(style);
    p->explode_declared = cJSON_IsBool(explode);
    if (p->style_declared)
        p->style = style->valuestring;
    else
        p->style =
            (p->where == OPENAPI_IN_QUERY || p->where == OPENAPI_IN_COOKIE) ? "form" : "simple";
    p->explode = p->explode_declared ? cJSON_IsTrue(explode) : !strcmp(p->style, "form");
    p->schema = cJSON_GetObjectItemCaseSensitive(obj, "schema");
    p->example = cJSON_GetObjectItemCaseSensitive(obj, "example");
    p->is_array = p->schema && schema_is_array(spec, p->schema);
    p->accept_both_forms =
        p->is_array && p->where == OPENAPI_IN_QUERY && !p->style_declared && !p->explode_declared;
    return UTIL_OK;
}

/* First media type of a content map: (type, schema). */
static void first_media(const cJSON *content, const char **type, const cJSON **schema)
{
    *type = NULL;
    *schema = NULL;
    if (!cJSON_IsObject(content) || !content->child)
        return;
    *type = content->child->string;
    *schema = cJSON_GetObjectItemCaseSensitive(content->child, "schema");
}

static int add_params(const struct openapi *spec, const cJSON *list, struct util_buf *here,
                      struct openapi_operation *op, struct util_error *err)
{
    if (!list)
        return UTIL_OK;
    if (!cJSON_IsArray(list))
        return invalid_at(spec, err, here->data, "parameters is not an array", NULL);
    size_t base = here->len;
    size_t i = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, list)
    {
        struct openapi_parameter p;
        memset(&p, 0, sizeof(p));
        int rc = json_pointer_append(here, "parameters");
        if (!rc)
            rc = json_pointer_append_index(here, i++);
        if (!rc)
            rc = fill_parameter(spec, entry, here, &p, err);
        here->len = base;
        here->data[base] = '\0';
        if (rc) {
            free(p.pointer);
            free(p.use_pointer);
            return rc;
        }
        /* An operation-level parameter overrides a path-level one. */
        size_t j = 0;
        while (j < op->nparams &&
               !(strcmp(op->params[j].name, p.name) == 0 && strcmp(op->params[j].in, p.in) == 0))
            j++;
        if (j < op->nparams) {
            free(op->params[j].pointer);
            free(op->params[j].use_pointer);
            op->params[j] = p;
            continue;
        }
        struct openapi_parameter *np = realloc(op->params, (op->nparams + 1) * sizeof(*np));
        if (!np) {
            free(p.pointer);
            free(p.use_pointer);
            return UTIL_ERR_NOMEM;
        }
        op->params = np;
        op->params[op->nparams++] = p;
    }
    return UTIL_OK;
}

static int fill_body(const struct openapi *spec, const cJSON *rb, struct util_buf *here,
                     struct openapi_operation *op, struct util_error *err)
{
    op->body = calloc(1, sizeof(*op->body));
    if (!op->body)
        return UTIL_ERR_NOMEM;
    op->body->pointer = target_pointer(rb, here);
    if (!op->body->pointer)
        return UTIL_ERR_NOMEM;
    const cJSON *obj = openapi_ref_target(spec->doc, rb);
    if (!cJSON_IsObject(obj))
        return ref_invalid(spec, err, here->data, "requestBody ", rb);
    op->body->required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "required"));
    first_media(cJSON_GetObjectItemCaseSensitive(obj, "content"), &op->body->content_type,
                &op->body->schema);
    return UTIL_OK;
}

static int fill_responses(const struct openapi *spec, const cJSON *responses, struct util_buf *here,
                          struct openapi_operation *op, struct util_error *err)
{
    if (!cJSON_IsObject(responses))
        return invalid_at(spec, err, here->data, "operation without a responses object", NULL);
    size_t n = (size_t)cJSON_GetArraySize(responses);
    op->responses = calloc(n ? n : 1, sizeof(*op->responses));
    if (!op->responses)
        return UTIL_ERR_NOMEM;
    size_t base = here->len;
    const cJSON *r;
    cJSON_ArrayForEach(r, responses)
    {
        struct openapi_response *out = &op->responses[op->nresponses++];
        int rc = json_pointer_append(here, "responses");
        if (!rc)
            rc = json_pointer_append(here, r->string);
        if (rc)
            return rc;
        out->status = r->string;
        out->use_pointer = dup_buf(here);
        out->pointer = target_pointer(r, here);
        if (!out->use_pointer || !out->pointer)
            return UTIL_ERR_NOMEM;
        const cJSON *obj = openapi_ref_target(spec->doc, r);
        if (!cJSON_IsObject(obj))
            return ref_invalid(spec, err, here->data, "response ", r);
        here->len = base;
        here->data[base] = '\0';
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(obj, "description");
        out->description = cJSON_IsString(d) ? d->valuestring : NULL;
        first_media(cJSON_GetObjectItemCaseSensitive(obj, "content"), &out->content_type,
                    &out->schema);
    }
    return UTIL_OK;
}

static int add_operation(struct openapi *spec, const char *path, const char *method,
                         const cJSON *item, const cJSON *path_params, size_t *alloc,
                         struct util_error *err)
{
    if (spec->nops == *alloc) {
        size_t n = *alloc ? *alloc * 2 : 64;
        struct openapi_operation *p = realloc(spec->ops, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        spec->ops = p;
        *alloc = n;
    }
    struct openapi_operation *op = &spec->ops[spec->nops];
    memset(op, 0, sizeof(*op));
    spec->nops++;
    op->index = spec->nops - 1;
    op->path = path;
    op->method = method;
    for (size_t i = 0; method[i] && i < sizeof(op->method_upper) - 1; i++)
        op->method_upper[i] = (char)toupper((unsigned char)method[i]);
    struct util_buf here;
    util_buf_init(&here, UTIL_CAP_MESSAGE);
    int rc = json_pointer_append(&here, "paths");
    if (!rc)
        rc = json_pointer_append(&here, path);
    if (rc)
        goto cleanup;
    size_t path_len = here.len;
    if ((rc = json_pointer_append(&here, method)))
        goto cleanup;
    op->pointer = dup_buf(&here);
    if (!op->pointer) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    if (!cJSON_IsObject(item)) {
        rc = invalid_at(spec, err, here.data, "operation is not an object", NULL);
        goto cleanup;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "operationId");
    if (!cJSON_IsString(id) || !id->valuestring[0]) {
        rc = invalid_at(spec, err, here.data, "operation without an operationId", NULL);
        goto cleanup;
    }
    op->operation_id = id->valuestring;
    for (size_t i = 0; i + 1 < spec->nops; i++) {
        if (!strcmp(spec->ops[i].operation_id, op->operation_id)) {
            rc = invalid_at(spec, err, here.data, "duplicate operationId ", op->operation_id);
            goto cleanup;
        }
    }
    const cJSON *summary = cJSON_GetObjectItemCaseSensitive(item, "summary");
    op->summary = cJSON_IsString(summary) ? summary->valuestring : NULL;
    if ((rc =
             string_array(cJSON_GetObjectItemCaseSensitive(item, "tags"), &op->tags, &op->ntags))) {
        if (rc == UTIL_ERR_INVALID)
            invalid_at(spec, err, here.data, "tags is not an array of strings", NULL);
        goto cleanup;
    }
    const cJSON *acl = cJSON_GetObjectItemCaseSensitive(item, "x-acl");
    op->acl_documented = acl != NULL;
    if ((rc = string_array(acl, &op->acl, &op->nacl))) {
        if (rc == UTIL_ERR_INVALID)
            invalid_at(spec, err, here.data, "x-acl is not an array of strings", NULL);
        goto cleanup;
    }
    /* Path-level parameters first, with pointers under the path item. */
    if (path_params) {
        struct util_buf pb;
        util_buf_init(&pb, UTIL_CAP_MESSAGE);
        rc = util_buf_append(&pb, here.data, path_len);
        if (!rc)
            rc = add_params(spec, path_params, &pb, op, err);
        util_buf_finish(&pb);
        if (rc)
            goto cleanup;
    }
    if ((rc = add_params(spec, cJSON_GetObjectItemCaseSensitive(item, "parameters"), &here, op,
                         err)))
        goto cleanup;
    const cJSON *rb = cJSON_GetObjectItemCaseSensitive(item, "requestBody");
    if (rb) {
        size_t base = here.len;
        if ((rc = json_pointer_append(&here, "requestBody")))
            goto cleanup;
        if ((rc = fill_body(spec, rb, &here, op, err)))
            goto cleanup;
        here.len = base;
        here.data[base] = '\0';
    }
    rc = fill_responses(spec, cJSON_GetObjectItemCaseSensitive(item, "responses"), &here, op, err);
cleanup:
    util_buf_finish(&here);
    return rc;
}

static int index_operations(struct openapi *spec, struct util_error *err)
{
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(spec->doc, "paths");
    /* OpenAPI 3.1 makes paths optional (a components-only document). */
    if (!paths && strncmp(spec->openapi, "3.0", 3) != 0)
        return UTIL_OK;
    if (!cJSON_IsObject(paths))
        return invalid_at(spec, err, "", "document without a paths object", NULL);
    size_t alloc = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, paths)
    {
        if (!cJSON_IsObject(item))
            continue;
        const cJSON *path_params = cJSON_GetObjectItemCaseSensitive(item, "parameters");
        const cJSON *m;
        /* Methods in document order, as the spec lists them. */
        cJSON_ArrayForEach(m, item)
        {
            bool is_method = false;
            for (size_t i = 0; i < sizeof(METHODS) / sizeof(METHODS[0]); i++)
                is_method = is_method || !strcmp(m->string, METHODS[i]);
            if (!is_method)
                continue;
            int rc = add_operation(spec, item->string, m->string, m, path_params, &alloc, err);
            if (rc) {
                if (rc == UTIL_ERR_NOMEM)
                    util_error_set(err, rc, "out of memory");
                return rc;
            }
        }
    }
    return UTIL_OK;
}

int openapi_load_text(const char *text, size_t len, const char *name, struct openapi **out,
                      struct util_error *err)
{
    *out = NULL;
    int rc;
    struct openapi *spec = calloc(1, sizeof(*spec));
    if (!spec || !(spec->source = strdup(name ? name : "<spec>"))) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    openapi_sha256_hex(text, len, spec->sha256);
    if ((rc = openapi_yaml_parse(text, len, spec->source, &spec->doc, &spec->lines, err)))
        goto cleanup;
    if (!cJSON_IsObject(spec->doc)) {
        rc = invalid_at(spec, err, "", "the document is not a mapping", NULL);
        goto cleanup;
    }
    const cJSON *openapi = cJSON_GetObjectItemCaseSensitive(spec->doc, "openapi");
    if (!cJSON_IsString(openapi) || strncmp(openapi->valuestring, "3.", 2) != 0) {
        rc = invalid_at(spec, err, "", "expected an OpenAPI 3.x document (openapi: 3.x.y)", NULL);
        goto cleanup;
    }
    spec->openapi = openapi->valuestring;
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(spec->doc, "info");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(info, "title");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(info, "version");
    if (!cJSON_IsString(title) || !cJSON_IsString(version)) {
        rc = invalid_at(spec, err, "/info", "expected info.title and info.version strings", NULL);
        goto cleanup;
    }
    spec->title = title->valuestring;
    spec->version = version->valuestring;
    if ((rc = index_operations(spec, err)))
        goto cleanup;
    *out = spec;
    spec = NULL;
cleanup:
    openapi_destroy(spec);
    return rc;
}

int openapi_load(const char *path, struct openapi **out, struct util_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = util_file_read(path, UTIL_CAP_SPEC_FILE, &text, &len, err);
    if (rc == UTIL_OK)
        rc = openapi_load_text(text, len, path, out, err);
    free(text);
    return rc;
}

const cJSON *openapi_document(const struct openapi *spec)
{
    return spec->doc;
}

const char *openapi_title(const struct openapi *spec)
{
    return spec->title;
}

const char *openapi_version(const struct openapi *spec)
{
    return spec->version;
}

const char *openapi_openapi_version(const struct openapi *spec)
{
    return spec->openapi;
}

const char *openapi_source_name(const struct openapi *spec)
{
    return spec->source;
}

const char *openapi_sha256(const struct openapi *spec)
{
    return spec->sha256;
}

size_t openapi_operation_count(const struct openapi *spec)
{
    return spec->nops;
}

const struct openapi_operation *openapi_operation_at(const struct openapi *spec, size_t i)
{
    return i < spec->nops ? &spec->ops[i] : NULL;
}

const struct openapi_operation *openapi_operation_find(const struct openapi *spec,
                                                       const char *operation_id)
{
    for (size_t i = 0; i < spec->nops; i++)
        if (!strcmp(spec->ops[i].operation_id, operation_id))
            return &spec->ops[i];
    return NULL;
}

const struct openapi_response *openapi_operation_response(const struct openapi_operation *op,
                                                          const char *status)
{
    for (size_t i = 0; i < op->nresponses; i++)
        if (!strcmp(op->responses[i].status, status))
            return &op->responses[i];
    return NULL;
}

const struct openapi_parameter *openapi_operation_parameter(const struct openapi_operation *op,
                                                            const char *name, const char *in)
{
    for (size_t i = 0; i < op->nparams; i++)
        if (!strcmp(op->params[i].name, name) && (!in || !strcmp(op->params[i].in, in)))
            return &op->params[i];
    return NULL;
}

int openapi_line_of(const struct openapi *spec, const char *pointer)
{
    return spec ? openapi_line_table_lookup(spec->lines, pointer, NULL) : 0;
}
