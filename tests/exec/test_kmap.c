/*
 * test_kmap.c - pel_kmap: insert and find, a duplicate insert returning the
 * node already published, iteration over every node exactly once, reset,
 * and four threads racing to insert the same keys (one winner per key), with
 * and without the list of every node (PEL_KMAP_LISTED).
 */
#include <pthread.h>
#include "exec/kmap.h"
#include "test.h"

typedef struct node { pel_kmap_node n; uint32_t id; uint32_t owner; uint32_t seen; } node;

static pel_key key_of(uint32_t i)
{
    pel_key k;
    memset(&k, 0, sizeof(k));
    for (int b = 0; b < 4; b++) k.b[b] = (uint8_t)(i >> (8 * b));
    k.b[31] = 0x5a;
    return k;
}

static void test_insert_find(void)
{
    pel_kmap m;
    CHECK(pel_kmap_init(&m, 10, PEL_KMAP_LISTED) == 0);   /* far too small: chains grow */
    enum { N = 5000 };
    node *nodes = calloc(N, sizeof(node));
    CHECK(nodes != NULL);
    if (!nodes) return;
    pel_key k = key_of(7);
    CHECK(pel_kmap_find(&m, &k, pel_key_hash(&k)) == NULL);
    for (uint32_t i = 0; i < N; i++) {
        nodes[i].n.key = key_of(i);
        nodes[i].id = i;
        CHECK(pel_kmap_insert(&m, &nodes[i].n, pel_key_hash(&nodes[i].n.key)) == &nodes[i].n);
    }
    CHECK_EQ_INT(pel_kmap_count(&m), N);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < N; i++) {
        k = key_of(i);
        node *f = (node *)pel_kmap_find(&m, &k, pel_key_hash(&k));
        bad += !f || f->id != i;
    }
    CHECK_EQ_INT(bad, 0);
    k = key_of(N + 1);
    CHECK(pel_kmap_find(&m, &k, pel_key_hash(&k)) == NULL);

    /* duplicates: the existing node comes back, nothing is added */
    node dup = { .n.key = key_of(42), .id = 9999 };
    CHECK(pel_kmap_insert(&m, &dup.n, pel_key_hash(&dup.n.key)) == &nodes[42].n);
    CHECK_EQ_INT(pel_kmap_count(&m), N);
    k = key_of(42);
    CHECK(pel_kmap_find(&m, &k, pel_key_hash(&k)) == &nodes[42].n);

    /* iteration: every node exactly once */
    uint32_t visits = 0, foreign = 0;
    for (pel_kmap_node *n = pel_kmap_first(&m); n; n = n->all_next) {
        node *x = (node *)n;
        if (x < nodes || x >= nodes + N) { foreign++; continue; }
        x->seen++;
        visits++;
    }
    CHECK_EQ_INT(visits, N);
    CHECK_EQ_INT(foreign, 0);
    uint32_t not_once = 0;
    for (uint32_t i = 0; i < N; i++) not_once += nodes[i].seen != 1;
    CHECK_EQ_INT(not_once, 0);

    /* reset forgets everything; the map is usable again */
    CHECK(pel_kmap_reset(&m, 100000) == 0);
    CHECK_EQ_INT(pel_kmap_count(&m), 0);
    CHECK(pel_kmap_first(&m) == NULL);
    CHECK(pel_kmap_find(&m, &k, pel_key_hash(&k)) == NULL);
    CHECK(pel_kmap_insert(&m, &dup.n, pel_key_hash(&dup.n.key)) == &dup.n);
    CHECK(pel_kmap_find(&m, &k, pel_key_hash(&k)) == &dup.n);
    CHECK_EQ_INT(pel_kmap_count(&m), 1);
    pel_kmap_free(&m);
    free(nodes);
}

/* Keys whose hashes collide in a small table still resolve by full key. */
static void test_same_bucket(void)
{
    pel_kmap m;
    CHECK(pel_kmap_init(&m, 1, PEL_KMAP_LISTED) == 0);
    node a[64];
    for (uint32_t i = 0; i < 64; i++) {
        memset(&a[i], 0, sizeof(a[i]));
        a[i].n.key = key_of(i);
        a[i].id = i;
        CHECK(pel_kmap_insert(&m, &a[i].n, 12345) == &a[i].n);   /* one bucket for all */
    }
    uint32_t bad = 0;
    for (uint32_t i = 0; i < 64; i++) {
        pel_key k = key_of(i);
        bad += pel_kmap_find(&m, &k, 12345) != &a[i].n;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(pel_kmap_count(&m), 64);
    pel_kmap_free(&m);
}

/* ---- concurrent inserts of the same keys ---- */

enum { THREADS = 4, KEYS = 20000 };

typedef struct racer {
    pel_kmap *m;
    uint32_t t;
    node *arena;                  /* this thread's nodes */
    pel_kmap_node *got[KEYS];     /* what insert returned for each key */
    uint32_t won;
    pthread_barrier_t *go;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->go);
    for (uint32_t j = 0; j < KEYS; j++) {
        uint32_t i = (j * 7919u + r->t * 5003u) % KEYS;   /* each thread its own order */
        node *n = &r->arena[i];
        n->n.key = key_of(i);
        n->id = i;
        n->owner = r->t;
        r->got[i] = pel_kmap_insert(r->m, &n->n, pel_key_hash(&n->n.key));
        r->won += r->got[i] == &n->n;
        /* the winner's contents are visible to a thread that finds it */
        node *f = (node *)pel_kmap_find(r->m, &n->n.key, pel_key_hash(&n->n.key));
        if (!f || f->id != i || (pel_kmap_node *)f != r->got[i]) r->won += 1u << 30;
    }
    return NULL;
}

static void concurrent_same_keys(unsigned flags)
{
    pel_kmap m;
    CHECK(pel_kmap_init(&m, 1024, flags) == 0);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, THREADS);
    static racer r[THREADS];
    pthread_t th[THREADS];
    for (uint32_t t = 0; t < THREADS; t++) {
        r[t] = (racer){ .m = &m, .t = t, .arena = calloc(KEYS, sizeof(node)), .go = &go };
        CHECK(r[t].arena != NULL);
    }
    for (uint32_t t = 0; t < THREADS; t++) CHECK(pthread_create(&th[t], NULL, race, &r[t]) == 0);
    for (uint32_t t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&go);

    uint32_t won = 0;
    for (uint32_t t = 0; t < THREADS; t++) {
        CHECK(r[t].won < (1u << 30));   /* no find disagreed with its insert */
        won += r[t].won & ((1u << 30) - 1);
    }
    CHECK_EQ_INT(won, KEYS);
    CHECK_EQ_INT(pel_kmap_count(&m), flags & PEL_KMAP_LISTED ? KEYS : 0);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < KEYS; i++) {
        pel_key k = key_of(i);
        pel_kmap_node *f = pel_kmap_find(&m, &k, pel_key_hash(&k));
        bad += !f || ((node *)f)->id != i || &r[((node *)f)->owner].arena[i].n != f;
        for (uint32_t t = 0; t < THREADS; t++) bad += r[t].got[i] != f;   /* everyone got the winner */
    }
    CHECK_EQ_INT(bad, 0);
    uint32_t visits = 0;
    for (pel_kmap_node *n = pel_kmap_first(&m); n; n = n->all_next) {
        ((node *)n)->seen++;
        visits++;
    }
    CHECK_EQ_INT(visits, flags & PEL_KMAP_LISTED ? KEYS : 0);   /* unlisted: nothing */
    uint32_t not_once = 0;
    for (uint32_t i = 0; i < KEYS; i++) {
        pel_key k = key_of(i);
        node *f = (node *)pel_kmap_find(&m, &k, pel_key_hash(&k));
        not_once += !f || f->seen != (flags & PEL_KMAP_LISTED ? 1u : 0u);
    }
    CHECK_EQ_INT(not_once, 0);
    /* a reset keeps the choice */
    CHECK(pel_kmap_reset(&m, 100000) == 0);
    CHECK_EQ_INT(m.listed, (flags & PEL_KMAP_LISTED) != 0);
    pel_kmap_free(&m);
    for (uint32_t t = 0; t < THREADS; t++) free(r[t].arena);
}

static void test_concurrent_same_keys(void) { concurrent_same_keys(PEL_KMAP_LISTED); }
static void test_concurrent_same_keys_unlisted(void) { concurrent_same_keys(0); }

int main(void)
{
    RUN(test_insert_find);
    RUN(test_same_bucket);
    RUN(test_concurrent_same_keys);
    RUN(test_concurrent_same_keys_unlisted);
    return TEST_END("test_kmap");
}
