/*
 * pool.h - a fixed set of worker threads that run one job at a time.
 *
 * pel_pool_run(p, fn, arg) runs fn(arg, w) on every worker w in [0, size):
 * worker 0 is the calling thread, the others are the pool's threads. It
 * returns when all have returned, and everything they wrote is then visible
 * to the caller (the completion count is released by each worker and
 * acquired by the caller).
 *
 * Thread safety: one pel_pool_run at a time per pool (an engine owns its pool).
 */
#ifndef PEL_POOL_H
#define PEL_POOL_H

#include "core/err.h"

typedef struct pel_pool pel_pool;
typedef void (*pel_pool_fn)(void *arg, unsigned worker);

/* pel_pool_new - start size-1 threads. @return 0, PEL_EINVAL (size 0), PEL_ENOMEM. */
int pel_pool_new(unsigned size, pel_pool **out) PEL_MUST_USE;
/* pel_pool_name - name the pool's threads "NAME-1", "NAME-2", ... as top -H
 * and ps -L show them (NAME at most 10 characters; the name is a hint:
 * failures are ignored). NULL pool is fine. */
void pel_pool_name(pel_pool *p, const char *name);
/* pel_pool_free - stop and join the threads. NULL is fine. */
void pel_pool_free(pel_pool *p);
/* pel_pool_set_spin - after a job, workers wait up to usec for the next
 * one (and pel_pool_run's caller for the workers) by watching a counter
 * before they sleep: for pools that run short jobs back to back. Default 0
 * (sleep at once). NULL is fine. */
void pel_pool_set_spin(pel_pool *p, unsigned usec);
/* pel_pool_wake - a job is coming soon: sleeping workers wake now and
 * watch for it (up to 2 ms, or the spin time if longer) before they sleep
 * again, so the futex wake-up overlaps the caller's own preparation instead
 * of delaying the job. Only for pools that spin (pel_pool_set_spin; else it
 * does nothing). Cheap when no worker sleeps. */
void pel_pool_wake(pel_pool *p);
unsigned pel_pool_size(const pel_pool *p);
void pel_pool_run(pel_pool *p, pel_pool_fn fn, void *arg);

#endif
