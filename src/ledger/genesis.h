/*
 * genesis.h - the genesis file: chain parameters and the initial
 * allocation of the native token (genesis.json, written by `pel init`).
 *
 *   {
 *     "chain_id": "pel-devnet",
 *     "genesis_time_ms": 1764100000000,
 *     "gas": { "base": 1000, "per_byte": 10 },
 *     "min_gas_price": 1,
 *     "accounts": [ { "address": "pel1...", "balance": "1000000" }, ... ]
 *   }
 *
 * Balances are decimal strings (u64 does not fit a JSON double); numbers
 * that are exact integers are accepted too. Every address appears once;
 * the total supply must fit u64. The genesis hash is BLAKE2b-256 tagged
 * "PEL/genesis" over the canonical encoding of (chain_id, genesis_time_ms,
 * gas.base, gas.per_byte, min_gas_price, accounts sorted by address as
 * (raw20 address, u64 balance)), so formatting of the file does not matter.
 *
 * Thread safety: no shared state.
 */
#ifndef PEL_GENESIS_H
#define PEL_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "exec/state.h"
#include "ledger/ledger.h"

typedef struct pel_genesis_account {
    pel_addr addr;
    uint64_t balance;
} pel_genesis_account;

typedef struct pel_genesis {
    pel_chain_params params;
    uint64_t time_ms;
    pel_genesis_account *accounts;   /* malloc'd, sorted by address */
    size_t n_accounts;
    uint64_t supply;                 /* sum of balances */
    uint8_t hash[32];
} pel_genesis;

/* pel_genesis_parse - parse and validate; err gets a message naming the
 * offending field. @return 0, PEL_EINVAL, PEL_ENOMEM. */
int pel_genesis_parse(const char *json, size_t len, pel_genesis *out, char *err, size_t errlen)
    PEL_MUST_USE;

/* pel_genesis_to_json - a malloc'd, NUL-terminated, pretty JSON text. */
int pel_genesis_to_json(const pel_genesis *g, char **out) PEL_MUST_USE;

/* pel_genesis_finish - sort accounts, check duplicates, compute supply and
 * hash (parse calls it; builders call it after filling the struct).
 * @return 0, PEL_EINVAL (duplicate address, supply overflow, bad chain id). */
int pel_genesis_finish(pel_genesis *g, char *err, size_t errlen) PEL_MUST_USE;

/* pel_genesis_writes - the state writes of the allocation (balance keys),
 * sorted by key, values in `vals` (8 bytes per account). Caller frees
 * ws->w and *vals with free(). @return 0 or PEL_ENOMEM. */
int pel_genesis_writes(const pel_genesis *g, pel_writeset *ws, uint8_t **vals) PEL_MUST_USE;

void pel_genesis_free(pel_genesis *g);

/* pel_parse_u64 - a decimal u64 (no sign, no spaces, no leading '+'),
 * from a JSON string or an exact integer JSON number.
 * Used for every token amount in JSON. @return 0 or PEL_EINVAL. */
struct cJSON;
int pel_json_u64(const struct cJSON *item, uint64_t *out) PEL_MUST_USE;
int pel_parse_u64(const char *s, uint64_t *out) PEL_MUST_USE;

#endif
