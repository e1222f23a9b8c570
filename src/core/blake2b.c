/*
 * blake2b.c - BLAKE2b-256 of short inputs, four at a time (see blake2b.h).
 *
 * RFC 7693 with the parameter block of an unkeyed 32-byte digest (digest
 * length 32, fanout 1, depth 1: h[0] = IV[0] ^ 0x01010020) and one, final
 * block: counter t = len, last-block flag f0 = ~0. The four-way version
 * keeps each of the 16 working words v[i] in a 256-bit vector whose lane
 * k belongs to input k, and each message word likewise, so the rounds are
 * the scalar rounds with every operation done on four lanes: no shuffles
 * between lanes, only the rotations within each 64-bit lane.
 */
#include "core/blake2b.h"

#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_X4 1
#endif

/* one - the libsodium call, for a lone input and CPUs without AVX2. */
static void one(const pel_blake2b_job *j)
{
    static const uint8_t none[1];
    if (j->len > PEL_BLAKE2B_BLOCK) { memset(j->out, 0, 32); return; }
    (void)crypto_generichash(j->out, 32, j->len ? j->in : none, j->len, NULL, 0);
}

#ifdef HAVE_X4

static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

static const uint8_t SIGMA[12][16] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
    { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
    { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
    { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
    { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
    { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
    { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
    { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
    { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
};

#define AVX2 __attribute__((target("avx2")))
#define LL(x) ((long long)(x))
#define ADD _mm256_add_epi64
#define XOR _mm256_xor_si256
/* rotations right by 32, 24, 16 (byte shuffles) and 63 (x >> 63 ^ x << 1) */
#define ROTR32(x) _mm256_shuffle_epi32((x), _MM_SHUFFLE(2, 3, 0, 1))
#define ROTR24(x) _mm256_shuffle_epi8((x), r24)
#define ROTR16(x) _mm256_shuffle_epi8((x), r16)
#define ROTR63(x) XOR(_mm256_srli_epi64((x), 63), ADD((x), (x)))
#define G(a, b, c, d, x, y) do { \
    a = ADD(ADD(a, b), x); d = ROTR32(XOR(d, a)); c = ADD(c, d); b = ROTR24(XOR(b, c)); \
    a = ADD(ADD(a, b), y); d = ROTR16(XOR(d, a)); c = ADD(c, d); b = ROTR63(XOR(b, c)); \
} while (0)

/* rounds - the 12 rounds of the compression on four lanes. */
AVX2 static void rounds(__m256i v[16], const __m256i m[16])
{
    const __m256i r24 = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10,
                                         3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
    const __m256i r16 = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9,
                                         2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
#pragma GCC unroll 12
    for (unsigned r = 0; r < 12; r++) {
        const uint8_t *s = SIGMA[r];
        G(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
        G(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
        G(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
        G(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
        G(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
        G(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
        G(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
        G(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
    }
}

/* x4 - four digests; lengths checked by the caller. Lane k is job k. */
AVX2 static void x4(pel_blake2b_job *const j[4])
{
    uint64_t w[4][16], o[4][4];   /* little-endian words: x86 loads them as is */
    __m256i m[16], v[16];
    for (unsigned k = 0; k < 4; k++) {
        memset(w[k], 0, sizeof w[k]);
        if (j[k]->len) memcpy(w[k], j[k]->in, j[k]->len);
    }
    for (unsigned i = 0; i < 16; i++)
        m[i] = _mm256_setr_epi64x(LL(w[0][i]), LL(w[1][i]), LL(w[2][i]), LL(w[3][i]));
    for (unsigned i = 0; i < 8; i++) {
        v[i] = _mm256_set1_epi64x(LL(i ? IV[i] : IV[0] ^ 0x01010020ull));
        v[i + 8] = _mm256_set1_epi64x(LL(IV[i]));
    }
    v[12] = XOR(v[12], _mm256_setr_epi64x(LL(j[0]->len), LL(j[1]->len), LL(j[2]->len),
                                          LL(j[3]->len)));
    v[14] = _mm256_set1_epi64x(LL(~IV[6]));
    rounds(v, m);
    for (unsigned i = 0; i < 4; i++)   /* h'[i] = h[i] ^ v[i] ^ v[i + 8] */
        _mm256_storeu_si256((__m256i *)(void *)o[i],
                            XOR(_mm256_set1_epi64x(LL(i ? IV[i] : IV[0] ^ 0x01010020ull)),
                                XOR(v[i], v[i + 8])));
    for (unsigned k = 0; k < 4; k++)
        for (unsigned i = 0; i < 4; i++) memcpy(j[k]->out + 8 * i, &o[i][k], 8);
}

/* group - jobs [0, n) (2 <= n <= 4) through x4, idle lanes repeating
 * the first input into a scratch output. */
static void group(pel_blake2b_job *job, size_t n)
{
    uint8_t spare[32];
    pel_blake2b_job idle = { job[0].in, job[0].len, spare };
    pel_blake2b_job *g[4];
    for (size_t k = 0; k < 4; k++) g[k] = k < n ? &job[k] : &idle;
    x4(g);
}

#endif

static bool fits(const pel_blake2b_job *job, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (job[k].len > PEL_BLAKE2B_BLOCK) return false;
    return true;
}

void pel_blake2b_batch(pel_blake2b_job *job, size_t n)
{
    size_t i = 0;
#ifdef HAVE_X4
    if (__builtin_cpu_supports("avx2")) {
        while (n - i >= 2) {
            size_t g = n - i < 4 ? n - i : 4;
            if (fits(job + i, g)) group(job + i, g);
            else for (size_t k = i; k < i + g; k++) one(&job[k]);
            i += g;
        }
    }
#endif
    for (; i < n; i++) one(&job[i]);
}
