/*
 * config.h - a node directory and its configuration.
 *
 * `pel init` creates a node directory:
 *   config.json   node settings (below); every field optional
 *   genesis.json  chain parameters and allocation (ledger/genesis.h)
 *   node.key      the node's Ed25519 key (signs blocks), mode 0600
 *   faucet.key    devnet only: the key of the faucet account, mode 0600
 *   data/         the LMDB store
 *   LOCK          held (flock) by the running node
 *
 * config.json:
 *   { "rpc": { "listen": "127.0.0.1:8645", "max_body_mb": 32,
 *              "cors_origin": null },
 *     "block_interval_ms": 200, "max_block_txs": 10000,
 *     "max_commit_group": 1,          up to this many blocks committed in
 *                                     one store transaction and sync when
 *                                     the committer falls behind (local
 *                                     ordering; 1 = one block each)
 *     "engine": "blockstm", "threads": 0,            (0 = the CPUs it may run on)
 *     "mempool": { "max_txs": 200000, "max_bytes": 268435456,
 *                  "max_per_sender": 8192 },
 *     "store": { "map_size_mb": 65536 },
 *     "state": { "trees": true,          state and history trees and signed
 *                                        checkpoints (false: a benchmark
 *                                        baseline; fixed at the first start)
 *                "versions_kept": 1000,  state-tree versions kept for proofs
 *                                        at past heights (0 = all); each
 *                                        costs what its block rewrote in the
 *                                        tree: about 16 MB for a block of
 *                                        7,000 open-science transactions, so
 *                                        ~16 GB at 1000 under full load
 *                                        (`pel admin stats` shows it)
 *                "prune_interval": 8,    old versions are removed in steps
 *                                        of this many blocks, so between
 *                                        versions_kept and versions_kept +
 *                                        prune_interval - 1 are kept: far
 *                                        fewer pages written than removing
 *                                        one version a block (node/chain.h)
 *                "tree_threads": 2 },    threads updating the state tree
 *     "faucet": { "enabled": true, "amount": "1000000000",
 *                 "max_amount": "100000000000" },
 *     "ordering": "local",            local (one node) or raft (a cluster)
 *     "cluster": {                    read when ordering is raft
 *         "id": 1,                    this node's Raft id: one of peers
 *         "raft_dir": "raft",         Raft log, relative to the node directory
 *         "election_timeout_ms": 300, "heartbeat_ms": 50,
 *         "snapshot_threshold": 1024, Raft log entries (blocks) between
 *                                     snapshots of the store (0 = never:
 *                                     the log then grows without bound and
 *                                     a wiped member cannot rejoin)
 *         "snapshot_trailing": 256,   entries kept in the log after a
 *                                     snapshot (a member fewer behind
 *                                     catches up from the log, not from a
 *                                     snapshot)
 *         "join": false,              true: this member was added to a running
 *                                     cluster (`pel cluster join`): it never
 *                                     bootstraps, learns the configuration
 *                                     from the leader and asks to be made a
 *                                     voter once it runs
 *         "admin_token": "<64 hex>",  the secret every member shares (made by
 *                                     `pel init --cluster` / `pel cluster
 *                                     init`, given to `pel cluster join`):
 *                                     membership changes (cluster_add,
 *                                     cluster_promote, cluster_remove) must
 *                                     carry it; without one they are refused.
 *                                     config.json is then written mode 0600
 *         "peers": [ { "id": 1, "raft": "127.0.0.1:8745",
 *                      "rpc": "127.0.0.1:8645" }, ... ] } }
 *   peers is the configuration a founding member bootstraps the Raft log
 *   with (every founding member lists the same peers and has the same
 *   genesis.json: `pel init --cluster`, `pel cluster init`); its own entry
 *   gives its Raft address. After that the replicated Raft configuration
 *   is the member list (`pel cluster join` / `leave` change it; see
 *   node/order.h); peers only helps a member find the others before it has
 *   heard from the leader.
 *
 * Thread safety: no shared state.
 */
#ifndef PEL_CONFIG_H
#define PEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/file.h"
#include "exec/engine.h"
#include "node/chain.h"
#include "node/order.h"

#define PEL_CLUSTER_TOKEN_LEN 64    /* hex characters of a cluster admin token */
#define PEL_MAX_COMMIT_GROUP 64     /* the largest max_commit_group */

typedef struct pel_node_config {
    char listen_host[64];
    uint16_t listen_port;
    uint32_t rpc_max_body_mb;
    char cors_origin[128];          /* empty: no CORS */
    uint32_t block_interval_ms;
    uint32_t max_block_txs;
    uint32_t max_commit_group;      /* 1..PEL_MAX_COMMIT_GROUP (local ordering) */
    pel_engine_kind engine;
    unsigned threads;               /* 0 = pel_cpu_count() */
    uint32_t mempool_max_txs;
    uint64_t mempool_max_bytes;
    uint32_t mempool_max_per_sender;
    uint64_t map_size_mb;
    int state_trees;
    uint64_t state_versions_kept;
    uint32_t state_prune_interval;  /* 1..1000000 (chain.h: pruning in steps) */
    uint32_t state_tree_threads;
    int faucet_enabled;
    uint64_t faucet_amount, faucet_max_amount;
    int ordering_raft;              /* "ordering": "raft" */
    uint64_t cluster_id;
    char raft_dir[256];             /* relative to the node directory unless absolute */
    uint32_t election_timeout_ms, heartbeat_ms, snapshot_threshold, snapshot_trailing;
    int cluster_join;               /* "cluster.join" */
    char admin_token[PEL_CLUSTER_TOKEN_LEN + 1];   /* "cluster.admin_token"; "" = none */
    pel_cluster_peer peers[PEL_CLUSTER_MAX];
    unsigned n_peers;
} pel_node_config;

pel_node_config pel_node_config_defaults(void);

/* pel_node_config_load - read dir/config.json over the defaults (a missing
 * file means defaults). err names the bad field. @return 0, PEL_EINVAL, PEL_EIO. */
int pel_node_config_load(const char *dir, pel_node_config *cfg, char *err, size_t errlen)
    PEL_MUST_USE;

/* pel_node_config_write - write cfg as dir/config.json (O_EXCL: never
 * overwrites). @return 0, PEL_EEXIST, PEL_EIO, PEL_ENOMEM. */
int pel_node_config_write(const char *dir, const pel_node_config *cfg) PEL_MUST_USE;

/* pel_node_data_path - DIR/data, where a node directory keeps its LMDB
 * store, into buf. @return 0, or PEL_EINVAL when it does not fit in len. */
int pel_node_data_path(const char *dir, char *buf, size_t len) PEL_MUST_USE;

/* pel_parse_listen - "host:port" -> parts. @return 0 or PEL_EINVAL. */
int pel_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port) PEL_MUST_USE;

/*
 * pel_node_init_dir - create a node directory for a new chain: node key,
 * faucet key (funded with `faucet_balance` in genesis), genesis.json with
 * `chain_id`, config.json with defaults (listen port `port`), data/.
 * Refuses (PEL_EEXIST) if dir already holds a genesis.json.
 * @return 0, PEL_EEXIST, PEL_EINVAL, PEL_EIO; err explains.
 */
int pel_node_init_dir(const char *dir, const char *chain_id, uint64_t faucet_balance,
                      uint16_t port, char *err, size_t errlen) PEL_MUST_USE;

/*
 * pel_node_init_cluster - create n node directories dir/node1 .. dir/nodeN
 * for one new chain run by a raft cluster: one genesis.json (and faucet
 * key) shared by all, a node key each, and a config.json each with
 * "ordering": "raft" and the same peers: node i has Raft id i, its API on
 * 127.0.0.1:rpc_ports[i-1] and Raft on 127.0.0.1:raft_ports[i-1].
 * @return 0, PEL_EINVAL (n outside 1..PEL_CLUSTER_MAX), PEL_EEXIST, PEL_EIO;
 *         err explains.
 */
int pel_node_init_cluster(const char *dir, const char *chain_id, uint64_t faucet_balance,
                          unsigned n, const uint16_t *rpc_ports, const uint16_t *raft_ports,
                          char *err, size_t errlen) PEL_MUST_USE;

/*
 * pel_node_init_cluster_founder - `pel cluster init`: a node directory
 * for a new chain run by a raft cluster of one member (id 1, API on rpc,
 * Raft on raft, both "host:port"), which others then join.
 * @return 0, PEL_EEXIST, PEL_EINVAL, PEL_EIO; err explains.
 */
int pel_node_init_cluster_founder(const char *dir, const char *chain_id, uint64_t faucet_balance,
                                  const char *rpc, const char *raft, char *err, size_t errlen)
    PEL_MUST_USE;

/*
 * pel_node_init_cluster_joiner - `pel cluster join`: a node directory for
 * member `id` (already added to the running cluster's configuration) of
 * the chain whose genesis.json text is genesis_json: node key, that
 * genesis, config.json with cluster.join true and peers = the members
 * known now plus this one, and the cluster's admin token (64 hex
 * characters). faucet_key (NULL: none) is copied as the
 * devnet faucet's key (a member without it refuses faucet calls while it
 * leads; followers forward them to the leader).
 * @return 0, PEL_EEXIST, PEL_EINVAL, PEL_EIO, PEL_ENOMEM; err explains.
 */
int pel_node_init_cluster_joiner(const char *dir, const char *genesis_json, uint64_t id,
                                 const char *rpc, const char *raft, const pel_cluster_peer *peers,
                                 unsigned n_peers, const char *token, const char *faucet_key,
                                 char *err, size_t errlen) PEL_MUST_USE;

/* pel_cluster_token_new - a new random admin token (64 hex characters). */
void pel_cluster_token_new(char out[PEL_CLUSTER_TOKEN_LEN + 1]);

#endif
