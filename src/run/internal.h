/* Private to src/run: the executor's shared state and workers (exec.c),
 * and building a step's request from them (request.c). */
#ifndef INGESTCHECK_RUN_INTERNAL_H
#define INGESTCHECK_RUN_INTERNAL_H

#include "run/run.h"

#include <pthread.h>

/* Longest a polling wait goes without looking at cfg->interrupt. */
#define RUN_INTERRUPT_SLICE_MS 50

struct shared {
    const struct run_config *cfg;
    const struct run_plan *plan;
    struct run_results *out;
    char *base_url; /* without a trailing '/' and without userinfo */
    /* HTTP basic authentication from the userinfo (cfg->userinfo, else the
     * base URL's): "user:password", the password, and the header value
     * "Basic ..."; NULL when there is none. */
    char *userinfo, *password, *authorization;
    pthread_mutex_t lock;
    size_t next; /* next plan index to take */
    size_t emit; /* next plan index to report */
    bool *done;
    bool abort;   /* a target error: take no more cases */
    int local_rc; /* first local failure (ENOMEM, transport creation) */
    struct util_error local_err;
    /* Polling on cfg->clock (see run_clock), under lock. */
    struct worker *workers;
    size_t nworkers;
    size_t busy;         /* workers neither waiting on the clock nor finished */
    long long clock_ms;  /* the runner's time of polling: every advance asked */
    long long moved_ms;  /* how far the target's clock actually moved */
    pthread_cond_t tick; /* the clock moved or a worker stopped being busy */
};

struct worker {
    struct shared *sh;
    struct http_transport *transport; /* the worker's own */
    struct http_transport *current;   /* the one of the case running */
    const struct case_case *kase;     /* the case running */
    struct case_vars *vars;
    struct check_secrets secrets;
    struct util_error err; /* why a transport failed locally */
    pthread_t thread;
    bool clock_waiting;
    long long wake_at; /* on the shared clock_ms, while clock_waiting */
    double transport_ms, poll_sleep_ms;
};

/* A request being built, with what the result records. */
struct built {
    struct http_request req;
    char *path; /* path without the query, for the contract match */
    cJSON *params;
    cJSON *headers; /* name -> value (strings) */
    cJSON *body;    /* expanded JSON body or NULL */
    char *body_raw;
};

/* Builds the request of step s (path, query, headers, body) with the
 * worker's variables filled in; the result's fields are owned by b (see
 * run_built_finish). A value that cannot be sent fails with err set. */
int run_build_request(struct worker *w, const struct case_step *s, struct built *b,
                         struct util_error *err);
void run_built_finish(struct built *b);

#endif
