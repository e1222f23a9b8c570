/*
 * block.h - block headers, stored block records and receipts.
 *
 * Header (DESIGN.md section 3), canonical encoding in this order:
 *   height u64, prev_hash raw32, timestamp_ms u64, tx_count u32,
 *   tx_root raw32, state_root raw32, receipts_root raw32,
 *   history_size u64, history_root raw32, proposer raw32 (Ed25519 key)
 * then, in the signed form, sig raw64.
 *   hash = BLAKE2b-256 tagged "PEL/block" over the unsigned encoding
 *   sig  = Ed25519(proposer key, hash)
 *
 * Roots:
 *   tx_root       H("PEL/tx-root", id_0 ‖ ... ‖ id_n-1)
 *   receipts_root H("PEL/receipts-root", receipt_0 ‖ ... ) (encodings below)
 *   state_root    the state tree's root after the block (state/smt.h); on a
 *                 chain created without trees (a benchmark baseline only),
 *                 H("PEL/state-chain", parent state_root ‖ digest of the
 *                 block's write set)
 *   history_size  transactions in the ledger up to and including this block
 *   history_root  the RFC 9162 root over those transactions (state/history.h;
 *                 leaf i = pel_history_leaf(height, index, tx id, receipt
 *                 digest), receipt digest = H("PEL/receipt", receipt));
 *                 zero on a chain without trees
 * Per-transaction inclusion is proven by the history tree; tx_root and
 * receipts_root bind the block's own lists for replay checks.
 *
 * Stored block record: signed header ‖ u32 count ‖ (bytes tx)*count.
 * Receipt: status u32 (two's complement of the i32) ‖ gas_used u64 ‖
 *   bytes events (as pel_view_emit wrote them).
 *
 * Thread safety: no shared state.
 */
#ifndef PEL_BLOCK_H
#define PEL_BLOCK_H

#include <stdint.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/err.h"
#include "core/sign.h"
#include "exec/engine.h"

typedef struct pel_block_header {
    uint64_t height;
    uint8_t prev_hash[32];
    uint64_t timestamp_ms;
    uint32_t tx_count;
    uint8_t tx_root[32], state_root[32], receipts_root[32];
    uint64_t history_size;
    uint8_t history_root[32];
    uint8_t proposer[PEL_PUBKEY_LEN];
    uint8_t sig[PEL_SIG_LEN];
} pel_block_header;

#define PEL_BLOCK_MAX_TXS 1000000u

/* pel_block_header_encode - append the signed (with_sig) or unsigned form. */
int pel_block_header_encode(const pel_block_header *h, int with_sig, pel_buf *out) PEL_MUST_USE;

/* pel_block_header_hash - the block hash (over the unsigned form). */
int pel_block_header_hash(const pel_block_header *h, uint8_t out[32]) PEL_MUST_USE;

/* pel_block_header_sign - set proposer from sk and sign. @return 0, PEL_ENOMEM, PEL_ECRYPTO. */
int pel_block_header_sign(pel_block_header *h, const uint8_t sk[PEL_SECKEY_LEN]) PEL_MUST_USE;

/* pel_block_header_verify - check sig against proposer. @return 0, PEL_EBADSIG, PEL_EBADKEY. */
int pel_block_header_verify(const pel_block_header *h) PEL_MUST_USE;

/* pel_block_header_dec - decode a signed header from a cursor. */
void pel_block_header_dec(pel_dec *d, pel_block_header *h);

/* pel_block_record_decode - split a stored record into its header and the
 * transaction encodings. txs/lens are allocated with malloc (caller frees
 * both; they point into p). @return 0, codec errors, PEL_ENOMEM. */
int pel_block_record_decode(const uint8_t *p, size_t len, pel_block_header *h,
                            const uint8_t ***txs, uint32_t **lens, uint32_t *n) PEL_MUST_USE;

/* pel_receipt_encode / _decode - the stored receipt. Decoded events point
 * into p. */
int pel_receipt_encode(const pel_receipt *r, pel_buf *out) PEL_MUST_USE;
int pel_receipt_decode(const uint8_t *p, size_t len, pel_receipt *r) PEL_MUST_USE;

/* pel_writeset_digest - H("PEL/writes", count ‖ (key ‖ kind ‖ bytes value)*). */
int pel_writeset_digest(const pel_writeset *ws, uint8_t out[32]) PEL_MUST_USE;

/* pel_receipt_digest - H("PEL/receipt", receipt encoding): the receipt's
 * part of its transaction's history leaf. @return 0, PEL_ENOMEM. */
int pel_receipt_digest(const pel_receipt *r, uint8_t out[32]) PEL_MUST_USE;

/* pel_state_chain - next state_root from the parent's and a write-set digest. */
int pel_state_chain(const uint8_t parent[32], const uint8_t writes[32], uint8_t out[32]) PEL_MUST_USE;

#endif
