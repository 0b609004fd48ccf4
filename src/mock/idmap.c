/* String-keyed hash map: FNV-1a, linear probing, tombstones. */
#include "mock/internal.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

static const char tomb_mark;
#define TOMB (&tomb_mark)

static uint64_t hash(const char *s)
{
    return util_fnv1a(UTIL_FNV1A_OFFSET, s, strlen(s));
}

int mock_idmap_init(struct mock_idmap *m)
{
    m->cap = 64;
    m->count = m->tombs = 0;
    m->slots = calloc(m->cap, sizeof(*m->slots));
    return m->slots ? UTIL_OK : UTIL_ERR_NOMEM;
}

void mock_idmap_finish(struct mock_idmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = m->tombs = 0;
}

static struct mock_idmap_slot *find(const struct mock_idmap *m, const char *key)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
        struct mock_idmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != TOMB && strcmp(s->key, key) == 0)
            return s;
    }
}

void *mock_idmap_get(const struct mock_idmap *m, const char *key)
{
    if (!m->slots || !key)
        return NULL;
    struct mock_idmap_slot *s = find(m, key);
    return s ? s->value : NULL;
}

static int grow(struct mock_idmap *m, size_t cap)
{
    struct mock_idmap_slot *old = m->slots;
    size_t oldcap = m->cap;
    m->slots = calloc(cap, sizeof(*m->slots));
    if (!m->slots) {
        m->slots = old;
        return UTIL_ERR_NOMEM;
    }
    m->cap = cap;
    m->tombs = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].key || old[i].key == TOMB)
            continue;
        size_t mask = cap - 1;
        size_t j = hash(old[i].key) & mask;
        while (m->slots[j].key)
            j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
    return UTIL_OK;
}

int mock_idmap_put(struct mock_idmap *m, const char *key, void *value)
{
    struct mock_idmap_slot *s = find(m, key);
    if (s) {
        s->key = key;
        s->value = value;
        return UTIL_OK;
    }
    if ((m->count + m->tombs + 1) * 4 >= m->cap * 3) {
        size_t cap = m->cap;
        while ((m->count + 1) * 2 >= cap)
            cap *= 2;
        if (grow(m, cap))
            return UTIL_ERR_NOMEM;
    }
    size_t mask = m->cap - 1;
    size_t i = hash(key) & mask;
    while (m->slots[i].key && m->slots[i].key != TOMB)
        i = (i + 1) & mask;
    if (m->slots[i].key == TOMB)
        m->tombs--;
    m->slots[i].key = key;
    m->slots[i].value = value;
    m->count++;
    return UTIL_OK;
}

void mock_idmap_del(struct mock_idmap *m, const char *key)
{
    struct mock_idmap_slot *s = m->slots ? find(m, key) : NULL;
    if (!s)
        return;
    s->key = TOMB;
    s->value = NULL;
    m->count--;
    m->tombs++;
}
