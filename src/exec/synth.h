/*
 * synth.h - the synthetic workload: transaction kinds for engine tests and
 * benchmarks, and generators of random blocks.
 *
 * The native peer-to-peer transfer (read two balances, check funds, write
 * both, pay the fee into the fee pool with delta_add) is what the Block-STM
 * paper benchmarks; the other kinds exist to stress the engines: read-only,
 * read-modify-write on N keys, failing (charged) transactions, one hot key,
 * very long transactions, bounded counter additions, deletions, and
 * transactions that touch a key they did not declare. Real signed
 * transactions (src/ledger) plug into the same pel_executor interface.
 */
#ifndef PEL_SYNTH_H
#define PEL_SYNTH_H

#include <stdint.h>
#include "core/arena.h"
#include "exec/engine.h"

enum pel_synth_kind {
    SYN_TRANSFER = 0, SYN_READONLY, SYN_RMW, SYN_FAIL, SYN_HOTKEY,
    SYN_LONG, SYN_DELTA, SYN_DELETE, SYN_UNDECLARED, SYN_NKINDS
};

#define PEL_SYNTH_MAXKEYS 8

typedef struct pel_synth_tx {
    uint8_t kind;
    uint8_t nkeys;
    uint8_t read_counter;      /* SYN_DELTA: also read the counter's value */
    uint32_t from, to;         /* account indices */
    uint64_t amount, fee;
    uint32_t keys[PEL_SYNTH_MAXKEYS];   /* generic key indices */
    int64_t delta;
    uint64_t bound;
    uint32_t loops;            /* SYN_LONG, SYN_TRANSFER: work iterations */
    uint32_t salt;             /* makes written values distinct */
} pel_synth_tx;

/* The key space: account balances, generic keys, the fee pool, one hot key. */
typedef struct pel_synth {
    uint32_t n_accounts, n_keys;
    pel_key *acct, *keys;
    pel_key fee_pool, hot;
    uint32_t transfer_work;   /* extra work loops per generated transfer (bench) */
    uint32_t hot_pct;         /* % of generated transfers paying account 0 (0..100) */
    uint8_t credit;           /* how transfers move money: pel_synth_credit */
} pel_synth;

/* How a transfer credits: the recipient read and written with the fee as
 * a delta into the pool (the Block-STM paper's transfer, the default); the
 * recipient credited with a delta too (a popular recipient does not
 * serialise the block); or no delta counters at all (the fee pool read and
 * written too: every transfer conflicts with every other). */
enum pel_synth_credit { PEL_SYNTH_CREDIT_RMW = 0, PEL_SYNTH_CREDIT_DELTA, PEL_SYNTH_NO_DELTA };

/* A small deterministic PRNG (splitmix64): same seed, same blocks. */
typedef struct pel_rng { uint64_t s; } pel_rng;
static inline uint64_t pel_rng_next(pel_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static inline uint32_t pel_rng_below(pel_rng *r, uint32_t n)
{
    return n ? (uint32_t)(pel_rng_next(r) % n) : 0;
}

/* pel_synth_init - derive the keys (BLAKE2b "PEL/synth-*"). >= 1 of each.
 * @return 0, PEL_EINVAL, PEL_ENOMEM. Free with pel_synth_free. */
int pel_synth_init(pel_synth *s, uint32_t n_accounts, uint32_t n_keys) PEL_MUST_USE;
void pel_synth_free(pel_synth *s);

/* pel_synth_genesis - every account gets `balance`; if rng is non-NULL,
 * balances vary (some too small to pay) and generic keys get random values
 * (some 8-byte counters, some not, some absent). */
int pel_synth_genesis(const pel_synth *s, pel_memstate *ms, uint64_t balance, pel_rng *rng) PEL_MUST_USE;

/* pel_synth_executor - the executor for pel_synth_tx transactions. */
pel_executor pel_synth_executor(const pel_synth *s);

/* Block shapes. */
typedef struct pel_synth_mix {
    uint32_t weight[SYN_NKINDS];   /* relative frequency of each kind */
    uint32_t declare_pct;          /* % of txs carrying an access list */
    uint32_t max_loops;            /* SYN_LONG */
} pel_synth_mix;

/* pel_synth_transfers - n transfers between random distinct accounts
 * (any two when there is only one account), each with an access list if
 * `declare`. Arrays come from `a`. */
int pel_synth_transfers(const pel_synth *s, pel_rng *rng, uint32_t n, int declare,
                        pel_arena *a, pel_synth_tx **txs, pel_txdesc **descs) PEL_MUST_USE;

/* pel_synth_block - n random transactions drawn from `mix`. */
int pel_synth_block(const pel_synth *s, pel_rng *rng, uint32_t n, const pel_synth_mix *mix,
                    pel_arena *a, pel_synth_tx **txs, pel_txdesc **descs) PEL_MUST_USE;

#endif
