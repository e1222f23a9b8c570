/*
 * ledger.h - accounts, the native token, gas and fees, and the executor
 * that runs signed transactions through the engines.
 *
 * State layout (32-byte keys, see key.h):
 *   balance of address A   key H("PEL/acct-balance", A)  counter (u64 LE)
 *   nonce of address A     key H("PEL/acct-nonce", A)    u64 LE, absent = 0
 *   fee pool               key H("PEL/fee-pool", "")      counter
 * Balances and the fee pool are delta counters (view.h), so transfers to a
 * popular recipient and fees into the one pool do not serialise a block.
 *
 * Gas: a transaction costs base + per_byte * (signed size) + the view's
 * cost of what its body does to state (PEL_GAS_GET, _PUT, _DELTA, _EVENT,
 * _PER_BYTE in view.h); nonce and fee bookkeeping are covered by `base`.
 * Fee = gas_used * gas_price, paid by the sender into the fee pool.
 *
 * Execution of one transaction at block height h (pel_ledger_exec):
 *   1. void (no effect, gas 0, nonce NOT consumed): wrong chain id
 *      (PEL_ECHAIN), expired (PEL_EEXPIRED), nonce != account nonce
 *      (PEL_ENONCE), gas_limit below the intrinsic cost or max fee
 *      overflowing (PEL_EGAS), sender cannot pay gas_limit * gas_price
 *      (PEL_EFUNDS). The producer never includes such a transaction
 *      knowingly; they exist so that any block has one defined result.
 *   2. the nonce is consumed and the max fee reserved; the body runs.
 *   3. if the body failed or ran out of gas, its effects are rolled back
 *      (the receipt keeps its status); either way the sender pays
 *      gas_used * gas_price (gas_limit on PEL_EGAS) and the rest of the
 *      reservation is returned.
 * So a failing transaction pays and consumes its nonce, as DESIGN.md 4 says.
 * Total supply (sum of balances + fee pool) never changes.
 *
 * Thread safety: the executor is called concurrently by the engines; its
 * context is read-only during a block.
 */
#ifndef PEL_LEDGER_H
#define PEL_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "exec/engine.h"
#include "exec/key.h"
#include "ledger/module.h"
#include "ledger/tx.h"

/* The gas schedule (per-operation state costs are view.h's table). */
typedef struct pel_gas_schedule {
    uint64_t base;       /* every transaction (default 1000) */
    uint64_t per_byte;   /* per byte of the signed encoding (default 10) */
} pel_gas_schedule;

pel_gas_schedule pel_gas_defaults(void);

/* The chain's fixed parameters (from genesis). */
typedef struct pel_chain_params {
    char chain_id[PEL_CHAIN_ID_MAX + 1];
    pel_gas_schedule gas;
    uint64_t min_gas_price;   /* admission minimum (default 1) */
    const pel_module_table *modules;  /* transaction types beyond transfers
                                         (module.h); NULL = transfers only */
} pel_chain_params;

/* State keys. */
void pel_key_balance(const pel_addr *a, pel_key *out);
void pel_key_nonce(const pel_addr *a, pel_key *out);
void pel_key_fee_pool(pel_key *out);

/* pel_intrinsic_gas - base + per_byte * size (saturating). */
uint64_t pel_intrinsic_gas(const pel_gas_schedule *g, uint32_t size);

/* pel_tx_max_fee - gas_limit * gas_price. @return 0 or PEL_ERANGE (overflow). */
int pel_tx_max_fee(const pel_tx *tx, uint64_t *out) PEL_MUST_USE;

/* pel_tx_spend - what the transaction can take from its sender at most:
 * max fee plus the amount it moves (a transfer's amount, or what its
 * module's spend says: a licence's maximum price, a DAO deposit; p may be
 * NULL for transfers only). @return 0 or PEL_ERANGE. */
int pel_tx_spend(const pel_chain_params *p, const pel_tx *tx, uint64_t *out) PEL_MUST_USE;

/*
 * pel_ledger_precheck - the stateless admission checks, in this order:
 * chain id (PEL_ECHAIN), known type with a well-formed body (PEL_ETXTYPE),
 * gas_limit >= intrinsic gas (PEL_EGAS), gas_price >= min (PEL_EFEE), max
 * fee and spend without overflow (PEL_EFUNDS), a declared access list that
 * covers the ledger's bookkeeping keys (PEL_EACCESS: sender nonce as a
 * write; sender balance, fee pool and transfer recipient as delta or write).
 * Signature: pel_tx_verify.
 * @return 0 or the code; *why (if non-NULL) gets a static message.
 */
int pel_ledger_precheck(const pel_chain_params *p, const pel_tx *tx, const char **why)
    PEL_MUST_USE;

/* The executor's context for one block. */
typedef struct pel_ledger_ctx {
    const pel_chain_params *params;
    uint64_t height;          /* height of the block being executed */
    uint64_t time_ms;         /* its timestamp (block header) */
} pel_ledger_ctx;

/* pel_ledger_exec - the executor (engine.h): tx is a `const pel_tx *`. */
int pel_ledger_exec(void *ctx, const void *tx, pel_view *view);

static inline pel_executor pel_ledger_executor(pel_ledger_ctx *c)
{
    pel_executor e = { pel_ledger_exec, c };
    return e;
}

/* Event kinds in receipts (first byte of each event). */
enum { PEL_EV_TRANSFER = 1 };   /* ‖ from (20) ‖ to (20) ‖ amount u64 */
enum { PEL_EV_TRANSFER_LEN = 1 + 2 * PEL_ADDR_LEN + 8 };

/* ---- token movements, for the ledger and the modules ----
 * Every movement of tokens between accounts emits a PEL_EV_TRANSFER event:
 * the supply check of `pel admin verify` (chain_verify.c) sums the
 * accounts these events name, and the RPC shows them in receipts. */

/* pel_ledger_emit_transfer - emit the transfer event of a movement.
 * @return 0 or the view's code. */
int pel_ledger_emit_transfer(pel_view *v, const pel_addr *from, const pel_addr *to,
                             uint64_t amount) PEL_MUST_USE;

/* pel_ledger_credit - add amount (<= INT64_MAX) to `to`'s balance and emit
 * the event from `from` (the caller has taken the amount from `from`).
 * @return 0, PEL_ERANGE (to's balance would overflow), the view's code. */
int pel_ledger_credit(pel_view *v, const pel_addr *from, const pel_addr *to,
                      uint64_t amount) PEL_MUST_USE;

/* pel_ledger_move - move amount from one balance to another (both delta
 * counters) and emit the event. @return 0, PEL_EFUNDS (`from` holds less),
 * PEL_ERANGE (amount > INT64_MAX, or to's balance would overflow), the
 * view's code. */
int pel_ledger_move(pel_view *v, const pel_addr *from, const pel_addr *to,
                    uint64_t amount) PEL_MUST_USE;

/* pel_ledger_transfer_event - decode one event: true (and the fields) if
 * it is a transfer event, false otherwise. */
bool pel_ledger_transfer_event(const uint8_t *ev, size_t len, pel_addr *from, pel_addr *to,
                               uint64_t *amount);

#endif
