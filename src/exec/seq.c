/*
 * seq.c - the sequential engine: the reference that defines a block's result.
 *
 * Transactions run one after another against an overlay (a kmap of every
 * key read or written so far in the block) over the pre-block state. A
 * transaction's private buffer (view.c) is applied to the overlay when it
 * returns; additions (DELTA entries) are materialised to values right then.
 * The same core runs a suffix of a block for Block-STM's fallback, with the
 * "pre-block" state being multi-version memory resolved at the suffix start.
 */
#include "exec/engine_int.h"

#include <stdlib.h>

typedef struct seqnode {
    pel_kmap_node n;
    uint8_t present;
    uint8_t written;
    pel_val val;
} seqnode;

/* lookup - the overlay node for key, created from the base state if new. */
static seqnode *lookup(pel_seq *s, const pel_key *key)
{
    uint64_t h = pel_key_hash(key);
    seqnode *sn = (seqnode *)pel_kmap_find(&s->map, key, h);
    if (sn) return sn;
    sn = pel_arena_alloc(s->arena, sizeof(*sn));
    if (!sn) return NULL;
    sn->n.key = *key;
    sn->written = 0;
    sn->present = pel_state_get(s->base, key, &sn->val) == 0;
    pel_kmap_insert(&s->map, &sn->n, h);
    return sn;
}

static int seq_read(pel_view *v, const pel_key *key, void **ref, pel_val *out)
{
    (void)ref;
    seqnode *sn = lookup(v->eng, key);
    if (!sn) return PEL_ENOMEM;
    *out = sn->val;
    return sn->present ? 0 : PEL_ENOTFOUND;
}

static int seq_delta_check(pel_view *v, const pel_key *key, void **ref, pel_i128 offset, uint64_t bound)
{
    (void)ref;
    seqnode *sn = lookup(v->eng, key);
    if (!sn) return PEL_ENOMEM;
    return pel_counter_check(&sn->val, sn->present, offset, bound);
}

static const pel_view_ops seq_ops = { seq_read, seq_delta_check };

int pel_seq_init(pel_seq *s, const pel_state *base, const pel_txdesc *txs,
                 const pel_executor *ex, pel_block_result *r, size_t expected_keys)
{
    s->base = base;
    s->txs = txs;
    s->ex = ex;
    s->r = r;
    s->arena = &r->arena;
    s->nwritten = 0;
    return pel_kmap_init(&s->map, expected_keys, PEL_KMAP_LISTED);
}

void pel_seq_free(pel_seq *s)
{
    pel_kmap_free(&s->map);
}

/* apply - make one transaction's writes the overlay's current values and
 * record its write set (additions become the values they produce). */
static int apply(pel_seq *s, uint32_t i, const pel_txout *o)
{
    pel_write *w = pel_arena_alloc(s->arena, (size_t)(o->nw ? o->nw : 1) * sizeof(*w));
    if (!w) return PEL_ENOMEM;
    for (uint32_t k = 0; k < o->nw; k++) {
        const pel_txent *e = &o->w[k];
        seqnode *sn = lookup(s, &e->key);
        if (!sn) return PEL_ENOMEM;
        if (e->state == PEL_TXE_DELTA) {
            if (pel_counter_add(s->arena, &sn->val, &sn->present, e->acc)) return PEL_ENOMEM;
        } else {
            sn->present = e->present;
            sn->val = e->val;
        }
        if (!sn->written) { sn->written = 1; s->nwritten++; }
        w[k].key = e->key;
        w[k].kind = sn->present ? PEL_W_PUT : PEL_W_DEL;
        w[k].val = sn->val;
    }
    s->r->tx_writes[i].w = w;
    s->r->tx_writes[i].n = o->nw;
    s->r->receipts[i] = o->receipt;
    return 0;
}

int pel_seq_run(pel_seq *s, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        pel_view v;
        pel_txout o;
        pel_view_init(&v, &seq_ops, s, i, s->txs[i].access, s->arena);
        int rc = pel_exec_run(s->ex, &s->txs[i], &v, s->arena, &o);
        if (rc == 0) rc = apply(s, i, &o);
        if (rc) return rc;
        s->r->stats.executions++;
    }
    return 0;
}

uint32_t pel_seq_writes(pel_seq *s, pel_write *w)
{
    uint32_t k = 0;
    for (pel_kmap_node *n = pel_kmap_first(&s->map); n; n = n->all_next) {
        seqnode *sn = (seqnode *)n;
        if (!sn->written) continue;
        w[k].key = n->key;
        w[k].kind = sn->present ? PEL_W_PUT : PEL_W_DEL;
        w[k].val = sn->val;
        k++;
    }
    return k;
}

int pel_seq_execute(pel_engine *e, const pel_state *base, const pel_txdesc *txs,
                    uint32_t n, const pel_executor *ex, pel_block_result *out)
{
    (void)e;
    pel_seq s;
    int rc = pel_result_alloc(out, n);
    if (rc) return rc;
    if ((rc = pel_seq_init(&s, base, txs, ex, out, (size_t)n * 4)) != 0) goto fail;
    if ((rc = pel_seq_run(&s, 0, n)) != 0) goto fail;
    out->block_writes.w = pel_arena_alloc(&out->arena, (size_t)(s.nwritten + 1) * sizeof(pel_write));
    if (!out->block_writes.w) { rc = PEL_ENOMEM; goto fail; }
    out->block_writes.n = pel_seq_writes(&s, out->block_writes.w);
    if ((rc = pel_writes_sort(out->block_writes.w, out->block_writes.n)) != 0) goto fail;
    pel_seq_free(&s);
    return 0;
fail:
    pel_seq_free(&s);
    pel_block_result_free(out);
    return rc;
}
