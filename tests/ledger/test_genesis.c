/*
 * test_genesis.c - genesis.json (src/ledger/genesis.c): parsing with
 * defaults, every rejection with a message naming the field, the genesis
 * hash (checked against a reference encoding written here from genesis.h,
 * independent of account order and formatting), to_json -> parse round
 * trips, the allocation's state writes, and the u64 parsers.
 */
#include <stdarg.h>

#include "core/codec.h"
#include "core/hash.h"
#include "ledger/genesis.h"
#include "test.h"

/* ---- helpers ---- */

/* addr_n - a valid address string for raw bytes all equal to n. */
static const char *addr_n(uint8_t n)
{
    static char bufs[8][PEL_ADDR_STR_LEN + 1];
    static int next;
    pel_addr a;
    memset(a.b, n, sizeof a.b);
    char *s = bufs[next++ % 8];
    pel_addr_format(&a, s);
    return s;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    static char bufs[16][4096];   /* fmt results stay valid for 16 calls */
    static int next;
    char *s = bufs[next++ % 16];
    va_list ap;
    va_start(ap, f);
    vsnprintf(s, sizeof bufs[0], f, ap);
    va_end(ap);
    return s;
}

static int parse(const char *json, pel_genesis *g, char *err, size_t errlen)
{
    return pel_genesis_parse(json, strlen(json), g, err, errlen);
}

/* spec_hash - the genesis hash as genesis.h defines it, from fields given
 * here; accounts must be passed sorted by address. */
static void spec_hash(const char *chain, uint64_t time_ms, uint64_t base, uint64_t per_byte,
                      uint64_t min_price, const pel_genesis_account *acc, size_t n, uint8_t out[32])
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_enc_bytes(&b, chain, strlen(chain));
    if (!rc) rc = pel_enc_u64(&b, time_ms);
    if (!rc) rc = pel_enc_u64(&b, base);
    if (!rc) rc = pel_enc_u64(&b, per_byte);
    if (!rc) rc = pel_enc_u64(&b, min_price);
    if (!rc) rc = pel_enc_u32(&b, (uint32_t)n);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = pel_enc_raw(&b, acc[i].addr.b, PEL_ADDR_LEN);
        if (!rc) rc = pel_enc_u64(&b, acc[i].balance);
    }
    CHECK_EQ_INT(rc, 0);
    CHECK(pel_hash_tagged("PEL/genesis", b.data, b.len, out) == 0);
    pel_buf_free(&b);
}

/* ---- valid files ---- */

static void parses_a_full_file(void)
{
    const char *json = fmt(
        "{\n"
        "  \"chain_id\": \"pel-devnet\",\n"
        "  \"genesis_time_ms\": 1764100000000,\n"
        "  \"gas\": { \"base\": 2000, \"per_byte\": 7 },\n"
        "  \"min_gas_price\": 3,\n"
        "  \"accounts\": [\n"
        "    { \"address\": \"%s\", \"balance\": \"1000000\" },\n"
        "    { \"address\": \"%s\", \"balance\": 42 },\n"
        "    { \"address\": \"%s\", \"balance\": \"18446744073709551615\" }\n"
        "  ]\n"
        "}\n", addr_n(0x30), addr_n(0x10), addr_n(0x20));
    pel_genesis g;
    char err[200] = "unset";
    /* the third balance alone is 2^64-1: over the 2^63-1 supply limit */
    CHECK_EQ_INT(parse(json, &g, err, sizeof err), PEL_EINVAL);
    CHECK(strstr(err, "supply") != NULL);
    json = fmt(
        "{\n"
        "  \"chain_id\": \"pel-devnet\",\n"
        "  \"genesis_time_ms\": 1764100000000,\n"
        "  \"gas\": { \"base\": 2000, \"per_byte\": 7 },\n"
        "  \"min_gas_price\": 3,\n"
        "  \"accounts\": [\n"
        "    { \"address\": \"%s\", \"balance\": \"1000000\" },\n"
        "    { \"address\": \"%s\", \"balance\": 42 },\n"
        "    { \"address\": \"%s\", \"balance\": \"9223372036853775765\" }\n"
        "  ]\n"
        "}\n", addr_n(0x30), addr_n(0x10), addr_n(0x20));
    CHECK_EQ_INT(parse(json, &g, err, sizeof err), 0);
    CHECK_EQ_INT(err[0], 0);
    CHECK(strcmp(g.params.chain_id, "pel-devnet") == 0);
    CHECK(g.time_ms == 1764100000000ull);
    CHECK(g.params.gas.base == 2000 && g.params.gas.per_byte == 7);
    CHECK(g.params.min_gas_price == 3);
    CHECK_EQ_INT(g.n_accounts, 3);
    /* sorted by address */
    uint8_t order[3] = { 0x10, 0x20, 0x30 };
    uint64_t bals[3] = { 42, 9223372036853775765ull, 1000000 };
    for (int i = 0; i < 3 && g.n_accounts == 3; i++) {
        CHECK(g.accounts[i].addr.b[0] == order[i] && g.accounts[i].addr.b[19] == order[i]);
        CHECK(g.accounts[i].balance == bals[i]);
    }
    CHECK(g.supply == (uint64_t)INT64_MAX);                 /* exactly the limit */
    uint8_t want[32];
    spec_hash("pel-devnet", 1764100000000ull, 2000, 7, 3, g.accounts, 3, want);
    CHECK_MEM(g.hash, want, 32);
    pel_genesis_free(&g);
    CHECK(g.accounts == NULL && g.n_accounts == 0);
}

static void defaults_apply(void)
{
    pel_genesis g;
    char err[200];
    CHECK_EQ_INT(parse("{\"chain_id\":\"c\",\"accounts\":[]}", &g, err, sizeof err), 0);
    CHECK(strcmp(g.params.chain_id, "c") == 0);
    CHECK(g.time_ms == 0);
    CHECK(g.params.gas.base == 1000 && g.params.gas.per_byte == 10);
    CHECK(g.params.min_gas_price == 1);
    CHECK_EQ_INT(g.n_accounts, 0);
    CHECK(g.supply == 0);
    uint8_t want[32];
    spec_hash("c", 0, 1000, 10, 1, NULL, 0, want);
    CHECK_MEM(g.hash, want, 32);
    pel_genesis_free(&g);
    /* a gas object with one field keeps the other's default */
    CHECK_EQ_INT(parse("{\"chain_id\":\"c\",\"gas\":{\"per_byte\":0},\"accounts\":[]}", &g, err,
                       sizeof err), 0);
    CHECK(g.params.gas.base == 1000 && g.params.gas.per_byte == 0);
    pel_genesis_free(&g);
    /* chain id of every allowed character, at the 64 maximum */
    const char *cid = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._";
    CHECK_EQ_INT(strlen(cid), 64);
    CHECK_EQ_INT(parse(fmt("{\"chain_id\":\"%s\",\"accounts\":[]}", cid), &g, err, sizeof err), 0);
    CHECK(strcmp(g.params.chain_id, cid) == 0);
    pel_genesis_free(&g);
    CHECK_EQ_INT(parse("{\"chain_id\":\"a-b\",\"accounts\":[]}", &g, err, sizeof err), 0);
    pel_genesis_free(&g);
}

/* ---- invalid files ---- */

typedef struct bad_case { const char *json; const char *field; } bad_case;

static void check_bad(const char *json, const char *field)
{
    pel_genesis g;
    char err[300] = "";
    memset(&g, 0xAA, sizeof g);
    int rc = parse(json, &g, err, sizeof err);
    CHECK_EQ_INT(rc, PEL_EINVAL);
    CHECK(strstr(err, field) != NULL);
    if (rc != PEL_EINVAL || !strstr(err, field))
        fprintf(stderr, "  input %s\n  rc %d err '%s' (want '%s')\n", json, rc, err, field);
    CHECK(g.accounts == NULL && g.n_accounts == 0);   /* nothing to free on failure */
}

static void rejects_invalid_with_field_named(void)
{
    const char *a = addr_n(1), *b = addr_n(2);
    char badsum[PEL_ADDR_STR_LEN + 1];
    snprintf(badsum, sizeof badsum, "%s", a);
    badsum[20] = badsum[20] == '0' ? '1' : '0';          /* one hex digit changed */
    char longid[80];
    memset(longid, 'x', 65);
    longid[65] = 0;
    bad_case cases[] = {
        /* not JSON / not an object */
        { "", "not valid JSON" },
        { "{", "not valid JSON" },
        { "{\"chain_id\": }", "not valid JSON" },
        { "[]", "JSON object" },
        { "\"pel\"", "JSON object" },
        { "42", "JSON object" },
        /* chain_id */
        { "{\"accounts\":[]}", "chain_id" },
        { "{\"chain_id\":5,\"accounts\":[]}", "chain_id" },
        { "{\"chain_id\":\"\",\"accounts\":[]}", "chain_id" },
        { "{\"chain_id\":\"pel devnet\",\"accounts\":[]}", "chain_id" },
        { "{\"chain_id\":\"pel/devnet\",\"accounts\":[]}", "chain_id" },
        { "{\"chain_id\":\"p\\u00e9l\",\"accounts\":[]}", "chain_id" },
        { fmt("{\"chain_id\":\"%s\",\"accounts\":[]}", longid), "chain_id" },
        /* gas, time, min price */
        { "{\"chain_id\":\"c\",\"gas\":5,\"accounts\":[]}", "gas" },
        { "{\"chain_id\":\"c\",\"gas\":{\"base\":-1},\"accounts\":[]}", "base" },
        { "{\"chain_id\":\"c\",\"gas\":{\"per_byte\":1.5},\"accounts\":[]}", "per_byte" },
        { "{\"chain_id\":\"c\",\"genesis_time_ms\":\"soon\",\"accounts\":[]}", "genesis_time_ms" },
        { "{\"chain_id\":\"c\",\"min_gas_price\":true,\"accounts\":[]}", "min_gas_price" },
        /* accounts */
        { "{\"chain_id\":\"c\"}", "accounts" },
        { "{\"chain_id\":\"c\",\"accounts\":{}}", "accounts" },
        { "{\"chain_id\":\"c\",\"accounts\":[5]}", "accounts[0].address" },
        { "{\"chain_id\":\"c\",\"accounts\":[{\"balance\":\"1\"}]}", "accounts[0].address" },
        { fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%s\",\"balance\":\"1\"},"
              "{\"address\":\"%s\",\"balance\":\"1\"}]}", a, badsum), "accounts[1].address" },
        { fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%s\",\"balance\":\"1\"}]}", badsum),
          "checksum" },
        { fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%.51s\",\"balance\":\"1\"}]}", a),
          "accounts[0].address" },
        { fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%s\",\"balance\":\"1\"},"
              "{\"address\":\"%s\",\"balance\":\"2\"},{\"address\":\"%s\",\"balance\":\"3\"}]}",
              a, b, a), "accounts" },                                   /* duplicate */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_bad(cases[i].json, cases[i].field);
    /* the duplicate's message says what is wrong */
    check_bad(cases[sizeof cases / sizeof cases[0] - 1].json, "twice");

    /* balances that are not u64 decimals */
    static const char *bad_bal[] = {
        "\"-5\"", "-5", "1.5", "\"1.5\"", "\"\"", "\" 5\"", "\"5 \"", "\"+5\"", "\"0x10\"",
        "\"1e3\"", "\"18446744073709551616\"", "\"99999999999999999999\"", "\"184467440737095516150\"",
        "1e300", "-0.5", "null", "true", "[1]", "{}",
    };
    for (size_t i = 0; i < sizeof bad_bal / sizeof bad_bal[0]; i++)
        check_bad(fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%s\",\"balance\":\"1\"},"
                      "{\"address\":\"%s\",\"balance\":%s}]}", a, b, bad_bal[i]),
                  "accounts[1].balance");
    /* a missing balance */
    check_bad(fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%s\"}]}", a), "accounts[0].balance");

    /* supply: overflowing u64, and over 2^63-1 without overflowing */
    check_bad(fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%s\",\"balance\":\"18446744073709551615\"},"
                  "{\"address\":\"%s\",\"balance\":\"1\"}]}", a, b), "supply");
    check_bad(fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%s\",\"balance\":\"9223372036854775807\"},"
                  "{\"address\":\"%s\",\"balance\":\"1\"}]}", a, b), "supply");
    pel_genesis g;
    char err[200];
    CHECK_EQ_INT(parse(fmt("{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"%s\",\"balance\":"
                           "\"9223372036854775806\"},{\"address\":\"%s\",\"balance\":\"1\"}]}", a, b),
                       &g, err, sizeof err), 0);
    CHECK(g.supply == (uint64_t)INT64_MAX);
    pel_genesis_free(&g);
}

/* A message is written even into a tiny buffer (truncated, terminated),
 * and no buffer at all is allowed. */
static void error_buffer_sizes(void)
{
    pel_genesis g;
    char err[8];
    memset(err, 'X', sizeof err);
    CHECK_EQ_INT(parse("[]", &g, err, 5), PEL_EINVAL);
    CHECK(strlen(err) == 4 && err[5] == 'X');
    CHECK_EQ_INT(pel_genesis_parse("[]", 2, &g, NULL, 0), PEL_EINVAL);
    const char *ok = "{\"chain_id\":\"c\",\"accounts\":[]}";
    CHECK_EQ_INT(pel_genesis_parse(ok, strlen(ok), &g, NULL, 0), 0);
    pel_genesis_free(&g);
}

/* Only `len` bytes are read: a valid file followed by junk past len parses. */
static void reads_only_len_bytes(void)
{
    const char *s = "{\"chain_id\":\"c\",\"accounts\":[]}GARBAGE";
    pel_genesis g;
    char err[100];
    CHECK_EQ_INT(pel_genesis_parse(s, strlen(s) - 7, &g, err, sizeof err), 0);
    pel_genesis_free(&g);
    CHECK_EQ_INT(pel_genesis_parse(s, 10, &g, err, sizeof err), PEL_EINVAL);
}

/* ---- hash and round trip ---- */

static void hash_ignores_order_and_formatting(void)
{
    const char *a = addr_n(0x41), *b = addr_n(0x07), *c = addr_n(0xee);
    const char *texts[] = {
        fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":5,\"gas\":{\"base\":1000,\"per_byte\":10},"
            "\"min_gas_price\":1,\"accounts\":[{\"address\":\"%s\",\"balance\":\"10\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"}]}", a, b, c),
        /* other account order, other key order, whitespace, numbers for strings, defaults spelled out */
        fmt("  {\n\t\"accounts\" : [ {\"balance\": 30, \"address\": \"%s\"},\n"
            "   {\"address\":\"%s\",\"balance\":\"10\"} , {\"address\":\"%s\",\"balance\":20} ],\n"
            " \"min_gas_price\" : \"1\", \"genesis_time_ms\": \"5\", \"chain_id\" : \"pel-x\" }\n",
            c, a, b),
        /* upper-case hex digits are the same addresses */
        NULL,
    };
    char upper[3][PEL_ADDR_STR_LEN + 1];
    const char *src[3] = { a, b, c };
    for (int i = 0; i < 3; i++) {
        snprintf(upper[i], sizeof upper[i], "%s", src[i]);
        for (char *p = upper[i] + 4; *p; p++) if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
    }
    texts[2] = fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":5,\"accounts\":["
                   "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"},"
                   "{\"address\":\"%s\",\"balance\":\"10\"}]}", upper[1], upper[2], upper[0]);
    uint8_t first[32];
    for (int i = 0; i < 3; i++) {
        pel_genesis g;
        char err[200];
        CHECK_EQ_INT(parse(texts[i], &g, err, sizeof err), 0);
        if (i == 0) memcpy(first, g.hash, 32);
        else CHECK_MEM(g.hash, first, 32);
        CHECK(g.supply == 60);
        pel_genesis_free(&g);
    }
    /* and every field is in the hash */
    const char *changed[] = {
        fmt("{\"chain_id\":\"pel-y\",\"genesis_time_ms\":5,\"accounts\":[{\"address\":\"%s\",\"balance\":\"10\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"}]}", a, b, c),
        fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":6,\"accounts\":[{\"address\":\"%s\",\"balance\":\"10\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"}]}", a, b, c),
        fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":5,\"gas\":{\"base\":1001},\"accounts\":[{\"address\":\"%s\",\"balance\":\"10\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"}]}", a, b, c),
        fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":5,\"gas\":{\"per_byte\":11},\"accounts\":[{\"address\":\"%s\",\"balance\":\"10\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"}]}", a, b, c),
        fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":5,\"min_gas_price\":2,\"accounts\":[{\"address\":\"%s\",\"balance\":\"10\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"}]}", a, b, c),
        fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":5,\"accounts\":[{\"address\":\"%s\",\"balance\":\"11\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"}]}", a, b, c),
        fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":5,\"accounts\":[{\"address\":\"%s\",\"balance\":\"10\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"}]}", a, b),
        fmt("{\"chain_id\":\"pel-x\",\"genesis_time_ms\":5,\"accounts\":[{\"address\":\"%s\",\"balance\":\"10\"},"
            "{\"address\":\"%s\",\"balance\":\"20\"},{\"address\":\"%s\",\"balance\":\"30\"}]}", a, b, addr_n(0xef)),
    };
    for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
        pel_genesis g;
        char err[200];
        CHECK_EQ_INT(parse(changed[i], &g, err, sizeof err), 0);
        CHECK(memcmp(g.hash, first, 32) != 0);
        pel_genesis_free(&g);
    }
}

/* round_trip - to_json then parse gives the same parameters, accounts and
 * hash. */
static void round_trip(const pel_genesis *g)
{
    char *json = NULL;
    pel_genesis back;
    char err[200] = "";
    CHECK_EQ_INT(pel_genesis_to_json(g, &json), 0);
    if (!json) return;
    int rc = parse(json, &back, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    if (rc) { fprintf(stderr, "  %s\n  json: %s\n", err, json); free(json); return; }
    CHECK_MEM(back.hash, g->hash, 32);
    if (memcmp(back.hash, g->hash, 32)) fprintf(stderr, "  json: %s\n", json);
    CHECK(strcmp(back.params.chain_id, g->params.chain_id) == 0);
    CHECK(back.time_ms == g->time_ms && back.params.min_gas_price == g->params.min_gas_price);
    CHECK(back.params.gas.base == g->params.gas.base && back.params.gas.per_byte == g->params.gas.per_byte);
    CHECK(back.supply == g->supply);
    CHECK_EQ_INT(back.n_accounts, g->n_accounts);
    for (size_t i = 0; i < back.n_accounts && i < g->n_accounts; i++) {
        CHECK_MEM(back.accounts[i].addr.b, g->accounts[i].addr.b, PEL_ADDR_LEN);
        CHECK(back.accounts[i].balance == g->accounts[i].balance);
    }
    pel_genesis_free(&back);
    free(json);
}

static void to_json_parse_round_trip(void)
{
    pel_genesis g;
    char err[200];
    CHECK_EQ_INT(parse(fmt("{\"chain_id\":\"pel-rt\",\"genesis_time_ms\":1764100000000,"
                           "\"gas\":{\"base\":1234,\"per_byte\":0},\"min_gas_price\":0,\"accounts\":["
                           "{\"address\":\"%s\",\"balance\":\"9223372036854775000\"},"
                           "{\"address\":\"%s\",\"balance\":\"0\"},"
                           "{\"address\":\"%s\",\"balance\":\"807\"}]}",
                           addr_n(9), addr_n(3), addr_n(200)), &g, err, sizeof err), 0);
    round_trip(&g);
    pel_genesis_free(&g);
    CHECK_EQ_INT(parse("{\"chain_id\":\"e\",\"accounts\":[]}", &g, err, sizeof err), 0);
    round_trip(&g);
    pel_genesis_free(&g);
}

/* Builders fill the struct and call finish; to_json must write any u64
 * parameter so that parse reads it back (JSON numbers are doubles, exact
 * only up to 2^53). */
static void to_json_round_trips_large_parameters(void)
{
    static const uint64_t vals[] = { 999999999999999ull, 1000000000000000ull, 1234567890123457ull,
                                     (1ull << 53) - 1, 1ull << 53, (1ull << 53) + 1,
                                     (1ull << 53) + 2, UINT64_MAX };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        pel_genesis g;
        char err[200];
        memset(&g, 0, sizeof g);
        snprintf(g.params.chain_id, sizeof g.params.chain_id, "big");
        g.time_ms = vals[i];
        g.params.gas.base = vals[i];
        g.params.gas.per_byte = vals[i];
        g.params.min_gas_price = vals[i];
        CHECK_EQ_INT(pel_genesis_finish(&g, err, sizeof err), 0);
        round_trip(&g);
        pel_genesis_free(&g);
    }
}

/* ---- finish and writes ---- */

static void finish_validates_built_structs(void)
{
    pel_genesis g;
    char err[200];
    memset(&g, 0, sizeof g);
    snprintf(g.params.chain_id, sizeof g.params.chain_id, "bad id");
    CHECK_EQ_INT(pel_genesis_finish(&g, err, sizeof err), PEL_EINVAL);
    CHECK(strstr(err, "chain_id") != NULL);
    snprintf(g.params.chain_id, sizeof g.params.chain_id, "ok");
    g.accounts = calloc(3, sizeof *g.accounts);
    g.n_accounts = 3;
    memset(g.accounts[0].addr.b, 5, PEL_ADDR_LEN);
    memset(g.accounts[1].addr.b, 1, PEL_ADDR_LEN);
    memset(g.accounts[2].addr.b, 5, PEL_ADDR_LEN);
    CHECK_EQ_INT(pel_genesis_finish(&g, err, sizeof err), PEL_EINVAL);
    CHECK(strstr(err, "twice") != NULL);
    /* (the failed finish may have sorted them: set all three again) */
    static const uint8_t fill[3] = { 5, 1, 3 };
    for (int i = 0; i < 3; i++) {
        memset(g.accounts[i].addr.b, fill[i], PEL_ADDR_LEN);
        g.accounts[i].balance = fill[i];
    }
    CHECK_EQ_INT(pel_genesis_finish(&g, err, sizeof err), 0);
    CHECK(g.supply == 9);
    CHECK(g.accounts[0].addr.b[0] == 1 && g.accounts[1].addr.b[0] == 3 && g.accounts[2].addr.b[0] == 5);
    CHECK(g.accounts[0].balance == 1 && g.accounts[1].balance == 3 && g.accounts[2].balance == 5);
    uint8_t want[32];
    spec_hash("ok", 0, 0, 0, 0, g.accounts, 3, want);
    CHECK_MEM(g.hash, want, 32);
    pel_genesis_free(&g);
}

static void writes_are_the_balances_sorted_by_key(void)
{
    pel_genesis g;
    char err[200];
    CHECK_EQ_INT(parse(fmt("{\"chain_id\":\"w\",\"accounts\":[{\"address\":\"%s\",\"balance\":\"7\"},"
                           "{\"address\":\"%s\",\"balance\":\"0\"},{\"address\":\"%s\",\"balance\":\"65536\"}]}",
                           addr_n(1), addr_n(2), addr_n(3)), &g, err, sizeof err), 0);
    pel_writeset ws;
    uint8_t *vals = NULL;
    CHECK_EQ_INT(pel_genesis_writes(&g, &ws, &vals), 0);
    CHECK_EQ_INT(ws.n, 3);
    int found = 0;
    for (uint32_t i = 0; i < ws.n; i++) {
        if (i) CHECK(pel_key_cmp(&ws.w[i - 1].key, &ws.w[i].key) < 0);
        CHECK_EQ_INT(ws.w[i].kind, PEL_W_PUT);
        CHECK_EQ_INT(ws.w[i].val.len, 8);
        for (size_t a = 0; a < g.n_accounts; a++) {
            pel_key k;
            pel_key_balance(&g.accounts[a].addr, &k);
            if (pel_key_eq(&k, &ws.w[i].key) && pel_le_load(ws.w[i].val.p, 8) == g.accounts[a].balance)
                found++;
        }
    }
    CHECK_EQ_INT(found, 3);
    free(ws.w);
    free(vals);
    pel_genesis_free(&g);
}

/* ---- u64 parsing ---- */

static void parse_u64_strict_decimal(void)
{
    uint64_t v = 7;
    CHECK(pel_parse_u64("0", &v) == 0 && v == 0);
    CHECK(pel_parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX);
    CHECK(pel_parse_u64("00000000000000000001", &v) == 0 && v == 1);   /* 20 digits */
    static const char *bad[] = { "", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x1", "18446744073709551616",
                                 "000000000000000000001", "abc" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        CHECK_EQ_INT(pel_parse_u64(bad[i], &v), PEL_EINVAL);
        CHECK(v == 0);
    }
    CHECK_EQ_INT(pel_parse_u64(NULL, &v), PEL_EINVAL);
}

/* JSON numbers: exact integers that a double represents unambiguously.
 * 2^53 + 1 is not representable: its text rounds to 2^53, so 2^53 itself
 * may stand for either and must be refused, or a balance written as
 * 9007199254740993 silently becomes 9007199254740992. */
static void json_numbers_must_be_exact(void)
{
    static const struct { const char *text; int ok; uint64_t v; } cases[] = {
        { "0", 1, 0 }, { "42", 1, 42 }, { "1e3", 1, 1000 }, { "4.0", 1, 4 },
        { "9007199254740991", 1, 9007199254740991ull },
        { "9007199254740992", 0, 0 }, { "9007199254740993", 0, 0 },
        { "18446744073709551615", 0, 0 }, { "-1", 0, 0 }, { "0.5", 0, 0 }, { "-0", 1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pel_genesis g;
        char err[200];
        int rc = parse(fmt("{\"chain_id\":\"n\",\"accounts\":[{\"address\":\"%s\",\"balance\":%s}]}",
                           addr_n(1), cases[i].text), &g, err, sizeof err);
        CHECK_EQ_INT(rc, cases[i].ok ? 0 : PEL_EINVAL);
        if (rc != (cases[i].ok ? 0 : PEL_EINVAL)) fprintf(stderr, "  balance %s\n", cases[i].text);
        if (rc == 0) {
            CHECK(g.accounts[0].balance == cases[i].v);
            pel_genesis_free(&g);
        }
    }
}

int main(void)
{
    RUN(parses_a_full_file);
    RUN(defaults_apply);
    RUN(rejects_invalid_with_field_named);
    RUN(error_buffer_sizes);
    RUN(reads_only_len_bytes);
    RUN(hash_ignores_order_and_formatting);
    RUN(to_json_parse_round_trip);
    RUN(to_json_round_trips_large_parameters);
    RUN(finish_validates_built_structs);
    RUN(writes_are_the_balances_sorted_by_key);
    RUN(parse_u64_strict_decimal);
    RUN(json_numbers_must_be_exact);
    return TEST_END("test_genesis");
}
