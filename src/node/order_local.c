/*
 * order_local.c - the `local` ordering backend (order.h): one node, always
 * the proposer, whose blocks are final once it commits them. It holds no
 * state: the node's own producer/committer pipeline is the order.
 */
#include "node/order.h"

#include <stdio.h>
#include <stdlib.h>

static int local_start(pel_order *o, char *err, size_t errlen)
{
    (void)o; (void)err; (void)errlen;
    return 0;
}

static void local_stop(pel_order *o) { (void)o; }

static void local_free(pel_order *o) { free(o); }

static int local_is_leader(pel_order *o) { (void)o; return 1; }

static int local_propose(pel_order *o, uint64_t height, const uint8_t *entry, size_t len)
{
    (void)o; (void)height; (void)entry; (void)len;
    return PEL_EINVAL;      /* direct: the node commits its blocks itself */
}

static void local_status(pel_order *o, pel_order_status *st)
{
    (void)o;
    st->role = "single";
    st->leader = 1;
}

static void local_hand_off(pel_order *o) { (void)o; }

static unsigned local_members(pel_order *o, pel_cluster_peer *out, unsigned max)
{
    (void)o; (void)out; (void)max;
    return 0;
}

static int local_change(pel_order *o, pel_change_op op, uint64_t id, const char *raft,
                        const char *rpc, unsigned wait_ms, uint64_t *id_out, char *err,
                        size_t errlen)
{
    (void)o; (void)op; (void)id; (void)raft; (void)rpc; (void)wait_ms; (void)id_out;
    snprintf(err, errlen, "this node is not a cluster member (ordering is local)");
    return PEL_EINVAL;
}

static const pel_order_ops local_ops = {
    "local", 1, local_start, local_stop, local_free, local_is_leader, local_propose, local_status,
    local_hand_off, local_members, local_change,
};

int pel_order_local_new(pel_order **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return PEL_ENOMEM;
    (*out)->ops = &local_ops;
    return 0;
}
