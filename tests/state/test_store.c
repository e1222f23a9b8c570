/* test_store.c - the LMDB store: round trips in every table, aborts, scans,
 * key limits, reopen and read-only opens, the engines' per-thread state
 * readers (concurrent with commits, across thread exits and several
 * stores), a full map, and durability across kill -9 of a writer.
 * Seed: printed on start; replay with PEL_TEST_SEED=<seed>.
 * PEL_TEST_ITERS raises the number of crash rounds (default 5). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "state/store.h"
#include "state/store_test.h"
#include "test.h"
#include "tmpdir.h"

/* ---- helpers ---- */

static char *tmpdir(void) { return test_tmpdir("pel_store_"); }

static pel_store *open_opts(const char *dir, uint64_t map, unsigned readers, int ro)
{
    pel_store *s = store_open(dir, map, readers, ro);
    CHECK(s != NULL);   /* store_open exits otherwise; counted as before */
    return s;
}

static pel_store *open_rw(const char *dir)
{
    return open_opts(dir, 64 * MIB, 0, 0);
}

static void be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) { out[i] = (uint8_t)v; v >>= 8; }
}

static uint64_t rd_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

/* put1 - commit one put; returns the commit code. */
static int put1(pel_store *s, pel_table t, const char *k, const char *v)
{
    pel_store_txn *w;
    int rc = pel_store_begin(s, &w);
    if (rc) return rc;
    rc = pel_store_put(w, t, k, strlen(k), v, strlen(v));
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

/* has - pel_store_get returns 0 and exactly `v` (v NULL: ENOTFOUND). */
static int has(pel_store *s, pel_table t, const char *k, const char *v)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_get(s, t, k, strlen(k), &b);
    int ok = v ? rc == 0 && b.len == strlen(v) && (b.len == 0 || memcmp(b.data, v, b.len) == 0)
               : rc == PEL_ENOTFOUND && b.len == 0;
    pel_buf_free(&b);
    return ok;
}

static pel_key skey(uint64_t i)
{
    pel_key k;
    memset(&k, 0, sizeof k);
    memcpy(k.b, "statekey", 8);
    be64(k.b + 24, i);
    return k;
}

/* ---- basic operations ---- */

static void defaults_are_documented(void)
{
    pel_store_opts o = pel_store_defaults();
    CHECK(o.map_size == 64ull << 30);
    CHECK_EQ_INT(o.max_readers, 1024);
    CHECK_EQ_INT(o.read_only, 0);
}

static void round_trip_every_table(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    CHECK(strcmp(pel_store_path(s), dir) == 0);
    for (int t = 0; t < PEL_T_COUNT; t++) {
        char k[32], v[32];
        snprintf(k, sizeof k, "key%d", t);
        snprintf(v, sizeof v, "value-of-%d", t);
        CHECK_EQ_INT(put1(s, (pel_table)t, k, v), 0);
    }
    for (int t = 0; t < PEL_T_COUNT; t++) {
        char k[32], v[32], other[32];
        snprintf(k, sizeof k, "key%d", t);
        snprintf(v, sizeof v, "value-of-%d", t);
        snprintf(other, sizeof other, "key%d", (t + 1) % PEL_T_COUNT);
        CHECK(has(s, (pel_table)t, k, v));
        CHECK(has(s, (pel_table)t, other, NULL));   /* tables are separate */
        CHECK_EQ_INT(put1(s, (pel_table)t, k, "second"), 0);   /* overwrite */
        CHECK(has(s, (pel_table)t, k, "second"));
        pel_store_txn *w;
        CHECK_EQ_INT(pel_store_begin(s, &w), 0);
        CHECK_EQ_INT(pel_store_del(w, (pel_table)t, k, strlen(k)), 0);
        CHECK_EQ_INT(pel_store_del(w, (pel_table)t, "absent", 6), 0);
        CHECK_EQ_INT(pel_store_commit(w), 0);
        CHECK(has(s, (pel_table)t, k, NULL));
    }
    /* an empty value is a value, not an absence */
    CHECK_EQ_INT(put1(s, PEL_T_META, "empty", ""), 0);
    CHECK(has(s, PEL_T_META, "empty", ""));
    /* failure clears the output */
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_buf_append(&b, "junk", 4), 0);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_META, "nope", 4, &b), PEL_ENOTFOUND);
    CHECK_EQ_INT(b.len, 0);
    pel_buf_free(&b);
    pel_store_close(s);
    pel_store_close(NULL);
    test_rmdir_all(dir);
}

static void abort_discards_and_txn_get_sees_staged(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    CHECK_EQ_INT(put1(s, PEL_T_STATE, "a", "old"), 0);
    pel_store_txn *w;
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "a", 1, "new", 3), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "b", 1, "bee", 3), 0);
    CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_STATE, "a", 1, &b), 0);
    CHECK(b.len == 3 && memcmp(b.data, "new", 3) == 0);
    CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_STATE, "b", 1, &b), 0);
    CHECK(b.len == 3 && memcmp(b.data, "bee", 3) == 0);
    CHECK(has(s, PEL_T_STATE, "a", "old"));     /* readers see the last commit */
    CHECK(has(s, PEL_T_STATE, "b", NULL));
    CHECK_EQ_INT(pel_store_del(w, PEL_T_STATE, "b", 1), 0);
    CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_STATE, "b", 1, &b), PEL_ENOTFOUND);
    CHECK_EQ_INT(b.len, 0);
    /* one write transaction per handle */
    pel_store_txn *w2 = (pel_store_txn *)&b;
    CHECK_EQ_INT(pel_store_begin(s, &w2), PEL_EINVAL);
    CHECK(w2 == NULL);
    pel_store_abort(w);
    CHECK(has(s, PEL_T_STATE, "a", "old"));
    CHECK(has(s, PEL_T_STATE, "b", NULL));
    pel_store_abort(NULL);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);    /* usable again after abort */
    pel_store_abort(w);
    pel_buf_free(&b);
    pel_store_close(s);
    test_rmdir_all(dir);
}

typedef struct scan_acc {
    char keys[16][8];
    int n, stop_after, ret;
} scan_acc;

static int scan_cb(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    scan_acc *a = arg;
    if (a->n < 16 && klen < 8 && vlen == klen && memcmp(k, v, klen) == 0) {
        memcpy(a->keys[a->n], k, klen);
        a->keys[a->n][klen] = '\0';
    }
    a->n++;
    return a->n == a->stop_after ? a->ret : 0;
}

/* scan_is - scan BLOCKS with string bounds (NULL = unbounded), the callback
 * returning `ret` at call number stop_after; true if the keys seen, joined
 * by ',', are `want` and the scan returned what it should. */
static int scan_is(pel_store *s, const char *from, const char *to, int stop_after,
                   int ret, const char *want)
{
    scan_acc a;
    memset(&a, 0, sizeof a);
    a.stop_after = stop_after;
    a.ret = ret;
    int rc = pel_store_scan(s, PEL_T_BLOCKS, from, from ? strlen(from) : 0,
                            to, to ? strlen(to) : 0, scan_cb, &a);
    char got[128] = "";
    for (int i = 0; i < a.n && i < 16; i++) {
        if (i) strcat(got, ",");
        strcat(got, a.keys[i]);
    }
    int expect_rc = ret < 0 && stop_after > 0 && stop_after <= a.n ? ret : 0;
    if (rc != expect_rc || strcmp(got, want) != 0)
        fprintf(stderr, "scan [%s,%s): rc %d got '%s' want '%s'\n",
                from ? from : "-", to ? to : "-", rc, got, want);
    return rc == expect_rc && strcmp(got, want) == 0;
}

static void scan_ranges_and_stop(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    CHECK(scan_is(s, NULL, NULL, 0, 0, ""));     /* empty table */
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    static const char *const ks[] = {"e", "b", "d", "a", "c", "bb"};
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(pel_store_put(w, PEL_T_BLOCKS, ks[i], strlen(ks[i]), ks[i], strlen(ks[i])), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "zz", 2, "zz", 2), 0);   /* other table */
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK(scan_is(s, NULL, NULL, 0, 0, "a,b,bb,c,d,e"));
    CHECK(scan_is(s, "b", "d", 0, 0, "b,bb,c"));       /* from inclusive, to exclusive */
    CHECK(scan_is(s, "ba", "c", 0, 0, "bb"));          /* bounds need not exist */
    CHECK(scan_is(s, "c", NULL, 0, 0, "c,d,e"));
    CHECK(scan_is(s, NULL, "bb", 0, 0, "a,b"));
    CHECK(scan_is(s, "", NULL, 0, 0, "a,b,bb,c,d,e")); /* "" is below every key */
    CHECK(scan_is(s, NULL, "", 0, 0, ""));             /* nothing is below "" */
    CHECK(scan_is(s, "d", "b", 0, 0, ""));             /* from >= to */
    CHECK(scan_is(s, "f", NULL, 0, 0, ""));
    CHECK(scan_is(s, NULL, NULL, 2, 1, "a,b"));        /* early stop */
    CHECK(scan_is(s, "b", NULL, 3, PEL_EABORT, "b,bb,c"));   /* callback error */
    scan_acc a = {0};
    char big[600];
    memset(big, 'x', sizeof big);
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_BLOCKS, big, sizeof big, NULL, 0, scan_cb, &a), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_COUNT, NULL, 0, NULL, 0, scan_cb, &a), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_BLOCKS, NULL, 3, NULL, 0, scan_cb, &a), PEL_EINVAL);
    CHECK_EQ_INT(a.n, 0);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* dump: every table in pel_table order, keys in order, one snapshot even
 * while a write transaction is open; clear empties one table only, and
 * only once committed. */
typedef struct dump_acc { char seen[256]; size_t len; int n, stop_at; } dump_acc;

static int dump_cb(void *arg, pel_table t, const uint8_t *k, size_t klen, const uint8_t *v,
                   size_t vlen)
{
    dump_acc *a = arg;
    (void)v;
    (void)vlen;
    if (a->stop_at && a->n == a->stop_at) return PEL_EABORT;
    a->len += (size_t)snprintf(a->seen + a->len, sizeof a->seen - a->len, "%d:%.*s,", (int)t,
                               (int)klen, (const char *)k);
    a->n++;
    return 0;
}

static void dump_and_clear(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "b", 1, "1", 1), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "a", 1, "2", 1), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "m", 1, "3", 1), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_INDEX, "i", 1, "4", 1), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    dump_acc a = {0};
    CHECK_EQ_INT(pel_store_dump(s, dump_cb, &a), 0);
    CHECK(strcmp(a.seen, "0:m,4:a,4:b,8:i,") == 0);
    /* a write transaction in progress is not seen, and clear is staged */
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_clear(w, PEL_T_STATE), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "c", 1, "5", 1), 0);
    CHECK_EQ_INT(pel_store_clear(w, PEL_T_COUNT), PEL_EINVAL);
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(pel_store_dump(s, dump_cb, &a), 0);
    CHECK(strcmp(a.seen, "0:m,4:a,4:b,8:i,") == 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    memset(&a, 0, sizeof a);
    CHECK_EQ_INT(pel_store_dump(s, dump_cb, &a), 0);
    CHECK(strcmp(a.seen, "0:m,4:c,8:i,") == 0);
    memset(&a, 0, sizeof a);
    a.stop_at = 2;                                  /* a callback error stops it */
    CHECK_EQ_INT(pel_store_dump(s, dump_cb, &a), PEL_EABORT);
    CHECK_EQ_INT(a.n, 2);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* pel_store_get_stats: entries per table, a tree of some depth, and pages
 * freed by a deletion are on the free list after later commits. */
static void stats_count_entries_and_free_pages(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_store_txn *w;
    pel_store_stats st;
    uint8_t k[8], v[200];
    memset(v, 7, sizeof v);
    CHECK_EQ_INT(pel_store_get_stats(s, &st), 0);
    CHECK_EQ_INT(st.t[PEL_T_STATE].entries, 0);
    CHECK_EQ_INT(st.t[PEL_T_STATE].depth, 0);
    CHECK(st.page_size >= 512 && st.map_size == 64 * MIB && st.max_readers > 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    for (uint64_t i = 0; i < 2000; i++) { be64(k, i); CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, k, 8, v, sizeof v), 0); }
    CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "m", 1, "x", 1), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_store_get_stats(s, &st), 0);
    CHECK_EQ_INT(st.t[PEL_T_STATE].entries, 2000);
    CHECK_EQ_INT(st.t[PEL_T_META].entries, 1);
    CHECK_EQ_INT(st.t[PEL_T_TXS].entries, 0);
    CHECK(st.t[PEL_T_STATE].depth >= 2 && st.t[PEL_T_STATE].leaf_pages >= 2000 * sizeof v / st.page_size);
    uint64_t used = st.pages_used, txn = st.last_txn;
    CHECK(used > st.t[PEL_T_STATE].leaf_pages + st.t[PEL_T_STATE].branch_pages);
    /* delete everything: the pages go to the free list (seen once a later
     * transaction has committed the list) */
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_clear(w, PEL_T_STATE), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "m", 1, "y", 1), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_store_get_stats(s, &st), 0);
    CHECK_EQ_INT(st.t[PEL_T_STATE].entries, 0);
    CHECK(st.last_txn >= txn + 2);
    CHECK(st.free_pages >= 2000 * sizeof v / st.page_size);
    CHECK(st.pages_used >= used && st.free_pages < st.pages_used);
    CHECK_EQ_INT(strcmp(pel_store_table_name(PEL_T_STATE), "state"), 0);
    CHECK_EQ_INT(strcmp(pel_store_table_name(PEL_T_COUNT), "?"), 0);
    pel_store_close(s);
    /* read-only, as `pel admin stats` opens it */
    s = open_opts(dir, 64 * MIB, 0, 1);
    CHECK_EQ_INT(pel_store_get_stats(s, &st), 0);
    CHECK_EQ_INT(st.t[PEL_T_META].entries, 1);
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void last_on_empty_and_full_table(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_buf k, v;
    pel_buf_init(&k);
    pel_buf_init(&v);
    CHECK_EQ_INT(pel_buf_append(&k, "junk", 4), 0);
    CHECK_EQ_INT(pel_buf_append(&v, "junk", 4), 0);
    CHECK_EQ_INT(pel_store_last(s, PEL_T_BLOCKS, &k, &v), PEL_ENOTFOUND);
    CHECK(k.len == 0 && v.len == 0);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    for (uint64_t h = 0; h < 300; h += 7) {   /* heights, big-endian keys */
        uint8_t key[8], val[8];
        be64(key, h);
        be64(val, h * 1000);
        CHECK_EQ_INT(pel_store_put(w, PEL_T_BLOCKS, key, 8, val, 8), 0);
    }
    CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "\xff\xff", 2, "m", 1), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_store_last(s, PEL_T_BLOCKS, &k, &v), 0);
    CHECK(k.len == 8 && rd_be64(k.data) == 294);
    CHECK(v.len == 8 && rd_be64(v.data) == 294000);
    CHECK_EQ_INT(pel_store_last(s, PEL_T_BLOCKS, NULL, &v), 0);
    CHECK(v.len == 8 && rd_be64(v.data) == 294000);
    CHECK_EQ_INT(pel_store_last(s, PEL_T_BLOCKS, &k, NULL), 0);
    CHECK(k.len == 8 && rd_be64(k.data) == 294);
    CHECK_EQ_INT(pel_store_last(s, PEL_T_COUNT, &k, &v), PEL_EINVAL);
    CHECK(k.len == 0 && v.len == 0);
    pel_buf_free(&k);
    pel_buf_free(&v);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* pel_store_append takes only keys above the table's last (staged ones
 * included), refuses the others without spoiling the transaction;
 * pel_store_txn_below sees staged keys. */
static void append_only_after_the_last_key(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_buf k, v;
    pel_buf_init(&k);
    pel_buf_init(&v);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_txn_below(w, PEL_T_SMT, "a", 1), 1);          /* empty table */
    CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, "b", 1, "1", 1), 0);     /* empty table */
    CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, "bb", 2, "2", 1), 0);    /* longer sorts after */
    CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, "bb", 2, "x", 1), PEL_EEXIST);
    CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, "a", 1, "x", 1), PEL_EEXIST);
    CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, "", 0, "x", 1), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_txn_below(w, PEL_T_SMT, "bb", 2), 0);         /* the last key is "bb" */
    CHECK_EQ_INT(pel_store_txn_below(w, PEL_T_SMT, "bba", 3), 1);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_SMT, "c", 1, "3", 1), 0);       /* a put moves the end */
    CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, "bc", 2, "x", 1), PEL_EEXIST);
    CHECK_EQ_INT(pel_store_txn_below(w, PEL_T_SMT, "bz", 2), 0);         /* the last key is "c" */
    CHECK_EQ_INT(pel_store_txn_below(w, PEL_T_SMT, "c", 1), 0);
    CHECK_EQ_INT(pel_store_txn_below(w, PEL_T_SMT, "c\0", 2), 1);
    for (int i = 0; i < 2000; i++) {                                     /* over many pages */
        uint8_t key[9] = { 'd' };
        be64(key + 1, (uint64_t)i);
        CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, key, 9, key, 9), 0);
    }
    CHECK_EQ_INT(pel_store_txn_below(w, PEL_T_COUNT, "a", 1), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_txn_below(w, PEL_T_SMT, "", 0), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_commit(w), 0);                               /* the refusals spoilt nothing */
    CHECK_EQ_INT(pel_store_get(s, PEL_T_SMT, "bb", 2, &v), 0);
    CHECK(v.len == 1 && v.data[0] == '2');
    CHECK_EQ_INT(pel_store_get(s, PEL_T_SMT, "a", 1, &v), PEL_ENOTFOUND);
    uint8_t key[9] = { 'd' };
    be64(key + 1, 1234);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_SMT, key, 9, &v), 0);
    CHECK(v.len == 9 && !memcmp(v.data, key, 9));
    CHECK_EQ_INT(pel_store_last(s, PEL_T_SMT, &k, NULL), 0);
    be64(key + 1, 1999);
    CHECK(k.len == 9 && !memcmp(k.data, key, 9));
    pel_buf_free(&k);
    pel_buf_free(&v);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* pel_store_put_new writes an absent key and refuses a present one
 * (staged or committed) without writing or spoiling the transaction. */
static void put_new_keeps_the_first(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_buf v;
    pel_buf_init(&v);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put_new(w, PEL_T_TXS, "k", 1, "1", 1), 0);
    CHECK_EQ_INT(pel_store_put_new(w, PEL_T_TXS, "k", 1, "2", 1), PEL_EEXIST);   /* staged */
    CHECK_EQ_INT(pel_store_put_new(w, PEL_T_TXS, "", 0, "2", 1), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put_new(w, PEL_T_TXS, "k", 1, "3", 1), PEL_EEXIST);   /* committed */
    CHECK_EQ_INT(pel_store_put_new(w, PEL_T_TXS, "l", 1, "4", 1), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);                                       /* not spoilt */
    CHECK_EQ_INT(pel_store_get(s, PEL_T_TXS, "k", 1, &v), 0);
    CHECK(v.len == 1 && v.data[0] == '1');
    CHECK_EQ_INT(pel_store_get(s, PEL_T_TXS, "l", 1, &v), 0);
    CHECK(v.len == 1 && v.data[0] == '4');
    pel_buf_free(&v);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* pel_store_get_many reads several keys from one snapshot: present ones
 * with their values, absent ones as PEL_ENOTFOUND, bad arguments refused
 * with every output empty. */
static void get_many_one_snapshot(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "aa", 2, "1", 1), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "cc", 2, "333", 3), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    const void *keys[3] = { "aa", "bb", "cc" };
    pel_buf out[3];
    int rcs[3];
    for (int i = 0; i < 3; i++) pel_buf_init(&out[i]);
    CHECK_EQ_INT(pel_store_get_many(s, PEL_T_STATE, keys, 2, 3, out, rcs), 0);
    CHECK_EQ_INT(rcs[0], 0);
    CHECK(out[0].len == 1 && out[0].data[0] == '1');
    CHECK_EQ_INT(rcs[1], PEL_ENOTFOUND);
    CHECK_EQ_INT((int)out[1].len, 0);
    CHECK_EQ_INT(rcs[2], 0);
    CHECK(out[2].len == 3 && !memcmp(out[2].data, "333", 3));
    CHECK_EQ_INT(pel_store_get_many(s, PEL_T_STATE, keys, 2, 0, out, rcs), 0);   /* nothing asked */
    CHECK_EQ_INT(pel_store_get_many(s, PEL_T_STATE, keys, 0, 3, out, rcs), PEL_EINVAL);
    CHECK(out[0].len == 0 && out[2].len == 0);
    CHECK_EQ_INT(pel_store_get_many(s, PEL_T_COUNT, keys, 2, 3, out, rcs), PEL_EINVAL);
    for (int i = 0; i < 3; i++) pel_buf_free(&out[i]);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* A snapshot keeps the state it began with through later commits, reads
 * in place, says which keys are absent, refuses bad arguments, and may be
 * held on another thread while this one writes. */
static void *snap_thread(void *arg)
{
    pel_store_snap *r = arg;
    const uint8_t *v;
    size_t n;
    int rc = pel_store_snap_get(r, PEL_T_STATE, "aa", 2, &v, &n);
    return (void *)(intptr_t)(rc == 0 && n == 1 && v[0] == '1');
}

static void snapshot_keeps_its_state(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "aa", 2, "1", 1), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_store_snap *r;
    CHECK_EQ_INT(pel_store_snap_begin(s, &r), 0);
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);   /* a write transaction meanwhile */
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "aa", 2, "22", 2), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, "bb", 2, "3", 1), 0);
    pthread_t t;
    void *ok = NULL;
    CHECK_EQ_INT(pthread_create(&t, NULL, snap_thread, r), 0);
    CHECK_EQ_INT(pthread_join(t, &ok), 0);
    CHECK(ok != NULL);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    const uint8_t *v;
    size_t n;
    CHECK_EQ_INT(pel_store_snap_get(r, PEL_T_STATE, "aa", 2, &v, &n), 0);
    CHECK(n == 1 && v[0] == '1');
    CHECK_EQ_INT(pel_store_snap_get(r, PEL_T_STATE, "bb", 2, &v, &n), PEL_ENOTFOUND);
    CHECK(v == NULL && n == 0);
    CHECK_EQ_INT(pel_store_snap_get(r, PEL_T_COUNT, "aa", 2, &v, &n), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_snap_get(r, PEL_T_STATE, "aa", 0, &v, &n), PEL_EINVAL);
    pel_store_snap_end(r);
    CHECK_EQ_INT(pel_store_snap_begin(s, &r), 0);   /* a new one sees the commit */
    CHECK_EQ_INT(pel_store_snap_get(r, PEL_T_STATE, "aa", 2, &v, &n), 0);
    CHECK(n == 2 && !memcmp(v, "22", 2));
    CHECK_EQ_INT(pel_store_snap_get(r, PEL_T_STATE, "bb", 2, &v, &n), 0);
    pel_store_snap_end(r);
    pel_store_snap_end(NULL);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* scan_ordered - every key of a table in strictly increasing order,
 * counted (pel_store_scan's callback) */
typedef struct ordered { uint8_t prev[16]; size_t plen, n; int bad; } ordered;

static int scan_ordered(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    ordered *o = arg;
    (void)v; (void)vlen;
    if (klen > sizeof o->prev) { o->bad++; return 0; }   /* this test's keys are short */
    size_t m = klen < o->plen ? klen : o->plen;
    int c = memcmp(o->prev, k, m);
    if (o->n && (c > 0 || (c == 0 && o->plen >= klen))) o->bad++;
    memcpy(o->prev, k, klen);
    o->plen = klen;
    o->n++;
    return 0;
}

/* Appends go through a cursor kept at the table's end (store.c); any other
 * write in the transaction must leave later appends correct: appends to two
 * tables in turn, a put below the end, a delete of the last key, a clear,
 * a refused append, then an abort with the cursor open. */
static void append_cursor_and_other_writes(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_store_txn *w;
    uint8_t key[9] = { 'k' };
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    for (int i = 0; i < 3000; i++) {                       /* two tables in turn */
        be64(key + 1, (uint64_t)i * 2);
        CHECK_EQ_INT(pel_store_append(w, i % 3 ? PEL_T_SMT : PEL_T_TXS, key, 9, key, 9), 0);
        if (i % 500 == 250) {                               /* a put below the end */
            be64(key + 1, (uint64_t)i - 1);
            CHECK_EQ_INT(pel_store_put(w, PEL_T_SMT, key, 9, "p", 1), 0);
        }
    }
    be64(key + 1, 2 * 2999);                                /* the last SMT key is 2*2999 */
    CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, key, 9, "x", 1), PEL_EEXIST);
    CHECK_EQ_INT(pel_store_del(w, PEL_T_SMT, key, 9), 0);  /* the end moves back */
    CHECK_EQ_INT(pel_store_append(w, PEL_T_SMT, key, 9, "again", 5), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    ordered o = { .n = 0 };
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_SMT, NULL, 0, NULL, 0, scan_ordered, &o), 0);
    CHECK_EQ_INT(o.bad, 0);
    CHECK_EQ_INT(o.n, 2000 + 6);                            /* 2000 appended, 6 put */
    memset(&o, 0, sizeof o);
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_TXS, NULL, 0, NULL, 0, scan_ordered, &o), 0);
    CHECK_EQ_INT(o.bad, 0);
    CHECK_EQ_INT(o.n, 1000);
    pel_buf v;
    pel_buf_init(&v);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_SMT, key, 9, &v), 0);
    CHECK(v.len == 5 && !memcmp(v.data, "again", 5));

    CHECK_EQ_INT(pel_store_begin(s, &w), 0);               /* a clear, then appends from empty */
    CHECK_EQ_INT(pel_store_append(w, PEL_T_TXS, "zz", 2, "1", 1), 0);
    CHECK_EQ_INT(pel_store_clear(w, PEL_T_TXS), 0);
    CHECK_EQ_INT(pel_store_append(w, PEL_T_TXS, "a", 1, "1", 1), 0);
    CHECK_EQ_INT(pel_store_append(w, PEL_T_TXS, "b", 1, "2", 1), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    memset(&o, 0, sizeof o);
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_TXS, NULL, 0, NULL, 0, scan_ordered, &o), 0);
    CHECK_EQ_INT(o.n, 2);
    CHECK_EQ_INT(o.bad, 0);

    CHECK_EQ_INT(pel_store_begin(s, &w), 0);               /* abort with the cursor open */
    CHECK_EQ_INT(pel_store_append(w, PEL_T_TXS, "c", 1, "3", 1), 0);
    pel_store_abort(w);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_TXS, "c", 1, &v), PEL_ENOTFOUND);
    pel_buf_free(&v);
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void reopen_keeps_committed_data(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    CHECK_EQ_INT(put1(s, PEL_T_TXS, "kept", "yes"), 0);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_TXS, "dropped", 7, "no", 2), 0);
    pel_store_abort(w);
    pel_store_close(s);
    struct stat st;
    CHECK_EQ_INT(stat(dir, &st), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    s = NULL;
    CHECK_EQ_INT(pel_store_open(dir, NULL, &s), 0);   /* defaults */
    if (s) {
        CHECK(has(s, PEL_T_TXS, "kept", "yes"));
        CHECK(has(s, PEL_T_TXS, "dropped", NULL));
        pel_store_close(s);
    }
    test_rmdir_all(dir);
}

static void key_length_limits(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    uint8_t key[512];
    for (size_t i = 0; i < sizeof key; i++) key[i] = (uint8_t)(i * 31 + 7);
    pel_buf b;
    pel_buf_init(&b);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, key, 0, "v", 1), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, key, 512, "v", 1), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, key, 1, NULL, 1), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_COUNT, key, 1, "v", 1), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_put(w, (pel_table)-1, key, 1, "v", 1), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_del(w, PEL_T_STATE, key, 0), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_del(w, PEL_T_STATE, key, 512), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_txn_get(w, PEL_T_STATE, key, 0, &b), PEL_EINVAL);
    /* refused arguments do not spoil the transaction */
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, key, 511, "max", 3), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, key, 1, NULL, 0), 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_STATE, key, 511, &b), 0);
    CHECK(b.len == 3 && memcmp(b.data, "max", 3) == 0);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_STATE, key, 1, &b), 0);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_STATE, key, 510, &b), PEL_ENOTFOUND);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_STATE, key, 0, &b), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_STATE, key, 512, &b), PEL_EINVAL);
    CHECK_EQ_INT(pel_store_get(s, PEL_T_COUNT, key, 1, &b), PEL_EINVAL);
    pel_buf_free(&b);
    pel_store_close(s);
    test_rmdir_all(dir);
}

static void read_only_and_bad_opens(void)
{
    char *dir = tmpdir();
    pel_store *s = (pel_store *)dir;
    /* no environment yet: a read-only open cannot create one */
    pel_store_opts o = pel_store_defaults();
    o.read_only = 1;
    CHECK_EQ_INT(pel_store_open(dir, &o, &s), PEL_EIO);
    CHECK(s == NULL);
    CHECK_EQ_INT(pel_store_open("/nonexistent/pel/dir", NULL, &s), PEL_EIO);
    CHECK(s == NULL);
    CHECK_EQ_INT(pel_store_open("", NULL, &s), PEL_EINVAL);
    s = open_rw(dir);
    CHECK_EQ_INT(put1(s, PEL_T_BLOCKS, "h1", "block one"), 0);
    CHECK_EQ_INT(put1(s, PEL_T_STATE, "x", "y"), 0);
    pel_store_close(s);
    s = open_opts(dir, 0, 0, 1);
    CHECK(has(s, PEL_T_BLOCKS, "h1", "block one"));
    CHECK(has(s, PEL_T_STATE, "x", "y"));
    CHECK(has(s, PEL_T_META, "h1", NULL));
    pel_store_txn *w = (pel_store_txn *)dir;
    CHECK_EQ_INT(pel_store_begin(s, &w), PEL_EINVAL);
    CHECK(w == NULL);
    pel_buf k;
    pel_buf_init(&k);
    CHECK_EQ_INT(pel_store_last(s, PEL_T_BLOCKS, &k, NULL), 0);
    CHECK(k.len == 2 && memcmp(k.data, "h1", 2) == 0);
    pel_buf_free(&k);
    pel_state st = pel_store_state(s);
    pel_key key = skey(1);
    pel_val v = {(const uint8_t *)"junk", 4};
    CHECK_EQ_INT(pel_state_get(&st, &key, &v), PEL_ENOTFOUND);
    CHECK(v.p == NULL && v.len == 0);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* ---- pel_store_state ---- */

static int put_state(pel_store *s, uint64_t i, const void *v, size_t n)
{
    pel_key k = skey(i);
    pel_store_txn *w;
    int rc = pel_store_begin(s, &w);
    if (rc) return rc;
    rc = pel_store_put(w, PEL_T_STATE, k.b, PEL_KEY_LEN, v, n);
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

static int state_is(pel_state *st, uint64_t i, const char *want)
{
    pel_key k = skey(i);
    pel_val v;
    int rc = pel_state_get(st, &k, &v);
    if (!want) return rc == PEL_ENOTFOUND && v.p == NULL && v.len == 0;
    return rc == 0 && v.len == strlen(want) && memcmp(v.p, want, v.len) == 0;
}

static void state_reader_follows_commits(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    pel_state st = pel_store_state(s);
    CHECK(state_is(&st, 1, NULL));
    CHECK_EQ_INT(put_state(s, 1, "one", 3), 0);
    CHECK(state_is(&st, 1, "one"));              /* renewed after the commit */
    pel_key k = skey(1);
    pel_val v;
    CHECK_EQ_INT(pel_state_get(&st, &k, &v), 0);
    const uint8_t *old = v.p;
    CHECK_EQ_INT(put_state(s, 1, "uno", 3), 0);
    CHECK(old && memcmp(old, "one", 3) == 0);    /* old snapshot still pinned */
    CHECK(state_is(&st, 1, "uno"));
    /* staged writes are invisible until commit */
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_STATE, k.b, PEL_KEY_LEN, "staged", 6), 0);
    CHECK(state_is(&st, 1, "uno"));
    pel_store_abort(w);
    CHECK(state_is(&st, 1, "uno"));
    /* the STATE table only */
    CHECK_EQ_INT(put1(s, PEL_T_META, "statekey", "meta"), 0);
    CHECK(state_is(&st, 2, NULL));
    pel_store_release_readers(s);
    pel_store_release_readers(s);                /* idempotent */
    CHECK(state_is(&st, 1, "uno"));
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* Two stores in one thread, and a new store after a close (possibly at the
 * same address): each get must use the reader of its own store. */
static void state_readers_per_store(void)
{
    char *da = tmpdir(), *db = tmpdir(), *dc = tmpdir();
    pel_store *a = open_rw(da), *b = open_rw(db);
    CHECK_EQ_INT(put_state(a, 7, "from-a", 6), 0);
    CHECK_EQ_INT(put_state(b, 7, "from-b", 6), 0);
    pel_state sa = pel_store_state(a), sb = pel_store_state(b);
    for (int i = 0; i < 3; i++) {
        CHECK(state_is(&sa, 7, "from-a"));
        CHECK(state_is(&sb, 7, "from-b"));
    }
    pel_store_close(a);
    pel_store *c = open_rw(dc);
    CHECK_EQ_INT(put_state(c, 7, "from-c", 6), 0);
    pel_state sc = pel_store_state(c);
    CHECK(state_is(&sc, 7, "from-c"));
    CHECK(state_is(&sb, 7, "from-b"));
    /* more stores than cache slots: eviction must not lose correctness */
    pel_store *more[6];
    char *dm[6];
    for (int i = 0; i < 6; i++) {
        dm[i] = tmpdir();
        more[i] = open_rw(dm[i]);
        char val[16];
        snprintf(val, sizeof val, "m%d", i);
        CHECK_EQ_INT(put_state(more[i], 7, val, strlen(val)), 0);
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 6; i++) {
            char val[16];
            snprintf(val, sizeof val, "m%d", i);
            pel_state sm = pel_store_state(more[i]);
            CHECK(state_is(&sm, 7, val));
        }
    CHECK(state_is(&sc, 7, "from-c"));
    for (int i = 0; i < 6; i++) { pel_store_close(more[i]); test_rmdir_all(dm[i]); }
    pel_store_close(b);
    pel_store_close(c);
    test_rmdir_all(da);
    test_rmdir_all(db);
    test_rmdir_all(dc);
}

typedef struct one_get {
    pel_store *s;
    int ok;
} one_get;

static void *one_get_thread(void *arg)
{
    one_get *g = arg;
    pel_state st = pel_store_state(g->s);
    g->ok = state_is(&st, 3, "three") && state_is(&st, 4, NULL);
    return NULL;
}

/* With 4 LMDB reader slots, 40 short-lived threads only work if each
 * thread's reader is given back when it exits. */
static void exited_threads_give_readers_back(void)
{
    char *dir = tmpdir();
    pel_store *s = open_opts(dir, 64 * MIB, 4, 0);
    CHECK_EQ_INT(put_state(s, 3, "three", 5), 0);
    int ok = 0;
    for (int i = 0; i < 40; i++) {
        one_get g = { s, 0 };
        pthread_t th;
        if (pthread_create(&th, NULL, one_get_thread, &g) != 0) break;
        pthread_join(th, NULL);
        ok += g.ok;
    }
    CHECK_EQ_INT(ok, 40);
    /* two at once still work, and pel_store_get still finds a slot */
    CHECK(has(s, PEL_T_STATE, "nothing", NULL));
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* ---- concurrency: readers against 50 commits ---- */

#define CK 8            /* keys written by every commit */
#define CGENS 50

typedef struct conc {
    pel_store *s;
    atomic_uint_fast64_t started, done;   /* commits begun / returned */
    atomic_bool stop;
} conc;

typedef struct conc_thread {
    conc *c;
    uint64_t passes, quiet, bad, last;
} conc_thread;

/* A value: generation g (8 bytes BE) then its complement, so torn or
 * foreign bytes are caught. */
static void gen_val(uint8_t out[16], uint64_t g)
{
    be64(out, g);
    be64(out + 8, ~g);
}

/* read_pass - read all CK keys; 0 and the values in vals[], or -1. */
static int read_pass(pel_state *st, uint64_t vals[CK])
{
    for (int i = 0; i < CK; i++) {
        pel_key k = skey((uint64_t)i);
        pel_val v;
        if (pel_state_get(st, &k, &v) != 0 || v.len != 16) return -1;
        vals[i] = rd_be64(v.p);
        if (rd_be64(v.p + 8) != ~vals[i] || vals[i] > CGENS) return -1;
    }
    return 0;
}

/* check_pass - values never go backwards (within a pass or across passes of
 * this thread), are at least the generation known done before the pass, and
 * are all equal when no commit started during the pass. */
static void check_pass(conc_thread *t, uint64_t done_before)
{
    pel_state st = pel_store_state(t->c->s);
    uint64_t vals[CK];
    if (read_pass(&st, vals) != 0) { t->bad++; return; }
    uint64_t started_after = atomic_load_explicit(&t->c->started, memory_order_acquire);
    for (int i = 0; i < CK; i++) {
        if (vals[i] < t->last || vals[i] < done_before) t->bad++;
        t->last = vals[i];
    }
    if (started_after == done_before) {
        t->quiet++;
        for (int i = 0; i < CK; i++) if (vals[i] != done_before) t->bad++;
    }
    t->passes++;
}

static void *conc_reader(void *arg)
{
    conc_thread *t = arg;
    while (!atomic_load_explicit(&t->c->stop, memory_order_acquire))
        check_pass(t, atomic_load_explicit(&t->c->done, memory_order_acquire));
    /* stop is set after the last commit returned: this pass must see it */
    check_pass(t, atomic_load_explicit(&t->c->done, memory_order_acquire));
    if (t->last != CGENS) t->bad++;
    return NULL;
}

static int commit_gen(pel_store *s, uint64_t g)
{
    pel_store_txn *w;
    int rc = pel_store_begin(s, &w);
    if (rc) return rc;
    uint8_t val[16];
    gen_val(val, g);
    for (int i = 0; i < CK && !rc; i++) {
        pel_key k = skey((uint64_t)i);
        rc = pel_store_put(w, PEL_T_STATE, k.b, PEL_KEY_LEN, val, sizeof val);
    }
    if (rc) { pel_store_abort(w); return rc; }
    return pel_store_commit(w);
}

static void readers_during_commits(void)
{
    char *dir = tmpdir();
    conc c;
    c.s = open_rw(dir);
    atomic_init(&c.started, 0);
    atomic_init(&c.done, 0);
    atomic_init(&c.stop, false);
    CHECK_EQ_INT(commit_gen(c.s, 0), 0);
    conc_thread t[4];
    pthread_t th[4];
    int nth = 0;
    for (int i = 0; i < 4; i++) {
        t[i] = (conc_thread){ &c, 0, 0, 0, 0 };
        if (pthread_create(&th[i], NULL, conc_reader, &t[i]) == 0) nth++;
    }
    CHECK_EQ_INT(nth, 4);
    int fails = 0;
    for (uint64_t g = 1; g <= CGENS; g++) {
        atomic_store_explicit(&c.started, g, memory_order_release);
        fails += commit_gen(c.s, g) != 0;
        atomic_store_explicit(&c.done, g, memory_order_release);
        struct timespec pause = { 0, 1000000 };   /* quiet windows for the check */
        nanosleep(&pause, NULL);
    }
    atomic_store_explicit(&c.stop, true, memory_order_release);
    uint64_t passes = 0, quiet = 0, bad = 0;
    for (int i = 0; i < nth; i++) {
        pthread_join(th[i], NULL);
        passes += t[i].passes;
        quiet += t[i].quiet;
        bad += t[i].bad;
    }
    CHECK_EQ_INT(fails, 0);
    CHECK_EQ_INT(bad, 0);
    CHECK(passes > (uint64_t)nth);
    CHECK(quiet > 0);
    /* the engines' contract: idle readers, release, then commit */
    pel_store_release_readers(c.s);
    CHECK_EQ_INT(commit_gen(c.s, CGENS), 0);
    pel_store_close(c.s);
    test_rmdir_all(dir);
}

/* A reader that is never renewed pins its snapshot, so rewriting a big
 * value keeps allocating new pages; releasing lets LMDB reuse them. */
static off_t growth(int release)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    static uint8_t big[256 * 1024];
    memset(big, 0x5a, sizeof big);
    CHECK_EQ_INT(put_state(s, 9, big, sizeof big), 0);
    pel_state st = pel_store_state(s);
    pel_key k = skey(9);
    pel_val v;
    CHECK_EQ_INT(pel_state_get(&st, &k, &v), 0);
    for (int i = 0; i < 20; i++) {
        if (release) pel_store_release_readers(s);
        big[0] = (uint8_t)i;
        CHECK_EQ_INT(put_state(s, 9, big, sizeof big), 0);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    struct stat sb;
    CHECK_EQ_INT(stat(path, &sb), 0);
    pel_store_close(s);
    test_rmdir_all(dir);
    return sb.st_size;
}

static void release_readers_unpins_snapshots(void)
{
    off_t pinned = growth(0), released = growth(1);
    CHECK(pinned > 4 * 1024 * 1024);
    CHECK(released < 2 * 1024 * 1024);
}

/* ---- map full ---- */

static void map_full_then_recovers(void)
{
    char *dir = tmpdir();
    pel_store *s = open_opts(dir, 1 * MIB, 0, 0);
    CHECK_EQ_INT(put1(s, PEL_T_META, "before", "kept"), 0);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    static uint8_t val[4000];
    int rc = 0, n = 0;
    for (; n < 1000 && rc == 0; n++) {
        uint8_t key[8];
        be64(key, (uint64_t)n);
        memset(val, n, sizeof val);
        rc = pel_store_put(w, PEL_T_BLOCKS, key, 8, val, sizeof val);
    }
    CHECK_EQ_INT(rc, PEL_EMAPFULL);
    CHECK(n > 10 && n < 1000);
    /* the transaction is spoilt: it keeps failing and commits nothing */
    CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "x", 1, "y", 1), PEL_EMAPFULL);
    pel_store_abort(w);
    CHECK(has(s, PEL_T_META, "before", "kept"));
    CHECK_EQ_INT(put1(s, PEL_T_META, "after", "fine"), 0);
    CHECK(has(s, PEL_T_META, "after", "fine"));
    /* a commit of a failed transaction reports the failure */
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    for (rc = 0, n = 0; n < 1000 && rc == 0; n++) {
        uint8_t key[8];
        be64(key, (uint64_t)n);
        rc = pel_store_put(w, PEL_T_BLOCKS, key, 8, val, sizeof val);
    }
    CHECK_EQ_INT(pel_store_commit(w), PEL_EMAPFULL);
    pel_buf k;
    pel_buf_init(&k);
    CHECK_EQ_INT(pel_store_last(s, PEL_T_BLOCKS, &k, NULL), PEL_ENOTFOUND);
    pel_buf_free(&k);
    pel_store_close(s);
    /* reopening with a larger map lets the same writes through */
    s = open_opts(dir, 64 * MIB, 0, 0);
    CHECK(has(s, PEL_T_META, "after", "fine"));
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    for (rc = 0, n = 0; n < 1000 && rc == 0; n++) {
        uint8_t key[8];
        be64(key, (uint64_t)n);
        rc = pel_store_put(w, PEL_T_BLOCKS, key, 8, val, sizeof val);
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    pel_store_close(s);
    test_rmdir_all(dir);
}

/* ---- durability across kill -9 ---- */

static void record_val(uint8_t out[24], uint64_t i)
{
    memcpy(out, "record:", 8);
    be64(out + 8, i);
    be64(out + 16, i * 0x9e3779b97f4a7c15ull);
}

/* crash_child - commit seq = i and record i, from `start` on, reporting
 * each i on the pipe once its commit returned. Never returns. */
static void crash_child(const char *dir, uint64_t start, int wfd)
{
    pel_store *s;
    if (pel_store_open(dir, NULL, &s) != 0) _exit(2);
    for (uint64_t i = start;; i++) {
        uint8_t key[8], rec[24];
        be64(key, i);
        record_val(rec, i);
        pel_store_txn *w;
        if (pel_store_begin(s, &w) != 0) _exit(3);
        if (pel_store_put(w, PEL_T_META, "seq", 3, key, 8) != 0 ||
            pel_store_put(w, PEL_T_BLOCKS, key, 8, rec, sizeof rec) != 0) _exit(4);
        if (pel_store_commit(w) != 0) _exit(5);
        if (write(wfd, &i, sizeof i) != sizeof i) _exit(6);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* read_reports - read the child's numbers until `ms` pass (or EOF when ms
 * is negative); *last and *any track the greatest. */
static void read_reports(int fd, double ms, uint64_t *last, int *any)
{
    double end = now_ms() + ms;
    for (;;) {
        int wait = ms < 0 ? -1 : (int)(end - now_ms());
        if (ms >= 0 && wait <= 0) return;
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, wait) <= 0) { if (ms < 0) return; continue; }
        uint64_t i;
        ssize_t n = read(fd, &i, sizeof i);
        if (n <= 0) return;
        if (n == sizeof i && (!*any || i > *last)) { *last = i; *any = 1; }
    }
}

typedef struct rec_check { uint64_t next, bad; } rec_check;

static int rec_cb(void *arg, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    rec_check *c = arg;
    uint8_t want[24];
    record_val(want, c->next);
    if (klen != 8 || rd_be64(k) != c->next || vlen != 24 || memcmp(v, want, 24) != 0)
        c->bad++;
    c->next++;
    return 0;
}

/* verify_after_crash - seq is at least what the child reported and the
 * records are exactly 0..seq. Returns the next sequence number. */
static uint64_t verify_after_crash(const char *dir, uint64_t start, uint64_t last, int any)
{
    pel_store *s = open_rw(dir);
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_get(s, PEL_T_META, "seq", 3, &b);
    uint64_t next = start;
    if (rc == 0 && b.len == 8) next = rd_be64(b.data) + 1;
    CHECK(rc == 0 || (rc == PEL_ENOTFOUND && start == 0 && !any));
    CHECK(!any || next > last);
    CHECK(next >= start);
    rec_check c = { 0, 0 };
    CHECK_EQ_INT(pel_store_scan(s, PEL_T_BLOCKS, NULL, 0, NULL, 0, rec_cb, &c), 0);
    CHECK_EQ_INT(c.bad, 0);
    CHECK(c.next == next);    /* records 0..seq, and none after */
    pel_buf_free(&b);
    pel_store_close(s);
    return next;
}

static void survives_kill_9(void)
{
    uint64_t iters = test_env_u64("PEL_TEST_ITERS", 5);
    if (iters > 200) iters = 200;   /* ~60 ms a round: soak budgets suit faster tests */
    char *dir = tmpdir();
    uint64_t next = 0, reported = 0;
    for (uint64_t it = 0; it < iters; it++) {
        int fds[2];
        if (pipe(fds) != 0) { CHECK(0); break; }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) { close(fds[0]); crash_child(dir, next, fds[1]); }
        close(fds[1]);
        CHECK(pid > 0);
        if (pid < 0) { close(fds[0]); break; }
        uint64_t last = 0;
        int any = 0;
        read_reports(fds[0], (double)(20 + rnd() % 60), &last, &any);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        read_reports(fds[0], -1, &last, &any);   /* reported before dying */
        close(fds[0]);
        reported += any ? last + 1 - next : 0;
        next = verify_after_crash(dir, next, last, any);
    }
    CHECK(reported > 0);   /* the child did commit something */
    printf("crash rounds: %" PRIu64 ", %" PRIu64 " commits survived\n", iters, next);
    test_rmdir_all(dir);
}

/* Another thread's pel_store_get while a write transaction is open sees
 * the last commit and does not block. */
typedef struct side_get { pel_store *s; int ok; } side_get;

static void *side_get_thread(void *arg)
{
    side_get *g = arg;
    g->ok = has(g->s, PEL_T_META, "k", "committed");
    return NULL;
}

static void get_during_write_txn(void)
{
    char *dir = tmpdir();
    pel_store *s = open_rw(dir);
    CHECK_EQ_INT(put1(s, PEL_T_META, "k", "committed"), 0);
    pel_store_txn *w;
    CHECK_EQ_INT(pel_store_begin(s, &w), 0);
    CHECK_EQ_INT(pel_store_put(w, PEL_T_META, "k", 1, "staged", 6), 0);
    side_get g = { s, 0 };
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, side_get_thread, &g), 0);
    pthread_join(th, NULL);
    CHECK(g.ok);
    CHECK_EQ_INT(pel_store_commit(w), 0);
    CHECK(has(s, PEL_T_META, "k", "staged"));
    pel_store_close(s);
    test_rmdir_all(dir);
}

int main(void)
{
    seed_rnd("test_store");
    RUN(defaults_are_documented);
    RUN(round_trip_every_table);
    RUN(abort_discards_and_txn_get_sees_staged);
    RUN(scan_ranges_and_stop);
    RUN(last_on_empty_and_full_table);
    RUN(stats_count_entries_and_free_pages);
    RUN(append_only_after_the_last_key);
    RUN(append_cursor_and_other_writes);
    RUN(dump_and_clear);
    RUN(reopen_keeps_committed_data);
    RUN(key_length_limits);
    RUN(read_only_and_bad_opens);
    RUN(state_reader_follows_commits);
    RUN(state_readers_per_store);
    RUN(exited_threads_give_readers_back);
    RUN(get_during_write_txn);
    RUN(release_readers_unpins_snapshots);
    RUN(map_full_then_recovers);
    RUN(survives_kill_9);
    RUN(readers_during_commits);
    RUN(put_new_keeps_the_first);
    RUN(get_many_one_snapshot);
    RUN(snapshot_keeps_its_state);
    return TEST_END("test_store");
}
