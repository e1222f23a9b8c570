/*
 * test_engine_busy.c - an engine runs one block at a time: a second
 * pel_engine_execute on an engine whose block is still running is refused
 * with PEL_EBUSY (it used to corrupt the engine: the node's proposer and
 * applier once did this), and the first block's result is unharmed.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "exec/engine.h"
#include "exec/state.h"
#include "exec/view.h"
#include "test.h"

static atomic_int entered, released;

/* Writes one key, then (first transaction only) holds its block until released. */
static int slow_exec(void *ctx, const void *tx, pel_view *v)
{
    (void)ctx;
    uint32_t i = (uint32_t)(uintptr_t)tx;
    pel_key k;
    memset(&k, 0, sizeof k);
    memcpy(k.b, &i, sizeof i);
    int rc = pel_view_put(v, &k, &i, sizeof i);
    if (i == 0) {
        atomic_store(&entered, 1);
        while (!atomic_load(&released)) sched_yield();
    }
    return rc;
}

typedef struct run { pel_engine *e; pel_state base; pel_txdesc *txs; uint32_t n; pel_block_result r; int rc; } run;

static void *run_block(void *p)
{
    run *x = p;
    pel_executor ex = { slow_exec, NULL };
    x->rc = pel_engine_execute(x->e, &x->base, x->txs, x->n, &ex, &x->r);
    return NULL;
}

static void busy_engine_refuses(pel_engine_kind kind, unsigned threads)
{
    pel_engine *e = NULL;
    pel_memstate *ms = NULL;
    pel_engine_opts o = pel_engine_defaults(kind, threads);
    CHECK_EQ_INT(pel_engine_new(&o, &e), 0);
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    if (!e || !ms) return;
    pel_txdesc txs[8];
    for (uint32_t i = 0; i < 8; i++) txs[i] = (pel_txdesc){ (const void *)(uintptr_t)i, NULL };
    atomic_store(&entered, 0);
    atomic_store(&released, 0);
    run a = { e, pel_memstate_reader(ms), txs, 8, { 0 }, -1 }, b = a;
    pthread_t t;
    CHECK_EQ_INT(pthread_create(&t, NULL, run_block, &a), 0);
    while (!atomic_load(&entered)) sched_yield();
    run_block(&b);                                  /* while a's block runs */
    CHECK_EQ_INT(b.rc, PEL_EBUSY);
    atomic_store(&released, 1);
    pthread_join(t, NULL);
    CHECK_EQ_INT(a.rc, 0);
    CHECK_EQ_INT(a.r.block_writes.n, 8);            /* the first block is whole */
    if (a.rc == 0) pel_block_result_free(&a.r);
    b.rc = -1;
    atomic_store(&released, 1);
    run_block(&b);                                  /* and the engine is free again */
    CHECK_EQ_INT(b.rc, 0);
    if (b.rc == 0) pel_block_result_free(&b.r);
    pel_memstate_free(ms);
    pel_engine_free(e);
}

static void test_sequential_busy(void) { busy_engine_refuses(PEL_ENGINE_SEQUENTIAL, 1); }
static void test_blockstm_busy(void) { busy_engine_refuses(PEL_ENGINE_BLOCKSTM, 2); }
static void test_declared_busy(void) { busy_engine_refuses(PEL_ENGINE_DECLARED, 2); }

int main(void)
{
    RUN(test_sequential_busy);
    RUN(test_blockstm_busy);
    RUN(test_declared_busy);
    return TEST_END("test_engine_busy");
}
