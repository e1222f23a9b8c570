/*
 * licence.h - licences and royalties: an object's controllers set licence
 * terms (a price, its split among the object's people in basis points, and
 * an upstream share for the objects it is derived from or uses data from);
 * buying a licence pays every party in the same transaction, cascading
 * upstream along derived-from / uses-data links (DESIGN.md section 6).
 *
 * ---- Transactions (types 28..29; canonical codec) ----
 *   28 terms  object id raw16 ‖ price u64 ‖ upstream bps u16 (0..10000) ‖
 *             u32 n ‖ (address raw20 ‖ bps u16)*n
 *             1..PEL_LIC_PARTIES_MAX parties, addresses strictly ascending,
 *             each bps >= 1, summing to exactly 10000
 *   29 buy    object id raw16 ‖ max price u64 (what the buyer agrees to pay
 *             at most: terms changed in between fail, they do not overcharge)
 *
 * ---- Rules ----
 * terms: the object exists (PEL_EOBJ_UNKNOWN) and the sender controls it
 *   (PEL_EOBJ_PERM); every party is the object's creator, a maintainer, or
 *   a contributor of its latest version (PEL_ELIC_PARTY). Each setting is a
 *   new revision (1, 2, ...); licences keep the revision they were bought
 *   under.
 * buy: the object has terms (PEL_ELIC_NONE); price <= max price
 *   (PEL_ELIC_PRICE); the buyer can pay (PEL_EFUNDS). Admission counts the
 *   max price (capped at 2^63-1) as spent (pel_tx_spend), so a buyer whose
 *   balance cannot cover it and the fee is refused before execution. The buyer's record
 *   is written (a second purchase renews it and counts 2).
 *
 * ---- Payment (pel_licence_pay; exact integer arithmetic) ----
 * Paying amount A to object X (terms T at depth d, starting at d = 0):
 *   parents = the distinct objects X's latest version links to with
 *             derived-from or uses-data, in id order;
 *   up      = A * T.upstream_bps / 10000 (rounded down) if X has parents,
 *             d < PEL_LIC_DEPTH_MAX and the hop budget allows, else 0;
 *   own     = A - up, deposited to the object's share holders if it has
 *             a share class (shares.h), else split by T's parties: party i
 *             gets own * bps_i / 10000 rounded down, and the first party
 *             (lowest address) also gets what rounding left;
 *   each parent gets up / n, the first parent also the remainder, and is
 *   paid the same way at depth d + 1 if it has terms, else it all goes to
 *   its share holders if it has a class, else to its creator.
 * Objects are paid breadth first; at most PEL_LIC_HOPS_MAX objects per
 * purchase (beyond, an object keeps its upstream share in its own split),
 * so gas (every read and write is charged) stays bounded. No unit is
 * created or lost: the buyer's debit equals the sum of the credits.
 * Credits are delta additions to the payees' balances, so many purchases
 * of one popular object in a block do not conflict. Each credit emits a
 * transfer event (PEL_EV_TRANSFER, buyer -> payee, amount) merged per
 * payee, in address order.
 *
 * ---- State (keys H(tag, ...), values in the canonical codec) ----
 *   H("PEL/lic-terms", id)        revision u32 ‖ height u64 ‖ price u64 ‖
 *                                 upstream bps u16 ‖ u32 n ‖ (addr ‖ bps)*n
 *   H("PEL/licence", id ‖ buyer)  revision u32 ‖ price u64 ‖ height u64 ‖
 *                                 time ms u64 ‖ count u32 ‖ tx id raw32
 *                                 (the latest purchase)
 *   H("PEL/lic-sold", id)         counter: licences sold
 *   H("PEL/lic-revenue", id)      counter: units paid for this object's
 *                                 licences (before splitting)
 * Events: PEL_EV_LICENCE ‖ op u8 (1 terms, 2 buy) ‖ id raw16 ‖
 *   revision u32 ‖ buyer raw20 (zero for terms) ‖ price u64.
 *
 * Thread safety: no mutable state.
 */
#ifndef PEL_LICENCE_H
#define PEL_LICENCE_H

#include <stdint.h>

#include "core/err.h"
#include "exec/state.h"
#include "ledger/module.h"
#include "modules/registry.h"

enum { PEL_TX_LIC_TERMS = 28, PEL_TX_LIC_BUY = 29 };
enum { PEL_EV_LICENCE = 4 };
enum { PEL_LIC_EV_TERMS = 1, PEL_LIC_EV_BUY = 2 };

#define PEL_LIC_PARTIES_MAX 16
#define PEL_LIC_DEPTH_MAX 4      /* upstream levels a payment cascades */
#define PEL_LIC_HOPS_MAX 64      /* objects paid per purchase */
#define PEL_LIC_BPS 10000u

extern const pel_tx_module pel_licence_module;

typedef struct pel_lic_party { pel_addr addr; uint16_t bps; } pel_lic_party;

typedef struct pel_lic_terms {
    uint32_t revision;
    uint64_t height;            /* when this revision was set */
    uint64_t price;
    uint16_t upstream_bps;
    uint32_t n;
    pel_lic_party party[PEL_LIC_PARTIES_MAX];
} pel_lic_terms;

typedef struct pel_licence {
    uint32_t revision;
    uint64_t price, height, time_ms;
    uint32_t count;
    uint8_t txid[32];
} pel_licence;

/* ---- bodies (the CLI builds them) ---- */

/* pel_lic_terms_body - encode a terms body (t's parties in any order: they
 * are sorted; revision and height are ignored). @return 0, PEL_ENOMEM. */
int pel_lic_terms_body(const pel_obj_id *id, const pel_lic_terms *t, pel_buf *out) PEL_MUST_USE;
int pel_lic_buy_body(const pel_obj_id *id, uint64_t max_price, pel_buf *out) PEL_MUST_USE;

/* ---- queries (committed state) ---- */

/* @return 0, PEL_ELIC_NONE, PEL_ECORRUPT, store errors. */
int pel_licence_terms(const pel_state *st, const pel_obj_id *id, pel_lic_terms *out) PEL_MUST_USE;
/* @return 0, PEL_ENOTFOUND (never bought by them), PEL_ECORRUPT, ... */
int pel_licence_get(const pel_state *st, const pel_obj_id *id, const pel_addr *buyer,
                    pel_licence *out) PEL_MUST_USE;
/* Licences sold and revenue (0 when none). */
int pel_licence_totals(const pel_state *st, const pel_obj_id *id, uint64_t *sold,
                       uint64_t *revenue) PEL_MUST_USE;
/* The state key of a buyer's licence record (for `pel prove state`). */
void pel_licence_key(const pel_obj_id *id, const pel_addr *buyer, pel_key *out);

/* pel_licence_event - is this receipt event a purchase? Fills the fields.
 * @return 1 or 0. */
int pel_licence_event(const uint8_t *ev, size_t len, pel_obj_id *id, pel_addr *buyer,
                      uint64_t *price, uint32_t *revision);
/* pel_licence_event_op - is this receipt event a licence event (terms or
 * purchase)? Fills *op (PEL_LIC_EV_TERMS or _BUY) and the fields (buyer
 * zero for terms). @return 1 or 0. */
int pel_licence_event_op(const uint8_t *ev, size_t len, uint8_t *op, pel_obj_id *id, pel_addr *buyer,
                         uint64_t *price, uint32_t *revision);

#endif
