/*
 * store_test.h - what the tests of the store and of the state tree share
 * (test_store.c, test_smt.c): a seeded generator, temporary directories
 * (tmpdir.h) and opening a store on one. Include after test.h.
 */
#ifndef PEL_STORE_TEST_H
#define PEL_STORE_TEST_H

#include <inttypes.h>
#include <time.h>

#include "state/store.h"
#include "test.h"
#include "tmpdir.h"

#define MIB (1ull << 20)

static uint64_t rng_state;

static uint64_t rnd(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* seed_rnd - seed rnd from PEL_TEST_SEED, else the clock, and print
 * "NAME seed N" so that a failing run can be replayed. */
static void seed_rnd(const char *name)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL));
    printf("%s seed %" PRIu64 "\n", name, seed);
    rng_state = seed;
}

/* store_open - open (creating) the store in dir with these options; exits
 * the test if it cannot. */
static pel_store *store_open(const char *dir, uint64_t map_size, unsigned max_readers, int read_only)
{
    pel_store_opts o = pel_store_defaults();
    o.map_size = map_size;
    o.max_readers = max_readers;
    o.read_only = read_only;
    pel_store *s = NULL;
    int rc = pel_store_open(dir, &o, &s);
    if (rc) { fprintf(stderr, "cannot open %s: %s\n", dir, pel_strerror(rc)); exit(1); }
    return s;
}

#endif
