/*
 * view.c - the transaction-private write buffer and the checks every
 * engine shares (see view.h for the semantics).
 *
 * Invariant: ents[] holds each key at most once. A KNOWN entry caches the
 * key's value as this transaction sees it now; a DELTA entry records only
 * the sum of successful additions, because the base value was never read
 * (this is what lets parallel engines commute additions).
 */
#include "exec/view.h"

#include <string.h>
#include "core/codec.h"

void pel_view_init(pel_view *v, const pel_view_ops *ops, void *eng, uint32_t txn_idx,
                   const pel_access *access, pel_arena *arena)
{
    v->ops = ops;
    v->eng = eng;
    v->txn_idx = txn_idx;
    v->access = access;
    v->arena = arena;
    v->ents = v->inline_ents;   /* no arena memory for small transactions */
    v->n = 0;
    v->cap = PEL_VIEW_INLINE_ENTS;
    v->events = NULL;
    v->events_len = v->events_cap = 0;
    v->gas = 0;
    v->halted = v->violation = 0;
}

static int key_in(const pel_key *arr, uint32_t n, const pel_key *key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = pel_key_cmp(&arr[mid], key);
        if (c == 0) return 1;
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return 0;
}

enum { NEED_READ = 1, NEED_WRITE = 2, NEED_DELTA = 4 };

/* check - halted and access checks common to every operation. */
static int check(pel_view *v, const pel_key *key, int need)
{
    if (v->halted) return PEL_EHALT;
    if (v->violation) return PEL_EACCESS;
    const pel_access *a = v->access;
    if (!a) return 0;
    if (key_in(a->writes, a->n_writes, key)) return 0;
    if (need == NEED_READ && key_in(a->reads, a->n_reads, key)) return 0;
    if (need == NEED_DELTA && key_in(a->deltas, a->n_deltas, key)) return 0;
    v->violation = 1;
    return PEL_EACCESS;
}

static pel_txent *find(pel_view *v, const pel_key *key)
{
    for (uint32_t i = 0; i < v->n; i++)
        if (pel_key_eq(&v->ents[i].key, key)) return &v->ents[i];
    return NULL;
}

static pel_txent *append(pel_view *v, const pel_key *key)
{
    if (v->n == v->cap) {
        uint32_t cap = v->cap * 2;
        pel_txent *e = pel_arena_alloc(v->arena, (size_t)cap * sizeof(*e));
        if (!e) return NULL;
        if (v->n) memcpy(e, v->ents, (size_t)v->n * sizeof(*e));
        v->ents = e;
        v->cap = cap;
    }
    pel_txent *e = &v->ents[v->n++];
    memset(e, 0, sizeof(*e));
    e->key = *key;
    return e;
}

int pel_val_u64(const pel_val *val, int present, uint64_t *out)
{
    *out = 0;
    if (!present) return 0;
    if (val->len != 8) return PEL_ETYPE;
    *out = pel_le_load(val->p, 8);
    return 0;
}

int pel_counter_check(const pel_val *val, int present, pel_i128 offset, uint64_t bound)
{
    uint64_t base;
    if (pel_val_u64(val, present, &base) != 0) return PEL_ETYPE;
    return pel_view_counter_ok(base, offset, bound);
}

static int set_u64(pel_view *v, pel_txent *e, uint64_t x)
{
    uint8_t *p = pel_arena_alloc(v->arena, 8);
    if (!p) return PEL_ENOMEM;
    pel_le_store(p, x, 8);
    e->state = PEL_TXE_KNOWN;
    e->present = 1;
    e->val.p = p;
    e->val.len = 8;
    return 0;
}

/* resolve_delta - a get on a key this transaction only added to: read the
 * base and fold the additions in. A base that is not a counter, or a sum out
 * of range, can only come from an inconsistent speculative snapshot (the
 * additions were checked against a different base); it is reported as
 * PEL_ETYPE and validation discards that execution. */
static int resolve_delta(pel_view *v, pel_txent *e)
{
    pel_val base;
    int rc = v->ops->read(v, &e->key, &e->ref, &base);
    if (rc != 0 && rc != PEL_ENOTFOUND) return rc;
    uint64_t b;
    if (pel_val_u64(&base, rc == 0, &b) != 0) return PEL_ETYPE;
    pel_i128 sum = (pel_i128)b + e->acc;
    if (sum < 0 || sum > (pel_i128)UINT64_MAX) return PEL_ETYPE;
    return set_u64(v, e, (uint64_t)sum);
}

int pel_view_get(pel_view *v, const pel_key *key, pel_val *out)
{
    out->p = NULL;
    out->len = 0;
    int rc = check(v, key, NEED_READ);
    if (rc) return rc;
    v->gas += PEL_GAS_GET;
    pel_txent *e = find(v, key);
    if (e && e->state == PEL_TXE_DELTA && (rc = resolve_delta(v, e)) != 0) return rc;
    if (!e) {
        pel_val val;
        void *ref = NULL;
        rc = v->ops->read(v, key, &ref, &val);
        if (rc != 0 && rc != PEL_ENOTFOUND) return rc;
        if (!(e = append(v, key))) return PEL_ENOMEM;
        e->ref = ref;
        e->state = PEL_TXE_KNOWN;
        e->present = rc == 0;
        e->val = val;
    }
    if (!e->present) return PEL_ENOTFOUND;
    *out = e->val;
    v->gas += (uint64_t)e->val.len * PEL_GAS_PER_BYTE;
    return 0;
}

static int write_ent(pel_view *v, const pel_key *key, const void *val, size_t len, int present)
{
    int rc = check(v, key, NEED_WRITE);
    if (rc) return rc;
    if (len > PEL_VAL_MAX) return PEL_ERANGE;
    v->gas += PEL_GAS_PUT + (uint64_t)len * PEL_GAS_PER_BYTE;
    void *copy = present ? pel_arena_memdup(v->arena, val, len) : NULL;
    if (present && !copy) return PEL_ENOMEM;
    pel_txent *e = find(v, key);
    if (!e && !(e = append(v, key))) return PEL_ENOMEM;
    e->state = PEL_TXE_KNOWN;
    e->present = (uint8_t)present;
    e->dirty = 1;
    e->val.p = copy;
    e->val.len = present ? (uint32_t)len : 0;
    return 0;
}

int pel_view_put(pel_view *v, const pel_key *key, const void *val, size_t len)
{
    return write_ent(v, key, val, len, 1);
}

int pel_view_del(pel_view *v, const pel_key *key)
{
    return write_ent(v, key, NULL, 0, 0);
}

int pel_view_delta_add(pel_view *v, const pel_key *key, int64_t amount, uint64_t bound)
{
    int rc = check(v, key, NEED_DELTA);
    if (rc) return rc;
    v->gas += PEL_GAS_DELTA;
    pel_txent *e = find(v, key);
    if (e && e->state == PEL_TXE_KNOWN) {
        uint64_t base;
        if (pel_val_u64(&e->val, e->present, &base) != 0) return PEL_ETYPE;
        if ((rc = pel_view_counter_ok(base, amount, bound)) != 0) return rc;
        if ((rc = set_u64(v, e, (uint64_t)((pel_i128)base + amount))) != 0) return rc;
        e->dirty = 1;
        return 0;
    }
    pel_i128 offset = (e ? e->acc : 0) + amount;
    void *ref = e ? e->ref : NULL;
    if ((rc = v->ops->delta_check(v, key, &ref, offset, bound)) != 0) return rc;
    if (!e && !(e = append(v, key))) return PEL_ENOMEM;
    e->ref = ref;
    e->state = PEL_TXE_DELTA;
    e->acc = offset;
    e->dirty = 1;
    return 0;
}

int pel_view_emit(pel_view *v, const void *data, size_t len)
{
    if (v->halted) return PEL_EHALT;
    if (len > PEL_VAL_MAX) return PEL_ERANGE;
    v->gas += PEL_GAS_EVENT + (uint64_t)len * PEL_GAS_PER_BYTE;
    size_t need = (size_t)v->events_len + 4 + len;
    if (need > v->events_cap) {
        size_t cap = v->events_cap ? v->events_cap : 64;
        while (cap < need) cap *= 2;
        uint8_t *p = pel_arena_alloc(v->arena, cap);
        if (!p) return PEL_ENOMEM;
        if (v->events_len) memcpy(p, v->events, v->events_len);
        v->events = p;
        v->events_cap = (uint32_t)cap;
    }
    uint8_t *o = v->events + v->events_len;
    pel_le_store(o, len, 4);
    if (len) memcpy(o + 4, data, len);
    v->events_len = (uint32_t)need;
    return 0;
}

void pel_view_rollback(pel_view *v)
{
    v->n = 0;               /* cached reads are simply read again */
    v->events_len = 0;
    v->violation = 0;
}

int pel_view_get_u64(pel_view *v, const pel_key *key, uint64_t *out)
{
    pel_val val;
    int rc = pel_view_get(v, key, &val);
    if (rc != 0 && rc != PEL_ENOTFOUND) { *out = 0; return rc; }
    return pel_val_u64(&val, rc == 0, out);
}

int pel_view_put_u64(pel_view *v, const pel_key *key, uint64_t x)
{
    uint8_t b[8];
    pel_le_store(b, x, 8);
    return pel_view_put(v, key, b, 8);
}
