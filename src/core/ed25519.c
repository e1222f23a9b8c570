/*
 * ed25519.c - the Ed25519 signature equation with half the doublings (see
 * ed25519.h for the argument that the verdict is libsodium's).
 *
 * Layout: field arithmetic mod p = 2^255 - 19 (five 51-bit limbs, 128-bit
 * products); points in extended coordinates (X:Y:Z:T, x = X/Z, y = Y/Z,
 * xy = T/Z) on -x^2 + y^2 = 1 + d x^2 y^2 with the a = -1 formulas of
 * Hisil, Wong, Carter and Dawson (complete on this curve); width-w NAF
 * multi-scalar multiplication; the short (c0, c1) pair by a half-finished
 * extended Euclid on (L, k) (Lehmer rounds on 62-bit leading parts, then
 * exact steps); then verification.
 */
#include "core/ed25519.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* 128-bit products (gcc and clang on 64-bit targets) and little-endian
 * loads; PEL's supported hosts are x86-64 and arm64 Linux. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ed25519.c reads words little-endian");
typedef unsigned __int128 u128;

/* ==== field elements ==== */

typedef struct { uint64_t v[5]; } fe;

#define M51 ((UINT64_C(1) << 51) - 1)

static uint64_t load64(const uint8_t *s)
{
    uint64_t w;
    memcpy(&w, s, 8);   /* little-endian: see the assertion above */
    return w;
}

/* The low 255 bits of s (the top bit is the sign of x in an encoding). */
static void fe_frombytes(fe *h, const uint8_t s[32])
{
    uint64_t w0 = load64(s), w1 = load64(s + 8), w2 = load64(s + 16), w3 = load64(s + 24);
    h->v[0] = w0 & M51;
    h->v[1] = ((w0 >> 51) | (w1 << 13)) & M51;
    h->v[2] = ((w1 >> 38) | (w2 << 26)) & M51;
    h->v[3] = ((w2 >> 25) | (w3 << 39)) & M51;
    h->v[4] = (w3 >> 12) & M51;
}

/* Limbs back under 2^51 (the top carry folds in as 19 * carry). */
static void fe_carry(fe *h)
{
    uint64_t c;
    c = h->v[0] >> 51; h->v[0] &= M51; h->v[1] += c;
    c = h->v[1] >> 51; h->v[1] &= M51; h->v[2] += c;
    c = h->v[2] >> 51; h->v[2] &= M51; h->v[3] += c;
    c = h->v[3] >> 51; h->v[3] &= M51; h->v[4] += c;
    c = h->v[4] >> 51; h->v[4] &= M51; h->v[0] += 19 * c;
    c = h->v[0] >> 51; h->v[0] &= M51; h->v[1] += c;
}

/* The canonical value (0 <= h < p) as 32 bytes, top bit clear. */
static void fe_tobytes(uint8_t s[32], const fe *f)
{
    fe h = *f;
    fe_carry(&h);
    fe_carry(&h);
    /* h < 2^255 + small; q = 1 iff h >= p */
    uint64_t q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    uint64_t c;
    c = h.v[0] >> 51; h.v[0] &= M51; h.v[1] += c;
    c = h.v[1] >> 51; h.v[1] &= M51; h.v[2] += c;
    c = h.v[2] >> 51; h.v[2] &= M51; h.v[3] += c;
    c = h.v[3] >> 51; h.v[3] &= M51; h.v[4] += c;
    h.v[4] &= M51;
    uint64_t w[4] = {
        h.v[0] | h.v[1] << 51,
        h.v[1] >> 13 | h.v[2] << 38,
        h.v[2] >> 26 | h.v[3] << 25,
        h.v[3] >> 39 | h.v[4] << 12,
    };
    memcpy(s, w, 32);
}

static int fe_iszero(const fe *f)
{
    uint8_t s[32], z = 0;
    fe_tobytes(s, f);
    for (int i = 0; i < 32; i++) z |= s[i];
    return z == 0;
}

static int fe_isneg(const fe *f)
{
    uint8_t s[32];
    fe_tobytes(s, f);
    return s[0] & 1;
}

static int fe_eq(const fe *f, const fe *g)
{
    uint8_t a[32], b[32];
    fe_tobytes(a, f);
    fe_tobytes(b, g);
    return memcmp(a, b, 32) == 0;
}

static void fe_add(fe *h, const fe *f, const fe *g)
{
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
    fe_carry(h);
}

/* f - g + 4p: no limb underflows for carried inputs (limbs < 2^52). */
static void fe_sub(fe *h, const fe *f, const fe *g)
{
    h->v[0] = f->v[0] + UINT64_C(0x1FFFFFFFFFFFB4) - g->v[0];
    for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + UINT64_C(0x1FFFFFFFFFFFFC) - g->v[i];
    fe_carry(h);
}

static void fe_neg(fe *h, const fe *f)
{
    fe z = {{0}};
    fe_sub(h, &z, f);
}

#define INLINE static inline __attribute__((always_inline))

/* Wide sums r0..r4 (each below 2^115, from inputs with limbs below 2^54)
 * back to limbs below 2^51 (limb 1 may exceed it by a small carry). */
INLINE void fe_wide(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    u128 t0 = ((uint64_t)r0 & M51) + (u128)19 * (uint64_t)(r4 >> 51);
    h->v[0] = (uint64_t)t0 & M51;
    h->v[1] = ((uint64_t)r1 & M51) + (uint64_t)(t0 >> 51);
    h->v[2] = (uint64_t)r2 & M51;
    h->v[3] = (uint64_t)r3 & M51;
    h->v[4] = (uint64_t)r4 & M51;
}

/* Lazy sum and difference for the point formulas, where the bounds are
 * known: inputs are products (limbs < 2^51 + 2^13) or lazy sums of two
 * products (< 2^52 + 2^14), so every result stays below 2^54, which is
 * all fe_mul and fe_sq need; g of lz_sub must be below 2^53 - 76. */
INLINE void lz_add(fe *h, const fe *f, const fe *g)
{
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
}

INLINE void lz_sub(fe *h, const fe *f, const fe *g)
{
    h->v[0] = f->v[0] + UINT64_C(0x1FFFFFFFFFFFB4) - g->v[0];
    for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + UINT64_C(0x1FFFFFFFFFFFFC) - g->v[i];
}

INLINE void fe_mul(fe *h, const fe *f, const fe *g)
{
    uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
    u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
    u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
    u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
    u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
    fe_wide(h, r0, r1, r2, r3, r4);
}

INLINE void fe_sq(fe *h, const fe *f)
{
    uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f3_19 = 19 * f3, f4_19 = 19 * f4;
    u128 r0 = (u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)(2 * f2) * f3_19;
    u128 r1 = (u128)f0_2 * f1 + (u128)(2 * f2) * f4_19 + (u128)f3 * f3_19;
    u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)(2 * f3) * f4_19;
    u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19;
    u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
    fe_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sqn(fe *h, const fe *f, int n)
{
    fe_sq(h, f);
    while (--n > 0) fe_sq(h, h);
}

/* z^(2^250 - 1) into *z250 and z^11 into *z11: the common part of the
 * inversion and square-root exponents. */
static void fe_pow_2_250(fe *z250, fe *z11, const fe *z)
{
    fe z2, z9, t, z5, z10, z20, z50, z100;
    fe_sq(&z2, z);                 /* 2 */
    fe_sqn(&t, &z2, 2);            /* 8 */
    fe_mul(&z9, &t, z);            /* 9 */
    fe_mul(z11, &z9, &z2);         /* 11 */
    fe_sq(&t, z11);                /* 22 */
    fe_mul(&z5, &t, &z9);          /* 2^5 - 1 */
    fe_sqn(&t, &z5, 5);
    fe_mul(&z10, &t, &z5);         /* 2^10 - 1 */
    fe_sqn(&t, &z10, 10);
    fe_mul(&z20, &t, &z10);        /* 2^20 - 1 */
    fe_sqn(&t, &z20, 20);
    fe_mul(&t, &t, &z20);          /* 2^40 - 1 */
    fe_sqn(&t, &t, 10);
    fe_mul(&z50, &t, &z10);        /* 2^50 - 1 */
    fe_sqn(&t, &z50, 50);
    fe_mul(&z100, &t, &z50);       /* 2^100 - 1 */
    fe_sqn(&t, &z100, 100);
    fe_mul(&t, &t, &z100);         /* 2^200 - 1 */
    fe_sqn(&t, &t, 50);
    fe_mul(z250, &t, &z50);        /* 2^250 - 1 */
}

/* 1/z = z^(p - 2) = z^(2^255 - 21). */
static void fe_invert(fe *h, const fe *z)
{
    fe z250, z11;
    fe_pow_2_250(&z250, &z11, z);
    fe_sqn(&z250, &z250, 5);
    fe_mul(h, &z250, &z11);
}

/* z^((p - 5) / 8) = z^(2^252 - 3). */
static void fe_pow22523(fe *h, const fe *z)
{
    fe z250, z11;
    fe_pow_2_250(&z250, &z11, z);
    fe_sqn(&z250, &z250, 2);
    fe_mul(h, &z250, z);
}

/* ==== points ==== */

typedef struct { fe X, Y, Z, T; } ge;             /* extended */
typedef struct { fe E, F, G, H; } ge_done;        /* X = EF, Y = GH, Z = FG, T = EH */
typedef struct { fe ypx, ymx, z2, t2d; } ge_cached; /* Y+X, Y-X, 2Z, 2dT */

static struct {
    fe d, d2, sqrtm1;
    ge_cached b[64], b128[64];   /* odd multiples 1..127 of B and of [2^128]B, Z = 1 */
} K;
static pthread_once_t k_once = PTHREAD_ONCE_INIT;

#define B_WIDTH 8      /* window of the fixed tables: digits up to +-127 */
#define P_WIDTH 5      /* window of per-call tables: digits up to +-15 */

static void ge_zero(ge *p)
{
    memset(p, 0, sizeof *p);
    p->Y.v[0] = 1;
    p->Z.v[0] = 1;
}

static void done_to_xyz(ge *r, const ge_done *p)
{
    fe_mul(&r->X, &p->E, &p->F);
    fe_mul(&r->Y, &p->G, &p->H);
    fe_mul(&r->Z, &p->F, &p->G);
}

static void done_to_ge(ge *r, const ge_done *p)
{
    done_to_xyz(r, p);
    fe_mul(&r->T, &p->E, &p->H);
}

/* 2P from X, Y, Z (T unused): dbl-2008-hwcd with a = -1. X, Y, Z are
 * products (done_to_xyz), so the lazy bounds hold. */
static void ge_dbl(ge_done *r, const ge *p)
{
    fe a, b, c, s, ac;
    fe_sq(&a, &p->X);
    fe_sq(&b, &p->Y);
    fe_sq(&c, &p->Z);
    lz_add(&c, &c, &c);            /* C = 2 Z^2 */
    lz_add(&s, &p->X, &p->Y);
    fe_sq(&s, &s);
    lz_add(&r->H, &a, &b);         /* A + B */
    lz_sub(&r->E, &s, &r->H);      /* E = (X+Y)^2 - A - B */
    lz_sub(&r->G, &b, &a);         /* G = B - A */
    lz_add(&ac, &a, &c);
    lz_sub(&r->F, &b, &ac);        /* F = G - C */
    fe z = {{0}};
    lz_sub(&r->H, &z, &r->H);      /* H = -A - B */
}

static void ge_to_cached(ge_cached *r, const ge *p)
{
    lz_add(&r->ypx, &p->Y, &p->X);
    lz_sub(&r->ymx, &p->Y, &p->X);
    lz_add(&r->z2, &p->Z, &p->Z);
    fe_mul(&r->t2d, &p->T, &K.d2);
}

/* P + Q (neg = 0) or P - Q (neg = 1): add-2008-hwcd-3, complete here.
 * affine: Q's Z is 1 (the fixed tables), which saves a product.
 * P's coordinates are products (done_to_ge), so the lazy bounds hold. */
static void ge_add(ge_done *r, const ge *p, const ge_cached *q, int neg, int affine)
{
    fe a, b, c, d, ypx, ymx;
    lz_add(&ypx, &p->Y, &p->X);
    lz_sub(&ymx, &p->Y, &p->X);
    fe_mul(&a, &ymx, neg ? &q->ypx : &q->ymx);
    fe_mul(&b, &ypx, neg ? &q->ymx : &q->ypx);
    fe_mul(&c, &p->T, &q->t2d);
    if (affine) lz_add(&d, &p->Z, &p->Z);
    else fe_mul(&d, &p->Z, &q->z2);
    lz_sub(&r->E, &b, &a);
    lz_add(&r->H, &b, &a);
    if (neg) { lz_add(&r->F, &d, &c); lz_sub(&r->G, &d, &c); }
    else     { lz_sub(&r->F, &d, &c); lz_add(&r->G, &d, &c); }
}

static int ge_is_zero(const ge *p)
{
    fe t;
    fe_sub(&t, &p->Y, &p->Z);
    return fe_iszero(&p->X) && fe_iszero(&t);
}

/* Decodes a canonical encoding (y < p; x = 0 only with the sign bit
 * clear) of a curve point. @return 0 or -1. */
static int ge_frombytes(ge *p, const uint8_t s[32])
{
    uint8_t back[32];
    fe u, v, v3, vxx, t;
    fe_frombytes(&p->Y, s);
    fe_tobytes(back, &p->Y);
    back[31] |= s[31] & 0x80;
    if (memcmp(back, s, 32) != 0) return -1;          /* y >= p */
    memset(&p->Z, 0, sizeof p->Z);
    p->Z.v[0] = 1;
    fe_sq(&u, &p->Y);
    fe_mul(&v, &u, &K.d);
    fe_sub(&u, &u, &p->Z);                            /* y^2 - 1 */
    fe_add(&v, &v, &p->Z);                            /* d y^2 + 1 */
    fe_sq(&v3, &v);
    fe_mul(&v3, &v3, &v);                             /* v^3 */
    fe_sq(&t, &v3);
    fe_mul(&t, &t, &v);
    fe_mul(&t, &t, &u);                               /* u v^7 */
    fe_pow22523(&t, &t);
    fe_mul(&t, &t, &v3);
    fe_mul(&p->X, &t, &u);                            /* u v^3 (u v^7)^((p-5)/8) */
    fe_sq(&vxx, &p->X);
    fe_mul(&vxx, &vxx, &v);
    if (!fe_eq(&vxx, &u)) {
        fe_neg(&t, &u);
        if (!fe_eq(&vxx, &t)) return -1;              /* not on the curve */
        fe_mul(&p->X, &p->X, &K.sqrtm1);
    }
    int sign = s[31] >> 7;
    if (fe_iszero(&p->X) && sign) return -1;          /* "negative zero" */
    if (fe_isneg(&p->X) != sign) fe_neg(&p->X, &p->X);
    fe_mul(&p->T, &p->X, &p->Y);
    return 0;
}

static void ge_tobytes(uint8_t s[32], const ge *p)
{
    fe zi, x, y;
    fe_invert(&zi, &p->Z);
    fe_mul(&x, &p->X, &zi);
    fe_mul(&y, &p->Y, &zi);
    fe_tobytes(s, &y);
    s[31] |= (uint8_t)(fe_isneg(&x) << 7);
}

/* The same point with Z = 1 (one inversion). */
static void ge_affine(ge *p)
{
    fe zi;
    fe_invert(&zi, &p->Z);
    fe_mul(&p->X, &p->X, &zi);
    fe_mul(&p->Y, &p->Y, &zi);
    memset(&p->Z, 0, sizeof p->Z);
    p->Z.v[0] = 1;
    fe_mul(&p->T, &p->X, &p->Y);
}

/* table[j] = (2j + 1) P for j < n; affine: each entry with Z = 1. */
static void odd_multiples(ge_cached *table, int n, const ge *p, int affine)
{
    ge_done t;
    ge p2, cur = *p;
    ge_dbl(&t, p);
    done_to_ge(&p2, &t);
    ge_cached c2;
    ge_to_cached(&c2, &p2);
    for (int j = 0; j < n; j++) {
        if (j) {
            ge_add(&t, &cur, &c2, 0, 0);
            done_to_ge(&cur, &t);
        }
        ge out = cur;
        if (affine) ge_affine(&out);
        ge_to_cached(&table[j], &out);
    }
}

static void init_constants(void)
{
    static const uint8_t base[32] = {
        0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
        0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
    fe num = {{121665}}, den = {{121666}}, two = {{2}};
    fe_invert(&den, &den);
    fe_mul(&K.d, &num, &den);
    fe_neg(&K.d, &K.d);                               /* -121665/121666 */
    fe_add(&K.d2, &K.d, &K.d);
    fe_pow22523(&K.sqrtm1, &two);                     /* 2^((p-1)/4) */
    fe_sq(&K.sqrtm1, &K.sqrtm1);
    fe_mul(&K.sqrtm1, &K.sqrtm1, &two);
    ge b, b128;
    if (ge_frombytes(&b, base) != 0) abort();         /* cannot happen: fixed input */
    odd_multiples(K.b, 64, &b, 1);
    b128 = b;
    for (int i = 0; i < 128; i++) {
        ge_done t;
        ge_dbl(&t, &b128);
        done_to_ge(&b128, &t);
    }
    odd_multiples(K.b128, 64, &b128, 1);
}

static void init(void)
{
    pthread_once(&k_once, init_constants);
}

/* ==== scalars and multi-scalar multiplication ==== */

/* Width-w NAF of the 256-bit k (four little-endian words): naf[i] is 0 or
 * odd in (-2^(w-1), 2^(w-1)), and k = sum naf[i] 2^i. naf has 260 digits.
 * @return one more than the highest nonzero index (0 for k = 0). */
static int wnaf(int8_t naf[260], const uint64_t k[4], int w)
{
    uint64_t x[6] = { k[0], k[1], k[2], k[3], 0, 0 };
    uint64_t width = UINT64_C(1) << w, mask = width - 1;
    int pos = 0, top = 0, nb = 0;
    uint64_t carry = 0;
    for (int i = 3; i >= 0 && !nb; i--)
        if (k[i]) nb = 64 * i + 64 - __builtin_clzll(k[i]);
    memset(naf, 0, 260);
    while (pos < 258 && (pos < nb || carry)) {   /* above nb only a carry is left */
        int idx = pos / 64, bit = pos % 64;
        uint64_t buf = bit < 64 - w ? x[idx] >> bit
                                    : (x[idx] >> bit) | (x[idx + 1] << (64 - bit));
        uint64_t window = carry + (buf & mask);
        if ((window & 1) == 0) { pos++; continue; }
        if (window < width / 2) { carry = 0; naf[pos] = (int8_t)window; }
        else { carry = 1; naf[pos] = (int8_t)((int64_t)window - (int64_t)width); }
        top = pos + 1;
        pos += w;
    }
    return top;
}

typedef struct {
    const ge_cached *table;   /* odd multiples of the point */
    int8_t naf[260];
    int neg;                  /* the point is negated */
    int affine;               /* the table's entries have Z = 1 */
} term;

/* r = sum over terms of naf * point. */
static void msm(ge *r, term *t, int n, int top)
{
    ge_done d;
    ge_zero(r);
    for (int i = top - 1; i >= 0; i--) {
        ge_dbl(&d, r);
        for (int j = 0; j < n; j++) {
            int dig = t[j].naf[i];
            if (!dig) continue;
            done_to_ge(r, &d);
            int neg = (dig < 0) ^ t[j].neg;
            ge_add(&d, r, &t[j].table[(dig < 0 ? -dig : dig) / 2], neg, t[j].affine);
        }
        done_to_xyz(r, &d);           /* doubling and the checks need no T */
    }
}

static int max_int(int a, int b)
{
    return a > b ? a : b;
}

static void words_of(uint64_t w[4], const uint8_t s[32])
{
    for (int i = 0; i < 4; i++) w[i] = load64(s + 8 * i);
}

/* Prepares [s]B for s < L: the fixed tables of B and [2^128]B with the low
 * and high halves of s. @return the larger NAF length. */
static int base_terms(term *lo, term *hi, const uint8_t s[32])
{
    uint64_t w[4], l[4] = {0}, h[4] = {0};
    words_of(w, s);
    l[0] = w[0]; l[1] = w[1];
    h[0] = w[2]; h[1] = w[3];
    lo->table = K.b;  lo->neg = 0; lo->affine = 1;
    hi->table = K.b128; hi->neg = 0; hi->affine = 1;
    return max_int(wnaf(lo->naf, l, B_WIDTH), wnaf(hi->naf, h, B_WIDTH));
}

/* A per-call term: the odd multiples of P into table, and s's NAF.
 * @return the NAF's length. */
static int point_term(term *t, ge_cached table[8], const ge *p, const uint8_t s[32], int neg)
{
    uint64_t w[4];
    odd_multiples(table, 8, p, 0);
    words_of(w, s);
    t->table = table;
    t->neg = neg;
    t->affine = 0;
    return wnaf(t->naf, w, P_WIDTH);
}

int pel_ed25519_lincomb(uint8_t out[32], const uint8_t a[32], const uint8_t p[32],
                        const uint8_t b[32], const uint8_t q[32], const uint8_t c[32])
{
    ge P, Q, r;
    ge_cached tp[8], tq[8];
    term t[4];
    uint8_t wide[64] = {0}, cr[32];
    init();
    if (ge_frombytes(&P, p) != 0 || ge_frombytes(&Q, q) != 0) return -1;
    memcpy(wide, c, 32);
    crypto_core_ed25519_scalar_reduce(cr, wide);      /* B has order L */
    int top = base_terms(&t[0], &t[1], cr);
    top = max_int(top, point_term(&t[2], tp, &P, a, 0));
    top = max_int(top, point_term(&t[3], tq, &Q, b, 0));
    msm(&r, t, 4, top);
    ge_tobytes(out, &r);
    return 0;
}

/* ==== the short pair: c0 = c1 k (mod L), both about sqrt(L) ==== */

typedef struct { uint64_t w[4]; } u256;

static const u256 ORDER = {{ UINT64_C(0x5812631a5cf5d3ed), UINT64_C(0x14def9dea2f79cd6),
                             0, UINT64_C(0x1000000000000000) }};

static inline int bits(const u256 *a)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i]) return 64 * i + 64 - __builtin_clzll(a->w[i]);
    return 0;
}

static inline int cmp(const u256 *a, const u256 *b)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static inline void shl(u256 *r, const u256 *a, int s)   /* s < 256; bits shifted out are lost */
{
    if (s == 0) { *r = *a; return; }
    if (s < 64) {                 /* the usual case: quotients are small */
        r->w[3] = a->w[3] << s | a->w[2] >> (64 - s);
        r->w[2] = a->w[2] << s | a->w[1] >> (64 - s);
        r->w[1] = a->w[1] << s | a->w[0] >> (64 - s);
        r->w[0] = a->w[0] << s;
        return;
    }
    int q = s / 64, b = s % 64;
    u256 t = {{0}};
    for (int i = 3; i >= q; i--) {
        t.w[i] = a->w[i - q] << b;
        if (b && i - q - 1 >= 0) t.w[i] |= a->w[i - q - 1] >> (64 - b);
    }
    *r = t;
}

static inline void sub(u256 *r, const u256 *a, const u256 *b)   /* a >= b */
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a->w[i] - b->w[i] - borrow;
        r->w[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
}

static inline void add(u256 *r, const u256 *a, const u256 *b)   /* no overflow: values < 2^254 */
{
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        u128 s = (u128)a->w[i] + b->w[i] + carry;
        r->w[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
}

static inline void shr1(u256 *a)
{
    a->w[0] = a->w[0] >> 1 | a->w[1] << 63;
    a->w[1] = a->w[1] >> 1 | a->w[2] << 63;
    a->w[2] = a->w[2] >> 1 | a->w[3] << 63;
    a->w[3] >>= 1;
}

/* One Euclid step: (ra, ta) becomes (ra - q rb, ta + q tb) with q =
 * floor(ra / rb), by shifted subtractions, high bit first (q is small
 * almost always). ta and tb are magnitudes: the signs alternate along the
 * sequence. Requires ra >= rb > 0. */
static void euclid_step(u256 *ra, u256 *ta, const u256 *rb, const u256 *tb)
{
    int s = bits(ra) - bits(rb);
    u256 rs, ts;
    if (s == 0) {                 /* q = 1: the commonest quotient */
        sub(ra, ra, rb);
        add(ta, ta, tb);
        return;
    }
    shl(&rs, rb, s);
    shl(&ts, tb, s);
    for (;;) {
        if (cmp(ra, &rs) >= 0) {
            sub(ra, ra, &rs);
            add(ta, ta, &ts);
        }
        if (s-- == 0) break;
        shr1(&rs);
        shr1(&ts);
    }
}

/* The top 62 bits of a starting at bit sh (a < 2^(sh + 62)). */
static uint64_t top62(const u256 *a, int sh)
{
    u256 t = *a;
    int q = sh / 64, b = sh % 64;
    uint64_t lo = t.w[q] >> b;
    if (b && q + 1 < 4) lo |= t.w[q + 1] << (64 - b);
    return lo & ((UINT64_C(1) << 62) - 1);
}

/* r = |m| a as 320 bits (m below 2^62). */
static void mul_small(uint64_t r[5], const u256 *a, uint64_t m)
{
    u128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (u128)a->w[i] * m;
        r[i] = (uint64_t)c;
        c >>= 64;
    }
    r[4] = (uint64_t)c;
}

/* out = x - y for 320-bit x >= y whose difference fits 256 bits. */
static void sub5(u256 *out, const uint64_t x[5], const uint64_t y[5])
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)x[i] - y[i] - borrow;
        out->w[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
}

/* out = |a| x + |b| y (cofactor magnitudes; no overflow: below 2^254). */
static void add_scaled(u256 *out, const u256 *x, int64_t a, const u256 *y, int64_t b)
{
    uint64_t p[5], q[5];
    mul_small(p, x, (uint64_t)(a < 0 ? -a : a));
    mul_small(q, y, (uint64_t)(b < 0 ? -b : b));
    u256 pp = {{ p[0], p[1], p[2], p[3] }}, qq = {{ q[0], q[1], q[2], q[3] }};
    add(out, &pp, &qq);
}

/* out = a x + b y for remainders x > y, a and b of opposite signs (one may
 * be zero); the true result is a later remainder, so it is >= 0. */
static void combine(u256 *out, const u256 *x, int64_t a, const u256 *y, int64_t b)
{
    uint64_t p[5], q[5];
    mul_small(p, x, (uint64_t)(a < 0 ? -a : a));
    mul_small(q, y, (uint64_t)(b < 0 ? -b : b));
    if (a >= 0 && b <= 0) sub5(out, p, q);
    else sub5(out, q, p);
}

/* Lehmer's round (Knuth, TAOCP 4.5.2, Algorithm L): run Euclid on the
 * leading 62 bits of (rp, r) as long as the quotients provably equal the
 * true ones, then apply the steps to the full numbers at once. Stops
 * before a remainder would drop below about 2^127, so that the exact loop
 * ends the sequence where short_pair wants it. @return the number of
 * steps taken (0: the caller takes one exact step). */
static int lehmer_round(u256 *rp, u256 *r, u256 *tp, u256 *t)
{
    int sh = bits(rp) - 62;
    if (sh < 0) sh = 0;
    int64_t x = (int64_t)top62(rp, sh), y = (int64_t)top62(r, sh);
    int64_t A = 1, B = 0, C = 0, D = 1;
    int steps = 0;
    while (y + C != 0 && y + D != 0) {
        int64_t q = (x + A) / (y + C), q2 = (x + B) / (y + D);
        if (q != q2) break;
        int64_t nx = x - q * y;
        if (nx <= 0 || 64 - __builtin_clzll((uint64_t)nx) + sh < 128) break;
        int64_t T = A - q * C; A = C; C = T;
        T = B - q * D; B = D; D = T;
        x = y; y = nx;
        steps++;
    }
    if (steps == 0) return 0;
    u256 nrp, nr, ntp, nt;
    combine(&nrp, rp, A, r, B);
    combine(&nr, rp, C, r, D);
    add_scaled(&ntp, tp, A, t, B);
    add_scaled(&nt, tp, C, t, D);
    *rp = nrp; *r = nr; *tp = ntp; *t = nt;
    return steps;
}

static int max_bits(const u256 *a, const u256 *b)
{
    return max_int(bits(a), bits(b));
}

static void store(uint8_t out[32], const u256 *a)
{
    memcpy(out, a->w, 32);
}

int pel_ed25519_short_pair(const uint8_t k[32], uint8_t c0[32], int *neg0,
                           uint8_t c1[32], int *neg1)
{
    /* r_prev = L, r = k; t_prev = 0, t = 1; r_i = (-1)^i |t_i| k (mod L) */
    u256 v[4] = { ORDER, {{0}}, {{0}}, {{1, 0, 0, 0}} };
    int i = 0;
    memcpy(v[1].w, k, 32);
    u256 *pr = &v[0], *pq = &v[1], *pt = &v[2], *pu = &v[3];   /* rp, r, tp, t */
    while (pq->w[3] | pq->w[2] | pq->w[1] >> 63) {              /* r >= 2^127 */
        int n = lehmer_round(pr, pq, pt, pu);
        if (!n) break;
        i += n;
    }
    while (pq->w[3] | pq->w[2] | pq->w[1] >> 62) {              /* r >= 2^126 */
        euclid_step(pr, pt, pq, pu);
        u256 *x = pr; pr = pq; pq = x;
        x = pt; pt = pu; pu = x;
        i++;
    }
    u256 rp = *pr, r = *pq, tp = *pt, t = *pu;
    if (t.w[0] & 1) {
        store(c0, &r); *neg0 = 0;
        store(c1, &t); *neg1 = i & 1;
        return max_bits(&r, &t);
    }
    /* t even, so t_prev odd: r_prev - j r pairs with t_prev + j t, all odd;
     * take j = 1 or j = q (the next remainder), whichever is shorter. */
    u256 r1, t1, rn = rp, tn = tp;
    sub(&r1, &rp, &r);
    add(&t1, &tp, &t);
    euclid_step(&rn, &tn, &r, &t);
    int b1 = max_bits(&r1, &t1), bn = max_bits(&rn, &tn);
    const u256 *rr = b1 <= bn ? &r1 : &rn, *tt = b1 <= bn ? &t1 : &tn;
    store(c0, rr); *neg0 = 0;
    store(c1, tt); *neg1 = (i - 1) & 1;
    return b1 <= bn ? b1 : bn;
}

/* ==== verification ==== */

/* s < L, the strict check libsodium applies to S. */
static int scalar_canonical(const uint8_t s[32])
{
    u256 a;
    memcpy(a.w, s, 32);
    return cmp(&a, &ORDER) < 0;
}

static int small_order(const ge *p)
{
    ge q = *p;
    ge_done d;
    for (int i = 0; i < 3; i++) {
        ge_dbl(&d, &q);
        done_to_ge(&q, &d);
    }
    return ge_is_zero(&q);
}

static int slow(const uint8_t pk[32], const void *msg, size_t len, const uint8_t sig[64])
{
    static const uint8_t empty[1];
    return crypto_sign_ed25519_verify_detached(sig, len ? msg : empty, len, pk) == 0 ? 0 : -1;
}

static void challenge(uint8_t k[32], const uint8_t sig[64], const uint8_t pk[32],
                      const void *msg, size_t len)
{
    crypto_hash_sha512_state st;
    uint8_t h[64];
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, sig, 32);
    crypto_hash_sha512_update(&st, pk, 32);
    if (len) crypto_hash_sha512_update(&st, msg, len);
    crypto_hash_sha512_final(&st, h);
    crypto_core_ed25519_scalar_reduce(k, h);
}

void pel_ed25519_key_init(pel_ed25519_key *k, const uint8_t pk[32])
{
    ge A;
    init();
    memcpy(k->pk, pk, 32);
    k->ok = ge_frombytes(&A, pk) == 0 && !small_order(&A);
    memcpy(k->x, k->ok ? A.X.v : (uint64_t[5]){0}, sizeof k->x);
}

int pel_ed25519_verify_key(const pel_ed25519_key *k, const void *msg, size_t len,
                           const uint8_t sig[64])
{
    ge A, R, Q;
    ge_cached ta[8], tr[8];
    term t[4];
    uint8_t c[32], c0[32], c1[32], u[32];
    int neg0, neg1;
    init();
    if (!k->ok || !scalar_canonical(sig + 32) || ge_frombytes(&R, sig) != 0 || small_order(&R))
        return slow(k->pk, msg, len, sig);            /* libsodium's own verdict */
    memcpy(A.X.v, k->x, sizeof k->x);
    fe_frombytes(&A.Y, k->pk);
    memset(&A.Z, 0, sizeof A.Z);
    A.Z.v[0] = 1;
    fe_mul(&A.T, &A.X, &A.Y);
    challenge(c, sig, k->pk, msg, len);
    pel_ed25519_short_pair(c, c0, &neg0, c1, &neg1);
    /* [c1 S]B - [c0]A - [c1]R = identity, with c0, c1 signed */
    crypto_core_ed25519_scalar_mul(u, c1, sig + 32);
    if (neg1) crypto_core_ed25519_scalar_negate(u, u);
    int top = base_terms(&t[0], &t[1], u);
    top = max_int(top, point_term(&t[2], ta, &A, c0, !neg0));
    top = max_int(top, point_term(&t[3], tr, &R, c1, !neg1));
    msm(&Q, t, 4, top);
    return ge_is_zero(&Q) ? 0 : -1;
}

int pel_ed25519_verify(const uint8_t pk[32], const void *msg, size_t len, const uint8_t sig[64])
{
    pel_ed25519_key k;
    pel_ed25519_key_init(&k, pk);
    return pel_ed25519_verify_key(&k, msg, len, sig);
}
