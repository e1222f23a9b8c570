/*
 * view.h - pel_view: the only door between a transaction and the state.
 *
 * A transaction executes against a view with get/put/del/delta_add/emit and
 * nothing else (no clock, no randomness, no iteration). The view keeps the
 * transaction's own writes in a private buffer, so a transaction reads its
 * own writes and pel_view_rollback() can discard them; what it reads from
 * the state before it is resolved by the engine (through pel_view_ops), which
 * is how one transaction body runs unchanged under every engine.
 *
 * Semantics (identical in every engine; the sequential engine defines them):
 *   get(k)      value of k after all earlier transactions and this one's
 *               own writes so far; PEL_ENOTFOUND if absent.
 *   put(k,v)    set k (value copied); del(k) remove k.
 *   delta_add(k, amount, bound)
 *               k is a counter: absent = 0, else exactly 8 bytes little-
 *               endian u64 (PEL_ETYPE otherwise). If 0 <= value + amount <=
 *               bound the counter becomes that, else PEL_EBOUND and nothing
 *               changes. Additions by different transactions commute in the
 *               parallel engines: they conflict only through their bounds.
 *   emit(data)  append an event to the receipt.
 *   rollback()  discard every write and event so far (reads stay: the
 *               transaction's behaviour depended on them). Used to charge
 *               gas for a failed transaction after discarding its effects.
 * Gas: every operation adds its cost from the table below to the view's gas
 * counter, which rollback does not reset.
 *
 * Declared access: if the transaction carries a pel_access list, every
 * operation is checked against it: get needs read/write declaration, put/del
 * need write, delta_add needs write or delta. A violation returns
 * PEL_EACCESS and sets a sticky flag that only rollback clears; if the
 * transaction still has the flag when it returns, the engine discards its
 * writes and forces status PEL_EACCESS.
 *
 * Speculation: a parallel engine may halt an execution (PEL_EHALT from any
 * call, then from every call). The transaction should return promptly; its
 * output is discarded and it is executed again. Nothing it did is visible.
 *
 * Thread safety: a view belongs to one executing transaction on one thread.
 */
#ifndef PEL_VIEW_H
#define PEL_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/err.h"
#include "exec/key.h"

typedef __int128 pel_i128;

/* Gas costs of view operations (a table, not code, so the ledger can tune). */
enum {
    PEL_GAS_GET = 10,
    PEL_GAS_PUT = 20,
    PEL_GAS_DELTA = 8,
    PEL_GAS_EVENT = 5,
    PEL_GAS_PER_BYTE = 1,
};

/* Declared access list: three sorted, duplicate-free key arrays. */
typedef struct pel_access {
    const pel_key *reads;  uint32_t n_reads;
    const pel_key *writes; uint32_t n_writes;
    const pel_key *deltas; uint32_t n_deltas;
} pel_access;

typedef struct pel_view pel_view;

/* Engine hooks that resolve the state before this transaction. `ref` is the
 * engine's handle for the key in this execution: NULL the first time the
 * view asks about a key, then whatever the engine stored there (the view
 * keeps it in the key's buffer entry), so an engine can skip looking the key
 * up again. */
typedef struct pel_view_ops {
    /* read: value of `key` as left by earlier transactions (0 or
     * PEL_ENOTFOUND), or PEL_EHALT after calling pel_view_halt(). The bytes
     * must stay valid until the block's execution ends. */
    int (*read)(pel_view *v, const pel_key *key, void **ref, pel_val *out);
    /* delta_check: with base = the counter's value as left by earlier
     * transactions, is 0 <= base + offset <= bound? Returns 0 (yes),
     * PEL_EBOUND (no), PEL_ETYPE (not a counter), or PEL_EHALT. */
    int (*delta_check)(pel_view *v, const pel_key *key, void **ref, pel_i128 offset, uint64_t bound);
} pel_view_ops;

/* One key in the transaction's private buffer. */
enum { PEL_TXE_KNOWN = 1, PEL_TXE_DELTA = 2 };
typedef struct pel_txent {
    pel_key key;
    uint8_t state;     /* KNOWN: value known (read or written); DELTA: only added to */
    uint8_t present;   /* KNOWN: 1 = has a value, 0 = absent */
    uint8_t dirty;     /* written (put/del/successful delta) by this transaction */
    pel_val val;       /* KNOWN && present */
    void *ref;         /* the engine's handle for the key (pel_view_ops), or NULL */
    pel_i128 acc;      /* DELTA: sum of successful additions */
} pel_txent;

#define PEL_VIEW_INLINE_ENTS 6

struct pel_view {
    const pel_view_ops *ops;
    void *eng;                 /* engine context for ops */
    uint32_t txn_idx;          /* index of the transaction in its block */
    const pel_access *access;  /* NULL: undeclared, anything allowed */
    pel_arena *arena;          /* written values and events: must outlive the block result */
    pel_txent *ents;           /* private buffer, ents[0..n) */
    uint32_t n, cap;
    uint8_t *events;           /* encoded events: u32 len ‖ bytes, repeated */
    uint32_t events_len, events_cap;
    uint64_t gas;
    int halted;                /* set by pel_view_halt */
    int violation;             /* sticky PEL_EACCESS flag */
    pel_txent inline_ents[PEL_VIEW_INLINE_ENTS];   /* most transactions fit here */
};

/* pel_view_init - a fresh view for one execution; buffers from `arena`. */
void pel_view_init(pel_view *v, const pel_view_ops *ops, void *eng, uint32_t txn_idx,
                   const pel_access *access, pel_arena *arena);

int pel_view_get(pel_view *v, const pel_key *key, pel_val *out) PEL_MUST_USE;
int pel_view_put(pel_view *v, const pel_key *key, const void *val, size_t len) PEL_MUST_USE;
int pel_view_del(pel_view *v, const pel_key *key) PEL_MUST_USE;
int pel_view_delta_add(pel_view *v, const pel_key *key, int64_t amount, uint64_t bound) PEL_MUST_USE;
int pel_view_emit(pel_view *v, const void *data, size_t len) PEL_MUST_USE;
void pel_view_rollback(pel_view *v);

/* pel_view_gas / pel_view_set_gas - the gas counter. The receipt's gas_used
 * is the counter's value when the executor returns, so an executor with its
 * own gas rules (the ledger adds intrinsic costs and caps at the limit) sets
 * its final figure here just before returning. */
static inline uint64_t pel_view_gas(const pel_view *v) { return v->gas; }
static inline void pel_view_set_gas(pel_view *v, uint64_t gas) { v->gas = gas; }

/* Helpers for u64 values (8 bytes little-endian, absent = 0). A value of
 * another length gives PEL_ETYPE. */
int pel_view_get_u64(pel_view *v, const pel_key *key, uint64_t *out) PEL_MUST_USE;
int pel_view_put_u64(pel_view *v, const pel_key *key, uint64_t val) PEL_MUST_USE;

/* ---- for engines ---- */

/* pel_view_halt - stop this execution (every later call returns PEL_EHALT). */
static inline int pel_view_halt(pel_view *v) { v->halted = 1; return PEL_EHALT; }

/* pel_val_u64 - decode a counter value; absent (NULL p) is 0. */
int pel_val_u64(const pel_val *val, int present, uint64_t *out) PEL_MUST_USE;

/* pel_counter_check - the bound rule on a stored value: PEL_ETYPE if it is
 * not a counter (absent counts as 0), else pel_view_counter_ok. */
int pel_counter_check(const pel_val *val, int present, pel_i128 offset, uint64_t bound) PEL_MUST_USE;

/* pel_view_counter_ok - the delta semantics in one place: is base+offset in
 * [0, bound]? Returns 0 or PEL_EBOUND. */
static inline int pel_view_counter_ok(pel_i128 base, pel_i128 offset, uint64_t bound)
{
    pel_i128 r = base + offset;
    return (r >= 0 && r <= (pel_i128)bound) ? 0 : PEL_EBOUND;
}

#endif
