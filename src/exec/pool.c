/*
 * pool.c - worker pool (see pool.h).
 *
 * A job is published by bumping `generation` under the mutex and
 * broadcasting; each worker runs it once per generation and decrements
 * `pending`; the last one signals the caller.
 *
 * Spinning (pel_pool_set_spin): a worker that finished a job watches
 * `generation` for a while before it sleeps on the condition variable, and
 * the caller watches `pending` before it sleeps, so the short jobs an engine
 * runs back to back (execution, then materialisation, then the sort) start
 * without a futex wake-up each (tens of microseconds on a VM). Both are
 * atomics read with acquire and written with release (or under the mutex,
 * which also orders them), so a job's fn and arg, and what the workers
 * wrote, are visible to whoever sees the counter move; ThreadSanitizer sees
 * the same edges. pel_pool_wake moves `wakes` (under the mutex): a sleeping
 * worker that sees it move goes back to spinning for the next generation.
 */
#include "exec/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct pel_pool {
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    unsigned size;
    _Atomic unsigned pending;
    _Atomic unsigned long generation;   /* written under mu */
    _Atomic unsigned spin_ns;           /* relaxed: only a time limit */
    _Atomic int stop;                   /* set with generation moved, under mu */
    _Atomic unsigned long wakes;        /* written under mu */
    _Atomic unsigned sleeping;          /* workers in cond_wait (under mu) */
    pel_pool_fn fn;
    void *arg;
    pthread_t *threads;
    unsigned started;
};

typedef struct worker_arg { pel_pool *p; unsigned id; } worker_arg;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* generation_moved / nothing_pending - what the two spins wait for. */
static int generation_moved(pel_pool *p, unsigned long seen)
{
    return atomic_load_explicit(&p->generation, memory_order_acquire) != seen;
}

static int nothing_pending(pel_pool *p, unsigned long unused)
{
    (void)unused;
    return atomic_load_explicit(&p->pending, memory_order_acquire) == 0;
}

/* A worker woken by pel_pool_wake watches for the job this long (or the
 * pool's spin time if that is longer): the caller's preparation between the
 * wake and the job (a block's setup, 0.2-0.4 ms) outlasts a 200 us spin,
 * and a worker that went back to sleep just before the job came needed a
 * second futex wake-up, which took up to 1.4 ms on the 2-core VM. */
enum { WAKE_SPIN_NS = 2000000 };

/* spin_for - watch cond for up to ns; 1 if it became true. */
static int spin_for(pel_pool *p, int (*cond)(pel_pool *, unsigned long), unsigned long arg, unsigned ns)
{
    if (!ns) return 0;
    uint64_t end = now_ns() + ns;
    for (unsigned i = 1;; i++) {
        if (cond(p, arg)) return 1;
        if (i % 64 == 0) {
            if (now_ns() >= end) return 0;
            sched_yield();   /* more threads than cores: let the others run */
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

/* spin - watch cond for up to the pool's spin time. */
static int spin(pel_pool *p, int (*cond)(pel_pool *, unsigned long), unsigned long arg)
{
    return spin_for(p, cond, arg, atomic_load_explicit(&p->spin_ns, memory_order_relaxed));
}

static void *worker_main(void *a)
{
    pel_pool *p = ((worker_arg *)a)->p;
    unsigned id = ((worker_arg *)a)->id;
    free(a);
    unsigned long seen = 0;
    for (;;) {
        if (!spin(p, generation_moved, seen)) {
            pthread_mutex_lock(&p->mu);
            unsigned long wakes = atomic_load_explicit(&p->wakes, memory_order_relaxed);
            atomic_fetch_add_explicit(&p->sleeping, 1, memory_order_relaxed);
            while (!atomic_load_explicit(&p->stop, memory_order_relaxed)
                   && atomic_load_explicit(&p->generation, memory_order_relaxed) == seen
                   && atomic_load_explicit(&p->wakes, memory_order_relaxed) == wakes)
                pthread_cond_wait(&p->start, &p->mu);
            atomic_fetch_sub_explicit(&p->sleeping, 1, memory_order_relaxed);
            int woken = atomic_load_explicit(&p->generation, memory_order_relaxed) == seen
                        && !atomic_load_explicit(&p->stop, memory_order_relaxed);
            pthread_mutex_unlock(&p->mu);
            if (woken) {   /* pel_pool_wake: watch for the job, then sleep again */
                unsigned ns = atomic_load_explicit(&p->spin_ns, memory_order_relaxed);
                if (!spin_for(p, generation_moved, seen, ns > WAKE_SPIN_NS ? ns : WAKE_SPIN_NS)) continue;
            }
        }
        if (atomic_load_explicit(&p->stop, memory_order_relaxed)) break;
        /* acquire (above, or the mutex): fn and arg were written before */
        seen = atomic_load_explicit(&p->generation, memory_order_relaxed);
        p->fn(p->arg, id);
        /* release: the caller that sees pending reach 0 sees what fn wrote */
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

void pel_pool_set_spin(pel_pool *p, unsigned usec)
{
    if (p) atomic_store_explicit(&p->spin_ns, usec * 1000u, memory_order_relaxed);
}

void pel_pool_name(pel_pool *p, const char *name)
{
    for (unsigned i = 1; p && i <= p->started; i++) {
        char n[16];
        snprintf(n, sizeof n, "%.10s-%u", name, i);
        (void)pthread_setname_np(p->threads[i], n);
    }
}

int pel_pool_new(unsigned size, pel_pool **out)
{
    *out = NULL;
    if (size == 0) return PEL_EINVAL;
    pel_pool *p = calloc(1, sizeof(*p));
    if (!p) return PEL_ENOMEM;
    p->size = size;
    p->threads = calloc(size, sizeof(pthread_t));
    if (!p->threads) { free(p); return PEL_ENOMEM; }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    for (unsigned i = 1; i < size; i++) {
        worker_arg *a = malloc(sizeof(*a));
        if (!a) goto fail;
        a->p = p;
        a->id = i;
        if (pthread_create(&p->threads[i], NULL, worker_main, a) != 0) { free(a); goto fail; }
        p->started++;
    }
    *out = p;
    return 0;
fail:
    pel_pool_free(p);
    return PEL_ENOMEM;
}

void pel_pool_free(pel_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->stop, 1, memory_order_relaxed);
    /* release, after stop: a spinning worker that sees it move sees stop */
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 1; i <= p->started; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

void pel_pool_wake(pel_pool *p)
{
    /* relaxed: a stale zero only skips a hint */
    if (p->size == 1 || !atomic_load_explicit(&p->spin_ns, memory_order_relaxed)
        || !atomic_load_explicit(&p->sleeping, memory_order_relaxed))
        return;
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->wakes, 1, memory_order_relaxed);
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
}

unsigned pel_pool_size(const pel_pool *p)
{
    return p->size;
}

void pel_pool_run(pel_pool *p, pel_pool_fn fn, void *arg)
{
    if (p->size == 1) { fn(arg, 0); return; }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->size - 1, memory_order_relaxed);
    /* release: a spinning worker that sees the new generation sees fn, arg
     * and pending */
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0);
    if (spin(p, nothing_pending, 0)) return;
    pthread_mutex_lock(&p->mu);
    while (atomic_load_explicit(&p->pending, memory_order_acquire)) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
