/* Case files: the model of a contract-test case and its loader.
 *
 * A case file is YAML (see schemas/case.schema.json for the format):
 *
 *   cases:
 *     - name: create and read a task
 *       tags: [tasks]
 *       vars: {label: "{{run.id}}-task"}
 *       steps:
 *         - operation: createTask          # an operationId of the spec
 *                                          # (or request: POST /1/tasks)
 *           body: {sourceID: ..., action: replace}
 *           expect: {status: 200, body: {taskID: {$uuid: true}}}
 *           capture: {taskID: $.taskID}
 *         - method: GET                    # or a raw request
 *           path: /1/tasks/{{taskID}}
 *       teardown:
 *         - operation: deleteTask
 *           path: {taskID: "{{taskID}}"}
 *       cassette:                          # replay matching (also per step)
 *         ignore_query: [startDate]
 *         ignore_body: [/window/startDate] # JSON Pointers
 *         ordered: true                    # in recorded order
 *
 * The loader reads a file three ways, each for what it is good at: libyaml
 * (spec/yaml_json.h) into a cJSON tree with a line table, validated with the
 * schema engine against case.schema.json for precise "file:line:column:
 * expected ..." messages; libcyaml for the typed skeleton (names, tags,
 * operations, methods); and the cJSON tree for the free-form values (bodies,
 * parameters, expected values), which the model borrows. Then the semantic
 * checks: operationIds exist, path parameters are the operation's, query
 * parameters are documented, matchers and regular expressions are valid,
 * templates parse and every variable used is defined by vars or an earlier
 * capture.
 *
 * Everything a struct case_file holds is owned by it; every string and cJSON
 * pointer of the model stays valid until case_file_destroy / case_suite_finish. */
#ifndef INGESTCHECK_CASE_CASE_H
#define INGESTCHECK_CASE_CASE_H

#include "util/error.h"

#include <cjson/cJSON.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

/* One accepted status: a code (200) or a class (4 for "4xx"). */
struct case_status {
    int code; /* 100..599, or the class digit 1..5 */
    bool is_class;
};

/* Expected response properties; used by `expect:` and `until:`. */
struct case_expect {
    struct case_status *status; /* owned; nstatus == 0: any 2xx */
    size_t nstatus;
    const cJSON *headers; /* borrowed object or NULL */
    const cJSON *body;    /* borrowed; NULL when not given */
    bool body_exact;      /* body came from body_exact: */
    bool given;           /* the block was written in the file */
};

struct case_capture {
    char *name; /* owned variable name */
    char *expr; /* owned: "/a/0", "$.a[0]" or "header:NAME" */
};

/* How a cassette replay matches requests to recordings (`cassette:` of a
 * case or step; the zero value compares everything, in any order). */
struct case_match {
    char **ignore_query; /* owned: query parameter names not compared */
    size_t nignore_query;
    char **ignore_body; /* owned: JSON Pointers removed from both bodies */
    size_t nignore_body;
    bool ordered; /* the next recording not yet replayed must match */
};

enum case_step_kind { CASE_STEP_OPERATION, CASE_STEP_RAW };

struct case_step {
    char *name; /* owned: given, else operationId or "METHOD path" */
    enum case_step_kind kind;
    char *operation_id;     /* owned, CASE_STEP_OPERATION only: the loaded spec's */
    const cJSON *operation; /* borrowed entry of the loaded operations.json (operation
                               steps); NULL when unresolved */
    /* Owned: the operationId the step wrote (operation:), or the one its
     * request: has in the schemas directory's revision, when it is not
     * operation_id (the loaded spec renamed it) or the loaded spec lacks
     * the operation; NULL otherwise. */
    char *declared_id;
    /* Owned: why the loaded spec has no operation for this step, which then
     * fails when it runs (the rest of the suite runs); NULL when resolved. */
    char *unresolved;
    char *method;             /* owned, upper case: from the operation or given */
    char *path_template;      /* owned: the operation's path ("/1/tasks/{taskID}") or the
                                 raw path, which may hold {{templates}} */
    const cJSON *path_params; /* borrowed object or NULL (operation steps) */
    const cJSON *query;       /* borrowed object or NULL */
    const cJSON *headers;     /* borrowed object or NULL */
    const cJSON *body;        /* borrowed or NULL */
    const char *body_raw;     /* borrowed or NULL */
    const char *content_type; /* borrowed or NULL (application/json) */
    struct case_expect expect;
    bool has_until;
    struct case_expect until;
    long poll_interval_ms;
    long poll_timeout_ms;
    struct case_capture *captures; /* owned, document order */
    size_t ncaptures;
    int *allow_undocumented; /* owned */
    size_t nallow;
    /* The step's cassette: merged with its case's: both ignore lists (the
     * case's first), the step's ordered when given, else the case's. */
    struct case_match match;
    bool teardown;    /* a teardown step */
    size_t index;     /* position in steps or teardown, from 0 */
    int line, column; /* where the step starts */
};

struct case_case {
    char *name;              /* owned */
    const char *description; /* borrowed or NULL */
    char **tags;             /* owned */
    size_t ntags;
    const cJSON *vars; /* borrowed object or NULL, in document order */
    struct case_step *steps;
    size_t nsteps;
    struct case_step *teardown;
    size_t nteardown;
    struct case_match match; /* the case's own cassette: block */
    const char *file;        /* borrowed from the case_file */
    size_t index;            /* position in the file */
    int line, column;
};

struct case_file {
    char *path; /* owned, as given */
    cJSON *doc; /* owned: the file as JSON */
    struct case_case *cases;
    size_t ncases;
    struct openapi_line_table *lines; /* owned */
};

/* Opaque: what loading needs (the compiled case schema, the operations). */
struct case_loader;

struct openapi_source;

/* Creates a loader: case.schema.json from schemas_dir, the operations from
 * source (spec/source.h; it may be destroyed before the loader). When
 * source was derived from a spec (--spec), the step's operationIds are
 * those of schemas_dir/operations.json when it exists (the revision the
 * cases were written against) and are resolved in the loaded spec by
 * method and path (see resolve.c). NULL on failure with err set. Caller
 * destroys. */
struct case_loader *case_loader_create(const char *schemas_dir, const struct openapi_source *source,
                                       struct util_error *err);
/* case_loader_create over the directory alone: the operations of
 * schemas_dir/operations.json (a source opened on the directory). */
struct case_loader *case_loader_create_dir(const char *schemas_dir, struct util_error *err);
/* Accepts NULL. */
void case_loader_destroy(struct case_loader *l);
/* The parsed operations.json (borrowed). */
const cJSON *case_loader_operations(const struct case_loader *l);

/* Loads one case file. On success *out is a new file (caller destroys).
 * On failure err->message is "file:line:column: what was expected" (and
 * err->file/line/column are set); codes: UTIL_ERR_IO, UTIL_ERR_LIMIT (over
 * CASE_CAP_FILE_SIZE), UTIL_ERR_PARSE (YAML), UTIL_ERR_INVALID (format or
 * semantics). */
int case_file_load(const struct case_loader *l, const char *path, struct case_file **out,
                   struct util_error *err);
/* Same from memory; name is used in messages and as the file name. */
int case_file_load_text(const struct case_loader *l, const char *text, size_t len, const char *name,
                        struct case_file **out, struct util_error *err);
/* Accepts NULL. */
void case_file_destroy(struct case_file *f);

/* Every case file of a run, in the order given (directories expanded to
 * their *.yaml and *.yml files, recursively, sorted by path). */
struct case_suite {
    struct case_file **files;
    size_t count;
    size_t alloc;
};

void case_suite_init(struct case_suite *s);
void case_suite_finish(struct case_suite *s);

/* Loads each path (file or directory) into s, the files on several threads
 * (the loader is only read), in order. When a file does not load, err says
 * which and where (the first such file in order) and s is left as it was;
 * nothing runs then. A case name used twice in one file is refused. */
int case_suite_load(const struct case_loader *l, const char *const *paths, size_t npaths,
                    struct case_suite *s, struct util_error *err);

/* Fills in, as a run will, the templates of every request header (and raw
 * request path) that takes its value from vars:, --run-id (run_id; NULL: a
 * placeholder) or the environment, and refuses one that would hold CR, LF,
 * NUL or another control character, or pass the header line cap: err is
 * "file:line:col: headers: NAME: ..." or "...: path: ..." (UTIL_ERR_INVALID
 * or UTIL_ERR_LIMIT). What uses a captured value is checked when the
 * request is built. */
int case_suite_check_headers(const struct case_suite *s, const char *run_id,
                             struct util_error *err);

/* The parameter object of an operation of operations.json with this name
 * and `in` ("path", "query", "header"), or NULL. */
const cJSON *case_op_param(const cJSON *op, const char *name, const char *in);

/* An operation the cases name by an id that the loaded spec calls
 * otherwise (getTasks is listTasksV1). Strings borrowed from the suite. */
struct case_rename {
    const char *declared_id;  /* as the cases write it */
    const char *operation_id; /* the loaded spec's */
    const char *method;       /* "GET" */
    const char *path;         /* the loaded spec's template */
};

/* The distinct renamed operations of s's steps and teardown steps, in
 * order of first use: *out (caller frees the array; NULL when *n is 0). */
int case_suite_renames(const struct case_suite *s, struct case_rename **out, size_t *n);

/* Total number of cases in s. */
size_t case_suite_count(const struct case_suite *s);

/* Whether status matches one of e's statuses (any 2xx when none listed). */
bool case_expect_status_matches(const struct case_expect *e, int status);
/* Appends "200", "200, 404" or "4xx" style text of e's statuses to buf
 * (size bytes, NUL-terminated). */
void case_expect_status_text(const struct case_expect *e, char *buf, size_t size);

/* Matchers in expected values: a non-empty mapping whose keys all start
 * with '$' ({$type: string}, {$regex: '^ic-'}, {$uuid: true},
 * {$date-time: true}, {$length: 3} or {$length: {min: 1, max: 5}},
 * {$contains: value}, {$exact: value}, {$absent: true}, {$each: value},
 * {$not: value}, {$in: [values]}, {$sorted: {by: key, order: desc}},
 * {$gte: 1, $lt: 5} or {$gte: "{{createdAt - 1h}}"}; README lists their
 * meaning). */
bool case_is_matcher(const cJSON *node);

/* Compiles a $regex pattern (POSIX extended, REG_NOSUB) into re, after
 * refusing what the C library cannot compile in bounded time:
 * backreferences and repetitions that expand past CASE_CAP_REGEX_NODES.
 * Returns 0 (regfree(re) later), or -1 with why (size bytes) saying what
 * is wrong and nothing to free. */
int case_regex_compile(regex_t *re, const char *pattern, char *why, size_t size);

/* Parses "500ms", "2s", "1m", "1h" or a bare number of milliseconds.
 * Returns 0 and sets *ms, -1 when malformed. */
int case_parse_duration(const char *s, long *ms);

#endif
