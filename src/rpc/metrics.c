/*
 * metrics.c - /metrics in the Prometheus text format (see metrics.h).
 *
 * Every metric is written from one table, so a name, its help, its type
 * and its value are declared together. Counters end in _total; times are
 * in seconds, as Prometheus' conventions ask.
 */
#include "rpc/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exec/engine.h"

void pel_metrics_sample_node(pel_node *n, pel_metrics_sample *out)
{
    pel_chain_head h = pel_chain_get_head(pel_node_chain(n));
    const pel_node_config *c = pel_node_cfg(n);
    pel_node_stats st;
    memset(out, 0, sizeof *out);
    pel_node_get_stats(n, &st);
    pel_mempool_stats(pel_node_mempool(n), &out->mempool_txs,
                      &out->mempool_bytes, &out->mempool_senders);
    out->chain_id = pel_node_genesis(n)->params.chain_id;
    out->engine = pel_engine_kind_name(c->engine);
    out->threads = c->threads;
    out->height = h.height;
    out->history_size = h.history_size;
    out->head_timestamp_ms = h.timestamp_ms;
    out->blocks = st.blocks;
    out->txs = st.txs;
    out->tps_recent = st.tps_recent;
    out->last_exec_us = st.last_exec_us;
    out->last_commit_us = st.last_commit_us;
    out->failed = pel_node_failed(n);
    out->diverged = pel_node_diverged(n, NULL);
    out->stats = st;
}

static int put(pel_buf *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        return PEL_ERANGE;
    return pel_buf_append(out, line, (size_t)n);
}

/* A label value, escaped: backslash, double quote and newline. */
static int put_label(pel_buf *out, const char *v)
{
    int rc = 0;
    for (; *v && !rc; v++) {
        const char *e = *v == '\\' ? "\\\\" : *v == '"' ? "\\\""
                      : *v == '\n' ? "\\n" : NULL;
        rc = e ? pel_buf_append(out, e, 2) : pel_buf_append(out, v, 1);
    }
    return rc;
}

static int put_info(const pel_metrics_sample *s, pel_buf *out)
{
    int rc = put(out, "# HELP pel_node_info The node's chain and engine; "
                      "the value is always 1.\n# TYPE pel_node_info gauge\n"
                      "pel_node_info{chain_id=\"");
    if (!rc) rc = put_label(out, s->chain_id ? s->chain_id : "");
    if (!rc) rc = put(out, "\",engine=\"");
    if (!rc) rc = put_label(out, s->engine ? s->engine : "");
    if (!rc) rc = put(out, "\",threads=\"%u\"} 1\n", s->threads);
    return rc;
}

/* The block latency histogram: cumulative buckets, as the format wants. */
static int put_latency(const pel_node_stats *st, pel_buf *out)
{
    const char *name = "pel_block_latency_seconds";
    uint64_t cum = 0;
    int rc = put(out, "# HELP %s Time from cutting a block to its durable commit "
                      "(execution and store commit).\n# TYPE %s histogram\n", name, name);
    for (int i = 0; !rc && i < PEL_NODE_LAT_BUCKETS; i++) {
        cum += st->lat_count[i];
        if (i < PEL_NODE_LAT_BUCKETS - 1)
            rc = put(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, pel_node_lat_bounds[i], cum);
        else
            rc = put(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
    }
    if (!rc) rc = put(out, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name,
                      (double)st->lat_sum_us / 1e6, name, cum);
    return rc;
}

typedef struct metric {
    const char *name, *type, *help;
    double value;
} metric;

int pel_metrics_format(const pel_metrics_sample *s, pel_buf *out)
{
    const metric m[] = {
        {"pel_chain_height", "gauge", "Height of the latest committed block.",
         (double)s->height},
        {"pel_chain_transactions", "gauge",
         "Transactions in the ledger (the history tree's size).",
         (double)s->history_size},
        {"pel_chain_head_timestamp_seconds", "gauge",
         "Timestamp of the latest committed block.",
         (double)s->head_timestamp_ms / 1e3},
        {"pel_blocks_produced_total", "counter",
         "Blocks produced since the node started.", (double)s->blocks},
        {"pel_transactions_committed_total", "counter",
         "Transactions committed since the node started.", (double)s->txs},
        {"pel_transactions_per_second", "gauge",
         "Committed transactions per second over the last 10 seconds.",
         s->tps_recent},
        {"pel_block_exec_seconds", "gauge",
         "Execution time of the latest block.", (double)s->last_exec_us / 1e6},
        {"pel_block_commit_seconds", "gauge",
         "Store commit time (with fsync) of the latest block.",
         (double)s->last_commit_us / 1e6},
        {"pel_mempool_transactions", "gauge",
         "Transactions waiting in the mempool.", (double)s->mempool_txs},
        {"pel_mempool_bytes", "gauge", "Bytes accounted to the mempool.",
         (double)s->mempool_bytes},
        {"pel_mempool_senders", "gauge",
         "Senders with a transaction in the mempool.",
         (double)s->mempool_senders},
        {"pel_cluster_diverged", "gauge",
         "1 when this cluster member's state root differs from the one a majority "
         "of the members signed (node_info.ordering.diverged).",
         s->diverged ? 1.0 : 0.0},
        {"pel_node_failed", "gauge",
         "1 when the producer stopped on an unrecoverable error.",
         s->failed ? 1.0 : 0.0},
        {"pel_transactions_failed_total", "counter",
         "Committed transactions whose receipt has a failure status.",
         (double)s->stats.failed_txs},
        {"pel_engine_executions_total", "counter",
         "Transaction executions by the engine, re-executions included.",
         (double)s->stats.executions},
        {"pel_engine_aborts_total", "counter",
         "Block-STM validations that failed (each causes a re-execution).",
         (double)s->stats.aborts},
        {"pel_engine_dependencies_total", "counter",
         "Block-STM suspensions on an estimate of an earlier transaction.",
         (double)s->stats.dependencies},
        {"pel_engine_reexecutions_total", "counter",
         "Declared-access engine: transactions re-run by its fallback.",
         (double)s->stats.reexecutions},
    };
    int rc = put_info(s, out);
    for (size_t i = 0; !rc && i < sizeof m / sizeof m[0]; i++) {
        double v = m[i].value;
        /* whole numbers (all but the rates and times) print exactly */
        const char *fmt = v == (double)(uint64_t)v && v < 9007199254740992.0
            ? "# HELP %s %s\n# TYPE %s %s\n%s %.0f\n"
            : "# HELP %s %s\n# TYPE %s %s\n%s %.9g\n";
        rc = put(out, fmt, m[i].name, m[i].help, m[i].name, m[i].type,
                 m[i].name, v);
    }
    if (!rc) rc = put_latency(&s->stats, out);
    return rc == PEL_ERANGE ? PEL_ENOMEM : rc;
}

int pel_metrics_get(void *ctx, const char *path, pel_buf *body,
                    const char **content_type)
{
    pel_metrics_sample s;
    if (strcmp(path, "/metrics") != 0) {
        const char nf[] = "not found\n";
        return pel_buf_append(body, nf, sizeof nf - 1) == 0 ? 404 : 500;
    }
    pel_metrics_sample_node(ctx, &s);
    if (pel_metrics_format(&s, body) != 0)
        return 500;
    *content_type = PEL_METRICS_CONTENT_TYPE;
    return 200;
}
