/*
 * store.h - the node's durable store: one LMDB environment.
 *
 * Named tables (LMDB sub-databases), all with byte-string keys:
 *   META      small records (head height, chain id, ...)
 *   BLOCKS    height (u64 big-endian) -> block record
 *   TXS       tx id -> location (height, index)
 *   RECEIPTS  (height BE u64 ‖ index BE u32) -> receipt
 *   STATE     32-byte state key -> value (the ledger state)
 *   HISTORY, SMT, CHECKPOINTS   the authenticated structures (their
 *             modules document their records)
 *   INDEX     secondary indexes for queries (node/objindex.h): derived
 *             from the blocks, not authenticated, rebuilt when missing
 * The ledger and node decide what the records contain; the store only
 * stores bytes.
 *
 * Durability: a block is committed with one write transaction
 * (pel_store_begin ... pel_store_commit); commit returns only after LMDB
 * has synced the data file (no MDB_NOSYNC / MDB_NOMETASYNC), so after a
 * crash at any moment the store holds every transaction whose commit
 * returned, plus possibly the one whose commit was under way (whole or not
 * at all). One write transaction at a time (the caller serialises).
 *
 * Reads: pel_store_get copies a value out under a short read transaction
 * and may be called from any thread at any time, also while a write
 * transaction is open. pel_store_state() gives the engines a pel_state over
 * the STATE table; see its comment for how it stays safe for concurrent
 * readers.
 *
 * Thread safety: the store handle is shared between threads; the rules
 * above say which calls may overlap.
 *
 * Process rules (LMDB's): open a directory at most once per process at a
 * time (closing a second handle would drop the first one's file locks), and
 * never use a store across fork(): open it in the process that uses it.
 * Several processes may open the same directory; a read-only open is how
 * tools read a live node's store.
 *
 * Reader slots: LMDB has max_readers of them per environment. Each thread
 * that has called the pel_store_state() get holds one while it lives (given
 * back when it exits), and each pel_store_get / _last / _scan call holds one
 * for its duration; size max_readers for both.
 */
#ifndef PEL_STORE_H
#define PEL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "exec/state.h"

typedef enum pel_table {
    PEL_T_META = 0,
    PEL_T_BLOCKS,
    PEL_T_TXS,
    PEL_T_RECEIPTS,
    PEL_T_STATE,
    PEL_T_HISTORY,      /* RFC 9162 history tree nodes (state/history.h) */
    PEL_T_SMT,          /* versioned state-tree nodes (state/smt.h) */
    PEL_T_CHECKPOINTS,  /* height (u64 BE) -> signed checkpoint note */
    PEL_T_INDEX,        /* the node's query indexes (node/objindex.h) */
    PEL_T_COUNT
} pel_table;

typedef struct pel_store_opts {
    uint64_t map_size;      /* bytes of address space (default 64 GiB); the
                               file grows as needed up to this */
    unsigned max_readers;   /* default 1024 */
    int read_only;          /* open without the write lock (tools) */
    int scratch;            /* no fsync at commit (MDB_NOSYNC): only for
                               throw-away stores (replay checks, benchmarks)
                               whose loss in a crash does not matter */
} pel_store_opts;

pel_store_opts pel_store_defaults(void);

typedef struct pel_store pel_store;

/*
 * pel_store_open - open or create the environment in directory `dir`
 * (which must exist; files data.mdb and lock.mdb are created inside, mode
 * 0600). opts NULL means pel_store_defaults(); a zero map_size or
 * max_readers means its default. A read-write open creates the tables and
 * clears reader slots left by crashed processes; a read-only open never
 * creates anything (a missing environment is PEL_EIO; a missing table reads
 * as empty).
 * @param[out] out  the store, NULL on failure; close with pel_store_close
 * @return 0, PEL_EIO (message logged with the LMDB reason and path),
 *         PEL_ENOMEM, PEL_EINVAL (empty dir, map_size over SIZE_MAX).
 */
int pel_store_open(const char *dir, const pel_store_opts *opts, pel_store **out)
    PEL_MUST_USE PEL_NONNULL(1, 3);

/* pel_store_close - close; every reader from pel_store_state must be idle,
 * no other call on s in progress, and no write transaction open. Aborts
 * every read transaction the store handed to threads. NULL is fine. */
void pel_store_close(pel_store *s);

/*
 * pel_store_get - copy the value of key in table t into `out` (reset first;
 * left empty on failure). Thread-safe.
 * @return 0, PEL_ENOTFOUND, PEL_ENOMEM, PEL_EIO, PEL_EINVAL (t out of
 *         range, klen 0 or over 511).
 */
int pel_store_get(pel_store *s, pel_table t, const void *key, size_t klen, pel_buf *out)
    PEL_MUST_USE PEL_NONNULL(1, 3, 5);

/*
 * pel_store_get_many - pel_store_get of keys[0..n) (each klen bytes) of
 * table t in one read transaction: one snapshot (the values are of the
 * same committed state) and one reader-slot setup instead of n.
 * rcs[i] = 0 with out[i] the value, or PEL_ENOTFOUND with out[i] empty.
 * Thread-safe.
 * @return 0; PEL_ENOMEM, PEL_EIO, PEL_EINVAL (as pel_store_get) with every
 *         out[i] empty.
 */
int pel_store_get_many(pel_store *s, pel_table t, const void *const *keys, size_t klen,
                       size_t n, pel_buf *out, int *rcs) PEL_MUST_USE PEL_NONNULL(1, 3, 6, 7);

/*
 * pel_store_snap - one committed state held open for many reads: one read
 * transaction (one reader-slot set-up instead of one a get) whose values are
 * returned in place, not copied. A snapshot is used by one thread at a time
 * (any thread: the store opens LMDB with MDB_NOTLS) and pins the pages of
 * its state until it ends, so hold it for one task, not across commits
 * that should free space. Begin and end are thread-safe.
 */
typedef struct pel_store_snap pel_store_snap;

/* pel_store_snap_begin - a snapshot of the last committed state into *out.
 * @return 0, PEL_ENOMEM, PEL_EIO (e.g. no reader slot left). */
int pel_store_snap_begin(pel_store *s, pel_store_snap **out) PEL_MUST_USE PEL_NONNULL(1, 2);

/* pel_store_snap_get - the value of key in table t: *val points into the
 * snapshot (valid until pel_store_snap_end, never to be written), *len its
 * length; NULL and 0 on failure.
 * @return 0, PEL_ENOTFOUND, PEL_EIO, PEL_EINVAL (as pel_store_get). */
int pel_store_snap_get(pel_store_snap *r, pel_table t, const void *key, size_t klen,
                       const uint8_t **val, size_t *len) PEL_MUST_USE PEL_NONNULL(1, 3, 5, 6);

/* pel_store_snap_end - end the snapshot and free r; its values are then
 * invalid. NULL is fine. */
void pel_store_snap_end(pel_store_snap *r);

/*
 * pel_store_last - the greatest key in table t and its value (for the head
 * of BLOCKS). key_out / val_out reset first (left empty on failure); either
 * may be NULL. Thread-safe.
 * @return 0, PEL_ENOTFOUND (empty table), PEL_ENOMEM, PEL_EIO,
 *         PEL_EINVAL (t out of range).
 */
int pel_store_last(pel_store *s, pel_table t, pel_buf *key_out, pel_buf *val_out)
    PEL_MUST_USE PEL_NONNULL(1);

/*
 * pel_store_scan - call fn for every (key, value) of table t with
 * from <= key < to in key order (from/to NULL = unbounded), under one read
 * transaction; the pointers are valid only during the call. Keys order as
 * bytes (memcmp, then shorter first). An empty `from` (from_len 0) is below
 * every key; an empty `to` gives nothing. fn returns 0 to go on, a positive
 * value to stop, or a negative code that pel_store_scan returns; it may
 * call the other read functions, not the write ones. Thread-safe.
 * @return 0, fn's negative code, PEL_EIO, PEL_EINVAL (t out of range,
 *         from_len over 511, a NULL bound with a non-zero length).
 */
typedef int (*pel_store_scan_fn)(void *arg, const uint8_t *k, size_t klen,
                                 const uint8_t *v, size_t vlen);
int pel_store_scan(pel_store *s, pel_table t, const void *from, size_t from_len,
                   const void *to, size_t to_len, pel_store_scan_fn fn, void *arg)
    PEL_MUST_USE PEL_NONNULL(1, 7);

/* ---- writing: one transaction per block ---- */

typedef struct pel_store_txn pel_store_txn;

/* pel_store_begin - start the (single) write transaction. The transaction
 * belongs to the calling thread (LMDB's rule) until commit or abort.
 * @return 0, PEL_EIO, PEL_ENOMEM, PEL_EINVAL (read-only store, or this
 *         handle already has a write transaction open); *out NULL on failure. */
int pel_store_begin(pel_store *s, pel_store_txn **out) PEL_MUST_USE PEL_NONNULL(1, 2);

/* pel_store_put / _del - stage a write (the bytes are copied). val may be
 * NULL when vlen is 0. @return 0, PEL_EMAPFULL (the map is full: abort and
 * reopen with a larger map_size), PEL_EINVAL (t out of range, key empty or
 * over 511 bytes, val NULL with vlen > 0), PEL_EIO. _del of an absent key
 * is 0. After a failure other than PEL_EINVAL the transaction is spoilt:
 * every later call on it returns that code and commit commits nothing. */
int pel_store_put(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                  const void *val, size_t vlen) PEL_MUST_USE PEL_NONNULL(1, 3);
int pel_store_del(pel_store_txn *w, pel_table t, const void *key, size_t klen)
    PEL_MUST_USE PEL_NONNULL(1, 3);

/* pel_store_put_new - pel_store_put of a key the table does not hold yet
 * (MDB_NOOVERWRITE): one search instead of a get and a put.
 * @return as pel_store_put, and PEL_EEXIST (nothing written, the stored
 *         value kept, the transaction stays usable) when the key is there,
 *         staged or committed. */
int pel_store_put_new(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                      const void *val, size_t vlen) PEL_MUST_USE PEL_NONNULL(1, 3);

/* pel_store_append - pel_store_put of a key greater than every key of
 * table t (staged ones included): LMDB then skips the search for the
 * key's place and fills pages to the end (MDB_APPEND). For writers whose
 * keys only grow.
 * @return as pel_store_put, and PEL_EEXIST (nothing written, the
 *         transaction stays usable) when the key is not greater than the
 *         table's last key. */
int pel_store_append(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                     const void *val, size_t vlen) PEL_MUST_USE PEL_NONNULL(1, 3);

/* pel_store_txn_below - whether every key of table t, staged ones
 * included, sorts below key (in the table's order): then appending key,
 * and any key it is a prefix of, is accepted.
 * @return 1 (also for an empty table), 0, or a negative code: PEL_EINVAL
 *         (t or key out of range), PEL_EIO, the code that spoilt w. */
int pel_store_txn_below(pel_store_txn *w, pel_table t, const void *key, size_t klen)
    PEL_MUST_USE PEL_NONNULL(1, 3);

/* pel_store_txn_get - read inside the write transaction (sees staged writes).
 * `out` reset first, left empty on failure.
 * @return 0, PEL_ENOTFOUND, PEL_ENOMEM, PEL_EIO, PEL_EINVAL. */
int pel_store_txn_get(pel_store_txn *w, pel_table t, const void *key, size_t klen,
                      pel_buf *out) PEL_MUST_USE PEL_NONNULL(1, 3, 5);

/* pel_store_commit - commit and sync; frees w whatever happens.
 * @return 0 (durable), PEL_EMAPFULL, PEL_EIO (nothing committed), or the
 *         code that spoilt the transaction. */
int pel_store_commit(pel_store_txn *w) PEL_MUST_USE PEL_NONNULL(1);

/* pel_store_abort - discard; frees w. NULL is fine. */
void pel_store_abort(pel_store_txn *w);

/* pel_store_clear - stage the removal of every record of table t (the
 * table itself stays). For replacing the whole store with a snapshot.
 * @return 0, PEL_EINVAL (t out of range), PEL_EIO, or the code that
 *         spoilt the transaction. */
int pel_store_clear(pel_store_txn *w, pel_table t) PEL_MUST_USE PEL_NONNULL(1);

/* ---- a consistent copy of everything ---- */

/* What the store holds, table by table and as a whole (pel_store_get_stats). */
typedef struct pel_store_table_stats {
    uint64_t entries;
    uint64_t branch_pages, leaf_pages, overflow_pages;   /* overflow: large values */
    unsigned depth;          /* of the table's B+tree; 0 when empty */
} pel_store_table_stats;

typedef struct pel_store_stats {
    unsigned page_size;
    uint64_t map_size;       /* bytes of address space (the file's ceiling) */
    uint64_t pages_used;     /* pages of the data file in use or free: last page + 1 */
    uint64_t free_pages;     /* of those, free for reuse (LMDB's free list) */
    uint64_t last_txn;       /* id of the last committed write transaction */
    unsigned readers, max_readers;   /* reader slots in use, available */
    pel_store_table_stats t[PEL_T_COUNT];
} pel_store_stats;

/* pel_store_table_name - the table's name in the environment ("state"). */
const char *pel_store_table_name(pel_table t);

/*
 * pel_store_get_stats - the figures above, under one read transaction (so they
 * describe one committed state; a live node's store may be read this way by
 * another process, opened read-only). Counting free pages reads the whole
 * free list: cheap next to the data, but not free on a huge store.
 * @return 0, PEL_EIO.
 */
int pel_store_get_stats(pel_store *s, pel_store_stats *out) PEL_MUST_USE PEL_NONNULL(1, 2);

/*
 * pel_store_dump - call fn for every record of every table, table by table
 * in pel_table order and keys in order within a table, all under ONE read
 * transaction: the records are exactly the store as of one commit, even
 * while blocks commit meanwhile. fn returns 0 to go on or a negative code
 * that pel_store_dump returns; the pointers are valid only during the call.
 * Holds one reader slot and pins the pages of that commit for the duration.
 * Thread-safe.
 * @return 0, fn's code, PEL_EIO.
 */
typedef int (*pel_store_dump_fn)(void *arg, pel_table t, const uint8_t *k, size_t klen,
                                 const uint8_t *v, size_t vlen);
int pel_store_dump(pel_store *s, pel_store_dump_fn fn, void *arg) PEL_MUST_USE PEL_NONNULL(1, 2);

/* ---- the engines' view of STATE ---- */

/*
 * pel_store_state - a pel_state reading the STATE table as of the last
 * commit. get() may be called from many threads at once: each thread uses
 * its own LMDB read transaction (MDB_NOTLS), opened on first use, and
 * renewed when a commit has happened since. Values point into LMDB's map
 * and stay valid until that thread's next get() after a commit, or until
 * pel_store_release_readers: so the node executes a block, then releases,
 * then commits.
 * get() returns 0, PEL_ENOTFOUND, or, when LMDB fails (e.g. no reader slot
 * left: see max_readers), PEL_EIO / PEL_ENOMEM; *out is cleared on failure.
 * A thread keeps readers for up to 4 stores at once: a get() on a fifth
 * store drops one of them, and values read through the dropped one are then
 * invalid too (the node reads one store, so this is for tools and tests).
 * A thread's readers go back to their stores when it exits.
 * Valid while the store is open.
 */
pel_state pel_store_state(pel_store *s);

/* pel_store_release_readers - reset every thread's read transaction (they
 * must all be idle: call it after pel_engine_execute returned), so no old
 * snapshot pins pages; values returned by get() before are then invalid.
 * The next get() of each thread takes a fresh snapshot. Thread-safe with
 * respect to pel_store_get. */
void pel_store_release_readers(pel_store *s);

/*
 * pel_store_hold_readers - hold (1) or let go (0) of snapshots. Resets every
 * thread's read transaction (all must be idle, as for release), then while
 * held a thread's reader keeps the snapshot it opens at its first get even
 * if commits happen meanwhile, so that the values an engine read stay valid
 * during one block's execution while the previous block commits on another
 * thread (the node's pipeline). Each thread's snapshot is at least as new as
 * the last commit before its first get; the caller overlays the writes of a
 * block that may or may not be committed yet (so both answers agree).
 */
void pel_store_hold_readers(pel_store *s, int hold);

/* pel_store_path - the directory the store was opened in. */
const char *pel_store_path(const pel_store *s);

#endif
