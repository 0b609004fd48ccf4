/* Drives the ingestcheck binary as a user would: exit codes, messages,
 * --help, --version, the man page and `validate`. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const char *binary;
static char data_dir[4096];

struct outcome {
    int status;
    char out[65536];
    char err[65536];
};

static void slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    lseek(fd, 0, SEEK_SET);
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
}

/* Runs the binary with the NULL-terminated arguments; captures output. */
static void run(struct outcome *o, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = strdup(binary);
    va_list ap;
    va_start(ap, o);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
        argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        execv(binary, argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    o->status = WEXITSTATUS(st);
    slurp(fileno(out), o->out, sizeof(o->out));
    slurp(fileno(err), o->err, sizeof(o->err));
    fclose(out);
    fclose(err);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
}

static const char *data(const char *name)
{
    static char paths[8][8192];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof(paths[0]), "%s/%s", data_dir, name);
    return p;
}

static void test_version_and_help(void **state)
{
    (void)state;
    static struct outcome o;
    run(&o, "--version", NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "ingestcheck "));
    run(&o, "--help", NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "validate"));
    assert_non_null(strstr(o.out, "exit status"));
    run(&o, "validate", "--help", NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "--operation ID"));
    assert_non_null(strstr(o.out, "--schemas DIR"));
    run(&o, NULL);
    assert_int_equal(o.status, 2);
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    static struct outcome o;
    run(&o, "frobnicate", NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "unknown command 'frobnicate'"));
    run(&o, "validate", "--bogus", "x.json", NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "unknown option '--bogus'"));
    run(&o, "validate", "--schema", data("schema-person.json"), NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "needs an argument"));
    run(&o, "validate", "--status", "abc", "x.json", NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "expects a number"));
    run(&o, "validate", "x.json", NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "exactly one of"));
}

/* --shard K/N is refused unless 1 <= K <= N <= the cap, before anything
 * runs; merge needs at least one directory. */
static void test_shard_and_merge_usage(void **state)
{
    (void)state;
    static struct outcome o;
    static const char *const bad[] = {"0/4", "5/4", "1/0",  "x/4",   "1/4x",
                                      "/4",  "1/",  "-1/4", "1/1025"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        run(&o, "run", "--list", "--shard", bad[i], "cases/smoke.yaml", NULL);
        assert_int_equal(o.status, 2);
        assert_non_null(strstr(o.err, "--shard expects K/N with 1 <= K <= N <= 1024"));
        assert_string_equal(o.out, "");
    }
    run(&o, "run", "--list", "--shard", "1/1", "cases/smoke.yaml", NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "smoke - "));
    run(&o, "run", "--list", "--shard", "2/2", "cases/smoke.yaml", NULL);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.out, "");
    run(&o, "merge", NULL);
    assert_int_equal(o.status, 2);
    run(&o, "merge", "--help", NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "--reports DIR"));
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* schemas generate reproduces the committed files; check finds a changed,
 * a missing and an extra file (exit 1); lint and examples print, write
 * their reports and gate (--strict; an invalid example not listed in
 * defects.json). */
static void test_schemas_commands(void **state)
{
    (void)state;
    static struct outcome o;
    char dir[] = "/tmp/ic-cli-schemas-XXXXXX", path[256], cmd[512];
    const char *spec = "schemas/openapi/ingestion.yml";
    assert_non_null(mkdtemp(dir));
    run(&o, "schemas", "generate", "--out", dir, NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "wrote "));
    snprintf(path, sizeof(path), "%s/operations.json", dir);
    char *generated = read_all(path), *committed = read_all("schemas/operations.json");
    assert_non_null(generated);
    assert_non_null(committed);
    assert_string_equal(generated, committed);
    free(generated);
    free(committed);
    run(&o, "schemas", "check", NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "is up to date"));
    run(&o, "schemas", "check", "--schemas", dir, "--spec", spec, NULL);
    assert_int_equal(o.status, 0);

    /* The committed defects.json, emptied: every invalid example is now
     * unlisted. */
    snprintf(path, sizeof(path), "%s/defects.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"defects\": []}\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/operations.json", dir);
    assert_int_equal(remove(path), 0);
    snprintf(path, sizeof(path), "%s/components/Extra.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{}\n", f);
    fclose(f);
    run(&o, "schemas", "check", "--schemas", dir, "--spec", spec, NULL);
    assert_int_equal(o.status, 1);
    assert_non_null(strstr(o.out, "/defects.json: changed"));
    assert_non_null(strstr(o.out, "/operations.json: missing"));
    assert_non_null(strstr(o.out, "/components/Extra.json: extra"));
    assert_non_null(strstr(o.out, "3 of the generated files differ"));

    run(&o, "schemas", "examples", "--schemas", dir, "--spec", spec, NULL);
    assert_int_equal(o.status, 1);
    assert_non_null(strstr(o.out, "NOT listed in defects.json"));
    run(&o, "schemas", "examples", "--json", "--reports", dir, NULL);
    assert_int_equal(o.status, 0);
    assert_true(o.out[0] == '[');
    snprintf(path, sizeof(path), "%s/examples-junit.xml", dir);
    char *junit = read_all(path);
    assert_non_null(junit);
    assert_non_null(strstr(junit, "<testsuite name=\"spec-examples\""));
    assert_non_null(strstr(junit, "<skipped message=\"known spec defect: "));
    free(junit);

    run(&o, "schemas", "lint", "--reports", dir, NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "overlapping-union: oneOf "));
    assert_non_null(strstr(o.out, " defects in schemas/openapi/ingestion.yml"));
    snprintf(path, sizeof(path), "%s/lint.json", dir);
    char *lint = read_all(path);
    assert_non_null(lint);
    assert_true(lint[0] == '[');
    free(lint);
    run(&o, "schemas", "lint", "--json", NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "\"kind\""));
    run(&o, "schemas", "lint", "--strict", NULL);
    assert_int_equal(o.status, 1);
    run(&o, "schemas", "lint", "--spec", "/nonexistent-ic.yml", NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "/nonexistent-ic.yml"));
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_validate_schema_file(void **state)
{
    (void)state;
    static struct outcome o;
    run(&o, "validate", "--schema", data("schema-person.json"), data("person-valid.json"), NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, "valid"));
    run(&o, "validate", "--schema", data("schema-person.json"), data("person-invalid.json"), NULL);
    assert_int_equal(o.status, 1);
    assert_non_null(
        strstr(o.out, "/action: \"upsert\" is not one of append, partial, replace, save"));
    assert_non_null(strstr(o.out, "/tags/0"));
    assert_non_null(strstr(o.out, "extra"));
    run(&o, "validate", "--schema", data("schema-person.json"), data("malformed.json"), NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "malformed.json:2:"));
    run(&o, "validate", "--schema", data("no-such-schema.json"), data("person-valid.json"), NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "no-such-schema.json"));
}

static void test_validate_operation(void **state)
{
    (void)state;
    static struct outcome o;
    run(&o, "validate", "--operation", "getTasks", "--status", "200", data("list-tasks-empty.json"),
        NULL);
    assert_int_equal(o.status, 0);
    run(&o, "validate", "--operation", "getTasks", data("list-tasks-bad.json"), NULL);
    assert_int_equal(o.status, 1);
    assert_non_null(strstr(o.out, "/tasks/0/action: \"upsert\" is not one of"));
    run(&o, "validate", "--operation", "getTasks", "--status", "404", data("list-tasks-empty.json"),
        NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "status 404 is not documented for getTasks"));
    run(&o, "validate", "--operation", "noSuchOp", data("list-tasks-empty.json"), NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "no operation 'noSuchOp'"));
    run(&o, "validate", "--operation", "getTasks", "--request", data("list-tasks-empty.json"),
        NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "takes no request body"));
}

/* Bad input: a dangling $ref, a reference cycle, a 100-level nested
 * document and a 50 MB string each give a clear answer. */
static void test_validate_bad_input(void **state)
{
    (void)state;
    static struct outcome o;
    run(&o, "validate", "--schema", data("schema-dangling-ref.json"), data("person-valid.json"),
        NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "cannot resolve reference \"#/$defs/missing\""));
    run(&o, "validate", "--schema", data("schema-cycle.json"), data("person-valid.json"), NULL);
    assert_int_equal(o.status, 2);
    assert_non_null(strstr(o.err, "reference cycle"));

    char dir[] = "/tmp/ic-cli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char deep[64], big[64];
    snprintf(deep, sizeof(deep), "%s/deep.json", dir);
    snprintf(big, sizeof(big), "%s/big.json", dir);
    FILE *f = fopen(deep, "w");
    for (int i = 0; i < 100; i++)
        fputs("{\"a\":", f);
    fputs("1", f);
    for (int i = 0; i < 100; i++)
        fputc('}', f);
    fclose(f);
    run(&o, "validate", "--schema", data("schema-person.json"), deep, NULL);
    assert_int_equal(o.status, 1);
    assert_non_null(strstr(o.out, "/: property \"a\" is not allowed"));
    f = fopen(big, "w");
    fputs("{\"name\": \"", f);
    for (int i = 0; i < 50 * 1024; i++) {
        static char kb[1024];
        memset(kb, 'x', sizeof(kb));
        fwrite(kb, 1, sizeof(kb), f);
    }
    fputs("\", \"action\": 5}", f);
    fclose(f);
    run(&o, "validate", "--schema", data("schema-person.json"), big, NULL);
    assert_int_equal(o.status, 1);
    assert_non_null(strstr(o.out, "/action: 5 is not one of append, partial, replace, save"));
    unlink(deep);
    unlink(big);
    rmdir(dir);
}

static void test_man_page(void **state)
{
    (void)state;
    static struct outcome o;
    run(&o, "help", "--man", NULL);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.out, ".TH INGESTCHECK 1"));
    assert_non_null(strstr(o.out, "\\-\\-operation"));
    assert_non_null(strstr(o.out, "EXIT STATUS"));
}

/* A case directory given with trailing slashes: the files are named
 * "DIR/x.yaml", never "DIR//x.yaml"; --wall-clock is documented. */
static void test_run_case_paths(void **state)
{
    (void)state;
    static struct outcome o;
    char dir[] = "/tmp/ic-cli-cases-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128], arg[128], want[160];
    snprintf(file, sizeof(file), "%s/a.yaml", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("cases:\n  - name: one\n    steps:\n      - operation: getTasks\n", f);
    fclose(f);
    snprintf(want, sizeof(want), "one (%s/a.yaml:2)", dir);
    for (int slashes = 0; slashes <= 2; slashes++) {
        snprintf(arg, sizeof(arg), "%s%.*s", dir, slashes, "//");
        run(&o, "run", "--list", arg, NULL);
        assert_int_equal(o.status, 0);
        assert_non_null(strstr(o.out, want));
        assert_null(strstr(o.out, "//"));
    }
    run(&o, "run", "--help", NULL);
    assert_non_null(strstr(o.out, "--wall-clock"));
    unlink(file);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_cli BINARY DATA_DIR\n");
        return 2;
    }
    binary = argv[1];
    snprintf(data_dir, sizeof(data_dir), "%s", argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_help),      cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_validate_schema_file),  cmocka_unit_test(test_validate_operation),
        cmocka_unit_test(test_validate_bad_input),    cmocka_unit_test(test_man_page),
        cmocka_unit_test(test_shard_and_merge_usage), cmocka_unit_test(test_schemas_commands),
        cmocka_unit_test(test_run_case_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
