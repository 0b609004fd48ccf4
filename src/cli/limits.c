/* Resource limits checked before a run starts, so that a low `ulimit -n`
 * is a one-line error instead of sockets that cannot be opened (or
 * accepted, by the embedded mock) halfway through. */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>

/* Descriptors open now (the /proc/self/fd entries, less the one reading
 * it); falls back to probing each below limit. */
static long open_fds(rlim_t limit)
{
    long n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            n += e->d_name[0] != '.';
        closedir(d);
        return n > 0 ? n - 1 : 0;
    }
    for (rlim_t fd = 0; fd < limit && fd < 65536; fd++)
        n += fcntl((int)fd, F_GETFD) != -1 || errno != EBADF;
    return n;
}

bool cli_ensure_fds(long jobs)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return true;
    long needed = open_fds(rl.rlim_cur) + CLI_FDS_BASE + CLI_FDS_PER_JOB * jobs;
    if ((rlim_t)needed <= rl.rlim_cur)
        return true;
    if (rl.rlim_max == RLIM_INFINITY || (rlim_t)needed <= rl.rlim_max) {
        struct rlimit raised = {.rlim_cur = (rlim_t)needed, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            return true;
    }
    cli_error("-j %ld needs about %ld file descriptors and the limit is %llu (ulimit -n): raise "
              "it or lower -j",
              jobs, needed, (unsigned long long)rl.rlim_max);
    return false;
}

bool cli_num_in_range(const struct cli_args *args, int id, long lo, long hi, const char *name)
{
    long v = cli_get_num(args, id, lo);
    if (v < lo || v > hi) {
        cli_error("--%s must be between %ld and %ld, got %ld", name, lo, hi, v);
        return false;
    }
    return true;
}
