/* Internals of the mock shared between its files. Nothing here is part of
 * the module's interface. */
#ifndef INGESTCHECK_MOCK_INTERNAL_H
#define INGESTCHECK_MOCK_INTERNAL_H

#include "mock/caps.h"
#include "mock/mock.h"
#include "schema/schema.h"
#include "util/buf.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define MOCK_ID_LEN 36

/* ---- randomness, clock, time text (rng.c) ---- */

/* xoshiro256** seeded through splitmix64. */
struct mock_rng {
    uint64_t s[4];
};
void mock_rng_seed(struct mock_rng *r, uint64_t seed);
uint64_t mock_rng_next(struct mock_rng *r);
/* Fills buf with n bytes from the operating system. */
int mock_os_random(void *buf, size_t n);
/* A UUIDv4 in lower-case text (37 bytes with the NUL). */
void mock_uuid(struct mock_rng *r, char out[MOCK_ID_LEN + 1]);
/* Milliseconds since the epoch from the real clock. */
int64_t mock_real_now_ms(void);
/* RFC 3339 UTC text: "2024-04-17T00:00:00Z", with ".123" when the
 * milliseconds are not zero. out holds at least 32 bytes. */
void mock_time_format(int64_t ms, char *out);
/* Parses RFC 3339 ("2024-04-17T10:00:00Z", offsets, fractions) or a bare
 * date ("2024-04-17", midnight UTC). 0 on success, -1 when malformed. */
int mock_time_parse(const char *s, int64_t *ms);

/* ---- cron (cron.c) ---- */

struct mock_cron {
    uint64_t minute; /* bit i: minute i matches */
    uint32_t hour;
    uint32_t mday;  /* bits 1..31 */
    uint16_t month; /* bits 1..12 */
    uint8_t wday;   /* bits 0..6, Sunday 0 */
    bool mday_star, wday_star;
};
/* Parses five fields (star, N, A-B, star/N, A-B/N, lists); -1 when invalid. */
int mock_cron_parse(const char *text, struct mock_cron *out);
/* First matching minute strictly after ms; -1 when none within 5 years. */
int64_t mock_cron_next(const struct mock_cron *c, int64_t ms);

/* ---- ID hash map (idmap.c) ---- */

/* Open addressing with linear probing; keys are borrowed (they live in the
 * values). */
struct mock_idmap {
    struct mock_idmap_slot {
        const char *key; /* NULL: empty; MOCK_IDMAP_TOMB: deleted */
        void *value;
    } * slots;
    size_t cap, count, tombs;
};
int mock_idmap_init(struct mock_idmap *m);
void mock_idmap_finish(struct mock_idmap *m);
void *mock_idmap_get(const struct mock_idmap *m, const char *key);
/* Inserts or replaces. */
int mock_idmap_put(struct mock_idmap *m, const char *key, void *value);
void mock_idmap_del(struct mock_idmap *m, const char *key);

/* ---- the store (store.c) ---- */

enum mock_kind { KIND_AUTH, KIND_SOURCE, KIND_DEST, KIND_TASK, KIND_RUN, KIND_COUNT };

/* Header shared by every resource. */
struct mock_res {
    char id[MOCK_ID_LEN + 1];
    uint64_t seq;        /* creation order */
    int64_t created;     /* ms */
    int64_t updated;     /* ms */
    char *cache;         /* rendered JSON, NULL when stale (mock_res_touch) */
    int64_t cache_until; /* the cache holds while the clock is before this */
};

/* Drops the rendered JSON of r: call after any change that shows. */
void mock_res_touch(struct mock_res *r);

struct mock_auth {
    struct mock_res h;
    const char *type; /* interned enum value */
    char *name;
    const char *platform; /* interned, NULL = null */
    cJSON *input;         /* full input, secrets included */
    size_t refs;          /* sources and destinations using it */
};

struct mock_source {
    struct mock_res h;
    const char *type;
    char *name;
    char auth_id[MOCK_ID_LEN + 1]; /* "" none */
    cJSON *input;
    size_t refs;     /* tasks using it */
    bool discovered; /* a discover run finished */
};

struct mock_dest {
    struct mock_res h;
    const char *type;
    char *name;
    char auth_id[MOCK_ID_LEN + 1];
    cJSON *input;
    size_t refs;
};

struct mock_task {
    struct mock_res h;
    char source_id[MOCK_ID_LEN + 1];
    char dest_id[MOCK_ID_LEN + 1];
    const char *trigger_type;
    char *cron; /* schedule only */
    struct mock_cron cron_parsed;
    int64_t last_run; /* 0: never */
    cJSON *input;     /* NULL: none */
    bool enabled;
    int failure_threshold; /* -1: none */
    const char *action;
};

struct mock_event {
    char id[MOCK_ID_LEN + 1];
    char parent[MOCK_ID_LEN + 1]; /* "" none */
    uint64_t seq;
    const char *status, *type;
    int batch_size;
    cJSON *data;
    int64_t published;
};

struct mock_run {
    struct mock_res h;
    char task_id[MOCK_ID_LEN + 1];
    char source_id[MOCK_ID_LEN + 1]; /* discover runs */
    const char *status, *type, *outcome, *reason_code;
    const char *reason;
    int failure_threshold;     /* -1 none */
    int64_t started, finished; /* 0: not yet */
    int stage;                 /* events published so far */
    int expected;              /* events the run will publish */
    struct mock_event *events;
    size_t nevents;
};

/* Resources of one kind: a map by ID and an array in creation order. */
struct mock_coll {
    struct mock_idmap map;
    struct mock_res **items;
    size_t count, alloc;
};

struct mock_store {
    struct mock_coll coll[KIND_COUNT];
    uint64_t next_seq;
    struct mock_run **active; /* runs that have not finished */
    size_t nactive, active_alloc;
};

int mock_store_init(struct mock_store *s);
void mock_store_finish(struct mock_store *s);
struct mock_res *mock_store_get(struct mock_store *s, enum mock_kind k, const char *id);
/* Adds r (its id must be set); takes ownership on success. */
int mock_store_add(struct mock_store *s, enum mock_kind k, struct mock_res *r);
/* Removes and frees. */
void mock_store_remove(struct mock_store *s, enum mock_kind k, struct mock_res *r);
void mock_res_free(enum mock_kind k, struct mock_res *r);

/* Interned enum values: the static string equal to s in table, or NULL. */
const char *mock_intern(const char *const *table, const char *s);
extern const char *const mock_auth_types[];
extern const char *const mock_platforms[];
extern const char *const mock_source_types[];
extern const char *const mock_dest_types[];
extern const char *const mock_trigger_types[];
extern const char *const mock_actions[];
extern const char *const mock_run_statuses[];
extern const char *const mock_event_statuses[];
extern const char *const mock_event_types[];

/* ---- the spec as the mock uses it (ops.c) ---- */

enum {
    JT_NULL = 1u << 0,
    JT_BOOLEAN = 1u << 1,
    JT_INTEGER = 1u << 2,
    JT_NUMBER = 1u << 3,
    JT_STRING = 1u << 4,
    JT_ARRAY = 1u << 5,
    JT_OBJECT = 1u << 6,
};

enum mock_param_in { PARAM_PATH, PARAM_QUERY, PARAM_OTHER };

struct mock_param {
    const char *name; /* borrowed from the operations document */
    enum mock_param_in in;
    bool required;
    bool explode;
    bool both_forms; /* accepts comma-joined and repeated */
    unsigned types;  /* JT_* declared for the value */
    unsigned item_types;
    bool has_min, has_max;
    double min, max;
    struct schema *schema; /* compiled, owned by the registry */
};

struct mock_ctx;
typedef void (*mock_handler)(struct mock_ctx *c);

struct mock_op {
    const char *id, *method, *path; /* borrowed from the document */
    size_t index;
    char *segs[MOCK_CAP_PATH_SEGMENTS]; /* template segments, owned */
    size_t nsegs;
    size_t nliteral;
    struct mock_param *params;
    size_t nparams;
    bool has_body;
    bool body_required;
    struct schema *body_schema;
    const cJSON *resp_raw; /* the 200 schema node, borrowed */
    mock_handler handler;
    unsigned faults; /* bit per enum mock_fault */
};

/* Cache of raw component documents for walking schemas by hand. */
struct mock_components {
    const struct spec_source *source; /* components/<Name>.json come from it */
    struct mock_component {
        char *name;
        cJSON *doc;
    } * items;
    size_t count, alloc;
};

/* Follows $ref chains ("components/X.json" or "X.json") to the node they
 * name; NULL when a file cannot be loaded. */
const cJSON *mock_resolve(struct mock_components *c, const cJSON *node);

struct mock_api {
    pthread_mutex_t lock;
    cJSON *ops_doc;
    char *ops_path; /* for messages */
    char *ops_uri;  /* of operations.json in reg */
    struct spec_source *own_source; /* opened from mock_options.schemas_dir, or NULL */
    struct schema_registry *reg;
    struct mock_op *ops;
    size_t nops;
    struct mock_components comps;
    /* Post-state schemas of PATCH: the resource must stay creatable. */
    struct schema *auth_create, *source_create, *dest_create, *task_create;
    char app_id[MOCK_CAP_CREDENTIAL];
    char api_key[MOCK_CAP_CREDENTIAL];
    bool generated_credentials;
    bool seeded;
    struct mock_rng rng;
    int64_t now;      /* ms, monotonic */
    int64_t advanced; /* ms the clock was moved forward (mock_api_advance_clock) */
    int64_t stage_ms;
    size_t max_body;
    long slow_ms;
    struct mock_store store;
    /* Answers of status 5xx: the mock's own failures (out of memory). */
    atomic_size_t internal_errors;
};

/* Loads the operations and schemas from source, else from the directory
 * schemas_dir (opened as a source the api owns). */
int mock_ops_load(struct mock_api *api, const struct spec_source *source, const char *schemas_dir,
                  struct util_error *err);
void mock_ops_free(struct mock_api *api);
/* Finds the operation for method and path; fills path parameter values
 * (pointers into segs, which the caller owns). NULL when none;
 * *path_known tells whether another method would match. */
const struct mock_op *mock_ops_match(const struct mock_api *api, const char *method, char **segs,
                                     size_t nsegs, const char **values, bool *path_known);
mock_handler mock_handler_for(const char *operation_id);

/* ---- one request being answered (api.c, handlers.c) ---- */

struct mock_ctx {
    struct mock_api *api;
    const struct mock_op *op;
    cJSON *params; /* path and query parameters, coerced to JSON */
    cJSON *body;   /* parsed body or NULL */
    int64_t now;
    int status;
    cJSON *out; /* response document */
};

/* Sets an ErrorBase answer. */
void mock_fail(struct mock_ctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets a 200 answer (takes doc; NULL means out of memory: 500). */
void mock_ok(struct mock_ctx *c, cJSON *doc);
/* Generates a fresh ID into out. */
void mock_new_id(struct mock_api *api, char out[MOCK_ID_LEN + 1]);
/* Validates doc against s; on failure answers 400 "<prefix><location>: <message>"
 * and returns false. */
bool mock_check(struct mock_ctx *c, const struct schema *s, const cJSON *doc, const char *prefix);
/* Advances runs to the clock (store.c). */
void mock_runs_advance(struct mock_api *api);
/* Fills the store with 1 authentication, 10 sources, 10 destinations and
 * ntasks tasks of every action, trigger type and enabled state, created one
 * second apart before the clock's start (handlers.c). */
int mock_preload(struct mock_api *api, size_t ntasks, struct util_error *err);

/* ---- planted faults (faults.c) ---- */

/* Whether fault f can break the 200 answer of op (structure faults need a
 * required property, an enum or additionalProperties:false). */
bool mock_fault_applies(struct mock_api *api, const struct mock_op *op, enum mock_fault f);
/* Breaks *doc in place for the structure faults set in op->faults (may
 * replace the root). */
void mock_faults_apply_doc(struct mock_api *api, const struct mock_op *op, cJSON **doc);

#endif
