/* Whole-file reading with a cap, and atomic writing (temp file + rename). */
#ifndef INGESTCHECK_UTIL_FILE_H
#define INGESTCHECK_UTIL_FILE_H

#include "util/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Opens path for reading, refusing what is not a regular file (a FIFO, a
 * device, a socket, a directory) at once, without blocking: *out is the
 * stream (caller fcloses). UTIL_ERR_IO, err naming the path, otherwise. */
int util_file_open(const char *path, FILE **out, struct util_error *err);

/* Reads the whole file into a NUL-terminated heap buffer (*out, caller frees)
 * of *len bytes. Fails with UTIL_ERR_LIMIT past limit bytes, UTIL_ERR_IO when
 * the file cannot be read or is not a regular file; err names the path. */
int util_file_read(const char *path, size_t limit, char **out, size_t *len, struct util_error *err);

/* Writes len bytes to path atomically: a temporary file in the same directory
 * is written, flushed, fsync'ed and renamed over path, so readers see either
 * the old or the new content, never a part. */
int util_file_write_atomic(const char *path, const void *data, size_t len, struct util_error *err);

/* One piece of a file written by util_file_write_parts_atomic. */
struct util_file_part {
    const void *data;
    size_t len;
};

/* util_file_write_atomic of the concatenation of n parts, without building
 * it in memory. */
int util_file_write_parts_atomic(const char *path, const struct util_file_part *parts, size_t n,
                                 struct util_error *err);

/* Creates dir and its parents (mode 0777 & ~umask); existing dirs are fine. */
int util_mkdir_p(const char *dir, struct util_error *err);

bool util_file_exists(const char *path);
bool util_dir_exists(const char *path);

/* Joins a and b with one '/'; heap string, caller frees; NULL on ENOMEM. */
char *util_path_join(const char *a, const char *b);

#endif
