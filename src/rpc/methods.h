/*
 * methods.h - the node's JSON-RPC methods (docs/API.md): the table the
 * node's HTTP server serves, over a pel_node.
 *
 * Application errors: error.code = -32000 + (PEL error code), so every
 * PEL_E* code maps into JSON-RPC's server range (-32001 .. -32099);
 * error.data = {"pel_code": <code>, "name": pel_strerror(code)} plus "id"
 * when a rejected transaction decoded.
 *
 * Thread safety: the methods are called concurrently; they only use the
 * node's thread-safe functions.
 */
#ifndef PEL_RPC_METHODS_H
#define PEL_RPC_METHODS_H

#include <stddef.h>

#include "node/node.h"
#include "rpc/http.h"
#include "rpc/reply.h"


/* pel_rpc_node_methods - the method table (static); ctx is the pel_node. */
const pel_rpc_method *pel_rpc_node_methods(size_t *n);

/* pel_rpc_tx_status_json - tx_status's result for transaction id (also
 * what the event stream sends); *state (if non-NULL) gets its
 * pel_tx_state. @return 0 or the node's error. */
int pel_rpc_tx_status_json(pel_node *n, const uint8_t id[32], cJSON **out, int *state) PEL_MUST_USE;

/*
 * pel_rpc_forward - a follower of a raft cluster passes `method` with its
 * params, unchanged, to the leader's API and answers with the leader's
 * reply (so a client may use any member). A diverged node refuses
 * (PEL_EDIVERGED); with no leader known the call fails with
 * PEL_ENOTLEADER: retry.
 * @return 1: handled here (*result or err set, *rc the return code);
 *         0: this node leads (or has local ordering): serve locally.
 */
int pel_rpc_forward(pel_node *n, const char *method, const cJSON *params, cJSON **result,
                    pel_rpc_error *err, int *rc);

#endif
