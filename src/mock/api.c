/* mock_api: credentials, clock, routing, parameter and body validation,
 * then dispatch to the operation handlers (handlers.c). No sockets here. */
#include "mock/internal.h"

#include "util/text.h"

#include "json/json.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const fault_names[MOCK_FAULT_COUNT] = {
    "missing-required",   "wrong-type",     "bad-enum", "extra-property",  "undocumented-status",
    "wrong-content-type", "malformed-json", "slow",     "drop-connection",
};

const char *mock_fault_name(enum mock_fault f)
{
    return (unsigned)f < MOCK_FAULT_COUNT ? fault_names[f] : NULL;
}

int mock_violation_parse(const char *text, struct mock_violation *out, struct util_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return util_error_set(err, UTIL_ERR_USAGE, "empty --violate");
    const char *colon = strchr(text, ':');
    size_t n = colon ? (size_t)(colon - text) : strlen(text);
    for (int f = 0; f < MOCK_FAULT_COUNT; f++) {
        if (strlen(fault_names[f]) == n && strncmp(fault_names[f], text, n) == 0) {
            out->fault = (enum mock_fault)f;
            if (colon) {
                if (!colon[1] || strlen(colon + 1) >= sizeof(out->operation))
                    return util_error_set(err, UTIL_ERR_USAGE, "--violate %s: bad operationId",
                                          text);
                strcpy(out->operation, colon + 1);
            }
            return UTIL_OK;
        }
    }
    return util_error_set(err, UTIL_ERR_USAGE,
                          "--violate %s: unknown class (missing-required, wrong-type, bad-enum, "
                          "extra-property, undocumented-status, wrong-content-type, "
                          "malformed-json, slow, drop-connection)",
                          text);
}

void mock_response_init(struct mock_response *r)
{
    memset(r, 0, sizeof(*r));
}

void mock_response_finish(struct mock_response *r)
{
    if (!r)
        return;
    free(r->body);
    mock_response_init(r);
}

/* ---- credentials ---- */

static bool credential_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n >= MOCK_CAP_CREDENTIAL)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static void generate(struct mock_rng *r, char *out, size_t len, const char *alphabet)
{
    size_t an = strlen(alphabet);
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[mock_rng_next(r) % an];
    out[len] = '\0';
}

/* Compares in time independent of where the strings differ. */
static bool same_secret(const char *given, const char *expected)
{
    if (!given)
        return false;
    size_t a = strlen(given), b = strlen(expected);
    unsigned char diff = (unsigned char)(a != b);
    for (size_t i = 0; i < b; i++)
        diff |= (unsigned char)((i < a ? given[i] : 0) ^ expected[i]);
    return diff == 0;
}

/* ---- creation ---- */

struct mock_api *mock_api_create(const struct mock_options *opts, struct util_error *err)
{
    struct mock_api *api = calloc(1, sizeof(*api));
    int rc = UTIL_OK;
    if (!api) {
        util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&api->lock, NULL);
    if (mock_store_init(&api->store)) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if (!opts || (!opts->schemas_dir && !opts->source)) {
        rc = util_error_set(err, UTIL_ERR_USAGE, "the mock needs a schemas directory");
        goto cleanup;
    }
    api->seeded = opts->seeded;
    struct mock_rng cred_rng;
    if (opts->seeded) {
        mock_rng_seed(&api->rng, opts->seed);
        mock_rng_seed(&cred_rng, opts->seed ^ 0x5eed5eed5eed5eedULL);
        mock_rng_seed(&api->vary_rng, opts->seed ^ 0x7a7a7a7a7a7a7a7aULL);
        api->now = MOCK_SEED_EPOCH_MS + opts->clock_offset_ms;
        api->stage_ms = MOCK_RUN_STAGE_MS_SEEDED;
    } else {
        uint64_t s[3];
        if (mock_os_random(s, sizeof(s))) {
            rc = util_error_set(err, UTIL_ERR_IO, "cannot read /dev/urandom");
            goto cleanup;
        }
        mock_rng_seed(&api->rng, s[0]);
        mock_rng_seed(&cred_rng, s[1]);
        mock_rng_seed(&api->vary_rng, s[2]);
        api->now = mock_real_now_ms() + opts->clock_offset_ms;
        api->stage_ms = MOCK_RUN_STAGE_MS_REAL;
    }
    if (opts->run_stage_ms > 0)
        api->stage_ms = opts->run_stage_ms;
    if (opts->latency_ms < 0 || opts->latency_ms > MOCK_CAP_LATENCY_MS ||
        opts->latency_jitter_ms < 0 || opts->latency_jitter_ms > MOCK_CAP_LATENCY_MS ||
        opts->clock_offset_ms < -MOCK_CAP_CLOCK_OFFSET_MS ||
        opts->clock_offset_ms > MOCK_CAP_CLOCK_OFFSET_MS ||
        (opts->run_events_set &&
         (opts->run_events_min < 0 || opts->run_events_max < opts->run_events_min ||
          opts->run_events_max > MOCK_CAP_RUN_EVENTS)) ||
        (unsigned)opts->run_outcome > MOCK_RUN_RANDOM) {
        rc = util_error_set(err, UTIL_ERR_USAGE,
                            "latency, clock offset, run events or run outcome out of range");
        goto cleanup;
    }
    api->clock_offset = opts->clock_offset_ms;
    api->latency_ms = opts->latency_ms;
    api->latency_jitter_ms = opts->latency_jitter_ms;
    api->run_outcome = opts->run_outcome;
    api->run_events_min = opts->run_events_set ? opts->run_events_min : MOCK_DEFAULT_RUN_EVENTS;
    api->run_events_max = opts->run_events_set ? opts->run_events_max : MOCK_DEFAULT_RUN_EVENTS;
    if (opts->app_id && !credential_ok(opts->app_id)) {
        rc = util_error_set(err, UTIL_ERR_USAGE,
                            "the application ID must be 1 to %d printable "
                            "characters without spaces",
                            MOCK_CAP_CREDENTIAL - 1);
        goto cleanup;
    }
    if (opts->api_key && !credential_ok(opts->api_key)) {
        rc = util_error_set(err, UTIL_ERR_USAGE,
                            "the API key must be 1 to %d printable "
                            "characters without spaces",
                            MOCK_CAP_CREDENTIAL - 1);
        goto cleanup;
    }
    if (opts->app_id)
        strcpy(api->app_id, opts->app_id);
    else
        generate(&cred_rng, api->app_id, 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    if (opts->api_key)
        strcpy(api->api_key, opts->api_key);
    else
        generate(&cred_rng, api->api_key, 32, "0123456789abcdef");
    api->generated_credentials = !opts->app_id || !opts->api_key;
    api->max_body = opts->max_body ? opts->max_body : MOCK_DEFAULT_MAX_BODY;
    api->slow_ms = opts->slow_ms > 0 ? opts->slow_ms : MOCK_DEFAULT_SLOW_MS;
    if (mock_idmap_init(&api->interned) || mock_idmap_init(&api->handed_out)) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = mock_ops_load(api, opts->source, opts->schemas_dir, err)) ||
        (rc = mock_model_bind(api, err)))
        goto cleanup;
    if (opts->nviolations > MOCK_CAP_VIOLATIONS) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "at most %d --violate flags", MOCK_CAP_VIOLATIONS);
        goto cleanup;
    }
    for (size_t v = 0; v < opts->nviolations; v++) {
        const struct mock_violation *vi = &opts->violations[v];
        const char *name = mock_fault_name(vi->fault);
        if (!name) {
            rc = util_error_set(err, UTIL_ERR_USAGE, "unknown fault class %d", (int)vi->fault);
            goto cleanup;
        }
        bool found = false;
        for (size_t i = 0; i < api->nops; i++) {
            struct mock_op *op = &api->ops[i];
            if (vi->operation[0] && strcmp(vi->operation, op->id) != 0)
                continue;
            found = true;
            if (mock_fault_applies(api, op, vi->fault)) {
                op->faults |= 1u << vi->fault;
            } else if (vi->operation[0]) {
                rc = util_error_set(err, UTIL_ERR_USAGE,
                                    "--violate %s:%s: the 200 response of %s has no place for "
                                    "this fault",
                                    name, vi->operation, vi->operation);
                goto cleanup;
            }
        }
        if (!found) {
            rc = util_error_set(err, UTIL_ERR_USAGE, "--violate %s:%s: no such operation", name,
                                vi->operation);
            goto cleanup;
        }
    }
    if (opts->preload_tasks > MOCK_CAP_PRELOAD) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "at most %u preloaded tasks", MOCK_CAP_PRELOAD);
        goto cleanup;
    }
    const struct mock_preload *pl = &opts->preload;
    if (pl->authentications || pl->sources || pl->destinations || pl->tasks || pl->runs)
        rc = mock_preload_counts(api, pl, err);
    else if (opts->preload_tasks)
        rc = mock_preload(api, opts->preload_tasks, err);
cleanup:
    if (rc) {
        mock_api_destroy(api);
        return NULL;
    }
    return api;
}

void mock_api_destroy(struct mock_api *api)
{
    if (!api)
        return;
    mock_store_finish(&api->store);
    mock_model_unbind(api);
    mock_plans_free(api);
    mock_ids_free(api);
    for (size_t i = 0; i < api->interned.cap; i++)
        if (api->interned.slots && api->interned.slots[i].value)
            free(api->interned.slots[i].value);
    mock_idmap_finish(&api->interned);
    mock_ops_free(api);
    pthread_mutex_destroy(&api->lock);
    free(api);
}

int mock_api_reset(struct mock_api *api, uint64_t seed)
{
    pthread_mutex_lock(&api->lock);
    mock_store_finish(&api->store);
    int rc = mock_store_init(&api->store);
    mock_ids_free(api);
    if (!rc)
        rc = mock_idmap_init(&api->handed_out);
    if (api->seeded) {
        mock_rng_seed(&api->rng, seed);
        mock_rng_seed(&api->vary_rng, seed ^ 0x7a7a7a7a7a7a7a7aULL);
        api->now = MOCK_SEED_EPOCH_MS + api->clock_offset;
    }
    pthread_mutex_unlock(&api->lock);
    return rc;
}

const char *mock_api_app_id(const struct mock_api *api)
{
    return api->app_id;
}

const char *mock_api_api_key(const struct mock_api *api)
{
    return api->api_key;
}

bool mock_api_credentials_generated(const struct mock_api *api)
{
    return api->generated_credentials;
}

size_t mock_api_max_body(const struct mock_api *api)
{
    return api->max_body;
}

size_t mock_api_operation_count(const struct mock_api *api)
{
    return api->nops;
}

size_t mock_api_modelled_count(const struct mock_api *api)
{
    return api->nmodelled;
}

void mock_api_operation_at(const struct mock_api *api, size_t i, struct mock_operation_info *out)
{
    const struct mock_op *op = &api->ops[i];
    out->operation_id = op->id;
    out->method = op->method;
    out->path = op->path;
    out->modelled = op->kind == MOCK_OP_MODELLED;
}

void mock_api_counts(struct mock_api *api, struct mock_counts *out)
{
    pthread_mutex_lock(&api->lock);
    out->authentications = api->store.coll[KIND_AUTH].count;
    out->sources = api->store.coll[KIND_SOURCE].count;
    out->destinations = api->store.coll[KIND_DEST].count;
    out->tasks = api->store.coll[KIND_TASK].count;
    out->runs = api->store.coll[KIND_RUN].count;
    pthread_mutex_unlock(&api->lock);
}

void mock_new_id(struct mock_api *api, char out[MOCK_ID_LEN + 1])
{
    mock_uuid(&api->rng, out);
}

/* ---- answers ---- */

void mock_fail(struct mock_ctx *c, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A message quotes the request as it came: bytes that are not UTF-8
     * (or a character the buffer cut) become U+FFFD, so the answer stays
     * JSON text; a NUL (JSON_NUL) is written \u0000. */
    struct util_buf b;
    util_buf_init(&b, 4 * sizeof(msg));
    bool repaired = util_buf_puts(&b, msg) == UTIL_OK && json_string_repair(&b) == UTIL_OK;
    cJSON_Delete(c->out);
    c->status = status;
    c->out = cJSON_CreateObject();
    if (c->out && (!repaired || !cJSON_AddStringToObject(c->out, "message", b.data))) {
        cJSON_Delete(c->out);
        c->out = NULL;
    }
    util_buf_finish(&b);
}

void mock_ok(struct mock_ctx *c, cJSON *doc)
{
    cJSON_Delete(c->out);
    c->out = doc;
    c->status = doc ? 200 : 500;
}

static bool is_applicator(const char *keyword_location)
{
    const char *last = strrchr(keyword_location, '/');
    last = last ? last + 1 : keyword_location;
    static const char *const names[] = {"oneOf", "anyOf", "allOf", "not",        "if",
                                        "then",  "else",  "$ref",  "properties", NULL};
    for (const char *const *n = names; *n; n++)
        if (strcmp(*n, last) == 0)
            return true;
    return false;
}

/* The most useful violation: a leaf keyword, deepest in the instance. */
static const struct schema_violation *best_violation(const struct schema_result *res)
{
    const struct schema_violation *best = NULL;
    int best_score = -1;
    for (size_t i = 0; i < res->count; i++) {
        const struct schema_violation *v = &res->items[i];
        int score =
            (int)strlen(v->instance_location) + (is_applicator(v->keyword_location) ? 0 : 10000);
        if (score > best_score) {
            best = v;
            best_score = score;
        }
    }
    return best;
}

/* The engine's message without its leading "<location>: ". */
static const char *detail(const struct schema_violation *v)
{
    const char *m = v->message;
    size_t loc = strlen(v->instance_location);
    if (loc && strncmp(m, v->instance_location, loc) == 0 && strncmp(m + loc, ": ", 2) == 0)
        return m + loc + 2;
    if (strncmp(m, "/: ", 3) == 0)
        return m + 3;
    if (!loc && strncmp(m, ": ", 2) == 0)
        return m + 2;
    return m;
}

bool mock_check(struct mock_ctx *c, const struct schema *s, const cJSON *doc, const char *prefix)
{
    if (!s)
        return true;
    struct schema_result res;
    struct util_error err;
    util_error_clear(&err);
    schema_result_init(&res);
    bool ok = false;
    if (schema_validate(s, doc, &res, &err)) {
        mock_fail(c, 500, "validation failed: %s", err.message);
    } else if (res.valid) {
        ok = true;
    } else {
        const struct schema_violation *v = best_violation(&res);
        if (v)
            mock_fail(c, 400, "%s%s%s: %s", prefix, *v->instance_location ? " " : "",
                      v->instance_location, detail(v));
        else
            mock_fail(c, 400, "%s: invalid", prefix);
    }
    schema_result_finish(&res);
    return ok;
}

/* ---- parameters ---- */

static cJSON *coerce(const char *text, unsigned types)
{
    if (types & (JT_INTEGER | JT_NUMBER)) {
        char *end;
        double d = strtod(text, &end);
        if (*text && !isspace((unsigned char)*text) && !*end && isfinite(d))
            return cJSON_CreateNumber(d);
    }
    if ((types & JT_BOOLEAN) && (strcmp(text, "true") == 0 || strcmp(text, "false") == 0))
        return cJSON_CreateBool(text[0] == 't');
    if ((types & JT_NULL) && strcmp(text, "null") == 0)
        return cJSON_CreateNull();
    return cJSON_CreateString(text);
}

/* Appends the comma-separated items of text to arr; objects come as JSON
 * text (one object or an array of them). */
static int add_items(cJSON *arr, const char *text, bool split, unsigned types)
{
    if ((types & JT_OBJECT) && (text[0] == '{' || text[0] == '[')) {
        cJSON *doc = cJSON_Parse(text);
        if (cJSON_IsObject(doc) || cJSON_IsArray(doc)) {
            cJSON *items = cJSON_IsArray(doc) ? doc : NULL;
            while (items && items->child && cJSON_GetArraySize(arr) < MOCK_CAP_ARRAY_VALUES)
                cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(items, items->child));
            if (!items)
                cJSON_AddItemToArray(arr, doc);
            else
                cJSON_Delete(doc);
            return UTIL_OK;
        }
        cJSON_Delete(doc);
    }
    const char *p = text;
    char item[1024];
    for (;;) {
        const char *end = split ? strchr(p, ',') : NULL;
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n) {
            if (cJSON_GetArraySize(arr) >= MOCK_CAP_ARRAY_VALUES)
                return UTIL_ERR_LIMIT;
            if (n >= sizeof(item))
                n = sizeof(item) - 1;
            memcpy(item, p, n);
            item[n] = '\0';
            cJSON *v = coerce(item, types);
            if (!v || !cJSON_AddItemToArray(arr, v)) {
                cJSON_Delete(v);
                return UTIL_ERR_NOMEM;
            }
        }
        if (!end)
            return UTIL_OK;
        p = end + 1;
    }
}

static bool check_param(struct mock_ctx *c, const struct mock_param *p, const cJSON *value)
{
    struct schema_result res;
    struct util_error err;
    util_error_clear(&err);
    schema_result_init(&res);
    bool ok = false;
    if (schema_validate(p->schema, value, &res, &err)) {
        mock_fail(c, 500, "validation failed: %s", err.message);
    } else if (res.valid) {
        ok = true;
    } else {
        const struct schema_violation *v = best_violation(&res);
        const char *kw = v ? strrchr(v->keyword_location, '/') : NULL;
        if (v && kw && p->has_min && p->has_max &&
            (strcmp(kw, "/minimum") == 0 || strcmp(kw, "/maximum") == 0))
            mock_fail(c, 400, "%s: must be between %g and %g", p->name, p->min, p->max);
        else if (v)
            mock_fail(c, 400, "%s: %s", p->name, detail(v));
        else
            mock_fail(c, 400, "%s: invalid", p->name);
    }
    schema_result_finish(&res);
    return ok;
}

/* Builds c->params from the path values and the query arguments. */
static bool read_params(struct mock_ctx *c, const struct mock_request *req, const char **values)
{
    const struct mock_op *op = c->op;
    size_t v = 0;
    for (size_t s = 0; s < op->nsegs; s++) {
        const char *brace = strchr(op->segs[s], '{');
        if (!brace || (brace != op->segs[s] && !op->catch_all))
            continue;
        char name[MOCK_CAP_NAME];
        snprintf(name, sizeof(name), "%s", brace + 1);
        char *close = strchr(name, '}');
        if (close)
            *close = '\0';
        /* A catch-all's value is the rest of the path after its prefix. */
        const char *value = op->catch_all ? c->catch_all_path + 1 + op->prefix_len : values[v];
        if (op->catch_all && *value == '/')
            value++;
        if (!cJSON_AddStringToObject(c->params, name, value))
            goto nomem;
        /* The model reads path values under its own names. */
        const char *canon = op->canon && !op->catch_all ? op->canon[v] : NULL;
        if (canon && strcmp(canon, name) != 0 &&
            !cJSON_GetObjectItemCaseSensitive(c->params, canon) &&
            !cJSON_AddStringToObject(c->params, canon, value))
            goto nomem;
        v++;
    }
    for (size_t i = 0; i < op->nparams; i++) {
        const struct mock_param *p = &op->params[i];
        cJSON *value = NULL;
        if (p->in == PARAM_PATH) {
            const cJSON *pv = cJSON_GetObjectItemCaseSensitive(c->params, p->name);
            if (pv && !check_param(c, p, pv))
                return false;
            continue;
        }
        if (p->in != PARAM_QUERY)
            continue;
        bool seen = false;
        if (p->types & JT_ARRAY) {
            value = cJSON_CreateArray();
            if (!value)
                goto nomem;
            bool split = !p->explode || p->both_forms;
            for (size_t a = 0; a < req->nargs; a++) {
                if (!req->args[a].key || strcmp(req->args[a].key, p->name) != 0)
                    continue;
                seen = true;
                int rc = add_items(value, req->args[a].value ? req->args[a].value : "", split,
                                   p->item_types);
                if (rc == UTIL_ERR_LIMIT) {
                    cJSON_Delete(value);
                    mock_fail(c, 400, "%s: more than %d values", p->name, MOCK_CAP_ARRAY_VALUES);
                    return false;
                }
                if (rc) {
                    cJSON_Delete(value);
                    goto nomem;
                }
            }
            if (!seen || cJSON_GetArraySize(value) == 0) {
                cJSON_Delete(value);
                value = NULL;
            }
        } else {
            const char *text = NULL;
            for (size_t a = 0; a < req->nargs; a++)
                if (req->args[a].key && strcmp(req->args[a].key, p->name) == 0) {
                    text = req->args[a].value ? req->args[a].value : "";
                    seen = true;
                }
            if (seen && !(value = coerce(text, p->types)))
                goto nomem;
        }
        if (!value) {
            if (p->required) {
                mock_fail(c, 400, "%s: required query parameter missing", p->name);
                return false;
            }
            continue;
        }
        if (!check_param(c, p, value)) {
            cJSON_Delete(value);
            return false;
        }
        cJSON_AddItemToObject(c->params, p->name, value);
    }
    return true;
nomem:
    mock_fail(c, 500, "out of memory");
    return false;
}

/* Whether ct is the media type type ("application/json"), parameters
 * (";charset=utf-8") aside. */
static bool media_type_is(const char *ct, const char *type)
{
    while (*ct == ' ')
        ct++;
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0)
        return false;
    char next = ct[n];
    return next == '\0' || next == ';' || next == ' ';
}

/* The body is read as JSON when its Content-Type says so, and, as the API
 * does for Algolia's own clients (which send text/plain to avoid a CORS
 * preflight), when it is text/plain or missing: such a body that does not
 * parse still answers 400. */
static bool json_content_type(const char *ct)
{
    return !ct || media_type_is(ct, "application/json") || media_type_is(ct, "text/plain");
}

static bool read_body(struct mock_ctx *c, const struct mock_request *req)
{
    if (!c->op->has_body)
        return true;
    if (!req->body_len) {
        if (!c->op->body_required)
            return true;
        mock_fail(c, 400, "body: a JSON request body is required");
        return false;
    }
    if (!json_content_type(req->content_type)) {
        mock_fail(c, 400, "Content-Type must be application/json, not %.100s",
                  req->content_type ? req->content_type : "missing");
        return false;
    }
    struct util_error err;
    util_error_clear(&err);
    if (!req->body || json_parse(req->body, req->body_len, "body", &c->body, &err)) {
        if (err.code == UTIL_ERR_NOMEM)
            mock_fail(c, 500, "out of memory");
        else
            mock_fail(c, 400, "body: not valid JSON at line %d, column %d: %s", err.line,
                      err.column,
                      strstr(err.message, ": ") ? strstr(err.message, ": ") + 2 : err.message);
        return false;
    }
    return mock_check(c, c->op->body_schema, c->body, "body");
}

/* ---- the request ---- */

static void set_error_body(struct mock_response *resp, int status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    resp->status = status;
    resp->content_type = "application/json";
    if (o && cJSON_AddStringToObject(o, "message", msg))
        resp->body = json_print(o, false);
    cJSON_Delete(o);
    if (!resp->body) {
        resp->status = 500;
        resp->body = calloc(1, 3);
        if (resp->body)
            memcpy(resp->body, "{}", 2);
    }
    resp->body_len = resp->body ? strlen(resp->body) : 0;
}

/* The clock of a request: seeded, one step per request; else the real
 * clock, plus whatever it was moved forward, never going back. */
static void tick(struct mock_api *api)
{
    if (api->seeded) {
        api->now += MOCK_SEED_STEP_MS;
    } else {
        int64_t real = mock_real_now_ms() + api->clock_offset + api->advanced;
        if (real > api->now)
            api->now = real;
    }
    mock_runs_advance(api);
}

int64_t mock_api_advance_clock(struct mock_api *api, int64_t ms)
{
    if (!api || ms <= 0 || api->seeded)
        return 0;
    pthread_mutex_lock(&api->lock);
    api->advanced += ms;
    api->now += ms;
    pthread_mutex_unlock(&api->lock);
    return ms;
}

static void handle(struct mock_api *api, const struct mock_request *req, struct mock_response *resp)
{
    mock_response_finish(resp);
    if (!api || !req || !req->method || !req->path) {
        set_error_body(resp, 400, "malformed request");
        return;
    }
    if (req->body_too_large || req->body_len > api->max_body) {
        char msg[128];
        snprintf(msg, sizeof(msg), "request body larger than %zu bytes", api->max_body);
        set_error_body(resp, 413, msg);
        return;
    }
    if (!same_secret(req->app_id, api->app_id) || !same_secret(req->api_key, api->api_key)) {
        set_error_body(resp, 403, "Invalid Application-Id or API-Key");
        return;
    }
    /* Split the path into segments (in a private copy). */
    size_t plen = strlen(req->path);
    char *copy = malloc(plen + 1);
    char *segs[MOCK_CAP_PATH_SEGMENTS + 1];
    size_t nsegs = 0;
    if (!copy) {
        set_error_body(resp, 500, "out of memory");
        return;
    }
    memcpy(copy, req->path, plen + 1);
    /* "/1/tasks" or "/1/tasks/", as the contract checks match paths: no
     * empty segment ("//1/tasks" names no operation of the spec). */
    bool well_formed = copy[0] == '/';
    for (char *p = copy; well_formed && *p == '/';) {
        *p++ = '\0';
        if (!*p)
            break;
        if (*p == '/' || nsegs > MOCK_CAP_PATH_SEGMENTS) {
            well_formed = false;
            break;
        }
        segs[nsegs++] = p;
        while (*p && *p != '/')
            p++;
    }
    struct mock_ctx c = {.api = api, .catch_all_path = req->path};
    const char *values[MOCK_CAP_PATH_SEGMENTS] = {0};
    bool path_known = false;

    pthread_mutex_lock(&api->lock);
    tick(api);
    c.now = api->now;
    const struct mock_op *op =
        well_formed && nsegs <= MOCK_CAP_PATH_SEGMENTS
            ? mock_ops_match(api, req->method, segs, nsegs, values, &path_known)
            : NULL;
    c.op = op;
    c.params = cJSON_CreateObject();
    if (!c.params)
        mock_fail(&c, 500, "out of memory");
    else if (!op && path_known)
        mock_fail(&c, 405, "method %.16s not allowed on %.200s", req->method, req->path);
    else if (!op)
        mock_fail(&c, 404, "no operation at %.200s", req->path);
    else if (!op->handler)
        mock_fail(&c, 501, "%s is not implemented by the mock", op->id);
    else if (read_params(&c, req, values) && read_body(&c, req))
        op->handler(&c);
    if (!c.out && c.status != 500 && !c.no_content)
        mock_fail(&c, 500, "out of memory");
    /* A modelled answer conforms to the loaded spec's 200 schema. */
    if (op && op->kind == MOCK_OP_MODELLED && c.status == 200 && c.out && op->plan &&
        mock_conform(api, op->plan, c.out))
        mock_fail(&c, 500, "out of memory");
    unsigned faults = op && c.status == 200 ? op->faults : 0;
    if (faults && c.out)
        mock_faults_apply_doc(api, op, &c.out);
    long latency = mock_vary_latency(api);
    pthread_mutex_unlock(&api->lock);

    resp->status = c.status ? c.status : 500;
    resp->content_type = "application/json";
    resp->body = c.out ? json_print(c.out, false) : c.no_content ? calloc(1, 1) : NULL;
    if (!resp->body) {
        set_error_body(resp, 500, "out of memory");
    } else {
        resp->body_len = strlen(resp->body);
        if (faults & (1u << MOCK_FAULT_UNDOCUMENTED_STATUS))
            resp->status = 202;
        if (faults & (1u << MOCK_FAULT_WRONG_CONTENT_TYPE))
            resp->content_type = "text/plain; charset=utf-8";
        if ((faults & (1u << MOCK_FAULT_MALFORMED_JSON)) && resp->body_len)
            resp->body[--resp->body_len] = '\0';
        if (faults & (1u << MOCK_FAULT_SLOW))
            resp->delay_ms = api->slow_ms;
        resp->delay_ms += latency;
        if (faults & (1u << MOCK_FAULT_DROP_CONNECTION))
            resp->drop = true;
    }
    cJSON_Delete(c.out);
    cJSON_Delete(c.params);
    cJSON_Delete(c.body);
    free(copy);
}

void mock_handle(struct mock_api *api, const struct mock_request *req, struct mock_response *resp)
{
    handle(api, req, resp);
    /* The mock never answers 5xx on purpose (--violate uses 202). */
    if (api && resp->status >= 500)
        atomic_fetch_add(&api->internal_errors, 1);
}

size_t mock_api_internal_errors(const struct mock_api *api)
{
    return atomic_load(&api->internal_errors);
}

size_t mock_unescape(char *s, bool plus)
{
    char *out = s;
    for (char *p = s; *p; p++) {
        int hi = *p == '%' ? util_hex_digit(p[1]) : -1, lo = hi >= 0 ? util_hex_digit(p[2]) : -1;
        if (plus && *p == '+') {
            *out++ = ' ';
        } else if (lo < 0) {
            *out++ = *p;
        } else if (hi == 0 && lo == 0) {
            memcpy(out, JSON_NUL, 2); /* 2 bytes for 3: still in place */
            out += 2;
            p += 2;
        } else {
            *out++ = (char)(hi * 16 + lo);
            p += 2;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

void mock_query_split(char *query, struct mock_query_arg *args, size_t max, size_t *n)
{
    *n = 0;
    char *p = query;
    while (p && *p && *n < max) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        if (*p) {
            char *eq = strchr(p, '=');
            if (eq)
                *eq = '\0';
            mock_unescape(p, true);
            if (eq)
                mock_unescape(eq + 1, true);
            args[*n].key = p;
            args[*n].value = eq ? eq + 1 : NULL;
            (*n)++;
        }
        p = amp ? amp + 1 : NULL;
    }
}
