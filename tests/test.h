/*
 * test.h - the tiny test harness used by every test binary.
 *
 * A test file defines static functions and calls RUN(fn) for each from
 * main(), then returns TEST_END(). CHECK* macros count one assertion each;
 * a failing check prints file:line and the expression, and the test goes on.
 * The last line a binary prints is "NAME: N passed, N failed"; the runner
 * (scripts/run-tests.sh) sums those lines into the final closing line.
 */
#ifndef PEL_TEST_H
#define PEL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed_, test_failed_;
static const char *test_current_ = "?";

#define CHECK(expr) do { \
    if (expr) test_passed_++; \
    else { test_failed_++; \
        fprintf(stderr, "FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, \
                test_current_, #expr); } \
} while (0)

#define CHECK_EQ_INT(a, b) do { \
    long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ == b_) test_passed_++; \
    else { test_failed_++; \
        fprintf(stderr, "FAIL %s:%d [%s]: %s == %s (%lld vs %lld)\n", \
                __FILE__, __LINE__, test_current_, #a, #b, a_, b_); } \
} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

#define RUN(fn) do { test_current_ = #fn; fn(); } while (0)

#define TEST_END(name) \
    (printf("%s: %d passed, %d failed\n", (name), test_passed_, test_failed_), \
     test_failed_ ? 1 : 0)

/* test_env_u64 - read an unsigned integer from the environment or default.
 * Used for seeds and iteration budgets (PEL_TEST_SEED, PEL_TEST_ITERS). */
static inline uint64_t test_env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    if (!s || !*s) return dflt;
    return strtoull(s, NULL, 0);
}

#endif
