/* Fuzz target: redaction of secrets in text (util/secret.h) and in JSON
 * (check/redact.c).
 *
 * Input: "<secret>\n<text>"; no newline: the whole input is the text and
 * the secret is "sk+LEAK/K=1\"q\\x&y<z>". The secret's line is also read
 * as a URL whose userinfo is split off.
 *
 * Oracle (abort() on failure):
 *  - util_secret_members over the text (built-in names) is idempotent: a
 *    second pass changes nothing; when the text is JSON, the result is JSON
 *    too and every secret member, at any depth, holds the placeholder;
 *  - util_secret_replace leaves no raw occurrence of the secret (one
 *    without '*', the placeholder's character) and agrees with
 *    util_secret_find on whether there was one;
 *  - check_redact_json of the parsed text leaves every secret member
 *    "****" or null, and no string holding the secret;
 *  - util_secret_split_userinfo gives a URL whose authority has no '@'. */
#include "fuzz_common.h"

#include "check/check.h"
#include "util/buf.h"
#include "util/secret.h"

#include <stdlib.h>
#include <string.h>

static bool secret_name(void *user, const char *name)
{
    (void)user;
    return util_secret_field(name, strlen(name));
}

static int put_ph(void *user, const char *name, const char *value, size_t n, struct util_buf *out)
{
    (void)user;
    (void)name;
    (void)value;
    (void)n;
    return util_buf_puts(out, "\"<R>\"");
}

static int put_mask(void *user, size_t index, struct util_buf *out)
{
    (void)user;
    (void)index;
    return util_buf_puts(out, "****");
}

/* Whether every secret member of v, at any depth, holds one of the
 * strings allowed (or null when null_ok). */
static bool members_masked(const cJSON *v, const char *mask, bool null_ok)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (it->string && util_secret_field(it->string, strlen(it->string))) {
            if (!(cJSON_IsString(it) && strcmp(it->valuestring, mask) == 0) &&
                !(null_ok && cJSON_IsNull(it)))
                return false;
        } else if (!members_masked(it, mask, null_ok)) {
            return false;
        }
    }
    return true;
}

static bool holds_string(const cJSON *v, const char *needle)
{
    if (cJSON_IsString(v))
        return strstr(v->valuestring, needle) != NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (holds_string(it, needle))
            return true;
    }
    return false;
}

static void check_members(const char *text, size_t n)
{
    struct util_buf a, b;
    util_buf_init(&a, FUZZ_MAX_INPUT * 4);
    util_buf_init(&b, FUZZ_MAX_INPUT * 4);
    bool changed = false;
    if (util_secret_members(text, n, secret_name, put_ph, NULL, &a, &changed) != UTIL_OK)
        goto done;
    if (util_secret_members(a.data ? a.data : "", a.len, secret_name, put_ph, NULL, &b,
                            &changed) != UTIL_OK)
        goto done;
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
        fuzz_fail("util_secret_members is not idempotent:\n%s\n---\n%s", a.data, b.data);
    cJSON *in = cJSON_ParseWithLength(text, n);
    if (in) {
        cJSON *out = cJSON_ParseWithLength(a.data ? a.data : "", a.len);
        if (!out)
            fuzz_fail("JSON in, not JSON out:\n%s", a.data ? a.data : "");
        if (!members_masked(out, "<R>", false))
            fuzz_fail("a secret member kept its value:\n%s", a.data);
        cJSON_Delete(out);
    }
    cJSON_Delete(in);
done:
    util_buf_finish(&a);
    util_buf_finish(&b);
}

static void check_replace(const char *secret, const char *text, size_t n)
{
    size_t slen = strlen(secret);
    if (!slen || strchr(secret, '*'))
        return;
    struct util_secret s;
    if (util_secret_init(&s, secret, slen) != UTIL_OK)
        return;
    struct util_buf out;
    util_buf_init(&out, FUZZ_MAX_INPUT * 8);
    bool changed = false;
    size_t at = 0, len = 0;
    bool found = util_secret_find(&s, text, n, &at, &len);
    if (util_secret_replace(&s, 1, text, n, put_mask, NULL, &out, &changed) == UTIL_OK) {
        if (changed != found)
            fuzz_fail("util_secret_find says %d, util_secret_replace changed %d", found, changed);
        for (size_t i = 0; out.data && i + slen <= out.len; i++)
            if (memcmp(out.data + i, secret, slen) == 0)
                fuzz_fail("'%s' left at %zu in:\n%s", secret, i, out.data);
    }
    util_buf_finish(&out);
    util_secret_finish(&s);
}

static void check_json(const char *secret, const char *text, size_t n)
{
    cJSON *doc = cJSON_ParseWithLength(text, n);
    if (!doc)
        return;
    struct check_secrets s;
    check_secrets_init(&s);
    bool searchable = strlen(secret) >= CHECK_SECRET_MIN_LEN && !strchr(secret, '*');
    if (check_secrets_add(&s, secret) == UTIL_OK && check_redact_json(&s, doc) == UTIL_OK) {
        if (!members_masked(doc, CHECK_REDACTED, true))
            fuzz_fail("check_redact_json left a secret member");
        if (searchable && holds_string(doc, secret))
            fuzz_fail("check_redact_json left the secret '%s' in a string", secret);
    }
    check_secrets_finish(&s);
    cJSON_Delete(doc);
}

static void check_userinfo(const char *url)
{
    char *clean = NULL, *userinfo = NULL;
    if (util_secret_split_userinfo(url, &clean, &userinfo) != UTIL_OK)
        return;
    const char *sep = strstr(clean, "://");
    const char *auth = sep ? sep + 3 : clean;
    size_t alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen))
        fuzz_fail("userinfo left in '%s' (from '%s')", clean, url);
    free(clean);
    free(userinfo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *in = fuzz_cstr(data, size);
    if (!in)
        return 0;
    const char *secret = "sk+LEAK/K=1\"q\\x&y<z>", *text = in;
    size_t n = size;
    char *nl = memchr(in, '\n', size);
    if (nl) {
        *nl = '\0';
        secret = in;
        text = nl + 1;
        n = size - (size_t)(text - in);
    }
    /* The C string functions stop at a NUL: look at the text before it. */
    size_t tn = strnlen(text, n);
    check_members(text, n);
    check_replace(secret, text, n);
    check_json(secret, text, tn);
    check_userinfo(secret);
    free(in);
    return 0;
}
