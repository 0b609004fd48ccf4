/* Private to src/run: the executor's shared state and workers (exec.c),
 * and building a step's request from them (request.c). */
#ifndef INGESTCHECK_RUN_INTERNAL_H
#define INGESTCHECK_RUN_INTERNAL_H

#include "run/run.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdint.h>

/* Longest a polling wait goes without looking at cfg->interrupt. */
#define RUN_INTERRUPT_SLICE_MS 50

/* Attempts of a request answered 429, or 503 with Retry-After. */
#define RUN_STATUS_ATTEMPTS 6
/* Longest wait before such a retry, whatever Retry-After says. */
#define RUN_CAP_RETRY_WAIT_MS 60000L
/* Backoff without Retry-After: from this, doubling, up to the cap. */
#define RUN_BACKOFF_BASE_MS 500L
#define RUN_CAP_BACKOFF_MS 30000L
/* Longest poll interval when polling backs off (a live target). */
#define RUN_CAP_POLL_BACKOFF_MS 60000L

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
    /* Pacing and budget (run_send), under lock. */
    double rate_next_ms; /* the next free slot on the monotonic clock */
    long requests;       /* sent so far, retries included */
    bool budget_spent;   /* a request was refused for cfg->max_requests */
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
    bool budget_refused; /* a request of the case running was refused */
    long long wake_at; /* on the shared clock_ms, while clock_waiting */
    double transport_ms, poll_sleep_ms, rate_sleep_ms;
    uint32_t rng; /* jitter of retries */
    size_t retries;
};

/* What run_send did besides sending. */
struct run_send_info {
    bool refused;  /* the budget is spent: nothing was sent */
    unsigned retries;
    double retry_wait_ms;
};

double run_now_ms(void);
bool run_interrupted(const struct shared *sh);
/* Sleeps ms, in slices so that an interruption ends the wait early. */
void run_sleep_ms(const struct shared *sh, long ms);

/* The time a request asked at now (ms, monotonic) may go at, one every
 * interval_ms; books it in *next_ms. */
double run_rate_slot(double *next_ms, double interval_ms, double now);
/* The wait before retry number retry (0-based) without Retry-After:
 * RUN_BACKOFF_BASE_MS doubling up to RUN_CAP_BACKOFF_MS, jittered over its
 * upper half by rnd. */
long run_backoff_ms(unsigned retry, uint32_t rnd);
/* Sends req on the worker's current transport: waits for its slot under
 * cfg->rate, counts it against cfg->max_requests (a teardown's request is
 * never refused; info->refused when the budget is spent and nothing was
 * sent), and retries a 429, or a 503 with Retry-After, after the time it
 * names (seconds or an HTTP date), else with capped exponential backoff
 * and jitter, at most RUN_STATUS_ATTEMPTS attempts; resp holds the last
 * answer. Errors as http_send. */
int run_send(struct worker *w, bool teardown, const struct http_request *req,
             struct http_response *resp, struct run_send_info *info, struct util_error *err);

/* Appends s to b percent-encoded (all but RFC 3986 unreserved bytes). */
int run_url_encode(struct util_buf *b, const char *s);

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
