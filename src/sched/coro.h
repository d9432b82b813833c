/*
 * coro.h — a coroutine as the scheduler sees it, and the five functions the
 * scheduler needs from the layer above.
 *
 * The scheduler runs, suspends, wakes and moves coroutines; it does not know
 * what a job is. A kin__coro is embedded in each job record (job/job.h:
 * kin__job.sched), so spawning stays one allocation; the job layer converts
 * with kin__job_of(). Everything here is about running: the saved context,
 * the stack, the run-queue link, the park word and the home worker.
 *
 * CALLS UP (declared here, implemented by job/coroutine.c). The scheduler
 * owns this interface; the job layer fills it in. Each is one direct call,
 * made at a point where only the job layer knows what to do:
 *   kin__coro_may_start  before the first run, only if cancel_hint is set:
 *                        false if the coroutine must not run (cancelled
 *                        before it started); the job layer has then
 *                        completed it and dropped the scheduler's reference.
 *   kin__coro_no_stack   no stack could be had: fail the coroutine
 *                        (KIN_ENOMEM) and drop the scheduler's reference.
 *   kin__coro_main       on the coroutine's own stack: run the body to its
 *                        end and complete the job. Returns; the scheduler
 *                        then switches away for the last time.
 *   kin__coro_retire     the finished coroutine's stack went back to the
 *                        pool: drop the references the scheduler held.
 *   kin__coro_name       its display name, for overflow reports
 *                        (async-signal-safe: no allocation, no lock).
 *
 * WHO OWNS WHAT: fields marked [home] belong to the thread of the
 * coroutine's home worker once it has started; other threads write only
 * remote_wake and wake_next (kin__wake), and park of an Unconfined one;
 * run_next is written by whoever holds the coroutine in a queue (see "SUSPENSION PROTOCOL" in scheduler.c).
 */
#ifndef KIN_SCHED_CORO_H
#define KIN_SCHED_CORO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sanitizer.h"
#include "kin.h"
#include "machine/context.h"
#include "machine/stack.h"

typedef struct kin__coro kin__coro;
typedef struct kin__worker kin__worker;

struct kin__coro {
    kin__coro *run_next; /* run queue / inbox / pool queue link */
    kin__worker *home;   /* [home] the worker it runs on */
    /* [immutable] where it runs; for a job that is not a coroutine (a
     * scope, a root), the dispatcher its children inherit */
    struct kin_dispatcher *dispatcher;
    /* KIN__RUNNING / PARKED / ... (scheduler.h): a pinned coroutine's is
     * its home thread's alone; an Unconfined one's any waker's (atomics) */
    atomic_int park;
    /* Pinned coroutines, wakes from other threads (wake_remote in
     * scheduler.c): REMOTE_QUEUED while a wake-up item is in the home's
     * inbox, linked by wake_next; REMOTE_SEALED once it has finished. */
    atomic_int remote_wake;
    kin__coro *wake_next;
    bool retire_on_take; /* [home] finished, its record kept for the item */
    bool started;         /* [home] */
    /* Set (relaxed) by the job layer when the job is cancelled, so the
     * first run asks kin__coro_may_start only then: a hint, since a
     * cancellation racing the start is seen at the first suspension. */
    atomic_bool cancel_hint;
    uint32_t stack_size;  /* [immutable] rounded, bytes */
    int timers_armed;     /* [home] pins an Unconfined coroutine */
    kin__stack *stack;    /* [home] NULL until it first runs */
    kin_error *error;     /* [home] the current-error slot (base/error.h) */
    kin__ctx ctx;         /* [home] saved context while suspended */
    /* For kin_dump: set by the coroutine, read by anyone (relaxed). */
    _Atomic uintptr_t dbg_sp;          /* stack pointer when it last parked */
    _Atomic(kin__worker *) dbg_home;   /* set when it starts */
    _Atomic(kin__stack *) dbg_stack;   /* set at start; the job layer clears
                                        * it when the body returns */
#if KIN__TSAN
    void *tsan_fiber; /* [home] */
#endif
#if KIN__ASAN
    void *asan_fake; /* [home] */
#endif
};

/* ---- Implemented by the layer above (job/coroutine.c, job/slot.c) ---- */
bool kin__coro_may_start(kin__coro *co);
void kin__coro_no_stack(kin__coro *co);
void kin__coro_main(kin__coro *co);
void kin__coro_retire(kin__coro *co);
void kin__coro_name(const kin__coro *co, char *buf, size_t len);

#endif
