/*
 * fault.c — allocation fault injection (built with -DKIN_FAULT_INJECTION
 * only). Every allocation kin makes (alloc.h's wrappers, job records, stack
 * mappings) asks kin__fault_hit(); when armed for N, the Nth one fails.
 * The sweep test (tests/fault/) arms N = 1, 2, ... in a child process each
 * and checks that the failure is reported, leaks nothing and leaves the
 * job tree consistent. KIN_FAULT_AT=N in the environment arms it at start.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "base/alloc.h"

static atomic_long g_count;
static atomic_long g_fail_at = -1; /* -1: read KIN_FAULT_AT first */

int kin__fault_hit(void) {
    long at = atomic_load_explicit(&g_fail_at, memory_order_relaxed);
    if (at < 0) {
        const char *e = getenv("KIN_FAULT_AT");
        at = e ? atol(e) : 0;
        atomic_store(&g_fail_at, at);
    }
    if (at == 0)
        return 0;
    return atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed) + 1 ==
           at;
}

void kin__fault_arm(long nth) {
    atomic_store(&g_count, 0);
    atomic_store(&g_fail_at, nth);
}

long kin__fault_count(void) {
    return atomic_load(&g_count);
}
