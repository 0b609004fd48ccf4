/* YAML loader (libyaml -> cJSON), its line table, and SHA-256. */
#include "openapi/sha256.h"
#include "openapi/yaml_json.h"
#include "util/caps.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static cJSON *load(const char *text, struct openapi_line_table **lines)
{
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    int rc = openapi_yaml_parse(text, strlen(text), "t.yml", &doc, lines, &e);
    if (rc != UTIL_OK)
        fail_msg("unexpected error: %s", e.message);
    return doc;
}

/* Parses text expecting failure with code; returns the error. */
static struct util_error load_fail(const char *text, int code)
{
    cJSON *doc = NULL;
    struct openapi_line_table *lines = NULL;
    struct util_error e;
    util_error_clear(&e);
    int rc = openapi_yaml_parse(text, strlen(text), "t.yml", &doc, &lines, &e);
    assert_int_equal(rc, code);
    assert_null(doc);
    assert_null(lines);
    return e;
}

static void test_scalar_types(void **state)
{
    (void)state;
    const char *y = "quoted: '200'\n"
                    "dq: \"200\"\n"
                    "plain: 200\n"
                    "neg: -3\n"
                    "flt: 1.5\n"
                    "exp: 1e3\n"
                    "hex: 0x1F\n"
                    "oct: 0o17\n"
                    "t: true\n"
                    "f: False\n"
                    "n: null\n"
                    "tilde: ~\n"
                    "empty:\n"
                    "s: hello world\n"
                    "yes11: yes\n"
                    "on11: on\n"
                    "ver: 1.0.0\n"
                    "lit: |\n  line\n"
                    "tagstr: !!str 12\n"
                    "tagint: !!int '7'\n"
                    "'200': ok\n"
                    "qinf: '.inf'\n";
    cJSON *d = load(y, NULL);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(d, "quoted")));
    assert_string_equal(cJSON_GetObjectItem(d, "quoted")->valuestring, "200");
    assert_true(cJSON_IsString(cJSON_GetObjectItem(d, "dq")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(d, "plain")));
    assert_int_equal(cJSON_GetObjectItem(d, "plain")->valueint, 200);
    assert_int_equal(cJSON_GetObjectItem(d, "neg")->valueint, -3);
    assert_true(cJSON_GetObjectItem(d, "flt")->valuedouble == 1.5);
    assert_true(cJSON_GetObjectItem(d, "exp")->valuedouble == 1000.0);
    assert_int_equal(cJSON_GetObjectItem(d, "hex")->valueint, 31);
    assert_int_equal(cJSON_GetObjectItem(d, "oct")->valueint, 15);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(d, "t")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(d, "f")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "n")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "tilde")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(d, "empty")));
    assert_string_equal(cJSON_GetObjectItem(d, "s")->valuestring, "hello world");
    /* YAML 1.2 core: 1.1 booleans stay strings. */
    assert_string_equal(cJSON_GetObjectItem(d, "yes11")->valuestring, "yes");
    assert_string_equal(cJSON_GetObjectItem(d, "on11")->valuestring, "on");
    assert_string_equal(cJSON_GetObjectItem(d, "ver")->valuestring, "1.0.0");
    assert_string_equal(cJSON_GetObjectItem(d, "lit")->valuestring, "line\n");
    assert_string_equal(cJSON_GetObjectItem(d, "tagstr")->valuestring, "12");
    assert_int_equal(cJSON_GetObjectItem(d, "tagint")->valueint, 7);
    assert_string_equal(cJSON_GetObjectItem(d, "200")->valuestring, "ok");
    assert_string_equal(cJSON_GetObjectItem(d, "qinf")->valuestring, ".inf");
    cJSON_Delete(d);
}

static void test_sequences_and_flow(void **state)
{
    (void)state;
    cJSON *d = load("a:\n- 1\n- x\n- [true, null]\n- {k: v}\n", NULL);
    cJSON *a = cJSON_GetObjectItem(d, "a");
    assert_int_equal(cJSON_GetArraySize(a), 4);
    assert_true(cJSON_IsNumber(cJSON_GetArrayItem(a, 0)));
    assert_true(cJSON_IsString(cJSON_GetArrayItem(a, 1)));
    assert_true(cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetArrayItem(a, 2), 0)));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 3), "k")->valuestring, "v");
    cJSON_Delete(d);
    /* An empty stream is a null document; a scalar root is fine. */
    d = load("", NULL);
    assert_true(cJSON_IsNull(d));
    cJSON_Delete(d);
    d = load("--- 42\n...\n", NULL);
    assert_int_equal(d->valueint, 42);
    cJSON_Delete(d);
}

static void test_syntax_errors_have_position(void **state)
{
    (void)state;
    struct util_error e = load_fail("a: 1\nb: [1, 2\nc: 3\n", UTIL_ERR_PARSE);
    assert_true(e.line >= 2);
    assert_true(e.column >= 1);
    assert_string_equal(e.file, "t.yml");
    char want[32];
    snprintf(want, sizeof(want), "t.yml:%d:%d:", e.line, e.column);
    assert_non_null(strstr(e.message, want));
    assert_non_null(strstr(e.message, "expected"));

    e = load_fail("a:\n  b: 1\n c: 2\n", UTIL_ERR_PARSE);
    assert_int_equal(e.line, 3);
    assert_non_null(strstr(e.message, "t.yml:3:"));
    assert_non_null(strstr(e.message, "expected"));

    e = load_fail("a: @x\n", UTIL_ERR_PARSE);
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 4);

    e = load_fail("a: !custom x\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "unsupported tag"));
    assert_non_null(strstr(e.message, "t.yml:1:4:"));

    e = load_fail("a: .inf\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "not representable"));
    e = load_fail("a: 1e999\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "out of range"));

    e = load_fail("a: 1\n---\nb: 2\n", UTIL_ERR_PARSE);
    assert_int_equal(e.line, 2);
    assert_non_null(strstr(e.message, "single YAML document"));

    e = load_fail("? [a, b]\n: 1\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "complex"));

    e = load_fail("a: \"\\0\"\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "NUL"));
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    struct util_error e = load_fail("a: 1\nb: 2\na: 3\n", UTIL_ERR_PARSE);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 1);
    assert_non_null(strstr(e.message, "duplicate key \"a\""));
    assert_non_null(strstr(e.message, "line 1"));
    /* Nested, in flow style, and quoted-vs-plain spellings of one key. */
    e = load_fail("x:\n  y: {k: 1, k: 2}\n", UTIL_ERR_PARSE);
    assert_int_equal(e.line, 2);
    e = load_fail("r:\n  '200': a\n  200: b\n", UTIL_ERR_PARSE);
    assert_int_equal(e.line, 3);
    /* The same key in different mappings is fine. */
    cJSON *d = load("a: {k: 1}\nb: {k: 2}\n", NULL);
    cJSON_Delete(d);
}

static void test_aliases(void **state)
{
    (void)state;
    cJSON *d = load("base: &b {x: 1, y: [1, 2]}\ncopy: *b\ns: &s str\nt: *s\n", NULL);
    assert_true(cJSON_Compare(cJSON_GetObjectItem(d, "base"), cJSON_GetObjectItem(d, "copy"), 1));
    assert_string_equal(cJSON_GetObjectItem(d, "t")->valuestring, "str");
    cJSON_Delete(d);

    struct util_error e = load_fail("a: *nope\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "no anchor"));
    assert_int_equal(e.line, 1);
    e = load_fail("a: &a [1, *a]\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "recursive"));
    e = load_fail("b: &b {x: 1}\nc:\n  <<: *b\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "merge keys"));
    assert_int_equal(e.line, 3);
    /* Billion laughs: each level doubles; refused by the node budget. */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n";
    e = load_fail(bomb, UTIL_ERR_LIMIT);
    assert_non_null(strstr(e.message, "alias"));
}

/* Aliases are capped by the bytes they copy, not only by nodes: a few
 * aliases of a big string are refused where the cap is crossed. */
static void test_alias_bytes(void **state)
{
    (void)state;
    size_t big = 1024 * 1024, n = UTIL_CAP_YAML_ALIAS_BYTES / big;
    char *y = malloc(big + 64 + 4 * (n + 1));
    if (!y)
        fail_msg("out of memory");
    memcpy(y, "s: &s ", 6);
    size_t k = 6;
    for (size_t i = 0; i < big; i++)
        y[k + i] = 'x';
    k += big;
    k += (size_t)sprintf(y + k, "\nt: [");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(y + k, "%s*s", i ? "," : "");
    k += (size_t)sprintf(y + k, "]\n");
    /* n copies reach the cap exactly: accepted. */
    cJSON *d = load(y, NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(d, "t")), (int)n);
    cJSON_Delete(d);
    /* One more is refused, at that alias. */
    sprintf(y + k - 2, ",*s]\n");
    struct util_error e = load_fail(y, UTIL_ERR_LIMIT);
    char want[128];
    snprintf(want, sizeof(want), "t.yml:2:%zu: aliases copy more than the cap of %u bytes",
             3 * n + 5, UTIL_CAP_YAML_ALIAS_BYTES);
    if (!strstr(e.message, want))
        fail_msg("got: %s", e.message);
    assert_int_equal(e.line, 2);
    free(y);
}

/* A flat sequence and a wide mapping: every index and key is where it
 * should be (the builder counts items instead of recounting them). */
static void test_wide_documents(void **state)
{
    (void)state;
    size_t n = 200000;
    char *y = malloc(16 * n + 16);
    assert_non_null(y);
    size_t k = (size_t)sprintf(y, "[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(y + k, "%s%zu", i ? "," : "", i);
    sprintf(y + k, "]\n");
    struct openapi_line_table *lines = NULL;
    cJSON *d = load(y, &lines);
    assert_int_equal(cJSON_GetArraySize(d), (int)n);
    assert_int_equal(cJSON_GetArrayItem(d, (int)n - 1)->valueint, (int)n - 1);
    int col = 0;
    assert_int_equal(openapi_line_table_lookup(lines, "/199999", &col), 1);
    assert_int_equal(col, (int)k - 6 + 1);
    cJSON_Delete(d);
    openapi_line_table_destroy(lines);

    k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(y + k, "k%zu: %zu\n", i, i);
    d = load(y, NULL);
    assert_int_equal(cJSON_GetArraySize(d), (int)n);
    assert_int_equal(cJSON_GetObjectItem(d, "k199999")->valueint, (int)n - 1);
    cJSON_Delete(d);
    sprintf(y + k, "k123456: again\n");
    struct util_error e = load_fail(y, UTIL_ERR_PARSE);
    char want[128];
    snprintf(want, sizeof(want),
             "t.yml:%zu:1: duplicate key \"k123456\" in mapping (first "
             "defined at line 123457)",
             n + 1);
    assert_non_null(strstr(e.message, want));
    free(y);
}

/* Long keys nested deep over many items: the line table would hold each
 * item's whole path; it is capped per input byte instead. */
static void test_line_table_cap(void **state)
{
    (void)state;
    size_t depth = 300, key = 1000, items = 100000;
    char *y = malloc(depth * (depth + key + 16) + 2 * items + 16);
    if (!y)
        fail_msg("out of memory");
    size_t k = 0;
    for (size_t i = 0; i < depth; i++) {
        memset(y + k, ' ', i);
        k += i;
        memset(y + k, 'k', key);
        k += key;
        k += (size_t)sprintf(y + k, "%zu:\n", i);
    }
    memset(y + k, ' ', depth);
    k += depth;
    y[k++] = '[';
    for (size_t i = 0; i < items; i++)
        k += (size_t)sprintf(y + k, "%s1", i ? "," : "");
    sprintf(y + k, "]\n");
    struct util_error e = load_fail(y, UTIL_ERR_LIMIT);
    assert_non_null(strstr(e.message, "the paths of this document's nodes take more than"));
    assert_true(e.line > 0);
    free(y);
}

/* libyaml's reader errors (a byte offset) become file:line:column. */
static void test_encoding_errors(void **state)
{
    (void)state;
    struct util_error e = load_fail("a: 1\nb: x\xff\n", UTIL_ERR_PARSE);
    assert_string_equal(e.message, "t.yml:2:5: byte 0xFF is not UTF-8");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 5);
    /* A bad trailing byte: the sequence is named by its leading byte;
     * columns count characters, \r\n ends one line. */
    e = load_fail("a: 1\r\nb: \"\xc3\xa9\xc3(\"\n", UTIL_ERR_PARSE);
    assert_string_equal(e.message, "t.yml:2:6: byte 0xC3 is not UTF-8");
    e = load_fail("a: \xe2\x82", UTIL_ERR_PARSE);
    assert_string_equal(e.message, "t.yml:1:4: byte 0xE2 is not UTF-8");
    e = load_fail("a:\n  - \x01\n", UTIL_ERR_PARSE);
    assert_non_null(strstr(e.message, "t.yml:2:5: control character U+0001 is not allowed"));
    /* A byte order mark takes no column. */
    e = load_fail("\xef\xbb\xbf\xff", UTIL_ERR_PARSE);
    assert_string_equal(e.message, "t.yml:1:1: byte 0xFF is not UTF-8");
}

static char *nested(size_t depth)
{
    char *s = malloc(2 * depth + 1);
    assert_non_null(s);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

static void test_depth_cap(void **state)
{
    (void)state;
    char *deep = nested(UTIL_CAP_NESTING_DEPTH + 1);
    struct util_error e = load_fail(deep, UTIL_ERR_LIMIT);
    assert_non_null(strstr(e.message, "nesting"));
    assert_int_equal(e.line, 1);
    free(deep);
    char *ok = nested(UTIL_CAP_NESTING_DEPTH);
    cJSON *d = load(ok, NULL);
    assert_non_null(d);
    cJSON_Delete(d);
    free(ok);
}

static void test_size_cap(void **state)
{
    (void)state;
    size_t n = (size_t)UTIL_CAP_SPEC_FILE + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = 'a';
    big[1] = ':';
    big[n] = '\0';
    cJSON *doc = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(openapi_yaml_parse(big, n, "big.yml", &doc, NULL, &e), UTIL_ERR_LIMIT);
    assert_null(doc);
    assert_non_null(strstr(e.message, "cap"));
    free(big);
}

static void test_line_table(void **state)
{
    (void)state;
    struct openapi_line_table *t = NULL;
    cJSON *d = load("openapi: 3.0.2\n"           /* 1 */
                    "paths:\n"                   /* 2 */
                    "  /1/a:\n"                  /* 3 */
                    "    get:\n"                 /* 4 */
                    "      responses:\n"         /* 5 */
                    "        '200':\n"           /* 6 */
                    "          description: x\n" /* 7 */
                    "      tags:\n"              /* 8 */
                    "      - one\n"              /* 9 */
                    "      - two\n"              /* 10 */
                    "e: {a~b: 1}\n",             /* 11 */
                    &t);
    assert_non_null(t);
    assert_int_equal(openapi_line_table_lookup(t, "", NULL), 1);
    assert_int_equal(openapi_line_table_lookup(t, "/openapi", NULL), 1);
    assert_int_equal(openapi_line_table_lookup(t, "/paths", NULL), 2);
    int col = 0;
    assert_int_equal(openapi_line_table_lookup(t, "/paths/~11~1a/get", &col), 4);
    assert_int_equal(col, 5);
    assert_int_equal(openapi_line_table_lookup(t, "/paths/~11~1a/get/responses/200", NULL), 6);
    assert_int_equal(
        openapi_line_table_lookup(t, "/paths/~11~1a/get/responses/200/description", NULL), 7);
    assert_int_equal(openapi_line_table_lookup(t, "/paths/~11~1a/get/tags/1", &col), 10);
    assert_int_equal(col, 9);
    assert_int_equal(openapi_line_table_lookup(t, "/e/a~0b", NULL), 11);
    assert_int_equal(openapi_line_table_lookup(t, "/nope", &col), 0);
    assert_int_equal(col, 0);
    assert_int_equal(openapi_line_table_count(t), 13);
    openapi_line_table_destroy(t);
    openapi_line_table_destroy(NULL);
    cJSON_Delete(d);
}

static void test_load_file_errors(void **state)
{
    (void)state;
    cJSON *d = NULL;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(openapi_yaml_load_file("/nonexistent/x.yml", &d, NULL, &e), UTIL_ERR_IO);
    assert_null(d);
}

static void test_sha256(void **state)
{
    (void)state;
    char hex[OPENAPI_SHA256_HEX_SIZE];
    openapi_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    openapi_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    openapi_sha256_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* One million 'a', fed in uneven pieces. */
    char *m = malloc(1000000);
    assert_non_null(m);
    memset(m, 'a', 1000000);
    struct openapi_sha256_ctx c;
    unsigned char dgst[OPENAPI_SHA256_SIZE];
    openapi_sha256_init(&c);
    size_t off = 0, step = 1;
    while (off < 1000000) {
        size_t n = step < 1000000 - off ? step : 1000000 - off;
        openapi_sha256_update(&c, m + off, n);
        off += n;
        step = step * 3 + 1;
    }
    openapi_sha256_final(&c, dgst);
    assert_int_equal(dgst[0], 0xcd);
    assert_int_equal(dgst[31], 0xd0);
    openapi_sha256_hex(m, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_types),
        cmocka_unit_test(test_sequences_and_flow),
        cmocka_unit_test(test_syntax_errors_have_position),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_alias_bytes),
        cmocka_unit_test(test_wide_documents),
        cmocka_unit_test(test_encoding_errors),
        cmocka_unit_test(test_line_table_cap),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_line_table),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
