/*
 * arena.h - bump allocator for per-block and per-transaction data.
 *
 * Data that lives exactly as long as a block or a transaction is carved out
 * of large chunks with a pointer bump and released all at once with
 * pel_arena_reset() or pel_arena_free(); nothing is freed individually.
 *
 * Thread safety: an arena is not thread-safe; use one arena per thread.
 *
 * Example:
 *     pel_arena a;
 *     pel_arena_init(&a, 0);
 *     uint8_t *key = pel_arena_memdup(&a, src, n);   // NULL on OOM
 *     ...
 *     pel_arena_reset(&a);   // every pointer from `a` is now invalid
 *     pel_arena_free(&a);
 */
#ifndef PEL_ARENA_H
#define PEL_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Every allocation is aligned to this many bytes. */
#define PEL_ARENA_ALIGN 16
/* Chunk size used when pel_arena_init() is given 0. */
#define PEL_ARENA_DEFAULT_CHUNK ((size_t)64 * 1024)

typedef struct pel_arena_chunk pel_arena_chunk;

/*
 * Invariants: [cur, end) is the free tail of the chunk allocations are bumped
 * from; cur is always PEL_ARENA_ALIGN-aligned (or NULL before the first
 * chunk). total is the number of payload bytes in the chunks held.
 */
typedef struct pel_arena {
    pel_arena_chunk *head;
    unsigned char *cur;
    unsigned char *end;
    size_t chunk_size;
    size_t total;
} pel_arena;

/* pel_arena_init - prepare an empty arena; allocates nothing.
 * @param[out] a           the arena
 * @param[in]  chunk_size  payload bytes per ordinary chunk; 0 = 64 KiB.
 *                          Rounded up to PEL_ARENA_ALIGN. */
void pel_arena_init(pel_arena *a, size_t chunk_size) PEL_NONNULL(1);

/* pel_arena_alloc_slow - the out-of-line half of pel_arena_alloc(): starts
 * a new chunk (or a dedicated one for a large request). Call
 * pel_arena_alloc() instead. */
void *pel_arena_alloc_slow(pel_arena *a, size_t n) PEL_NONNULL(1);

/* pel_arena_alloc - n bytes, PEL_ARENA_ALIGN-aligned, uninitialised.
 * @param[in,out] a  the arena
 * @param[in]     n  size in bytes; may exceed chunk_size (the request then
 *                   gets a dedicated chunk); 0 gives a valid unique pointer
 * @return the memory, owned by the arena and valid until the next
 *         pel_arena_reset() or pel_arena_free(); NULL on out of memory or
 *         if n is so large the size computation overflows.
 *
 * The fast path is a bounds check and a pointer bump. Because r is rounded
 * to the alignment and r - 1 < avail rejects r == 0, both n == 0 and an n
 * whose rounding wraps around fall through to the slow path. */
static inline void *pel_arena_alloc(pel_arena *a, size_t n)
{
    size_t r = (n + (PEL_ARENA_ALIGN - 1)) & ~(size_t)(PEL_ARENA_ALIGN - 1);
    if (r - 1 < (size_t)(a->end - a->cur)) {
        void *p = a->cur;
        a->cur += r;
        return p;
    }
    return pel_arena_alloc_slow(a, n);
}

/* pel_arena_memdup - copy n bytes of p into the arena.
 * @param[in] p  source; may be NULL when n == 0
 * @return the copy (same lifetime as pel_arena_alloc()); non-NULL for
 *         n == 0; NULL on out of memory. */
void *pel_arena_memdup(pel_arena *a, const void *p, size_t n) PEL_NONNULL(1);

/* pel_arena_reset - release every allocation at once. One ordinary-size
 * chunk is kept for reuse, so a per-transaction arena that is reset after
 * each transaction stops calling malloc once warmed up. */
void pel_arena_reset(pel_arena *a) PEL_NONNULL(1);

/* pel_arena_free - release all memory. The arena is empty afterwards and
 * may be used again (it behaves as freshly initialised, same chunk size). */
void pel_arena_free(pel_arena *a) PEL_NONNULL(1);

/* pel_arena_test_fail_after - TEST ONLY allocation-failure injection.
 * After this call the next n chunk allocations (in any arena) succeed and
 * every later one fails, making pel_arena_alloc() return NULL, until it is
 * called again with -1 (the default, which disables injection). The counter
 * is a process-wide atomic; do not use it in production code. */
void pel_arena_test_fail_after(long n);

#endif
