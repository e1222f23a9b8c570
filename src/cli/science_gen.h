/*
 * science_gen.h - the open-science transaction mix, defined once for the
 * two benchmarks that replay it: `pel bench exec --workload science` (in
 * memory, through the ledger and its modules; bench_science.c) and
 * `pel loadgen --workload science|mixed` (signed and submitted to a node;
 * loadgen.c). The generator makes bodies; its callers sign them.
 *
 * ---- The world (set up and committed before the mix runs) ----
 * P popular objects (1..PEL_SCI_POPULAR_MAX), popular object c registered
 * by curator key c and then given versions 2..V by the same curator, so
 * that it has V versions (the targets of reviews). Curators never send
 * transactions of the mix, so no sender is an author of a popular object
 * (review.h's rule) and nothing in the mix writes a popular object's head
 * (its readers, citing registrations and reviews, never conflict). Every
 * sender of the mix registers one object of its own (the target of its
 * new versions). In order, with each key's nonces consecutive:
 *   curator c:  register pel_sci_popular_body(c)      -> popular[c]
 *               version  pel_sci_object_body(x, NULL, &popular[c])  V-1 times
 *   sender s:   register pel_sci_own_body(s)          -> own
 * (an object's id is pel_obj_id_of(its register transaction's id)).
 *
 * ---- The mix (pel_sci_next: one draw r of a 64-bit LCG per transaction) ----
 *   40%  register an object that cites popular object r mod P (its citation
 *        counter is a delta counter: the citations commute)
 *   15%  register an object with no links
 *   15%  a new version of the sender's own object
 *   15%  a review of a popular object: the sender's k-th review is of
 *        popular[(k + sender index) mod P] at version 1 + k / P, so no sender
 *        reviews one version twice (review.h's rule); when k reaches P * V
 *        the sender cites instead (pel_sci_versions_for sizes V so that this
 *        practically never happens)
 *   15%  a preregistration commit (no embargo)
 * Content digests, review digests and commitments come from the draw, so
 * every transaction registers distinct content; the same seed gives the
 * same bodies. Every transaction of a correct run succeeds.
 *
 * Thread safety: none needed (no shared state; one generator per thread).
 */
#ifndef PEL_CLI_SCIENCE_GEN_H
#define PEL_CLI_SCIENCE_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "modules/registry.h"

#define PEL_SCI_POPULAR_MAX 64

typedef enum pel_sci_kind {
    PEL_SCI_CITE, PEL_SCI_REGISTER, PEL_SCI_VERSION, PEL_SCI_REVIEW, PEL_SCI_PREREG, PEL_SCI_KINDS
} pel_sci_kind;

/* "cite", "register", "version", "review", "prereg" */
extern const char *const pel_sci_kind_names[PEL_SCI_KINDS];

/* What the mix refers to; filled by the caller during the setup. */
typedef struct pel_sci_world {
    uint32_t n_popular;                        /* P, 1..PEL_SCI_POPULAR_MAX */
    uint32_t versions;                         /* V >= 1 of each popular object */
    pel_obj_id popular[PEL_SCI_POPULAR_MAX];
} pel_sci_world;

/* One sender of the mix. */
typedef struct pel_sci_sender {
    uint32_t index;      /* its number among the senders: spreads its reviews */
    uint32_t reviews;    /* reviews generated so far */
    int has_own;         /* own is set (without it, versions become registrations) */
    pel_obj_id own;      /* the object it registered in the setup */
} pel_sci_sender;

/* pel_sci_next - the next transaction of sender s: one draw from *rng
 * chooses the kind (the table at the top) and the content.
 * @param[in,out] rng   the generator's state (any value to start)
 * @param[in,out] s     the sender (its review count moves on)
 * @param[out]    type  the transaction type (registry.h, review.h, prereg.h)
 * @param[out]    kind  which line of the mix it is (NULL: not wanted)
 * @param[out]    body  reset, then the body
 * @return 0, PEL_ENOMEM. */
int pel_sci_next(const pel_sci_world *w, pel_sci_sender *s, uint64_t *rng, uint16_t *type,
                 pel_sci_kind *kind, pel_buf *body) PEL_MUST_USE;

/* pel_sci_object_body - the fields of an object (kind dataset, licence
 * CC-BY-4.0) with the content digest made from x, citing `cite` if not
 * NULL; for a version (type 17) `self` is the versioned object and goes
 * first. body is reset. @return 0, PEL_ENOMEM. */
int pel_sci_object_body(uint64_t x, const pel_obj_id *cite, const pel_obj_id *self, pel_buf *body)
    PEL_MUST_USE;

/* pel_sci_popular_body / pel_sci_own_body - the registration of popular
 * object c and of sender s's own object (distinct content for each).
 * body is reset. @return 0, PEL_ENOMEM. */
int pel_sci_popular_body(uint32_t c, pel_buf *body) PEL_MUST_USE;
int pel_sci_own_body(uint32_t s, pel_buf *body) PEL_MUST_USE;

/* pel_sci_versions_for - V for P popular objects when a sender sends up to
 * txs_per_sender transactions of the mix: room for its expected reviews
 * plus a margin of four standard deviations (and at least 1). */
uint32_t pel_sci_versions_for(uint32_t n_popular, uint64_t txs_per_sender);

/* pel_sci_extra_gas - the gas a transaction of the mix with a body of len
 * bytes is given beyond its intrinsic gas (what `pel object`, `pel review`
 * and `pel prereg` give). */
uint64_t pel_sci_extra_gas(uint16_t type, size_t len);

#endif
