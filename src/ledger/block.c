/*
 * block.c - block headers, stored block records and receipts (formats in
 * block.h).
 */
#include "ledger/block.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

int pel_block_header_encode(const pel_block_header *h, int with_sig, pel_buf *out)
{
    size_t start = out->len;
    int rc = pel_enc_u64(out, h->height);
    if (!rc) rc = pel_enc_raw(out, h->prev_hash, 32);
    if (!rc) rc = pel_enc_u64(out, h->timestamp_ms);
    if (!rc) rc = pel_enc_u32(out, h->tx_count);
    if (!rc) rc = pel_enc_raw(out, h->tx_root, 32);
    if (!rc) rc = pel_enc_raw(out, h->state_root, 32);
    if (!rc) rc = pel_enc_raw(out, h->receipts_root, 32);
    if (!rc) rc = pel_enc_u64(out, h->history_size);
    if (!rc) rc = pel_enc_raw(out, h->history_root, 32);
    if (!rc) rc = pel_enc_raw(out, h->proposer, PEL_PUBKEY_LEN);
    if (!rc && with_sig) rc = pel_enc_raw(out, h->sig, PEL_SIG_LEN);
    if (rc) out->len = start;
    return rc;
}

int pel_block_header_hash(const pel_block_header *h, uint8_t out[32])
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_block_header_encode(h, 0, &b);
    if (!rc) rc = pel_hash_tagged("PEL/block", b.data, b.len, out);
    pel_buf_free(&b);
    return rc;
}

int pel_block_header_sign(pel_block_header *h, const uint8_t sk[PEL_SECKEY_LEN])
{
    uint8_t hash[32];
    memcpy(h->proposer, sk + PEL_SEED_LEN, PEL_PUBKEY_LEN);
    int rc = pel_block_header_hash(h, hash);
    return rc ? rc : pel_sign(sk, hash, sizeof hash, h->sig);
}

int pel_block_header_verify(const pel_block_header *h)
{
    uint8_t hash[32];
    int rc = pel_block_header_hash(h, hash);
    return rc ? rc : pel_sign_verify(h->proposer, hash, sizeof hash, h->sig);
}

static void dec_raw(pel_dec *d, uint8_t *out, size_t n)
{
    const uint8_t *p = NULL;
    if (pel_dec_raw(d, n, &p) == 0) memcpy(out, p, n);
    else memset(out, 0, n);
}

void pel_block_header_dec(pel_dec *d, pel_block_header *h)
{
    (void)pel_dec_u64(d, &h->height);
    dec_raw(d, h->prev_hash, 32);
    (void)pel_dec_u64(d, &h->timestamp_ms);
    (void)pel_dec_u32(d, &h->tx_count);
    dec_raw(d, h->tx_root, 32);
    dec_raw(d, h->state_root, 32);
    dec_raw(d, h->receipts_root, 32);
    (void)pel_dec_u64(d, &h->history_size);
    dec_raw(d, h->history_root, 32);
    dec_raw(d, h->proposer, PEL_PUBKEY_LEN);
    dec_raw(d, h->sig, PEL_SIG_LEN);
}

int pel_block_record_decode(const uint8_t *p, size_t len, pel_block_header *h,
                            const uint8_t ***txs, uint32_t **lens, uint32_t *n)
{
    pel_dec d;
    uint32_t count = 0;
    *txs = NULL; *lens = NULL; *n = 0;
    pel_dec_init(&d, p, len);
    pel_block_header_dec(&d, h);
    (void)pel_dec_count(&d, PEL_BLOCK_MAX_TXS, &count);
    if (d.err) return d.err;
    if (count != h->tx_count) return PEL_ECORRUPT;
    if ((size_t)count * 4 > d.len - d.pos) return PEL_ETRUNC;   /* before allocating for it */
    const uint8_t **t = malloc((count ? count : 1) * sizeof *t);
    uint32_t *l = malloc((count ? count : 1) * sizeof *l);
    if (!t || !l) { free(t); free(l); return PEL_ENOMEM; }
    for (uint32_t i = 0; i < count; i++) {
        size_t sz = 0;
        (void)pel_dec_bytes(&d, SIZE_MAX, &t[i], &sz);
        l[i] = (uint32_t)sz;
    }
    int rc = pel_dec_finish(&d);
    if (rc) { free(t); free(l); return rc; }
    *txs = t; *lens = l; *n = count;
    return 0;
}

int pel_receipt_encode(const pel_receipt *r, pel_buf *out)
{
    size_t start = out->len;
    int rc = pel_enc_u32(out, (uint32_t)r->status);
    if (!rc) rc = pel_enc_u64(out, r->gas_used);
    if (!rc) rc = pel_enc_bytes(out, r->events, r->events_len);
    if (rc) out->len = start;
    return rc;
}

int pel_receipt_digest(const pel_receipt *r, uint8_t out[32])
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_receipt_encode(r, &b);
    if (!rc) rc = pel_hash_tagged("PEL/receipt", b.data, b.len, out);
    pel_buf_free(&b);
    return rc;
}

int pel_receipt_decode(const uint8_t *p, size_t len, pel_receipt *r)
{
    pel_dec d;
    uint32_t st = 0;
    size_t n = 0;
    memset(r, 0, sizeof *r);
    pel_dec_init(&d, p, len);
    (void)pel_dec_u32(&d, &st);
    (void)pel_dec_u64(&d, &r->gas_used);
    (void)pel_dec_bytes(&d, UINT32_MAX, &r->events, &n);
    int rc = pel_dec_finish(&d);
    if (rc) { memset(r, 0, sizeof *r); return rc; }
    r->status = (int32_t)st;
    r->events_len = (uint32_t)n;
    return 0;
}

int pel_writeset_digest(const pel_writeset *ws, uint8_t out[32])
{
    pel_hasher h;
    uint8_t n[4];
    int rc = pel_hasher_init(&h, "PEL/writes");
    if (rc) return rc;
    pel_le_store(n, ws->n, 4);
    pel_hasher_update(&h, n, 4);
    for (uint32_t i = 0; i < ws->n; i++) {
        const pel_write *w = &ws->w[i];
        uint32_t len = w->kind == PEL_W_PUT ? w->val.len : 0;
        pel_hasher_update(&h, w->key.b, PEL_KEY_LEN);
        pel_hasher_update(&h, &w->kind, 1);
        pel_le_store(n, len, 4);
        pel_hasher_update(&h, n, 4);
        if (len) pel_hasher_update(&h, w->val.p, len);
    }
    return pel_hasher_final(&h, out);
}

int pel_state_chain(const uint8_t parent[32], const uint8_t writes[32], uint8_t out[32])
{
    uint8_t both[64];
    memcpy(both, parent, 32);
    memcpy(both + 32, writes, 32);
    return pel_hash_tagged("PEL/state-chain", both, sizeof both, out);
}
