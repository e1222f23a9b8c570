/*
 * cpu.h - how many CPUs this process may run on: the default size of every
 * worker pool (engine, signature verification, load generator signers).
 *
 * This is the process's CPU affinity mask (taskset, cpusets, container CPU
 * pinning), not the machine's online CPUs: a node pinned to two cores of a
 * sixteen-core machine starts two verification workers, not sixteen that
 * would contend for two cores.
 *
 * Thread safety: no state.
 */
#ifndef PEL_CPU_H
#define PEL_CPU_H

/* pel_cpu_count - the CPUs in this process's affinity mask; the online
 * CPUs where the mask cannot be read; at least 1. */
unsigned pel_cpu_count(void);

#endif
