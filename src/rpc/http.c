/*
 * http.c - JSON-RPC 2.0 server over libmicrohttpd (see http.h).
 *
 * MHD calls on_request() several times per request: once with the headers
 * (the route is chosen, Content-Length checked, non-RPC routes answered),
 * then once per piece of the body (accumulated in the connection's `req`,
 * never more than max_body), and a last time with no data, when the body is
 * prescanned, parsed, dispatched and answered. on_completed() frees `req`.
 *
 * The pel_http structure is written only by pel_http_start() before the
 * daemon runs and is read-only afterwards, so MHD's threads share it
 * without locks (except the event streams' fields, under smu); each `req`
 * belongs to one connection, which MHD serves from one thread at a time.
 *
 * Event streams use MHD's suspend/resume: a stream with nothing to send
 * suspends its connection from the content reader and is put on the
 * parked list; pel_http_wake() resumes every parked connection. A wake
 * counter read before asking the stream closes the gap between "nothing
 * is due" and parking: a wake in between is seen and the stream is asked
 * again instead of parking.
 */
#include "rpc/http.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <pthread.h>

#include "core/clock.h"
#include "core/log.h"

typedef struct stream stream;

struct pel_http {
    struct MHD_Daemon *d;
    pel_http_opts o;          /* o.routes points at `routes` below */
    pel_rpc_method *methods;
    size_t n_methods;
    pel_http_route *routes;
    pel_http_stream_route *streams;
    void *ctx;
    uint16_t port;
    /* event streams: the only state written while the daemon runs */
    pthread_mutex_t smu;      /* guards the fields below */
    bool smu_ok;              /* smu initialised */
    stream *parked;           /* suspended streams, waiting for a wake */
    unsigned n_open;          /* open streams */
    uint64_t wakes;           /* pel_http_wake calls so far */
    bool stopping;
};

/* Per-request state, created on the first call for POST /rpc only. */
typedef struct req {
    bool too_large;     /* body passed max_body: now discarding */
    size_t discarded;   /* bytes dropped since; bounded by max_body */
    pel_buf body;
} req;

#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"
#define MAX_SAFE_ID 9007199254740992.0   /* 2^53 */

static const char body_too_large[] =
    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,"
    "\"message\":\"request body too large\"},\"id\":null}";
static const char body_internal[] =
    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,"
    "\"message\":\"internal error: out of memory\"},\"id\":null}";

/* ---------------------------------------------------------------------
 * Lexical prescan: what cJSON does not check.
 * ------------------------------------------------------------------- */

/* Length (1..4) of the valid UTF-8 sequence at p, or 0. RFC 3629: no
 * overlong forms, no surrogates (U+D800..DFFF), nothing above U+10FFFF. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Cuts s at its first byte that does not start a valid UTF-8 sequence, so
 * a message truncated mid-character still prints as valid JSON. */
static void utf8_trim(char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), i = 0, k;
    while (i < n && (k = utf8_len(p + i, n - i)) != 0)
        i += k;
    s[i] = '\0';
}

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

static size_t skip_digits(const uint8_t *p, size_t n, size_t i)
{
    while (i < n && is_digit(p[i]))
        i++;
    return i;
}

/* The end of the number starting at p[i], or 0 if it is not RFC 8259
 * syntax (cJSON takes 01, 1. and -01) or is longer than cJSON's 63-byte
 * number buffer (it would silently split it). */
static size_t scan_number(const uint8_t *p, size_t n, size_t i)
{
    size_t start = i, s;
    if (p[i] == '-')
        i++;
    if (i < n && p[i] == '0')
        i++;
    else if (i < n && p[i] >= '1' && p[i] <= '9')
        i = skip_digits(p, n, i);
    else
        return 0;
    if (i < n && p[i] == '.') {
        s = ++i;
        if ((i = skip_digits(p, n, i)) == s)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        if (++i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        s = i;
        if ((i = skip_digits(p, n, i)) == s)
            return 0;
    }
    if (i < n && p[i] && strchr("0123456789.eE+-", p[i]))
        return 0;
    return i - start > 63 ? 0 : i;
}

/* The end of the string whose opening quote is at p[i-1], or 0 with *why
 * set. Escapes are only checked enough to find the closing quote; cJSON
 * validates the rest, except \u0000, which it would turn into a C string
 * terminator, silently truncating the string: rejected here. */
static size_t scan_string(const uint8_t *p, size_t n, size_t i,
                          const char **why)
{
    while (i < n) {
        uint8_t c = p[i];
        size_t k = 1;
        if (c == '"')
            return i + 1;
        if (c == '\\') {
            if (i + 1 >= n || !p[i + 1] || !strchr("\"\\/bfnrtu", p[i + 1]))
                return *why = "invalid escape", 0;
            if (p[i + 1] == 'u' && n - i >= 6 && !memcmp(p + i + 2, "0000", 4))
                return *why = "\\u0000 is not supported", 0;
            k = 2;
        } else if (c < 0x20) {
            return *why = "control character in string", 0;
        } else if ((k = utf8_len(p + i, n - i)) == 0) {
            return *why = "invalid UTF-8", 0;
        }
        i += k;
    }
    return *why = "unterminated string", 0;
}

/* 0 if p[0..n) may go to cJSON; else -1 with *why set. Checks strict
 * UTF-8, control characters (only \t \n \r between tokens, none in
 * strings), number syntax, and nesting (brackets outside strings) up to
 * max_depth. Linear and stops at the first fault, so 100000 '[' cost
 * max_depth steps. */
static int prescan(const uint8_t *p, size_t n, unsigned max_depth,
                   const char **why)
{
    unsigned depth = 0;
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c == '"') {
            if ((i = scan_string(p, n, i + 1, why)) == 0)
                return -1;
            continue;
        }
        if (c == '-' || is_digit(c)) {
            if ((i = scan_number(p, n, i)) == 0)
                return *why = "invalid number", -1;
            continue;
        }
        if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return *why = "nesting too deep", -1;
        } else if (c == ']' || c == '}') {
            depth -= depth > 0;
        } else if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n'
                                 && c != '\r')) {
            return *why = "unexpected byte", -1;
        }
        i++;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * JSON-RPC: one request or a batch to a reply tree.
 * ------------------------------------------------------------------- */

static bool id_valid(const cJSON *id)
{
    if (cJSON_IsString(id) || cJSON_IsNull(id))
        return true;
    if (!cJSON_IsNumber(id))
        return false;
    double d = id->valuedouble;
    return isfinite(d) && d == trunc(d) && fabs(d) <= MAX_SAFE_ID;
}

/* The reply's copy of a valid id (NULL = absent = null). Integers are
 * printed as raw digits: cJSON would print 1e15 as "1e+15". */
static cJSON *copy_id(const cJSON *id)
{
    char num[32];
    if (cJSON_IsString(id))
        return cJSON_CreateString(id->valuestring);
    if (!cJSON_IsNumber(id))
        return cJSON_CreateNull();
    snprintf(num, sizeof num, "%.0f", id->valuedouble);
    return cJSON_CreateRaw(num);
}

/* {"jsonrpc":"2.0",<key>:value,"id":id}. Consumes value; NULL on OOM.
 * key must be a string literal (stored by reference). */
static cJSON *envelope(const cJSON *id, const char *key, cJSON *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *v = cJSON_CreateStringReference("2.0");
    cJSON *i = copy_id(id);
    if (!o || !v || !value || !i) {
        cJSON_Delete(o);
        cJSON_Delete(v);
        cJSON_Delete(value);
        cJSON_Delete(i);
        return NULL;
    }
    /* constant keys: these cannot fail once every item exists */
    (void)cJSON_AddItemToObjectCS(o, "jsonrpc", v);
    (void)cJSON_AddItemToObjectCS(o, key, value);
    (void)cJSON_AddItemToObjectCS(o, "id", i);
    return o;
}

/* An error reply. Consumes data (may be NULL); NULL on OOM. */
static cJSON *error_reply(const cJSON *id, int code, const char *msg,
                          cJSON *data)
{
    cJSON *e = cJSON_CreateObject();
    cJSON *c = cJSON_CreateNumber(code);
    cJSON *m = cJSON_CreateString(msg);
    if (!e || !c || !m) {
        cJSON_Delete(e);
        cJSON_Delete(c);
        cJSON_Delete(m);
        cJSON_Delete(data);
        return NULL;
    }
    (void)cJSON_AddItemToObjectCS(e, "code", c);
    (void)cJSON_AddItemToObjectCS(e, "message", m);
    if (data)
        (void)cJSON_AddItemToObjectCS(e, "data", data);
    return envelope(id, "error", e);
}

/* Why rq is not a valid request object, or NULL if it is. */
static const char *invalid_reason(const cJSON *rq, const cJSON *id)
{
    const cJSON *v, *m, *p;
    if (!cJSON_IsObject(rq))
        return "invalid request: not an object";
    if (id && !id_valid(id))
        return "invalid request: id must be a string, an integer "
               "(|id| <= 2^53) or null";
    v = cJSON_GetObjectItemCaseSensitive(rq, "jsonrpc");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0)
        return "invalid request: jsonrpc must be \"2.0\"";
    m = cJSON_GetObjectItemCaseSensitive(rq, "method");
    if (!cJSON_IsString(m))
        return "invalid request: method must be a string";
    p = cJSON_GetObjectItemCaseSensitive(rq, "params");
    if (p && !cJSON_IsArray(p) && !cJSON_IsObject(p))
        return "invalid request: params must be an array or an object";
    return NULL;
}

static const pel_rpc_method *find_method(const pel_http *h, const char *name)
{
    for (size_t i = 0; i < h->n_methods; i++)
        if (strcmp(h->methods[i].name, name) == 0)
            return &h->methods[i];
    return NULL;
}

/* Fills in what a failing method left out (see pel_rpc_fn). */
static void finish_error(pel_rpc_error *err, int rc)
{
    err->message[sizeof err->message - 1] = '\0';
    if (err->code == 0)
        err->code = PEL_RPC_INTERNAL_ERROR;
    if (err->message[0] == '\0')
        snprintf(err->message, sizeof err->message, "%s",
                 rc < 0 ? pel_strerror(rc) : "internal error");
    utf8_trim(err->message);
}

/* Runs a method. id NULL = notification: the outcome is dropped. */
static int call_method(const pel_http *h, const pel_rpc_method *m,
                       const cJSON *params, const cJSON *id, cJSON **reply)
{
    cJSON *result = NULL;
    pel_rpc_error err;
    memset(&err, 0, sizeof err);
    int rc = m->fn(h->ctx, params, &result, &err);
    if (rc == 0) {
        cJSON_Delete(err.data);
        if (!id) {
            cJSON_Delete(result);
            return 0;
        }
        *reply = envelope(id, "result", result ? result : cJSON_CreateNull());
    } else {
        cJSON_Delete(result);
        if (!id) {
            cJSON_Delete(err.data);
            return 0;
        }
        finish_error(&err, rc);
        *reply = error_reply(id, err.code, err.message, err.data);
    }
    return *reply ? 0 : PEL_ENOMEM;
}

/* One request to *reply (NULL: nothing to send). 0 or PEL_ENOMEM. */
static int dispatch_one(const pel_http *h, const cJSON *rq, cJSON **reply)
{
    const cJSON *id = cJSON_IsObject(rq)
        ? cJSON_GetObjectItemCaseSensitive(rq, "id") : NULL;
    const char *why = invalid_reason(rq, id);
    *reply = NULL;
    if (why) {
        /* answered even without an id: it is not a valid notification */
        *reply = error_reply(id && id_valid(id) ? id : NULL,
                             PEL_RPC_INVALID_REQUEST, why, NULL);
        return *reply ? 0 : PEL_ENOMEM;
    }
    const char *name = cJSON_GetObjectItemCaseSensitive(rq, "method")
        ->valuestring;
    const pel_rpc_method *m = find_method(h, name);
    if (m)
        return call_method(h, m,
                           cJSON_GetObjectItemCaseSensitive(rq, "params"),
                           id, reply);
    if (!id)
        return 0;
    char msg[128];
    snprintf(msg, sizeof msg, "method not found: %s", name);
    utf8_trim(msg);
    *reply = error_reply(id, PEL_RPC_METHOD_NOT_FOUND, msg, NULL);
    return *reply ? 0 : PEL_ENOMEM;
}

/* A batch to an array of replies (NULL if all were notifications). */
static int dispatch_batch(const pel_http *h, const cJSON *arr, cJSON **reply)
{
    int n = cJSON_GetArraySize(arr);
    char msg[96];
    if (n == 0 || (unsigned)n > h->o.max_batch) {
        snprintf(msg, sizeof msg, n ? "invalid request: batch of %d over "
                 "the limit of %u" : "invalid request: empty batch",
                 n, h->o.max_batch);
        *reply = error_reply(NULL, PEL_RPC_INVALID_REQUEST, msg, NULL);
        return *reply ? 0 : PEL_ENOMEM;
    }
    cJSON *out = cJSON_CreateArray();
    if (!out)
        return PEL_ENOMEM;
    for (const cJSON *e = arr->child; e; e = e->next) {
        cJSON *one;
        int rc = dispatch_one(h, e, &one);
        if (rc) {
            cJSON_Delete(out);
            return rc;
        }
        if (one)
            (void)cJSON_AddItemToArray(out, one);
    }
    if (!out->child) {
        cJSON_Delete(out);
        out = NULL;
    }
    *reply = out;
    return 0;
}

/* A body (text[len] == '\0') to *reply, NULL when nothing is to be sent.
 * 0 or PEL_ENOMEM. */
static int rpc_handle(const pel_http *h, const char *text, size_t len,
                      cJSON **reply)
{
    const char *why = NULL;
    char msg[96];
    if (prescan((const uint8_t *)text, len, h->o.max_depth, &why) == 0) {
        /* the length covers the terminator: cJSON 1.7.15 with
         * require_null_terminated fails when the text fills the length */
        cJSON *rq = cJSON_ParseWithLengthOpts(text, len + 1, NULL, 1);
        if (rq) {
            int rc = cJSON_IsArray(rq) ? dispatch_batch(h, rq, reply)
                                       : dispatch_one(h, rq, reply);
            cJSON_Delete(rq);
            return rc;
        }
        why = "not valid JSON";
    }
    snprintf(msg, sizeof msg, "parse error: %s", why);
    *reply = error_reply(NULL, PEL_RPC_PARSE_ERROR, msg, NULL);
    return *reply ? 0 : PEL_ENOMEM;
}

int pel_rpc_dispatch(const pel_http_opts *o, const pel_rpc_method *methods, size_t n_methods,
                     void *ctx, const char *text, size_t len, char **reply)
{
    pel_http h;
    cJSON *r = NULL;
    *reply = NULL;
    if (text[len] != '\0')
        return PEL_EINVAL;
    memset(&h, 0, sizeof h);
    h.o = *o;
    h.methods = (pel_rpc_method *)methods;    /* read only */
    h.n_methods = n_methods;
    h.ctx = ctx;
    int rc = rpc_handle(&h, text, len, &r);
    if (rc || !r)
        return rc;
    *reply = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    return *reply ? 0 : PEL_ENOMEM;
}

/* ---------------------------------------------------------------------
 * HTTP: routing and responses.
 * ------------------------------------------------------------------- */

enum { ALLOW_GET = 1, ALLOW_POST = 2 };

static const char *const allow_names[] = {
    "OPTIONS", "GET, HEAD, OPTIONS", "POST, OPTIONS",
    "GET, HEAD, POST, OPTIONS",
};

/* Adds the headers every response gets, and `allow` (an Allow value,
 * NULL for none; preflight answers also get the CORS request headers). */
static bool add_headers(const pel_http *h, struct MHD_Response *r,
                        const char *ctype, const char *allow)
{
    const char *cors = h->o.cors_origin;
    bool ok = true;
    if (ctype)
        ok &= MHD_add_response_header(r, "Content-Type", ctype) == MHD_YES;
    if (allow)
        ok &= MHD_add_response_header(r, "Allow", allow) == MHD_YES;
    if (cors)
        ok &= MHD_add_response_header(r, "Access-Control-Allow-Origin",
                                      cors) == MHD_YES;
    if (cors && allow) {
        ok &= MHD_add_response_header(r, "Access-Control-Allow-Methods",
                                      allow) == MHD_YES;
        ok &= MHD_add_response_header(r, "Access-Control-Allow-Headers",
                                      "Content-Type") == MHD_YES;
        ok &= MHD_add_response_header(r, "Access-Control-Max-Age",
                                      "600") == MHD_YES;
    }
    return ok;
}

/* Queues a response whose body `data` is owned by the response from here
 * on (freed with free_fn, also on failure). */
static enum MHD_Result reply_owned(const pel_http *h, struct MHD_Connection *c,
                                   unsigned status, void *data, size_t len,
                                   void (*free_fn)(void *), const char *ctype,
                                   const char *allow)
{
    struct MHD_Response *r;
    if (len == 0) {
        free_fn(data);
        r = MHD_create_response_from_buffer(0, (void *)"",
                                            MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_buffer_with_free_callback(len, data,
                                                               free_fn);
        if (!r)
            free_fn(data);
    }
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_NO;
    if (add_headers(h, r, ctype, allow))
        ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void no_free(void *p) { (void)p; }

static enum MHD_Result reply_static(const pel_http *h, struct MHD_Connection *c,
                                    unsigned status, const char *text,
                                    const char *ctype, const char *allow)
{
    return reply_owned(h, c, status, (void *)text, strlen(text), no_free,
                       ctype, allow);
}

/* Does `prefix` cover `path`: equal, or path continues below it. */
static bool prefix_covers(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (strncmp(prefix, path, n) != 0)
        return false;
    return path[n] == '\0' || path[n] == '/' || (n && prefix[n - 1] == '/');
}

static const pel_http_route *find_route(const pel_http *h, const char *path)
{
    const pel_http_route *best = NULL;
    for (size_t i = 0; i < h->o.n_routes; i++) {
        const pel_http_route *r = &h->routes[i];
        if (prefix_covers(r->prefix, path)
            && (!best || strlen(r->prefix) > strlen(best->prefix)))
            best = r;
    }
    return best;
}

static enum MHD_Result serve_route(const pel_http *h, struct MHD_Connection *c,
                                   const pel_http_route *rt, const char *path)
{
    pel_buf body;
    const char *ctype = NULL;
    pel_buf_init(&body);
    int status = rt->fn(rt->ctx, path, &body, &ctype);
    if (status < 100 || status > 599) {
        pel_log(PEL_LOG_WARN, "rpc: GET %s: handler returned status %d",
                path, status);
        pel_buf_free(&body);
        return reply_static(h, c, 500, "internal error\n", CT_TEXT, NULL);
    }
    return reply_owned(h, c, (unsigned)status, body.data, body.len, free,
                       ctype ? ctype : CT_TEXT, NULL);
}

/* ---------------------------------------------------------------------
 * Event streams.
 * ------------------------------------------------------------------- */

struct pel_http_request {
    struct MHD_Connection *c;
};

const char *pel_http_request_arg(const pel_http_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);
}

const char *pel_http_request_header(const pel_http_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, name);
}

struct stream {
    pel_http *h;
    struct MHD_Connection *c;
    const pel_http_stream_route *rt;
    void *state;
    pel_buf out;              /* what next() gave, sent from `off` */
    size_t off;
    bool done;                /* next() said the stream ends */
    uint64_t last_write_ms;   /* when bytes last went out (or the open) */
    stream *next_parked;
};

static const char keepalive[] = ": keepalive\n\n";

/* MHD's content reader: the next bytes, or park the connection. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *s = cls;
    pel_http *h = s->h;
    (void)pos;
    while (s->off == s->out.len) {
        pel_buf_reset(&s->out);
        s->off = 0;
        if (s->done)
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&h->smu);
        uint64_t wakes = h->wakes;
        bool stopping = h->stopping;
        pthread_mutex_unlock(&h->smu);
        if (stopping)
            return MHD_CONTENT_READER_END_OF_STREAM;
        int rc = s->rt->ops->next(s->rt->ctx, s->state, &s->out);
        if (rc < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        s->done = rc > 0;
        uint64_t now = pel_mono_ms();
        if (!s->out.len && !s->done && now - s->last_write_ms >= h->o.keepalive_ms
            && pel_buf_append(&s->out, keepalive, sizeof keepalive - 1) != 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (s->out.len)
            s->last_write_ms = now;
        if (s->out.len || s->done)
            continue;
        pthread_mutex_lock(&h->smu);
        if (h->wakes == wakes && !h->stopping) {
            s->next_parked = h->parked;
            h->parked = s;
            MHD_suspend_connection(s->c);   /* allowed from the reader */
            pthread_mutex_unlock(&h->smu);
            return 0;                       /* not polled while suspended */
        }
        pthread_mutex_unlock(&h->smu);
    }
    size_t n = s->out.len - s->off;
    if (n > max)
        n = max;
    memcpy(buf, s->out.data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

/* MHD frees the response: the connection is done with the stream. */
static void stream_free(void *cls)
{
    stream *s = cls;
    pel_http *h = s->h;
    s->rt->ops->close(s->rt->ctx, s->state);
    pthread_mutex_lock(&h->smu);
    for (stream **p = &h->parked; *p; p = &(*p)->next_parked)
        if (*p == s) { *p = s->next_parked; break; }
    h->n_open--;
    pthread_mutex_unlock(&h->smu);
    pel_buf_free(&s->out);
    free(s);
}

void pel_http_wake(pel_http *h)
{
    pthread_mutex_lock(&h->smu);
    h->wakes++;
    for (stream *s = h->parked; s; s = s->next_parked)
        MHD_resume_connection(s->c);
    h->parked = NULL;
    pthread_mutex_unlock(&h->smu);
}

static const pel_http_stream_route *find_stream(const pel_http *h, const char *path)
{
    const pel_http_stream_route *best = NULL;
    for (size_t i = 0; i < h->o.n_streams; i++) {
        const pel_http_stream_route *r = &h->streams[i];
        if (prefix_covers(r->prefix, path)
            && (!best || strlen(r->prefix) > strlen(best->prefix)))
            best = r;
    }
    return best;
}

static enum MHD_Result serve_stream(pel_http *h, struct MHD_Connection *c,
                                    const pel_http_stream_route *rt, const char *path)
{
    pel_http_request rq = { c };
    pel_buf msg;
    void *state = NULL;
    pthread_mutex_lock(&h->smu);
    bool full = h->stopping || h->n_open >= h->o.max_streams;
    if (!full)
        h->n_open++;
    pthread_mutex_unlock(&h->smu);
    if (full)
        return reply_static(h, c, 503, "too many event streams\n", CT_TEXT, NULL);
    pel_buf_init(&msg);
    int status = rt->ops->open(rt->ctx, path, &rq, &state, &msg);
    stream *s = status ? NULL : calloc(1, sizeof *s);
    if (!s) {
        pthread_mutex_lock(&h->smu);
        h->n_open--;
        pthread_mutex_unlock(&h->smu);
        if (!status) {
            rt->ops->close(rt->ctx, state);
            status = 500;
        }
        if (status < 400 || status > 599)
            status = 500;
        return reply_owned(h, c, (unsigned)status, msg.data, msg.len, free, CT_TEXT, NULL);
    }
    pel_buf_free(&msg);
    s->h = h;
    s->c = c;
    s->rt = rt;
    s->state = state;
    s->last_write_ms = pel_mono_ms();
    pel_buf_init(&s->out);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
                                                               stream_read, s, stream_free);
    if (!r) {
        stream_free(s);
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_NO;
    if (add_headers(h, r, "text/event-stream", NULL)
        && MHD_add_response_header(r, "Cache-Control", "no-cache") == MHD_YES
        && MHD_add_response_header(r, "X-Accel-Buffering", "no") == MHD_YES)
        ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);          /* stream_free runs when MHD is done */
    return ret;
}

static bool declared_too_large(const pel_http *h, struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 "Content-Length");
    if (!cl)
        return false;
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    return end != cl && n > h->o.max_body;
}

/* The first call of a request: headers only. Everything except POST to
 * the RPC endpoint is answered now. */
static enum MHD_Result on_headers(pel_http *h, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  void **con_cls)
{
    const pel_http_route *rt = find_route(h, url);
    const pel_http_stream_route *srt = find_stream(h, url);
    if (srt && rt && strlen(rt->prefix) > strlen(srt->prefix))
        srt = NULL;
    bool health = strcmp(url, "/health") == 0;
    unsigned allow = (rt || srt || health ? ALLOW_GET : 0)
        | (strcmp(url, "/rpc") == 0 || strcmp(url, "/") == 0 ? ALLOW_POST : 0);
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!allow)
        return reply_static(h, c, 404, "not found\n", CT_TEXT, NULL);
    if (!strcmp(method, "OPTIONS"))
        return reply_static(h, c, 204, "", NULL, allow_names[allow]);
    if (get && health)
        return reply_static(h, c, 200, "ok", CT_TEXT, NULL);
    if (!strcmp(method, "GET") && srt)
        return serve_stream(h, c, srt, url);
    if (get && srt)                   /* HEAD: the headers a GET would get */
        return reply_static(h, c, 200, "", "text/event-stream", NULL);
    if (get && rt)
        return serve_route(h, c, rt, url);
    if (strcmp(method, "POST") != 0 || !(allow & ALLOW_POST))
        return reply_static(h, c, 405, "method not allowed\n", CT_TEXT,
                            allow_names[allow]);
    if (declared_too_large(h, c))
        return reply_static(h, c, 413, body_too_large, CT_JSON, NULL);
    req *r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    pel_buf_init(&r->body);
    *con_cls = r;
    return MHD_YES;
}

/* A piece of the body. Past max_body the body is dropped and the rest
 * discarded, so that a chunked upload still gets its 413; a client that
 * sends another max_body after that is cut off. */
static enum MHD_Result on_data(const pel_http *h, req *r, const char *data,
                               size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (!r->too_large && n <= h->o.max_body - r->body.len)
        return pel_buf_append(&r->body, data, n) == 0 ? MHD_YES : MHD_NO;
    if (!r->too_large) {
        r->too_large = true;
        pel_buf_free(&r->body);
    }
    r->discarded += n > h->o.max_body ? h->o.max_body : n;
    return r->discarded < h->o.max_body ? MHD_YES : MHD_NO;
}

/* The last call: the whole body is in. */
static enum MHD_Result on_body(const pel_http *h, struct MHD_Connection *c,
                               req *r)
{
    if (r->too_large)
        return reply_static(h, c, 413, body_too_large, CT_JSON, NULL);
    size_t len = r->body.len;
    cJSON *reply = NULL;
    if (pel_buf_append(&r->body, "", 1) != 0
        || rpc_handle(h, (const char *)r->body.data, len, &reply) != 0)
        return reply_static(h, c, 500, body_internal, CT_JSON, NULL);
    pel_buf_free(&r->body);   /* the reply may be large too */
    if (!reply)
        return reply_static(h, c, 204, "", NULL, NULL);
    char *text = cJSON_PrintUnformatted(reply);
    cJSON_Delete(reply);
    if (!text)
        return reply_static(h, c, 500, body_internal, CT_JSON, NULL);
    return reply_owned(h, c, 200, text, strlen(text), cJSON_free, CT_JSON,
                       NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    pel_http *h = cls;
    req *r = *con_cls;
    (void)version;
    if (!r)
        return on_headers(h, c, url, method, con_cls);
    if (*size)
        return on_data(h, r, data, size);
    return on_body(h, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    req *r = *con_cls;
    (void)cls, (void)c, (void)why;
    if (r) {
        pel_buf_free(&r->body);
        free(r);
        *con_cls = NULL;
    }
}

/* MHD's own messages (client resets, timeouts) are routine: debug level. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    if (pel_log_get_level() < PEL_LOG_DEBUG)
        return;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    pel_log(PEL_LOG_DEBUG, "rpc: mhd: %s", line);
}

/* ---------------------------------------------------------------------
 * Start and stop.
 * ------------------------------------------------------------------- */

pel_http_opts pel_http_defaults(void)
{
    pel_http_opts o;
    memset(&o, 0, sizeof o);
    o.bind_addr = "127.0.0.1";
    o.max_body = (size_t)32 << 20;
    o.max_batch = 10000;
    o.max_connections = 256;
    o.max_per_ip = 64;
    o.timeout_s = 30;
    o.threads = 4;
    o.max_depth = 64;
    o.max_streams = 64;
    o.keepalive_ms = 15000;
    return o;
}

static int check_opts(const pel_http_opts *o, const pel_rpc_method *m,
                      size_t n_methods)
{
    if (!o->threads || !o->max_body || !o->max_batch || !o->max_depth
        || o->max_depth > CJSON_NESTING_LIMIT
        || o->max_connections < o->threads || (n_methods && !m)
        || (o->n_routes && !o->routes) || (o->n_streams && !o->streams)
        || (o->n_streams && o->max_streams >= o->max_connections))
        return PEL_EINVAL;
    for (size_t i = 0; i < o->n_streams; i++)
        if (!o->streams[i].prefix || o->streams[i].prefix[0] != '/' || !o->streams[i].ops
            || !o->streams[i].ops->open || !o->streams[i].ops->next || !o->streams[i].ops->close)
            return PEL_EINVAL;
    for (size_t i = 0; i < n_methods; i++)
        if (!m[i].name || !m[i].fn)
            return PEL_EINVAL;
    for (size_t i = 0; i < o->n_routes; i++)
        if (!o->routes[i].prefix || o->routes[i].prefix[0] != '/'
            || !o->routes[i].fn)
            return PEL_EINVAL;
    return 0;
}

static int resolve(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
    struct addrinfo hints, *ai = NULL;
    char serv[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(serv, sizeof serv, "%u", (unsigned)port);
    int e = getaddrinfo(host, serv, &hints, &ai);
    if (e != 0 || !ai) {
        pel_log(PEL_LOG_ERROR, "rpc: cannot resolve %s: %s", host,
                e ? gai_strerror(e) : "no address");
        return PEL_EIO;
    }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return 0;
}

/* Copies the method and route tables into h. */
static int copy_tables(pel_http *h, const pel_http_opts *o,
                       const pel_rpc_method *m, size_t n)
{
    if (n && !(h->methods = malloc(n * sizeof *m)))
        return PEL_ENOMEM;
    if (n)
        memcpy(h->methods, m, n * sizeof *m);
    h->n_methods = n;
    if (o->n_routes && !(h->routes = malloc(o->n_routes * sizeof *h->routes)))
        return PEL_ENOMEM;
    if (o->n_routes)
        memcpy(h->routes, o->routes, o->n_routes * sizeof *h->routes);
    h->o.routes = h->routes;
    if (o->n_streams && !(h->streams = malloc(o->n_streams * sizeof *h->streams)))
        return PEL_ENOMEM;
    if (o->n_streams)
        memcpy(h->streams, o->streams, o->n_streams * sizeof *h->streams);
    h->o.streams = h->streams;
    return 0;
}

static int hex_val(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes the URI path (and query arguments) in place, as MHD's
 * own unescaper does, except that "%00" stays as it is: a NUL would end
 * the C string early and a route would see a shorter path than was asked
 * for ("/index.html%00.png" as "/index.html"). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *w = s;
    (void)cls, (void)c;
    for (const char *r = s; *r; w++) {
        int hi = r[0] == '%' ? hex_val(r[1]) : -1;
        int lo = hi >= 0 ? hex_val(r[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *w = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static struct MHD_Daemon *start_daemon(pel_http *h, struct sockaddr_storage *ss)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG
        | MHD_ALLOW_SUSPEND_RESUME;       /* event streams park connections */
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES
        ? MHD_USE_EPOLL : MHD_USE_AUTO;
    if (ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(flags, h->o.port, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,   /* first, per MHD docs */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)h->o.threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)h->o.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)h->o.max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->o.timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
        MHD_OPTION_END);
}

int pel_http_start(const pel_http_opts *o, const pel_rpc_method *methods,
                   size_t n_methods, void *ctx, pel_http **out)
{
    struct sockaddr_storage ss;
    pel_http *h = NULL;
    *out = NULL;
    int rc = check_opts(o, methods, n_methods);
    if (rc)
        return rc;
    if (!(h = calloc(1, sizeof *h)))
        return PEL_ENOMEM;
    h->o = *o;
    h->ctx = ctx;
    if (pthread_mutex_init(&h->smu, NULL) != 0) {
        free(h);
        return PEL_ENOMEM;
    }
    h->smu_ok = true;
    if (!h->o.bind_addr)
        h->o.bind_addr = "127.0.0.1";
    if ((rc = copy_tables(h, o, methods, n_methods)) != 0
        || (rc = resolve(h->o.bind_addr, o->port, &ss)) != 0)
        goto fail;
    if (MHD_is_feature_supported(MHD_FEATURE_AUTOSUPPRESS_SIGPIPE) != MHD_YES)
        pel_log(PEL_LOG_WARN, "rpc: libmicrohttpd cannot suppress SIGPIPE; "
                "the process must ignore it");
    errno = 0;
    if (!(h->d = start_daemon(h, &ss))) {
        int e = errno;
        pel_log(PEL_LOG_ERROR, "rpc: cannot listen on %s port %u: %s",
                h->o.bind_addr, (unsigned)o->port,
                e ? strerror(e) : "libmicrohttpd refused the options");
        rc = PEL_EIO;
        goto fail;
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di && di->port ? di->port : o->port;
    *out = h;
    return 0;
fail:
    pel_http_stop(h);
    return rc;
}

uint16_t pel_http_port(const pel_http *h)
{
    return h->port;
}

void pel_http_stop(pel_http *h)
{
    if (!h)
        return;
    if (h->smu_ok) {           /* MHD must not stop with parked connections */
        pthread_mutex_lock(&h->smu);
        h->stopping = true;
        pthread_mutex_unlock(&h->smu);
        pel_http_wake(h);
    }
    if (h->d)
        MHD_stop_daemon(h->d);
    if (h->smu_ok)
        pthread_mutex_destroy(&h->smu);
    free(h->methods);
    free(h->routes);
    free(h->streams);
    free(h);
}
