/* The in-memory store: per kind a hash map by ID (O(1) lookup) and an
 * array in creation order (listing sorted by createdAt needs no sort). */
#include "mock/internal.h"

#include <stdlib.h>
#include <string.h>

const char *const mock_auth_types[] = {
    "googleServiceAccount", "basic", "apiKey", "oauth", "algolia", "algoliaInsights", NULL};
const char *const mock_platforms[] = {"bigcommerce", "commercetools", "shopify", NULL};
const char *const mock_source_types[] = {
    "bigcommerce",       "bigquery", "commercetools", "csv",  "docker",
    "ga4BigqueryExport", "json",     "shopify",       "sfcc", NULL};
const char *const mock_dest_types[] = {"search", "insights", NULL};
const char *const mock_trigger_types[] = {"onDemand", "schedule", "subscription", "streaming",
                                          NULL};
const char *const mock_actions[] = {"replace", "save", "partial", "append", NULL};
const char *const mock_run_statuses[] = {"created",  "started", "idled",
                                         "finished", "skipped", NULL};
const char *const mock_event_statuses[] = {"created",   "started",  "retried", "failed",
                                           "succeeded", "critical", NULL};
const char *const mock_event_types[] = {"fetch", "record", "log", "transform", NULL};

const char *mock_intern(const char *const *table, const char *s)
{
    if (!s)
        return NULL;
    for (; *table; table++)
        if (strcmp(*table, s) == 0)
            return *table;
    return NULL;
}

int mock_store_init(struct mock_store *s)
{
    memset(s, 0, sizeof(*s));
    for (int k = 0; k < KIND_COUNT; k++)
        if (mock_idmap_init(&s->coll[k].map))
            return UTIL_ERR_NOMEM;
    s->next_seq = 1;
    return UTIL_OK;
}

void mock_res_touch(struct mock_res *r)
{
    free(r->cache);
    r->cache = NULL;
}

void mock_res_free(enum mock_kind k, struct mock_res *r)
{
    if (!r)
        return;
    mock_res_touch(r);
    switch (k) {
    case KIND_AUTH: {
        struct mock_auth *a = (struct mock_auth *)r;
        free(a->name);
        cJSON_Delete(a->input);
        break;
    }
    case KIND_SOURCE: {
        struct mock_source *x = (struct mock_source *)r;
        free(x->name);
        cJSON_Delete(x->input);
        break;
    }
    case KIND_DEST: {
        struct mock_dest *x = (struct mock_dest *)r;
        free(x->name);
        cJSON_Delete(x->input);
        break;
    }
    case KIND_TASK: {
        struct mock_task *t = (struct mock_task *)r;
        free(t->cron);
        cJSON_Delete(t->input);
        break;
    }
    case KIND_RUN: {
        struct mock_run *run = (struct mock_run *)r;
        for (size_t i = 0; i < run->nevents; i++)
            cJSON_Delete(run->events[i].data);
        free(run->events);
        break;
    }
    case KIND_COUNT:
        break;
    }
    free(r);
}

void mock_store_finish(struct mock_store *s)
{
    for (int k = 0; k < KIND_COUNT; k++) {
        struct mock_coll *c = &s->coll[k];
        for (size_t i = 0; i < c->count; i++)
            mock_res_free((enum mock_kind)k, c->items[i]);
        free(c->items);
        mock_idmap_finish(&c->map);
    }
    free(s->active);
    memset(s, 0, sizeof(*s));
}

struct mock_res *mock_store_get(struct mock_store *s, enum mock_kind k, const char *id)
{
    return id ? mock_idmap_get(&s->coll[k].map, id) : NULL;
}

int mock_store_add(struct mock_store *s, enum mock_kind k, struct mock_res *r)
{
    struct mock_coll *c = &s->coll[k];
    if (c->count >= MOCK_CAP_RESOURCES)
        return UTIL_ERR_LIMIT;
    if (c->count == c->alloc) {
        size_t n = c->alloc ? c->alloc * 2 : 64;
        struct mock_res **p = realloc(c->items, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        c->items = p;
        c->alloc = n;
    }
    if (mock_idmap_put(&c->map, r->id, r))
        return UTIL_ERR_NOMEM;
    r->seq = s->next_seq++;
    c->items[c->count++] = r;
    if (k == KIND_RUN) {
        if (s->nactive == s->active_alloc) {
            size_t n = s->active_alloc ? s->active_alloc * 2 : 16;
            struct mock_run **p = realloc(s->active, n * sizeof(*p));
            if (!p) {
                c->count--;
                mock_idmap_del(&c->map, r->id);
                return UTIL_ERR_NOMEM;
            }
            s->active = p;
            s->active_alloc = n;
        }
        s->active[s->nactive++] = (struct mock_run *)r;
    }
    return UTIL_OK;
}

void mock_store_remove(struct mock_store *s, enum mock_kind k, struct mock_res *r)
{
    struct mock_coll *c = &s->coll[k];
    /* items are sorted by seq: binary search, then close the gap. */
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->items[mid]->seq < r->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->count && c->items[lo] == r) {
        memmove(&c->items[lo], &c->items[lo + 1], (c->count - lo - 1) * sizeof(*c->items));
        c->count--;
    }
    mock_idmap_del(&c->map, r->id);
    mock_res_free(k, r);
}

/* ---- run progression ---- */

struct stage_def {
    const char *type;
    int batch;
    const char *message;
};

/* A task run's events: fetch, transform, record, ... in turn, the last
 * one a log; a discover run's two events. */
static const struct stage_def ingest_stages[] = {
    {"fetch", 100, "fetched 100 records from the source"},
    {"transform", 100, "transformed 100 records"},
    {"record", 100, "pushed 100 records to the destination"},
};
static const struct stage_def ingest_last = {"log", 0, "run finished: 100 records processed"};
static const struct stage_def ingest_failed = {"log", 0,
                                               "run failed: the destination refused "
                                               "the records"};

static const struct stage_def discover_stages[] = {
    {"fetch", 0, "listed the streams of the source"},
    {"log", 0, "discovered 1 stream"},
};
static const struct stage_def discover_failed = {"log", 0,
                                                 "discovery failed: the source did "
                                                 "not answer"};

/* Publishes the next event of run at time t. */
static int publish(struct mock_api *api, struct mock_run *run, int64_t t)
{
    bool discover = strcmp(run->type, "discover") == 0;
    bool last = run->stage + 1 == run->expected;
    const struct stage_def *def = last && run->fails
                                      ? (discover ? &discover_failed : &ingest_failed)
                                  : discover ? &discover_stages[run->stage % 2]
                                  : last     ? &ingest_last
                                             : &ingest_stages[run->stage % 3];
    struct mock_event *p = realloc(run->events, (run->nevents + 1) * sizeof(*p));
    if (!p)
        return UTIL_ERR_NOMEM;
    run->events = p;
    struct mock_event *e = &run->events[run->nevents];
    memset(e, 0, sizeof(*e));
    e->data = cJSON_CreateObject();
    if (!e->data || !cJSON_AddStringToObject(e->data, "message", def->message))
        goto nomem;
    if (def->batch && !cJSON_AddNumberToObject(e->data, "records", def->batch))
        goto nomem;
    mock_new_id(api, e->id);
    if (run->nevents && strcmp(def->type, "log") != 0)
        memcpy(e->parent, run->events[run->nevents - 1].id, sizeof(e->parent));
    e->seq = api->store.next_seq++;
    e->status = last && run->fails ? "failed" : "succeeded";
    e->type = def->type;
    e->batch_size = def->batch;
    e->published = t;
    run->nevents++;
    run->stage++;
    return UTIL_OK;
nomem:
    cJSON_Delete(e->data);
    e->data = NULL;
    return UTIL_ERR_NOMEM;
}

/* Ends run at t with its outcome; a discover run that succeeds marks its
 * source discovered. */
static void finish(struct mock_store *s, struct mock_run *run, int64_t t)
{
    run->status = "finished";
    run->finished = t;
    run->h.updated = t;
    if (run->fails) {
        run->outcome = "failure";
        run->reason_code = "critical";
        run->reason = run->nevents ? "an event failed" : "the run failed before any event";
        return;
    }
    run->outcome = "success";
    run->reason_code = run->nevents ? "ok" : "no_events";
    run->reason = run->nevents ? "all events processed" : "no events to process";
    if (strcmp(run->type, "discover") == 0) {
        struct mock_source *src =
            (struct mock_source *)mock_store_get(s, KIND_SOURCE, run->source_id);
        if (src)
            src->discovered = true;
    }
}

/* A run starts one stage after its creation, publishes one event per
 * stage and finishes with its last event (a run of no events one stage
 * after it started). */
void mock_runs_advance(struct mock_api *api)
{
    struct mock_store *s = &api->store;
    size_t out = 0;
    for (size_t i = 0; i < s->nactive; i++) {
        struct mock_run *run = s->active[i];
        while (!run->finished) {
            int64_t t =
                run->h.created +
                (int64_t)(run->stage + 1 + (run->expected == 0 && run->started)) * api->stage_ms;
            if (t > api->now)
                break;
            if (!run->started) {
                run->started = t;
                run->status = "started";
                run->outcome = "processing";
                run->h.updated = t;
                if (run->expected == 0)
                    continue;
            }
            if (run->stage < run->expected) {
                if (publish(api, run, t))
                    break; /* out of memory: try again next request */
                run->h.updated = t;
            }
            if (run->stage >= run->expected)
                finish(s, run, t);
        }
        if (!run->finished)
            s->active[out++] = run;
    }
    s->nactive = out;
}
