/*
 * declared.c - the declared-access engine (Sealevel-style waves).
 *
 * Every transaction that carries an access list is placed in the earliest
 * wave after every earlier transaction it conflicts with: a read after the
 * last write or addition to the key, a write after every earlier access, an
 * addition after the last read or write of the key. Additions do not order
 * each other. A transaction without a list conflicts with everything: it
 * gets a wave of its own, and everything after it comes later. Waves run in
 * order; the transactions of a wave run in parallel against the state left
 * by earlier waves, since none of them writes what another reads.
 *
 * Additions are therefore applied out of block order, so each bound check
 * made during execution is speculative (it saw the counter as the earlier
 * waves left it). Reads are not: a read comes after every earlier addition
 * and before every later one. When all waves have run, one sequential pass
 * replays the block in order over every write and recorded bound check:
 * if every check comes out as it did, the execution was the sequential one
 * and the pass gives each addition the value it produces in block order; if
 * one does not (a counter close to its bound, additions racing for it), the
 * block is executed again by the sequential engine. Counters with ample
 * headroom, such as fee pools, never take that path. The view enforces the
 * lists (view.c), in every engine alike.
 */
#include "exec/engine_int.h"

#include <stdatomic.h>
#include <stdlib.h>

typedef struct dnode {
    pel_kmap_node n;
    uint8_t present, written;
    pel_val val;               /* current value (overlay) */
    uint8_t base_present, run_present;
    pel_val base, run;         /* pre-block value; block-order replay */
    /* planning */
    uint32_t last_write, last_read, last_delta;   /* waves, 0 = none */
} dnode;

typedef struct dcheck { dnode *node; pel_i128 offset; uint64_t bound; int outcome; } dcheck;

typedef struct dtx {
    pel_txout out;
    dnode **wnodes;            /* wnodes[k]: overlay node of out.w[k] */
    dcheck *checks;
    uint32_t nchecks;
} dtx;

typedef struct decl decl;

typedef struct dworker {
    decl *d;
    pel_arena *arena;
    dcheck *checks; uint32_t nchecks, capchecks;   /* scratch for the running tx */
    int error;
} __attribute__((aligned(64))) dworker;

struct decl {
    const pel_state *base;
    const pel_txdesc *txs;
    const pel_executor *ex;
    uint32_t n;
    pel_kmap map;
    dtx *tx;
    uint32_t *order;           /* transaction indices grouped by wave */
    const uint32_t *wave_txs;  /* the running wave */
    uint32_t wave_n;
    _Atomic uint32_t next;     /* work counter inside a phase */
    dworker *w;
    unsigned nworkers;
    pel_block_result *r;
    pel_pool *pool;
};

/* ---------------- the overlay ---------------- */

static dnode *node_for(decl *d, const pel_key *key, pel_arena *a)
{
    uint64_t h = pel_key_hash(key);
    dnode *dn = (dnode *)pel_kmap_find(&d->map, key, h);
    if (dn) return dn;
    if (!(dn = pel_arena_alloc(a, sizeof(*dn)))) return NULL;
    memset(dn, 0, sizeof(*dn));
    dn->n.key = *key;
    dn->present = pel_state_get(d->base, key, &dn->val) == 0;
    dn->base_present = dn->present;
    dn->base = dn->val;
    return (dnode *)pel_kmap_insert(&d->map, &dn->n, h);
}

static int decl_read(pel_view *v, const pel_key *key, void **ref, pel_val *out)
{
    (void)ref;
    dworker *w = v->eng;
    dnode *dn = node_for(w->d, key, w->arena);
    if (!dn) return PEL_ENOMEM;
    *out = dn->val;
    return dn->present ? 0 : PEL_ENOTFOUND;
}

static int decl_delta_check(pel_view *v, const pel_key *key, void **ref, pel_i128 offset, uint64_t bound)
{
    (void)ref;
    dworker *w = v->eng;
    dnode *dn = node_for(w->d, key, w->arena);
    if (!dn) return PEL_ENOMEM;
    int rc = pel_counter_check(&dn->val, dn->present, offset, bound);
    if (pel_grow((void **)&w->checks, w->nchecks, &w->capchecks, sizeof(dcheck), 16)) return PEL_ENOMEM;
    w->checks[w->nchecks++] = (dcheck){ dn, offset, bound, rc };
    return rc;
}

static const pel_view_ops decl_ops = { decl_read, decl_delta_check };

/* ---------------- planning ---------------- */

static uint32_t max3(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* wave_of - the earliest wave after `floor` that follows every earlier
 * conflicting access; then records this transaction's accesses. */
static int wave_of(decl *d, const pel_access *a, uint32_t floor, uint32_t *wave)
{
    const pel_key *lists[3] = { a->reads, a->writes, a->deltas };
    uint32_t counts[3] = { a->n_reads, a->n_writes, a->n_deltas };
    uint32_t w = floor + 1;
    for (int l = 0; l < 3; l++) {
        for (uint32_t i = 0; i < counts[l]; i++) {
            dnode *dn = node_for(d, &lists[l][i], d->w[0].arena);
            if (!dn) return PEL_ENOMEM;
            uint32_t after = l == 0 ? (dn->last_write > dn->last_delta ? dn->last_write : dn->last_delta)
                           : l == 1 ? max3(dn->last_write, dn->last_read, dn->last_delta)
                           : (dn->last_write > dn->last_read ? dn->last_write : dn->last_read);
            if (after + 1 > w) w = after + 1;
        }
    }
    for (int l = 0; l < 3; l++) {
        for (uint32_t i = 0; i < counts[l]; i++) {
            dnode *dn = (dnode *)pel_kmap_find(&d->map, &lists[l][i], pel_key_hash(&lists[l][i]));
            uint32_t *slot = l == 0 ? &dn->last_read : l == 1 ? &dn->last_write : &dn->last_delta;
            if (*slot < w) *slot = w;
        }
    }
    *wave = w;
    return 0;
}

/* plan - group transaction indices by wave into d->order; wave_start[w] is
 * where wave w (1-based) begins. Returns the number of waves or an error. */
static int plan(decl *d, uint32_t **wave_start_out)
{
    uint32_t *wave = malloc((size_t)(d->n + 1) * sizeof(uint32_t));
    if (!wave) return PEL_ENOMEM;
    uint32_t floor = 0, top = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        const pel_access *a = d->txs[i].access;
        if (!a) { wave[i] = floor = top + 1; }
        else if (wave_of(d, a, floor, &wave[i]) != 0) { free(wave); return PEL_ENOMEM; }
        if (wave[i] > top) top = wave[i];
    }
    uint32_t *start = calloc((size_t)top + 2, sizeof(uint32_t));
    if (!start) { free(wave); return PEL_ENOMEM; }
    for (uint32_t i = 0; i < d->n; i++) start[wave[i] + 1]++;
    for (uint32_t w = 1; w <= top; w++) start[w + 1] += start[w];
    uint32_t *fill = calloc((size_t)top + 2, sizeof(uint32_t));
    if (!fill) { free(wave); free(start); return PEL_ENOMEM; }
    memcpy(fill, start, ((size_t)top + 2) * sizeof(uint32_t));
    for (uint32_t i = 0; i < d->n; i++) d->order[fill[wave[i]]++] = i;   /* stable: block order */
    free(fill);
    free(wave);
    *wave_start_out = start;
    return (int)top;
}

/* ---------------- executing ---------------- */

static int execute_one(decl *d, dworker *w, uint32_t i)
{
    pel_view v;
    w->nchecks = 0;
    pel_view_init(&v, &decl_ops, w, i, d->txs[i].access, w->arena);
    int rc = pel_exec_run(d->ex, &d->txs[i], &v, w->arena, &d->tx[i].out);
    if (rc) return rc;
    dtx *t = &d->tx[i];
    t->nchecks = w->nchecks;
    t->checks = w->nchecks ? pel_arena_memdup(w->arena, w->checks, (size_t)w->nchecks * sizeof(dcheck)) : NULL;
    return w->nchecks && !t->checks ? PEL_ENOMEM : 0;
}

/* apply_deltas - make tx i's additions current values (sequential only). */
static int apply_deltas(decl *d, dworker *w, uint32_t i)
{
    pel_txout *o = &d->tx[i].out;
    for (uint32_t k = 0; k < o->nw; k++) {
        pel_txent *e = &o->w[k];
        if (e->state != PEL_TXE_DELTA) continue;
        dnode *dn = node_for(d, &e->key, w->arena);
        if (!dn || pel_counter_add(w->arena, &dn->val, &dn->present, e->acc)) return PEL_ENOMEM;
        dn->written = 1;
        e->state = PEL_TXE_KNOWN;
        e->present = 1;
        e->val = dn->val;
        e->dirty = 2;   /* already in the overlay */
    }
    return 0;
}

/* apply_rest - apply tx i's other writes and build its write set. Keys are
 * private to i within its wave, so workers may do this concurrently. */
static int apply_rest(decl *d, dworker *w, uint32_t i)
{
    pel_txout *o = &d->tx[i].out;
    pel_write *ws = pel_arena_alloc(w->arena, (size_t)(o->nw ? o->nw : 1) * sizeof(*ws));
    dnode **nodes = pel_arena_alloc(w->arena, (size_t)(o->nw ? o->nw : 1) * sizeof(*nodes));
    if (!ws || !nodes) return PEL_ENOMEM;
    d->tx[i].wnodes = nodes;
    for (uint32_t k = 0; k < o->nw; k++) {
        const pel_txent *e = &o->w[k];
        dnode *dn = nodes[k] = node_for(d, &e->key, w->arena);
        if (!dn) return PEL_ENOMEM;
        if (e->dirty != 2) { dn->present = e->present; dn->val = e->val; dn->written = 1; }
        ws[k] = (pel_write){ e->key, e->present ? PEL_W_PUT : PEL_W_DEL, e->present ? e->val : (pel_val){ NULL, 0 } };
    }
    d->r->tx_writes[i] = (pel_writeset){ ws, o->nw };
    d->r->receipts[i] = o->receipt;
    return 0;
}

typedef int (*phase_fn)(decl *d, dworker *w, uint32_t i);

static void phase_worker(decl *d, unsigned id, phase_fn fn)
{
    dworker *w = &d->w[id];
    for (;;) {
        /* relaxed: the counter only distributes indices; the pool's
         * hand-off orders the phases. */
        uint32_t k = atomic_fetch_add_explicit(&d->next, 1, memory_order_relaxed);
        if (k >= d->wave_n || w->error) return;
        int rc = fn(d, w, d->wave_txs[k]);
        if (rc) w->error = rc;
    }
}

static void exec_phase(void *arg, unsigned id) { phase_worker(arg, id, execute_one); }
static void apply_phase(void *arg, unsigned id) { phase_worker(arg, id, apply_rest); }

static int phase_error(decl *d)
{
    for (unsigned i = 0; i < d->nworkers; i++) if (d->w[i].error) return d->w[i].error;
    return 0;
}

static int run_inline(decl *d, const uint32_t *txs, uint32_t n)
{
    dworker *w = &d->w[0];
    for (uint32_t k = 0; k < n; k++) {
        int rc = execute_one(d, w, txs[k]);
        if (!rc) rc = apply_deltas(d, w, txs[k]);
        if (!rc) rc = apply_rest(d, w, txs[k]);
        if (rc) return rc;
    }
    return 0;
}

static int run_parallel(decl *d, pel_pool *pool, const uint32_t *txs, uint32_t n)
{
    d->wave_txs = txs;
    d->wave_n = n;
    atomic_store(&d->next, 0);
    pel_pool_run(pool, exec_phase, d);
    int rc = phase_error(d);
    for (uint32_t k = 0; !rc && k < n; k++)   /* several may add to one key */
        rc = apply_deltas(d, &d->w[0], txs[k]);
    if (rc) return rc;
    atomic_store(&d->next, 0);
    pel_pool_run(pool, apply_phase, d);
    return phase_error(d);
}

/* replay - walk the block in order over every write and bound check: each
 * check must come out as it did during execution, and each addition gets
 * the value it produces in block order. Returns 1 if all checks held, 0 if
 * one did not (the caller then executes the block sequentially), or an error. */
static int replay(decl *d)
{
    pel_arena *a = d->w[0].arena;
    for (pel_kmap_node *nd = pel_kmap_first(&d->map); nd; nd = nd->all_next) {
        dnode *dn = (dnode *)nd;
        dn->run_present = dn->base_present;
        dn->run = dn->base;
    }
    for (uint32_t i = 0; i < d->n; i++) {
        const dtx *t = &d->tx[i];
        for (uint32_t c = 0; c < t->nchecks; c++)
            if (pel_counter_check(&t->checks[c].node->run, t->checks[c].node->run_present,
                                  t->checks[c].offset, t->checks[c].bound) != t->checks[c].outcome)
                return 0;
        for (uint32_t k = 0; k < t->out.nw; k++) {
            const pel_txent *e = &t->out.w[k];
            dnode *dn = t->wnodes[k];
            if (e->dirty == 2) {   /* an addition: its value in block order */
                if (pel_counter_add(a, &dn->run, &dn->run_present, e->acc)) return PEL_ENOMEM;
                d->r->tx_writes[i].w[k].val = dn->run;
            } else {
                dn->run_present = e->present;
                dn->run = e->present ? e->val : (pel_val){ NULL, 0 };
            }
        }
    }
    return 1;
}

static int collect(decl *d)
{
    pel_block_result *r = d->r;
    size_t cap = pel_kmap_count(&d->map) + 1;
    pel_write *w = pel_arena_alloc(&r->arena, cap * sizeof(*w));
    if (!w) return PEL_ENOMEM;
    uint32_t n = 0;
    for (pel_kmap_node *nd = pel_kmap_first(&d->map); nd; nd = nd->all_next) {
        dnode *dn = (dnode *)nd;
        if (dn->written) w[n++] = (pel_write){ nd->key, dn->present ? PEL_W_PUT : PEL_W_DEL, dn->val };
    }
    int rc = pel_writes_sort_par(d->pool, &r->arena, &w, n);
    r->block_writes = (pel_writeset){ w, n };
    return rc;
}

static int setup(decl *d, pel_engine *e, pel_block_result *r)
{
    d->nworkers = pel_pool_size(e->pool);
    d->pool = e->pool;
    d->r = r;
    d->tx = calloc((size_t)d->n + 1, sizeof(dtx));
    d->order = malloc(((size_t)d->n + 1) * sizeof(uint32_t));
    d->w = aligned_alloc(64, (size_t)d->nworkers * sizeof(dworker));
    if (!d->tx || !d->order || !d->w || pel_result_worker_arenas(r, d->nworkers)) return PEL_ENOMEM;
    memset(d->w, 0, (size_t)d->nworkers * sizeof(dworker));
    for (unsigned i = 0; i < d->nworkers; i++) {
        d->w[i].d = d;
        d->w[i].arena = &r->more_arenas[i];
    }
    return pel_kmap_init(&d->map, (size_t)d->n * 4, PEL_KMAP_LISTED);
}

static void teardown(decl *d)
{
    for (unsigned i = 0; d->w && i < d->nworkers; i++) free(d->w[i].checks);
    free(d->w);
    free(d->tx);
    free(d->order);
    pel_kmap_free(&d->map);
}

int pel_decl_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                     uint32_t n, const pel_executor *ex, pel_block_result *out)
{
    decl d;
    uint32_t *start = NULL;
    int held = 1;   /* replay verdict: 1 all bound checks held, 0 not */
    memset(&d, 0, sizeof(d));
    d.base = base;
    d.txs = txs;
    d.ex = ex;
    d.n = n;
    int rc = pel_result_alloc(out, n);
    if (rc) return rc;
    if ((rc = setup(&d, e, out)) != 0) goto done;
    int waves = plan(&d, &start);
    if (waves < 0) { rc = waves; goto done; }
    out->stats.waves = (uint64_t)waves;
    for (int wv = 1; rc == 0 && wv <= waves; wv++) {
        const uint32_t *wt = d.order + start[wv];
        uint32_t wn = start[wv + 1] - start[wv];
        int par = d.nworkers > 1 && wn >= e->o.wave_min_parallel;
        rc = par ? run_parallel(&d, e->pool, wt, wn) : run_inline(&d, wt, wn);
    }
    out->stats.executions = n;
    held = rc == 0 ? replay(&d) : rc;
    if (held == 1) rc = collect(&d);
    else if (held < 0) rc = held;
done:
    free(start);
    teardown(&d);
    if (rc) pel_block_result_free(out);
    if (rc == 0 && held == 0) {   /* a bound check depended on the order of additions */
        pel_block_result_free(out);
        rc = pel_seq_execute(e, base, txs, n, ex, out);
        if (rc == 0) { out->stats.fallback_from = 0; out->stats.reexecutions = n; }
    }
    return rc;
}
