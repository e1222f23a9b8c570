/*
 * kmap.h - a concurrent hash map from pel_key to caller-defined nodes.
 *
 * Used by the engines for per-block tables (multi-version memory, block
 * overlays). Buckets are lock-free singly linked lists: insertion is a CAS on
 * the bucket head, lookup never locks, nodes are never removed before the
 * whole map is reset. The bucket count is fixed at pel_kmap_init (chains
 * simply grow if the estimate was low), so no concurrent resizing exists.
 *
 * Nodes embed pel_kmap_node as their FIRST member and are allocated by the
 * caller (normally from a per-thread arena that lives as long as the map).
 *
 * Thread safety: pel_kmap_find and pel_kmap_insert may run concurrently from
 * any number of threads; init/reset/free need exclusive access.
 */
#ifndef PEL_KMAP_H
#define PEL_KMAP_H

#include <stdatomic.h>
#include <stddef.h>
#include "exec/key.h"
#include "core/err.h"

typedef struct pel_kmap_node pel_kmap_node;
struct pel_kmap_node {
    pel_key key;
    pel_kmap_node *next;       /* written before publication, then immutable */
    pel_kmap_node *all_next;   /* list of every node, for iteration */
};

typedef struct pel_kmap {
    _Atomic(pel_kmap_node *) *buckets;
    size_t mask;
    int listed;                     /* PEL_KMAP_LISTED given at init */
    _Atomic(pel_kmap_node *) all;   /* every node, newest first (listed maps) */
    _Atomic size_t count;           /* listed maps */
} pel_kmap;

/* A map created with PEL_KMAP_LISTED keeps a list of every node and a count
 * (pel_kmap_first, pel_kmap_count); every insert then also updates that list
 * head and count, two atomic read-modify-writes on one line that all threads
 * share. Maps whose users track their nodes themselves leave it off: their
 * inserts touch only the node's bucket, and first/count say NULL and 0. */
enum { PEL_KMAP_LISTED = 1 };

/* pel_kmap_init - allocate buckets for about `expected` keys; flags: 0 or
 * PEL_KMAP_LISTED. @return 0 or PEL_ENOMEM. */
int pel_kmap_init(pel_kmap *m, size_t expected, unsigned flags) PEL_MUST_USE;

/* pel_kmap_reset - forget every node (their memory belongs to the caller);
 * when `expected` needs more buckets than the map has, they are reallocated.
 * @return 0 or PEL_ENOMEM (the map is then freed and must be re-initialised). */
int pel_kmap_reset(pel_kmap *m, size_t expected) PEL_MUST_USE;

void pel_kmap_free(pel_kmap *m);

/* pel_kmap_find - the node for `key`, or NULL. Lock-free. */
pel_kmap_node *pel_kmap_find(pel_kmap *m, const pel_key *key, uint64_t hash);

/* pel_kmap_insert - publish `node` (its key already set) unless a node with
 * the same key exists; returns the node now in the map: `node` itself if it
 * was inserted, else the existing one (the caller may then reuse `node`).
 * Release/acquire ordering: everything written to `node` before the call is
 * visible to any thread that later finds it. */
pel_kmap_node *pel_kmap_insert(pel_kmap *m, pel_kmap_node *node, uint64_t hash);

/* pel_kmap_first - iterate all nodes of a listed map (no concurrent inserts):
 * for (n = pel_kmap_first(m); n; n = n->all_next). Order is unspecified. */
static inline pel_kmap_node *pel_kmap_first(pel_kmap *m)
{
    return atomic_load_explicit(&m->all, memory_order_acquire);
}

static inline size_t pel_kmap_count(pel_kmap *m)
{
    return atomic_load_explicit(&m->count, memory_order_relaxed);
}

#endif
