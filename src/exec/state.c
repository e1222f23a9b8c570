/*
 * state.c - pel_memstate, an in-memory key/value state.
 *
 * Open addressing with linear probing and tombstone-free deletion by
 * marking values absent (a deleted key keeps its slot; the table is sized
 * for the keys ever inserted). Values are malloc'd copies.
 */
#include "exec/state.h"

#include <stdlib.h>
#include "core/codec.h"
#include "core/hash.h"

typedef struct slot {
    pel_key key;
    uint8_t used;      /* slot holds a key */
    uint8_t present;   /* the key currently has a value */
    uint32_t len;
    uint8_t *val;
} slot;

struct pel_memstate {
    slot *slots;
    size_t cap, used, present;
};

int pel_memstate_new(pel_memstate **out)
{
    pel_memstate *ms = calloc(1, sizeof(*ms));
    if (!ms) return PEL_ENOMEM;
    ms->cap = 1024;
    ms->slots = calloc(ms->cap, sizeof(slot));
    if (!ms->slots) { free(ms); return PEL_ENOMEM; }
    *out = ms;
    return 0;
}

void pel_memstate_free(pel_memstate *ms)
{
    if (!ms) return;
    for (size_t i = 0; i < ms->cap; i++) free(ms->slots[i].val);
    free(ms->slots);
    free(ms);
}

static slot *probe(const pel_memstate *ms, const pel_key *key)
{
    size_t i = pel_key_hash(key) & (ms->cap - 1);
    for (;; i = (i + 1) & (ms->cap - 1)) {
        slot *s = &ms->slots[i];
        if (!s->used || pel_key_eq(&s->key, key)) return s;
    }
}

static int grow(pel_memstate *ms)
{
    pel_memstate bigger = { calloc(ms->cap * 2, sizeof(slot)), ms->cap * 2, 0, 0 };
    if (!bigger.slots) return PEL_ENOMEM;
    for (size_t i = 0; i < ms->cap; i++) {
        if (!ms->slots[i].used) continue;
        *probe(&bigger, &ms->slots[i].key) = ms->slots[i];
    }
    free(ms->slots);
    ms->slots = bigger.slots;
    ms->cap = bigger.cap;
    return 0;
}

int pel_memstate_put(pel_memstate *ms, const pel_key *key, const void *val, size_t len)
{
    if (len > PEL_VAL_MAX) return PEL_ERANGE;
    if ((ms->used + 1) * 4 > ms->cap * 3 && grow(ms) != 0) return PEL_ENOMEM;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return PEL_ENOMEM;
    if (len) memcpy(copy, val, len);
    slot *s = probe(ms, key);
    if (!s->used) { s->used = 1; s->key = *key; ms->used++; }
    if (!s->present) ms->present++;
    free(s->val);
    s->val = copy;
    s->len = (uint32_t)len;
    s->present = 1;
    return 0;
}

int pel_memstate_del(pel_memstate *ms, const pel_key *key)
{
    slot *s = probe(ms, key);
    if (s->used && s->present) {
        free(s->val);
        s->val = NULL;
        s->len = 0;
        s->present = 0;
        ms->present--;
    }
    return 0;
}

int pel_memstate_apply(pel_memstate *ms, const pel_writeset *ws)
{
    for (uint32_t i = 0; i < ws->n; i++) {
        const pel_write *w = &ws->w[i];
        int rc = w->kind == PEL_W_PUT
            ? pel_memstate_put(ms, &w->key, w->val.p, w->val.len)
            : pel_memstate_del(ms, &w->key);
        if (rc) return rc;
    }
    return 0;
}

static int mem_get(const void *ctx, const pel_key *key, pel_val *out)
{
    const slot *s = probe(ctx, key);
    if (!s->used || !s->present) { out->p = NULL; out->len = 0; return PEL_ENOTFOUND; }
    out->p = s->val;
    out->len = s->len;
    return 0;
}

pel_state pel_memstate_reader(const pel_memstate *ms)
{
    pel_state st = { mem_get, ms };
    return st;
}

size_t pel_memstate_count(const pel_memstate *ms)
{
    return ms->present;
}

static int slot_cmp(const void *a, const void *b)
{
    return pel_key_cmp(&(*(slot *const *)a)->key, &(*(slot *const *)b)->key);
}

int pel_memstate_digest(const pel_memstate *ms, uint8_t out[32])
{
    slot **order = malloc((ms->present ? ms->present : 1) * sizeof(*order));
    if (!order) return PEL_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < ms->cap; i++)
        if (ms->slots[i].present) order[n++] = &ms->slots[i];
    qsort(order, n, sizeof(*order), slot_cmp);
    pel_hasher h;
    int rc = pel_hasher_init(&h, "PEL/memstate");
    uint8_t len[4];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        pel_hasher_update(&h, order[i]->key.b, PEL_KEY_LEN);
        pel_le_store(len, order[i]->len, 4);
        pel_hasher_update(&h, len, 4);
        pel_hasher_update(&h, order[i]->val, order[i]->len);
    }
    if (rc == 0) rc = pel_hasher_final(&h, out);
    free(order);
    return rc;
}
