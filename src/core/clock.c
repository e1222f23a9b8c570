/*
 * clock.c - the monotonic clock (clock.h).
 */
#include "core/clock.h"

static struct timespec mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

uint64_t pel_mono_us(void)
{
    struct timespec ts = mono();
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t pel_mono_ms(void) { return pel_mono_us() / 1000; }

double pel_mono_s(void)
{
    struct timespec ts = mono();
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct timespec pel_deadline_us(uint64_t us)
{
    struct timespec ts = mono();
    ts.tv_sec += (time_t)(us / 1000000);
    ts.tv_nsec += (long)(us % 1000000) * 1000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    return ts;
}
