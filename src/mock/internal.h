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
    uint64_t seq;           /* creation order */
    int64_t created;        /* ms */
    int64_t updated;        /* ms */
    char *cache;            /* rendered JSON, NULL when stale (mock_res_touch) */
    int64_t cache_until;    /* the cache holds while the clock is before this */
    const void *cache_plan; /* the plan the cached text was conformed to */
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
    bool fails;                /* ends with outcome failure (--run-outcome) */
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
struct mock_plan_cache;
typedef void (*mock_handler)(struct mock_ctx *c);
struct mock_plan;
struct mock_gen_state;

/* How the mock answers an operation. */
enum mock_op_kind {
    MOCK_OP_MODELLED, /* a handler of a resource model (resource.h) */
    MOCK_OP_GENERATED /* validated, then answered from the response schema (generated.c) */
};

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
    /* Set by mock_model_bind: */
    enum mock_op_kind kind;
    const char *const *canon;     /* modelled: the model's names of the path
                                     parameters, in template order (owned) */
    bool catch_all;               /* one segment holding a parameter: "/{path}",
                                     "/1{path}"; matches any path with its prefix */
    size_t prefix_len;            /* catch-all: length of the literal before '{' */
    const struct mock_plan *plan; /* of the 200 (2xx) schema, NULL: none */
    int ok_status;                /* the documented 2xx answered: 200 first */
    const cJSON *ok_schema;       /* its schema node, NULL: no content */
    struct mock_gen_state *gen;   /* generated: the cached answer */
};

/* Cache of raw component documents for walking schemas by hand. */
struct mock_components {
    const struct openapi_source *source; /* components/<Name>.json come from it */
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
    char *ops_path;                    /* for messages */
    char *ops_uri;                     /* of operations.json in reg */
    struct openapi_source *own_source; /* opened from mock_options.schemas_dir, or NULL */
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
    int64_t clock_offset; /* ms added to the real or logical clock */
    /* Variations (vary.c), drawn from their own RNG so that a seeded
     * API's IDs do not depend on them. */
    struct mock_rng vary_rng;
    long latency_ms, latency_jitter_ms;
    enum mock_run_outcome run_outcome;
    int run_events_min, run_events_max;
    size_t max_body;
    long slow_ms;
    struct mock_store store;
    /* Enum values the loaded spec allows and the model's tables lack. */
    struct mock_idmap interned;
    /* IDs generated answers handed out, by property name ("transformationID"):
     * each value a struct mock_idmap of the IDs. */
    struct mock_idmap handed_out;
    /* Plans by schema node (conform.c). */
    struct mock_plan_cache *plans;
    size_t nmodelled, ngenerated;
    /* Answers of status 5xx: the mock's own failures (out of memory). */
    atomic_size_t internal_errors;
};

/* Loads the operations and schemas from source, else from the directory
 * schemas_dir (opened as a source the api owns). */
int mock_ops_load(struct mock_api *api, const struct openapi_source *source,
                  const char *schemas_dir, struct util_error *err);
/* The compiled schema at fragment ("/operations/3/responses/200/schema") of
 * the operations document. */
int mock_ops_lookup(struct mock_api *api, const char *fragment, struct schema **out,
                    struct util_error *err);
void mock_ops_free(struct mock_api *api);
/* Finds the operation for method and path; fills path parameter values
 * (pointers into segs, which the caller owns). A specific template (most
 * literal segments first) always wins over a catch-all, which takes only
 * what no specific template takes with that method. NULL when none;
 * *path_known tells whether another method would match. */
const struct mock_op *mock_ops_match(const struct mock_api *api, const char *method, char **segs,
                                     size_t nsegs, const char **values, bool *path_known);

/* ---- binding operations to models (model.c) ---- */

/* Binds every operation of api->ops by method and template to a model row
 * (modelled) or to the generator (generated), finds the 2xx answered and
 * the post-state schemas of the modelled resources. */
int mock_model_bind(struct mock_api *api, struct util_error *err);
/* Frees what mock_model_bind added to the operations. */
void mock_model_unbind(struct mock_api *api);

/* ---- answers that conform to the loaded spec (conform.c) ---- */

/* The plan of a schema node (cached by node): what conform adds and drops.
 * NULL for NULL or when out of memory (then nothing is conformed). */
const struct mock_plan *mock_plan_for(struct mock_api *api, const cJSON *schema);
/* The plan of property name of an object plan, of the items of an array
 * plan; NULL when not declared. Accept NULL. */
const struct mock_plan *mock_plan_child(const struct mock_plan *p, const char *name);
const struct mock_plan *mock_plan_items(const struct mock_plan *p);
/* Makes doc conform to plan in place: generates the required properties it
 * lacks (mock_generate), drops the properties a closed object does not
 * declare; raw nodes are left as they are. UTIL_ERR_NOMEM. */
int mock_conform(struct mock_api *api, const struct mock_plan *p, cJSON *doc);
void mock_plans_free(struct mock_api *api);

/* ---- operations the mock does not model (generated.c) ---- */

/* A deterministic instance of the JSON Schema node (components resolved
 * through api->comps): examples first, then const, enum, type-correct
 * values within the bounds; required properties only. NULL when out of
 * memory or nothing sensible can be built; the caller validates. */
cJSON *mock_generate(struct mock_api *api, const cJSON *schema, bool use_examples);
/* The same with the variant-th enum value and union branch first (modulo
 * their count): callers try variants until one validates. */
cJSON *mock_generate_variant(struct mock_api *api, const cJSON *schema, bool use_examples,
                             unsigned variant);
/* The handler of every generated operation. */
void mock_generated_handle(struct mock_ctx *c);
void mock_gen_free(struct mock_op *op);
/* Remembers / forgets an ID handed out under property name. */
int mock_ids_remember(struct mock_api *api, const char *name, const char *id);
void mock_ids_free(struct mock_api *api);

/* ---- one request being answered (api.c, the resource handlers) ---- */

struct mock_ctx {
    struct mock_api *api;
    const struct mock_op *op;
    cJSON *params; /* path and query parameters, coerced to JSON */
    cJSON *body;   /* parsed body or NULL */
    int64_t now;
    int status;
    cJSON *out;                 /* response document */
    const char *catch_all_path; /* catch-all: the request's path (borrowed) */
    bool no_content;            /* answer status without a body (204) */
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
 * second apart before the clock's start (preload.c). */
int mock_preload(struct mock_api *api, size_t ntasks, struct util_error *err);

/* Fills the store with the counts of p (preload.c; see mock_preload). */
int mock_preload_counts(struct mock_api *api, const struct mock_preload *p, struct util_error *err);

/* ---- variations (vary.c) ---- */

/* The delay of the next answer: latency plus or minus the jitter, >= 0. */
long mock_vary_latency(struct mock_api *api);
/* Draws the event count (task runs) and the outcome of a new run. */
void mock_vary_run(struct mock_api *api, struct mock_run *r);

/* ---- planted faults (faults.c) ---- */

/* Whether fault f can break the 200 answer of op (structure faults need a
 * required property, an enum or additionalProperties:false). */
bool mock_fault_applies(struct mock_api *api, const struct mock_op *op, enum mock_fault f);
/* Breaks *doc in place for the structure faults set in op->faults (may
 * replace the root). */
void mock_faults_apply_doc(struct mock_api *api, const struct mock_op *op, cJSON **doc);

#endif
