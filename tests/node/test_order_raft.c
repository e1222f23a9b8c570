/*
 * test_order_raft.c - the raft ordering backend (node/order.h,
 * order_raft.c) in one process: three members on loopback, each with its
 * own libraft loop thread and log directory, and a handler that records
 * the entries delivered. Runs under ThreadSanitizer too (make test), which
 * watches the proposal and membership-change hand-offs between the
 * caller's threads and the loop threads.
 *
 * Checks: member addresses ("raft,rpc=api") format and parse; the three
 * elect one leader and deliver the leader's proposals, in order, on every
 * member; each knows the configuration (ids, both addresses, roles); a
 * follower refuses changes (not the leader); pel_order_hand_off moves the
 * leadership; ADD refuses an address in use, adds a member as a spare
 * under a new random id; a fourth member started with `join` (no
 * bootstrap) catches up with the whole log and PROMOTE makes it a voter;
 * a change that does not commit within its wait answers PEL_EPENDING and
 * goes on (another change meanwhile: PEL_EBUSY); REMOVE of the leader
 * itself commits, and the others elect a new leader, which keeps
 * delivering.
 */
#include <pthread.h>
#include <sys/stat.h>

#include "node/node_harness.h"
#include "node/order.h"
#include "test.h"

#define MAXM 5
#define LOG_MAX 512

typedef struct member {
    pel_order *o;
    pel_order_raft_opts opts;
    pthread_mutex_t mu;
    uint64_t got[LOG_MAX];      /* heights delivered, in order */
    unsigned n_got;
} member;

static member M[MAXM];
static char root[64];
static uint16_t raft_port[MAXM], rpc_port[MAXM];

static void on_deliver(void *ctx, const uint8_t *e, size_t len)
{
    member *m = ctx;
    uint64_t h = 0;
    for (size_t i = 0; i < 8 && i < len; i++) h = h << 8 | e[i];
    pthread_mutex_lock(&m->mu);
    if (m->n_got < LOG_MAX) m->got[m->n_got++] = h;
    pthread_mutex_unlock(&m->mu);
}

static void on_failed(void *ctx, uint64_t height, int code)
{
    (void)ctx; (void)height; (void)code;
}

static void peer_of(unsigned i, pel_cluster_peer *p)
{
    memset(p, 0, sizeof *p);
    p->id = i + 1;
    snprintf(p->raft, sizeof p->raft, "127.0.0.1:%u", raft_port[i]);
    snprintf(p->rpc, sizeof p->rpc, "127.0.0.1:%u", rpc_port[i]);
}

/* Member i (id i+1): a founder of three (bootstrap) or, with join, only
 * itself in its peers and no bootstrap. */
static int start_member(unsigned i, int join)
{
    member *m = &M[i];
    char err[512] = "";
    memset(&m->opts, 0, sizeof m->opts);
    m->opts.id = i + 1;
    snprintf(m->opts.dir, sizeof m->opts.dir, "%s/m%u", root, i + 1);
    m->opts.election_timeout_ms = 300;
    m->opts.heartbeat_ms = 50;
    m->opts.join = join;
    if (join) {
        peer_of(i, &m->opts.peers[0]);
        m->opts.n_peers = 1;
    } else {
        for (unsigned k = 0; k < 3; k++) peer_of(k, &m->opts.peers[k]);
        m->opts.n_peers = 3;
    }
    pel_order_handler h = { m, on_deliver, on_failed, NULL, NULL };
    int rc = pel_order_raft_new(&m->opts, &h, &m->o, err, sizeof err);
    if (!rc) rc = pel_order_start(m->o, err, sizeof err);
    if (rc) fprintf(stderr, "member %u: %s (%s)\n", i + 1, pel_strerror(rc), err);
    return rc;
}

static void stop_member(unsigned i)
{
    pel_order_free(M[i].o);
    M[i].o = NULL;
}

/* The one member (of the running ones in up) that leads, within secs. */
static int leader_of(const int *up, double secs)
{
    double end = h_now() + secs;
    while (h_now() < end) {
        for (int i = 0; i < MAXM; i++)
            if (up[i] && M[i].o && pel_order_is_leader(M[i].o)) return i;
        h_sleep_ms(20);
    }
    return -1;
}

static uint64_t next_height = 1;

/* Propose k entries (heights next_height..) on member l. */
static int propose(int l, int k)
{
    for (int j = 0; j < k; j++) {
        uint8_t e[16] = { 0 };
        uint64_t h = next_height;
        for (int b = 7; b >= 0; b--) { e[b] = (uint8_t)h; h >>= 8; }
        if (pel_order_propose(M[l].o, next_height, e, sizeof e)) return -1;
        next_height++;
    }
    return 0;
}

/* Every member in up has delivered 1..next_height-1, in order (within secs). */
static int all_delivered(const int *up, double secs)
{
    double end = h_now() + secs;
    int ok = 0;
    while (!ok && h_now() < end) {
        ok = 1;
        for (int i = 0; i < MAXM && ok; i++) {
            if (!up[i]) continue;
            pthread_mutex_lock(&M[i].mu);
            if (M[i].n_got != next_height - 1) ok = 0;
            for (unsigned k = 0; ok && k < M[i].n_got; k++) ok = M[i].got[k] == k + 1;
            pthread_mutex_unlock(&M[i].mu);
        }
        if (!ok) h_sleep_ms(20);
    }
    return ok ? 0 : -1;
}

/* How many voters member i knows, and the role it knows id by (-1: none). */
static unsigned voters_known(int i, uint64_t id, int *role)
{
    pel_cluster_peer m[PEL_CLUSTER_MAX];
    unsigned n = pel_order_members(M[i].o, m, PEL_CLUSTER_MAX), v = 0;
    *role = -1;
    for (unsigned k = 0; k < n; k++) {
        v += m[k].role == PEL_MEMBER_VOTER;
        if (m[k].id == id) *role = m[k].role;
    }
    return v;
}

static int wait_voters(int i, unsigned want, double secs)
{
    double end = h_now() + secs;
    int role;
    while (h_now() < end) {
        if (voters_known(i, 0, &role) == want) return 0;
        h_sleep_ms(20);
    }
    return -1;
}

static void test_addresses(void)
{
    char a[300], raft[128], rpc[128];
    CHECK_EQ_INT(pel_cluster_addr_format("10.0.0.1:8745", "10.0.0.1:8645", a, sizeof a), 0);
    CHECK(!strcmp(a, "10.0.0.1:8745,rpc=10.0.0.1:8645"));
    CHECK_EQ_INT(pel_cluster_addr_parse(a, raft, sizeof raft, rpc, sizeof rpc), 0);
    CHECK(!strcmp(raft, "10.0.0.1:8745") && !strcmp(rpc, "10.0.0.1:8645"));
    CHECK_EQ_INT(pel_cluster_addr_parse("10.0.0.1:8745", raft, sizeof raft, rpc, sizeof rpc), 0);
    CHECK(!strcmp(raft, "10.0.0.1:8745") && rpc[0] == 0);           /* an older bootstrap */
    CHECK_EQ_INT(pel_cluster_addr_format("a,b:1", "c:2", a, sizeof a), PEL_EINVAL);
    CHECK_EQ_INT(pel_cluster_addr_format("a:1", "", a, sizeof a), PEL_EINVAL);
    CHECK_EQ_INT(pel_cluster_addr_format("10.0.0.1:8745", "10.0.0.1:8645", a, 20), PEL_ETOOLONG);
    CHECK_EQ_INT(pel_cluster_addr_parse("10.0.0.1:8745,rpc=10.0.0.1:8645", raft, 5, rpc, sizeof rpc),
                 PEL_ETOOLONG);
    CHECK(!strcmp(pel_member_role_name(PEL_MEMBER_SPARE), "spare"));
}

static void test_cluster_life(void)
{
    int up[MAXM] = { 1, 1, 1 };
    int started = 1;
    for (unsigned i = 0; i < 3; i++) started &= start_member(i, 0) == 0;
    CHECK(started);
    if (!started) return;
    int l = leader_of(up, 10);
    CHECK(l >= 0);
    if (l < 0) return;
    CHECK_EQ_INT(propose(l, 20), 0);
    CHECK_EQ_INT(all_delivered(up, 10), 0);

    /* everyone knows the configuration, both addresses of each */
    for (int i = 0; i < 3; i++) {
        pel_cluster_peer m[PEL_CLUSTER_MAX];
        CHECK_EQ_INT(pel_order_members(M[i].o, m, PEL_CLUSTER_MAX), 3);
        for (unsigned k = 0; k < 3; k++) {
            pel_cluster_peer want;
            peer_of(k, &want);
            CHECK(m[k].id == want.id && !strcmp(m[k].raft, want.raft) && !strcmp(m[k].rpc, want.rpc) &&
                  m[k].role == PEL_MEMBER_VOTER);
        }
        pel_order_status st;
        pel_order_get_status(M[i].o, &st);
        CHECK(!strcmp(st.member, "voter") && st.voters == 3);
    }

    /* a follower changes nothing */
    int f = (l + 1) % 3;
    uint64_t id = 0;
    char err[400];
    CHECK_EQ_INT(pel_order_change(M[f].o, PEL_CHANGE_REMOVE, 1, NULL, NULL, 1000, &id, err, sizeof err),
                 PEL_ENOTLEADER);

    /* hand-off */
    pel_order_hand_off(M[l].o);
    double end = h_now() + 5;
    int l2 = -1;
    while (h_now() < end && (l2 < 0 || l2 == l)) { l2 = leader_of(up, 1); h_sleep_ms(20); }
    CHECK(l2 >= 0 && l2 != l);
    if (l2 < 0 || l2 == l) return;
    l = l2;
    CHECK_EQ_INT(propose(l, 5), 0);
    CHECK_EQ_INT(all_delivered(up, 10), 0);

    /* ADD: an address in use is refused; a fourth member as a spare */
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_ADD, 0, M[0].opts.peers[0].raft, "127.0.0.1:1",
                                  5000, &id, err, sizeof err), PEL_EEXIST);
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_ADD, 4, "", "127.0.0.1:2", 5000, &id, err, sizeof err),
                 PEL_EINVAL);
    pel_cluster_peer p4;
    peer_of(3, &p4);
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_ADD, 4, p4.raft, p4.rpc, 5000, &id, err, sizeof err), 0);
    CHECK(id == 4);
    int role;
    CHECK_EQ_INT(voters_known(l, 4, &role), 3);
    CHECK_EQ_INT(role, PEL_MEMBER_SPARE);
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_ADD, 4, "127.0.0.1:3", "127.0.0.1:4", 5000, &id, err,
                                  sizeof err), PEL_EEXIST);                      /* the id is taken */

    /* it starts empty (join), catches up with the whole log, is promoted */
    CHECK_EQ_INT(start_member(3, 1), 0);
    pel_order_status st4;
    pel_order_get_status(M[3].o, &st4);
    CHECK(!strcmp(st4.member, "none"));          /* no configuration: a spare gets no entries */
    up[3] = 1;
    int rc = PEL_EPENDING;
    for (int tries = 0; tries < 5 && rc; tries++) {
        rc = pel_order_change(M[l].o, PEL_CHANGE_PROMOTE, 4, NULL, NULL, 10000, &id, err, sizeof err);
        if (rc) { fprintf(stderr, "  promote: %s (%s)\n", pel_strerror(rc), err); h_sleep_ms(500); }
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(all_delivered(up, 10), 0);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(wait_voters(i, 4, 5), 0);
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_PROMOTE, 4, NULL, NULL, 5000, &id, err, sizeof err), 0);
    CHECK_EQ_INT(propose(l, 5), 0);
    CHECK_EQ_INT(all_delivered(up, 10), 0);

    /* a promotion of a member that never runs: pending, then busy for others */
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_ADD, 0, "127.0.0.1:9", "127.0.0.1:10", 5000, &id, err,
                                  sizeof err), 0);
    uint64_t ghost = id;
    CHECK(ghost >= 1 && ghost < 0x80000000u && ghost != 4);
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_PROMOTE, ghost, NULL, NULL, 100, &id, err, sizeof err),
                 PEL_EPENDING);
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_REMOVE, 2, NULL, NULL, 1000, &id, err, sizeof err),
                 PEL_EBUSY);
    /* libraft gives the promotion up after a catch-up round without progress; then remove it */
    rc = PEL_EBUSY;
    end = h_now() + 30;
    while (rc == PEL_EBUSY && h_now() < end) {
        rc = pel_order_change(M[l].o, PEL_CHANGE_REMOVE, ghost, NULL, NULL, 5000, &id, err, sizeof err);
        if (rc == PEL_EBUSY) h_sleep_ms(200);
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(voters_known(l, ghost, &role), 4);
    CHECK_EQ_INT(role, -1);

    /* the leader removes itself; the others go on */
    CHECK_EQ_INT(pel_order_change(M[l].o, PEL_CHANGE_REMOVE, (uint64_t)l + 1, NULL, NULL, 5000, &id, err,
                                  sizeof err), 0);
    pel_order_status st;
    pel_order_get_status(M[l].o, &st);
    CHECK(!strcmp(st.member, "removed"));
    up[l] = 0;
    int l3 = leader_of(up, 10);
    CHECK(l3 >= 0 && l3 != l);
    if (l3 < 0) return;
    CHECK_EQ_INT(wait_voters(l3, 3, 5), 0);
    up[l] = 1;                                   /* it delivered everything so far */
    CHECK_EQ_INT(all_delivered(up, 10), 0);
    up[l] = 0;
    CHECK_EQ_INT(propose(l3, 5), 0);
    CHECK_EQ_INT(all_delivered(up, 10), 0);
}

int main(int argc, char **argv)
{
    (void)argc; (void)argv;
    signal(SIGPIPE, SIG_IGN);
    snprintf(root, sizeof root, "/tmp/pel-order-raft-XXXXXX");
    if (!mkdtemp(root)) return 1;
    for (int i = 0; i < MAXM; i++) {
        pthread_mutex_init(&M[i].mu, NULL);
        raft_port[i] = h_free_port();
        rpc_port[i] = h_free_port();
    }
    RUN(test_addresses);
    RUN(test_cluster_life);
    for (int i = 0; i < MAXM; i++) stop_member((unsigned)i);
    for (int i = 0; i < MAXM; i++) pthread_mutex_destroy(&M[i].mu);
    h_keep_or_remove(root, test_failed_);
    return TEST_END("test_order_raft");
}
