/* Allocation failure tests (curl's torture tests, in process): each
 * operation runs once to count its allocations (T), then again for
 * N = 1..T with allocation N failing, in two modes: "once" (only N fails,
 * later ones succeed: the recovery paths) and "sticky" (N and every later
 * one fail: the cleanup paths, with no memory to report in). Every run must
 *  - fail with UTIL_ERR_NOMEM in err, and a message (not "malformed JSON"
 *    or "invalid case file": ALLOC_FAIL_ANY_CODE=1 lists such codes
 *    instead of failing); or succeed
 *    with the same result as without failures (a failure swallowed must
 *    not change what was loaded);
 *  - free everything it allocated (alloc_fail_live() is back where it
 *    was, once the result is destroyed);
 *  - not crash; ASan/LeakSanitizer and valgrind check the rest.
 * The last N runs without a failure: the operation succeeds.
 *
 *   test_alloc_fail [OPERATION]   (case, case-loader, cassette,
 *                                  cassette-file, schema, spec, spec-diff;
 *                                  default all)
 *
 * Environment: ALLOC_FAIL_MAX_RUNS caps the runs per operation and mode
 * (N then steps through 1..T evenly; 0: every N); by default every N but
 * for the spec (see ops[] below).
 * ALLOC_FAIL_ONLY=N runs N alone (to debug it under valgrind or gdb).
 * ALLOC_FAIL_TRACE=1 prints the stack of each run's first failed
 * allocation (build with -Db_lundef=false -Dc_link_args=-rdynamic for
 * names).
 * Each operation prints its line of figures:
 *   case/once: T=1234 N=1..1234 step 1: 1234 failed (NOMEM 1200, PARSE 34), 0 succeeded */
#include "alloc_fail.h"

#include "case/case.h"
#include "cassette/cassette.h"
#include "openapi/diff.h"
#include "openapi/spec.h"
#include "schema/schema.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/error.h"
#include "util/file.h"
#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- the operations ---- */

/* One operation: run does the work and, on success, writes a fingerprint
 * of the result (computed with allocations disarmed) and frees the
 * result. Returns the code of the operation. */
struct op {
    const char *name;
    int (*run)(struct util_error *err, struct util_buf *fp);
    size_t max_runs;          /* per mode by default; 0: every N */
    size_t max_runs_valgrind; /* the same under valgrind */
};

static char *source_dir(void)
{
    const char *s = getenv("INGESTCHECK_SOURCE_DIR");
    return strdup(s ? s : ".");
}

static char *source_path(const char *rel)
{
    char *dir = source_dir();
    char *p = dir ? util_path_join(dir, rel) : NULL;
    free(dir);
    return p;
}

/* Whole files, read before arming. */
struct text {
    char *data;
    size_t len;
};

static struct text read_text(const char *rel)
{
    struct text t = {0};
    struct util_error err;
    util_error_clear(&err);
    char *path = source_path(rel);
    if (!path || util_file_read(path, UTIL_CAP_SPEC_FILE, &t.data, &t.len, &err))
        fail_msg("cannot read %s: %s", rel, err.message);
    free(path);
    return t;
}

static struct case_loader *loader;          /* for the case op */
static struct text case_text;               /* tests/data/case/valid.yaml */
static struct text cassette_text;           /* cases/cassettes/smoke.yaml */
static char *cassette_path;                 /* the same file */
static char *schemas_dir;                   /* <source>/schemas */
static struct text spec_text;               /* schemas/openapi/ingestion.yml */
static struct openapi *diff_old, *diff_new; /* that spec, and it edited (spec-diff) */

static void fp_case_file(const struct case_file *f, struct util_buf *fp)
{
    for (size_t i = 0; i < f->ncases; i++) {
        const struct case_case *k = &f->cases[i];
        util_buf_printf(fp, "case %s tags %zu vars %d\n", k->name, k->ntags,
                        cJSON_GetArraySize(k->vars));
        for (size_t j = 0; j < k->nsteps + k->nteardown; j++) {
            const struct case_step *s = j < k->nsteps ? &k->steps[j] : &k->teardown[j - k->nsteps];
            util_buf_printf(fp, " step %s %s %s captures %zu statuses %zu allow %zu until %d\n",
                            s->name, s->method, s->path_template, s->ncaptures, s->expect.nstatus,
                            s->nallow, s->has_until);
        }
    }
    char *doc = cJSON_PrintUnformatted(f->doc);
    util_buf_puts(fp, doc ? doc : "(no doc)");
    free(doc);
}

static int op_case(struct util_error *err, struct util_buf *fp)
{
    struct case_file *f = NULL;
    int rc = case_file_load_text(loader, case_text.data, case_text.len, "valid.yaml", &f, err);
    alloc_fail_disarm();
    if (rc == UTIL_OK)
        fp_case_file(f, fp);
    case_file_destroy(f);
    return rc;
}

static int op_case_loader(struct util_error *err, struct util_buf *fp)
{
    struct case_loader *l = case_loader_create_dir(schemas_dir, err);
    alloc_fail_disarm();
    if (!l)
        return err->code;
    /* The loader works: it loads the case file as the prepared one does. */
    struct case_file *f = NULL;
    struct util_error e2;
    util_error_clear(&e2);
    if (case_file_load_text(l, case_text.data, case_text.len, "valid.yaml", &f, &e2) == UTIL_OK)
        fp_case_file(f, fp);
    else
        util_buf_printf(fp, "load failed: %s", e2.message);
    case_file_destroy(f);
    case_loader_destroy(l);
    return UTIL_OK;
}

static int fp_cassette(struct cassette *c, int rc, struct util_buf *fp)
{
    alloc_fail_disarm();
    if (rc == UTIL_OK) {
        struct util_error e2;
        util_error_clear(&e2);
        util_buf_printf(fp, "%zu interactions, %zu values, %zu placeholders\n", cassette_count(c),
                        cassette_value_count(c), cassette_placeholder_count(c));
        if (cassette_save_buf(c, NULL, fp, &e2) != UTIL_OK)
            util_buf_printf(fp, "save failed: %s", e2.message);
    }
    cassette_destroy(c);
    return rc;
}

static int op_cassette(struct util_error *err, struct util_buf *fp)
{
    struct cassette *c = NULL;
    int rc = cassette_load_text(cassette_text.data, cassette_text.len, "smoke.yaml", &c, err);
    return fp_cassette(c, rc, fp);
}

static int op_cassette_file(struct util_error *err, struct util_buf *fp)
{
    struct cassette *c = NULL;
    int rc = cassette_load_file(cassette_path, &c, err);
    return fp_cassette(c, rc, fp);
}

/* A schema with what compilation and validation allocate for: $defs and
 * $ref, an anchor, patterns, formats, enums, oneOf, unevaluated*, and an
 * instance with several violations. */
static const char schema_json[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"$id\":\"https://example.test/task.json\",\"type\":\"object\","
    "\"required\":[\"taskID\",\"action\",\"trigger\"],\"unevaluatedProperties\":false,"
    "\"properties\":{\"taskID\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "\"action\":{\"$ref\":\"#/$defs/Action\"},\"name\":{\"type\":\"string\","
    "\"pattern\":\"^[a-z][a-z0-9-]{0,20}$\",\"minLength\":1},"
    "\"trigger\":{\"oneOf\":[{\"$ref\":\"#onDemand\"},{\"$ref\":\"#/$defs/Schedule\"}]},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"uniqueItems\":true,"
    "\"maxItems\":3},\"createdAt\":{\"type\":\"string\",\"format\":\"date-time\"}},"
    "\"$defs\":{\"Action\":{\"enum\":[\"replace\",\"save\",\"partial\",\"append\"]},"
    "\"OnDemand\":{\"$anchor\":\"onDemand\",\"type\":\"object\",\"required\":[\"type\"],"
    "\"properties\":{\"type\":{\"const\":\"onDemand\"}},\"additionalProperties\":false},"
    "\"Schedule\":{\"type\":\"object\",\"required\":[\"type\",\"cron\"],\"properties\":{"
    "\"type\":{\"const\":\"schedule\"},\"cron\":{\"type\":\"string\",\"pattern\":"
    "\"^(\\\\S+ ){4}\\\\S+$\"}},\"additionalProperties\":false}}}";

static const char instance_json[] =
    "{\"taskID\":\"not-a-uuid\",\"action\":\"upsert\",\"name\":\"Bad Name\","
    "\"trigger\":{\"type\":\"schedule\",\"cron\":\"* *\"},\"tags\":[\"a\",\"a\",\"b\",\"c\"],"
    "\"createdAt\":\"yesterday\",\"extra\":1}";

static int op_schema(struct util_error *err, struct util_buf *fp)
{
    struct schema_options opts = {.default_dialect = SCHEMA_DIALECT_2020_12, .check_formats = true};
    struct schema_registry *reg = schema_registry_create(&opts);
    cJSON *doc = NULL, *inst = NULL;
    struct schema *s = NULL;
    struct schema_result res;
    schema_result_init(&res);
    int rc = reg ? UTIL_OK : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = json_parse(schema_json, strlen(schema_json), "schema", &doc, err);
    if (!rc)
        rc = schema_registry_add(reg, "https://example.test/task.json", doc, &s, err);
    if (!rc)
        rc = json_parse(instance_json, strlen(instance_json), "instance", &inst, err);
    if (!rc)
        rc = schema_validate(s, inst, &res, err);
    alloc_fail_disarm();
    if (!rc) {
        util_buf_printf(fp, "valid %d, %zu violations\n", res.valid, res.count);
        for (size_t i = 0; i < res.count; i++)
            util_buf_printf(fp, "%s %s\n", res.items[i].keyword_location, res.items[i].message);
    }
    schema_result_finish(&res);
    schema_registry_destroy(reg);
    cJSON_Delete(doc);
    cJSON_Delete(inst);
    return rc;
}

static int op_spec(struct util_error *err, struct util_buf *fp)
{
    struct openapi *spec = NULL;
    int rc = openapi_load_text(spec_text.data, spec_text.len, "ingestion.yml", &spec, err);
    alloc_fail_disarm();
    if (!rc) {
        util_buf_printf(fp, "%s %s %s %zu operations\n", openapi_title(spec), openapi_version(spec),
                        openapi_sha256(spec), openapi_operation_count(spec));
        for (size_t i = 0; i < openapi_operation_count(spec); i++) {
            const struct openapi_operation *o = openapi_operation_at(spec, i);
            util_buf_printf(fp, "%s %zu params %zu responses\n", o->pointer, o->nparams,
                            o->nresponses);
        }
    }
    openapi_destroy(spec);
    return rc;
}

/* spec diff of the committed spec and an edited copy (loaded in setup). */
static int op_spec_diff(struct util_error *err, struct util_buf *fp)
{
    struct openapi_changes c;
    openapi_changes_init(&c);
    int rc = openapi_changes_compute(diff_old, diff_new, &c, err);
    cJSON *doc = rc ? NULL : openapi_changes_to_json(diff_old, diff_new, &c);
    if (!rc && !doc)
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    alloc_fail_disarm();
    if (!rc) {
        util_buf_printf(fp, "%zu changes, %zu breaking\n", c.count, c.breaking);
        for (size_t i = 0; i < c.count; i++)
            util_buf_printf(fp, "%s %s %s %s\n", c.items[i].id, c.items[i].message,
                            c.items[i].old_loc.pointer ? c.items[i].old_loc.pointer : "-",
                            c.items[i].new_loc.pointer ? c.items[i].new_loc.pointer : "-");
    }
    cJSON_Delete(doc);
    openapi_changes_finish(&c);
    return rc;
}

/* ---- the driver ---- */

static size_t max_runs(const struct op *op)
{
    const char *m = getenv("ALLOC_FAIL_MAX_RUNS");
    if (m && *m)
        return (size_t)strtoul(m, NULL, 10); /* 0: every N */
    return getenv("INGESTCHECK_UNDER_VALGRIND") ? op->max_runs_valgrind : op->max_runs;
}

struct tally {
    size_t runs, failed, succeeded;
    size_t codes[9];      /* by -code (UTIL_ERR_NOMEM -1 .. UTIL_ERR_USAGE -7), 8: other */
    char example[9][256]; /* the first message of each code */
};

static void run_mode(const struct op *op, bool sticky)
{
    const char *mode = sticky ? "sticky" : "once";
    struct util_error err;
    struct util_buf base, fp;
    util_buf_init(&base, 64u * 1024u * 1024u);
    util_buf_init(&fp, 64u * 1024u * 1024u);

    /* Baseline: no failure; T allocations. A first run warms caches
     * (locale, stdio) that a later run would otherwise count as leaks. */
    util_error_clear(&err);
    alloc_fail_arm(0, false);
    int rc = op->run(&err, &base);
    alloc_fail_disarm();
    if (rc != UTIL_OK)
        fail_msg("%s: fails without injected failures: %s", op->name, err.message);
    util_buf_reset(&base);
    long live0 = alloc_fail_live();
    alloc_fail_arm(0, false);
    rc = op->run(&err, &base);
    size_t total = alloc_fail_seen();
    alloc_fail_disarm();
    if (rc != UTIL_OK || alloc_fail_live() != live0)
        fail_msg("%s: baseline failed or leaked %ld blocks", op->name, alloc_fail_live() - live0);
    if (total == 0)
        fail_msg("%s: no allocation went through alloc_fail.c: another malloc replaced it "
                 "(under valgrind, run with --soname-synonyms=somalloc=nouserintercepts)",
                 op->name);
    /* The fingerprint buffer is allocated now, not in a counted run. */
    if (util_buf_append(&fp, base.data ? base.data : "", base.len) != UTIL_OK)
        fail_msg("out of memory");

    const char *tr = getenv("ALLOC_FAIL_TRACE");
    alloc_fail_trace(tr && *tr == '1');
    size_t cap = max_runs(op);
    size_t step = cap && total > cap ? (total + cap - 1) / cap : 1;
    struct tally t = {0};
    const char *only = getenv("ALLOC_FAIL_ONLY");
    size_t n = only && *only ? (size_t)strtoul(only, NULL, 10) : 1;
    for (;; n += step) {
        if (n > total + 1)
            n = total + 1; /* the last run: nothing left to fail */
        util_error_clear(&err);
        util_buf_reset(&fp);
        live0 = alloc_fail_live();
        alloc_fail_arm(n, sticky);
        rc = op->run(&err, &fp);
        size_t injected = alloc_fail_injected();
        alloc_fail_disarm();
        long leaked = alloc_fail_live() - live0;
        t.runs++;
        if (leaked > 0)
            fail_msg("%s/%s: N=%zu: %ld blocks not freed (rc %d: %s)", op->name, mode, n, leaked,
                     rc, err.message);
        if (rc != UTIL_OK) {
            if (!injected)
                fail_msg("%s/%s: N=%zu: failed with no failure injected: %s", op->name, mode, n,
                         err.message);
            if (err.code != rc || !err.message[0])
                fail_msg("%s/%s: N=%zu: returned %d but err.code %d, message \"%s\"", op->name,
                         mode, n, rc, err.code, err.message);
            if (rc != UTIL_ERR_NOMEM && !getenv("ALLOC_FAIL_ANY_CODE"))
                fail_msg("%s/%s: N=%zu: an allocation failure reported as %s: %s", op->name, mode,
                         n, util_status_name(rc), err.message);
            t.failed++;
            int c = rc < 0 && rc >= UTIL_ERR_USAGE ? -rc : 8;
            if (!t.codes[c]++)
                snprintf(t.example[c], sizeof(t.example[c]), "N=%zu: %.200s", n, err.message);
        } else {
            t.succeeded++;
            if (fp.len != base.len || memcmp(fp.data, base.data, base.len) != 0)
                fail_msg("%s/%s: N=%zu: succeeded despite %zu failed allocations, with another "
                         "result:\n%.2000s\n---- expected:\n%.2000s",
                         op->name, mode, n, injected, fp.data ? fp.data : "",
                         base.data ? base.data : "");
        }
        if (only && *only)
            break;
        if (!injected) {
            if (rc != UTIL_OK)
                fail_msg("%s/%s: N=%zu: no failure but rc %d", op->name, mode, n, rc);
            break;
        }
        if (n == total + 1)
            fail_msg("%s/%s: N=%zu: more allocations than the baseline's %zu", op->name, mode, n,
                     total);
    }
    char codes[256] = "";
    size_t len = 0;
    for (int c = 1; c <= 8; c++) {
        if (!t.codes[c])
            continue;
        int w = snprintf(codes + len, sizeof(codes) - len, "%s%s %zu", len ? ", " : "",
                         c < 8 ? util_status_name(-c) : "other", t.codes[c]);
        if (w > 0 && (size_t)w < sizeof(codes) - len)
            len += (size_t)w;
    }
    printf("%s/%s: T=%zu N=1..%zu step %zu: %zu runs, %zu failed (%s), %zu succeeded, 0 leaks\n",
           op->name, mode, total, n, step, t.runs, t.failed, codes, t.succeeded);
    for (int c = 2; c <= 8; c++)
        if (t.codes[c])
            printf("  not \"out of memory\": %s\n", t.example[c]);
    fflush(stdout);
    util_buf_finish(&base);
    util_buf_finish(&fp);
}

static void run_op(void **state)
{
    const struct op *op = *state;
    run_mode(op, false);
    run_mode(op, true);
}

/* The spec makes about 30 000 allocations: every N would take ten
 * minutes, so by default N steps through them in 2000 runs
 * (ALLOC_FAIL_MAX_RUNS=0 runs them all); under valgrind, 1500 runs (400
 * for the spec) keep each test within a few minutes. Not const: cmocka's
 * state is a void *. */
static struct op ops[] = {
    {"case", op_case, 0, 1500},
    {"case-loader", op_case_loader, 0, 1500},
    {"cassette", op_cassette, 0, 1500},
    {"cassette-file", op_cassette_file, 0, 1500},
    {"schema", op_schema, 0, 1500},
    {"spec", op_spec, 2000, 400},
    {"spec-diff", op_spec_diff, 2000, 400},
};

static int setup(void **state)
{
    (void)state;
    struct util_error err;
    util_error_clear(&err);
    schemas_dir = source_path("schemas");
    cassette_path = source_path("cases/cassettes/smoke.yaml");
    case_text = read_text("tests/data/case/valid.yaml");
    cassette_text = read_text("cases/cassettes/smoke.yaml");
    spec_text = read_text("schemas/openapi/ingestion.yml");
    /* spec-diff: the spec against a copy with two operations renamed and
     * the first integer made a number (edits of equal length). */
    char *edited = malloc(spec_text.len + 1);
    if (!edited)
        fail_msg("out of memory");
    memcpy(edited, spec_text.data, spec_text.len);
    edited[spec_text.len] = '\0';
    static const char *const edits[][2] = {
        {"operationId: getTasks\n", "operationId: getTaskz\n"},
        {"operationId: getDockerSourceStreams", "operationId: getDockerSourceStreamz"},
        {"type: integer", "type: number "},
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char *at = strstr(edited, edits[i][0]);
        if (!at)
            fail_msg("spec-diff: '%s' is not in the spec", edits[i][0]);
        memcpy(at, edits[i][1], strlen(edits[i][1]));
    }
    if (openapi_load_text(spec_text.data, spec_text.len, "old.yml", &diff_old, &err) ||
        openapi_load_text(edited, spec_text.len, "new.yml", &diff_new, &err))
        fail_msg("spec-diff: %s", err.message);
    free(edited);
    loader = case_loader_create_dir(schemas_dir, &err);
    if (!loader)
        fail_msg("case_loader_create: %s", err.message);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    case_loader_destroy(loader);
    openapi_destroy(diff_old);
    openapi_destroy(diff_new);
    free(case_text.data);
    free(cassette_text.data);
    free(spec_text.data);
    free(cassette_path);
    free(schemas_dir);
    return 0;
}

int main(int argc, char **argv)
{
    struct CMUnitTest tests[sizeof(ops) / sizeof(ops[0])];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (argc > 1 && strcmp(argv[1], ops[i].name) != 0)
            continue;
        struct CMUnitTest t = {ops[i].name, run_op, NULL, NULL, &ops[i]};
        tests[n++] = t;
    }
    if (n == 0) {
        fprintf(stderr, "test_alloc_fail: no operation %s\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    return _cmocka_run_group_tests("alloc_fail", tests, n, setup, teardown);
}
