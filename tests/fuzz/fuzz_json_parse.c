/* Fuzz target: arbitrary bytes as a JSON document (json_parse, the strict
 * parser every input of ingestcheck goes through: responses, request
 * bodies in the mock, documents of `validate`, schemas, results.json).
 *
 * Oracle (abort() on failure):
 *  - a refusal is UTIL_ERR_PARSE or UTIL_ERR_LIMIT (or out of memory) with
 *    *out NULL and a one-line message "<name>:LINE:COLUMN: ..." whose line
 *    and column are those of err and lie within the input;
 *  - an input with a control character other than tab, CR and LF (before
 *    a NUL that ends it) is refused: none is valid anywhere;
 *  - an accepted document's strings are UTF-8 except for JSON_NUL, and it
 *    round-trips: written compactly and pretty (json_print)
 *    it parses again into an equal document (json_equal), and writing that
 *    gives the same text (writing is a fixed point after one parse);
 *  - json_print_short never cuts inside a UTF-8 sequence. */
#include "fuzz_common.h"

#include "util/buf.h"
#include "util/error.h"
#include "util/text.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strings of n (member names too) are UTF-8 once JSON_NUL is taken out. */
static void check_strings(const cJSON *n)
{
    const char *texts[2] = {n->string, cJSON_IsString(n) ? n->valuestring : NULL};
    for (int i = 0; i < 2; i++) {
        const char *s = texts[i];
        if (!s)
            continue;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
            if (p[0] == 0xc0 && p[1] != 0x80)
                fuzz_fail("a 0xC0 byte that is not JSON_NUL in a parsed string");
        }
        struct util_buf b;
        util_buf_init(&b, strlen(s) + 1);
        util_buf_puts(&b, s);
        size_t before = b.len;
        if (b.data && json_string_repair(&b) == UTIL_OK && b.len != before)
            fuzz_fail("a parsed string is not UTF-8 (JSON_NUL apart)");
        util_buf_finish(&b);
    }
    for (const cJSON *c = n->child; c; c = c->next)
        check_strings(c);
}

static cJSON *reparse(const char *text, const char *what)
{
    cJSON *doc = NULL;
    struct util_error err;
    util_error_clear(&err);
    int rc = json_parse(text, strlen(text), what, &doc, &err);
    if (rc == UTIL_ERR_NOMEM)
        return NULL;
    if (rc)
        fuzz_fail("%s does not parse again: %s\n%s", what, err.message, text);
    return doc;
}

static void round_trip(const cJSON *doc, bool pretty)
{
    char *text = json_print(doc, pretty);
    if (!text)
        return; /* out of memory, or past the cap */
    cJSON *back = reparse(text, pretty ? "pretty" : "compact");
    if (!back) {
        free(text);
        return;
    }
    if (!json_equal(doc, back))
        fuzz_fail("the %s text parses into another document:\n%s", pretty ? "pretty" : "compact",
                  text);
    char *again = json_print(back, pretty);
    if (again && strcmp(text, again) != 0)
        fuzz_fail("writing is not a fixed point:\n%s\n%s", text, again);
    free(again);
    cJSON_Delete(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    const char *text = (const char *)data;
    cJSON *doc = (cJSON *)1;
    struct util_error err;
    util_error_clear(&err);
    int rc = json_parse(text, size, "f", &doc, &err);
    if (rc) {
        if (doc)
            fuzz_fail("a refusal left a document");
        if (rc == UTIL_ERR_NOMEM)
            return 0;
        if (rc != UTIL_ERR_PARSE && rc != UTIL_ERR_LIMIT)
            fuzz_fail("refused with code %d: %s", rc, err.message);
        if (err.code != rc || strchr(err.message, '\n') || strchr(err.message, '\r'))
            fuzz_fail("a refusal without its code or on several lines: %s", err.message);
        char want[64];
        snprintf(want, sizeof(want), "f:%d:%d: ", err.line, err.column);
        if (err.line < 1 || err.column < 1 || strncmp(err.message, want, strlen(want)) != 0)
            fuzz_fail("a refusal without its line and column: %d:%d %s", err.line, err.column,
                      err.message);
        int lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        if (err.line > lines)
            fuzz_fail("line %d past the input's %d lines", err.line, lines);
        return 0;
    }
    if (!doc)
        fuzz_fail("accepted without a document");
    for (size_t i = 0; i < size && data[i]; i++)
        if (data[i] < 0x20 && data[i] != '\t' && data[i] != '\n' && data[i] != '\r')
            fuzz_fail("accepted a raw control character 0x%02X at byte %zu", data[i], i);
    check_strings(doc);
    round_trip(doc, false);
    round_trip(doc, true);
    struct util_buf b;
    util_buf_init(&b, 1 << 20);
    size_t max = 4 + fuzz_hash(data, size) % 60;
    if (json_print_short(&b, doc, max) == UTIL_OK && b.len > 3 &&
        strcmp(b.data + b.len - 3, "...") == 0 &&
        !util_utf8_valid(b.data, b.len - 3))
        fuzz_fail("json_print_short cut a UTF-8 sequence: %s", b.data);
    util_buf_finish(&b);
    cJSON_Delete(doc);
    return 0;
}
