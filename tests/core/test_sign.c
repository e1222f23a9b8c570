/* test_sign.c - Ed25519: RFC 8032 vector, sign/verify, tampering, and
 * rejection of weak or malformed public keys. */
#include <sodium.h>

#include "core/hex.h"
#include "core/sign.h"
#include "test.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
    size_t got = 0;
    CHECK_EQ_INT(pel_hex_decode(h, strlen(h), out, n, &got), 0);
    CHECK_EQ_INT(got, n);
}

/* RFC 8032 section 7.1, TEST 1 (empty message). */
static void rfc8032_vector_1(void)
{
    uint8_t seed[32], pk_want[32], sig_want[64], pk[32], sk[64], sig[64];
    unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
          seed, 32);
    unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
          pk_want, 32);
    unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
          "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
          sig_want, 64);
    CHECK_EQ_INT(pel_sign_seed_keypair(pk, sk, seed), 0);
    CHECK_MEM(pk, pk_want, 32);
    CHECK_EQ_INT(pel_sign(sk, NULL, 0, sig), 0);
    CHECK_MEM(sig, sig_want, 64);
    CHECK_EQ_INT(pel_sign_verify(pk, NULL, 0, sig), 0);
    sodium_memzero(sk, sizeof sk);
}

static void sign_verify_and_tamper(void)
{
    uint8_t pk[32], sk[64], sig[64];
    uint8_t msg[] = "register object 1220abcd";
    CHECK_EQ_INT(pel_sign_keypair(pk, sk), 0);
    CHECK_EQ_INT(pel_sign(sk, msg, sizeof msg, sig), 0);
    CHECK_EQ_INT(pel_sign_verify(pk, msg, sizeof msg, sig), 0);
    msg[0] ^= 1;
    CHECK_EQ_INT(pel_sign_verify(pk, msg, sizeof msg, sig), PEL_EBADSIG);
    msg[0] ^= 1;
    sig[10] ^= 0x40;
    CHECK_EQ_INT(pel_sign_verify(pk, msg, sizeof msg, sig), PEL_EBADSIG);
    sig[10] ^= 0x40;
    CHECK_EQ_INT(pel_sign_verify(pk, msg, sizeof msg - 1, sig), PEL_EBADSIG);
    uint8_t pk2[32], sk2[64];
    CHECK_EQ_INT(pel_sign_keypair(pk2, sk2), 0);
    CHECK(memcmp(pk, pk2, 32) != 0);
    CHECK_EQ_INT(pel_sign_verify(pk2, msg, sizeof msg, sig), PEL_EBADSIG);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(sk2, sizeof sk2);
}

/* S + L verifies under a lax verifier; strict verification must refuse. */
static void non_canonical_s_rejected(void)
{
    static const uint8_t L[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0x10};
    uint8_t pk[32], sk[64], sig[64];
    CHECK_EQ_INT(pel_sign_keypair(pk, sk), 0);
    CHECK_EQ_INT(pel_sign(sk, "m", 1, sig), 0);
    sodium_add(sig + 32, L, 32);
    CHECK_EQ_INT(pel_sign_verify(pk, "m", 1, sig), PEL_EBADSIG);
    sodium_memzero(sk, sizeof sk);
}

static void weak_public_keys_rejected(void)
{
    static const char *weak[] = {
        /* all zero: (sqrt(-1), 0), order 4 */
        "0000000000000000000000000000000000000000000000000000000000000000",
        /* identity point (0, 1) */
        "0100000000000000000000000000000000000000000000000000000000000000",
        /* (0, -1), order 2 */
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        /* order-8 point */
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        /* y = p + 1, a non-canonical encoding of the identity */
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    uint8_t pk[32], sig[64] = {0};
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
        unhex(weak[i], pk, 32);
        CHECK_EQ_INT(pel_sign_verify(pk, "m", 1, sig), PEL_EBADKEY);
    }
}

/* A valid key plus a small-order component is not in the prime-order
 * subgroup and is rejected as a key. */
static void mixed_order_key_rejected(void)
{
    uint8_t pk[32], sk[64], t[32], mixed[32], sig[64];
    CHECK_EQ_INT(pel_sign_keypair(pk, sk), 0);
    unhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
          t, 32);
    CHECK_EQ_INT(crypto_core_ed25519_add(mixed, pk, t), 0);
    CHECK_EQ_INT(pel_sign(sk, "m", 1, sig), 0);
    CHECK_EQ_INT(pel_sign_verify(mixed, "m", 1, sig), PEL_EBADKEY);
    sodium_memzero(sk, sizeof sk);
}

/* The key cache changes no result: a weak or mixed-order key is rejected
 * every time (never cached), a valid key verifies, and a bad signature by a
 * cached key is still a bad signature. */
static void cached_verify_same_results(void)
{
    pel_keycache *c;
    uint8_t pk[32], sk[64], t[32], mixed[32], sig[64], zero[64] = {0}, weak[32];
    CHECK_EQ_INT(pel_keycache_new(&c), 0);
    CHECK_EQ_INT(pel_sign_keypair(pk, sk), 0);
    CHECK_EQ_INT(pel_sign(sk, "m", 1, sig), 0);
    unhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", t, 32);
    CHECK_EQ_INT(crypto_core_ed25519_add(mixed, pk, t), 0);
    unhex("0100000000000000000000000000000000000000000000000000000000000000", weak, 32);
    for (int round = 0; round < 3; round++) {
        CHECK_EQ_INT(pel_sign_verify_cached(c, pk, "m", 1, sig), 0);
        CHECK_EQ_INT(pel_sign_verify_cached(c, pk, "n", 1, sig), PEL_EBADSIG);
        CHECK_EQ_INT(pel_sign_verify_cached(c, pk, "m", 1, zero), PEL_EBADSIG);
        CHECK_EQ_INT(pel_sign_verify_cached(c, mixed, "m", 1, sig), PEL_EBADKEY);
        CHECK_EQ_INT(pel_sign_verify_cached(c, weak, "m", 1, zero), PEL_EBADKEY);
        CHECK_EQ_INT(pel_sign_verify_cached(NULL, mixed, "m", 1, sig), PEL_EBADKEY);
    }
    /* a mixed-order key colliding in the cache slot of a valid key is not
     * mistaken for it (the whole key is compared) */
    memcpy(mixed, pk, 2);
    CHECK_EQ_INT(pel_sign_verify_cached(c, mixed, "m", 1, sig) != 0, 1);
    pel_keycache_free(c);
    sodium_memzero(sk, sizeof sk);
}

int main(void)
{
    RUN(rfc8032_vector_1);
    RUN(sign_verify_and_tamper);
    RUN(non_canonical_s_rejected);
    RUN(weak_public_keys_rejected);
    RUN(mixed_order_key_rejected);
    RUN(cached_verify_same_results);
    return TEST_END("test_sign");
}
