/*
 * test_oom.c - allocation failure inside the engines: every engine, with the
 * Nth arena chunk allocation failing, returns PEL_ENOMEM and an empty result
 * (or succeeds with the right result), never crashes, leaks (ASan checks) or
 * hangs, and still works for the next block.
 */
#include "engine_check.h"

typedef struct oom_config { pel_engine_kind kind; unsigned threads; unsigned storm_ratio; const char *name; } oom_config;

static const oom_config configs[] = {
    { PEL_ENGINE_SEQUENTIAL, 1, 3, "sequential" },
    { PEL_ENGINE_BLOCKSTM, 2, 3, "blockstm/2" },
    { PEL_ENGINE_BLOCKSTM, 4, 0, "blockstm/4-nofallback" },
    { PEL_ENGINE_DECLARED, 2, 3, "declared/2" },
};

static void one_engine(const oom_config *c, const pel_state *st, const pel_txdesc *d, uint32_t n,
                       const pel_executor *ex, const pel_block_result *ref)
{
    pel_engine_opts o = pel_engine_defaults(c->kind, c->threads);
    o.storm_ratio = c->storm_ratio;
    o.wave_min_parallel = 2;
    pel_engine *e;
    CHECK_EQ_INT(pel_engine_new(&o, &e), 0);
    int failures = 0;
    for (long k = 0; k < 24; k++) {
        pel_block_result r;
        pel_arena_test_fail_after(k);
        int rc = pel_engine_execute(e, st, d, n, ex, &r);
        pel_arena_test_fail_after(-1);
        CHECK(rc == 0 || rc == PEL_ENOMEM);
        if (rc == PEL_ENOMEM) {
            failures++;
            CHECK(r.receipts == NULL && r.n == 0);   /* the result is left empty */
        }
        if (rc == 0) {
            CHECK_EQ_INT(pel_block_result_digest(&r), 0);
            if (!result_eq(ref, &r, c->name)) { fprintf(stderr, "  after fail_after(%ld)\n", k); CHECK(0); }
            pel_block_result_free(&r);
        }
        pel_block_result again;   /* the engine is still usable */
        CHECK_EQ_INT(run_engine(e, st, d, n, ex, &again), 0);
        CHECK(result_eq(ref, &again, c->name));
        pel_block_result_free(&again);
    }
    CHECK(failures > 0);   /* the injection did reach this engine */
    pel_engine_free(e);
}

static void test_allocation_failures(void)
{
    pel_rng rng = { 99 };
    pel_synth s;
    pel_memstate *ms;
    pel_arena a;
    pel_synth_tx *txs;
    pel_txdesc *d;
    pel_synth_mix mix = { .weight = { 5, 1, 2, 1, 1, 1, 2, 1, 1 }, .declare_pct = 100, .max_loops = 100 };
    pel_arena_init(&a, 0);
    CHECK_EQ_INT(pel_synth_init(&s, 50, 200), 0);
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    CHECK_EQ_INT(pel_synth_genesis(&s, ms, 100000, &rng), 0);
    CHECK_EQ_INT(pel_synth_block(&s, &rng, 3000, &mix, &a, &txs, &d), 0);
    pel_state st = pel_memstate_reader(ms);
    pel_executor ex = pel_synth_executor(&s);
    pel_engine *seq;
    pel_engine_opts so = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    pel_block_result ref;
    CHECK_EQ_INT(pel_engine_new(&so, &seq), 0);
    CHECK_EQ_INT(run_engine(seq, &st, d, 3000, &ex, &ref), 0);
    for (unsigned c = 0; c < sizeof(configs) / sizeof(*configs); c++)
        one_engine(&configs[c], &st, d, 3000, &ex, &ref);
    pel_block_result_free(&ref);
    pel_engine_free(seq);
    pel_memstate_free(ms);
    pel_synth_free(&s);
    pel_arena_free(&a);
}

int main(void)
{
    RUN(test_allocation_failures);
    return TEST_END("test_oom");
}
