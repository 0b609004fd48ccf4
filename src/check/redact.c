/* Redaction of secrets: header names, body fields and literal values. */
#include "check/check.h"

#include "util/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct name {
    const char *s;
    size_t n;
};
#define NAME(s)                                                                                    \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

/* Whether name equals one of names (case-insensitively); only the names of
 * its length are compared. */
static bool in_list(const char *name, const struct name *names, size_t count)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < count; i++)
        if (names[i].n == n && strcasecmp(name, names[i].s) == 0)
            return true;
    return false;
}

bool check_secret_header(const char *name)
{
    static const struct name names[] = {NAME("x-algolia-api-key"), NAME("authorization"),
                                        NAME("cookie"), NAME("set-cookie"),
                                        NAME("proxy-authorization")};
    return in_list(name, names, sizeof(names) / sizeof(names[0]));
}

bool check_secret_field(const char *name)
{
    static const struct name names[] = {
        NAME("client_secret"), NAME("password"),     NAME("key"),   NAME("apiKey"),
        NAME("privateKey"),    NAME("clientSecret"), NAME("secret")};
    return name && in_list(name, names, sizeof(names) / sizeof(names[0]));
}

void check_secrets_init(struct check_secrets *s)
{
    memset(s, 0, sizeof(*s));
}

void check_secrets_finish(struct check_secrets *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

int check_secrets_add(struct check_secrets *s, const char *value)
{
    if (!value || strlen(value) < 4)
        return UTIL_OK;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i], value) == 0)
            return UTIL_OK;
    if (s->count == s->alloc) {
        size_t n = s->alloc ? s->alloc * 2 : 8;
        char **p = realloc(s->items, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        s->items = p;
        s->alloc = n;
    }
    s->items[s->count] = strdup(value);
    if (!s->items[s->count])
        return UTIL_ERR_NOMEM;
    s->count++;
    return UTIL_OK;
}

int check_secrets_collect(struct check_secrets *s, const cJSON *doc)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        int rc = UTIL_OK;
        if (it->string && check_secret_field(it->string) && cJSON_IsString(it))
            rc = check_secrets_add(s, it->valuestring);
        if (!rc && (cJSON_IsObject(it) || cJSON_IsArray(it)))
            rc = check_secrets_collect(s, it);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

bool check_secrets_hit(const struct check_secrets *s, const char *text)
{
    for (size_t i = 0; s && i < s->count; i++)
        if (strstr(text, s->items[i]))
            return true;
    return false;
}

char *check_secrets_scrub(const struct check_secrets *s, const char *text)
{
    if (!text)
        return NULL;
    if (!check_secrets_hit(s, text))
        return strdup(text);
    struct util_buf b;
    util_buf_init(&b, (size_t)-1);
    const char *p = text;
    int rc = UTIL_OK;
    while (!rc) {
        /* The earliest secret in the rest; at one place, the first listed. */
        const char *hit = NULL;
        size_t len = 0;
        for (size_t i = 0; i < s->count; i++) {
            const char *h = strstr(p, s->items[i]);
            if (h && (!hit || h < hit)) {
                hit = h;
                len = strlen(s->items[i]);
            }
        }
        if (!hit) {
            rc = util_buf_puts(&b, p);
            break;
        }
        rc = util_buf_append(&b, p, (size_t)(hit - p));
        if (!rc)
            rc = util_buf_puts(&b, CHECK_REDACTED);
        p = hit + len;
    }
    if (rc) {
        util_buf_finish(&b);
        return NULL;
    }
    return util_buf_steal(&b);
}

/* Replaces it (a child of parent) by repl, keeping its key. */
static bool replace(cJSON *parent, cJSON *it, cJSON *repl)
{
    if (cJSON_IsObject(parent))
        return cJSON_ReplaceItemInObjectCaseSensitive(parent, it->string, repl);
    return cJSON_ReplaceItemViaPointer(parent, it, repl);
}

int check_redact_json(const struct check_secrets *s, cJSON *doc)
{
    cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        cJSON *repl = NULL;
        if (it->string && check_secret_field(it->string) && !cJSON_IsObject(it) &&
            !cJSON_IsArray(it) && !cJSON_IsNull(it)) {
            repl = cJSON_CreateString(CHECK_REDACTED);
        } else if (cJSON_IsString(it) && check_secrets_hit(s, it->valuestring)) {
            char *clean = check_secrets_scrub(s, it->valuestring);
            repl = clean ? cJSON_CreateString(clean) : NULL;
            free(clean);
        } else {
            if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
                int rc = check_redact_json(s, it);
                if (rc)
                    return rc;
            }
            continue;
        }
        if (!repl || !replace(doc, it, repl)) {
            cJSON_Delete(repl);
            return UTIL_ERR_NOMEM;
        }
        it = repl; /* linked where it was; the loop goes on from its next */
    }
    return UTIL_OK;
}

static int scrub_field(const struct check_secrets *s, char **field)
{
    if (!*field || !check_secrets_hit(s, *field))
        return UTIL_OK;
    char *clean = check_secrets_scrub(s, *field);
    if (!clean)
        return UTIL_ERR_NOMEM;
    free(*field);
    *field = clean;
    return UTIL_OK;
}

int check_list_scrub(const struct check_secrets *s, struct check_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        struct check_item *it = &l->items[i];
        if (scrub_field(s, &it->message) || scrub_field(s, &it->pointer) ||
            scrub_field(s, &it->expected) || scrub_field(s, &it->actual))
            return UTIL_ERR_NOMEM;
    }
    return UTIL_OK;
}
