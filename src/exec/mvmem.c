/*
 * mvmem.c - multi-version memory (see mvmem.h).
 *
 * Invariants of a key's list, under its lock: entries sorted by idx, one per
 * transaction; n_values counts VALUE/DEL entries; once the key holds an
 * addition it has a counter record (mv_ctr) whose sum_pos / sum_neg are the
 * sums of positive / negative DELTA entries (ESTIMATE or not); `last` is the
 * slot of the last entry's writer or NULL. The sums make additions cheap:
 * with no VALUE/DEL entry, the
 * value seen by ANY transaction lies in [base - sum_neg, base + sum_pos], and
 * an addition whose bound check gives the same answer at both ends needs no
 * walk down the list. That is what lets thousands of fee payments into one
 * pool run in parallel: the claim "this addition stayed within its bound" is
 * checked, not the exact value.
 *
 * An ESTIMATE on an addition does not block readers: its old amount is used.
 * This is safe because Block-STM's record step (blockstm.c: record) reports
 * a re-execution that changes or drops an addition as writing a new path,
 * which re-validates every later transaction after the new value is in place;
 * an unchanged addition leaves every check that used it correct. (An
 * ESTIMATE on a value or deletion still makes readers wait, as in the paper.)
 * Fee payments thus do not wait on an unrelated abort that happens to pay a
 * fee too.
 */
#include "exec/mvmem.h"

#include <stddef.h>

int mvmem_init(mvmem *m, const pel_state *base, size_t expected_keys)
{
    m->base = base;
    atomic_init(&m->deltas, NULL);
    return pel_kmap_init(&m->map, expected_keys);
}

void mvmem_free(mvmem *m)
{
    pel_kmap_free(&m->map);
}

mv_key *mvmem_find(mvmem *m, const pel_key *key)
{
    return (mv_key *)pel_kmap_find(&m->map, key, pel_key_hash(key));
}

mv_key *mvmem_key(mvmem *m, const pel_key *key, pel_arena *arena)
{
    uint64_t h = pel_key_hash(key);
    mv_key *k = (mv_key *)pel_kmap_find(&m->map, key, h);
    if (k) return k;
    k = pel_arena_alloc(arena, sizeof(*k));
    if (!k) return NULL;
    memset(k, 0, offsetof(mv_key, inl));
    k->node.key = *key;
    k->e = k->inl;
    k->cap = 1;
    pel_spin_init(&k->lock);
    return (mv_key *)pel_kmap_insert(&m->map, &k->node, h);
}

/* load_base - the pre-block state of k, looked up at its first use (lock
 * held, or after execution): many keys are only ever written (new objects)
 * and never need it. */
static void load_base(const mvmem *m, mv_key *k)
{
    if (k->base_loaded) return;
    k->base_present = pel_state_get(m->base, &k->node.key, &k->base) == 0;
    k->base_loaded = 1;
}

int mvmem_base(const mvmem *m, mv_key *k, pel_val *out)
{
    pel_spin_lock(&k->lock);
    load_base(m, k);
    *out = k->base;
    int present = k->base_present;
    pel_spin_unlock(&k->lock);
    return present;
}

/* below - number of entries with idx < j. Transactions mostly run in block
 * order, so j is usually past the last entry or just before it: the search
 * gallops back from the end (1, 2, 4, ... entries) before it bisects. On a
 * hot key (a fee pool every transaction adds to) the list holds thousands of
 * entries and this runs under the key's lock: a plain bisection touched
 * about 14 cache lines that other cores had just written, a gallop touches
 * the few at the end (bench/RESULTS.md, tenth session). */
static uint32_t below(const mv_key *k, uint32_t j)
{
    uint32_t lo = 0, hi = k->ne;
    if (hi == 0 || k->e[hi - 1].idx < j) return hi;
    hi--;                                   /* the answer is in [lo, hi] */
    for (uint32_t step = 1; step <= hi; step *= 2) {
        uint32_t probe = hi - step;
        if (k->e[probe].idx < j) { lo = probe + 1; break; }
        hi = probe;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k->e[mid].idx < j) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* fold - resolve additions from entry p-1 downwards (lock held). */
static void fold(const mvmem *m, mv_key *k, uint32_t p, mv_read *out)
{
    pel_i128 acc = 0;
    uint64_t base;
    for (; p > 0; p--) {
        const mv_entry *e = &k->e[p - 1];
        if (e->est && e->kind != MV_DELTA) { out->kind = MVR_DEPEND; out->idx = e->idx; return; }
        if (e->kind != MV_DELTA) {
            if (pel_val_u64(&e->val, e->kind == MV_VALUE, &base) != 0) { out->kind = MVR_BAD; return; }
            goto done;
        }
        acc += e->acc;
    }
    load_base(m, k);
    if (pel_val_u64(&k->base, k->base_present, &base) != 0) { out->kind = MVR_BAD; return; }
done:
    acc += base;
    if (acc < 0 || acc > (pel_i128)UINT64_MAX) { out->kind = MVR_BAD; return; }
    out->kind = MVR_RESOLVED;
    out->value = (uint64_t)acc;
}

static void read_locked(const mvmem *m, mv_key *k, uint32_t j, mv_read *out)
{
    uint32_t p = below(k, j);
    if (p == 0) {
        load_base(m, k);
        out->kind = MVR_STORAGE;
        out->present = k->base_present;
        out->val = k->base;
        return;
    }
    const mv_entry *e = &k->e[p - 1];
    if (e->kind == MV_DELTA) { fold(m, k, p, out); return; }
    if (e->est) { out->kind = MVR_DEPEND; out->idx = e->idx; return; }
    out->kind = MVR_VERSION;
    out->idx = e->idx;
    out->inc = e->inc;
    out->present = e->kind == MV_VALUE;
    out->val = e->val;
}

void mvmem_read(const mvmem *m, mv_key *k, uint32_t j, mv_read *out)
{
    memset(out, 0, sizeof(*out));
    pel_spin_lock(&k->lock);
    read_locked(m, k, j, out);
    pel_spin_unlock(&k->lock);
}

/* publish - recompute the fast path's bounds (lock held; only keys with a
 * counter record have them: the others never take the fast path, as their
 * lists hold no addition to bound). Writer side of the
 * sequence lock: odd while updating; the fields are stored with release, so
 * a reader that acquires a new field value also sees the odd marker (and
 * rejects its snapshot); the final release store orders the fields before
 * the even marker. (No fences: GCC's ThreadSanitizer does not model them.) */
static void publish(const mvmem *m, mv_key *k, mv_ctr *c)
{
    uint64_t base;
    load_base(m, k);
    uint32_t ok = !k->n_values && pel_val_u64(&k->base, k->base_present, &base) == 0;
    pel_i128 lo = 0, hi = 0;
    if (ok) {
        lo = (pel_i128)base - (pel_i128)c->sum_neg;
        hi = (pel_i128)base + (pel_i128)c->sum_pos;
        if (lo < 0) lo = 0;   /* a consistent value is never negative ... */
        if (hi > (pel_i128)UINT64_MAX) hi = (pel_i128)UINT64_MAX;   /* ... nor above 2^64-1 */
    }
    uint32_t s = atomic_load_explicit(&c->fast_seq, memory_order_relaxed);
    atomic_store_explicit(&c->fast_seq, s + 1, memory_order_relaxed);
    atomic_store_explicit(&c->fast_ok, ok, memory_order_release);
    atomic_store_explicit(&c->fast_lo, (uint64_t)lo, memory_order_release);
    atomic_store_explicit(&c->fast_hi, (uint64_t)hi, memory_order_release);
    atomic_store_explicit(&c->fast_seq, s + 2, memory_order_release);
}

enum { FAST_TRIES = 64 };   /* snapshots tried before the locked walk */

/* fast_outcome - decide from a consistent snapshot of the bounds, without
 * the lock; 1 if decided. Reader side of the sequence lock: acquire loads
 * keep the second read of the sequence after the fields; a snapshot taken
 * while the sequence was odd or changed is not used but taken again, up to
 * FAST_TRIES times. (Giving up at once sent a reader to the locked walk of
 * the whole list whenever a publish overlapped it; on a fee pool that every
 * transaction adds to, with 8-16 threads publishing, that was thousands of
 * walks a block, each holding the lock every writer needs.) */
static int fast_outcome(mv_key *k, pel_i128 offset, uint64_t bound, int *rc)
{
    /* acquire: pairs with the release store that published the record */
    mv_ctr *c = atomic_load_explicit(&k->ctr, memory_order_acquire);
    if (!c) return 0;
    uint32_t s1, ok, tries = 0;
    pel_i128 lo, hi;
    for (;;) {   /* a snapshot torn by a concurrent publish is taken again */
        s1 = atomic_load_explicit(&c->fast_seq, memory_order_acquire);
        ok = atomic_load_explicit(&c->fast_ok, memory_order_acquire);
        lo = atomic_load_explicit(&c->fast_lo, memory_order_acquire);
        hi = atomic_load_explicit(&c->fast_hi, memory_order_acquire);
        if (!(s1 & 1) && s1 == atomic_load_explicit(&c->fast_seq, memory_order_relaxed)) break;
        if (++tries == FAST_TRIES) return 0;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    if (!ok) return 0;
    int at_lo = pel_view_counter_ok(lo, offset, bound), at_hi = pel_view_counter_ok(hi, offset, bound);
    if (at_lo == 0 && at_hi == 0) { *rc = 0; return 1; }
    if (lo + offset > (pel_i128)bound || hi + offset < 0) { *rc = PEL_EBOUND; return 1; }
    return 0;
}

int mvmem_delta_outcome(const mvmem *m, mv_key *k, uint32_t j, pel_i128 offset, uint64_t bound,
                        uint32_t *blocking)
{
    int rc;
    mv_read r;
    if (fast_outcome(k, offset, bound, &rc)) return rc;
    memset(&r, 0, sizeof(r));
    pel_spin_lock(&k->lock);
    read_locked(m, k, j, &r);
    pel_spin_unlock(&k->lock);
    switch (r.kind) {
    case MVR_DEPEND: *blocking = r.idx; return PEL_EHALT;
    case MVR_RESOLVED: return pel_view_counter_ok(r.value, offset, bound);
    case MVR_BAD: return PEL_ETYPE;
    default:
        return pel_counter_check(&r.val, r.present, offset, bound);
    }
}

/* account - add (sign=+1) or remove (sign=-1) an entry's share of the
 * counts kept for the fast path (lock held; a DELTA entry implies the
 * counter record). */
static void account(mv_key *k, const mv_entry *e, int sign)
{
    if (e->kind != MV_DELTA) { k->n_values += (uint32_t)sign; return; }
    mv_ctr *c = atomic_load_explicit(&k->ctr, memory_order_relaxed);   /* ours: lock held */
    unsigned __int128 mag = e->acc < 0 ? (unsigned __int128)(-e->acc) : (unsigned __int128)e->acc;
    unsigned __int128 *sum = e->acc < 0 ? &c->sum_neg : &c->sum_pos;
    if (sign > 0) *sum += mag; else *sum -= mag;
}

/* insert_at - open a gap at position p (lock held); a full array moves to
 * twice its size (at least 4) in `arena` (the old one is simply left there:
 * geometric growth wastes at most what the list finally holds). */
static int insert_at(mv_key *k, pel_arena *arena, uint32_t p)
{
    if (k->ne == k->cap) {
        uint32_t cap = k->cap < 2 ? 4 : k->cap * 2;
        mv_entry *e = pel_arena_alloc(arena, (size_t)cap * sizeof(*e));
        if (!e) return PEL_ENOMEM;
        memcpy(e, k->e, (size_t)k->ne * sizeof(*e));
        k->e = e;
        k->cap = cap;
    }
    if (p < k->ne) memmove(&k->e[p + 1], &k->e[p], (size_t)(k->ne - p) * sizeof(*k->e));
    k->ne++;
    return 0;
}

/* add_ctr - give k its counter record at its first addition and put it on
 * the list of counters (lock held). Release on the record: lock-free bound
 * checks (fast_outcome) see it initialised; release on the list CAS:
 * materialisation, after the pool's handshake, walks it anyway, the
 * ordering only keeps the loop honest. 0 or PEL_ENOMEM. */
static int add_ctr(mvmem *m, mv_key *k, pel_arena *arena)
{
    mv_ctr *c = pel_arena_alloc(arena, sizeof(*c));
    if (!c) return PEL_ENOMEM;
    memset(c, 0, sizeof(*c));
    atomic_store_explicit(&k->ctr, c, memory_order_release);
    mv_key *head = atomic_load_explicit(&m->deltas, memory_order_relaxed);
    do c->next = head;
    while (!atomic_compare_exchange_weak_explicit(&m->deltas, &head, k,
               memory_order_release, memory_order_relaxed));
    return 0;
}

const mv_entry *mvmem_last_below(const mv_key *k, uint32_t j)
{
    uint32_t p = below(k, j);
    return p ? &k->e[p - 1] : NULL;
}

int mvmem_write(mvmem *m, mv_key *k, pel_arena *arena, uint32_t idx, uint32_t inc,
                const pel_txent *t, uint32_t wpos, pel_write *slot)
{
    mv_entry ne = { .idx = idx, .inc = inc, .wpos = wpos };
    if (t->state == PEL_TXE_DELTA) { ne.kind = MV_DELTA; ne.acc = t->acc; }
    else { ne.kind = t->present ? MV_VALUE : MV_DEL; ne.val = t->val; }
    pel_spin_lock(&k->lock);
    mv_ctr *c = atomic_load_explicit(&k->ctr, memory_order_relaxed);   /* lock held */
    if (ne.kind == MV_DELTA && !c) {
        if (add_ctr(m, k, arena) != 0) { pel_spin_unlock(&k->lock); return PEL_ENOMEM; }
        c = atomic_load_explicit(&k->ctr, memory_order_relaxed);
    }
    uint32_t values_before = k->n_values;
    uint32_t p = below(k, idx);
    if (p < k->ne && k->e[p].idx == idx) account(k, &k->e[p], -1);
    else if (insert_at(k, arena, p) != 0) { pel_spin_unlock(&k->lock); return PEL_ENOMEM; }
    k->e[p] = ne;
    if (p == k->ne - 1) k->last = slot;
    account(k, &ne, +1);
    if (c && (values_before == 0 || k->n_values == 0)) publish(m, k, c);
    int first = !k->written;
    k->written = 1;
    pel_spin_unlock(&k->lock);
    return first;
}

void mvmem_remove(const mvmem *m, mv_key *k, uint32_t idx)
{
    pel_spin_lock(&k->lock);
    uint32_t p = below(k, idx);
    if (p < k->ne && k->e[p].idx == idx) {
        uint32_t values_before = k->n_values;
        account(k, &k->e[p], -1);
        memmove(&k->e[p], &k->e[p + 1], (size_t)(k->ne - p - 1) * sizeof(*k->e));
        k->ne--;
        if (p == k->ne) k->last = NULL;
        mv_ctr *c = atomic_load_explicit(&k->ctr, memory_order_relaxed);   /* lock held */
        if (c && (values_before == 0 || k->n_values == 0)) publish(m, k, c);
    }
    pel_spin_unlock(&k->lock);
}

void mvmem_mark_estimate(mv_key *k, uint32_t idx)
{
    pel_spin_lock(&k->lock);
    uint32_t p = below(k, idx);
    if (p < k->ne && k->e[p].idx == idx && !k->e[p].est) {
        k->e[p].est = 1;   /* the fast path's bounds do not change (see above) */
    }
    pel_spin_unlock(&k->lock);
}
