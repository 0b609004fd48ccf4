/* The digest that ends results.json; see report.h. */
#include "report/report.h"

#include "openapi/sha256.h"

#include <string.h>

#define HEX_DIGITS (2 * OPENAPI_SHA256_SIZE)

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

size_t report_digest_find(const char *text, size_t len)
{
    static const char prefix[] = "\"" REPORT_DIGEST_PREFIX;
    size_t at = len, plen = sizeof(prefix) - 1;
    while (at && is_space(text[at - 1]))
        at--;
    if (!at || text[--at] != '}')
        return SIZE_MAX;
    while (at && is_space(text[at - 1]))
        at--;
    if (!at || text[--at] != '"' || at < HEX_DIGITS + plen)
        return SIZE_MAX;
    at -= HEX_DIGITS;
    for (size_t i = 0; i < HEX_DIGITS; i++)
        if (!is_hex(text[at + i]))
            return SIZE_MAX;
    return memcmp(text + at - plen, prefix, plen) == 0 ? at : SIZE_MAX;
}

void report_digest_compute(const struct util_file_part *parts, size_t n, size_t at,
                           char hex[REPORT_DIGEST_HEX_SIZE])
{
    char zeros[HEX_DIGITS];
    struct openapi_sha256_ctx c;
    unsigned char md[OPENAPI_SHA256_SIZE];
    size_t offset = 0;
    memset(zeros, '0', sizeof(zeros));
    openapi_sha256_init(&c);
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[i].data;
        size_t len = parts[i].len;
        /* The part of [at, at + HEX_DIGITS) that falls in this part. */
        size_t from = at > offset ? at - offset : 0, to = at + HEX_DIGITS - offset;
        if (at == SIZE_MAX || at + HEX_DIGITS <= offset || at >= offset + len) {
            openapi_sha256_update(&c, p, len);
        } else {
            to = to < len ? to : len;
            openapi_sha256_update(&c, p, from);
            openapi_sha256_update(&c, zeros, to - from);
            openapi_sha256_update(&c, p + to, len - to);
        }
        offset += len;
    }
    openapi_sha256_final(&c, md);
    for (size_t i = 0; i < OPENAPI_SHA256_SIZE; i++) {
        hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
    }
    hex[HEX_DIGITS] = '\0';
}

bool report_digest_seal(char *text, size_t len)
{
    char hex[REPORT_DIGEST_HEX_SIZE];
    size_t at = report_digest_find(text, len);
    if (at == SIZE_MAX)
        return false;
    struct util_file_part all = {text, len};
    report_digest_compute(&all, 1, at, hex);
    memcpy(text + at, hex, HEX_DIGITS);
    return true;
}

int report_digest_verify(const char *text, size_t len, const cJSON *doc, struct util_error *err)
{
    const cJSON *last = doc ? doc->child : NULL;
    char hex[REPORT_DIGEST_HEX_SIZE];
    while (last && last->next)
        last = last->next;
    if (!cJSON_GetObjectItemCaseSensitive(doc, REPORT_DIGEST_MEMBER))
        return util_error_set(err, UTIL_ERR_INVALID,
                              "no \"" REPORT_DIGEST_MEMBER "\": written by an ingestcheck older "
                              "than this one, or not by ingestcheck (re-run the shard with this "
                              "version)");
    size_t at = report_digest_find(text, len);
    /* The member the scan found must be the document's last one, not text
     * inside a string that only looks like it. */
    if (at == SIZE_MAX || !cJSON_IsString(last) ||
        strcmp(last->string, REPORT_DIGEST_MEMBER) != 0 ||
        strlen(last->valuestring) != sizeof(REPORT_DIGEST_PREFIX) - 1 + HEX_DIGITS ||
        memcmp(last->valuestring + sizeof(REPORT_DIGEST_PREFIX) - 1, text + at, HEX_DIGITS) != 0)
        return util_error_set(err, UTIL_ERR_INVALID,
                              "its \"" REPORT_DIGEST_MEMBER "\" is not as ingestcheck writes it "
                              "(the last member, \"" REPORT_DIGEST_PREFIX "\" and 64 lower-case "
                              "hex digits): changed after ingestcheck wrote it, or not written by "
                              "ingestcheck");
    struct util_file_part all = {text, len};
    report_digest_compute(&all, 1, at, hex);
    if (memcmp(hex, text + at, HEX_DIGITS) != 0)
        return util_error_set(err, UTIL_ERR_INVALID,
                              "its content does not match its " REPORT_DIGEST_MEMBER
                              " (sha256 %.12s..., recorded %.12s...): changed after ingestcheck "
                              "wrote it, or not written by ingestcheck",
                              hex, text + at);
    return UTIL_OK;
}
