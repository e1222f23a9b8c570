/*
 * http.h - JSON-RPC 2.0 server over HTTP (libmicrohttpd).
 *
 * Generic: it knows nothing of ledgers. The node hands pel_http_start() a
 * table of methods and an opaque context; the server parses each request,
 * validates it against JSON-RPC 2.0, calls the method and writes the reply.
 *
 * Endpoints:
 *   POST /rpc, POST /   a request object or a batch array
 *   GET  /health        200 "ok" (text/plain)
 *   GET  <prefix>...    routes given in pel_http_opts.routes (explorer, metrics)
 *                       and event streams in pel_http_opts.streams (/events)
 *   OPTIONS <path>      204 with Allow (and CORS headers when configured)
 * Other paths give 404, other methods on a known path 405 (with Allow).
 *
 * JSON-RPC errors use HTTP 200 with the error in the body; the one exception
 * is a body over max_body: HTTP 413 with a -32600 error body. A request made
 * only of notifications gets 204 and no body. Before cJSON sees a body it is
 * checked here for strict UTF-8, raw control characters, strict number
 * syntax and nesting deeper than max_depth (all -32700): cJSON accepts
 * invalid UTF-8, raw control characters and numbers like 01 or 1., and
 * would recurse up to 1000 levels. Two valid inputs are refused as parse
 * errors because cJSON would silently change them: numbers longer than 63
 * characters (its number buffer) and the escape \u0000 (it ends the C
 * string). cJSON cannot tell a failed allocation from bad input, so a
 * server out of memory may answer -32700. Ids must be a string, null, or an
 * integer of magnitude at most 2^53 (a double holds those exactly, so the
 * reply carries the same id); anything else is -32600 with id null.
 *
 * Threads: methods and GET routes are called concurrently from the server's
 * thread pool (opts.threads threads) and must be thread-safe with respect
 * to their ctx. A connection stays on the pool thread that accepted it
 * (whichever woke first, so the spread is uneven), and a slow method holds
 * up every other connection of that thread: methods should not block
 * long. After pel_http_stop() returns no callback is running; a caller
 * whose method was still running sees its connection closed, no reply.
 *
 * SIGPIPE: libmicrohttpd suppresses it on Linux (MSG_NOSIGNAL); where
 * MHD_FEATURE_AUTOSUPPRESS_SIGPIPE is missing pel_http_start() logs a
 * warning and the process must ignore SIGPIPE itself.
 *
 * Example:
 *     static int echo(void *ctx, const cJSON *params, cJSON **result,
 *                     pel_rpc_error *err)
 *     { *result = params ? cJSON_Duplicate(params, 1) : NULL; return 0; }
 *
 *     static const pel_rpc_method methods[] = {{"echo", echo}};
 *     pel_http_opts o = pel_http_defaults();
 *     o.port = 8645;
 *     pel_http *h;
 *     if (pel_http_start(&o, methods, 1, node, &h) != 0) goto fail;
 *     ...
 *     pel_http_stop(h);
 */
#ifndef PEL_HTTP_H
#define PEL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/err.h"

/* JSON-RPC 2.0 error codes. -32000..-32099 are for server-defined errors;
 * the node documents its own in notes/FORMATS.md. */
enum pel_rpc_code {
    PEL_RPC_PARSE_ERROR = -32700,      /* not JSON (or not UTF-8, too deep) */
    PEL_RPC_INVALID_REQUEST = -32600,  /* JSON, but not a valid request */
    PEL_RPC_METHOD_NOT_FOUND = -32601,
    PEL_RPC_INVALID_PARAMS = -32602,   /* method handlers return this */
    PEL_RPC_INTERNAL_ERROR = -32603,
};

/* An error from a method (server side) or from a reply (client side).
 * message must be UTF-8; an incomplete trailing sequence (from truncation)
 * is cut off before sending. */
typedef struct pel_rpc_error {
    int code;           /* a pel_rpc_code or a server-defined code */
    char message[256];
    cJSON *data;        /* optional extra detail, NULL if none; see owners */
} pel_rpc_error;

/* pel_rpc_fn - one JSON-RPC method.
 * @param[in]  ctx     the ctx given to pel_http_start()
 * @param[in]  params  the request's "params" (array or object), NULL if
 *                     absent; valid only during the call
 * @param[out] result  on success, the result (NULL means JSON null); the
 *                     server owns it after return
 * @param[out] err     on failure, the error; arrives zeroed. err->data is
 *                     owned by the server after return.
 * @return 0 on success; non-zero on failure. If err->code is left 0 the
 *         reply is -32603 with err->message, or pel_strerror(return value)
 *         when the message is empty too.
 * Called concurrently from several server threads. */
typedef int (*pel_rpc_fn)(void *ctx, const cJSON *params, cJSON **result,
                          pel_rpc_error *err);

typedef struct pel_rpc_method {
    const char *name;   /* must stay valid until pel_http_stop() */
    pel_rpc_fn fn;
} pel_rpc_method;

/* pel_http_get_fn - a plain GET (and HEAD) route.
 * @param[in]  ctx           the route's ctx
 * @param[in]  path          the request path, percent-decoded by the server
 *                           except "%00", which stays as it is (so the
 *                           path holds no NUL; a handler serving files
 *                           must reject ".." and '%');
 *                           valid only during the call
 * @param[out] body          an empty buffer to fill; the server frees it
 * @param[out] content_type  a static string; left NULL means
 *                           "text/plain; charset=utf-8"
 * @return the HTTP status (a value outside 100..599 is sent as 500).
 * Called concurrently from several server threads. */
typedef int (*pel_http_get_fn)(void *ctx, const char *path, pel_buf *body,
                               const char **content_type);

/* A GET route: matches `prefix` itself and paths below it ("/metrics"
 * matches "/metrics" and "/metrics/x", not "/metricsx"; "/" matches every
 * path). The longest matching prefix wins; "/health" is built in. */
typedef struct pel_http_route {
    const char *prefix;   /* starts with '/'; valid until pel_http_stop() */
    pel_http_get_fn fn;
    void *ctx;
} pel_http_route;

/* ---- event streams (server-sent events) ----
 * A stream route answers GET <prefix>... with `text/event-stream` and keeps
 * the connection open. The server asks the stream for what is due (next)
 * and sends it; when nothing is due it parks the connection, holding no
 * thread, until the application calls pel_http_wake() (for example when
 * a block commits), and then asks again. Parked streams are also woken
 * when the server stops. A parked connection is not read, so a client
 * that went away is noticed only when something is written: a stream
 * silent for keepalive_ms gets an SSE comment when woken, so the
 * application should wake at least that often (the node's watcher wakes
 * every second). */
typedef struct pel_http_request pel_http_request;

/* pel_http_request_arg - a query argument of the request ("from" in
 * "/events?from=12"), or NULL. Valid during open only. */
const char *pel_http_request_arg(const pel_http_request *rq, const char *name);
/* pel_http_request_header - a request header ("Last-Event-ID"), or NULL. */
const char *pel_http_request_header(const pel_http_request *rq, const char *name);

typedef struct pel_http_stream_ops {
    /* open - start a stream for `path`: 0 and *state, or an HTTP status
     * (400, 404, ...) with a plain-text message appended to msg. */
    int (*open)(void *ctx, const char *path, const pel_http_request *rq, void **state,
                pel_buf *msg);
    /* next - append the whole events due now to out. @return 0 (the stream
     * goes on; if out stayed empty it waits for pel_http_wake), 1 (it ends
     * after out), or a negative code (the connection is cut). Called from
     * one server thread at a time per stream. */
    int (*next)(void *ctx, void *state, pel_buf *out);
    /* close - the connection ended (client gone, stream ended, server
     * stopping): free state. Called once per successful open. */
    void (*close)(void *ctx, void *state);
} pel_http_stream_ops;

typedef struct pel_http_stream_route {
    const char *prefix;   /* as pel_http_route's; a longer GET route wins */
    const pel_http_stream_ops *ops;
    void *ctx;
} pel_http_stream_route;

typedef struct pel_http_opts {
    const char *bind_addr;    /* numeric IPv4/IPv6 or host name; "127.0.0.1" */
    uint16_t port;            /* 0 = any free port (see pel_http_port) */
    size_t max_body;          /* bytes per request body; 32 MiB */
    unsigned max_batch;       /* entries per batch; 10000 */
    unsigned max_connections; /* total; 256 (at least `threads`) */
    unsigned max_per_ip;      /* 64; 0 = no limit */
    unsigned timeout_s;       /* idle connection timeout; 30 (0 = none) */
    unsigned threads;         /* server threads; 4 */
    const char *cors_origin;  /* Access-Control-Allow-Origin; NULL = none */
    unsigned max_depth;       /* JSON nesting limit, 1..1000; 64 */
    const pel_http_route *routes;   /* extra GET routes, copied; NULL */
    size_t n_routes;
    const pel_http_stream_route *streams;   /* event-stream routes, copied; NULL */
    size_t n_streams;
    unsigned max_streams;     /* open event streams at most (more get 503); 64,
                                 below max_connections */
    unsigned keepalive_ms;    /* a stream silent this long gets the comment
                                 ": keepalive" when next woken; 15000 */
} pel_http_opts;

typedef struct pel_http pel_http;

/* pel_http_defaults - the options documented above. */
pel_http_opts pel_http_defaults(void);

/* pel_http_start - bind, listen and start serving.
 * @param[in]  o          options (copied; strings must outlive the server)
 * @param[in]  methods    method table, copied; names must be unique
 * @param[in]  n_methods  entries in methods
 * @param[in]  ctx        passed to every method
 * @param[out] out        the running server; NULL on failure
 * @return 0; PEL_EINVAL (bad option: zero threads/max_body/max_batch,
 *         max_depth outside 1..1000, max_connections < threads, a route
 *         prefix not starting with '/', a method without name or fn, a
 *         stream route without ops, max_streams >= max_connections);
 *         PEL_ENOMEM; PEL_EIO (cannot resolve bind_addr or listen, e.g.
 *         port in use; the reason is logged). */
PEL_MUST_USE int pel_http_start(const pel_http_opts *o,
                                const pel_rpc_method *methods,
                                size_t n_methods, void *ctx, pel_http **out)
    PEL_NONNULL(1, 5);

/* pel_http_port - the port the server listens on (the real one when
 * opts.port was 0). Thread-safe. */
uint16_t pel_http_port(const pel_http *h) PEL_NONNULL(1);

/* pel_rpc_dispatch - answer one request body as POST /rpc would, without
 * a server (tests, fuzzing): the same prescan, limits (o->max_depth,
 * o->max_batch), dispatch and errors. text[len] must be '\0'.
 * @param[out] reply  the reply's JSON text (cJSON_free it), NULL when the
 *                    body held only notifications
 * @return 0; PEL_EINVAL (text not terminated); PEL_ENOMEM. */
PEL_MUST_USE int pel_rpc_dispatch(const pel_http_opts *o, const pel_rpc_method *methods,
                                  size_t n_methods, void *ctx, const char *text, size_t len,
                                  char **reply) PEL_NONNULL(1, 5, 7);

/* pel_http_wake - something may be due on the event streams: every parked
 * stream is asked again (next). Thread-safe; cheap when none is parked. */
void pel_http_wake(pel_http *h) PEL_NONNULL(1);

/* pel_http_stop - stop accepting, close every connection, wait for running
 * callbacks to return, and free the server. NULL is fine. Must not be
 * called from a callback of the same server. */
void pel_http_stop(pel_http *h);

#endif
