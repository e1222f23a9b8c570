/*
 * test_ledger.c - the ledger executor (src/ledger/ledger.c) run through the
 * engines on signed transactions.
 *
 * Unit tests pin the exact semantics of ledger.h on a small world (A rich,
 * B poor, C empty): success (balances, nonce, fee into the pool, gas =
 * intrinsic + body view gas, the transfer event bytes), each void case
 * (state untouched, gas 0, nonce not consumed), a failing body (fee paid,
 * nonce consumed, no amount moved), out of gas, several transactions of one
 * sender, self-transfers, and the admission prechecks. Every block in them
 * runs on every engine and the results must be byte-identical.
 *
 * The property test runs chains of random blocks on the sequential,
 * Block-STM and declared engines, each engine with its own replica of the
 * state, and checks after every block: byte-identical results and replica
 * digests, exact agreement of every receipt and every balance and nonce
 * with a reference model written here from ledger.h, and conservation of
 * the total supply. Seed: printed on start; replay with PEL_TEST_SEED;
 * PEL_TEST_ITERS sets the number of blocks (default 50).
 */
#include <time.h>

#include "core/codec.h"
#include "core/hash.h"
#include "exec/engine_check.h"
#include "ledger/ledger.h"
#include "test.h"

#define CHAIN "pel-test"
#define EVENT_LEN (1 + 2 * PEL_ADDR_LEN + 8)
/* A successful transfer's body: two deltas and one event (view.h table). */
#define TRANSFER_GAS (2 * PEL_GAS_DELTA + PEL_GAS_EVENT + EVENT_LEN * PEL_GAS_PER_BYTE)

static pel_chain_params g_params;

/* ---- engines ---- */

typedef struct config { const char *name; pel_engine *e; } config;
static config configs[8];
static int nconfigs;

static void add_engine(pel_engine_kind k, unsigned threads, unsigned wave_min, int no_fallback,
                       const char *name)
{
    pel_engine_opts o = pel_engine_defaults(k, threads);
    if (wave_min) o.wave_min_parallel = wave_min;
    if (no_fallback) o.storm_min = o.storm_ratio = 0;
    configs[nconfigs].name = name;
    CHECK(pel_engine_new(&o, &configs[nconfigs].e) == 0);
    nconfigs++;
}

/* configs[0] is the sequential reference. */
static void setup_engines(void)
{
    add_engine(PEL_ENGINE_SEQUENTIAL, 1, 0, 0, "sequential");
    add_engine(PEL_ENGINE_BLOCKSTM, 1, 0, 1, "blockstm/1");
    add_engine(PEL_ENGINE_BLOCKSTM, 2, 0, 1, "blockstm/2");
    add_engine(PEL_ENGINE_BLOCKSTM, 4, 0, 1, "blockstm/4");
    add_engine(PEL_ENGINE_BLOCKSTM, 4, 0, 0, "blockstm/4+fallback");
    add_engine(PEL_ENGINE_DECLARED, 1, 0, 0, "declared/1");
    add_engine(PEL_ENGINE_DECLARED, 4, 2, 0, "declared/4");
}

static void free_engines(void)
{
    for (int i = 0; i < nconfigs; i++) pel_engine_free(configs[i].e);
}

/* ---- accounts, keys and state ---- */

typedef struct acct {
    uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN];
    pel_addr addr;
} acct;

static void acct_from_seed(acct *a, uint64_t s)
{
    uint8_t seed[PEL_SEED_LEN];
    for (int i = 0; i < PEL_SEED_LEN; i++) seed[i] = (uint8_t)(s >> (8 * (i % 8))) ^ (uint8_t)i;
    CHECK(pel_sign_seed_keypair(a->pk, a->sk, seed) == 0);
    pel_addr_from_pubkey(a->pk, &a->addr);
}

static void put_u64(pel_memstate *ms, const pel_key *k, uint64_t v)
{
    uint8_t b[8];
    pel_le_store(b, v, 8);
    CHECK(pel_memstate_put(ms, k, b, 8) == 0);
}

/* get_u64 - a u64 value; absent is 0 and sets *present = 0. */
static uint64_t get_u64(const pel_memstate *ms, const pel_key *k, int *present)
{
    pel_state st = pel_memstate_reader(ms);
    pel_val v;
    int rc = pel_state_get(&st, k, &v);
    if (present) *present = rc == 0;
    if (rc) return 0;
    CHECK_EQ_INT(v.len, 8);
    return v.len == 8 ? pel_le_load(v.p, 8) : 0;
}

static void set_balance(pel_memstate *ms, const pel_addr *a, uint64_t v)
{
    pel_key k;
    pel_key_balance(a, &k);
    put_u64(ms, &k, v);
}

static uint64_t balance(const pel_memstate *ms, const pel_addr *a)
{
    pel_key k;
    pel_key_balance(a, &k);
    return get_u64(ms, &k, NULL);
}

static uint64_t nonce_of(const pel_memstate *ms, const pel_addr *a)
{
    pel_key k;
    pel_key_nonce(a, &k);
    return get_u64(ms, &k, NULL);
}

static uint64_t pool(const pel_memstate *ms)
{
    pel_key k;
    pel_key_fee_pool(&k);
    return get_u64(ms, &k, NULL);
}

/* ---- building signed transactions ---- */

typedef struct txspec {
    const char *chain;      /* NULL: CHAIN */
    uint64_t nonce, gas_limit, gas_price, expiry;
    uint16_t type;          /* 0: PEL_TX_TRANSFER */
    int body_len;           /* 0: a well-formed transfer body */
    pel_addr to;
    uint64_t amount;
    int declare;            /* carry the (correct) access list */
} txspec;

/* A decoded transaction and the bytes it points into. */
typedef struct txbox { uint8_t *raw; pel_tx tx; } txbox;

static void sort_unique(pel_key *k, uint32_t *n)
{
    for (uint32_t i = 1; i < *n; i++)
        for (uint32_t j = i; j > 0 && pel_key_cmp(&k[j - 1], &k[j]) > 0; j--) {
            pel_key t = k[j]; k[j] = k[j - 1]; k[j - 1] = t;
        }
    uint32_t m = 0;
    for (uint32_t i = 0; i < *n; i++)
        if (m == 0 || !pel_key_eq(&k[m - 1], &k[i])) k[m++] = k[i];
    *n = m;
}

/* tx_size - the signed size of a transaction, from the format in tx.h. */
static uint32_t tx_size(size_t chain_len, uint32_t body_len, int declare, uint32_t n_keys)
{
    uint32_t s = 4 + (uint32_t)chain_len + 32 + 4 * 8 + 2 + 4 + body_len + 1 + PEL_SIG_LEN;
    return declare ? s + 12 + 32 * n_keys : s;
}

static uint32_t spec_body_len(const txspec *t)
{
    return t->body_len ? (uint32_t)t->body_len : PEL_TRANSFER_BODY_LEN;
}

static int spec_well_formed(const txspec *t)
{
    return (t->type == 0 || t->type == PEL_TX_TRANSFER) && spec_body_len(t) == PEL_TRANSFER_BODY_LEN;
}

/* The access list the ledger needs: the nonce (read and written), then
 * deltas on the sender's and recipient's balances and the fee pool. */
static uint32_t access_keys(const acct *from, const txspec *t, pel_key *w, pel_key *d)
{
    uint32_t nd = 0;
    pel_key_nonce(&from->addr, &w[0]);
    pel_key_balance(&from->addr, &d[nd++]);
    pel_key_fee_pool(&d[nd++]);
    if (spec_well_formed(t)) pel_key_balance(&t->to, &d[nd++]);
    sort_unique(d, &nd);
    return nd;
}

static uint32_t spec_size(const acct *from, const txspec *t)
{
    pel_key w[1], d[3];
    uint32_t nd = access_keys(from, t, w, d);
    return tx_size(strlen(t->chain ? t->chain : CHAIN), spec_body_len(t), t->declare, 1 + nd);
}

/* build_tx - sign the transaction, copy it to its own buffer and decode it
 * from there, as the node does with what it receives. */
static void build_tx(const acct *from, const txspec *t, txbox *out)
{
    uint8_t body[PEL_TRANSFER_BODY_LEN + 8];
    pel_key w[1], d[3];
    pel_tx tx;
    pel_buf b;
    memset(body, 0x77, sizeof body);
    pel_transfer_body(&t->to, t->amount, body);
    memset(&tx, 0, sizeof tx);
    tx.chain_id = (const uint8_t *)(t->chain ? t->chain : CHAIN);
    tx.chain_id_len = (uint32_t)strlen((const char *)tx.chain_id);
    tx.nonce = t->nonce;
    tx.gas_limit = t->gas_limit;
    tx.gas_price = t->gas_price;
    tx.expiry_height = t->expiry;
    tx.type = t->type ? t->type : PEL_TX_TRANSFER;
    tx.body = body;
    tx.body_len = spec_body_len(t);
    if (t->declare) {
        uint32_t nd = access_keys(from, t, w, d);
        tx.has_access = 1;
        tx.access.writes = w; tx.access.n_writes = 1;
        tx.access.deltas = d; tx.access.n_deltas = nd;
    }
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_tx_sign(&tx, from->sk, &b), 0);
    CHECK_EQ_INT(b.len, spec_size(from, t));
    out->raw = malloc(b.len ? b.len : 1);
    if (!out->raw) abort();
    memcpy(out->raw, b.data, b.len);
    CHECK_EQ_INT(pel_tx_decode(out->raw, b.len, &out->tx), 0);
    pel_buf_free(&b);
}

static uint64_t intrinsic(uint32_t size)
{
    return g_params.gas.base + g_params.gas.per_byte * size;
}

/* ---- running blocks ---- */

/*
 * exec_all - run the block on every engine against ms; the results must be
 * byte-identical to the sequential one, which is returned in *r (caller
 * frees). The block's writes are then applied to ms.
 */
static void exec_all(pel_memstate *ms, uint64_t height, txbox *txs, uint32_t n, pel_block_result *r)
{
    pel_txdesc *d = calloc(n ? n : 1, sizeof *d);
    pel_ledger_ctx ctx = { &g_params, height, 1700000000000ull + height * 1000 };
    pel_executor ex = pel_ledger_executor(&ctx);
    pel_state st = pel_memstate_reader(ms);
    for (uint32_t i = 0; i < n; i++) {
        d[i].tx = &txs[i].tx;
        d[i].access = txs[i].tx.has_access ? &txs[i].tx.access : NULL;
    }
    CHECK_EQ_INT(run_engine(configs[0].e, &st, d, n, &ex, r), 0);
    for (int c = 1; c < nconfigs; c++) {
        pel_block_result o;
        int rc = run_engine(configs[c].e, &st, d, n, &ex, &o);
        CHECK_EQ_INT(rc, 0);
        if (rc) continue;
        CHECK(result_eq(r, &o, configs[c].name));
        pel_block_result_free(&o);
    }
    CHECK_EQ_INT(pel_memstate_apply(ms, &r->block_writes), 0);
    free(d);
}

static void free_txs(txbox *txs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) free(txs[i].raw);
}

/* ---- the small world ---- */

#define RICH 1000000u
#define POOR 500u

typedef struct world {
    pel_memstate *ms;
    acct a, b, c;        /* A: RICH, B: POOR, C: no balance entry */
    uint8_t digest[32];  /* state digest before the block */
} world;

static void world_init(world *w)
{
    CHECK(pel_memstate_new(&w->ms) == 0);
    acct_from_seed(&w->a, 0xa);
    acct_from_seed(&w->b, 0xb);
    acct_from_seed(&w->c, 0xc);
    set_balance(w->ms, &w->a.addr, RICH);
    set_balance(w->ms, &w->b.addr, POOR);
    CHECK(pel_memstate_digest(w->ms, w->digest) == 0);
}

static void world_free(world *w)
{
    pel_memstate_free(w->ms);
}

static int state_unchanged(const world *w)
{
    uint8_t now[32];
    return pel_memstate_digest(w->ms, now) == 0 && memcmp(now, w->digest, 32) == 0;
}

/* a transfer A -> B of `amount` with generous gas at price 2 */
static txspec spec_ab(const world *w, uint64_t amount)
{
    txspec t;
    memset(&t, 0, sizeof t);
    t.to = w->b.addr;
    t.amount = amount;
    t.gas_limit = 100000;
    t.gas_price = 2;
    return t;
}

/* run_one - one transaction from `from` in a fresh block at `height`. */
static void run_one(world *w, const acct *from, const txspec *t, uint64_t height,
                    pel_block_result *r, txbox *box)
{
    CHECK(pel_memstate_digest(w->ms, w->digest) == 0);
    build_tx(from, t, box);
    exec_all(w->ms, height, box, 1, r);
}

static int transfer_event_is(const pel_receipt *rc, const pel_addr *from, const pel_addr *to,
                             uint64_t amount)
{
    uint8_t want[4 + EVENT_LEN];
    pel_le_store(want, EVENT_LEN, 4);
    want[4] = PEL_EV_TRANSFER;
    memcpy(want + 5, from->b, PEL_ADDR_LEN);
    memcpy(want + 5 + PEL_ADDR_LEN, to->b, PEL_ADDR_LEN);
    pel_le_store(want + 5 + 2 * PEL_ADDR_LEN, amount, 8);
    return rc->events_len == sizeof want && memcmp(rc->events, want, sizeof want) == 0;
}

/* ---- unit tests ---- */

static void keys_are_tagged_hashes(void)
{
    pel_addr a;
    pel_key k;
    uint8_t h[32];
    memset(a.b, 0x3c, sizeof a.b);
    pel_key_balance(&a, &k);
    CHECK(pel_hash_tagged("PEL/acct-balance", a.b, PEL_ADDR_LEN, h) == 0);
    CHECK_MEM(k.b, h, 32);
    pel_key_nonce(&a, &k);
    CHECK(pel_hash_tagged("PEL/acct-nonce", a.b, PEL_ADDR_LEN, h) == 0);
    CHECK_MEM(k.b, h, 32);
    pel_key_fee_pool(&k);
    CHECK(pel_hash_tagged("PEL/fee-pool", NULL, 0, h) == 0);
    CHECK_MEM(k.b, h, 32);
}

static void gas_and_fee_arithmetic(void)
{
    pel_gas_schedule g = pel_gas_defaults();
    CHECK(g.base == 1000 && g.per_byte == 10);
    CHECK(pel_intrinsic_gas(&g, 0) == 1000);
    CHECK(pel_intrinsic_gas(&g, 175) == 2750);
    pel_gas_schedule big = { UINT64_MAX - 5, 1 };
    CHECK(pel_intrinsic_gas(&big, 5) == UINT64_MAX);
    CHECK(pel_intrinsic_gas(&big, 6) == UINT64_MAX);            /* saturates */
    pel_gas_schedule wide = { 1, UINT64_MAX / 2 };
    CHECK(pel_intrinsic_gas(&wide, 3) == UINT64_MAX);           /* product saturates */
    pel_tx tx;
    uint64_t out = 99;
    uint8_t body[PEL_TRANSFER_BODY_LEN];
    pel_addr to;
    memset(&tx, 0, sizeof tx);
    memset(to.b, 1, sizeof to.b);
    tx.gas_limit = 1u << 20; tx.gas_price = 1u << 20;
    CHECK(pel_tx_max_fee(&tx, &out) == 0 && out == (1ull << 40));
    tx.gas_price = 1ull << 44;
    CHECK(pel_tx_max_fee(&tx, &out) == PEL_ERANGE && out == 0);
    tx.gas_price = 3;
    tx.type = PEL_TX_TRANSFER;
    pel_transfer_body(&to, 1000, body);
    tx.body = body; tx.body_len = sizeof body;
    CHECK(pel_tx_spend(NULL, &tx, &out) == 0 && out == 3 * (1ull << 20) + 1000);
    pel_transfer_body(&to, UINT64_MAX - 3 * (1ull << 20) + 1, body);
    CHECK(pel_tx_spend(NULL, &tx, &out) == PEL_ERANGE && out == 0);
    tx.body_len = 3;                                         /* malformed: moves nothing */
    CHECK(pel_tx_spend(NULL, &tx, &out) == 0 && out == 3 * (1ull << 20));
}

static void transfer_success_exact(void)
{
    for (int declare = 0; declare < 2; declare++) {
        world w;
        world_init(&w);
        txspec t = spec_ab(&w, 1234);
        t.declare = declare;
        pel_block_result r;
        txbox box;
        run_one(&w, &w.a, &t, 5, &r, &box);
        uint64_t gas = intrinsic(box.tx.size) + TRANSFER_GAS;
        CHECK_EQ_INT(TRANSFER_GAS, 70);
        CHECK_EQ_INT(box.tx.size, declare ? 175 + 12 + 4 * 32 : 175);
        CHECK_EQ_INT(r.receipts[0].status, 0);
        CHECK_EQ_INT(r.receipts[0].gas_used, gas);
        CHECK(transfer_event_is(&r.receipts[0], &w.a.addr, &w.b.addr, 1234));
        CHECK_EQ_INT(balance(w.ms, &w.a.addr), RICH - 1234 - 2 * gas);
        CHECK_EQ_INT(balance(w.ms, &w.b.addr), POOR + 1234);
        CHECK_EQ_INT(pool(w.ms), 2 * gas);
        CHECK_EQ_INT(nonce_of(w.ms, &w.a.addr), 1);
        CHECK_EQ_INT(r.tx_writes[0].n, 4);      /* nonce, two balances, pool */
        pel_block_result_free(&r);
        free(box.raw);

        /* the next nonce works, to a fresh address (no balance entry) */
        t = spec_ab(&w, 77);
        t.declare = declare;
        t.nonce = 1;
        t.to = w.c.addr;
        t.gas_price = 1;
        run_one(&w, &w.a, &t, 6, &r, &box);
        uint64_t gas2 = intrinsic(box.tx.size) + TRANSFER_GAS;
        CHECK_EQ_INT(r.receipts[0].status, 0);
        CHECK_EQ_INT(balance(w.ms, &w.c.addr), 77);
        CHECK_EQ_INT(balance(w.ms, &w.a.addr), RICH - 1234 - 2 * gas - 77 - gas2);
        CHECK_EQ_INT(pool(w.ms), 2 * gas + gas2);
        CHECK_EQ_INT(nonce_of(w.ms, &w.a.addr), 2);
        pel_block_result_free(&r);
        free(box.raw);
        world_free(&w);
    }
}

/* expect_void - the transaction has no effect: the given status, gas 0, no
 * events, no writes, state and nonce unchanged. */
static void expect_void(world *w, const acct *from, const txspec *t, uint64_t height, int code)
{
    pel_block_result r;
    txbox box;
    uint64_t n0 = nonce_of(w->ms, &from->addr);
    run_one(w, from, t, height, &r, &box);
    CHECK_EQ_INT(r.receipts[0].status, code);
    CHECK_EQ_INT(r.receipts[0].gas_used, 0);
    CHECK_EQ_INT(r.receipts[0].events_len, 0);
    CHECK_EQ_INT(r.tx_writes[0].n, 0);
    CHECK_EQ_INT(r.block_writes.n, 0);
    CHECK(state_unchanged(w));
    CHECK_EQ_INT(nonce_of(w->ms, &from->addr), n0);
    pel_block_result_free(&r);
    free(box.raw);
}

static void void_cases_leave_state_untouched(void)
{
    for (int declare = 0; declare < 2; declare++) {
        world w;
        world_init(&w);
        txspec t = spec_ab(&w, 10);
        t.declare = declare;
        uint32_t size = spec_size(&w.a, &t);

        txspec x = t; x.chain = "pel-tesu";                 /* same length, other chain */
        expect_void(&w, &w.a, &x, 5, PEL_ECHAIN);
        x = t; x.chain = "pel";
        expect_void(&w, &w.a, &x, 5, PEL_ECHAIN);
        x = t; x.expiry = 4;                                /* height 5 > expiry 4 */
        expect_void(&w, &w.a, &x, 5, PEL_EEXPIRED);
        x = t; x.expiry = 1;
        expect_void(&w, &w.a, &x, UINT64_MAX, PEL_EEXPIRED);
        x = t; x.nonce = 1;                                 /* too high */
        expect_void(&w, &w.a, &x, 5, PEL_ENONCE);
        x = t; x.nonce = UINT64_MAX;
        expect_void(&w, &w.a, &x, 5, PEL_ENONCE);
        x = t; x.gas_limit = intrinsic(size) - 1;           /* below intrinsic */
        expect_void(&w, &w.a, &x, 5, PEL_EGAS);
        x = t; x.gas_limit = 0;
        expect_void(&w, &w.a, &x, 5, PEL_EGAS);
        x = t; x.gas_price = UINT64_MAX;                    /* max fee overflows u64 */
        expect_void(&w, &w.a, &x, 5, PEL_EGAS);
        x = t; x.gas_limit = 1ull << 32; x.gas_price = 1ull << 31;   /* max fee = 2^63 */
        expect_void(&w, &w.a, &x, 5, PEL_EGAS);
        /* cannot pay the max fee (B has 500, max fee 200000) */
        txspec y = spec_ab(&w, 0);
        y.declare = declare;
        y.to = w.a.addr;
        expect_void(&w, &w.b, &y, 5, PEL_EFUNDS);
        expect_void(&w, &w.c, &y, 5, PEL_EFUNDS);           /* no balance entry at all */
        /* nonce too low: A's nonce is 3 */
        pel_key kn;
        pel_key_nonce(&w.a.addr, &kn);
        put_u64(w.ms, &kn, 3);
        x = t; x.nonce = 2;
        expect_void(&w, &w.a, &x, 5, PEL_ENONCE);
        x = t; x.nonce = 0;
        expect_void(&w, &w.a, &x, 5, PEL_ENONCE);
        /* a nonce of UINT64_MAX can never be used (it could not be consumed) */
        put_u64(w.ms, &kn, UINT64_MAX);
        x = t; x.nonce = UINT64_MAX;
        expect_void(&w, &w.a, &x, 5, PEL_ENONCE);
        world_free(&w);
    }
}

/* Boundaries on the valid side of the void cases. */
static void void_boundaries_are_valid(void)
{
    world w;
    world_init(&w);
    pel_block_result r;
    txbox box;
    txspec t = spec_ab(&w, 10);
    t.expiry = 5;                                           /* == height: still fine */
    run_one(&w, &w.a, &t, 5, &r, &box);
    CHECK_EQ_INT(r.receipts[0].status, 0);
    pel_block_result_free(&r); free(box.raw);
    t.nonce = 1; t.expiry = 0;                              /* 0 never expires */
    run_one(&w, &w.a, &t, UINT64_MAX, &r, &box);
    CHECK_EQ_INT(r.receipts[0].status, 0);
    pel_block_result_free(&r); free(box.raw);
    /* B can pay exactly its balance as max fee; gets the rest back */
    txspec y = spec_ab(&w, 0);
    y.to = w.a.addr;
    y.gas_price = 0;
    uint32_t size = spec_size(&w.b, &y);
    y.gas_limit = POOR;
    y.gas_price = 1;
    CHECK(intrinsic(size) > POOR);                          /* 500 gas is below intrinsic */
    y.gas_limit = intrinsic(size) + TRANSFER_GAS;
    set_balance(w.ms, &w.b.addr, y.gas_limit);              /* max fee = balance */
    uint64_t a0 = balance(w.ms, &w.a.addr);
    run_one(&w, &w.b, &y, 5, &r, &box);
    CHECK_EQ_INT(r.receipts[0].status, 0);
    CHECK_EQ_INT(balance(w.ms, &w.b.addr), 0);
    CHECK_EQ_INT(balance(w.ms, &w.a.addr), a0);
    pel_block_result_free(&r); free(box.raw);
    world_free(&w);
}

/* check_failed_pays - the body failed with `code`: the sender paid
 * gas * price and consumed the nonce, nothing else moved. */
static void check_failed_pays(world *w, const pel_block_result *r, int code, uint64_t gas,
                              uint64_t price, uint64_t a0, uint64_t b0, uint64_t pool0)
{
    CHECK_EQ_INT(r->receipts[0].status, code);
    CHECK_EQ_INT(r->receipts[0].gas_used, gas);
    CHECK_EQ_INT(r->receipts[0].events_len, 0);
    CHECK_EQ_INT(balance(w->ms, &w->a.addr), a0 - gas * price);
    CHECK_EQ_INT(balance(w->ms, &w->b.addr), b0);
    CHECK_EQ_INT(pool(w->ms), pool0 + gas * price);
}

static void failing_body_pays_and_consumes_nonce(void)
{
    for (int declare = 0; declare < 2; declare++) {
        world w;
        world_init(&w);
        pel_block_result r;
        txbox box;
        txspec t = spec_ab(&w, 0);
        t.declare = declare;
        uint64_t max_fee = t.gas_limit * t.gas_price;
        uint32_t size = spec_size(&w.a, &t);
        /* amount > balance after the max fee is reserved */
        t.amount = RICH - max_fee + 1;
        run_one(&w, &w.a, &t, 5, &r, &box);
        uint64_t gas = intrinsic(size) + PEL_GAS_DELTA;   /* the failed delta is charged */
        check_failed_pays(&w, &r, PEL_EFUNDS, gas, 2, RICH, POOR, 0);
        CHECK_EQ_INT(nonce_of(w.ms, &w.a.addr), 1);
        CHECK_EQ_INT(r.tx_writes[0].n, 3);                /* nonce, sender, pool */
        pel_block_result_free(&r); free(box.raw);
        /* the same amount is exactly affordable once the fee is known to
         * fit: amount = balance - max fee succeeds */
        uint64_t a1 = balance(w.ms, &w.a.addr), p1 = pool(w.ms);
        t.nonce = 1;
        t.amount = a1 - max_fee;
        run_one(&w, &w.a, &t, 5, &r, &box);
        CHECK_EQ_INT(r.receipts[0].status, 0);
        uint64_t gas2 = intrinsic(size) + TRANSFER_GAS;
        CHECK_EQ_INT(balance(w.ms, &w.a.addr), max_fee - 2 * gas2);
        CHECK_EQ_INT(balance(w.ms, &w.b.addr), POOR + a1 - max_fee);
        CHECK_EQ_INT(pool(w.ms), p1 + 2 * gas2);
        pel_block_result_free(&r); free(box.raw);
        world_free(&w);
    }
}

static void amount_over_int64_is_range_error(void)
{
    world w;
    world_init(&w);
    pel_block_result r;
    txbox box;
    txspec t = spec_ab(&w, (uint64_t)INT64_MAX + 1);
    run_one(&w, &w.a, &t, 5, &r, &box);
    check_failed_pays(&w, &r, PEL_ERANGE, intrinsic(box.tx.size), 2, RICH, POOR, 0);
    CHECK_EQ_INT(nonce_of(w.ms, &w.a.addr), 1);
    pel_block_result_free(&r); free(box.raw);
    world_free(&w);
}

/* A recipient whose balance would pass 2^64-1: PEL_ERANGE, fee paid. */
static void recipient_overflow_is_range_error(void)
{
    world w;
    world_init(&w);
    pel_block_result r;
    txbox box;
    set_balance(w.ms, &w.b.addr, UINT64_MAX - 10);
    txspec t = spec_ab(&w, 11);
    run_one(&w, &w.a, &t, 5, &r, &box);
    check_failed_pays(&w, &r, PEL_ERANGE, intrinsic(box.tx.size) + 2 * PEL_GAS_DELTA, 2, RICH,
                      UINT64_MAX - 10, 0);
    pel_block_result_free(&r); free(box.raw);
    world_free(&w);
}

static void unknown_type_or_bad_body_pays(void)
{
    world w;
    world_init(&w);
    pel_block_result r;
    txbox box;
    txspec t = spec_ab(&w, 5);
    t.type = 2;
    run_one(&w, &w.a, &t, 5, &r, &box);
    check_failed_pays(&w, &r, PEL_ETXTYPE, intrinsic(box.tx.size), 2, RICH, POOR, 0);
    uint64_t a1 = balance(w.ms, &w.a.addr), p1 = pool(w.ms);
    pel_block_result_free(&r); free(box.raw);
    t = spec_ab(&w, 5);
    t.nonce = 1;
    t.body_len = PEL_TRANSFER_BODY_LEN - 1;
    t.declare = 1;
    run_one(&w, &w.a, &t, 5, &r, &box);
    check_failed_pays(&w, &r, PEL_ETXTYPE, intrinsic(box.tx.size), 2, a1, POOR, p1);
    CHECK_EQ_INT(nonce_of(w.ms, &w.a.addr), 2);
    pel_block_result_free(&r); free(box.raw);
    world_free(&w);
}

static void out_of_gas_pays_the_limit(void)
{
    static const uint64_t extra[] = { 0, 1, TRANSFER_GAS - 1 };
    for (int i = 0; i < 3; i++) {
        world w;
        world_init(&w);
        pel_block_result r;
        txbox box;
        txspec t = spec_ab(&w, 1000);
        t.gas_price = 3;
        t.gas_limit = intrinsic(spec_size(&w.a, &t)) + extra[i];
        run_one(&w, &w.a, &t, 5, &r, &box);
        check_failed_pays(&w, &r, PEL_EGAS, t.gas_limit, 3, RICH, POOR, 0);
        CHECK_EQ_INT(nonce_of(w.ms, &w.a.addr), 1);
        pel_block_result_free(&r); free(box.raw);
        world_free(&w);
    }
    /* exactly enough gas: success with gas_used == gas_limit */
    world w;
    world_init(&w);
    pel_block_result r;
    txbox box;
    txspec t = spec_ab(&w, 1000);
    t.gas_limit = intrinsic(spec_size(&w.a, &t)) + TRANSFER_GAS;
    run_one(&w, &w.a, &t, 5, &r, &box);
    CHECK_EQ_INT(r.receipts[0].status, 0);
    CHECK_EQ_INT(r.receipts[0].gas_used, t.gas_limit);
    pel_block_result_free(&r); free(box.raw);
    world_free(&w);
}

/* Ten transfers of one sender with nonces 0..9 in one block all succeed;
 * a repeated nonce in the middle is void and does not shift the rest. */
static void one_sender_consecutive_nonces(void)
{
    world w;
    world_init(&w);
    txbox box[12];
    pel_block_result r;
    uint64_t fees = 0, moved = 0;
    uint64_t nonces[12] = { 0, 1, 2, 3, 3, 4, 5, 6, 8, 7, 8, 9 };   /* [4] dup, [8] early */
    for (int i = 0; i < 12; i++) {
        txspec t = spec_ab(&w, 100 + (uint64_t)i);
        t.nonce = nonces[i];
        t.declare = i % 2;
        t.to = i % 3 ? w.b.addr : w.c.addr;
        build_tx(&w.a, &t, &box[i]);
    }
    exec_all(w.ms, 5, box, 12, &r);
    for (int i = 0; i < 12; i++) {
        int void_tx = i == 4 || i == 8;
        CHECK_EQ_INT(r.receipts[i].status, void_tx ? PEL_ENONCE : 0);
        if (void_tx) continue;
        fees += 2 * r.receipts[i].gas_used;
        moved += 100 + (uint64_t)i;
    }
    CHECK_EQ_INT(nonce_of(w.ms, &w.a.addr), 10);
    CHECK_EQ_INT(balance(w.ms, &w.a.addr), RICH - moved - fees);
    CHECK_EQ_INT(balance(w.ms, &w.b.addr) + balance(w.ms, &w.c.addr), POOR + moved);
    CHECK_EQ_INT(pool(w.ms), fees);
    pel_block_result_free(&r);
    free_txs(box, 12);
    world_free(&w);
}

static void self_transfer_pays_only_the_fee(void)
{
    for (int declare = 0; declare < 2; declare++) {
        world w;
        world_init(&w);
        pel_block_result r;
        txbox box;
        txspec t = spec_ab(&w, 5000);
        t.to = w.a.addr;
        t.declare = declare;
        run_one(&w, &w.a, &t, 5, &r, &box);
        uint64_t gas = intrinsic(box.tx.size) + TRANSFER_GAS;
        CHECK_EQ_INT(box.tx.size, declare ? 175 + 12 + 3 * 32 : 175);   /* deltas deduplicated */
        CHECK_EQ_INT(r.receipts[0].status, 0);
        CHECK_EQ_INT(r.receipts[0].gas_used, gas);
        CHECK(transfer_event_is(&r.receipts[0], &w.a.addr, &w.a.addr, 5000));
        CHECK_EQ_INT(balance(w.ms, &w.a.addr), RICH - 2 * gas);
        CHECK_EQ_INT(pool(w.ms), 2 * gas);
        pel_block_result_free(&r); free(box.raw);
        /* a self-transfer of more than the balance left after the fee fails */
        t.nonce = 1;
        t.amount = balance(w.ms, &w.a.addr) - t.gas_limit * t.gas_price + 1;
        uint64_t a1 = balance(w.ms, &w.a.addr), p1 = pool(w.ms);
        run_one(&w, &w.a, &t, 5, &r, &box);
        CHECK_EQ_INT(r.receipts[0].status, PEL_EFUNDS);
        CHECK_EQ_INT(balance(w.ms, &w.a.addr), a1 - 2 * r.receipts[0].gas_used);
        CHECK_EQ_INT(pool(w.ms), p1 + 2 * r.receipts[0].gas_used);
        pel_block_result_free(&r); free(box.raw);
        world_free(&w);
    }
}

/*
 * Wrong declarations. A list that omits the recipient: the body's delta is
 * refused (PEL_EACCESS), the ledger rolls the body back (which clears the
 * violation) and charges as for any failed body: fee paid, nonce consumed,
 * status PEL_EACCESS. A list that omits the fee pool: the violation happens
 * while settling, stays set, and the engines discard every write.
 */
static void undeclared_keys_are_access_violations(void)
{
    for (int omit_pool = 0; omit_pool < 2; omit_pool++) {
        world w;
        world_init(&w);
        pel_block_result r;
        uint8_t body[PEL_TRANSFER_BODY_LEN];
        pel_key wr[1], d[2];
        pel_tx tx;
        pel_buf b;
        txbox box;
        pel_transfer_body(&w.b.addr, 10, body);
        memset(&tx, 0, sizeof tx);
        tx.chain_id = (const uint8_t *)CHAIN; tx.chain_id_len = 8;
        tx.gas_limit = 100000; tx.gas_price = 2; tx.type = PEL_TX_TRANSFER;
        tx.body = body; tx.body_len = sizeof body;
        pel_key_nonce(&w.a.addr, &wr[0]);
        pel_key_balance(&w.a.addr, &d[0]);
        if (omit_pool) pel_key_balance(&w.b.addr, &d[1]);
        else pel_key_fee_pool(&d[1]);
        uint32_t nd = 2;
        sort_unique(d, &nd);
        tx.has_access = 1;
        tx.access.writes = wr; tx.access.n_writes = 1;
        tx.access.deltas = d; tx.access.n_deltas = nd;
        pel_buf_init(&b);
        CHECK_EQ_INT(pel_tx_sign(&tx, w.a.sk, &b), 0);
        box.raw = malloc(b.len);
        memcpy(box.raw, b.data, b.len);
        CHECK_EQ_INT(pel_tx_decode(box.raw, b.len, &box.tx), 0);
        /* admission refuses both incomplete lists: the node never includes
         * them (a block that does still has the defined result below) */
        const char *why = NULL;
        CHECK_EQ_INT(pel_ledger_precheck(&g_params, &box.tx, &why), PEL_EACCESS);
        CHECK(why && strstr(why, "access list"));
        exec_all(w.ms, 5, &box, 1, &r);
        CHECK_EQ_INT(r.receipts[0].status, PEL_EACCESS);
        if (omit_pool) {
            CHECK_EQ_INT(r.tx_writes[0].n, 0);
            CHECK(state_unchanged(&w));
        } else {
            /* the sender's delta is charged, the refused one is not */
            uint64_t gas = intrinsic(box.tx.size) + PEL_GAS_DELTA;
            CHECK_EQ_INT(r.receipts[0].gas_used, gas);
            CHECK_EQ_INT(balance(w.ms, &w.a.addr), RICH - 2 * gas);
            CHECK_EQ_INT(balance(w.ms, &w.b.addr), POOR);
            CHECK_EQ_INT(pool(w.ms), 2 * gas);
            CHECK_EQ_INT(nonce_of(w.ms, &w.a.addr), 1);
        }
        pel_block_result_free(&r);
        free(box.raw);
        pel_buf_free(&b);
        world_free(&w);
    }
}

static void precheck_codes(void)
{
    world w;
    world_init(&w);
    struct { txspec t; int code; const char *word; } cases[16];
    int n = 0;
    txspec ok = spec_ab(&w, 10);
    uint32_t size = spec_size(&w.a, &ok);
    cases[n].t = ok; cases[n].code = 0; cases[n++].word = NULL;
    cases[n].t = ok; cases[n].t.chain = "pel-tesu"; cases[n].code = PEL_ECHAIN; cases[n++].word = "chain";
    cases[n].t = ok; cases[n].t.chain = "pel-tesu"; cases[n].t.type = 9;    /* chain is checked first */
    cases[n].code = PEL_ECHAIN; cases[n++].word = "chain";
    cases[n].t = ok; cases[n].t.type = 9; cases[n].code = PEL_ETXTYPE; cases[n++].word = "type";
    cases[n].t = ok; cases[n].t.body_len = 29; cases[n].code = PEL_ETXTYPE; cases[n++].word = "body";
    cases[n].t = ok; cases[n].t.gas_limit = intrinsic(size) - 1; cases[n].t.gas_price = 0;
    cases[n].code = PEL_EGAS; cases[n++].word = "intrinsic";                 /* gas before fee */
    cases[n].t = ok; cases[n].t.gas_limit = intrinsic(size); cases[n].code = 0; cases[n++].word = NULL;
    cases[n].t = ok; cases[n].t.gas_price = 0; cases[n].code = PEL_EFEE; cases[n++].word = "price";
    cases[n].t = ok; cases[n].t.gas_price = UINT64_MAX; cases[n].code = PEL_EFUNDS; cases[n++].word = "overflow";
    cases[n].t = ok; cases[n].t.amount = UINT64_MAX - ok.gas_limit * ok.gas_price + 1;
    cases[n].code = PEL_EFUNDS; cases[n++].word = "overflow";
    cases[n].t = ok; cases[n].t.amount = UINT64_MAX - ok.gas_limit * ok.gas_price;
    cases[n].code = 0; cases[n++].word = NULL;                                /* fits exactly */
    cases[n].t = ok; cases[n].t.declare = 1; cases[n].code = 0; cases[n++].word = NULL; /* complete list */
    for (int i = 0; i < n; i++) {
        txbox box;
        const char *why = "unset";
        build_tx(&w.a, &cases[i].t, &box);
        int rc = pel_ledger_precheck(&g_params, &box.tx, &why);
        CHECK_EQ_INT(rc, cases[i].code);
        if (cases[i].word) CHECK(why && strstr(why, cases[i].word));
        else CHECK(why == NULL);
        CHECK_EQ_INT(pel_ledger_precheck(&g_params, &box.tx, NULL), cases[i].code);
        free(box.raw);
    }
    /* the minimum gas price comes from the chain parameters */
    pel_chain_params p = g_params;
    p.min_gas_price = 3;
    txbox box;
    build_tx(&w.a, &ok, &box);                 /* price 2 */
    CHECK_EQ_INT(pel_ledger_precheck(&p, &box.tx, NULL), PEL_EFEE);
    p.min_gas_price = 2;
    CHECK_EQ_INT(pel_ledger_precheck(&p, &box.tx, NULL), 0);
    free(box.raw);
    world_free(&w);
}

/* ---- property test: random chains against a reference model ---- */

#define MAX_ACCTS 200
#define MAX_EXTRA 8

/* The reference: balances and nonces as arrays, the rules of ledger.h. */
typedef struct model {
    uint32_t n, n_extra;            /* accounts with keys, then extra addresses */
    uint64_t bal[MAX_ACCTS + MAX_EXTRA], nonce[MAX_ACCTS];
    uint64_t pool, supply;
} model;

typedef struct gtx {            /* what the generator chose, for the model */
    uint32_t from, to;          /* to: index into accounts then extras */
    txspec t;
} gtx;

/* model_apply - one transaction; returns its status and sets *gas. */
static int model_apply(model *m, const gtx *g, uint32_t size, uint64_t height, uint64_t *gas)
{
    const txspec *t = &g->t;
    uint64_t ig = intrinsic(size), max_fee;
    *gas = 0;
    if (t->chain && strcmp(t->chain, CHAIN) != 0) return PEL_ECHAIN;
    if (t->expiry && height > t->expiry) return PEL_EEXPIRED;
    if (t->gas_limit < ig) return PEL_EGAS;
    if (__builtin_mul_overflow(t->gas_limit, t->gas_price, &max_fee) || max_fee > INT64_MAX)
        return PEL_EGAS;
    if (t->nonce != m->nonce[g->from] || t->nonce == UINT64_MAX) return PEL_ENONCE;
    if (m->bal[g->from] < max_fee) return PEL_EFUNDS;
    m->nonce[g->from]++;
    m->bal[g->from] -= max_fee;
    int status = 0;
    uint64_t body_gas = 0;
    if (!spec_well_formed(t)) status = PEL_ETXTYPE;
    else if (t->amount > INT64_MAX) status = PEL_ERANGE;
    else if (t->amount > m->bal[g->from]) { status = PEL_EFUNDS; body_gas = PEL_GAS_DELTA; }
    else if (m->bal[g->to] - (g->to == g->from ? t->amount : 0) > UINT64_MAX - t->amount) {
        status = PEL_ERANGE; body_gas = 2 * PEL_GAS_DELTA;
    } else body_gas = TRANSFER_GAS;
    *gas = ig + body_gas;
    if (*gas > t->gas_limit) { status = PEL_EGAS; *gas = t->gas_limit; }
    if (status == 0) { m->bal[g->from] -= t->amount; m->bal[g->to] += t->amount; }
    uint64_t fee = *gas * t->gas_price;
    m->bal[g->from] += max_fee - fee;
    m->pool += fee;
    return status;
}

typedef struct chainrun {
    model m;
    acct *accts;                    /* [m.n] */
    pel_addr extra[MAX_EXTRA];
    pel_memstate *replica[8];       /* one per engine */
} chainrun;

static const pel_addr *addr_at(const chainrun *c, uint32_t i)
{
    return i < c->m.n ? &c->accts[i].addr : &c->extra[i - c->m.n];
}

static uint64_t rnd_upto(pel_rng *r, uint64_t n)    /* uniform in [0, n] */
{
    return n == UINT64_MAX ? pel_rng_next(r) : pel_rng_next(r) % (n + 1);
}

/* gen_tx - a random transaction against the model's current state: mostly
 * valid, with every void and failure case mixed in. */
static void gen_tx(pel_rng *r, const chainrun *c, uint64_t height, gtx *g)
{
    const model *m = &c->m;
    txspec *t = &g->t;
    memset(g, 0, sizeof *g);
    g->from = pel_rng_below(r, 4) == 0 ? pel_rng_below(r, m->n < 3 ? m->n : 3) : pel_rng_below(r, m->n);
    uint32_t k = pel_rng_below(r, 100);
    if (k < 5) g->to = g->from;                                        /* self */
    else if (k < 15 && m->n_extra) g->to = m->n + pel_rng_below(r, m->n_extra);
    else if (k < 25) g->to = 0;                                        /* hot recipient */
    else g->to = pel_rng_below(r, m->n);
    t->to = *addr_at(c, g->to);
    t->declare = pel_rng_below(r, 2);
    k = pel_rng_below(r, 100);
    if (k < 1) t->chain = "pel-tesu";
    else if (k < 2) t->type = 2;
    else if (k < 3) t->body_len = 27;
    uint64_t n0 = m->nonce[g->from];
    k = pel_rng_below(r, 100);
    t->nonce = k < 85 ? n0 : k < 90 ? n0 + 1 : k < 95 ? (n0 ? n0 - 1 : 1) : pel_rng_below(r, 8);
    k = pel_rng_below(r, 100);
    t->expiry = k < 80 ? 0 : k < 88 ? height + pel_rng_below(r, 3) : k < 94 ? height : height - 1;
    uint32_t pk = pel_rng_below(r, 100);
    uint64_t ig = intrinsic(spec_size(&c->accts[g->from], t));
    k = pel_rng_below(r, 100);
    t->gas_limit = k < 70 ? ig + TRANSFER_GAS + pel_rng_below(r, 10000)
                 : k < 78 ? ig - 1 - pel_rng_below(r, 100)          /* void */
                 : k < 86 ? ig                                       /* out of gas */
                 : k < 92 ? ig + pel_rng_below(r, TRANSFER_GAS + 1)  /* at the edge */
                 : 1000000;
    t->gas_price = pk < 75 ? 1 + pel_rng_below(r, 3)
                 : pk < 80 ? 0
                 : pk < 88 ? 1000                                    /* often unaffordable */
                 : pk < 94 ? UINT64_MAX / t->gas_limit + 1           /* max fee overflows */
                 : (uint64_t)INT64_MAX / t->gas_limit + 1;           /* max fee > 2^63-1 */
    uint64_t bal = m->bal[g->from];
    uint64_t max_fee = t->gas_limit * t->gas_price;   /* may wrap: only a guess for amounts */
    uint64_t room = bal > max_fee ? bal - max_fee : 0;
    k = pel_rng_below(r, 100);
    t->amount = k < 55 ? rnd_upto(r, room / 4)
              : k < 65 ? 0
              : k < 75 ? room
              : k < 85 ? room + 1 + pel_rng_below(r, 1000)
              : k < 90 ? bal + pel_rng_below(r, 10)
              : k < 95 ? (uint64_t)INT64_MAX + 1 + pel_rng_below(r, 5)
              : UINT64_MAX - pel_rng_below(r, 2);
}

static void chain_init(chainrun *c, pel_rng *r)
{
    memset(c, 0, sizeof *c);
    c->m.n = 2 + pel_rng_below(r, MAX_ACCTS - 1);
    c->m.n_extra = pel_rng_below(r, MAX_EXTRA + 1);
    c->accts = calloc(c->m.n, sizeof *c->accts);
    for (uint32_t i = 0; i < c->m.n; i++) {
        acct_from_seed(&c->accts[i], pel_rng_next(r));
        uint32_t k = pel_rng_below(r, 10);
        c->m.bal[i] = k == 0 ? 0 : k < 3 ? pel_rng_below(r, 50000) : 1000000 + (pel_rng_next(r) % 1000000000000ull);
        c->m.supply += c->m.bal[i];
    }
    for (uint32_t i = 0; i < c->m.n_extra; i++)
        for (int b = 0; b < PEL_ADDR_LEN; b++) c->extra[i].b[b] = (uint8_t)pel_rng_next(r);
    uint8_t present[MAX_ACCTS];
    for (uint32_t i = 0; i < c->m.n; i++)               /* a zero balance may be absent */
        present[i] = c->m.bal[i] || pel_rng_below(r, 2) == 0;
    for (int e = 0; e < nconfigs; e++) {
        CHECK(pel_memstate_new(&c->replica[e]) == 0);
        for (uint32_t i = 0; i < c->m.n; i++)
            if (present[i]) set_balance(c->replica[e], &c->accts[i].addr, c->m.bal[i]);
    }
}

static void chain_free(chainrun *c)
{
    for (int e = 0; e < nconfigs; e++) pel_memstate_free(c->replica[e]);
    free(c->accts);
}

/* check_against_model - balances, nonces and pool of a replica equal the
 * model's, and the supply is conserved. Returns the number of mismatches. */
static int check_against_model(const chainrun *c, const pel_memstate *ms)
{
    int bad = 0;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < c->m.n + c->m.n_extra; i++) {
        uint64_t b = balance(ms, addr_at(c, i));
        bad += b != c->m.bal[i];
        sum += b;
        if (i < c->m.n) bad += nonce_of(ms, &c->accts[i].addr) != c->m.nonce[i];
    }
    bad += pool(ms) != c->m.pool;
    sum += pool(ms);
    CHECK_EQ_INT(sum, c->m.supply);
    return bad;
}

/* Statuses seen by the property test, printed so a run shows its coverage. */
static const int seen_codes[] = { 0, PEL_ECHAIN, PEL_EEXPIRED, PEL_ENONCE, PEL_EGAS, PEL_EFUNDS,
                                  PEL_ERANGE, PEL_ETXTYPE };
static uint64_t seen[8], seen_txs, seen_declared;

static void count_status(int st)
{
    for (int i = 0; i < 8; i++) if (seen_codes[i] == st) seen[i]++;
}

/* one_block - generate a block against the model, run it on every engine
 * (each on its own replica), compare everything. Returns 1 if all agreed. */
static int one_block(chainrun *c, pel_rng *r, uint64_t height)
{
    uint32_t k = pel_rng_below(r, 20);
    uint32_t n = k == 0 ? pel_rng_below(r, 3) : 1 + pel_rng_below(r, 500);
    txbox *box = calloc(n ? n : 1, sizeof *box);
    int32_t *want_status = calloc(n ? n : 1, sizeof *want_status);
    uint64_t *want_gas = calloc(n ? n : 1, sizeof *want_gas);
    pel_txdesc *d = calloc(n ? n : 1, sizeof *d);
    int ok = 1;
    for (uint32_t i = 0; i < n; i++) {
        gtx g;
        gen_tx(r, c, height, &g);
        build_tx(&c->accts[g.from], &g.t, &box[i]);
        want_status[i] = model_apply(&c->m, &g, box[i].tx.size, height, &want_gas[i]);
        d[i].tx = &box[i].tx;
        d[i].access = box[i].tx.has_access ? &box[i].tx.access : NULL;
    }
    pel_ledger_ctx ctx = { &g_params, height, 1700000000000ull + height * 1000 };
    pel_executor ex = pel_ledger_executor(&ctx);
    pel_block_result ref;
    uint8_t ref_digest[32];
    for (int e = 0; e < nconfigs; e++) {
        pel_block_result res;
        pel_state st = pel_memstate_reader(c->replica[e]);
        pel_block_result *out = e == 0 ? &ref : &res;
        int rc = run_engine(configs[e].e, &st, d, n, &ex, out);
        CHECK_EQ_INT(rc, 0);
        if (rc) { ok = 0; if (e == 0) break; continue; }
        if (e > 0 && !result_eq(&ref, &res, configs[e].name)) ok = 0;
        CHECK_EQ_INT(pel_memstate_apply(c->replica[e], &out->block_writes), 0);
        uint8_t dg[32];
        CHECK(pel_memstate_digest(c->replica[e], dg) == 0);
        if (e == 0) memcpy(ref_digest, dg, 32);
        else if (memcmp(dg, ref_digest, 32) != 0) {
            fprintf(stderr, "%s: state digest differs\n", configs[e].name);
            ok = 0;
        }
        if (e > 0) pel_block_result_free(&res);
    }
    if (ok) {
        int bad = 0;
        for (uint32_t i = 0; i < n; i++) {
            count_status(want_status[i]);
            seen_txs++;
            seen_declared += box[i].tx.has_access;
            if (ref.receipts[i].status == want_status[i] && ref.receipts[i].gas_used == want_gas[i])
                continue;
            if (bad++ < 5)
                fprintf(stderr, "  tx %u: status %d gas %llu, model %d gas %llu\n", i,
                        ref.receipts[i].status, (unsigned long long)ref.receipts[i].gas_used,
                        want_status[i], (unsigned long long)want_gas[i]);
        }
        bad += check_against_model(c, c->replica[0]);
        if (bad) ok = 0;
        pel_block_result_free(&ref);
    }
    free_txs(box, n);
    free(box); free(want_status); free(want_gas); free(d);
    return ok;
}

static void random_chains_all_engines_agree_with_model(void)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20));
    uint32_t blocks = (uint32_t)test_env_u64("PEL_TEST_ITERS", 50);
    printf("test_ledger: seed 0x%llx, %u random blocks (replay: PEL_TEST_SEED=0x%llx)\n",
           (unsigned long long)seed, blocks, (unsigned long long)seed);
    pel_rng master = { seed };
    uint32_t done = 0, failures = 0;
    while (done < blocks && failures < 3) {
        uint64_t cseed = pel_rng_next(&master);
        pel_rng r = { cseed };
        chainrun c;
        chain_init(&c, &r);
        uint32_t len = 1 + pel_rng_below(&r, 8);
        for (uint32_t h = 1; h <= len && done < blocks; h++, done++) {
            if (!one_block(&c, &r, h)) {
                fprintf(stderr, "  seed 0x%llx: chain seed 0x%llx (%u accounts) height %u failed\n",
                        (unsigned long long)seed, (unsigned long long)cseed, c.m.n, h);
                failures++;
                break;
            }
        }
        chain_free(&c);
    }
    CHECK_EQ_INT(failures, 0);
    printf("test_ledger: %llu txs (%llu declared):", (unsigned long long)seen_txs,
           (unsigned long long)seen_declared);
    for (int i = 0; i < 8; i++) printf(" %s %llu,", i ? pel_strerror(seen_codes[i]) : "ok",
                                       (unsigned long long)seen[i]);
    printf("\n");
    /* every outcome was exercised (with the default budget) */
    if (blocks >= 50)
        for (int i = 0; i < 8; i++) CHECK(seen[i] > 0);
}

int main(void)
{
    snprintf(g_params.chain_id, sizeof g_params.chain_id, "%s", CHAIN);
    g_params.gas = pel_gas_defaults();
    g_params.min_gas_price = 1;
    setup_engines();
    RUN(keys_are_tagged_hashes);
    RUN(gas_and_fee_arithmetic);
    RUN(transfer_success_exact);
    RUN(void_cases_leave_state_untouched);
    RUN(void_boundaries_are_valid);
    RUN(failing_body_pays_and_consumes_nonce);
    RUN(amount_over_int64_is_range_error);
    RUN(recipient_overflow_is_range_error);
    RUN(unknown_type_or_bad_body_pays);
    RUN(out_of_gas_pays_the_limit);
    RUN(one_sender_consecutive_nonces);
    RUN(self_transfer_pays_only_the_fee);
    RUN(undeclared_keys_are_access_violations);
    RUN(precheck_codes);
    RUN(random_chains_all_engines_agree_with_model);
    free_engines();
    return TEST_END("test_ledger");
}
