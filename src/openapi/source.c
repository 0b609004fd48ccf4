/* Schemas sources: a directory on disk or a spec derived in memory; see
 * source.h. */
#include "openapi/source.h"

#include "openapi/spec.h"
#include "util/buf.h"
#include "util/caps.h"
#include "util/file.h"
#include "json/json.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct openapi_source {
    char *origin;               /* the directory or the spec file, as given */
    char *abs_dir;              /* the directory, absolute; NULL when derived */
    char *ops_name;             /* for messages */
    cJSON *ops;                 /* operations.json */
    struct openapi_files files; /* derived files (empty for a directory) */
    struct source_spec *lazy;   /* the spec; a directory's is loaded on first use */
};

struct source_spec {
    pthread_mutex_t lock;
    struct openapi *spec;
    bool tried;
    struct util_error err; /* why the directory's spec did not load */
};

static struct openapi_source *source_new(const char *origin)
{
    struct openapi_source *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    openapi_files_init(&s->files);
    if (!(s->lazy = calloc(1, sizeof(*s->lazy)))) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lazy->lock, NULL);
    if (!(s->origin = strdup(origin))) {
        openapi_source_destroy(s);
        return NULL;
    }
    return s;
}

int openapi_source_open_dir(const char *dir, struct openapi_source **out, struct util_error *err)
{
    char abs[PATH_MAX];
    struct openapi_source *s = source_new(dir);
    int rc = UTIL_OK;
    *out = NULL;
    if (!s || !(s->ops_name = util_path_join(dir, "operations.json"))) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = json_load_file(s->ops_name, UTIL_CAP_SCHEMA_FILE, &s->ops, err)))
        goto cleanup;
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(s->ops, "operations"))) {
        rc = util_error_set(err, UTIL_ERR_INVALID, "%s: no \"operations\" array", s->ops_name);
        goto cleanup;
    }
    if (!realpath(dir, abs)) {
        rc = util_error_set(err, UTIL_ERR_IO, "%s: %s", dir, strerror(errno));
        goto cleanup;
    }
    if (!(s->abs_dir = strdup(abs)))
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
cleanup:
    if (rc)
        openapi_source_destroy(s);
    else
        *out = s;
    return rc;
}

int openapi_source_open_spec(const char *spec_path, struct openapi_source **out,
                             struct util_error *err)
{
    struct openapi_source *s = source_new(spec_path);
    struct util_buf name;
    int rc = UTIL_OK;
    *out = NULL;
    util_buf_init(&name, UTIL_CAP_MESSAGE);
    if (!s || util_buf_printf(&name, "%s (derived operations.json)", spec_path) ||
        !(s->ops_name = util_buf_steal(&name))) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    s->lazy->tried = true;
    if ((rc = openapi_load(spec_path, &s->lazy->spec, err)) ||
        (rc = openapi_generate(s->lazy->spec, &s->files, err)))
        goto cleanup;
    const struct openapi_file *ops = openapi_files_find(&s->files, "operations.json");
    if (!ops) {
        rc = util_error_set(err, UTIL_ERR_INVALID, "%s: no operations.json derived", spec_path);
        goto cleanup;
    }
    rc = json_parse(ops->data, ops->len, s->ops_name, &s->ops, err);
cleanup:
    util_buf_finish(&name);
    if (rc)
        openapi_source_destroy(s);
    else
        *out = s;
    return rc;
}

void openapi_source_destroy(struct openapi_source *s)
{
    if (!s)
        return;
    openapi_destroy(s->lazy->spec);
    pthread_mutex_destroy(&s->lazy->lock);
    free(s->lazy);
    openapi_files_finish(&s->files);
    cJSON_Delete(s->ops);
    free(s->origin);
    free(s->abs_dir);
    free(s->ops_name);
    free(s);
}

bool openapi_source_derived(const struct openapi_source *s)
{
    return s->abs_dir == NULL;
}

const char *openapi_source_origin(const struct openapi_source *s)
{
    return s->origin;
}

const char *openapi_source_operations_name(const struct openapi_source *s)
{
    return s->ops_name;
}

const cJSON *openapi_source_operations(const struct openapi_source *s)
{
    return s->ops;
}

static const char *spec_member(const struct openapi_source *s, const char *name)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s->ops, "spec"), name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *openapi_source_title(const struct openapi_source *s)
{
    return spec_member(s, "title");
}

const char *openapi_source_version(const struct openapi_source *s)
{
    return spec_member(s, "version");
}

const char *openapi_source_sha256(const struct openapi_source *s)
{
    const char *sha = spec_member(s, "sha256");
    return sha && strlen(sha) == 64 ? sha : NULL;
}

/* Whether rel stays inside the schemas directory. */
static bool relative_ok(const char *rel)
{
    if (!rel[0] || rel[0] == '/')
        return false;
    for (const char *p = rel; *p; p = strchr(p, '/') ? strchr(p, '/') + 1 : p + strlen(p))
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
            return false;
    return true;
}

int openapi_source_read(const struct openapi_source *s, const char *rel, char **data, size_t *len,
                        struct util_error *err)
{
    *data = NULL;
    *len = 0;
    if (!relative_ok(rel))
        return util_error_set(err, UTIL_ERR_NOTFOUND, "%s: no file '%s'", s->origin, rel);
    if (s->abs_dir) {
        char *path = util_path_join(s->origin, rel);
        if (!path)
            return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        int rc = UTIL_ERR_NOTFOUND;
        if (!util_file_exists(path))
            util_error_set(err, rc, "%s: no such file", path);
        else
            rc = util_file_read(path, UTIL_CAP_SCHEMA_FILE, data, len, err);
        free(path);
        return rc;
    }
    const struct openapi_file *f = openapi_files_find(&s->files, rel);
    if (!f)
        return util_error_set(err, UTIL_ERR_NOTFOUND, "%s: no derived file '%s'", s->origin, rel);
    if (!(*data = malloc(f->len + 1)))
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    memcpy(*data, f->data, f->len + 1);
    *len = f->len;
    return UTIL_OK;
}

int openapi_source_read_json(const struct openapi_source *s, const char *rel, cJSON **out,
                             struct util_error *err)
{
    char *data = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = openapi_source_read(s, rel, &data, &len, err);
    if (!rc && s->abs_dir) {
        /* Named by its path on disk, as json_load_file does. */
        char *path = util_path_join(s->origin, rel);
        rc = path ? json_parse(data, len, path, out, err)
                  : util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        free(path);
    } else if (!rc) {
        rc = json_parse(data, len, rel, out, err);
    }
    free(data);
    return rc;
}

int openapi_source_register(const struct openapi_source *s, struct schema_registry *reg,
                            char **operations_uri, struct util_error *err)
{
    if (operations_uri)
        *operations_uri = NULL;
    if (s->abs_dir)
        return openapi_registry_add_dir(reg, s->abs_dir, operations_uri, err);
    int rc = openapi_registry_add_files(reg, &s->files, OPENAPI_MEMORY_BASE_URI, err);
    if (!rc && operations_uri &&
        !(*operations_uri = strdup(OPENAPI_MEMORY_BASE_URI "operations.json")))
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    return rc;
}

int openapi_source_spec(const struct openapi_source *s, const struct openapi **out,
                        struct util_error *err)
{
    struct source_spec *z = s->lazy;
    *out = NULL;
    pthread_mutex_lock(&z->lock);
    if (!z->tried) {
        z->tried = true;
        util_error_clear(&z->err);
        char *path = util_path_join(s->origin, "openapi/ingestion.yml");
        if (!path)
            util_error_set(&z->err, UTIL_ERR_NOMEM, "out of memory");
        else
            openapi_load(path, &z->spec, &z->err);
        free(path);
    }
    int rc = z->spec ? UTIL_OK : z->err.code ? z->err.code : UTIL_ERR_NOMEM;
    if (z->spec)
        *out = z->spec;
    else if (err)
        *err = z->err;
    pthread_mutex_unlock(&z->lock);
    return rc;
}
