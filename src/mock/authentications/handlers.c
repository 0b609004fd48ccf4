/* Authentications: /1/authentications and /1/authentications/{authenticationID}. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (!mock_add_time(o, "createdAt", a->h.created) ||
        !mock_add_time(o, "updatedAt", a->h.updated))
        goto fail;
    return o;
fail:
    cJSON_Delete(input);
    cJSON_Delete(o);
    return NULL;
}

static bool auth_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_auth *a = item;
    struct filters *f = arg;
    (void)c;
    return mock_valueset_has(&f->a, a->type) && mock_valueset_has(&f->b, a->platform);
}

static void mock_authentications_list(struct mock_ctx *c)
{
    struct filters f;
    if (mock_filters_init(c, &f, "type", "platform", NULL, NULL))
        mock_list_kind(c, KIND_AUTH, auth_filter, &f,
                       mock_parse_key(mock_gets(c->params, "sort"), KEY_CREATED), render_auth,
                       "authentications", NULL);
    mock_filters_finish(&f);
}

static void mock_authentications_create(struct mock_ctx *c)
{
    const cJSON *b = c->body;
    struct mock_auth *a = calloc(1, sizeof(*a));
    if (!a) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    mock_init_res(c, &a->h);
    a->type = mock_intern_value(c->api, mock_auth_types, mock_gets(b, "type"));
    a->platform = mock_intern_value(c->api, mock_platforms, mock_gets(b, "platform"));
    a->name = mock_strdup(mock_gets(b, "name"));
    a->input = cJSON_Duplicate(mock_get(b, "input"), 1);
    if (!a->type || !a->name || !a->input) {
        mock_res_free(KIND_AUTH, &a->h);
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (mock_store_put(c, KIND_AUTH, &a->h))
        mock_answer_short(c, "authenticationID", a->h.id, a->name, "createdAt", a->h.created);
}

static void mock_authentications_search(struct mock_ctx *c)
{
    mock_search(c, KIND_AUTH, "authenticationIDs", render_auth);
}

static void mock_authentications_get(struct mock_ctx *c)
{
    struct mock_auth *a = mock_lookup(c, KIND_AUTH, "authenticationID", "authentication");
    if (a)
        mock_ok(c, mock_render_res(c, a, render_auth, true, c->op->plan));
}

/* Shallow merge of patch into a copy of base; NULL on ENOMEM. */

static void mock_authentications_update(struct mock_ctx *c)
{
    struct mock_auth *a = mock_lookup(c, KIND_AUTH, "authenticationID", "authentication");
    if (!a)
        return;
    const cJSON *b = c->body;
    const char *type = mock_gets(b, "type")
                           ? mock_intern_value(c->api, mock_auth_types, mock_gets(b, "type"))
                           : a->type;
    const char *name = mock_gets(b, "name") ? mock_gets(b, "name") : a->name;
    const cJSON *pl = mock_get(b, "platform");
    const char *platform =
        pl ? mock_intern_value(c->api, mock_platforms, mock_gets(b, "platform")) : a->platform;
    const cJSON *in = mock_get(b, "input");
    cJSON *input = !in               ? cJSON_Duplicate(a->input, 1)
                   : type != a->type ? cJSON_Duplicate(in, 1)
                                     : mock_merged(a->input, in);
    cJSON *post = cJSON_CreateObject();
    char *newname = mock_strdup(name);
    if (!type || !post || !input || !newname || !cJSON_AddStringToObject(post, "type", type) ||
        !cJSON_AddStringToObject(post, "name", name) ||
        (platform && !cJSON_AddStringToObject(post, "platform", platform)) ||
        !mock_add_copy(post, "input", input)) {
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
    mock_answer_short(c, "authenticationID", a->h.id, a->name, "updatedAt", a->h.updated);
cleanup:
    cJSON_Delete(post);
    cJSON_Delete(input);
    free(newname);
}

static const char *source_auth(const void *p)
{
    return ((const struct mock_source *)p)->auth_id;
}

static const char *dest_auth(const void *p)
{
    return ((const struct mock_dest *)p)->auth_id;
}

static void mock_authentications_delete(struct mock_ctx *c)
{
    struct mock_auth *a = mock_lookup(c, KIND_AUTH, "authenticationID", "authentication");
    if (!a)
        return;
    if (a->refs) {
        const char *src = mock_first_user(c, KIND_SOURCE, a->h.id, source_auth);
        const char *dst = src ? NULL : mock_first_user(c, KIND_DEST, a->h.id, dest_auth);
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
    mock_answer_deleted(c);
}

const struct mock_model_row mock_authentications_rows[] = {
    {"GET", "/1/authentications", mock_authentications_list},
    {"POST", "/1/authentications", mock_authentications_create},
    {"POST", "/1/authentications/search", mock_authentications_search},
    {"GET", "/1/authentications/{authenticationID}", mock_authentications_get},
    {"PATCH", "/1/authentications/{authenticationID}", mock_authentications_update},
    {"DELETE", "/1/authentications/{authenticationID}", mock_authentications_delete},
    {NULL, NULL, NULL},
};
