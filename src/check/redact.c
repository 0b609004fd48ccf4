/* Redaction of secrets: header names, body members (by name, whatever
 * their type) and literal values in any encoded form (util/secret.h). */
#include "check/check.h"

#include "util/buf.h"
#include "util/secret.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool check_secret_header(const char *name)
{
    return util_secret_header(name);
}

bool check_secret_field(const char *name)
{
    return name && util_secret_field(name, strlen(name));
}

void check_secrets_init(struct check_secrets *s)
{
    memset(s, 0, sizeof(*s));
}

void check_secrets_finish(struct check_secrets *s)
{
    for (size_t i = 0; i < s->count; i++)
        util_secret_finish(&s->items[i]);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

void check_secrets_fields(struct check_secrets *s, const char *const *fields, size_t count)
{
    s->fields = fields;
    s->nfields = count;
}

bool check_secrets_is_field(const struct check_secrets *s, const char *name)
{
    if (!name)
        return false;
    if (check_secret_field(name))
        return true;
    for (size_t i = 0; s && i < s->nfields; i++)
        if (strcasecmp(s->fields[i], name) == 0)
            return true;
    return false;
}

int check_secrets_add(struct check_secrets *s, const char *value)
{
    size_t n = value ? strlen(value) : 0;
    if (n < CHECK_SECRET_MIN_LEN)
        return UTIL_OK;
    for (size_t i = 0; i < s->count; i++)
        if (s->items[i].len == n && memcmp(s->items[i].value, value, n) == 0)
            return UTIL_OK;
    if (s->count >= CHECK_CAP_SECRETS)
        return UTIL_ERR_LIMIT;
    if (s->count == s->alloc) {
        size_t a = s->alloc ? s->alloc * 2 : 8;
        struct util_secret *p = realloc(s->items, a * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        s->items = p;
        s->alloc = a;
    }
    int rc = util_secret_init(&s->items[s->count], value, n);
    if (rc == UTIL_OK)
        s->count++;
    return rc;
}

/* Adds every string inside v (v included). */
static int add_strings(struct check_secrets *s, const cJSON *v)
{
    if (cJSON_IsString(v))
        return check_secrets_add(s, v->valuestring);
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        int rc = add_strings(s, it);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

int check_secrets_collect(struct check_secrets *s, const cJSON *doc)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        int rc = UTIL_OK;
        if (it->string && check_secrets_is_field(s, it->string))
            rc = add_strings(s, it);
        else if (cJSON_IsObject(it) || cJSON_IsArray(it))
            rc = check_secrets_collect(s, it);
        if (rc)
            return rc;
    }
    return UTIL_OK;
}

/* The name of the innermost secret member of doc (name: the one doc is
 * under, NULL when none) whose value holds the string value. */
static const char *member_holding(const struct check_secrets *s, const cJSON *doc,
                                  const char *value, const char *name)
{
    if (cJSON_IsString(doc))
        return name && strcmp(doc->valuestring, value) == 0 ? name : NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        const char *inner = it->string && check_secrets_is_field(s, it->string) ? it->string : name;
        const char *found = member_holding(s, it, value, inner);
        if (found)
            return found;
    }
    return NULL;
}

const char *check_secret_member_holding(const struct check_secrets *s, const cJSON *doc,
                                        const char *value)
{
    return value ? member_holding(s, doc, value, NULL) : NULL;
}

/* ---- scrubbing text ---- */

static int put_mask(void *user, size_t index, struct util_buf *out)
{
    (void)user;
    (void)index;
    return util_buf_puts(out, CHECK_REDACTED);
}

/* The secrets, for util_secret_members' callbacks. */
struct members_ctx {
    const struct check_secrets *s;
};

static bool member_is_secret(void *user, const char *name)
{
    const struct members_ctx *m = user;
    return check_secrets_is_field(m->s, name);
}

static int put_member_mask(void *user, const char *name, const char *value, size_t n,
                           struct util_buf *out)
{
    (void)user;
    (void)name;
    (void)value;
    (void)n;
    return util_buf_puts(out, "\"" CHECK_REDACTED "\"");
}

/* Whether text may hold a member named like a secret ("name": ...): a
 * quote followed, after the name, by a colon. */
static bool may_hold_members(const char *text)
{
    const char *q = strchr(text, '"');
    return q && strchr(q, ':');
}

bool check_secrets_hit(const struct check_secrets *s, const char *text)
{
    size_t n = text ? strlen(text) : 0, at, len;
    for (size_t i = 0; s && i < s->count; i++)
        if (util_secret_find(&s->items[i], text, n, &at, &len))
            return true;
    return false;
}

char *check_secrets_scrub(const struct check_secrets *s, const char *text)
{
    if (!text)
        return NULL;
    struct util_buf a, b;
    util_buf_init(&a, (size_t)-1);
    util_buf_init(&b, (size_t)-1);
    const char *cur = text;
    size_t n = strlen(text);
    bool changed = false;
    int rc = UTIL_OK;
    if (may_hold_members(text)) {
        struct members_ctx m = {s};
        rc = util_secret_members(text, n, member_is_secret, put_member_mask, &m, &a, &changed);
        if (rc == UTIL_OK && changed) {
            cur = a.data;
            n = a.len;
        }
    }
    if (rc == UTIL_OK && s && s->count)
        rc = util_secret_replace(s->items, s->count, cur, n, put_mask, NULL, &b, NULL);
    else if (rc == UTIL_OK)
        rc = util_buf_append(&b, cur, n);
    char *out = rc == UTIL_OK ? util_buf_steal(&b) : NULL;
    util_buf_finish(&a);
    util_buf_finish(&b);
    return out;
}

/* Whether text holds a literal secret or a member named like a secret. */
static bool text_holds_secret(const struct check_secrets *s, const char *text)
{
    if (check_secrets_hit(s, text))
        return true;
    if (!may_hold_members(text))
        return false;
    struct util_buf b;
    util_buf_init(&b, (size_t)-1);
    bool changed = false;
    struct members_ctx m = {s};
    int rc = util_secret_members(text, strlen(text), member_is_secret, put_member_mask, &m, &b,
                                 &changed);
    util_buf_finish(&b);
    return rc != UTIL_OK || changed;
}

/* ---- scrubbing JSON ---- */

/* A string node holding text scrubbed, or NULL when text needs nothing
 * (*rc says whether that is because memory ran out). */
static cJSON *scrubbed_string(const struct check_secrets *s, const char *text, int *rc)
{
    *rc = UTIL_OK;
    if (!text_holds_secret(s, text))
        return NULL;
    char *clean = check_secrets_scrub(s, text);
    cJSON *repl = NULL;
    if (clean && strcmp(clean, text) != 0 && !(repl = cJSON_CreateString(clean)))
        *rc = UTIL_ERR_NOMEM;
    if (!clean)
        *rc = UTIL_ERR_NOMEM;
    free(clean);
    return repl;
}

/* Replaces it (a child of parent) by repl, keeping its key: that very
 * member, even when another has the same name. */
static bool replace(cJSON *parent, cJSON *it, cJSON *repl)
{
    if (it->string) {
        /* The key copied by cJSON's own allocator. */
        cJSON *tmp = cJSON_CreateObject();
        bool ok = tmp && cJSON_AddItemToObject(tmp, it->string, repl);
        if (ok)
            cJSON_DetachItemViaPointer(tmp, repl);
        cJSON_Delete(tmp);
        if (!ok)
            return false;
    }
    return cJSON_ReplaceItemViaPointer(parent, it, repl);
}

int check_redact_json(const struct check_secrets *s, cJSON *doc)
{
    if (cJSON_IsString(doc) && !doc->string) {
        /* A document that is one string: scrubbed in place. */
        int rc = UTIL_OK;
        cJSON *clean = scrubbed_string(s, doc->valuestring, &rc);
        if (clean && !cJSON_SetValuestring(doc, clean->valuestring))
            rc = UTIL_ERR_NOMEM;
        cJSON_Delete(clean);
        return rc;
    }
    cJSON *it;
    cJSON_ArrayForEach(it, doc)
    {
        cJSON *repl = NULL;
        int rc = UTIL_OK;
        if (it->string && check_secrets_is_field(s, it->string) && !cJSON_IsNull(it)) {
            if (cJSON_IsString(it) && strcmp(it->valuestring, CHECK_REDACTED) == 0)
                continue;
            if (!(repl = cJSON_CreateString(CHECK_REDACTED)))
                rc = UTIL_ERR_NOMEM;
        } else if (cJSON_IsString(it)) {
            repl = scrubbed_string(s, it->valuestring, &rc);
        } else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            rc = check_redact_json(s, it);
        }
        if (rc)
            return rc;
        if (!repl)
            continue;
        if (!replace(doc, it, repl)) {
            cJSON_Delete(repl);
            return UTIL_ERR_NOMEM;
        }
        it = repl; /* linked where it was; the loop goes on from its next */
    }
    return UTIL_OK;
}

static int scrub_field(const struct check_secrets *s, char **field)
{
    if (!*field || !text_holds_secret(s, *field))
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

/* ---- excerpts ---- */

bool check_secrets_in(const struct check_secrets *s, const cJSON *v)
{
    if (cJSON_IsString(v))
        return text_holds_secret(s, v->valuestring);
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if ((it->string && check_secrets_is_field(s, it->string) && !cJSON_IsNull(it)) ||
            check_secrets_in(s, it))
            return true;
    }
    return false;
}

bool check_secret_pointer(const struct check_secrets *s, const cJSON *doc, const char *pointer)
{
    struct util_buf tok;
    util_buf_init(&tok, strlen(pointer) + 1);
    const cJSON *cur = doc;
    bool secret = false;
    for (const char *p = pointer; cur && *p == '/' && !secret;) {
        util_buf_reset(&tok);
        for (p++; *p && *p != '/'; p++) {
            char c = *p;
            if (c == '~' && (p[1] == '0' || p[1] == '1'))
                c = *++p == '0' ? '~' : '/';
            util_buf_putc(&tok, c);
        }
        const char *name = tok.data ? tok.data : "";
        if (cJSON_IsObject(cur)) {
            secret = check_secrets_is_field(s, name);
            cur = cJSON_GetObjectItemCaseSensitive(cur, name);
        } else if (cJSON_IsArray(cur)) {
            cur = cJSON_GetArrayItem(cur, atoi(name));
        } else {
            cur = NULL;
        }
    }
    util_buf_finish(&tok);
    return secret;
}

int check_quote(struct util_buf *b, const cJSON *v, bool secret, const struct check_secrets *s)
{
    util_buf_reset(b);
    if (!v)
        return util_buf_puts(b, "(absent)");
    if (secret && !cJSON_IsNull(v))
        return util_buf_puts(b, "\"" CHECK_REDACTED "\"");
    if (!check_secrets_in(s, v))
        return json_print_short(b, v, CHECK_CAP_QUOTE);
    /* A copy with the secrets replaced, then cut: a cut never leaves a
     * piece of a secret. */
    cJSON *holder = cJSON_CreateArray(), *copy = cJSON_Duplicate(v, true);
    int rc = holder && copy && cJSON_AddItemToArray(holder, copy) ? UTIL_OK : UTIL_ERR_NOMEM;
    if (rc)
        cJSON_Delete(copy);
    if (rc == UTIL_OK && (rc = check_redact_json(s, holder)) == UTIL_OK)
        rc = json_print_short(b, holder->child, CHECK_CAP_QUOTE);
    cJSON_Delete(holder);
    return rc;
}
