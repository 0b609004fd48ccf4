#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a file that is not a regular file is, in a user's words. */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    return "not a regular file";
}

static int not_regular(const char *path, mode_t mode, struct util_error *err)
{
    int rc = util_error_set(err, UTIL_ERR_IO, "%s: is %s; expected a regular file", path,
                            file_kind(mode));
    util_error_at(err, path, 0, 0);
    return rc;
}

int util_file_open(const char *path, FILE **out, struct util_error *err)
{
    *out = NULL;
    struct stat st;
    /* O_NONBLOCK: opening a FIFO without a writer must not wait for one. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENXIO && stat(path, &st) == 0)
            return not_regular(path, st.st_mode, err);
        int rc = util_error_set(err, e == ENOMEM ? UTIL_ERR_NOMEM : UTIL_ERR_IO,
                                "%s: cannot open: %s", path, strerror(e));
        util_error_at(err, path, 0, 0);
        return rc;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int rc = not_regular(path, st.st_mode, err);
        close(fd);
        return rc;
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = NULL;
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 || !(f = fdopen(fd, "rb"))) {
        int e = errno;
        close(fd);
        int rc = util_error_set(err, e == ENOMEM ? UTIL_ERR_NOMEM : UTIL_ERR_IO,
                                "%s: cannot open: %s", path, strerror(e));
        util_error_at(err, path, 0, 0);
        return rc;
    }
    *out = f;
    return UTIL_OK;
}

int util_file_read(const char *path, size_t limit, char **out, size_t *len, struct util_error *err)
{
    int rc = UTIL_OK;
    char *data = NULL;
    size_t used = 0, alloc = 0;
    FILE *f = NULL;
    if ((rc = util_file_open(path, &f, err)))
        goto out;
    for (;;) {
        if (alloc - used < 65536 + 1) {
            size_t n = alloc ? alloc * 2 : 65536 + 1;
            if (n > limit + 1)
                n = limit + 1 > alloc ? limit + 1 : alloc;
            if (n <= alloc) {
                /* Exactly limit bytes read: over the cap only if more follow. */
                if (fgetc(f) == EOF && !ferror(f))
                    break;
                rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: larger than the cap of %zu bytes",
                                    path, limit);
                goto out;
            }
            char *p = realloc(data, n);
            if (!p) {
                rc = util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            data = p;
            alloc = n;
        }
        size_t want = alloc - used - 1;
        size_t got = fread(data + used, 1, want, f);
        used += got;
        if (got < want) {
            if (ferror(f)) {
                rc = util_error_set(err, UTIL_ERR_IO, "%s: read error: %s", path, strerror(errno));
                goto out;
            }
            break;
        }
        if (used > limit) {
            rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: larger than the cap of %zu bytes", path,
                                limit);
            goto out;
        }
    }
    if (used > limit) {
        rc = util_error_set(err, UTIL_ERR_LIMIT, "%s: larger than the cap of %zu bytes", path,
                            limit);
        goto out;
    }
    if (!data) {
        data = malloc(1);
        if (!data) {
            rc = util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    data[used] = '\0';
    *out = data;
    *len = used;
    data = NULL;
out:
    if (f)
        fclose(f);
    free(data);
    return rc;
}

int util_file_write_atomic(const char *path, const void *data, size_t len, struct util_error *err)
{
    struct util_file_part part = {data, len};
    return util_file_write_parts_atomic(path, &part, 1, err);
}

int util_file_write_parts_atomic(const char *path, const struct util_file_part *parts, size_t n,
                                 struct util_error *err)
{
    int rc = UTIL_OK;
    int fd = -1;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return util_error_set(err, UTIL_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = util_error_set(err, UTIL_ERR_IO, "%s: cannot create temporary file: %s", path,
                            strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[i].data;
        size_t left = parts[i].len;
        while (left) {
            ssize_t w = write(fd, p, left);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                rc =
                    util_error_set(err, UTIL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
                goto out;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        rc = util_error_set(err, UTIL_ERR_IO, "%s: cannot flush: %s", path, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = util_error_set(err, UTIL_ERR_IO, "%s: close failed: %s", path, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = util_error_set(err, UTIL_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc != UTIL_OK && tmp)
        unlink(tmp);
    free(tmp);
    return rc;
}

int util_mkdir_p(const char *dir, struct util_error *err)
{
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p)
        return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
    memcpy(p, dir, n + 1);
    int rc = UTIL_OK;
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            rc = util_error_set(err, UTIL_ERR_IO, "%s: cannot create directory: %s", p,
                                strerror(errno));
            break;
        }
        p[i] = c;
    }
    free(p);
    return rc;
}

bool util_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool util_dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *util_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}
