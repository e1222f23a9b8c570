/*
 * cpu.c - the CPU count of core/cpu.h, from sched_getaffinity.
 */
#include <sched.h>
#include <unistd.h>

#include "core/cpu.h"

unsigned pel_cpu_count(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return (unsigned)n;
    }
    long c = sysconf(_SC_NPROCESSORS_ONLN);   /* mask unreadable (or > 1024 CPUs) */
    return c > 0 ? (unsigned)c : 1;
}
