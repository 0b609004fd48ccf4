/* The generator: layout, determinism, the committed schemas/ (the
 * `schemas check` gate), overlap detection, derived schemas, examples,
 * reference request samples. Needs the schema engine. */
#include "openapi/gen.h"
#include "openapi/spec.h"
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
#include <unistd.h>

#include <cmocka.h>

struct fixture {
    struct openapi *spec;
    struct openapi_files files;
    struct schema_registry *reg;
    cJSON *ops;
    cJSON *defects; /* the "defects" array of the generated defects.json */
    cJSON *doc_defects;
};

static char src_dir[4096];
static char spec_path[4096];

static const struct openapi_file *file_of(const struct fixture *f, const char *path)
{
    const struct openapi_file *x = openapi_files_find(&f->files, path);
    if (!x)
        fail_msg("no generated file %s", path);
    return x;
}

static cJSON *parse_text(const char *text)
{
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    if (json_parse(text, strlen(text), "test", &doc, &e) != UTIL_OK)
        fail_msg("bad JSON in test: %s", e.message);
    return doc;
}

static cJSON *parse_file(const struct fixture *f, const char *path)
{
    const struct openapi_file *x = file_of(f, path);
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(json_parse(x->data, x->len, path, &doc, &e), UTIL_OK);
    return doc;
}

static int setup(void **state)
{
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    if (!src)
        return -1;
    snprintf(src_dir, sizeof(src_dir), "%s", src);
    snprintf(spec_path, sizeof(spec_path), "%s/schemas/openapi/ingestion.yml", src);
    struct fixture *f = calloc(1, sizeof(*f));
    struct util_error e;
    util_error_clear(&e);
    openapi_files_init(&f->files);
    if (openapi_load(spec_path, &f->spec, &e) || openapi_generate(f->spec, &f->files, &e)) {
        fprintf(stderr, "setup: %s\n", e.message);
        return -1;
    }
    f->reg = schema_registry_create(NULL);
    if (!f->reg ||
        openapi_registry_add_files(f->reg, &f->files, OPENAPI_MEMORY_BASE_URI, &e) != UTIL_OK) {
        fprintf(stderr, "setup: %s\n", e.message);
        return -1;
    }
    const struct openapi_file *ops = openapi_files_find(&f->files, "operations.json");
    const struct openapi_file *def = openapi_files_find(&f->files, "defects.json");
    if (!ops || !def || json_parse(ops->data, ops->len, "ops", &f->ops, &e) ||
        json_parse(def->data, def->len, "defects", &f->doc_defects, &e))
        return -1;
    f->defects = cJSON_GetObjectItem(f->doc_defects, "defects");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    openapi_files_finish(&f->files);
    openapi_destroy(f->spec);
    schema_registry_destroy(f->reg);
    cJSON_Delete(f->ops);
    cJSON_Delete(f->doc_defects);
    free(f);
    return 0;
}

/* Whether text validates against file#pointer of the generated schemas. */
static bool valid_at(const struct fixture *f, const char *file, const char *pointer,
                     const char *text)
{
    char uri[2048];
    snprintf(uri, sizeof(uri), "%s%s#%s", OPENAPI_MEMORY_BASE_URI, file, pointer);
    struct schema *s = NULL;
    struct util_error e;
    util_error_clear(&e);
    if (schema_registry_lookup(f->reg, uri, &s, &e) != UTIL_OK)
        fail_msg("lookup %s: %s", uri, e.message);
    cJSON *inst = parse_text(text);
    bool ok = schema_is_valid(s, inst);
    cJSON_Delete(inst);
    return ok;
}

static bool valid_json_at(const struct fixture *f, const char *file, const char *pointer,
                          const cJSON *inst)
{
    char *s = cJSON_PrintUnformatted(inst);
    bool ok = valid_at(f, file, pointer, s);
    free(s);
    return ok;
}

/* Schema pointer of op's site inside operations.json. */
static const char *op_pointer(const struct fixture *f, const char *op, enum openapi_site site,
                              const char *key)
{
    static char buf[512];
    struct util_buf b;
    util_buf_init(&b, 4096);
    struct util_error e;
    util_error_clear(&e);
    if (openapi_operation_schema_pointer(f->ops, op, site, key, &b, &e) != UTIL_OK)
        fail_msg("pointer for %s: %s", op, e.message);
    snprintf(buf, sizeof(buf), "%s", b.data);
    util_buf_finish(&b);
    return buf;
}

static bool body_valid(const struct fixture *f, const char *op, const char *text)
{
    return valid_at(f, "operations.json", op_pointer(f, op, OPENAPI_SITE_REQUEST_BODY, NULL), text);
}

static bool response_valid(const struct fixture *f, const char *op, const char *status,
                           const char *text)
{
    return valid_at(f, "operations.json", op_pointer(f, op, OPENAPI_SITE_RESPONSE, status), text);
}

/* ---- layout ---- */

static void walk_refs(const cJSON *n, const struct fixture *f, const char *prefix, size_t *refs)
{
    for (const cJSON *k = n->child; k; k = k->next) {
        if (k->string && !strncmp(k->string, "x-", 2))
            fail_msg("extension %s left in a generated schema", k->string);
        if (k->string && (!strcmp(k->string, "example") || !strcmp(k->string, "nullable") ||
                          !strcmp(k->string, "$id")))
            fail_msg("%s left in a generated schema", k->string);
        if (k->string && !strcmp(k->string, "$ref")) {
            assert_true(cJSON_IsString(k));
            assert_int_equal(strncmp(k->valuestring, prefix, strlen(prefix)), 0);
            char path[512];
            snprintf(path, sizeof(path), "components/%s", k->valuestring + strlen(prefix));
            assert_non_null(openapi_files_find(&f->files, path));
            (*refs)++;
        }
        walk_refs(k, f, prefix, refs);
    }
}

static void test_layout(void **state)
{
    const struct fixture *f = *state;
    const cJSON *schemas = cJSON_GetObjectItem(
        cJSON_GetObjectItem(openapi_document(f->spec), "components"), "schemas");
    size_t ncomp = (size_t)cJSON_GetArraySize(schemas);
    assert_int_equal(f->files.count, ncomp + 2);
    for (size_t i = 1; i < f->files.count; i++)
        assert_true(strcmp(f->files.items[i - 1].path, f->files.items[i].path) < 0);
    size_t refs = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, schemas)
    {
        char path[512];
        snprintf(path, sizeof(path), "components/%s.json", s->string);
        const struct openapi_file *x = file_of(f, path);
        assert_true(x->len > 0 && x->data[x->len - 1] == '\n');
        cJSON *doc = parse_file(f, path);
        assert_string_equal(doc->child->string, "$schema");
        assert_string_equal(doc->child->valuestring,
                            "https://json-schema.org/draft/2020-12/schema");
        assert_string_equal(doc->child->next->string, "title");
        assert_string_equal(doc->child->next->valuestring, s->string);
        walk_refs(doc, f, "", &refs);
        cJSON_Delete(doc);
    }
    assert_true(refs > 100);
    refs = 0;
    walk_refs(f->ops, f, "components/", &refs);
    assert_true(refs > 60);
    /* Translation: example -> examples, type 'null' kept, allOf merged. */
    cJSON *d = parse_file(f, "components/Cron.json");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "examples"), 0)->valuestring,
                        "* * 1 * *");
    cJSON_Delete(d);
    d = parse_file(f, "components/Platform.json");
    const cJSON *br = cJSON_GetObjectItem(d, "oneOf");
    assert_non_null(br);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(br, 1), "type")->valuestring,
                        "null");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "default")));
    cJSON_Delete(d);
    d = parse_file(f, "components/SourceShopify.json");
    assert_null(cJSON_GetObjectItem(d, "allOf"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "properties"), "shopURL"));
    assert_non_null(
        cJSON_GetObjectItem(cJSON_GetObjectItem(d, "properties"), "collectionIDIndexing"));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(d, "additionalProperties")));
    cJSON_Delete(d);
}

static void test_determinism(void **state)
{
    const struct fixture *f = *state;
    struct openapi *spec = NULL;
    struct openapi_files again;
    struct util_error e;
    util_error_clear(&e);
    openapi_files_init(&again);
    assert_int_equal(openapi_load(spec_path, &spec, &e), UTIL_OK);
    assert_int_equal(openapi_generate(spec, &again, &e), UTIL_OK);
    assert_int_equal(again.count, f->files.count);
    for (size_t i = 0; i < again.count; i++) {
        assert_string_equal(again.items[i].path, f->files.items[i].path);
        assert_int_equal(again.items[i].len, f->files.items[i].len);
        assert_memory_equal(again.items[i].data, f->files.items[i].data, again.items[i].len);
    }
    openapi_files_finish(&again);
    openapi_destroy(spec);
}

/* The `schemas check` gate: committed schemas/ equal the generation. */
static void test_committed_schemas_are_current(void **state)
{
    const struct fixture *f = *state;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/schemas", src_dir);
    struct openapi_diff d;
    openapi_diff_init(&d);
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(openapi_files_compare(&f->files, dir, &d, &e), UTIL_OK);
    for (size_t i = 0; i < d.count; i++)
        fprintf(stderr, "schemas/%s: %s (run `ingestcheck schemas generate`)\n", d.items[i].path,
                openapi_diff_kind_name(d.items[i].kind));
    assert_int_equal(d.count, 0);
    openapi_diff_finish(&d);
}

static void test_write_and_compare(void **state)
{
    const struct fixture *f = *state;
    char tmpl[] = "/tmp/ingestcheck-spec-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    struct util_error e;
    util_error_clear(&e);
    struct openapi_diff d;
    openapi_diff_init(&d);
    /* An empty directory: everything missing. */
    assert_int_equal(openapi_files_compare(&f->files, dir, &d, &e), UTIL_OK);
    assert_int_equal(d.count, f->files.count);
    assert_int_equal(d.items[0].kind, OPENAPI_DIFF_MISSING);
    openapi_diff_finish(&d);
    assert_int_equal(openapi_files_write(&f->files, dir, &e), UTIL_OK);
    openapi_diff_init(&d);
    assert_int_equal(openapi_files_compare(&f->files, dir, &d, &e), UTIL_OK);
    assert_int_equal(d.count, 0);
    openapi_diff_finish(&d);
    /* One changed, one missing, one extra; other files are not ours. */
    char p[4400];
    snprintf(p, sizeof(p), "%s/components/Cron.json", dir);
    assert_int_equal(util_file_write_atomic(p, "{}\n", 3, &e), UTIL_OK);
    snprintf(p, sizeof(p), "%s/components/Window.json", dir);
    assert_int_equal(unlink(p), 0);
    snprintf(p, sizeof(p), "%s/components/Bogus.json", dir);
    assert_int_equal(util_file_write_atomic(p, "{}\n", 3, &e), UTIL_OK);
    snprintf(p, sizeof(p), "%s/case.schema.json", dir);
    assert_int_equal(util_file_write_atomic(p, "{}\n", 3, &e), UTIL_OK);
    openapi_diff_init(&d);
    assert_int_equal(openapi_files_compare(&f->files, dir, &d, &e), UTIL_OK);
    assert_int_equal(d.count, 3);
    assert_string_equal(d.items[0].path, "components/Bogus.json");
    assert_int_equal(d.items[0].kind, OPENAPI_DIFF_EXTRA);
    assert_string_equal(d.items[1].path, "components/Cron.json");
    assert_int_equal(d.items[1].kind, OPENAPI_DIFF_CHANGED);
    assert_string_equal(d.items[2].path, "components/Window.json");
    assert_int_equal(d.items[2].kind, OPENAPI_DIFF_MISSING);
    openapi_diff_finish(&d);
    /* Writing again restores and removes the stale file, keeps the rest. */
    assert_int_equal(openapi_files_write(&f->files, dir, &e), UTIL_OK);
    openapi_diff_init(&d);
    assert_int_equal(openapi_files_compare(&f->files, dir, &d, &e), UTIL_OK);
    assert_int_equal(d.count, 0);
    openapi_diff_finish(&d);
    assert_true(util_file_exists(p));
    /* Clean up. */
    assert_int_equal(unlink(p), 0);
    for (size_t i = 0; i < f->files.count; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, f->files.items[i].path);
        assert_int_equal(unlink(p), 0);
    }
    snprintf(p, sizeof(p), "%s/components", dir);
    assert_int_equal(rmdir(p), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- operations.json ---- */

static void test_operations_json(void **state)
{
    const struct fixture *f = *state;
    const cJSON *h = cJSON_GetObjectItem(f->ops, "spec");
    assert_string_equal(cJSON_GetObjectItem(h, "title")->valuestring, "Ingestion API");
    assert_string_equal(cJSON_GetObjectItem(h, "version")->valuestring, "1.0.0");
    assert_string_equal(cJSON_GetObjectItem(h, "sha256")->valuestring, openapi_sha256(f->spec));
    assert_string_equal(cJSON_GetObjectItem(h, "source")->valuestring, "openapi/ingestion.yml");
    const cJSON *ops = cJSON_GetObjectItem(f->ops, "operations");
    assert_int_equal(cJSON_GetArraySize(ops), 33);
    size_t i = 0, no_acl = 0, both = 0, bodies = 0;
    const cJSON *op;
    cJSON_ArrayForEach(op, ops)
    {
        const struct openapi_operation *m = openapi_operation_at(f->spec, i++);
        assert_string_equal(cJSON_GetObjectItem(op, "operationId")->valuestring, m->operation_id);
        assert_string_equal(cJSON_GetObjectItem(op, "method")->valuestring, m->method_upper);
        assert_string_equal(cJSON_GetObjectItem(op, "path")->valuestring, m->path);
        const cJSON *acl = cJSON_GetObjectItem(op, "acl");
        assert_true(cJSON_IsArray(acl));
        if (cJSON_GetArraySize(acl) == 0) {
            no_acl++;
            assert_true(cJSON_IsFalse(cJSON_GetObjectItem(op, "aclDocumented")));
        }
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(op, "parameters"))
        {
            if (cJSON_IsTrue(cJSON_GetObjectItem(p, "acceptBothForms"))) {
                both++;
                assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "explode")));
            }
        }
        const cJSON *rb = cJSON_GetObjectItem(op, "requestBody");
        if (cJSON_IsObject(rb)) {
            bodies++;
            assert_string_equal(cJSON_GetObjectItem(rb, "contentType")->valuestring,
                                "application/json");
        } else {
            assert_true(cJSON_IsNull(rb));
        }
        const cJSON *r = cJSON_GetObjectItem(op, "responses");
        assert_int_equal(cJSON_GetArraySize(r), 2);
        assert_string_equal(r->child->string, "200");
        assert_string_equal(r->child->next->string, "400");
    }
    assert_int_equal(no_acl, 3);
    assert_int_equal(both, 3);
    assert_int_equal(bodies, 12);
    /* Inline response schema translated in place (listTasksResponse). */
    assert_string_equal(op_pointer(f, "getTasks", OPENAPI_SITE_RESPONSE, "200"),
                        "/operations/20/responses/200/schema");
    assert_string_equal(op_pointer(f, "getTasks", OPENAPI_SITE_PARAMETER, "action"),
                        "/operations/20/parameters/2/schema");
    const cJSON *lt = json_pointer_get(f->ops, "/operations/20/responses/200/schema", false);
    assert_string_equal(cJSON_GetObjectItem(lt, "title")->valuestring, "listTasksResponse");
    struct util_buf b;
    util_buf_init(&b, 1024);
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(
        openapi_operation_schema_pointer(f->ops, "getTasks", OPENAPI_SITE_RESPONSE, "404", &b, &e),
        UTIL_ERR_NOTFOUND);
    assert_int_equal(openapi_operation_schema_pointer(f->ops, "getTasks", OPENAPI_SITE_REQUEST_BODY,
                                                      NULL, &b, &e),
                     UTIL_ERR_NOTFOUND);
    assert_int_equal(
        openapi_operation_schema_pointer(f->ops, "customGet", OPENAPI_SITE_RESPONSE, "200", &b, &e),
        UTIL_ERR_NOTFOUND);
    util_buf_finish(&b);
    assert_true(response_valid(f, "getTasks", "200",
                               "{\"tasks\": [], \"pagination\": {\"nbPages\": 1, \"page\": 1, "
                               "\"nbItems\": 0, \"itemsPerPage\": 10}}"));
    assert_false(response_valid(f, "getTasks", "200", "{\"tasks\": []}"));
    assert_true(response_valid(f, "getTasks", "400", "{\"message\": \"x\", \"status\": 400}"));
}

/* The CLI's path: a schemas directory on disk, looked up by file:// URI. */
static void test_registry_from_dir(void **state)
{
    (void)state;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/schemas", src_dir);
    struct schema_registry *reg = schema_registry_create(NULL);
    char *ops_uri = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(openapi_registry_add_dir(reg, dir, &ops_uri, &e), UTIL_OK);
    assert_int_equal(strncmp(ops_uri, "file:///", 8), 0);
    char uri[8192];
    snprintf(uri, sizeof(uri), "%s#/operations/20/responses/200/schema", ops_uri);
    struct schema *s = NULL;
    if (schema_registry_lookup(reg, uri, &s, &e) != UTIL_OK)
        fail_msg("%s", e.message);
    cJSON *ok = parse_text("{\"tasks\": [{\"taskID\": \"t\", \"sourceID\": \"s\", "
                           "\"destinationID\": \"d\", \"trigger\": {\"type\": \"onDemand\"}, "
                           "\"enabled\": true, \"action\": \"save\", \"createdAt\": \"x\"}], "
                           "\"pagination\": {\"nbPages\": 1, \"page\": 1, \"nbItems\": 1, "
                           "\"itemsPerPage\": 10}}");
    assert_true(schema_is_valid(s, ok));
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(ok, "tasks"), 0), "action",
                              cJSON_CreateString("upsert"));
    assert_false(schema_is_valid(s, ok));
    cJSON_Delete(ok);
    free(ops_uri);
    schema_registry_destroy(reg);
}

/* ---- overlaps ---- */

static const cJSON *find_defect(const struct fixture *f, const char *kind, const char *location)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, f->defects)
    {
        if (!strcmp(cJSON_GetObjectItem(d, "kind")->valuestring, kind) &&
            (!location || !strcmp(cJSON_GetObjectItem(d, "location")->valuestring, location)))
            return d;
    }
    return NULL;
}

static size_t count_defects(const struct fixture *f, const char *kind)
{
    size_t n = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, f->defects)
    {
        n += !strcmp(cJSON_GetObjectItem(d, "kind")->valuestring, kind);
    }
    return n;
}

static const cJSON *find_overlap(const cJSON *union_defect, const char *a, const char *b)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(union_defect, "overlaps"))
    {
        const cJSON *br = cJSON_GetObjectItem(o, "branches");
        const char *x = cJSON_GetArrayItem(br, 0)->valuestring;
        const char *y = cJSON_GetArrayItem(br, 1)->valuestring;
        if ((!strcmp(x, a) && !strcmp(y, b)) || (!strcmp(x, b) && !strcmp(y, a)))
            return o;
    }
    return NULL;
}

static void expect_overlap(const struct fixture *f, const char *u, const char *a, const char *b)
{
    char loc[256];
    snprintf(loc, sizeof(loc), "#/components/schemas/%s", u);
    const cJSON *d = find_defect(f, "overlapping-union", loc);
    if (!d)
        fail_msg("%s is not reported as an overlapping union", u);
    const cJSON *o = find_overlap(d, a, b);
    if (!o)
        fail_msg("overlap %s/%s of %s not reported", a, b, u);
}

static void test_overlaps_detected(void **state)
{
    const struct fixture *f = *state;
    expect_overlap(f, "AuthInput", "AuthAlgolia", "AuthAlgoliaInsights");
    expect_overlap(f, "SourceInput", "SourceJSON", "SourceCSV");
    expect_overlap(f, "SourceInput", "SourceBigQuery", "SourceGA4BigQueryExport");
    expect_overlap(f, "SourceUpdateInput", "SourceUpdateCommercetools", "SourceJSON");
    expect_overlap(f, "SourceUpdateInput", "SourceUpdateCommercetools", "SourceCSV");
    expect_overlap(f, "SourceUpdateInput", "SourceJSON", "SourceCSV");
    expect_overlap(f, "SourceUpdateInput", "SourceBigQuery", "SourceGA4BigQueryExport");
    static const char *const partial[] = {"AuthGoogleServiceAccountPartial",
                                          "AuthBasicPartial",
                                          "AuthAPIKeyPartial",
                                          "AuthOAuthPartial",
                                          "AuthAlgoliaPartial",
                                          "AuthAlgoliaInsightsPartial"};
    for (size_t i = 0; i < 6; i++)
        for (size_t j = i + 1; j < 6; j++)
            expect_overlap(f, "AuthInputPartial", partial[i], partial[j]);
    /* Every *Partial accepts {}: the witness of such pairs is {}. */
    const cJSON *o =
        find_overlap(find_defect(f, "overlapping-union", "#/components/schemas/AuthInputPartial"),
                     "AuthBasicPartial", "AuthAPIKeyPartial");
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(o, "example")));
    assert_null(cJSON_GetObjectItem(o, "example")->child);
    /* Disjoint unions are not reported and stay oneOf. */
    static const char *const disjoint[] = {"DestinationInput", "Trigger",  "TaskCreateTrigger",
                                           "TaskInput",        "Platform", "platformWithNone"};
    for (size_t i = 0; i < 6; i++) {
        char loc[256], path[256];
        snprintf(loc, sizeof(loc), "#/components/schemas/%s", disjoint[i]);
        assert_null(find_defect(f, "overlapping-union", loc));
        snprintf(path, sizeof(path), "components/%s.json", disjoint[i]);
        cJSON *d = parse_file(f, path);
        assert_non_null(cJSON_GetObjectItem(d, "oneOf"));
        assert_null(cJSON_GetObjectItem(d, "anyOf"));
        cJSON_Delete(d);
    }
    assert_int_equal(count_defects(f, "overlapping-union"), 4);
    /* Overlapping ones became anyOf. */
    cJSON *d = parse_file(f, "components/AuthInput.json");
    assert_null(cJSON_GetObjectItem(d, "oneOf"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "anyOf")), 6);
    cJSON_Delete(d);
    /* Independently: each reported example matches both branches. */
    const cJSON *def;
    cJSON_ArrayForEach(def, f->defects)
    {
        if (strcmp(cJSON_GetObjectItem(def, "kind")->valuestring, "overlapping-union") != 0)
            continue;
        cJSON_ArrayForEach(o, cJSON_GetObjectItem(def, "overlaps"))
        {
            const cJSON *br = cJSON_GetObjectItem(o, "branches");
            const cJSON *ex = cJSON_GetObjectItem(o, "example");
            for (int k = 0; k < 2; k++) {
                char path[256];
                snprintf(path, sizeof(path), "components/%s.json",
                         cJSON_GetArrayItem(br, k)->valuestring);
                assert_true(valid_json_at(f, path, "", ex));
            }
        }
    }
}

/* ---- derived schemas ---- */

static void test_auth_selected_by_type(void **state)
{
    const struct fixture *f = *state;
    const char *op = "createAuthentication";
    assert_true(body_valid(f, op,
                           "{\"type\": \"algolia\", \"name\": \"n\", "
                           "\"input\": {\"appID\": \"A\", \"apiKey\": \"K\"}}"));
    assert_true(body_valid(f, op,
                           "{\"type\": \"algoliaInsights\", \"name\": \"n\", "
                           "\"input\": {\"appID\": \"A\", \"apiKey\": \"K\"}}"));
    assert_true(body_valid(f, op,
                           "{\"type\": \"basic\", \"name\": \"n\", "
                           "\"input\": {\"username\": \"u\", \"password\": \"p\"}}"));
    assert_true(body_valid(f, op,
                           "{\"type\": \"apiKey\", \"name\": \"n\", "
                           "\"input\": {\"key\": \"k\"}}"));
    assert_true(body_valid(f, op,
                           "{\"type\": \"googleServiceAccount\", \"name\": \"n\", "
                           "\"input\": {\"clientEmail\": \"e\", \"privateKey\": \"k\"}}"));
    assert_true(body_valid(f, op,
                           "{\"type\": \"oauth\", \"name\": \"n\", \"platform\": null, "
                           "\"input\": {\"url\": \"u\", \"client_id\": \"i\", "
                           "\"client_secret\": \"s\"}}"));
    /* Credentials of another type. */
    assert_false(body_valid(f, op,
                            "{\"type\": \"basic\", \"name\": \"n\", "
                            "\"input\": {\"appID\": \"A\", \"apiKey\": \"K\"}}"));
    assert_false(body_valid(f, op,
                            "{\"type\": \"apiKey\", \"name\": \"n\", "
                            "\"input\": {\"username\": \"u\", \"password\": \"p\"}}"));
    assert_false(body_valid(f, op,
                            "{\"type\": \"algolia\", \"name\": \"n\", "
                            "\"input\": {\"key\": \"k\"}}"));
    /* Still invalid in general. */
    assert_false(body_valid(f, op, "{\"type\": \"algolia\", \"name\": \"n\", \"input\": {}}"));
    assert_false(body_valid(f, op, "{\"type\": \"algolia\", \"name\": \"n\"}"));
    assert_false(body_valid(f, op,
                            "{\"type\": \"kerberos\", \"name\": \"n\", "
                            "\"input\": {\"appID\": \"A\", \"apiKey\": \"K\"}}"));
    /* Responses use the *Partial variants: {} is fine, foreign fields not. */
    const char *ok = "{\"authenticationID\": \"a\", \"type\": \"algolia\", \"name\": \"n\", "
                     "\"input\": {}, \"createdAt\": \"c\"}";
    assert_true(response_valid(f, "getAuthentication", "200", ok));
    assert_true(response_valid(f, "getAuthentication", "200",
                               "{\"authenticationID\": \"a\", \"type\": \"algoliaInsights\", "
                               "\"name\": \"n\", \"input\": {\"appID\": \"A\"}, "
                               "\"createdAt\": \"c\", \"platform\": \"shopify\"}"));
    assert_false(response_valid(f, "getAuthentication", "200",
                                "{\"authenticationID\": \"a\", \"type\": \"algolia\", "
                                "\"name\": \"n\", \"input\": {\"username\": \"u\"}, "
                                "\"createdAt\": \"c\"}"));
    /* Update: type optional; when given it selects. */
    assert_true(body_valid(f, "updateAuthentication", "{\"input\": {}}"));
    assert_true(body_valid(f, "updateAuthentication",
                           "{\"type\": \"basic\", \"input\": {\"password\": \"p\"}}"));
    assert_false(body_valid(f, "updateAuthentication",
                            "{\"type\": \"basic\", \"input\": {\"apiKey\": \"p\"}}"));
}

static void test_sources_selected_by_type(void **state)
{
    const struct fixture *f = *state;
    const char *op = "createSource";
    assert_true(body_valid(f, op,
                           "{\"type\": \"json\", \"name\": \"n\", "
                           "\"input\": {\"url\": \"u\"}}"));
    assert_true(body_valid(f, op,
                           "{\"type\": \"csv\", \"name\": \"n\", "
                           "\"input\": {\"url\": \"u\", \"delimiter\": \";\"}}"));
    assert_false(body_valid(f, op,
                            "{\"type\": \"json\", \"name\": \"n\", "
                            "\"input\": {\"url\": \"u\", \"delimiter\": \";\"}}"));
    assert_true(body_valid(f, op,
                           "{\"type\": \"ga4BigqueryExport\", \"name\": \"n\", "
                           "\"input\": {\"projectID\": \"p\", \"datasetID\": \"d\", "
                           "\"tablePrefix\": \"t\"}}"));
    assert_true(body_valid(f, op,
                           "{\"type\": \"bigquery\", \"name\": \"n\", "
                           "\"input\": {\"projectID\": \"p\", \"datasetID\": \"d\"}}"));
    assert_false(body_valid(f, op,
                            "{\"type\": \"ga4BigqueryExport\", \"name\": \"n\", "
                            "\"input\": {\"projectID\": \"p\", \"datasetID\": \"d\"}}"));
    assert_false(body_valid(f, op,
                            "{\"type\": \"docker\", \"name\": \"n\", "
                            "\"input\": {\"url\": \"u\"}}"));
    /* sfcc has no variant: only the union applies (recorded as a defect). */
    assert_true(body_valid(f, op,
                           "{\"type\": \"sfcc\", \"name\": \"n\", "
                           "\"input\": {\"url\": \"u\"}}"));
    assert_false(body_valid(f, op, "{\"type\": \"sfcc\", \"name\": \"n\", \"input\": {}}"));
    const cJSON *d = find_defect(f, "unmapped-selector-value",
                                 "#/components/schemas/SourceCreate/properties/input");
    assert_non_null(d);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "values"), 0)->valuestring,
                        "sfcc");
    /* SourceUpdate has no type: plain anyOf. */
    assert_true(body_valid(f, "updateSource", "{\"input\": {\"url\": \"u\"}}"));
    assert_true(body_valid(f, "updateSource", "{\"input\": {}}"));
    assert_false(body_valid(f, "updateSource", "{\"input\": {\"bogus\": 1}}"));
}

static void test_source_shopify(void **state)
{
    const struct fixture *f = *state;
    const char *file = "components/SourceShopify.json";
    assert_true(valid_at(f, file, "", "{\"shopURL\": \"https://s.myshopify.com\"}"));
    assert_true(valid_at(f, file, "",
                         "{\"shopURL\": \"u\", \"collectionIDIndexing\": true, "
                         "\"productNamedTags\": false}"));
    assert_false(valid_at(f, file, "", "{}"));
    assert_false(valid_at(f, file, "", "{\"shopURL\": \"u\", \"bogus\": 1}"));
    assert_false(valid_at(f, file, "", "{\"shopURL\": \"u\", \"collectionIDIndexing\": 1}"));
    /* The strict allOf of the spec could not accept it: the first part rejects it. */
    assert_false(valid_at(f, "components/SourceUpdateShopify.json", "", "{\"shopURL\": \"u\"}"));
    assert_true(body_valid(f, "createSource",
                           "{\"type\": \"shopify\", \"name\": \"n\", "
                           "\"input\": {\"shopURL\": \"u\"}}"));
    const cJSON *d = find_defect(f, "allof-contradiction", "#/components/schemas/SourceShopify");
    assert_non_null(d);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(d, "rejectedBy"), 0)->valuestring,
                        "SourceUpdateShopify");
}

/* ---- examples ---- */

/* Where the example at OpenAPI pointer src is checked: file + pointer of
 * the translated schema that holds it. Computed here independently. */
static bool example_target(const struct fixture *f, const char *src, char *file, size_t fsize,
                           char *ptr, size_t psize)
{
    char name[256];
    const char *rest = NULL;
    if (sscanf(src, "/components/schemas/%255[^/]", name) == 1) {
        rest = src + strlen("/components/schemas/") + strlen(name);
        snprintf(file, fsize, "components/%s.json", name);
        snprintf(ptr, psize, "%.*s", (int)(strlen(rest) - strlen("/example")), rest);
        return true;
    }
    if (sscanf(src, "/components/parameters/%255[^/]", name) != 1)
        return false;
    rest = src + strlen("/components/parameters/") + strlen(name);
    char def[512];
    snprintf(def, sizeof(def), "/components/parameters/%s", name);
    for (size_t i = 0; i < openapi_operation_count(f->spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(f->spec, i);
        for (size_t j = 0; j < op->nparams; j++) {
            if (strcmp(op->params[j].pointer, def) != 0)
                continue;
            snprintf(file, fsize, "operations.json");
            if (!strcmp(rest, "/example")) /* parameter-level: its schema */
                snprintf(ptr, psize, "/operations/%zu/parameters/%zu/schema", i, j);
            else /* "/schema/.../example" */
                snprintf(ptr, psize, "/operations/%zu/parameters/%zu%.*s", i, j,
                         (int)(strlen(rest) - strlen("/example")), rest);
            return true;
        }
    }
    return false;
}

static void collect_examples(const cJSON *n, char *ptr, size_t len, cJSON *out)
{
    for (const cJSON *k = n->child; k; k = k->next) {
        size_t n2 = strlen(ptr);
        if (k->string) {
            /* escape ~ and / */
            char *q = ptr + n2;
            *q++ = '/';
            for (const char *p = k->string; *p; p++) {
                if (*p == '~') {
                    *q++ = '~';
                    *q++ = '0';
                } else if (*p == '/') {
                    *q++ = '~';
                    *q++ = '1';
                } else {
                    *q++ = *p;
                }
            }
            *q = '\0';
        } else {
            int idx = 0;
            for (const cJSON *c = n->child; c != k; c = c->next)
                idx++;
            snprintf(ptr + n2, len - n2, "/%d", idx);
        }
        if (k->string && !strcmp(k->string, "example"))
            cJSON_AddItemToObject(out, ptr, cJSON_Duplicate(k, 1));
        else
            collect_examples(k, ptr, len, out);
        ptr[n2] = '\0';
    }
}

static void test_examples(void **state)
{
    const struct fixture *f = *state;
    cJSON *all = cJSON_CreateObject();
    char ptr[4096] = "";
    const cJSON *comps = cJSON_GetObjectItem(openapi_document(f->spec), "components");
    strcpy(ptr, "/components");
    collect_examples(comps, ptr, sizeof(ptr), all);
    /* No examples elsewhere (paths have none inline). */
    cJSON *paths_ex = cJSON_CreateObject();
    strcpy(ptr, "/paths");
    collect_examples(cJSON_GetObjectItem(openapi_document(f->spec), "paths"), ptr, sizeof(ptr),
                     paths_ex);
    assert_int_equal(cJSON_GetArraySize(paths_ex), 0);
    cJSON_Delete(paths_ex);
    assert_true(cJSON_GetArraySize(all) >= 25);
    size_t invalid = 0;
    const cJSON *ex;
    cJSON_ArrayForEach(ex, all)
    {
        char file[512], target[1024], loc[4200];
        if (!example_target(f, ex->string, file, sizeof(file), target, sizeof(target)))
            fail_msg("no translated schema for the example at %s", ex->string);
        bool ok = valid_json_at(f, file, target, ex);
        snprintf(loc, sizeof(loc), "#%s", ex->string);
        const cJSON *d = find_defect(f, "invalid-example", loc);
        if (ok && d)
            fail_msg("valid example %s listed as a defect", loc);
        if (!ok && !d)
            fail_msg("invalid example %s is not listed in defects.json", loc);
        if (d) {
            assert_true(json_equal(cJSON_GetObjectItem(d, "example"), ex));
            assert_true(cJSON_GetObjectItem(d, "line")->valueint > 0);
            assert_non_null(strstr(cJSON_GetObjectItem(d, "reason")->valuestring, "array"));
        }
        invalid += !ok;
    }
    assert_int_equal(count_defects(f, "invalid-example"), invalid);
    /* The six array query-parameter examples written as strings. */
    assert_int_equal(invalid, 6);
    assert_non_null(
        find_defect(f, "invalid-example", "#/components/parameters/type/schema/example"));
    assert_null(find_defect(f, "invalid-example",
                            "#/components/parameters/sourceParameters_authenticationID/schema/"
                            "example"));
    cJSON_Delete(all);
}

static void test_other_defects(void **state)
{
    const struct fixture *f = *state;
    assert_int_equal(count_defects(f, "oas30-null-type"), 4);
    assert_non_null(
        find_defect(f, "oas30-null-type", "#/components/schemas/Platform/oneOf/1/type"));
    assert_non_null(find_defect(f, "oas30-null-type",
                                "#/components/schemas/CommercetoolsCustomFields/properties/"
                                "category/oneOf/1/type"));
    const cJSON *st = find_defect(f, "undocumented-statuses", NULL);
    assert_non_null(st);
    const cJSON *docd = cJSON_GetObjectItem(st, "documented");
    assert_int_equal(cJSON_GetArraySize(docd), 2);
    assert_string_equal(cJSON_GetArrayItem(docd, 0)->valuestring, "200");
    assert_string_equal(cJSON_GetArrayItem(docd, 1)->valuestring, "400");
    assert_int_equal(cJSON_GetObjectItem(st, "operationsDocumentingAll")->valueint, 33);
    assert_int_equal(count_defects(f, "missing-acl"), 3);
    assert_non_null(find_defect(f, "missing-acl", "#/paths/~11~1tasks/post"));
    assert_int_equal(count_defects(f, "implicit-explode"), 3);
    assert_non_null(find_defect(f, "implicit-explode", "#/components/parameters/eventType"));
    assert_true(count_defects(f, "null-not-in-type") >= 5);
    /* openapi_lint returns the same list. */
    cJSON *lint = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(openapi_lint(f->spec, &lint, &e), UTIL_OK);
    assert_true(json_equal(lint, f->defects));
    cJSON_Delete(lint);
}

/* ---- reference request samples ---- */

static void test_reference_samples(void **state)
{
    const struct fixture *f = *state;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/tests/data/spec/reference-samples", src_dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char id[256], path[4500];
        snprintf(id, sizeof(id), "%.*s", (int)(len - 5), de->d_name);
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        const struct openapi_operation *op = openapi_operation_find(f->spec, id);
        if (!op || !op->body)
            fail_msg("%s: no operation %s with a request body", de->d_name, id);
        cJSON *body = NULL;
        struct util_error e;
        util_error_clear(&e);
        assert_int_equal(json_load_file(path, 1u << 20, &body, &e), UTIL_OK);
        if (!valid_json_at(f, "operations.json", op_pointer(f, id, OPENAPI_SITE_REQUEST_BODY, NULL),
                           body))
            fail_msg("reference sample %s does not validate against the request schema of %s",
                     de->d_name, id);
        cJSON_Delete(body);
        n++;
    }
    closedir(d);
    /* One sample for every operation that takes a body. */
    size_t bodies = 0;
    for (size_t i = 0; i < openapi_operation_count(f->spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(f->spec, i);
        if (!op->body)
            continue;
        bodies++;
        /* The spec's own request-body examples, if any. */
        const cJSON *media = json_pointer_get(openapi_document(f->spec), op->body->pointer, false);
        const cJSON *ex = cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(media, "content"), op->body->content_type),
            "example");
        if (ex)
            assert_true(valid_json_at(
                f, "operations.json",
                op_pointer(f, op->operation_id, OPENAPI_SITE_REQUEST_BODY, NULL), ex));
    }
    assert_int_equal(n, bodies);
    assert_int_equal(n, 12);
    /* Negative control: the OAuth credentials under another type fail. */
    assert_false(body_valid(f, "createAuthentication",
                            "{\"type\": \"basic\", \"name\": \"authName\", \"input\": "
                            "{\"url\": \"http://test.oauth\", \"client_id\": \"myID\", "
                            "\"client_secret\": \"mySecret\"}}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_committed_schemas_are_current),
        cmocka_unit_test(test_write_and_compare),
        cmocka_unit_test(test_operations_json),
        cmocka_unit_test(test_registry_from_dir),
        cmocka_unit_test(test_overlaps_detected),
        cmocka_unit_test(test_auth_selected_by_type),
        cmocka_unit_test(test_sources_selected_by_type),
        cmocka_unit_test(test_source_shopify),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_other_defects),
        cmocka_unit_test(test_reference_samples),
    };
    int failed = cmocka_run_group_tests_name("generate", tests, setup, teardown);
    return failed;
}
