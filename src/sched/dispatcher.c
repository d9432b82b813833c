/*
 * dispatcher.c — the dispatchers and the thread pools behind them.
 *
 * DISPATCHERS
 *   Default     a pool of N worker threads (N = cores, KIN_DEFAULT_THREADS,
 *               or kin_dispatcher_set_threads before it starts).
 *   IO          an elastic pool: a thread is added when IO work arrives and
 *               no IO worker is idle, up to a limit (64); a worker idle for
 *               the keep-alive (60 s, KIN_IO_KEEPALIVE_MS) with no coroutine
 *               of its own exits.
 *   Main        the loop of the first thread that ran kin_run_blocking.
 *               Work dispatched to Main before that waits in g_main_pending.
 *   loop        every other kin_run_blocking thread has its own loop
 *               dispatcher (worker->loop_disp), inherited by its children.
 *   Unconfined  no queue: a new coroutine starts at once in the caller's
 *               thread (scheduler.c moves it to its wakers later).
 *
 * POOLS
 *   A coroutine that has not started can run anywhere; once started it is
 *   pinned to its worker (its stack and thread-locals live there). So a
 *   pool worker has two queues: the pinned FIFO (scheduler.c) and, for
 *   Default, a ring of new coroutines that other workers may steal
 *   (ring.h). New work from outside the pool goes to the pool's global
 *   queue. IO has no rings: all its new work goes through the global queue,
 *   so a worker blocked in a system call never holds new work hostage.
 *
 *   Stealing waits until a ring has been non-empty for STEAL_AGE_NS
 *   (Kotlin's scheduler has the same rule): a coroutine that launches a few
 *   children and suspends usually runs them itself a microsecond later,
 *   which keeps caches warm and small programs deterministic; a producer
 *   that keeps its ring full is relieved by thieves.
 *
 * IDLE WORKERS (no lost wake-ups)
 *   A worker that finds nothing becomes "spinning" while it looks (global
 *   queue, then rings), then registers on the idle list (pool->mu, nidle++)
 *   and looks once more before sleeping. A producer pushes work first and
 *   then reads nspinning/nidle (seq_cst): if nobody is spinning and
 *   somebody is idle it wakes one, which becomes the spinner. Either the
 *   producer sees the idle worker, or the worker's second look sees the
 *   work. A spinner that finds work, being the last spinner, wakes another
 *   (work may remain), so wake-ups cascade without a thundering herd.
 *
 * SHUTDOWN
 *   kin_shutdown (job/registry.c) cancels every root, waits until none is
 *   left, then calls kin__pools_stop: the pools turn STOPPING and their
 *   threads are joined; a worker leaves its loop once the pool is stopping
 *   and it has nothing queued or alive. At exit the same happens unless
 *   kin__exit_abandons_work (the job layer's answer: is a root alive?) says
 *   coroutines are still alive; then the threads are left to die with the
 *   process (their coroutines are abandoned).
 *
 * LOCKS: pool->mu and g_main_mu are leaves: never held while taking a job
 * lock; job locks may be held while pushing work here (wake-ups under a job
 * lock push to inboxes and take pool->mu through note_push... only for new
 * work, which is never pushed under a job lock).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "sched/dispatcher.h"
#include "sched/scheduler.h"

#define STEAL_AGE_NS 50000 /* 50 us */
#define IO_DEFAULT_LIMIT 64
#define IO_KEEPALIVE_NS (60ll * 1000000000)
#define MAX_THREADS 1024
#define GLOBAL_BATCH 32

static kin__pool g_default_pool, g_io_pool;

static kin_dispatcher g_default = {
    .kind = KIN__DISP_DEFAULT, .name = "Default", .pool = &g_default_pool};
static kin_dispatcher g_io = {
    .kind = KIN__DISP_IO, .name = "IO", .pool = &g_io_pool};
static kin_dispatcher g_main = {.kind = KIN__DISP_LOOP, .name = "Main"};
static kin_dispatcher g_unconfined = {.kind = KIN__DISP_UNCONFINED,
                                      .name = "Unconfined"};

static kin__pool g_default_pool = {
    .disp = &g_default,
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
};
static kin__pool g_io_pool = {
    .disp = &g_io,
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER,
    .max_threads = IO_DEFAULT_LIMIT,
};

/* Main before its thread runs a loop: [g_main_mu] */
static pthread_mutex_t g_main_mu = PTHREAD_MUTEX_INITIALIZER;
static kin__coro *g_main_pending_head, *g_main_pending_tail;

static pthread_once_t g_atexit_once = PTHREAD_ONCE_INIT;

/* TEST STAND-INS (kin_run_opts.test_default / test_io, kotlinx-coroutines-
 * test's StandardTestDispatcher): while a test loop runs with them, a
 * coroutine dispatched to Default or IO gets the stand-in instead, a LOOP
 * dispatcher bound to the test loop's worker: it runs there, in FIFO order
 * with the test's own coroutines, under its virtual clock. Redirected where
 * a coroutine's dispatcher is chosen (kin__spawn, kin_with_context), so a
 * scope object keeps "Default" and its later launches go to the real pool
 * once the test is over. The stand-in's loop stays set after the test: a
 * coroutine made for it and not yet finished stays on that thread.
 * g_test_owner: the test loop's worker, or NULL; [g_test_mu] for changes,
 * read atomically. */
static kin_dispatcher g_test_default = {
    .kind = KIN__DISP_LOOP, .name = "Default", .stands_for = &g_default};
static kin_dispatcher g_test_io = {
    .kind = KIN__DISP_LOOP, .name = "IO", .stands_for = &g_io};
static pthread_mutex_t g_test_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(kin__worker *) g_test_owner;
static atomic_bool g_test_default_on, g_test_io_on;

/* ---- Public accessors ------------------------------------------------------*/

kin_dispatcher *kin_dispatcher_default(void) {
    return &g_default;
}
kin_dispatcher *kin_dispatcher_io(void) {
    return &g_io;
}
kin_dispatcher *kin_dispatcher_main(void) {
    return &g_main;
}
kin_dispatcher *kin_dispatcher_unconfined(void) {
    return &g_unconfined;
}

kin_dispatcher *kin_dispatcher_current(void) {
    kin__coro *co = kin__current_coro();
    if (!co)
        return NULL;
    kin_dispatcher *d = co->dispatcher;
    return d->stands_for ? d->stands_for : d;
}

const char *kin_dispatcher_name(const kin_dispatcher *d) {
    return d ? d->name : "";
}

int kin_dispatcher_set_threads(kin_dispatcher *d, int n) {
    if (d && d->stands_for)
        d = d->stands_for;
    if (!d || (d != &g_default && d != &g_io))
        return kin__misuse(KIN_EINVAL,
                           "kin_dispatcher_set_threads: only Default and IO "
                           "have a thread count");
    if (n < 1 || n > MAX_THREADS)
        return kin__misuse(KIN_EINVAL,
                           "kin_dispatcher_set_threads: %d threads (1 to %d)",
                           n, MAX_THREADS);
    kin__pool *p = d->pool;
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    if (d == &g_default && atomic_load(&p->state) != KIN__POOL_NEW)
        rc = KIN_EBUSY;
    else if (d == &g_default)
        p->configured = n;
    else
        p->max_threads = n;
    pthread_mutex_unlock(&p->mu);
    if (rc)
        return kin__misuse(rc, "kin_dispatcher_set_threads: Default has "
                               "already started");
    return 0;
}

/* ---- Resolution and readiness ----------------------------------------------*/

kin_dispatcher *kin__dispatcher_resolve(kin_dispatcher *opt,
                                        kin_dispatcher *inherited) {
    if (opt)
        return opt;
    return inherited ? inherited : &g_default;
}

atomic_bool kin__test_redirect;

kin_dispatcher *kin__dispatcher_redirect_slow(kin_dispatcher *d) {
    if (KIN__UNLIKELY(d == &g_default) &&
        atomic_load_explicit(&g_test_default_on, memory_order_acquire))
        return &g_test_default;
    if (KIN__UNLIKELY(d == &g_io) &&
        atomic_load_explicit(&g_test_io_on, memory_order_acquire))
        return &g_test_io;
    return d;
}

int kin__test_dispatch_begin(kin__worker *w, bool def, bool io) {
    int rc = 0;
    pthread_mutex_lock(&g_test_mu);
    kin__worker *owner = atomic_load(&g_test_owner);
    if (owner && owner != w) {
        rc = KIN_EBUSY;
    } else {
        atomic_store(&g_test_owner, w);
        if (def) {
            atomic_store(&g_test_default.loop, w);
            atomic_store(&g_test_default_on, true);
        }
        if (io) {
            atomic_store(&g_test_io.loop, w);
            atomic_store(&g_test_io_on, true);
        }
        atomic_store(&kin__test_redirect, def || io);
    }
    pthread_mutex_unlock(&g_test_mu);
    return rc;
}

void kin__test_dispatch_end(kin__worker *w) {
    pthread_mutex_lock(&g_test_mu);
    if (atomic_load(&g_test_owner) == w) {
        atomic_store(&kin__test_redirect, false);
        atomic_store(&g_test_default_on, false);
        atomic_store(&g_test_io_on, false);
        atomic_store(&g_test_owner, NULL);
    }
    pthread_mutex_unlock(&g_test_mu);
}

static int ncpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void *pool_thread(void *arg);

/* A thread leaving while the pool runs (IO keep-alive) will never be
 * joined: it detaches itself and leaves the join list. p->mu held. */
static void self_detach_locked(kin__pool *p) {
    pthread_t me = pthread_self();
    for (int i = 0; i < p->ntids; i++) {
        if (pthread_equal(p->tids[i], me)) {
            p->tids[i] = p->tids[--p->ntids];
            break;
        }
    }
    pthread_detach(me);
}

static void pools_at_exit(void);
static void register_at_exit(void) {
    atexit(pools_at_exit);
}

/* Adds one thread to p. Called with p->mu held. */
static int add_thread_locked(kin__pool *p) {
    int index = atomic_load(&p->nthreads);
    if (index >= MAX_THREADS)
        return KIN_EBUSY;
    if (!p->workers) {
        p->workers = kin__calloc(MAX_THREADS, sizeof *p->workers);
        p->tids = kin__calloc(MAX_THREADS, sizeof *p->tids);
        if (!p->workers || !p->tids) {
            kin__free(p->workers);
            kin__free(p->tids);
            p->workers = NULL;
            p->tids = NULL;
            return KIN_ENOMEM;
        }
    }
    atomic_store(&p->nthreads, index + 1);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_JOINABLE);
    void **arg = kin__malloc(2 * sizeof(void *));
    int rc = ENOMEM;
    if (arg) {
        arg[0] = p;
        arg[1] = (void *)(intptr_t)index;
        rc = pthread_create(&t, &attr, pool_thread, arg);
    }
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        kin__free(arg);
        atomic_store(&p->nthreads, index);
        return KIN_ENOMEM;
    }
    p->tids[p->ntids++] = t; /* joined by pool_stop unless it detaches */
    return 0;
}

static int pool_start_locked(kin__pool *p) {
    if (atomic_load(&p->state) != KIN__POOL_NEW)
        return 0;
    pthread_once(&g_atexit_once, register_at_exit);
    int n = 0;
    if (p == &g_default_pool) {
        n = p->configured;
        const char *env = getenv("KIN_DEFAULT_THREADS");
        if (!n && env && atoi(env) > 0)
            n = atoi(env) > MAX_THREADS ? MAX_THREADS : atoi(env);
        if (!n)
            n = ncpus();
    } else {
        const char *env = getenv("KIN_IO_KEEPALIVE_MS");
        p->keepalive_ns =
            env && atol(env) > 0 ? atol(env) * 1000000ll : IO_KEEPALIVE_NS;
    }
    atomic_store(&p->state, KIN__POOL_RUNNING);
    for (int i = 0; i < n; i++) {
        if (add_thread_locked(p) < 0) {
            if (i == 0) {
                atomic_store(&p->state, KIN__POOL_NEW);
                return KIN_ENOMEM;
            }
            break; /* fewer threads than asked: still a working pool */
        }
    }
    return 0;
}

int kin__dispatcher_ready(kin_dispatcher *d) {
    kin__pool *p = d->pool;
    if (!p)
        return 0;
    int s = atomic_load_explicit(&p->state, memory_order_acquire);
    if (KIN__LIKELY(s == KIN__POOL_RUNNING))
        return 0;
    if (s >= KIN__POOL_STOPPING)
        return KIN_ECLOSED;
    pthread_mutex_lock(&p->mu);
    int rc = pool_start_locked(p);
    if (rc == 0 && atomic_load(&p->state) >= KIN__POOL_STOPPING)
        rc = KIN_ECLOSED;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

bool kin__dispatcher_is_current(kin_dispatcher *d) {
    kin__coro *co = kin__current_coro();
    if (!co)
        return false;
    if (d == co->dispatcher || d->kind == KIN__DISP_UNCONFINED)
        return true;
    /* A test stand-in shares its loop with the test's own coroutines, but
     * a switch between it and them is a dispatch, as between Main and
     * Default: the block is queued, not run in place. */
    if (d->stands_for || co->dispatcher->stands_for)
        return false;
    kin__worker *w = co->home;
    if (d->pool)
        return w->pool == d->pool;
    return atomic_load(&d->loop) == w;
}

/* ---- Queues ------------------------------------------------------------------*/

static void global_push_locked(kin__pool *p, kin__coro *co) {
    co->run_next = NULL;
    if (p->gq_tail)
        p->gq_tail->run_next = co;
    else
        p->gq_head = co;
    p->gq_tail = co;
    atomic_fetch_add(&p->gq_len, 1);
}

static kin__coro *global_pop_locked(kin__pool *p) {
    kin__coro *co = p->gq_head;
    if (co) {
        p->gq_head = co->run_next;
        if (!p->gq_head)
            p->gq_tail = NULL;
        co->run_next = NULL;
        atomic_fetch_sub(&p->gq_len, 1);
    }
    return co;
}

kin__coro *kin__pool_global_pop(kin__pool *p) {
    if (atomic_load_explicit(&p->gq_len, memory_order_relaxed) == 0)
        return NULL;
    pthread_mutex_lock(&p->mu);
    kin__coro *co = global_pop_locked(p);
    pthread_mutex_unlock(&p->mu);
    return co;
}

/* Takes a batch from the global queue into w's ring and returns the first.
 * Work moved into a ring is announced (note_push): an idle worker may have
 * looked at our ring before it was there. */
static kin__coro *global_grab(kin__worker *w) {
    kin__pool *p = w->pool;
    if (atomic_load(&p->gq_len) == 0)
        return NULL;
    unsigned moved = 0;
    pthread_mutex_lock(&p->mu);
    kin__coro *first = global_pop_locked(p);
    if (first && p->disp->kind == KIN__DISP_DEFAULT) {
        size_t share =
            atomic_load(&p->gq_len) / (size_t)(atomic_load(&p->nworkers) + 1) +
            1;
        if (share > GLOBAL_BATCH)
            share = GLOBAL_BATCH;
        for (size_t i = 0; i < share; i++) {
            kin__coro *co = p->gq_head;
            if (!co || !kin__ring_push(&w->ring, co))
                break;
            global_pop_locked(p);
            moved++;
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (moved)
        kin__pool_note_push(p);
    return first;
}

static void wake_one(kin__pool *p) {
    pthread_mutex_lock(&p->mu);
    kin__worker *w = p->idle;
    if (w) {
        p->idle = w->idle_next;
        w->idle_next = NULL;
        w->idle = false;
        atomic_fetch_sub(&p->nidle, 1);
        atomic_fetch_add(&p->nspinning, 1);
        atomic_store(&w->spinning, true);
    }
    pthread_mutex_unlock(&p->mu);
    if (w)
        kin__worker_unpark(w);
}

void kin__pool_note_push(kin__pool *p) {
    /* Pairs with the fence in work_visible: our push (a release store of a
     * ring's tail, or the global queue under its lock) is ordered before
     * these loads, the idle worker's nidle++ before its look at the queues.
     * One of the two sides sees the other. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&p->nspinning) == 0 && atomic_load(&p->nidle) > 0)
        wake_one(p);
}

/* IO: every new piece of work either finds an idle worker or gets a new
 * thread (up to the limit), so blocked workers never starve it. */
static void io_note_push(kin__pool *p) {
    if (atomic_load(&p->nidle) > 0) {
        wake_one(p);
        return;
    }
    pthread_mutex_lock(&p->mu);
    if (atomic_load(&p->nidle) == 0 &&
        atomic_load(&p->nthreads) < p->max_threads &&
        atomic_load(&p->state) == KIN__POOL_RUNNING)
        add_thread_locked(p);
    pthread_mutex_unlock(&p->mu);
}

/* Default ring full: move half of it, and co, to the global queue. */
static void ring_overflow(kin__worker *w, kin__coro *co) {
    kin__coro *batch[KIN__RING_CAP / 2];
    unsigned n = kin__ring_steal(&w->ring, batch, KIN__RING_CAP / 2);
    kin__pool *p = w->pool;
    pthread_mutex_lock(&p->mu);
    for (unsigned i = 0; i < n; i++)
        global_push_locked(p, batch[i]);
    global_push_locked(p, co);
    pthread_mutex_unlock(&p->mu);
}

int kin__dispatch(kin__coro *co) {
    kin_dispatcher *d = co->dispatcher;
    switch (d->kind) {
    case KIN__DISP_UNCONFINED:
        kin__start_undispatched(co);
        return 0;
    case KIN__DISP_LOOP: {
        kin__worker *w = atomic_load_explicit(&d->loop, memory_order_acquire);
        if (!w) {
            pthread_mutex_lock(&g_main_mu);
            w = atomic_load(&d->loop);
            if (!w) { /* Main has no thread yet: wait for it */
                co->run_next = NULL;
                if (g_main_pending_tail)
                    g_main_pending_tail->run_next = co;
                else
                    g_main_pending_head = co;
                g_main_pending_tail = co;
            }
            pthread_mutex_unlock(&g_main_mu);
            if (!w)
                return 0;
        }
        co->home = w;
        kin__worker_push(w, co);
        return 0;
    }
    default:
        break;
    }
    kin__pool *p = d->pool;
    int rc = kin__dispatcher_ready(d);
    if (rc < 0)
        return rc;
    kin__worker *me = kin__worker_peek();
    if (d->kind == KIN__DISP_DEFAULT && me && me->pool == p) {
        kin__ring *r = &me->ring;
        if (kin__ring_len(r) == 0)
            atomic_store_explicit(&r->since, kin__now(me),
                                  memory_order_relaxed);
        if (!kin__ring_push(r, co))
            ring_overflow(me, co);
        kin__pool_note_push(p);
        return 0;
    }
    pthread_mutex_lock(&p->mu);
    global_push_locked(p, co);
    pthread_mutex_unlock(&p->mu);
    if (d->kind == KIN__DISP_IO)
        io_note_push(p);
    else
        kin__pool_note_push(p);
    return 0;
}

int kin__main_bind(kin__worker *w) {
    kin__dispatcher_bind_loop(w);
    return atomic_load(&g_main.loop) == w ? 0 : KIN_EBUSY;
}

kin__worker *kin__main_worker(void) {
    return atomic_load_explicit(&g_main.loop, memory_order_acquire);
}

kin_dispatcher *kin__dispatcher_bind_loop(kin__worker *w) {
    if (w->disp != &w->loop_disp)
        return w->disp; /* bound before */
    kin__worker *expected = NULL;
    pthread_mutex_lock(&g_main_mu);
    if (atomic_compare_exchange_strong(&g_main.loop, &expected, w)) {
        w->disp = &g_main;
        kin__coro *co = g_main_pending_head;
        g_main_pending_head = g_main_pending_tail = NULL;
        while (co) {
            kin__coro *next = co->run_next;
            co->home = w;
            kin__worker_push(w, co);
            co = next;
        }
    }
    pthread_mutex_unlock(&g_main_mu);
    return w->disp;
}

/* ---- Finding work and sleeping -------------------------------------------------*/

static void stop_spinning(kin__worker *w) {
    if (atomic_exchange(&w->spinning, false)) {
        /* The last spinner found work: more may be waiting. */
        if (atomic_fetch_sub(&w->pool->nspinning, 1) == 1)
            kin__pool_note_push(w->pool);
    }
}

/* A spinner that runs a coroutine must stop counting as one, whichever
 * queue the coroutine came from: while nspinning > 0 producers wake nobody,
 * so a worker woken for new work that then ran, say, a coroutine resumed
 * into its inbox would leave the other workers asleep for as long as that
 * coroutine runs (found by Valgrind, which serialises threads: test_dispatch_
 * default's two coroutines that spin until both run never met). */
void kin__pool_found_work(kin__worker *w) {
    if (atomic_load_explicit(&w->spinning, memory_order_relaxed))
        stop_spinning(w);
}

static kin__coro *steal(kin__worker *w, int64_t *retry_at) {
    kin__pool *p = w->pool;
    int n = atomic_load(&p->nworkers);
    if (n <= 1)
        return NULL;
    int64_t now = kin__now(w);
    w->rng = w->rng * 1103515245u + 12345u;
    int start = (int)(w->rng >> 16) % n;
    for (int k = 0; k < n; k++) {
        int i = (start + k) % n;
        kin__worker *v = atomic_load_explicit(
            (_Atomic(kin__worker *) *)&p->workers[i], memory_order_acquire);
        if (!v || v == w || kin__ring_len(&v->ring) == 0)
            continue;
        int64_t since =
            atomic_load_explicit(&v->ring.since, memory_order_relaxed);
        if (now - since < STEAL_AGE_NS) {
            if (since + STEAL_AGE_NS < *retry_at)
                *retry_at = since + STEAL_AGE_NS;
            continue;
        }
        kin__coro *batch[KIN__RING_CAP / 2];
        unsigned got = kin__ring_steal(&v->ring, batch, KIN__RING_CAP / 2);
        if (got == 0)
            continue;
        if (got > 1)
            atomic_store_explicit(&w->ring.since, now, memory_order_relaxed);
        for (unsigned j = 1; j < got; j++)
            kin__ring_push(&w->ring, batch[j]); /* ours is empty: fits */
        if (got > 1)
            kin__pool_note_push(p);
        return batch[0];
    }
    return NULL;
}

kin__coro *kin__pool_find_work(kin__worker *w, int64_t *retry_at) {
    kin__pool *p = w->pool;
    if (!atomic_load(&w->spinning)) {
        atomic_store(&w->spinning, true);
        atomic_fetch_add(&p->nspinning, 1);
    }
    kin__coro *co = global_grab(w);
    if (!co && p->disp->kind == KIN__DISP_DEFAULT)
        co = steal(w, retry_at);
    if (co)
        stop_spinning(w);
    return co;
}

/* Is there work for an idle worker of p? (its second look before sleeping) */
static bool work_visible(kin__worker *w) {
    kin__pool *p = w->pool;
    atomic_thread_fence(memory_order_seq_cst); /* see kin__pool_note_push */
    if (atomic_load(&p->gq_len) > 0 || atomic_load(&w->inbox))
        return true;
    if (p->disp->kind != KIN__DISP_DEFAULT)
        return false;
    int n = atomic_load(&p->nworkers);
    int64_t now = kin__now(w);
    for (int i = 0; i < n; i++) {
        kin__worker *v = atomic_load_explicit(
            (_Atomic(kin__worker *) *)&p->workers[i], memory_order_acquire);
        if (v && v != w && kin__ring_len(&v->ring) > 0 &&
            now - atomic_load(&v->ring.since) >= STEAL_AGE_NS)
            return true;
    }
    return false;
}

static void idle_remove_locked(kin__pool *p, kin__worker *w) {
    if (!w->idle)
        return;
    for (kin__worker **pp = &p->idle; *pp; pp = &(*pp)->idle_next) {
        if (*pp == w) {
            *pp = w->idle_next;
            break;
        }
    }
    w->idle_next = NULL;
    w->idle = false;
    atomic_fetch_sub(&p->nidle, 1);
}

/* For IO: when the worker last found itself idle with nothing alive. */
static _Thread_local int64_t t_idle_since;

void kin__pool_idle(kin__worker *w, int64_t deadline) {
    kin__pool *p = w->pool;
    /* idle: give memory back, and come back for the rest */
    int64_t trim = kin__stack_trim(&w->stacks);
    if (trim < deadline)
        deadline = trim;
    if (atomic_exchange(&w->spinning, false))
        atomic_fetch_sub(&p->nspinning, 1);
    pthread_mutex_lock(&p->mu);
    if (!w->idle) {
        w->idle = true;
        w->idle_next = p->idle;
        p->idle = w;
        atomic_fetch_add(&p->nidle, 1);
    }
    pthread_mutex_unlock(&p->mu);
    if (!work_visible(w)) {
        if (p->disp->kind == KIN__DISP_IO && w->live == 0) {
            int64_t now = kin__now(w);
            if (!t_idle_since)
                t_idle_since = now;
            if (t_idle_since + p->keepalive_ns < deadline)
                deadline = t_idle_since + p->keepalive_ns;
        }
        kin__worker_sleep(w, deadline);
    }
    pthread_mutex_lock(&p->mu);
    idle_remove_locked(p, w);
    pthread_mutex_unlock(&p->mu);
}

bool kin__pool_should_exit(kin__worker *w) {
    kin__pool *p = w->pool;
    bool quiet = w->live == 0 && !w->runq_head && !w->timers.n &&
                 w->sealed_pending == 0 && !atomic_load(&w->inbox) &&
                 kin__ring_len(&w->ring) == 0;
    if (!quiet) {
        t_idle_since = 0;
        return false;
    }
    if (atomic_load(&p->state) >= KIN__POOL_STOPPING)
        return atomic_load(&p->gq_len) == 0;
    if (p->disp->kind == KIN__DISP_IO) {
        int64_t now = kin__now(w);
        if (!t_idle_since)
            t_idle_since = now;
        return now - t_idle_since >= p->keepalive_ns &&
               atomic_load(&p->gq_len) == 0;
    }
    return false;
}

/* ---- Threads -----------------------------------------------------------------*/

void kin__pool_attach(kin__pool *p, kin__worker *w) {
    pthread_mutex_lock(&p->mu);
    int n = atomic_load(&p->nworkers);
    w->index = n;
    atomic_store_explicit((_Atomic(kin__worker *) *)&p->workers[n], w,
                          memory_order_release);
    atomic_store(&p->nworkers, n + 1);
    pthread_mutex_unlock(&p->mu);
}

void kin__pool_detach(kin__pool *p, kin__worker *w) {
    pthread_mutex_lock(&p->mu);
    idle_remove_locked(p, w);
    /* A thread leaving on its own (IO keep-alive) is never joined; one
     * leaving because the pool stops is joined by pool_stop, which took its
     * pthread_t under this lock after setting STOPPING. */
    if (atomic_load(&p->state) == KIN__POOL_RUNNING)
        self_detach_locked(p);
    int n = atomic_load(&p->nworkers);
    int i = w->index;
    KIN__ASSERT(i < n && p->workers[i] == w);
    kin__worker *last = p->workers[n - 1];
    last->index = i; /* keep the array dense: the last takes this slot */
    atomic_store_explicit((_Atomic(kin__worker *) *)&p->workers[i], last,
                          memory_order_release);
    atomic_store_explicit((_Atomic(kin__worker *) *)&p->workers[n - 1], NULL,
                          memory_order_release);
    atomic_store(&p->nworkers, n - 1);
    atomic_fetch_sub(&p->nthreads, 1);
    bool keep = p->disp->kind == KIN__DISP_DEFAULT;
    if (keep) {
        w->idle_next = p->retired;
        p->retired = w;
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (!keep) /* IO workers are never read by others once detached */
        kin__worker_free(w);
}

void kin__pool_detach_failed(kin__pool *p) {
    pthread_mutex_lock(&p->mu);
    if (atomic_load(&p->state) == KIN__POOL_RUNNING)
        self_detach_locked(p);
    atomic_fetch_sub(&p->nthreads, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *pool_thread(void *arg) {
    void **a = arg;
    kin__pool *p = a[0];
    int index = (int)(intptr_t)a[1];
    kin__free(a);
    char name[16];
    snprintf(name, sizeof name, "kin-%s-%d",
             p->disp->kind == KIN__DISP_IO ? "io" : "default", index);
    pthread_setname_np(pthread_self(), name);
    kin__worker_serve(p, index);
    return NULL;
}

/* ---- Shutdown ------------------------------------------------------------------*/

static void pool_stop(kin__pool *p) {
    pthread_mutex_lock(&p->mu);
    if (atomic_load(&p->state) == KIN__POOL_NEW) {
        atomic_store(&p->state, KIN__POOL_CLOSED);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    atomic_store(&p->state, KIN__POOL_STOPPING);
    /* Every thread created from now on sees STOPPING; the ones alive leave
     * once they have nothing left. Wake them until all have gone. */
    while (atomic_load(&p->nthreads) > 0) {
        int n = atomic_load(&p->nworkers);
        for (int i = 0; i < n; i++)
            if (p->workers[i])
                kin__worker_unpark(p->workers[i]);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
    atomic_store(&p->state, KIN__POOL_CLOSED);
    /* No thread detaches itself any more (the pool is not RUNNING): the
     * list holds every thread still to join. */
    pthread_t *tids = p->tids;
    int ntids = p->ntids;
    p->tids = NULL;
    p->ntids = 0;
    kin__free(p->workers);
    p->workers = NULL;
    kin__worker *retired = p->retired;
    p->retired = NULL;
    pthread_mutex_unlock(&p->mu);
    for (int k = 0; k < ntids; k++)
        pthread_join(tids[k], NULL);
    kin__free(tids);
    while (retired) {
        kin__worker *next = retired->idle_next;
        kin__worker_free(retired);
        retired = next;
    }
}

void kin__pools_stop(void) {
    pool_stop(&g_default_pool);
    pool_stop(&g_io_pool);
}

static void pools_at_exit(void) {
    if (kin__exit_abandons_work())
        return; /* live coroutines: abandoned, the threads die with us */
    kin__pools_stop();
}
