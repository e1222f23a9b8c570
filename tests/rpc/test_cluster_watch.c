/*
 * test_cluster_watch.c - the cluster watch's pure parts (cluster_watch.h):
 * the majority verdict over peer votes and reading the state root out of
 * a checkpoint note. The watch itself runs in tests/node/test_cluster.c.
 */
#include <string.h>

#include "rpc/cluster_watch.h"
#include "test.h"

static pel_peer_vote vote(pel_peer_verdict v, uint64_t h, uint8_t ours, uint8_t theirs)
{
    pel_peer_vote x;
    memset(&x, 0, sizeof x);
    x.verdict = v;
    x.height = h;
    memset(x.ours, ours, 32);
    memset(x.theirs, theirs, 32);
    return x;
}

/* 3 members: both peers disagreeing is a majority, one is not. */
static void test_judge_three_members(void)
{
    pel_node_divergence d;
    memset(&d, 0xEE, sizeof d);
    pel_peer_vote v[2] = { vote(PEL_PEER_DISAGREE, 9, 1, 2), vote(PEL_PEER_AGREE, 9, 1, 1) };
    CHECK_EQ_INT(pel_cluster_judge(v, 2, 3, &d), 0);
    CHECK_EQ_INT(d.height, 0xEEEEEEEEEEEEEEEEull);         /* untouched */
    v[1] = vote(PEL_PEER_UNKNOWN, 0, 0, 0);
    CHECK_EQ_INT(pel_cluster_judge(v, 2, 3, &d), 0);       /* an unreachable peer is no vote */
    v[1] = vote(PEL_PEER_DISAGREE, 7, 3, 4);
    CHECK_EQ_INT(pel_cluster_judge(v, 2, 3, &d), 1);
    CHECK_EQ_INT(d.height, 7);                              /* the lowest height */
    CHECK_EQ_INT(d.root[0], 3);
    CHECK_EQ_INT(d.majority_root[31], 4);
    CHECK_EQ_INT(d.disagree, 2);
    CHECK_EQ_INT(d.members, 3);
}

/* 5 members: 2 of 4 peers disagreeing is not a majority, 3 is. */
static void test_judge_five_members(void)
{
    pel_node_divergence d;
    pel_peer_vote v[4] = { vote(PEL_PEER_DISAGREE, 5, 1, 2), vote(PEL_PEER_DISAGREE, 5, 1, 2),
                           vote(PEL_PEER_AGREE, 5, 1, 1), vote(PEL_PEER_UNKNOWN, 0, 0, 0) };
    CHECK_EQ_INT(pel_cluster_judge(v, 4, 5, &d), 0);
    v[3] = vote(PEL_PEER_DISAGREE, 6, 1, 2);
    CHECK_EQ_INT(pel_cluster_judge(v, 4, 5, &d), 1);
    CHECK_EQ_INT(d.height, 5);
    CHECK_EQ_INT(d.disagree, 3);
}

static void test_root_of_note(void)
{
    const char *note =
        "pel-devnet/pel\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nheight 7\n"
        "state-root 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
        "timestamp-ms 1700000000123\n\n\xe2\x80\x94 pel-devnet/pel abcd\n";
    uint8_t root[32];
    CHECK_EQ_INT(pel_cluster_root_of_note(note, root), 0);
    CHECK_EQ_INT(root[0], 0x20);
    CHECK_EQ_INT(root[31], 0x3f);
    CHECK_EQ_INT(pel_cluster_root_of_note("pel-devnet/pel\n42\n", root), PEL_ECORRUPT);
    CHECK_EQ_INT(pel_cluster_root_of_note("x\nstate-root 2021\n", root), PEL_ECORRUPT);
    CHECK_EQ_INT(pel_cluster_root_of_note("x\nstate-root zz2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n",
                                          root), PEL_ECORRUPT);
}

int main(void)
{
    RUN(test_judge_three_members);
    RUN(test_judge_five_members);
    RUN(test_root_of_note);
    return TEST_END("test_cluster_watch");
}
