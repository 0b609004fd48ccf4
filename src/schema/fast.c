/* The fast yes/no evaluator.
 *
 * fv() answers "does inst pass s" without frames, annotations or
 * messages. It checks keywords in the order eval() does, with the same
 * short-circuits and the same depth accounting, so evaluation limits are
 * met alike. It serves schema_is_valid, the first attempt of
 * schema_validate (a valid instance needs nothing collected), and every
 * evaluation eval() makes with collection off. Two things make it give up
 * (status FV_FALLBACK) so that the caller runs eval(): a $dynamicRef whose
 * target depends on the dynamic scope, and unevaluatedProperties/Items
 * (annotations). */

#include "schema/eval.h"

#include "util/caps.h"
#include "json/json.h"

#include <string.h>

static bool fv(struct fctx *c, const struct schema *s, const cJSON *inst);

static bool fv_stop(struct fctx *c, int code)
{
    if (!c->status)
        c->status = code;
    return false;
}

/* The property of s named name, trying first the one after the last match
 * (instances usually list properties in the schema's order). */
static inline int32_t prop_lookup(const struct schema *s, const char *name, size_t *guess)
{
    size_t g = *guess;
    if (g < s->n_props && strcmp(s->props[g].name, name) == 0) {
        *guess = g + 1;
        return (int32_t)g;
    }
    int32_t k = schema_ev_prop_find(s, name);
    if (k >= 0)
        *guess = (size_t)k + 1;
    return k;
}

/* Evaluates subschema s as schema_ev_at() would: true schemas cost nothing;
 * pure "$ref" chains are skipped, their levels still counted. */
static inline bool fv_sub(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    const struct schema *t = s->direct;
    unsigned hops = s->hops;
    if (t->fm & (F_TRUE | F_FALSE)) {
        if (hops && c->depth + hops > UTIL_CAP_EVAL_DEPTH)
            return fv_stop(c, UTIL_ERR_LIMIT);
        return (t->fm & F_TRUE) != 0;
    }
    c->depth += hops;
    bool r = fv(c, t, inst);
    c->depth -= hops;
    return r;
}

/* fv_sub for a subschema an applicator (allOf, anyOf, oneOf, not, if,
 * then, else) applies to the same value: noted for the verdict cache. */
static inline bool fv_branch(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    sc_note_pair(c->budget, s->direct, inst);
    return fv_sub(c, s, inst);
}

static const cJSON *obj_get(const cJSON *obj, const char *name)
{
    for (const cJSON *ch = obj->child; ch; ch = ch->next)
        if (strcmp(ch->string, name) == 0)
            return ch;
    return NULL;
}

/* A cheap necessary condition for branch b of anyOf/oneOf: the type,
 * the required properties and the const/enum of properties of the schema
 * the branch lands on. False means the branch cannot pass. */
static bool branch_may_pass(const struct schema *b, const cJSON *inst)
{
    const struct schema *e = b->direct;
    uint32_t m = e->fm;
    int t = ctype(inst);
    if (m & (F_TRUE | F_FALSE))
        return true;
    if ((m & F_TYPE) && !type_ok_fast(e, inst, t))
        return false;
    if (t != cJSON_Object || !(m & F_OBJ))
        return true;
    for (size_t i = 0; i < e->n_required; i++)
        if (!obj_get(inst, e->required[i]))
            return false;
    for (size_t i = 0; i < e->n_disc; i++) {
        const struct sc_prop *p = &e->props[e->disc[i]];
        const cJSON *v = obj_get(inst, p->name);
        if (!v)
            continue;
        const struct schema *ps = p->s->direct;
        if ((ps->fm & F_CONST) && !json_equal(ps->const_val, v))
            return false;
        if ((ps->fm & F_ENUM) && !schema_ev_enum_ok(ps, v))
            return false;
    }
    return true;
}

static bool fv_object(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    uint64_t seen[SC_SEEN_WORDS] = {0};
    bool use_seen = s->n_props <= 64 * SC_SEEN_WORDS;
    size_t idx = 0, guess = 0;
    for (const cJSON *ch = inst->child; ch; ch = ch->next, idx++) {
        const char *name = ch->string;
        c->budget->descents++;
        bool matched = false;
        if (s->n_props) {
            int32_t pi = prop_lookup(s, name, &guess);
            if (pi >= 0) {
                matched = true;
                if (use_seen)
                    seen[pi / 64] |= (uint64_t)1 << (pi % 64);
                if (!fv_sub(c, s->props[pi].s, ch))
                    return false;
            }
        }
        for (size_t k = 0; k < s->n_pprops; k++) {
            const struct sc_pprop *pp = &s->pprops[k];
            int m = schema_regex_search(pp->re, name, strlen(name));
            if (m < 0)
                return fv_stop(c, UTIL_ERR_LIMIT);
            if (!m)
                continue;
            matched = true;
            if (!fv_sub(c, pp->s, ch))
                return false;
        }
        if (!matched && s->addl_props && !fv_sub(c, s->addl_props, ch))
            return false;
        if (s->prop_names) {
            cJSON tmp;
            memset(&tmp, 0, sizeof(tmp));
            tmp.type = cJSON_String | SC_TRANSIENT;
            tmp.valuestring = ch->string;
            if (!fv_sub(c, s->prop_names, &tmp))
                return false;
        }
    }
    if ((s->has & HAS_MINPROPS) && idx < s->min_props)
        return false;
    if ((s->has & HAS_MAXPROPS) && idx > s->max_props)
        return false;
    for (size_t i = 0; i < s->n_required; i++) {
        int32_t pi = s->required_idx[i];
        bool present;
        if (use_seen && pi >= 0)
            present = (seen[pi / 64] >> (pi % 64)) & 1;
        else
            present = obj_get(inst, s->required[i]) != NULL;
        if (!present)
            return false;
    }
    for (size_t i = 0; i < s->n_dep_req; i++) {
        const struct sc_depreq *d = &s->dep_req[i];
        if (!obj_get(inst, d->name))
            continue;
        for (size_t k = 0; k < d->nreq; k++)
            if (!obj_get(inst, d->req[k]))
                return false;
    }
    for (size_t i = 0; i < s->n_dep_sch; i++) {
        const struct sc_depsch *d = &s->dep_sch[i];
        if (obj_get(inst, d->name) && !fv_sub(c, d->s, inst))
            return false;
    }
    return true;
}

static bool fv_array(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    size_t i = 0;
    for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
        c->budget->descents++;
        if (i < s->n_prefix) {
            if (!fv_sub(c, s->prefix[i], ch))
                return false;
        } else if (s->items) {
            /* items false: every later item is too many */
            if (!fv_sub(c, s->items, ch))
                return false;
        }
    }
    size_t n = i;
    if ((s->has & HAS_MINITEMS) && n < s->min_items)
        return false;
    if ((s->has & HAS_MAXITEMS) && n > s->max_items)
        return false;
    if ((s->has & HAS_UNIQUE) && n > 1) {
        size_t x, y;
        int u = schema_ev_items_unique(inst, n, &x, &y);
        if (u < 0)
            return fv_stop(c, UTIL_ERR_NOMEM);
        if (u == 0)
            return false;
    }
    if (s->contains) {
        size_t matches = 0;
        size_t minc = (s->has & HAS_MINCONTAINS) ? s->min_contains : 1;
        for (const cJSON *ch = inst->child; ch; ch = ch->next) {
            if (fv_sub(c, s->contains, ch)) {
                matches++;
                if (matches >= minc && !(s->has & HAS_MAXCONTAINS))
                    break;
            }
            if (c->status)
                return false;
        }
        if (matches < minc)
            return false;
        if ((s->has & HAS_MAXCONTAINS) && matches > s->max_contains)
            return false;
    }
    return true;
}

static bool fv_body(struct fctx *c, const struct schema *s, const cJSON *inst, uint32_t m)
{
    int t = ctype(inst);
    if ((m & F_REF) && !fv_sub(c, s->ref, inst))
        return false;
    if (m & F_DYNREF) {
        if (s->dyn_anchor)
            return fv_stop(c, FV_FALLBACK);
        if (!fv_sub(c, s->dynref, inst))
            return false;
    }
    if ((m & F_TYPE) && !type_ok_fast(s, inst, t))
        return false;
    if ((m & F_CONST) && !json_equal(s->const_val, inst))
        return false;
    if ((m & F_ENUM) && !schema_ev_enum_ok(s, inst))
        return false;
    switch (t) {
    case cJSON_Number:
        if ((m & F_NUM) && !schema_ev_num_ok(s, inst->valuedouble))
            return false;
        break;
    case cJSON_String:
        if (m & F_STR) {
            int r = schema_ev_str_ok(s, inst->valuestring, c->check_formats);
            if (r < 0)
                return fv_stop(c, UTIL_ERR_LIMIT);
            if (r == 0)
                return false;
        }
        break;
    case cJSON_Object:
        if ((m & F_OBJ) && !fv_object(c, s, inst))
            return false;
        break;
    case cJSON_Array:
        if ((m & F_ARR) && !fv_array(c, s, inst))
            return false;
        break;
    default:
        break;
    }
    if (m & F_ALLOF)
        for (size_t i = 0; i < s->n_all_of; i++)
            if (!fv_branch(c, s->all_of[i], inst))
                return false;
    if (m & F_ANYOF) {
        bool any = false;
        for (size_t i = 0; i < s->n_any_of && !any; i++) {
            const struct schema *b = s->any_of[i];
            any = branch_may_pass(b, inst) && fv_branch(c, b, inst);
            if (c->status)
                return false;
        }
        if (!any)
            return false;
    }
    if (m & F_ONEOF) {
        size_t passed = 0;
        for (size_t i = 0; i < s->n_one_of && passed < 2; i++) {
            const struct schema *b = s->one_of[i];
            passed += branch_may_pass(b, inst) && fv_branch(c, b, inst);
            if (c->status)
                return false;
        }
        if (passed != 1)
            return false;
    }
    if (m & F_NOT) {
        bool r = fv_branch(c, s->not_, inst);
        if (c->status || r)
            return false;
    }
    if (m & F_IF) {
        bool cond = fv_branch(c, s->if_, inst);
        if (c->status)
            return false;
        if (cond) {
            if (s->then_ && !fv_branch(c, s->then_, inst))
                return false;
        } else if (s->else_ && !fv_branch(c, s->else_, inst)) {
            return false;
        }
    }
    return !c->status;
}

/* fv's path when the budget is due for a check or the verdict cache is
 * on; kept out of line so that fv stays small. */
__attribute__((noinline)) static bool fv_counted(struct fctx *c, const struct schema *s,
                                                 const cJSON *inst, uint32_t m)
{
    struct sc_budget *b = c->budget;
    if (b->steps >= b->tick_at && schema_ev_budget_tick(b))
        return fv_stop(c, UTIL_ERR_LIMIT);
    if (b->memo_on) {
        int v = schema_ev_memo_get(b, s, inst, NULL);
        if (v)
            return v == SC_MEMO_VALID;
    }
    c->depth++;
    bool ok = fv_body(c, s, inst, m);
    c->depth--;
    if (b->memo_on && !c->status)
        schema_ev_memo_put(b, s, inst, ok, false);
    return ok;
}

static bool fv(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    uint32_t m = s->fm;
    if (m & (F_TRUE | F_FALSE))
        return (m & F_TRUE) != 0;
    if (c->status)
        return false;
    if (c->depth >= UTIL_CAP_EVAL_DEPTH)
        return fv_stop(c, UTIL_ERR_LIMIT);
    if (m & F_UNEVAL)
        return fv_stop(c, FV_FALLBACK);
    if (!m)
        return true;
    struct sc_budget *b = c->budget;
    if (++b->steps >= b->next_check)
        return fv_counted(c, s, inst, m);
    c->depth++;
    bool ok = fv_body(c, s, inst, m);
    c->depth--;
    return ok;
}

/* Runs fv() for schema_ev_at() when nothing is collected: true with *verdict
 * set, or false when eval() must do the work (fv gave up, or stopped on a
 * limit whose violation eval() records). */
bool schema_ev_fast_try(struct ctx *c, const struct schema *s, const cJSON *inst, bool *verdict)
{
    if (c->status) {
        *verdict = false;
        return true;
    }
    struct fctx fx = {0, c->depth, c->check_formats, c->budget};
    bool r = fv_sub(&fx, s, inst);
    if (!fx.status) {
        *verdict = r;
        return true;
    }
    if (fx.status == FV_FALLBACK)
        c->no_fast = true;
    return false;
}

bool schema_ev_fast(struct fctx *c, const struct schema *s, const cJSON *inst)
{
    return fv_sub(c, s, inst);
}
