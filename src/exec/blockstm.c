/*
 * blockstm.c - the Block-STM engine (Gelashvili et al., PPoPP 2023).
 *
 * Transactions execute optimistically against multi-version memory
 * (mvmem.h); each execution (an "incarnation") records what it read; a
 * validation re-reads and aborts the incarnation if anything changed, its
 * writes then become ESTIMATE marks and it runs again. A collaborative
 * scheduler hands out the lowest-indexed work first from two counters,
 * execution_idx and validation_idx. A transaction that reads an ESTIMATE
 * waits on its writer (dependency suspension) instead of spinning.
 *
 * Memory ordering: the scheduler counters (execution_idx, validation_idx,
 * the workers' active counts, decrease_cnt, done) are sequentially
 * consistent, as in the paper's proof: completion detection reads several of
 * them and must not see them out of order. The paper's num_active is split
 * into one count per worker (bworker.active), each written only by its
 * worker: the four changes a transaction makes to it (task taken, task done,
 * for its execution and its validation) then stay in that worker's cache
 * instead of moving a shared line between cores; check_done sums them (see
 * there why a sum read one count at a time is enough). Transaction status and dependency lists are guarded by
 * one spin lock per transaction; a transaction's latest read/write record
 * (txio) is published with a release store before its status becomes
 * EXECUTED (under the lock), so a validator that saw EXECUTED sees it.
 *
 * Abort storms: when failed validations plus suspensions exceed
 * executions / storm_ratio (after storm_min of them), the workers stop, the longest prefix of transactions
 * that are executed and still valid is kept, and the rest of the block runs
 * on the sequential core (seq.c) over that prefix's state. Never an endless
 * loop, never a different answer.
 */
#include "core/clock.h"
#include "exec/engine_int.h"
#include "exec/mvmem.h"

#include <stdlib.h>

enum { ST_READY, ST_EXECUTING, ST_EXECUTED, ST_ABORTING };
enum { T_NONE, T_EXEC, T_VALIDATE };
#define NO_TX UINT32_MAX

/* One recorded read of an incarnation (48 bytes: every incarnation keeps
 * its reads until the block ends). */
enum { R_STORAGE = 1, R_VERSION, R_RESOLVED, R_DELTA, R_BAD };
typedef struct bread {
    mv_key *key;
    uint8_t kind;
    int8_t outcome;        /* R_DELTA: 0, PEL_EBOUND or PEL_ETYPE */
    uint32_t idx, inc;     /* R_VERSION */
    union {
        uint64_t value;    /* R_RESOLVED */
        uint64_t bound;    /* R_DELTA */
    };
    pel_i128 offset;       /* R_DELTA */
} bread;
_Static_assert(sizeof(bread) == 48, "bread stays 48 bytes");

/* Everything one incarnation produced; immutable once published. */
typedef struct txio {
    uint32_t inc;
    unsigned wid;          /* the worker that ran it: its additions are in that shard */
    bread *reads; uint32_t nreads;
    pel_txent *writes; uint32_t nwrites;   /* sorted by key */
    mv_key **wkeys;                        /* wkeys[i]: record of writes[i].key */
    pel_write *out;        /* the write set as the result will hold it, in the
                              result's arena; additions filled in at the end */
    pel_receipt receipt;
} txio;

typedef struct txstate {
    pel_spin lock;
    _Atomic uint8_t status;    /* written under lock (st_set); next_task peeks
                                  at it without (a hint only) */
    uint32_t inc;              /* guarded by lock */
    uint32_t dep_head;         /* first transaction waiting on this one; lock */
    uint32_t dep_next;         /* next waiter in the list this one waits in;
                                  guarded by the lock of the transaction waited on */
    _Atomic(txio *) io;        /* latest recorded incarnation */
} __attribute__((aligned(64))) txstate;

/* A transaction's status: relaxed atomics, the lock orders them. */
static inline uint8_t st_get(const txstate *s)
{
    return atomic_load_explicit(&((txstate *)s)->status, memory_order_relaxed);
}

static inline void st_set(txstate *s, uint8_t v)
{
    atomic_store_explicit(&s->status, v, memory_order_relaxed);
}

typedef struct bstm bstm;

typedef struct bworker {
    bstm *b;
    unsigned id;
    pel_arena *arena;          /* values written and outputs: handed to the result */
    pel_arena *scratch;        /* key records, incarnation records: the engine's */
    bread *reads; uint32_t nreads, capreads;   /* scratch for the running incarnation */
    mv_key **written; uint32_t nwritten, capwritten;   /* keys this worker wrote first */
    uint32_t blocking;
    int error;
    _Atomic uint64_t executions;   /* written by its worker, read by storm_check */
    _Atomic int32_t active;        /* tasks held (0 or 1): written by its worker,
                                      read by check_done (seq_cst) */
} __attribute__((aligned(64))) bworker;

struct bstm {
    const pel_txdesc *txs;
    const pel_executor *ex;
    uint32_t n;
    mvmem mv;
    txstate *tx;
    bworker *w;
    unsigned nworkers;
    const pel_engine_opts *o;
    /* scheduler: seq_cst throughout (see file comment). Each counter that
     * every task writes has a cache line of its own, and the flags every
     * loop iteration reads share none with them. */
    _Alignas(64) _Atomic uint32_t execution_idx;
    _Alignas(64) _Atomic uint32_t validation_idx;
    _Alignas(64) _Atomic uint64_t decrease_cnt;
    _Alignas(64) _Atomic int done, halt, error;
    /* statistics: relaxed; aborts and suspensions are rare, executions are
     * counted per worker (bworker.executions) to keep this line quiet */
    _Alignas(64) _Atomic uint64_t aborts, dependencies;
};

typedef struct task { int kind; uint32_t idx, inc; } task;
static const task NO_TASK = { T_NONE, 0, 0 };

/* ---------------- view hooks ---------------- */

static bread *new_read(bworker *w, mv_key *k, int kind)
{
    if (pel_grow((void **)&w->reads, w->nreads, &w->capreads, sizeof(bread), 64)) return NULL;
    bread *r = &w->reads[w->nreads++];
    *r = (bread){ .key = k, .kind = (uint8_t)kind };
    return r;
}

/* key_for - the key's record, remembered in the view's entry (*ref). */
static mv_key *key_for(bworker *w, const pel_key *key, void **ref)
{
    if (!*ref) *ref = mvmem_key(&w->b->mv, key, w->scratch);
    return *ref;
}

static int bstm_read(pel_view *v, const pel_key *key, void **ref, pel_val *out)
{
    bworker *w = v->eng;
    mv_key *k = key_for(w, key, ref);
    mv_read r;
    bread *rec;
    if (!k) return PEL_ENOMEM;
    mvmem_read(&w->b->mv, k, v->txn_idx, &r);
    switch (r.kind) {
    case MVR_DEPEND:
        w->blocking = r.idx;
        return pel_view_halt(v);
    case MVR_RESOLVED:
        if (!(rec = new_read(w, k, R_RESOLVED))) return PEL_ENOMEM;
        rec->value = r.value;
        return pel_u64_val(w->scratch, r.value, out);
    case MVR_BAD:   /* inconsistent speculation: never validates */
        if (!new_read(w, k, R_BAD)) return PEL_ENOMEM;
        return PEL_ENOTFOUND;
    default:
        if (!(rec = new_read(w, k, r.kind == MVR_STORAGE ? R_STORAGE : R_VERSION)))
            return PEL_ENOMEM;
        rec->idx = r.idx;
        rec->inc = r.inc;
        *out = r.val;
        return r.present ? 0 : PEL_ENOTFOUND;
    }
}

static int bstm_delta_check(pel_view *v, const pel_key *key, void **ref, pel_i128 offset, uint64_t bound)
{
    bworker *w = v->eng;
    mv_key *k = key_for(w, key, ref);
    if (!k) return PEL_ENOMEM;
    int rc = mvmem_delta_outcome(&w->b->mv, k, v->txn_idx, offset, bound, &w->blocking);
    if (rc == PEL_EHALT) return pel_view_halt(v);
    bread *rec = new_read(w, k, R_DELTA);
    if (!rec) return PEL_ENOMEM;
    rec->offset = offset;
    rec->bound = bound;
    rec->outcome = (int8_t)rc;
    return rc;
}

static const pel_view_ops bstm_ops = { bstm_read, bstm_delta_check };

/* ---------------- validation ---------------- */

static int read_valid(const mvmem *m, const bread *r, uint32_t j)
{
    mv_read now;
    uint32_t blocking;
    switch (r->kind) {
    case R_DELTA:
        return mvmem_delta_outcome(m, r->key, j, r->offset, r->bound, &blocking) == r->outcome;
    case R_BAD:
        return 0;
    default:
        mvmem_read(m, r->key, j, &now);
        if (r->kind == R_STORAGE) return now.kind == MVR_STORAGE;
        if (r->kind == R_RESOLVED) return now.kind == MVR_RESOLVED && now.value == r->value;
        return now.kind == MVR_VERSION && now.idx == r->idx && now.inc == r->inc;
    }
}

static int validate(bstm *b, uint32_t j)
{
    /* acquire: pairs with the release store in record() */
    const txio *io = atomic_load_explicit(&b->tx[j].io, memory_order_acquire);
    for (uint32_t i = 0; i < io->nreads; i++)
        if (!read_valid(&b->mv, &io->reads[i], j)) return 0;
    return 1;
}

/* ---------------- scheduler (paper, Algorithms 4-5) ---------------- */

static void fetch_min(_Atomic uint32_t *a, uint32_t target)
{
    uint32_t cur = atomic_load(a);
    while (cur > target && !atomic_compare_exchange_weak(a, &cur, target)) {}
}

static void decrease_execution_idx(bstm *b, uint32_t target)
{
    fetch_min(&b->execution_idx, target);
    atomic_fetch_add(&b->decrease_cnt, 1);
}

static void decrease_validation_idx(bstm *b, uint32_t target)
{
    fetch_min(&b->validation_idx, target);
    atomic_fetch_add(&b->decrease_cnt, 1);
}

/* active_add - this worker takes (+1) or puts down (-1) a task. A seq_cst
 * store: ordered before the index fetch that follows it, after the effects
 * (decreases included) of the task that precedes it. */
static void active_add(bworker *w, int32_t d)
{
    atomic_store(&w->active, atomic_load_explicit(&w->active, memory_order_relaxed) + d);
}

/* check_done - the paper's test with num_active read as the sum of the
 * workers' counts, one at a time. A worker seen idle that takes a task
 * afterwards can only find one below n if some index was decreased after
 * both were read as >= n; every decrease is made by a worker holding a task
 * and is counted in decrease_cnt before that worker's count drops. So either
 * that worker's count is read non-zero, or its decrease is counted before the
 * second read of decrease_cnt: in both cases the block is not declared done. */
static void check_done(bstm *b)
{
    uint64_t observed = atomic_load(&b->decrease_cnt);
    uint32_t e = atomic_load(&b->execution_idx), v = atomic_load(&b->validation_idx);
    if ((e < v ? e : v) < b->n) return;
    for (unsigned i = 0; i < b->nworkers; i++)
        if (atomic_load(&b->w[i].active) != 0) return;
    if (observed == atomic_load(&b->decrease_cnt)) atomic_store(&b->done, 1);
}

/* try_incarnate - READY -> EXECUTING; the caller accounts the active count. */
static int try_incarnate(bstm *b, uint32_t idx, task *t)
{
    if (idx >= b->n) return 0;
    txstate *s = &b->tx[idx];
    int ok = 0;
    pel_spin_lock(&s->lock);
    if (st_get(s) == ST_READY) {
        st_set(s, ST_EXECUTING);
        *t = (task){ T_EXEC, idx, s->inc };
        ok = 1;
    }
    pel_spin_unlock(&s->lock);
    return ok;
}

static task next_version_to_execute(bstm *b, bworker *w)
{
    task t;
    if (atomic_load(&b->execution_idx) >= b->n) { check_done(b); return NO_TASK; }
    active_add(w, 1);
    uint32_t idx = atomic_fetch_add(&b->execution_idx, 1);
    if (try_incarnate(b, idx, &t)) return t;
    active_add(w, -1);
    return NO_TASK;
}

static task next_version_to_validate(bstm *b, bworker *w)
{
    task t = NO_TASK;
    if (atomic_load(&b->validation_idx) >= b->n) { check_done(b); return NO_TASK; }
    active_add(w, 1);
    uint32_t idx = atomic_fetch_add(&b->validation_idx, 1);
    if (idx < b->n) {
        txstate *s = &b->tx[idx];
        pel_spin_lock(&s->lock);
        if (st_get(s) == ST_EXECUTED) t = (task){ T_VALIDATE, idx, s->inc };
        pel_spin_unlock(&s->lock);
        if (t.kind != T_NONE) return t;
    }
    active_add(w, -1);
    return NO_TASK;
}

/* next_task - validation first, as in the paper, but not of a transaction
 * still executing while there are others to execute: taking its index would
 * only move validation_idx past it, and its executor, finding the index
 * passed (with new writes, as every first incarnation has), would move it
 * back (fetch_min) and count the decrease: three read-modify-writes on
 * shared lines, for nothing, about once per transaction at 2 threads. The
 * status is a relaxed peek: a stale one only picks the other task kind,
 * which the paper's scheduler allows anyway (any order of tasks is correct;
 * only completion is detected from the counters). */
static task next_task(bstm *b, bworker *w)
{
    uint32_t v = atomic_load(&b->validation_idx), e = atomic_load(&b->execution_idx);
    if (v < e && (e >= b->n || st_get(&b->tx[v]) == ST_EXECUTED))
        return next_version_to_validate(b, w);
    return next_version_to_execute(b, w);
}

/* storm_check - wasted work (failed validations plus suspensions) against
 * executions; past the threshold the block finishes sequentially. */
static void storm_check(bstm *b)
{
    const pel_engine_opts *o = b->o;
    if (!o->storm_ratio) return;
    uint64_t waste = atomic_load_explicit(&b->aborts, memory_order_relaxed)
                   + atomic_load_explicit(&b->dependencies, memory_order_relaxed);
    if (waste < o->storm_min) return;
    uint64_t executions = 0;
    for (unsigned i = 0; i < b->nworkers; i++)
        executions += atomic_load_explicit(&b->w[i].executions, memory_order_relaxed);
    if (waste * o->storm_ratio > executions) atomic_store(&b->halt, 1);
}

/* add_dependency - suspend idx until `blocking` finishes executing. Returns 0
 * if `blocking` already finished (then idx simply runs again). Lock order:
 * blocking < idx always, and the lower index is locked first. */
static int add_dependency(bstm *b, bworker *w, uint32_t idx, uint32_t blocking)
{
    txstate *bs = &b->tx[blocking], *s = &b->tx[idx];
    pel_spin_lock(&bs->lock);
    if (st_get(bs) == ST_EXECUTED) { pel_spin_unlock(&bs->lock); return 0; }
    pel_spin_lock(&s->lock);
    st_set(s, ST_ABORTING);
    pel_spin_unlock(&s->lock);
    s->dep_next = bs->dep_head;
    bs->dep_head = idx;
    pel_spin_unlock(&bs->lock);
    active_add(w, -1);
    atomic_fetch_add_explicit(&b->dependencies, 1, memory_order_relaxed);
    storm_check(b);
    return 1;
}

static void set_ready_status(bstm *b, uint32_t idx)
{
    txstate *s = &b->tx[idx];
    pel_spin_lock(&s->lock);
    s->inc++;
    st_set(s, ST_READY);
    pel_spin_unlock(&s->lock);
}

static task finish_execution(bstm *b, bworker *w, uint32_t idx, uint32_t inc, int wrote_new)
{
    txstate *s = &b->tx[idx];
    pel_spin_lock(&s->lock);
    st_set(s, ST_EXECUTED);
    uint32_t dep = s->dep_head;
    s->dep_head = NO_TX;
    pel_spin_unlock(&s->lock);
    uint32_t min_dep = NO_TX;
    while (dep != NO_TX) {   /* read dep_next before the waiter can run again */
        uint32_t next = b->tx[dep].dep_next;
        set_ready_status(b, dep);
        if (dep < min_dep) min_dep = dep;
        dep = next;
    }
    if (min_dep != NO_TX) decrease_execution_idx(b, min_dep);
    if (atomic_load(&b->validation_idx) > idx) {
        if (!wrote_new) return (task){ T_VALIDATE, idx, inc };
        decrease_validation_idx(b, idx);
    }
    active_add(w, -1);
    return NO_TASK;
}

static int try_validation_abort(bstm *b, uint32_t idx, uint32_t inc)
{
    txstate *s = &b->tx[idx];
    int ok = 0;
    pel_spin_lock(&s->lock);
    if (st_get(s) == ST_EXECUTED && s->inc == inc) { st_set(s, ST_ABORTING); ok = 1; }
    pel_spin_unlock(&s->lock);
    return ok;
}

static task finish_validation(bstm *b, bworker *w, uint32_t idx, int aborted)
{
    task t;
    if (aborted) {
        set_ready_status(b, idx);
        decrease_validation_idx(b, idx + 1);
        if (atomic_load(&b->execution_idx) > idx && try_incarnate(b, idx, &t)) return t;
    }
    active_add(w, -1);
    return NO_TASK;
}

/* ---------------- executing and recording ---------------- */

static void fail(bstm *b, bworker *w, int rc)
{
    w->error = rc;
    atomic_store(&b->error, 1);
    atomic_store(&b->halt, 1);
}

/* build_io - copy the finished incarnation's reads and writes out of scratch,
 * and lay out its write set for the result while the values are in cache:
 * values and deletions are final as written; an addition's value depends on
 * the entries before it and is filled in by materialisation. */
static txio *build_io(bstm *b, bworker *w, uint32_t inc, const pel_txout *o)
{
    txio *io = pel_arena_alloc(w->scratch, sizeof(*io));
    if (!io) return NULL;
    io->inc = inc;
    io->wid = w->id;
    io->receipt = o->receipt;
    io->nreads = w->nreads;
    io->reads = pel_arena_memdup(w->scratch, w->reads, (size_t)w->nreads * sizeof(bread));
    io->nwrites = o->nw;
    io->writes = o->w;
    io->wkeys = pel_arena_alloc(w->scratch, (size_t)(o->nw ? o->nw : 1) * sizeof(mv_key *));
    io->out = pel_arena_alloc(w->arena, (size_t)(o->nw ? o->nw : 1) * sizeof(pel_write));
    if ((w->nreads && !io->reads) || !io->wkeys || !io->out) return NULL;
    for (uint32_t i = 0; i < o->nw; i++) {
        const pel_txent *e = &o->w[i];
        if (!(io->wkeys[i] = e->ref ? e->ref : mvmem_key(&b->mv, &e->key, w->scratch))) return NULL;
        io->out[i] = (pel_write){ e->key, e->present || e->state == PEL_TXE_DELTA ? PEL_W_PUT : PEL_W_DEL,
                                  e->present ? e->val : (pel_val){ NULL, 0 } };
    }
    return io;
}

/* list_written - remember a key this worker wrote first (for the block
 * write set). 0 or PEL_ENOMEM. */
static int list_written(bworker *w, mv_key *k)
{
    if (pel_grow((void **)&w->written, w->nwritten, &w->capwritten, sizeof(mv_key *), 1024)) return PEL_ENOMEM;
    w->written[w->nwritten++] = k;
    return 0;
}

/* delta_changed - does replacing prev's entry by cur's invalidate checks
 * that read through prev's entry as an ESTIMATE? (mvmem.c: an ESTIMATE on
 * an addition is read with its old amount.) */
static int delta_changed(const pel_txent *prev, const pel_txent *cur)
{
    int pd = prev->state == PEL_TXE_DELTA, cd = cur && cur->state == PEL_TXE_DELTA;
    if (!pd) return 0;
    return !cd || prev->acc != cur->acc;
}

/* record - apply the incarnation's writes, drop entries its predecessor
 * wrote but it did not, publish it. Returns 1 if later transactions must be
 * validated again: it wrote a key the previous incarnation did not (the
 * paper's rule), or it changed or dropped an addition (our rule, see
 * mvmem.c); 0; or a negative error. */
static int record(bstm *b, bworker *w, uint32_t idx, txio *io)
{
    txio *prev = atomic_load_explicit(&b->tx[idx].io, memory_order_relaxed);
    int wrote_new = 0;
    uint32_t p = 0, np = prev ? prev->nwrites : 0;
    for (uint32_t i = 0; i < io->nwrites; i++) {
        const pel_txent *e = &io->writes[i];
        /* both lists sorted by key: advance through prev in step */
        for (; p < np && pel_key_cmp(&prev->writes[p].key, &e->key) < 0; p++) {
            wrote_new |= delta_changed(&prev->writes[p], NULL);
            mvmem_remove(&b->mv, prev->wkeys[p], idx, mvmem_loc(&prev->writes[p], prev->wid));
        }
        int at = MVL_NONE;   /* where the previous incarnation's entry for this key is */
        if (p < np && pel_key_eq(&prev->writes[p].key, &e->key)) {
            wrote_new |= delta_changed(&prev->writes[p], e);
            at = mvmem_loc(&prev->writes[p], prev->wid);
            p++;
        } else {
            wrote_new = 1;
        }
        int f = mvmem_write(&b->mv, io->wkeys[i], w->scratch, idx, io->inc, e, i, &io->out[i], w->id, at);
        if (f < 0 || ((f & MVW_FIRST) && list_written(w, io->wkeys[i]))) return PEL_ENOMEM;
        if (f & MVW_MOVED) wrote_new = 1;   /* readers may have missed it meanwhile */
    }
    for (; p < np; p++) {
        wrote_new |= delta_changed(&prev->writes[p], NULL);
        mvmem_remove(&b->mv, prev->wkeys[p], idx, mvmem_loc(&prev->writes[p], prev->wid));
    }
    /* release: validators that load io see the complete record */
    atomic_store_explicit(&b->tx[idx].io, io, memory_order_release);
    return wrote_new;
}

static task try_execute(bstm *b, bworker *w, task t)
{
    for (;;) {
        pel_view v;
        pel_txout o;
        w->nreads = 0;
        pel_view_init(&v, &bstm_ops, w, t.idx, b->txs[t.idx].access, w->arena);
        atomic_store_explicit(&w->executions,
            atomic_load_explicit(&w->executions, memory_order_relaxed) + 1, memory_order_relaxed);
        int rc = pel_exec_run(b->ex, &b->txs[t.idx], &v, w->scratch, &o);
        if (rc == PEL_EHALT) {
            if (add_dependency(b, w, t.idx, w->blocking)) return NO_TASK;
            continue;   /* the blocking transaction already finished: go again */
        }
        txio *io = rc == 0 ? build_io(b, w, t.inc, &o) : NULL;
        int wrote_new = io ? record(b, w, t.idx, io) : PEL_ENOMEM;
        if (wrote_new < 0 || rc) { fail(b, w, rc ? rc : wrote_new); return NO_TASK; }
        return finish_execution(b, w, t.idx, t.inc, wrote_new);
    }
}

static task needs_reexecution(bstm *b, bworker *w, task t)
{
    int aborted = !validate(b, t.idx) && try_validation_abort(b, t.idx, t.inc);
    if (aborted) {
        const txio *io = atomic_load_explicit(&b->tx[t.idx].io, memory_order_acquire);
        for (uint32_t i = 0; i < io->nwrites; i++)
            mvmem_mark_estimate(io->wkeys[i], t.idx, mvmem_loc(&io->writes[i], io->wid));
        atomic_fetch_add_explicit(&b->aborts, 1, memory_order_relaxed);
        storm_check(b);
    }
    return finish_validation(b, w, t.idx, aborted);
}

static void worker_run(void *arg, unsigned id)
{
    bstm *b = arg;
    bworker *w = &b->w[id];
    task t = NO_TASK;
    while (!atomic_load(&b->done) && !atomic_load(&b->halt)) {
        if (t.kind == T_EXEC) t = try_execute(b, w, t);
        else if (t.kind == T_VALIDATE) t = needs_reexecution(b, w, t);
        if (t.kind == T_NONE) t = next_task(b, w);
    }
}

/* ---------------- assembling the result ---------------- */

/* committed_prefix - after a halt, with no worker running: the length of the
 * longest prefix whose transactions are executed and valid. */
static uint32_t committed_prefix(bstm *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        if (st_get(&b->tx[i]) != ST_EXECUTED || !validate(b, i)) return i;
    }
    return b->n;
}

/* first_error - a worker's error, or 0. */
static int first_error(bstm *b)
{
    for (unsigned i = 0; i < b->nworkers; i++)
        if (b->w[i].error) return b->w[i].error;
    return 0;
}

/* Materialisation: turn the final incarnations of txs [0, c) into receipts
 * and write sets, additions becoming values. Each incarnation laid out its
 * write set when it ran (build_io); two parallel passes finish them: per
 * transaction (hand its write set and receipt to the result), then per key
 * holding additions (walk its entries in block order, which is the order its
 * values follow, and fill each adder's slot, found by the entry's wpos).
 * Every slot is written by one pass only, so the passes need no locks.
 * Values stay in the worker arenas, which the result owns.
 *
 * A counter more than one worker added to (mvmem_shared_counters) is walked
 * once per shard: the walk for shard w follows every entry for the running
 * value but fills only the slots of shard w's entries, whose transactions
 * worker w ran, so their write sets are in w's cache; worker w takes those
 * walks first (another worker takes one nobody has started). With one walk
 * per key, half of a 2-worker block's slots were the other core's lines,
 * and each write fetched one. The other counters (one worker's: most are
 * one-off counters, tens of thousands in a block of new objects) are walked
 * whole, each worker first through the list of those it made, then helping
 * with the others' lists. */
typedef struct mat_list {
    mv_key *const *k;
    uint32_t n;
    _Atomic uint32_t next;   /* relaxed: only distributes work */
} __attribute__((aligned(64))) mat_list;

typedef struct mat {
    bstm *b;
    uint32_t c;
    pel_block_result *r;
    mv_key **split;          /* the shared counters, walked per shard */
    uint32_t nsplit;
    _Atomic uint8_t *taken;  /* nsplit x nworkers: walk (key, shard) started */
    mat_list *own;           /* per worker: the counters it made */
    _Atomic uint32_t next;   /* the transaction pass's; relaxed */
} mat;

enum { MAT_CHUNK = 256, MAT_KEYS = 64 };

static void mat_txs(mat *m, uint32_t lo, uint32_t hi)
{
    for (uint32_t i = lo; i < hi; i++) {
        const txio *io = atomic_load_explicit(&m->b->tx[i].io, memory_order_acquire);
        m->r->tx_writes[i] = (pel_writeset){ io->out, io->nwrites };
        m->r->receipts[i] = io->receipt;   /* events are in a result-owned arena */
    }
}

/* A walk of one key's entries in block order (mat_key). The running value
 * is cur/present until the first addition, then the number num. */
typedef struct mat_walk {
    mat *m;
    bworker *w;
    int fill;               /* the location whose slots it fills; MVL_NONE: all */
    pel_val cur;
    uint8_t present;
    uint8_t counting;       /* the value is num */
    uint64_t num;
    const mv_entry *last;   /* the last entry walked */
} mat_walk;

/* mat_entry - one step of the walk: a value or deletion restarts the
 * running value, an addition adds to it and, if the walk fills its
 * location, fills its writer's slot with the value it produced. */
static int mat_entry(void *ctx, const mv_entry *e, int loc)
{
    mat_walk *x = ctx;
    x->last = e;
    if (e->kind != MV_DELTA) {
        x->present = e->kind == MV_VALUE;
        x->cur = x->present ? e->val : (pel_val){ NULL, 0 };
        x->counting = 0;
        return 0;
    }
    if (!x->counting) {   /* as pel_counter_add: a counter, its checks passed */
        x->num = 0;
        (void)!pel_val_u64(&x->cur, x->present, &x->num);
        x->counting = 1;
    }
    x->num = (uint64_t)((pel_i128)x->num + e->acc);
    if (x->fill != MVL_NONE && x->fill != loc) return 0;
    return pel_u64_val(x->w->arena, x->num, &x->m->r->tx_writes[e->idx].w[e->wpos].val) ? PEL_ENOMEM : 0;
}

/* mat_key - the values the additions to k among txs [0, c) produce: its
 * entries in block order (mvmem merges the list and the shards), each
 * addition's result into its writer's slot if it is at `fill` (MVL_NONE:
 * every slot); the walk that fills MVL_NONE or shard 0 sets k's final slot. */
static int mat_key(mat *m, bworker *w, mv_key *k, int fill)
{
    mat_walk x = { m, w, fill, { NULL, 0 }, 0, 0, 0, NULL };
    x.present = (uint8_t)mvmem_base(&m->b->mv, k, &x.cur);
    int rc = mvmem_each_below(k, m->c, mat_entry, &x);
    if (fill == MVL_NONE || fill == MVL_SHARD(0))
        k->final = x.last ? &m->r->tx_writes[x.last->idx].w[x.last->wpos] : NULL;
    return rc;
}

/* mat_split - the per-shard walks of the shared counters: worker `id`'s
 * own shard's first, then any another worker has not started. */
static void mat_split(mat *m, bworker *w, unsigned id)
{
    unsigned nw = m->b->nworkers;
    for (unsigned d = 0; d < nw && !w->error; d++) {
        unsigned sh = (id + d) % nw;
        for (uint32_t i = 0; i < m->nsplit && !w->error; i++)
            if (!atomic_exchange_explicit(&m->taken[(size_t)i * nw + sh], 1, memory_order_relaxed))
                w->error = mat_key(m, w, m->split[i], MVL_SHARD(sh));
    }
}

/* mat_own - the other counters, whole: worker id's own list first. */
static void mat_own(mat *m, bworker *w, unsigned id)
{
    unsigned nw = m->b->nworkers;
    for (unsigned d = 0; d < nw && !w->error; d++) {
        mat_list *l = &m->own[(id + d) % nw];
        for (;;) {
            uint32_t lo = atomic_fetch_add_explicit(&l->next, MAT_KEYS, memory_order_relaxed);
            uint32_t hi = lo + MAT_KEYS < l->n ? lo + MAT_KEYS : l->n;
            if (lo >= l->n || w->error) break;
            for (uint32_t i = lo; i < hi && !w->error; i++)
                if (!mvmem_is_shared(l->k[i])) w->error = mat_key(m, w, (mv_key *)l->k[i], MVL_NONE);
        }
    }
}

static void mat_txs_worker(void *arg, unsigned id)
{
    mat *m = arg;
    bworker *w = &m->b->w[id];
    for (;;) {
        uint32_t lo = atomic_fetch_add_explicit(&m->next, MAT_CHUNK, memory_order_relaxed);
        if (lo >= m->c || w->error) return;
        mat_txs(m, lo, lo + MAT_CHUNK < m->c ? lo + MAT_CHUNK : m->c);
    }
}

static void mat_keys_worker(void *arg, unsigned id)
{
    mat *m = arg;
    mat_split(m, &m->b->w[id], id);
    mat_own(m, &m->b->w[id], id);
}

static int materialise(bstm *b, pel_pool *pool, uint32_t c, pel_block_result *r)
{
    mat m = { b, c, r, NULL, 0, NULL, NULL, 0 };
    pel_pool_run(pool, mat_txs_worker, &m);
    unsigned nw = b->nworkers;
    uint32_t nk, counters = 0;
    for (unsigned i = 0; i < nw; i++) {
        (void)mvmem_shared_counters(&b->mv, i, &nk);
        m.nsplit += nk;
        (void)mvmem_counters(&b->mv, i, &nk);
        counters += nk;
    }
    if (counters == 0) return 0;
    m.own = aligned_alloc(64, nw * sizeof(mat_list));
    m.split = malloc((size_t)(m.nsplit ? m.nsplit : 1) * sizeof(mv_key *));
    m.taken = calloc((size_t)(m.nsplit ? m.nsplit : 1) * nw, sizeof(*m.taken));
    int rc = m.own && m.split && m.taken ? 0 : PEL_ENOMEM;
    for (unsigned i = 0, at = 0; rc == 0 && i < nw; i++) {
        mv_key *const *ks = mvmem_shared_counters(&b->mv, i, &nk);
        if (nk) memcpy(m.split + at, ks, (size_t)nk * sizeof(mv_key *));
        at += nk;
        m.own[i].k = mvmem_counters(&b->mv, i, &m.own[i].n);
        atomic_init(&m.own[i].next, 0);
    }
    if (rc == 0) pel_pool_run(pool, mat_keys_worker, &m);
    free(m.own);
    free(m.split);
    free((void *)m.taken);
    return rc ? rc : first_error(b);
}

/* final_slot - k's write-set slot holding its value after txs [0, c), or
 * NULL if none of them wrote k. */
static const pel_write *final_slot(bstm *b, uint32_t c, const pel_block_result *r, const mv_key *k)
{
    /* a key with additions: materialisation walked its entries below c */
    if (mvmem_has_additions(k)) return k->final;
    if (c == b->n && k->last) return k->last;   /* the list's last entry is the last */
    const mv_entry *e = mvmem_last_below(k, c);
    return e ? &r->tx_writes[e->idx].w[e->wpos] : NULL;
}

/* prefix_get - the state after txs [0, c): what the sequential fallback
 * starts from. */
typedef struct prefix { bstm *b; uint32_t c; const pel_block_result *r; } prefix;

static int prefix_get(const void *ctx, const pel_key *key, pel_val *out)
{
    const prefix *x = ctx;
    mv_key *k = mvmem_find(&x->b->mv, key);
    const pel_write *s = k ? final_slot(x->b, x->c, x->r, k) : NULL;
    if (!s) return pel_state_get(x->b->mv.base, key, out);
    *out = s->val;
    return s->kind == PEL_W_PUT ? 0 : PEL_ENOTFOUND;
}

/* Gathering the final slots: worker i's list of keys it wrote first goes to
 * w[at[i], at[i] + got[i]) (a key whose writers all lie past the committed
 * prefix has no slot), on pool worker i: each key record is a cache miss
 * (tens of thousands in a block of new objects), so the gather is split
 * like the rest. */
typedef struct gather {
    bstm *b;
    uint32_t c;
    const pel_block_result *r;
    pel_write *w;
    uint32_t *at, *got;
} gather;

static void gather_worker(void *arg, unsigned id)
{
    gather *g = arg;
    const bworker *bw = &g->b->w[id];
    pel_write *out = g->w + g->at[id];
    uint32_t n = 0;
    for (uint32_t j = 0; j < bw->nwritten; j++) {
        const pel_write *s = final_slot(g->b, g->c, g->r, bw->written[j]);
        if (s) out[n++] = *s;
    }
    g->got[id] = n;
}

/* block_writes - the block write set: every written key's final slot, then
 * the sequential tail's writes (which win over them), sorted by key. */
static int block_writes(bstm *b, pel_pool *pool, uint32_t c, pel_seq *tail, pel_block_result *r)
{
    size_t cap = (tail ? tail->nwritten : 0) + 1;
    for (unsigned i = 0; i < b->nworkers; i++) cap += b->w[i].nwritten;
    pel_write *w = pel_arena_alloc(&r->arena, cap * sizeof(*w));
    uint32_t *at = malloc(2 * (size_t)b->nworkers * sizeof(uint32_t));
    if (!w || !at) { free(at); return PEL_ENOMEM; }
    gather g = { b, c, r, w, at, at + b->nworkers };
    for (unsigned i = 0, sum = 0; i < b->nworkers; sum += b->w[i].nwritten, i++) at[i] = sum;
    pel_pool_run(pool, gather_worker, &g);
    uint32_t n = 0;
    for (unsigned i = 0; i < b->nworkers; i++) {   /* close the gaps */
        if (at[i] != n) memmove(w + n, w + at[i], (size_t)g.got[i] * sizeof(*w));
        n += g.got[i];
    }
    free(at);
    if (tail) n += pel_seq_writes(tail, w + n);
    int rc = pel_writes_sort_par(pool, &r->arena, &w, n);
    if (rc) return rc;
    /* each key is on one worker's list once (its first writer's), so only
     * a sequential tail can repeat a key */
    r->block_writes = (pel_writeset){ w, tail ? pel_writes_dedup_last(w, n) : n };
    return 0;
}

/* finish_sequentially - txs [c, n) on the sequential core over the
 * prefix's state (*tail_us: how long that took), then the block write set. */
static int finish_sequentially(bstm *b, pel_pool *pool, uint32_t c, pel_block_result *r, uint64_t *tail_us)
{
    prefix x = { b, c, r };
    pel_state st = { prefix_get, &x };
    pel_seq s;
    uint64_t t0 = pel_mono_us();
    int rc = pel_seq_init(&s, &st, b->txs, b->ex, r, (size_t)(b->n - c) * 4);
    if (rc == 0) rc = pel_seq_run(&s, c, b->n);
    *tail_us = pel_mono_us() - t0;
    if (rc == 0) rc = block_writes(b, pool, c, &s, r);
    pel_seq_free(&s);
    return rc;
}

/* ---------------- the engine ---------------- */

static int setup(bstm *b, pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                 uint32_t n, const pel_executor *ex, pel_block_result *r)
{
    memset(b, 0, sizeof(*b));
    b->txs = txs;
    b->ex = ex;
    b->n = n;
    b->o = &e->o;
    b->nworkers = pel_pool_size(e->pool);
    b->tx = pel_engine_txbuf(e, (size_t)(n ? n : 1) * sizeof(txstate));   /* the engine's */
    b->w = aligned_alloc(64, (size_t)b->nworkers * sizeof(bworker));
    if (!b->tx || !b->w || pel_result_worker_arenas(r, b->nworkers)) return PEL_ENOMEM;
    memset(b->w, 0, (size_t)b->nworkers * sizeof(bworker));
    for (unsigned i = 0; i < b->nworkers; i++) {
        b->w[i].b = b;
        b->w[i].id = i;
        b->w[i].arena = &r->more_arenas[i];
        b->w[i].scratch = &e->scratch[i];
        pel_arena_reset(b->w[i].scratch);
    }
    for (uint32_t i = 0; i < n; i++) {
        txstate *s = &b->tx[i];
        pel_spin_init(&s->lock);
        atomic_init(&s->status, ST_READY);
        s->inc = 0;
        s->dep_head = s->dep_next = NO_TX;
        atomic_init(&s->io, NULL);
    }
    return mvmem_init(&b->mv, base, (size_t)n * 4, b->nworkers);
}

static void teardown(bstm *b)
{
    if (b->mv.map.buckets) mvmem_free(&b->mv);
    for (unsigned i = 0; b->w && i < b->nworkers; i++) { free(b->w[i].reads); free(b->w[i].written); }
    free(b->w);
}

int pel_bstm_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                     uint32_t n, const pel_executor *ex, pel_block_result *out)
{
    bstm b;
    uint64_t t[5], tail_us = 0;
    t[0] = pel_mono_us();
    if (n > 0) pel_pool_wake(e->pool);   /* its wake-up overlaps the setup */
    int rc = pel_result_alloc(out, n);
    if (rc) return rc;
    if ((rc = setup(&b, e, base, txs, n, ex, out)) != 0) goto done;
    t[1] = pel_mono_us();
    if (n > 0) pel_pool_run(e->pool, worker_run, &b);
    t[2] = pel_mono_us();
    if (atomic_load(&b.error)) { rc = first_error(&b); if (!rc) rc = PEL_ENOMEM; goto done; }
    uint32_t c = atomic_load(&b.done) ? n : committed_prefix(&b);
    if ((rc = materialise(&b, e->pool, c, out)) != 0) goto done;
    t[3] = pel_mono_us();
    for (unsigned i = 0; i < b.nworkers; i++) out->stats.executions += atomic_load(&b.w[i].executions);
    out->stats.aborts = atomic_load(&b.aborts);
    out->stats.dependencies = atomic_load(&b.dependencies);
    out->stats.fallback_from = c;
    rc = c < n ? finish_sequentially(&b, e->pool, c, out, &tail_us) : block_writes(&b, e->pool, n, NULL, out);
    t[4] = pel_mono_us();
    uint64_t *ph = out->stats.phase_us;
    ph[PEL_PH_SETUP] = t[1] - t[0];
    ph[PEL_PH_EXECUTE] = t[2] - t[1];
    ph[PEL_PH_MATERIALISE] = t[3] - t[2];
    ph[PEL_PH_TAIL] = tail_us;
    ph[PEL_PH_WRITE_SET] = t[4] - t[3] - tail_us;
done:
    teardown(&b);
    if (rc) pel_block_result_free(out);
    return rc;
}
