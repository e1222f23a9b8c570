/*
 * test_e2e.c - a real node on a temporary directory and a free port, used
 * the way a person uses it: through the `pel` CLI and the HTTP API.
 *
 * Checks: transfers from several keys commit with the right balances,
 * receipts and fees (supply conserved); every admission rejection reaches
 * the client with its reason; garbage, truncated and oversized input gets
 * an error and the node keeps running; a second node on the same directory
 * is refused; SIGTERM stops cleanly and a restart resumes at the same
 * height; `pel admin verify` agrees with everything.
 */
#include <sodium.h>

#include "test.h"
#include "node_harness.h"

static harness H;
static char out[65536];

static int cli(const char *const *args) { return h_run(&H, out, sizeof out, args); }

static uint64_t balance_of(const pel_addr *a)
{
    cJSON *r = h_call(&H, "account", h_addr_params(a));
    uint64_t v = 0;
    if (r && pel_parse_u64(h_str(r, "balance"), &v)) v = UINT64_MAX;
    cJSON_Delete(r);
    return v;
}

static cJSON *status_of(const uint8_t id[32]) { return h_tx_status(&H, id); }
static int wait_committed(const uint8_t id[32], double secs) { return h_wait_committed(&H, id, secs); }

/* submit one transaction (hex, or in `encoding` when given); returns the
 * JSON-RPC error's pel_code (or its code for invalid params) or 0 */
static int submit_enc(const char *tx, const char *encoding)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "tx", tx);
    if (encoding) cJSON_AddStringToObject(p, "encoding", encoding);
    cJSON *res = NULL;
    pel_rpc_error err;
    int rc = pel_rpc_call(H.rpc, "submit_tx", p, &res, &err);
    cJSON_Delete(p);
    cJSON_Delete(res);
    if (rc == 0) return 0;
    int code = err.code;
    if (err.data) {
        code = (int)h_num(err.data, "pel_code");
        cJSON_Delete(err.data);
    }
    return code;
}

static int submit_hex(const char *hex) { return submit_enc(hex, NULL); }

static h_key k[3];

static void fund(void)
{
    cJSON *info = h_call(&H, "node_info", NULL);
    CHECK(info && h_str(info, "faucet")[0]);
    CHECK(info && !strcmp(h_str(info, "chain_id"), "e2e-chain"));
    cJSON_Delete(info);
    for (int i = 0; i < 3; i++) {
        cJSON *p = h_addr_params(&k[i].addr);
        cJSON_AddStringToObject(p, "amount", "1000000");
        cJSON *r = h_call(&H, "faucet", p);
        CHECK(r != NULL);
        uint8_t id[32];
        size_t n;
        CHECK(r && pel_hex_decode(h_str(r, "id"), 64, id, 32, &n) == 0);
        CHECK(r && wait_committed(id, 10) == 0);
        cJSON_Delete(r);
        CHECK_EQ_INT(balance_of(&k[i].addr), 1000000);
    }
}

/* Transfers between the three keys through the HTTP API; balances and
 * receipts checked exactly (fee = gas_used * 1). */
static void transfers(void)
{
    char hex[2 * PEL_TX_SIZE_MAX + 1];
    uint8_t ids[6][32];
    uint64_t before[3];
    for (int i = 0; i < 3; i++) before[i] = balance_of(&k[i].addr);
    int t = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            if (i == j) continue;
            CHECK_EQ_INT(h_sign_transfer(&H, &k[i], &k[j].addr, 100 * (uint64_t)(i + 1), (uint64_t)(j > i ? j - 1 : j), hex, ids[t]), 0);
            CHECK_EQ_INT(submit_hex(hex), 0);
            t++;
        }
    int64_t delta[3] = { 0, 0, 0 };
    t = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            if (i == j) continue;
            CHECK_EQ_INT(wait_committed(ids[t], 10), 0);
            cJSON *s = status_of(ids[t]);
            cJSON *rc = cJSON_GetObjectItemCaseSensitive(s, "receipt");
            CHECK(rc && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rc, "ok")));
            uint64_t gas = (uint64_t)h_num(rc, "gas_used"), fee = 0;
            CHECK(gas > 1000 && gas <= 10000);
            CHECK(pel_parse_u64(h_str(rc, "fee"), &fee) == 0 && fee == gas);
            cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rc, "events"), 0);
            CHECK(ev && !strcmp(h_str(ev, "kind"), "transfer"));
            delta[i] -= (int64_t)(100 * (i + 1) + fee);
            delta[j] += 100 * (i + 1);
            cJSON_Delete(s);
            t++;
        }
    for (int i = 0; i < 3; i++) CHECK_EQ_INT((int64_t)balance_of(&k[i].addr), (int64_t)before[i] + delta[i]);
}

/* The CLI: keygen, account show, tx transfer --wait, tx status, block show. */
static void through_cli(void)
{
    char key[300], addr[128] = "";
    snprintf(key, sizeof key, "%s/user.key", H.dir);
    const char *kg[] = { "keygen", "--out", key, "--json", NULL };
    CHECK_EQ_INT(cli(kg), 0);
    cJSON *j = cJSON_Parse(out);
    snprintf(addr, sizeof addr, "%s", h_str(j, "address"));
    cJSON_Delete(j);
    CHECK(strncmp(addr, "pel1", 4) == 0);
    const char *kg2[] = { "keygen", "--out", key, NULL };
    CHECK(cli(kg2) != 0);                                  /* never overwrites a key */
    const char *fa[] = { "faucet", addr, "--amount", "5000", "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(fa), 0);
    char to[PEL_ADDR_STR_LEN + 1];
    pel_addr_format(&k[0].addr, to);
    uint64_t b0 = balance_of(&k[0].addr);
    const char *tr[] = { "tx", "transfer", "--key", key, "--to", to, "--amount", "1234", "--wait",
                         "--json", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(tr), 0);
    CHECK_EQ_INT(balance_of(&k[0].addr), b0 + 1234);
    j = cJSON_Parse(out);
    char id[80];
    snprintf(id, sizeof id, "%s", h_str(j, "id"));
    cJSON_Delete(j);
    const char *st[] = { "tx", "status", id, "--json", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(st), 0);
    j = cJSON_Parse(out);
    CHECK(j && !strcmp(h_str(j, "status"), "committed"));
    cJSON_Delete(j);
    const char *sh[] = { "account", "show", addr, "--json", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(sh), 0);
    j = cJSON_Parse(out);
    uint64_t bal = 0;
    CHECK(j && pel_parse_u64(h_str(j, "balance"), &bal) == 0 && bal < 5000 - 1234 && bal > 0);
    CHECK(j && h_num(j, "nonce") == 1);
    cJSON_Delete(j);
    const char *bl[] = { "block", "show", "latest", "--json", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(bl), 0);
    j = cJSON_Parse(out);
    CHECK(j && h_num(j, "height") > 0);
    cJSON_Delete(j);
    const char *badaddr[] = { "tx", "transfer", "--key", key, "--to", "pel1nothex", "--amount", "1",
                              "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(badaddr), 1);
    const char *unknown[] = { "tx", "status", "00", "--rpc", H.url, NULL };
    CHECK(cli(unknown) != 0);
}

/* Every admission rejection comes back with its reason code. */
static void rejections(void)
{
    char hex[2 * PEL_TX_SIZE_MAX + 1];
    uint8_t id[32];
    cJSON *a = h_call(&H, "account", h_addr_params(&k[1].addr));
    uint64_t nonce = a ? (uint64_t)h_num(a, "next_nonce") : 0;
    cJSON_Delete(a);
    CHECK_EQ_INT(h_sign_transfer(&H, &k[1], &k[2].addr, 1, nonce, hex, id), 0);
    CHECK_EQ_INT(submit_hex(hex), 0);
    CHECK_EQ_INT(submit_hex(hex), PEL_EDUP);                    /* duplicate (pending) */
    CHECK_EQ_INT(wait_committed(id, 10), 0);
    CHECK_EQ_INT(submit_hex(hex), PEL_EDUP);                    /* duplicate (committed) */
    CHECK_EQ_INT(h_sign_transfer(&H, &k[1], &k[2].addr, 1, 0, hex, NULL), 0);
    CHECK_EQ_INT(submit_hex(hex), PEL_ENONCE);                  /* nonce too low */
    CHECK_EQ_INT(h_sign_transfer(&H, &k[1], &k[2].addr, 1, nonce + 1000000, hex, NULL), 0);
    CHECK_EQ_INT(submit_hex(hex), PEL_EFUTURE);                 /* too far ahead */
    CHECK_EQ_INT(h_sign_transfer(&H, &k[1], &k[2].addr, 999999999999ull, nonce + 1, hex, NULL), 0);
    CHECK_EQ_INT(submit_hex(hex), PEL_EFUNDS);                  /* cannot pay */
    CHECK_EQ_INT(h_sign_transfer(&H, &k[1], &k[2].addr, 1, nonce + 1, hex, NULL), 0);
    char *c = &hex[strlen(hex) - 3];                            /* change a signature digit */
    *c = *c == '0' ? '1' : '0';
    CHECK_EQ_INT(submit_hex(hex), PEL_EBADSIG);
    harness other = H;
    snprintf(other.chain_id, sizeof other.chain_id, "another-chain");
    CHECK_EQ_INT(h_sign_transfer(&other, &k[1], &k[2].addr, 1, nonce + 1, hex, NULL), 0);
    CHECK_EQ_INT(submit_hex(hex), PEL_ECHAIN);                  /* wrong chain id */
    CHECK_EQ_INT(h_sign_transfer(&H, &k[1], &k[2].addr, 1, nonce + 1, hex, NULL), 0);
    hex[40] = 0;
    CHECK_EQ_INT(submit_hex(hex), PEL_ETRUNC);                  /* truncated */
    CHECK_EQ_INT(submit_hex("zz"), PEL_EHEX);                   /* not hex */
    CHECK_EQ_INT(submit_hex("00112233445566778899"), PEL_ETOOLONG); /* garbage: chain id length */
    /* a transaction over the size limit */
    size_t big = 2 * (PEL_TX_SIZE_MAX + 16);
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    huge[big] = 0;
    CHECK_EQ_INT(submit_hex(huge), PEL_ETXSIZE);
    free(huge);
    /* base64: accepted like hex; bad base64 and unknown encodings refused */
    uint8_t raw[PEL_TX_SIZE_MAX];
    size_t n;
    char b64[2 * PEL_TX_SIZE_MAX];
    CHECK_EQ_INT(h_sign_transfer(&H, &k[1], &k[2].addr, 1, nonce + 1, hex, id), 0);
    CHECK_EQ_INT(pel_hex_decode(hex, strlen(hex), raw, sizeof raw, &n), 0);
    sodium_bin2base64(b64, sizeof b64, raw, n, sodium_base64_VARIANT_ORIGINAL);
    CHECK_EQ_INT(submit_enc("not base64!", "base64"), PEL_EHEX);
    CHECK_EQ_INT(submit_enc(b64, "utf-7"), -32602);             /* invalid params */
    CHECK_EQ_INT(submit_enc(b64, "base64"), 0);
    CHECK_EQ_INT(wait_committed(id, 10), 0);
    CHECK_EQ_INT(submit_hex(hex), PEL_EDUP);                    /* the same transaction */
}

/* A block's transactions in pages: the pages put together are the whole
 * list, and next says where each following page starts. */
static void paged_block(void)
{
    cJSON *info = h_call(&H, "node_info", NULL);
    uint64_t head = info ? (uint64_t)h_num(info, "height") : 0;
    cJSON_Delete(info);
    cJSON *full = NULL;
    for (uint64_t ht = 1; ht <= head && !full; ht++) {      /* a block with several */
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "height", (double)ht);
        cJSON *b = h_call(&H, "block", p);
        if (b && h_num(b, "tx_count") >= 3) full = b;
        else cJSON_Delete(b);
    }
    CHECK(full != NULL);
    if (!full) return;
    int n = (int)h_num(full, "tx_count");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(full, "txs");
    CHECK(cJSON_GetObjectItemCaseSensitive(full, "next") == NULL);   /* not paged: no next */
    int at = 0, pages = 0;
    for (double from = 0; from >= 0 && pages < n + 1; pages++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "height", h_num(full, "height"));
        cJSON_AddNumberToObject(p, "from", from);
        cJSON_AddNumberToObject(p, "limit", 2);
        cJSON *pg = h_call(&H, "block", p);
        const cJSON *txs = pg ? cJSON_GetObjectItemCaseSensitive(pg, "txs") : NULL, *t;
        CHECK(txs && cJSON_GetArraySize(txs) <= 2);
        cJSON_ArrayForEach(t, txs) {
            CHECK(at < n && !strcmp(t->valuestring, cJSON_GetArrayItem(all, at)->valuestring));
            at++;
        }
        const cJSON *nx = pg ? cJSON_GetObjectItemCaseSensitive(pg, "next") : NULL;
        CHECK(cJSON_IsNull(nx) || (cJSON_IsNumber(nx) && nx->valuedouble == at));
        from = cJSON_IsNumber(nx) ? nx->valuedouble : -1;
        cJSON_Delete(pg);
    }
    CHECK_EQ_INT(at, n);
    CHECK_EQ_INT(pages, (n + 1) / 2);
    cJSON_Delete(full);
}

/* Raw HTTP abuse: the node answers with errors and keeps serving. */
static void bad_http(void)
{
    pel_buf reply;
    pel_buf_init(&reply);
    CHECK_EQ_INT(pel_rpc_call_raw(H.rpc, "{not json", &reply, NULL), 0);
    CHECK(strstr((char *)reply.data, "-32700") != NULL);
    CHECK_EQ_INT(pel_rpc_call_raw(H.rpc, "{\"jsonrpc\":\"2.0\",\"method\":\"submit_tx\",\"params\":{\"tx\":5},\"id\":1}", &reply, NULL), 0);
    CHECK(strstr((char *)reply.data, "-32602") != NULL);
    size_t big = 40u << 20;                                     /* over the 32 MiB body limit */
    char *body = malloc(big + 1);
    memset(body, ' ', big);
    body[big] = 0;
    int rc = pel_rpc_call_raw(H.rpc, body, &reply, NULL);
    CHECK(rc != 0 || strstr((char *)reply.data, "too large") != NULL);
    free(body);
    pel_buf_free(&reply);
    pel_rpc_client_free(H.rpc);
    CHECK_EQ_INT(pel_rpc_client_new(H.url, 5000, &H.rpc), 0);
    cJSON *info = h_call(&H, "node_info", NULL);
    CHECK(info != NULL);                                        /* still alive */
    cJSON_Delete(info);
}

/* A second node on the same directory is refused with a clear message. */
static void second_node_refused(void)
{
    char log[65536];
    const char *args[] = { "node", "--dir", H.dir, "--listen", "127.0.0.1:1", NULL };
    int rc = h_run(&H, log, sizeof log, args);
    CHECK_EQ_INT(rc, 1);
}

static void restart_resumes(void)
{
    cJSON *info = h_call(&H, "node_info", NULL);
    double height = info ? h_num(info, "height") : -1;
    char head[65];
    snprintf(head, sizeof head, "%s", info ? h_str(info, "head_hash") : "");
    cJSON_Delete(info);
    CHECK(height > 0);
    /* the store's figures, read-only beside the running node */
    char st[8192];
    const char *sv[] = { "admin", "stats", "--dir", H.dir, "--json", NULL };
    CHECK_EQ_INT(h_run(&H, st, sizeof st, sv), 0);
    cJSON *sj = cJSON_Parse(st);
    cJSON *tabs = cJSON_GetObjectItem(sj, "tables");
    CHECK(sj && h_num(sj, "format") == PEL_CHAIN_FORMAT && h_num(sj, "page_size") >= 512);
    CHECK(sj && h_num(sj, "pages_used") > h_num(sj, "free_pages"));
    CHECK(tabs && h_num(cJSON_GetObjectItem(tabs, "blocks"), "entries") >= height + 1);
    CHECK(tabs && h_num(cJSON_GetObjectItem(tabs, "txs"), "entries") > 0);
    CHECK(tabs && h_num(cJSON_GetObjectItem(tabs, "state"), "depth") >= 1);
    cJSON_Delete(sj);
    const char *sv2[] = { "admin", "stats", "--dir", "/nonexistent/pel", NULL };
    CHECK_EQ_INT(h_run(&H, st, sizeof st, sv2), 1);   /* the reason goes to stderr */
    CHECK_EQ_INT(st[0], 0);
    CHECK_EQ_INT(h_stop(&H, SIGTERM), 0);
    char o[4096];
    const char *v[] = { "admin", "verify", "--dir", H.dir, NULL };
    CHECK_EQ_INT(h_run(&H, o, sizeof o, v), 0);
    CHECK(strncmp(o, "ok:", 3) == 0);
    CHECK_EQ_INT(h_start(&H, NULL), 0);
    CHECK_EQ_INT(h_wait_ready(&H, 20), 0);
    info = h_call(&H, "node_info", NULL);
    CHECK(info && h_num(info, "height") == height);
    CHECK(info && !strcmp(h_str(info, "head_hash"), head));
    cJSON_Delete(info);
    CHECK_EQ_INT(balance_of(&k[2].addr) > 0, 1);
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    if (h_init(&H, argv[0], "e2e-chain")) { fprintf(stderr, "cannot set up\n"); return 1; }
    for (int i = 0; i < 3; i++) h_key_make(&k[i], 100 + (uint32_t)i);
    if (h_start(&H, NULL) || h_wait_ready(&H, 20)) {
        fprintf(stderr, "node did not start\n");
        CHECK(0);
    } else {
        RUN(fund);
        RUN(transfers);
        RUN(paged_block);
        RUN(rejections);
        RUN(bad_http);
        RUN(second_node_refused);
        RUN(through_cli);
        RUN(restart_resumes);
    }
    h_cleanup(&H);
    return TEST_END("test_e2e");
}
