/*
 * mvmem.h - Block-STM multi-version memory.
 *
 * For every key touched in the block, the entries written by the block's
 * transactions, sorted by transaction index: a value, a deletion, or an
 * addition (delta), each tagged with the incarnation that wrote it, and
 * possibly marked ESTIMATE (its writer was aborted and will likely write
 * again). Reading key k as transaction j looks at the entry of the highest
 * index below j; additions are folded down to the nearest value or to the
 * pre-block state.
 *
 * Where entries live: values and deletions in the key's own list; additions
 * in one shard per worker (the worker that recorded the incarnation), so
 * that a hot counter every transaction adds to (a fee pool) is written by
 * each worker in its own memory, under its own lock, instead of by all of
 * them under one (bench/RESULTS.md, eleventh session). A transaction's
 * entry for a key is therefore at one "location": MVL_LIST or
 * MVL_SHARD(worker); callers name it when they change or drop an entry
 * (Block-STM knows which worker recorded each incarnation).
 *
 * Thread safety: every function may be called concurrently, except the
 * ones marked "after execution"; each key's list and each shard is guarded
 * by its own spin lock (never two held at once), the key table is
 * lock-free (kmap.h). A read that spans the list and the shards is not one
 * atomic snapshot: see mvmem.c for why Block-STM stays exact.
 */
#ifndef PEL_MVMEM_H
#define PEL_MVMEM_H

#include "exec/kmap.h"
#include "exec/spin.h"
#include "exec/state.h"
#include "exec/view.h"

enum { MV_VALUE = 1, MV_DEL = 2, MV_DELTA = 3 };

/* 32 bytes: a hot counter holds one per transaction of the block. */
typedef struct mv_entry {
    uint32_t idx, inc;
    uint8_t kind;          /* MV_VALUE / MV_DEL / MV_DELTA */
    uint8_t est;           /* ESTIMATE marker */
    uint32_t wpos;         /* the key's position in its writer's sorted write set */
    union {
        pel_val val;       /* MV_VALUE */
        pel_i128 acc;      /* MV_DELTA */
    };
} mv_entry;
_Static_assert(sizeof(mv_entry) == 32, "mv_entry stays 32 bytes");

typedef struct mv_key mv_key;

/* One worker's additions to a key, sorted by idx, in its owner's arena
 * (next to the owner's other shards: only the owner writes them, other
 * workers only when an entry moves away or is marked). used_* are the
 * magnitudes of its entries (ESTIMATE or not), res_* its share of the
 * key's reservation; used <= res at all times. Guarded by lock, except
 * res_*, which only the owner changes, with the key's lock held. 128
 * bytes with room for one entry: most counters get one addition a block
 * (a new object's counts). */
typedef struct mv_shard {
    unsigned __int128 used_pos, used_neg;
    unsigned __int128 res_pos, res_neg;
    mv_entry *e;           /* inl or arena memory */
    uint32_t ne, cap;
    pel_spin lock;
    mv_entry inl[1];
} mv_shard;
_Static_assert(sizeof(mv_shard) == 128, "mv_shard stays 128 bytes");

/* What a key that holds additions (a counter) keeps besides its entries;
 * allocated at its first addition, so plain keys stay small. */
typedef struct mv_ctr {
    /* the sums of the shards' reservations (key's lock): every value any
     * transaction can see, with no VALUE/DEL entry, lies in
     * [base - res_neg, base + res_pos] */
    unsigned __int128 res_pos, res_neg;
    /* The fast path's bounds, republished when the reservation grows or
     * values come and go, under a sequence lock, so that bound checks never
     * take a lock (or write a line that writers write): fast_ok = no
     * VALUE/DEL entry and a counter base; then every transaction sees a
     * value in [fast_lo, fast_hi]. */
    _Atomic uint32_t fast_seq;
    _Atomic uint32_t fast_ok;
    _Atomic uint64_t fast_lo, fast_hi;
    unsigned nshards;      /* = mvmem.nshards */
    unsigned owner;        /* the worker that made this record */
    _Atomic uint8_t shared;    /* another worker made a shard: listed in its
                                  shared list (mvmem_shared_counters) */
    unsigned spread;       /* log2 of nshards, rounded up */
    _Atomic(mv_shard *) sh[];   /* each created by its owner, at its first addition */
} mv_ctr;

struct mv_key {
    pel_kmap_node node;    /* key; must be first */
    pel_spin lock;
    _Atomic uint8_t written;   /* ever held an entry this block */
    uint8_t base_loaded;   /* base_present and base hold the pre-block state,
                              looked up at first need (under the lock) */
    uint8_t base_present;
    uint32_t ne;           /* guarded by lock, like everything below */
    /* the write-set slot of the list's last entry's writer, or NULL when
     * unknown (its entry was removed): spares materialisation a lookup;
     * only the last entry overall when the key holds no addition */
    pel_write *last;
    /* keys with additions: the slot holding the key's value after the
     * block's committed prefix, set by Block-STM's materialisation when it
     * walks the key's entries (after execution) */
    pel_write *final;
    mv_entry *e;           /* VALUE/DEL entries, sorted by idx; inl or arena memory */
    uint32_t cap;
    pel_val base;
    /* set once, under the lock, at the first DELTA entry (release: the
     * lock-free bound check loads it with acquire), then immutable */
    _Atomic(mv_ctr *) ctr;
    mv_entry inl[1];       /* most keys are written by one transaction */
};

/* Result of a read at index j. */
enum { MVR_STORAGE = 1, MVR_VERSION, MVR_RESOLVED, MVR_DEPEND, MVR_BAD };
typedef struct mv_read {
    int kind;
    uint32_t idx, inc;     /* VERSION: writer; DEPEND: the blocking transaction */
    uint8_t present;       /* STORAGE/VERSION: key has a value */
    pel_val val;           /* STORAGE/VERSION */
    uint64_t value;        /* RESOLVED: counter value after folding additions */
} mv_read;

/* The keys whose counter record one worker made (its first addition to
 * them), in a cache line of its own: written by that worker only. */
typedef struct mv_klist {
    mv_key **k;
    uint32_t n, cap;
} __attribute__((aligned(64))) mv_klist;

typedef struct mvmem {
    pel_kmap map;
    const pel_state *base;
    unsigned nshards;            /* workers: additions go to shard `worker` */
    /* per worker: the keys that hold additions, each listed once (by the
     * worker that made its counter record). One list per worker, not one
     * shared list: a block of new objects makes tens of thousands of
     * counters, and materialisation reads the lists as arrays.
     * counters[nshards + w]: the counters worker w made a shard of after
     * another worker made the record, each listed once (by the first such
     * worker): the keys more than one worker added to */
    mv_klist *counters;
} mvmem;

/* An entry's location: the key's list, or worker w's shard. */
enum { MVL_NONE = -1, MVL_LIST = 0 };
#define MVL_SHARD(w) (1 + (int)(w))
/* mvmem_loc - where a write-set entry of worker w goes. */
static inline int mvmem_loc(const pel_txent *e, unsigned w)
{
    return e->state == PEL_TXE_DELTA ? MVL_SHARD(w) : MVL_LIST;
}

int mvmem_init(mvmem *m, const pel_state *base, size_t expected_keys, unsigned workers) PEL_MUST_USE;
/* mvmem_free - free the table. Keys and their entry arrays live in the
 * callers' arenas. */
void mvmem_free(mvmem *m);

/* mvmem_key - the key's record, created from arena memory if new (its
 * pre-block value is looked up when first needed). NULL on PEL_ENOMEM. */
mv_key *mvmem_key(mvmem *m, const pel_key *key, pel_arena *arena);
mv_key *mvmem_find(mvmem *m, const pel_key *key);

/* mvmem_read - what transaction j sees of k (before its own writes). */
void mvmem_read(const mvmem *m, mv_key *k, uint32_t j, mv_read *out);

/* mvmem_base - k's pre-block value (*out); returns 1 if present, else 0. */
int mvmem_base(const mvmem *m, mv_key *k, pel_val *out);

/* mvmem_delta_outcome - would base(k at j) + offset be within [0, bound]?
 * Returns 0, PEL_EBOUND, PEL_ETYPE, or PEL_EHALT with *blocking set when an
 * ESTIMATE decides it. */
int mvmem_delta_outcome(const mvmem *m, mv_key *k, uint32_t j, pel_i128 offset, uint64_t bound,
                        uint32_t *blocking);

/* mvmem_counters - the keys worker w made counters of (*n of them): with
 * every worker's list, each key that held an addition this block once.
 * After execution only. */
static inline mv_key *const *mvmem_counters(const mvmem *m, unsigned w, uint32_t *n)
{
    *n = m->counters[w].n;
    return m->counters[w].k;
}

/* mvmem_shared_counters - the counters worker w was the first to add to
 * after another worker made them (*n of them): with every worker's list,
 * each key more than one worker added to, once. After execution only. */
static inline mv_key *const *mvmem_shared_counters(const mvmem *m, unsigned w, uint32_t *n)
{
    *n = m->counters[m->nshards + w].n;
    return m->counters[m->nshards + w].k;
}

/* mvmem_is_shared - is k in a shared list (k holds additions)? After
 * execution only. */
static inline int mvmem_is_shared(const mv_key *k)
{
    const mv_ctr *c = atomic_load_explicit(&((mv_key *)k)->ctr, memory_order_relaxed);
    return atomic_load_explicit(&((mv_ctr *)c)->shared, memory_order_relaxed) != 0;
}

/* mvmem_has_additions - has k held an addition this block (it has a
 * counter record)? After execution only. */
static inline int mvmem_has_additions(const mv_key *k)
{
    return atomic_load_explicit(&((mv_key *)k)->ctr, memory_order_relaxed) != NULL;
}

/* mvmem_last_below - the entry with the highest idx < j, or NULL. After
 * execution only. */
const mv_entry *mvmem_last_below(const mv_key *k, uint32_t j);

/* mvmem_each_below - call fn on every entry with idx < j in idx order (the
 * list and the shards merged), with the entry's location (MVL_LIST or
 * MVL_SHARD(w)), until fn returns non-zero (that is returned; PEL_ENOMEM
 * if the merge cannot get its cursors). After execution only. */
typedef int (*mvmem_entry_fn)(void *ctx, const mv_entry *e, int loc);
int mvmem_each_below(const mv_key *k, uint32_t j, mvmem_entry_fn fn, void *ctx);


/* mvmem_write - set transaction idx's entry (incarnation inc) from the dirty
 * buffer entry at position wpos of its sorted write set, whose output slot
 * is `slot`, written by worker w; `prev` is where its previous
 * incarnation's entry for k is (MVL_NONE if it wrote none). Clears an
 * ESTIMATE. A list that outgrows its array moves to `arena` (the worker's,
 * living as long as m).
 * @return MVW_FIRST if this is the key's first entry in the block (the
 * caller may list the key then: each key is reported once), MVW_MOVED if
 * the entry changed location (readers may have seen neither copy: the
 * caller must validate later transactions again), both, 0, or
 * PEL_ENOMEM. */
enum { MVW_FIRST = 1, MVW_MOVED = 2 };
int mvmem_write(mvmem *m, mv_key *k, pel_arena *arena, uint32_t idx, uint32_t inc,
                const pel_txent *e, uint32_t wpos, pel_write *slot, unsigned w, int prev) PEL_MUST_USE;
/* mvmem_remove - drop transaction idx's entry at location loc, if any. */
void mvmem_remove(const mvmem *m, mv_key *k, uint32_t idx, int loc);
/* mvmem_mark_estimate - mark transaction idx's entry at loc ESTIMATE, if any. */
void mvmem_mark_estimate(mv_key *k, uint32_t idx, int loc);

#endif
