/*
 * demo.c - `pel demo`: what `make run` starts until the node exists.
 *
 * Executes a few blocks of random transfers and mixed synthetic
 * transactions through all three engines, shows that their results are
 * identical, and prints throughput and the state digest after each block.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/hex.h"
#include "exec/engine.h"
#include "exec/synth.h"

#define DEMO_ENGINES 3

/* demo_block - run one block through each engine; apply it if they agree. */
static int demo_block(pel_engine **eng, pel_synth *s, pel_memstate *ms, const pel_txdesc *d,
                      uint32_t n, unsigned height)
{
    pel_state st = pel_memstate_reader(ms);
    pel_executor ex = pel_synth_executor(s);
    pel_block_result r[DEMO_ENGINES];
    double secs[DEMO_ENGINES];
    int rc = 0, k;
    for (k = 0; k < DEMO_ENGINES && rc == 0; k++) {
        double t0 = pel_mono_s();
        rc = pel_engine_execute(eng[k], &st, d, n, &ex, &r[k]);
        secs[k] = pel_mono_s() - t0;
        if (rc == 0 && (rc = pel_block_result_digest(&r[k])) != 0) pel_block_result_free(&r[k]);
    }
    if (rc) { while (--k > 0) pel_block_result_free(&r[k - 1]); return rc; }
    int same = !memcmp(r[0].digest, r[1].digest, 32) && !memcmp(r[0].digest, r[2].digest, 32);
    uint32_t failed = 0;
    for (uint32_t i = 0; i < n; i++) failed += r[0].receipts[i].status != 0;
    if (same) rc = pel_memstate_apply(ms, &r[0].block_writes);
    uint8_t dg[32];
    char hex[65] = "?";
    if (rc == 0 && pel_memstate_digest(ms, dg) == 0) pel_hex_encode(dg, 32, hex);
    printf("block %u: %u txs (%u failed), %u keys written, engines %s\n", height, n, failed,
           r[0].block_writes.n, same ? "agree" : "DISAGREE");
    for (k = 0; k < DEMO_ENGINES; k++)
        printf("  %-10s %9.0f tx/s  (%llu executions, %llu aborts)\n",
               pel_engine_kind_name((pel_engine_kind)k), n / secs[k],
               (unsigned long long)r[k].stats.executions, (unsigned long long)r[k].stats.aborts);
    printf("  state digest %.16s…\n", hex);
    for (k = 0; k < DEMO_ENGINES; k++) pel_block_result_free(&r[k]);
    return same ? rc : -1;
}

int pel_cli_demo(int argc, char **argv)
{
    if (argc > 0) {
        int help = !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h");
        fprintf(help ? stdout : stderr, "usage: pel demo\n"
                "Runs blocks through the sequential, Block-STM and declared-access engines\n"
                "and shows that their results are identical.\n");
        return help ? 0 : 2;
    }
    pel_engine *eng[DEMO_ENGINES] = { 0 };
    pel_synth s;
    pel_memstate *ms = NULL;
    pel_rng rng = { 42 };
    int rc = pel_synth_init(&s, 10000, 50000);
    if (rc == 0) rc = pel_memstate_new(&ms);
    if (rc == 0) rc = pel_synth_genesis(&s, ms, 1000000000, &rng);
    for (int k = 0; rc == 0 && k < DEMO_ENGINES; k++) {
        pel_engine_opts o = pel_engine_defaults((pel_engine_kind)k, 2);
        rc = pel_engine_new(&o, &eng[k]);
    }
    pel_synth_mix mix = { .weight = { 20, 2, 3, 1, 1, 1, 2, 1, 1 }, .declare_pct = 100, .max_loops = 1000 };
    printf("PEL engine demo: 2 threads, 10000 accounts, blocks of 10000 transactions\n");
    for (unsigned h = 1; rc == 0 && h <= 6; h++) {
        pel_arena a;
        pel_synth_tx *txs;
        pel_txdesc *d;
        pel_arena_init(&a, 0);
        rc = h % 2 ? pel_synth_transfers(&s, &rng, 10000, 1, &a, &txs, &d)
                   : pel_synth_block(&s, &rng, 10000, &mix, &a, &txs, &d);
        if (rc == 0) rc = demo_block(eng, &s, ms, d, 10000, h);
        pel_arena_free(&a);
    }
    for (int k = 0; k < DEMO_ENGINES; k++) pel_engine_free(eng[k]);
    pel_memstate_free(ms);
    pel_synth_free(&s);
    if (rc) fprintf(stderr, "pel demo: failed: %s\n", rc == -1 ? "engines disagree" : pel_strerror(rc));
    return rc ? 1 : 0;
}
