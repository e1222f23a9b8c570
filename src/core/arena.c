/*
 * arena.c - chunk management for the bump allocator (see arena.h).
 *
 * Chunks form a singly linked list from a->head. The head is the chunk
 * allocations are bumped from; dedicated chunks for large requests are
 * linked in behind it so the head's free tail is not wasted.
 */
#include "core/arena.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct pel_arena_chunk {
    pel_arena_chunk *next;
    size_t size;                       /* payload bytes after the header */
    _Alignas(PEL_ARENA_ALIGN) unsigned char data[];
};

/* -1: injection disabled; k >= 0: k more chunk allocations succeed.
 * Relaxed ordering suffices: it is a test knob, not a synchronisation. */
static atomic_long fail_after = -1;

void pel_arena_test_fail_after(long n)
{
    atomic_store_explicit(&fail_after, n, memory_order_relaxed);
}

static int injected_failure(void)
{
    long k = atomic_load_explicit(&fail_after, memory_order_relaxed);
    while (k > 0 && !atomic_compare_exchange_weak_explicit(&fail_after, &k,
               k - 1, memory_order_relaxed, memory_order_relaxed))
        ;
    return k == 0;
}

static size_t round_up(size_t n)
{
    return (n + (PEL_ARENA_ALIGN - 1)) & ~(size_t)(PEL_ARENA_ALIGN - 1);
}

void pel_arena_init(pel_arena *a, size_t chunk_size)
{
    memset(a, 0, sizeof *a);
    a->chunk_size = round_up(chunk_size ? chunk_size : PEL_ARENA_DEFAULT_CHUNK);
}

/* size is already rounded and checked against overflow by the caller. */
static pel_arena_chunk *chunk_new(pel_arena *a, size_t size)
{
    if (injected_failure())
        return NULL;
    pel_arena_chunk *c = aligned_alloc(PEL_ARENA_ALIGN, sizeof *c + size);
    if (!c)
        return NULL;
    c->next = NULL;
    c->size = size;
    a->total += size;
    return c;
}

/* A request bigger than a quarter chunk gets its own chunk, linked behind
 * the head, so at most a quarter of an ordinary chunk is ever wasted. */
static void *alloc_dedicated(pel_arena *a, size_t r)
{
    pel_arena_chunk *c = chunk_new(a, r);
    if (!c)
        return NULL;
    if (a->head) {
        c->next = a->head->next;
        a->head->next = c;
    } else {
        a->head = c;                   /* full: next small alloc starts anew */
        a->cur = a->end = c->data + r;
    }
    return c->data;
}

void *pel_arena_alloc_slow(pel_arena *a, size_t n)
{
    if (n > SIZE_MAX - sizeof(pel_arena_chunk) - PEL_ARENA_ALIGN)
        return NULL;
    size_t r = round_up(n ? n : 1);
    if (r <= (size_t)(a->end - a->cur))
        return pel_arena_alloc(a, r);  /* only reached for n == 0 */
    if (r > a->chunk_size / 4)
        return alloc_dedicated(a, r);
    pel_arena_chunk *c = chunk_new(a, a->chunk_size);
    if (!c)
        return NULL;
    c->next = a->head;
    a->head = c;
    a->cur = c->data + r;
    a->end = c->data + c->size;
    return c->data;
}

void *pel_arena_memdup(pel_arena *a, const void *p, size_t n)
{
    void *q = pel_arena_alloc(a, n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

/* Keeps the first ordinary-size chunk: a dedicated chunk may be huge and
 * would pin memory that later blocks do not need. */
void pel_arena_reset(pel_arena *a)
{
    pel_arena_chunk *keep = NULL, *c = a->head, *next;
    for (; c; c = next) {
        next = c->next;
        if (!keep && c->size == a->chunk_size)
            keep = c;
        else
            free(c);
    }
    a->head = keep;
    a->cur = keep ? keep->data : NULL;
    a->end = keep ? keep->data + keep->size : NULL;
    a->total = keep ? keep->size : 0;
    if (keep)
        keep->next = NULL;
}

void pel_arena_free(pel_arena *a)
{
    pel_arena_chunk *c = a->head, *next;
    for (; c; c = next) {
        next = c->next;
        free(c);
    }
    pel_arena_init(a, a->chunk_size);
}
