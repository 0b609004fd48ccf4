#include "json/json.h"
#include "util/text.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static cJSON *parse(const char *s)
{
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(json_parse(s, strlen(s), "t", &doc, &e), UTIL_OK);
    return doc;
}

static void test_parse_errors_have_position(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    const char *bad = "{\n  \"a\": [1, 2,,]\n}";
    assert_int_equal(json_parse(bad, strlen(bad), "doc.json", &doc, &e), UTIL_ERR_PARSE);
    assert_null(doc);
    assert_int_equal(e.line, 2);
    assert_true(e.column > 1);
    assert_non_null(strstr(e.message, "doc.json:2:"));
    const char *trailing = "{\"a\":1} x";
    assert_int_equal(json_parse(trailing, strlen(trailing), "t", &doc, &e), UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "trailing"));
}

static void test_parse_duplicate_keys(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    const char *small = "{\"a\": {\"x\": [{\"k\": 1, \"k\": 2}]}}";
    assert_int_equal(json_parse(small, strlen(small), "d", &doc, &e), UTIL_ERR_PARSE);
    assert_null(doc);
    assert_string_equal(e.message, "d:1:23: duplicate member name \"k\" in the object at /a/x/0");
    /* Many members: found by sorting, not by pairs. */
    struct util_buf b;
    util_buf_init(&b, 1 << 20);
    util_buf_puts(&b, "{");
    for (int i = 0; i < 1000; i++)
        util_buf_printf(&b, "\"m%d\": %d,", i, i);
    util_buf_puts(&b, "\"m500\": 0}");
    assert_int_equal(json_parse(b.data, b.len, "big", &doc, &e), UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "\"m500\" in the object at /"));
    b.data[b.len - 8] = '9'; /* "m900": a duplicate too */
    assert_int_equal(json_parse(b.data, b.len, "big", &doc, &e), UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "\"m900\""));
    b.data[b.len - 9] = 'x'; /* "x900": unique */
    assert_int_equal(json_parse(b.data, b.len, "big", &doc, &e), UTIL_OK);
    assert_int_equal(cJSON_GetArraySize(doc), 1001);
    cJSON_Delete(doc);
    util_buf_finish(&b);
}

static void test_parse_utf8_and_number_range(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    /* RFC 8259 text is UTF-8: a stray byte, an overlong form and a
     * surrogate are refused at their position. */
    const char *bad[] = {"{\"a\":\n \"x\xffy\"}", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]"};
    const char *where[] = {"t:2:4: byte 0xFF", "t:1:3: byte 0xC0", "t:1:3: byte 0xED"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(json_parse(bad[i], strlen(bad[i]), "t", &doc, &e), UTIL_ERR_PARSE);
        assert_null(doc);
        assert_non_null(strstr(e.message, where[i]));
    }
    cJSON_Delete(parse("{\"caf\xc3\xa9\": \"\xf0\x9f\x98\x80\"}"));
    /* 1e400 would be infinity: beyond what a check can compare. */
    const char *big = "{\"p\": {\"n\": [1, -1e400]}}";
    assert_int_equal(json_parse(big, strlen(big), "t", &doc, &e), UTIL_ERR_LIMIT);
    assert_null(doc);
    assert_string_equal(e.message, "t:1:17: the number at /p/n/1 is beyond the range of a double "
                                   "(about 1.8e308)");
    assert_int_equal(json_parse("1e999", 5, "t", &doc, &e), UTIL_ERR_LIMIT);
    cJSON_Delete(parse("[1e308, -1e308, 1e-400]"));
}

/* Raw control characters (U+0000..U+001F) inside strings are not JSON
 * (RFC 8259 section 7): refused at their line and column, in member names
 * too. */
static void test_parse_refuses_raw_control_characters(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    const char tab[] = "{\"a\":\n  \"x\ty\"}";
    assert_int_equal(json_parse(tab, strlen(tab), "t", &doc, &e), UTIL_ERR_PARSE);
    assert_null(doc);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 5);
    assert_non_null(strstr(e.message, "t:2:5: raw control character U+0009 in a string"));
    const char nul[] = "[\"ab\0c\"]";
    assert_int_equal(json_parse(nul, sizeof(nul) - 1, "t", &doc, &e), UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "t:1:5: raw control character U+0000"));
    const char key[] = "{\"k\x1f\": 1}";
    assert_int_equal(json_parse(key, strlen(key), "t", &doc, &e), UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "t:1:4: raw control character U+001F"));
    assert_null(strchr(e.message, '\x1f'));
    /* Outside strings only space, tab, CR and LF are whitespace; the
     * grammar's numbers only. */
    const char *bad[] = {"[1,\x01 2]", "\x0c[]", "[01]", "[1.]", "[.5]", "[-]", "[+1]",
                         "[1e]", "{\"a\" 1}", "[\"\\x\"]", "[\"\\ud800\"]", "[\"\\udc00\"]",
                         "[\"\\u12\"]", "[tru]", "", "  ", "[1,]", "{\"a\":1,}", "[\"a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        util_error_clear(&e);
        assert_int_equal(json_parse(bad[i], strlen(bad[i]), "t", &doc, &e), UTIL_ERR_PARSE);
        assert_null(doc);
        assert_true(e.line >= 1 && e.column >= 1);
        assert_non_null(strstr(e.message, "t:1:"));
    }
}

/* \u0000 survives: kept as JSON_NUL, so a string is not cut at it; equal
 * only to itself; written back as \u0000; member names too. */
static void test_parse_keeps_nul(void **state)
{
    (void)state;
    cJSON *doc = parse("{\"s\": \"a\\u0000b\", \"k\\u0000\": \"\\u0000\", \"k\": \"\\ud83d\\ude00\"}");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "s");
    assert_string_equal(s->valuestring, "a" JSON_NUL "b");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(doc, "k" JSON_NUL));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(doc, "k"));
    cJSON *a = cJSON_CreateString("a");
    assert_false(json_equal(s, a));
    cJSON_Delete(a);
    char *text = json_print(doc, false);
    assert_string_equal(text, "{\"s\":\"a\\u0000b\",\"k\\u0000\":\"\\u0000\",\"k\":\"\xf0\x9f\x98\x80\"}");
    cJSON *back = parse(text);
    assert_true(json_equal(doc, back));
    cJSON_Delete(back);
    free(text);
    struct util_buf b;
    util_buf_init(&b, 1000);
    assert_int_equal(json_print_short(&b, s, 100), UTIL_OK);
    assert_string_equal(b.data, "\"a\\u0000b\"");
    /* A message keeps JSON_NUL and repairs the rest. */
    util_buf_reset(&b);
    util_buf_puts(&b, "x" JSON_NUL "\xff" "y");
    assert_int_equal(json_string_repair(&b), UTIL_OK);
    assert_string_equal(b.data, "x" JSON_NUL UTIL_UTF8_REPLACEMENT "y");
    util_buf_finish(&b);
    cJSON_Delete(doc);
}

/* Every error has a position: duplicates and big numbers too, and a
 * member name in a message is printable. */
static void test_parse_errors_all_have_position(void **state)
{
    (void)state;
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    const char dup[] = "{\n\"a\\n\": 1,\n \"a\\n\": 2}";
    assert_int_equal(json_parse(dup, strlen(dup), "t", &doc, &e), UTIL_ERR_PARSE);
    assert_string_equal(e.message, "t:3:2: duplicate member name \"a\\u000A\" in the object at /");
    assert_int_equal(e.line, 3);
    /* Large objects one after the other, and one inside another: each
     * finds its own duplicates only. */
    struct util_buf t;
    util_buf_init(&t, 1 << 16);
    util_buf_puts(&t, "[");
    for (int o = 0; o < 3; o++) {
        util_buf_puts(&t, o ? ",{" : "{");
        for (int i = 0; i < 40; i++)
            util_buf_printf(&t, "%s\"m%d\": %s", i ? "," : "", i,
                            o == 1 && i == 20 ? "{\"m1\":1,\"m2\":2}" : "1");
        util_buf_puts(&t, o == 2 ? ",\"m39\": 2}" : "}");
    }
    util_buf_puts(&t, "]");
    assert_int_equal(json_parse(t.data, t.len, "t", &doc, &e), UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "duplicate member name \"m39\" in the object at /2"));
    util_buf_finish(&t);
    const char big[] = "[\n1e999999]";
    assert_int_equal(json_parse(big, strlen(big), "t", &doc, &e), UTIL_ERR_LIMIT);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 1);
}

static void test_parse_depth_cap(void **state)
{
    (void)state;
    size_t n = 5000;
    char *s = malloc(2 * n + 1);
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(json_parse(s, 2 * n, "deep", &doc, &e), UTIL_ERR_LIMIT);
    free(s);
    /* 100 levels are fine. */
    char hundred[201];
    memset(hundred, '[', 100);
    memset(hundred + 100, ']', 100);
    hundred[200] = '\0';
    doc = parse(hundred);
    cJSON_Delete(doc);
}

static void test_pointer(void **state)
{
    (void)state;
    cJSON *doc = parse("{\"a/b\":{\"c~d\":[10,20,{\"%\":true}]},\"\":5}");
    const cJSON *n = json_pointer_get(doc, "/a~1b/c~0d/1", false);
    assert_non_null(n);
    assert_int_equal(n->valueint, 20);
    assert_true(cJSON_IsTrue(json_pointer_get(doc, "/a~1b/c~0d/2/%25", true)));
    assert_null(json_pointer_get(doc, "/a~1b/c~0d/01", false));
    assert_null(json_pointer_get(doc, "/a~1b/c~0d/3", false));
    /* Digits only: strtoul would take "+1" and " 1"; past INT_MAX the
     * index must not wrap around to item 0. */
    assert_null(json_pointer_get(doc, "/a~1b/c~0d/+1", false));
    assert_null(json_pointer_get(doc, "/a~1b/c~0d/ 1", false));
    assert_null(json_pointer_get(doc, "/a~1b/c~0d/-0", false));
    assert_null(json_pointer_get(doc, "/a~1b/c~0d/4294967296", false));
    assert_null(json_pointer_get(doc, "/a~1b/c~0d/18446744073709551616", false));
    assert_int_equal(json_pointer_get(doc, "/", false)->valueint, 5);
    assert_ptr_equal(json_pointer_get(doc, "", false), doc);
    struct util_buf b;
    util_buf_init(&b, 100);
    json_pointer_append(&b, "a/b");
    json_pointer_append(&b, "c~d");
    json_pointer_append_index(&b, 3);
    assert_string_equal(b.data, "/a~1b/c~0d/3");
    util_buf_finish(&b);
    cJSON_Delete(doc);
}

static void test_equal(void **state)
{
    (void)state;
    cJSON *a = parse("{\"x\":[1.0,{\"y\":null}],\"z\":\"s\"}");
    cJSON *b = parse("{\"z\":\"s\",\"x\":[1,{\"y\":null}]}");
    cJSON *c = parse("{\"z\":\"s\",\"x\":[1,{\"y\":false}]}");
    cJSON *d = parse("{\"z\":\"s\",\"x\":[1,{\"y\":null}],\"w\":1}");
    assert_true(json_equal(a, b));
    assert_false(json_equal(a, c));
    assert_false(json_equal(a, d));
    assert_false(json_equal(d, a));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(d);
}

static void test_types_and_print(void **state)
{
    (void)state;
    cJSON *doc = parse("[1, 1.5, 1.0, \"s\", true, null, {}, []]");
    const char *want[] = {"integer", "number", "integer", "string",
                          "boolean", "null",   "object",  "array"};
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        assert_string_equal(json_type_name(it), want[i++]);
    }
    char *s = json_print(doc, true);
    assert_null(strchr(s, '\t'));
    free(s);
    struct util_buf b;
    util_buf_init(&b, 1000);
    json_print_short(&b, doc, 10);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data + 7, "...");
    util_buf_finish(&b);
    cJSON_Delete(doc);
}

/* cJSON_Print with each tab outside strings as two spaces: what
 * json_print wrote before it had its own writer. */
static char *cjson_reference(const cJSON *n, bool pretty)
{
    char *s = pretty ? cJSON_Print(n) : cJSON_PrintUnformatted(n);
    assert_non_null(s);
    if (!pretty)
        return s;
    char *o = malloc(strlen(s) * 2 + 1), *q = o;
    bool in_string = false;
    for (const char *p = s; *p; p++) {
        if (in_string) {
            *q++ = *p;
            if (*p == '\\' && p[1])
                *q++ = *++p;
            else if (*p == '"')
                in_string = false;
        } else if (*p == '"') {
            in_string = true;
            *q++ = *p;
        } else if (*p == '\t') {
            *q++ = ' ';
            *q++ = ' ';
        } else {
            *q++ = *p;
        }
    }
    *q = '\0';
    cJSON_free(s);
    return o;
}

/* json_print/json_write give cJSON's text byte for byte, compact and
 * pretty: numbers (ints, int limits, fractions that need 17 digits, huge,
 * tiny, negative zero), escapes, nesting, empty containers. */
static void test_write_is_cjson_text(void **state)
{
    (void)state;
    const char *docs[] = {
        "[0, -0, 1, -1, 2147483647, -2147483648, 2147483648, -2147483649, 1e300, -1e-300, 0.1,"
        " 0.3, 1.5, 123456789.123456789, 1e21, 3.141592653589793, 5e-324]",
        "{\"a\": \"quote \\\" back \\\\ nl \\n cr \\r tab \\t bs \\b ff \\f nul-ish \\u0001"
        " \\u001f del \\u007f \\u00e9 \\ud83d\\ude00\", \"\": {}, \"e\": [], \"n\": null,"
        " \"t\": true, \"f\": false}",
        "{\"deep\": [{\"x\": [[1, {\"y\": {}}], []]}, {\"z\": [{}]}], \"s\": \"\"}",
        "\"top\"",
        "42",
        "[]",
        "{}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        cJSON *doc = parse(docs[i]);
        for (int pretty = 0; pretty < 2; pretty++) {
            char *want = cjson_reference(doc, pretty);
            char *got = json_print(doc, pretty);
            assert_non_null(got);
            assert_string_equal(got, want);
            free(want);
            free(got);
        }
        cJSON_Delete(doc);
    }
    /* Where cJSON loses a bit (it takes 15 digits that read back within
     * one epsilon), the writer keeps 17: the text reads back the same. */
    cJSON *exact = parse("[9007199254740993, 0.30000000000000004]");
    char *text = json_print(exact, false);
    assert_string_equal(text, "[9007199254740992,0.30000000000000004]");
    cJSON *back = parse(text);
    assert_true(json_equal(exact, back));
    cJSON_Delete(back);
    cJSON_Delete(exact);
    free(text);
    /* Built in code: numbers set past their int, references, a raw node. */
    cJSON *o = cJSON_CreateObject();
    cJSON *big = cJSON_CreateArray();
    for (int i = 0; i < 300; i++)
        cJSON_AddItemToArray(big, cJSON_CreateNumber(i * 1.25 - 7));
    cJSON_AddItemToObject(o, "numbers", big);
    cJSON_AddItemReferenceToObject(o, "again", big);
    cJSON_AddRawToObject(o, "raw", "[1,2]");
    cJSON_AddNumberToObject(o, "nan", NAN);
    char *want = cjson_reference(o, true), *got = json_print(o, true);
    assert_string_equal(got, want);
    free(want);
    free(got);
    /* Past the buffer's limit: UTIL_ERR_LIMIT, nothing half-written read. */
    struct util_buf b;
    util_buf_init(&b, 100);
    assert_int_equal(json_write(&b, o, false), UTIL_ERR_LIMIT);
    util_buf_finish(&b);
    cJSON_Delete(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors_have_position),
        cmocka_unit_test(test_parse_duplicate_keys),
        cmocka_unit_test(test_parse_utf8_and_number_range),
        cmocka_unit_test(test_parse_depth_cap),
        cmocka_unit_test(test_parse_refuses_raw_control_characters),
        cmocka_unit_test(test_parse_keeps_nul),
        cmocka_unit_test(test_parse_errors_all_have_position),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_types_and_print),
        cmocka_unit_test(test_write_is_cjson_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
