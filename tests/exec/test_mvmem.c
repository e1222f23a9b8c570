/*
 * test_mvmem.c - multi-version memory (exec/mvmem.h) on its own: a key's
 * entries written and removed in random order (as re-executions and
 * threads running ahead produce them) are found exactly as a plain model
 * says: every read at j sees the highest writer below j, every bound check
 * of an addition gives the answer of the exact sum, at every list length
 * (the search in mvmem.c gallops back from the end before it bisects).
 * Then one hot counter under threads: additions from several writers at
 * once while readers run bound checks whose answer does not depend on
 * which additions have landed, so a torn snapshot of the lock-free bounds
 * would show as a wrong answer (and as a race under ThreadSanitizer).
 */
#include <pthread.h>
#include <string.h>

#include "core/arena.h"
#include "exec/mvmem.h"
#include "exec/synth.h"
#include "test.h"

enum { N = 300 };

/* the model: per transaction index, whether it wrote and what */
typedef struct model { uint8_t has[N]; uint8_t kind[N]; int64_t acc[N]; uint8_t byte[N]; } model;

static void check_reads(mvmem *m, mv_key *k, const model *x, uint64_t base)
{
    for (uint32_t j = 0; j <= N; j++) {
        int32_t w = -1;                              /* the highest writer below j */
        for (uint32_t i = 0; i < j; i++) if (x->has[i]) w = (int32_t)i;
        const mv_entry *e = mvmem_last_below(k, j);
        CHECK(w < 0 ? e == NULL : e != NULL && e->idx == (uint32_t)w);
        mv_read r;
        mvmem_read(m, k, j, &r);
        if (w < 0) { CHECK_EQ_INT(r.kind, MVR_STORAGE); continue; }
        if (x->kind[w] == MV_VALUE) {
            CHECK_EQ_INT(r.kind, MVR_VERSION);
            CHECK_EQ_INT(r.idx, w);
            CHECK(r.present && r.val.len == 1 && r.val.p[0] == x->byte[w]);
            continue;
        }
        /* additions down to the nearest value (none here): exact sum */
        int64_t sum = (int64_t)base;
        for (int32_t i = 0; i <= w; i++) if (x->has[i]) sum += x->acc[i];
        CHECK_EQ_INT(r.kind, MVR_RESOLVED);
        CHECK_EQ_INT(r.value, sum);
        uint32_t blocking = 0;   /* a bound check at j: fast path or walk, same answer */
        CHECK_EQ_INT(mvmem_delta_outcome(m, k, j, 0, (uint64_t)sum, &blocking), 0);
        CHECK_EQ_INT(mvmem_delta_outcome(m, k, j, 1, (uint64_t)sum, &blocking), PEL_EBOUND);
    }
}

static void run_one(uint64_t seed, int deltas)
{
    pel_rng rng = { seed };
    pel_memstate *ms = NULL;
    CHECK(pel_memstate_new(&ms) == 0);
    pel_state st = pel_memstate_reader(ms);
    pel_arena a;
    pel_arena_init(&a, 0);
    mvmem m;
    CHECK(mvmem_init(&m, &st, 16) == 0);
    pel_key key;
    memset(&key, 7, sizeof key);
    mv_key *k = mvmem_key(&m, &key, &a);
    CHECK(k != NULL);
    static model x;
    memset(&x, 0, sizeof x);
    static uint8_t bytes[N];
    pel_write slots[N];
    uint32_t steps = 3 * N;
    for (uint32_t s = 0; s < steps; s++) {
        /* mostly near the end of what was written (threads running a little
         * ahead), sometimes anywhere (a re-execution far back) */
        uint32_t i = pel_rng_below(&rng, 4) ? (s / 3 + pel_rng_below(&rng, 8)) % N : pel_rng_below(&rng, N);
        if (x.has[i] && pel_rng_below(&rng, 4) == 0) {
            mvmem_remove(&m, k, i);
            x.has[i] = 0;
            continue;
        }
        pel_txent t;
        memset(&t, 0, sizeof t);
        t.key = key;
        if (deltas) {
            t.state = PEL_TXE_DELTA;
            t.acc = 1 + pel_rng_below(&rng, 100);
            x.kind[i] = MV_DELTA;
            x.acc[i] = (int64_t)t.acc;
        } else {
            bytes[i] = (uint8_t)pel_rng_below(&rng, 256);
            t.state = PEL_TXE_KNOWN;
            t.present = 1;
            t.val = (pel_val){ &bytes[i], 1 };
            x.kind[i] = MV_VALUE;
            x.byte[i] = bytes[i];
        }
        CHECK(mvmem_write(&m, k, &a, i, s, &t, 0, &slots[i]) >= 0);
        x.has[i] = 1;
        if (s % 97 == 0) check_reads(&m, k, &x, 0);
    }
    check_reads(&m, k, &x, 0);
    uint32_t count = 0;
    for (uint32_t i = 0; i < N; i++) count += x.has[i];
    CHECK_EQ_INT(k->ne, count);
    for (uint32_t p = 1; p < k->ne; p++) CHECK(k->e[p - 1].idx < k->e[p].idx);
    mvmem_free(&m);
    pel_arena_free(&a);
    pel_memstate_free(ms);
}

static void test_values_out_of_order(void)
{
    for (uint64_t seed = 1; seed <= 6; seed++) run_one(seed, 0);
}

static void test_additions_out_of_order(void)
{
    for (uint64_t seed = 11; seed <= 16; seed++) run_one(seed, 1);
}

enum { HOT_WRITERS = 3, HOT_PER = 2000, HOT_READS = 20000 };

typedef struct hot {
    mvmem *m;
    mv_key *k;
    pel_key key;
    unsigned id;
    uint64_t total;          /* sum of every addition the block will hold */
    pel_write slots[HOT_PER];
    pel_arena arena;         /* a writer's: entry arrays the key may point into */
    int bad;
} hot;

static void *hot_writer(void *arg)
{
    hot *h = arg;
    for (uint32_t n = 0; n < HOT_PER; n++) {
        pel_txent t;
        memset(&t, 0, sizeof t);
        t.key = h->key;
        t.state = PEL_TXE_DELTA;
        t.acc = 1 + (n % 7);
        /* writer w owns the indices w, w + W, w + 2W, ...: interleaved,
         * so they arrive a little out of order, as Block-STM's do */
        if (mvmem_write(h->m, h->k, &h->arena, n * HOT_WRITERS + h->id, 0, &t, 0, &h->slots[n]) < 0) h->bad++;
    }
    return NULL;
}

static void *hot_reader(void *arg)
{
    hot *h = arg;
    pel_rng rng = { 99 + h->id };
    uint32_t blocking;
    for (uint32_t n = 0; n < HOT_READS; n++) {
        uint32_t j = pel_rng_below(&rng, HOT_WRITERS * HOT_PER + 1);
        /* every value any j can see lies in [0, total]: adding 1 stays
         * within total + 1, taking total + 1 away never does */
        if (mvmem_delta_outcome(h->m, h->k, j, 1, h->total + 1, &blocking) != 0) h->bad++;
        if (mvmem_delta_outcome(h->m, h->k, j, -(pel_i128)(h->total + 1), UINT64_MAX, &blocking) != PEL_EBOUND)
            h->bad++;
    }
    return NULL;
}

static void test_hot_counter_threads(void)
{
    pel_memstate *ms = NULL;
    CHECK(pel_memstate_new(&ms) == 0);
    pel_state st = pel_memstate_reader(ms);
    pel_arena a;
    pel_arena_init(&a, 0);
    mvmem m;
    CHECK(mvmem_init(&m, &st, 16) == 0);
    static hot h[HOT_WRITERS + 2];
    pel_key key;
    memset(&key, 9, sizeof key);
    mv_key *k = mvmem_key(&m, &key, &a);
    uint64_t total = 0;
    for (uint32_t n = 0; n < HOT_PER; n++) total += HOT_WRITERS * (1 + n % 7);
    pel_txent first;   /* the counter record exists before the readers start */
    memset(&first, 0, sizeof first);
    first.key = key;
    first.state = PEL_TXE_DELTA;
    first.acc = 0;
    pel_write slot0;
    CHECK(mvmem_write(&m, k, &a, HOT_WRITERS * HOT_PER, 0, &first, 0, &slot0) >= 0);
    pthread_t th[HOT_WRITERS + 2];
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) {
        h[i] = (hot){ .m = &m, .k = k, .key = key, .id = i, .total = total };
        pel_arena_init(&h[i].arena, 0);
        CHECK(pthread_create(&th[i], NULL, i < HOT_WRITERS ? hot_writer : hot_reader, &h[i]) == 0);
    }
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) pthread_join(th[i], NULL);
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) CHECK_EQ_INT(h[i].bad, 0);
    CHECK_EQ_INT(k->ne, HOT_WRITERS * HOT_PER + 1);
    int sorted = 1;
    for (uint32_t p = 1; p < k->ne; p++) sorted &= k->e[p - 1].idx < k->e[p].idx;
    CHECK(sorted);
    mv_read r;
    mvmem_read(&m, k, HOT_WRITERS * HOT_PER + 1, &r);
    CHECK_EQ_INT(r.kind, MVR_RESOLVED);
    CHECK_EQ_INT(r.value, total);
    mvmem_free(&m);
    pel_arena_free(&a);
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) pel_arena_free(&h[i].arena);
    pel_memstate_free(ms);
}

int main(void)
{
    RUN(test_values_out_of_order);
    RUN(test_additions_out_of_order);
    RUN(test_hot_counter_threads);
    return TEST_END("test_mvmem");
}
