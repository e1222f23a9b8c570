/*
 * spin.h - a tiny lock for very short critical sections (a few dozen
 * instructions: one transaction's status, one key's version list).
 *
 * Acquire on lock and release on unlock give the usual mutex ordering.
 * After a short spin it yields, because tests run more threads than cores
 * and a preempted holder must get the CPU back.
 */
#ifndef PEL_SPIN_H
#define PEL_SPIN_H

#include <sched.h>
#include <stdatomic.h>

typedef struct pel_spin { _Atomic unsigned char held; } pel_spin;

#define PEL_SPIN_INIT { 0 }

static inline void pel_spin_init(pel_spin *s)
{
    atomic_init(&s->held, 0);
}

/* Test and test-and-set: a waiter spins on a plain load, which keeps the
 * line shared in its cache, and tries the exchange only when the lock
 * looks free; spinning on the exchange itself would pull the line away
 * from the holder on every try. */
static inline void pel_spin_lock(pel_spin *s)
{
    unsigned spins = 0;
    while (atomic_exchange_explicit(&s->held, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&s->held, memory_order_relaxed)) {
            if (++spins >= 1024) { spins = 0; sched_yield(); }
#if defined(__x86_64__) || defined(__i386__)
            else __builtin_ia32_pause();
#endif
        }
    }
}

static inline void pel_spin_unlock(pel_spin *s)
{
    atomic_store_explicit(&s->held, 0, memory_order_release);
}

#endif
