/* The executor: requests from steps, polling, checks, captures, teardown,
 * worker threads; see run.h. */
#include "run/internal.h"

#include "util/base64.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/secret.h"
#include "json/json.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

double run_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

bool run_interrupted(const struct shared *sh)
{
    return sh->cfg->interrupt && *sh->cfg->interrupt;
}

void run_sleep_ms(const struct shared *sh, long ms)
{
    while (ms > 0 && !run_interrupted(sh)) {
        long slice = ms < RUN_INTERRUPT_SLICE_MS ? ms : RUN_INTERRUPT_SLICE_MS;
        struct timespec ts = {.tv_sec = slice / 1000, .tv_nsec = (slice % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        ms -= slice;
    }
}

/* ---- waiting between polls ---- */

/* Moves the target's clock to the earliest wake-up of the waiting workers
 * and makes the workers due busy again (they go on when they get the lock);
 * under sh->lock, with no worker busy and at least one waiting. */
static void clock_step(struct shared *sh)
{
    long long next = -1;
    for (size_t i = 0; i < sh->nworkers; i++) {
        const struct worker *o = &sh->workers[i];
        if (o->clock_waiting && (next < 0 || o->wake_at < next))
            next = o->wake_at;
    }
    if (next > sh->clock_ms) {
        sh->moved_ms += sh->cfg->clock->advance(sh->cfg->clock->user, (long)(next - sh->clock_ms));
        sh->clock_ms = next;
    }
    for (size_t i = 0; i < sh->nworkers; i++) {
        struct worker *o = &sh->workers[i];
        if (o->clock_waiting && o->wake_at <= sh->clock_ms) {
            o->clock_waiting = false;
            sh->busy++;
        }
    }
    pthread_cond_broadcast(&sh->tick);
}

/* Marks w as no longer taking part in polling time (it has finished). */
static void clock_leave(struct worker *w)
{
    pthread_mutex_lock(&w->sh->lock);
    w->sh->busy--;
    pthread_cond_broadcast(&w->sh->tick);
    pthread_mutex_unlock(&w->sh->lock);
}

/* Lets ms pass before the next attempt of a poll: on the target's clock
 * when there is one (see run_clock), else on the wall clock. Adds to
 * *advanced the ms that passed on the target's clock. */
static void poll_wait(struct worker *w, long ms, double *advanced)
{
    struct shared *sh = w->sh;
    double t0 = run_now_ms();
    if (!sh->cfg->clock) {
        run_sleep_ms(sh, ms);
        w->poll_sleep_ms += run_now_ms() - t0;
        return;
    }
    struct timespec limit;
    clock_gettime(CLOCK_MONOTONIC, &limit);
    limit.tv_sec += ms / 1000;
    limit.tv_nsec += (ms % 1000) * 1000000L;
    if (limit.tv_nsec >= 1000000000L) {
        limit.tv_sec++;
        limit.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sh->lock);
    w->wake_at = sh->clock_ms + ms;
    w->clock_waiting = true;
    sh->busy--;
    while (w->clock_waiting && !run_interrupted(sh)) {
        if (sh->busy == 0) {
            clock_step(sh);
            continue;
        }
        /* Wakes at least every RUN_INTERRUPT_SLICE_MS to look at
         * cfg->interrupt. */
        struct timespec slice;
        clock_gettime(CLOCK_MONOTONIC, &slice);
        slice.tv_nsec += RUN_INTERRUPT_SLICE_MS * 1000000L;
        if (slice.tv_nsec >= 1000000000L) {
            slice.tv_sec++;
            slice.tv_nsec -= 1000000000L;
        }
        bool last = slice.tv_sec > limit.tv_sec ||
                    (slice.tv_sec == limit.tv_sec && slice.tv_nsec >= limit.tv_nsec);
        if (pthread_cond_timedwait(&sh->tick, &sh->lock, last ? &limit : &slice) == ETIMEDOUT &&
            last)
            break;
    }
    bool reached = !w->clock_waiting;
    if (!reached) {
        w->clock_waiting = false;
        sh->busy++;
    }
    pthread_mutex_unlock(&sh->lock);
    if (reached)
        *advanced += (double)ms;
    else
        w->poll_sleep_ms += run_now_ms() - t0;
}

/* ---- one step ---- */

/* Scrubs a heap string in place (replacing it). */
static char *scrubbed(const struct check_secrets *s, const char *text)
{
    return text ? check_secrets_scrub(s, text) : NULL;
}

static int set_message(struct run_step_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int set_message(struct run_step_result *r, const char *fmt, ...)
{
    char buf[UTIL_ERROR_MESSAGE_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(r->message);
    r->message = strdup(buf);
    return r->message ? UTIL_OK : UTIL_ERR_NOMEM;
}

static cJSON *headers_json(const struct http_headers *h, const struct check_secrets *s)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < h->count; i++) {
        /* The lower-case name in a stack buffer unless it is long; the value
         * copied only when it holds a secret to scrub. */
        char small[64];
        size_t n = strlen(h->items[i].name);
        char *lower =
            n < sizeof(small) ? memcpy(small, h->items[i].name, n + 1) : strdup(h->items[i].name);
        if (!lower) {
            cJSON_Delete(o);
            return NULL;
        }
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        const char *v = h->items[i].value;
        char *clean = NULL;
        if (check_secret_header(lower))
            v = CHECK_REDACTED;
        else if (v && check_secrets_hit(s, v))
            v = clean = check_secrets_scrub(s, v); /* NULL: out of memory */
        bool ok = v && cJSON_AddStringToObject(o, lower, v);
        free(clean);
        if (lower != small)
            free(lower);
        if (!ok) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

/* Whether a transport failure means the target is unusable. */
static bool target_failure(enum http_failure f)
{
    return f == HTTP_ERR_RESOLVE || f == HTTP_ERR_CONNECT || f == HTTP_ERR_TLS;
}

/* Evaluates the until: condition; true when it holds. Mismatches go to
 * why (cleared first). */
static int until_holds(struct worker *w, const struct case_step *s,
                       const struct http_response *resp, const cJSON *doc, bool *holds,
                       struct check_list *why, struct util_error *err)
{
    cJSON *h = NULL, *body = NULL;
    check_list_finish(why);
    int rc = UTIL_OK;
    if (s->until.headers)
        rc = case_template_expand_json(w->vars, s->until.headers, &h, err);
    if (!rc && s->until.body)
        rc = case_template_expand_json(w->vars, s->until.body, &body, err);
    struct case_expect cond = s->until;
    if (!cond.nstatus) {
        /* until: without a status waits for any status only through the body;
         * the step's expect: judges the status. */
        static struct case_status any[] = {{1, true}, {2, true}, {3, true}, {4, true}, {5, true}};
        cond.status = any;
        cond.nstatus = 5;
    }
    if (!rc && check_expect(&cond, h, body, resp->status, &resp->headers, doc, &w->secrets, why))
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    *holds = !rc && check_list_count(why, CHECK_FAIL) == 0;
    cJSON_Delete(h);
    cJSON_Delete(body);
    return rc;
}

/* Moves the failed items of src to dst, frees the rest. */
static int keep_failures(struct check_list *dst, struct check_list *src)
{
    int rc = UTIL_OK;
    for (size_t i = 0; i < src->count && !rc; i++) {
        const struct check_item *it = &src->items[i];
        if (it->outcome == CHECK_FAIL)
            rc = check_list_add(dst, it->name, it->outcome, it->pointer, it->expected, it->actual,
                                "%s", it->message);
    }
    check_list_finish(src);
    return rc;
}

/* The strings of a capture v that doc holds in secret members become
 * secrets of the case, and of the recording (under the member's name, so
 * that a replay, which captures the member's placeholder, sends what was
 * recorded). */
static int keep_captured_secrets(struct worker *w, const cJSON *doc, const cJSON *v)
{
    if (!cJSON_IsString(v)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            int rc = keep_captured_secrets(w, doc, it);
            if (rc)
                return rc;
        }
        return UTIL_OK;
    }
    const char *member = check_secret_member_holding(&w->secrets, doc, v->valuestring);
    if (!member)
        return UTIL_OK;
    const struct run_hooks *hk = w->sh->cfg->run_hooks;
    if (hk && hk->secret)
        hk->secret(hk->user, w->current, v->valuestring, member);
    return check_secrets_add(&w->secrets, v->valuestring);
}

static int run_captures(struct worker *w, const struct case_step *s,
                        const struct http_response *resp, const cJSON *doc, struct check_list *out)
{
    for (size_t i = 0; i < s->ncaptures; i++) {
        const struct case_capture *c = &s->captures[i];
        const cJSON *v = NULL;
        cJSON *hv = NULL;
        if (strncmp(c->expr, "header:", 7) == 0) {
            const char *h = http_headers_get(&resp->headers, c->expr + 7);
            if (h && !(hv = cJSON_CreateString(h)))
                return UTIL_ERR_NOMEM;
            v = hv;
        } else {
            v = case_capture_eval(doc, c->expr);
        }
        int rc;
        if (!v) {
            rc = check_list_add(out, "capture", CHECK_FAIL, c->expr[0] == '/' ? c->expr : NULL,
                                c->expr, "(absent)", "capture '%s': %s is not in the %s", c->name,
                                c->expr, hv || c->expr[0] == 'h' ? "headers" : "body");
        } else {
            rc = case_vars_set(w->vars, c->name, v);
            if (!rc && !hv)
                rc = keep_captured_secrets(w, doc, v);
            if (!rc)
                rc = check_list_add(out, "capture", CHECK_PASS, NULL, NULL, NULL,
                                    "captured %s from %s", c->name, c->expr);
        }
        cJSON_Delete(hv);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* Executes one step into r. Returns an error only on local failure. */
static int exec_step(struct worker *w, const struct case_step *s, struct run_step_result *r,
                     bool *target_error)
{
    const struct run_config *cfg = w->sh->cfg;
    struct built b;
    struct http_response resp;
    struct check_list attempt, why;
    struct util_error err;
    cJSON *doc = NULL, *exp_headers = NULL, *exp_body = NULL;
    int rc = UTIL_OK;
    double t0 = run_now_ms();
    memset(&b, 0, sizeof(b));
    http_request_init(&b.req);
    http_response_init(&resp);
    check_list_init(&attempt);
    check_list_init(&why);
    util_error_clear(&err);

    r->name = strdup(s->name);
    r->teardown = s->teardown;
    r->index = s->index;
    r->line = s->line;
    r->outcome = RUN_PASSED;
    if (!r->name)
        return UTIL_ERR_NOMEM;
    if (s->operation_id && !(r->operation_id = strdup(s->operation_id)))
        return UTIL_ERR_NOMEM;

    if (s->unresolved) {
        /* The loaded spec lacks the operation: a failure, never a skip. */
        r->outcome = RUN_FAILED;
        rc = check_list_add(&r->checks, "contract.operation", CHECK_FAIL, NULL, NULL, NULL, "%s",
                            s->unresolved);
        if (!rc)
            rc = set_message(r, "not run: %s", s->unresolved);
        goto record;
    }
    rc = run_build_request(w, s, &b, &err);
    if (rc == UTIL_ERR_NOMEM)
        goto cleanup;
    if (rc) {
        if (s->teardown && rc == UTIL_ERR_NOTFOUND) {
            r->outcome = RUN_SKIPPED;
            rc = set_message(r, "skipped: %s (nothing to clean up)", err.message);
        } else {
            r->outcome = RUN_FAILED;
            rc = check_list_add(&r->checks, "template", CHECK_FAIL, NULL, NULL, NULL, "%s",
                                err.message);
            if (!rc)
                rc = set_message(r, "cannot build the request: %s", err.message);
        }
        goto record;
    }

    /* The poll's time: the wall clock plus what passed on the target's. */
    double deadline = run_now_ms() + (double)s->poll_timeout_ms, advanced = 0.0;
    for (;;) {
        r->attempts++;
        http_response_finish(&resp);
        http_response_init(&resp);
        cJSON_Delete(doc);
        doc = NULL;
        util_error_clear(&err);
        const struct run_hooks *hk = cfg->run_hooks;
        if (hk && hk->step_begin)
            hk->step_begin(hk->user, w->current, w->kase, s);
        struct run_send_info info = {0};
        rc = run_send(w, s->teardown, &b.req, &resp, &info, &err);
        r->retries += info.retries;
        w->retries += info.retries;
        if (rc) {
            w->err = err;
            goto cleanup;
        }
        if (info.refused) {
            r->outcome = RUN_SKIPPED;
            w->budget_refused = true;
            rc = set_message(r, "not sent: the request budget (--max-requests %ld) is spent",
                             cfg->max_requests);
            goto record;
        }
        if (resp.failure == HTTP_ERR_INTERRUPTED) {
            /* The transport saw the interruption (http_options.cancel). */
            r->outcome = RUN_SKIPPED;
            rc = set_message(r, "interrupted waiting for %s %s (%u attempt%s)", b.req.method,
                             b.req.url, r->attempts, r->attempts == 1 ? "" : "s");
            goto record;
        }
        if (resp.failure != HTTP_ERR_NONE) {
            *target_error = target_failure(resp.failure);
            r->outcome = *target_error ? RUN_ERROR : RUN_FAILED;
            if (err.message[0])
                rc = check_list_add(&r->checks, "transport", CHECK_FAIL, NULL, "a response",
                                    http_failure_name(resp.failure), "%s", err.message);
            else
                rc = check_list_add(&r->checks, "transport", CHECK_FAIL, NULL, "a response",
                                    http_failure_name(resp.failure), "%s %s: %s", b.req.method,
                                    b.req.url, http_failure_name(resp.failure));
            if (!rc)
                rc = set_message(r, "%s %s: %s", b.req.method, b.req.url,
                                 http_failure_name(resp.failure));
            goto record;
        }
        struct check_response cr = {
            .status = resp.status,
            .content_type = http_headers_get(&resp.headers, "content-type"),
            .body = resp.body,
            .body_len = resp.body_len,
            .secrets = &w->secrets,
        };
        const char *matched = NULL;
        rc = check_contract_response(cfg->contract, s->operation_id, b.req.method, b.path, &cr,
                                     s->allow_undocumented, s->nallow, &attempt, &doc, &matched,
                                     &err);
        if (rc)
            goto cleanup;
        if (!r->operation_id && matched && !(r->operation_id = strdup(matched))) {
            rc = UTIL_ERR_NOMEM;
            goto cleanup;
        }
        if (!s->has_until)
            break;
        bool holds = false;
        rc = until_holds(w, s, &resp, doc, &holds, &why, &err);
        if (rc == UTIL_ERR_NOMEM)
            goto cleanup;
        if (rc) {
            rc = check_list_add(&attempt, "until", CHECK_FAIL, NULL, NULL, NULL, "%s", err.message);
            break;
        }
        if (holds) {
            /* How many attempts it took is in r->attempts: it varies with
             * timing, the message does not. */
            rc = check_list_add(&attempt, "until", CHECK_PASS, NULL, NULL, NULL, "condition met");
            break;
        }
        /* Against a live target the interval doubles at each attempt, up
         * to what is left of the timeout (run_clock: it stays as written,
         * the mock's clock moves instead). */
        long interval = s->poll_interval_ms;
        bool backoff = !cfg->clock && !(hk && hk->skip_wait && hk->skip_wait(hk->user, w->current));
        if (backoff) {
            for (unsigned i = 1; i < r->attempts && interval < RUN_CAP_POLL_BACKOFF_MS; i++)
                interval *= 2;
            if (interval > RUN_CAP_POLL_BACKOFF_MS)
                interval = RUN_CAP_POLL_BACKOFF_MS;
            double left = deadline - run_now_ms();
            if (left > s->poll_interval_ms && interval >= left)
                interval = (long)left - 1;
        }
        if (run_now_ms() + advanced + (double)interval > deadline) {
            rc = check_list_add(&attempt, "until", CHECK_FAIL, NULL, NULL, NULL,
                                "condition not met within %ld ms", s->poll_timeout_ms);
            if (!rc) {
                /* The mismatches that kept the condition false. */
                for (size_t i = 0; i < why.count && !rc; i++) {
                    char *name = strdup("until");
                    if (!name) {
                        rc = UTIL_ERR_NOMEM;
                        break;
                    }
                    free(why.items[i].name);
                    why.items[i].name = name;
                }
                if (!rc)
                    rc = check_list_move(&attempt, &why);
            }
            break;
        }
        /* Keep the contract failures of this attempt, then wait. */
        rc = keep_failures(&r->checks, &attempt);
        if (rc)
            goto cleanup;
        if (!(hk && hk->skip_wait && hk->skip_wait(hk->user, w->current))) {
            double before = run_now_ms() + advanced;
            poll_wait(w, interval, &advanced);
            r->waited_ms += run_now_ms() + advanced - before;
        }
        if (run_interrupted(w->sh)) {
            r->outcome = RUN_SKIPPED;
            rc = set_message(r, "interrupted while polling (%u attempt%s)", r->attempts,
                             r->attempts == 1 ? "" : "s");
            goto record;
        }
    }
    if (rc)
        goto cleanup;
    rc = check_list_move(&r->checks, &attempt);
    if (rc)
        goto cleanup;

    /* The case's expectations. */
    util_error_clear(&err);
    int xrc = UTIL_OK;
    if (s->expect.headers)
        xrc = case_template_expand_json(w->vars, s->expect.headers, &exp_headers, &err);
    if (!xrc && s->expect.body)
        xrc = case_template_expand_json(w->vars, s->expect.body, &exp_body, &err);
    if (xrc == UTIL_ERR_NOMEM) {
        rc = xrc;
        goto cleanup;
    }
    if (xrc)
        rc = check_list_add(&r->checks, "template", CHECK_FAIL, NULL, NULL, NULL, "expect: %s",
                            err.message);
    else
        rc = check_expect(&s->expect, exp_headers, exp_body, resp.status, &resp.headers, doc,
                          &w->secrets, &r->checks);
    if (!rc)
        rc = run_captures(w, s, &resp, doc, &r->checks);
    if (rc)
        goto cleanup;
    if (check_list_count(&r->checks, CHECK_FAIL)) {
        r->outcome = RUN_FAILED;
        for (size_t i = 0; i < r->checks.count; i++) {
            if (r->checks.items[i].outcome == CHECK_FAIL) {
                rc = set_message(r, "%s: %s", r->checks.items[i].name, r->checks.items[i].message);
                break;
            }
        }
    }

record:
    if (rc)
        goto cleanup;
    /* What the result keeps, redacted. */
    r->elapsed_ms = run_now_ms() - t0;
    r->status = resp.status;
    if (b.req.method && !(r->method = strdup(b.req.method)))
        rc = UTIL_ERR_NOMEM;
    if (!rc && b.req.url && !(r->url = scrubbed(&w->secrets, b.req.url)))
        rc = UTIL_ERR_NOMEM;
    if (!rc) {
        struct http_headers sent;
        http_headers_init(&sent);
        const cJSON *it;
        cJSON_ArrayForEach(it, b.headers)
        {
            if (!rc)
                rc = http_headers_add(&sent, it->string, it->valuestring);
        }
        if (!rc && b.headers && !(r->request_headers = headers_json(&sent, &w->secrets)))
            rc = UTIL_ERR_NOMEM;
        http_headers_finish(&sent);
    }
    r->params = b.params;
    b.params = NULL;
    r->request_body = b.body;
    b.body = NULL;
    if (!rc && b.body_raw && !(r->request_body_raw = scrubbed(&w->secrets, b.body_raw)))
        rc = UTIL_ERR_NOMEM;
    if (!rc && resp.status) {
        const char *ct = http_headers_get(&resp.headers, "content-type");
        if (ct && !(r->content_type = strdup(ct)))
            rc = UTIL_ERR_NOMEM;
        if (!rc && !(r->response_headers = headers_json(&resp.headers, &w->secrets)))
            rc = UTIL_ERR_NOMEM;
        if (!rc && doc) {
            r->response_body = doc;
            doc = NULL;
        } else if (!rc && resp.body && resp.body_len) {
            size_t n = resp.body_len < RUN_CAP_STORED_BODY ? resp.body_len : RUN_CAP_STORED_BODY;
            char *cut = strndup(resp.body, n);
            r->response_text = cut ? scrubbed(&w->secrets, cut) : NULL;
            free(cut);
            if (!r->response_text)
                rc = UTIL_ERR_NOMEM;
        }
    }
    if (!rc && r->params)
        rc = check_redact_json(&w->secrets, r->params);
    if (!rc && r->request_body)
        rc = check_redact_json(&w->secrets, r->request_body);
    if (!rc && r->response_body)
        rc = check_redact_json(&w->secrets, r->response_body);
    if (!rc)
        rc = check_list_scrub(&w->secrets, &r->checks);
    if (!rc && r->message) {
        char *m = scrubbed(&w->secrets, r->message);
        if (!m)
            rc = UTIL_ERR_NOMEM;
        free(r->message);
        r->message = m;
    }
cleanup:
    cJSON_Delete(doc);
    cJSON_Delete(exp_headers);
    cJSON_Delete(exp_body);
    check_list_finish(&attempt);
    check_list_finish(&why);
    http_response_finish(&resp);
    run_built_finish(&b);
    return rc;
}

/* ---- one case ---- */

/* Starts the case's secrets afresh: the credentials and --redact. */
static int case_secrets(struct worker *w)
{
    const struct run_config *cfg = w->sh->cfg;
    const char *const creds[] = {cfg->api_key,    cfg->app_id,          cfg->userinfo,
                                 w->sh->userinfo, w->sh->authorization, w->sh->password};
    check_secrets_finish(&w->secrets);
    check_secrets_init(&w->secrets);
    check_secrets_fields(&w->secrets, cfg->secret_fields, cfg->nsecret_fields);
    for (size_t i = 0; i < sizeof(creds) / sizeof(creds[0]); i++) {
        int rc = creds[i] ? check_secrets_add(&w->secrets, creds[i]) : UTIL_OK;
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

static int exec_case(struct worker *w, const struct case_case *k, struct run_case_result *r,
                     bool *target_error)
{
    double t0 = run_now_ms();
    int rc = UTIL_OK;
    struct util_error err;
    util_error_clear(&err);
    case_vars_clear(w->vars);
    if ((rc = case_secrets(w)))
        return rc;

    r->name = strdup(k->name);
    r->file = strdup(k->file);
    r->line = k->line;
    r->outcome = RUN_PASSED;
    r->steps = calloc(k->nsteps + k->nteardown + 1, sizeof(*r->steps));
    r->tags = calloc(k->ntags + 1, sizeof(char *));
    if (!r->name || !r->file || !r->steps || !r->tags)
        return UTIL_ERR_NOMEM;
    for (size_t i = 0; i < k->ntags; i++) {
        if (!(r->tags[i] = strdup(k->tags[i])))
            return UTIL_ERR_NOMEM;
        r->ntags++;
    }

    bool failed = false;
    /* --var and --vars, then vars:, in order, but the names given; a
     * failure fails the case before any request. */
    const cJSON *it;
    const struct run_config *cfg = w->sh->cfg;
    cJSON_ArrayForEach(it, cfg->vars)
    {
        if ((rc = case_vars_set(w->vars, it->string, it)))
            return rc;
    }
    cJSON_ArrayForEach(it, k->vars)
    {
        if (cJSON_GetObjectItemCaseSensitive(cfg->vars, it->string))
            continue;
        cJSON *v = NULL;
        rc = case_template_expand_json(w->vars, it, &v, &err);
        if (!rc)
            rc = case_vars_set(w->vars, it->string, v);
        cJSON_Delete(v);
        if (rc == UTIL_ERR_NOMEM)
            return rc;
        if (rc) {
            failed = true;
            r->outcome = RUN_FAILED;
            char buf[UTIL_ERROR_MESSAGE_MAX + 64];
            snprintf(buf, sizeof(buf), "vars: %s: %s", it->string, err.message);
            if (!(r->message = strdup(buf)))
                return UTIL_ERR_NOMEM;
            rc = UTIL_OK;
            break;
        }
    }
    bool cut = false;   /* the interruption stopped the case */
    bool spent = false; /* the request budget stopped the case */
    w->budget_refused = false;
    for (size_t i = 0; i < k->nsteps; i++) {
        struct run_step_result *sr = &r->steps[r->nsteps++];
        cut = cut || (!failed && !*target_error && run_interrupted(w->sh));
        if (failed || *target_error || cut || spent) {
            check_list_init(&sr->checks);
            sr->name = strdup(k->steps[i].name);
            sr->index = i;
            sr->line = k->steps[i].line;
            sr->outcome = RUN_SKIPPED;
            if (!sr->name || set_message(sr, cut     ? "skipped: interrupted"
                                             : spent ? "skipped: the request budget is spent"
                                                     : "skipped: an earlier step failed"))
                return UTIL_ERR_NOMEM;
            continue;
        }
        rc = exec_step(w, &k->steps[i], sr, target_error);
        if (rc)
            return rc;
        if (sr->outcome == RUN_FAILED || sr->outcome == RUN_ERROR)
            failed = true;
        spent = spent || w->budget_refused;
        cut = cut || (sr->outcome == RUN_SKIPPED && run_interrupted(w->sh));
    }
    for (size_t i = 0; i < k->nteardown; i++) {
        struct run_step_result *sr = &r->steps[r->nsteps++];
        if (*target_error) {
            sr->name = strdup(k->teardown[i].name);
            sr->teardown = true;
            sr->index = i;
            sr->line = k->teardown[i].line;
            sr->outcome = RUN_SKIPPED;
            if (!sr->name || set_message(sr, "skipped: the target is unreachable"))
                return UTIL_ERR_NOMEM;
            continue;
        }
        rc = exec_step(w, &k->teardown[i], sr, target_error);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct run_step_result *sr = &r->steps[i];
        r->gaps += check_list_count(&sr->checks, CHECK_GAP);
        enum run_outcome o = sr->outcome;
        if (o == RUN_ERROR || (o == RUN_FAILED && r->outcome == RUN_PASSED)) {
            r->outcome = o;
            char buf[UTIL_ERROR_MESSAGE_MAX + 512];
            snprintf(buf, sizeof(buf), "%s%s '%s': %s", sr->teardown ? "teardown " : "", "step",
                     sr->name, sr->message ? sr->message : "failed");
            free(r->message);
            if (!(r->message = strdup(buf)))
                return UTIL_ERR_NOMEM;
        }
    }
    if (spent && r->outcome == RUN_PASSED) {
        r->outcome = RUN_SKIPPED;
        free(r->message);
        if (!(r->message = strdup("not run to the end: the request budget (--max-requests) is "
                                  "spent")))
            return UTIL_ERR_NOMEM;
    }
    r->interrupted = cut;
    if (cut && r->outcome == RUN_PASSED) {
        r->outcome = RUN_SKIPPED;
        free(r->message);
        if (!(r->message = strdup("interrupted before the case finished")))
            return UTIL_ERR_NOMEM;
    }
    r->elapsed_ms = run_now_ms() - t0;
    return UTIL_OK;
}

/* Runs a case with the transport the hooks choose for it. */
static int run_one(struct worker *w, const struct case_case *k, struct run_case_result *r,
                   bool *target_error)
{
    const struct run_hooks *hk = w->sh->cfg->run_hooks;
    struct util_error err;
    util_error_clear(&err);
    w->kase = k;
    w->current = w->transport;
    if (hk && hk->case_begin) {
        w->current = hk->case_begin(hk->user, k, w->transport, &err);
        if (!w->current)
            goto hook_failed;
    }
    int rc = exec_case(w, k, r, target_error);
    /* case_end runs whenever case_begin did (a hook may hold a lock). */
    if (hk && hk->case_end && hk->case_end(hk->user, k, w->current, r, &err) && !rc)
        goto hook_failed;
    w->current = NULL;
    return rc;
hook_failed:
    w->current = NULL;
    pthread_mutex_lock(&w->sh->lock);
    if (!w->sh->local_rc) {
        w->sh->local_rc = err.code ? err.code : UTIL_ERR_INVALID;
        w->sh->local_err = err;
    }
    pthread_mutex_unlock(&w->sh->lock);
    return UTIL_OK;
}

/* ---- workers ---- */

static void emit_ready(struct shared *sh)
{
    while (sh->emit < sh->plan->count && sh->done[sh->emit]) {
        if (sh->cfg->on_case_done)
            sh->cfg->on_case_done(&sh->out->cases[sh->emit], sh->plan->count, sh->cfg->user);
        sh->emit++;
    }
}

/* Records case i as not run. The hooks still see it begin and end, so
 * that a hook that makes cases take turns (cassettes) passes its turn. */
static int mark_not_run(struct worker *w, size_t i, const char *why)
{
    struct shared *sh = w->sh;
    const struct run_hooks *hk = sh->cfg->run_hooks;
    struct run_case_result *r = &sh->out->cases[i];
    const struct case_case *k = sh->plan->cases[i];
    struct util_error err;
    util_error_clear(&err);
    r->name = strdup(k->name);
    r->file = strdup(k->file);
    r->line = k->line;
    r->outcome = RUN_SKIPPED;
    r->message = strdup(why);
    r->tags = calloc(k->ntags + 1, sizeof(char *));
    for (size_t t = 0; r->tags && t < k->ntags; t++)
        if ((r->tags[t] = strdup(k->tags[t])) != NULL)
            r->ntags++;
    if (hk && hk->case_begin) {
        struct http_transport *t = hk->case_begin(hk->user, k, w->transport, &err);
        if (t && hk->case_end)
            hk->case_end(hk->user, k, t, r, &err);
    }
    return r->name && r->file && r->message && r->tags && r->ntags == k->ntags ? UTIL_OK
                                                                               : UTIL_ERR_NOMEM;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        if (sh->next >= sh->plan->count) {
            pthread_mutex_unlock(&sh->lock);
            break;
        }
        size_t i = sh->next++;
        bool stop = sh->abort || sh->local_rc;
        bool spent = sh->budget_spent;
        pthread_mutex_unlock(&sh->lock);

        bool target_error = false;
        int rc = UTIL_OK;
        sh->out->cases[i].index = sh->plan->indexes ? sh->plan->indexes[i] : i;
        bool cut = run_interrupted(sh);
        if (stop) {
            rc = mark_not_run(w, i, "not run: the run stopped early");
        } else if (spent) {
            rc = mark_not_run(w, i, "not run: the request budget (--max-requests) is spent");
        } else if (cut) {
            rc = mark_not_run(w, i, "not run: interrupted");
            sh->out->cases[i].interrupted = true;
        } else if (sh->plan->mock_only && sh->plan->mock_only[i]) {
            rc = mark_not_run(w, i, RUN_SKIP_MOCK_ONLY);
        } else {
            rc = run_one(w, sh->plan->cases[i], &sh->out->cases[i], &target_error);
        }

        pthread_mutex_lock(&sh->lock);
        if (rc && !sh->local_rc) {
            sh->local_rc = rc;
            util_error_set(&sh->local_err, rc, "%s while running case '%s'",
                           w->err.code ? w->err.message : util_status_name(rc),
                           sh->plan->cases[i]->name);
        }
        if (target_error && !sh->abort) {
            sh->abort = true;
            const struct run_case_result *cr = &sh->out->cases[i];
            snprintf(sh->out->target_message, sizeof(sh->out->target_message), "%s",
                     cr->message ? cr->message : "the target is unreachable");
        }
        sh->done[i] = true;
        emit_ready(sh);
        pthread_mutex_unlock(&sh->lock);
    }
    clock_leave(w);
    return NULL;
}

/* The header value and password of HTTP basic authentication with
 * userinfo ("user:password", may be NULL) into sh. */
static int basic_auth(struct shared *sh, const char *userinfo)
{
    if (!userinfo)
        return UTIL_OK;
    struct util_buf b;
    util_buf_init(&b, RUN_CAP_URL * 2);
    int rc = util_buf_puts(&b, "Basic ");
    if (!rc)
        rc = util_base64_encode((const unsigned char *)userinfo, strlen(userinfo), &b);
    if (!rc && !(sh->authorization = util_buf_steal(&b)))
        rc = UTIL_ERR_NOMEM;
    util_buf_finish(&b);
    const char *colon = strchr(userinfo, ':');
    if (!rc && colon && colon[1] && !(sh->password = strdup(colon + 1)))
        rc = UTIL_ERR_NOMEM;
    return rc;
}

int run_execute(const struct run_config *cfg, const struct run_plan *plan, struct run_results *out,
                struct util_error *err)
{
    struct shared sh;
    struct worker *workers = NULL;
    size_t nworkers = cfg->jobs > 1 ? cfg->jobs : 1, started = 0;
    char id[16];
    int rc = UTIL_OK;
    double t0 = run_now_ms();
    memset(&sh, 0, sizeof(sh));
    if (nworkers > RUN_CAP_JOBS)
        nworkers = RUN_CAP_JOBS;
    if (plan->count && nworkers > plan->count)
        nworkers = plan->count;
    if (!cfg->run_id)
        run_make_id(id);
    sh.cfg = cfg;
    sh.plan = plan;
    sh.out = out;
    pthread_mutex_init(&sh.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sh.tick, &ca);
    pthread_condattr_destroy(&ca);
    out->run_id = strdup(cfg->run_id ? cfg->run_id : id);
    if (util_secret_split_userinfo(cfg->base_url ? cfg->base_url : "", &sh.base_url,
                                   &sh.userinfo) ||
        basic_auth(&sh, cfg->userinfo ? cfg->userinfo : sh.userinfo)) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    out->base_url = sh.base_url ? strdup(sh.base_url) : NULL;
    out->cases = calloc(plan->count ? plan->count : 1, sizeof(*out->cases));
    sh.done = calloc(plan->count ? plan->count : 1, sizeof(bool));
    workers = calloc(nworkers, sizeof(*workers));
    sh.workers = workers;
    sh.nworkers = nworkers;
    sh.busy = nworkers;
    if (!out->run_id || !sh.base_url || !out->base_url || !out->cases || !sh.done || !workers) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    out->count = plan->count;
    out->planned = plan->planned > plan->count ? plan->planned : plan->count;
    out->shard = plan->shard;
    out->shards = plan->shards;
    memcpy(out->plan_id, plan->plan_id, sizeof(out->plan_id));
    out->jobs = (unsigned)nworkers;
    size_t blen = strlen(sh.base_url);
    while (blen && sh.base_url[blen - 1] == '/')
        sh.base_url[--blen] = '\0';

    for (size_t i = 0; i < nworkers; i++) {
        struct worker *w = &workers[i];
        w->sh = &sh;
        check_secrets_init(&w->secrets);
        w->vars = case_vars_create(out->run_id, cfg->hooks);
        if (!w->vars) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        w->transport = cfg->transport_create(cfg->transport_user, err);
        if (!w->transport) {
            rc = err && err->code ? err->code : UTIL_ERR_INVALID;
            goto cleanup;
        }
    }
    if (nworkers == 1) {
        worker_main(&workers[0]);
    } else {
        for (started = 0; started < nworkers; started++) {
            if (pthread_create(&workers[started].thread, NULL, worker_main, &workers[started])) {
                /* The workers already started finish the plan (or this
                 * thread, as worker 0, when none did). */
                pthread_mutex_lock(&sh.lock);
                sh.busy -= nworkers - (started ? started : 1);
                pthread_cond_broadcast(&sh.tick);
                pthread_mutex_unlock(&sh.lock);
                if (started == 0)
                    worker_main(&workers[0]);
                break;
            }
        }
        for (size_t i = 0; i < started; i++)
            pthread_join(workers[i].thread, NULL);
    }
    if (sh.local_rc) {
        rc = sh.local_rc;
        if (err)
            *err = sh.local_err;
        goto cleanup;
    }
    run_results_tally(out);
    for (size_t i = 0; i < nworkers; i++) {
        out->transport_ms += workers[i].transport_ms;
        out->poll_sleep_ms += workers[i].poll_sleep_ms;
        out->retries += workers[i].retries;
    }
    out->requests = sh.requests;
    out->budget_spent = sh.budget_spent;
    out->clock_advanced_ms = (double)sh.moved_ms;
    out->target_error = sh.abort;

    out->elapsed_ms = run_now_ms() - t0;
cleanup:
    for (size_t i = 0; workers && i < nworkers; i++) {
        http_transport_destroy(workers[i].transport);
        case_vars_destroy(workers[i].vars);
        check_secrets_finish(&workers[i].secrets);
    }
    free(workers);
    free(sh.done);
    free(sh.base_url);
    free(sh.userinfo);
    free(sh.password);
    free(sh.authorization);
    pthread_cond_destroy(&sh.tick);
    pthread_mutex_destroy(&sh.lock);
    return rc;
}
