#include "schema/internal.h"

#include "util/buf.h"
#include "util/caps.h"
#include "json/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_MAX_COMPILE_DEPTH 1024

struct cc {
    struct schema_registry *reg;
    struct schema *s;
    struct sc_nodeinfo *info;
    int depth;
    struct util_error *err;
};

__attribute__((format(printf, 3, 4))) static int bad(struct cc *c, const char *kw, const char *fmt,
                                                     ...)
{
    char where[1024], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    schema_reg_location(c->info, kw, where, sizeof(where));
    return util_error_set(c->err, UTIL_ERR_INVALID, "invalid schema at %s: %s", where, msg);
}

static int oom(struct cc *c)
{
    return util_error_set(c->err, UTIL_ERR_NOMEM, "out of memory");
}

static const cJSON *kw_get(const struct cc *c, const char *kw)
{
    return cJSON_GetObjectItemCaseSensitive(c->s->node, kw);
}

/* Compiles the subschema at node (found under keyword path kw). */
static int sub(struct cc *c, const cJSON *node, const char *kw, struct schema **out)
{
    if (!cJSON_IsObject(node) && !cJSON_IsBool(node))
        return bad(c, kw, "must be a schema (an object or a boolean), got %s",
                   json_type_name(node));
    struct sc_nodeinfo *in = schema_reg_info(c->reg, node);
    if (!in)
        return bad(c, kw, "subschema was not indexed");
    if (!in->compiled) {
        int rc = schema_compile_node(c->reg, in, c->depth + 1, c->err);
        if (rc)
            return rc;
    }
    *out = in->compiled;
    return UTIL_OK;
}

static int sub_kw(struct cc *c, const char *kw, struct schema **out)
{
    const cJSON *v = kw_get(c, kw);
    if (!v)
        return UTIL_OK;
    return sub(c, v, kw, out);
}

/* A non-empty array of subschemas (allOf, anyOf, oneOf, prefixItems). */
static int sub_array(struct cc *c, const char *kw, bool nonempty, struct schema ***out, size_t *n)
{
    const cJSON *v = kw_get(c, kw);
    if (!v)
        return UTIL_OK;
    if (!cJSON_IsArray(v))
        return bad(c, kw, "must be an array of schemas, got %s", json_type_name(v));
    int cnt = cJSON_GetArraySize(v);
    if (nonempty && cnt == 0)
        return bad(c, kw, "must be a non-empty array of schemas");
    *out = calloc((size_t)cnt + 1, sizeof(**out));
    if (!*out)
        return oom(c);
    const cJSON *e;
    size_t i = 0;
    char path[256];
    cJSON_ArrayForEach(e, v)
    {
        snprintf(path, sizeof(path), "%s/%zu", kw, i);
        int rc = sub(c, e, path, &(*out)[i]);
        if (rc)
            return rc;
        i++;
    }
    *n = i;
    return UTIL_OK;
}

static int get_number(struct cc *c, const char *kw, double *out, bool *present)
{
    const cJSON *v = kw_get(c, kw);
    *present = false;
    if (!v)
        return UTIL_OK;
    if (!cJSON_IsNumber(v))
        return bad(c, kw, "must be a number, got %s", json_type_name(v));
    *out = v->valuedouble;
    *present = true;
    return UTIL_OK;
}

static int get_count(struct cc *c, const char *kw, size_t *out, uint32_t flag)
{
    const cJSON *v = kw_get(c, kw);
    if (!v)
        return UTIL_OK;
    if (!cJSON_IsNumber(v) || !json_is_integer(v) || v->valuedouble < 0) {
        struct util_buf got;
        util_buf_init(&got, 128);
        if (cJSON_IsNumber(v))
            json_print_short(&got, v, 40);
        int rc = bad(c, kw, "must be a non-negative integer, got %s",
                     got.data ? got.data : json_type_name(v));
        util_buf_finish(&got);
        return rc;
    }
    *out = v->valuedouble >= 1e18 ? (size_t)1e18 : (size_t)v->valuedouble;
    c->s->has |= flag;
    return UTIL_OK;
}

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Bytes of an invalid pattern echoed in its message. */
#define SC_REGEX_SHOW_MAX 60

static int compile_regex(struct cc *c, const char *kw, const char *src, struct schema_regex **out)
{
    char why[200];
    bool nomem = false;
    *out = schema_regex_compile(src, why, sizeof(why), &nomem);
    if (*out)
        return UTIL_OK;
    if (nomem)
        return oom(c);
    size_t n = strlen(src), cut = n;
    if (n > SC_REGEX_SHOW_MAX) /* at a character boundary */
        for (cut = SC_REGEX_SHOW_MAX; cut > 0 && ((unsigned char)src[cut] & 0xC0) == 0x80; cut--)
            ;
    return bad(c, kw, "invalid regular expression \"%.*s%s\": %s", (int)cut, src,
               cut < n ? "..." : "", why);
}

static int compile_properties(struct cc *c)
{
    struct schema *s = c->s;
    const cJSON *v = kw_get(c, "properties");
    char path[1024];
    int rc;
    if (!v)
        return UTIL_OK;
    if (!cJSON_IsObject(v))
        return bad(c, "properties", "must be an object, got %s", json_type_name(v));
    size_t n = (size_t)cJSON_GetArraySize(v);
    s->props = calloc(n + 1, sizeof(*s->props));
    s->n_slots = 8;
    while (s->n_slots < 2 * n)
        s->n_slots *= 2;
    s->prop_slots = malloc(s->n_slots * sizeof(*s->prop_slots));
    if (!s->props || !s->prop_slots)
        return oom(c);
    for (size_t i = 0; i < s->n_slots; i++)
        s->prop_slots[i] = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        struct sc_prop *p = &s->props[s->n_props];
        struct util_buf b;
        util_buf_init(&b, sizeof(path) - 1);
        if (util_buf_puts(&b, "properties") || json_pointer_append(&b, e->string))
            snprintf(path, sizeof(path), "properties");
        else
            snprintf(path, sizeof(path), "%s", b.data);
        util_buf_finish(&b);
        if ((rc = sub(c, e, path, &p->s)))
            return rc;
        p->name = e->string;
        p->hash = name_hash(e->string);
        size_t slot = p->hash & (s->n_slots - 1);
        bool dup = false;
        while (s->prop_slots[slot] >= 0) {
            if (strcmp(s->props[s->prop_slots[slot]].name, p->name) == 0) {
                dup = true;
                break;
            }
            slot = (slot + 1) & (s->n_slots - 1);
        }
        if (dup)
            continue;
        s->prop_slots[slot] = (int32_t)s->n_props;
        s->n_props++;
    }
    return UTIL_OK;
}

static int compile_pattern_properties(struct cc *c)
{
    struct schema *s = c->s;
    const cJSON *v = kw_get(c, "patternProperties");
    int rc;
    if (!v)
        return UTIL_OK;
    if (!cJSON_IsObject(v))
        return bad(c, "patternProperties", "must be an object, got %s", json_type_name(v));
    size_t n = (size_t)cJSON_GetArraySize(v);
    s->pprops = calloc(n + 1, sizeof(*s->pprops));
    if (!s->pprops)
        return oom(c);
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        struct sc_pprop *p = &s->pprops[s->n_pprops];
        if ((rc = compile_regex(c, "patternProperties", e->string, &p->re)))
            return rc;
        p->src = e->string;
        s->n_pprops++;
        if ((rc = sub(c, e, "patternProperties", &p->s)))
            return rc;
    }
    return UTIL_OK;
}

static int string_list(struct cc *c, const cJSON *v, const char *kw, const char ***out, size_t *n)
{
    if (!cJSON_IsArray(v))
        return bad(c, kw, "must be an array of strings, got %s", json_type_name(v));
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    *out = calloc(cnt + 1, sizeof(**out));
    if (!*out)
        return oom(c);
    const cJSON *e;
    size_t i = 0;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e))
            return bad(c, kw, "must be an array of strings, but item %zu is %s", i,
                       json_type_name(e));
        (*out)[i++] = e->valuestring;
    }
    *n = i;
    return UTIL_OK;
}

/* dependentSchemas / dependentRequired (2020-12) and dependencies
 * (draft-07 and draft-04, both forms mixed in one object). */
static int compile_dependencies(struct cc *c, const char *kw, bool schemas, bool required)
{
    struct schema *s = c->s;
    const cJSON *v = kw_get(c, kw);
    int rc;
    if (!v)
        return UTIL_OK;
    if (!cJSON_IsObject(v))
        return bad(c, kw, "must be an object, got %s", json_type_name(v));
    size_t n = (size_t)cJSON_GetArraySize(v);
    if (schemas && !s->dep_sch) {
        s->dep_sch = calloc(n + 1, sizeof(*s->dep_sch));
        if (!s->dep_sch)
            return oom(c);
    }
    if (required && !s->dep_req) {
        s->dep_req = calloc(n + 1, sizeof(*s->dep_req));
        if (!s->dep_req)
            return oom(c);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (required && cJSON_IsArray(e)) {
            struct sc_depreq *d = &s->dep_req[s->n_dep_req++];
            d->name = e->string;
            if ((rc = string_list(c, e, kw, &d->req, &d->nreq)))
                return rc;
        } else if (schemas) {
            struct sc_depsch *d = &s->dep_sch[s->n_dep_sch];
            d->name = e->string;
            if ((rc = sub(c, e, kw, &d->s)))
                return rc;
            s->n_dep_sch++;
        } else {
            return bad(c, kw, "value for \"%s\" must be an array of strings", e->string);
        }
    }
    return UTIL_OK;
}

static int compile_applicators(struct cc *c)
{
    struct schema *s = c->s;
    enum schema_dialect d = s->dialect;
    bool is2020 = d == SCHEMA_DIALECT_2020_12;
    bool d7 = d == SCHEMA_DIALECT_DRAFT7;
    bool d4 = d == SCHEMA_DIALECT_DRAFT4;
    int rc;
    if ((rc = sub_array(c, "allOf", true, &s->all_of, &s->n_all_of)) ||
        (rc = sub_array(c, "anyOf", true, &s->any_of, &s->n_any_of)) ||
        (rc = sub_array(c, "oneOf", true, &s->one_of, &s->n_one_of)) ||
        (rc = sub_kw(c, "not", &s->not_)))
        return rc;
    if (is2020 || d7) {
        if ((rc = sub_kw(c, "if", &s->if_)) || (rc = sub_kw(c, "then", &s->then_)) ||
            (rc = sub_kw(c, "else", &s->else_)) || (rc = sub_kw(c, "contains", &s->contains)) ||
            (rc = sub_kw(c, "propertyNames", &s->prop_names)))
            return rc;
    }
    if ((rc = compile_properties(c)))
        return rc;
    if (d != SCHEMA_DIALECT_OAS30 && (rc = compile_pattern_properties(c)))
        return rc;
    if ((rc = sub_kw(c, "additionalProperties", &s->addl_props)))
        return rc;
    if (is2020) {
        if ((rc = compile_dependencies(c, "dependentSchemas", true, false)))
            return rc;
        if ((rc = sub_array(c, "prefixItems", false, &s->prefix, &s->n_prefix)))
            return rc;
        s->prefix_kw = "prefixItems";
        s->items_kw = "items";
        if ((rc = sub_kw(c, "items", &s->items)))
            return rc;
    } else if (d7 || d4) {
        if ((rc = compile_dependencies(c, "dependencies", true, true)))
            return rc;
        const cJSON *it = kw_get(c, "items");
        if (cJSON_IsArray(it)) {
            s->prefix_kw = "items";
            if ((rc = sub_array(c, "items", false, &s->prefix, &s->n_prefix)))
                return rc;
            s->items_kw = "additionalItems";
            if ((rc = sub_kw(c, "additionalItems", &s->items)))
                return rc;
        } else {
            s->items_kw = "items";
            if ((rc = sub_kw(c, "items", &s->items)))
                return rc;
        }
    } else {
        s->items_kw = "items";
        if ((rc = sub_kw(c, "items", &s->items)))
            return rc;
    }
    return UTIL_OK;
}

static int type_bit(const char *name)
{
    static const struct {
        const char *name;
        int bit;
    } types[] = {
        {"null", T_NULL},     {"boolean", T_BOOLEAN}, {"object", T_OBJECT}, {"array", T_ARRAY},
        {"number", T_NUMBER}, {"integer", T_INTEGER}, {"string", T_STRING},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i].name, name) == 0)
            return types[i].bit;
    return 0;
}

static int compile_type(struct cc *c)
{
    const cJSON *v = kw_get(c, "type");
    if (!v)
        return UTIL_OK;
    if (cJSON_IsString(v)) {
        int b = type_bit(v->valuestring);
        if (!b)
            return bad(c, "type", "unknown type \"%s\"", v->valuestring);
        c->s->types = (unsigned)b;
        return UTIL_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return bad(c, "type", "must be a type name or a non-empty array of type names, got %s",
                   json_type_name(v));
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        int b = cJSON_IsString(e) ? type_bit(e->valuestring) : 0;
        if (!b)
            return bad(c, "type",
                       "array items must be type names (null, boolean, object, "
                       "array, number, integer, string)");
        c->s->types |= (unsigned)b;
    }
    return UTIL_OK;
}

static int compile_numeric(struct cc *c)
{
    struct schema *s = c->s;
    bool p;
    int rc;
    bool boolean_excl = s->dialect == SCHEMA_DIALECT_DRAFT4 || s->dialect == SCHEMA_DIALECT_OAS30;
    if ((rc = get_number(c, "minimum", &s->minimum, &p)))
        return rc;
    if (p)
        s->has |= HAS_MIN;
    if ((rc = get_number(c, "maximum", &s->maximum, &p)))
        return rc;
    if (p)
        s->has |= HAS_MAX;
    const cJSON *xmin = kw_get(c, "exclusiveMinimum");
    const cJSON *xmax = kw_get(c, "exclusiveMaximum");
    if (boolean_excl) {
        if (xmin && !cJSON_IsBool(xmin))
            return bad(c, "exclusiveMinimum", "must be a boolean in this dialect");
        if (xmax && !cJSON_IsBool(xmax))
            return bad(c, "exclusiveMaximum", "must be a boolean in this dialect");
        if (cJSON_IsTrue(xmin) && (s->has & HAS_MIN)) {
            s->has = (s->has & ~(uint32_t)HAS_MIN) | HAS_XMIN;
            s->xminimum = s->minimum;
            s->xmin_kw = "minimum";
        }
        if (cJSON_IsTrue(xmax) && (s->has & HAS_MAX)) {
            s->has = (s->has & ~(uint32_t)HAS_MAX) | HAS_XMAX;
            s->xmaximum = s->maximum;
            s->xmax_kw = "maximum";
        }
    } else {
        if ((rc = get_number(c, "exclusiveMinimum", &s->xminimum, &p)))
            return rc;
        if (p) {
            s->has |= HAS_XMIN;
            s->xmin_kw = "exclusiveMinimum";
        }
        if ((rc = get_number(c, "exclusiveMaximum", &s->xmaximum, &p)))
            return rc;
        if (p) {
            s->has |= HAS_XMAX;
            s->xmax_kw = "exclusiveMaximum";
        }
    }
    if ((rc = get_number(c, "multipleOf", &s->multiple_of, &p)))
        return rc;
    if (p) {
        if (!(s->multiple_of > 0))
            return bad(c, "multipleOf", "must be greater than 0");
        s->has |= HAS_MULT;
    }
    return UTIL_OK;
}

static int compile_validation(struct cc *c)
{
    struct schema *s = c->s;
    enum schema_dialect d = s->dialect;
    int rc;
    if ((rc = compile_type(c)) || (rc = compile_numeric(c)))
        return rc;
    if ((rc = get_count(c, "minLength", &s->min_len, HAS_MINLEN)) ||
        (rc = get_count(c, "maxLength", &s->max_len, HAS_MAXLEN)) ||
        (rc = get_count(c, "minItems", &s->min_items, HAS_MINITEMS)) ||
        (rc = get_count(c, "maxItems", &s->max_items, HAS_MAXITEMS)) ||
        (rc = get_count(c, "minProperties", &s->min_props, HAS_MINPROPS)) ||
        (rc = get_count(c, "maxProperties", &s->max_props, HAS_MAXPROPS)))
        return rc;
    if (d == SCHEMA_DIALECT_2020_12) {
        if ((rc = get_count(c, "minContains", &s->min_contains, HAS_MINCONTAINS)) ||
            (rc = get_count(c, "maxContains", &s->max_contains, HAS_MAXCONTAINS)) ||
            (rc = compile_dependencies(c, "dependentRequired", false, true)))
            return rc;
    }
    const cJSON *v = kw_get(c, "pattern");
    if (v) {
        if (!cJSON_IsString(v))
            return bad(c, "pattern", "must be a string, got %s", json_type_name(v));
        if ((rc = compile_regex(c, "pattern", v->valuestring, &s->pattern)))
            return rc;
        s->pattern_src = v->valuestring;
    }
    v = kw_get(c, "uniqueItems");
    if (v) {
        if (!cJSON_IsBool(v))
            return bad(c, "uniqueItems", "must be a boolean, got %s", json_type_name(v));
        if (cJSON_IsTrue(v))
            s->has |= HAS_UNIQUE;
    }
    v = kw_get(c, "required");
    if (v) {
        if ((rc = string_list(c, v, "required", &s->required, &s->n_required)))
            return rc;
        s->required_idx = malloc((s->n_required + 1) * sizeof(*s->required_idx));
        if (!s->required_idx)
            return oom(c);
    }
    v = kw_get(c, "enum");
    if (v) {
        if (!cJSON_IsArray(v))
            return bad(c, "enum", "must be an array, got %s", json_type_name(v));
        size_t n = (size_t)cJSON_GetArraySize(v);
        s->enum_vals = calloc(n + 1, sizeof(*s->enum_vals));
        s->enum_hash = calloc(n + 1, sizeof(*s->enum_hash));
        if (!s->enum_vals || !s->enum_hash)
            return oom(c);
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            s->enum_vals[s->n_enum] = e;
            s->enum_hash[s->n_enum] = schema_json_hash(e);
            s->n_enum++;
        }
        s->has |= HAS_ENUM;
    }
    if (d != SCHEMA_DIALECT_DRAFT4 && d != SCHEMA_DIALECT_OAS30) {
        v = kw_get(c, "const");
        if (v) {
            s->const_val = v;
            s->has |= HAS_CONST;
        }
    }
    return UTIL_OK;
}

/* Indexes required names into the properties table so that one pass over
 * an instance object answers both. */
static void link_required(struct schema *s)
{
    for (size_t i = 0; i < s->n_required; i++) {
        s->required_idx[i] = -1;
        for (size_t k = 0; k < s->n_props; k++) {
            if (strcmp(s->props[k].name, s->required[i]) == 0) {
                s->required_idx[i] = (int32_t)k;
                break;
            }
        }
    }
}

int schema_compile_node(struct schema_registry *reg, struct sc_nodeinfo *info, int depth,
                        struct util_error *err)
{
    int rc = UTIL_OK;
    struct schema *s = calloc(1, sizeof(*s));
    struct cc c = {reg, s, info, depth, err};
    if (!s)
        return oom(&c);
    if (reg->nschemas == reg->aschemas) {
        size_t na = reg->aschemas ? reg->aschemas * 2 : 64;
        struct schema **nv = realloc(reg->schemas, na * sizeof(*nv));
        if (!nv) {
            free(s);
            return oom(&c);
        }
        reg->schemas = nv;
        reg->aschemas = na;
    }
    reg->schemas[reg->nschemas++] = s;
    info->compiled = s;
    s->reg = reg;
    s->node = info->node;
    s->info = info;
    s->dialect = info->res->dialect;
    if (depth > SC_MAX_COMPILE_DEPTH)
        return bad(&c, NULL, "schema nested deeper than %d levels", SC_MAX_COMPILE_DEPTH);
    if (cJSON_IsBool(info->node)) {
        s->is_bool = true;
        s->bool_value = cJSON_IsTrue(info->node);
        return UTIL_OK;
    }
    if (!cJSON_IsObject(info->node))
        return bad(&c, NULL, "a schema must be an object or a boolean, got %s",
                   json_type_name(info->node));
    enum schema_dialect d = s->dialect;
    unsigned vocab = info->res->vocab;
    bool legacy = d != SCHEMA_DIALECT_2020_12;
    const cJSON *v = kw_get(&c, "title");
    if (cJSON_IsString(v))
        s->title = v->valuestring;
    v = kw_get(&c, "$ref");
    if (v) {
        if (!cJSON_IsString(v))
            return bad(&c, "$ref", "must be a string, got %s", json_type_name(v));
        if ((rc = schema_reg_defer(reg, s, v->valuestring, false, err)))
            return rc;
        if (legacy)
            return UTIL_OK;
    }
    if (!legacy) {
        v = kw_get(&c, "$dynamicRef");
        if (v) {
            if (!cJSON_IsString(v))
                return bad(&c, "$dynamicRef", "must be a string, got %s", json_type_name(v));
            if ((rc = schema_reg_defer(reg, s, v->valuestring, true, err)))
                return rc;
        }
    }
    if ((vocab & VOC_APPLICATOR) && (rc = compile_applicators(&c)))
        return rc;
    if (!legacy && (vocab & VOC_UNEVALUATED)) {
        if ((rc = sub_kw(&c, "unevaluatedProperties", &s->uneval_props)) ||
            (rc = sub_kw(&c, "unevaluatedItems", &s->uneval_items)))
            return rc;
        s->unevaluated = s->uneval_props || s->uneval_items;
    }
    if ((vocab & VOC_VALIDATION) && (rc = compile_validation(&c)))
        return rc;
    link_required(s);
    if (vocab & (VOC_FORMAT_ANNOTATION | VOC_FORMAT_ASSERTION)) {
        v = kw_get(&c, "format");
        if (v) {
            if (!cJSON_IsString(v))
                return bad(&c, "format", "must be a string, got %s", json_type_name(v));
            s->format_name = v->valuestring;
            s->format = schema_format_lookup(v->valuestring);
        }
    }
    if (d == SCHEMA_DIALECT_OAS30) {
        v = kw_get(&c, "nullable");
        if (v && !cJSON_IsBool(v))
            return bad(&c, "nullable", "must be a boolean, got %s", json_type_name(v));
        s->nullable = cJSON_IsTrue(v);
    }
    return UTIL_OK;
}

void schema_free_compiled(struct schema *s)
{
    if (!s)
        return;
    free(s->ref_uri);
    free(s->dynref_uri);
    free(s->dyn_anchor);
    free(s->all_of);
    free(s->any_of);
    free(s->one_of);
    free(s->props);
    free(s->prop_slots);
    for (size_t i = 0; i < s->n_pprops; i++)
        schema_regex_destroy(s->pprops[i].re);
    free(s->pprops);
    for (size_t i = 0; i < s->n_dep_req; i++)
        free(s->dep_req[i].req);
    free(s->dep_req);
    free(s->dep_sch);
    free(s->required);
    free(s->required_idx);
    free(s->prefix);
    schema_regex_destroy(s->pattern);
    free(s->enum_vals);
    free(s->enum_hash);
    free(s->disc);
    free(s);
}

/* The k-th schema that s always evaluates at the same instance location. */
static struct schema *inplace_edge(const struct schema *s, size_t k)
{
    if (s->ref) {
        if (k == 0)
            return s->ref;
        k--;
    }
    if (s->dynref && !s->dyn_anchor) {
        if (k == 0)
            return s->dynref;
        k--;
    }
    return k < s->n_all_of ? s->all_of[k] : NULL;
}

struct dfs_entry {
    struct schema *s;
    size_t next;
};

static int report_cycle(struct dfs_entry *st, size_t n, const struct schema *back,
                        struct util_error *err)
{
    struct util_buf b;
    char loc[1024];
    size_t from = 0;
    util_buf_init(&b, UTIL_ERROR_MESSAGE_MAX - 64);
    while (from < n && st[from].s != back)
        from++;
    for (size_t i = from; i < n; i++) {
        schema_reg_location(st[i].s->info, NULL, loc, sizeof(loc));
        util_buf_printf(&b, "%s -> ", loc);
    }
    schema_reg_location(back->info, NULL, loc, sizeof(loc));
    util_buf_puts(&b, loc);
    int rc = util_error_set(err, UTIL_ERR_INVALID, "reference cycle that can never terminate: %s",
                            b.data ? b.data : "");
    util_buf_finish(&b);
    return rc;
}

int schema_check_cycles(struct schema_registry *reg, size_t first, struct util_error *err)
{
    int rc = UTIL_OK;
    struct dfs_entry *st = NULL;
    size_t n = 0, alloc = 0;
    for (size_t i = first; i < reg->nschemas && !rc; i++) {
        if (reg->schemas[i]->mark)
            continue;
        n = 0;
        struct schema *root = reg->schemas[i];
        root->mark = 1;
        if (!alloc) {
            alloc = 64;
            st = malloc(alloc * sizeof(*st));
            if (!st) {
                rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
                break;
            }
        }
        st[n].s = root;
        st[n].next = 0;
        n++;
        while (n > 0 && !rc) {
            struct dfs_entry *top = &st[n - 1];
            struct schema *e = inplace_edge(top->s, top->next++);
            if (!e) {
                top->s->mark = 2;
                n--;
                continue;
            }
            if (e->mark == 1) {
                rc = report_cycle(st, n, e, err);
                break;
            }
            if (e->mark == 2)
                continue;
            e->mark = 1;
            if (n == alloc) {
                struct dfs_entry *ns = realloc(st, 2 * alloc * sizeof(*st));
                if (!ns) {
                    rc = util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
                    break;
                }
                st = ns;
                alloc *= 2;
            }
            st[n].s = e;
            st[n].next = 0;
            n++;
        }
    }
    if (rc) {
        for (size_t i = first; i < reg->nschemas; i++)
            if (reg->schemas[i]->mark == 1)
                reg->schemas[i]->mark = 0;
    }
    free(st);
    return rc;
}

/* ---- derived fields for the evaluators ---- */

static uint32_t fast_mask(const struct schema *s)
{
    uint32_t m = 0;
    if (s->is_bool)
        return s->bool_value ? F_TRUE : F_FALSE;
    if (s->ref)
        m |= F_REF;
    if (s->dynref)
        m |= F_DYNREF;
    if (s->types)
        m |= F_TYPE;
    if (s->has & HAS_CONST)
        m |= F_CONST;
    if (s->has & HAS_ENUM)
        m |= F_ENUM;
    if (s->has & (HAS_MIN | HAS_MAX | HAS_XMIN | HAS_XMAX | HAS_MULT))
        m |= F_NUM;
    if ((s->has & (HAS_MINLEN | HAS_MAXLEN)) || s->pattern ||
        (s->format && s->reg->opts.check_formats))
        m |= F_STR;
    if (s->n_props || s->n_pprops || s->addl_props || s->prop_names ||
        (s->has & (HAS_MINPROPS | HAS_MAXPROPS)) || s->n_required || s->n_dep_req || s->n_dep_sch)
        m |= F_OBJ;
    if (s->n_prefix || s->items || s->contains ||
        (s->has & (HAS_MINITEMS | HAS_MAXITEMS | HAS_UNIQUE)))
        m |= F_ARR;
    if (s->n_all_of)
        m |= F_ALLOF;
    if (s->n_any_of)
        m |= F_ANYOF;
    if (s->n_one_of)
        m |= F_ONEOF;
    if (s->not_)
        m |= F_NOT;
    if (s->if_)
        m |= F_IF;
    if (s->unevaluated)
        m |= F_UNEVAL;
    return m;
}

static unsigned cjson_types(const struct schema *s)
{
    unsigned t = 0;
    if (s->types & T_NULL || s->nullable)
        t |= cJSON_NULL;
    if (s->types & T_BOOLEAN)
        t |= cJSON_True | cJSON_False;
    if (s->types & T_OBJECT)
        t |= cJSON_Object;
    if (s->types & T_ARRAY)
        t |= cJSON_Array;
    if (s->types & T_NUMBER)
        t |= cJSON_Number;
    if (s->types & T_STRING)
        t |= cJSON_String;
    return t;
}

static bool pure_ref(const struct schema *s)
{
    return !s->is_bool && s->fm == F_REF && s->ref && !s->info->res->has_dynamic;
}

int schema_link(struct schema_registry *reg, struct util_error *err)
{
    size_t n = reg->nschemas;
    for (size_t i = 0; i < n; i++) {
        struct schema *s = reg->schemas[i];
        if (s->linked)
            continue;
        s->fm = fast_mask(s);
        s->ctypes = cjson_types(s);
        s->direct = NULL;
        s->hops = 0;
        bool scan = (s->has & HAS_ENUM) && s->n_enum <= 16;
        for (size_t k = 0; scan && k < s->n_enum; k++) {
            int t = s->enum_vals[k]->type & 0xFF;
            scan = t == cJSON_String || t == cJSON_Number;
        }
        s->enum_scalar_scan = scan;
    }
    /* Chains of pure references: acyclic (schema_check_cycles), but the
     * walk is bounded anyway. */
    for (size_t i = 0; i < n; i++) {
        struct schema *s = reg->schemas[i];
        if (s->linked)
            continue;
        const struct schema *t = s;
        unsigned hops = 0;
        while (pure_ref(t) && hops <= n) {
            if (t != s && t->direct) {
                hops += t->hops;
                t = t->direct;
                break;
            }
            t = t->ref;
            hops++;
        }
        if (hops > n) {
            t = s;
            hops = 0;
        }
        s->direct = t;
        s->hops = hops;
    }
    for (size_t i = 0; i < n; i++) {
        struct schema *s = reg->schemas[i];
        if (s->linked)
            continue;
        size_t nd = 0;
        for (size_t k = 0; k < s->n_props; k++)
            nd += (s->props[k].s->direct->fm & (F_CONST | F_ENUM)) != 0;
        free(s->disc);
        s->disc = NULL;
        s->n_disc = 0;
        if (nd) {
            s->disc = malloc(nd * sizeof(*s->disc));
            if (!s->disc)
                return util_error_set(err, UTIL_ERR_NOMEM, "out of memory");
            for (size_t k = 0; k < s->n_props; k++)
                if (s->props[k].s->direct->fm & (F_CONST | F_ENUM))
                    s->disc[s->n_disc++] = (int32_t)k;
        }
    }
    for (size_t i = 0; i < n; i++)
        reg->schemas[i]->linked = true;
    return UTIL_OK;
}
