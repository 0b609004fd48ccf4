/* The 33 operations. Each handler reads c->params (validated, coerced) and
 * c->body (validated against its request schema), changes the store and
 * sets c->out: a 200 document or an ErrorBase. Runs with the API locked. */
#include "mock/internal.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *gets(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static void copy_id(char dst[MOCK_ID_LEN + 1], const char *src)
{
    snprintf(dst, MOCK_ID_LEN + 1, "%s", src ? src : "");
}

/* Adds an RFC 3339 time; false on ENOMEM. */
static bool add_time(cJSON *o, const char *k, int64_t ms)
{
    char t[32];
    mock_time_format(ms, t);
    return cJSON_AddStringToObject(o, k, t) != NULL;
}

static bool add_copy(cJSON *o, const char *k, const cJSON *v)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    if (!d || !cJSON_AddItemToObject(o, k, d)) {
        cJSON_Delete(d);
        return false;
    }
    return true;
}

static void not_found(struct mock_ctx *c, const char *what, const char *id)
{
    mock_fail(c, 404, "%s '%.100s' does not exist", what, id ? id : "");
}

static void *lookup(struct mock_ctx *c, enum mock_kind k, const char *param, const char *what)
{
    const char *id = gets(c->params, param);
    void *r = mock_store_get(&c->api->store, k, id);
    if (!r)
        not_found(c, what, id);
    return r;
}

static bool store_add(struct mock_ctx *c, enum mock_kind k, struct mock_res *r)
{
    int rc = mock_store_add(&c->api->store, k, r);
    if (rc == UTIL_ERR_LIMIT)
        mock_fail(c, 400, "the mock holds at most %u resources of a kind", MOCK_CAP_RESOURCES);
    else if (rc)
        mock_fail(c, 500, "out of memory");
    if (rc)
        mock_res_free(k, r);
    return rc == UTIL_OK;
}

static void init_res(struct mock_ctx *c, struct mock_res *h)
{
    mock_new_id(c->api, h->id);
    h->created = h->updated = c->now;
}

/* {<idkey>: id, [name], <timekey>: t} answers of create and update. */
static void answer_short(struct mock_ctx *c, const char *idkey, const char *id, const char *name,
                         const char *timekey, int64_t t)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, idkey, id) ||
              (name && !cJSON_AddStringToObject(o, "name", name)) || !add_time(o, timekey, t))) {
        cJSON_Delete(o);
        o = NULL;
    }
    mock_ok(c, o);
}

static void answer_deleted(struct mock_ctx *c)
{
    cJSON *o = cJSON_CreateObject();
    if (o && !add_time(o, "deletedAt", c->now)) {
        cJSON_Delete(o);
        o = NULL;
    }
    mock_ok(c, o);
}

typedef bool (*filter_fn)(struct mock_ctx *c, const void *item, void *arg);
typedef cJSON *(*render_fn)(struct mock_ctx *c, const void *item);

/* ---- rendering ---- */

static const char *const secret_fields[] = {"client_secret", "password",   "key",
                                            "apiKey",        "privateKey", NULL};

static cJSON *render_auth(struct mock_ctx *c, const void *p)
{
    const struct mock_auth *a = p;
    (void)c;
    cJSON *o = cJSON_CreateObject();
    cJSON *input = cJSON_Duplicate(a->input, 1);
    if (!o || !input)
        goto fail;
    for (const char *const *s = secret_fields; *s; s++)
        cJSON_DeleteItemFromObjectCaseSensitive(input, *s);
    if (!cJSON_AddStringToObject(o, "authenticationID", a->h.id) ||
        !cJSON_AddStringToObject(o, "type", a->type) ||
        !cJSON_AddStringToObject(o, "name", a->name) ||
        !(a->platform ? cJSON_AddStringToObject(o, "platform", a->platform)
                      : cJSON_AddNullToObject(o, "platform")) ||
        !cJSON_AddItemToObject(o, "input", input))
        goto fail;
    input = NULL;
    if (!add_time(o, "createdAt", a->h.created) || !add_time(o, "updatedAt", a->h.updated))
        goto fail;
    return o;
fail:
    cJSON_Delete(input);
    cJSON_Delete(o);
    return NULL;
}

static cJSON *render_source(struct mock_ctx *c, const void *p)
{
    const struct mock_source *s = p;
    (void)c;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "sourceID", s->h.id) ||
        !cJSON_AddStringToObject(o, "type", s->type) ||
        !cJSON_AddStringToObject(o, "name", s->name) || !add_copy(o, "input", s->input) ||
        (s->auth_id[0] && !cJSON_AddStringToObject(o, "authenticationID", s->auth_id)) ||
        !add_time(o, "createdAt", s->h.created) || !add_time(o, "updatedAt", s->h.updated)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *render_dest(struct mock_ctx *c, const void *p)
{
    const struct mock_dest *d = p;
    (void)c;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "destinationID", d->h.id) ||
        !cJSON_AddStringToObject(o, "type", d->type) ||
        !cJSON_AddStringToObject(o, "name", d->name) || !add_copy(o, "input", d->input) ||
        !add_time(o, "createdAt", d->h.created) || !add_time(o, "updatedAt", d->h.updated) ||
        (d->auth_id[0] && !cJSON_AddStringToObject(o, "authenticationID", d->auth_id))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *render_trigger(const struct mock_task *t, int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "type", t->trigger_type))
        goto fail;
    bool schedule = strcmp(t->trigger_type, "schedule") == 0;
    bool on_demand = strcmp(t->trigger_type, "onDemand") == 0;
    if (schedule && !cJSON_AddStringToObject(o, "cron", t->cron ? t->cron : "0 * * * *"))
        goto fail;
    if ((schedule || on_demand) && t->last_run && !add_time(o, "lastRun", t->last_run))
        goto fail;
    if (schedule) {
        int64_t next = mock_cron_next(&t->cron_parsed, now);
        if (!add_time(o, "nextRun", next > 0 ? next : now))
            goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *render_task(struct mock_ctx *c, const void *p)
{
    const struct mock_task *t = p;
    cJSON *o = cJSON_CreateObject();
    cJSON *trig = render_trigger(t, c->now);
    if (!o || !trig || !cJSON_AddStringToObject(o, "taskID", t->h.id) ||
        !cJSON_AddStringToObject(o, "sourceID", t->source_id) ||
        !cJSON_AddStringToObject(o, "destinationID", t->dest_id) ||
        !cJSON_AddItemToObject(o, "trigger", trig))
        goto fail;
    trig = NULL;
    if ((t->input && !add_copy(o, "input", t->input)) ||
        !cJSON_AddBoolToObject(o, "enabled", t->enabled) ||
        (t->failure_threshold >= 0 &&
         !cJSON_AddNumberToObject(o, "failureThreshold", t->failure_threshold)) ||
        !cJSON_AddStringToObject(o, "action", t->action) ||
        !add_time(o, "createdAt", t->h.created) || !add_time(o, "updatedAt", t->h.updated))
        goto fail;
    return o;
fail:
    cJSON_Delete(trig);
    cJSON_Delete(o);
    return NULL;
}

static cJSON *render_run(struct mock_ctx *c, const void *p)
{
    const struct mock_run *r = p;
    cJSON *o = cJSON_CreateObject();
    cJSON *prog = cJSON_CreateObject();
    if (!o || !prog || !cJSON_AddNumberToObject(prog, "expectedNbOfEvents", r->expected) ||
        !cJSON_AddNumberToObject(prog, "receivedNbOfEvents", (double)r->nevents) ||
        !cJSON_AddStringToObject(o, "runID", r->h.id) ||
        !cJSON_AddStringToObject(o, "appID", c->api->app_id) ||
        !cJSON_AddStringToObject(o, "taskID", r->task_id) ||
        !cJSON_AddStringToObject(o, "status", r->status) ||
        !cJSON_AddItemToObject(o, "progress", prog))
        goto fail;
    prog = NULL;
    if ((r->outcome && !cJSON_AddStringToObject(o, "outcome", r->outcome)) ||
        (r->failure_threshold >= 0 &&
         !cJSON_AddNumberToObject(o, "failureThreshold", r->failure_threshold)) ||
        (r->reason && !cJSON_AddStringToObject(o, "reason", r->reason)) ||
        (r->reason_code && !cJSON_AddStringToObject(o, "reasonCode", r->reason_code)) ||
        !cJSON_AddStringToObject(o, "type", r->type) || !add_time(o, "createdAt", r->h.created) ||
        (r->started && !add_time(o, "startedAt", r->started)) ||
        (r->finished && !add_time(o, "finishedAt", r->finished)))
        goto fail;
    return o;
fail:
    cJSON_Delete(prog);
    cJSON_Delete(o);
    return NULL;
}

/* Events are rendered with their run: the list carries (run, event) pairs. */
struct event_ref {
    const struct mock_run *run;
    const struct mock_event *ev;
};

static cJSON *render_event(struct mock_ctx *c, const void *p)
{
    const struct event_ref *er = p;
    const struct mock_event *e = er->ev;
    (void)c;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "eventID", e->id) ||
        !cJSON_AddStringToObject(o, "runID", er->run->h.id) ||
        (e->parent[0] && !cJSON_AddStringToObject(o, "parentID", e->parent)) ||
        !cJSON_AddStringToObject(o, "status", e->status) ||
        !cJSON_AddStringToObject(o, "type", e->type) ||
        !cJSON_AddNumberToObject(o, "batchSize", e->batch_size) || !add_copy(o, "data", e->data) ||
        !add_time(o, "publishedAt", e->published)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- rendering through the cache ---- */

#define STRUCTURE_FAULTS                                                                           \
    ((1u << MOCK_FAULT_MISSING_REQUIRED) | (1u << MOCK_FAULT_WRONG_TYPE) |                         \
     (1u << MOCK_FAULT_BAD_ENUM) | (1u << MOCK_FAULT_EXTRA_PROPERTY))

/* When the cached text of a resource stops being valid: schedule triggers
 * show nextRun, which moves when the clock passes it. */
static int64_t cache_until(struct mock_ctx *c, const void *item, render_fn render)
{
    if (render == render_task) {
        const struct mock_task *t = item;
        if (strcmp(t->trigger_type, "schedule") == 0) {
            int64_t next = mock_cron_next(&t->cron_parsed, c->now);
            return next > 0 ? next : c->now;
        }
    }
    return INT64_MAX;
}

/* The rendered resource: a raw node holding its cached JSON text, or a
 * real tree when a structure fault must be able to walk it. Resources of
 * kinds that change by themselves (runs) are never cached. */
static cJSON *render_res(struct mock_ctx *c, const void *item, render_fn render, bool cacheable)
{
    if (!cacheable || (c->op->faults & STRUCTURE_FAULTS))
        return render(c, item);
    struct mock_res *h = (struct mock_res *)(uintptr_t)item;
    if (h->cache && c->now >= h->cache_until)
        mock_res_touch(h);
    if (!h->cache) {
        cJSON *tree = render(c, item);
        h->cache = tree ? json_print(tree, false) : NULL;
        h->cache_until = cache_until(c, item, render);
        cJSON_Delete(tree);
        if (!h->cache)
            return NULL;
    }
    return cJSON_CreateRaw(h->cache);
}

/* ---- listing: filter, stable sort, paginate ---- */

enum sort_key {
    KEY_CREATED,
    KEY_UPDATED,
    KEY_NAME,
    KEY_TYPE,
    KEY_PLATFORM,
    KEY_ENABLED,
    KEY_TRIGGER,
    KEY_ACTION,
    KEY_STATUS,
    KEY_PUBLISHED,
};

#define KIND_EVENT KIND_COUNT

struct sorter {
    int kind; /* enum mock_kind or KIND_EVENT */
    enum sort_key key;
};

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

static enum sort_key parse_key(const char *s, enum sort_key dflt)
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

/* A set of strings from a query array, for membership tests: linear for
 * a few values, hashed past that. "none" (or null) stands for "no value". */
struct valueset {
    const cJSON *arr;
    struct mock_idmap map;
    bool hashed;
    bool none;
};

static int valueset_init(struct valueset *vs, const cJSON *arr)
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

static void valueset_finish(struct valueset *vs)
{
    if (vs->hashed)
        mock_idmap_finish(&vs->map);
}

/* Whether value (NULL or "" meaning none) passes the filter. */
static bool valueset_has(const struct valueset *vs, const char *value)
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

struct listing {
    const void *const *items; /* in creation order */
    size_t count;
    filter_fn filter;
    void *filter_arg;
    struct sorter sorter;
    render_fn render;
    bool cacheable;
    const char *name; /* "tasks" */
    cJSON *window;    /* added to the answer when not NULL (taken) */
};

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

static void list(struct mock_ctx *c, struct listing *l)
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
    const char *order = gets(c->params, "order");
    bool desc = !order || strcmp(order, "desc") == 0;
    const cJSON *pp = get(c->params, "page"), *ip = get(c->params, "itemsPerPage");
    size_t page = count_param(pp, 1), per = count_param(ip, 10);
    size_t pages = n ? (n + per - 1) / per : 1;
    o = cJSON_CreateObject();
    arr = cJSON_CreateArray();
    if (!o || !arr)
        goto nomem;
    size_t start = page <= pages ? (page - 1) * per : n;
    for (size_t i = start; i < n && i < start + per; i++) {
        const void *item = desc ? view[n - 1 - i] : view[i];
        cJSON *r = render_res(c, item, l->render, l->cacheable);
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
static cJSON *read_window(struct mock_ctx *c, int64_t back_ms, int64_t *from, int64_t *to)
{
    const char *s = gets(c->params, "startDate"), *e = gets(c->params, "endDate");
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
    if (!w || !add_time(w, "startDate", *from) || !add_time(w, "endDate", *to)) {
        cJSON_Delete(w);
        mock_fail(c, 500, "out of memory");
        return NULL;
    }
    return w;
}

/* ---- search: the listed IDs that exist, in the order given ---- */

static void search(struct mock_ctx *c, enum mock_kind k, const char *field, render_fn render)
{
    const cJSON *ids = get(c->body, field);
    cJSON *arr = cJSON_CreateArray();
    struct mock_idmap seen;
    bool seen_ok = mock_idmap_init(&seen) == UTIL_OK;
    if (!arr || !seen_ok)
        goto nomem;
    const cJSON *it;
    cJSON_ArrayForEach(it, ids)
    {
        if (!cJSON_IsString(it) || mock_idmap_get(&seen, it->valuestring))
            continue;
        const void *r = mock_store_get(&c->api->store, k, it->valuestring);
        if (!r)
            continue;
        if (mock_idmap_put(&seen, it->valuestring, &seen))
            goto nomem;
        cJSON *o = render_res(c, r, render, true);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            goto nomem;
        }
    }
    mock_ok(c, arr);
    arr = NULL;
    goto cleanup;
nomem:
    mock_fail(c, 500, "out of memory");
cleanup:
    cJSON_Delete(arr);
    if (seen_ok)
        mock_idmap_finish(&seen);
}

/* ---- authentications ---- */

struct filters {
    struct valueset a, b, d, e;
    const cJSON *enabled;
    const char *task_id;
    int64_t from, to;
};

static bool filters_init(struct mock_ctx *c, struct filters *f, const char *a, const char *b,
                         const char *d, const char *e)
{
    memset(f, 0, sizeof(*f));
    if (valueset_init(&f->a, a ? get(c->params, a) : NULL) ||
        valueset_init(&f->b, b ? get(c->params, b) : NULL) ||
        valueset_init(&f->d, d ? get(c->params, d) : NULL) ||
        valueset_init(&f->e, e ? get(c->params, e) : NULL)) {
        mock_fail(c, 500, "out of memory");
        return false;
    }
    return true;
}

static void filters_finish(struct filters *f)
{
    valueset_finish(&f->a);
    valueset_finish(&f->b);
    valueset_finish(&f->d);
    valueset_finish(&f->e);
}

static bool auth_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_auth *a = item;
    struct filters *f = arg;
    (void)c;
    return valueset_has(&f->a, a->type) && valueset_has(&f->b, a->platform);
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

static void list_kind(struct mock_ctx *c, enum mock_kind k, filter_fn filter, void *arg,
                      enum sort_key key, render_fn render, const char *name, cJSON *window)
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
    list(c, &l);
    cJSON_Delete(l.window);
}

static void get_authentications(struct mock_ctx *c)
{
    struct filters f;
    if (filters_init(c, &f, "type", "platform", NULL, NULL))
        list_kind(c, KIND_AUTH, auth_filter, &f, parse_key(gets(c->params, "sort"), KEY_CREATED),
                  render_auth, "authentications", NULL);
    filters_finish(&f);
}

static void create_authentication(struct mock_ctx *c)
{
    const cJSON *b = c->body;
    struct mock_auth *a = calloc(1, sizeof(*a));
    if (!a) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    init_res(c, &a->h);
    a->type = mock_intern(mock_auth_types, gets(b, "type"));
    a->platform = mock_intern(mock_platforms, gets(b, "platform"));
    a->name = dup_str(gets(b, "name"));
    a->input = cJSON_Duplicate(get(b, "input"), 1);
    if (!a->type || !a->name || !a->input) {
        mock_res_free(KIND_AUTH, &a->h);
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (store_add(c, KIND_AUTH, &a->h))
        answer_short(c, "authenticationID", a->h.id, a->name, "createdAt", a->h.created);
}

static void search_authentications(struct mock_ctx *c)
{
    search(c, KIND_AUTH, "authenticationIDs", render_auth);
}

static void get_authentication(struct mock_ctx *c)
{
    struct mock_auth *a = lookup(c, KIND_AUTH, "authenticationID", "authentication");
    if (a)
        mock_ok(c, render_res(c, a, render_auth, true));
}

/* Shallow merge of patch into a copy of base; NULL on ENOMEM. */
static cJSON *merged(const cJSON *base, const cJSON *patch)
{
    cJSON *m = cJSON_Duplicate(base, 1);
    if (!m || !cJSON_IsObject(patch))
        return m;
    for (const cJSON *it = patch->child; it; it = it->next) {
        cJSON *v = cJSON_Duplicate(it, 1);
        if (!v)
            goto fail;
        if (get(m, it->string)) {
            if (!cJSON_ReplaceItemInObjectCaseSensitive(m, it->string, v)) {
                cJSON_Delete(v);
                goto fail;
            }
        } else if (!cJSON_AddItemToObject(m, it->string, v)) {
            cJSON_Delete(v);
            goto fail;
        }
    }
    return m;
fail:
    cJSON_Delete(m);
    return NULL;
}

static void update_authentication(struct mock_ctx *c)
{
    struct mock_auth *a = lookup(c, KIND_AUTH, "authenticationID", "authentication");
    if (!a)
        return;
    const cJSON *b = c->body;
    const char *type = gets(b, "type") ? mock_intern(mock_auth_types, gets(b, "type")) : a->type;
    const char *name = gets(b, "name") ? gets(b, "name") : a->name;
    const cJSON *pl = get(b, "platform");
    const char *platform = pl ? mock_intern(mock_platforms, gets(b, "platform")) : a->platform;
    const cJSON *in = get(b, "input");
    cJSON *input = !in               ? cJSON_Duplicate(a->input, 1)
                   : type != a->type ? cJSON_Duplicate(in, 1)
                                     : merged(a->input, in);
    cJSON *post = cJSON_CreateObject();
    char *newname = dup_str(name);
    if (!type || !post || !input || !newname || !cJSON_AddStringToObject(post, "type", type) ||
        !cJSON_AddStringToObject(post, "name", name) ||
        !(platform ? cJSON_AddStringToObject(post, "platform", platform)
                   : cJSON_AddNullToObject(post, "platform")) ||
        !add_copy(post, "input", input)) {
        mock_fail(c, 500, "out of memory");
        goto cleanup;
    }
    if (!mock_check(c, c->api->auth_create, post,
                    "body: the updated authentication would be "
                    "invalid:"))
        goto cleanup;
    a->type = type;
    a->platform = platform;
    free(a->name);
    a->name = newname;
    newname = NULL;
    cJSON_Delete(a->input);
    a->input = input;
    input = NULL;
    a->h.updated = c->now;
    mock_res_touch(&a->h);
    answer_short(c, "authenticationID", a->h.id, a->name, "updatedAt", a->h.updated);
cleanup:
    cJSON_Delete(post);
    cJSON_Delete(input);
    free(newname);
}

/* First resource of kind k whose field (by getter) equals id. */
static const char *first_user(struct mock_ctx *c, enum mock_kind k, const char *id,
                              const char *(*field)(const void *))
{
    struct mock_coll *coll = &c->api->store.coll[k];
    for (size_t i = 0; i < coll->count; i++)
        if (strcmp(field(coll->items[i]), id) == 0)
            return coll->items[i]->id;
    return NULL;
}

static const char *source_auth(const void *p)
{
    return ((const struct mock_source *)p)->auth_id;
}

static const char *dest_auth(const void *p)
{
    return ((const struct mock_dest *)p)->auth_id;
}

static const char *task_source(const void *p)
{
    return ((const struct mock_task *)p)->source_id;
}

static const char *task_dest(const void *p)
{
    return ((const struct mock_task *)p)->dest_id;
}

static void delete_authentication(struct mock_ctx *c)
{
    struct mock_auth *a = lookup(c, KIND_AUTH, "authenticationID", "authentication");
    if (!a)
        return;
    if (a->refs) {
        const char *src = first_user(c, KIND_SOURCE, a->h.id, source_auth);
        const char *dst = src ? NULL : first_user(c, KIND_DEST, a->h.id, dest_auth);
        mock_fail(c, 400,
                  "authentication '%s' is used by %s '%s'%s; delete or update what uses it "
                  "first",
                  a->h.id, src ? "source" : "destination",
                  src   ? src
                  : dst ? dst
                        : "?",
                  a->refs > 1 ? " and others" : "");
        return;
    }
    mock_store_remove(&c->api->store, KIND_AUTH, &a->h);
    answer_deleted(c);
}

/* Checks an optional authenticationID reference of the body. */
static bool auth_ref(struct mock_ctx *c, const char *id, struct mock_auth **out)
{
    *out = NULL;
    if (!id)
        return true;
    *out = (struct mock_auth *)mock_store_get(&c->api->store, KIND_AUTH, id);
    if (!*out) {
        mock_fail(c, 400, "authenticationID: authentication '%.100s' does not exist", id);
        return false;
    }
    return true;
}

static void move_ref(struct mock_store *s, enum mock_kind k, const char *from, const char *to)
{
    if (from && *from && (!to || strcmp(from, to) != 0)) {
        struct mock_res *r = mock_store_get(s, k, from);
        size_t *refs = !r                 ? NULL
                       : k == KIND_AUTH   ? &((struct mock_auth *)r)->refs
                       : k == KIND_SOURCE ? &((struct mock_source *)r)->refs
                                          : &((struct mock_dest *)r)->refs;
        if (refs && *refs)
            (*refs)--;
    }
    if (to && *to && (!from || strcmp(from, to) != 0)) {
        struct mock_res *r = mock_store_get(s, k, to);
        if (r)
            (*(k == KIND_AUTH     ? &((struct mock_auth *)r)->refs
               : k == KIND_SOURCE ? &((struct mock_source *)r)->refs
                                  : &((struct mock_dest *)r)->refs))++;
    }
}

/* ---- destinations ---- */

static bool dest_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_dest *d = item;
    struct filters *f = arg;
    (void)c;
    return valueset_has(&f->a, d->type) && valueset_has(&f->b, d->auth_id);
}

static void get_destinations(struct mock_ctx *c)
{
    struct filters f;
    if (filters_init(c, &f, "type", "authenticationID", NULL, NULL))
        list_kind(c, KIND_DEST, dest_filter, &f, parse_key(gets(c->params, "sort"), KEY_CREATED),
                  render_dest, "destinations", NULL);
    filters_finish(&f);
}

static void create_destination(struct mock_ctx *c)
{
    const cJSON *b = c->body;
    struct mock_auth *auth;
    if (!auth_ref(c, gets(b, "authenticationID"), &auth))
        return;
    struct mock_dest *d = calloc(1, sizeof(*d));
    if (!d) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    init_res(c, &d->h);
    d->type = mock_intern(mock_dest_types, gets(b, "type"));
    d->name = dup_str(gets(b, "name"));
    d->input = cJSON_Duplicate(get(b, "input"), 1);
    copy_id(d->auth_id, gets(b, "authenticationID"));
    if (!d->type || !d->name || !d->input) {
        mock_res_free(KIND_DEST, &d->h);
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (!store_add(c, KIND_DEST, &d->h))
        return;
    if (auth)
        auth->refs++;
    answer_short(c, "destinationID", d->h.id, d->name, "createdAt", d->h.created);
}

static void search_destinations(struct mock_ctx *c)
{
    search(c, KIND_DEST, "destinationIDs", render_dest);
}

static void get_destination(struct mock_ctx *c)
{
    struct mock_dest *d = lookup(c, KIND_DEST, "destinationID", "destination");
    if (d)
        mock_ok(c, render_res(c, d, render_dest, true));
}

static void update_destination(struct mock_ctx *c)
{
    struct mock_dest *d = lookup(c, KIND_DEST, "destinationID", "destination");
    if (!d)
        return;
    const cJSON *b = c->body;
    struct mock_auth *auth;
    const char *auth_id = gets(b, "authenticationID");
    if (!auth_ref(c, auth_id, &auth))
        return;
    const char *type = gets(b, "type") ? mock_intern(mock_dest_types, gets(b, "type")) : d->type;
    const char *name = gets(b, "name") ? gets(b, "name") : d->name;
    cJSON *input = cJSON_Duplicate(get(b, "input") ? get(b, "input") : d->input, 1);
    char *newname = dup_str(name);
    cJSON *post = cJSON_CreateObject();
    const char *new_auth = auth_id ? auth_id : d->auth_id;
    if (!type || !input || !newname || !post || !cJSON_AddStringToObject(post, "type", type) ||
        !cJSON_AddStringToObject(post, "name", name) || !add_copy(post, "input", input) ||
        (*new_auth && !cJSON_AddStringToObject(post, "authenticationID", new_auth))) {
        mock_fail(c, 500, "out of memory");
        goto cleanup;
    }
    if (!mock_check(c, c->api->dest_create, post,
                    "body: the updated destination would be invalid:"))
        goto cleanup;
    if (auth_id) {
        move_ref(&c->api->store, KIND_AUTH, d->auth_id, auth_id);
        copy_id(d->auth_id, auth_id);
    }
    d->type = type;
    free(d->name);
    d->name = newname;
    newname = NULL;
    cJSON_Delete(d->input);
    d->input = input;
    input = NULL;
    d->h.updated = c->now;
    mock_res_touch(&d->h);
    answer_short(c, "destinationID", d->h.id, d->name, "updatedAt", d->h.updated);
cleanup:
    cJSON_Delete(post);
    cJSON_Delete(input);
    free(newname);
}

static void delete_destination(struct mock_ctx *c)
{
    struct mock_dest *d = lookup(c, KIND_DEST, "destinationID", "destination");
    if (!d)
        return;
    if (d->refs) {
        mock_fail(c, 400, "destination '%s' is used by task '%s'%s; delete those tasks first",
                  d->h.id, first_user(c, KIND_TASK, d->h.id, task_dest),
                  d->refs > 1 ? " and others" : "");
        return;
    }
    move_ref(&c->api->store, KIND_AUTH, d->auth_id, NULL);
    mock_store_remove(&c->api->store, KIND_DEST, &d->h);
    answer_deleted(c);
}

/* ---- sources ---- */

static bool source_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_source *s = item;
    struct filters *f = arg;
    (void)c;
    return valueset_has(&f->a, s->type) && valueset_has(&f->b, s->auth_id);
}

static void get_sources(struct mock_ctx *c)
{
    struct filters f;
    if (filters_init(c, &f, "type", "authenticationID", NULL, NULL))
        list_kind(c, KIND_SOURCE, source_filter, &f,
                  parse_key(gets(c->params, "sort"), KEY_CREATED), render_source, "sources", NULL);
    filters_finish(&f);
}

static void create_source(struct mock_ctx *c)
{
    const cJSON *b = c->body;
    struct mock_auth *auth;
    if (!auth_ref(c, gets(b, "authenticationID"), &auth))
        return;
    struct mock_source *s = calloc(1, sizeof(*s));
    if (!s) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    init_res(c, &s->h);
    s->type = mock_intern(mock_source_types, gets(b, "type"));
    s->name = dup_str(gets(b, "name"));
    s->input = cJSON_Duplicate(get(b, "input"), 1);
    copy_id(s->auth_id, gets(b, "authenticationID"));
    if (!s->type || !s->name || !s->input) {
        mock_res_free(KIND_SOURCE, &s->h);
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (!store_add(c, KIND_SOURCE, &s->h))
        return;
    if (auth)
        auth->refs++;
    answer_short(c, "sourceID", s->h.id, s->name, "createdAt", s->h.created);
}

static void search_sources(struct mock_ctx *c)
{
    search(c, KIND_SOURCE, "sourceIDs", render_source);
}

static void get_source(struct mock_ctx *c)
{
    struct mock_source *s = lookup(c, KIND_SOURCE, "sourceID", "source");
    if (s)
        mock_ok(c, render_res(c, s, render_source, true));
}

static void update_source(struct mock_ctx *c)
{
    struct mock_source *s = lookup(c, KIND_SOURCE, "sourceID", "source");
    if (!s)
        return;
    const cJSON *b = c->body;
    struct mock_auth *auth;
    const char *auth_id = gets(b, "authenticationID");
    if (!auth_ref(c, auth_id, &auth))
        return;
    const char *name = gets(b, "name") ? gets(b, "name") : s->name;
    cJSON *input = merged(s->input, get(b, "input"));
    char *newname = dup_str(name);
    cJSON *post = cJSON_CreateObject();
    const char *new_auth = auth_id ? auth_id : s->auth_id;
    if (!input || !newname || !post || !cJSON_AddStringToObject(post, "type", s->type) ||
        !cJSON_AddStringToObject(post, "name", name) || !add_copy(post, "input", input) ||
        (*new_auth && !cJSON_AddStringToObject(post, "authenticationID", new_auth))) {
        mock_fail(c, 500, "out of memory");
        goto cleanup;
    }
    if (!mock_check(c, c->api->source_create, post, "body: the updated source would be invalid:"))
        goto cleanup;
    if (auth_id) {
        move_ref(&c->api->store, KIND_AUTH, s->auth_id, auth_id);
        copy_id(s->auth_id, auth_id);
    }
    free(s->name);
    s->name = newname;
    newname = NULL;
    cJSON_Delete(s->input);
    s->input = input;
    input = NULL;
    s->h.updated = c->now;
    mock_res_touch(&s->h);
    answer_short(c, "sourceID", s->h.id, s->name, "updatedAt", s->h.updated);
cleanup:
    cJSON_Delete(post);
    cJSON_Delete(input);
    free(newname);
}

static void delete_source(struct mock_ctx *c)
{
    struct mock_source *s = lookup(c, KIND_SOURCE, "sourceID", "source");
    if (!s)
        return;
    if (s->refs) {
        mock_fail(c, 400, "source '%s' is used by task '%s'%s; delete those tasks first", s->h.id,
                  first_user(c, KIND_TASK, s->h.id, task_source), s->refs > 1 ? " and others" : "");
        return;
    }
    move_ref(&c->api->store, KIND_AUTH, s->auth_id, NULL);
    mock_store_remove(&c->api->store, KIND_SOURCE, &s->h);
    answer_deleted(c);
}

/* Docker sources with imageType singer are the only ones with streams. */
static struct mock_source *singer_source(struct mock_ctx *c)
{
    struct mock_source *s = lookup(c, KIND_SOURCE, "sourceID", "source");
    if (!s)
        return NULL;
    const char *image_type = gets(s->input, "imageType");
    if (strcmp(s->type, "docker") != 0 || !image_type || strcmp(image_type, "singer") != 0) {
        mock_fail(c, 400,
                  "source '%s' has type %s%s%s: listing streams only works with sources with "
                  "type: docker and imageType: singer",
                  s->h.id, s->type, image_type ? " and imageType " : "",
                  image_type ? image_type : "");
        return NULL;
    }
    return s;
}

static void get_docker_source_streams(struct mock_ctx *c)
{
    struct mock_source *s = singer_source(c);
    if (!s)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *streams = o ? cJSON_AddArrayToObject(o, "streams") : NULL;
    if (!streams)
        goto fail;
    if (s->discovered) {
        const char *image = gets(s->input, "image");
        const char *base = image && strrchr(image, '/') ? strrchr(image, '/') + 1 : image;
        char name[160];
        snprintf(name, sizeof(name), "%.140s_records", base && *base ? base : "stream");
        cJSON *st = cJSON_CreateObject();
        cJSON *schema = st ? cJSON_AddObjectToObject(st, "schema") : NULL;
        cJSON *keys = st ? cJSON_AddArrayToObject(st, "key_properties") : NULL;
        if (!cJSON_AddItemToArray(streams, st) || !schema || !keys ||
            !cJSON_AddStringToObject(st, "tap_stream_id", name) ||
            !cJSON_AddStringToObject(st, "stream", name) ||
            !cJSON_AddStringToObject(schema, "type", "object") ||
            !cJSON_AddItemToArray(keys, cJSON_CreateString("id")))
            goto fail;
    }
    mock_ok(c, o);
    return;
fail:
    cJSON_Delete(o);
    mock_fail(c, 500, "out of memory");
}

/* Creates a run that the clock moves through its stages. */
static struct mock_run *new_run(struct mock_ctx *c, const char *task_id, const char *type,
                                int threshold)
{
    struct mock_run *r = calloc(1, sizeof(*r));
    if (!r) {
        mock_fail(c, 500, "out of memory");
        return NULL;
    }
    init_res(c, &r->h);
    copy_id(r->task_id, task_id);
    r->status = "created";
    r->type = type;
    r->failure_threshold = threshold;
    r->expected = strcmp(type, "discover") == 0 ? 2 : 4;
    return store_add(c, KIND_RUN, &r->h) ? r : NULL;
}

static void trigger_docker_source_discover(struct mock_ctx *c)
{
    struct mock_source *s = singer_source(c);
    if (!s)
        return;
    /* A discover run belongs to no task; its taskID is the source's ID. */
    struct mock_run *r = new_run(c, s->h.id, "discover", -1);
    if (!r)
        return;
    copy_id(r->source_id, s->h.id);
    answer_short(c, "runID", r->h.id, NULL, "createdAt", r->h.created);
}

/* ---- tasks ---- */

static bool task_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_task *t = item;
    struct filters *f = arg;
    (void)c;
    return valueset_has(&f->a, t->action) && valueset_has(&f->b, t->source_id) &&
           valueset_has(&f->d, t->dest_id) && valueset_has(&f->e, t->trigger_type) &&
           (!f->enabled || cJSON_IsTrue(f->enabled) == t->enabled);
}

static void get_tasks(struct mock_ctx *c)
{
    struct filters f;
    if (filters_init(c, &f, "action", "sourceID", "destinationID", "triggerType")) {
        f.enabled = get(c->params, "enabled");
        list_kind(c, KIND_TASK, task_filter, &f, parse_key(gets(c->params, "sort"), KEY_CREATED),
                  render_task, "tasks", NULL);
    }
    filters_finish(&f);
}

/* Parses a schedule's cron into t; false (answered 400) when invalid. */
static bool set_cron(struct mock_ctx *c, struct mock_task *t, const char *cron)
{
    struct mock_cron parsed;
    if (mock_cron_parse(cron, &parsed) || mock_cron_next(&parsed, c->now) < 0) {
        mock_fail(c, 400,
                  "trigger.cron: '%.100s' is not a cron expression that ever fires "
                  "(five fields: minute hour day-of-month month day-of-week)",
                  cron);
        return false;
    }
    char *copy = dup_str(cron);
    if (!copy) {
        mock_fail(c, 500, "out of memory");
        return false;
    }
    free(t->cron);
    t->cron = copy;
    t->cron_parsed = parsed;
    return true;
}

static bool task_refs(struct mock_ctx *c, const char *source_id, const char *dest_id)
{
    if (source_id && !mock_store_get(&c->api->store, KIND_SOURCE, source_id)) {
        mock_fail(c, 400, "sourceID: source '%.100s' does not exist", source_id);
        return false;
    }
    if (dest_id && !mock_store_get(&c->api->store, KIND_DEST, dest_id)) {
        mock_fail(c, 400, "destinationID: destination '%.100s' does not exist", dest_id);
        return false;
    }
    return true;
}

static void create_task(struct mock_ctx *c)
{
    const cJSON *b = c->body;
    if (!task_refs(c, gets(b, "sourceID"), gets(b, "destinationID")))
        return;
    struct mock_task *t = calloc(1, sizeof(*t));
    if (!t) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    init_res(c, &t->h);
    const cJSON *trig = get(b, "trigger");
    copy_id(t->source_id, gets(b, "sourceID"));
    copy_id(t->dest_id, gets(b, "destinationID"));
    t->trigger_type = mock_intern(mock_trigger_types, gets(trig, "type"));
    t->action = mock_intern(mock_actions, gets(b, "action"));
    t->enabled = !cJSON_IsFalse(get(b, "enabled"));
    const cJSON *ft = get(b, "failureThreshold");
    t->failure_threshold = cJSON_IsNumber(ft) ? (int)ft->valuedouble : -1;
    if (get(b, "input") && !(t->input = cJSON_Duplicate(get(b, "input"), 1))) {
        mock_res_free(KIND_TASK, &t->h);
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (!t->trigger_type || !t->action) {
        mock_res_free(KIND_TASK, &t->h);
        mock_fail(c, 400, "body: unknown trigger type or action");
        return;
    }
    if (strcmp(t->trigger_type, "schedule") == 0 && !set_cron(c, t, gets(trig, "cron"))) {
        mock_res_free(KIND_TASK, &t->h);
        return;
    }
    if (!store_add(c, KIND_TASK, &t->h))
        return;
    move_ref(&c->api->store, KIND_SOURCE, NULL, t->source_id);
    move_ref(&c->api->store, KIND_DEST, NULL, t->dest_id);
    answer_short(c, "taskID", t->h.id, NULL, "createdAt", t->h.created);
}

static void search_tasks(struct mock_ctx *c)
{
    search(c, KIND_TASK, "taskIDs", render_task);
}

static void get_task(struct mock_ctx *c)
{
    struct mock_task *t = lookup(c, KIND_TASK, "taskID", "task");
    if (t)
        mock_ok(c, render_res(c, t, render_task, true));
}

static void update_task(struct mock_ctx *c)
{
    struct mock_task *t = lookup(c, KIND_TASK, "taskID", "task");
    if (!t)
        return;
    const cJSON *b = c->body;
    const char *dest = gets(b, "destinationID");
    if (!task_refs(c, NULL, dest))
        return;
    const cJSON *trig = get(b, "trigger");
    const cJSON *ft = get(b, "failureThreshold");
    const cJSON *input = get(b, "input") ? get(b, "input") : t->input;
    int threshold = cJSON_IsNumber(ft) ? (int)ft->valuedouble : t->failure_threshold;
    bool enabled = get(b, "enabled") ? cJSON_IsTrue(get(b, "enabled")) : t->enabled;
    /* The task after the update must still be a valid TaskCreate. */
    cJSON *post = cJSON_CreateObject();
    cJSON *pt = post ? cJSON_AddObjectToObject(post, "trigger") : NULL;
    const char *cron = gets(trig, "cron") ? gets(trig, "cron") : t->cron;
    if (!pt || !cJSON_AddStringToObject(post, "sourceID", t->source_id) ||
        !cJSON_AddStringToObject(post, "destinationID", dest ? dest : t->dest_id) ||
        !cJSON_AddStringToObject(pt, "type", t->trigger_type) ||
        (cron && !cJSON_AddStringToObject(pt, "cron", cron)) ||
        !cJSON_AddStringToObject(post, "action", t->action) ||
        !cJSON_AddBoolToObject(post, "enabled", enabled) ||
        (threshold >= 0 && !cJSON_AddNumberToObject(post, "failureThreshold", threshold)) ||
        (input && !add_copy(post, "input", input))) {
        mock_fail(c, 500, "out of memory");
        goto cleanup;
    }
    if (!mock_check(c, c->api->task_create, post, "body: the updated task would be invalid:"))
        goto cleanup;
    if (gets(trig, "cron") && !set_cron(c, t, gets(trig, "cron")))
        goto cleanup;
    if (get(b, "input")) {
        cJSON *copy = cJSON_Duplicate(get(b, "input"), 1);
        if (!copy) {
            mock_fail(c, 500, "out of memory");
            goto cleanup;
        }
        cJSON_Delete(t->input);
        t->input = copy;
    }
    if (dest) {
        move_ref(&c->api->store, KIND_DEST, t->dest_id, dest);
        copy_id(t->dest_id, dest);
    }
    t->enabled = enabled;
    t->failure_threshold = threshold;
    t->h.updated = c->now;
    mock_res_touch(&t->h);
    answer_short(c, "taskID", t->h.id, NULL, "updatedAt", t->h.updated);
cleanup:
    cJSON_Delete(post);
}

static void delete_task(struct mock_ctx *c)
{
    struct mock_task *t = lookup(c, KIND_TASK, "taskID", "task");
    if (!t)
        return;
    move_ref(&c->api->store, KIND_SOURCE, t->source_id, NULL);
    move_ref(&c->api->store, KIND_DEST, t->dest_id, NULL);
    mock_store_remove(&c->api->store, KIND_TASK, &t->h);
    answer_deleted(c);
}

static void run_task(struct mock_ctx *c)
{
    struct mock_task *t = lookup(c, KIND_TASK, "taskID", "task");
    if (!t)
        return;
    const char *type = strcmp(t->action, "replace") == 0 ? "reindex" : "update";
    struct mock_run *r = new_run(c, t->h.id, type, t->failure_threshold);
    if (!r)
        return;
    t->last_run = r->h.created;
    mock_res_touch(&t->h);
    answer_short(c, "runID", r->h.id, NULL, "createdAt", r->h.created);
}

static void set_enabled(struct mock_ctx *c, bool on)
{
    struct mock_task *t = lookup(c, KIND_TASK, "taskID", "task");
    if (!t)
        return;
    t->enabled = on;
    t->h.updated = c->now;
    mock_res_touch(&t->h);
    answer_short(c, "taskID", t->h.id, NULL, "updatedAt", t->h.updated);
}

static void enable_task(struct mock_ctx *c)
{
    set_enabled(c, true);
}

static void disable_task(struct mock_ctx *c)
{
    set_enabled(c, false);
}

/* ---- observability ---- */

#define SEVEN_DAYS_MS (7LL * 24 * 3600 * 1000)
#define THREE_HOURS_MS (3LL * 3600 * 1000)

static bool run_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_run *r = item;
    struct filters *f = arg;
    (void)c;
    return valueset_has(&f->a, r->status) && (!f->task_id || strcmp(f->task_id, r->task_id) == 0) &&
           r->h.created >= f->from && r->h.created <= f->to;
}

static void get_runs(struct mock_ctx *c)
{
    struct filters f;
    if (filters_init(c, &f, "status", NULL, NULL, NULL)) {
        f.task_id = gets(c->params, "taskID");
        cJSON *w = read_window(c, SEVEN_DAYS_MS, &f.from, &f.to);
        if (w)
            list_kind(c, KIND_RUN, run_filter, &f, parse_key(gets(c->params, "sort"), KEY_CREATED),
                      render_run, "runs", w);
    }
    filters_finish(&f);
}

static void get_run(struct mock_ctx *c)
{
    struct mock_run *r = lookup(c, KIND_RUN, "runID", "run");
    if (r)
        mock_ok(c, render_run(c, r));
}

static bool event_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_event *e = ((const struct event_ref *)item)->ev;
    struct filters *f = arg;
    (void)c;
    return valueset_has(&f->a, e->status) && valueset_has(&f->b, e->type) &&
           e->published >= f->from && e->published <= f->to;
}

static void get_events(struct mock_ctx *c)
{
    struct mock_run *r = lookup(c, KIND_RUN, "runID", "run");
    if (!r)
        return;
    struct filters f;
    struct event_ref *refs = calloc(r->nevents ? r->nevents : 1, sizeof(*refs));
    const void **ptrs = calloc(r->nevents ? r->nevents : 1, sizeof(*ptrs));
    if (!refs || !ptrs) {
        mock_fail(c, 500, "out of memory");
        free(refs);
        free(ptrs);
        return;
    }
    for (size_t i = 0; i < r->nevents; i++) {
        refs[i].run = r;
        refs[i].ev = &r->events[i];
        ptrs[i] = &refs[i];
    }
    if (filters_init(c, &f, "status", "type", NULL, NULL)) {
        cJSON *w = read_window(c, THREE_HOURS_MS, &f.from, &f.to);
        if (w) {
            struct listing l = {
                .items = ptrs,
                .count = r->nevents,
                .filter = event_filter,
                .filter_arg = &f,
                .sorter = {.kind = KIND_EVENT,
                           .key = parse_key(gets(c->params, "sort"), KEY_PUBLISHED)},
                .render = render_event,
                .name = "events",
                .window = w};
            list(c, &l);
            cJSON_Delete(l.window);
        }
    }
    filters_finish(&f);
    free(refs);
    free(ptrs);
}

static void get_event(struct mock_ctx *c)
{
    struct mock_run *r = lookup(c, KIND_RUN, "runID", "run");
    if (!r)
        return;
    const char *id = gets(c->params, "eventID");
    for (size_t i = 0; i < r->nevents; i++) {
        if (id && strcmp(r->events[i].id, id) == 0) {
            struct event_ref er = {r, &r->events[i]};
            mock_ok(c, render_event(c, &er));
            return;
        }
    }
    not_found(c, "event", id);
}

/* ---- the table ---- */

static const struct {
    const char *id;
    mock_handler fn;
} handlers[] = {
    {"getAuthentications", get_authentications},
    {"createAuthentication", create_authentication},
    {"searchAuthentications", search_authentications},
    {"getAuthentication", get_authentication},
    {"updateAuthentication", update_authentication},
    {"deleteAuthentication", delete_authentication},
    {"getDestinations", get_destinations},
    {"createDestination", create_destination},
    {"searchDestinations", search_destinations},
    {"getDestination", get_destination},
    {"updateDestination", update_destination},
    {"deleteDestination", delete_destination},
    {"getSources", get_sources},
    {"createSource", create_source},
    {"searchSources", search_sources},
    {"getSource", get_source},
    {"updateSource", update_source},
    {"deleteSource", delete_source},
    {"getDockerSourceStreams", get_docker_source_streams},
    {"triggerDockerSourceDiscover", trigger_docker_source_discover},
    {"getTasks", get_tasks},
    {"createTask", create_task},
    {"searchTasks", search_tasks},
    {"getTask", get_task},
    {"updateTask", update_task},
    {"deleteTask", delete_task},
    {"runTask", run_task},
    {"enableTask", enable_task},
    {"disableTask", disable_task},
    {"getRuns", get_runs},
    {"getRun", get_run},
    {"getEvents", get_events},
    {"getEvent", get_event},
};

mock_handler mock_handler_for(const char *operation_id)
{
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if (strcmp(handlers[i].id, operation_id) == 0)
            return handlers[i].fn;
    return NULL;
}

/* ---- preload (--preload-tasks) ---- */

int mock_preload(struct mock_api *api, size_t ntasks, struct util_error *err)
{
    struct mock_store *s = &api->store;
    size_t total = 1 + 10 + 10 + ntasks, n = 0;
    int64_t base = api->now - (int64_t)total * 1000;
    char name[64];
#define STAMP(h)                                                                                   \
    do {                                                                                           \
        mock_new_id(api, (h).id);                                                                  \
        (h).created = (h).updated = base + (int64_t)(n++) * 1000;                                  \
    } while (0)
    struct mock_auth *a = calloc(1, sizeof(*a));
    if (!a)
        goto nomem;
    STAMP(a->h);
    a->type = "algolia";
    a->name = dup_str("preloaded algolia credentials");
    a->input = cJSON_Parse("{\"appID\":\"PRELOADED\",\"apiKey\":\"preloaded-secret\"}");
    if (!a->name || !a->input || mock_store_add(s, KIND_AUTH, &a->h)) {
        mock_res_free(KIND_AUTH, &a->h);
        goto nomem;
    }
    struct mock_source *src[10];
    struct mock_dest *dst[10];
    for (int i = 0; i < 10; i++) {
        struct mock_source *x = calloc(1, sizeof(*x));
        if (!x)
            goto nomem;
        STAMP(x->h);
        x->type = "json";
        snprintf(name, sizeof(name), "preloaded source %d", i);
        x->name = dup_str(name);
        x->input = cJSON_CreateObject();
        snprintf(name, sizeof(name), "https://example.com/feed-%d.json", i);
        if (!x->name || !x->input || !cJSON_AddStringToObject(x->input, "url", name) ||
            mock_store_add(s, KIND_SOURCE, &x->h)) {
            mock_res_free(KIND_SOURCE, &x->h);
            goto nomem;
        }
        src[i] = x;
    }
    for (int i = 0; i < 10; i++) {
        struct mock_dest *x = calloc(1, sizeof(*x));
        if (!x)
            goto nomem;
        STAMP(x->h);
        x->type = i % 2 ? "insights" : "search";
        snprintf(name, sizeof(name), "preloaded destination %d", i);
        x->name = dup_str(name);
        x->input = cJSON_CreateObject();
        snprintf(name, sizeof(name), "index_%d", i);
        copy_id(x->auth_id, a->h.id);
        if (!x->name || !x->input || !cJSON_AddStringToObject(x->input, "indexName", name) ||
            mock_store_add(s, KIND_DEST, &x->h)) {
            mock_res_free(KIND_DEST, &x->h);
            goto nomem;
        }
        a->refs++;
        dst[i] = x;
    }
    for (size_t i = 0; i < ntasks; i++) {
        struct mock_task *t = calloc(1, sizeof(*t));
        if (!t)
            goto nomem;
        STAMP(t->h);
        struct mock_source *x = src[i % 10];
        struct mock_dest *d = dst[(i / 10) % 10];
        copy_id(t->source_id, x->h.id);
        copy_id(t->dest_id, d->h.id);
        t->action = mock_actions[i % 4];
        t->trigger_type = mock_trigger_types[(i / 4) % 4];
        t->enabled = i % 3 != 0;
        t->failure_threshold = -1;
        if (strcmp(t->trigger_type, "schedule") == 0) {
            t->cron = dup_str("0 * * * *");
            if (!t->cron || mock_cron_parse(t->cron, &t->cron_parsed)) {
                mock_res_free(KIND_TASK, &t->h);
                goto nomem;
            }
        }
        if (mock_store_add(s, KIND_TASK, &t->h)) {
            mock_res_free(KIND_TASK, &t->h);
            goto nomem;
        }
        x->refs++;
        d->refs++;
    }
#undef STAMP
    return UTIL_OK;
nomem:
    return util_error_set(err, UTIL_ERR_NOMEM, "out of memory preloading %zu tasks", ntasks);
}
