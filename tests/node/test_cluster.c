/*
 * test_cluster.c - three `pel node` processes on loopback forming one
 * ledger over the raft ordering backend (order_raft.c).
 *
 * Checks, in order: transfers submitted to every member (followers
 * forward to the leader) commit on all three with identical heights, head
 * hashes, state roots and receipts; after kill -9 of the leader the other
 * two elect a new one and keep committing; the killed node, restarted,
 * replays its Raft log (skipping what its store has) and catches up to the
 * same state; a stopped member's chain passes `pel admin verify` (the
 * leader's signatures were adopted by the followers).
 */
#include "node/node_harness.h"
#include "test.h"

#define N 3
#define SUPPLY 1000000000000000ull

static harness H[N];
static char root[64];
static uint8_t fpk[32], fsk[64];     /* the faucet: the shared genesis' funded key */
static uint64_t fnonce;
static uint8_t ids[200][32];
static int n_ids;

static int setup(const char *argv0)
{
    uint16_t rpc[N], raft[N];
    char err[512], path[300];
    snprintf(root, sizeof root, "/tmp/pel-cluster-XXXXXX");
    if (!mkdtemp(root)) return -1;
    for (int i = 0; i < N; i++) {
        rpc[i] = h_free_port();
        raft[i] = h_free_port();
        if (raft[i] == rpc[i]) raft[i] = h_free_port();
    }
    if (pel_node_init_cluster(root, "pel-cluster-test", SUPPLY, N, rpc, raft, err, sizeof err)) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    for (int i = 0; i < N; i++) {
        harness *h = &H[i];
        memset(h, 0, sizeof *h);
        h->pid = -1;
        h_find_bin(h, argv0);
        snprintf(h->dir, sizeof h->dir, "%s/node%d", root, i + 1);
        h->port = rpc[i];
        snprintf(h->url, sizeof h->url, "http://127.0.0.1:%u/rpc", h->port);
        snprintf(h->chain_id, sizeof h->chain_id, "pel-cluster-test");
        h->gas = pel_gas_defaults();
        if (pel_rpc_client_new(h->url, 5000, &h->rpc)) return -1;
    }
    snprintf(path, sizeof path, "%s/node1/faucet.key", root);
    return pel_keyfile_load(path, fpk, fsk, err, sizeof err) ? -1 : 0;
}

static int start(int i)
{
    const char *extra[] = { NULL };
    return h_start(&H[i], extra) || h_wait_ready(&H[i], 10) ? -1 : 0;
}

/* Submit a transfer from the faucet through member i, retrying while the
 * cluster has no reachable leader (an election). 0 when accepted. */
static int submit_via(int i, double secs)
{
    char hex[2 * PEL_TX_SIZE_MAX + 1];
    h_key to;
    uint8_t id[32];
    h_key_make(&to, (uint32_t)n_ids % 7);
    h_key from;
    memcpy(from.pk, fpk, 32);
    memcpy(from.sk, fsk, 64);
    if (h_sign_transfer(&H[i], &from, &to.addr, 1000 + (uint64_t)n_ids, fnonce, hex, id)) return -1;
    double end = h_now() + secs;
    while (h_now() < end) {
        cJSON *p = cJSON_CreateObject(), *res = NULL;
        cJSON_AddStringToObject(p, "tx", hex);
        pel_rpc_error err;
        int rc = pel_rpc_call(H[i].rpc, "submit_tx", p, &res, &err);
        cJSON_Delete(p);
        cJSON_Delete(res);
        double code = rc == PEL_EREMOTE ? h_num(err.data, "pel_code") : 0;
        if (rc == PEL_EREMOTE) cJSON_Delete(err.data);
        if (rc == 0 || code == PEL_EDUP) {
            memcpy(ids[n_ids++], id, 32);
            fnonce++;
            return 0;
        }
        if (rc == PEL_EREMOTE && code != PEL_ENOTLEADER) {
            fprintf(stderr, "submit via node %d: %s\n", i + 1, err.message);
            return -1;
        }
        h_sleep_ms(50);
    }
    return -1;
}

static cJSON *info(int i) { return h_call(&H[i], "node_info", NULL); }

/* Wait until the running members agree on height (>= min), head and state
 * root; 0 when they do. */
static int wait_agree(const int *up, double min_height, double secs)
{
    double end = h_now() + secs;
    while (h_now() < end) {
        cJSON *a[N] = { 0 };
        int ok = 1, first = -1;
        for (int i = 0; i < N; i++) {
            if (!up[i]) continue;
            a[i] = info(i);
            if (!a[i]) { ok = 0; continue; }
            if (first < 0) first = i;
            if (h_num(a[i], "height") < min_height ||
                h_num(a[i], "height") != h_num(a[first], "height") ||
                strcmp(h_str(a[i], "head_hash"), h_str(a[first], "head_hash")) ||
                strcmp(h_str(a[i], "state_root"), h_str(a[first], "state_root")))
                ok = 0;
        }
        for (int i = 0; i < N; i++) cJSON_Delete(a[i]);
        if (ok && first >= 0) return 0;
        h_sleep_ms(50);
    }
    return -1;
}

static const char *role_of(const cJSON *inf)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(inf, "ordering");
    return h_str(o, "role");
}

static int find_leader(const int *up, double secs)
{
    double end = h_now() + secs;
    while (h_now() < end) {
        for (int i = 0; i < N; i++) {
            if (!up[i]) continue;
            cJSON *a = info(i);
            int lead = a && !strcmp(role_of(a), "leader");
            cJSON_Delete(a);
            if (lead) return i;
        }
        h_sleep_ms(50);
    }
    return -1;
}

/* Every submitted transaction is committed on every running member with
 * the same status answer (height, index, receipt). */
static int same_receipts(const int *up)
{
    for (int t = 0; t < n_ids; t++) {
        char *first = NULL;
        int ok = 1;
        for (int i = 0; i < N && ok; i++) {
            if (!up[i]) continue;
            if (h_wait_committed(&H[i], ids[t], 10)) { ok = 0; break; }
            cJSON *s = h_tx_status(&H[i], ids[t]);
            char *text = s ? cJSON_PrintUnformatted(s) : NULL;
            cJSON_Delete(s);
            if (!text) { ok = 0; break; }
            if (!first) first = text;
            else { ok = !strcmp(first, text); free(text); }
        }
        free(first);
        if (!ok) { fprintf(stderr, "tx %d differs or is missing\n", t); return -1; }
    }
    return 0;
}

static void test_cluster_commits_everywhere(void)
{
    int up[N] = { 1, 1, 1 };
    CHECK(find_leader(up, 10) >= 0);
    int ok = 1;
    for (int k = 0; k < 30 && ok; k++) ok = submit_via(k % N, 10) == 0;   /* all three, followers forward */
    CHECK(ok);
    CHECK_EQ_INT(same_receipts(up), 0);
    CHECK_EQ_INT(wait_agree(up, 1, 10), 0);
    /* a faucet call on a follower is forwarded too */
    int leader = find_leader(up, 5), follower = (leader + 1) % N;
    h_key k;
    h_key_make(&k, 99);
    cJSON *r = h_call(&H[follower], "faucet", h_addr_params(&k.addr));
    CHECK(r != NULL);
    cJSON_Delete(r);
}

static void test_leader_killed_then_rejoins(void)
{
    int up[N] = { 1, 1, 1 };
    int old = find_leader(up, 5);
    CHECK(old >= 0);
    if (old < 0) return;
    CHECK_EQ_INT(h_stop(&H[old], SIGKILL), 128 + SIGKILL);
    up[old] = 0;
    int ok = 1;
    for (int k = 0; k < 15 && ok; k++) ok = submit_via((old + 1 + k % 2) % N, 15) == 0;
    CHECK(ok);
    int now = find_leader(up, 10);
    CHECK(now >= 0 && now != old);
    CHECK_EQ_INT(same_receipts(up), 0);
    cJSON *a = info(now);
    double h_after = a ? h_num(a, "height") : -1;
    cJSON_Delete(a);
    CHECK(h_after > 0);
    /* the killed node restarts, replays its log and catches up */
    CHECK_EQ_INT(start(old), 0);
    up[old] = 1;
    CHECK_EQ_INT(wait_agree(up, h_after, 20), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
    /* and takes submissions again (forwarded, or its own as leader) */
    CHECK_EQ_INT(submit_via(old, 10), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
    CHECK_EQ_INT(wait_agree(up, h_after + 1, 10), 0);
}

static void test_stopped_member_verifies(void)
{
    int st = h_stop(&H[2], SIGTERM);
    CHECK_EQ_INT(st, 0);
    char out[4096];
    const char *args[] = { "admin", "verify", "--dir", H[2].dir, NULL };
    int rc = h_run(&H[2], out, sizeof out, args);
    CHECK_EQ_INT(rc, 0);
    if (rc) fprintf(stderr, "%s", out);
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    if (setup(argv[0])) {
        fprintf(stderr, "setup failed\n");
        printf("test_cluster: 0 passed, 1 failed\n");
        return 1;
    }
    int started = 1;
    for (int i = 0; i < N; i++) started &= start(i) == 0;
    CHECK(started);
    if (started) {
        RUN(test_cluster_commits_everywhere);
        RUN(test_leader_killed_then_rejoins);
        RUN(test_stopped_member_verifies);
    }
    for (int i = 0; i < N; i++) {
        if (H[i].pid > 0) h_stop(&H[i], SIGTERM);
        pel_rpc_client_free(H[i].rpc);
        H[i].rpc = NULL;
    }
    if (test_failed_) {
        fprintf(stderr, "logs kept in %s\n", root);
    } else {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    }
    return TEST_END("test_cluster");
}
