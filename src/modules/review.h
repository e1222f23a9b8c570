/*
 * review.h - peer-review attestations. A review is itself a research
 * object (kind "review", registry.h) linked to what it reviews, so it can
 * be cited and, later, earn licence income; this module adds what is
 * particular to reviews and their rules.
 *
 * ---- Transaction (type 24; canonical codec) ----
 *   object id raw16 ‖ version u32 (>= 1: reviews are of one version) ‖
 *   recommendation u8 (pel_review_rec) ‖ review digest raw32 (SHA-256 of
 *   the review text) ‖ competing interests bytes (0..PEL_REVIEW_CI_MAX,
 *   UTF-8 without control characters; empty = none declared) ‖ licence
 *   bytes (SPDX, as registry.h) ‖ pseudonymous u8 (0 or 1)
 *
 * ---- Rules ----
 * The reviewed version exists (PEL_EOBJ_UNKNOWN, PEL_EOBJ_VERSION). The
 * reviewer (the transaction's signer) is not an author of the object: not
 * its creator, a maintainer, or a contributor of the reviewed version
 * (PEL_EREVIEW_AUTHOR). One review per reviewer and version
 * (PEL_EREVIEW_DUP). On success a review object is registered (its id is
 * the registry's id for this transaction; title "Review of pel:obj:…@vN";
 * its digest the review digest; one link "reviews" to the version) and the
 * review record stored.
 * "pseudonymous" declares that the signing key is a per-review key, not
 * the reviewer's public identity: the chain cannot tell, and the author
 * check then only covers that key. Public reviews should be signed with
 * the reviewer's own address.
 *
 * ---- State ----
 *   H("PEL/review", review object id)            recommendation u8 ‖ target
 *                                                id raw16 ‖ version u32 ‖
 *                                                pseudonymous u8 ‖ bytes
 *                                                competing interests
 *   H("PEL/reviewed", target ‖ version ‖ signer) the review object id (the
 *                                                one-per-reviewer rule)
 * Thread safety: no mutable state.
 */
#ifndef PEL_REVIEW_H
#define PEL_REVIEW_H

#include <stdint.h>

#include "core/err.h"
#include "exec/state.h"
#include "ledger/module.h"
#include "modules/registry.h"

enum { PEL_TX_REVIEW = 24 };

#define PEL_REVIEW_CI_MAX 500

typedef enum pel_review_rec {
    PEL_REVIEW_ACCEPT, PEL_REVIEW_MINOR, PEL_REVIEW_MAJOR, PEL_REVIEW_REJECT, PEL_REVIEW_COMMENT,
    PEL_REVIEW_RECS
} pel_review_rec;

extern const char *const pel_review_rec_names[PEL_REVIEW_RECS];   /* "accept", "minor", ... */

extern const pel_tx_module pel_review_module;

typedef struct pel_review {
    uint8_t recommendation;
    pel_obj_id target;
    uint32_t version;
    int pseudonymous;
    char competing[PEL_REVIEW_CI_MAX + 1];
} pel_review;

/* pel_review_get - the review record of review object `id`.
 * @return 0, PEL_ENOTFOUND (not a review), PEL_ECORRUPT, store errors. */
int pel_review_get(const pel_state *st, const pel_obj_id *id, pel_review *out) PEL_MUST_USE;

#endif
