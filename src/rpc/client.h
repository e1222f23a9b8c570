/*
 * client.h - a small JSON-RPC 2.0 client over HTTP (libcurl).
 *
 * The `pel` CLI and the load generator talk to a node through this one code
 * path. A client holds one curl handle, so consecutive calls reuse the
 * connection (HTTP keep-alive). Proxies from the environment (http_proxy)
 * are ignored: the client talks to the URL it is given. A URL without a
 * scheme gets "http://" in front.
 *
 * Errors: 0 on success; PEL_EREMOTE when the server answered with a
 * JSON-RPC error (err->code and err->message are the server's); PEL_EIO
 * when no JSON-RPC answer came (connection refused, timeout, HTTP error
 * without a JSON body, a reply that is not JSON-RPC), with a human message
 * in err->message such as
 *     "cannot connect to http://127.0.0.1:8645/rpc: Connection refused".
 *
 * Thread safety: a client belongs to one thread at a time; use one per
 * thread. Different clients may be used concurrently (libcurl's global
 * init runs once, under pthread_once, on the first pel_rpc_client_new()).
 * SIGPIPE: libcurl is told not to touch signals (CURLOPT_NOSIGNAL) and
 * sends with MSG_NOSIGNAL on Linux, so plain HTTP raises no SIGPIPE.
 *
 * Example:
 *     pel_rpc_client *c;
 *     pel_rpc_error err;
 *     cJSON *res;
 *     if (pel_rpc_client_new("http://127.0.0.1:8645/rpc", 5000, &c)) ...
 *     int rc = pel_rpc_call(c, "chain_height", NULL, &res, &err);
 *     if (rc) fprintf(stderr, "%s\n", err.message), cJSON_Delete(err.data);
 *     else use(res), cJSON_Delete(res);
 *     pel_rpc_client_free(c);
 */
#ifndef PEL_RPC_CLIENT_H
#define PEL_RPC_CLIENT_H

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/err.h"
#include "rpc/http.h"   /* pel_rpc_error, pel_rpc_code */

/* Replies larger than this are refused (PEL_EIO). */
#define PEL_RPC_MAX_REPLY ((size_t)256 << 20)

typedef struct pel_rpc_client pel_rpc_client;

/* pel_rpc_client_new - a client for one endpoint; connects lazily.
 * @param[in]  url         e.g. "http://127.0.0.1:8645/rpc" (copied)
 * @param[in]  timeout_ms  limit for each whole call; 0 = none
 * @param[out] out         the client; NULL on failure
 * @return 0, PEL_EINVAL (empty url), PEL_ENOMEM, PEL_EIO (libcurl could
 *         not initialise). */
PEL_MUST_USE int pel_rpc_client_new(const char *url, unsigned timeout_ms,
                                    pel_rpc_client **out) PEL_NONNULL(3);

/* pel_rpc_client_free - close the connection and free. NULL is fine. */
void pel_rpc_client_free(pel_rpc_client *c);

/* pel_rpc_client_url - the URL calls go to (with the scheme added);
 * valid until pel_rpc_client_free(). */
const char *pel_rpc_client_url(const pel_rpc_client *c) PEL_NONNULL(1);

/* pel_rpc_call - call one method and wait for its result.
 * Sends {"jsonrpc":"2.0","method":method,"params":params,"id":n} with n
 * counting up per client, and checks that the reply carries the same id.
 * @param[in]  method  method name
 * @param[in]  params  an array or object, or NULL for none; not consumed
 * @param[out] result  on success the result (a cJSON null for JSON null),
 *                     owned by the caller (cJSON_Delete); else NULL
 * @param[out] err     may be NULL. Always cleared first; filled on failure.
 *                     On PEL_EREMOTE err->data is the error's "data" (or
 *                     NULL), owned by the caller (cJSON_Delete); it is NULL
 *                     after every other outcome.
 * @return 0; PEL_EREMOTE (JSON-RPC error reply); PEL_EIO (transport or
 *         protocol failure, see above); PEL_EINVAL (params neither array
 *         nor object); PEL_ENOMEM. */
PEL_MUST_USE int pel_rpc_call(pel_rpc_client *c, const char *method,
                              const cJSON *params, cJSON **result,
                              pel_rpc_error *err) PEL_NONNULL(1, 2, 4);

/* pel_rpc_call_raw - POST a prepared body (a batch, or anything for tests)
 * and return the reply body as it came, without interpreting it.
 * @param[in]  json_body  NUL-terminated request text
 * @param[out] reply      reset, then filled with the reply body (empty for
 *                        HTTP 204); on 0, data[len] is '\0'. Owned by the
 *                        caller as any pel_buf.
 * @param[out] err        may be NULL; on PEL_EIO the message.
 * @return 0 when the server answered with HTTP 2xx, or with any status
 *         and a JSON body (a 413 carries a JSON-RPC error); PEL_EIO;
 *         PEL_ENOMEM. */
PEL_MUST_USE int pel_rpc_call_raw(pel_rpc_client *c, const char *json_body,
                                  pel_buf *reply, pel_rpc_error *err)
    PEL_NONNULL(1, 2, 3);

#endif
