/*
 * dispatcher.h — dispatchers and the thread pools behind them. See
 * dispatcher.c for the design (pools, stealing, idle workers, shutdown).
 */
#ifndef KIN_DISPATCHER_H
#define KIN_DISPATCHER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "kin.h"

typedef struct kin__coro kin__coro;
typedef struct kin__worker kin__worker;
typedef struct kin__pool kin__pool;

enum kin__disp_kind {
    KIN__DISP_LOOP = 0, /* one thread's kin_run_blocking loop */
    KIN__DISP_DEFAULT = 1,
    KIN__DISP_IO = 2,
    KIN__DISP_UNCONFINED = 3,
};

struct kin_dispatcher {
    int kind;
    const char *name;
    _Atomic(kin__worker *) loop; /* LOOP: its worker; Main: once bound */
    kin__pool *pool;             /* DEFAULT, IO */
    /* A test loop's stand-in for Default or IO (kin_run_opts.test_default,
     * test_io): a LOOP dispatcher whose coroutines kin_dispatcher_current
     * reports as the one it stands for. NULL for the others. */
    kin_dispatcher *stands_for;
};

/* The Default and IO pools: a group of worker threads sharing a queue of
 * coroutines that have not started. [mu] fields are guarded by pool->mu;
 * the lock is a leaf (no job lock is taken under it). */
struct kin__pool {
    kin_dispatcher *disp;
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* kin_shutdown waits here for threads */
    kin__coro *gq_head, *gq_tail; /* [mu] global queue */
    atomic_size_t gq_len;
    kin__worker **workers; /* [mu] attached workers, dense */
    atomic_int nworkers;   /* how many are attached */
    atomic_int nthreads;   /* threads created and not yet gone */
    pthread_t *tids;       /* [mu] joinable threads: pool_stop joins them */
    int ntids;             /* [mu] */
    int max_threads;       /* [mu] */
    int configured;        /* [mu] set by kin_dispatcher_set_threads */
    kin__worker *idle;     /* [mu] sleeping workers (idle_next) */
    kin__worker *retired;  /* [mu] Default workers whose thread left:
                                     freed by pool_stop after the joins */
    atomic_int nidle;
    atomic_int nspinning; /* workers looking for work */
    atomic_int state;     /* 0 new, 1 running, 2 stopping, 3 closed */
    int64_t keepalive_ns; /* IO: idle threads exit after this */
};

enum {
    KIN__POOL_NEW = 0,
    KIN__POOL_RUNNING = 1,
    KIN__POOL_STOPPING = 2,
    KIN__POOL_CLOSED = 3
};

/* Resolves a launch's dispatcher: explicit, else inherited. */
kin_dispatcher *kin__dispatcher_resolve(kin_dispatcher *opt,
                                        kin_dispatcher *inherited);

/* Checks that d accepts work (starts its pool if needed). 0, KIN_ECLOSED or
 * KIN_ENOMEM. */
int kin__dispatcher_ready(kin_dispatcher *d);

/* Queues a new (not started) coroutine on its dispatcher. 0, or
 * KIN_ECLOSED if the pool was shut down meanwhile. */
int kin__dispatch(kin__coro *co);

/* Binds the Main dispatcher to this thread's worker (first run_blocking).
 * Returns the dispatcher the thread's loop should use. */
kin_dispatcher *kin__dispatcher_bind_loop(kin__worker *w);

/* The dispatcher a coroutine asked for d gets: d itself, or, while a
 * test loop stands in for Default or IO (kin__test_dispatch_begin), that
 * loop's stand-in. */
kin_dispatcher *kin__dispatcher_redirect_slow(kin_dispatcher *d);
extern atomic_bool kin__test_redirect; /* a stand-in is on */
static inline kin_dispatcher *kin__dispatcher_redirect(kin_dispatcher *d) {
    if (__builtin_expect(
            !atomic_load_explicit(&kin__test_redirect, memory_order_acquire),
            1))
        return d;
    return kin__dispatcher_redirect_slow(d);
}

/* From now until kin__test_dispatch_end, coroutines dispatched to Default
 * (def) and IO (io) run on w, the calling thread's test loop. 0, or
 * KIN_EBUSY if another loop stands in for them already. Process-wide, as
 * kotlinx's Dispatchers.setMain. */
int kin__test_dispatch_begin(kin__worker *w, bool def, bool io);
void kin__test_dispatch_end(kin__worker *w);

/* Main hosted by a thread's own event loop (kin_main_attach): binds Main
 * to w (the calling thread's worker) unless it is bound. Returns 0, or
 * KIN_EBUSY if Main belongs to another thread. */
int kin__main_bind(kin__worker *w);

/* The worker Main is bound to, or NULL. */
kin__worker *kin__main_worker(void);

/* For a pool worker: the next coroutine from the pool's global queue, from
 * other workers' rings (stealing), or NULL; and the idle wait. */
kin__coro *kin__pool_global_pop(kin__pool *p);
kin__coro *kin__pool_find_work(kin__worker *w, int64_t *retry_at);
void kin__pool_note_push(kin__pool *p);
void kin__pool_idle(kin__worker *w, int64_t deadline);
bool kin__pool_should_exit(kin__worker *w);
/* w found work of its own (pinned queue, inbox, ring, timers): a woken
 * worker is "spinning" until it finds work, wherever it finds it. */
void kin__pool_found_work(kin__worker *w);

/* A pool thread's worker registers itself and leaves. */
void kin__pool_attach(kin__pool *p, kin__worker *w);
void kin__pool_detach(kin__pool *p, kin__worker *w);
/* A pool thread that could not make its worker just goes. */
void kin__pool_detach_failed(kin__pool *p);

/* True if the calling coroutine can run a block for d in place. */
bool kin__dispatcher_is_current(kin_dispatcher *d);

/* Stops the Default and IO pools and joins their threads (kin_shutdown,
 * once no coroutine is left). */
void kin__pools_stop(void);

/* Implemented by the layer above (job/registry.c): true if coroutines are
 * still alive when the process exits; the pools' threads are then left to
 * die with the process instead of being joined. */
bool kin__exit_abandons_work(void);

#endif
