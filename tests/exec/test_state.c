/*
 * test_state.c - pel_memstate: put/get/del/count, growth through many
 * resizes, applying a write set, the digest (order-independent, sensitive
 * to every change), and PEL_ERANGE for oversized values.
 */
#include "exec/state.h"
#include "test.h"

static pel_key key_of(uint32_t i)
{
    pel_key k;
    memset(&k, 0, sizeof(k));
    for (int b = 0; b < 4; b++) k.b[b] = (uint8_t)(i >> (8 * b));
    k.b[20] = 0xee;
    return k;
}

/* value_of - a value that depends on i (length 0..16). */
static uint32_t value_of(uint32_t i, uint8_t out[16])
{
    uint32_t len = i % 17;
    for (uint32_t j = 0; j < len; j++) out[j] = (uint8_t)(i * 31 + j);
    return len;
}

static int get_is(const pel_memstate *ms, const pel_key *k, const void *val, uint32_t len)
{
    pel_state st = pel_memstate_reader(ms);
    pel_val v;
    if (pel_state_get(&st, k, &v) != 0) return 0;
    return v.len == len && (len == 0 || memcmp(v.p, val, len) == 0);
}

static int absent(const pel_memstate *ms, const pel_key *k)
{
    pel_state st = pel_memstate_reader(ms);
    pel_val v = { (const uint8_t *)"x", 1 };
    return pel_state_get(&st, k, &v) == PEL_ENOTFOUND && v.p == NULL && v.len == 0;
}

static void test_put_get_del(void)
{
    pel_memstate *ms;
    CHECK(pel_memstate_new(&ms) == 0);
    pel_key a = key_of(1), b = key_of(2);
    CHECK_EQ_INT(pel_memstate_count(ms), 0);
    CHECK(absent(ms, &a));
    CHECK(pel_memstate_put(ms, &a, "hello", 5) == 0);
    CHECK(get_is(ms, &a, "hello", 5));
    CHECK_EQ_INT(pel_memstate_count(ms), 1);
    CHECK(pel_memstate_put(ms, &a, "hi", 2) == 0);          /* overwrite */
    CHECK(get_is(ms, &a, "hi", 2));
    CHECK_EQ_INT(pel_memstate_count(ms), 1);
    CHECK(pel_memstate_put(ms, &b, NULL, 0) == 0);          /* empty value is present */
    CHECK(get_is(ms, &b, NULL, 0));
    CHECK_EQ_INT(pel_memstate_count(ms), 2);
    CHECK(pel_memstate_del(ms, &a) == 0);
    CHECK(absent(ms, &a));
    CHECK_EQ_INT(pel_memstate_count(ms), 1);
    CHECK(pel_memstate_del(ms, &a) == 0);                   /* deleting twice is fine */
    pel_key c = key_of(3);
    CHECK(pel_memstate_del(ms, &c) == 0);                   /* and deleting the never-seen */
    CHECK_EQ_INT(pel_memstate_count(ms), 1);
    CHECK(pel_memstate_put(ms, &a, "again", 5) == 0);       /* re-create after delete */
    CHECK(get_is(ms, &a, "again", 5));
    CHECK_EQ_INT(pel_memstate_count(ms), 2);
    pel_memstate_free(ms);
    pel_memstate_free(NULL);
}

static void test_value_limit(void)
{
    pel_memstate *ms;
    CHECK(pel_memstate_new(&ms) == 0);
    uint8_t *big = calloc(PEL_VAL_MAX + 1, 1);
    CHECK(big != NULL);
    if (!big) { pel_memstate_free(ms); return; }
    big[0] = 1; big[PEL_VAL_MAX - 1] = 2;
    pel_key k = key_of(9), j = key_of(10);
    CHECK(pel_memstate_put(ms, &k, big, PEL_VAL_MAX) == 0);
    CHECK(get_is(ms, &k, big, PEL_VAL_MAX));
    CHECK_EQ_INT(pel_memstate_put(ms, &j, big, PEL_VAL_MAX + 1), PEL_ERANGE);
    CHECK(absent(ms, &j));
    CHECK_EQ_INT(pel_memstate_put(ms, &k, big, PEL_VAL_MAX + 1), PEL_ERANGE);
    CHECK(get_is(ms, &k, big, PEL_VAL_MAX));                 /* unchanged */
    CHECK_EQ_INT(pel_memstate_count(ms), 1);
    pel_write w = { j, PEL_W_PUT, { big, PEL_VAL_MAX + 1 } };
    pel_writeset ws = { &w, 1 };
    CHECK_EQ_INT(pel_memstate_apply(ms, &ws), PEL_ERANGE);
    CHECK(absent(ms, &j));
    free(big);
    pel_memstate_free(ms);
}

static void test_growth(void)
{
    enum { N = 100000 };
    pel_memstate *ms;
    CHECK(pel_memstate_new(&ms) == 0);
    uint8_t v[16];
    uint32_t fails = 0;
    for (uint32_t i = 0; i < N; i++) {
        pel_key k = key_of(i);
        fails += pel_memstate_put(ms, &k, v, value_of(i, v)) != 0;
    }
    CHECK_EQ_INT(fails, 0);
    CHECK_EQ_INT(pel_memstate_count(ms), N);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < N; i++) {
        pel_key k = key_of(i);
        uint32_t len = value_of(i, v);
        bad += !get_is(ms, &k, v, len);
    }
    CHECK_EQ_INT(bad, 0);
    pel_key k = key_of(N);
    CHECK(absent(ms, &k));
    for (uint32_t i = 0; i < N; i += 2) {   /* delete half */
        k = key_of(i);
        fails += pel_memstate_del(ms, &k) != 0;
    }
    CHECK_EQ_INT(fails, 0);
    CHECK_EQ_INT(pel_memstate_count(ms), N / 2);
    bad = 0;
    for (uint32_t i = 0; i < N; i++) {
        k = key_of(i);
        uint32_t len = value_of(i, v);
        bad += (i % 2 == 0) ? !absent(ms, &k) : !get_is(ms, &k, v, len);
    }
    CHECK_EQ_INT(bad, 0);
    pel_memstate_free(ms);
}

static void test_apply(void)
{
    pel_memstate *ms;
    CHECK(pel_memstate_new(&ms) == 0);
    pel_key k[4] = { key_of(1), key_of(2), key_of(3), key_of(4) };
    CHECK(pel_memstate_put(ms, &k[0], "a", 1) == 0);
    CHECK(pel_memstate_put(ms, &k[1], "b", 1) == 0);
    pel_write w[4] = {
        { k[0], PEL_W_DEL, { NULL, 0 } },
        { k[1], PEL_W_PUT, { (const uint8_t *)"bb", 2 } },
        { k[2], PEL_W_PUT, { (const uint8_t *)"ccc", 3 } },
        { k[3], PEL_W_DEL, { NULL, 0 } },                   /* delete of an absent key */
    };
    pel_writeset ws = { w, 4 };
    CHECK(pel_memstate_apply(ms, &ws) == 0);
    CHECK(absent(ms, &k[0]));
    CHECK(get_is(ms, &k[1], "bb", 2));
    CHECK(get_is(ms, &k[2], "ccc", 3));
    CHECK(absent(ms, &k[3]));
    CHECK_EQ_INT(pel_memstate_count(ms), 2);
    pel_writeset empty = { NULL, 0 };
    CHECK(pel_memstate_apply(ms, &empty) == 0);
    CHECK_EQ_INT(pel_memstate_count(ms), 2);
    pel_memstate_free(ms);
}

static void fill(pel_memstate *ms, uint32_t n, uint32_t stride, uint32_t start)
{
    uint8_t v[16];
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = (start + j * stride) % n;
        pel_key k = key_of(i);
        CHECK(pel_memstate_put(ms, &k, v, value_of(i, v)) == 0);
    }
}

static void test_digest(void)
{
    enum { N = 3000 };
    pel_memstate *a, *b, *c;
    uint8_t da[32], db[32], dc[32], d0[32], e[32];
    CHECK(pel_memstate_new(&a) == 0 && pel_memstate_new(&b) == 0 && pel_memstate_new(&c) == 0);
    CHECK(pel_memstate_digest(a, d0) == 0);
    fill(a, N, 1, 0);          /* in order */
    fill(b, N, 1999, 17);      /* another order (1999 is prime to 3000) */
    CHECK(pel_memstate_digest(a, da) == 0);
    CHECK(pel_memstate_digest(b, db) == 0);
    CHECK_MEM(da, db, 32);
    CHECK(memcmp(da, d0, 32) != 0);
    /* c: the same contents via a detour (extra key deleted, value overwritten) */
    pel_key extra = key_of(N + 5), k7 = key_of(7);
    CHECK(pel_memstate_put(c, &extra, "x", 1) == 0);
    CHECK(pel_memstate_put(c, &k7, "tmp", 3) == 0);
    fill(c, N, 7, 3);
    CHECK(pel_memstate_del(c, &extra) == 0);
    CHECK(pel_memstate_digest(c, dc) == 0);
    CHECK_MEM(da, dc, 32);

    uint8_t v[16];
    uint32_t len7 = value_of(7, v);
    /* change one byte of one value */
    v[0] ^= 1;
    CHECK(pel_memstate_put(b, &k7, v, len7) == 0);
    CHECK(pel_memstate_digest(b, e) == 0);
    CHECK(memcmp(e, da, 32) != 0);
    v[0] ^= 1;
    CHECK(pel_memstate_put(b, &k7, v, len7) == 0);          /* restore: equal again */
    CHECK(pel_memstate_digest(b, e) == 0);
    CHECK_MEM(e, da, 32);
    /* change only the length (an extra zero byte) */
    uint8_t longer[17] = { 0 };
    memcpy(longer, v, len7);
    CHECK(pel_memstate_put(b, &k7, longer, len7 + 1) == 0);
    CHECK(pel_memstate_digest(b, e) == 0);
    CHECK(memcmp(e, da, 32) != 0);
    CHECK(pel_memstate_put(b, &k7, v, len7) == 0);
    /* delete one key */
    CHECK(pel_memstate_del(b, &k7) == 0);
    CHECK(pel_memstate_digest(b, e) == 0);
    CHECK(memcmp(e, da, 32) != 0);
    CHECK(pel_memstate_put(b, &k7, v, len7) == 0);
    /* add one key with an empty value */
    CHECK(pel_memstate_put(b, &extra, NULL, 0) == 0);
    CHECK(pel_memstate_digest(b, e) == 0);
    CHECK(memcmp(e, da, 32) != 0);
    CHECK(pel_memstate_del(b, &extra) == 0);
    CHECK(pel_memstate_digest(b, e) == 0);
    CHECK_MEM(e, da, 32);
    /* the same value under another key */
    pel_key k8 = key_of(8);
    uint8_t v8[16];
    uint32_t len8 = value_of(8, v8);
    CHECK(pel_memstate_put(b, &k8, v, len7) == 0);
    CHECK(pel_memstate_put(b, &k7, v8, len8) == 0);
    CHECK(pel_memstate_digest(b, e) == 0);
    CHECK(memcmp(e, da, 32) != 0);
    /* the empty state's digest is stable */
    pel_memstate *z;
    CHECK(pel_memstate_new(&z) == 0);
    CHECK(pel_memstate_digest(z, e) == 0);
    CHECK_MEM(e, d0, 32);
    pel_memstate_free(z);
    pel_memstate_free(a);
    pel_memstate_free(b);
    pel_memstate_free(c);
}

int main(void)
{
    RUN(test_put_get_del);
    RUN(test_value_limit);
    RUN(test_growth);
    RUN(test_apply);
    RUN(test_digest);
    return TEST_END("test_state");
}
