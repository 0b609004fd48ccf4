/* Runs the official JSON Schema Test Suite (required tests of draft2020-12
 * and draft7, draft4 for information, and the optional format tests with
 * format assertion on) against the schema engine. Failures must match
 * tests/jsts-known-failures.txt exactly. */
#include "schema/schema.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define NAME_MAX_LEN 1024

struct names {
    char **v;
    size_t n, alloc;
};

static const char *suite_dir;
static const char *known_path;

static void names_add(struct names *l, const char *s)
{
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 64;
        l->v = realloc(l->v, l->alloc * sizeof(*l->v));
        assert_non_null(l->v);
    }
    l->v[l->n] = strdup(s);
    assert_non_null(l->v[l->n]);
    l->n++;
}

static bool names_has(const struct names *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static void names_free(struct names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.json file names of dir. */
static void list_json(const char *dir, struct names *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0)
            names_add(out, e->d_name);
    }
    closedir(d);
    qsort(out->v, out->n, sizeof(*out->v), cmp_str);
}

struct tally {
    size_t total, passed;
};

/* Runs one test file; failing test names go to failures (with reasons
 * printed when verbose). */
static void run_file(const char *draft, const char *path, const char *fname,
                     enum schema_dialect dialect, bool formats, struct tally *t,
                     struct names *failures, bool verbose)
{
    struct util_error err;
    cJSON *doc = NULL;
    char remotes[4096];
    snprintf(remotes, sizeof(remotes), "%s/remotes", suite_dir);
    util_error_clear(&err);
    if (json_load_file(path, UTIL_CAP_JSON_DOCUMENT, &doc, &err) != UTIL_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, err.message);
        fail();
    }
    const cJSON *tcase;
    cJSON_ArrayForEach(tcase, doc)
    {
        const cJSON *cdesc = cJSON_GetObjectItemCaseSensitive(tcase, "description");
        const cJSON *schema_doc = cJSON_GetObjectItemCaseSensitive(tcase, "schema");
        const cJSON *tests = cJSON_GetObjectItemCaseSensitive(tcase, "tests");
        struct schema_options opts = {dialect, formats};
        struct schema_registry *reg = schema_registry_create(&opts);
        struct schema *s = NULL;
        int rc;
        assert_non_null(reg);
        util_error_clear(&err);
        rc = schema_registry_map_dir(reg, "http://localhost:1234/", remotes, &err);
        assert_int_equal(rc, UTIL_OK);
        rc = schema_registry_add(reg, NULL, schema_doc, &s, &err);
        const cJSON *test;
        cJSON_ArrayForEach(test, tests)
        {
            const cJSON *tdesc = cJSON_GetObjectItemCaseSensitive(test, "description");
            const cJSON *data = cJSON_GetObjectItemCaseSensitive(test, "data");
            bool expect = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(test, "valid"));
            char name[NAME_MAX_LEN];
            char reason[1200];
            bool pass;
            snprintf(name, sizeof(name), "%s/%s/%s/%s", draft, fname, cdesc->valuestring,
                     tdesc->valuestring);
            t->total++;
            if (rc != UTIL_OK) {
                pass = false;
                snprintf(reason, sizeof(reason), "schema rejected: %s", err.message);
            } else {
                struct schema_result res;
                struct util_error verr;
                schema_result_init(&res);
                util_error_clear(&verr);
                bool fast = schema_is_valid(s, data);
                int vrc = schema_validate(s, data, &res, &verr);
                if (vrc == UTIL_OK && res.valid != fast) {
                    pass = false;
                    snprintf(reason, sizeof(reason), "schema_validate says %s, is_valid %s",
                             res.valid ? "valid" : "invalid", fast ? "valid" : "invalid");
                } else if (vrc == UTIL_OK && !res.valid && res.count == 0) {
                    pass = false;
                    snprintf(reason, sizeof(reason), "invalid without any violation");
                } else {
                    pass = fast == expect;
                    snprintf(reason, sizeof(reason), "expected %s, got %s%s%s",
                             expect ? "valid" : "invalid", fast ? "valid" : "invalid",
                             res.count ? ": " : "", res.count ? res.items[0].message : "");
                }
                schema_result_finish(&res);
            }
            if (pass) {
                t->passed++;
            } else {
                names_add(failures, name);
                if (verbose)
                    printf("FAIL %s -- %s\n", name, reason);
            }
        }
        schema_registry_destroy(reg);
    }
    cJSON_Delete(doc);
}

static void run_required(const char *draft, enum schema_dialect dialect, struct tally *t,
                         struct names *failures, bool verbose)
{
    char dir[4096], path[8192];
    struct names files = {0};
    snprintf(dir, sizeof(dir), "%s/tests/%s", suite_dir, draft);
    list_json(dir, &files);
    for (size_t i = 0; i < files.n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files.v[i]);
        run_file(draft, path, files.v[i], dialect, false, t, failures, verbose);
    }
    names_free(&files);
}

/* Reads the known-failures list: one "name :: reason" per line, '#'
 * starts a comment line. */
static void load_known(struct names *known)
{
    char *text = NULL;
    size_t len = 0;
    struct util_error err;
    if (util_file_read(known_path, 1u << 24, &text, &len, &err) != UTIL_OK)
        return;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *sep = strstr(line, " :: ");
        if (sep)
            *sep = '\0';
        names_add(known, line);
    }
    free(text);
}

static void test_jsts(void **state)
{
    static const char *formats[] = {"date-time",    "date",
                                    "time",         "uuid",
                                    "uri",          "uri-reference",
                                    "email",        "ipv4",
                                    "ipv6",         "hostname",
                                    "duration",     "regex",
                                    "json-pointer", "relative-json-pointer"};
    static const struct {
        const char *draft;
        enum schema_dialect dialect;
        size_t expected_total;
    } drafts[] = {
        {"draft2020-12", SCHEMA_DIALECT_2020_12, 1299},
        {"draft7", SCHEMA_DIALECT_DRAFT7, 927},
    };
    struct names failures = {0}, known = {0};
    bool verbose = getenv("JSTS_VERBOSE") != NULL;
    int problems = 0;
    (void)state;
    load_known(&known);
    for (size_t d = 0; d < sizeof(drafts) / sizeof(drafts[0]); d++) {
        struct tally t = {0, 0};
        run_required(drafts[d].draft, drafts[d].dialect, &t, &failures, verbose);
        printf("%s: %zu/%zu required passed\n", drafts[d].draft, t.passed, t.total);
        if (t.total != drafts[d].expected_total)
            printf("note: the suite README gives %zu required tests for %s\n",
                   drafts[d].expected_total, drafts[d].draft);
    }
    {
        struct names d4 = {0};
        struct tally t = {0, 0};
        run_required("draft4", SCHEMA_DIALECT_DRAFT4, &t, &d4, verbose);
        printf("draft4 (informational): %zu/%zu required passed\n", t.passed, t.total);
        names_free(&d4);
    }
    for (size_t d = 0; d < sizeof(drafts) / sizeof(drafts[0]); d++) {
        for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
            char path[8192], fname[256];
            struct names ff = {0};
            struct tally t = {0, 0};
            snprintf(fname, sizeof(fname), "%s.json", formats[f]);
            snprintf(path, sizeof(path), "%s/tests/%s/optional/format/%s", suite_dir,
                     drafts[d].draft, fname);
            if (!util_file_exists(path))
                continue;
            run_file(drafts[d].draft, path, fname, drafts[d].dialect, true, &t, &ff, verbose);
            printf("%s format %s: %zu/%zu passed\n", drafts[d].draft, formats[f], t.passed,
                   t.total);
            names_free(&ff);
        }
    }
    for (size_t i = 0; i < failures.n; i++) {
        if (!names_has(&known, failures.v[i])) {
            printf("UNEXPECTED FAILURE (not in %s): %s\n", known_path, failures.v[i]);
            problems++;
        }
    }
    for (size_t i = 0; i < known.n; i++) {
        if (!names_has(&failures, known.v[i])) {
            printf("NOW PASSING (remove from %s): %s\n", known_path, known.v[i]);
            problems++;
        }
    }
    names_free(&failures);
    names_free(&known);
    assert_int_equal(problems, 0);
}

int main(void)
{
    static char known_buf[4096];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    suite_dir = getenv("JSTS_DIR");
    if (!suite_dir || !*suite_dir)
        suite_dir = getenv("JSTS_DEFAULT_DIR");
    if (!suite_dir || !util_dir_exists(suite_dir)) {
        printf("JSON Schema Test Suite not found (set JSTS_DIR); skipping\n");
        return 77;
    }
    snprintf(known_buf, sizeof(known_buf), "%s/tests/jsts-known-failures.txt", src ? src : ".");
    known_path = known_buf;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
