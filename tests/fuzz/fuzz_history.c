/* fuzz_history.c - libFuzzer target for the history-tree proof verifiers
 * (history.h). Two properties per input:
 *   1. any (sizes, roots, path) at all: the verifiers return 0 or
 *      PEL_EPROOF, and read no byte past path_len hashes (ASan; the path
 *      is a heap block of exactly that size);
 *   2. a real tree of up to 300 leaves, built here with a recursive
 *      reference (RFC 9162 2.1): a proof for (m, n), edited by the input
 *      (hashes dropped or added, bytes XORed), checked against a nearby
 *      statement (m2, n2) with its true roots, verifies exactly when the
 *      statement is true and the edited path is its reference proof.
 *      Without a SHA-256 collision the verifiers accept one path per true
 *      statement and none for a false one.
 * Input: mode u8, a u16 LE, b u16 LE, length delta u8, statement delta
 * u8, then edit bytes (property 2); the whole input again as sizes u64 LE
 * x2, roots and a path (property 1). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "state/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NMAX 300
#define MAXP PEL_HISTORY_MAX_PATH

typedef uint8_t hash32[32];

static hash32 leaves[NMAX];

/* ---- reference: RFC 9162 2.1, recursively ---- */

static uint64_t ref_k(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}

static void ref_mth(uint64_t lo, uint64_t hi, uint8_t out[32])
{
    if (hi == lo) { pel_sha256(NULL, 0, out); return; }
    if (hi - lo == 1) { memcpy(out, leaves[lo], 32); return; }
    uint64_t k = ref_k(hi - lo);
    uint8_t b[65];
    b[0] = 1;
    ref_mth(lo, lo + k, b + 1);
    ref_mth(lo + k, hi, b + 33);
    pel_sha256(b, sizeof b, out);
}

static void ref_path(uint64_t m, uint64_t lo, uint64_t hi, hash32 *p, size_t *len)
{
    if (hi - lo == 1) return;
    uint64_t k = ref_k(hi - lo);
    if (m < k) { ref_path(m, lo, lo + k, p, len); ref_mth(lo + k, hi, p[(*len)++]); }
    else { ref_path(m - k, lo + k, hi, p, len); ref_mth(lo, lo + k, p[(*len)++]); }
}

static void ref_subproof(uint64_t m, uint64_t lo, uint64_t hi, bool b, hash32 *p, size_t *len)
{
    if (m == hi - lo) { if (!b) ref_mth(lo, hi, p[(*len)++]); return; }
    uint64_t k = ref_k(hi - lo);
    if (m <= k) { ref_subproof(m, lo, lo + k, b, p, len); ref_mth(lo + k, hi, p[(*len)++]); }
    else { ref_subproof(m - k, lo + k, hi, false, p, len); ref_mth(lo, lo + k, p[(*len)++]); }
}

/* ---- property 1: arbitrary arguments ---- */

static void arbitrary(const uint8_t *data, size_t size)
{
    uint8_t r1[32] = { 0 }, r2[32] = { 0 };
    uint64_t s1 = size >= 8 ? pel_le_load(data, 8) : 0;
    uint64_t s2 = size >= 16 ? pel_le_load(data + 8, 8) : 0;
    if (size >= 48) memcpy(r1, data + 16, 32);
    if (size >= 80) memcpy(r2, data + 48, 32);
    size_t off = size >= 80 ? 80 : size, n = (size - off) / 32;
    if (n > 2 * MAXP) n = 2 * MAXP;
    hash32 *path = n ? malloc(n * 32) : NULL;
    if (n && !path) return;
    if (n) memcpy(path, data + off, n * 32);
    const uint8_t (*cp)[32] = (const uint8_t (*)[32])path;
    int rc = pel_history_verify_inclusion(r1, s1, s2, cp, n, r2);
    if (rc != 0 && rc != PEL_EPROOF) abort();
    rc = pel_history_verify_consistency(s1, s2, r1, r2, cp, n);
    if (rc != 0 && rc != PEL_EPROOF) abort();
    /* small sizes reach the interesting branches more often */
    rc = pel_history_verify_consistency(s1 % 64, s2 % 64, r1, r2, cp, n);
    if (rc != 0 && rc != PEL_EPROOF) abort();
    rc = pel_history_verify_inclusion(r1, s1 % 64, s2 % 64, cp, n, r2);
    if (rc != 0 && rc != PEL_EPROOF) abort();
    free(path);
}

/* ---- property 2: one accepted path per statement ---- */

/* edit - copy p (len) to a new heap block of the length the input asks,
 * XOR the edit bytes in. Returns the block (NULL when empty). */
static hash32 *edit(const hash32 *p, size_t len, uint8_t delta, const uint8_t *e, size_t elen,
                    size_t *qlen)
{
    long want = (long)len + (long)(delta % 5) - 2;
    *qlen = want < 0 ? 0 : want > MAXP + 1 ? MAXP + 1 : (size_t)want;
    if (*qlen == 0) return NULL;
    hash32 *q = calloc(*qlen, 32);
    if (!q) abort();
    memcpy(q, p, (len < *qlen ? len : *qlen) * 32);
    for (size_t i = 0; i < elen && i < *qlen * 32; i++)
        ((uint8_t *)q)[i] ^= e[i];
    return q;
}

/* proof - the reference proof for (m, n); false when there is none. */
static bool proof(bool incl, uint64_t m, uint64_t n, hash32 *p, size_t *len)
{
    *len = 0;
    if (n == 0 || n > NMAX || (incl ? m >= n : m == 0 || m > n)) return false;
    if (incl) ref_path(m, 0, n, p, len);
    else ref_subproof(m, 0, n, true, p, len);
    return true;
}

/* one_path - take the proof for (m, n), edit it, and check it against the
 * nearby statement (m2, n2) with its true roots: accepted exactly when the
 * statement is true (for inclusion: the leaf is leaf m, so m2 == m) and
 * the edited path is that statement's proof. */
static void one_path(const uint8_t *data, size_t size)
{
    if (size < 7) return;
    bool incl = data[0] & 1;
    uint64_t n = 1 + pel_le_load(data + 3, 2) % NMAX;
    uint64_t m = incl ? pel_le_load(data + 1, 2) % n : 1 + pel_le_load(data + 1, 2) % n;
    uint64_t m2 = m + data[6] % 5 - 2, n2 = n + data[6] / 5 % 5 - 2;   /* m2 may wrap */
    if (n2 > NMAX) return;   /* no true roots to check against (property 1 covers it) */
    hash32 p[MAXP], want[MAXP];
    size_t len, wlen, qlen;
    proof(incl, m, n, p, &len);
    bool exists = proof(incl, m2, n2, want, &wlen) && (!incl || m2 == m);
    uint8_t r1[32], r2[32];
    ref_mth(0, m2 <= n2 ? m2 : 0, r1);
    ref_mth(0, n2, r2);
    hash32 *q = edit(p, len, data[5], data + 7, size - 7, &qlen);
    bool same = exists && qlen == wlen && (wlen == 0 || memcmp(q, want, wlen * 32) == 0);
    const uint8_t (*cq)[32] = (const uint8_t (*)[32])q;
    int rc = incl ? pel_history_verify_inclusion(leaves[m], m2, n2, cq, qlen, r2)
                  : pel_history_verify_consistency(m2, n2, r1, r2, cq, qlen);
    if (same ? rc != 0 : rc != PEL_EPROOF) abort();
    free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        for (uint64_t i = 0; i < NMAX; i++) {
            uint8_t b[8];
            pel_le_store(b, i, 8);
            pel_history_leaf_hash(b, sizeof b, leaves[i]);
        }
        ready = true;
    }
    if (size > 4096) return 0;
    one_path(data, size);
    arbitrary(data, size);
    return 0;
}
