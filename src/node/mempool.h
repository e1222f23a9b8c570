/*
 * mempool.h - pending signed transactions between admission and a block.
 *
 * Admission (pel_mempool_submit) takes a batch of raw signed encodings,
 * runs the stateless checks and the signature check outside any lock (in
 * parallel on the mempool's worker pool for large batches), then admits
 * each transaction under the mempool lock against the sender's committed
 * account state and what is already pending. Every refusal has a code and
 * a static reason.
 *
 * Ordering: within a sender, nonce order; a transaction is ready when every
 * lower nonce of its sender down to the committed nonce is in a block
 * already (taken earlier). Across senders the higher gas price goes first,
 * ties to the earlier arrival. pel_mempool_take hands out ready
 * transactions in that order; pel_mempool_done forgets them once their
 * block is committed (or returns them if it was not).
 *
 * Bounds: max_txs transactions and max_bytes bytes (raw encodings plus a
 * fixed per-entry overhead), max_per_sender per sender. When full, a new
 * transaction that does not itself wait on a nonce gap (its nonce is the
 * sender's committed nonce or follows the sender's pending run from it)
 * first evicts transactions that do, whatever they pay: a sender's highest
 * pending nonce when it lies above a gap, the cheapest first (ties: the
 * most recent arrival). Without that, transactions that cannot be taken
 * could fill the pool and keep out every transaction that can at the same
 * price: for free, since they never execute and so never pay a fee (a few
 * funded accounts, max_per_sender nonces ahead each), or by accident
 * (clients submitting from several connections, successors arriving
 * before their predecessors). Otherwise a new
 * transaction evicts the cheapest pending one if it pays strictly more. The
 * candidates for eviction are, for each sender, its highest-nonce pending
 * transaction (so an eviction never leaves a nonce gap below another
 * pending transaction); the cheapest candidate goes first (ties: the most
 * recent arrival).
 *
 * Fate of a transaction by id: pending (here, including taken into a block
 * not yet done), rejected with a reason (the last reject_memory refusals,
 * evictions, expiries and stale drops), or unknown. Committed transactions
 * are forgotten: the store answers for them.
 *
 * Complexity: submit, take (per transaction), done (per transaction) and
 * lookup are O(log n) expected: hash tables for ids and senders, a treap
 * per sender ordered by nonce, a max-heap of senders by the price of their
 * next ready transaction and min-heaps of senders by the price of their
 * eviction candidate and of their highest nonce above a gap. Nothing scans the pool.
 *
 * Thread safety: every function may be called from any thread at the same
 * time, except pel_mempool_free. One mutex guards the pool; signature
 * checks and account reads (the `acc` callback) happen outside it. Calls to
 * pel_mempool_done are serialised internally. The usual shape is many RPC
 * threads submitting and one block producer calling take and done.
 *
 * Usage:
 *   pel_mempool *mp;
 *   pel_mempool_opts o = pel_mempool_defaults();
 *   if (pel_mempool_new(&o, &params, acc, &mp)) ...;
 *   pel_mempool_result r[n];
 *   if (pel_mempool_submit(mp, raws, lens, n, r)) ...;   // r[i].code per tx
 *   const pel_tx *txs[10000];
 *   size_t k = pel_mempool_take(mp, 10000, txs);
 *   ... execute, commit ...
 *   pel_mempool_done(mp, txs, k, 1);
 *   pel_mempool_free(mp);
 */
#ifndef PEL_MEMPOOL_H
#define PEL_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ledger/ledger.h"
#include "ledger/tx.h"

typedef struct pel_mempool pel_mempool;

typedef struct pel_mempool_opts {
    uint32_t max_txs;        /* pending transactions at most (default 200000) */
    uint64_t max_bytes;      /* raw encodings + per-entry overhead (default 256 MiB) */
    uint32_t max_per_sender; /* pending per sender (default 8192); also the window:
                                nonces above committed + max_per_sender get
                                PEL_EFUTURE */
    unsigned verify_threads; /* signature workers, the caller included
                                (default: pel_cpu_count(); 1 = the calling thread) */
    uint32_t reject_memory;  /* recent refusals remembered for lookup (default
                                100000; 0 = none) */
} pel_mempool_opts;

/* pel_mempool_defaults - the defaults above. */
pel_mempool_opts pel_mempool_defaults(void);

/*
 * The committed state of an account, which the node implements over the
 * store. get() is called from submitting threads, the mempool's worker
 * threads and the thread calling pel_mempool_done, concurrently, never
 * under the mempool lock, so it must be thread-safe; it must not call back
 * into the mempool. An absent account is nonce 0, balance 0 (return 0).
 * A non-zero return refuses the transaction with that code.
 */
typedef struct pel_mempool_accounts {
    int (*get)(void *ctx, const pel_addr *a, uint64_t *nonce, uint64_t *balance);
    void *ctx;
} pel_mempool_accounts;

/*
 * pel_mempool_new - an empty mempool.
 * @param[in] o       options (NULL = defaults); zero max_txs, max_bytes or
 *                    max_per_sender are PEL_EINVAL; verify_threads 0 means
 *                    the default
 * @param[in] params  chain parameters; must outlive the mempool
 * @param[in] acc     committed account state (see above)
 * @param[out] out    the mempool, or NULL on failure
 * @return 0, PEL_EINVAL, PEL_ENOMEM, PEL_ECRYPTO (libsodium init).
 */
int pel_mempool_new(const pel_mempool_opts *o, const pel_chain_params *params,
                    pel_mempool_accounts acc, pel_mempool **out) PEL_MUST_USE PEL_NONNULL(2, 4);

/* pel_mempool_free - free everything, including taken transactions (their
 * pel_tx pointers die). No other call may be running. NULL is fine. */
void pel_mempool_free(pel_mempool *mp);

/* The outcome of one submitted transaction. */
typedef struct pel_mempool_result {
    int code;              /* 0 accepted, else the PEL_E* reason */
    const char *why;       /* static message (NULL when accepted) */
    int has_id;            /* the encoding decoded: id is set */
    uint8_t id[PEL_TXID_LEN];
} pel_mempool_result;

/*
 * pel_mempool_submit - admit a batch of raw signed transactions, in order.
 * Checks, in this order: size (PEL_ETXSIZE); decoding (the codec's code:
 * PEL_ETRUNC, PEL_ETRAILING, PEL_ETOOLONG, PEL_ENONCANON); the stateless
 * precheck (PEL_ECHAIN, PEL_ETXTYPE, PEL_EGAS, PEL_EFEE, PEL_EFUNDS on
 * overflow); expiry against the next block height (PEL_EEXPIRED); the
 * signature (PEL_EBADSIG, PEL_EBADKEY). Then, under the lock: the same id
 * pending (PEL_EDUP); nonce below the committed one (PEL_ENONCE) or above
 * committed + max_per_sender (PEL_EFUTURE); the sender's committed balance
 * must cover pel_tx_spend of its pending transactions plus this one
 * (PEL_EFUNDS); the same sender and nonce pending: replaced if this one's
 * gas price is strictly higher and the old one is not taken (the old one
 * becomes PEL_EEVICTED), else PEL_EDUP; the sender already has
 * max_per_sender pending (PEL_EFULL); the pool is full and eviction cannot
 * make room (PEL_EFULL; a replacement never evicts others). Also PEL_ENOMEM,
 * or the accounts callback's code.
 * Refusals of decodable transactions are remembered for lookup, except a
 * duplicate of a pending id (that one stays pending).
 * @param[in] raw, len  n encodings; copied, the caller keeps ownership
 * @param[out] res      n results, one per encoding, in order
 * @return 0 (per-transaction outcomes are in res), PEL_EINVAL (n > 0 with a
 *         NULL array), PEL_ENOMEM (no scratch memory: every res is
 *         PEL_ENOMEM).
 * Thread-safe; large batches verify on the mempool's pool, or on the
 * calling thread while another batch holds it.
 */
int pel_mempool_submit(pel_mempool *mp, const uint8_t *const *raw, const size_t *len, size_t n,
                       pel_mempool_result *res) PEL_MUST_USE PEL_NONNULL(1);

/* pel_mempool_set_height - the height of the next block, for expiry (a
 * transaction with expiry_height e != 0 may go into blocks <= e). Starts at 1. */
void pel_mempool_set_height(pel_mempool *mp, uint64_t next_height) PEL_NONNULL(1);

/*
 * pel_mempool_take - up to max ready transactions, in block order (see the
 * top of this file). Expired ones met on the way are dropped and remembered
 * as PEL_EEXPIRED. Taken transactions stay pending for lookup, are never
 * taken again (unless returned by done(..., 0)), and are never evicted or
 * replaced.
 * @param[out] out  max pointers; each stays valid until pel_mempool_done
 *                  is called for it (or pel_mempool_free)
 * @return how many were written.
 */
size_t pel_mempool_take(pel_mempool *mp, size_t max, const pel_tx **out) PEL_NONNULL(1);

/*
 * pel_mempool_done - the block holding txs (pointers from pel_mempool_take)
 * is finished.
 * committed != 0: forget them (their pointers die), re-read each affected
 * sender's committed nonce and balance through `acc`, and drop that
 * sender's untaken transactions whose nonce is now below the committed
 * nonce (remembered as PEL_ENONCE).
 * committed == 0: return them untouched to the ready set (they will be
 * taken again, in order), except those whose nonce is below the sender's
 * committed nonce as last read (see pel_mempool_committed): dropped and
 * remembered as PEL_ENONCE.
 * Passing a pointer not taken from this mempool, or twice, is undefined.
 */
void pel_mempool_done(pel_mempool *mp, const pel_tx *const *txs, size_t n, int committed)
    PEL_NONNULL(1);

/*
 * pel_mempool_committed - a block committed without this mempool's take
 * (a replicated block, or one proposed here whose transactions were
 * already handed back) holds txs (any decoded transactions). Forgets those
 * pending here that are not taken (a taken one is settled by its holder's
 * done), re-reads the committed nonce and balance of every sender of txs
 * that has something pending, and drops what the new nonces make stale,
 * as done(..., 1) does. Without it a member would propose a transaction
 * that an earlier leader's block already committed.
 */
void pel_mempool_committed(pel_mempool *mp, const pel_tx *const *txs, size_t n) PEL_NONNULL(1);

enum { PEL_MEMPOOL_UNKNOWN = 0, PEL_MEMPOOL_PENDING = 1, PEL_MEMPOOL_REJECTED = 2 };

/* pel_mempool_lookup - the fate of a transaction id: PEL_MEMPOOL_PENDING,
 * _REJECTED (then *reason, if non-NULL, is the PEL_E* code) or _UNKNOWN
 * (committed, forgotten, or never seen). */
int pel_mempool_lookup(pel_mempool *mp, const uint8_t id[PEL_TXID_LEN], int *reason)
    PEL_NONNULL(1, 2);

/* pel_mempool_next_nonce - the nonce a new transaction of `a` should use:
 * the committed nonce plus the pending transactions contiguous with it.
 * For a sender with nothing pending, the committed nonce read through
 * `acc` (0 if that read fails). */
uint64_t pel_mempool_next_nonce(pel_mempool *mp, const pel_addr *a) PEL_NONNULL(1, 2);

/* pel_mempool_stats - pending transactions (taken ones included), their
 * accounted bytes, and senders with something pending. Any out may be NULL. */
void pel_mempool_stats(pel_mempool *mp, uint64_t *txs, uint64_t *bytes, uint64_t *senders)
    PEL_NONNULL(1);

#endif
