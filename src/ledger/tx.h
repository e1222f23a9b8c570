/*
 * tx.h - signed transactions: format, ids, signatures, addresses.
 *
 * Encoding (DESIGN.md section 3, canonical codec):
 *
 *   unsigned = chain_id (bytes, 1..64)  sender (raw 32, Ed25519 public key)
 *              nonce u64  gas_limit u64  gas_price u64  expiry_height u64
 *              type u16  body (bytes, <= PEL_TX_BODY_MAX)
 *              access: u8 0 (none) | u8 1, reads, writes, deltas
 *                      (each a u32 count then raw 32-byte keys, strictly
 *                      ascending, at most PEL_TX_ACCESS_MAX in all)
 *   signed   = unsigned  sig (raw 64)
 *
 *   sighash  = BLAKE2b-256 tagged "PEL/tx" over (bytes chain_id ‖ unsigned)
 *   sig      = Ed25519(sender secret key, sighash)
 *   id       = BLAKE2b-256 tagged "PEL/txid" over the signed encoding
 *
 * The chain id is in the signed bytes (twice: once as the hash prefix, once
 * in the encoding), so a transaction signed for one chain never verifies on
 * another. expiry_height 0 means "never expires"; otherwise the transaction
 * may only be included in a block whose height is <= expiry_height.
 *
 * Address = first 20 bytes of BLAKE2b-256 tagged "PEL/addr" over the public
 * key; its text form is "pel1" + 40 hex digits + 8 hex digits of checksum
 * (the first 4 bytes of BLAKE2b-256 tagged "PEL/addr-check" over the 20
 * bytes), so a mistyped address is refused rather than paid.
 *
 * Thread safety: all functions are thread-safe (no shared state).
 */
#ifndef PEL_TX_H
#define PEL_TX_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/sign.h"
#include "exec/view.h"

#define PEL_CHAIN_ID_MAX 64
#define PEL_TX_BODY_MAX (64u * 1024)
#define PEL_TX_ACCESS_MAX 256
#define PEL_TX_SIZE_MAX (96u * 1024)   /* largest signed encoding accepted */
#define PEL_ADDR_LEN 20
#define PEL_ADDR_STR_LEN 52            /* "pel1" + 40 + 8, without the NUL */
#define PEL_TXID_LEN 32

/* Transaction types (the dispatcher in ledger.c maps each to its code). */
enum {
    PEL_TX_TRANSFER = 1,   /* body: to (raw 20) ‖ amount u64 */
};

typedef struct pel_addr { uint8_t b[PEL_ADDR_LEN]; } pel_addr;

/*
 * A decoded transaction. Byte strings (chain_id, body, access keys) point
 * into the buffer it was decoded from, which must outlive it.
 */
typedef struct pel_tx {
    const uint8_t *chain_id;
    uint32_t chain_id_len;
    uint8_t sender[PEL_PUBKEY_LEN];
    uint64_t nonce, gas_limit, gas_price, expiry_height;
    uint16_t type;
    const uint8_t *body;
    uint32_t body_len;
    int has_access;
    pel_access access;     /* valid if has_access; keys point into the input */
    uint8_t sig[PEL_SIG_LEN];
    /* derived by pel_tx_decode / pel_tx_sign: */
    uint8_t sighash[32];
    uint8_t id[PEL_TXID_LEN];
    pel_addr from;         /* address of sender */
    uint32_t size;         /* length of the signed encoding */
    const uint8_t *raw;    /* pel_tx_decode: the signed encoding (= its input);
                              pel_tx_sign: NULL (the bytes are in `out`) */
} pel_tx;

/*
 * pel_tx_decode - strict decoding of a signed transaction, with sighash,
 * id, from and size derived. Does NOT verify the signature (see
 * pel_tx_verify) so that verification can be batched on worker threads.
 * @param p, len  the signed encoding; must outlive *out
 * @return 0, PEL_ETXSIZE (len > PEL_TX_SIZE_MAX), a codec error (PEL_ETRUNC,
 *         PEL_ETRAILING, PEL_ETOOLONG, PEL_ENONCANON: access keys not
 *         strictly ascending or chain id empty). *out cleared on failure.
 */
int pel_tx_decode(const void *p, size_t len, pel_tx *out) PEL_MUST_USE PEL_NONNULL(1, 3);

/* pel_tx_id - the id of the signed encoding p[0..len) without decoding it:
 * the id pel_tx_decode derives, at a third of its cost (one hash instead
 * of three), for encodings known to decode (those of a committed block).
 * @return 0 or PEL_ECRYPTO. */
int pel_tx_id(const void *p, size_t len, uint8_t out[PEL_TXID_LEN]) PEL_MUST_USE PEL_NONNULL(1, 3);

/* pel_tx_verify - strict Ed25519 check of tx->sig over tx->sighash with
 * tx->sender. @return 0, PEL_EBADSIG, PEL_EBADKEY, PEL_ECRYPTO. */
int pel_tx_verify(const pel_tx *tx) PEL_MUST_USE PEL_NONNULL(1);

/* pel_tx_verify_cached - pel_tx_verify with the sender's key checks
 * remembered in `cache` (core/sign.h); same results. */
int pel_tx_verify_cached(const pel_tx *tx, pel_keycache *cache) PEL_MUST_USE PEL_NONNULL(1);

/*
 * pel_tx_sign - set tx->sender from sk, sign, and append the signed
 * encoding to `out`; then derive sighash, id, from and size as decode does.
 * The caller fills chain_id, nonce, gas fields, type, body and access. The
 * tx's byte pointers keep pointing at the caller's data (not into `out`).
 * @return 0, PEL_EINVAL (field over its limit), PEL_ENOMEM, PEL_ECRYPTO.
 */
int pel_tx_sign(pel_tx *tx, const uint8_t sk[PEL_SECKEY_LEN], pel_buf *out)
    PEL_MUST_USE PEL_NONNULL(1, 2, 3);

/* pel_addr_from_pubkey - the address of an Ed25519 public key. */
void pel_addr_from_pubkey(const uint8_t pk[PEL_PUBKEY_LEN], pel_addr *out) PEL_NONNULL(1, 2);

/* pel_addr_format - text form into out[PEL_ADDR_STR_LEN + 1] (NUL-terminated). */
void pel_addr_format(const pel_addr *a, char *out) PEL_NONNULL(1, 2);

/* pel_addr_parse - parse the text form.
 * @param[out] why  if non-NULL, set to a static message on failure
 *                  ("not a pel1 address", "bad checksum", ...)
 * @return 0 or PEL_EINVAL (*out cleared). */
int pel_addr_parse(const char *s, pel_addr *out, const char **why) PEL_MUST_USE PEL_NONNULL(1, 2);

/* pel_transfer_body - encode a transfer body into out[28]. */
#define PEL_TRANSFER_BODY_LEN (PEL_ADDR_LEN + 8)
void pel_transfer_body(const pel_addr *to, uint64_t amount, uint8_t out[PEL_TRANSFER_BODY_LEN]);
/* pel_transfer_parse - decode a transfer body. @return 0 or PEL_ETXTYPE. */
int pel_transfer_parse(const uint8_t *body, uint32_t len, pel_addr *to, uint64_t *amount) PEL_MUST_USE;

#endif
