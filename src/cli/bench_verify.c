/*
 * bench_verify.c - `pel bench verify`: the machine's raw Ed25519
 * verification rate on T threads. The end-to-end node benchmark reports
 * its committed throughput as a fraction of this bound (a node can never
 * commit signed transactions faster than it can verify them). Three rates:
 * the node's own check with the key known valid (pel_sign_verify_cached:
 * core/ed25519.h's equation), the same with the key checked every time,
 * and libsodium's crypto_sign_ed25519_verify_detached alone (the common
 * reference, and the bound before PEL had its own equation).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/cpu.h"
#include "core/hash.h"
#include "core/sign.h"

#define MSGS 256

typedef struct vjob {
    pel_keycache *cache;       /* NULL: check the key every time (strict) */
    int libsodium;             /* crypto_sign_ed25519_verify_detached only */
    uint8_t pk[PEL_PUBKEY_LEN];
    uint8_t msg[MSGS][32], sig[MSGS][PEL_SIG_LEN];
    double seconds;
    uint64_t done;
    int bad;
} vjob;

static void *verify_loop(void *arg)
{
    vjob *j = arg;
    double end = pel_mono_s() + j->seconds;
    uint64_t n = 0;
    while (pel_mono_s() < end)
        for (int i = 0; i < MSGS; i++, n++)
            if (j->libsodium ? crypto_sign_ed25519_verify_detached(j->sig[i], j->msg[i], 32, j->pk) != 0
                             : pel_sign_verify_cached(j->cache, j->pk, j->msg[i], 32, j->sig[i]) != 0)
                j->bad = 1;
    j->done = n;
    return NULL;
}

static int prepare(vjob *j, unsigned t)
{
    uint8_t sk[PEL_SECKEY_LEN], seed[PEL_SEED_LEN];
    memset(seed, (int)t + 1, sizeof seed);
    if (pel_sign_seed_keypair(j->pk, sk, seed)) return -1;
    for (int i = 0; i < MSGS; i++) {
        if (pel_hash_tagged("PEL/bench", &i, sizeof i, j->msg[i])) return -1;
        if (pel_sign(sk, j->msg[i], 32, j->sig[i])) return -1;
    }
    return 0;
}

/* Verify on `threads` threads for `secs` seconds; *rate = verifications/s. */
static int run_threads(unsigned threads, double secs, pel_keycache *cache, int libsodium,
                       double *rate)
{
    vjob *jobs = calloc(threads, sizeof *jobs);
    pthread_t *tid = calloc(threads, sizeof *tid);
    int rc = jobs && tid ? 0 : -1, bad = 0;
    for (unsigned t = 0; t < threads && !rc; t++) {
        jobs[t].seconds = secs;
        jobs[t].cache = cache;
        jobs[t].libsodium = libsodium;
        rc = prepare(&jobs[t], t);
    }
    double t0 = pel_mono_s();
    for (unsigned t = 0; t < threads && !rc; t++) pthread_create(&tid[t], NULL, verify_loop, &jobs[t]);
    uint64_t total = 0;
    for (unsigned t = 0; t < threads && !rc; t++) {
        pthread_join(tid[t], NULL);
        total += jobs[t].done;
        bad |= jobs[t].bad;
    }
    *rate = (double)total / (pel_mono_s() - t0);
    free(jobs);
    free(tid);
    return rc || bad ? -1 : 0;
}

int pel_cli_bench_verify(int argc, char **argv)
{
    unsigned long long threads = pel_cpu_count(), secs = 3;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--threads") && v) { if (pel_cli_u64(a, v, 1, 1024, &threads)) return 2; i++; }
        else if (!strcmp(a, "--seconds") && v) { if (pel_cli_u64(a, v, 1, 3600, &secs)) return 2; i++; }
        else {
            fprintf(stderr, "usage: pel bench verify [--threads T (default: all cores)] [--seconds S (3)] [--json]\n");
            return !strcmp(a, "--help") || !strcmp(a, "-h") ? 0 : 2;
        }
    }
    pel_keycache *cache = NULL;
    double raw = 0, strict = 0, lib = 0;
    if (pel_keycache_new(&cache)) { fprintf(stderr, "pel: out of memory\n"); return 1; }
    int rc = run_threads((unsigned)threads, (double)secs, cache, 0, &raw);
    if (!rc) rc = run_threads((unsigned)threads, (double)secs, NULL, 0, &strict);
    if (!rc) rc = run_threads((unsigned)threads, (double)secs, NULL, 1, &lib);
    pel_keycache_free(cache);
    if (rc) { fprintf(stderr, "pel bench verify: signing or verification failed\n"); return 1; }
    if (json)
        printf("{\"bench\":\"verify\",\"threads\":%llu,\"seconds\":%llu,\"per_s\":%.0f,"
               "\"strict_per_s\":%.0f,\"libsodium_per_s\":%.0f}\n", threads, secs, raw, strict, lib);
    else
        printf("Ed25519 verification on %llu threads: %.0f/s (key known valid), %.0f/s (key checked too), "
               "%.0f/s (libsodium's crypto_sign_ed25519_verify_detached)\n", threads, raw, strict, lib);
    return 0;
}
