/*
 * engine.c - the engine interface: options, dispatch, and the pieces of a
 * block result every engine builds the same way (sorting, digest).
 */
#include "exec/engine_int.h"

#include <stdlib.h>
#include <string.h>
#include "core/codec.h"
#include "core/hash.h"

static const char *const kind_names[] = { "sequential", "blockstm", "declared" };

int pel_engine_kind_parse(const char *s, pel_engine_kind *out)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(s, kind_names[k]) == 0) { *out = (pel_engine_kind)k; return 0; }
    return PEL_EINVAL;
}

const char *pel_engine_kind_name(pel_engine_kind k)
{
    return (unsigned)k < 3 ? kind_names[k] : "unknown";
}

pel_engine_opts pel_engine_defaults(pel_engine_kind kind, unsigned threads)
{
    pel_engine_opts o = { kind, threads ? threads : 1, 32, 3, 0 };
    o.wave_min_parallel = 64 * o.threads;   /* a parallel phase costs two pool hand-offs */
    return o;
}

int pel_engine_new(const pel_engine_opts *opts, pel_engine **out)
{
    *out = NULL;
    if ((unsigned)opts->kind > PEL_ENGINE_DECLARED || opts->threads < 1 || opts->threads > 1024)
        return PEL_EINVAL;
    pel_engine *e = calloc(1, sizeof(*e));
    if (!e) return PEL_ENOMEM;
    e->o = *opts;
    atomic_init(&e->busy, 0);
    unsigned threads = opts->kind == PEL_ENGINE_SEQUENTIAL ? 1 : opts->threads;
    int rc = pel_pool_new(threads, &e->pool);
    if (rc) { free(e); return rc; }
    pel_pool_name(e->pool, "pel-exec");
    /* a block runs 3-4 jobs back to back (execution, materialisation, the
     * sort): keep the workers awake between them */
    pel_pool_set_spin(e->pool, 200);
    e->scratch = calloc(threads, sizeof(pel_arena));
    if (!e->scratch) { pel_engine_free(e); return PEL_ENOMEM; }
    for (unsigned i = 0; i < threads; i++) pel_arena_init(&e->scratch[i], 8 << 20);
    *out = e;
    return 0;
}

void pel_engine_free(pel_engine *e)
{
    if (!e) return;
    for (unsigned i = 0; e->scratch && i < pel_pool_size(e->pool); i++) pel_arena_free(&e->scratch[i]);
    free(e->scratch);
    free(e->txbuf);
    pel_pool_free(e->pool);
    free(e);
}

int pel_engine_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                       uint32_t n, const pel_executor *ex, pel_block_result *out)
{
    /* A second caller is refused, not let in: two blocks in one engine
     * share its scratch and its pool and corrupt each other. acquire /
     * release: the next block sees everything the last one left. */
    if (atomic_exchange_explicit(&e->busy, 1, memory_order_acquire)) {
        memset(out, 0, sizeof *out);
        return PEL_EBUSY;
    }
    int rc;
    switch (e->o.kind) {
    case PEL_ENGINE_BLOCKSTM: rc = pel_bstm_execute(e, base, txs, n, ex, out); break;
    case PEL_ENGINE_DECLARED: rc = pel_decl_execute(e, base, txs, n, ex, out); break;
    default: rc = pel_seq_execute(e, base, txs, n, ex, out); break;
    }
    atomic_store_explicit(&e->busy, 0, memory_order_release);
    return rc;
}

void *pel_engine_txbuf(pel_engine *e, size_t size)
{
    if (size <= e->txbuf_size) return e->txbuf;
    size = (size + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, size);
    if (!p) return NULL;
    free(e->txbuf);
    e->txbuf = p;
    e->txbuf_size = size;
    return p;
}

void pel_block_result_free(pel_block_result *r)
{
    pel_arena_free(&r->arena);
    for (unsigned i = 0; i < r->n_more_arenas; i++) pel_arena_free(&r->more_arenas[i]);
    free(r->more_arenas);
    memset(r, 0, sizeof(*r));
}

int pel_result_alloc(pel_block_result *r, uint32_t n)
{
    memset(r, 0, sizeof(*r));
    pel_arena_init(&r->arena, 1 << 20);
    r->n = n;
    r->receipts = pel_arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(pel_receipt));
    r->tx_writes = pel_arena_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof(pel_writeset));
    if (!r->receipts || !r->tx_writes) { pel_block_result_free(r); return PEL_ENOMEM; }
    memset(r->receipts, 0, (size_t)n * sizeof(pel_receipt));
    memset(r->tx_writes, 0, (size_t)n * sizeof(pel_writeset));
    r->stats.fallback_from = n;
    return 0;
}

int pel_result_worker_arenas(pel_block_result *r, unsigned workers)
{
    r->more_arenas = calloc(workers, sizeof(pel_arena));
    if (!r->more_arenas) return PEL_ENOMEM;
    r->n_more_arenas = workers;
    for (unsigned i = 0; i < workers; i++) pel_arena_init(&r->more_arenas[i], 1 << 20);
    return 0;
}

int pel_u64_val(pel_arena *a, uint64_t x, pel_val *out)
{
    uint8_t *p = pel_arena_alloc(a, 8);
    if (!p) return PEL_ENOMEM;
    pel_le_store(p, x, 8);
    out->p = p;
    out->len = 8;
    return 0;
}

int pel_counter_add(pel_arena *a, pel_val *val, uint8_t *present, pel_i128 acc)
{
    uint64_t base = 0;
    (void)!pel_val_u64(val, *present, &base);   /* a counter: its check passed */
    if (pel_u64_val(a, (uint64_t)((pel_i128)base + acc), val)) return PEL_ENOMEM;
    *present = 1;
    return 0;
}

/* ---- running one transaction ---- */

static void sort_ents(pel_txent *w, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        pel_txent t = w[i];
        uint32_t j = i;
        for (; j > 0 && pel_key_cmp(&w[j - 1].key, &t.key) > 0; j--) w[j] = w[j - 1];
        w[j] = t;
    }
}

int pel_exec_run(const pel_executor *ex, const pel_txdesc *tx, pel_view *v,
                 pel_arena *a, pel_txout *out)
{
    memset(out, 0, sizeof(*out));
    int status = ex->exec(ex->ctx, tx->tx, v);
    if (v->halted) return PEL_EHALT;
    if (status == PEL_ENOMEM) return PEL_ENOMEM;
    if (v->violation) {          /* the rule: undeclared access voids the writes */
        pel_view_rollback(v);
        status = PEL_EACCESS;
    }
    uint32_t nd = 0;
    for (uint32_t i = 0; i < v->n; i++) nd += v->ents[i].dirty;
    out->w = pel_arena_alloc(a, (size_t)(nd ? nd : 1) * sizeof(pel_txent));
    if (!out->w) return PEL_ENOMEM;
    for (uint32_t i = 0; i < v->n; i++)
        if (v->ents[i].dirty) out->w[out->nw++] = v->ents[i];
    sort_ents(out->w, out->nw);
    out->receipt.status = status;
    out->receipt.gas_used = v->gas;
    out->receipt.events_len = v->events_len;
    out->receipt.events = v->events_len ? v->events : NULL;   /* in the view's arena */
    return 0;
}

/* ---- sorting writes: a stable merge sort for small sets; from RADIX_MIN
 * writes on an LSD radix sort on the first 4 key bytes, then a merge sort of
 * each run sharing that prefix (rare: keys are hashes; correct for any
 * keys). Around 3,000 writes (half a block's on two workers) the merge sort's
 * dozen passes of key comparisons cost several times the radix sort's three
 * counting passes, so the radix sort starts low. ---- */

enum { RADIX_MIN = 256 };

static int write_cmp(const pel_write *a, const pel_write *b)
{
    return pel_key_cmp(&a->key, &b->key);
}

/* merge_sort - stable sort for small and medium sets. */
static int merge_sort(pel_write *w, uint32_t n)
{
    if (n < 2) return 0;
    pel_write *tmp = malloc((size_t)n * sizeof(*tmp));
    if (!tmp) return PEL_ENOMEM;
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = write_cmp(&w[j], &w[i]) < 0 ? w[j++] : w[i++];
            while (i < mid) tmp[k++] = w[i++];
            while (j < hi) tmp[k++] = w[j++];
        }
        memcpy(w, tmp, (size_t)n * sizeof(*w));
    }
    free(tmp);
    return 0;
}

/* An entry of the radix sort: a key's first 4 bytes (big-endian) and where
 * the write is; 8 bytes move per pass instead of a 48-byte write. */
typedef struct rkey { uint32_t k, i; } rkey;

static uint32_t key32(const pel_key *k)
{
    return (uint32_t)k->b[0] << 24 | (uint32_t)k->b[1] << 16 | (uint32_t)k->b[2] << 8 | k->b[3];
}

/* scatter - one stable counting-sort pass on bits [shift, shift+bits). */
static void scatter(rkey *src, rkey *dst, uint32_t n, uint32_t *count, int shift, uint32_t mask)
{
    uint32_t sum = 0;
    for (uint32_t b = 0; b <= mask; b++) { uint32_t c = count[b]; count[b] = sum; sum += c; }
    for (uint32_t i = 0; i < n; i++) dst[count[(src[i].k >> shift) & mask]++] = src[i];
}

int pel_writes_sort(pel_write *w, uint32_t n)
{
    if (n < RADIX_MIN) return merge_sort(w, n);
    rkey *a = malloc(2 * (size_t)n * sizeof(rkey));
    pel_write *tmp = malloc((size_t)n * sizeof(*tmp));
    uint32_t c0[2048] = { 0 }, c1[2048] = { 0 }, c2[1024] = { 0 };
    if (!a || !tmp) { free(a); free(tmp); return PEL_ENOMEM; }
    rkey *b = a + n;
    int rc = 0;
    for (uint32_t i = 0; i < n; i++) {   /* 11 + 11 + 10 bits: small, cache-resident counts */
        uint32_t x = key32(&w[i].key);
        a[i] = (rkey){ x, i };
        c0[x & 2047]++;
        c1[(x >> 11) & 2047]++;
        c2[x >> 22]++;
    }
    scatter(a, b, n, c0, 0, 2047);
    scatter(b, a, n, c1, 11, 2047);
    scatter(a, b, n, c2, 22, 1023);
    for (uint32_t i = 0; i < n; i++) tmp[i] = w[b[i].i];
    memcpy(w, tmp, (size_t)n * sizeof(*w));
    /* runs sharing a 4-byte prefix (rare for hashed keys, but any key is
     * allowed): finish each run by full key, stably */
    for (uint32_t lo = 0; lo < n && rc == 0;) {
        uint32_t hi = lo + 1;
        while (hi < n && b[hi].k == b[lo].k) hi++;
        if (hi - lo > 1) rc = merge_sort(w + lo, hi - lo);
        lo = hi;
    }
    free(a);
    free(tmp);
    return rc;
}

/* Parallel sort: scatter by the key's first byte into one range per worker
 * (keys are hashes, so ranges are even), then sort the ranges concurrently.
 * The scatter is parallel too: worker t counts its segment of the input per
 * range (cnt[t][r]), the caller turns the counts into where each segment's
 * part of each range starts (segments in input order), and every worker
 * copies its segment there. Within a range, elements therefore keep their
 * input order, so the whole sort is stable. */
typedef struct psort {
    const pel_write *in;
    pel_write *w;
    uint32_t n;
    unsigned parts;
    uint32_t *cnt;        /* [t * parts + r]: counts, then start offsets */
    uint32_t start[65];   /* range r is w[start[r], start[r+1]) */
    _Atomic int err;
} psort;

static unsigned range_of(const psort *p, const pel_write *x)
{
    return x->key.b[0] * p->parts / 256;
}

/* segment - worker id's part of the input, [*lo, *hi). */
static void segment(const psort *p, unsigned id, uint32_t *lo, uint32_t *hi)
{
    *lo = (uint32_t)((uint64_t)p->n * id / p->parts);
    *hi = (uint32_t)((uint64_t)p->n * (id + 1) / p->parts);
}

static void psort_count(void *arg, unsigned id)
{
    psort *p = arg;
    uint32_t lo, hi, *c = p->cnt + (size_t)id * p->parts;
    segment(p, id, &lo, &hi);
    for (uint32_t i = lo; i < hi; i++) c[range_of(p, &p->in[i])]++;
}

static void psort_scatter(void *arg, unsigned id)
{
    psort *p = arg;
    uint32_t lo, hi, *at = p->cnt + (size_t)id * p->parts;
    segment(p, id, &lo, &hi);
    for (uint32_t i = lo; i < hi; i++) p->w[at[range_of(p, &p->in[i])]++] = p->in[i];
}

static void psort_worker(void *arg, unsigned id)
{
    psort *p = arg;
    int rc = pel_writes_sort(p->w + p->start[id], p->start[id + 1] - p->start[id]);
    if (rc) atomic_store(&p->err, rc);
}

/* Below this many writes one worker's radix sort is quicker than three
 * pool passes: a 10,000-transfer block's 10,002 writes took 0.11-0.19 ms
 * alone and 0.16-0.30 ms on 2 workers (2-core VM, 2026-11-27). */
enum { PSORT_MIN = 16384 };

int pel_writes_sort_par(pel_pool *pool, pel_arena *a, pel_write **w, uint32_t n)
{
    unsigned parts = pel_pool_size(pool);
    if (parts == 1 || parts > 64 || n < PSORT_MIN) return pel_writes_sort(*w, n);
    psort p = { *w, pel_arena_alloc(a, (size_t)n * sizeof(pel_write)), n, parts,
                calloc((size_t)parts * parts, sizeof(uint32_t)), { 0 }, 0 };
    if (!p.w || !p.cnt) { free(p.cnt); return PEL_ENOMEM; }
    pel_pool_run(pool, psort_count, &p);
    uint32_t at = 0;
    for (unsigned r = 0; r < parts; r++) {   /* range by range, segments in order */
        p.start[r] = at;
        for (unsigned t = 0; t < parts; t++) {
            uint32_t c = p.cnt[(size_t)t * parts + r];
            p.cnt[(size_t)t * parts + r] = at;
            at += c;
        }
    }
    p.start[parts] = at;
    pel_pool_run(pool, psort_scatter, &p);
    free(p.cnt);
    pel_pool_run(pool, psort_worker, &p);
    if (atomic_load(&p.err)) return atomic_load(&p.err);
    *w = p.w;
    return 0;
}

uint32_t pel_writes_dedup_last(pel_write *w, uint32_t n)
{
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (o > 0 && pel_key_eq(&w[o - 1].key, &w[i].key)) w[o - 1] = w[i];
        else w[o++] = w[i];
    }
    return o;
}

/* ---- the result digest ---- */

static void put_le(pel_hasher *h, uint64_t x, int bytes)
{
    uint8_t b[8];
    pel_le_store(b, x, (size_t)bytes);
    pel_hasher_update(h, b, (size_t)bytes);
}

int pel_block_result_digest(pel_block_result *r)
{
    pel_hasher h;
    int rc = pel_hasher_init(&h, "PEL/exec-result");
    if (rc) return rc;
    put_le(&h, r->n, 4);
    for (uint32_t i = 0; i < r->n; i++) {
        const pel_receipt *rc_ = &r->receipts[i];
        put_le(&h, (uint32_t)rc_->status, 4);
        put_le(&h, rc_->gas_used, 8);
        put_le(&h, rc_->events_len, 4);
        pel_hasher_update(&h, rc_->events, rc_->events_len);
        const pel_writeset *ws = &r->tx_writes[i];
        put_le(&h, ws->n, 4);
        for (uint32_t j = 0; j < ws->n; j++) {
            pel_hasher_update(&h, ws->w[j].key.b, PEL_KEY_LEN);
            put_le(&h, ws->w[j].kind, 1);
            put_le(&h, ws->w[j].val.len, 4);
            pel_hasher_update(&h, ws->w[j].val.p, ws->w[j].val.len);
        }
    }
    return pel_hasher_final(&h, r->digest);
}
