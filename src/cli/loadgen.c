/*
 * loadgen.c - `pel loadgen`: offer a node a steady rate of signed transfers
 * over its HTTP API and measure what it commits and how fast.
 *
 * Phases:
 *   1. keys: K sender keys from the seed (pel_sign_seed_keypair on the
 *      tagged hash of seed ‖ i), so a rerun with the same seed reuses the
 *      accounts; a few recipient-only "sink" addresses likewise.
 *   2. funding: each sender short of what its share of the run can spend
 *      (transfers plus maximum fees) gets one faucet call; then wait until
 *      every balance shows it.
 *   3. signing: all R*S transfers before the clock starts, round-robin over
 *      senders with consecutive nonces from account.next_nonce, on every
 *      core, so the client is not the bottleneck.
 *   4. submission: batch k (of B transfers) leaves at t0 + k*B/R via
 *      submit_batch, from T threads with a client each (batch k on thread
 *      k mod T). A thread that falls behind sends at once, never bunches
 *      up to catch up by skipping the schedule.
 *   5. watching: one thread polls the height (node_info) every 20 ms and
 *      fetches each new block once (`block`, whose "txs" are the ids);
 *      committed ids are matched to their submission time
 *      through a hash table built before the run (read-only afterwards).
 *      Latency = when the watcher saw the block - when the batch was sent,
 *      so it includes up to one poll interval. After the last batch it
 *      watches until every accepted transfer is committed or 10 s pass.
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
#include "core/codec.h"
#include "core/hash.h"
#include "core/hex.h"

#define LG_SINKS 8              /* recipient-only addresses */
#define LG_POLL_MS 20           /* watcher poll interval */
#define LG_DRAIN_S 10.0         /* wait for commits after the last batch */
#define LG_FUND_TIMEOUT_S 60.0
#define LG_MAX_TXS 4000000u     /* R*S at most (memory: ~0.5 KiB each) */
#define LG_REASONS 5            /* distinct rejection reasons kept */
#define LG_CALL_TIMEOUT_MS 60000

typedef struct lg_opts {
    uint64_t rate, duration, senders, amount, batch, threads;
    const char *seed, *rpc;
    int json, declare;
} lg_opts;

typedef struct lg_reason {
    int code;
    char msg[160];
    uint64_t count;
} lg_reason;

/* Everything one run shares between its threads. */
typedef struct lg_run {
    lg_opts o;
    const char *url;
    pel_cli_chain chain;
    uint64_t gas_limit, h0;           /* h0: height before the first batch */
    uint8_t *sk;                      /* senders * 64 */
    pel_addr *addr;                   /* senders + LG_SINKS */
    uint64_t *nonce;                  /* first nonce of each sender */
    uint32_t n, batch, nbatches;
    double interval;                  /* seconds between batches */
    size_t stride;                    /* bytes per hex tx, NUL included */
    char *hex;                        /* n * stride */
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
    lg_reason reasons[LG_REASONS];
    unsigned n_reasons;
    int watch_failed;                 /* watcher only, read after join */
} lg_run;

static void lg_usage(FILE *f)
{
    fprintf(f,
        "usage: pel loadgen [--rate R] [--duration S] [--senders K] [--amount N]\n"
        "                   [--key-seed X] [--batch B] [--threads T] [--declare]\n"
        "                   [--rpc URL] [--json]\n"
        "\n"
        "Offers the node R signed transfers per second for S seconds over its HTTP API\n"
        "and reports what it accepted and committed, and commit latency.\n"
        "  --rate R       transfers per second (default 1000)\n"
        "  --duration S   seconds of submission (default 10); R*S transfers in all\n"
        "  --senders K    sender accounts (default 64); each has R*S/K transfers, and the\n"
        "                 node keeps at most mempool.max_per_sender (8192) pending per sender\n"
        "  --amount N     tokens per transfer (default 1)\n"
        "  --key-seed X   sender keys are derived from X (default \"pel-loadgen\")\n"
        "  --batch B      transfers per submit_batch call (default 256; at most R/10,\n"
        "                 so that a batch leaves at least every 100 ms)\n"
        "  --threads T    submitting threads, each with its own connection (default 2)\n"
        "  --declare      attach declared access lists to the transfers\n"
        "Senders short of funds get one faucet call each (devnet), then every\n"
        "transfer is signed before the clock starts. Recipients are random among the\n"
        "senders and %d fresh addresses. Progress goes to stderr.\n"
        "\n"
        "Output (text):\n"
        "  submitted      <transfers sent>\n"
        "  accepted       <admitted by the node>\n"
        "  rejected       <refused at admission, or lost with a failed call>\n"
        "  committed      <seen in blocks>\n"
        "  duration_s     <submission window: max(S, until the last batch was answered)>\n"
        "  offered_tps    <submitted / duration_s>\n"
        "  committed_tps  <committed / (last commit seen - first submission)>\n"
        "  latency_ms     p50 <x> p90 <x> p99 <x> max <x>    (or: none committed)\n"
        "  rejection      <code> <reason> (<count>)       (up to %d distinct)\n"
        "  (latency: batch sent to block seen by a 20 ms poll; includes up to one poll interval)\n"
        "Latency is from sending a transfer's batch to the watcher seeing its block, so\n"
        "it includes up to one %d ms poll interval.\n"
        "--json prints one line: {\"rate\":R,\"duration\":S,\"senders\":K,\"batch\":B,\n"
        "\"threads\":T,\"amount\":N,\"declare\":false,\"submitted\":..,\"accepted\":..,\n"
        "\"rejected\":..,\"committed\":..,\"duration_s\":..,\"offered_tps\":..,\n"
        "\"committed_tps\":..,\"latency_p50_ms\":..,\"latency_p90_ms\":..,\n"
        "\"latency_p99_ms\":..,\"latency_max_ms\":..,\"poll_ms\":%d,\n"
        "\"rejections\":[{\"code\":C,\"reason\":\"...\",\"count\":N},...]}\n"
        "(latencies are null when nothing was committed).\n"
        "Exit status: 0 when the run completed (read the numbers; rejections do not\n"
        "count as failure), 1 when it could not run (no node, funding failed) or the\n"
        "block watcher lost the node (the report is still printed), 2 usage error.\n",
        LG_SINKS, LG_REASONS, LG_POLL_MS, LG_POLL_MS);
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

/* lg_parse - @return 0, 1 (help shown), 2 (usage error shown). */
static int lg_parse(int argc, char **argv, lg_opts *o)
{
    *o = (lg_opts){ 1000, 10, 64, 1, 256, 2, "pel-loadgen", NULL, 0, 0 };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { lg_usage(stdout); return 1; }
        else if (!strcmp(a, "--json")) { o->json = 1; continue; }
        else if (!strcmp(a, "--declare")) { o->declare = 1; continue; }
        else if (!strcmp(a, "--rate")) rc = parse_num(a, v, 1, 1000000, &o->rate);
        else if (!strcmp(a, "--duration")) rc = parse_num(a, v, 1, 3600, &o->duration);
        else if (!strcmp(a, "--senders")) rc = parse_num(a, v, 1, 100000, &o->senders);
        else if (!strcmp(a, "--amount")) rc = parse_num(a, v, 0, 1000000000000ULL, &o->amount);
        else if (!strcmp(a, "--batch")) rc = parse_num(a, v, 1, 10000, &o->batch);
        else if (!strcmp(a, "--threads")) rc = parse_num(a, v, 1, 8, &o->threads);
        else if (!strcmp(a, "--key-seed")) rc = need_value(a, v, &o->seed);
        else if (!strcmp(a, "--rpc")) rc = need_value(a, v, &o->rpc);
        else { fprintf(stderr, "pel: unknown option '%s'\n", a); lg_usage(stderr); return 2; }
        if (rc) return 2;
        i++;
    }
    if (o->rate * o->duration > LG_MAX_TXS) {
        fprintf(stderr, "pel: --rate times --duration is at most %u transfers\n", LG_MAX_TXS);
        return 2;
    }
    return 0;
}

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

static int make_keys(lg_run *r)
{
    uint32_t k = (uint32_t)r->o.senders;
    uint8_t s[32], pk[PEL_PUBKEY_LEN];
    int rc = 0;
    r->sk = calloc(k, PEL_SECKEY_LEN);
    r->addr = calloc(k + LG_SINKS, sizeof *r->addr);
    r->nonce = calloc(k, sizeof *r->nonce);
    if (!r->sk || !r->addr || !r->nonce) return PEL_ENOMEM;
    for (uint32_t i = 0; !rc && i < k; i++) {
        rc = derive("PEL/loadgen-key", r->o.seed, i, s);
        if (!rc) rc = pel_sign_seed_keypair(pk, r->sk + (size_t)i * PEL_SECKEY_LEN, s);
        if (!rc) pel_addr_from_pubkey(pk, &r->addr[i]);
    }
    for (uint32_t i = 0; !rc && i < LG_SINKS; i++) {
        rc = derive("PEL/loadgen-sink", r->o.seed, i, s);
        memcpy(r->addr[k + i].b, s, PEL_ADDR_LEN);
    }
    sodium_memzero(s, sizeof s);
    return rc;
}

/* need - what sender s can spend in this run at most. */
static uint64_t need(const lg_run *r, uint32_t s)
{
    uint64_t k = r->o.senders, cnt = r->n / k + (s < r->n % k);
    return cnt * (r->o.amount + r->gas_limit * r->chain.min_gas_price);
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

/* fund_pass - read every sender; ask the faucet for what is missing when
 * ask is set. @return senders still short, or -1 (printed). */
static int fund_pass(lg_run *r, pel_rpc_client *c, int ask)
{
    int short_ = 0;
    for (uint32_t s = 0; s < r->o.senders; s++) {
        uint64_t bal, want = need(r, s);
        if (pel_cli_next_nonce(c, &r->addr[s], &r->nonce[s], &bal)) return -1;
        if (bal >= want) continue;
        short_++;
        if (ask && faucet(c, &r->addr[s], want - bal)) return -1;
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
    if (left > 0) fprintf(stderr, "loadgen: funding %d senders from the faucet\n", left);
    while (left > 0 && pel_cli_now() < end) {
        sleep_s(0.2);
        left = fund_pass(r, c, 0);
    }
    if (left > 0)
        fprintf(stderr, "pel: %d senders still lack funds after %.0f s\n", left, LG_FUND_TIMEOUT_S);
    return left == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * Signing
 * ------------------------------------------------------------------- */

typedef struct lg_signer {
    lg_run *r;
    uint32_t lo, hi;
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

static int sign_one(lg_run *r, uint32_t i, pel_buf *b)
{
    uint32_t k = (uint32_t)r->o.senders, s = i % k;
    pel_cli_transfer t = { &r->chain, r->addr[recipient(r, i, s)], r->o.amount,
                           r->nonce[s] + i / k, r->chain.min_gas_price, r->gas_limit, 0,
                           r->o.declare };
    pel_tx tx;
    pel_buf_reset(b);
    int rc = pel_cli_sign_transfer(&t, r->sk + (size_t)s * PEL_SECKEY_LEN, b, &tx);
    if (rc) return rc;
    if (2 * b->len + 1 != r->stride) return PEL_EINVAL;   /* every transfer has one size */
    pel_hex_encode(b->data, b->len, r->hex + (size_t)i * r->stride);
    memcpy(r->ids[i], tx.id, PEL_TXID_LEN);
    return 0;
}

static void *signer_main(void *arg)
{
    lg_signer *w = arg;
    pel_buf b;
    pel_buf_init(&b);
    for (uint32_t i = w->lo; !w->rc && i < w->hi; i++) w->rc = sign_one(w->r, i, &b);
    pel_buf_free(&b);
    return NULL;
}

/* size_and_gas - the signed size of every transfer, and its gas limit (to a
 * sink: a transfer to oneself declares one key fewer). */
static int size_and_gas(lg_run *r)
{
    pel_cli_transfer t = { &r->chain, r->addr[r->o.senders], r->o.amount, 0, r->chain.min_gas_price, 0, 0,
                           r->o.declare };
    pel_tx tx;
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_cli_sign_transfer(&t, r->sk, &b, &tx);
    r->gas_limit = tx.gas_limit;
    r->stride = 2 * b.len + 1;
    pel_buf_free(&b);
    return rc;
}

static int sign_all(lg_run *r)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned nt = cpus < 1 ? 1 : cpus > 16 ? 16 : (unsigned)cpus, started = 0;
    lg_signer w[16];
    int rc = 0;
    r->hex = malloc((size_t)r->n * r->stride);
    r->ids = malloc((size_t)r->n * sizeof *r->ids);
    if (!r->hex || !r->ids) return PEL_ENOMEM;
    for (unsigned t = 0; t < nt; t++) {
        w[t] = (lg_signer){ r, (uint32_t)((uint64_t)r->n * t / nt),
                            (uint32_t)((uint64_t)r->n * (t + 1) / nt), 0, 0 };
        if (pthread_create(&w[t].th, NULL, signer_main, &w[t]) != 0) { rc = PEL_ENOMEM; break; }
        started++;
    }
    for (unsigned t = 0; t < started; t++) {
        pthread_join(w[t].th, NULL);
        if (!rc) rc = w[t].rc;
    }
    return rc;
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

static void add_reason(lg_run *r, int code, const char *msg, uint64_t count)
{
    unsigned i;
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->n_reasons; i++)
        if (r->reasons[i].code == code && !strcmp(r->reasons[i].msg, msg)) break;
    if (i == r->n_reasons && i < LG_REASONS) {
        r->reasons[i].code = code;
        snprintf(r->reasons[i].msg, sizeof r->reasons[i].msg, "%s", msg);
        r->n_reasons++;
    }
    if (i < r->n_reasons) r->reasons[i].count += count;
    pthread_mutex_unlock(&r->lock);
}

/* tally - count a submit_batch reply for transfers [lo, hi). */
static void tally(lg_run *r, const cJSON *res, uint32_t lo, uint32_t hi)
{
    const cJSON *e, *list = cJSON_GetObjectItemCaseSensitive(res, "results");
    uint32_t i = lo;
    cJSON_ArrayForEach(e, list) {
        if (i == hi) break;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ok"))) {
            atomic_fetch_add_explicit(&r->n_accepted, 1, memory_order_relaxed);
        } else {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "error");
            add_reason(r, cJSON_IsNumber(c) ? c->valueint : 0,
                       cJSON_IsString(m) ? m->valuestring : "refused", 1);
            atomic_fetch_add_explicit(&r->rejected, 1, memory_order_relaxed);
        }
        i++;
    }
    if (i < hi) {   /* a short reply: count the rest as lost */
        add_reason(r, 0, "no result in the node's reply", hi - i);
        atomic_fetch_add_explicit(&r->rejected, hi - i, memory_order_relaxed);
    }
}

/* batch_body - the submit_batch request for transfers [lo, hi), written
 * directly (the hex strings need no escaping): building it through cJSON
 * cost the load generator more CPU than the node spends on JSON, on the
 * same cores the node is measured on. */
static int batch_body(const lg_run *r, uint32_t k, uint32_t lo, uint32_t hi, pel_buf *b)
{
    char head[96];
    int n = snprintf(head, sizeof head, "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"submit_batch\","
                     "\"params\":{\"txs\":[", k);
    int rc = pel_buf_append(b, head, (size_t)n);
    for (uint32_t i = lo; !rc && i < hi; i++) {
        const char *h = r->hex + (size_t)i * r->stride;
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
        add_reason(r, rc == PEL_EREMOTE ? err.code : rc, rc == PEL_EREMOTE || rc == PEL_EIO
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
    if (pel_rpc_client_new(r->url, LG_CALL_TIMEOUT_MS, &c)) { r->watch_failed = 1; return NULL; }
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        if (watch_once(r, c, &next, &err)) fails++;
        else fails = 0;
        if (fails >= 50) {   /* about a second of failures in a row */
            fprintf(stderr, "pel: loadgen: the block watcher gives up: %s\n", err.message);
            r->watch_failed = 1;
            break;
        }
        sleep_s(LG_POLL_MS / 1000.0);
    }
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
    while (pel_cli_now() < end && !r->watch_failed
           && atomic_load_explicit(&r->committed, memory_order_relaxed)
              < atomic_load_explicit(&r->n_accepted, memory_order_relaxed))
        sleep_s(LG_POLL_MS / 1000.0);
    atomic_store_explicit(&r->stop, 1, memory_order_relaxed);
    pthread_join(w, NULL);
    if (r->watch_failed) fprintf(stderr, "pel: loadgen: commits are incomplete (lost the node)\n");
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

static void print_json_report(const lg_run *r, const lg_report *o)
{
    printf("{\"rate\":%" PRIu64 ",\"duration\":%" PRIu64 ",\"senders\":%" PRIu64 ",\"batch\":%u,"
           "\"threads\":%" PRIu64 ",\"amount\":%" PRIu64 ",\"declare\":%s,"
           "\"submitted\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64
           ",\"committed\":%" PRIu64 ",\"duration_s\":%.3f,\"offered_tps\":%.1f,\"committed_tps\":%.1f",
           r->o.rate, r->o.duration, r->o.senders, r->batch, r->o.threads, r->o.amount,
           r->o.declare ? "true" : "false", o->submitted, o->accepted, o->rejected, o->committed,
           o->duration, o->offered, o->tps);
    json_ms("latency_p50_ms", o->p50);
    json_ms("latency_p90_ms", o->p90);
    json_ms("latency_p99_ms", o->p99);
    json_ms("latency_max_ms", o->max);
    printf(",\"poll_ms\":%d,\"rejections\":[", LG_POLL_MS);
    for (unsigned i = 0; i < r->n_reasons; i++) {
        cJSON *s = cJSON_CreateString(r->reasons[i].msg);
        char *q = s ? cJSON_PrintUnformatted(s) : NULL;
        printf("%s{\"code\":%d,\"reason\":%s,\"count\":%" PRIu64 "}", i ? "," : "",
               r->reasons[i].code, q ? q : "\"?\"", r->reasons[i].count);
        free(q);
        cJSON_Delete(s);
    }
    printf("]}\n");
}

static void print_text_report(const lg_run *r, const lg_report *o)
{
    printf("%-14s%" PRIu64 "\n%-14s%" PRIu64 "\n%-14s%" PRIu64 "\n%-14s%" PRIu64 "\n",
           "submitted", o->submitted, "accepted", o->accepted, "rejected", o->rejected,
           "committed", o->committed);
    printf("%-14s%.3f\n%-14s%.1f\n%-14s%.1f\n", "duration_s", o->duration,
           "offered_tps", o->offered, "committed_tps", o->tps);
    if (o->committed)
        printf("%-14sp50 %.1f p90 %.1f p99 %.1f max %.1f\n", "latency_ms", o->p50, o->p90,
               o->p99, o->max);
    else
        printf("%-14snone committed\n", "latency_ms");
    for (unsigned i = 0; i < r->n_reasons; i++)
        printf("%-14s%d %s (%" PRIu64 ")\n", "rejection", r->reasons[i].code,
               r->reasons[i].msg, r->reasons[i].count);
    printf("(latency: batch sent to block seen by a %d ms poll; includes up to one poll interval)\n",
           LG_POLL_MS);
}

/* ---------------------------------------------------------------------
 * Entry point
 * ------------------------------------------------------------------- */

static void lg_free(lg_run *r)
{
    if (r->sk) sodium_memzero(r->sk, (size_t)r->o.senders * PEL_SECKEY_LEN);
    free(r->sk);
    free(r->addr);
    free(r->nonce);
    free(r->hex);
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
    r->batch = (uint32_t)(r->o.batch < (r->o.rate + 9) / 10 ? r->o.batch : (r->o.rate + 9) / 10);
    r->nbatches = (r->n + r->batch - 1) / r->batch;
    r->interval = (double)r->batch / (double)r->o.rate;
    if ((rc = make_keys(r)) || (rc = size_and_gas(r))) goto fail;
    if (fund(r, c)) return -1;
    fprintf(stderr, "loadgen: signing %u transfers from %" PRIu64 " senders\n", r->n, r->o.senders);
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
    if (r.o.json) print_json_report(&r, &rep);
    else print_text_report(&r, &rep);
    rc = r.watch_failed ? 1 : 0;
out_c:
    pel_rpc_client_free(c);
out:
    lg_free(&r);
    return rc;
}
