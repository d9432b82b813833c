/*
 * suspend.c — suspending by hand: kin_suspend and the continuation calls
 * (kin_resume, kin_resume_ex, kin_resume_error, kin_cont_on_cancel,
 * kin_cont_is_active). Kotlin's suspendCancellableCoroutine and its
 * CancellableContinuation.
 *
 * Argument checks and misuse messages live here; the state of a suspension
 * and the protocol between the coroutine, its resumer and its canceller are
 * job/suspend.c's.
 */
#include "base/error.h"
#include "job/job.h"
#include "job/suspend.h"
#include "sched/scheduler.h"

/* The current job's cancellation as the current error; its code. */
static int cancelled_rc(kin__job *co) {
    kin_error *e = kin__job_cancel_error(co->cur);
    int code = e->code;
    kin__error_set(e);
    return code;
}

static void run_on_cancel(kin__susp *rec) {
    if (rec->on_cancel)
        rec->on_cancel((kin_cont){kin__job_handle(rec->co).id, rec->seq},
                       rec->on_cancel_arg);
}

int kin_suspend(kin_suspend_fn start, void *arg, void **value) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO,
                           "kin_suspend: called outside a coroutine");
    if (!start)
        return kin__misuse(KIN_EINVAL, "kin_suspend: start is NULL");
    kin__job *cur = co->cur;
    kin__susp rec = {0};
    /* Already cancelled: start still runs (Kotlin calls the block exactly
     * once), with a continuation that is cancelled already. */
    bool cancelled = kin__job_is_cancelling(cur);
    uint64_t seq = kin__susp_begin(co, &rec, cancelled);
    kin_cont cont = {kin__job_handle(co).id, seq};
    if (cancelled) {
        start(cont, arg); /* a callback it registers runs at once */
        return cancelled_rc(co);
    }
    atomic_store(&co->cancel_wake, cur); /* before start hands cont out */
    start(cont, arg);
    kin__dbg_wait(co, KIN__W_SUSPEND, 0, 0);
    bool self_cancelled;
    unsigned how = kin__susp_wait(co, &self_cancelled);
    kin__dbg_wait(co, KIN__W_NONE, 0, 0);
    atomic_store_explicit(&co->cancel_wake, NULL, memory_order_relaxed);

    if (how == KIN__SUSP_CANCELLED) {
        if (self_cancelled)
            run_on_cancel(&rec); /* nobody else ran it */
        return cancelled_rc(co);
    }
    if (rec.failure) {
        /* A failure is delivered even if we were cancelled (rule 16). */
        kin__error_set(rec.failure);
        return kin_error_code(rec.failure);
    }
    if (kin__job_is_cancelling(cur)) {
        /* Prompt cancellation: resumed, but cancelled before it ran. The
         * callback runs (Kotlin: "whenever the caller is getting a
         * CancellationException"), then the value goes to its on_drop. */
        run_on_cancel(&rec);
        if (rec.on_drop)
            rec.on_drop(rec.value);
        return cancelled_rc(co);
    }
    if (value)
        *value = rec.value;
    else if (rec.on_drop)
        rec.on_drop(rec.value);
    return 0;
}

/* The coroutine a continuation names, with a reference; NULL with the
 * misuse reported. */
static kin__job *cont_job(const char *who, kin_cont cont, int *rc) {
    kin__job *co = NULL;
    if (cont.seq != 0)
        co = kin__job_acquire((kin_job){cont.job}, rc);
    else
        *rc = KIN_EINVAL;
    if (!co)
        *rc = kin__misuse(*rc,
                          *rc == KIN_ESTALE
                              ? "%s: stale continuation (the coroutine "
                                "completed and its record was reclaimed)"
                              : "%s: invalid continuation",
                          who);
    return co;
}

static int refused(const char *who, int rc, int why) {
    switch (why) {
    case KIN__SUSP_WHY_OVER:
        return kin__misuse(rc, "%s: that suspension is over (the coroutine "
                               "has moved on)",
                           who);
    case KIN__SUSP_WHY_RESUMED:
        return kin__misuse(rc, "%s: the continuation was already resumed",
                           who);
    case KIN__SUSP_WHY_CANCELLED:
        return kin__misuse(rc, "%s: the suspension was cancelled", who);
    case KIN__SUSP_WHY_HAS_CB:
        return kin__misuse(rc,
                           "%s: the continuation already has an on-cancel "
                           "callback",
                           who);
    default:
        return kin__misuse(rc,
                           "%s: invalid continuation (the coroutine never "
                           "handed it out)",
                           who);
    }
}

static int resume(const char *who, kin_cont cont, void *value,
                  void (*on_drop)(void *), kin_error *failure) {
    int rc, why = 0;
    kin__job *co = kin__running_job();
    if (co && cont.seq && cont.job == kin__job_handle(co).id) {
        /* start resuming its own coroutine (Kotlin's fast path): the
         * record is the running one, no reference needed. */
        rc = kin__susp_resume(co, cont.seq, value, on_drop, failure, &why);
        if (rc == 0)
            return 0;
        rc = refused(who, rc, why);
    } else if ((co = cont_job(who, cont, &rc)) != NULL) {
        rc = kin__susp_resume(co, cont.seq, value, on_drop, failure, &why);
        kin__job_unref(co);
        if (rc == 0)
            return 0;
        rc = refused(who, rc, why);
    }
    /* Not delivered: the value and the failure are dropped here. */
    if (on_drop)
        on_drop(value);
    kin_error_release(failure);
    return rc;
}

int kin_resume(kin_cont cont, void *value) {
    return resume("kin_resume", cont, value, NULL, NULL);
}

int kin_resume_ex(kin_cont cont, void *value, void (*on_drop)(void *value)) {
    return resume("kin_resume_ex", cont, value, on_drop, NULL);
}

int kin_resume_error(kin_cont cont, kin_error *failure) {
    if (!failure)
        return kin__misuse(KIN_EINVAL, "kin_resume_error: failure is NULL");
    return resume("kin_resume_error", cont, NULL, NULL, failure);
}

int kin_cont_on_cancel(kin_cont cont, kin_cont_cancel_fn fn, void *arg) {
    if (!fn)
        return kin__misuse(KIN_EINVAL, "kin_cont_on_cancel: fn is NULL");
    int rc, why = 0;
    kin__job *co = cont_job("kin_cont_on_cancel", cont, &rc);
    if (!co)
        return rc;
    bool run_now;
    rc = kin__susp_on_cancel(co, cont.seq, fn, arg, &run_now, &why);
    kin__job_unref(co);
    if (rc < 0)
        return refused("kin_cont_on_cancel", rc, why);
    if (run_now)
        fn(cont, arg); /* already cancelled: at once, in the caller */
    return 0;
}

bool kin_cont_is_active(kin_cont cont) {
    int rc;
    if (cont.seq == 0)
        return false;
    kin__job *co = kin__job_acquire((kin_job){cont.job}, &rc);
    if (!co)
        return false;
    bool active = kin__susp_is_active(co, cont.seq);
    kin__job_unref(co);
    return active;
}
