/*
 * shares.h - the `shares` JSON-RPC method (docs/API.md): an object's share
 * class, its pool, and optionally one holder's shares and claimable
 * revenue. ctx is the pel_node. Thread safety: as methods.h.
 */
#ifndef PEL_RPC_SHARES_H
#define PEL_RPC_SHARES_H

#include <cjson/cJSON.h>

#include "rpc/http.h"

int pel_rpc_shares(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);

#endif
