/*
 * engine_int.h - what the three engines share; private to src/exec/.
 *
 * The common path of one transaction is: pel_view_init, executor, then
 * pel_exec_finish, which applies the rules every engine must agree on (an
 * access violation still flagged at return discards the writes and forces
 * PEL_EACCESS) and returns the transaction's dirty entries sorted by key.
 */
#ifndef PEL_ENGINE_INT_H
#define PEL_ENGINE_INT_H

#include "exec/engine.h"
#include "exec/kmap.h"
#include "exec/pool.h"

#include <stdatomic.h>
#include <stdlib.h>

struct pel_engine {
    pel_engine_opts o;
    pel_pool *pool;
    pel_arena *scratch;   /* one per worker: per-block bookkeeping, reset (not
                             freed) between blocks so its memory stays warm */
    void *txbuf;          /* per-transaction engine state, reused across blocks */
    size_t txbuf_size;
    atomic_int busy;      /* 1 while a pel_engine_execute runs (engine.h: one at a time) */
};

/* pel_engine_txbuf - at least `size` bytes of 64-byte-aligned memory owned by
 * the engine and kept between blocks (contents undefined). NULL on PEL_ENOMEM. */
void *pel_engine_txbuf(pel_engine *e, size_t size);

/* pel_grow - make room for one more element in a malloc'd array of
 * `elem`-byte elements holding *n of *cap (doubling, first `first`).
 * Returns 0 or PEL_ENOMEM (the array is then unchanged). */
static inline int pel_grow(void **arr, uint32_t n, uint32_t *cap, size_t elem, uint32_t first)
{
    if (n < *cap) return 0;
    uint32_t c = *cap ? *cap * 2 : first;
    void *p = realloc(*arr, (size_t)c * elem);
    if (!p) return PEL_ENOMEM;
    *arr = p;
    *cap = c;
    return 0;
}

/* One execution's output: dirty entries sorted by key, and the receipt. */
typedef struct pel_txout {
    pel_txent *w;
    uint32_t nw;
    pel_receipt receipt;
} pel_txout;

/* pel_exec_run - run the executor for txs[i] on a prepared view and collect
 * its output: entries copied into `a`; the receipt's events stay where the
 * view wrote them, in the view's arena, which must live as long as the
 * result. Returns 0, PEL_EHALT when
 * the view was halted (output empty), or PEL_ENOMEM. */
int pel_exec_run(const pel_executor *ex, const pel_txdesc *tx, pel_view *v,
                 pel_arena *a, pel_txout *out);

/* pel_result_alloc - zero *r, allocate receipts and tx_writes for n txs. */
int pel_result_alloc(pel_block_result *r, uint32_t n);

/* pel_result_worker_arenas - give r one arena per worker for the values and
 * outputs workers write (r owns and frees them). 0 or PEL_ENOMEM. */
int pel_result_worker_arenas(pel_block_result *r, unsigned workers);

/* pel_writes_sort - sort by key; stable (equal keys keep their order). */
int pel_writes_sort(pel_write *w, uint32_t n);

/* pel_writes_sort_par - the same, the ranges sorted by the pool's workers;
 * *w may be replaced by a sorted copy allocated from `a`. */
int pel_writes_sort_par(pel_pool *pool, pel_arena *a, pel_write **w, uint32_t n);

/* pel_writes_dedup_last - after a stable sort, keep the last of each key.
 * Returns the new count. */
uint32_t pel_writes_dedup_last(pel_write *w, uint32_t n);

/* pel_u64_val - encode x as an 8-byte counter value in arena memory. */
int pel_u64_val(pel_arena *a, uint64_t x, pel_val *out);

/* pel_counter_add - apply an addition whose bound check already passed:
 * *val (absent = 0) becomes the 8-byte value + acc, allocated from a.
 * Returns 0 or PEL_ENOMEM. */
int pel_counter_add(pel_arena *a, pel_val *val, uint8_t *present, pel_i128 acc);

/* Engines. Each fills *out completely or returns an error with *out empty. */
int pel_seq_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                    uint32_t n, const pel_executor *ex, pel_block_result *out);
int pel_bstm_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                     uint32_t n, const pel_executor *ex, pel_block_result *out);
int pel_decl_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                     uint32_t n, const pel_executor *ex, pel_block_result *out);

/* ---- the sequential core, also used by Block-STM's fallback ---- */

typedef struct pel_seq {
    const pel_state *base;
    const pel_txdesc *txs;
    const pel_executor *ex;
    pel_block_result *r;       /* receipts/tx_writes filled for [from, to) */
    pel_arena *arena;          /* values and nodes (the result's arena) */
    pel_kmap map;              /* overlay: every key read or written */
    uint32_t nwritten;         /* overlay nodes written by the block */
} pel_seq;

int pel_seq_init(pel_seq *s, const pel_state *base, const pel_txdesc *txs,
                 const pel_executor *ex, pel_block_result *r, size_t expected_keys);
int pel_seq_run(pel_seq *s, uint32_t from, uint32_t to);
/* pel_seq_writes - append the overlay's written keys (final values) to w,
 * which must have room for s->nwritten entries; returns how many. */
uint32_t pel_seq_writes(pel_seq *s, pel_write *w);
void pel_seq_free(pel_seq *s);

#endif
