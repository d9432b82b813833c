/*
 * scopefn.c — the scope functions: kin_coroutine_scope,
 * kin_supervisor_scope, kin_with_timeout, kin_with_timeout_or_null,
 * kin_non_cancellable. Each runs its block in place, on the calling
 * coroutine's stack, inside a new job, and waits for the job's children
 * before returning (kin.h L5).
 *
 * The wait for children is not cancellable: even if the caller is cancelled
 * the scope must not return while a child may still use the caller's stack.
 * The children are cancelled with the scope instead, and the scope returns
 * once they have finished their cleanup (DESIGN rule 12).
 */
#include "api/launch.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "sched/dispatcher.h"
#include "sched/scheduler.h"
#include "sched/timer.h"

typedef struct scope_waiter {
    kin__node node;
    kin__job *co;
} scope_waiter;

static void scope_waiter_fire(kin__node *n, kin__job *job) {
    (void)job;
    kin__job *co = ((scope_waiter *)n)->co;
    kin__job_wake_waiter(co, &n->fired);
}

typedef struct timeout_arm {
    kin__job *job;
    kin_error *error; /* the timeout this scope reports as its own */
} timeout_arm;

static void timeout_fire(kin__timer *t) {
    timeout_arm *a = t->arg;
    kin__job_cancel(a->job, kin_error_retain(a->error));
}

enum { PLAIN = 0, TIMEOUT = 1, OR_NULL = 2 };

static int scope_result(kin__job *j, int mode, kin_error *own_timeout, int rc);

static int run_scope(const char *who, kin_fn fn, void *arg, uint8_t flags,
                     int mode, int64_t ms) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine", who);
    if (!fn)
        return kin__misuse(KIN_EINVAL, "%s: the block function is NULL", who);
    if (mode != PLAIN && ms <= 0) {
        /* A zero or negative timeout never runs the block (Kotlin). */
        if (mode == OR_NULL)
            return KIN_NULL;
        kin__error_set(kin__error_make(KIN_ETIMEDOUT,
                                       "TimeoutCancellationException", NULL,
                                       "Timed out immediately"));
        return KIN_ETIMEDOUT;
    }
    kin__job *outer = co->cur;
    kin__job *j = kin__job_alloc(2); /* tree + ours */
    if (!j)
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    j->kind = KIN__SCOPE;
    j->flags = flags | KIN__F_SCOPED;
    j->coro = co;
    j->outer = outer;
    j->handler = outer->handler;
    j->handler_arg = outer->handler_arg;
    j->sched.dispatcher = co->sched.dispatcher;
    j->seq = kin__job_next_seq();
    /* A non-cancellable section hangs off no parent: outer cancellation
     * does not reach it (Kotlin's withContext(NonCancellable)). */
    kin__job_attach(j, (flags & KIN__F_NONCANCEL) ? NULL : outer, false);

    timeout_arm arm = {.job = j};
    kin__timer timer;
    kin__timer_init(&timer, timeout_fire, &arm);
    if (mode != PLAIN) {
        /* kotlinx 1.11 names the CoroutineName of the context, inherited
         * from the enclosing coroutines; none: the plain message. */
        const char *name = kin__job_given_name(outer);
        if (name)
            arm.error = kin__error_make(
                KIN_ETIMEDOUT, "TimeoutCancellationException", NULL,
                "Coroutine \"%s\" timed out waiting for %lld ms", name,
                (long long)ms);
        else
            arm.error = kin__error_make(
                KIN_ETIMEDOUT, "TimeoutCancellationException", NULL,
                "Timed out waiting for %lld ms", (long long)ms);
        kin__worker *w = co->sched.home;
        int64_t now = kin__now(w);
        int64_t ns =
            ms > (INT64_MAX - now) / 1000000 ? INT64_MAX - now : ms * 1000000;
        if (kin__timer_add(&w->timers, &timer, now + ns, now) < 0) {
            kin_error_release(arm.error);
            kin__job_body_done(j, KIN_ECANCELED, NULL);
            kin__job_unref(j);
            return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
        }
        co->sched.timers_armed++; /* an Unconfined coroutine stays with its timer */
    }

    co->cur = j;
    int rc = fn(arg);
    co->cur = outer;
    kin__job_body_done(j, rc, co->sched.error);

    scope_waiter sw = {.co = co};
    sw.node.fire = scope_waiter_fire;
    sw.node.after_handlers = true; /* resumed after them, as in Kotlin */
    if (kin__job_add_node(j, &sw.node)) {
        kin__dbg_wait(co, KIN__W_CHILDREN, kin__job_handle(j).id, 0);
        kin__job_wait(co, &sw.node.fired, false);
        kin__dbg_wait(co, KIN__W_NONE, 0, 0);
    } else {
        kin__job_wait_left_parent(j); /* completed by a child elsewhere */
    }
    if (mode != PLAIN) {
        kin__timer_remove(&co->sched.home->timers, &timer);
        co->sched.timers_armed--;
    }
    return scope_result(j, mode, arm.error, rc);
}

/* The result of a completed scope (or with_context) job for its caller;
 * drops the caller's reference to j and to its own timeout error. */
static int scope_result(kin__job *j, int mode, kin_error *own_timeout, int rc) {
    kin_error *cause = kin__job_final_cause(j);
    if (!cause) {
        rc = 0;
    } else if (mode != PLAIN && cause == own_timeout) {
        /* Our own timeout, even if the block swallowed it (rule 15). */
        if (mode == OR_NULL) {
            rc = KIN_NULL;
        } else {
            kin__error_set(kin_error_retain(cause));
            rc = KIN_ETIMEDOUT;
        }
    } else {
        kin__error_set(kin_error_retain(cause));
        rc = cause->code;
    }
    kin_error_release(own_timeout);
    kin__job_unref(j);
    return rc;
}

int kin_coroutine_scope(kin_fn fn, void *arg) {
    return run_scope("kin_coroutine_scope", fn, arg, 0, PLAIN, 0);
}

int kin_supervisor_scope(kin_fn fn, void *arg) {
    return run_scope("kin_supervisor_scope", fn, arg, KIN__F_SUPERVISOR, PLAIN,
                     0);
}

int kin_with_timeout(int64_t ms, kin_fn fn, void *arg) {
    return run_scope("kin_with_timeout", fn, arg, 0, TIMEOUT, ms);
}

int kin_with_timeout_or_null(int64_t ms, kin_fn fn, void *arg) {
    return run_scope("kin_with_timeout_or_null", fn, arg, 0, OR_NULL, ms);
}

int kin_non_cancellable(kin_fn fn, void *arg) {
    return run_scope("kin_non_cancellable", fn, arg, KIN__F_NONCANCEL, PLAIN,
                     0);
}

/* Sets the caller's cancellation as its current error; returns its code. */
static int caller_cancelled(kin__job *co) {
    kin_error *e = kin__job_cancel_error(co->cur);
    int code = e->code;
    kin__error_set(e);
    return code;
}

/* with_context: the block runs as a child coroutine on d, scoped (its
 * failure comes back as our return value, rule 14), while we wait for it
 * without being cancellable: our cancellation reaches it through the tree,
 * and our stack must outlive it (L5). */
int kin_with_context(kin_dispatcher *d, kin_fn fn, void *arg) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO,
                           "kin_with_context: called outside a coroutine");
    if (!d || !fn)
        return kin__misuse(KIN_EINVAL, "kin_with_context: %s is NULL",
                           d ? "the block function" : "the dispatcher");
    if (kin__job_is_cancelling(co->cur))
        return caller_cancelled(co); /* kotlinx: ensureActive() first */
    d = kin__dispatcher_redirect(d); /* a test loop's stand-in? */
    if (kin__dispatcher_is_current(d))
        return run_scope("kin_with_context", fn, arg, 0, PLAIN, 0);
    kin__job *b = NULL;
    kin__spawn_req rq = {"kin_with_context", co->cur, NULL, KIN__F_SCOPED, &b};
    kin_launch_opts o = {.dispatcher = d};
    int rc = kin__spawn(&rq, NULL, &o, fn, NULL, arg);
    if (rc < 0)
        return rc;
    scope_waiter sw = {.co = co};
    sw.node.fire = scope_waiter_fire;
    sw.node.after_handlers = true; /* resumed after them, as in Kotlin */
    if (kin__job_add_node(b, &sw.node)) {
        kin__dbg_wait(co, KIN__W_CONTEXT, kin__job_handle(b).id, 0);
        kin__job_wait(co, &sw.node.fired, false);
        kin__dbg_wait(co, KIN__W_NONE, 0, 0);
    } else {
        kin__job_wait_left_parent(b); /* it completed on d meanwhile */
    }
    if (!kin__job_final_cause(b) && kin__job_is_cancelling(co->cur)) {
        /* Prompt cancellation on the way back (rule 16), as kotlinx
         * resumes the caller through a cancellable dispatch: a block that
         * succeeded is dropped, a failure would have been returned. */
        kin__job_unref(b);
        return caller_cancelled(co);
    }
    return scope_result(b, PLAIN, NULL, 0);
}
