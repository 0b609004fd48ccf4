/* Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without
 * libFuzzer, so every corpus file is a regression test in every build.
 *
 *   corpus_driver_<target> PATH...
 *
 * Each PATH is a file or a directory whose regular files (not starting with
 * '.') are run in name order. Each input is copied into a buffer of exactly
 * its size, as libFuzzer does, so over-reads show up under ASan/valgrind.
 * The empty input is run too. Exits 1 when a path cannot be read or a
 * directory holds no input (a misconfigured test must not pass). A failing
 * input abort()s; the last "running" line names it. */
#include "fuzz_common.h"

#include "util/caps.h"
#include "util/error.h"
#include "util/file.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int run_file(const char *path, size_t *count)
{
    struct util_error err;
    char *text = NULL;
    size_t len = 0;
    util_error_clear(&err);
    if (util_file_read(path, UTIL_CAP_JSON_DOCUMENT, &text, &len, &err) != UTIL_OK) {
        fprintf(stderr, "corpus_driver: %s\n", err.message);
        return -1;
    }
    /* Exact-size copy: no NUL terminator for the target to lean on. */
    uint8_t *data = malloc(len ? len : 1);
    if (!data) {
        free(text);
        fprintf(stderr, "corpus_driver: out of memory for %s\n", path);
        return -1;
    }
    memcpy(data, text, len);
    free(text);

    fprintf(stderr, "running %s (%zu bytes)\n", path, len);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    LLVMFuzzerTestOneInput(data, len);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs > 1.0)
        fprintf(stderr, "corpus_driver: warning: %s took %.2f s\n", path, secs);
    free(data);
    (*count)++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    const char *const *x = a;
    const char *const *y = b;
    return strcmp(*x, *y);
}

static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, alloc = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 64;
            char **nn = realloc(names, na * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
            alloc = na;
        }
        names[n] = util_path_join(dir, e->d_name);
        if (!names[n]) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0 && n == 0) {
        fprintf(stderr, "corpus_driver: %s holds no input\n", dir);
        rc = -1;
    }
    if (rc == 0)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (util_dir_exists(names[i]))
            continue;
        rc = run_file(names[i], count);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    size_t count = 0;
    /* The empty input: every target must cope with it. */
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    for (int i = 1; i < argc; i++) {
        int rc = util_dir_exists(argv[i]) ? run_dir(argv[i], &count) : run_file(argv[i], &count);
        if (rc != 0)
            return 1;
    }
    printf("%zu inputs ran without failure\n", count);
    return 0;
}
