/*
 * suspend.h — the job layer's side of kin_suspend: one suspension of one
 * coroutine, the continuation that names it, and what resuming, cancelling
 * and registering an on-cancel callback do to it. The state machine and
 * its reasons are at the top of suspend.c; the public functions and their
 * argument checks are api/suspend.c.
 */
#ifndef KIN_JOB_SUSPEND_H
#define KIN_JOB_SUSPEND_H

#include <stdbool.h>
#include <stdint.h>

#include "job/job.h"

/* How a suspension stands: the low bits of kin__job.susp_word. */
enum {
    KIN__SUSP_IDLE = 0,       /* the coroutine never suspended by hand */
    KIN__SUSP_WAITING = 1,    /* suspended (or about to): resumable */
    KIN__SUSP_RESUMED = 2,    /* a value or a failure was handed over */
    KIN__SUSP_CANCELLING = 3, /* a canceller claimed it; its callback runs */
    KIN__SUSP_CANCELLED = 4,  /* cancelled; any callback has returned */
};
#define KIN__SUSP_PHASE 7u    /* phase mask */
#define KIN__SUSP_HAS_CB 8u   /* an on-cancel callback is registered */
#define KIN__SUSP_SEQ_SHIFT 4 /* the suspension's number above */

/* One suspension, on the suspended coroutine's stack (no allocation). */
typedef struct kin__susp {
    kin__job *co;
    uint64_t seq;
    /* Set by the resumer, under susp_lock, while WAITING. */
    void *value;
    void (*on_drop)(void *value);
    kin_error *failure;
    /* Set by kin_cont_on_cancel, under susp_lock, while WAITING. */
    void (*on_cancel)(kin_cont cont, void *arg);
    void *on_cancel_arg;
    /* A canceller's list of callbacks to run once its locks are released
     * (thread-local, see kin__susp_drain). */
    struct kin__susp *next;
    /* [susp_lock] the coroutine parked while the callback ran: the drain
     * must wake it again. */
    bool parked_in_cb;
} kin__susp;

static inline uint64_t kin__susp_seq(uint64_t w) {
    return w >> KIN__SUSP_SEQ_SHIFT;
}
static inline unsigned kin__susp_phase(uint64_t w) {
    return (unsigned)(w & KIN__SUSP_PHASE);
}

/* ---- the suspended coroutine's side ---- */

/* Starts the next suspension of the calling coroutine co with rec as its
 * record (zeroed by the caller); born CANCELLED if `cancelled`. Returns its
 * number (> 0). */
uint64_t kin__susp_begin(kin__job *co, kin__susp *rec, bool cancelled);

/* Parks until the suspension is over. Returns KIN__SUSP_RESUMED or
 * KIN__SUSP_CANCELLED; *self_cancelled is set when the coroutine found the
 * cancellation itself (no canceller ran the callback: the caller must). */
unsigned kin__susp_wait(kin__job *co, bool *self_cancelled);

/* ---- anyone's side (co held by a reference) ---- */

/* Why a call on a continuation was refused (for the misuse message). */
enum kin__susp_why {
    KIN__SUSP_WHY_NONE = 0,
    KIN__SUSP_WHY_FUTURE,    /* a number this coroutine never handed out */
    KIN__SUSP_WHY_OVER,      /* the coroutine has moved on since */
    KIN__SUSP_WHY_RESUMED,   /* already resumed */
    KIN__SUSP_WHY_CANCELLED, /* cancelled */
    KIN__SUSP_WHY_HAS_CB,    /* a callback is registered already */
};

/* Hands value (with on_drop) or failure (taken over) to suspension seq of
 * co and wakes it. Returns 0, or KIN_EALREADY / KIN_EINVAL with *why; on
 * error nothing was taken over. */
int kin__susp_resume(kin__job *co, uint64_t seq, void *value,
                     void (*on_drop)(void *), kin_error *failure, int *why);

/* Registers the on-cancel callback of suspension seq. Returns 0 (and sets
 * *run_now if the suspension is already cancelled: the caller runs fn
 * now), or KIN_EALREADY / KIN_EBUSY / KIN_EINVAL with *why. */
int kin__susp_on_cancel(kin__job *co, uint64_t seq,
                        void (*fn)(kin_cont, void *), void *arg, bool *run_now,
                        int *why);

/* True while suspension seq of co is waiting to be resumed. */
bool kin__susp_is_active(kin__job *co, uint64_t seq);

/* ---- the canceller's side (job.c) ---- */

/* co's current job is being cancelled and co waits in it (cancel_wake);
 * called under job locks, before the caller wakes co. If co is suspended
 * by hand, ends that suspension: CANCELLED, or, with an on-cancel
 * callback, CANCELLING with the callback queued for kin__susp_drain (co
 * then waits for it even if it runs before the drain). */
void kin__susp_cancel_locked(kin__job *co);

/* Runs the callbacks kin__susp_cancel_locked queued on this thread and
 * wakes their coroutines. Called once the canceller's locks are released
 * (job.c's run_deferred). */
void kin__susp_drain(void);

#endif
