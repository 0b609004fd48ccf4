/* The evaluation budget and the (schema, instance) verdict cache that keep
 * validation linear when subschemas are applied to the same value again
 * and again (a chain of anyOf/allOf/oneOf whose branches share a target). */
#include "schema/caps.h"
#include "schema/eval.h"

#include <stdlib.h>
#include <string.h>

void schema_ev_budget_init(struct sc_budget *b, const struct schema_registry *reg)
{
    memset(b, 0, sizeof(*b));
    b->reg = reg;
    b->tick_at = b->next_check = SCHEMA_CAP_BUDGET_TICK;
}

void schema_ev_budget_finish(struct sc_budget *b)
{
    free(b->e);
    b->e = NULL;
    b->cap = b->n = 0;
}

static bool registry_dynamic(const struct schema_registry *reg)
{
    for (size_t i = 0; i < reg->nres; i++)
        if (reg->res[i]->has_dynamic)
            return true;
    return false;
}

int schema_ev_budget_tick(struct sc_budget *b)
{
    b->tick_at = b->steps + SCHEMA_CAP_BUDGET_TICK;
    if (!b->memo_on && (b->revisits > SCHEMA_CAP_MEMO_REVISITS ||
                        (b->steps > SCHEMA_CAP_MEMO_AFTER_STEPS &&
                         (b->steps > (uint64_t)SCHEMA_CAP_MEMO_STEPS_PER_DESCENT * b->descents ||
                          b->steps > SCHEMA_CAP_MEMO_ALWAYS_AFTER)))) {
        b->memo_on = true;
        b->dynamic = registry_dynamic(b->reg);
    }
    b->next_check = b->memo_on ? 0 : b->tick_at;
    if (b->steps >
        SCHEMA_CAP_EVAL_STEPS_BASE + (uint64_t)SCHEMA_CAP_EVAL_STEPS_PER_DESCENT * b->descents)
        return UTIL_ERR_LIMIT;
    return UTIL_OK;
}

static size_t slot_of(const struct sc_budget *b, const struct schema *s, const cJSON *inst)
{
    uint64_t h = (uint64_t)(uintptr_t)s * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t)(uintptr_t)inst * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    return (size_t)h & (b->cap - 1);
}

const struct sc_memo_entry *schema_ev_memo_find(const struct sc_budget *b, const struct schema *s,
                                                const cJSON *inst)
{
    if (!b->n || (inst->type & SC_TRANSIENT))
        return NULL;
    for (size_t i = slot_of(b, s, inst);; i = (i + 1) & (b->cap - 1)) {
        const struct sc_memo_entry *e = &b->e[i];
        if (!e->s)
            return NULL;
        if (e->s == s && e->inst == inst)
            return e;
    }
}

int schema_ev_memo_get(const struct sc_budget *b, const struct schema *s, const cJSON *inst,
                       bool *collected)
{
    const struct sc_memo_entry *e = schema_ev_memo_find(b, s, inst);
    if (e && collected)
        *collected = e->collected;
    return e ? e->verdict : 0;
}

/* Doubles the table (first use: allocates it); false when out of memory
 * or at the cap. */
static bool memo_grow(struct sc_budget *b)
{
    size_t ncap = b->cap ? b->cap * 2 : 4096;
    if (ncap > SCHEMA_CAP_MEMO_ENTRIES)
        return false;
    struct sc_memo_entry *ne = calloc(ncap, sizeof(*ne));
    if (!ne)
        return false;
    struct sc_memo_entry *old = b->e;
    size_t ocap = b->cap;
    b->e = ne;
    b->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].s)
            continue;
        size_t k = slot_of(b, old[i].s, old[i].inst);
        while (ne[k].s)
            k = (k + 1) & (ncap - 1);
        ne[k] = old[i];
    }
    free(old);
    return true;
}

struct sc_memo_entry *schema_ev_memo_put(struct sc_budget *b, const struct schema *s,
                                         const cJSON *inst, bool valid, bool collected)
{
    if (inst->type & SC_TRANSIENT)
        return NULL;
    if ((b->n + 1) * 2 > b->cap && !memo_grow(b)) {
        if (!b->cap)
            return NULL;
        memset(b->e, 0, b->cap * sizeof(*b->e)); /* full: start again */
        b->n = 0;
    }
    size_t i = slot_of(b, s, inst);
    while (b->e[i].s && !(b->e[i].s == s && b->e[i].inst == inst))
        i = (i + 1) & (b->cap - 1);
    struct sc_memo_entry *e = &b->e[i];
    if (!e->s) {
        e->s = s;
        e->inst = inst;
        b->n++;
    }
    e->verdict = valid ? SC_MEMO_VALID : SC_MEMO_INVALID;
    e->collected = e->collected || collected;
    return e;
}
