/*
 * suspend.c — suspending by hand (kin_suspend, Kotlin's
 * suspendCancellableCoroutine): the state of one suspension, and what a
 * resumer, a canceller and a callback registration do to it.
 *
 * A CONTINUATION is {job handle of the coroutine, suspension number}. The
 * handle part is checked like every kin_job (slot.c: a reclaimed record
 * reads as stale, never as freed memory); the number part is checked
 * against kin__job.susp_word, which holds the number of the coroutine's
 * latest suspension and how it stands:
 *
 *               resume                        (the coroutine returns
 *   WAITING ---------------------> RESUMED     the value, the failure,
 *     |  |                                     or, if cancelled meanwhile,
 *     |  | cancel, no callback                 the cancellation: rule 16)
 *     |  +-----------------------> CANCELLED
 *     |  cancel, callback                  ^
 *     +--------------> CANCELLING ---------+
 *                      (the canceller runs the callback, then wakes it)
 *
 * plus a flag HAS_CB (a callback is registered). Exactly one resume or
 * cancellation wins, because every transition out of WAITING happens under
 * the job's susp_lock after re-reading the word; the losers see the
 * suspension over and get KIN_EALREADY. The coroutine starts suspension
 * n+1 with a plain store once suspension n is over (nobody else writes the
 * word then, except a late registration marking HAS_CB on a CANCELLED word,
 * which uses a compare-and-swap and fails harmlessly).
 *
 * THE RECORD (kin__susp: value, failure, on_drop, callback) lives on the
 * coroutine's stack: no allocation per suspension. Others write it only
 * under susp_lock while the word says WAITING with their number, and the
 * coroutine does not leave kin_suspend before the word says RESUMED or
 * CANCELLED, so the record outlives every writer.
 *
 * CANCELLATION. The coroutine publishes cancel_wake like every cancellable
 * wait (coroutine.c); cancel_tree (job.c) calls kin__susp_cancel_locked
 * for it under the job locks, then wakes it as it wakes every waiter (so
 * the run queue's order is the usual one, DESIGN rule 11). With no
 * callback the word goes to CANCELLED. With a callback it goes to
 * CANCELLING and the record is queued on the canceller's thread; when the
 * canceller has released its locks (job.c's run_deferred) kin__susp_drain
 * runs the callback in the cancelling thread, then sets CANCELLED (and
 * wakes the coroutine again if it ran meanwhile and found CANCELLING). As
 * in kotlinx.coroutines, where cancelling a job invokes
 * invokeOnCancellation's handler synchronously in the cancelling thread,
 * kin_cancel returns after the callback, and the suspended caller resumes
 * only after it. If the coroutine sees its cancellation first (it raced
 * the canceller, or was cancelled while start() ran, before it published
 * cancel_wake), it claims the suspension itself and runs the callback on
 * its own thread. Either way the callback runs exactly once and returns
 * before kin_suspend does. Callbacks queued by one cancellation run in the
 * order the walk found them (children before parents, Kotlin's order).
 *
 * Lock order: susp_lock is a leaf. A canceller takes it under job locks;
 * nobody takes a job lock under it. Wake-ups happen after it is released.
 */
#include <stddef.h>

#include "base/kin_assert.h"
#include "base/lock.h"
#include "job/suspend.h"
#include "sched/scheduler.h"

/* Callbacks claimed by cancellations on this thread, to run once its job
 * locks are released: a FIFO. */
static __thread kin__susp *t_pending
    __attribute__((tls_model("initial-exec")));
static __thread kin__susp *t_pending_tail
    __attribute__((tls_model("initial-exec")));

static inline uint64_t load_word(kin__job *co) {
    return atomic_load_explicit(&co->susp_word, memory_order_acquire);
}

static inline void store_word(kin__job *co, uint64_t w) {
    atomic_store_explicit(&co->susp_word, w, memory_order_release);
}

static inline uint64_t with_phase(uint64_t w, unsigned phase) {
    return (w & ~(uint64_t)KIN__SUSP_PHASE) | phase;
}

/* Why suspension seq cannot be acted on, given the word; 0 if it waits. */
static int refusal(uint64_t w, uint64_t seq, int *why) {
    uint64_t cur = kin__susp_seq(w);
    if (seq > cur) {
        *why = KIN__SUSP_WHY_FUTURE;
        return KIN_EINVAL;
    }
    if (seq < cur) {
        *why = KIN__SUSP_WHY_OVER;
        return KIN_EALREADY;
    }
    switch (kin__susp_phase(w)) {
    case KIN__SUSP_WAITING:
        return 0;
    case KIN__SUSP_RESUMED:
        *why = KIN__SUSP_WHY_RESUMED;
        return KIN_EALREADY;
    case KIN__SUSP_CANCELLING:
    case KIN__SUSP_CANCELLED:
        *why = KIN__SUSP_WHY_CANCELLED;
        return KIN_EALREADY;
    default: /* IDLE with seq == 0 is caught by the caller */
        *why = KIN__SUSP_WHY_FUTURE;
        return KIN_EINVAL;
    }
}

/* ---- the suspended coroutine ---------------------------------------------*/

uint64_t kin__susp_begin(kin__job *co, kin__susp *rec, bool cancelled) {
    uint64_t seq = kin__susp_seq(atomic_load_explicit(
                       &co->susp_word, memory_order_relaxed)) +
                   1;
    rec->co = co;
    rec->seq = seq;
    co->susp_rec = rec;
    /* release: whoever reads WAITING with this number finds rec set. */
    store_word(co, (seq << KIN__SUSP_SEQ_SHIFT) |
                       (cancelled ? KIN__SUSP_CANCELLED : KIN__SUSP_WAITING));
    return seq;
}

unsigned kin__susp_wait(kin__job *co, bool *self_cancelled) {
    kin__job *cur = co->cur;
    *self_cancelled = false;
    for (;;) {
        uint64_t w = load_word(co);
        unsigned phase = kin__susp_phase(w);
        if (phase == KIN__SUSP_RESUMED || phase == KIN__SUSP_CANCELLED)
            return phase;
        if (phase == KIN__SUSP_CANCELLING) {
            /* A canceller runs our callback; it wakes us once it returned
             * if we say (under the lock) that we parked. */
            kin__lock_acquire(&co->susp_lock);
            bool wait = kin__susp_phase(load_word(co)) == KIN__SUSP_CANCELLING;
            if (wait)
                co->susp_rec->parked_in_cb = true;
            kin__lock_release(&co->susp_lock);
            if (wait)
                kin__park(&co->sched);
            continue;
        }
        /* seq_cst load: pairs with cancel_tree's store of CANCELLING after
         * our store to cancel_wake (coroutine.c, CANCELLABLE WAITS). */
        if (kin__job_is_cancelling(cur)) {
            kin__lock_acquire(&co->susp_lock);
            w = load_word(co);
            bool mine = kin__susp_phase(w) == KIN__SUSP_WAITING;
            if (mine)
                store_word(co, with_phase(w, KIN__SUSP_CANCELLED));
            kin__lock_release(&co->susp_lock);
            if (mine) {
                *self_cancelled = true;
                return KIN__SUSP_CANCELLED;
            }
            continue; /* a resumer or a canceller got there first */
        }
        kin__park(&co->sched);
    }
}

/* ---- resumers and registrations (any thread) ------------------------------*/

int kin__susp_resume(kin__job *co, uint64_t seq, void *value,
                     void (*on_drop)(void *), kin_error *failure, int *why) {
    kin__lock_acquire(&co->susp_lock);
    uint64_t w = load_word(co);
    int rc = refusal(w, seq, why);
    if (rc == 0) {
        kin__susp *rec = co->susp_rec;
        rec->value = value;
        rec->on_drop = on_drop;
        rec->failure = failure;
        store_word(co, with_phase(w, KIN__SUSP_RESUMED));
    }
    kin__lock_release(&co->susp_lock);
    /* The caller holds a reference, so co is a live record. A coroutine
     * resuming itself from start() is running: it reads the word before it
     * would park, so it needs no wake-up (which would leave a stale
     * NOTIFIED behind). */
    if (rc == 0 && kin__current_coro() != &co->sched)
        kin__wake(&co->sched);
    return rc;
}

int kin__susp_on_cancel(kin__job *co, uint64_t seq,
                        void (*fn)(kin_cont, void *), void *arg, bool *run_now,
                        int *why) {
    *run_now = false;
    kin__lock_acquire(&co->susp_lock);
    uint64_t w = load_word(co);
    int rc = 0;
    if (kin__susp_seq(w) == seq && (w & KIN__SUSP_HAS_CB)) {
        *why = KIN__SUSP_WHY_HAS_CB;
        rc = KIN_EBUSY;
    } else if (kin__susp_seq(w) == seq &&
               kin__susp_phase(w) == KIN__SUSP_CANCELLED) {
        /* Already cancelled: run it now, as Kotlin's invokeOnCancellation
         * does. Mark it, so a second registration is refused; the
         * coroutine may have started its next suspension meanwhile (no
         * lock keeps it out), then the number is over. */
        if (atomic_compare_exchange_strong(&co->susp_word, &w,
                                           w | KIN__SUSP_HAS_CB))
            *run_now = true;
        else
            rc = refusal(w, seq, why);
    } else {
        rc = refusal(w, seq, why);
        if (rc == 0) {
            kin__susp *rec = co->susp_rec;
            rec->on_cancel = fn;
            rec->on_cancel_arg = arg;
            store_word(co, w | KIN__SUSP_HAS_CB);
        }
    }
    kin__lock_release(&co->susp_lock);
    return rc;
}

bool kin__susp_is_active(kin__job *co, uint64_t seq) {
    uint64_t w = load_word(co);
    return seq != 0 && kin__susp_seq(w) == seq &&
           kin__susp_phase(w) == KIN__SUSP_WAITING;
}

/* ---- cancellers (job.c) ---------------------------------------------------*/

void kin__susp_cancel_locked(kin__job *co) {
    if (kin__susp_phase(load_word(co)) != KIN__SUSP_WAITING)
        return; /* another kind of wait, or already over */
    kin__lock_acquire(&co->susp_lock);
    uint64_t w = load_word(co);
    if (kin__susp_phase(w) == KIN__SUSP_WAITING) {
        if (w & KIN__SUSP_HAS_CB) {
            store_word(co, with_phase(w, KIN__SUSP_CANCELLING));
            kin__susp *rec = co->susp_rec;
            kin__job_ref(co); /* until the drain is done with it */
            rec->next = NULL;
            if (t_pending_tail)
                t_pending_tail->next = rec;
            else
                t_pending = rec;
            t_pending_tail = rec;
        } else {
            store_word(co, with_phase(w, KIN__SUSP_CANCELLED));
        }
    }
    kin__lock_release(&co->susp_lock);
}

void kin__susp_drain(void) {
    kin__susp *rec;
    while ((rec = t_pending) != NULL) {
        t_pending = rec->next;
        if (!t_pending)
            t_pending_tail = NULL;
        /* rec stays valid: the coroutine waits while CANCELLING. */
        kin__job *co = rec->co;
        kin_cont cont = {kin__job_handle(co).id, rec->seq};
        rec->on_cancel(cont, rec->on_cancel_arg);
        kin__lock_acquire(&co->susp_lock);
        uint64_t w = load_word(co);
        KIN__ASSERT(kin__susp_phase(w) == KIN__SUSP_CANCELLING);
        bool wake = rec->parked_in_cb;
        store_word(co, with_phase(w, KIN__SUSP_CANCELLED));
        kin__lock_release(&co->susp_lock); /* rec may be gone from here on */
        if (wake)
            kin__wake(&co->sched);
        kin__job_unref(co);
    }
}
