/*
 * smt.h - the state tree: a versioned sparse Merkle tree over the ledger
 * state (Jellyfish Merkle Tree style), whose root goes into every block
 * header, with inclusion and non-inclusion proofs that verify against the
 * root alone.
 *
 * ---- Hashing (what an independent verifier needs) ----
 * H(T, x) is the tagged BLAKE2b-256 of core/hash.h:
 * BLAKE2b-256(u8(len(T)) || T || x). Z is 32 zero bytes.
 *
 *   path(key)        = H("PEL/state-path", key)          key: 32-byte state key
 *   value_hash(v)    = H("PEL/state-value", v)            v: the value bytes
 *   leaf(path, vh)   = H("PEL/state-leaf", path || vh)
 *   pair(l, r)       = Z                                  if l == Z and r == Z
 *                    = H("PEL/state-node", l || r)        otherwise
 *   node(c[0..15])   = binary Merkle root over the 16 child hashes:
 *                      p1[i] = pair(c[2i], c[2i+1])        i = 0..7
 *                      p2[i] = pair(p1[2i], p1[2i+1])      i = 0..3
 *                      p3[i] = pair(p2[2i], p2[2i+1])      i = 0..1
 *                      node  = pair(p3[0], p3[1])
 *                      where c[i] is Z for an empty slot.
 *
 * A path is read as 64 nibbles, high nibble of byte 0 first: nibble(p, d)
 * = p[d/2] >> 4 if d is even, p[d/2] & 15 if d is odd. The tree over a
 * set S of (key, value) pairs (keys distinct) is defined recursively, at
 * nibble depth d (the root is T(S, 0)):
 *   T(S, d) = empty,                      hash Z,       if S is empty;
 *           = the leaf of its one pair,   hash leaf(path(key), value_hash(v)),
 *                                                       if |S| = 1;
 *           = an internal node with children T(S_i, d + 1), i = 0..15, where
 *             S_i = pairs whose path has nibble(path, d) = i;
 *                                         hash node(child hashes), otherwise.
 * So a subtree holding one leaf is replaced by that leaf (path compression),
 * an empty subtree hashes to Z (which no leaf or node hash equals short of a
 * BLAKE2b preimage), and the shape depends only on S: any order of updates
 * and a from-scratch rebuild give the same root. Internal nodes sit at
 * depths 0..63 (two distinct paths differ in some nibble), leaves at 0..64.
 * Leaf and node hashes are domain-separated, and a leaf commits to its full
 * path, so a leaf can never pass for a node nor sit at another key's place.
 *
 * Known answers: the empty tree's root is Z; a tree of one pair has root
 * leaf(path(key), value_hash(v)) (the leaf is the root, at depth 0).
 *
 * Inside a 16-ary node the hash is the binary tree above, so a proof
 * carries 4 sibling hashes per level (Z siblings omitted) instead of 15.
 *
 * ---- Proofs ----
 * A proof for key K (path P) against root R walks the internal nodes from
 * the root along P's nibbles for `depth` levels and ends in one of:
 *   PEL_SMT_PRESENT       the leaf of K at depth `depth` (its value is given
 *                         to the verifier, not carried in the proof);
 *   PEL_SMT_ABSENT_EMPTY  an empty slot at depth `depth` (depth 0: the whole
 *                         tree is empty);
 *   PEL_SMT_ABSENT_LEAF   another leaf (path Q != P, value hash vh) at depth
 *                         `depth`: the only place K could be is taken, so K
 *                         is absent. Q must agree with P in nibbles
 *                         0..depth-1.
 * Level i (i = 0 is the root node) holds the 4 siblings of P's path inside
 * the node at depth i, n = nibble(P, i): sib[i][0] = c[n ^ 1],
 * sib[i][1] = p1[(n >> 1) ^ 1], sib[i][2] = p2[(n >> 2) ^ 1],
 * sib[i][3] = p3[(n >> 3) ^ 1] (c, p1..p3 of that node, as above); bit j of
 * mask[i] is set iff sib[i][j] != Z.
 * Verification: h = leaf(P, value_hash(value)) for PRESENT, Z for
 * ABSENT_EMPTY, leaf(Q, vh) for ABSENT_LEAF; then for i = depth-1 down to
 * 0, for j = 0..3: h = pair(sib[i][j], h) if bit j of nibble(P, i) is set,
 * else pair(h, sib[i][j]); the proof holds iff h == R.
 *
 * Encoding (canonical codec, core/codec.h), at most PEL_SMT_PROOF_MAX bytes:
 *     u8 kind (0 PRESENT, 1 ABSENT_EMPTY, 2 ABSENT_LEAF)
 *     u8 depth (0..64)
 *     depth times, root level first:
 *         u8 mask (0..15), then the sibling hashes whose mask bit is set,
 *         32 bytes each, j = 0 (the one next to P's slot) first
 *     kind 2 only: 32-byte Q, then 32-byte vh
 * The decoder rejects, besides truncation and trailing bytes, what the
 * encoder never writes: kind > 2, depth > 64, mask > 15, a Z hash under a
 * set mask bit, and a last level (depth >= 1) with mask 0 (the node
 * holding the end of the path always has another non-empty child: a node
 * has at least two children unless its single child is a node, and then
 * the path would go on). So each (tree, key) has exactly one proof, and one
 * proof has one encoding.
 *
 * ---- Storage (table PEL_T_SMT) ----
 * Nodes are immutable and versioned: version = the block height whose
 * update wrote them. Integers are big-endian in keys, little-endian in
 * values. Records:
 *   node     'n' || version u64 || the nibbles of the node's position, one
 *            per byte (0..15; none for the root), so a node's key is a
 *            prefix of its descendants' keys and depth-first order is key
 *            order (an update writes its nodes nearly in key order)
 *            -> value, first byte the type:
 *              0 empty (only as the root of an empty tree), nothing more;
 *              1 internal: u16 child bitmap (bit i: slot i used), u16 leaf
 *                bitmap (bit i: slot i holds a leaf), then for each used
 *                slot in order: child version u64, child hash (32); then
 *                p2[i] for i = 0..3 whose slots 4i..4i+3 are not all
 *                empty, then p3[i] for i = 0..1 whose slots 8i..8i+7 are
 *                not all empty (the pair hashes of the node hash above;
 *                stored so that an update rehashes about 5 pairs per
 *                changed child and a proof level costs one pair hash); the
 *                node hash is pair(p3[0], p3[1]). Every stored hash is
 *                non-zero. An internal node has two or more children, or
 *                one internal child;
 *              2 leaf: path (32), key (32), value hash (32), value bytes
 *                (so past values can be proven and state exported at any
 *                retained version).
 *   stale    'd' || version v u64 -> every node that the update to v
 *            replaced, concatenated, each as its version u64 BE, depth u8
 *            and position nibbles packed two per byte, high first
 *            (ceil(depth/2) bytes, an odd count ends in a zero low nibble).
 *            Stores written before 2026-11-27 have them under 's' instead;
 *            prune reads both.
 *   latest   'l' -> u64, the newest version written.
 *   floor    'f' -> u64, the oldest version kept (absent: 0).
 * 'd', 'f' and 'l' sort below 'n', so a new version's nodes are the last
 * keys of the table: the update writes each depth-2 subtree's nodes in key
 * order with pel_store_append (no search for the place, full pages), and
 * only the few nodes above them with an ordinary put. While an old 's'
 * record is left, the update puts every node (same records, slower).
 * Every update writes a root record for its new version (a copy when
 * nothing changed), so each version in [floor, latest] that was written
 * has exactly the key 'n' || version. A node belongs to the trees of the
 * versions from its own to the one whose update made it stale; pruning to
 * keep_from deletes the nodes of every stale record with v <= keep_from,
 * which is exactly the set no tree of a version >= keep_from reaches.
 *
 * ---- Costs ----
 * An update of n keys on a tree of N keys reads and rewrites each node on
 * the n paths once (about n * (log16 N + 1) nodes, the upper levels
 * shared), hashes about 5 pairs per changed child of each rewritten node
 * (15 at most), and writes one stale record. With a pool the depth-2
 * subtrees are read, rebuilt and hashed on all its threads while the
 * caller's thread writes them in order; memory is the writes plus a few
 * dozen depth-2 subtrees. A proof reads depth + 1 <= log16 N + 2 records and
 * hashes one pair per level; verification does 2 + 4 * depth pair or
 * leaf hashes and allocates nothing. Proofs are 2 + depth * (1 + 32 *
 * popcount(mask)) bytes (+64 for ABSENT_LEAF): about 550 bytes at 10^5
 * keys, 700 at 10^6.
 * Measured (16-core Xeon hosts, 10^6 keys, blocks of 2*10^4 writes,
 * update without the commit): 135-150k writes/s on one thread, 235-255k/s
 * with a pool of 2, 310-365k/s with 4 or 8; 75-95k proofs/s per thread
 * (200-240k/s on 4 or more threads); 180-200k verifications/s per thread.
 * On a 2-core VM with every thread building units from its own snapshot
 * (bench/RESULTS.md, "State-tree update: every thread builds units from
 * its own snapshot"; 10^6 accounts, blocks of 3*10^4 writes): 120-150k
 * writes/s on one thread, 229-273k/s with a pool of 2.
 *
 * ---- Thread safety ----
 * The pure functions (hashes, root_of, verify, encode/decode) are
 * thread-safe. pel_smt_update and pel_smt_prune run on the thread that owns
 * the write transaction (update also uses the pool's threads, which it
 * owns for the call). pel_smt_root, pel_smt_get_proof, pel_smt_versions
 * and pel_smt_walk are thread-safe and may run while a block commits
 * (root, get_proof and walk read all their records from one snapshot,
 * so a prune meanwhile does not disturb them; versions uses short read
 * transactions via pel_store_get; records are write-once, so a committed
 * version reads the same until pruned; a version pruned before the read
 * gives PEL_ESMT_PRUNED).
 */
#ifndef PEL_SMT_H
#define PEL_SMT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "exec/key.h"
#include "exec/pool.h"
#include "exec/state.h"
#include "state/store.h"

#define PEL_SMT_HASH_LEN 32
#define PEL_SMT_MAX_DEPTH 64          /* internal levels a proof can cross */
#define PEL_SMT_NONE UINT64_MAX       /* old_version of the very first update */
#define PEL_SMT_PROOF_MAX (2 + PEL_SMT_MAX_DEPTH * (1 + 4 * 32) + 64)

enum {
    PEL_SMT_PRESENT = 0,
    PEL_SMT_ABSENT_EMPTY = 1,
    PEL_SMT_ABSENT_LEAF = 2
};

/* A decoded proof (format above). Fixed size (about 8.3 KiB), no pointers:
 * copy it freely. sib[i][j] is Z wherever bit j of mask[i] is clear;
 * levels at or beyond depth are ignored. */
typedef struct pel_smt_proof {
    uint8_t kind;
    uint8_t depth;
    uint8_t mask[PEL_SMT_MAX_DEPTH];
    uint8_t sib[PEL_SMT_MAX_DEPTH][4][PEL_SMT_HASH_LEN];
    uint8_t leaf_path[PEL_SMT_HASH_LEN];        /* ABSENT_LEAF: Q */
    uint8_t leaf_value_hash[PEL_SMT_HASH_LEN];  /* ABSENT_LEAF: vh */
} pel_smt_proof;

/* ---- pure functions ---- */

/* pel_smt_path / _value_hash / _leaf_hash / _node_hash - the hashes above.
 * value may be NULL when len is 0; children is 16 hashes, Z for empty.
 * @return 0 or PEL_ECRYPTO (libsodium failed to initialise); output zeroed
 *         on failure. */
PEL_MUST_USE int pel_smt_path(const pel_key *key, uint8_t path[PEL_SMT_HASH_LEN])
    PEL_NONNULL(1, 2);
PEL_MUST_USE int pel_smt_value_hash(const void *value, size_t len,
                                    uint8_t out[PEL_SMT_HASH_LEN]) PEL_NONNULL(3);
PEL_MUST_USE int pel_smt_leaf_hash(const uint8_t path[PEL_SMT_HASH_LEN],
                                   const uint8_t value_hash[PEL_SMT_HASH_LEN],
                                   uint8_t out[PEL_SMT_HASH_LEN]) PEL_NONNULL(1, 2, 3);
PEL_MUST_USE int pel_smt_node_hash(const uint8_t children[16][PEL_SMT_HASH_LEN],
                                   uint8_t out[PEL_SMT_HASH_LEN]) PEL_NONNULL(1, 2);

/*
 * pel_smt_root_of - the root of the tree over a whole key/value set, built
 * in memory from scratch (for `pel admin rebuild-state-tree`, tests and
 * light clients). Independent of the store.
 * @param[in]  pairs  every (key, value), all PEL_W_PUT, sorted by key with
 *                    no key twice (a pel_writeset as the engines make);
 *                    n may be 0
 * @param[out] root   zeroed on failure
 * @return 0, PEL_EINVAL (a PEL_W_DEL, or keys not strictly increasing),
 *         PEL_ENOMEM, PEL_ECRYPTO. O(n log n) time, O(n) memory.
 */
PEL_MUST_USE int pel_smt_root_of(const pel_writeset *pairs,
                                 uint8_t root[PEL_SMT_HASH_LEN]) PEL_NONNULL(1, 2);

/*
 * pel_smt_verify - check proof p that `key` has value value[0..len) (value
 * non-NULL; len may be 0) or is absent (value NULL) in the tree with root
 * `root`. Pure: no store, no allocation.
 * @return 0 when the proof holds, PEL_EPROOF otherwise (wrong kind for the
 *         claim, leaf path not sharing the walked prefix or equal to the
 *         key's, depth or mask out of range, hashes not reaching root),
 *         PEL_ECRYPTO.
 */
PEL_MUST_USE int pel_smt_verify(const uint8_t root[PEL_SMT_HASH_LEN],
                                const pel_key *key, const void *value, size_t len,
                                const pel_smt_proof *p) PEL_NONNULL(1, 2, 5);

/* pel_smt_verify_hash - pel_smt_verify for a caller holding only the value's
 * hash (value_hash(v) above), or NULL to check absence. Same returns. */
PEL_MUST_USE int pel_smt_verify_hash(const uint8_t root[PEL_SMT_HASH_LEN],
                                     const pel_key *key,
                                     const uint8_t *value_hash,
                                     const pel_smt_proof *p) PEL_NONNULL(1, 2, 4);

/* pel_smt_proof_encode - append the canonical encoding of p to out.
 * @return 0, PEL_EINVAL (p is not encodable: kind, depth or mask out of
 *         range, or a last level with mask 0), PEL_ENOMEM; out unchanged
 *         on failure. */
PEL_MUST_USE int pel_smt_proof_encode(const pel_smt_proof *p, pel_buf *out)
    PEL_NONNULL(1, 2);

/* pel_smt_proof_decode - strict decode of data[0..len) into *out (cleared
 * on failure). Accepts exactly the encoder's outputs.
 * @return 0, PEL_ETRUNC, PEL_ETRAILING, PEL_ENONCANON (kind, depth, mask,
 *         a Z sibling, or a last level with mask 0). */
PEL_MUST_USE int pel_smt_proof_decode(const void *data, size_t len,
                                      pel_smt_proof *out) PEL_NONNULL(3);

/* ---- the stored tree ---- */

/*
 * pel_smt_update - apply one block's write set to the tree of old_version,
 * writing the tree of new_version inside the caller's write transaction w
 * on store s (so tree and block commit or abort together). Old nodes are
 * read with pel_store_txn_get (staged writes included), except that when
 * old_version's root is committed, each depth-2 subtree is read from a
 * snapshot of the committed state (pel_store_snap), rebuilt and hashed on
 * whichever of the pool's threads gets to it first (one that fails is
 * rebuilt through w). The new nodes are written in key order as each
 * subtree is done, then the nodes above, the stale record and the latest
 * record. Deleting an absent
 * key and writing a key's current value change nothing.
 * Only this module may write table PEL_T_SMT: the snapshot reads rely on
 * its records being write-once.
 * @param[in]  s            the store that w belongs to
 * @param[in]  old_version  the latest version written, or PEL_SMT_NONE for
 *                          the first update of an empty table (genesis, or
 *                          a rebuild with every pair as a put)
 * @param[in]  new_version  > old_version (any value but PEL_SMT_NONE when
 *                          old_version is PEL_SMT_NONE)
 * @param[in]  ws           the block's writes, sorted by key, each key once
 * @param[in]  pool         NULL (or a pool of 1) to run on the calling
 *                          thread only; the caller's thread is the pool's
 *                          worker 0 and does every write through w
 * @param[out] new_root     the new root hash; zeroed on failure
 * @return 0; PEL_EINVAL (versions out of order, ws not strictly sorted, a
 *         kind that is neither put nor delete, a value over PEL_VAL_MAX or
 *         NULL with a length); PEL_EEXIST (old_version is not the latest
 *         version: newer ones exist, or PEL_SMT_NONE on a table that has a
 *         tree); PEL_ESMT_VERSION (old_version was never written, or is
 *         newer than the latest); PEL_ESMT_PRUNED (old_version was
 *         pruned); PEL_ECORRUPT (a stored record fails its checks);
 *         PEL_ENOMEM; PEL_ECRYPTO; PEL_EMAPFULL, PEL_EIO from the store.
 *         After a failure the caller aborts w.
 * Memory: about 200 bytes a write (values are referenced, not copied) and
 * a few depth-2 subtrees at a time.
 */
PEL_MUST_USE int pel_smt_update(pel_store *s, pel_store_txn *w, uint64_t old_version,
                                uint64_t new_version, const pel_writeset *ws,
                                pel_pool *pool, uint8_t new_root[PEL_SMT_HASH_LEN])
    PEL_NONNULL(1, 2, 5, 7);

/* pel_smt_append_stats - since the process started: node records
 * pel_smt_update appended, and updates in which the store refused an
 * append as out of key order (that record and the rest were put instead;
 * always 0 unless the update's write order is broken). For tests and
 * benchmarks. Thread-safe. */
void pel_smt_append_stats(uint64_t *appended, uint64_t *misses) PEL_NONNULL(1, 2);

/*
 * pel_smt_root - the root hash of a committed version (one read, one
 * hash).
 * @param[out] root  zeroed on failure
 * @return 0, PEL_ESMT_PRUNED (no root record, version below the floor),
 *         PEL_ESMT_VERSION (no root record otherwise: never written),
 *         PEL_ECORRUPT, PEL_ENOMEM, PEL_EIO, PEL_ECRYPTO.
 */
PEL_MUST_USE int pel_smt_root(pel_store *s, uint64_t version,
                              uint8_t root[PEL_SMT_HASH_LEN]) PEL_NONNULL(1, 3);

/*
 * pel_smt_get_proof - the proof for key in the committed tree of `version`
 * (inclusion if the key is present then, non-inclusion otherwise), and its
 * value then.
 * @param[out] out    the proof (cleared on failure); out->kind tells
 *                    presence
 * @param[out] value  NULL, or a buffer reset and filled with the value when
 *                    present (left empty when absent or on failure)
 * @return 0, PEL_ESMT_PRUNED, PEL_ESMT_VERSION, PEL_ECORRUPT, PEL_ENOMEM,
 *         PEL_EIO, PEL_ECRYPTO.
 */
PEL_MUST_USE int pel_smt_get_proof(pel_store *s, uint64_t version, const pel_key *key,
                                   pel_smt_proof *out, pel_buf *value)
    PEL_NONNULL(1, 3, 4);

/*
 * pel_smt_prune - delete every node that no version >= keep_from reaches,
 * and their stale records, and raise the floor to keep_from (never lowers
 * it; keep_from above the latest version is clamped to it). Finds the stale
 * records with pel_store_scan on s, so it sees what is committed: stale
 * records staged in w (by an update in the same transaction) are left for
 * a later prune, which always scans from the first record. Memory is
 * bounded (records are taken in batches of 8 MiB). A version below the
 * floor whose nodes are all still there (its successor was written after
 * keep_from) stays readable until a later prune removes it.
 * @param[out] removed  NULL, or the number of node records deleted (nodes
 *                      listed again by a second prune in one transaction
 *                      are counted again)
 * @return 0 (also when there is no tree), PEL_ECORRUPT (a malformed stale
 *         record), PEL_ENOMEM, PEL_EMAPFULL, PEL_EIO. After a failure the
 *         caller aborts w.
 */
PEL_MUST_USE int pel_smt_prune(pel_store *s, pel_store_txn *w, uint64_t keep_from,
                               uint64_t *removed) PEL_NONNULL(1, 2);

/* pel_smt_versions - the committed range of versions [floor, latest].
 * @return 0, PEL_ENOTFOUND (no tree yet), PEL_ECORRUPT, PEL_ENOMEM, PEL_EIO;
 *         outputs 0 on failure. */
PEL_MUST_USE int pel_smt_versions(pel_store *s, uint64_t *floor, uint64_t *latest)
    PEL_NONNULL(1, 2, 3);

/*
 * pel_smt_walk - visit every node of a committed version depth first (slot
 * order, so leaves come in path order) and check it: each stored child
 * hash equals the child's recomputed hash, each internal node's stored p2
 * and p3 match its children and it has two children or one internal child,
 * each leaf's path is H(key) and lies under its position and its value
 * hash matches its value. fn (may be NULL) gets each node's store key
 * (with the 'n') and, for leaves, the state key and value (valid during
 * the call; key NULL for other nodes); it returns 0 to go on or a negative
 * code that the walk returns. Every record comes from one snapshot of
 * the committed store, held for the whole walk (its pages stay pinned
 * until the walk ends). For `pel admin verify`, state export at a height,
 * and tests.
 * @param[out] root  NULL, or the recomputed root hash
 * @return 0, fn's code, PEL_ECORRUPT, PEL_ESMT_PRUNED, PEL_ESMT_VERSION,
 *         PEL_ENOMEM, PEL_EIO, PEL_ECRYPTO.
 */
typedef int (*pel_smt_walk_fn)(void *arg, const uint8_t *node_key, size_t klen,
                               const pel_key *key, const uint8_t *value, size_t vlen);
PEL_MUST_USE int pel_smt_walk(pel_store *s, uint64_t version, pel_smt_walk_fn fn,
                              void *arg, uint8_t root[PEL_SMT_HASH_LEN])
    PEL_NONNULL(1);

#endif
