/*
 * test_sort.c - sorting write sets by key (engine_int.h): the radix path
 * (n >= 256, engine.c's RADIX_MIN), the merge path, keys sharing long prefixes (which the radix
 * pass cannot separate), stability, and the parallel version (nothing lost
 * or doubled, on pools of 2-5 workers).
 */
#include <time.h>
#include "exec/engine_int.h"
#include "exec/synth.h"
#include "test.h"

/* make_writes - n writes; keys draw their first 4 bytes from `prefixes`
 * values and their 5th byte from 4 values, so there are many equal keys;
 * val.len records the original position, to check stability. */
static pel_write *make_writes(pel_rng *rng, uint32_t n, uint32_t prefixes)
{
    pel_write *w = calloc(n, sizeof(*w));
    for (uint32_t i = 0; w && i < n; i++) {
        uint32_t p = pel_rng_below(rng, prefixes) * 2654435761u;
        memcpy(w[i].key.b, &p, 4);
        w[i].key.b[4] = (uint8_t)pel_rng_below(rng, 4);
        w[i].val.len = i;
    }
    return w;
}

static int sorted_stably(const pel_write *w, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        int c = pel_key_cmp(&w[i - 1].key, &w[i].key);
        if (c > 0 || (c == 0 && w[i - 1].val.len > w[i].val.len)) return 0;
    }
    return 1;
}

static void check_sizes(uint32_t prefixes)
{
    pel_rng rng = { test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL)) + prefixes };
    static const uint32_t sizes[] = { 0, 1, 2, 63, 255, 256, 300, 3000, 4096, 40000 };
    for (unsigned s = 0; s < sizeof(sizes) / sizeof(*sizes); s++) {
        pel_write *w = make_writes(&rng, sizes[s], prefixes);
        CHECK(w != NULL);
        if (!w) continue;
        CHECK_EQ_INT(pel_writes_sort(w, sizes[s]), 0);
        CHECK(sorted_stably(w, sizes[s]));
        uint32_t d = pel_writes_dedup_last(w, sizes[s]);
        for (uint32_t i = 1; i < d; i++) CHECK(pel_key_cmp(&w[i - 1].key, &w[i].key) < 0);
        free(w);
    }
}

static void test_many_distinct_prefixes(void) { check_sizes(1u << 30); }
static void test_shared_prefixes(void) { check_sizes(3); }

/* every original position (val.len) exactly once: nothing lost or doubled */
static int is_permutation(const pel_write *w, uint32_t n)
{
    uint8_t *seen = calloc(n ? n : 1, 1);
    int ok = seen != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        ok = w[i].val.len < n && !seen[w[i].val.len];
        if (ok) seen[w[i].val.len] = 1;
    }
    free(seen);
    return ok;
}

/* the parallel sort (its count, scatter and sort passes) on pools of 2-5
 * workers, sizes that do not split evenly */
static void test_parallel(void)
{
    pel_rng rng = { 7 };
    pel_arena a;
    pel_arena_init(&a, 0);
    static const uint32_t prefixes[] = { 3, 1536, 1u << 30 };
    static const uint32_t sizes[] = { 4096, 30000, 30001 };
    for (unsigned workers = 2; workers <= 5; workers++) {
        pel_pool *pool;
        CHECK_EQ_INT(pel_pool_new(workers, &pool), 0);
        pel_pool_set_spin(pool, workers == 3 ? 100 : 0);
        for (unsigned p = 0; p < 3; p++) {
            uint32_t n = sizes[(p + workers) % 3];
            pel_write *w = make_writes(&rng, n, prefixes[p]), *out = w;
            CHECK(w != NULL);
            if (!w) continue;
            CHECK_EQ_INT(pel_writes_sort_par(pool, &a, &out, n), 0);
            CHECK(sorted_stably(out, n));
            CHECK(is_permutation(out, n));
            free(w);
        }
        pel_pool_free(pool);
    }
    pel_arena_free(&a);
}

int main(void)
{
    RUN(test_many_distinct_prefixes);
    RUN(test_shared_prefixes);
    RUN(test_parallel);
    return TEST_END("test_sort");
}
