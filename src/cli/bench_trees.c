/*
 * bench_trees.c - `pel bench trees`: how fast the authenticated structures
 * are, against the targets of the state-commitment issue: >= 200k key
 * writes/s into the state tree (state/smt.h), >= 50k proofs/s generated
 * and >= 100k/s verified; plus the history tree's (state/history.h) append
 * and proof rates, which have no target.
 *
 * Everything runs in one process on one store in a fresh temporary
 * directory, removed at the end (also after a failure, SIGINT, SIGTERM,
 * SIGHUP or a closed stdout: see bench_trees): a state tree of N
 * accounts (a balance and a nonce key each, derived with the ledger's tags,
 * plus the fee pool), then blocks of a transfer write set timed per thread
 * count, then proofs of random present and absent keys against the latest
 * version, then a history tree and its proofs. Thread counts alternate run
 * by run, so the ratio between two of them is a measurement even on a noisy
 * machine, an absolute rate only a hint. Each figure is a median over runs.
 * Old versions are kept (the store grows by each block's nodes) unless
 * --prune asks to prune them after every block, in a transaction of their
 * own, as a node keeping one version would: timed apart from the update and
 * reported as the sustained rate update + commit + prune. That costs more
 * than the update itself, so it is not the default.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/bench_stats.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/hash.h"
#include "exec/pool.h"
#include "state/history.h"
#include "state/smt.h"
#include "state/store.h"

#define MAX_THREADS 16            /* entries in --threads */
#define MAX_RUNS 100
#define POPULATE_WRITES 100000    /* writes per block while populating */
#define HISTORY_BLOCK 10000       /* leaves per history block */
#define VERIFY_PASSES 4           /* verification is quick: repeat it */
#define HL 32

typedef struct trees_opts {
    unsigned long long accounts, blocks, transfers, proofs, leaves, runs, seed;
    unsigned threads[MAX_THREADS], nthreads;
    int json, prune;
} trees_opts;

/* What is measured; each has a sample per (thread count, run). */
enum {
    W_INSERT, W_INSERT_COMMIT, W_UPDATE, W_UPDATE_COMMIT, W_UPDATE_PRUNE,
    W_PROVE_PRESENT, W_PROVE_ABSENT, W_VERIFY_PRESENT, W_VERIFY_ABSENT,
    W_APPEND, W_APPEND_COMMIT, W_PROVE_INCL, W_VERIFY_INCL,
    W_PROVE_CONS, W_VERIFY_CONS, W_COUNT
};

static const struct what {
    const char *bench, *name, *unit;
    double target;                /* 0: the issue sets none */
} WHAT[W_COUNT] = {
    [W_INSERT]         = { "smt", "insert", "key_writes/s", 0 },
    [W_INSERT_COMMIT]  = { "smt", "insert+commit", "key_writes/s", 0 },
    [W_UPDATE]         = { "smt", "update", "key_writes/s", 200000 },
    [W_UPDATE_COMMIT]  = { "smt", "update+commit", "key_writes/s", 200000 },
    [W_UPDATE_PRUNE]   = { "smt", "update+commit+prune", "key_writes/s", 200000 },
    [W_PROVE_PRESENT]  = { "smt", "prove_present", "proofs/s", 50000 },
    [W_PROVE_ABSENT]   = { "smt", "prove_absent", "proofs/s", 50000 },
    [W_VERIFY_PRESENT] = { "smt", "verify_present", "proofs/s", 100000 },
    [W_VERIFY_ABSENT]  = { "smt", "verify_absent", "proofs/s", 100000 },
    [W_APPEND]         = { "history", "append", "leaves/s", 0 },
    [W_APPEND_COMMIT]  = { "history", "append+commit", "leaves/s", 0 },
    [W_PROVE_INCL]     = { "history", "prove_inclusion", "proofs/s", 0 },
    [W_VERIFY_INCL]    = { "history", "verify_inclusion", "proofs/s", 0 },
    [W_PROVE_CONS]     = { "history", "prove_consistency", "proofs/s", 0 },
    [W_VERIFY_CONS]    = { "history", "verify_consistency", "proofs/s", 0 },
};

typedef double samples[MAX_THREADS][MAX_RUNS];

/* The state every phase shares. keys[2i] is account i's balance key,
 * keys[2i + 1] its nonce key. */
typedef struct trees_env {
    const trees_opts *o;
    char *dir;                          /* the temporary store directory */
    pel_store *s;
    pel_pool *pool[MAX_THREADS];        /* for threads[i]; NULL for 1 */
    pel_key *keys, fee;
    uint64_t ver;                       /* latest state-tree version, 0: none */
    uint64_t rng, stamp;                /* stamp: the last value written */
    double t0;                          /* start, for the progress lines */
    atomic_int stop;                    /* set by the watcher on SIGINT,
                                           SIGTERM, SIGHUP; relaxed: it only
                                           ends loops, publishes nothing */
    atomic_int done;                    /* the watcher may go: release by
                                           bench_trees, acquire by it */
    samples *res;                       /* W_COUNT of them */
} trees_env;

/* A write set under construction: w[i].val points at val[i]. */
typedef struct wsbuf {
    pel_write *w;
    uint8_t (*val)[8];
    uint32_t n;
} wsbuf;

/* ---- options ---- */

static void trees_usage(FILE *f)
{
    fprintf(f,
        "usage: pel bench trees [--accounts N] [--blocks B] [--transfers M] [--proofs P]\n"
        "                       [--leaves L] [--threads T[,T...]] [--runs R] [--seed S]\n"
        "                       [--prune] [--json]\n"
        "\n"
        "Benchmarks the state tree and the history tree on a store in a temporary\n"
        "directory under $TMPDIR or /tmp (removed at the end):\n"
        "  - populates a state tree with N accounts (a balance and a nonce key each,\n"
        "    plus the fee pool: 2N+1 keys) in blocks of 100000 writes;\n"
        "  - per run and thread count, B blocks of M transfers (sender and receiver\n"
        "    balances, sender nonce, fee pool: about 3M+1 distinct keys), timing\n"
        "    the update alone and with its commit, in key writes/s (--prune: also\n"
        "    with a prune of the previous version after each block, in a\n"
        "    transaction of its own, as a node keeping one version does);\n"
        "  - generates and verifies P proofs of present keys and P of absent keys\n"
        "    against the latest version, on each thread count;\n"
        "  - appends L leaves to a history tree in blocks of 10000, then generates\n"
        "    and verifies P inclusion and P consistency proofs at the latest size.\n"
        "T is a comma-separated list of thread counts (1 runs on the calling thread\n"
        "alone); the counts alternate run by run. Figures are medians over R runs;\n"
        "the state-tree figures also as ratios to the targets (200000 key writes/s,\n"
        "50000 proofs/s generated, 100000/s verified). --json prints one object per\n"
        "line: bench, what, threads, accounts, size, rate, unit, target,\n"
        "ratio_to_target, runs, rate_min, rate_max.\n"
        "Defaults: --accounts 1000000 --blocks 10 --transfers 10000 --proofs 10000\n"
        "          --leaves 1000000 --threads 1,2 --runs 3 --seed 1.\n");
}

static int parse_threads(const char *v, trees_opts *o)
{
    const char *p = v;
    o->nthreads = 0;
    while (p && *p >= '0' && *p <= '9' && o->nthreads < MAX_THREADS) {
        char *end;
        errno = 0;
        unsigned long t = strtoul(p, &end, 10);
        if (errno || t < 1 || t > 1024) break;
        o->threads[o->nthreads++] = (unsigned)t;
        if (*end == 0) return 0;
        if (*end != ',') break;
        p = end + 1;
    }
    fprintf(stderr, "pel: --threads needs a comma-separated list of up to %d counts "
            "from 1 to 1024, got '%s'\n", MAX_THREADS, v ? v : "");
    return -1;
}

/* parse - 0 to run, 1 after --help, -1 on a usage error (reported). */
static int parse(int argc, char **argv, trees_opts *o)
{
    *o = (trees_opts){ 1000000, 10, 10000, 10000, 1000000, 3, 1, { 1, 2 }, 2, 0, 0 };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { trees_usage(stdout); return 1; }
        else if (!strcmp(a, "--json")) { o->json = 1; continue; }
        else if (!strcmp(a, "--prune")) { o->prune = 1; continue; }
        else if (!strcmp(a, "--accounts")) rc = pel_cli_u64(a, v, 2, 50000000, &o->accounts);
        else if (!strcmp(a, "--blocks")) rc = pel_cli_u64(a, v, 1, 100000, &o->blocks);
        else if (!strcmp(a, "--transfers")) rc = pel_cli_u64(a, v, 1, 1000000, &o->transfers);
        else if (!strcmp(a, "--proofs")) rc = pel_cli_u64(a, v, 1, 100000, &o->proofs);
        else if (!strcmp(a, "--leaves")) rc = pel_cli_u64(a, v, 2, 100000000, &o->leaves);
        else if (!strcmp(a, "--threads")) rc = parse_threads(v, o);
        else if (!strcmp(a, "--runs")) rc = pel_cli_u64(a, v, 1, MAX_RUNS, &o->runs);
        else if (!strcmp(a, "--seed")) rc = pel_cli_u64(a, v, 0, ~0ULL, &o->seed);
        else { fprintf(stderr, "pel: unknown option '%s'\n", a); trees_usage(stderr); return -1; }
        if (rc) return -1;
        i++;
    }
    return 0;
}

/* ---- helpers ---- */

static uint64_t rnd(uint64_t *s)   /* splitmix64 */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rnd_bytes(uint64_t *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = rnd(s);
        memcpy(out + i, &r, n - i < 8 ? n - i : 8);
    }
}

static int cmp_write(const void *a, const void *b)
{
    return pel_key_cmp(&((const pel_write *)a)->key, &((const pel_write *)b)->key);
}

/* commas - x rounded, with thousands separators, in buf. */
static const char *commas(double x, char buf[32])
{
    char t[32];
    size_t n = (size_t)snprintf(t, sizeof t, "%.0f", x), j = 0;
    for (size_t i = 0; i < n && j < 30; i++) {
        if (i && (n - i) % 3 == 0) buf[j++] = ',';
        buf[j++] = t[i];
    }
    buf[j] = 0;
    return buf;
}

/* ---- report ---- */

/* progress - a line on stderr, with the seconds since the start. */
static void progress(const trees_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const trees_env *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pel: [%6.1f s] ", pel_mono_s() - e->t0);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void header(const trees_opts *o)
{
    if (o->json) return;
    printf("pel bench trees: %llu accounts (%llu state keys), %llu blocks of %llu transfers%s,"
           " %llu proofs per kind, %llu history leaves, %llu runs, seed %llu\n",
           o->accounts, 2 * o->accounts + 1, o->blocks, o->transfers,
           o->prune ? " (pruning after each)" : "", o->proofs, o->leaves, o->runs, o->seed);
    printf("%-8s %-19s %7s %12s %-13s %8s %6s   %s\n", "bench", "what", "threads",
           "median", "unit", "target", "ratio", "min .. max");
    fflush(stdout);
}

/* emit - one result line: the median of v[0..n) (n >= 1; v gets sorted).
 * A failed write (stdout closed) stops the run. */
static void emit(trees_env *e, int w, unsigned threads, uint64_t size, double *v, unsigned n)
{
    const struct what *d = &WHAT[w];
    double med = pel_bench_median(v, n);   /* sorts v */
    char a[32], b[32], c[32], t[32], r[32];
    if (e->o->json) {
        strcpy(t, "null");
        strcpy(r, "null");
        if (d->target > 0) {
            snprintf(t, sizeof t, "%.0f", d->target);
            snprintf(r, sizeof r, "%.3f", med / d->target);
        }
        printf("{\"bench\":\"%s\",\"what\":\"%s\",\"threads\":%u,\"accounts\":%llu,"
               "\"size\":%llu,\"rate\":%.0f,\"unit\":\"%s\",\"target\":%s,"
               "\"ratio_to_target\":%s,\"runs\":%u,\"rate_min\":%.0f,\"rate_max\":%.0f}\n",
               d->bench, d->name, threads, e->o->accounts, (unsigned long long)size, med,
               d->unit, t, r, n, v[0], v[n - 1]);
    } else {
        strcpy(t, "-");
        strcpy(r, "-");
        if (d->target > 0) {
            commas(d->target, t);
            snprintf(r, sizeof r, "%.2fx", med / d->target);
        }
        printf("%-8s %-19s %7u %12s %-13s %8s %6s   %s .. %s\n", d->bench, d->name, threads,
               commas(med, c), d->unit, t, r, commas(v[0], a), commas(v[n - 1], b));
    }
    if (fflush(stdout) != 0 || ferror(stdout)) atomic_store_explicit(&e->stop, 1, memory_order_relaxed);
}

/* emit_all - the rows of w for every thread count, runs samples each. */
static void emit_all(trees_env *e, int w, uint64_t size)
{
    for (unsigned ti = 0; ti < e->o->nthreads; ti++)
        emit(e, w, e->o->threads[ti], size, e->res[w][ti], (unsigned)e->o->runs);
}

/* ---- interruption ---- */

/* stopped - a signal came, or stdout can no longer be written (a closed
 * pipe: SIGPIPE is ignored while the bench runs). */
static int stopped(trees_env *e)
{
    return atomic_load_explicit(&e->stop, memory_order_relaxed) || ferror(stdout);
}

static void watched_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
}

/* watcher - takes the termination signals, blocked in every thread, with
 * sigwait, so that an interrupted run ends through the usual cleanup and
 * removes its directory; SIGUSR1 after `done` ends it. */
static void *watcher(void *arg)
{
    trees_env *e = arg;
    sigset_t set;
    int sig = 0;
    watched_signals(&set);
    while (sigwait(&set, &sig) == 0) {
        if (sig == SIGUSR1) {
            if (atomic_load_explicit(&e->done, memory_order_acquire)) break;
            continue;
        }
        atomic_store_explicit(&e->stop, 1, memory_order_relaxed);
        fprintf(stderr, "pel: interrupted, cleaning up\n");
    }
    return NULL;
}

/* ---- the environment ---- */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st; (void)flag; (void)f;
    return remove(p);
}

/* derive_keys - balance and nonce keys as the ledger derives them from an
 * address (H("PEL/acct-balance", A), H("PEL/acct-nonce", A)); the address
 * of account i is seed and i, little-endian, in 20 bytes. */
static int derive_keys(trees_env *e)
{
    uint8_t addr[20] = { 0 };
    int rc = pel_hash_tagged("PEL/fee-pool", NULL, 0, e->fee.b);
    pel_le_store(addr, e->o->seed, 8);
    for (uint64_t i = 0; i < e->o->accounts && rc == 0; i++) {
        if (i % 65536 == 0 && stopped(e)) return PEL_ESTOPPED;
        pel_le_store(addr + 8, i, 8);
        rc = pel_hash_tagged("PEL/acct-balance", addr, sizeof addr, e->keys[2 * i].b);
        if (rc == 0) rc = pel_hash_tagged("PEL/acct-nonce", addr, sizeof addr, e->keys[2 * i + 1].b);
    }
    return rc;
}

static int env_open(trees_env *e, const trees_opts *o)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    e->o = o;
    e->rng = o->seed ^ 0x5eed0f7ee5ull;
    e->t0 = pel_mono_s();
    tmp = tmp && *tmp ? tmp : "/tmp";
    snprintf(path, sizeof path, "%s/pel_bench_trees_XXXXXX", tmp);
    if (!mkdtemp(path)) {
        fprintf(stderr, "pel: cannot create a directory in %s: %s\n", tmp, strerror(errno));
        return PEL_EIO;
    }
    if (!(e->dir = strdup(path))) return PEL_ENOMEM;
    pel_store_opts so = pel_store_defaults();
    /* Address space only (the file grows as needed). Measured at the
     * defaults: 1.6 GB after populating (no version pruned), then about
     * 1.4 KB per key written by each block while nothing is pruned. */
    so.map_size = (4ull << 30) + o->accounts * 16384 + o->leaves * 1024
                  + o->runs * o->nthreads * o->blocks * (3 * o->transfers + 1) * 4096;
    int rc = pel_store_open(e->dir, &so, &e->s);
    for (unsigned i = 0; i < o->nthreads && rc == 0; i++)
        if (o->threads[i] > 1) rc = pel_pool_new(o->threads[i], &e->pool[i]);
    if (rc == 0 && (!(e->keys = malloc(2 * o->accounts * sizeof *e->keys))
                    || !(e->res = calloc(W_COUNT, sizeof *e->res))))
        rc = PEL_ENOMEM;
    if (rc == 0) rc = derive_keys(e);
    return rc;
}

static void env_close(trees_env *e)
{
    pel_store_close(e->s);
    for (unsigned i = 0; i < MAX_THREADS; i++) pel_pool_free(e->pool[i]);
    if (e->dir && nftw(e->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "pel: could not remove %s: %s\n", e->dir, strerror(errno));
    free(e->dir);
    free(e->keys);
    free(e->res);
}

/* ---- state tree: updates ---- */

static void ws_add(wsbuf *b, const pel_key *k) { b->w[b->n++].key = *k; }

/* ws_finish - sort, keep each key once, and give every write a fresh
 * value (stamps never repeat, so no write is a no-op the tree skips). */
static pel_writeset ws_finish(trees_env *e, wsbuf *b)
{
    uint32_t m = 0;
    qsort(b->w, b->n, sizeof *b->w, cmp_write);
    for (uint32_t i = 0; i < b->n; i++) {
        if (m > 0 && pel_key_eq(&b->w[m - 1].key, &b->w[i].key)) continue;
        b->w[m].key = b->w[i].key;
        b->w[m].kind = PEL_W_PUT;
        pel_le_store(b->val[m], ++e->stamp, 8);
        b->w[m].val = (pel_val){ b->val[m], 8 };
        m++;
    }
    b->n = m;
    return (pel_writeset){ b->w, m };
}

/* make_transfers - the write set of a block of transfers between random
 * distinct accounts: both balances, the sender's nonce, the fee pool. */
static pel_writeset make_transfers(trees_env *e, wsbuf *b)
{
    uint64_t n = e->o->accounts;
    b->n = 0;
    for (uint64_t t = 0; t < e->o->transfers; t++) {
        uint64_t from = rnd(&e->rng) % n, to = rnd(&e->rng) % (n - 1);
        to += to >= from;
        ws_add(b, &e->keys[2 * from]);
        ws_add(b, &e->keys[2 * to]);
        ws_add(b, &e->keys[2 * from + 1]);
    }
    ws_add(b, &e->fee);
    return ws_finish(e, b);
}

/* apply - one state-tree update in its own transaction; adds the seconds
 * of the update alone to *t_upd and of begin .. commit to *t_all. */
static int apply(trees_env *e, const pel_writeset *ws, pel_pool *pool, double *t_upd, double *t_all)
{
    pel_store_txn *w = NULL;
    uint8_t root[PEL_SMT_HASH_LEN];
    if (stopped(e)) return PEL_ESTOPPED;
    double t0 = pel_mono_s();
    int rc = pel_store_begin(e->s, &w);
    if (rc) return rc;
    double t1 = pel_mono_s();
    rc = pel_smt_update(e->s, w, e->ver ? e->ver : PEL_SMT_NONE, e->ver + 1, ws, pool, root);
    double t2 = pel_mono_s();
    if (rc) { pel_store_abort(w); return rc; }
    rc = pel_store_commit(w);
    if (rc) return rc;
    e->ver++;
    *t_upd += t2 - t1;
    *t_all += pel_mono_s() - t0;
    return 0;
}

/* prune - drop every version but the latest, in its own transaction, as
 * a node keeping one version does; adds the seconds of begin .. commit. */
static int prune(trees_env *e, double *t_all)
{
    pel_store_txn *w = NULL;
    double t0 = pel_mono_s();
    int rc = pel_store_begin(e->s, &w);
    if (rc) return rc;
    rc = pel_smt_prune(e->s, w, e->ver, NULL);
    if (rc) { pel_store_abort(w); return rc; }
    rc = pel_store_commit(w);
    *t_all += pel_mono_s() - t0;
    return rc;
}

/* populate - every account's two keys and the fee pool, inserted in
 * blocks of POPULATE_WRITES on the largest pool; one sample. */
static int populate(trees_env *e, wsbuf *b)
{
    const trees_opts *o = e->o;
    uint64_t per = POPULATE_WRITES / 2;
    unsigned big = 0;
    for (unsigned i = 1; i < o->nthreads; i++) if (o->threads[i] > o->threads[big]) big = i;
    double tu = 0, ta = 0;
    int rc = 0;
    progress(e, "populating the state tree with %llu keys", 2 * o->accounts + 1);
    for (uint64_t a = 0; a < o->accounts && rc == 0; a += per) {
        b->n = 0;
        if (a == 0) ws_add(b, &e->fee);
        for (uint64_t i = a; i < o->accounts && i < a + per; i++) {
            ws_add(b, &e->keys[2 * i]);
            ws_add(b, &e->keys[2 * i + 1]);
        }
        pel_writeset ws = ws_finish(e, b);
        rc = apply(e, &ws, e->pool[big], &tu, &ta);
    }
    if (rc) return rc;
    double keys = (double)(2 * o->accounts + 1), ins[1] = { keys / tu }, all[1] = { keys / ta };
    emit(e, W_INSERT, o->threads[big], 2 * o->accounts + 1, ins, 1);
    emit(e, W_INSERT_COMMIT, o->threads[big], 2 * o->accounts + 1, all, 1);
    if (!o->prune) return 0;
    progress(e, "pruning the versions written while populating");
    return prune(e, &ta);   /* not reported: setup */
}

/* updates - runs x thread counts x blocks of transfers. */
static int updates(trees_env *e, wsbuf *b)
{
    const trees_opts *o = e->o;
    int rc = 0;
    progress(e, "%llu runs of %llu blocks of %llu transfers per thread count",
             o->runs, o->blocks, o->transfers);
    for (unsigned r = 0; r < o->runs && rc == 0; r++)
        for (unsigned ti = 0; ti < o->nthreads && rc == 0; ti++) {
            double tu = 0, ta = 0, tp = 0, keys = 0;
            for (uint64_t k = 0; k < o->blocks && rc == 0; k++) {
                pel_writeset ws = make_transfers(e, b);
                keys += ws.n;
                rc = apply(e, &ws, e->pool[ti], &tu, &ta);
                if (rc == 0 && o->prune) rc = prune(e, &tp);
            }
            e->res[W_UPDATE][ti][r] = keys / tu;
            e->res[W_UPDATE_COMMIT][ti][r] = keys / ta;
            e->res[W_UPDATE_PRUNE][ti][r] = keys / (ta + tp);
        }
    if (rc == 0) {
        emit_all(e, W_UPDATE, 2 * o->accounts + 1);
        emit_all(e, W_UPDATE_COMMIT, 2 * o->accounts + 1);
        if (o->prune) emit_all(e, W_UPDATE_PRUNE, 2 * o->accounts + 1);
    }
    return rc;
}

/* ---- timing items on threads ---- */

typedef int (*item_fn)(void *ctx, size_t i, pel_buf *scratch);

typedef struct slice {
    item_fn fn;
    void *ctx;
    size_t lo, hi;
    atomic_int *stop;
    int rc;
} slice;

static void *slice_run(void *arg)
{
    slice *s = arg;
    pel_buf b;
    pel_buf_init(&b);
    for (size_t i = s->lo; i < s->hi && s->rc == 0; i++) {
        s->rc = s->fn(s->ctx, i, &b);
        if (i % 256 == 0 && atomic_load_explicit(s->stop, memory_order_relaxed)) s->rc = PEL_ESTOPPED;
    }
    pel_buf_free(&b);
    return NULL;
}

/* timed_items - fn on items [0, n) split across `threads` threads (the
 * calling thread is one of them); *rate = items per second of wall time. */
static int timed_items(trees_env *e, item_fn fn, void *ctx, size_t n, unsigned threads,
                       double *rate)
{
    slice *sl = calloc(threads, sizeof *sl);
    pthread_t *tid = calloc(threads, sizeof *tid);
    unsigned started = 1;
    int rc = sl && tid ? 0 : PEL_ENOMEM;
    for (unsigned k = 0; k < threads && rc == 0; k++)
        sl[k] = (slice){ fn, ctx, n * k / threads, n * (k + 1) / threads, &e->stop, 0 };
    double t0 = pel_mono_s();
    for (; started < threads && rc == 0; started++)
        if (pthread_create(&tid[started], NULL, slice_run, &sl[started])) rc = PEL_ENOMEM;
    if (rc == 0) slice_run(&sl[0]);
    for (unsigned k = 1; k < started; k++) pthread_join(tid[k], NULL);
    double secs = pel_mono_s() - t0;
    for (unsigned k = 0; k < threads && rc == 0; k++) rc = sl[k].rc;
    *rate = rc ? 0 : (double)n / secs;
    free(sl);
    free(tid);
    return rc;
}

/* ---- state tree: proofs ---- */

/* One kind of key (present or absent) with its proofs; the items of the
 * prove and verify steps are indices into keys. */
typedef struct smt_set {
    pel_store *s;
    uint64_t ver;
    uint8_t root[PEL_SMT_HASH_LEN];
    pel_key *keys;
    pel_smt_proof *pr;
    uint8_t (*val)[8];
    size_t n;
    int present;
} smt_set;

static int smt_prove_one(void *ctx, size_t i, pel_buf *val)
{
    smt_set *p = ctx;
    int rc = pel_smt_get_proof(p->s, p->ver, &p->keys[i], &p->pr[i], val);
    if (rc) return rc;
    if ((p->pr[i].kind == PEL_SMT_PRESENT) != p->present || (p->present && val->len != 8)) {
        fprintf(stderr, "pel: proof of a key %s the tree says otherwise\n",
                p->present ? "in" : "not in");
        return PEL_ECORRUPT;
    }
    if (p->present) memcpy(p->val[i], val->data, 8);
    return 0;
}

/* smt_verify_one - item i mod n: the verify step does VERIFY_PASSES. */
static int smt_verify_one(void *ctx, size_t i, pel_buf *unused)
{
    smt_set *p = ctx;
    (void)unused;
    i %= p->n;
    return pel_smt_verify(p->root, &p->keys[i], p->present ? p->val[i] : NULL,
                          p->present ? 8 : 0, &p->pr[i]);
}

static int smt_set_make(trees_env *e, smt_set *p, int present)
{
    size_t n = (size_t)e->o->proofs;
    *p = (smt_set){ .s = e->s, .ver = e->ver, .n = n, .present = present };
    p->keys = malloc(n * sizeof *p->keys);
    p->pr = malloc(n * sizeof *p->pr);
    p->val = malloc(n * sizeof *p->val);
    if (!p->keys || !p->pr || !p->val) return PEL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (present) p->keys[i] = e->keys[rnd(&e->rng) % (2 * e->o->accounts)];
        else rnd_bytes(&e->rng, p->keys[i].b, PEL_KEY_LEN);
    }
    return pel_smt_root(e->s, e->ver, p->root);
}

static void smt_set_free(smt_set *p)
{
    free(p->keys);
    free(p->pr);
    free(p->val);
}

/* proof_bytes - the average encoded size of the set's proofs. */
static double proof_bytes(const smt_set *p)
{
    pel_buf b;
    double sum = 0;
    pel_buf_init(&b);
    for (size_t i = 0; i < p->n; i++) {
        pel_buf_reset(&b);
        if (pel_smt_proof_encode(&p->pr[i], &b) == 0) sum += (double)b.len;
    }
    pel_buf_free(&b);
    return sum / (double)p->n;
}

/* smt_round - prove then verify both sets on threads[ti], for run r. */
static int smt_round(trees_env *e, smt_set set[2], unsigned ti, unsigned r)
{
    unsigned t = e->o->threads[ti];
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++)
        rc = timed_items(e, smt_prove_one, &set[k], set[k].n, t, &e->res[W_PROVE_PRESENT + k][ti][r]);
    for (int k = 0; k < 2 && rc == 0; k++)
        rc = timed_items(e, smt_verify_one, &set[k], set[k].n * VERIFY_PASSES, t,
                         &e->res[W_VERIFY_PRESENT + k][ti][r]);
    return rc;
}

static int smt_proofs(trees_env *e)
{
    const trees_opts *o = e->o;
    smt_set set[2];
    memset(set, 0, sizeof set);
    int rc = smt_set_make(e, &set[0], 1);
    if (rc == 0) rc = smt_set_make(e, &set[1], 0);
    progress(e, "proofs of %llu present and %llu absent keys", o->proofs, o->proofs);
    for (unsigned r = 0; r < o->runs && rc == 0; r++)
        for (unsigned ti = 0; ti < o->nthreads && rc == 0; ti++) rc = smt_round(e, set, ti, r);
    if (rc == 0) {
        if (!o->json)
            printf("(state-tree proofs average %.0f bytes present, %.0f absent)\n",
                   proof_bytes(&set[0]), proof_bytes(&set[1]));
        for (int w = W_PROVE_PRESENT; w <= W_VERIFY_ABSENT; w++) emit_all(e, w, 2 * o->accounts + 1);
    }
    smt_set_free(&set[0]);
    smt_set_free(&set[1]);
    return rc;
}

/* ---- history tree ---- */

/* Proofs at the latest size: arg[i] is the leaf index (inclusion) or the
 * old size (consistency, whose old root is root1[i]). */
typedef struct hist_set {
    pel_store *s;
    uint64_t size;
    uint8_t root[HL];
    uint8_t (*leaf)[HL];
    uint64_t *arg;
    uint8_t (*path)[PEL_HISTORY_MAX_PATH][HL];
    size_t *len, n;
    uint8_t (*root1)[HL];
} hist_set;

static int incl_prove_one(void *ctx, size_t i, pel_buf *unused)
{
    hist_set *h = ctx;
    (void)unused;
    return pel_history_prove_inclusion(h->s, h->arg[i], h->size, h->path[i], &h->len[i]);
}

static int incl_verify_one(void *ctx, size_t i, pel_buf *unused)
{
    hist_set *h = ctx;
    (void)unused;
    i %= h->n;
    return pel_history_verify_inclusion(h->leaf[h->arg[i]], h->arg[i], h->size,
                                        (const uint8_t (*)[HL])h->path[i], h->len[i], h->root);
}

static int cons_prove_one(void *ctx, size_t i, pel_buf *unused)
{
    hist_set *h = ctx;
    (void)unused;
    return pel_history_prove_consistency(h->s, h->arg[i], h->size, h->path[i], &h->len[i]);
}

static int cons_verify_one(void *ctx, size_t i, pel_buf *unused)
{
    hist_set *h = ctx;
    (void)unused;
    i %= h->n;
    return pel_history_verify_consistency(h->arg[i], h->size, h->root1[i], h->root,
                                          (const uint8_t (*)[HL])h->path[i], h->len[i]);
}

/* append_block - leaves [size, size + n) in one transaction. */
static int append_block(hist_set *h, uint32_t n, double *t_app, double *t_all)
{
    pel_store_txn *w = NULL;
    double t0 = pel_mono_s();
    int rc = pel_store_begin(h->s, &w);
    if (rc) return rc;
    double t1 = pel_mono_s();
    rc = pel_history_append(w, h->size, (const uint8_t (*)[HL])&h->leaf[h->size], n, h->root);
    double t2 = pel_mono_s();
    if (rc) { pel_store_abort(w); return rc; }
    if ((rc = pel_store_commit(w)) != 0) return rc;
    h->size += n;
    *t_app += t2 - t1;
    *t_all += pel_mono_s() - t0;
    return 0;
}

/* hist_append - every leaf, in blocks of HISTORY_BLOCK; the blocks are
 * split into at most `runs` consecutive runs, one sample each. */
static int hist_append(trees_env *e, hist_set *h)
{
    uint64_t L = e->o->leaves, nb = (L + HISTORY_BLOCK - 1) / HISTORY_BLOCK;
    unsigned runs = (unsigned)(e->o->runs < nb ? e->o->runs : nb);
    int rc = 0;
    progress(e, "appending %llu history leaves", e->o->leaves);
    for (unsigned r = 0; r < runs && rc == 0; r++) {
        double ta = 0, tc = 0;
        uint64_t from = h->size, end = (r + 1) * nb / runs * HISTORY_BLOCK;
        if (end > L) end = L;
        while (h->size < end && rc == 0) {
            uint64_t n = end - h->size < HISTORY_BLOCK ? end - h->size : HISTORY_BLOCK;
            rc = stopped(e) ? PEL_ESTOPPED : append_block(h, (uint32_t)n, &ta, &tc);
        }
        e->res[W_APPEND][0][r] = (double)(h->size - from) / ta;
        e->res[W_APPEND_COMMIT][0][r] = (double)(h->size - from) / tc;
    }
    if (rc == 0) {
        emit(e, W_APPEND, 1, L, e->res[W_APPEND][0], runs);
        emit(e, W_APPEND_COMMIT, 1, L, e->res[W_APPEND_COMMIT][0], runs);
    }
    return rc;
}

static int hist_make(trees_env *e, hist_set *h)
{
    size_t n = (size_t)e->o->proofs;
    *h = (hist_set){ .s = e->s, .n = n };
    h->leaf = malloc(e->o->leaves * sizeof *h->leaf);
    h->arg = malloc(n * sizeof *h->arg);
    h->path = malloc(n * sizeof *h->path);
    h->len = malloc(n * sizeof *h->len);
    h->root1 = malloc(n * sizeof *h->root1);
    if (!h->leaf || !h->arg || !h->path || !h->len || !h->root1) return PEL_ENOMEM;
    rnd_bytes(&e->rng, &h->leaf[0][0], e->o->leaves * HL);
    return 0;
}

static void hist_free(hist_set *h)
{
    free(h->leaf);
    free(h->arg);
    free(h->path);
    free(h->len);
    free(h->root1);
}

/* hist_args - random leaf indices, or old sizes in [1, size) with their
 * roots (read here, untimed). */
static int hist_args(trees_env *e, hist_set *h, int consistency)
{
    int rc = 0;
    for (size_t i = 0; i < h->n && rc == 0; i++) {
        h->arg[i] = consistency ? 1 + rnd(&e->rng) % (h->size - 1) : rnd(&e->rng) % h->size;
        if (consistency) rc = pel_history_root(e->s, h->arg[i], h->root1[i]);
    }
    return rc;
}

/* hist_proofs - one kind of proof: prove then verify, per run and thread
 * count; w is W_PROVE_INCL or W_PROVE_CONS (verify is the next one). */
static int hist_proofs(trees_env *e, hist_set *h, int w, item_fn prove, item_fn verify)
{
    int rc = hist_args(e, h, w == W_PROVE_CONS);
    for (unsigned r = 0; r < e->o->runs && rc == 0; r++)
        for (unsigned ti = 0; ti < e->o->nthreads && rc == 0; ti++) {
            rc = timed_items(e, prove, h, h->n, e->o->threads[ti], &e->res[w][ti][r]);
            if (rc == 0)
                rc = timed_items(e, verify, h, h->n * VERIFY_PASSES, e->o->threads[ti],
                                 &e->res[w + 1][ti][r]);
        }
    if (rc == 0) {
        emit_all(e, w, h->size);
        emit_all(e, w + 1, h->size);
    }
    return rc;
}

static int history(trees_env *e)
{
    hist_set h;
    uint8_t root[HL];
    int rc = hist_make(e, &h);
    if (rc == 0) rc = hist_append(e, &h);
    if (rc == 0) rc = pel_history_root(e->s, h.size, root);
    if (rc == 0 && memcmp(root, h.root, HL) != 0) {
        fprintf(stderr, "pel: the stored history root differs from the appended one\n");
        rc = PEL_ECORRUPT;
    }
    if (rc == 0) progress(e, "history proofs at size %llu", (unsigned long long)h.size);
    if (rc == 0) rc = hist_proofs(e, &h, W_PROVE_INCL, incl_prove_one, incl_verify_one);
    if (rc == 0) rc = hist_proofs(e, &h, W_PROVE_CONS, cons_prove_one, cons_verify_one);
    hist_free(&h);
    return rc;
}

/* ---- entry point ---- */

/* run - the phases, on an opened environment. */
static int run(trees_env *e, const trees_opts *o)
{
    uint32_t cap = (uint32_t)(3 * o->transfers + 1 > POPULATE_WRITES + 1 ?
                              3 * o->transfers + 1 : POPULATE_WRITES + 1);
    wsbuf b = { malloc(cap * sizeof *b.w), malloc(cap * sizeof *b.val), 0 };
    int rc = !b.w || !b.val ? PEL_ENOMEM : env_open(e, o);
    if (rc == 0) header(o);
    if (rc == 0) rc = populate(e, &b);
    if (rc == 0) rc = updates(e, &b);
    if (rc == 0) rc = smt_proofs(e);
    if (rc == 0) rc = history(e);
    free(b.w);
    free(b.val);
    return rc;
}

/* bench_trees - the whole bench with the termination signals blocked in
 * every thread (the pools and workers inherit the mask) and taken by the
 * watcher; SIGPIPE ignored, so a closed stdout stops the run as an error
 * instead of killing it before the directory is removed. */
static int bench_trees(const trees_opts *o)
{
    trees_env e = { .o = o, .t0 = pel_mono_s() };
    sigset_t set, old;
    pthread_t wt;
    watched_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    int watching = pthread_create(&wt, NULL, watcher, &e) == 0;
    int rc = run(&e, o);
    if (rc == PEL_ESTOPPED) fprintf(stderr, "pel: bench trees interrupted\n");
    else if (rc) fprintf(stderr, "pel: bench trees failed: %s\n", pel_strerror(rc));
    else progress(&e, "done");
    env_close(&e);
    atomic_store_explicit(&e.done, 1, memory_order_release);
    if (watching && pthread_kill(wt, SIGUSR1) == 0) pthread_join(wt, NULL);
    signal(SIGPIPE, old_pipe);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int pel_cli_bench_trees(int argc, char **argv)
{
    trees_opts o;
    int prc = parse(argc, argv, &o);
    if (prc) return prc > 0 ? 0 : 2;
    return bench_trees(&o) == 0 ? 0 : 1;
}
