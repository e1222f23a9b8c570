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

/* one key's multi-version memory over an empty pre-block state; the
 * fixture must stay where it is (m points at st) */
typedef struct fixture {
    pel_memstate *ms;
    pel_state st;
    pel_arena a;
    mvmem m;
    pel_key key;
    mv_key *k;
} fixture;

static void fixture_open(fixture *f, uint8_t key_byte)
{
    f->ms = NULL;
    CHECK(pel_memstate_new(&f->ms) == 0);
    f->st = pel_memstate_reader(f->ms);
    pel_arena_init(&f->a, 0);
    CHECK(mvmem_init(&f->m, &f->st, 16) == 0);
    memset(&f->key, key_byte, sizeof f->key);
    f->k = mvmem_key(&f->m, &f->key, &f->a);
    CHECK(f->k != NULL);
}

static void fixture_close(fixture *f)
{
    mvmem_free(&f->m);
    pel_arena_free(&f->a);
    pel_memstate_free(f->ms);
}

/* an addition of acc to key, as a transaction's write set holds it */
static pel_txent addition(const pel_key *key, pel_i128 acc)
{
    pel_txent t;
    memset(&t, 0, sizeof t);
    t.key = *key;
    t.state = PEL_TXE_DELTA;
    t.acc = acc;
    return t;
}

static int sorted_by_idx(const mv_key *k)
{
    for (uint32_t p = 1; p < k->ne; p++)
        if (k->e[p - 1].idx >= k->e[p].idx) return 0;
    return 1;
}

static void run_one(uint64_t seed, int deltas)
{
    pel_rng rng = { seed };
    static fixture f;
    fixture_open(&f, 7);
    mvmem *m = &f.m;
    mv_key *k = f.k;
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
            mvmem_remove(m, k, i);
            x.has[i] = 0;
            continue;
        }
        pel_txent t;
        if (deltas) {
            t = addition(&f.key, 1 + pel_rng_below(&rng, 100));
            x.kind[i] = MV_DELTA;
            x.acc[i] = (int64_t)t.acc;
        } else {
            memset(&t, 0, sizeof t);
            t.key = f.key;
            bytes[i] = (uint8_t)pel_rng_below(&rng, 256);
            t.state = PEL_TXE_KNOWN;
            t.present = 1;
            t.val = (pel_val){ &bytes[i], 1 };
            x.kind[i] = MV_VALUE;
            x.byte[i] = bytes[i];
        }
        CHECK(mvmem_write(m, k, &f.a, i, s, &t, 0, &slots[i]) >= 0);
        x.has[i] = 1;
        if (s % 97 == 0) check_reads(m, k, &x, 0);
    }
    check_reads(m, k, &x, 0);
    uint32_t count = 0;
    for (uint32_t i = 0; i < N; i++) count += x.has[i];
    CHECK_EQ_INT(k->ne, count);
    CHECK(sorted_by_idx(k));
    fixture_close(&f);
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
        pel_txent t = addition(&h->key, 1 + (n % 7));
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
    static fixture f;
    fixture_open(&f, 9);
    mv_key *k = f.k;
    static hot h[HOT_WRITERS + 2];
    uint64_t total = 0;
    for (uint32_t n = 0; n < HOT_PER; n++) total += HOT_WRITERS * (1 + n % 7);
    pel_txent first = addition(&f.key, 0);   /* the counter record exists before the readers start */
    pel_write slot0;
    CHECK(mvmem_write(&f.m, k, &f.a, HOT_WRITERS * HOT_PER, 0, &first, 0, &slot0) >= 0);
    pthread_t th[HOT_WRITERS + 2];
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) {
        h[i] = (hot){ .m = &f.m, .k = k, .key = f.key, .id = i, .total = total };
        pel_arena_init(&h[i].arena, 0);
        CHECK(pthread_create(&th[i], NULL, i < HOT_WRITERS ? hot_writer : hot_reader, &h[i]) == 0);
    }
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) pthread_join(th[i], NULL);
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) CHECK_EQ_INT(h[i].bad, 0);
    CHECK_EQ_INT(k->ne, HOT_WRITERS * HOT_PER + 1);
    CHECK(sorted_by_idx(k));
    mv_read r;
    mvmem_read(&f.m, k, HOT_WRITERS * HOT_PER + 1, &r);
    CHECK_EQ_INT(r.kind, MVR_RESOLVED);
    CHECK_EQ_INT(r.value, total);
    fixture_close(&f);
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) pel_arena_free(&h[i].arena);
}

int main(void)
{
    RUN(test_values_out_of_order);
    RUN(test_additions_out_of_order);
    RUN(test_hot_counter_threads);
    return TEST_END("test_mvmem");
}
