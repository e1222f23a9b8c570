/*
 * node.c - the running node: directory lock, loading, the block producer
 * thread, submission, status queries and the devnet faucet (node.h).
 */
#include "node/node.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/codec.h"
#include "core/cpu.h"
#include "core/keyfile.h"
#include "core/log.h"
#include "modules/modules.h"
#include "node/order.h"

#define RECENT 128   /* blocks remembered for the recent tps figure */

struct pel_node {
    char dir[4096];
    pel_node_config cfg;
    int lock_fd;
    pel_genesis g;
    uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN];
    int has_faucet;
    uint8_t faucet_sk[PEL_SECKEY_LEN];
    pel_addr faucet_addr;
    pthread_mutex_t faucet_mu;          /* one faucet transfer at a time (nonces) */
    pel_chain *chain;
    pel_mempool *mp;
    pel_engine *engine;
    pthread_t producer, committer;
    int started;
    struct job *queue[PEL_MAX_COMMIT_GROUP];  /* handed to the committer, not yet
                                           taken (guarded by mu; max_commit_group
                                           at most) */
    size_t nqueue;
    int committer_stop;
    pthread_mutex_t mu;                 /* guards wake, stop, queue, jobs' done, stats, recent */
    pthread_cond_t cond;
    int wake, stop;
    atomic_int failed;                  /* relaxed: a status flag, read by RPC threads */
    pel_node_stats stats;
    uint64_t recent_ms[RECENT], recent_n[RECENT];
    unsigned recent_pos;
    pel_order *order;                   /* the ordering backend (order.h) */
    /* raft ordering only (guarded by mu): committed entries waiting to be
     * applied, the highest height queued or applied, and the one proposal
     * of this node in flight */
    struct entry *q_head, *q_tail;
    uint64_t queued;
    uint64_t prop_height;               /* 0: none */
    int prop_failed;
    /* the proposer's own block, sealed with its store transaction left
     * open (pel_chain_seal_open) while it is ordered: see "the leader
     * commits its own block" below */
    int own_state;                      /* OWN_* */
    uint64_t own_height;
    uint8_t own_hash[32];
    int restore_pending;                /* a snapshot restore wants the store */
    pthread_mutex_t wmu;                /* seal and commit: one store writer */
    /* one block at a time through the engine, which is not reentrant
     * (engine.h): with raft ordering the proposer may be building a block
     * when a committed entry arrives for the applier to re-execute (an
     * entry of an earlier term, committed along with a configuration
     * change). Two blocks in one engine share its scratch and its worker
     * pool and corrupt each other (it now refuses: PEL_EBUSY). */
    pthread_mutex_t emu;
    /* cluster divergence (node.h): div is guarded by mu; diverged turns 1
     * once div is set (relaxed: a status flag; div itself is read under mu) */
    atomic_int diverged;
    pel_node_divergence div;
    uint64_t corrupt_at;                /* test fault: PEL_TEST_CORRUPT_WRITE_AT (0: off) */
};

/* A committed raft entry: an encoded block record (block.h). */
typedef struct entry {
    struct entry *next;
    uint64_t height;
    size_t len;
    uint8_t data[];
} entry;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

pel_node_overrides pel_node_no_overrides(void)
{
    pel_node_overrides o;
    memset(&o, 0, sizeof o);
    o.engine = -1;
    return o;
}

/* ---- opening ---- */

static int take_lock(pel_node *n, char *err, size_t errlen)
{
    char path[4200], pid[32] = "";
    snprintf(path, sizeof path, "%s/LOCK", n->dir);
    n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (n->lock_fd < 0 && errno == ENOENT) {
        snprintf(err, errlen, "node directory %s does not exist (create one with `pel init --dir %s`)",
                 n->dir, n->dir);
        return PEL_ENOTFOUND;
    }
    if (n->lock_fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return PEL_EIO;
    }
    if (flock(n->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t r = pread(n->lock_fd, pid, sizeof pid - 1, 0);
        pid[r > 0 ? r : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        snprintf(err, errlen, "node directory %s is in use by another pel node (pid %s)",
                 n->dir, pid[0] ? pid : "unknown");
        close(n->lock_fd);
        n->lock_fd = -1;
        return PEL_ELOCKED;
    }
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(n->lock_fd, 0) != 0 || pwrite(n->lock_fd, pid, (size_t)len, 0) != len)
        pel_log(PEL_LOG_WARN, "cannot write pid to %s", path);
    return 0;
}

static int load_genesis(pel_node *n, char *err, size_t errlen)
{
    char path[4200], *text, msg[256];
    size_t len;
    snprintf(path, sizeof path, "%s/genesis.json", n->dir);
    int rc = pel_read_file(path, 64u << 20, &text, &len);
    if (rc) {
        snprintf(err, errlen, "cannot read %s: %s (create a node directory with `pel init --dir %s`)",
                 path, pel_strerror(rc), n->dir);
        return rc;
    }
    rc = pel_genesis_parse(text, len, &n->g, msg, sizeof msg);
    free(text);
    if (rc) snprintf(err, errlen, "%s: %s", path, msg);
    n->g.params.modules = pel_modules_table();   /* the chain's transaction types */
    return rc;
}

static int load_keys(pel_node *n, char *err, size_t errlen)
{
    char path[4200];
    uint8_t fpk[PEL_PUBKEY_LEN];
    snprintf(path, sizeof path, "%s/node.key", n->dir);
    int rc = pel_keyfile_load(path, n->pk, n->sk, err, (unsigned)errlen);
    if (rc || !n->cfg.faucet_enabled) return rc;
    snprintf(path, sizeof path, "%s/faucet.key", n->dir);
    rc = pel_keyfile_load(path, fpk, n->faucet_sk, err, (unsigned)errlen);
    if (rc == PEL_ENOTFOUND) { err[0] = 0; return 0; }   /* no faucet on this chain */
    if (rc) return rc;
    n->has_faucet = 1;
    pel_addr_from_pubkey(fpk, &n->faucet_addr);
    return 0;
}

static int apply_overrides(pel_node_config *c, const pel_node_overrides *o, char *err, size_t errlen)
{
    if (!o) return 0;
    if (o->engine >= 0) c->engine = (pel_engine_kind)o->engine;
    if (o->threads) c->threads = o->threads;
    if (o->block_interval_ms) c->block_interval_ms = o->block_interval_ms;
    if (o->max_block_txs) c->max_block_txs = o->max_block_txs;
    if (o->max_commit_group) c->max_commit_group = o->max_commit_group;
    if (o->listen[0] &&
        pel_parse_listen(o->listen, c->listen_host, sizeof c->listen_host, &c->listen_port)) {
        snprintf(err, errlen, "--listen must be host:port, got %s", o->listen);
        return PEL_EINVAL;
    }
    return 0;
}

static int accounts_get(void *ctx, const pel_addr *a, uint64_t *nonce, uint64_t *balance)
{
    return pel_chain_account(ctx, a, balance, nonce);
}

static int open_parts(pel_node *n, char *err, size_t errlen)
{
    char data[4200];
    pel_chain_opts co = pel_chain_defaults();
    co.store.map_size = n->cfg.map_size_mb << 20;
    co.trees = n->cfg.state_trees;
    co.state_versions_kept = n->cfg.state_versions_kept;
    co.state_prune_interval = n->cfg.state_prune_interval;
    co.tree_threads = n->cfg.state_tree_threads;
    co.sk = n->sk;
    if (pel_node_data_path(n->dir, data, sizeof data)) {
        snprintf(err, errlen, "node directory path too long");
        return PEL_EINVAL;
    }
    if (mkdir(data, 0700) != 0 && errno != EEXIST) {  /* a wiped cluster member rejoins */
        snprintf(err, errlen, "cannot create %s: %s", data, strerror(errno));
        return PEL_EIO;
    }
    int rc = pel_chain_open(data, &n->g, &co, &n->chain, err, errlen);
    if (rc) return rc;
    unsigned threads = n->cfg.threads;
    if (threads == 0) threads = pel_cpu_count();
    n->cfg.threads = threads;
    pel_engine_opts eo = pel_engine_defaults(n->cfg.engine, threads);
    rc = pel_engine_new(&eo, &n->engine);
    if (rc) { snprintf(err, errlen, "cannot start the engine: %s", pel_strerror(rc)); return rc; }
    pel_mempool_opts mo = pel_mempool_defaults();
    mo.max_txs = n->cfg.mempool_max_txs;
    mo.max_bytes = n->cfg.mempool_max_bytes;
    mo.max_per_sender = n->cfg.mempool_max_per_sender;
    mo.verify_threads = threads;
    pel_mempool_accounts acc = { accounts_get, n->chain };
    rc = pel_mempool_new(&mo, &n->g.params, acc, &n->mp);
    if (rc) { snprintf(err, errlen, "cannot create the mempool: %s", pel_strerror(rc)); return rc; }
    pel_mempool_set_height(n->mp, pel_chain_get_head(n->chain).height + 1);
    return 0;
}

static void on_deliver(void *ctx, const uint8_t *p, size_t len);
static void on_proposal_failed(void *ctx, uint64_t height, int code);
static int on_snapshot(void *ctx, uint8_t **data, size_t *len);
static int on_restore(void *ctx, const uint8_t *data, size_t len);

static int open_order(pel_node *n, char *err, size_t errlen)
{
    n->queued = pel_chain_get_head(n->chain).height;
    if (!n->cfg.ordering_raft) return pel_order_local_new(&n->order);
    pel_order_raft_opts o;
    memset(&o, 0, sizeof o);
    o.id = n->cfg.cluster_id;
    int w = n->cfg.raft_dir[0] == '/' ? snprintf(o.dir, sizeof o.dir, "%s", n->cfg.raft_dir)
          : snprintf(o.dir, sizeof o.dir, "%s/%s", n->dir, n->cfg.raft_dir);
    if (w < 0 || (size_t)w >= sizeof o.dir) {
        snprintf(err, errlen, "cluster.raft_dir: path too long");
        return PEL_EINVAL;
    }
    o.election_timeout_ms = n->cfg.election_timeout_ms;
    o.heartbeat_ms = n->cfg.heartbeat_ms;
    o.snapshot_threshold = n->cfg.snapshot_threshold;
    o.snapshot_trailing = n->cfg.snapshot_trailing;
    o.join = n->cfg.cluster_join;
    o.n_peers = n->cfg.n_peers;
    memcpy(o.peers, n->cfg.peers, sizeof o.peers);
    pel_order_handler h = { n, on_deliver, on_proposal_failed, on_snapshot, on_restore };
    return pel_order_raft_new(&o, &h, &n->order, err, errlen);
}

int pel_node_open(const char *dir, const pel_node_overrides *ov, pel_node **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    if (errlen) err[0] = 0;
    pel_node *n = calloc(1, sizeof *n);
    if (!n) return PEL_ENOMEM;
    n->lock_fd = -1;
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    pthread_mutex_init(&n->mu, NULL);
    pthread_mutex_init(&n->faucet_mu, NULL);
    pthread_mutex_init(&n->wmu, NULL);
    pthread_mutex_init(&n->emu, NULL);
    pthread_condattr_t ca;                  /* wait_turn's deadlines are CLOCK_MONOTONIC */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cond, &ca);
    pthread_condattr_destroy(&ca);
    int rc = take_lock(n, err, errlen);
    if (!rc) rc = pel_node_config_load(dir, &n->cfg, err, errlen);
    if (!rc) rc = apply_overrides(&n->cfg, ov, err, errlen);
    if (!rc) rc = load_genesis(n, err, errlen);
    if (!rc) rc = load_keys(n, err, errlen);
    if (!rc) rc = open_parts(n, err, errlen);
    if (!rc) rc = open_order(n, err, errlen);
    if (rc) { pel_node_close(n); return rc; }
    const char *fault = getenv("PEL_TEST_CORRUPT_WRITE_AT");
    if (fault && *fault) {
        n->corrupt_at = strtoull(fault, NULL, 10);
        pel_log(PEL_LOG_WARN, "test fault armed: block %" PRIu64 " will be applied with one corrupted "
                "state write (PEL_TEST_CORRUPT_WRITE_AT)", n->corrupt_at);
    }
    pel_chain_head h = pel_chain_get_head(n->chain);
    pel_log(PEL_LOG_INFO, "chain %s at height %" PRIu64 " (%" PRIu64 " transactions), engine %s, %u threads",
            n->g.params.chain_id, h.height, h.history_size, pel_engine_kind_name(n->cfg.engine),
            n->cfg.threads);
    *out = n;
    return 0;
}

/* ---- producing blocks ---- */

const double pel_node_lat_bounds[PEL_NODE_LAT_BUCKETS - 1] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
};

/* Adds a committed block to the stats; returns how many of its
 * transactions failed (for the log line). */
static uint32_t record_block(pel_node *n, const pel_built_block *b, uint64_t exec_us, uint64_t commit_us)
{
    const pel_exec_stats *es = &b->result.stats;
    uint32_t failed = 0, bucket = 0;
    double lat = (double)(exec_us + commit_us) / 1e6;
    for (uint32_t i = 0; i < b->result.n; i++) failed += b->result.receipts[i].status != 0;
    while (bucket < PEL_NODE_LAT_BUCKETS - 1 && lat > pel_node_lat_bounds[bucket]) bucket++;
    pthread_mutex_lock(&n->mu);
    n->stats.blocks++;
    n->stats.txs += b->header.tx_count;
    n->stats.failed_txs += failed;
    n->stats.last_exec_us = exec_us;
    n->stats.last_commit_us = commit_us;
    n->stats.executions += es->executions;
    n->stats.aborts += es->aborts;
    n->stats.dependencies += es->dependencies;
    n->stats.reexecutions += es->reexecutions;
    n->stats.lat_count[bucket]++;
    n->stats.lat_sum_us += exec_us + commit_us;
    n->recent_ms[n->recent_pos % RECENT] = now_ms();
    n->recent_n[n->recent_pos % RECENT] = b->header.tx_count;
    n->recent_pos++;
    pthread_mutex_unlock(&n->mu);
    return failed;
}

static void log_block(pel_node *n, const pel_built_block *b, uint32_t failed, uint64_t exec_us,
                      uint64_t commit_us, size_t group)
{
    uint64_t mtx = 0, mbytes = 0, msend = 0;
    pel_mempool_stats(n->mp, &mtx, &mbytes, &msend);
    pel_node_stats st;
    pel_node_get_stats(n, &st);
    char grp[48] = "", parts[256] = "";
    if (group > 1) snprintf(grp, sizeof grp, ", a group of %zu blocks", group);
    pel_chain_commit_times ct;
    pel_chain_last_commit_times(n->chain, &ct);
    size_t at = 0;
    for (int i = 0; i < PEL_CT_PARTS && at < sizeof parts; i++)
        at += (size_t)snprintf(parts + at, sizeof parts - at, "%s%s %.1f", i ? ", " : "",
                               pel_chain_commit_part(i), ct.us[i] / 1000.0);
    /* the build's parts, with Block-STM's phases when it ran them */
    char build[256];
    const uint64_t *bu = b->build_us, *ph = b->result.stats.phase_us;
    at = (size_t)snprintf(build, sizeof build, "execute %.1f", bu[PEL_BT_EXECUTE] / 1000.0);
    if (ph[PEL_PH_EXECUTE] && at < sizeof build)
        at += (size_t)snprintf(build + at, sizeof build - at,
                               " = setup %.1f, run %.1f, materialise %.1f, tail %.1f, write set %.1f",
                               ph[PEL_PH_SETUP] / 1000.0, ph[PEL_PH_EXECUTE] / 1000.0,
                               ph[PEL_PH_MATERIALISE] / 1000.0, ph[PEL_PH_TAIL] / 1000.0,
                               ph[PEL_PH_WRITE_SET] / 1000.0);
    if (at < sizeof build)
        snprintf(build + at, sizeof build - at, "; header %.1f, leaves %.1f", bu[PEL_BT_HEADER] / 1000.0,
                 bu[PEL_BT_LEAVES] / 1000.0);
    pel_log(PEL_LOG_INFO,
            "block %" PRIu64 ": %u txs (%u failed), exec %.1f ms (%s), commit %.1f ms (%s%s), %.0f tps, "
            "mempool %" PRIu64,
            b->header.height, b->header.tx_count, failed, exec_us / 1000.0, build, commit_us / 1000.0, parts,
            grp, st.tps_recent, mtx);
}

/* Wait until the interval ends, a full block is ready, or stop. */
static int wait_turn(pel_node *n, uint64_t deadline_us)
{
    pthread_mutex_lock(&n->mu);
    while (!n->stop && !n->wake) {
        uint64_t now = pel_mono_us();
        if (now >= deadline_us) break;
        struct timespec ts = pel_deadline_us(deadline_us - now);
        pthread_cond_timedwait(&n->cond, &n->mu, &ts);
    }
    n->wake = 0;
    int stop = n->stop;
    pthread_mutex_unlock(&n->mu);
    return stop;
}

/*
 * The pipeline. The producer takes transactions and builds block N+1 on
 * top of the blocks it built before whose commit may still be running
 * (pel_chain_build_after overlays their writes), and hands it to the
 * committer's queue. The committer takes every block queued, at most
 * max_commit_group, and commits them in one store transaction and one
 * sync (pel_chain_commit_group): when it keeps up that is one block at a
 * time, as before; when it falls behind, the blocks that arrived during a
 * commit go together into the next, which writes and syncs fewer pages a
 * block (the random-key inserts of several blocks share pages). Blocks
 * commit in order and a transaction is reported committed only after its
 * group's commit returned. The producer waits while the queue is full, so
 * at most 2 * max_commit_group blocks are built and not committed. Only
 * the producer frees jobs (a built job may be a parent of the block it is
 * building, committed or not); the committer marks them done.
 */
typedef struct job {
    pel_built_block b;
    const pel_tx **txs;
    size_t k;
    uint64_t exec_us;
    int done;                           /* guarded by mu: 1 committed, -1 not */
} job;

static void job_free(job *j)
{
    if (!j) return;
    pel_built_block_free(&j->b);
    free(j->txs);
    free(j);
}

/* Commit one group taken from the queue; after a failure (this node's or
 * an earlier group's) nothing is committed and the transactions go back. */
static void commit_jobs(pel_node *n, job **g, size_t ng)
{
    pel_built_block *bs[PEL_MAX_COMMIT_GROUP];
    for (size_t i = 0; i < ng; i++) bs[i] = &g[i]->b;
    uint64_t t0 = pel_mono_us();
    int rc = pel_node_failed(n);
    if (!rc) rc = pel_chain_commit_group(n->chain, bs, ng);
    uint64_t commit_us = pel_mono_us() - t0;
    if (rc && !pel_node_failed(n)) {
        pel_log(PEL_LOG_ERROR, "cannot commit block %" PRIu64 "%s: %s; the node stops producing%s",
                g[0]->b.header.height, ng > 1 ? " and the blocks after it in its group" : "",
                pel_strerror(rc), rc == PEL_EMAPFULL ? " (raise store.map_size_mb in config.json)" : "");
        atomic_store_explicit(&n->failed, rc, memory_order_relaxed);
    }
    for (size_t i = 0; i < ng; i++) {
        job *j = g[i];
        if (rc) {
            pel_mempool_done(n->mp, j->txs, j->k, 0);
            continue;
        }
        pel_mempool_done(n->mp, j->txs, j->k, 1);
        pel_mempool_set_height(n->mp, j->b.header.height + 1);
        log_block(n, &j->b, record_block(n, &j->b, j->exec_us, commit_us), j->exec_us, commit_us, ng);
    }
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < ng; i++) g[i]->done = rc ? -1 : 1;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
}

static void *committer_main(void *arg)
{
    pel_node *n = arg;
    job *g[PEL_MAX_COMMIT_GROUP];
    pthread_mutex_lock(&n->mu);
    for (;;) {
        while (!n->nqueue && !n->committer_stop) pthread_cond_wait(&n->cond, &n->mu);
        if (!n->nqueue) break;
        size_t ng = n->nqueue;
        memcpy(g, n->queue, ng * sizeof *g);
        n->nqueue = 0;
        pthread_cond_broadcast(&n->cond);       /* room in the queue */
        pthread_mutex_unlock(&n->mu);
        commit_jobs(n, g, ng);
        pthread_mutex_lock(&n->mu);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

/* Take the engine (emu); say so when the other thread has it: rare, and
 * worth seeing in a log. */
static void engine_lock(pel_node *n, const char *who)
{
    if (pthread_mutex_trylock(&n->emu) == 0) return;
    pel_log(PEL_LOG_INFO, "%s waits for the engine: the other thread is executing a block", who);
    pthread_mutex_lock(&n->emu);
}

/* Build the next block on the blocks pending[0..np) (newest first; none:
 * the committed head). */
static job *build_job(pel_node *n, const pel_built_block *const *pending, size_t np,
                      const pel_tx **taken, size_t k)
{
    job *j = calloc(1, sizeof *j);
    if (j) j->txs = malloc(k * sizeof *j->txs);
    if (!j || !j->txs) { if (j) free(j); pel_mempool_done(n->mp, taken, k, 0); return NULL; }
    memcpy(j->txs, taken, k * sizeof *taken);
    j->k = k;
    uint64_t t0 = pel_mono_us();
    engine_lock(n, "the producer");
    int rc = pel_chain_build_after(n->chain, n->engine, pending, np, j->txs, (uint32_t)k, now_ms(),
                                   n->sk, &j->b);
    pthread_mutex_unlock(&n->emu);
    j->exec_us = pel_mono_us() - t0;
    if (rc) {
        pel_log(PEL_LOG_ERROR, "cannot execute a block: %s; the node stops producing", pel_strerror(rc));
        atomic_store_explicit(&n->failed, rc, memory_order_relaxed);
        pel_mempool_done(n->mp, j->txs, k, 0);
        free(j->txs);
        free(j);
        return NULL;
    }
    return j;
}

/* The producer's jobs, oldest first: built and not yet freed. Not done
 * after a reap: at most a full queue and a group being committed; then
 * the one built next. */
#define JOBS_MAX (2 * PEL_MAX_COMMIT_GROUP + 1)
typedef struct jobs { job *j[JOBS_MAX]; size_t n; } jobs;

/* Free the jobs at the front that are done (committed, or dropped after a
 * failure); write the rest, newest first, into pending. */
static size_t reap(pel_node *n, jobs *js, const pel_built_block **pending)
{
    size_t drop = 0, np = 0;
    pthread_mutex_lock(&n->mu);
    while (drop < js->n && js->j[drop]->done) drop++;
    pthread_mutex_unlock(&n->mu);
    for (size_t i = 0; i < drop; i++) job_free(js->j[i]);
    memmove(js->j, js->j + drop, (js->n - drop) * sizeof *js->j);
    js->n -= drop;
    for (size_t i = js->n; i-- > 0;) pending[np++] = &js->j[i]->b;
    return np;
}

/* Wait until the committer's queue has room (before taking transactions:
 * meanwhile they gather in the mempool and the next block is full);
 * 0, or the failure code. Only the producer adds to the queue. */
static int wait_room(pel_node *n)
{
    pthread_mutex_lock(&n->mu);
    while (n->nqueue >= n->cfg.max_commit_group && !pel_node_failed(n))
        pthread_cond_wait(&n->cond, &n->mu);
    pthread_mutex_unlock(&n->mu);
    return pel_node_failed(n);
}

/* Queue j for the committer (wait_room said there is room); 0, or the
 * failure code (then j is not queued). */
static int queue_job(pel_node *n, job *j)
{
    pthread_mutex_lock(&n->mu);
    int rc = pel_node_failed(n);
    if (!rc) {
        n->queue[n->nqueue++] = j;
        pthread_cond_broadcast(&n->cond);
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

/* Wait until the committer is done with every job (at stop). */
static void drain(pel_node *n, jobs *js)
{
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < js->n; i++)
        while (!js->j[i]->done) pthread_cond_wait(&n->cond, &n->mu);
    pthread_mutex_unlock(&n->mu);
    for (size_t i = 0; i < js->n; i++) job_free(js->j[i]);
    js->n = 0;
}

static void *producer_main(void *arg)
{
    pel_node *n = arg;
    const pel_tx **taken = malloc(n->cfg.max_block_txs * sizeof *taken);
    jobs *js = calloc(1, sizeof *js);
    const pel_built_block *pending[JOBS_MAX];
    if (!taken || !js) {
        atomic_store_explicit(&n->failed, PEL_ENOMEM, memory_order_relaxed);
        free(taken);
        free(js);
        return NULL;
    }
    uint64_t deadline = pel_mono_us() + n->cfg.block_interval_ms * 1000ull;
    size_t k = 0;
    /* after a full block, the next one is cut at once (there may be more) */
    while (!pel_node_failed(n) && !wait_turn(n, k == n->cfg.max_block_txs ? 0 : deadline)) {
        if (wait_room(n)) break;
        deadline = pel_mono_us() + n->cfg.block_interval_ms * 1000ull;
        k = pel_mempool_take(n->mp, n->cfg.max_block_txs, taken);
        if (k == 0) continue;
        size_t np = reap(n, js, pending);
        job *j = build_job(n, pending, np, taken, k);
        if (!j) break;
        if (queue_job(n, j)) {          /* a parent failed to commit: drop this one */
            pel_mempool_done(n->mp, j->txs, j->k, 0);
            job_free(j);
            break;
        }
        js->j[js->n++] = j;
    }
    drain(n, js);
    free(js);
    free(taken);
    return NULL;
}

/* ---- raft ordering (order.h) ----
 *
 * The leader's producer cuts a block from its mempool on the committed
 * head (no pipelining: the next block waits until this one is committed
 * here), seals its header (pel_chain_seal_open: the roots and the
 * signature the block will have, the store transaction kept open) and
 * proposes the encoded block as one log entry. The leader commits its own
 * block when its entry comes back (see "the leader commits its own block"
 * below); every other node applies committed entries on its committer
 * thread: re-execute the transactions with the block's timestamp and
 * commit them with pel_chain_commit_as, which refuses (PEL_EDIVERGED) a
 * block whose header this node computes differently. Entries at or below
 * the highest height queued or applied are skipped: the log is replayed
 * from its start after a restart, and a new leader's block may race an
 * old leader's entry for the same height (the first in the log wins; the
 * loser's transactions go back to its mempool).
 */

/*
 * A log entry: u64 record length ‖ the block record (block.h: signed
 * header, which starts with the height, ‖ u32 count ‖ txs) ‖ zero bytes to
 * a multiple of 8. The padding is a workaround: with libraft 0.15 we saw a
 * leader's own copy of an entry whose size was not a multiple of 8 come
 * back from its disk shifted by 4 bytes after kill -9 and restart (the
 * followers' copies were right).
 */
#define ENTRY_HDR 8

static int entry_record(const uint8_t *p, size_t len, const uint8_t **rec, size_t *rlen)
{
    pel_dec d;
    uint64_t n = 0;
    pel_dec_init(&d, p, len);
    if (pel_dec_u64(&d, &n) || n > len - ENTRY_HDR) return PEL_ECORRUPT;
    *rec = p + ENTRY_HDR;
    *rlen = (size_t)n;
    return 0;
}

static uint64_t entry_height(const uint8_t *p, size_t len)
{
    pel_dec d;
    const uint8_t *rec;
    size_t rlen;
    uint64_t h = 0;
    if (entry_record(p, len, &rec, &rlen)) return UINT64_MAX;
    pel_dec_init(&d, rec, rlen);
    return pel_dec_u64(&d, &h) ? UINT64_MAX : h;
}

static void on_deliver(void *ctx, const uint8_t *p, size_t len)
{
    pel_node *n = ctx;
    uint64_t h = entry_height(p, len);
    if (h == UINT64_MAX) {
        pel_log(PEL_LOG_ERROR, "raft: a malformed log entry (%zu bytes); the node stops applying", len);
        atomic_store_explicit(&n->failed, PEL_ECORRUPT, memory_order_relaxed);
        return;
    }
    pthread_mutex_lock(&n->mu);
    if (h <= n->queued) { pthread_mutex_unlock(&n->mu); return; }   /* applied already */
    if (h != n->queued + 1) {
        pthread_mutex_unlock(&n->mu);
        pel_log(PEL_LOG_ERROR, "raft: entry for block %" PRIu64 " after block %" PRIu64
                ": a gap; the node stops applying", h, n->queued);
        atomic_store_explicit(&n->failed, PEL_ECORRUPT, memory_order_relaxed);
        return;
    }
    entry *e = malloc(sizeof *e + len);
    if (!e) {
        pthread_mutex_unlock(&n->mu);
        atomic_store_explicit(&n->failed, PEL_ENOMEM, memory_order_relaxed);
        return;
    }
    e->next = NULL;
    e->height = h;
    e->len = len;
    memcpy(e->data, p, len);
    if (n->q_tail) n->q_tail->next = e;
    else n->q_head = e;
    n->q_tail = e;
    n->queued = h;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
}

static void on_proposal_failed(void *ctx, uint64_t height, int code)
{
    pel_node *n = ctx;
    (void)code;
    pthread_mutex_lock(&n->mu);
    if (n->prop_height == height) n->prop_failed = 1;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
}

/* The test fault (PEL_TEST_CORRUPT_WRITE_AT, on a follower only: a
 * leader would seal its next block on the corrupted head): flip one byte of the
 * block's first non-empty state write and commit the block as this node
 * computes it, skipping the check against the proposer's header, as a node
 * with a silent state bug would. Its checkpoint at this height then signs
 * a state root the other members do not have (rpc/cluster_watch.c finds it);
 * the next replicated block fails its header check here (PEL_EDIVERGED). */
static int commit_corrupted(pel_node *n, pel_built_block *b)
{
    pel_writeset *ws = &b->result.block_writes;
    uint32_t i = 0;
    while (i < ws->n && (ws->w[i].kind != PEL_W_PUT || ws->w[i].val.len == 0)) i++;
    if (i == ws->n) return pel_chain_commit(n->chain, b);
    const uint8_t *orig = ws->w[i].val.p;
    uint8_t *bad = malloc(ws->w[i].val.len);
    if (!bad) return PEL_ENOMEM;
    memcpy(bad, orig, ws->w[i].val.len);
    bad[0] ^= 0x01;
    ws->w[i].val.p = bad;
    b->sk = n->sk;
    pel_log(PEL_LOG_WARN, "test fault: block %" PRIu64 " applied with a corrupted state write",
            b->header.height);
    int rc = pel_chain_commit(n->chain, b);
    ws->w[i].val.p = orig;
    free(bad);
    return rc;
}

/* ---- raft snapshots (order.h: handler.snapshot, handler.restore) ----
 *
 * Both run on the backend's thread, which is also the only one delivering
 * entries, so nothing is queued meanwhile. A snapshot must hold every
 * entry delivered so far: wait until the applier has applied them (the
 * store's head reaches `queued`), then dump the store in one read
 * transaction. A restore waits the same way (no apply in progress), then
 * replaces the store's content under the writer lock in one LMDB write
 * transaction (all or nothing, synced, like a block's commit); the chain
 * and store handles stay open, so RPC threads reading them never see a
 * closed store.
 */

/* Every entry delivered so far is applied (mu held). */
static int caught_up(pel_node *n)
{
    return !n->q_head && pel_chain_get_head(n->chain).height >= n->queued;
}

/* Wait until every queued entry is applied. 0, or the code that stops it. */
static int wait_idle(pel_node *n)
{
    int rc = 0;
    pthread_mutex_lock(&n->mu);
    while (!caught_up(n)) {
        if ((rc = pel_node_failed(n)) != 0 || (n->committer_stop && (rc = PEL_ESTOPPED))) break;
        struct timespec ts = pel_deadline_us(20000);
        pthread_cond_timedwait(&n->cond, &n->mu, &ts);
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

static int on_snapshot(void *ctx, uint8_t **data, size_t *len)
{
    pel_node *n = ctx;
    pel_chain_head at;
    pel_buf b;
    *data = NULL;
    *len = 0;
    int rc = wait_idle(n);
    if (rc) return rc;
    pel_buf_init(&b);
    if ((rc = pel_chain_snapshot(n->chain, &b, &at)) != 0) { pel_buf_free(&b); return rc; }
    *data = b.data;                     /* pel_buf memory is malloc'd: the backend frees it */
    *len = b.len;
    pel_log(PEL_LOG_INFO, "raft: snapshot of the store at height %" PRIu64 " (%zu bytes)",
            at.height, b.len);
    return 0;
}

/* Reorder txs so that those committed in this node's store come first;
 * @return how many are. */
static size_t split_committed(pel_node *n, const pel_tx **txs, size_t k)
{
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t h;
        uint32_t idx;
        if (pel_chain_tx_location(n->chain, txs[i]->id, &h, &idx) != 0) continue;
        const pel_tx *t = txs[m];
        txs[m++] = txs[i];
        txs[i] = t;
    }
    return m;
}

/* Forget pending transactions the snapshot committed (a member that led
 * before may hold some): those found in the index go as committed, which
 * also drops each sender's stale nonces; the rest go back untouched once
 * all were looked at (take never hands out a taken one twice). */
static void mempool_forget_committed(pel_node *n)
{
    const pel_tx *batch[256], **back = NULL;
    size_t k, nb = 0, cap = 0;
    while ((k = pel_mempool_take(n->mp, 256, batch)) > 0) {
        size_t m = split_committed(n, batch, k);
        pel_mempool_done(n->mp, batch, m, 1);
        if (nb + (k - m) > cap) {
            size_t ncap = cap ? 2 * cap : 256;
            while (ncap < nb + (k - m)) ncap *= 2;
            const pel_tx **nbk = realloc(back, ncap * sizeof *back);
            if (!nbk) { pel_mempool_done(n->mp, batch + m, k - m, 0); break; }
            back = nbk;
            cap = ncap;
        }
        memcpy(back + nb, batch + m, (k - m) * sizeof *back);
        nb += k - m;
    }
    if (nb) pel_mempool_done(n->mp, back, nb, 0);
    free(back);
}

static int on_restore(void *ctx, const uint8_t *data, size_t len)
{
    pel_node *n = ctx;
    uint64_t height;
    uint8_t hash[32];
    char err[256];
    int rc = pel_chain_snapshot_head(data, len, &height, hash);
    if (!rc) rc = wait_idle(n);
    if (rc) return rc;
    pel_chain_head cur = pel_chain_get_head(n->chain);
    if (height <= cur.height) {         /* this node is there already (its own, at start) */
        pel_log(PEL_LOG_INFO, "raft: snapshot at height %" PRIu64 " skipped: the store is at %" PRIu64,
                height, cur.height);
        return 0;
    }
    pthread_mutex_lock(&n->mu);                /* a proposer holding a seal lets go */
    n->restore_pending = 1;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
    pthread_mutex_lock(&n->wmu);
    rc = pel_chain_restore(n->chain, data, len, err, sizeof err);
    pthread_mutex_unlock(&n->wmu);
    pthread_mutex_lock(&n->mu);
    n->restore_pending = 0;
    pthread_mutex_unlock(&n->mu);
    if (rc) {
        pel_log(PEL_LOG_ERROR, "raft: cannot restore the snapshot at height %" PRIu64 ": %s; the node stops",
                height, err);
        atomic_store_explicit(&n->failed, rc, memory_order_relaxed);
        return rc;
    }
    pthread_mutex_lock(&n->mu);
    if (n->queued < height) n->queued = height;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
    pel_mempool_set_height(n->mp, height + 1);
    mempool_forget_committed(n);
    pel_log(PEL_LOG_INFO, "raft: restored a snapshot: height %" PRIu64 " -> %" PRIu64 " (%zu bytes)",
            cur.height, height, len);
    return 0;
}

/* Execute and commit one committed entry. */
static int apply_entry(pel_node *n, const entry *e, uint64_t *exec_us, uint64_t *commit_us,
                       pel_built_block *b)
{
    pel_block_header h;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, k = 0;
    pel_tx *txs = NULL;
    const pel_tx **ptrs = NULL;
    const uint8_t *rec = NULL;
    size_t rlen = 0;
    int rc = entry_record(e->data, e->len, &rec, &rlen);
    if (!rc) rc = pel_block_record_decode(rec, rlen, &h, &raw, &lens, &k);
    if (!rc && h.tx_count != k) rc = PEL_ECORRUPT;
    if (!rc) {
        txs = calloc(k ? k : 1, sizeof *txs);
        ptrs = calloc(k ? k : 1, sizeof *ptrs);
        if (!txs || !ptrs) rc = PEL_ENOMEM;
    }
    for (uint32_t i = 0; !rc && i < k; i++) {
        rc = pel_tx_decode(raw[i], lens[i], &txs[i]);
        ptrs[i] = &txs[i];
    }
    uint64_t t0 = pel_mono_us();
    if (!rc) {
        engine_lock(n, "the applier");
        rc = pel_chain_build(n->chain, n->engine, ptrs, k, h.timestamp_ms, NULL, b);
        pthread_mutex_unlock(&n->emu);
    }
    *exec_us = pel_mono_us() - t0;
    t0 = pel_mono_us();
    if (!rc) {
        pthread_mutex_lock(&n->wmu);
        rc = n->corrupt_at == h.height && h.height && !pel_order_is_leader(n->order)
                 ? commit_corrupted(n, b) : pel_chain_commit_as(n->chain, b, &h);
        pthread_mutex_unlock(&n->wmu);
    }
    *commit_us = pel_mono_us() - t0;
    if (!rc) pel_mempool_committed(n->mp, ptrs, k);   /* pending copies of them here are stale */
    free(raw);
    free(lens);
    free(txs);
    free(ptrs);
    return rc;
}

/*
 * The leader commits its own block. Its proposer seals a block with the
 * store transaction left open (trees updated in it) and holds the writer
 * lock (wmu) while the block is ordered. When the entry at that height
 * reaches the applier: if it is this block (same header hash), the
 * proposer writes the rest and commits, and the applier skips it; the
 * leader so executes and updates the trees once a block, not twice. If it
 * is another block (an earlier leader's), or the proposal failed, or a
 * snapshot restore wants the store, or the node stops, the proposer drops
 * its transaction and the applier applies what was ordered as usual.
 *
 * own_state (under mu): OWN_SEALING from the moment the proposer takes
 * the store, which it does only when nothing is queued or being applied
 * (an entry that arrives then waits for the seal); OWN_WAITING once the
 * hash is known; the applier sets OWN_MATCHED or OWN_CONFLICT for the
 * entry at own_height and waits for OWN_NONE, which the proposer sets when
 * it has committed or dropped the transaction and released wmu.
 */
enum { OWN_NONE = 0, OWN_SEALING, OWN_WAITING, OWN_MATCHED, OWN_CONFLICT };

/* The header hash of an entry's block; -1 if it does not decode. */
static int entry_hash(const entry *e, uint8_t hash[32])
{
    const uint8_t *rec;
    size_t rlen;
    pel_block_header h;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, k = 0;
    int rc = entry_record(e->data, e->len, &rec, &rlen);
    if (!rc) rc = pel_block_record_decode(rec, rlen, &h, &raw, &lens, &k);
    if (!rc) rc = pel_block_header_hash(&h, hash);
    free(raw);
    free(lens);
    return rc ? -1 : 0;
}

/* Applier: the entry e is next. If the proposer holds a seal at its
 * height, tell it whether e is its block and wait until it is done. */
static void settle_own(pel_node *n, const entry *e)
{
    uint8_t hash[32];
    int decoded = entry_hash(e, hash) == 0;
    pthread_mutex_lock(&n->mu);
    while (n->own_state == OWN_SEALING && !pel_node_failed(n)) pthread_cond_wait(&n->cond, &n->mu);
    if (n->own_state == OWN_WAITING && n->own_height == e->height) {
        n->own_state = decoded && !memcmp(hash, n->own_hash, 32) ? OWN_MATCHED : OWN_CONFLICT;
        pthread_cond_broadcast(&n->cond);
        while (n->own_state != OWN_NONE && !pel_node_failed(n)) pthread_cond_wait(&n->cond, &n->mu);
    }
    pthread_mutex_unlock(&n->mu);
}

static void *applier_main(void *arg)
{
    pel_node *n = arg;
    pthread_mutex_lock(&n->mu);
    for (;;) {
        while (!n->q_head && !n->committer_stop) pthread_cond_wait(&n->cond, &n->mu);
        if (n->committer_stop || pel_node_failed(n)) break;
        entry *e = n->q_head;
        n->q_head = e->next;
        if (!n->q_head) n->q_tail = NULL;
        pthread_mutex_unlock(&n->mu);
        pel_built_block b;
        uint64_t exec_us = 0, commit_us = 0;
        memset(&b, 0, sizeof b);
        if (e->height > pel_chain_get_head(n->chain).height) settle_own(n, e);
        int rc = e->height <= pel_chain_get_head(n->chain).height ? 0
               : apply_entry(n, e, &exec_us, &commit_us, &b);
        if (rc) {
            pel_log(PEL_LOG_ERROR, "cannot apply replicated block %" PRIu64 ": %s; the node stops",
                    e->height, pel_strerror(rc));
            atomic_store_explicit(&n->failed, rc, memory_order_relaxed);
        } else if (b.has_result) {
            pel_mempool_set_height(n->mp, e->height + 1);
            log_block(n, &b, record_block(n, &b, exec_us, commit_us), exec_us, commit_us, 1);
        }
        pel_built_block_free(&b);
        free(e);
        pthread_mutex_lock(&n->mu);
        pthread_cond_broadcast(&n->cond);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

/* 1 when the block at `height` is committed here with this hash. */
static int committed_as(pel_node *n, uint64_t height, const uint8_t hash[32])
{
    pel_buf rec;
    pel_block_header h;
    const uint8_t **raw = NULL;
    uint32_t *lens = NULL, k = 0;
    uint8_t got[32];
    pel_buf_init(&rec);
    int rc = pel_chain_block(n->chain, height, &rec);
    if (!rc) rc = pel_block_record_decode(rec.data, rec.len, &h, &raw, &lens, &k);
    if (!rc) rc = pel_block_header_hash(&h, got);
    free(raw);
    free(lens);
    pel_buf_free(&rec);
    return !rc && memcmp(got, hash, 32) == 0;
}

/* Every 5 s a proposal stays neither committed nor failed, say so (mu
 * held; released while logging): a stuck proposal stops the chain. */
static void say_stuck(pel_node *n, uint64_t height, uint64_t start, uint64_t *said)
{
    if (pel_mono_us() - *said <= 5000000) return;
    pel_order_status st;
    *said = pel_mono_us();
    pthread_mutex_unlock(&n->mu);
    pel_order_get_status(n->order, &st);
    pel_log(PEL_LOG_WARN, "block %" PRIu64 " proposed %" PRIu64 " s ago is neither committed nor "
            "failed (raft %s, term %" PRIu64 ", log %" PRIu64 ", delivered %" PRIu64 ", head %" PRIu64 ")",
            height, (*said - start) / 1000000, st.role, st.term, st.last_index, st.applied_index,
            pel_chain_get_head(n->chain).height);
    pthread_mutex_lock(&n->mu);
}

/* Proposer, holding a seal at `height`: wait until the applier reaches
 * it. 1: the entry there is this block (commit it); 0: another block, or
 * the proposal failed, a restore waits, or the node stops (drop it). */
static int wait_own(pel_node *n, uint64_t height)
{
    uint64_t start = pel_mono_us(), said = start;
    int mine = 0;
    pthread_mutex_lock(&n->mu);
    for (;;) {
        if (n->own_state == OWN_MATCHED) { mine = 1; break; }
        if (n->own_state == OWN_CONFLICT || n->prop_failed || n->restore_pending || n->stop ||
            pel_node_failed(n))
            break;
        say_stuck(n, height, start, &said);
        struct timespec ts = pel_deadline_us(20000);
        pthread_cond_timedwait(&n->cond, &n->mu, &ts);
    }
    pthread_mutex_unlock(&n->mu);
    return mine;
}

static void own_set(pel_node *n, int state)
{
    pthread_mutex_lock(&n->mu);
    n->own_state = state;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
}

/* Wait until block `height` is applied here (1: it is), the proposal
 * failed and nothing arrived for a while, or stop (0). A failed proposal
 * may still commit (leadership lost after the append): give it time. */
static int wait_applied(pel_node *n, uint64_t height)
{
    uint64_t grace = 0, start = pel_mono_us(), said = start;
    int applied = 0;
    pthread_mutex_lock(&n->mu);
    for (;;) {
        if (pel_chain_get_head(n->chain).height >= height) { applied = 1; break; }
        if (n->stop || pel_node_failed(n)) break;
        if (n->prop_failed && !grace) grace = pel_mono_us() + 2000000;
        if (grace && pel_mono_us() > grace) break;
        say_stuck(n, height, start, &said);
        struct timespec ts = pel_deadline_us(20000);
        pthread_cond_timedwait(&n->cond, &n->mu, &ts);
    }
    n->prop_height = 0;
    n->prop_failed = 0;
    pthread_mutex_unlock(&n->mu);
    return applied;
}

/* Encode b (sealed header h) as a log entry: the stored block record. */
static int encode_entry(const pel_block_header *h, const pel_tx *const *txs, pel_buf *out)
{
    int rc = pel_enc_u64(out, 0);                   /* the record's length, set below */
    if (!rc) rc = pel_block_header_encode(h, 1, out);
    if (!rc) rc = pel_enc_u32(out, h->tx_count);
    for (uint32_t i = 0; !rc && i < h->tx_count; i++) rc = pel_enc_bytes(out, txs[i]->raw, txs[i]->size);
    if (rc) return rc;
    uint64_t n = out->len - ENTRY_HDR;
    for (int i = 0; i < 8; i++) out->data[i] = (uint8_t)(n >> (8 * i));
    while (!rc && out->len % 8) rc = pel_enc_u8(out, 0);
    return rc;
}

/* Cut, seal and propose one block of the k taken transactions; hand them
 * back to the mempool as committed or not. @return 0, or a fatal code. */
static int propose_block(pel_node *n, const pel_tx **taken, size_t k)
{
    job *j = build_job(n, NULL, 0, taken, k);
    if (!j) return pel_node_failed(n) ? pel_node_failed(n) : PEL_ENOMEM;
    pel_block_header sealed;
    uint8_t hash[32];
    pel_buf b;
    pel_chain_sealed *open = NULL;
    pel_buf_init(&b);
    pthread_mutex_lock(&n->wmu);
    pthread_mutex_lock(&n->mu);
    int idle = caught_up(n);
    if (idle) n->own_state = OWN_SEALING;
    pthread_mutex_unlock(&n->mu);
    uint64_t t0 = pel_mono_us();
    int rc = idle ? pel_chain_seal_open(n->chain, &j->b, &sealed, &open) : PEL_EINVAL;
    uint64_t seal_us = pel_mono_us() - t0;
    if (!rc) rc = pel_block_header_hash(&sealed, hash);
    if (!rc) rc = encode_entry(&sealed, j->txs, &b);
    if (rc) {
        pel_chain_seal_abort(open);
        open = NULL;
        pthread_mutex_unlock(&n->wmu);
        if (idle) own_set(n, OWN_NONE);
    }
    int committed = 0, prc = 0, proposed = !rc;
    if (!rc) {
        pthread_mutex_lock(&n->mu);
        n->prop_height = sealed.height;
        n->prop_failed = 0;
        n->own_height = sealed.height;
        memcpy(n->own_hash, hash, 32);
        n->own_state = OWN_WAITING;
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->mu);
        prc = pel_order_propose(n->order, sealed.height, b.data, b.len);
        if (prc) on_proposal_failed(n, sealed.height, prc);
        int mine = wait_own(n, sealed.height), crc = 0;
        t0 = pel_mono_us();
        if (mine) crc = pel_chain_seal_commit(n->chain, open, &j->b);
        else pel_chain_seal_abort(open);
        open = NULL;
        uint64_t commit_us = seal_us + (pel_mono_us() - t0);
        pthread_mutex_unlock(&n->wmu);
        if (mine && crc) {
            pel_log(PEL_LOG_ERROR, "cannot commit block %" PRIu64 ": %s; the node stops%s", sealed.height,
                    pel_strerror(crc), crc == PEL_EMAPFULL ? " (raise store.map_size_mb in config.json)" : "");
            atomic_store_explicit(&n->failed, crc, memory_order_relaxed);
        } else if (mine) {
            pel_mempool_set_height(n->mp, sealed.height + 1);
            log_block(n, &j->b, record_block(n, &j->b, j->exec_us, commit_us), j->exec_us, commit_us, 1);
        }
        own_set(n, OWN_NONE);
        committed = mine ? !crc : wait_applied(n, sealed.height) && committed_as(n, sealed.height, hash);
        if (mine) {
            pthread_mutex_lock(&n->mu);
            n->prop_height = 0;
            n->prop_failed = 0;
            pthread_mutex_unlock(&n->mu);
        }
    } else if (rc == PEL_EINVAL) {
        rc = 0;                         /* the head moved under the build: try again */
    } else {
        pel_log(PEL_LOG_ERROR, "cannot seal a block: %s; the node stops producing", pel_strerror(rc));
        atomic_store_explicit(&n->failed, rc, memory_order_relaxed);
    }
    pel_buf_free(&b);
    /* Not committed as sealed here, yet some may be committed all the same:
     * a proposal reported failed can commit later, in an earlier leader's
     * block at the same height. Those go as committed (the mempool re-reads
     * their senders), or this node would propose them again. */
    size_t m = committed ? j->k : split_committed(n, j->txs, j->k);
    if (proposed && !committed)
        pel_log(PEL_LOG_INFO, "block %" PRIu64 " proposed here was not committed (%s): %zu of its "
                "transactions are committed in other blocks, %zu go back to the mempool", sealed.height,
                prc ? pel_strerror(prc) : "another block took its height, or the proposal failed",
                m, j->k - m);
    pel_mempool_done(n->mp, j->txs, m, 1);
    pel_mempool_done(n->mp, j->txs + m, j->k - m, 0);
    job_free(j);
    return rc;
}

size_t pel_node_take_stranded(pel_node *n, size_t max, uint8_t **raw, size_t *len)
{
    if (pel_order_direct(n->order) || pel_order_is_leader(n->order) || max == 0) return 0;
    const pel_tx **taken = malloc(max * sizeof *taken);
    if (!taken) return 0;
    size_t k = pel_mempool_take(n->mp, max, taken), m = 0;
    for (size_t i = 0; i < k; i++) {
        if (!taken[i]->raw || !(raw[m] = malloc(taken[i]->size))) continue;   /* dropped */
        memcpy(raw[m], taken[i]->raw, taken[i]->size);
        len[m++] = taken[i]->size;
    }
    pel_mempool_done(n->mp, taken, k, 1);      /* forgotten here: the leader has them now */
    free(taken);
    return m;
}

/* This node may cut a block: it leads and has applied every entry it got. */
static int may_propose(pel_node *n)
{
    if (!pel_order_is_leader(n->order) || pel_node_diverged(n, NULL)) return 0;
    pthread_mutex_lock(&n->mu);
    int idle = caught_up(n);
    pthread_mutex_unlock(&n->mu);
    return idle;
}

/* A leader with pending transactions that proposed nothing for 5 s says
 * why, every 5 s: what an operator (and a test's kept log) needs to tell a
 * stuck proposer from an idle one. */
static void report_idle(pel_node *n, uint64_t *since_us, int proposed)
{
    uint64_t pending = 0, now = pel_mono_us();
    if (proposed || !pel_order_is_leader(n->order)) { *since_us = now; return; }
    pel_mempool_stats(n->mp, &pending, NULL, NULL);
    if (!pending) { *since_us = now; return; }
    if (now - *since_us < 5000000) return;
    *since_us = now;
    pthread_mutex_lock(&n->mu);
    uint64_t queued = n->queued;
    int waiting = n->q_head != NULL;
    pthread_mutex_unlock(&n->mu);
    pel_log(PEL_LOG_WARN, "leader proposed no block for 5 s with %" PRIu64 " pending transactions "
            "(head %" PRIu64 ", queued %" PRIu64 ", %s, %s)", pending,
            pel_chain_get_head(n->chain).height, queued, waiting ? "entries to apply" : "nothing to apply",
            pel_node_diverged(n, NULL) ? "diverged" : "not diverged");
}

static void *proposer_main(void *arg)
{
    pel_node *n = arg;
    const pel_tx **taken = malloc(n->cfg.max_block_txs * sizeof *taken);
    if (!taken) { atomic_store_explicit(&n->failed, PEL_ENOMEM, memory_order_relaxed); return NULL; }
    uint64_t deadline = pel_mono_us() + n->cfg.block_interval_ms * 1000ull, idle_since = pel_mono_us();
    while (!pel_node_failed(n) && !wait_turn(n, deadline)) {
        deadline = pel_mono_us() + n->cfg.block_interval_ms * 1000ull;
        size_t k = may_propose(n) ? pel_mempool_take(n->mp, n->cfg.max_block_txs, taken) : 0;
        report_idle(n, &idle_since, k > 0);
        if (k && propose_block(n, taken, k)) break;
    }
    free(taken);
    return NULL;
}

int pel_node_start(pel_node *n)
{
    int direct = pel_order_direct(n->order);
    char err[512];
    if (pthread_create(&n->committer, NULL, direct ? committer_main : applier_main, n) != 0)
        return PEL_ENOMEM;
    (void)pthread_setname_np(n->committer, direct ? "pel-commit" : "pel-apply");   /* for top -H */
    int rc = pel_order_start(n->order, err, sizeof err);
    if (rc) pel_log(PEL_LOG_ERROR, "cannot start the %s ordering backend: %s",
                    n->cfg.ordering_raft ? "raft" : "local", err);
    if (rc || pthread_create(&n->producer, NULL, direct ? producer_main : proposer_main, n) != 0) {
        pel_order_stop(n->order);
        pthread_mutex_lock(&n->mu);
        n->committer_stop = 1;
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->committer, NULL);
        return rc ? rc : PEL_ENOMEM;
    }
    (void)pthread_setname_np(n->producer, direct ? "pel-produce" : "pel-propose");
    n->started = 1;
    return 0;
}

void pel_node_stop(pel_node *n)
{
    if (!n || !n->started) return;
    pthread_mutex_lock(&n->mu);
    n->stop = 1;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->producer, NULL);          /* it waits for its last block's commit */
    pel_order_stop(n->order);                 /* no more deliveries after this */
    pthread_mutex_lock(&n->mu);
    n->committer_stop = 1;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->committer, NULL);
    n->started = 0;
}

void pel_node_close(pel_node *n)
{
    if (!n) return;
    pel_node_stop(n);
    pel_order_free(n->order);
    for (entry *e = n->q_head, *next; e; e = next) { next = e->next; free(e); }
    pel_mempool_free(n->mp);
    pel_engine_free(n->engine);
    pel_chain_close(n->chain);
    pel_genesis_free(&n->g);
    sodium_memzero(n->sk, sizeof n->sk);
    sodium_memzero(n->faucet_sk, sizeof n->faucet_sk);
    if (n->lock_fd >= 0) close(n->lock_fd);   /* releases the flock */
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->mu);
    pthread_mutex_destroy(&n->faucet_mu);
    pthread_mutex_destroy(&n->wmu);
    pthread_mutex_destroy(&n->emu);
    free(n);
}

/* ---- accessors ---- */

const pel_node_config *pel_node_cfg(const pel_node *n) { return &n->cfg; }
pel_chain *pel_node_chain(pel_node *n) { return n->chain; }
const uint8_t *pel_node_pubkey(const pel_node *n) { return n->pk; }
pel_mempool *pel_node_mempool(pel_node *n) { return n->mp; }
const pel_genesis *pel_node_genesis(const pel_node *n) { return &n->g; }
const pel_addr *pel_node_faucet_addr(const pel_node *n) { return n->has_faucet ? &n->faucet_addr : NULL; }
pel_order *pel_node_order(pel_node *n) { return n->order; }

int pel_node_leader_rpc(pel_node *n, char *host_port, size_t cap)
{
    pel_order_status st;
    pel_order_get_status(n->order, &st);
    if (st.leader) return 1;
    return st.leader_id ? pel_node_member_rpc(n, st.leader_id, host_port, cap) : PEL_ENOTFOUND;
}

int pel_node_member_rpc(pel_node *n, uint64_t id, char *host_port, size_t cap)
{
    pel_cluster_peer m[PEL_CLUSTER_MAX];
    unsigned k = pel_order_members(n->order, m, PEL_CLUSTER_MAX);
    for (unsigned i = 0; i < k; i++)
        if (m[i].id == id && m[i].rpc[0]) {
            snprintf(host_port, cap, "%s", m[i].rpc);
            return 0;
        }
    for (unsigned i = 0; i < n->cfg.n_peers; i++)      /* not in the configuration yet, or an old one */
        if (n->cfg.peers[i].id == id) {
            snprintf(host_port, cap, "%s", n->cfg.peers[i].rpc);
            return 0;
        }
    return PEL_ENOTFOUND;
}

void pel_node_set_diverged(pel_node *n, const pel_node_divergence *d)
{
    pthread_mutex_lock(&n->mu);
    if (!atomic_load_explicit(&n->diverged, memory_order_relaxed)) {
        n->div = *d;
        atomic_store_explicit(&n->diverged, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&n->mu);
}

int pel_node_diverged(pel_node *n, pel_node_divergence *out)
{
    if (!atomic_load_explicit(&n->diverged, memory_order_relaxed)) return 0;
    if (out) {
        pthread_mutex_lock(&n->mu);
        *out = n->div;
        pthread_mutex_unlock(&n->mu);
    }
    return 1;
}

int pel_node_failed(pel_node *n) { return atomic_load_explicit(&n->failed, memory_order_relaxed); }

void pel_node_get_stats(pel_node *n, pel_node_stats *out)
{
    uint64_t now = now_ms(), sum = 0, oldest = now;
    pthread_mutex_lock(&n->mu);
    *out = n->stats;
    unsigned cnt = n->recent_pos < RECENT ? n->recent_pos : RECENT;
    for (unsigned i = 0; i < cnt; i++) {
        if (n->recent_ms[i] + 10000 < now) continue;
        sum += n->recent_n[i];
        if (n->recent_ms[i] < oldest) oldest = n->recent_ms[i];
    }
    pthread_mutex_unlock(&n->mu);
    double span = sum ? (double)(now - oldest) / 1000.0 : 0;
    out->tps_recent = sum ? (double)sum / (span < 1.0 ? 1.0 : span) : 0;
}

/* ---- submitting ---- */

int pel_node_submit(pel_node *n, const uint8_t *const *raw, const size_t *len, size_t count,
                    pel_mempool_result *res)
{
    int failed = pel_node_failed(n);
    if (failed) {
        for (size_t i = 0; i < count; i++) {
            memset(&res[i], 0, sizeof res[i]);
            res[i].code = PEL_ESTOPPED;
            res[i].why = "the node stopped producing blocks after an error";
        }
        return 0;
    }
    if (pel_node_diverged(n, NULL)) {
        for (size_t i = 0; i < count; i++) {
            memset(&res[i], 0, sizeof res[i]);
            res[i].code = PEL_EDIVERGED;
            res[i].why = "this node's state diverged from the cluster majority; it takes no "
                         "submissions (node_info.ordering.diverged)";
        }
        return 0;
    }
    if (!pel_order_is_leader(n->order)) {
        for (size_t i = 0; i < count; i++) {
            memset(&res[i], 0, sizeof res[i]);
            res[i].code = PEL_ENOTLEADER;
            res[i].why = "this cluster node is not the leader: submit to the leader (node_info.ordering)";
        }
        return 0;
    }
    int rc = pel_mempool_submit(n->mp, raw, len, count, res);
    if (rc) return rc;
    for (size_t i = 0; i < count; i++) {
        uint64_t h;
        uint32_t idx;
        if (res[i].code == PEL_ENONCE && res[i].has_id &&
            pel_chain_tx_location(n->chain, res[i].id, &h, &idx) == 0) {
            res[i].code = PEL_EDUP;
            res[i].why = "duplicate: this transaction is already committed";
        }
    }
    uint64_t txs = 0, bytes = 0, senders = 0;
    pel_mempool_stats(n->mp, &txs, &bytes, &senders);
    if (txs >= n->cfg.max_block_txs) {
        pthread_mutex_lock(&n->mu);
        n->wake = 1;
        pthread_cond_broadcast(&n->cond);
        pthread_mutex_unlock(&n->mu);
    }
    return 0;
}

int pel_node_faucet(pel_node *n, const pel_addr *to, uint64_t amount, uint8_t id[32])
{
    if (!n->has_faucet || !n->cfg.faucet_enabled) return PEL_EACCESS;
    if (amount == 0 || amount > n->cfg.faucet_max_amount) return PEL_ERANGE;
    uint8_t body[PEL_TRANSFER_BODY_LEN];
    pel_transfer_body(to, amount, body);
    pel_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = (const uint8_t *)n->g.params.chain_id;
    tx.chain_id_len = (uint32_t)strlen(n->g.params.chain_id);
    tx.gas_price = n->g.params.min_gas_price;
    tx.type = PEL_TX_TRANSFER;
    tx.body = body;
    tx.body_len = sizeof body;
    pel_buf b;
    pel_buf_init(&b);
    pthread_mutex_lock(&n->faucet_mu);
    tx.nonce = pel_mempool_next_nonce(n->mp, &n->faucet_addr);
    int rc = pel_tx_sign(&tx, n->faucet_sk, &b);     /* once to learn the size */
    if (!rc) {
        tx.gas_limit = pel_intrinsic_gas(&n->g.params.gas, tx.size) + 1000;
        pel_buf_reset(&b);
        rc = pel_tx_sign(&tx, n->faucet_sk, &b);
    }
    pel_mempool_result res;
    const uint8_t *p = b.data;
    size_t len = b.len;
    if (!rc) rc = pel_node_submit(n, &p, &len, 1, &res);
    pthread_mutex_unlock(&n->faucet_mu);
    if (!rc) rc = res.code;
    if (!rc) memcpy(id, tx.id, 32);
    pel_buf_free(&b);
    return rc;
}

/* ---- status ---- */

int pel_node_tx_status(pel_node *n, const uint8_t id[32], pel_tx_status *st)
{
    memset(st, 0, sizeof *st);
    pel_buf_init(&st->receipt);
    int rc = pel_chain_tx_location(n->chain, id, &st->height, &st->index);
    if (rc == 0) {
        st->state = PEL_TXS_COMMITTED;
        return pel_chain_receipt(n->chain, st->height, st->index, &st->receipt);
    }
    if (rc != PEL_ENOTFOUND) return rc;
    int reason = 0;
    switch (pel_mempool_lookup(n->mp, id, &reason)) {
    case PEL_MEMPOOL_PENDING: st->state = PEL_TXS_PENDING; break;
    case PEL_MEMPOOL_REJECTED: st->state = PEL_TXS_REJECTED; st->reason = reason; break;
    default:
        /* it may have committed between the two lookups: ask the store again */
        rc = pel_chain_tx_location(n->chain, id, &st->height, &st->index);
        if (rc == 0) {
            st->state = PEL_TXS_COMMITTED;
            return pel_chain_receipt(n->chain, st->height, st->index, &st->receipt);
        }
        st->state = PEL_TXS_UNKNOWN;
        return rc == PEL_ENOTFOUND ? 0 : rc;
    }
    return 0;
}
