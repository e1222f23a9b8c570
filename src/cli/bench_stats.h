/*
 * bench_stats.h - what the in-memory benchmarks (pel bench exec, pel bench
 * science, pel bench trees) report over their runs: medians, minima (on a
 * noisy machine the least time is the most repeatable figure; the medians
 * stay the headline), and Block-STM's phase times (pel_exec_stats.phase_us).
 *
 * Thread safety: none needed (the CLI's thread).
 */
#ifndef PEL_CLI_BENCH_STATS_H
#define PEL_CLI_BENCH_STATS_H

#include "exec/engine.h"

/* pel_bench_median - the median of v[0, n); sorts v, so v[0] is then the
 * minimum. n >= 1. */
double pel_bench_median(double *v, unsigned n);

/* Phase times of `runs` blocks: ph[phase * runs + run], in milliseconds. */
void pel_bench_phases_add(double *ph, unsigned runs, unsigned run, const pel_exec_stats *st);
/* pel_bench_phases_json - ,"phases_ms_median":{...},"phases_ms_min":{...}
 * (sorts each phase's times). */
void pel_bench_phases_json(double *ph, unsigned runs);
/* pel_bench_phases_text - one indented line: each phase's median (min). */
void pel_bench_phases_text(double *ph, unsigned runs);

#endif
