/*
 * test_mempool.c - the mempool (node/mempool.h) with real Ed25519 keys and
 * signed transfers against a fake committed-accounts table.
 *
 * Checked: every admission refusal and its code; replacement; sender and
 * pool limits with and without eviction (and which transaction is evicted);
 * nonce order within a sender and price order across senders; take never
 * hands out a transaction twice; done() forgetting, re-reading accounts and
 * dropping stale nonces, resyncing after a voided transaction, or
 * returning a failed block's transactions;
 * lookups; a 2000-transaction batch verified in parallel with bad ones at
 * random positions; four submitting threads and a producer at once (run it
 * under ThreadSanitizer); and random operation sequences against a simple
 * reference model (PEL_TEST_SEED, PEL_TEST_ITERS).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "core/buf.h"
#include "core/sign.h"
#include "ledger/ledger.h"
#include "ledger/tx.h"
#include "modules/dao.h"
#include "modules/licence.h"
#include "modules/modules.h"
#include "node/mempool.h"
#include "test.h"

#define NK 48               /* keys */
#define GAS 5000            /* gas limit of every test transfer */
#define BIG (1ull << 50)    /* a balance that covers anything */

typedef struct key { uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN]; pel_addr addr; } key;
static key K[NK];
static pel_chain_params P;

/* ---------------- the fake committed state ---------------- */

typedef struct bank {
    pthread_mutex_t mu;
    uint64_t nonce[NK], balance[NK];
    atomic_ulong calls;
    void (*hook)(void);       /* if set, run once inside a read (see test_done_window) */
} bank;
static bank B = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int key_of(const pel_addr *a)
{
    for (int i = 0; i < NK; i++)
        if (memcmp(K[i].addr.b, a->b, PEL_ADDR_LEN) == 0) return i;
    return -1;
}

static int bank_get(void *ctx, const pel_addr *a, uint64_t *nonce, uint64_t *balance)
{
    bank *b = ctx;
    int k = key_of(a);
    atomic_fetch_add(&b->calls, 1);
    pthread_mutex_lock(&b->mu);
    *nonce = k < 0 ? 0 : b->nonce[k];
    *balance = k < 0 ? 0 : b->balance[k];
    void (*hook)(void) = b->hook;
    pthread_mutex_unlock(&b->mu);
    if (hook) {
        b->hook = NULL;
        hook();
    }
    return 0;
}

static void bank_set(int k, uint64_t nonce, uint64_t balance)
{
    pthread_mutex_lock(&B.mu);
    B.nonce[k] = nonce;
    B.balance[k] = balance;
    pthread_mutex_unlock(&B.mu);
}

static void bank_reset(void)
{
    for (int k = 0; k < NK; k++) bank_set(k, 0, BIG);
}

/* ---------------- signed transactions ---------------- */

typedef struct stx {
    uint8_t raw[256];
    size_t len;
    uint8_t id[PEL_TXID_LEN];
    uint64_t spend;
} stx;

typedef struct spec {
    int k;
    uint64_t nonce, price, expiry, amount, gas;
    const char *chain;        /* NULL: the test chain */
    uint16_t type;            /* 0: a transfer of amount; else a module
                                 body (amount: what it spends) */
    const pel_buf *body;
} spec;

static stx sign_spec(spec s)
{
    stx t;
    pel_tx tx;
    pel_buf b;
    uint8_t body[PEL_TRANSFER_BODY_LEN];
    const char *chain = s.chain ? s.chain : P.chain_id;
    memset(&t, 0, sizeof t);
    memset(&tx, 0, sizeof tx);
    pel_transfer_body(&K[(s.k + 1) % NK].addr, s.amount, body);
    tx.chain_id = (const uint8_t *)chain;
    tx.chain_id_len = (uint32_t)strlen(chain);
    tx.nonce = s.nonce;
    tx.gas_limit = s.gas ? s.gas : GAS;
    tx.gas_price = s.price;
    tx.expiry_height = s.expiry;
    tx.type = PEL_TX_TRANSFER;
    tx.body = body;
    tx.body_len = sizeof body;
    if (s.type) {
        tx.type = s.type;
        tx.body = s.body->data;
        tx.body_len = (uint32_t)s.body->len;
    }
    pel_buf_init(&b);
    int rc = pel_tx_sign(&tx, K[s.k].sk, &b);
    CHECK_EQ_INT(rc, 0);
    if (rc == 0 && b.len <= sizeof t.raw) {
        memcpy(t.raw, b.data, b.len);
        t.len = b.len;
        memcpy(t.id, tx.id, PEL_TXID_LEN);
        t.spend = tx.gas_limit * tx.gas_price + s.amount;
    }
    pel_buf_free(&b);
    return t;
}

/* A plain transfer of 1 unit. */
static stx mk(int k, uint64_t nonce, uint64_t price)
{
    return sign_spec((spec){ .k = k, .nonce = nonce, .price = price, .amount = 1 });
}

static pel_mempool_result sub_raw(pel_mempool *mp, const uint8_t *raw, size_t len)
{
    pel_mempool_result r;
    memset(&r, 0xa5, sizeof r);
    CHECK_EQ_INT(pel_mempool_submit(mp, &raw, &len, 1, &r), 0);
    return r;
}

static pel_mempool_result sub(pel_mempool *mp, const stx *t) { return sub_raw(mp, t->raw, t->len); }
static int code(pel_mempool *mp, const stx *t) { return sub(mp, t).code; }

/* Submit ts[0..n) as one batch; each result code into codes. */
static void sub_batch(pel_mempool *mp, const stx *const *ts, size_t n, int *codes)
{
    const uint8_t *raw[64];
    size_t len[64];
    pel_mempool_result res[64];
    CHECK(n <= 64);
    if (n > 64) return;
    for (size_t i = 0; i < n; i++) { raw[i] = ts[i]->raw; len[i] = ts[i]->len; }
    CHECK_EQ_INT(pel_mempool_submit(mp, raw, len, n, res), 0);
    for (size_t i = 0; i < n; i++) codes[i] = res[i].code;
}

static int look(pel_mempool *mp, const stx *t, int *reason)
{
    *reason = 0;
    return pel_mempool_lookup(mp, t->id, reason);
}

/* Lookup says REJECTED with exactly this reason. */
static int rejected_as(pel_mempool *mp, const stx *t, int want)
{
    int reason;
    return look(mp, t, &reason) == PEL_MEMPOOL_REJECTED && reason == want;
}

static int pending(pel_mempool *mp, const stx *t)
{
    int reason;
    return look(mp, t, &reason) == PEL_MEMPOOL_PENDING;
}

static uint64_t n_pending(pel_mempool *mp)
{
    uint64_t n = 0;
    pel_mempool_stats(mp, &n, NULL, NULL);
    return n;
}

static pel_mempool *new_pool(uint32_t max_txs, uint32_t per_sender, unsigned threads)
{
    pel_mempool_opts o = pel_mempool_defaults();
    pel_mempool *mp = NULL;
    o.max_txs = max_txs;
    o.max_per_sender = per_sender;
    o.verify_threads = threads;
    pel_mempool_accounts acc = { bank_get, &B };
    CHECK_EQ_INT(pel_mempool_new(&o, &P, acc, &mp), 0);
    bank_reset();
    return mp;
}

/* take(max) as a list of ids compared with the expected transactions. */
static int take_is(pel_mempool *mp, size_t max, const stx *const *want, size_t n,
                   const pel_tx **out)
{
    const pel_tx *buf[64];
    const pel_tx **o = out ? out : buf;
    size_t k = pel_mempool_take(mp, max, o);
    if (k != n) { fprintf(stderr, "  take gave %zu, expected %zu\n", k, n); return 0; }
    for (size_t i = 0; i < n; i++)
        if (memcmp(o[i]->id, want[i]->id, PEL_TXID_LEN) != 0) {
            fprintf(stderr, "  take[%zu] is not the expected transaction\n", i);
            return 0;
        }
    return 1;
}

/* ---------------- admission ---------------- */

static void test_accept_and_lookup(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    bank_set(1, 7, BIG);
    stx t = mk(0, 0, 10);
    pel_mempool_result r = sub(mp, &t);
    CHECK_EQ_INT(r.code, 0);
    CHECK(r.why == NULL);
    CHECK_EQ_INT(r.has_id, 1);
    CHECK_MEM(r.id, t.id, PEL_TXID_LEN);
    CHECK(pending(mp, &t));
    uint64_t txs, bytes, senders;
    pel_mempool_stats(mp, &txs, &bytes, &senders);
    CHECK_EQ_INT(txs, 1);
    CHECK_EQ_INT(senders, 1);
    CHECK(bytes > t.len && bytes < t.len + 2048);
    uint8_t other[PEL_TXID_LEN];
    memset(other, 0x42, sizeof other);
    int reason = 99;
    CHECK_EQ_INT(pel_mempool_lookup(mp, other, &reason), PEL_MEMPOOL_UNKNOWN);
    CHECK_EQ_INT(pel_mempool_next_nonce(mp, &K[0].addr), 1);
    CHECK_EQ_INT(pel_mempool_next_nonce(mp, &K[1].addr), 7);   /* nothing pending: the store */
    pel_mempool_free(mp);
}

static void test_reject_stateless(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx t = mk(0, 0, 10);
    pel_mempool_result r;

    uint8_t *big = calloc(1, PEL_TX_SIZE_MAX + 1);
    if (big) {
        r = sub_raw(mp, big, PEL_TX_SIZE_MAX + 1);
        CHECK_EQ_INT(r.code, PEL_ETXSIZE);
        CHECK_EQ_INT(r.has_id, 0);
        CHECK(r.why && strstr(r.why, "size"));
        free(big);
    }
    r = sub_raw(mp, t.raw, t.len - 1);
    CHECK_EQ_INT(r.code, PEL_ETRUNC);
    CHECK_EQ_INT(r.has_id, 0);
    CHECK(r.why && strstr(r.why, "malformed"));
    uint8_t longer[300];
    memcpy(longer, t.raw, t.len);
    longer[t.len] = 0;
    CHECK_EQ_INT(sub_raw(mp, longer, t.len + 1).code, PEL_ETRAILING);
    CHECK_EQ_INT(sub_raw(mp, (const uint8_t *)"", 0).code, PEL_ETRUNC);

    stx bad = t;
    bad.raw[bad.len - 1] ^= 1;   /* last byte of the signature */
    r = sub(mp, &bad);
    CHECK_EQ_INT(r.code, PEL_EBADSIG);
    CHECK_EQ_INT(r.has_id, 1);
    CHECK(r.why && strstr(r.why, "signature"));
    memcpy(bad.id, r.id, PEL_TXID_LEN);
    CHECK(rejected_as(mp, &bad, PEL_EBADSIG));

    stx other = sign_spec((spec){ .k = 0, .nonce = 0, .price = 10, .amount = 1, .chain = "pel-other" });
    r = sub(mp, &other);
    CHECK_EQ_INT(r.code, PEL_ECHAIN);
    CHECK(rejected_as(mp, &other, PEL_ECHAIN));

    stx cheap = mk(0, 0, 0);
    CHECK_EQ_INT(code(mp, &cheap), PEL_EFEE);
    stx low_gas = sign_spec((spec){ .k = 0, .nonce = 0, .price = 1, .amount = 1, .gas = 100 });
    CHECK_EQ_INT(code(mp, &low_gas), PEL_EGAS);

    pel_mempool_set_height(mp, 10);
    stx old = sign_spec((spec){ .k = 0, .nonce = 0, .price = 10, .amount = 1, .expiry = 9 });
    r = sub(mp, &old);
    CHECK_EQ_INT(r.code, PEL_EEXPIRED);
    CHECK(rejected_as(mp, &old, PEL_EEXPIRED));
    stx last = sign_spec((spec){ .k = 0, .nonce = 0, .price = 10, .amount = 1, .expiry = 10 });
    CHECK_EQ_INT(code(mp, &last), 0);   /* may still go into block 10 */
    CHECK_EQ_INT(n_pending(mp), 1);
    pel_mempool_free(mp);
}

static void test_reject_nonce(void)
{
    pel_mempool *mp = new_pool(100, 4, 1);
    if (!mp) return;
    bank_set(0, 5, BIG);
    stx low = mk(0, 4, 10), far = mk(0, 10, 10), edge = mk(0, 9, 10);
    pel_mempool_result r = sub(mp, &low);
    CHECK_EQ_INT(r.code, PEL_ENONCE);
    CHECK(r.why && strstr(r.why, "nonce too low"));
    CHECK(rejected_as(mp, &low, PEL_ENONCE));
    CHECK_EQ_INT(code(mp, &far), PEL_EFUTURE);   /* 5 + 4 + 1 */
    CHECK_EQ_INT(code(mp, &edge), 0);            /* 5 + 4: the furthest accepted */
    CHECK_EQ_INT(pel_mempool_next_nonce(mp, &K[0].addr), 5);   /* 9 is not contiguous */
    pel_mempool_free(mp);
}

static void test_reject_funds(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a = sign_spec((spec){ .k = 0, .nonce = 0, .price = 10, .amount = 100 });
    stx b = sign_spec((spec){ .k = 0, .nonce = 1, .price = 10, .amount = 100 });
    stx c = sign_spec((spec){ .k = 0, .nonce = 2, .price = 10, .amount = 100 });
    stx b2 = sign_spec((spec){ .k = 0, .nonce = 1, .price = 11, .amount = 100 });
    bank_set(0, 0, a.spend + b.spend);
    CHECK_EQ_INT(code(mp, &a), 0);
    CHECK_EQ_INT(code(mp, &b), 0);
    pel_mempool_result r = sub(mp, &c);
    CHECK_EQ_INT(r.code, PEL_EFUNDS);
    CHECK(r.why && strstr(r.why, "insufficient balance for max fee"));
    CHECK_EQ_INT(code(mp, &b2), PEL_EFUNDS);   /* a dearer replacement must be covered too */
    CHECK(pending(mp, &b));
    /* the amount counts, not only the fee */
    stx d = sign_spec((spec){ .k = 1, .nonce = 0, .price = 10, .amount = 100 });
    bank_set(1, 0, d.spend - 1);
    CHECK_EQ_INT(code(mp, &d), PEL_EFUNDS);
    bank_set(1, 0, d.spend);
    CHECK_EQ_INT(code(mp, &d), 0);
    pel_mempool_free(mp);
}

/* Module bodies count what they can take: a licence purchase its maximum
 * price, a DAO deposit its amount (module.h spend). */
static void test_reject_funds_modules(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    pel_obj_id obj;
    pel_dao_id dao;
    pel_buf lb, db;
    memset(&obj, 7, sizeof obj);
    memset(&dao, 9, sizeof dao);
    pel_buf_init(&lb);
    pel_buf_init(&db);
    CHECK_EQ_INT(pel_lic_buy_body(&obj, 5000, &lb), 0);
    CHECK_EQ_INT(pel_dao_deposit_body(&dao, 700, &db), 0);
    stx buy = sign_spec((spec){ .k = 2, .nonce = 0, .price = 1, .gas = 200000, .amount = 5000,
                                .type = PEL_TX_LIC_BUY, .body = &lb });
    stx dep = sign_spec((spec){ .k = 3, .nonce = 0, .price = 1, .gas = 200000, .amount = 700,
                                .type = PEL_TX_DAO_DEPOSIT, .body = &db });
    bank_set(2, 0, buy.spend - 1);
    CHECK_EQ_INT(code(mp, &buy), PEL_EFUNDS);
    bank_set(2, 0, buy.spend);
    CHECK_EQ_INT(code(mp, &buy), 0);
    bank_set(3, 0, dep.spend - 1);
    CHECK_EQ_INT(code(mp, &dep), PEL_EFUNDS);
    bank_set(3, 0, dep.spend);
    CHECK_EQ_INT(code(mp, &dep), 0);
    /* an "any price" purchase counts as 2^63-1: nobody holds that much */
    pel_buf_reset(&lb);
    CHECK_EQ_INT(pel_lic_buy_body(&obj, UINT64_MAX, &lb), 0);
    stx any = sign_spec((spec){ .k = 4, .nonce = 0, .price = 1, .gas = 200000, .amount = 0,
                                .type = PEL_TX_LIC_BUY, .body = &lb });
    bank_set(4, 0, 1000000000);
    CHECK_EQ_INT(code(mp, &any), PEL_EFUNDS);
    pel_buf_free(&lb);
    pel_buf_free(&db);
    pel_mempool_free(mp);
}

static void test_reject_duplicate(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx t = mk(0, 0, 10), u = mk(0, 1, 10);
    CHECK_EQ_INT(code(mp, &t), 0);
    pel_mempool_result r = sub(mp, &t);
    CHECK_EQ_INT(r.code, PEL_EDUP);
    CHECK_EQ_INT(r.has_id, 1);
    CHECK(pending(mp, &t));                 /* a duplicate does not un-pend it */
    const stx *twice[2] = { &u, &u };
    int rs[2];
    sub_batch(mp, twice, 2, rs);
    CHECK_EQ_INT(rs[0], 0);
    CHECK_EQ_INT(rs[1], PEL_EDUP);
    CHECK_EQ_INT(n_pending(mp), 2);
    pel_mempool_free(mp);
}

static void test_replacement(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a = mk(0, 0, 10);
    stx same = sign_spec((spec){ .k = 0, .nonce = 0, .price = 10, .amount = 2 });
    stx lower = mk(0, 0, 9), higher = mk(0, 0, 11), after = mk(0, 0, 20);
    CHECK_EQ_INT(code(mp, &a), 0);
    pel_mempool_result r = sub(mp, &same);
    CHECK_EQ_INT(r.code, PEL_EDUP);
    CHECK(r.why && strstr(r.why, "strictly higher"));
    CHECK_EQ_INT(code(mp, &lower), PEL_EDUP);
    CHECK(pending(mp, &a));
    CHECK_EQ_INT(code(mp, &higher), 0);
    CHECK(rejected_as(mp, &a, PEL_EEVICTED));
    CHECK(pending(mp, &higher));
    CHECK_EQ_INT(n_pending(mp), 1);
    const stx *w[] = { &higher };
    CHECK(take_is(mp, 10, w, 1, NULL));
    r = sub(mp, &after);                    /* taken: no longer replaceable */
    CHECK_EQ_INT(r.code, PEL_EDUP);
    CHECK(r.why && strstr(r.why, "block"));
    pel_mempool_free(mp);
}

static void test_sender_limit(void)
{
    pel_mempool *mp = new_pool(100, 4, 1);
    if (!mp) return;
    for (uint64_t n = 0; n < 4; n++) {
        stx t = mk(0, n, 10);
        CHECK_EQ_INT(code(mp, &t), 0);
    }
    stx five = mk(0, 4, 10), six = mk(0, 5, 10), other = mk(1, 0, 10);
    pel_mempool_result r = sub(mp, &five);
    CHECK_EQ_INT(r.code, PEL_EFULL);
    CHECK(r.why && strstr(r.why, "sender"));
    CHECK(rejected_as(mp, &five, PEL_EFULL));
    CHECK_EQ_INT(code(mp, &six), PEL_EFUTURE);
    CHECK_EQ_INT(code(mp, &other), 0);      /* others are not limited by it */
    pel_mempool_free(mp);
}

static void test_pool_full_eviction(void)
{
    pel_mempool *mp = new_pool(3, 16, 1);
    if (!mp) return;
    stx a0 = mk(0, 0, 5), a1 = mk(0, 1, 50), b0 = mk(1, 0, 40);
    stx c_eq = mk(2, 0, 40), c0 = mk(2, 0, 45), d0 = mk(3, 0, 46), e0 = mk(4, 0, 10);
    CHECK_EQ_INT(code(mp, &a0), 0);
    CHECK_EQ_INT(code(mp, &a1), 0);
    CHECK_EQ_INT(code(mp, &b0), 0);
    pel_mempool_result r = sub(mp, &c_eq);  /* must pay strictly more than B0 */
    CHECK_EQ_INT(r.code, PEL_EFULL);
    CHECK(r.why && strstr(r.why, "full"));
    CHECK(rejected_as(mp, &c_eq, PEL_EFULL));
    /* candidates are each sender's highest nonce: A1 (50), B0 (40); never A0 */
    CHECK_EQ_INT(code(mp, &c0), 0);
    CHECK(rejected_as(mp, &b0, PEL_EEVICTED));
    CHECK_EQ_INT(code(mp, &d0), 0);         /* candidates A1 (50), C0 (45) */
    CHECK(rejected_as(mp, &c0, PEL_EEVICTED));
    CHECK_EQ_INT(code(mp, &e0), PEL_EFULL); /* candidates A1 (50), D0 (46) */
    CHECK(pending(mp, &a0) && pending(mp, &a1) && pending(mp, &d0));
    uint64_t txs, senders;
    pel_mempool_stats(mp, &txs, NULL, &senders);
    CHECK_EQ_INT(txs, 3);
    CHECK_EQ_INT(senders, 2);
    pel_mempool_free(mp);

    /* the sender's own highest nonce: evicted to fill a lower gap, never
     * to sit above a gap */
    mp = new_pool(2, 16, 1);
    if (!mp) return;
    stx x0 = mk(0, 0, 1), x1 = mk(0, 1, 1), x2 = mk(0, 2, 100);
    CHECK_EQ_INT(code(mp, &x0), 0);
    CHECK_EQ_INT(code(mp, &x1), 0);
    CHECK_EQ_INT(code(mp, &x2), PEL_EFULL);
    pel_mempool_free(mp);
    mp = new_pool(2, 16, 1);
    if (!mp) return;
    stx y0 = mk(0, 0, 1), y2 = mk(0, 2, 1), y1 = mk(0, 1, 100);
    CHECK_EQ_INT(code(mp, &y0), 0);
    CHECK_EQ_INT(code(mp, &y2), 0);
    CHECK_EQ_INT(code(mp, &y1), 0);
    CHECK(rejected_as(mp, &y2, PEL_EEVICTED));
    pel_mempool_free(mp);
}

/* A pool full of transactions waiting on nonce gaps (they arrived before
 * their predecessors) still admits the ones that can be taken, at the same
 * price: gapped ones are evicted first (the cheapest, then the latest), a
 * gapped newcomer is refused, and the gap's filler makes its sender's run
 * ready. */
static void test_pool_full_gaps(void)
{
    pel_mempool *mp = new_pool(4, 16, 1);
    if (!mp) return;
    stx a1 = mk(0, 1, 5), a2 = mk(0, 2, 5), a3 = mk(0, 3, 5), b2 = mk(1, 2, 5);
    stx c3 = mk(2, 3, 5), b0 = mk(1, 0, 5), a0 = mk(0, 0, 5), c0 = mk(2, 0, 5);
    CHECK_EQ_INT(code(mp, &a1), 0);
    CHECK_EQ_INT(code(mp, &a2), 0);
    CHECK_EQ_INT(code(mp, &a3), 0);
    CHECK_EQ_INT(code(mp, &b2), 0);
    CHECK(take_is(mp, 10, NULL, 0, NULL));    /* nothing is ready */
    pel_mempool_result r = sub(mp, &c3);      /* gapped itself: the price rule, refused */
    CHECK_EQ_INT(r.code, PEL_EFULL);
    CHECK(r.why && strstr(r.why, "full"));
    CHECK_EQ_INT(code(mp, &b0), 0);           /* gap candidates A3, B2 (latest): B2 goes */
    CHECK(rejected_as(mp, &b2, PEL_EEVICTED));
    CHECK_EQ_INT(code(mp, &a0), 0);           /* A3 goes; A0..A2 become one run */
    CHECK(rejected_as(mp, &a3, PEL_EEVICTED));
    CHECK(pending(mp, &a1) && pending(mp, &a2) && pending(mp, &b0) && pending(mp, &a0));
    CHECK_EQ_INT(code(mp, &c0), PEL_EFULL);   /* no gap left: same price, refused */
    const stx *want[] = { &b0, &a0, &a1, &a2 };
    CHECK(take_is(mp, 10, want, 4, NULL));
    pel_mempool_free(mp);

    /* a gapped transaction gives way even to a cheaper one that is not */
    mp = new_pool(1, 16, 1);
    if (!mp) return;
    stx e1 = mk(4, 1, 9), d0 = mk(3, 0, 1);
    CHECK_EQ_INT(code(mp, &e1), 0);
    CHECK_EQ_INT(code(mp, &d0), 0);
    CHECK(rejected_as(mp, &e1, PEL_EEVICTED));
    pel_mempool_free(mp);
}

static void test_pool_full_bytes(void)
{
    /* learn the accounted size of one transfer */
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx t = mk(0, 0, 10);
    uint64_t cost = 0;
    CHECK_EQ_INT(code(mp, &t), 0);
    pel_mempool_stats(mp, NULL, &cost, NULL);
    pel_mempool_free(mp);

    pel_mempool_opts o = pel_mempool_defaults();
    o.max_bytes = 2 * cost + cost / 2;
    o.verify_threads = 1;
    pel_mempool_accounts acc = { bank_get, &B };
    CHECK_EQ_INT(pel_mempool_new(&o, &P, acc, &mp), 0);
    if (!mp) return;
    stx a = mk(0, 0, 10), b = mk(1, 0, 10), c = mk(2, 0, 10), d = mk(3, 0, 11);
    CHECK_EQ_INT(code(mp, &a), 0);
    CHECK_EQ_INT(code(mp, &b), 0);
    CHECK_EQ_INT(code(mp, &c), PEL_EFULL);
    CHECK_EQ_INT(code(mp, &d), 0);
    CHECK(rejected_as(mp, &b, PEL_EEVICTED));   /* equal prices: the later one goes */
    CHECK(pending(mp, &a));
    uint64_t bytes;
    pel_mempool_stats(mp, NULL, &bytes, NULL);
    CHECK_EQ_INT(bytes, 2 * cost);
    pel_mempool_free(mp);
}

/* ---------------- ordering and take ---------------- */

static void test_nonce_order(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a0 = mk(0, 0, 10), a1 = mk(0, 1, 10), a2 = mk(0, 2, 99);
    CHECK_EQ_INT(code(mp, &a2), 0);
    CHECK(take_is(mp, 10, NULL, 0, NULL));          /* nonce 0 missing */
    CHECK_EQ_INT(code(mp, &a0), 0);
    const stx *w0[] = { &a0 };
    CHECK(take_is(mp, 10, w0, 1, NULL));            /* 2 waits for 1 */
    CHECK(take_is(mp, 10, NULL, 0, NULL));
    CHECK_EQ_INT(code(mp, &a1), 0);
    const stx *w1[] = { &a1, &a2 };
    CHECK(take_is(mp, 10, w1, 2, NULL));
    CHECK(take_is(mp, 10, NULL, 0, NULL));
    CHECK(pending(mp, &a0) && pending(mp, &a1) && pending(mp, &a2));   /* taken = pending */
    CHECK_EQ_INT(n_pending(mp), 3);
    pel_mempool_free(mp);
}

static void test_fee_priority(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a0 = mk(0, 0, 10), a1 = mk(0, 1, 10), a2 = mk(0, 2, 10);
    stx b0 = mk(1, 0, 30), b1 = mk(1, 1, 5), c0 = mk(2, 0, 20);
    stx d0 = mk(3, 0, 7), e0 = mk(4, 0, 7);
    const stx *order_in[] = { &b1, &a2, &a0, &d0, &c0, &e0, &a1, &b0 };
    for (size_t i = 0; i < 8; i++) CHECK_EQ_INT(code(mp, order_in[i]), 0);
    /* D0 arrived before E0 at the same price */
    const stx *w1[] = { &b0, &c0, &a0 };
    const stx *w2[] = { &a1, &a2, &d0 };
    const stx *w3[] = { &e0, &b1 };
    CHECK(take_is(mp, 3, w1, 3, NULL));
    CHECK(take_is(mp, 3, w2, 3, NULL));
    CHECK(take_is(mp, 3, w3, 2, NULL));
    CHECK(take_is(mp, 3, NULL, 0, NULL));
    CHECK_EQ_INT(n_pending(mp), 8);
    pel_mempool_free(mp);
}

static void test_expire_at_take(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    pel_mempool_set_height(mp, 5);
    stx a0 = sign_spec((spec){ .k = 0, .nonce = 0, .price = 10, .amount = 1, .expiry = 6 });
    stx a1 = mk(0, 1, 10);
    stx b0 = sign_spec((spec){ .k = 1, .nonce = 0, .price = 20, .amount = 1, .expiry = 5 });
    stx c0 = sign_spec((spec){ .k = 2, .nonce = 0, .price = 1, .amount = 1, .expiry = 7 });
    CHECK_EQ_INT(code(mp, &a0), 0);
    CHECK_EQ_INT(code(mp, &a1), 0);
    CHECK_EQ_INT(code(mp, &b0), 0);
    CHECK_EQ_INT(code(mp, &c0), 0);
    pel_mempool_set_height(mp, 7);
    const stx *w[] = { &c0 };
    CHECK(take_is(mp, 10, w, 1, NULL));     /* A0 and B0 expired; A1 is behind a gap */
    CHECK(rejected_as(mp, &a0, PEL_EEXPIRED));
    CHECK(rejected_as(mp, &b0, PEL_EEXPIRED));
    CHECK(pending(mp, &a1));
    CHECK_EQ_INT(n_pending(mp), 2);
    CHECK_EQ_INT(pel_mempool_next_nonce(mp, &K[0].addr), 0);
    pel_mempool_free(mp);
}

/* ---------------- done ---------------- */

static void test_done_commit(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a[6];
    for (int i = 0; i < 6; i++) a[i] = mk(0, (uint64_t)i, 10);
    stx b0 = mk(1, 0, 5);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(code(mp, &a[i]), 0);
    CHECK_EQ_INT(code(mp, &b0), 0);
    const pel_tx *out[8];
    const stx *w1[] = { &a[0], &a[1], &a[2] };
    CHECK(take_is(mp, 3, w1, 3, out));
    /* the block committed A0..A2; what is left only covers A3 */
    bank_set(0, 3, a[3].spend);
    pel_mempool_done(mp, out, 3, 1);
    uint64_t txs, senders;
    pel_mempool_stats(mp, &txs, NULL, &senders);
    CHECK_EQ_INT(txs, 2);
    CHECK_EQ_INT(senders, 2);
    int reason;
    CHECK_EQ_INT(look(mp, &a[0], &reason), PEL_MEMPOOL_UNKNOWN);   /* the store knows */
    CHECK_EQ_INT(look(mp, &a[2], &reason), PEL_MEMPOOL_UNKNOWN);
    CHECK_EQ_INT(pel_mempool_next_nonce(mp, &K[0].addr), 4);
    CHECK_EQ_INT(code(mp, &a[4]), PEL_EFUNDS);   /* the balance was re-read */
    CHECK_EQ_INT(code(mp, &a[0]), PEL_ENONCE);   /* and the nonce */
    bank_set(0, 3, BIG);
    const stx *w2[] = { &a[3], &b0 };
    CHECK(take_is(mp, 10, w2, 2, out));
    CHECK_EQ_INT(code(mp, &a[4]), PEL_EFUNDS);   /* cached until the next done */
    /* the block held A3 and B0, but A4 and A5 were committed elsewhere */
    bank_set(0, 6, BIG);
    bank_set(1, 1, BIG);
    stx b1 = mk(1, 1, 5);
    CHECK_EQ_INT(code(mp, &b1), 0);
    pel_mempool_set_height(mp, 2);
    pel_mempool_done(mp, out, 2, 1);
    CHECK_EQ_INT(code(mp, &a[4]), PEL_ENONCE);
    pel_mempool_stats(mp, &txs, NULL, &senders);
    CHECK_EQ_INT(txs, 1);
    CHECK_EQ_INT(senders, 1);
    const stx *w3[] = { &b1 };
    CHECK(take_is(mp, 10, w3, 1, out));
    pel_mempool_free(mp);

    /* stale pending transactions are dropped, remembered as ENONCE */
    mp = new_pool(100, 16, 1);
    if (!mp) return;
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(code(mp, &a[i]), 0);
    CHECK_EQ_INT(code(mp, &a[5]), 0);
    const stx *w4[] = { &a[0], &a[1] };
    CHECK(take_is(mp, 2, w4, 2, out));
    bank_set(0, 4, BIG);                    /* A2, A3 committed by someone else */
    pel_mempool_done(mp, out, 2, 1);
    CHECK(rejected_as(mp, &a[2], PEL_ENONCE));
    CHECK(rejected_as(mp, &a[3], PEL_ENONCE));
    CHECK(pending(mp, &a[5]));
    CHECK_EQ_INT(n_pending(mp), 1);
    CHECK(take_is(mp, 10, NULL, 0, out));   /* A4 is missing */
    CHECK_EQ_INT(code(mp, &a[4]), 0);
    const stx *w5[] = { &a[4], &a[5] };
    CHECK(take_is(mp, 10, w5, 2, out));
    pel_mempool_free(mp);
}

/* A transaction in the block that did not consume its nonce (voided):
 * the sender's next nonce comes back to the committed one. */
static void test_done_voided(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a0 = mk(0, 0, 10), a1 = mk(0, 1, 10), a1b = mk(0, 1, 12), a2 = mk(0, 2, 10);
    CHECK_EQ_INT(code(mp, &a0), 0);
    CHECK_EQ_INT(code(mp, &a1), 0);
    const pel_tx *out[4];
    const stx *w[] = { &a0, &a1 };
    CHECK(take_is(mp, 10, w, 2, out));
    CHECK_EQ_INT(code(mp, &a2), 0);
    bank_set(0, 1, BIG);                    /* only A0 took effect */
    pel_mempool_done(mp, out, 2, 1);
    CHECK_EQ_INT(pel_mempool_next_nonce(mp, &K[0].addr), 1);
    CHECK(take_is(mp, 10, NULL, 0, NULL));  /* A2 waits for a new nonce 1 */
    CHECK_EQ_INT(code(mp, &a1b), 0);
    const stx *w2[] = { &a1b, &a2 };
    CHECK(take_is(mp, 10, w2, 2, NULL));
    pel_mempool_free(mp);
}

/* Inside done(), between forgetting the committed transactions and
 * re-reading their senders, the old balance must not pay twice: the bank's
 * hook submits from within done's account read to land in that window. */
static pel_mempool *window_mp;
static const stx *window_tx;
static int window_code;

static void window_submit(void)
{
    window_code = code(window_mp, window_tx);
}

static void test_done_window(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a0 = mk(0, 0, 10), a1 = mk(0, 1, 10), a2 = mk(0, 2, 10);
    bank_set(0, 0, a0.spend + a1.spend);
    CHECK_EQ_INT(code(mp, &a0), 0);
    CHECK_EQ_INT(code(mp, &a1), 0);
    const pel_tx *out[2];
    const stx *w[] = { &a0 };
    CHECK(take_is(mp, 1, w, 1, out));
    bank_set(0, 1, a1.spend);               /* A0 spent its share */
    window_mp = mp;
    window_tx = &a2;
    window_code = 1;
    B.hook = window_submit;
    pel_mempool_done(mp, out, 1, 1);
    B.hook = NULL;
    CHECK_EQ_INT(window_code, PEL_EFUNDS);
    CHECK_EQ_INT(code(mp, &a2), PEL_EFUNDS);
    CHECK(pending(mp, &a1));
    CHECK_EQ_INT(n_pending(mp), 1);
    pel_mempool_free(mp);
}

static void test_done_abort(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a0 = mk(0, 0, 10), a1 = mk(0, 1, 10), b0 = mk(1, 0, 20);
    CHECK_EQ_INT(code(mp, &a0), 0);
    CHECK_EQ_INT(code(mp, &a1), 0);
    CHECK_EQ_INT(code(mp, &b0), 0);
    const pel_tx *out[8];
    const stx *w[] = { &b0, &a0, &a1 };
    CHECK(take_is(mp, 10, w, 3, out));
    CHECK(take_is(mp, 10, NULL, 0, NULL));
    pel_mempool_done(mp, out, 3, 0);
    CHECK_EQ_INT(n_pending(mp), 3);
    CHECK(take_is(mp, 10, w, 3, out));      /* the same, in the same order */
    pel_mempool_done(mp, out + 1, 2, 0);    /* only A's come back */
    const stx *wa[] = { &a0, &a1 };
    CHECK(take_is(mp, 10, wa, 2, out + 1));
    bank_set(0, 2, BIG);
    bank_set(1, 1, BIG);
    pel_mempool_done(mp, out, 3, 1);
    CHECK_EQ_INT(n_pending(mp), 0);
    uint64_t senders = 9;
    pel_mempool_stats(mp, NULL, NULL, &senders);
    CHECK_EQ_INT(senders, 0);
    pel_mempool_free(mp);
}

/* A replicated block commits a0 and b0 (taken here for a proposal of this
 * node's) and a transaction this mempool never saw: a0 goes, A's stale
 * nonce goes with it, b0 stays until its holder is done, and when that
 * proposal fails b0 is dropped, not offered again. */
static void test_committed_elsewhere(void)
{
    pel_mempool *mp = new_pool(100, 16, 1);
    if (!mp) return;
    stx a0 = mk(0, 0, 10), a1 = mk(0, 1, 10), b0 = mk(1, 0, 20), b1 = mk(1, 1, 20), d0 = mk(3, 0, 10);
    CHECK_EQ_INT(code(mp, &a0), 0);
    CHECK_EQ_INT(code(mp, &a1), 0);
    CHECK_EQ_INT(code(mp, &b0), 0);
    CHECK_EQ_INT(code(mp, &b1), 0);
    const pel_tx *out[8];
    const stx *w[] = { &b0 };
    CHECK(take_is(mp, 1, w, 1, out));
    pel_tx blk[3];
    CHECK_EQ_INT(pel_tx_decode(a0.raw, a0.len, &blk[0]), 0);
    CHECK_EQ_INT(pel_tx_decode(b0.raw, b0.len, &blk[1]), 0);
    CHECK_EQ_INT(pel_tx_decode(d0.raw, d0.len, &blk[2]), 0);
    const pel_tx *ptr[3] = { &blk[0], &blk[1], &blk[2] };
    bank_set(0, 1, BIG);
    bank_set(1, 1, BIG);
    bank_set(3, 1, BIG);
    pel_mempool_committed(mp, ptr, 3);
    int reason;
    CHECK_EQ_INT(look(mp, &a0, &reason), PEL_MEMPOOL_UNKNOWN);    /* forgotten, not refused */
    CHECK(pending(mp, &b0));                                       /* taken: its holder decides */
    CHECK_EQ_INT(n_pending(mp), 3);
    CHECK_EQ_INT(pel_mempool_next_nonce(mp, &K[0].addr), 2);
    pel_mempool_done(mp, out, 1, 0);                               /* the proposal failed */
    CHECK(rejected_as(mp, &b0, PEL_ENONCE));
    const stx *rest[] = { &b1, &a1 };
    CHECK(take_is(mp, 10, rest, 2, out));
    pel_mempool_done(mp, out, 2, 0);
    pel_mempool_committed(mp, ptr, 0);                             /* nothing: a no-op */
    CHECK_EQ_INT(n_pending(mp), 2);
    pel_mempool_free(mp);
}

static void test_reject_memory(void)
{
    pel_mempool_opts o = pel_mempool_defaults();
    pel_mempool *mp = NULL;
    o.reject_memory = 2;
    o.verify_threads = 1;
    pel_mempool_accounts acc = { bank_get, &B };
    CHECK_EQ_INT(pel_mempool_new(&o, &P, acc, &mp), 0);
    if (!mp) return;
    bank_reset();
    stx r[3];
    for (int i = 0; i < 3; i++) {
        r[i] = sign_spec((spec){ .k = i, .nonce = 0, .price = 1, .amount = 1, .chain = "x" });
        CHECK_EQ_INT(code(mp, &r[i]), PEL_ECHAIN);
    }
    int reason;
    CHECK_EQ_INT(look(mp, &r[0], &reason), PEL_MEMPOOL_UNKNOWN);   /* forgotten */
    CHECK(rejected_as(mp, &r[1], PEL_ECHAIN));
    CHECK(rejected_as(mp, &r[2], PEL_ECHAIN));
    pel_mempool_free(mp);
    /* bad options */
    o = pel_mempool_defaults();
    o.max_txs = 0;
    CHECK_EQ_INT(pel_mempool_new(&o, &P, acc, &mp), PEL_EINVAL);
    CHECK(mp == NULL);
}

/* The committed account is read once per sender that has no record (for
 * the first of its transactions in a batch), never for a sender with
 * something pending; a sender whose first transaction is refused is read
 * again for the next one, and the answers are those of fresh reads. */
static void test_account_reads(void)
{
    pel_mempool *mp = new_pool(100, 64, 2);
    if (!mp) return;
    stx t[16];
    const stx *b[16];
    int c[16];
    for (int i = 0; i < 10; i++) t[i] = mk(0, (uint64_t)i, 10);
    for (int i = 0; i < 4; i++) t[10 + i] = mk(1, (uint64_t)i, 10);
    static const int order[14] = { 0, 10, 1, 11, 2, 12, 3, 13, 4, 5, 6, 7, 8, 9 };
    for (int i = 0; i < 14; i++) b[i] = &t[order[i]];  /* senders interleaved */
    atomic_store(&B.calls, 0);
    sub_batch(mp, b, 14, c);
    for (int i = 0; i < 14; i++) CHECK_EQ_INT(c[i], 0);
    CHECK_EQ_INT((int)atomic_load(&B.calls), 2);        /* one a new sender */
    stx more[3] = { mk(0, 10, 10), mk(0, 11, 10), mk(1, 4, 10) };
    const stx *mb[3] = { &more[0], &more[1], &more[2] };
    sub_batch(mp, mb, 3, c);
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(c[i], 0);
    CHECK_EQ_INT((int)atomic_load(&B.calls), 2);        /* both have records */
    CHECK_EQ_INT(code(mp, &more[0]), PEL_EDUP);
    CHECK_EQ_INT((int)atomic_load(&B.calls), 2);
    /* sender 2 has committed nonce 5: its first transaction (nonce 3) is
     * refused and makes no record, so the next (nonce 5) reads again; an
     * underfunded one of sender 3 is refused with the balance read */
    bank_set(2, 5, BIG);
    bank_set(3, 0, 1);
    stx r[3] = { mk(2, 3, 10), mk(2, 5, 10), mk(3, 0, 10) };
    const stx *rb[3] = { &r[0], &r[1], &r[2] };
    sub_batch(mp, rb, 3, c);
    CHECK_EQ_INT(c[0], PEL_ENONCE);
    CHECK_EQ_INT(c[1], 0);
    CHECK_EQ_INT(c[2], PEL_EFUNDS);
    CHECK_EQ_INT((int)atomic_load(&B.calls), 5);
    CHECK_EQ_INT(n_pending(mp), 18);
    pel_mempool_free(mp);
}

/* ---------------- batches and threads ---------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define BATCH 2000
#define BSEND 20

static void test_batch_parallel(void)
{
    stx *t = calloc(BATCH, sizeof *t);
    const uint8_t **raw = calloc(BATCH, sizeof *raw);
    size_t *len = calloc(BATCH, sizeof *len);
    int *want = calloc(BATCH, sizeof *want);
    pel_mempool_result *res = calloc(BATCH, sizeof *res);
    pel_mempool *mp = new_pool(100000, 8192, 3);
    if (!t || !raw || !len || !want || !res || !mp) goto out;
    uint64_t seed = 0x5eed;
    for (int i = 0; i < BATCH; i++) {
        t[i] = mk(i % BSEND, (uint64_t)(i / BSEND), 1 + rng_next(&seed) % 100);
        raw[i] = t[i].raw;
        len[i] = t[i].len;
    }
    int nbad = 0;
    for (int j = 0; j < 40; j++) {
        int i = 1 + (int)(rng_next(&seed) % (BATCH - 1));
        /* a duplicate's original stays good, and is not itself a duplicate */
        if (want[i] || want[i - 1] == PEL_EDUP || (i + 1 < BATCH && want[i + 1] == PEL_EDUP))
            continue;
        switch (j % 4) {
        case 0: t[i].raw[t[i].len - 10] ^= 0x10; want[i] = PEL_EBADSIG; break;
        case 1: len[i] = t[i].len - 3; want[i] = PEL_ETRUNC; break;
        case 2:
            t[i] = sign_spec((spec){ .k = i % BSEND, .nonce = (uint64_t)(i / BSEND), .price = 5,
                                     .amount = 1, .chain = "elsewhere" });
            len[i] = t[i].len;
            want[i] = PEL_ECHAIN;
            break;
        case 3:
            if (want[i - 1]) continue;
            raw[i] = t[i - 1].raw;         /* the previous one again */
            want[i] = PEL_EDUP;
            break;
        }
        nbad++;
    }
    double t0 = now_s();
    CHECK_EQ_INT(pel_mempool_submit(mp, raw, len, BATCH, res), 0);
    double dt = now_s() - t0;
    int wrong = 0, good = 0;
    for (int i = 0; i < BATCH; i++) {
        wrong += res[i].code != want[i];
        wrong += res[i].has_id != (want[i] != PEL_ETRUNC);
        if (want[i] == 0) {
            good++;
            wrong += memcmp(res[i].id, t[i].id, PEL_TXID_LEN) != 0 || !pending(mp, &t[i]);
        } else if (want[i] == PEL_EBADSIG || want[i] == PEL_ECHAIN) {
            int reason = 0;
            wrong += pel_mempool_lookup(mp, res[i].id, &reason) != PEL_MEMPOOL_REJECTED ||
                     reason != want[i];
        }
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(nbad >= 20);
    CHECK_EQ_INT(n_pending(mp), good);
    printf("test_mempool: batch of %d (%d bad), 3 verify threads: %.0f tx/s\n", BATCH, nbad,
           BATCH / dt);

    /* the same transactions one call each, verified on the calling thread */
    pel_mempool_free(mp);
    mp = new_pool(100000, 8192, 1);
    if (!mp) goto out;
    t0 = now_s();
    for (int i = 0; i < BATCH; i++) (void)sub_raw(mp, raw[i], len[i]);
    dt = now_s() - t0;
    CHECK_EQ_INT(n_pending(mp), good);
    printf("test_mempool: %d single submissions, 1 thread: %.0f tx/s\n", BATCH, BATCH / dt);

    /* take everything in one go */
    const pel_tx **out = calloc(BATCH, sizeof *out);
    if (out) {
        t0 = now_s();
        size_t k = pel_mempool_take(mp, BATCH, out);
        dt = now_s() - t0;
        printf("test_mempool: take(%zu) in %.2f ms\n", k, dt * 1e3);
        CHECK(k > 0 && k <= (size_t)good);
        t0 = now_s();
        pel_mempool_done(mp, out, k, 1);
        printf("test_mempool: done(%zu) in %.2f ms\n", k, (now_s() - t0) * 1e3);
        free(out);
    }
out:
    pel_mempool_free(mp);
    free(t);
    free(raw);
    free(len);
    free(want);
    free(res);
}

#define CT_THREADS 4
#define CT_SENDERS 6        /* per thread */
#define CT_PER 60           /* transactions per sender */
#define CT_TOTAL (CT_THREADS * CT_SENDERS * CT_PER)

typedef struct ct_shared {
    pel_mempool *mp;
    stx *t;                 /* CT_TOTAL, thread-major, nonce order per sender */
    atomic_int submitters_left;
    atomic_int accepted, refused;
    int bad_lookups;                 /* taker only */
    uint8_t taken_count[CT_TOTAL];   /* taker only */
} ct_shared;

typedef struct ct_arg { ct_shared *sh; int thread; } ct_arg;

static void *ct_submit(void *p)
{
    ct_arg *a = p;
    ct_shared *sh = a->sh;
    uint64_t seed = (uint64_t)a->thread * 7919 + 1;
    int base = a->thread * CT_SENDERS * CT_PER, n = CT_SENDERS * CT_PER;
    const uint8_t *raw[64];
    size_t len[64];
    pel_mempool_result res[64];
    for (int i = 0; i < n;) {
        int m = 1 + (int)(rng_next(&seed) % 40);
        if (m > n - i) m = n - i;
        for (int j = 0; j < m; j++) {
            raw[j] = sh->t[base + i + j].raw;
            len[j] = sh->t[base + i + j].len;
        }
        if (pel_mempool_submit(sh->mp, raw, len, (size_t)m, res) != 0) break;
        for (int j = 0; j < m; j++) {
            if (res[j].code == 0) atomic_fetch_add(&sh->accepted, 1);
            else {
                atomic_fetch_add(&sh->refused, 1);
                fprintf(stderr, "  concurrent: refused %d (%s)\n", res[j].code,
                        res[j].why ? res[j].why : "?");
            }
        }
        i += m;
    }
    atomic_fetch_sub(&sh->submitters_left, 1);
    return NULL;
}

static int ct_index(ct_shared *sh, const pel_tx *tx)
{
    int k = key_of(&tx->from);
    int thread = k / CT_SENDERS, s = k % CT_SENDERS;
    int i = (thread * CT_SENDERS + s) * CT_PER + (int)tx->nonce;
    return memcmp(sh->t[i].id, tx->id, PEL_TXID_LEN) == 0 ? i : -1;
}

static void *ct_take(void *p)
{
    ct_shared *sh = p;
    const pel_tx *out[50];
    int rounds = 0, lost = 0;
    for (;;) {
        int left = atomic_load(&sh->submitters_left);
        size_t k = pel_mempool_take(sh->mp, 50, out);
        if (k == 0) {
            if (left == 0 && n_pending(sh->mp) == 0) break;
            if (left == 0 && ++lost > 1000) break;   /* stuck: the checks below fail */
            sched_yield();
            continue;
        }
        if (++rounds % 5 == 0) {                     /* a failed block */
            pel_mempool_done(sh->mp, out, k, 0);
            continue;
        }
        for (size_t i = 0; i < k; i++) {
            int ix = ct_index(sh, out[i]);
            if (ix >= 0) sh->taken_count[ix]++;
            int reason;
            if (pel_mempool_lookup(sh->mp, out[i]->id, &reason) != PEL_MEMPOOL_PENDING) sh->bad_lookups++;
            bank_set(key_of(&out[i]->from), out[i]->nonce + 1, BIG);
        }
        pel_mempool_done(sh->mp, out, k, 1);
    }
    return NULL;
}

static void test_concurrent(void)
{
    ct_shared *sh = calloc(1, sizeof *sh);
    if (!sh) return;
    sh->t = calloc(CT_TOTAL, sizeof *sh->t);
    sh->mp = new_pool(100000, 8192, 2);
    if (!sh->t || !sh->mp) goto out;
    for (int th = 0; th < CT_THREADS; th++)
        for (int s = 0; s < CT_SENDERS; s++)
            for (int n = 0; n < CT_PER; n++)
                sh->t[(th * CT_SENDERS + s) * CT_PER + n] =
                    mk(th * CT_SENDERS + s, (uint64_t)n, 1 + (uint64_t)((n * 7 + s) % 13));
    atomic_init(&sh->submitters_left, CT_THREADS);
    pthread_t sub_t[CT_THREADS], take_t;
    ct_arg args[CT_THREADS];
    double t0 = now_s();
    CHECK_EQ_INT(pthread_create(&take_t, NULL, ct_take, sh), 0);
    for (int i = 0; i < CT_THREADS; i++) {
        args[i] = (ct_arg){ sh, i };
        CHECK_EQ_INT(pthread_create(&sub_t[i], NULL, ct_submit, &args[i]), 0);
    }
    for (int i = 0; i < CT_THREADS; i++) pthread_join(sub_t[i], NULL);
    pthread_join(take_t, NULL);
    double dt = now_s() - t0;
    CHECK_EQ_INT(atomic_load(&sh->accepted), CT_TOTAL);
    CHECK_EQ_INT(atomic_load(&sh->refused), 0);
    int once = 0;
    for (int i = 0; i < CT_TOTAL; i++) once += sh->taken_count[i] == 1;
    CHECK_EQ_INT(once, CT_TOTAL);       /* every one committed exactly once */
    CHECK_EQ_INT(n_pending(sh->mp), 0);
    CHECK_EQ_INT(sh->bad_lookups, 0);
    printf("test_mempool: %d threads submitting + 1 producer: %d tx in %.0f ms\n", CT_THREADS,
           CT_TOTAL, dt * 1e3);
out:
    pel_mempool_free(sh->mp);
    free(sh->t);
    free(sh);
}

/* ---------------- random operations against a reference model ---------------- */

/*
 * The model keeps every generated transaction with its state (pending,
 * taken, last refusal) and re-derives each answer by scanning: the rules
 * of mempool.h written the simple way. Small limits make every path common.
 */
#define MS 4                /* senders */
#define MT 6                /* max_txs */
#define MP 3                /* max_per_sender */
#define MG 8192             /* generated transactions at most */
#define MK(s) (40 + (s))    /* the key (and bank row) of model sender s */

typedef struct mtx {
    stx t;
    int s, bad;
    uint64_t nonce, price, expiry, spend;
    int pending, taken, rej;
    uint64_t seq;
} mtx;

typedef struct msnd { int rec, pin; uint64_t nonce, balance, next; } msnd;

typedef struct model {
    mtx *g;
    int ng;
    int live[64], nlive;    /* indices of pending transactions */
    msnd s[MS];
    uint64_t height, seq;
} model;

static int m_find(model *m, int s, uint64_t nonce)
{
    for (int i = 0; i < m->nlive; i++)
        if (m->g[m->live[i]].s == s && m->g[m->live[i]].nonce == nonce) return m->live[i];
    return -1;
}

static int m_count(model *m, int s, uint64_t *spend)
{
    int c = 0;
    if (spend) *spend = 0;
    for (int i = 0; i < m->nlive; i++)
        if (m->g[m->live[i]].s == s) {
            c++;
            if (spend) *spend += m->g[m->live[i]].spend;
        }
    return c;
}

/* Remove pending g; reason 0: committed (nothing remembered). */
static void m_remove(model *m, int g, int reason)
{
    for (int i = 0; i < m->nlive; i++)
        if (m->live[i] == g) { m->live[i] = m->live[--m->nlive]; break; }
    m->g[g].pending = m->g[g].taken = 0;
    if (reason) m->g[g].rej = reason;
    int s = m->g[g].s;
    if (!m->s[s].pin && m_count(m, s, NULL) == 0) m->s[s].rec = 0;
}

static int m_reject(model *m, int g, int code)
{
    m->g[g].rej = code;
    return code;
}

static uint64_t m_next_nonce(model *m, int s);

/* The eviction candidate: each sender's highest nonce if untaken (gapped:
 * and above the run of pending nonces from its committed one); cheapest,
 * then latest. */
static int m_candidate(model *m, int gapped)
{
    int best = -1;
    for (int s = 0; s < MS; s++) {
        int top = -1;
        for (int i = 0; i < m->nlive; i++) {
            mtx *x = &m->g[m->live[i]];
            if (x->s == s && (top < 0 || x->nonce > m->g[top].nonce)) top = m->live[i];
        }
        if (top < 0 || m->g[top].taken || (gapped && m->g[top].nonce <= m_next_nonce(m, s))) continue;
        if (best < 0 || m->g[top].price < m->g[best].price ||
            (m->g[top].price == m->g[best].price && m->g[top].seq > m->g[best].seq))
            best = top;
    }
    return best;
}

static int m_submit(model *m, int g)
{
    mtx *x = &m->g[g];
    msnd *ms = &m->s[x->s];
    if (x->expiry && m->height > x->expiry) return m_reject(m, g, PEL_EEXPIRED);
    if (x->bad) return m_reject(m, g, PEL_EBADSIG);
    if (x->pending) return PEL_EDUP;
    uint64_t nonce = ms->rec ? ms->nonce : B.nonce[MK(x->s)];
    uint64_t bal = ms->rec ? ms->balance : B.balance[MK(x->s)], pend;
    if (x->nonce < nonce) return m_reject(m, g, PEL_ENONCE);
    if (x->nonce - nonce > MP) return m_reject(m, g, PEL_EFUTURE);
    int old = m_find(m, x->s, x->nonce), n = m_count(m, x->s, &pend);
    if (old >= 0) pend -= m->g[old].spend;
    if (pend + x->spend > bal) return m_reject(m, g, PEL_EFUNDS);
    if (old >= 0 && (m->g[old].taken || m->g[old].price >= x->price))
        return m_reject(m, g, PEL_EDUP);
    if (old < 0 && n >= MP) return m_reject(m, g, PEL_EFULL);
    if (!ms->rec) *ms = (msnd){ .rec = 1, .nonce = nonce, .balance = bal, .next = nonce };
    ms->pin = 1;
    int full = 0;
    if (old >= 0) m_remove(m, old, PEL_EEVICTED);
    while (old < 0 && m->nlive >= MT) {
        int c = x->nonce <= m_next_nonce(m, x->s) ? m_candidate(m, 1) : -1;
        if (c >= 0) {   /* x can be taken once its predecessors are: gaps go first */
            m_remove(m, c, PEL_EEVICTED);
            continue;
        }
        c = m_candidate(m, 0);
        if (c < 0 || m->g[c].price >= x->price || (m->g[c].s == x->s && m->g[c].nonce < x->nonce)) {
            full = 1;
            break;
        }
        m_remove(m, c, PEL_EEVICTED);
    }
    ms->pin = 0;
    if (full) {
        if (m_count(m, x->s, NULL) == 0) ms->rec = 0;
        return m_reject(m, g, PEL_EFULL);
    }
    x->pending = 1;
    x->taken = 0;
    x->seq = m->seq++;
    m->live[m->nlive++] = g;
    return 0;
}

static int m_take(model *m, int max, int *out)
{
    int k = 0;
    while (k < max) {
        int best = -1;
        for (int i = 0; i < m->nlive; i++) {
            mtx *x = &m->g[m->live[i]];
            if (x->taken || x->nonce != m->s[x->s].next) continue;
            if (best < 0 || x->price > m->g[best].price ||
                (x->price == m->g[best].price && x->seq < m->g[best].seq))
                best = m->live[i];
        }
        if (best < 0) break;
        mtx *x = &m->g[best];
        if (x->expiry && m->height > x->expiry) { m_remove(m, best, PEL_EEXPIRED); continue; }
        x->taken = 1;
        m->s[x->s].next = x->nonce + 1;
        out[k++] = best;
    }
    return k;
}

static void m_done(model *m, const int *b, int n, int committed)
{
    if (!committed) {
        for (int i = 0; i < n; i++) {
            mtx *x = &m->g[b[i]];
            x->taken = 0;
            if (x->nonce < m->s[x->s].next) m->s[x->s].next = x->nonce;
        }
        return;
    }
    for (int i = 0; i < n; i++) m->s[m->g[b[i]].s].pin = 1;
    for (int i = 0; i < n; i++) m_remove(m, b[i], 0);
    for (int s = 0; s < MS; s++) {
        msnd *ms = &m->s[s];
        if (!ms->pin) continue;
        ms->nonce = ms->next = B.nonce[MK(s)];
        ms->balance = B.balance[MK(s)];
        for (int i = m->nlive - 1; i >= 0; i--) {
            mtx *x = &m->g[m->live[i]];
            if (x->s == s && x->nonce < ms->nonce) m_remove(m, m->live[i], PEL_ENONCE);
        }
        ms->pin = 0;
        if (m_count(m, s, NULL) == 0) ms->rec = 0;
    }
}

static uint64_t m_next_nonce(model *m, int s)
{
    if (!m->s[s].rec) return B.nonce[MK(s)];
    uint64_t n = m->s[s].nonce;
    while (m_find(m, s, n) >= 0) n++;
    return n;
}

/* A fresh transaction (or an old one again, 1 in 6). */
static int m_gen(model *m, uint64_t *rs)
{
    if (m->ng > 0 && (rng_next(rs) % 6 == 0 || m->ng == MG)) return (int)(rng_next(rs) % (uint64_t)m->ng);
    mtx *x = &m->g[m->ng];
    memset(x, 0, sizeof *x);
    x->s = (int)(rng_next(rs) % MS);
    uint64_t base = B.nonce[MK(x->s)];
    x->nonce = base + rng_next(rs) % (MP + 2);
    if (rng_next(rs) % 2) x->nonce = m_next_nonce(m, x->s);   /* the one a wallet would use */
    if (base > 0 && rng_next(rs) % 8 == 0) x->nonce = base - 1;
    x->price = 1 + rng_next(rs) % 6;
    if (rng_next(rs) % 4 == 0) x->expiry = m->height + rng_next(rs) % 3;
    uint64_t amount = (uint64_t)m->ng;   /* unique: no two generated ids collide */
    x->bad = rng_next(rs) % 30 == 0;
    x->t = sign_spec((spec){ .k = MK(x->s), .nonce = x->nonce, .price = x->price,
                             .expiry = x->expiry, .amount = amount });
    x->spend = x->t.spend;
    if (x->bad) {
        x->t.raw[x->t.len - 1] ^= 0x80;
        x->t.id[0] = 0;   /* the id is the mutated encoding's: taken from the result */
    }
    return m->ng++;
}

static int trace;           /* PEL_TEST_TRACE=1: print every model operation */

static int model_run(uint64_t seed, int ops)
{
    model m;
    memset(&m, 0, sizeof m);
    m.g = calloc(MG, sizeof *m.g);
    pel_mempool_opts o = pel_mempool_defaults();
    o.max_txs = MT;
    o.max_per_sender = MP;
    o.verify_threads = 2;
    pel_mempool *mp = NULL;
    pel_mempool_accounts acc = { bank_get, &B };
    int ok = m.g && pel_mempool_new(&o, &P, acc, &mp) == 0;
    if (!ok) goto out;
    for (int s = 0; s < MS; s++) bank_set(MK(s), 0, GAS * 6 * 4);
    m.height = 1;
    uint64_t rs = seed, unit = 0;
    int batch[MT + 8], nb = 0;
    const pel_tx *out[MT + 8];
    for (int op = 0; op < ops && ok; op++) {
        uint64_t r = rng_next(&rs) % 100;
        if (r < 55) {                                   /* submit a batch */
            int n = 1 + (int)(rng_next(&rs) % (rng_next(&rs) % 4 == 0 ? 12 : 3)), gi[12];
            const uint8_t *raw[12];
            size_t len[12];
            pel_mempool_result res[12];
            for (int i = 0; i < n; i++) {
                gi[i] = m_gen(&m, &rs);
                raw[i] = m.g[gi[i]].t.raw;
                len[i] = m.g[gi[i]].t.len;
            }
            ok = pel_mempool_submit(mp, raw, len, (size_t)n, res) == 0;
            for (int i = 0; i < n && ok; i++) {
                mtx *x = &m.g[gi[i]];
                if (x->bad) memcpy(x->t.id, res[i].id, PEL_TXID_LEN);
                int want = m_submit(&m, gi[i]);
                if (trace)
                    fprintf(stderr, "op %d submit tx %d: sender %d nonce %" PRIu64 " price %" PRIu64
                            " expiry %" PRIu64 " -> %d (model %d), %d pending\n", op, gi[i], x->s,
                            x->nonce, x->price, x->expiry, res[i].code, want, m.nlive);
                if (res[i].code != want) {
                    fprintf(stderr, "  op %d: submit sender %d nonce %" PRIu64 " price %" PRIu64
                            ": got %d, model %d\n", op, x->s, x->nonce, x->price, res[i].code, want);
                    ok = 0;
                }
            }
        } else if (r < 72 && nb == 0) {                  /* take */
            int want[MT + 8];
            int max = 1 + (int)(rng_next(&rs) % 5);
            int k = m_take(&m, max, want);
            size_t got = pel_mempool_take(mp, (size_t)max, out);
            ok = got == (size_t)k;
            for (int i = 0; i < k && ok; i++)
                ok = memcmp(out[i]->id, m.g[want[i]].t.id, PEL_TXID_LEN) == 0;
            if (!ok) fprintf(stderr, "  op %d: take(%d): got %zu, model %d (or order)\n", op, max, got, k);
            memcpy(batch, want, sizeof(int) * (size_t)k);
            if (trace) fprintf(stderr, "op %d take(%d): %d", op, max, k);
            for (int i = 0; trace && i < k; i++) fprintf(stderr, " tx %d", want[i]);
            nb = k;
        } else if (r < 90 && nb > 0) {                  /* the block is done */
            int committed = rng_next(&rs) % 4 != 0;
            if (committed)
                for (int i = 0; i < nb; i++) {
                    mtx *x = &m.g[batch[i]];
                    int k = MK(x->s);
                    uint64_t bal = B.balance[k] - (B.balance[k] < x->spend / 2 ? B.balance[k] : x->spend / 2);
                    uint64_t nonce = x->nonce + 1 + (rng_next(&rs) % 5 == 0 ? rng_next(&rs) % 3 : 0);
                    bank_set(k, nonce, bal + (rng_next(&rs) % 3 == 0 ? GAS * 6 : 0));
                }
            m_done(&m, batch, nb, committed);
            if (trace) fprintf(stderr, "\nop %d done, committed %d\n", op, committed);
            pel_mempool_done(mp, out, (size_t)nb, committed);
            nb = 0;
        } else if (r < 95) {
            m.height++;
            pel_mempool_set_height(mp, m.height);
        } else {                                        /* change an account behind its back */
            int s = (int)(rng_next(&rs) % MS);
            bank_set(MK(s), B.nonce[MK(s)] + rng_next(&rs) % 2, GAS * (rng_next(&rs) % 30));
        }
        /* every step: counts, and the fate and next nonce as the model says */
        uint64_t txs, bytes, senders, recs = 0;
        pel_mempool_stats(mp, &txs, &bytes, &senders);
        for (int s = 0; s < MS; s++) recs += m.s[s].rec;
        if (txs && !unit) unit = bytes / txs;
        if (ok && (txs != (uint64_t)m.nlive || senders != recs || bytes != txs * unit)) {
            fprintf(stderr, "  op %d: stats %" PRIu64 "/%" PRIu64 " senders %" PRIu64
                    ", model %d/%" PRIu64 "\n", op, txs, bytes, senders, m.nlive, recs);
            ok = 0;
        }
        for (int s = 0; s < MS && ok; s++)
            if (pel_mempool_next_nonce(mp, &K[MK(s)].addr) != m_next_nonce(&m, s)) {
                fprintf(stderr, "  op %d: next nonce of %d\n", op, s);
                ok = 0;
            }
        for (int i = 0; i < m.ng && ok && op % 16 == 0; i++) {
            mtx *x = &m.g[i];
            int reason = 0, st = pel_mempool_lookup(mp, x->t.id, &reason);
            int want = x->pending ? PEL_MEMPOOL_PENDING : x->rej ? PEL_MEMPOOL_REJECTED : PEL_MEMPOOL_UNKNOWN;
            if (st != want || (st == PEL_MEMPOOL_REJECTED && reason != x->rej)) {
                fprintf(stderr, "  op %d: lookup of tx %d: %d/%d, model %d/%d\n", op, i, st, reason,
                        want, x->rej);
                ok = 0;
            }
        }
    }
out:
    pel_mempool_free(mp);
    free(m.g);
    return ok;
}

static void test_model(void)
{
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL);
    unsigned iters = (unsigned)test_env_u64("PEL_TEST_ITERS", 50);
    trace = test_env_u64("PEL_TEST_TRACE", 0) != 0;
    printf("test_mempool: model seed 0x%llx, %u runs of 300 operations (replay: PEL_TEST_SEED=0x%llx)\n",
           (unsigned long long)seed, iters, (unsigned long long)seed);
    uint64_t master = seed;
    int failed = 0;
    for (unsigned i = 0; i < iters && !failed; i++) {
        uint64_t s = rng_next(&master);
        if (!model_run(s, 300)) {
            failed = 1;
            fprintf(stderr, "  model run %u failed (run seed 0x%llx)\n", i, (unsigned long long)s);
        }
    }
    CHECK_EQ_INT(failed, 0);
}

int main(void)
{
    memset(&P, 0, sizeof P);
    strcpy(P.chain_id, "pel-test");
    P.gas = pel_gas_defaults();
    P.min_gas_price = 1;
    P.modules = pel_modules_table();
    for (int i = 0; i < NK; i++) {
        uint8_t seed[PEL_SEED_LEN] = { (uint8_t)(i + 1), 0x4d, 0x50 };
        CHECK_EQ_INT(pel_sign_seed_keypair(K[i].pk, K[i].sk, seed), 0);
        pel_addr_from_pubkey(K[i].pk, &K[i].addr);
    }
    RUN(test_accept_and_lookup);
    RUN(test_reject_stateless);
    RUN(test_reject_nonce);
    RUN(test_reject_funds);
    RUN(test_reject_funds_modules);
    RUN(test_reject_duplicate);
    RUN(test_replacement);
    RUN(test_sender_limit);
    RUN(test_pool_full_eviction);
    RUN(test_pool_full_gaps);
    RUN(test_pool_full_bytes);
    RUN(test_nonce_order);
    RUN(test_fee_priority);
    RUN(test_expire_at_take);
    RUN(test_done_commit);
    RUN(test_done_voided);
    RUN(test_done_window);
    RUN(test_done_abort);
    RUN(test_committed_elsewhere);
    RUN(test_reject_memory);
    RUN(test_account_reads);
    RUN(test_batch_parallel);
    RUN(test_concurrent);
    RUN(test_model);
    return TEST_END("test_mempool");
}
