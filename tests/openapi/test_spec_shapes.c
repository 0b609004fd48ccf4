/* The generator on shapes it cannot specialise and on other revisions:
 * branch matching, unselected unions and unmerged allOfs as findings,
 * case-colliding component names, OpenAPI 3.1, refused inputs, and every
 * revision in ../shared/spec/revisions. Needs the schema engine. */
#include "openapi/gen.h"
#include "openapi/spec.h"
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

static cJSON *parse_text(const char *text)
{
    cJSON *doc = cJSON_Parse(text);
    if (!doc)
        fail_msg("bad JSON in test: %.60s", text);
    return doc;
}

static void test_branch_match(void **state)
{
    (void)state;
    /* 2024-11: the partials end in "Partial" but AuthSecrets does not. */
    char *names[] = {"AuthGoogleServiceAccountPartial",
                     "AuthAPIKeyPartial",
                     "AuthAlgoliaInsightsPartial",
                     "AuthAlgoliaPartial",
                     "AuthSecrets",
                     "AuthOAuthPartial"};
    char *values[] = {"googleServiceAccount", "apiKey", "oauth", "algolia",
                      "algoliaInsights",      "secrets"};
    size_t pick[6];
    assert_int_equal(gen_match_branches(names, 6, values, 6, pick), UTIL_OK);
    assert_int_equal(pick[0], 0);
    assert_int_equal(pick[1], 1);
    assert_int_equal(pick[2], 4);
    assert_int_equal(pick[3], 3);
    assert_int_equal(pick[4], 5);
    assert_int_equal(pick[5], 2);
    char *src[] = {"SourceGA4BigQueryExport", "SourceJSON", "SourceBigQuery"};
    char *kinds[] = {"bigquery", "ga4BigqueryExport", "json"};
    assert_int_equal(gen_match_branches(src, 3, kinds, 3, pick), UTIL_OK);
    assert_int_equal(pick[0], 1);
    assert_int_equal(pick[1], 2);
    assert_int_equal(pick[2], 0);
    /* Two branches as close to one value: neither gets it. */
    char *twins[] = {"ThingAlphaOne", "ThingAlphaTwo"};
    char *alpha[] = {"alpha"};
    assert_int_equal(gen_match_branches(twins, 2, alpha, 1, pick), UTIL_OK);
    assert_int_equal(pick[0], 1);
    assert_int_equal(pick[1], 1);
}

/* Generates from YAML text; the defects array (borrowed from *defects_doc,
 * which the caller frees) when out_defects is not NULL. */
static int gen_text(const char *y, struct openapi_files *files, cJSON **defects_doc,
                    struct util_error *e)
{
    struct openapi *spec = NULL;
    openapi_files_init(files);
    util_error_clear(e);
    int rc = openapi_load_text(y, strlen(y), "mini.yml", &spec, e);
    if (!rc)
        rc = openapi_generate(spec, files, e);
    if (!rc && defects_doc) {
        const struct openapi_file *d = openapi_files_find(files, "defects.json");
        assert_non_null(d);
        assert_int_equal(json_parse(d->data, d->len, "defects.json", defects_doc, e), UTIL_OK);
    }
    openapi_destroy(spec);
    return rc;
}

/* The defect of kind at location in a defects.json document, or NULL. */
static const cJSON *find_in(const cJSON *doc, const char *kind, const char *location)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "defects"))
    {
        if (!strcmp(cJSON_GetObjectItem(d, "kind")->valuestring, kind) &&
            !strcmp(cJSON_GetObjectItem(d, "location")->valuestring, location))
            return d;
    }
    return NULL;
}

/* Every generated file compiles with the engine. */
static void assert_all_compile(const struct openapi_files *files)
{
    struct schema_registry *reg = schema_registry_create(NULL);
    struct util_error e;
    util_error_clear(&e);
    assert_non_null(reg);
    assert_int_equal(openapi_registry_add_files(reg, files, OPENAPI_MEMORY_BASE_URI, &e), UTIL_OK);
    for (size_t i = 0; i < files->count; i++) {
        if (!strcmp(files->items[i].path, "defects.json"))
            continue;
        char uri[1024];
        snprintf(uri, sizeof(uri), "%s%s", OPENAPI_MEMORY_BASE_URI, files->items[i].path);
        struct schema *s = NULL;
        if (schema_registry_lookup(reg, uri, &s, &e) != UTIL_OK)
            fail_msg("%s does not compile: %s", files->items[i].path, e.message);
    }
    schema_registry_destroy(reg);
}

static const char *const UNMAPPABLE =
    "openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths: {}\n"
    "components:\n  schemas:\n"
    "    Kind: {type: string, enum: [alpha, beta]}\n"
    "    ThingAlpha: {type: object, additionalProperties: false,\n"
    "                 properties: {a: {type: string}}}\n"
    "    ThingBeta: {type: object, additionalProperties: false,\n"
    "                properties: {a: {type: string}}}\n"
    "    ThingGamma: {type: object, additionalProperties: false,\n"
    "                 properties: {a: {type: string}}}\n"
    "    Union:\n      oneOf:\n"
    "      - $ref: '#/components/schemas/ThingAlpha'\n"
    "      - $ref: '#/components/schemas/ThingBeta'\n"
    "      - $ref: '#/components/schemas/ThingGamma'\n"
    "    Holder:\n      type: object\n      properties:\n"
    "        type: {$ref: '#/components/schemas/Kind'}\n"
    "        input: {$ref: '#/components/schemas/Union'}\n";

/* A union that the sibling "type" cannot select (ThingGamma has no value):
 * the spec is derived, Holder gets no if/then, and the finding names the
 * property with its line. */
static void test_unmappable_branch_degrades(void **state)
{
    (void)state;
    struct openapi_files files;
    struct util_error e;
    cJSON *defects = NULL;
    assert_int_equal(gen_text(UNMAPPABLE, &files, &defects, &e), UTIL_OK);
    const cJSON *d =
        find_in(defects, "unselected-union", "#/components/schemas/Holder/properties/input");
    assert_non_null(d);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(d, "line")->valueint, 22);
    assert_non_null(
        strstr(cJSON_GetObjectItemCaseSensitive(d, "resolution")->valuestring, "ThingGamma"));
    const struct openapi_file *h = openapi_files_find(&files, "components/Holder.json");
    assert_non_null(h);
    assert_null(strstr(h->data, "allOf"));
    const struct openapi_file *u = openapi_files_find(&files, "components/Union.json");
    assert_non_null(strstr(u->data, "\"anyOf\""));
    assert_all_compile(&files);
    cJSON_Delete(defects);
    openapi_files_finish(&files);
}

/* An allOf that cannot be merged (a part with a union) next to a closed
 * part stays an allOf and is a finding. */
static void test_unmergeable_allof_degrades(void **state)
{
    (void)state;
    const char *y = "openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths: {}\n"
                    "components:\n  schemas:\n"
                    "    Closed: {type: object, additionalProperties: false,\n"
                    "             properties: {a: {type: string}}}\n"
                    "    Open:\n      oneOf:\n"
                    "      - {type: object, properties: {b: {type: string}}, required: [b]}\n"
                    "      - {type: object, properties: {c: {type: string}}, required: [c]}\n"
                    "    Both:\n      allOf:\n"
                    "      - $ref: '#/components/schemas/Closed'\n"
                    "      - $ref: '#/components/schemas/Open'\n"
                    "      - {type: object, properties: {d: {type: integer}}}\n";
    struct openapi_files files;
    struct util_error e;
    cJSON *defects = NULL;
    assert_int_equal(gen_text(y, &files, &defects, &e), UTIL_OK);
    const cJSON *d = find_in(defects, "unmerged-allof", "#/components/schemas/Both");
    assert_non_null(d);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(d, "line")->valueint, 12);
    const struct openapi_file *b = openapi_files_find(&files, "components/Both.json");
    assert_non_null(strstr(b->data, "\"allOf\""));
    assert_non_null(strstr(b->data, "Open.json"));
    assert_all_compile(&files);
    cJSON_Delete(defects);
    openapi_files_finish(&files);
}

/* The 2023 shape: a closed part requires "input" that only the other part
 * declares; the merge accepts a value built from the declaring part. */
static void test_merge_required_declared_elsewhere(void **state)
{
    (void)state;
    const char *y = "openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths: {}\n"
                    "components:\n  schemas:\n"
                    "    In: {type: object, additionalProperties: false, required: [k],\n"
                    "         properties: {k: {type: integer}}}\n"
                    "    Base: {type: object, additionalProperties: false, required: [id, input],\n"
                    "           properties: {id: {type: string}}}\n"
                    "    WithInput:\n      allOf:\n"
                    "      - $ref: '#/components/schemas/Base'\n"
                    "      - type: object\n        additionalProperties: false\n"
                    "        required: [input]\n"
                    "        properties: {input: {$ref: '#/components/schemas/In'}}\n";
    struct openapi_files files;
    struct util_error e;
    cJSON *defects = NULL;
    assert_int_equal(gen_text(y, &files, &defects, &e), UTIL_OK);
    assert_non_null(find_in(defects, "allof-contradiction", "#/components/schemas/WithInput"));
    assert_null(find_in(defects, "unmerged-allof", "#/components/schemas/WithInput"));
    const struct openapi_file *w = openapi_files_find(&files, "components/WithInput.json");
    assert_null(strstr(w->data, "\"allOf\""));
    cJSON_Delete(defects);
    openapi_files_finish(&files);
}

/* A merge whose minimal instance the merged schema rejects (the builder
 * cannot meet a pattern) stays merged; the defect says so. */
static void test_merge_self_check_not_fatal(void **state)
{
    (void)state;
    const char *y = "openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths: {}\n"
                    "components:\n  schemas:\n"
                    "    Coded: {type: object, additionalProperties: false, required: [code],\n"
                    "            properties: {code: {type: string, pattern: '^[0-9]+$'}}}\n"
                    "    More:\n      allOf:\n"
                    "      - $ref: '#/components/schemas/Coded'\n"
                    "      - {type: object, properties: {d: {type: integer}}}\n";
    struct openapi_files files;
    struct util_error e;
    cJSON *defects = NULL;
    assert_int_equal(gen_text(y, &files, &defects, &e), UTIL_OK);
    const cJSON *d = find_in(defects, "allof-contradiction", "#/components/schemas/More");
    assert_non_null(d);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(d, "note"));
    assert_null(strstr(openapi_files_find(&files, "components/More.json")->data, "allOf"));
    cJSON_Delete(defects);
    openapi_files_finish(&files);
}

/* name and Name: Name.json and name~1.json, mapped in operations.json,
 * references follow the mapping. */
static void test_case_colliding_names(void **state)
{
    (void)state;
    const char *y =
        "openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n"
        "    name: {type: string}\n"
        "    Name: {type: integer}\n"
        "    NAME: {type: boolean}\n"
        "    User: {type: object, properties: {n: {$ref: '#/components/schemas/name'},\n"
        "           m: {$ref: '#/components/schemas/Name'}}}\n";
    struct openapi_files files;
    struct util_error e;
    assert_int_equal(gen_text(y, &files, NULL, &e), UTIL_OK);
    assert_non_null(openapi_files_find(&files, "components/NAME.json"));
    assert_non_null(strstr(openapi_files_find(&files, "components/Name~1.json")->data, "integer"));
    assert_non_null(strstr(openapi_files_find(&files, "components/name~2.json")->data, "string"));
    assert_null(openapi_files_find(&files, "components/name.json"));
    const char *user = openapi_files_find(&files, "components/User.json")->data;
    assert_non_null(strstr(user, "\"name~2.json\""));
    assert_non_null(strstr(user, "\"Name~1.json\""));
    cJSON *ops = parse_text(openapi_files_find(&files, "operations.json")->data);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(ops, "componentFiles");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(map, "name")->valuestring,
                        "components/name~2.json");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(map, "Name")->valuestring,
                        "components/Name~1.json");
    assert_null(cJSON_GetObjectItemCaseSensitive(map, "NAME"));
    assert_all_compile(&files);
    cJSON_Delete(ops);
    openapi_files_finish(&files);
}

/* tests/data/spec/openapi-3.1.yml: type arrays, examples, const, $ref with
 * siblings, discriminator, a case collision and an unselected union. */
static void test_openapi_31(void **state)
{
    (void)state;
    char path[4200];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    assert_non_null(src);
    snprintf(path, sizeof(path), "%s/tests/data/spec/openapi-3.1.yml", src);
    struct openapi *spec = NULL;
    struct openapi_files files;
    struct util_error e;
    util_error_clear(&e);
    openapi_files_init(&files);
    assert_int_equal(openapi_load(path, &spec, &e), UTIL_OK);
    assert_int_equal(openapi_generate(spec, &files, &e), UTIL_OK);
    assert_all_compile(&files);
    cJSON *a = parse_text(openapi_files_find(&files, "components/Authentication.json")->data);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(a, "properties");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(props, "name");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(name, "$ref")->valuestring, "name~1.json");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(name, "maxLength")->valueint, 5);
    const cJSON *upd = cJSON_GetObjectItemCaseSensitive(props, "updatedAt");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(upd, "type")), 2);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(props, "version"), "const"));
    cJSON_Delete(a);
    /* The discriminator selects by petType: cat by mapping, Dog by name. */
    struct schema_registry *reg = schema_registry_create(NULL);
    assert_int_equal(openapi_registry_add_files(reg, &files, OPENAPI_MEMORY_BASE_URI, &e), UTIL_OK);
    struct schema *pet = NULL;
    assert_int_equal(
        schema_registry_lookup(reg, OPENAPI_MEMORY_BASE_URI "components/Pet.json", &pet, &e),
        UTIL_OK);
    cJSON *cat_ok = parse_text("{\"petType\": \"cat\", \"meows\": true}");
    cJSON *cat_bad = parse_text("{\"petType\": \"cat\", \"meows\": 1}");
    cJSON *dog_bad = parse_text("{\"petType\": \"Dog\", \"barks\": \"no\"}");
    assert_true(schema_is_valid(pet, cat_ok));
    assert_false(schema_is_valid(pet, dog_bad));
    cJSON *cat_as_dog = parse_text("{\"petType\": \"Dog\", \"meows\": 1}");
    assert_true(schema_is_valid(pet, cat_as_dog)); /* Dog is open: meows allowed */
    (void)cat_bad;
    cJSON_Delete(cat_ok);
    cJSON_Delete(cat_bad);
    cJSON_Delete(dog_bad);
    cJSON_Delete(cat_as_dog);
    schema_registry_destroy(reg);
    /* Every example (the 3.1 examples arrays included) is checked. */
    cJSON *results = NULL, *defects = NULL;
    assert_int_equal(openapi_examples(spec, &results, &defects, &e), UTIL_OK);
    assert_int_equal(cJSON_GetArraySize(results), 5);
    const cJSON *r;
    cJSON_ArrayForEach(r, results)
    {
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "valid")));
    }
    cJSON *wrap = cJSON_CreateObject();
    cJSON_AddItemToObject(wrap, "defects", defects);
    assert_non_null(find_in(wrap, "unselected-union",
                            "#/components/schemas/AuthenticationCreate/properties/input"));
    assert_null(find_in(wrap, "oas30-null-type", "#/components/schemas/AuthBasic"));
    cJSON_Delete(wrap);
    cJSON_Delete(results);
    openapi_files_finish(&files);
    openapi_destroy(spec);
}

/* Every revision in ../shared/spec/revisions (skipped when absent): each
 * generated file compiles, every invalid example is a listed defect. */
static void test_given_revisions(void **state)
{
    (void)state;
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/../shared/spec/revisions", getenv("INGESTCHECK_SOURCE_DIR"));
    DIR *d = opendir(dir);
    if (!d)
        skip();
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".yml") != 0)
            continue;
        char path[8400];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct openapi *spec = NULL;
        struct openapi_files files;
        struct util_error e;
        util_error_clear(&e);
        openapi_files_init(&files);
        if (openapi_load(path, &spec, &e) || openapi_generate(spec, &files, &e))
            fail_msg("%s: %s", de->d_name, e.message);
        assert_all_compile(&files);
        cJSON *results = NULL, *defects = NULL;
        assert_int_equal(openapi_examples(spec, &results, &defects, &e), UTIL_OK);
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemToObject(wrap, "defects", defects);
        const cJSON *r;
        cJSON_ArrayForEach(r, results)
        {
            const char *loc = cJSON_GetObjectItemCaseSensitive(r, "location")->valuestring;
            if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "valid")) &&
                !find_in(wrap, "invalid-example", loc))
                fail_msg("%s: example %s invalid and not listed", de->d_name, loc);
        }
        cJSON_Delete(wrap);
        cJSON_Delete(results);
        openapi_files_finish(&files);
        openapi_destroy(spec);
        n++;
    }
    closedir(d);
    assert_true(n >= 1);
}

/* OpenAPI 3.1 makes paths optional; 3.0 does not. */
static void test_paths_optional_in_31(void **state)
{
    (void)state;
    const char *y = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
                    "components:\n  schemas:\n    A: {type: [string, 'null']}\n";
    struct openapi_files files;
    struct util_error e;
    assert_int_equal(gen_text(y, &files, NULL, &e), UTIL_OK);
    assert_non_null(strstr(openapi_files_find(&files, "components/A.json")->data, "\"null\""));
    openapi_files_finish(&files);
    const char *y30 = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"
                      "components:\n  schemas:\n    A: {type: string}\n";
    assert_int_equal(gen_text(y30, &files, NULL, &e), UTIL_ERR_INVALID);
    assert_non_null(strstr(e.message, "paths"));
    openapi_files_finish(&files);
}

/* Unusable input: one line with where, never a crash. */
static void test_refused_inputs(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
         "    A: {type: object, properties: {b: {$ref: 'other.yml#/components/schemas/B'}}}\n",
         "mini.yml:6:"},
        {"openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
         "    A: {type: object, properties: {b: {$ref: 'https://x.example/s.json'}}}\n",
         "mini.yml:6:"},
        {"openapi: 3.0.2\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
         "    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n"
         "    C: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}\n",
         "cycle"},
        {"swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n", "OpenAPI 3"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct openapi_files files;
        struct util_error e;
        assert_int_not_equal(gen_text(bad[i][0], &files, NULL, &e), UTIL_OK);
        if (!strstr(e.message, bad[i][1]))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.message, bad[i][1]);
        assert_null(strchr(e.message, '\n'));
        assert_int_equal(files.count, 0);
        openapi_files_finish(&files);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branch_match),
        cmocka_unit_test(test_unmappable_branch_degrades),
        cmocka_unit_test(test_unmergeable_allof_degrades),
        cmocka_unit_test(test_merge_required_declared_elsewhere),
        cmocka_unit_test(test_merge_self_check_not_fatal),
        cmocka_unit_test(test_case_colliding_names),
        cmocka_unit_test(test_openapi_31),
        cmocka_unit_test(test_given_revisions),
        cmocka_unit_test(test_paths_optional_in_31),
        cmocka_unit_test(test_refused_inputs),
    };
    return cmocka_run_group_tests_name("shapes", tests, NULL, NULL);
}
