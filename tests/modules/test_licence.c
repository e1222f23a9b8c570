/*
 * test_licence.c - licences and royalties (modules/licence.h): body rules;
 * who may set terms and who may be a party; purchases refused without
 * terms, above the buyer's maximum, or without funds; revisions and
 * renewals; the upstream cascade paid to the unit as an independent
 * recursive reference computes it (split remainders, parents without
 * terms, the depth limit, the hop budget); and random blocks of purchases
 * on every engine with total supply conserved.
 */
#include "test.h"

#include "core/codec.h"
#include "modules/licence.h"
#include "modules/registry.h"

#define CHAIN "licence-test"
#include "modules/module_check.h"

/* Register an object by `who` (contributors as given) linking to parents
 * with `rel`; its id in *id. */
static void reg(pel_memstate *ms, uint64_t h, acct *who, uint8_t seed, const acct *const *contrib,
                int nc, const pel_obj_id *parents, int np, int rel, pel_obj_id *id)
{
    pel_obj_fields f;
    uint8_t dg[32];
    pel_buf b;
    memset(&f, 0, sizeof f);
    memset(dg, seed, 32);
    dg[31] = (uint8_t)h;
    f.kind = PEL_OBJ_DATASET;
    f.title = (const uint8_t *)"Data";
    f.title_len = 4;
    f.n_digests = 1;
    f.digests = dg;
    f.license = (const uint8_t *)"CC-BY-4.0";
    f.license_len = 9;
    for (int i = 0; i < nc; i++) f.contrib[f.n_contrib++] = (pel_obj_contrib){ contrib[i]->addr, 1 };
    for (int i = 0; i < np; i++) f.links[f.n_links++] = (pel_obj_link){ (uint8_t)rel, parents[i], 0 };
    pel_obj_fields_sort(&f);
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_obj_fields_encode(&f, &b), 0);
    CHECK_EQ_INT(run1(ms, h, who, PEL_TX_OBJ_REGISTER, &b, id), 0);
    pel_buf_free(&b);
}

static int set_terms(pel_memstate *ms, uint64_t h, acct *who, const pel_obj_id *id, uint64_t price,
                     uint16_t up, const acct *const *parties, const uint16_t *bps, int n)
{
    pel_lic_terms t;
    pel_buf b;
    memset(&t, 0, sizeof t);
    t.price = price;
    t.upstream_bps = up;
    for (int i = 0; i < n; i++) t.party[t.n++] = (pel_lic_party){ parties[i]->addr, bps[i] };
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_lic_terms_body(id, &t, &b), 0);
    int st = run1(ms, h, who, PEL_TX_LIC_TERMS, &b, NULL);
    pel_buf_free(&b);
    return st;
}

static int buy(pel_memstate *ms, uint64_t h, acct *who, const pel_obj_id *id, uint64_t max)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_lic_buy_body(id, max, &b), 0);
    int st = run1(ms, h, who, PEL_TX_LIC_BUY, &b, NULL);
    pel_buf_free(&b);
    return st;
}

static int check_body(uint16_t type, const pel_buf *b)
{
    const char *why = NULL;
    int rc = pel_licence_module.check(type, b->data, (uint32_t)b->len, &why);
    if (rc) CHECK(why != NULL && why[0]);
    return rc;
}

static void body_rules(void)
{
    pel_obj_id id;
    pel_buf b;
    acct a, c;
    acct_make(&a, 1);
    acct_make(&c, 3);
    memset(id.b, 7, 16);
    pel_buf_init(&b);
    /* good: two parties, any order in, sorted out */
    pel_lic_terms t = { .price = 100, .upstream_bps = 2500, .n = 2 };
    t.party[0] = (pel_lic_party){ c.addr, 4000 };
    t.party[1] = (pel_lic_party){ a.addr, 6000 };
    CHECK_EQ_INT(pel_lic_terms_body(&id, &t, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_LIC_TERMS, &b), 0);
    /* trailing byte */
    CHECK_EQ_INT(pel_buf_append(&b, "x", 1), 0);
    CHECK_EQ_INT(check_body(PEL_TX_LIC_TERMS, &b), PEL_ETRAILING);
    /* sums, zero shares, the upstream share, the price */
    struct { uint16_t b0, b1, up; uint64_t price; } bad_terms[] = {
        { 5000, 4999, 0, 1 }, { 10000, 0, 0, 1 }, { 5000, 5000, 10001, 1 }, { 5000, 5000, 0, (uint64_t)INT64_MAX + 1 },
    };
    for (size_t i = 0; i < sizeof bad_terms / sizeof bad_terms[0]; i++) {
        pel_buf_reset(&b);
        t.party[0].bps = bad_terms[i].b0;
        t.party[1].bps = bad_terms[i].b1;
        t.upstream_bps = bad_terms[i].up;
        t.price = bad_terms[i].price;
        CHECK_EQ_INT(pel_lic_terms_body(&id, &t, &b), 0);
        CHECK_EQ_INT(check_body(PEL_TX_LIC_TERMS, &b), PEL_EINVAL);
    }
    /* no parties; the same party twice (not ascending) */
    t = (pel_lic_terms){ .price = 1, .n = 0 };
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_lic_terms_body(&id, &t, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_LIC_TERMS, &b), PEL_EINVAL);
    t.n = 2;
    t.party[0] = (pel_lic_party){ a.addr, 5000 };
    t.party[1] = (pel_lic_party){ a.addr, 5000 };
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_lic_terms_body(&id, &t, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_LIC_TERMS, &b), PEL_EINVAL);
    /* too many parties: the count is refused before any of them is read */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_enc_raw(&b, id.b, 16) || pel_enc_u64(&b, 1) || pel_enc_u16(&b, 0) ||
                 pel_enc_u32(&b, PEL_LIC_PARTIES_MAX + 1), 0);
    CHECK(check_body(PEL_TX_LIC_TERMS, &b) != 0);
    /* purchases: exact length only */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_lic_buy_body(&id, 5, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_LIC_BUY, &b), 0);
    b.len--;
    CHECK(check_body(PEL_TX_LIC_BUY, &b) != 0);
    pel_buf_free(&b);
}

static void rules(void)
{
    pel_memstate *ms;
    acct alice, bob, carol, erin, poor;
    pel_obj_id art, ghost;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct_make(&alice, 1); acct_make(&bob, 2); acct_make(&carol, 3); acct_make(&erin, 5); acct_make(&poor, 6);
    fund(ms, &alice); fund(ms, &bob); fund(ms, &carol); fund(ms, &erin);
    {   /* poor: enough for gas, not for the licence */
        pel_key k;
        uint8_t v[8];
        pel_key_balance(&poor.addr, &k);
        pel_le_store(v, 2000000, 8);
        CHECK_EQ_INT(pel_memstate_put(ms, &k, v, 8), 0);
    }
    const acct *cc[] = { &carol };
    reg(ms, 1, &alice, 0x10, cc, 1, NULL, 0, 0, &art);
    const acct *ac[] = { &alice, &carol };
    uint16_t split[] = { 6000, 4000 };
    memset(ghost.b, 0x99, 16);
    CHECK_EQ_INT(buy(ms, 2, &erin, &art, 1000), PEL_ELIC_NONE);               /* no terms yet */
    CHECK_EQ_INT(set_terms(ms, 2, &bob, &art, 1000, 0, ac, split, 2), PEL_EOBJ_PERM);
    CHECK_EQ_INT(set_terms(ms, 2, &alice, &ghost, 1000, 0, ac, split, 2), PEL_EOBJ_UNKNOWN);
    const acct *ab[] = { &alice, &bob };                                      /* bob is nobody here */
    CHECK_EQ_INT(set_terms(ms, 2, &alice, &art, 1000, 0, ab, split, 2), PEL_ELIC_PARTY);
    CHECK_EQ_INT(set_terms(ms, 2, &alice, &art, 1000, 0, ac, split, 2), 0);
    pel_state st = pel_memstate_reader(ms);
    pel_lic_terms t;
    CHECK_EQ_INT(pel_licence_terms(&st, &art, &t), 0);
    CHECK(t.revision == 1 && t.price == 1000 && t.n == 2 && t.height == 2);
    /* a purchase: 600 and 400, the buyer's record */
    uint64_t a0 = mc_balance(ms, &alice.addr), c0 = mc_balance(ms, &carol.addr);
    CHECK_EQ_INT(buy(ms, 3, &erin, &art, 999), PEL_ELIC_PRICE);
    CHECK_EQ_INT(buy(ms, 3, &erin, &art, 1000), 0);
    CHECK_EQ_INT(mc_balance(ms, &alice.addr) - a0, 600);
    CHECK_EQ_INT(mc_balance(ms, &carol.addr) - c0, 400);
    pel_licence l;
    CHECK_EQ_INT(pel_licence_get(&st, &art, &erin.addr, &l), 0);
    CHECK(l.count == 1 && l.revision == 1 && l.price == 1000 && l.height == 3);
    CHECK_EQ_INT(pel_licence_get(&st, &art, &bob.addr, &l), PEL_ENOTFOUND);
    /* new terms: revision 2; a renewal counts 2 and keeps the new revision */
    uint16_t all[] = { 10000 };
    CHECK_EQ_INT(set_terms(ms, 4, &alice, &art, 50000000, 0, cc, all, 1), 0);
    CHECK_EQ_INT(buy(ms, 5, &erin, &art, UINT64_MAX), 0);
    CHECK_EQ_INT(pel_licence_get(&st, &art, &erin.addr, &l), 0);
    CHECK(l.count == 2 && l.revision == 2 && l.price == 50000000);
    uint64_t sold, revenue;
    CHECK_EQ_INT(pel_licence_totals(&st, &art, &sold, &revenue), 0);
    CHECK(sold == 2 && revenue == 50001000);
    /* funds: the poor buyer pays gas but not the licence */
    uint64_t p0 = mc_balance(ms, &poor.addr), c1 = mc_balance(ms, &carol.addr);
    CHECK_EQ_INT(buy(ms, 6, &poor, &art, UINT64_MAX), PEL_EFUNDS);
    CHECK(mc_balance(ms, &poor.addr) < p0 && p0 - mc_balance(ms, &poor.addr) < 100000);
    CHECK_EQ_INT(mc_balance(ms, &carol.addr), c1);
    pel_memstate_free(ms);
}

/* ---- the cascade against a recursive reference ---- */

#define NOBJ 12
#define NACCT 8

typedef struct model {
    int creator[NOBJ];
    int np[NOBJ], parent[NOBJ][4];           /* distinct, any order */
    int has_terms[NOBJ];
    uint64_t price[NOBJ];
    uint16_t up[NOBJ];
    int nparty[NOBJ], party[NOBJ][3];        /* account indices, distinct */
    uint16_t bps[NOBJ][3];
    pel_obj_id id[NOBJ];
} model;

static acct A[NACCT];

/* The reference: recursion, with the order rules the header states. */
static void ref_pay(const model *m, int x, uint64_t amount, int depth, uint64_t *owed)
{
    if (depth > 0 && !m->has_terms[x]) { owed[m->creator[x]] += amount; return; }
    int order[4], n = m->np[x];
    for (int i = 0; i < n; i++) order[i] = m->parent[x][i];
    for (int i = 1; i < n; i++)               /* parents in id order */
        for (int j = i; j > 0 && memcmp(m->id[order[j]].b, m->id[order[j - 1]].b, 16) < 0; j--) {
            int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
    uint64_t up = 0;
    if (n && depth < PEL_LIC_DEPTH_MAX) up = (uint64_t)((unsigned __int128)amount * m->up[x] / 10000);
    else n = 0;
    uint64_t own = amount - up, given = 0;
    int first = 0;                           /* the party with the lowest address */
    for (int i = 1; i < m->nparty[x]; i++)
        if (memcmp(A[m->party[x][i]].addr.b, A[m->party[x][first]].addr.b, 20) < 0) first = i;
    for (int i = 0; i < m->nparty[x]; i++) {
        uint64_t s = (uint64_t)((unsigned __int128)own * m->bps[x][i] / 10000);
        owed[m->party[x][i]] += s;
        given += s;
    }
    owed[m->party[x][first]] += own - given;
    for (int i = 0; i < n; i++) {
        uint64_t s = up / (uint64_t)n + (i == 0 ? up % (uint64_t)n : 0);
        if (s) ref_pay(m, order[i], s, depth + 1, owed);
    }
}

static uint64_t rng = 0x5eed;
static uint64_t next(void) { rng = rng * 6364136223846793005ULL + 1442695040888963407ULL; return rng >> 24; }

/* A random model: objects in order, parents among the earlier ones, so
 * registrations can link; terms on most, with 1-3 parties. */
static void build_model(pel_memstate *ms, model *m, uint64_t *h)
{
    memset(m, 0, sizeof *m);
    for (int x = 0; x < NOBJ; x++) {
        m->creator[x] = (int)(next() % NACCT);
        m->np[x] = (int)(next() % 4);
        if (m->np[x] > x) m->np[x] = x;
        for (int i = 0; i < m->np[x]; i++) {
            int p, dup;
            do {
                p = (int)(next() % (uint64_t)x);
                dup = 0;
                for (int j = 0; j < i; j++) dup |= m->parent[x][j] == p;
            } while (dup);
            m->parent[x][i] = p;
        }
        /* parties: the creator plus up to two contributors */
        m->nparty[x] = 1 + (int)(next() % 3);
        m->party[x][0] = m->creator[x];
        for (int i = 1; i < m->nparty[x]; i++) {
            int a, dup;
            do {
                a = (int)(next() % NACCT);
                dup = 0;
                for (int j = 0; j < i; j++) dup |= m->party[x][j] == a;
            } while (dup);
            m->party[x][i] = a;
        }
        const acct *contrib[3];
        for (int i = 1; i < m->nparty[x]; i++) contrib[i - 1] = &A[m->party[x][i]];
        pel_obj_id parents[4];
        for (int i = 0; i < m->np[x]; i++) parents[i] = m->id[m->parent[x][i]];
        reg(ms, (*h)++, &A[m->creator[x]], (uint8_t)(0x40 + x), contrib, m->nparty[x] - 1, parents,
            m->np[x], next() % 2 ? PEL_REL_DERIVED_FROM : PEL_REL_USES_DATA, &m->id[x]);
        m->has_terms[x] = next() % 5 != 0;
        if (!m->has_terms[x]) continue;
        m->price[x] = 1 + next() % 1000003;
        m->up[x] = (uint16_t)(next() % 10001);
        uint16_t left = 10000;
        for (int i = 0; i < m->nparty[x]; i++) {
            m->bps[x][i] = i + 1 == m->nparty[x] ? left : (uint16_t)(1 + next() % (left - (m->nparty[x] - i - 1)));
            left = (uint16_t)(left - m->bps[x][i]);
        }
        const acct *pp[3];
        for (int i = 0; i < m->nparty[x]; i++) pp[i] = &A[m->party[x][i]];
        CHECK_EQ_INT(set_terms(ms, (*h)++, &A[m->creator[x]], &m->id[x], m->price[x], m->up[x], pp,
                               m->bps[x], m->nparty[x]), 0);
    }
}

static void cascade_matches_reference(void)
{
    for (int round = 0; round < 6; round++) {
        pel_memstate *ms;
        model m;
        acct buyer;
        uint64_t h = 1;
        CHECK_EQ_INT(pel_memstate_new(&ms), 0);
        for (int i = 0; i < NACCT; i++) { acct_make(&A[i], (uint8_t)(20 + i)); fund(ms, &A[i]); }
        acct_make(&buyer, 99);
        fund(ms, &buyer);
        build_model(ms, &m, &h);
        for (int x = 0; x < NOBJ; x++) {
            if (!m.has_terms[x]) {
                CHECK_EQ_INT(buy(ms, h++, &buyer, &m.id[x], UINT64_MAX), PEL_ELIC_NONE);
                continue;
            }
            uint64_t before[NACCT], owed[NACCT] = { 0 }, total = 0;
            for (int i = 0; i < NACCT; i++) before[i] = mc_balance(ms, &A[i].addr);
            ref_pay(&m, x, m.price[x], 0, owed);
            CHECK_EQ_INT(buy(ms, h++, &buyer, &m.id[x], m.price[x]), 0);
            for (int i = 0; i < NACCT; i++) {
                CHECK_EQ_INT(mc_balance(ms, &A[i].addr) - before[i], owed[i]);
                total += owed[i];
            }
            CHECK_EQ_INT(total, m.price[x]);        /* nothing created or lost */
        }
        pel_memstate_free(ms);
    }
}

/* A chain of 7 objects, each derived from the one before, all with terms
 * that send half upstream: the payment stops climbing at depth 4. */
static void depth_limit(void)
{
    pel_memstate *ms;
    acct buyer;
    pel_obj_id id[7];
    uint64_t h = 1;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    for (int i = 0; i < 7; i++) { acct_make(&A[i], (uint8_t)(40 + i)); fund(ms, &A[i]); }
    acct_make(&buyer, 98);
    fund(ms, &buyer);
    uint16_t all[] = { 10000 };
    for (int i = 0; i < 7; i++) {
        reg(ms, h++, &A[i], (uint8_t)(0x70 + i), NULL, 0, i ? &id[i - 1] : NULL, i ? 1 : 0,
            PEL_REL_DERIVED_FROM, &id[i]);
        const acct *me[] = { &A[i] };
        CHECK_EQ_INT(set_terms(ms, h++, &A[i], &id[i], 1600, 5000, me, all, 1), 0);
    }
    uint64_t before[7];
    for (int i = 0; i < 7; i++) before[i] = mc_balance(ms, &A[i].addr);
    CHECK_EQ_INT(buy(ms, h++, &buyer, &id[6], 1600), 0);
    uint64_t want[7] = { 0, 0, 100, 100, 200, 400, 800 };     /* depth 4 = object 2 keeps its 100 */
    for (int i = 0; i < 7; i++) CHECK_EQ_INT(mc_balance(ms, &A[i].addr) - before[i], want[i]);
    pel_memstate_free(ms);
}

/* 64 parents is more than the hop budget allows: the object keeps its
 * upstream share in its own split rather than paying part of them. */
static void hop_budget(void)
{
    pel_memstate *ms;
    acct buyer;
    pel_obj_id parents[PEL_OBJ_LINKS_MAX], top;
    uint64_t h = 1;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct_make(&A[0], 60); fund(ms, &A[0]);
    acct_make(&A[1], 61); fund(ms, &A[1]);
    acct_make(&buyer, 97); fund(ms, &buyer);
    for (int i = 0; i < PEL_OBJ_LINKS_MAX; i++) reg(ms, h++, &A[1], (uint8_t)i, NULL, 0, NULL, 0, 0, &parents[i]);
    reg(ms, h++, &A[0], 0xfe, NULL, 0, parents, PEL_OBJ_LINKS_MAX, PEL_REL_USES_DATA, &top);
    const acct *me[] = { &A[0] };
    uint16_t all[] = { 10000 };
    CHECK_EQ_INT(set_terms(ms, h++, &A[0], &top, 6400, 5000, me, all, 1), 0);
    uint64_t a0 = mc_balance(ms, &A[0].addr), a1 = mc_balance(ms, &A[1].addr);
    CHECK_EQ_INT(buy(ms, h++, &buyer, &top, 6400), 0);
    CHECK_EQ_INT(mc_balance(ms, &A[0].addr) - a0, 6400);
    CHECK_EQ_INT(mc_balance(ms, &A[1].addr), a1);
    pel_memstate_free(ms);
}

/* Blocks of many purchases (most of one popular object), terms changes
 * and transfers on every engine (run_block compares them); the supply of
 * the accounts involved never changes apart from the fees. */
static void random_blocks_all_engines(void)
{
    pel_memstate *ms;
    model m;
    uint64_t h = 1;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    for (int i = 0; i < NACCT; i++) { acct_make(&A[i], (uint8_t)(120 + i)); fund(ms, &A[i]); }
    build_model(ms, &m, &h);
    int iters = (int)(test_env_u64("PEL_TEST_ITERS", 1000) / 25) + 1;   /* 48-tx blocks on 4 engines */
    for (int it = 0; it < iters; it++) {
        txbox t[48];
        pel_buf b;
        pel_block_result r;
        uint32_t n = 0;
        uint64_t before = 0, after = 0, fees = 0;
        for (int i = 0; i < NACCT; i++) before += mc_balance(ms, &A[i].addr);
        pel_buf_init(&b);
        for (; n < 48; n++) {
            int who = (int)(next() % NACCT), x = next() % 3 ? NOBJ - 1 : (int)(next() % NOBJ);
            pel_buf_reset(&b);
            if (next() % 10 == 0 && m.has_terms[x] && who == m.creator[x]) {
                pel_lic_terms lt = { .price = next() % 5000, .upstream_bps = (uint16_t)(next() % 10001), .n = 1 };
                lt.party[0] = (pel_lic_party){ A[who].addr, 10000 };
                CHECK_EQ_INT(pel_lic_terms_body(&m.id[x], &lt, &b), 0);
                sign_tx(&A[who], PEL_TX_LIC_TERMS, &b, &t[n]);
            } else {
                CHECK_EQ_INT(pel_lic_buy_body(&m.id[x], next() % 4 ? UINT64_MAX : 10, &b), 0);
                sign_tx(&A[who], PEL_TX_LIC_BUY, &b, &t[n]);
            }
        }
        pel_buf_free(&b);
        run_block(ms, h++, t, n, &r);
        for (uint32_t i = 0; i < n; i++) fees += r.receipts[i].gas_used;   /* gas price 1 */
        for (int i = 0; i < NACCT; i++) after += mc_balance(ms, &A[i].addr);
        CHECK_EQ_INT(before - after, fees);
        pel_block_result_free(&r);
        for (uint32_t i = 0; i < n; i++) free(t[i].raw);
    }
    pel_memstate_free(ms);
}

int main(void)
{
    if (mc_setup()) return 1;
    RUN(body_rules);
    RUN(rules);
    RUN(cascade_matches_reference);
    RUN(depth_limit);
    RUN(hop_budget);
    RUN(random_blocks_all_engines);
    mc_teardown();
    return TEST_END("test_licence");
}
