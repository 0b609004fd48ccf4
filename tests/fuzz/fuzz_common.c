#include "fuzz_common.h"

#include "ingestcheck_config.h"

#include "util/error.h"
#include "json/json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t fuzz_hash(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++) {
        h ^= data[i];
        h *= 16777619u;
    }
    return h;
}

const char *fuzz_schemas_dir(void)
{
    static char dir[4096];
    if (!dir[0]) {
        const char *src = getenv("INGESTCHECK_SOURCE_DIR");
        snprintf(dir, sizeof dir, "%s/schemas", src && *src ? src : INGESTCHECK_SOURCE_DIR);
    }
    return dir;
}

void fuzz_check_refusal(int rc, const struct util_error *err, const char *what)
{
    if (rc >= 0)
        fuzz_fail("%s: refused with code %d", what, rc);
    if (rc == UTIL_ERR_NOMEM)
        return;
    if (err->code != rc)
        fuzz_fail("%s: returned %d but err->code is %d", what, rc, err->code);
    if (!err->message[0] || strchr(err->message, '\n'))
        fuzz_fail("%s: the refusal is not one line: '%s'", what, err->message);
}

bool fuzz_one_line_with_prefix(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    return text && strncmp(text, prefix, n) == 0 && text[n] != '\0' && !strchr(text, '\n');
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("fuzz oracle: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

static void print_instance(const cJSON *instance)
{
    struct util_buf b;
    util_buf_init(&b, 4096);
    if (json_print_short(&b, instance, 2000) == UTIL_OK && b.data)
        fprintf(stderr, "fuzz oracle: instance: %s\n", b.data);
    util_buf_finish(&b);
}

/* True when some object of the tree has two members with the same name:
 * json_pointer_get then finds only the first, while the engine validates
 * both, so an instance_location may not resolve. */
static bool has_duplicate_keys(const cJSON *n)
{
    for (const cJSON *c = n ? n->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(n) && c->string) {
            for (const cJSON *d = c->next; d; d = d->next) {
                if (d->string && strcmp(c->string, d->string) == 0)
                    return true;
            }
        }
        if (has_duplicate_keys(c))
            return true;
    }
    return false;
}

static void check_violations(const struct schema_result *res, const cJSON *instance,
                             const char *what)
{
    if (res->count > res->alloc)
        fuzz_fail("%s: result count %zu exceeds alloc %zu", what, res->count, res->alloc);
    if (res->count > 0 && !res->items)
        fuzz_fail("%s: result count %zu with no items", what, res->count);
    for (size_t i = 0; i < res->count; i++) {
        const struct schema_violation *v = &res->items[i];
        if (!v->instance_location || !v->keyword_location || !v->absolute_location || !v->message)
            fuzz_fail("%s: violation %zu has a NULL field", what, i);
        if (!json_pointer_get(instance, v->instance_location, false) &&
            !has_duplicate_keys(instance)) {
            print_instance(instance);
            fuzz_fail("%s: violation %zu: instance_location \"%s\" does not resolve in the "
                      "instance (%s)",
                      what, i, v->instance_location, v->message);
        }
    }
}

void fuzz_check_validate(const struct schema *s, const cJSON *instance, const char *what)
{
    struct schema_result res;
    struct util_error err;
    util_error_clear(&err);
    schema_result_init(&res);
    int rc = schema_validate(s, instance, &res, &err);
    bool fast = schema_is_valid(s, instance);
    if (rc == UTIL_OK) {
        if (fast != res.valid) {
            print_instance(instance);
            fuzz_fail("%s: schema_is_valid says %s but schema_validate says %s (%zu "
                      "violations%s%s)",
                      what, fast ? "valid" : "invalid", res.valid ? "valid" : "invalid", res.count,
                      res.count ? ", first: " : "",
                      res.count && res.items[0].message ? res.items[0].message : "");
        }
        if (res.valid && res.count != 0)
            fuzz_fail("%s: valid result with %zu violations (first: %s)", what, res.count,
                      res.items[0].message ? res.items[0].message : "(null)");
        if (!res.valid && res.count == 0) {
            print_instance(instance);
            fuzz_fail("%s: invalid result without any violation", what);
        }
        check_violations(&res, instance, what);
    } else if (rc == UTIL_ERR_NOMEM || rc == UTIL_ERR_LIMIT) {
        if (err.code != rc)
            fuzz_fail("%s: schema_validate returned %d but err.code is %d", what, rc, err.code);
    } else {
        fuzz_fail("%s: schema_validate returned unexpected code %d (%s): %s", what, rc,
                  util_status_name(rc), err.message);
    }
    schema_result_finish(&res);
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
