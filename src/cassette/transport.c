/* The replay and record transports (vtables over struct http_transport). */
#include "cassette/internal.h"

#include <stdlib.h>
#include <string.h>

struct cassette_transport {
    struct http_transport base; /* first: a cassette transport is an http_transport */
    struct cassette *c;
    struct http_transport *inner; /* borrowed, may be NULL */
    enum cassette_record_mode mode;
    bool replay_only; /* never sends */
    bool record_all;  /* never replays */
    struct cassette_matcher *m;
    struct cassette_redactor *own_redactor;
    const struct cassette_redactor *r;
    char *case_name;
    char *step;
    struct cassette_match_options opts;
    struct cassette_miss miss;
    bool have_miss;
    size_t replayed;
    size_t recorded;
};

static int transport_send(struct http_transport *t, const struct http_request *req,
                          struct http_response *resp, struct util_error *err);
static void transport_destroy(struct http_transport *t);

static const struct http_transport_ops replay_ops = {
    .name = "cassette-replay",
    .send = transport_send,
    .destroy = transport_destroy,
};

static const struct http_transport_ops record_ops = {
    .name = "cassette-record",
    .send = transport_send,
    .destroy = transport_destroy,
};

static struct cassette_transport *as_cassette(const struct http_transport *t)
{
    if (!t || (t->ops != &replay_ops && t->ops != &record_ops))
        return NULL;
    return (struct cassette_transport *)(uintptr_t)t;
}

static int transport_send(struct http_transport *t, const struct http_request *req,
                          struct http_response *resp, struct util_error *err)
{
    struct cassette_transport *ct = as_cassette(t);
    int rc = UTIL_OK;
    ct->have_miss = false;
    http_response_finish(resp);
    http_response_init(resp);
    if (!ct->record_all) {
        size_t index = SIZE_MAX;
        struct cassette_match_options o = ct->opts;
        if (o.ordered && !o.ordered_case)
            o.ordered_case = ct->case_name;
        rc = cassette_match(ct->m, req, &o, &index, &ct->miss, err);
        if (rc == UTIL_OK) {
            if ((rc = cassette_interaction_response(ct->c, index, resp, err)))
                return rc;
            ct->replayed++;
            return UTIL_OK;
        }
        if (rc != UTIL_ERR_NOTFOUND)
            return rc;
        if (ct->replay_only) {
            /* No response: the step fails with err's message. */
            ct->have_miss = true;
            resp->failure = HTTP_ERR_NO_RECORDING;
            return UTIL_OK;
        }
        util_error_clear(err);
    }
    if (!ct->inner) {
        resp->failure = HTTP_ERR_OTHER;
        util_error_set(err, UTIL_ERR_USAGE, "recording %s %s needs a live transport", req->method,
                       req->url);
        return UTIL_OK;
    }
    if ((rc = http_send(ct->inner, req, resp, err)) || resp->failure != HTTP_ERR_NONE)
        return rc;
    rc = cassette_append(ct->c, req, resp, ct->case_name, ct->step, ct->r, err);
    if (rc == UTIL_ERR_INVALID || rc == UTIL_ERR_LIMIT) {
        /* An answer that cannot be recorded fails its step (err says
         * why); the run goes on. */
        http_response_finish(resp);
        http_response_init(resp);
        resp->failure = HTTP_ERR_OTHER;
        return UTIL_OK;
    }
    if (rc)
        return rc;
    cassette_matcher_mark_used(ct->m, cassette_count(ct->c) - 1);
    ct->recorded++;
    return UTIL_OK;
}

static void transport_destroy(struct http_transport *t)
{
    struct cassette_transport *ct = as_cassette(t);
    if (!ct)
        return;
    cassette_matcher_destroy(ct->m);
    cassette_redactor_destroy(ct->own_redactor);
    free(ct->case_name);
    free(ct->step);
    free(ct);
}

static struct http_transport *create(const struct http_transport_ops *ops,
                                     struct http_transport *inner, struct cassette *c,
                                     enum cassette_record_mode mode,
                                     const struct cassette_transport_options *o,
                                     struct util_error *err)
{
    if (!c) {
        util_error_set(err, UTIL_ERR_USAGE, "a cassette transport needs a cassette");
        return NULL;
    }
    struct cassette_transport *ct = calloc(1, sizeof(*ct));
    if (!ct)
        goto nomem;
    ct->base.ops = ops;
    ct->c = c;
    ct->inner = inner;
    ct->mode = mode;
    ct->r = o ? o->redactor : NULL;
    if (!ct->r) {
        if (!(ct->own_redactor = cassette_redactor_create()))
            goto nomem;
        ct->r = ct->own_redactor;
    }
    switch (mode) {
    case CASSETTE_RECORD_NONE:
        ct->replay_only = true;
        break;
    case CASSETTE_RECORD_ONCE:
        if (cassette_source(c))
            ct->replay_only = true;
        else
            ct->record_all = true;
        break;
    case CASSETTE_RECORD_NEW_EPISODES:
        break;
    case CASSETTE_RECORD_ALL:
        ct->record_all = true;
        cassette_clear(c);
        break;
    default:
        free(ct);
        util_error_set(err, UTIL_ERR_USAGE, "unknown record mode %d", (int)mode);
        return NULL;
    }
    if (!ct->replay_only && !inner) {
        util_error_set(err, UTIL_ERR_USAGE, "record mode %s needs a live transport",
                       cassette_record_mode_name(mode));
        transport_destroy(&ct->base);
        return NULL;
    }
    if (!(ct->m = cassette_matcher_create(c, o ? o->spec : NULL, ct->r)))
        goto nomem;
    return &ct->base;
nomem:
    if (ct)
        transport_destroy(&ct->base);
    util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    return NULL;
}

struct http_transport *cassette_replay_transport_create(struct cassette *c,
                                                        const struct cassette_transport_options *o,
                                                        struct util_error *err)
{
    return create(&replay_ops, NULL, c, CASSETTE_RECORD_NONE, o, err);
}

struct http_transport *cassette_record_transport_create(struct http_transport *inner,
                                                        struct cassette *c,
                                                        enum cassette_record_mode mode,
                                                        const struct cassette_transport_options *o,
                                                        struct util_error *err)
{
    return create(&record_ops, inner, c, mode, o, err);
}

int cassette_transport_add_secret(struct http_transport *t, const char *value, const char *label)
{
    struct cassette_transport *ct = as_cassette(t);
    if (!ct)
        return UTIL_ERR_USAGE;
    return redact_learn(ct->r, value, label);
}

int cassette_transport_set_context(struct http_transport *t, const char *case_name,
                                   const char *step)
{
    struct cassette_transport *ct = as_cassette(t);
    if (!ct)
        return UTIL_ERR_USAGE;
    char *c = case_name ? strdup(case_name) : NULL;
    char *s = step ? strdup(step) : NULL;
    if ((case_name && !c) || (step && !s)) {
        free(c);
        free(s);
        return UTIL_ERR_NOMEM;
    }
    free(ct->case_name);
    free(ct->step);
    ct->case_name = c;
    ct->step = s;
    return UTIL_OK;
}

int cassette_transport_set_match_options(struct http_transport *t,
                                         const struct cassette_match_options *opts)
{
    struct cassette_transport *ct = as_cassette(t);
    if (!ct)
        return UTIL_ERR_USAGE;
    if (opts)
        ct->opts = *opts;
    else
        memset(&ct->opts, 0, sizeof(ct->opts));
    return UTIL_OK;
}

void cassette_transport_mark_replayed(struct http_transport *t, size_t i)
{
    struct cassette_transport *ct = as_cassette(t);
    if (ct && ct->m && i < cassette_count(ct->c))
        cassette_matcher_mark_used(ct->m, i);
}

const struct cassette_miss *cassette_transport_last_miss(const struct http_transport *t)
{
    const struct cassette_transport *ct = as_cassette(t);
    return ct && ct->have_miss ? &ct->miss : NULL;
}

bool cassette_transport_replays_only(const struct http_transport *t)
{
    const struct cassette_transport *ct = as_cassette(t);
    return ct && ct->replay_only;
}

void cassette_transport_counts(const struct http_transport *t, size_t *replayed, size_t *recorded)
{
    const struct cassette_transport *ct = as_cassette(t);
    if (replayed)
        *replayed = ct ? ct->replayed : 0;
    if (recorded)
        *recorded = ct ? ct->recorded : 0;
}
