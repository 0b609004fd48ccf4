/* The cassettes of a run (see cassettes.h): per-file turn-taking, a relay
 * to the current worker's transport, {{now}}/{{uuid}} storage, the
 * offline transport of replay-only runs, loading and saving. */
#include "run/cassettes.h"

#include "cassette/cassette.h"
#include "http/http.h"
#include "ingestcheck_config.h"
#include "util/file.h"
#include "util/hash.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The value holding {{run.id}} in a cassette: a replay without --run-id
 * uses the recorded one, so its requests are the recorded requests. */
#define CAS_RUN_ID "run.id"
/* The longest case name in a "now@CASE" value name. */
#define CAS_VALUE_NAME_MAX 512

struct cas_file {
    const char *case_file; /* borrowed from the suite */
    char *path;            /* DIR/<basename of case_file> */
    struct cassette *c;
    struct http_transport *relay; /* sends through the current worker's transport */
    struct http_transport *t;     /* record/replay transport over c */
    struct cassette_redactor *redactor;
    char *loaded_sha256; /* spec_sha256 of the loaded cassette, or NULL */
    /* --record-mode all over a file that holds recordings of cases this
     * plan does not run: the file as it was, whose other cases' recordings
     * the save keeps; NULL otherwise. */
    struct cassette *old;
    bool written;
    const struct case_case **order; /* the file's cases in plan order */
    size_t norder, next;
    pthread_mutex_t lock;
    pthread_cond_t turn;
};

struct run_cassettes {
    bool enabled;
    enum cassette_record_mode mode;
    char *dir;
    /* What every file's redactor knows (a redactor learns secrets as it
     * goes, so each cassette has its own: files run on different threads). */
    const char *const *fields; /* --redact */
    size_t nfields;
    const char *run_id; /* --run-id, or NULL */
    /* --redact and every field a loaded cassette redacted ("<REDACTED:NAME>"
     * placeholders): the secret fields of the run's results, so that a
     * replay masks in its reports what the recording redacted. */
    const char **secret_fields;
    size_t nsecret_fields;
    char **learned;
    size_t nlearned;
    const char *app_id, *api_key;
    const char *userinfo; /* of the base URL, or NULL */
    struct cas_file *files;
    size_t nfiles;
    char spec_sha256[65];
    bool seeded; /* generated uuids derive from the seed */
    uint64_t seed;
    /* The clock of {{now}} when seeded: SOURCE_DATE_EPOCH when set, else
     * the start of the seeded mock's logical clock; 0 when not seeded. */
    time_t seeded_clock;
    const char *mock_url; /* real URL behind RUN_CASSETTES_MOCK_BASE, or NULL */
    struct case_template_hooks thooks;
    struct run_hooks rhooks;
    struct run_hooks seeded_hooks; /* seeded, no cassettes: cas_cur only */
};

/* The case a worker thread is running (one case stays on one thread). */
struct cas_current {
    struct run_cassettes *run;
    struct cas_file *file;
    const struct case_case *kase;
    size_t now_cursor, uuid_cursor;
    uint64_t uuid_n;
    size_t replayed0, recorded0; /* the file's counts when the case began */
};
static _Thread_local struct cas_current cas_cur;

/* A transport forwarding to *target; with a mock URL, rewrites
 * RUN_CASSETTES_MOCK_BASE to it and drops the Date response header. */
struct cas_relay {
    struct http_transport base;
    struct http_transport *target;
    const char *mock_url;
};

static int relay_send(struct http_transport *t, const struct http_request *req,
                      struct http_response *resp, struct util_error *err)
{
    struct cas_relay *r = (struct cas_relay *)t;
    size_t blen = strlen(RUN_CASSETTES_MOCK_BASE);
    if (!r->target)
        return util_error_set(err, UTIL_ERR_USAGE, "cassette relay used outside a case");
    if (!r->mock_url || strncmp(req->url, RUN_CASSETTES_MOCK_BASE, blen) != 0)
        return http_send(r->target, req, resp, err);
    struct http_request copy = *req;
    size_t n = strlen(r->mock_url) + strlen(req->url + blen) + 1;
    char *url = malloc(n);
    if (!url)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    snprintf(url, n, "%s%s", r->mock_url, req->url + blen);
    copy.url = url;
    int rc = http_send(r->target, &copy, resp, err);
    free(url);
    /* Drop Date: it is the only wall-clock value the mock sends. */
    http_headers_remove(&resp->headers, "date");
    return rc;
}

static void relay_destroy(struct http_transport *t)
{
    free(t);
}

static const struct http_transport_ops relay_ops = {"cassette-relay", relay_send, relay_destroy};

/* The worker transport in replay-only mode: never used for a request
 * (every case gets its cassette's transport), never opens a socket. */
static int offline_send(struct http_transport *t, const struct http_request *req,
                        struct http_response *resp, struct util_error *err)
{
    (void)t;
    resp->failure = HTTP_ERR_NO_RECORDING;
    util_error_set(err, UTIL_ERR_USAGE, "%s %s: replay only, no network", req->method, req->url);
    return UTIL_OK;
}

static void offline_destroy(struct http_transport *t)
{
    free(t);
}

static const struct http_transport_ops offline_ops = {"offline", offline_send, offline_destroy};

static struct http_transport *make_offline_transport(void *user, struct util_error *err)
{
    (void)user;
    struct http_transport *t = calloc(1, sizeof(*t));
    if (!t) {
        util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    t->ops = &offline_ops;
    return t;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Draws the next recorded value of name for the current case, or stores
 * fresh (when the cassette records). Returns the value to use in buf. */
static void cas_value(const char *kind, size_t *cursor, const char *fresh, char *buf, size_t size)
{
    struct cas_current *cc = &cas_cur;
    char name[CAS_VALUE_NAME_MAX];
    if (!cc->file) {
        snprintf(buf, size, "%s", fresh); /* seeded, no cassette */
        return;
    }
    snprintf(name, sizeof(name), "%s@%s", kind, cc->kase->name);
    const char *v = cassette_value_next(cc->file->c, name, cursor);
    if (v) {
        snprintf(buf, size, "%s", v);
        return;
    }
    snprintf(buf, size, "%s", fresh);
    if (cc->run->mode != CASSETTE_RECORD_NONE) {
        struct util_error e;
        util_error_clear(&e);
        if (cassette_value_append(cc->file->c, name, fresh, &e) == UTIL_OK)
            *cursor = cassette_value_count(cc->file->c);
    }
}

/* SOURCE_DATE_EPOCH when set to a valid number, else 0. */
static time_t source_date_epoch(void)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end = NULL;
        long long n = strtoll(sde, &end, 10);
        if (end && !*end && n >= 0)
            return (time_t)n;
    }
    return 0;
}

static time_t cas_clock(const struct run_cassettes *s)
{
    if (s->seeded_clock)
        return s->seeded_clock;
    time_t sde = source_date_epoch();
    return sde ? sde : time(NULL);
}

static time_t cas_now_hook(void *user)
{
    const struct run_cassettes *s = user;
    char fresh[32], buf[32];
    if (!cas_cur.run)
        return cas_clock(s);
    snprintf(fresh, sizeof(fresh), "%lld", (long long)cas_clock(s));
    cas_value("now", &cas_cur.now_cursor, fresh, buf, sizeof(buf));
    return (time_t)strtoll(buf, NULL, 10);
}

static void cas_uuid_hook(void *user, char out[37])
{
    (void)user;
    unsigned char b[16];
    struct cas_current *cc = &cas_cur;
    if (cc->run && cc->run->seeded) {
        uint64_t x =
            cc->run->seed ^ util_fnv1a(UTIL_FNV1A_OFFSET, cc->kase->name, strlen(cc->kase->name));
        x += cc->uuid_n++ * 0x2545f4914f6cdd1dULL;
        uint64_t a = splitmix64(&x), c = splitmix64(&x);
        memcpy(b, &a, 8);
        memcpy(b + 8, &c, 8);
    } else {
        FILE *f = fopen("/dev/urandom", "rb");
        size_t got = f ? fread(b, 1, sizeof(b), f) : 0;
        if (f)
            fclose(f);
        if (got != sizeof(b)) {
            uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&b ^ cc->uuid_n++;
            uint64_t a = splitmix64(&x), c = splitmix64(&x);
            memcpy(b, &a, 8);
            memcpy(b + 8, &c, 8);
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    char fresh[37];
    snprintf(fresh, sizeof(fresh),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    if (!cc->run) {
        memcpy(out, fresh, 37);
        return;
    }
    cas_value("uuid", &cc->uuid_cursor, fresh, out, 37);
}

/* A seeded run without cassettes: the hooks only tell {{uuid}} which case
 * draws it, so that its values derive from the seed and the case. */
static struct http_transport *seeded_case_begin(void *user, const struct case_case *k,
                                                struct http_transport *worker,
                                                struct util_error *err)
{
    (void)err;
    cas_cur = (struct cas_current){.run = user, .kase = k};
    return worker;
}

static int seeded_case_end(void *user, const struct case_case *k, struct http_transport *t,
                           const struct run_case_result *r, struct util_error *err)
{
    (void)user;
    (void)k;
    (void)t;
    (void)r;
    (void)err;
    memset(&cas_cur, 0, sizeof(cas_cur));
    return UTIL_OK;
}

static struct cas_file *cas_find(struct run_cassettes *cr, const char *case_file)
{
    for (size_t i = 0; i < cr->nfiles; i++)
        if (strcmp(cr->files[i].case_file, case_file) == 0)
            return &cr->files[i];
    return NULL;
}

/* Fields redacted when recording (--redact then) are redacted on replay
 * too, so a request compares equal to its recording without repeating
 * --redact: every "<REDACTED:NAME>" placeholder of c makes NAME a field. */
static int cas_learn_fields(struct cassette_redactor *r, const struct cassette *c,
                            struct util_error *err)
{
    char name[256];
    for (size_t i = 0; i < cassette_placeholder_count(c); i++) {
        int rc = cassette_placeholder_field(c, i, name, sizeof(name))
                     ? cassette_redactor_add_field(r, name, err)
                     : UTIL_OK;
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* Whether name is among the n first of list. */
static bool listed(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* Fills cr->secret_fields: --redact, then the fields the loaded cassettes
 * redacted (copies owned by cr->learned). */
static int cas_secret_fields(struct run_cassettes *cr, struct util_error *err)
{
    size_t cap = cr->nfields;
    for (size_t f = 0; f < cr->nfiles; f++)
        cap += cr->files[f].c ? cassette_placeholder_count(cr->files[f].c) : 0;
    cr->secret_fields = calloc(cap ? cap : 1, sizeof(*cr->secret_fields));
    cr->learned = calloc(cap ? cap : 1, sizeof(*cr->learned));
    if (!cr->secret_fields || !cr->learned)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    char name[256];
    for (size_t i = 0; i < cr->nfields; i++)
        cr->secret_fields[cr->nsecret_fields++] = cr->fields[i];
    for (size_t f = 0; f < cr->nfiles; f++) {
        const struct cassette *c = cr->files[f].c;
        for (size_t i = 0; c && i < cassette_placeholder_count(c); i++) {
            if (!cassette_placeholder_field(c, i, name, sizeof(name)) ||
                listed(cr->secret_fields, cr->nsecret_fields, name))
                continue;
            if (!(cr->learned[cr->nlearned] = strdup(name)))
                return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            cr->secret_fields[cr->nsecret_fields++] = cr->learned[cr->nlearned++];
        }
    }
    return UTIL_OK;
}

/* The recordings of the file's cases this plan does not run (another
 * shard's, or left out by --case, --tag...) are never replayed here: an
 * identical request of a case that runs takes its own recording, as in
 * the whole run. */
static void skip_other_cases(struct cas_file *f)
{
    for (size_t i = 0; i < cassette_count(f->c); i++) {
        const char *name = cassette_at(f->c, i)->case_name;
        bool here = !name;
        for (size_t j = 0; !here && j < f->norder; j++)
            here = strcmp(f->order[j]->name, name) == 0;
        if (!here)
            cassette_transport_mark_replayed(f->t, i);
    }
}

/* The names of the file's cases in this plan (caller frees the array). */
static const char **ran_names(const struct cas_file *f)
{
    const char **names = calloc(f->norder ? f->norder : 1, sizeof(*names));
    for (size_t i = 0; names && i < f->norder; i++)
        names[i] = f->order[i]->name;
    return names;
}

/* Re-recording (mode all) a file that exists: f->old is the file as it
 * was when it holds recordings of cases this plan does not run. A file
 * that does not load is not kept (mode all overwrites it, as before). */
static int cas_load_old(struct cas_file *f, struct util_error *err)
{
    struct util_error ignored;
    const char **names = ran_names(f);
    if (!names)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    util_error_clear(&ignored);
    if (cassette_load_file(f->path, &f->old, &ignored) == UTIL_OK &&
        !cassette_holds_other_cases(f->old, names, f->norder)) {
        cassette_destroy(f->old);
        f->old = NULL;
    }
    free((void *)names);
    if (ignored.code == UTIL_ERR_NOMEM)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    if (!(f->c = cassette_create()))
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    return UTIL_OK;
}

/* Loads (or creates) the file's cassette and its transport; under f->lock. */
static int cas_open(struct run_cassettes *cr, struct cas_file *f, struct util_error *err)
{
    int rc;
    bool exists = access(f->path, F_OK) == 0;
    if (exists && cr->mode != CASSETTE_RECORD_ALL) {
        if ((rc = cassette_load_file(f->path, &f->c, err)))
            return rc;
        const char *sha = cassette_spec_sha256(f->c);
        if (sha && !(f->loaded_sha256 = strdup(sha)))
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    } else if (exists && cr->mode == CASSETTE_RECORD_ALL) {
        if ((rc = cas_load_old(f, err)))
            return rc;
    } else if (!exists && cr->mode == CASSETTE_RECORD_NONE) {
        /* Replay only and nothing recorded: every request is a miss. */
        if (!(f->c = cassette_create()))
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    } else if (!(f->c = cassette_create())) {
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    }
    struct cas_relay *relay = NULL;
    if (cr->mode != CASSETTE_RECORD_NONE) {
        relay = calloc(1, sizeof(*relay));
        if (!relay)
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        relay->base.ops = &relay_ops;
        relay->mock_url = cr->mock_url;
        f->relay = &relay->base;
    }
    if (!(f->redactor = cassette_redactor_create()))
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < cr->nfields; i++)
        if ((rc = cassette_redactor_add_field(f->redactor, cr->fields[i], err)))
            return rc;
    if (cr->app_id && (rc = cassette_redactor_add_secret(f->redactor, cr->app_id,
                                                         "x-algolia-application-id", err)))
        return rc;
    if (cr->api_key &&
        (rc = cassette_redactor_add_secret(f->redactor, cr->api_key, "x-algolia-api-key", err)))
        return rc;
    const char *password = cr->userinfo ? strchr(cr->userinfo, ':') : NULL;
    if (password && password[1] &&
        (rc = cassette_redactor_add_secret(f->redactor, password + 1, "password", err)))
        return rc;
    if ((rc = cas_learn_fields(f->redactor, f->c, err)) ||
        (f->old && (rc = cas_learn_fields(f->redactor, f->old, err))))
        return rc;
    struct cassette_transport_options o = {.spec = NULL, .redactor = f->redactor};
    f->t = cassette_record_transport_create(f->relay, f->c, cr->mode, &o, err);
    if (!f->t)
        return err->code ? err->code : UTIL_ERR_INVALID;
    skip_other_cases(f);
    return UTIL_OK;
}

static struct http_transport *cas_case_begin(void *user, const struct case_case *k,
                                             struct http_transport *worker, struct util_error *err)
{
    struct run_cassettes *cr = user;
    struct cas_file *f = cas_find(cr, k->file);
    if (!f) {
        util_error_set(err, UTIL_ERR_INVALID, "case '%s': no cassette for %s", k->name, k->file);
        return NULL;
    }
    pthread_mutex_lock(&f->lock);
    while (f->next < f->norder && f->order[f->next] != k)
        pthread_cond_wait(&f->turn, &f->lock);
    if (!f->t && cas_open(cr, f, err)) {
        f->next++;
        pthread_cond_broadcast(&f->turn);
        pthread_mutex_unlock(&f->lock);
        return NULL;
    }
    if (f->relay)
        ((struct cas_relay *)f->relay)->target = worker;
    cas_cur = (struct cas_current){.run = cr, .file = f, .kase = k};
    cassette_transport_counts(f->t, &cas_cur.replayed0, &cas_cur.recorded0);
    /* The file stays locked until case_end: one worker at a time. */
    return f->t;
}

static int cas_case_end(void *user, const struct case_case *k, struct http_transport *t,
                        const struct run_case_result *r, struct util_error *err)
{
    struct run_cassettes *cr = user;
    struct cas_file *f = cas_find(cr, k->file);
    size_t replayed = 0, recorded = 0;
    int rc = UTIL_OK;
    (void)t;
    if (!f)
        return UTIL_OK;
    /* How long a case recorded live took, for --shard (not with a seeded
     * mock: its recordings stay byte-identical). */
    cassette_transport_counts(f->t, &replayed, &recorded);
    if (!cr->seeded && recorded > cas_cur.recorded0 && replayed == cas_cur.replayed0)
        rc = cassette_set_case_duration_ms(f->c, k->name, r->elapsed_ms, err);
    if (f->relay)
        ((struct cas_relay *)f->relay)->target = NULL;
    cassette_transport_set_context(f->t, NULL, NULL);
    cassette_transport_set_match_options(f->t, NULL);
    memset(&cas_cur, 0, sizeof(cas_cur));
    f->next++;
    pthread_cond_broadcast(&f->turn);
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static void cas_step_begin(void *user, struct http_transport *t, const struct case_case *k,
                           const struct case_step *s)
{
    (void)user;
    /* The arrays belong to the step, which outlives the run. */
    struct cassette_match_options mo = {
        .ignore_query = (const char *const *)s->match.ignore_query,
        .ignore_query_count = s->match.nignore_query,
        .ignore_body = (const char *const *)s->match.ignore_body,
        .ignore_body_count = s->match.nignore_body,
        .ordered = s->match.ordered,
    };
    cassette_transport_set_context(t, k->name, s->name);
    cassette_transport_set_match_options(t, &mo);
}

static void cas_secret(void *user, struct http_transport *t, const char *value, const char *member)
{
    (void)user;
    /* Out of memory or past the cap: the recording still redacts the
     * member itself, only not this value elsewhere. */
    (void)cassette_transport_add_secret(t, value, member);
}

static bool cas_skip_wait(void *user, const struct http_transport *t)
{
    (void)user;
    return cassette_transport_replays_only(t);
}

void run_cassettes_destroy(struct run_cassettes *cr)
{
    if (!cr)
        return;
    for (size_t i = 0; cr->files && i < cr->nfiles; i++) {
        struct cas_file *f = &cr->files[i];
        http_transport_destroy(f->t);
        http_transport_destroy(f->relay);
        cassette_destroy(f->c);
        cassette_destroy(f->old);
        cassette_redactor_destroy(f->redactor);
        free(f->path);
        free(f->loaded_sha256);
        free(f->order);
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->turn);
    }
    free(cr->files);
    free(cr->dir);
    free(cr->secret_fields);
    for (size_t i = 0; i < cr->nlearned; i++)
        free(cr->learned[i]);
    free(cr->learned);
    free(cr);
}

/* One cas_file per case file of the plan, each with its cases in order. */
static int cas_files_init(struct run_cassettes *cr, const struct run_plan *plan, const char *dir,
                          struct util_error *err)
{
    cr->files = calloc(plan->count ? plan->count : 1, sizeof(*cr->files));
    if (!cr->files)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < plan->count; i++) {
        const struct case_case *k = plan->cases[i];
        struct cas_file *f = cas_find(cr, k->file);
        if (!f) {
            f = &cr->files[cr->nfiles++];
            f->case_file = k->file;
            pthread_mutex_init(&f->lock, NULL);
            pthread_cond_init(&f->turn, NULL);
            const char *base = strrchr(k->file, '/');
            base = base ? base + 1 : k->file;
            size_t n = strlen(dir) + strlen(base) + 2;
            f->order = calloc(plan->count, sizeof(*f->order));
            f->path = malloc(n);
            if (!f->order || !f->path)
                return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            snprintf(f->path, n, "%s/%s", dir, base);
            for (size_t j = 0; j < cr->nfiles - 1; j++)
                if (strcmp(cr->files[j].path, f->path) == 0)
                    return util_error_set(err, UTIL_ERR_USAGE,
                                          "case files %s and %s would share the cassette %s",
                                          cr->files[j].case_file, k->file, f->path);
        }
        f->order[f->norder++] = k;
    }
    return UTIL_OK;
}

/* The run id a cassette was recorded with (the first found), or NULL. */
static const char *cas_recorded_run_id(const struct run_cassettes *cr)
{
    for (size_t i = 0; i < cr->nfiles; i++) {
        size_t cursor = 0, old_cursor = 0;
        const struct cas_file *f = &cr->files[i];
        const char *v = f->c ? cassette_value_next(f->c, CAS_RUN_ID, &cursor) : NULL;
        if (!v && f->old)
            v = cassette_value_next(f->old, CAS_RUN_ID, &old_cursor);
        if (v)
            return v;
    }
    return NULL;
}

int run_cassettes_save(struct run_cassettes *cr, const char *run_id, size_t *saved,
                       struct util_error *err)
{
    char when[32];
    struct util_error first;
    size_t failed = 0;
    util_error_clear(&first);
    *saved = 0;
    if (!cr || !cr->enabled)
        return UTIL_OK;
    if (cr->seeded_clock) {
        struct tm tm;
        time_t t = cr->seeded_clock;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        cassette_now_iso8601(when, sizeof(when));
    }
    for (size_t i = 0; i < cr->nfiles; i++) {
        struct cas_file *f = &cr->files[i];
        size_t replayed = 0, recorded = 0;
        if (!f->t || cr->mode == CASSETTE_RECORD_NONE)
            continue;
        cassette_transport_counts(f->t, &replayed, &recorded);
        if (!recorded && cr->mode != CASSETTE_RECORD_ALL)
            continue;
        if (util_mkdir_p(cr->dir, err)) {
            util_error_prefix(err, "cassettes not saved");
            return err->code;
        }
        size_t cursor = 0;
        int rc = UTIL_OK;
        if (!cassette_value_next(f->c, CAS_RUN_ID, &cursor))
            rc = cassette_value_append(f->c, CAS_RUN_ID, run_id, err);
        if (!rc)
            rc = cassette_set_recorded_at(f->c, when);
        if (!rc)
            rc = cassette_set_ingestcheck_version(f->c, INGESTCHECK_VERSION);
        /* A file that keeps recordings made against another spec keeps
         * saying so (new_episodes, or all over some of its cases): only a
         * recording of all its cases moves it to today's spec. */
        const char *kept_sha = f->old ? cassette_spec_sha256(f->old) : f->loaded_sha256;
        if (!rc && kept_sha && cr->spec_sha256[0] && strcmp(kept_sha, cr->spec_sha256) != 0)
            rc = cassette_set_spec_sha256(f->c, kept_sha);
        else if (!rc && cr->spec_sha256[0])
            rc = cassette_set_spec_sha256(f->c, cr->spec_sha256);
        if (rc)
            return util_error_set(err, rc, "out of memory");
        struct cassette *kept = NULL;
        if (f->old) {
            const char **names = ran_names(f);
            if (!names)
                return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            rc = cassette_merge_kept(f->c, f->old, names, f->norder, &kept, err);
            free((void *)names);
            if (rc)
                return rc;
        }
        /* A file that cannot be written does not keep the others from
         * being saved; the first failure is the one reported. */
        struct util_error one;
        util_error_clear(&one);
        rc = cassette_save_file(kept ? kept : f->c, f->redactor, f->path, &one);
        cassette_destroy(kept);
        if (rc == UTIL_ERR_NOMEM)
            return util_error_set(err, rc, "out of memory");
        if (rc && !failed++)
            first = one;
        if (rc)
            continue;
        f->written = true;
        (*saved)++;
    }
    if (!failed)
        return UTIL_OK;
    *err = first;
    /* The message names the file: "PATH: cannot ...". */
    if (failed > 1)
        util_error_prefix(err, "%zu cassettes not saved (results.json lists them), the first",
                          failed);
    else
        util_error_prefix(err, "cassette not saved");
    return first.code;
}

/* The default cassette directory: "cassettes" next to path's file. */
static char *default_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) : 0;
    size_t n = (size_t)dirlen + sizeof("/cassettes");
    char *d = malloc(n);
    if (d)
        snprintf(d, n, "%.*s%scassettes", dirlen, path, slash ? "/" : "");
    return d;
}

int run_cassettes_create(const struct run_cassettes_options *o, const struct run_plan *plan,
                         struct run_cassettes **out, struct util_error *err)
{
    int rc = UTIL_OK;
    struct run_cassettes *cr = calloc(1, sizeof(*cr));
    *out = NULL;
    if (!cr)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    cr->enabled = o->enabled;
    cr->mode = o->mode;
    cr->fields = o->redact_fields;
    cr->nfields = o->nredact_fields;
    cr->userinfo = o->userinfo;
    cr->run_id = o->run_id;
    cr->seeded = o->seeded;
    cr->seed = o->seed;
    if (o->seeded) {
        time_t sde = source_date_epoch();
        cr->seeded_clock = sde ? sde : o->seeded_epoch;
    }
    cr->thooks =
        (struct case_template_hooks){.now = cas_now_hook, .uuid = cas_uuid_hook, .user = cr};
    cr->rhooks = (struct run_hooks){
        .case_begin = cas_case_begin,
        .case_end = cas_case_end,
        .step_begin = cas_step_begin,
        .skip_wait = cas_skip_wait,
        .secret = cas_secret,
        .user = cr,
    };
    cr->seeded_hooks = (struct run_hooks){
        .case_begin = seeded_case_begin, .case_end = seeded_case_end, .user = cr};
    if (!cr->enabled)
        goto done;
    if (o->dir)
        cr->dir = strdup(o->dir);
    else if (plan->count)
        cr->dir = default_dir(plan->cases[0]->file);
    else
        cr->dir = strdup("cassettes");
    if (!cr->dir) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (o->spec_sha256 && strlen(o->spec_sha256) < sizeof(cr->spec_sha256))
        snprintf(cr->spec_sha256, sizeof(cr->spec_sha256), "%s", o->spec_sha256);
    if ((rc = cas_files_init(cr, plan, cr->dir, err)))
        goto done;
    for (size_t i = 0; i < cr->nfiles; i++) {
        struct cas_file *f = &cr->files[i];
        if (cr->mode == CASSETTE_RECORD_NONE && access(f->path, F_OK) != 0) {
            rc = util_error_set(err, UTIL_ERR_USAGE,
                                "%s: no cassette for %s (record it with --record-mode once)",
                                f->path, f->case_file);
            goto done;
        }
    }
done:
    if (rc)
        run_cassettes_destroy(cr);
    else
        *out = cr;
    return rc;
}

const char *run_cassettes_dir(const struct run_cassettes *cr)
{
    return cr && cr->enabled ? cr->dir : NULL;
}

const char *run_cassettes_path(const struct run_cassettes *cr, size_t i)
{
    return cr && cr->enabled && i < cr->nfiles ? cr->files[i].path : NULL;
}

/* The recordings kept by a partial re-recording replay with their file's
 * run id ({{run.id}} is in their requests): the run must use it. */
static int cas_kept_run_id(const struct run_cassettes *cr, struct util_error *err)
{
    const char *want = cr->run_id;
    const struct cas_file *from = NULL;
    for (size_t i = 0; i < cr->nfiles; i++) {
        const struct cas_file *f = &cr->files[i];
        size_t cursor = 0;
        const char *v = f->old ? cassette_value_next(f->old, CAS_RUN_ID, &cursor) : NULL;
        if (!v)
            continue;
        if (want && strcmp(want, v) != 0 && from)
            return util_error_set(err, UTIL_ERR_USAGE,
                                  "%s and %s: re-recording some of their cases, but their other "
                                  "cases were recorded with the run ids %s and %s: re-record "
                                  "them in separate runs, or all of their cases",
                                  from->path, f->path, want, v);
        if (want && strcmp(want, v) != 0)
            return util_error_set(
                err, UTIL_ERR_USAGE,
                "%s: re-recording some of its cases, but its other cases were recorded with "
                "run id %s, not %s: give --run-id %s, or re-record all of %s's cases",
                f->path, v, want, v, f->case_file);
        if (!want) {
            want = v;
            from = f;
        }
    }
    return UTIL_OK;
}

int run_cassettes_open(struct run_cassettes *cr, const char *app_id, const char *api_key,
                       const char *mock_url, struct util_error *err)
{
    cr->app_id = app_id;
    cr->api_key = api_key;
    cr->mock_url = mock_url;
    for (size_t i = 0; cr->enabled && i < cr->nfiles; i++) {
        int rc = cas_open(cr, &cr->files[i], err);
        if (rc)
            return rc;
    }
    int rc = cas_kept_run_id(cr, err);
    return rc ? rc : cas_secret_fields(cr, err);
}

void run_cassettes_configure(struct run_cassettes *cr, struct run_config *cfg)
{
    cfg->hooks = &cr->thooks;
    if (!cr->enabled) {
        if (cr->seeded)
            cfg->run_hooks = &cr->seeded_hooks;
        return;
    }
    cfg->run_hooks = &cr->rhooks;
    if (cr->secret_fields) {
        cfg->secret_fields = cr->secret_fields;
        cfg->nsecret_fields = cr->nsecret_fields;
    }
    if (cr->mode == CASSETTE_RECORD_NONE)
        cfg->transport_create = make_offline_transport;
    if (!cfg->run_id)
        cfg->run_id = cas_recorded_run_id(cr);
}

void run_cassettes_counts(const struct run_cassettes *cr, size_t *replayed, size_t *recorded)
{
    *replayed = *recorded = 0;
    for (size_t i = 0; cr && i < cr->nfiles; i++) {
        size_t a = 0, b = 0;
        if (cr->files[i].t)
            cassette_transport_counts(cr->files[i].t, &a, &b);
        *replayed += a;
        *recorded += b;
    }
}

int run_cassettes_report(const struct run_cassettes *cr, struct run_results *r,
                         struct util_error *err)
{
    if (!cr || !cr->enabled || !cr->nfiles)
        return UTIL_OK;
    r->cassettes = calloc(cr->nfiles, sizeof(*r->cassettes));
    r->cassette_mode = strdup(cassette_record_mode_name(cr->mode));
    r->spec_sha256 = cr->spec_sha256[0] ? strdup(cr->spec_sha256) : NULL;
    if (!r->cassettes || !r->cassette_mode || (cr->spec_sha256[0] && !r->spec_sha256))
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < cr->nfiles; i++) {
        const struct cas_file *f = &cr->files[i];
        struct run_cassette_file *o = &r->cassettes[r->ncassettes++];
        o->path = strdup(f->path);
        o->spec_sha256 = f->loaded_sha256 ? strdup(f->loaded_sha256) : NULL;
        if (!o->path || (f->loaded_sha256 && !o->spec_sha256))
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        o->spec_changed = f->loaded_sha256 && cr->spec_sha256[0] &&
                          strcmp(f->loaded_sha256, cr->spec_sha256) != 0;
        if (f->t)
            cassette_transport_counts(f->t, &o->replayed, &o->recorded);
        o->written = f->written;
    }
    return UTIL_OK;
}

void run_cassettes_spec_warning(const char *path, const char *recorded, const char *today,
                                char *buf, size_t size)
{
    snprintf(buf, size,
             "%s: recorded against spec sha256 %.12s..., today's is %.12s...: its responses "
             "were re-checked against today's schemas",
             path, recorded ? recorded : "?", today ? today : "?");
}
