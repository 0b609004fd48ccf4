/* Shared by the validator's translation units: evaluation frames and
 * context, annotations, the fast yes/no evaluator's context, and the
 * functions one unit calls in another.
 *   validate.c    applicators and the entry points
 *   keywords.c    const/enum, number and string keywords
 *   containers.c  object and array keywords, annotations
 *   fast.c        the yes/no evaluator (no frames, no messages)
 *   result.c      violations, locations and messages */
#ifndef INGESTCHECK_SCHEMA_EVAL_H
#define INGESTCHECK_SCHEMA_EVAL_H

#include "schema/internal.h"
#include "util/buf.h"

#include <math.h>
#include <stdint.h>

#define SC_ENUM_LIST_MAX 20
#define SC_VALUE_SHOW_MAX 60
#define SC_ANNOT_INLINE_WORDS 4
#define SC_SEEN_WORDS 4

/* One step of evaluation: schema s applied to instance inst, reached from
 * up through the keyword path kw[/kw_key][/kw_idx] and the instance path
 * ikey or iidx. Frames live on the C stack. */
struct frame {
    const struct frame *up;
    const struct schema *s;
    const cJSON *inst;
    const char *kw;
    const char *kw_key;
    long kw_idx;
    const char *ikey;
    long iidx;
};

/* Marks an instance node built on the stack for one evaluation (a property
 * name under propertyNames). Its address is reused for the next name, so the
 * verdict cache never keys on it. */
#define SC_TRANSIENT cJSON_StringIsConst

/* One entry of the verdict cache. */
struct sc_memo_entry {
    const struct schema *s; /* NULL: empty slot */
    const cJSON *inst;
    uint8_t verdict; /* SC_MEMO_VALID or SC_MEMO_INVALID */
    bool collected;  /* its violations were collected once already */
    bool has_ann;    /* valid, and what it evaluated (for unevaluated*) is below */
    bool ann_all;
    uint32_t ann_upto;
    uint64_t ann_bits[SC_ANNOT_INLINE_WORDS];
};

#define SC_RECENT_SLOTS 256
#define SC_MEMO_VALID 1
#define SC_MEMO_INVALID 2

/* Steps taken by one schema_validate/schema_is_valid call, shared by the
 * collecting and the yes/no evaluators, and the verdict cache they use
 * once evaluation revisits the same values (caps in schema/caps.h). */
struct sc_budget {
    const struct schema_registry *reg;
    uint64_t steps;      /* subschemas evaluated */
    uint64_t descents;   /* child values (properties, items) visited */
    uint64_t tick_at;    /* steps at which schema_ev_budget_tick runs */
    uint64_t next_check; /* tick_at, or 0 once the verdict cache is on */
    uint64_t revisits;   /* pairs met again in recent[] */
    struct {
        const struct schema *s;
        const cJSON *inst;
    } recent[SC_RECENT_SLOTS]; /* last (schema, instance) pair per slot */
    bool memo_on;
    bool dynamic; /* the registry has $dynamicAnchor: collected verdicts depend on the scope */
    struct sc_memo_entry *e;
    size_t cap, n;
};

struct ctx {
    struct sc_budget *budget;
    struct schema_result *res; /* NULL for yes/no validation */
    bool collect;              /* record violations now */
    bool check_formats;
    int status; /* UTIL_OK, or why evaluation was aborted */
    unsigned depth;
    char abort_msg[UTIL_ERROR_MESSAGE_MAX];
    struct schema_violation abort_v;
    bool has_abort_v;
    bool no_fast;      /* fv() gave up once (dynamic scope, annotations): stop trying it */
    unsigned in_retry; /* collecting the violations of a failed anyOf/oneOf */
};

/* Which properties/items of one instance were evaluated (for
 * unevaluatedProperties and unevaluatedItems). */
struct annot {
    bool all;
    size_t upto; /* items [0, upto) evaluated */
    size_t n;
    uint64_t *bits;
    uint64_t inl[SC_ANNOT_INLINE_WORDS];
};

struct rmark {
    size_t count;
    bool truncated;
};

#define FV_FALLBACK 1

struct fctx {
    int status; /* 0, FV_FALLBACK, or the UTIL_ERR_* code that stopped it */
    unsigned depth;
    bool check_formats;
    struct sc_budget *budget;
};

#define FAIL()                                                                                     \
    do {                                                                                           \
        ok = false;                                                                                \
        if (!c->collect || c->status)                                                              \
            goto done;                                                                             \
    } while (0)

static inline int ctype(const cJSON *n)
{
    return n->type & 0xFF;
}

static inline bool is_integral(double d)
{
    return isfinite(d) && d == floor(d);
}

static inline bool type_ok_fast(const struct schema *s, const cJSON *inst, int t)
{
    if (s->ctypes & (unsigned)t)
        return true;
    return t == cJSON_Number && (s->types & T_INTEGER) && is_integral(inst->valuedouble);
}

static inline bool is_false(const struct schema *s)
{
    return s->is_bool && !s->bool_value;
}

/* Notes that an applicator evaluates s on inst: a pair met again soon
 * after counts as a revisit (the sign of subschemas applied to the same
 * value again and again, which starts the verdict cache). */
static inline void sc_note_pair(struct sc_budget *b, const struct schema *s, const cJSON *inst)
{
    if (b->memo_on)
        return;
    size_t h = (((uintptr_t)s >> 4) ^ (((uintptr_t)inst >> 4) * 31u)) & (SC_RECENT_SLOTS - 1);
    if (b->recent[h].s == s && b->recent[h].inst == inst) {
        b->revisits++;
    } else {
        b->recent[h].s = s;
        b->recent[h].inst = inst;
    }
}

/* validate.c */
bool schema_ev_at(struct ctx *c, const struct frame *up, const struct schema *s, const cJSON *inst,
                  const char *kw, const char *kw_key, long kw_idx, const char *ikey, long iidx,
                  struct annot *ann);

/* keywords.c */
bool schema_ev_enum_ok(const struct schema *s, const cJSON *inst);
bool schema_ev_num_ok(const struct schema *s, double v);
/* 1 passes, 0 fails, -1 a pattern ran out of its step budget. */
int schema_ev_str_ok(const struct schema *s, const char *str, bool check_formats);
bool schema_ev_number(struct ctx *c, const struct frame *f);
bool schema_ev_string(struct ctx *c, const struct frame *f);

/* containers.c */
bool schema_ev_annot_init(struct annot *a, const cJSON *inst);
void schema_ev_annot_finish(struct annot *a);
void schema_ev_annot_mark(struct annot *a, size_t i);
bool schema_ev_annot_has(const struct annot *a, size_t i);
void schema_ev_annot_merge(struct annot *dst, const struct annot *src);
int32_t schema_ev_prop_find(const struct schema *s, const char *name);
/* Finds two equal items: returns 1 when all are distinct, 0 (with
 * *first < *second) when two are equal, -1 when out of memory. */
int schema_ev_items_unique(const cJSON *arr, size_t n, size_t *first, size_t *second);
bool schema_ev_object(struct ctx *c, const struct frame *f, struct annot *a);
bool schema_ev_array(struct ctx *c, const struct frame *f, struct annot *a);

/* fast.c */
/* Yes/no evaluation of s (reached as a subschema) against inst. */
bool schema_ev_fast(struct fctx *c, const struct schema *s, const cJSON *inst);
/* Runs the yes/no evaluator for schema_ev_at() when nothing is collected:
 * true with *verdict set, or false when eval() must do the work. */
bool schema_ev_fast_try(struct ctx *c, const struct schema *s, const cJSON *inst, bool *verdict);

/* memo.c */
void schema_ev_budget_init(struct sc_budget *b, const struct schema_registry *reg);
void schema_ev_budget_finish(struct sc_budget *b);
/* Runs every SCHEMA_CAP_BUDGET_TICK steps: starts the verdict cache when
 * evaluation revisits values; UTIL_ERR_LIMIT once the budget is spent. */
int schema_ev_budget_tick(struct sc_budget *b);
/* The cached verdict of s on inst (SC_MEMO_VALID, SC_MEMO_INVALID) or 0;
 * *collected (may be NULL) tells whether its violations were collected. */
int schema_ev_memo_get(const struct sc_budget *b, const struct schema *s, const cJSON *inst,
                       bool *collected);
/* The cache entry of s on inst, or NULL. */
const struct sc_memo_entry *schema_ev_memo_find(const struct sc_budget *b, const struct schema *s,
                                                const cJSON *inst);
/* Records a verdict; returns its entry (NULL when the cache cannot hold it). */
struct sc_memo_entry *schema_ev_memo_put(struct sc_budget *b, const struct schema *s,
                                         const cJSON *inst, bool valid, bool collected);

/* result.c */
void schema_ev_viol_free(struct schema_violation *v);
struct rmark schema_ev_rmark(const struct ctx *c);
void schema_ev_rollback(struct ctx *c, struct rmark m);
/* Frees [at, start) and moves [start, count) down to at. */
void schema_ev_keep_tail(struct schema_result *r, size_t at, size_t start);
int schema_ev_result_reserve(struct schema_result *r);
int schema_ev_inst_path(struct util_buf *b, const struct frame *f);
void schema_ev_set_nomem(struct ctx *c);
void schema_ev_report_msg(struct ctx *c, const struct frame *f, const char *kw, const char *kw_key,
                          const char *msg, size_t pos);
void schema_ev_report_buf(struct ctx *c, const struct frame *f, const char *kw, const char *kw_key,
                          const struct util_buf *b, size_t pos);
__attribute__((format(printf, 5, 6))) void schema_ev_report(struct ctx *c, const struct frame *f,
                                                            const char *kw, const char *kw_key,
                                                            const char *fmt, ...);
__attribute__((format(printf, 5, 6))) void schema_ev_abort(struct ctx *c, const struct frame *f,
                                                           const char *kw, int code,
                                                           const char *fmt, ...);
void schema_ev_put_number(struct util_buf *b, double d);
void schema_ev_put_string(struct util_buf *b, const char *s, size_t max, bool quote);
void schema_ev_put_value(struct util_buf *b, const cJSON *n, bool quote_strings);
void schema_ev_put_types(struct util_buf *b, unsigned types);
void schema_ev_report_type(struct ctx *c, const struct frame *f);
void schema_ev_report_enum(struct ctx *c, const struct frame *f);
void schema_ev_report_const(struct ctx *c, const struct frame *f);
void schema_ev_report_number(struct ctx *c, const struct frame *f, const char *kw, const char *text,
                             double limit);

#endif
