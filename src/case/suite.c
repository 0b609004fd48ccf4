/* Suites: case files found in directories, loaded on several threads. */
#include "case/internal.h"

#include "case/limits.h"
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void case_suite_init(struct case_suite *s)
{
    memset(s, 0, sizeof(*s));
}

void case_suite_finish(struct case_suite *s)
{
    for (size_t i = 0; i < s->count; i++)
        case_file_destroy(s->files[i]);
    free(s->files);
    memset(s, 0, sizeof(*s));
}

size_t case_suite_count(const struct case_suite *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->count; i++)
        n += s->files[i]->ncases;
    return n;
}

struct path_list {
    char **items;
    size_t count;
    size_t alloc;
};

static int path_list_add(struct path_list *l, char *p)
{
    if (l->count == l->alloc) {
        size_t n = l->alloc ? l->alloc * 2 : 32;
        char **q = realloc(l->items, n * sizeof(*q));
        if (!q)
            return UTIL_ERR_NOMEM;
        l->items = q;
        l->alloc = n;
    }
    l->items[l->count++] = p;
    return UTIL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *n)
{
    size_t len = strlen(n);
    return (len > 5 && strcmp(n + len - 5, ".yaml") == 0) ||
           (len > 4 && strcmp(n + len - 4, ".yml") == 0);
}

/* Collects the YAML files under dir (recursively). */
static int collect_dir(const char *dir, struct path_list *out, int depth, struct util_error *err)
{
    if (depth > 32)
        return util_error_set(err, UTIL_ERR_LIMIT, "%s: directories nested too deep", dir);
    DIR *d = opendir(dir);
    if (!d)
        return util_error_set(err, UTIL_ERR_IO, "%s: cannot open directory: %s", dir,
                              strerror(errno));
    int rc = UTIL_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = util_path_join(dir, e->d_name);
        if (!p) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            break;
        }
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            rc = collect_dir(p, out, depth + 1, err);
            free(p);
        } else if (yaml_name(e->d_name)) {
            if (out->count >= CASE_CAP_FILES) {
                free(p);
                rc = util_error_set(err, UTIL_ERR_LIMIT, "more than %d case files", CASE_CAP_FILES);
            } else if (path_list_add(out, p)) {
                free(p);
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            }
        } else {
            free(p);
        }
    }
    closedir(d);
    return rc;
}

/* Case files being loaded by several threads: each takes the next file,
 * largest first (so that the threads finish together). */
struct load_job {
    const struct case_loader *l;
    const struct path_list *files;
    size_t *order;             /* file indexes, largest file first */
    off_t *size;               /* one per file, for the order */
    struct case_file **out;    /* one per file */
    int *rc;                   /* one per file */
    struct util_error *errors; /* one per file */
    pthread_mutex_t lock;
    size_t next;
};

static void *load_worker(void *arg)
{
    struct load_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t next = j->next++;
        pthread_mutex_unlock(&j->lock);
        if (next >= j->files->count)
            return NULL;
        size_t i = j->order[next];
        util_error_clear(&j->errors[i]);
        j->rc[i] = case_file_load(j->l, j->files->items[i], &j->out[i], &j->errors[i]);
    }
}

/* Loads every file of files into s, in order, on up to CASE_LOAD_THREADS
 * threads (the loader is only read); on failure, the error of the first
 * failing file in order, and s is left as it was. */
static int load_all(const struct case_loader *l, const struct path_list *files,
                    struct case_suite *s, struct util_error *err)
{
    size_t n = files->count;
    struct load_job j = {.l = l, .files = files};
    pthread_t threads[CASE_LOAD_THREADS];
    size_t started = 0, want = n;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int rc = UTIL_OK;
    if (cpus >= 1 && want > (size_t)cpus)
        want = (size_t)cpus;
    if (want > CASE_LOAD_THREADS)
        want = CASE_LOAD_THREADS;
    j.out = calloc(n ? n : 1, sizeof(*j.out));
    j.rc = calloc(n ? n : 1, sizeof(*j.rc));
    j.errors = calloc(n ? n : 1, sizeof(*j.errors));
    j.order = calloc(n ? n : 1, sizeof(*j.order));
    j.size = calloc(n ? n : 1, sizeof(*j.size));
    if (!j.out || !j.rc || !j.errors || !j.order || !j.size ||
        n > SIZE_MAX / sizeof(*s->files) - s->count) {
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        j.size[i] = stat(files->items[i], &st) == 0 ? st.st_size : 0;
        /* insertion by size, descending; equal sizes keep file order */
        size_t k = i;
        for (; k > 0 && j.size[j.order[k - 1]] < j.size[i]; k--)
            j.order[k] = j.order[k - 1];
        j.order[k] = i;
    }
    pthread_mutex_init(&j.lock, NULL);
    /* This thread is one of the loaders. */
    while (started + 1 < want && pthread_create(&threads[started], NULL, load_worker, &j) == 0)
        started++;
    load_worker(&j);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&j.lock);
    for (size_t i = 0; i < n && !rc; i++) {
        if (j.rc[i]) {
            rc = j.rc[i];
            if (err)
                *err = j.errors[i];
        }
    }
    if (!rc && s->count + n > s->alloc) {
        size_t cap = s->alloc ? s->alloc : 16;
        while (cap < s->count + n)
            cap *= 2;
        struct case_file **q = realloc(s->files, cap * sizeof(*q));
        if (!q)
            rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        else {
            s->files = q;
            s->alloc = cap;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (rc)
            case_file_destroy(j.out[i]);
        else
            s->files[s->count++] = j.out[i];
    }
cleanup:
    free(j.out);
    free(j.rc);
    free(j.errors);
    free(j.order);
    free(j.size);
    return rc;
}

int case_suite_load(const struct case_loader *l, const char *const *paths, size_t npaths,
                    struct case_suite *s, struct util_error *err)
{
    struct path_list files = {0};
    int rc = UTIL_OK;
    for (size_t i = 0; !rc && i < npaths; i++) {
        if (util_dir_exists(paths[i])) {
            size_t first = files.count;
            rc = collect_dir(paths[i], &files, 0, err);
            if (!rc)
                qsort(files.items + first, files.count - first, sizeof(char *), cmp_str);
        } else {
            char *p = strdup(paths[i]);
            if (!p || path_list_add(&files, p)) {
                free(p);
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            }
        }
    }
    if (!rc)
        rc = load_all(l, &files, s, err);
    for (size_t i = 0; i < files.count; i++)
        free(files.items[i]);
    free(files.items);
    return rc;
}
