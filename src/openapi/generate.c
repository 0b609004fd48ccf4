/* The generator: components/, operations.json, defects.json (see spec.h).
 *
 * Pass 1 translates every schema keeping oneOf as written and records every
 * union; the engine then checks candidate instances of each branch against
 * the other branches. Pass 2 translates again with the overlapping unions
 * as anyOf (plus type selectors), checks every example and the merged
 * allOfs, and writes the defects. */
#include "openapi/files.h"
#include "openapi/gen.h"
#include "openapi/instance.h"

#include "util/caps.h"
#include "json/json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OPERATIONS_FILE "operations.json"
#define DEFECTS_FILE "defects.json"
#define MAX_REASONS 3

/* Status codes a client can meet that the defects list checks for. */
static const char *const COMMON_STATUSES[] = {"401", "402", "403", "404", "405", "409", "413",
                                              "415", "422", "429", "500", "502", "503", "504"};

struct run {
    struct gen g;
    struct openapi_files files; /* the current pass */
    cJSON *unions;              /* [{location, name, file, out, branches, overlaps}] from pass 1 */
    cJSON *examples;            /* invalid-example defects */
    cJSON *merges;              /* allof-contradiction defects */
    cJSON *all_examples;        /* every example with its verdict */
};

static void gen_clear(struct gen *g)
{
    gen_sites_clear(&g->unions);
    gen_sites_clear(&g->examples);
    gen_sites_clear(&g->nulls);
    gen_sites_clear(&g->merges);
    gen_sites_clear(&g->selectors);
    gen_sites_clear(&g->null_docs);
    gen_sites_clear(&g->degraded);
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static void run_finish(struct run *r)
{
    gen_clear(&r->g);
    free_list(r->g.overlapping, r->g.noverlapping);
    free_list(r->g.renamed, r->g.nrenamed);
    free_list(r->g.renamed_files, r->g.nrenamed);
    openapi_files_finish(&r->files);
    cJSON_Delete(r->unions);
    cJSON_Delete(r->examples);
    cJSON_Delete(r->merges);
    cJSON_Delete(r->all_examples);
}

static int nomem(struct run *r)
{
    return util_error_set(r->g.err, UTIL_ERR_NOMEM, "out of memory");
}

/* Pretty JSON with a trailing newline. */
static int emit(struct openapi_files *files, const char *path, const cJSON *doc)
{
    char *s = json_print(doc, true);
    if (!s)
        return UTIL_ERR_NOMEM;
    size_t n = strlen(s);
    char *d = realloc(s, n + 2);
    if (!d) {
        free(s);
        return UTIL_ERR_NOMEM;
    }
    d[n] = '\n';
    d[n + 1] = '\0';
    return openapi_files_add(files, path, d, n + 1);
}

static const char *source_name(const struct openapi *spec, char *buf, size_t size)
{
    const char *src = openapi_source_name(spec);
    const char *base = strrchr(src, '/');
    snprintf(buf, size, "openapi/%s", base ? base + 1 : src);
    return buf;
}

static cJSON *spec_header(const struct openapi *spec)
{
    char src[512];
    cJSON *h = cJSON_CreateObject();
    if (!h)
        return NULL;
    cJSON_AddStringToObject(h, "title", openapi_title(spec));
    cJSON_AddStringToObject(h, "version", openapi_version(spec));
    cJSON_AddStringToObject(h, "sha256", openapi_sha256(spec));
    cJSON_AddStringToObject(h, "source", source_name(spec, src, sizeof(src)));
    return h;
}

/* ---- component file names ---- */

static int name_files(struct run *r)
{
    const cJSON *comps = cJSON_GetObjectItemCaseSensitive(r->g.doc, "components");
    int rc = gen_name_files(&r->g, cJSON_GetObjectItemCaseSensitive(comps, "schemas"));
    return rc == UTIL_ERR_NOMEM ? nomem(r) : rc;
}

/* ---- pass: components and operations ---- */

static int build_components(struct run *r)
{
    const cJSON *comps = cJSON_GetObjectItemCaseSensitive(r->g.doc, "components");
    const cJSON *schemas = cJSON_GetObjectItemCaseSensitive(comps, "schemas");
    const cJSON *s;
    cJSON_ArrayForEach(s, schemas)
    {
        cJSON *doc = NULL;
        int rc = gen_translate_component(&r->g, s->string, s, &doc);
        if (rc)
            return rc;
        char path[600];
        snprintf(path, sizeof(path), "components/%s.json", gen_component_file(&r->g, s->string));
        rc = emit(&r->files, path, doc);
        cJSON_Delete(doc);
        if (rc)
            return nomem(r);
    }
    return UTIL_OK;
}

/* out[key] = translation of schema (src pointer base + suffix tokens). */
static int add_schema(struct run *r, cJSON *out, const cJSON *schema, const char *src,
                      const char *out_ptr)
{
    if (!schema)
        return cJSON_AddNullToObject(out, "schema") ? UTIL_OK : nomem(r);
    cJSON *t = NULL;
    int rc = gen_translate_inline(&r->g, schema, src, OPERATIONS_FILE, out_ptr, "components/", &t);
    if (rc)
        return rc;
    cJSON_AddItemToObject(out, "schema", t);
    return UTIL_OK;
}

static int media_pointer(struct util_buf *b, const char *base, const char *content_type)
{
    util_buf_reset(b);
    int rc = util_buf_puts(b, base);
    if (!rc)
        rc = json_pointer_append(b, "content");
    if (!rc)
        rc = json_pointer_append(b, content_type);
    if (!rc)
        rc = json_pointer_append(b, "schema");
    return rc;
}

static cJSON *string_list(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static int build_operation(struct run *r, const struct openapi_operation *op, cJSON *e)
{
    struct util_buf src, out;
    util_buf_init(&src, UTIL_CAP_MESSAGE);
    util_buf_init(&out, UTIL_CAP_MESSAGE);
    int rc = UTIL_OK;
    cJSON_AddStringToObject(e, "operationId", op->operation_id);
    cJSON_AddStringToObject(e, "method", op->method_upper);
    cJSON_AddStringToObject(e, "path", op->path);
    cJSON_AddItemToObject(e, "tags", string_list(op->tags, op->ntags));
    if (op->summary)
        cJSON_AddStringToObject(e, "summary", op->summary);
    else
        cJSON_AddNullToObject(e, "summary");
    cJSON_AddItemToObject(e, "acl", string_list(op->acl, op->nacl));
    cJSON_AddBoolToObject(e, "aclDocumented", op->acl_documented);
    cJSON *params = cJSON_AddArrayToObject(e, "parameters");
    for (size_t j = 0; params && j < op->nparams && !rc; j++) {
        const struct openapi_parameter *p = &op->params[j];
        cJSON *pe = cJSON_CreateObject();
        if (!pe) {
            rc = UTIL_ERR_NOMEM;
            break;
        }
        cJSON_AddItemToArray(params, pe);
        cJSON_AddStringToObject(pe, "name", p->name);
        cJSON_AddStringToObject(pe, "in", p->in);
        cJSON_AddBoolToObject(pe, "required", p->required);
        cJSON_AddStringToObject(pe, "style", p->style);
        cJSON_AddBoolToObject(pe, "explode", p->explode);
        cJSON_AddBoolToObject(pe, "acceptBothForms", p->accept_both_forms);
        util_buf_reset(&src);
        util_buf_reset(&out);
        rc = util_buf_printf(&src, "%s/schema", p->pointer);
        if (!rc)
            rc = util_buf_printf(&out, "/operations/%zu/parameters/%zu/schema", op->index, j);
        if (!rc)
            rc = add_schema(r, pe, p->schema, src.data, out.data);
        if (!rc && p->example) {
            util_buf_reset(&src);
            rc = util_buf_printf(&src, "%s/example", p->pointer);
            if (!rc)
                rc = gen_sites_add(&r->g.examples, src.data, OPERATIONS_FILE, out.data, p->example,
                                   NULL);
        }
    }
    if (rc)
        goto cleanup;
    if (op->body) {
        cJSON *b = cJSON_AddObjectToObject(e, "requestBody");
        if (!b) {
            rc = UTIL_ERR_NOMEM;
            goto cleanup;
        }
        cJSON_AddBoolToObject(b, "required", op->body->required);
        if (op->body->content_type)
            cJSON_AddStringToObject(b, "contentType", op->body->content_type);
        else
            cJSON_AddNullToObject(b, "contentType");
        util_buf_reset(&out);
        rc = util_buf_printf(&out, "/operations/%zu/requestBody/schema", op->index);
        if (!rc && op->body->content_type)
            rc = media_pointer(&src, op->body->pointer, op->body->content_type);
        if (!rc)
            rc = add_schema(r, b, op->body->schema, src.data, out.data);
    } else {
        cJSON_AddNullToObject(e, "requestBody");
    }
    if (rc)
        goto cleanup;
    cJSON *resps = cJSON_AddObjectToObject(e, "responses");
    for (size_t j = 0; resps && j < op->nresponses && !rc; j++) {
        const struct openapi_response *sr = &op->responses[j];
        cJSON *re = cJSON_AddObjectToObject(resps, sr->status);
        if (!re) {
            rc = UTIL_ERR_NOMEM;
            break;
        }
        if (sr->description)
            cJSON_AddStringToObject(re, "description", sr->description);
        else
            cJSON_AddNullToObject(re, "description");
        if (sr->content_type)
            cJSON_AddStringToObject(re, "contentType", sr->content_type);
        else
            cJSON_AddNullToObject(re, "contentType");
        util_buf_reset(&out);
        rc = util_buf_printf(&out, "/operations/%zu/responses", op->index);
        if (!rc)
            rc = json_pointer_append(&out, sr->status);
        if (!rc)
            rc = util_buf_puts(&out, "/schema");
        if (!rc && sr->content_type)
            rc = media_pointer(&src, sr->pointer, sr->content_type);
        if (!rc)
            rc = add_schema(r, re, sr->schema, src.data, out.data);
    }
cleanup:
    util_buf_finish(&src);
    util_buf_finish(&out);
    return rc;
}

static int build_operations(struct run *r)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *h = spec_header(r->g.spec);
    int rc = UTIL_OK;
    if (!doc || !h) {
        cJSON_Delete(h);
        rc = UTIL_ERR_NOMEM;
        goto cleanup;
    }
    cJSON_AddItemToObject(doc, "spec", h);
    if (r->g.nrenamed) {
        cJSON *files = cJSON_AddObjectToObject(doc, "componentFiles");
        for (size_t i = 0; files && i < r->g.nrenamed && !rc; i++) {
            char path[600];
            snprintf(path, sizeof(path), "components/%s.json", r->g.renamed_files[i]);
            if (!cJSON_AddStringToObject(files, r->g.renamed[i], path))
                rc = UTIL_ERR_NOMEM;
        }
        if (!files)
            rc = UTIL_ERR_NOMEM;
    }
    cJSON *ops = rc ? NULL : cJSON_AddArrayToObject(doc, "operations");
    for (size_t i = 0; ops && i < openapi_operation_count(r->g.spec) && !rc; i++) {
        cJSON *e = cJSON_CreateObject();
        if (!e) {
            rc = UTIL_ERR_NOMEM;
            break;
        }
        cJSON_AddItemToArray(ops, e);
        rc = build_operation(r, openapi_operation_at(r->g.spec, i), e);
    }
    if (!rc)
        rc = emit(&r->files, OPERATIONS_FILE, doc);
cleanup:
    cJSON_Delete(doc);
    if (rc == UTIL_ERR_NOMEM)
        nomem(r);
    return rc;
}

static int run_pass(struct run *r)
{
    gen_clear(&r->g);
    openapi_files_finish(&r->files);
    openapi_files_init(&r->files);
    int rc = build_components(r);
    if (!rc)
        rc = build_operations(r);
    return rc;
}

/* ---- engine helpers ---- */

static int make_registry(struct run *r, struct schema_registry **out)
{
    *out = schema_registry_create(NULL);
    if (!*out)
        return nomem(r);
    int rc = openapi_registry_add_files(*out, &r->files, OPENAPI_MEMORY_BASE_URI, r->g.err);
    if (rc) {
        util_error_prefix(r->g.err, "registering the generated schemas");
        schema_registry_destroy(*out);
        *out = NULL;
    }
    return rc;
}

static int append_fragment(struct util_buf *b, const char *ptr)
{
    static const char ok[] = "-._~/!$&'()*+,;=:@";
    int rc = UTIL_OK;
    for (const unsigned char *p = (const unsigned char *)ptr; *p && !rc; p++) {
        if (isalnum(*p) || strchr(ok, *p))
            rc = util_buf_putc(b, (char)*p);
        else
            rc = util_buf_printf(b, "%%%02X", *p);
    }
    return rc;
}

/* Looks up file#ptr+suffix in reg. */
static int lookup(struct run *r, struct schema_registry *reg, const char *file, const char *ptr,
                  const char *suffix, struct schema **out)
{
    struct util_buf uri;
    util_buf_init(&uri, UTIL_CAP_MESSAGE);
    int rc = util_buf_printf(&uri, "%s%s#", OPENAPI_MEMORY_BASE_URI, file);
    if (!rc)
        rc = append_fragment(&uri, ptr);
    if (!rc && suffix)
        rc = append_fragment(&uri, suffix);
    if (!rc) {
        rc = schema_registry_lookup(reg, uri.data, out, r->g.err);
        if (rc)
            util_error_prefix(r->g.err, "looking up %s", uri.data);
    } else {
        nomem(r);
    }
    util_buf_finish(&uri);
    return rc;
}

/* "AuthInput" for /components/schemas/AuthInput, else "#<pointer>". */
static char *site_name(const char *src)
{
    static const char prefix[] = "/components/schemas/";
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    const char *rest = src + sizeof(prefix) - 1;
    int rc;
    if (!strncmp(src, prefix, sizeof(prefix) - 1) && !strchr(rest, '/'))
        rc = util_buf_puts(&b, rest);
    else
        rc = util_buf_printf(&b, "#%s", src);
    char *s = rc ? NULL : util_buf_steal(&b);
    util_buf_finish(&b);
    return s;
}

static char *branch_name(const cJSON *branch, const char *union_name, size_t i)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(branch, "$ref");
    if (cJSON_IsString(ref)) {
        char *n = openapi_schema_ref_name(ref->valuestring);
        if (n)
            return n;
    }
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    char *s = NULL;
    if (!util_buf_printf(&b, "%s/oneOf/%zu", union_name, i))
        s = util_buf_steal(&b);
    util_buf_finish(&b);
    return s;
}

static cJSON *location(const char *src)
{
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    cJSON *s = NULL;
    if (!util_buf_printf(&b, "#%s", src))
        s = cJSON_CreateString(b.data);
    util_buf_finish(&b);
    return s;
}

static cJSON *new_defect(struct run *r, const char *kind, const char *src)
{
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    cJSON_AddStringToObject(d, "kind", kind);
    cJSON_AddItemToObject(d, "location", location(src));
    cJSON_AddNumberToObject(d, "line", openapi_line_of(r->g.spec, src));
    return d;
}

/* ---- overlaps ---- */

/* Candidate instances of a branch: minimal, full, and {} for objects. */
static cJSON *candidates(const cJSON *doc, const cJSON *branch)
{
    cJSON *c = cJSON_CreateArray();
    if (!c)
        return NULL;
    cJSON *v[3] = {openapi_instance_build(doc, branch, false),
                   openapi_instance_build(doc, branch, true),
                   openapi_instance_is_object_schema(doc, branch) ? cJSON_CreateObject() : NULL};
    for (size_t i = 0; i < 3; i++) {
        if (!v[i])
            continue;
        bool dup = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, c)
        {
            dup = dup || json_equal(e, v[i]);
        }
        if (dup)
            cJSON_Delete(v[i]);
        else
            cJSON_AddItemToArray(c, v[i]);
    }
    return c;
}

static int check_union(struct run *r, struct schema_registry *reg, const struct gen_site *site,
                       cJSON *result)
{
    const cJSON *branches = cJSON_GetObjectItemCaseSensitive(site->node, "oneOf");
    size_t n = (size_t)cJSON_GetArraySize(branches);
    struct schema **schemas = calloc(n ? n : 1, sizeof(*schemas));
    cJSON **cands = calloc(n ? n : 1, sizeof(*cands));
    int rc = UTIL_OK;
    if (!schemas || !cands) {
        rc = nomem(r);
        goto cleanup;
    }
    char *uname = site_name(site->src);
    if (!uname) {
        rc = nomem(r);
        goto cleanup;
    }
    cJSON_AddStringToObject(result, "name", uname);
    cJSON *names = cJSON_AddArrayToObject(result, "branches");
    cJSON *overlaps = cJSON_AddArrayToObject(result, "overlaps");
    size_t i = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, branches)
    {
        char suffix[64];
        snprintf(suffix, sizeof(suffix), "/oneOf/%zu", i);
        char *bn = branch_name(b, uname, i);
        cJSON_AddItemToArray(names, cJSON_CreateString(bn ? bn : "?"));
        free(bn);
        if ((rc = lookup(r, reg, site->file, site->out, suffix, &schemas[i])))
            break;
        /* Keep only candidates that really are instances of their branch. */
        cJSON *all = candidates(r->g.doc, b);
        cands[i] = cJSON_CreateArray();
        if (!all || !cands[i]) {
            cJSON_Delete(all);
            rc = nomem(r);
            break;
        }
        while (all->child) {
            cJSON *c = cJSON_DetachItemViaPointer(all, all->child);
            if (schema_is_valid(schemas[i], c))
                cJSON_AddItemToArray(cands[i], c);
            else
                cJSON_Delete(c);
        }
        cJSON_Delete(all);
        i++;
    }
    for (size_t a = 0; !rc && a < n; a++) {
        for (size_t bb = a + 1; bb < n; bb++) {
            const cJSON *witness = NULL;
            const cJSON *c;
            cJSON_ArrayForEach(c, cands[a])
            {
                if (!witness && schema_is_valid(schemas[bb], c))
                    witness = c;
            }
            cJSON_ArrayForEach(c, cands[bb])
            {
                if (!witness && schema_is_valid(schemas[a], c))
                    witness = c;
            }
            if (!witness)
                continue;
            cJSON *o = cJSON_CreateObject();
            cJSON *pair = cJSON_AddArrayToObject(o, "branches");
            cJSON_AddItemToArray(pair, cJSON_Duplicate(cJSON_GetArrayItem(names, (int)a), 1));
            cJSON_AddItemToArray(pair, cJSON_Duplicate(cJSON_GetArrayItem(names, (int)bb), 1));
            cJSON_AddItemToObject(o, "example", cJSON_Duplicate(witness, 1));
            cJSON_AddItemToArray(overlaps, o);
        }
    }
    free(uname);
cleanup:
    for (size_t k = 0; cands && k < n; k++)
        cJSON_Delete(cands[k]);
    free(cands);
    free(schemas);
    return rc;
}

static int detect_overlaps(struct run *r)
{
    struct schema_registry *reg = NULL;
    int rc = make_registry(r, &reg);
    if (rc)
        return rc;
    r->unions = cJSON_CreateArray();
    if (!r->unions)
        rc = nomem(r);
    for (size_t i = 0; !rc && i < r->g.unions.count; i++) {
        const struct gen_site *s = &r->g.unions.items[i];
        cJSON *res = cJSON_CreateObject();
        if (!res) {
            rc = nomem(r);
            break;
        }
        cJSON_AddItemToArray(r->unions, res);
        cJSON_AddStringToObject(res, "location", s->src);
        rc = check_union(r, reg, s, res);
        if (rc)
            break;
        if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "overlaps")) == 0)
            continue;
        if (gen_push(&r->g.overlapping, &r->g.noverlapping, s->src)) {
            rc = nomem(r);
            break;
        }
    }
    schema_registry_destroy(reg);
    return rc;
}

/* ---- pass 2 checks ---- */

/* A stable reason for a violation, from the failing keyword in our own
 * files (so defects.json does not depend on the engine's wording). */
static int violation_reason(struct run *r, const struct schema_violation *v, const cJSON *instance,
                            struct util_buf *out)
{
    const char *abs = v->absolute_location ? v->absolute_location : "";
    const char *kwloc = v->keyword_location ? v->keyword_location : "";
    const char *slash = strrchr(kwloc, '/');
    const char *keyword = slash ? slash + 1 : kwloc;
    const cJSON *value = NULL;
    cJSON *doc = NULL;
    size_t base = strlen(OPENAPI_MEMORY_BASE_URI);
    const char *hash = strchr(abs, '#');
    if (strlen(abs) > base && !memcmp(abs, OPENAPI_MEMORY_BASE_URI, base) && hash) {
        char file[512];
        size_t n = (size_t)(hash - abs) - base;
        if (n < sizeof(file)) {
            memcpy(file, abs + base, n);
            file[n] = '\0';
            const struct openapi_file *f = openapi_files_find(&r->files, file);
            struct util_error ignored;
            util_error_clear(&ignored);
            if (f && json_parse(f->data, f->len, file, &doc, &ignored) == UTIL_OK)
                value = json_pointer_get(doc, hash + 1, true);
            const char *ks = strrchr(hash, '/');
            if (ks)
                keyword = ks + 1;
        }
    }
    const cJSON *inst =
        json_pointer_get(instance, v->instance_location ? v->instance_location : "", false);
    const char *where =
        v->instance_location && v->instance_location[0] ? v->instance_location : NULL;
    int rc = UTIL_OK;
    if (where)
        rc = util_buf_printf(out, "at %s: ", where);
    if (!rc && !strcmp(keyword, "type") && value) {
        rc = util_buf_puts(out, "expected type ");
        if (!rc)
            rc = json_print_short(out, value, 200);
        if (!rc)
            rc = util_buf_printf(out, ", got %s", inst ? json_type_name(inst) : "?");
    } else if (!rc && value) {
        rc = util_buf_printf(out, "fails \"%s\": ", keyword);
        if (!rc)
            rc = json_print_short(out, value, 200);
    } else if (!rc) {
        rc = util_buf_printf(out, "fails \"%s\"", keyword);
    }
    cJSON_Delete(doc);
    return rc;
}

static int check_examples(struct run *r, struct schema_registry *reg)
{
    r->examples = cJSON_CreateArray();
    r->all_examples = cJSON_CreateArray();
    if (!r->examples || !r->all_examples)
        return nomem(r);
    int rc = UTIL_OK;
    for (size_t i = 0; !rc && i < r->g.examples.count; i++) {
        const struct gen_site *s = &r->g.examples.items[i];
        struct schema *sch = NULL;
        if ((rc = lookup(r, reg, s->file, s->out, NULL, &sch)))
            break;
        struct schema_result res;
        schema_result_init(&res);
        rc = schema_validate(sch, s->node, &res, r->g.err);
        cJSON *verdict = rc ? NULL : new_defect(r, "example", s->src);
        if (verdict) {
            char where[600];
            snprintf(where, sizeof(where), "%s#%s", s->file, s->out);
            cJSON_DeleteItemFromObjectCaseSensitive(verdict, "kind");
            cJSON_AddItemToObject(verdict, "example", cJSON_Duplicate(s->node, 1));
            cJSON_AddStringToObject(verdict, "schema", where);
            cJSON_AddBoolToObject(verdict, "valid", res.valid);
            cJSON_AddItemToArray(r->all_examples, verdict);
        }
        if (!rc && !res.valid) {
            cJSON *d = new_defect(r, "invalid-example", s->src);
            struct util_buf reason, sp;
            util_buf_init(&reason, UTIL_CAP_MESSAGE);
            util_buf_init(&sp, UTIL_CAP_MESSAGE);
            /* Distinct reasons, at most MAX_REASONS. */
            size_t kept = 0;
            for (size_t k = 0; !rc && k < res.count && kept < MAX_REASONS; k++) {
                struct util_buf one;
                util_buf_init(&one, UTIL_CAP_MESSAGE);
                rc = violation_reason(r, &res.items[k], s->node, &one);
                if (!rc && one.data && (!reason.data || !strstr(reason.data, one.data))) {
                    if (kept++)
                        rc = util_buf_puts(&reason, "; ");
                    if (!rc)
                        rc = util_buf_puts(&reason, one.data);
                }
                util_buf_finish(&one);
            }
            if (!rc)
                rc = util_buf_printf(&sp, "%s#", s->file);
            if (!rc)
                rc = util_buf_puts(&sp, s->out);
            if (!rc && d) {
                cJSON_AddItemToObject(d, "example", cJSON_Duplicate(s->node, 1));
                cJSON_AddStringToObject(d, "schema", sp.data);
                cJSON_AddStringToObject(d, "reason", reason.data ? reason.data : "invalid");
                if (verdict)
                    cJSON_AddStringToObject(verdict, "reason",
                                            reason.data ? reason.data : "invalid");
                cJSON_AddItemToArray(r->examples, d);
                d = NULL;
            }
            cJSON_Delete(d);
            util_buf_finish(&reason);
            util_buf_finish(&sp);
        }
        schema_result_finish(&res);
    }
    return rc;
}

/* A merged allOf: the minimal instance must validate against the merged
 * schema, and the parts that reject it on their own show the defect. */
static int check_merges(struct run *r, struct schema_registry *reg)
{
    r->merges = cJSON_CreateArray();
    if (!r->merges)
        return nomem(r);
    int rc = UTIL_OK;
    for (size_t i = 0; !rc && i < r->g.merges.count; i++) {
        const struct gen_site *s = &r->g.merges.items[i];
        struct schema *merged = NULL;
        if ((rc = lookup(r, reg, s->file, s->out, NULL, &merged)))
            break;
        cJSON *inst = openapi_instance_build(r->g.doc, s->node, false);
        if (!inst && !(inst = cJSON_CreateNull()))
            return nomem(r);
        /* A value the builder could not make satisfy every constraint
         * (a pattern, a format): the merge stays, the defect says so. */
        bool accepted = schema_is_valid(merged, inst);
        cJSON *d = new_defect(r, "allof-contradiction", s->src);
        cJSON *rejected = cJSON_CreateArray();
        const cJSON *part;
        cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(s->extra, "parts"))
        {
            if (rc || !cJSON_IsString(part) || part->valuestring[0] == '/')
                continue;
            char file[600];
            snprintf(file, sizeof(file), "components/%s.json",
                     gen_component_file(&r->g, part->valuestring));
            struct schema *ps = NULL;
            rc = lookup(r, reg, file, "", NULL, &ps);
            if (!rc && !schema_is_valid(ps, inst))
                cJSON_AddItemToArray(rejected, cJSON_CreateString(part->valuestring));
        }
        if (!d || !rejected) {
            cJSON_Delete(d);
            cJSON_Delete(rejected);
            cJSON_Delete(inst);
            return nomem(r);
        }
        cJSON_AddItemToObject(
            d, "parts", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s->extra, "parts"), 1));
        cJSON_AddItemToObject(d, "example", inst);
        cJSON_AddItemToObject(d, "rejectedBy", rejected);
        if (!accepted)
            cJSON_AddStringToObject(d, "note",
                                    "the merged schema rejects this value too: it could not be "
                                    "built to meet every constraint");
        char res[600];
        snprintf(res, sizeof(res),
                 "merged into one object schema (%s): properties and required united, "
                 "additionalProperties false",
                 s->file);
        cJSON_AddStringToObject(d, "resolution", res);
        cJSON_AddItemToArray(r->merges, d);
    }
    return rc;
}

/* Every overlap witness must be accepted by the derived union. */
static int self_check(struct run *r, struct schema_registry *reg)
{
    int rc = UTIL_OK;
    for (size_t i = 0; !rc && i < r->g.unions.count; i++) {
        const struct gen_site *s = &r->g.unions.items[i];
        const cJSON *res = NULL;
        const cJSON *u;
        cJSON_ArrayForEach(u, r->unions)
        {
            const cJSON *loc = cJSON_GetObjectItemCaseSensitive(u, "location");
            if (!res && !strcmp(loc->valuestring, s->src))
                res = u;
        }
        struct schema *sch = NULL;
        if ((rc = lookup(r, reg, s->file, s->out, NULL, &sch)))
            break;
        const cJSON *o;
        cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(res, "overlaps"))
        {
            const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "example");
            if (!schema_is_valid(sch, ex))
                return util_error_set(r->g.err, UTIL_ERR_INVALID,
                                      "derived union at #%s rejects a value that matches two of "
                                      "its branches (internal error)",
                                      s->src);
        }
    }
    return rc;
}

/* ---- defects ---- */

static int add_null_types(struct run *r, cJSON *list)
{
    for (size_t i = 0; i < r->g.nulls.count; i++) {
        cJSON *d = new_defect(r, "oas30-null-type", r->g.nulls.items[i].src);
        if (!d)
            return nomem(r);
        cJSON_AddStringToObject(d, "openapi", openapi_openapi_version(r->g.spec));
        cJSON_AddStringToObject(d, "resolution",
                                "type: 'null' is not an OpenAPI 3.0 type; read as the JSON "
                                "Schema null type");
        cJSON_AddItemToArray(list, d);
    }
    return UTIL_OK;
}

static int add_unions(struct run *r, cJSON *list)
{
    const cJSON *u;
    cJSON_ArrayForEach(u, r->unions)
    {
        const cJSON *overlaps = cJSON_GetObjectItemCaseSensitive(u, "overlaps");
        if (cJSON_GetArraySize(overlaps) == 0)
            continue;
        const char *src = cJSON_GetObjectItemCaseSensitive(u, "location")->valuestring;
        const struct gen_site *site = NULL;
        for (size_t i = 0; i < r->g.unions.count && !site; i++)
            if (!strcmp(r->g.unions.items[i].src, src))
                site = &r->g.unions.items[i];
        cJSON *d = new_defect(r, "overlapping-union", src);
        if (!d)
            return nomem(r);
        cJSON_AddItemToArray(list, d);
        cJSON_AddItemToObject(d, "union",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u, "name"), 1));
        cJSON_AddItemToObject(d, "branches",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u, "branches"), 1));
        cJSON_AddItemToObject(d, "overlaps", cJSON_Duplicate(overlaps, 1));
        cJSON *res = cJSON_AddObjectToObject(d, "resolution");
        cJSON_AddStringToObject(res, "keyword", "anyOf");
        char where[600];
        snprintf(where, sizeof(where), "%s#%s/anyOf", site ? site->file : "?",
                 site ? site->out : "");
        cJSON_AddStringToObject(res, "schema", where);
        cJSON *sel = cJSON_AddArrayToObject(res, "selectedBy");
        const char *uname = cJSON_GetObjectItemCaseSensitive(u, "name")->valuestring;
        for (size_t i = 0; sel && i < r->g.selectors.count; i++) {
            const struct gen_site *s = &r->g.selectors.items[i];
            const cJSON *un = cJSON_GetObjectItemCaseSensitive(s->extra, "union");
            if (!cJSON_IsString(un) || strcmp(un->valuestring, uname) != 0)
                continue;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToObject(e, "location", location(s->src));
            snprintf(where, sizeof(where), "%s#%s/allOf", s->file, s->out);
            cJSON_AddStringToObject(e, "schema", where);
            cJSON_AddItemToObject(
                e, "property",
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s->extra, "property"), 1));
            cJSON_AddItemToObject(
                e, "selector",
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s->extra, "selector"), 1));
            cJSON_AddItemToObject(
                e, "mapping",
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s->extra, "mapping"), 1));
            cJSON_AddItemToArray(sel, e);
        }
        cJSON_AddStringToObject(res, "note",
                                "oneOf read as anyOf (a value may match several branches); where "
                                "a sibling \"type\" enum exists, if/then picks the branch named "
                                "like the type value");
    }
    return UTIL_OK;
}

static int add_unmapped(struct run *r, cJSON *list)
{
    for (size_t i = 0; i < r->g.selectors.count; i++) {
        const struct gen_site *s = &r->g.selectors.items[i];
        const cJSON *un = cJSON_GetObjectItemCaseSensitive(s->extra, "unmapped");
        if (cJSON_GetArraySize(un) == 0)
            continue;
        cJSON *d = new_defect(r, "unmapped-selector-value", s->src);
        if (!d)
            return nomem(r);
        cJSON_AddItemToObject(
            d, "union", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s->extra, "union"), 1));
        cJSON_AddItemToObject(d, "values", cJSON_Duplicate(un, 1));
        cJSON_AddStringToObject(d, "resolution",
                                "no union branch is named like these type values; for them the "
                                "property is checked against the union (anyOf) only");
        cJSON_AddItemToArray(list, d);
    }
    return UTIL_OK;
}

static int add_statuses(struct run *r, cJSON *list)
{
    const struct openapi *spec = r->g.spec;
    cJSON *documented = cJSON_CreateArray();
    cJSON *never = cJSON_CreateArray();
    cJSON *d = new_defect(r, "undocumented-statuses", "/paths");
    if (!documented || !never || !d) {
        cJSON_Delete(documented);
        cJSON_Delete(never);
        cJSON_Delete(d);
        return nomem(r);
    }
    size_t everywhere = 0;
    for (size_t i = 0; i < openapi_operation_count(spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(spec, i);
        for (size_t j = 0; j < op->nresponses; j++) {
            bool seen = false;
            const cJSON *e;
            cJSON_ArrayForEach(e, documented)
            {
                seen = seen || !strcmp(e->valuestring, op->responses[j].status);
            }
            if (!seen)
                cJSON_AddItemToArray(documented, cJSON_CreateString(op->responses[j].status));
        }
    }
    for (size_t i = 0; i < openapi_operation_count(spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(spec, i);
        bool all = true;
        const cJSON *e;
        cJSON_ArrayForEach(e, documented)
        {
            all = all && openapi_operation_response(op, e->valuestring);
        }
        everywhere += all;
    }
    for (size_t k = 0; k < sizeof(COMMON_STATUSES) / sizeof(COMMON_STATUSES[0]); k++) {
        bool seen = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, documented)
        {
            seen = seen || !strcmp(e->valuestring, COMMON_STATUSES[k]);
        }
        if (!seen)
            cJSON_AddItemToArray(never, cJSON_CreateString(COMMON_STATUSES[k]));
    }
    cJSON_AddItemToObject(d, "documented", documented);
    cJSON_AddNumberToObject(d, "operations", (double)openapi_operation_count(spec));
    cJSON_AddNumberToObject(d, "operationsDocumentingAll", (double)everywhere);
    cJSON_AddItemToObject(d, "neverDocumented", never);
    cJSON_AddStringToObject(d, "resolution",
                            "policy: a response whose status is not documented for its "
                            "operation has no schema; it is reported as an undocumented status, "
                            "its body is not validated against a guessed schema");
    cJSON_AddItemToArray(list, d);
    return UTIL_OK;
}

static int add_missing_acl(struct run *r, cJSON *list)
{
    for (size_t i = 0; i < openapi_operation_count(r->g.spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(r->g.spec, i);
        if (op->acl_documented)
            continue;
        cJSON *d = new_defect(r, "missing-acl", op->pointer);
        if (!d)
            return nomem(r);
        cJSON_AddStringToObject(d, "operationId", op->operation_id);
        cJSON_AddStringToObject(d, "resolution",
                                "no x-acl: operations.json lists acl [] with aclDocumented false");
        cJSON_AddItemToArray(list, d);
    }
    return UTIL_OK;
}

static int add_implicit_explode(struct run *r, cJSON *list)
{
    cJSON *seen = cJSON_CreateObject();
    if (!seen)
        return nomem(r);
    for (size_t i = 0; i < openapi_operation_count(r->g.spec); i++) {
        const struct openapi_operation *op = openapi_operation_at(r->g.spec, i);
        for (size_t j = 0; j < op->nparams; j++) {
            const struct openapi_parameter *p = &op->params[j];
            if (!p->accept_both_forms)
                continue;
            cJSON *d = cJSON_GetObjectItemCaseSensitive(seen, p->pointer);
            if (!d) {
                d = new_defect(r, "implicit-explode", p->pointer);
                if (!d) {
                    cJSON_Delete(seen);
                    return nomem(r);
                }
                cJSON_AddStringToObject(d, "parameter", p->name);
                cJSON_AddArrayToObject(d, "operations");
                cJSON_AddStringToObject(d, "resolution",
                                        "array query parameter without style/explode: OAS "
                                        "default form/explode=true (repeated keys), official "
                                        "clients send one comma-joined value; both forms are "
                                        "accepted (acceptBothForms)");
                cJSON_AddItemToObject(seen, p->pointer, d);
            }
            cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(d, "operations"),
                                 cJSON_CreateString(op->operation_id));
        }
    }
    while (seen->child)
        cJSON_AddItemToArray(list, cJSON_DetachItemViaPointer(seen, seen->child));
    cJSON_Delete(seen);
    return UTIL_OK;
}

static int add_null_docs(struct run *r, cJSON *list)
{
    for (size_t i = 0; i < r->g.null_docs.count; i++) {
        cJSON *d = new_defect(r, "null-not-in-type", r->g.null_docs.items[i].src);
        if (!d)
            return nomem(r);
        cJSON_AddStringToObject(d, "resolution",
                                "the description says the API returns null here but the type "
                                "does not allow null; not relaxed (a null is reported)");
        cJSON_AddItemToArray(list, d);
    }
    return UTIL_OK;
}

static int add_degraded(struct run *r, cJSON *list)
{
    for (size_t i = 0; i < r->g.degraded.count; i++) {
        const struct gen_site *s = &r->g.degraded.items[i];
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(s->extra, "kind");
        cJSON *d = new_defect(r, kind->valuestring, s->src);
        char where[600];
        snprintf(where, sizeof(where), "%s#%s", s->file, s->out);
        if (!d || !cJSON_AddStringToObject(d, "schema", where) ||
            !cJSON_AddItemToObject(
                d, "resolution",
                cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(s->extra, "reason"), 1))) {
            cJSON_Delete(d);
            return nomem(r);
        }
        cJSON_AddItemToArray(list, d);
    }
    return UTIL_OK;
}

static int build_defects(struct run *r, cJSON **out)
{
    cJSON *list = cJSON_CreateArray();
    if (!list)
        return nomem(r);
    int rc = add_null_types(r, list);
    if (!rc) {
        while (r->merges && r->merges->child)
            cJSON_AddItemToArray(list, cJSON_DetachItemViaPointer(r->merges, r->merges->child));
        rc = add_unions(r, list);
    }
    if (!rc)
        rc = add_degraded(r, list);
    if (!rc)
        rc = add_unmapped(r, list);
    if (!rc) {
        while (r->examples && r->examples->child)
            cJSON_AddItemToArray(list, cJSON_DetachItemViaPointer(r->examples, r->examples->child));
        rc = add_statuses(r, list);
    }
    if (!rc)
        rc = add_missing_acl(r, list);
    if (!rc)
        rc = add_implicit_explode(r, list);
    if (!rc)
        rc = add_null_docs(r, list);
    if (rc) {
        cJSON_Delete(list);
        return rc;
    }
    *out = list;
    return UTIL_OK;
}

/* ---- entry points ---- */

static int run_all(const struct openapi *spec, struct run *r, cJSON **defects,
                   struct util_error *err)
{
    memset(r, 0, sizeof(*r));
    r->g.spec = spec;
    r->g.doc = openapi_document(spec);
    r->g.err = err;
    r->g.oas30 = !strncmp(openapi_openapi_version(spec), "3.0", 3);
    openapi_files_init(&r->files);
    struct schema_registry *reg = NULL;
    int rc = name_files(r);
    if (!rc)
        rc = run_pass(r);
    if (!rc)
        rc = detect_overlaps(r);
    if (!rc)
        rc = run_pass(r);
    if (!rc)
        rc = make_registry(r, &reg);
    if (!rc)
        rc = check_merges(r, reg);
    if (!rc)
        rc = check_examples(r, reg);
    if (!rc)
        rc = self_check(r, reg);
    if (!rc)
        rc = build_defects(r, defects);
    schema_registry_destroy(reg);
    return rc;
}

int openapi_generate(const struct openapi *spec, struct openapi_files *out, struct util_error *err)
{
    struct run r;
    cJSON *defects = NULL;
    cJSON *doc = NULL;
    int rc = run_all(spec, &r, &defects, err);
    if (rc)
        goto cleanup;
    doc = cJSON_CreateObject();
    cJSON *h = spec_header(spec);
    if (!doc || !h) {
        cJSON_Delete(h);
        rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    cJSON_AddItemToObject(doc, "spec", h);
    cJSON_AddItemToObject(doc, "defects", defects);
    defects = NULL;
    if ((rc = emit(&r.files, DEFECTS_FILE, doc))) {
        util_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    openapi_files_sort(&r.files);
    *out = r.files;
    openapi_files_init(&r.files);
cleanup:
    cJSON_Delete(defects);
    cJSON_Delete(doc);
    run_finish(&r);
    return rc;
}

int openapi_lint(const struct openapi *spec, cJSON **out, struct util_error *err)
{
    struct run r;
    *out = NULL;
    int rc = run_all(spec, &r, out, err);
    run_finish(&r);
    return rc;
}

int openapi_examples(const struct openapi *spec, cJSON **out, cJSON **defects_out,
                     struct util_error *err)
{
    struct run r;
    cJSON *defects = NULL;
    *out = NULL;
    int rc = run_all(spec, &r, &defects, err);
    if (!rc) {
        *out = r.all_examples;
        r.all_examples = NULL;
        if (defects_out) {
            *defects_out = defects;
            defects = NULL;
        }
    }
    cJSON_Delete(defects);
    run_finish(&r);
    return rc;
}
