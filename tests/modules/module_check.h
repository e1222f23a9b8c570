/*
 * module_check.h - what the module tests share: test accounts, signing a
 * module transaction, and running a block on the sequential, Block-STM and
 * declared engines with the chain's module table, requiring identical
 * results. Define CHAIN before including.
 */
#ifndef PEL_MODULE_CHECK_H
#define PEL_MODULE_CHECK_H

#include "exec/engine_check.h"
#include "ledger/ledger.h"
#include "modules/modules.h"
#include "modules/registry.h"
#include "test.h"

static pel_chain_params P;

typedef struct acct { uint8_t pk[32], sk[64]; pel_addr addr; uint64_t nonce; } acct;

static void acct_make(acct *a, uint8_t s)
{
    uint8_t seed[32];
    memset(seed, s, sizeof seed);
    CHECK_EQ_INT(pel_sign_seed_keypair(a->pk, a->sk, seed), 0);
    pel_addr_from_pubkey(a->pk, &a->addr);
    a->nonce = 0;
}

typedef struct txbox { uint8_t *raw; pel_tx tx; } txbox;

static void sign_tx(acct *a, uint16_t type, const pel_buf *body, txbox *out)
{
    pel_tx tx;
    pel_buf b;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = (const uint8_t *)CHAIN;
    tx.chain_id_len = (uint32_t)strlen(CHAIN);
    tx.nonce = a->nonce++;
    tx.gas_limit = 200000;
    tx.gas_price = 1;
    tx.type = type;
    tx.body = body->data;
    tx.body_len = (uint32_t)body->len;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_tx_sign(&tx, a->sk, &b), 0);
    out->raw = malloc(b.len);
    memcpy(out->raw, b.data, b.len);
    CHECK_EQ_INT(pel_tx_decode(out->raw, b.len, &out->tx), 0);
    pel_buf_free(&b);
}

static pel_engine *engines[4];
static const char *engine_names[4] = { "sequential", "blockstm/2", "blockstm/4", "declared/2" };

/* Run one block on every engine; results must be identical; the
 * sequential one is applied to ms and returned. */
static void run_block(pel_memstate *ms, uint64_t height, txbox *t, uint32_t n, pel_block_result *r)
{
    pel_txdesc d[64];
    pel_ledger_ctx ctx = { &P, height, 1700000000000ull + height * 1000 };
    pel_executor ex = pel_ledger_executor(&ctx);
    pel_state st = pel_memstate_reader(ms);
    for (uint32_t i = 0; i < n; i++) { d[i].tx = &t[i].tx; d[i].access = NULL; }
    CHECK_EQ_INT(run_engine(engines[0], &st, d, n, &ex, r), 0);
    for (int e = 1; e < 4; e++) {
        pel_block_result o;
        CHECK_EQ_INT(run_engine(engines[e], &st, d, n, &ex, &o), 0);
        CHECK(result_eq(r, &o, engine_names[e]));
        pel_block_result_free(&o);
    }
    CHECK_EQ_INT(pel_memstate_apply(ms, &r->block_writes), 0);
}

static void fund(pel_memstate *ms, const acct *a)
{
    pel_key k;
    uint8_t v[8];
    pel_key_balance(&a->addr, &k);
    pel_le_store(v, 1000000000ull, 8);
    CHECK_EQ_INT(pel_memstate_put(ms, &k, v, 8), 0);
}

/* mc_balance - an account's balance in ms (0 when absent). */
static inline uint64_t mc_balance(pel_memstate *ms, const pel_addr *a)
{
    pel_state st = pel_memstate_reader(ms);
    pel_key k;
    uint64_t b;
    pel_key_balance(a, &k);
    return pel_state_get_counter(&st, &k, &b) ? 0 : b;
}

/* One transaction in its own block; its receipt status, and (if non-NULL)
 * its id and gas. */
static inline int run1_tx(pel_memstate *ms, uint64_t h, acct *a, uint16_t type, const pel_buf *body,
                          uint8_t txid[32], uint64_t *gas)
{
    txbox t;
    pel_block_result r;
    sign_tx(a, type, body, &t);
    run_block(ms, h, &t, 1, &r);
    int st = r.receipts[0].status;
    CHECK(r.receipts[0].gas_used > 0);                 /* executed: pays gas */
    if (txid) memcpy(txid, t.tx.id, 32);
    if (gas) *gas = r.receipts[0].gas_used;
    pel_block_result_free(&r);
    free(t.raw);
    return st;
}

/* One transaction in its own block; its receipt status and (if non-NULL)
 * the object id a registration in it gets. */
static int run1(pel_memstate *ms, uint64_t h, acct *a, uint16_t type, const pel_buf *body,
                pel_obj_id *id_out)
{
    uint8_t txid[32];
    int st = run1_tx(ms, h, a, type, body, txid, NULL);
    if (id_out) pel_obj_id_of(txid, id_out);
    return st;
}

/* mc_register - `who` registers an article with digest seed*32 (and, if
 * contrib is given, that contributor) at height h; its id in *id. */
static inline void mc_register(pel_memstate *ms, uint64_t h, acct *who, uint8_t seed,
                        const pel_addr *contrib, pel_obj_id *id)
{
    pel_obj_fields f;
    uint8_t dg[32];
    pel_buf b;
    memset(&f, 0, sizeof f);
    memset(dg, seed, 32);
    f.kind = PEL_OBJ_ARTICLE;
    f.title = (const uint8_t *)"An article";
    f.title_len = 10;
    f.n_digests = 1;
    f.digests = dg;
    f.license = (const uint8_t *)"CC-BY-4.0";
    f.license_len = 9;
    if (contrib) { f.n_contrib = 1; f.contrib[0].addr = *contrib; f.contrib[0].roles = 1; }
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_obj_fields_encode(&f, &b), 0);
    CHECK_EQ_INT(run1(ms, h, who, PEL_TX_OBJ_REGISTER, &b, id), 0);
    pel_buf_free(&b);
}

static int mc_setup(void)
{
    memset(&P, 0, sizeof P);
    snprintf(P.chain_id, sizeof P.chain_id, "%s", CHAIN);
    P.gas = pel_gas_defaults();
    P.min_gas_price = 1;
    P.modules = pel_modules_table();
    pel_engine_opts o[4] = {
        pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1), pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 2),
        pel_engine_defaults(PEL_ENGINE_BLOCKSTM, 4), pel_engine_defaults(PEL_ENGINE_DECLARED, 2)
    };
    for (int i = 0; i < 4; i++) if (pel_engine_new(&o[i], &engines[i])) return 1;
    return 0;
}

static void mc_teardown(void)
{
    for (int i = 0; i < 4; i++) pel_engine_free(engines[i]);
}

#endif
