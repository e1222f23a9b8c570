/*
 * cluster_watch.h - divergence detection across the members of a raft
 * cluster (DESIGN.md section 7: "every node publishes a signed checkpoint
 * per height so a divergence is detected and reported").
 *
 * Every member signs its own checkpoint of every height it applies (its
 * own state root, computed by its own execution). The watch runs on its
 * own thread (never the Raft loop) and, every period, asks each peer's
 * JSON-RPC API (cluster.peers[].rpc) for node_info (height, state root)
 * and, when the two heads differ, for its `checkpoint` at the lower of
 * the two heights; it compares that peer's state root with this node's at
 * the same height. A peer is then "agree", "disagree" (at a height) or
 * unknown (unreachable, or no checkpoint there).
 *
 * Verdict (pel_cluster_judge): this node has diverged when more than half
 * of the members, this node counted, sign a different state root than
 * ours at a common height, i.e. at most a minority agrees with us. Then
 * the node logs an ERROR once, marks itself (pel_node_set_diverged, which
 * makes it non-authoritative: see node.h) and node_info.ordering.diverged
 * and /metrics pel_cluster_diverged show it. A peer that disagrees while a
 * majority agrees with us is logged as a WARN (it is the one diverging;
 * its own watch marks it).
 *
 * Life cycle: pel_cluster_watch_start after pel_node_start,
 * pel_cluster_watch_stop before pel_node_stop. Thread safety: start and
 * stop from one thread; the watch only uses the node's thread-safe calls.
 */
#ifndef PEL_CLUSTER_WATCH_H
#define PEL_CLUSTER_WATCH_H

#include <stdint.h>

#include "core/err.h"
#include "node/node.h"

typedef struct pel_cluster_watch pel_cluster_watch;

/* One peer's comparison with this node. */
typedef enum { PEL_PEER_UNKNOWN, PEL_PEER_AGREE, PEL_PEER_DISAGREE } pel_peer_verdict;

typedef struct pel_peer_vote {
    pel_peer_verdict verdict;
    uint64_t height;              /* the common height compared */
    uint8_t ours[32], theirs[32]; /* state roots there */
} pel_peer_vote;

/*
 * pel_cluster_judge - the verdict over the votes of n peers in a cluster
 * of `members` (this node included): 1 when the disagreeing peers are
 * more than members / 2 (out filled: the lowest disagreeing height, our
 * root and theirs there), else 0 (out untouched). Pure.
 */
int pel_cluster_judge(const pel_peer_vote *votes, unsigned n, unsigned members,
                      pel_node_divergence *out);

/* pel_cluster_root_of_note - the state root in a checkpoint note's
 * "state-root <hex>" line. @return 0, PEL_ECORRUPT (no such line). */
int pel_cluster_root_of_note(const char *note, uint8_t root[32]) PEL_MUST_USE;

/*
 * pel_cluster_watch_start - start watching n's peers every period_ms
 * (0: 1000). Nothing to do (NULL *out, 0) for a node with local ordering.
 * @return 0, PEL_ENOMEM. The watch owns its clients; free with stop.
 */
int pel_cluster_watch_start(pel_node *n, unsigned period_ms, pel_cluster_watch **out) PEL_MUST_USE;

/* pel_cluster_watch_stop - stop the thread (waits for a round in flight,
 * bounded by the RPC timeouts) and free. NULL is fine. */
void pel_cluster_watch_stop(pel_cluster_watch *w);

#endif
