/* Tasks (V1 shape): /1/tasks, /1/tasks/{taskID}, run, enable, disable. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *render_trigger(const struct mock_task *t, int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "type", t->trigger_type))
        goto fail;
    bool schedule = strcmp(t->trigger_type, "schedule") == 0;
    bool on_demand = strcmp(t->trigger_type, "onDemand") == 0;
    if (schedule && !cJSON_AddStringToObject(o, "cron", t->cron ? t->cron : "0 * * * *"))
        goto fail;
    if ((schedule || on_demand) && t->last_run && !mock_add_time(o, "lastRun", t->last_run))
        goto fail;
    if (schedule) {
        int64_t next = mock_cron_next(&t->cron_parsed, now);
        if (!mock_add_time(o, "nextRun", next > 0 ? next : now))
            goto fail;
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

cJSON *mock_render_task(struct mock_ctx *c, const void *p)
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
    if ((t->input && !mock_add_copy(o, "input", t->input)) ||
        !cJSON_AddBoolToObject(o, "enabled", t->enabled) ||
        (t->failure_threshold >= 0 &&
         !cJSON_AddNumberToObject(o, "failureThreshold", t->failure_threshold)) ||
        !cJSON_AddStringToObject(o, "action", t->action) ||
        !mock_add_time(o, "createdAt", t->h.created) ||
        !mock_add_time(o, "updatedAt", t->h.updated))
        goto fail;
    return o;
fail:
    cJSON_Delete(trig);
    cJSON_Delete(o);
    return NULL;
}

/* ---- tasks ---- */

static bool task_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_task *t = item;
    struct filters *f = arg;
    (void)c;
    return mock_valueset_has(&f->a, t->action) && mock_valueset_has(&f->b, t->source_id) &&
           mock_valueset_has(&f->d, t->dest_id) && mock_valueset_has(&f->e, t->trigger_type) &&
           (!f->enabled || cJSON_IsTrue(f->enabled) == t->enabled);
}

static void mock_tasks_list(struct mock_ctx *c)
{
    struct filters f;
    if (mock_filters_init(c, &f, "action", "sourceID", "destinationID", "triggerType")) {
        f.enabled = mock_get(c->params, "enabled");
        mock_list_kind(c, KIND_TASK, task_filter, &f,
                       mock_parse_key(mock_gets(c->params, "sort"), KEY_CREATED), mock_render_task,
                       "tasks", NULL);
    }
    mock_filters_finish(&f);
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
    char *copy = mock_strdup(cron);
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

static void mock_tasks_create(struct mock_ctx *c)
{
    const cJSON *b = c->body;
    if (!task_refs(c, mock_gets(b, "sourceID"), mock_gets(b, "destinationID")))
        return;
    struct mock_task *t = calloc(1, sizeof(*t));
    if (!t) {
        mock_fail(c, 500, "out of memory");
        return;
    }
    mock_init_res(c, &t->h);
    const cJSON *trig = mock_get(b, "trigger");
    mock_copy_id(t->source_id, mock_gets(b, "sourceID"));
    mock_copy_id(t->dest_id, mock_gets(b, "destinationID"));
    t->trigger_type = mock_intern_value(c->api, mock_trigger_types, mock_gets(trig, "type"));
    t->action = mock_intern_value(c->api, mock_actions, mock_gets(b, "action"));
    t->enabled = !cJSON_IsFalse(mock_get(b, "enabled"));
    const cJSON *ft = mock_get(b, "failureThreshold");
    t->failure_threshold = cJSON_IsNumber(ft) ? (int)ft->valuedouble : -1;
    if (mock_get(b, "input") && !(t->input = cJSON_Duplicate(mock_get(b, "input"), 1))) {
        mock_res_free(KIND_TASK, &t->h);
        mock_fail(c, 500, "out of memory");
        return;
    }
    if (!t->trigger_type || !t->action) {
        mock_res_free(KIND_TASK, &t->h);
        mock_fail(c, 400, "body: unknown trigger type or action");
        return;
    }
    if (strcmp(t->trigger_type, "schedule") == 0 && !set_cron(c, t, mock_gets(trig, "cron"))) {
        mock_res_free(KIND_TASK, &t->h);
        return;
    }
    if (!mock_store_put(c, KIND_TASK, &t->h))
        return;
    mock_move_ref(&c->api->store, KIND_SOURCE, NULL, t->source_id);
    mock_move_ref(&c->api->store, KIND_DEST, NULL, t->dest_id);
    mock_answer_short(c, "taskID", t->h.id, NULL, "createdAt", t->h.created);
}

static void mock_tasks_search(struct mock_ctx *c)
{
    mock_search(c, KIND_TASK, "taskIDs", mock_render_task);
}

static void mock_tasks_get(struct mock_ctx *c)
{
    struct mock_task *t = mock_lookup(c, KIND_TASK, "taskID", "task");
    if (t)
        mock_ok(c, mock_render_res(c, t, mock_render_task, true, c->op->plan));
}

static void mock_tasks_update(struct mock_ctx *c)
{
    struct mock_task *t = mock_lookup(c, KIND_TASK, "taskID", "task");
    if (!t)
        return;
    const cJSON *b = c->body;
    const char *dest = mock_gets(b, "destinationID");
    if (!task_refs(c, NULL, dest))
        return;
    const cJSON *trig = mock_get(b, "trigger");
    const cJSON *ft = mock_get(b, "failureThreshold");
    const cJSON *input = mock_get(b, "input") ? mock_get(b, "input") : t->input;
    int threshold = cJSON_IsNumber(ft) ? (int)ft->valuedouble : t->failure_threshold;
    bool enabled = mock_get(b, "enabled") ? cJSON_IsTrue(mock_get(b, "enabled")) : t->enabled;
    /* The task after the update must still be a valid TaskCreate. */
    cJSON *post = cJSON_CreateObject();
    cJSON *pt = post ? cJSON_AddObjectToObject(post, "trigger") : NULL;
    const char *cron = mock_gets(trig, "cron") ? mock_gets(trig, "cron") : t->cron;
    if (!pt || !cJSON_AddStringToObject(post, "sourceID", t->source_id) ||
        !cJSON_AddStringToObject(post, "destinationID", dest ? dest : t->dest_id) ||
        !cJSON_AddStringToObject(pt, "type", t->trigger_type) ||
        (cron && !cJSON_AddStringToObject(pt, "cron", cron)) ||
        !cJSON_AddStringToObject(post, "action", t->action) ||
        !cJSON_AddBoolToObject(post, "enabled", enabled) ||
        (threshold >= 0 && !cJSON_AddNumberToObject(post, "failureThreshold", threshold)) ||
        (input && !mock_add_copy(post, "input", input))) {
        mock_fail(c, 500, "out of memory");
        goto cleanup;
    }
    if (!mock_check(c, c->api->task_create, post, "body: the updated task would be invalid:"))
        goto cleanup;
    if (mock_gets(trig, "cron") && !set_cron(c, t, mock_gets(trig, "cron")))
        goto cleanup;
    if (mock_get(b, "input")) {
        cJSON *copy = cJSON_Duplicate(mock_get(b, "input"), 1);
        if (!copy) {
            mock_fail(c, 500, "out of memory");
            goto cleanup;
        }
        cJSON_Delete(t->input);
        t->input = copy;
    }
    if (dest) {
        mock_move_ref(&c->api->store, KIND_DEST, t->dest_id, dest);
        mock_copy_id(t->dest_id, dest);
    }
    t->enabled = enabled;
    t->failure_threshold = threshold;
    t->h.updated = c->now;
    mock_res_touch(&t->h);
    mock_answer_short(c, "taskID", t->h.id, NULL, "updatedAt", t->h.updated);
cleanup:
    cJSON_Delete(post);
}

static void mock_tasks_delete(struct mock_ctx *c)
{
    struct mock_task *t = mock_lookup(c, KIND_TASK, "taskID", "task");
    if (!t)
        return;
    mock_move_ref(&c->api->store, KIND_SOURCE, t->source_id, NULL);
    mock_move_ref(&c->api->store, KIND_DEST, t->dest_id, NULL);
    mock_store_remove(&c->api->store, KIND_TASK, &t->h);
    mock_answer_deleted(c);
}

static void mock_tasks_run(struct mock_ctx *c)
{
    struct mock_task *t = mock_lookup(c, KIND_TASK, "taskID", "task");
    if (!t)
        return;
    const char *type = strcmp(t->action, "replace") == 0 ? "reindex" : "update";
    struct mock_run *r = mock_new_run(c, t->h.id, type, t->failure_threshold);
    if (!r)
        return;
    t->last_run = r->h.created;
    mock_res_touch(&t->h);
    mock_answer_short(c, "runID", r->h.id, NULL, "createdAt", r->h.created);
}

static void set_enabled(struct mock_ctx *c, bool on)
{
    struct mock_task *t = mock_lookup(c, KIND_TASK, "taskID", "task");
    if (!t)
        return;
    t->enabled = on;
    t->h.updated = c->now;
    mock_res_touch(&t->h);
    mock_answer_short(c, "taskID", t->h.id, NULL, "updatedAt", t->h.updated);
}

static void mock_tasks_enable(struct mock_ctx *c)
{
    set_enabled(c, true);
}

static void mock_tasks_disable(struct mock_ctx *c)
{
    set_enabled(c, false);
}

const struct mock_model_row mock_tasks_rows[] = {
    {"GET", "/1/tasks", mock_tasks_list},
    {"POST", "/1/tasks", mock_tasks_create},
    {"POST", "/1/tasks/search", mock_tasks_search},
    {"GET", "/1/tasks/{taskID}", mock_tasks_get},
    {"PATCH", "/1/tasks/{taskID}", mock_tasks_update},
    {"DELETE", "/1/tasks/{taskID}", mock_tasks_delete},
    {"POST", "/1/tasks/{taskID}/run", mock_tasks_run},
    {"PUT", "/1/tasks/{taskID}/enable", mock_tasks_enable},
    {"PUT", "/1/tasks/{taskID}/disable", mock_tasks_disable},
    {NULL, NULL, NULL},
};
