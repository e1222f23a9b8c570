/*
 * smt.c - the versioned sparse Merkle state tree (see smt.h for the hashes,
 * the records and the proof format).
 *
 * Sections: hashing; proofs (codec and verification); the in-memory
 * rebuild; stored records; the update (prepare, recurse, hash, write);
 * reads (root, proof, walk); pruning.
 *
 * The update: the writes get their paths and value hashes (on the pool)
 * and are sorted by path; then the changed part of the new tree is built
 * in memory, reading each touched old node once, one depth-2 subtree (a
 * "unit") at a time, each in its own arena; units are hashed bottom-up and
 * written by the caller's thread in key order as soon as they are done,
 * then freed; the part above depth 2 is hashed and written last.
 * Independent hashes (the writes' paths and values, the new leaves under a
 * node, the pairs of one level of sibling nodes) are computed together,
 * four at about the cost of one (core/blake2b.h). LMDB write transactions
 * belong to one thread, so every access through the transaction stays on
 * the caller's; with a pool, the units are read, built and hashed by every
 * thread from snapshots of the committed state (see "Units built ahead"
 * below).
 */
#include "state/smt.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/arena.h"
#include "core/blake2b.h"
#include "core/codec.h"
#include "core/hash.h"

#define HL PEL_SMT_HASH_LEN

enum { T_EMPTY = 0, T_INTERNAL = 1, T_LEAF = 2 };

static const uint8_t ZERO[HL];

/* ================================================================ */
/* hashing                                                          */
/* ================================================================ */

/* Tags with their length byte, as core/hash.h prefixes them. */
#define TAG_PATH  "\x0ePEL/state-path"
#define TAG_LEAF  "\x0ePEL/state-leaf"
#define TAG_NODE  "\x0ePEL/state-node"
#define TAG_VALUE "\x0fPEL/state-value"
#define TAGLEN(t) (sizeof(t) - 1)

/* th - the tagged hash of a || b in one BLAKE2b call (a + b <= 64 bytes),
 * equal to pel_hash_tagged but without the incremental state: these are
 * the hot hashes of the tree. crypto_generichash only fails for bad
 * lengths, which are fixed here, so the result is not checked. */
static void th(const char *tag, size_t tl, const uint8_t *a, size_t al,
               const uint8_t *b, size_t bl, uint8_t out[HL])
{
    uint8_t buf[16 + 64];
    memcpy(buf, tag, tl);
    memcpy(buf + tl, a, al);
    if (bl) memcpy(buf + tl + al, b, bl);
    (void)crypto_generichash(out, HL, buf, tl + al + bl, NULL, 0);
}

static inline bool is_zero(const uint8_t h[HL])
{
    uint64_t x[4];
    memcpy(x, h, HL);
    return (x[0] | x[1] | x[2] | x[3]) == 0;
}

/* pair - pair(l, r) of smt.h; out may alias l or r. */
static void pair(const uint8_t l[HL], const uint8_t r[HL], uint8_t out[HL])
{
    if (is_zero(l) && is_zero(r)) { memset(out, 0, HL); return; }
    th(TAG_NODE, TAGLEN(TAG_NODE), l, HL, r, HL, out);
}

/* span - the binary hash of the n (a power of two) child hashes c[0..n). */
static void span(const uint8_t (*c)[HL], unsigned n, uint8_t out[HL])
{
    if (n == 1) { memcpy(out, c[0], HL); return; }
    uint8_t l[HL], r[HL];
    span(c, n / 2, l);
    span(c + n / 2, n / 2, r);
    pair(l, r, out);
}

static void leaf_hash(const uint8_t path[HL], const uint8_t vh[HL], uint8_t out[HL])
{
    th(TAG_LEAF, TAGLEN(TAG_LEAF), path, HL, vh, HL, out);
}

/* The batched hashes (core/blake2b.h: four at about the cost of one).
 * Each input is built as tag || a || b in buf[i], then hashed into out[i]
 * (which may be a or b). */
#define BATCH_MAX 16

static void th_batch(const char *tag, size_t tl, unsigned n, const uint8_t **a, size_t al,
                     const uint8_t **b, size_t bl, uint8_t **out)
{
    uint8_t buf[BATCH_MAX][16 + 64];
    pel_blake2b_job job[BATCH_MAX];
    for (unsigned i = 0; i < n; i++) {
        memcpy(buf[i], tag, tl);
        memcpy(buf[i] + tl, a[i], al);
        if (bl) memcpy(buf[i] + tl + al, b[i], bl);
        job[i] = (pel_blake2b_job){ buf[i], tl + al + bl, out[i] };
    }
    pel_blake2b_batch(job, n);
}

/* pairs16 - out[i] = pair(l[i], r[i]) for i < n <= BATCH_MAX; no out[i]
 * may be another pair's input (a Z result is written at once). */
static void pairs16(unsigned n, const uint8_t **l, const uint8_t **r, uint8_t **out)
{
    const uint8_t *bl[BATCH_MAX], *br[BATCH_MAX];
    uint8_t *bo[BATCH_MAX];
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (is_zero(l[i]) && is_zero(r[i])) { memset(out[i], 0, HL); continue; }
        bl[k] = l[i];
        br[k] = r[i];
        bo[k++] = out[i];
    }
    th_batch(TAG_NODE, TAGLEN(TAG_NODE), k, bl, HL, br, HL, bo);
}

/* pairs - out[i] = pair(l[i], r[i]) for i < n, BATCH_MAX at a time. */
static void pairs(unsigned n, const uint8_t **l, const uint8_t **r, uint8_t **out)
{
    for (unsigned i = 0; i < n; i += BATCH_MAX)
        pairs16(n - i < BATCH_MAX ? n - i : BATCH_MAX, l + i, r + i, out + i);
}

static void path_of(const uint8_t key[PEL_KEY_LEN], uint8_t out[HL])
{
    th(TAG_PATH, TAGLEN(TAG_PATH), key, PEL_KEY_LEN, NULL, 0, out);
}

static void value_hash(const uint8_t *v, size_t len, uint8_t out[HL])
{
    if (len <= 64) {
        th(TAG_VALUE, TAGLEN(TAG_VALUE), v ? v : ZERO, len, NULL, 0, out);
        return;
    }
    crypto_generichash_state st;
    (void)crypto_generichash_init(&st, NULL, 0, HL);
    (void)crypto_generichash_update(&st, (const uint8_t *)TAG_VALUE, TAGLEN(TAG_VALUE));
    (void)crypto_generichash_update(&st, v, len);
    (void)crypto_generichash_final(&st, out, HL);
}

static inline unsigned nib(const uint8_t *p, unsigned d)
{
    return d & 1 ? p[d >> 1] & 15u : (unsigned)p[d >> 1] >> 4;
}

/* prefix_eq - a and b agree in nibbles 0..d-1. */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned d)
{
    if (memcmp(a, b, d / 2) != 0) return false;
    return !(d & 1) || (a[d / 2] >> 4) == (b[d / 2] >> 4);
}

int pel_smt_path(const pel_key *key, uint8_t path[HL])
{
    if (pel_crypto_init()) { memset(path, 0, HL); return PEL_ECRYPTO; }
    path_of(key->b, path);
    return 0;
}

int pel_smt_value_hash(const void *value, size_t len, uint8_t out[HL])
{
    if (pel_crypto_init()) { memset(out, 0, HL); return PEL_ECRYPTO; }
    value_hash(value, len, out);
    return 0;
}

int pel_smt_leaf_hash(const uint8_t path[HL], const uint8_t vh[HL], uint8_t out[HL])
{
    if (pel_crypto_init()) { memset(out, 0, HL); return PEL_ECRYPTO; }
    leaf_hash(path, vh, out);
    return 0;
}

int pel_smt_node_hash(const uint8_t children[16][HL], uint8_t out[HL])
{
    if (pel_crypto_init()) { memset(out, 0, HL); return PEL_ECRYPTO; }
    span(children, 16, out);
    return 0;
}

/* ================================================================ */
/* proofs                                                           */
/* ================================================================ */

/* fold - from the end hash h, climb the proof's levels along path. */
static void fold(const uint8_t path[HL], const pel_smt_proof *p, uint8_t h[HL])
{
    for (unsigned i = p->depth; i-- > 0;) {
        unsigned n = nib(path, i);
        for (unsigned j = 0; j < 4; j++) {
            if ((n >> j) & 1) pair(p->sib[i][j], h, h);
            else pair(h, p->sib[i][j], h);
        }
    }
}

/* well_formed - what the decoder enforces, for structs built by hand. */
static bool well_formed(const pel_smt_proof *p)
{
    if (p->kind > PEL_SMT_ABSENT_LEAF || p->depth > PEL_SMT_MAX_DEPTH) return false;
    for (unsigned i = 0; i < p->depth; i++) {
        if (p->mask[i] > 15) return false;
        for (unsigned j = 0; j < 4; j++)
            if (((p->mask[i] >> j) & 1) == is_zero(p->sib[i][j])) return false;
    }
    return p->depth == 0 || p->mask[p->depth - 1] != 0;
}

int pel_smt_verify_hash(const uint8_t root[HL], const pel_key *key,
                        const uint8_t *vh, const pel_smt_proof *p)
{
    if (pel_crypto_init()) return PEL_ECRYPTO;
    if (!well_formed(p)) return PEL_EPROOF;
    uint8_t path[HL], h[HL];
    path_of(key->b, path);
    if (vh) {
        if (p->kind != PEL_SMT_PRESENT) return PEL_EPROOF;
        leaf_hash(path, vh, h);
    } else if (p->kind == PEL_SMT_ABSENT_EMPTY) {
        memset(h, 0, HL);
    } else if (p->kind == PEL_SMT_ABSENT_LEAF) {
        if (memcmp(p->leaf_path, path, HL) == 0 ||
            !prefix_eq(p->leaf_path, path, p->depth))
            return PEL_EPROOF;
        leaf_hash(p->leaf_path, p->leaf_value_hash, h);
    } else {
        return PEL_EPROOF;
    }
    fold(path, p, h);
    return memcmp(h, root, HL) == 0 ? 0 : PEL_EPROOF;
}

int pel_smt_verify(const uint8_t root[HL], const pel_key *key, const void *value,
                   size_t len, const pel_smt_proof *p)
{
    if (pel_crypto_init()) return PEL_ECRYPTO;
    uint8_t vh[HL];
    if (value) value_hash(value, len, vh);
    return pel_smt_verify_hash(root, key, value ? vh : NULL, p);
}

int pel_smt_proof_encode(const pel_smt_proof *p, pel_buf *out)
{
    if (!well_formed(p)) return PEL_EINVAL;
    size_t n = 2 + (p->kind == PEL_SMT_ABSENT_LEAF ? 2 * HL : 0);
    for (unsigned i = 0; i < p->depth; i++)
        n += 1 + HL * (size_t)__builtin_popcount(p->mask[i]);
    if (pel_buf_reserve(out, n)) return PEL_ENOMEM;
    /* cannot fail now: the room is reserved */
    int rc = pel_enc_u8(out, p->kind) | pel_enc_u8(out, p->depth);
    for (unsigned i = 0; i < p->depth; i++) {
        rc |= pel_enc_u8(out, p->mask[i]);
        for (unsigned j = 0; j < 4; j++)
            if ((p->mask[i] >> j) & 1) rc |= pel_enc_raw(out, p->sib[i][j], HL);
    }
    if (p->kind == PEL_SMT_ABSENT_LEAF)
        rc |= pel_enc_raw(out, p->leaf_path, HL) | pel_enc_raw(out, p->leaf_value_hash, HL);
    return rc ? PEL_ENOMEM : 0;
}

/* dec_hash - 32 raw bytes into out; a Z hash is non-canonical when
 * nonzero is set. */
static int dec_hash(pel_dec *d, bool nonzero, uint8_t out[HL])
{
    const uint8_t *q;
    int rc = pel_dec_raw(d, HL, &q);
    if (rc) return rc;
    if (nonzero && is_zero(q)) return PEL_ENONCANON;
    memcpy(out, q, HL);
    return 0;
}

static int dec_levels(pel_dec *d, pel_smt_proof *p)
{
    for (unsigned i = 0; i < p->depth; i++) {
        int rc = pel_dec_u8(d, &p->mask[i]);
        if (rc) return rc;
        if (p->mask[i] > 15) return PEL_ENONCANON;
        for (unsigned j = 0; j < 4; j++)
            if ((p->mask[i] >> j) & 1 && (rc = dec_hash(d, true, p->sib[i][j])))
                return rc;
    }
    if (p->depth && p->mask[p->depth - 1] == 0) return PEL_ENONCANON;
    return 0;
}

int pel_smt_proof_decode(const void *data, size_t len, pel_smt_proof *out)
{
    pel_dec d;
    memset(out, 0, sizeof *out);
    pel_dec_init(&d, data ? data : ZERO, data ? len : 0);
    int rc = pel_dec_u8(&d, &out->kind);
    if (!rc) rc = pel_dec_u8(&d, &out->depth);
    if (!rc && (out->kind > PEL_SMT_ABSENT_LEAF || out->depth > PEL_SMT_MAX_DEPTH))
        rc = PEL_ENONCANON;
    if (!rc) rc = dec_levels(&d, out);
    if (!rc && out->kind == PEL_SMT_ABSENT_LEAF) {
        rc = dec_hash(&d, false, out->leaf_path);
        if (!rc) rc = dec_hash(&d, false, out->leaf_value_hash);
    }
    if (!rc) rc = pel_dec_finish(&d);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

/* ================================================================ */
/* in-memory rebuild                                                */
/* ================================================================ */

typedef struct ent { uint8_t path[HL], vh[HL]; } ent;

static int ent_cmp(const void *a, const void *b)
{
    return memcmp(((const ent *)a)->path, ((const ent *)b)->path, HL);
}

/* build_root - hash of T(e[0..n), d) (smt.h), recursively. */
static void build_root(const ent *e, size_t n, unsigned d, uint8_t out[HL])
{
    if (n == 0) { memset(out, 0, HL); return; }
    if (n == 1) { leaf_hash(e[0].path, e[0].vh, out); return; }
    uint8_t c[16][HL];
    memset(c, 0, sizeof c);
    for (size_t i = 0, j; i < n; i = j) {
        unsigned v = nib(e[i].path, d);
        for (j = i + 1; j < n && nib(e[j].path, d) == v; j++) {}
        build_root(e + i, j - i, d + 1, c[v]);
    }
    span(c, 16, out);
}

/* check_ws - keys strictly increasing; puts only if puts_only. */
static int check_ws(const pel_writeset *ws, bool puts_only)
{
    for (uint32_t i = 0; i < ws->n; i++) {
        const pel_write *w = &ws->w[i];
        if (w->kind != PEL_W_PUT && (puts_only || w->kind != PEL_W_DEL)) return PEL_EINVAL;
        if (w->kind == PEL_W_PUT && (w->val.len > PEL_VAL_MAX || (w->val.len && !w->val.p)))
            return PEL_EINVAL;
        if (i && pel_key_cmp(&ws->w[i - 1].key, &w->key) >= 0) return PEL_EINVAL;
    }
    return 0;
}

int pel_smt_root_of(const pel_writeset *pairs, uint8_t root[HL])
{
    memset(root, 0, HL);
    if (pel_crypto_init()) return PEL_ECRYPTO;
    int rc = check_ws(pairs, true);
    if (rc) return rc;
    ent *e = malloc((pairs->n ? pairs->n : 1) * sizeof *e);
    if (!e) return PEL_ENOMEM;
    for (uint32_t i = 0; i < pairs->n; i++) {
        path_of(pairs->w[i].key.b, e[i].path);
        value_hash(pairs->w[i].val.p, pairs->w[i].val.len, e[i].vh);
    }
    qsort(e, pairs->n, sizeof *e, ent_cmp);
    build_root(e, pairs->n, 0, root);
    free(e);
    return 0;
}

/* ================================================================ */
/* stored records                                                   */
/* ================================================================ */

#define NKEY_MAX (9 + 2 * HL)
#define LEAF_HDR (1 + 3 * HL)
#define PRUNE_BATCH_BYTES ((size_t)8 << 20)

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}

static uint64_t rd_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

/* node_key - 'n' || ver || the first depth nibbles of path, one a byte:
 * a node's key is a prefix of its descendants', so depth-first order is
 * key order. */
static size_t node_key(uint8_t k[NKEY_MAX], uint64_t ver, unsigned depth, const uint8_t *path)
{
    k[0] = 'n';
    be64(k + 1, ver);
    for (unsigned i = 0; i < depth; i++) k[9 + i] = (uint8_t)nib(path, i);
    return 9 + depth;
}

static const uint8_t K_LATEST[1] = { 'l' };
static const uint8_t K_FLOOR[1] = { 'f' };

/* Stale records: 'd' sorts below the nodes, so a new version's nodes are
 * the table's last keys and go in with pel_store_append; stores written
 * before that have 's' records (after the nodes), which prune still reads
 * and which turn appending off until they are pruned. */
#define STALE 'd'
#define STALE_OLD 's'

static atomic_uint_fast64_t appended, append_misses;

void pel_smt_append_stats(uint64_t *done, uint64_t *misses)
{
    *done = atomic_load_explicit(&appended, memory_order_relaxed);
    *misses = atomic_load_explicit(&append_misses, memory_order_relaxed);
}

/* A decoded internal node: child versions and hashes, and the node's p2
 * and p3 (smt.h), all Z where their part of the node is empty. */
typedef struct inode {
    uint16_t bits, leafbits;
    uint64_t ver[16];
    uint8_t hash[16][HL];
    uint8_t p2[4][HL], p3[2][HL];
} inode;

#define INODE_MAX (5 + 16 * 40 + 6 * HL)

/* p2 / p3 exist where their quarter / half of the node has children. */
static inline bool has_p2(uint16_t bits, unsigned i) { return (bits >> (4 * i)) & 0xF; }
static inline bool has_p3(uint16_t bits, unsigned i) { return (bits >> (8 * i)) & 0xFF; }

/* dec_hashes - read a nonzero hash into each h[i] whose bit is in `has`,
 * Z elsewhere; *q advances. */
static int dec_hashes(const uint8_t **q, uint8_t (*h)[HL], unsigned n, unsigned has)
{
    for (unsigned i = 0; i < n; i++) {
        if (!((has >> i) & 1)) { memset(h[i], 0, HL); continue; }
        memcpy(h[i], *q, HL);
        *q += HL;
        if (is_zero(h[i])) return PEL_ECORRUPT;
    }
    return 0;
}

static int parse_inode(const uint8_t *v, size_t len, inode *o)
{
    if (len < 5 || v[0] != T_INTERNAL) return PEL_ECORRUPT;
    o->bits = (uint16_t)pel_le_load(v + 1, 2);
    o->leafbits = (uint16_t)pel_le_load(v + 3, 2);
    unsigned cnt = (unsigned)__builtin_popcount(o->bits), h2 = 0, h3 = 0;
    for (unsigned i = 0; i < 4; i++) h2 |= (unsigned)has_p2(o->bits, i) << i;
    for (unsigned i = 0; i < 2; i++) h3 |= (unsigned)has_p3(o->bits, i) << i;
    size_t want = 5 + 40 * (size_t)cnt + HL * (size_t)__builtin_popcount(h2 << 2 | h3);
    if (len != want || (o->leafbits & ~o->bits) || cnt == 0 || (cnt == 1 && o->leafbits))
        return PEL_ECORRUPT;
    const uint8_t *q = v + 5;
    for (unsigned i = 0; i < 16; i++) {
        if (!((o->bits >> i) & 1)) { o->ver[i] = 0; memset(o->hash[i], 0, HL); continue; }
        o->ver[i] = pel_le_load(q, 8);
        memcpy(o->hash[i], q + 8, HL);
        if (is_zero(o->hash[i])) return PEL_ECORRUPT;
        q += 40;
    }
    int rc = dec_hashes(&q, o->p2, 4, h2);
    return rc ? rc : dec_hashes(&q, o->p3, 2, h3);
}

/* encode_inode - the record of an internal node into out (room for
 * INODE_MAX bytes). @return its length. */
static size_t encode_inode(const inode *o, uint8_t *out)
{
    out[0] = T_INTERNAL;
    pel_le_store(out + 1, o->bits, 2);
    pel_le_store(out + 3, o->leafbits, 2);
    uint8_t *q = out + 5;
    for (unsigned i = 0; i < 16; i++) {
        if (!((o->bits >> i) & 1)) continue;
        pel_le_store(q, o->ver[i], 8);
        memcpy(q + 8, o->hash[i], HL);
        q += 40;
    }
    for (unsigned i = 0; i < 4; i++)
        if (has_p2(o->bits, i)) { memcpy(q, o->p2[i], HL); q += HL; }
    for (unsigned i = 0; i < 2; i++)
        if (has_p3(o->bits, i)) { memcpy(q, o->p3[i], HL); q += HL; }
    return (size_t)(q - out);
}

/* A node to rehash: its children, the slots whose child changed, and
 * where its hash goes. */
typedef struct rjob { inode *o; uint16_t dirty; uint8_t *out; } rjob;

#define RJOB_MAX 16

/* rehash_many - for each job, recompute p2 and p3 over the quarters and
 * halves holding a dirty slot, then the node hash: about 5 pair hashes
 * for one changed child instead of 15. The pairs of one level of all the
 * jobs (n <= RJOB_MAX, siblings in the new tree) are independent, so they
 * are hashed together (pairs()). */
static void rehash_many(const rjob *j, unsigned n)
{
    uint8_t p1[RJOB_MAX][8][HL];
    const uint8_t *l[8 * RJOB_MAX], *r[8 * RJOB_MAX];
    uint8_t *to[8 * RJOB_MAX];
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned q = 0; q < 8; q++)   /* the child pairs of dirty quarters */
            if ((j[i].dirty >> (4 * (q / 2))) & 0xF)
                l[m] = j[i].o->hash[2 * q], r[m] = j[i].o->hash[2 * q + 1], to[m++] = p1[i][q];
    pairs(m, l, r, to);
    m = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned q = 0; q < 4; q++)
            if ((j[i].dirty >> (4 * q)) & 0xF)
                l[m] = p1[i][2 * q], r[m] = p1[i][2 * q + 1], to[m++] = j[i].o->p2[q];
    pairs(m, l, r, to);
    m = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned h = 0; h < 2; h++)
            if ((j[i].dirty >> (8 * h)) & 0xFF)
                l[m] = j[i].o->p2[2 * h], r[m] = j[i].o->p2[2 * h + 1], to[m++] = j[i].o->p3[h];
    pairs(m, l, r, to);
    for (m = 0; m < n; m++) l[m] = j[m].o->p3[0], r[m] = j[m].o->p3[1], to[m] = j[m].out;
    pairs(n, l, r, to);
}

static void rehash(inode *o, uint16_t dirty, uint8_t out[HL])
{
    rjob j = { o, dirty, out };
    rehash_many(&j, 1);
}

/* inode_check - the stored p2 and p3 match the children. */
static bool inode_check(const inode *o)
{
    inode t = *o;
    uint8_t h[HL];
    rehash(&t, 0xFFFF, h);
    return !memcmp(t.p2, o->p2, sizeof t.p2) && !memcmp(t.p3, o->p3, sizeof t.p3);
}

/* A leaf record's fields, pointing into the record. */
typedef struct leafrec {
    const uint8_t *path, *key, *vh, *val;
    size_t len;
} leafrec;

static int parse_leaf(const uint8_t *v, size_t len, leafrec *l)
{
    if (len < LEAF_HDR || v[0] != T_LEAF || len - LEAF_HDR > PEL_VAL_MAX) return PEL_ECORRUPT;
    l->path = v + 1;
    l->key = v + 1 + HL;
    l->vh = v + 1 + 2 * HL;
    l->val = v + LEAF_HDR;
    l->len = len - LEAF_HDR;
    return 0;
}

/* parse_node - parse a leaf record (into l, *leaf = true) or an internal
 * one (into o) and hash the node it holds. @return 0 or PEL_ECORRUPT. */
static int parse_node(const uint8_t *v, size_t len, leafrec *l, inode *o, bool *leaf,
                      uint8_t out[HL])
{
    *leaf = len && v[0] == T_LEAF;
    int rc = *leaf ? parse_leaf(v, len, l) : parse_inode(v, len, o);
    if (rc) return rc;
    if (*leaf) leaf_hash(l->path, l->vh, out);
    else pair(o->p3[0], o->p3[1], out);
    return 0;
}

/* record_hash - the hash of the node a record holds. */
static int record_hash(const uint8_t *v, size_t len, uint8_t out[HL])
{
    leafrec l;
    inode o;
    bool leaf;
    if (len == 1 && v[0] == T_EMPTY) { memset(out, 0, HL); return 0; }
    return parse_node(v, len, &l, &o, &leaf, out);
}

static int get_u64_rec(pel_store *s, const uint8_t *k, uint64_t *v)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_get(s, PEL_T_SMT, k, 1, &b);
    if (!rc) rc = b.len == 8 ? 0 : PEL_ECORRUPT;
    *v = rc ? 0 : pel_le_load(b.data, 8);
    pel_buf_free(&b);
    return rc;
}

static int txn_get_u64(pel_store_txn *w, const uint8_t *k, uint64_t *v)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_txn_get(w, PEL_T_SMT, k, 1, &b);
    if (!rc) rc = b.len == 8 ? 0 : PEL_ECORRUPT;
    *v = rc ? 0 : pel_le_load(b.data, 8);
    pel_buf_free(&b);
    return rc;
}

static int put_u64_rec(pel_store_txn *w, const uint8_t *k, uint64_t v)
{
    uint8_t b[8];
    pel_le_store(b, v, 8);
    return pel_store_put(w, PEL_T_SMT, k, 1, b, 8);
}

/* missing - the code for a node or root of `version` not found: pruned if
 * the version is below the floor now, else the root was never written
 * (root) or the store lost a node (corrupt). */
static int missing(pel_store *s, uint64_t version, bool root)
{
    uint64_t floor;
    int rc = get_u64_rec(s, K_FLOOR, &floor);
    if (rc == PEL_ENOTFOUND) floor = 0;
    else if (rc) return rc;
    if (version < floor) return PEL_ESMT_PRUNED;
    return root ? PEL_ESMT_VERSION : PEL_ECORRUPT;
}

/* ================================================================ */
/* update                                                           */
/* ================================================================ */

/* One write (or an old leaf carried into a rebuilt subtree), by path. */
typedef struct item {
    uint8_t path[HL], vh[HL];
    const uint8_t *key, *val;
    uint32_t len;
    uint8_t del;
} item;

typedef struct nnode nnode;

typedef struct kids {
    inode o;               /* children as they will be stored */
    nnode *n[16];          /* the new child in a slot, NULL if kept */
    uint16_t dirty;        /* slots whose child changed */
} kids;

/* A node of the new tree. Leaves are placed (given a depth) by whoever
 * keeps them: the parent's slot, or the root. */
struct nnode {
    uint8_t type;
    const uint8_t *path;   /* leaf: its path; internal: a path under it */
    const item *leaf;
    kids *k;
    uint8_t hash[HL];
};

/* Old node reference: type, version and hash (as its parent stores them;
 * Z for the root) of the node at a position. */
typedef struct oref { uint8_t type; uint64_t ver; uint8_t hash[HL]; } oref;

/*
 * The update pipeline. The tree is cut at depth SPLIT into units (the
 * subtrees rooted there, 256 positions). Worker 0 (the caller's thread,
 * which owns the transaction) reads and rebuilds one unit after another in
 * position order, each in its own arena, and publishes each new internal
 * unit; any worker hashes a published unit; worker 0 writes units in order
 * (DFS within a unit is key order) as soon as they are hashed, and frees
 * them, running at most `ahead` units in front of the writer. The nodes
 * above SPLIT, and leaves at or above it (they may still move up), are
 * hashed and written last. So memory holds the writes plus a few units,
 * and hashing overlaps the store's reads and writes.
 *
 * Units built ahead: worker 0's reads through the transaction would be
 * the serial part, so when the old root is committed (the committed
 * snapshot holds the same root record) every unit position with writes
 * under an old internal depth-1 node becomes a job that any worker may
 * run ahead of worker 0, at most LEAD jobs ahead: read the unit's old nodes from a snapshot of its own
 * (pel_store_snap, values in place), rebuild the unit in its arena, hash
 * it, and keep the nodes it replaced in the job's stale list. Worker 0,
 * reaching the position, takes the finished job (or runs it itself if no
 * worker took it, or helps with other jobs while one runs), appends its
 * stale list to the update's in position order, and writes it in turn. A
 * job that failed is rebuilt by worker 0 through the transaction, which
 * has the last word. Nodes are write-once and the old version's nodes are
 * not pruned while it is the latest, so the snapshot and the transaction
 * agree on every node reachable from the old root; the written tree is
 * byte for byte the one worker 0 alone would write.
 */
#define SPLIT 2
#define NUNITS 256
#define AHEAD 6
#define LEAD 16

enum { U_QUEUED, U_CLAIMED, U_DONE, U_SKIPPED };

typedef struct unit { nnode *x; unsigned pos; int state; } unit;

/* A unit built ahead: its position, old root and writes; once done, the
 * new subtree (hashed, in the position's arena; NULL when unchanged), the
 * stale entries its rebuild found, and its result code. */
typedef struct bjob {
    unsigned pos;
    oref o;
    item *it;
    size_t n;
    int state;
    nnode *out;
    pel_buf stale;
    int rc;
} bjob;

typedef struct uctx uctx;

/* A builder: where one rebuild allocates (cur), lists the nodes it
 * replaces (stale) and reads old nodes from: the write transaction (snap
 * NULL; records copied into rd) or a snapshot (records in place). */
typedef struct bctx {
    uctx *c;
    pel_arena *cur;
    pel_buf *stale;
    pel_store_snap *snap;
    pel_buf rd;
    const uint8_t *rec;      /* the last record read, rlen bytes */
    size_t rlen;
} bctx;

struct uctx {
    pel_store *s;
    pel_store_txn *w;
    uint64_t newv;
    const pel_writeset *ws;
    item *it;                /* the writes, sorted by path */
    pel_arena top;           /* items, nodes above SPLIT */
    pel_arena sub[NUNITS];   /* each unit's nodes, by position */
    bctx b0;                 /* worker 0 through the transaction */
    pel_buf big;             /* leaf records too large for the stack */
    pel_buf stale;           /* stale node entries, concatenated */
    bool append;             /* the units' nodes go in with pel_store_append */
    uint64_t appended;       /* records appended (for pel_smt_append_stats) */
    bool append_missed;      /* an append was refused (then append is off) */
    /* pipeline state, all under mu: units [0, npub) published, workers
     * claim from nclaim, worker 0 has written [0, nwritten) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unit u[NUNITS];
    size_t npub, nclaim, nwritten;
    bool finished;
    unsigned ahead;
    /* units built ahead, under mu too: jobs [0, njobs) in position order,
     * workers claim from jclaim below cursor + LEAD, worker 0 is at cursor */
    bjob jobs[NUNITS];
    int jidx[NUNITS];        /* job of a position, or -1 */
    size_t njobs, jclaim, cursor;
    bctx *wb;                /* each worker's builder for jobs (snapshots) */
    unsigned nworkers;
    atomic_size_t next;      /* prepare: next chunk; relaxed, pool_run orders */
    oref oroot;
    nnode *root;             /* worker 0's result */
    int rc;
};

static nnode *new_node(bctx *b, uint8_t type, const uint8_t *path)
{
    nnode *x = pel_arena_alloc(b->cur, sizeof *x);
    if (!x) return NULL;
    memset(x, 0, sizeof *x);
    x->type = type;
    x->path = path;
    return x;
}

/* mark_stale - record node (ver, depth, position) as replaced at newv:
 * version u64 BE, depth u8, the nibbles packed two per byte. */
static int mark_stale(bctx *b, uint64_t ver, unsigned depth, const uint8_t *path)
{
    uint8_t e[9 + HL];
    size_t nb = (depth + 1) / 2;
    be64(e, ver);
    e[8] = (uint8_t)depth;
    memcpy(e + 9, path, nb);
    if (depth & 1) e[8 + nb] &= 0xF0;
    return pel_buf_append(b->stale, e, 9 + nb) ? PEL_ENOMEM : 0;
}

/* read_at - the record of old node o (at depth, prefix of path) into
 * b->rec / b->rlen: through the transaction or b's snapshot. A referenced
 * node that is missing is corruption. */
static int read_at(bctx *b, const oref *o, unsigned depth, const uint8_t *path)
{
    uint8_t k[NKEY_MAX];
    size_t n = node_key(k, o->ver, depth, path);
    int rc;
    if (b->snap) {
        rc = pel_store_snap_get(b->snap, PEL_T_SMT, k, n, &b->rec, &b->rlen);
    } else {
        rc = pel_store_txn_get(b->c->w, PEL_T_SMT, k, n, &b->rd);
        b->rec = b->rd.data;
        b->rlen = b->rd.len;
    }
    return rc == PEL_ENOTFOUND ? PEL_ECORRUPT : rc;
}

/* read_leaf - the old leaf at (ver, depth, path prefix), parsed in
 * b->rec and checked to lie there. */
static int read_leaf(bctx *b, const oref *o, unsigned depth, const uint8_t *path, leafrec *l)
{
    int rc = read_at(b, o, depth, path);
    if (!rc) rc = parse_leaf(b->rec, b->rlen, l);
    if (!rc && !prefix_eq(l->path, path, depth)) rc = PEL_ECORRUPT;
    return rc;
}

/* leaf_item - a copy of leaf l as an item in the current arena. */
static int leaf_item(bctx *b, const leafrec *l, item **out)
{
    item *x = pel_arena_alloc(b->cur, sizeof *x);
    uint8_t *kv = pel_arena_alloc(b->cur, HL + l->len);
    if (!x || !kv) return PEL_ENOMEM;
    memcpy(x->path, l->path, HL);
    memcpy(x->vh, l->vh, HL);
    memcpy(kv, l->key, HL);
    memcpy(kv + HL, l->val, l->len);
    x->key = kv;
    x->val = kv + HL;
    x->len = (uint32_t)l->len;
    x->del = 0;
    *out = x;
    return 0;
}

/* group_end - end of the run of items from i sharing nibble d. */
static size_t group_end(const item *it, size_t n, size_t i, unsigned d)
{
    unsigned v = nib(it[i].path, d);
    size_t j = i + 1;
    while (j < n && nib(it[j].path, d) == v) j++;
    return j;
}

static void set_slot(kids *k, unsigned v, nnode *x, uint64_t ver)
{
    k->dirty |= (uint16_t)(1u << v);
    if (x->type == T_EMPTY) {
        k->n[v] = NULL;
        k->o.bits &= (uint16_t)~(1u << v);
        k->o.leafbits &= (uint16_t)~(1u << v);
        memset(k->o.hash[v], 0, HL);
        return;
    }
    k->n[v] = x;
    k->o.bits |= (uint16_t)(1u << v);
    if (x->type == T_LEAF) k->o.leafbits |= (uint16_t)(1u << v);
    else k->o.leafbits &= (uint16_t)~(1u << v);
    k->o.ver[v] = ver;
}

/* new_kids - children of a new node: none (all), or none changed yet
 * with k->o left for parse_inode to fill. */
static kids *new_kids(bctx *b, bool all)
{
    kids *k = pel_arena_alloc(b->cur, sizeof *k);
    if (!k) return NULL;
    if (all) memset(&k->o, 0, sizeof k->o);
    memset(k->n, 0, sizeof k->n);
    k->dirty = 0;
    return k;
}

/*
 * build - the subtree T(puts of it[0..n), d) as new nodes (deletes are
 * ignored: nothing old is below). A single put is an unplaced leaf.
 */
static int build(bctx *b, unsigned d, const item *it, size_t n, nnode **out)
{
    size_t puts = 0, last = 0;
    for (size_t i = 0; i < n; i++)
        if (!it[i].del) { puts++; last = i; }
    if (puts <= 1) {
        *out = new_node(b, puts ? T_LEAF : T_EMPTY, it[last].path);
        if (*out && puts) (*out)->leaf = &it[last];
        return *out ? 0 : PEL_ENOMEM;
    }
    nnode *x = new_node(b, T_INTERNAL, it[0].path);
    kids *k = new_kids(b, true);
    if (!x || !k) return PEL_ENOMEM;
    x->k = k;
    for (size_t i = 0, j; i < n; i = j) {
        j = group_end(it, n, i, d);
        nnode *ch;
        int rc = build(b, d + 1, it + i, j - i, &ch);
        if (rc) return rc;
        if (ch->type != T_EMPTY) set_slot(k, nib(it[i].path, d), ch, b->c->newv);
    }
    *out = x;
    return 0;
}

/* find_path - index of the item with this path, or n. */
static size_t find_path(const item *it, size_t n, const uint8_t *path)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = memcmp(it[mid].path, path, HL);
        if (r == 0) return mid;
        if (r < 0) lo = mid + 1; else hi = mid;
    }
    return n;
}

static size_t count_puts(const item *it, size_t n)
{
    size_t p = 0;
    for (size_t i = 0; i < n; i++) p += !it[i].del;
    return p;
}

/* merge_leaf - the writes plus a copy of old leaf l at its place. */
static int merge_leaf(bctx *b, const leafrec *l, item **it, size_t *n)
{
    item *x, *m = pel_arena_alloc(b->cur, (*n + 1) * sizeof *m);
    if (!m) return PEL_ENOMEM;
    int rc = leaf_item(b, l, &x);
    if (rc) return rc;
    size_t at = 0;
    while (at < *n && memcmp((*it)[at].path, l->path, HL) < 0) at++;
    memcpy(m, *it, at * sizeof *m);
    m[at] = *x;
    memcpy(m + at + 1, *it + at, (*n - at) * sizeof *m);
    *it = m;
    (*n)++;
    return 0;
}

/*
 * old_leaf - old leaf o at depth d under the writes. *same when they leave
 * it alone (no other key is put, and it is neither deleted nor given a new
 * value). Otherwise it is stale and, unless a write replaces it, joins the
 * writes (*it, *n replaced by the merged set).
 */
static int old_leaf(bctx *b, oref o, unsigned d, item **it, size_t *n, bool *same)
{
    leafrec l;
    int rc = read_leaf(b, &o, d, (*it)[0].path, &l);
    if (rc) return rc;
    size_t at = find_path(*it, *n, l.path);
    size_t puts = count_puts(*it, *n) - (at < *n && !(*it)[at].del);
    *same = !puts && (at == *n || (!(*it)[at].del && !memcmp((*it)[at].vh, l.vh, HL)));
    if (*same) return 0;
    rc = mark_stale(b, o.ver, d, l.path);
    return rc || at < *n ? rc : merge_leaf(b, &l, it, n);
}

/* collapse - node k at depth d (prefix of path) kept one child only, a
 * leaf: that leaf moves up to d's place (an old one is read and stale). */
static int collapse(bctx *b, kids *k, unsigned d, const uint8_t *path, nnode **out)
{
    unsigned v = (unsigned)__builtin_ctz(k->o.bits);
    if (k->n[v]) { *out = k->n[v]; return 0; }
    uint8_t p[HL];
    memcpy(p, path, HL);
    p[d / 2] = d & 1 ? (uint8_t)((p[d / 2] & 0xF0) | v) : (uint8_t)((p[d / 2] & 0x0F) | v << 4);
    leafrec lr;
    item *l;
    oref o = { T_LEAF, k->o.ver[v], { 0 } };
    memcpy(o.hash, k->o.hash[v], HL);
    int rc = read_leaf(b, &o, d + 1, p, &lr);
    if (!rc) rc = leaf_item(b, &lr, &l);
    if (!rc) rc = mark_stale(b, k->o.ver[v], d + 1, p);
    if (rc) return rc;
    *out = new_node(b, T_LEAF, l->path);
    if (!*out) return PEL_ENOMEM;
    (*out)->leaf = l;
    return 0;
}

/* assemble - the new node at depth d with children k: empty, the only
 * child when that is a leaf, or an internal node. */
static int assemble(bctx *b, kids *k, unsigned d, const uint8_t *path, nnode **out)
{
    unsigned cnt = (unsigned)__builtin_popcount(k->o.bits);
    if (cnt == 1 && k->o.leafbits) return collapse(b, k, d, path, out);
    *out = new_node(b, cnt ? T_INTERNAL : T_EMPTY, path);
    if (!*out) return PEL_ENOMEM;
    if (cnt) (*out)->k = k;
    return 0;
}

static oref child_ref(const inode *o, unsigned v)
{
    oref r = { T_EMPTY, 0, { 0 } };
    if ((o->bits >> v) & 1) {
        r.type = (o->leafbits >> v) & 1 ? T_LEAF : T_INTERNAL;
        r.ver = o->ver[v];
        memcpy(r.hash, o->hash[v], HL);
    }
    return r;
}

typedef int (*recurse_fn)(bctx *b, oref o, unsigned d, item *it, size_t n, nnode **out);
static int upd(bctx *b, oref o, unsigned d, item *it, size_t n, nnode **out);

/*
 * node - the position at depth d with old node o (any type) under writes
 * it[0..n) (n >= 1), children through fn. *out NULL: unchanged. Else the
 * new subtree (T_EMPTY, an unplaced T_LEAF, or T_INTERNAL at d); the old
 * nodes it replaced are marked stale. An old internal node is rewritten
 * if any child changed; an old leaf that the writes touch is stale and
 * rebuilt with them; an empty position gets the puts.
 */
static int node(bctx *b, oref o, unsigned d, item *it, size_t n, recurse_fn fn, nnode **out)
{
    *out = NULL;
    bool same = false, changed = o.type == T_LEAF;
    int rc = 0;
    if (o.type == T_LEAF) {   /* below SPLIT, or one leaf at most: build */
        rc = old_leaf(b, o, d, &it, &n, &same);
        if (!rc && !same && (fn == upd || count_puts(it, n) <= 1))
            return build(b, d, it, n, out);
    }
    if (rc || same) return rc;
    kids *k = new_kids(b, o.type != T_INTERNAL);
    if (!k) return PEL_ENOMEM;
    if (o.type == T_INTERNAL) {
        rc = read_at(b, &o, d, it[0].path);
        if (!rc) rc = parse_inode(b->rec, b->rlen, &k->o);
    }
    for (size_t i = 0, j; !rc && i < n; i = j) {
        j = group_end(it, n, i, d);
        unsigned v = nib(it[i].path, d);
        nnode *ch;
        rc = fn(b, child_ref(&k->o, v), d + 1, it + i, j - i, &ch);
        if (!rc && ch) { set_slot(k, v, ch, b->c->newv); changed = true; }
    }
    if (rc || !changed) return rc;
    if (o.type == T_INTERNAL && (rc = mark_stale(b, o.ver, d, it[0].path))) return rc;
    return assemble(b, k, d, it[0].path, out);
}

/* upd - node() below SPLIT. An empty position takes build() directly. */
static int upd(bctx *b, oref o, unsigned d, item *it, size_t n, nnode **out)
{
    *out = NULL;
    if (o.type != T_EMPTY) return node(b, o, d, it, n, upd, out);
    for (size_t i = 0; i < n; i++)
        if (!it[i].del) return build(b, d, it, n, out);
    return 0;
}

/* ---- the pipeline ---- */

/* hash_leaves - the new leaf children of k, hashed together. */
static void hash_leaves(kids *k)
{
    const uint8_t *path[16], *vh[16];
    uint8_t *to[16];
    unsigned n = 0;
    for (unsigned v = 0; v < 16; v++) {
        const nnode *ch = k->n[v];
        if (!ch || ch->type != T_LEAF) continue;
        path[n] = ch->leaf->path, vh[n] = ch->leaf->vh, to[n++] = k->n[v]->hash;
    }
    th_batch(TAG_LEAF, TAGLEN(TAG_LEAF), n, path, HL, vh, HL, to);
}

/* hash_kids - hash the new children of k, bottom-up: the leaves
 * together, each internal child's own children (recursively), then the
 * internal children together, level by level (rehash_many). */
static void hash_kids(kids *k)
{
    rjob j[16];
    unsigned n = 0;
    hash_leaves(k);
    for (unsigned v = 0; v < 16; v++) {
        nnode *ch = k->n[v];
        if (!ch || ch->type == T_LEAF) continue;
        if (ch->type == T_EMPTY) { memset(ch->hash, 0, HL); continue; }
        hash_kids(ch->k);
        j[n++] = (rjob){ &ch->k->o, ch->k->dirty, ch->hash };
    }
    rehash_many(j, n);
    for (unsigned v = 0; v < 16; v++)
        if (k->n[v]) memcpy(k->o.hash[v], k->n[v]->hash, HL);
}

static void hash_tree(nnode *x)
{
    if (x->type == T_LEAF) { leaf_hash(x->leaf->path, x->leaf->vh, x->hash); return; }
    if (x->type == T_EMPTY) { memset(x->hash, 0, HL); return; }
    hash_kids(x->k);
    rehash(&x->k->o, x->k->dirty, x->hash);
}

/* put - one new node record: appended when the units are written in key
 * order after every older key (c->append), else put. An append refused
 * (a key out of order: a bug) is counted, turns appending off for the
 * rest of the update, and the record is put. */
static int put(uctx *c, bool append, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    if (append && c->append) {
        int rc = pel_store_append(c->w, PEL_T_SMT, k, kl, v, vl);
        if (!rc) c->appended++;
        if (rc != PEL_EEXIST) return rc;
        c->append_missed = true;
        c->append = false;
    }
    return pel_store_put(c->w, PEL_T_SMT, k, kl, v, vl);
}

static int put_node(uctx *c, const nnode *x, unsigned d, bool append)
{
    uint8_t k[NKEY_MAX], rec[INODE_MAX];
    size_t kl = node_key(k, c->newv, d, x->path);
    if (x->type == T_INTERNAL)
        return put(c, append, k, kl, rec, encode_inode(&x->k->o, rec));
    if (x->type == T_EMPTY) {
        rec[0] = T_EMPTY;
        return put(c, append, k, kl, rec, 1);
    }
    const item *l = x->leaf;   /* header then value: on the stack, or in c->big */
    uint8_t *p = rec;
    if (LEAF_HDR + l->len > sizeof rec) {
        pel_buf_reset(&c->big);
        if (pel_buf_reserve(&c->big, LEAF_HDR + l->len)) return PEL_ENOMEM;
        p = c->big.data;
    }
    p[0] = T_LEAF;
    memcpy(p + 1, l->path, HL);
    memcpy(p + 1 + HL, l->key, HL);
    memcpy(p + 1 + 2 * HL, l->vh, HL);
    if (l->len) memcpy(p + LEAF_HDR, l->val, l->len);
    return put(c, append, k, kl, p, LEAF_HDR + l->len);
}

/* write_dfs - x at depth d and its new descendants, in key order; with
 * skip_units (the nodes above the units, written last and so out of key
 * order: put, not appended), internal nodes at SPLIT (written with their
 * unit) are not. */
static int write_dfs(uctx *c, const nnode *x, unsigned d, bool skip_units)
{
    if (skip_units && d == SPLIT && x->type == T_INTERNAL) return 0;
    int rc = put_node(c, x, d, !skip_units);
    for (unsigned v = 0; !rc && x->type == T_INTERNAL && v < 16; v++)
        if (x->k->n[v]) rc = write_dfs(c, x->k->n[v], d + 1, skip_units);
    return rc;
}

/* publish - unit x (at position pos) for writing in turn; hashed when a
 * job built it, else for any worker to hash. */
static void publish(uctx *c, nnode *x, unsigned pos, bool hashed)
{
    pthread_mutex_lock(&c->mu);
    c->u[c->npub++] = (unit){ x, pos, hashed ? U_DONE : U_QUEUED };
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* pump - write published units in order: those already hashed, and, once
 * more than `ahead` wait (or all is set), the oldest, hashing it here if
 * no worker has taken it. */
static int pump(uctx *c, bool all)
{
    while (c->nwritten < c->npub) {
        unit *u = &c->u[c->nwritten];
        pthread_mutex_lock(&c->mu);
        if (!all && u->state != U_DONE && c->npub - c->nwritten <= c->ahead) {
            pthread_mutex_unlock(&c->mu);
            return 0;
        }
        if (u->state == U_QUEUED) {
            u->state = U_CLAIMED;
            pthread_mutex_unlock(&c->mu);
            hash_tree(u->x);
            pthread_mutex_lock(&c->mu);
            u->state = U_DONE;
        }
        while (u->state != U_DONE) pthread_cond_wait(&c->cv, &c->mu);
        pthread_mutex_unlock(&c->mu);
        int rc = write_dfs(c, u->x, SPLIT, false);
        pel_arena_free(&c->sub[u->pos]);
        c->nwritten++;
        if (rc) return rc;
    }
    return 0;
}

/* run_job - build and hash job j's unit with builder b (a worker's, reading
 * from its own snapshot, opened at its first job). */
static void run_job(uctx *c, bctx *b, bjob *j)
{
    b->cur = &c->sub[j->pos];
    b->stale = &j->stale;
    j->rc = b->snap ? 0 : pel_store_snap_begin(c->s, &b->snap);
    if (!j->rc) j->rc = upd(b, j->o, SPLIT, j->it, j->n, &j->out);
    if (!j->rc && j->out && j->out->type == T_INTERNAL) hash_tree(j->out);
}

/* work_one - under mu: claim and run one task for worker w, hashing first
 * (worker 0 waits on it to write), then a job within the lead. @return
 * false when there is none. */
static bool work_one(uctx *c, unsigned w)
{
    while (c->nclaim < c->npub && c->u[c->nclaim].state != U_QUEUED) c->nclaim++;
    if (c->nclaim < c->npub) {
        unit *u = &c->u[c->nclaim++];
        u->state = U_CLAIMED;
        pthread_mutex_unlock(&c->mu);
        hash_tree(u->x);
        pthread_mutex_lock(&c->mu);
        u->state = U_DONE;
        return true;
    }
    while (c->jclaim < c->njobs && c->jobs[c->jclaim].state != U_QUEUED) c->jclaim++;
    if (c->jclaim < c->njobs && c->jclaim < c->cursor + LEAD) {
        bjob *j = &c->jobs[c->jclaim++];
        j->state = U_CLAIMED;
        pthread_mutex_unlock(&c->mu);
        run_job(c, &c->wb[w], j);
        pthread_mutex_lock(&c->mu);
        j->state = U_DONE;
        return true;
    }
    return false;
}

static bool same_oref(const oref *a, const oref *b)
{
    return a->type == b->type && a->ver == b->ver && !memcmp(a->hash, b->hash, HL);
}

/* take_job - worker 0 at position pos (old node o, writes it[0..n)): the
 * finished job of the position, run here if no worker took it, helping
 * with other tasks while a worker runs it; NULL when there is no job, or
 * it failed or was planned for other writes (cannot happen; then the
 * caller rebuilds the unit through the transaction). */
static bjob *take_job(uctx *c, unsigned pos, const oref *o, const item *it, size_t n)
{
    if (c->jidx[pos] < 0) return NULL;
    bjob *j = &c->jobs[c->jidx[pos]];
    bool match = j->it == it && j->n == n && same_oref(&j->o, o);
    pthread_mutex_lock(&c->mu);
    c->cursor = (size_t)c->jidx[pos];
    pthread_cond_broadcast(&c->cv);
    if (!match && j->state == U_QUEUED) j->state = U_SKIPPED;
    while (j->state != U_DONE && j->state != U_SKIPPED) {
        if (j->state == U_QUEUED) {
            j->state = U_CLAIMED;
            pthread_mutex_unlock(&c->mu);
            run_job(c, &c->wb[0], j);
            pthread_mutex_lock(&c->mu);
            j->state = U_DONE;
        } else if (work_one(c, 0)) {
            pthread_cond_broadcast(&c->cv);
        } else {
            pthread_cond_wait(&c->cv, &c->mu);
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (match && j->state == U_DONE && !j->rc) return j;
    pel_arena_free(&c->sub[pos]);   /* what a failed job built */
    return NULL;
}

/* unit_at - the position at depth SPLIT, rebuilt in its own arena (by a
 * job, or here through the transaction); a new internal node there is a
 * unit. */
static int unit_at(bctx *b, oref o, unsigned d, item *it, size_t n, nnode **out)
{
    uctx *c = b->c;
    unsigned pos = it[0].path[0];   /* the two nibbles above SPLIT = 2 */
    (void)d;
    bjob *j = take_job(c, pos, &o, it, n);
    int rc;
    if (j) {
        *out = j->out;
        rc = pel_buf_append(&c->stale, j->stale.data, j->stale.len) ? PEL_ENOMEM : 0;
    } else {
        b->cur = &c->sub[pos];
        rc = upd(b, o, SPLIT, it, n, out);
        b->cur = &c->top;
    }
    if (rc || !*out || (*out)->type != T_INTERNAL) return rc;
    /* the unit's root lives on in the top arena (its hash is read after
     * the unit's arena is freed; its children are not) */
    nnode *x = new_node(b, T_INTERNAL, NULL);
    if (!x) return PEL_ENOMEM;
    *x = **out;
    *out = x;
    publish(c, x, pos, j != NULL);
    return pump(c, false);
}

/* above - node() for the positions above SPLIT (any old type). */
static int above(bctx *b, oref o, unsigned d, item *it, size_t n, nnode **out)
{
    return node(b, o, d, it, n, d + 1 == SPLIT ? unit_at : above, out);
}

/* reader - worker 0: the whole rebuild, then the last units' writes. */
static void reader(uctx *c)
{
    int rc = 0;
    if (c->ws->n) rc = above(&c->b0, c->oroot, 0, c->it, c->ws->n, &c->root);
    if (!rc) rc = pump(c, true);
    pthread_mutex_lock(&c->mu);
    c->finished = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    c->rc = rc;
}

/* helper - workers 1..: hash and run jobs until the reader is done. */
static void helper(uctx *c, unsigned w)
{
    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (work_one(c, w)) { pthread_cond_broadcast(&c->cv); continue; }
        if (c->finished) break;
        pthread_cond_wait(&c->cv, &c->mu);
    }
    pthread_mutex_unlock(&c->mu);
}

/* plan_jobs - a job per unit position with writes, when the old root is
 * the committed one and the position's depth-1 node is internal. Reads
 * the depth-1 nodes through the transaction (worker 0 reads them again). */
static int plan_jobs(uctx *c, const pel_buf *oldroot)
{
    pel_buf snap;
    pel_buf_init(&snap);
    uint8_t k[NKEY_MAX];
    int rc = pel_store_get(c->s, PEL_T_SMT, k, node_key(k, c->oroot.ver, 0, ZERO), &snap);
    bool same = !rc && snap.len == oldroot->len && !memcmp(snap.data, oldroot->data, snap.len);
    pel_buf_free(&snap);
    inode r, o1;
    if (!same || c->oroot.type != T_INTERNAL || parse_inode(oldroot->data, oldroot->len, &r))
        return 0;                                  /* no jobs, not an error */
    rc = 0;
    for (size_t i = 0, e; !rc && i < c->ws->n; i = e) {
        e = group_end(c->it, c->ws->n, i, 0);
        oref o = child_ref(&r, nib(c->it[i].path, 0));
        if (o.type != T_INTERNAL) continue;
        rc = read_at(&c->b0, &o, 1, c->it[i].path);
        if (!rc) rc = parse_inode(c->b0.rec, c->b0.rlen, &o1);
        for (size_t a = i, b; !rc && a < e; a = b) {
            b = group_end(c->it, e, a, 1);
            oref u = child_ref(&o1, nib(c->it[a].path, 1));
            bjob *j = &c->jobs[c->njobs];
            c->jidx[c->it[a].path[0]] = (int)c->njobs++;
            j->pos = c->it[a].path[0];
            j->o = u;
            j->it = c->it + a;
            j->n = b - a;
            j->state = U_QUEUED;
        }
    }
    return rc;
}

static void pipeline_worker(void *arg, unsigned w)
{
    if (w == 0) reader(arg);
    else helper(arg, w);
}

/* hash_top - the new nodes above SPLIT and leaves at or above it (units
 * are hashed already). */
static void hash_top(nnode *x, unsigned d)
{
    if (x->type != T_INTERNAL) { hash_tree(x); return; }
    if (d == SPLIT) return;   /* a unit: hashed, and its children freed */
    kids *k = x->k;
    for (unsigned v = 0; v < 16; v++) {
        if (!k->n[v]) continue;
        hash_top(k->n[v], d + 1);
        memcpy(k->o.hash[v], k->n[v]->hash, HL);
    }
    rehash(&k->o, k->dirty, x->hash);
}

/* ---- prepare: paths and value hashes, sorted by path ---- */

#define CHUNK 256

/* value_batch - value_hash of n <= BATCH_MAX values of up to 64 bytes. */
static void value_batch(unsigned n, const uint8_t **v, size_t *vl, uint8_t **out)
{
    uint8_t buf[BATCH_MAX][TAGLEN(TAG_VALUE) + 64];
    pel_blake2b_job job[BATCH_MAX];
    for (unsigned i = 0; i < n; i++) {
        memcpy(buf[i], TAG_VALUE, TAGLEN(TAG_VALUE));
        if (vl[i]) memcpy(buf[i] + TAGLEN(TAG_VALUE), v[i], vl[i]);
        job[i] = (pel_blake2b_job){ buf[i], TAGLEN(TAG_VALUE) + vl[i], out[i] };
    }
    pel_blake2b_batch(job, n);
}

/* prep_items - items [i, e) (e - i <= BATCH_MAX) from their writes: the
 * paths, and the hashes of values of up to 64 bytes, hashed together. */
static void prep_items(uctx *c, size_t i, size_t e)
{
    const uint8_t *pk[BATCH_MAX], *vv[BATCH_MAX];
    uint8_t *pto[BATCH_MAX], *vto[BATCH_MAX];
    size_t vl[BATCH_MAX];
    unsigned np = 0, nv = 0;
    for (; i < e; i++) {
        const pel_write *wr = &c->ws->w[i];
        item *x = &c->it[i];
        x->key = wr->key.b;
        x->del = wr->kind == PEL_W_DEL;
        x->val = x->del ? NULL : wr->val.p;
        x->len = x->del ? 0 : wr->val.len;
        pk[np] = x->key, pto[np++] = x->path;
        if (x->del) memset(x->vh, 0, HL);
        else if (x->len > 64) value_hash(x->val, x->len, x->vh);
        else vv[nv] = x->val, vl[nv] = x->len, vto[nv++] = x->vh;
    }
    th_batch(TAG_PATH, TAGLEN(TAG_PATH), np, pk, PEL_KEY_LEN, NULL, 0, pto);
    value_batch(nv, vv, vl, vto);
}

static void prep_worker(void *arg, unsigned w)
{
    (void)w;
    uctx *c = arg;
    const pel_writeset *ws = c->ws;
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&c->next, CHUNK, memory_order_relaxed);
        if (i >= ws->n) return;
        size_t e = i + CHUNK < ws->n ? i + CHUNK : ws->n;
        for (size_t j; i < e; i = j) {
            j = e - i < BATCH_MAX ? e : i + BATCH_MAX;
            prep_items(c, i, j);
        }
    }
}

/* A sort key: the path's first 3 bytes as a number, and the item index. */
typedef struct skey { uint32_t hi, i; } skey;

/* sort_paths - order it[0..n) by path into out: LSD radix sort on the
 * first 3 bytes, then each run of equal prefixes (n / 2^24 long on
 * average) by insertion on the full path. */
static void sort_paths(const item *it, size_t n, skey *a, skey *t, item *out)
{
    for (size_t i = 0; i < n; i++) {
        a[i].hi = (uint32_t)it[i].path[0] << 16 | (uint32_t)it[i].path[1] << 8 | it[i].path[2];
        a[i].i = (uint32_t)i;
    }
    for (unsigned sh = 0; sh < 24; sh += 8) {
        size_t cnt[257] = { 0 };
        for (size_t i = 0; i < n; i++) cnt[((a[i].hi >> sh) & 255) + 1]++;
        for (unsigned b = 0; b < 256; b++) cnt[b + 1] += cnt[b];
        for (size_t i = 0; i < n; i++) t[cnt[(a[i].hi >> sh) & 255]++] = a[i];
        skey *s = a; a = t; t = s;
    }
    /* a is the last pass's output (the pointers swap each pass) */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && a[j - 1].hi == a[j].hi &&
                           memcmp(it[a[j - 1].i].path, it[a[j].i].path, HL) > 0; j--) {
            skey s = a[j]; a[j] = a[j - 1]; a[j - 1] = s;
        }
    for (size_t i = 0; i < n; i++) out[i] = it[a[i].i];
}

static int prepare(uctx *c, pel_pool *pool)
{
    size_t n = c->ws->n;
    item *raw = pel_arena_alloc(&c->top, (n ? n : 1) * sizeof *raw);
    c->it = pel_arena_alloc(&c->top, (n ? n : 1) * sizeof *c->it);
    skey *a = malloc((n ? n : 1) * 2 * sizeof *a);
    if (!raw || !c->it || !a) { free(a); return PEL_ENOMEM; }
    item *sorted = c->it;
    c->it = raw;
    atomic_store_explicit(&c->next, 0, memory_order_relaxed);
    if (pool && n > CHUNK) pel_pool_run(pool, prep_worker, c);
    else prep_worker(c, 0);
    sort_paths(raw, n, a, a + n, sorted);
    c->it = sorted;
    free(a);
    return 0;
}

/* ---- the update ---- */

/* check_versions - old_version is the latest (or NONE on an empty table). */
static int check_versions(pel_store_txn *w, uint64_t oldv, uint64_t newv)
{
    if (newv == PEL_SMT_NONE || (oldv != PEL_SMT_NONE && newv <= oldv)) return PEL_EINVAL;
    uint64_t latest, floor;
    int rc = txn_get_u64(w, K_LATEST, &latest);
    if (rc == PEL_ENOTFOUND) return oldv == PEL_SMT_NONE ? 0 : PEL_ESMT_VERSION;
    if (rc) return rc;
    if (oldv == PEL_SMT_NONE || oldv < latest) return PEL_EEXIST;
    if (oldv > latest) return PEL_ESMT_VERSION;
    rc = txn_get_u64(w, K_FLOOR, &floor);
    if (rc == PEL_ENOTFOUND) return 0;
    if (!rc && oldv < floor) rc = PEL_ESMT_PRUNED;
    return rc;
}

/* read_old_root - the old root record into b, its type into c->oroot. */
static int read_old_root(uctx *c, uint64_t oldv, pel_buf *b)
{
    c->oroot = (oref){ T_EMPTY, oldv, { 0 } };
    if (oldv == PEL_SMT_NONE) return 0;
    uint8_t k[NKEY_MAX];
    int rc = pel_store_txn_get(c->w, PEL_T_SMT, k, node_key(k, oldv, 0, ZERO), b);
    if (rc == PEL_ENOTFOUND || (!rc && (b->len == 0 || b->data[0] > T_LEAF)))
        rc = PEL_ECORRUPT;
    if (!rc) c->oroot.type = b->data[0];
    return rc;
}

/* run_pipeline - the rebuild, on the pool's workers when there are any.
 * Alone, worker 0 runs every job itself: reads from a snapshot skip the
 * transaction's dirty-page search and the copy (4 % fewer instructions in
 * the update, callgrind, 2*10^5 accounts). */
static int run_pipeline(uctx *c, pel_pool *pool, const pel_buf *oldroot)
{
    unsigned n = pool ? pel_pool_size(pool) : 1;
    c->ahead = n > 1 ? AHEAD : 0;
    c->wb = calloc(n, sizeof *c->wb);
    if (!c->wb) return PEL_ENOMEM;
    c->nworkers = n;
    for (unsigned w = 0; w < n; w++) {
        c->wb[w].c = c;
        pel_buf_init(&c->wb[w].rd);
    }
    int rc = plan_jobs(c, oldroot);   /* one thread too: snapshot reads are cheaper */
    if (rc) return rc;
    if (pthread_mutex_init(&c->mu, NULL)) return PEL_ENOMEM;
    if (pthread_cond_init(&c->cv, NULL)) { pthread_mutex_destroy(&c->mu); return PEL_ENOMEM; }
    if (n > 1) pel_pool_run(pool, pipeline_worker, c);
    else reader(c);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    return c->rc;
}

/* finish - hash and write what is above the units, or copy the old root
 * when nothing changed; *root_hash the new root. */
static int finish(uctx *c, const pel_buf *oldroot, uint8_t root_hash[HL])
{
    uint8_t k[NKEY_MAX];
    size_t kl = node_key(k, c->newv, 0, ZERO);
    bool first = c->oroot.ver == PEL_SMT_NONE;
    int rc = 0;
    if (!first && (!c->root || c->oroot.type == T_EMPTY))
        rc = mark_stale(&c->b0, c->oroot.ver, 0, ZERO);
    if (rc) return rc;
    if (c->root) {
        hash_top(c->root, 0);
        memcpy(root_hash, c->root->hash, HL);
        return write_dfs(c, c->root, 0, true);
    }
    if (first) {                       /* first version, empty */
        uint8_t e = T_EMPTY;
        memset(root_hash, 0, HL);
        return pel_store_put(c->w, PEL_T_SMT, k, kl, &e, 1);
    }
    rc = record_hash(oldroot->data, oldroot->len, root_hash);
    return rc ? rc : pel_store_put(c->w, PEL_T_SMT, k, kl, oldroot->data, oldroot->len);
}

/* can_append - every key of the table sorts below 'n' || newv (then so
 * do the new version's nodes, which all start with it). */
static int can_append(uctx *c)
{
    uint8_t k[NKEY_MAX];
    int rc = pel_store_txn_below(c->w, PEL_T_SMT, k, node_key(k, c->newv, 0, ZERO));
    if (rc < 0) return rc;
    c->append = rc == 1;
    return 0;
}

static int run_update(uctx *c, uint64_t oldv, pel_pool *pool, uint8_t root_hash[HL])
{
    pel_buf oldroot;
    pel_buf_init(&oldroot);
    int rc = can_append(c);
    if (!rc) rc = read_old_root(c, oldv, &oldroot);
    if (!rc) rc = prepare(c, pool);
    if (!rc) rc = run_pipeline(c, pool, &oldroot);
    if (!rc) rc = finish(c, &oldroot, root_hash);
    if (!rc && c->stale.len) {
        uint8_t k[9] = { STALE };
        be64(k + 1, c->newv);
        rc = pel_store_put(c->w, PEL_T_SMT, k, sizeof k, c->stale.data, c->stale.len);
    }
    if (!rc) rc = put_u64_rec(c->w, K_LATEST, c->newv);
    pel_buf_free(&oldroot);
    return rc;
}

int pel_smt_update(pel_store *s, pel_store_txn *w, uint64_t old_version,
                   uint64_t new_version, const pel_writeset *ws, pel_pool *pool,
                   uint8_t new_root[HL])
{
    memset(new_root, 0, HL);
    if (pel_crypto_init()) return PEL_ECRYPTO;
    int rc = check_ws(ws, false);
    if (!rc) rc = check_versions(w, old_version, new_version);
    if (rc) return rc;
    uctx *c = calloc(1, sizeof *c);
    if (!c) return PEL_ENOMEM;
    c->s = s;
    c->w = w;
    c->newv = new_version;
    c->ws = ws;
    pel_arena_init(&c->top, (size_t)1 << 20);
    for (unsigned i = 0; i < NUNITS; i++) {
        pel_arena_init(&c->sub[i], (size_t)256 << 10);
        pel_buf_init(&c->jobs[i].stale);
        c->jidx[i] = -1;
    }
    pel_buf_init(&c->big);
    pel_buf_init(&c->stale);
    c->b0 = (bctx){ c, &c->top, &c->stale, NULL, { 0 }, NULL, 0 };
    pel_buf_init(&c->b0.rd);
    uint8_t root[HL];
    rc = run_update(c, old_version, pool, root);
    if (!rc) memcpy(new_root, root, HL);
    atomic_fetch_add_explicit(&appended, c->appended, memory_order_relaxed);
    atomic_fetch_add_explicit(&append_misses, c->append_missed, memory_order_relaxed);
    pel_arena_free(&c->top);
    for (unsigned i = 0; i < NUNITS; i++) {
        pel_arena_free(&c->sub[i]);
        pel_buf_free(&c->jobs[i].stale);
    }
    for (unsigned i = 0; i < c->nworkers; i++) {
        pel_store_snap_end(c->wb[i].snap);
        pel_buf_free(&c->wb[i].rd);
    }
    free(c->wb);
    pel_buf_free(&c->b0.rd);
    pel_buf_free(&c->big);
    pel_buf_free(&c->stale);
    free(c);
    return rc;
}

/* ================================================================ */
/* reads                                                            */
/* ================================================================ */

/* snap_record - the record under node key k (the root's when root) of
 * a read of version, from snapshot r, in place: a missing one is pruned,
 * never written or corrupt (missing()), an empty one corrupt. */
static int snap_record(pel_store *s, pel_store_snap *r, uint64_t version, const uint8_t *k,
                       size_t kl, bool root, const uint8_t **rec, size_t *len)
{
    int rc = pel_store_snap_get(r, PEL_T_SMT, k, kl, rec, len);
    if (rc == PEL_ENOTFOUND) rc = missing(s, version, root);
    if (!rc && *len == 0) rc = PEL_ECORRUPT;
    return rc;
}

int pel_smt_root(pel_store *s, uint64_t version, uint8_t root[HL])
{
    memset(root, 0, HL);
    if (pel_crypto_init()) return PEL_ECRYPTO;
    uint8_t k[NKEY_MAX];
    const uint8_t *rec;
    size_t len;
    pel_store_snap *r;
    int rc = pel_store_snap_begin(s, &r);
    if (!rc) rc = snap_record(s, r, version, k, node_key(k, version, 0, ZERO), true, &rec, &len);
    if (!rc) rc = record_hash(rec, len, root);
    pel_store_snap_end(r);
    if (rc) memset(root, 0, HL);
    return rc;
}

/* proof_leaf - the walk ended at leaf record b at depth d. */
static int proof_leaf(const uint8_t *rec, size_t len, unsigned d, const uint8_t path[HL],
                      pel_smt_proof *p, pel_buf *value)
{
    leafrec l;
    int rc = parse_leaf(rec, len, &l);
    if (rc) return rc;
    if (!prefix_eq(l.path, path, d)) return PEL_ECORRUPT;
    p->depth = (uint8_t)d;
    if (memcmp(l.path, path, HL) != 0) {
        p->kind = PEL_SMT_ABSENT_LEAF;
        memcpy(p->leaf_path, l.path, HL);
        memcpy(p->leaf_value_hash, l.vh, HL);
        return 0;
    }
    p->kind = PEL_SMT_PRESENT;
    return value && pel_buf_append(value, l.val, l.len) ? PEL_ENOMEM : 0;
}

/* proof_level - at internal record rec (depth d), fill level d of p;
 * *next gets the child's version, or the walk ends in an empty slot
 * (*done). */
static int proof_level(const uint8_t *rec, size_t len, unsigned d, const uint8_t path[HL],
                       pel_smt_proof *p, uint64_t *next, bool *done)
{
    inode o;
    int rc = parse_inode(rec, len, &o);
    if (rc) return rc;
    if (d >= PEL_SMT_MAX_DEPTH) return PEL_ECORRUPT;
    unsigned n = nib(path, d);
    unsigned m = (n >> 1) ^ 1;                   /* the sibling pair */
    memcpy(p->sib[d][0], o.hash[n ^ 1], HL);
    pair(o.hash[2 * m], o.hash[2 * m + 1], p->sib[d][1]);
    memcpy(p->sib[d][2], o.p2[(n >> 2) ^ 1], HL);
    memcpy(p->sib[d][3], o.p3[(n >> 3) ^ 1], HL);
    for (unsigned j = 0; j < 4; j++)
        p->mask[d] |= (uint8_t)(!is_zero(p->sib[d][j]) << j);
    *done = !((o.bits >> n) & 1);
    *next = o.ver[n];
    if (*done) { p->kind = PEL_SMT_ABSENT_EMPTY; p->depth = (uint8_t)(d + 1); }
    return 0;
}

/* proof_walk - the records from version's root down path, all read from
 * snapshot r (one committed state, records in place). */
static int proof_walk(pel_store *s, pel_store_snap *r, uint64_t version,
                      const uint8_t path[HL], pel_smt_proof *p, pel_buf *value)
{
    const uint8_t *rec;
    size_t len;
    uint8_t k[NKEY_MAX];
    int rc = snap_record(s, r, version, k, node_key(k, version, 0, ZERO), true, &rec, &len);
    for (unsigned d = 0; !rc; d++) {
        uint8_t t = rec[0];
        if (t == T_EMPTY)
            return d == 0 && len == 1 ? 0 : PEL_ECORRUPT;  /* kind, depth 0 */
        if (t == T_LEAF) return proof_leaf(rec, len, d, path, p, value);
        uint64_t ver;
        bool done;
        if ((rc = proof_level(rec, len, d, path, p, &ver, &done)) || done) return rc;
        rc = snap_record(s, r, version, k, node_key(k, ver, d + 1, path), false, &rec, &len);
    }
    return rc;
}

int pel_smt_get_proof(pel_store *s, uint64_t version, const pel_key *key,
                      pel_smt_proof *out, pel_buf *value)
{
    memset(out, 0, sizeof *out);
    out->kind = PEL_SMT_ABSENT_EMPTY;
    if (value) pel_buf_reset(value);
    if (pel_crypto_init()) return PEL_ECRYPTO;
    uint8_t path[HL];
    path_of(key->b, path);
    pel_store_snap *r;
    int rc = pel_store_snap_begin(s, &r);
    if (!rc) rc = proof_walk(s, r, version, path, out, value);
    pel_store_snap_end(r);
    if (rc) {
        memset(out, 0, sizeof *out);
        if (value) pel_buf_reset(value);
    }
    return rc;
}

int pel_smt_versions(pel_store *s, uint64_t *floor, uint64_t *latest)
{
    int rc = get_u64_rec(s, K_LATEST, latest);
    if (!rc) {
        rc = get_u64_rec(s, K_FLOOR, floor);
        if (rc == PEL_ENOTFOUND) rc = 0;
    }
    if (rc) *floor = *latest = 0;
    return rc;
}

/* ---- walk ---- */

typedef struct wctx {
    pel_store *s;
    pel_store_snap *r;     /* every record of the walk from one snapshot */
    uint64_t version;
    pel_smt_walk_fn fn;
    void *arg;
} wctx;

static int walk_node(wctx *c, uint64_t ver, unsigned d, const uint8_t path[HL],
                     uint8_t hash[HL], bool *is_leaf);

static int walk_leaf(wctx *c, const uint8_t *rec, size_t len, const uint8_t *k, size_t kl,
                     unsigned d, const uint8_t path[HL], uint8_t hash[HL])
{
    leafrec l;
    uint8_t p[HL], vh[HL];
    int rc = parse_leaf(rec, len, &l);
    if (rc) return rc;
    path_of(l.key, p);
    value_hash(l.val, l.len, vh);
    if (memcmp(p, l.path, HL) || memcmp(vh, l.vh, HL) || !prefix_eq(p, path, d))
        return PEL_ECORRUPT;
    leaf_hash(l.path, l.vh, hash);
    if (!c->fn) return 0;
    pel_key key;
    memcpy(key.b, l.key, PEL_KEY_LEN);
    return c->fn(c->arg, k, kl, &key, l.val, l.len);
}

static int walk_kids(wctx *c, const inode *o, unsigned d, const uint8_t path[HL])
{
    uint8_t p[HL], h[HL];
    memcpy(p, path, HL);
    for (unsigned v = 0; v < 16; v++) {
        if (!((o->bits >> v) & 1)) continue;
        p[d / 2] = d & 1 ? (uint8_t)((p[d / 2] & 0xF0) | v)
                         : (uint8_t)((p[d / 2] & 0x0F) | v << 4);
        bool leaf;
        int rc = walk_node(c, o->ver[v], d + 1, p, h, &leaf);
        if (rc) return rc;
        if (memcmp(h, o->hash[v], HL) || leaf != ((o->leafbits >> v) & 1))
            return PEL_ECORRUPT;
    }
    return 0;
}

static int walk_node(wctx *c, uint64_t ver, unsigned d, const uint8_t path[HL],
                     uint8_t hash[HL], bool *is_leaf)
{
    uint8_t k[NKEY_MAX];
    size_t kl = node_key(k, ver, d, path);
    const uint8_t *rec;
    size_t len;
    int rc = snap_record(c->s, c->r, c->version, k, kl, d == 0, &rec, &len);
    if (rc) return rc;
    *is_leaf = rec[0] == T_LEAF;
    if (*is_leaf) return walk_leaf(c, rec, len, k, kl, d, path, hash);
    if (rec[0] == T_EMPTY) {
        memset(hash, 0, HL);
        if (d != 0 || len != 1) return PEL_ECORRUPT;
        return c->fn ? c->fn(c->arg, k, kl, NULL, NULL, 0) : 0;
    }
    inode o;
    if (d >= PEL_SMT_MAX_DEPTH || (rc = parse_inode(rec, len, &o)))
        return rc ? rc : PEL_ECORRUPT;
    if (c->fn && (rc = c->fn(c->arg, k, kl, NULL, NULL, 0))) return rc;
    if ((rc = walk_kids(c, &o, d, path))) return rc;
    if (!inode_check(&o)) return PEL_ECORRUPT;
    pair(o.p3[0], o.p3[1], hash);
    return 0;
}

int pel_smt_walk(pel_store *s, uint64_t version, pel_smt_walk_fn fn, void *arg,
                 uint8_t root[HL])
{
    if (root) memset(root, 0, HL);
    if (pel_crypto_init()) return PEL_ECRYPTO;
    wctx c = { .s = s, .version = version, .fn = fn, .arg = arg };
    uint8_t h[HL];
    bool leaf;
    int rc = pel_store_snap_begin(s, &c.r);
    if (!rc) rc = walk_node(&c, version, 0, ZERO, h, &leaf);
    pel_store_snap_end(c.r);
    if (!rc && root) memcpy(root, h, HL);
    return rc;
}

/* ================================================================ */
/* pruning                                                          */
/* ================================================================ */

typedef struct pctx {
    pel_buf batch;        /* (u64 version, u32 len, bytes) per stale record */
    uint64_t last;        /* version of the last record taken */
} pctx;

static int prune_collect(void *arg, const uint8_t *k, size_t klen,
                         const uint8_t *v, size_t vlen)
{
    pctx *c = arg;
    if (klen != 9 || vlen > UINT32_MAX) return PEL_ECORRUPT;
    uint8_t h[12];
    c->last = rd_be64(k + 1);
    pel_le_store(h, c->last, 8);
    pel_le_store(h + 8, vlen, 4);
    if (pel_buf_append(&c->batch, h, 12) || pel_buf_append(&c->batch, v, vlen))
        return PEL_ENOMEM;
    return c->batch.len >= PRUNE_BATCH_BYTES ? 1 : 0;
}

/* prune_record - delete the nodes listed in one stale record, then it. */
static int prune_record(pel_store_txn *w, uint8_t prefix, uint64_t since, const uint8_t *v,
                        size_t len, uint64_t *removed)
{
    uint8_t k[NKEY_MAX];
    int rc = 0;
    for (size_t i = 0; !rc && i < len;) {
        size_t n;
        if (len - i < 9 || (n = 9 + (v[i + 8] + 1u) / 2) > len - i || v[i + 8] > 64)
            return PEL_ECORRUPT;
        rc = pel_store_del(w, PEL_T_SMT, k, node_key(k, rd_be64(v + i), v[i + 8], v + i + 9));
        (*removed)++;
        i += n;
    }
    k[0] = prefix;
    be64(k + 1, since);
    return rc ? rc : pel_store_del(w, PEL_T_SMT, k, 9);
}

static int prune_batch(pel_store_txn *w, uint8_t prefix, const pel_buf *b, uint64_t *removed)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < b->len;) {
        uint64_t since = pel_le_load(b->data + i, 8);
        size_t len = (size_t)pel_le_load(b->data + i + 8, 4);
        rc = prune_record(w, prefix, since, b->data + i + 12, len, removed);
        i += 12 + len;
    }
    return rc;
}

int pel_smt_prune(pel_store *s, pel_store_txn *w, uint64_t keep_from, uint64_t *removed)
{
    uint64_t latest, floor, n = 0;
    if (removed) *removed = 0;
    int rc = txn_get_u64(w, K_LATEST, &latest);
    if (rc) return rc == PEL_ENOTFOUND ? 0 : rc;
    rc = txn_get_u64(w, K_FLOOR, &floor);
    if (rc && rc != PEL_ENOTFOUND) return rc;
    if (rc) floor = 0;
    if (keep_from > latest) keep_from = latest;
    if (keep_from <= floor) return 0;
    pctx c;
    memset(&c, 0, sizeof c);
    pel_buf_init(&c.batch);
    static const uint8_t prefixes[2] = { STALE_OLD, STALE };
    rc = 0;
    for (unsigned p = 0; !rc && p < 2; p++) {
        uint8_t from[9] = { prefixes[p] }, to[9] = { prefixes[p] };
        be64(to + 1, keep_from + 1);
        for (uint64_t v = 0;;) {
            be64(from + 1, v);
            pel_buf_reset(&c.batch);
            rc = pel_store_scan(s, PEL_T_SMT, from, 9, to, 9, prune_collect, &c);
            if (!rc) rc = prune_batch(w, prefixes[p], &c.batch, &n);
            if (rc || c.batch.len < PRUNE_BATCH_BYTES || c.last >= keep_from) break;
            v = c.last + 1;
        }
    }
    pel_buf_free(&c.batch);
    if (!rc) rc = put_u64_rec(w, K_FLOOR, keep_from);
    if (removed) *removed = rc ? 0 : n;
    return rc;
}
