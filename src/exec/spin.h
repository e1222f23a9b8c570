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

typedef struct pel_spin { atomic_flag f; } pel_spin;

#define PEL_SPIN_INIT { ATOMIC_FLAG_INIT }

static inline void pel_spin_init(pel_spin *s)
{
    atomic_flag_clear_explicit(&s->f, memory_order_relaxed);
}

static inline void pel_spin_lock(pel_spin *s)
{
    unsigned spins = 0;
    while (atomic_flag_test_and_set_explicit(&s->f, memory_order_acquire)) {
        if (++spins >= 1024) { spins = 0; sched_yield(); }
#if defined(__x86_64__) || defined(__i386__)
        else __builtin_ia32_pause();
#endif
    }
}

static inline void pel_spin_unlock(pel_spin *s)
{
    atomic_flag_clear_explicit(&s->f, memory_order_release);
}

#endif
