/*
 * shares.h - fractional IP shares: an object's revenue rights split into N
 * transferable shares. Every payment to the object (its own part of a
 * licence purchase, licence.h) is distributed to the holders in O(1) with
 * a reward-per-share accumulator; holders claim when they like, and a
 * transfer settles both sides first, so nothing is lost or counted twice.
 *
 * ---- Transactions (types 30..32; canonical codec) ----
 *   30 create    object id raw16 ‖ shares u64 (1..PEL_SHARES_MAX)
 *   31 transfer  object id raw16 ‖ to address raw20 ‖ amount u64 (>= 1)
 *   32 claim     object id raw16
 *
 * ---- Rules ----
 * create: the object exists (PEL_EOBJ_UNKNOWN), the sender controls it
 *   (PEL_EOBJ_PERM), it has no share class yet (PEL_ESHARE_EXISTS); all
 *   shares go to the sender. From then on the object's revenue goes to its
 *   holders instead of its licence parties.
 * transfer / claim: the class exists (PEL_ESHARE_NONE); a transfer needs
 *   the shares (PEL_ESHARE_FUNDS), not to oneself (PEL_EINVAL), and the
 *   sender's shares not locked (PEL_ESHARE_LOCKED: a share-weighted DAO
 *   vote locks the voter's shares until the proposal's deadline, dao.h).
 *
 * ---- Accounting (exact) ----
 * acc is the revenue per share so far, scaled by 2^PEL_SHARES_SCALE_BITS.
 * A deposit of A units adds floor(A * 2^S / N) to acc (a delta counter, so
 * purchases of one object do not conflict) and credits A to the class's
 * pool account (pel_shares_pool), emitting a transfer event. A holder's
 * record keeps its shares b, the acc it was last settled at, and what it
 * is owed in scaled units; settling adds b * (acc - snapshot). A claim
 * pays floor(owed / 2^S) from the pool and keeps the rest. So a holder
 * receives exactly floor(sum over deposits of b_at_deposit * delta / 2^S)
 * minus what it claimed, and the pool always covers every claim (the
 * rounding dust stays in the pool). A deposit that would overflow acc is
 * refused (pel_shares_deposit returns PEL_EBOUND) and the payment goes to
 * the licence parties instead.
 *
 * ---- State ----
 *   H("PEL/share-class", id)         shares u64 ‖ creator raw20 ‖ height u64
 *   H("PEL/share-acc", id)           counter: acc
 *   H("PEL/share-hold", id ‖ addr)   shares u64 ‖ snapshot u64 ‖ owed u128
 *                                    (two u64, low first) ‖ lock_until u64;
 *                                    absent = nothing
 * Events: a transfer event for every movement of tokens (buyer -> pool on
 *   a deposit, pool -> holder on a claim) and PEL_EV_SHARES ‖ op u8 (the
 *   type - 29) ‖ id raw16 ‖ address raw20 ‖ amount u64 (create: shares;
 *   transfer: shares to `address`; claim: units paid).
 *
 * Thread safety: no mutable state.
 */
#ifndef PEL_SHARES_H
#define PEL_SHARES_H

#include <stdint.h>

#include "core/err.h"
#include "exec/state.h"
#include "ledger/module.h"
#include "modules/registry.h"

enum { PEL_TX_SHARES_CREATE = 30, PEL_TX_SHARES_TRANSFER = 31, PEL_TX_SHARES_CLAIM = 32 };
enum { PEL_EV_SHARES = 5 };

#define PEL_SHARES_MAX (1ull << 40)
#define PEL_SHARES_SCALE_BITS 20

extern const pel_tx_module pel_shares_module;

typedef struct pel_share_class { uint64_t shares, height; pel_addr creator; } pel_share_class;
typedef struct pel_share_holding {
    uint64_t shares, snapshot;
    unsigned __int128 owed;          /* scaled: units << PEL_SHARES_SCALE_BITS */
    uint64_t lock_until;             /* no transfers while height <= this (DAO votes) */
} pel_share_holding;

/* Bodies, for the CLI and tests. @return 0, PEL_ENOMEM. */
int pel_shares_create_body(const pel_obj_id *id, uint64_t shares, pel_buf *out) PEL_MUST_USE;
int pel_shares_transfer_body(const pel_obj_id *id, const pel_addr *to, uint64_t amount,
                             pel_buf *out) PEL_MUST_USE;
int pel_shares_claim_body(const pel_obj_id *id, pel_buf *out) PEL_MUST_USE;

/* pel_shares_event - is this receipt event a PEL_EV_SHARES event? Fills
 * *op (1 create, 2 transfer, 3 claim), the object, the address and the
 * amount. @return 1 or 0. */
int pel_shares_event(const uint8_t *ev, size_t len, uint8_t *op, pel_obj_id *id, pel_addr *a,
                     uint64_t *amount);

/* pel_shares_pool - the account that holds a class's undistributed funds. */
void pel_shares_pool(const pel_obj_id *id, pel_addr *out);

/* For licence.h, inside a transaction: does the object have a share
 * class? (0 no, 1 yes, or a view error.) */
int pel_shares_exists_view(pel_view *v, const pel_obj_id *id) PEL_MUST_USE;
/* pel_shares_deposit_delta - the accumulator part of a deposit of amount
 * (the caller credits the pool): @return 0, PEL_EBOUND (acc would
 * overflow: nothing changed), view errors. */
int pel_shares_deposit_delta(pel_view *v, const pel_obj_id *id, uint64_t amount) PEL_MUST_USE;
/* For dao.h, inside a transaction: the class (PEL_ESHARE_NONE if none). */
int pel_shares_class_view(pel_view *v, const pel_obj_id *id, pel_share_class *out) PEL_MUST_USE;
/* pel_shares_lock - a's shares now (*shares; 0 if none) and, if it has
 * any, lock them against transfers while height <= until (a later lock
 * only extends). @return 0, PEL_ESHARE_NONE, view errors. */
int pel_shares_lock(pel_view *v, const pel_obj_id *id, const pel_addr *a, uint64_t until,
                    uint64_t *shares) PEL_MUST_USE;

/* ---- queries (committed state) ---- */
/* @return 0, PEL_ESHARE_NONE, PEL_ECORRUPT, ... */
int pel_shares_class(const pel_state *st, const pel_obj_id *id, pel_share_class *out,
                     uint64_t *acc) PEL_MUST_USE;
/* A holder's record settled to the current acc (all zero if none);
 * *claimable = what a claim would pay now. */
int pel_shares_holding(const pel_state *st, const pel_obj_id *id, const pel_addr *a,
                       pel_share_holding *out, uint64_t *claimable) PEL_MUST_USE;

#endif
