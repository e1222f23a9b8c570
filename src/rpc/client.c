/*
 * client.c - JSON-RPC 2.0 client over libcurl (see client.h).
 *
 * Every call goes through transport(): one POST on the client's curl
 * handle, the reply body collected into a pel_buf (capped at
 * PEL_RPC_MAX_REPLY), curl failures turned into a message. pel_rpc_call()
 * adds building the request and reading the reply object.
 */
#include "rpc/client.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct pel_rpc_client {
    CURL *curl;
    struct curl_slist *headers;
    char *url;
    unsigned timeout_ms;
    double next_id;          /* exact up to 2^53 calls */
    pel_buf reply;           /* pel_rpc_call's reply body, reused */
    char errbuf[CURL_ERROR_SIZE];
};

/* curl_global_init() is not thread-safe: run it once for the process.
 * Written inside pthread_once only, read after it (which orders it). */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void set_msg(pel_rpc_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

static void clear_err(pel_rpc_error *err)
{
    err->code = 0;
    err->message[0] = '\0';
    err->data = NULL;
}

/* ---------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------- */

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    pel_buf *b = ud;
    size_t len = size * n;
    if (len > PEL_RPC_MAX_REPLY - b->len || pel_buf_append(b, p, len) != 0)
        return 0;   /* curl stops with CURLE_WRITE_ERROR */
    return len;
}

static char *full_url(const char *url)
{
    size_t n = strlen(url);
    bool bare = strstr(url, "://") == NULL;
    char *s = malloc(n + (bare ? 7 : 0) + 1);
    if (s)
        snprintf(s, n + 8, "%s%s", bare ? "http://" : "", url);
    return s;
}

/* Options that stay the same for every call of this client. */
static int setup_handle(pel_rpc_client *c)
{
    CURL *k = c->curl;
    /* curl_slist_append returns the head, or NULL leaving the list intact */
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c->headers
        || !curl_slist_append(c->headers, "Accept: application/json"))
        return PEL_ENOMEM;
    CURLcode rc = curl_easy_setopt(k, CURLOPT_URL, c->url);
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_HTTPHEADER, c->headers);
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_write);
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_ERRORBUFFER, c->errbuf);
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_PROXY, "");
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_USERAGENT, "pel");
#if LIBCURL_VERSION_NUM >= 0x075500
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    if (!rc) rc = curl_easy_setopt(k, CURLOPT_PROTOCOLS,
                                   (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    return rc == CURLE_OK ? 0 : rc == CURLE_OUT_OF_MEMORY ? PEL_ENOMEM
                                                           : PEL_EIO;
}

int pel_rpc_client_new(const char *url, unsigned timeout_ms,
                       pel_rpc_client **out)
{
    pel_rpc_client *c = NULL;
    int rc = PEL_ENOMEM;
    *out = NULL;
    if (!url || !*url)
        return PEL_EINVAL;
    if (pthread_once(&curl_once, curl_init) != 0 || curl_init_rc != CURLE_OK)
        return PEL_EIO;
    if (!(c = calloc(1, sizeof *c)))
        return PEL_ENOMEM;
    pel_buf_init(&c->reply);
    c->timeout_ms = timeout_ms;
    c->next_id = 1;
    if (!(c->url = full_url(url)) || !(c->curl = curl_easy_init()))
        goto fail;
    if ((rc = setup_handle(c)) != 0)
        goto fail;
    *out = c;
    return 0;
fail:
    pel_rpc_client_free(c);
    return rc;
}

void pel_rpc_client_free(pel_rpc_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    pel_buf_free(&c->reply);
    free(c->url);
    free(c);
}

const char *pel_rpc_client_url(const pel_rpc_client *c)
{
    return c->url;
}

/* ---------------------------------------------------------------------
 * Transport
 * ------------------------------------------------------------------- */

/* A curl failure as a message naming the URL. */
static void describe_failure(pel_rpc_client *c, CURLcode rc,
                             pel_rpc_error *err)
{
    long os = 0;
    char sbuf[128];
    const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
    (void)curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os);
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        set_msg(err, "cannot connect to %s: %s", c->url,
                os ? strerror_r((int)os, sbuf, sizeof sbuf) : detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        set_msg(err, "timeout after %u ms calling %s", c->timeout_ms, c->url);
        break;
    case CURLE_WRITE_ERROR:
        set_msg(err, "reply from %s over %zu bytes or out of memory",
                c->url, PEL_RPC_MAX_REPLY);
        break;
    default:
        set_msg(err, "calling %s: %s", c->url, detail);
        break;
    }
}

static bool is_json_type(const char *ctype)
{
    static const char json[] = "application/json";
    return ctype && strncmp(ctype, json, sizeof json - 1) == 0
        && (ctype[sizeof json - 1] == '\0' || ctype[sizeof json - 1] == ';');
}

/* One POST. On 0 `out` holds the reply body, NUL-terminated past len. */
static int transport(pel_rpc_client *c, const char *body, size_t len,
                     pel_buf *out, pel_rpc_error *err)
{
    long status = 0;
    char *ctype = NULL;
    pel_buf_reset(out);
    c->errbuf[0] = '\0';
    CURLcode rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    if (!rc) rc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                                   (curl_off_t)len);
    if (!rc) rc = curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, out);
    if (!rc) rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        describe_failure(c, rc, err);
        return rc == CURLE_OUT_OF_MEMORY ? PEL_ENOMEM : PEL_EIO;
    }
    (void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ctype);
    if (pel_buf_append(out, "", 1) != 0)
        return PEL_ENOMEM;
    out->len--;
    if ((status >= 200 && status < 300) || is_json_type(ctype))
        return 0;
    set_msg(err, "HTTP %ld from %s", status, c->url);
    return PEL_EIO;
}

int pel_rpc_call_raw(pel_rpc_client *c, const char *json_body, pel_buf *reply,
                     pel_rpc_error *err)
{
    pel_rpc_error scratch;
    if (!err)
        err = &scratch;
    clear_err(err);
    return transport(c, json_body, strlen(json_body), reply, err);
}

/* ---------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------- */

/* The request text (cJSON_free it), or NULL on OOM. params is attached
 * by reference: cJSON neither copies nor frees nor modifies it. */
static char *build_request(const char *method, const cJSON *params,
                           double id)
{
    char *text = NULL;
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "jsonrpc", "2.0")
        && cJSON_AddStringToObject(o, "method", method)
        && (!params || cJSON_AddItemReferenceToObject(o, "params",
                                                      (cJSON *)params))
        && cJSON_AddNumberToObject(o, "id", id))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* Copies a reply's "error" member into err. PEL_EREMOTE, or PEL_EIO when
 * it is not a JSON-RPC error object. Takes e's "data". */
static int take_error(pel_rpc_client *c, cJSON *e, pel_rpc_error *err)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (!cJSON_IsNumber(code) || !cJSON_IsString(msg)) {
        set_msg(err, "invalid reply from %s: malformed error", c->url);
        return PEL_EIO;
    }
    err->code = code->valueint;   /* cJSON saturates to int */
    set_msg(err, "%s", msg->valuestring);
    err->data = cJSON_DetachItemFromObjectCaseSensitive(e, "data");
    return PEL_EREMOTE;
}

/* Reads c->reply as the answer to request `id`. */
static int read_reply(pel_rpc_client *c, double id, cJSON **result,
                      pel_rpc_error *err)
{
    int rc = PEL_EIO;
    cJSON *r = cJSON_ParseWithLengthOpts((const char *)c->reply.data,
                                         c->reply.len + 1, NULL, 1);
    cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
    if (!cJSON_IsObject(r))
        set_msg(err, "invalid reply from %s: %s", c->url,
                c->reply.len ? "not a JSON object" : "empty");
    else if (e)
        rc = take_error(c, e, err);
    else if (!cJSON_IsNumber(rid) || rid->valuedouble != id)
        set_msg(err, "invalid reply from %s: id does not match", c->url);
    else if (!(*result = cJSON_DetachItemFromObjectCaseSensitive(r, "result")))
        set_msg(err, "invalid reply from %s: no result", c->url);
    else
        rc = 0;
    cJSON_Delete(r);
    return rc;
}

int pel_rpc_call(pel_rpc_client *c, const char *method, const cJSON *params,
                 cJSON **result, pel_rpc_error *err)
{
    pel_rpc_error scratch;
    double id = c->next_id++;
    *result = NULL;
    if (!err)
        err = &scratch;
    clear_err(err);
    if (params && !cJSON_IsArray(params) && !cJSON_IsObject(params))
        return PEL_EINVAL;
    char *body = build_request(method, params, id);
    if (!body)
        return PEL_ENOMEM;
    int rc = transport(c, body, strlen(body), &c->reply, err);
    cJSON_free(body);
    if (rc == 0)
        rc = read_reply(c, id, result, err);
    if (err == &scratch)
        cJSON_Delete(scratch.data);
    return rc;
}
