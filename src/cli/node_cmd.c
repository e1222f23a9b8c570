/*
 * node_cmd.c - `pel init`, `pel node` and `pel admin verify`: creating a
 * node directory, running the node (producer + HTTP API) in the
 * foreground, and checking a stopped node's data by full replay.
 */
#include <errno.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/hex.h"
#include "core/log.h"
#include "rpc/cluster_watch.h"
#include "node/node.h"
#include "state/store.h"
#include "rpc/events.h"
#include "rpc/http.h"
#include "rpc/methods.h"
#include "rpc/metrics.h"
#include "rpc/static.h"

static int want_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

/* ---- pel init ---- */

static void init_usage(FILE *f)
{
    fprintf(f,
        "usage: pel init [--dir D] [--chain-id X] [--port P] [--faucet-balance N]\n"
        "                [--cluster N [--raft-port R]]\n"
        "\n"
        "Creates a node directory D (default ./devnet) for a new chain: node key,\n"
        "faucet key, genesis.json (the faucet holds the whole supply), config.json\n"
        "(HTTP API on 127.0.0.1:P) and data/. Refuses to touch a directory that\n"
        "already holds a genesis.json.\n"
        "--cluster N creates N node directories D/node1..D/nodeN of one chain run\n"
        "by a raft cluster (same genesis and faucet key, a node key each): node i\n"
        "serves its API on 127.0.0.1:P+i-1 and Raft on 127.0.0.1:R+i-1. Start each\n"
        "with pel node --dir D/nodeI; pel cluster status --dir D/node1 checks them.\n"
        "Defaults: --chain-id pel-devnet --port 8645 --faucet-balance 1000000000000000000\n"
        "          --raft-port 8745\n");
}

static int init_cluster(const char *dir, const char *chain, uint64_t supply, unsigned n,
                        unsigned long long port, unsigned long long raft_port)
{
    uint16_t rpc[PEL_CLUSTER_MAX], raft[PEL_CLUSTER_MAX];
    char err[512] = "";
    if (port + n - 1 > 65535 || raft_port + n - 1 > 65535) {
        fprintf(stderr, "pel init: ports out of range\n");
        return 2;
    }
    for (unsigned i = 0; i < n; i++) {
        rpc[i] = (uint16_t)(port + i);
        raft[i] = (uint16_t)(raft_port + i);
    }
    int rc = pel_node_init_cluster(dir, chain, supply, n, rpc, raft, err, sizeof err);
    if (rc) { fprintf(stderr, "pel init: %s\n", err[0] ? err : pel_strerror(rc)); return 1; }
    printf("initialised a %u-node raft cluster in %s (chain id %s)\n", n, dir, chain);
    for (unsigned i = 0; i < n; i++)
        printf("  node %u: pel node --dir %s/node%u   (API 127.0.0.1:%u, raft 127.0.0.1:%u)\n",
               i + 1, dir, i + 1, rpc[i], raft[i]);
    printf("then: pel cluster status --dir %s/node1\n", dir);
    return 0;
}

int pel_cli_init(int argc, char **argv)
{
    const char *dir = "devnet", *chain = "pel-devnet";
    unsigned long long port = 8645, supply = 1000000000000000000ull, cluster = 0, raft_port = 8745;
    if (want_help(argc, argv)) { init_usage(stdout); return 0; }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--dir") && v) { dir = v; i++; }
        else if (!strcmp(a, "--chain-id") && v) { chain = v; i++; }
        else if (!strcmp(a, "--port") && v) { if (pel_cli_u64(a, v, 1, 65535, &port)) return 2; i++; }
        else if (!strcmp(a, "--cluster") && v) {
            if (pel_cli_u64(a, v, 1, PEL_CLUSTER_MAX, &cluster)) return 2;
            i++;
        } else if (!strcmp(a, "--raft-port") && v) {
            if (pel_cli_u64(a, v, 1, 65535, &raft_port)) return 2;
            i++;
        } else if (!strcmp(a, "--faucet-balance") && v) {
            if (pel_cli_u64(a, v, 0, INT64_MAX, &supply)) return 2;
            i++;
        } else { fprintf(stderr, "pel init: unknown option '%s'\n", a); init_usage(stderr); return 2; }
    }
    char err[512] = "";
    if (cluster) return init_cluster(dir, chain, supply, (unsigned)cluster, port, raft_port);
    int rc = pel_node_init_dir(dir, chain, supply, (uint16_t)port, err, sizeof err);
    if (rc) { fprintf(stderr, "pel init: %s\n", err[0] ? err : pel_strerror(rc)); return 1; }
    printf("initialised node directory %s (chain id %s, API on 127.0.0.1:%llu)\n"
           "start it with: pel node --dir %s\n", dir, chain, port, dir);
    return 0;
}

/* ---- pel node ---- */

static void node_usage(FILE *f)
{
    fprintf(f,
        "usage: pel node [--dir D] [--engine sequential|blockstm|declared] [--threads T]\n"
        "                [--listen HOST:PORT] [--block-interval-ms MS] [--max-block-txs N]\n"
        "                [--max-commit-group N] [--web DIR] [--quiet]\n"
        "\n"
        "Runs the node in directory D (default ./devnet) in the foreground: the\n"
        "block producer and the JSON-RPC API (docs/API.md) at /rpc, the explorer\n"
        "at / and Prometheus metrics at /metrics. Options override config.json.\n"
        "Stops cleanly on SIGINT or SIGTERM (the block in progress is committed\n"
        "first). A second node on the same directory is refused.\n"
        "--max-commit-group N  when the committer falls behind, commit up to N\n"
        "           blocks in one store transaction and sync (default 1; 4-8 on\n"
        "           disks slow at random writes: README, \"Group commit\")\n"
        "--web DIR  the explorer's files; default: $PEL_WEB_DIR, else web/ beside\n"
        "           the directory of the pel binary (build/../web), else ./web\n");
}

static int node_parse(int argc, char **argv, const char **dir, const char **web, pel_node_overrides *ov,
                      int *quiet)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long x;
        pel_engine_kind k;
        if (!strcmp(a, "--quiet")) { *quiet = 1; continue; }
        if (!v) { fprintf(stderr, "pel node: unknown option or missing value '%s'\n", a); return 2; }
        i++;
        if (!strcmp(a, "--dir")) *dir = v;
        else if (!strcmp(a, "--web")) *web = v;
        else if (!strcmp(a, "--engine")) {
            if (pel_engine_kind_parse(v, &k)) { fprintf(stderr, "pel node: unknown engine '%s'\n", v); return 2; }
            ov->engine = (int)k;
        } else if (!strcmp(a, "--threads")) { if (pel_cli_u64(a, v, 1, 256, &x)) return 2; ov->threads = (unsigned)x; }
        else if (!strcmp(a, "--listen")) snprintf(ov->listen, sizeof ov->listen, "%s", v);
        else if (!strcmp(a, "--block-interval-ms")) {
            if (pel_cli_u64(a, v, 1, 60000, &x)) return 2;
            ov->block_interval_ms = (uint32_t)x;
        } else if (!strcmp(a, "--max-block-txs")) {
            if (pel_cli_u64(a, v, 1, 1000000, &x)) return 2;
            ov->max_block_txs = (uint32_t)x;
        } else if (!strcmp(a, "--max-commit-group")) {
            if (pel_cli_u64(a, v, 1, PEL_MAX_COMMIT_GROUP, &x)) return 2;
            ov->max_commit_group = (uint32_t)x;
        } else { fprintf(stderr, "pel node: unknown option '%s'\n", a); return 2; }
    }
    return 0;
}

/* The explorer's directory: --web as given (an error if unusable), else
 * the first default that exists; *st stays NULL (and the explorer is not
 * served) when there is none. */
static int open_web(const char *web, pel_static **st)
{
    char dir[4096];
    *st = NULL;
    if (pel_static_find_dir(web, dir, sizeof dir) != 0) {
        pel_log(PEL_LOG_WARN, "explorer not served: no web/ directory found (give --web DIR or set PEL_WEB_DIR)");
        return 0;
    }
    if (pel_static_open(dir, st) != 0) {
        fprintf(stderr, "pel node: --web %s: not a directory\n", dir);
        return 1;
    }
    pel_log(PEL_LOG_INFO, "explorer files from %s", pel_static_root(*st));
    return 0;
}

/* The HTTP server: the API, /metrics, the event streams at /events, and
 * the explorer at / when st. */
static int serve(pel_node *n, pel_static *st, pel_events *ev, pel_http **out)
{
    const pel_node_config *c = pel_node_cfg(n);
    pel_http_opts o = pel_http_defaults();
    size_t nm;
    const pel_rpc_method *m = pel_rpc_node_methods(&nm);
    const pel_http_route routes[] = {
        { "/metrics", pel_metrics_get, n },
        { "/", pel_static_get, st },
    };
    o.bind_addr = c->listen_host;
    o.port = c->listen_port;
    o.max_body = (size_t)c->rpc_max_body_mb << 20;
    o.cors_origin = c->cors_origin[0] ? c->cors_origin : NULL;
    const pel_http_stream_route streams[] = { { "/events", &pel_events_stream_ops, ev } };
    o.routes = routes;
    o.n_routes = st ? 2 : 1;
    o.streams = streams;
    o.n_streams = 1;
    int rc = pel_http_start(&o, m, nm, n, out);
    if (!rc && (rc = pel_events_run(ev, *out)) != 0) {
        pel_http_stop(*out);
        *out = NULL;
    }
    return rc;
}

/* The node allocates and frees each block's working memory (state-tree
 * nodes, write sets, receipts, LMDB's dirty pages: over 100 MB a block
 * under the open-science mix) again and again. With glibc's defaults the
 * free top of each thread's heap goes back to the kernel once it passes the
 * trim threshold (128 KiB, growing to at most 64 MiB as large chunks are
 * freed), so every block faulted the same memory in again, each page zeroed
 * by the kernel (perf: clear_page under sysmalloc, 2-5 % of the node's CPU;
 * a sixth of a science block's commit). The node keeps up to 256 MiB free
 * per heap and serves chunks up to 32 MiB from the heaps. A malloc setting
 * in GLIBC_TUNABLES wins over these. */
static void malloc_policy(void)
{
#ifdef __GLIBC__
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc.")) return;
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
}

int pel_cli_node(int argc, char **argv)
{
    const char *dir = "devnet", *web = NULL;
    int quiet = 0;
    pel_node_overrides ov = pel_node_no_overrides();
    pel_static *st = NULL;
    if (want_help(argc, argv)) { node_usage(stdout); return 0; }
    int rc = node_parse(argc, argv, &dir, &web, &ov, &quiet);
    if (rc) { node_usage(stderr); return rc; }
    if (quiet) pel_log_set_level(PEL_LOG_WARN);
    malloc_policy();
    if (open_web(web, &st)) return 1;
    /* Signals go to this thread only (sigwait below): block them before any
     * thread starts so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    char err[1024] = "";
    pel_node *n = NULL;
    pel_http *h = NULL;
    rc = pel_node_open(dir, &ov, &n, err, sizeof err);
    if (rc) { fprintf(stderr, "pel node: %s\n", err[0] ? err : pel_strerror(rc)); pel_static_close(st); return 1; }
    pel_events *ev = NULL;
    rc = pel_events_new(n, &ev);
    if (!rc) rc = serve(n, st, ev, &h);
    if (rc) {
        pel_events_free(ev);
        fprintf(stderr, "pel node: cannot serve the API on %s:%u: %s\n", pel_node_cfg(n)->listen_host,
                pel_node_cfg(n)->listen_port, pel_strerror(rc));
        pel_node_close(n);
        pel_static_close(st);
        return 1;
    }
    rc = pel_node_start(n);
    if (rc) {
        fprintf(stderr, "pel node: cannot start: %s\n", pel_strerror(rc));
        pel_events_halt(ev);
        pel_http_stop(h);
        pel_events_free(ev);
        pel_node_close(n);
        pel_static_close(st);
        return 1;
    }
    pel_cluster_watch *watch = NULL;
    if (pel_cluster_watch_start(n, 0, &watch))
        pel_log(PEL_LOG_WARN, "cannot start the cluster watch: divergence will not be detected");
    const pel_addr *fa = pel_node_faucet_addr(n);
    char faddr[PEL_ADDR_STR_LEN + 1] = "";
    if (fa) pel_addr_format(fa, faddr);
    pel_log(PEL_LOG_INFO, "serving JSON-RPC on http://%s:%u/rpc", pel_node_cfg(n)->listen_host, pel_http_port(h));
    if (!quiet) {
        printf("PEL node running: chain %s, API http://%s:%u/rpc\n", pel_node_genesis(n)->params.chain_id,
               pel_node_cfg(n)->listen_host, pel_http_port(h));
        if (st) printf("explorer: http://%s:%u/   metrics: http://%s:%u/metrics\n", pel_node_cfg(n)->listen_host,
                       pel_http_port(h), pel_node_cfg(n)->listen_host, pel_http_port(h));
        if (fa && pel_node_cfg(n)->faucet_enabled)
            printf("try:  build/pel keygen --out me.key && build/pel faucet <your pel1 address> --wait\n"
                   "      build/pel tx transfer --key me.key --to %s --amount 5 --wait\n", faddr);
        fflush(stdout);
    }
    int sig = 0;
    sigwait(&set, &sig);
    pel_log(PEL_LOG_INFO, "%s: stopping (finishing the block in progress)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    pel_cluster_watch_stop(watch);
    pel_events_halt(ev);
    pel_http_stop(h);
    pel_events_free(ev);
    pel_static_close(st);
    pel_node_stop(n);
    int failed = pel_node_failed(n);
    pel_chain_head head = pel_chain_get_head(pel_node_chain(n));
    pel_log(PEL_LOG_INFO, "stopped at height %" PRIu64, head.height);
    pel_node_close(n);
    return failed ? 1 : 0;
}

/* ---- pel admin ---- */

static void admin_usage(FILE *f)
{
    fprintf(f,
        "usage: pel admin verify [--dir D]\n"
        "       pel admin rebuild-state-tree [--dir D]\n"
        "       pel admin verifier-key [--dir D]\n"
        "       pel admin stats [--dir D] [--json]\n"
        "\n"
        "verify              replays every committed block of the (stopped) node in D\n"
        "                    from genesis with the sequential engine and checks heights,\n"
        "                    hashes, signatures, every receipt, the transaction index,\n"
        "                    the whole state and total supply, and rebuilds the state\n"
        "                    and history trees and every checkpoint independently.\n"
        "rebuild-state-tree  computes the state tree's root from scratch over the stored\n"
        "                    state and compares it with the head's state root.\n"
        "verifier-key        prints the note verifier key of the node's checkpoints\n"
        "                    (what `pel verify --key` takes).\n"
        "stats               what the store holds: per table its entries, B+tree depth\n"
        "                    and pages; the data file's pages in use and free, the\n"
        "                    store format. Reads a running node's store too (read-only).\n"
        "Exit status 0 when everything matches, 1 with the first difference.\n");
}

static void progress(void *arg, uint64_t h)
{
    uint64_t top = *(uint64_t *)arg;
    if (isatty(2) && (h % 1000 == 0 || h == top)) fprintf(stderr, "\rverified %" PRIu64 "/%" PRIu64 " blocks", h, top);
}

static int admin_verify(pel_node *n)
{
    char err[1024] = "";
    pel_chain_head head = pel_chain_get_head(pel_node_chain(n));
    uint64_t top = head.height;
    int rc = pel_chain_verify(pel_node_chain(n), progress, &top, err, sizeof err);
    if (top && isatty(2)) fprintf(stderr, "\n");
    if (rc) printf("FAILED: %s\n", err);
    else printf("ok: %" PRIu64 " blocks, %" PRIu64 " transactions, state, trees, checkpoints and supply match the replay\n",
                head.height, head.history_size);
    return rc ? 1 : 0;
}

static int admin_rebuild(pel_node *n)
{
    uint8_t root[32];
    char hex[65], hhex[65];
    pel_chain_head head;
    if (!pel_chain_trees(pel_node_chain(n))) {
        fprintf(stderr, "pel admin rebuild-state-tree: this chain has no state tree\n");
        return 1;
    }
    int rc = pel_chain_rebuild_state_root(pel_node_chain(n), root, &head);
    if (rc) { fprintf(stderr, "pel admin rebuild-state-tree: %s\n", pel_strerror(rc)); return 1; }
    pel_hex_encode(root, 32, hex);
    pel_hex_encode(head.state_root, 32, hhex);
    if (memcmp(root, head.state_root, 32)) {
        printf("FAILED: rebuilt root %s, the head (height %" PRIu64 ") says %s\n", hex, head.height, hhex);
        return 1;
    }
    printf("ok: state root %s at height %" PRIu64 " equals a from-scratch rebuild\n", hex, head.height);
    return 0;
}

static int admin_verifier_key(pel_node *n)
{
    char vkey[PEL_NOTE_VKEY_MAX];
    int rc = pel_note_verifier_format(pel_chain_origin(pel_node_chain(n)), pel_node_pubkey(n), vkey, sizeof vkey);
    if (rc) { fprintf(stderr, "pel admin verifier-key: %s\n", pel_strerror(rc)); return 1; }
    printf("%s\n", vkey);
    return 0;
}

/* admin_stats - pel_store_get_stats of D/data, opened read-only: no node
 * lock, so it works on a running node too. */
static int admin_stats(const char *dir, int json)
{
    char data[4096];
    pel_store *s;
    pel_store_stats st;
    pel_store_opts o = pel_store_defaults();
    o.read_only = 1;
    if (pel_node_data_path(dir, data, sizeof data)) {
        fprintf(stderr, "pel admin stats: the directory path is too long\n");
        return 1;
    }
    if (access(data, F_OK) != 0) {
        fprintf(stderr, "pel admin stats: %s: no node data directory (run `pel init --dir %s` first)\n", data, dir);
        return 1;
    }
    int rc = pel_store_open(data, &o, &s);
    if (rc) { fprintf(stderr, "pel admin stats: cannot open the store in %s: %s\n", data, pel_strerror(rc)); return 1; }
    rc = pel_store_get_stats(s, &st);
    uint32_t f = 0;
    char ferr[256] = "";
    long long format = 0;   /* 0: none recorded (chain.h); -1: a damaged record */
    int frc = rc ? 0 : pel_chain_store_format(s, &f, ferr, sizeof ferr);
    if (!rc) format = frc == 0 || frc == PEL_EINVAL ? (long long)f : -1;
    pel_store_close(s);
    if (rc) { fprintf(stderr, "pel admin stats: %s\n", pel_strerror(rc)); return 1; }
    double mib = st.page_size / 1048576.0;
    if (json) {
        printf("{\"page_size\":%u,\"map_size\":%" PRIu64 ",\"pages_used\":%" PRIu64 ",\"free_pages\":%" PRIu64
               ",\"last_txn\":%" PRIu64 ",\"readers\":%u,\"max_readers\":%u,\"format\":%lld,\"tables\":{",
               st.page_size, st.map_size, st.pages_used, st.free_pages, st.last_txn, st.readers, st.max_readers, format);
        for (int t = 0; t < PEL_T_COUNT; t++) {
            const pel_store_table_stats *x = &st.t[t];
            printf("%s\"%s\":{\"entries\":%" PRIu64 ",\"depth\":%u,\"branch_pages\":%" PRIu64
                   ",\"leaf_pages\":%" PRIu64 ",\"overflow_pages\":%" PRIu64 "}", t ? "," : "",
                   pel_store_table_name((pel_table)t), x->entries, x->depth, x->branch_pages, x->leaf_pages,
                   x->overflow_pages);
        }
        printf("}}\n");
        return 0;
    }
    printf("store %s: format %lld%s, page %u bytes, last transaction %" PRIu64 ", readers %u of %u\n", data, format,
           format == 0 ? " (none recorded)" : format < 0 ? " (damaged record)" : "", st.page_size, st.last_txn,
           st.readers, st.max_readers);
    printf("file: %" PRIu64 " pages (%.1f MiB) in use or free, %" PRIu64 " free (%.1f MiB); map %.0f MiB\n",
           st.pages_used, st.pages_used * mib, st.free_pages, st.free_pages * mib, st.map_size / 1048576.0);
    printf("%-12s %12s %5s %10s %12s %10s %10s\n", "table", "entries", "depth", "branch", "leaf", "overflow", "MiB");
    for (int t = 0; t < PEL_T_COUNT; t++) {
        const pel_store_table_stats *x = &st.t[t];
        uint64_t pages = x->branch_pages + x->leaf_pages + x->overflow_pages;
        printf("%-12s %12" PRIu64 " %5u %10" PRIu64 " %12" PRIu64 " %10" PRIu64 " %10.1f\n",
               pel_store_table_name((pel_table)t), x->entries, x->depth, x->branch_pages, x->leaf_pages,
               x->overflow_pages, pages * mib);
    }
    return 0;
}

int pel_cli_admin(int argc, char **argv)
{
    const char *dir = "devnet";
    int json = 0;
    if (argc < 1 || want_help(argc, argv)) { admin_usage(argc < 1 ? stderr : stdout); return argc < 1 ? 2 : 0; }
    const char *what = argv[0];
    if (strcmp(what, "verify") && strcmp(what, "rebuild-state-tree") && strcmp(what, "verifier-key") &&
        strcmp(what, "stats")) {
        fprintf(stderr, "pel admin: unknown command '%s'\n", what);
        admin_usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--json") && !strcmp(what, "stats")) json = 1;
        else { admin_usage(stderr); return 2; }
    }
    if (!strcmp(what, "stats")) return admin_stats(dir, json);
    char err[1024] = "";
    pel_node *n = NULL;
    pel_node_overrides ov = pel_node_no_overrides();
    ov.threads = 1;
    pel_log_set_level(PEL_LOG_WARN);
    int rc = pel_node_open(dir, &ov, &n, err, sizeof err);
    if (rc) { fprintf(stderr, "pel admin %s: %s\n", what, err[0] ? err : pel_strerror(rc)); return 1; }
    if (!strcmp(what, "verify")) rc = admin_verify(n);
    else if (!strcmp(what, "rebuild-state-tree")) rc = admin_rebuild(n);
    else rc = admin_verifier_key(n);
    pel_node_close(n);
    return rc;
}
