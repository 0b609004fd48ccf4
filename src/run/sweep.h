/* `sweep`: what a killed run left on an account. Lists every
 * authentication, source and destination whose name starts with a prefix,
 * and the tasks over those sources and destinations, and deletes them in
 * dependency order: tasks, then sources and destinations, then
 * authentications. Operations are found in the loaded spec by method and
 * path. Prints nothing: the caller gets the list of results. */
#ifndef INGESTCHECK_RUN_SWEEP_H
#define INGESTCHECK_RUN_SWEEP_H

#include "http/http.h"
#include "util/error.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Shortest prefix sweep accepts: so that nobody sweeps an account by
 * accident. */
#define RUN_SWEEP_MIN_PREFIX 4
/* Items asked per page, and most pages read of one list. */
#define RUN_SWEEP_PAGE_ITEMS 100
#define RUN_CAP_SWEEP_PAGES 10000
/* Most resources one sweep handles. */
#define RUN_CAP_SWEEP_ITEMS 100000

/* In deletion order. */
enum run_sweep_kind {
    RUN_SWEEP_TASK,
    RUN_SWEEP_SOURCE,
    RUN_SWEEP_DESTINATION,
    RUN_SWEEP_AUTHENTICATION,
};

struct run_sweep_item {
    enum run_sweep_kind kind;
    char *id;
    /* The resource's name; for a task, the name of its swept source or
     * destination. */
    char *name;
    bool attempted; /* a deletion was sent (not in a dry run) */
    bool deleted;   /* it answered 2xx */
    int status;     /* the deletion's HTTP status, 0 when none */
    char *error;    /* why the deletion failed, one line; NULL when it did not */
};

struct run_sweep_result {
    struct run_sweep_item *items; /* in the order they are (or would be) deleted */
    size_t count;
    size_t alloc;
};

struct run_sweep_target {
    const char *base_url;      /* without userinfo; a trailing '/' is ignored */
    const char *app_id;        /* may be NULL */
    const char *api_key;       /* may be NULL; never in a result */
    const char *authorization; /* the Authorization header value, or NULL */
};

void run_sweep_result_init(struct run_sweep_result *r);
void run_sweep_result_finish(struct run_sweep_result *r);
/* Number of items whose deletion failed. */
size_t run_sweep_failures(const struct run_sweep_result *r);

/* The name of kind: "task", "source", "destination", "authentication". */
const char *run_sweep_kind_name(enum run_sweep_kind kind);

/* Lists (following pagination) through t what operations (the derived
 * operations document, openapi_source_operations) names, selects what
 * starts with prefix (at least RUN_SWEEP_MIN_PREFIX bytes) and, when
 * delete, deletes it in order, each deletion's outcome in its item. A
 * list that cannot be read (no such operation in the spec, a network
 * failure, a status other than 2xx, an answer not of the list's shape)
 * fails with err set and nothing deleted; a failed deletion does not: it
 * is in its item. */
int run_sweep(struct http_transport *t, const cJSON *operations, const struct run_sweep_target *tgt,
              const char *prefix, bool delete, struct run_sweep_result *out,
              struct util_error *err);

#endif
