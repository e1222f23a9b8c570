/* test_history.c - the RFC 9162 history tree against a straightforward
 * recursive reference (MTH, PATH, PROOF/SUBPROOF exactly as RFC 9162
 * section 2.1 writes them) for every size up to 1000; the Certificate
 * Transparency known answers; proofs mutated every way the verifiers must
 * reject; the stored layout record by record; appends across committed,
 * aborted and mis-sized transactions; proofs read while blocks commit;
 * and rough rates (printed, never asserted).
 * Seed: printed on start; replay with PEL_TEST_SEED=<seed>.
 * PEL_TEST_ITERS sets the number of random (index, size) pairs of each
 * kind (default 1500). Under ThreadSanitizer (PEL_TEST_TSAN=1), where the
 * point is the concurrent reads, the exhaustive ranges shrink (every pair
 * to sizes 100 and 60) and the rates are skipped. */
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/hex.h"
#include "state/history.h"
#include "test.h"
#include "tmpdir.h"

#define NMAX 1000
#define MIB (1ull << 20)
#define MAXP PEL_HISTORY_MAX_PATH

typedef uint8_t hash32[32];

static uint64_t rng_state;
static uint64_t incl_all = 300, cons_all = 200, pairs_dflt = 1500;   /* see top */

static uint64_t rnd(void)   /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n) { return rnd() % n; }

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- store helpers ---- */

static char *tmpdir(void) { return test_tmpdir("pel_history_"); }

static pel_store *open_store(const char *dir, uint64_t map)
{
    pel_store_opts o = pel_store_defaults();
    o.map_size = map;
    pel_store *s = NULL;
    int rc = pel_store_open(dir, &o, &s);
    if (rc) { fprintf(stderr, "cannot open %s: %s\n", dir, pel_strerror(rc)); exit(1); }
    return s;
}

/* append_commit - one transaction appending n leaves at `size`. */
static int append_commit(pel_store *s, uint64_t size, const hash32 *leaves, uint32_t n,
                         uint8_t root[32])
{
    pel_store_txn *w;
    int rc = pel_store_begin(s, &w);
    if (rc) return rc;
    rc = pel_history_append(w, size, leaves, n, root);
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

static void hex32(const char *hex, uint8_t out[32])
{
    size_t n = 0;
    if (pel_hex_decode(hex, strlen(hex), out, 32, &n) != 0 || n != 32) {
        fprintf(stderr, "bad hex constant %s\n", hex);
        exit(1);
    }
}

/* ---- the reference: RFC 9162 2.1 written out recursively ---- */

static hash32 L[NMAX];            /* the leaf hashes of the shared tree */
static hash32 *memo;              /* MTH(D[lo:hi]) at lo * (NMAX + 1) + hi */
static uint8_t *memo_ok;

static void ref_node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
    uint8_t b[65];
    b[0] = 1;
    memcpy(b + 1, l, 32);
    memcpy(b + 33, r, 32);
    pel_sha256(b, 65, out);
}

static uint64_t ref_k(uint64_t n)   /* largest power of two smaller than n */
{
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}

static void ref_mth(uint64_t lo, uint64_t hi, uint8_t out[32])
{
    size_t at = (size_t)(lo * (NMAX + 1) + hi);
    if (memo_ok[at]) { memcpy(out, memo[at], 32); return; }
    if (hi == lo) {
        pel_sha256(NULL, 0, out);
    } else if (hi - lo == 1) {
        memcpy(out, L[lo], 32);
    } else {
        uint64_t k = ref_k(hi - lo);
        uint8_t a[32], b[32];
        ref_mth(lo, lo + k, a);
        ref_mth(lo + k, hi, b);
        ref_node(a, b, out);
    }
    memcpy(memo[at], out, 32);
    memo_ok[at] = 1;
}

/* PATH(m, D[lo:hi]) appended to p. */
static void ref_path(uint64_t m, uint64_t lo, uint64_t hi, hash32 *p, size_t *len)
{
    if (hi - lo == 1) return;
    uint64_t k = ref_k(hi - lo);
    if (m < k) {
        ref_path(m, lo, lo + k, p, len);
        ref_mth(lo + k, hi, p[(*len)++]);
    } else {
        ref_path(m - k, lo + k, hi, p, len);
        ref_mth(lo, lo + k, p[(*len)++]);
    }
}

/* SUBPROOF(m, D[lo:hi], b) appended to p. */
static void ref_subproof(uint64_t m, uint64_t lo, uint64_t hi, bool b, hash32 *p, size_t *len)
{
    if (m == hi - lo) {
        if (!b) ref_mth(lo, hi, p[(*len)++]);
        return;
    }
    uint64_t k = ref_k(hi - lo);
    if (m <= k) {
        ref_subproof(m, lo, lo + k, b, p, len);
        ref_mth(lo + k, hi, p[(*len)++]);
    } else {
        ref_subproof(m - k, lo + k, hi, false, p, len);
        ref_mth(lo, lo + k, p[(*len)++]);
    }
}

static unsigned ceil_log2(uint64_t n)
{
    unsigned c = 0;
    while ((1ull << c) < n) c++;
    return c;
}

/* ---- the shared tree: NMAX leaves appended in random batches ---- */

static char *shared_dir;
static pel_store *shared;

static void make_leaves(void)
{
    for (int i = 0; i < NMAX; i++) {
        uint8_t txid[32], rd[32];
        for (int j = 0; j < 32; j++) { txid[j] = (uint8_t)rnd(); rd[j] = (uint8_t)rnd(); }
        pel_history_leaf(rnd() % 100, (uint32_t)rnd(), txid, rd, L[i]);
    }
    memo = calloc((size_t)(NMAX + 1) * (NMAX + 1), sizeof *memo);
    memo_ok = calloc((size_t)(NMAX + 1) * (NMAX + 1), 1);
    if (!memo || !memo_ok) { perror("calloc"); exit(1); }
}

/* ---- known answers ---- */

/* The leaves of the Certificate Transparency Merkle test vectors
 * (certificate-transparency merkle_tree_test, also transparency-dev/merkle),
 * recomputed independently with Python's hashlib for this file. */
static const char *const ct_leaf_hex[8] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const ct_root_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void ct_leaves(hash32 out[8])
{
    for (int i = 0; i < 8; i++) {
        uint8_t b[16];
        size_t n = 0;
        const char *h = ct_leaf_hex[i];
        CHECK_EQ_INT(pel_hex_decode(h, strlen(h), b, sizeof b, &n), 0);
        pel_history_leaf_hash(b, n, out[i]);
    }
}

/* check_path_is - path equals the hex list exactly. */
static bool path_is(hash32 *p, size_t len, const char *const *hex, size_t n)
{
    if (len != n) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t want[32];
        hex32(hex[i], want);
        if (memcmp(p[i], want, 32) != 0) return false;
    }
    return true;
}

static void ct_vectors_roots_and_proofs(void)
{
    hash32 lv[8], p[MAXP];
    uint8_t root[32], want[32];
    size_t len;
    ct_leaves(lv);
    char *dir = tmpdir();
    pel_store *s = open_store(dir, 16 * MIB);
    uint64_t size = 0;
    for (uint32_t n = 0; n <= 8; n++) {           /* append one by one */
        if (n) CHECK_EQ_INT(append_commit(s, size++, &lv[n - 1], 1, root), 0);
        hex32(ct_root_hex[n], want);
        if (n) CHECK_MEM(root, want, 32);
        pel_history_root_of(lv, n, root);
        CHECK_MEM(root, want, 32);
        CHECK_EQ_INT(pel_history_root(s, n, root), 0);
        CHECK_MEM(root, want, 32);
    }
    static const char *const i08[] = {
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" };
    static const char *const i58[] = {
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" };
    static const char *const i23[] = {
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" };
    static const char *const c68[] = {
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" };
    static const char *const c25[] = {
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" };
    static const char *const c47[] = {
        "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e" };
    static const char *const c37[] = {   /* RFC 9162 2.1.5's PROOF(3, D[7]) = [c, d, g, l] */
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e" };
    struct { uint64_t m, n; const char *const *hex; size_t len; bool incl; } kv[] = {
        { 0, 8, i08, 3, true }, { 5, 8, i58, 3, true }, { 2, 3, i23, 1, true },
        { 1, 8, i08, 3, false }, { 6, 8, c68, 3, false }, { 2, 5, c25, 2, false },
        { 4, 7, c47, 1, false }, { 3, 7, c37, 4, false }, { 1, 1, NULL, 0, false },
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        int rc = kv[i].incl ? pel_history_prove_inclusion(s, kv[i].m, kv[i].n, p, &len)
                            : pel_history_prove_consistency(s, kv[i].m, kv[i].n, p, &len);
        CHECK_EQ_INT(rc, 0);
        CHECK(path_is(p, len, kv[i].hex, kv[i].len));
        uint8_t r1[32], r2[32];
        hex32(ct_root_hex[kv[i].m], r1);
        hex32(ct_root_hex[kv[i].n], r2);
        if (kv[i].incl)
            CHECK_EQ_INT(pel_history_verify_inclusion(lv[kv[i].m], kv[i].m, kv[i].n,
                                                      p, len, r2), 0);
        else
            CHECK_EQ_INT(pel_history_verify_consistency(kv[i].m, kv[i].n, r1, r2, p, len), 0);
    }
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void hand_derived_small_trees(void)
{
    uint8_t e[32], want[32], l0[32], l1[32], l2[32], b[65], root[32];
    pel_history_empty_root(e);
    hex32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want);
    CHECK_MEM(e, want, 32);
    pel_history_root_of(NULL, 0, root);
    CHECK_MEM(root, want, 32);
    /* leaf "": SHA-256(00) */
    pel_history_leaf_hash(NULL, 0, l0);
    b[0] = 0;
    pel_sha256(b, 1, want);
    CHECK_MEM(l0, want, 32);
    b[0] = 0; b[1] = 'a';
    pel_sha256(b, 2, l1);
    pel_history_leaf_hash("a", 1, want);
    CHECK_MEM(l1, want, 32);
    b[0] = 0; b[1] = 'b';
    pel_sha256(b, 2, l2);
    hash32 lv[3];
    memcpy(lv[0], l0, 32); memcpy(lv[1], l1, 32); memcpy(lv[2], l2, 32);
    pel_history_root_of(lv, 1, root);
    CHECK_MEM(root, l0, 32);                      /* one leaf: its own hash */
    b[0] = 1; memcpy(b + 1, l0, 32); memcpy(b + 33, l1, 32);
    uint8_t n01[32];
    pel_sha256(b, 65, n01);
    pel_history_root_of(lv, 2, root);
    CHECK_MEM(root, n01, 32);                     /* H(01 || l0 || l1) */
    pel_history_node_hash(l0, l1, root);
    CHECK_MEM(root, n01, 32);
    b[0] = 1; memcpy(b + 1, n01, 32); memcpy(b + 33, l2, 32);
    pel_sha256(b, 65, want);
    pel_history_root_of(lv, 3, root);
    CHECK_MEM(root, want, 32);                    /* split k = 2, not 1 */
    memcpy(root, l0, 32);                         /* node_hash may alias */
    pel_history_node_hash(root, l1, root);
    CHECK_MEM(root, n01, 32);
}

static void leaf_bytes_are_documented(void)
{
    uint8_t txid[32], rd[32], got[32], want[32], b[1 + PEL_HISTORY_LEAF_LEN];
    for (int i = 0; i < 32; i++) { txid[i] = (uint8_t)i; rd[i] = (uint8_t)(0xa0 + i); }
    pel_history_leaf(0x0102030405060708ull, 0x0a0b0c0du, txid, rd, got);
    hex32("9ad652bab9dd5f86c1f17b1d48af711bfe2bd2092fe5dfa13437af051a15e2c5", want);
    CHECK_MEM(got, want, 32);                     /* golden, from hashlib */
    static const uint8_t head[13] = { 0x00, 8, 7, 6, 5, 4, 3, 2, 1, 0x0d, 0x0c, 0x0b, 0x0a };
    memcpy(b, head, 13);
    memcpy(b + 13, txid, 32);
    memcpy(b + 45, rd, 32);
    pel_sha256(b, sizeof b, want);
    CHECK_MEM(got, want, 32);
    pel_history_leaf(0x0102030405060708ull, 0x0a0b0c0eu, txid, rd, want);
    CHECK(memcmp(got, want, 32) != 0);            /* every field counts */
    pel_history_leaf(0x0102030405060709ull, 0x0a0b0c0du, txid, rd, want);
    CHECK(memcmp(got, want, 32) != 0);
    rd[31] ^= 1;
    pel_history_leaf(0x0102030405060708ull, 0x0a0b0c0du, txid, rd, want);
    CHECK(memcmp(got, want, 32) != 0);
}

/* ---- roots, and the stored layout ---- */

static void stored_roots_every_size(void)
{
    shared_dir = tmpdir();
    shared = open_store(shared_dir, 64 * MIB);
    uint8_t root[32], want[32];
    uint64_t size = 0;
    CHECK_EQ_INT(pel_history_root(shared, 0, root), 0);
    ref_mth(0, 0, want);
    CHECK_MEM(root, want, 32);
    while (size < NMAX) {                         /* random batches, 0..40 */
        uint32_t n = (uint32_t)below(41);
        if (n > NMAX - size) n = (uint32_t)(NMAX - size);
        CHECK_EQ_INT(append_commit(shared, size, L + size, n, root), 0);
        size += n;
        ref_mth(0, size, want);
        CHECK_MEM(root, want, 32);
    }
    int bad_store = 0, bad_mem = 0;
    for (uint64_t n = 0; n <= NMAX; n++) {
        ref_mth(0, n, want);
        if (pel_history_root(shared, n, root) != 0 || memcmp(root, want, 32) != 0) bad_store++;
        pel_history_root_of(L, n, root);
        if (memcmp(root, want, 32) != 0) bad_mem++;
    }
    CHECK_EQ_INT(bad_store, 0);
    CHECK_EQ_INT(bad_mem, 0);
}

/* The records of a tree in the order appends complete them (post-order),
 * enumerated the plain way: leaf i, then each parent it completes. */
typedef struct node_id { unsigned level; uint64_t index; } node_id;

static size_t post_order(uint64_t n, node_id *out)
{
    size_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        out[k++] = (node_id){ 0, i };
        for (uint64_t x = i, l = 0; x & 1; ) { x >>= 1; l++; out[k++] = (node_id){ (unsigned)l, x }; }
    }
    return k;
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) { out[i] = (uint8_t)v; v >>= 8; }
}

typedef struct count_acc { uint64_t records, bad; const node_id *want; size_t nwant; } count_acc;

/* count_cb - record number r has key r (u64 BE) and the MTH of the r-th
 * node in post-order (when want is given). */
static int count_cb(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    count_acc *a = arg;
    uint8_t key[8], mth[32];
    be64(key, a->records);
    if (klen != 8 || vlen != 32 || memcmp(k, key, 8) != 0) a->bad++;
    else if (a->want && a->records < a->nwant) {
        node_id id = a->want[a->records];
        ref_mth(id.index << id.level, (id.index + 1) << id.level, mth);
        if (memcmp(v, mth, 32) != 0) a->bad++;
    } else if (a->want) a->bad++;
    a->records++;
    return 0;
}

static count_acc count_records(pel_store *s, const node_id *want, size_t nwant)
{
    count_acc a = { 0, 0, want, nwant };
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_HISTORY, NULL, 0, NULL, 0, count_cb, &a), 0);
    return a;
}

/* Exactly one record per complete subtree, keyed by its post-order
 * position, holding the MTH of its leaves; the header's worked example. */
static void stored_layout_is_post_order(void)
{
    static node_id want[2 * NMAX];
    size_t nwant = post_order(NMAX, want);
    count_acc a = count_records(shared, want, nwant);
    CHECK_EQ_INT(a.records, 1994);                /* 2n - popcount(n), n = 1000 */
    CHECK_EQ_INT(nwant, 1994);
    CHECK_EQ_INT(a.bad, 0);
    /* history.h: leaf 0 -> 0, leaf 1 -> 1, parent -> 2, leaf 2 -> 3,
     * leaf 3 -> 4, parent -> 5, node over 0..3 -> 6, leaf 4 -> 7 */
    static const struct { uint64_t key, lo, hi; } ex[] = {
        { 0, 0, 1 }, { 1, 1, 2 }, { 2, 0, 2 }, { 3, 2, 3 }, { 4, 3, 4 },
        { 5, 2, 4 }, { 6, 0, 4 }, { 7, 4, 5 }, { 1993, 992, 1000 },
    };
    pel_buf b;
    pel_buf_init(&b);
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        uint8_t key[8], mth[32];
        be64(key, ex[i].key);
        ref_mth(ex[i].lo, ex[i].hi, mth);
        CHECK_EQ_INT(pel_store_get(shared, PEL_T_HISTORY, key, 8, &b), 0);
        CHECK(b.len == 32 && memcmp(b.data, mth, 32) == 0);
    }
    uint8_t key[8];
    be64(key, 1994);                              /* nothing past the end */
    CHECK_EQ_INT(pel_store_get(shared, PEL_T_HISTORY, key, 8, &b), PEL_ENOTFOUND);
    pel_buf_free(&b);
    uint64_t size = 0;
    CHECK_EQ_INT(pel_history_size(shared, &size), 0);
    CHECK_EQ_INT(size, NMAX);
}

/* ---- proofs against the reference, and their mutations ---- */

/* The verifier must reject; ctx names the case when it does not. */
static void must_fail(int rc, const char *what, uint64_t a, uint64_t b)
{
    CHECK_EQ_INT(rc, PEL_EPROOF);
    if (rc != PEL_EPROOF)
        fprintf(stderr, "  accepted %s for (%" PRIu64 ", %" PRIu64 ")\n", what, a, b);
}

static int vi(const uint8_t *leaf, uint64_t m, uint64_t n, hash32 *p, size_t len,
              const uint8_t *root)
{
    return pel_history_verify_inclusion(leaf, m, n, (const uint8_t (*)[32])p, len, root);
}

static int vc(uint64_t m, uint64_t n, const uint8_t *r1, const uint8_t *r2, hash32 *p, size_t len)
{
    return pel_history_verify_consistency(m, n, r1, r2, (const uint8_t (*)[32])p, len);
}

/* How hard to edit a proof: not at all (the reference comparison and the
 * wrong-argument checks only), one random bit of each element, or every
 * bit of each element. */
enum { EDIT_NONE, EDIT_BIT, EDIT_ALL_BITS };

/* path_edits - every path derived from p by one edit: one bit flipped in
 * each element (every bit with EDIT_ALL_BITS), each element removed, one
 * element added at the front, at the back and in the middle (a copy of its
 * neighbour). Calls check(arg, q, qlen) for each; all must fail. */
typedef void (*edit_check)(void *arg, hash32 *q, size_t qlen, const char *what);

static void path_edits(hash32 *p, size_t len, int edits, edit_check check, void *arg)
{
    hash32 q[MAXP + 1];
    if (edits == EDIT_NONE) return;
    for (size_t i = 0; i < len; i++) {
        unsigned nb = edits == EDIT_ALL_BITS ? 256 : 1;
        for (unsigned j = 0; j < nb; j++) {
            unsigned bit = edits == EDIT_ALL_BITS ? j : (unsigned)below(256);
            memcpy(q, p, len * 32);
            q[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
            check(arg, q, len, "a flipped bit");
        }
        memcpy(q, p, i * 32);                     /* element i removed */
        memcpy(q + i, p + i + 1, (len - i - 1) * 32);
        check(arg, q, len - 1, "an element removed");
    }
    for (int where = 0; where < 3 && len < MAXP; where++) {
        size_t at = where == 0 ? 0 : where == 1 ? len : len / 2;
        memcpy(q, p, at * 32);
        for (int j = 0; j < 32; j++) q[at][j] = (uint8_t)rnd();
        if (where == 2 && len) memcpy(q[at], p[at > 0 ? at - 1 : 0], 32);  /* a duplicate */
        memcpy(q + at + 1, p + at, (len - at) * 32);
        check(arg, q, len + 1, "an element added");
    }
}

typedef struct incl_case { uint64_t m, n; const uint8_t *root; } incl_case;

static void incl_edit_check(void *arg, hash32 *q, size_t qlen, const char *what)
{
    incl_case *c = arg;
    must_fail(vi(L[c->m], c->m, c->n, q, qlen, c->root), what, c->m, c->n);
}

/* check_inclusion - the stored tree's proof for (m, n) is the reference's,
 * within the size bound, verifies, and every wrong variant fails. */
static void check_inclusion(uint64_t m, uint64_t n, int edits)
{
    hash32 p[MAXP], ref[MAXP];
    size_t len = 99, rlen = 0;
    uint8_t root[32], other[32];
    CHECK_EQ_INT(pel_history_prove_inclusion(shared, m, n, p, &len), 0);
    ref_path(m, 0, n, ref, &rlen);
    bool same = len == rlen && memcmp(p, ref, len * 32) == 0;
    CHECK(same);
    CHECK(len <= ceil_log2(n));
    if (!same) fprintf(stderr, "  path differs for (%" PRIu64 ", %" PRIu64 ")\n", m, n);
    ref_mth(0, n, root);
    CHECK_EQ_INT(vi(L[m], m, n, p, len, root), 0);
    memcpy(other, root, 32);
    other[below(32)] ^= (uint8_t)(1u << below(8));
    must_fail(vi(L[m], m, n, p, len, other), "another root", m, n);
    ref_mth(0, n < NMAX ? n + 1 : n - 1, other);
    must_fail(vi(L[m], m, n, p, len, other), "the next tree's root", m, n);
    must_fail(vi(L[(m + 1) % NMAX], m, n, p, len, root), "another leaf", m, n);
    if (n > 1) {
        uint64_t m2 = (m + 1 + below(n - 1)) % n;
        must_fail(vi(L[m], m2, n, p, len, root), "another index", m, n);
    }
    uint64_t n2 = m + 1 + below(NMAX - m);        /* another size, its own root */
    if (n2 != n) {
        ref_mth(0, n2, other);
        must_fail(vi(L[m], m, n2, p, len, other), "another size", m, n);
    }
    must_fail(vi(L[m], n, n, p, len, root), "index == size", m, n);
    incl_case c = { m, n, root };
    path_edits(p, len, edits, incl_edit_check, &c);
}

/* edits_for - every bit up to size 16, every element up to 100, and past
 * that the reference comparison and wrong arguments only (the random pairs
 * edit every proof): the verifiers cost one SHA-256 per step. */
static int edits_for(uint64_t n)
{
    return n <= 16 ? EDIT_ALL_BITS : n <= 100 ? EDIT_BIT : EDIT_NONE;
}

static void inclusion_every_pair_to_300(void)
{
    for (uint64_t n = 1; n <= incl_all; n++)
        for (uint64_t m = 0; m < n; m++)
            check_inclusion(m, n, edits_for(n));
}

static void inclusion_random_pairs_to_1000(void)
{
    uint64_t iters = test_env_u64("PEL_TEST_ITERS", pairs_dflt);
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t n = 1 + below(NMAX);
        check_inclusion(below(n), n, i < 20 ? EDIT_ALL_BITS : EDIT_BIT);
    }
    check_inclusion(NMAX - 1, NMAX, EDIT_ALL_BITS);
    check_inclusion(0, NMAX, EDIT_ALL_BITS);
    check_inclusion(511, 512, EDIT_ALL_BITS);
}

typedef struct cons_case { uint64_t m, n; const uint8_t *r1, *r2; } cons_case;

static void cons_edit_check(void *arg, hash32 *q, size_t qlen, const char *what)
{
    cons_case *c = arg;
    must_fail(vc(c->m, c->n, c->r1, c->r2, q, qlen), what, c->m, c->n);
}

/* check_consistency - as check_inclusion, for PROOF(m, D[n]). */
static void check_consistency(uint64_t m, uint64_t n, int edits)
{
    hash32 p[MAXP], ref[MAXP];
    size_t len = 99, rlen = 0;
    uint8_t r1[32], r2[32], other[32];
    CHECK_EQ_INT(pel_history_prove_consistency(shared, m, n, p, &len), 0);
    ref_subproof(m, 0, n, true, ref, &rlen);
    bool same = len == rlen && memcmp(p, ref, len * 32) == 0;
    CHECK(same);
    CHECK(len <= ceil_log2(n) + 1);
    if (!same) fprintf(stderr, "  proof differs for (%" PRIu64 ", %" PRIu64 ")\n", m, n);
    ref_mth(0, m, r1);
    ref_mth(0, n, r2);
    CHECK_EQ_INT(vc(m, n, r1, r2, p, len), 0);
    memcpy(other, r1, 32);
    other[below(32)] ^= (uint8_t)(1u << below(8));
    must_fail(vc(m, n, other, r2, p, len), "another first root", m, n);
    memcpy(other, r2, 32);
    other[below(32)] ^= (uint8_t)(1u << below(8));
    must_fail(vc(m, n, r1, other, p, len), "another second root", m, n);
    if (m < n) {
        ref_mth(0, m + 1, other);
        must_fail(vc(m, n, other, r2, p, len), "the next tree as first", m, n);
        ref_mth(0, n - 1, other);
        must_fail(vc(m, n, r1, other, p, len), "the previous tree as second", m, n);
    }
    uint64_t m2 = 1 + below(n);                   /* another first size, its own root */
    if (m2 != m) {
        ref_mth(0, m2, other);
        must_fail(vc(m2, n, other, r2, p, len), "another first size", m, n);
    }
    uint64_t n2 = m + below(NMAX - m + 1);        /* another second size */
    if (n2 != n) {
        ref_mth(0, n2, other);
        must_fail(vc(m, n2, r1, other, p, len), "another second size", m, n);
    }
    if (m < n) must_fail(vc(n, m, r2, r1, p, len), "swapped sizes", m, n);
    cons_case c = { m, n, r1, r2 };
    path_edits(p, len, edits, cons_edit_check, &c);
}

static void consistency_every_pair_to_200(void)
{
    for (uint64_t n = 1; n <= cons_all; n++)
        for (uint64_t m = 1; m <= n; m++)
            check_consistency(m, n, edits_for(n));
}

static void consistency_random_pairs_to_1000(void)
{
    uint64_t iters = test_env_u64("PEL_TEST_ITERS", pairs_dflt);
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t n = 1 + below(NMAX), m = 1 + below(n);
        check_consistency(m, n, i < 20 ? EDIT_ALL_BITS : EDIT_BIT);
    }
    check_consistency(1, NMAX, EDIT_ALL_BITS);
    check_consistency(NMAX - 1, NMAX, EDIT_ALL_BITS);
    check_consistency(512, NMAX, EDIT_ALL_BITS);
    check_consistency(511, 512, EDIT_ALL_BITS);
}

/* ---- edge cases the RFC names ---- */

static void verify_edge_cases(void)
{
    uint8_t e[32], r1[32], r5[32];
    hash32 p[MAXP];
    size_t len;
    pel_history_empty_root(e);
    ref_mth(0, 1, r1);
    ref_mth(0, 5, r5);
    /* inclusion: index >= size fails (RFC step 1), even size 0 */
    must_fail(pel_history_verify_inclusion(L[0], 0, 0, NULL, 0, e), "size 0", 0, 0);
    must_fail(pel_history_verify_inclusion(L[0], 1, 1, NULL, 0, r1), "index 1 of 1", 1, 1);
    CHECK_EQ_INT(pel_history_verify_inclusion(L[0], 0, 1, NULL, 0, r1), 0);
    must_fail(pel_history_verify_inclusion(L[1], 0, 1, NULL, 0, r1), "another leaf", 0, 1);
    /* consistency: equal sizes need an empty path and equal roots */
    CHECK_EQ_INT(pel_history_verify_consistency(5, 5, r5, r5, NULL, 0), 0);
    must_fail(pel_history_verify_consistency(5, 5, r5, r1, NULL, 0), "5 -> 5 other root", 5, 5);
    memcpy(p[0], r5, 32);
    must_fail(pel_history_verify_consistency(5, 5, r5, r5, (const uint8_t (*)[32])p, 1),
              "5 -> 5 non-empty", 5, 5);
    /* size1 == 0: no proof exists, whatever the roots */
    must_fail(pel_history_verify_consistency(0, 5, e, r5, NULL, 0), "0 -> 5", 0, 5);
    must_fail(pel_history_verify_consistency(0, 0, e, e, NULL, 0), "0 -> 0", 0, 0);
    must_fail(pel_history_verify_consistency(5, 1, r5, r1, NULL, 0), "5 -> 1", 5, 1);
    /* RFC step 1: an empty path never proves 0 < size1 < size2 */
    must_fail(pel_history_verify_consistency(1, 5, r1, r5, NULL, 0), "1 -> 5 empty", 1, 5);
    /* size1 a power of two: the proof omits root1; sending it fails */
    uint8_t r4[32], r8[32];
    ref_mth(0, 4, r4);
    ref_mth(0, 8, r8);
    CHECK_EQ_INT(pel_history_prove_consistency(shared, 4, 8, p, &len), 0);
    CHECK_EQ_INT(len, 1);                          /* just MTH(D[4:8]) */
    CHECK_EQ_INT(vc(4, 8, r4, r8, p, len), 0);
    memmove(p[1], p[0], 32);
    memcpy(p[0], r4, 32);
    must_fail(vc(4, 8, r4, r8, p, 2), "4 -> 8 with root1 sent", 4, 8);
    /* the largest sizes: a long path of the right shape is checked, not
     * trusted (no overflow in fn/sn for size 2^64 - 1) */
    uint8_t zero[32] = { 0 };
    memset(p, 0, sizeof p);
    must_fail(pel_history_verify_inclusion(zero, UINT64_MAX - 1, UINT64_MAX,
                                           (const uint8_t (*)[32])p, 64, zero), "huge", 0, 0);
    must_fail(vc(UINT64_MAX - 1, UINT64_MAX, zero, zero, p, 65), "huge", 0, 0);
}

static void prove_argument_errors(void)
{
    hash32 p[MAXP];
    size_t len = 7;
    uint8_t root[32];
    memset(p, 0xee, sizeof p);
    CHECK_EQ_INT(pel_history_prove_inclusion(shared, 5, 5, p, &len), PEL_EINVAL);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(pel_history_prove_inclusion(shared, 0, 0, p, &len), PEL_EINVAL);
    /* beyond the committed size: NOTFOUND, also when the path itself would
     * only need records that exist (the last leaf of size NMAX + 1) */
    len = 7;
    CHECK_EQ_INT(pel_history_prove_inclusion(shared, NMAX, NMAX + 1, p, &len), PEL_ENOTFOUND);
    CHECK_EQ_INT(len, 0);
    static const uint8_t zero[32];
    CHECK_MEM(p[0], zero, 32);                     /* written part cleared */
    CHECK_EQ_INT(pel_history_prove_inclusion(shared, 3, NMAX + 1, p, &len), PEL_ENOTFOUND);
    CHECK_EQ_INT(pel_history_prove_inclusion(shared, 3, UINT64_MAX, p, &len), PEL_ENOTFOUND);
    CHECK_EQ_INT(pel_history_prove_inclusion(shared, 3, PEL_HISTORY_MAX_SIZE + 1, p, &len),
                 PEL_ENOTFOUND);
    CHECK_EQ_INT(pel_history_prove_consistency(shared, 3, UINT64_MAX, p, &len), PEL_ENOTFOUND);
    CHECK_EQ_INT(pel_history_root(shared, UINT64_MAX, root), PEL_ENOTFOUND);
    CHECK_EQ_INT(pel_history_prove_consistency(shared, 0, 5, p, &len), PEL_EINVAL);
    CHECK_EQ_INT(pel_history_prove_consistency(shared, 6, 5, p, &len), PEL_EINVAL);
    CHECK_EQ_INT(pel_history_prove_consistency(shared, 5, NMAX + 1, p, &len), PEL_ENOTFOUND);
    CHECK_EQ_INT(pel_history_prove_consistency(shared, NMAX + 1, NMAX + 1, p, &len),
                 PEL_ENOTFOUND);
    len = 7;
    CHECK_EQ_INT(pel_history_prove_consistency(shared, NMAX, NMAX, p, &len), 0);
    CHECK_EQ_INT(len, 0);
    memset(root, 0xee, 32);
    CHECK_EQ_INT(pel_history_root(shared, NMAX + 1, root), PEL_ENOTFOUND);
    CHECK_MEM(root, zero, 32);
}

/* ---- appends: aborts, several per transaction, wrong sizes ---- */

static void aborted_appends_leave_tree_as_before(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir, 16 * MIB);
    uint8_t root[32], want[32], before[32];
    CHECK_EQ_INT(append_commit(s, 0, L, 100, root), 0);
    CHECK_EQ_INT(pel_history_root(s, 100, before), 0);
    for (int round = 0; round < 3; round++) {    /* append, then abort */
        pel_store_txn *w;
        CHECK_EQ_INT(pel_store_begin(s, &w), 0);
        CHECK_EQ_INT(pel_history_append(w, 100, L + 100, 57, root), 0);
        CHECK_EQ_INT(pel_history_append(w, 157, L + 157, 3, root), 0);   /* sees staged */
        ref_mth(0, 160, want);
        CHECK_MEM(root, want, 32);
        pel_store_abort(w);
        CHECK_EQ_INT(pel_history_root(s, 100, root), 0);
        CHECK_MEM(root, before, 32);
        CHECK_EQ_INT(pel_history_root(s, 101, root), PEL_ENOTFOUND);
    }
    static node_id ids[200];
    count_acc a = count_records(s, ids, post_order(100, ids));
    CHECK_EQ_INT(a.records, 100 + 50 + 25 + 12 + 6 + 3 + 1);
    CHECK_EQ_INT(a.bad, 0);
    uint64_t size = 0;
    CHECK_EQ_INT(pel_history_size(s, &size), 0);
    CHECK_EQ_INT(size, 100);
    /* the same appends committed give the reference tree */
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_history_append(w, 100, L + 100, 0, root), 0);    /* n = 0 */
    CHECK_MEM(root, before, 32);
    CHECK_EQ_INT(pel_history_append(w, 100, L + 100, 60, root), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    ref_mth(0, 160, want);
    CHECK_MEM(root, want, 32);
    CHECK_EQ_INT(pel_history_root(s, 160, root), 0);
    CHECK_MEM(root, want, 32);
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void append_at_wrong_size_writes_nothing(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir, 16 * MIB);
    uint8_t root[32], want[32];
    static const uint8_t zero[32];
    CHECK_EQ_INT(append_commit(s, 0, L, 10, root), 0);
    memset(root, 0xee, 32);
    CHECK_EQ_INT(append_commit(s, 9, L + 10, 1, root), PEL_EEXIST);   /* behind */
    CHECK_MEM(root, zero, 32);
    CHECK_EQ_INT(append_commit(s, 0, L + 10, 1, root), PEL_EEXIST);
    CHECK_EQ_INT(append_commit(s, 11, L + 10, 1, root), PEL_ENOTFOUND);   /* ahead */
    CHECK_EQ_INT(append_commit(s, 12, L + 10, 1, root), PEL_ENOTFOUND);
    CHECK_EQ_INT(append_commit(s, UINT64_MAX, L + 10, 1, root), PEL_ERANGE);
    CHECK_EQ_INT(append_commit(s, PEL_HISTORY_MAX_SIZE - 1, L + 10, 2, root), PEL_ERANGE);
    /* a committed transaction after the refused append holds nothing of it */
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_history_append(w, 9, L + 10, 1, root), PEL_EEXIST);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    static node_id ids[20];
    count_acc a = count_records(s, ids, post_order(10, ids));
    CHECK_EQ_INT(a.records, 10 + 5 + 2 + 1);
    CHECK_EQ_INT(a.bad, 0);
    CHECK_EQ_INT(pel_history_root(s, 10, root), 0);
    ref_mth(0, 10, want);
    CHECK_MEM(root, want, 32);
    /* an empty store: appending anywhere but 0 is refused */
    char *dir2 = tmpdir();
    pel_store *s2 = open_store(dir2, 16 * MIB);
    uint64_t size = 99;
    CHECK_EQ_INT(pel_history_size(s2, &size), 0);
    CHECK_EQ_INT(size, 0);
    CHECK_EQ_INT(append_commit(s2, 1, L, 1, root), PEL_ENOTFOUND);
    CHECK_EQ_INT(append_commit(s2, 0, L, 0, root), 0);
    pel_history_empty_root(want);
    CHECK_MEM(root, want, 32);
    pel_store_close(s2);
    test_rmdir_all(dir2);
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void corrupt_record_is_reported(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir, 16 * MIB);
    uint8_t root[32];
    hash32 p[MAXP];
    size_t len;
    CHECK_EQ_INT(append_commit(s, 0, L, 6, root), 0);
    pel_store_txn *w;
    uint8_t key[9] = { 0, 0, 0, 0, 0, 0, 0, 9 };   /* the node over leaves 4..5 */
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_HISTORY, key, 8, root, 31), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_history_root(s, 6, root), PEL_ECORRUPT);
    CHECK_EQ_INT(pel_history_root(s, 4, root), 0);   /* does not need it */
    CHECK_EQ_INT(pel_history_prove_inclusion(s, 0, 6, p, &len), PEL_ECORRUPT);
    CHECK_EQ_INT(append_commit(s, 6, L + 6, 1, root), PEL_ECORRUPT);
    /* a size no complete tree has: keys 0..9 (6 leaves) plus key 11 */
    uint64_t size = 99;
    CHECK_EQ_INT(pel_history_size(s, &size), 0);
    CHECK_EQ_INT(size, 6);
    key[7] = 11;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_HISTORY, key, 8, root, 32), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_history_size(s, &size), PEL_ECORRUPT);
    CHECK_EQ_INT(size, 0);
    memset(key, 0xff, sizeof key);                 /* a key of the wrong length */
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_HISTORY, key, 9, root, 32), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_history_size(s, &size), PEL_ECORRUPT);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* ---- reads while blocks commit ---- */

typedef struct race {
    pel_store *s;
    _Atomic uint64_t committed;   /* release by the writer after each commit,
                                     acquire by the reader: a size the
                                     committed tree is known to have */
    atomic_bool done;
    uint64_t proofs, bad;
} race;

/* prover - proofs for random committed sizes, checked against the
 * reference, while the main thread keeps appending. */
static void *prover(void *arg)
{
    race *r = arg;
    uint64_t rng = 0x1234567;
    hash32 p[MAXP];
    size_t len;
    uint8_t r1[32], r2[32];
    while (!atomic_load_explicit(&r->done, memory_order_acquire)) {
        uint64_t have = atomic_load_explicit(&r->committed, memory_order_acquire);
        if (have < 2) continue;
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t n = 2 + (rng >> 33) % (have - 1), m = (rng >> 13) % n;
        ref_mth(0, n, r2);   /* memo is only read: filled before the race */
        ref_mth(0, m + 1, r1);
        int ok = pel_history_prove_inclusion(r->s, m, n, p, &len) == 0
                 && vi(L[m], m, n, p, len, r2) == 0
                 && pel_history_prove_consistency(r->s, m + 1, n, p, &len) == 0
                 && vc(m + 1, n, r1, r2, p, len) == 0
                 && pel_history_root(r->s, n, r1) == 0 && memcmp(r1, r2, 32) == 0;
        r->bad += !ok;
        r->proofs++;
    }
    return NULL;
}

/* Proofs from the committed tree stay right while later blocks commit:
 * records are write-once, so the several short read transactions of one
 * proof see the same values. */
static void proofs_while_appending(void)
{
    uint8_t root[32];
    for (uint64_t n = 0; n <= NMAX; n++) ref_mth(0, n, root);   /* fill memo */
    char *dir = tmpdir();
    race r = { .s = open_store(dir, 16 * MIB) };
    atomic_init(&r.committed, 0);
    atomic_init(&r.done, false);
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, prover, &r), 0);
    for (uint64_t size = 0; size < NMAX; ) {
        uint32_t n = 1 + (uint32_t)below(7);
        if (n > NMAX - size) n = (uint32_t)(NMAX - size);
        CHECK_EQ_INT(append_commit(r.s, size, L + size, n, root), 0);
        size += n;
        atomic_store_explicit(&r.committed, size, memory_order_release);
    }
    atomic_store_explicit(&r.done, true, memory_order_release);
    CHECK_EQ_INT(pthread_join(t, NULL), 0);
    CHECK(r.proofs > 0);
    CHECK_EQ_INT(r.bad, 0);
    printf("proofs while appending: %" PRIu64 " checked\n", r.proofs);
    pel_store_close(r.s);
    test_rmdir_all(dir);
}

/* ---- rough rates (printed, not asserted) ---- */

static void rates(void)
{
    const uint64_t N = 200000;
    hash32 *lv = malloc(N * sizeof *lv);
    if (!lv) { CHECK(lv != NULL); return; }
    for (uint64_t i = 0; i < N; i++)
        for (int j = 0; j < 32; j++) lv[i][j] = (uint8_t)rnd();
    char *dir = tmpdir();
    pel_store *s = open_store(dir, 256 * MIB);
    uint8_t root[32], want[32];
    double t0 = now_s();
    for (uint64_t at = 0; at < N; at += 10000)
        CHECK_EQ_INT(append_commit(s, at, lv + at, 10000, root), 0);
    double t_app = now_s() - t0;
    pel_history_root_of(lv, N, want);
    CHECK_MEM(root, want, 32);
    enum { R = 5000 };
    static hash32 paths[64][MAXP];
    static size_t lens[64];
    static uint64_t ms[64], ns[64];
    int fails = 0;
    t0 = now_s();
    for (int i = 0; i < R; i++) {
        int j = i & 63;
        ns[j] = N / 2 + below(N / 2 + 1);
        ms[j] = below(ns[j]);
        fails += pel_history_prove_inclusion(s, ms[j], ns[j], paths[j], &lens[j]) != 0;
    }
    double t_pi = now_s() - t0;
    uint8_t rn[32];
    CHECK_EQ_INT(pel_history_root(s, ns[63], rn), 0);
    t0 = now_s();
    for (int i = 0; i < R; i++)   /* the last 64 proofs, over and over */
        fails += pel_history_verify_inclusion(lv[ms[63]], ms[63], ns[63],
                     (const uint8_t (*)[32])paths[63], lens[63], rn) != 0;
    double t_vi = now_s() - t0;
    t0 = now_s();
    for (int i = 0; i < R; i++) {
        int j = i & 63;
        ns[j] = N / 2 + below(N / 2 + 1);
        ms[j] = 1 + below(ns[j]);
        fails += pel_history_prove_consistency(s, ms[j], ns[j], paths[j], &lens[j]) != 0;
    }
    double t_pc = now_s() - t0;
    uint8_t rm[32];
    CHECK_EQ_INT(pel_history_root(s, ms[63], rm), 0);
    CHECK_EQ_INT(pel_history_root(s, ns[63], rn), 0);
    t0 = now_s();
    for (int i = 0; i < R; i++)
        fails += pel_history_verify_consistency(ms[63], ns[63], rm, rn,
                     (const uint8_t (*)[32])paths[63], lens[63]) != 0;
    double t_vc = now_s() - t0;
    t0 = now_s();
    for (int i = 0; i < R; i++)
        fails += pel_history_root(s, N / 2 + below(N / 2 + 1), root) != 0;
    double t_root = now_s() - t0;
    CHECK_EQ_INT(fails, 0);
    printf("rates at %" PRIu64 " leaves: append %.0f leaves/s; inclusion prove %.0f/s, "
           "verify %.0f/s; consistency prove %.0f/s, verify %.0f/s; root %.0f/s\n",
           N, (double)N / t_app, R / t_pi, R / t_vi, R / t_pc, R / t_vc, R / t_root);
    pel_store_close(s);
    test_rmdir_all(dir);
    free(lv);
}

int main(void)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL));
    printf("test_history seed %" PRIu64 "\n", seed);
    rng_state = seed;
    if (pel_crypto_init() != 0) { fprintf(stderr, "crypto init failed\n"); return 1; }
    bool tsan = test_env_u64("PEL_TEST_TSAN", 0) != 0;
    if (tsan) { incl_all = 100; cons_all = 60; pairs_dflt = 200; }
    make_leaves();
    RUN(hand_derived_small_trees);
    RUN(leaf_bytes_are_documented);
    RUN(ct_vectors_roots_and_proofs);
    RUN(stored_roots_every_size);
    RUN(stored_layout_is_post_order);
    RUN(inclusion_every_pair_to_300);
    RUN(inclusion_random_pairs_to_1000);
    RUN(consistency_every_pair_to_200);
    RUN(consistency_random_pairs_to_1000);
    RUN(verify_edge_cases);
    RUN(prove_argument_errors);
    RUN(aborted_appends_leave_tree_as_before);
    RUN(append_at_wrong_size_writes_nothing);
    RUN(corrupt_record_is_reported);
    RUN(proofs_while_appending);
    if (!tsan) RUN(rates);
    pel_store_close(shared);
    test_rmdir_all(shared_dir);
    free(memo);
    free(memo_ok);
    return TEST_END("test_history");
}
