/* Re-recording part of a cassette's cases: the fresh recordings of the
 * cases that ran, and what the file held of the others. */
#include "cassette/internal.h"

#include <stdlib.h>
#include <string.h>

/* The case a value belongs to: what follows the first '@' of its name
 * ("now@CASE", "duration_ms@CASE"); NULL for a run-wide value ("run.id"). */
static const char *value_case(const struct cassette_value *v)
{
    const char *at = strchr(v->name, '@');
    return at ? at + 1 : NULL;
}

/* Copies in (strings of another cassette) into c's arena and appends it. */
static int copy_interaction(struct cassette *c, const struct cassette_interaction *in,
                            struct util_error *err)
{
    struct cassette_interaction out = *in;
    struct cassette_header *h[2] = {NULL, NULL};
    const struct cassette_header *from[2] = {in->request_headers, in->response_headers};
    size_t n[2] = {in->request_header_count, in->response_header_count};
#define DUP(s, len) ((s) ? arena_strndup(&c->arena, (s), (len)) : NULL)
    out.method = DUP(in->method, strlen(in->method));
    out.uri = DUP(in->uri, strlen(in->uri));
    out.request_body = DUP(in->request_body, in->request_body_len);
    out.status_message = DUP(in->status_message, strlen(in->status_message));
    out.response_body = DUP(in->response_body, in->response_body_len);
    out.case_name = DUP(in->case_name, in->case_name ? strlen(in->case_name) : 0);
    out.step = DUP(in->step, in->step ? strlen(in->step) : 0);
    bool ok = out.method && out.uri && (!in->request_body || out.request_body) &&
              out.status_message && out.response_body && (!in->case_name || out.case_name) &&
              (!in->step || out.step);
    for (int k = 0; ok && k < 2; k++) {
        if (!n[k])
            continue;
        ok = (h[k] = arena_alloc(&c->arena, n[k] * sizeof(*h[k]))) != NULL;
        for (size_t i = 0; ok && i < n[k]; i++) {
            h[k][i].name = DUP(from[k][i].name, strlen(from[k][i].name));
            h[k][i].value = DUP(from[k][i].value, strlen(from[k][i].value));
            ok = h[k][i].name && h[k][i].value;
        }
    }
#undef DUP
    if (!ok)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    out.request_headers = h[0];
    out.response_headers = h[1];
    out.line = 0;
    return cassette_push_entry(c, &out, err);
}

/* Whether name is one of the cases of names[0..n-1]. */
static bool among(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

bool cassette_holds_other_cases(const struct cassette *old, const char *const *ran, size_t nran)
{
    for (size_t i = 0; old && i < old->count; i++) {
        const char *k = old->items[i].pub.case_name;
        if (k && !among(k, ran, nran))
            return true;
    }
    for (size_t i = 0; old && i < old->nvalues; i++) {
        const char *k = value_case(&old->values[i]);
        if (k && !among(k, ran, nran))
            return true;
    }
    return false;
}

/* Appends to out, in order, the items (interactions when values is false,
 * else values) of fresh and old: old's order is kept; at the first item of
 * a case that ran, all of fresh's items of that case take its place (old's
 * items of it are dropped); fresh's items of cases old did not hold
 * follow. Run-wide values come from fresh, or from old when fresh has none
 * of that name; interactions without a case are fresh's. */
static int merge_items(struct cassette *out, const struct cassette *fresh,
                       const struct cassette *old, const char *const *ran, size_t nran, bool values,
                       struct util_error *err)
{
    size_t nfresh = values ? fresh->nvalues : fresh->count;
    size_t nold = values ? old->nvalues : old->count;
    bool *done = calloc(nfresh ? nfresh : 1, sizeof(*done));
    int rc = UTIL_OK;
    if (!done)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
#define CASE_OF(c, i) (values ? value_case(&(c)->values[i]) : (c)->items[i].pub.case_name)
#define PUT(c, i)                                                                                  \
    (values ? cassette_value_append(out, (c)->values[i].name, (c)->values[i].value, err)           \
            : copy_interaction(out, &(c)->items[i].pub, err))
    for (size_t i = 0; !rc && i < nold; i++) {
        const char *k = CASE_OF(old, i);
        if (!k) {
            /* A run-wide value fresh lacks; a caseless interaction is
             * dropped as a whole re-recording drops it. */
            bool fresh_has = false;
            for (size_t j = 0; values && j < nfresh && !fresh_has; j++)
                fresh_has =
                    !CASE_OF(fresh, j) && strcmp(fresh->values[j].name, old->values[i].name) == 0;
            if (values && !fresh_has)
                rc = PUT(old, i);
            continue;
        }
        if (!among(k, ran, nran)) {
            rc = PUT(old, i);
            continue;
        }
        for (size_t j = 0; !rc && j < nfresh; j++) {
            const char *fk = CASE_OF(fresh, j);
            if (!done[j] && fk && strcmp(fk, k) == 0) {
                done[j] = true;
                rc = PUT(fresh, j);
            }
        }
    }
    for (size_t j = 0; !rc && j < nfresh; j++)
        if (!done[j])
            rc = PUT(fresh, j);
#undef CASE_OF
#undef PUT
    free(done);
    return rc;
}

int cassette_merge_kept(const struct cassette *fresh, const struct cassette *old,
                        const char *const *ran, size_t nran, struct cassette **out,
                        struct util_error *err)
{
    struct cassette *m = cassette_create();
    int rc = UTIL_OK;
    *out = NULL;
    if (!m)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    if ((rc = merge_items(m, fresh, old, ran, nran, false, err)) ||
        (rc = merge_items(m, fresh, old, ran, nran, true, err)))
        goto cleanup;
    for (int k = 0; k < 2 && !rc; k++) {
        const struct cassette *c = k ? old : fresh;
        for (size_t i = 0; !rc && i < c->nplaceholders; i++)
            rc = cassette_note_placeholder(m, c->placeholders[i]);
    }
    if (!rc)
        rc = cassette_set_recorded_at(m, fresh->recorded_at);
    if (!rc)
        rc = cassette_set_ingestcheck_version(m, fresh->version);
    if (!rc)
        rc = cassette_set_spec_sha256(m, fresh->spec_sha256);
    if (rc && !err->code)
        util_error_set(err, rc, "%s",
                       rc == UTIL_ERR_LIMIT ? "too many placeholders" : "out of memory");
cleanup:
    if (rc)
        cassette_destroy(m);
    else
        *out = m;
    return rc;
}
