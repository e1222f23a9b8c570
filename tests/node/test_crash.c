/*
 * test_crash.c - kill -9 the node under load, again and again, and check
 * that nothing it ever reported as committed is lost.
 *
 * Each round: start `pel node` (Block-STM, declared and sequential engines
 * in turn), submit signed transfers from several
 * senders in batches while a watcher records every block the node reports
 * (block JSON with receipts), kill -9 the node at a random moment, run
 * `pel admin verify` on the dead node's directory (full replay from genesis
 * with the sequential engine: contiguous heights, hashes, signatures,
 * receipts, index, state, supply, the state and history trees rebuilt
 * independently, every checkpoint), then `pel admin rebuild-state-tree`
 * (the stored state root equals a from-scratch rebuild), restart, and check that every block
 * recorded in any earlier round is still there, byte for byte the same
 * JSON, and that a sample of recorded transactions report the same
 * receipt through tx_status.
 *
 * PEL_CRASH_KILLS = number of kills (default 20; `make crash-test` runs 200;
 * the sanitizer run of `make test` uses 3). PEL_TEST_SEED fixes the timing.
 */
#include "test.h"
#include "node_harness.h"

#define SENDERS 8
#define BATCH 64

typedef struct recorded {
    uint64_t height;
    char *json;          /* the block with receipts, as first reported */
} recorded;

static harness H;
static h_key keys[SENDERS];
static uint64_t next_nonce[SENDERS];
static recorded *blocks;
static size_t n_blocks, cap_blocks;
static uint64_t seen_height;
static uint64_t rng = 12345;

static uint64_t rnd(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void record_block(uint64_t height, cJSON *blk)
{
    if (n_blocks == cap_blocks) {
        cap_blocks = cap_blocks ? 2 * cap_blocks : 256;
        blocks = realloc(blocks, cap_blocks * sizeof *blocks);
    }
    blocks[n_blocks].height = height;
    blocks[n_blocks].json = cJSON_PrintUnformatted(blk);
    n_blocks++;
}

static cJSON *get_block(uint64_t height)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "height", (double)height);
    cJSON_AddBoolToObject(p, "receipts", 1);
    return h_call(&H, "block", p);
}

/* Record every block the node reports as committed since the last look. */
static void watch(void)
{
    cJSON *info = h_call(&H, "node_info", NULL);
    if (!info) return;
    uint64_t top = (uint64_t)h_num(info, "height");
    cJSON_Delete(info);
    for (uint64_t hgt = seen_height + 1; hgt <= top; hgt++) {
        cJSON *b = get_block(hgt);
        if (!b) return;
        record_block(hgt, b);
        cJSON_Delete(b);
        seen_height = hgt;
    }
}

static void read_nonces(void)
{
    for (int i = 0; i < SENDERS; i++) {
        cJSON *a = h_call(&H, "account", h_addr_params(&keys[i].addr));
        next_nonce[i] = a ? (uint64_t)h_num(a, "next_nonce") : 0;
        cJSON_Delete(a);
    }
}

static void submit_batch(void)
{
    static char hex[BATCH][2 * 256 + 1];
    cJSON *p = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(p, "txs");
    for (int j = 0; j < BATCH; j++) {
        int s = (int)(rnd() % SENDERS);
        pel_addr to = keys[rnd() % SENDERS].addr;
        if (h_sign_transfer(&H, &keys[s], &to, 1 + rnd() % 1000, next_nonce[s]++, hex[j], NULL))
            continue;
        cJSON_AddItemToArray(arr, cJSON_CreateString(hex[j]));
    }
    cJSON *res = h_call(&H, "submit_batch", p);
    cJSON_Delete(res);   /* rejections are fine: the node may die mid-batch */
}

static void fund_senders(void)
{
    cJSON *info = h_call(&H, "node_info", NULL);
    const char *faucet = info ? h_str(info, "faucet") : "";
    CHECK(faucet[0] != 0);
    cJSON_Delete(info);
    for (int i = 0; i < SENDERS; i++) {
        cJSON *p = h_addr_params(&keys[i].addr);
        cJSON_AddStringToObject(p, "amount", "10000000000");
        cJSON *r = h_call(&H, "faucet", p);
        CHECK(r != NULL);
        cJSON_Delete(r);
    }
    double end = h_now() + 10;
    int funded = 0;
    while (!funded && h_now() < end) {
        funded = 1;
        for (int i = 0; i < SENDERS && funded; i++) {
            cJSON *a = h_call(&H, "account", h_addr_params(&keys[i].addr));
            funded = a && strcmp(h_str(a, "balance"), "10000000000") == 0;
            cJSON_Delete(a);
        }
        if (!funded) h_sleep_ms(20);
    }
    CHECK(funded);
}

/* Everything recorded so far is still there, identical. */
static int check_recorded(void)
{
    int bad = 0;
    for (size_t i = 0; i < n_blocks; i++) {
        cJSON *b = get_block(blocks[i].height);
        char *now = b ? cJSON_PrintUnformatted(b) : NULL;
        if (!now || strcmp(now, blocks[i].json) != 0) {
            if (!bad) fprintf(stderr, "block %llu changed or vanished after restart\n",
                              (unsigned long long)blocks[i].height);
            bad++;
        }
        free(now);
        cJSON_Delete(b);
    }
    CHECK_EQ_INT(bad, 0);
    return bad;
}

/* A sample of recorded transactions: tx_status gives the recorded receipt. */
static void check_statuses(void)
{
    int checked = 0, bad = 0;
    for (int k = 0; k < 50 && n_blocks; k++) {
        recorded *r = &blocks[rnd() % n_blocks];
        cJSON *b = cJSON_Parse(r->json);
        cJSON *txs = cJSON_GetObjectItemCaseSensitive(b, "txs");
        int n = cJSON_GetArraySize(txs);
        if (n > 0) {
            int idx = (int)(rnd() % (uint64_t)n);
            cJSON *t = cJSON_GetArrayItem(txs, idx);
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "id", h_str(t, "id"));
            cJSON *st = h_call(&H, "tx_status", p);
            char *want = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(t, "receipt"));
            char *got = st ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(st, "receipt")) : NULL;
            int ok = st && !strcmp(h_str(st, "status"), "committed") &&
                     (uint64_t)h_num(st, "height") == r->height && h_num(st, "index") == idx &&
                     got && want && !strcmp(got, want);
            bad += !ok;
            checked++;
            free(want); free(got);
            cJSON_Delete(st);
        }
        cJSON_Delete(b);
    }
    CHECK_EQ_INT(bad, 0);
    (void)checked;
}

static int verify_dead_node(void)
{
    char out[2048];
    const char *args[] = { "admin", "verify", "--dir", H.dir, NULL };
    int rc = h_run(&H, out, sizeof out, args);
    if (rc != 0) fprintf(stderr, "pel admin verify: rc %d: %s\n", rc, out);
    CHECK_EQ_INT(rc, 0);
    /* the stored state tree's root equals a from-scratch rebuild */
    const char *rb[] = { "admin", "rebuild-state-tree", "--dir", H.dir, NULL };
    int rrc = h_run(&H, out, sizeof out, rb);
    if (rrc != 0 || !strstr(out, "equals a from-scratch rebuild"))
        fprintf(stderr, "pel admin rebuild-state-tree: rc %d: %s\n", rrc, out);
    CHECK_EQ_INT(rrc, 0);
    CHECK(strstr(out, "equals a from-scratch rebuild") != NULL);
    return rc | rrc;
}

static void one_round(uint64_t round)
{
    /* rotate the engines: the replay check (sequential) must agree with
     * whatever engine produced each block */
    static const char *engines[] = { "blockstm", "declared", "sequential" };
    const char *extra[] = { "--engine", engines[round % 3], NULL, NULL, NULL, NULL, NULL };
    if (round % 2) {
        /* small blocks cut back to back: the committer falls behind and
         * commits groups of blocks in one transaction */
        extra[2] = "--max-block-txs";
        extra[3] = "16";
        extra[4] = "--max-commit-group";
        extra[5] = "8";
    }
    CHECK_EQ_INT(h_start(&H, extra), 0);
    CHECK_EQ_INT(h_wait_ready(&H, 20), 0);
    cJSON *info = h_call(&H, "node_info", NULL);          /* the overrides took */
    CHECK_EQ_INT(h_num(info, "max_commit_group"), round % 2 ? 8 : 1);
    CHECK_EQ_INT(h_num(info, "max_block_txs"), round % 2 ? 16 : 10000);
    cJSON_Delete(info);
    CHECK_EQ_INT(check_recorded(), 0);
    check_statuses();
    read_nonces();
    double kill_at = h_now() + 0.2 + (double)(rnd() % 1000) / 1000.0;
    while (h_now() < kill_at) {
        submit_batch();
        watch();
    }
    CHECK_EQ_INT(h_stop(&H, SIGKILL), 128 + SIGKILL);
    verify_dead_node();
}

static void crash_loop(void)
{
    uint64_t rounds = test_env_u64("PEL_CRASH_KILLS", 20);
    rng = test_env_u64("PEL_TEST_SEED", (uint64_t)time(NULL)) | 1;
    fprintf(stderr, "test_crash: %llu kills, seed %llu\n", (unsigned long long)rounds,
            (unsigned long long)rng);
    for (int i = 0; i < SENDERS; i++) h_key_make(&keys[i], (uint32_t)i);
    CHECK_EQ_INT(h_start(&H, NULL), 0);
    CHECK_EQ_INT(h_wait_ready(&H, 20), 0);
    fund_senders();
    watch();
    CHECK_EQ_INT(h_stop(&H, SIGKILL), 128 + SIGKILL);
    for (uint64_t r = 0; r < rounds && test_failed_ == 0; r++) one_round(r);
    /* last: a clean restart still has everything, then a graceful stop */
    CHECK_EQ_INT(h_start(&H, NULL), 0);
    CHECK_EQ_INT(h_wait_ready(&H, 20), 0);
    check_recorded();
    CHECK_EQ_INT(h_stop(&H, SIGTERM), 0);
    verify_dead_node();
    /* the group-commit rounds did commit groups (kills in a group's
     * commit are in the mix) */
    char cmd[400], line[64] = "0";
    snprintf(cmd, sizeof cmd, "grep -c 'a group of' %s/node.log", H.dir);
    FILE *p = popen(cmd, "r");
    if (p && fgets(line, sizeof line, p)) {}
    if (p) pclose(p);
    fprintf(stderr, "test_crash: %s blocks committed in groups\n", strtok(line, "\n"));
    if (rounds >= 10) CHECK(atoi(line) > 0);
    uint64_t txs = 0;
    for (size_t i = 0; i < n_blocks; i++) {
        cJSON *b = cJSON_Parse(blocks[i].json);
        txs += (uint64_t)h_num(b, "tx_count");
        cJSON_Delete(b);
    }
    fprintf(stderr, "test_crash: %zu blocks / %llu transactions reported committed, all kept\n",
            n_blocks, (unsigned long long)txs);
    CHECK(txs > 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    if (h_init(&H, argv[0], "crash-test")) { fprintf(stderr, "cannot set up\n"); return 1; }
    RUN(crash_loop);
    h_cleanup(&H);
    for (size_t i = 0; i < n_blocks; i++) free(blocks[i].json);
    free(blocks);
    return TEST_END("test_crash");
}
