/* Sources: /1/sources, /1/sources/{sourceID} and the docker streams and
 * discover operations. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *render_source(struct mock_ctx *c, const void *p)
{
    const struct mock_source *s = p;
    (void)c;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "sourceID", s->h.id) ||
        !cJSON_AddStringToObject(o, "type", s->type) ||
        !cJSON_AddStringToObject(o, "name", s->name) ||
        (s->input && !mock_add_copy(o, "input", s->input)) ||
        (s->auth_id[0] && !cJSON_AddStringToObject(o, "authenticationID", s->auth_id)) ||
        !mock_add_time(o, "createdAt", s->h.created) ||
        !mock_add_time(o, "updatedAt", s->h.updated)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static const char *task_source(const void *p)
{
    return ((const struct mock_task *)p)->source_id;
}

/* ---- sources ---- */

static bool source_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_source *s = item;
    struct filters *f = arg;
    (void)c;
    return mock_valueset_has(&f->a, s->type) && mock_valueset_has(&f->b, s->auth_id);
}

static void mock_sources_list(struct mock_ctx *c)
{
    struct filters f;
    if (mock_filters_init(c, &f, "type", "authenticationID", NULL, NULL))
        mock_list_kind(c, KIND_SOURCE, source_filter, &f,
                       mock_parse_key(mock_gets(c->params, "sort"), KEY_CREATED), render_source,
                       "sources", NULL);
    mock_filters_finish(&f);
}

static void mock_sources_create(struct mock_ctx *c)
{
    const cJSON *b = c->body;
    struct mock_auth *auth;
    if (!mock_auth_ref(c, mock_gets(b, "authenticationID"), &auth))
        return;
    struct mock_source *s = calloc(1, sizeof(*s));
    if (!s) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    mock_init_res(c, &s->h);
    s->type = mock_intern_value(c->api, mock_source_types, mock_gets(b, "type"));
    s->name = mock_strdup(mock_gets(b, "name"));
    /* Some revisions make the input optional. */
    s->input = cJSON_Duplicate(mock_get(b, "input"), 1);
    mock_copy_id(s->auth_id, mock_gets(b, "authenticationID"));
    if (!s->type || !s->name || (mock_get(b, "input") && !s->input)) {
        mock_res_free(KIND_SOURCE, &s->h);
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (!mock_store_put(c, KIND_SOURCE, &s->h))
        return;
    if (auth)
        auth->refs++;
    mock_answer_short(c, "sourceID", s->h.id, s->name, "createdAt", s->h.created);
}

static void mock_sources_search(struct mock_ctx *c)
{
    mock_search(c, KIND_SOURCE, "sourceIDs", render_source);
}

static void mock_sources_get(struct mock_ctx *c)
{
    struct mock_source *s = mock_lookup(c, KIND_SOURCE, "sourceID", "source");
    if (s)
        mock_ok(c, mock_render_res(c, s, render_source, true, c->op->plan));
}

static void mock_sources_update(struct mock_ctx *c)
{
    struct mock_source *s = mock_lookup(c, KIND_SOURCE, "sourceID", "source");
    if (!s)
        return;
    const cJSON *b = c->body;
    struct mock_auth *auth;
    const char *auth_id = mock_gets(b, "authenticationID");
    if (!mock_auth_ref(c, auth_id, &auth))
        return;
    const char *name = mock_gets(b, "name") ? mock_gets(b, "name") : s->name;
    const cJSON *patch = mock_get(b, "input");
    cJSON *input = s->input ? mock_merged(s->input, patch) : cJSON_Duplicate(patch, 1);
    char *newname = mock_strdup(name);
    cJSON *post = cJSON_CreateObject();
    const char *new_auth = auth_id ? auth_id : s->auth_id;
    if ((!input && (s->input || patch)) || !newname || !post ||
        !cJSON_AddStringToObject(post, "type", s->type) ||
        !cJSON_AddStringToObject(post, "name", name) ||
        (input && !mock_add_copy(post, "input", input)) ||
        (*new_auth && !cJSON_AddStringToObject(post, "authenticationID", new_auth))) {
        mock_fail(c, 500, "out of memory");
        goto cleanup;
    }
    if (!mock_check(c, c->api->source_create, post, "body: the updated source would be invalid:"))
        goto cleanup;
    if (auth_id) {
        mock_move_ref(&c->api->store, KIND_AUTH, s->auth_id, auth_id);
        mock_copy_id(s->auth_id, auth_id);
    }
    free(s->name);
    s->name = newname;
    newname = NULL;
    cJSON_Delete(s->input);
    s->input = input;
    input = NULL;
    s->h.updated = c->now;
    mock_res_touch(&s->h);
    mock_answer_short(c, "sourceID", s->h.id, s->name, "updatedAt", s->h.updated);
cleanup:
    cJSON_Delete(post);
    cJSON_Delete(input);
    free(newname);
}

static void mock_sources_delete(struct mock_ctx *c)
{
    struct mock_source *s = mock_lookup(c, KIND_SOURCE, "sourceID", "source");
    if (!s)
        return;
    if (s->refs) {
        mock_fail(c, 400, "source '%s' is used by task '%s'%s; delete those tasks first", s->h.id,
                  mock_first_user(c, KIND_TASK, s->h.id, task_source),
                  s->refs > 1 ? " and others" : "");
        return;
    }
    mock_move_ref(&c->api->store, KIND_AUTH, s->auth_id, NULL);
    mock_store_remove(&c->api->store, KIND_SOURCE, &s->h);
    mock_answer_deleted(c);
}

/* Docker sources with imageType singer are the only ones with streams. */
static struct mock_source *singer_source(struct mock_ctx *c)
{
    struct mock_source *s = mock_lookup(c, KIND_SOURCE, "sourceID", "source");
    if (!s)
        return NULL;
    const char *image_type = mock_gets(s->input, "imageType");
    /* Revisions without imageType (2025) have docker sources of one kind. */
    if (strcmp(s->type, "docker") != 0 || (image_type && strcmp(image_type, "singer") != 0)) {
        mock_fail(c, 400,
                  "source '%s' has type %s%s%s: listing streams only works with sources with "
                  "type: docker and imageType: singer",
                  s->h.id, s->type, image_type ? " and imageType " : "",
                  image_type ? image_type : "");
        return NULL;
    }
    return s;
}

static void mock_sources_streams(struct mock_ctx *c)
{
    struct mock_source *s = singer_source(c);
    if (!s)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *streams = o ? cJSON_AddArrayToObject(o, "streams") : NULL;
    if (!streams)
        goto fail;
    if (s->discovered) {
        const char *image = mock_gets(s->input, "image");
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

static void mock_sources_discover(struct mock_ctx *c)
{
    struct mock_source *s = singer_source(c);
    if (!s)
        return;
    /* A discover run belongs to no task; its taskID is the source's ID. */
    struct mock_run *r = mock_new_run(c, s->h.id, "discover", -1);
    if (!r)
        return;
    mock_copy_id(r->source_id, s->h.id);
    mock_answer_short(c, "runID", r->h.id, NULL, "createdAt", r->h.created);
}

const struct mock_model_row mock_sources_rows[] = {
    {"GET", "/1/sources", mock_sources_list},
    {"POST", "/1/sources", mock_sources_create},
    {"POST", "/1/sources/search", mock_sources_search},
    {"GET", "/1/sources/{sourceID}", mock_sources_get},
    {"PATCH", "/1/sources/{sourceID}", mock_sources_update},
    {"DELETE", "/1/sources/{sourceID}", mock_sources_delete},
    {"GET", "/1/sources/{sourceID}/discover", mock_sources_streams},
    {"POST", "/1/sources/{sourceID}/discover", mock_sources_discover},
    {NULL, NULL, NULL},
};
