/* Process and file helpers of the bad-input and fault tests: `ingestcheck`
 * children with deadlines, resource limits and (under `meson test --setup
 * valgrind`) memcheck, and the files they leave behind. */
#ifndef INGESTCHECK_TESTS_BAD_PROC_H
#define INGESTCHECK_TESTS_BAD_PROC_H

#include "slurp.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PROC_PATH_MAX 4096

/* The ingestcheck binary and the source root, set by main. */
extern const char *proc_binary;
extern const char *proc_source;

/* Sets proc_binary and proc_source from `argv[0] INGESTCHECK SOURCE_DIR
 * [what]`; false, after printing the usage (what names the optional
 * argument), when they are missing. */
bool proc_main_args(int argc, char **argv, const char *what);

/* Whether ingestcheck children run under valgrind (INGESTCHECK_UNDER_VALGRIND). */
bool proc_under_valgrind(void);
/* Scales a deadline for valgrind (x20). */
long proc_deadline(long ms);
long proc_now_ms(void);
void proc_sleep_ms(long ms);

/* Limits set by `ulimit` in /bin/sh before ingestcheck starts; 0 leaves one
 * alone. */
struct proc_limits {
    unsigned long nofile;  /* RLIMIT_NOFILE, soft and hard ... */
    bool nofile_soft_only; /* ... or the soft one only */
    unsigned long as_kib;  /* RLIMIT_AS in KiB (ulimit -v) */
    bool no_valgrind;      /* run ingestcheck directly even under valgrind */
};

/* Starts `ingestcheck args...` (args NULL-terminated) with stdin from
 * /dev/null and stdout and stderr into the files out and err. */
pid_t proc_spawn(const char *const *args, const char *out, const char *err,
                 const struct proc_limits *lim);
/* Starts any program (searched in PATH); stdout and stderr as above (NULL:
 * /dev/null). */
pid_t proc_spawn_tool(const char *const *argv, const char *out, const char *err);
/* Waits for pid; past deadline_ms it is killed and *hung set. Returns the
 * exit code, or 128 + the signal that ended it. */
int proc_wait(pid_t pid, long deadline_ms, bool *hung);
/* proc_spawn then proc_wait. */
int proc_run(const char *const *args, const char *out, const char *err,
             const struct proc_limits *lim, long deadline_ms, bool *hung);

/* Writes len bytes to path; false on failure. */
bool proc_write(const char *path, const void *data, size_t len);
/* Removes a directory tree. */
void proc_rmtree(const char *dir);
/* Counts the files below dir whose name contains ".tmp." (left by an
 * atomic write that did not finish). */
size_t proc_count_temp_files(const char *dir);
/* A fresh directory under $TMPDIR (or /tmp) named after what. */
void proc_mkdtemp(char *out, size_t cap, const char *what);

#endif
