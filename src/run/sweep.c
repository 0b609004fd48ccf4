/* `sweep`: listing what carries a prefix and deleting it in dependency
 * order; see sweep.h. */
#include "run/sweep.h"

#include "run/internal.h"

#include "json/json.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

/* One kind of resource: its list and delete operations (as the spec
 * writes them), the member of the list answer holding the items, and the
 * members of an item holding its ID and name. */
struct kind_ops {
    enum run_sweep_kind kind;
    const char *list_path, *delete_path, *member, *id_field, *name_field;
};

static const struct kind_ops kinds[] = {
    {RUN_SWEEP_TASK, "/1/tasks", "/1/tasks/{taskID}", "tasks", "taskID", NULL},
    {RUN_SWEEP_SOURCE, "/1/sources", "/1/sources/{sourceID}", "sources", "sourceID", "name"},
    {RUN_SWEEP_DESTINATION, "/1/destinations", "/1/destinations/{destinationID}", "destinations",
     "destinationID", "name"},
    {RUN_SWEEP_AUTHENTICATION, "/1/authentications", "/1/authentications/{authenticationID}",
     "authentications", "authenticationID", "name"},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const char *run_sweep_kind_name(enum run_sweep_kind kind)
{
    static const char *const names[] = {"task", "source", "destination", "authentication"};
    return (unsigned)kind < 4 ? names[kind] : "resource";
}

void run_sweep_result_init(struct run_sweep_result *r)
{
    memset(r, 0, sizeof(*r));
}

void run_sweep_result_finish(struct run_sweep_result *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].id);
        free(r->items[i].name);
        free(r->items[i].error);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

size_t run_sweep_failures(const struct run_sweep_result *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += r->items[i].attempted && !r->items[i].deleted;
    return n;
}

/* Whether the operations document has method at exactly path. */
static bool has_route(const cJSON *operations, const char *method, const char *path)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(operations, "operations"))
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "method");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "path");
        if (cJSON_IsString(m) && cJSON_IsString(p) && strcasecmp(m->valuestring, method) == 0 &&
            strcmp(p->valuestring, path) == 0)
            return true;
    }
    return false;
}

/* Sends method url with the target's headers; resp filled. A network
 * failure or a local error fails with err set. */
static int sweep_send(struct http_transport *t, const struct run_sweep_target *tgt, const char *method,
                const char *url, struct http_response *resp, struct util_error *err)
{
    struct http_request req;
    http_request_init(&req);
    int rc = http_request_set(&req, method, url);
    if (!rc)
        rc = http_headers_add(&req.headers, "accept", "application/json");
    if (!rc && tgt->app_id)
        rc = http_headers_add(&req.headers, "x-algolia-application-id", tgt->app_id);
    if (!rc && tgt->api_key)
        rc = http_headers_add(&req.headers, "x-algolia-api-key", tgt->api_key);
    if (!rc && tgt->authorization)
        rc = http_headers_add(&req.headers, "authorization", tgt->authorization);
    if (rc)
        util_error_set(err, rc, "out of memory");
    if (!rc)
        rc = http_send(t, &req, resp, err);
    if (!rc && resp->failure != HTTP_ERR_NONE)
        rc = util_error_set(err, UTIL_ERR_IO, "%s %s: %s", method, url,
                            err->message[0] ? err->message : http_failure_name(resp->failure));
    http_request_finish(&req);
    return rc;
}

/* The target's base URL without a trailing '/', then path. */
static int url_of(struct util_buf *b, const struct run_sweep_target *tgt, const char *path)
{
    size_t n = strlen(tgt->base_url);
    while (n && tgt->base_url[n - 1] == '/')
        n--;
    util_buf_reset(b);
    int rc = util_buf_append(b, tgt->base_url, n);
    return rc ? rc : util_buf_puts(b, path);
}

static int add_item(struct run_sweep_result *out, enum run_sweep_kind kind, const char *id,
                    const char *name)
{
    if (out->count >= RUN_CAP_SWEEP_ITEMS)
        return UTIL_ERR_LIMIT;
    if (out->count == out->alloc) {
        size_t na = out->alloc ? out->alloc * 2 : 16;
        struct run_sweep_item *ni = realloc(out->items, na * sizeof(*ni));
        if (!ni)
            return UTIL_ERR_NOMEM;
        out->items = ni;
        out->alloc = na;
    }
    struct run_sweep_item *it = &out->items[out->count];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    it->id = strdup(id);
    it->name = strdup(name ? name : "");
    if (!it->id || !it->name) {
        free(it->id);
        free(it->name);
        return UTIL_ERR_NOMEM;
    }
    out->count++;
    return UTIL_OK;
}

/* Appends every item of k's list (all pages) to *items, a JSON array. */
static int list_all(struct http_transport *t, const struct run_sweep_target *tgt,
                    const struct kind_ops *k, cJSON *items, struct util_error *err)
{
    struct util_buf url;
    util_buf_init(&url, RUN_CAP_URL);
    int rc = UTIL_OK;
    for (long page = 1; !rc; page++) {
        struct http_response resp;
        http_response_init(&resp);
        cJSON *doc = NULL;
        char q[64];
        snprintf(q, sizeof(q), "?page=%ld&itemsPerPage=%d", page, RUN_SWEEP_PAGE_ITEMS);
        if (page > RUN_CAP_SWEEP_PAGES)
            rc = util_error_set(err, UTIL_ERR_LIMIT, "GET %s: more than %d pages", k->list_path,
                                RUN_CAP_SWEEP_PAGES);
        else if (url_of(&url, tgt, k->list_path) || util_buf_puts(&url, q))
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        else
            rc = sweep_send(t, tgt, "GET", url.data, &resp, err);
        if (!rc && (resp.status < 200 || resp.status > 299))
            rc = util_error_set(err, UTIL_ERR_IO, "GET %s answered %d", k->list_path,
                                resp.status);
        if (!rc && json_parse(resp.body ? resp.body : "", resp.body_len, k->list_path, &doc, err))
            rc = util_error_set(err, UTIL_ERR_IO, "GET %s: the answer is not JSON",
                                k->list_path);
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, k->member);
        if (!rc && !cJSON_IsArray(arr))
            rc = util_error_set(err, UTIL_ERR_IO, "GET %s: the answer has no array %s",
                                k->list_path, k->member);
        size_t got = 0;
        const cJSON *it, *walk = rc ? NULL : arr;
        cJSON_ArrayForEach(it, walk)
        {
            cJSON *copy = cJSON_Duplicate(it, true);
            if (!copy || !cJSON_AddItemToArray(items, copy)) {
                cJSON_Delete(copy);
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
                break;
            }
            got++;
        }
        /* The last page: pagination.nbPages reached, nbItems seen, or an
         * empty page. */
        const cJSON *pag = cJSON_GetObjectItemCaseSensitive(doc, "pagination");
        const cJSON *pages = cJSON_GetObjectItemCaseSensitive(pag, "nbPages");
        const cJSON *nitems = cJSON_GetObjectItemCaseSensitive(pag, "nbItems");
        bool last = got == 0 || (cJSON_IsNumber(pages) && (double)page >= pages->valuedouble) ||
                    (cJSON_IsNumber(nitems) &&
                     (double)cJSON_GetArraySize(items) >= nitems->valuedouble) ||
                    (!cJSON_IsNumber(pages) && !cJSON_IsNumber(nitems));
        cJSON_Delete(doc);
        http_response_finish(&resp);
        if (!rc && last)
            break;
    }
    util_buf_finish(&url);
    return rc;
}

static const char *str_member(const cJSON *o, const char *name)
{
    const cJSON *v = name ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The name of the swept source or destination whose ID is id, else NULL. */
static const char *swept_name(const struct run_sweep_result *out, const char *id)
{
    for (size_t i = 0; id && i < out->count; i++)
        if ((out->items[i].kind == RUN_SWEEP_SOURCE ||
             out->items[i].kind == RUN_SWEEP_DESTINATION) &&
            strcmp(out->items[i].id, id) == 0)
            return out->items[i].name;
    return NULL;
}

/* Deletes item through k's delete operation; the outcome goes into item. */
static int delete_item(struct http_transport *t, const struct run_sweep_target *tgt,
                       const struct kind_ops *k, struct run_sweep_item *item)
{
    struct util_buf url;
    struct http_response resp;
    struct util_error err;
    util_error_clear(&err);
    util_buf_init(&url, RUN_CAP_URL);
    http_response_init(&resp);
    const char *brace = strchr(k->delete_path, '{');
    int rc = url_of(&url, tgt, "");
    if (!rc)
        rc = util_buf_append(&url, k->delete_path, (size_t)(brace - k->delete_path));
    if (!rc)
        rc = run_url_encode(&url, item->id);
    if (rc)
        goto cleanup;
    item->attempted = true;
    rc = sweep_send(t, tgt, "DELETE", url.data, &resp, &err);
    if (rc == UTIL_ERR_NOMEM)
        goto cleanup;
    rc = UTIL_OK;
    item->status = resp.status;
    item->deleted = err.message[0] == '\0' && resp.status >= 200 && resp.status <= 299;
    if (!item->deleted) {
        struct util_buf why;
        util_buf_init(&why, 512);
        if (err.message[0])
            rc = util_buf_puts(&why, err.message);
        else {
            cJSON *doc = NULL;
            struct util_error perr;
            const char *msg = NULL;
            if (resp.body && !json_parse(resp.body, resp.body_len, "answer", &doc, &perr))
                msg = str_member(doc, "message");
            rc = util_buf_printf(&why, "answered %d%s%s", resp.status, msg ? ": " : "",
                                 msg ? msg : "");
            cJSON_Delete(doc);
        }
        if (rc == UTIL_ERR_LIMIT)
            rc = UTIL_OK; /* cut */
        if (!rc && !(item->error = util_buf_steal(&why)))
            rc = UTIL_ERR_NOMEM;
        util_buf_finish(&why);
    }
cleanup:
    http_response_finish(&resp);
    util_buf_finish(&url);
    return rc;
}

int run_sweep(struct http_transport *t, const cJSON *operations, const struct run_sweep_target *tgt,
              const char *prefix, bool delete, struct run_sweep_result *out,
              struct util_error *err)
{
    cJSON *lists[NKINDS] = {0};
    int rc = UTIL_OK;
    size_t plen = prefix ? strlen(prefix) : 0;
    if (plen < RUN_SWEEP_MIN_PREFIX)
        return util_error_set(err, UTIL_ERR_USAGE, "the prefix must be at least %d bytes long",
                              RUN_SWEEP_MIN_PREFIX);
    for (size_t i = 0; i < NKINDS && !rc; i++) {
        if (!has_route(operations, "GET", kinds[i].list_path))
            rc = util_error_set(err, UTIL_ERR_USAGE, "the loaded spec has no operation GET %s",
                                kinds[i].list_path);
        else if (delete && !has_route(operations, "DELETE", kinds[i].delete_path))
            rc = util_error_set(err, UTIL_ERR_USAGE, "the loaded spec has no operation DELETE %s",
                                kinds[i].delete_path);
    }
    /* Everything is listed before anything is deleted. */
    for (size_t i = 0; i < NKINDS && !rc; i++) {
        if (!(lists[i] = cJSON_CreateArray()))
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        else
            rc = list_all(t, tgt, &kinds[i], lists[i], err);
    }
    /* Named resources first (tasks are selected by them), then tasks; the
     * items are then put in deletion order. */
    for (size_t i = 1; i < NKINDS && !rc; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, lists[i])
        {
            const char *id = str_member(it, kinds[i].id_field);
            const char *name = str_member(it, kinds[i].name_field);
            if (id && name && strncmp(name, prefix, plen) == 0 &&
                (rc = add_item(out, kinds[i].kind, id, name)))
                break;
        }
    }
    const cJSON *it, *tasks = rc ? NULL : lists[0];
    cJSON_ArrayForEach(it, tasks)
    {
        const char *id = str_member(it, kinds[0].id_field);
        const char *by = swept_name(out, str_member(it, "sourceID"));
        if (!by)
            by = swept_name(out, str_member(it, "destinationID"));
        if (id && by && (rc = add_item(out, RUN_SWEEP_TASK, id, by)))
            break;
    }
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
    else if (rc == UTIL_ERR_LIMIT)
        util_error_set(err, rc, "more than %d resources to sweep", RUN_CAP_SWEEP_ITEMS);
    if (rc)
        goto cleanup;
    /* Deletion order: the kinds' order (tasks first), stable within one. */
    struct run_sweep_item *sorted = malloc((out->count ? out->count : 1) * sizeof(*sorted));
    if (!sorted) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    size_t n = 0;
    for (size_t k = 0; k < NKINDS; k++)
        for (size_t i = 0; i < out->count; i++)
            if (out->items[i].kind == kinds[k].kind)
                sorted[n++] = out->items[i];
    if (n > 0) /* out->items is NULL when nothing was selected */
        memcpy(out->items, sorted, n * sizeof(*sorted));
    free(sorted);
    for (size_t i = 0; delete && i < out->count && !rc; i++)
        if ((rc = delete_item(t, tgt, &kinds[out->items[i].kind], &out->items[i])))
            util_error_set(err, rc, "out of memory");
cleanup:
    for (size_t i = 0; i < NKINDS; i++)
        cJSON_Delete(lists[i]);
    return rc;
}
