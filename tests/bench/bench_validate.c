/* Benchmark: parse and validate a listTasksResponse-shaped document (the
 * 200 response of getTasks) with the derived schemas.
 *
 *   bench_validate --schemas DIR --doc FILE [--generate] [--size BYTES]
 *                  [--iterations N] [--operation ID]
 *
 * --generate writes FILE first: a deterministic document of about BYTES
 * bytes (default 5000000) holding thousands of Task objects with every Task
 * property filled, triggers and inputs varied over the oneOf variants, and
 * a pagination object. The schemas are DIR/components/<Name>.json and
 * DIR/operations.json; the schema used is
 * operations[i].responses["200"].schema of the operation ID (default
 * getTasks), looked up by fragment in file://<abs DIR>/operations.json.
 *
 * Compiles once, then times json_parse (the tree's deletion is not timed),
 * schema_is_valid and schema_validate, N times each after one warm-up, and
 * prints the medians with MB/s (1 MB = 10^6 bytes). The document must be
 * valid: the program fails, printing the first violations, when it is not.
 * The last line, starting with '#', is for tests/bench/validate. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath */
#endif

#include "schema/schema.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/error.h"
#include "util/file.h"
#include "json/json.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- deterministic document generator ----------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static uint32_t rnd_below(uint32_t n)
{
    return rnd() % n;
}

#define PICK(arr) ((arr)[rnd_below((uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

static void make_uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            out[i] = '-';
            continue;
        }
        uint32_t v = rnd_below(16);
        if (i == 14)
            v = 4; /* version 4 */
        else if (i == 19)
            v = 8 + (v & 3); /* RFC 4122 variant */
        out[i] = hex[v];
    }
    out[36] = '\0';
}

/* RFC 3339 timestamp, UTC, up to range seconds after base; returns it. */
static time_t make_time(char out[64], time_t base, uint32_t range)
{
    time_t t = base + (time_t)rnd_below(range);
    struct tm tm;
    gmtime_r(&t, &tm);
    if (rnd_below(4) == 0)
        snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd_below(1000));
    else
        strftime(out, 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return t;
}

#define DAY 86400u
#define YEAR (365u * DAY)

static const char *const crons[] = {"0 * * * *",  "*/15 * * * *", "0 3 * * *",
                                    "30 2 * * 1", "0 0 1 * *",    "5 4 * * sun"};
static const char *const actions[] = {"replace", "save", "partial", "append"};
static const char *const field_keys[] = {"objectID", "title",    "description", "price",
                                         "brand",    "category", "image_url",   "stock"};
static const char *const sources[] = {
    "$.sku",    "$.name",         "$.body_html",     "$.variants[0]",
    "$.vendor", "$.product_type", "$.images[0].src", "$.inventory_quantity"};
static const char *const transforms[] = {"lowercase", "trim", "toNumber", "stripHtml", "none"};
static const char *const namespaces[] = {"custom", "global", "reviews", "seo", "shipping"};
static const char *const mf_keys[] = {"color", "rating", "material", "care_guide", "weight"};
static const char *const mf_values[] = {"Bleu marine",    "4.7",     "Coton bio 100 %",
                                        "Lavage à 30 °C", "1.25 kg", "Crème brûlée"};
static const char *const countries[] = {"US", "CA", "FR", "DE", "GB", "JP", "BR", "AU"};
static const char *const currencies[] = {"USD", "CAD", "EUR", "GBP", "JPY", "BRL", "AUD"};
static const char *const locales[] = {"en-US", "en-CA", "fr-FR", "de-DE", "en-GB", "ja-JP"};

static void put_string_array(struct util_buf *b, const char *const *items, size_t n_items,
                             uint32_t count)
{
    util_buf_putc(b, '[');
    uint32_t start = rnd_below((uint32_t)n_items);
    for (uint32_t i = 0; i < count; i++)
        util_buf_printf(b, "%s\"%s\"", i ? "," : "", items[(start + i) % n_items]);
    util_buf_putc(b, ']');
}

static void put_mapping(struct util_buf *b)
{
    uint32_t n_actions = 1 + rnd_below(3);
    util_buf_puts(b, "{\"format\":\"mappingkit/v1\",\"actions\":[");
    /* One random draw per statement: the order in which a call's arguments
     * are evaluated is unspecified, and the document must not depend on the
     * compiler. */
    for (uint32_t a = 0; a < n_actions; a++) {
        const char *enabled = rnd_below(5) ? "true" : "false";
        uint32_t price = rnd_below(200);
        util_buf_printf(b,
                        "%s{\"id\":\"action-%u\",\"enabled\":%s,\"trigger\":"
                        "\"record.inStock == true && record.price > %u\",\"fieldDirectives\":[",
                        a ? "," : "", a + 1, enabled, price);
        uint32_t n_dir = 2 + rnd_below(3);
        for (uint32_t d = 0; d < n_dir; d++) {
            const char *key = PICK(field_keys);
            const char *src = PICK(sources);
            const char *tr = PICK(transforms);
            uint32_t w = rnd_below(200);
            util_buf_printf(b,
                            "%s{\"fieldKey\":\"%s\",\"value\":{\"source\":\"%s\","
                            "\"transform\":\"%s\",\"default\":null,\"weight\":%u.%02u}}",
                            d ? "," : "", key, src, tr, w / 100, w % 100);
        }
        util_buf_puts(b, "]}");
    }
    util_buf_puts(b, "]}");
}

static void put_shopify_input(struct util_buf *b)
{
    uint32_t n_mf = 1 + rnd_below(4);
    util_buf_puts(b, "\"input\":{\"metafields\":[");
    for (uint32_t m = 0; m < n_mf; m++) {
        const char *ns = PICK(namespaces);
        const char *key = PICK(mf_keys);
        const char *value = PICK(mf_values);
        util_buf_printf(b, "%s{\"namespace\":\"%s\",\"key\":\"%s\",\"value\":\"%s\"}", m ? "," : "",
                        ns, key, value);
    }
    util_buf_puts(b, "],\"market\":{\"countries\":");
    put_string_array(b, countries, sizeof countries / sizeof countries[0], 1 + rnd_below(4));
    util_buf_puts(b, ",\"currencies\":");
    put_string_array(b, currencies, sizeof currencies / sizeof currencies[0], 1 + rnd_below(3));
    util_buf_puts(b, ",\"locales\":");
    put_string_array(b, locales, sizeof locales / sizeof locales[0], 1 + rnd_below(3));
    util_buf_puts(b, "}},");
}

/* One Task with every property of the Task schema. The trigger cycles over
 * the four Trigger variants; the input is a TaskInput variant that fits it:
 * onDemand -> OnDemandDateUtilsInput, schedule -> ScheduleDateUtilsInput or
 * ShopifyInput, subscription -> ShopifyInput, streaming -> StreamingUtilsInput. */
static void put_task(struct util_buf *b, uint32_t i, char source_ids[][37], char dest_ids[][37])
{
    const time_t base = 1672531200; /* 2023-01-01T00:00:00Z: created in 2023 */
    char id[37], t1[64], t2[64];
    make_uuid(id);
    const char *source = source_ids[rnd_below(64)];
    const char *dest = dest_ids[rnd_below(16)];
    util_buf_printf(b, "{\"taskID\":\"%s\",\"sourceID\":\"%s\",\"destinationID\":\"%s\",", id,
                    source, dest);

    switch (i % 4) {
    case 0:
        make_time(t1, base + YEAR, YEAR);
        util_buf_printf(b, "\"trigger\":{\"type\":\"onDemand\",\"lastRun\":\"%s\"},", t1);
        make_time(t2, make_time(t1, base, 2 * YEAR), 90 * DAY);
        util_buf_printf(b, "\"input\":{\"startDate\":\"%s\",\"endDate\":\"%s\"", t1, t2);
        if (rnd_below(2)) {
            util_buf_puts(b, ",\"mapping\":");
            put_mapping(b);
        }
        util_buf_puts(b, "},");
        break;
    case 1: {
        const char *cron = PICK(crons);
        make_time(t2, make_time(t1, base + YEAR, YEAR), 7 * DAY);
        util_buf_printf(b,
                        "\"trigger\":{\"type\":\"schedule\",\"cron\":\"%s\",\"lastRun\":\"%s\","
                        "\"nextRun\":\"%s\"},",
                        cron, t1, t2);
        if (rnd_below(3) == 0) {
            put_shopify_input(b);
            break;
        }
        util_buf_printf(b, "\"input\":{\"timeframe\":%u", 1 + rnd_below(30));
        if (rnd_below(2)) {
            util_buf_puts(b, ",\"mapping\":");
            put_mapping(b);
        }
        util_buf_puts(b, "},");
        break;
    }
    case 2:
        util_buf_puts(b, "\"trigger\":{\"type\":\"subscription\"},");
        put_shopify_input(b);
        break;
    default:
        util_buf_puts(b, "\"trigger\":{\"type\":\"streaming\"},\"input\":{\"mapping\":");
        put_mapping(b);
        util_buf_puts(b, "},");
        break;
    }
    const char *enabled = rnd_below(5) ? "true" : "false";
    uint32_t threshold = rnd_below(101);
    const char *action = PICK(actions);
    make_time(t2, make_time(t1, base, YEAR), YEAR);
    util_buf_printf(b,
                    "\"enabled\":%s,\"failureThreshold\":%u,\"action\":\"%s\",\"createdAt\":"
                    "\"%s\",\"updatedAt\":\"%s\"}",
                    enabled, threshold, action, t1, t2);
}

static int generate(const char *path, size_t target, struct util_error *err)
{
    struct util_buf b;
    char source_ids[64][37], dest_ids[16][37];
    util_buf_init(&b, UTIL_CAP_JSON_DOCUMENT);
    rng_state = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 64; i++)
        make_uuid(source_ids[i]);
    for (int i = 0; i < 16; i++)
        make_uuid(dest_ids[i]);
    util_buf_puts(&b, "{\"tasks\":[");
    uint32_t n = 0;
    while (b.len < target) {
        if (n)
            util_buf_putc(&b, ',');
        put_task(&b, n, source_ids, dest_ids);
        n++;
    }
    int rc = util_buf_printf(&b,
                             "],\"pagination\":{\"nbPages\":%u,\"page\":1,\"nbItems\":%u,"
                             "\"itemsPerPage\":100}}\n",
                             (n + 99) / 100, n);
    if (rc != UTIL_OK) {
        util_buf_finish(&b);
        return util_error_set(err, rc, "generating the document: %s", util_status_name(rc));
    }
    rc = util_file_write_atomic(path, b.data, b.len, err);
    util_buf_finish(&b);
    return rc;
}

/* ---- schemas ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    const char *const *x = a;
    const char *const *y = b;
    return strcmp(*x, *y);
}

/* Adds every DIR/components/ *.json file to the registry (name order). */
static int add_components(struct schema_registry *reg, const char *dir, size_t *count,
                          struct util_error *err)
{
    char *cdir = util_path_join(dir, "components");
    if (!cdir)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    DIR *d = opendir(cdir);
    if (!d) {
        util_error_set(err, UTIL_ERR_IO, "%s: cannot open the directory", cdir);
        free(cdir);
        return UTIL_ERR_IO;
    }
    char **names = NULL;
    size_t n = 0, alloc = 0;
    int rc = UTIL_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 256;
            char **nn = realloc(names, na * sizeof *nn);
            if (!nn) {
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
                break;
            }
            names = nn;
            alloc = na;
        }
        if (!(names[n] = util_path_join(cdir, e->d_name))) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == UTIL_OK && n == 0)
        rc = util_error_set(err, UTIL_ERR_NOTFOUND, "%s: no *.json schema", cdir);
    if (rc == UTIL_OK)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == UTIL_OK; i++)
        rc = schema_registry_add_file(reg, names[i], NULL, err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(cdir);
    *count = n;
    return rc;
}

static bool op_matches(const cJSON *op, const char *id)
{
    static const char *const keys[] = {"operationId", "operation_id", "id", "name"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, keys[i]);
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
            return true;
    }
    return false;
}

/* Loads the schemas and finds the 200 response schema of operation op_id. */
static int load_schema(struct schema_registry *reg, const char *dir, const char *op_id,
                       struct schema **out, size_t *n_components, struct util_error *err)
{
    char *ops_path = util_path_join(dir, "operations.json");
    char *abs = NULL;
    cJSON *ops = NULL;
    struct util_buf uri;
    util_buf_init(&uri, 8192);
    int rc = ops_path ? UTIL_OK : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    if (rc == UTIL_OK)
        rc = add_components(reg, dir, n_components, err);
    if (rc == UTIL_OK)
        rc = json_load_file(ops_path, UTIL_CAP_SCHEMA_FILE, &ops, err);
    if (rc == UTIL_OK)
        rc = schema_registry_add_file(reg, ops_path, NULL, err);
    if (rc != UTIL_OK)
        goto out;

    const cJSON *list = cJSON_GetObjectItemCaseSensitive(ops, "operations");
    int index = -1, i = 0;
    const cJSON *op;
    cJSON_ArrayForEach(op, list)
    {
        if (op_matches(op, op_id)) {
            index = i;
            break;
        }
        i++;
    }
    if (index < 0) {
        rc = util_error_set(err, UTIL_ERR_NOTFOUND, "%s: no operation %s in \"operations\"",
                            ops_path, op_id);
        goto out;
    }
    const cJSON *schema = json_pointer_get(op, "/responses/200/schema", false);
    if (!schema) {
        rc = util_error_set(err, UTIL_ERR_NOTFOUND, "%s: operation %s has no responses.200.schema",
                            ops_path, op_id);
        goto out;
    }
    /* The base URI: the document's $id, else file:// + the absolute path. */
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ops, "$id");
    if (cJSON_IsString(id)) {
        util_buf_puts(&uri, id->valuestring);
    } else {
        abs = realpath(ops_path, NULL);
        if (!abs) {
            rc = util_error_set(err, UTIL_ERR_IO, "%s: cannot resolve the path", ops_path);
            goto out;
        }
        util_buf_printf(&uri, "file://%s", abs);
    }
    rc = util_buf_printf(&uri, "#/operations/%d/responses/200/schema", index);
    if (rc == UTIL_OK)
        rc = schema_registry_lookup(reg, uri.data, out, err);
out:
    cJSON_Delete(ops);
    free(ops_path);
    free(abs);
    util_buf_finish(&uri);
    return rc;
}

/* ---- timing ------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *what, double ms, double mb)
{
    printf("ingestcheck %s: median %.2f ms (%.1f MB/s)\n", what, ms, mb / (ms / 1e3));
}

static void print_violations(const struct schema_result *res)
{
    for (size_t i = 0; i < res->count && i < 10; i++)
        fprintf(stderr, "  %s (at %s)\n", res->items[i].message, res->items[i].keyword_location);
    if (res->count > 10)
        fprintf(stderr, "  ... %zu violations in all\n", res->count);
}

static void usage(FILE *f, const char *prog)
{
    fprintf(f,
            "usage: %s --schemas DIR --doc FILE [--generate] [--size BYTES] "
            "[--iterations N] [--operation ID]\n",
            prog);
}

int main(int argc, char **argv)
{
    const char *schemas_dir = NULL, *doc_path = NULL, *op_id = "getTasks";
    bool gen = false;
    size_t size = 5000000;
    int iterations = 15;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--generate") == 0) {
            gen = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout, argv[0]);
            return 0;
        } else if (v && strcmp(a, "--schemas") == 0) {
            schemas_dir = v;
            i++;
        } else if (v && strcmp(a, "--doc") == 0) {
            doc_path = v;
            i++;
        } else if (v && strcmp(a, "--operation") == 0) {
            op_id = v;
            i++;
        } else if (v && strcmp(a, "--size") == 0) {
            size = (size_t)strtoull(v, NULL, 10);
            i++;
        } else if (v && (strcmp(a, "--iterations") == 0 || strcmp(a, "-n") == 0)) {
            iterations = atoi(v);
            i++;
        } else {
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (!schemas_dir || !doc_path || iterations < 1 || size == 0 ||
        size > UTIL_CAP_JSON_DOCUMENT / 2) {
        usage(stderr, argv[0]);
        return 2;
    }

    struct util_error err;
    util_error_clear(&err);
    if (gen && generate(doc_path, size, &err) != UTIL_OK) {
        fprintf(stderr, "bench_validate: %s\n", err.message);
        return 1;
    }
    char *text = NULL;
    size_t len = 0;
    if (util_file_read(doc_path, UTIL_CAP_JSON_DOCUMENT, &text, &len, &err) != UTIL_OK) {
        fprintf(stderr, "bench_validate: %s\n", err.message);
        return 1;
    }
    const double mb = (double)len / 1e6;
    int status = 1;
    struct schema_registry *reg = NULL;
    cJSON *doc = NULL;
    double *t = calloc((size_t)iterations, sizeof *t);
    if (!t) {
        fprintf(stderr, "bench_validate: out of memory\n");
        goto out;
    }

    /* The tree that is validated is parsed first, once, as a program that
     * validates a document does. Taking the last tree of the parse loop
     * instead would time validation over nodes scattered by the loop's
     * parse/delete cycles (malloc reuses the freed chunks out of order):
     * a pure walk of that tree alone costs several times more. */
    if (json_parse(text, len, doc_path, &doc, &err) != UTIL_OK) {
        fprintf(stderr, "bench_validate: %s\n", err.message);
        goto out;
    }
    /* Parse: one warm-up, then N timed runs; the deletion is not timed. */
    for (int i = -1; i < iterations; i++) {
        cJSON *tree = NULL;
        double t0 = now_ms();
        if (json_parse(text, len, doc_path, &tree, &err) != UTIL_OK) {
            fprintf(stderr, "bench_validate: %s\n", err.message);
            goto out;
        }
        double t1 = now_ms();
        if (i >= 0)
            t[i] = t1 - t0;
        cJSON_Delete(tree);
    }
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(doc, "tasks");
    printf("document: %.2f MB, %d tasks\n", mb, cJSON_GetArraySize(tasks));
    double parse_ms = median(t, iterations);
    report("parse", parse_ms, mb);

    /* Compile once. */
    struct schema *s = NULL;
    size_t n_components = 0;
    double c0 = now_ms();
    reg = schema_registry_create(NULL);
    if (!reg || load_schema(reg, schemas_dir, op_id, &s, &n_components, &err) != UTIL_OK) {
        fprintf(stderr, "bench_validate: %s\n", reg ? err.message : "out of memory");
        goto out;
    }
    double compile_ms = now_ms() - c0;
    printf("ingestcheck compile (%zu component files + operations.json): %.1f ms\n", n_components,
           compile_ms);

    /* The document must be valid, else the timings measure the wrong path. */
    struct schema_result res;
    schema_result_init(&res);
    if (schema_validate(s, doc, &res, &err) != UTIL_OK || !res.valid) {
        fprintf(stderr, "bench_validate: the document is not valid (%s):\n",
                err.code ? err.message : "violations");
        print_violations(&res);
        schema_result_finish(&res);
        goto out;
    }
    schema_result_finish(&res);

    for (int i = -1; i < iterations; i++) {
        double t0 = now_ms();
        bool ok = schema_is_valid(s, doc);
        double t1 = now_ms();
        if (!ok) {
            fprintf(stderr, "bench_validate: schema_is_valid disagrees: invalid\n");
            goto out;
        }
        if (i >= 0)
            t[i] = t1 - t0;
    }
    double fast_ms = median(t, iterations);
    report("validate (is_valid)", fast_ms, mb);

    for (int i = -1; i < iterations; i++) {
        schema_result_init(&res);
        double t0 = now_ms();
        int rc = schema_validate(s, doc, &res, &err);
        double t1 = now_ms();
        bool ok = rc == UTIL_OK && res.valid;
        schema_result_finish(&res);
        if (!ok) {
            fprintf(stderr, "bench_validate: schema_validate failed on a later run\n");
            goto out;
        }
        if (i >= 0)
            t[i] = t1 - t0;
    }
    double full_ms = median(t, iterations);
    report("validate (full result)", full_ms, mb);

    printf("# ingestcheck bytes=%zu parse_mbps=%.3f is_valid_mbps=%.3f validate_mbps=%.3f "
           "iterations=%d\n",
           len, mb / (parse_ms / 1e3), mb / (fast_ms / 1e3), mb / (full_ms / 1e3), iterations);
    status = 0;
out:
    free(t);
    cJSON_Delete(doc);
    schema_registry_destroy(reg);
    free(text);
    return status;
}
