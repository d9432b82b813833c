/*
 * misc.c — version, fatal errors, the spinlock's slow path.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/kin_assert.h"
#include "base/lock.h"
#include "kin.h"

const char *kin_version(void) {
    return KIN_VERSION_STRING;
}

void kin__fatal(const char *msg) {
    static const char prefix[] = "kin: ";
    ssize_t r = write(2, prefix, sizeof prefix - 1);
    r = write(2, msg, strlen(msg));
    r = write(2, "\n", 1);
    (void)r;
    abort();
}

void kin__assert_fail(const char *cond, const char *file, int line) {
    char buf[512];
    snprintf(buf, sizeof buf, "internal error: %s (%s:%d)", cond, file, line);
    kin__fatal(buf);
}

void kin__lock_slow(kin__lock *l) {
    for (unsigned spins = 0;; spins++) {
        if (!atomic_load_explicit(&l->held, memory_order_relaxed) &&
            !atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
            return;
        if (spins < 64)
            kin__cpu_relax();
        else
            sched_yield(); /* the holder may have been preempted */
    }
}
