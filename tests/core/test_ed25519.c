/*
 * test_ed25519.c - core/ed25519.c held against libsodium, verdict by verdict.
 *
 *  - pel_ed25519_lincomb equals [a]P + [b]Q + [c]B computed with libsodium's
 *    point operations, for P, Q of any order (prime-order, pure torsion,
 *    mixed) and unreduced 256-bit scalars (0, 1, L-1, L, 8L, 2^256-1, ...),
 *    and refuses non-canonical encodings (y >= p) and strings off the curve;
 *  - pel_ed25519_short_pair's (c0, c1) satisfy c0 = c1 k (mod L) with c1 odd,
 *    the return value is the larger bit length (<= 253, <= 130 for >= 99% of
 *    random k);
 *  - pel_ed25519_verify and pel_ed25519_verify_key give exactly
 *    crypto_sign_ed25519_verify_detached's verdict on valid signatures
 *    (RFC 8032 vectors included), bit-flipped ones, R + small-order point
 *    (libsodium's and hand-made signatures that only a cofactored check
 *    would accept), malformed S and R, random garbage, small-order and
 *    undecodable keys, and on first use from several threads at once.
 *
 * Random inputs come from a PRNG seeded by PEL_TEST_SEED (printed first);
 * PEL_TEST_ITERS scales the counts. A failing check prints the hex of its
 * inputs to stderr (the first 16 failures of each test).
 */
#include <pthread.h>
#include <sodium.h>

#include "core/ed25519.h"
#include "core/hex.h"
#include "test.h"

/* ---- PRNG, scalars, constants ---- */

static uint64_t rng_state_;
static uint64_t iters_;

/* splitmix64: deterministic for a given PEL_TEST_SEED */
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state_ += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rng_bytes(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(rng_next() >> 32);
}

static uint64_t rng_below(uint64_t n)
{
    return rng_next() % n;
}

static const char *dump_test_;
static int dump_left_;

/* dump_ok - whether one more failure may print its inputs (the first 16 of
 * each test). */
static int dump_ok(void)
{
    if (dump_test_ != test_current_) {
        dump_test_ = test_current_;
        dump_left_ = 16;
    }
    return dump_left_-- > 0;
}

static void dump_hex(const char *label, const void *p, size_t n)
{
    char buf[2 * 128 + 1];
    if (n > 128) n = 128;
    pel_hex_encode(p, n, buf);
    fprintf(stderr, "    %s = %s\n", label, buf);
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
    size_t got = 0;
    CHECK_EQ_INT(pel_hex_decode(h, strlen(h), out, n, &got), 0);
    CHECK_EQ_INT(got, n);
}

/* the group order L = 2^252 + 27742317777372353535851937790883648493 */
static const uint8_t L_[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
    0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0x10};
/* the identity (0, 1) */
static const uint8_t ID_[32] = {1};

/* every encoding that libsodium's ge25519_has_small_order refuses (with the
 * sign bit clear; it ignores the sign bit) */
static const char *const SMALL_ORDER_HEX[7] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static uint8_t B_[32];         /* the base point */
static uint8_t TORS_[8][32];   /* TORS_[j] = [j]T8, T8 of order 8 */
static uint8_t INV8_[32];      /* 8^-1 mod L */

static int is_zero32(const uint8_t v[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= v[i];
    return acc == 0;
}

/* bitlen - bit length of a 256-bit little-endian value (0 for 0). */
static int bitlen(const uint8_t v[32])
{
    for (int i = 31; i >= 0; i--)
        for (int b = 7; b >= 0; b--)
            if (v[i] >> b & 1) return 8 * i + b + 1;
    return 0;
}

static void u256_small(uint8_t out[32], uint64_t v)
{
    memset(out, 0, 32);
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (8 * i));
}

static void u256_pow2(uint8_t out[32], int e)
{
    memset(out, 0, 32);
    out[e / 8] = (uint8_t)(1u << (e % 8));
}

/* sc_reduce32 - any 256-bit value mod L. */
static void sc_reduce32(uint8_t out[32], const uint8_t in[32])
{
    uint8_t wide[64] = {0};
    memcpy(wide, in, 32);
    crypto_core_ed25519_scalar_reduce(out, wide);
}

/* sc_rand - a uniform scalar mod L from the PRNG. */
static void sc_rand(uint8_t out[32])
{
    uint8_t wide[64];
    rng_bytes(wide, 64);
    crypto_core_ed25519_scalar_reduce(out, wide);
}

/* y_canonical - the y of an encoding (sign bit ignored) is below p. */
static int y_canonical(const uint8_t s[32])
{
    if ((s[31] & 0x7f) != 0x7f) return 1;
    for (int i = 30; i > 0; i--)
        if (s[i] != 0xff) return 1;
    return s[0] < 0xed;
}

/* y_plus_p - the non-canonical encoding with y = p + t (t <= 18). */
static void y_plus_p(uint8_t out[32], int t, int sign)
{
    memset(out, 0xff, 32);
    out[0] = (uint8_t)(0xed + t);
    out[31] = sign ? 0xff : 0x7f;
}

/* on_curve - the encoding decodes to a curve point (libsodium's decoder;
 * y is taken mod p). */
static int on_curve(const uint8_t s[32])
{
    uint8_t r[32];
    return crypto_core_ed25519_add(r, s, ID_) == 0;
}

static void point_add(uint8_t r[32], const uint8_t p[32], const uint8_t q[32])
{
    CHECK_EQ_INT(crypto_core_ed25519_add(r, p, q), 0);
}

/* ---- points of any order, with their decomposition ---- */

/* enc = prime + TORS_[tors], prime in the prime-order subgroup (may be the
 * identity). */
typedef struct tpoint {
    uint8_t enc[32];
    uint8_t prime[32];
    int tors;
} tpoint;

static void tp_make(tpoint *t, const uint8_t prime[32], int tors)
{
    memcpy(t->prime, prime, 32);
    t->tors = tors;
    point_add(t->enc, prime, TORS_[tors]);
}

/* tp_decompose - split any curve point X: X' = [8^-1]([8]X), T = X - X'. */
static void tp_decompose(tpoint *t, const uint8_t x[32])
{
    uint8_t xc[32], x2[32], x4[32], x8[32], xp[32], tt[32];
    point_add(xc, x, ID_);
    point_add(x2, xc, xc);
    point_add(x4, x2, x2);
    point_add(x8, x4, x4);
    if (memcmp(x8, ID_, 32) == 0) memcpy(xp, ID_, 32);
    else CHECK_EQ_INT(crypto_scalarmult_ed25519_noclamp(xp, INV8_, x8), 0);
    CHECK_EQ_INT(crypto_core_ed25519_sub(tt, xc, xp), 0);
    int j = 0;
    while (j < 8 && memcmp(tt, TORS_[j], 32) != 0) j++;
    CHECK(j < 8);
    memcpy(t->enc, xc, 32);
    memcpy(t->prime, xp, 32);
    t->tors = j & 7;
}

/* mul_prime - [s]P for P of prime order (or the identity), s any 256 bits. */
static void mul_prime(uint8_t out[32], const uint8_t s[32], const uint8_t p[32])
{
    uint8_t r[32];
    sc_reduce32(r, s);
    if (is_zero32(r) || memcmp(p, ID_, 32) == 0) memcpy(out, ID_, 32);
    else CHECK_EQ_INT(crypto_scalarmult_ed25519_noclamp(out, r, p), 0);
}

/* mul_base - [s]B, s any 256 bits. */
static void mul_base(uint8_t out[32], const uint8_t s[32])
{
    uint8_t r[32];
    sc_reduce32(r, s);
    if (is_zero32(r)) memcpy(out, ID_, 32);
    else CHECK_EQ_INT(crypto_scalarmult_ed25519_base_noclamp(out, r), 0);
}

/* mul_tpoint - [s]X = [s mod L]X' + [s mod 8]T. */
static void mul_tpoint(uint8_t out[32], const uint8_t s[32], const tpoint *x)
{
    uint8_t a[32];
    mul_prime(a, s, x->prime);
    point_add(out, a, TORS_[((s[0] & 7) * x->tors) & 7]);
}

/* rand_curve_point - random 32 bytes that decode (canonical y). */
static void rand_curve_point(uint8_t out[32])
{
    do rng_bytes(out, 32); while (!y_canonical(out) || !on_curve(out));
}

/* rand_non_point - random 32 bytes with canonical y that do not decode. */
static void rand_non_point(uint8_t out[32])
{
    do rng_bytes(out, 32); while (!y_canonical(out) || on_curve(out));
}

static void rand_prime_point(uint8_t out[32])
{
    uint8_t r[32];
    rng_bytes(r, 32);
    crypto_core_ed25519_from_uniform(out, r);
}

/* ---- keys and signatures ---- */

static void make_key(uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    rng_bytes(seed, 32);
    CHECK_EQ_INT(crypto_sign_ed25519_seed_keypair(pk, sk, seed), 0);
}

/* secret_scalar - RFC 8032's a: clamp(SHA-512(seed)[0..32]) mod L. */
static void secret_scalar(uint8_t a[32], const uint8_t sk[64])
{
    uint8_t h[64];
    crypto_hash_sha512(h, sk, 32);
    h[0] &= 248;
    h[31] &= 127;
    h[31] |= 64;
    sc_reduce32(a, h);
}

/* challenge - k = SHA-512(R || A || M) mod L. */
static void challenge(uint8_t k[32], const uint8_t r[32], const uint8_t pk[32],
                      const uint8_t *m, size_t len)
{
    crypto_hash_sha512_state st;
    uint8_t h[64];
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, r, 32);
    crypto_hash_sha512_update(&st, pk, 32);
    crypto_hash_sha512_update(&st, m, len);
    crypto_hash_sha512_final(&st, h);
    crypto_core_ed25519_scalar_reduce(k, h);
}

/* hand_sign - sig = (R, r + k a mod L) for a given R and nonce r. */
static void hand_sign(uint8_t sig[64], const uint8_t R[32], const uint8_t r[32],
                      const uint8_t a[32], const uint8_t pk[32],
                      const uint8_t *m, size_t len)
{
    uint8_t k[32], ka[32];
    challenge(k, R, pk, m, len);
    crypto_core_ed25519_scalar_mul(ka, k, a);
    memcpy(sig, R, 32);
    crypto_core_ed25519_scalar_add(sig + 32, r, ka);
}

static int lib_verdict(const uint8_t pk[32], const void *msg, size_t len,
                       const uint8_t sig[64])
{
    return crypto_sign_ed25519_verify_detached(sig, msg, len, pk) == 0 ? 0 : -1;
}

/* agree - pel_ed25519_verify and pel_ed25519_verify_key give libsodium's
 * verdict; returns libsodium's verdict (0 / -1). */
static int agree(const uint8_t pk[32], const void *msg, size_t len,
                 const uint8_t sig[64], const char *what)
{
    pel_ed25519_key k;
    int lib = lib_verdict(pk, msg, len, sig);
    int v1 = pel_ed25519_verify(pk, msg, len, sig);
    pel_ed25519_key_init(&k, pk);
    int v2 = pel_ed25519_verify_key(&k, msg, len, sig);
    CHECK_EQ_INT(v1, lib);
    CHECK_EQ_INT(v2, lib);
    if ((v1 != lib || v2 != lib) && dump_ok()) {
        fprintf(stderr, "  %s: libsodium %d, pel_ed25519_verify %d, "
                "pel_ed25519_verify_key %d, len %zu\n", what, lib, v1, v2, len);
        dump_hex("pk", pk, 32);
        dump_hex("sig", sig, 64);
        if (len) dump_hex("msg (first 128 bytes)", msg, len);
    }
    return lib;
}

/* ---- tests ---- */

/* The constants and libsodium helpers the other tests lean on. */
static void constants_consistent(void)
{
    uint8_t one[32], t[32], sk[64], pk[32], a[32], apk[32];
    unhex("5866666666666666666666666666666666666666666666666666666666666666", B_, 32);
    u256_small(one, 1);
    CHECK_EQ_INT(crypto_scalarmult_ed25519_base_noclamp(t, one), 0);
    CHECK_MEM(t, B_, 32);
    memcpy(TORS_[0], ID_, 32);
    unhex(SMALL_ORDER_HEX[3], TORS_[1], 32);
    for (int j = 2; j < 8; j++) point_add(TORS_[j], TORS_[j - 1], TORS_[1]);
    point_add(t, TORS_[7], TORS_[1]);
    CHECK_MEM(t, ID_, 32);
    uint8_t order2[32];
    unhex(SMALL_ORDER_HEX[4], order2, 32);
    CHECK_MEM(TORS_[4], order2, 32);
    for (int j = 1; j < 8; j++) {
        CHECK_EQ_INT(crypto_core_ed25519_is_valid_point(TORS_[j]), 0);
        CHECK(memcmp(TORS_[j], TORS_[0], 32) != 0);
    }
    uint8_t eight[32];
    u256_small(eight, 8);
    CHECK_EQ_INT(crypto_core_ed25519_scalar_invert(INV8_, eight), 0);
    crypto_core_ed25519_scalar_mul(t, INV8_, eight);
    CHECK_MEM(t, one, 32);
    /* the RFC 8032 secret scalar reproduces libsodium's public key */
    make_key(pk, sk);
    secret_scalar(a, sk);
    CHECK_EQ_INT(crypto_scalarmult_ed25519_base_noclamp(apk, a), 0);
    CHECK_MEM(apk, pk, 32);
    /* from_uniform lands in the prime-order subgroup */
    rand_prime_point(t);
    CHECK_EQ_INT(crypto_core_ed25519_is_valid_point(t), 1);
    sodium_memzero(sk, sizeof sk);
}

/* Tables built by pthread_once: first use from four threads at once. */
#define CONC_THREADS 4
#define CONC_SIGS 8
typedef struct conc_job {
    const uint8_t (*pk)[32];
    const uint8_t (*sig)[64];
    const uint8_t *msg;
    const uint8_t *lc;          /* a, P, b, Q, c: 5 x 32 bytes */
    int verdict[CONC_SIGS];
    int lc_rc;
    uint8_t lc_out[32];
} conc_job;

static void *conc_worker(void *arg)
{
    conc_job *j = arg;
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < CONC_SIGS; i++) {
            int v;
            if (i & 1) {
                pel_ed25519_key k;
                pel_ed25519_key_init(&k, j->pk[i]);
                v = pel_ed25519_verify_key(&k, j->msg, 16, j->sig[i]);
            } else {
                v = pel_ed25519_verify(j->pk[i], j->msg, 16, j->sig[i]);
            }
            if (round == 0) j->verdict[i] = v;
            else if (v != j->verdict[i]) j->verdict[i] = 99;   /* unstable */
        }
    const uint8_t *l = j->lc;
    j->lc_rc = pel_ed25519_lincomb(j->lc_out, l, l + 32, l + 64, l + 96, l + 128);
    return NULL;
}

static void concurrent_first_use(void)
{
    uint8_t pk[CONC_SIGS][32], sk[64], sig[CONC_SIGS][64], msg[16], lc[160];
    rng_bytes(msg, sizeof msg);
    for (int i = 0; i < CONC_SIGS; i++) {
        make_key(pk[i], sk);
        crypto_sign_ed25519_detached(sig[i], NULL, msg, sizeof msg, sk);
        if (i % 4 == 3) sig[i][i] ^= 1;
    }
    tpoint p, q;
    uint8_t r[32], want[32], s1[32], s2[32], s3[32];
    rand_prime_point(r);
    tp_make(&p, r, 3);
    rand_prime_point(r);
    tp_make(&q, r, 0);
    rng_bytes(lc, 32);
    memcpy(lc + 32, p.enc, 32);
    rng_bytes(lc + 64, 32);
    memcpy(lc + 96, q.enc, 32);
    rng_bytes(lc + 128, 32);
    mul_tpoint(s1, lc, &p);
    mul_tpoint(s2, lc + 64, &q);
    point_add(s3, s1, s2);
    mul_base(s1, lc + 128);
    point_add(want, s3, s1);

    conc_job jobs[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    for (int t = 0; t < CONC_THREADS; t++) {
        memset(&jobs[t], 0, sizeof jobs[t]);
        jobs[t].pk = (const uint8_t (*)[32])pk;
        jobs[t].sig = (const uint8_t (*)[64])sig;
        jobs[t].msg = msg;
        jobs[t].lc = lc;
    }
    for (int t = 0; t < CONC_THREADS; t++)
        CHECK_EQ_INT(pthread_create(&th[t], NULL, conc_worker, &jobs[t]), 0);
    for (int t = 0; t < CONC_THREADS; t++) CHECK_EQ_INT(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < CONC_THREADS; t++) {
        for (int i = 0; i < CONC_SIGS; i++) {
            int lib = lib_verdict(pk[i], msg, sizeof msg, sig[i]);
            CHECK_EQ_INT(lib, i % 4 == 3 ? -1 : 0);
            CHECK_EQ_INT(jobs[t].verdict[i], lib);
        }
        CHECK_EQ_INT(jobs[t].lc_rc, 0);
        CHECK_MEM(jobs[t].lc_out, want, 32);
    }
    sodium_memzero(sk, sizeof sk);
}

/* lincomb_check - pel_ed25519_lincomb equals [a]P + [b]Q + [c]B. */
static void lincomb_check(const tpoint *p, const uint8_t a[32], const tpoint *q,
                          const uint8_t b[32], const uint8_t c[32])
{
    uint8_t ap[32], bq[32], cb[32], s[32], want[32], got[32];
    mul_tpoint(ap, a, p);
    mul_tpoint(bq, b, q);
    mul_base(cb, c);
    point_add(s, ap, bq);
    point_add(want, s, cb);
    memset(got, 0x5a, sizeof got);
    int rc = pel_ed25519_lincomb(got, a, p->enc, b, q->enc, c);
    CHECK_EQ_INT(rc, 0);
    CHECK_MEM(got, want, 32);
    if ((rc != 0 || memcmp(got, want, 32) != 0) && dump_ok()) {
        fprintf(stderr, "  lincomb: rc %d (P torsion %d, Q torsion %d)\n", rc,
                p->tors, q->tors);
        dump_hex("a", a, 32);
        dump_hex("P", p->enc, 32);
        dump_hex("b", b, 32);
        dump_hex("Q", q->enc, 32);
        dump_hex("c", c, 32);
        dump_hex("want", want, 32);
        dump_hex("got", got, 32);
    }
}

#define N_EDGE 32
/* edge_scalars - 0, 1, small, powers of two, multiples of L and their
 * neighbours, up to 2^256 - 1. Returns the count. */
static int edge_scalars(uint8_t e[N_EDGE][32])
{
    int n = 0;
    static const uint64_t small[] = {0, 1, 2, 3, 7, 8, 9, 16, 255, UINT64_MAX};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        u256_small(e[n++], small[i]);
    static const int pow2[] = {64, 126, 127, 128, 252, 253, 255};
    for (size_t i = 0; i < sizeof pow2 / sizeof pow2[0]; i++)
        u256_pow2(e[n++], pow2[i]);
    memcpy(e[n++], L_, 32);                          /* L */
    memcpy(e[n], L_, 32); e[n++][0] -= 1;            /* L - 1 */
    memcpy(e[n], L_, 32); e[n++][0] += 1;            /* L + 1 */
    memcpy(e[n], L_, 32); e[n++][0] -= 8;            /* L - 8 */
    uint8_t m[32];
    memcpy(m, L_, 32);
    for (int k = 2; k <= 15; k++) {                  /* 2L, 8L, 15L */
        sodium_add(m, L_, 32);
        if (k == 2 || k == 8 || k == 15) memcpy(e[n++], m, 32);
    }
    memset(e[n], 0xff, 32); e[n++][31] = 0x7f;       /* 2^255 - 1 */
    memset(e[n], 0xff, 32); e[n++][31] = 0x1f;       /* 2^253 - 1 */
    memset(e[n++], 0xff, 32);                        /* 2^256 - 1 */
    memset(e[n], 0xff, 32); e[n++][0] = 0xf8;        /* 2^256 - 8 */
    memset(e[n], 0, 32); e[n][16] = 1; e[n++][0] = 1;  /* 2^128 + 1 */
    return n;
}

/* rand_scalar_any - one of: 256 random bits, a reduced scalar, a small
 * value, a reduced scalar plus a multiple of L. */
static void rand_scalar_any(uint8_t s[32])
{
    switch (rng_below(5)) {
    case 0: case 1: rng_bytes(s, 32); break;
    case 2: sc_rand(s); break;
    case 3: u256_small(s, rng_below(4) ? rng_below(17) : rng_next()); break;
    default:
        sc_rand(s);
        for (uint64_t k = rng_below(14); k > 0; k--) sodium_add(s, L_, 32);
        break;
    }
}

/* [a]P + [b]Q + [c]B against libsodium, for points of every order. */
static void lincomb_matches_libsodium(void)
{
    enum { NPTS = 24 };
    tpoint pts[NPTS];
    uint8_t r[32], pk[32], sk[64];
    int n = 0;
    tp_make(&pts[n++], ID_, 0);                       /* identity */
    tp_make(&pts[n++], B_, 0);                        /* B */
    for (int j = 1; j < 8; j++) tp_make(&pts[n++], ID_, j);   /* torsion only */
    for (int j = 1; j < 8; j++) {                     /* mixed order */
        rand_prime_point(r);
        tp_make(&pts[n++], r, j);
    }
    rand_prime_point(r);
    tp_make(&pts[n++], r, 0);
    make_key(pk, sk);
    tp_make(&pts[n++], pk, 0);                        /* a public key */
    tp_make(&pts[n++], pk, 4);                        /* key + order-2 point */
    CHECK_EQ_INT(crypto_core_ed25519_sub(r, ID_, B_), 0);
    tp_make(&pts[n++], r, 0);                         /* -B */
    while (n < NPTS) {                                /* random decodable strings */
        rand_curve_point(r);
        tp_decompose(&pts[n++], r);
    }
    for (int i = 0; i < NPTS; i++) {
        uint8_t w[32];
        point_add(w, pts[i].prime, TORS_[pts[i].tors]);
        CHECK_MEM(w, pts[i].enc, 32);
    }

    uint8_t e[N_EDGE][32], a[32], b[32], c[32];
    int ne = edge_scalars(e);
    /* every edge scalar in every role, across the point set */
    for (int i = 0; i < ne; i++)
        for (int k = 0; k < NPTS; k++) {
            const tpoint *q = &pts[rng_below(NPTS)];
            rand_scalar_any(b);
            switch (k % 3) {
            case 0: lincomb_check(&pts[k], e[i], q, b, e[(i + k) % ne]); break;
            case 1: lincomb_check(q, b, &pts[k], e[i], e[(i + 7 * k) % ne]); break;
            default: lincomb_check(&pts[k], e[(i + k) % ne], q, e[i], e[i]); break;
            }
        }
    /* random combinations; P = Q every fourth time */
    for (uint64_t it = 0; it < 2 * iters_; it++) {
        tpoint fresh;
        const tpoint *p = &pts[rng_below(NPTS)], *q;
        if (it % 8 == 5) {
            rand_curve_point(r);
            tp_decompose(&fresh, r);
            q = &fresh;
        } else {
            q = it % 4 == 0 ? p : &pts[rng_below(NPTS)];
        }
        rand_scalar_any(a);
        rand_scalar_any(b);
        rand_scalar_any(c);
        lincomb_check(p, a, q, b, c);
    }
    /* cancellations: [a]P + [L - a]P, [a]B + [L - a]B */
    for (int i = 0; i < NPTS; i++) {
        uint8_t zero[32] = {0};
        sc_rand(a);
        crypto_core_ed25519_scalar_negate(b, a);
        lincomb_check(&pts[i], a, &pts[i], b, zero);
        lincomb_check(&pts[1], a, &pts[i], zero, b);
    }

    /* non-canonical encodings (y >= p, both signs) and strings off the
     * curve are refused in either position */
    uint8_t bad[32], out[32];
    rand_scalar_any(a);
    rand_scalar_any(b);
    rand_scalar_any(c);
    for (int t = 0; t <= 18; t++)
        for (int sign = 0; sign < 2; sign++) {
            y_plus_p(bad, t, sign);
            int rc1 = pel_ed25519_lincomb(out, a, bad, b, pts[1].enc, c);
            int rc2 = pel_ed25519_lincomb(out, a, pts[1].enc, b, bad, c);
            CHECK_EQ_INT(rc1, -1);
            CHECK_EQ_INT(rc2, -1);
            if ((rc1 != -1 || rc2 != -1) && dump_ok())
                dump_hex("lincomb accepted non-canonical", bad, 32);
        }
    for (uint64_t it = 0; it < 8 + iters_ / 4; it++) {
        rand_non_point(bad);
        int rc1 = pel_ed25519_lincomb(out, a, bad, b, pts[it % NPTS].enc, c);
        int rc2 = pel_ed25519_lincomb(out, a, pts[it % NPTS].enc, b, bad, c);
        CHECK_EQ_INT(rc1, -1);
        CHECK_EQ_INT(rc2, -1);
        if ((rc1 != -1 || rc2 != -1) && dump_ok())
            dump_hex("lincomb accepted a non-point", bad, 32);
    }
    /* x = 0 with the sign bit set (the identity, the order-2 point): the
     * spec does not say; either refused, or read as the point itself */
    for (int which = 0; which < 2; which++) {
        const tpoint *pt = &pts[which == 0 ? 0 : 2 + 3];   /* ID, TORS_[4] */
        uint8_t neg0[32], ax[32], cb[32], want[32], got[32];
        memcpy(neg0, pt->enc, 32);
        neg0[31] |= 0x80;
        CHECK_MEM(pt->enc, TORS_[which == 0 ? 0 : 4], 32);
        rand_scalar_any(a);
        mul_tpoint(ax, a, pt);
        mul_base(cb, c);
        point_add(want, ax, cb);                  /* [a]X + [c]identity + [c]B */
        int rc = pel_ed25519_lincomb(got, a, neg0, c, ID_, c);
        CHECK(rc == -1 || (rc == 0 && memcmp(got, want, 32) == 0));
        if (!(rc == -1 || (rc == 0 && memcmp(got, want, 32) == 0)) && dump_ok()) {
            fprintf(stderr, "  lincomb with x = 0, sign bit set: rc %d\n", rc);
            dump_hex("P", neg0, 32);
            dump_hex("want", want, 32);
            dump_hex("got", got, 32);
        }
    }
    sodium_memzero(sk, sizeof sk);
}

/* short_pair_check - c0 = c1 k (mod L), c1 odd, bits = max bit length. */
static int short_pair_check(const uint8_t k[32])
{
    uint8_t c0[32], c1[32], s0[32], s1[32], t[32];
    int n0 = 7, n1 = 7;
    memset(c0, 0xa5, 32);
    memset(c1, 0xa5, 32);
    int bits = pel_ed25519_short_pair(k, c0, &n0, c1, &n1);
    int b0 = bitlen(c0), b1 = bitlen(c1), bmax = b0 > b1 ? b0 : b1;
    sc_reduce32(s0, c0);
    sc_reduce32(s1, c1);
    if (n0 == 1) { crypto_core_ed25519_scalar_negate(t, s0); memcpy(s0, t, 32); }
    if (n1 == 1) { crypto_core_ed25519_scalar_negate(t, s1); memcpy(s1, t, 32); }
    crypto_core_ed25519_scalar_mul(t, s1, k);        /* +-c1 k mod L */
    CHECK((n0 == 0 || n0 == 1) && (n1 == 0 || n1 == 1));
    CHECK_EQ_INT(c1[0] & 1, 1);                      /* c1 odd */
    CHECK_EQ_INT(bits, bmax);
    CHECK(bits <= 253);
    CHECK(!is_zero32(s1));                           /* c1 invertible mod L */
    CHECK_MEM(t, s0, 32);                            /* c0 = c1 k (mod L) */
    int ok = (n0 == 0 || n0 == 1) && (n1 == 0 || n1 == 1) && (c1[0] & 1) &&
             bits == bmax && bits <= 253 && !is_zero32(s1) &&
             memcmp(t, s0, 32) == 0;
    if (!ok && dump_ok()) {
        fprintf(stderr, "  short_pair: bits %d (|c0| %d bits, |c1| %d bits), "
                "neg0 %d, neg1 %d\n", bits, b0, b1, n0, n1);
        dump_hex("k", k, 32);
        dump_hex("c0", c0, 32);
        dump_hex("c1", c1, 32);
        dump_hex("+-c1 k mod L", t, 32);
        dump_hex("+-c0 mod L", s0, 32);
    }
    return bits;
}

/* c0 = c1 k (mod L), c1 odd, short for random k; edge k handled. */
static void short_pair_properties(void)
{
    uint8_t k[32], t[32], inv[32], num[32];
    for (uint64_t v = 0; v <= 64; v++) {
        u256_small(k, v);
        short_pair_check(k);
    }
    static const uint64_t smallish[] = {255, 256, 1000, 65537, UINT64_MAX};
    for (size_t i = 0; i < sizeof smallish / sizeof smallish[0]; i++) {
        u256_small(k, smallish[i]);
        short_pair_check(k);
    }
    static const int pow2[] = {64, 125, 126, 127, 128, 129, 251, 252};
    for (size_t i = 0; i < sizeof pow2 / sizeof pow2[0]; i++)
        for (int d = -1; d <= 1; d++) {
            u256_pow2(k, pow2[i]);
            u256_small(t, 1);
            if (d < 0) sodium_sub(k, t, 32);
            if (d > 0) sodium_add(k, t, 32);
            short_pair_check(k);
            crypto_core_ed25519_scalar_negate(t, k);  /* L - k */
            short_pair_check(t);
        }
    for (uint64_t v = 1; v <= 16; v++) {             /* L - v */
        u256_small(t, v);
        memcpy(k, L_, 32);
        sodium_sub(k, t, 32);
        short_pair_check(k);
    }
    /* k = n / d mod L: a short pair exists but may have c1 even */
    for (uint64_t d = 2; d <= 16; d++)
        for (uint64_t nn = 1; nn <= 5; nn++) {
            u256_small(t, d);
            CHECK_EQ_INT(crypto_core_ed25519_scalar_invert(inv, t), 0);
            u256_small(num, nn);
            crypto_core_ed25519_scalar_mul(k, inv, num);
            short_pair_check(k);
            crypto_core_ed25519_scalar_negate(t, k);
            short_pair_check(t);
        }
    /* random k: almost all within 130 bits (about 0.2% need 131-134); at
     * least 1000 draws so that the 1% bound is not a matter of luck */
    uint64_t n = 10 * iters_ < 1000 ? 1000 : 10 * iters_, over = 0;
    int maxbits = 0;
    for (uint64_t i = 0; i < n; i++) {
        sc_rand(k);
        int bits = short_pair_check(k);
        if (bits > 130) over++;
        if (bits > maxbits) maxbits = bits;
    }
    printf("  short_pair: %" PRIu64 " random k, max %d bits, %" PRIu64
           " over 130\n", n, maxbits, over);
    CHECK(over * 100 <= n);
}

/* Valid signatures verify (random keys and messages; RFC 8032 1-3). */
static void verify_valid_signatures(void)
{
    static const char *const rfc[3][4] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
         "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
         "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
         "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
         "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
        {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
         "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
         "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    };
    uint8_t seed[32], pk_want[32], pk[32], sk[64], sig_want[64], sig[64];
    uint8_t msg[256];
    for (int v = 0; v < 3; v++) {
        size_t len = strlen(rfc[v][2]) / 2;
        unhex(rfc[v][0], seed, 32);
        unhex(rfc[v][1], pk_want, 32);
        if (len) unhex(rfc[v][2], msg, len);
        unhex(rfc[v][3], sig_want, 64);
        CHECK_EQ_INT(crypto_sign_ed25519_seed_keypair(pk, sk, seed), 0);
        CHECK_MEM(pk, pk_want, 32);
        CHECK_EQ_INT(crypto_sign_ed25519_detached(sig, NULL, msg, len, sk), 0);
        CHECK_MEM(sig, sig_want, 64);
        CHECK_EQ_INT(agree(pk, len ? msg : NULL, len, sig, "RFC 8032 vector"), 0);
        CHECK_EQ_INT(pel_ed25519_verify(pk, len ? msg : NULL, len, sig), 0);
    }
    for (uint64_t it = 0; it < iters_; it++) {
        size_t len = it == 0 ? 0 : (size_t)rng_below(201);
        size_t off = (size_t)rng_below(8);            /* misaligned too */
        make_key(pk, sk);
        rng_bytes(msg + off, len);
        const uint8_t *m = (len == 0 && it % 2 == 0) ? NULL : msg + off;
        CHECK_EQ_INT(crypto_sign_ed25519_detached(sig, NULL, m, len, sk), 0);
        CHECK_EQ_INT(agree(pk, m, len, sig, "valid signature"), 0);
    }
    /* one decoded key, many messages, and a copy of the key */
    pel_ed25519_key k, kc;
    make_key(pk, sk);
    pel_ed25519_key_init(&k, pk);
    CHECK_MEM(k.pk, pk, 32);
    CHECK_EQ_INT(k.ok, 1);
    kc = k;
    for (int i = 0; i < 16; i++) {
        rng_bytes(msg, 40);
        CHECK_EQ_INT(crypto_sign_ed25519_detached(sig, NULL, msg, 40, sk), 0);
        CHECK_EQ_INT(pel_ed25519_verify_key(&k, msg, 40, sig), 0);
        CHECK_EQ_INT(pel_ed25519_verify_key(&kc, msg, 40, sig), 0);
        msg[i] ^= 0x10;
        CHECK_EQ_INT(pel_ed25519_verify_key(&kc, msg, 40, sig), -1);
    }
    sodium_memzero(sk, sizeof sk);
}

/* Every single-bit flip of signature and message: same verdict. */
static void verify_tampered_agrees(void)
{
    uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[64], sig2[64], msg[64];
    uint64_t nkeys = 2 + iters_ / 100;
    for (uint64_t kk = 0; kk < nkeys; kk++) {
        size_t len = 1 + (size_t)rng_below(32);
        make_key(pk, sk);
        make_key(pk2, sk2);
        rng_bytes(msg, sizeof msg);
        CHECK_EQ_INT(crypto_sign_ed25519_detached(sig, NULL, msg, len, sk), 0);
        CHECK_EQ_INT(agree(pk, msg, len, sig, "untampered"), 0);
        for (int bit = 0; bit < 512; bit++) {
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            CHECK_EQ_INT(agree(pk, msg, len, sig, "signature bit flipped"), -1);
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        for (size_t bit = 0; bit < 8 * len; bit++) {
            msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            CHECK_EQ_INT(agree(pk, msg, len, sig, "message bit flipped"), -1);
            msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        CHECK_EQ_INT(agree(pk, msg, len - 1, sig, "message truncated"), -1);
        CHECK_EQ_INT(agree(pk, msg, len + 1, sig, "message extended"), -1);
        CHECK_EQ_INT(agree(pk2, msg, len, sig, "other key"), -1);
        CHECK_EQ_INT(crypto_sign_ed25519_detached(sig2, NULL, msg, len, sk2), 0);
        CHECK_EQ_INT(agree(pk, msg, len, sig2, "other key's signature"), -1);
        CHECK_EQ_INT(agree(pk2, msg, len, sig2, "other key's own"), 0);
        memcpy(sig2 + 32, sig + 32, 32);               /* R of one, S of other */
        CHECK_EQ_INT(agree(pk, msg, len, sig2, "mixed R and S"), -1);
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(sk2, sizeof sk2);
}

/* cofactored_ok - [8]([S]B - [k]A - R) is the identity. */
static int cofactored_ok(const uint8_t pk[32], const uint8_t *m, size_t len,
                         const uint8_t sig[64])
{
    uint8_t k[32], sb[32], ka[32], d[32], e[32];
    challenge(k, sig, pk, m, len);
    mul_base(sb, sig + 32);
    mul_prime(ka, k, pk);
    CHECK_EQ_INT(crypto_core_ed25519_sub(d, sb, ka), 0);
    CHECK_EQ_INT(crypto_core_ed25519_sub(e, d, sig), 0);
    for (int i = 0; i < 3; i++) { point_add(d, e, e); memcpy(e, d, 32); }
    return memcmp(e, ID_, 32) == 0;
}

/* R + small-order point: refused by libsodium (cofactorless), and by us. */
static void verify_torsion_tweaked_R_rejected(void)
{
    uint8_t pk[32], sk[64], a[32], sig[64], sig2[64], msg[48], r[32], R[32];
    uint64_t nkeys = 2 + iters_ / 50;
    for (uint64_t kk = 0; kk < nkeys; kk++) {
        size_t len = (size_t)rng_below(sizeof msg + 1);
        make_key(pk, sk);
        secret_scalar(a, sk);
        rng_bytes(msg, sizeof msg);
        /* libsodium's signature, R + T, S kept */
        CHECK_EQ_INT(crypto_sign_ed25519_detached(sig, NULL, msg, len, sk), 0);
        for (int j = 0; j < 8; j++) {
            memcpy(sig2, sig, 64);
            point_add(sig2, sig, TORS_[j]);
            CHECK_EQ_INT(agree(pk, msg, len, sig2, "R + T, S kept"), j == 0 ? 0 : -1);
        }
        /* hand-made: R' = [r]B + T, S' = r + k' a for k' = H(R' || A || M):
         * the cofactored equation holds, the cofactorless one does not */
        sc_rand(r);
        CHECK_EQ_INT(crypto_scalarmult_ed25519_base_noclamp(R, r), 0);
        for (int j = 0; j < 8; j++) {
            uint8_t Rj[32];
            point_add(Rj, R, TORS_[j]);
            hand_sign(sig2, Rj, r, a, pk, msg, len);
            CHECK(cofactored_ok(pk, msg, len, sig2));
            CHECK_EQ_INT(agree(pk, msg, len, sig2, "hand-made R + T"), j == 0 ? 0 : -1);
            /* the same with the sign bit of R' flipped */
            sig2[31] ^= 0x80;
            CHECK_EQ_INT(agree(pk, msg, len, sig2, "hand-made R + T, sign flipped"), -1);
        }
        /* hand-made with r = 0: R' = T itself (small order), S' = k' a */
        uint8_t zero[32] = {0};
        for (int j = 0; j < 8; j++) {
            hand_sign(sig2, TORS_[j], zero, a, pk, msg, len);
            CHECK(cofactored_ok(pk, msg, len, sig2));
            CHECK_EQ_INT(agree(pk, msg, len, sig2, "hand-made R = T, r = 0"), -1);
        }
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(a, sizeof a);
}

#define N_RVAR 80
/* Malformed S and R, in every combination: libsodium's verdict. */
static void verify_malformed_agrees(void)
{
    uint8_t pk[32], sk[64], sig[64], msg[32];
    uint8_t svar[10][32], rvar[N_RVAR][32];
    int ns = 0, nr = 0;
    make_key(pk, sk);
    rng_bytes(msg, sizeof msg);
    CHECK_EQ_INT(crypto_sign_ed25519_detached(sig, NULL, msg, sizeof msg, sk), 0);

    memcpy(svar[ns++], sig + 32, 32);                     /* valid S */
    memcpy(svar[ns], sig + 32, 32); sodium_add(svar[ns++], L_, 32);   /* S + L */
    memcpy(svar[ns], svar[ns - 1], 32); sodium_add(svar[ns++], L_, 32); /* S + 2L */
    memcpy(svar[ns++], L_, 32);                           /* L */
    memcpy(svar[ns], L_, 32); svar[ns++][0] -= 1;         /* L - 1 */
    memset(svar[ns++], 0, 32);                            /* 0 */
    memset(svar[ns++], 0xff, 32);                         /* 2^256 - 1 */
    u256_pow2(svar[ns++], 252);                           /* 2^252 < L */
    memcpy(svar[ns], sig + 32, 32); svar[ns++][31] |= 0x80;  /* S + 2^255 */
    memcpy(svar[ns], sig + 32, 32); svar[ns++][31] |= 0x10;  /* S + 2^252 */

    memcpy(rvar[nr++], sig, 32);                          /* valid R */
    memcpy(rvar[nr], sig, 32); rvar[nr++][31] ^= 0x80;    /* -R */
    for (int i = 0; i < 7; i++)                           /* small order */
        for (int sign = 0; sign < 2; sign++) {
            unhex(SMALL_ORDER_HEX[i], rvar[nr], 32);
            if (sign) rvar[nr][31] |= 0x80;
            nr++;
        }
    for (int t = 0; t <= 18; t++)                         /* y >= p */
        for (int sign = 0; sign < 2; sign++) y_plus_p(rvar[nr++], t, sign);
    for (int i = 0; i < 6; i++) rng_bytes(rvar[nr++], 32);       /* random */
    for (int i = 0; i < 4; i++) rand_non_point(rvar[nr++]);      /* off curve */
    for (int i = 0; i < 4; i++) {                                /* R + T */
        point_add(rvar[nr], sig, TORS_[1 + 2 * i]);
        nr++;
    }
    for (int i = 0; i < 2; i++) rand_prime_point(rvar[nr++]);    /* other R */
    CHECK(nr <= N_RVAR);

    uint8_t s2[64];
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < ns; j++) {
            memcpy(s2, rvar[i], 32);
            memcpy(s2 + 32, svar[j], 32);
            CHECK_EQ_INT(agree(pk, msg, sizeof msg, s2, "malformed R / S"),
                         i == 0 && j == 0 ? 0 : -1);
        }
    memset(s2, 0, 64);
    CHECK_EQ_INT(agree(pk, msg, sizeof msg, s2, "all-zero signature"), -1);
    memset(s2, 0xff, 64);
    CHECK_EQ_INT(agree(pk, msg, sizeof msg, s2, "all-0xff signature"), -1);
    sodium_memzero(sk, sizeof sk);
}

/* Random signatures (raw, and with canonical S and a real point R). */
static void verify_random_garbage_agrees(void)
{
    uint8_t pk[32], sk[64], sig[64], msg[64];
    make_key(pk, sk);
    pel_ed25519_key k;
    pel_ed25519_key_init(&k, pk);
    for (uint64_t it = 0; it < 10 * iters_; it++) {
        size_t len = (size_t)rng_below(sizeof msg + 1);
        rng_bytes(msg, len);
        rng_bytes(sig, 64);
        switch (it % 4) {
        case 0: case 1: break;                          /* raw bytes */
        case 2: sc_rand(sig + 32); break;               /* canonical S */
        default: rand_prime_point(sig); sc_rand(sig + 32); break;
        }
        CHECK_EQ_INT(agree(pk, msg, len, sig, "random signature"), -1);
        CHECK_EQ_INT(pel_ed25519_verify_key(&k, msg, len, sig), -1);
    }
    sodium_memzero(sk, sizeof sk);
}

/* Small-order and undecodable keys: stored with ok = 0 and refused
 * (the header: such keys are handed to libsodium, which refuses them). */
static void verify_bad_keys_refused(void)
{
    uint8_t bad[64][32], pk[32], sk[64], sig[64], msg[16], s[32];
    int n = 0;
    for (int i = 0; i < 7; i++)
        for (int sign = 0; sign < 2; sign++) {
            unhex(SMALL_ORDER_HEX[i], bad[n], 32);
            if (sign) bad[n][31] |= 0x80;
            n++;
        }
    for (int t = 0; t <= 18; t++)                /* y >= p, off the curve */
        for (int sign = 0; sign < 2; sign++) {
            y_plus_p(bad[n], t, sign);
            if (!on_curve(bad[n])) n++;
        }
    for (int i = 0; i < 8; i++) rand_non_point(bad[n++]);
    CHECK(n <= 64);

    make_key(pk, sk);
    rng_bytes(msg, sizeof msg);
    for (int i = 0; i < n; i++) {
        pel_ed25519_key k;
        pel_ed25519_key_init(&k, bad[i]);
        CHECK_MEM(k.pk, bad[i], 32);
        CHECK_EQ_INT(k.ok, 0);
        /* ([s]B, s): what a naive check accepts under A = identity */
        sc_rand(s);
        CHECK_EQ_INT(crypto_scalarmult_ed25519_base_noclamp(sig, s), 0);
        memcpy(sig + 32, s, 32);
        CHECK_EQ_INT(agree(bad[i], msg, sizeof msg, sig, "bad key, ([s]B, s)"), -1);
        memset(sig, 0, 64);
        CHECK_EQ_INT(agree(bad[i], msg, sizeof msg, sig, "bad key, zero sig"), -1);
        sig[0] = 1;                                /* (identity, 0) */
        CHECK_EQ_INT(agree(bad[i], msg, sizeof msg, sig, "bad key, (identity, 0)"), -1);
        CHECK_EQ_INT(crypto_sign_ed25519_detached(sig, NULL, msg, sizeof msg, sk), 0);
        CHECK_EQ_INT(agree(bad[i], msg, sizeof msg, sig, "bad key, other's sig"), -1);
        rng_bytes(sig, 64);
        CHECK_EQ_INT(agree(bad[i], msg, sizeof msg, sig, "bad key, random sig"), -1);
    }
    sodium_memzero(sk, sizeof sk);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    uint64_t seed = test_env_u64("PEL_TEST_SEED", 1);
    iters_ = test_env_u64("PEL_TEST_ITERS", 200);
    if (iters_ == 0) iters_ = 1;
    rng_state_ = seed;
    printf("test_ed25519: PEL_TEST_SEED=%" PRIu64 " PEL_TEST_ITERS=%" PRIu64 "\n",
           seed, iters_);
    RUN(constants_consistent);
    RUN(concurrent_first_use);        /* first use of core/ed25519.c */
    RUN(lincomb_matches_libsodium);
    RUN(short_pair_properties);
    RUN(verify_valid_signatures);
    RUN(verify_tampered_agrees);
    RUN(verify_torsion_tweaked_R_rejected);
    RUN(verify_malformed_agrees);
    RUN(verify_random_garbage_agrees);
    RUN(verify_bad_keys_refused);
    return TEST_END("test_ed25519");
}
