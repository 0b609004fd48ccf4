/* SHA-256: the FIPS 180-4 examples, one million 'a', and the same digest
 * whatever the pieces the input is given in (through the SHA extensions
 * on a processor that has them, else the portable rounds). */
#include "openapi/sha256.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void hex_of(const unsigned char d[OPENAPI_SHA256_SIZE], char out[OPENAPI_SHA256_HEX_SIZE])
{
    for (int i = 0; i < OPENAPI_SHA256_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_known_answers(void **state)
{
    (void)state;
    static const struct {
        const char *in, *hex;
    } kat[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
         "lmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        char hex[OPENAPI_SHA256_HEX_SIZE];
        openapi_sha256_hex(kat[i].in, strlen(kat[i].in), hex);
        assert_string_equal(hex, kat[i].hex);
    }
    /* No bytes at all, as a caller with an empty buffer (NULL) gives them. */
    struct openapi_sha256_ctx c;
    unsigned char d[OPENAPI_SHA256_SIZE];
    char empty[OPENAPI_SHA256_HEX_SIZE];
    openapi_sha256_init(&c);
    openapi_sha256_update(&c, NULL, 0);
    openapi_sha256_final(&c, d);
    hex_of(d, empty);
    assert_string_equal(empty, kat[0].hex);
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    char hex[OPENAPI_SHA256_HEX_SIZE];
    openapi_sha256_hex(a, 1000000, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* Every length from 0 to 300, given whole and in pieces of 1 to 130 bytes. */
static void test_pieces(void **state)
{
    (void)state;
    unsigned char data[300];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(data); i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (unsigned char)(x >> 16);
    }
    for (size_t len = 0; len <= sizeof(data); len++) {
        char whole[OPENAPI_SHA256_HEX_SIZE];
        openapi_sha256_hex(data, len, whole);
        for (size_t piece = 1; piece <= 130; piece += 7) {
            struct openapi_sha256_ctx c;
            unsigned char d[OPENAPI_SHA256_SIZE];
            char hex[OPENAPI_SHA256_HEX_SIZE];
            openapi_sha256_init(&c);
            for (size_t at = 0; at < len; at += piece)
                openapi_sha256_update(&c, data + at, len - at < piece ? len - at : piece);
            openapi_sha256_final(&c, d);
            hex_of(d, hex);
            assert_string_equal(hex, whole);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
