/*
 * objects.h - the research-object registry's JSON-RPC methods (docs/API.md),
 * listed in methods.c's table; ctx is the pel_node.
 *   object          {"id": "pel:obj:…[@vN]"}            one version (default latest)
 *   object_first    {"sha256": "<hex>"}                   who registered this content first
 *   object_upstream {"id": …, "depth": 1..64 (3)}         what it is built on
 *   object_downstream {"id": …, "depth": 1..64 (3)}       what builds on it
 *   contributions   {"address": "pel1…", "after": …, "limit": 1..1000 (100)}
 *                                                         object versions naming it
 * Thread safety: as methods.h.
 */
#ifndef PEL_RPC_OBJECTS_H
#define PEL_RPC_OBJECTS_H

#include <cjson/cJSON.h>

#include "rpc/http.h"

#define PEL_RPC_UPSTREAM_MAX 1000   /* edges in one answer ("truncated" beyond) */

int pel_rpc_object(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_object_first(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_object_upstream(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_object_downstream(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_contributions(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
/* review {"id": "pel:obj:…"} - the review record of a review object */
int pel_rpc_review(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);

#endif
