/*
 * scheduler.h — workers: the threads that run coroutines. See scheduler.c for the
 * design essay (what a worker owns, how a coroutine is suspended and woken,
 * why switches go straight from one coroutine to the next). Layer: sched
 * (src/sched/README.md); it includes base/ and machine/, never job/ or above.
 */
#ifndef KIN_SCHED_H
#define KIN_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "machine/context.h"
#include "machine/stack.h"
#include "sched/coro.h"
#include "sched/dispatcher.h"
#include "sched/poll.h"
#include "sched/ring.h"
#include "sched/timer.h"

/* kin__coro.park (see "SUSPENSION PROTOCOL" in scheduler.c) */
enum {
    KIN__RUNNING = 0,       /* running, or queued to run */
    KIN__PARKED = 1,        /* suspended and switched out */
    KIN__NOTIFIED = 2,      /* woken before it parked: next park returns */
    KIN__PARKING = 3,       /* Unconfined only: suspended, not yet out */
    KIN__PARKING_WOKEN = 4, /* woken while PARKING: its thread queues it */
};

struct kin__worker {
    /* ---- owned by the worker's thread ---- */
    kin__ctx sched_ctx;  /* the thread's own stack, running the loop */
    kin__coro *current;   /* the running coroutine; NULL on sched_ctx */
    kin__coro *runq_head; /* FIFO of runnable coroutines (run_next) */
    kin__coro *runq_tail;
    kin__coro *runnext; /* runs before the queue (UNDISPATCHED parent) */
    kin__coro *zombie;  /* finished coroutine whose stack to release */
    kin__coro *parking; /* Unconfined coroutine that just switched out */
    kin__timer_heap timers;
    kin__stack_pool stacks;
    bool in_loop;          /* kin__run_loop is on this thread's stack */
    bool return_to_caller; /* UNDISPATCHED start from plain code */
    bool hosted;           /* Main hosted in the thread's own event loop
                              (kin_main_attach): that loop waits, kin only
                              runs what is ready (kin__run_ready) */
    pthread_t thread;

    /* ---- shared with other threads ---- */
    _Atomic(kin__coro *) inbox; /* LIFO pushed by other threads */
    atomic_int stop;           /* ask running coroutines to yield the loop */
    atomic_int sleeping;       /* the loop is (about to be) blocked in cv */
    atomic_int wake_token;     /* an unpark that must not be lost */
    pthread_mutex_t mu;        /* leaf lock, guards only the cv wait */
    pthread_cond_t cv;
    atomic_int poll_wake;      /* the poller's eventfd + 1; 0: none yet, the
                                  loop sleeps in cv (set once, by owner) */
    kin__poller *poller;       /* owner: epoll + eventfd, made on the first
                                  fd wait (sched/poll.c) */

    /* ---- dispatching ---- */
    kin__pool *pool;          /* [immutable] its pool; NULL for a loop */
    kin_dispatcher *disp;     /* what its loop runs: a pool's, Main, or
                                 loop_disp (owner thread) */
    kin_dispatcher loop_disp; /* this thread's run_blocking dispatcher */
    kin__ring ring;           /* Default: new coroutines, stealable */
    kin__worker *idle_next;   /* [pool mu] idle list link */
    bool idle;                /* [pool mu] on the idle list */
    atomic_bool spinning;     /* counted in pool->nspinning */
    unsigned tick;            /* owner: fairness between queues */
    uint32_t rng;             /* owner: victim choice when stealing */
    int sealed_pending;       /* owner: finished coroutines whose wake-up
                                 item is still on its way to the inbox
                                 (scheduler.c, seal_remote_wakes); the
                                 worker may not go before it lands */
    long live;                /* IO workers: coroutines started here, not
                                 finished (owner). Exact because Unconfined
                                 coroutines never move to or from IO. */
    int index;                /* [immutable] position in the pool */

    /* ---- virtual time (kin_run_test): owner thread ---- */
    bool virtual_time; /* the loop jumps its clock to the next timer */
    int64_t vnow;      /* the virtual clock, ns */
    int64_t vbase;     /* vnow when the test started (whole ms) */
    /* kin_test_advance_*: one coroutine of this loop waits until the loop
     * has nothing left to run before vlimit (INT64_MAX: at all); the loop
     * then sets vnow to vlimit, sets *vfired and wakes it. */
    kin__coro *vwaiter;
    atomic_bool *vfired;
    int64_t vlimit;

    /* ---- sanitizer bookkeeping for the thread's own stack ---- */
    void *tsan_fiber;
    void *asan_fake;
    const void *asan_bottom;
    size_t asan_size;
};

/* Per thread: its worker (if it runs kin) and the current error of plain
 * code. Initial-exec TLS: one instruction to reach. Owned by the thread. */
typedef struct kin__thread {
    kin__worker *worker;
    kin_error *error; /* current error of plain code on this thread */
    bool registered;
    const char *site_file; /* kin_launch_site: for the next launch */
    int site_line;
} kin__thread;
extern __thread kin__thread kin__t_self
    __attribute__((tls_model("initial-exec")));

/* The calling thread's worker, made on first use; NULL if out of memory. */
kin__worker *kin__worker_self(void);

/* The calling thread's worker if it has one (no allocation). */
static inline kin__worker *kin__worker_peek(void) {
    return kin__t_self.worker;
}

/* The running coroutine of the calling thread, or NULL in plain code. */
static inline kin__coro *kin__current_coro(void) {
    kin__worker *w = kin__t_self.worker;
    return w ? w->current : NULL;
}

/* Appends co to w's local run queue; w must be the calling thread's. */
static inline void kin__runq_push(kin__worker *w, kin__coro *co) {
    co->run_next = NULL;
    if (w->runq_tail)
        w->runq_tail->run_next = co;
    else
        w->runq_head = co;
    w->runq_tail = co;
}

/* Makes the calling thread a worker of pool p and runs its loop until the
 * pool lets it go; frees the worker before returning. */
void kin__worker_serve(kin__pool *p, int index);

/* Frees a worker that no thread uses any more (its stacks and timers). */
void kin__worker_free(kin__worker *w);

/* Queues co (new or woken) on w: locally if w is this thread's worker, else
 * through w's inbox. */
void kin__worker_push(kin__worker *w, kin__coro *co);

/* Sleeps the calling worker until deadline, an inbox push or an unpark. */
void kin__worker_sleep(kin__worker *w, int64_t deadline);

/* Wakes w's thread if it sleeps in kin__worker_sleep. */
void kin__worker_unpark(kin__worker *w);

/* Starts co now on the calling thread and returns when it first suspends
 * or finishes (KIN_START_UNDISPATCHED). */
void kin__start_undispatched(kin__coro *co);

/* Makes a parked coroutine runnable (any thread). If it is not parked, its
 * next park returns at once instead. */
void kin__wake(kin__coro *co);

/* Suspends the calling coroutine until kin__wake; may return spuriously, so
 * callers loop on their condition. */
void kin__park(kin__coro *co);

/* Queues co at the tail of its worker's run queue and runs the others. */
void kin__yield_to_others(kin__coro *co);

/* Monotonic time of the worker's clock, in nanoseconds. */
int64_t kin__now(kin__worker *w);

/* Ends the loop of w (kin__run_loop returns once *done reads true): sets
 * its stop flag and wakes its thread. Any thread. */
void kin__loop_stop(kin__worker *w);

/* Runs the calling thread's loop until *done reads true after a
 * kin__loop_stop. */
void kin__run_loop(kin__worker *w, atomic_bool *done);

/* Runs each coroutine queued on the calling thread's loop right now once,
 * up to its next suspension (the end of kin_run_blocking). */
void kin__run_queued(kin__worker *w);

/* Switches the calling thread's loop to virtual time (on) or back. */
void kin__worker_set_virtual(kin__worker *w, bool on);

/* Virtual time only: co (running on w, a loop with virtual time) waits
 * until w has nothing left to run before `limit` (INT64_MAX: until idle,
 * whatever the time), then w's clock is moved to limit (never back),
 * *fired is set and co woken (kotlinx-coroutines-test's advanceTimeBy,
 * runCurrent, advanceUntilIdle). The caller parks until *fired; if it
 * stops waiting early (cancelled) it calls kin__virtual_wait_end. Returns
 * false if another coroutine of w is already waiting. */
bool kin__virtual_wait_begin(kin__worker *w, kin__coro *co,
                             atomic_bool *fired, int64_t limit);
void kin__virtual_wait_end(kin__worker *w, kin__coro *co);

/* ---- A host's event loop driving this thread's loop (kin_main_attach) ----
 * The host waits (poll, epoll, libuv, GLib) on kin__host_fd's fd with
 * kin__host_timeout_ms as its timeout, then calls kin__run_ready. */

/* Makes w hosted (or not). Making it hosted creates its poller (epoll and
 * eventfd): returns 0, KIN_ENOMEM or -errno. Owner thread, plain code. */
int kin__host_set(kin__worker *w, bool on);

/* The fd the host waits on: w's epoll. Readable when another thread queued
 * work on w (its eventfd is in the epoll) or an fd a coroutine of w waits
 * on is ready. */
int kin__host_fd(kin__worker *w);

/* How long the host may wait, in ms: 0 if w has work now (a coroutine
 * queued, by any thread, a timer due), the time to the next timer rounded
 * up, or -1 (no timer: wait for the fd). Also re-arms the wake-up through
 * the eventfd (`sleeping`), so that work queued by another thread after
 * this look makes the fd readable. Owner thread. */
int kin__host_timeout_ms(kin__worker *w);

/* Runs, without blocking, what is ready on w now: fires due timers, takes
 * the inbox and ready fds, then runs each coroutine queued at that moment
 * once, up to its next suspension (what they queue meanwhile waits for the
 * next call). Returns how many ran. Owner thread, plain code, not in a
 * loop. */
int kin__run_ready(kin__worker *w);

#endif
