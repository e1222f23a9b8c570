/*
 * order.c - the backend-independent half of order.h: dispatch through the
 * backend's ops table.
 */
#include "node/order.h"

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
