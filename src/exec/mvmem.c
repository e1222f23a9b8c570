/*
 * mvmem.c - multi-version memory (see mvmem.h).
 *
 * Invariants, each under its own lock: the key's list holds VALUE/DEL
 * entries sorted by idx; each shard holds DELTA entries sorted by idx; a
 * transaction has at most one entry for a key over the list and all shards
 * (except for the moment mvmem_write moves it); `last` is the slot of the
 * list's last entry's writer or NULL.
 *
 * Bound checks without a walk. Once the key holds an addition it has a
 * counter record (mv_ctr) and a reservation: each shard's additions stay
 * within the magnitudes it reserved (positive and negative, ESTIMATE
 * entries included), and the key's reservation is the sum of the shards'.
 * With no VALUE/DEL entry, the value seen by ANY transaction then lies in
 * [base - res_neg, base + res_pos], and an addition whose bound check gives
 * the same answer at both ends needs no walk. A shard reserves more (under
 * the key's lock, republishing the bounds) only when its own additions
 * outgrow its share: what it needs plus as much again or as much as it
 * already holds, but never more than a quarter of the room left to the
 * bound, split among the shards, so the bounds stay tight where that
 * matters (a treasury paying out its last units reserves exactly what it
 * pays). So thousands of fee payments into one pool run in parallel with no
 * cache line written by more than one worker per addition: each worker adds
 * to its own shard, and bound checks read bounds that change a few dozen
 * times a block. (Before, every addition went into one list under one lock
 * and republished the bounds: the line every other worker's bound check
 * read; bench/RESULTS.md, eleventh session.)
 *
 * Reads that span the list and the shards take one lock at a time, so they
 * may see a mix of concurrent changes. Block-STM stays exact because every
 * change that can alter what a later transaction reads is followed, once it
 * is complete, by validating all later transactions again: the paper's
 * "wrote a new location", ours "changed or dropped an addition"
 * (blockstm.c: delta_changed) and "moved" (MVW_MOVED). A read taken during
 * a change is validated again after it; replacing an entry in place with
 * the same content changes nothing a reader can see.
 *
 * An ESTIMATE on an addition does not block readers: its old amount is used
 * (same argument: a re-execution that changes or drops the addition
 * revalidates everything after it). Fee payments thus do not wait on an
 * unrelated abort that happens to pay a fee too. An ESTIMATE on a value or
 * deletion still makes readers wait, as in the paper.
 */
#include "exec/mvmem.h"

#include <stddef.h>
#include <stdlib.h>

typedef unsigned __int128 u128;

int mvmem_init(mvmem *m, const pel_state *base, size_t expected_keys, unsigned workers)
{
    m->base = base;
    m->nshards = workers ? workers : 1;
    m->counters = aligned_alloc(64, 2 * m->nshards * sizeof(mv_klist));
    if (!m->counters) return PEL_ENOMEM;
    memset(m->counters, 0, 2 * m->nshards * sizeof(mv_klist));
    int rc = pel_kmap_init(&m->map, expected_keys, 0);
    if (rc) { free(m->counters); m->counters = NULL; }
    return rc;
}

void mvmem_free(mvmem *m)
{
    for (unsigned w = 0; m->counters && w < 2 * m->nshards; w++) free(m->counters[w].k);
    free(m->counters);
    m->counters = NULL;
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

/* the counter record (acquire: pairs with its publication in get_ctr) and
 * a shard of it (acquire: pairs with get_shard) */
static mv_ctr *ctr_of(const mv_key *k)
{
    return atomic_load_explicit(&((mv_key *)k)->ctr, memory_order_acquire);
}

static mv_shard *shard_of(const mv_ctr *c, unsigned w)
{
    return atomic_load_explicit(&((mv_ctr *)c)->sh[w], memory_order_acquire);
}

/* shard_at - the shard a location names, or NULL (none made yet, or not a
 * shard). */
static mv_shard *shard_at(const mv_key *k, int loc)
{
    const mv_ctr *c = ctr_of(k);
    return c && loc > 0 && (unsigned)(loc - 1) < c->nshards ? shard_of(c, (unsigned)(loc - 1)) : NULL;
}

/* below - number of entries of e[0..n) with idx < j. Transactions mostly
 * run in block order, so j is usually past the last entry or just before
 * it: the search gallops back from the end (1, 2, 4, ... entries) before it
 * bisects, touching the few cache lines at the end of a long list. */
static uint32_t below(const mv_entry *e, uint32_t n, uint32_t j)
{
    uint32_t lo = 0, hi = n;
    if (hi == 0 || e[hi - 1].idx < j) return hi;
    hi--;                                   /* the answer is in [lo, hi] */
    for (uint32_t step = 1; step <= hi; step *= 2) {
        uint32_t probe = hi - step;
        if (e[probe].idx < j) { lo = probe + 1; break; }
        hi = probe;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (e[mid].idx < j) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* insert_at - open a gap at position p of an entry array; a full array
 * moves to twice its size (at least 4) in `arena` (the old one is simply
 * left there: geometric growth wastes at most what the array finally
 * holds). 0 or PEL_ENOMEM. */
static int insert_at(mv_entry **e, uint32_t *n, uint32_t *cap, pel_arena *arena, uint32_t p)
{
    if (*n == *cap) {
        uint32_t c = *cap < 2 ? 4 : *cap * 2;
        mv_entry *ne = pel_arena_alloc(arena, (size_t)c * sizeof(*ne));
        if (!ne) return PEL_ENOMEM;
        if (*n) memcpy(ne, *e, (size_t)*n * sizeof(*ne));
        *e = ne;
        *cap = c;
    }
    if (p < *n) memmove(&(*e)[p + 1], &(*e)[p], (size_t)(*n - p) * sizeof(**e));
    (*n)++;
    return 0;
}

/* drop_at - close the gap at position p. */
static void drop_at(mv_entry *e, uint32_t *n, uint32_t p)
{
    memmove(&e[p], &e[p + 1], (size_t)(*n - p - 1) * sizeof(*e));
    (*n)--;
}

/* find - the position of idx's entry in e[0..n) (*p, and 1), or where it
 * would go (*p, and 0). */
static int find(const mv_entry *e, uint32_t n, uint32_t idx, uint32_t *p)
{
    *p = below(e, n, idx);
    return *p < n && e[*p].idx == idx;
}

static u128 magnitude(pel_i128 acc)
{
    return acc < 0 ? (u128)(-acc) : (u128)acc;
}

/* read_any - what transaction j sees of k: the list's nearest value or
 * deletion below j, then the additions between it and j in every shard
 * (one lock at a time; see the file comment). */
static void read_any(const mvmem *m, mv_key *k, uint32_t j, mv_read *out)
{
    mv_entry v = { 0 };
    int has_v = 0;
    pel_val base = { NULL, 0 };
    uint8_t base_present = 0;
    pel_spin_lock(&k->lock);
    uint32_t p = below(k->e, k->ne, j);
    if (p) { v = k->e[p - 1]; has_v = 1; }
    else { load_base(m, k); base = k->base; base_present = k->base_present; }
    pel_spin_unlock(&k->lock);

    pel_i128 acc = 0;
    int deltas = 0;
    uint32_t from = has_v ? v.idx + 1 : 0;   /* additions at [from, j) count */
    const mv_ctr *c = ctr_of(k);
    for (unsigned w = 0; c && w < c->nshards; w++) {
        mv_shard *s = shard_of(c, w);
        if (!s) continue;
        pel_spin_lock(&s->lock);
        for (uint32_t q = below(s->e, s->ne, j); q > 0 && s->e[q - 1].idx >= from; q--) {
            acc += s->e[q - 1].acc;
            deltas = 1;
        }
        pel_spin_unlock(&s->lock);
    }

    if (has_v && v.est) { out->kind = MVR_DEPEND; out->idx = v.idx; return; }
    if (!deltas) {
        if (!has_v) {
            out->kind = MVR_STORAGE;
            out->present = base_present;
            out->val = base;
            return;
        }
        out->kind = MVR_VERSION;
        out->idx = v.idx;
        out->inc = v.inc;
        out->present = v.kind == MV_VALUE;
        out->val = v.val;
        return;
    }
    uint64_t start;
    int rc = has_v ? pel_val_u64(&v.val, v.kind == MV_VALUE, &start) : pel_val_u64(&base, base_present, &start);
    if (rc != 0) { out->kind = MVR_BAD; return; }
    acc += start;
    if (acc < 0 || acc > (pel_i128)UINT64_MAX) { out->kind = MVR_BAD; return; }
    out->kind = MVR_RESOLVED;
    out->value = (uint64_t)acc;
}

void mvmem_read(const mvmem *m, mv_key *k, uint32_t j, mv_read *out)
{
    memset(out, 0, sizeof(*out));
    read_any(m, k, j, out);
}

/* publish - recompute the fast path's bounds (key's lock held). Writer side
 * of the sequence lock: odd while updating; the fields are stored with
 * release, so a reader that acquires a new field value also sees the odd
 * marker (and rejects its snapshot); the final release store orders the
 * fields before the even marker. (No fences: GCC's ThreadSanitizer does not
 * model them.) */
static void publish(const mvmem *m, mv_key *k, mv_ctr *c)
{
    uint64_t base;
    load_base(m, k);
    uint32_t ok = k->ne == 0 && pel_val_u64(&k->base, k->base_present, &base) == 0;
    pel_i128 lo = 0, hi = 0;
    if (ok) {
        lo = (pel_i128)base - (pel_i128)c->res_neg;
        hi = (pel_i128)base + (pel_i128)c->res_pos;
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

/* fast_outcome - decide from a consistent snapshot of the bounds, without a
 * lock; 1 if decided. Reader side of the sequence lock: acquire loads keep
 * the second read of the sequence after the fields; a snapshot taken while
 * the sequence was odd or changed is not used but taken again, up to
 * FAST_TRIES times (giving up at once sent readers to the walk whenever a
 * publish overlapped them: tenth session). */
static int fast_outcome(mv_key *k, pel_i128 offset, uint64_t bound, int *rc)
{
    mv_ctr *c = ctr_of(k);
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
    mvmem_read(m, k, j, &r);
    switch (r.kind) {
    case MVR_DEPEND: *blocking = r.idx; return PEL_EHALT;
    case MVR_RESOLVED: return pel_view_counter_ok(r.value, offset, bound);
    case MVR_BAD: return PEL_ETYPE;
    default:
        return pel_counter_check(&r.val, r.present, offset, bound);
    }
}

/* room_for_counter - room for one more key in a worker's list. */
static int room_for_counter(mv_klist *l)
{
    if (l->n < l->cap) return 0;
    uint32_t cap = l->cap ? 2 * l->cap : 256;
    mv_key **k = cap > l->cap ? realloc(l->k, (size_t)cap * sizeof(*k)) : NULL;
    if (!k) return PEL_ENOMEM;
    l->k = k;
    l->cap = cap;
    return 0;
}

/* get_ctr - k's counter record, made at its first addition (by worker w)
 * and put on w's list of counters. Release on the record: lock-free readers
 * see it initialised (its bounds say "not decided" until a reservation
 * publishes them). The list is read by materialisation after the pool's
 * handshake. NULL on PEL_ENOMEM. */
static mv_ctr *get_ctr(mvmem *m, mv_key *k, pel_arena *arena, unsigned w)
{
    mv_ctr *c = ctr_of(k);
    if (c) return c;
    mv_klist *l = &m->counters[w];
    if (room_for_counter(l)) return NULL;
    pel_spin_lock(&k->lock);
    c = atomic_load_explicit(&k->ctr, memory_order_relaxed);   /* lock held */
    if (!c) {
        size_t size = sizeof(*c) + (size_t)m->nshards * sizeof(c->sh[0]);
        if ((c = pel_arena_alloc(arena, size)) != NULL) {
            memset(c, 0, size);
            c->nshards = m->nshards;
            c->owner = w;
            while ((1u << c->spread) < c->nshards) c->spread++;
            atomic_store_explicit(&k->ctr, c, memory_order_release);
            l->k[l->n++] = k;
        }
    }
    pel_spin_unlock(&k->lock);
    return c;
}

/* get_shard - worker w's shard of c, made by w itself at its first
 * addition to the key (so never two at once), in w's arena; the first
 * worker other than the record's maker to make one lists k as shared. */
static mv_shard *get_shard(mvmem *m, mv_key *k, mv_ctr *c, unsigned w, pel_arena *arena)
{
    mv_shard *s = shard_of(c, w);
    if (s) return s;
    if (w != c->owner) {
        mv_klist *l = &m->counters[m->nshards + w];
        if (room_for_counter(l)) return NULL;
        if (!atomic_exchange_explicit(&c->shared, 1, memory_order_relaxed)) l->k[l->n++] = k;
    }
    if (!(s = pel_arena_alloc(arena, sizeof(*s)))) return NULL;
    memset(s, 0, offsetof(mv_shard, inl));
    s->e = s->inl;
    s->cap = 1;
    pel_spin_init(&s->lock);
    atomic_store_explicit(&c->sh[w], s, memory_order_release);
    return s;
}

/* grant - how much to add to a share of `have` that needs `want` more:
 * want, plus as much again or as much as it holds, within `spare`. */
static u128 grant(u128 want, u128 have, u128 spare)
{
    u128 extra = have > want ? have : want;
    return want + (extra < spare ? extra : spare);
}

/* reserve - grow shard s's reservation to cover need_pos / need_neg, and
 * the key's with it; republish the bounds. Takes the key's lock (the
 * caller holds no lock). */
static void reserve(const mvmem *m, mv_key *k, mv_ctr *c, mv_shard *s, u128 need_pos, u128 need_neg)
{
    pel_spin_lock(&k->lock);
    load_base(m, k);
    uint64_t base = 0;   /* a base that is not a counter leaves the fast path off anyway */
    if (pel_val_u64(&k->base, k->base_present, &base) != 0) base = 0;
    unsigned split = 2 + c->spread;   /* a quarter of the room, over the shards */
    if (need_pos > s->res_pos) {
        u128 room = (u128)(UINT64_MAX - base);
        room = room > c->res_pos ? room - c->res_pos : 0;
        u128 g = grant(need_pos - s->res_pos, s->res_pos, room >> split);
        s->res_pos += g;
        c->res_pos += g;
    }
    if (need_neg > s->res_neg) {
        u128 room = (u128)base > c->res_neg ? (u128)base - c->res_neg : 0;
        u128 g = grant(need_neg - s->res_neg, s->res_neg, room >> split);
        s->res_neg += g;
        c->res_neg += g;
    }
    publish(m, k, c);
    pel_spin_unlock(&k->lock);
}

/* shard_put - set entry ne (an addition) in worker w's shard. */
static int shard_put(mvmem *m, mv_key *k, pel_arena *arena, const mv_entry *ne, unsigned w)
{
    mv_ctr *c = get_ctr(m, k, arena, w);
    mv_shard *s = c ? get_shard(m, k, c, w, arena) : NULL;
    if (!s) return PEL_ENOMEM;
    pel_spin_lock(&s->lock);
    for (;;) {
        uint32_t p;
        int found = find(s->e, s->ne, ne->idx, &p);
        u128 pos = s->used_pos, neg = s->used_neg;
        if (found) *(s->e[p].acc < 0 ? &neg : &pos) -= magnitude(s->e[p].acc);
        *(ne->acc < 0 ? &neg : &pos) += magnitude(ne->acc);
        if (pos <= s->res_pos && neg <= s->res_neg) {
            if (!found && insert_at(&s->e, &s->ne, &s->cap, arena, p) != 0) {
                pel_spin_unlock(&s->lock);
                return PEL_ENOMEM;
            }
            s->e[p] = *ne;
            s->used_pos = pos;
            s->used_neg = neg;
            pel_spin_unlock(&s->lock);
            return 0;
        }
        /* reserve first, so the published bounds cover the entry before
         * anyone can see it; only w adds to s, so the need computed here
         * still covers it after (others can only remove) */
        pel_spin_unlock(&s->lock);
        reserve(m, k, c, s, pos, neg);
        pel_spin_lock(&s->lock);
    }
}

/* list_put - set entry ne (a value or deletion) in the key's list. */
static int list_put(const mvmem *m, mv_key *k, pel_arena *arena, const mv_entry *ne, pel_write *slot)
{
    pel_spin_lock(&k->lock);
    uint32_t before = k->ne;
    uint32_t p;
    if (!find(k->e, k->ne, ne->idx, &p) && insert_at(&k->e, &k->ne, &k->cap, arena, p) != 0) {
        pel_spin_unlock(&k->lock);
        return PEL_ENOMEM;
    }
    k->e[p] = *ne;
    if (p == k->ne - 1) k->last = slot;
    mv_ctr *c = atomic_load_explicit(&k->ctr, memory_order_relaxed);   /* lock held */
    if (c && before == 0) publish(m, k, c);   /* a value now: the fast path is off */
    pel_spin_unlock(&k->lock);
    return 0;
}

int mvmem_write(mvmem *m, mv_key *k, pel_arena *arena, uint32_t idx, uint32_t inc,
                const pel_txent *t, uint32_t wpos, pel_write *slot, unsigned w, int prev)
{
    mv_entry ne = { .idx = idx, .inc = inc, .wpos = wpos };
    if (t->state == PEL_TXE_DELTA) { ne.kind = MV_DELTA; ne.acc = t->acc; }
    else { ne.kind = t->present ? MV_VALUE : MV_DEL; ne.val = t->val; }
    int loc = mvmem_loc(t, w);
    int rc = loc == MVL_LIST ? list_put(m, k, arena, &ne, slot) : shard_put(m, k, arena, &ne, w);
    if (rc) return rc;
    int flags = 0;
    if (prev != MVL_NONE && prev != loc) {
        mvmem_remove(m, k, idx, prev);
        flags |= MVW_MOVED;
    }
    /* relaxed: only which writer reports the key is decided here */
    if (!atomic_load_explicit(&k->written, memory_order_relaxed) &&
        !atomic_exchange_explicit(&k->written, 1, memory_order_relaxed))
        flags |= MVW_FIRST;
    return flags;
}

void mvmem_remove(const mvmem *m, mv_key *k, uint32_t idx, int loc)
{
    uint32_t p;
    if (loc == MVL_LIST) {
        pel_spin_lock(&k->lock);
        if (find(k->e, k->ne, idx, &p)) {
            drop_at(k->e, &k->ne, p);
            if (p == k->ne) k->last = NULL;
            mv_ctr *c = atomic_load_explicit(&k->ctr, memory_order_relaxed);   /* lock held */
            if (c && k->ne == 0) publish(m, k, c);   /* no value left: the fast path is on */
        }
        pel_spin_unlock(&k->lock);
        return;
    }
    mv_shard *s = shard_at(k, loc);
    if (!s) return;
    pel_spin_lock(&s->lock);
    if (find(s->e, s->ne, idx, &p)) {
        *(s->e[p].acc < 0 ? &s->used_neg : &s->used_pos) -= magnitude(s->e[p].acc);
        drop_at(s->e, &s->ne, p);   /* the reservation stays: bounds only widen */
    }
    pel_spin_unlock(&s->lock);
}

void mvmem_mark_estimate(mv_key *k, uint32_t idx, int loc)
{
    mv_shard *s = loc == MVL_LIST ? NULL : shard_at(k, loc);
    if (loc != MVL_LIST && !s) return;
    pel_spin *lock = s ? &s->lock : &k->lock;
    pel_spin_lock(lock);
    mv_entry *e = s ? s->e : k->e;
    uint32_t p;
    if (find(e, s ? s->ne : k->ne, idx, &p)) e[p].est = 1;   /* the fast path's bounds do not change */
    pel_spin_unlock(lock);
}

const mv_entry *mvmem_last_below(const mv_key *k, uint32_t j)
{
    uint32_t p = below(k->e, k->ne, j);
    const mv_entry *best = p ? &k->e[p - 1] : NULL;
    const mv_ctr *c = ctr_of(k);
    for (unsigned w = 0; c && w < c->nshards; w++) {
        const mv_shard *s = shard_of(c, w);
        uint32_t q = s ? below(s->e, s->ne, j) : 0;
        if (q && (!best || s->e[q - 1].idx > best->idx)) best = &s->e[q - 1];
    }
    return best;
}

int mvmem_each_below(const mv_key *k, uint32_t j, mvmem_entry_fn fn, void *ctx)
{
    /* a merge of the list and the shards; cursor i < n_lists */
    enum { ON_STACK = 32 };
    struct cur { const mv_entry *e, *end; int loc; } stack[ON_STACK], *cur = stack;
    const mv_ctr *c = ctr_of(k);
    unsigned lists = 1 + (c ? c->nshards : 0), n = 0;
    if (lists > ON_STACK && !(cur = malloc(lists * sizeof(*cur)))) return PEL_ENOMEM;
    if (k->ne) cur[n++] = (struct cur){ k->e, k->e + below(k->e, k->ne, j), MVL_LIST };
    for (unsigned w = 0; c && w < c->nshards; w++) {
        const mv_shard *s = shard_of(c, w);
        if (s && s->ne) cur[n++] = (struct cur){ s->e, s->e + below(s->e, s->ne, j), MVL_SHARD(w) };
    }
    int rc = 0;
    if (n <= 1) {   /* one list holds them all (a one-thread block, a one-off counter) */
        for (const mv_entry *e = n ? cur[0].e : NULL; e && e < cur[0].end && !rc; e++) rc = fn(ctx, e, cur[0].loc);
        if (cur != stack) free(cur);
        return rc;
    }
    for (;;) {
        unsigned min = n;
        for (unsigned i = 0; i < n; i++)
            if (cur[i].e < cur[i].end && (min == n || cur[i].e->idx < cur[min].e->idx)) min = i;
        if (min == n || (rc = fn(ctx, cur[min].e++, cur[min].loc)) != 0) break;
    }
    if (cur != stack) free(cur);
    return rc;
}
