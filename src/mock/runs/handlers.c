/* Runs and their events: /1/runs, /1/runs/{runID}, /1/runs/{runID}/events. */
#include "mock/resource.h"

#include "json/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        !cJSON_AddStringToObject(o, "type", r->type) ||
        !mock_add_time(o, "createdAt", r->h.created) ||
        (r->started && !mock_add_time(o, "startedAt", r->started)) ||
        (r->finished && !mock_add_time(o, "finishedAt", r->finished)))
        goto fail;
    return o;
fail:
    cJSON_Delete(prog);
    cJSON_Delete(o);
    return NULL;
}

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
        !cJSON_AddNumberToObject(o, "batchSize", e->batch_size) ||
        !mock_add_copy(o, "data", e->data) || !mock_add_time(o, "publishedAt", e->published)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

struct mock_run *mock_new_run(struct mock_ctx *c, const char *task_id, const char *type,
                              int threshold)
{
    struct mock_run *r = calloc(1, sizeof(*r));
    if (!r) {
        mock_fail(c, 500, "out of memory");
        return NULL;
    }
    mock_init_res(c, &r->h);
    mock_copy_id(r->task_id, task_id);
    r->status = "created";
    r->type = type;
    r->failure_threshold = threshold;
    r->expected = 2; /* a discover run's; a task run's is drawn */
    mock_vary_run(c->api, r);
    return mock_store_put(c, KIND_RUN, &r->h) ? r : NULL;
}

/* ---- observability ---- */

#define SEVEN_DAYS_MS (7LL * 24 * 3600 * 1000)
#define THREE_HOURS_MS (3LL * 3600 * 1000)

static bool run_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_run *r = item;
    struct filters *f = arg;
    (void)c;
    return mock_valueset_has(&f->a, r->status) &&
           (!f->task_id || strcmp(f->task_id, r->task_id) == 0) && r->h.created >= f->from &&
           r->h.created <= f->to;
}

static void mock_runs_list(struct mock_ctx *c)
{
    struct filters f;
    if (mock_filters_init(c, &f, "status", NULL, NULL, NULL)) {
        f.task_id = mock_gets(c->params, "taskID");
        cJSON *w = mock_read_window(c, SEVEN_DAYS_MS, &f.from, &f.to);
        if (w)
            mock_list_kind(c, KIND_RUN, run_filter, &f,
                           mock_parse_key(mock_gets(c->params, "sort"), KEY_CREATED), render_run,
                           "runs", w);
    }
    mock_filters_finish(&f);
}

static void mock_runs_get(struct mock_ctx *c)
{
    struct mock_run *r = mock_lookup(c, KIND_RUN, "runID", "run");
    if (r)
        mock_ok(c, render_run(c, r));
}

static bool event_filter(struct mock_ctx *c, const void *item, void *arg)
{
    const struct mock_event *e = ((const struct event_ref *)item)->ev;
    struct filters *f = arg;
    (void)c;
    return mock_valueset_has(&f->a, e->status) && mock_valueset_has(&f->b, e->type) &&
           e->published >= f->from && e->published <= f->to;
}

static void mock_events_list(struct mock_ctx *c)
{
    struct mock_run *r = mock_lookup(c, KIND_RUN, "runID", "run");
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
    if (mock_filters_init(c, &f, "status", "type", NULL, NULL)) {
        cJSON *w = mock_read_window(c, THREE_HOURS_MS, &f.from, &f.to);
        if (w) {
            struct listing l = {
                .items = ptrs,
                .count = r->nevents,
                .filter = event_filter,
                .filter_arg = &f,
                .sorter = {.kind = KIND_EVENT,
                           .key = mock_parse_key(mock_gets(c->params, "sort"), KEY_PUBLISHED)},
                .render = render_event,
                .name = "events",
                .window = w};
            mock_list(c, &l);
            cJSON_Delete(l.window);
        }
    }
    mock_filters_finish(&f);
    free(refs);
    free(ptrs);
}

static void mock_events_get(struct mock_ctx *c)
{
    struct mock_run *r = mock_lookup(c, KIND_RUN, "runID", "run");
    if (!r)
        return;
    const char *id = mock_gets(c->params, "eventID");
    for (size_t i = 0; i < r->nevents; i++) {
        if (id && strcmp(r->events[i].id, id) == 0) {
            struct event_ref er = {r, &r->events[i]};
            mock_ok(c, render_event(c, &er));
            return;
        }
    }
    mock_not_found(c, "event", id);
}

const struct mock_model_row mock_runs_rows[] = {
    {"GET", "/1/runs", mock_runs_list},
    {"GET", "/1/runs/{runID}", mock_runs_get},
    {"GET", "/1/runs/{runID}/events", mock_events_list},
    {"GET", "/1/runs/{runID}/events/{eventID}", mock_events_get},
    {NULL, NULL, NULL},
};
