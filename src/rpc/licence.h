/*
 * licence.h - the `licence` JSON-RPC method (docs/API.md): an object's
 * licence terms, totals, its purchases (paged, from the node's index) and,
 * given a buyer, that buyer's licence record with the state key that
 * `prove_state` proves it by. ctx is the pel_node. Thread safety: as
 * methods.h.
 */
#ifndef PEL_RPC_LICENCE_H
#define PEL_RPC_LICENCE_H

#include <cjson/cJSON.h>

#include "rpc/http.h"

int pel_rpc_licence(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);

#endif
