/*
 * engine.h - executing a block: one interface, three engines.
 *
 * A block is an ordered list of transactions; its result is DEFINED as
 * executing them one by one in order (the sequential engine). Block-STM
 * (optimistic, multi-version memory) and the declared-access engine (waves
 * planned from access lists) must produce the same result byte for byte, at
 * every thread count: the same receipts, the same per-transaction write sets,
 * the same block write set and so the same digest.
 *
 * Transactions are opaque to the engine: it calls the executor for each one
 * with a pel_view (view.h) and gets back a status in the receipt. The ledger
 * (signed transactions) and the synthetic test workload (synth.h) are both
 * executors.
 *
 * Usage:
 *   pel_engine *e;
 *   pel_engine_opts o = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 2);
 *   if (pel_engine_new(&o, &e)) ...;
 *   pel_block_result r;
 *   if (pel_engine_execute(e, &state, txs, n, &executor, &r) == 0) {
 *       ... r.receipts[i], r.tx_writes[i], r.block_writes, r.digest ...
 *       pel_block_result_free(&r);
 *   }
 *   pel_engine_free(e);
 */
#ifndef PEL_ENGINE_H
#define PEL_ENGINE_H

#include <stdint.h>
#include "core/arena.h"
#include "core/err.h"
#include "exec/state.h"
#include "exec/view.h"

typedef enum pel_engine_kind {
    PEL_ENGINE_SEQUENTIAL = 0,
    PEL_ENGINE_BLOCKSTM = 1,
    PEL_ENGINE_DECLARED = 2,
} pel_engine_kind;

/* pel_engine_kind_parse / _name - "sequential", "blockstm", "declared". */
int pel_engine_kind_parse(const char *s, pel_engine_kind *out) PEL_MUST_USE;
const char *pel_engine_kind_name(pel_engine_kind k);

/* One transaction as the engine sees it. */
typedef struct pel_txdesc {
    const void *tx;            /* executor's transaction, opaque here */
    const pel_access *access;  /* declared access list, or NULL */
} pel_txdesc;

/* The receipt of one transaction. */
typedef struct pel_receipt {
    int32_t status;            /* 0 = success, else a PEL_E* code */
    uint64_t gas_used;
    const uint8_t *events;     /* (u32 len ‖ bytes)*, as pel_view_emit wrote */
    uint32_t events_len;
} pel_receipt;

/*
 * exec - run one transaction against `view`; return its status (0 or a
 * PEL_E* code), which becomes the receipt's status. Must be deterministic:
 * a function of the transaction and what the view returns, nothing else.
 * It must not crash on any value it reads (speculative executions see
 * inconsistent states) and must return promptly after PEL_EHALT. To fail
 * but still charge gas it calls pel_view_rollback() and then writes the
 * charge. Called concurrently from several threads (with distinct views).
 */
typedef struct pel_executor {
    int (*exec)(void *ctx, const void *tx, pel_view *view);
    void *ctx;
} pel_executor;

enum { PEL_PH_SETUP, PEL_PH_EXECUTE, PEL_PH_MATERIALISE, PEL_PH_TAIL, PEL_PH_WRITE_SET, PEL_PHASES };

typedef struct pel_exec_stats {
    uint64_t executions;    /* incarnations run (Block-STM), or txs executed */
    uint64_t aborts;        /* failed validations (Block-STM) */
    uint64_t dependencies;  /* suspensions on an ESTIMATE (Block-STM) */
    uint64_t waves;         /* waves (declared) */
    uint64_t reexecutions;  /* declared: transactions re-run by the fallback */
    uint32_t fallback_from; /* index where the sequential fallback began, or n
                               (declared: 0 when the block was re-run sequentially) */
    /* Block-STM: wall time of each phase in microseconds (the others leave
     * them 0): result and per-transaction state set up, parallel execution,
     * materialisation (receipts, write sets, counter values), the
     * sequential tail after an abort-storm fallback (0 without one), the
     * block write set */
    uint64_t phase_us[PEL_PHASES];
} pel_exec_stats;

/* The result of a block. Everything is owned by `arena`. */
typedef struct pel_block_result {
    uint32_t n;
    pel_receipt *receipts;      /* [n] */
    pel_writeset *tx_writes;    /* [n], each sorted by key */
    pel_writeset block_writes;  /* last write per key, sorted by key */
    uint8_t digest[32];         /* set by pel_block_result_digest */
    pel_exec_stats stats;       /* how it ran: NOT part of the result */
    pel_arena arena;
    pel_arena *more_arenas;     /* worker arenas handed over by an engine */
    unsigned n_more_arenas;
} pel_block_result;

void pel_block_result_free(pel_block_result *r);

/* pel_block_result_digest - set r->digest to BLAKE2b-256 "PEL/exec-result"
 * over the canonical encoding of n, then per transaction: status (u32),
 * gas (u64), events (u32 len ‖ bytes), writes (u32 count, then key ‖ kind u8
 * ‖ u32 len ‖ value). The block write set follows from the tx write sets.
 * @return 0 or an error from the hash. */
int pel_block_result_digest(pel_block_result *r) PEL_MUST_USE;

typedef struct pel_engine_opts {
    pel_engine_kind kind;
    unsigned threads;          /* worker threads including the caller, >= 1 */
    /* Block-STM abort-storm fallback: once failed validations plus
     * dependency suspensions reach `storm_min` and exceed executions /
     * storm_ratio, finish the block sequentially from the longest valid
     * prefix. storm_ratio 0 disables it (tests only: without it a
     * pathological block can take quadratic time and memory).
     * Defaults: 32 and 3. */
    unsigned storm_min, storm_ratio;
    /* Declared engine: waves smaller than this run on the calling thread. */
    unsigned wave_min_parallel;
} pel_engine_opts;

pel_engine_opts pel_engine_defaults(pel_engine_kind kind, unsigned threads);

typedef struct pel_engine pel_engine;

/* pel_engine_new - create an engine (and its worker threads).
 * @return 0, PEL_EINVAL (bad options), PEL_ENOMEM. */
int pel_engine_new(const pel_engine_opts *opts, pel_engine **out) PEL_MUST_USE;
void pel_engine_free(pel_engine *e);

/*
 * pel_engine_execute - execute txs[0..n) against `base`.
 * @param base  the pre-block state; must not change during the call.
 * @param out   filled on success; free with pel_block_result_free.
 * @return 0, PEL_ENOMEM (then *out is empty), or PEL_EBUSY: another
 *         pel_engine_execute on this engine is still running (nothing was
 *         done, *out is empty). One block at a time per engine (not
 *         reentrant: callers serialise); distinct engines are independent.
 */
int pel_engine_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                       uint32_t n, const pel_executor *ex, pel_block_result *out) PEL_MUST_USE;

#endif
