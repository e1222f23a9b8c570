/* test_buf.c - growable byte buffer: append, growth, reset, overflow. */
#include "core/buf.h"
#include "test.h"

static void append_accumulates(void)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    CHECK_EQ_INT(pel_buf_append(&b, "ab", 2), 0);
    CHECK_EQ_INT(pel_buf_append(&b, NULL, 0), 0);
    CHECK_EQ_INT(pel_buf_append(&b, "cde", 3), 0);
    CHECK_EQ_INT(b.len, 5);
    CHECK_MEM(b.data, "abcde", 5);
    pel_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void grows_past_many_doublings(void)
{
    pel_buf b;
    pel_buf_init(&b);
    int ok = 1;
    for (unsigned i = 0; i < 100000; i++) {
        uint8_t v = (uint8_t)(i * 7);
        ok &= pel_buf_append(&b, &v, 1) == 0;
    }
    CHECK(ok);
    CHECK_EQ_INT(b.len, 100000);
    CHECK(b.cap >= b.len);
    int same = 1;
    for (unsigned i = 0; i < 100000; i++)
        same &= b.data[i] == (uint8_t)(i * 7);
    CHECK(same);
    pel_buf_free(&b);
}

static void reserve_then_no_realloc(void)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_buf_reserve(&b, 1000), 0);
    CHECK(b.cap >= 1000);
    uint8_t *data = b.data;
    uint8_t chunk[100] = {0};
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(pel_buf_append(&b, chunk, sizeof chunk), 0);
    CHECK(b.data == data);
    pel_buf_free(&b);
}

static void reset_keeps_memory(void)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_buf_append(&b, "xyz", 3), 0);
    size_t cap = b.cap;
    pel_buf_reset(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(b.cap, cap);
    CHECK(b.data != NULL);
    pel_buf_free(&b);
}

static void overflow_is_enomem_and_unchanged(void)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_buf_append(&b, "q", 1), 0);
    CHECK_EQ_INT(pel_buf_reserve(&b, SIZE_MAX), PEL_ENOMEM);
    CHECK_EQ_INT(b.len, 1);
    CHECK(b.data[0] == 'q');
    pel_buf_free(&b);
}

int main(void)
{
    RUN(append_accumulates);
    RUN(grows_past_many_doublings);
    RUN(reserve_then_no_realloc);
    RUN(reset_keeps_memory);
    RUN(overflow_is_enomem_and_unchanged);
    return TEST_END("test_buf");
}
