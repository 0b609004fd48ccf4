/* Schema violations of a case file as one-line messages in the user's
 * terms: an unknown key with the keys allowed, a missing key, or the
 * schema's x-expected text. */
#include "case/internal.h"

#include "openapi/yaml_json.h"
#include "schema/schema.h"
#include "util/buf.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends number n as the file writes it at pointer (a key's position: the
 * value after its colon), or printed when that text is not found there. */
static void put_number_as_written(const struct case_ctx *c, const char *pointer, const cJSON *n,
                                  struct util_buf *b)
{
    int col = 0, line = c->lines ? openapi_line_table_lookup(c->lines, pointer, &col) : 0;
    const char *p = c->text, *end = c->text ? c->text + c->len : NULL;
    for (int l = 1; p && p < end && l < line; p++)
        l += *p == '\n';
    if (p && line > 0 && col > 0 && end - p >= col) {
        p += col - 1;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        eol = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        const char *q = colon && (p[0] < '0' || p[0] > '9') && p[0] != '-' ? colon + 1 : p;
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        size_t k = strspn(q, "0123456789+-.eE");
        char tok[64];
        if (k > 0 && k < sizeof(tok) && q + k <= eol) {
            memcpy(tok, q, k);
            tok[k] = '\0';
            char *stop = NULL;
            double d = strtod(tok, &stop);
            if (*stop == '\0' && d == n->valuedouble) {
                util_buf_puts(b, tok);
                return;
            }
        }
    }
    json_print_short(b, n, 60);
}

/* The schema node at the fragment of an absolute location, minus `up`
 * trailing segments. */
static const cJSON *schema_node(const struct case_loader *l, const char *absolute, int up)
{
    const char *hash = strchr(absolute, '#');
    char frag[1024];
    snprintf(frag, sizeof(frag), "%s", hash ? hash + 1 : "");
    for (int i = 0; i < up; i++) {
        char *slash = strrchr(frag, '/');
        if (!slash)
            return NULL;
        *slash = '\0';
    }
    return json_pointer_get(l->schema_doc, frag, true);
}

/* Extracts the first "quoted" name of a message. */
static bool quoted_name(const char *msg, char *out, size_t size)
{
    const char *a = strchr(msg, '"');
    const char *b = a ? strchr(a + 1, '"') : NULL;
    if (!b || (size_t)(b - a - 1) >= size)
        return false;
    memcpy(out, a + 1, (size_t)(b - a - 1));
    out[b - a - 1] = '\0';
    return true;
}

static const char *last_segment(const char *pointer)
{
    const char *s = strrchr(pointer, '/');
    return s ? s + 1 : pointer;
}

/* The instance location a violation is best shown at, and its rank. */
struct ranked {
    const struct schema_violation *v;
    int kind; /* 0: an unknown key (most often a typo, reported first), 1: other */
    char target[1024];
    int line, column;
    size_t kwlen;
};

static void rank_violation(struct case_ctx *c, const struct schema_violation *v, struct ranked *r)
{
    r->v = v;
    r->kwlen = strlen(v->keyword_location);
    snprintf(r->target, sizeof(r->target), "%s", v->instance_location);
    char name[256];
    r->kind = 1;
    if (strcmp(last_segment(v->keyword_location), "additionalProperties") == 0 &&
        strstr(v->message, "is not allowed") && quoted_name(v->message, name, sizeof(name))) {
        case_ptr_join(r->target, sizeof(r->target), v->instance_location, name);
        r->kind = 0;
    }
    r->line = openapi_line_table_lookup(c->lines, r->target, &r->column);
}

static void key_list(const cJSON *props, struct util_buf *b)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, props)
    {
        util_buf_printf(b, "%s%s", b->len ? ", " : "", it->string);
    }
}

/* Which thing a pointer names, for messages: "step", "case", "tags[1]"... */
static const char *what_at(const char *pointer)
{
    static _Thread_local char item[96];
    const char *seg = last_segment(pointer);
    char prev[64] = "";
    const char *end = seg > pointer ? seg - 1 : pointer;
    const char *start = end;
    while (start > pointer && start[-1] != '/')
        start--;
    if (end > start && (size_t)(end - start) < sizeof(prev)) {
        memcpy(prev, start, (size_t)(end - start));
        prev[end - start] = '\0';
    }
    bool index = *seg && strspn(seg, "0123456789") == strlen(seg);
    if (index && (strcmp(prev, "steps") == 0 || strcmp(prev, "teardown") == 0))
        return "step";
    if (index && strcmp(prev, "cases") == 0)
        return "case";
    if (*pointer == '\0')
        return "case file";
    if (index && prev[0]) {
        snprintf(item, sizeof(item), "%.60s[%.20s]", prev, seg);
        return item;
    }
    return seg;
}

int case_violation_error(struct case_ctx *c, const struct schema_result *res, const cJSON *doc)
{
    struct ranked best = {0}, cur;
    bool have = false;
    for (size_t i = 0; i < res->count; i++) {
        rank_violation(c, &res->items[i], &cur);
        bool better = !have || cur.kind < best.kind;
        if (have && cur.kind == best.kind)
            better = cur.line < best.line || (cur.line == best.line && cur.column < best.column) ||
                     (cur.line == best.line && cur.column == best.column && cur.kwlen < best.kwlen);
        if (better) {
            best = cur;
            have = true;
        }
    }
    if (!have)
        return case_fail_at(c, "", UTIL_ERR_INVALID, "not a valid case file");
    const struct schema_violation *v = best.v;
    const char *kw = last_segment(v->keyword_location);
    char name[256];
    if (strcmp(kw, "additionalProperties") == 0 && quoted_name(v->message, name, sizeof(name))) {
        struct util_buf keys;
        util_buf_init(&keys, 4096);
        const cJSON *parent = schema_node(c->l, v->absolute_location, 1);
        key_list(cJSON_GetObjectItemCaseSensitive(parent, "properties"), &keys);
        int rc = case_fail_at(c, best.target, UTIL_ERR_INVALID,
                              "unknown key '%s' in %s (expected one of: %s)", name,
                              what_at(v->instance_location), keys.data ? keys.data : "none");
        util_buf_finish(&keys);
        return rc;
    }
    if (strcmp(kw, "required") == 0 && quoted_name(v->message, name, sizeof(name)))
        return case_fail_at(c, best.target, UTIL_ERR_INVALID, "%s is missing the required key '%s'",
                            what_at(v->instance_location), name);
    /* The innermost schema node with an x-expected text. */
    for (int up = 0; up < 64; up++) {
        const cJSON *node = schema_node(c->l, v->absolute_location, up);
        if (!node)
            break;
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(node, "x-expected");
        if (cJSON_IsString(x)) {
            struct util_buf got;
            util_buf_init(&got, 256);
            const cJSON *val = json_pointer_get(doc, v->instance_location, false);
            if (cJSON_IsNumber(val))
                put_number_as_written(c, best.target, val, &got);
            else
                json_print_short(&got, val, 60);
            int rc = case_fail_at(c, best.target, UTIL_ERR_INVALID, "%s: expected %s, got %s",
                                  what_at(v->instance_location), x->valuestring,
                                  got.data ? got.data : "?");
            util_buf_finish(&got);
            return rc;
        }
    }
    const char *msg = v->message;
    const char *colon = strstr(msg, ": ");
    if (colon && strncmp(msg, v->instance_location, (size_t)(colon - msg)) == 0)
        msg = colon + 2;
    return case_fail_at(c, best.target, UTIL_ERR_INVALID, "%s: %s", what_at(v->instance_location),
                        msg);
}
