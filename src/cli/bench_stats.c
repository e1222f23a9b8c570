/*
 * bench_stats.c - medians, minima and Block-STM's phases for the in-memory
 * benchmarks (see bench_stats.h).
 */
#include "cli/bench_stats.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const phase_names[PEL_PHASES] = { "setup", "execute", "materialise", "sequential_tail",
                                                      "write_set" };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pel_bench_median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void pel_bench_phases_add(double *ph, unsigned runs, unsigned run, const pel_exec_stats *st)
{
    for (unsigned p = 0; p < PEL_PHASES; p++) ph[p * runs + run] = (double)st->phase_us[p] / 1e3;
}

/* medians and minima of every phase (sorting each phase's times) */
static void phase_stats(double *ph, unsigned runs, double *med, double *min)
{
    for (unsigned p = 0; p < PEL_PHASES; p++) {
        med[p] = pel_bench_median(ph + p * runs, runs);
        min[p] = ph[p * runs];
    }
}

void pel_bench_phases_json(double *ph, unsigned runs)
{
    double v[2][PEL_PHASES];
    phase_stats(ph, runs, v[0], v[1]);
    for (int m = 0; m < 2; m++) {
        printf(",\"phases_ms_%s\":{", m ? "min" : "median");
        for (unsigned p = 0; p < PEL_PHASES; p++) printf("%s\"%s\":%.3f", p ? "," : "", phase_names[p], v[m][p]);
        printf("}");
    }
}

void pel_bench_phases_text(double *ph, unsigned runs)
{
    double med[PEL_PHASES], min[PEL_PHASES];
    phase_stats(ph, runs, med, min);
    printf("           Block-STM phases, median (min) ms: setup %.3f (%.3f), execute %.3f (%.3f), "
           "materialise %.3f (%.3f), sequential tail %.3f (%.3f), write set %.3f (%.3f)\n",
           med[0], min[0], med[1], min[1], med[2], min[2], med[3], min[3], med[4], min[4]);
}
