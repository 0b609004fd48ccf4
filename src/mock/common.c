/* Helpers the resource handlers share: JSON access, resource creation,
 * short answers, rendering through the per-resource cache, search by IDs,
 * references between resources. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

const cJSON *mock_get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

const char *mock_gets(const cJSON *o, const char *k)
{
    const cJSON *v = mock_get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *mock_strdup(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

void mock_copy_id(char dst[MOCK_ID_LEN + 1], const char *src)
{
    snprintf(dst, MOCK_ID_LEN + 1, "%s", src ? src : "");
}

/* Adds an RFC 3339 time; false on ENOMEM. */
bool mock_add_time(cJSON *o, const char *k, int64_t ms)
{
    char t[32];
    mock_time_format(ms, t);
    return cJSON_AddStringToObject(o, k, t) != NULL;
}

bool mock_add_copy(cJSON *o, const char *k, const cJSON *v)
{
    cJSON *d = cJSON_Duplicate(v, 1);
    if (!d || !cJSON_AddItemToObject(o, k, d)) {
        cJSON_Delete(d);
        return false;
    }
    return true;
}

void mock_not_found(struct mock_ctx *c, const char *what, const char *id)
{
    mock_fail(c, 404, "%s '%.100s' does not exist", what, id ? id : "");
}

void *mock_lookup(struct mock_ctx *c, enum mock_kind k, const char *param, const char *what)
{
    const char *id = mock_gets(c->params, param);
    void *r = mock_store_get(&c->api->store, k, id);
    if (!r)
        mock_not_found(c, what, id);
    return r;
}

bool mock_store_put(struct mock_ctx *c, enum mock_kind k, struct mock_res *r)
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

void mock_init_res(struct mock_ctx *c, struct mock_res *h)
{
    mock_new_id(c->api, h->id);
    h->created = h->updated = c->now;
}

/* {<idkey>: id, [name], <timekey>: t} answers of create and update. */
void mock_answer_short(struct mock_ctx *c, const char *idkey, const char *id, const char *name,
                       const char *timekey, int64_t t)
{
    cJSON *o = cJSON_CreateObject();
    if (o &&
        (!cJSON_AddStringToObject(o, idkey, id) ||
         (name && !cJSON_AddStringToObject(o, "name", name)) || !mock_add_time(o, timekey, t))) {
        cJSON_Delete(o);
        o = NULL;
    }
    mock_ok(c, o);
}

void mock_answer_deleted(struct mock_ctx *c)
{
    cJSON *o = cJSON_CreateObject();
    if (o && !mock_add_time(o, "deletedAt", c->now)) {
        cJSON_Delete(o);
        o = NULL;
    }
    mock_ok(c, o);
}

const char *mock_intern_value(struct mock_api *api, const char *const *table, const char *s)
{
    const char *v = mock_intern(table, s);
    if (v || !s)
        return v;
    char *copy = mock_idmap_get(&api->interned, s);
    if (copy)
        return copy;
    if (api->interned.count >= MOCK_CAP_INTERNED || !(copy = mock_strdup(s)))
        return NULL;
    if (mock_idmap_put(&api->interned, copy, copy)) {
        free(copy);
        return NULL;
    }
    return copy;
}

/* ---- rendering through the cache ---- */

/* When the cached text of a resource stops being valid: schedule triggers
 * show nextRun, which moves when the clock passes it. */
static int64_t cache_until(struct mock_ctx *c, const void *item, mock_render_fn render)
{
    if (render == mock_render_task) {
        const struct mock_task *t = item;
        if (strcmp(t->trigger_type, "schedule") == 0) {
            int64_t next = mock_cron_next(&t->cron_parsed, c->now);
            return next > 0 ? next : c->now;
        }
    }
    return INT64_MAX;
}

/* An uncached tree is conformed with the whole answer (api.c); the cached
 * text is conformed before it is kept. */
cJSON *mock_render_res(struct mock_ctx *c, const void *item, mock_render_fn render, bool cacheable,
                       const struct mock_plan *plan)
{
    if (!cacheable || (c->op->faults & STRUCTURE_FAULTS))
        return render(c, item);
    struct mock_res *h = (struct mock_res *)(uintptr_t)item;
    if (h->cache && (c->now >= h->cache_until || h->cache_plan != plan))
        mock_res_touch(h);
    if (!h->cache) {
        cJSON *tree = render(c, item);
        if (tree && plan && mock_conform(c->api, plan, tree)) {
            cJSON_Delete(tree);
            tree = NULL;
        }
        h->cache = tree ? json_print(tree, false) : NULL;
        h->cache_until = cache_until(c, item, render);
        h->cache_plan = plan;
        cJSON_Delete(tree);
        if (!h->cache)
            return NULL;
    }
    return cJSON_CreateRaw(h->cache);
}

/* ---- search: the listed IDs that exist, in the order given ---- */

void mock_search(struct mock_ctx *c, enum mock_kind k, const char *field, mock_render_fn render)
{
    const cJSON *ids = mock_get(c->body, field);
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
        cJSON *o = mock_render_res(c, r, render, true, mock_plan_items(c->op->plan));
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

bool mock_filters_init(struct mock_ctx *c, struct filters *f, const char *a, const char *b,
                       const char *d, const char *e)
{
    memset(f, 0, sizeof(*f));
    if (mock_valueset_init(&f->a, a ? mock_get(c->params, a) : NULL) ||
        mock_valueset_init(&f->b, b ? mock_get(c->params, b) : NULL) ||
        mock_valueset_init(&f->d, d ? mock_get(c->params, d) : NULL) ||
        mock_valueset_init(&f->e, e ? mock_get(c->params, e) : NULL)) {
        mock_fail(c, 500, "out of memory");
        return false;
    }
    return true;
}

void mock_filters_finish(struct filters *f)
{
    mock_valueset_finish(&f->a);
    mock_valueset_finish(&f->b);
    mock_valueset_finish(&f->d);
    mock_valueset_finish(&f->e);
}

cJSON *mock_merged(const cJSON *base, const cJSON *patch)
{
    cJSON *m = cJSON_Duplicate(base, 1);
    if (!m || !cJSON_IsObject(patch))
        return m;
    for (const cJSON *it = patch->child; it; it = it->next) {
        cJSON *v = cJSON_Duplicate(it, 1);
        if (!v)
            goto fail;
        if (mock_get(m, it->string)) {
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

/* First resource of kind k whose field (by getter) equals id. */

const char *mock_first_user(struct mock_ctx *c, enum mock_kind k, const char *id,
                            const char *(*field)(const void *))
{
    struct mock_coll *coll = &c->api->store.coll[k];
    for (size_t i = 0; i < coll->count; i++)
        if (strcmp(field(coll->items[i]), id) == 0)
            return coll->items[i]->id;
    return NULL;
}

/* Checks an optional authenticationID reference of the body. */
bool mock_auth_ref(struct mock_ctx *c, const char *id, struct mock_auth **out)
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

void mock_move_ref(struct mock_store *s, enum mock_kind k, const char *from, const char *to)
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
