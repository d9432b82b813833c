/*
 * semaphore.c — kin_semaphore (kotlinx's Semaphore), and what it shares with
 * kin_mutex (mutex.c): the table of records and the FIFO wait. The design
 * (handles, the hand-off, cancellation, locks) is in waitq.h.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "sched/scheduler.h"
#include "sync/waitq.h"

/* ---- The table ------------------------------------------------------------ */

/* New records are FREE (0), generation 1. */
_Atomic(void *) kin__sync_chunks[KIN__TABLE_MAX_CHUNKS];
kin__table kin__sync_table =
    KIN__TABLE_INIT(kin__sync_chunks, kin__sync, KIN__SYNC_CHUNK_SHIFT,
                    free_next, idx, gen, 1);

int kin__sync_new(uint8_t kind, int permits, int avail, uint64_t *id) {
    kin__sync *s = kin__table_alloc(&kin__sync_table);
    if (!s)
        return KIN_ENOMEM;
    kin__lock_acquire(&s->lock);
    s->kind = kind;
    s->permits = permits;
    s->avail = avail;
    s->owner = NULL;
    s->head = s->tail = NULL;
    *id = ((uint64_t)s->gen << 32) | s->idx;
    kin__lock_release(&s->lock);
    return 0;
}

kin__sync *kin__sync_get_failed(uint64_t id, kin__sync *s, uint8_t kind,
                                const char *who, const char *what, int *rc) {
    uint32_t gen = (uint32_t)(id >> 32);
    bool stale = false; /* else: a record of the other kind */
    (void)kind;
    if (s) {
        stale = s->gen != gen || s->kind == KIN__SYNC_FREE;
        kin__lock_release(&s->lock);
    }
    if (!s || gen == 0)
        *rc = kin__misuse(KIN_EINVAL, "%s: invalid %s handle", who, what);
    else if (stale)
        *rc = kin__misuse(KIN_ESTALE,
                          "%s: stale handle (the %s was destroyed)", who,
                          what);
    else
        *rc = kin__misuse(KIN_EINVAL, "%s: invalid %s handle (not a %s)",
                          who, what, what);
    return NULL;
}

void kin__sync_destroy_locked(kin__sync *s) {
    KIN__ASSERT(s->head == NULL);
    s->kind = KIN__SYNC_FREE;
    s->gen = kin__table_next_gen(s->gen, UINT32_MAX);
    s->owner = NULL;
    kin__lock_release(&s->lock);
    kin__table_free(&kin__sync_table, s);
}

/* ---- The wait ------------------------------------------------------------- */

int kin__sync_cancelled_rc(kin__job *co) {
    kin_error *e = kin__job_cancel_error(co->cur);
    int code = e->code;
    kin__error_set(e);
    return code;
}

static void unlink_waiter(kin__sync *s, kin__waiter *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        s->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->tail = w->prev;
    w->next = w->prev = NULL;
    w->queued = false;
}

void kin__sync_release_locked(kin__sync *s) {
    kin__waiter *w = s->head;
    /* Waiters whose job is cancelling are passed over: they will return
     * KIN_ECANCELED when they run (their canceller woke them). */
    while (w && kin__job_is_cancelling(w->cur)) {
        unlink_waiter(s, w);
        w = s->head;
    }
    if (!w) {
        /* At most permits: a cancelled waiter that was handed a permit
         * passes it on here (prompt cancellation), and after a release
         * beyond the acquires (which the release's own check could not
         * see: that permit was in transit to the waiter) nobody has one
         * to give back. kotlinx's release() clamps the count the same way
         * (coerceAvailablePermitsAtMaximum); without the clamp a
         * one-permit semaphore (or a mutex) let two holders in (found by
         * the model test, seed 16128; tests/sync/test_sync_overrelease). */
        if (s->avail < s->permits)
            s->avail++;
        s->owner = NULL;
        return;
    }
    unlink_waiter(s, w);
    s->owner = w->owner; /* a mutex now belongs to the waiter */
    kin__job *co = w->co;
    atomic_store_explicit(&w->granted, true, memory_order_release);
    /* Under the lock: the waiter takes it again before its frame goes. */
    kin__wake(&co->sched);
}

/* Before parking, a waiter whose thread has nothing else to run spins a
 * little on `granted`: the holder is then running on another thread and
 * usually releases within a few hundred nanoseconds, and a hand-off to a
 * waiter that spins costs one store, where a hand-off to a parked waiter on
 * a sleeping thread costs a futex wake-up (microseconds) -- and with the
 * FIFO hand-off, every later lock waits for it (a lock convoy). The spin
 * never delays other coroutines of this thread: it stops as soon as one is
 * queued here (or the waiter is cancelled), and after SPIN_LIMIT rounds. */
#define SPIN_LIMIT 1024
static void spin_for_grant(kin__job *co, kin__waiter *w) {
    kin__worker *home = co->sched.home;
    for (int i = 0; i < SPIN_LIMIT; i++) {
        if (atomic_load_explicit(&w->granted, memory_order_acquire))
            return;
        if (home->runq_head || home->runnext ||
            atomic_load_explicit(&home->inbox, memory_order_relaxed) ||
            kin__job_is_cancelling(w->cur))
            return;
        kin__cpu_relax();
    }
}

int kin__sync_acquire_locked(kin__sync *s, kin__job *co, const void *owner) {
    if (KIN__LIKELY(s->avail > 0)) {
        /* A free permit: taken without a cancellation check, as kotlinx's
         * acquire() and lock() do when they do not suspend. */
        s->avail--;
        s->owner = owner;
        kin__lock_release(&s->lock);
        return 0;
    }
    if (kin__job_is_cancelling(co->cur)) {
        kin__lock_release(&s->lock);
        return kin__sync_cancelled_rc(co);
    }
    kin__waiter w = {
        .co = co, .cur = co->cur, .owner = owner, .prev = s->tail,
        .queued = true};
    atomic_init(&w.granted, false);
    if (s->tail)
        s->tail->next = &w;
    else
        s->head = &w;
    s->tail = &w;
    kin__lock_release(&s->lock);

    spin_for_grant(co, &w);
    kin__dbg_wait_on(co,
                     s->kind == KIN__SYNC_MUTEX ? KIN__W_MUTEX
                                                : KIN__W_SEMAPHORE,
                     s->idx);
    kin__job_wait(co, &w.granted, true);
    kin__dbg_wait_over(co);

    kin__lock_acquire(&s->lock);
    bool granted = atomic_load_explicit(&w.granted, memory_order_acquire);
    bool cancelled = kin__job_is_cancelling(co->cur);
    if (!granted) {
        /* Cancelled while waiting: never takes it. Unlinked already if a
         * release passed it over. */
        if (w.queued)
            unlink_waiter(s, &w);
    } else if (cancelled) {
        kin__sync_release_locked(s); /* prompt cancellation: pass it on */
    }
    kin__lock_release(&s->lock);
    if (!granted || cancelled)
        return kin__sync_cancelled_rc(co);
    return 0;
}

/* ---- kin_semaphore ---------------------------------------------------------*/

static kin__sync *get_sem(kin_semaphore h, const char *who, int *rc) {
    return kin__sync_get(h.id, KIN__SYNC_SEMAPHORE, who, "semaphore", rc);
}

int kin_semaphore_new(kin_semaphore *out, int permits,
                      const kin_semaphore_opts *opts) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_semaphore_new: out is NULL");
    out->id = 0;
    if (permits <= 0)
        return kin__misuse(KIN_EINVAL,
                           "kin_semaphore_new: a semaphore should have at "
                           "least 1 permit, but had %d",
                           permits);
    int acquired = opts ? opts->acquired_permits : 0;
    if (acquired < 0 || acquired > permits)
        return kin__misuse(KIN_EINVAL,
                           "kin_semaphore_new: the number of acquired permits "
                           "should be in 0..%d, but was %d",
                           permits, acquired);
    if (kin__sync_new(KIN__SYNC_SEMAPHORE, permits, permits - acquired,
                      &out->id) < 0)
        return kin__misuse(KIN_ENOMEM, "kin_semaphore_new: out of memory");
    return 0;
}

int kin_semaphore_destroy(kin_semaphore sem) {
    int rc;
    kin__sync *s = get_sem(sem, "kin_semaphore_destroy", &rc);
    if (!s)
        return rc;
    if (s->head || s->avail != s->permits) {
        bool waiters = s->head != NULL;
        int out = s->permits - s->avail;
        kin__lock_release(&s->lock);
        if (waiters)
            return kin__misuse(KIN_EBUSY,
                               "kin_semaphore_destroy: coroutines are "
                               "waiting to acquire the semaphore");
        return kin__misuse(KIN_EBUSY,
                           "kin_semaphore_destroy: %d permit%s not released",
                           out, out == 1 ? " is" : "s are");
    }
    kin__sync_destroy_locked(s);
    return 0;
}

int kin_semaphore_acquire(kin_semaphore sem) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO,
                           "kin_semaphore_acquire: called outside a coroutine");
    int rc;
    kin__sync *s = get_sem(sem, "kin_semaphore_acquire", &rc);
    if (!s)
        return rc;
    return kin__sync_acquire_locked(s, co, NULL);
}

int kin_semaphore_try_acquire(kin_semaphore sem) {
    int rc;
    kin__sync *s = get_sem(sem, "kin_semaphore_try_acquire", &rc);
    if (!s)
        return rc;
    int got = s->avail > 0;
    if (got)
        s->avail--;
    kin__lock_release(&s->lock);
    return got;
}

static int release_as(const char *who, kin_semaphore sem) {
    int rc;
    kin__sync *s = get_sem(sem, who, &rc);
    if (!s)
        return rc;
    if (s->avail == s->permits) {
        int permits = s->permits;
        kin__lock_release(&s->lock);
        return kin__misuse(KIN_EPERM,
                           "%s: the number of released permits cannot be "
                           "greater than %d",
                           who, permits);
    }
    kin__sync_release_locked(s);
    kin__lock_release(&s->lock);
    return 0;
}

int kin_semaphore_release(kin_semaphore sem) {
    return release_as("kin_semaphore_release", sem);
}

int kin_semaphore_available_permits(kin_semaphore sem) {
    int rc;
    kin__sync *s = get_sem(sem, "kin_semaphore_available_permits", &rc);
    if (!s)
        return rc;
    int n = s->avail;
    kin__lock_release(&s->lock);
    return n;
}

int kin_semaphore_with_permit(kin_semaphore sem, kin_fn fn, void *arg) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO, "kin_semaphore_with_permit: called "
                                         "outside a coroutine");
    if (!fn)
        return kin__misuse(KIN_EINVAL,
                           "kin_semaphore_with_permit: function is NULL");
    int rc;
    kin__sync *s = get_sem(sem, "kin_semaphore_with_permit", &rc);
    if (!s)
        return rc;
    rc = kin__sync_acquire_locked(s, co, NULL);
    if (rc < 0)
        return rc;
    int result = fn(arg);
    /* finally { release() }: an error of the release (fn released the
     * permit itself, or destroyed the semaphore) replaces fn's result, as
     * an exception thrown in a finally block does. */
    rc = release_as("kin_semaphore_with_permit", sem);
    return rc < 0 ? rc : result;
}
