/* What the handlers of the modelled resources share (common.c, listing.c)
 * and the table that binds them to operations (model.c). Internal to the
 * mock.
 *
 * Each resource folder (authentications/, sources/, destinations/, tasks/,
 * runs/) holds its handlers and one table of rows: method, path template,
 * handler. An operation of the loaded spec is modelled when a row has its
 * method and its template (path parameter names aside); every other
 * operation is generated (generated.c). Adding an operation to a model is
 * one row plus its handler. */
#ifndef INGESTCHECK_MOCK_RESOURCE_H
#define INGESTCHECK_MOCK_RESOURCE_H

#include "mock/internal.h"

/* ---- the model table ---- */

struct mock_model_row {
    const char *method; /* "GET" */
    const char *path;   /* template; the handler reads path values under these names */
    mock_handler fn;
};

/* One table per resource, ended by a row of NULLs. */
extern const struct mock_model_row mock_authentications_rows[];
extern const struct mock_model_row mock_destinations_rows[];
extern const struct mock_model_row mock_sources_rows[];
extern const struct mock_model_row mock_tasks_rows[];
extern const struct mock_model_row mock_runs_rows[];

/* ---- small helpers (common.c) ---- */

typedef bool (*mock_filter_fn)(struct mock_ctx *c, const void *item, void *arg);
typedef cJSON *(*mock_render_fn)(struct mock_ctx *c, const void *item);

const cJSON *mock_get(const cJSON *o, const char *k);
/* The string value of o[k], or NULL. */
const char *mock_gets(const cJSON *o, const char *k);
char *mock_strdup(const char *s);
void mock_copy_id(char dst[MOCK_ID_LEN + 1], const char *src);
/* Adds an RFC 3339 time; false on ENOMEM. */
bool mock_add_time(cJSON *o, const char *k, int64_t ms);
/* Adds a deep copy of v; false on ENOMEM. */
bool mock_add_copy(cJSON *o, const char *k, const cJSON *v);
/* Answers 404 "<what> '<id>' does not exist". */
void mock_not_found(struct mock_ctx *c, const char *what, const char *id);
/* The resource named by the path parameter param, or NULL (answered 404). */
void *mock_lookup(struct mock_ctx *c, enum mock_kind k, const char *param, const char *what);
/* Adds r to the store, freeing it and answering on failure. */
bool mock_store_put(struct mock_ctx *c, enum mock_kind k, struct mock_res *r);
/* A fresh ID and both times set to the clock. */
void mock_init_res(struct mock_ctx *c, struct mock_res *h);
/* {<idkey>: id, [name], <timekey>: t} answers of create and update. */
void mock_answer_short(struct mock_ctx *c, const char *idkey, const char *id, const char *name,
                       const char *timekey, int64_t t);
/* {deletedAt: now}. */
void mock_answer_deleted(struct mock_ctx *c);
/* The interned value of an enum field: the static table's string, else a
 * copy the API keeps (a value the loaded spec allows that the model does
 * not know). NULL for NULL or out of memory. */
const char *mock_intern_value(struct mock_api *api, const char *const *table, const char *s);

#define STRUCTURE_FAULTS                                                                           \
    ((1u << MOCK_FAULT_MISSING_REQUIRED) | (1u << MOCK_FAULT_WRONG_TYPE) |                         \
     (1u << MOCK_FAULT_BAD_ENUM) | (1u << MOCK_FAULT_EXTRA_PROPERTY))

/* The rendered resource: a raw node holding its cached JSON text, or a
 * real tree when a structure fault must be able to walk it. Either way
 * conformed to plan (the schema of the item in the answer; NULL: as
 * rendered). Resources of kinds that change by themselves (runs) are never
 * cached. */
cJSON *mock_render_res(struct mock_ctx *c, const void *item, mock_render_fn render, bool cacheable,
                       const struct mock_plan *plan);
/* Answers the resources of kind k whose IDs the body's array field lists,
 * in the order given, without repeats. */
void mock_search(struct mock_ctx *c, enum mock_kind k, const char *field, mock_render_fn render);
/* Shallow merge of patch into a copy of base; NULL on ENOMEM. */
cJSON *mock_merged(const cJSON *base, const cJSON *patch);
/* ID of the first resource of kind k whose field (by getter) equals id. */
const char *mock_first_user(struct mock_ctx *c, enum mock_kind k, const char *id,
                            const char *(*field)(const void *));
/* Checks an optional authenticationID reference of the body (400 when it
 * names none). */
bool mock_auth_ref(struct mock_ctx *c, const char *id, struct mock_auth **out);
/* Moves one reference count of kind k from resource from to resource to. */
void mock_move_ref(struct mock_store *s, enum mock_kind k, const char *from, const char *to);

/* The task renderer: the cache asks it when a schedule's nextRun moves. */
cJSON *mock_render_task(struct mock_ctx *c, const void *p);
/* Creates a run that the clock moves through its stages (runs/). */
struct mock_run *mock_new_run(struct mock_ctx *c, const char *task_id, const char *type,
                              int threshold);

/* ---- listing (listing.c) ---- */

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

/* A set of strings from a query array, for membership tests: linear for
 * a few values, hashed past that. "none" (or null) stands for "no value". */
struct valueset {
    const cJSON *arr;
    struct mock_idmap map;
    bool hashed;
    bool none;
};

struct listing {
    const void *const *items; /* in creation order */
    size_t count;
    mock_filter_fn filter;
    void *filter_arg;
    struct sorter sorter;
    mock_render_fn render;
    bool cacheable;
    const char *name; /* "tasks" */
    cJSON *window;    /* added to the answer when not NULL (taken) */
};

struct filters {
    struct valueset a, b, d, e;
    const cJSON *enabled;
    const char *task_id;
    int64_t from, to;
};

/* Events are rendered with their run: the list carries (run, event) pairs. */
struct event_ref {
    const struct mock_run *run;
    const struct mock_event *ev;
};

/* The sort key named s ("createdAt", ...), else dflt. */
enum sort_key mock_parse_key(const char *s, enum sort_key dflt);
int mock_valueset_init(struct valueset *vs, const cJSON *arr);
void mock_valueset_finish(struct valueset *vs);
/* Whether value (NULL or "" meaning none) passes the filter. */
bool mock_valueset_has(const struct valueset *vs, const char *value);
/* Value sets of the query parameters a, b, d, e (NULL: none); false
 * (answered 500) on ENOMEM. */
bool mock_filters_init(struct mock_ctx *c, struct filters *f, const char *a, const char *b,
                       const char *d, const char *e);
void mock_filters_finish(struct filters *f);
/* Filters, sorts (stable), paginates and answers {<name>: [...], pagination[, window]}. */
void mock_list(struct mock_ctx *c, struct listing *l);
/* mock_list over the store's resources of kind k; window is taken. */
void mock_list_kind(struct mock_ctx *c, enum mock_kind k, mock_filter_fn filter, void *arg,
                    enum sort_key key, mock_render_fn render, const char *name, cJSON *window);
/* Reads startDate/endDate with their defaults into [*from, *to] and builds
 * the Window object; NULL when answered (400, 500). */
cJSON *mock_read_window(struct mock_ctx *c, int64_t back_ms, int64_t *from, int64_t *to);

#endif
