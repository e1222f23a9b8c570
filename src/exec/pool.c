/*
 * pool.c - worker pool (see pool.h).
 *
 * A job is published by bumping `generation` under the mutex and
 * broadcasting; each worker runs it once per generation and decrements
 * `pending`; the last one signals the caller. Mutex-protected throughout, so
 * ThreadSanitizer sees every hand-off as synchronised.
 */
#include "exec/pool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct pel_pool {
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    unsigned size, pending;
    unsigned long generation;
    int stop;
    pel_pool_fn fn;
    void *arg;
    pthread_t *threads;
    unsigned started;
};

typedef struct worker_arg { pel_pool *p; unsigned id; } worker_arg;

static void *worker_main(void *a)
{
    pel_pool *p = ((worker_arg *)a)->p;
    unsigned id = ((worker_arg *)a)->id;
    free(a);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->start, &p->mu);
        if (p->stop) break;
        seen = p->generation;
        pel_pool_fn fn = p->fn;
        void *arg = p->arg;
        pthread_mutex_unlock(&p->mu);
        fn(arg, id);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
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
    p->stop = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 1; i <= p->started; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
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
    p->pending = p->size - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
