/* Generated file sets: writing, comparing with a directory, registering
 * with the schema engine; pointers into operations.json. */

#include "openapi/files.h"

#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GENERATED_DIR "components"

void openapi_files_init(struct openapi_files *f)
{
    memset(f, 0, sizeof(*f));
}

void openapi_files_finish(struct openapi_files *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++) {
        free(f->items[i].path);
        free(f->items[i].data);
    }
    free(f->items);
    memset(f, 0, sizeof(*f));
}

int openapi_files_add(struct openapi_files *f, const char *path, char *data, size_t len)
{
    if (f->count == f->alloc) {
        size_t n = f->alloc ? f->alloc * 2 : 64;
        struct openapi_file *p = realloc(f->items, n * sizeof(*p));
        if (!p) {
            free(data);
            return UTIL_ERR_NOMEM;
        }
        f->items = p;
        f->alloc = n;
    }
    char *pc = strdup(path);
    if (!pc) {
        free(data);
        return UTIL_ERR_NOMEM;
    }
    f->items[f->count].path = pc;
    f->items[f->count].data = data;
    f->items[f->count].len = len;
    f->count++;
    return UTIL_OK;
}

static int file_cmp(const void *a, const void *b)
{
    const struct openapi_file *x = a;
    const struct openapi_file *y = b;
    return strcmp(x->path, y->path);
}

void openapi_files_sort(struct openapi_files *f)
{
    if (f->count > 1)
        qsort(f->items, f->count, sizeof(*f->items), file_cmp);
}

const struct openapi_file *openapi_files_find(const struct openapi_files *f, const char *path)
{
    for (size_t i = 0; i < f->count; i++)
        if (!strcmp(f->items[i].path, path))
            return &f->items[i];
    return NULL;
}

/* ---- diff ---- */

void openapi_diff_init(struct openapi_diff *d)
{
    memset(d, 0, sizeof(*d));
}

void openapi_diff_finish(struct openapi_diff *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++)
        free(d->items[i].path);
    free(d->items);
    memset(d, 0, sizeof(*d));
}

const char *openapi_diff_kind_name(enum openapi_diff_kind k)
{
    switch (k) {
    case OPENAPI_DIFF_CHANGED:
        return "changed";
    case OPENAPI_DIFF_MISSING:
        return "missing";
    case OPENAPI_DIFF_EXTRA:
        return "extra";
    }
    return "?";
}

static int diff_add(struct openapi_diff *d, const char *path, enum openapi_diff_kind kind)
{
    if (d->count == d->alloc) {
        size_t n = d->alloc ? d->alloc * 2 : 16;
        struct openapi_diff_entry *p = realloc(d->items, n * sizeof(*p));
        if (!p)
            return UTIL_ERR_NOMEM;
        d->items = p;
        d->alloc = n;
    }
    char *pc = strdup(path);
    if (!pc)
        return UTIL_ERR_NOMEM;
    d->items[d->count].path = pc;
    d->items[d->count].kind = kind;
    d->count++;
    return UTIL_OK;
}

static int diff_cmp(const void *a, const void *b)
{
    const struct openapi_diff_entry *x = a;
    const struct openapi_diff_entry *y = b;
    return strcmp(x->path, y->path);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Calls fn for every *.json regular name in dir/components (sorted order is
 * not needed: callers sort). A missing directory is not an error. */
static int each_component_file(const char *dir, int (*fn)(void *ctx, const char *rel), void *ctx,
                               struct util_error *err)
{
    char *cdir = util_path_join(dir, GENERATED_DIR);
    if (!cdir)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    int rc = UTIL_OK;
    DIR *d = opendir(cdir);
    if (!d) {
        if (errno != ENOENT)
            rc = util_error_set(err, UTIL_ERR_IO, "%s: cannot list: %s", cdir, strerror(errno));
        free(cdir);
        return rc;
    }
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".json"))
            continue;
        char rel[PATH_MAX];
        int n = snprintf(rel, sizeof(rel), "%s/%s", GENERATED_DIR, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(rel))
            continue;
        rc = fn(ctx, rel);
        if (rc && err && !err->code)
            util_error_set(err, rc, "%s: %s", rel, util_status_name(rc));
    }
    closedir(d);
    free(cdir);
    return rc;
}

struct extra_ctx {
    const struct openapi_files *files;
    struct openapi_diff *diff;
    const char *dir;
};

static int note_extra(void *ctx, const char *rel)
{
    struct extra_ctx *c = ctx;
    if (openapi_files_find(c->files, rel))
        return UTIL_OK;
    return diff_add(c->diff, rel, OPENAPI_DIFF_EXTRA);
}

int openapi_files_compare(const struct openapi_files *files, const char *dir,
                          struct openapi_diff *out, struct util_error *err)
{
    int rc = UTIL_OK;
    for (size_t i = 0; i < files->count && !rc; i++) {
        const struct openapi_file *f = &files->items[i];
        char *path = util_path_join(dir, f->path);
        if (!path)
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        if (!util_file_exists(path)) {
            rc = diff_add(out, f->path, OPENAPI_DIFF_MISSING);
        } else {
            char *data = NULL;
            size_t len = 0;
            rc = util_file_read(path, UTIL_CAP_JSON_DOCUMENT, &data, &len, err);
            if (!rc && (len != f->len || memcmp(data, f->data, len) != 0))
                rc = diff_add(out, f->path, OPENAPI_DIFF_CHANGED);
            free(data);
        }
        free(path);
    }
    if (!rc) {
        struct extra_ctx c = {.files = files, .diff = out, .dir = dir};
        rc = each_component_file(dir, note_extra, &c, err);
    }
    if (rc == UTIL_ERR_NOMEM)
        util_error_set(err, rc, "out of memory");
    if (!rc && out->count > 1)
        qsort(out->items, out->count, sizeof(*out->items), diff_cmp);
    return rc;
}

static int remove_extra(void *ctx, const char *rel)
{
    struct extra_ctx *c = ctx;
    if (openapi_files_find(c->files, rel))
        return UTIL_OK;
    char *path = util_path_join(c->dir, rel);
    if (!path)
        return UTIL_ERR_NOMEM;
    int rc = unlink(path) == 0 ? UTIL_OK : UTIL_ERR_IO;
    free(path);
    return rc;
}

/* Whether path holds exactly data (len bytes). */
static bool same_on_disk(const char *path, const char *data, size_t len)
{
    char *old = NULL;
    size_t olen = 0;
    struct util_error ignored;
    util_error_clear(&ignored);
    bool same = util_file_read(path, len + 1, &old, &olen, &ignored) == UTIL_OK && olen == len &&
                !memcmp(old, data, len);
    free(old);
    return same;
}

int openapi_files_write(const struct openapi_files *files, const char *dir, struct util_error *err)
{
    int rc = UTIL_OK;
    char *made = NULL; /* the last directory created: files are sorted by path */
    for (size_t i = 0; i < files->count && !rc; i++) {
        const struct openapi_file *f = &files->items[i];
        char *path = util_path_join(dir, f->path);
        if (!path) {
            free(made);
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        }
        char *slash = strrchr(path, '/');
        if (slash) {
            *slash = '\0';
            if (!made || strcmp(made, path) != 0) {
                rc = util_mkdir_p(path, err);
                free(made);
                made = rc ? NULL : strdup(path);
            }
            *slash = '/';
        }
        /* An unchanged file is left alone (no rewrite, no fsync). */
        if (!rc && !same_on_disk(path, f->data, f->len))
            rc = util_file_write_atomic(path, f->data, f->len, err);
        free(path);
    }
    free(made);
    if (!rc) {
        struct extra_ctx c = {.files = files, .dir = dir};
        rc = each_component_file(dir, remove_extra, &c, err);
    }
    return rc;
}

/* ---- the engine ---- */

/* Relative file part of a $ref in a document at path (both relative to the
 * schemas dir): "Other.json" in "components/A.json" -> "components/Other.json". */
static int ref_file(const char *doc_path, const char *ref, char *out, size_t size)
{
    const char *hash = strchr(ref, '#');
    size_t n = hash ? (size_t)(hash - ref) : strlen(ref);
    if (n == 0 || strchr(ref, ':'))
        return -1;
    const char *slash = strrchr(doc_path, '/');
    size_t dn = slash ? (size_t)(slash - doc_path + 1) : 0;
    if (dn + n + 1 > size)
        return -1;
    memcpy(out, doc_path, dn);
    memcpy(out + dn, ref, n);
    out[dn + n] = '\0';
    return 0;
}

struct reg_doc {
    const char *path;
    cJSON *doc;
    bool added;
};

static bool deps_ready(const cJSON *n, const char *path, const struct reg_doc *docs, size_t count)
{
    if (cJSON_IsString(n) && n->string && !strcmp(n->string, "$ref")) {
        char dep[PATH_MAX];
        if (ref_file(path, n->valuestring, dep, sizeof(dep)) != 0 || !strcmp(dep, path))
            return true;
        for (size_t i = 0; i < count; i++)
            if (!strcmp(docs[i].path, dep))
                return docs[i].added;
        return true;
    }
    for (const cJSON *k = n->child; k; k = k->next)
        if (!deps_ready(k, path, docs, count))
            return false;
    return true;
}

/* Adds the documents of docs not added yet, all at once (they reference
 * each other in cycles). */
static int add_cycles(struct schema_registry *reg, const struct reg_doc *docs, size_t count,
                      const char *base_uri, struct util_error *err)
{
    int rc = UTIL_OK;
    size_t n = 0;
    char **uris = calloc(count, sizeof(*uris));
    const cJSON **left = calloc(count, sizeof(*left));
    if (!uris || !left) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        if (docs[i].added)
            continue;
        size_t len = strlen(base_uri) + strlen(docs[i].path) + 1;
        if (!(uris[n] = malloc(len))) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            goto cleanup;
        }
        snprintf(uris[n], len, "%s%s", base_uri, docs[i].path);
        left[n++] = docs[i].doc;
    }
    rc = schema_registry_add_all(reg, n, (const char *const *)uris, left, err);
cleanup:
    for (size_t i = 0; uris && i < n; i++)
        free(uris[i]);
    free(uris);
    free(left);
    return rc;
}

int openapi_registry_add_files(struct schema_registry *reg, const struct openapi_files *files,
                               const char *base_uri, struct util_error *err)
{
    int rc = UTIL_OK;
    size_t count = 0;
    struct reg_doc *docs = calloc(files->count ? files->count : 1, sizeof(*docs));
    struct util_buf uri;
    util_buf_init(&uri, UTIL_CAP_MESSAGE);
    if (!docs) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < files->count; i++) {
        const struct openapi_file *f = &files->items[i];
        if (!ends_with(f->path, ".json") || !strcmp(f->path, "defects.json"))
            continue;
        docs[count].path = f->path;
        if ((rc = json_parse(f->data, f->len, f->path, &docs[count].doc, err)))
            goto cleanup;
        count++;
    }
    /* Add documents after those they reference; those left reference each
     * other in cycles: added together. */
    size_t added = 0;
    bool progress = true;
    while (added < count && progress) {
        progress = false;
        for (size_t i = 0; i < count; i++) {
            if (docs[i].added || !deps_ready(docs[i].doc, docs[i].path, docs, count))
                continue;
            util_buf_reset(&uri);
            if ((rc = util_buf_printf(&uri, "%s%s", base_uri, docs[i].path)))
                goto cleanup;
            if ((rc = schema_registry_add(reg, uri.data, docs[i].doc, NULL, err)))
                goto cleanup;
            docs[i].added = true;
            added++;
            progress = true;
        }
    }
    if (added < count)
        rc = add_cycles(reg, docs, count, base_uri, err);
cleanup:
    for (size_t i = 0; i < count; i++)
        cJSON_Delete(docs[i].doc);
    free(docs);
    util_buf_finish(&uri);
    if (rc == UTIL_ERR_NOMEM && err && !err->code)
        util_error_set(err, rc, "out of memory");
    return rc;
}

int openapi_registry_add_dir(struct schema_registry *reg, const char *schemas_dir,
                             char **operations_uri, struct util_error *err)
{
    char abs[PATH_MAX];
    char *ops = NULL;
    int rc = UTIL_OK;
    struct util_buf prefix;
    util_buf_init(&prefix, UTIL_CAP_MESSAGE);
    if (operations_uri)
        *operations_uri = NULL;
    if (!realpath(schemas_dir, abs)) {
        rc = util_error_set(err, UTIL_ERR_IO, "%s: %s", schemas_dir, strerror(errno));
        goto cleanup;
    }
    if ((rc = util_buf_printf(&prefix, "file://%s/", abs)))
        goto cleanup;
    if ((rc = schema_registry_map_dir(reg, prefix.data, abs, err)))
        goto cleanup;
    if (!(ops = util_path_join(abs, "operations.json"))) {
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    if ((rc = schema_registry_add_file(reg, ops, NULL, err)))
        goto cleanup;
    if (operations_uri) {
        if ((rc = util_buf_puts(&prefix, "operations.json")))
            goto cleanup;
        *operations_uri = util_buf_steal(&prefix);
        if (!*operations_uri)
            rc = UTIL_ERR_NOMEM;
    }
cleanup:
    if (rc == UTIL_ERR_NOMEM && err && !err->code)
        util_error_set(err, rc, "out of memory");
    free(ops);
    util_buf_finish(&prefix);
    return rc;
}

int openapi_operation_schema_pointer(const cJSON *ops, const char *operation_id,
                                     enum openapi_site site, const char *key, struct util_buf *out,
                                     struct util_error *err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(ops, "operations");
    size_t index = 0;
    const cJSON *op = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "operationId");
        if (cJSON_IsString(id) && !strcmp(id->valuestring, operation_id)) {
            op = it;
            break;
        }
        index++;
    }
    if (!op)
        return util_error_set(err, UTIL_ERR_NOTFOUND, "no operation %s in operations.json",
                              operation_id);
    int rc = util_buf_printf(out, "/operations/%zu", index);
    if (rc)
        return rc;
    switch (site) {
    case OPENAPI_SITE_REQUEST_BODY:
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(op, "requestBody")))
            return util_error_set(err, UTIL_ERR_NOTFOUND, "%s takes no request body", operation_id);
        return util_buf_puts(out, "/requestBody/schema");
    case OPENAPI_SITE_RESPONSE: {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(op, "responses");
        if (!key || !cJSON_GetObjectItemCaseSensitive(r, key))
            return util_error_set(err, UTIL_ERR_NOTFOUND, "%s documents no %s response",
                                  operation_id, key ? key : "(null)");
        rc = util_buf_puts(out, "/responses");
        if (!rc)
            rc = json_pointer_append(out, key);
        if (!rc)
            rc = util_buf_puts(out, "/schema");
        return rc;
    }
    case OPENAPI_SITE_PARAMETER: {
        size_t j = 0;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(op, "parameters"))
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
            if (key && cJSON_IsString(name) && !strcmp(name->valuestring, key))
                return util_buf_printf(out, "/parameters/%zu/schema", j);
            j++;
        }
        return util_error_set(err, UTIL_ERR_NOTFOUND, "%s has no parameter %s", operation_id,
                              key ? key : "(null)");
    }
    }
    return util_error_set(err, UTIL_ERR_USAGE, "unknown schema site");
}
