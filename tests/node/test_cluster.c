/*
 * test_cluster.c - three `pel node` processes on loopback forming one
 * ledger over the raft ordering backend (order_raft.c).
 *
 * Checks, in order: transfers submitted to every member (followers
 * forward to the leader) commit on all three with identical heights, head
 * hashes, state roots and receipts; after kill -9 of the leader the other
 * two elect a new one and keep committing; the killed node, restarted,
 * replays its Raft log (skipping what its store has) and catches up to the
 * same state; a leader paused (SIGSTOP) for 2 s is replaced, and once
 * resumed steps down and catches up; a paused follower does not stop the
 * majority; a stopped member's chain passes `pel admin verify` (the
 * leader's signatures were adopted by the followers); a member started
 * with the test fault PEL_TEST_CORRUPT_WRITE_AT signs a different state
 * root at that height and is found diverged by the cluster watch
 * (node_info, /metrics, `pel cluster status`), refuses submissions, while
 * the other two agree and keep committing.
 * With a small Raft snapshot threshold (config.json cluster section:
 * snapshot_threshold 8, snapshot_trailing 4) snapshots are taken all
 * along; a follower whose whole data (store and Raft log) is deleted
 * rejoins from the leader's snapshot to the same head, state root and
 * receipts, and passes `pel admin verify`; after kill -9 of all three the
 * cluster restarts (snapshot + log replay) to the same state without
 * losing a committed transaction. A randomised fault schedule (kill -9,
 * SIGSTOP, SIGTERM of random members, leaders more often; 3 rounds here,
 * PEL_CLUSTER_FAULTS=100 in `make soak`) ends with a history check: one
 * chain everywhere, no transaction twice, none reported committed lost.
 */
#include <curl/curl.h>
#include <sys/stat.h>

#include "node/node_harness.h"
#include "test.h"

#define N 3          /* founding members: node1..node3 */
#define MAXN 5       /* slots: 3 = a member joined later, 4 = a one-member cluster */

/* 1 when got equals want; else says both. */
static int same_str(const char *got, const char *want)
{
    if (!strcmp(got, want)) return 1;
    fprintf(stderr, "  got \"%s\", want \"%s\"\n", got, want);
    return 0;
}
#define CHECK_EQ_STR(a, b) CHECK(same_str((a), (b)))
#define SUPPLY 1000000000000000ull

static harness H[MAXN];
static char root[64];
static uint8_t fpk[32], fsk[64];     /* the faucet: the shared genesis' funded key */
static uint64_t fnonce;
enum { IDS_MAX = 4096 };
static uint8_t ids[IDS_MAX][32];    /* every transaction reported committed or accepted */
static int n_ids;

static char faucet_key[300];         /* a copy of the faucet key, outside node1 */
static char admin_token[PEL_CLUSTER_TOKEN_LEN + 1];

#define SNAP_THRESHOLD 8
#define SNAP_TRAILING 4

/* Set the cluster's snapshot keys in a member's config.json. */
static int set_snapshot_cfg(const char *dir)
{
    char path[300], *text = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (pel_read_file(path, 1 << 20, &text, &len)) return -1;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    cJSON *cl = cJSON_GetObjectItemCaseSensitive(doc, "cluster");
    if (!cl) { cJSON_Delete(doc); return -1; }
    cJSON_DeleteItemFromObjectCaseSensitive(cl, "snapshot_threshold");
    cJSON_DeleteItemFromObjectCaseSensitive(cl, "snapshot_trailing");
    cJSON_AddNumberToObject(cl, "snapshot_threshold", SNAP_THRESHOLD);
    cJSON_AddNumberToObject(cl, "snapshot_trailing", SNAP_TRAILING);
    char *out = cJSON_Print(doc);
    cJSON_Delete(doc);
    FILE *f = out ? fopen(path, "w") : NULL;
    int rc = f && fputs(out, f) >= 0 ? 0 : -1;
    if (f && fclose(f)) rc = -1;
    free(out);
    return rc;
}

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
    for (int i = 0; i < N; i++)
        if (set_snapshot_cfg(H[i].dir)) return -1;
    snprintf(path, sizeof path, "%s/node1/faucet.key", root);
    if (pel_keyfile_load(path, fpk, fsk, err, sizeof err)) return -1;
    char keep[300];                       /* node1 may be replaced later: keep a copy */
    snprintf(keep, sizeof keep, "%s/faucet.key", root);
    snprintf(faucet_key, sizeof faucet_key, "%s", keep);
    char *text = NULL;
    size_t len;
    if (pel_read_file(path, 4096, &text, &len) || pel_write_file_excl(keep, text, len, 0600)) {
        free(text);
        return -1;
    }
    free(text);
    pel_node_config cfg;
    if (pel_node_config_load(H[0].dir, &cfg, err, sizeof err)) return -1;
    memcpy(admin_token, cfg.admin_token, sizeof admin_token);
    return strlen(admin_token) == PEL_CLUSTER_TOKEN_LEN ? 0 : -1;
}

/* The Raft id of the member in slot i now (a replaced member has a new one). */
static uint64_t slot_id(int i)
{
    pel_node_config cfg;
    char err[512];
    return pel_node_config_load(H[i].dir, &cfg, err, sizeof err) ? 0 : cfg.cluster_id;
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
            if (n_ids == IDS_MAX) return -1;
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

static int find_leader(const int *up, double secs);

/* Sign the next faucet transfer and get it committed: submit it to the
 * leader of the running members and wait for its commit there, and while
 * it does not commit, submit it again to whoever leads then (a leader
 * deposed while the transaction waits in its mempool hands it over only
 * once it runs again; resubmitting is what a client does meanwhile).
 * 0 when committed. */
static int commit_one(const int *up, double secs)
{
    char hex[2 * PEL_TX_SIZE_MAX + 1];
    h_key to, from;
    uint8_t id[32];
    h_key_make(&to, (uint32_t)n_ids % 7);
    memcpy(from.pk, fpk, 32);
    memcpy(from.sk, fsk, 64);
    if (h_sign_transfer(&H[0], &from, &to.addr, 1000 + (uint64_t)n_ids, fnonce, hex, id)) return -1;
    double end = h_now() + secs;
    while (h_now() < end) {
        int l = find_leader(up, 5);
        if (l < 0) continue;
        cJSON *p = cJSON_CreateObject(), *res = NULL;
        cJSON_AddStringToObject(p, "tx", hex);
        pel_rpc_error err;
        int rc = pel_rpc_call(H[l].rpc, "submit_tx", p, &res, &err);
        cJSON_Delete(p);
        cJSON_Delete(res);
        if (rc == PEL_EREMOTE) cJSON_Delete(err.data);
        if (h_wait_committed(&H[l], id, 2) == 0) {
            if (n_ids == IDS_MAX) return -1;
            memcpy(ids[n_ids++], id, 32);
            fnonce++;
            return 0;
        }
    }
    return -1;
}

/* Wait until the running members agree on height (>= min), head and state
 * root; 0 when they do. */
static int wait_agree(const int *up, double min_height, double secs)
{
    double end = h_now() + secs;
    while (h_now() < end) {
        cJSON *a[MAXN] = { 0 };
        int ok = 1, first = -1;
        for (int i = 0; i < MAXN; i++) {
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
        for (int i = 0; i < MAXN; i++) cJSON_Delete(a[i]);
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
        for (int i = 0; i < MAXN; i++) {
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
        for (int i = 0; i < MAXN && ok; i++) {
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
    int up[MAXN] = { 1, 1, 1 };
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
    /* It spent the faucet key's next nonce: wait for its commit and count
     * it, or every later transfer of the test reuses that nonce (and, once
     * the faucet's transfer commits, is refused as "nonce too low"). */
    const char *hex = h_str(r, "id");
    uint8_t id[32];
    size_t idlen = 0;
    CHECK(pel_hex_decode(hex, strlen(hex), id, sizeof id, &idlen) == 0 && idlen == 32);
    CHECK_EQ_INT(h_wait_committed(&H[follower], id, 20), 0);
    if (idlen == 32 && n_ids < IDS_MAX) {
        memcpy(ids[n_ids++], id, 32);
        fnonce++;
    }
    cJSON_Delete(r);
    CHECK_EQ_INT(same_receipts(up), 0);
}

static void test_leader_killed_then_rejoins(void)
{
    int up[MAXN] = { 1, 1, 1 };
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


/* Role of member i ("" if it does not answer). */
static void dump_roles(void);

/* 1 when node_info.ordering[field] of slot i is want ("role": leader,
 * follower...; "member": voter, removed...). */
static int ordering_is(int i, const char *field, const char *want)
{
    cJSON *a = info(i);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(a, "ordering");
    int yes = a && !strcmp(h_str(o, field), want);
    cJSON_Delete(a);
    return yes;
}

/* Wait until ordering_is (up to secs); 0 when it is, else says so. */
static int wait_ordering(int i, const char *field, const char *want, double secs)
{
    double end = h_now() + secs;
    while (h_now() < end) {
        if (ordering_is(i, field, want)) return 0;
        h_sleep_ms(50);
    }
    fprintf(stderr, "  slot %d: ordering.%s never became \"%s\"\n", i, field, want);
    dump_roles();
    return -1;
}

/* Submit k transfers through member i; 0 when all were accepted. */
static int submit_k(int i, int k)
{
    for (int j = 0; j < k; j++)
        if (submit_via(i, 15)) return -1;
    return 0;
}

static double height_of(int i)
{
    cJSON *a = info(i);
    double h = a ? h_num(a, "height") : -1;
    cJSON_Delete(a);
    return h;
}

static void test_leader_paused_steps_down(void)
{
    int up[MAXN] = { 1, 1, 1 };
    int old = find_leader(up, 10);
    CHECK(old >= 0);
    if (old < 0) return;
    double t0 = h_now();
    CHECK_EQ_INT(kill(H[old].pid, SIGSTOP), 0);
    up[old] = 0;
    int now = find_leader(up, 10);              /* the other two elect a leader */
    CHECK(now >= 0 && now != old);
    if (now < 0) { kill(H[old].pid, SIGCONT); return; }
    CHECK_EQ_INT(submit_k(now, 5), 0);          /* and commit without the old one */
    CHECK_EQ_INT(same_receipts(up), 0);
    double h_mid = height_of(now);
    CHECK(h_mid > 0);
    while (h_now() < t0 + 2.0) h_sleep_ms(20);
    CHECK_EQ_INT(kill(H[old].pid, SIGCONT), 0);
    up[old] = 1;
    CHECK_EQ_INT(wait_ordering(old, "role", "follower", 10), 0);   /* it steps down */
    CHECK_EQ_INT(wait_agree(up, h_mid, 20), 0);        /* and catches up */
    CHECK_EQ_INT(same_receipts(up), 0);
    CHECK_EQ_INT(submit_via(old, 10), 0);              /* forwarded to the new leader */
    CHECK_EQ_INT(wait_agree(up, h_mid + 1, 10), 0);
}

static void test_follower_paused_majority_commits(void)
{
    int up[MAXN] = { 1, 1, 1 };
    int leader = find_leader(up, 10);
    CHECK(leader >= 0);
    if (leader < 0) return;
    int f = (leader + 1) % N;
    CHECK_EQ_INT(kill(H[f].pid, SIGSTOP), 0);
    up[f] = 0;
    double h0 = height_of(leader);
    CHECK_EQ_INT(submit_k(leader, 5), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
    CHECK_EQ_INT(wait_agree(up, h0 + 1, 10), 0);
    CHECK_EQ_INT(find_leader(up, 1), leader);          /* no election was needed */
    double h1 = height_of(leader);
    CHECK_EQ_INT(kill(H[f].pid, SIGCONT), 0);
    up[f] = 1;
    CHECK_EQ_INT(wait_agree(up, h1, 20), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
}

/* Both followers paused: the leader proposes a block it cannot commit,
 * steps down and takes the block's transaction back. Once they resume,
 * that entry may still commit (the old leader's log is the longest, so it
 * is likely elected again) or be replaced (then the transaction is handed
 * over as stranded): either way it is committed once, and never proposed
 * again as a duplicate (check_history). */
static void check_history(const int *up);

static void test_followers_paused_entry_commits_late(void)
{
    int up[MAXN] = { 1, 1, 1 };
    int leader = find_leader(up, 10);
    CHECK(leader >= 0);
    if (leader < 0) return;
    int f1 = (leader + 1) % N, f2 = (leader + 2) % N, first = n_ids;
    CHECK_EQ_INT(kill(H[f1].pid, SIGSTOP), 0);
    CHECK_EQ_INT(kill(H[f2].pid, SIGSTOP), 0);
    CHECK_EQ_INT(submit_via(leader, 5), 0);
    h_sleep_ms(3000);           /* it steps down (election timeout) and gives up the proposal (2 s) */
    CHECK_EQ_INT(kill(H[f1].pid, SIGCONT), 0);
    CHECK_EQ_INT(kill(H[f2].pid, SIGCONT), 0);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(h_wait_committed(&H[i], ids[first], 20), 0);
    CHECK_EQ_INT(commit_one(up, 20), 0);
    CHECK_EQ_INT(wait_agree(up, 1, 20), 0);
    check_history(up);
}

/* A leader stopped right after it accepted transactions, before it could
 * propose them: once it is back as a follower it hands them to the new
 * leader, so they commit everywhere without the client resubmitting (and
 * the sender's later nonces do not stall). */
static void test_stranded_handed_over(void)
{
    int up[MAXN] = { 1, 1, 1 };
    int old = find_leader(up, 10);
    CHECK(old >= 0);
    if (old < 0) return;
    int first = n_ids;
    for (int j = 0; j < 3; j++) CHECK_EQ_INT(submit_via(old, 5), 0);
    CHECK_EQ_INT(kill(H[old].pid, SIGSTOP), 0);       /* within the block interval, mostly */
    up[old] = 0;
    int now = find_leader(up, 10);
    CHECK(now >= 0 && now != old);
    h_sleep_ms(500);
    CHECK_EQ_INT(kill(H[old].pid, SIGCONT), 0);
    up[old] = 1;
    CHECK_EQ_INT(wait_ordering(old, "role", "follower", 10), 0);
    for (int t = first; t < n_ids; t++)
        for (int i = 0; i < N; i++) CHECK_EQ_INT(h_wait_committed(&H[i], ids[t], 15), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
    CHECK_EQ_INT(submit_via(now, 10), 0);             /* the sender's next nonce goes through */
    CHECK_EQ_INT(same_receipts(up), 0);
}

/* k blocks at least: one transfer at a time, each committed on `via`
 * before the next. 0 when all committed. */
static int blocks(int via, int k)
{
    for (int b = 0; b < k; b++)
        if (submit_via(via, 10) || h_wait_committed(&H[via], ids[n_ids - 1], 10)) return -1;
    return 0;
}

/* 1 if member i's node.log has `what`. */
static int log_has(int i, const char *what)
{
    char path[300], *text = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/node.log", H[i].dir);
    if (pel_read_file(path, 64u << 20, &text, &len)) return 0;
    int found = strstr(text, what) != NULL;
    free(text);
    return found;
}

static int verify_stopped(int i)
{
    char out[4096];
    const char *args[] = { "admin", "verify", "--dir", H[i].dir, NULL };
    int rc = h_run(&H[i], out, sizeof out, args);
    if (rc) fprintf(stderr, "verify node %d: %s", i + 1, out);
    return rc;
}

static void test_wiped_follower_rejoins_by_snapshot(void)
{
    int up[MAXN] = { 1, 1, 1 };
    int leader = find_leader(up, 10);
    CHECK(leader >= 0);
    if (leader < 0) return;
    int f = (leader + 1) % N;
    CHECK_EQ_INT(h_stop(&H[f], SIGTERM), 0);
    up[f] = 0;
    /* everything but config.json, the keys and genesis.json (and the log) */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/data' '%s/raft' '%s/LOCK'", H[f].dir, H[f].dir, H[f].dir);
    CHECK_EQ_INT(system(cmd), 0);
    /* enough blocks that the leader's log no longer reaches back to index 2 */
    CHECK_EQ_INT(blocks(leader, 3 * SNAP_THRESHOLD), 0);
    double h = height_of(leader);
    CHECK(h >= 3 * SNAP_THRESHOLD);
    CHECK(log_has(leader, "snapshot taken"));
    CHECK_EQ_INT(start(f), 0);
    up[f] = 1;
    CHECK_EQ_INT(wait_agree(up, h, 20), 0);
    CHECK(log_has(f, "restored a snapshot"));
    CHECK_EQ_INT(same_receipts(up), 0);             /* the index and receipts came along */
    /* it applies new blocks after the snapshot too */
    CHECK_EQ_INT(blocks(leader, 2), 0);
    CHECK_EQ_INT(wait_agree(up, h + 2, 10), 0);
    /* and its chain verifies: blocks, roots, and checkpoints it signed itself */
    CHECK_EQ_INT(h_stop(&H[f], SIGTERM), 0);
    CHECK_EQ_INT(verify_stopped(f), 0);
    CHECK_EQ_INT(start(f), 0);
    CHECK_EQ_INT(wait_agree(up, h + 2, 20), 0);
}

static void test_all_killed_restart_same_state(void)
{
    int up[MAXN] = { 1, 1, 1 };
    int leader = find_leader(up, 10);
    CHECK(leader >= 0);
    if (leader < 0) return;
    CHECK_EQ_INT(blocks(leader, SNAP_THRESHOLD + 3), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
    CHECK_EQ_INT(wait_agree(up, 1, 10), 0);
    double before = height_of(leader);
    for (int i = 0; i < N; i++) CHECK_EQ_INT(h_stop(&H[i], SIGKILL), 128 + SIGKILL);
    int started = 1;
    for (int i = 0; i < N; i++) started &= start(i) == 0;
    CHECK(started);
    CHECK_EQ_INT(wait_agree(up, before, 20), 0);
    CHECK(height_of(0) >= before);
    CHECK_EQ_INT(same_receipts(up), 0);              /* no committed transaction lost */
    leader = find_leader(up, 10);
    CHECK(leader >= 0);
    if (leader < 0) return;
    CHECK_EQ_INT(blocks(leader, 1), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
    CHECK_EQ_INT(wait_agree(up, before + 1, 10), 0);
}

/* A leader stopped with SIGTERM hands its leadership to a follower before
 * it exits (raft_transfer), and the other two go on. */
static void test_graceful_leader_stop_hands_off(void)
{
    int up[MAXN] = { 1, 1, 1 };
    int old = find_leader(up, 10);
    CHECK(old >= 0);
    if (old < 0) return;
    CHECK_EQ_INT(h_stop(&H[old], SIGTERM), 0);
    up[old] = 0;
    CHECK(log_has(old, "leadership handed to member"));
    int now = find_leader(up, 10);
    CHECK(now >= 0 && now != old);
    CHECK_EQ_INT(commit_one(up, 20), 0);
    CHECK_EQ_INT(start(old), 0);
    up[old] = 1;
    CHECK_EQ_INT(wait_agree(up, height_of(now >= 0 ? now : 0), 20), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
}

/* The block at height h of member i: its hash and transaction ids (the
 * caller frees *txs); 0, or -1 if the member does not answer. */
static int block_of(int i, double h, char hash[65], cJSON **txs)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "height", h);
    cJSON *b = h_call(&H[i], "block", p);
    if (!b) return -1;
    snprintf(hash, 65, "%s", h_str(b, "hash"));
    *txs = cJSON_DetachItemFromObjectCaseSensitive(b, "txs");
    cJSON_Delete(b);
    return 0;
}

/* The history check after a fault schedule: the members agree on one
 * chain (the same block hash at every height, heights contiguous), no
 * transaction appears twice in it, and every transaction any member ever
 * reported committed is in it, with the same receipt everywhere. */
static void check_history(const int *up)
{
    int first = -1;
    for (int i = 0; i < MAXN && first < 0; i++) if (up[i]) first = i;
    double head = first >= 0 ? height_of(first) : -1;
    CHECK(head > 0);
    uint8_t (*seen)[32] = malloc((size_t)IDS_MAX * 8 * 32);
    size_t n_seen = 0;
    int dup = 0, fork = 0, found = 0;
    for (double h = 1; seen && h <= head; h++) {
        char hash[MAXN][65];
        cJSON *txs[MAXN] = { 0 };
        for (int i = 0; i < MAXN; i++) {
            if (!up[i]) continue;
            CHECK_EQ_INT(block_of(i, h, hash[i], &txs[i]), 0);
            if (i != first && strcmp(hash[i], hash[first])) fork++;
        }
        const cJSON *t;
        cJSON_ArrayForEach(t, txs[first]) {
            uint8_t id[32];
            size_t len;
            if (!cJSON_IsString(t) || pel_hex_decode(t->valuestring, 64, id, 32, &len)) continue;
            for (size_t k = 0; k < n_seen; k++) dup += !memcmp(seen[k], id, 32);
            if (n_seen < (size_t)IDS_MAX * 8) memcpy(seen[n_seen++], id, 32);
        }
        for (int i = 0; i < MAXN; i++) cJSON_Delete(txs[i]);
    }
    for (int t = 0; seen && t < n_ids; t++)
        for (size_t k = 0; k < n_seen; k++)
            if (!memcmp(seen[k], ids[t], 32)) { found++; break; }
    free(seen);
    CHECK_EQ_INT(fork, 0);                  /* no two different blocks at one height */
    CHECK_EQ_INT(dup, 0);                   /* no transaction committed twice */
    CHECK_EQ_INT(found, n_ids);             /* none lost */
    CHECK_EQ_INT(same_receipts(up), 0);
}

/* Replace the member of slot i by a new one: `pel cluster leave` through
 * another member, stop it, delete its directory, `pel cluster join` a new
 * member in the same directory (same addresses, new id and key), start
 * it and wait until it is a voter (it catches up from a snapshot). */
static int replace_member(int i, const int *up)
{
    int via = -1;
    for (int k = 0; k < N; k++) if (k != i && up[k]) via = k;
    uint64_t id = slot_id(i);
    pel_node_config cfg;
    char err[512], out[4096], id_s[24], raft_s[160] = "", rpc_s[32];
    if (via < 0 || !id || pel_node_config_load(H[i].dir, &cfg, err, sizeof err)) return -1;
    for (unsigned k = 0; k < cfg.n_peers; k++)
        if (cfg.peers[k].id == id) snprintf(raft_s, sizeof raft_s, "%s", cfg.peers[k].raft);
    snprintf(id_s, sizeof id_s, "%llu", (unsigned long long)id);
    snprintf(rpc_s, sizeof rpc_s, "127.0.0.1:%u", H[i].port);
    const char *leave[] = { "cluster", "leave", "--rpc", H[via].url, "--id", id_s, "--token", admin_token, NULL };
    int rc = -1;
    for (int tries = 0; tries < 20 && rc; tries++) {    /* an election, or the last change still running */
        rc = h_run(&H[0], out, sizeof out, leave);
        if (rc) h_sleep_ms(300);
    }
    if (rc) { fprintf(stderr, "  replace: leave of %s failed\n", id_s); return -1; }
    if (H[i].pid > 0) h_stop(&H[i], SIGKILL);
    if (h_rm_rf(H[i].dir)) return -1;
    const char *join[] = { "cluster", "join", "--via", H[via].url, "--dir", H[i].dir, "--rpc", rpc_s,
                           "--raft", raft_s, "--token", admin_token, "--faucet-key", faucet_key, NULL };
    rc = -1;
    for (int tries = 0; tries < 20 && rc; tries++) {
        rc = h_run(&H[0], out, sizeof out, join);
        if (rc && h_rm_rf(H[i].dir)) return -1;
        if (rc) h_sleep_ms(300);
    }
    if (rc || set_snapshot_cfg(H[i].dir) || start(i)) { fprintf(stderr, "  replace: join failed\n"); return -1; }
    return wait_ordering(i, "member", "voter", 30);
}

/* A randomised fault schedule (short here; `make soak` runs
 * PEL_CLUSTER_FAULTS=100): each round picks a member and a fault - kill -9
 * then restart, SIGSTOP then SIGCONT, SIGTERM then restart, or replacement
 * by a new member (leave, wipe, join: round 2 always) - applies it,
 * gets two transactions committed by the others meanwhile (resubmitting
 * through whoever leads, as a client does), heals, and waits for the three
 * to agree; then the history check. */
static void test_random_faults(void)
{
    int rounds = (int)test_env_u64("PEL_CLUSTER_FAULTS", 3);
    uint64_t seed = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL));
    srand((unsigned)seed);
    printf("test_cluster: fault schedule seed %llu, %d rounds (replay: PEL_TEST_SEED=%llu)\n",
           (unsigned long long)seed, rounds, (unsigned long long)seed);
    int all[MAXN] = { 1, 1, 1 };
    for (int r = 0; r < rounds; r++) {
        int up[MAXN] = { 1, 1, 1 };
        int lead = find_leader(all, 10);
        int victim = rand() % 2 && lead >= 0 ? lead : rand() % N, fault = rand() % 4;
        if (r == 1) fault = 3;                 /* every schedule replaces a member once */
        up[victim] = 0;
        if (fault == 0) CHECK_EQ_INT(h_stop(&H[victim], SIGKILL), 128 + SIGKILL);
        else if (fault == 1) CHECK_EQ_INT(kill(H[victim].pid, SIGSTOP), 0);
        else if (fault == 2) CHECK_EQ_INT(h_stop(&H[victim], SIGTERM), 0);
        else CHECK_EQ_INT(replace_member(victim, up), 0);
        for (int k = 0; k < 2; k++) CHECK_EQ_INT(commit_one(up, 20), 0);
        if (fault == 1) CHECK_EQ_INT(kill(H[victim].pid, SIGCONT), 0);
        else if (fault != 3) CHECK_EQ_INT(start(victim), 0);
        CHECK_EQ_INT(wait_agree(all, height_of(lead >= 0 && lead != victim ? lead : (victim + 1) % N), 30), 0);
    }
    check_history(all);
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    pel_buf *b = ud;
    return pel_buf_append(b, p, sz * nm) ? 0 : sz * nm;
}

/* The value of metric `name` in member i's /metrics (-1 if absent). */
static double metric(int i, const char *name)
{
    char url[128], key[128];
    pel_buf b;
    pel_buf_init(&b);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", H[i].port);
    CURL *c = curl_easy_init();
    double v = -1;
    if (!c) return v;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (curl_easy_perform(c) == CURLE_OK && pel_buf_append(&b, "", 1) == 0) {
        snprintf(key, sizeof key, "\n%s ", name);
        const char *at = strstr((const char *)b.data, key);
        if (at) v = strtod(at + strlen(key), NULL);
    }
    curl_easy_cleanup(c);
    pel_buf_free(&b);
    return v;
}

static cJSON *diverged_of(const cJSON *inf)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(inf, "ordering"), "diverged");
}

/* The state root in member i's checkpoint at `height` ("" if none). */
static void checkpoint_root(int i, double height, char out[65])
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "height", height);
    cJSON *r = h_call(&H[i], "checkpoint", p);
    const char *note = r ? h_str(r, "note") : "", *at = strstr(note, "\nstate-root ");
    snprintf(out, 65, "%.64s", at ? at + 12 : "");
    cJSON_Delete(r);
}

static int diverged = -1;           /* the member test_divergence_detected corrupted */

/* For a failure's diagnosis: every member's ordering status. */
static void dump_roles(void)
{
    for (int i = 0; i < N; i++) {
        cJSON *a = info(i);
        char *t = a ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(a, "ordering")) : NULL;
        fprintf(stderr, "  node%d: height %.0f %s\n", i + 1, a ? h_num(a, "height") : -1, t ? t : "(no answer)");
        free(t);
        cJSON_Delete(a);
    }
}

/* Member bad was restarted with the fault at height `at`: wait until it
 * reports itself diverged. */
static cJSON *wait_diverged(int bad, double secs)
{
    double end = h_now() + secs;
    while (h_now() < end) {
        cJSON *a = info(bad);
        if (a && diverged_of(a)) return a;
        cJSON_Delete(a);
        h_sleep_ms(100);
    }
    return NULL;
}

/* pel cluster status --json over all members: the status of each. */
static void check_cluster_status(int bad)
{
    char out[8192];
    const char *args[] = { "cluster", "status", "--json", "--rpc", H[0].url, "--rpc", H[1].url,
                           "--rpc", H[2].url, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, args), 1);
    cJSON *o = cJSON_Parse(out);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "members");
    CHECK_EQ_INT(cJSON_GetArraySize(m), N);
    for (int i = 0; i < N && cJSON_GetArraySize(m) == N; i++) {
        CHECK_EQ_STR(h_str(cJSON_GetArrayItem(m, i), "status"), i == bad ? "DIVERGED" : "agree");
        CHECK_EQ_STR(h_str(cJSON_GetArrayItem(m, i), "member"), "voter");
    }
    cJSON_Delete(o);
}

static void test_divergence_detected(void)
{
    int up[MAXN] = { 1, 1, 1 };
    int leader = find_leader(up, 10);
    CHECK(leader >= 0);
    if (leader < 0) return;
    int bad = (leader + 1) % N, good = (leader + 2) % N;
    diverged = bad;
    double h0 = 0;
    /* restart `bad` with the fault armed two blocks ahead; the fault fires
     * on a follower only, and a restarted member may win an election:
     * restart it until another member leads */
    for (int tries = 0; tries < 4; tries++) {
        char at[32];
        h0 = height_of(leader) > height_of(good) ? height_of(leader) : height_of(good);
        CHECK(h_stop(&H[bad], SIGTERM) >= 0);
        snprintf(at, sizeof at, "%.0f", h0 + 2);
        setenv("PEL_TEST_CORRUPT_WRITE_AT", at, 1);    /* inherited by this start only */
        CHECK_EQ_INT(start(bad), 0);
        unsetenv("PEL_TEST_CORRUPT_WRITE_AT");
        h_sleep_ms(1500);                              /* let a reconnection election settle */
        int l = find_leader(up, 10);
        if (l >= 0 && l != bad) break;
    }
    for (int k = 0; k < 4; k++)                        /* one block each: past h0 + 2 */
        CHECK_EQ_INT(commit_one(up, 20), 0);
    cJSON *a = wait_diverged(bad, 15);
    CHECK(a != NULL);
    if (!a) dump_roles();
    const cJSON *d = diverged_of(a);
    char want[65];
    checkpoint_root(leader, h0 + 2, want);
    CHECK(h_num(d, "height") == h0 + 2);
    CHECK_EQ_STR(h_str(d, "majority_state_root"), want);
    CHECK(strcmp(h_str(d, "state_root"), want) != 0 && strlen(h_str(d, "state_root")) == 64);
    CHECK(h_num(d, "disagreeing_members") == 2 && h_num(d, "members") == 3);
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "ordering"),
                                                         "authoritative");
    CHECK(cJSON_IsFalse(auth));
    cJSON_Delete(a);
    CHECK(metric(bad, "pel_cluster_diverged") == 1.0);
    CHECK(metric(leader, "pel_cluster_diverged") == 0.0);
    CHECK(metric(good, "pel_cluster_diverged") == 0.0);
    /* the diverged member refuses submissions, with a clear code */
    char hex[2 * PEL_TX_SIZE_MAX + 1];
    uint8_t id[32];
    h_key from, to;
    memcpy(from.pk, fpk, 32);
    memcpy(from.sk, fsk, 64);
    h_key_make(&to, 5);
    CHECK_EQ_INT(h_sign_transfer(&H[bad], &from, &to.addr, 7, fnonce, hex, id), 0);
    cJSON *p = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(p, "tx", hex);
    pel_rpc_error err;
    int rc = pel_rpc_call(H[bad].rpc, "submit_tx", p, &res, &err);
    cJSON_Delete(p);
    cJSON_Delete(res);
    CHECK_EQ_INT(rc, PEL_EREMOTE);
    if (rc == PEL_EREMOTE) {
        CHECK(h_num(err.data, "pel_code") == PEL_EDIVERGED);
        cJSON_Delete(err.data);
    }
    /* the other two agree, are not marked, and keep committing */
    up[bad] = 0;
    double h1 = height_of(good);
    for (int k = 0; k < 3; k++) CHECK_EQ_INT(commit_one(up, 20), 0);
    CHECK_EQ_INT(same_receipts(up), 0);
    CHECK_EQ_INT(wait_agree(up, h1 + 1, 10), 0);
    for (int i = 0; i < N; i++) {
        if (i == bad) continue;
        cJSON *g = info(i);
        CHECK(g != NULL && diverged_of(g) == NULL);
        cJSON_Delete(g);
    }
    check_cluster_status(bad);
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
    CHECK_EQ_INT(start(2), 0);                  /* back for the next test */
    int up[MAXN] = { 1, 1, 1 };
    CHECK_EQ_INT(wait_agree(up, 1, 20), 0);
}


/* ---- membership: pel cluster leave / join / init ---- */

/* node_info.ordering.member of slot i ("" when it does not answer). */
/* Slot i for a node directory made by `pel cluster init|join` (not yet). */
static void slot_init(int i, const char *name)
{
    harness *h = &H[i];
    static char bin[sizeof h->bin];
    memcpy(bin, H[0].bin, sizeof bin);
    memset(h, 0, sizeof *h);
    h->pid = -1;
    memcpy(h->bin, bin, sizeof bin);
    snprintf(h->dir, sizeof h->dir, "%s/%s", root, name);
    h->port = h_free_port();
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%u/rpc", h->port);
    snprintf(h->chain_id, sizeof h->chain_id, "pel-cluster-test");
    h->gas = pel_gas_defaults();
    if (pel_rpc_client_new(h->url, 5000, &h->rpc)) h->rpc = NULL;
}

/* The ids in `pel cluster members --json` of the node at url, as a count
 * of voters and whether `id` is one of them. */
static int voters_via(const char *url, uint64_t id, int *has)
{
    char out[8192];
    const char *args[] = { "cluster", "members", "--json", "--rpc", url, NULL };
    *has = 0;
    if (h_run(&H[0], out, sizeof out, args) != 0) return -1;
    cJSON *o = cJSON_Parse(out);
    const cJSON *e;
    int n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "members")) {
        if (strcmp(h_str(e, "role"), "voter")) continue;
        n++;
        if (h_num(e, "id") == (double)id) *has = 1;
    }
    cJSON_Delete(o);
    return n;
}

/* Replace the diverged member: `pel cluster leave` removes it (asked
 * through a follower, which forwards to the leader), a new member joins
 * with `pel cluster join` (through the other follower... or whichever is
 * one), catches up from the leader's snapshot and is made a voter; it has
 * every committed transaction with the same receipts; the leader then
 * leaves through its own API and the two others go on; the new member,
 * killed and restarted, comes back as a voter. Bad requests are refused. */
static void test_member_replaced(void)
{
    int bad = diverged;
    CHECK(bad >= 0);
    if (bad < 0) return;
    int up[MAXN] = { 1, 1, 1 };
    up[bad] = 0;
    int leader = find_leader(up, 10), other = -1;
    CHECK(leader >= 0);
    if (leader < 0) return;
    for (int i = 0; i < N; i++) if (up[i] && i != leader) other = i;
    char out[8192], id_s[24], rpc_s[32], raft_s[32], faucet[300], err[512];
    pel_node_config cfg;
    CHECK_EQ_INT(pel_node_config_load(H[0].dir, &cfg, err, sizeof err), 0);
    char token[PEL_CLUSTER_TOKEN_LEN + 1], wrong[PEL_CLUSTER_TOKEN_LEN + 1];
    memcpy(token, cfg.admin_token, sizeof token);
    CHECK_EQ_INT((int)strlen(token), PEL_CLUSTER_TOKEN_LEN);       /* pel init --cluster made one */
    const char *show[] = { "cluster", "token", "--dir", H[0].dir, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, show), 0);
    CHECK(strlen(out) == PEL_CLUSTER_TOKEN_LEN + 1 && !strncmp(out, token, PEL_CLUSTER_TOKEN_LEN));
    memcpy(wrong, token, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    uint64_t bad_id = slot_id(bad);
    CHECK(bad_id > 0);
    snprintf(id_s, sizeof id_s, "%llu", (unsigned long long)bad_id);
    const char *denied[] = { "cluster", "leave", "--rpc", H[other].url, "--id", id_s, "--token", wrong, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, denied), 1);        /* not without the token */
    const char *no_token[] = { "cluster", "leave", "--rpc", H[other].url, "--id", id_s, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, no_token), 2);
    const char *leave_bad[] = { "cluster", "leave", "--rpc", H[other].url, "--id", id_s, "--token", token, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, leave_bad), 0);
    CHECK(strstr(out, "removed") != NULL);
    CHECK(h_stop(&H[bad], SIGTERM) >= 0);
    int has;
    CHECK_EQ_INT(voters_via(H[leader].url, bad_id, &has), 2);
    CHECK_EQ_INT(has, 0);
    for (int k = 0; k < 12; k++) CHECK_EQ_INT(commit_one(up, 20), 0);   /* past a snapshot */

    /* join a new member through a follower */
    slot_init(3, "node4");
    uint16_t raft_port = h_free_port();
    snprintf(rpc_s, sizeof rpc_s, "127.0.0.1:%u", H[3].port);
    snprintf(raft_s, sizeof raft_s, "127.0.0.1:%u", raft_port);
    snprintf(faucet, sizeof faucet, "%s/node1/faucet.key", root);
    const char *bad_raft[] = { "cluster", "join", "--via", H[other].url, "--dir", H[3].dir, "--rpc", rpc_s,
                               "--raft", "localhost:1", "--token", token, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, bad_raft), 1);     /* the raft address must be IPv4 */
    char probe[300];
    snprintf(probe, sizeof probe, "%s/genesis.json", H[3].dir);
    CHECK(access(probe, F_OK) != 0);                                /* nothing created */
    const char *join_denied[] = { "cluster", "join", "--via", H[other].url, "--dir", H[3].dir, "--rpc",
                                  rpc_s, "--raft", raft_s, "--token", wrong, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, join_denied), 1);
    CHECK(access(probe, F_OK) != 0);
    const char *join[] = { "cluster", "join", "--via", H[other].url, "--dir", H[3].dir, "--rpc", rpc_s,
                           "--raft", raft_s, "--faucet-key", faucet, "--token", token, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, join), 0);
    CHECK(strstr(out, "added to the cluster") != NULL);
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, join), 1);          /* the directory is taken now */
    CHECK_EQ_INT(pel_node_config_load(H[3].dir, &cfg, err, sizeof err), 0);
    CHECK(cfg.ordering_raft && cfg.cluster_join && cfg.cluster_id > 0 && !strcmp(cfg.admin_token, token));
    struct stat cst;
    snprintf(probe, sizeof probe, "%s/config.json", H[3].dir);
    CHECK(stat(probe, &cst) == 0 && (cst.st_mode & 077) == 0);    /* the token is not world-readable */
    uint64_t new_id = cfg.cluster_id;
    CHECK(new_id != slot_id(0) && new_id != slot_id(1) && new_id != slot_id(2));
    CHECK_EQ_INT(voters_via(H[leader].url, new_id, &has), 2);      /* a spare, not yet counted */
    CHECK_EQ_INT(start(3), 0);
    CHECK_EQ_INT(wait_ordering(3, "member", "voter", 30), 0);
    CHECK_EQ_INT(voters_via(H[other].url, new_id, &has), 3);
    CHECK_EQ_INT(has, 1);
    up[3] = 1;
    for (int k = 0; k < 3; k++) CHECK_EQ_INT(commit_one(up, 20), 0);
    CHECK_EQ_INT(wait_agree(up, height_of(leader), 30), 0);
    CHECK_EQ_INT(same_receipts(up), 0);                             /* every transaction ever committed */
    CHECK_EQ_INT(log_has(3, "snapshot"), 1);                        /* it caught up from a snapshot */

    /* the leader leaves through its own API (no --id: itself) */
    leader = find_leader(up, 10);
    CHECK(leader >= 0);
    if (leader < 0) return;
    const char *leave_self[] = { "cluster", "leave", "--rpc", H[leader].url, "--token", token, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, leave_self), 0);
    up[leader] = 0;
    for (int k = 0; k < 3; k++) CHECK_EQ_INT(commit_one(up, 30), 0);
    CHECK_EQ_INT(wait_ordering(leader, "member", "removed", 10), 0);           /* it got its removal and says so */
    double until = h_now() + 5;                                    /* its watch says so within a round */
    while (!log_has(leader, "was removed from the cluster") && h_now() < until) h_sleep_ms(100);
    CHECK_EQ_INT(log_has(leader, "was removed from the cluster"), 1);
    CHECK(h_stop(&H[leader], SIGTERM) >= 0);
    int last = -1;
    for (int i = 0; i < MAXN; i++) if (up[i]) last = i;
    CHECK_EQ_INT(voters_via(H[last].url, new_id, &has), 2);
    CHECK_EQ_INT(has, 1);

    /* the new member, killed and restarted, is a voter again at once,
     * and two voters go on committing through kill -9 of either: 3 kills
     * here, PEL_CLUSTER_TWO_VOTER_KILLS=60 in make soak
     * (PEL_CLUSTER_TWO_VOTERS=0 skips it). This section once found two
     * voters committing nothing for a minute (one CI run in about eight);
     * the two bugs on that path (one engine used by two threads, a failed
     * proposal proposed again) were fixed in the fifth session, and about
     * 370 kill cycles have passed since without a stall. */
    if (test_env_u64("PEL_CLUSTER_TWO_VOTERS", 1)) {
        CHECK_EQ_INT(h_stop(&H[3], SIGKILL), 128 + SIGKILL);
        CHECK_EQ_INT(start(3), 0);
        CHECK_EQ_INT(wait_ordering(3, "member", "voter", 10), 0);
        for (int k = 0; k < 2; k++) CHECK_EQ_INT(commit_one(up, 30), 0);
        CHECK_EQ_INT(wait_agree(up, 1, 30), 0);
        CHECK_EQ_INT(same_receipts(up), 0);
        /* then kill -9 either of the two, submit to the other while it is
         * down (its proposal cannot commit, and may commit late), restart */
        uint64_t kills = test_env_u64("PEL_CLUSTER_TWO_VOTER_KILLS", 3);
        for (uint64_t r = 0; r < kills; r++) {
            int v = r % 3 == 2 ? last : 3, s = v == 3 ? last : 3;
            CHECK_EQ_INT(h_stop(&H[v], SIGKILL), 128 + SIGKILL);
            (void)submit_via(s, 1);                 /* refused when s was a follower */
            h_sleep_ms((int)(r * 337 % 1500));
            CHECK_EQ_INT(start(v), 0);
            CHECK_EQ_INT(commit_one(up, 30), 0);
        }
        CHECK_EQ_INT(wait_agree(up, 1, 30), 0);
        check_history(up);
    }

    /* refusals: an unknown id; the removed member's API says who leads no more */
    const char *unknown[] = { "cluster", "leave", "--dir", H[3].dir, "--id", "424242", NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, unknown), 1);
}

/* `pel cluster init`: a one-member cluster is its own leader, commits,
 * lists itself, and refuses to remove its last voter. */
static void test_one_member_cluster(void)
{
    char out[8192], rpc_s[32], raft_s[32];
    slot_init(4, "solo");
    snprintf(rpc_s, sizeof rpc_s, "127.0.0.1:%u", H[4].port);
    snprintf(raft_s, sizeof raft_s, "127.0.0.1:%u", h_free_port());
    const char *init[] = { "cluster", "init", "--dir", H[4].dir, "--chain-id", "pel-cluster-test",
                           "--rpc", rpc_s, "--raft", raft_s, NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, init), 0);
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, init), 1);          /* not over an existing node */
    CHECK_EQ_INT(start(4), 0);
    CHECK_EQ_INT(wait_ordering(4, "role", "leader", 10), 0);
    int has;
    CHECK_EQ_INT(voters_via(H[4].url, 1, &has), 1);
    CHECK_EQ_INT(has, 1);
    h_key k;
    h_key_make(&k, 99);
    char addr[PEL_ADDR_STR_LEN + 1];
    pel_addr_format(&k.addr, addr);
    const char *fau[] = { "faucet", addr, "--rpc", H[4].url, "--wait", NULL };
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, fau), 0);
    CHECK(height_of(4) >= 1);
    const char *leave[] = { "cluster", "leave", "--dir", H[4].dir, NULL };   /* its own token */
    CHECK_EQ_INT(h_run(&H[0], out, sizeof out, leave), 1);         /* the last voter */
    CHECK(ordering_is(4, "member", "voter"));
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
        RUN(test_leader_paused_steps_down);
        RUN(test_follower_paused_majority_commits);
        RUN(test_followers_paused_entry_commits_late);
        RUN(test_stranded_handed_over);
        RUN(test_stopped_member_verifies);
        RUN(test_wiped_follower_rejoins_by_snapshot);
        RUN(test_all_killed_restart_same_state);
        RUN(test_graceful_leader_stop_hands_off);
        RUN(test_random_faults);
        RUN(test_divergence_detected);
        RUN(test_member_replaced);
        RUN(test_one_member_cluster);
    }
    for (int i = 0; i < MAXN; i++) {
        if (H[i].pid > 0) h_stop(&H[i], SIGTERM);
        pel_rpc_client_free(H[i].rpc);
        H[i].rpc = NULL;
    }
    h_keep_or_remove(root, test_failed_);
    return TEST_END("test_cluster");
}
