/*
 * test_engines.c - property tests: every engine, at every thread count,
 * gives the sequential engine's result byte for byte on random blocks.
 *
 * Seeds: PEL_TEST_SEED replays a run (the seed is printed first);
 * PEL_TEST_ITERS sets the number of random blocks.
 */
#include <time.h>
#include "engine_check.h"

typedef struct config { pel_engine_opts o; const char *name; pel_engine *e; } config;

static config configs[32];
static int nconfigs;
static pel_engine *seq;

static void add_config(pel_engine_kind k, unsigned threads, unsigned storm_min, unsigned ratio,
                       unsigned wave_min, const char *name)
{
    config *c = &configs[nconfigs];
    c->o = pel_engine_defaults(k, threads);
    c->o.storm_min = storm_min;
    c->o.storm_ratio = ratio;
    if (wave_min) c->o.wave_min_parallel = wave_min;
    c->name = name;
    if (pel_engine_new(&c->o, &c->e) == 0) nconfigs++;
}

static void setup_configs(void)
{
    static char names[32][48];
    static const unsigned threads[] = { 1, 2, 4, 8, 16 };
    CHECK(pel_engine_new(&(pel_engine_opts){ .kind = PEL_ENGINE_SEQUENTIAL, .threads = 1 }, &seq) == 0);
    for (int i = 0; i < 5; i++) {
        snprintf(names[i], 48, "blockstm/%u", threads[i]);
        add_config(PEL_ENGINE_BLOCKSTM, threads[i], 0, 0, 0, names[i]);       /* no fallback */
        snprintf(names[5 + i], 48, "declared/%u", threads[i]);
        add_config(PEL_ENGINE_DECLARED, threads[i], 0, 0, 2, names[5 + i]);   /* waves of >= 2 in parallel */
    }
    add_config(PEL_ENGINE_BLOCKSTM, 2, 64, 3, 0, "blockstm/2+fallback");
    add_config(PEL_ENGINE_BLOCKSTM, 4, 1, 1000000, 0, "blockstm/4+instant-fallback");
    add_config(PEL_ENGINE_DECLARED, 2, 0, 0, 0, "declared/2-default");
}

static void random_mix(pel_rng *rng, pel_synth_mix *mix)
{
    memset(mix, 0, sizeof(*mix));
    for (int k = 0; k < SYN_NKINDS; k++) mix->weight[k] = pel_rng_below(rng, 3) ? pel_rng_below(rng, 10) : 0;
    mix->weight[SYN_TRANSFER] += 1;
    static const uint32_t pct[] = { 0, 50, 90, 100 };
    mix->declare_pct = pct[pel_rng_below(rng, 4)];
    mix->max_loops = pel_rng_below(rng, 2) ? 2000 : 50;
}

static uint32_t random_size(pel_rng *rng, uint32_t big_every)
{
    uint32_t r = pel_rng_below(rng, big_every);
    if (r == 0) return 2000 + pel_rng_below(rng, 8001);       /* up to 10k */
    if (r < 4) return pel_rng_below(rng, 3);                  /* empty, one, two */
    return 1 + pel_rng_below(rng, 300);
}

/* one_block - generate, run everywhere, compare. Returns 1 if all agreed. */
static int one_block(uint64_t seed, uint32_t iter, uint32_t big_every)
{
    pel_rng rng = { seed };
    pel_synth s;
    pel_memstate *ms = NULL;
    pel_arena a;
    pel_synth_mix mix;
    pel_synth_tx *txs;
    pel_txdesc *d;
    pel_block_result ref, r;
    int ok = 1;
    uint32_t n = random_size(&rng, big_every);
    uint32_t keys = 1 + (uint32_t)(pel_rng_next(&rng) % (1u << pel_rng_below(&rng, 17)));
    uint32_t accts = 1 + pel_rng_below(&rng, pel_rng_below(&rng, 2) ? 8 : 2000);
    random_mix(&rng, &mix);
    pel_arena_init(&a, 0);
    int init = pel_synth_init(&s, accts, keys);
    s.credit = (uint8_t)pel_rng_below(&rng, 3);       /* every way of moving money */
    s.hot_pct = pel_rng_below(&rng, 2) ? pel_rng_below(&rng, 101) : 0;
    if (init || pel_memstate_new(&ms)
        || pel_synth_genesis(&s, ms, 1000000, &rng)
        || pel_synth_block(&s, &rng, n, &mix, &a, &txs, &d)) { CHECK(0); return 0; }
    pel_state st = pel_memstate_reader(ms);
    pel_executor ex = pel_synth_executor(&s);
    CHECK(run_engine(seq, &st, d, n, &ex, &ref) == 0);
    for (int c = 0; c < nconfigs; c++) {
        int rc = run_engine(configs[c].e, &st, d, n, &ex, &r);
        CHECK_EQ_INT(rc, 0);
        if (rc) { ok = 0; continue; }
        int same = result_eq(&ref, &r, configs[c].name);
        CHECK(same);
        /* Block-STM's phase times: a sequential tail only after a fallback,
         * and one of 64+ transactions takes at least a microsecond */
        if (configs[c].o.kind == PEL_ENGINE_BLOCKSTM) {
            CHECK(r.stats.fallback_from < n || r.stats.phase_us[PEL_PH_TAIL] == 0);
            CHECK(r.stats.fallback_from + 64 > n || r.stats.phase_us[PEL_PH_TAIL] > 0);
        }
        if (!same) {
            fprintf(stderr, "  iteration %u seed 0x%llx: n=%u keys=%u accounts=%u credit=%u hot=%u%% engine %s\n",
                    iter, (unsigned long long)seed, n, keys, accts, s.credit, s.hot_pct, configs[c].name);
            ok = 0;
        }
        pel_block_result_free(&r);
    }
    pel_block_result_free(&ref);
    pel_memstate_free(ms);
    pel_synth_free(&s);
    pel_arena_free(&a);
    return ok;
}

static void test_random_blocks(void)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20));
    int tsan = test_env_u64("PEL_TEST_TSAN", 0) != 0;
    uint32_t iters = (uint32_t)test_env_u64("PEL_TEST_ITERS", tsan ? 200 : 2000);
    printf("test_engines: seed 0x%llx, %u random blocks (replay: PEL_TEST_SEED=0x%llx)\n",
           (unsigned long long)seed, iters, (unsigned long long)seed);
    pel_rng master = { seed };
    uint32_t failures = 0;
    for (uint32_t i = 0; i < iters && failures < 3; i++) {
        uint64_t s = pel_rng_next(&master);
        failures += !one_block(s, i, tsan ? 200 : 40);
    }
    CHECK_EQ_INT(failures, 0);
}

int main(void)
{
    setup_configs();
    CHECK_EQ_INT(nconfigs, 13);
    RUN(test_random_blocks);
    for (int c = 0; c < nconfigs; c++) pel_engine_free(configs[c].e);
    pel_engine_free(seq);
    return TEST_END("test_engines");
}
