/*
 * chain.c - the committed chain: genesis, build, commit, queries and the
 * full replay check (records in chain.h).
 */
#include "node/chain.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "core/log.h"

struct pel_chain {
    pel_store *store;
    const pel_genesis *g;
    pthread_mutex_t mu;          /* guards head */
    pel_chain_head head;
};

#define HEAD_LEN (8 + 32 + 32 + 8 + 8)

void pel_chain_height_key(uint64_t height, uint8_t out[8])
{
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(height >> (56 - 8 * i));
}

static void loc_key(uint64_t height, uint32_t index, uint8_t out[12])
{
    pel_chain_height_key(height, out);
    for (int i = 0; i < 4; i++) out[8 + i] = (uint8_t)(index >> (24 - 8 * i));
}

static void head_encode(const pel_chain_head *h, uint8_t out[HEAD_LEN])
{
    pel_le_store(out, h->height, 8);
    memcpy(out + 8, h->hash, 32);
    memcpy(out + 40, h->state_root, 32);
    pel_le_store(out + 72, h->history_size, 8);
    pel_le_store(out + 80, h->timestamp_ms, 8);
}

static int head_decode(const uint8_t *p, size_t len, pel_chain_head *h)
{
    if (len != HEAD_LEN) return PEL_ECORRUPT;
    h->height = pel_le_load(p, 8);
    memcpy(h->hash, p + 8, 32);
    memcpy(h->state_root, p + 40, 32);
    h->history_size = pel_le_load(p + 72, 8);
    h->timestamp_ms = pel_le_load(p + 80, 8);
    return 0;
}

/* ---- writing one block ---- */

static int put_block_record(pel_store_txn *w, const pel_block_header *h, const pel_tx *const *txs)
{
    pel_buf b;
    uint8_t k[8];
    pel_buf_init(&b);
    int rc = pel_block_header_encode(h, 1, &b);
    if (!rc) rc = pel_enc_u32(&b, h->tx_count);
    for (uint32_t i = 0; !rc && i < h->tx_count; i++) rc = pel_enc_bytes(&b, txs[i]->raw, txs[i]->size);
    pel_chain_height_key(h->height, k);
    if (!rc) rc = pel_store_put(w, PEL_T_BLOCKS, k, 8, b.data, b.len);
    pel_buf_free(&b);
    return rc;
}

static int put_tx_index(pel_store_txn *w, uint64_t height, const pel_tx *const *txs,
                        const pel_receipt *rcpts, uint32_t n)
{
    pel_buf b, tmp;
    uint8_t loc[12];
    int rc = 0;
    pel_buf_init(&b);
    pel_buf_init(&tmp);
    for (uint32_t i = 0; !rc && i < n; i++) {
        loc_key(height, i, loc);
        pel_buf_reset(&b);
        rc = pel_receipt_encode(&rcpts[i], &b);
        if (!rc) rc = pel_store_put(w, PEL_T_RECEIPTS, loc, 12, b.data, b.len);
        if (rc) break;
        rc = pel_store_txn_get(w, PEL_T_TXS, txs[i]->id, 32, &tmp);
        if (rc == PEL_ENOTFOUND) rc = pel_store_put(w, PEL_T_TXS, txs[i]->id, 32, loc, 12);
    }
    pel_buf_free(&b);
    pel_buf_free(&tmp);
    return rc;
}

static int put_writes(pel_store_txn *w, const pel_writeset *ws)
{
    int rc = 0;
    for (uint32_t i = 0; !rc && i < ws->n; i++) {
        const pel_write *x = &ws->w[i];
        if (x->kind == PEL_W_PUT)
            rc = pel_store_put(w, PEL_T_STATE, x->key.b, PEL_KEY_LEN, x->val.p, x->val.len);
        else
            rc = pel_store_del(w, PEL_T_STATE, x->key.b, PEL_KEY_LEN);
    }
    return rc;
}

static int put_head(pel_store_txn *w, const pel_chain_head *h)
{
    uint8_t enc[HEAD_LEN];
    head_encode(h, enc);
    return pel_store_put(w, PEL_T_META, "head", 4, enc, sizeof enc);
}

pel_chain_head pel_chain_head_after(const pel_block_header *h)
{
    pel_chain_head nh;
    nh.height = h->height;
    if (pel_block_header_hash(h, nh.hash)) memset(nh.hash, 0, 32);
    memcpy(nh.state_root, h->state_root, 32);
    nh.history_size = h->history_size;
    nh.timestamp_ms = h->timestamp_ms;
    return nh;
}

static int commit_parts(pel_chain *c, const pel_block_header *h, const pel_tx *const *txs,
                        const pel_receipt *rcpts, const pel_writeset *ws, int genesis)
{
    pel_store_txn *w;
    pel_chain_head nh = pel_chain_head_after(h);
    int rc = pel_store_begin(c->store, &w);
    if (rc) return rc;
    rc = put_block_record(w, h, txs);
    if (!rc) rc = put_tx_index(w, h->height, txs, rcpts, h->tx_count);
    if (!rc) rc = put_writes(w, ws);
    if (!rc) rc = put_head(w, &nh);
    if (!rc && genesis) rc = pel_store_put(w, PEL_T_META, "genesis", 7, c->g->hash, 32);
    if (rc) { pel_store_abort(w); return rc; }
    rc = pel_store_commit(w);
    if (rc) return rc;
    pthread_mutex_lock(&c->mu);
    c->head = nh;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* ---- genesis ---- */

int pel_chain_genesis_header(const pel_genesis *g, const pel_writeset *ws, pel_block_header *h)
{
    uint8_t wd[32], zero[32] = { 0 };
    memset(h, 0, sizeof *h);
    h->timestamp_ms = g->time_ms;
    memcpy(h->prev_hash, g->hash, 32);
    int rc = pel_hash_tagged("PEL/tx-root", NULL, 0, h->tx_root);
    if (!rc) rc = pel_hash_tagged("PEL/receipts-root", NULL, 0, h->receipts_root);
    if (!rc) rc = pel_writeset_digest(ws, wd);
    if (!rc) rc = pel_state_chain(zero, wd, h->state_root);
    return rc;
}

static int write_genesis(pel_chain *c)
{
    pel_writeset ws;
    uint8_t *vals;
    pel_block_header h;
    int rc = pel_genesis_writes(c->g, &ws, &vals);
    if (rc) return rc;
    rc = pel_chain_genesis_header(c->g, &ws, &h);
    if (!rc) rc = commit_parts(c, &h, NULL, NULL, &ws, 1);
    free(ws.w);
    free(vals);
    return rc;
}

static int load_or_init(pel_chain *c, char *err, size_t errlen)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_get(c->store, PEL_T_META, "genesis", 7, &b);
    if (rc == PEL_ENOTFOUND) {
        pel_buf_free(&b);
        rc = write_genesis(c);
        if (rc) snprintf(err, errlen, "cannot write the genesis block: %s", pel_strerror(rc));
        return rc;
    }
    if (!rc && (b.len != 32 || memcmp(b.data, c->g->hash, 32) != 0)) {
        snprintf(err, errlen, "the data directory holds a chain with another genesis");
        rc = PEL_EINVAL;
    }
    if (!rc) rc = pel_store_get(c->store, PEL_T_META, "head", 4, &b);
    if (!rc) rc = head_decode(b.data, b.len, &c->head);
    if (rc && !err[0]) snprintf(err, errlen, "cannot read the chain head: %s", pel_strerror(rc));
    pel_buf_free(&b);
    return rc;
}

int pel_chain_open(const char *data_dir, const pel_genesis *g, const pel_store_opts *so,
                   pel_chain **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen) err[0] = 0;
    pel_chain *c = calloc(1, sizeof *c);
    if (!c) return PEL_ENOMEM;
    c->g = g;
    pthread_mutex_init(&c->mu, NULL);
    int rc = pel_store_open(data_dir, so, &c->store);
    if (rc) snprintf(err, errlen, "cannot open the store in %s: %s", data_dir, pel_strerror(rc));
    if (!rc) rc = load_or_init(c, err, errlen);
    if (rc) { pel_chain_close(c); return rc; }
    *out = c;
    return 0;
}

void pel_chain_close(pel_chain *c)
{
    if (!c) return;
    pel_store_close(c->store);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

pel_chain_head pel_chain_get_head(pel_chain *c)
{
    pthread_mutex_lock(&c->mu);
    pel_chain_head h = c->head;
    pthread_mutex_unlock(&c->mu);
    return h;
}

pel_store *pel_chain_store(pel_chain *c) { return c->store; }
const pel_genesis *pel_chain_genesis(const pel_chain *c) { return c->g; }

/* ---- building ---- */

static int roots(const pel_tx *const *txs, const pel_block_result *r, pel_block_header *h)
{
    pel_hasher hh;
    pel_buf b;
    int rc = pel_hasher_init(&hh, "PEL/tx-root");
    for (uint32_t i = 0; !rc && i < r->n; i++) pel_hasher_update(&hh, txs[i]->id, 32);
    if (!rc) rc = pel_hasher_final(&hh, h->tx_root);
    if (!rc) rc = pel_hasher_init(&hh, "PEL/receipts-root");
    pel_buf_init(&b);
    for (uint32_t i = 0; !rc && i < r->n; i++) {
        pel_buf_reset(&b);
        rc = pel_receipt_encode(&r->receipts[i], &b);
        if (!rc) pel_hasher_update(&hh, b.data, b.len);
    }
    pel_buf_free(&b);
    if (!rc) rc = pel_hasher_final(&hh, h->receipts_root);
    return rc;
}

int pel_chain_fill_header(const pel_chain_head *head, const pel_tx *const *txs,
                       const pel_block_result *r, uint64_t now_ms, pel_block_header *h)
{
    uint8_t wd[32];
    memset(h, 0, sizeof *h);
    h->height = head->height + 1;
    memcpy(h->prev_hash, head->hash, 32);
    h->timestamp_ms = now_ms > head->timestamp_ms ? now_ms : head->timestamp_ms;
    h->tx_count = r->n;
    h->history_size = head->history_size + r->n;
    int rc = roots(txs, r, h);
    if (!rc) rc = pel_writeset_digest(&r->block_writes, wd);
    if (!rc) rc = pel_state_chain(head->state_root, wd, h->state_root);
    return rc;
}

int pel_chain_execute(pel_engine *e, const pel_state *st, const pel_chain_params *params,
                   uint64_t height, const pel_tx *const *txs, uint32_t n, pel_block_result *r)
{
    pel_txdesc *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) return PEL_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        d[i].tx = txs[i];
        d[i].access = txs[i]->has_access ? &txs[i]->access : NULL;
    }
    pel_ledger_ctx lc = { .params = params, .height = height };
    pel_executor ex = pel_ledger_executor(&lc);
    int rc = pel_engine_execute(e, st, d, n, &ex, r);
    free(d);
    return rc;
}

/* The state before a block built on an uncommitted parent: the parent's
 * writes over the store (which may or may not hold them yet: both agree). */
typedef struct overlay { pel_state base; const pel_writeset *ws; } overlay;

static int overlay_get(const void *ctx, const pel_key *key, pel_val *out)
{
    const overlay *o = ctx;
    uint32_t lo = 0, hi = o->ws->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = pel_key_cmp(&o->ws->w[mid].key, key);
        if (c == 0) {
            const pel_write *w = &o->ws->w[mid];
            if (w->kind == PEL_W_DEL) { out->p = NULL; out->len = 0; return PEL_ENOTFOUND; }
            *out = w->val;
            return 0;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return pel_state_get(&o->base, key, out);
}

int pel_chain_build_on(pel_chain *c, pel_engine *e, const pel_built_block *parent,
                       const pel_tx *const *txs, uint32_t n, uint64_t now_ms, const uint8_t *sk,
                       pel_built_block *out)
{
    memset(out, 0, sizeof *out);
    pel_chain_head head = parent ? pel_chain_head_after(&parent->header) : pel_chain_get_head(c);
    overlay ov = { pel_store_state(c->store), parent ? &parent->result.block_writes : NULL };
    pel_state st = parent ? (pel_state){ overlay_get, &ov } : ov.base;
    /* hold the readers' snapshots: the parent may commit during execution */
    pel_store_hold_readers(c->store, 1);
    int rc = pel_chain_execute(e, &st, &c->g->params, head.height + 1, txs, n, &out->result);
    pel_store_hold_readers(c->store, 0);
    if (rc) return rc;
    out->has_result = 1;
    out->txs = txs;
    rc = pel_chain_fill_header(&head, txs, &out->result, now_ms, &out->header);
    if (!rc && sk) rc = pel_block_header_sign(&out->header, sk);
    if (rc) pel_built_block_free(out);
    return rc;
}

int pel_chain_build(pel_chain *c, pel_engine *e, const pel_tx *const *txs, uint32_t n,
                    uint64_t now_ms, const uint8_t *sk, pel_built_block *out)
{
    return pel_chain_build_on(c, e, NULL, txs, n, now_ms, sk, out);
}

int pel_chain_commit(pel_chain *c, const pel_built_block *b)
{
    return commit_parts(c, &b->header, b->txs, b->result.receipts, &b->result.block_writes, 0);
}

void pel_built_block_free(pel_built_block *b)
{
    if (b->has_result) pel_block_result_free(&b->result);
    memset(b, 0, sizeof *b);
}

/* ---- queries ---- */

int pel_chain_block(pel_chain *c, uint64_t height, pel_buf *record)
{
    uint8_t k[8];
    pel_chain_height_key(height, k);
    return pel_store_get(c->store, PEL_T_BLOCKS, k, 8, record);
}

int pel_chain_tx_location(pel_chain *c, const uint8_t id[32], uint64_t *height, uint32_t *index)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_store_get(c->store, PEL_T_TXS, id, 32, &b);
    if (!rc && b.len != 12) rc = PEL_ECORRUPT;
    if (!rc) {
        *height = 0;
        for (int i = 0; i < 8; i++) *height = (*height << 8) | b.data[i];
        *index = 0;
        for (int i = 8; i < 12; i++) *index = (*index << 8) | b.data[i];
    }
    pel_buf_free(&b);
    return rc;
}

int pel_chain_receipt(pel_chain *c, uint64_t height, uint32_t index, pel_buf *out)
{
    uint8_t k[12];
    loc_key(height, index, k);
    return pel_store_get(c->store, PEL_T_RECEIPTS, k, 12, out);
}

int pel_chain_u64(pel_chain *c, const pel_key *k, uint64_t *out)
{
    pel_buf b;
    pel_buf_init(&b);
    *out = 0;
    int rc = pel_store_get(c->store, PEL_T_STATE, k->b, PEL_KEY_LEN, &b);
    if (rc == PEL_ENOTFOUND) rc = 0;
    else if (!rc && b.len != 8) rc = PEL_ECORRUPT;
    else if (!rc) *out = pel_le_load(b.data, 8);
    pel_buf_free(&b);
    return rc;
}

int pel_chain_account(pel_chain *c, const pel_addr *a, uint64_t *balance, uint64_t *nonce)
{
    pel_key kb, kn;
    pel_key_balance(a, &kb);
    pel_key_nonce(a, &kn);
    int rc = pel_chain_u64(c, &kb, balance);
    if (!rc) rc = pel_chain_u64(c, &kn, nonce);
    return rc;
}
