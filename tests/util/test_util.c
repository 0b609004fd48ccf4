#include "util/buf.h"
#include "util/caps.h"
#include "util/error.h"
#include "util/file.h"
#include "util/header.h"
#include "util/secret.h"
#include "util/text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

static void test_buf_append_and_cap(void **state)
{
    (void)state;
    struct util_buf b;
    util_buf_init(&b, 8);
    assert_int_equal(util_buf_puts(&b, "abcd"), UTIL_OK);
    assert_int_equal(util_buf_printf(&b, "%d", 1234), UTIL_OK);
    assert_string_equal(b.data, "abcd1234");
    assert_int_equal(b.error, UTIL_OK);
    assert_int_equal(util_buf_putc(&b, 'x'), UTIL_ERR_LIMIT);
    assert_string_equal(b.data, "abcd1234");
    assert_int_equal(b.error, UTIL_ERR_LIMIT); /* recorded for a check at the end */
    util_buf_reset(&b);
    assert_int_equal(b.error, UTIL_OK);
    assert_int_equal(util_buf_puts(&b, "abcd1234"), UTIL_OK);
    char *s = util_buf_steal(&b);
    assert_string_equal(s, "abcd1234");
    free(s);
    assert_null(b.data);
    util_buf_finish(&b);
}

static void test_buf_grows(void **state)
{
    (void)state;
    struct util_buf b;
    util_buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(util_buf_printf(&b, "%04d", i % 10000), UTIL_OK);
    assert_int_equal(b.len, 40000);
    assert_memory_equal(b.data + 39996, "9999", 4);
    util_buf_finish(&b);
}

/* util_buf_printf's paths: short text via the stack, long text measured
 * first, text formatted in the room already there, and the limit kept in
 * each (the buffer left as it was, terminated). */
static void test_buf_printf_paths(void **state)
{
    (void)state;
    char long_text[1000];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    struct util_buf b;
    util_buf_init(&b, 4096);
    assert_int_equal(util_buf_printf(&b, "<%s>", long_text), UTIL_OK);
    assert_int_equal(b.len, 1001);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[1000], '>');
    util_buf_reset(&b);
    assert_int_equal(util_buf_printf(&b, "%s-%d", "in room", 7), UTIL_OK);
    assert_string_equal(b.data, "in room-7");
    util_buf_finish(&b);

    util_buf_init(&b, 600);
    assert_int_equal(util_buf_puts(&b, "keep"), UTIL_OK);
    assert_int_equal(util_buf_printf(&b, "%s", long_text), UTIL_ERR_LIMIT); /* measured */
    assert_string_equal(b.data, "keep");
    assert_int_equal(util_buf_printf(&b, "%.590s", long_text), UTIL_OK); /* grows */
    assert_int_equal(b.len, 594);
    util_buf_reset(&b);
    assert_int_equal(util_buf_puts(&b, "ab"), UTIL_OK);
    /* 599 fits in the room allocated (1024) but not under the limit */
    assert_int_equal(util_buf_printf(&b, "%.599s", long_text), UTIL_ERR_LIMIT);
    assert_string_equal(b.data, "ab");
    assert_int_equal(b.len, 2);
    util_buf_finish(&b);
}

static void test_error_prefix(void **state)
{
    (void)state;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(util_error_set(&e, UTIL_ERR_IO, "cannot read %s", "x"), UTIL_ERR_IO);
    util_error_prefix(&e, "loading %d", 3);
    assert_string_equal(e.message, "loading 3: cannot read x");
    assert_int_equal(util_error_set(NULL, UTIL_ERR_NOMEM, "ignored"), UTIL_ERR_NOMEM);
    /* One line, whatever the input quoted (a YAML key with line breaks,
     * found by fuzzing; a terminal escape sequence). */
    util_error_set(&e, UTIL_ERR_INVALID, "unknown key \"%s\"", "a\nb\r\tc\x1b[31md\x7f");
    assert_string_equal(e.message, "unknown key \"a\\nb\\r\\tc\\x1b[31md\\x7f\"");
    util_error_prefix(&e, "f\ng");
    assert_string_equal(e.message, "f\\ng: unknown key \"a\\nb\\r\\tc\\x1b[31md\\x7f\"");
    /* The message may be an argument of its own update. */
    util_error_set(&e, UTIL_ERR_IO, "%s (again)", e.message);
    assert_non_null(strstr(e.message, "(again)"));
}

/* util_file_write_parts_atomic writes the concatenation, empty and NULL
 * parts included. */
static void test_file_write_parts(void **state)
{
    (void)state;
    char dir[] = "/tmp/ic-util-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof(path), "%s/parts.txt", dir);
    struct util_file_part parts[] = {{"ab", 2}, {NULL, 0}, {"", 0}, {"cde", 3}};
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(util_file_write_parts_atomic(path, parts, 4, &e), UTIL_OK);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(util_file_read(path, 100, &text, &len, &e), UTIL_OK);
    assert_int_equal(len, 5);
    assert_string_equal(text, "abcde");
    free(text);
    unlink(path);
    rmdir(dir);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(util_utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x80", 10));
    assert_int_equal(util_utf8_valid_prefix("ab\xff"
                                            "cd",
                                            5),
                     2);
    assert_int_equal(util_utf8_valid_prefix("\xe2\x82", 2), 0);         /* cut sequence */
    assert_int_equal(util_utf8_valid_prefix("\xc1\xbf", 2), 0);         /* overlong */
    assert_int_equal(util_utf8_valid_prefix("\xed\xbf\xbf", 3), 0);     /* surrogate */
    assert_int_equal(util_utf8_valid_prefix("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
    struct util_buf b;
    util_buf_init(&b, 64);
    util_buf_puts(&b, "ok\xff|x\xe2\x82");
    assert_int_equal(util_utf8_repair(&b, 0), UTIL_OK);
    assert_string_equal(b.data, "ok\xef\xbf\xbd|x\xef\xbf\xbd\xef\xbf\xbd");
    assert_true(util_utf8_valid(b.data, b.len));
    /* Bytes before from are left alone. */
    util_buf_reset(&b);
    util_buf_puts(&b, "\xff\xff");
    assert_int_equal(util_utf8_repair(&b, 1), UTIL_OK);
    assert_string_equal(b.data, "\xff\xef\xbf\xbd");
    util_buf_finish(&b);
}

static void test_file_roundtrip_atomic(void **state)
{
    (void)state;
    char dir[] = "/tmp/ic-util-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *sub = util_path_join(dir, "a/b");
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(util_mkdir_p(sub, &e), UTIL_OK);
    char *path = util_path_join(sub, "f.txt");
    assert_int_equal(util_file_write_atomic(path, "hello", 5, &e), UTIL_OK);
    assert_int_equal(util_file_write_atomic(path, "world!", 6, &e), UTIL_OK);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(util_file_read(path, 100, &data, &len, &e), UTIL_OK);
    assert_int_equal(len, 6);
    assert_string_equal(data, "world!");
    free(data);
    assert_int_equal(util_file_read(path, 5, &data, &len, &e), UTIL_ERR_LIMIT);
    assert_non_null(strstr(e.message, "cap"));
    assert_int_equal(util_file_read("/nonexistent/x", 5, &data, &len, &e), UTIL_ERR_IO);
    assert_non_null(strstr(e.message, "/nonexistent/x"));
    /* No temporary files are left beside the target. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", sub);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(path);
    free(sub);
}

static void test_file_write_into_missing_dir_fails(void **state)
{
    (void)state;
    struct util_error e;
    util_error_clear(&e);
    assert_int_equal(util_file_write_atomic("/nonexistent-dir/x.json", "x", 1, &e), UTIL_ERR_IO);
    assert_non_null(strstr(e.message, "/nonexistent-dir/x.json"));
}

/* Every status has its own name; a prefix too long for the message is
 * cut, never overflowing; NULL errors are ignored. */
static void test_error_names_and_limits(void **state)
{
    (void)state;
    static const int codes[] = {UTIL_OK,           UTIL_ERR_NOMEM, UTIL_ERR_IO,
                                UTIL_ERR_PARSE,    UTIL_ERR_LIMIT, UTIL_ERR_INVALID,
                                UTIL_ERR_NOTFOUND, UTIL_ERR_USAGE};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_string_not_equal(util_status_name(codes[i]), "error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(util_status_name(codes[i]), util_status_name(codes[j]));
    }
    assert_string_equal(util_status_name(-99), "error");

    struct util_error e;
    char longp[2 * UTIL_ERROR_MESSAGE_MAX];
    memset(longp, 'p', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    util_error_clear(&e);
    util_error_set(&e, UTIL_ERR_IO, "tail");
    util_error_prefix(&e, "%s", longp);
    assert_int_equal(strlen(e.message), UTIL_ERROR_MESSAGE_MAX - 1);
    assert_memory_equal(e.message + UTIL_ERROR_MESSAGE_MAX - 3, ": ", 2);
    util_error_prefix(NULL, "x");
    util_error_at(NULL, "f", 1, 2);
    util_error_at(&e, NULL, 3, 4);
    assert_string_equal(e.file, "");
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 4);
    util_error_clear(NULL);
}

/* Reading an empty file, a directory, a file larger than the first read
 * buffer against a cap; mkdir_p through a regular file; a rename over a
 * directory; path joins. */
static void test_file_edges(void **state)
{
    (void)state;
    char dir[] = "/tmp/ic-util-XXXXXX", path[256], cmd[512];
    struct util_error e;
    char *data = NULL;
    size_t len = 7;
    assert_non_null(mkdtemp(dir));
    util_error_clear(&e);

    snprintf(path, sizeof(path), "%s/empty", dir);
    assert_int_equal(util_file_write_atomic(path, "", 0, &e), UTIL_OK);
    assert_true(util_file_exists(path));
    assert_false(util_dir_exists(path));
    assert_int_equal(util_file_read(path, 10, &data, &len, &e), UTIL_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);

    assert_true(util_dir_exists(dir));
    assert_false(util_file_exists(dir));
    assert_int_equal(util_file_read(dir, 10, &data, &len, &e), UTIL_ERR_IO);
    assert_non_null(strstr(e.message, "is a directory; expected a regular file"));

    /* A FIFO with no writer: refused at once, never waited on. */
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(util_file_read(path, 10, &data, &len, &e), UTIL_ERR_IO);
    assert_non_null(strstr(e.message, "fifo: is a FIFO (named pipe); expected a regular file"));
    FILE *f = NULL;
    assert_int_equal(util_file_open(path, &f, &e), UTIL_ERR_IO);
    assert_null(f);
    assert_int_equal(util_file_open("/dev/null", &f, &e), UTIL_ERR_IO);
    assert_non_null(strstr(e.message, "/dev/null: is a device"));
    unlink(path);

    /* 200 000 bytes: several reads; the cap falls in the middle. */
    static char big[200000];
    memset(big, 'x', sizeof(big));
    snprintf(path, sizeof(path), "%s/big", dir);
    assert_int_equal(util_file_write_atomic(path, big, sizeof(big), &e), UTIL_OK);
    assert_int_equal(util_file_read(path, sizeof(big), &data, &len, &e), UTIL_OK);
    assert_int_equal(len, sizeof(big));
    assert_memory_equal(data, big, sizeof(big));
    free(data);
    assert_int_equal(util_file_read(path, 150000, &data, &len, &e), UTIL_ERR_LIMIT);
    assert_non_null(strstr(e.message, "larger than the cap of 150000 bytes"));

    /* A directory where a file is to go: the temporary file is removed. */
    snprintf(path, sizeof(path), "%s/sub", dir);
    assert_int_equal(util_mkdir_p(path, &e), UTIL_OK);
    assert_int_equal(util_mkdir_p(path, &e), UTIL_OK); /* exists: fine */
    assert_int_equal(util_file_write_atomic(path, "x", 1, &e), UTIL_ERR_IO);
    assert_non_null(strstr(e.message, "rename failed"));
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 3", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/empty/below", dir);
    assert_int_equal(util_mkdir_p(path, &e), UTIL_ERR_IO);
    assert_non_null(strstr(e.message, "cannot create directory"));

    char *j = util_path_join("a///", "b");
    assert_string_equal(j, "a/b");
    free(j);
    j = util_path_join("/", "b");
    assert_string_equal(j, "//b");
    free(j);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Header values: CR, LF, NUL, other controls, and U+0000 as a JSON string
 * holds it (0xC0 0x80) are refused; a tab and UTF-8 are not. */
static void test_header_values(void **state)
{
    (void)state;
    char why[128];
    assert_true(util_header_value_ok("a\tb \xc3\xa9", 6, why, sizeof(why)));
    assert_false(util_header_value_ok("a\r\nX-Injected: yes", 19, why, sizeof(why)));
    assert_non_null(strstr(why, "carriage return"));
    assert_false(util_header_value_ok("a\0b", 3, why, sizeof(why)));
    assert_non_null(strstr(why, "NUL"));
    assert_false(util_header_value_ok("a\xc0\x80" "b", 4, why, sizeof(why)));
    assert_non_null(strstr(why, "NUL"));
    assert_true(util_header_value_ok("a\xc0", 2, why, sizeof(why)));
    assert_true(util_header_name_ok("X-Custom_1", why, sizeof(why)));
    assert_false(util_header_name_ok("X Custom", why, sizeof(why)));
    assert_false(util_header_name_ok("", why, sizeof(why)));
}

/* Issue 12, L3: the userinfo of a URL is split off (percent-decoded; the
 * last '@' of the authority ends it), the rest kept as it was. */
static void test_secret_userinfo(void **state)
{
    (void)state;
    static const struct {
        const char *url, *clean, *userinfo;
    } cases[] = {
        {"http://admin:hunter2PASS@127.0.0.1:8080/x?a=b@c", "http://127.0.0.1:8080/x?a=b@c",
         "admin:hunter2PASS"},
        {"https://u%40x:p%3Aw%2F@h", "https://h", "u@x:p:w/"},
        {"http://user@h/", "http://h/", "user:"},
        {"http://a:b@c@h:1", "http://h:1", "a:b@c"},
        {"http://h:1/p@q", "http://h:1/p@q", NULL},
        {"http://[::1]:8/", "http://[::1]:8/", NULL},
        {"", "", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *clean = NULL, *userinfo = NULL;
        assert_int_equal(util_secret_split_userinfo(cases[i].url, &clean, &userinfo), UTIL_OK);
        assert_string_equal(clean, cases[i].clean);
        if (cases[i].userinfo)
            assert_string_equal(userinfo, cases[i].userinfo);
        else
            assert_null(userinfo);
        free(clean);
        free(userinfo);
    }
}

static bool name_is_secret(void *user, const char *name)
{
    (void)user;
    return util_secret_field(name, strlen(name));
}

static int put_x(void *user, const char *name, const char *value, size_t n, struct util_buf *out)
{
    (void)user;
    (void)value;
    (void)n;
    return util_buf_printf(out, "\"<%s>\"", name);
}

/* Members named like secrets are replaced whole whatever their value,
 * names are unescaped, strings are not looked into, a cut value runs to
 * the end. */
static void test_secret_members(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{\"a\":1,\"password\":{\"b\":[1,\"}\"]},\"c\":2}",
         "{\"a\":1,\"password\":\"<password>\",\"c\":2}"},
        {"[{\"Key\" : [1, [2]] , \"x\":\"password\"}]",
         "[{\"Key\" : \"<Key>\" , \"x\":\"password\"}]"},
        {"{\"pass\\u0077ord\":-1.5e3}", "{\"pass\\u0077ord\":\"<password>\"}"},
        {"{\"s\":\"{\\\"password\\\":1}\"}", "{\"s\":\"{\\\"password\\\":1}\"}"},
        {"{\"secret\":tru", "{\"secret\":\"<secret>\""},
        {"{\"apiKey\":\"ab\\\"c", "{\"apiKey\":\"<apiKey>\""},
        {"no JSON here", "no JSON here"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct util_buf b;
        util_buf_init(&b, 4096);
        bool changed = false;
        assert_int_equal(util_secret_members(cases[i].in, strlen(cases[i].in), name_is_secret,
                                             put_x, NULL, &b, &changed),
                         UTIL_OK);
        assert_string_equal(b.data ? b.data : "", cases[i].out);
        assert_int_equal(changed, strcmp(cases[i].in, cases[i].out) != 0);
        util_buf_finish(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_append_and_cap),
        cmocka_unit_test(test_buf_grows),
        cmocka_unit_test(test_buf_printf_paths),
        cmocka_unit_test(test_file_write_parts),
        cmocka_unit_test(test_error_prefix),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_file_roundtrip_atomic),
        cmocka_unit_test(test_file_write_into_missing_dir_fails),
        cmocka_unit_test(test_error_names_and_limits),
        cmocka_unit_test(test_file_edges),
        cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_secret_userinfo),
        cmocka_unit_test(test_secret_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
