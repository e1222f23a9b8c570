/*
 * loadgen.c - `pel loadgen`: offer a node a steady rate of signed
 * transactions over its HTTP API and measure what it commits, how fast,
 * and whether the committed transactions succeeded.
 *
 * Workloads: transfers (peer-to-peer transfers, the default), science
 * (science_gen.h's open-science mix: registrations citing popular objects,
 * versions, reviews, preregistration commits) and mixed (each sender
 * alternates: its even-numbered transactions are transfers, its odd ones
 * the science mix, so every block holds both halves).
 *
 * Phases:
 *   1. keys: K sender keys from the seed (pel_sign_seed_keypair on the
 *      tagged hash of seed ‖ i), so a rerun with the same seed reuses the
 *      accounts; a few recipient-only "sink" addresses likewise; for the
 *      science mix, P curator keys (one per popular object) likewise.
 *   2. planning: every key's next nonce from the node; the science world's
 *      setup transactions signed (science_gen.h: popular objects with their
 *      versions, one object per sender); then the whole stream planned in
 *      order: for each transaction its sender (stream_sender: each
 *      submitting thread has its own senders, round-robin among them),
 *      nonce, type, body (the mix's generator, seeded from the key seed)
 *      and gas limit, so that each key's spending is known exactly.
 *   3. funding: each key short of what the run can spend (amounts plus
 *      maximum fees) gets one faucet call; then wait until every balance
 *      shows it.
 *   4. setup (science, mixed): submit the setup transactions and wait until
 *      every one is committed with a successful receipt.
 *   5. signing: all R*S transactions before the clock starts, on every
 *      core, so the client is not the bottleneck.
 *   6. submission: batch k (of B transactions) leaves at t0 + k*B/R via
 *      submit_batch, from T threads with a client each (batch k on thread
 *      k mod T). A thread that falls behind sends at once, never bunches
 *      up to catch up by skipping the schedule. A sender's transactions
 *      all leave from one thread, in nonce order, as a wallet's would: were
 *      they spread over the threads, a later nonce could reach the node
 *      before an earlier one, wait on that gap, and under overload a full
 *      mempool would refuse the earlier one and end the sender's stream.
 *   7. watching: one thread polls the height (node_info) every 20 ms and
 *      fetches each new block once (`block`, whose "txs" are the ids);
 *      committed ids are matched to their submission time
 *      through a hash table built before the run (read-only afterwards).
 *      Latency = when the watcher saw the block - when the batch was sent,
 *      so it includes up to one poll interval. After the last batch it
 *      watches until every accepted transaction is committed or 10 s pass.
 *   8. receipts: after the clock stops, the blocks the watcher saw are read
 *      again with their receipts, and each committed transaction of the run
 *      is counted as succeeded or failed (with the failure's reason).
 *
 * Threads: submitters write sent_ns[i] for their own batches; the watcher
 * reads sent_ns and writes commit_ns; the main thread reads everything
 * after joining them. Counters are C11 atomics (see lg_run).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/loadgen_plan.h"
#include "cli/science_gen.h"
#include "core/codec.h"
#include "core/cpu.h"
#include "core/hash.h"
#include "core/hex.h"

#define LG_SINKS 8              /* recipient-only addresses */
#define LG_POLL_MS 20           /* watcher poll interval */
#define LG_DRAIN_S 10.0         /* wait for commits after the last batch */
#define LG_FUND_TIMEOUT_S 60.0
#define LG_SETUP_TIMEOUT_S 60.0
#define LG_MAX_TXS 4000000u     /* R*S at most (memory: ~0.5 KiB each, ~0.7 for science) */
#define LG_REASONS 5            /* distinct rejection / failure reasons kept */
#define LG_CALL_TIMEOUT_MS 60000
#define LG_SIGNERS 16           /* signing threads at most */
#define LG_SETUP_BATCH 256      /* setup transactions per submit_batch */

typedef enum lg_workload { LG_TRANSFERS, LG_SCIENCE, LG_MIXED } lg_workload;
static const char *const lg_workload_names[] = { "transfers", "science", "mixed" };

typedef struct lg_opts {
    uint64_t rate, duration, senders, amount, batch, threads, popular;
    const char *seed, *rpc;
    int json, declare;
    lg_workload workload;
} lg_opts;

typedef struct lg_reason {
    int code;
    char msg[160];
    uint64_t count;
} lg_reason;

/* A list of distinct reasons with counts (at most LG_REASONS kept). */
typedef struct lg_reasons {
    lg_reason r[LG_REASONS];
    unsigned n;
} lg_reasons;

/* Signed transactions not part of the measured stream (the science setup). */
typedef struct lg_setup {
    uint32_t n;
    char **hex;
    uint8_t (*ids)[PEL_TXID_LEN];
} lg_setup;

/* Everything one run shares between its threads. */
typedef struct lg_run {
    lg_opts o;
    const char *url;
    pel_cli_chain chain;
    uint64_t gas_limit, h0;           /* h0: height before the first batch */
    uint64_t h_seen;                  /* watcher only (read after join): last block fetched */
    uint8_t *sk;                      /* (senders + popular) * 64: senders, then curators */
    pel_addr *addr;                   /* senders + LG_SINKS, then the curators */
    uint64_t *nonce;                  /* next nonce of each key (senders, curators) */
    uint64_t *need;                   /* what each key can spend in the run */
    uint32_t nkeys;                   /* senders + curators */
    uint32_t n, batch, nbatches;
    double interval;                  /* seconds between batches */
    size_t overhead;                  /* signed size of a tx without access list - body length */
    /* the plan (filled before signing; bodies freed after) */
    uint32_t *planned;                /* per sender: transactions planned so far */
    uint16_t *type;                   /* per tx */
    uint64_t *txnonce, *gas;          /* per tx */
    size_t *boff;                     /* per tx: its body in bodies (science) */
    uint32_t *blen;
    pel_buf bodies;
    pel_sci_world sw;
    pel_sci_sender *sci;              /* per sender */
    lg_setup setup;
    /* the signed stream: hex[i] points into a signer's buffer */
    pel_buf hexbuf[LG_SIGNERS];
    const char **hex;
    uint8_t (*ids)[PEL_TXID_LEN];
    uint32_t *table, mask;            /* id -> index + 1; read-only during the run */
    double base;                      /* pel_cli_now() at t0; times below are ns after it, +1 */
    _Atomic uint64_t *sent_ns;        /* release by submitter, acquire by watcher:
                                         the watcher may only see a commit after the send,
                                         but the network is no C11 fence, so be explicit */
    uint64_t *commit_ns;              /* watcher only, read after join */
    /* Counters: relaxed; they are progress figures, exact after the joins. */
    atomic_uint_fast64_t submitted, n_accepted, rejected, committed;
    atomic_uint_fast64_t last_send_ns;  /* max over batches of when a reply came */
    atomic_int stop;                  /* main -> watcher; relaxed: only ends a poll loop */
    pthread_mutex_t lock;             /* guards reasons */
    lg_reasons reasons;               /* admission rejections */
    lg_reasons failures;              /* failed receipts: main thread, after the run */
    uint64_t succeeded, failed;       /* main thread, after the run */
    _Atomic int watch_failed;         /* set by the watcher, polled by the main thread (relaxed: a flag only) */
} lg_run;

static void lg_usage(FILE *f)
{
    fprintf(f,
        "usage: pel loadgen [--workload transfers|science|mixed] [--rate R] [--duration S]\n"
        "                   [--senders K] [--amount N] [--popular P] [--key-seed X]\n"
        "                   [--batch B] [--threads T] [--declare] [--rpc URL] [--json]\n"
        "\n"
        "Offers the node R signed transactions per second for S seconds over its HTTP\n"
        "API and reports what it accepted and committed, whether the committed ones\n"
        "succeeded (their receipts), and commit latency.\n"
        "  --workload W   transfers (default): peer-to-peer transfers;\n"
        "                 science: the open-science mix of src/cli/science_gen.h: 40%%\n"
        "                 registrations citing one of P popular objects, 15%% plain\n"
        "                 registrations, 15%% new versions of the sender's own object,\n"
        "                 15%% reviews of a popular object's version, 15%% preregistration\n"
        "                 commits; before the clock starts the popular objects (with\n"
        "                 the versions the reviews need, one curator key each) and one\n"
        "                 object per sender are registered and committed;\n"
        "                 mixed: each sender alternates transfer, science transaction\n"
        "                 (half and half, both in every block; the same setup)\n"
        "  --rate R       transactions per second (default 1000)\n"
        "  --duration S   seconds of submission (default 10); R*S transactions in all\n"
        "  --senders K    sender accounts (default 64); each has R*S/K transactions, and\n"
        "                 the node keeps at most mempool.max_per_sender (8192) pending\n"
        "                 per sender\n"
        "  --amount N     tokens per transfer (default 1)\n"
        "  --popular P    popular objects of the science mix (default 4, at most %d)\n"
        "  --key-seed X   keys and the science mix are derived from X (default\n"
        "                 \"pel-loadgen\")\n"
        "  --batch B      transactions per submit_batch call (default 256; at most R/10,\n"
        "                 so that a batch leaves at least every 100 ms)\n"
        "  --threads T    submitting threads, each with its own connection (default 2;\n"
        "                 at most S: each sender's transactions leave from one thread)\n"
        "  --declare      attach declared access lists to the transfers\n"
        "Keys short of funds get one faucet call each (devnet), then every\n"
        "transaction is signed before the clock starts. Recipients of transfers are\n"
        "random among the senders and %d fresh addresses. Progress goes to stderr.\n"
        "\n"
        "Output (text):\n"
        "  workload       <transfers|science|mixed>\n"
        "  submitted      <transactions sent>\n"
        "  accepted       <admitted by the node>\n"
        "  rejected       <refused at admission, or lost with a failed call>\n"
        "  committed      <seen in blocks>\n"
        "  succeeded      <committed with a successful receipt>\n"
        "  failed         <committed with a failed receipt (they still pay gas)>\n"
        "  success_ratio  <succeeded / committed>\n"
        "  duration_s     <submission window: max(S, until the last batch was answered)>\n"
        "  offered_tps    <submitted / duration_s>\n"
        "  committed_tps  <committed / (last commit seen - first submission)>\n"
        "  latency_ms     p50 <x> p90 <x> p99 <x> max <x>    (or: none committed)\n"
        "  rejection      <code> <reason> (<count>)       (up to %d distinct)\n"
        "  failure        <status> <message> (<count>)    (up to %d distinct)\n"
        "  (latency: batch sent to block seen by a 20 ms poll; includes up to one poll interval)\n"
        "Latency is from sending a transaction's batch to the watcher seeing its block,\n"
        "so it includes up to one %d ms poll interval. Receipts are read after the\n"
        "clock stops (they do not load the node during the measurement).\n"
        "--json prints one line: {\"rate\":R,\"duration\":S,\"senders\":K,\"batch\":B,\n"
        "\"threads\":T,\"amount\":N,\"declare\":false,\"workload\":\"W\",\"popular\":P,\n"
        "\"submitted\":..,\"accepted\":..,\"rejected\":..,\"committed\":..,\"succeeded\":..,\n"
        "\"failed\":..,\"success_ratio\":..,\"duration_s\":..,\"offered_tps\":..,\n"
        "\"committed_tps\":..,\"latency_p50_ms\":..,\"latency_p90_ms\":..,\n"
        "\"latency_p99_ms\":..,\"latency_max_ms\":..,\"poll_ms\":%d,\n"
        "\"rejections\":[{\"code\":C,\"reason\":\"...\",\"count\":N},...],\n"
        "\"failures\":[{\"code\":C,\"reason\":\"...\",\"count\":N},...]}\n"
        "(latencies and success_ratio are null when nothing was committed).\n"
        "Exit status: 0 when the run completed (read the numbers; rejections and\n"
        "failed receipts do not count as failure), 1 when it could not run (no node,\n"
        "funding or the science setup failed) or the block watcher lost the node (the\n"
        "report is still printed), 2 usage error.\n",
        PEL_SCI_POPULAR_MAX, LG_SINKS, LG_REASONS, LG_REASONS, LG_POLL_MS, LG_POLL_MS);
}

/* ---------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------- */

static int parse_num(const char *a, const char *v, unsigned long long min,
                     unsigned long long max, uint64_t *out)
{
    unsigned long long x;
    if (pel_cli_u64(a, v, min, max, &x)) return -1;
    *out = x;
    return 0;
}

static int need_value(const char *a, const char *v, const char **out)
{
    if (!v) { fprintf(stderr, "pel: %s needs a value\n", a); return -1; }
    *out = v;
    return 0;
}

static int parse_workload(const char *v, lg_workload *w)
{
    for (int i = 0; v && i < 3; i++)
        if (!strcmp(v, lg_workload_names[i])) { *w = (lg_workload)i; return 0; }
    fprintf(stderr, "pel: --workload must be transfers, science or mixed\n");
    return -1;
}

/* lg_parse - @return 0, 1 (help shown), 2 (usage error shown). */
static int lg_parse(int argc, char **argv, lg_opts *o)
{
    *o = (lg_opts){ 1000, 10, 64, 1, 256, 2, 4, "pel-loadgen", NULL, 0, 0, LG_TRANSFERS };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { lg_usage(stdout); return 1; }
        else if (!strcmp(a, "--json")) { o->json = 1; continue; }
        else if (!strcmp(a, "--declare")) { o->declare = 1; continue; }
        else if (!strcmp(a, "--workload")) rc = parse_workload(v, &o->workload);
        else if (!strcmp(a, "--rate")) rc = parse_num(a, v, 1, 1000000, &o->rate);
        else if (!strcmp(a, "--duration")) rc = parse_num(a, v, 1, 3600, &o->duration);
        else if (!strcmp(a, "--senders")) rc = parse_num(a, v, 1, 100000, &o->senders);
        else if (!strcmp(a, "--amount")) rc = parse_num(a, v, 0, 1000000000000ULL, &o->amount);
        else if (!strcmp(a, "--popular")) rc = parse_num(a, v, 1, PEL_SCI_POPULAR_MAX, &o->popular);
        else if (!strcmp(a, "--batch")) rc = parse_num(a, v, 1, 10000, &o->batch);
        else if (!strcmp(a, "--threads")) rc = parse_num(a, v, 1, 8, &o->threads);
        else if (!strcmp(a, "--key-seed")) rc = need_value(a, v, &o->seed);
        else if (!strcmp(a, "--rpc")) rc = need_value(a, v, &o->rpc);
        else { fprintf(stderr, "pel: unknown option '%s'\n", a); lg_usage(stderr); return 2; }
        if (rc) return 2;
        i++;
    }
    if (o->rate * o->duration > LG_MAX_TXS) {
        fprintf(stderr, "pel: --rate times --duration is at most %u transactions\n", LG_MAX_TXS);
        return 2;
    }
    return 0;
}

static int science(const lg_run *r) { return r->o.workload != LG_TRANSFERS; }
static uint32_t curators(const lg_run *r) { return science(r) ? (uint32_t)r->o.popular : 0; }

/* ---------------------------------------------------------------------
 * Keys and funding
 * ------------------------------------------------------------------- */

/* derive - tagged hash of seed ‖ u32 i. */
static int derive(const char *tag, const char *seed, uint32_t i, uint8_t out[32])
{
    size_t n = strlen(seed);
    uint8_t *m = malloc(n + 4);
    if (!m) return PEL_ENOMEM;
    memcpy(m, seed, n);
    pel_le_store(m + n, i, 4);
    int rc = pel_hash_tagged(tag, m, n + 4, out);
    free(m);
    return rc;
}

/* key_addr - the address of key a (senders, then curators). */
static const pel_addr *key_addr(const lg_run *r, uint32_t a)
{
    uint32_t k = (uint32_t)r->o.senders;
    return a < k ? &r->addr[a] : &r->addr[a + LG_SINKS];
}

static const uint8_t *key_sk(const lg_run *r, uint32_t a) { return r->sk + (size_t)a * PEL_SECKEY_LEN; }

static int make_key(lg_run *r, const char *tag, uint32_t i, uint32_t a)
{
    uint8_t s[32], pk[PEL_PUBKEY_LEN];
    int rc = derive(tag, r->o.seed, i, s);
    if (!rc) rc = pel_sign_seed_keypair(pk, r->sk + (size_t)a * PEL_SECKEY_LEN, s);
    if (!rc) pel_addr_from_pubkey(pk, a < r->o.senders ? &r->addr[a] : &r->addr[a + LG_SINKS]);
    sodium_memzero(s, sizeof s);
    return rc;
}

static int make_keys(lg_run *r)
{
    uint32_t k = (uint32_t)r->o.senders;
    uint8_t s[32];
    int rc = 0;
    r->nkeys = k + curators(r);
    r->sk = calloc(r->nkeys, PEL_SECKEY_LEN);
    r->addr = calloc(r->nkeys + LG_SINKS, sizeof *r->addr);
    r->nonce = calloc(r->nkeys, sizeof *r->nonce);
    r->need = calloc(r->nkeys, sizeof *r->need);
    if (!r->sk || !r->addr || !r->nonce || !r->need) return PEL_ENOMEM;
    for (uint32_t i = 0; !rc && i < k; i++) rc = make_key(r, "PEL/loadgen-key", i, i);
    for (uint32_t i = 0; !rc && i < curators(r); i++) rc = make_key(r, "PEL/loadgen-curator", i, k + i);
    for (uint32_t i = 0; !rc && i < LG_SINKS; i++) {
        rc = derive("PEL/loadgen-sink", r->o.seed, i, s);
        memcpy(r->addr[k + i].b, s, PEL_ADDR_LEN);
    }
    return rc;
}

static int read_nonces(lg_run *r, pel_rpc_client *c)
{
    for (uint32_t a = 0; a < r->nkeys; a++)
        if (pel_cli_next_nonce(c, key_addr(r, a), &r->nonce[a], NULL)) return -1;
    return 0;
}

static int faucet(pel_rpc_client *c, const pel_addr *a, uint64_t amount)
{
    char text[PEL_ADDR_STR_LEN + 1], am[24];
    cJSON *p = cJSON_CreateObject(), *res = NULL;
    pel_addr_format(a, text);
    snprintf(am, sizeof am, "%" PRIu64, amount);
    int rc = !p || !cJSON_AddStringToObject(p, "address", text) || !cJSON_AddStringToObject(p, "amount", am)
             ? -1 : pel_cli_call(c, "faucet", p, &res, "faucet (funding a sender)");
    cJSON_Delete(p);
    cJSON_Delete(res);
    return rc;
}

/* fund_pass - read every key's balance; ask the faucet for what is missing
 * when ask is set. @return keys still short, or -1 (printed). */
static int fund_pass(lg_run *r, pel_rpc_client *c, int ask)
{
    int short_ = 0;
    for (uint32_t a = 0; a < r->nkeys; a++) {
        uint64_t bal, nonce;
        if (pel_cli_next_nonce(c, key_addr(r, a), &nonce, &bal)) return -1;
        if (bal >= r->need[a]) continue;
        short_++;
        if (ask && faucet(c, key_addr(r, a), r->need[a] - bal)) return -1;
    }
    return short_;
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static int fund(lg_run *r, pel_rpc_client *c)
{
    int left = fund_pass(r, c, 1);
    double end = pel_cli_now() + LG_FUND_TIMEOUT_S;
    if (left > 0) fprintf(stderr, "loadgen: funding %d keys from the faucet\n", left);
    while (left > 0 && pel_cli_now() < end) {
        sleep_s(0.2);
        left = fund_pass(r, c, 0);
    }
    if (left > 0)
        fprintf(stderr, "pel: %d keys still lack funds after %.0f s\n", left, LG_FUND_TIMEOUT_S);
    return left == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * Planning: sizes, gas, the science setup and the stream
 * ------------------------------------------------------------------- */

/* size_and_gas - the gas limit of every transfer (to a sink: a transfer to
 * oneself declares one key fewer), and the signed size of a transaction
 * without access list less its body (the size is the body's length plus
 * that; the gas limit's encoding has a fixed width). */
static int size_and_gas(lg_run *r)
{
    pel_cli_transfer t = { &r->chain, r->addr[r->o.senders], r->o.amount, 0, r->chain.min_gas_price, 0, 0,
                           r->o.declare };
    pel_tx tx;
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_cli_sign_transfer(&t, r->sk, &b, &tx);
    r->gas_limit = tx.gas_limit;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = (const uint8_t *)r->chain.chain_id;
    tx.chain_id_len = (uint32_t)strlen(r->chain.chain_id);
    tx.type = PEL_TX_OBJ_REGISTER;
    pel_buf_reset(&b);
    if (!rc) rc = pel_tx_sign(&tx, r->sk, &b);
    r->overhead = tx.size;
    pel_buf_free(&b);
    return rc;
}

/* body_gas - the gas limit of a science transaction with a body of len bytes. */
static uint64_t body_gas(const lg_run *r, uint16_t type, size_t len)
{
    return pel_intrinsic_gas(&r->chain.gas, (uint32_t)(r->overhead + len)) + pel_sci_extra_gas(type, len);
}

/* sign_body - sign body as key a's transaction with nonce and gas; out gets
 * the signed encoding (reset first), id the transaction id. */
static int sign_body(const lg_run *r, uint32_t a, uint64_t nonce, uint64_t gas, uint16_t type,
                     const uint8_t *body, uint32_t len, pel_buf *out, uint8_t id[PEL_TXID_LEN])
{
    pel_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.chain_id = (const uint8_t *)r->chain.chain_id;
    tx.chain_id_len = (uint32_t)strlen(r->chain.chain_id);
    tx.nonce = nonce;
    tx.gas_limit = gas;
    tx.gas_price = r->chain.min_gas_price;
    tx.type = type;
    tx.body = body;
    tx.body_len = len;
    pel_buf_reset(out);
    int rc = pel_tx_sign(&tx, key_sk(r, a), out);
    if (!rc && tx.size != r->overhead + len) rc = PEL_EINVAL;   /* the gas was computed for that size */
    if (!rc) memcpy(id, tx.id, PEL_TXID_LEN);
    return rc;
}

/* setup_add - sign the next setup transaction of key a and keep it. */
static int setup_add(lg_run *r, uint32_t a, uint16_t type, const pel_buf *body, pel_buf *out)
{
    lg_setup *s = &r->setup;
    uint64_t gas = body_gas(r, type, body->len);
    int rc = sign_body(r, a, r->nonce[a]++, gas, type, body->data, (uint32_t)body->len, out, s->ids[s->n]);
    if (!rc && !(s->hex[s->n] = malloc(2 * out->len + 1))) rc = PEL_ENOMEM;
    if (rc) return rc;
    pel_hex_encode(out->data, out->len, s->hex[s->n]);
    r->need[a] += gas * r->chain.min_gas_price;
    s->n++;
    return 0;
}

/* plan_setup - science_gen.h's setup: each curator's popular object and
 * its versions, then each sender's own object. Moves the nonces on. */
static int plan_setup(lg_run *r)
{
    uint32_t k = (uint32_t)r->o.senders, p = curators(r), v = r->sw.versions;
    size_t total = (size_t)p * v + k;
    pel_buf body, out;
    int rc = 0;
    r->setup.hex = calloc(total, sizeof *r->setup.hex);
    r->setup.ids = calloc(total, sizeof *r->setup.ids);
    r->sci = calloc(k, sizeof *r->sci);
    if (!r->setup.hex || !r->setup.ids || !r->sci) return PEL_ENOMEM;
    pel_buf_init(&body);
    pel_buf_init(&out);
    for (uint32_t c = 0; !rc && c < p; c++) {
        rc = pel_sci_popular_body(c, &body);
        if (!rc) rc = setup_add(r, k + c, PEL_TX_OBJ_REGISTER, &body, &out);
        if (!rc) pel_obj_id_of(r->setup.ids[r->setup.n - 1], &r->sw.popular[c]);
        for (uint32_t j = 1; !rc && j < v; j++) {
            rc = pel_sci_object_body(((uint64_t)c << 32) | j, NULL, &r->sw.popular[c], &body);
            if (!rc) rc = setup_add(r, k + c, PEL_TX_OBJ_VERSION, &body, &out);
        }
    }
    for (uint32_t s = 0; !rc && s < k; s++) {
        rc = pel_sci_own_body(s, &body);
        if (!rc) rc = setup_add(r, s, PEL_TX_OBJ_REGISTER, &body, &out);
        if (rc) break;
        r->sci[s].index = s;
        r->sci[s].has_own = 1;
        pel_obj_id_of(r->setup.ids[r->setup.n - 1], &r->sci[s].own);
    }
    pel_buf_free(&body);
    pel_buf_free(&out);
    return rc;
}

/* stream_sender - the sender of tx i (loadgen_plan.h; prepare() keeps
 * threads <= senders). */
static uint32_t stream_sender(const lg_run *r, uint32_t i)
{
    return pel_lg_stream_sender((uint32_t)r->o.senders, (uint32_t)r->o.threads, r->batch, i);
}

/* is_science - whether tx i of the stream, the sender's j-th, is of the
 * science mix: all of them, or in mixed each sender's odd-numbered ones. */
static int is_science(const lg_run *r, uint32_t j)
{
    return r->o.workload == LG_SCIENCE || (r->o.workload == LG_MIXED && j % 2 == 1);
}

/* plan_one - tx i: its sender (stream_sender), the sender's next nonce; a
 * transfer, or the mix's next body (appended to bodies). */
static int plan_one(lg_run *r, uint32_t i, uint64_t *rng, pel_buf *body)
{
    uint32_t s = stream_sender(r, i);
    r->txnonce[i] = r->nonce[s]++;
    if (!is_science(r, r->planned[s]++)) {
        r->type[i] = PEL_TX_TRANSFER;
        r->gas[i] = r->gas_limit;
        r->need[s] += r->o.amount + r->gas_limit * r->chain.min_gas_price;
        return 0;
    }
    int rc = pel_sci_next(&r->sw, &r->sci[s], rng, &r->type[i], NULL, body);
    if (rc) return rc;
    r->boff[i] = r->bodies.len;
    r->blen[i] = (uint32_t)body->len;
    r->gas[i] = body_gas(r, r->type[i], body->len);
    r->need[s] += r->gas[i] * r->chain.min_gas_price;
    return pel_buf_append(&r->bodies, body->data, body->len);
}

/* plan - the science world and setup (if any), then the whole stream. */
static int plan(lg_run *r)
{
    uint8_t h[32];
    uint64_t rng;
    pel_buf body;
    int rc = 0;
    r->type = calloc(r->n, sizeof *r->type);
    r->txnonce = calloc(r->n, sizeof *r->txnonce);
    r->gas = calloc(r->n, sizeof *r->gas);
    r->boff = calloc(r->n, sizeof *r->boff);
    r->blen = calloc(r->n, sizeof *r->blen);
    r->planned = calloc(r->o.senders, sizeof *r->planned);
    if (!r->type || !r->txnonce || !r->gas || !r->boff || !r->blen || !r->planned) return PEL_ENOMEM;
    uint64_t per = 0;   /* the most transactions one sender has in the stream */
    for (uint32_t i = 0; i < r->n; i++) {
        uint32_t s = stream_sender(r, i);
        if (++r->planned[s] > per) per = r->planned[s];
    }
    memset(r->planned, 0, r->o.senders * sizeof *r->planned);
    if (science(r)) {
        r->sw.n_popular = curators(r);
        r->sw.versions = pel_sci_versions_for(r->sw.n_popular, r->o.workload == LG_MIXED ? (per + 1) / 2 : per);
        if ((rc = plan_setup(r))) return rc;
    }
    if ((rc = pel_hash_tagged("PEL/loadgen-mix", r->o.seed, strlen(r->o.seed), h))) return rc;
    rng = pel_le_load(h, 8);
    pel_buf_init(&body);
    for (uint32_t i = 0; !rc && i < r->n; i++) rc = plan_one(r, i, &rng, &body);
    pel_buf_free(&body);
    return rc;
}

/* ---------------------------------------------------------------------
 * Signing the stream
 * ------------------------------------------------------------------- */

typedef struct lg_signer {
    lg_run *r;
    uint32_t lo, hi;
    pel_buf *hex;           /* this signer's output: hex strings, NUL-terminated */
    size_t *off;            /* per tx of [lo, hi): its offset in hex */
    int rc;
    pthread_t th;
} lg_signer;

/* recipient - deterministic pseudo-random recipient of tx i, not its sender. */
static uint32_t recipient(const lg_run *r, uint32_t i, uint32_t sender)
{
    uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
    uint32_t k = (uint32_t)r->o.senders, to;
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    to = (uint32_t)(x % (k + LG_SINKS));
    return to == sender ? k + (uint32_t)((x >> 32) % LG_SINKS) : to;
}

static int sign_transfer(lg_run *r, uint32_t i, pel_buf *b)
{
    uint32_t s = stream_sender(r, i);
    pel_cli_transfer t = { &r->chain, r->addr[recipient(r, i, s)], r->o.amount, r->txnonce[i],
                           r->chain.min_gas_price, r->gas[i], 0, r->o.declare };
    pel_tx tx;
    pel_buf_reset(b);
    int rc = pel_cli_sign_transfer(&t, key_sk(r, s), b, &tx);
    if (!rc) memcpy(r->ids[i], tx.id, PEL_TXID_LEN);
    return rc;
}

static int sign_one(lg_signer *w, uint32_t i, pel_buf *b)
{
    lg_run *r = w->r;
    int rc = r->type[i] == PEL_TX_TRANSFER ? sign_transfer(r, i, b)
             : sign_body(r, stream_sender(r, i), r->txnonce[i], r->gas[i], r->type[i],
                         r->bodies.data + r->boff[i], r->blen[i], b, r->ids[i]);
    if (!rc) rc = pel_buf_reserve(w->hex, 2 * b->len + 1);
    if (rc) return rc;
    w->off[i - w->lo] = w->hex->len;
    pel_hex_encode(b->data, b->len, (char *)w->hex->data + w->hex->len);
    w->hex->len += 2 * b->len + 1;
    return 0;
}

static void *signer_main(void *arg)
{
    lg_signer *w = arg;
    pel_buf b;
    pel_buf_init(&b);
    for (uint32_t i = w->lo; !w->rc && i < w->hi; i++) w->rc = sign_one(w, i, &b);
    pel_buf_free(&b);
    return NULL;
}

/* sign_all - sign the stream on every core; then free the bodies. */
static int sign_all(lg_run *r)
{
    unsigned cpus = pel_cpu_count();
    unsigned nt = cpus > LG_SIGNERS ? LG_SIGNERS : cpus, started = 0;
    lg_signer w[LG_SIGNERS];
    size_t *off = malloc(((size_t)r->n + 1) * sizeof *off);
    int rc = 0;
    r->hex = malloc(((size_t)r->n + 1) * sizeof *r->hex);
    r->ids = malloc(((size_t)r->n + 1) * sizeof *r->ids);
    if (!off || !r->hex || !r->ids) { free(off); return PEL_ENOMEM; }
    for (unsigned t = 0; t < nt; t++) {
        w[t] = (lg_signer){ r, (uint32_t)((uint64_t)r->n * t / nt), (uint32_t)((uint64_t)r->n * (t + 1) / nt),
                            &r->hexbuf[t], NULL, 0, 0 };
        w[t].off = off + w[t].lo;
        if (pthread_create(&w[t].th, NULL, signer_main, &w[t]) != 0) { rc = PEL_ENOMEM; break; }
        started++;
    }
    for (unsigned t = 0; t < started; t++) {
        pthread_join(w[t].th, NULL);
        if (!rc) rc = w[t].rc;
        for (uint32_t i = w[t].lo; !rc && i < w[t].hi; i++)
            r->hex[i] = (const char *)r->hexbuf[t].data + off[i];
    }
    free(off);
    pel_buf_free(&r->bodies);
    return rc;
}

/* ---------------------------------------------------------------------
 * The science setup: submit, then wait for every receipt
 * ------------------------------------------------------------------- */

/* setup_submit - submit_batch the setup transactions [lo, hi); every one
 * must be admitted. @return 0 or -1 (printed). */
static int setup_submit(lg_run *r, pel_rpc_client *c, uint32_t lo, uint32_t hi)
{
    cJSON *p = cJSON_CreateObject(), *txs = cJSON_AddArrayToObject(p, "txs"), *res = NULL;
    const cJSON *e;
    int rc = txs ? 0 : -1, i = 0;
    for (uint32_t j = lo; !rc && j < hi; j++)
        if (!cJSON_AddItemToArray(txs, cJSON_CreateString(r->setup.hex[j]))) rc = -1;
    if (!rc) rc = pel_cli_call(c, "submit_batch", p, &res, "submit_batch (science setup)");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "results")) {
        if (!rc && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ok"))) {
            fprintf(stderr, "pel: loadgen: science setup transaction %u refused: %s\n", lo + i,
                    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "error"))
                    ? cJSON_GetObjectItemCaseSensitive(e, "error")->valuestring : "?");
            rc = -1;
        }
        i++;
    }
    if (!rc && i != (int)(hi - lo)) { fprintf(stderr, "pel: loadgen: short submit_batch reply\n"); rc = -1; }
    cJSON_Delete(p);
    cJSON_Delete(res);
    return rc;
}

/* setup_state - tx_status of setup transaction j: 1 committed with
 * success, 0 pending, -1 anything else (printed). */
static int setup_state(lg_run *r, pel_rpc_client *c, uint32_t j)
{
    char hex[2 * PEL_TXID_LEN + 1];
    cJSON *p = cJSON_CreateObject(), *res = NULL;
    int rc = -1;
    pel_hex_encode(r->setup.ids[j], PEL_TXID_LEN, hex);
    if (p && cJSON_AddStringToObject(p, "id", hex) && pel_cli_call(c, "tx_status", p, &res, "tx_status") == 0) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(res, "status");
        const cJSON *rec = cJSON_GetObjectItemCaseSensitive(res, "receipt");
        const char *s = cJSON_IsString(st) ? st->valuestring : "?";
        if (!strcmp(s, "pending")) rc = 0;
        else if (!strcmp(s, "committed") && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "ok"))) rc = 1;
        else {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, "message");
            fprintf(stderr, "pel: loadgen: science setup transaction %s is %s%s%s\n", hex, s,
                    cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "");
        }
    }
    cJSON_Delete(p);
    cJSON_Delete(res);
    return rc;
}

/* run_setup - submit the setup and wait until all of it is committed and
 * succeeded. @return 0 or -1 (printed). */
static int run_setup(lg_run *r, pel_rpc_client *c)
{
    uint32_t n = r->setup.n, done = 0;
    double end = pel_cli_now() + LG_SETUP_TIMEOUT_S;
    fprintf(stderr, "loadgen: science setup: %u popular objects with %u versions each, %" PRIu64
            " sender objects (%u transactions)\n", r->sw.n_popular, r->sw.versions, r->o.senders, n);
    for (uint32_t lo = 0; lo < n; lo += LG_SETUP_BATCH)
        if (setup_submit(r, c, lo, lo + LG_SETUP_BATCH < n ? lo + LG_SETUP_BATCH : n)) return -1;
    while (done < n) {
        int st = setup_state(r, c, done);
        if (st < 0) return -1;
        if (st > 0) { done++; continue; }
        if (pel_cli_now() > end) {
            fprintf(stderr, "pel: loadgen: the science setup is not committed after %.0f s\n", LG_SETUP_TIMEOUT_S);
            return -1;
        }
        sleep_s(0.05);
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Id table: open addressing, index + 1 per slot, built once
 * ------------------------------------------------------------------- */

static uint32_t id_slot(const uint8_t *id, uint32_t mask)
{
    uint64_t h;
    memcpy(&h, id, 8);          /* ids are hashes: any 8 bytes are uniform */
    return (uint32_t)h & mask;
}

static int build_table(lg_run *r)
{
    uint32_t size = 1;
    while (size < 2 * r->n) size <<= 1;
    r->mask = size - 1;
    r->table = calloc(size, sizeof *r->table);
    if (!r->table) return PEL_ENOMEM;
    for (uint32_t i = 0; i < r->n; i++) {
        uint32_t j = id_slot(r->ids[i], r->mask);
        while (r->table[j]) j = (j + 1) & r->mask;
        r->table[j] = i + 1;
    }
    return 0;
}

/* lookup - index of the id, or -1 when it is not one of ours. */
static int64_t lookup(const lg_run *r, const uint8_t *id)
{
    for (uint32_t j = id_slot(id, r->mask); r->table[j]; j = (j + 1) & r->mask)
        if (!memcmp(r->ids[r->table[j] - 1], id, PEL_TXID_LEN)) return r->table[j] - 1;
    return -1;
}

/* ---------------------------------------------------------------------
 * Submission
 * ------------------------------------------------------------------- */

static uint64_t now_ns(const lg_run *r)
{
    return (uint64_t)((pel_cli_now() - r->base) * 1e9) + 1;
}

static void sleep_until(double t)
{
    double d = t - pel_cli_now();
    if (d > 0) sleep_s(d);
}

/* add_reason - count one more (code, msg) in list l (under r->lock). */
static void add_reason(lg_run *r, lg_reasons *l, int code, const char *msg, uint64_t count)
{
    unsigned i;
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < l->n; i++)
        if (l->r[i].code == code && !strcmp(l->r[i].msg, msg)) break;
    if (i == l->n && i < LG_REASONS) {
        l->r[i].code = code;
        snprintf(l->r[i].msg, sizeof l->r[i].msg, "%s", msg);
        l->n++;
    }
    if (i < l->n) l->r[i].count += count;
    pthread_mutex_unlock(&r->lock);
}

/* tally - count a submit_batch reply for transactions [lo, hi): the
 * "refused" form asked for (the number accepted and each refusal), or a
 * result a transaction from a node that predates it. */
static void tally(lg_run *r, const cJSON *res, uint32_t lo, uint32_t hi)
{
    const cJSON *e, *list = cJSON_GetObjectItemCaseSensitive(res, "refused");
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(res, "accepted");
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(res, "results");
    uint32_t n = hi - lo, ok = 0, bad = 0;
    if (cJSON_IsNumber(acc) && acc->valuedouble >= 0 && acc->valuedouble <= n) ok = (uint32_t)acc->valuedouble;
    if (!list && cJSON_IsArray(all)) list = all;
    cJSON_ArrayForEach(e, list) {
        if (ok + bad == n) break;
        if (list == all && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ok"))) { ok++; continue; }
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "error");
        add_reason(r, &r->reasons, cJSON_IsNumber(c) ? c->valueint : 0,
                   cJSON_IsString(m) ? m->valuestring : "refused", 1);
        bad++;
    }
    atomic_fetch_add_explicit(&r->n_accepted, ok, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->rejected, bad, memory_order_relaxed);
    if (ok + bad < n) {   /* a short reply: count the rest as lost */
        add_reason(r, &r->reasons, 0, "no result in the node's reply", n - ok - bad);
        atomic_fetch_add_explicit(&r->rejected, n - ok - bad, memory_order_relaxed);
    }
}

/* batch_body - the submit_batch request for transactions [lo, hi), written
 * directly (the hex strings need no escaping): building it through cJSON
 * cost the load generator more CPU than the node spends on JSON, on the
 * same cores the node is measured on. It asks for the refusals only
 * ("results": "refused"): the ids are ours already, and a reply of 256
 * entries cost both sides a parse and allocations a transaction. */
static int batch_body(const lg_run *r, uint32_t k, uint32_t lo, uint32_t hi, pel_buf *b)
{
    char head[160];
    int n = snprintf(head, sizeof head, "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"submit_batch\","
                     "\"params\":{\"results\":\"refused\",\"txs\":[", k);
    int rc = pel_buf_append(b, head, (size_t)n);
    for (uint32_t i = lo; !rc && i < hi; i++) {
        const char *h = r->hex[i];
        rc = pel_buf_append(b, i == lo ? "\"" : ",\"", i == lo ? 1 : 2);
        if (!rc) rc = pel_buf_append(b, h, strlen(h));
        if (!rc) rc = pel_buf_append(b, "\"", 1);
    }
    if (!rc) rc = pel_buf_append(b, "]}}", 4);   /* with the NUL */
    return rc;
}

static void send_batch(lg_run *r, pel_rpc_client *c, uint32_t k)
{
    uint32_t lo = k * r->batch, hi = lo + r->batch > r->n ? r->n : lo + r->batch;
    pel_buf body, reply;
    pel_rpc_error err;
    cJSON *res = NULL;
    pel_buf_init(&body);
    pel_buf_init(&reply);
    memset(&err, 0, sizeof err);
    int rc = batch_body(r, k, lo, hi, &body);
    uint64_t t = now_ns(r);
    for (uint32_t i = lo; i < hi; i++) atomic_store_explicit(&r->sent_ns[i], t, memory_order_release);
    atomic_fetch_add_explicit(&r->submitted, hi - lo, memory_order_relaxed);
    if (!rc) rc = pel_rpc_call_raw(c, (const char *)body.data, &reply, &err);
    if (!rc) {
        res = cJSON_ParseWithLength((const char *)reply.data, reply.len);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(res, "error");
        if (!res || e) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
            const cJSON *cd = cJSON_GetObjectItemCaseSensitive(e, "code");
            err.code = cJSON_IsNumber(cd) ? cd->valueint : 0;
            snprintf(err.message, sizeof err.message, "%s",
                     cJSON_IsString(m) ? m->valuestring : "unreadable reply from the node");
            rc = PEL_EREMOTE;
        }
    }
    if (rc == 0) tally(r, cJSON_GetObjectItemCaseSensitive(res, "result"), lo, hi);
    else {
        add_reason(r, &r->reasons, rc == PEL_EREMOTE ? err.code : rc, rc == PEL_EREMOTE || rc == PEL_EIO
                   ? err.message : pel_strerror(rc), hi - lo);
        atomic_fetch_add_explicit(&r->rejected, hi - lo, memory_order_relaxed);
    }
    t = now_ns(r);
    uint_fast64_t prev = atomic_load_explicit(&r->last_send_ns, memory_order_relaxed);
    while (prev < t && !atomic_compare_exchange_weak_explicit(&r->last_send_ns, &prev, t,
                                                              memory_order_relaxed, memory_order_relaxed)) {}
    cJSON_Delete(res);
    pel_buf_free(&body);
    pel_buf_free(&reply);
}

typedef struct lg_thread {
    lg_run *r;
    uint32_t first;
    pthread_t th;
} lg_thread;

static void *submitter_main(void *arg)
{
    lg_thread *t = arg;
    lg_run *r = t->r;
    pel_rpc_client *c;
    if (pel_rpc_client_new(r->url, LG_CALL_TIMEOUT_MS, &c)) {
        fprintf(stderr, "pel: loadgen: cannot create a client for %s\n", r->url);
        return NULL;
    }
    for (uint32_t k = t->first; k < r->nbatches; k += (uint32_t)r->o.threads) {
        sleep_until(r->base + k * r->interval);
        send_batch(r, c, k);
    }
    pel_rpc_client_free(c);
    return NULL;
}

/* ---------------------------------------------------------------------
 * Watching blocks
 * ------------------------------------------------------------------- */

/* match - record the commits among a block's ids, seen at time t. */
static void match(lg_run *r, const cJSON *blk, uint64_t t)
{
    const cJSON *e, *txs = cJSON_GetObjectItemCaseSensitive(blk, "txs");
    uint8_t id[PEL_TXID_LEN];
    size_t n;
    cJSON_ArrayForEach(e, txs) {
        if (!cJSON_IsString(e) || strlen(e->valuestring) != 2 * PEL_TXID_LEN
            || pel_hex_decode(e->valuestring, 2 * PEL_TXID_LEN, id, sizeof id, &n))
            continue;
        int64_t i = lookup(r, id);
        if (i < 0 || r->commit_ns[i]) continue;
        if (!atomic_load_explicit(&r->sent_ns[i], memory_order_acquire)) continue;
        r->commit_ns[i] = t;
        atomic_fetch_add_explicit(&r->committed, 1, memory_order_relaxed);
    }
}

/* get - call method with {"height": h} (or no params when h is 0). Quiet:
 * the watcher retries, and reports only when it gives up (err->message). */
static int get(pel_rpc_client *c, const char *method, uint64_t h, cJSON **out, pel_rpc_error *err)
{
    cJSON *p = h ? cJSON_CreateObject() : NULL;
    int rc = h && (!p || !cJSON_AddNumberToObject(p, "height", (double)h))
             ? PEL_ENOMEM : pel_rpc_call(c, method, p, out, err);
    if (rc == PEL_ENOMEM) snprintf(err->message, sizeof err->message, "out of memory");
    if (rc == PEL_EREMOTE) cJSON_Delete(err->data);
    cJSON_Delete(p);
    return rc;
}

/* watch_once - poll the height (node_info: a small reply, where `block`
 * "latest" would send the same large block many times) and fetch each new
 * block once. Every block up to that height counts as seen at the poll.
 * @return 0 or
 * non-zero with err->message set. */
static int watch_once(lg_run *r, pel_rpc_client *c, uint64_t *next, pel_rpc_error *err)
{
    cJSON *info, *b;
    uint64_t top;
    if (get(c, "node_info", 0, &info, err)) return -1;
    uint64_t t = now_ns(r);
    int rc = pel_cli_json_u64(info, "height", &top);
    cJSON_Delete(info);
    if (rc) { snprintf(err->message, sizeof err->message, "node_info: no height"); return -1; }
    for (; *next <= top; (*next)++) {
        if (get(c, "block", *next, &b, err)) return -1;
        match(r, b, t);
        cJSON_Delete(b);
    }
    return 0;
}

static void *watcher_main(void *arg)
{
    lg_run *r = arg;
    pel_rpc_client *c;
    pel_rpc_error err;
    uint64_t next = r->h0 + 1;
    int fails = 0;
    if (pel_rpc_client_new(r->url, LG_CALL_TIMEOUT_MS, &c)) {
        atomic_store_explicit(&r->watch_failed, 1, memory_order_relaxed);
        return NULL;
    }
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        if (watch_once(r, c, &next, &err)) fails++;
        else fails = 0;
        if (fails >= 50) {   /* about a second of failures in a row */
            fprintf(stderr, "pel: loadgen: the block watcher gives up: %s\n", err.message);
            atomic_store_explicit(&r->watch_failed, 1, memory_order_relaxed);
            break;
        }
        sleep_s(LG_POLL_MS / 1000.0);
    }
    r->h_seen = next - 1;
    pel_rpc_client_free(c);
    return NULL;
}

/* ---------------------------------------------------------------------
 * The run
 * ------------------------------------------------------------------- */

/* run_load - submit on schedule, then wait for the commits. */
static int run_load(lg_run *r)
{
    lg_thread th[8];
    pthread_t w;
    unsigned started = 0;
    r->base = pel_cli_now();
    if (pthread_create(&w, NULL, watcher_main, r) != 0) return PEL_ENOMEM;
    for (unsigned t = 0; t < r->o.threads; t++) {
        th[t] = (lg_thread){ r, t, 0 };
        if (pthread_create(&th[t].th, NULL, submitter_main, &th[t]) != 0) break;
        started++;
    }
    for (unsigned t = 0; t < started; t++) pthread_join(th[t].th, NULL);
    double end = pel_cli_now() + LG_DRAIN_S;
    fprintf(stderr, "loadgen: submitted; waiting up to %.0f s for commits\n", LG_DRAIN_S);
    while (pel_cli_now() < end && !atomic_load_explicit(&r->watch_failed, memory_order_relaxed)
           && atomic_load_explicit(&r->committed, memory_order_relaxed)
              < atomic_load_explicit(&r->n_accepted, memory_order_relaxed))
        sleep_s(LG_POLL_MS / 1000.0);
    atomic_store_explicit(&r->stop, 1, memory_order_relaxed);
    pthread_join(w, NULL);
    if (atomic_load_explicit(&r->watch_failed, memory_order_relaxed)) fprintf(stderr, "pel: loadgen: commits are incomplete (lost the node)\n");
    return started == r->o.threads ? 0 : PEL_ENOMEM;
}

/* ---------------------------------------------------------------------
 * Report
 * ------------------------------------------------------------------- */

typedef struct lg_report {
    uint64_t submitted, accepted, rejected, committed;
    double duration, offered, tps, p50, p90, p99, max;
} lg_report;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* pct - nearest-rank percentile of sorted v[0..n), in ms. */
static double pct(const uint64_t *v, uint64_t n, double p)
{
    uint64_t k = (uint64_t)ceil(p * (double)n);
    return (double)v[k ? k - 1 : 0] / 1e6;
}

static int summarise(const lg_run *r, lg_report *o)
{
    uint64_t *lat = malloc(((size_t)r->n + 1) * sizeof *lat), n = 0, last = 0;
    if (!lat) return PEL_ENOMEM;
    for (uint32_t i = 0; i < r->n; i++) {
        uint64_t s = atomic_load_explicit(&r->sent_ns[i], memory_order_relaxed), c = r->commit_ns[i];
        if (!c) continue;
        lat[n++] = c > s ? c - s : 0;
        if (c > last) last = c;
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
    o->submitted = atomic_load(&r->submitted);
    o->accepted = atomic_load(&r->n_accepted);
    o->rejected = atomic_load(&r->rejected);
    o->committed = n;
    o->duration = fmax((double)r->o.duration, (double)atomic_load(&r->last_send_ns) / 1e9);
    o->offered = (double)o->submitted / o->duration;
    o->tps = n && last > 1 ? (double)n / ((double)(last - 1) / 1e9) : 0;
    o->p50 = n ? pct(lat, n, 0.50) : NAN;
    o->p90 = n ? pct(lat, n, 0.90) : NAN;
    o->p99 = n ? pct(lat, n, 0.99) : NAN;
    o->max = n ? (double)lat[n - 1] / 1e6 : NAN;
    free(lat);
    return 0;
}

static void json_ms(const char *key, double v)
{
    if (isnan(v)) printf(",\"%s\":null", key);
    else printf(",\"%s\":%.3f", key, v);
}

static void json_reasons(const char *key, const lg_reasons *l)
{
    printf(",\"%s\":[", key);
    for (unsigned i = 0; i < l->n; i++) {
        cJSON *s = cJSON_CreateString(l->r[i].msg);
        char *q = s ? cJSON_PrintUnformatted(s) : NULL;
        printf("%s{\"code\":%d,\"reason\":%s,\"count\":%" PRIu64 "}", i ? "," : "",
               l->r[i].code, q ? q : "\"?\"", l->r[i].count);
        free(q);
        cJSON_Delete(s);
    }
    printf("]");
}

static double success_ratio(const lg_run *r, const lg_report *o)
{
    return o->committed ? (double)r->succeeded / (double)o->committed : NAN;
}

static void print_json_report(const lg_run *r, const lg_report *o)
{
    printf("{\"rate\":%" PRIu64 ",\"duration\":%" PRIu64 ",\"senders\":%" PRIu64 ",\"batch\":%u,"
           "\"threads\":%" PRIu64 ",\"amount\":%" PRIu64 ",\"declare\":%s,\"workload\":\"%s\",\"popular\":%" PRIu64
           ",\"submitted\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64
           ",\"committed\":%" PRIu64 ",\"succeeded\":%" PRIu64 ",\"failed\":%" PRIu64,
           r->o.rate, r->o.duration, r->o.senders, r->batch, r->o.threads, r->o.amount,
           r->o.declare ? "true" : "false", lg_workload_names[r->o.workload], science(r) ? r->o.popular : 0,
           o->submitted, o->accepted, o->rejected, o->committed, r->succeeded, r->failed);
    json_ms("success_ratio", success_ratio(r, o));
    printf(",\"duration_s\":%.3f,\"offered_tps\":%.1f,\"committed_tps\":%.1f", o->duration, o->offered, o->tps);
    json_ms("latency_p50_ms", o->p50);
    json_ms("latency_p90_ms", o->p90);
    json_ms("latency_p99_ms", o->p99);
    json_ms("latency_max_ms", o->max);
    printf(",\"poll_ms\":%d", LG_POLL_MS);
    json_reasons("rejections", &r->reasons);
    json_reasons("failures", &r->failures);
    printf("}\n");
}

static void print_text_report(const lg_run *r, const lg_report *o)
{
    printf("%-15s%s\n", "workload", lg_workload_names[r->o.workload]);
    printf("%-15s%" PRIu64 "\n%-15s%" PRIu64 "\n%-15s%" PRIu64 "\n%-15s%" PRIu64 "\n",
           "submitted", o->submitted, "accepted", o->accepted, "rejected", o->rejected,
           "committed", o->committed);
    printf("%-15s%" PRIu64 "\n%-15s%" PRIu64 "\n", "succeeded", r->succeeded, "failed", r->failed);
    if (o->committed) printf("%-15s%.4f\n", "success_ratio", success_ratio(r, o));
    else printf("%-15snone committed\n", "success_ratio");
    printf("%-15s%.3f\n%-15s%.1f\n%-15s%.1f\n", "duration_s", o->duration,
           "offered_tps", o->offered, "committed_tps", o->tps);
    if (o->committed)
        printf("%-15sp50 %.1f p90 %.1f p99 %.1f max %.1f\n", "latency_ms", o->p50, o->p90,
               o->p99, o->max);
    else
        printf("%-15snone committed\n", "latency_ms");
    for (unsigned i = 0; i < r->reasons.n; i++)
        printf("%-15s%d %s (%" PRIu64 ")\n", "rejection", r->reasons.r[i].code,
               r->reasons.r[i].msg, r->reasons.r[i].count);
    for (unsigned i = 0; i < r->failures.n; i++)
        printf("%-15s%d %s (%" PRIu64 ")\n", "failure", r->failures.r[i].code,
               r->failures.r[i].msg, r->failures.r[i].count);
    printf("(latency: batch sent to block seen by a %d ms poll; includes up to one poll interval)\n",
           LG_POLL_MS);
}

/* ---------------------------------------------------------------------
 * Receipts, read after the clock stops
 * ------------------------------------------------------------------- */

/* count_receipts - our committed transactions in a block read with
 * receipts: succeeded, or failed with the receipt's status and message. */
static void count_receipts(lg_run *r, const cJSON *blk)
{
    const cJSON *e;
    uint8_t id[PEL_TXID_LEN];
    size_t n;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(blk, "txs")) {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *rec = cJSON_GetObjectItemCaseSensitive(e, "receipt");
        if (!cJSON_IsString(h) || strlen(h->valuestring) != 2 * PEL_TXID_LEN
            || pel_hex_decode(h->valuestring, 2 * PEL_TXID_LEN, id, sizeof id, &n))
            continue;
        int64_t i = lookup(r, id);
        if (i < 0 || !r->commit_ns[i]) continue;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "ok"))) { r->succeeded++; continue; }
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "status");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, "message");
        r->failed++;
        add_reason(r, &r->failures, cJSON_IsNumber(st) ? st->valueint : 0,
                   cJSON_IsString(m) ? m->valuestring : "no receipt in the block", 1);
    }
}

/* check_receipts - read blocks h0+1 .. h_seen again with their receipts.
 * @return 0 or -1 (printed). */
static int check_receipts(lg_run *r, pel_rpc_client *c)
{
    for (uint64_t h = r->h0 + 1; h <= r->h_seen; h++) {
        cJSON *p = cJSON_CreateObject(), *b = NULL;
        int rc = !p || !cJSON_AddNumberToObject(p, "height", (double)h) || !cJSON_AddTrueToObject(p, "receipts")
                 ? -1 : pel_cli_call(c, "block", p, &b, "block (reading receipts)");
        cJSON_Delete(p);
        if (rc) return -1;
        count_receipts(r, b);
        cJSON_Delete(b);
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Entry point
 * ------------------------------------------------------------------- */

static void lg_free(lg_run *r)
{
    if (r->sk) sodium_memzero(r->sk, (size_t)r->nkeys * PEL_SECKEY_LEN);
    free(r->sk);
    free(r->addr);
    free(r->nonce);
    free(r->need);
    free(r->planned);
    free(r->type);
    free(r->txnonce);
    free(r->gas);
    free(r->boff);
    free(r->blen);
    pel_buf_free(&r->bodies);
    free(r->sci);
    for (uint32_t i = 0; r->setup.hex && i < r->setup.n; i++) free(r->setup.hex[i]);
    free(r->setup.hex);
    free(r->setup.ids);
    for (unsigned t = 0; t < LG_SIGNERS; t++) pel_buf_free(&r->hexbuf[t]);
    free((void *)r->hex);
    free(r->ids);
    free(r->table);
    free((void *)r->sent_ns);
    free(r->commit_ns);
    pthread_mutex_destroy(&r->lock);
}

/* prepare - everything before the clock starts. @return 0 or -1 (printed). */
static int prepare(lg_run *r, pel_rpc_client *c)
{
    int rc;
    if (pel_cli_node_info(c, &r->chain)) return -1;
    r->n = (uint32_t)(r->o.rate * r->o.duration);
    if (r->o.threads > r->o.senders) r->o.threads = r->o.senders;   /* a thread per sender at most */
    r->batch = (uint32_t)(r->o.batch < (r->o.rate + 9) / 10 ? r->o.batch : (r->o.rate + 9) / 10);
    r->nbatches = (r->n + r->batch - 1) / r->batch;
    r->interval = (double)r->batch / (double)r->o.rate;
    if ((rc = make_keys(r)) || (rc = size_and_gas(r))) goto fail;
    if (read_nonces(r, c)) return -1;
    if ((rc = plan(r))) goto fail;
    if (fund(r, c)) return -1;
    if (science(r) && run_setup(r, c)) return -1;
    fprintf(stderr, "loadgen: signing %u transactions (workload %s) from %" PRIu64 " senders\n", r->n,
            lg_workload_names[r->o.workload], r->o.senders);
    r->sent_ns = calloc(r->n, sizeof *r->sent_ns);
    r->commit_ns = calloc(r->n, sizeof *r->commit_ns);
    if (!r->sent_ns || !r->commit_ns) { rc = PEL_ENOMEM; goto fail; }
    if ((rc = sign_all(r)) || (rc = build_table(r))) goto fail;
    if (pel_cli_node_info(c, &r->chain)) return -1;      /* the height just before t0 */
    r->h0 = r->chain.height;
    return 0;
fail:
    fprintf(stderr, "pel: loadgen: %s\n", pel_strerror(rc));
    return -1;
}

int pel_cli_loadgen(int argc, char **argv)
{
    lg_run r;
    lg_report rep;
    pel_rpc_client *c;
    if (argc > 0 && !strcmp(argv[0], "loadgen")) { argc--; argv++; }
    memset(&r, 0, sizeof r);
    int rc = lg_parse(argc, argv, &r.o);
    if (rc) return rc == 1 ? 0 : 2;
    pthread_mutex_init(&r.lock, NULL);
    r.url = pel_cli_rpc_url(r.o.rpc);
    rc = 1;
    if (pel_cli_connect(r.url, LG_CALL_TIMEOUT_MS, &c)) goto out;
    r.url = pel_rpc_client_url(c);   /* with the scheme; c lives until the end */
    if (prepare(&r, c)) goto out_c;
    fprintf(stderr, "loadgen: %" PRIu64 " tx/s for %" PRIu64 " s, batches of %u every %.3f s, %" PRIu64
            " threads\n", r.o.rate, r.o.duration, r.batch, r.interval, r.o.threads);
    if (run_load(&r) || summarise(&r, &rep)) { fprintf(stderr, "pel: loadgen: out of memory\n"); goto out_c; }
    int receipts = check_receipts(&r, c);
    if (r.o.json) print_json_report(&r, &rep);
    else print_text_report(&r, &rep);
    rc = atomic_load_explicit(&r.watch_failed, memory_order_relaxed) || receipts ? 1 : 0;
out_c:
    pel_rpc_client_free(c);
out:
    lg_free(&r);
    return rc;
}
