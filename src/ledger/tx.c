/*
 * tx.c - signed transactions: canonical encoding, strict decoding, ids,
 * signatures and addresses (format in tx.h).
 */
#include "ledger/tx.h"

#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "core/hex.h"

/* ---- encoding ---- */

static int enc_keys(pel_buf *b, const pel_key *k, uint32_t n)
{
    int rc = pel_enc_u32(b, n);
    for (uint32_t i = 0; rc == 0 && i < n; i++) rc = pel_enc_raw(b, k[i].b, PEL_KEY_LEN);
    return rc;
}

static int access_ok(const pel_access *a)
{
    if ((uint64_t)a->n_reads + a->n_writes + a->n_deltas > PEL_TX_ACCESS_MAX) return 0;
    const pel_key *lists[3] = { a->reads, a->writes, a->deltas };
    uint32_t ns[3] = { a->n_reads, a->n_writes, a->n_deltas };
    for (int l = 0; l < 3; l++)
        for (uint32_t i = 1; i < ns[l]; i++)
            if (pel_key_cmp(&lists[l][i - 1], &lists[l][i]) >= 0) return 0;
    return 1;
}

/* The unsigned encoding; fields are checked against their limits. */
static int encode_unsigned(const pel_tx *tx, pel_buf *b)
{
    if (tx->chain_id_len == 0 || tx->chain_id_len > PEL_CHAIN_ID_MAX ||
        tx->body_len > PEL_TX_BODY_MAX || (tx->has_access && !access_ok(&tx->access)))
        return PEL_EINVAL;
    int rc = pel_enc_bytes(b, tx->chain_id, tx->chain_id_len);
    if (!rc) rc = pel_enc_raw(b, tx->sender, PEL_PUBKEY_LEN);
    if (!rc) rc = pel_enc_u64(b, tx->nonce);
    if (!rc) rc = pel_enc_u64(b, tx->gas_limit);
    if (!rc) rc = pel_enc_u64(b, tx->gas_price);
    if (!rc) rc = pel_enc_u64(b, tx->expiry_height);
    if (!rc) rc = pel_enc_u16(b, tx->type);
    if (!rc) rc = pel_enc_bytes(b, tx->body, tx->body_len);
    if (!rc) rc = pel_enc_u8(b, tx->has_access ? 1 : 0);
    if (!rc && tx->has_access) {
        rc = enc_keys(b, tx->access.reads, tx->access.n_reads);
        if (!rc) rc = enc_keys(b, tx->access.writes, tx->access.n_writes);
        if (!rc) rc = enc_keys(b, tx->access.deltas, tx->access.n_deltas);
    }
    return rc;
}

/* sighash = H("PEL/tx", bytes(chain_id) ‖ unsigned). */
static int compute_sighash(const uint8_t *chain, uint32_t chain_len, const uint8_t *unsig,
                           size_t unsig_len, uint8_t out[32])
{
    pel_hasher h;
    uint8_t len[4];
    int rc = pel_hasher_init(&h, "PEL/tx");
    if (rc) return rc;
    pel_le_store(len, chain_len, 4);
    pel_hasher_update(&h, len, 4);
    pel_hasher_update(&h, chain, chain_len);
    pel_hasher_update(&h, unsig, unsig_len);
    return pel_hasher_final(&h, out);
}

int pel_tx_id(const void *p, size_t len, uint8_t out[PEL_TXID_LEN])
{
    return pel_hash_tagged("PEL/txid", p, len, out);
}

/* Fill sighash, id, from and size from the signed encoding p[0..len). */
static int derive(pel_tx *tx, const uint8_t *p, size_t len)
{
    int rc = compute_sighash(tx->chain_id, tx->chain_id_len, p, len - PEL_SIG_LEN, tx->sighash);
    if (!rc) rc = pel_tx_id(p, len, tx->id);
    pel_addr_from_pubkey(tx->sender, &tx->from);
    tx->size = (uint32_t)len;
    return rc;
}

int pel_tx_sign(pel_tx *tx, const uint8_t sk[PEL_SECKEY_LEN], pel_buf *out)
{
    size_t start = out->len;
    memcpy(tx->sender, sk + PEL_SEED_LEN, PEL_PUBKEY_LEN);
    int rc = encode_unsigned(tx, out);
    if (rc) goto fail;
    if (out->len - start + PEL_SIG_LEN > PEL_TX_SIZE_MAX) { rc = PEL_EINVAL; goto fail; }
    rc = compute_sighash(tx->chain_id, tx->chain_id_len, out->data + start, out->len - start,
                         tx->sighash);
    if (!rc) rc = pel_sign(sk, tx->sighash, sizeof tx->sighash, tx->sig);
    if (!rc) rc = pel_enc_raw(out, tx->sig, PEL_SIG_LEN);
    if (!rc) rc = derive(tx, out->data + start, out->len - start);
    if (!rc) return 0;
fail:
    out->len = start;
    return rc;
}

/* ---- decoding ---- */

static void dec_keys(pel_dec *d, uint32_t room, const pel_key **keys, uint32_t *n)
{
    const uint8_t *p = NULL;
    (void)pel_dec_count(d, room, n);
    (void)pel_dec_raw(d, (size_t)*n * PEL_KEY_LEN, &p);
    *keys = (const pel_key *)p;   /* pel_key is a byte array: alignment 1 */
    if (d->err) *n = 0;
}

static void dec_access(pel_dec *d, pel_access *a)
{
    dec_keys(d, PEL_TX_ACCESS_MAX, &a->reads, &a->n_reads);
    dec_keys(d, PEL_TX_ACCESS_MAX - a->n_reads, &a->writes, &a->n_writes);
    dec_keys(d, PEL_TX_ACCESS_MAX - a->n_reads - a->n_writes, &a->deltas, &a->n_deltas);
}

int pel_tx_decode(const void *p, size_t len, pel_tx *out)
{
    memset(out, 0, sizeof *out);
    if (len > PEL_TX_SIZE_MAX) return PEL_ETXSIZE;
    pel_dec d;
    const uint8_t *raw = NULL;
    size_t n = 0;
    uint8_t flag = 0;
    pel_dec_init(&d, p, len);
    (void)pel_dec_bytes(&d, PEL_CHAIN_ID_MAX, &out->chain_id, &n);
    out->chain_id_len = (uint32_t)n;
    if (pel_dec_raw(&d, PEL_PUBKEY_LEN, &raw) == 0) memcpy(out->sender, raw, PEL_PUBKEY_LEN);
    (void)pel_dec_u64(&d, &out->nonce);
    (void)pel_dec_u64(&d, &out->gas_limit);
    (void)pel_dec_u64(&d, &out->gas_price);
    (void)pel_dec_u64(&d, &out->expiry_height);
    (void)pel_dec_u16(&d, &out->type);
    (void)pel_dec_bytes(&d, PEL_TX_BODY_MAX, &out->body, &n);
    out->body_len = (uint32_t)n;
    (void)pel_dec_u8(&d, &flag);
    if (flag == 1) dec_access(&d, &out->access);
    if (pel_dec_raw(&d, PEL_SIG_LEN, &raw) == 0) memcpy(out->sig, raw, PEL_SIG_LEN);
    int rc = pel_dec_finish(&d);
    if (!rc && (flag > 1 || out->chain_id_len == 0)) rc = PEL_ENONCANON;
    out->has_access = flag == 1;
    if (!rc && out->has_access && !access_ok(&out->access)) rc = PEL_ENONCANON;
    if (!rc) rc = derive(out, p, len);
    out->raw = p;
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

int pel_tx_verify(const pel_tx *tx)
{
    return pel_sign_verify(tx->sender, tx->sighash, sizeof tx->sighash, tx->sig);
}

int pel_tx_verify_cached(const pel_tx *tx, pel_keycache *cache)
{
    return pel_sign_verify_cached(cache, tx->sender, tx->sighash, sizeof tx->sighash, tx->sig);
}

/* ---- addresses ---- */

void pel_addr_from_pubkey(const uint8_t pk[PEL_PUBKEY_LEN], pel_addr *out)
{
    uint8_t h[PEL_HASH_LEN];
    if (pel_hash_tagged("PEL/addr", pk, PEL_PUBKEY_LEN, h) != 0) memset(h, 0, sizeof h);
    memcpy(out->b, h, PEL_ADDR_LEN);
}

static void checksum(const pel_addr *a, uint8_t out[4])
{
    uint8_t h[PEL_HASH_LEN];
    if (pel_hash_tagged("PEL/addr-check", a->b, PEL_ADDR_LEN, h) != 0) memset(h, 0, sizeof h);
    memcpy(out, h, 4);
}

void pel_addr_format(const pel_addr *a, char *out)
{
    uint8_t c[4];
    checksum(a, c);
    memcpy(out, "pel1", 4);
    pel_hex_encode(a->b, PEL_ADDR_LEN, out + 4);
    pel_hex_encode(c, 4, out + 4 + 2 * PEL_ADDR_LEN);
}

int pel_addr_parse(const char *s, pel_addr *out, const char **why)
{
    uint8_t c[4], want[4];
    size_t n;
    const char *msg = NULL;
    memset(out, 0, sizeof *out);
    if (strncmp(s, "pel1", 4) != 0 || strlen(s) != PEL_ADDR_STR_LEN)
        msg = "not a pel1 address (pel1 followed by 48 hex digits)";
    else if (pel_hex_decode(s + 4, 2 * PEL_ADDR_LEN, out->b, PEL_ADDR_LEN, &n) ||
             pel_hex_decode(s + 4 + 2 * PEL_ADDR_LEN, 8, c, 4, &n))
        msg = "address is not hexadecimal";
    else {
        checksum(out, want);
        if (memcmp(c, want, 4) != 0) msg = "address checksum does not match (mistyped?)";
    }
    if (why) *why = msg;
    if (!msg) return 0;
    memset(out, 0, sizeof *out);
    return PEL_EINVAL;
}

/* ---- transfer body ---- */

void pel_transfer_body(const pel_addr *to, uint64_t amount, uint8_t out[PEL_TRANSFER_BODY_LEN])
{
    memcpy(out, to->b, PEL_ADDR_LEN);
    pel_le_store(out + PEL_ADDR_LEN, amount, 8);
}

int pel_transfer_parse(const uint8_t *body, uint32_t len, pel_addr *to, uint64_t *amount)
{
    if (len != PEL_TRANSFER_BODY_LEN) return PEL_ETXTYPE;
    memcpy(to->b, body, PEL_ADDR_LEN);
    *amount = pel_le_load(body + PEL_ADDR_LEN, 8);
    return 0;
}
