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
 * Thread safety: every function may be called concurrently; each key's list
 * is guarded by its own spin lock, the key table is lock-free (kmap.h).
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

/* What a key that holds additions (a counter) keeps besides its entries;
 * allocated at its first addition, so plain keys stay small. */
typedef struct mv_ctr {
    unsigned __int128 sum_pos, sum_neg;  /* over DELTA entries; guarded by the key's lock */
    /* The fast path's bounds, republished after every change under a
     * sequence lock so that bound checks never take the lock (or write the
     * key's cache lines): fast_ok = no VALUE/DEL entry and a counter base;
     * then every transaction sees a value in [fast_lo, fast_hi]. */
    _Atomic uint32_t fast_seq;
    _Atomic uint32_t fast_ok;
    _Atomic uint64_t fast_lo, fast_hi;
    mv_key *next;          /* list of counters (mvmem.deltas) */
} mv_ctr;

struct mv_key {
    pel_kmap_node node;    /* key; must be first */
    pel_spin lock;
    uint8_t written;       /* ever held an entry this block */
    uint8_t base_loaded;   /* base_present and base hold the pre-block state,
                              looked up at first need (under the lock) */
    uint8_t base_present;
    uint32_t ne;           /* guarded by lock, like everything below */
    /* the write-set slot of the last entry's writer, or NULL when unknown
     * (its entry was removed): spares materialisation a lookup */
    pel_write *last;
    mv_entry *e;           /* sorted by idx; inl or arena memory */
    uint32_t cap;
    uint32_t n_values;     /* entries of kind VALUE or DEL */
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

typedef struct mvmem {
    pel_kmap map;
    const pel_state *base;
    _Atomic(mv_key *) deltas;    /* keys that hold additions (via ctr->next), pushed by CAS */
} mvmem;

int mvmem_init(mvmem *m, const pel_state *base, size_t expected_keys) PEL_MUST_USE;
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

/* mvmem_last_below - the entry with the highest idx < j, or NULL. No lock:
 * only for the single-writer phases after execution. */
const mv_entry *mvmem_last_below(const mv_key *k, uint32_t j);

/* mvmem_write - set transaction idx's entry (incarnation inc) from the dirty
 * buffer entry at position wpos of its sorted write set, whose output slot
 * is `slot`; clears an ESTIMATE. A list that outgrows its array moves to
 * `arena` (the caller's, living as long as m).
 * @return 1 if this is the key's first entry in the block (the caller may
 * list the key then: each key is reported once), 0, or PEL_ENOMEM. */
int mvmem_write(mvmem *m, mv_key *k, pel_arena *arena, uint32_t idx, uint32_t inc,
                const pel_txent *e, uint32_t wpos, pel_write *slot) PEL_MUST_USE;
/* mvmem_remove - drop transaction idx's entry, if any. */
void mvmem_remove(const mvmem *m, mv_key *k, uint32_t idx);
/* mvmem_mark_estimate - mark transaction idx's entry ESTIMATE, if any. */
void mvmem_mark_estimate(mv_key *k, uint32_t idx);

#endif
