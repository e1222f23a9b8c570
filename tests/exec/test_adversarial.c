/*
 * test_adversarial.c - blocks built to hurt the parallel engines: a chain
 * where every transaction conflicts with the one before, one hot key, half
 * the transactions failing, very long transactions among tiny ones, two
 * accounts under full contention, a bounded counter that many additions
 * overflow, and the degenerate empty and one-transaction blocks.
 *
 * Each block runs through Block-STM at 1, 2, 4, 8 and 16 threads with the
 * abort-storm fallback disabled, Block-STM with default options, and the
 * declared engine at 2 and 8 threads; each result must equal the sequential
 * one byte for byte. Every transaction carries an honest access list (the
 * declared engine needs them). Blocks are smaller under ThreadSanitizer
 * (PEL_TEST_TSAN=1) and AddressSanitizer, where the contended blocks with
 * 16 threads and no fallback are slowest.
 */
#include "engine_check.h"

typedef struct config { const char *name; pel_engine *e; } config;

static config configs[8];
static int nconfigs;
static pel_engine *seq;
static int tsan, asan;

static void add_config(pel_engine_kind k, unsigned threads, int no_fallback, int small_waves, const char *name)
{
    pel_engine_opts o = pel_engine_defaults(k, threads);
    if (no_fallback) o.storm_ratio = 0;
    if (small_waves) o.wave_min_parallel = 2;
    config *c = &configs[nconfigs];
    c->name = name;
    int rc = pel_engine_new(&o, &c->e);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0) nconfigs++;
}

static void setup(void)
{
    pel_engine_opts o = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    CHECK(pel_engine_new(&o, &seq) == 0);
    add_config(PEL_ENGINE_BLOCKSTM, 1, 1, 0, "blockstm/1-nofallback");
    add_config(PEL_ENGINE_BLOCKSTM, 2, 1, 0, "blockstm/2-nofallback");
    add_config(PEL_ENGINE_BLOCKSTM, 4, 1, 0, "blockstm/4-nofallback");
    add_config(PEL_ENGINE_BLOCKSTM, 8, 1, 0, "blockstm/8-nofallback");
    add_config(PEL_ENGINE_BLOCKSTM, 16, 1, 0, "blockstm/16-nofallback");
    add_config(PEL_ENGINE_BLOCKSTM, 4, 0, 0, "blockstm/4-default");
    add_config(PEL_ENGINE_DECLARED, 2, 0, 1, "declared/2");
    add_config(PEL_ENGINE_DECLARED, 8, 0, 1, "declared/8");
}

static uint32_t size(uint32_t plain, uint32_t under_asan, uint32_t under_tsan)
{
    return tsan ? under_tsan : asan ? under_asan : plain;
}

typedef void (*extra_check)(const pel_block_result *ref, const pel_block_result *r, const char *name);

/* check_all - run the block sequentially into *ref, then through every
 * configuration and compare. The caller frees *ref. */
static void check_all(const char *what, const pel_memstate *ms, const pel_synth *s,
                      const pel_txdesc *d, uint32_t n, pel_block_result *ref, extra_check extra)
{
    pel_state st = pel_memstate_reader(ms);
    pel_executor ex = pel_synth_executor(s);
    int rc = run_engine(seq, &st, d, n, &ex, ref);
    CHECK_EQ_INT(rc, 0);
    if (rc) { memset(ref, 0, sizeof(*ref)); return; }
    CHECK_EQ_INT(ref->n, n);
    for (int c = 0; c < nconfigs; c++) {
        pel_block_result r;
        rc = run_engine(configs[c].e, &st, d, n, &ex, &r);
        CHECK_EQ_INT(rc, 0);
        if (rc) continue;
        int same = result_eq(ref, &r, configs[c].name);
        if (!same) fprintf(stderr, "  block %s (n=%u) differs under %s\n", what, n, configs[c].name);
        CHECK(same);
        if (extra) extra(ref, &r, configs[c].name);
        pel_block_result_free(&r);
    }
}

typedef struct fixture {
    pel_synth s;
    pel_memstate *ms;
    pel_arena a;
    pel_rng rng;
} fixture;

static int fixture_init(fixture *f, uint32_t accounts, uint32_t keys, uint64_t balance, uint64_t seed)
{
    memset(f, 0, sizeof(*f));
    pel_arena_init(&f->a, 0);
    f->rng.s = seed;
    int rc = pel_synth_init(&f->s, accounts, keys);
    if (!rc) rc = pel_memstate_new(&f->ms);
    if (!rc) rc = pel_synth_genesis(&f->s, f->ms, balance, NULL);
    CHECK_EQ_INT(rc, 0);
    return rc;
}

static void fixture_free(fixture *f)
{
    pel_memstate_free(f->ms);
    pel_synth_free(&f->s);
    pel_arena_free(&f->a);
}

static int block_of(fixture *f, uint32_t n, const pel_synth_mix *mix, pel_synth_tx **txs, pel_txdesc **d)
{
    int rc = pel_synth_block(&f->s, &f->rng, n, mix, &f->a, txs, d);
    CHECK_EQ_INT(rc, 0);
    for (uint32_t i = 0; rc == 0 && i < n; i++) CHECK((*d)[i].access != NULL);
    return rc;
}

static uint32_t count_status(const pel_block_result *r, int status)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->n; i++) k += r->receipts[i].status == status;
    return k;
}

/* (a) chain: tx i reads and writes keys i and i+1, so it conflicts with
 * tx i-1 and tx i+1 and nothing runs truly in parallel. */
static void test_chain(void)
{
    uint32_t n = size(2000, 2000, 200);
    fixture f;
    if (fixture_init(&f, 4, n + 1, 1000, 1)) return;
    pel_synth_tx *txs = pel_arena_alloc(&f.a, n * sizeof(*txs));
    pel_txdesc *d = pel_arena_alloc(&f.a, n * sizeof(*d));
    pel_access *acc = pel_arena_alloc(&f.a, n * sizeof(*acc));
    pel_key *w = pel_arena_alloc(&f.a, 2 * (size_t)n * sizeof(pel_key));
    CHECK(txs && d && acc && w);
    if (!txs || !d || !acc || !w) { fixture_free(&f); return; }
    memset(txs, 0, n * sizeof(*txs));
    for (uint32_t i = 0; i < n; i++) {
        txs[i].kind = SYN_RMW;
        txs[i].nkeys = 2;
        txs[i].keys[0] = i;
        txs[i].keys[1] = i + 1;
        txs[i].salt = i * 2654435761u;
        pel_key *k = &w[2 * i];
        k[0] = f.s.keys[i];
        k[1] = f.s.keys[i + 1];
        if (pel_key_cmp(&k[0], &k[1]) > 0) { pel_key t = k[0]; k[0] = k[1]; k[1] = t; }
        acc[i] = (pel_access){ NULL, 0, k, 2, NULL, 0 };
        d[i] = (pel_txdesc){ &txs[i], &acc[i] };
    }
    pel_block_result ref;
    check_all("chain", f.ms, &f.s, d, n, &ref, NULL);
    /* every key 0..n written; key i last by tx i (keys 1..n-1 twice) */
    CHECK_EQ_INT(ref.block_writes.n, n + 1);
    CHECK_EQ_INT(count_status(&ref, 0), n);
    for (uint32_t i = 0; i < ref.n; i++) CHECK_EQ_INT(ref.tx_writes[i].n, 2);
    pel_block_result_free(&ref);
    fixture_free(&f);
}

/* (b) every transaction reads and writes one hot key. */
static void test_hotkey(void)
{
    uint32_t n = size(2000, 2000, 200);
    fixture f;
    if (fixture_init(&f, 4, 4, 1000, 2)) return;
    pel_synth_mix mix = { .weight = { [SYN_HOTKEY] = 1 }, .declare_pct = 100 };
    pel_synth_tx *txs;
    pel_txdesc *d;
    if (block_of(&f, n, &mix, &txs, &d) == 0) {
        pel_block_result ref;
        check_all("hotkey", f.ms, &f.s, d, n, &ref, NULL);
        CHECK_EQ_INT(ref.block_writes.n, 1);
        if (ref.block_writes.n == 1) CHECK(pel_key_eq(&ref.block_writes.w[0].key, &f.s.hot));
        CHECK_EQ_INT(count_status(&ref, 0), n);
        pel_block_result_free(&ref);
    }
    fixture_free(&f);
}

/* (c) about half the transactions fail (rollback, then charge the fee),
 * the rest are transfers among few accounts. */
static void test_half_fail(void)
{
    uint32_t n = size(3000, 3000, 300);
    fixture f;
    if (fixture_init(&f, 16, 64, 1000000, 3)) return;
    pel_synth_mix mix = { .weight = { [SYN_TRANSFER] = 1, [SYN_FAIL] = 1 }, .declare_pct = 100 };
    pel_synth_tx *txs;
    pel_txdesc *d;
    if (block_of(&f, n, &mix, &txs, &d) == 0) {
        pel_block_result ref;
        check_all("half-fail", f.ms, &f.s, d, n, &ref, NULL);
        uint32_t fails = 0, aborted = count_status(&ref, PEL_EABORT);
        for (uint32_t i = 0; i < n; i++) fails += txs[i].kind == SYN_FAIL;
        CHECK_EQ_INT(aborted, fails);
        CHECK(fails > n / 3 && fails < 2 * n / 3);
        for (uint32_t i = 0; i < ref.n; i++)   /* a failed tx writes only its sender and the pool */
            if (txs[i].kind == SYN_FAIL) CHECK(ref.tx_writes[i].n == 2);
        pel_block_result_free(&ref);
    }
    fixture_free(&f);
}

/* (d) very long transactions among tiny transfers. */
static void test_long(void)
{
    uint32_t n = size(600, 600, 80);
    fixture f;
    if (fixture_init(&f, 32, 16, 1000000, 4)) return;
    pel_synth_mix mix = { .weight = { [SYN_TRANSFER] = 9, [SYN_LONG] = 1 }, .declare_pct = 100, .max_loops = 1 };
    pel_synth_tx *txs;
    pel_txdesc *d;
    if (block_of(&f, n, &mix, &txs, &d) == 0) {
        uint32_t longs = 0;
        for (uint32_t i = 0; i < n; i++)
            if (txs[i].kind == SYN_LONG) { txs[i].loops = size(200000, 200000, 20000); longs++; }
        CHECK(longs > 0);
        pel_block_result ref;
        check_all("long", f.ms, &f.s, d, n, &ref, NULL);
        CHECK_EQ_INT(count_status(&ref, 0), n);
        pel_block_result_free(&ref);
    }
    fixture_free(&f);
}

/* (e) two accounts, every transfer between them: full contention. */
static void test_two_accounts(void)
{
    uint32_t n = size(10000, 2500, 600);
    fixture f;
    if (fixture_init(&f, 2, 1, 1000, 5)) return;   /* small balances: some transfers lack funds */
    pel_synth_tx *txs;
    pel_txdesc *d;
    int rc = pel_synth_transfers(&f.s, &f.rng, n, 1, &f.a, &txs, &d);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0) {
        pel_block_result ref;
        check_all("two-accounts", f.ms, &f.s, d, n, &ref, NULL);
        uint32_t ok = count_status(&ref, 0), funds = count_status(&ref, PEL_EFUNDS);
        CHECK_EQ_INT(ok + funds, n);
        CHECK(ok > 0 && funds > 0);
        CHECK_EQ_INT(ref.block_writes.n, 3);   /* two balances and the fee pool */
        pel_block_result_free(&ref);
    }
    fixture_free(&f);
}

/* outcome - the delta_tx event: its first addition's result code. */
static int64_t outcome(const pel_receipt *r)
{
    if (r->events_len < 12) return 1;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = (x << 8) | r->events[4 + i];
    return (int64_t)x;
}

/* same_bound_failures - the transactions whose addition hit PEL_EBOUND are
 * exactly sequential's (implied by result_eq, checked on its own). */
static void same_bound_failures(const pel_block_result *ref, const pel_block_result *r, const char *name)
{
    uint32_t diff = 0;
    for (uint32_t i = 0; i < ref->n && i < r->n; i++)
        diff += (outcome(&r->receipts[i]) == PEL_EBOUND) != (outcome(&ref->receipts[i]) == PEL_EBOUND);
    if (diff) fprintf(stderr, "  %s: %u transactions differ in PEL_EBOUND\n", name, diff);
    CHECK_EQ_INT(diff, 0);
}

/* (f) every transaction adds to one counter with a small bound: many
 * additions cross it, and which ones must be exactly sequential's. */
static void test_bounded_counter(void)
{
    uint32_t n = size(4000, 2000, 400);
    fixture f;
    if (fixture_init(&f, 4, 1, 1000, 6)) return;   /* one generic key, absent = 0 */
    pel_synth_mix mix = { .weight = { [SYN_DELTA] = 1 }, .declare_pct = 100 };
    pel_synth_tx *txs;
    pel_txdesc *d;
    if (block_of(&f, n, &mix, &txs, &d) == 0) {
        for (uint32_t i = 0; i < n; i++) {   /* access lists do not depend on these */
            txs[i].bound = 5000;
            txs[i].delta = (int64_t)pel_rng_below(&f.rng, 2001) - 1000;
        }
        pel_block_result ref;
        check_all("bounded-counter", f.ms, &f.s, d, n, &ref, same_bound_failures);
        uint32_t bound_fails = 0;
        for (uint32_t i = 0; i < ref.n; i++) bound_fails += outcome(&ref.receipts[i]) == PEL_EBOUND;
        CHECK(bound_fails > n / 50);
        CHECK(bound_fails < n);
        pel_block_result_free(&ref);
    }
    fixture_free(&f);
}

/* (g) the empty block and a block of one. */
static void test_degenerate(void)
{
    fixture f;
    if (fixture_init(&f, 2, 1, 1000, 7)) return;
    pel_synth_tx *txs;
    pel_txdesc *d;
    pel_block_result ref;
    CHECK(pel_synth_transfers(&f.s, &f.rng, 1, 1, &f.a, &txs, &d) == 0);
    check_all("empty", f.ms, &f.s, d, 0, &ref, NULL);
    CHECK_EQ_INT(ref.n, 0);
    CHECK_EQ_INT(ref.block_writes.n, 0);
    pel_block_result_free(&ref);
    check_all("one", f.ms, &f.s, d, 1, &ref, NULL);
    CHECK_EQ_INT(ref.n, 1);
    CHECK_EQ_INT(ref.receipts[0].status, 0);
    CHECK_EQ_INT(ref.tx_writes[0].n, 3);
    CHECK_EQ_INT(ref.block_writes.n, 3);
    pel_block_result_free(&ref);
    fixture_free(&f);
}

int main(void)
{
    tsan = test_env_u64("PEL_TEST_TSAN", 0) != 0;
#if defined(__SANITIZE_THREAD__)
    tsan = 1;
#endif
#if defined(__SANITIZE_ADDRESS__)
    asan = 1;
#endif
    setup();
    CHECK_EQ_INT(nconfigs, 8);
    if (!seq) return TEST_END("test_adversarial");
    RUN(test_chain);
    RUN(test_hotkey);
    RUN(test_half_fail);
    RUN(test_long);
    RUN(test_two_accounts);
    RUN(test_bounded_counter);
    RUN(test_degenerate);
    for (int c = 0; c < nconfigs; c++) pel_engine_free(configs[c].e);
    pel_engine_free(seq);
    return TEST_END("test_adversarial");
}
