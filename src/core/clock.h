/*
 * clock.h - the monotonic clock, and deadlines for condition variables
 * that wait on it (pthread_condattr_setclock(CLOCK_MONOTONIC)).
 *
 * Thread safety: no state.
 */
#ifndef PEL_CLOCK_H
#define PEL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* pel_mono_us / pel_mono_ms - CLOCK_MONOTONIC in micro / milliseconds. */
uint64_t pel_mono_us(void);
uint64_t pel_mono_ms(void);

/* pel_mono_s - CLOCK_MONOTONIC in seconds (benchmarks, progress). */
double pel_mono_s(void);

/* pel_deadline_us - CLOCK_MONOTONIC now + us, as a timespec for
 * pthread_cond_timedwait on a monotonic condition variable. */
struct timespec pel_deadline_us(uint64_t us);

#endif
