/* Around each request of the executor: pacing (--rate), the request budget
 * (--max-requests) and retries after a 429, or a 503 with Retry-After. */
#include "run/internal.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

double run_rate_slot(double *next_ms, double interval_ms, double now)
{
    double slot = *next_ms > now ? *next_ms : now;
    *next_ms = slot + interval_ms;
    return slot;
}

long run_backoff_ms(unsigned retry, uint32_t rnd)
{
    long d = RUN_BACKOFF_BASE_MS;
    for (unsigned i = 0; i < retry && d < RUN_CAP_BACKOFF_MS; i++)
        d *= 2;
    if (d > RUN_CAP_BACKOFF_MS)
        d = RUN_CAP_BACKOFF_MS;
    /* Jitter over the upper half, so that workers that met the same 429
     * do not come back together. */
    return d / 2 + (long)(rnd % (uint32_t)(d / 2 + 1));
}

/* xorshift32 over the worker's state. */
static uint32_t next_random(struct worker *w)
{
    uint32_t x = w->rng ? w->rng : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return w->rng = x;
}

/* Whether resp asks to be retried: a 429, or a 503 with Retry-After. */
static bool wants_retry(const struct http_response *resp)
{
    if (resp->failure != HTTP_ERR_NONE)
        return false;
    return resp->status == 429 ||
           (resp->status == 503 && http_headers_get(&resp->headers, "retry-after"));
}

int run_send(struct worker *w, bool teardown, const struct http_request *req,
             struct http_response *resp, struct run_send_info *info, struct util_error *err)
{
    struct shared *sh = w->sh;
    const struct run_config *cfg = sh->cfg;
    for (unsigned attempt = 0;; attempt++) {
        double wait = 0;
        pthread_mutex_lock(&sh->lock);
        /* Teardown is never refused: the budget does not leave resources
         * behind. */
        bool refused = cfg->max_requests && !teardown && sh->requests >= cfg->max_requests;
        if (refused) {
            sh->budget_spent = true;
        } else {
            sh->requests++;
            if (cfg->rate > 0) {
                double now = run_now_ms();
                wait = run_rate_slot(&sh->rate_next_ms, 1000.0 / cfg->rate, now) - now;
            }
        }
        pthread_mutex_unlock(&sh->lock);
        if (refused) {
            /* Only before the first attempt: a retry refused keeps the
             * answer it would have retried. */
            info->refused = attempt == 0;
            return UTIL_OK;
        }
        if (wait > 0) {
            run_sleep_ms(sh, (long)wait + 1);
            w->rate_sleep_ms += wait;
        }
        http_response_finish(resp);
        http_response_init(resp);
        util_error_clear(err);
        double t0 = run_now_ms();
        int rc = http_send(w->current, req, resp, err);
        w->transport_ms += run_now_ms() - t0;
        if (rc || !wants_retry(resp) || attempt + 1 >= RUN_STATUS_ATTEMPTS ||
            run_interrupted(sh))
            return rc;
        long long ms =
            http_retry_after_ms(http_headers_get(&resp->headers, "retry-after"), time(NULL));
        if (ms < 0)
            ms = run_backoff_ms(attempt, next_random(w));
        if (ms > RUN_CAP_RETRY_WAIT_MS)
            ms = RUN_CAP_RETRY_WAIT_MS;
        info->retries++;
        info->retry_wait_ms += (double)ms;
        run_sleep_ms(sh, (long)ms);
        if (run_interrupted(sh))
            return UTIL_OK; /* the last answer stands */
    }
}
