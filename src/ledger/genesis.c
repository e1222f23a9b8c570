/*
 * genesis.c - parse, validate and write genesis.json (format in genesis.h).
 */
#include "ledger/genesis.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/hash.h"

int pel_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    if (!s || !*s || strlen(s) > 20) return PEL_EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return PEL_EINVAL;
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return PEL_EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 0;
}

int pel_json_u64(const cJSON *item, uint64_t *out)
{
    *out = 0;
    if (cJSON_IsString(item)) return pel_parse_u64(item->valuestring, out);
    if (!cJSON_IsNumber(item)) return PEL_EINVAL;
    double d = item->valuedouble;
    /* below 2^53: the text "9007199254740993" also reads as 2^53 */
    if (!(d >= 0 && d < 9007199254740992.0) || d != (double)(uint64_t)d) return PEL_EINVAL;
    *out = (uint64_t)d;
    return 0;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    if (errlen) snprintf(err, errlen, "%s", msg);
    return PEL_EINVAL;
}

static int cmp_acct(const void *a, const void *b)
{
    return memcmp(((const pel_genesis_account *)a)->addr.b,
                  ((const pel_genesis_account *)b)->addr.b, PEL_ADDR_LEN);
}

static int genesis_hash(const pel_genesis *g)
{
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_enc_bytes(&b, g->params.chain_id, strlen(g->params.chain_id));
    if (!rc) rc = pel_enc_u64(&b, g->time_ms);
    if (!rc) rc = pel_enc_u64(&b, g->params.gas.base);
    if (!rc) rc = pel_enc_u64(&b, g->params.gas.per_byte);
    if (!rc) rc = pel_enc_u64(&b, g->params.min_gas_price);
    if (!rc) rc = pel_enc_u32(&b, (uint32_t)g->n_accounts);
    for (size_t i = 0; !rc && i < g->n_accounts; i++) {
        rc = pel_enc_raw(&b, g->accounts[i].addr.b, PEL_ADDR_LEN);
        if (!rc) rc = pel_enc_u64(&b, g->accounts[i].balance);
    }
    if (!rc) rc = pel_hash_tagged("PEL/genesis", b.data, b.len, (uint8_t *)g->hash);
    pel_buf_free(&b);
    return rc;
}

static int chain_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > PEL_CHAIN_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

int pel_genesis_finish(pel_genesis *g, char *err, size_t errlen)
{
    if (!chain_id_ok(g->params.chain_id))
        return fail(err, errlen, "chain_id must be 1-64 characters of [A-Za-z0-9._-]");
    if (g->n_accounts) qsort(g->accounts, g->n_accounts, sizeof *g->accounts, cmp_acct);
    g->supply = 0;
    for (size_t i = 0; i < g->n_accounts; i++) {
        if (i && memcmp(g->accounts[i].addr.b, g->accounts[i - 1].addr.b, PEL_ADDR_LEN) == 0)
            return fail(err, errlen, "an address appears twice in accounts");
        if (__builtin_add_overflow(g->supply, g->accounts[i].balance, &g->supply))
            return fail(err, errlen, "total supply overflows 64 bits");
    }
    if (g->supply > INT64_MAX) return fail(err, errlen, "total supply over 2^63-1");
    return genesis_hash(g);
}

static int parse_accounts(const cJSON *arr, pel_genesis *g, char *err, size_t errlen)
{
    if (!cJSON_IsArray(arr)) return fail(err, errlen, "accounts must be an array");
    int n = cJSON_GetArraySize(arr);
    g->accounts = calloc(n ? (size_t)n : 1, sizeof *g->accounts);
    if (!g->accounts) return PEL_ENOMEM;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        pel_genesis_account *a = &g->accounts[g->n_accounts];
        const cJSON *addr = cJSON_GetObjectItemCaseSensitive(it, "address");
        const char *why = NULL;
        if (!cJSON_IsString(addr) || pel_addr_parse(addr->valuestring, &a->addr, &why)) {
            if (errlen) snprintf(err, errlen, "accounts[%zu].address: %s", g->n_accounts,
                                 why ? why : "missing");
            return PEL_EINVAL;
        }
        if (pel_json_u64(cJSON_GetObjectItemCaseSensitive(it, "balance"), &a->balance)) {
            if (errlen) snprintf(err, errlen, "accounts[%zu].balance: not a u64 decimal", g->n_accounts);
            return PEL_EINVAL;
        }
        g->n_accounts++;
    }
    return 0;
}

static int get_u64_field(const cJSON *o, const char *name, uint64_t dflt, uint64_t *out,
                         char *err, size_t errlen)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!it) { *out = dflt; return 0; }
    if (pel_json_u64(it, out) == 0) return 0;
    if (errlen) snprintf(err, errlen, "%s: not a u64", name);
    return PEL_EINVAL;
}

static int parse_obj(const cJSON *root, pel_genesis *g, char *err, size_t errlen)
{
    if (!cJSON_IsObject(root)) return fail(err, errlen, "genesis must be a JSON object");
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(root, "chain_id");
    if (!cJSON_IsString(cid) || strlen(cid->valuestring) > PEL_CHAIN_ID_MAX)
        return fail(err, errlen, "chain_id: missing or longer than 64");
    snprintf(g->params.chain_id, sizeof g->params.chain_id, "%s", cid->valuestring);
    pel_gas_schedule d = pel_gas_defaults();
    const cJSON *gas = cJSON_GetObjectItemCaseSensitive(root, "gas");
    if (gas && !cJSON_IsObject(gas)) return fail(err, errlen, "gas must be an object");
    int rc = get_u64_field(root, "genesis_time_ms", 0, &g->time_ms, err, errlen);
    if (!rc) rc = get_u64_field(gas, "base", d.base, &g->params.gas.base, err, errlen);
    if (!rc) rc = get_u64_field(gas, "per_byte", d.per_byte, &g->params.gas.per_byte, err, errlen);
    if (!rc) rc = get_u64_field(root, "min_gas_price", 1, &g->params.min_gas_price, err, errlen);
    if (!rc) rc = parse_accounts(cJSON_GetObjectItemCaseSensitive(root, "accounts"), g, err, errlen);
    return rc;
}

int pel_genesis_parse(const char *json, size_t len, pel_genesis *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen) err[0] = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) return fail(err, errlen, "not valid JSON");
    while (end && (size_t)(end - json) < len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (!end || (size_t)(end - json) < len) {
        cJSON_Delete(root);
        return fail(err, errlen, "text after the JSON object");
    }
    int rc = parse_obj(root, out, err, errlen);
    cJSON_Delete(root);
    if (!rc) rc = pel_genesis_finish(out, err, errlen);
    if (rc) pel_genesis_free(out);
    return rc;
}

static cJSON *u64_string(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return cJSON_CreateString(s);
}

/* A u64 parameter: a JSON number while cJSON prints it exactly (it prints
 * 15 significant digits when they compare close enough), else a decimal
 * string, so that pel_json_u64 always reads back the same value. */
static cJSON *u64_json(uint64_t v)
{
    return v < 1000000000000000ull ? cJSON_CreateNumber((double)v) : u64_string(v);
}

int pel_genesis_to_json(const pel_genesis *g, char **out)
{
    *out = NULL;
    cJSON *root = cJSON_CreateObject(), *gas = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    int ok = root && gas && arr;
    if (ok) {
        cJSON_AddItemToObject(root, "chain_id", cJSON_CreateString(g->params.chain_id));
        cJSON_AddItemToObject(root, "genesis_time_ms", u64_json(g->time_ms));
        cJSON_AddItemToObject(gas, "base", u64_json(g->params.gas.base));
        cJSON_AddItemToObject(gas, "per_byte", u64_json(g->params.gas.per_byte));
        cJSON_AddItemToObject(root, "gas", gas); gas = NULL;
        cJSON_AddItemToObject(root, "min_gas_price", u64_json(g->params.min_gas_price));
        for (size_t i = 0; i < g->n_accounts; i++) {
            char a[PEL_ADDR_STR_LEN + 1];
            cJSON *o = cJSON_CreateObject();
            if (!o) { ok = 0; break; }
            pel_addr_format(&g->accounts[i].addr, a);
            cJSON_AddItemToObject(o, "address", cJSON_CreateString(a));
            cJSON_AddItemToObject(o, "balance", u64_string(g->accounts[i].balance));
            cJSON_AddItemToArray(arr, o);
        }
        cJSON_AddItemToObject(root, "accounts", arr); arr = NULL;
    }
    if (ok) *out = cJSON_Print(root);
    cJSON_Delete(root); cJSON_Delete(gas); cJSON_Delete(arr);
    return *out ? 0 : PEL_ENOMEM;
}

static int cmp_write(const void *a, const void *b)
{
    return pel_key_cmp(&((const pel_write *)a)->key, &((const pel_write *)b)->key);
}

int pel_genesis_writes(const pel_genesis *g, pel_writeset *ws, uint8_t **vals)
{
    size_t n = g->n_accounts;
    ws->w = calloc(n ? n : 1, sizeof *ws->w);
    *vals = malloc(n ? n * 8 : 1);
    if (!ws->w || !*vals) { free(ws->w); free(*vals); ws->w = NULL; *vals = NULL; return PEL_ENOMEM; }
    for (size_t i = 0; i < n; i++) {
        pel_key_balance(&g->accounts[i].addr, &ws->w[i].key);
        ws->w[i].kind = PEL_W_PUT;
        pel_le_store(*vals + 8 * i, g->accounts[i].balance, 8);
        ws->w[i].val.p = *vals + 8 * i;
        ws->w[i].val.len = 8;
    }
    ws->n = (uint32_t)n;
    qsort(ws->w, n, sizeof *ws->w, cmp_write);
    return 0;
}

void pel_genesis_free(pel_genesis *g)
{
    free(g->accounts);
    g->accounts = NULL;
    g->n_accounts = 0;
}
