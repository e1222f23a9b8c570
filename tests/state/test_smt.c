/* test_smt.c - the state tree (state/smt.h): known answers (golden roots),
 * an independent reference root over random sets (keys chosen to share
 * long path prefixes), random histories of puts, overwrites and deletes
 * applied through real store transactions with the root, walk and proofs
 * checked after every version against a model, proofs of old versions
 * after newer updates, every bit flip of encoded proofs, pruning by stored
 * node count, the pool's path (units built and hashed on workers) giving
 * byte-identical tables to one thread, no-op writes, argument errors,
 * corrupt records, allocation failure, and rough rates (printed, not
 * asserted).
 * Seed: printed on start; replay with PEL_TEST_SEED=<seed>.
 * PEL_TEST_ITERS scales the number of versions of the history test. */
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/codec.h"
#include "core/hash.h"
#include "core/hex.h"
#include "exec/pool.h"
#include "state/smt.h"
#include "state/store.h"
#include "state/store_test.h"
#include "test.h"
#include "tmpdir.h"

#define HL 32
#define GOLDEN_ONE "196c676214b0c9deb7a81234f20ebae9aaf1d88b3099b2aa18db0bd407f81bbb"
#define GOLDEN_TWO "fe29d02e7fd2e56585bff0ca8fc6997d1b2f51bb769c0d75e81747c18ba42baa"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- store helpers ---- */

static char *tmpdir(void) { return test_tmpdir("pel_smt_"); }

static pel_store *open_store(const char *dir)
{
    return store_open(dir, 1024 * MIB, 0, 0);
}

/* count_prefix - records of PEL_T_SMT whose key starts with byte c. */
static int count_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    (void)k; (void)kl; (void)v; (void)vl;
    (*(uint64_t *)arg)++;
    return 0;
}

static uint64_t count_prefix(pel_store *s, uint8_t c)
{
    uint64_t n = 0;
    uint8_t from[1] = { c }, to[1] = { (uint8_t)(c + 1) };
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_SMT, from, 1, to, 1, count_cb, &n), 0);
    return n;
}

/* ---- an independent reference: smt.h's definitions, via pel_hash_tagged ---- */

typedef struct rent { uint8_t path[HL], vh[HL]; } rent;

static void ref_path(const pel_key *k, uint8_t out[HL])
{
    CHECK_EQ_INT(pel_hash_tagged("PEL/state-path", k->b, 32, out), 0);
}

static void ref_vh(const void *v, size_t len, uint8_t out[HL])
{
    CHECK_EQ_INT(pel_hash_tagged("PEL/state-value", v, len, out), 0);
}

static void ref_leaf(const uint8_t path[HL], const uint8_t vh[HL], uint8_t out[HL])
{
    uint8_t b[64];
    memcpy(b, path, HL);
    memcpy(b + HL, vh, HL);
    CHECK_EQ_INT(pel_hash_tagged("PEL/state-leaf", b, 64, out), 0);
}

static const uint8_t Z[HL];

static void ref_pair(const uint8_t l[HL], const uint8_t r[HL], uint8_t out[HL])
{
    if (!memcmp(l, Z, HL) && !memcmp(r, Z, HL)) { memset(out, 0, HL); return; }
    uint8_t b[64];
    memcpy(b, l, HL);
    memcpy(b + HL, r, HL);
    CHECK_EQ_INT(pel_hash_tagged("PEL/state-node", b, 64, out), 0);
}

static void ref_node(uint8_t c[16][HL], uint8_t out[HL])
{
    uint8_t lvl[16][HL];
    memcpy(lvl, c, sizeof lvl);
    for (unsigned w = 16; w > 1; w /= 2)
        for (unsigned i = 0; i < w / 2; i++) ref_pair(lvl[2 * i], lvl[2 * i + 1], lvl[i]);
    memcpy(out, lvl[0], HL);
}

static unsigned ref_nib(const uint8_t *p, unsigned d)
{
    return (d % 2 == 0) ? p[d / 2] >> 4 : p[d / 2] & 15;
}

/* ref_tree - T(S, d) of smt.h over e[0..n) (any order): partition by
 * nibble without sorting. */
static void ref_tree(const rent *e, size_t n, unsigned d, uint8_t out[HL])
{
    if (n == 0) { memset(out, 0, HL); return; }
    if (n == 1) { ref_leaf(e[0].path, e[0].vh, out); return; }
    uint8_t c[16][HL];
    rent *sub = malloc(n * sizeof *sub);
    for (unsigned v = 0; v < 16; v++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (ref_nib(e[i].path, d) == v) sub[m++] = e[i];
        ref_tree(sub, m, d + 1, c[v]);
    }
    free(sub);
    ref_node(c, out);
}

/* ---- keys that share long path prefixes ---- */

#define POOL 4096

typedef struct pk { pel_key k; uint8_t path[HL]; } pk;

static int pk_path_cmp(const void *a, const void *b)
{
    return memcmp(((const pk *)a)->path, ((const pk *)b)->path, HL);
}

static int key_cmp(const void *a, const void *b)
{
    return pel_key_cmp(a, b);
}

static void rand_key(pel_key *k)
{
    for (int i = 0; i < 4; i++) {
        uint64_t x = rnd();
        memcpy(k->b + 8 * i, &x, 8);
    }
}

static unsigned lcp_nibbles(const uint8_t *a, const uint8_t *b)
{
    unsigned d = 0;
    while (d < 64 && ref_nib(a, d) == ref_nib(b, d)) d++;
    return d;
}

/* make_universe - n distinct keys sorted by key: about half are the
 * neighbours (in path order) of a pool of random keys that share the
 * longest path prefixes (4 to 6 nibbles: chains of one-child nodes), the
 * rest random. Returns the longest shared prefix seen. */
static unsigned make_universe(pel_key *u, size_t n)
{
    pk *pool = malloc(POOL * sizeof *pool);
    for (size_t i = 0; i < POOL; i++) {
        rand_key(&pool[i].k);
        ref_path(&pool[i].k, pool[i].path);
    }
    qsort(pool, POOL, sizeof *pool, pk_path_cmp);
    bool *taken = calloc(POOL, sizeof *taken);
    size_t m = 0;
    unsigned best = 0;
    for (unsigned want = 6; want >= 3 && m < n / 2; want--)
        for (size_t i = 0; i + 1 < POOL && m + 2 <= n / 2; i++) {
            unsigned l = lcp_nibbles(pool[i].path, pool[i + 1].path);
            if (l != want) continue;
            if (l > best) best = l;
            if (taken[i] || taken[i + 1]) continue;
            u[m++] = pool[i].k;
            u[m++] = pool[i + 1].k;
            taken[i] = taken[i + 1] = true;
        }
    while (m < n) rand_key(&u[m++]);
    free(pool);
    free(taken);
    qsort(u, n, sizeof *u, key_cmp);
    return best;
}

/* ---- the model: a universe of keys, each present with a value or not ---- */

typedef struct model {
    size_t n;
    pel_key *k;
    bool *present;
    uint8_t (*val)[300];
    uint32_t *len;
} model;

static void model_init(model *m, size_t n)
{
    m->n = n;
    m->k = calloc(n, sizeof *m->k);
    m->present = calloc(n, sizeof *m->present);
    m->val = calloc(n, sizeof *m->val);
    m->len = calloc(n, sizeof *m->len);
}

static void model_copy(model *dst, const model *src)
{
    model_init(dst, src->n);
    memcpy(dst->k, src->k, src->n * sizeof *src->k);
    memcpy(dst->present, src->present, src->n * sizeof *src->present);
    memcpy(dst->val, src->val, src->n * sizeof *src->val);
    memcpy(dst->len, src->len, src->n * sizeof *src->len);
}

static void model_free(model *m)
{
    free(m->k); free(m->present); free(m->val); free(m->len);
}

static void model_ref_root(const model *m, uint8_t out[HL])
{
    rent *e = malloc((m->n + 1) * sizeof *e);
    size_t c = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->present[i]) continue;
        ref_path(&m->k[i], e[c].path);
        ref_vh(m->val[i], m->len[i], e[c].vh);
        c++;
    }
    ref_tree(e, c, 0, out);
    free(e);
}

/* model_fill - every key present with a value of len bytes (zeros). */
static void model_fill(model *m, uint32_t len)
{
    for (size_t i = 0; i < m->n; i++) { m->present[i] = true; m->len[i] = len; }
}

/* model_pairs - the model as a sorted all-puts write set (w owned by caller). */
static pel_writeset model_pairs(const model *m)
{
    pel_writeset ws = { calloc(m->n + 1, sizeof(pel_write)), 0 };
    for (size_t i = 0; i < m->n; i++) {
        if (!m->present[i]) continue;
        pel_write *w = &ws.w[ws.n++];
        w->key = m->k[i];
        w->kind = PEL_W_PUT;
        w->val.p = m->val[i];
        w->val.len = m->len[i];
    }
    return ws;
}

static uint32_t rand_len(void)
{
    switch (rnd() % 8) {
    case 0: return 0;
    case 1: return 65 + (uint32_t)(rnd() % 236);   /* past the one-shot hash */
    default: return 1 + (uint32_t)(rnd() % 40);
    }
}

/* random_batch - a write set over the model (applied to it too). mode 0:
 * random mix; 1: delete everything present; 2: no-ops only (deletes of
 * absent keys, puts of current values). */
static pel_writeset random_batch(model *m, int mode, size_t max)
{
    pel_writeset ws = { calloc(m->n + 1, sizeof(pel_write)), 0 };
    size_t want = mode == 1 ? m->n : rnd() % (max + 1);
    for (size_t i = 0; i < m->n && ws.n < want; i++) {
        if (mode == 0 && rnd() % m->n >= 2 * want) continue;
        if (mode == 1 && !m->present[i]) continue;
        pel_write *w = &ws.w[ws.n++];
        w->key = m->k[i];
        uint64_t r = rnd() % 10;
        if (mode == 1 || (mode == 2 && !m->present[i]) || (mode == 0 && r < 3)) {
            w->kind = PEL_W_DEL;
            m->present[i] = false;
            continue;
        }
        w->kind = PEL_W_PUT;
        if (mode == 0 || !m->present[i]) {
            m->len[i] = rand_len();
            for (uint32_t j = 0; j < m->len[i]; j++) m->val[i][j] = (uint8_t)rnd();
            m->present[i] = true;
        }
        w->val.p = m->val[i];
        w->val.len = m->len[i];
    }
    return ws;
}

/* apply - one update through a real transaction, committed. */
static int apply(pel_store *s, uint64_t oldv, uint64_t newv, const pel_writeset *ws,
                 pel_pool *pool, uint8_t root[HL])
{
    pel_store_txn *w;
    int rc = pel_store_begin(s, &w);
    if (rc) return rc;
    rc = pel_smt_update(s, w, oldv, newv, ws, pool, root);
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

/* ---- proof checks ---- */

static int kinds_seen[3];

/* check_key - the proof of key i in version v (root) matches the model,
 * verifies, and fails against another root, for another key, and for
 * another claim. */
static void check_key(pel_store *s, uint64_t v, const uint8_t root[HL],
                      const uint8_t other_root[HL], const model *m, size_t i)
{
    pel_smt_proof p;
    pel_buf val;
    pel_buf_init(&val);
    CHECK_EQ_INT(pel_smt_get_proof(s, v, &m->k[i], &p, &val), 0);
    kinds_seen[p.kind % 3]++;
    const pel_key *other = &m->k[(i + 1) % m->n];
    uint8_t bogus[5] = { 1, 2, 3, 4, 5 };
    if (m->present[i]) {
        CHECK_EQ_INT(p.kind, PEL_SMT_PRESENT);
        CHECK(val.len == m->len[i] && (val.len == 0 || !memcmp(val.data, m->val[i], val.len)));
        CHECK_EQ_INT(pel_smt_verify(root, &m->k[i], m->val[i], m->len[i], &p), 0);
        CHECK_EQ_INT(pel_smt_verify(root, &m->k[i], NULL, 0, &p), PEL_EPROOF);
        CHECK_EQ_INT(pel_smt_verify(root, &m->k[i], bogus, sizeof bogus, &p), PEL_EPROOF);
        CHECK_EQ_INT(pel_smt_verify(root, other, m->val[i], m->len[i], &p), PEL_EPROOF);
        if (memcmp(root, other_root, HL))
            CHECK_EQ_INT(pel_smt_verify(other_root, &m->k[i], m->val[i], m->len[i], &p),
                         PEL_EPROOF);
        uint8_t vh[HL];
        ref_vh(m->val[i], m->len[i], vh);
        CHECK_EQ_INT(pel_smt_verify_hash(root, &m->k[i], vh, &p), 0);
        /* the inclusion proof dressed as "another leaf is there" fails */
        pel_smt_proof f = p;
        f.kind = PEL_SMT_ABSENT_LEAF;
        ref_path(&m->k[i], f.leaf_path);
        memcpy(f.leaf_value_hash, vh, HL);
        CHECK_EQ_INT(pel_smt_verify(root, &m->k[i], NULL, 0, &f), PEL_EPROOF);
    } else {
        CHECK(p.kind == PEL_SMT_ABSENT_EMPTY || p.kind == PEL_SMT_ABSENT_LEAF);
        CHECK_EQ_INT(val.len, 0);
        CHECK_EQ_INT(pel_smt_verify(root, &m->k[i], NULL, 0, &p), 0);
        CHECK_EQ_INT(pel_smt_verify(root, &m->k[i], bogus, sizeof bogus, &p), PEL_EPROOF);
        CHECK_EQ_INT(pel_smt_verify(root, &m->k[i], bogus, 0, &p), PEL_EPROOF);
        if (memcmp(root, other_root, HL))
            CHECK_EQ_INT(pel_smt_verify(other_root, &m->k[i], NULL, 0, &p), PEL_EPROOF);
        /* it proves another key absent when that key's only place is the
         * same empty slot or under the same other leaf (or in the same
         * empty binary subtree inside the last node), and never proves a
         * present key absent */
        uint8_t po[HL], pi[HL];
        ref_path(other, po);
        ref_path(&m->k[i], pi);
        bool same = p.kind == PEL_SMT_ABSENT_EMPTY
            ? lcp_nibbles(po, pi) >= p.depth
            : lcp_nibbles(po, p.leaf_path) >= p.depth && memcmp(po, p.leaf_path, HL);
        int orc = pel_smt_verify(root, other, NULL, 0, &p);
        if (same) CHECK_EQ_INT(orc, 0);
        if (m->present[(i + 1) % m->n]) CHECK_EQ_INT(orc, PEL_EPROOF);
        for (int t = 0; t < 4; t++) {
            size_t j = rnd() % m->n;
            if (m->present[j])
                CHECK_EQ_INT(pel_smt_verify(root, &m->k[j], NULL, 0, &p), PEL_EPROOF);
        }
        if (p.kind == PEL_SMT_ABSENT_LEAF) {   /* nor the other leaf's key */
            CHECK(memcmp(p.leaf_path, pi, HL) != 0);
            CHECK(lcp_nibbles(p.leaf_path, pi) >= p.depth);
        }
    }
    /* encode / decode round trip */
    pel_buf e;
    pel_buf_init(&e);
    pel_smt_proof q;
    CHECK_EQ_INT(pel_smt_proof_encode(&p, &e), 0);
    CHECK_EQ_INT(pel_smt_proof_decode(e.data, e.len, &q), 0);
    CHECK(memcmp(&p, &q, sizeof p) == 0);
    pel_buf_free(&e);
    pel_buf_free(&val);
}

/* ---- walk: integrity and contents ---- */

typedef struct wsum {
    size_t leaves, nodes;
    const model *m;
    int mismatch;
} wsum;

static int walk_cb(void *arg, const uint8_t *nk, size_t kl, const pel_key *key,
                   const uint8_t *v, size_t vl)
{
    wsum *w = arg;
    (void)nk; (void)kl;
    w->nodes++;
    if (!key) return 0;
    w->leaves++;
    pel_key *hit = bsearch(key, w->m->k, w->m->n, sizeof *key, key_cmp);
    size_t i = hit ? (size_t)(hit - w->m->k) : 0;
    if (!hit || !w->m->present[i] || w->m->len[i] != vl || (vl && memcmp(v, w->m->val[i], vl)))
        w->mismatch++;
    return 0;
}

static size_t model_count(const model *m)
{
    size_t c = 0;
    for (size_t i = 0; i < m->n; i++) c += m->present[i];
    return c;
}

/* ================================================================ */

static void known_answers(void)
{
    /* empty tree: Z, both in memory and stored */
    uint8_t r[HL], want[HL];
    pel_writeset none = { NULL, 0 };
    CHECK_EQ_INT(pel_smt_root_of(&none, r), 0);
    CHECK_MEM(r, Z, HL);

    /* one pair: the root is its leaf hash */
    pel_key k;
    memset(k.b, 0, 32);
    k.b[31] = 1;
    uint8_t path[HL], vh[HL];
    ref_path(&k, path);
    ref_vh("abc", 3, vh);
    ref_leaf(path, vh, want);
    pel_write w1 = { k, PEL_W_PUT, { (const uint8_t *)"abc", 3 } };
    pel_writeset one = { &w1, 1 };
    CHECK_EQ_INT(pel_smt_root_of(&one, r), 0);
    CHECK_MEM(r, want, HL);
    /* golden: key 00..01, value "abc" */
    char hex[65];
    pel_hex_encode(r, HL, hex);
    printf("  single-key root (key 00..01, value \"abc\"): %s\n", hex);
    CHECK(strcmp(hex, GOLDEN_ONE) == 0);
    /* golden: keys 00..01 -> "abc" and 00..02 -> "" (node hashes too);
     * both goldens agree with an independent Python hashlib.blake2b
     * implementation of smt.h's definitions */
    pel_write w2[2] = { w1, { k, PEL_W_PUT, { NULL, 0 } } };
    w2[1].key.b[31] = 2;
    pel_writeset two = { w2, 2 };
    CHECK_EQ_INT(pel_smt_root_of(&two, r), 0);
    pel_hex_encode(r, HL, hex);
    printf("  two-key root (and 00..02 -> \"\"): %s\n", hex);
    CHECK(strcmp(hex, GOLDEN_TWO) == 0);

    /* the exported hash functions agree with the definitions */
    uint8_t a[HL];
    CHECK_EQ_INT(pel_smt_path(&k, a), 0);
    CHECK_MEM(a, path, HL);
    CHECK_EQ_INT(pel_smt_value_hash("abc", 3, a), 0);
    CHECK_MEM(a, vh, HL);
    CHECK_EQ_INT(pel_smt_leaf_hash(path, vh, a), 0);
    CHECK_MEM(a, want, HL);
    uint8_t c[16][HL];
    memset(c, 0, sizeof c);
    CHECK_EQ_INT(pel_smt_node_hash(c, a), 0);
    CHECK_MEM(a, Z, HL);                      /* all empty -> Z */
    memcpy(c[5], want, HL);
    uint8_t n1[HL];
    ref_node(c, n1);
    CHECK_EQ_INT(pel_smt_node_hash(c, a), 0);
    CHECK_MEM(a, n1, HL);
    /* by hand: slot 5 = 0101b: pair(Z, x) at height 0 (bit 0 = 1: right),
     * then left, right, left */
    uint8_t h[HL];
    ref_pair(Z, want, h);
    ref_pair(h, Z, h);
    ref_pair(Z, h, h);
    ref_pair(h, Z, h);
    CHECK_MEM(a, h, HL);

    /* stored: genesis with no writes is Z; with one key its leaf hash */
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    CHECK_EQ_INT(apply(s, PEL_SMT_NONE, 0, &none, NULL, r), 0);
    CHECK_MEM(r, Z, HL);
    CHECK_EQ_INT(pel_smt_root(s, 0, r), 0);
    CHECK_MEM(r, Z, HL);
    CHECK_EQ_INT(apply(s, 0, 1, &one, NULL, r), 0);
    CHECK_MEM(r, want, HL);
    CHECK_EQ_INT(pel_smt_root(s, 1, r), 0);
    CHECK_MEM(r, want, HL);
    pel_smt_proof p;
    CHECK_EQ_INT(pel_smt_get_proof(s, 1, &k, &p, NULL), 0);
    CHECK_EQ_INT(p.kind, PEL_SMT_PRESENT);
    CHECK_EQ_INT(p.depth, 0);
    pel_buf e;
    pel_buf_init(&e);
    CHECK_EQ_INT(pel_smt_proof_encode(&p, &e), 0);
    CHECK(e.len == 2 && e.data[0] == 0 && e.data[1] == 0);   /* kind 0, depth 0 */
    pel_buf_free(&e);
    CHECK_EQ_INT(pel_smt_get_proof(s, 0, &k, &p, NULL), 0);
    CHECK_EQ_INT(p.kind, PEL_SMT_ABSENT_EMPTY);
    CHECK_EQ_INT(p.depth, 0);
    CHECK_EQ_INT(pel_smt_verify(Z, &k, NULL, 0, &p), 0);
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void root_of_matches_reference(void)
{
    pel_key *u = malloc(600 * sizeof *u);
    unsigned deep = make_universe(u, 600);
    CHECK(deep >= 5);
    model m;
    model_init(&m, 600);
    memcpy(m.k, u, 600 * sizeof *u);
    for (int round = 0; round < 40; round++) {
        size_t want = round < 10 ? (size_t)round : rnd() % 600;
        for (size_t i = 0; i < m.n; i++) {
            m.present[i] = rnd() % 600 < want;
            m.len[i] = rand_len();
            for (uint32_t j = 0; j < m.len[i]; j++) m.val[i][j] = (uint8_t)rnd();
        }
        uint8_t a[HL], b[HL];
        pel_writeset ws = model_pairs(&m);
        CHECK_EQ_INT(pel_smt_root_of(&ws, a), 0);
        model_ref_root(&m, b);
        CHECK_MEM(a, b, HL);
        free(ws.w);
    }
    /* argument checks */
    pel_write w2[2];
    memset(w2, 0, sizeof w2);
    w2[0].kind = w2[1].kind = PEL_W_PUT;
    pel_writeset dup = { w2, 2 };   /* same key twice */
    uint8_t r[HL];
    CHECK_EQ_INT(pel_smt_root_of(&dup, r), PEL_EINVAL);
    w2[1].key.b[0] = 1;
    w2[1].kind = PEL_W_DEL;
    CHECK_EQ_INT(pel_smt_root_of(&dup, r), PEL_EINVAL);
    model_free(&m);
    free(u);
}

/* Keys whose paths share their first 3 bytes (the update sorts by radix on
 * those, then by full path): found among 2^15 random keys (about 32 pairs
 * expected), written in one batch with the rest; the root equals
 * pel_smt_root_of's. */
static void paths_sharing_a_prefix(void)
{
    const size_t n = 1u << 15;
    pk *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) { rand_key(&p[i].k); ref_path(&p[i].k, p[i].path); }
    qsort(p, n, sizeof *p, pk_path_cmp);
    size_t pairs = 0;
    for (size_t i = 0; i + 1 < n; i++) pairs += !memcmp(p[i].path, p[i + 1].path, 3);
    printf("  %zu pairs of paths sharing 3 bytes among %zu keys\n", pairs, n);
    CHECK(pairs > 0);
    pel_write *w = calloc(n, sizeof *w);
    static uint8_t v[4] = { 1, 2, 3, 4 };
    for (size_t i = 0; i < n; i++) w[i] = (pel_write){ p[i].k, PEL_W_PUT, { v, 4 } };
    qsort(w, n, sizeof *w, key_cmp);
    pel_writeset ws = { w, (uint32_t)n };
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    uint8_t r[HL], want[HL];
    CHECK_EQ_INT(apply(s, PEL_SMT_NONE, 1, &ws, NULL, r), 0);
    CHECK_EQ_INT(pel_smt_root_of(&ws, want), 0);
    CHECK_MEM(r, want, HL);
    pel_store_close(s);
    test_rmdir_all(dir);
    free(w);
    free(p);
}

/* history - random versions through real transactions; after each: the
 * stored root equals the reference rebuild, the walk sees exactly the
 * model, and proofs of sampled keys behave. Old versions are re-checked at
 * the end, after all the newer updates. */
static void history_matches_model(void)
{
    size_t nver = (size_t)test_env_u64("PEL_TEST_ITERS", 60);
    if (nver < 10) nver = 10;
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    pel_pool *pool;
    CHECK_EQ_INT(pel_pool_new(2, &pool), 0);
    model m;
    model_init(&m, 300);
    make_universe(m.k, 300);
    model *snap = calloc(nver + 1, sizeof *snap);
    uint8_t (*roots)[HL] = calloc(nver + 1, HL);
    memset(kinds_seen, 0, sizeof kinds_seen);
    uint64_t oldv = PEL_SMT_NONE;
    for (size_t v = 0; v <= nver; v++) {
        int mode = v % 17 == 9 ? 1 : v % 11 == 5 ? 2 : 0;
        pel_writeset ws = random_batch(&m, mode, v < 3 ? 300 : 60);
        uint8_t r[HL], want[HL], got[HL], walked[HL];
        CHECK_EQ_INT(apply(s, oldv, v, &ws, v % 2 ? pool : NULL, r), 0);
        free(ws.w);
        model_ref_root(&m, want);
        CHECK_MEM(r, want, HL);
        if (mode == 1) CHECK_MEM(r, Z, HL);
        if (mode == 2 && v > 0) CHECK_MEM(r, roots[v - 1], HL);
        CHECK_EQ_INT(pel_smt_root(s, v, got), 0);
        CHECK_MEM(got, want, HL);
        wsum sum = { 0, 0, &m, 0 };
        CHECK_EQ_INT(pel_smt_walk(s, v, walk_cb, &sum, walked), 0);
        CHECK_MEM(walked, want, HL);
        CHECK_EQ_INT(sum.leaves, model_count(&m));
        CHECK_EQ_INT(sum.mismatch, 0);
        memcpy(roots[v], r, HL);
        const uint8_t *other = v ? roots[v - 1] : Z;
        for (size_t t = 0; t < 24; t++) check_key(s, v, r, other, &m, rnd() % m.n);
        model_copy(&snap[v], &m);
        oldv = v;
    }
    /* proofs against every older version still hold after newer updates */
    for (size_t v = 0; v <= nver; v++) {
        for (size_t t = 0; t < 8; t++)
            check_key(s, v, roots[v], roots[(v + 1) % (nver + 1)], &snap[v], rnd() % m.n);
        model_free(&snap[v]);
    }
    printf("  %zu versions; proof kinds seen: present %d, empty slot %d, other leaf %d\n",
           nver + 1, kinds_seen[0], kinds_seen[1], kinds_seen[2]);
    CHECK(kinds_seen[0] > 0 && kinds_seen[1] > 0 && kinds_seen[2] > 0);
    free(snap);
    free(roots);
    model_free(&m);
    pel_pool_free(pool);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* bitflips - every single-bit flip of encoded proofs of each kind is
 * rejected by decode or by verify. */
static void flip_all_bits(const uint8_t root[HL], const pel_key *k, const uint8_t *val,
                          size_t len, const pel_smt_proof *p)
{
    pel_buf e;
    pel_buf_init(&e);
    CHECK_EQ_INT(pel_smt_proof_encode(p, &e), 0);
    size_t accepted = 0;
    for (size_t bit = 0; bit < e.len * 8; bit++) {
        e.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        pel_smt_proof q;
        if (pel_smt_proof_decode(e.data, e.len, &q) == 0 &&
            pel_smt_verify(root, k, val, len, &q) == 0)
            accepted++;
        e.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK_EQ_INT(accepted, 0);
    pel_smt_proof q;
    CHECK_EQ_INT(pel_smt_proof_decode(e.data, e.len - 1, &q), PEL_ETRUNC);
    CHECK_EQ_INT(pel_buf_append(&e, "", 1), 0);
    CHECK_EQ_INT(pel_smt_proof_decode(e.data, e.len, &q), PEL_ETRAILING);
    pel_buf_free(&e);
}

static void every_bit_flip_is_rejected(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    model m;
    model_init(&m, 400);
    make_universe(m.k, 400);
    for (size_t i = 0; i < m.n; i += 2) {
        m.present[i] = true;
        m.len[i] = rand_len();
        for (uint32_t j = 0; j < m.len[i]; j++) m.val[i][j] = (uint8_t)rnd();
    }
    pel_writeset ws = model_pairs(&m);
    uint8_t r[HL];
    CHECK_EQ_INT(apply(s, PEL_SMT_NONE, 1, &ws, NULL, r), 0);
    free(ws.w);
    bool done[3] = { false, false, false };
    size_t tried = 0, deepest = 0;
    for (size_t i = 0; i < m.n && tried < 12; i++) {
        pel_smt_proof p;
        CHECK_EQ_INT(pel_smt_get_proof(s, 1, &m.k[i], &p, NULL), 0);
        if (done[p.kind] && p.depth <= deepest) continue;
        done[p.kind] = true;
        if (p.depth > deepest) deepest = p.depth;
        tried++;
        flip_all_bits(r, &m.k[i], m.present[i] ? m.val[i] : NULL, m.len[i], &p);
    }
    CHECK(done[0] && done[1] && done[2]);
    CHECK(deepest >= 5);
    /* non-canonical encodings the decoder refuses */
    pel_smt_proof q;
    uint8_t bad_kind[2] = { 3, 0 }, bad_depth[2] = { 0, 65 };
    uint8_t empty_last[3] = { 1, 1, 0 };               /* last level mask 0 */
    uint8_t big_mask[3] = { 1, 1, 0x10 };
    uint8_t zero_sib[3 + 32] = { 1, 1, 1 };            /* Z under a set bit */
    CHECK_EQ_INT(pel_smt_proof_decode(bad_kind, 2, &q), PEL_ENONCANON);
    CHECK_EQ_INT(pel_smt_proof_decode(bad_depth, 2, &q), PEL_ENONCANON);
    CHECK_EQ_INT(pel_smt_proof_decode(empty_last, 3, &q), PEL_ENONCANON);
    CHECK_EQ_INT(pel_smt_proof_decode(big_mask, 3, &q), PEL_ENONCANON);
    CHECK_EQ_INT(pel_smt_proof_decode(zero_sib, sizeof zero_sib, &q), PEL_ENONCANON);
    CHECK_EQ_INT(pel_smt_proof_decode(NULL, 0, &q), PEL_ETRUNC);
    zero_sib[3] = 1;
    CHECK_EQ_INT(pel_smt_proof_decode(zero_sib, sizeof zero_sib, &q), 0);
    /* structs the encoder refuses */
    pel_buf e;
    pel_buf_init(&e);
    q.mask[0] = 3;                                      /* bit 1 set, sib[0][1] Z */
    CHECK_EQ_INT(pel_smt_proof_encode(&q, &e), PEL_EINVAL);
    CHECK_EQ_INT(e.len, 0);
    CHECK_EQ_INT(pel_smt_verify(r, &m.k[0], NULL, 0, &q), PEL_EPROOF);
    pel_buf_free(&e);
    model_free(&m);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* ---- pruning ---- */

#define SETCAP (1 << 16)

typedef struct kset { uint8_t (*k)[48]; size_t n; } kset;

static int collect_cb(void *arg, const uint8_t *nk, size_t kl, const pel_key *key,
                      const uint8_t *v, size_t vl)
{
    (void)key; (void)v; (void)vl;
    kset *s = arg;
    if (s->n == SETCAP) return PEL_ERANGE;
    memset(s->k[s->n], 0, 48);
    s->k[s->n][0] = (uint8_t)kl;
    memcpy(s->k[s->n] + 1, nk, kl);
    s->n++;
    return 0;
}

static int k48_cmp(const void *a, const void *b) { return memcmp(a, b, 48); }

/* reachable - distinct node keys reachable from versions [from, to]. */
static size_t reachable(pel_store *s, uint64_t from, uint64_t to)
{
    kset ks = { malloc(SETCAP * 48), 0 };
    for (uint64_t v = from; v <= to; v++)
        CHECK_EQ_INT(pel_smt_walk(s, v, collect_cb, &ks, NULL), 0);
    qsort(ks.k, ks.n, 48, k48_cmp);
    size_t d = 0;
    for (size_t i = 0; i < ks.n; i++) d += i == 0 || memcmp(ks.k[i], ks.k[i - 1], 48);
    free(ks.k);
    return d;
}

static int prune(pel_store *s, uint64_t keep, uint64_t *removed)
{
    pel_store_txn *w;
    int rc = pel_store_begin(s, &w);
    if (rc) return rc;
    rc = pel_smt_prune(s, w, keep, removed);
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

static void prune_keeps_retained_versions(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    model m;
    model_init(&m, 200);
    make_universe(m.k, 200);
    const uint64_t N = 30;
    uint8_t roots[31][HL];
    model snap[31];
    for (uint64_t v = 0; v <= N; v++) {
        pel_writeset ws = random_batch(&m, v == 20 ? 1 : 0, v == 0 ? 200 : 30);
        CHECK_EQ_INT(apply(s, v ? v - 1 : PEL_SMT_NONE, v, &ws, NULL, roots[v]), 0);
        free(ws.w);
        model_copy(&snap[v], &m);
    }
    uint64_t all = count_prefix(s, 'n');
    CHECK_EQ_INT(all, reachable(s, 0, N));
    CHECK_EQ_INT(count_prefix(s, 'd'), N);   /* one stale record per update */
    uint64_t fl, la;
    CHECK_EQ_INT(pel_smt_versions(s, &fl, &la), 0);
    CHECK(fl == 0 && la == N);

    uint64_t removed = 0, keep = 12;
    CHECK_EQ_INT(prune(s, keep, &removed), 0);
    uint64_t left = count_prefix(s, 'n');
    printf("  nodes: %" PRIu64 " for versions 0..%" PRIu64 ", %" PRIu64
           " after keeping %" PRIu64 "..\n", all, N, left, keep);
    CHECK(removed > 0);
    CHECK_EQ_INT(left, all - removed);
    CHECK_EQ_INT(left, reachable(s, keep, N));
    CHECK_EQ_INT(count_prefix(s, 'd'), N - keep);
    CHECK_EQ_INT(pel_smt_versions(s, &fl, &la), 0);
    CHECK(fl == keep && la == N);
    uint8_t r[HL];
    pel_smt_proof p;
    for (uint64_t v = 0; v <= N; v++) {
        int want = v < keep ? PEL_ESMT_PRUNED : 0;
        CHECK_EQ_INT(pel_smt_root(s, v, r), want);
        CHECK_EQ_INT(pel_smt_get_proof(s, v, &m.k[v], &p, NULL), want);
        if (v >= keep) {
            CHECK_MEM(r, roots[v], HL);
            for (int t = 0; t < 10; t++)
                check_key(s, v, roots[v], roots[v - 1], &snap[v], rnd() % m.n);
        }
    }
    CHECK_EQ_INT(pel_smt_root(s, N + 1, r), PEL_ESMT_VERSION);
    /* again: nothing more; lowering the floor does nothing */
    CHECK_EQ_INT(prune(s, keep, &removed), 0);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(prune(s, 3, &removed), 0);
    CHECK_EQ_INT(removed, 0);
    /* updates go on; pruning past the latest keeps only the latest */
    pel_writeset ws = random_batch(&m, 0, 30);
    uint8_t rn[HL], want[HL];
    CHECK_EQ_INT(apply(s, N, N + 1, &ws, NULL, rn), 0);
    free(ws.w);
    model_ref_root(&m, want);
    CHECK_MEM(rn, want, HL);
    CHECK_EQ_INT(prune(s, 1000, &removed), 0);
    CHECK_EQ_INT(count_prefix(s, 'n'), reachable(s, N + 1, N + 1));
    CHECK_EQ_INT(count_prefix(s, 'd'), 0);
    CHECK_EQ_INT(pel_smt_root(s, N, r), PEL_ESMT_PRUNED);
    CHECK_EQ_INT(pel_smt_root(s, N + 1, r), 0);
    CHECK_MEM(r, want, HL);
    /* an update from a pruned version is refused */
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    pel_writeset empty = { NULL, 0 };
    CHECK_EQ_INT(pel_smt_update(s, w, N, N + 2, &empty, NULL, r), PEL_EEXIST);
    pel_store_abort(w);
    for (uint64_t v = 0; v <= N; v++) model_free(&snap[v]);
    model_free(&m);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* ---- appending, and stores with stale records under the old 's' ---- */

typedef struct kvs { pel_buf b; size_t n; } kvs;

static int kvs_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    kvs *c = arg;
    uint8_t h[8];
    pel_le_store(h, kl, 4);
    pel_le_store(h + 4, vl, 4);
    c->n++;
    return pel_buf_append(&c->b, h, 8) || pel_buf_append(&c->b, k, kl) ||
           pel_buf_append(&c->b, v, vl) ? PEL_ENOMEM : 0;
}

/* Move the stale records of versions [lo, hi) from 'd' to 's', as a store
 * written before the 'd' prefix has them. */
static void make_legacy(pel_store *s, uint64_t lo, uint64_t hi)
{
    uint8_t from[9] = { 'd' }, to[9] = { 'd' };
    for (int i = 0; i < 8; i++) {         /* 'd' || version u64 big-endian */
        from[1 + i] = (uint8_t)(lo >> (56 - 8 * i));
        to[1 + i] = (uint8_t)(hi >> (56 - 8 * i));
    }
    kvs c = { { 0 }, 0 };
    pel_buf_init(&c.b);
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_SMT, from, 9, to, 9, kvs_cb, &c), 0);
    CHECK_EQ_INT(c.n, hi - lo);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    for (size_t i = 0; i < c.b.len;) {
        size_t kl = (size_t)pel_le_load(c.b.data + i, 4), vl = (size_t)pel_le_load(c.b.data + i + 4, 4);
        uint8_t k[9];
        memcpy(k, c.b.data + i + 8, 9);
        CHECK_EQ_INT(pel_store_del(w, PEL_T_SMT, k, 9), 0);
        k[0] = 's';
        CHECK_EQ_INT(pel_store_put(w, PEL_T_SMT, k, 9, c.b.data + i + 8 + kl, vl), 0);
        i += 8 + kl + vl;
    }
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_buf_free(&c.b);
}

/* Updates append the depth-2 subtrees' nodes (none refused); while an old
 * 's' stale record is left they put every node instead, with the same
 * roots; prune removes what both kinds of stale record list; then updates
 * append again. */
static void append_and_legacy_stale_records(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    model m;
    model_init(&m, 3000);
    make_universe(m.k, 3000);
    const uint64_t N = 20;
    uint64_t a0, m0, a1, m1;
    pel_smt_append_stats(&a0, &m0);
    uint8_t root[HL], want[HL];
    for (uint64_t v = 0; v <= N; v++) {
        pel_writeset ws = random_batch(&m, v == 0 ? 1 : 0, 400);
        CHECK_EQ_INT(apply(s, v ? v - 1 : PEL_SMT_NONE, v, &ws, NULL, root), 0);
        free(ws.w);
        model_ref_root(&m, want);
        CHECK_MEM(root, want, HL);
    }
    pel_smt_append_stats(&a1, &m1);
    CHECK(a1 > a0 + 1000);                 /* most nodes of 3000 keys sit below depth 2 */
    CHECK_EQ_INT(m1, m0);
    CHECK_EQ_INT(count_prefix(s, 'd'), N);

    make_legacy(s, 1, 11);
    CHECK_EQ_INT(count_prefix(s, 's'), 10);
    pel_writeset ws = random_batch(&m, 0, 400);
    CHECK_EQ_INT(apply(s, N, N + 1, &ws, NULL, root), 0);
    free(ws.w);
    model_ref_root(&m, want);
    CHECK_MEM(root, want, HL);
    pel_smt_append_stats(&a0, &m0);
    CHECK_EQ_INT(a0, a1);                  /* 's' keys sort after the nodes: no append */
    CHECK_EQ_INT(m0, m1);

    uint64_t removed = 0, keep = 15;
    CHECK_EQ_INT(prune(s, keep, &removed), 0);
    CHECK(removed > 0);
    CHECK_EQ_INT(count_prefix(s, 's'), 0);
    CHECK_EQ_INT(count_prefix(s, 'd'), N + 1 - keep);
    CHECK_EQ_INT(count_prefix(s, 'n'), reachable(s, keep, N + 1));

    /* random batches until one that puts a value (a batch may be empty, or
     * only delete absent keys, and then write no node at all) */
    int put = 0;
    for (uint64_t v = N + 1; !put && v < N + 9; v++) {
        ws = random_batch(&m, 0, 400);
        for (uint32_t i = 0; i < ws.n; i++) put |= ws.w[i].kind == PEL_W_PUT;
        CHECK_EQ_INT(apply(s, v, v + 1, &ws, NULL, root), 0);
        free(ws.w);
        model_ref_root(&m, want);
        CHECK_MEM(root, want, HL);
    }
    CHECK(put);
    pel_smt_append_stats(&a1, &m1);
    CHECK(a1 > a0);                        /* appending again */
    CHECK_EQ_INT(m1, m0);
    model_free(&m);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* ---- the pool's path (units built and hashed on workers) ---- */

static int dump_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    pel_buf *b = arg;
    uint8_t h[8];
    pel_le_store(h, kl, 4);
    pel_le_store(h + 4, vl, 4);
    if (pel_buf_append(b, h, 8) || pel_buf_append(b, k, kl) || pel_buf_append(b, v, vl))
        return PEL_ENOMEM;
    return 0;
}

/* same_tables - both stores hold byte-identical PEL_T_SMT tables. */
static bool same_tables(pel_store *a, pel_store *b)
{
    pel_buf x, y;
    pel_buf_init(&x);
    pel_buf_init(&y);
    CHECK_EQ_INT(pel_store_scan(a, PEL_T_SMT, NULL, 0, NULL, 0, dump_cb, &x), 0);
    CHECK_EQ_INT(pel_store_scan(b, PEL_T_SMT, NULL, 0, NULL, 0, dump_cb, &y), 0);
    bool same = x.len == y.len && x.len > 0 && !memcmp(x.data, y.data, x.len);
    pel_buf_free(&x);
    pel_buf_free(&y);
    return same;
}

/* The same history through a pool of 3 (one transaction per version, so
 * old roots are committed and units are built from snapshots, and also
 * several versions in one transaction, where they are not) and on one
 * thread leaves byte-identical tables, and roots equal to the reference. */
static void pool_and_one_thread_agree(void)
{
    char *da = tmpdir(), *db = tmpdir();
    pel_store *sa = open_store(da), *sb = open_store(db);
    pel_pool *pool;
    CHECK_EQ_INT(pel_pool_new(3, &pool), 0);
    model m;
    model_init(&m, 6000);
    make_universe(m.k, 6000);
    for (uint64_t v = 0; v < 12; v++) {
        pel_writeset ws = random_batch(&m, v == 8 ? 1 : 0, v == 0 ? 6000 : 1500);
        uint8_t ra[HL], rb[HL], want[HL];
        uint64_t oldv = v ? v - 1 : PEL_SMT_NONE;
        if (v % 4 == 2) {        /* versions v and v+1 in one transaction */
            pel_writeset ws2 = random_batch(&m, 0, 1500);
            pel_store_txn *w;
            CHECK_EQ_INT(pel_store_begin(sa, &w), 0);
            CHECK_EQ_INT(pel_smt_update(sa, w, oldv, v, &ws, pool, ra), 0);
            CHECK_EQ_INT(pel_smt_update(sa, w, v, v + 1, &ws2, pool, ra), 0);
            CHECK_EQ_INT(pel_store_commit(w), 0);
            CHECK_EQ_INT(apply(sb, oldv, v, &ws, NULL, rb), 0);
            CHECK_EQ_INT(apply(sb, v, v + 1, &ws2, NULL, rb), 0);
            free(ws2.w);
            v++;
        } else {
            CHECK_EQ_INT(apply(sa, oldv, v, &ws, pool, ra), 0);
            CHECK_EQ_INT(apply(sb, oldv, v, &ws, NULL, rb), 0);
        }
        free(ws.w);
        model_ref_root(&m, want);
        CHECK_MEM(ra, want, HL);
        CHECK_MEM(rb, want, HL);
        CHECK(same_tables(sa, sb));
        CHECK_EQ_INT(pel_smt_walk(sa, v, NULL, NULL, ra), 0);
        CHECK_MEM(ra, want, HL);
    }
    model_free(&m);
    pel_pool_free(pool);
    pel_store_close(sa);
    pel_store_close(sb);
    test_rmdir_all(da);
    test_rmdir_all(db);
}

/* no-op writes keep the root, and write only the root copy */
static void noop_writes_change_nothing(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    model m;
    model_init(&m, 100);
    make_universe(m.k, 100);
    pel_writeset ws = random_batch(&m, 0, 100);
    uint8_t r0[HL], r1[HL];
    CHECK_EQ_INT(apply(s, PEL_SMT_NONE, 5, &ws, NULL, r0), 0);
    free(ws.w);
    uint64_t before = count_prefix(s, 'n');
    do {                                  /* a batch may come out empty: draw again */
        ws = random_batch(&m, 2, 100);
        if (ws.n == 0) free(ws.w);
    } while (ws.n == 0);
    CHECK_EQ_INT(apply(s, 5, 9, &ws, NULL, r1), 0);   /* versions may skip */
    free(ws.w);
    CHECK_MEM(r0, r1, HL);
    CHECK_EQ_INT(count_prefix(s, 'n'), before + 1);
    pel_writeset empty = { NULL, 0 };
    CHECK_EQ_INT(apply(s, 9, 10, &empty, NULL, r1), 0);
    CHECK_MEM(r0, r1, HL);
    CHECK_EQ_INT(pel_smt_root(s, 7, r1), PEL_ESMT_VERSION);
    CHECK_EQ_INT(pel_smt_root(s, 10, r1), 0);
    CHECK_MEM(r0, r1, HL);
    model_free(&m);
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void update_argument_errors(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    pel_store_txn *w;
    uint8_t r[HL];
    pel_writeset empty = { NULL, 0 };
    pel_write two[2];
    memset(two, 0, sizeof two);
    two[0].kind = two[1].kind = PEL_W_PUT;
    two[0].key.b[0] = 2;
    two[1].key.b[0] = 1;                          /* out of order */
    pel_writeset bad = { two, 2 };
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_smt_update(s, w, 3, 4, &empty, NULL, r), PEL_ESMT_VERSION);  /* no tree */
    CHECK_EQ_INT(pel_smt_update(s, w, PEL_SMT_NONE, 1, &bad, NULL, r), PEL_EINVAL);
    two[1].key.b[0] = 3;
    two[1].kind = 7;                              /* neither put nor delete */
    CHECK_EQ_INT(pel_smt_update(s, w, PEL_SMT_NONE, 1, &bad, NULL, r), PEL_EINVAL);
    two[1].kind = PEL_W_PUT;
    two[1].val.len = 4;                           /* NULL value of length 4 */
    CHECK_EQ_INT(pel_smt_update(s, w, PEL_SMT_NONE, 1, &bad, NULL, r), PEL_EINVAL);
    two[1].val.len = 0;
    CHECK_EQ_INT(pel_smt_update(s, w, PEL_SMT_NONE, PEL_SMT_NONE, &bad, NULL, r), PEL_EINVAL);
    CHECK_EQ_INT(pel_smt_update(s, w, PEL_SMT_NONE, 1, &bad, NULL, r), 0);
    CHECK_EQ_INT(pel_smt_update(s, w, 1, 1, &empty, NULL, r), PEL_EINVAL);
    CHECK_EQ_INT(pel_smt_update(s, w, 0, 2, &empty, NULL, r), PEL_EEXIST);   /* 1 is newer */
    CHECK_EQ_INT(pel_smt_update(s, w, 2, 3, &empty, NULL, r), PEL_ESMT_VERSION);
    CHECK_EQ_INT(pel_smt_update(s, w, PEL_SMT_NONE, 3, &empty, NULL, r), PEL_EEXIST);
    /* several versions in one transaction read each other's staged nodes */
    two[0].kind = PEL_W_DEL;
    CHECK_EQ_INT(pel_smt_update(s, w, 1, 2, &bad, NULL, r), 0);
    uint8_t want[HL];
    pel_writeset rest = { &two[1], 1 };
    CHECK_EQ_INT(pel_smt_root_of(&rest, want), 0);
    CHECK_MEM(r, want, HL);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_smt_root(s, 2, r), 0);
    CHECK_MEM(r, want, HL);
    /* the reads report missing versions */
    pel_smt_proof p;
    pel_buf v;
    pel_buf_init(&v);
    CHECK_EQ_INT(pel_buf_append(&v, "x", 1), 0);
    CHECK_EQ_INT(pel_smt_get_proof(s, 77, &two[0].key, &p, &v), PEL_ESMT_VERSION);
    CHECK_EQ_INT(v.len, 0);
    CHECK_EQ_INT(pel_smt_walk(s, 77, NULL, NULL, r), PEL_ESMT_VERSION);
    pel_buf_free(&v);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* first_deep_cb - the first version-1 node record at depth 3 or more. */
static int first_deep_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    pel_buf *b = arg;   /* b[0] key, b[1] record */
    if (kl < 9 + 3 || k[0] != 'n' || k[8] != 1) return 0;
    if (pel_buf_append(&b[0], k, kl) || pel_buf_append(&b[1], v, vl)) return PEL_ENOMEM;
    return 1;   /* stop */
}

/* A unit built ahead from the committed snapshot that meets a node the
 * transaction sees differently (here: corrupt when committed, mended in
 * the transaction) is rebuilt through the transaction, which has the last
 * word: the update succeeds with the right root. With the node left
 * corrupt, the pool's path reports it as one thread does. */
static void failed_job_is_rebuilt(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    pel_pool *pool;
    CHECK_EQ_INT(pel_pool_new(3, &pool), 0);
    model m;
    model_init(&m, 6000);
    make_universe(m.k, 6000);
    model_fill(&m, 3);
    pel_writeset ws = model_pairs(&m);
    uint8_t r[HL], want[HL];
    CHECK_EQ_INT(apply(s, PEL_SMT_NONE, 1, &ws, NULL, r), 0);
    free(ws.w);
    pel_buf kv[2];
    pel_buf_init(&kv[0]);
    pel_buf_init(&kv[1]);
    uint8_t from[9] = { 'n', 0, 0, 0, 0, 0, 0, 0, 1 };
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_SMT, from, sizeof from, NULL, 0, first_deep_cb, kv), 0);
    CHECK(kv[0].len >= 12 && kv[1].len > 0);
    uint8_t bad = 9;   /* unknown type: no parse accepts it */
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_SMT, kv[0].data, kv[0].len, &bad, 1), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    for (size_t i = 0; i < m.n; i++) m.len[i] = 4;
    ws = model_pairs(&m);
    model_ref_root(&m, want);
    for (int pass = 0; pass < 2; pass++) {   /* on one thread, then the pool */
        pel_pool *p = pass ? pool : NULL;
        /* corrupt in the snapshot and in the transaction: reported */
        CHECK_EQ_INT(pel_store_begin(s, &w), 0);
        CHECK_EQ_INT(pel_smt_update(s, w, 1, 2, &ws, p, r), PEL_ECORRUPT);
        pel_store_abort(w);
        /* mended in the transaction only: the jobs fail, worker 0 rebuilds */
        CHECK_EQ_INT(pel_store_begin(s, &w), 0);
        CHECK_EQ_INT(pel_store_put(w, PEL_T_SMT, kv[0].data, kv[0].len, kv[1].data, kv[1].len), 0);
        CHECK_EQ_INT(pel_smt_update(s, w, 1, 2, &ws, p, r), 0);
        CHECK_MEM(r, want, HL);
        if (pass) CHECK_EQ_INT(pel_store_commit(w), 0);
        else pel_store_abort(w);
    }
    CHECK_EQ_INT(pel_smt_walk(s, 2, NULL, NULL, r), 0);
    CHECK_MEM(r, want, HL);
    free(ws.w);
    pel_buf_free(&kv[0]);
    pel_buf_free(&kv[1]);
    model_free(&m);
    pel_pool_free(pool);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* a corrupt stored node is reported, not trusted */
static void corrupt_node_is_reported(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    model m;
    model_init(&m, 64);
    make_universe(m.k, 64);
    model_fill(&m, 3);
    pel_writeset ws = model_pairs(&m);
    uint8_t r[HL];
    CHECK_EQ_INT(apply(s, PEL_SMT_NONE, 1, &ws, NULL, r), 0);
    free(ws.w);
    /* flip one byte of a child hash in the root record */
    uint8_t k[9] = { 'n', 0, 0, 0, 0, 0, 0, 0, 1 };   /* root of version 1 */
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_SMT, k, sizeof k, &b), 0);
    CHECK(b.len > 5 + 8 && b.data[0] == 1);
    b.data[5 + 8] ^= 1;
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_SMT, k, sizeof k, b.data, b.len), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_smt_walk(s, 1, NULL, NULL, NULL), PEL_ECORRUPT);
    b.data[5 + 8] ^= 1;
    b.data[b.len - 1] ^= 1;   /* a stored p3 that its children do not give */
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_SMT, k, sizeof k, b.data, b.len), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_smt_walk(s, 1, NULL, NULL, NULL), PEL_ECORRUPT);
    b.data[0] = 9;   /* unknown type */
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_SMT, k, sizeof k, b.data, b.len), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_smt_root(s, 1, r), PEL_ECORRUPT);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    pel_writeset empty = { NULL, 0 };
    CHECK_EQ_INT(pel_smt_update(s, w, 1, 2, &empty, NULL, r), PEL_ECORRUPT);
    pel_store_abort(w);
    pel_buf_free(&b);
    model_free(&m);
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void allocation_failure_is_clean(void)
{
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    model m;
    model_init(&m, 100);
    make_universe(m.k, 100);
    pel_writeset ws = random_batch(&m, 0, 100);
    uint8_t r[HL], want[HL];
    model_ref_root(&m, want);
    int failures = 0;
    for (long n = 0; n < 4; n++) {
        pel_store_txn *w;
        CHECK_EQ_INT(pel_store_begin(s, &w), 0);
        pel_arena_test_fail_after(n);
        int rc = pel_smt_update(s, w, PEL_SMT_NONE, 1, &ws, NULL, r);
        pel_arena_test_fail_after(-1);
        if (rc) { CHECK_EQ_INT(rc, PEL_ENOMEM); CHECK_MEM(r, Z, HL); failures++; }
        else CHECK_MEM(r, want, HL);
        pel_store_abort(w);
    }
    CHECK(failures >= 1);
    CHECK_EQ_INT(apply(s, PEL_SMT_NONE, 1, &ws, NULL, r), 0);
    CHECK_MEM(r, want, HL);
    free(ws.w);
    model_free(&m);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* ---- rates (printed, not asserted) ---- */

static void rate_updates(pel_store *s, pel_pool *pool, const char *label, pel_key *keys,
                         size_t nkeys, size_t batch, uint64_t *ver, uint8_t *vals)
{
    pel_write *w = calloc(batch, sizeof *w);
    double t_upd = 0, t_all = 0;
    size_t written = 0;
    for (size_t b = 0; b < nkeys / batch; b++) {
        for (size_t i = 0; i < batch; i++) {
            w[i].key = keys[b * batch + i];
            w[i].kind = PEL_W_PUT;
            uint8_t *v = vals + 16 * (b * batch + i);
            v[0]++;
            w[i].val.p = v;
            w[i].val.len = 16;
        }
        qsort(w, batch, sizeof *w, key_cmp);   /* key is the first member */
        pel_writeset ws = { w, (uint32_t)batch };
        pel_store_txn *tx;
        uint8_t r[HL];
        double t0 = now();
        CHECK_EQ_INT(pel_store_begin(s, &tx), 0);
        double t1 = now();
        CHECK_EQ_INT(pel_smt_update(s, tx, *ver == 0 && b == 0 && !strcmp(label, "insert") ?
                                    PEL_SMT_NONE : *ver, *ver + 1, &ws, pool, r), 0);
        double t2 = now();
        CHECK_EQ_INT(pel_store_commit(tx), 0);
        t_upd += t2 - t1;
        t_all += now() - t0;
        (*ver)++;
        written += batch;
    }
    printf("  %-26s %zu keys in batches of %zu: %.0f key writes/s (update), "
           "%.0f/s with commit\n", label, written, batch, written / t_upd, written / t_all);
    free(w);
}

static void rates(void)
{
    /* smaller under ThreadSanitizer, which runs this test too */
    const size_t N = getenv("PEL_TEST_TSAN") ? 20000 : 100000, B = N / 10;
    char *dir = tmpdir();
    pel_store *s = open_store(dir);
    pel_pool *pool;
    CHECK_EQ_INT(pel_pool_new(2, &pool), 0);
    pel_key *keys = malloc(N * sizeof *keys);
    uint8_t *vals = calloc(N, 16);
    for (size_t i = 0; i < N; i++) rand_key(&keys[i]);
    uint64_t ver = 0;
    rate_updates(s, NULL, "insert", keys, N, B, &ver, vals);
    /* shuffle, then overwrite in random batches */
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = rnd() % (i + 1);
        pel_key t = keys[i]; keys[i] = keys[j]; keys[j] = t;
    }
    rate_updates(s, NULL, "overwrite, 1 thread", keys, N, B, &ver, vals);
    rate_updates(s, pool, "overwrite, pool of 2", keys, N, B, &ver, vals);

    uint8_t root[HL];
    CHECK_EQ_INT(pel_smt_root(s, ver, root), 0);
    const size_t P = N / 5;
    pel_smt_proof *pr = malloc(P * sizeof *pr);
    pel_buf val;
    pel_buf_init(&val);
    double t0 = now();
    for (size_t i = 0; i < P; i++)
        CHECK_EQ_INT(pel_smt_get_proof(s, ver, &keys[i], &pr[i], &val), 0);
    double t1 = now();
    size_t ok = 0, bytes = 0;
    pel_buf e;
    pel_buf_init(&e);
    for (size_t i = 0; i < P; i++) {
        pel_buf_reset(&e);
        CHECK_EQ_INT(pel_smt_proof_encode(&pr[i], &e), 0);
        bytes += e.len;
    }
    double t2 = now();
    for (size_t i = 0; i < P; i++)
        ok += pel_smt_verify(root, &keys[i], vals + 16 * i, 16, &pr[i]) == 0;
    double t3 = now();
    printf("  proofs on %zu keys: %.0f generated/s, %.0f verified/s, "
           "%.0f bytes average\n", N, P / (t1 - t0), P / (t3 - t2), (double)bytes / P);
    CHECK_EQ_INT(ok, P);
    pel_buf_free(&e);
    pel_buf_free(&val);
    free(pr);
    free(keys);
    free(vals);
    pel_pool_free(pool);
    pel_store_close(s);
    test_rmdir_all(dir);
}

int main(void)
{
    seed_rnd("test_smt");
    RUN(known_answers);
    RUN(root_of_matches_reference);
    RUN(paths_sharing_a_prefix);
    RUN(history_matches_model);
    RUN(every_bit_flip_is_rejected);
    RUN(prune_keeps_retained_versions);
    RUN(append_and_legacy_stale_records);
    RUN(pool_and_one_thread_agree);
    RUN(noop_writes_change_nothing);
    RUN(update_argument_errors);
    RUN(corrupt_node_is_reported);
    RUN(failed_job_is_rebuilt);
    RUN(allocation_failure_is_clean);
    RUN(rates);
    return TEST_END("test_smt");
}
