/*
 * test_dao.c - the DAO module (modules/dao.h): every rule allowed and
 * refused, the three weight modes, milestone grants from proposal to
 * release and cancellation, and random DAO histories run on every engine
 * with the total supply conserved.
 */
#define CHAIN "pel-dao-test"
#include "modules/module_check.h"

#include "modules/dao.h"
#include "modules/shares.h"

static acct A, B, C, G, R, X;
static uint64_t rng = 0x5eed;
static uint64_t next(void) { rng = rng * 6364136223846793005ULL + 1442695040888963407ULL; return rng >> 24; }

/* ---- bodies ---- */

static void sort_addrs(pel_addr *a, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && memcmp(a[j - 1].b, a[j].b, PEL_ADDR_LEN) > 0; j--) {
            pel_addr t = a[j]; a[j] = a[j - 1]; a[j - 1] = t;
        }
}

static pel_dao dao_params(int mode, uint64_t period, uint16_t quorum, uint16_t threshold)
{
    pel_dao d;
    memset(&d, 0, sizeof d);
    d.name = "Open Neuro Fund";
    d.name_len = (uint32_t)strlen(d.name);
    d.mode = (uint8_t)mode;
    d.period = period;
    d.quorum_bps = quorum;
    d.threshold_bps = threshold;
    return d;
}

static int create(pel_memstate *ms, uint64_t h, acct *who, pel_dao *d, pel_dao_id *id)
{
    pel_buf b;
    uint8_t txid[32];
    pel_buf_init(&b);
    sort_addrs(d->members, d->n_members);
    CHECK_EQ_INT(pel_dao_create_body(d, &b), 0);
    int st = run1_tx(ms, h, who, PEL_TX_DAO_CREATE, &b, txid, NULL);
    pel_buf_free(&b);
    if (id) pel_dao_id_of(txid, id);
    return st;
}

/* Run a body built into b (freed here): the receipt's status. */
static int run_body(pel_memstate *ms, uint64_t h, acct *who, uint16_t type, pel_buf *b)
{
    int st = run1_tx(ms, h, who, type, b, NULL, NULL);
    pel_buf_free(b);
    return st;
}

static int deposit(pel_memstate *ms, uint64_t h, acct *who, const pel_dao_id *id, uint64_t amount)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_dao_deposit_body(id, amount, &b), 0);
    return run_body(ms, h, who, PEL_TX_DAO_DEPOSIT, &b);
}

static int propose(pel_memstate *ms, uint64_t h, acct *who, const pel_dao_id *id, const pel_dao_action *a)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_dao_propose_body(id, "a proposal", a, &b), 0);
    return run_body(ms, h, who, PEL_TX_DAO_PROPOSE, &b);
}

static int vote(pel_memstate *ms, uint64_t h, acct *who, const pel_dao_id *id, uint32_t n, uint8_t c)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_dao_vote_body(id, n, c, &b), 0);
    return run_body(ms, h, who, PEL_TX_DAO_VOTE, &b);
}

static int execute(pel_memstate *ms, uint64_t h, acct *who, const pel_dao_id *id, uint32_t n)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_dao_execute_body(id, n, &b), 0);
    return run_body(ms, h, who, PEL_TX_DAO_EXECUTE, &b);
}

static int release(pel_memstate *ms, uint64_t h, acct *who, const pel_dao_id *id, uint32_t n,
                   uint8_t m, const pel_obj_id *obj)
{
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_dao_release_body(id, n, m, obj, &b), 0);
    return run_body(ms, h, who, PEL_TX_DAO_RELEASE, &b);
}

static pel_dao_action grant(const pel_addr *to, const pel_addr *reviewer, uint64_t m0, uint64_t m1)
{
    pel_dao_action a;
    memset(&a, 0, sizeof a);
    a.kind = PEL_DAO_GRANT;
    a.addr = *to;
    if (reviewer) { a.n_reviewers = 1; a.reviewers[0] = *reviewer; }
    a.milestones[0].amount = m0;
    a.milestones[0].deliverable = "preprint";
    a.milestones[0].deliverable_len = 8;
    a.n_milestones = 1;
    if (m1) {
        a.milestones[1].amount = m1;
        a.milestones[1].deliverable = "dataset";
        a.milestones[1].deliverable_len = 7;
        a.n_milestones = 2;
    }
    return a;
}

static pel_dao_action simple(int kind, const pel_addr *a, uint64_t amount, uint32_t grant_n)
{
    pel_dao_action x;
    memset(&x, 0, sizeof x);
    x.kind = (uint8_t)kind;
    if (a) x.addr = *a;
    x.amount = amount;
    x.grant = grant_n;
    return x;
}

static int check_body(uint16_t type, const pel_buf *b)
{
    const char *why;
    return pel_dao_module.check(type, b->data, (uint32_t)b->len, &why);
}

static uint64_t treasury_balance(pel_memstate *ms, const pel_dao_id *id)
{
    pel_addr t;
    pel_dao_treasury(id, &t);
    return mc_balance(ms, &t);
}

static uint64_t escrow_balance(pel_memstate *ms, const pel_dao_id *id, uint32_t n)
{
    pel_addr e;
    pel_dao_escrow(id, n, &e);
    return mc_balance(ms, &e);
}

/* ---- stateless checks ---- */

static void bodies_refused(void)
{
    pel_buf b;
    pel_dao d = dao_params(PEL_DAO_MEMBER, 3, 5000, 5000);
    pel_dao_id id;
    memset(&id, 7, sizeof id);
    pel_buf_init(&b);
    d.n_members = 2; d.members[0] = A.addr; d.members[1] = B.addr;
    sort_addrs(d.members, 2);
    CHECK_EQ_INT(pel_dao_create_body(&d, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_CREATE, &b), 0);
    pel_addr t = d.members[0]; d.members[0] = d.members[1]; d.members[1] = t;   /* descending */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_create_body(&d, &b), 0);
    CHECK(check_body(PEL_TX_DAO_CREATE, &b) != 0);
    d.members[1] = d.members[0];                                                  /* duplicate */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_create_body(&d, &b), 0);
    CHECK(check_body(PEL_TX_DAO_CREATE, &b) != 0);
    d.n_members = 0;
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_create_body(&d, &b), 0);
    CHECK(check_body(PEL_TX_DAO_CREATE, &b) != 0);
    struct { int mode; uint64_t period; uint16_t q, t; int share; } bad[] = {
        { PEL_DAO_MEMBER, 0, 5000, 5000, 0 }, { PEL_DAO_MEMBER, PEL_DAO_PERIOD_MAX + 1, 5000, 5000, 0 },
        { PEL_DAO_MEMBER, 3, 10001, 5000, 0 }, { PEL_DAO_MEMBER, 3, 5000, 0, 0 },
        { PEL_DAO_MEMBER, 3, 5000, 10001, 0 }, { 0, 3, 5000, 5000, 0 }, { 4, 3, 5000, 5000, 0 },
        { PEL_DAO_SHARES, 3, 5000, 5000, 0 }, { PEL_DAO_TOKEN, 3, 5000, 5000, 1 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pel_dao e = dao_params(bad[i].mode, bad[i].period, bad[i].q, bad[i].t);
        e.n_members = 1; e.members[0] = A.addr;
        if (bad[i].share) memset(e.share_obj.b, 1, PEL_OBJ_ID_LEN);
        pel_buf_reset(&b);
        CHECK_EQ_INT(pel_dao_create_body(&e, &b), 0);
        CHECK_EQ_INT(check_body(PEL_TX_DAO_CREATE, &b), PEL_EINVAL);
    }
    pel_dao e = dao_params(PEL_DAO_MEMBER, 3, 5000, 5000);
    e.name_len = 0; e.n_members = 1; e.members[0] = A.addr;
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_create_body(&e, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_CREATE, &b), PEL_EINVAL);

    /* proposals */
    pel_dao_action a = grant(&G.addr, NULL, 0, 0);                  /* a zero milestone */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_propose_body(&id, "x", &a, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_PROPOSE, &b), PEL_EINVAL);
    a = grant(&G.addr, NULL, (uint64_t)INT64_MAX, 1);               /* total above 2^63-1 */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_propose_body(&id, "x", &a, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_PROPOSE, &b), PEL_EINVAL);
    a = grant(&G.addr, NULL, 5, 6);
    a.n_reviewers = 2; a.reviewers[0] = R.addr; a.reviewers[1] = R.addr;   /* not ascending */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_propose_body(&id, "x", &a, &b), 0);
    CHECK(check_body(PEL_TX_DAO_PROPOSE, &b) != 0);
    a = simple(PEL_DAO_TRANSFER, &X.addr, 0, 0);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_propose_body(&id, "x", &a, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_PROPOSE, &b), PEL_EINVAL);
    a = simple(PEL_DAO_CANCEL, NULL, 0, 0);                         /* grant 0 */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_propose_body(&id, "x", &a, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_PROPOSE, &b), PEL_EINVAL);
    a = simple(PEL_DAO_PARAMS, NULL, 0, 0);
    a.period = 0; a.threshold_bps = 5000;
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_propose_body(&id, "x", &a, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_PROPOSE, &b), PEL_EINVAL);
    a = simple(9, NULL, 0, 0);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_propose_body(&id, "x", &a, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_PROPOSE, &b), PEL_EINVAL);
    /* votes, deposits, executions, releases */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_vote_body(&id, 1, 4, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_VOTE, &b), PEL_EINVAL);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_vote_body(&id, 0, 1, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_VOTE, &b), PEL_EINVAL);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_deposit_body(&id, 0, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_DEPOSIT, &b), PEL_EINVAL);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_execute_body(&id, 1, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_EXECUTE, &b), 0);
    CHECK_EQ_INT(pel_buf_append(&b, "", 1), 0);                      /* trailing byte */
    CHECK(check_body(PEL_TX_DAO_EXECUTE, &b) != 0);
    pel_obj_id o;
    memset(&o, 3, sizeof o);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_release_body(&id, 1, 16, &o, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_RELEASE, &b), PEL_EINVAL);
    /* truncations of a valid grant proposal never pass */
    a = grant(&G.addr, &R.addr, 5, 6);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_dao_propose_body(&id, "x", &a, &b), 0);
    CHECK_EQ_INT(check_body(PEL_TX_DAO_PROPOSE, &b), 0);
    for (size_t n = 0; n < b.len; n++) {
        const char *why;
        CHECK(pel_dao_module.check(PEL_TX_DAO_PROPOSE, b.data, (uint32_t)n, &why) != 0);
    }
    /* ids */
    char s[PEL_DAO_ID_STR_LEN + 1];
    pel_dao_id back;
    pel_dao_id_format(&id, s);
    s[PEL_DAO_ID_STR_LEN] = 0;
    CHECK_EQ_INT(pel_dao_id_parse(s, &back), 0);
    CHECK(memcmp(&back, &id, sizeof id) == 0);
    CHECK_EQ_INT(pel_dao_id_parse("pel:dao:12", &back), PEL_EINVAL);
    CHECK_EQ_INT(pel_dao_id_parse("pel:obj:0707070707070707070707070707070g", &back), PEL_EINVAL);
    CHECK_EQ_INT(pel_dao_mode_parse("token"), PEL_DAO_TOKEN);
    CHECK_EQ_INT(pel_dao_mode_parse("tokens"), -1);
    pel_buf_free(&b);
}

/* ---- member mode: the whole grant life cycle ---- */

static void grant_lifecycle(void)
{
    pel_memstate *ms;
    pel_dao_id id;
    pel_obj_id early, deliv, other;
    uint64_t h = 1;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct *all[] = { &A, &B, &C, &G, &R, &X };
    for (int i = 0; i < 6; i++) { all[i]->nonce = 0; fund(ms, all[i]); }
    pel_state st = pel_memstate_reader(ms);

    pel_dao d = dao_params(PEL_DAO_MEMBER, 3, 5000, 5000);
    d.n_members = 3; d.members[0] = A.addr; d.members[1] = B.addr; d.members[2] = C.addr;
    CHECK_EQ_INT(create(ms, h++, &A, &d, &id), 0);
    pel_dao got;
    pel_buf raw;
    pel_buf_init(&raw);
    CHECK_EQ_INT(pel_dao_get(&st, &id, &got, &raw), 0);
    CHECK_EQ_INT(got.n_members, 3);
    CHECK_EQ_INT(got.period, 3);
    CHECK(got.name_len == 15 && memcmp(got.name, "Open Neuro Fund", 15) == 0);
    CHECK(memcmp(got.creator.b, A.addr.b, PEL_ADDR_LEN) == 0);
    pel_dao_id nope;
    memset(&nope, 9, sizeof nope);
    CHECK_EQ_INT(pel_dao_get(&st, &nope, &got, NULL), PEL_EDAO_UNKNOWN);
    CHECK_EQ_INT(deposit(ms, h++, &X, &nope, 5), PEL_EDAO_UNKNOWN);

    /* the treasury: anyone deposits; more than one holds is refused */
    uint64_t x0 = mc_balance(ms, &X.addr);
    CHECK_EQ_INT(deposit(ms, h++, &X, &id, 1000), 0);
    CHECK_EQ_INT(treasury_balance(ms, &id), 1000);
    CHECK(x0 - mc_balance(ms, &X.addr) > 1000);           /* the deposit and the fee */
    CHECK_EQ_INT(deposit(ms, h++, &X, &id, 5000000000ull), PEL_EFUNDS);
    CHECK_EQ_INT(treasury_balance(ms, &id), 1000);

    mc_register(ms, h++, &G, 0x41, NULL, &early);         /* before the grant: not a deliverable */
    mc_register(ms, h++, &X, 0x42, NULL, &other);         /* not the grantee's */

    /* proposal 1: a grant of 300 + 200, reviewer R */
    pel_dao_action ga = grant(&G.addr, &R.addr, 300, 200);
    CHECK_EQ_INT(propose(ms, h++, &X, &id, &ga), PEL_EDAO_MEMBER);
    uint64_t p1 = h;
    CHECK_EQ_INT(propose(ms, h++, &A, &id, &ga), 0);
    uint32_t np;
    CHECK_EQ_INT(pel_dao_nprops(&st, &id, &np), 0);
    CHECK_EQ_INT(np, 1);
    pel_dao_proposal p;
    CHECK_EQ_INT(pel_dao_proposal_get(&st, &id, 1, &p, &raw), 0);
    CHECK_EQ_INT(p.deadline, p1 + 3);
    CHECK_EQ_INT(p.total_weight, 3);
    CHECK_EQ_INT(p.act.n_milestones, 2);
    CHECK_EQ_INT(p.act.milestones[1].amount, 200);
    CHECK_EQ_INT(pel_dao_proposal_get(&st, &id, 2, &p, &raw), PEL_EDAO_PROP);
    CHECK_EQ_INT(vote(ms, h, &A, &id, 2, PEL_DAO_YES), PEL_EDAO_PROP);
    CHECK_EQ_INT(vote(ms, h, &X, &id, 1, PEL_DAO_YES), PEL_EDAO_MEMBER);
    CHECK_EQ_INT(vote(ms, h, &A, &id, 1, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h, &A, &id, 1, PEL_DAO_NO), PEL_EDAO_VOTED);
    CHECK_EQ_INT(execute(ms, h, &X, &id, 1), PEL_EDAO_OPEN);
    h = p1 + 3;                                            /* the deadline: still open */
    CHECK_EQ_INT(vote(ms, h++, &B, &id, 1, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h++, &C, &id, 1, PEL_DAO_YES), PEL_EDAO_CLOSED);
    uint64_t t[3];
    CHECK_EQ_INT(pel_dao_tally(&st, &id, 1, t), 0);
    CHECK(t[0] == 2 && t[1] == 0 && t[2] == 0);
    uint8_t ch;
    uint64_t w;
    CHECK_EQ_INT(pel_dao_vote_get(&st, &id, 1, &B.addr, &ch, &w), 0);
    CHECK(ch == PEL_DAO_YES && w == 1);
    CHECK_EQ_INT(pel_dao_vote_get(&st, &id, 1, &C.addr, &ch, &w), PEL_ENOTFOUND);

    /* release before funding */
    pel_dao_grant gr;
    CHECK_EQ_INT(pel_dao_grant_get(&st, &id, 1, &gr), PEL_ENOTFOUND);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 1, 0, &early), PEL_EGRANT_STATE);
    /* anyone executes, once */
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 1), 0);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 1), PEL_EDAO_DONE);
    CHECK_EQ_INT(treasury_balance(ms, &id), 500);
    CHECK_EQ_INT(escrow_balance(ms, &id, 1), 500);
    CHECK_EQ_INT(pel_dao_grant_get(&st, &id, 1, &gr), 0);
    CHECK(gr.funded > 0 && !gr.cancelled && gr.released == 0);

    /* release: only a named reviewer, only a fresh deliverable of the grantee */
    CHECK_EQ_INT(release(ms, h++, &X, &id, 1, 0, &early), PEL_EGRANT_REVIEWER);
    CHECK_EQ_INT(release(ms, h++, &G, &id, 1, 0, &early), PEL_EGRANT_REVIEWER);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 1, 0, &early), PEL_EGRANT_DELIVERABLE);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 1, 0, &other), PEL_EGRANT_DELIVERABLE);
    pel_obj_id missing;
    memset(&missing, 0x77, sizeof missing);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 1, 0, &missing), PEL_EOBJ_UNKNOWN);
    mc_register(ms, h++, &G, 0x43, NULL, &deliv);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 1, 2, &deliv), PEL_EINVAL);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 2, 0, &deliv), PEL_EDAO_PROP);
    uint64_t g0 = mc_balance(ms, &G.addr);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 1, 0, &deliv), 0);
    CHECK_EQ_INT(mc_balance(ms, &G.addr), g0 + 300);
    CHECK_EQ_INT(escrow_balance(ms, &id, 1), 200);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 1, 0, &deliv), PEL_EGRANT_RELEASED);
    CHECK_EQ_INT(pel_dao_grant_get(&st, &id, 1, &gr), 0);
    CHECK(gr.released == 1 && memcmp(&gr.deliverable[0], &deliv, sizeof deliv) == 0);

    /* proposal 2: a transfer above the treasury: passes, cannot execute */
    pel_dao_action ta = simple(PEL_DAO_TRANSFER, &X.addr, 501, 0);
    uint64_t p2 = h;
    CHECK_EQ_INT(propose(ms, h++, &B, &id, &ta), 0);
    CHECK_EQ_INT(vote(ms, h++, &A, &id, 2, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h++, &B, &id, 2, PEL_DAO_YES), 0);
    h = p2 + 4;
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 2), PEL_EDAO_FUNDS);
    CHECK_EQ_INT(treasury_balance(ms, &id), 500);
    CHECK_EQ_INT(deposit(ms, h++, &C, &id, 1), 0);         /* now it holds enough */
    uint64_t xb = mc_balance(ms, &X.addr);
    CHECK_EQ_INT(execute(ms, h++, &A, &id, 2), 0);
    CHECK_EQ_INT(mc_balance(ms, &X.addr), xb + 501);
    CHECK_EQ_INT(treasury_balance(ms, &id), 0);

    /* proposal 3: rejected by the majority; proposal 4: no quorum */
    pel_dao_action add = simple(PEL_DAO_ADD, &X.addr, 0, 0);
    uint64_t p3 = h;
    CHECK_EQ_INT(propose(ms, h++, &A, &id, &add), 0);
    CHECK_EQ_INT(propose(ms, h++, &A, &id, &add), 0);
    CHECK_EQ_INT(vote(ms, h, &A, &id, 3, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h, &B, &id, 3, PEL_DAO_NO), 0);
    CHECK_EQ_INT(vote(ms, h, &C, &id, 3, PEL_DAO_NO), 0);
    CHECK_EQ_INT(vote(ms, h, &A, &id, 4, PEL_DAO_YES), 0);
    h = p3 + 5;
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 3), PEL_EDAO_REJECTED);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 4), PEL_EDAO_REJECTED);
    CHECK_EQ_INT(pel_dao_proposal_get(&st, &id, 4, &p, &raw), 0);
    CHECK_EQ_INT(pel_dao_tally(&st, &id, 4, t), 0);
    CHECK(!pel_dao_passes(&p, t));                    /* 1 of 3 voted: under 50% */

    /* proposal 5: add X (yes 2, abstain 1: passes); X may then propose */
    uint64_t p5 = h;
    CHECK_EQ_INT(propose(ms, h++, &C, &id, &add), 0);
    CHECK_EQ_INT(vote(ms, h, &A, &id, 5, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h, &B, &id, 5, PEL_DAO_ABSTAIN), 0);
    CHECK_EQ_INT(vote(ms, h++, &C, &id, 5, PEL_DAO_YES), 0);
    h = p5 + 4;
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 5), 0);
    CHECK_EQ_INT(pel_dao_get(&st, &id, &got, &raw), 0);
    CHECK_EQ_INT(got.n_members, 4);

    /* proposals 6..9, voted together: cancel grant 1; remove C; remove
     * C again (fails at execution); new parameters */
    pel_dao_action cancel = simple(PEL_DAO_CANCEL, NULL, 0, 1);
    pel_dao_action rm = simple(PEL_DAO_REMOVE, &C.addr, 0, 0);
    pel_dao_action params = simple(PEL_DAO_PARAMS, NULL, 0, 0);
    params.period = 7; params.quorum_bps = 2500; params.threshold_bps = 6000;
    uint64_t p6 = h;
    CHECK_EQ_INT(propose(ms, h, &X, &id, &cancel), 0);
    CHECK_EQ_INT(propose(ms, h, &X, &id, &rm), 0);
    CHECK_EQ_INT(propose(ms, h, &X, &id, &rm), 0);
    CHECK_EQ_INT(propose(ms, h++, &X, &id, &params), 0);
    for (uint32_t n = 6; n <= 9; n++) {
        CHECK_EQ_INT(vote(ms, h, &A, &id, n, PEL_DAO_YES), 0);
        CHECK_EQ_INT(vote(ms, h, &X, &id, n, PEL_DAO_YES), 0);
        CHECK_EQ_INT(vote(ms, h, &B, &id, n, PEL_DAO_YES), 0);
    }
    h = p6 + 4;
    uint64_t tr = treasury_balance(ms, &id);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 6), 0);
    CHECK_EQ_INT(treasury_balance(ms, &id), tr + 200);     /* the unreleased milestone */
    CHECK_EQ_INT(escrow_balance(ms, &id, 1), 0);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 1, 1, &deliv), PEL_EGRANT_STATE);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 7), 0);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 8), PEL_EDAO_MEMBERS);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 9), 0);
    CHECK_EQ_INT(pel_dao_get(&st, &id, &got, &raw), 0);
    CHECK_EQ_INT(got.n_members, 3);
    CHECK_EQ_INT(got.period, 7);
    CHECK_EQ_INT(got.threshold_bps, 6000);
    CHECK_EQ_INT(got.quorum_bps, 2500);
    /* proposal 4 (1 of 3 voted) would meet the new 25% quorum, but keeps its own */
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 4), PEL_EDAO_REJECTED);
    CHECK_EQ_INT(pel_dao_proposal_get(&st, &id, 4, &p, &raw), 0);
    CHECK(p.quorum_bps == 5000 && p.threshold_bps == 5000 && p.total_weight == 3);
    CHECK_EQ_INT(propose(ms, h++, &C, &id, &add), PEL_EDAO_MEMBER);   /* C is out */
    /* cancelling a cancelled grant, or a proposal that is not a grant */
    pel_dao_action cancel2 = simple(PEL_DAO_CANCEL, NULL, 0, 2);
    uint64_t p10 = h;
    CHECK_EQ_INT(propose(ms, h, &A, &id, &cancel), 0);
    CHECK_EQ_INT(propose(ms, h++, &A, &id, &cancel2), 0);
    CHECK_EQ_INT(pel_dao_proposal_get(&st, &id, 10, &p, &raw), 0);
    CHECK_EQ_INT(p.deadline, p10 + 7);                      /* the new period */
    for (uint32_t n = 10; n <= 11; n++) {
        CHECK_EQ_INT(vote(ms, h, &A, &id, n, PEL_DAO_YES), 0);
        CHECK_EQ_INT(vote(ms, h, &B, &id, n, PEL_DAO_YES), 0);
    }
    h = p10 + 8;
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 10), PEL_EGRANT_STATE);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 11), PEL_EDAO_PROP);

    /* a grant without reviewers, released by a vote (proposal kind release) */
    pel_dao_action g2 = grant(&G.addr, NULL, 150, 0);
    uint64_t p12 = h;
    CHECK_EQ_INT(propose(ms, h++, &A, &id, &g2), 0);
    CHECK_EQ_INT(vote(ms, h, &A, &id, 12, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h, &B, &id, 12, PEL_DAO_YES), 0);
    h = p12 + 8;
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 12), 0);
    CHECK_EQ_INT(release(ms, h++, &R, &id, 12, 0, &deliv), PEL_EGRANT_REVIEWER);
    pel_obj_id deliv2;
    mc_register(ms, h++, &G, 0x44, NULL, &deliv2);
    pel_dao_action rel = simple(PEL_DAO_RELEASE, NULL, 0, 12);
    rel.milestone = 0;
    rel.deliverable = deliv;                               /* older than grant 12: refused */
    pel_dao_action rel2 = rel;
    rel2.deliverable = deliv2;
    uint64_t p13 = h;
    CHECK_EQ_INT(propose(ms, h, &A, &id, &rel), 0);
    CHECK_EQ_INT(propose(ms, h++, &A, &id, &rel2), 0);
    for (uint32_t n = 13; n <= 14; n++) {
        CHECK_EQ_INT(vote(ms, h, &A, &id, n, PEL_DAO_YES), 0);
        CHECK_EQ_INT(vote(ms, h, &B, &id, n, PEL_DAO_YES), 0);
    }
    h = p13 + 8;
    g0 = mc_balance(ms, &G.addr);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 13), PEL_EGRANT_DELIVERABLE);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 14), 0);
    CHECK_EQ_INT(mc_balance(ms, &G.addr), g0 + 150);
    CHECK_EQ_INT(escrow_balance(ms, &id, 12), 0);
    pel_buf_free(&raw);
    pel_memstate_free(ms);
}

/* ---- token and shares modes ---- */

static void weight_modes(void)
{
    pel_memstate *ms;
    pel_dao_id id, sid;
    pel_obj_id obj;
    uint64_t h = 1;
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    acct *all[] = { &A, &B, &C, &G, &R, &X };
    for (int i = 0; i < 6; i++) { all[i]->nonce = 0; fund(ms, all[i]); }
    pel_state st = pel_memstate_reader(ms);
    pel_buf raw;
    pel_buf_init(&raw);

    /* token: weight = deposits by members */
    pel_dao d = dao_params(PEL_DAO_TOKEN, 2, 5000, 5000);
    d.n_members = 2; d.members[0] = A.addr; d.members[1] = B.addr;
    CHECK_EQ_INT(create(ms, h++, &A, &d, &id), 0);
    CHECK_EQ_INT(deposit(ms, h++, &A, &id, 100), 0);
    CHECK_EQ_INT(deposit(ms, h++, &B, &id, 300), 0);
    CHECK_EQ_INT(deposit(ms, h++, &X, &id, 1000), 0);       /* a donation: no weight */
    pel_dao got;
    CHECK_EQ_INT(pel_dao_get(&st, &id, &got, &raw), 0);
    uint64_t total, stake, w;
    CHECK_EQ_INT(pel_dao_total_weight(&st, &id, &got, &total), 0);
    CHECK_EQ_INT(total, 400);
    CHECK_EQ_INT(pel_dao_weight(&st, &id, &got, &X.addr, &stake, &w), 0);
    CHECK(stake == 1000 && w == 0);
    pel_dao_action ta = simple(PEL_DAO_TRANSFER, &G.addr, 50, 0);
    uint64_t p1 = h;
    CHECK_EQ_INT(propose(ms, h++, &A, &id, &ta), 0);
    CHECK_EQ_INT(vote(ms, h, &A, &id, 1, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h++, &B, &id, 1, PEL_DAO_NO), 0);
    uint64_t t[3];
    CHECK_EQ_INT(pel_dao_tally(&st, &id, 1, t), 0);
    CHECK(t[0] == 100 && t[1] == 300);
    h = p1 + 3;
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 1), PEL_EDAO_REJECTED);
    /* adding X brings its stake into the total; a member without stake has no weight */
    pel_dao_action add = simple(PEL_DAO_ADD, &X.addr, 0, 0);
    pel_dao_action addc = simple(PEL_DAO_ADD, &C.addr, 0, 0);
    uint64_t p2 = h;
    CHECK_EQ_INT(propose(ms, h, &B, &id, &add), 0);
    CHECK_EQ_INT(propose(ms, h++, &B, &id, &addc), 0);
    CHECK_EQ_INT(vote(ms, h, &B, &id, 2, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h++, &B, &id, 3, PEL_DAO_YES), 0);
    h = p2 + 3;
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 2), 0);
    CHECK_EQ_INT(execute(ms, h++, &X, &id, 3), 0);
    CHECK_EQ_INT(pel_dao_get(&st, &id, &got, &raw), 0);
    CHECK_EQ_INT(pel_dao_total_weight(&st, &id, &got, &total), 0);
    CHECK_EQ_INT(total, 1400);
    CHECK_EQ_INT(propose(ms, h++, &C, &id, &ta), 0);
    CHECK_EQ_INT(vote(ms, h++, &C, &id, 4, PEL_DAO_YES), PEL_EDAO_WEIGHT);
    CHECK_EQ_INT(vote(ms, h++, &X, &id, 4, PEL_DAO_YES), 0);
    CHECK_EQ_INT(pel_dao_tally(&st, &id, 4, t), 0);
    CHECK(t[0] == 1000 && t[1] == 0);                     /* X's stake, from before it joined */

    /* shares: weight = holding, locked by the vote until the deadline */
    mc_register(ms, h++, &A, 0x51, NULL, &obj);
    pel_buf b;
    pel_buf_init(&b);
    CHECK_EQ_INT(pel_shares_create_body(&obj, 100, &b), 0);
    CHECK_EQ_INT(run1_tx(ms, h++, &A, PEL_TX_SHARES_CREATE, &b, NULL, NULL), 0);
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_shares_transfer_body(&obj, &B.addr, 40, &b), 0);
    CHECK_EQ_INT(run1_tx(ms, h++, &A, PEL_TX_SHARES_TRANSFER, &b, NULL, NULL), 0);
    pel_dao s = dao_params(PEL_DAO_SHARES, 3, 5000, 5000);
    s.n_members = 3; s.members[0] = A.addr; s.members[1] = B.addr; s.members[2] = C.addr;
    pel_obj_id noclass;
    mc_register(ms, h++, &A, 0x52, NULL, &noclass);
    s.share_obj = noclass;
    CHECK_EQ_INT(create(ms, h++, &A, &s, &sid), PEL_ESHARE_NONE);
    s.share_obj = obj;
    CHECK_EQ_INT(create(ms, h++, &A, &s, &sid), 0);
    uint64_t p5 = h;
    CHECK_EQ_INT(propose(ms, h++, &B, &sid, &ta), 0);
    CHECK_EQ_INT(vote(ms, h, &A, &sid, 1, PEL_DAO_NO), 0);
    CHECK_EQ_INT(vote(ms, h++, &B, &sid, 1, PEL_DAO_YES), 0);
    CHECK_EQ_INT(vote(ms, h++, &C, &sid, 1, PEL_DAO_YES), PEL_EDAO_WEIGHT);
    CHECK_EQ_INT(pel_dao_tally(&st, &sid, 1, t), 0);
    CHECK(t[0] == 40 && t[1] == 60);
    /* A's shares cannot move to C (who would vote with them) until the deadline */
    pel_buf_reset(&b);
    CHECK_EQ_INT(pel_shares_transfer_body(&obj, &C.addr, 10, &b), 0);
    CHECK_EQ_INT(run1_tx(ms, p5 + 3, &A, PEL_TX_SHARES_TRANSFER, &b, NULL, NULL), PEL_ESHARE_LOCKED);
    CHECK_EQ_INT(run1_tx(ms, p5 + 4, &A, PEL_TX_SHARES_TRANSFER, &b, NULL, NULL), 0);
    h = p5 + 5;
    CHECK_EQ_INT(execute(ms, h++, &X, &sid, 1), PEL_EDAO_REJECTED);
    pel_buf_free(&b);
    pel_buf_free(&raw);
    pel_memstate_free(ms);
}

/* ---- random histories: every engine agrees, supply is conserved ---- */

enum { NACCT = 6, NPROP_MAX = 64 };

static void random_histories(void)
{
    pel_memstate *ms;
    pel_dao_id id;
    pel_obj_id deliv[NACCT];
    uint64_t h = 1;
    acct *all[NACCT] = { &A, &B, &C, &G, &R, &X };
    CHECK_EQ_INT(pel_memstate_new(&ms), 0);
    for (int i = 0; i < NACCT; i++) { all[i]->nonce = 0; fund(ms, all[i]); }
    pel_dao d = dao_params(PEL_DAO_TOKEN, 2, 3000, 5000);
    d.n_members = 4; d.members[0] = A.addr; d.members[1] = B.addr;
    d.members[2] = C.addr; d.members[3] = G.addr;
    CHECK_EQ_INT(create(ms, h++, &A, &d, &id), 0);
    for (int i = 0; i < NACCT; i++) mc_register(ms, h++, all[i], (uint8_t)(0x60 + i), NULL, &deliv[i]);
    pel_addr treasury;
    pel_dao_treasury(&id, &treasury);
    int iters = (int)(test_env_u64("PEL_TEST_ITERS", 1000) / 40) + 20;
    uint32_t nprops = 0, ok[6] = { 0 };
    for (int it = 0; it < iters; it++) {
        txbox t[32];
        pel_buf b;
        pel_block_result r;
        uint64_t before = mc_balance(ms, &treasury), after, fees = 0;
        for (int i = 0; i < NACCT; i++) before += mc_balance(ms, &all[i]->addr);
        for (uint32_t n = 1; n <= nprops; n++) {
            pel_addr e;
            pel_dao_escrow(&id, n, &e);
            before += mc_balance(ms, &e);
        }
        pel_buf_init(&b);
        uint32_t made = 0;
        for (uint32_t n = 0; n < 32; n++) {
            acct *who = all[next() % NACCT];
            uint64_t x = next() % 12;
            uint32_t pn = nprops ? 1 + (uint32_t)(next() % nprops) : 1;
            uint16_t type;
            pel_buf_reset(&b);
            if (x < 3) {
                type = PEL_TX_DAO_DEPOSIT;
                CHECK_EQ_INT(pel_dao_deposit_body(&id, 1 + next() % 500, &b), 0);
            } else if (x < 5 && nprops + made < NPROP_MAX) {
                pel_dao_action a;
                uint64_t k = next() % 3;
                if (k == 0) a = grant(&all[next() % 4 ? 3 : next() % NACCT]->addr, &R.addr, 1 + next() % 200, next() % 100);
                else if (k == 1) a = simple(PEL_DAO_TRANSFER, &all[next() % NACCT]->addr, 1 + next() % 300, 0);
                else a = simple(PEL_DAO_CANCEL, NULL, 0, pn);
                type = PEL_TX_DAO_PROPOSE;
                CHECK_EQ_INT(pel_dao_propose_body(&id, "r", &a, &b), 0);
                made++;
            } else if (x < 8) {
                type = PEL_TX_DAO_VOTE;
                CHECK_EQ_INT(pel_dao_vote_body(&id, pn, (uint8_t)(1 + next() % 3), &b), 0);
            } else if (x < 10) {
                type = PEL_TX_DAO_EXECUTE;
                CHECK_EQ_INT(pel_dao_execute_body(&id, pn, &b), 0);
            } else {
                type = PEL_TX_DAO_RELEASE;
                who = next() % 4 ? &R : who;
                CHECK_EQ_INT(pel_dao_release_body(&id, pn, (uint8_t)(next() % 2),
                                                  &deliv[next() % 4 ? 3 : next() % NACCT], &b), 0);
            }
            sign_tx(who, type, &b, &t[n]);
        }
        pel_buf_free(&b);
        run_block(ms, h++, t, 32, &r);            /* identical on every engine */
        nprops += made;
        for (int i = 0; i < 32; i++) {
            fees += r.receipts[i].gas_used;
            if (r.receipts[i].status == 0) ok[t[i].tx.type - PEL_TX_DAO_CREATE]++;
        }
        after = mc_balance(ms, &treasury);
        for (int i = 0; i < NACCT; i++) after += mc_balance(ms, &all[i]->addr);
        for (uint32_t n = 1; n <= nprops; n++) {
            pel_addr e;
            pel_dao_escrow(&id, n, &e);
            after += mc_balance(ms, &e);
        }
        CHECK_EQ_INT(before - after, fees);       /* nothing created or lost */
        pel_block_result_free(&r);
        for (int i = 0; i < 32; i++) free(t[i].raw);
        if (it % 4 == 3) {                        /* deliverables newer than recent grants */
            for (int i = 0; i < NACCT; i++)
                mc_register(ms, h++, all[i], (uint8_t)(0x80 + (it % 64) + i), NULL, &deliv[i]);
        }
    }
    /* the histories reach every kind of success, not only refusals */
    for (int i = 1; i < 6; i++) { if (!ok[i]) printf("type %d never succeeded\n", 33 + i); CHECK(ok[i] > 0); }
    pel_memstate_free(ms);
}

int main(void)
{
    if (mc_setup()) return 1;
    acct_make(&A, 11); acct_make(&B, 12); acct_make(&C, 13);
    acct_make(&G, 14); acct_make(&R, 15); acct_make(&X, 16);
    RUN(bodies_refused);
    RUN(grant_lifecycle);
    RUN(weight_modes);
    RUN(random_histories);
    mc_teardown();
    return TEST_END("test_dao");
}
