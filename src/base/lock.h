/*
 * lock.h — the small spinlock that guards each job.
 *
 * Critical sections under a job lock are short (link a child, flip a state,
 * detach a list), so a test-and-test-and-set lock beats a mutex: one atomic
 * exchange when uncontended, no system call, 4 bytes. After a short spin it
 * yields the CPU, which matters when a holder was preempted (the IO pool can
 * have more threads than cores).
 *
 * Debug builds can check a claim with KIN__ASSERT_HELD(lock): the lock does
 * not record its owner, so this catches "not held at all", which is the
 * common mistake.
 */
#ifndef KIN_LOCK_H
#define KIN_LOCK_H

#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>

#include "base/kin_assert.h"

typedef struct kin__lock {
    atomic_int held;
} kin__lock;

#define KIN__LOCK_INIT                                                         \
    { 0 }

static inline void kin__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void kin__lock_slow(kin__lock *l);

static inline void kin__lock_acquire(kin__lock *l) {
    if (!atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
        return;
    kin__lock_slow(l);
}

/* One exchange, no spinning: true if the lock is now held. For fast paths
 * that hand contention to an out-of-line function, so they keep no values
 * across a call (no callee-saved registers to save). */
static inline bool kin__lock_try(kin__lock *l) {
    return !atomic_exchange_explicit(&l->held, 1, memory_order_acquire);
}

static inline void kin__lock_release(kin__lock *l) {
    KIN__ASSERT(atomic_load_explicit(&l->held, memory_order_relaxed));
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

static inline int kin__lock_is_held(kin__lock *l) {
    return atomic_load_explicit(&l->held, memory_order_relaxed) != 0;
}

#define KIN__ASSERT_HELD(l) KIN__ASSERT(kin__lock_is_held(l))

#endif
