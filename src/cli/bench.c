/*
 * bench.c - `pel bench exec`: execution-engine benchmark.
 *
 * --workload science hands over to bench_science.c (the open-science mix
 * through the ledger); what follows is the transfers workload. Each run
 * builds a fresh genesis (accounts with large balances) and a block of
 * random peer-to-peer transfers, executes it with the sequential engine
 * and with the engine under test in the same process, checks that both
 * results are byte-identical, and times both. The report is the median over
 * runs and the ratio of medians: a ratio measured side by side is a fact on a
 * noisy machine, an absolute time only a hint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench_stats.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/hex.h"
#include "exec/engine.h"
#include "exec/synth.h"

typedef struct bench_opts {
    pel_engine_kind kind;
    unsigned long long accounts, txs, threads, runs, seed, work, hot;
    int credit;               /* pel_synth_credit */
    int json;
} bench_opts;

static void bench_usage(FILE *f)
{
    fprintf(f,
        "usage: pel bench exec [--workload transfers] [--engine sequential|blockstm|declared]\n"
        "                      [--accounts N] [--txs M] [--threads T] [--runs R] [--seed S]\n"
        "                      [--work W] [--hot-recipient PCT] [--credit rmw|delta|none] [--json]\n"
        "       pel bench exec --workload science [--txs N] [--senders S] [--popular P]\n"
        "                      [--threads T] [--runs R] [--seed X] [--json]\n"
        "       pel bench trees ...   (state and history trees: pel bench trees --help)\n"
        "       pel bench verify ...  (Ed25519 verification rate: pel bench verify --help)\n"
        "       pel bench science ... (= pel bench exec --workload science ...)\n"
        "\n"
        "--workload transfers (the default) executes blocks of M random transfers among\n"
        "N accounts (each paying a fee into one fee pool) with the chosen engine and with\n"
        "the sequential engine, checks the results are identical, and prints medians over\n"
        "R runs. --work W adds W rounds of computation to each transfer, standing in for\n"
        "a heavier transaction body (about 1 ns per round). --hot-recipient PCT sends\n"
        "PCT%% of the transfers to one popular account. --credit says how money moves:\n"
        "rmw (default) reads and writes the recipient and adds the fee to the pool as a\n"
        "delta counter; delta credits the recipient with a delta too (a popular\n"
        "recipient does not serialise the block); none uses no delta counters at all\n"
        "(the fee pool is read and written: every transfer conflicts).\n"
        "Defaults: --engine blockstm --accounts 10000 --txs 10000 --threads 2 --runs 5.\n"
        "--workload science runs blocks of signed open-science transactions (src/cli/\n"
        "science_gen.h: registrations citing popular objects, versions, reviews,\n"
        "preregistration commits) through the ledger and its modules, Block-STM against\n"
        "the sequential engine (pel bench exec --workload science --help).\n");
}

static int parse(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){ PEL_ENGINE_BLOCKSTM, 10000, 10000, 2, 5, 1, 0, 0, PEL_SYNTH_CREDIT_RMW, 0 };
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { bench_usage(stdout); return 1; }
        else if (!strcmp(a, "--json")) { o->json = 1; continue; }
        else if (!strcmp(a, "--engine")) {
            if (!v || pel_engine_kind_parse(v, &o->kind)) {
                fprintf(stderr, "pel: --engine must be sequential, blockstm or declared\n");
                return -1;
            }
        }
        else if (!strcmp(a, "--accounts")) rc = pel_cli_u64(a, v, 2, 100000000, &o->accounts);
        else if (!strcmp(a, "--txs")) rc = pel_cli_u64(a, v, 1, 10000000, &o->txs);
        else if (!strcmp(a, "--threads")) rc = pel_cli_u64(a, v, 1, 1024, &o->threads);
        else if (!strcmp(a, "--runs")) rc = pel_cli_u64(a, v, 1, 1000, &o->runs);
        else if (!strcmp(a, "--seed")) rc = pel_cli_u64(a, v, 0, ~0ULL, &o->seed);
        else if (!strcmp(a, "--work")) rc = pel_cli_u64(a, v, 0, 100000000, &o->work);
        else if (!strcmp(a, "--hot-recipient")) rc = pel_cli_u64(a, v, 0, 100, &o->hot);
        else if (!strcmp(a, "--credit")) {
            static const char *const names[] = { "rmw", "delta", "none" };
            o->credit = -1;
            for (int k = 0; v && k < 3; k++) if (!strcmp(v, names[k])) o->credit = k;
            if (o->credit < 0) { fprintf(stderr, "pel: --credit must be rmw, delta or none\n"); return -1; }
        }
        else { fprintf(stderr, "pel: unknown option '%s'\n", a); bench_usage(stderr); return -1; }
        if (rc) return -1;
        i++;
    }
    return 0;
}

typedef struct bench_env {
    pel_synth s;
    pel_memstate *ms;
    pel_arena a;
    pel_txdesc *d;
    pel_synth_tx *txs;
} bench_env;

static int env_make(const bench_opts *o, unsigned run, bench_env *env)
{
    pel_rng rng = { o->seed * 1000003 + run };
    memset(env, 0, sizeof(*env));
    pel_arena_init(&env->a, 0);
    if (pel_synth_init(&env->s, (uint32_t)o->accounts, 1) || pel_memstate_new(&env->ms)
        || (env->s.transfer_work = (uint32_t)o->work, 0)
        || (env->s.hot_pct = (uint32_t)o->hot, env->s.credit = (uint8_t)o->credit, 0)
        || pel_synth_genesis(&env->s, env->ms, 1000000000000ULL, NULL)
        || pel_synth_transfers(&env->s, &rng, (uint32_t)o->txs, o->kind == PEL_ENGINE_DECLARED,
                               &env->a, &env->txs, &env->d))
        return -1;
    return 0;
}

static void env_free(bench_env *env)
{
    pel_memstate_free(env->ms);
    pel_synth_free(&env->s);
    pel_arena_free(&env->a);
}

/* timed - execute one block and time it; the digest is computed after. */
static int timed(pel_engine *e, bench_env *env, uint32_t n, pel_block_result *r, double *secs)
{
    pel_state st = pel_memstate_reader(env->ms);
    pel_executor ex = pel_synth_executor(&env->s);
    double t0 = pel_mono_s();
    int rc = pel_engine_execute(e, &st, env->d, n, &ex, r);
    *secs = pel_mono_s() - t0;
    if (rc == 0) rc = pel_block_result_digest(r);
    return rc;
}

typedef struct bench_out {
    double *seq, *eng;
    double *ph;           /* [phase * runs + run]: the engine's phase times, ms */
    char digest[65];
    unsigned long long executions, aborts;
} bench_out;


/* one_run - sequential and engine on the same block; 0 if identical. */
static int one_run(const bench_opts *o, unsigned run, pel_engine *seq, pel_engine *eng, bench_out *out)
{
    bench_env env;
    pel_block_result a, b;
    uint8_t dg[32];
    int rc = env_make(o, run, &env);
    if (rc == 0) rc = timed(seq, &env, (uint32_t)o->txs, &a, &out->seq[run]);
    if (rc == 0) {
        rc = timed(eng, &env, (uint32_t)o->txs, &b, &out->eng[run]);
        if (rc == 0) {
            if (memcmp(a.digest, b.digest, 32) != 0) {
                fprintf(stderr, "pel: engine result differs from the sequential result (run %u)\n", run);
                rc = -1;
            }
            out->executions += b.stats.executions;
            out->aborts += b.stats.aborts;
            pel_bench_phases_add(out->ph, (unsigned)o->runs, run, &b.stats);
            if (rc == 0 && pel_memstate_apply(env.ms, &b.block_writes) == 0
                && pel_memstate_digest(env.ms, dg) == 0)
                pel_hex_encode(dg, 32, out->digest);
            pel_block_result_free(&b);
        }
        pel_block_result_free(&a);
    }
    env_free(&env);
    return rc;
}

/* report - medians and minima of both engines (bench_stats.h), and for
 * Block-STM its phases. */
static void report(const bench_opts *o, bench_out *out)
{
    unsigned runs = (unsigned)o->runs;
    double ts = pel_bench_median(out->seq, runs), te = pel_bench_median(out->eng, runs);
    const char *name = pel_engine_kind_name(o->kind);
    int phases = o->kind == PEL_ENGINE_BLOCKSTM;
    if (o->json) {
        printf("{\"engine\":\"%s\",\"threads\":%llu,\"accounts\":%llu,\"txs\":%llu,\"work\":%llu,"
               "\"hot_recipient_pct\":%llu,\"credit\":\"%s\",\"runs\":%llu,"
               "\"tps_median\":%.0f,\"seconds_median\":%.6f,\"speedup_vs_sequential\":%.3f,"
               "\"sequential_tps_median\":%.0f,\"seconds_min\":%.6f,\"sequential_seconds_min\":%.6f,"
               "\"executions_per_tx\":%.3f,\"state_digest\":\"%s\"",
               name, o->threads, o->accounts, o->txs, o->work, o->hot,
               o->credit == PEL_SYNTH_CREDIT_DELTA ? "delta" : o->credit == PEL_SYNTH_NO_DELTA ? "none" : "rmw",
               o->runs, (double)o->txs / te, te, ts / te,
               (double)o->txs / ts, out->eng[0], out->seq[0],
               (double)out->executions / (double)(o->txs * o->runs), out->digest);
        if (phases) pel_bench_phases_json(out->ph, runs);
        printf("}\n");
    } else {
        printf("%-10s threads=%-3llu accounts=%-8llu txs=%-8llu %10.0f tx/s  %8.3f ms  %.2fx sequential (%.0f tx/s)\n",
               name, o->threads, o->accounts, o->txs, (double)o->txs / te, te * 1e3, ts / te,
               (double)o->txs / ts);
        if (phases) pel_bench_phases_text(out->ph, runs);
    }
    fflush(stdout);
}

static int bench_exec(const bench_opts *o)
{
    pel_engine *seq = NULL, *eng = NULL;
    pel_engine_opts so = pel_engine_defaults(PEL_ENGINE_SEQUENTIAL, 1);
    pel_engine_opts eo = pel_engine_defaults(o->kind, (unsigned)o->threads);
    bench_out out = { calloc(o->runs, sizeof(double)), calloc(o->runs, sizeof(double)),
                      calloc(o->runs * PEL_PHASES, sizeof(double)), "", 0, 0 };
    int rc = !out.seq || !out.eng || !out.ph ? -1 : 0;
    if (rc == 0) rc = pel_engine_new(&so, &seq);
    if (rc == 0) rc = pel_engine_new(&eo, &eng);
    for (unsigned r = 0; rc == 0 && r < o->runs; r++) rc = one_run(o, r, seq, eng, &out);
    if (rc == 0) report(o, &out);
    else fprintf(stderr, "pel: bench failed: %s\n", rc < 0 && rc != -1 ? pel_strerror(rc) : "see above");
    pel_engine_free(seq);
    pel_engine_free(eng);
    free(out.seq);
    free(out.eng);
    free(out.ph);
    return rc == 0 ? 0 : 1;
}

/* take_workload - find and remove "--workload transfers|science" from
 * argv[1..argc) (the last one given wins); *science = 1 for science.
 * @return 0, or -1 (printed). */
static int take_workload(int *argc, char **argv, int *science)
{
    int w = 1;
    for (int r = 1; r < *argc; r++) {
        if (strcmp(argv[r], "--workload") != 0) { argv[w++] = argv[r]; continue; }
        const char *v = r + 1 < *argc ? argv[r + 1] : "";
        if (strcmp(v, "transfers") != 0 && strcmp(v, "science") != 0) {
            fprintf(stderr, "pel: --workload must be transfers or science\n");
            return -1;
        }
        *science = !strcmp(v, "science");
        r++;
    }
    *argc = w;
    return 0;
}

int pel_cli_bench(int argc, char **argv)
{
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) { bench_usage(stdout); return 0; }
    if (argc >= 1 && !strcmp(argv[0], "verify")) return pel_cli_bench_verify(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "trees")) return pel_cli_bench_trees(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "science")) return pel_cli_bench_science(argc - 1, argv + 1);
    if (argc < 1 || strcmp(argv[0], "exec") != 0) {
        fprintf(stderr, "pel: usage: pel bench exec|verify|trees|science [options] (see pel bench --help)\n");
        return 2;
    }
    int science = 0;
    if (take_workload(&argc, argv, &science)) return 2;
    if (science) return pel_cli_bench_science(argc - 1, argv + 1);
    bench_opts o;
    int prc = parse(argc - 1, argv + 1, &o);
    if (prc) return prc > 0 ? 0 : 2;
    return bench_exec(&o);
}
