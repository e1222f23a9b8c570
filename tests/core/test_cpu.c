/*
 * test_cpu.c - pel_cpu_count (core/cpu.h) follows the affinity mask: it
 * counts the CPUs the process may run on, and shrinks to one when the
 * process is pinned to one CPU.
 */
#include <sched.h>
#include <unistd.h>

#include "core/cpu.h"
#include "test.h"

static void test_follows_affinity(void)
{
    cpu_set_t all;
    CPU_ZERO(&all);
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    unsigned n = pel_cpu_count();
    CHECK_EQ_INT(n, CPU_COUNT(&all));
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(n >= 1 && (long)n <= online);

    int first = -1;                               /* pin to the first allowed CPU */
    for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
        if (CPU_ISSET(c, &all)) first = c;
    CHECK(first >= 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    CHECK_EQ_INT(pel_cpu_count(), 1);
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);   /* restored */
    CHECK_EQ_INT(pel_cpu_count(), n);
}

int main(void)
{
    RUN(test_follows_affinity);
    return TEST_END("test_cpu");
}
