/*
 * engine_check.h - helpers shared by the engine tests: run a block through
 * an engine and compare its result with the sequential reference.
 */
#ifndef PEL_ENGINE_CHECK_H
#define PEL_ENGINE_CHECK_H

#include "exec/engine.h"
#include "exec/synth.h"
#include "test.h"

static int writeset_eq(const pel_writeset *a, const pel_writeset *b)
{
    if (a->n != b->n) return 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const pel_write *x = &a->w[i], *y = &b->w[i];
        if (!pel_key_eq(&x->key, &y->key) || x->kind != y->kind || x->val.len != y->val.len) return 0;
        if (x->val.len && memcmp(x->val.p, y->val.p, x->val.len) != 0) return 0;
    }
    return 1;
}

/* result_eq - byte-identical results; reports the first difference. */
static int result_eq(const pel_block_result *a, const pel_block_result *b, const char *what)
{
    if (a->n != b->n) { fprintf(stderr, "%s: n %u vs %u\n", what, a->n, b->n); return 0; }
    for (uint32_t i = 0; i < a->n; i++) {
        const pel_receipt *x = &a->receipts[i], *y = &b->receipts[i];
        if (x->status != y->status || x->gas_used != y->gas_used || x->events_len != y->events_len
            || (x->events_len && memcmp(x->events, y->events, x->events_len))) {
            fprintf(stderr, "%s: receipt %u differs (status %d/%d gas %llu/%llu)\n", what, i,
                    x->status, y->status, (unsigned long long)x->gas_used, (unsigned long long)y->gas_used);
            return 0;
        }
        if (!writeset_eq(&a->tx_writes[i], &b->tx_writes[i])) {
            for (uint32_t k = 0; k < a->tx_writes[i].n && k < b->tx_writes[i].n; k++) {
                const pel_write *p = &a->tx_writes[i].w[k], *q = &b->tx_writes[i].w[k];
                fprintf(stderr, "  write %u: key %02x%02x/%02x%02x kind %u/%u len %u/%u\n", k,
                        p->key.b[0], p->key.b[1], q->key.b[0], q->key.b[1], p->kind, q->kind,
                        p->val.len, q->val.len);
            }
            fprintf(stderr, "%s: write set of tx %u differs (%u vs %u writes)\n", what, i,
                    a->tx_writes[i].n, b->tx_writes[i].n);
            return 0;
        }
    }
    if (!writeset_eq(&a->block_writes, &b->block_writes)) {
        fprintf(stderr, "%s: block write set differs (%u vs %u)\n", what, a->block_writes.n, b->block_writes.n);
        return 0;
    }
    if (memcmp(a->digest, b->digest, 32) != 0) { fprintf(stderr, "%s: digest differs\n", what); return 0; }
    return 1;
}

static int run_engine(pel_engine *e, const pel_state *st, const pel_txdesc *d, uint32_t n,
                      const pel_executor *ex, pel_block_result *r)
{
    int rc = pel_engine_execute(e, st, d, n, ex, r);
    if (rc == 0) rc = pel_block_result_digest(r);
    return rc;
}

#endif
