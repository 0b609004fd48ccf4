/* Internal structures shared by the schema engine's translation units:
 * the registry (documents, resources, anchors), node information gathered
 * while scanning documents, and the compiled schema tree. */
#ifndef INGESTCHECK_SCHEMA_INTERNAL_H
#define INGESTCHECK_SCHEMA_INTERNAL_H

#include "schema/format.h"
#include "schema/regex.h"
#include "schema/schema.h"

#include <stdint.h>

enum sc_vocab {
    VOC_CORE = 1,
    VOC_APPLICATOR = 2,
    VOC_UNEVALUATED = 4,
    VOC_VALIDATION = 8,
    VOC_METADATA = 16,
    VOC_FORMAT_ANNOTATION = 32,
    VOC_FORMAT_ASSERTION = 64,
    VOC_CONTENT = 128,
    VOC_ALL = 255,
};

enum sc_type {
    T_NULL = 1,
    T_BOOLEAN = 2,
    T_OBJECT = 4,
    T_ARRAY = 8,
    T_NUMBER = 16,
    T_INTEGER = 32,
    T_STRING = 64,
};

struct sc_document {
    cJSON *root; /* owned */
    char *uri;   /* retrieval URI */
    bool broken; /* its add failed: its resources no longer resolve */
};

struct sc_anchor {
    char *name;
    const cJSON *node;
    bool dynamic;
    struct schema *compiled;
};

/* A schema resource: a document root or a subschema with an identifier. */
struct sc_resource {
    char *uri; /* absolute, without fragment */
    const cJSON *node;
    struct sc_document *doc;
    enum schema_dialect dialect;
    unsigned vocab;
    struct sc_anchor *anchors;
    size_t nanchors, aanchors;
    bool has_dynamic;
};

/* What scanning learnt about one schema node. */
struct sc_nodeinfo {
    const cJSON *node;
    struct sc_resource *res;
    char *ptr; /* JSON Pointer of node inside res */
    struct schema *compiled;
};

struct sc_map_entry {
    const void *key;
    void *val;
    uint32_t hash;
};

/* Open-addressing hash map keyed by string (strkeys) or by pointer. */
struct sc_map {
    struct sc_map_entry *e;
    size_t cap, n;
    bool strkeys;
};

struct sc_dirmap {
    char *prefix;
    char *dir;
};

struct sc_pending {
    struct schema *s;
    char *uri;
    const char *text; /* the reference as written, for messages */
    bool dynamic;
};

struct schema_registry {
    struct schema_options opts;
    struct sc_dirmap *dirs;
    size_t ndirs;
    struct sc_document **docs;
    size_t ndocs, adocs;
    struct sc_resource **res;
    size_t nres, ares;
    struct sc_nodeinfo **infos;
    size_t ninfos, ainfos;
    struct schema **schemas;
    size_t nschemas, aschemas;
    struct sc_map by_uri;
    struct sc_map by_node;
    struct sc_pending *pending;
    size_t npending, apending;
    unsigned anon_counter;
    size_t refs_resolved;
    size_t docs_loaded;
};

struct sc_prop {
    const char *name;
    uint32_t hash;
    struct schema *s;
};

struct sc_pprop {
    struct schema_regex *re;
    const char *src;
    struct schema *s;
};

struct sc_depreq {
    const char *name;
    const char **req;
    size_t nreq;
};

struct sc_depsch {
    const char *name;
    struct schema *s;
};

enum sc_has {
    HAS_CONST = 1u << 0,
    HAS_MIN = 1u << 1,
    HAS_MAX = 1u << 2,
    HAS_XMIN = 1u << 3,
    HAS_XMAX = 1u << 4,
    HAS_MULT = 1u << 5,
    HAS_MINLEN = 1u << 6,
    HAS_MAXLEN = 1u << 7,
    HAS_MINITEMS = 1u << 8,
    HAS_MAXITEMS = 1u << 9,
    HAS_UNIQUE = 1u << 10,
    HAS_MINPROPS = 1u << 11,
    HAS_MAXPROPS = 1u << 12,
    HAS_MINCONTAINS = 1u << 13,
    HAS_MAXCONTAINS = 1u << 14,
    HAS_ENUM = 1u << 15,
    HAS_ITEMS_FALSE = 1u << 16,
};

/* Keyword groups a schema uses, computed once its references are linked
 * (schema_link): the fast path tests one mask instead of every field. */
enum sc_fast {
    F_TRUE = 1u << 0,  /* the boolean schema true (or nothing to check) */
    F_FALSE = 1u << 1, /* the boolean schema false */
    F_REF = 1u << 2,
    F_DYNREF = 1u << 3,
    F_TYPE = 1u << 4,
    F_CONST = 1u << 5,
    F_ENUM = 1u << 6,
    F_NUM = 1u << 7,  /* minimum, maximum, exclusive*, multipleOf */
    F_STR = 1u << 8,  /* minLength, maxLength, pattern, asserted format */
    F_OBJ = 1u << 9,  /* any object keyword */
    F_ARR = 1u << 10, /* any array keyword */
    F_ALLOF = 1u << 11,
    F_ANYOF = 1u << 12,
    F_ONEOF = 1u << 13,
    F_NOT = 1u << 14,
    F_IF = 1u << 15,
    F_UNEVAL = 1u << 16,
};

/* Keyword groups that only look at the instance value itself. */
#define F_LEAF_MASK (F_TYPE | F_CONST | F_ENUM | F_NUM | F_STR)

/* One compiled schema. Pointers to names and values point into the
 * registry's copy of the document. */
struct schema {
    struct schema_registry *reg;
    const cJSON *node;
    struct sc_nodeinfo *info;
    enum schema_dialect dialect;
    const char *title;
    bool is_bool;
    bool bool_value;
    bool unevaluated; /* has unevaluatedProperties/unevaluatedItems */
    bool nullable;
    unsigned types;
    uint32_t has;

    struct schema *ref;
    char *ref_uri;
    struct schema *dynref;
    char *dynref_uri;
    char *dyn_anchor; /* set when the $dynamicRef target is a $dynamicAnchor */

    struct schema **all_of, **any_of, **one_of;
    size_t n_all_of, n_any_of, n_one_of;
    struct schema *not_, *if_, *then_, *else_;

    struct sc_prop *props;
    size_t n_props;
    int32_t *prop_slots; /* open-addressing table of indices into props, -1 empty */
    size_t n_slots;
    struct sc_pprop *pprops;
    size_t n_pprops;
    struct schema *addl_props, *uneval_props, *prop_names;
    struct sc_depreq *dep_req;
    size_t n_dep_req;
    struct sc_depsch *dep_sch;
    size_t n_dep_sch;
    const char **required;
    int32_t *required_idx; /* index in props or -1 */
    size_t n_required;
    size_t min_props, max_props;

    struct schema **prefix;
    size_t n_prefix;
    const char *prefix_kw; /* "prefixItems" or "items" (draft-07 array form) */
    struct schema *items;  /* applies after the prefix */
    const char *items_kw;  /* "items" or "additionalItems" */
    struct schema *contains;
    size_t min_contains, max_contains;
    struct schema *uneval_items;
    size_t min_items, max_items;

    size_t min_len, max_len;
    struct schema_regex *pattern;
    const char *pattern_src;
    enum schema_format format;
    const char *format_name;

    double minimum, maximum, xminimum, xmaximum, multiple_of;
    const char *xmin_kw, *xmax_kw;

    const cJSON *const_val;
    const cJSON **enum_vals;
    uint32_t *enum_hash;
    size_t n_enum;
    int mark; /* cycle detection scratch */

    /* Derived by schema_link once every reference is resolved. */
    bool linked;
    uint32_t fm;           /* enum sc_fast bits */
    unsigned ctypes;       /* cJSON type bits `type` accepts (integers apart) */
    bool enum_scalar_scan; /* small enum: compare strings/numbers directly */
    /* s itself, or for a schema that is only a "$ref" (in a resource
     * without dynamic anchors) the schema the chain of such references
     * ends at, reached after `hops` evaluation levels. */
    const struct schema *direct;
    unsigned hops;
    int32_t *disc; /* indices into props whose schema has const/enum */
    size_t n_disc;
};

/* registry.c */
struct sc_nodeinfo *schema_reg_info(const struct schema_registry *reg, const cJSON *node);
int schema_reg_defer(struct schema_registry *reg, struct schema *s, const char *ref, bool dynamic,
                     struct util_error *err);
void schema_reg_location(const struct sc_nodeinfo *info, const char *kw, char *out, size_t outlen);

/* compile.c */
int schema_compile_node(struct schema_registry *reg, struct sc_nodeinfo *info, int depth,
                        struct util_error *err);
void schema_free_compiled(struct schema *s);
/* Computes the derived fields (fm, direct, ...) of every schema not yet
 * linked; called once a registry call has resolved all references. */
int schema_link(struct schema_registry *reg, struct util_error *err);
int schema_check_cycles(struct schema_registry *reg, size_t first, struct util_error *err);

/* keywords.c */
uint32_t schema_json_hash(const cJSON *n);

#endif
