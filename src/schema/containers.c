/* Object and array keywords, and the annotations (evaluated
 * properties and items) that unevaluatedProperties/Items read. */

#include "schema/eval.h"

#include "util/buf.h"
#include "util/caps.h"
#include "json/json.h"

#include <stdlib.h>
#include <string.h>

bool schema_ev_annot_init(struct annot *a, const cJSON *inst)
{
    size_t n = 0;
    if (cJSON_IsObject(inst) || cJSON_IsArray(inst))
        for (const cJSON *ch = inst->child; ch; ch = ch->next)
            n++;
    a->all = false;
    a->upto = 0;
    a->n = n;
    size_t words = (n + 63) / 64;
    if (words <= SC_ANNOT_INLINE_WORDS) {
        a->bits = a->inl;
        memset(a->inl, 0, sizeof(a->inl));
        return true;
    }
    a->bits = calloc(words, sizeof(uint64_t));
    return a->bits != NULL;
}

void schema_ev_annot_finish(struct annot *a)
{
    if (a->bits != a->inl)
        free(a->bits);
    a->bits = NULL;
}

void schema_ev_annot_mark(struct annot *a, size_t i)
{
    if (i < a->n)
        a->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

bool schema_ev_annot_has(const struct annot *a, size_t i)
{
    return a->all || i < a->upto || (i < a->n && ((a->bits[i / 64] >> (i % 64)) & 1));
}

void schema_ev_annot_merge(struct annot *dst, const struct annot *src)
{
    dst->all |= src->all;
    if (src->upto > dst->upto)
        dst->upto = src->upto;
    size_t words = (dst->n + 63) / 64;
    for (size_t i = 0; i < words && src->n == dst->n; i++)
        dst->bits[i] |= src->bits[i];
}

int32_t schema_ev_prop_find(const struct schema *s, const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (size_t i = h & (s->n_slots - 1);; i = (i + 1) & (s->n_slots - 1)) {
        int32_t k = s->prop_slots[i];
        if (k < 0)
            return -1;
        if (s->props[k].hash == h && strcmp(s->props[k].name, name) == 0)
            return k;
    }
}

/* Validates a property name against propertyNames; the name is wrapped in
 * a stack cJSON string. */
static bool eval_property_name(struct ctx *c, const struct frame *f, const cJSON *ch)
{
    cJSON tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.type = cJSON_String | SC_TRANSIENT;
    tmp.valuestring = ch->string;
    if (!c->collect || !c->res)
        return schema_ev_at(c, f, f->s->prop_names, &tmp, "propertyNames", NULL, -1, NULL, -1,
                            NULL);
    struct rmark m = schema_ev_rmark(c);
    bool r = schema_ev_at(c, f, f->s->prop_names, &tmp, "propertyNames", NULL, -1, NULL, -1, NULL);
    if (r || c->status)
        return r;
    struct util_buf b;
    util_buf_init(&b, UTIL_CAP_MESSAGE);
    util_buf_puts(&b, "property name ");
    schema_ev_put_string(&b, ch->string, SC_VALUE_SHOW_MAX, true);
    util_buf_puts(&b, " is invalid");
    if (c->res->count > m.count) {
        const char *msg = c->res->items[m.count].message;
        const char *why = strstr(msg, ": ");
        if (why)
            util_buf_printf(&b, ": %s", why + 2);
    }
    schema_ev_rollback(c, m);
    schema_ev_report_buf(c, f, "propertyNames", NULL, &b, SIZE_MAX);
    util_buf_finish(&b);
    return false;
}

bool schema_ev_object(struct ctx *c, const struct frame *f, struct annot *a)
{
    const struct schema *s = f->s;
    const cJSON *inst = f->inst;
    bool ok = true;
    uint64_t seen[SC_SEEN_WORDS] = {0};
    bool use_seen = s->n_props <= 64 * SC_SEEN_WORDS;
    size_t idx = 0;
    const char *depkw = s->dialect == SCHEMA_DIALECT_2020_12 ? NULL : "dependencies";
    for (const cJSON *ch = inst->child; ch; ch = ch->next, idx++) {
        const char *name = ch->string;
        c->budget->descents++;
        bool matched = false;
        if (s->n_props) {
            int32_t pi = schema_ev_prop_find(s, name);
            if (pi >= 0) {
                matched = true;
                if (use_seen)
                    seen[pi / 64] |= (uint64_t)1 << (pi % 64);
                const struct schema *ps = s->props[pi].s;
                if (is_false(ps)) {
                    schema_ev_report(c, f, "properties", name, "property \"%s\" is not allowed",
                                     name);
                    FAIL();
                } else if (!schema_ev_at(c, f, ps, ch, "properties", name, -1, name, -1, NULL)) {
                    FAIL();
                }
            }
        }
        for (size_t k = 0; k < s->n_pprops; k++) {
            const struct sc_pprop *pp = &s->pprops[k];
            int m = schema_regex_search(pp->re, name, strlen(name));
            if (m < 0) {
                schema_ev_abort(c, f, "patternProperties", UTIL_ERR_LIMIT,
                                "pattern %s could not be evaluated within its step budget",
                                pp->src);
                ok = false;
                goto done;
            }
            if (!m)
                continue;
            matched = true;
            if (is_false(pp->s)) {
                schema_ev_report(c, f, "patternProperties", pp->src,
                                 "property \"%s\" is not allowed", name);
                FAIL();
            } else if (!schema_ev_at(c, f, pp->s, ch, "patternProperties", pp->src, -1, name, -1,
                                     NULL)) {
                FAIL();
            }
        }
        if (!matched && s->addl_props) {
            matched = true;
            if (is_false(s->addl_props)) {
                schema_ev_report(c, f, "additionalProperties", NULL,
                                 "property \"%s\" is not allowed", name);
                FAIL();
            } else if (!schema_ev_at(c, f, s->addl_props, ch, "additionalProperties", NULL, -1,
                                     name, -1, NULL)) {
                FAIL();
            }
        }
        if (s->prop_names && !eval_property_name(c, f, ch))
            FAIL();
        if (a && matched)
            schema_ev_annot_mark(a, idx);
    }
    if ((s->has & HAS_MINPROPS) && idx < s->min_props) {
        schema_ev_report(c, f, "minProperties", NULL,
                         "object has %zu propert%s, fewer than the minimum of %zu", idx,
                         idx == 1 ? "y" : "ies", s->min_props);
        FAIL();
    }
    if ((s->has & HAS_MAXPROPS) && idx > s->max_props) {
        schema_ev_report(c, f, "maxProperties", NULL,
                         "object has %zu properties, more than the maximum of %zu", idx,
                         s->max_props);
        FAIL();
    }
    for (size_t i = 0; i < s->n_required; i++) {
        int32_t pi = s->required_idx[i];
        bool present;
        if (use_seen && pi >= 0)
            present = (seen[pi / 64] >> (pi % 64)) & 1;
        else
            present = cJSON_GetObjectItemCaseSensitive(inst, s->required[i]) != NULL;
        if (!present) {
            schema_ev_report(c, f, "required", NULL, "missing required property \"%s\"",
                             s->required[i]);
            FAIL();
        }
    }
    for (size_t i = 0; i < s->n_dep_req; i++) {
        const struct sc_depreq *d = &s->dep_req[i];
        if (!cJSON_GetObjectItemCaseSensitive(inst, d->name))
            continue;
        for (size_t k = 0; k < d->nreq; k++) {
            if (cJSON_GetObjectItemCaseSensitive(inst, d->req[k]))
                continue;
            schema_ev_report(c, f, depkw ? depkw : "dependentRequired", d->name,
                             "property \"%s\" is required when \"%s\" is present", d->req[k],
                             d->name);
            FAIL();
        }
    }
    for (size_t i = 0; i < s->n_dep_sch; i++) {
        const struct sc_depsch *d = &s->dep_sch[i];
        if (!cJSON_GetObjectItemCaseSensitive(inst, d->name))
            continue;
        if (!schema_ev_at(c, f, d->s, inst, depkw ? depkw : "dependentSchemas", d->name, -1, NULL,
                          -1, a))
            FAIL();
    }
done:
    return ok;
}

struct item_hash {
    uint32_t h;
    size_t i;
    const cJSON *n;
};

static int cmp_item_hash(const void *a, const void *b)
{
    const struct item_hash *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Finds two equal items: returns 1 when all are distinct, 0 (with
 * *first < *second) when two are equal, -1 when out of memory. */
int schema_ev_items_unique(const cJSON *arr, size_t n, size_t *first, size_t *second)
{
    struct item_hash stackbuf[32];
    struct item_hash *v = stackbuf;
    bool unique = true;
    *first = *second = 0;
    if (n > 32) {
        v = malloc(n * sizeof(*v));
        if (!v)
            return -1;
    }
    size_t k = 0;
    for (const cJSON *ch = arr->child; ch && k < n; ch = ch->next, k++) {
        v[k].h = schema_json_hash(ch);
        v[k].i = k;
        v[k].n = ch;
    }
    if (k > 16)
        qsort(v, k, sizeof(*v), cmp_item_hash);
    else
        for (size_t i = 1; i < k; i++)
            for (size_t j = i; j > 0 && cmp_item_hash(&v[j - 1], &v[j]) > 0; j--) {
                struct item_hash t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
    *first = *second = SIZE_MAX;
    for (size_t i = 0; i < k; i++) {
        for (size_t j = i + 1; j < k && v[j].h == v[i].h; j++) {
            if (json_equal(v[i].n, v[j].n)) {
                size_t lo = v[i].i < v[j].i ? v[i].i : v[j].i;
                size_t hi = v[i].i < v[j].i ? v[j].i : v[i].i;
                if (unique || lo < *first || (lo == *first && hi < *second)) {
                    *first = lo;
                    *second = hi;
                }
                unique = false;
            }
        }
    }
    if (v != stackbuf)
        free(v);
    return unique ? 1 : 0;
}

bool schema_ev_array(struct ctx *c, const struct frame *f, struct annot *a)
{
    const struct schema *s = f->s;
    const cJSON *inst = f->inst;
    bool ok = true;
    size_t i = 0, extra = 0;
    for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
        c->budget->descents++;
        if (i < s->n_prefix) {
            if (!schema_ev_at(c, f, s->prefix[i], ch, s->prefix_kw, NULL, (long)i, NULL, (long)i,
                              NULL))
                FAIL();
        } else if (s->items) {
            if (is_false(s->items))
                extra++;
            else if (!schema_ev_at(c, f, s->items, ch, s->items_kw, NULL, -1, NULL, (long)i, NULL))
                FAIL();
        }
    }
    size_t n = i;
    if (extra) {
        schema_ev_report(c, f, s->items_kw, NULL, "array has %zu items, at most %zu allowed", n,
                         s->n_prefix);
        FAIL();
    }
    if (a) {
        size_t upto = n < s->n_prefix ? n : s->n_prefix;
        if (upto > a->upto)
            a->upto = upto;
        if (s->items && n > s->n_prefix)
            a->all = true;
    }
    if ((s->has & HAS_MINITEMS) && n < s->min_items) {
        schema_ev_report(c, f, "minItems", NULL,
                         "array has %zu item%s, fewer than the minimum of %zu", n,
                         n == 1 ? "" : "s", s->min_items);
        FAIL();
    }
    if ((s->has & HAS_MAXITEMS) && n > s->max_items) {
        schema_ev_report(c, f, "maxItems", NULL,
                         "array has %zu items, more than the maximum of %zu", n, s->max_items);
        FAIL();
    }
    if ((s->has & HAS_UNIQUE) && n > 1) {
        size_t x = 0, y = 0;
        int u = schema_ev_items_unique(inst, n, &x, &y);
        if (u < 0) {
            schema_ev_set_nomem(c);
            ok = false;
            goto done;
        }
        if (u == 0) {
            schema_ev_report(c, f, "uniqueItems", NULL,
                             "items %zu and %zu are equal; items must be unique", x, y);
            FAIL();
        }
    }
    if (s->contains) {
        size_t matches = 0;
        size_t minc = (s->has & HAS_MINCONTAINS) ? s->min_contains : 1;
        bool save = c->collect;
        c->collect = false;
        i = 0;
        for (const cJSON *ch = inst->child; ch; ch = ch->next, i++) {
            if (schema_ev_at(c, f, s->contains, ch, "contains", NULL, -1, NULL, (long)i, NULL)) {
                matches++;
                if (a)
                    schema_ev_annot_mark(a, i);
                else if (matches >= minc && !(s->has & HAS_MAXCONTAINS))
                    break;
            }
            if (c->status)
                break;
        }
        c->collect = save;
        if (c->status) {
            ok = false;
            goto done;
        }
        if (matches < minc) {
            if (matches == 0)
                schema_ev_report(c, f, (s->has & HAS_MINCONTAINS) ? "minContains" : "contains",
                                 NULL, "no item matches the \"contains\" schema");
            else
                schema_ev_report(
                    c, f, "minContains", NULL,
                    "only %zu item%s match%s the \"contains\" schema, at least %zu required",
                    matches, matches == 1 ? "" : "s", matches == 1 ? "es" : "", minc);
            FAIL();
        }
        if ((s->has & HAS_MAXCONTAINS) && matches > s->max_contains) {
            schema_ev_report(c, f, "maxContains", NULL,
                             "%zu items match the \"contains\" schema, at most %zu allowed",
                             matches, s->max_contains);
            FAIL();
        }
    }
done:
    return ok;
}
