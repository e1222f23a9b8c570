/*
 * test_clock.c - the monotonic clock helpers (core/clock.h): readings do
 * not go back, the units agree, and a deadline is a normalised timespec
 * the given time ahead.
 */
#include <pthread.h>

#include "core/clock.h"
#include "test.h"

static void test_readings(void)
{
    uint64_t us0 = pel_mono_us(), ms0 = pel_mono_ms();
    double s0 = pel_mono_s();
    struct timespec nap = { 0, 20 * 1000000 };
    nanosleep(&nap, NULL);
    uint64_t us1 = pel_mono_us(), ms1 = pel_mono_ms();
    double s1 = pel_mono_s();
    CHECK(us1 >= us0 + 20000);                       /* slept at least 20 ms */
    CHECK(ms1 >= ms0 + 20);
    CHECK(s1 - s0 >= 0.020);
    CHECK(ms1 <= us1 / 1000 + 1 && ms1 + 1000 >= us1 / 1000);   /* same clock, other unit */
}

static void test_deadlines(void)
{
    static const uint64_t ahead[] = { 0, 1, 999, 1000, 999999, 1000000, 1500000, 86400000000ull };
    for (size_t i = 0; i < sizeof ahead / sizeof ahead[0]; i++) {
        uint64_t before = pel_mono_us();
        struct timespec d = pel_deadline_us(ahead[i]);
        uint64_t after = pel_mono_us();
        CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
        uint64_t at = (uint64_t)d.tv_sec * 1000000 + (uint64_t)d.tv_nsec / 1000;
        CHECK(at >= before + ahead[i] && at <= after + ahead[i]);
    }
    /* a condition variable on the monotonic clock times out at it */
    pthread_condattr_t ca;
    pthread_cond_t cv;
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    uint64_t t0 = pel_mono_us();
    struct timespec d = pel_deadline_us(30000);
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (rc == 0) rc = pthread_cond_timedwait(&cv, &mu, &d);
    pthread_mutex_unlock(&mu);
    CHECK(pel_mono_us() - t0 >= 30000);
    pthread_cond_destroy(&cv);
    pthread_condattr_destroy(&ca);
}

int main(void)
{
    RUN(test_readings);
    RUN(test_deadlines);
    return TEST_END("test_clock");
}
