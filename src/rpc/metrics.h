/*
 * metrics.h - the node's /metrics endpoint in the Prometheus text
 * exposition format (version 0.0.4): chain height, transactions, recent
 * throughput, mempool size, the last block's execution and commit time.
 *
 * Split in two so the format can be tested without a node:
 * pel_metrics_sample() reads a running node's figures, pel_metrics_format()
 * writes a sample as text. pel_metrics_get() is the GET route doing both.
 *
 * Example (node_cmd.c):
 *     routes[n++] = (pel_http_route){"/metrics", pel_metrics_get, node};
 *
 * Thread safety: pel_metrics_get() and pel_metrics_sample() only use the
 * node's thread-safe accessors; pel_metrics_format() touches only its
 * arguments.
 */
#ifndef PEL_METRICS_H
#define PEL_METRICS_H

#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "node/node.h"

#define PEL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The figures /metrics shows; strings point into the node (valid while it
 * is open) or, in tests, anywhere that outlives the format call. */
typedef struct pel_metrics_sample {
    const char *chain_id, *engine;
    unsigned threads;
    uint64_t height, history_size, head_timestamp_ms;
    uint64_t blocks, txs;                 /* produced since the node started */
    double tps_recent;
    uint64_t last_exec_us, last_commit_us;
    uint64_t mempool_txs, mempool_bytes, mempool_senders;
    int failed;                           /* pel_node_failed() */
    int diverged;                         /* pel_node_diverged() */
    pel_node_stats stats;                 /* engine totals and the latency histogram */
} pel_metrics_sample;

/* pel_metrics_sample_node - the node's figures now. */
void pel_metrics_sample_node(pel_node *n, pel_metrics_sample *out) PEL_NONNULL(1, 2);

/* pel_metrics_format - append the exposition text for `s` to `out`: for
 * each metric a "# HELP" and a "# TYPE" line, then its sample line(s).
 * Label values are escaped (\\, \", \n) as the format requires.
 * @return 0 or PEL_ENOMEM (out may hold part of the text). */
PEL_MUST_USE int pel_metrics_format(const pel_metrics_sample *s, pel_buf *out)
    PEL_NONNULL(1, 2);

/* pel_metrics_get - the GET route (pel_http_get_fn); ctx is the pel_node.
 * @return 200 with the text, 404 for a path below /metrics, or 500 when
 *         out of memory. */
int pel_metrics_get(void *ctx, const char *path, pel_buf *body,
                    const char **content_type);

#endif
