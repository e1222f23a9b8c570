/* test_http.c - JSON-RPC server and client over real loopback HTTP: round
 * trips, batches, every JSON-RPC error class, hostile bodies (invalid
 * UTF-8, deep nesting, huge numbers, oversized), routing and status codes,
 * CORS, transport failures, and 8 clients calling concurrently.
 * Requests that the client cannot express go through a raw socket. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "rpc/client.h"
#include "rpc/http.h"
#include "test.h"

#define MAX_BODY (256 * 1024)
#define MAX_BATCH 100

static pel_http *srv;
static char url[64];
static atomic_int notified;        /* calls of "count" */
static atomic_int in_sleep, peak_sleep;

/* ---------------------------------------------------------------------
 * Methods of the test server
 * ------------------------------------------------------------------- */

static int m_echo(void *ctx, const cJSON *params, cJSON **result,
                  pel_rpc_error *err)
{
    (void)ctx, (void)err;
    *result = params ? cJSON_Duplicate(params, 1) : NULL;
    return 0;
}

/* add [a, b] with integers; anything else is -32602 with data. */
static int m_add(void *ctx, const cJSON *params, cJSON **result,
                 pel_rpc_error *err)
{
    const cJSON *a = cJSON_GetArrayItem(params, 0);
    const cJSON *b = cJSON_GetArrayItem(params, 1);
    (void)ctx;
    if (!cJSON_IsArray(params) || cJSON_GetArraySize(params) != 2
        || !cJSON_IsNumber(a) || !cJSON_IsNumber(b)) {
        err->code = PEL_RPC_INVALID_PARAMS;
        snprintf(err->message, sizeof err->message, "add takes [a, b]");
        err->data = cJSON_CreateString("two numbers");
        return -1;
    }
    *result = cJSON_CreateNumber(a->valuedouble + b->valuedouble);
    return 0;
}

/* sleep [ms]: records how many calls overlap. */
static int m_sleep(void *ctx, const cJSON *params, cJSON **result,
                   pel_rpc_error *err)
{
    const cJSON *ms = cJSON_GetArrayItem(params, 0);
    long n = cJSON_IsNumber(ms) ? (long)ms->valuedouble : 20;
    (void)ctx, (void)err;
    int now = atomic_fetch_add(&in_sleep, 1) + 1;
    int peak = atomic_load(&peak_sleep);
    while (now > peak && !atomic_compare_exchange_weak(&peak_sleep, &peak, now))
        ;
    struct timespec ts = {n / 1000, (n % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&in_sleep, 1);
    *result = cJSON_CreateTrue();
    return 0;
}

static int m_count(void *ctx, const cJSON *params, cJSON **result,
                   pel_rpc_error *err)
{
    (void)ctx, (void)params, (void)err;
    atomic_fetch_add(&notified, 1);
    *result = cJSON_CreateNumber(1);
    return 0;
}

/* Fails with a PEL code only: the server fills in -32603 and the name. */
static int m_fail(void *ctx, const cJSON *params, cJSON **result,
                  pel_rpc_error *err)
{
    (void)ctx, (void)params, (void)err;
    *result = cJSON_CreateTrue();   /* must be freed by the server */
    return PEL_EFUNDS;
}

/* A message that snprintf cut inside a 2-byte character. */
static int m_longmsg(void *ctx, const cJSON *params, cJSON **result,
                     pel_rpc_error *err)
{
    char s[300];
    (void)ctx, (void)params, (void)result;
    memset(s, 'a', 254);
    strcpy(s + 254, "\xc3\xa9 tail");
    err->code = -32001;
    memcpy(err->message, s, sizeof err->message - 1);   /* as snprintf cuts */
    err->message[sizeof err->message - 1] = '\0';
    return -1;
}

static const pel_rpc_method methods[] = {
    {"echo", m_echo}, {"add", m_add}, {"sleep", m_sleep},
    {"count", m_count}, {"fail", m_fail}, {"longmsg", m_longmsg},
};

static int r_static(void *ctx, const char *path, pel_buf *body,
                    const char **ctype)
{
    (void)ctx;
    *ctype = "text/javascript";
    return pel_buf_append(body, path, strlen(path)) == 0 ? 200 : 500;
}

static int r_broken(void *ctx, const char *path, pel_buf *body,
                    const char **ctype)
{
    (void)ctx, (void)path, (void)ctype;
    return pel_buf_append(body, "x", 1) == 0 ? 999 : 998;
}

static const pel_http_route routes[] = {
    {"/static", r_static, NULL}, {"/static/deep/", r_broken, NULL},
};

static int start_server(const char *cors, pel_http **out)
{
    pel_http_opts o = pel_http_defaults();
    o.max_body = MAX_BODY;
    o.max_batch = MAX_BATCH;
    o.cors_origin = cors;
    o.routes = routes;
    o.n_routes = sizeof routes / sizeof routes[0];
    return pel_http_start(&o, methods, sizeof methods / sizeof methods[0],
                          NULL, out);
}

/* ---------------------------------------------------------------------
 * Raw HTTP: one request per connection, read until the server closes.
 * ------------------------------------------------------------------- */

typedef struct resp {
    int status;
    char *text;        /* whole response, NUL-terminated */
    const char *body;  /* into text */
    size_t body_len;
} resp;

static void resp_free(resp *r)
{
    free(r->text);
    memset(r, 0, sizeof *r);
}

static int connect_to(uint16_t port)
{
    struct sockaddr_in a;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        p += k, n -= (size_t)k;
    }
    return 0;
}

/* Sends req[0..n) to port and reads the response into *r. */
static int exchange_port(uint16_t port, const char *req, size_t n, resp *r)
{
    size_t len = 0, cap = 1 << 16;
    memset(r, 0, sizeof *r);
    int fd = connect_to(port);
    if (fd < 0)
        return -1;
    r->text = malloc(cap);
    if (send_all(fd, req, n) != 0)
        fprintf(stderr, "note: send cut short (server closed early)\n");
    for (;;) {
        if (cap - len < 4096)
            r->text = realloc(r->text, cap *= 2);
        ssize_t k = recv(fd, r->text + len, cap - len - 1, 0);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    r->text[len] = '\0';
    char *sep = strstr(r->text, "\r\n\r\n");
    if (sscanf(r->text, "HTTP/1.1 %d", &r->status) != 1 || !sep)
        return -1;
    r->body = sep + 4;
    r->body_len = len - (size_t)(r->body - r->text);
    return 0;
}

static int exchange(const char *req, size_t n, resp *r)
{
    return exchange_port(pel_http_port(srv), req, n, r);
}

/* method path with a body (NULL = none), Connection: close. */
static int request(const char *method, const char *path, const char *body,
                   resp *r)
{
    size_t blen = body ? strlen(body) : 0;
    char *req = malloc(blen + 256);
    int n = sprintf(req, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                    "Content-Type: application/json\r\n"
                    "Content-Length: %zu\r\n\r\n", method, path, blen);
    if (body)
        memcpy(req + n, body, blen);
    int rc = exchange(req, (size_t)n + blen, r);
    free(req);
    return rc;
}

/* Does the response head carry this header line (exact, case-sensitive)? */
static bool has_header(const resp *r, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(r->text, "\r\n"); p && p < r->body;
         p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, line, n) == 0 && p[2 + n] == '\r')
            return true;
    return false;
}

/* POSTs body to /rpc and parses the reply (NULL if none or not JSON). */
static cJSON *rpc_raw(const char *body, int *status)
{
    resp r;
    cJSON *j = NULL;
    *status = 0;
    if (request("POST", "/rpc", body, &r) == 0) {
        *status = r.status;
        j = cJSON_ParseWithLength(r.body, r.body_len);
    }
    resp_free(&r);
    return j;
}

static int err_code(const cJSON *reply)
{
    const cJSON *e = cJSON_GetObjectItem(reply, "error");
    const cJSON *c = cJSON_GetObjectItem(e, "code");
    return cJSON_IsNumber(c) ? c->valueint : 0;
}

static bool id_is_null(const cJSON *reply)
{
    return cJSON_IsNull(cJSON_GetObjectItem(reply, "id"));
}

/* Sends body, expects a single error reply with `code`. */
static void expect_error(const char *body, int code, bool null_id)
{
    int status;
    cJSON *j = rpc_raw(body, &status);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_INT(err_code(j), code);
    CHECK(!null_id || id_is_null(j));
    CHECK(cJSON_IsString(cJSON_GetObjectItem(j, "jsonrpc")));
    if (err_code(j) != code)
        fprintf(stderr, "  body was: %.200s\n", body);
    cJSON_Delete(j);
}

/* The raw text of the reply to body (malloc'd), for exact-id checks. */
static char *rpc_text(const char *body)
{
    resp r;
    char *s = NULL;
    if (request("POST", "/rpc", body, &r) == 0)
        s = strndup(r.body, r.body_len);
    resp_free(&r);
    return s;
}

/* ---------------------------------------------------------------------
 * Client round trips
 * ------------------------------------------------------------------- */

static void client_round_trip(void)
{
    pel_rpc_client *c;
    pel_rpc_error err;
    cJSON *res = NULL;
    CHECK_EQ_INT(pel_rpc_client_new(url, 5000, &c), 0);
    cJSON *p = cJSON_Parse("{\"a\":[1,\"x\",null,true],\"s\":\"\xc3\xa9\"}");
    CHECK_EQ_INT(pel_rpc_call(c, "echo", p, &res, &err), 0);
    CHECK(cJSON_Compare(res, p, 1));
    CHECK(cJSON_IsObject(p) && cJSON_GetArraySize(p) == 2);  /* untouched */
    cJSON_Delete(res);
    cJSON_Delete(p);

    CHECK_EQ_INT(pel_rpc_call(c, "echo", NULL, &res, &err), 0);
    CHECK(cJSON_IsNull(res));   /* no params: JSON null result */
    cJSON_Delete(res);

    p = cJSON_Parse("[40, 2]");
    CHECK_EQ_INT(pel_rpc_call(c, "add", p, &res, &err), 0);
    CHECK(cJSON_IsNumber(res) && res->valuedouble == 42);
    cJSON_Delete(res);
    cJSON_Delete(p);
    pel_rpc_client_free(c);
}

static void client_remote_errors(void)
{
    pel_rpc_client *c;
    pel_rpc_error err;
    cJSON *res = (cJSON *)1;
    CHECK_EQ_INT(pel_rpc_client_new(url, 5000, &c), 0);
    cJSON *p = cJSON_Parse("[\"x\"]");
    CHECK_EQ_INT(pel_rpc_call(c, "add", p, &res, &err), PEL_EREMOTE);
    CHECK(res == NULL);
    CHECK_EQ_INT(err.code, PEL_RPC_INVALID_PARAMS);
    CHECK(strcmp(err.message, "add takes [a, b]") == 0);
    CHECK(cJSON_IsString(err.data)
          && strcmp(err.data->valuestring, "two numbers") == 0);
    cJSON_Delete(err.data);
    cJSON_Delete(p);

    CHECK_EQ_INT(pel_rpc_call(c, "nope", NULL, &res, &err), PEL_EREMOTE);
    CHECK_EQ_INT(err.code, PEL_RPC_METHOD_NOT_FOUND);
    CHECK(strcmp(err.message, "method not found: nope") == 0);
    CHECK(err.data == NULL);

    /* a PEL code alone becomes -32603 with its name; the result is freed */
    CHECK_EQ_INT(pel_rpc_call(c, "fail", NULL, &res, &err), PEL_EREMOTE);
    CHECK_EQ_INT(err.code, PEL_RPC_INTERNAL_ERROR);
    CHECK(strcmp(err.message, pel_strerror(PEL_EFUNDS)) == 0);

    /* a message cut inside "é" loses the half character */
    CHECK_EQ_INT(pel_rpc_call(c, "longmsg", NULL, &res, &err), PEL_EREMOTE);
    CHECK_EQ_INT(err.code, -32001);
    CHECK_EQ_INT(strlen(err.message), 254);

    /* params must be structured; err may be NULL */
    cJSON *num = cJSON_CreateNumber(1);
    CHECK_EQ_INT(pel_rpc_call(c, "echo", num, &res, NULL), PEL_EINVAL);
    cJSON_Delete(num);
    pel_rpc_client_free(c);
}

/* ---------------------------------------------------------------------
 * JSON-RPC semantics
 * ------------------------------------------------------------------- */

static const cJSON *by_id(const cJSON *arr, const char *id_json)
{
    cJSON *want = cJSON_Parse(id_json);
    const cJSON *hit = NULL, *e;
    cJSON_ArrayForEach(e, arr)
        if (cJSON_Compare(cJSON_GetObjectItem(e, "id"), want, 1))
            hit = e;
    cJSON_Delete(want);
    return hit;
}

static void batch_mixed(void)
{
    int status, before = atomic_load(&notified), nulls = 0;
    cJSON *j = rpc_raw(
        "[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[7],\"id\":1},"
        " {\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1],\"id\":\"b\"},"
        " {\"jsonrpc\":\"2.0\",\"method\":\"count\"},"
        " {\"foo\":1},"
        " 5,"
        " {\"jsonrpc\":\"2.0\",\"method\":\"missing\",\"id\":3},"
        " {\"jsonrpc\":\"2.0\",\"method\":\"missing\"},"
        " {\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":4}]",
        &status);
    const cJSON *e;
    CHECK_EQ_INT(status, 200);
    CHECK(cJSON_IsArray(j));
    CHECK_EQ_INT(cJSON_GetArraySize(j), 6);   /* 2 notifications dropped */
    e = cJSON_GetObjectItem(by_id(j, "1"), "result");
    CHECK(cJSON_IsArray(e) && cJSON_GetArrayItem(e, 0)->valueint == 7);
    CHECK_EQ_INT(err_code(by_id(j, "\"b\"")), PEL_RPC_INVALID_PARAMS);
    CHECK_EQ_INT(err_code(by_id(j, "3")), PEL_RPC_METHOD_NOT_FOUND);
    e = cJSON_GetObjectItem(by_id(j, "4"), "result");
    CHECK(cJSON_IsNumber(e) && e->valuedouble == 3);
    cJSON_ArrayForEach(e, j)
        if (id_is_null(e) && err_code(e) == PEL_RPC_INVALID_REQUEST)
            nulls++;
    CHECK_EQ_INT(nulls, 2);   /* {"foo":1} and 5 */
    CHECK_EQ_INT(atomic_load(&notified) - before, 1);
    cJSON_Delete(j);
}

static void notifications_only(void)
{
    resp r;
    int before = atomic_load(&notified);
    CHECK_EQ_INT(request("POST", "/rpc",
        "[{\"jsonrpc\":\"2.0\",\"method\":\"count\"},"
        " {\"jsonrpc\":\"2.0\",\"method\":\"count\",\"params\":{}}]", &r), 0);
    CHECK_EQ_INT(r.status, 204);
    CHECK_EQ_INT(r.body_len, 0);
    resp_free(&r);
    CHECK_EQ_INT(request("POST", "/", "{\"jsonrpc\":\"2.0\",\"method\":"
                         "\"count\"}", &r), 0);   /* also on POST / */
    CHECK_EQ_INT(r.status, 204);
    CHECK_EQ_INT(r.body_len, 0);
    resp_free(&r);
    CHECK_EQ_INT(atomic_load(&notified) - before, 3);
    /* "id": null is a request, not a notification */
    cJSON *j = rpc_raw("{\"jsonrpc\":\"2.0\",\"method\":\"count\",\"id\":null}",
                       &before);
    CHECK(id_is_null(j) && cJSON_GetObjectItem(j, "result"));
    cJSON_Delete(j);
}

static void parse_errors(void)
{
    expect_error("{\"jsonrpc\":\"2.0\",", PEL_RPC_PARSE_ERROR, true);
    expect_error("", PEL_RPC_PARSE_ERROR, true);
    expect_error("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1} x",
                 PEL_RPC_PARSE_ERROR, true);
    expect_error("[01]", PEL_RPC_PARSE_ERROR, true);          /* cJSON takes */
    expect_error("[1.]", PEL_RPC_PARSE_ERROR, true);          /* cJSON takes */
    expect_error("[\"a\x01\"]", PEL_RPC_PARSE_ERROR, true);   /* raw control */
    expect_error("[\"a\\u0000b\"]", PEL_RPC_PARSE_ERROR, true);
    expect_error("[\"\\x\"]", PEL_RPC_PARSE_ERROR, true);
    expect_error("[\"\\ud800\"]", PEL_RPC_PARSE_ERROR, true); /* lone surrogate */
    /* a NUL byte would end cJSON's text early: not via request(), which
     * uses strlen, so by hand */
    static const char body[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}\0z";
    char req[256];
    int n = snprintf(req, sizeof req, "POST /rpc HTTP/1.1\r\nHost: t\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n",
                     sizeof body - 1);
    memcpy(req + n, body, sizeof body - 1);
    resp r;
    CHECK_EQ_INT(exchange(req, (size_t)n + sizeof body - 1, &r), 0);
    cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
    CHECK_EQ_INT(err_code(j), PEL_RPC_PARSE_ERROR);
    cJSON_Delete(j);
    resp_free(&r);
}

static void invalid_utf8(void)
{
    static const char *const bad[] = {
        "\xff", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\x80", "\xc3",
    };
    char body[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\","
                 "\"params\":[\"x%sy\"],\"id\":1}", bad[i]);
        expect_error(body, PEL_RPC_PARSE_ERROR, true);
    }
    /* outside a string, too */
    expect_error("[1,\xc3\xa9]", PEL_RPC_PARSE_ERROR, true);
    /* every valid length round-trips unchanged */
    static const char good[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\","
             "\"params\":[\"%s\"],\"id\":1}", good);
    int status;
    cJSON *j = rpc_raw(body, &status);
    const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "result"), 0);
    CHECK(cJSON_IsString(s) && strcmp(s->valuestring, good) == 0);
    cJSON_Delete(j);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The request with params nested `levels` arrays deep (request depth
 * levels + 1). */
static char *nested_request(size_t levels)
{
    char *s = malloc(2 * levels + 128), *p = s;
    p += sprintf(p, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":");
    memset(p, '[', levels), p += levels;
    memset(p, ']', levels), p += levels;
    strcpy(p, ",\"id\":1}");
    return s;
}

static void deep_nesting(void)
{
    size_t n = 100000;
    char *s = malloc(n + 1);
    memset(s, '[', n);
    s[n] = '\0';
    double t0 = now_s();
    expect_error(s, PEL_RPC_PARSE_ERROR, true);
    CHECK(now_s() - t0 < 2.0);
    /* brackets inside a string are not nesting */
    char *req = malloc(n + 128);
    sprintf(req, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":"
            "[\"%s\"],\"id\":1}", s);
    int status;
    cJSON *j = rpc_raw(req, &status);
    const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "result"), 0);
    CHECK(cJSON_IsString(r) && strlen(r->valuestring) == n);
    cJSON_Delete(j);
    free(req);
    free(s);
    /* the limit is exact: depth 64 passes, 65 does not */
    s = nested_request(63);
    j = rpc_raw(s, &status);
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(j, "result")));
    cJSON_Delete(j);
    free(s);
    s = nested_request(64);
    expect_error(s, PEL_RPC_PARSE_ERROR, true);
    free(s);
}

static void huge_numbers(void)
{
    int status;
    cJSON *j = rpc_raw("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":"
                       "[1e999999,-1e400,123456789012345678901234567890,"
                       "1e-400],\"id\":1}", &status);
    const cJSON *r = cJSON_GetObjectItem(j, "result");
    CHECK_EQ_INT(cJSON_GetArraySize(r), 4);
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(r, 0)));   /* inf prints as null */
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(r, 1)));
    CHECK(fabs(cJSON_GetArrayItem(r, 2)->valuedouble - 1.2345678901234568e29)
          < 1e15);
    CHECK(cJSON_GetArrayItem(r, 3)->valuedouble == 0);
    cJSON_Delete(j);
    /* ids that a double cannot carry back exactly are refused */
    expect_error("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1e400}",
                 PEL_RPC_INVALID_REQUEST, true);
    expect_error("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":"
                 "12345678901234567890}", PEL_RPC_INVALID_REQUEST, true);
    expect_error("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1.5}",
                 PEL_RPC_INVALID_REQUEST, true);
    /* more digits than cJSON reads */
    expect_error("[1234567890123456789012345678901234567890123456789012345"
                 "678901234567890]", PEL_RPC_PARSE_ERROR, true);
    /* integer ids come back as the same digits */
    char *t = rpc_text("{\"jsonrpc\":\"2.0\",\"method\":\"echo\","
                       "\"id\":9007199254740992}");
    CHECK(t && strstr(t, "\"id\":9007199254740992}"));
    free(t);
    t = rpc_text("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1e15}");
    CHECK(t && strstr(t, "\"id\":1000000000000000}"));
    free(t);
    t = rpc_text("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":-7}");
    CHECK(t && strstr(t, "\"id\":-7}"));
    free(t);
    t = rpc_text("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":\"a\\\"b\"}");
    CHECK(t && strstr(t, "\"id\":\"a\\\"b\"}"));
    free(t);
}

static void invalid_requests(void)
{
    /* the id is echoed when it is itself valid */
    static const char *const with_id[] = {
        "{\"jsonrpc\":\"1.0\",\"method\":\"echo\",\"id\":7}",
        "{\"method\":\"echo\",\"id\":7}",
        "{\"jsonrpc\":2.0,\"method\":\"echo\",\"id\":7}",
        "{\"jsonrpc\":\"2.0\",\"method\":5,\"id\":7}",
        "{\"jsonrpc\":\"2.0\",\"id\":7}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":\"x\",\"id\":7}",
        "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":3,\"id\":7}",
    };
    int status;
    for (size_t i = 0; i < sizeof with_id / sizeof with_id[0]; i++) {
        cJSON *j = rpc_raw(with_id[i], &status);
        CHECK_EQ_INT(err_code(j), PEL_RPC_INVALID_REQUEST);
        const cJSON *id = cJSON_GetObjectItem(j, "id");
        CHECK(cJSON_IsNumber(id) && id->valueint == 7);
        cJSON_Delete(j);
    }
    expect_error("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":true}",
                 PEL_RPC_INVALID_REQUEST, true);
    expect_error("{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":{}}",
                 PEL_RPC_INVALID_REQUEST, true);
    expect_error("\"just a string\"", PEL_RPC_INVALID_REQUEST, true);
    /* invalid even without an id: answered, unlike a notification */
    expect_error("{\"jsonrpc\":\"1.0\",\"method\":\"count\"}",
                 PEL_RPC_INVALID_REQUEST, true);
}

static void method_not_found(void)
{
    int status;
    cJSON *j = rpc_raw("{\"jsonrpc\":\"2.0\",\"method\":\"rpc.nope\","
                       "\"id\":\"q\"}", &status);
    CHECK_EQ_INT(err_code(j), PEL_RPC_METHOD_NOT_FOUND);
    const cJSON *id = cJSON_GetObjectItem(j, "id");
    CHECK(cJSON_IsString(id) && strcmp(id->valuestring, "q") == 0);
    cJSON_Delete(j);
}

static void batch_limits(void)
{
    int status;
    cJSON *j = rpc_raw("[]", &status);
    CHECK(cJSON_IsObject(j));   /* one error, not an array */
    CHECK_EQ_INT(err_code(j), PEL_RPC_INVALID_REQUEST);
    CHECK(id_is_null(j));
    cJSON_Delete(j);

    static const char one[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,1],\"id\":1},";
    for (int n = MAX_BATCH; n <= MAX_BATCH + 1; n++) {
        char *s = malloc((size_t)n * sizeof one + 2), *p = s;
        *p++ = '[';
        for (int i = 0; i < n; i++)
            memcpy(p, one, sizeof one - 1), p += sizeof one - 1;
        p[-1] = ']';
        *p = '\0';
        j = rpc_raw(s, &status);
        if (n == MAX_BATCH) {
            CHECK(cJSON_IsArray(j) && cJSON_GetArraySize(j) == MAX_BATCH);
        } else {
            CHECK(cJSON_IsObject(j));
            CHECK_EQ_INT(err_code(j), PEL_RPC_INVALID_REQUEST);
        }
        cJSON_Delete(j);
        free(s);
    }
}

static void check_too_large(const resp *r)
{
    CHECK_EQ_INT(r->status, 413);
    CHECK(has_header(r, "Content-Type: application/json"));
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    CHECK_EQ_INT(err_code(j), PEL_RPC_INVALID_REQUEST);
    const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"),
                                         "message");
    CHECK(cJSON_IsString(m)
          && strcmp(m->valuestring, "request body too large") == 0);
    cJSON_Delete(j);
}

static void body_too_large(void)
{
    resp r;
    char req[256];
    /* declared: refused before a byte of body is read */
    int n = snprintf(req, sizeof req, "POST /rpc HTTP/1.1\r\nHost: t\r\n"
                     "Connection: close\r\nContent-Length: %d\r\n\r\n",
                     MAX_BODY + 1);
    CHECK_EQ_INT(exchange(req, (size_t)n, &r), 0);
    check_too_large(&r);
    resp_free(&r);

    /* chunked: no length up front, caught while accumulating */
    size_t chunk = 16384, total = 0, cap = MAX_BODY + 64 * 1024;
    char *big = malloc(cap + 128 + (cap / chunk + 1) * 16), *p = big;
    p += sprintf(p, "POST /rpc HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
    for (; total < cap; total += chunk) {
        p += sprintf(p, "%zx\r\n", chunk);
        memset(p, ' ', chunk), p += chunk;
        p += sprintf(p, "\r\n");
    }
    p += sprintf(p, "0\r\n\r\n");
    CHECK_EQ_INT(exchange(big, (size_t)(p - big), &r), 0);
    check_too_large(&r);
    resp_free(&r);
    free(big);

    /* through the client (libcurl asks "Expect: 100-continue" for bodies
     * this large, so the 413 comes before the body is sent) */
    size_t blen = 2 << 20;
    char *body = malloc(blen + 1);
    memset(body, ' ', blen);
    body[blen] = '\0';
    body[0] = '[', body[blen - 1] = ']';
    pel_rpc_client *c;
    pel_buf reply;
    pel_rpc_error err;
    pel_buf_init(&reply);
    CHECK_EQ_INT(pel_rpc_client_new(url, 5000, &c), 0);
    CHECK_EQ_INT(pel_rpc_call_raw(c, body, &reply, &err), 0);
    cJSON *j = cJSON_ParseWithLength((const char *)reply.data, reply.len);
    CHECK_EQ_INT(err_code(j), PEL_RPC_INVALID_REQUEST);
    cJSON_Delete(j);
    /* the connection still works after it */
    cJSON *res;
    CHECK_EQ_INT(pel_rpc_call(c, "echo", NULL, &res, &err), 0);
    cJSON_Delete(res);
    pel_rpc_client_free(c);
    pel_buf_free(&reply);
    free(body);
}

/* ---------------------------------------------------------------------
 * HTTP routing
 * ------------------------------------------------------------------- */

static void http_routes(void)
{
    resp r;
    CHECK_EQ_INT(request("GET", "/health", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(r.body_len == 2 && memcmp(r.body, "ok", 2) == 0);
    resp_free(&r);
    CHECK_EQ_INT(request("HEAD", "/health", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.body_len, 0);
    resp_free(&r);
    CHECK_EQ_INT(request("GET", "/nope", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 404);
    resp_free(&r);
    CHECK_EQ_INT(request("GET", "/rpc", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 405);
    CHECK(has_header(&r, "Allow: POST, OPTIONS"));
    resp_free(&r);
    CHECK_EQ_INT(request("DELETE", "/rpc", "{}", &r), 0);
    CHECK_EQ_INT(r.status, 405);
    resp_free(&r);
    CHECK_EQ_INT(request("POST", "/health", "{}", &r), 0);
    CHECK_EQ_INT(r.status, 405);
    CHECK(has_header(&r, "Allow: GET, HEAD, OPTIONS"));
    resp_free(&r);
    CHECK_EQ_INT(request("POST", "/rpc/x", "{}", &r), 0);
    CHECK_EQ_INT(r.status, 404);
    resp_free(&r);
    CHECK_EQ_INT(request("POST", "/rpc", "{}", &r), 0);
    CHECK(has_header(&r, "Content-Type: application/json"));
    CHECK(!has_header(&r, "Access-Control-Allow-Origin: *"));
    resp_free(&r);
}

static void get_routes(void)
{
    resp r;
    CHECK_EQ_INT(request("GET", "/static/app.js", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(has_header(&r, "Content-Type: text/javascript"));
    CHECK(r.body_len == 14 && memcmp(r.body, "/static/app.js", 14) == 0);
    resp_free(&r);
    CHECK_EQ_INT(request("GET", "/static", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    resp_free(&r);
    CHECK_EQ_INT(request("GET", "/staticx", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 404);
    resp_free(&r);
    /* longest prefix wins; a bad status from the handler becomes 500 */
    CHECK_EQ_INT(request("GET", "/static/deep/x", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 500);
    resp_free(&r);
}

static void cors(void)
{
    pel_http *h;
    resp r;
    static const char pre[] = "OPTIONS /rpc HTTP/1.1\r\nHost: t\r\n"
        "Origin: http://x\r\nAccess-Control-Request-Method: POST\r\n"
        "Connection: close\r\n\r\n";
    CHECK_EQ_INT(start_server("*", &h), 0);
    CHECK_EQ_INT(exchange_port(pel_http_port(h), pre, sizeof pre - 1, &r), 0);
    CHECK_EQ_INT(r.status, 204);
    CHECK(has_header(&r, "Access-Control-Allow-Origin: *"));
    CHECK(has_header(&r, "Access-Control-Allow-Methods: POST, OPTIONS"));
    CHECK(has_header(&r, "Access-Control-Allow-Headers: Content-Type"));
    resp_free(&r);
    static const char post[] = "POST /rpc HTTP/1.1\r\nHost: t\r\n"
        "Connection: close\r\nContent-Length: 2\r\n\r\n[]";
    CHECK_EQ_INT(exchange_port(pel_http_port(h), post, sizeof post - 1, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(has_header(&r, "Access-Control-Allow-Origin: *"));
    resp_free(&r);
    pel_http_stop(h);
}

/* ---------------------------------------------------------------------
 * Transport failures and lifecycle
 * ------------------------------------------------------------------- */

static void client_transport_errors(void)
{
    pel_http *h;
    pel_rpc_client *c;
    pel_rpc_error err;
    cJSON *res;
    char u[96], want[128];
    /* a port that was just closed */
    CHECK_EQ_INT(start_server(NULL, &h), 0);
    uint16_t port = pel_http_port(h);
    pel_http_stop(h);
    snprintf(u, sizeof u, "127.0.0.1:%u/rpc", port);   /* no scheme */
    CHECK_EQ_INT(pel_rpc_client_new(u, 2000, &c), 0);
    snprintf(want, sizeof want, "cannot connect to http://127.0.0.1:%u/rpc: "
             "Connection refused", port);
    CHECK_EQ_INT(pel_rpc_call(c, "echo", NULL, &res, &err), PEL_EIO);
    CHECK(strcmp(err.message, want) == 0);
    if (strcmp(err.message, want) != 0)
        fprintf(stderr, "  message: %s\n", err.message);
    CHECK(res == NULL && err.data == NULL);
    pel_rpc_client_free(c);

    /* a reply that is not JSON-RPC: text 405 from /health */
    snprintf(u, sizeof u, "http://127.0.0.1:%u/health",
             pel_http_port(srv));
    CHECK_EQ_INT(pel_rpc_client_new(u, 2000, &c), 0);
    CHECK_EQ_INT(pel_rpc_call(c, "echo", NULL, &res, &err), PEL_EIO);
    CHECK(strstr(err.message, "HTTP 405") != NULL);
    pel_rpc_client_free(c);

    /* a slow method past the client's timeout */
    CHECK_EQ_INT(pel_rpc_client_new(url, 50, &c), 0);
    cJSON *p = cJSON_Parse("[300]");
    CHECK_EQ_INT(pel_rpc_call(c, "sleep", p, &res, &err), PEL_EIO);
    CHECK(strncmp(err.message, "timeout after 50 ms", 19) == 0);
    cJSON_Delete(p);
    pel_rpc_client_free(c);
    CHECK_EQ_INT(pel_rpc_client_new("", 50, &c), PEL_EINVAL);
}

static void start_errors(void)
{
    pel_http *h = (pel_http *)1;
    pel_http_opts o = pel_http_defaults();
    o.port = pel_http_port(srv);   /* in use */
    CHECK_EQ_INT(pel_http_start(&o, methods, 1, NULL, &h), PEL_EIO);
    CHECK(h == NULL);
    o = pel_http_defaults();
    o.threads = 0;
    CHECK_EQ_INT(pel_http_start(&o, methods, 1, NULL, &h), PEL_EINVAL);
    o = pel_http_defaults();
    o.max_depth = 5000;
    CHECK_EQ_INT(pel_http_start(&o, methods, 1, NULL, &h), PEL_EINVAL);
    o = pel_http_defaults();
    pel_http_route bad = {"static", r_static, NULL};
    o.routes = &bad;
    o.n_routes = 1;
    CHECK_EQ_INT(pel_http_start(&o, methods, 1, NULL, &h), PEL_EINVAL);
    o = pel_http_defaults();
    o.bind_addr = "no.such.host.invalid";
    CHECK_EQ_INT(pel_http_start(&o, methods, 1, NULL, &h), PEL_EIO);
    pel_http_stop(NULL);
}

typedef struct busy_call {
    char url[64];
    int rc;
} busy_call;

static void *call_sleep(void *arg)
{
    busy_call *b = arg;
    pel_rpc_client *c;
    pel_rpc_error err;
    cJSON *res = NULL, *p = cJSON_Parse("[200]");
    b->rc = pel_rpc_client_new(b->url, 5000, &c);
    if (b->rc == 0) {
        b->rc = pel_rpc_call(c, "sleep", p, &res, &err);
        pel_rpc_client_free(c);
    }
    cJSON_Delete(res);
    cJSON_Delete(p);
    return NULL;
}

/* Stopping waits for a running method; its caller gets the answer or
 * PEL_EIO, never a hang. */
static void stop_while_busy(void)
{
    pel_http *h;
    busy_call b;
    pthread_t t;
    CHECK_EQ_INT(start_server(NULL, &h), 0);
    snprintf(b.url, sizeof b.url, "http://127.0.0.1:%u/rpc", pel_http_port(h));
    for (int i = 0; i < 200 && atomic_load(&in_sleep) != 0; i++)
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    CHECK_EQ_INT(pthread_create(&t, NULL, call_sleep, &b), 0);
    for (int i = 0; i < 500 && atomic_load(&in_sleep) == 0; i++)
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    CHECK_EQ_INT(atomic_load(&in_sleep), 1);
    pel_http_stop(h);
    CHECK_EQ_INT(atomic_load(&in_sleep), 0);   /* it finished before stop returned */
    pthread_join(t, NULL);
    CHECK(b.rc == 0 || b.rc == PEL_EIO);
}

/* ---------------------------------------------------------------------
 * Allocation failure: cJSON's allocator fails once, at the k-th call.
 * While armed, this thread uses no cJSON (raw socket only).
 * ------------------------------------------------------------------- */

static atomic_long countdown = -1;   /* -1: never fail */

static void *failing_malloc(size_t n)
{
    long k = atomic_load(&countdown);
    while (k >= 0 && !atomic_compare_exchange_weak(&countdown, &k, k - 1))
        ;
    return k == 0 ? NULL : malloc(n);
}

static void allocation_failures(void)
{
    static const char batch[] =
        "[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1,{\"a\":\"b\"}],"
        "\"id\":1},{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],"
        "\"id\":\"two\"},{\"jsonrpc\":\"2.0\",\"method\":\"missing\",\"id\":3},"
        "{\"jsonrpc\":\"1.0\",\"id\":4},{\"jsonrpc\":\"2.0\",\"method\":\"count\"}]";
    cJSON_Hooks hooks = {failing_malloc, free};
    int failures = 0, complete = 0;
    for (long k = 0; k < 80; k++) {
        resp r;
        cJSON_InitHooks(&hooks);
        atomic_store(&countdown, k);
        int rc = request("POST", "/rpc", batch, &r);
        atomic_store(&countdown, -1);
        cJSON_InitHooks(NULL);
        CHECK_EQ_INT(rc, 0);
        cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
        if (r.status == 500) {   /* out of memory, said in JSON-RPC */
            failures++;
            CHECK_EQ_INT(err_code(j), PEL_RPC_INTERNAL_ERROR);
        } else {
            /* whole, or a parse error: cJSON cannot tell OOM from bad
             * input, and a method's own failed allocation is its result */
            CHECK_EQ_INT(r.status, 200);
            CHECK(cJSON_IsArray(j) || err_code(j) == PEL_RPC_PARSE_ERROR);
            complete += cJSON_GetArraySize(j) == 4;
        }
        cJSON_Delete(j);
        resp_free(&r);
    }
    CHECK(failures > 0);    /* the injection reached the reply path */
    CHECK(complete > 0);    /* and k went past the last allocation */
    int status;
    cJSON *j = rpc_raw(batch, &status);   /* the server is still fine */
    CHECK(cJSON_IsArray(j) && cJSON_GetArraySize(j) == 4);
    cJSON_Delete(j);
}

/* ---------------------------------------------------------------------
 * Concurrency
 * ------------------------------------------------------------------- */

typedef struct worker {
    pthread_t t;
    int idx, bad;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    pel_rpc_client *c;
    pel_rpc_error err;
    cJSON *res;
    if (pel_rpc_client_new(url, 10000, &c) != 0)
        return w->bad = 1000, NULL;
    cJSON *p = cJSON_Parse("[25]");
    for (int i = 0; i < 3; i++) {
        w->bad += pel_rpc_call(c, "sleep", p, &res, &err) != 0;
        cJSON_Delete(res);
    }
    cJSON_Delete(p);
    for (int i = 0; i < 30; i++) {
        p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateNumber(w->idx * 1000 + i));
        cJSON_AddItemToArray(p, cJSON_CreateNumber(i));
        int rc = pel_rpc_call(c, "add", p, &res, &err);
        w->bad += rc != 0 || !cJSON_IsNumber(res)
            || res->valuedouble != w->idx * 1000 + 2 * i;
        cJSON_Delete(res);
        cJSON_Delete(p);
    }
    pel_rpc_client_free(c);
    return NULL;
}

/* 8 threads, each with its own client (connection), in one round; returns
 * the number of wrong or failed calls. */
static int client_round(void)
{
    worker w[8];
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        w[i].idx = i, w[i].bad = 0;
        if (pthread_create(&w[i].t, NULL, work, &w[i]) != 0)
            return 1000;
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(w[i].t, NULL);
        bad += w[i].bad;
    }
    return bad;
}

/* Every call answered correctly, and the sleeps overlapped. MHD hands a
 * new connection to whichever pool thread accepts it first, so now and
 * then (about 1 round in 25 here) all 8 land on one thread and run one
 * after another: up to 3 rounds, each with fresh connections. */
static void concurrent_clients(void)
{
    int bad = 0, rounds = 0;
    /* the timeout test leaves a 300 ms sleep running on the server */
    for (int i = 0; i < 200 && atomic_load(&in_sleep) != 0; i++)
        nanosleep(&(struct timespec){0, 10000000L}, NULL);
    atomic_store(&peak_sleep, 0);
    while (rounds++ < 3 && atomic_load(&peak_sleep) < 2)
        bad += client_round();
    CHECK_EQ_INT(bad, 0);
    CHECK(atomic_load(&peak_sleep) >= 2);   /* the pool ran them in parallel */
    CHECK_EQ_INT(atomic_load(&in_sleep), 0);
}

int main(void)
{
    if (start_server(NULL, &srv) != 0) {
        fprintf(stderr, "cannot start the test server\n");
        return 1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/rpc", pel_http_port(srv));
    CHECK(pel_http_port(srv) != 0);
    RUN(client_round_trip);
    RUN(client_remote_errors);
    RUN(batch_mixed);
    RUN(notifications_only);
    RUN(parse_errors);
    RUN(invalid_utf8);
    RUN(deep_nesting);
    RUN(huge_numbers);
    RUN(invalid_requests);
    RUN(method_not_found);
    RUN(batch_limits);
    RUN(body_too_large);
    RUN(http_routes);
    RUN(get_routes);
    RUN(cors);
    RUN(client_transport_errors);
    RUN(start_errors);
    RUN(stop_while_busy);
    RUN(allocation_failures);
    RUN(concurrent_clients);
    pel_http_stop(srv);
    return TEST_END("test_http");
}
