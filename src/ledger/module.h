/*
 * module.h - the interface between the ledger and the open-science modules
 * (src/modules/): a module owns some transaction types; the ledger checks
 * and executes their bodies through it.
 *
 * The ledger is the lower layer, so it does not know the modules: the table
 * of modules is handed to it in pel_chain_params (the node puts
 * pel_modules_table() there, modules/modules.h). A chain's table is part of
 * its consensus rules: every node of a chain must run the same one.
 *
 * A module's body runs inside pel_ledger_exec after the nonce and the fee
 * reservation (ledger.h); it sees the state only through the view, may fail
 * with a status (its writes are rolled back, the sender still pays), and
 * must be deterministic: no clock but the block's height and time in ctx,
 * no randomness, no iteration over anything unordered.
 *
 * check and exec validate a body by the same rules: check at admission
 * (the mempool, and clients before they sign), exec at execution, where
 * the ledger does not call check first, so that a body is decoded once per
 * execution. A body that reaches exec although check refuses it (a block
 * made by someone else, or by an older node) must fail in exec with the
 * code check returns, before exec reads or writes any state; the simplest
 * way is one decoding function that both call (prereg.c, review.c,
 * registry.c do so).
 *
 * Thread safety: the table and its functions are called concurrently by the
 * engines and the mempool; modules keep no mutable state.
 */
#ifndef PEL_MODULE_H
#define PEL_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "exec/view.h"
#include "ledger/tx.h"

/* What a module's body sees besides the view. */
typedef struct pel_module_ctx {
    uint64_t height;          /* height of the block being executed */
    uint64_t time_ms;         /* its timestamp, ms since the Unix epoch */
} pel_module_ctx;

typedef struct pel_tx_module {
    const char *name;         /* "registry" */
    uint16_t first_type, last_type;   /* the transaction types it owns */
    /* check - stateless validity of a body, for admission: 0, or a code
     * with *why a static message (NULL on success). */
    int (*check)(uint16_t type, const uint8_t *body, uint32_t len, const char **why);
    /* exec - decode, validate (as check: the same code for a body check
     * refuses, with no state touched) and run a body; 0 or a failure
     * status (ledger.h). */
    int (*exec)(const pel_module_ctx *ctx, const pel_tx *tx, pel_view *v);
    /* spend - optional: the most a body can take from its sender besides
     * the fee (a licence's maximum price, a DAO deposit), so that
     * admission can refuse what the sender cannot pay (pel_tx_spend);
     * 0 for a body check refuses. NULL = 0. */
    uint64_t (*spend)(uint16_t type, const uint8_t *body, uint32_t len);
} pel_tx_module;

/* A chain's modules: an array of n pointers, types not overlapping. */
typedef struct pel_module_table {
    const pel_tx_module *const *mods;
    unsigned n;
} pel_module_table;

/* pel_module_find - the module that owns `type`, or NULL. */
static inline const pel_tx_module *pel_module_find(const pel_module_table *t, uint16_t type)
{
    for (unsigned i = 0; t && i < t->n; i++)
        if (type >= t->mods[i]->first_type && type <= t->mods[i]->last_type) return t->mods[i];
    return NULL;
}

/* ---- records: one encoded value per state key ---- */

/* pel_module_get - read the value at k and decode it with
 * dec(bytes, len, rec). The bytes stay valid until the block's execution
 * ends, so dec may keep pointers into them (lazy decoding).
 * @return 0; `absent` if k has no value; dec's code; or the view's
 * (PEL_EHALT...). Example (prereg.c, rec_parse decoding into a rec):
 *     rc = pel_module_get(v, &k, PEL_EPREREG_UNKNOWN, rec_parse, &r); */
static inline int pel_module_get(pel_view *v, const pel_key *k, int absent,
                                 int (*dec)(const uint8_t *p, size_t len, void *rec), void *rec)
{
    pel_val val;
    int rc = pel_view_get(v, k, &val);
    if (rc == PEL_ENOTFOUND) return absent;
    return rc ? rc : dec(val.p, val.len, rec);
}

/* pel_module_put - encode rec with enc(rec, buf) into a scratch buffer and
 * put the bytes at k (the view copies them).
 * @return 0, enc's code (PEL_ENOMEM...), or the view's. */
static inline int pel_module_put(pel_view *v, const pel_key *k,
                                 int (*enc)(const void *rec, pel_buf *out), const void *rec)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = enc(rec, &b);
    if (!rc) rc = pel_view_put(v, k, b.data, b.len);
    pel_buf_free(&b);
    return rc;
}

#endif
