/*
 * scheduler.c — workers, run queues, suspension and wake-up, the loop.
 *
 * LAYER: sched (src/sched/README.md). It runs kin__coro records (coro.h)
 * and knows nothing of jobs: it calls up only through the functions coro.h
 * declares (kin__coro_main runs a body, kin__coro_may_start, _no_stack,
 * _retire, _name), which the job layer defines. It defines two calls up for
 * the layers below: kin__error_slot (base/error.h) and kin__running_stack
 * (machine/stack.h).
 *
 * GLOSSARY
 *   worker     one per thread that runs coroutines (the thread running
 *              kin_run_blocking; later the threads of the dispatchers). It
 *              owns a run queue, a timer heap, a stack pool and the thread's
 *              own stack, on which its loop runs ("sched_ctx").
 *   home       the worker a coroutine runs on. A coroutine is given a home
 *              when it is dispatched and keeps it once started, so its
 *              thread-locals (errno included) stay valid across suspension
 *              points; only coroutines that have not started may move.
 *   park       a coroutine suspends by parking; whoever makes it runnable
 *              wakes it, which queues it on its home worker.
 *
 * INVARIANTS
 *   - A coroutine is in at most one run queue or inbox as one to run (its
 *     run_next), and only while its park word is RUNNING or NOTIFIED
 *     (woken, or yielding); a wake-up item for it (its wake_next) may sit
 *     in its home's inbox meanwhile.
 *   - Only the home worker's thread runs a started coroutine, switches to or
 *     from it, or touches its [home] fields, the park word of a pinned one
 *     included; other threads only kin__wake it (for a pinned coroutine a
 *     wake-up item in the home's inbox; for an Unconfined one an atomic on
 *     park, then a push of the coroutine itself).
 *   - run queue, runnext, timers and stack pool are touched only by the
 *     worker's own thread. The inbox is a lock-free LIFO any thread pushes
 *     to; the worker takes it whole and reverses it to keep FIFO order.
 *
 * SUSPENSION PROTOCOL (no lost wake-ups, also across threads)
 *   park word: RUNNING -> PARKED by the coroutine itself (kin__park);
 *   PARKED -> RUNNING + enqueue by a waker; RUNNING -> NOTIFIED by a waker
 *   that came before the park, so the next park returns at once. Every wait
 *   is a loop that re-checks its condition, so a stale NOTIFIED costs one
 *   spurious return, never a lost event.
 *   A pinned coroutine's park word is written by its home thread only, with
 *   plain stores (a locked instruction is ~6 ns on the 2-core EPYC guest,
 *   and a channel ping-pong parked and woke twice a round trip). A waker on
 *   another thread queues a wake-up item in the home's inbox instead
 *   (wake_remote: one at a time per coroutine; a finished one is sealed
 *   against late wakers, and keeps its record and its worker until an
 *   item already on its way is taken); the home takes it when it next
 *   drains its inbox (at a pick, or after a sleep) and does the local wake
 *   then. A coroutine between publishing its wait and parking cannot miss
 *   it: the item is taken only by its own thread, after the park.
 *   An Unconfined coroutine may be queued by a waker on another thread
 *   (it moves to the waker's thread), so every transition of its park word
 *   is an atomic read-modify-write: it publishes PARKING, switches out,
 *   and the next context on its thread turns PARKING into PARKED
 *   (finish_park); a waker that finds PARKING marks it PARKING_WOKEN and
 *   leaves the queuing to that thread (Go's gopark does the same with its
 *   unlock function on g0). Waits that a cancellation must end are built
 *   on this by the job layer (kin__job_wait in job/coroutine.c).
 *
 * WHY DIRECT SWITCHES
 *   A coroutine that suspends picks the next runnable coroutine itself and
 *   switches straight to it, instead of returning to the loop first: one
 *   switch per hand-over, not two. It returns to sched_ctx only when nothing
 *   is runnable (the loop then sleeps until a timer or an inbox push) or
 *   when the loop must return (its run_blocking root completed: `stop`).
 *   The price is that a finished coroutine cannot free its own stack while
 *   running on it: it leaves itself in `zombie` and whoever runs next on
 *   that thread releases it.
 *
 * ORDERING (DESIGN rule 11): new coroutines and woken ones go to the tail of
 *   the queue; due timers are moved to the queue before each pick, as
 *   Kotlin's event loop does; so a single-threaded program prints in the
 *   order kotlinx.coroutines does.
 *
 * Rejected: a separate scheduler coroutine (two switches per hand-over);
 * per-coroutine mutexes for parking (a system call per wake under
 * contention); a global run queue (contention once there are many workers).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "base/sanitizer.h"
#include "sched/scheduler.h"

/* ---- Thread state ---------------------------------------------------------*/

__thread kin__thread kin__t_self __attribute__((tls_model("initial-exec")));
#define t_self kin__t_self
static pthread_key_t g_thread_key;
static pthread_once_t g_thread_once = PTHREAD_ONCE_INIT;

void kin__worker_free(kin__worker *w);
static void await_sealed_items(kin__worker *w);
static void seal_remote_wakes(kin__worker *w, kin__coro *co);

static void thread_exit(void *unused) {
    (void)unused;
    kin_error_release(t_self.error);
    t_self.error = NULL;
    kin__worker *w = t_self.worker;
    if (w)
        await_sealed_items(w);
    /* A worker with queued or sleeping coroutines cannot be torn down: they
     * would never run. Leave it (documented in kin.h). */
    if (w && !w->runq_head && !w->timers.n && !kin__poll_pending(w->poller) &&
        !atomic_load_explicit(&w->inbox, memory_order_acquire)) {
        t_self.worker = NULL;
        kin__worker_free(w);
        kin__stack_thread_fini();
    }
}

/* A wake-up item for a coroutine of w that has finished is on its way
 * (sealed_pending): its waker is between two instructions, so wait for
 * it to land and take it, which lets the coroutine's record go. */
static void drain_inbox(kin__worker *w);

static void await_sealed_items(kin__worker *w) {
    while (w->sealed_pending > 0) {
        if (atomic_load_explicit(&w->inbox, memory_order_acquire))
            drain_inbox(w);
        else
            sched_yield();
    }
}

static void thread_key_init(void) {
    pthread_key_create(&g_thread_key, thread_exit);
}

static void thread_register(void) {
    if (t_self.registered)
        return;
    pthread_once(&g_thread_once, thread_key_init);
    pthread_setspecific(g_thread_key, &t_self);
    t_self.registered = true;
}

/* base/error.h's current-error slot: the running coroutine's, else the
 * thread's. */
kin_error **kin__error_slot(void) {
    kin__worker *w = t_self.worker;
    if (w && w->current)
        return &w->current->error;
    thread_register();
    return &t_self.error;
}

/* ---- Workers ------------------------------------------------------------*/

static void thread_stack_bounds(kin__worker *w) {
#if KIN__ASAN
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    w->asan_bottom = addr;
    w->asan_size = size;
#else
    (void)w;
#endif
}

static kin__worker *worker_new(kin__pool *pool, int index) {
    kin__worker *w = kin__calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->pool = pool;
    w->index = index;
    w->rng = 0x9e3779b9u * (uint32_t)(index + 1);
    w->loop_disp.kind = KIN__DISP_LOOP;
    w->loop_disp.name = "run_blocking";
    atomic_init(&w->loop_disp.loop, w);
    w->disp = pool ? pool->disp : &w->loop_disp;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mu, NULL);
    w->thread = pthread_self();
    thread_stack_bounds(w);
#if KIN__TSAN
    w->tsan_fiber = __tsan_get_current_fiber();
#endif
    kin__stack_thread_init();
    thread_register();
    t_self.worker = w;
    return w;
}

kin__worker *kin__worker_self(void) {
    kin__worker *w = t_self.worker;
    if (KIN__LIKELY(w != NULL))
        return w;
    return worker_new(NULL, 0);
}

void kin__worker_free(kin__worker *w) {
    kin__stack_pool_drain(&w->stacks);
    kin__timer_heap_free(&w->timers);
    kin__poller_free(w->poller);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    kin__free(w);
}

/* ---- Clock ---------------------------------------------------------------*/

static int64_t real_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t kin__now(kin__worker *w) {
    if (KIN__UNLIKELY(w->virtual_time))
        return w->vnow;
    return real_now();
}

/* Virtual time starts at the real clock's reading (the timing wheel's
 * position is an absolute tick) and, when switched off, the wheel is moved
 * back to the real clock if it is empty. Timers left armed across the
 * switch keep the clock they were armed on. */
void kin__worker_set_virtual(kin__worker *w, bool on) {
    if (on) {
        /* a whole millisecond: delays of whole ms then end on the wheel's
         * ticks exactly, so a timer due at the limit of an advance is not
         * "a fraction later" (kin_test_advance_time_by) */
        int64_t t = real_now();
        w->vnow = w->vbase = (t + 999999) / 1000000 * 1000000;
        w->virtual_time = true;
        return;
    }
    w->virtual_time = false;
    if (w->vwaiter) { /* left inside kin_test_advance_* when the test
                         ended: it returns at the thread's next loop */
        atomic_store_explicit(w->vfired, true, memory_order_release);
        kin__wake(w->vwaiter);
        w->vwaiter = NULL;
    }
    if (w->timers.n == 0)
        kin__timer_reset(&w->timers, real_now());
}

/* ---- Queues --------------------------------------------------------------*/

#define runq_push kin__runq_push

static inline kin__coro *runq_pop(kin__worker *w) {
    kin__coro *co = w->runq_head;
    if (co) {
        kin__coro *n1 = co->run_next;
        w->runq_head = n1;
        if (!n1)
            w->runq_tail = NULL;
        co->run_next = NULL;
        /* A long queue of parked coroutines does not fit in the caches:
         * resuming each one misses on its record and on its stack top (and
         * the TLB), ~0.3 us a miss in a VM. Fetch ahead: the record two
         * places on (n1's was fetched at the last pop) and the frames at
         * the top of n1's stack, which its resumption walks back up. The
         * scheduler knows only its own record: the rest of the job around
         * it is the job layer's business. */
        kin__coro *n2 = n1 ? n1->run_next : NULL;
        if (n2) { /* three or more queued: not a ping-pong of two */
            for (size_t k = 0; k < sizeof *n2; k += 64)
                __builtin_prefetch((char *)n2 + k, 1);
            const char *sp = kin__ctx_sp(&n1->ctx);
            if (sp)
                for (int k = 0; k < 8; k++)
                    __builtin_prefetch(sp + 64 * k, 1);
        }
    }
    return co;
}

/* The inbox holds two kinds of item, told apart by the low bit of the
 * pointer that names one (records are aligned): a coroutine to queue (bit
 * clear, linked through run_next: kin__worker_push) and a wake-up of a
 * pinned coroutine from another thread (bit set, linked through wake_next:
 * wake_remote). A coroutine may be queued here both ways at once. */
#define INBOX_WAKE ((uintptr_t)1)

/* kin__coro.remote_wake (see wake_remote) */
#define REMOTE_QUEUED 1
#define REMOTE_SEALED 2

static inline kin__coro *inbox_wake_item(kin__coro *co) {
    return (kin__coro *)((uintptr_t)co | INBOX_WAKE);
}

static inline kin__coro *inbox_coro(kin__coro *item) {
    return (kin__coro *)((uintptr_t)item & ~INBOX_WAKE);
}

static inline kin__coro **inbox_link(kin__coro *item) {
    kin__coro *co = inbox_coro(item);
    return ((uintptr_t)item & INBOX_WAKE) ? &co->wake_next : &co->run_next;
}

static void take_remote_wake(kin__worker *w, kin__coro *co);

static void drain_inbox(kin__worker *w) {
    kin__coro *list =
        atomic_exchange_explicit(&w->inbox, NULL, memory_order_acquire);
    kin__coro *fifo = NULL;
    while (list) { /* the inbox is LIFO: reverse it */
        kin__coro **link = inbox_link(list);
        kin__coro *next = *link;
        *link = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        kin__coro *item = fifo;
        fifo = *inbox_link(item); /* before the item may be queued again */
        if ((uintptr_t)item & INBOX_WAKE)
            take_remote_wake(w, inbox_coro(item));
        else
            runq_push(w, item);
    }
}

/* Wakes the worker's loop if it is blocked in its condition variable (or
 * in epoll_wait, once it has a poller: then through its eventfd), or
 * makes its next sleep return at once: the token closes the window between
 * the worker's last look for work and its wait (store token, then read
 * sleeping; the sleeper stores sleeping, then reads the token). A worker
 * that has made its poller sleeps only in epoll_wait from then on, and it
 * made the poller before storing `sleeping` for that sleep, so a waker
 * that reads sleeping == 1 reads poll_wake too (seq_cst). A waker that
 * read the flag of an earlier cv sleep signals the cv in vain, but its
 * token was stored before that sleep ended, and the worker looks for work
 * after every sleep. */
void kin__worker_unpark(kin__worker *w) {
    atomic_store(&w->wake_token, 1);
    if (atomic_load(&w->sleeping)) {
        int efd = atomic_load(&w->poll_wake) - 1;
        if (efd >= 0) {
            uint64_t one = 1;
            ssize_t r = write(efd, &one, sizeof one);
            (void)r; /* EAGAIN: the counter is full, it is readable */
            return;
        }
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

static void inbox_push(kin__worker *w, kin__coro *item) {
    kin__coro **link = inbox_link(item);
    kin__coro *head = atomic_load_explicit(&w->inbox, memory_order_relaxed);
    do {
        *link = head;
    } while (!atomic_compare_exchange_weak(&w->inbox, &head, item));
    kin__worker_unpark(w);
}

void kin__worker_push(kin__worker *w, kin__coro *co) {
    if (w == t_self.worker) {
        runq_push(w, co);
        return;
    }
    inbox_push(w, co);
}

/* ---- Switching ----------------------------------------------------------*/

static void release_zombie(kin__worker *w) {
    kin__coro *z = w->zombie;
    w->zombie = NULL;
    kin__stack_put(&w->stacks, z->stack);
    z->stack = NULL;
    if (w->pool && w->pool->disp->kind == KIN__DISP_IO)
        w->live--;
#if KIN__TSAN
    /* A fiber per coroutine, not per stack: TSan keeps a shadow call stack
     * per fiber, and a finished coroutine never returns from its frames. */
    __tsan_destroy_fiber(z->tsan_fiber);
    z->tsan_fiber = NULL;
#endif
    if (KIN__UNLIKELY(atomic_load_explicit(&z->remote_wake,
                                           memory_order_relaxed) &
                      REMOTE_QUEUED))
        z->retire_on_take = true; /* take_remote_wake retires it */
    else
        kin__coro_retire(z);
}

/* First thing after every switch lands on a stack (and at a coroutine's
 * first entry): finish the sanitizer hand-over, free the finished one. */
static void wake_push(kin__coro *co);

/* An Unconfined coroutine has switched out completely: it may now be run
 * by any thread. If a waker came while it was switching out, queue it. */
static void finish_park(kin__worker *w) {
    kin__coro *co = w->parking;
    w->parking = NULL;
    int expected = KIN__PARKING;
    if (atomic_compare_exchange_strong(&co->park, &expected, KIN__PARKED))
        return;
    KIN__ASSERT(expected == KIN__PARKING_WOKEN);
    atomic_store(&co->park, KIN__RUNNING);
    wake_push(co);
}

static inline void after_switch(kin__worker *w, kin__coro *self) {
#if KIN__ASAN
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(self ? self->asan_fake : w->asan_fake,
                                    &bottom, &size);
#else
    (void)self;
#endif
    if (w->zombie)
        release_zombie(w);
    if (KIN__UNLIKELY(w->parking != NULL))
        finish_park(w);
}

static void overflow(kin__coro *co) {
    char name[64];
    kin__coro_name(co, name, sizeof name);
    kin__stack_overflow(co->stack, name);
}

/* Switches from `from` to `to` (NULL: the loop's sched_ctx). Returns when
 * something switches back to `from` — on another thread if `from` is an
 * Unconfined coroutine that was woken elsewhere, so everything after the
 * switch uses from->home, never a worker or thread-local read before it. */
static void transfer(kin__worker *w, kin__coro *from, kin__coro *to) {
    kin__ctx *fc = from ? &from->ctx : &w->sched_ctx;
    kin__ctx *tc = to ? &to->ctx : &w->sched_ctx;
    if (from &&
        KIN__UNLIKELY(!kin__stack_ok(from->stack, __builtin_frame_address(0))))
        overflow(from);
    w->current = to;
#if KIN__ASAN
    bool dying = from && from == w->zombie;
    void **save = dying ? NULL : from ? &from->asan_fake : &w->asan_fake;
    if (to)
        __sanitizer_start_switch_fiber(save, to->stack->lo, to->stack->usable);
    else
        __sanitizer_start_switch_fiber(save, w->asan_bottom, w->asan_size);
#endif
#if KIN__TSAN
    __tsan_switch_to_fiber(to ? to->tsan_fiber : w->tsan_fiber, 0);
#endif
    kin__ctx_switch(fc, tc);
    after_switch(from ? from->home : w, from);
}

static void coro_entry(void *arg);

/* Prepares a coroutine's first run: a stack, a context, a home. Returns
 * false if it must not run: it was cancelled before it started (the job
 * layer decides, and is asked only when the hint says a cancellation came),
 * or no stack could be had (the job layer fails it with KIN_ENOMEM). Either
 * way the job layer has completed it. */
static bool prepare_start(kin__worker *w, kin__coro *co) {
    if (KIN__UNLIKELY(atomic_load_explicit(&co->cancel_hint,
                                           memory_order_relaxed)) &&
        !kin__coro_may_start(co))
        return false;
    kin__stack *s = kin__stack_get(&w->stacks, co->stack_size);
    if (!s) {
        kin__coro_no_stack(co);
        return false;
    }
    co->stack = s;
    co->home = w;
    if (w->pool && w->pool->disp->kind == KIN__DISP_IO)
        w->live++; /* an IO thread may leave only with nothing alive */
    atomic_store_explicit(&co->dbg_stack, s, memory_order_release);
    atomic_store_explicit(&co->dbg_home, w, memory_order_relaxed);
    kin__ctx_make(&co->ctx, s->lo, s->usable, coro_entry, co);
#if KIN__TSAN
    co->tsan_fiber = __tsan_create_fiber(0);
#endif
    co->started = true;
    return true;
}

static void fire_due_timers(kin__worker *w) {
    int64_t now = kin__now(w);
    if (!kin__timer_maybe_due(&w->timers, now))
        return; /* the usual case while busy: same tick, nothing expired */
    kin__timer *t;
    while ((t = kin__timer_pop_due(&w->timers, now)) != NULL)
        t->fire(t);
}

/* The next queued coroutine of w: a loop has one FIFO (DESIGN rule 11); a
 * pool worker alternates between its pinned queue (woken coroutines) and its
 * ring of new ones, and every 61st pick looks at the pool's global queue
 * first so that work queued from outside is never starved (Go's habit). */
static inline kin__coro *local_pop(kin__worker *w) {
    if (!w->pool)
        return runq_pop(w);
    kin__coro *co;
    w->tick++;
    if (w->tick % 61 == 0 && (co = kin__pool_global_pop(w->pool)) != NULL)
        return co;
    if (w->tick & 1) {
        if ((co = runq_pop(w)) != NULL || (co = kin__ring_pop(&w->ring)))
            return co;
    } else {
        if ((co = kin__ring_pop(&w->ring)) != NULL || (co = runq_pop(w)))
            return co;
    }
    return NULL;
}

/* While a worker is busy, ready fds are seen when its run queue drains
 * and every POLL_EVERY picks (Go polls the network in findrunnable and
 * from sysmon); only workers with pending fd waits poll (sched/poll.c). */
#define POLL_EVERY 61

/* pick_next's whole work: the run queue after the worker's other duties
 * (stop, timers, the inbox, fds). `co`: a coroutine pick_next popped
 * already (not yet started), or NULL. */
static __attribute__((noinline)) kin__coro *
pick_next_slow(kin__worker *w, bool from_loop, kin__coro *co) {
    if (co)
        goto have;
    for (;;) {
        if (w->runnext) {
            co = w->runnext;
            w->runnext = NULL;
            return co;
        }
        if (!from_loop &&
            (w->return_to_caller ||
             atomic_load_explicit(&w->stop, memory_order_relaxed)))
            return NULL;
        if (w->timers.n)
            fire_due_timers(w);
        if (atomic_load_explicit(&w->inbox, memory_order_relaxed))
            drain_inbox(w);
        kin__poller *p = w->poller;
        if (KIN__UNLIKELY(p && p->pending) && ++p->picks >= POLL_EVERY)
            kin__poll(w, 0);
        co = local_pop(w);
        if (!co) {
            if (KIN__UNLIKELY(p && p->pending) && kin__poll(w, 0) > 0)
                continue; /* drained: look at the fds before idling */
            return NULL;
        }
    have:
        if (co->started || prepare_start(w, co))
            return co;
    }
}

/* The next coroutine to run on w, or NULL to go back to the loop.
 * Inline, for the common case of a switch (park, yield): nothing but
 * the run queue needs the worker (no runnext, stop, timer, inbox message
 * or pending fd wait) and the coroutine it pops has run before; the rest
 * is pick_next_slow, so the common case saves no registers. */
static inline kin__coro *pick_next(kin__worker *w, bool from_loop) {
    kin__poller *p = w->poller;
    if (KIN__LIKELY(!w->runnext && (from_loop || !w->return_to_caller) &&
                    !atomic_load_explicit(&w->stop, memory_order_relaxed) &&
                    !w->timers.n &&
                    !atomic_load_explicit(&w->inbox, memory_order_relaxed) &&
                    !(p && p->pending))) {
        kin__coro *co = local_pop(w);
        if (KIN__LIKELY(co && co->started))
            return co;
        if (co)
            return pick_next_slow(w, from_loop, co);
    }
    return pick_next_slow(w, from_loop, NULL);
}

static void coro_entry(void *arg) {
    kin__coro *co = arg;
    kin__worker *w = co->home;
    after_switch(w, co);
    kin__coro_main(co);
    w = co->home;
    if (co->dispatcher->kind != KIN__DISP_UNCONFINED)
        seal_remote_wakes(w, co);
    w->zombie = co;
    transfer(w, co, pick_next(w, false));
    kin__fatal("internal error: a finished coroutine was resumed");
}

void kin__start_undispatched(kin__coro *co) {
    kin__worker *w = kin__worker_self();
    KIN__ASSERT(w); /* the caller made sure it exists */
    co->home = w;
    if (!prepare_start(w, co))
        return;
    kin__coro *self = w->current;
    if (self) {
        w->runnext = self;
        transfer(w, self, co);
    } else {
        bool saved = w->return_to_caller;
        w->return_to_caller = true;
        transfer(w, NULL, co);
        w->return_to_caller = saved;
    }
}

/* ---- Park and wake -------------------------------------------------------*/

/* Queues a woken (fully parked) coroutine on its home, or, for an
 * Unconfined one, on the waker's worker: it continues in the thread that
 * resumed it. It stays home
 * while a timer of its own is armed (timer heaps belong to one thread), and
 * never moves to or from an IO worker (their live counts must stay exact).
 * The waker won the PARKED -> RUNNING race, so it alone may move co. */
static void wake_push(kin__coro *co) {
    if (KIN__UNLIKELY(co->dispatcher &&
                      co->dispatcher->kind == KIN__DISP_UNCONFINED) &&
        co->timers_armed == 0) {
        kin__worker *me = t_self.worker;
        if (me && me != co->home && (me->in_loop || me->current) &&
            !(me->pool && me->pool->disp->kind == KIN__DISP_IO) &&
            !(co->home->pool && co->home->pool->disp->kind == KIN__DISP_IO)) {
            co->home = me;
            atomic_store_explicit(&co->dbg_home, me, memory_order_relaxed);
        }
    }
    kin__worker_push(co->home, co);
}

/* The Unconfined protocol: any thread may queue such a coroutine, so every
 * transition of its park word is an atomic read-modify-write. */
static void wake_shared(kin__coro *co) {
    /* The common case first: it is parked (one CAS, no load before it). */
    int s = KIN__PARKED;
    for (;;) {
        if (s == KIN__PARKED) {
            if (atomic_compare_exchange_weak(&co->park, &s, KIN__RUNNING)) {
                wake_push(co);
                return;
            }
        } else if (s == KIN__RUNNING) {
            if (atomic_compare_exchange_weak(&co->park, &s, KIN__NOTIFIED))
                return;
        } else if (s == KIN__PARKING) {
            if (atomic_compare_exchange_weak(&co->park, &s, KIN__PARKING_WOKEN))
                return; /* its thread queues it once it is out */
        } else {
            return; /* NOTIFIED or PARKING_WOKEN: already woken */
        }
    }
}

/* A pinned coroutine woken on its home's thread: the park word is that
 * thread's alone, so plain loads and stores (no locked instruction: on
 * this 2-core EPYC guest one costs ~6 ns, and ping-pong made four a round
 * trip). */
static inline void wake_local(kin__worker *w, kin__coro *co) {
    KIN__ASSERT(w == t_self.worker && w == co->home);
    int s = atomic_load_explicit(&co->park, memory_order_relaxed);
    if (s == KIN__PARKED) {
        atomic_store_explicit(&co->park, KIN__RUNNING, memory_order_relaxed);
        runq_push(w, co);
    } else if (s == KIN__RUNNING) {
        atomic_store_explicit(&co->park, KIN__NOTIFIED, memory_order_relaxed);
    } /* NOTIFIED: woken already */
}

/* A pinned coroutine woken from another thread: the wake-up is queued in
 * its home's inbox, which turns it into a local one (take_remote_wake).
 * One is queued at a time: a waker that finds one queued only rewrites
 * QUEUED (a read-modify-write, so the home's take, which comes after it,
 * acquires what this waker published before waking). A finished coroutine
 * is SEALED (seal_remote_wakes) and wakers leave it alone: a waker may
 * hold a finished coroutine's record (a spurious resumption saw the
 * condition it was about to wake for), but its home thread may be gone. */
static void wake_remote(kin__coro *co) {
    int s = atomic_load_explicit(&co->remote_wake, memory_order_relaxed);
    do {
        if (s & REMOTE_SEALED)
            return;
    } while (!atomic_compare_exchange_weak_explicit(
        &co->remote_wake, &s, REMOTE_QUEUED, memory_order_acq_rel,
        memory_order_relaxed));
    if (s == 0)
        inbox_push(co->home, inbox_wake_item(co));
}

static void take_remote_wake(kin__worker *w, kin__coro *co) {
    int s = atomic_fetch_and_explicit(&co->remote_wake, ~REMOTE_QUEUED,
                                      memory_order_acq_rel);
    if (!(s & REMOTE_SEALED)) {
        wake_local(w, co);
        return;
    }
    w->sealed_pending--;
    if (co->retire_on_take) { /* its last switch is done: see release_zombie */
        co->retire_on_take = false;
        kin__coro_retire(co);
    }
}

/* A pinned coroutine has finished (on its home thread, before its last
 * switch): from now on wakers leave it alone. One whose wake-up item is
 * still to be taken keeps its record (release_zombie) and its worker
 * (sealed_pending) until it is: the item names both. One atomic per
 * coroutine; without it a late waker could push into the inbox of a
 * worker that has gone. */
static void seal_remote_wakes(kin__worker *w, kin__coro *co) {
    if (atomic_fetch_or_explicit(&co->remote_wake, REMOTE_SEALED,
                                 memory_order_acq_rel) &
        REMOTE_QUEUED)
        w->sealed_pending++;
}

void kin__wake(kin__coro *co) {
    if (KIN__LIKELY(co->dispatcher->kind != KIN__DISP_UNCONFINED)) {
        kin__worker *w = co->home; /* immutable once started */
        if (KIN__LIKELY(w == t_self.worker))
            wake_local(w, co);
        else
            wake_remote(co);
        return;
    }
    wake_shared(co);
}

/* The end of a park: co has published its park word; run the next
 * runnable coroutine (or go back to the loop) until co is woken. sp: the
 * parking frame, for kin_dump. */
static inline __attribute__((always_inline)) void
switch_out(kin__worker *w, kin__coro *co, uintptr_t sp) {
    atomic_store_explicit(&co->dbg_sp, sp, memory_order_relaxed);
    kin__coro *next = pick_next(w, false);
    if (next != co)
        transfer(w, co, next);
}

/* An Unconfined coroutine parks as the protocol in the top comment says. */
static void park_shared(kin__coro *co, kin__worker *w) {
    int expected = KIN__RUNNING;
    if (!atomic_compare_exchange_strong(&co->park, &expected, KIN__PARKING)) {
        KIN__ASSERT(expected == KIN__NOTIFIED);
        atomic_store(&co->park, KIN__RUNNING);
        return;
    }
    w->parking = co; /* finish_park, after the switch */
    switch_out(w, co, (uintptr_t)__builtin_frame_address(0));
}

void kin__park(kin__coro *co) {
    kin__worker *w = co->home; /* read before anyone may move co */
    if (KIN__UNLIKELY(co->dispatcher->kind == KIN__DISP_UNCONFINED)) {
        park_shared(co, w);
        return;
    }
    /* pinned: only this thread writes the park word (see wake_local) */
    KIN__ASSERT(w == t_self.worker);
    if (atomic_load_explicit(&co->park, memory_order_relaxed) ==
        KIN__NOTIFIED) {
        atomic_store_explicit(&co->park, KIN__RUNNING, memory_order_relaxed);
        return;
    }
    atomic_store_explicit(&co->park, KIN__PARKED, memory_order_relaxed);
    switch_out(w, co, (uintptr_t)__builtin_frame_address(0));
}

void kin__yield_to_others(kin__coro *co) {
    kin__worker *w = co->home;
    runq_push(w, co);
    kin__coro *next = pick_next(w, false);
    if (next != co)
        transfer(w, co, next);
}

/* ---- The loop ------------------------------------------------------------*/

void kin__loop_stop(kin__worker *w) {
    atomic_store(&w->stop, 1);
    if (w != t_self.worker)
        kin__worker_unpark(w);
}

/* How long an idle thread polls for work before it blocks. A hand-off
 * between threads (kin_with_context to IO and back, a result awaited from
 * Default) usually comes back within microseconds; blocking at once would
 * cost a futex wake-up on both sides, several microseconds each. Polling
 * is bounded and only happens when the thread has nothing else to do, as
 * Go's idle Ps spin before parking.
 *
 * A worker with fd waits pending spins too, but it polls its poller
 * without blocking while it spins (spin_polling), and for a budget that
 * adapts to whether spinning pays. Its readiness is made by other
 * threads (a peer coroutine's send(2) on another worker, the softirq
 * delivering it): when they have a CPU of their own, spinning catches the
 * readiness within microseconds and saves the kernel wake-up of a
 * sleeping thread (a halted vCPU in a VM: tens of microseconds); when
 * they must share the spinner's CPU (more runnable threads than CPUs),
 * the spin only delays them, and every spin times out. Measured (issue
 * 10: kin-bench echo_1 with BENCH_ECHO_PLACE=split, the client and the
 * server coroutine on two workers; 2-core KVM guest shared with other
 * jobs; req/s, medians of 10-16 runs interleaved with Go's):
 *   blocking at once (the former policy)  27,500, p99 84 us, quiet;
 *                                         25,000-35,000 under load
 *   a fixed 20 us spin polling the epoll  45,000-57,000 quiet, but
 *     8,000-15,000 (p50 three times the spin) under load, when the peer
 *     had no CPU of its own
 *   this adaptive budget                  53,000, p99 62 us, quiet (Go
 *     49,500, p99 64 us); 37,000-41,000, p99 75-83 us, under load
 * (both on one worker, the worker never sleeps: ~49,000 either way).
 * A spin that hits (its average wait: 4 us) doubles the budget, one that
 * times out halves it, so under CPU contention it falls to 0 in a few
 * sleeps and costs one POLL_SPIN_PROBE_NS probe every
 * POLL_SPIN_PROBE_EVERY sleeps (an earlier spin here was measured at
 * 7,000 round trips/s and p99 2.7 ms: by all signs that contended case). An
 * idle process still uses no CPU: the spin follows a wake-up and is
 * bounded, then the worker blocks (3 s idle with fd waits pending: 0.3 ms
 * of CPU, as before). */
#define IDLE_SPIN_NS 20000
#define POLL_SPIN_MAX_NS 20000
#define POLL_SPIN_PROBE_NS 4000
#define POLL_SPIN_PROBE_EVERY 8

static bool wake_pending(kin__worker *w) {
    return atomic_load_explicit(&w->wake_token, memory_order_acquire) ||
           atomic_load_explicit(&w->inbox, memory_order_acquire) ||
           atomic_load_explicit(&w->stop, memory_order_acquire);
}

/* An idle worker with fd waits pending: polls its poller without blocking
 * (epoll_wait with timeout 0, or a look at the io_uring completions) for
 * up to p->spin_ns, not past deadline; true if woken or fds became ready.
 * The budget adapts (see IDLE_SPIN_NS): a spin that sees readiness
 * doubles it up to POLL_SPIN_MAX_NS, one that times out halves it, to 0
 * below POLL_SPIN_PROBE_NS; at 0, every POLL_SPIN_PROBE_EVERY-th idle
 * sleep spins POLL_SPIN_PROBE_NS to find out whether spinning pays again. */
static bool spin_polling(kin__worker *w, int64_t deadline) {
    kin__poller *p = w->poller;
    int64_t budget = p->spin_ns;
    if (budget == 0) {
        if (++p->spin_skips % POLL_SPIN_PROBE_EVERY)
            return false;
        budget = POLL_SPIN_PROBE_NS;
    }
    int64_t until = real_now() + budget;
    bool cut = deadline < until; /* a timer ends it: neither hit nor miss */
    if (cut)
        until = deadline;
    for (;;) {
        if (wake_pending(w) || kin__poll(w, 0) > 0) {
            budget *= 2;
            p->spin_ns = (int32_t)(budget < POLL_SPIN_MAX_NS ? budget
                                                            : POLL_SPIN_MAX_NS);
            return true;
        }
        if (real_now() >= until)
            break;
        for (int i = 0; i < 16; i++)
            kin__cpu_relax();
    }
    if (!cut)
        p->spin_ns = budget / 2 < POLL_SPIN_PROBE_NS ? 0 : (int32_t)(budget / 2);
    return false;
}

/* Polls for up to IDLE_SPIN_NS (not past deadline); true if woken. */
static bool spin_for_wake(kin__worker *w, int64_t deadline) {
    if (kin__poll_pending(w->poller))
        return spin_polling(w, deadline);
    int64_t until = real_now() + IDLE_SPIN_NS;
    if (deadline < until)
        until = deadline;
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (wake_pending(w))
                return true;
            kin__cpu_relax();
        }
        if (real_now() >= until)
            return false;
    }
}

/* epoll_wait's timeout for an absolute deadline on the real clock: whole
 * milliseconds, rounded up so a timer is never early. */
static int poll_timeout(int64_t deadline) {
    if (deadline == INT64_MAX)
        return -1;
    int64_t left = deadline - real_now();
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

void kin__worker_sleep(kin__worker *w, int64_t deadline) {
    if (!w->virtual_time && spin_for_wake(w, deadline)) {
        atomic_store(&w->wake_token, 0);
        return;
    }
    if (w->poller) { /* the same protocol, sleeping in epoll_wait */
        atomic_store(&w->sleeping, 1);
        bool wait = !atomic_exchange(&w->wake_token, 0) &&
                    !atomic_load(&w->inbox) && !atomic_load(&w->stop);
        kin__poll(w, wait ? poll_timeout(deadline) : 0);
        /* hosted: the host's waits are sleeps too (kin__host_timeout_ms) */
        atomic_store(&w->sleeping, w->hosted ? 1 : 0);
        atomic_store(&w->wake_token, 0);
        return;
    }
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->sleeping, 1);
    if (!atomic_exchange(&w->wake_token, 0) && !atomic_load(&w->inbox) &&
        !atomic_load(&w->stop)) {
        if (deadline == INT64_MAX) {
            pthread_cond_wait(&w->cv, &w->mu);
        } else {
            struct timespec ts = {.tv_sec = deadline / 1000000000,
                                  .tv_nsec = deadline % 1000000000};
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
    }
    atomic_store(&w->sleeping, 0);
    atomic_store(&w->wake_token, 0);
    pthread_mutex_unlock(&w->mu);
}

/* ---- Virtual time: waiting for the loop to be idle ---------------------------*/

bool kin__virtual_wait_begin(kin__worker *w, kin__coro *co,
                             atomic_bool *fired, int64_t limit) {
    KIN__ASSERT(w->virtual_time);
    if (w->vwaiter)
        return false;
    w->vwaiter = co;
    w->vfired = fired;
    w->vlimit = limit;
    return true;
}

void kin__virtual_wait_end(kin__worker *w, kin__coro *co) {
    if (w->vwaiter == co)
        w->vwaiter = NULL;
}

/* The loop found nothing to run and a coroutine waits for it to be idle
 * (kin__virtual_wait_begin). Returns false if time must move on as usual
 * (a timer before the waiter's limit, or fds to wait for up to it); else
 * it has either found work (the inbox, ready fds) or, the loop being idle
 * up to the limit, moved the clock to the limit and woken the waiter. */
static bool virtual_waiter_step(kin__worker *w, int64_t deadline) {
    if (deadline != INT64_MAX && deadline < w->vlimit)
        return false;
    if (atomic_load(&w->inbox))
        return true;
    if (kin__poll_pending(w->poller) && kin__poll(w, 0) > 0)
        return true;
    if (w->vlimit != INT64_MAX && w->vlimit > w->vnow)
        w->vnow = w->vlimit;
    kin__coro *co = w->vwaiter;
    atomic_bool *fired = w->vfired;
    w->vwaiter = NULL;
    atomic_store_explicit(fired, true, memory_order_release);
    kin__wake(co); /* same thread: a local push, no reference needed */
    return true;
}

void kin__run_loop(kin__worker *w, atomic_bool *done) {
    KIN__ASSERT(!w->in_loop && !w->current);
    if (!w->pool) /* the first thread to run a loop becomes Main */
        kin__dispatcher_bind_loop(w);
    w->in_loop = true;
    atomic_store(&w->stop, 0);
    while (!atomic_load(done)) {
        kin__coro *co = pick_next(w, true);
        if (co) {
            transfer(w, NULL, co);
            continue;
        }
        if (atomic_load(done))
            break;
        int64_t deadline = kin__timer_next(&w->timers);
        if (w->virtual_time) {
            if (w->vwaiter && virtual_waiter_step(w, deadline))
                continue;
            /* Nothing runnable: time jumps to the next timer at once. Work
             * from other threads (an inbox push) still wakes a real wait.
             * But an fd can become ready from outside the process at any
             * moment: while fd waits are pending the loop sleeps in
             * epoll_wait for real and its clock runs at real speed. */
            if (deadline != INT64_MAX && !atomic_load(&w->inbox) &&
                !kin__poll_pending(w->poller)) {
                if (deadline > w->vnow)
                    w->vnow = deadline;
                continue;
            }
            if (deadline != INT64_MAX && kin__poll_pending(w->poller)) {
                int64_t t0 = real_now(), left = deadline - w->vnow;
                if (left > 0) {
                    kin__worker_sleep(w, t0 + left);
                    int64_t slept = real_now() - t0;
                    w->vnow += slept < left ? slept : left;
                }
                continue;
            }
            deadline = INT64_MAX;
        }
        if (deadline > kin__now(w)) {
            /* idle: give memory back, and come back for the rest */
            int64_t trim = kin__stack_trim(&w->stacks);
            kin__worker_sleep(w, trim < deadline ? trim : deadline);
        }
    }
    atomic_store(&w->stop, 0);
    w->in_loop = false;
}

/* kotlinx's runBlocking shuts its event loop down when its coroutine has
 * completed: it closes the queue, runs every task already in it, and hands
 * what comes later (and its delayed tasks) to its DefaultExecutor. Here:
 * every coroutine queued on the loop now (run queue and inbox, in order)
 * runs once, up to its next suspension; what they queue meanwhile (a
 * yield, a wake-up, a launch) and the loop's timers, due or not, wait for
 * the thread's next loop (a coroutine that has started stays on its
 * thread, so it cannot move to another one as kotlinx's task does). */
static int run_snapshot(kin__worker *w);

void kin__run_queued(kin__worker *w) {
    KIN__ASSERT(!w->in_loop && !w->current);
    if (atomic_load_explicit(&w->inbox, memory_order_acquire))
        drain_inbox(w);
    run_snapshot(w);
}

/* Runs each coroutine in w's run queue now once (and the launchers of
 * UNDISPATCHED children they start), up to its next suspension; returns
 * how many ran. */
static int run_snapshot(kin__worker *w) {
    size_t n = 0;
    for (kin__coro *co = w->runq_head; co; co = co->run_next)
        n++;
    if (n == 0)
        return 0;
    int ran = 0;
    w->in_loop = true;
    atomic_store(&w->stop, 1); /* each comes back here when it suspends */
    while (n > 0 || w->runnext) {
        kin__coro *co = w->runnext;
        if (co) { /* the launcher of an UNDISPATCHED child, to continue */
            w->runnext = NULL;
        } else {
            n--;
            co = runq_pop(w);
            if (!co->started && !prepare_start(w, co))
                continue;
            ran++;
        }
        transfer(w, NULL, co);
    }
    atomic_store(&w->stop, 0);
    w->in_loop = false;
    return ran;
}

/* ---- A host's event loop (kin_main_attach) -----------------------------------
 * The host owns the thread's waiting: it waits on the worker's epoll
 * (kin__host_fd) for at most kin__host_timeout_ms, then calls
 * kin__run_ready, which never blocks. Wake-ups from other threads reach it
 * through the eventfd in that epoll: a hosted worker keeps `sleeping` set
 * (outside kin__run_ready too), so every kin__worker_unpark writes the
 * eventfd, by the protocol kin__worker_sleep uses (the waker pushes, stores
 * the token, reads sleeping; the host stores sleeping, then looks at the
 * inbox in kin__host_timeout_ms). The loop's own work (coroutines queued
 * by this thread, timers) is told by the timeout, as libuv's
 * uv_backend_timeout does for an embedded loop: no system call on the
 * scheduler's paths. */

int kin__host_set(kin__worker *w, bool on) {
    if (!on) {
        w->hosted = false;
        atomic_store(&w->sleeping, 0);
        return 0;
    }
    if (w->poller && w->poller->kind != KIN__POLL_EPOLL)
        return KIN_EBUSY; /* an io_uring poller already: no fd to wait on */
    w->hosted = true; /* before the poller is made: an epoll then */
    if (!kin__poller_of(w)) {
        w->hosted = false;
        return KIN_ENOMEM;
    }
    atomic_store(&w->sleeping, 1);
    return 0;
}

int kin__host_fd(kin__worker *w) {
    return w->poller->epfd;
}

int kin__host_timeout_ms(kin__worker *w) {
    atomic_store(&w->sleeping, 1); /* before the look at the inbox */
    if (w->runq_head || w->runnext || atomic_load(&w->inbox))
        return 0;
    if (w->timers.n == 0)
        return -1;
    return poll_timeout(kin__timer_next(&w->timers));
}

int kin__run_ready(kin__worker *w) {
    KIN__ASSERT(!w->in_loop && !w->current);
    atomic_store(&w->wake_token, 0);
    if (w->timers.n)
        fire_due_timers(w);
    if (w->poller)
        kin__poll(w, 0); /* ready fds, and empties the eventfd */
    if (atomic_load_explicit(&w->inbox, memory_order_acquire))
        drain_inbox(w);
    return run_snapshot(w);
}

/* The clock of the calling coroutine's worker, or in plain code of the
 * thread's (a completion handler on a kin_run_test loop reads virtual
 * time too). */
int64_t kin_current_time(void) {
    kin__worker *w = t_self.worker;
    kin__worker *h = w && w->current ? w->current->home : w;
    if (h && h->virtual_time)
        return (h->vnow - h->vbase) / 1000000;
    return real_now() / 1000000;
}

/* ---- For the SIGSEGV handler (stack.c) -------------------------------------*/

/* Async-signal-safe: reads this thread's state and copies the name without
 * allocating. */
bool kin__running_stack(const kin__stack **s, char *name, size_t len) {
    kin__worker *w = t_self.worker;
    kin__coro *co = w ? w->current : NULL;
    if (!co || !co->stack || len == 0)
        return false;
    *s = co->stack;
    kin__coro_name(co, name, len);
    return true;
}

/* ---- Pool workers ------------------------------------------------------------*/

/* A pool thread's life: run what is local (pinned queue, ring, timers,
 * inbox), else find work in the pool (global queue, stealing), else sleep
 * until a timer, a push or a steal becomes possible; leave when the pool
 * lets us go (kin__pool_should_exit). */
void kin__worker_serve(kin__pool *p, int index) {
    kin__worker *w = worker_new(p, index);
    if (!w) {
        kin__pool_detach_failed(p);
        return;
    }
    kin__pool_attach(p, w);
    w->in_loop = true;
    for (;;) {
        kin__coro *co = pick_next(w, true);
        if (co) {
            kin__pool_found_work(w);
        } else {
            int64_t retry = INT64_MAX;
            co = kin__pool_find_work(w, &retry);
            if (co && !co->started && !prepare_start(w, co))
                continue;
            if (!co) {
                if (kin__pool_should_exit(w))
                    break;
                int64_t deadline = kin__timer_next(&w->timers);
                if (retry < deadline)
                    deadline = retry;
                if (deadline > kin__now(w))
                    kin__pool_idle(w, deadline);
                continue;
            }
        }
        transfer(w, NULL, co);
    }
    w->in_loop = false;
    t_self.worker = NULL;
    kin__stack_thread_fini();
    /* Other Default workers may still read this one's ring while stealing:
     * the pool frees Default workers after joining every thread. */
    kin__pool_detach(p, w);
}
