/*
 * node.h - a running ledger node: the node directory (config.h), the chain
 * on disk (chain.h), the mempool, and the block producer.
 *
 * The producer thread cuts a block every block_interval_ms, or as soon as
 * max_block_txs transactions are ready, executes it with the configured
 * engine, signs the header with the node key and commits it (one store
 * transaction + fsync). Only then does the block's content become visible
 * as committed (tx status, account queries read the store). Blocks are
 * only produced when there is something to include: an idle devnet does
 * not grow.
 *
 * Life cycle:
 *   pel_node *n;
 *   pel_node_open(dir, &overrides, &n, err, sizeof err);  // lock + load + recover
 *   pel_node_start(n);                                    // producer thread
 *   ... submit / query from any thread ...
 *   pel_node_stop(n);      // finishes the block in progress, joins
 *   pel_node_close(n);
 *
 * Thread safety: submit and query functions may be called from any number
 * of threads while the node runs.
 */
#ifndef PEL_NODE_H
#define PEL_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "node/chain.h"
#include "node/config.h"
#include "node/mempool.h"
#include "node/order.h"

typedef struct pel_node pel_node;

/* Command-line overrides of config.json (0 / -1 / empty = keep). */
typedef struct pel_node_overrides {
    int engine;                 /* pel_engine_kind, or -1 */
    unsigned threads;
    char listen[128];
    uint32_t block_interval_ms;
    uint32_t max_block_txs;
    uint32_t max_commit_group;
} pel_node_overrides;

pel_node_overrides pel_node_no_overrides(void);

/*
 * pel_node_open - lock the directory (PEL_ELOCKED if another process holds
 * it: err names its pid), read config, genesis and keys, open the chain
 * (creating the genesis block on first start) and the mempool.
 * @return 0 or a code with err explaining.
 */
int pel_node_open(const char *dir, const pel_node_overrides *ov, pel_node **out, char *err,
                  size_t errlen) PEL_MUST_USE;
int pel_node_start(pel_node *n) PEL_MUST_USE;
void pel_node_stop(pel_node *n);
void pel_node_close(pel_node *n);

/* Accessors (valid while the node is open). */
const pel_node_config *pel_node_cfg(const pel_node *n);
pel_chain *pel_node_chain(pel_node *n);
/* pel_node_pubkey - the node key's public half (signs blocks, checkpoints). */
const uint8_t *pel_node_pubkey(const pel_node *n);
pel_mempool *pel_node_mempool(pel_node *n);
const pel_genesis *pel_node_genesis(const pel_node *n);
/* pel_node_faucet_addr - the faucet address, or NULL when it is off. */
const pel_addr *pel_node_faucet_addr(const pel_node *n);

/* pel_node_order - the ordering backend (order.h; status queries). */
pel_order *pel_node_order(pel_node *n);

/* pel_node_leader_rpc - where a follower of a raft cluster sends
 * submissions: the leader's API host:port (pel_node_member_rpc).
 * @return 0 (host_port set), 1 (this node is the leader, or local
 *         ordering: submit here), PEL_ENOTFOUND (no leader known now). */
int pel_node_leader_rpc(pel_node *n, char *host_port, size_t cap);

/* pel_node_member_rpc - the API host:port of cluster member `id`: from the
 * replicated Raft configuration (order.h), else from cluster.peers.
 * @return 0, PEL_ENOTFOUND. */
int pel_node_member_rpc(pel_node *n, uint64_t id, char *host_port, size_t cap);

/* pel_node_take_stranded - for a raft member that no longer leads: take up
 * to max transactions left in its mempool (accepted while it led, never
 * proposed) so that the caller hands them to the leader; they leave this
 * node's mempool. raw[i] are malloc'ed copies of the signed encodings
 * (len[i] bytes; the caller frees them). @return how many; 0 when this
 * node leads, orders locally, or holds none. Thread-safe. */
size_t pel_node_take_stranded(pel_node *n, size_t max, uint8_t **raw, size_t *len);

/* pel_node_submit - admit (a raft follower refuses every transaction with
 * PEL_ENOTLEADER; the RPC layer forwards them to the leader first) a batch of signed transactions (mempool.h) and
 * wake the producer if a full block is ready. */
int pel_node_submit(pel_node *n, const uint8_t *const *raw, const size_t *len, size_t count,
                    pel_mempool_result *res) PEL_MUST_USE;

/* pel_node_faucet - devnet: sign and submit a transfer of `amount` from the
 * faucet to `to`. @return 0 (id set), PEL_EACCESS (faucet off), PEL_ERANGE
 * (amount over faucet.max_amount), or an admission code. */
int pel_node_faucet(pel_node *n, const pel_addr *to, uint64_t amount, uint8_t id[32])
    PEL_MUST_USE;

/* Transaction status as a client sees it. */
typedef enum { PEL_TXS_UNKNOWN, PEL_TXS_PENDING, PEL_TXS_COMMITTED, PEL_TXS_REJECTED } pel_tx_state;
typedef struct pel_tx_status {
    pel_tx_state state;
    int reason;                /* REJECTED */
    uint64_t height;           /* COMMITTED */
    uint32_t index;
    pel_buf receipt;           /* COMMITTED: stored receipt bytes (caller frees) */
} pel_tx_status;

int pel_node_tx_status(pel_node *n, const uint8_t id[32], pel_tx_status *st) PEL_MUST_USE;

/* Upper bounds (seconds) of the block latency histogram's buckets; the
 * last bucket is +Inf. */
#define PEL_NODE_LAT_BUCKETS 12
extern const double pel_node_lat_bounds[PEL_NODE_LAT_BUCKETS - 1];

typedef struct pel_node_stats {
    uint64_t blocks, txs;            /* produced since start */
    uint64_t failed_txs;             /* of those, receipts with a failure status */
    double tps_recent;               /* committed txs/s over the last ~10 s */
    uint64_t last_commit_us;         /* duration of the last store commit */
    uint64_t last_exec_us;           /* duration of the last execution */
    /* engine totals since start (pel_exec_stats summed over blocks) */
    uint64_t executions, aborts, dependencies, reexecutions;
    /* block latency (execution + durable commit) histogram: lat_count[i] =
     * blocks whose latency was <= pel_node_lat_bounds[i] (not cumulative;
     * the last one counts the rest); lat_sum_us the sum of all latencies */
    uint64_t lat_count[PEL_NODE_LAT_BUCKETS];
    uint64_t lat_sum_us;
} pel_node_stats;

void pel_node_get_stats(pel_node *n, pel_node_stats *out);

/*
 * Divergence across the members of a raft cluster (rpc/cluster_watch.h).
 *
 * The cluster watch compares this node's signed checkpoints with its
 * peers'. When more than half of the members (this node counted) sign a
 * state root at a height that differs from this node's, this node is in
 * the minority: it has diverged. It then stops being authoritative:
 * pel_node_submit refuses every transaction with PEL_EDIVERGED, the RPC
 * layer neither serves nor forwards submissions, a leader stops cutting
 * blocks, and node_info / /metrics say so. Reads keep working (for
 * diagnosis) but must not be trusted. The mark is sticky until restart:
 * a diverged store does not heal by itself (rebuild it from a peer).
 */
typedef struct pel_node_divergence {
    uint64_t height;             /* the lowest height found to differ */
    uint8_t root[32];            /* this node's state root at height */
    uint8_t majority_root[32];   /* the state root the majority signed */
    unsigned disagree;           /* members whose root differs from ours */
    unsigned members;            /* cluster size, this node included */
} pel_node_divergence;

/* pel_node_set_diverged - mark this node diverged (the first mark wins;
 * later calls are ignored). Thread-safe. */
void pel_node_set_diverged(pel_node *n, const pel_node_divergence *d);

/* pel_node_diverged - 1 (and *out filled, if out) when the node is marked
 * diverged, else 0. Thread-safe. */
int pel_node_diverged(pel_node *n, pel_node_divergence *out);

/* pel_node_failed - non-zero (a PEL code) if the producer stopped on an
 * unrecoverable error (e.g. the store is full); the node then refuses
 * submissions with PEL_ESTOPPED. */
int pel_node_failed(pel_node *n);

#endif
