/*
 * membership.h - JSON-RPC methods that read and change the membership of
 * a raft cluster (docs/API.md "Cluster membership"; node/order.h).
 *
 *   cluster_members  the Raft configuration as this node knows it:
 *                    {"members": [{"id", "raft", "rpc", "role",
 *                    "leader"}], "leader_id", "voters"}
 *   cluster_add      {"raft": "host:port", "rpc": "host:port", "id"?}:
 *                    add a member as a spare (id: a random unused one
 *                    unless given) -> {"id", "members"}
 *   cluster_promote  {"id"}: make a member a voter once it has caught up
 *   cluster_remove   {"id"}: remove a member (the leader too)
 *
 * The three changes need params.token, the cluster's admin token
 * (config.h: cluster.admin_token; PEL_EDENIED otherwise), and run on the
 * leader: a follower forwards them (methods.h: pel_rpc_forward). Each
 * waits up to 8 s for the new configuration to commit; past that the answer is PEL_EPENDING (-77) and
 * the change goes on. PEL_EBUSY (-76): another change is in progress.
 */
#ifndef PEL_RPC_MEMBERSHIP_H
#define PEL_RPC_MEMBERSHIP_H

#include <cjson/cJSON.h>

#include "rpc/http.h"

int pel_rpc_cluster_members(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_cluster_add(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_cluster_promote(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);
int pel_rpc_cluster_remove(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err);

#endif
