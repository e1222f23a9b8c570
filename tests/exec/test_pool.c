/*
 * test_pool.c - pel_pool: every worker id runs exactly once per run, the
 * workers' writes are visible when pel_pool_run returns, runs can follow
 * each other many times, a pool of one runs inline, and size 0 is refused;
 * all of it again with workers that spin between jobs (pel_pool_set_spin),
 * with jobs back to back and with pauses longer than the spin, and with
 * pel_pool_wake before runs and before pauses (a woken worker that sees no
 * job must neither run the last one again nor miss the next).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "exec/pool.h"
#include "test.h"

typedef struct job {
    unsigned size;
    unsigned runs[64];          /* per worker: how many times it ran (own slot only) */
    uint64_t result[64];        /* per worker: a value only it computes */
    uint64_t round;
    pthread_t thread[64];
} job;

static void work(void *arg, unsigned w)
{
    job *j = arg;
    if (w >= 64) return;
    j->runs[w]++;
    j->thread[w] = pthread_self();
    uint64_t x = j->round * 1000003u + w;
    for (int i = 0; i < 1000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    j->result[w] = x;
}

static uint64_t expected(uint64_t round, unsigned w)
{
    uint64_t x = round * 1000003u + w;
    for (int i = 0; i < 1000; i++) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x;
}

/* each_worker_once - `rounds` runs on a pool of `size`, its workers
 * spinning up to spin_us between jobs; a pause of pause_us after every
 * tenth run (longer than the spin: the workers must be woken); with `wake`,
 * pel_pool_wake before every run, and after every tenth run a wake followed
 * by a second pause (no job comes: the woken workers go back to sleep). */
static void each_worker_once(unsigned size, unsigned rounds, unsigned spin_us, unsigned pause_us, int wake)
{
    pel_pool *p = NULL;
    CHECK_EQ_INT(pel_pool_new(size, &p), 0);
    if (!p) return;
    pel_pool_set_spin(p, spin_us);
    CHECK_EQ_INT(pel_pool_size(p), size);
    job *j = calloc(1, sizeof(*j));
    CHECK(j != NULL);
    if (!j) { pel_pool_free(p); return; }
    unsigned bad_runs = 0, bad_results = 0, caller_not_0 = 0;
    for (unsigned r = 1; r <= rounds; r++) {
        j->round = r;
        if (wake) pel_pool_wake(p);
        pel_pool_run(p, work, j);
        for (unsigned w = 0; w < size; w++) {
            bad_runs += j->runs[w] != r;                 /* exactly once per run */
            bad_results += j->result[w] != expected(r, w);
        }
        caller_not_0 += !pthread_equal(j->thread[0], pthread_self());
        if (pause_us && r % 10 == 0) usleep(pause_us);
        if (wake && r % 10 == 0) { pel_pool_wake(p); usleep(pause_us); }
    }
    for (unsigned w = size; w < 64; w++) bad_runs += j->runs[w] != 0;   /* no id >= size */
    CHECK_EQ_INT(bad_runs, 0);
    CHECK_EQ_INT(bad_results, 0);
    CHECK_EQ_INT(caller_not_0, 0);
    /* workers other than 0 are distinct threads, not the caller */
    unsigned dup = 0;
    for (unsigned a = 1; a < size; a++) {
        dup += pthread_equal(j->thread[a], pthread_self()) != 0;
        for (unsigned b = a + 1; b < size; b++) dup += pthread_equal(j->thread[a], j->thread[b]) != 0;
    }
    CHECK_EQ_INT(dup, 0);
    free(j);
    if (wake) pel_pool_wake(p);   /* free right after a wake */
    pel_pool_free(p);
}

static void test_each_worker_once(unsigned size, unsigned rounds, unsigned spin_us, unsigned pause_us)
{
    each_worker_once(size, rounds, spin_us, pause_us, 0);
}

static void test_sizes(void)
{
    unsigned rounds = test_env_u64("PEL_TEST_TSAN", 0) ? 200 : 2000;
    test_each_worker_once(2, rounds, 0, 0);
    test_each_worker_once(4, rounds, 0, 0);
    test_each_worker_once(16, rounds / 4, 0, 0);
}

static void test_spinning(void)
{
    unsigned rounds = test_env_u64("PEL_TEST_TSAN", 0) ? 200 : 2000;
    test_each_worker_once(2, rounds, 200, 0);
    test_each_worker_once(4, rounds, 200, 0);
    test_each_worker_once(16, rounds / 4, 50, 0);    /* more threads than cores */
    test_each_worker_once(2, 100, 50, 2000);         /* the spin runs out: sleep, wake */
    test_each_worker_once(3, 100, 1000000, 0);       /* a long spin: free must not wait it out */
    each_worker_once(2, 100, 50, 2000, 1);           /* woken before runs and before pauses */
    each_worker_once(4, 100, 50, 2000, 1);
    each_worker_once(2, 100, 0, 500, 1);             /* no spin: waking does nothing */
    each_worker_once(3, 50, 1000000, 1000, 1);       /* woken into a long spin, then freed */
}

static void test_size_one_inline(void)
{
    pel_pool *p = NULL;
    CHECK_EQ_INT(pel_pool_new(1, &p), 0);
    if (!p) return;
    CHECK_EQ_INT(pel_pool_size(p), 1);
    job *j = calloc(1, sizeof(*j));
    CHECK(j != NULL);
    if (!j) { pel_pool_free(p); return; }
    for (unsigned r = 1; r <= 100; r++) {
        j->round = r;
        pel_pool_wake(p);   /* a pool of one: nothing to wake */
        pel_pool_run(p, work, j);
        CHECK_EQ_INT(j->runs[0], r);
        CHECK(pthread_equal(j->thread[0], pthread_self()));
        CHECK(j->result[0] == expected(r, 0));
    }
    CHECK_EQ_INT(j->runs[1], 0);
    free(j);
    pel_pool_free(p);
}

static void test_invalid(void)
{
    pel_pool *p = (pel_pool *)&p;   /* must be cleared */
    CHECK_EQ_INT(pel_pool_new(0, &p), PEL_EINVAL);
    CHECK(p == NULL);
    pel_pool_free(NULL);
}

/* Pools are independent: two used alternately. */
static void test_two_pools(void)
{
    pel_pool *a = NULL, *b = NULL;
    CHECK(pel_pool_new(3, &a) == 0 && pel_pool_new(2, &b) == 0);
    if (!a || !b) { pel_pool_free(a); pel_pool_free(b); return; }
    job *ja = calloc(1, sizeof(*ja)), *jb = calloc(1, sizeof(*jb));
    CHECK(ja && jb);
    if (ja && jb) {
        for (unsigned r = 1; r <= 50; r++) {
            ja->round = jb->round = r;
            pel_pool_run(a, work, ja);
            pel_pool_run(b, work, jb);
        }
        CHECK(ja->runs[0] == 50 && ja->runs[1] == 50 && ja->runs[2] == 50 && ja->runs[3] == 0);
        CHECK(jb->runs[0] == 50 && jb->runs[1] == 50 && jb->runs[2] == 0);
        CHECK(ja->result[2] == expected(50, 2) && jb->result[1] == expected(50, 1));
    }
    free(ja);
    free(jb);
    pel_pool_free(a);
    pel_pool_free(b);
}

/* the names each worker reports for itself, by worker id */
typedef struct names { char n[4][16]; } names;

static void own_name(void *arg, unsigned worker)
{
    names *x = arg;
    if (worker < 4 && pthread_getname_np(pthread_self(), x->n[worker], sizeof x->n[worker]) != 0)
        x->n[worker][0] = 0;
}

/* pel_pool_name: workers 1.. are "NAME-1", "NAME-2", ...; the caller
 * (worker 0) keeps its own name; a long name is cut to fit */
static void test_names(void)
{
    pel_pool *p = NULL;
    CHECK_EQ_INT(pel_pool_new(4, &p), 0);
    names before = { 0 }, x = { 0 };
    pel_pool_run(p, own_name, &before);
    pel_pool_name(p, "pel-test");
    pel_pool_run(p, own_name, &x);
    CHECK(strcmp(x.n[0], before.n[0]) == 0);
    char want[16];
    for (unsigned i = 1; i < 4; i++) {
        snprintf(want, sizeof want, "pel-test-%u", i);
        CHECK(strcmp(x.n[i], want) == 0);
    }
    pel_pool_name(p, "a-very-long-pool-name");
    pel_pool_run(p, own_name, &x);
    CHECK(strcmp(x.n[3], "a-very-lon-3") == 0);
    pel_pool_name(NULL, "nothing");   /* no pool: nothing to name */
    pel_pool_free(p);
}

int main(void)
{
    RUN(test_invalid);
    RUN(test_size_one_inline);
    RUN(test_sizes);
    RUN(test_spinning);
    RUN(test_two_pools);
    RUN(test_names);
    return TEST_END("test_pool");
}
