/*
 * order.c - the backend-independent half of order.h: dispatch through the
 * backend's ops table.
 */
#include "node/order.h"

#include <stdio.h>
#include <string.h>

int pel_order_start(pel_order *o, char *err, size_t errlen)
{
    if (errlen) err[0] = 0;
    return o->ops->start(o, err, errlen);
}

void pel_order_stop(pel_order *o)
{
    if (o) o->ops->stop(o);
}

void pel_order_free(pel_order *o)
{
    if (!o) return;
    o->ops->stop(o);
    o->ops->free(o);
}

int pel_order_direct(const pel_order *o) { return o->ops->direct; }

int pel_order_is_leader(pel_order *o) { return o->ops->is_leader(o); }

int pel_order_propose(pel_order *o, uint64_t height, const uint8_t *entry, size_t len)
{
    return o->ops->propose(o, height, entry, len);
}

void pel_order_get_status(pel_order *o, pel_order_status *st)
{
    memset(st, 0, sizeof *st);
    st->backend = o->ops->name;
    o->ops->status(o, st);
}

void pel_order_hand_off(pel_order *o) { o->ops->hand_off(o); }

unsigned pel_order_members(pel_order *o, pel_cluster_peer *out, unsigned max)
{
    return o->ops->members(o, out, max);
}

int pel_order_change(pel_order *o, pel_change_op op, uint64_t id, const char *raft,
                     const char *rpc, unsigned wait_ms, uint64_t *id_out, char *err,
                     size_t errlen)
{
    if (errlen) err[0] = 0;
    *id_out = 0;
    return o->ops->change(o, op, id, raft ? raft : "", rpc ? rpc : "", wait_ms, id_out, err,
                          errlen);
}

const char *pel_member_role_name(int role)
{
    switch (role) {
    case PEL_MEMBER_VOTER: return "voter";
    case PEL_MEMBER_STANDBY: return "standby";
    case PEL_MEMBER_SPARE: return "spare";
    default: return "?";
    }
}

/* ---- member addresses ---- */

#define RPC_TAG ",rpc="

int pel_cluster_addr_format(const char *raft, const char *rpc, char *out, size_t cap)
{
    if (!raft[0] || !rpc[0] || strchr(raft, ',') || strchr(rpc, ',')) return PEL_EINVAL;
    int w = snprintf(out, cap, "%s" RPC_TAG "%s", raft, rpc);
    return w < 0 || (size_t)w >= cap ? PEL_ETOOLONG : 0;
}

int pel_cluster_addr_parse(const char *addr, char *raft, size_t raft_cap, char *rpc,
                           size_t rpc_cap)
{
    const char *tag = strstr(addr, RPC_TAG);
    size_t rl = tag ? (size_t)(tag - addr) : strlen(addr);
    const char *rp = tag ? tag + strlen(RPC_TAG) : "";
    if (rl >= raft_cap || strlen(rp) >= rpc_cap) return PEL_ETOOLONG;
    memcpy(raft, addr, rl);
    raft[rl] = 0;
    memcpy(rpc, rp, strlen(rp) + 1);
    return 0;
}
