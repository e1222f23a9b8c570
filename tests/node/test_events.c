/*
 * test_events.c - the node's event streams (rpc/events.h) on a real node:
 * a block event for every committed block with the header's fields, replay
 * from a height and from Last-Event-ID, a transaction's status stream that
 * ends at its commit, and the refusals.
 */
#include "http_conn.h"
#include "node/node_harness.h"
#include "test.h"

static harness H;
static h_key k;

/* Submit a faucet payment to k; its id. */
static void faucet(uint8_t id[32])
{
    cJSON *p = h_addr_params(&k.addr);
    cJSON_AddStringToObject(p, "amount", "1000000");
    cJSON *r = h_call(&H, "faucet", p);
    size_t n;
    CHECK(r != NULL);
    CHECK(r && pel_hex_decode(h_str(r, "id"), 64, id, 32, &n) == 0);
    cJSON_Delete(r);
}

static uint64_t head_height(void)
{
    cJSON *info = h_call(&H, "node_info", NULL);
    uint64_t h = info ? (uint64_t)h_num(info, "height") : 0;
    cJSON_Delete(info);
    return h;
}

/* The JSON of the first "event: name" data line after `from` in c. */
static cJSON *event_data(const hc_conn *c, const char *name, const char **from)
{
    char tag[64];
    snprintf(tag, sizeof tag, "event: %s\ndata: ", name);
    const char *p = strstr(*from, tag);
    if (!p) return NULL;
    p += strlen(tag);
    const char *e = strchr(p, '\n');
    if (!e) return NULL;
    *from = e;
    (void)c;
    return cJSON_ParseWithLength(p, (size_t)(e - p));
}

static void block_events(void)
{
    hc_conn c;
    uint8_t id[32];
    uint64_t h0 = head_height();
    CHECK_EQ_INT(hc_open(&c, H.port, "GET", "/events", NULL), 0);
    CHECK(hc_read_until(&c, "\r\n\r\n", 5000));
    CHECK(strstr(c.buf, "HTTP/1.1 200") == c.buf);
    CHECK(strstr(c.buf, "Content-Type: text/event-stream") != NULL);
    faucet(id);
    CHECK_EQ_INT(h_wait_committed(&H, id, 10), 0);
    uint64_t h1 = head_height();
    char want[64];
    snprintf(want, sizeof want, "id: %llu\n", (unsigned long long)h1);
    CHECK(hc_read_until(&c, want, 5000));
    /* every block after h0, in order, each with the header the API gives */
    const char *at = c.buf;
    for (uint64_t h = h0 + 1; h <= h1; h++) {
        cJSON *ev = event_data(&c, "block", &at);
        CHECK(ev != NULL);
        if (!ev) break;
        CHECK_EQ_INT((uint64_t)h_num(ev, "height"), h);
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "height", (double)h);
        cJSON *b = h_call(&H, "block", p);
        CHECK(b && !strcmp(h_str(b, "hash"), h_str(ev, "hash")));
        CHECK(b && !strcmp(h_str(b, "state_root"), h_str(ev, "state_root")));
        CHECK(b && h_num(b, "tx_count") == h_num(ev, "tx_count"));
        cJSON_Delete(b);
        cJSON_Delete(ev);
    }
    hc_close(&c);

    /* replay: ?from=H and Last-Event-ID give the blocks after H */
    CHECK_EQ_INT(hc_open(&c, H.port, "GET", "/events?from=0", NULL), 0);
    snprintf(want, sizeof want, "id: %llu\n", (unsigned long long)h1);
    CHECK(hc_read_until(&c, want, 5000));
    CHECK(strstr(c.buf, "id: 1\nevent: block\n") != NULL);
    hc_close(&c);
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Last-Event-ID: %llu\r\n", (unsigned long long)(h1 - 1));
    CHECK_EQ_INT(hc_open(&c, H.port, "GET", "/events", hdr), 0);
    CHECK(hc_read_until(&c, want, 5000));
    snprintf(want, sizeof want, "id: %llu\n", (unsigned long long)(h1 - 1));
    CHECK(strstr(c.buf, want) == NULL);                 /* not the one it had */
    hc_close(&c);
}

static void tx_stream(void)
{
    hc_conn c;
    uint8_t id[32];
    char hex[65], path[128];
    cJSON *info = h_call(&H, "node_info", NULL);
    CHECK(info != NULL);
    cJSON_Delete(info);
    /* sign a transfer from the funded key, open its stream, then submit */
    char raw[2 * PEL_TX_SIZE_MAX + 1];
    cJSON *acct = h_call(&H, "account", h_addr_params(&k.addr));
    uint64_t nonce = acct ? (uint64_t)h_num(acct, "next_nonce") : 0;
    cJSON_Delete(acct);
    CHECK_EQ_INT(h_sign_transfer(&H, &k, &k.addr, 1, nonce, raw, id), 0);
    pel_hex_encode(id, 32, hex);
    snprintf(path, sizeof path, "/events?tx=%s", hex);
    CHECK_EQ_INT(hc_open(&c, H.port, "GET", path, NULL), 0);
    CHECK(hc_read_until(&c, "\"status\":\"unknown\"", 5000));
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "tx", raw);
    cJSON *r = h_call(&H, "submit_tx", p);
    CHECK(r != NULL);
    cJSON_Delete(r);
    CHECK(hc_read_until(&c, "\"status\":\"committed\"", 10000));
    const char *at = c.buf;
    cJSON *ev = NULL, *last = NULL;
    while ((ev = event_data(&c, "tx", &at)) != NULL) { cJSON_Delete(last); last = ev; }
    CHECK(last && !strcmp(h_str(last, "id"), hex));
    CHECK(last && h_num(last, "height") >= 1);
    cJSON *rc = last ? cJSON_GetObjectItemCaseSensitive(last, "receipt") : NULL;
    CHECK(rc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rc, "ok")));
    cJSON_Delete(last);
    CHECK(hc_closed(&c, 5000) || strstr(c.buf, "\r\n0\r\n\r\n") != NULL);   /* the stream ended */
    hc_close(&c);
}

static void refusals(void)
{
    static const char *bad[] = { "/events?from=x", "/events?from=-1", "/events?tx=12",
                                 "/events?tx=zz", "/events/blocks" };
    static const char *want[] = { "HTTP/1.1 400", "HTTP/1.1 400", "HTTP/1.1 400", "HTTP/1.1 400",
                                  "HTTP/1.1 404" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hc_conn c;
        CHECK_EQ_INT(hc_open(&c, H.port, "GET", bad[i], NULL), 0);
        CHECK(hc_read_until(&c, "\r\n\r\n", 5000));
        if (strstr(c.buf, want[i]) != c.buf) fprintf(stderr, "  GET %s\n", bad[i]);
        CHECK(strstr(c.buf, want[i]) == c.buf);
        hc_close(&c);
    }
    /* the API still answers */
    cJSON *info = h_call(&H, "node_info", NULL);
    CHECK(info != NULL);
    cJSON_Delete(info);
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    if (h_init(&H, argv[0], "events-chain")) { fprintf(stderr, "cannot set up\n"); return 1; }
    h_key_make(&k, 7);
    if (h_start(&H, NULL) || h_wait_ready(&H, 20)) {
        fprintf(stderr, "node did not start\n");
        CHECK(0);
    } else {
        RUN(block_events);
        RUN(tx_stream);
        RUN(refusals);
        CHECK_EQ_INT(h_stop(&H, SIGTERM), 0);          /* streams do not hold up the stop */
    }
    h_cleanup(&H);
    return TEST_END("test_events");
}
