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
 * num_active, decrease_cnt, done) are sequentially consistent, as in the
 * paper's proof: completion detection reads several of them and must not see
 * them out of order. Transaction status and dependency lists are guarded by
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
#include "exec/engine_int.h"
#include "exec/mvmem.h"

#include <stdlib.h>

enum { ST_READY, ST_EXECUTING, ST_EXECUTED, ST_ABORTING };
enum { T_NONE, T_EXEC, T_VALIDATE };
#define NO_TX UINT32_MAX

/* One recorded read of an incarnation. */
enum { R_STORAGE = 1, R_VERSION, R_RESOLVED, R_DELTA, R_BAD };
typedef struct bread {
    mv_key *key;
    uint8_t kind;
    int8_t outcome;        /* R_DELTA: 0, PEL_EBOUND or PEL_ETYPE */
    uint32_t idx, inc;     /* R_VERSION */
    uint64_t value;        /* R_RESOLVED */
    uint64_t bound;        /* R_DELTA */
    pel_i128 offset;       /* R_DELTA */
} bread;

/* Everything one incarnation produced; immutable once published. */
typedef struct txio {
    uint32_t inc;
    bread *reads; uint32_t nreads;
    pel_txent *writes; uint32_t nwrites;   /* sorted by key */
    mv_key **wkeys;                        /* wkeys[i]: record of writes[i].key */
    pel_receipt receipt;
} txio;

typedef struct txstate {
    pel_spin lock;
    uint8_t status;            /* guarded by lock */
    uint32_t inc;              /* guarded by lock */
    uint32_t dep_head;         /* first transaction waiting on this one; lock */
    uint32_t dep_next;         /* next waiter in the list this one waits in;
                                  guarded by the lock of the transaction waited on */
    _Atomic(txio *) io;        /* latest recorded incarnation */
} __attribute__((aligned(64))) txstate;

typedef struct bstm bstm;

typedef struct bworker {
    bstm *b;
    pel_arena *arena;          /* values written and outputs: handed to the result */
    pel_arena *scratch;        /* key records, incarnation records: the engine's */
    bread *reads; uint32_t nreads, capreads;   /* scratch for the running incarnation */
    uint32_t blocking;
    int error;
    _Atomic uint64_t executions;   /* written by its worker, read by storm_check */
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
    _Alignas(64) _Atomic int32_t num_active;
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
    memset(r, 0, sizeof(*r));
    r->key = k;
    r->kind = (uint8_t)kind;
    return r;
}

static int bstm_read(pel_view *v, const pel_key *key, pel_val *out)
{
    bworker *w = v->eng;
    mv_key *k = mvmem_key(&w->b->mv, key, w->scratch);
    mv_read r;
    bread *rec;
    if (!k) return PEL_ENOMEM;
    mvmem_read(k, v->txn_idx, &r);
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

static int bstm_delta_check(pel_view *v, const pel_key *key, pel_i128 offset, uint64_t bound)
{
    bworker *w = v->eng;
    mv_key *k = mvmem_key(&w->b->mv, key, w->scratch);
    if (!k) return PEL_ENOMEM;
    int rc = mvmem_delta_outcome(k, v->txn_idx, offset, bound, &w->blocking);
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

static int read_valid(const bread *r, uint32_t j)
{
    mv_read now;
    uint32_t blocking;
    switch (r->kind) {
    case R_DELTA:
        return mvmem_delta_outcome(r->key, j, r->offset, r->bound, &blocking) == r->outcome;
    case R_BAD:
        return 0;
    default:
        mvmem_read(r->key, j, &now);
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
        if (!read_valid(&io->reads[i], j)) return 0;
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

static void check_done(bstm *b)
{
    uint64_t observed = atomic_load(&b->decrease_cnt);
    uint32_t e = atomic_load(&b->execution_idx), v = atomic_load(&b->validation_idx);
    if ((e < v ? e : v) >= b->n && atomic_load(&b->num_active) == 0
        && observed == atomic_load(&b->decrease_cnt))
        atomic_store(&b->done, 1);
}

/* try_incarnate - READY -> EXECUTING; the caller accounts num_active. */
static int try_incarnate(bstm *b, uint32_t idx, task *t)
{
    if (idx >= b->n) return 0;
    txstate *s = &b->tx[idx];
    int ok = 0;
    pel_spin_lock(&s->lock);
    if (s->status == ST_READY) {
        s->status = ST_EXECUTING;
        *t = (task){ T_EXEC, idx, s->inc };
        ok = 1;
    }
    pel_spin_unlock(&s->lock);
    return ok;
}

static task next_version_to_execute(bstm *b)
{
    task t;
    if (atomic_load(&b->execution_idx) >= b->n) { check_done(b); return NO_TASK; }
    atomic_fetch_add(&b->num_active, 1);
    uint32_t idx = atomic_fetch_add(&b->execution_idx, 1);
    if (try_incarnate(b, idx, &t)) return t;
    atomic_fetch_sub(&b->num_active, 1);
    return NO_TASK;
}

static task next_version_to_validate(bstm *b)
{
    task t = NO_TASK;
    if (atomic_load(&b->validation_idx) >= b->n) { check_done(b); return NO_TASK; }
    atomic_fetch_add(&b->num_active, 1);
    uint32_t idx = atomic_fetch_add(&b->validation_idx, 1);
    if (idx < b->n) {
        txstate *s = &b->tx[idx];
        pel_spin_lock(&s->lock);
        if (s->status == ST_EXECUTED) t = (task){ T_VALIDATE, idx, s->inc };
        pel_spin_unlock(&s->lock);
        if (t.kind != T_NONE) return t;
    }
    atomic_fetch_sub(&b->num_active, 1);
    return NO_TASK;
}

static task next_task(bstm *b)
{
    if (atomic_load(&b->validation_idx) < atomic_load(&b->execution_idx))
        return next_version_to_validate(b);
    return next_version_to_execute(b);
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
static int add_dependency(bstm *b, uint32_t idx, uint32_t blocking)
{
    txstate *bs = &b->tx[blocking], *s = &b->tx[idx];
    pel_spin_lock(&bs->lock);
    if (bs->status == ST_EXECUTED) { pel_spin_unlock(&bs->lock); return 0; }
    pel_spin_lock(&s->lock);
    s->status = ST_ABORTING;
    pel_spin_unlock(&s->lock);
    s->dep_next = bs->dep_head;
    bs->dep_head = idx;
    pel_spin_unlock(&bs->lock);
    atomic_fetch_sub(&b->num_active, 1);
    atomic_fetch_add_explicit(&b->dependencies, 1, memory_order_relaxed);
    storm_check(b);
    return 1;
}

static void set_ready_status(bstm *b, uint32_t idx)
{
    txstate *s = &b->tx[idx];
    pel_spin_lock(&s->lock);
    s->inc++;
    s->status = ST_READY;
    pel_spin_unlock(&s->lock);
}

static task finish_execution(bstm *b, uint32_t idx, uint32_t inc, int wrote_new)
{
    txstate *s = &b->tx[idx];
    pel_spin_lock(&s->lock);
    s->status = ST_EXECUTED;
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
    atomic_fetch_sub(&b->num_active, 1);
    return NO_TASK;
}

static int try_validation_abort(bstm *b, uint32_t idx, uint32_t inc)
{
    txstate *s = &b->tx[idx];
    int ok = 0;
    pel_spin_lock(&s->lock);
    if (s->status == ST_EXECUTED && s->inc == inc) { s->status = ST_ABORTING; ok = 1; }
    pel_spin_unlock(&s->lock);
    return ok;
}

static task finish_validation(bstm *b, uint32_t idx, int aborted)
{
    task t;
    if (aborted) {
        set_ready_status(b, idx);
        decrease_validation_idx(b, idx + 1);
        if (atomic_load(&b->execution_idx) > idx && try_incarnate(b, idx, &t)) return t;
    }
    atomic_fetch_sub(&b->num_active, 1);
    return NO_TASK;
}

/* ---------------- executing and recording ---------------- */

static void fail(bstm *b, bworker *w, int rc)
{
    w->error = rc;
    atomic_store(&b->error, 1);
    atomic_store(&b->halt, 1);
}

/* write_key - the record of a key written; most were read first, so look
 * in this incarnation's reads before the shared table. */
static mv_key *write_key(bstm *b, bworker *w, const pel_key *key)
{
    for (uint32_t r = 0; r < w->nreads; r++)
        if (pel_key_eq(&w->reads[r].key->node.key, key)) return w->reads[r].key;
    return mvmem_key(&b->mv, key, w->scratch);
}

/* build_io - copy the finished incarnation's reads and writes out of scratch. */
static txio *build_io(bstm *b, bworker *w, uint32_t inc, const pel_txout *o)
{
    txio *io = pel_arena_alloc(w->scratch, sizeof(*io));
    if (!io) return NULL;
    io->inc = inc;
    io->receipt = o->receipt;
    io->nreads = w->nreads;
    io->reads = pel_arena_memdup(w->scratch, w->reads, (size_t)w->nreads * sizeof(bread));
    io->nwrites = o->nw;
    io->writes = o->w;
    io->wkeys = pel_arena_alloc(w->scratch, (size_t)(o->nw ? o->nw : 1) * sizeof(mv_key *));
    if ((w->nreads && !io->reads) || !io->wkeys) return NULL;
    for (uint32_t i = 0; i < o->nw; i++)
        if (!(io->wkeys[i] = write_key(b, w, &o->w[i].key))) return NULL;
    return io;
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
static int record(bstm *b, uint32_t idx, txio *io)
{
    txio *prev = atomic_load_explicit(&b->tx[idx].io, memory_order_relaxed);
    int wrote_new = 0;
    uint32_t p = 0, np = prev ? prev->nwrites : 0;
    for (uint32_t i = 0; i < io->nwrites; i++) {
        const pel_txent *e = &io->writes[i];
        if (mvmem_write(&b->mv, io->wkeys[i], idx, io->inc, e) != 0) return PEL_ENOMEM;
        /* both lists sorted by key: advance through prev in step */
        while (p < np && pel_key_cmp(&prev->writes[p].key, &e->key) < 0) {
            wrote_new |= delta_changed(&prev->writes[p], NULL);
            mvmem_remove(prev->wkeys[p++], idx);
        }
        if (p < np && pel_key_eq(&prev->writes[p].key, &e->key)) wrote_new |= delta_changed(&prev->writes[p++], e);
        else wrote_new = 1;
    }
    for (; p < np; p++) {
        wrote_new |= delta_changed(&prev->writes[p], NULL);
        mvmem_remove(prev->wkeys[p], idx);
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
            if (add_dependency(b, t.idx, w->blocking)) return NO_TASK;
            continue;   /* the blocking transaction already finished: go again */
        }
        txio *io = rc == 0 ? build_io(b, w, t.inc, &o) : NULL;
        int wrote_new = io ? record(b, t.idx, io) : PEL_ENOMEM;
        if (wrote_new < 0 || rc) { fail(b, w, rc ? rc : wrote_new); return NO_TASK; }
        return finish_execution(b, t.idx, t.inc, wrote_new);
    }
}

static task needs_reexecution(bstm *b, task t)
{
    int aborted = !validate(b, t.idx) && try_validation_abort(b, t.idx, t.inc);
    if (aborted) {
        const txio *io = atomic_load_explicit(&b->tx[t.idx].io, memory_order_acquire);
        for (uint32_t i = 0; i < io->nwrites; i++) mvmem_mark_estimate(io->wkeys[i], t.idx);
        atomic_fetch_add_explicit(&b->aborts, 1, memory_order_relaxed);
        storm_check(b);
    }
    return finish_validation(b, t.idx, aborted);
}

static void worker_run(void *arg, unsigned id)
{
    bstm *b = arg;
    bworker *w = &b->w[id];
    task t = NO_TASK;
    while (!atomic_load(&b->done) && !atomic_load(&b->halt)) {
        if (t.kind == T_EXEC) t = try_execute(b, w, t);
        else if (t.kind == T_VALIDATE) t = needs_reexecution(b, t);
        if (t.kind == T_NONE) t = next_task(b);
    }
}

/* ---------------- assembling the result ---------------- */

/* committed_prefix - after a halt, with no worker running: the length of the
 * longest prefix whose transactions are executed and valid. */
static uint32_t committed_prefix(bstm *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        if (b->tx[i].status != ST_EXECUTED || !validate(b, i)) return i;
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
 * and write sets, additions becoming values. Two parallel passes: per
 * transaction (allocate its write set, copy its receipt), then per key (walk
 * the key's entries in block order, which is the order its values follow,
 * and fill each writer's slot). Every slot is written by exactly one key's
 * walk, so the passes need no locks. Values stay in the worker arenas, which
 * the result owns. */
typedef struct mat {
    bstm *b;
    uint32_t c;
    pel_block_result *r;
    mv_key **keys;
    uint32_t nkeys;
    _Atomic uint32_t next;   /* relaxed: only distributes work; pool_run orders passes */
} mat;

enum { MAT_CHUNK = 256 };

static int mat_txs(mat *m, bworker *w, uint32_t lo, uint32_t hi)
{
    for (uint32_t i = lo; i < hi; i++) {
        const txio *io = atomic_load_explicit(&m->b->tx[i].io, memory_order_acquire);
        pel_write *out = pel_arena_alloc(w->arena, (size_t)(io->nwrites ? io->nwrites : 1) * sizeof(*out));
        if (!out) return PEL_ENOMEM;
        m->r->tx_writes[i] = (pel_writeset){ out, io->nwrites };
        m->r->receipts[i] = io->receipt;   /* events are in a result-owned arena */
        /* a value or deletion is final as written; an addition's value
         * depends on the ones before it, so its entry learns where to put
         * it and the key pass fills it in block order */
        for (uint32_t j = 0; j < io->nwrites; j++) {
            const pel_txent *e = &io->writes[j];
            if (e->state == PEL_TXE_DELTA) mvmem_entry(io->wkeys[j], i)->slot = &out[j];
            else out[j] = (pel_write){ e->key, e->present ? PEL_W_PUT : PEL_W_DEL,
                                       e->present ? e->val : (pel_val){ NULL, 0 } };
        }
    }
    return 0;
}

/* mat_key - the key's value after txs [0, c), and the values its additions
 * produce. Keys never added to only need their last entry. */
static int mat_key(mat *m, bworker *w, mv_key *k)
{
    k->touched = 0;
    k->cur_present = k->base_present;
    k->cur = k->base;
    uint32_t first = 0;
    if (!k->has_delta) {
        first = mvmem_count_below(k, m->c);
        first = first ? first - 1 : 0;
    }
    for (uint32_t p = first; p < k->ne && k->e[p].idx < m->c; p++) {
        const mv_entry *e = &k->e[p];
        if (e->kind == MV_DELTA) {
            if (pel_counter_add(w->arena, &k->cur, &k->cur_present, e->acc)) return PEL_ENOMEM;
        } else {
            k->cur_present = e->kind == MV_VALUE;
            k->cur = k->cur_present ? e->val : (pel_val){ NULL, 0 };
        }
        k->touched = 1;
        if (e->kind == MV_DELTA)
            *e->slot = (pel_write){ k->node.key, PEL_W_PUT, k->cur };
    }
    return 0;
}

static void mat_pass(mat *m, unsigned id, int keys)
{
    bworker *w = &m->b->w[id];
    uint32_t total = keys ? m->nkeys : m->c;
    for (;;) {
        uint32_t lo = atomic_fetch_add_explicit(&m->next, MAT_CHUNK, memory_order_relaxed);
        if (lo >= total || w->error) return;
        uint32_t hi = lo + MAT_CHUNK < total ? lo + MAT_CHUNK : total;
        for (uint32_t i = lo; keys && i < hi && !w->error; i++) w->error = mat_key(m, w, m->keys[i]);
        if (!keys) w->error = mat_txs(m, w, lo, hi);
    }
}

static void mat_txs_worker(void *arg, unsigned id) { mat_pass(arg, id, 0); }
static void mat_keys_worker(void *arg, unsigned id) { mat_pass(arg, id, 1); }

static int materialise(bstm *b, pel_pool *pool, uint32_t c, pel_block_result *r)
{
    mat m = { b, c, r, NULL, 0, 0 };
    m.keys = malloc((pel_kmap_count(&b->mv.map) + 1) * sizeof(mv_key *));
    if (!m.keys) return PEL_ENOMEM;
    for (pel_kmap_node *nd = pel_kmap_first(&b->mv.map); nd; nd = nd->all_next)
        m.keys[m.nkeys++] = (mv_key *)nd;
    pel_pool_run(pool, mat_txs_worker, &m);
    int rc = first_error(b);
    if (rc == 0) {
        atomic_store_explicit(&m.next, 0, memory_order_relaxed);
        pel_pool_run(pool, mat_keys_worker, &m);
        rc = first_error(b);
    }
    free(m.keys);
    return rc;
}

/* prefix_get - the state after txs [0, c): what the sequential fallback
 * starts from. */
static int prefix_get(const void *ctx, const pel_key *key, pel_val *out)
{
    bstm *b = (bstm *)ctx;
    mv_key *k = mvmem_find(&b->mv, key);
    if (!k || !k->touched) return pel_state_get(b->mv.base, key, out);
    *out = k->cur;
    if (!k->cur_present) { out->p = NULL; out->len = 0; return PEL_ENOTFOUND; }
    return 0;
}

static int block_writes(bstm *b, pel_pool *pool, pel_seq *tail, pel_block_result *r)
{
    size_t cap = pel_kmap_count(&b->mv.map) + (tail ? tail->nwritten : 0) + 1;
    pel_write *w = pel_arena_alloc(&r->arena, cap * sizeof(*w));
    if (!w) return PEL_ENOMEM;
    uint32_t n = 0;
    for (pel_kmap_node *nd = pel_kmap_first(&b->mv.map); nd; nd = nd->all_next) {
        mv_key *k = (mv_key *)nd;
        if (k->touched)
            w[n++] = (pel_write){ nd->key, k->cur_present ? PEL_W_PUT : PEL_W_DEL, k->cur };
    }
    if (tail) n += pel_seq_writes(tail, w + n);   /* after: the tail's values win */
    int rc = pel_writes_sort_par(pool, &r->arena, &w, n);
    if (rc) return rc;
    r->block_writes = (pel_writeset){ w, pel_writes_dedup_last(w, n) };
    return 0;
}

static int finish_sequentially(bstm *b, pel_pool *pool, uint32_t c, pel_block_result *r)
{
    pel_state prefix = { prefix_get, b };
    pel_seq s;
    int rc = pel_seq_init(&s, &prefix, b->txs, b->ex, r, (size_t)(b->n - c) * 4);
    if (rc == 0) rc = pel_seq_run(&s, c, b->n);
    if (rc == 0) rc = block_writes(b, pool, &s, r);
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
        b->w[i].arena = &r->more_arenas[i];
        b->w[i].scratch = &e->scratch[i];
        pel_arena_reset(b->w[i].scratch);
    }
    for (uint32_t i = 0; i < n; i++) {
        txstate *s = &b->tx[i];
        pel_spin_init(&s->lock);
        s->status = ST_READY;
        s->inc = 0;
        s->dep_head = s->dep_next = NO_TX;
        atomic_init(&s->io, NULL);
    }
    return mvmem_init(&b->mv, base, (size_t)n * 4);
}

static void teardown(bstm *b)
{
    if (b->mv.map.buckets) mvmem_free(&b->mv);
    for (unsigned i = 0; b->w && i < b->nworkers; i++) free(b->w[i].reads);
    free(b->w);
}

int pel_bstm_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                     uint32_t n, const pel_executor *ex, pel_block_result *out)
{
    bstm b;
    int rc = pel_result_alloc(out, n);
    if (rc) return rc;
    if ((rc = setup(&b, e, base, txs, n, ex, out)) != 0) goto done;
    if (n > 0) pel_pool_run(e->pool, worker_run, &b);
    if (atomic_load(&b.error)) { rc = first_error(&b); if (!rc) rc = PEL_ENOMEM; goto done; }
    uint32_t c = atomic_load(&b.done) ? n : committed_prefix(&b);
    if ((rc = materialise(&b, e->pool, c, out)) != 0) goto done;
    for (unsigned i = 0; i < b.nworkers; i++) out->stats.executions += atomic_load(&b.w[i].executions);
    out->stats.aborts = atomic_load(&b.aborts);
    out->stats.dependencies = atomic_load(&b.dependencies);
    out->stats.fallback_from = c;
    rc = c < n ? finish_sequentially(&b, e->pool, c, out) : block_writes(&b, e->pool, NULL, out);
done:
    teardown(&b);
    if (rc) pel_block_result_free(out);
    return rc;
}
