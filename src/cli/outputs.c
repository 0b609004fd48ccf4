/* Output paths checked before a command reads or runs anything: an output
 * that cannot be written, and an output that is one of the command's
 * inputs, are refused with one line naming the path (exit 2), so that no
 * run's results and no input are lost. Identity is the file's device and
 * inode, or, for an output not there yet, its resolved path. */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest path handled here; longer ones are left to the writer. */
#define CLI_CAP_OUTPUT_PATH 4096

const char *const cli_report_files[] = {"junit.xml",
                                        "results.json",
                                        "coverage.json",
                                        "coverage.html",
                                        "coverage.md",
                                        "api-coverage.info",
                                        NULL};

/* The absolute, resolved form of path into out, whether or not it exists:
 * its deepest existing ancestor resolved by realpath, the rest appended.
 * False when it cannot be worked out (too long, unreadable ancestor). */
static bool resolve(const char *path, char out[PATH_MAX])
{
    char p[CLI_CAP_OUTPUT_PATH];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(p))
        return false;
    memcpy(p, path, n + 1);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    if (realpath(p, out))
        return true;
    char *slash = strrchr(p, '/');
    const char *base = slash ? slash + 1 : p;
    char parent[PATH_MAX];
    if (slash == p)
        strcpy(parent, "/");
    else if (slash) {
        *slash = '\0';
        if (!resolve(p, parent))
            return false;
    } else if (!realpath(".", parent)) {
        return false;
    }
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return false;
    int w = snprintf(out, PATH_MAX, "%s%s%s", parent, strcmp(parent, "/") ? "/" : "", base);
    return w > 0 && w < PATH_MAX;
}

bool cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ra[PATH_MAX], rb[PATH_MAX];
    return resolve(a, ra) && resolve(b, rb) && strcmp(ra, rb) == 0;
}

bool cli_path_inside(const char *path, const char *dir)
{
    char rp[PATH_MAX], rd[PATH_MAX];
    if (!resolve(path, rp) || !resolve(dir, rd))
        return false;
    size_t n = strlen(rd);
    return strncmp(rp, rd, n) == 0 && (rp[n] == '/' || (n == 1 && rd[0] == '/'));
}

/* Whether a file can be created in the directory dir (tried, then
 * removed: root passes permission bits, not a read-only file system). */
static bool can_create_in(const char *dir, int *why)
{
    char probe[CLI_CAP_OUTPUT_PATH + 32];
    int w = snprintf(probe, sizeof(probe), "%s/.ingestcheck-probe-XXXXXX", dir);
    if (w < 0 || (size_t)w >= sizeof(probe)) {
        *why = ENAMETOOLONG;
        return false;
    }
    int fd = mkstemp(probe);
    if (fd < 0) {
        *why = errno;
        return false;
    }
    close(fd);
    unlink(probe);
    return true;
}

bool cli_check_output(const char *path, bool is_dir, const char *option)
{
    char at[CLI_CAP_OUTPUT_PATH];
    struct stat st;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(at)) {
        cli_error("%s '%s': not a usable path", option, path);
        return false;
    }
    memcpy(at, path, n + 1);
    bool exists = stat(at, &st) == 0;
    if (exists && is_dir && !S_ISDIR(st.st_mode)) {
        cli_error("%s %s: not a directory", option, path);
        return false;
    }
    if (exists && !is_dir && !S_ISREG(st.st_mode)) {
        cli_error("%s %s: not a regular file", option, path);
        return false;
    }
    /* The directory a file would be created in: path itself (an existing
     * directory), else its deepest existing ancestor. */
    if (!exists || !is_dir) {
        for (;;) {
            while (n > 1 && at[n - 1] == '/')
                at[--n] = '\0';
            char *slash = strrchr(at, '/');
            if (!slash) {
                strcpy(at, ".");
                break;
            }
            if (slash == at) {
                at[1] = '\0';
                break;
            }
            *slash = '\0';
            n = (size_t)(slash - at);
            if (stat(at, &st) == 0)
                break;
        }
        if (stat(at, &st) != 0 || !S_ISDIR(st.st_mode)) {
            cli_error("%s %s: %s is not a directory", option, path, at);
            return false;
        }
    }
    int why = 0;
    if (!can_create_in(at, &why)) {
        cli_error("%s %s: cannot write in %s: %s", option, path, at, strerror(why));
        return false;
    }
    return true;
}

bool cli_check_not_input(const char *output, const char *const *inputs, size_t ninputs,
                         const char *option)
{
    for (size_t i = 0; i < ninputs; i++)
        if (inputs[i] && cli_same_file(output, inputs[i])) {
            cli_error("%s %s is the input %s: refusing to overwrite it", option, output, inputs[i]);
            return false;
        }
    return true;
}

bool cli_check_reports_dir(const char *dir, const char *const *inputs, size_t ninputs,
                           const char *option)
{
    if (!cli_check_output(dir, true, option))
        return false;
    for (size_t i = 0; cli_report_files[i]; i++) {
        char p[CLI_CAP_OUTPUT_PATH + 32];
        snprintf(p, sizeof(p), "%s/%s", dir, cli_report_files[i]);
        if (!cli_check_not_input(p, inputs, ninputs, option))
            return false;
    }
    return true;
}
