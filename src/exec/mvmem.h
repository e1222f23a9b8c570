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

typedef struct mv_entry {
    uint32_t idx, inc;
    uint8_t kind;          /* MV_VALUE / MV_DEL / MV_DELTA */
    uint8_t est;           /* ESTIMATE marker */
    pel_val val;           /* MV_VALUE */
    pel_i128 acc;          /* MV_DELTA */
    struct pel_write *slot;   /* materialisation: the writer's write-set slot */
} mv_entry;

typedef struct mv_key mv_key;
struct mv_key {
    pel_kmap_node node;    /* key; must be first */
    pel_spin lock;
    mv_entry *e;           /* sorted by idx; guarded by lock; inl or malloc'd */
    uint32_t ne, cap;
    uint32_t n_values;     /* entries of kind VALUE or DEL */
    uint8_t has_delta;     /* ever held a DELTA entry this block */
    unsigned __int128 sum_pos, sum_neg;  /* over DELTA entries: bounds for the fast path */
    /* The fast path's bounds, republished after every change under a
     * sequence lock so that bound checks never take the lock (or write the
     * cache line): fast_ok = no VALUE/DEL entry and a counter base;
     * then every transaction sees a value in [fast_lo, fast_hi]. */
    _Atomic uint32_t fast_seq;
    _Atomic uint32_t fast_ok;
    _Atomic uint64_t fast_lo, fast_hi;
    uint8_t base_present;  /* pre-block state, loaded once at creation */
    pel_val base;
    /* materialisation scratch (single-threaded, after execution) */
    uint8_t touched, cur_present;
    pel_val cur;
    mv_key *spill_next;    /* list of keys whose entries moved to malloc */
    mv_entry inl[2];       /* most keys are written by one or two transactions */
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
    _Atomic(mv_key *) spilled;   /* keys to free() entries of, pushed by CAS */
} mvmem;

int mvmem_init(mvmem *m, const pel_state *base, size_t expected_keys) PEL_MUST_USE;
/* mvmem_free - free every key's entry array and the table. Keys themselves
 * live in the callers' arenas. */
void mvmem_free(mvmem *m);

/* mvmem_key - the key's record, created (with its pre-block value) from
 * arena memory if new. NULL on PEL_ENOMEM. */
mv_key *mvmem_key(mvmem *m, const pel_key *key, pel_arena *arena);
mv_key *mvmem_find(mvmem *m, const pel_key *key);

/* mvmem_read - what transaction j sees of k (before its own writes). */
void mvmem_read(mv_key *k, uint32_t j, mv_read *out);

/* mvmem_delta_outcome - would base(k at j) + offset be within [0, bound]?
 * Returns 0, PEL_EBOUND, PEL_ETYPE, or PEL_EHALT with *blocking set when an
 * ESTIMATE decides it. */
int mvmem_delta_outcome(mv_key *k, uint32_t j, pel_i128 offset, uint64_t bound,
                        uint32_t *blocking);

/* mvmem_count_below - number of entries with idx < j. No lock: only for
 * the single-writer phases after execution. */
uint32_t mvmem_count_below(const mv_key *k, uint32_t j);

/* mvmem_entry - transaction idx's entry of k, or NULL. No lock: only for
 * the single-writer phases after execution. */
mv_entry *mvmem_entry(mv_key *k, uint32_t idx);

/* mvmem_write - set transaction idx's entry (incarnation inc) from a dirty
 * buffer entry; clears an ESTIMATE. @return 0 or PEL_ENOMEM. */
int mvmem_write(mvmem *m, mv_key *k, uint32_t idx, uint32_t inc, const pel_txent *e) PEL_MUST_USE;
/* mvmem_remove - drop transaction idx's entry, if any. */
void mvmem_remove(mv_key *k, uint32_t idx);
/* mvmem_mark_estimate - mark transaction idx's entry ESTIMATE, if any. */
void mvmem_mark_estimate(mv_key *k, uint32_t idx);

#endif
