/*
 * objindex.h - the node's query indexes over the research-object registry:
 * the questions the state cannot answer by key, because state keys are
 * hashes and have no order to scan.
 *
 *   downstream     which object versions link to object X (what builds on
 *                  it), walked to a depth like the upstream walk;
 *   contributions  which object versions name address A as a contributor,
 *                  with the CRediT roles;
 *   registrations  every registration of a content digest, in ledger
 *                  order (the state keeps only the first);
 *   purchases      every licence bought for an object, in ledger order
 *                  (the state keeps each buyer's latest).
 *
 * Records (table INDEX, keys ordered as bytes; integers big-endian so they
 * sort as numbers):
 *   'L' ‖ target id16 ‖ from id16 ‖ from_v u32 ‖ relation u8 ‖ to_v u32 -> ""
 *   'C' ‖ address20 ‖ id16 ‖ v u32                              -> roles u16 LE
 *   'D' ‖ sha256 ‖ height u64 ‖ index u32 ‖ id16 ‖ v u32         -> ""
 *   'P' ‖ id16 ‖ height u64 ‖ index u32    -> buyer20 ‖ price u64 LE ‖ revision u32 LE
 *
 * The index is derived data: every entry comes from an object version
 * recorded in the state, found through the PEL_EV_OBJECT events of the
 * block's receipts, or from a licence purchase event (PEL_EV_LICENCE). It is written in the block's own LMDB transaction
 * (pel_objindex_block), so it is never behind or ahead of the blocks, and
 * it is rebuilt from the stored receipts when a store has none
 * (pel_objindex_ensure: stores made before it existed). It is not
 * authenticated: each answer names object versions whose records, and
 * their links and contributors, can be proven with `pel prove state`.
 *
 * Thread safety: the queries read the store under their own read
 * transactions and may run on any thread at any time; writing is the
 * committer's (one write transaction at a time, as store.h says).
 */
#ifndef PEL_OBJINDEX_H
#define PEL_OBJINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "exec/engine.h"
#include "modules/registry.h"
#include "state/store.h"

#define PEL_OBJINDEX_VERSION 1   /* META "objindex"; another value rebuilds */

/* pel_objindex_block - the index entries of one block, written into w:
 * for every successful transaction's object events, the version's record
 * read from `post` (the state after the block).
 * @return 0, PEL_ECORRUPT (an event without its record), store errors. */
int pel_objindex_block(pel_store_txn *w, const pel_state *post, uint64_t height,
                       const pel_receipt *rcpts, uint32_t n) PEL_MUST_USE;

/* pel_objindex_ensure - build the index from the stored receipts if META
 * "objindex" is not PEL_OBJINDEX_VERSION (entries are idempotent, so an
 * interrupted build simply runs again), then set it. *built = the number
 * of receipts read (0 when the index was there). Not for read-only stores.
 * @return 0, PEL_ECORRUPT, store errors. */
int pel_objindex_ensure(pel_store *s, uint64_t *built) PEL_MUST_USE;

/* pel_objindex_check - does the stored index hold exactly the entries the
 * stored blocks give? For `pel admin verify`. @return 0, PEL_ECORRUPT
 * (with a message in err), store errors. */
int pel_objindex_check(pel_store *s, char *err, size_t errlen) PEL_MUST_USE;

/* pel_objindex_downstream - what builds on (id, v): pel_obj_walk over the
 * links pointing at each reached object (at the start: links to version v
 * or to the whole object; v = 0 takes every link to it), each edge once,
 * to `depth` levels. `st` is the committed state (the start must exist).
 * @return 0, fn's code, PEL_EOBJ_UNKNOWN, PEL_ENOMEM, store errors. */
int pel_objindex_downstream(pel_store *s, const pel_state *st, const pel_obj_id *id, uint32_t v,
                            uint32_t depth, int (*fn)(void *arg, const pel_obj_edge *e), void *arg)
    PEL_MUST_USE;

/* One contribution: object version (id, v) names the address with roles. */
typedef struct pel_obj_contribution {
    pel_obj_id id;
    uint32_t version;
    uint16_t roles;
} pel_obj_contribution;

/* pel_objindex_contributions - the address's contributions in (id, v)
 * order, starting after `after` (NULL: from the start). fn returns 0 to
 * go on, 1 to stop, or a negative code that is returned.
 * @return 0, fn's code, PEL_ECORRUPT, store errors. */
int pel_objindex_contributions(pel_store *s, const pel_addr *a, const pel_obj_contribution *after,
                               int (*fn)(void *arg, const pel_obj_contribution *c), void *arg)
    PEL_MUST_USE;

/* One registration of a content digest. */
typedef struct pel_obj_registration {
    uint64_t height;
    uint32_t index;          /* the transaction's index in its block */
    pel_obj_id id;
    uint32_t version;
} pel_obj_registration;

/* pel_objindex_registrations - every registration of the digest, in ledger
 * order (the first is the one the state records as first). fn as above.
 * @return 0, fn's code, PEL_ECORRUPT, store errors. */
int pel_objindex_registrations(pel_store *s, const uint8_t digest[32],
                               int (*fn)(void *arg, const pel_obj_registration *r), void *arg)
    PEL_MUST_USE;

/* One licence purchase (modules/licence.h). */
typedef struct pel_obj_purchase {
    uint64_t height;
    uint32_t index;
    pel_addr buyer;
    uint64_t price;
    uint32_t revision;       /* of the terms it was bought under */
} pel_obj_purchase;

/* pel_objindex_purchases - the object's licence purchases in ledger order,
 * after `after` (its height and index; NULL: from the first). fn as above.
 * @return 0, fn's code, PEL_ECORRUPT, store errors. */
int pel_objindex_purchases(pel_store *s, const pel_obj_id *id, const pel_obj_purchase *after,
                           int (*fn)(void *arg, const pel_obj_purchase *p), void *arg)
    PEL_MUST_USE;

#endif
