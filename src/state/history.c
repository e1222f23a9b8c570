/*
 * history.c - the RFC 9162 history tree (layout and contract: history.h).
 *
 * The RFC defines MTH, PATH and SUBPROOF recursively, but each recursion
 * follows a single branch, so here a loop narrows [lo, hi) and records the
 * sibling ranges it passes ("spans"); reversed, they are the RFC's list
 * (innermost first). Every range met that way, starting from [0, n), has
 * lo a multiple of the smallest power of two >= hi - lo (the split k is a
 * power of two and the right part is never longer than k). That is what
 * lets range_hash cut any such range into perfect stored subtrees.
 *
 * The verifiers are RFC 9162 sections 2.1.3.2 and 2.1.4.2 transcribed step
 * by step; their comments carry the RFC's step numbers.
 */
#include <stdbool.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "state/history.h"

#define HLEN PEL_HISTORY_HASH_LEN
#define KEY_LEN 8
#define MAX_SIZE PEL_HISTORY_MAX_SIZE

/* ==== hashing ==== */

void pel_history_leaf_hash(const void *data, size_t len, uint8_t out[HLEN])
{
    static const uint8_t prefix = 0x00;
    pel_sha256_ctx c;
    pel_sha256_init(&c);
    pel_sha256_update(&c, &prefix, 1);
    pel_sha256_update(&c, data, len);
    pel_sha256_final(&c, out);
}

void pel_history_node_hash(const uint8_t left[HLEN], const uint8_t right[HLEN],
                           uint8_t out[HLEN])
{
    uint8_t in[1 + 2 * HLEN];   /* copied first, so out may alias an input */
    in[0] = 0x01;
    memcpy(in + 1, left, HLEN);
    memcpy(in + 1 + HLEN, right, HLEN);
    pel_sha256(in, sizeof in, out);
}

void pel_history_empty_root(uint8_t root[HLEN])
{
    pel_sha256(NULL, 0, root);
}

void pel_history_leaf(uint64_t height, uint32_t index, const uint8_t txid[HLEN],
                      const uint8_t receipt_digest[HLEN], uint8_t leaf_hash[HLEN])
{
    uint8_t b[PEL_HISTORY_LEAF_LEN];
    pel_le_store(b, height, 8);
    pel_le_store(b + 8, index, 4);
    memcpy(b + 12, txid, HLEN);
    memcpy(b + 12 + HLEN, receipt_digest, HLEN);
    pel_history_leaf_hash(b, sizeof b, leaf_hash);
}

/* split - the RFC's k for n >= 2: the largest power of two below n. */
static uint64_t split(uint64_t n)
{
    return 1ull << (63 - __builtin_clzll(n - 1));
}

static bool is_pow2(uint64_t n)
{
    return n && (n & (n - 1)) == 0;
}

/* ==== the right-edge frontier ====
 * For a tree of `size` leaves, frontier[l] for each set bit l of size is
 * the hash of the perfect subtree of 2^l leaves on the right edge of
 * [0, size) at that level (the binary decomposition of size, largest piece
 * leftmost). Entries for clear bits are stale and never read. */

/* push - add leaf `i` (the tree had i leaves): the binary-counter carry.
 * emit, when given, receives every completed node (level, index, hash). */
typedef int (*emit_fn)(void *arg, unsigned level, uint64_t index, const uint8_t h[HLEN]);

static int push(uint8_t frontier[64][HLEN], uint64_t i, const uint8_t leaf[HLEN],
                emit_fn emit, void *arg)
{
    uint8_t h[HLEN];
    unsigned level = 0;
    memcpy(h, leaf, HLEN);
    int rc = emit ? emit(arg, 0, i, h) : 0;
    while (!rc && (i >> level) & 1) {
        pel_history_node_hash(frontier[level], h, h);
        level++;
        rc = emit ? emit(arg, level, i >> level, h) : 0;
    }
    memcpy(frontier[level], h, HLEN);
    return rc;
}

/* fold - MTH(D[size]) from the frontier: pieces combine right to left,
 * MTH = node(P1, node(P2, ... Pk)), P1 the largest. */
static void fold(uint8_t frontier[64][HLEN], uint64_t size, uint8_t root[HLEN])
{
    if (size == 0) { pel_history_empty_root(root); return; }
    unsigned l = (unsigned)__builtin_ctzll(size);
    memcpy(root, frontier[l], HLEN);
    for (l++; l < 64; l++)
        if ((size >> l) & 1)
            pel_history_node_hash(frontier[l], root, root);
}

void pel_history_root_of(const uint8_t (*leaf_hashes)[HLEN], uint64_t n,
                         uint8_t root[HLEN])
{
    uint8_t frontier[64][HLEN];
    for (uint64_t i = 0; i < n; i++)
        (void)push(frontier, i, leaf_hashes[i], NULL, NULL);
    fold(frontier, n, root);
}

void pel_history_frontier_init(pel_history_frontier *f)
{
    memset(f, 0, sizeof *f);
}

int pel_history_frontier_append(pel_history_frontier *f, const uint8_t leaf_hash[HLEN])
{
    if (f->size >= PEL_HISTORY_MAX_SIZE) return PEL_ERANGE;
    (void)push(f->h, f->size, leaf_hash, NULL, NULL);
    f->size++;
    return 0;
}

void pel_history_frontier_root(const pel_history_frontier *f, uint8_t root[HLEN])
{
    fold((uint8_t (*)[HLEN])f->h, f->size, root);
}

/* ==== verification (RFC 9162 2.1.3.2 and 2.1.4.2) ==== */

/* shift_to_odd - "right-shift both fn and sn equally until either LSB(fn)
 * is set or fn is 0". */
static void shift_to_odd(uint64_t *fn, uint64_t *sn)
{
    while (!(*fn & 1) && *fn != 0) { *fn >>= 1; *sn >>= 1; }
}

int pel_history_verify_inclusion(const uint8_t leaf_hash[HLEN], uint64_t index,
                                 uint64_t size, const uint8_t (*path)[HLEN],
                                 size_t path_len, const uint8_t root[HLEN])
{
    if (index >= size) return PEL_EPROOF;                      /* 1 */
    uint64_t fn = index, sn = size - 1;                        /* 2 */
    uint8_t r[HLEN];
    memcpy(r, leaf_hash, HLEN);                                /* 3 */
    for (size_t i = 0; i < path_len; i++) {                    /* 4 */
        if (sn == 0) return PEL_EPROOF;                        /* 4a */
        if ((fn & 1) || fn == sn) {                            /* 4b */
            pel_history_node_hash(path[i], r, r);
            if (!(fn & 1)) shift_to_odd(&fn, &sn);
        } else {
            pel_history_node_hash(r, path[i], r);
        }
        fn >>= 1; sn >>= 1;                                    /* 4c */
    }
    return sn == 0 && memcmp(r, root, HLEN) == 0 ? 0 : PEL_EPROOF;  /* 5 */
}

int pel_history_verify_consistency(uint64_t size1, uint64_t size2,
                                   const uint8_t root1[HLEN], const uint8_t root2[HLEN],
                                   const uint8_t (*path)[HLEN], size_t path_len)
{
    if (size1 == 0 || size1 > size2) return PEL_EPROOF;   /* no such proof */
    if (size1 == size2)
        return path_len == 0 && memcmp(root1, root2, HLEN) == 0 ? 0 : PEL_EPROOF;
    if (path_len == 0) return PEL_EPROOF;                      /* 1 */
    /* 2: with size1 a power of two, root1 is the sequence's first value */
    size_t next = is_pow2(size1) ? 0 : 1;
    const uint8_t *first = next ? path[0] : root1;
    uint64_t fn = size1 - 1, sn = size2 - 1;                   /* 3 */
    while (fn & 1) { fn >>= 1; sn >>= 1; }                     /* 4 */
    uint8_t fr[HLEN], sr[HLEN];
    memcpy(fr, first, HLEN);                                   /* 5 */
    memcpy(sr, first, HLEN);
    for (size_t i = next; i < path_len; i++) {                 /* 6 */
        if (sn == 0) return PEL_EPROOF;                        /* 6a */
        if ((fn & 1) || fn == sn) {                            /* 6b */
            pel_history_node_hash(path[i], fr, fr);
            pel_history_node_hash(path[i], sr, sr);
            if (!(fn & 1)) shift_to_odd(&fn, &sn);
        } else {
            pel_history_node_hash(sr, path[i], sr);
        }
        fn >>= 1; sn >>= 1;                                    /* 6c */
    }
    return sn == 0 && memcmp(fr, root1, HLEN) == 0          /* 7 */
           && memcmp(sr, root2, HLEN) == 0 ? 0 : PEL_EPROOF;
}

/* ==== stored records ==== */

/* A reader reads records either committed, from one snapshot taken at
 * its first read (s, snap), or inside a write transaction (w, copied into
 * buf). */
typedef struct reader {
    pel_store *s;
    pel_store_snap *snap;
    pel_store_txn *w;
    pel_buf buf;
} reader;

static void reader_done(reader *r)
{
    pel_store_snap_end(r->snap);
    pel_buf_free(&r->buf);
}

/* position - the post-order position of node (level, index), history.h's
 * formula; below 2^64 for every node of a tree of at most MAX_SIZE leaves. */
static uint64_t position(unsigned level, uint64_t index)
{
    uint64_t a = index << level;
    return 2 * a - (uint64_t)__builtin_popcountll(a) + (2ull << level) - 2;
}

/* records - how many records a tree of n leaves has: position of leaf n. */
static uint64_t records(uint64_t n)
{
    return position(0, n);
}

static void node_key(uint8_t key[KEY_LEN], unsigned level, uint64_t index)
{
    uint64_t p = position(level, index);
    for (int i = KEY_LEN - 1; i >= 0; i--) { key[i] = (uint8_t)p; p >>= 8; }
}

/* get_node - the stored hash of perfect subtree (level, index). */
static int get_node(reader *r, unsigned level, uint64_t index, uint8_t out[HLEN])
{
    uint8_t key[KEY_LEN];
    node_key(key, level, index);
    const uint8_t *v = NULL;
    size_t len = 0;
    int rc;
    if (r->w) {
        rc = pel_store_txn_get(r->w, PEL_T_HISTORY, key, KEY_LEN, &r->buf);
        v = r->buf.data;
        len = r->buf.len;
    } else {
        rc = r->snap ? 0 : pel_store_snap_begin(r->s, &r->snap);
        if (!rc) rc = pel_store_snap_get(r->snap, PEL_T_HISTORY, key, KEY_LEN, &v, &len);
    }
    if (!rc && len != HLEN) rc = PEL_ECORRUPT;
    if (!rc) memcpy(out, v, HLEN);
    return rc;
}

/* range_hash - MTH(D[lo:hi]), hi > lo, lo aligned as the file comment
 * says: the perfect pieces are the set bits of hi - lo, largest leftmost;
 * read right to left (smallest first) and fold acc = node(piece, acc). */
static int range_hash(reader *r, uint64_t lo, uint64_t hi, uint8_t out[HLEN])
{
    uint8_t piece[HLEN];
    bool first = true;
    for (uint64_t len = hi - lo; len; first = false) {
        unsigned l = (unsigned)__builtin_ctzll(len);
        uint64_t width = 1ull << l;
        int rc = get_node(r, l, (lo + len - width) >> l, first ? out : piece);
        if (rc) return rc;
        if (!first) pel_history_node_hash(piece, out, out);
        len -= width;
    }
    return 0;
}

/* ==== appending ==== */

/* A writer of new node records: their positions only grow (push emits a
 * node after its children, and a new leaf's position is past every stored
 * one), so they go in with pel_store_append (no search for their place,
 * pages filled to the end); a refused append (a table holding a key out of
 * that order: not written by this file) turns appending off and the record
 * is put. */
typedef struct writer { pel_store_txn *w; bool append; } writer;

static int put_node(void *arg, unsigned level, uint64_t index, const uint8_t h[HLEN])
{
    writer *wr = arg;
    uint8_t key[KEY_LEN];
    node_key(key, level, index);
    if (wr->append) {
        int rc = pel_store_append(wr->w, PEL_T_HISTORY, key, KEY_LEN, h, HLEN);
        if (rc != PEL_EEXIST) return rc;
        wr->append = false;
    }
    return pel_store_put(wr->w, PEL_T_HISTORY, key, KEY_LEN, h, HLEN);
}

/* load_frontier - read the right-edge pieces of [0, size), largest first.
 * The last one holds leaf size - 1, so success means the tree has at least
 * size leaves. */
static int load_frontier(reader *r, uint64_t size, uint8_t frontier[64][HLEN])
{
    uint64_t lo = 0;
    for (int l = 63; l >= 0; l--) {
        if (!((size >> l) & 1)) continue;
        int rc = get_node(r, (unsigned)l, lo >> l, frontier[l]);
        if (rc) return rc;
        lo += 1ull << l;
    }
    return 0;
}

/* check_absent - leaf `size` must not exist yet (else appending would
 * overwrite history). */
static int check_absent(reader *r, uint64_t size)
{
    uint8_t h[HLEN];
    int rc = get_node(r, 0, size, h);
    return rc == PEL_ENOTFOUND ? 0 : rc ? rc : PEL_EEXIST;
}

/* check_node - an emit that compares instead of writing. */
static int check_node(void *arg, unsigned level, uint64_t index, const uint8_t h[HLEN])
{
    uint8_t stored[HLEN];
    int rc = get_node(arg, level, index, stored);
    if (rc == PEL_ENOTFOUND) return PEL_ECORRUPT;
    return rc ? rc : memcmp(stored, h, HLEN) ? PEL_ECORRUPT : 0;
}

int pel_history_check_append(pel_store *s, pel_history_frontier *f,
                             const uint8_t (*leaf_hashes)[HLEN], uint32_t n)
{
    reader r = { .s = s };
    int rc = 0;
    if (n > PEL_HISTORY_MAX_SIZE - f->size) return PEL_ERANGE;
    pel_buf_init(&r.buf);
    for (uint32_t i = 0; !rc && i < n; i++) {
        rc = push(f->h, f->size, leaf_hashes[i], check_node, &r);
        if (!rc) f->size++;
    }
    reader_done(&r);
    return rc;
}

int pel_history_append(pel_store_txn *w, uint64_t size,
                       const uint8_t (*leaf_hashes)[HLEN], uint32_t n,
                       uint8_t new_root[HLEN])
{
    uint8_t frontier[64][HLEN];
    reader r = { .w = w };
    pel_buf_init(&r.buf);
    int rc = size > MAX_SIZE || n > MAX_SIZE - size ? PEL_ERANGE : 0;
    if (!rc) rc = check_absent(&r, size);
    if (!rc) rc = load_frontier(&r, size, frontier);
    writer wr = { w, true };
    for (uint32_t j = 0; !rc && j < n; j++)
        rc = push(frontier, size + j, leaf_hashes[j], put_node, &wr);
    if (!rc) fold(frontier, size + n, new_root);
    else memset(new_root, 0, HLEN);
    reader_done(&r);
    return rc;
}

/* ==== roots and proofs from the committed tree ==== */

typedef struct span { uint64_t lo, hi; } span;

/* inclusion_spans - the ranges whose MTHs form PATH(index, D[size]),
 * outermost first. */
static size_t inclusion_spans(uint64_t index, uint64_t size, span *sp)
{
    size_t n = 0;
    for (uint64_t lo = 0, hi = size; hi - lo > 1; n++) {
        uint64_t k = lo + split(hi - lo);
        if (index < k) { sp[n] = (span){ k, hi }; hi = k; }
        else { sp[n] = (span){ lo, k }; lo = k; }
    }
    return n;
}

/* consistency_spans - the ranges whose MTHs form PROOF(m, D[size]) =
 * SUBPROOF(m, D[size], true), outermost first; m is relative to lo. */
static size_t consistency_spans(uint64_t m, uint64_t size, span *sp)
{
    uint64_t lo = 0, hi = size;
    bool known = true;   /* the RFC's b: MTH(D[0:m]) is the old root */
    size_t n = 0;
    while (hi - lo != m) {
        uint64_t k = split(hi - lo);
        if (m <= k) { sp[n++] = (span){ lo + k, hi }; hi = lo + k; }
        else { sp[n++] = (span){ lo, lo + k }; lo += k; m -= k; known = false; }
    }
    if (!known) sp[n++] = (span){ lo, hi };
    return n;
}

/* fill_path - hash the spans into path, innermost first. When no span
 * reaches leaf size - 1, read that leaf, so that a proof is only given for
 * a size the committed tree has. */
static int fill_path(pel_store *s, const span *sp, size_t n, uint64_t size,
                     uint8_t path[][HLEN], size_t *path_len)
{
    reader r = { .s = s };
    pel_buf_init(&r.buf);
    bool reaches_end = false;
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        reaches_end |= sp[n - 1 - i].hi == size;
        rc = range_hash(&r, sp[n - 1 - i].lo, sp[n - 1 - i].hi, path[i]);
    }
    uint8_t last[HLEN];
    if (!rc && !reaches_end) rc = get_node(&r, 0, size - 1, last);
    reader_done(&r);
    if (rc) memset(path, 0, n * HLEN);
    *path_len = rc ? 0 : n;
    return rc;
}

/* size_of_records - n with records(n) == count, or PEL_ECORRUPT when no
 * complete tree has that many. records(n) = 2n - popcount(n) rises
 * strictly with n, so n is unique, and it lies in [count / 2, count / 2 + 32]. */
static int size_of_records(uint64_t count, uint64_t *size)
{
    for (uint64_t n = count / 2; n <= count / 2 + 32; n++)
        if (records(n) == count) { *size = n; return 0; }
    return PEL_ECORRUPT;
}

int pel_history_size(pel_store *s, uint64_t *size)
{
    pel_buf k;
    pel_buf_init(&k);
    *size = 0;
    int rc = pel_store_last(s, PEL_T_HISTORY, &k, NULL);
    bool empty = rc == PEL_ENOTFOUND;   /* no records: the empty tree */
    if (!rc && k.len != KEY_LEN) rc = PEL_ECORRUPT;
    uint64_t last = 0;
    for (size_t i = 0; !rc && i < KEY_LEN; i++) last = last << 8 | k.data[i];
    pel_buf_free(&k);
    if (empty) return 0;
    if (!rc) rc = last >= records(MAX_SIZE) ? PEL_ECORRUPT : size_of_records(last + 1, size);
    if (rc) *size = 0;
    return rc;
}

int pel_history_root(pel_store *s, uint64_t size, uint8_t root[HLEN])
{
    if (size == 0) { pel_history_empty_root(root); return 0; }
    reader r = { .s = s };
    pel_buf_init(&r.buf);
    int rc = size > MAX_SIZE ? PEL_ENOTFOUND : range_hash(&r, 0, size, root);
    reader_done(&r);
    if (rc) memset(root, 0, HLEN);
    return rc;
}

int pel_history_prove_inclusion(pel_store *s, uint64_t index, uint64_t size,
                                uint8_t path[PEL_HISTORY_MAX_PATH][HLEN],
                                size_t *path_len)
{
    span sp[PEL_HISTORY_MAX_PATH];
    *path_len = 0;
    if (index >= size) return PEL_EINVAL;
    if (size > MAX_SIZE) return PEL_ENOTFOUND;
    size_t n = inclusion_spans(index, size, sp);
    return fill_path(s, sp, n, size, path, path_len);
}

int pel_history_prove_consistency(pel_store *s, uint64_t size1, uint64_t size2,
                                  uint8_t path[PEL_HISTORY_MAX_PATH][HLEN],
                                  size_t *path_len)
{
    span sp[PEL_HISTORY_MAX_PATH];
    *path_len = 0;
    if (size1 == 0 || size1 > size2) return PEL_EINVAL;
    if (size2 > MAX_SIZE) return PEL_ENOTFOUND;
    size_t n = consistency_spans(size1, size2, sp);
    return fill_path(s, sp, n, size2, path, path_len);
}
