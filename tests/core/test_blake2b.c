/* test_blake2b.c - BLAKE2b-256 of short inputs, several at a time, equals
 * libsodium's crypto_generichash: every length 0..128 in every lane of
 * batches of 1..9 inputs with mixed lengths (random, seed printed;
 * PEL_TEST_SEED, PEL_TEST_ITERS), published values, outputs over their
 * own inputs, and the oversized-input guard. */
#include "core/blake2b.h"
#include "core/hash.h"
#include "test.h"

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void known_answers(void)
{
    static const uint8_t empty[32] = {
        0x0e, 0x57, 0x51, 0xc0, 0x26, 0xe5, 0x43, 0xb2, 0xe8, 0xab, 0x2e, 0xb0, 0x60, 0x99, 0xda, 0xa1,
        0xd1, 0xe5, 0xdf, 0x47, 0x77, 0x8f, 0x77, 0x87, 0xfa, 0xab, 0x45, 0xcd, 0xf1, 0x2f, 0xe3, 0xa8,
    };
    static const uint8_t abc[32] = {
        0xbd, 0xdd, 0x81, 0x3c, 0x63, 0x42, 0x39, 0x72, 0x31, 0x71, 0xef, 0x3f, 0xee, 0x98, 0x57, 0x9b,
        0x94, 0x96, 0x4e, 0x3b, 0xb1, 0xcb, 0x3e, 0x42, 0x72, 0x62, 0xc8, 0xc0, 0x68, 0xd5, 0x23, 0x19,
    };
    uint8_t d[3][32];
    pel_blake2b_job j[3] = { { NULL, 0, d[0] }, { (const uint8_t *)"abc", 3, d[1] },
                             { (const uint8_t *)"abc", 3, d[2] } };
    for (size_t n = 1; n <= 3; n++) {
        memset(d, 0, sizeof d);
        pel_blake2b_batch(j, n);
        CHECK_MEM(d[0], empty, 32);
        if (n > 1) CHECK_MEM(d[1], abc, 32);
        if (n > 2) CHECK_MEM(d[2], abc, 32);
    }
}

/* one random batch of n inputs; input 0 has length len0 */
static int batch_matches(size_t n, size_t len0)
{
    uint8_t buf[9][PEL_BLAKE2B_BLOCK], got[9][32], want[32];
    pel_blake2b_job j[9];
    for (size_t k = 0; k < n; k++) {
        size_t len = k ? next() % (PEL_BLAKE2B_BLOCK + 1) : len0;
        for (size_t i = 0; i < len; i++) buf[k][i] = (uint8_t)next();
        j[k] = (pel_blake2b_job){ buf[k], len, got[k] };
    }
    pel_blake2b_batch(j, n);
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        crypto_generichash(want, 32, buf[k], j[k].len, NULL, 0);
        bad += memcmp(got[k], want, 32) != 0;
    }
    return bad;
}

static void matches_libsodium(void)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", 0x5eed2b2bull);
    uint64_t iters = test_env_u64("PEL_TEST_ITERS", 20);
    printf("  seed %" PRIu64 "\n", seed);
    rng = seed | 1;
    for (size_t len0 = 0; len0 <= PEL_BLAKE2B_BLOCK; len0++) {
        int bad = 0;
        for (size_t n = 1; n <= 9; n++)
            for (uint64_t i = 0; i < iters; i++) bad += batch_matches(n, len0);
        CHECK_EQ_INT(bad, 0);
    }
}

/* the smt's use: a pair hash written over its own left input */
static void output_over_input(void)
{
    uint8_t b[4][80], want[4][32];
    pel_blake2b_job j[4];
    for (size_t k = 0; k < 4; k++) {
        for (size_t i = 0; i < sizeof b[k]; i++) b[k][i] = (uint8_t)(k * 31 + i);
        crypto_generichash(want[k], 32, b[k], sizeof b[k], NULL, 0);
        j[k] = (pel_blake2b_job){ b[k], sizeof b[k], b[k] };
    }
    pel_blake2b_batch(j, 4);
    for (size_t k = 0; k < 4; k++) CHECK_MEM(b[k], want[k], 32);
}

static void oversized_is_zero(void)
{
    uint8_t a[PEL_BLAKE2B_BLOCK + 1] = { 1 }, d[2][32], want[32];
    static const uint8_t zero[32];
    pel_blake2b_job j[2] = { { a, sizeof a, d[0] }, { a, 5, d[1] } };
    memset(d, 0xAA, sizeof d);
    pel_blake2b_batch(j, 2);
    crypto_generichash(want, 32, a, 5, NULL, 0);
    CHECK_MEM(d[0], zero, 32);
    CHECK_MEM(d[1], want, 32);
}

int main(void)
{
    CHECK_EQ_INT(pel_crypto_init(), 0);
    RUN(known_answers);
    RUN(matches_libsodium);
    RUN(output_over_input);
    RUN(oversized_is_zero);
    return TEST_END("test_blake2b");
}
