/*
 * order.h - ordering backends: who may cut the next block, and the one
 * order in which every node commits blocks (DESIGN.md section 7).
 *
 * Two backends:
 *   local  a single node: it is always the proposer and its blocks are
 *          final as soon as it commits them, so the node keeps its
 *          pipeline (build block N+1 while N commits) and never encodes a
 *          block for ordering (pel_order_direct() is 1).
 *   raft   a cluster over an embedded Raft log (libraft, libuv I/O;
 *          order_raft.c). The Raft leader is the proposer: it cuts a
 *          block, seals its header (chain.h: pel_chain_seal_open) and
 *          proposes the encoded block record (block.h: signed header ‖
 *          u32 count ‖ txs) as ONE log entry with pel_order_propose. Once
 *          the entry is committed, every node (the leader included) gets
 *          it from handler.deliver, in log order; the leader commits its
 *          sealed block (pel_chain_seal_commit), the others apply it
 *          through execute + commit (chain.h: pel_chain_commit_as). The
 *          block's height is inside the entry (libraft's apply callback
 *          has no log index), so applying is idempotent by height: a node
 *          skips entries at or below what it has applied (Raft replays its
 *          log after a restart). Every snapshot_threshold entries the
 *          backend takes a snapshot (handler.snapshot: the node's store
 *          at the height of the last delivered entry) and drops the log
 *          before it but snapshot_trailing entries; a member too far
 *          behind (or wiped) gets the leader's snapshot
 *          (handler.restore), then the entries after it.
 *
 * Life cycle: pel_order_*_new, pel_order_start, ... , pel_order_stop,
 * pel_order_free. After pel_order_stop returns no handler call is running
 * or will be made.
 *
 * Thread safety: pel_order_propose, pel_order_is_leader and
 * pel_order_get_status may be called from any thread while the backend
 * runs; the handler is called from the backend's own thread (raft: the
 * libuv loop thread), never two calls at once.
 */
#ifndef PEL_ORDER_H
#define PEL_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define PEL_CLUSTER_MAX 16      /* members of a raft cluster */

typedef struct pel_order pel_order;

/* A member's role in the Raft configuration (libraft's roles): a voter
 * replicates the log and counts in the quorum; a standby replicates
 * without voting; a spare does neither (a member just added, before its
 * promotion). */
typedef enum { PEL_MEMBER_VOTER = 0, PEL_MEMBER_STANDBY, PEL_MEMBER_SPARE } pel_member_role;

/* One member of a raft cluster: its Raft id (>= 1), the host:port of its
 * Raft transport, the host:port of its JSON-RPC API, its role. */
typedef struct pel_cluster_peer {
    uint64_t id;
    char raft[128];
    char rpc[128];
    int role;                   /* pel_member_role; config.json peers are voters */
} pel_cluster_peer;

/* pel_member_role_name - "voter", "standby", "spare" ("?" otherwise). */
const char *pel_member_role_name(int role);

/*
 * Member addresses. The Raft configuration (which libraft replicates, in
 * its log and its snapshots) is the one list of members. Each member's
 * address there carries both of its endpoints,
 *     "<raft host:port>,rpc=<rpc host:port>"
 * so every member learns every other member's API (to forward
 * submissions, to compare checkpoints) from Raft itself, including the
 * members added after it started. The Raft transport connects to the part
 * before the comma (order_raft.c). An address without ",rpc=" (a cluster
 * bootstrapped by an older build) has an empty rpc part: the node then
 * looks the member up in its config.json peers.
 */
/* pel_cluster_addr_format - @return 0, PEL_ETOOLONG (does not fit cap),
 * PEL_EINVAL (a part empty or holding ','). */
int pel_cluster_addr_format(const char *raft, const char *rpc, char *out, size_t cap) PEL_MUST_USE;
/* pel_cluster_addr_parse - split an address (rpc "" when absent).
 * @return 0, PEL_ETOOLONG. */
int pel_cluster_addr_parse(const char *addr, char *raft, size_t raft_cap, char *rpc,
                           size_t rpc_cap) PEL_MUST_USE;

/* What the node hands the backend. Both calls come from the backend's
 * thread; they must not block for long (raft: heartbeats wait) and must
 * not call pel_order_stop. */
typedef struct pel_order_handler {
    void *ctx;
    /* deliver - a committed entry, in log order; entry is valid during the
     * call only (copy what is kept). */
    void (*deliver)(void *ctx, const uint8_t *entry, size_t len);
    /* proposal_failed - the proposal of block `height` was refused or its
     * fate is unknown (code: PEL_ENOTLEADER, PEL_ESTOPPED, PEL_EIO). An
     * unknown fate (leadership lost) does NOT mean the entry was not
     * committed: it may still be delivered. */
    void (*proposal_failed)(void *ctx, uint64_t height, int code);
    /* snapshot - (raft; NULL: snapshots refused) the node's committed
     * state after EVERY entry delivered so far (wait until they are
     * applied), as one buffer: *data from malloc(), freed by the backend
     * once stored. @return 0 or a PEL_E* code (no snapshot this time). */
    int (*snapshot)(void *ctx, uint8_t **data, size_t *len);
    /* restore - (raft; NULL: refused) replace the node's state with a
     * snapshot (from a leader, or this node's own at start); data valid
     * during the call. A snapshot at or below what the node has applied
     * is ignored (idempotent by height). @return 0 or a PEL_E* code. */
    int (*restore)(void *ctx, const uint8_t *data, size_t len);
} pel_order_handler;

typedef struct pel_order_raft_opts {
    uint64_t id;                         /* this node's id, one of peers */
    char dir[4096];                      /* the Raft log and metadata (created if missing) */
    unsigned election_timeout_ms;        /* ~300 */
    unsigned heartbeat_ms;               /* ~50 */
    unsigned snapshot_threshold;         /* entries between snapshots (0 = never) */
    unsigned snapshot_trailing;          /* entries kept in the log after one */
    int join;                            /* added to a running cluster: never bootstrap */
    pel_cluster_peer peers[PEL_CLUSTER_MAX];  /* bootstrap configuration (all voters) */
    unsigned n_peers;
} pel_order_raft_opts;

typedef struct pel_order_status {
    const char *backend;    /* "local" or "raft" (static) */
    const char *role;       /* "single", "leader", "follower", "candidate", "unavailable" */
    int leader;             /* 1 if this node may propose now */
    uint64_t id;            /* this node's id (0 for local) */
    uint64_t leader_id;     /* 0 = unknown */
    uint64_t term;
    uint64_t last_index;    /* raft log: last entry index */
    uint64_t applied_index; /* raft log: entries delivered */
    const char *member;     /* this node in the configuration: "voter", "standby",
                               "spare"; "removed" (the configuration it knows
                               does not have it); "none" (no configuration yet:
                               added, not yet reached by the leader); NULL for
                               local */
    unsigned voters;        /* voters in the configuration (0 for local) */
} pel_order_status;

/* A membership change (pel_order_change). */
typedef enum {
    PEL_CHANGE_ADD,      /* add a member as a spare: id (0 = a random unused one in
                            1 .. 2^31-1, so ids are never reused), raft, rpc */
    PEL_CHANGE_PROMOTE,  /* make member id a voter once it has caught up with the log */
    PEL_CHANGE_REMOVE,   /* remove member id (the leader itself too: it steps down) */
} pel_change_op;

/* pel_order_local_new - the single-node backend. @return 0, PEL_ENOMEM. */
int pel_order_local_new(pel_order **out) PEL_MUST_USE;

/*
 * pel_order_raft_new - a raft cluster member (not started).
 * @param[in] o  copied; o->id must be one of o->peers (PEL_EINVAL, err says)
 * @param[in] h  copied
 * @return 0, PEL_EINVAL, PEL_ENOMEM.
 */
int pel_order_raft_new(const pel_order_raft_opts *o, const pel_order_handler *h,
                       pel_order **out, char *err, size_t errlen) PEL_MUST_USE;

/* pel_order_start - start the backend (raft: its loop thread; bootstraps
 * the static configuration on a pristine log, then replays the log
 * through handler.deliver). @return 0, PEL_EIO (err says why), PEL_ENOMEM. */
int pel_order_start(pel_order *o, char *err, size_t errlen) PEL_MUST_USE;

/* pel_order_stop - stop; waits for the backend's thread. Idempotent. */
void pel_order_stop(pel_order *o);

/* pel_order_free - stop if needed and free. NULL is fine. */
void pel_order_free(pel_order *o);

/* pel_order_direct - 1 if the node commits its own built blocks directly
 * (local), 0 if blocks must go through pel_order_propose (raft). */
int pel_order_direct(const pel_order *o);

/* pel_order_is_leader - 1 if this node may propose now. */
int pel_order_is_leader(pel_order *o);

/*
 * pel_order_propose - append the encoded block of `height` as one log
 * entry (entry copied). The outcome arrives later: handler.deliver of the
 * entry once committed, or handler.proposal_failed.
 * @return 0 (submitted), PEL_ENOTLEADER, PEL_ESTOPPED, PEL_ENOMEM,
 *         PEL_EINVAL (local: nothing to propose to).
 */
int pel_order_propose(pel_order *o, uint64_t height, const uint8_t *entry, size_t len)
    PEL_MUST_USE;

/* pel_order_get_status - a consistent-enough snapshot for status pages. */
void pel_order_get_status(pel_order *o, pel_order_status *st);

/* pel_order_hand_off - if this node leads, hand the leadership to an
 * up-to-date voter (raft_transfer; async, returns at once); else nothing.
 * A diverged leader calls it (rpc/cluster_watch.c). Local: nothing. */
void pel_order_hand_off(pel_order *o);

/* pel_order_members - the members in the Raft configuration as this node
 * knows it now (the latest configuration entry it has, committed or not),
 * at most max of them. @return how many (0 for local). */
unsigned pel_order_members(pel_order *o, pel_cluster_peer *out, unsigned max);

/*
 * pel_order_change - change the membership (leader only), one change at a
 * time, and wait up to wait_ms for the new configuration to commit.
 * ADD refuses an id or a raft address already in the configuration;
 * REMOVE refuses to remove the last voter; PROMOTE of a voter is done at
 * once. A promotion commits only once the member has caught up with the
 * log (it must be running); libraft gives up after a catch-up round of
 * 5 s without progress (PEL_EIO).
 * @param[out] id  the member's id (ADD: the one chosen)
 * @return 0 (committed), PEL_ENOTLEADER, PEL_EBUSY (another change runs),
 *         PEL_EPENDING (wait_ms passed: it goes on, see pel_order_members),
 *         PEL_EEXIST, PEL_ENOTFOUND, PEL_EINVAL, PEL_ESTOPPED, PEL_EIO,
 *         PEL_ENOMEM; err says which and why.
 */
int pel_order_change(pel_order *o, pel_change_op op, uint64_t id, const char *raft,
                     const char *rpc, unsigned wait_ms, uint64_t *id_out, char *err,
                     size_t errlen) PEL_MUST_USE;

/* ---- implementation interface (order_local.c, order_raft.c) ---- */

typedef struct pel_order_ops {
    const char *name;
    int direct;
    int (*start)(pel_order *o, char *err, size_t errlen);
    void (*stop)(pel_order *o);
    void (*free)(pel_order *o);
    int (*is_leader)(pel_order *o);
    int (*propose)(pel_order *o, uint64_t height, const uint8_t *entry, size_t len);
    void (*status)(pel_order *o, pel_order_status *st);
    void (*hand_off)(pel_order *o);
    unsigned (*members)(pel_order *o, pel_cluster_peer *out, unsigned max);
    int (*change)(pel_order *o, pel_change_op op, uint64_t id, const char *raft, const char *rpc,
                  unsigned wait_ms, uint64_t *id_out, char *err, size_t errlen);
} pel_order_ops;

struct pel_order {
    const pel_order_ops *ops;
};

#endif
