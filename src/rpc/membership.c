/*
 * membership.c - the cluster membership methods (membership.h) over the
 * ordering backend's pel_order_members and pel_order_change.
 */
#include "rpc/membership.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "node/config.h"
#include "node/node.h"
#include "node/order.h"
#include "rpc/methods.h"
#include "rpc/reply.h"

#define CHANGE_WAIT_MS 8000     /* below the 10 s a follower's forwarding waits */

static cJSON *members_json(pel_node *n)
{
    pel_cluster_peer m[PEL_CLUSTER_MAX];
    pel_order_status st;
    pel_order_get_status(pel_node_order(n), &st);
    unsigned k = pel_order_members(pel_node_order(n), m, PEL_CLUSTER_MAX);
    cJSON *arr = cJSON_CreateArray();
    for (unsigned i = 0; arr && i < k; i++) {
        cJSON *e = cJSON_CreateObject();
        char rpc[160];
        if (!e) break;
        cJSON_AddNumberToObject(e, "id", (double)m[i].id);
        cJSON_AddStringToObject(e, "raft", m[i].raft);
        cJSON_AddStringToObject(e, "rpc", m[i].rpc[0] ? m[i].rpc
                                : pel_node_member_rpc(n, m[i].id, rpc, sizeof rpc) ? "" : rpc);
        cJSON_AddStringToObject(e, "role", pel_member_role_name(m[i].role));
        cJSON_AddBoolToObject(e, "leader", st.leader_id == m[i].id);
        cJSON_AddItemToArray(arr, e);
    }
    return arr;
}

int pel_rpc_cluster_members(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    (void)params;
    pel_node *n = ctx;
    if (!pel_node_cfg(n)->ordering_raft)
        return pel_rpc_app_error(err, PEL_EINVAL, "this node is not a cluster member (ordering is local)");
    pel_order_status st;
    pel_order_get_status(pel_node_order(n), &st);
    cJSON *o = cJSON_CreateObject(), *arr = members_json(n);
    if (!o || !arr) { cJSON_Delete(o); cJSON_Delete(arr); return PEL_ENOMEM; }
    cJSON_AddItemToObject(o, "members", arr);
    cJSON_AddNumberToObject(o, "id", (double)st.id);
    cJSON_AddNumberToObject(o, "leader_id", (double)st.leader_id);
    cJSON_AddNumberToObject(o, "voters", st.voters);
    *result = o;
    return 0;
}

/* params.id: an integer 1 .. 2^53 (required unless opt). */
static int id_param(const cJSON *params, int opt, uint64_t *id, pel_rpc_error *err)
{
    const cJSON *it = pel_rpc_param(params, "id");
    *id = 0;
    if (!it && opt) return 0;
    if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 9007199254740992.0 ||
        it->valuedouble != (double)(uint64_t)it->valuedouble)
        return pel_rpc_bad_params(err, "id: a member id (an integer >= 1)");
    *id = (uint64_t)it->valuedouble;
    return 0;
}

/* params[name]: "host:port"; the Raft transport needs an IPv4 address. */
static int addr_param(const cJSON *params, const char *name, char *out, size_t cap,
                      pel_rpc_error *err)
{
    const cJSON *it = pel_rpc_param(params, name);
    char host[64], msg[120];
    uint16_t port;
    struct in_addr a;
    int raft = !strcmp(name, "raft");
    if (!cJSON_IsString(it) || strlen(it->valuestring) >= cap ||
        pel_parse_listen(it->valuestring, host, sizeof host, &port) || strchr(host, ',') ||
        port == 0 || (raft && inet_pton(AF_INET, host, &a) != 1)) {
        snprintf(msg, sizeof msg, "%s: \"host:port\" of the new member%s", name,
                 raft ? " (an IPv4 address)" : "");
        return pel_rpc_bad_params(err, msg);
    }
    snprintf(out, cap, "%s", it->valuestring);
    return 0;
}

/* params.token must be the cluster's admin token (every member holds the
 * same; the leader checks again what a follower forwards). */
static int check_token(const pel_node_config *cfg, const cJSON *params, pel_rpc_error *err)
{
    const cJSON *t = pel_rpc_param(params, "token");
    size_t len = strlen(cfg->admin_token);
    if (len == 0)
        return pel_rpc_app_error(err, PEL_EDENIED, "this cluster has no admin token (cluster.admin_token "
                                 "in config.json): membership changes are off");
    if (!cJSON_IsString(t) || strlen(t->valuestring) != len ||
        sodium_memcmp(t->valuestring, cfg->admin_token, len) != 0)
        return pel_rpc_app_error(err, PEL_EDENIED, "token: not the cluster's admin token "
                                 "(cluster.admin_token in a member's config.json)");
    return 0;
}

static int change(pel_node *n, const char *method, pel_change_op op, const cJSON *params,
                  cJSON **result, pel_rpc_error *err)
{
    char raft[128] = "", rpc[128] = "", why[400];
    uint64_t id = 0, got = 0;
    int rc;
    if (!pel_node_cfg(n)->ordering_raft)
        return pel_rpc_app_error(err, PEL_EINVAL, "this node is not a cluster member (ordering is local)");
    if ((rc = check_token(pel_node_cfg(n), params, err)) != 0) return rc;
    if ((rc = id_param(params, op == PEL_CHANGE_ADD, &id, err)) != 0) return rc;
    if (op == PEL_CHANGE_ADD && ((rc = addr_param(params, "raft", raft, sizeof raft, err)) != 0 ||
                                 (rc = addr_param(params, "rpc", rpc, sizeof rpc, err)) != 0))
        return rc;
    if (pel_rpc_forward(n, method, params, result, err, &rc)) return rc;
    rc = pel_order_change(pel_node_order(n), op, id, raft, rpc, CHANGE_WAIT_MS, &got, why, sizeof why);
    if (rc) return pel_rpc_app_error(err, rc, why[0] ? why : NULL);
    cJSON *o = cJSON_CreateObject(), *arr = members_json(n);
    if (!o || !arr) { cJSON_Delete(o); cJSON_Delete(arr); return PEL_ENOMEM; }
    cJSON_AddNumberToObject(o, "id", (double)got);
    cJSON_AddItemToObject(o, "members", arr);
    *result = o;
    return 0;
}

int pel_rpc_cluster_add(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    return change(ctx, "cluster_add", PEL_CHANGE_ADD, params, result, err);
}

int pel_rpc_cluster_promote(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    return change(ctx, "cluster_promote", PEL_CHANGE_PROMOTE, params, result, err);
}

int pel_rpc_cluster_remove(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    return change(ctx, "cluster_remove", PEL_CHANGE_REMOVE, params, result, err);
}
