/* Listings: filter, stable sort by a query key, paginate; the time window
 * of runs and events. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- listing: filter, stable sort, paginate ---- */

/* The sort value of item: a string (NULL sorts first) or a number. */
static void sort_value(const struct sorter *s, const void *item, const char **str, int64_t *num,
                       uint64_t *seq)
{
    *str = NULL;
    *num = 0;
    if (s->kind == KIND_EVENT) {
        const struct mock_event *e = ((const struct event_ref *)item)->ev;
        *seq = e->seq;
        if (s->key == KEY_STATUS)
            *str = e->status;
        else if (s->key == KEY_TYPE)
            *str = e->type;
        else
            *num = e->published;
        return;
    }
    const struct mock_res *h = item;
    *seq = h->seq;
    switch (s->key) {
    case KEY_CREATED:
        *num = h->created;
        return;
    case KEY_UPDATED:
        *num = h->updated;
        return;
    default:
        break;
    }
    switch (s->kind) {
    case KIND_AUTH: {
        const struct mock_auth *a = item;
        *str = s->key == KEY_NAME ? a->name : s->key == KEY_TYPE ? a->type : a->platform;
        return;
    }
    case KIND_SOURCE: {
        const struct mock_source *x = item;
        *str = s->key == KEY_NAME ? x->name : x->type;
        return;
    }
    case KIND_DEST: {
        const struct mock_dest *x = item;
        *str = s->key == KEY_NAME ? x->name : x->type;
        return;
    }
    case KIND_TASK: {
        const struct mock_task *t = item;
        if (s->key == KEY_ENABLED)
            *num = t->enabled;
        else
            *str = s->key == KEY_TRIGGER ? t->trigger_type : t->action;
        return;
    }
    case KIND_RUN:
        *str = ((const struct mock_run *)item)->status;
        return;
    default:
        return;
    }
}

static bool string_key(const struct sorter *s)
{
    return !(s->key == KEY_CREATED || s->key == KEY_UPDATED || s->key == KEY_ENABLED ||
             s->key == KEY_PUBLISHED);
}

/* (key, creation order) ascending. */
static int compare(const struct sorter *s, const void *a, const void *b)
{
    const char *sa, *sb;
    int64_t na, nb;
    uint64_t qa, qb;
    sort_value(s, a, &sa, &na, &qa);
    sort_value(s, b, &sb, &nb, &qb);
    int r = 0;
    if (string_key(s)) {
        if (sa != sb)
            r = !sa ? -1 : !sb ? 1 : strcmp(sa, sb);
    } else {
        r = na < nb ? -1 : na > nb;
    }
    if (r)
        return r;
    return qa < qb ? -1 : qa > qb;
}

static void merge_sort(const void **a, const void **tmp, size_t n, const struct sorter *s)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(a, tmp, h, s);
    merge_sort(a + h, tmp, n - h, s);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = compare(s, a[j], a[i]) < 0 ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof(*a));
}

enum sort_key mock_parse_key(const char *s, enum sort_key dflt)
{
    static const struct {
        const char *name;
        enum sort_key key;
    } keys[] = {
        {"createdAt", KEY_CREATED}, {"updatedAt", KEY_UPDATED},    {"name", KEY_NAME},
        {"type", KEY_TYPE},         {"auth_type", KEY_TYPE},       {"platform", KEY_PLATFORM},
        {"enabled", KEY_ENABLED},   {"triggerType", KEY_TRIGGER},  {"action", KEY_ACTION},
        {"status", KEY_STATUS},     {"publishedAt", KEY_PUBLISHED}};
    if (!s)
        return dflt;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].name, s) == 0)
            return keys[i].key;
    return dflt;
}

int mock_valueset_init(struct valueset *vs, const cJSON *arr)
{
    memset(vs, 0, sizeof(*vs));
    vs->arr = arr;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsNull(it) || (cJSON_IsString(it) && strcmp(it->valuestring, "none") == 0))
            vs->none = true;
    }
    if (cJSON_GetArraySize(arr) <= 16)
        return UTIL_OK;
    if (mock_idmap_init(&vs->map))
        return UTIL_ERR_NOMEM;
    vs->hashed = true;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && mock_idmap_put(&vs->map, it->valuestring, &vs->map))
            return UTIL_ERR_NOMEM;
    }
    return UTIL_OK;
}

void mock_valueset_finish(struct valueset *vs)
{
    if (vs->hashed)
        mock_idmap_finish(&vs->map);
}

/* Whether value (NULL or "" meaning none) passes the filter. */
bool mock_valueset_has(const struct valueset *vs, const char *value)
{
    if (!vs->arr)
        return true;
    if (!value || !*value)
        return vs->none;
    if (vs->hashed)
        return mock_idmap_get(&vs->map, value) != NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, vs->arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, value) == 0)
            return true;
    }
    return false;
}

/* A page or page size from the query as a count: dflt when absent, 1 below
 * 1, and never past 1e15 (the schema has no maximum for page; a double
 * beyond size_t cannot be converted). */
static size_t count_param(const cJSON *n, size_t dflt)
{
    if (!cJSON_IsNumber(n))
        return dflt;
    double d = n->valuedouble;
    return d < 1 ? 1 : d > 1e15 ? (size_t)1e15 : (size_t)d;
}

void mock_list(struct mock_ctx *c, struct listing *l)
{
    const void **sel = NULL, **tmp = NULL;
    const void *const *view = l->items; /* the selection, in creation order */
    cJSON *o = NULL, *arr = NULL, *pag = NULL;
    size_t n = l->count;
    if (l->filter) {
        sel = malloc((l->count ? l->count : 1) * sizeof(*sel));
        if (!sel)
            goto nomem;
        n = 0;
        for (size_t i = 0; i < l->count; i++)
            if (l->filter(c, l->items[i], l->filter_arg))
                sel[n++] = l->items[i];
        view = sel;
    }
    /* Creation order is createdAt order already (the clock never goes back). */
    bool presorted = l->sorter.key == KEY_CREATED ||
                     (l->sorter.kind == KIND_EVENT && l->sorter.key == KEY_PUBLISHED);
    if (!presorted && n > 1) {
        if (!sel) {
            sel = malloc(n * sizeof(*sel));
            if (!sel)
                goto nomem;
            memcpy(sel, l->items, n * sizeof(*sel));
            view = sel;
        }
        tmp = malloc(n * sizeof(*tmp));
        if (!tmp)
            goto nomem;
        merge_sort(sel, tmp, n, &l->sorter);
    }
    const char *order = mock_gets(c->params, "order");
    bool desc = !order || strcmp(order, "desc") == 0;
    const cJSON *pp = mock_get(c->params, "page"), *ip = mock_get(c->params, "itemsPerPage");
    size_t page = count_param(pp, 1), per = count_param(ip, 10);
    size_t pages = n ? (n + per - 1) / per : 1;
    o = cJSON_CreateObject();
    arr = cJSON_CreateArray();
    if (!o || !arr)
        goto nomem;
    size_t start = page <= pages ? (page - 1) * per : n;
    for (size_t i = start; i < n && i < start + per; i++) {
        const void *item = desc ? view[n - 1 - i] : view[i];
        cJSON *r = mock_render_res(c, item, l->render, l->cacheable,
                                   mock_plan_items(mock_plan_child(c->op->plan, l->name)));
        if (!r || !cJSON_AddItemToArray(arr, r)) {
            cJSON_Delete(r);
            goto nomem;
        }
    }
    if (!cJSON_AddItemToObject(o, l->name, arr))
        goto nomem;
    arr = NULL;
    pag = cJSON_AddObjectToObject(o, "pagination");
    if (!pag || !cJSON_AddNumberToObject(pag, "nbPages", (double)pages) ||
        !cJSON_AddNumberToObject(pag, "page", (double)page) ||
        !cJSON_AddNumberToObject(pag, "nbItems", (double)n) ||
        !cJSON_AddNumberToObject(pag, "itemsPerPage", (double)per))
        goto nomem;
    if (l->window) {
        if (!cJSON_AddItemToObject(o, "window", l->window))
            goto nomem;
        l->window = NULL;
    }
    mock_ok(c, o);
    o = NULL;
    goto cleanup;
nomem:
    mock_fail(c, 500, "out of memory");
cleanup:
    cJSON_Delete(o);
    cJSON_Delete(arr);
    free(sel);
    free(tmp);
}

/* Reads startDate/endDate with their defaults into [*from, *to] and builds
 * the Window object. */
cJSON *mock_read_window(struct mock_ctx *c, int64_t back_ms, int64_t *from, int64_t *to)
{
    const char *s = mock_gets(c->params, "startDate"), *e = mock_gets(c->params, "endDate");
    *to = c->now;
    *from = c->now - back_ms;
    if (s && mock_time_parse(s, from)) {
        mock_fail(c, 400, "startDate: '%.64s' is not an RFC 3339 date-time", s);
        return NULL;
    }
    if (e && mock_time_parse(e, to)) {
        mock_fail(c, 400, "endDate: '%.64s' is not an RFC 3339 date-time", e);
        return NULL;
    }
    if (!s && e)
        *from = *to - back_ms;
    if (*from > *to) {
        mock_fail(c, 400, "startDate: must not be after endDate");
        return NULL;
    }
    cJSON *w = cJSON_CreateObject();
    if (!w || !mock_add_time(w, "startDate", *from) || !mock_add_time(w, "endDate", *to)) {
        cJSON_Delete(w);
        mock_fail(c, 500, "out of memory");
        return NULL;
    }
    return w;
}

/* Whether a query parameter other than paging and sorting was given. */
static bool filtering(struct mock_ctx *c)
{
    for (const cJSON *p = c->params->child; p; p = p->next)
        if (strcmp(p->string, "page") != 0 && strcmp(p->string, "itemsPerPage") != 0 &&
            strcmp(p->string, "sort") != 0 && strcmp(p->string, "order") != 0)
            return true;
    return false;
}

void mock_list_kind(struct mock_ctx *c, enum mock_kind k, mock_filter_fn filter, void *arg,
                    enum sort_key key, mock_render_fn render, const char *name, cJSON *window)
{
    struct mock_coll *coll = &c->api->store.coll[k];
    struct listing l = {.items = (const void *const *)coll->items,
                        .count = coll->count,
                        .filter = k == KIND_RUN || filtering(c) ? filter : NULL,
                        .cacheable = k != KIND_RUN,
                        .filter_arg = arg,
                        .sorter = {.kind = k, .key = key},
                        .render = render,
                        .name = name,
                        .window = window};
    mock_list(c, &l);
    cJSON_Delete(l.window);
}
