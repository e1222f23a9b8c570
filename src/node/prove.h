/*
 * prove.h - proof files (state/proof.h) assembled from the committed chain:
 * what `pel prove` asks the node for over JSON-RPC.
 *
 * Every proof is against a stored checkpoint (chain.h), so it verifies with
 * the node's verifier key alone:
 *   tx           against the checkpoint of the head (or of any height from
 *                the transaction's block on): its leaf in the history tree
 *                of that size;
 *   state        against the checkpoint of the requested height (default
 *                the head), from the state tree version of that height
 *                (kept for state.versions_kept blocks);
 *   consistency  between the checkpoints of two heights.
 *
 * Thread safety: callable from any thread while blocks commit (the trees'
 * records are write-once; a head read once fixes what is proven).
 */
#ifndef PEL_PROVE_H
#define PEL_PROVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "exec/key.h"
#include "node/chain.h"
#include "state/proof.h"

#define PEL_PROVE_HEAD UINT64_MAX   /* "at the head" for pel_prove_state */

/*
 * pel_prove_tx - the inclusion proof of transaction `id` (where it took
 * effect: chain.h's TXS index) in the ledger after block `at`
 * (PEL_PROVE_HEAD: the head). `at` = the transaction's own height gives the
 * tightest time bound (the checkpoint's time is its block's).
 * @param[out] out  pel_proof_init'ed; filled on success, empty on failure
 * @param[out] err  errlen bytes for a message ("" on success)
 * @return 0, PEL_ENOTFOUND (not in the ledger), PEL_EINVAL (the chain
 *         keeps no trees or checkpoints; `at` before the transaction's
 *         block or beyond the head), PEL_ECORRUPT, PEL_ENOMEM, PEL_EIO.
 */
int pel_prove_tx(pel_chain *c, const uint8_t id[32], uint64_t at, pel_proof *out, char *err,
                 size_t errlen) PEL_MUST_USE;

/*
 * pel_prove_state - the (non-)inclusion proof of state key k after block
 * `height` (PEL_PROVE_HEAD: the head).
 * @return 0, PEL_EINVAL (height beyond the head, no trees), PEL_ESMT_PRUNED
 *         (that version is no longer kept), PEL_ENOTFOUND (no checkpoint
 *         for that height), PEL_ECORRUPT, PEL_ENOMEM, PEL_EIO.
 */
int pel_prove_state(pel_chain *c, const pel_key *k, uint64_t height, pel_proof *out, char *err,
                    size_t errlen) PEL_MUST_USE;

/*
 * pel_prove_consistency - the proof that the ledger at height new_h
 * extends the ledger at old_h (old_h <= new_h <= head).
 * @return 0, PEL_EINVAL (heights out of order or beyond the head, no
 *         trees), PEL_ENOTFOUND (a checkpoint missing), PEL_ECORRUPT,
 *         PEL_ENOMEM, PEL_EIO.
 */
int pel_prove_consistency(pel_chain *c, uint64_t old_h, uint64_t new_h, pel_proof *out,
                          char *err, size_t errlen) PEL_MUST_USE;

#endif
