/* Destinations: /1/destinations and /1/destinations/{destinationID}. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *render_dest(struct mock_ctx *c, const void *p)
{
    const struct mock_dest *d = p;
    (void)c;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "destinationID", d->h.id) ||
        !cJSON_AddStringToObject(o, "type", d->type) ||
        !cJSON_AddStringToObject(o, "name", d->name) || !mock_add_copy(o, "input", d->input) ||
        !mock_add_time(o, "createdAt", d->h.created) ||
        !mock_add_time(o, "updatedAt", d->h.updated) ||
        (d->auth_id[0] && !cJSON_AddStringToObject(o, "authenticationID", d->auth_id))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static const char *task_dest(const void *p)
{
    return ((const struct mock_task *)p)->dest_id;
}

/* ---- destinations ---- */

static bool dest_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_dest *d = item;
    struct filters *f = arg;
    (void)c;
    return mock_valueset_has(&f->a, d->type) && mock_valueset_has(&f->b, d->auth_id);
}

static void mock_destinations_list(struct mock_ctx *c)
{
    struct filters f;
    if (mock_filters_init(c, &f, "type", "authenticationID", NULL, NULL))
        mock_list_kind(c, KIND_DEST, dest_filter, &f,
                       mock_parse_key(mock_gets(c->params, "sort"), KEY_CREATED), render_dest,
                       "destinations", NULL);
    mock_filters_finish(&f);
}

static void mock_destinations_create(struct mock_ctx *c)
{
    const cJSON *b = c->body;
    struct mock_auth *auth;
    if (!mock_auth_ref(c, mock_gets(b, "authenticationID"), &auth))
        return;
    struct mock_dest *d = calloc(1, sizeof(*d));
    if (!d) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    mock_init_res(c, &d->h);
    d->type = mock_intern_value(c->api, mock_dest_types, mock_gets(b, "type"));
    d->name = mock_strdup(mock_gets(b, "name"));
    d->input = cJSON_Duplicate(mock_get(b, "input"), 1);
    mock_copy_id(d->auth_id, mock_gets(b, "authenticationID"));
    if (!d->type || !d->name || !d->input) {
        mock_res_free(KIND_DEST, &d->h);
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (!mock_store_put(c, KIND_DEST, &d->h))
        return;
    if (auth)
        auth->refs++;
    mock_answer_short(c, "destinationID", d->h.id, d->name, "createdAt", d->h.created);
}

static void mock_destinations_search(struct mock_ctx *c)
{
    mock_search(c, KIND_DEST, "destinationIDs", render_dest);
}

static void mock_destinations_get(struct mock_ctx *c)
{
    struct mock_dest *d = mock_lookup(c, KIND_DEST, "destinationID", "destination");
    if (d)
        mock_ok(c, mock_render_res(c, d, render_dest, true, c->op->plan));
}

static void mock_destinations_update(struct mock_ctx *c)
{
    struct mock_dest *d = mock_lookup(c, KIND_DEST, "destinationID", "destination");
    if (!d)
        return;
    const cJSON *b = c->body;
    struct mock_auth *auth;
    const char *auth_id = mock_gets(b, "authenticationID");
    if (!mock_auth_ref(c, auth_id, &auth))
        return;
    const char *type = mock_gets(b, "type")
                           ? mock_intern_value(c->api, mock_dest_types, mock_gets(b, "type"))
                           : d->type;
    const char *name = mock_gets(b, "name") ? mock_gets(b, "name") : d->name;
    cJSON *input = cJSON_Duplicate(mock_get(b, "input") ? mock_get(b, "input") : d->input, 1);
    char *newname = mock_strdup(name);
    cJSON *post = cJSON_CreateObject();
    const char *new_auth = auth_id ? auth_id : d->auth_id;
    if (!type || !input || !newname || !post || !cJSON_AddStringToObject(post, "type", type) ||
        !cJSON_AddStringToObject(post, "name", name) || !mock_add_copy(post, "input", input) ||
        (*new_auth && !cJSON_AddStringToObject(post, "authenticationID", new_auth))) {
        mock_fail(c, 500, "out of memory");
        goto cleanup;
    }
    if (!mock_check(c, c->api->dest_create, post,
                    "body: the updated destination would be invalid:"))
        goto cleanup;
    if (auth_id) {
        mock_move_ref(&c->api->store, KIND_AUTH, d->auth_id, auth_id);
        mock_copy_id(d->auth_id, auth_id);
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
    mock_answer_short(c, "destinationID", d->h.id, d->name, "updatedAt", d->h.updated);
cleanup:
    cJSON_Delete(post);
    cJSON_Delete(input);
    free(newname);
}

static void mock_destinations_delete(struct mock_ctx *c)
{
    struct mock_dest *d = mock_lookup(c, KIND_DEST, "destinationID", "destination");
    if (!d)
        return;
    if (d->refs) {
        mock_fail(c, 400, "destination '%s' is used by task '%s'%s; delete those tasks first",
                  d->h.id, mock_first_user(c, KIND_TASK, d->h.id, task_dest),
                  d->refs > 1 ? " and others" : "");
        return;
    }
    mock_move_ref(&c->api->store, KIND_AUTH, d->auth_id, NULL);
    mock_store_remove(&c->api->store, KIND_DEST, &d->h);
    mock_answer_deleted(c);
}

const struct mock_model_row mock_destinations_rows[] = {
    {"GET", "/1/destinations", mock_destinations_list},
    {"POST", "/1/destinations", mock_destinations_create},
    {"POST", "/1/destinations/search", mock_destinations_search},
    {"GET", "/1/destinations/{destinationID}", mock_destinations_get},
    {"PATCH", "/1/destinations/{destinationID}", mock_destinations_update},
    {"DELETE", "/1/destinations/{destinationID}", mock_destinations_delete},
    {NULL, NULL, NULL},
};
