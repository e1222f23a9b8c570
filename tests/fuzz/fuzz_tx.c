/* fuzz_tx.c - libFuzzer target for pel_tx_decode (src/ledger/tx.c).
 *
 * Two inputs per run: the fuzz data itself, and a valid signed transaction
 * (with an access list) edited by the data (data[0]: mode, data[1..2]:
 * position, rest: bytes written over it, or spliced in with the tail cut),
 * so that mutations reach every field. For each:
 *   - decoding never crashes and is deterministic; on failure the output
 *     is cleared;
 *   - a decoded transaction's byte strings lie inside the input, its size
 *     is the input length, and re-encoding its fields with the codec gives
 *     the input back byte for byte (one transaction, one encoding);
 *   - sighash and id are the documented tagged hashes;
 *   - an edited transaction verifies only if it is the original bytes
 *     (no edit of a signed transaction keeps a valid signature);
 *   - pel_ledger_precheck and pel_transfer_parse do not crash on it. */
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"
#include "ledger/ledger.h"
#include "ledger/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t base[1024];
static size_t base_len;

/* The fixed valid transaction: seed 00..1f, chain "pel-fuzz", a transfer
 * with a three-list access declaration. */
static void init_base(void)
{
    uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN], seed[PEL_SEED_LEN], body[PEL_TRANSFER_BODY_LEN];
    pel_key keys[4];
    pel_addr to;
    pel_tx tx;
    pel_buf b;
    for (int i = 0; i < PEL_SEED_LEN; i++) seed[i] = (uint8_t)i;
    for (int i = 0; i < 4; i++) memset(keys[i].b, 0x20 * (i + 1), PEL_KEY_LEN);
    memset(to.b, 0x33, sizeof to.b);
    if (pel_sign_seed_keypair(pk, sk, seed) != 0) abort();
    pel_transfer_body(&to, 1000, body);
    memset(&tx, 0, sizeof tx);
    tx.chain_id = (const uint8_t *)"pel-fuzz";
    tx.chain_id_len = 8;
    tx.nonce = 3; tx.gas_limit = 100000; tx.gas_price = 2; tx.expiry_height = 77;
    tx.type = PEL_TX_TRANSFER;
    tx.body = body; tx.body_len = sizeof body;
    tx.has_access = 1;
    tx.access.reads = keys; tx.access.n_reads = 1;
    tx.access.writes = keys + 1; tx.access.n_writes = 1;
    tx.access.deltas = keys + 1; tx.access.n_deltas = 3;
    pel_buf_init(&b);
    if (pel_tx_sign(&tx, sk, &b) != 0 || b.len > sizeof base) abort();
    memcpy(base, b.data, b.len);
    base_len = b.len;
    pel_buf_free(&b);
}

static int inside(const uint8_t *p, size_t n, const uint8_t *buf, size_t len)
{
    return n == 0 || (p >= buf && p + n <= buf + len);
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *q = p;
    for (size_t i = 0; i < n; i++) if (q[i]) return 0;
    return 1;
}

/* reencode - the signed encoding from the decoded fields (codec calls). */
static int reencode(const pel_tx *t, pel_buf *b)
{
    int rc = pel_enc_bytes(b, t->chain_id, t->chain_id_len);
    if (!rc) rc = pel_enc_raw(b, t->sender, PEL_PUBKEY_LEN);
    if (!rc) rc = pel_enc_u64(b, t->nonce);
    if (!rc) rc = pel_enc_u64(b, t->gas_limit);
    if (!rc) rc = pel_enc_u64(b, t->gas_price);
    if (!rc) rc = pel_enc_u64(b, t->expiry_height);
    if (!rc) rc = pel_enc_u16(b, t->type);
    if (!rc) rc = pel_enc_bytes(b, t->body, t->body_len);
    if (!rc) rc = pel_enc_u8(b, t->has_access ? 1 : 0);
    const pel_key *lists[3] = { t->access.reads, t->access.writes, t->access.deltas };
    uint32_t ns[3] = { t->access.n_reads, t->access.n_writes, t->access.n_deltas };
    for (int l = 0; !rc && t->has_access && l < 3; l++) {
        rc = pel_enc_u32(b, ns[l]);
        if (!rc && ns[l]) rc = pel_enc_raw(b, lists[l], (size_t)ns[l] * PEL_KEY_LEN);
    }
    if (!rc) rc = pel_enc_raw(b, t->sig, PEL_SIG_LEN);
    return rc;
}

static void check_hashes(const pel_tx *t, const uint8_t *p, size_t len)
{
    uint8_t h[32], lenb[4];
    pel_hasher hs;
    if (pel_hash_tagged("PEL/txid", p, len, h) != 0 || memcmp(h, t->id, 32) != 0) abort();
    pel_le_store(lenb, t->chain_id_len, 4);
    if (pel_hasher_init(&hs, "PEL/tx") != 0) abort();
    pel_hasher_update(&hs, lenb, 4);
    pel_hasher_update(&hs, t->chain_id, t->chain_id_len);
    pel_hasher_update(&hs, p, len - PEL_SIG_LEN);
    if (pel_hasher_final(&hs, h) != 0 || memcmp(h, t->sighash, 32) != 0) abort();
    pel_addr a;
    pel_addr_from_pubkey(t->sender, &a);
    if (memcmp(a.b, t->from.b, PEL_ADDR_LEN) != 0) abort();
}

/* check - every property for one input; returns whether it verified. */
static int check(const uint8_t *p, size_t len)
{
    pel_tx a, b;
    int rc = pel_tx_decode(p, len, &a);
    if (pel_tx_decode(p, len, &b) != rc) abort();
    if (rc) {
        if (!all_zero(&a, sizeof a)) abort();
        return 0;
    }
    if (memcmp(&a, &b, sizeof a) != 0) abort();
    if (a.raw != p || a.size != len) abort();
    if (a.chain_id_len == 0 || a.chain_id_len > PEL_CHAIN_ID_MAX || a.body_len > PEL_TX_BODY_MAX) abort();
    if (!inside(a.chain_id, a.chain_id_len, p, len) || !inside(a.body, a.body_len, p, len)) abort();
    if (a.has_access) {
        if ((uint64_t)a.access.n_reads + a.access.n_writes + a.access.n_deltas > PEL_TX_ACCESS_MAX) abort();
        if (!inside((const uint8_t *)a.access.reads, a.access.n_reads * (size_t)PEL_KEY_LEN, p, len) ||
            !inside((const uint8_t *)a.access.writes, a.access.n_writes * (size_t)PEL_KEY_LEN, p, len) ||
            !inside((const uint8_t *)a.access.deltas, a.access.n_deltas * (size_t)PEL_KEY_LEN, p, len))
            abort();
    } else if (a.access.n_reads || a.access.n_writes || a.access.n_deltas) abort();
    pel_buf e;
    pel_buf_init(&e);
    if (reencode(&a, &e) != 0 || e.len != len || memcmp(e.data, p, len) != 0) abort();
    pel_buf_free(&e);
    check_hashes(&a, p, len);
    pel_chain_params params;
    memset(&params, 0, sizeof params);
    memcpy(params.chain_id, "pel-fuzz", 9);
    params.gas = pel_gas_defaults();
    params.min_gas_price = 1;
    const char *why = NULL;
    (void)pel_ledger_precheck(&params, &a, &why);
    pel_addr to;
    uint64_t amount;
    (void)pel_transfer_parse(a.body, a.body_len, &to, &amount);
    return pel_tx_verify(&a) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t edited[4096 + sizeof base];
    if (!base_len) init_base();
    (void)check(data, size);
    if (size < 3) return 0;
    size_t pos = ((size_t)data[1] | (size_t)data[2] << 8) % (base_len + 1);
    size_t n = size - 3, len;
    memcpy(edited, base, base_len);
    memcpy(edited + pos, data + 3, n);
    len = data[0] & 1 ? pos + n                                   /* splice, tail cut */
                      : (pos + n > base_len ? pos + n : base_len); /* overwrite */
    if (check(edited, len) && (len != base_len || memcmp(edited, base, len) != 0)) abort();
    return 0;
}
