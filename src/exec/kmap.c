/*
 * kmap.c - lock-free insert-only hash map (see kmap.h).
 *
 * Invariant: a bucket chain only ever grows at its head, and a node's `next`
 * is set before the CAS that publishes it, so a reader that loads the head
 * with acquire ordering sees a complete, immutable chain behind it.
 */
#include "exec/kmap.h"

#include <stdlib.h>

static size_t buckets_for(size_t expected)
{
    size_t n = 1024;
    while (n < expected * 2 && n < ((size_t)1 << 40)) n <<= 1;
    return n;
}

int pel_kmap_init(pel_kmap *m, size_t expected, unsigned flags)
{
    size_t n = buckets_for(expected);
    m->buckets = calloc(n, sizeof(*m->buckets));
    if (!m->buckets) { m->mask = 0; return PEL_ENOMEM; }
    m->mask = n - 1;
    m->listed = (flags & PEL_KMAP_LISTED) != 0;
    atomic_init(&m->all, NULL);
    atomic_init(&m->count, 0);
    return 0;
}

int pel_kmap_reset(pel_kmap *m, size_t expected)
{
    size_t n = buckets_for(expected);
    if (n > m->mask + 1) {
        int listed = m->listed;
        pel_kmap_free(m);
        return pel_kmap_init(m, expected, listed ? PEL_KMAP_LISTED : 0);
    }
    memset((void *)m->buckets, 0, (m->mask + 1) * sizeof(*m->buckets));
    atomic_store(&m->all, NULL);
    atomic_store(&m->count, 0);
    return 0;
}

void pel_kmap_free(pel_kmap *m)
{
    free((void *)m->buckets);
    m->buckets = NULL;
    m->mask = 0;
}

static pel_kmap_node *scan(pel_kmap_node *n, pel_kmap_node *stop, const pel_key *key)
{
    for (; n && n != stop; n = n->next)
        if (pel_key_eq(&n->key, key)) return n;
    return NULL;
}

pel_kmap_node *pel_kmap_find(pel_kmap *m, const pel_key *key, uint64_t hash)
{
    /* acquire: pairs with the release CAS in insert, so the node's fields
     * (written before publication) are visible. */
    pel_kmap_node *head = atomic_load_explicit(&m->buckets[hash & m->mask],
                                               memory_order_acquire);
    return scan(head, NULL, key);
}

static void link_all(pel_kmap *m, pel_kmap_node *node)
{
    pel_kmap_node *old = atomic_load_explicit(&m->all, memory_order_relaxed);
    do node->all_next = old;
    while (!atomic_compare_exchange_weak_explicit(&m->all, &old, node,
               memory_order_release, memory_order_relaxed));
    atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

pel_kmap_node *pel_kmap_insert(pel_kmap *m, pel_kmap_node *node, uint64_t hash)
{
    _Atomic(pel_kmap_node *) *b = &m->buckets[hash & m->mask];
    pel_kmap_node *head = atomic_load_explicit(b, memory_order_acquire);
    pel_kmap_node *seen = NULL;   /* chain below `seen` already scanned */
    for (;;) {
        pel_kmap_node *hit = scan(head, seen, &node->key);
        if (hit) return hit;
        seen = head;
        node->next = head;
        /* release: publishes the node's contents with it; acquire on
         * failure: we then scan the new nodes pushed since `seen`. */
        if (atomic_compare_exchange_weak_explicit(b, &head, node,
                memory_order_acq_rel, memory_order_acquire)) {
            if (m->listed) link_all(m, node);
            return node;
        }
    }
}
