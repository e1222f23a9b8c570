/*
 * priorart.h - prior-art / copyright evidence: what a verified proof file
 * (state/proof.h, type "tx") says about a file when its transaction
 * registers a research object (modules/registry.h).
 *
 * A prior-art bundle IS a transaction proof file: the signed registering
 * transaction (whose body holds the object's fields and the content
 * digests), its receipt (status, and the object event with the id,
 * version and first-registration mask), the RFC 9162 inclusion path and
 * the signed checkpoint. `pel object proof ID[@vN]` writes one;
 * `pel verify BUNDLE --key K --file ORIGINAL` checks it offline and then
 * this module says what it proves about ORIGINAL: that this exact file's
 * SHA-256 digest was registered by the transaction's signer, in object
 * pel:obj:…@vN, in a block no later than the checkpoint's time, and
 * whether that was the first registration of the digest on the chain.
 *
 * Thread safety: no shared state.
 */
#ifndef PEL_PRIORART_H
#define PEL_PRIORART_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "modules/registry.h"
#include "state/proof.h"

typedef struct pel_priorart_claim {
    pel_obj_id id;
    uint32_t version;
    uint8_t kind;
    pel_addr registrant;          /* the transaction's signer */
    uint64_t height;              /* block of the registration */
    uint32_t digest_index;        /* which of the object's digests */
    int first;                    /* first registration of the digest */
    uint64_t no_later_than_ms;    /* the checkpoint's timestamp */
    char title[PEL_OBJ_TITLE_MAX + 1];
} pel_priorart_claim;

/*
 * pel_priorart_check - after pel_proof_verify(p) succeeded with result r:
 * does the proven transaction register content `digest`, successfully?
 * @param[out] out  the claim (zeroed on failure)
 * @param[out] err  errlen bytes: what does not hold ("" on success)
 * @return 0; PEL_EINVAL (the proof is not a transaction proof, or its
 *         transaction is not a registration or version of an object);
 *         PEL_ENOTFOUND (the digest is not among the object's); PEL_EPROOF
 *         (the registration failed: receipt status not 0, or no object
 *         event); codec errors for malformed bytes.
 */
int pel_priorart_check(const pel_proof *p, const pel_proof_result *r, const uint8_t digest[32],
                       pel_priorart_claim *out, char *err, size_t errlen) PEL_MUST_USE;

#endif
