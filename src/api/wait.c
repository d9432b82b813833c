/*
 * wait.c — the suspension points: kin_join, kin_await, kin_join_all,
 * kin_await_all, kin_delay, kin_yield, and the cancellation calls that go
 * with them (kin_cancel, kin_is_active, kin_ensure_active).
 *
 * One contract for all of them (DESIGN rule 2, libdill's habit): if the
 * calling coroutine's current job is cancelling, they return its
 * cancellation code (KIN_ECANCELED, or KIN_ETIMEDOUT inside a timed-out
 * kin_with_timeout block) at once, and again after resuming even if what
 * they waited for became ready meanwhile (prompt cancellation, rule 16). The
 * one exception is a wait that ended in the awaited job's failure: that
 * failure is returned. Like kotlinx, kin_delay(0) returns before the check,
 * and so does kin_await of a job that has already completed (kin_join of
 * one still checks).
 */
#include <stdlib.h>

#include "api/launch.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "sched/scheduler.h"

/* Sets the current job's cancellation as the current error and returns its
 * code. */
static int cancelled_rc(kin__job *co) {
    KIN__ASSERT(kin__running_job() == co);
    kin_error *e = kin__job_cancel_error(co->cur);
    int code = e->code;
    kin__job_set_error(co, e);
    return code;
}

static kin__job *need_coro(const char *who) {
    kin__job *co = kin__running_job();
    if (!co)
        kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine", who);
    return co;
}

static kin__job *need_job(const char *who, kin_job h, int *rc) {
    kin__job *j = kin__job_acquire(h, rc);
    if (!j)
        *rc = kin__misuse(*rc,
                          *rc == KIN_ESTALE
                              ? "%s: stale handle (the job completed and its "
                                "record was reclaimed)"
                              : "%s: invalid handle",
                          who);
    return j;
}

/* ---- Waiting for one job ----------------------------------------------------*/

typedef struct job_waiter {
    kin__node node;
    kin__job *co;
} job_waiter;

static void job_waiter_fire(kin__node *n, kin__job *job) {
    (void)job;
    kin__job *co = ((job_waiter *)n)->co; /* read before `fired` frees n */
    kin__job_wake_waiter(co, &n->fired);
}

/* Suspends co until j completes or (cancellable) co's job is cancelled.
 * Returns true if j completed. */
static bool wait_for_job(kin__job *co, kin__job *j, bool cancellable) {
    if (kin__state_final(kin__job_state(j)))
        return true; /* already completed: no lock, no node */
    job_waiter w = {.co = co};
    w.node.fire = job_waiter_fire;
    if (!kin__job_add_node(j, &w.node))
        return true; /* completed meanwhile */
    kin__dbg_wait(co, (j->flags & KIN__F_ASYNC) ? KIN__W_AWAIT : KIN__W_JOIN,
                  kin__job_handle(j).id, 0);
    kin__job_wait(co, &w.node.fired, cancellable);
    kin__dbg_wait(co, KIN__W_NONE, 0, 0);
    if (!atomic_load_explicit(&w.node.fired, memory_order_acquire))
        kin__job_remove_node(j, &w.node); /* then nobody touches w again */
    return atomic_load_explicit(&w.node.fired, memory_order_acquire);
}

/* Checks shared by join and await; returns 0 or an error code. */
static int wait_preflight(const char *who, kin__job *co, kin__job *j) {
    if (kin__job_is_self_or_ancestor(co->cur, j))
        return kin__misuse(KIN_EDEADLK,
                           "%s: a coroutine cannot wait for itself or an "
                           "enclosing job (it would never complete)",
                           who);
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    kin__start_lazy(j);
    return 0;
}

int kin_join(kin_job job) {
    kin__job *co = need_coro("kin_join");
    if (!co)
        return KIN_ENOTCORO;
    int rc;
    kin__job *j = need_job("kin_join", job, &rc);
    if (!j)
        return rc;
    rc = wait_preflight("kin_join", co, j);
    if (rc == 0) {
        wait_for_job(co, j, true);
        if (kin__job_is_cancelling(co->cur))
            rc = cancelled_rc(co);
    }
    kin__job_unref(j);
    return rc;
}

/* The outcome of a completed async job for an awaiter that was (or was not)
 * cancelled: its value, its failure, or a cancellation. co NULL: the job
 * had completed before the await (no check of the caller, as kotlinx's
 * awaitInternal fast path). */
static int await_outcome(kin__job *co, kin__job *j, void **result) {
    kin_error *cause = kin__job_final_cause(j);
    if (cause && !kin__is_cancel_code(cause->code)) {
        kin__error_set(kin_error_retain(cause)); /* rule 16: delivered */
        return cause->code;
    }
    if (co && kin__job_is_cancelling(co->cur))
        return cancelled_rc(co); /* prompt cancellation drops the value */
    if (cause) {
        kin__error_set(kin_error_retain(cause));
        return cause->code;
    }
    if (result)
        *result = j->result;
    return 0;
}

int kin_await(kin_job job, void **result) {
    kin__job *co = need_coro("kin_await");
    if (!co)
        return KIN_ENOTCORO;
    int rc;
    kin__job *j = need_job("kin_await", job, &rc);
    if (!j)
        return rc;
    if (!(j->flags & KIN__F_ASYNC)) {
        kin__job_unref(j);
        return kin__misuse(KIN_ENOTASYNC,
                           "kin_await: the job was not made by kin_async; "
                           "use kin_join");
    }
    if (kin__state_final(kin__job_state(j))) {
        rc = await_outcome(NULL, j, result); /* no wait, no check */
        kin__job_unref(j);
        return rc;
    }
    rc = wait_preflight("kin_await", co, j);
    if (rc == 0) {
        if (wait_for_job(co, j, true))
            rc = await_outcome(co, j, result);
        else
            rc = cancelled_rc(co);
    }
    kin__job_unref(j);
    return rc;
}

int kin_cancel_and_join(kin_job job) {
    int rc = kin_cancel(job, NULL);
    if (rc < 0)
        return rc;
    return kin_join(job);
}

int kin_join_all(const kin_job *jobs, size_t n) {
    kin__job *co = need_coro("kin_join_all");
    if (!co)
        return KIN_ENOTCORO;
    if (n && !jobs)
        return kin__misuse(KIN_EINVAL, "kin_join_all: jobs is NULL");
    int rc;
    for (size_t i = 0; i < n; i++) { /* validate everything first */
        kin__job *j = need_job("kin_join_all", jobs[i], &rc);
        if (!j)
            return rc;
        bool self = kin__job_is_self_or_ancestor(co->cur, j);
        kin__job_unref(j);
        if (self)
            return kin__misuse(KIN_EDEADLK,
                               "kin_join_all: a coroutine cannot wait for "
                               "itself or an enclosing job");
    }
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    for (size_t i = 0; i < n; i++) {
        int err;
        kin__job *j = kin__job_acquire(jobs[i], &err);
        if (!j)
            continue; /* reclaimed since: it has completed */
        kin__start_lazy(j);
        bool done = wait_for_job(co, j, true);
        kin__job_unref(j);
        if (!done || kin__job_is_cancelling(co->cur))
            return cancelled_rc(co);
    }
    return 0;
}

/* ---- Waiting for several async jobs ---------------------------------------*/

typedef struct multi_wait {
    kin__job *co;
    atomic_size_t remaining;
    atomic_long first_bad; /* index of the first job to fail, or -1 */
    atomic_bool done;
} multi_wait;

typedef struct multi_node {
    kin__node node;
    multi_wait *m;
    size_t index;
} multi_node;

static void multi_fire(kin__node *n, kin__job *job) {
    multi_node *mn = (multi_node *)n;
    multi_wait *m = mn->m;
    kin__job *co = m->co;
    bool bad = kin__job_final_cause(job) != NULL;
    if (bad) {
        long expected = -1;
        atomic_compare_exchange_strong(&m->first_bad, &expected,
                                       (long)mn->index);
    }
    bool held = kin__job_hold_for_wake(co); /* see kin__job_wake_waiter */
    atomic_store(&n->fired, true);
    if (atomic_fetch_sub(&m->remaining, 1) == 1 || bad) {
        atomic_store(&m->done, true);
        kin__wake(&co->sched);
    }
    if (held)
        kin__job_unref(co);
}

int kin_await_all(const kin_job *jobs, size_t n, void **results) {
    kin__job *co = need_coro("kin_await_all");
    if (!co)
        return KIN_ENOTCORO;
    if (n && !jobs)
        return kin__misuse(KIN_EINVAL, "kin_await_all: jobs is NULL");
    if (n == 0)
        return 0;
    multi_node local[8];
    kin__job *local_jobs[8];
    multi_node *nodes = n <= 8 ? local : kin__calloc(n, sizeof *nodes);
    kin__job **js = n <= 8 ? local_jobs : kin__calloc(n, sizeof *js);
    int rc = 0;
    if (!nodes || !js) {
        rc = kin__misuse(KIN_ENOMEM, "kin_await_all: out of memory");
        goto out;
    }
    size_t got = 0;
    for (; got < n; got++) {
        js[got] = need_job("kin_await_all", jobs[got], &rc);
        if (!js[got])
            goto release;
        if (!(js[got]->flags & KIN__F_ASYNC)) {
            rc = kin__misuse(KIN_ENOTASYNC,
                             "kin_await_all: job %zu was not made by "
                             "kin_async",
                             got);
            got++;
            goto release;
        }
        if (kin__job_is_self_or_ancestor(co->cur, js[got])) {
            rc = kin__misuse(KIN_EDEADLK,
                             "kin_await_all: a coroutine cannot wait for "
                             "itself or an enclosing job");
            got++;
            goto release;
        }
    }
    if (kin__job_is_cancelling(co->cur)) {
        rc = cancelled_rc(co);
        goto release;
    }

    multi_wait m = {.co = co};
    atomic_init(&m.remaining, n);
    atomic_init(&m.first_bad, -1);
    atomic_init(&m.done, false);
    for (size_t i = 0; i < n; i++) {
        multi_node *mn = &nodes[i];
        *mn = (multi_node){.m = &m, .index = i};
        mn->node.fire = multi_fire;
        kin__start_lazy(js[i]);
        if (!kin__job_add_node(js[i], &mn->node)) {
            /* already complete */
            atomic_store(&mn->node.fired, true);
            if (kin__job_final_cause(js[i])) {
                long expected = -1;
                atomic_compare_exchange_strong(&m.first_bad, &expected,
                                               (long)i);
                atomic_store(&m.done, true);
            }
            if (atomic_fetch_sub(&m.remaining, 1) == 1)
                atomic_store(&m.done, true);
        }
    }
    kin__dbg_wait(co, KIN__W_AWAIT_ALL, 0, 0);
    kin__job_wait(co, &m.done, true);
    kin__dbg_wait(co, KIN__W_NONE, 0, 0);
    for (size_t i = 0; i < n; i++)
        if (!atomic_load(&nodes[i].node.fired))
            kin__job_remove_node(js[i], &nodes[i].node);

    long bad = atomic_load(&m.first_bad);
    if (bad >= 0) {
        rc = await_outcome(co, js[bad], NULL);
        if (rc == 0) /* cannot happen: a bad job has a cause */
            rc = cancelled_rc(co);
    } else if (!atomic_load(&m.done) || kin__job_is_cancelling(co->cur)) {
        rc = cancelled_rc(co);
    } else if (results) {
        for (size_t i = 0; i < n; i++)
            results[i] = js[i]->result;
    }
release:
    for (size_t i = 0; i < got; i++)
        kin__job_unref(js[i]);
out:
    if (nodes != local)
        kin__free(nodes);
    if (js != local_jobs)
        kin__free(js);
    return rc;
}

/* ---- Delay and yield -------------------------------------------------------*/

typedef struct delay_wait {
    kin__job *co;
    atomic_bool fired;
} delay_wait;

static void delay_fire(kin__timer *t) {
    delay_wait *d = t->arg;
    kin__job *co = d->co;
    atomic_store_explicit(&d->fired, true, memory_order_release);
    kin__wake(&co->sched);
}

int kin_delay(int64_t ms) {
    kin__job *co = need_coro("kin_delay");
    if (!co)
        return KIN_ENOTCORO;
    if (ms < 0)
        return kin__misuse(KIN_EINVAL, "kin_delay: negative time %lld ms",
                           (long long)ms);
    if (ms == 0)
        return 0; /* before the check, as kotlinx's delay(0) */
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    kin__worker *w = co->sched.home;
    delay_wait d = {.co = co};
    atomic_init(&d.fired, false);
    kin__timer t;
    kin__timer_init(&t, delay_fire, &d);
    int64_t now = kin__now(w);
    int64_t ns =
        ms > (INT64_MAX - now) / 1000000 ? INT64_MAX - now : ms * 1000000;
    if (kin__timer_add(&w->timers, &t, now + ns, now) < 0)
        return kin__misuse(KIN_ENOMEM, "kin_delay: out of memory");
    co->sched.timers_armed++; /* keeps an Unconfined coroutine on w meanwhile */
    kin__dbg_wait(co, KIN__W_DELAY, 0, now + ns);
    kin__job_wait(co, &d.fired, true);
    kin__dbg_wait(co, KIN__W_NONE, 0, 0);
    kin__timer_remove(&w->timers, &t);
    co->sched.timers_armed--;
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    return 0;
}

int kin_yield(void) {
    kin__job *co = need_coro("kin_yield");
    if (!co)
        return KIN_ENOTCORO;
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    kin__yield_to_others(&co->sched);
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    return 0;
}

/* ---- Cancellation ------------------------------------------------------------*/

kin_error *kin__cancel_cause(const char *who, kin_error *cause) {
    if (cause && !kin_error_is_cancellation(cause)) {
        kin_error_release(cause);
        kin__misuse(KIN_EINVAL,
                    "%s: the cause must be a cancellation (code "
                    "KIN_ECANCELED or KIN_ETIMEDOUT)",
                    who);
        return NULL;
    }
    if (!cause)
        cause = kin__error_make(KIN_ECANCELED, "CancellationException", NULL,
                                "Job was cancelled");
    return cause;
}

int kin_cancel(kin_job job, kin_error *cause) {
    int rc;
    kin__job *j = need_job("kin_cancel", job, &rc);
    if (!j) {
        kin_error_release(cause);
        return rc;
    }
    cause = kin__cancel_cause("kin_cancel", cause);
    if (!cause) {
        kin__job_unref(j);
        return KIN_EINVAL;
    }
    kin__job_cancel(j, cause);
    kin__job_unref(j);
    return 0;
}

bool kin_is_active(void) {
    kin__job *co = kin__running_job();
    return co && !kin__job_is_cancelling(co->cur);
}

int kin_ensure_active(void) {
    kin__job *co = need_coro("kin_ensure_active");
    if (!co)
        return KIN_ENOTCORO;
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    return 0;
}
