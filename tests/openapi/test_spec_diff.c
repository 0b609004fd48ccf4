/* openapi_changes_compute on small revisions written here: every kind of
 * change, its classification, both pointers and their lines (found by
 * searching the YAML text, not by asking the model). */
#include "openapi/diff.h"
#include "openapi/spec.h"
#include "json/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define HEAD "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\n"

static const char OLD[] =
    HEAD "paths:\n"
         "  /1/tasks/{taskID}:\n"
         "    get:\n"
         "      operationId: getTask\n"
         "      parameters:\n"
         "        - {name: taskID, in: path, required: true, schema: {type: string}}\n"
         "        - {name: limit, in: query, schema: {type: integer}}\n"
         "        - {name: order, in: query, schema: {type: string, enum: [asc, desc]}}\n"
         "        - {name: gone, in: query, schema: {type: string}}\n"
         "      responses:\n"
         "        '200':\n"
         "          description: ok\n"
         "          content:\n"
         "            application/json:\n"
         "              schema: {$ref: '#/components/schemas/Task'}\n"
         "        '404': {description: missing}\n"
         "    put:\n"
         "      operationId: putTask\n"
         "      requestBody:\n"
         "        content:\n"
         "          application/json:\n"
         "            schema: {$ref: '#/components/schemas/TaskCreate'}\n"
         "      responses:\n"
         "        '200': {description: put ok}\n"
         "  /1/old:\n"
         "    get:\n"
         "      operationId: oldOp\n"
         "      responses: {'200': {description: ok}}\n"
         "components:\n"
         "  schemas:\n"
         "    Task:\n"
         "      type: object\n"
         "      required: [id, status]\n"
         "      properties:\n"
         "        id: {type: string}\n"
         "        status: {type: string, enum: [ok, failed]}\n"
         "        count: {type: integer}\n"
         "        note: {type: string}\n"
         "    TaskCreate:\n"
         "      type: object\n"
         "      additionalProperties: false\n"
         "      allOf:\n"
         "        - $ref: '#/components/schemas/Base'\n"
         "        - properties:\n"
         "            action: {type: string, enum: [save, replace]}\n"
         "            size: {type: number}\n"
         "    Base:\n"
         "      properties:\n"
         "        name: {type: string}\n"
         "        extra: {type: string}\n";

static const char NEW[] =
    HEAD "paths:\n"
         "  /1/new:\n"
         "    get:\n"
         "      operationId: newOp\n"
         "      responses: {'200': {description: ok}}\n"
         "  /1/tasks/{id}:\n"
         "    get:\n"
         "      operationId: readTask\n"
         "      parameters:\n"
         "        - {name: id, in: path, required: true, schema: {type: string}}\n"
         "        - {name: limit, in: query, required: true, schema: {type: string}}\n"
         "        - {name: order, in: query, schema: {type: string, enum: [asc]}}\n"
         "        - {name: page, in: query, required: true, schema: {type: integer}}\n"
         "      responses:\n"
         "        '200':\n"
         "          description: ok\n"
         "          content:\n"
         "            application/json:\n"
         "              schema: {$ref: '#/components/schemas/Task'}\n"
         "        '202': {description: accepted}\n"
         "    put:\n"
         "      operationId: putTask\n"
         "      requestBody:\n"
         "        required: true\n"
         "        content:\n"
         "          application/json:\n"
         "            schema: {$ref: '#/components/schemas/TaskCreate'}\n"
         "          text/csv: {schema: {type: string}}\n"
         "      responses:\n"
         "        '204': {description: put done}\n"
         "components:\n"
         "  schemas:\n"
         "    Task:\n"
         "      type: object\n"
         "      required: [id]\n"
         "      properties:\n"
         "        id: {type: string}\n"
         "        status: {type: string, enum: [ok, failed, paused]}\n"
         "        count: {type: number}\n"
         "        tag: {type: string}\n"
         "    TaskCreate:\n"
         "      type: object\n"
         "      additionalProperties: false\n"
         "      required: [name]\n"
         "      allOf:\n"
         "        - $ref: '#/components/schemas/Base'\n"
         "        - properties:\n"
         "            action: {type: string, enum: [save, merge]}\n"
         "            size: {type: integer}\n"
         "            mode: {type: string}\n"
         "    Base:\n"
         "      properties:\n"
         "        name: {type: string}\n";

struct fixture {
    struct openapi *o, *n;
    struct openapi_changes c;
    const char *otext, *ntext;
};

static struct openapi *load(const char *text, const char *name)
{
    struct openapi *s = NULL;
    struct util_error err;
    util_error_clear(&err);
    if (openapi_load_text(text, strlen(text), name, &s, &err) != UTIL_OK)
        fail_msg("%s: %s", name, err.message);
    return s;
}

/* Diffs the two texts into f (rc: what openapi_changes_compute returned). */
static int diff(struct fixture *f, const char *otext, const char *ntext, struct util_error *err)
{
    memset(f, 0, sizeof(*f));
    f->otext = otext;
    f->ntext = ntext;
    f->o = load(otext, "old.yml");
    f->n = load(ntext, "new.yml");
    openapi_changes_init(&f->c);
    util_error_clear(err);
    return openapi_changes_compute(f->o, f->n, &f->c, err);
}

static void finish(struct fixture *f)
{
    openapi_changes_finish(&f->c);
    openapi_destroy(f->o);
    openapi_destroy(f->n);
}

/* OLD against NEW, for the tests that read it (cmocka state). */
static int setup_old_new(void **state)
{
    struct fixture *f = malloc(sizeof(*f));
    struct util_error err;
    if (!f || diff(f, OLD, NEW, &err) != UTIL_OK) {
        fprintf(stderr, "openapi_changes_compute: %s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_old_new(void **state)
{
    finish(*state);
    free(*state);
    return 0;
}

/* 1-based line of the first line of text containing needle. */
static int line_of(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    if (!at)
        fail_msg("'%s' is not in the text", needle);
    int line = 1;
    for (const char *p = text; p < at; p++)
        line += *p == '\n';
    return line;
}

/* The one change with this id whose message contains text. */
static const struct openapi_change *find(const struct fixture *f, const char *id, const char *text)
{
    const struct openapi_change *hit = NULL;
    for (size_t i = 0; i < f->c.count; i++) {
        const struct openapi_change *c = &f->c.items[i];
        if (strcmp(c->id, id) != 0 || !strstr(c->message, text))
            continue;
        if (hit)
            fail_msg("two changes %s '%s': '%s' and '%s'", id, text, hit->message, c->message);
        hit = c;
    }
    if (!hit) {
        for (size_t i = 0; i < f->c.count; i++)
            print_message("  %s %s\n", f->c.items[i].id, f->c.items[i].message);
        fail_msg("no change %s '%s'", id, text);
    }
    return hit;
}

/* Asserts one end: pointer (NULL: absent) at the line of needle. */
static void at(const struct openapi_change_loc *l, const char *text, const char *pointer,
               const char *needle)
{
    if (!pointer) {
        assert_null(l->pointer);
        assert_int_equal(l->line, 0);
        return;
    }
    assert_non_null(l->pointer);
    assert_string_equal(l->pointer, pointer);
    assert_int_equal(l->line, line_of(text, needle));
}

static void check(const struct fixture *f, const char *id, const char *text, bool breaking,
                  const char *op, const char *oneedle, const char *np, const char *nneedle)
{
    const struct openapi_change *c = find(f, id, text);
    if (c->breaking != breaking)
        fail_msg("%s '%s': breaking is %d", id, c->message, c->breaking);
    at(&c->old_loc, f->otext, op, oneedle);
    at(&c->new_loc, f->ntext, np, nneedle);
}

static void test_operations(void **state)
{
    const struct fixture *fp = *state;
    const struct fixture f = *fp;
    check(&f, "operation-added", "newOp", false, NULL, NULL, "/paths/~11~1new/get",
          "    get:\n      operationId: newOp");
    check(&f, "operation-removed", "oldOp", true, "/paths/~11~1old/get",
          "    get:\n      operationId: oldOp", NULL, NULL);
    /* Matched by method and template, not by operationId nor parameter name. */
    check(&f, "operation-id-changed", "getTask is now readTask", false,
          "/paths/~11~1tasks~1{taskID}/get/operationId", "operationId: getTask",
          "/paths/~11~1tasks~1{id}/get/operationId", "operationId: readTask");
    const struct openapi_change *c = find(&f, "operation-id-changed", "readTask");
    assert_string_equal(c->old_operation_id, "getTask");
    assert_string_equal(c->new_operation_id, "readTask");
    assert_string_equal(c->method, "GET");
    assert_string_equal(c->path, "/1/tasks/{id}");
    assert_int_equal(f.c.operations_added, 1);
    assert_int_equal(f.c.operations_removed, 1);
    assert_int_equal(f.c.operations_renamed, 1);
    /* The renamed path parameter is the same parameter: no change for it. */
    for (size_t i = 0; i < f.c.count; i++)
        assert_null(strstr(f.c.items[i].message, "parameter id"));
}

static void test_parameters(void **state)
{
    const struct fixture *fp = *state;
    const struct fixture f = *fp;
    const char *g = "/paths/~11~1tasks~1{taskID}/get/parameters/";
    const char *h = "/paths/~11~1tasks~1{id}/get/parameters/";
    char op[256], np[256];
    snprintf(np, sizeof(np), "%s3", h);
    check(&f, "parameter-added", "query parameter page added (required)", true, NULL, NULL, np,
          "name: page");
    snprintf(op, sizeof(op), "%s3", g);
    check(&f, "parameter-removed", "query parameter gone removed", true, op, "name: gone", NULL,
          NULL);
    snprintf(op, sizeof(op), "%s1", g);
    snprintf(np, sizeof(np), "%s1", h);
    check(&f, "parameter-became-required", "query parameter limit became required", true, op,
          "name: limit", np, "name: limit");
    snprintf(op, sizeof(op), "%s1/schema/type", g);
    snprintf(np, sizeof(np), "%s1/schema/type", h);
    check(&f, "parameter-type-changed", "limit: type integer became string", true, op,
          "name: limit", np, "name: limit");
    snprintf(op, sizeof(op), "%s2/schema/enum/1", g);
    check(&f, "parameter-enum-value-removed", "order: enum value \"desc\" removed", true, op,
          "name: order", NULL, NULL);
}

static void test_request(void **state)
{
    const struct fixture *fp = *state;
    const struct fixture f = *fp;
    const char *put = "/paths/~11~1tasks~1{id}/put/requestBody";
    check(&f, "request-body-became-required", "request body became required", true,
          "/paths/~11~1tasks~1{taskID}/put/requestBody",
          "      requestBody:\n        content:", put,
          "      requestBody:\n        required: true");
    check(&f, "request-media-type-added", "text/csv added", false, NULL, NULL,
          "/paths/~11~1tasks~1{id}/put/requestBody/content/text~1csv", "text/csv");
    /* required: [name] on TaskCreate, name from Base through allOf. */
    check(&f, "request-property-became-required", "request body property name became required",
          true, "/components/schemas/Base/properties/name", "        name: {type: string}",
          "/components/schemas/Base/properties/name", "        name: {type: string}");
    /* TaskCreate closes itself: a client still sending extra gets a 400. */
    check(&f, "request-property-removed", "property extra removed", true,
          "/components/schemas/Base/properties/extra", "extra:", NULL, NULL);
    check(&f, "request-property-added", "property mode added", false, NULL, NULL,
          "/components/schemas/TaskCreate/allOf/1/properties/mode", "mode:");
    check(&f, "request-enum-value-removed", "action: enum value \"replace\" removed", true,
          "/components/schemas/TaskCreate/allOf/1/properties/action/enum/1", "action:", NULL, NULL);
    check(&f, "request-enum-value-added", "action: enum value \"merge\" added", false, NULL, NULL,
          "/components/schemas/TaskCreate/allOf/1/properties/action/enum/1", "action:");
    check(&f, "request-type-narrowed", "size: type number became integer", true,
          "/components/schemas/TaskCreate/allOf/1/properties/size/type",
          "size:", "/components/schemas/TaskCreate/allOf/1/properties/size/type", "size:");
}

static void test_responses(void **state)
{
    const struct fixture *fp = *state;
    const struct fixture f = *fp;
    const char *t = "/components/schemas/Task/properties/";
    char p[256];
    snprintf(p, sizeof(p), "%sstatus/enum/2", t);
    check(&f, "response-enum-value-added", "status: enum value \"paused\" added", true, NULL, NULL,
          p, "status: {type: string, enum: [ok, failed, paused]}");
    snprintf(p, sizeof(p), "%sstatus", t);
    check(&f, "response-property-became-optional", "status became optional", true, p,
          "status: {type", p, "status: {type");
    snprintf(p, sizeof(p), "%scount/type", t);
    check(&f, "response-type-widened", "count: type integer became number", true, p, "count:", p,
          "count:");
    snprintf(p, sizeof(p), "%snote", t);
    check(&f, "response-property-removed", "note removed", false, p, "note:", NULL, NULL);
    snprintf(p, sizeof(p), "%stag", t);
    check(&f, "response-property-added", "tag added", false, NULL, NULL, p, "tag:");
    check(&f, "response-status-removed", "response 404 removed", false,
          "/paths/~11~1tasks~1{taskID}/get/responses/404", "'404'", NULL, NULL);
    check(&f, "response-status-removed", "response 200 removed", true,
          "/paths/~11~1tasks~1{taskID}/put/responses/200", "put ok", NULL, NULL);
    check(&f, "response-status-added", "response 202 added", false, NULL, NULL,
          "/paths/~11~1tasks~1{id}/get/responses/202", "'202'");
    /* Each change is counted once per operation, the summary adds up. */
    size_t breaking = 0;
    for (size_t i = 0; i < f.c.count; i++)
        breaking += f.c.items[i].breaking;
    assert_int_equal(breaking, f.c.breaking);
}

/* Removed properties: a request object that does not close itself ignores
 * them; a required response property removed breaks readers. */
static void test_removed_properties(void **state)
{
    (void)state;
    const char *o =
        HEAD "paths:\n  /x:\n    post:\n      operationId: x\n"
             "      requestBody:\n        content:\n          application/json:\n"
             "            schema: {properties: {a: {type: string}, b: {type: string}}}\n"
             "      responses:\n        '200':\n          description: ok\n"
             "          content:\n            application/json:\n"
             "              schema:\n                required: [r]\n"
             "                properties: {r: {type: string}, w: {type: string, "
             "writeOnly: true}}\n";
    const char *n = HEAD "paths:\n  /x:\n    post:\n      operationId: x\n"
                         "      requestBody:\n        content:\n          application/json:\n"
                         "            schema: {properties: {a: {type: string}}}\n"
                         "      responses:\n        '200':\n          description: ok\n"
                         "          content:\n            application/json:\n"
                         "              schema:\n                properties: {}\n";
    struct fixture f;
    struct util_error err;
    assert_int_equal(diff(&f, o, n, &err), UTIL_OK);
    const char *rb = "/paths/~1x/post/requestBody/content/application~1json/schema/properties/b";
    check(&f, "request-property-removed", "property b removed", false, rb, "b: {type", NULL, NULL);
    const char *rs = "/paths/~1x/post/responses/200/content/application~1json/schema/properties/";
    char p[256];
    snprintf(p, sizeof(p), "%sr", rs);
    check(&f, "response-property-removed", "property r removed", true, p, "r: {type", NULL, NULL);
    snprintf(p, sizeof(p), "%sw", rs);
    check(&f, "response-property-removed", "property w removed", false, p, "w: {type", NULL, NULL);
    finish(&f);
}

/* oneOf branches matched by $ref; a recursive schema is walked once. */
static void test_variants_and_cycles(void **state)
{
    (void)state;
    const char *tail = "components:\n  schemas:\n"
                       "    A: {type: object, properties: {a: {type: string}}}\n"
                       "    B: {type: object, properties: {b: {type: string}}}\n"
                       "    C: {type: object, properties: {c: {type: string}}}\n"
                       "    Node:\n      type: object\n      properties:\n"
                       "        kids: {type: array, items: {$ref: '#/components/schemas/Node'}}\n";
    char o[2048], n[2048];
    snprintf(o, sizeof(o),
             HEAD "paths:\n  /u:\n    post:\n      operationId: u\n"
                  "      requestBody:\n        content:\n          application/json:\n"
                  "            schema:\n              oneOf:\n"
                  "                - $ref: '#/components/schemas/A'\n"
                  "                - $ref: '#/components/schemas/B'\n"
                  "      responses:\n        '200':\n          description: ok\n"
                  "          content:\n            application/json:\n"
                  "              schema: {$ref: '#/components/schemas/Node'}\n%s"
                  "        name: {type: string}\n",
             tail);
    snprintf(n, sizeof(n),
             HEAD "paths:\n  /u:\n    post:\n      operationId: u\n"
                  "      requestBody:\n        content:\n          application/json:\n"
                  "            schema:\n              oneOf:\n"
                  "                - $ref: '#/components/schemas/C'\n"
                  "                - $ref: '#/components/schemas/A'\n"
                  "      responses:\n        '200':\n          description: ok\n"
                  "          content:\n            application/json:\n"
                  "              schema: {$ref: '#/components/schemas/Node'}\n%s"
                  "        name: {type: integer}\n",
             tail);
    struct fixture f;
    struct util_error err;
    assert_int_equal(diff(&f, o, n, &err), UTIL_OK);
    const char *s = "/paths/~1u/post/requestBody/content/application~1json/schema/oneOf/";
    char p[256];
    snprintf(p, sizeof(p), "%s1", s);
    check(&f, "request-variant-removed", "#/components/schemas/B removed", true, p,
          "- $ref: '#/components/schemas/B'", NULL, NULL);
    snprintf(p, sizeof(p), "%s0", s);
    check(&f, "request-variant-added", "#/components/schemas/C added", false, NULL, NULL, p,
          "- $ref: '#/components/schemas/C'");
    /* A moved from position 0 to 1: the same branch, nothing to report. */
    for (size_t i = 0; i < f.c.count; i++)
        assert_null(strstr(f.c.items[i].message, "schemas/A"));
    check(&f, "response-type-changed", "property name: type string became integer", true,
          "/components/schemas/Node/properties/name/type", "name: {type: string}",
          "/components/schemas/Node/properties/name/type", "name: {type: integer}");
    assert_int_equal(f.c.count, 3);
    finish(&f);
}

/* An enum made nullable the 3.0 way, a union with {type: 'null'}: null
 * now allowed, and the enum compared with the union's other branch. */
static void test_nullable_union(void **state)
{
    (void)state;
    const char *paths = "paths:\n  /s:\n    get:\n      operationId: s\n"
                        "      responses:\n        '200':\n          description: ok\n"
                        "          content:\n            application/json:\n"
                        "              schema: {$ref: '#/components/schemas/S'}\n";
    char o[1024], n[1024];
    snprintf(o, sizeof(o), HEAD "%scomponents:\n  schemas:\n    S: {type: string, enum: [a, b]}\n",
             paths);
    snprintf(n, sizeof(n),
             HEAD "%scomponents:\n  schemas:\n    S:\n      oneOf:\n"
                  "        - {type: string, enum: [a, b, c]}\n        - {type: 'null'}\n",
             paths);
    struct fixture f;
    struct util_error err;
    assert_int_equal(diff(&f, o, n, &err), UTIL_OK);
    check(&f, "response-type-widened", "null now allowed", true, NULL, NULL,
          "/components/schemas/S/oneOf", "      oneOf:");
    check(&f, "response-enum-value-added", "enum value \"c\" added", true, NULL, NULL,
          "/components/schemas/S/oneOf/0/enum/2", "enum: [a, b, c]");
    assert_int_equal(f.c.count, 2);
    finish(&f);
    /* And back: null no longer allowed, which a request would not accept. */
    assert_int_equal(diff(&f, n, o, &err), UTIL_OK);
    check(&f, "response-type-narrowed", "null no longer allowed", false,
          "/components/schemas/S/oneOf", "      oneOf:", NULL, NULL);
    assert_int_equal(f.c.count, 2);
    finish(&f);
}

/* A document compared with itself has no change. */
static void test_identical(void **state)
{
    (void)state;
    struct fixture f;
    struct util_error err;
    assert_int_equal(diff(&f, NEW, NEW, &err), UTIL_OK);
    assert_int_equal(f.c.count, 0);
    assert_int_equal(f.c.breaking, 0);
    finish(&f);
}

/* A $ref to another file, to a URL, or in a cycle of references alone:
 * refused with the file, line and pointer. */
static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *schemas, *says;
    } rows[] = {
        {"    A: {properties: {b: {$ref: 'other.yml#/components/schemas/B'}}}\n",
         "old.yml:6: $ref other.yml#/components/schemas/B does not resolve"},
        {"    A: {properties: {b: {$ref: 'https://x.example/s.json'}}}\n",
         "old.yml:6: $ref https://x.example/s.json does not resolve"},
        {"    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n",
         "reference cycle with no schema in it"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char o[1024];
        snprintf(o, sizeof(o), HEAD "paths: {}\ncomponents:\n  schemas:\n%s", rows[i].schemas);
        struct fixture f;
        struct util_error err;
        assert_int_equal(diff(&f, o, NEW, &err), UTIL_ERR_INVALID);
        if (!strstr(err.message, rows[i].says))
            fail_msg("'%s' lacks '%s'", err.message, rows[i].says);
        assert_non_null(strstr(err.message, "(at /components/schemas/A"));
        finish(&f);
    }
}

/* The JSON document: summary and one entry per change with both ends. */
static void test_json(void **state)
{
    const struct fixture *fp = *state;
    const struct fixture f = *fp;
    cJSON *doc = openapi_changes_to_json(f.o, f.n, &f.c);
    assert_non_null(doc);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "summary");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(s, "changes")->valueint, (int)f.c.count);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(s, "breaking")->valueint, (int)f.c.breaking);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "changes");
    assert_int_equal(cJSON_GetArraySize(arr), (int)f.c.count);
    const cJSON *e = cJSON_GetArrayItem(arr, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "kind")->valuestring,
                        "operation-added");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "old")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "oldOperationId")));
    const cJSON *nl = cJSON_GetObjectItemCaseSensitive(e, "new");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(nl, "pointer")->valuestring,
                        "/paths/~11~1new/get");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(nl, "line")->valueint,
                     line_of(NEW, "    get:\n      operationId: newOp"));
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_operations, setup_old_new, teardown_old_new),
        cmocka_unit_test_setup_teardown(test_parameters, setup_old_new, teardown_old_new),
        cmocka_unit_test_setup_teardown(test_request, setup_old_new, teardown_old_new),
        cmocka_unit_test_setup_teardown(test_responses, setup_old_new, teardown_old_new),
        cmocka_unit_test(test_removed_properties),
        cmocka_unit_test(test_variants_and_cycles),
        cmocka_unit_test(test_nullable_union),
        cmocka_unit_test(test_identical),
        cmocka_unit_test(test_refused),
        cmocka_unit_test_setup_teardown(test_json, setup_old_new, teardown_old_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
