/* See proc.h. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

const char *proc_binary;
const char *proc_source;

bool proc_main_args(int argc, char **argv, const char *what)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s INGESTCHECK SOURCE_DIR [%s]\n", argv[0], what);
        return false;
    }
    proc_binary = argv[1];
    proc_source = argv[2];
    return true;
}

bool proc_under_valgrind(void)
{
    const char *v = getenv("INGESTCHECK_UNDER_VALGRIND");
    return v && *v;
}

long proc_deadline(long ms)
{
    return proc_under_valgrind() ? ms * 20 : ms;
}

long proc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void proc_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void redirect(int fd, const char *path, int flags)
{
    int f = open(path ? path : "/dev/null", flags, 0644);
    if (f < 0)
        _exit(126);
    if (f != fd) {
        dup2(f, fd);
        close(f);
    }
}

/* The child side: never outlives the test, standard streams redirected. */
static void child_setup(const char *out, const char *err)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    redirect(STDIN_FILENO, NULL, O_RDONLY);
    redirect(STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC);
    redirect(STDERR_FILENO, err, O_WRONLY | O_CREAT | O_TRUNC);
}

pid_t proc_spawn(const char *const *args, const char *out, const char *err,
                 const struct proc_limits *lim)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    child_setup(out, err);
    char *argv[80];
    size_t n = 0;
    bool vg = proc_under_valgrind() && !(lim && lim->no_valgrind);
    if (vg) {
        static const char *const wrap[] = {"valgrind", "--error-exitcode=99", "--leak-check=full",
                                           "--errors-for-leak-kinds=definite,indirect", "-q"};
        for (size_t i = 0; i < sizeof(wrap) / sizeof(wrap[0]); i++)
            argv[n++] = (char *)(uintptr_t)wrap[i];
    }
    /* Limits through the shell's ulimit, as a user sets them: this
     * process may run under valgrind, which keeps setrlimit for itself. */
    char script[256] = "";
    if (lim && (lim->nofile || lim->as_kib)) {
        int k = 0;
        if (lim->nofile)
            k = snprintf(script, sizeof(script), "ulimit -%sn %lu || exit 125; ",
                         lim->nofile_soft_only ? "S" : "", lim->nofile);
        if (lim->as_kib)
            snprintf(script + k, sizeof(script) - (size_t)k, "ulimit -v %lu || exit 125; ",
                     lim->as_kib);
        strncat(script, "exec \"$0\" \"$@\"", sizeof(script) - strlen(script) - 1);
        argv[n++] = (char *)(uintptr_t) "/bin/sh";
        argv[n++] = (char *)(uintptr_t) "-c";
        argv[n++] = script;
    }
    argv[n++] = (char *)(uintptr_t)proc_binary;
    for (; *args && n < 79; args++)
        argv[n++] = (char *)(uintptr_t)*args;
    argv[n] = NULL;
    if (vg)
        execvp(argv[0], argv);
    else
        execv(argv[0], argv);
    _exit(127);
}

pid_t proc_spawn_tool(const char *const *argv, const char *out, const char *err)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    child_setup(out, err);
    execvp(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
}

int proc_wait(pid_t pid, long deadline_ms, bool *hung)
{
    long end = proc_now_ms() + deadline_ms;
    int st = 0;
    if (hung)
        *hung = false;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (proc_now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            if (hung)
                *hung = true;
            break;
        }
        proc_sleep_ms(5);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int proc_run(const char *const *args, const char *out, const char *err,
             const struct proc_limits *lim, long deadline_ms, bool *hung)
{
    pid_t pid = proc_spawn(args, out, err, lim);
    if (pid < 0)
        return -1;
    return proc_wait(pid, deadline_ms, hung);
}

bool proc_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void proc_rmtree(const char *dir)
{
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static size_t temp_count;

static int count_temp(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    if (flag == FTW_F && strstr(path + ftw->base, ".tmp."))
        temp_count++;
    return 0;
}

size_t proc_count_temp_files(const char *dir)
{
    temp_count = 0;
    nftw(dir, count_temp, 16, FTW_PHYS);
    return temp_count;
}

void proc_mkdtemp(char *out, size_t cap, const char *what)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, cap, "%s/ingestcheck-%s-XXXXXX", base && *base ? base : "/tmp", what);
    if (!mkdtemp(out)) {
        fprintf(stderr, "cannot create %s: %s\n", out, strerror(errno));
        exit(1);
    }
}
