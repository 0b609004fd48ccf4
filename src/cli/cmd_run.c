/* `ingestcheck run`: loads case files, runs them against a target (the
 * embedded mock by default), prints one line per case and writes
 * reports/junit.xml and reports/results.json. */
#include "cli/cli.h"

#include "case/case.h"
#include "check/check.h"
#include "http/http.h"
#include "report/report.h"
#include "run/run.h"
#include "util/buf.h"
#include "util/file.h"

#include "cassette/cassette.h"
#include "ingestcheck_config.h"
#include "mock/caps.h"
#include "mock/mock.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    OPT_BASE_URL = 1,
    OPT_REGION,
    OPT_APP_ID,
    OPT_API_KEY,
    OPT_JOBS,
    OPT_TAG,
    OPT_EXCLUDE_TAG,
    OPT_CASE,
    OPT_OPERATION,
    OPT_REPORTS,
    OPT_TIMEOUT,
    OPT_RETRIES,
    OPT_CACERT,
    OPT_INSECURE,
    OPT_RUN_ID,
    OPT_LIST,
    OPT_TIMINGS,
    OPT_CASSETTES,
    OPT_RECORD_MODE,
    OPT_REPLAY,
    OPT_REDACT,
    OPT_MOCK_SEED,
    OPT_SHARD,
};

static const struct cli_option run_options[] = {
    {"base-url", 0, CLI_ARG_STRING, "URL", "run against this server (default: the embedded mock)",
     OPT_BASE_URL, false},
    {"region", 0, CLI_ARG_STRING, "REGION",
     "run against https://data.REGION.algolia.com (us or eu)", OPT_REGION, false},
    {"app-id", 0, CLI_ARG_STRING, "ID", "application ID (default: $ALGOLIA_APPLICATION_ID)",
     OPT_APP_ID, false},
    {"api-key", 0, CLI_ARG_STRING, "KEY", "API key (default: $ALGOLIA_API_KEY; never printed)",
     OPT_API_KEY, false},
    {"jobs", 'j', CLI_ARG_INT, "N", "run N cases at a time (output is the same for any N)",
     OPT_JOBS, false},
    {"tag", 0, CLI_ARG_STRING, "TAG", "run the cases with this tag", OPT_TAG, true},
    {"exclude-tag", 0, CLI_ARG_STRING, "TAG", "skip the cases with this tag", OPT_EXCLUDE_TAG,
     true},
    {"case", 0, CLI_ARG_STRING, "GLOB", "run the cases whose name matches the glob", OPT_CASE,
     true},
    {"operation", 0, CLI_ARG_STRING, "ID", "run the cases that call this operationId",
     OPT_OPERATION, true},
    {"reports", 0, CLI_ARG_STRING, "DIR",
     "write junit.xml and results.json here (default: reports)", OPT_REPORTS, false},
    {"timeout", 0, CLI_ARG_INT, "MS", "per-request timeout in milliseconds (default 30000)",
     OPT_TIMEOUT, false},
    {"retries", 0, CLI_ARG_INT, "N", "retries of a request after a network error (default 0)",
     OPT_RETRIES, false},
    {"cacert", 0, CLI_ARG_STRING, "FILE", "CA bundle for TLS verification", OPT_CACERT, false},
    {"insecure", 0, CLI_ARG_NONE, NULL, "do not verify TLS certificates", OPT_INSECURE, false},
    {"run-id", 0, CLI_ARG_STRING, "ID", "the run's identifier, {{run.id}} (default: random)",
     OPT_RUN_ID, false},
    {"list", 0, CLI_ARG_NONE, NULL, "list the selected cases and exit", OPT_LIST, false},
    {"timings", 0, CLI_ARG_NONE, NULL, "show durations on the console", OPT_TIMINGS, false},
    {"cassettes", 0, CLI_ARG_STRING, "DIR",
     "record to / replay from one cassette per case file in DIR (default: cases/cassettes)",
     OPT_CASSETTES, false},
    {"record-mode", 0, CLI_ARG_STRING, "MODE",
     "once (record a missing cassette, else replay), new_episodes, none (replay only), all",
     OPT_RECORD_MODE, false},
    {"replay", 0, CLI_ARG_NONE, NULL,
     "replay from the cassettes with no network at all (--record-mode none)", OPT_REPLAY, false},
    {"redact", 0, CLI_ARG_STRING, "FIELD",
     "also redact the JSON field FIELD from recordings (repeatable)", OPT_REDACT, true},
    {"mock-seed", 0, CLI_ARG_INT, "N",
     "seed the embedded mock (IDs, timestamps, credentials, {{uuid}}): reproducible recordings",
     OPT_MOCK_SEED, false},
    {"shard", 0, CLI_ARG_STRING, "K/N",
     "run shard K of N: a balanced part of the selected cases (combine with merge)", OPT_SHARD,
     false},
    {NULL, 0, CLI_ARG_NONE, NULL, NULL, 0, false},
};

struct console {
    struct report_console_options opts;
    bool tty;
    bool quiet;
    size_t done;
};

static void on_case_done(const struct run_case_result *r, size_t total, void *user)
{
    struct console *c = user;
    struct util_buf b;
    util_buf_init(&b, REPORT_CAP_SIZE);
    c->done++;
    if (c->tty)
        util_buf_puts(&b, "\r\033[K");
    if (!c->quiet || r->outcome == RUN_FAILED || r->outcome == RUN_ERROR)
        report_console_case(&b, r, &c->opts);
    report_console_failure(&b, r, &c->opts);
    if (c->tty && c->done < total)
        report_console_progress(&b, c->done, total, "running");
    if (b.data)
        fputs(b.data, stdout);
    fflush(stdout);
    util_buf_finish(&b);
}

/* ---- cassettes ----
 *
 * One cassette per case file: cases/tasks.yaml is recorded to and replayed
 * from DIR/tasks.yaml. Each cassette has one record/replay transport for the
 * whole run, so identical requests of different cases replay in recorded
 * order; the cases of one file take turns in plan order (case_begin waits
 * for its turn, case_end passes it on), which makes the cassette used by one
 * worker at a time and the consumption order the same for any -j. The
 * transport sends through a per-file relay whose target is the current
 * worker's live transport. {{now}} and {{uuid}} values are stored in the
 * cassette under "now@CASE" and "uuid@CASE" and reused on replay. */

/* Base URL the runner sees when recording against the embedded mock, so a
 * cassette does not depend on the mock's ephemeral port. */
#define CAS_MOCK_BASE "http://mock.ingestcheck.invalid"
/* With --mock-seed, a run stays this long (of the mock's logical clock, one
 * second per request) in each stage, so that the suite sees a new run as
 * `created` for a few requests, as it does against the real-time mock. */
#define CAS_SEEDED_RUN_STAGE_MS 5000L
/* The value holding {{run.id}} in a cassette: a replay without --run-id
 * uses the recorded one, so its requests are the recorded requests. */
#define CAS_RUN_ID "run.id"

/* The clock of {{now}} with --mock-seed: SOURCE_DATE_EPOCH when set, else
 * the start of the seeded mock's logical clock. 0 until run_run sets it. */
static time_t cas_seeded_clock;

struct cas_file {
    const char *case_file; /* borrowed from the suite */
    char *path;            /* DIR/<basename of case_file> */
    struct cassette *c;
    struct http_transport *relay; /* sends through the current worker's transport */
    struct http_transport *t;     /* record/replay transport over c */
    struct cassette_redactor *redactor;
    const struct case_case **order; /* the file's cases in plan order */
    size_t norder, next;
    pthread_mutex_t lock;
    pthread_cond_t turn;
};

struct cas_run {
    enum cassette_record_mode mode;
    /* What every file's redactor knows (a redactor learns secrets as it
     * goes, so each cassette has its own: files run on different threads). */
    const char *const *fields; /* --redact */
    size_t nfields;
    const char *app_id, *api_key;
    struct cas_file *files;
    size_t nfiles;
    char spec_sha256[65];
    bool seeded; /* --mock-seed: generated uuids derive from the seed */
    uint64_t seed;
    const char *mock_url; /* real URL behind CAS_MOCK_BASE, or NULL */
};

/* The case a worker thread is running (one case stays on one thread). */
struct cas_current {
    struct cas_run *run;
    struct cas_file *file;
    const struct case_case *kase;
    size_t now_cursor, uuid_cursor;
    uint64_t uuid_n;
    size_t replayed0, recorded0; /* the file's counts when the case began */
};
static _Thread_local struct cas_current cas_cur;

/* A transport forwarding to *target; with a mock URL, rewrites
 * CAS_MOCK_BASE to it and drops the Date response header. */
struct cas_relay {
    struct http_transport base;
    struct http_transport *target;
    const char *mock_url;
};

static int relay_send(struct http_transport *t, const struct http_request *req,
                      struct http_response *resp, struct util_error *err)
{
    struct cas_relay *r = (struct cas_relay *)t;
    size_t blen = strlen(CAS_MOCK_BASE);
    if (!r->target)
        return util_error_set(err, UTIL_ERR_USAGE, "cassette relay used outside a case");
    if (!r->mock_url || strncmp(req->url, CAS_MOCK_BASE, blen) != 0)
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
    struct http_headers *h = &resp->headers;
    size_t o = 0;
    for (size_t i = 0; i < h->count; i++) {
        if (strcasecmp(h->items[i].name, "date") == 0) {
            free(h->items[i].name);
            free(h->items[i].value);
        } else {
            h->items[o++] = h->items[i];
        }
    }
    h->count = o;
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
    resp->failure = HTTP_ERR_OTHER;
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

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Draws the next recorded value of name for the current case, or stores
 * fresh (when the cassette records). Returns the value to use in buf. */
static void cas_value(const char *kind, size_t *cursor, const char *fresh, char *buf, size_t size)
{
    struct cas_current *cc = &cas_cur;
    char name[512];
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

static time_t cas_clock(void)
{
    if (cas_seeded_clock)
        return cas_seeded_clock;
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end = NULL;
        long long n = strtoll(sde, &end, 10);
        if (end && !*end && n >= 0)
            return (time_t)n;
    }
    return time(NULL);
}

static time_t cas_now_hook(void *user)
{
    (void)user;
    char fresh[32], buf[32];
    if (!cas_cur.run)
        return cas_clock();
    snprintf(fresh, sizeof(fresh), "%lld", (long long)cas_clock());
    cas_value("now", &cas_cur.now_cursor, fresh, buf, sizeof(buf));
    return (time_t)strtoll(buf, NULL, 10);
}

static void cas_uuid_hook(void *user, char out[37])
{
    (void)user;
    unsigned char b[16];
    struct cas_current *cc = &cas_cur;
    if (cc->run && cc->run->seeded) {
        uint64_t x = cc->run->seed ^ fnv1a(cc->kase->name);
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

static struct cas_file *cas_find(struct cas_run *cr, const char *case_file)
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
    static const char prefix[] = "<REDACTED:";
    for (size_t i = 0; i < cassette_placeholder_count(c); i++) {
        const char *ph = cassette_placeholder_at(c, i);
        size_t len = strlen(ph), plen = sizeof(prefix) - 1;
        char name[256];
        if (len <= plen + 1 || strncmp(ph, prefix, plen) != 0 || ph[len - 1] != '>' ||
            len - plen - 1 >= sizeof(name))
            continue;
        memcpy(name, ph + plen, len - plen - 1);
        name[len - plen - 1] = '\0';
        int rc = cassette_redactor_add_field(r, name, err);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* Loads (or creates) the file's cassette and its transport; under f->lock. */
static int cas_open(struct cas_run *cr, struct cas_file *f, struct util_error *err)
{
    int rc;
    bool exists = access(f->path, F_OK) == 0;
    if (exists && cr->mode != CASSETTE_RECORD_ALL) {
        if ((rc = cassette_load_file(f->path, &f->c, err)))
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
    if ((rc = cas_learn_fields(f->redactor, f->c, err)))
        return rc;
    struct cassette_transport_options o = {.spec = NULL, .redactor = f->redactor};
    f->t = cassette_record_transport_create(f->relay, f->c, cr->mode, &o, err);
    return f->t ? UTIL_OK : (err->code ? err->code : UTIL_ERR_INVALID);
}

static struct http_transport *cas_case_begin(void *user, const struct case_case *k,
                                             struct http_transport *worker, struct util_error *err)
{
    struct cas_run *cr = user;
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
    struct cas_run *cr = user;
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
    cassette_transport_set_context(t, k->name, s->name);
}

static bool cas_skip_wait(void *user, const struct http_transport *t)
{
    (void)user;
    return cassette_transport_replays_only(t);
}

static void cas_run_finish(struct cas_run *cr)
{
    for (size_t i = 0; cr->files && i < cr->nfiles; i++) {
        struct cas_file *f = &cr->files[i];
        http_transport_destroy(f->t);
        http_transport_destroy(f->relay);
        cassette_destroy(f->c);
        cassette_redactor_destroy(f->redactor);
        free(f->path);
        free(f->order);
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->turn);
    }
    free(cr->files);
    memset(cr, 0, sizeof(*cr));
}

/* One cas_file per case file of the plan, each with its cases in order. */
static int cas_run_init(struct cas_run *cr, const struct run_plan *plan, const char *dir,
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
static const char *cas_recorded_run_id(const struct cas_run *cr)
{
    for (size_t i = 0; i < cr->nfiles; i++) {
        size_t cursor = 0;
        const char *v =
            cr->files[i].c ? cassette_value_next(cr->files[i].c, CAS_RUN_ID, &cursor) : NULL;
        if (v)
            return v;
    }
    return NULL;
}

/* Reads the spec's SHA-256 from operations.json (empty when unknown). */
static void cas_spec_sha(const char *schemas, char out[65])
{
    char path[4096], *text = NULL;
    size_t len = 0;
    struct util_error e;
    out[0] = '\0';
    util_error_clear(&e);
    snprintf(path, sizeof(path), "%s/operations.json", schemas);
    if (util_file_read(path, 64u * 1024u * 1024u, &text, &len, &e))
        return;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    const cJSON *sha =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "spec"), "sha256");
    if (cJSON_IsString(sha) && strlen(sha->valuestring) == 64)
        memcpy(out, sha->valuestring, 65);
    cJSON_Delete(doc);
    free(text);
}

/* Saves every cassette that recorded something; returns the first error. */
static int cas_save_all(struct cas_run *cr, const char *dir, const char *run_id, size_t *saved,
                        struct util_error *err)
{
    char when[32];
    *saved = 0;
    if (cas_seeded_clock) {
        struct tm tm;
        time_t t = cas_seeded_clock;
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
        if (util_mkdir_p(dir, err))
            return err->code;
        size_t cursor = 0;
        int rc = UTIL_OK;
        if (!cassette_value_next(f->c, CAS_RUN_ID, &cursor))
            rc = cassette_value_append(f->c, CAS_RUN_ID, run_id, err);
        if (!rc)
            rc = cassette_set_recorded_at(f->c, when);
        if (!rc)
            rc = cassette_set_ingestcheck_version(f->c, INGESTCHECK_VERSION);
        if (!rc && cr->spec_sha256[0])
            rc = cassette_set_spec_sha256(f->c, cr->spec_sha256);
        if (rc)
            return util_error_set(err, rc, "out of memory");
        if ((rc = cassette_save_file(f->c, f->redactor, f->path, err)))
            return rc;
        (*saved)++;
    }
    return UTIL_OK;
}

/* Collects the YAML files under dir, recursively, skipping directories
 * called "cassettes" (recordings live next to the cases), sorted. */
static int collect_cases(const char *dir, char ***files, size_t *n, size_t *alloc, int depth)
{
    if (depth > 32)
        return UTIL_ERR_LIMIT;
    DIR *d = opendir(dir);
    if (!d)
        return UTIL_ERR_IO;
    int rc = UTIL_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) {
            rc = UTIL_ERR_NOMEM;
            break;
        }
        size_t dl = strlen(dir);
        snprintf(p, len, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", e->d_name);
        struct stat st;
        size_t nl = strlen(e->d_name);
        bool yaml = (nl > 5 && strcmp(e->d_name + nl - 5, ".yaml") == 0) ||
                    (nl > 4 && strcmp(e->d_name + nl - 4, ".yml") == 0);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (strcmp(e->d_name, "cassettes") != 0)
                rc = collect_cases(p, files, n, alloc, depth + 1);
            free(p);
        } else if (yaml) {
            if (*n == *alloc) {
                size_t na = *alloc ? *alloc * 2 : 16;
                char **nf = realloc(*files, na * sizeof(*nf));
                if (!nf) {
                    free(p);
                    rc = UTIL_ERR_NOMEM;
                    break;
                }
                *files = nf;
                *alloc = na;
            }
            (*files)[(*n)++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct http_transport *make_transport(void *user, struct util_error *err)
{
    return http_curl_create(user, err);
}

/* Collects every value of a repeatable option. */
static size_t values_of(const struct cli_args *a, int id, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nvalues && n < max; i++)
        if (a->values[i].id == id)
            out[n++] = a->values[i].str;
    return n;
}

static int run_run(const struct cli_command *cmd, const struct cli_args *args)
{
    int exit_code = CLI_EXIT_USAGE;
    struct util_error err;
    struct case_loader *loader = NULL;
    struct check_contract *contract = NULL;
    struct case_suite suite;
    struct run_plan plan;
    struct run_results results;
    struct util_buf out;
    char region_url[128];
    bool http_ready = false;
    const char *tags[CLI_MAX_VALUES], *xtags[CLI_MAX_VALUES], *globs[CLI_MAX_VALUES],
        *ops[CLI_MAX_VALUES];
    struct mock_server *mock = NULL;
    struct cas_run cas;
    bool use_cas = false;
    char **case_files = NULL;
    size_t ncase_files = 0, case_files_alloc = 0;
    char cas_dir_buf[4096];
    const char *redact_fields[CLI_MAX_VALUES];
    const char *cas_dir = NULL;
    (void)cmd;
    memset(&cas, 0, sizeof(cas));
    util_error_clear(&err);
    case_suite_init(&suite);
    run_plan_init(&plan);
    run_results_init(&results);
    util_buf_init(&out, REPORT_CAP_SIZE);

    const char *schemas = cli_schemas_dir(args);
    const char *base_url = cli_get(args, OPT_BASE_URL);
    const char *region = cli_get(args, OPT_REGION);
    long jobs = cli_get_num(args, OPT_JOBS, 1);
    if (base_url && region) {
        cli_error("--base-url and --region exclude each other");
        goto cleanup;
    }
    if (region) {
        if (strcmp(region, "us") != 0 && strcmp(region, "eu") != 0) {
            cli_error("unknown --region '%s' (us or eu)", region);
            goto cleanup;
        }
        snprintf(region_url, sizeof(region_url), "https://data.%s.algolia.com", region);
        base_url = region_url;
    }
    if (jobs < 1 || jobs > RUN_CAP_JOBS) {
        cli_error("--jobs must be between 1 and %d, got %ld", RUN_CAP_JOBS, jobs);
        goto cleanup;
    }
    if (cli_get_num(args, OPT_TIMEOUT, 30000) < 1 || cli_get_num(args, OPT_RETRIES, 0) < 0) {
        cli_error("--timeout must be positive and --retries not negative");
        goto cleanup;
    }

    /* Cases: refused before anything runs when one file is malformed. */
    loader = case_loader_create(schemas, &err);
    if (!loader) {
        cli_report_error(&err);
        goto cleanup;
    }
    const char *default_paths[] = {"cases"};
    const char *const *given =
        args->npositional ? (const char *const *)args->positional : default_paths;
    size_t ngiven = args->npositional ? args->npositional : 1;
    /* Directories are expanded here so that their cassettes/ are skipped. */
    for (size_t i = 0; i < ngiven; i++) {
        struct stat st;
        int crc;
        if (stat(given[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t first = ncase_files;
            crc = collect_cases(given[i], &case_files, &ncase_files, &case_files_alloc, 0);
            if (!crc)
                qsort(case_files + first, ncase_files - first, sizeof(char *), cmp_path);
        } else {
            crc = UTIL_OK;
            if (ncase_files == case_files_alloc) {
                size_t na = case_files_alloc ? case_files_alloc * 2 : 16;
                char **nf = realloc(case_files, na * sizeof(*nf));
                if (!nf)
                    crc = UTIL_ERR_NOMEM;
                else {
                    case_files = nf;
                    case_files_alloc = na;
                }
            }
            if (!crc && !(case_files[ncase_files] = strdup(given[i])))
                crc = UTIL_ERR_NOMEM;
            if (!crc)
                ncase_files++;
        }
        if (crc) {
            cli_error("%s: cannot read the case directory (%s)", given[i], util_status_name(crc));
            goto cleanup;
        }
    }
    if (ncase_files == 0) {
        cli_error("no case file found in %s", given[0]);
        goto cleanup;
    }
    if (case_suite_load(loader, (const char *const *)case_files, ncase_files, &suite, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    struct run_selection sel = {
        .tags = tags,
        .ntags = values_of(args, OPT_TAG, tags, CLI_MAX_VALUES),
        .exclude_tags = xtags,
        .nexclude_tags = values_of(args, OPT_EXCLUDE_TAG, xtags, CLI_MAX_VALUES),
        .case_globs = globs,
        .ncase_globs = values_of(args, OPT_CASE, globs, CLI_MAX_VALUES),
        .operations = ops,
        .noperations = values_of(args, OPT_OPERATION, ops, CLI_MAX_VALUES),
    };
    const cJSON *opdoc = case_loader_operations(loader);
    for (size_t i = 0; i < sel.noperations; i++) {
        bool found = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(opdoc, "operations"))
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "operationId");
            found = found || (cJSON_IsString(id) && strcmp(id->valuestring, ops[i]) == 0);
        }
        if (!found) {
            cli_error("--operation '%s' is not an operationId of the spec", ops[i]);
            goto cleanup;
        }
    }
    if (run_plan_build(&suite, &sel, &plan, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    if (cli_has(args, OPT_SHARD) &&
        cli_shard_plan(cli_get(args, OPT_SHARD), &plan, cli_get(args, OPT_CASSETTES),
                       !cli_has(args, OPT_LIST) && !cli_has(args, CLI_OPT_QUIET)) != CLI_EXIT_OK)
        goto cleanup;
    if (cli_has(args, OPT_LIST)) {
        for (size_t i = 0; i < plan.count; i++)
            printf("%s (%s:%d)\n", plan.cases[i]->name, plan.cases[i]->file, plan.cases[i]->line);
        exit_code = CLI_EXIT_OK;
        goto cleanup;
    }
    if (plan.count == 0 && plan.planned) {
        exit_code = cli_shard_write_empty(&plan, cli_get(args, OPT_RUN_ID), base_url,
                                          cli_get(args, OPT_REPORTS));
        goto cleanup;
    }
    if (plan.count == 0) {
        cli_error("no case selected (%zu cases loaded)", case_suite_count(&suite));
        goto cleanup;
    }
    contract = check_contract_create(schemas, &err);
    if (!contract) {
        cli_report_error(&err);
        goto cleanup;
    }

    /* Cassettes: mode, directory, redaction; every cassette is loaded (and
     * a corrupt one refused) before anything runs. */
    use_cas =
        cli_has(args, OPT_CASSETTES) || cli_has(args, OPT_RECORD_MODE) || cli_has(args, OPT_REPLAY);
    cas.mode = CASSETTE_RECORD_ONCE;
    if (cli_has(args, OPT_REPLAY) && cli_has(args, OPT_RECORD_MODE) &&
        cassette_record_mode_parse(cli_get(args, OPT_RECORD_MODE)) != CASSETTE_RECORD_NONE) {
        cli_error("--replay is --record-mode none; it excludes --record-mode %s",
                  cli_get(args, OPT_RECORD_MODE));
        goto cleanup;
    }
    if (cli_has(args, OPT_REPLAY))
        cas.mode = CASSETTE_RECORD_NONE;
    if (cli_has(args, OPT_RECORD_MODE)) {
        int m = cassette_record_mode_parse(cli_get(args, OPT_RECORD_MODE));
        if (m < 0) {
            cli_error("unknown --record-mode '%s' (once, new_episodes, none or all)",
                      cli_get(args, OPT_RECORD_MODE));
            goto cleanup;
        }
        cas.mode = (enum cassette_record_mode)m;
    }
    if (cli_has(args, OPT_REDACT) && !use_cas) {
        cli_error("--redact applies to recordings: add --cassettes DIR or --record-mode MODE");
        goto cleanup;
    }
    if (cli_has(args, OPT_MOCK_SEED) && base_url) {
        cli_error("--mock-seed seeds the embedded mock; it excludes --base-url and --region");
        goto cleanup;
    }
    if (cli_has(args, OPT_MOCK_SEED) && cli_get_num(args, OPT_MOCK_SEED, 0) < 0) {
        cli_error("--mock-seed must not be negative");
        goto cleanup;
    }
    cas.seeded = cli_has(args, OPT_MOCK_SEED);
    cas.seed = (uint64_t)cli_get_num(args, OPT_MOCK_SEED, 0);
    cas_seeded_clock = 0;
    if (cas.seeded) {
        const char *sde = getenv("SOURCE_DATE_EPOCH");
        cas_seeded_clock = sde && *sde ? cas_clock() : (time_t)(MOCK_SEED_EPOCH_MS / 1000);
    }
    if (use_cas) {
        cas_dir = cli_get(args, OPT_CASSETTES);
        if (!cas_dir) {
            /* Next to the first case file: cases/tasks.yaml -> cases/cassettes. */
            const char *first = plan.cases[0]->file, *slash = strrchr(first, '/');
            snprintf(cas_dir_buf, sizeof(cas_dir_buf), "%.*s%scassettes",
                     slash ? (int)(slash - first) : 0, first, slash ? "/" : "");
            cas_dir = cas_dir_buf;
        }
        cas.fields = redact_fields;
        cas.nfields = values_of(args, OPT_REDACT, redact_fields, CLI_MAX_VALUES);
        cas_spec_sha(schemas, cas.spec_sha256);
        if (cas_run_init(&cas, &plan, cas_dir, &err)) {
            cli_report_error(&err);
            goto cleanup;
        }
        for (size_t i = 0; i < cas.nfiles; i++) {
            struct cas_file *f = &cas.files[i];
            if (cas.mode == CASSETTE_RECORD_NONE && access(f->path, F_OK) != 0) {
                cli_error("%s: no cassette for %s (record it with --record-mode once)", f->path,
                          f->case_file);
                goto cleanup;
            }
        }
    }
    bool offline = use_cas && cas.mode == CASSETTE_RECORD_NONE;
    if (cas.seeded && use_cas && !offline && jobs > 1)
        fprintf(stderr,
                "ingestcheck: note: with -j %ld the cases share the seeded mock in an "
                "order that varies; record with -j 1 for reproducible cassettes\n",
                jobs);

    /* Target and credentials. */
    const char *app_id = cli_get(args, OPT_APP_ID);
    const char *api_key = cli_get(args, OPT_API_KEY);
    if (!app_id)
        app_id = getenv("ALGOLIA_APPLICATION_ID");
    if (!api_key)
        api_key = getenv("ALGOLIA_API_KEY");
    if (offline) {
        /* Replay only: no mock, no name resolution, no socket. The
         * credentials only take part in matching, as placeholders. */
        if (!base_url)
            base_url = CAS_MOCK_BASE;
        if (!app_id)
            app_id = "REPLAYAPPID";
        if (!api_key)
            api_key = "replay-api-key";
    } else if (!base_url) {
        struct mock_options mo = {.schemas_dir = schemas,
                                  .app_id = app_id,
                                  .api_key = api_key,
                                  .seeded = cas.seeded,
                                  .seed = cas.seed,
                                  .run_stage_ms = cas.seeded ? CAS_SEEDED_RUN_STAGE_MS : 0};
        mock = mock_server_create(&mo, &err);
        if (!mock) {
            cli_error("cannot start the embedded mock: %s", err.message);
            goto cleanup;
        }
        base_url = mock_server_url(mock);
        app_id = mock_api_app_id(mock_server_api(mock));
        api_key = mock_api_api_key(mock_server_api(mock));
        if (use_cas) {
            /* Recordings name a fixed host, not the mock's ephemeral port. */
            cas.mock_url = base_url;
            base_url = CAS_MOCK_BASE;
        }
    } else if (!app_id || !api_key) {
        cli_error("credentials needed for %s: set ALGOLIA_APPLICATION_ID and ALGOLIA_API_KEY "
                  "(or --app-id and --api-key)",
                  base_url);
        goto cleanup;
    }
    if (use_cas) {
        cas.app_id = app_id;
        cas.api_key = api_key;
        for (size_t i = 0; i < cas.nfiles; i++) {
            if (cas_open(&cas, &cas.files[i], &err)) {
                cli_report_error(&err);
                goto cleanup;
            }
        }
    }
    if (!offline) {
        if (http_global_init(&err)) {
            cli_report_error(&err);
            goto cleanup;
        }
        http_ready = true;
    }

    struct http_options hopts = {
        .timeout_ms = cli_get_num(args, OPT_TIMEOUT, 0),
        .retries = (int)cli_get_num(args, OPT_RETRIES, 0),
        .insecure = cli_has(args, OPT_INSECURE),
        .cacert = cli_get(args, OPT_CACERT),
    };
    struct console con = {
        .opts = {.color = cli_color(args), .timings = cli_has(args, OPT_TIMINGS)},
        .tty =
            isatty(STDOUT_FILENO) && !getenv("CI") && !(getenv("NO_COLOR") && *getenv("NO_COLOR")),
        .quiet = cli_has(args, CLI_OPT_QUIET),
    };
    struct run_config cfg = {
        .base_url = base_url,
        .app_id = app_id,
        .api_key = api_key,
        .run_id = cli_get(args, OPT_RUN_ID) ? cli_get(args, OPT_RUN_ID)
                  : use_cas                 ? cas_recorded_run_id(&cas)
                                            : NULL,
        .jobs = (unsigned)jobs,
        .transport_create = offline ? make_offline_transport : make_transport,
        .transport_user = &hopts,
        .contract = contract,
        .on_case_done = on_case_done,
        .user = &con,
    };
    struct case_template_hooks thooks = {.now = cas_now_hook, .uuid = cas_uuid_hook};
    struct run_hooks rhooks = {
        .case_begin = cas_case_begin,
        .case_end = cas_case_end,
        .step_begin = cas_step_begin,
        .skip_wait = cas_skip_wait,
        .user = &cas,
    };
    cfg.secret_fields = redact_fields;
    cfg.nsecret_fields = values_of(args, OPT_REDACT, redact_fields, CLI_MAX_VALUES);
    if (use_cas || cas.seeded)
        cfg.hooks = &thooks;
    if (use_cas) {
        cfg.run_hooks = &rhooks;
    }
    if (run_execute(&cfg, &plan, &results, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    size_t saved = 0;
    if (use_cas && cas_save_all(&cas, cas_dir, results.run_id, &saved, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    if (con.tty)
        fputs("\r\033[K", stdout);
    const char *dir = cli_get(args, OPT_REPORTS);
    if (!dir)
        dir = "reports";
    util_error_clear(&err);
    if (report_write(dir, &results, &err)) {
        cli_report_error(&err);
        goto cleanup;
    }
    report_console_summary(&out, &results, &con.opts);
    if (out.data)
        fputs(out.data, stdout);
    if (use_cas && !con.quiet) {
        size_t replayed = 0, recorded = 0;
        for (size_t i = 0; i < cas.nfiles; i++) {
            size_t a = 0, b = 0;
            if (cas.files[i].t)
                cassette_transport_counts(cas.files[i].t, &a, &b);
            replayed += a;
            recorded += b;
        }
        printf("cassettes (%s, mode %s): %zu replayed, %zu recorded, %zu file%s written\n", cas_dir,
               cassette_record_mode_name(cas.mode), replayed, recorded, saved,
               saved == 1 ? "" : "s");
    }
    fflush(stdout);
    if (results.target_error) {
        cli_error("target error: %s", results.target_message);
        goto cleanup;
    }
    exit_code = results.failed || results.errors ? CLI_EXIT_FAIL : CLI_EXIT_OK;
cleanup:
    util_buf_finish(&out);
    run_results_finish(&results);
    cas_run_finish(&cas);
    for (size_t i = 0; i < ncase_files; i++)
        free(case_files[i]);
    free(case_files);
    run_plan_finish(&plan);
    case_suite_finish(&suite);
    check_contract_destroy(contract);
    case_loader_destroy(loader);
    mock_server_destroy(mock);
    if (http_ready)
        http_global_cleanup();
    return exit_code;
}

static const struct cli_command run_command = {
    .name = "run",
    .synopsis = "[--base-url URL | --region us|eu] [-j N] [--tag T] [--exclude-tag T] "
                "[--case GLOB] [--operation ID] [--reports DIR] [--cassettes DIR] "
                "[--record-mode MODE | --replay] [--redact FIELD] [--mock-seed N] [--shard K/N] "
                "[CASES...]",
    .summary = "run contract-test cases against the embedded mock or a live server",
    .description =
        "Loads the case files (CASES: files or directories, default cases/), refusing a "
        "malformed one with file:line:column before anything runs. Each response is checked "
        "against the contract (operation, documented status, JSON content type, schema) and the "
        "case's expectations. Credentials come from ALGOLIA_APPLICATION_ID and ALGOLIA_API_KEY "
        "(or --app-id and --api-key) and are never printed. Writes junit.xml and results.json "
        "into the reports directory. With --cassettes, --record-mode or --replay, each case file "
        "records to and replays from one cassette (cases/tasks.yaml: DIR/tasks.yaml, default "
        "cases/cassettes): once records a missing cassette and replays an existing one, "
        "new_episodes replays what matches and records the rest, all re-records, none (--replay) "
        "replays only, with no socket and no name resolved; every check runs on the replayed "
        "responses. API key, application ID and secret fields are redacted from cassettes. "
        "--mock-seed makes a recording against the embedded mock reproducible (same seed and "
        "--run-id, -j 1: byte-identical cassettes). --shard K/N runs the K-th of N balanced "
        "parts of the selected cases (by the durations the cassettes recorded, else by count; "
        "give every shard the same cases and selection); `ingestcheck merge` combines the "
        "shards' reports. Exit 0 when every check passed, 1 when one failed, 2 for a usage, "
        "case-file, cassette or target error (unreachable server, TLS failure).",
    .options = run_options,
    .min_positional = 0,
    .max_positional = CLI_MAX_POSITIONAL,
    .run = run_run,
};

const struct cli_command *const cli_run_commands[] = {&run_command, NULL};
