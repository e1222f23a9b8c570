/*
 * chain.h - the committed chain on disk: genesis, heads, blocks, the
 * transaction index, receipts and state in the store, and the one place
 * where a block is built (executed + header) and committed.
 *
 * Store records (tables in state/store.h):
 *   META  "genesis" -> genesis hash (32)
 *         "head"    -> height u64 ‖ hash raw32 ‖ state_root raw32 ‖
 *                      history_size u64 ‖ timestamp_ms u64
 *   BLOCKS   height (u64 BE) -> block record (block.h)
 *   TXS      id -> height u64 BE ‖ index u32 BE (first inclusion only: a
 *                  replayed transaction is void by its nonce and keeps the
 *                  index pointing at the block where it took effect)
 *   RECEIPTS height BE ‖ index BE -> receipt (block.h)
 *   STATE    key -> value
 *   META  "trees"   -> 1 byte: 1 if the chain keeps the trees below (set
 *                      at genesis, never changed; absent = 0)
 *   META  "format"  -> u32 LE: the store format, PEL_CHAIN_FORMAT when the
 *                      store was made or first opened for writing (below)
 *   HISTORY     the RFC 9162 history tree (state/history.h)
 *   SMT         the state tree, version = block height (state/smt.h)
 *   CHECKPOINTS height (u64 BE) -> the checkpoint after that block, a
 *               C2SP signed note by the node key (state/checkpoint.h)
 * Block 0 is the genesis block: no transactions, the allocation as its
 * write set, no proposer signature, prev_hash = genesis hash.
 *
 * Trees (the default): the state tree and the history tree are updated in
 * the block's commit transaction, on the committer's thread, after the
 * block was executed (possibly on top of an uncommitted parent): so
 * pel_chain_build leaves prev_hash, state_root, history_root and sig for
 * pel_chain_commit to fill; the header is final once commit returns.
 * A chain without trees (pel_chain_opts.trees = 0) keeps the chained
 * write-set digest as state root and no history tree or checkpoints: a
 * baseline for benchmarks, nothing to prove anything with.
 *
 * A block commits in ONE store transaction (block, index, receipts, state,
 * head) followed by fsync (store.h); the head moves only with it, so after
 * a crash the chain is exactly the blocks whose commit returned. Group
 * commit (pel_chain_commit_group) puts several consecutive blocks in one
 * such transaction: all of them or none.
 *
 * Thread safety: one build at a time and one commit at a time; a build may
 * run while earlier blocks commit on another thread (build_on,
 * build_after).
 * Queries from any thread at any time.
 */
#ifndef PEL_CHAIN_H
#define PEL_CHAIN_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "exec/engine.h"
#include "ledger/block.h"
#include "ledger/genesis.h"
#include "ledger/ledger.h"
#include "state/checkpoint.h"
#include "state/store.h"

typedef struct pel_chain_head {
    uint64_t height;
    uint8_t hash[32];
    uint8_t state_root[32];
    uint64_t history_size;
    uint64_t timestamp_ms;
} pel_chain_head;

typedef struct pel_chain pel_chain;

typedef struct pel_chain_opts {
    pel_store_opts store;
    int trees;                      /* default 1 (see above) */
    uint64_t state_versions_kept;   /* state-tree versions kept for proofs
                                       at past heights; 0 = all (default
                                       PEL_CHAIN_DEFAULT_VERSIONS) */
    uint64_t state_prune_interval;  /* old versions go in steps of this many
                                       blocks (default
                                       PEL_CHAIN_DEFAULT_PRUNE_INTERVAL;
                                       0 = 1), see below */
    unsigned tree_threads;          /* threads for state-tree updates
                                       (default 2; 1 = the committer only) */
    const uint8_t *sk;              /* node key (64 bytes), signs checkpoints;
                                       NULL = no checkpoints. Must outlive
                                       the chain. */
} pel_chain_opts;

#define PEL_CHAIN_DEFAULT_VERSIONS 1000
/*
 * Pruning in steps: with K = state_versions_kept and S = the prune
 * interval, the commit of block h removes the versions below
 * floor(h) = (h - K + 1) rounded down to a multiple of S, so between K and
 * K + S - 1 versions are kept and the floor moves once every S blocks. A
 * prune deletes the tree nodes that the versions it removes replaced; they
 * are scattered over the pages of older versions, and each page a prune
 * touches is copied and written whole (LMDB copies on write). Nodes that
 * became stale over S blocks share many of those pages, so removing S
 * versions at once writes far fewer pages than S removals of one: with
 * S = 8 a node under the open-science load writes about 25 % fewer bytes
 * per transaction than with S = 1, and 35-40 % fewer reach the disk
 * (bench/RESULTS.md, "Pruning in steps").
 */
#define PEL_CHAIN_DEFAULT_PRUNE_INTERVAL 8

pel_chain_opts pel_chain_defaults(void);

/*
 * The store format: how the records above (and those of the modules they
 * name) are laid out. A binary reads every format up to its own and refuses
 * a store or snapshot of a newer one, before reading anything else, with a
 * message that says so: a newer layout may look like damage, or worse, like
 * valid data that means something else.
 *   1  the state tree's stale-node records under 's' (before the "format"
 *      record existed)
 *   2  stale-node records under 'd' (state/smt.h); 's' records a format-1
 *      store still holds are read and pruned as before
 * A store without the record (made before it existed) is format 1 or 2,
 * both read here; a writable open records PEL_CHAIN_FORMAT in it. Bump the
 * number with every layout change an older binary would misread, and keep
 * reading the older formats (or say how to convert them).
 */
#define PEL_CHAIN_FORMAT 2

/* pel_chain_store_format - the format recorded in store s: *format = 0 when
 * it has none (made before the record existed: a format this binary reads).
 * @return 0; PEL_EINVAL (a newer format, still stored in *format) or
 *         PEL_ECORRUPT (a damaged record), each with its message in err;
 *         PEL_EIO. */
int pel_chain_store_format(pel_store *s, uint32_t *format, char *err, size_t errlen)
    PEL_MUST_USE PEL_NONNULL(1, 2);

/*
 * pel_chain_open - open the store in `data_dir` and make sure it holds the
 * chain of `g`: an empty store gets the genesis block; a store of another
 * genesis, of a newer store format (PEL_CHAIN_FORMAT), or with trees when
 * o->trees is 0 or the reverse, is refused (PEL_EINVAL with a message in
 * err); a damaged format record, or trees whose size or version does not
 * match the head, give PEL_ECORRUPT. A missing genesis checkpoint is signed
 * when o->sk is given.
 * @param g  must outlive the chain.  @param o  NULL = pel_chain_defaults().
 * @return 0, PEL_EINVAL, PEL_ECORRUPT, PEL_EIO, PEL_ENOMEM.
 */
int pel_chain_open(const char *data_dir, const pel_genesis *g, const pel_chain_opts *o,
                   pel_chain **out, char *err, size_t errlen) PEL_MUST_USE;
void pel_chain_close(pel_chain *c);

/* pel_chain_head - the current head (a copy; consistent). */
pel_chain_head pel_chain_get_head(pel_chain *c);
pel_store *pel_chain_store(pel_chain *c);
const pel_genesis *pel_chain_genesis(const pel_chain *c);

/* The parts of building a block (pel_built_block.build_us, microseconds):
 * executing the transactions (the engine over the store's state), the
 * header's roots (transactions, receipts, write set), the history leaves. */
enum { PEL_BT_EXECUTE, PEL_BT_HEADER, PEL_BT_LEAVES, PEL_BT_PARTS };

/* A block executed and signed, not yet committed. */
typedef struct pel_built_block {
    pel_block_header header;    /* final only after pel_chain_commit */
    const pel_tx *const *txs;   /* the caller's, valid until commit/free */
    pel_block_result result;
    int has_result;
    uint8_t (*leaves)[32];      /* history leaf hashes, one per tx */
    const uint8_t *sk;          /* signs the header at commit; may be NULL */
    uint64_t build_us[PEL_BT_PARTS];   /* where building it went (logs, benchmarks) */
} pel_built_block;

/*
 * pel_chain_build - execute txs (in this order) on the head state with
 * engine e, then fill the header (height head+1, timestamp max(now_ms,
 * head timestamp)) but for what commit fills (above). sk (kept by pointer
 * until commit) signs it at commit; NULL leaves the signature zero.
 * @return 0, PEL_ENOMEM, hash/sign errors. out->result owned by out.
 */
int pel_chain_build(pel_chain *c, pel_engine *e, const pel_tx *const *txs, uint32_t n,
                    uint64_t now_ms, const uint8_t *sk, pel_built_block *out) PEL_MUST_USE;

/*
 * pel_chain_build_on - pel_chain_build on top of `parent`, a built block
 * whose commit may still be in progress on another thread (the node's
 * pipeline): the new block follows parent's header and executes on the
 * store's state overlaid with parent's writes. parent NULL = the committed
 * head. parent must stay alive (not freed) until this returns, and must be
 * committed before the new block is.
 */
int pel_chain_build_on(pel_chain *c, pel_engine *e, const pel_built_block *parent,
                       const pel_tx *const *txs, uint32_t n, uint64_t now_ms, const uint8_t *sk,
                       pel_built_block *out) PEL_MUST_USE;
/*
 * pel_chain_build_after - pel_chain_build on top of several built blocks
 * not yet committed (a deeper pipeline): pending[0] is the parent,
 * pending[i] the block i heights below it (consecutive: else PEL_EINVAL),
 * down to at least the first block that was not committed when the call
 * began. Any of them may commit during the call (in order, as always);
 * all must stay alive until it returns. npending 0 = the committed head.
 */
int pel_chain_build_after(pel_chain *c, pel_engine *e, const pel_built_block *const *pending,
                          size_t npending, const pel_tx *const *txs, uint32_t n, uint64_t now_ms,
                          const uint8_t *sk, pel_built_block *out) PEL_MUST_USE;

/* pel_chain_commit - finish b's header (prev_hash from the head, state and
 * history roots from the trees updated in the same transaction, signature)
 * and its checkpoint, write it all in one store transaction and sync; move
 * the head. b must follow the head.
 * @return 0 (durable), PEL_EINVAL (b does not follow the head),
 *         PEL_EMAPFULL, PEL_EIO, PEL_ENOMEM, tree errors (PEL_ECORRUPT...);
 *         on failure nothing was written and the head did not move. */
int pel_chain_commit(pel_chain *c, pel_built_block *b) PEL_MUST_USE;
/* pel_chain_commit_group - commit bs[0..n) (consecutive, bs[0] following
 * the head) as pel_chain_commit would one by one, but in ONE store
 * transaction and one sync: all of them are durable when it returns 0,
 * none on failure (the head did not move). Under load this writes and
 * syncs fewer pages a block (random-key inserts into the same pages), at
 * the price of the first block's commit waiting for the last's writes.
 * Old state-tree versions are pruned once, after the last block.
 * @return as pel_chain_commit. */
int pel_chain_commit_group(pel_chain *c, pel_built_block *const *bs, size_t n) PEL_MUST_USE;

/* Where the last successful commit (a group counts as one) spent its time,
 * in microseconds, for the node's log and benchmarks: the state-tree
 * update, the history-tree append, pruning old state-tree versions, the
 * block records, the transaction-id index (with receipts), the state puts,
 * the object index, the rest (header signature, head, checkpoint), and the
 * store's commit (pages written and synced). */
enum { PEL_CT_STATE_TREE, PEL_CT_HISTORY, PEL_CT_PRUNE, PEL_CT_BLOCKS, PEL_CT_TXINDEX, PEL_CT_STATE,
       PEL_CT_OBJINDEX, PEL_CT_OTHER, PEL_CT_SYNC, PEL_CT_PARTS };
typedef struct pel_chain_commit_times { uint64_t us[PEL_CT_PARTS]; } pel_chain_commit_times;

/* pel_chain_last_commit_times - the last commit's times (all zero before one);
 * any thread. */
void pel_chain_last_commit_times(pel_chain *c, pel_chain_commit_times *out) PEL_NONNULL(1, 2);
/* pel_chain_commit_part - a part's name for logs ("state tree", "history",
 * "prune", "blocks", "tx index", "state", "object index", "other", "sync"). */
const char *pel_chain_commit_part(int part);

/*
 * pel_chain_seal_open - the header b will have once committed on the
 * current head (prev_hash, roots, proposer signature by b->sk), for a
 * proposer that must publish the final header before committing (the raft
 * ordering backend). The store transaction it was computed in stays open
 * (the trees already updated in it), so that the proposer, once its block
 * is ordered, commits it with pel_chain_seal_commit instead of executing
 * and updating the trees a second time; or drops it with
 * pel_chain_seal_abort. While it is open it holds the store's writer lock:
 * no other block can be committed, and a thread that begins a store
 * transaction waits. Both calls must come from the thread that opened it
 * (LMDB write transactions belong to their thread), and b must stay
 * unchanged in between.
 * @return 0, PEL_EINVAL (b does not follow the head), PEL_ENOMEM, tree and
 *         store errors (*sealed is NULL on failure).
 */
typedef struct pel_chain_sealed pel_chain_sealed;
int pel_chain_seal_open(pel_chain *c, const pel_built_block *b, pel_block_header *out,
                        pel_chain_sealed **sealed) PEL_MUST_USE;
/* pel_chain_seal_commit - write the sealed block (b, as sealed) and commit:
 * as pel_chain_commit, header included. s is freed either way. */
int pel_chain_seal_commit(pel_chain *c, pel_chain_sealed *s, pel_built_block *b) PEL_MUST_USE;
/* pel_chain_seal_abort - drop it: nothing was written. NULL is a no-op. */
void pel_chain_seal_abort(pel_chain_sealed *s);

/* pel_chain_commit_as - commit b, built here from a replicated block
 * (same txs, same timestamp), as the proposer's block `expect`: the header
 * this node computes must hash to the same value as expect (proposer
 * included); the stored header then carries expect's signature.
 * @return as pel_chain_commit, or PEL_EDIVERGED (nothing written). */
int pel_chain_commit_as(pel_chain *c, pel_built_block *b, const pel_block_header *expect)
    PEL_MUST_USE;

void pel_built_block_free(pel_built_block *b);

/* ---- Raft snapshots: the whole committed store at one height ----
 *
 * Format (version 1), all integers little-endian:
 *   "PELSNAP1" ‖ u32 version ‖ u32 flags (0) ‖ u64 height ‖ head hash raw32
 *   ‖ state root raw32 ‖ u64 body length ‖ body digest raw32
 *   (pel_hash_tagged("pel/snapshot", body))  = PEL_CHAIN_SNAP_HDR bytes,
 *   then the body: records u8 table ‖ u32 klen ‖ u32 vlen ‖ key ‖ value, for
 *   every record of every table but CHECKPOINTS (those are signed by each
 *   node's own key: a restoring node signs its own from the blocks).
 * The body is as large as the store's live data (no compaction or
 * compression): the whole snapshot is held in memory (libraft 0.15's FSM
 * snapshot API takes and gives memory buffers).
 */
#define PEL_CHAIN_SNAP_HDR 128
#define PEL_CHAIN_SNAP_VERSION 1

/* pel_chain_snapshot - append a snapshot of the committed store to `out`
 * (one LMDB read transaction: consistent even while blocks commit) and
 * report the head it holds in *at. Thread-safe (a reader).
 * @return 0, PEL_ENOMEM, PEL_EIO, PEL_ECORRUPT (no head record). */
int pel_chain_snapshot(pel_chain *c, pel_buf *out, pel_chain_head *at) PEL_MUST_USE;

/* pel_chain_snapshot_head - the head a snapshot says it holds (header
 * only; pel_chain_restore checks the rest). @return 0, PEL_ECORRUPT. */
int pel_chain_snapshot_head(const uint8_t *p, size_t len, uint64_t *height, uint8_t hash[32])
    PEL_MUST_USE;

/*
 * pel_chain_restore - replace everything in the store with snapshot p (one
 * write transaction: all or nothing, synced), sign this node's checkpoint
 * of every block in it, and move the head to the snapshot's. The store
 * handle and the chain stay open, so readers on other threads keep working
 * (they see the old store or the new one). The caller makes sure no build,
 * seal or commit runs meanwhile (the node's writer lock).
 * @return 0, PEL_ECORRUPT (bad header, digest, records, or trees that do
 *         not match the head: err says), PEL_EINVAL (another genesis or
 *         tree mode), PEL_EMAPFULL, PEL_EIO, PEL_ENOMEM.
 */
int pel_chain_restore(pel_chain *c, const uint8_t *p, size_t len, char *err, size_t errlen)
    PEL_MUST_USE;

/* ---- queries (any thread) ---- */

/* pel_chain_block - the stored record of block `height`. @return 0, PEL_ENOTFOUND, ... */
int pel_chain_block(pel_chain *c, uint64_t height, pel_buf *record) PEL_MUST_USE;
/* pel_chain_tx_location - where transaction `id` took effect. */
int pel_chain_tx_location(pel_chain *c, const uint8_t id[32], uint64_t *height, uint32_t *index)
    PEL_MUST_USE;
/* pel_chain_receipt - stored receipt bytes (decode with pel_receipt_decode). */
int pel_chain_receipt(pel_chain *c, uint64_t height, uint32_t index, pel_buf *out) PEL_MUST_USE;
/* pel_chain_account - committed balance and nonce (absent account: 0, 0),
 * both read from one snapshot (the same committed block). */
int pel_chain_account(pel_chain *c, const pel_addr *a, uint64_t *balance, uint64_t *nonce)
    PEL_MUST_USE;
/* pel_chain_checkpoint - the stored signed checkpoint after block `height`.
 * @return 0, PEL_ENOTFOUND (none: a chain without trees or keys), ... */
int pel_chain_checkpoint(pel_chain *c, uint64_t height, pel_buf *note) PEL_MUST_USE;
/* pel_chain_trees - 1 if the chain keeps trees and checkpoints. */
int pel_chain_trees(const pel_chain *c);
/* pel_chain_signer - the public key signing this node's checkpoints
 * (pel_chain_opts.sk), or NULL; valid while the chain is open. */
const uint8_t *pel_chain_signer(const pel_chain *c);
/* pel_chain_origin - the checkpoint origin and note key name, "<chain-id>/pel". */
const char *pel_chain_origin(const pel_chain *c);
/* pel_chain_rebuild_state_root - the state tree's root computed from
 * scratch over the committed STATE table (pel_smt_root_of), and the head
 * it belongs to. For tools holding the node directory: no block may commit
 * during the call. O(keys) memory.
 * @return 0, PEL_ENOMEM, PEL_EIO, PEL_ECORRUPT. */
int pel_chain_rebuild_state_root(pel_chain *c, uint8_t root[32], pel_chain_head *head)
    PEL_MUST_USE;

/*
 * pel_chain_verify - replay every committed block from genesis with the
 * sequential engine in memory and check: heights contiguous, prev_hash
 * links, proposer signatures, tx_root, each receipt byte for byte,
 * receipts_root, state_root, the transaction index, and finally that the
 * stored state equals the replayed state key for key; also that total
 * supply (balances + fee pool) is conserved. `progress` (may be NULL) is
 * called per block. On a mismatch err names the height and what differs.
 * @return 0 (all good), PEL_ECORRUPT, PEL_ENOMEM, PEL_EIO.
 */
int pel_chain_verify(pel_chain *c, void (*progress)(void *arg, uint64_t height), void *arg,
                     char *err, size_t errlen) PEL_MUST_USE;

/* ---- pieces shared by build and verify ---- */

/* pel_chain_execute - run txs in the block at `height` with timestamp
 * time_ms on state st with engine e and the ledger executor.
 * @return as pel_engine_execute. */
int pel_chain_execute(pel_engine *e, const pel_state *st, const pel_chain_params *params,
                      uint64_t height, uint64_t time_ms, const pel_tx *const *txs, uint32_t n,
                      pel_block_result *r) PEL_MUST_USE;
/* pel_chain_fill_header - the unsigned header of the block after `head`
 * with execution result r, but for prev_hash, state_root and history_root
 * (left zero: they come from the committed parent and the trees). */
int pel_chain_fill_header(const pel_chain_head *head, const pel_tx *const *txs,
                          const pel_block_result *r, uint64_t now_ms, pel_block_header *h)
    PEL_MUST_USE;
/* pel_chain_genesis_header - header of block 0 for g and its writes ws,
 * with (trees) or without trees. */
int pel_chain_genesis_header(const pel_genesis *g, const pel_writeset *ws, int trees,
                             pel_block_header *h) PEL_MUST_USE;
/* pel_chain_leaves - the history leaf hash of each of r's transactions at
 * `height` (leaves: r->n entries). @return 0, PEL_ENOMEM. */
int pel_chain_leaves(uint64_t height, const pel_tx *const *txs, const pel_block_result *r,
                     uint8_t (*leaves)[32]) PEL_MUST_USE;
/* pel_chain_checkpoint_of - the checkpoint body fields of header h. */
void pel_chain_checkpoint_of(const pel_chain *c, const pel_block_header *h,
                             pel_checkpoint *out);
/* pel_chain_head_after - the head once block h is committed. */
pel_chain_head pel_chain_head_after(const pel_block_header *h);

/* Key encodings used in the store. */
void pel_chain_height_key(uint64_t height, uint8_t out[8]);

#endif
