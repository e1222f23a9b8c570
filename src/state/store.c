/*
 * store.c - the node's durable store on LMDB (see store.h).
 *
 * One environment, one named sub-database per pel_table, MDB_NOTLS so read
 * transactions belong to the store, not to a thread. Four kinds of reads:
 *   - pel_store_get / _last / _scan: a short read transaction per call;
 *   - pel_store_snap_*: one read transaction held for many gets;
 *   - pel_store_txn_get: inside the single write transaction;
 *   - pel_store_state(): long-lived per-thread read transactions, renewed
 *     lazily after a commit (the "reader" machinery in the last section).
 *
 * Reader lifetimes. A reader (one LMDB read txn plus its bookkeeping) is
 * owned jointly by the store's registry and by the thread-local cache of the
 * thread using it, with a reference count under the reader's mutex:
 *   - close aborts every registered txn, marks the readers closed and drops
 *     the store's reference; a thread's cache entry for a closed store is
 *     never matched again (store serials are unique per open) and is freed
 *     when evicted or when the thread exits;
 *   - a thread that exits resets its txns and gives its readers back to the
 *     registry, where the next new thread picks them up, so LMDB reader
 *     slots stay bounded by the number of live threads, not by how many
 *     threads ever called get().
 * Lock order: store->reg_mu, then reader->mu.
 */
#include "state/store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define DEFAULT_MAP_SIZE (64ull << 30)
#define DEFAULT_READERS 1024u
#define TCACHE_SLOTS 4      /* stores a thread can read at once without eviction */
#define CACHE_LINE 64

static const char *const table_names[PEL_T_COUNT] = {
    "meta", "blocks", "txs", "receipts", "state", "history", "smt", "checkpoints", "index",
};

typedef struct reader {
    pthread_mutex_t mu;     /* guards every field below except next */
    MDB_txn *txn;           /* NULL until first use and after close */
    uint64_t gen;           /* store generation the snapshot was taken at */
    bool active;            /* txn holds a snapshot (renewed, not reset) */
    bool in_use;            /* in some thread's cache */
    bool closed;            /* the store closed: txn aborted, env gone */
    int refs;               /* registry (until close) + the using thread */
    struct reader *next;    /* registry list, guarded by store->reg_mu */
} reader;

struct pel_store {
    MDB_env *env;
    MDB_dbi dbi[PEL_T_COUNT];
    bool have[PEL_T_COUNT];  /* false only for a table absent in a read-only open */
    bool read_only;
    size_t max_key;
    uint64_t serial;         /* unique per open in this process, never 0 */
    /* Commit generation, bumped after each successful commit. Release on
     * the bump, acquire in get(): a reader that sees generation g renews
     * after commit g happened-before, so its new snapshot includes it. */
    atomic_uint_fast64_t gen;
    atomic_bool writing;     /* a write txn is open on this handle */
    /* While set, readers keep the snapshot they have instead of renewing
     * after a commit (pel_store_hold_readers). Relaxed: it is set and
     * cleared by the thread that also resets the readers, under reg_mu and
     * each reader's mu, which order it against every get. */
    atomic_bool hold;
    pthread_mutex_t reg_mu;  /* guards readers */
    reader *readers;
    char *path;
};

struct pel_store_txn {
    pel_store *s;
    MDB_txn *txn;
    int err;                 /* first failure; LMDB refuses the txn after it */
    /* Appends go through one cursor left at the end of the table it last
     * appended to: LMDB then finds the end without a search from the root
     * (each level's page also searched in the transaction's dirty list),
     * about twice as fast an append (bench/RESULTS.md, tenth session). Any
     * other write in the transaction drops it, so it is only ever used
     * where its own appends left it. */
    MDB_cursor *app;
    pel_table app_t;
};

/* ---- errors ---- */

static int map_err(int mrc)
{
    switch (mrc) {
    case MDB_NOTFOUND: return PEL_ENOTFOUND;
    case MDB_MAP_FULL: return PEL_EMAPFULL;
    case ENOMEM: return PEL_ENOMEM;
    case MDB_BAD_VALSIZE: return PEL_EINVAL;
    default: return PEL_EIO;
    }
}

/* lmdb_fail - log an LMDB failure (not MDB_NOTFOUND, which is an answer)
 * and return its PEL code. */
static int lmdb_fail(const char *path, const char *what, int mrc)
{
    if (mrc != MDB_NOTFOUND)
        pel_log(PEL_LOG_ERROR, "store %s: %s: %s", path, what, mdb_strerror(mrc));
    return map_err(mrc);
}

static int check_key(const pel_store *s, const void *key, size_t klen)
{
    return key && klen > 0 && klen <= s->max_key ? 0 : PEL_EINVAL;
}

static int check_table(pel_table t)
{
    return (unsigned)t < PEL_T_COUNT ? 0 : PEL_EINVAL;
}

static int copy_out(pel_buf *out, const MDB_val *v)
{
    if (!out) return 0;
    pel_buf_reset(out);
    return pel_buf_append(out, v->mv_data, v->mv_size);
}

/* ---- open and close ---- */

pel_store_opts pel_store_defaults(void)
{
    pel_store_opts o = { DEFAULT_MAP_SIZE, DEFAULT_READERS, 0, 0 };
    return o;
}

/* Unique per open so that a thread's cached reader of a closed store is
 * never mistaken for one of a new store at the same address. Relaxed: only
 * uniqueness matters. */
static atomic_uint_fast64_t next_serial;

static int env_open(pel_store *s, const char *dir, const pel_store_opts *o)
{
    int mrc = mdb_env_create(&s->env);
    if (mrc) return lmdb_fail(dir, "mdb_env_create", mrc);
    if ((mrc = mdb_env_set_mapsize(s->env, (size_t)o->map_size)) != 0 ||
        (mrc = mdb_env_set_maxreaders(s->env, o->max_readers)) != 0 ||
        (mrc = mdb_env_set_maxdbs(s->env, PEL_T_COUNT)) != 0)
        return lmdb_fail(dir, "configure environment", mrc);
    unsigned flags = MDB_NOTLS | (o->read_only ? MDB_RDONLY : 0) | (o->scratch ? MDB_NOSYNC : 0);
    if ((mrc = mdb_env_open(s->env, dir, flags, 0600)) != 0)
        return lmdb_fail(dir, "mdb_env_open", mrc);
    int dead = 0;
    if (!o->read_only && mdb_reader_check(s->env, &dead) == 0 && dead > 0)
        pel_log(PEL_LOG_INFO, "store %s: cleared %d stale reader slots", dir, dead);
    s->max_key = (size_t)mdb_env_get_maxkeysize(s->env);
    return 0;
}

/* open_tables - create the tables (read-write) or open those that exist
 * (read-only: an absent table reads as empty). */
static int open_tables(pel_store *s)
{
    MDB_txn *txn;
    int mrc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
    if (mrc) return lmdb_fail(s->path, "begin (open tables)", mrc);
    for (int t = 0; t < PEL_T_COUNT; t++) {
        mrc = mdb_dbi_open(txn, table_names[t], s->read_only ? 0 : MDB_CREATE, &s->dbi[t]);
        if (mrc == MDB_NOTFOUND && s->read_only) continue;
        if (mrc) {
            mdb_txn_abort(txn);
            return lmdb_fail(s->path, table_names[t], mrc);
        }
        s->have[t] = true;
    }
    if ((mrc = mdb_txn_commit(txn)) != 0)
        return lmdb_fail(s->path, "commit (open tables)", mrc);
    return 0;
}

int pel_store_open(const char *dir, const pel_store_opts *opts, pel_store **out)
{
    *out = NULL;
    pel_store_opts o = opts ? *opts : pel_store_defaults();
    if (!o.map_size) o.map_size = DEFAULT_MAP_SIZE;
    if (!o.max_readers) o.max_readers = DEFAULT_READERS;
    if (!*dir || o.map_size > SIZE_MAX) return PEL_EINVAL;
    pel_store *s = calloc(1, sizeof *s);
    if (!s) return PEL_ENOMEM;
    int rc = PEL_ENOMEM;
    if (!(s->path = strdup(dir))) goto fail;
    if (pthread_mutex_init(&s->reg_mu, NULL) != 0) { free(s->path); goto fail; }
    s->read_only = o.read_only != 0;
    atomic_init(&s->gen, 0);
    atomic_init(&s->writing, false);
    atomic_init(&s->hold, false);
    s->serial = atomic_fetch_add_explicit(&next_serial, 1, memory_order_relaxed) + 1;
    if ((rc = env_open(s, dir, &o)) != 0 || (rc = open_tables(s)) != 0) {
        mdb_env_close(s->env);   /* NULL-safe in LMDB 0.9 */
        pthread_mutex_destroy(&s->reg_mu);
        free(s->path);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    free(s);
    return rc;
}

static void reader_free(reader *r)
{
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* reader_drop - release one reference; the last one frees. Called with
 * r->mu held; unlocks it. */
static void reader_drop(reader *r)
{
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (last) reader_free(r);
}

void pel_store_close(pel_store *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->reg_mu);
    reader *r = s->readers;
    s->readers = NULL;
    pthread_mutex_unlock(&s->reg_mu);
    while (r) {
        reader *next = r->next;   /* read before the reference goes */
        pthread_mutex_lock(&r->mu);
        if (r->txn) mdb_txn_abort(r->txn);
        r->txn = NULL;
        r->active = false;
        r->closed = true;
        reader_drop(r);
        r = next;
    }
    mdb_env_close(s->env);
    pthread_mutex_destroy(&s->reg_mu);
    free(s->path);
    free(s);
}

const char *pel_store_path(const pel_store *s)
{
    return s->path;
}

/* ---- short reads ---- */

static int read_begin(pel_store *s, MDB_txn **txn)
{
    int mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
    return mrc ? lmdb_fail(s->path, "begin read", mrc) : 0;
}

static int lookup(pel_store *s, MDB_txn *txn, pel_table t, const void *key,
                  size_t klen, MDB_val *v)
{
    if (!s->have[t]) return PEL_ENOTFOUND;
    MDB_val k = { klen, (void *)key };
    int mrc = mdb_get(txn, s->dbi[t], &k, v);
    return mrc ? lmdb_fail(s->path, table_names[t], mrc) : 0;
}

int pel_store_get(pel_store *s, pel_table t, const void *key, size_t klen, pel_buf *out)
{
    int found;
    int rc = pel_store_get_many(s, t, &key, klen, 1, out, &found);
    return rc ? rc : found;
}

int pel_store_get_many(pel_store *s, pel_table t, const void *const *keys, size_t klen,
                       size_t n, pel_buf *out, int *rcs)
{
    int rc = check_table(t);
    for (size_t i = 0; i < n; i++) {
        pel_buf_reset(&out[i]);
        rcs[i] = PEL_ENOTFOUND;
        if (!rc) rc = check_key(s, keys[i], klen);
    }
    MDB_txn *txn = NULL;
    if (!rc && n) rc = read_begin(s, &txn);
    for (size_t i = 0; !rc && i < n; i++) {
        MDB_val v;
        rcs[i] = lookup(s, txn, t, keys[i], klen, &v);
        if (rcs[i] == 0) rc = copy_out(&out[i], &v);   /* before abort: v points into the map */
        else if (rcs[i] != PEL_ENOTFOUND) rc = rcs[i];
    }
    if (txn) mdb_txn_abort(txn);
    for (size_t i = 0; rc && i < n; i++) pel_buf_reset(&out[i]);
    return rc;
}

/* ---- snapshots ---- */

struct pel_store_snap {
    pel_store *s;
    MDB_txn *txn;
};

int pel_store_snap_begin(pel_store *s, pel_store_snap **out)
{
    *out = NULL;
    pel_store_snap *r = malloc(sizeof *r);
    if (!r) return PEL_ENOMEM;
    r->s = s;
    int rc = read_begin(s, &r->txn);
    if (rc) { free(r); return rc; }
    *out = r;
    return 0;
}

int pel_store_snap_get(pel_store_snap *r, pel_table t, const void *key, size_t klen,
                       const uint8_t **val, size_t *len)
{
    *val = NULL;
    *len = 0;
    int rc = check_table(t);
    if (!rc) rc = check_key(r->s, key, klen);
    MDB_val v;
    if (!rc) rc = lookup(r->s, r->txn, t, key, klen, &v);
    if (rc) return rc;
    *val = v.mv_data;
    *len = v.mv_size;
    return 0;
}

void pel_store_snap_end(pel_store_snap *r)
{
    if (!r) return;
    mdb_txn_abort(r->txn);
    free(r);
}

const char *pel_store_table_name(pel_table t)
{
    return (unsigned)t < PEL_T_COUNT ? table_names[t] : "?";
}

static void table_stats(const MDB_stat *st, pel_store_table_stats *out)
{
    out->entries = st->ms_entries;
    out->branch_pages = st->ms_branch_pages;
    out->leaf_pages = st->ms_leaf_pages;
    out->overflow_pages = st->ms_overflow_pages;
    out->depth = st->ms_depth;
}

/* free_pages - pages on LMDB's free list as of txn: the free-list table
 * (dbi 0) maps a transaction id to the page numbers it freed, a count
 * followed by the numbers. */
static int free_pages(MDB_txn *txn, uint64_t *out)
{
    MDB_cursor *c;
    MDB_val k, v;
    *out = 0;
    int mrc = mdb_cursor_open(txn, 0, &c);
    if (mrc) return mrc;
    while ((mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
        size_t n = 0;   /* LMDB's ID list: its count first (maybe unaligned here) */
        if (v.mv_size >= sizeof n) memcpy(&n, v.mv_data, sizeof n);
        *out += n;
    }
    mdb_cursor_close(c);
    return mrc == MDB_NOTFOUND ? 0 : mrc;
}

int pel_store_get_stats(pel_store *s, pel_store_stats *out)
{
    MDB_envinfo info;
    MDB_stat st;
    MDB_txn *txn = NULL;
    memset(out, 0, sizeof *out);
    int rc = read_begin(s, &txn);
    if (rc) return rc;
    /* after the begin: the file's last page is at least this snapshot's */
    int mrc = mdb_env_info(s->env, &info);
    if (!mrc) mrc = mdb_env_stat(s->env, &st);
    if (!mrc) {
        out->page_size = st.ms_psize;
        out->map_size = info.me_mapsize;
        out->pages_used = info.me_last_pgno + 1;
        out->readers = info.me_numreaders;
        out->max_readers = info.me_maxreaders;
        out->last_txn = mdb_txn_id(txn);
    }
    for (int t = 0; !mrc && t < PEL_T_COUNT; t++)
        if (s->have[t] && (mrc = mdb_stat(txn, s->dbi[t], &st)) == 0) table_stats(&st, &out->t[t]);
    if (!mrc) mrc = free_pages(txn, &out->free_pages);
    mdb_txn_abort(txn);
    return mrc ? lmdb_fail(s->path, "stats", mrc) : 0;
}

/* last_of - the last record of table dbi in txn; an MDB code. */
static int last_of(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
    MDB_cursor *c;
    int mrc = mdb_cursor_open(txn, dbi, &c);
    if (mrc) return mrc;
    mrc = mdb_cursor_get(c, k, v, MDB_LAST);
    mdb_cursor_close(c);
    return mrc;
}

int pel_store_last(pel_store *s, pel_table t, pel_buf *key_out, pel_buf *val_out)
{
    if (key_out) pel_buf_reset(key_out);
    if (val_out) pel_buf_reset(val_out);
    int rc = check_table(t);
    if (rc) return rc;
    if (!s->have[t]) return PEL_ENOTFOUND;
    MDB_txn *txn;
    if ((rc = read_begin(s, &txn)) != 0) return rc;
    MDB_val k, v;
    int mrc = last_of(txn, s->dbi[t], &k, &v);
    if (mrc) rc = lmdb_fail(s->path, "last", mrc);
    if (!rc) rc = copy_out(key_out, &k);
    if (!rc) rc = copy_out(val_out, &v);
    mdb_txn_abort(txn);
    if (rc && key_out) pel_buf_reset(key_out);
    if (rc && val_out) pel_buf_reset(val_out);
    return rc;
}

/* scan_cursor - the loop of pel_store_scan. `to` NULL means unbounded; keys
 * are compared with mdb_cmp so the bound uses the table's own order. */
static int scan_cursor(pel_store *s, MDB_txn *txn, MDB_cursor *c, pel_table t,
                       MDB_val *from, const MDB_val *to, pel_store_scan_fn fn, void *arg)
{
    MDB_val k = from ? *from : (MDB_val){0, NULL}, v;
    int mrc = mdb_cursor_get(c, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
    for (; mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (to && mdb_cmp(txn, s->dbi[t], &k, to) >= 0) return 0;
        int rc = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
        if (rc) return rc < 0 ? rc : 0;
    }
    return mrc == MDB_NOTFOUND ? 0 : lmdb_fail(s->path, "scan", mrc);
}

int pel_store_scan(pel_store *s, pel_table t, const void *from, size_t from_len,
                   const void *to, size_t to_len, pel_store_scan_fn fn, void *arg)
{
    if (check_table(t) || (from && from_len > s->max_key) ||
        (!from && from_len) || (!to && to_len))
        return PEL_EINVAL;
    if (!s->have[t] || (to && to_len == 0)) return 0;   /* nothing is < "" */
    MDB_val f = { from_len, (void *)from }, e = { to_len, (void *)to };
    MDB_txn *txn;
    int rc = read_begin(s, &txn);
    if (rc) return rc;
    MDB_cursor *c;
    int mrc = mdb_cursor_open(txn, s->dbi[t], &c);
    if (mrc) {
        rc = lmdb_fail(s->path, "cursor", mrc);
    } else {
        /* An empty lower bound is below every key: scan from the first. */
        rc = scan_cursor(s, txn, c, t, from_len ? &f : NULL, to ? &e : NULL, fn, arg);
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    return rc;
}

/* ---- a consistent copy of everything ---- */

static int dump_table(pel_store *s, MDB_txn *txn, pel_table t, pel_store_dump_fn fn, void *arg)
{
    MDB_cursor *c;
    MDB_val k, v;
    if (!s->have[t]) return 0;
    int mrc = mdb_cursor_open(txn, s->dbi[t], &c);
    if (mrc) return lmdb_fail(s->path, "cursor", mrc);
    int rc = 0;
    for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc && mrc == 0;
         mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        rc = fn(arg, t, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
    mdb_cursor_close(c);
    if (!rc && mrc != MDB_NOTFOUND) rc = lmdb_fail(s->path, "dump", mrc);
    return rc;
}

int pel_store_dump(pel_store *s, pel_store_dump_fn fn, void *arg)
{
    MDB_txn *txn = NULL;
    int rc = read_begin(s, &txn);
    for (int t = 0; !rc && t < PEL_T_COUNT; t++) rc = dump_table(s, txn, (pel_table)t, fn, arg);
    if (txn) mdb_txn_abort(txn);
    return rc;
}

/* ---- the write transaction ---- */

int pel_store_begin(pel_store *s, pel_store_txn **out)
{
    *out = NULL;
    if (s->read_only) return PEL_EINVAL;
    bool idle = false;
    /* acq_rel: acquire pairs with the release in txn_end, so this thread
     * sees everything the previous writer did with the handle. */
    if (!atomic_compare_exchange_strong_explicit(&s->writing, &idle, true,
                                                 memory_order_acq_rel,
                                                 memory_order_relaxed))
        return PEL_EINVAL;
    pel_store_txn *w = malloc(sizeof *w);
    int mrc = 0;
    if (w) mrc = mdb_txn_begin(s->env, NULL, 0, &w->txn);
    if (!w || mrc) {
        free(w);
        atomic_store_explicit(&s->writing, false, memory_order_release);
        return w ? lmdb_fail(s->path, "begin write", mrc) : PEL_ENOMEM;
    }
    w->s = s;
    w->err = 0;
    w->app = NULL;
    *out = w;
    return 0;
}

/* drop_append - close the append cursor (before any other write, and
 * before the transaction ends). */
static void drop_append(pel_store_txn *w)
{
    if (w->app) mdb_cursor_close(w->app);
    w->app = NULL;
}

/* stage_check - arguments of put/del/txn_get; a txn that already failed
 * keeps returning its first error (LMDB would refuse it anyway). */
static int stage_check(const pel_store_txn *w, pel_table t, const void *key, size_t klen)
{
    if (check_table(t) || check_key(w->s, key, klen)) return PEL_EINVAL;
    return w->err;
}

static int stage_fail(pel_store_txn *w, const char *what, int mrc)
{
    int rc = lmdb_fail(w->s->path, what, mrc);
    if (rc != PEL_EINVAL) w->err = rc;   /* a refused argument leaves the txn usable */
    return rc;
}

static int put_flags(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                     const void *val, size_t vlen, unsigned flags)
{
    int rc = stage_check(w, t, key, klen);
    if (rc) return rc;
    if (!val && vlen) return PEL_EINVAL;
    MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
    int mrc;
    if (flags & MDB_APPEND) {
        if (w->app && w->app_t != t) drop_append(w);
        if (!w->app) {
            if ((mrc = mdb_cursor_open(w->txn, w->s->dbi[t], &w->app)) != 0) {
                w->app = NULL;
                return stage_fail(w, "append", mrc);
            }
            w->app_t = t;
        }
        mrc = mdb_cursor_put(w->app, &k, &v, flags);
        if (mrc) drop_append(w);
    } else {
        drop_append(w);
        mrc = mdb_put(w->txn, w->s->dbi[t], &k, &v, flags);
    }
    if (mrc == MDB_KEYEXIST && flags) return PEL_EEXIST;  /* not after the last key, or there: nothing written */
    return mrc ? stage_fail(w, flags & MDB_APPEND ? "append" : "put", mrc) : 0;
}

int pel_store_put(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
    return put_flags(w, t, key, klen, val, vlen, 0);
}

int pel_store_put_new(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                      const void *val, size_t vlen)
{
    return put_flags(w, t, key, klen, val, vlen, MDB_NOOVERWRITE);
}

int pel_store_append(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                     const void *val, size_t vlen)
{
    return put_flags(w, t, key, klen, val, vlen, MDB_APPEND);
}

int pel_store_txn_below(pel_store_txn *w, pel_table t, const void *key, size_t klen)
{
    int rc = stage_check(w, t, key, klen);
    if (rc) return rc;
    MDB_val k, v, b = { klen, (void *)key };
    int mrc = last_of(w->txn, w->s->dbi[t], &k, &v);
    if (mrc == MDB_NOTFOUND) return 1;
    if (mrc) return stage_fail(w, "last", mrc);
    return mdb_cmp(w->txn, w->s->dbi[t], &k, &b) < 0;
}

int pel_store_del(pel_store_txn *w, pel_table t, const void *key, size_t klen)
{
    int rc = stage_check(w, t, key, klen);
    if (rc) return rc;
    MDB_val k = { klen, (void *)key };
    drop_append(w);
    int mrc = mdb_del(w->txn, w->s->dbi[t], &k, NULL);
    if (mrc == MDB_NOTFOUND) return 0;
    return mrc ? stage_fail(w, "del", mrc) : 0;
}

int pel_store_clear(pel_store_txn *w, pel_table t)
{
    if (check_table(t)) return PEL_EINVAL;
    if (w->err) return w->err;
    drop_append(w);
    int mrc = mdb_drop(w->txn, w->s->dbi[t], 0);    /* 0: empty it, keep the handle */
    return mrc ? stage_fail(w, "clear", mrc) : 0;
}

int pel_store_txn_get(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                      pel_buf *out)
{
    pel_buf_reset(out);
    int rc = stage_check(w, t, key, klen);
    MDB_val v;
    if (!rc) rc = lookup(w->s, w->txn, t, key, klen, &v);
    if (!rc) rc = copy_out(out, &v);
    if (rc) pel_buf_reset(out);
    return rc;
}

static void txn_end(pel_store_txn *w)
{
    atomic_store_explicit(&w->s->writing, false, memory_order_release);
    free(w);
}

int pel_store_commit(pel_store_txn *w)
{
    pel_store *s = w->s;
    int rc = w->err;
    drop_append(w);
    if (rc) {
        mdb_txn_abort(w->txn);
    } else {
        int mrc = mdb_txn_commit(w->txn);   /* frees the txn whatever happens */
        if (mrc) rc = lmdb_fail(s->path, "commit", mrc);
    }
    if (!rc) atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
    txn_end(w);
    return rc;
}

void pel_store_abort(pel_store_txn *w)
{
    if (!w) return;
    drop_append(w);
    mdb_txn_abort(w->txn);
    txn_end(w);
}

/* ---- per-thread readers for pel_store_state ---- */

typedef struct tentry {
    uint64_t serial;     /* 0: free */
    reader *r;
} tentry;

/* The thread's cache: a few (store serial, reader) pairs. Only this thread
 * touches it; the readers it points to are shared and locked. */
static _Thread_local tentry tcache[TCACHE_SLOTS];
static _Thread_local bool tcache_armed;

/* A pthread key used only for its destructor, which gives the thread's
 * readers back when it exits. Created once, never deleted. */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static int exit_key_err;

/* detach - this thread stops using e->r: drop the snapshot and hand the
 * reader back to its store (or free it if the store closed). */
static void detach(tentry *e)
{
    reader *r = e->r;
    e->serial = 0;
    e->r = NULL;
    pthread_mutex_lock(&r->mu);
    if (!r->closed) {
        if (r->active) mdb_txn_reset(r->txn);   /* keeps the slot for reuse */
        r->active = false;
        r->in_use = false;
    }
    reader_drop(r);
}

static void on_thread_exit(void *unused)
{
    (void)unused;
    for (int i = 0; i < TCACHE_SLOTS; i++)
        if (tcache[i].serial) detach(&tcache[i]);
}

static void make_exit_key(void)
{
    exit_key_err = pthread_key_create(&exit_key, on_thread_exit);
}

static int arm_exit_hook(void)
{
    if (tcache_armed) return 0;
    pthread_once(&exit_once, make_exit_key);
    if (exit_key_err || pthread_setspecific(exit_key, (void *)1) != 0)
        return PEL_ENOMEM;
    tcache_armed = true;
    return 0;
}

/* registry_take - a reader of s for this thread: one given back by an
 * exited thread, else a new one. */
static int registry_take(pel_store *s, reader **out)
{
    pthread_mutex_lock(&s->reg_mu);
    for (reader *r = s->readers; r; r = r->next) {
        pthread_mutex_lock(&r->mu);
        bool free_one = !r->in_use;
        if (free_one) { r->in_use = true; r->refs++; }
        pthread_mutex_unlock(&r->mu);
        if (free_one) { *out = r; pthread_mutex_unlock(&s->reg_mu); return 0; }
    }
    reader *r = NULL;
    if (posix_memalign((void **)&r, CACHE_LINE, sizeof *r) != 0) r = NULL;
    if (r) {
        memset(r, 0, sizeof *r);
        if (pthread_mutex_init(&r->mu, NULL) != 0) { free(r); r = NULL; }
    }
    if (r) {
        r->in_use = true;
        r->refs = 2;             /* registry + this thread */
        r->next = s->readers;
        s->readers = r;
    }
    pthread_mutex_unlock(&s->reg_mu);
    *out = r;
    return r ? 0 : PEL_ENOMEM;
}

/* free_slot - an empty cache slot: first reclaim entries of closed stores,
 * else evict one entry, round robin (a thread reading more than
 * TCACHE_SLOTS stores at once just renews more often). */
static tentry *free_slot(void)
{
    static _Thread_local unsigned victim;
    tentry *empty = NULL;
    for (int i = 0; i < TCACHE_SLOTS; i++) {
        tentry *e = &tcache[i];
        if (e->serial) {
            pthread_mutex_lock(&e->r->mu);
            bool closed = e->r->closed;
            pthread_mutex_unlock(&e->r->mu);
            if (closed) detach(e);
        }
        if (!e->serial && !empty) empty = e;
    }
    if (empty) return empty;
    tentry *e = &tcache[victim++ % TCACHE_SLOTS];
    detach(e);
    return e;
}

static int thread_reader(pel_store *s, reader **out)
{
    for (int i = 0; i < TCACHE_SLOTS; i++)
        if (tcache[i].serial == s->serial) { *out = tcache[i].r; return 0; }
    int rc = arm_exit_hook();
    if (rc) return rc;
    tentry *e = free_slot();
    if ((rc = registry_take(s, out)) != 0) return rc;
    e->serial = s->serial;
    e->r = *out;
    return 0;
}

/* fresh - make r's snapshot at least as new as the last commit this thread
 * can see. The generation is read before renewing, so r->gen never claims a
 * snapshot newer than the one held (a commit racing the renew just costs
 * one more renew later). Called with r->mu held. */
static int fresh(pel_store *s, reader *r)
{
    uint64_t g = atomic_load_explicit(&s->gen, memory_order_acquire);
    if (r->active && (r->gen == g || atomic_load_explicit(&s->hold, memory_order_relaxed)))
        return 0;
    int mrc;
    if (!r->txn) {
        mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
        if (mrc) r->txn = NULL;
    } else {
        if (r->active) mdb_txn_reset(r->txn);
        r->active = false;
        mrc = mdb_txn_renew(r->txn);
    }
    if (mrc) return lmdb_fail(s->path, "begin state reader", mrc);
    r->active = true;
    r->gen = g;
    return 0;
}

static int state_get(const void *ctx, const pel_key *key, pel_val *out)
{
    pel_store *s = (pel_store *)ctx;
    out->p = NULL;
    out->len = 0;
    reader *r;
    int rc = thread_reader(s, &r);
    if (rc) return rc;
    pthread_mutex_lock(&r->mu);
    rc = fresh(s, r);
    MDB_val v;
    if (!rc) rc = lookup(s, r->txn, PEL_T_STATE, key->b, PEL_KEY_LEN, &v);
    pthread_mutex_unlock(&r->mu);
    if (!rc && v.mv_size > UINT32_MAX) rc = PEL_ECORRUPT;
    if (rc) return rc;
    out->p = v.mv_data;
    out->len = (uint32_t)v.mv_size;
    return 0;
}

void pel_store_hold_readers(pel_store *s, int hold)
{
    pel_store_release_readers(s);
    atomic_store_explicit(&s->hold, hold != 0, memory_order_relaxed);
    pel_store_release_readers(s);
}

pel_state pel_store_state(pel_store *s)
{
    pel_state st = { state_get, s };
    return st;
}

void pel_store_release_readers(pel_store *s)
{
    pthread_mutex_lock(&s->reg_mu);
    for (reader *r = s->readers; r; r = r->next) {
        pthread_mutex_lock(&r->mu);
        if (r->active) mdb_txn_reset(r->txn);
        r->active = false;
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_unlock(&s->reg_mu);
}
