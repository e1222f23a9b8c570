/* test_hash.c - BLAKE2b-256 and SHA-256 known answers, the tagged-hash
 * construction and its golden value, incremental == one-shot, tag rules. */
#include "core/hash.h"
#include "core/hex.h"
#include "test.h"

static int hex_is(const uint8_t d[32], const char *want)
{
    char hex[65];
    pel_hex_encode(d, 32, hex);
    if (strcmp(hex, want) != 0)
        fprintf(stderr, "  got  %s\n  want %s\n", hex, want);
    return strcmp(hex, want) == 0;
}

/* Published BLAKE2b-256 (unkeyed, 32-byte output) values; these check the
 * primitive under our tag, computed with libsodium directly. */
static void blake2b_256_known_answers(void)
{
    uint8_t d[32];
    crypto_generichash(d, 32, (const uint8_t *)"", 0, NULL, 0);
    CHECK(hex_is(d, "0e5751c026e543b2e8ab2eb06099daa1"
                    "d1e5df47778f7787faab45cdf12fe3a8"));
    crypto_generichash(d, 32, (const uint8_t *)"abc", 3, NULL, 0);
    CHECK(hex_is(d, "bddd813c634239723171ef3fee98579b"
                    "94964e3bb1cb3e427262c8c068d52319"));
}

/* FIPS 180-2 examples. */
static void sha256_known_answers(void)
{
    uint8_t d[32];
    pel_sha256("abc", 3, d);
    CHECK(hex_is(d, "ba7816bf8f01cfea414140de5dae2223"
                    "b00361a396177a9cb410ff61f20015ad"));
    pel_sha256(NULL, 0, d);
    CHECK(hex_is(d, "e3b0c44298fc1c149afbf4c8996fb924"
                    "27ae41e4649b934ca495991b7852b855"));
}

static void sha256_incremental_matches(void)
{
    static const char msg[] =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    uint8_t one[32], inc[32];
    pel_sha256(msg, strlen(msg), one);
    pel_sha256_ctx c;
    pel_sha256_init(&c);
    for (size_t i = 0; i < strlen(msg); i += 5)
        pel_sha256_update(&c, msg + i, strlen(msg) - i < 5 ? strlen(msg) - i : 5);
    pel_sha256_final(&c, inc);
    CHECK_MEM(one, inc, 32);
    CHECK(hex_is(one, "248d6a61d20638b8e5c026930c3e6039"
                      "a33ce45964ff2167f6ecedd419db06c1"));
}

/* The construction: BLAKE2b-256(u8 len(tag) || tag || data). */
static void tagged_hash_is_length_prefixed(void)
{
    uint8_t got[32], want[32];
    CHECK_EQ_INT(pel_hash_tagged("PEL/tx", "abc", 3, got), 0);
    crypto_generichash(want, 32, (const uint8_t *)"\x06PEL/txabc", 10,
                       NULL, 0);
    CHECK_MEM(got, want, 32);
}

/* Golden value: pel_hash_tagged("PEL/tx", "abc"). If this changes, every
 * transaction id changes: treat it as a format break. */
static void tagged_hash_golden(void)
{
    uint8_t d[32];
    CHECK_EQ_INT(pel_hash_tagged("PEL/tx", "abc", 3, d), 0);
    CHECK(hex_is(d, "277d414f3d1adcf447e7d3e55c345e62"
                    "19f25fdd0961238eaab9ad6f89855eea"));
}

static void tags_separate_domains(void)
{
    uint8_t a[32], b[32];
    /* same concatenation, different split: must differ */
    CHECK_EQ_INT(pel_hash_tagged("PEL/a", "bc", 2, a), 0);
    CHECK_EQ_INT(pel_hash_tagged("PEL/ab", "c", 1, b), 0);
    CHECK(memcmp(a, b, 32) != 0);
    CHECK_EQ_INT(pel_hash_tagged("PEL/tx", NULL, 0, a), 0);
    CHECK_EQ_INT(pel_hash_tagged("PEL/addr", NULL, 0, b), 0);
    CHECK(memcmp(a, b, 32) != 0);
}

static void incremental_matches_one_shot(void)
{
    uint8_t data[1000], one[32], inc[32];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31);
    CHECK_EQ_INT(pel_hash_tagged("PEL/state-leaf", data, sizeof data, one), 0);
    pel_hasher h;
    CHECK_EQ_INT(pel_hasher_init(&h, "PEL/state-leaf"), 0);
    for (size_t i = 0; i < sizeof data; i += 100)
        pel_hasher_update(&h, data + i, 100);
    pel_hasher_update(&h, NULL, 0);
    CHECK_EQ_INT(pel_hasher_final(&h, inc), 0);
    CHECK_MEM(one, inc, 32);
}

/* reference: BLAKE2b-256(u8 len(tag) || tag || data) computed directly */
static void reference_tagged(const char *tag, const void *data, size_t len, uint8_t out[32])
{
    crypto_generichash_state st;
    uint8_t n = (uint8_t)strlen(tag);
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, &n, 1);
    crypto_generichash_update(&st, (const uint8_t *)tag, n);
    if (len) crypto_generichash_update(&st, data, len);
    crypto_generichash_final(&st, out, 32);
}

/* The per-thread cache of absorbed tags (hash.c) is invisible: a buffer
 * reused for another tag, a bad tag in a buffer that held a good one, and
 * more tags than slots (evictions, shared slots) all give the direct
 * construction's digest. */
static void tag_cache_is_transparent(void)
{
    uint8_t got[32], want[32];
    char buf[80];
    int ok = 1;
    strcpy(buf, "PEL/first");
    ok &= pel_hash_tagged(buf, "x", 1, got) == 0;
    reference_tagged("PEL/first", "x", 1, want);
    ok &= memcmp(got, want, 32) == 0;
    strcpy(buf, "PEL/other");   /* same address, other tag */
    ok &= pel_hash_tagged(buf, "x", 1, got) == 0;
    reference_tagged("PEL/other", "x", 1, want);
    ok &= memcmp(got, want, 32) == 0;
    strcpy(buf, "PEL/oth\n");   /* same address, now invalid */
    ok &= pel_hash_tagged(buf, "x", 1, got) == PEL_EINVAL;
    strcpy(buf, "PEL/other");
    ok &= pel_hash_tagged(buf, "x", 1, got) == 0 && memcmp(got, want, 32) == 0;
    static char tags[100][24];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 100; i++) {
            snprintf(tags[i], sizeof tags[i], "PEL/t%d", round == 2 ? 99 - i : i);
            uint8_t data[3] = { (uint8_t)i, (uint8_t)round, 7 };
            ok &= pel_hash_tagged(tags[i], data, sizeof data, got) == 0;
            reference_tagged(tags[i], data, sizeof data, want);
            ok &= memcmp(got, want, 32) == 0;
            pel_hasher h;   /* the incremental path shares the cache */
            ok &= pel_hasher_init(&h, tags[i]) == 0;
            pel_hasher_update(&h, data, sizeof data);
            ok &= pel_hasher_final(&h, got) == 0 && memcmp(got, want, 32) == 0;
        }
    }
    CHECK(ok);
}

static void bad_tags_rejected(void)
{
    char tag65[66];
    memset(tag65, 'a', 65);
    tag65[65] = '\0';
    uint8_t d[32];
    memset(d, 0xee, 32);
    CHECK_EQ_INT(pel_hash_tagged(tag65, "x", 1, d), PEL_EINVAL);
    static const uint8_t zero[32];
    CHECK_MEM(d, zero, 32);
    CHECK_EQ_INT(pel_hash_tagged("", "x", 1, d), PEL_EINVAL);
    CHECK_EQ_INT(pel_hash_tagged("PEL/\n", "x", 1, d), PEL_EINVAL);
    CHECK_EQ_INT(pel_hash_tagged("PEL/\xc3\xa9", "x", 1, d), PEL_EINVAL);
    tag65[64] = '\0';                     /* exactly 64 is allowed */
    CHECK_EQ_INT(pel_hash_tagged(tag65, "x", 1, d), 0);
    pel_hasher h;
    CHECK_EQ_INT(pel_hasher_init(&h, ""), PEL_EINVAL);
}

static void crypto_init_idempotent(void)
{
    CHECK_EQ_INT(pel_crypto_init(), 0);
    CHECK_EQ_INT(pel_crypto_init(), 0);
}

int main(void)
{
    RUN(crypto_init_idempotent);
    RUN(blake2b_256_known_answers);
    RUN(sha256_known_answers);
    RUN(sha256_incremental_matches);
    RUN(tagged_hash_is_length_prefixed);
    RUN(tagged_hash_golden);
    RUN(tags_separate_domains);
    RUN(incremental_matches_one_shot);
    RUN(bad_tags_rejected);
    RUN(tag_cache_is_transparent);
    return TEST_END("test_hash");
}
