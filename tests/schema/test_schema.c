/* Unit tests of the JSON Schema engine: messages and locations, keyword
 * families, dialects, formats, compile-once behaviour and bad input. */
#include "schema/schema.h"
#include "util/buf.h"
#include "util/caps.h"
#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static cJSON *parse(const char *text)
{
    cJSON *doc = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (json_parse(text, strlen(text), "test", &doc, &err) != UTIL_OK) {
        fprintf(stderr, "bad test JSON: %s\n", err.message);
        fail();
    }
    return doc;
}

static struct schema_registry *reg_new(enum schema_dialect d, bool formats)
{
    struct schema_options opts = {d, formats};
    struct schema_registry *reg = schema_registry_create(&opts);
    assert_non_null(reg);
    return reg;
}

static struct schema *add_uri(struct schema_registry *reg, const char *uri, const char *text)
{
    struct util_error err;
    struct schema *s = NULL;
    cJSON *doc = parse(text);
    util_error_clear(&err);
    int rc = schema_registry_add(reg, uri, doc, &s, &err);
    cJSON_Delete(doc);
    if (rc != UTIL_OK)
        fprintf(stderr, "schema_registry_add: %s\n", err.message);
    assert_int_equal(rc, UTIL_OK);
    assert_non_null(s);
    return s;
}

static struct schema *add(struct schema_registry *reg, const char *text)
{
    return add_uri(reg, NULL, text);
}

/* Validates with both entry points, checks they agree, and returns the
 * verdict; res (may be NULL) receives the violations. */
static bool check(const struct schema *s, const char *instance, struct schema_result *res)
{
    struct schema_result local;
    struct util_error err;
    cJSON *inst = parse(instance);
    struct schema_result *r = res ? res : &local;
    schema_result_init(r);
    util_error_clear(&err);
    assert_int_equal(schema_validate(s, inst, r, &err), UTIL_OK);
    bool fast = schema_is_valid(s, inst);
    assert_int_equal(fast, r->valid);
    if (!r->valid)
        assert_true(r->count > 0);
    cJSON_Delete(inst);
    if (!res)
        schema_result_finish(&local);
    return fast;
}

static void expect_valid(const struct schema *s, const char *instance)
{
    if (!check(s, instance, NULL))
        fail_msg("expected valid: %s", instance);
}

static void expect_invalid(const struct schema *s, const char *instance)
{
    if (check(s, instance, NULL))
        fail_msg("expected invalid: %s", instance);
}

/* Expects exactly the given messages, in order. */
static void expect_messages(const struct schema *s, const char *instance, const char *const *msgs,
                            size_t n)
{
    struct schema_result res;
    check(s, instance, &res);
    if (res.count != n)
        for (size_t i = 0; i < res.count; i++)
            fprintf(stderr, "got: %s\n", res.items[i].message);
    for (size_t i = 0; i < res.count && i < n; i++)
        assert_string_equal(res.items[i].message, msgs[i]);
    assert_int_equal(res.count, n);
    schema_result_finish(&res);
}

static void expect_message(const struct schema *s, const char *instance, const char *msg)
{
    expect_messages(s, instance, &msg, 1);
}

/* Expects schema_registry_add to fail with code and a message containing
 * every given fragment. */
static void expect_add_error(enum schema_dialect d, const char *text, int code, const char *frag1,
                             const char *frag2)
{
    struct schema_registry *reg = reg_new(d, false);
    struct util_error err;
    struct schema *s = (struct schema *)&err;
    cJSON *doc = parse(text);
    util_error_clear(&err);
    assert_int_equal(schema_registry_add(reg, "https://example.test/bad.json", doc, &s, &err),
                     code);
    assert_null(s);
    if (!strstr(err.message, frag1) || (frag2 && !strstr(err.message, frag2)))
        fail_msg("unexpected error message: %s", err.message);
    cJSON_Delete(doc);
    schema_registry_destroy(reg);
}

static const char *data_dir(void)
{
    static char buf[2048];
    const char *src = getenv("INGESTCHECK_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/tests/data/schema", src ? src : ".");
    return buf;
}

/* ---- messages and locations ---- */

static void test_messages_and_locations(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add_uri(reg, "https://example.test/tasks.json",
                               "{\"type\":\"object\",\"properties\":{\"tasks\":{\"type\":\"array\","
                               "\"items\":{\"$ref\":\"#/$defs/task\"}}},\"$defs\":{\"task\":{"
                               "\"type\":\"object\",\"required\":[\"name\"],"
                               "\"additionalProperties\":false,\"properties\":{\"name\":{\"type\":"
                               "\"string\"},\"action\":{\"enum\":[\"append\",\"partial\","
                               "\"replace\",\"save\"]}}}}}");
    struct schema_result res;
    check(s,
          "{\"tasks\":[{\"name\":\"a\"},{\"name\":1},{},{\"name\":\"x\",\"action\":\"upsert\","
          "\"x\":1}]}",
          &res);
    assert_false(res.valid);
    assert_false(res.truncated);
    assert_int_equal(res.count, 4);
    assert_string_equal(res.items[0].instance_location, "/tasks/1/name");
    assert_string_equal(res.items[0].keyword_location,
                        "/properties/tasks/items/$ref/properties/name/type");
    assert_string_equal(res.items[0].absolute_location,
                        "https://example.test/tasks.json#/$defs/task/properties/name/type");
    assert_string_equal(res.items[0].message, "/tasks/1/name: expected string, got integer");
    assert_string_equal(res.items[1].instance_location, "/tasks/2");
    assert_string_equal(res.items[1].keyword_location, "/properties/tasks/items/$ref/required");
    assert_string_equal(res.items[1].message, "/tasks/2: missing required property \"name\"");
    assert_string_equal(res.items[2].instance_location, "/tasks/3/action");
    assert_string_equal(res.items[2].keyword_location,
                        "/properties/tasks/items/$ref/properties/action/enum");
    assert_string_equal(res.items[2].absolute_location,
                        "https://example.test/tasks.json#/$defs/task/properties/action/enum");
    assert_string_equal(res.items[2].message,
                        "/tasks/3/action: \"upsert\" is not one of append, partial, replace, "
                        "save");
    assert_string_equal(res.items[3].keyword_location,
                        "/properties/tasks/items/$ref/additionalProperties");
    assert_string_equal(res.items[3].message, "/tasks/3: property \"x\" is not allowed");
    schema_result_finish(&res);

    /* the root is shown as "/" and escaped pointer tokens survive */
    s = add(reg, "{\"properties\":{\"a/b~c\":{\"type\":[\"string\",\"null\"]}},"
                 "\"type\":\"object\"}");
    check(s, "{\"a/b~c\":1}", &res);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.items[0].instance_location, "/a~1b~0c");
    assert_string_equal(res.items[0].keyword_location, "/properties/a~1b~0c/type");
    assert_string_equal(res.items[0].message, "/a~1b~0c: expected string or null, got integer");
    schema_result_finish(&res);
    expect_message(s, "[]", "/: expected object, got array");
    schema_registry_destroy(reg);
}

static void test_keyword_messages(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s;
    s = add(reg, "{\"minimum\":10,\"maximum\":20,\"multipleOf\":2}");
    expect_message(s, "8", "/: 8 is less than the minimum of 10");
    expect_messages(s, "23",
                    (const char *const[]){"/: 23 is greater than the maximum of 20",
                                          "/: 23 is not a multiple of 2"},
                    2);
    s = add(reg, "{\"exclusiveMinimum\":1.5,\"exclusiveMaximum\":3}");
    expect_message(s, "1.5", "/: 1.5 must be greater than 1.5");
    expect_message(s, "3", "/: 3 must be less than 3");
    s = add(reg, "{\"minLength\":2,\"maxLength\":3,\"pattern\":\"^[a-z]+$\"}");
    expect_messages(s, "\"\\u00e9\"",
                    (const char *const[]){"/: string has 1 character, fewer than the minimum of 2",
                                          "/: \"\u00e9\" does not match the pattern ^[a-z]+$"},
                    2);
    expect_messages(s, "\"abcD\"",
                    (const char *const[]){"/: string has 4 characters, more than the maximum of 3",
                                          "/: \"abcD\" does not match the pattern ^[a-z]+$"},
                    2);
    s = add(reg, "{\"const\":\"x\"}");
    expect_message(s, "\"y\"", "/: must be \"x\", got \"y\"");
    s = add(reg, "{\"enum\":[1,\"two\",null]}");
    expect_message(s, "{\"a\":1}", "/: {\"a\":1} is not one of 1, two, null");
    s = add(reg, "{\"minItems\":2,\"uniqueItems\":true}");
    expect_message(s, "[1]", "/: array has 1 item, fewer than the minimum of 2");
    expect_message(s, "[1,2,{\"a\":[1]},{\"a\":[1.0]}]",
                   "/: items 2 and 3 are equal; items must be unique");
    s = add(reg, "{\"maxItems\":1}");
    expect_message(s, "[1,2]", "/: array has 2 items, more than the maximum of 1");
    s = add(reg, "{\"prefixItems\":[{\"type\":\"string\"}],\"items\":false}");
    expect_message(s, "[\"a\",1,2]", "/: array has 3 items, at most 1 allowed");
    expect_message(s, "[1]", "/0: expected string, got integer");
    s = add(reg, "{\"contains\":{\"type\":\"string\"},\"maxContains\":1}");
    expect_message(s, "[1,2]", "/: no item matches the \"contains\" schema");
    expect_message(s, "[\"a\",\"b\"]",
                   "/: 2 items match the \"contains\" schema, at most 1 allowed");
    s = add(reg, "{\"contains\":{\"type\":\"string\"},\"minContains\":2}");
    expect_message(s, "[\"a\",1]",
                   "/: only 1 item matches the \"contains\" schema, at least 2 required");
    s = add(reg, "{\"minProperties\":2,\"maxProperties\":2}");
    expect_message(s, "{\"a\":1}", "/: object has 1 property, fewer than the minimum of 2");
    expect_message(s, "{\"a\":1,\"b\":2,\"c\":3}",
                   "/: object has 3 properties, more than the maximum of 2");
    s = add(reg, "{\"dependentRequired\":{\"card\":[\"billing\"]}}");
    expect_message(s, "{\"card\":1}",
                   "/: property \"billing\" is required when \"card\" is present");
    s = add(reg, "{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}");
    expect_message(s, "{\"Ab\":1}",
                   "/: property name \"Ab\" is invalid: \"Ab\" does not match the pattern "
                   "^[a-z]+$");
    s = add(reg, "{\"not\":{\"type\":\"string\"}}");
    expect_message(s, "\"s\"", "/: must not match the schema in \"not\"");
    s = add(reg, "{\"properties\":{\"a\":false}}");
    expect_message(s, "{\"a\":1}", "/: property \"a\" is not allowed");
    s = add(reg, "{\"items\":{\"not\":{}}}");
    expect_message(s, "[1]", "/0: must not match the schema in \"not\"");
    s = add(reg, "false");
    expect_message(s, "1", "/: no value is allowed here (the schema is false)");
    s = add(reg, "{\"unevaluatedProperties\":false,\"properties\":{\"a\":true}}");
    expect_message(s, "{\"a\":1,\"b\":2}",
                   "/: property \"b\" is not allowed (unevaluatedProperties)");
    schema_registry_destroy(reg);
}

static void test_applicator_messages(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s;
    s = add(reg, "{\"oneOf\":[{\"title\":\"Cat\",\"type\":\"object\"},{\"title\":\"Dog\","
                 "\"type\":\"object\",\"required\":[\"bark\"]},{\"type\":\"string\"}]}");
    struct schema_result res;
    check(s, "{\"bark\":1}", &res);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.items[0].keyword_location, "/oneOf");
    assert_string_equal(res.items[0].message,
                        "/: matches more than one alternative of oneOf: 0 (\"Cat\") and 1 "
                        "(\"Dog\")");
    schema_result_finish(&res);
    expect_valid(s, "\"s\"");

    /* anyOf: the applicator failure plus the leaves of the closest branch */
    s = add(reg, "{\"anyOf\":[{\"type\":\"object\",\"required\":[\"a\",\"b\"]},"
                 "{\"type\":\"object\",\"required\":[\"c\"]},{\"type\":\"string\"}]}");
    check(s, "{\"a\":1}", &res);
    assert_int_equal(res.count, 2);
    assert_string_equal(res.items[0].message,
                        "/: does not match any of the 3 alternatives of anyOf (closest: "
                        "alternative 0)");
    assert_string_equal(res.items[0].keyword_location, "/anyOf");
    assert_string_equal(res.items[1].message, "/: missing required property \"b\"");
    assert_string_equal(res.items[1].keyword_location, "/anyOf/0/required");
    schema_result_finish(&res);

    /* every branch rejects the type: one summary line */
    s = add(reg, "{\"anyOf\":[{\"type\":\"string\"},{\"$ref\":\"#/$defs/n\"}],"
                 "\"$defs\":{\"n\":{\"type\":\"integer\"}}}");
    expect_message(s, "[1]",
                   "/: expected string or integer, got array (no alternative of anyOf "
                   "matches)");
    s = add(reg, "{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}");
    expect_message(s, "true",
                   "/: expected string or integer, got boolean (no alternative of "
                   "oneOf matches)");
    expect_valid(s, "1");
    schema_registry_destroy(reg);
}

/* anyOf/oneOf are first evaluated without collecting: the violations of a
 * branch that failed before another matched never reach the result, and a
 * failed choice still reports the leaf causes of its closest branch. */
static void test_choice_violations(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s =
        add(reg, "{\"type\":\"object\",\"properties\":{\"pet\":{\"oneOf\":["
                 "{\"title\":\"Cat\",\"type\":\"object\",\"additionalProperties\":false,"
                 "\"required\":[\"kind\",\"lives\"],\"properties\":{\"kind\":{\"const\":\"cat\"},"
                 "\"lives\":{\"type\":\"integer\",\"maximum\":9}}},"
                 "{\"title\":\"Dog\",\"type\":\"object\",\"additionalProperties\":false,"
                 "\"required\":[\"kind\"],\"properties\":{\"kind\":{\"enum\":[\"dog\",\"wolf\"]},"
                 "\"good\":{\"type\":\"boolean\"}}}]},"
                 "\"n\":{\"type\":\"integer\"}}}");
    /* branch 0 fails (const, additionalProperties, required), branch 1 holds */
    expect_valid(s, "{\"pet\":{\"kind\":\"dog\",\"good\":true}}");
    /* another property fails: only its violation, nothing from branch 0 */
    struct schema_result res;
    check(s, "{\"pet\":{\"kind\":\"wolf\",\"good\":false},\"n\":\"x\"}", &res);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.items[0].message, "/n: expected integer, got string");
    assert_string_equal(res.items[0].keyword_location, "/properties/n/type");
    schema_result_finish(&res);
    /* a failed oneOf: the summary, then the leaves of the closest branch */
    check(s, "{\"pet\":{\"kind\":\"cat\",\"lives\":10}}", &res);
    assert_int_equal(res.count, 2);
    assert_string_equal(res.items[0].message,
                        "/pet: does not match any of the 2 alternatives of oneOf (closest: "
                        "alternative 0 (\"Cat\"))");
    assert_string_equal(res.items[0].keyword_location, "/properties/pet/oneOf");
    assert_string_equal(res.items[1].message, "/pet/lives: 10 is greater than the maximum of 9");
    assert_string_equal(res.items[1].keyword_location,
                        "/properties/pet/oneOf/0/properties/lives/maximum");
    schema_result_finish(&res);
    /* both branches match: no leaf from either */
    s = add(reg, "{\"oneOf\":[{\"required\":[\"a\"]},{\"required\":[\"b\"]},"
                 "{\"required\":[\"c\"],\"properties\":{\"c\":{\"type\":\"string\"}}}]}");
    expect_message(s, "{\"a\":1,\"b\":2,\"c\":3}",
                   "/: matches more than one alternative of oneOf: 0 and 1");
    expect_valid(s, "{\"c\":\"x\"}");
    expect_invalid(s, "{\"c\":1}");
    /* a choice nested in a failed choice's branch */
    s = add(reg, "{\"anyOf\":[{\"properties\":{\"x\":{\"oneOf\":[{\"type\":\"string\"},"
                 "{\"type\":\"integer\",\"minimum\":5}]}},\"required\":[\"x\"]},"
                 "{\"type\":\"array\"}]}");
    expect_valid(s, "{\"x\":7}");
    expect_valid(s, "[]");
    check(s, "{\"x\":3}", &res);
    assert_int_equal(res.count, 3);
    assert_string_equal(res.items[0].keyword_location, "/anyOf");
    assert_string_equal(res.items[1].keyword_location, "/anyOf/0/properties/x/oneOf");
    assert_string_equal(res.items[2].message, "/x: 3 is less than the minimum of 5");
    schema_result_finish(&res);
    schema_registry_destroy(reg);
}

/* Branch pre-filtering (type, required, const/enum of a property) and the
 * fast evaluator's fallbacks must not change a verdict. */
static void test_fast_paths(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add(
        reg,
        "{\"$defs\":{\"a\":{\"type\":\"object\",\"required\":[\"t\"],"
        "\"properties\":{\"t\":{\"$ref\":\"#/$defs/ta\"},\"v\":{\"type\":\"string\"}}},"
        "\"ta\":{\"$ref\":\"#/$defs/ta2\"},\"ta2\":{\"enum\":[\"a\",1]},"
        "\"b\":{\"type\":\"object\",\"properties\":{\"t\":{\"const\":\"b\"}}}},"
        "\"oneOf\":[{\"$ref\":\"#/$defs/a\"},{\"$ref\":\"#/$defs/b\"},{\"type\":\"integer\"}]}");
    expect_valid(s, "{\"t\":\"a\",\"v\":\"x\"}");
    expect_valid(s, "{\"t\":1.0}");
    expect_invalid(s, "{\"t\":\"a\",\"v\":1}");
    expect_valid(s, "{\"t\":\"b\"}");
    expect_valid(s, "{}");
    expect_invalid(s, "{\"t\":\"c\"}");
    expect_invalid(s, "{\"t\":true}");
    expect_valid(s, "3");
    expect_invalid(s, "3.5");
    expect_invalid(s, "\"a\"");
    /* enums compared without hashing: strings, numbers, other types */
    s = add(reg, "{\"enum\":[\"1\",2,null,[1],{\"a\":1}]}");
    expect_valid(s, "\"1\"");
    expect_invalid(s, "1");
    expect_valid(s, "2.0");
    expect_valid(s, "null");
    expect_valid(s, "[1.0]");
    expect_valid(s, "{\"a\":1}");
    expect_invalid(s, "false");
    s = add(reg, "{\"enum\":[\"x\",3]}");
    expect_valid(s, "3");
    expect_invalid(s, "\"3\"");
    expect_invalid(s, "null");
    expect_invalid(s, "[\"x\"]");
    /* properties in any order (the lookup tries the schema's order first) */
    s = add(reg, "{\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"integer\"},"
                 "\"c\":{\"type\":\"boolean\"}},\"required\":[\"a\",\"c\"],"
                 "\"additionalProperties\":false}");
    expect_valid(s, "{\"a\":\"x\",\"b\":1,\"c\":true}");
    expect_valid(s, "{\"c\":true,\"a\":\"x\"}");
    expect_valid(s, "{\"b\":2,\"c\":false,\"a\":\"\"}");
    expect_invalid(s, "{\"c\":true,\"a\":1}");
    expect_invalid(s, "{\"c\":true,\"a\":\"x\",\"d\":1}");
    expect_invalid(s, "{\"a\":\"x\"}");
    /* unevaluatedProperties and $dynamicRef inside a choice: the fast
     * evaluator hands over to the full one */
    s = add(reg, "{\"oneOf\":[{\"properties\":{\"a\":true},\"unevaluatedProperties\":false},"
                 "{\"required\":[\"b\"]}]}");
    expect_valid(s, "{\"a\":1}");
    expect_valid(s, "{\"b\":1}");
    expect_valid(s, "{\"a\":1,\"b\":1}");
    expect_invalid(s, "{\"a\":1,\"c\":1}");
    expect_invalid(s, "{\"c\":1}");
    s = add_uri(reg, "https://example.test/tree.json",
                "{\"$dynamicAnchor\":\"node\",\"type\":\"object\",\"properties\":{"
                "\"kids\":{\"type\":\"array\",\"items\":{\"$dynamicRef\":\"#node\"}}}}");
    s = add_uri(reg, "https://example.test/strict.json",
                "{\"$dynamicAnchor\":\"node\",\"$ref\":\"tree.json\","
                "\"unevaluatedProperties\":false}");
    expect_valid(s, "{\"kids\":[{\"kids\":[]}]}");
    expect_invalid(s, "{\"kids\":[{\"kids\":[],\"x\":1}]}");
    s = add_uri(reg, "https://example.test/list.json",
                "{\"anyOf\":[{\"type\":\"string\"},{\"$ref\":\"strict.json\"}]}");
    expect_valid(s, "{\"kids\":[{\"kids\":[]}]}");
    expect_invalid(s, "{\"kids\":[{\"x\":1}]}");
    expect_valid(s, "\"s\"");
    schema_registry_destroy(reg);
}

static void test_violation_cap(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add(reg, "{\"items\":{\"type\":\"string\"}}");
    size_t n = UTIL_CAP_VIOLATIONS + 500;
    char *text = malloc(n * 2 + 3);
    assert_non_null(text);
    char *p = text;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '1';
    }
    *p++ = ']';
    *p = '\0';
    struct schema_result res;
    check(s, text, &res);
    assert_int_equal(res.count, UTIL_CAP_VIOLATIONS);
    assert_true(res.truncated);
    assert_string_equal(res.items[999].instance_location, "/999");
    schema_result_finish(&res);
    free(text);
    schema_registry_destroy(reg);
}

/* ---- keyword families ---- */

static void test_keywords_2020(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s;
    s = add(reg, "{\"type\":\"integer\"}");
    expect_valid(s, "1.0");
    expect_valid(s, "-7");
    expect_invalid(s, "1.5");
    expect_invalid(s, "\"1\"");
    s = add(reg, "{\"prefixItems\":[{\"type\":\"integer\"}],\"unevaluatedItems\":false,"
                 "\"allOf\":[{\"prefixItems\":[true,{\"type\":\"string\"}]}]}");
    expect_valid(s, "[1,\"a\"]");
    expect_invalid(s, "[1,\"a\",null]");
    expect_invalid(s, "[\"x\"]");
    s = add(reg, "{\"properties\":{\"kind\":{\"enum\":[\"a\",\"b\"]}},"
                 "\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},"
                 "\"then\":{\"properties\":{\"x\":{\"type\":\"integer\"}},\"required\":[\"x\"]},"
                 "\"else\":{\"properties\":{\"y\":true}},\"unevaluatedProperties\":false}");
    expect_valid(s, "{\"kind\":\"a\",\"x\":1}");
    expect_invalid(s, "{\"kind\":\"a\"}");
    expect_invalid(s, "{\"kind\":\"a\",\"x\":1,\"y\":2}");
    expect_valid(s, "{\"kind\":\"b\",\"y\":2}");
    expect_invalid(s, "{\"kind\":\"b\",\"x\":1}");
    s = add(reg, "{\"patternProperties\":{\"^x-\\\\w+$\":{\"type\":\"string\"},"
                 "\"\\\\d{2,3}\":{\"type\":\"integer\"}},\"additionalProperties\":false}");
    expect_valid(s, "{\"x-foo\":\"a\",\"a12\":3}");
    expect_invalid(s, "{\"x-foo\":1}");
    expect_invalid(s, "{\"a1\":3}");
    expect_invalid(s, "{\"x-\":\"a\"}");
    s = add(reg, "{\"dependentSchemas\":{\"a\":{\"required\":[\"b\"]}},"
                 "\"propertyNames\":{\"maxLength\":2}}");
    expect_valid(s, "{\"b\":1}");
    expect_invalid(s, "{\"a\":1}");
    expect_invalid(s, "{\"abc\":1}");
    s = add(reg, "{\"$id\":\"https://example.test/list\",\"$dynamicAnchor\":\"item\","
                 "\"$defs\":{\"generic\":{\"$id\":\"generic\",\"$dynamicAnchor\":\"item\",\"type\":"
                 "\"array\","
                 "\"items\":{\"$dynamicRef\":\"#item\"}}},"
                 "\"anyOf\":[{\"type\":\"string\"},{\"$ref\":\"#/$defs/generic\"}]}");
    expect_valid(s, "[\"a\",[\"b\"]]");
    expect_invalid(s, "[1]");
    s = add(reg, "{\"const\":{\"a\":[1,2.0]}}");
    expect_valid(s, "{\"a\":[1.0,2]}");
    expect_invalid(s, "{\"a\":[1,2],\"b\":1}");
    s = add(reg, "{\"enum\":[1,[1],{\"a\":null}]}");
    expect_valid(s, "1.0");
    expect_valid(s, "[1.0]");
    expect_valid(s, "{\"a\":null}");
    expect_invalid(s, "true");
    s = add(reg, "{\"uniqueItems\":true}");
    expect_invalid(s, "[1,1.0]");
    expect_valid(s, "[1,true,\"1\",[1],{\"a\":1},{\"a\":2}]");
    expect_invalid(s, "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]");
    schema_registry_destroy(reg);
}

static void test_draft7_and_draft4(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_DRAFT7, false);
    struct schema *s;
    s = add(reg, "{\"items\":[{\"type\":\"integer\"}],\"additionalItems\":{\"type\":\"string\"},"
                 "\"dependencies\":{\"a\":[\"b\"],\"c\":{\"required\":[\"d\"]}}}");
    expect_valid(s, "[1,\"x\"]");
    expect_invalid(s, "[1,2]");
    expect_invalid(s, "{\"a\":1}");
    expect_invalid(s, "{\"c\":1}");
    expect_valid(s, "{\"c\":1,\"d\":2}");
    /* $ref siblings are ignored in draft-07 */
    s = add(reg, "{\"definitions\":{\"s\":{\"type\":\"string\"}},\"allOf\":[{\"$ref\":"
                 "\"#/definitions/s\",\"maxLength\":1}]}");
    expect_valid(s, "\"long string\"");
    expect_invalid(s, "1");
    /* prefixItems means nothing in draft-07, but $schema switches dialect */
    s = add(reg, "{\"prefixItems\":[{\"type\":\"string\"}]}");
    expect_valid(s, "[1]");
    s = add(reg, "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                 "\"prefixItems\":[{\"type\":\"string\"}]}");
    expect_invalid(s, "[1]");
    /* draft-07 $id with a plain-name fragment is an anchor */
    s = add(reg, "{\"allOf\":[{\"$ref\":\"#foo\"}],\"definitions\":{\"A\":{\"$id\":\"#foo\","
                 "\"type\":\"integer\"}}}");
    expect_valid(s, "1");
    expect_invalid(s, "\"a\"");
    schema_registry_destroy(reg);

    reg = reg_new(SCHEMA_DIALECT_DRAFT4, false);
    s = add(reg, "{\"maximum\":3,\"exclusiveMaximum\":true,\"minimum\":1,"
                 "\"exclusiveMinimum\":false}");
    expect_valid(s, "1");
    expect_valid(s, "2.9");
    expect_message(s, "3", "/: 3 must be less than 3");
    schema_registry_destroy(reg);
}

static void test_oas30(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_OAS30, false);
    struct schema *s;
    s = add(reg, "{\"type\":\"string\",\"nullable\":true,\"readOnly\":true,\"example\":42,"
                 "\"xml\":{\"name\":\"x\"}}");
    expect_valid(s, "null");
    expect_valid(s, "\"a\"");
    expect_message(s, "1", "/: expected string or null, got integer");
    s = add(reg, "{\"type\":\"string\"}");
    expect_message(s, "null", "/: expected string, got null");
    s = add(reg, "{\"type\":\"object\",\"discriminator\":{\"propertyName\":\"kind\"},"
                 "\"properties\":{\"kind\":{\"type\":\"string\",\"enum\":[\"a\"]},"
                 "\"n\":{\"type\":\"number\",\"maximum\":5,\"exclusiveMaximum\":true,"
                 "\"writeOnly\":true}}}");
    expect_valid(s, "{\"kind\":\"a\",\"n\":4.5}");
    expect_invalid(s, "{\"kind\":\"a\",\"n\":5}");
    expect_invalid(s, "{\"kind\":\"b\"}");
    /* a whole OpenAPI document: components are reached by pointer */
    struct schema *api = add_uri(reg, "https://example.test/openapi.json",
                                 "{\"openapi\":\"3.0.3\",\"components\":{\"schemas\":{"
                                 "\"Pet\":{\"type\":\"object\",\"required\":[\"name\"],"
                                 "\"properties\":{\"name\":{\"type\":\"string\"},\"owner\":{"
                                 "\"$ref\":\"#/components/schemas/Owner\"}}},"
                                 "\"Owner\":{\"type\":\"string\",\"nullable\":true}}}}");
    assert_non_null(api);
    struct util_error err;
    struct schema *pet = NULL;
    util_error_clear(&err);
    assert_int_equal(schema_registry_lookup(reg,
                                            "https://example.test/openapi.json#/components/"
                                            "schemas/Pet",
                                            &pet, &err),
                     UTIL_OK);
    expect_valid(pet, "{\"name\":\"rex\",\"owner\":null}");
    struct schema_result res;
    check(pet, "{\"owner\":1}", &res);
    assert_int_equal(res.count, 2);
    assert_string_equal(res.items[0].message, "/owner: expected string or null, got integer");
    assert_string_equal(res.items[0].keyword_location, "/properties/owner/$ref/type");
    assert_string_equal(res.items[0].absolute_location,
                        "https://example.test/openapi.json#/components/schemas/Owner/type");
    assert_string_equal(res.items[1].message, "/: missing required property \"name\"");
    schema_result_finish(&res);
    schema_registry_destroy(reg);
}

static void test_formats(void **state)
{
    (void)state;
    static const char *schema = "{\"properties\":{\"dt\":{\"format\":\"date-time\"},\"d\":{"
                                "\"format\":\"date\"},\"t\":{\"format\":\"time\"},\"u\":{"
                                "\"format\":\"uuid\"},\"uri\":{\"format\":\"uri\"},\"e\":{"
                                "\"format\":\"email\"},\"x\":{\"format\":\"no-such-format\"}}}";
    static const char *good = "{\"dt\":\"2024-02-29T23:59:60Z\",\"d\":\"2024-02-29\",\"t\":"
                              "\"10:00:00.5+01:00\",\"u\":\"123e4567-e89b-12d3-a456-"
                              "426614174000\",\"uri\":\"https://example.com/a?b#c\",\"e\":"
                              "\"a.b@example.com\",\"x\":\"anything\"}";
    struct schema_registry *off = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema_registry *on = reg_new(SCHEMA_DIALECT_AUTO, true);
    struct schema *s_off = add(off, schema);
    struct schema *s_on = add(on, schema);
    expect_valid(s_on, good);
    expect_valid(s_off, "{\"dt\":\"yesterday\",\"d\":\"2023-02-29\"}");
    expect_message(s_on, "{\"dt\":\"2024-01-01 10:00:00\"}",
                   "/dt: \"2024-01-01 10:00:00\" is not a valid date-time");
    expect_message(s_on, "{\"d\":\"2023-02-29\"}", "/d: \"2023-02-29\" is not a valid date");
    expect_message(s_on, "{\"t\":\"10:00:00\"}", "/t: \"10:00:00\" is not a valid time");
    expect_message(s_on, "{\"u\":\"123e4567e89b12d3a456426614174000\"}",
                   "/u: \"123e4567e89b12d3a456426614174000\" is not a valid uuid");
    expect_message(s_on, "{\"uri\":\"/relative\"}", "/uri: \"/relative\" is not a valid uri");
    expect_message(s_on, "{\"e\":\"no-at-sign\"}", "/e: \"no-at-sign\" is not a valid email");
    expect_valid(s_on, "{\"dt\":5}");
    schema_registry_destroy(off);
    schema_registry_destroy(on);
}

static void test_numbers(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add(reg, "{\"multipleOf\":0.0001}");
    expect_valid(s, "0.0075");
    expect_valid(s, "12345.6789");
    expect_invalid(s, "0.00751");
    s = add(reg, "{\"multipleOf\":0.01}");
    expect_valid(s, "19.99");
    expect_valid(s, "0.07");
    expect_invalid(s, "0.075");
    s = add(reg, "{\"multipleOf\":0.1}");
    expect_valid(s, "0.3");
    expect_invalid(s, "0.35");
    s = add(reg, "{\"type\":\"integer\",\"multipleOf\":0.123456789}");
    expect_invalid(s, "1e308");
    s = add(reg, "{\"multipleOf\":0.5}");
    expect_valid(s, "1e308");
    s = add(reg, "{\"const\":1}");
    expect_valid(s, "1.0");
    expect_valid(s, "1e0");
    s = add(reg, "{\"maximum\":1.0,\"minimum\":1}");
    expect_valid(s, "1");
    schema_registry_destroy(reg);
}

static void test_unicode_length(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add(reg, "{\"minLength\":3,\"maxLength\":3}");
    expect_valid(s, "\"\\u65e5\\u672c\\u8a9e\"");
    expect_valid(s, "\"\\ud83d\\udca9ab\"");
    expect_invalid(s, "\"\\ud83d\\udca9\"");
    expect_invalid(s, "\"abcd\"");
    s = add(reg, "{\"pattern\":\"^.$\"}");
    expect_valid(s, "\"\\ud83d\\udca9\"");
    s = add(reg, "{\"pattern\":\"^\\\\p{L}+$\"}");
    expect_valid(s, "\"\\u03c0abc\"");
    expect_invalid(s, "\"abc1\"");
    schema_registry_destroy(reg);
}

/* \u0000 is a character like any other (issue 12, D1): not cut, one code
 * point long, matched by patterns (json_parse keeps it as JSON_NUL). */
static void test_nul_in_strings(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add(reg, "{\"const\":\"a\"}");
    expect_invalid(s, "\"a\\u0000b\"");
    expect_valid(s, "\"a\"");
    s = add(reg, "{\"const\":\"a\\u0000b\"}");
    expect_valid(s, "\"a\\u0000b\"");
    expect_invalid(s, "\"a\"");
    expect_invalid(s, "\"a\\u0000c\"");
    s = add(reg, "{\"enum\":[\"x\", \"y\"]}");
    expect_invalid(s, "\"x\\u0000y\"");
    s = add(reg, "{\"maxLength\":3}");
    expect_valid(s, "\"a\\u0000b\"");
    expect_invalid(s, "\"ab\\u0000c\"");
    s = add(reg, "{\"minLength\":2}");
    expect_valid(s, "\"a\\u0000\"");
    s = add(reg, "{\"pattern\":\"^a\\\\u0000b$\"}");
    expect_valid(s, "\"a\\u0000b\"");
    expect_invalid(s, "\"a\"");
    s = add(reg, "{\"pattern\":\"^a.b$\"}");
    expect_valid(s, "\"a\\u0000b\"");
    s = add(reg, "{\"pattern\":\"^[^\\\\x00]*$\"}");
    expect_invalid(s, "\"a\\u0000b\"");
    expect_valid(s, "\"ab\"");
    s = add(reg, "{\"propertyNames\":{\"maxLength\":1},\"uniqueItems\":true}");
    expect_invalid(s, "{\"a\\u0000\":1}");
    s = add(reg, "{\"uniqueItems\":true}");
    expect_valid(s, "[\"a\", \"a\\u0000\"]");
    schema_registry_destroy(reg);
}

static void test_regex(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add(reg, "{\"pattern\":\"^(a*)*b$\"}");
    size_t n = 100000;
    char *text = malloc(n + 3);
    assert_non_null(text);
    text[0] = '"';
    memset(text + 1, 'a', n);
    text[n + 1] = '"';
    text[n + 2] = '\0';
    clock_t t0 = clock();
    expect_invalid(s, text);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
    free(text);
    s = add(reg, "{\"pattern\":\"^\\\\d{3}-\\\\w+\\\\s?[^\\\\s]{1,2}$\"}");
    expect_valid(s, "\"123-ab_c x\"");
    expect_valid(s, "\"123-abxy\"");
    expect_invalid(s, "\"12-ab x\"");
    s = add(reg, "{\"pattern\":\"^(?!admin)[a-z]+$\"}");
    expect_valid(s, "\"user\"");
    expect_invalid(s, "\"administrator\"");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"pattern\":\"^(abc\"}", UTIL_ERR_INVALID,
                     "https://example.test/bad.json#/pattern", "invalid regular expression");
    schema_registry_destroy(reg);
}

/* ---- references, registry and compile-once ---- */

static void test_compile_once(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema_stats before, after;
    struct util_error err;
    struct schema *s = add_uri(reg, "https://example.test/root.json",
                               "{\"$defs\":{\"n\":{\"type\":\"integer\"}},\"type\":\"array\","
                               "\"items\":{\"$ref\":\"#/$defs/n\"}}");
    schema_registry_stats(reg, &before);
    assert_int_equal(before.documents, 1);
    assert_int_equal(before.refs_resolved, 1);
    for (int i = 0; i < 3; i++) {
        expect_valid(s, "[1,2,3]");
        expect_invalid(s, "[1,\"x\"]");
    }
    struct schema *again = NULL, *def1 = NULL, *def2 = NULL;
    util_error_clear(&err);
    assert_int_equal(schema_registry_lookup(reg, "https://example.test/root.json", &again, &err),
                     UTIL_OK);
    assert_ptr_equal(again, s);
    assert_int_equal(
        schema_registry_lookup(reg, "https://example.test/root.json#/$defs/n", &def1, &err),
        UTIL_OK);
    assert_int_equal(
        schema_registry_lookup(reg, "https://example.test/root.json#/$defs/n", &def2, &err),
        UTIL_OK);
    assert_ptr_equal(def1, def2);
    schema_registry_stats(reg, &after);
    assert_int_equal(after.schemas_compiled, before.schemas_compiled);
    assert_int_equal(after.refs_resolved, before.refs_resolved);
    assert_int_equal(after.documents, before.documents);
    schema_registry_destroy(reg);
    schema_registry_destroy(NULL);
}

static void test_files_and_remotes(void **state)
{
    (void)state;
    char path[4096], dir[4096];
    struct util_error err;
    struct schema *s = NULL;
    struct schema_stats st;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, true);
    snprintf(path, sizeof(path), "%s/components/TaskList.json", data_dir());
    util_error_clear(&err);
    assert_int_equal(schema_registry_add_file(reg, path, &s, &err), UTIL_OK);
    schema_registry_stats(reg, &st);
    assert_int_equal(st.documents, 3);
    assert_int_equal(st.documents_loaded, 2);
    expect_valid(s, "{\"tasks\":[{\"name\":\"a\",\"action\":\"save\",\"due\":\"2024-01-31\"}]}");
    struct schema_result res;
    check(s, "{\"tasks\":[{\"name\":\"a\",\"action\":\"upsert\",\"due\":\"2024-01-32\"}]}", &res);
    assert_int_equal(res.count, 2);
    assert_string_equal(res.items[0].message,
                        "/tasks/0/action: \"upsert\" is not one of append, partial, replace, save");
    assert_string_equal(res.items[0].keyword_location,
                        "/properties/tasks/items/$ref/properties/action/$ref/enum");
    assert_non_null(strstr(res.items[0].absolute_location, "/components/Action.json#/enum"));
    assert_int_equal(strncmp(res.items[0].absolute_location, "file:///", 8), 0);
    assert_string_equal(res.items[1].message, "/tasks/0/due: \"2024-01-32\" is not a valid date");
    schema_result_finish(&res);
    schema_registry_destroy(reg);

    reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    snprintf(dir, sizeof(dir), "%s/remote", data_dir());
    assert_int_equal(schema_registry_map_dir(reg, "http://example.test/schemas/", dir, &err),
                     UTIL_OK);
    assert_int_equal(schema_registry_lookup(reg, "http://example.test/schemas/tree.json", &s, &err),
                     UTIL_OK);
    expect_valid(s, "{\"value\":1,\"children\":[{\"value\":2,\"children\":[]}]}");
    expect_message(s, "{\"value\":1,\"children\":[{\"value\":0}]}",
                   "/children/0/value: 0 must be greater than 0");
    assert_int_equal(schema_registry_map_dir(reg, "http://x.test/", "/no/such/dir", &err),
                     UTIL_ERR_IO);
    /* a mapped prefix never escapes its directory */
    assert_int_equal(schema_registry_lookup(reg,
                                            "http://example.test/schemas/nested/%2e%2e/"
                                            "tree.json",
                                            &s, &err),
                     UTIL_ERR_NOTFOUND);
    schema_registry_destroy(reg);
}

static void test_metaschemas(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add(reg, "{\"$ref\":\"https://json-schema.org/draft/2020-12/schema\"}");
    expect_valid(s, "{\"type\":\"string\",\"properties\":{\"a\":{\"minimum\":1}}}");
    expect_invalid(s, "{\"type\":5}");
    expect_invalid(s, "{\"properties\":{\"a\":{\"minLength\":-1}}}");
    s = add(reg, "{\"$ref\":\"http://json-schema.org/draft-07/schema#\"}");
    expect_valid(s, "{\"definitions\":{\"a\":{\"type\":\"integer\"}}}");
    expect_invalid(s, "{\"definitions\":{\"a\":{\"type\":1}}}");
    schema_registry_destroy(reg);
}

/* ---- bad input ---- */

static void test_bad_schemas(void **state)
{
    (void)state;
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"type\":5}", UTIL_ERR_INVALID,
                     "invalid schema at https://example.test/bad.json#/type",
                     "must be a type name or a non-empty array of type names, got integer");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"properties\":{\"a\":{\"minimum\":\"x\"}}}",
                     UTIL_ERR_INVALID, "https://example.test/bad.json#/properties/a/minimum",
                     "must be a number, got string");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"type\":\"strin\"}", UTIL_ERR_INVALID, "#/type",
                     "unknown type \"strin\"");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"minLength\":-1}", UTIL_ERR_INVALID, "#/minLength",
                     "non-negative integer");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"required\":[\"a\",1]}", UTIL_ERR_INVALID,
                     "#/required", "array of strings");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"allOf\":[]}", UTIL_ERR_INVALID, "#/allOf",
                     "non-empty");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"items\":5}", UTIL_ERR_INVALID, "#/items",
                     "must be a schema");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"multipleOf\":0}", UTIL_ERR_INVALID, "#/multipleOf",
                     "greater than 0");
    expect_add_error(SCHEMA_DIALECT_AUTO, "[1]", UTIL_ERR_INVALID, "bad.json",
                     "object or a boolean");
    expect_add_error(SCHEMA_DIALECT_OAS30, "{\"nullable\":\"yes\"}", UTIL_ERR_INVALID, "#/nullable",
                     "must be a boolean");
    /* dangling references name the reference text */
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"properties\":{\"a\":{\"$ref\":\"#/$defs/nope\"}}}",
                     UTIL_ERR_NOTFOUND,
                     "#/properties/a/$ref: cannot resolve reference "
                     "\"#/$defs/nope\"",
                     NULL);
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"$ref\":\"other.json\"}", UTIL_ERR_NOTFOUND,
                     "cannot resolve reference \"other.json\"", "https://example.test/other.json");
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"$ref\":\"#missing\"}", UTIL_ERR_NOTFOUND,
                     "cannot resolve reference \"#missing\"", "no anchor \"missing\"");
    /* cycles that can never terminate */
    expect_add_error(SCHEMA_DIALECT_AUTO, "{\"$ref\":\"#\"}", UTIL_ERR_INVALID,
                     "reference cycle that can never terminate", NULL);
    expect_add_error(SCHEMA_DIALECT_AUTO,
                     "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"allOf\":[{\"$ref\":"
                     "\"#/$defs/a\"}]}},\"$ref\":\"#/$defs/a\"}",
                     UTIL_ERR_INVALID,
                     "reference cycle that can never terminate: https://example.test/bad.json#/"
                     "$defs/a -> https://example.test/bad.json#/$defs/b -> "
                     "https://example.test/bad.json#/$defs/b/allOf/0 -> "
                     "https://example.test/bad.json#/$defs/a",
                     NULL);

    /* the registry stays usable after a failed add, and URIs stay unique */
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct util_error err;
    struct schema *s = NULL;
    cJSON *bad = parse("{\"type\":5}");
    util_error_clear(&err);
    assert_int_equal(schema_registry_add(reg, "https://example.test/a", bad, &s, &err),
                     UTIL_ERR_INVALID);
    cJSON_Delete(bad);
    s = add_uri(reg, "https://example.test/a", "{\"type\":\"string\"}");
    expect_valid(s, "\"x\"");
    cJSON *dup = parse("{}");
    assert_int_equal(schema_registry_add(reg, "https://example.test/a", dup, &s, &err),
                     UTIL_ERR_INVALID);
    cJSON_Delete(dup);
    schema_registry_destroy(reg);
}

static void test_runtime_recursion(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    /* only numbers recurse, so this compiles; evaluation must stop */
    struct schema *s = add(reg, "{\"anyOf\":[{\"type\":\"string\"},{\"$ref\":\"#/$defs/a\"}],"
                                "\"$defs\":{\"a\":{\"if\":{\"type\":\"number\"},"
                                "\"then\":{\"$ref\":\"#\"}}}}");
    expect_valid(s, "\"s\"");
    expect_valid(s, "null");
    cJSON *inst = parse("1");
    struct schema_result res;
    struct util_error err;
    schema_result_init(&res);
    util_error_clear(&err);
    assert_int_equal(schema_validate(s, inst, &res, &err), UTIL_ERR_INVALID);
    assert_false(res.valid);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.items[0].keyword_location, "/anyOf/1/$ref/then/$ref");
    assert_string_equal(res.items[0].message,
                        "/: infinite recursion: $ref re-enters urn:ingestcheck:schema:1# at the "
                        "same instance location");
    assert_non_null(strstr(err.message, "infinite recursion"));
    assert_false(schema_is_valid(s, inst));
    schema_result_finish(&res);
    cJSON_Delete(inst);
    schema_registry_destroy(reg);
}

/* Builds a chain of n $refs: d0 -> d1 -> ... -> dn (true). */
static char *ref_chain(size_t n)
{
    char *t = malloc(n * 64 + 64);
    assert_non_null(t);
    char *p = t;
    p += sprintf(p, "{\"$ref\":\"#/$defs/d0\",\"$defs\":{");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "\"d%zu\":{\"$ref\":\"#/$defs/d%zu\"},", i, i + 1);
    sprintf(p, "\"d%zu\":true}}", n);
    return t;
}

static void test_depth(void **state)
{
    (void)state;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    /* a 100-level instance against a recursive schema */
    struct schema *s = add(reg, "{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#\"},"
                                "\"v\":{\"type\":\"integer\"}}}");
    size_t levels = 100;
    char *text = malloc(levels * 16 + 64);
    assert_non_null(text);
    char *p = text;
    for (size_t i = 0; i < levels; i++)
        p += sprintf(p, "{\"next\":");
    p += sprintf(p, "{\"v\":1}");
    for (size_t i = 0; i < levels; i++)
        *p++ = '}';
    *p = '\0';
    expect_valid(s, text);
    p = strstr(text, "{\"v\":1}");
    memcpy(p, "{\"v\":0}", 7);
    p[5] = 't';
    memmove(p + 9, p + 6, strlen(p + 6) + 1);
    memcpy(p + 5, "true", 4);
    struct schema_result res;
    check(s, text, &res);
    assert_int_equal(res.count, 1);
    assert_int_equal(strlen(res.items[0].instance_location), levels * 5 + 2);
    assert_non_null(strstr(res.items[0].message, "/next/v: expected integer, got boolean"));
    schema_result_finish(&res);
    free(text);

    /* a $ref chain past the evaluation cap stops with UTIL_ERR_LIMIT */
    char *deep = ref_chain(UTIL_CAP_EVAL_DEPTH + 10);
    s = add(reg, deep);
    free(deep);
    cJSON *inst = parse("1");
    struct util_error err;
    schema_result_init(&res);
    util_error_clear(&err);
    assert_int_equal(schema_validate(s, inst, &res, &err), UTIL_ERR_LIMIT);
    assert_false(res.valid);
    assert_int_equal(res.count, 1);
    assert_non_null(strstr(res.items[0].message, "nested deeper than 512 levels"));
    assert_false(schema_is_valid(s, inst));
    schema_result_finish(&res);
    cJSON_Delete(inst);
    schema_registry_destroy(reg);
}

static void test_huge_string(void **state)
{
    (void)state;
    size_t n = 50u * 1024u * 1024u;
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_AUTO, false);
    struct schema *s = add(reg, "{\"type\":\"string\",\"minLength\":52428800,"
                                "\"maxLength\":52428800}");
    struct schema *s2 = add(reg, "{\"maxLength\":10}");
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'z', n);
    big[n] = '\0';
    cJSON *inst = cJSON_CreateString(big);
    free(big);
    assert_non_null(inst);
    clock_t t0 = clock();
    assert_true(schema_is_valid(s, inst));
    struct schema_result res;
    struct util_error err;
    schema_result_init(&res);
    util_error_clear(&err);
    assert_int_equal(schema_validate(s2, inst, &res, &err), UTIL_OK);
    assert_false(res.valid);
    assert_int_equal(res.count, 1);
    assert_string_equal(res.items[0].message,
                        "/: string has 52428800 characters, more than the maximum of 10");
    schema_result_finish(&res);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
    cJSON_Delete(inst);
    schema_registry_destroy(reg);
}

/* A chain of `levels` $defs, each {kw: [{$ref: next}, {$ref: next}]},
 * ending at leaf (JSON text). */
static char *shared_chain(const char *kw, int levels, const char *leaf)
{
    struct util_buf b;
    util_buf_init(&b, 1u << 20);
    util_buf_puts(&b, "{\"$ref\": \"#/$defs/d0\", \"$defs\": {");
    for (int i = 0; i < levels; i++)
        util_buf_printf(&b,
                        "\"d%d\": {\"%s\": [{\"$ref\": \"#/$defs/d%d\"}, {\"$ref\": "
                        "\"#/$defs/d%d\"}]},",
                        i, kw, i + 1, i + 1);
    util_buf_printf(&b, "\"d%d\": %s}}", levels, leaf);
    char *text = util_buf_steal(&b);
    util_buf_finish(&b);
    assert_non_null(text);
    return text;
}

/* Subschemas applied to the same value again and again (2^30 paths) are
 * evaluated once each: the answers and the violations are those of the
 * schema with a single path. */
static void test_shared_branches(void **state)
{
    (void)state;
    static const char *const kws[] = {"anyOf", "allOf", "oneOf"};
    for (size_t k = 0; k < 3; k++) {
        struct schema_registry *reg = reg_new(SCHEMA_DIALECT_2020_12, false);
        char *text = shared_chain(kws[k], 30, "{\"type\": \"string\"}");
        struct schema *s = add(reg, text);
        free(text);
        struct schema_result res;
        /* oneOf: both branches of the last level match, so "s" fails too */
        assert_int_equal(check(s, "\"s\"", NULL), k != 2);
        assert_false(check(s, "42", &res));
        bool leaf = false;
        for (size_t i = 0; i < res.count; i++)
            leaf = leaf || strstr(res.items[i].message, "expected string, got integer");
        assert_true(leaf);
        assert_true(res.count <= UTIL_CAP_VIOLATIONS);
        schema_result_finish(&res);
        schema_registry_destroy(reg);
    }
    /* unevaluatedProperties at the end of the chain */
    struct schema_registry *reg = reg_new(SCHEMA_DIALECT_2020_12, false);
    char *text = shared_chain("anyOf", 30,
                              "{\"properties\": {\"a\": true}, \"unevaluatedProperties\": false}");
    struct schema *s = add(reg, text);
    free(text);
    struct schema_result res;
    assert_true(check(s, "{\"a\": 1}", NULL));
    assert_false(check(s, "{\"a\": 1, \"b\": 2}", &res));
    bool named = false;
    for (size_t i = 0; i < res.count; i++)
        named = named || strstr(res.items[i].message, "property \"b\" is not allowed");
    assert_true(named);
    schema_result_finish(&res);
    schema_registry_destroy(reg);
    /* unevaluatedProperties above the chain: what it evaluated comes up */
    reg = reg_new(SCHEMA_DIALECT_2020_12, false);
    text = shared_chain("anyOf", 30, "{\"properties\": {\"a\": true}}");
    char *wrapped = malloc(strlen(text) + 64);
    assert_non_null(wrapped);
    /* {"$ref": ..., "unevaluatedProperties": false, "$defs": ...} */
    snprintf(wrapped, strlen(text) + 64, "{\"unevaluatedProperties\": false, %s", text + 1);
    free(text);
    s = add(reg, wrapped);
    free(wrapped);
    assert_true(check(s, "{\"a\": 1}", NULL));
    assert_false(check(s, "{\"a\": 1, \"b\": 2}", &res));
    named = false;
    for (size_t i = 0; i < res.count; i++)
        named = named || strstr(res.items[i].message, "property \"b\" is not allowed");
    assert_true(named);
    schema_result_finish(&res);
    schema_registry_destroy(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_and_locations),
        cmocka_unit_test(test_keyword_messages),
        cmocka_unit_test(test_applicator_messages),
        cmocka_unit_test(test_choice_violations),
        cmocka_unit_test(test_fast_paths),
        cmocka_unit_test(test_violation_cap),
        cmocka_unit_test(test_keywords_2020),
        cmocka_unit_test(test_draft7_and_draft4),
        cmocka_unit_test(test_oas30),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_unicode_length),
        cmocka_unit_test(test_nul_in_strings),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_compile_once),
        cmocka_unit_test(test_files_and_remotes),
        cmocka_unit_test(test_metaschemas),
        cmocka_unit_test(test_bad_schemas),
        cmocka_unit_test(test_runtime_recursion),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_huge_string),
        cmocka_unit_test(test_shared_branches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
