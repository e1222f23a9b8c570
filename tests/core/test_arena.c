/* test_arena.c - bump allocator: alignment, large blocks, reset/reuse,
 * overflow and injected allocation failure. */
#include <stdint.h>

#include "core/arena.h"
#include "test.h"

static int aligned(const void *p)
{
    return ((uintptr_t)p % PEL_ARENA_ALIGN) == 0;
}

static void alloc_is_aligned_and_distinct(void)
{
    pel_arena a;
    pel_arena_init(&a, 256);
    unsigned char *prev = NULL;
    int ok = 1;
    for (size_t n = 0; n < 200; n++) {
        unsigned char *p = pel_arena_alloc(&a, n % 37);
        ok &= p != NULL && aligned(p) && p != prev;
        if (p) memset(p, 0xab, n % 37);
        prev = p;
    }
    CHECK(ok);
    pel_arena_free(&a);
}

static void zero_size_gives_valid_pointer(void)
{
    pel_arena a;
    pel_arena_init(&a, 0);
    CHECK_EQ_INT(a.chunk_size, PEL_ARENA_DEFAULT_CHUNK);
    void *p = pel_arena_alloc(&a, 0);
    void *q = pel_arena_memdup(&a, NULL, 0);
    CHECK(p != NULL);
    CHECK(q != NULL);
    CHECK(p != q);
    pel_arena_free(&a);
}

static void memdup_copies(void)
{
    pel_arena a;
    pel_arena_init(&a, 64);
    const char msg[] = "per-transaction data";
    char *p = pel_arena_memdup(&a, msg, sizeof msg);
    CHECK(p != NULL && aligned(p));
    CHECK_MEM(p, msg, sizeof msg);
    pel_arena_free(&a);
}

static void large_alloc_gets_dedicated_chunk(void)
{
    pel_arena a;
    pel_arena_init(&a, 1024);
    unsigned char *small = pel_arena_alloc(&a, 16);
    unsigned char *cur = a.cur;
    unsigned char *big = pel_arena_alloc(&a, 100000);
    CHECK(big != NULL && aligned(big));
    if (big) memset(big, 1, 100000);
    CHECK(a.cur == cur);                 /* bump chunk left untouched */
    unsigned char *next = pel_arena_alloc(&a, 16);
    CHECK(next == small + 16);
    CHECK_EQ_INT(a.total, 1024 + 100000);
    pel_arena_free(&a);
    CHECK(a.head == NULL && a.total == 0);
}

static void big_first_alloc_then_small(void)
{
    pel_arena a;
    pel_arena_init(&a, 1024);
    CHECK(pel_arena_alloc(&a, 5000) != NULL);
    unsigned char *p = pel_arena_alloc(&a, 8);
    CHECK(p != NULL && aligned(p));
    pel_arena_reset(&a);                 /* keeps the ordinary chunk only */
    CHECK_EQ_INT(a.total, 1024);
    CHECK(pel_arena_alloc(&a, 8) == p);
    pel_arena_free(&a);
}

static void reset_reuses_one_chunk(void)
{
    pel_arena a;
    pel_arena_init(&a, 512);
    for (int i = 0; i < 50; i++)
        (void)pel_arena_alloc(&a, 100);
    CHECK(a.total > 512);
    pel_arena_reset(&a);
    CHECK_EQ_INT(a.total, 512);
    unsigned char *first = a.cur;
    pel_arena_test_fail_after(0);        /* reuse must not need malloc */
    CHECK(pel_arena_alloc(&a, 100) == first);
    pel_arena_test_fail_after(-1);
    pel_arena_free(&a);
}

static void free_leaves_arena_reusable(void)
{
    pel_arena a;
    pel_arena_init(&a, 128);
    (void)pel_arena_alloc(&a, 10);
    pel_arena_free(&a);
    CHECK_EQ_INT(a.chunk_size, 128);
    CHECK(pel_arena_alloc(&a, 10) != NULL);
    pel_arena_free(&a);
}

static void overflowing_size_returns_null(void)
{
    pel_arena a;
    pel_arena_init(&a, 0);
    CHECK(pel_arena_alloc(&a, SIZE_MAX) == NULL);
    CHECK(pel_arena_alloc(&a, SIZE_MAX - 8) == NULL);
    CHECK(pel_arena_alloc(&a, 1) != NULL);   /* still usable */
    pel_arena_free(&a);
}

static void injected_failure_returns_null(void)
{
    pel_arena a;
    pel_arena_init(&a, 64);
    pel_arena_test_fail_after(2);        /* two chunks succeed */
    CHECK(pel_arena_alloc(&a, 64) != NULL);
    CHECK(pel_arena_alloc(&a, 64) != NULL);
    CHECK(pel_arena_alloc(&a, 64) == NULL);
    CHECK(pel_arena_alloc(&a, 1000) == NULL);
    pel_arena_test_fail_after(-1);
    CHECK(pel_arena_alloc(&a, 64) != NULL);
    pel_arena_free(&a);
}

int main(void)
{
    RUN(alloc_is_aligned_and_distinct);
    RUN(zero_size_gives_valid_pointer);
    RUN(memdup_copies);
    RUN(large_alloc_gets_dedicated_chunk);
    RUN(big_first_alloc_then_small);
    RUN(reset_reuses_one_chunk);
    RUN(free_leaves_arena_reusable);
    RUN(overflowing_size_returns_null);
    RUN(injected_failure_returns_null);
    return TEST_END("test_arena");
}
