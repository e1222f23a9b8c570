/*
 * dao.h - the DAO JSON-RPC methods (docs/API.md), listed in methods.c's
 * table; ctx is the pel_node. They render modules/dao.h's committed
 * records:
 *   dao            {"dao": "pel:dao:…", "address"?: "pel1…"}
 *                  settings, members, treasury and its balance, total
 *                  weight, proposals made; with address, its stake and
 *                  weight
 *   dao_proposal   {"dao": …, "proposal": N, "voter"?: "pel1…"}
 *                  one proposal: tally, status, its action (a grant's
 *                  milestones and escrow); with voter, that vote
 *   dao_proposals  {"dao": …, "after"?: N (0), "limit"?: 1..1000 (100)}
 *                  proposals after+1, after+2, ... ascending; "next" is
 *                  the "after" of the following page, or null
 * A proposal's status: "executed" once executed; else "open" while the
 * chain's head is below its deadline (the next block, head + 1, may still
 * carry votes); else, the tally final, "passed" or "rejected" by
 * pel_dao_passes (a passed proposal can be executed once the head is past
 * the deadline, that is, in any block from deadline + 1).
 * Thread safety: as methods.h.
 */
#ifndef PEL_RPC_DAO_H
#define PEL_RPC_DAO_H

#include <cjson/cJSON.h>

#include "rpc/http.h"

int pel_rpc_dao(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_dao_proposal(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_dao_proposals(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);

#endif
