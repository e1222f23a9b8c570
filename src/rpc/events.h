/*
 * events.h - the node's event streams (server-sent events, GET /events),
 * so that the explorer and clients need not poll:
 *
 *   GET /events            one event per committed block, from the next
 *                          block on:
 *                            id: <height>
 *                            event: block
 *                            data: {"height":N,"hash":"<hex>","prev_hash":…,
 *                                   "tx_count":N,"timestamp_ms":N,
 *                                   "state_root":"<hex>","history_size":N}
 *   GET /events?from=H     first the blocks after height H (at most the
 *                          last PEL_EVENTS_REPLAY_MAX), then as above; a
 *                          reconnecting EventSource's Last-Event-ID header
 *                          does the same
 *   GET /events?tx=<hex>   event "tx" with tx_status's result (docs/API.md)
 *                          now and whenever the transaction's status
 *                          changes; the stream ends once it is committed
 *                          or rejected
 * A comment line (": keepalive") goes out after the server's keepalive_ms
 * (15 s) without events (http.h), so proxies and clients keep the
 * connection and a client gone is noticed. Bad
 * arguments get 400, other paths below /events 404, and more open streams
 * than the server allows 503.
 *
 * A watcher thread looks at the chain's head every PEL_EVENTS_POLL_MS and
 * wakes the parked streams (pel_http_wake) when it moved, and at least
 * every second (transaction status, keepalives).
 *
 * Life cycle: pel_events_new, pel_http_start with the stream route
 * { "/events", &pel_events_stream_ops, events }, pel_events_run; at the
 * end pel_events_halt (the watcher stops), pel_http_stop, pel_events_free.
 */
#ifndef PEL_RPC_EVENTS_H
#define PEL_RPC_EVENTS_H

#include "node/node.h"
#include "rpc/http.h"

#define PEL_EVENTS_REPLAY_MAX 1000
#define PEL_EVENTS_POLL_MS 20

typedef struct pel_events pel_events;

extern const pel_http_stream_ops pel_events_stream_ops;   /* ctx: the pel_events */

/* pel_events_new - the streams' context over node n. @return 0, PEL_ENOMEM. */
int pel_events_new(pel_node *n, pel_events **out) PEL_MUST_USE;
/* pel_events_run - start the watcher that wakes h's streams. @return 0, PEL_ENOMEM. */
int pel_events_run(pel_events *e, pel_http *h) PEL_MUST_USE;
/* pel_events_halt - stop and join the watcher (idempotent). */
void pel_events_halt(pel_events *e);
/* pel_events_free - after pel_http_stop; halts the watcher if needed. NULL is fine. */
void pel_events_free(pel_events *e);

#endif
