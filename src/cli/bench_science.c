/*
 * bench_science.c - `pel bench science`: the open-science workload through
 * the real ledger executor and modules (signed transactions, fees, the
 * registry and preregistration), sequential against Block-STM in the same
 * process, results checked byte-identical.
 *
 * A block mixes: research-object registrations, most citing one of a few
 * popular objects (a delta counter, so they must not serialise), new
 * versions of the senders' own objects, and preregistration commits; each
 * sender sends several transactions (nonce order), as a real block has.
 * Reports the median of R runs and the ratio sequential / parallel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/codec.h"
#include "exec/engine.h"
#include "exec/state.h"
#include "ledger/ledger.h"
#include "modules/modules.h"
#include "modules/prereg.h"
#include "modules/registry.h"

#define CHAIN "pel-bench"

typedef struct sopts {
    unsigned long long txs, senders, popular, threads, runs, seed;
    int json;
} sopts;

typedef struct sender { uint8_t pk[32], sk[64]; pel_addr addr; uint64_t nonce; pel_obj_id own; int has_own; } sender;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: pel bench science [--txs N] [--senders S] [--popular P] [--threads T]\n"
        "                         [--runs R] [--seed X] [--json]\n"
        "\n"
        "Blocks of N signed open-science transactions from S senders (registrations\n"
        "citing P popular objects, new versions, preregistration commits) executed by\n"
        "the ledger with the sequential engine and with Block-STM on T threads; the\n"
        "results must be identical. Defaults: 10000 txs, 1000 senders, 4 popular,\n"
        "2 threads, 5 runs.\n");
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
        else if (!strcmp(a, "--popular")) t = &o->popular, hi = 64;
        else if (!strcmp(a, "--threads")) t = &o->threads, hi = 256;
        else if (!strcmp(a, "--runs")) t = &o->runs, hi = 1000;
        else if (!strcmp(a, "--seed")) t = &o->seed, lo = 0, hi = ~0ull;
        if (!t || !v) { fprintf(stderr, "pel bench science: bad option %s\n", a); usage(stderr); return 2; }
        if (pel_cli_u64(a, v, lo, hi, t)) return 2;
        i++;
    }
    return 0;
}

/* The fields of an object; digest from x (distinct per transaction). */
static int fields_body(uint64_t x, const pel_obj_id *cite, const pel_obj_id *self, pel_buf *b)
{
    pel_obj_fields f;
    uint8_t dg[32];
    memset(&f, 0, sizeof f);
    memset(dg, 0, sizeof dg);
    pel_le_store(dg, x, 8);
    f.kind = PEL_OBJ_DATASET;          /* a version keeps its kind */
    f.title = (const uint8_t *)"Benchmark object";
    f.title_len = 16;
    f.n_digests = 1;
    f.digests = dg;
    f.license = (const uint8_t *)"CC-BY-4.0";
    f.license_len = 9;
    if (cite) { f.n_links = 1; f.links[0].relation = PEL_REL_CITES; f.links[0].target = *cite; }
    pel_buf_reset(b);
    if (self && pel_buf_append(b, self->b, PEL_OBJ_ID_LEN)) return PEL_ENOMEM;
    return pel_obj_fields_encode(&f, b);
}

static int sign(sender *s, uint16_t type, const pel_buf *body, pel_buf *out, pel_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    tx->chain_id = (const uint8_t *)CHAIN;
    tx->chain_id_len = (uint32_t)strlen(CHAIN);
    tx->nonce = s->nonce++;
    tx->gas_limit = 1000000;
    tx->gas_price = 1;
    tx->type = type;
    tx->body = body->data;
    tx->body_len = (uint32_t)body->len;
    return pel_tx_sign(tx, s->sk, out);
}

typedef struct world {
    pel_memstate *ms;
    sender *s;
    pel_obj_id popular[64];
    uint8_t **raw;
    pel_tx *tx;
    pel_txdesc *d;
    uint32_t n;
} world;

/* One block's transactions: kinds by x, senders round-robin. The first
 * registration of each sender in the setup gives it an object to version. */
static int make_block(const sopts *o, world *w, uint64_t *x, uint32_t n)
{
    pel_buf body, out;
    int rc = 0;
    pel_buf_init(&body);
    pel_buf_init(&out);
    for (uint32_t i = 0; !rc && i < n; i++) {
        *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = *x >> 24;
        sender *s = &w->s[i % o->senders];
        uint16_t type = PEL_TX_OBJ_REGISTER;
        if (r % 10 < 6) rc = fields_body(*x, &w->popular[r / 10 % o->popular], NULL, &body);
        else if (r % 10 < 8 && s->has_own) { type = PEL_TX_OBJ_VERSION; rc = fields_body(*x, NULL, &s->own, &body); }
        else if (r % 10 < 9) rc = fields_body(*x, NULL, NULL, &body);
        else {
            uint8_t cm[32];
            memset(cm, (int)(r & 0xff), 32);
            pel_le_store(cm, *x, 8);
            pel_buf_reset(&body);
            rc = pel_enc_raw(&body, cm, 32) || pel_enc_u64(&body, 0) || pel_enc_u64(&body, 0) ||
                 pel_enc_bytes(&body, "", 0) || pel_enc_u64(&body, 0) ? PEL_ENOMEM : 0;
            type = PEL_TX_PREREG_COMMIT;
        }
        pel_buf_reset(&out);
        if (!rc) rc = sign(s, type, &body, &out, &w->tx[i]);
        if (!rc && !(w->raw[i] = malloc(out.len))) rc = PEL_ENOMEM;
        if (!rc) {
            memcpy(w->raw[i], out.data, out.len);
            rc = pel_tx_decode(w->raw[i], out.len, &w->tx[i]);
            w->d[i].tx = &w->tx[i];
            w->d[i].access = NULL;
        }
    }
    pel_buf_free(&body);
    pel_buf_free(&out);
    w->n = n;
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
    double t0 = now_s();
    int rc = pel_engine_execute(e, &st, w->d, w->n, &ex, r);
    *secs = now_s() - t0;
    if (rc == 0) rc = pel_block_result_digest(r);
    return rc;
}

/* Setup: fund senders, register the popular objects and each sender's own. */
static int setup(const sopts *o, world *w, const pel_chain_params *p, pel_engine *seq, uint64_t *x)
{
    uint8_t seed[32], v[8];
    pel_key k;
    pel_block_result r;
    double t;
    int rc = pel_memstate_new(&w->ms);
    pel_le_store(v, 1ull << 50, 8);
    for (uint64_t i = 0; !rc && i < o->senders; i++) {
        memset(seed, 0, sizeof seed);
        pel_le_store(seed, i + o->seed * 1000003, 8);
        rc = pel_sign_seed_keypair(w->s[i].pk, w->s[i].sk, seed);
        pel_addr_from_pubkey(w->s[i].pk, &w->s[i].addr);
        pel_key_balance(&w->s[i].addr, &k);
        if (!rc) rc = pel_memstate_put(w->ms, &k, v, 8);
    }
    /* one block: each sender registers an object (the first P are popular) */
    pel_buf body, out;
    pel_buf_init(&body);
    pel_buf_init(&out);
    for (uint32_t i = 0; !rc && i < o->senders; i++) {
        rc = fields_body(~(uint64_t)i, NULL, NULL, &body);
        pel_buf_reset(&out);
        if (!rc) rc = sign(&w->s[i], PEL_TX_OBJ_REGISTER, &body, &out, &w->tx[i]);
        if (!rc && !(w->raw[i] = malloc(out.len))) rc = PEL_ENOMEM;
        if (!rc) {
            memcpy(w->raw[i], out.data, out.len);
            rc = pel_tx_decode(w->raw[i], out.len, &w->tx[i]);
            w->d[i] = (pel_txdesc){ &w->tx[i], NULL };
            pel_obj_id_of(w->tx[i].id, &w->s[i].own);
            w->s[i].has_own = 1;
            if (i < o->popular) w->popular[i] = w->s[i].own;
        }
    }
    pel_buf_free(&body);
    pel_buf_free(&out);
    w->n = (uint32_t)o->senders;
    if (!rc) rc = run(seq, w, p, 1, &r, &t);
    if (!rc) rc = pel_memstate_apply(w->ms, &r.block_writes);
    if (!rc) pel_block_result_free(&r);
    free_block(w);
    (void)x;
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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
    uint32_t cap = (uint32_t)(o.txs > o.senders ? o.txs : o.senders);
    world w = { .s = calloc(o.senders, sizeof(sender)), .raw = calloc(cap, sizeof(uint8_t *)),
                .tx = calloc(cap, sizeof(pel_tx)), .d = calloc(cap, sizeof(pel_txdesc)) };
    pel_engine *seq = NULL, *par = NULL;
    pel_engine_opts so = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    pel_engine_opts po = pel_engine_defaults(PEL_ENGINE_BLOCKSTM, (unsigned)o.threads);
    double *ts = calloc(o.runs, sizeof(double)), *tp = calloc(o.runs, sizeof(double));
    uint64_t x = o.seed;
    rc = w.s && w.raw && w.tx && w.d && ts && tp ? 0 : PEL_ENOMEM;
    if (!rc) rc = pel_engine_new(&so, &seq);
    if (!rc) rc = pel_engine_new(&po, &par);
    if (!rc) rc = setup(&o, &w, &p, seq, &x);
    uint32_t ok = 0;
    for (unsigned long long run_i = 0; !rc && run_i < o.runs; run_i++) {
        pel_block_result a, b;
        rc = make_block(&o, &w, &x, (uint32_t)o.txs);
        /* alternate the order: the noise of this machine hits both alike */
        if (!rc && run_i % 2 == 0) rc = run(seq, &w, &p, 2 + run_i, &a, &ts[run_i]) || run(par, &w, &p, 2 + run_i, &b, &tp[run_i]);
        else if (!rc) rc = run(par, &w, &p, 2 + run_i, &b, &tp[run_i]) || run(seq, &w, &p, 2 + run_i, &a, &ts[run_i]);
        if (!rc && memcmp(a.digest, b.digest, 32) != 0) {
            fprintf(stderr, "pel bench science: Block-STM's result differs from the sequential one\n");
            rc = PEL_ECORRUPT;
        }
        for (uint32_t i = 0; !rc && i < a.n; i++) ok += a.receipts[i].status == 0;
        /* the state moves on, as the chain's would: next block's nonces follow */
        if (!rc) rc = pel_memstate_apply(w.ms, &a.block_writes);
        if (!rc) { pel_block_result_free(&a); pel_block_result_free(&b); }
        free_block(&w);
    }
    if (!rc) {
        qsort(ts, o.runs, sizeof *ts, cmp_double);
        qsort(tp, o.runs, sizeof *tp, cmp_double);
        double ms_ = ts[o.runs / 2], mp = tp[o.runs / 2];
        if (o.json)
            printf("{\"bench\":\"science\",\"txs\":%llu,\"senders\":%llu,\"popular\":%llu,\"threads\":%llu,"
                   "\"runs\":%llu,\"seq_ms\":%.3f,\"par_ms\":%.3f,\"speedup\":%.3f,\"ok_ratio\":%.3f}\n",
                   o.txs, o.senders, o.popular, o.threads, o.runs, ms_ * 1e3, mp * 1e3, ms_ / mp,
                   (double)ok / (double)(o.txs * o.runs));
        else
            printf("science: %llu txs (%.0f%% succeed), %llu senders, %llu popular objects: sequential %.1f ms, "
                   "Block-STM/%llu %.1f ms, speedup %.2fx (median of %llu)\n",
                   o.txs, 100.0 * (double)ok / (double)(o.txs * o.runs), o.senders, o.popular, ms_ * 1e3,
                   o.threads, mp * 1e3, ms_ / mp, o.runs);
    } else {
        fprintf(stderr, "pel bench science: %s\n", pel_strerror(rc));
    }
    pel_engine_free(seq);
    pel_engine_free(par);
    pel_memstate_free(w.ms);
    free(w.s); free(w.raw); free(w.tx); free(w.d); free(ts); free(tp);
    return rc ? 1 : 0;
}
