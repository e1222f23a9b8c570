/*
 * history.h - the history tree: an append-only RFC 9162 Merkle tree over
 * every committed transaction, in ledger order.
 *
 * The tree is exactly RFC 9162 section 2.1 with SHA-256, so standard
 * transparency-log tools check our proofs:
 *     MTH({})       = SHA-256("")                (e3b0c442...b855)
 *     leaf hash     = SHA-256(0x00 || leaf bytes)
 *     node hash     = SHA-256(0x01 || left || right)
 *     MTH(D[n])     = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power
 *                     of two smaller than n (n > 1)
 * Leaf i of the tree is the i-th committed transaction (block by block, in
 * block order); history_size and history_root of every block header are the
 * tree's size and MTH after that block.
 *
 * Two halves:
 *   - pure functions (leaf, node, root_of, verify_*): no store, no state;
 *     what an offline verifier links;
 *   - the stored tree in table PEL_T_HISTORY: append inside the block's
 *     write transaction, then roots and proofs for any size up to the
 *     committed one, each from O(log n) stored hashes.
 *
 * Stored layout (PEL_T_HISTORY): one record per complete (perfect)
 * subtree. The subtree at level l, index i covers the 2^l leaves
 * [i * 2^l, (i + 1) * 2^l) (level 0: the leaves themselves); its record is
 *     key   = u64 big-endian: the node's post-order position,
 *             2a - popcount(a) + 2^(l+1) - 2   where a = i * 2^l
 *     value = MTH of those leaves, 32 bytes
 * Post-order is the order in which appends complete nodes: leaf 0 -> 0,
 * leaf 1 -> 1, their parent -> 2, leaf 2 -> 3, leaf 3 -> 4, parent -> 5,
 * the node over leaves 0..3 -> 6, leaf 4 -> 7, ... So a tree of n leaves
 * has exactly the keys 0 .. 2n - popcount(n) - 1, appending leaf n writes
 * it and each parent it completes (amortised 2 records per leaf), every
 * write lands past the table's last key (LMDB pages stay full and a
 * block's commit dirties only the rightmost pages), and a record is never
 * rewritten: a size-n tree's records are a subset of every larger tree's.
 * MTH(D[a:b]) of any range a proof needs splits, by the RFC's recursion,
 * into perfect pieces, one per set bit of b - a, read and combined right
 * to left. Sizes are limited to PEL_HISTORY_MAX_SIZE so positions fit u64.
 *
 * Proof sizes: an inclusion proof has at most ceil(log2 n) hashes; a
 * consistency proof at most ceil(log2 n) + 1 (e.g. PROOF(3, D[4]) has 3).
 * Both fit PEL_HISTORY_MAX_PATH for every n < 2^64.
 *
 * Thread safety: the pure functions are thread-safe. pel_history_append
 * belongs to the thread that owns the write transaction. The read functions
 * (size, root, prove_*) are thread-safe and may run while a block commits:
 * each call reads its stored hashes from one snapshot of the committed
 * store (pel_store_snap), which is safe because records are write-once and
 * a size-n tree's records all exist once size n committed.
 */
#ifndef PEL_HISTORY_H
#define PEL_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "state/store.h"

#define PEL_HISTORY_HASH_LEN 32
#define PEL_HISTORY_LEAF_LEN 76    /* 8 + 4 + 32 + 32, see pel_history_leaf */
#define PEL_HISTORY_MAX_PATH 65    /* capacity of a proof path, in hashes */
#define PEL_HISTORY_MAX_SIZE (1ull << 62)   /* leaves a stored tree may hold */

/* ---- pure functions ---- */

/*
 * pel_history_leaf - the leaf hash of one committed transaction.
 * The leaf bytes are the canonical codec's fixed-width little-endian
 * encoding of (height, index, tx id, receipt digest), 76 bytes:
 *     offset  0  u64 LE  height of the block holding the transaction
 *     offset  8  u32 LE  index of the transaction in that block
 *     offset 12  32      tx id
 *     offset 44  32      receipt digest
 * and leaf_hash = SHA-256(0x00 || those 76 bytes).
 * Example: height 0x0102030405060708, index 0x0a0b0c0d give the bytes
 * 08 07 06 05 04 03 02 01 0d 0c 0b 0a, then txid, then the digest.
 */
void pel_history_leaf(uint64_t height, uint32_t index,
                      const uint8_t txid[PEL_HISTORY_HASH_LEN],
                      const uint8_t receipt_digest[PEL_HISTORY_HASH_LEN],
                      uint8_t leaf_hash[PEL_HISTORY_HASH_LEN])
    PEL_NONNULL(3, 4, 5);

/* pel_history_leaf_hash - SHA-256(0x00 || data[0..len)): the RFC leaf hash
 * of arbitrary leaf bytes (data may be NULL when len is 0). */
void pel_history_leaf_hash(const void *data, size_t len,
                           uint8_t out[PEL_HISTORY_HASH_LEN]) PEL_NONNULL(3);

/* pel_history_node_hash - SHA-256(0x01 || left || right). out may alias
 * left or right. */
void pel_history_node_hash(const uint8_t left[PEL_HISTORY_HASH_LEN],
                           const uint8_t right[PEL_HISTORY_HASH_LEN],
                           uint8_t out[PEL_HISTORY_HASH_LEN])
    PEL_NONNULL(1, 2, 3);

/* pel_history_empty_root - MTH of the empty tree, SHA-256(""). */
void pel_history_empty_root(uint8_t root[PEL_HISTORY_HASH_LEN]) PEL_NONNULL(1);

/*
 * pel_history_root_of - MTH(D[n]) of n leaf hashes held in memory (for
 * tests, rebuilds and light clients). O(n) hashes, O(log n) stack.
 * @param[in]  leaf_hashes  n leaf hashes (as from pel_history_leaf); may be
 *                          NULL when n is 0
 * @param[out] root         the tree head; the empty root when n is 0
 */
void pel_history_root_of(const uint8_t (*leaf_hashes)[PEL_HISTORY_HASH_LEN],
                         uint64_t n, uint8_t root[PEL_HISTORY_HASH_LEN])
    PEL_NONNULL(3);

/*
 * pel_history_verify_inclusion - check that leaf_hash is leaf `index` of
 * the tree of `size` leaves whose head is `root`: RFC 9162 section 2.1.3.2
 * step by step (index >= size fails; so does size 0, where no leaf exists).
 * O(path_len) hashes, no allocation.
 * @param[in] path      path_len hashes, innermost first (PATH(m, D[n]) of
 *                      RFC 9162 section 2.1.3.1); may be NULL if path_len 0
 * @return 0 when the proof verifies, PEL_EPROOF for anything else.
 */
PEL_MUST_USE int pel_history_verify_inclusion(
    const uint8_t leaf_hash[PEL_HISTORY_HASH_LEN], uint64_t index,
    uint64_t size, const uint8_t (*path)[PEL_HISTORY_HASH_LEN],
    size_t path_len, const uint8_t root[PEL_HISTORY_HASH_LEN])
    PEL_NONNULL(1, 6);

/*
 * pel_history_verify_consistency - check that the tree of size2 leaves with
 * head root2 extends the tree of size1 leaves with head root1.
 * For 0 < size1 < size2 this is RFC 9162 section 2.1.4.2 step by step (an
 * empty path fails; when size1 is a power of two the path omits root1,
 * which the algorithm prepends). The sizes outside that range:
 *   size1 == size2 > 0   verifies iff path_len is 0 and root1 == root2
 *                        (SUBPROOF(m, D[m], true) = {} of section 2.1.4.1);
 *   size1 == 0           always PEL_EPROOF: the RFC defines no proof from
 *                        the empty tree (it is a prefix of every tree, so
 *                        there is nothing to prove; a client holding size 0
 *                        compares root1 with pel_history_empty_root and
 *                        takes root2 on its signature alone);
 *   size1 > size2        PEL_EPROOF.
 * O(path_len) hashes, no allocation.
 * @param[in] path  path_len hashes (PROOF(m, D[n]) of section 2.1.4.1); may
 *                  be NULL if path_len is 0
 * @return 0 when the proof verifies, PEL_EPROOF for anything else.
 */
PEL_MUST_USE int pel_history_verify_consistency(
    uint64_t size1, uint64_t size2,
    const uint8_t root1[PEL_HISTORY_HASH_LEN],
    const uint8_t root2[PEL_HISTORY_HASH_LEN],
    const uint8_t (*path)[PEL_HISTORY_HASH_LEN], size_t path_len)
    PEL_NONNULL(3, 4);

/*
 * pel_history_frontier - a tree held as its right edge only: the size and
 * one hash per set bit of it (the perfect subtrees of the size's binary
 * decomposition). Enough to append leaves and to compute the root, in
 * 2 KiB, without the store: what a replay (`pel admin verify`) and a light
 * client keep. Plain data: copy it freely.
 */
typedef struct pel_history_frontier {
    uint64_t size;
    uint8_t h[64][PEL_HISTORY_HASH_LEN];   /* h[l] valid iff bit l of size is set */
} pel_history_frontier;

/* pel_history_frontier_init - the empty tree. */
void pel_history_frontier_init(pel_history_frontier *f) PEL_NONNULL(1);

/* pel_history_frontier_append - add one leaf hash (amortised 2 hashes).
 * @return 0, or PEL_ERANGE when the tree already has PEL_HISTORY_MAX_SIZE
 *         leaves (f unchanged). */
PEL_MUST_USE int pel_history_frontier_append(pel_history_frontier *f,
                                             const uint8_t leaf_hash[PEL_HISTORY_HASH_LEN])
    PEL_NONNULL(1, 2);

/* pel_history_frontier_root - MTH of the f->size leaves (popcount hashes). */
void pel_history_frontier_root(const pel_history_frontier *f,
                               uint8_t root[PEL_HISTORY_HASH_LEN]) PEL_NONNULL(1, 2);

/* ---- the stored tree ---- */

/*
 * pel_history_append - append n leaf hashes to the stored tree of `size`
 * leaves, inside the caller's write transaction (the node's block
 * transaction, so the tree and the block commit or abort together). Reads
 * the popcount(size) hashes of the tree's right edge plus one record (to
 * check that leaf `size` is not there yet) through pel_store_txn_get, then
 * writes about 2n records. n may be 0 (the root of `size` is returned).
 * @param[in]  size         the tree's current size (the previous block's
 *                          history_size)
 * @param[in]  leaf_hashes  n leaf hashes in ledger order; NULL if n is 0
 * @param[out] new_root     MTH of the size + n leaves; zeroed on failure
 * @return 0; PEL_ENOTFOUND (the stored tree has fewer than size leaves);
 *         PEL_EEXIST (it has more than size leaves); PEL_ERANGE (size + n
 *         over PEL_HISTORY_MAX_SIZE); PEL_ECORRUPT (a record is not 32
 *         bytes); PEL_EMAPFULL, PEL_EIO, PEL_ENOMEM from the store. The
 *         first three are found before anything is written; after any
 *         failure the caller aborts w.
 */
PEL_MUST_USE int pel_history_append(pel_store_txn *w, uint64_t size,
    const uint8_t (*leaf_hashes)[PEL_HISTORY_HASH_LEN], uint32_t n,
    uint8_t new_root[PEL_HISTORY_HASH_LEN]) PEL_NONNULL(1, 5);

/*
 * pel_history_size - the number of leaves of the committed tree, from the
 * table's last key (one read; an empty table is size 0).
 * @param[out] size  0 on failure
 * @return 0; PEL_ECORRUPT (the last key is not 8 bytes, or is not the last
 *         key of any complete tree: a half-written tree); PEL_EIO,
 *         PEL_ENOMEM from the store.
 */
PEL_MUST_USE int pel_history_size(pel_store *s, uint64_t *size) PEL_NONNULL(1, 2);

/*
 * pel_history_root - MTH of the first `size` leaves of the committed tree
 * (any size up to the current one). popcount(size) reads; size 0 reads
 * nothing and gives the empty root.
 * @param[out] root  zeroed on failure
 * @return 0; PEL_ENOTFOUND (the committed tree has fewer than size leaves,
 *         as has every tree for size over PEL_HISTORY_MAX_SIZE);
 *         PEL_ECORRUPT; PEL_EIO, PEL_ENOMEM from the store.
 */
PEL_MUST_USE int pel_history_root(pel_store *s, uint64_t size,
                                  uint8_t root[PEL_HISTORY_HASH_LEN])
    PEL_NONNULL(1, 3);

/*
 * pel_history_prove_inclusion - PATH(index, D[size]) of RFC 9162 section
 * 2.1.3.1 from the committed tree, for pel_history_verify_inclusion. At
 * most ceil(log2 size) hashes. Reads one record per hash, except that the
 * one sibling on the right edge that may not be a perfect subtree costs
 * one read per set bit of its width: about log2(size) + popcount(size)
 * reads in all, from one snapshot.
 * @param[out] path      capacity PEL_HISTORY_MAX_PATH; innermost first;
 *                       the written part is zeroed on failure
 * @param[out] path_len  number of hashes; 0 on failure
 * @return 0; PEL_EINVAL (index >= size); PEL_ENOTFOUND (the committed tree
 *         has fewer than size leaves); PEL_ECORRUPT; PEL_EIO, PEL_ENOMEM.
 */
PEL_MUST_USE int pel_history_prove_inclusion(pel_store *s, uint64_t index,
    uint64_t size, uint8_t path[PEL_HISTORY_MAX_PATH][PEL_HISTORY_HASH_LEN],
    size_t *path_len) PEL_NONNULL(1, 4, 5);

/*
 * pel_history_prove_consistency - PROOF(size1, D[size2]) of RFC 9162
 * section 2.1.4.1 from the committed tree, for
 * pel_history_verify_consistency. size1 == size2 gives the empty proof
 * (after checking that the tree has size2 leaves). At most
 * ceil(log2 size2) + 1 hashes; reads as for an inclusion proof.
 * @param[out] path      capacity PEL_HISTORY_MAX_PATH; zeroed on failure
 * @param[out] path_len  number of hashes; 0 on failure
 * @return 0; PEL_EINVAL (unless 0 < size1 <= size2: there is no proof from
 *         the empty tree); PEL_ENOTFOUND (the committed tree has fewer than
 *         size2 leaves); PEL_ECORRUPT; PEL_EIO, PEL_ENOMEM.
 */
PEL_MUST_USE int pel_history_prove_consistency(pel_store *s, uint64_t size1,
    uint64_t size2, uint8_t path[PEL_HISTORY_MAX_PATH][PEL_HISTORY_HASH_LEN],
    size_t *path_len) PEL_NONNULL(1, 4, 5);

/*
 * pel_history_check_append - append n leaf hashes to the frontier f (a
 * replay's own tree) and check that every record those appends complete
 * (each leaf and each parent it completes, exactly what pel_history_append
 * wrote) is stored in s with that hash. Checking every block this way
 * checks every record of the stored tree once. On failure f may hold some
 * of the leaves (f->size says how many).
 * @return 0; PEL_ECORRUPT (a record missing or different); PEL_ERANGE;
 *         PEL_EIO, PEL_ENOMEM from the store.
 */
PEL_MUST_USE int pel_history_check_append(pel_store *s, pel_history_frontier *f,
    const uint8_t (*leaf_hashes)[PEL_HISTORY_HASH_LEN], uint32_t n) PEL_NONNULL(1, 2);

#endif
