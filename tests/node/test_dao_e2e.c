/*
 * test_dao_e2e.c - a research-funding DAO end to end on a real node,
 * through the `pel dao`, `pel grant`, `pel object`, `pel shares` and
 * `pel license` CLI: two members create a member-mode DAO (3-block voting
 * period), fund its treasury, pass a two-milestone grant with a named
 * reviewer; the grantee registers the deliverable and a dataset derived
 * from it; the reviewer releases the first milestone (the grantee is paid
 * exactly its amount, once); the grantee splits the deliverable into
 * shares, licenses the derived dataset with an upstream share, a buyer
 * pays, and the deliverable's share holders claim exactly what the terms
 * give them. And the refusals, each with its error: executing before the
 * deadline, voting twice, voting after the deadline, executing a rejected
 * proposal, a non-reviewer releasing, releasing twice, a treasury
 * transfer over the balance, non-members, bad command lines.
 *
 * Blocks are made only when there are transactions, and every command
 * here waits for its commit, so each transaction is one block: the test
 * moves the chain past a deadline with faucet transfers (advance_past).
 */
#include "test.h"
#include "node_harness.h"

#include <unistd.h>

#include "modules/dao.h"
#include "modules/shares.h"

static harness H;
static char out[65536];

/* Run pel with args; stdout and stderr both into out. @return exit status. */
static int cli(const char *const *args)
{
    int p[2];
    if (pipe(p)) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]); close(p[1]);
        const char *a[48] = { H.bin };
        int n = 1;
        for (int i = 0; args[i] && n < 47; i++) a[n++] = args[i];
        a[n] = NULL;
        execv(H.bin, (char *const *)a);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t r;
    char tmp[4096];
    while ((r = read(p[0], tmp, sizeof tmp)) > 0)
        for (ssize_t i = 0; i < r; i++) if (len + 1 < sizeof out) out[len++] = tmp[i];
    out[len] = 0;
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A committed transaction that failed with `code`: exit 1 and its name shown. */
static int fails_with(const char *const *args, int code)
{
    int rc = cli(args);
    int ok = rc == 1 && strstr(out, pel_strerror(code)) != NULL;
    if (!ok) fprintf(stderr, "expected exit 1 with \"%s\", got %d:\n%s\n", pel_strerror(code), rc, out);
    return ok;
}

/* A command line refused before anything is signed: exit 2, msg on stderr. */
static int refused(const char *const *args, const char *msg)
{
    int rc = cli(args);
    int ok = rc == 2 && strstr(out, msg) != NULL;
    if (!ok) fprintf(stderr, "expected exit 2 with \"%s\", got %d:\n%s\n", msg, rc, out);
    return ok;
}

/* ---- accounts and chain ---- */

typedef struct account { char key[300], addr[64]; } account;
static account M1, M2, G, R, HOLD, BUY, FILL;

static void make_account(const char *name, account *a)
{
    snprintf(a->key, sizeof a->key, "%s/%s.key", H.dir, name);
    const char *kg[] = { "keygen", "--out", a->key, "--json", NULL };
    CHECK_EQ_INT(cli(kg), 0);
    const char *p = strstr(out, "pel1");
    CHECK(p != NULL);
    if (!p) return;
    snprintf(a->addr, sizeof a->addr, "%.52s", p);
    const char *fa[] = { "faucet", a->addr, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(fa), 0);
}

static uint64_t head(void)
{
    cJSON *r = h_call(&H, "node_info", NULL);
    uint64_t h = r ? (uint64_t)h_num(r, "height") : 0;
    cJSON_Delete(r);
    return h;
}

static uint64_t u64_of(const cJSON *o, const char *name)
{
    const char *s = h_str(o, name);
    return *s ? strtoull(s, NULL, 10) : UINT64_MAX;
}

static uint64_t balance(const char *addr)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "address", addr);
    cJSON *r = h_call(&H, "account", p);
    uint64_t b = r ? u64_of(r, "balance") : UINT64_MAX;
    cJSON_Delete(r);
    return b;
}

/* Faucet transfers (one block each) until the head is past height h. */
static void advance_past(uint64_t h)
{
    const char *fa[] = { "faucet", FILL.addr, "--amount", "1", "--wait", "--rpc", H.url, NULL };
    for (int i = 0; i < 50 && head() <= h; i++) CHECK_EQ_INT(cli(fa), 0);
    CHECK(head() > h);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* ---- the DAO through RPC ---- */

static char dao[64];

static cJSON *dao_rpc(const char *address)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "dao", dao);
    if (address) cJSON_AddStringToObject(p, "address", address);
    return h_call(&H, "dao", p);
}

static cJSON *prop_rpc(int n, const char *voter)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "dao", dao);
    cJSON_AddNumberToObject(p, "proposal", n);
    if (voter) cJSON_AddStringToObject(p, "voter", voter);
    return h_call(&H, "dao_proposal", p);
}

static int status_is(int n, const char *want)
{
    cJSON *r = prop_rpc(n, NULL);
    int ok = r && !strcmp(h_str(r, "status"), want);
    if (!ok) fprintf(stderr, "proposal %d: status '%s', want '%s'\n", n, r ? h_str(r, "status") : "?", want);
    cJSON_Delete(r);
    return ok;
}

static uint64_t treasury(void)
{
    cJSON *r = dao_rpc(NULL);
    uint64_t b = r ? u64_of(r, "treasury_balance") : UINT64_MAX;
    cJSON_Delete(r);
    return b;
}

static uint64_t deadline_of(int n)
{
    cJSON *r = prop_rpc(n, NULL);
    uint64_t d = r ? (uint64_t)h_num(r, "deadline") : 0;
    cJSON_Delete(r);
    return d;
}

/* `pel dao propose` with extra args; the number it printed (0 on failure). */
static int propose(const account *who, const char *const *extra)
{
    const char *a[40] = { "dao", "propose", dao };
    int n = 3;
    for (int i = 0; extra[i]; i++) a[n++] = extra[i];
    a[n++] = "--key"; a[n++] = who->key; a[n++] = "--rpc"; a[n++] = H.url; a[n] = NULL;
    if (cli(a) != 0) { fprintf(stderr, "propose failed:\n%s\n", out); return 0; }
    const char *p = strstr(out, "\nproposal ");
    return p ? atoi(p + 10) : 0;
}

static int vote(const account *who, int n, const char *choice)
{
    char num[16];
    snprintf(num, sizeof num, "%d", n);
    const char *a[] = { "dao", "vote", dao, num, choice, "--key", who->key, "--wait", "--rpc", H.url, NULL };
    return cli(a);
}

/* ---- the scenario ---- */

static void create_and_fund(void)
{
    make_account("m1", &M1);
    make_account("m2", &M2);
    make_account("grantee", &G);
    make_account("reviewer", &R);
    make_account("holder", &HOLD);
    make_account("buyer", &BUY);
    make_account("filler", &FILL);
    const char *noname[] = { "dao", "create", "--mode", "member", "--member", M2.addr, "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(noname, "--name"));
    const char *badmode[] = { "dao", "create", "--name", "x", "--mode", "plutocracy", "--member", M2.addr,
                              "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(badmode, "--mode"));
    const char *noshare[] = { "dao", "create", "--name", "x", "--mode", "shares", "--member", M2.addr,
                              "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(noshare, "--share-object"));
    const char *badper[] = { "dao", "create", "--name", "x", "--mode", "member", "--period", "0",
                             "--member", M2.addr, "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(badper, "--period"));
    const char *badmem[] = { "dao", "create", "--name", "x", "--mode", "member", "--member", "pel1nobody",
                             "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(badmem, "--member"));
    /* m2 twice, m1 (the signer) not listed: the CLI sorts, dedupes, adds */
    const char *mk[] = { "dao", "create", "--name", "Open Soil Lab", "--mode", "member", "--period", "3",
                         "--member", M2.addr, "--member", M2.addr, "--key", M1.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(mk), 0);
    const char *p = strstr(out, "pel:dao:");
    CHECK(p != NULL);
    if (p) snprintf(dao, sizeof dao, "%.40s", p);
    cJSON *r = dao_rpc(M2.addr);
    CHECK(r != NULL);
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(r, "members");
    CHECK_EQ_INT(cJSON_GetArraySize(mem), 2);
    const char *lo = strcmp(M1.addr, M2.addr) < 0 ? M1.addr : M2.addr, *hi = lo == M1.addr ? M2.addr : M1.addr;
    CHECK(cJSON_GetArraySize(mem) == 2 && !strcmp(cJSON_GetArrayItem(mem, 0)->valuestring, lo) &&
          !strcmp(cJSON_GetArrayItem(mem, 1)->valuestring, hi));
    CHECK(!strcmp(h_str(r, "name"), "Open Soil Lab") && !strcmp(h_str(r, "mode"), "member"));
    CHECK(!strcmp(h_str(r, "creator"), M1.addr) && !strcmp(h_str(r, "id"), dao));
    CHECK_EQ_INT(h_num(r, "period"), 3);
    CHECK_EQ_INT(h_num(r, "quorum_bps"), 5000);
    CHECK_EQ_INT(h_num(r, "threshold_bps"), 5000);
    CHECK_EQ_INT(h_num(r, "proposals"), 0);
    CHECK_EQ_INT(u64_of(r, "total_weight"), 2);
    CHECK_EQ_INT(u64_of(r, "treasury_balance"), 0);
    cJSON_Delete(r);
    /* m1 funds the treasury; the treasury account holds it */
    const char *dep[] = { "dao", "deposit", dao, "10000", "--key", M1.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(dep), 0);
    r = dao_rpc(M1.addr);
    CHECK(r != NULL);
    CHECK_EQ_INT(u64_of(r, "treasury_balance"), 10000);
    CHECK_EQ_INT(balance(h_str(r, "treasury")), 10000);
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(r, "account");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(acc, "member")));
    CHECK_EQ_INT(u64_of(acc, "stake"), 10000);
    CHECK_EQ_INT(u64_of(acc, "weight"), 1);                    /* member mode: one each */
    cJSON_Delete(r);
    const char *show[] = { "dao", "show", dao, "--address", G.addr, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(show), 0);
    CHECK(strstr(out, "Open Soil Lab") && strstr(out, "balance 10000") && strstr(out, "not a member, stake 0, weight 0"));
}

static int grant_n;

/* Grant proposal: executing early fails, both members vote yes, it is
 * executed after the deadline and the escrow is funded. */
static void grant_passes(void)
{
    const char *g[] = { "--grant", "--to", G.addr, "--milestone", "3000:cleaned soil dataset",
                        "--milestone", "2000:analysis code", "--reviewer", R.addr,
                        "--text", "Soil survey 2026", NULL };
    grant_n = propose(&M1, g);
    CHECK_EQ_INT(grant_n, 1);
    cJSON *r = prop_rpc(grant_n, NULL);
    CHECK(r != NULL);
    uint64_t dl = r ? (uint64_t)h_num(r, "deadline") : 0;
    CHECK_EQ_INT(dl, (uint64_t)h_num(r, "height") + 3);
    CHECK(!strcmp(h_str(r, "kind"), "grant") && !strcmp(h_str(r, "description"), "Soil survey 2026"));
    CHECK(!strcmp(h_str(r, "recipient"), G.addr) && !strcmp(h_str(r, "proposer"), M1.addr));
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(r, "milestones");
    CHECK_EQ_INT(cJSON_GetArraySize(ms), 2);
    CHECK_EQ_INT(u64_of(cJSON_GetArrayItem(ms, 0), "amount"), 3000);
    CHECK(!strcmp(h_str(cJSON_GetArrayItem(ms, 1), "deliverable"), "analysis code"));
    CHECK_EQ_INT(h_num(r, "funded"), 0);
    cJSON_Delete(r);
    CHECK(status_is(grant_n, "open"));
    char num[16];
    snprintf(num, sizeof num, "%d", grant_n);
    const char *ex[] = { "dao", "execute", dao, num, "--key", R.key, "--wait", "--rpc", H.url, NULL };
    CHECK(head() < dl);
    CHECK(fails_with(ex, PEL_EDAO_OPEN));                       /* before the deadline */
    CHECK_EQ_INT(vote(&M1, grant_n, "yes"), 0);
    CHECK(head() < dl);
    CHECK_EQ_INT(vote(&M2, grant_n, "yes"), 0);
    CHECK_EQ_INT(head(), dl);                                   /* the last block of the vote */
    CHECK(status_is(grant_n, "passed"));
    r = prop_rpc(grant_n, M2.addr);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "tally"), *v = cJSON_GetObjectItemCaseSensitive(r, "vote");
    CHECK(u64_of(t, "yes") == 2 && u64_of(t, "no") == 0 && u64_of(t, "abstain") == 0);
    CHECK(!strcmp(h_str(v, "choice"), "yes") && u64_of(v, "weight") == 1);
    cJSON_Delete(r);
    CHECK_EQ_INT(cli(ex), 0);                                  /* anyone, after the deadline */
    CHECK(status_is(grant_n, "executed"));
    CHECK(fails_with(ex, PEL_EDAO_DONE));
    r = prop_rpc(grant_n, NULL);
    CHECK(r && h_num(r, "funded") > (double)dl);
    CHECK_EQ_INT(u64_of(r, "escrow_balance"), 5000);
    CHECK_EQ_INT(balance(h_str(r, "escrow")), 5000);
    CHECK(!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "milestones"), 0), "released")));
    cJSON_Delete(r);
    CHECK_EQ_INT(treasury(), 5000);
    const char *show[] = { "dao", "show", dao, num, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(show), 0);
    CHECK(strstr(out, "executed at height") && strstr(out, "yes 2, no 0, abstain 0") &&
          strstr(out, "\"cleaned soil dataset\" not released") && strstr(out, "(balance 5000)"));
}

static char deliv[48], derived[48];

static int obj_from_out(char *id)
{
    const char *p = strstr(out, "id=pel:obj:");
    if (!p) return -1;
    snprintf(id, 41, "%.40s", p + 3);
    return 0;
}

/* The grantee registers the deliverable and a dataset derived from it; a
 * non-reviewer may not release; the reviewer releases milestone 0 once. */
static void deliver_and_release(void)
{
    char f1[300], f2[300], link[80], other[48];
    snprintf(f1, sizeof f1, "%s/soil.csv", H.dir);
    snprintf(f2, sizeof f2, "%s/soil-by-region.csv", H.dir);
    write_file(f1, "site,ph\nA,6.1\nB,7.3\n");
    write_file(f2, "region,mean_ph\nnorth,6.7\n");
    const char *reg[] = { "object", "register", f1, "--kind", "dataset", "--title", "Cleaned soil data",
                          "--license", "CC-BY-4.0", "--key", G.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(reg), 0);
    CHECK_EQ_INT(obj_from_out(deliv), 0);
    snprintf(link, sizeof link, "derived-from:%s", deliv);
    const char *reg2[] = { "object", "register", f2, "--kind", "dataset", "--title", "Soil pH by region",
                           "--license", "CC-BY-4.0", "--link", link, "--key", G.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(reg2), 0);
    CHECK_EQ_INT(obj_from_out(derived), 0);
    /* an object the grantee does not control */
    const char *reg3[] = { "object", "register", "--sha256", "1111111111111111111111111111111111111111111111111111111111111111",
                           "--kind", "dataset", "--title", "Not the grantee's", "--license", "MIT",
                           "--key", M2.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(reg3), 0);
    CHECK_EQ_INT(obj_from_out(other), 0);
    char num[16];
    snprintf(num, sizeof num, "%d", grant_n);
    const char *by_g[] = { "grant", "release", dao, num, "0", "--deliverable", deliv, "--key", G.key, "--wait", "--rpc", H.url, NULL };
    CHECK(fails_with(by_g, PEL_EGRANT_REVIEWER));
    const char *wrong[] = { "grant", "release", dao, num, "0", "--deliverable", other, "--key", R.key, "--wait", "--rpc", H.url, NULL };
    CHECK(fails_with(wrong, PEL_EGRANT_DELIVERABLE));
    const char *nodeliv[] = { "grant", "release", dao, num, "0", "--key", R.key, "--rpc", H.url, NULL };
    CHECK(refused(nodeliv, "--deliverable"));
    const char *badidx[] = { "grant", "release", dao, num, "16", "--deliverable", deliv, "--key", R.key, "--rpc", H.url, NULL };
    CHECK(refused(badidx, "MILESTONE_INDEX"));
    const char *noms[] = { "grant", "release", dao, num, "5", "--deliverable", deliv, "--key", R.key, "--wait", "--rpc", H.url, NULL };
    CHECK(fails_with(noms, PEL_EINVAL));                       /* the grant has 2 */
    uint64_t before = balance(G.addr);
    const char *rel[] = { "grant", "release", dao, num, "0", "--deliverable", deliv, "--key", R.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(rel), 0);
    CHECK_EQ_INT(balance(G.addr), before + 3000);
    CHECK(fails_with(rel, PEL_EGRANT_RELEASED));
    CHECK_EQ_INT(balance(G.addr), before + 3000);
    cJSON *r = prop_rpc(grant_n, NULL);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(r, "milestones");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ms, 0), "released")));
    CHECK(!strcmp(h_str(cJSON_GetArrayItem(ms, 0), "deliverable_object"), deliv));
    CHECK(!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ms, 1), "released")));
    CHECK_EQ_INT(u64_of(r, "escrow_balance"), 2000);
    cJSON_Delete(r);
}

/* The claim command's JSON answer: what the pool paid `addr`, and the fee. */
static int claim(const account *who, uint64_t *paid, uint64_t *fee)
{
    const char *cl[] = { "shares", "claim", deliv, "--key", who->key, "--wait", "--json", "--rpc", H.url, NULL };
    *paid = *fee = UINT64_MAX;
    if (cli(cl) != 0) { fprintf(stderr, "claim failed:\n%s\n", out); return -1; }
    cJSON *r = cJSON_Parse(out), *ev;
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(r, "receipt");
    *fee = u64_of(rec, "fee");
    uint64_t claimed = UINT64_MAX;
    cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(rec, "events")) {
        if (!strcmp(h_str(ev, "kind"), "transfer") && !strcmp(h_str(ev, "to"), who->addr)) *paid = u64_of(ev, "amount");
        if (!strcmp(h_str(ev, "kind"), "shares") && !strcmp(h_str(ev, "op"), "claim")
            && !strcmp(h_str(ev, "holder"), who->addr) && !strcmp(h_str(ev, "object"), deliv))
            claimed = u64_of(ev, "paid");
    }
    CHECK_EQ_INT(claimed, *paid);                 /* the decoded shares event agrees */
    cJSON_Delete(r);
    return 0;
}

/* The deliverable earns through the dataset derived from it. */
static void shares_and_royalties(void)
{
    const uint64_t N = 1000, S = 250, PRICE = 1000, UP_BPS = 3000;
    const char *mk[] = { "shares", "create", deliv, "--shares", "1000", "--key", G.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(mk), 0);
    const char *give[] = { "shares", "transfer", deliv, "--to", HOLD.addr, "--amount", "250", "--key", G.key,
                           "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(give), 0);
    char party[100];
    snprintf(party, sizeof party, "%s:10000", G.addr);
    const char *terms[] = { "license", "set", derived, "--price", "1000", "--party", party, "--upstream", "3000",
                            "--key", G.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(terms), 0);
    uint64_t g0 = balance(G.addr);
    const char *buy[] = { "license", "buy", derived, "--key", BUY.key, "--wait", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(buy), 0);
    char want_ev[200];                            /* the receipt's decoded licence event */
    snprintf(want_ev, sizeof want_ev, "licence op=buy object=%s revision=1 buyer=%s price=1000", derived, BUY.addr);
    CHECK(strstr(out, want_ev) != NULL);
    /* the derived dataset keeps price - upstream for its party; the
     * upstream share goes to the deliverable's holders pro rata */
    uint64_t up = PRICE * UP_BPS / 10000;
    CHECK_EQ_INT(balance(G.addr), g0 + (PRICE - up));
    uint64_t acc = (up << PEL_SHARES_SCALE_BITS) / N;
    uint64_t want_h = (S * acc) >> PEL_SHARES_SCALE_BITS, want_g = ((N - S) * acc) >> PEL_SHARES_SCALE_BITS;
    uint64_t h0 = balance(HOLD.addr), paid, fee;
    CHECK_EQ_INT(claim(&HOLD, &paid, &fee), 0);
    CHECK_EQ_INT(paid, want_h);
    CHECK_EQ_INT(balance(HOLD.addr), h0 + want_h - fee);
    g0 = balance(G.addr);
    CHECK_EQ_INT(claim(&G, &paid, &fee), 0);
    CHECK_EQ_INT(paid, want_g);
    CHECK_EQ_INT(balance(G.addr), g0 + want_g - fee);
    CHECK(want_h == 74 && want_g == 224);                      /* floor(75 - dust), floor(225 - dust) */
}

/* A treasury transfer over the balance passes but cannot run; voting
 * twice is refused. */
static void transfer_too_big(void)
{
    const char *t[] = { "--transfer", "--to", M2.addr, "--amount", "6000", "--text", "pay m2", NULL };
    int n = propose(&M1, t);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(vote(&M1, n, "yes"), 0);
    char num[16];
    snprintf(num, sizeof num, "%d", n);
    const char *again[] = { "dao", "vote", dao, num, "no", "--key", M1.key, "--wait", "--rpc", H.url, NULL };
    CHECK(head() < deadline_of(n));
    CHECK(fails_with(again, PEL_EDAO_VOTED));
    CHECK(head() < deadline_of(n));
    CHECK_EQ_INT(vote(&M2, n, "yes"), 0);
    advance_past(deadline_of(n));
    CHECK(status_is(n, "passed"));
    const char *ex[] = { "dao", "execute", dao, num, "--key", M2.key, "--wait", "--rpc", H.url, NULL };
    uint64_t m2 = balance(M2.addr);
    CHECK(fails_with(ex, PEL_EDAO_FUNDS));
    CHECK_EQ_INT(treasury(), 5000);
    CHECK(balance(M2.addr) < m2);                               /* only the fee went */
    CHECK(status_is(n, "passed"));                              /* not executed: may be retried */
}

/* A no-majority proposal: a late vote is refused, execution is refused. */
static void rejected(void)
{
    const char *a[] = { "--add", HOLD.addr, "--text", "add the holder", NULL };
    int n = propose(&M2, a);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(vote(&M1, n, "no"), 0);
    advance_past(deadline_of(n));
    CHECK(fails_with((const char *const[]){ "dao", "vote", dao, "3", "yes", "--key", M2.key, "--wait", "--rpc", H.url, NULL },
                     PEL_EDAO_CLOSED));
    CHECK(status_is(n, "rejected"));
    const char *ex[] = { "dao", "execute", dao, "3", "--key", M1.key, "--wait", "--rpc", H.url, NULL };
    CHECK(fails_with(ex, PEL_EDAO_REJECTED));
    cJSON *r = dao_rpc(NULL);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "members")), 2);
    CHECK_EQ_INT(h_num(r, "proposals"), 3);
    cJSON_Delete(r);
    /* non-members may neither propose nor vote */
    const char *t[] = { "dao", "propose", dao, "--remove", M1.addr, "--key", G.key, "--rpc", H.url, NULL };
    CHECK(fails_with(t, PEL_EDAO_MEMBER));
    CHECK_EQ_INT(vote(&G, n, "yes"), 1);                        /* closed anyway */
}

static void listing_and_cli_errors(void)
{
    const char *ls[] = { "dao", "list", dao, "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(ls), 0);
    CHECK(strstr(out, "1     grant     executed") && strstr(out, "2     transfer  passed") &&
          strstr(out, "3     add       rejected") && !strstr(out, "more:"));
    const char *page[] = { "dao", "list", dao, "--after", "1", "--limit", "1", "--json", "--rpc", H.url, NULL };
    CHECK_EQ_INT(cli(page), 0);
    cJSON *r = cJSON_Parse(out);
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(r, "proposals");
    CHECK(cJSON_GetArraySize(ps) == 1 && h_num(cJSON_GetArrayItem(ps, 0), "number") == 2);
    CHECK_EQ_INT(h_num(r, "next"), 2);
    CHECK_EQ_INT(h_num(r, "count"), 3);
    cJSON_Delete(r);
    const char *v[] = { "dao", "vote", dao, "1", "maybe", "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(v, "yes, no or abstain"));
    const char *two[] = { "dao", "propose", dao, "--grant", "--transfer", "--to", G.addr, "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(two, "exactly one"));
    const char *ms[] = { "dao", "propose", dao, "--grant", "--to", G.addr, "--milestone", "lots", "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(ms, "AMOUNT:DELIVERABLE"));
    const char *stray[] = { "dao", "propose", dao, "--transfer", "--to", G.addr, "--amount", "5", "--milestone", "1:x",
                            "--key", M1.key, "--rpc", H.url, NULL };
    CHECK(refused(stray, "--milestone does not go with --transfer"));
    const char *bad[] = { "dao", "show", "pel:dao:xyz", "--rpc", H.url, NULL };
    CHECK(refused(bad, "not a DAO id"));
    const char *nop[] = { "dao", "show", dao, "99", "--rpc", H.url, NULL };
    CHECK(fails_with(nop, PEL_EDAO_PROP));
    char ghost[64];
    snprintf(ghost, sizeof ghost, "pel:dao:%032d", 5);
    const char *nod[] = { "dao", "show", ghost, "--rpc", H.url, NULL };
    CHECK(fails_with(nod, PEL_EDAO_UNKNOWN));
    const char *help[] = { "dao", "--help", NULL };
    CHECK_EQ_INT(cli(help), 0);
    CHECK(strstr(out, "pel grant release") != NULL);
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    if (h_init(&H, argv[0], "dao-chain")) { fprintf(stderr, "cannot set up\n"); return 1; }
    const char *extra[] = { "--block-interval-ms", "20", NULL };
    if (h_start(&H, extra) || h_wait_ready(&H, 20)) {
        fprintf(stderr, "node did not start\n");
        CHECK(0);
    } else {
        RUN(create_and_fund);
        RUN(grant_passes);
        RUN(deliver_and_release);
        RUN(shares_and_royalties);
        RUN(transfer_too_big);
        RUN(rejected);
        RUN(listing_and_cli_errors);
        const char *v[] = { "admin", "verify", "--dir", H.dir, NULL };
        CHECK_EQ_INT(h_stop(&H, SIGTERM), 0);
        CHECK_EQ_INT(cli(v), 0);                                   /* the replay agrees */
    }
    h_cleanup(&H);
    return TEST_END("test_dao_e2e");
}
