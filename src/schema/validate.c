/* Evaluation: applicators ($ref, $dynamicRef, allOf, anyOf, oneOf, not,
 * if/then/else, unevaluated*) and the entry points. */

#include "schema/eval.h"

#include "util/buf.h"
#include "util/caps.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool eval(struct ctx *c, const struct frame *f, struct annot *ann);

#define SC_REPEAT_NOTE "(evaluated at this location before; its violations are not repeated)"

/* Reports that f->s fails again where it failed before, once the verdict
 * cache is on: its violations are not collected a second time. */
static void report_repeat(struct ctx *c, const struct frame *f)
{
    char loc[1024];
    if (!c->collect || !c->res)
        return;
    schema_reg_location(f->s->info, NULL, loc, sizeof(loc));
    schema_ev_report(c, f, NULL, NULL, "does not match the schema at %s " SC_REPEAT_NOTE, loc);
}

/* Adds what a cached evaluation evaluated to a. */
static void annot_from_entry(struct annot *a, const struct sc_memo_entry *e)
{
    a->all |= e->ann_all;
    if (e->ann_upto > a->upto)
        a->upto = e->ann_upto;
    for (size_t i = 0; i < SC_ANNOT_INLINE_WORDS && i * 64 < a->n; i++)
        a->bits[i] |= e->ann_bits[i];
}

bool schema_ev_at(struct ctx *c, const struct frame *up, const struct schema *s, const cJSON *inst,
                  const char *kw, const char *kw_key, long kw_idx, const char *ikey, long iidx,
                  struct annot *ann)
{
    if (s->is_bool && s->bool_value)
        return true;
    bool verdict;
    if (!c->collect && !ann && !c->no_fast && schema_ev_fast_try(c, s, inst, &verdict))
        return verdict;
    struct frame f = {up, s, inst, kw, kw_key, kw_idx, ikey, iidx};
    struct sc_budget *b = c->budget;
    sc_note_pair(b, s, inst);
    bool memo = b->memo_on && !b->dynamic && !c->status;
    if (memo) {
        const struct sc_memo_entry *e = schema_ev_memo_find(b, s, inst);
        if (e && e->verdict == SC_MEMO_VALID && (!ann || e->has_ann)) {
            if (ann)
                annot_from_entry(ann, e);
            return true;
        }
        if (e && e->verdict == SC_MEMO_INVALID && (!c->collect || e->collected)) {
            report_repeat(c, &f);
            return false;
        }
    }
    if (!memo || !ann) {
        bool r = eval(c, &f, ann);
        if (memo && !c->status)
            schema_ev_memo_put(b, s, inst, r, c->collect);
        return r;
    }
    /* What s evaluates goes to a fresh set, kept with the verdict. */
    struct annot fresh;
    if (!schema_ev_annot_init(&fresh, inst)) {
        schema_ev_set_nomem(c);
        return false;
    }
    bool r = eval(c, &f, &fresh);
    schema_ev_annot_merge(ann, &fresh);
    struct sc_memo_entry *e = c->status ? NULL : schema_ev_memo_put(b, s, inst, r, c->collect);
    if (e && r && fresh.bits == fresh.inl) {
        e->has_ann = true;
        e->ann_all = fresh.all;
        e->ann_upto = fresh.upto > UINT32_MAX ? UINT32_MAX : (uint32_t)fresh.upto;
        memcpy(e->ann_bits, fresh.inl, sizeof(e->ann_bits));
    }
    schema_ev_annot_finish(&fresh);
    return r;
}

/* The schema a $dynamicRef lands on: the outermost resource in the
 * dynamic scope that defines the anchor, else the static target. */
static const struct schema *dyn_target(const struct frame *f, const struct schema *s)
{
    if (!s->dyn_anchor)
        return s->dynref;
    const struct schema *found = NULL;
    const struct sc_resource *last = NULL;
    for (const struct frame *g = f; g; g = g->up) {
        const struct sc_resource *r = g->s->info->res;
        if (r == last)
            continue;
        last = r;
        if (!r->has_dynamic)
            continue;
        for (size_t k = 0; k < r->nanchors; k++) {
            const struct sc_anchor *an = &r->anchors[k];
            if (an->dynamic && an->compiled && strcmp(an->name, s->dyn_anchor) == 0) {
                found = an->compiled;
                break;
            }
        }
    }
    return found ? found : s->dynref;
}

static bool eval_ref(struct ctx *c, const struct frame *f, const struct schema *target,
                     const char *kw, struct annot *a)
{
    for (const struct frame *g = f; g && g->inst == f->inst; g = g->up) {
        if (g->s == target) {
            char loc[1024];
            schema_reg_location(target->info, NULL, loc, sizeof(loc));
            schema_ev_abort(c, f, kw, UTIL_ERR_INVALID,
                            "infinite recursion: %s re-enters %s at the same instance location", kw,
                            loc);
            return false;
        }
    }
    return schema_ev_at(c, f, target, f->inst, kw, NULL, -1, NULL, -1, a);
}

static const char *branch_title(const struct schema *b)
{
    for (int hops = 0; b && hops < 8; hops++) {
        if (b->title)
            return b->title;
        b = b->ref;
    }
    return NULL;
}

static unsigned branch_types(const struct schema *b)
{
    for (int hops = 0; b && hops < 8; hops++) {
        if (b->types)
            return b->types | (b->nullable ? T_NULL : 0u);
        b = b->ref;
    }
    return 0;
}

static void put_branch(struct util_buf *b, const struct schema *br, size_t i)
{
    const char *t = branch_title(br);
    util_buf_printf(b, "%zu", i);
    if (t) {
        util_buf_puts(b, " (");
        schema_ev_put_string(b, t, SC_VALUE_SHOW_MAX, true);
        util_buf_putc(b, ')');
    }
}

/* Scores the violations of a failed branch: lower is closer to a match.
 * A branch that rejects the instance's type outright scores worst. */
static size_t branch_score(const struct schema_result *r, size_t start, const char *here)
{
    size_t n = r->count - start;
    if (n == 1 && strstr(r->items[start].message, SC_REPEAT_NOTE))
        return SIZE_MAX - 1; /* not evaluated again: never the closest */
    for (size_t i = start; i < r->count; i++) {
        const char *kl = r->items[i].keyword_location;
        size_t kn = strlen(kl);
        if (kn >= 5 && strcmp(kl + kn - 5, "/type") == 0 &&
            strcmp(r->items[i].instance_location, here) == 0)
            return 1000000 + n;
    }
    return n;
}

/* anyOf (one_of false) and oneOf (one_of true), one pass. */
static bool choice_pass(struct ctx *c, const struct frame *f, struct annot *a, bool one_of)
{
    const struct schema *s = f->s;
    struct schema *const *br = one_of ? s->one_of : s->any_of;
    size_t n = one_of ? s->n_one_of : s->n_any_of;
    const char *kw = one_of ? "oneOf" : "anyOf";
    bool collect = c->collect && c->res;
    struct rmark m0 = schema_ev_rmark(c);
    size_t passed = 0, first_pass = 0, second_pass = 0;
    size_t best = SIZE_MAX, best_score = SIZE_MAX;
    char *here = NULL;
    struct annot ba;
    if (collect) {
        struct util_buf b;
        util_buf_init(&b, UTIL_CAP_MESSAGE);
        schema_ev_inst_path(&b, f);
        here = util_buf_steal(&b);
        util_buf_finish(&b);
        if (!here) {
            schema_ev_set_nomem(c);
            return false;
        }
    }
    for (size_t i = 0; i < n; i++) {
        bool use_ann = a != NULL;
        if (use_ann && !schema_ev_annot_init(&ba, f->inst)) {
            schema_ev_set_nomem(c);
            break;
        }
        size_t start = c->res ? c->res->count : 0;
        bool r =
            schema_ev_at(c, f, br[i], f->inst, kw, NULL, (long)i, NULL, -1, use_ann ? &ba : NULL);
        if (c->status) {
            if (use_ann)
                schema_ev_annot_finish(&ba);
            break;
        }
        if (r) {
            if (passed == 0)
                first_pass = i;
            else if (passed == 1)
                second_pass = i;
            passed++;
            if (use_ann && (!one_of || passed == 1))
                schema_ev_annot_merge(a, &ba);
        }
        if (collect) {
            if (!r && passed == 0) {
                size_t score = branch_score(c->res, start, here);
                if (score < best_score) {
                    schema_ev_keep_tail(c->res, m0.count, start);
                    best = i;
                    best_score = score;
                } else {
                    struct rmark ms = {start, c->res->truncated};
                    schema_ev_rollback(c, ms);
                }
            } else {
                struct rmark ms = {start, c->res->truncated};
                schema_ev_rollback(c, ms);
            }
        }
        if (use_ann)
            schema_ev_annot_finish(&ba);
        if (!one_of && passed && !a)
            break;
        if (one_of && passed > 1)
            break;
    }
    if (c->status) {
        schema_ev_rollback(c, m0);
        free(here);
        return false;
    }
    bool ok = one_of ? passed == 1 : passed > 0;
    if (ok || !collect) {
        if (collect)
            schema_ev_rollback(c, m0);
        free(here);
        return ok;
    }
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    if (passed > 1) {
        schema_ev_rollback(c, m0);
        util_buf_puts(&b, "matches more than one alternative of oneOf: ");
        put_branch(&b, br[first_pass], first_pass);
        util_buf_puts(&b, " and ");
        put_branch(&b, br[second_pass], second_pass);
    } else if (best_score >= 1000000) {
        unsigned types = 0;
        bool known = true;
        for (size_t i = 0; i < n; i++) {
            unsigned t = branch_types(br[i]);
            known = known && t;
            types |= t;
        }
        schema_ev_rollback(c, m0);
        if (known) {
            util_buf_puts(&b, "expected ");
            schema_ev_put_types(&b, types);
            util_buf_printf(&b, ", got %s (no alternative of %s matches)", json_type_name(f->inst),
                            kw);
        } else {
            util_buf_printf(&b, "does not match any of the %zu alternatives of %s", n, kw);
        }
    } else {
        util_buf_printf(&b, "does not match any of the %zu alternatives of %s", n, kw);
        if (best != SIZE_MAX && n > 1) {
            util_buf_puts(&b, " (closest: alternative ");
            put_branch(&b, br[best], best);
            util_buf_putc(&b, ')');
        }
    }
    schema_ev_report_buf(c, f, kw, NULL, &b, m0.count);
    util_buf_finish(&b);
    free(here);
    return false;
}

/* anyOf/oneOf. When collecting, the branches are first evaluated without
 * collecting anything: a choice that holds (the usual case) then costs no
 * violation built for the branches that failed before one matched. Only a
 * failed choice is evaluated again, collecting, to report its closest
 * branch; choices nested in that second pass are evaluated once,
 * collecting, so the work stays linear. */
static bool eval_choice(struct ctx *c, const struct frame *f, struct annot *a, bool one_of)
{
    if (!c->collect || !c->res || c->in_retry)
        return choice_pass(c, f, a, one_of);
    c->collect = false;
    bool ok = choice_pass(c, f, a, one_of);
    c->collect = true;
    if (ok || c->status)
        return ok && !c->status;
    c->in_retry++;
    ok = choice_pass(c, f, a, one_of);
    c->in_retry--;
    return ok;
}

static bool eval_if(struct ctx *c, const struct frame *f, struct annot *a)
{
    const struct schema *s = f->s;
    struct annot ia;
    bool use_ann = a != NULL;
    if (use_ann && !schema_ev_annot_init(&ia, f->inst)) {
        schema_ev_set_nomem(c);
        return false;
    }
    bool save = c->collect;
    c->collect = false;
    bool cond = schema_ev_at(c, f, s->if_, f->inst, "if", NULL, -1, NULL, -1, use_ann ? &ia : NULL);
    c->collect = save;
    bool ok = true;
    if (c->status) {
        ok = false;
    } else if (cond) {
        if (use_ann)
            schema_ev_annot_merge(a, &ia);
        if (s->then_)
            ok = schema_ev_at(c, f, s->then_, f->inst, "then", NULL, -1, NULL, -1, a);
    } else if (s->else_) {
        ok = schema_ev_at(c, f, s->else_, f->inst, "else", NULL, -1, NULL, -1, a);
    }
    if (use_ann)
        schema_ev_annot_finish(&ia);
    return ok;
}

static bool eval_unevaluated(struct ctx *c, const struct frame *f, struct annot *a)
{
    const struct schema *s = f->s;
    const cJSON *inst = f->inst;
    bool ok = true;
    size_t i = 0;
    if (s->uneval_props && cJSON_IsObject(inst)) {
        for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
            if (schema_ev_annot_has(a, i))
                continue;
            if (is_false(s->uneval_props)) {
                schema_ev_report(c, f, "unevaluatedProperties", NULL,
                                 "property \"%s\" is not allowed (unevaluatedProperties)",
                                 ch->string);
                FAIL();
            } else if (!schema_ev_at(c, f, s->uneval_props, ch, "unevaluatedProperties", NULL, -1,
                                     ch->string, -1, NULL)) {
                FAIL();
            }
        }
        a->all = true;
    }
    if (s->uneval_items && cJSON_IsArray(inst)) {
        for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
            if (schema_ev_annot_has(a, i))
                continue;
            if (is_false(s->uneval_items)) {
                schema_ev_report(c, f, "unevaluatedItems", NULL,
                                 "item %zu is not allowed (unevaluatedItems)", i);
                FAIL();
            } else if (!schema_ev_at(c, f, s->uneval_items, ch, "unevaluatedItems", NULL, -1, NULL,
                                     (long)i, NULL)) {
                FAIL();
            }
        }
        a->all = true;
    }
done:
    return ok;
}

static bool eval(struct ctx *c, const struct frame *f, struct annot *ann)
{
    const struct schema *s = f->s;
    const cJSON *inst = f->inst;
    bool ok = true;
    struct annot local;
    struct annot *a = ann;
    bool own = false;
    if (c->status)
        return false;
    if (s->is_bool) {
        if (s->bool_value)
            return true;
        schema_ev_report(c, f, NULL, NULL, "no value is allowed here (the schema is false)");
        return false;
    }
    struct sc_budget *b = c->budget;
    if (++b->steps >= b->tick_at && schema_ev_budget_tick(b)) {
        schema_ev_abort(c, f, NULL, UTIL_ERR_LIMIT,
                        "schema evaluation stopped after %llu steps: the schema applies its "
                        "subschemas to the same values too many times",
                        (unsigned long long)b->steps);
        return false;
    }
    if (++c->depth > UTIL_CAP_EVAL_DEPTH) {
        schema_ev_abort(c, f, NULL, UTIL_ERR_LIMIT,
                        "schema evaluation nested deeper than %d levels", UTIL_CAP_EVAL_DEPTH);
        c->depth--;
        return false;
    }
    if (s->unevaluated && (ctype(inst) == cJSON_Object || ctype(inst) == cJSON_Array)) {
        if (!schema_ev_annot_init(&local, inst)) {
            schema_ev_set_nomem(c);
            c->depth--;
            return false;
        }
        own = true;
        a = &local;
    }
    if (s->ref && !eval_ref(c, f, s->ref, "$ref", a))
        FAIL();
    if (s->dynref && !eval_ref(c, f, dyn_target(f, s), "$dynamicRef", a))
        FAIL();
    const uint32_t m = s->fm;
    const int t = ctype(inst);
    if ((m & F_TYPE) && !type_ok_fast(s, inst, t)) {
        schema_ev_report_type(c, f);
        FAIL();
    }
    if ((m & F_CONST) && !json_equal(s->const_val, inst)) {
        schema_ev_report_const(c, f);
        FAIL();
    }
    if ((m & F_ENUM) && !schema_ev_enum_ok(s, inst)) {
        schema_ev_report_enum(c, f);
        FAIL();
    }
    if (t == cJSON_Number) {
        if ((m & F_NUM) && !schema_ev_number(c, f))
            FAIL();
    } else if (t == cJSON_String) {
        if ((m & F_STR) && !schema_ev_string(c, f))
            FAIL();
    } else if (t == cJSON_Object) {
        if ((m & F_OBJ) && !schema_ev_object(c, f, a))
            FAIL();
    } else if (t == cJSON_Array) {
        if ((m & F_ARR) && !schema_ev_array(c, f, a))
            FAIL();
    }
    for (size_t i = 0; i < s->n_all_of; i++)
        if (!schema_ev_at(c, f, s->all_of[i], inst, "allOf", NULL, (long)i, NULL, -1, a))
            FAIL();
    if (s->n_any_of && !eval_choice(c, f, a, false))
        FAIL();
    if (s->n_one_of && !eval_choice(c, f, a, true))
        FAIL();
    if (s->not_) {
        bool save = c->collect;
        c->collect = false;
        bool r = schema_ev_at(c, f, s->not_, inst, "not", NULL, -1, NULL, -1, NULL);
        c->collect = save;
        if (c->status)
            FAIL();
        if (r) {
            schema_ev_report(c, f, "not", NULL, "must not match the schema in \"not\"");
            FAIL();
        }
    }
    if (s->if_ && !eval_if(c, f, a))
        FAIL();
    if (own && !eval_unevaluated(c, f, a))
        FAIL();
done:
    if (own) {
        if (ok && ann)
            schema_ev_annot_merge(ann, &local);
        schema_ev_annot_finish(&local);
    }
    c->depth--;
    return ok && !c->status;
}

int schema_validate(const struct schema *s, const cJSON *instance, struct schema_result *res,
                    struct util_error *err)
{
    struct ctx c;
    if (!s || !instance || !res)
        return util_error_set(err, UTIL_ERR_USAGE, "schema_validate: missing argument");
    schema_result_finish(res);
    struct sc_budget budget;
    schema_ev_budget_init(&budget, s->reg);
    /* A valid instance has no violation to collect: answer it fast. */
    struct fctx fx = {0, 0, s->reg->opts.check_formats, &budget};
    if (schema_ev_fast(&fx, s, instance) && !fx.status) {
        schema_ev_budget_finish(&budget);
        res->valid = true;
        return UTIL_OK;
    }
    memset(&c, 0, sizeof(c));
    c.budget = &budget;
    c.res = res;
    c.no_fast = fx.status == FV_FALLBACK;
    c.collect = true;
    c.check_formats = s->reg->opts.check_formats;
    struct frame root = {NULL, s, instance, NULL, NULL, -1, NULL, -1};
    bool ok = eval(&c, &root, NULL);
    schema_ev_budget_finish(&budget);
    if (c.status) {
        res->valid = false;
        if (c.has_abort_v) {
            if (res->count < UTIL_CAP_VIOLATIONS && schema_ev_result_reserve(res) == UTIL_OK)
                res->items[res->count++] = c.abort_v;
            else
                schema_ev_viol_free(&c.abort_v);
        }
        return util_error_set(err, c.status, "%s", c.abort_msg);
    }
    res->valid = ok;
    if (!ok && res->count == 0 && !res->truncated) {
        c.collect = true;
        schema_ev_report_msg(&c, &root, NULL, NULL, "the instance is not valid against the schema",
                             SIZE_MAX);
    }
    return c.status ? util_error_set(err, c.status, "%s", c.abort_msg) : UTIL_OK;
}

bool schema_is_valid(const struct schema *s, const cJSON *instance)
{
    struct ctx c;
    if (!s || !instance)
        return false;
    struct sc_budget budget;
    schema_ev_budget_init(&budget, s->reg);
    struct fctx fx = {0, 0, s->reg->opts.check_formats, &budget};
    bool ok = schema_ev_fast(&fx, s, instance);
    if (fx.status != FV_FALLBACK) {
        schema_ev_budget_finish(&budget);
        return ok && !fx.status;
    }
    memset(&c, 0, sizeof(c));
    c.budget = &budget;
    c.check_formats = s->reg->opts.check_formats;
    c.no_fast = true;
    struct frame root = {NULL, s, instance, NULL, NULL, -1, NULL, -1};
    ok = eval(&c, &root, NULL);
    schema_ev_budget_finish(&budget);
    return ok && !c.status;
}
