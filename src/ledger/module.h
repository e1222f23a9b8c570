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
 * Thread safety: the table and its functions are called concurrently by the
 * engines and the mempool; modules keep no mutable state.
 */
#ifndef PEL_MODULE_H
#define PEL_MODULE_H

#include <stdint.h>

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
    /* check - stateless validity of a body (admission and execution):
     * 0, or a code with *why a static message. */
    int (*check)(uint16_t type, const uint8_t *body, uint32_t len, const char **why);
    /* exec - run a checked body. 0 or a failure status (ledger.h). */
    int (*exec)(const pel_module_ctx *ctx, const pel_tx *tx, pel_view *v);
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

#endif
