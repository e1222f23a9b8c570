/*
 * test_mvmem.c - multi-version memory (exec/mvmem.h) on its own: a key's
 * entries written, moved between the list and the workers' shards, and
 * removed in random order (as re-executions on other workers and threads
 * running ahead produce them) are found exactly as a plain model says:
 * every read at j sees the highest writer below j, additions fold down to
 * the nearest value, every bound check gives the answer of the exact sum
 * (whether the lock-free bounds decide it or the walk does), at every list
 * length (the search in mvmem.c gallops back from the end before it
 * bisects), and the merged walk materialisation uses sees every entry once
 * in block order. Then one hot counter under threads: additions from
 * several writers at once, each into its own shard, while readers run
 * bound checks whose answer does not depend on which additions have
 * landed, so a torn snapshot of the lock-free bounds would show as a wrong
 * answer (and as a race under ThreadSanitizer); afterwards every read is
 * exact.
 */
#include <pthread.h>
#include <string.h>

#include "core/arena.h"
#include "core/codec.h"
#include "exec/mvmem.h"
#include "exec/synth.h"
#include "test.h"

enum { N = 300, SHARDS = 4 };

/* the model: per transaction index, whether it wrote, what, and where */
typedef struct model {
    uint8_t has[N], kind[N];
    int64_t acc[N];
    uint64_t value[N];
    int loc[N];
} model;

/* check_outcomes - bound checks at j against the exact value x */
static void check_outcomes(mvmem *m, mv_key *k, uint32_t j, uint64_t x)
{
    uint32_t blocking = 0;
    CHECK_EQ_INT(mvmem_delta_outcome(m, k, j, 0, x, &blocking), 0);
    CHECK_EQ_INT(mvmem_delta_outcome(m, k, j, 1, x, &blocking), PEL_EBOUND);
    if (x > 0) CHECK_EQ_INT(mvmem_delta_outcome(m, k, j, -(pel_i128)x, UINT64_MAX, &blocking), 0);
    CHECK_EQ_INT(mvmem_delta_outcome(m, k, j, -(pel_i128)x - 1, UINT64_MAX, &blocking), PEL_EBOUND);
}

typedef struct walk { uint32_t n; int64_t last; int ok; const model *x; } walk;

static int walk_entry(void *ctx, const mv_entry *e, int loc)
{
    walk *w = ctx;
    if ((int64_t)e->idx <= w->last || e->idx >= N || !w->x->has[e->idx] || e->kind != w->x->kind[e->idx] ||
        loc != w->x->loc[e->idx])
        w->ok = 0;
    w->last = e->idx;
    w->n++;
    return 0;
}

static void check_reads(mvmem *m, mv_key *k, const model *x)
{
    for (uint32_t j = 0; j <= N; j++) {
        int32_t w = -1;                              /* the highest writer below j */
        for (uint32_t i = 0; i < j; i++) if (x->has[i]) w = (int32_t)i;
        const mv_entry *e = mvmem_last_below(k, j);
        CHECK(w < 0 ? e == NULL : e != NULL && e->idx == (uint32_t)w);
        mv_read r;
        mvmem_read(m, k, j, &r);
        if (w < 0) {
            CHECK_EQ_INT(r.kind, MVR_STORAGE);
            CHECK(!r.present);
            check_outcomes(m, k, j, 0);
            continue;
        }
        if (x->kind[w] == MV_VALUE) {
            CHECK_EQ_INT(r.kind, MVR_VERSION);
            CHECK_EQ_INT(r.idx, w);
            CHECK(r.present && r.val.len == 8 && pel_le_load(r.val.p, 8) == x->value[w]);
            check_outcomes(m, k, j, x->value[w]);
            continue;
        }
        /* additions down to the nearest value, or to the empty base */
        int64_t sum = 0;
        int32_t i = w;
        for (; i >= 0 && !(x->has[i] && x->kind[i] == MV_VALUE); i--) if (x->has[i]) sum += x->acc[i];
        if (i >= 0) sum += (int64_t)x->value[i];
        if (sum < 0) { CHECK_EQ_INT(r.kind, MVR_BAD); continue; }
        CHECK_EQ_INT(r.kind, MVR_RESOLVED);
        CHECK_EQ_INT(r.value, sum);
        check_outcomes(m, k, j, (uint64_t)sum);
    }
    walk wk = { 0, -1, 1, x };
    CHECK_EQ_INT(mvmem_each_below(k, N, walk_entry, &wk), 0);
    uint32_t count = 0;
    for (uint32_t i = 0; i < N; i++) count += x->has[i];
    CHECK(wk.ok);
    CHECK_EQ_INT(wk.n, count);
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

static void fixture_open(fixture *f, uint8_t key_byte, unsigned shards)
{
    f->ms = NULL;
    CHECK(pel_memstate_new(&f->ms) == 0);
    f->st = pel_memstate_reader(f->ms);
    pel_arena_init(&f->a, 0);
    CHECK(mvmem_init(&f->m, &f->st, 16, shards) == 0);
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

enum { ONLY_VALUES, ONLY_ADDITIONS, MIXED };

static void run_one(uint64_t seed, int mode)
{
    pel_rng rng = { seed };
    static fixture f;
    fixture_open(&f, 7, SHARDS);
    mvmem *m = &f.m;
    mv_key *k = f.k;
    static model x;
    memset(&x, 0, sizeof x);
    static uint8_t bytes[N][8];
    pel_write slots[N];
    uint32_t steps = 3 * N;
    int firsts = 0;
    for (uint32_t s = 0; s < steps; s++) {
        /* mostly near the end of what was written (threads running a little
         * ahead), sometimes anywhere (a re-execution far back) */
        uint32_t i = pel_rng_below(&rng, 4) ? (s / 3 + pel_rng_below(&rng, 8)) % N : pel_rng_below(&rng, N);
        if (x.has[i] && pel_rng_below(&rng, 4) == 0) {
            mvmem_remove(m, k, i, x.loc[i]);
            x.has[i] = 0;
            continue;
        }
        if (x.has[i] && pel_rng_below(&rng, 8) == 0) {
            /* an abort: the entry stays, marked; additions keep counting */
            mvmem_mark_estimate(k, i, x.loc[i]);
            mv_read r;
            mvmem_read(m, k, i + 1, &r);
            if (x.kind[i] == MV_VALUE) {   /* a value marked ESTIMATE makes readers above wait */
                CHECK_EQ_INT(r.kind, MVR_DEPEND);
                CHECK_EQ_INT(r.idx, i);
            } else {                       /* an addition is read with its old amount */
                CHECK(r.kind == MVR_RESOLVED || r.kind == MVR_BAD);
            }
        }   /* the write below replaces the marked entry (or drops it, moving) */
        pel_txent t;
        int value = mode == ONLY_VALUES || (mode == MIXED && pel_rng_below(&rng, 4) == 0);
        unsigned w = (unsigned)pel_rng_below(&rng, SHARDS);
        if (!value) {
            t = addition(&f.key, (pel_i128)pel_rng_below(&rng, 120) - (mode == MIXED ? 20 : -1));
            x.kind[i] = MV_DELTA;
            x.acc[i] = (int64_t)t.acc;
        } else {
            memset(&t, 0, sizeof t);
            t.key = f.key;
            x.value[i] = pel_rng_below(&rng, 1000);
            pel_le_store(bytes[i], x.value[i], 8);
            t.state = PEL_TXE_KNOWN;
            t.present = 1;
            t.val = (pel_val){ bytes[i], 8 };
            x.kind[i] = MV_VALUE;
        }
        int prev = x.has[i] ? x.loc[i] : MVL_NONE, loc = mvmem_loc(&t, w);
        int flags = mvmem_write(m, k, &f.a, i, s, &t, 0, &slots[i], w, prev);
        CHECK(flags >= 0);
        CHECK_EQ_INT((flags & MVW_MOVED) != 0, prev != MVL_NONE && prev != loc);
        firsts += (flags & MVW_FIRST) != 0;
        x.has[i] = 1;
        x.loc[i] = loc;
        if (s % 97 == 0) check_reads(m, k, &x);
    }
    CHECK_EQ_INT(firsts, 1);
    /* rewriting every entry where it is, with the same content, is neither
     * a move nor a first write, and changes no read */
    for (uint32_t i = 0; i < N; i++) {
        if (!x.has[i]) continue;
        pel_txent t = x.kind[i] == MV_DELTA ? addition(&f.key, x.acc[i]) : (pel_txent){ 0 };
        if (x.kind[i] != MV_DELTA) {
            t.key = f.key;
            t.state = PEL_TXE_KNOWN;
            t.present = 1;
            t.val = (pel_val){ bytes[i], 8 };
        }
        unsigned w = x.loc[i] > 0 ? (unsigned)(x.loc[i] - 1) : 0;
        CHECK(mvmem_write(m, k, &f.a, i, 0, &t, 0, &slots[i], w, x.loc[i]) == 0);
    }
    check_reads(m, k, &x);
    fixture_close(&f);
}

static void test_values_out_of_order(void)
{
    for (uint64_t seed = 1; seed <= 6; seed++) run_one(seed, ONLY_VALUES);
}

static void test_additions_out_of_order(void)
{
    for (uint64_t seed = 11; seed <= 16; seed++) run_one(seed, ONLY_ADDITIONS);
}

static void test_mixed_moving_between_shards(void)
{
    for (uint64_t seed = 21; seed <= 30; seed++) run_one(seed, MIXED);
}

enum { HOT_WRITERS = 3, HOT_PER = 2000, HOT_READS = 20000 };

typedef struct hot {
    mvmem *m;
    mv_key *k;
    pel_key key;
    unsigned id;
    uint64_t total;          /* sum of every addition the block will hold */
    pel_write slots[HOT_PER];
    pel_arena arena;         /* a writer's: its shard's arrays live here */
    int bad;
} hot;

static void *hot_writer(void *arg)
{
    hot *h = arg;
    for (uint32_t n = 0; n < HOT_PER; n++) {
        pel_txent t = addition(&h->key, 1 + (n % 7));
        /* writer w owns the indices w, w + W, w + 2W, ...: interleaved,
         * so they arrive a little out of order, as Block-STM's do; each
         * writer is a worker with a shard of its own */
        if (mvmem_write(h->m, h->k, &h->arena, n * HOT_WRITERS + h->id, 0, &t, 0, &h->slots[n], h->id,
                        MVL_NONE) < 0)
            h->bad++;
    }
    return NULL;
}

static void *hot_reader(void *arg)
{
    hot *h = arg;
    pel_rng rng = { 99 + h->id };
    uint32_t blocking;
    /* every value any j can see lies in [0, total], and the reservations
     * that bound it without a walk stay within 4 * total (mvmem.c: a share
     * at most doubles, plus what it needs): adding 1 stays within
     * 4 * total + 1, taking 4 * total + 1 away never does */
    uint64_t wide = 4 * h->total + 1;
    for (uint32_t n = 0; n < HOT_READS; n++) {
        uint32_t j = pel_rng_below(&rng, HOT_WRITERS * HOT_PER + 1);
        if (mvmem_delta_outcome(h->m, h->k, j, 1, wide, &blocking) != 0) h->bad++;
        if (mvmem_delta_outcome(h->m, h->k, j, -(pel_i128)wide, UINT64_MAX, &blocking) != PEL_EBOUND) h->bad++;
        if (n % 64 == 0) {   /* now and then an exact read, through every shard */
            mv_read r;
            mvmem_read(h->m, h->k, j, &r);
            if (r.kind != MVR_RESOLVED && r.kind != MVR_STORAGE) h->bad++;
            if (r.kind == MVR_RESOLVED && r.value > h->total) h->bad++;
        }
    }
    return NULL;
}

static int count_entry(void *ctx, const mv_entry *e, int loc)
{
    (void)loc;
    uint64_t *sum = ctx;
    *sum += (uint64_t)e->acc;
    return 0;
}

static void test_hot_counter_threads(void)
{
    static fixture f;
    fixture_open(&f, 9, HOT_WRITERS);
    mv_key *k = f.k;
    static hot h[HOT_WRITERS + 2];
    uint64_t total = 0;
    for (uint32_t n = 0; n < HOT_PER; n++) total += HOT_WRITERS * (1 + n % 7);
    /* the counter record exists before the readers start; worker 0 made
     * it, the first writer carries on with that shard */
    pel_txent first = addition(&f.key, 0);
    pel_write slot0;
    CHECK(mvmem_write(&f.m, k, &f.a, HOT_WRITERS * HOT_PER, 0, &first, 0, &slot0, 0, MVL_NONE) == MVW_FIRST);
    pthread_t th[HOT_WRITERS + 2];
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) {
        h[i] = (hot){ .m = &f.m, .k = k, .key = f.key, .id = i, .total = total };
        pel_arena_init(&h[i].arena, 0);
        CHECK(pthread_create(&th[i], NULL, i < HOT_WRITERS ? hot_writer : hot_reader, &h[i]) == 0);
    }
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) pthread_join(th[i], NULL);
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) CHECK_EQ_INT(h[i].bad, 0);
    /* afterwards: every prefix exact, and the merged walk sees all */
    uint64_t sum = 0;
    for (uint32_t j = 0; j <= HOT_WRITERS * HOT_PER; j++) {
        mv_read r;
        mvmem_read(&f.m, k, j, &r);
        if (j == 0) { CHECK_EQ_INT(r.kind, MVR_STORAGE); continue; }
        sum += 1 + ((j - 1) / HOT_WRITERS) % 7;
        if (r.kind != MVR_RESOLVED || r.value != sum) { CHECK_EQ_INT(r.value, sum); break; }
    }
    CHECK_EQ_INT(sum, total);
    uint64_t walked = 0;
    CHECK_EQ_INT(mvmem_each_below(k, HOT_WRITERS * HOT_PER + 1, count_entry, &walked), 0);
    CHECK_EQ_INT(walked, total);
    /* listed once as a counter (by worker 0, which made it) and once as
     * shared (by one of the other writers) */
    uint32_t n, listed = 0, shared = 0, shared_by_0 = 0;
    for (unsigned w = 0; w < HOT_WRITERS; w++) {
        mv_key *const *ks = mvmem_counters(&f.m, w, &n);
        for (uint32_t i = 0; i < n; i++) listed += ks[i] == k;
        ks = mvmem_shared_counters(&f.m, w, &n);
        for (uint32_t i = 0; i < n; i++) { shared += ks[i] == k; shared_by_0 += w == 0; }
    }
    CHECK_EQ_INT(listed, 1);
    CHECK_EQ_INT(shared, 1);
    CHECK_EQ_INT(shared_by_0, 0);
    CHECK(mvmem_is_shared(k));
    fixture_close(&f);
    for (unsigned i = 0; i < HOT_WRITERS + 2; i++) pel_arena_free(&h[i].arena);
}

/* which counters are shared: more than one worker added to them (listed by
 * the first worker that added after the record's maker), and only those */
static void test_shared_counters(void)
{
    static fixture f;
    fixture_open(&f, 3, 3);
    pel_key kb;
    memset(&kb, 4, sizeof kb);
    mv_key *a = f.k, *b = mvmem_key(&f.m, &kb, &f.a);
    CHECK(b != NULL);
    if (!b) { fixture_close(&f); return; }
    pel_write slots[8];
    pel_txent ta = addition(&f.key, 1), tb = addition(&kb, 1);
    /* a: worker 1 only; b: worker 1 makes it, then workers 2 and 0 add */
    for (uint32_t i = 0; i < 3; i++) CHECK(mvmem_write(&f.m, a, &f.a, i, 0, &ta, 0, &slots[i], 1, MVL_NONE) >= 0);
    CHECK(mvmem_write(&f.m, b, &f.a, 3, 0, &tb, 0, &slots[3], 1, MVL_NONE) >= 0);
    CHECK(mvmem_write(&f.m, b, &f.a, 4, 0, &tb, 0, &slots[4], 2, MVL_NONE) >= 0);
    CHECK(mvmem_write(&f.m, b, &f.a, 5, 0, &tb, 0, &slots[5], 0, MVL_NONE) >= 0);
    CHECK(mvmem_write(&f.m, b, &f.a, 6, 0, &tb, 0, &slots[6], 2, MVL_NONE) >= 0);
    uint32_t n;
    mv_key *const *ks = mvmem_counters(&f.m, 1, &n);
    CHECK_EQ_INT(n, 2);
    CHECK(n == 2 && ks[0] == a && ks[1] == b);
    (void)mvmem_counters(&f.m, 0, &n);
    CHECK_EQ_INT(n, 0);
    (void)mvmem_counters(&f.m, 2, &n);
    CHECK_EQ_INT(n, 0);
    ks = mvmem_shared_counters(&f.m, 2, &n);   /* worker 2 added to b first */
    CHECK(n == 1 && ks[0] == b);
    (void)mvmem_shared_counters(&f.m, 0, &n);
    CHECK_EQ_INT(n, 0);
    (void)mvmem_shared_counters(&f.m, 1, &n);
    CHECK_EQ_INT(n, 0);
    CHECK(!mvmem_is_shared(a));
    CHECK(mvmem_is_shared(b));
    fixture_close(&f);
}

int main(void)
{
    RUN(test_values_out_of_order);
    RUN(test_additions_out_of_order);
    RUN(test_mixed_moving_between_shards);
    RUN(test_hot_counter_threads);
    RUN(test_shared_counters);
    return TEST_END("test_mvmem");
}
