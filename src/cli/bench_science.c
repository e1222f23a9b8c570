/*
 * bench_science.c - `pel bench exec --workload science` (alias `pel bench
 * science`): the open-science mix of science_gen.h through the real ledger
 * executor and modules (signed transactions, fees, the registry, reviews
 * and preregistration), sequential against Block-STM in the same process,
 * results checked byte-identical.
 *
 * The setup block commits science_gen.h's world: P popular objects with V
 * versions each (one curator key per object) and one object per sender.
 * Then each run is one block of N transactions of the mix, senders
 * round-robin (each sends several, in nonce order, as in a real block),
 * executed by both engines on the same state; the sequential result is
 * applied, so the next block's nonces and objects follow on. Reports the
 * median of R runs and the ratio sequential / Block-STM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench_stats.h"
#include "cli/cli.h"
#include "cli/science_gen.h"
#include "core/clock.h"
#include "core/codec.h"
#include "exec/engine.h"
#include "exec/state.h"
#include "ledger/ledger.h"
#include "modules/modules.h"

#define CHAIN "pel-bench"

typedef struct sopts {
    unsigned long long txs, senders, popular, threads, runs, seed;
    int json;
} sopts;

/* A key of the benchmark: a sender of the mix or a curator. */
typedef struct key { uint8_t pk[32], sk[64]; pel_addr addr; uint64_t nonce; } key;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: pel bench exec --workload science [--txs N] [--senders S] [--popular P]\n"
        "                      [--threads T] [--runs R] [--seed X] [--json]\n"
        "       pel bench science ...   (the same)\n"
        "\n"
        "Blocks of N signed open-science transactions from S senders executed by the\n"
        "ledger with the sequential engine and with Block-STM on T threads; the results\n"
        "must be identical (the bench fails otherwise). The mix (src/cli/science_gen.h):\n"
        "40%% registrations citing one of P popular objects, 15%% registrations, 15%% new\n"
        "versions of the sender's own object, 15%% reviews of a popular object's version,\n"
        "15%% preregistration commits. Defaults: 10000 txs, 1000 senders, 4 popular,\n"
        "2 threads, 5 runs, seed 1.\n");
}

static int parse(int argc, char **argv, sopts *o)
{
    *o = (sopts){ 10000, 1000, 4, 2, 5, 1, 0 };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long *t = NULL, lo = 1, hi = 1000000;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 1; }
        if (!strcmp(a, "--json")) { o->json = 1; continue; }
        if (!strcmp(a, "--txs")) t = &o->txs;
        else if (!strcmp(a, "--senders")) t = &o->senders;
        else if (!strcmp(a, "--popular")) t = &o->popular, hi = PEL_SCI_POPULAR_MAX;
        else if (!strcmp(a, "--threads")) t = &o->threads, hi = 256;
        else if (!strcmp(a, "--runs")) t = &o->runs, hi = 1000;
        else if (!strcmp(a, "--seed")) t = &o->seed, lo = 0, hi = ~0ull;
        if (!t || !v) { fprintf(stderr, "pel bench science: bad option %s\n", a); usage(stderr); return 2; }
        if (pel_cli_u64(a, v, lo, hi, t)) return 2;
        i++;
    }
    return 0;
}

typedef struct world {
    pel_memstate *ms;
    key *s, *cur;               /* senders, curators */
    pel_sci_sender *sci;        /* the senders' generator state */
    pel_sci_world sw;
    uint8_t **raw;
    pel_tx *tx;
    pel_txdesc *d;
    uint32_t n;
    uint64_t kinds[PEL_SCI_KINDS];
} world;

/* add - sign body as k's next transaction and append it to the block. */
static int add(world *w, key *k, uint16_t type, const pel_buf *body, pel_buf *out)
{
    pel_tx *tx = &w->tx[w->n];
    memset(tx, 0, sizeof *tx);
    tx->chain_id = (const uint8_t *)CHAIN;
    tx->chain_id_len = (uint32_t)strlen(CHAIN);
    tx->nonce = k->nonce++;
    tx->gas_limit = 1000000;
    tx->gas_price = 1;
    tx->type = type;
    tx->body = body->data;
    tx->body_len = (uint32_t)body->len;
    pel_buf_reset(out);
    int rc = pel_tx_sign(tx, k->sk, out);
    if (!rc && !(w->raw[w->n] = malloc(out->len))) rc = PEL_ENOMEM;
    if (rc) return rc;
    memcpy(w->raw[w->n], out->data, out->len);
    rc = pel_tx_decode(w->raw[w->n], out->len, tx);
    w->d[w->n] = (pel_txdesc){ tx, NULL };
    if (!rc) w->n++;
    else free(w->raw[w->n]);
    return rc;
}

/* One block of the mix, senders round-robin. */
static int make_block(const sopts *o, world *w, uint64_t *x, uint32_t n)
{
    pel_buf body, out;
    int rc = 0;
    pel_buf_init(&body);
    pel_buf_init(&out);
    for (uint32_t i = 0; !rc && i < n; i++) {
        uint32_t s = (uint32_t)(i % o->senders);
        uint16_t type;
        pel_sci_kind kind;
        rc = pel_sci_next(&w->sw, &w->sci[s], x, &type, &kind, &body);
        if (!rc) rc = add(w, &w->s[s], type, &body, &out);
        if (!rc) w->kinds[kind]++;
    }
    pel_buf_free(&body);
    pel_buf_free(&out);
    return rc;
}

static void free_block(world *w)
{
    for (uint32_t i = 0; i < w->n; i++) free(w->raw[i]);
    w->n = 0;
}

static int run(pel_engine *e, world *w, const pel_chain_params *p, uint64_t h, pel_block_result *r, double *secs)
{
    pel_ledger_ctx ctx = { p, h, 1700000000000ull + h };
    pel_executor ex = pel_ledger_executor(&ctx);
    pel_state st = pel_memstate_reader(w->ms);
    double t0 = pel_mono_s();
    int rc = pel_engine_execute(e, &st, w->d, w->n, &ex, r);
    *secs = pel_mono_s() - t0;
    if (rc == 0) rc = pel_block_result_digest(r);
    return rc;
}

/* keys - n funded keys from the seed; tag keeps curators apart from senders. */
static int keys(pel_memstate *ms, key *k, uint64_t n, uint64_t seed, uint8_t tag)
{
    uint8_t s[32], v[8];
    pel_key bk;
    int rc = 0;
    pel_le_store(v, 1ull << 50, 8);
    for (uint64_t i = 0; !rc && i < n; i++) {
        memset(s, 0, sizeof s);
        pel_le_store(s, i + seed * 1000003, 8);
        s[31] = tag;
        rc = pel_sign_seed_keypair(k[i].pk, k[i].sk, s);
        pel_addr_from_pubkey(k[i].pk, &k[i].addr);
        pel_key_balance(&k[i].addr, &bk);
        if (!rc) rc = pel_memstate_put(ms, &bk, v, 8);
    }
    return rc;
}

/* setup_block - science_gen.h's world: popular objects and their
 * versions, then one object per sender. */
static int setup_block(const sopts *o, world *w)
{
    pel_buf body, out;
    int rc = 0;
    pel_buf_init(&body);
    pel_buf_init(&out);
    for (uint32_t c = 0; !rc && c < o->popular; c++) {
        rc = pel_sci_popular_body(c, &body);
        if (!rc) rc = add(w, &w->cur[c], PEL_TX_OBJ_REGISTER, &body, &out);
        if (!rc) pel_obj_id_of(w->tx[w->n - 1].id, &w->sw.popular[c]);
        for (uint32_t v = 1; !rc && v < w->sw.versions; v++) {
            rc = pel_sci_object_body(((uint64_t)c << 32) | v, NULL, &w->sw.popular[c], &body);
            if (!rc) rc = add(w, &w->cur[c], PEL_TX_OBJ_VERSION, &body, &out);
        }
    }
    for (uint32_t s = 0; !rc && s < o->senders; s++) {
        rc = pel_sci_own_body(s, &body);
        if (!rc) rc = add(w, &w->s[s], PEL_TX_OBJ_REGISTER, &body, &out);
        if (!rc) {
            w->sci[s].index = s;
            w->sci[s].has_own = 1;
            pel_obj_id_of(w->tx[w->n - 1].id, &w->sci[s].own);
        }
    }
    pel_buf_free(&body);
    pel_buf_free(&out);
    return rc;
}

/* setup - fund every key and commit the setup block (sequential engine);
 * every setup transaction must succeed. */
static int setup(const sopts *o, world *w, const pel_chain_params *p, pel_engine *seq)
{
    pel_block_result r;
    double t;
    int rc = pel_memstate_new(&w->ms);
    if (!rc) rc = keys(w->ms, w->s, o->senders, o->seed, 0);
    if (!rc) rc = keys(w->ms, w->cur, o->popular, o->seed, 0xc0);
    if (!rc) rc = setup_block(o, w);
    if (!rc) rc = run(seq, w, p, 1, &r, &t);
    if (rc) { free_block(w); return rc; }
    for (uint32_t i = 0; !rc && i < r.n; i++)
        if (r.receipts[i].status != 0) {
            fprintf(stderr, "pel bench science: setup transaction %u failed: %s\n", i,
                    pel_strerror(r.receipts[i].status));
            rc = PEL_ECORRUPT;
        }
    if (!rc) rc = pel_memstate_apply(w->ms, &r.block_writes);
    pel_block_result_free(&r);
    free_block(w);
    return rc;
}

/* per run: sequential and Block-STM seconds, Block-STM's phases (ms) */
typedef struct tally { uint64_t ok, executions; double *ts, *tp, *ph; } tally;

/* one_run - block run_i by both engines (alternating which goes first:
 * the noise of this machine hits both alike); the results must match. */
static int one_run(const sopts *o, world *w, const pel_chain_params *p, pel_engine *seq, pel_engine *par,
                   uint64_t *x, unsigned long long run_i, tally *t)
{
    pel_block_result a, b;
    uint64_t h = 2 + run_i;
    int rc = make_block(o, w, x, (uint32_t)o->txs), ra = 1, rb = 1;
    if (!rc && run_i % 2 == 0) { rc = ra = run(seq, w, p, h, &a, &t->ts[run_i]); if (!rc) rc = rb = run(par, w, p, h, &b, &t->tp[run_i]); }
    else if (!rc) { rc = rb = run(par, w, p, h, &b, &t->tp[run_i]); if (!rc) rc = ra = run(seq, w, p, h, &a, &t->ts[run_i]); }
    if (!rc && memcmp(a.digest, b.digest, 32) != 0) {
        fprintf(stderr, "pel bench science: Block-STM's result differs from the sequential one (run %llu)\n", run_i);
        rc = PEL_ECORRUPT;
    }
    for (uint32_t i = 0; !rc && i < a.n; i++) t->ok += a.receipts[i].status == 0;
    if (!rc) t->executions += b.stats.executions;
    if (!rc) pel_bench_phases_add(t->ph, (unsigned)o->runs, (unsigned)run_i, &b.stats);
    /* the state moves on, as the chain's would: next block's nonces follow */
    if (!rc) rc = pel_memstate_apply(w->ms, &a.block_writes);
    if (ra == 0) pel_block_result_free(&a);
    if (rb == 0) pel_block_result_free(&b);
    free_block(w);
    return rc;
}

static void report(const sopts *o, const world *w, const tally *t)
{
    unsigned runs = (unsigned)o->runs;
    double ms_ = pel_bench_median(t->ts, runs), mp = pel_bench_median(t->tp, runs), all = (double)(o->txs * o->runs);
    if (o->json) {
        printf("{\"bench\":\"science\",\"workload\":\"science\",\"txs\":%llu,\"senders\":%llu,\"popular\":%llu,"
               "\"versions\":%u,\"threads\":%llu,\"runs\":%llu,\"seq_ms\":%.3f,\"par_ms\":%.3f,\"speedup\":%.3f,"
               "\"seq_ms_min\":%.3f,\"par_ms_min\":%.3f,\"ok_ratio\":%.3f,\"executions_per_tx\":%.3f",
               o->txs, o->senders, o->popular, w->sw.versions, o->threads, o->runs, ms_ * 1e3, mp * 1e3,
               ms_ / mp, t->ts[0] * 1e3, t->tp[0] * 1e3, (double)t->ok / all, (double)t->executions / all);
        pel_bench_phases_json(t->ph, runs);
        printf(",\"mix\":{");
        for (int k = 0; k < PEL_SCI_KINDS; k++)
            printf("%s\"%s\":%llu", k ? "," : "", pel_sci_kind_names[k], (unsigned long long)w->kinds[k]);
        printf("}}\n");
        return;
    }
    printf("science: %llu txs (%.0f%% succeed), %llu senders, %llu popular objects: sequential %.1f ms, "
           "Block-STM/%llu %.1f ms, speedup %.2fx (median of %llu; %.2f executions per tx)\n",
           o->txs, 100.0 * (double)t->ok / all, o->senders, o->popular, ms_ * 1e3, o->threads, mp * 1e3,
           ms_ / mp, o->runs, (double)t->executions / all);
    pel_bench_phases_text(t->ph, runs);
    printf("mix:");
    for (int k = 0; k < PEL_SCI_KINDS; k++)
        printf(" %s %.1f%%", pel_sci_kind_names[k], 100.0 * (double)w->kinds[k] / all);
    printf("\n");
}

int pel_cli_bench_science(int argc, char **argv)
{
    sopts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : 2;
    if (o.popular > o.senders) { fprintf(stderr, "pel bench science: --popular must not exceed --senders\n"); return 2; }
    pel_chain_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.chain_id, sizeof p.chain_id, "%s", CHAIN);
    p.gas = pel_gas_defaults();
    p.min_gas_price = 1;
    p.modules = pel_modules_table();
    world w = { .s = calloc(o.senders, sizeof(key)), .cur = calloc(o.popular, sizeof(key)),
                .sci = calloc(o.senders, sizeof(pel_sci_sender)) };
    w.sw.n_popular = (uint32_t)o.popular;
    w.sw.versions = pel_sci_versions_for(w.sw.n_popular, (o.txs * o.runs + o.senders - 1) / o.senders);
    uint64_t cap = o.txs > o.senders + o.popular * w.sw.versions ? o.txs : o.senders + o.popular * w.sw.versions;
    w.raw = calloc(cap, sizeof(uint8_t *));
    w.tx = calloc(cap, sizeof(pel_tx));
    w.d = calloc(cap, sizeof(pel_txdesc));
    pel_engine *seq = NULL, *par = NULL;
    pel_engine_opts so = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    pel_engine_opts po = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, (unsigned)o.threads);
    tally t = { 0, 0, calloc(o.runs, sizeof(double)), calloc(o.runs, sizeof(double)),
                calloc(o.runs * PEL_PHASES, sizeof(double)) };
    uint64_t x = o.seed;
    rc = w.s && w.cur && w.sci && w.raw && w.tx && w.d && t.ts && t.tp && t.ph ? 0 : PEL_ENOMEM;
    if (!rc) rc = pel_engine_new(&so, &seq);
    if (!rc) rc = pel_engine_new(&po, &par);
    if (!rc) rc = setup(&o, &w, &p, seq);
    for (unsigned long long run_i = 0; !rc && run_i < o.runs; run_i++)
        rc = one_run(&o, &w, &p, seq, par, &x, run_i, &t);
    if (!rc) {
        report(&o, &w, &t);
    } else {
        fprintf(stderr, "pel bench science: %s\n", pel_strerror(rc));
    }
    pel_engine_free(seq);
    pel_engine_free(par);
    pel_memstate_free(w.ms);
    free(w.s); free(w.cur); free(w.sci); free(w.raw); free(w.tx); free(w.d); free(t.ts); free(t.tp); free(t.ph);
    return rc ? 1 : 0;
}
