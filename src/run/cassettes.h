/* Cassettes of a run: one cassette per case file, recorded to and replayed
 * from by `ingestcheck run` through the runner's hooks.
 *
 * cases/tasks.yaml is recorded to and replayed from DIR/tasks.yaml. Each
 * cassette has one record/replay transport for the whole run, so identical
 * requests of different cases replay in recorded order; the cases of one
 * file take turns in plan order, which makes a cassette used by one worker
 * at a time and the consumption order the same for any number of jobs.
 * {{now}} and {{uuid}} values are stored in the cassette under "now@CASE"
 * and "uuid@CASE", the run id under "run.id", and reused on replay, so a
 * replayed run sends the recorded requests. A case recorded live (not
 * against a seeded mock) also stores its duration (duration_ms@CASE), by
 * which `run --shard` balances its shards.
 *
 * Use: run_cassettes_create (before any target is started: a missing
 * cassette in replay-only mode is refused there), run_cassettes_open once
 * the target and credentials are known (loads every cassette, refusing a
 * corrupt one), run_cassettes_configure on the run_config, run_execute,
 * run_cassettes_save, run_cassettes_destroy. */
#ifndef INGESTCHECK_RUN_CASSETTES_H
#define INGESTCHECK_RUN_CASSETTES_H

#include "cassette/cassette.h"
#include "run/run.h"
#include "util/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Base URL the runner sees when recording against the embedded mock, so a
 * cassette does not depend on the mock's ephemeral port; the default base
 * URL of a replay-only run. */
#define RUN_CASSETTES_MOCK_BASE "http://mock.ingestcheck.invalid"
/* With a seeded mock, a run stays this long (of the mock's logical clock,
 * one second per request) in each stage, so that the suite sees a new run
 * as `created` for a few requests, as it does against the real-time mock. */
#define RUN_CASSETTES_SEEDED_RUN_STAGE_MS 5000L

struct run_cassettes_options {
    /* false: no cassette at all; the session only provides the seeded
     * {{now}} clock (with seeded). */
    bool enabled;
    /* The cassette directory; NULL: "cassettes" next to the plan's first
     * case file (cases/tasks.yaml -> cases/cassettes). */
    const char *dir;
    enum cassette_record_mode mode;
    /* More JSON member names to redact (--redact), borrowed. */
    const char *const *redact_fields;
    size_t nredact_fields;
    /* The userinfo of the base URL ("user:password", borrowed), or NULL:
     * its password is redacted as the API key is. */
    const char *userinfo;
    /* --run-id, or NULL (borrowed). Re-recording some of a file's cases
     * keeps the others' recordings, which need the file's run id: without
     * --run-id the run takes it, with another one run_cassettes_open
     * refuses (UTIL_ERR_USAGE). */
    const char *run_id;
    /* Today's spec (check_contract_spec_sha256), written into recordings
     * and compared with the replayed ones; NULL when unknown. */
    const char *spec_sha256;
    /* A seeded mock: generated {{uuid}} values derive from seed, and
     * {{now}} is SOURCE_DATE_EPOCH when set, else seeded_epoch. */
    bool seeded;
    uint64_t seed;
    time_t seeded_epoch;
};

struct run_cassettes;

/* A session for plan (borrowed, with its cases, until destroy); o is
 * copied, its strings borrowed. In mode none, a case file with no cassette
 * is refused (UTIL_ERR_USAGE, "PATH: no cassette for FILE ..."); two case
 * files with the same cassette path too. *out is NULL on failure. */
int run_cassettes_create(const struct run_cassettes_options *o, const struct run_plan *plan,
                         struct run_cassettes **out, struct util_error *err);
/* Accepts NULL. */
void run_cassettes_destroy(struct run_cassettes *s);

/* The cassette directory in use (borrowed), NULL when not enabled. */
const char *run_cassettes_dir(const struct run_cassettes *s);

/* The path of the i-th cassette (borrowed, in plan order of the case
 * files), NULL past the last one or when not enabled. */
const char *run_cassettes_path(const struct run_cassettes *s, size_t i);

/* Loads (or creates) every cassette and its transport, with the run's
 * credentials (redacted when recording, put back for matching; borrowed)
 * and the real URL of the embedded mock behind RUN_CASSETTES_MOCK_BASE
 * (NULL when the target is not the mock). A corrupt cassette is refused
 * with file:line:column. */
int run_cassettes_open(struct run_cassettes *s, const char *app_id, const char *api_key,
                       const char *mock_url, struct util_error *err);

/* Points cfg at the session: template hooks ({{now}}, {{uuid}}), the
 * runner hooks, the offline transport in mode none, the recorded run id
 * when cfg->run_id is NULL, and as secret fields --redact plus every field
 * a loaded cassette redacted (a replay masks them in its reports without
 * --redact repeated). s must outlive run_execute. */
void run_cassettes_configure(struct run_cassettes *s, struct run_config *cfg);

/* Saves every cassette that recorded something (all of them in mode all)
 * atomically, with run_id, the recording time, the ingestcheck version and
 * the spec's SHA-256; *saved counts the files written. A file that cannot
 * be written does not stop the others: err then says "cassette not saved:
 * PATH: why" of the first one, and each file's written flag tells. */
int run_cassettes_save(struct run_cassettes *s, const char *run_id, size_t *saved,
                       struct util_error *err);

/* Requests answered from the cassettes and requests recorded, in total. */
void run_cassettes_counts(const struct run_cassettes *s, size_t *replayed, size_t *recorded);

/* Adds the cassettes to r (after run_cassettes_save): mode, today's spec
 * and per file its path, the spec it was recorded against and whether that
 * differs from today's, its counters, whether it was written. */
int run_cassettes_report(const struct run_cassettes *s, struct run_results *r,
                         struct util_error *err);

/* The one-line warning for a cassette recorded against another spec than
 * today's, into buf (size bytes): "PATH: recorded against spec sha256
 * 0123456789ab..., today's is 49db3fa29c5a...: its responses were
 * re-checked against today's schemas". */
void run_cassettes_spec_warning(const char *path, const char *recorded, const char *today,
                                char *buf, size_t size);

#endif
