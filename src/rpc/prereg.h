/*
 * prereg.h - the preregistration JSON-RPC method (docs/API.md), listed in
 * methods.c's table; ctx is the pel_node.
 *   prereg {"id": "pel:prereg:<32 hex>"}  the record, with each result's
 *          outcome-switching verdict
 * Thread safety: as methods.h.
 */
#ifndef PEL_RPC_PREREG_H
#define PEL_RPC_PREREG_H

#include <cjson/cJSON.h>

#include "rpc/http.h"

int pel_rpc_prereg(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);

#endif
