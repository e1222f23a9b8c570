/* test_codec.c - canonical codec: golden encoding, random round trips
 * against a memcpy reference, and rejection of every non-canonical input.
 * Seed: printed on start; replay with PEL_TEST_SEED=<seed>. */
#include <stdbool.h>
#include <time.h>

#include "core/codec.h"
#include "core/hex.h"
#include "test.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the memcpy reference encoder assumes a little-endian host"
#endif

static uint64_t rng_state;

static uint64_t rnd(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A sample record: u16, u64, i64, bool, bytes(max 64), count(max 4) of u32. */
typedef struct rec {
    uint16_t a;
    uint64_t b;
    int64_t c;
    bool f;
    const uint8_t *s;
    size_t slen;
    uint32_t n, items[4];
} rec;

static int enc_rec(pel_buf *b, const rec *r)
{
    int rc = pel_enc_u16(b, r->a);
    if (!rc) rc = pel_enc_u64(b, r->b);
    if (!rc) rc = pel_enc_i64(b, r->c);
    if (!rc) rc = pel_enc_bool(b, r->f);
    if (!rc) rc = pel_enc_bytes(b, r->s, r->slen);
    if (!rc) rc = pel_enc_u32(b, r->n);
    for (uint32_t i = 0; !rc && i < r->n; i++)
        rc = pel_enc_u32(b, r->items[i]);
    return rc;
}

/* Uses the sticky error: checks only once, at the end. */
static int dec_rec(const uint8_t *p, size_t len, rec *r)
{
    pel_dec d;
    pel_dec_init(&d, p, len);
    memset(r, 0, sizeof *r);
    (void)pel_dec_u16(&d, &r->a);
    (void)pel_dec_u64(&d, &r->b);
    (void)pel_dec_i64(&d, &r->c);
    (void)pel_dec_bool(&d, &r->f);
    (void)pel_dec_bytes(&d, 64, &r->s, &r->slen);
    (void)pel_dec_count(&d, 4, &r->n);
    for (uint32_t i = 0; i < r->n; i++)
        (void)pel_dec_u32(&d, &r->items[i]);
    return pel_dec_finish(&d);
}

static const uint8_t sample_bytes[] = "hello";
static const rec sample = {0x0102, 0x0807060504030201ull, -2, true,
                           sample_bytes, 5, 2, {7, 0xffffffffu, 0, 0}};

/* Golden value: the encoding of `sample`; a change here is a format break. */
static void golden_encoding(void)
{
    static const char want[] =
        "0201" "0102030405060708" "feffffffffffffff" "01"
        "05000000" "68656c6c6f" "02000000" "07000000" "ffffffff";
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(enc_rec(&b, &sample), 0);
    char hex[2 * 64 + 1];
    CHECK(b.len * 2 == sizeof want - 1);
    if (b.len <= 64) {
        pel_hex_encode(b.data, b.len, hex);
        CHECK(strcmp(hex, want) == 0);
    }
    pel_buf_free(&b);
}

/* Reference encoder for one fixed-width integer: host memcpy (LE host). */
static int ref_put(pel_buf *b, const void *v, size_t n)
{
    return pel_buf_append(b, v, n) == 0;
}

/* pel_le_store / pel_le_load on raw memory, every width (8 and 4 take a
 * one-move path): exactly n bytes, low byte first, nothing past them. */
static void raw_le_matches_bytes(void)
{
    int ok = 1;
    for (int i = 0; i < 2000; i++) {
        uint64_t v = rnd() >> (rnd() % 64);
        for (size_t n = 0; n <= 8; n++) {
            uint8_t out[10];
            memset(out, 0xA5, sizeof out);
            pel_le_store(out + 1, v, n);
            ok &= out[0] == 0xA5 && out[n + 1] == 0xA5;
            for (size_t b = 0; b < n; b++) ok &= out[1 + b] == (uint8_t)(v >> (8 * b));
            uint64_t want = n == 8 ? v : v & ((1ull << (8 * n)) - 1);
            ok &= pel_le_load(out + 1, n) == want;
        }
    }
    CHECK(ok);
}

static void random_ints_match_reference(void)
{
    pel_buf got, ref;
    pel_buf_init(&got);
    pel_buf_init(&ref);
    uint64_t iters = test_env_u64("PEL_TEST_ITERS", 2000);
    int ok = 1;
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t v = rnd() >> (rnd() % 64);
        uint8_t v8 = (uint8_t)v; uint16_t v16 = (uint16_t)v;
        uint32_t v32 = (uint32_t)v; int64_t vi = (int64_t)v;
        pel_buf_reset(&got);
        pel_buf_reset(&ref);
        ok &= !pel_enc_u8(&got, v8) && !pel_enc_u16(&got, v16) &&
              !pel_enc_u32(&got, v32) && !pel_enc_u64(&got, v) &&
              !pel_enc_i64(&got, vi);
        ok &= ref_put(&ref, &v8, 1) && ref_put(&ref, &v16, 2) &&
              ref_put(&ref, &v32, 4) && ref_put(&ref, &v, 8) &&
              ref_put(&ref, &vi, 8);
        ok &= got.len == ref.len && !memcmp(got.data, ref.data, got.len);
        pel_dec d;
        uint8_t o8; uint16_t o16; uint32_t o32; uint64_t o64; int64_t oi;
        pel_dec_init(&d, got.data, got.len);
        ok &= !pel_dec_u8(&d, &o8) && !pel_dec_u16(&d, &o16) &&
              !pel_dec_u32(&d, &o32) && !pel_dec_u64(&d, &o64) &&
              !pel_dec_i64(&d, &oi) && !pel_dec_finish(&d);
        ok &= o8 == v8 && o16 == v16 && o32 == v32 && o64 == v && oi == vi;
    }
    CHECK(ok);
    pel_buf_free(&got);
    pel_buf_free(&ref);
}

static void random_rec(rec *r, uint8_t *store)
{
    r->a = (uint16_t)rnd();
    r->b = rnd();
    r->c = (int64_t)rnd();
    r->f = rnd() & 1;
    r->slen = rnd() % 65;
    for (size_t i = 0; i < r->slen; i++)
        store[i] = (uint8_t)rnd();
    r->s = store;
    r->n = (uint32_t)(rnd() % 5);
    for (uint32_t i = 0; i < 4; i++)
        r->items[i] = i < r->n ? (uint32_t)rnd() : 0;
}

static int rec_equal(const rec *x, const rec *y)
{
    return x->a == y->a && x->b == y->b && x->c == y->c && x->f == y->f &&
           x->slen == y->slen && !memcmp(x->s, y->s, x->slen) &&
           x->n == y->n && !memcmp(x->items, y->items, sizeof x->items);
}

static void random_records_round_trip(void)
{
    uint8_t store[64];
    pel_buf b;
    pel_buf_init(&b);
    int ok = 1;
    for (int i = 0; i < 1000; i++) {
        rec r, back;
        random_rec(&r, store);
        pel_buf_reset(&b);
        ok &= enc_rec(&b, &r) == 0;
        ok &= dec_rec(b.data, b.len, &back) == 0 && rec_equal(&r, &back);
        ok &= back.s >= b.data && back.s + back.slen <= b.data + b.len;
    }
    CHECK(ok);
    pel_buf_free(&b);
}

static void every_truncation_rejected(void)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(enc_rec(&b, &sample), 0);
    int ok = 1;
    for (size_t cut = 0; cut < b.len; cut++) {
        rec r;
        ok &= dec_rec(b.data, cut, &r) == PEL_ETRUNC;
    }
    CHECK(ok);
    pel_buf_free(&b);
}

static void trailing_bytes_rejected(void)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(enc_rec(&b, &sample), 0);
    CHECK_EQ_INT(pel_enc_u8(&b, 0), 0);
    rec r;
    CHECK_EQ_INT(dec_rec(b.data, b.len, &r), PEL_ETRAILING);
    pel_buf_free(&b);
}

static void over_long_lengths_rejected(void)
{
    /* declared 65 > max 64, with the bytes actually present */
    uint8_t in[4 + 65] = {65, 0, 0, 0};
    pel_dec d;
    const uint8_t *p = in;
    size_t n = 99;
    pel_dec_init(&d, in, sizeof in);
    CHECK_EQ_INT(pel_dec_bytes(&d, 64, &p, &n), PEL_ETOOLONG);
    CHECK(p == NULL && n == 0);
    /* a huge declared length is too long before it is truncated */
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff};
    pel_dec_init(&d, huge, sizeof huge);
    CHECK_EQ_INT(pel_dec_bytes(&d, 1024, &p, &n), PEL_ETOOLONG);
    pel_dec_init(&d, huge, sizeof huge);
    CHECK_EQ_INT(pel_dec_bytes(&d, SIZE_MAX, &p, &n), PEL_ETRUNC);
    uint32_t cnt = 9;
    static const uint8_t five[] = {5, 0, 0, 0};
    pel_dec_init(&d, five, sizeof five);
    CHECK_EQ_INT(pel_dec_count(&d, 4, &cnt), PEL_ETOOLONG);
    CHECK_EQ_INT(cnt, 0);
}

static void non_canonical_bool_rejected(void)
{
    int others_rejected = 1;
    for (int v = 0; v < 256; v++) {
        uint8_t in = (uint8_t)v;
        bool out = true;
        pel_dec d;
        pel_dec_init(&d, &in, 1);
        int rc = pel_dec_bool(&d, &out);
        if (v <= 1) {
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_INT(out, v);
        } else {
            others_rejected &= rc == PEL_ENONCANON && !out;
        }
    }
    CHECK(others_rejected);
}

static void error_is_sticky_and_outputs_cleared(void)
{
    static const uint8_t in[] = {2, 1, 2, 3, 4, 5, 6, 7, 8};
    pel_dec d;
    bool f;
    uint64_t v = 123;
    const uint8_t *p = in;
    pel_dec_init(&d, in, sizeof in);
    CHECK_EQ_INT(pel_dec_bool(&d, &f), PEL_ENONCANON);
    CHECK_EQ_INT(pel_dec_u64(&d, &v), PEL_ENONCANON);   /* 8 bytes remain */
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(pel_dec_raw(&d, 1, &p), PEL_ENONCANON);
    CHECK(p == NULL);
    CHECK_EQ_INT(pel_dec_finish(&d), PEL_ENONCANON);
}

static void raw_and_empty_bytes(void)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_enc_raw(&b, "\xaa\xbb", 2), 0);
    CHECK_EQ_INT(pel_enc_bytes(&b, NULL, 0), 0);
    CHECK_EQ_INT(b.len, 6);
    pel_dec d;
    const uint8_t *p, *e;
    size_t n = 7;
    pel_dec_init(&d, b.data, b.len);
    CHECK_EQ_INT(pel_dec_raw(&d, 2, &p), 0);
    CHECK_MEM(p, "\xaa\xbb", 2);
    CHECK_EQ_INT(pel_dec_bytes(&d, 0, &e, &n), 0);
    CHECK(e != NULL && n == 0);
    CHECK_EQ_INT(pel_dec_finish(&d), 0);
    pel_dec_init(&d, NULL, 0);
    CHECK_EQ_INT(pel_dec_raw(&d, 0, &p), 0);
    CHECK(p != NULL);
    uint8_t u = 1;
    CHECK_EQ_INT(pel_dec_u8(&d, &u), PEL_ETRUNC);
    CHECK_EQ_INT(u, 0);
    pel_buf_free(&b);
}

int main(void)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL));
    printf("test_codec: seed %" PRIu64 " (replay: PEL_TEST_SEED=%" PRIu64
           ")\n", seed, seed);
    rng_state = seed;
    RUN(golden_encoding);
    RUN(random_ints_match_reference);
    RUN(raw_le_matches_bytes);
    RUN(random_records_round_trip);
    RUN(every_truncation_rejected);
    RUN(trailing_bytes_rejected);
    RUN(over_long_lengths_rejected);
    RUN(non_canonical_bool_rejected);
    RUN(error_is_sticky_and_outputs_cleared);
    RUN(raw_and_empty_bytes);
    return TEST_END("test_codec");
}
