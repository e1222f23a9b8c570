/*
 * test_shares.c - fractional IP shares (modules/shares.h): the rules with
 * their refusals; random histories of licence purchases (deposits),
 * transfers and claims paid to the unit as a naive O(holders) reference
 * computes them; the pool always covering the claims; and random blocks of
 * purchases and claims on every engine with supply conserved.
 */
#include "test.h"

#include "core/codec.h"
#include "modules/licence.h"
#include "modules/shares.h"

#define CHAIN "shares-test"
#include "modules/module_check.h"

#define HOLDERS 5

static acct H[HOLDERS], buyer;
static uint64_t rng = 0xabcdef;
static uint64_t next(void) { rng = rng * 6364136223846793005ULL + 1442695040888963407ULL; return rng >> 24; }

static int create(pel_memstate *ms, uint64_t h, acct *a, const pel_obj_id *id, uint64_t n)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_shares_create_body(id, n, &b), 0);
    int st = run1_tx(ms, h, a, PEL_TX_SHARES_CREATE, &b, NULL, NULL);
    pel_buf_free(&b);
    return st;
}

static int xfer(pel_memstate *ms, uint64_t h, acct *a, const pel_obj_id *id, const acct *to, uint64_t n)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_shares_transfer_body(id, &to->addr, n, &b), 0);
    int st = run1_tx(ms, h, a, PEL_TX_SHARES_TRANSFER, &b, NULL, NULL);
    pel_buf_free(&b);
    return st;
}

/* A claim; what it paid (balance change plus the gas it cost). */
static uint64_t claim(pel_memstate *ms, uint64_t h, acct *a, const pel_obj_id *id)
{
    pel_buf b;
    uint64_t gas = 0, before = mc_balance(ms, &a->addr);
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_shares_claim_body(id, &b), 0);
    CHECK_EQ_INT(run1_tx(ms, h, a, PEL_TX_SHARES_CLAIM, &b, NULL, &gas), 0);
    pel_buf_free(&b);
    return mc_balance(ms, &a->addr) + gas - before;
}

static int buy(pel_memstate *ms, uint64_t h, acct *a, const pel_obj_id *id)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_lic_buy_body(id, UINT64_MAX, &b), 0);
    int st = run1_tx(ms, h, a, PEL_TX_LIC_BUY, &b, NULL, NULL);
    pel_buf_free(&b);
    return st;
}

static void set_price(pel_memstate *ms, uint64_t h, acct *a, const pel_obj_id *id, uint64_t price)
{
    pel_lic_terms t = { .price = price, .n = 1 };
    pel_buf b;
    t.party[0] = (pel_lic_party){ a->addr, 10000 };
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_lic_terms_body(id, &t, &b), 0);
    CHECK_EQ_INT(run1_tx(ms, h, a, PEL_TX_LIC_TERMS, &b, NULL, NULL), 0);
    pel_buf_free(&b);
}

static void rules(void)
{
    pel_memstate *ms;
    pel_obj_id obj, ghost;
    uint64_t h = 1;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    for (int i = 0; i < HOLDERS; i++) { acct_make(&H[i], (uint8_t)(10 + i)); fund(ms, &H[i]); }
    acct_make(&buyer, 50);
    fund(ms, &buyer);
    mc_register(ms, h++, &H[0], 0x31, NULL, &obj);
    memset(ghost.b, 0x77, 16);
    pel_buf b;
    const char *why = NULL;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_shares_create_body(&obj, 0, &b), 0);                    /* 0 shares */
    CHECK_EQ_INT(pel_shares_module.check(PEL_TX_SHARES_CREATE, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    CHECK(why != NULL);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_shares_transfer_body(&obj, &H[1].addr, 0, &b), 0);     /* 0 shares moved */
    CHECK_EQ_INT(pel_shares_module.check(PEL_TX_SHARES_TRANSFER, b.data, (uint32_t)b.len, &why), PEL_EINVAL);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_shares_claim_body(&obj, &b), 0);
    CHECK_EQ_INT(pel_buf_append(&b, "x", 1), 0);                             /* trailing */
    CHECK_EQ_INT(pel_shares_module.check(PEL_TX_SHARES_CLAIM, b.data, (uint32_t)b.len, &why), PEL_ETRAILING);
    pel_buf_free(&b);
    CHECK_EQ_INT(xfer(ms, h++, &H[0], &obj, &H[1], 1), PEL_ESHARE_NONE);
    CHECK_EQ_INT(create(ms, h++, &H[1], &obj, 100), PEL_EOBJ_PERM);
    CHECK_EQ_INT(create(ms, h++, &H[0], &ghost, 100), PEL_EOBJ_UNKNOWN);
    CHECK_EQ_INT(create(ms, h++, &H[0], &obj, 100), 0);
    CHECK_EQ_INT(create(ms, h++, &H[0], &obj, 100), PEL_ESHARE_EXISTS);
    CHECK_EQ_INT(xfer(ms, h++, &H[0], &obj, &H[1], 101), PEL_ESHARE_FUNDS);
    CHECK_EQ_INT(xfer(ms, h++, &H[0], &obj, &H[0], 1), PEL_EINVAL);
    CHECK_EQ_INT(xfer(ms, h++, &H[0], &obj, &H[1], 25), 0);
    /* revenue now goes to the holders (75/25), not to the licence party */
    set_price(ms, h++, &H[0], &obj, 1000);
    uint64_t p0 = mc_balance(ms, &H[0].addr);
    CHECK_EQ_INT(buy(ms, h++, &buyer, &obj), 0);
    CHECK_EQ_INT(mc_balance(ms, &H[0].addr), p0);
    pel_addr pool;
    pel_shares_pool(&obj, &pool);
    CHECK_EQ_INT(mc_balance(ms, &pool), 1000);
    pel_state st = pel_memstate_reader(ms);
    pel_share_holding hd;
    uint64_t can;
    CHECK_EQ_INT(pel_shares_holding(&st, &obj, &H[1].addr, &hd, &can), 0);
    CHECK(hd.shares == 25 && can == 250);
    CHECK_EQ_INT(claim(ms, h++, &H[1], &obj), 250);
    CHECK_EQ_INT(claim(ms, h++, &H[1], &obj), 0);                            /* nothing new */
    CHECK_EQ_INT(claim(ms, h++, &H[0], &obj), 750);
    CHECK_EQ_INT(claim(ms, h++, &H[2], &obj), 0);                            /* holds nothing */
    CHECK_EQ_INT(mc_balance(ms, &pool), 0);
    pel_share_class sc;
    uint64_t acc;
    CHECK_EQ_INT(pel_shares_class(&st, &obj, &sc, &acc), 0);
    CHECK(sc.shares == 100 && acc == (1000ull << PEL_SHARES_SCALE_BITS) / 100);
    CHECK_EQ_INT(pel_shares_class(&st, &ghost, &sc, &acc), PEL_ESHARE_NONE);
    pel_memstate_free(ms);
}

/* The naive reference: every deposit visits every holder. */
typedef struct ref {
    uint64_t bal[HOLDERS];
    unsigned __int128 accrued[HOLDERS];   /* scaled */
    uint64_t total;
} ref;

static void ref_deposit(ref *r, uint64_t amount)
{
    uint64_t d = (uint64_t)(((unsigned __int128)amount << PEL_SHARES_SCALE_BITS) / r->total);
    for (int i = 0; i < HOLDERS; i++) r->accrued[i] += (unsigned __int128)r->bal[i] * d;
}

static uint64_t ref_claim(ref *r, int i)
{
    uint64_t pay = (uint64_t)(r->accrued[i] >> PEL_SHARES_SCALE_BITS);
    r->accrued[i] -= (unsigned __int128)pay << PEL_SHARES_SCALE_BITS;
    return pay;
}

static void random_histories_match_reference(void)
{
    int rounds = (int)(test_env_u64("PEL_TEST_ITERS", 1000) / 200) + 2;
    for (int round = 0; round < rounds; round++) {
        pel_memstate *ms;
        pel_obj_id obj;
        uint64_t h = 1;
        ref r;
        memset(&r, 0, sizeof r);
        CHECK_EQ_INT(pel_memstate_new(&ms), 0);
        for (int i = 0; i < HOLDERS; i++) { acct_make(&H[i], (uint8_t)(60 + i)); fund(ms, &H[i]); }
        acct_make(&buyer, 51);
        fund(ms, &buyer);
        mc_register(ms, h++, &H[0], (uint8_t)(0x40 + round), NULL, &obj);
        r.total = 1 + next() % 1000;
        r.bal[0] = r.total;
        CHECK_EQ_INT(create(ms, h++, &H[0], &obj, r.total), 0);
        uint64_t price = 1 + next() % 100000;
        set_price(ms, h++, &H[0], &obj, price);
        uint64_t deposited = 0, claimed = 0;
        for (int op = 0; op < 40; op++) {
            uint64_t x = next() % 10;
            if (x < 4) {
                CHECK_EQ_INT(buy(ms, h++, &buyer, &obj), 0);
                ref_deposit(&r, price);
                deposited += price;
            } else if (x < 7) {
                int from = (int)(next() % HOLDERS), to = (int)(next() % HOLDERS);
                if (from == to || r.bal[from] == 0) continue;
                uint64_t n = 1 + next() % r.bal[from];
                CHECK_EQ_INT(xfer(ms, h++, &H[from], &obj, &H[to], n), 0);
                r.bal[from] -= n;
                r.bal[to] += n;
            } else {
                int i = (int)(next() % HOLDERS);
                uint64_t want = ref_claim(&r, i);
                CHECK_EQ_INT(claim(ms, h++, &H[i], &obj), want);
                claimed += want;
            }
        }
        pel_addr pool;
        pel_shares_pool(&obj, &pool);
        CHECK_EQ_INT(mc_balance(ms, &pool), deposited - claimed);     /* the dust stays, nothing else */
        for (int i = 0; i < HOLDERS; i++) {                        /* everyone can still be paid */
            uint64_t want = ref_claim(&r, i);
            CHECK_EQ_INT(claim(ms, h++, &H[i], &obj), want);
            claimed += want;
        }
        CHECK(deposited - claimed <= HOLDERS + 1);                  /* rounding dust only */
        pel_memstate_free(ms);
    }
}

/* Blocks mixing many purchases of one object with claims and transfers
 * on every engine (run_block compares them); the accounts' and pool's
 * total only loses the fees. */
static void random_blocks_all_engines(void)
{
    pel_memstate *ms;
    pel_obj_id obj;
    uint64_t h = 1;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    for (int i = 0; i < HOLDERS; i++) { acct_make(&H[i], (uint8_t)(80 + i)); fund(ms, &H[i]); }
    mc_register(ms, h++, &H[0], 0x55, NULL, &obj);
    CHECK_EQ_INT(create(ms, h++, &H[0], &obj, 1000), 0);
    set_price(ms, h++, &H[0], &obj, 777);
    for (int i = 1; i < HOLDERS; i++) CHECK_EQ_INT(xfer(ms, h++, &H[0], &obj, &H[i], 100), 0);
    pel_addr pool;
    pel_shares_pool(&obj, &pool);
    int iters = (int)(test_env_u64("PEL_TEST_ITERS", 1000) / 50) + 1;
    for (int it = 0; it < iters; it++) {
        txbox t[40];
        pel_buf b;
        pel_block_result r;
        uint64_t before = mc_balance(ms, &pool), after, fees = 0;
        for (int i = 0; i < HOLDERS; i++) before += mc_balance(ms, &H[i].addr);
        pel_buf_init(&b);
        for (uint32_t n = 0; n < 40; n++) {
            int who = (int)(next() % HOLDERS);
            uint64_t x = next() % 10;
            pel_buf_reset(&b);
            if (x < 6) {
                CHECK_EQ_INT(pel_lic_buy_body(&obj, UINT64_MAX, &b), 0);
                sign_tx(&H[who], PEL_TX_LIC_BUY, &b, &t[n]);
            } else if (x < 8) {
                CHECK_EQ_INT(pel_shares_claim_body(&obj, &b), 0);
                sign_tx(&H[who], PEL_TX_SHARES_CLAIM, &b, &t[n]);
            } else {
                CHECK_EQ_INT(pel_shares_transfer_body(&obj, &H[(who + 1) % HOLDERS].addr, 1 + next() % 20, &b), 0);
                sign_tx(&H[who], PEL_TX_SHARES_TRANSFER, &b, &t[n]);
            }
        }
        pel_buf_free(&b);
        run_block(ms, h++, t, 40, &r);
        for (int i = 0; i < 40; i++) fees += r.receipts[i].gas_used;
        after = mc_balance(ms, &pool);
        for (int i = 0; i < HOLDERS; i++) after += mc_balance(ms, &H[i].addr);
        CHECK_EQ_INT(before - after, fees);
        pel_block_result_free(&r);
        for (int i = 0; i < 40; i++) free(t[i].raw);
    }
    pel_memstate_free(ms);
}

int main(void)
{
    if (mc_setup()) return 1;
    RUN(rules);
    RUN(random_histories_match_reference);
    RUN(random_blocks_all_engines);
    mc_teardown();
    return TEST_END("test_shares");
}
