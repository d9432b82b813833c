/*
 * testing.c — stepping a kin_run_test loop's virtual clock by hand, as
 * kotlinx-coroutines-test's TestScope does: kin_test_advance_time_by,
 * kin_test_advance_until_idle, kin_test_run_current.
 *
 * kotlinx runs the other tasks inside these (non-suspending) calls. Here
 * the caller is a coroutine of the loop: it registers as the loop's one
 * "virtual waiter" with a time limit (sched/scheduler.c,
 * kin__virtual_wait_begin) and parks; the loop runs everything it has
 * before the limit, moving its clock through the timers, and when nothing
 * is left it sets the clock to the limit and wakes the caller. The wait is
 * cancellable (every suspension point is, DESIGN rule 2).
 *
 * The test stand-ins for Default and IO (kin_run_opts.test_default,
 * test_io) live with the dispatchers (sched/dispatcher.c) and are switched
 * on by kin_run_blocking_opts (launch.c).
 */
#include "base/error.h"
#include "job/job.h"
#include "sched/scheduler.h"

/* Sets the current job's cancellation as the current error; its code. */
static int cancelled_rc(kin__job *co) {
    kin_error *e = kin__job_cancel_error(co->cur);
    int code = e->code;
    kin__error_set(e);
    return code;
}

/* Waits until the caller's loop has nothing left to run before `limit` on
 * its clock (nanoseconds; INT64_MAX: none at all). */
static int wait_idle(const char *who, int64_t ms, bool until_idle) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine",
                           who);
    if (ms < 0)
        return kin__misuse(KIN_EINVAL, "%s: negative time %lld ms", who,
                           (long long)ms);
    kin__worker *w = co->sched.home;
    if (!w->virtual_time)
        return kin__misuse(KIN_EPERM,
                           "%s: the calling coroutine's loop has no virtual "
                           "time (call it inside kin_run_test)",
                           who);
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    int64_t limit = INT64_MAX;
    if (!until_idle) {
        int64_t now = kin__now(w);
        limit = ms > (INT64_MAX - now) / 1000000 ? INT64_MAX - 1
                                                  : now + ms * 1000000;
    }
    atomic_bool fired;
    atomic_init(&fired, false);
    if (!kin__virtual_wait_begin(w, &co->sched, &fired, limit))
        return kin__misuse(KIN_EBUSY,
                           "%s: another coroutine of this loop is advancing "
                           "its time",
                           who);
    kin__job_wait(co, &fired, true);
    kin__virtual_wait_end(w, &co->sched);
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    return 0;
}

int kin_test_advance_time_by(int64_t ms) {
    return wait_idle("kin_test_advance_time_by", ms, false);
}

int kin_test_advance_until_idle(void) {
    return wait_idle("kin_test_advance_until_idle", 0, true);
}

int kin_test_run_current(void) {
    return wait_idle("kin_test_run_current", 0, false);
}
