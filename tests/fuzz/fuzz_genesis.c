/* fuzz_genesis.c - libFuzzer target for pel_genesis_parse (src/ledger/
 * genesis.c). Two inputs per run: the data as a whole file, and the data
 * (data[0] picks the slot) dropped as a raw JSON value into one field of a
 * valid genesis, so that mutations reach the value checks. Parsing must
 * not crash or leak; on failure the message is set and nothing is left
 * allocated; what parses must have a sane supply and round-trip through
 * pel_genesis_to_json to the same hash and values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/genesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *json, size_t len)
{
    pel_genesis g, back;
    char err[256];
    int rc = pel_genesis_parse(json, len, &g, err, sizeof err);
    if (rc) {
        if (rc != PEL_EINVAL && rc != PEL_ENOMEM) abort();
        if (g.accounts || g.n_accounts) abort();
        if (rc == PEL_EINVAL && err[0] == 0) abort();      /* a message names the problem */
        return;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < g.n_accounts; i++) {
        if (i && memcmp(g.accounts[i - 1].addr.b, g.accounts[i].addr.b, PEL_ADDR_LEN) >= 0) abort();
        sum += g.accounts[i].balance;
    }
    if (sum != g.supply || g.supply > INT64_MAX) abort();
    char *out = NULL;
    if (pel_genesis_to_json(&g, &out) != 0) abort();
    if (pel_genesis_parse(out, strlen(out), &back, err, sizeof err) != 0) abort();
    if (memcmp(back.hash, g.hash, 32) != 0 || back.n_accounts != g.n_accounts ||
        back.time_ms != g.time_ms || back.params.gas.base != g.params.gas.base ||
        back.params.gas.per_byte != g.params.gas.per_byte ||
        back.params.min_gas_price != g.params.min_gas_price ||
        strcmp(back.params.chain_id, g.params.chain_id) != 0)
        abort();
    free(out);
    pel_genesis_free(&back);
    pel_genesis_free(&g);
}

/* A valid genesis with one slot left for a raw JSON value. */
static const char *const templates[] = {
    "{\"chain_id\":%s,\"accounts\":[]}",
    "{\"chain_id\":\"c\",\"genesis_time_ms\":%s,\"accounts\":[]}",
    "{\"chain_id\":\"c\",\"gas\":{\"base\":%s,\"per_byte\":1},\"accounts\":[]}",
    "{\"chain_id\":\"c\",\"gas\":%s,\"accounts\":[]}",
    "{\"chain_id\":\"c\",\"min_gas_price\":%s,\"accounts\":[]}",
    "{\"chain_id\":\"c\",\"accounts\":%s}",
    "{\"chain_id\":\"c\",\"accounts\":[{\"address\":%s,\"balance\":\"1\"}]}",
    "{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"pel10101010101010101010101010101010101010101"
    "9a8a0038\",\"balance\":%s}]}",
    "{\"chain_id\":\"c\",\"accounts\":[{\"address\":\"pel10101010101010101010101010101010101010101"
    "9a8a0038\",\"balance\":\"9223372036854775000\"},%s]}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[8192];
    if (size > 4096) return 0;
    check((const char *)data, size);
    if (size < 1) return 0;
    const char *t = templates[data[0] % (sizeof templates / sizeof templates[0])];
    const char *slot = strstr(t, "%s");
    size_t pre = (size_t)(slot - t), post = strlen(slot + 2);
    memcpy(buf, t, pre);
    memcpy(buf + pre, data + 1, size - 1);
    memcpy(buf + pre + size - 1, slot + 2, post);
    check(buf, pre + size - 1 + post);
    return 0;
}
