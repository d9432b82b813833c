/*
 * launch.c — making coroutines: kin_launch, kin_async, kin_start,
 * kin_run_blocking. Scope objects launch through kin__spawn too (scope.c).
 */
#include <stdlib.h>
#include <string.h>

#include "api/launch.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "job/registry.h"
#include "sched/dispatcher.h"
#include "sched/scheduler.h"

void kin_launch_site(const char *file, int line) {
    kin__t_self.site_file = file;
    kin__t_self.site_line = line;
}

/* Gives j the launch site the header's debug macros noted, if any. */
static inline void take_site(kin__job *j) {
    if (KIN__UNLIKELY(kin__t_self.site_file != NULL)) {
        j->site_file = kin__t_self.site_file;
        j->site_line = kin__t_self.site_line;
        kin__t_self.site_file = NULL;
    }
}

static void dispatch_or_fail(kin__job *j, const char *who);

/* May this thread start co at once (UNDISPATCHED)? Only if it runs on co's
 * dispatcher: a started coroutine stays on its thread, so one that began
 * here could never move to its own dispatcher. */
static bool can_start_here(kin__job *co) {
    kin_dispatcher *d = co->sched.dispatcher;
    if (d->kind == KIN__DISP_UNCONFINED)
        return true;
    kin__worker *w = kin__worker_peek();
    if (!w)
        return false;
    if (d->pool)
        return w->pool == d->pool;
    return atomic_load(&d->loop) == w || w->disp == d;
}

int kin__spawn(const kin__spawn_req *rq, kin_job *out,
               const kin_launch_opts *opts, kin_fn fn, kin_async_fn afn,
               void *arg) {
    const char *who = rq->who;
    kin__job *parent = rq->parent;
    int rc0;
    if (out)
        out->id = 0;
    if (!fn && !afn)
        return kin__misuse(KIN_EINVAL, "%s: the coroutine function is NULL",
                           who);
    kin_launch_opts o = {0};
    if (opts)
        o = *opts;
    if ((unsigned)o.start > KIN_START_UNDISPATCHED)
        return kin__misuse(KIN_EINVAL, "%s: unknown start mode %d", who,
                           (int)o.start);
    if (o.result_free && !afn)
        return kin__misuse(KIN_EINVAL, "%s: result_free is only for kin_async",
                           who);
    if (o.parent.id && o.no_parent)
        return kin__misuse(KIN_EINVAL,
                           "%s: parent and no_parent are both set", who);
    /* Kotlin's launch(job): the context (dispatcher, handler) is still the
     * caller's; only the parent changes. */
    kin__job *context = parent;
    kin__job *explicit_parent = NULL;
    if (o.parent.id) {
        explicit_parent = kin__job_acquire(o.parent, &rc0);
        if (!explicit_parent)
            return kin__misuse(rc0,
                               rc0 == KIN_ESTALE
                                   ? "%s: stale parent handle (the job "
                                     "completed and its record was reclaimed)"
                                   : "%s: invalid parent handle",
                               who);
        parent = explicit_parent;
    } else if (o.no_parent) {
        parent = NULL;
    }
    kin_dispatcher *d = kin__dispatcher_redirect(kin__dispatcher_resolve(
        o.dispatcher, context ? context->sched.dispatcher : NULL));
    /* Everything that can fail is checked before anything is linked, so a
     * failure here leaves nothing behind and is reported once, here. */
    int rc = kin__dispatcher_ready(d);
    if (rc == 0 && !kin__worker_self())
        rc = KIN_ENOMEM;
    uint32_t refs = 2 + (out ? 1 : 0) + (rq->hold ? 1 : 0);
    kin__job *j = rc == 0 ? kin__job_alloc(refs) : NULL; /* tree + coro (+
                                                   handle, + hold) */
    if (!j) {
        if (explicit_parent)
            kin__job_unref(explicit_parent);
        if (rc < 0 && rc != KIN_ENOMEM)
            return kin__misuse(rc, "%s: the %s dispatcher %s", who, d->name,
                               rc == KIN_ECLOSED ? "was shut down"
                                                 : "could not start");
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    j->kind = KIN__COROUTINE;
    j->flags = (afn ? KIN__F_ASYNC : 0) | rq->flags;
    j->start = (uint8_t)o.start;
    j->coro = j;
    j->sched.dispatcher = d;
    j->handler = o.handler ? o.handler : context ? context->handler : NULL;
    j->handler_arg = o.handler ? o.handler_arg
                     : context ? context->handler_arg
                               : NULL;
    j->seq = kin__job_next_seq();
    if (KIN__UNLIKELY(o.name != NULL) && !kin__job_set_name(j, o.name)) {
        for (; refs > 0; refs--)
            kin__job_unref(j);
        if (explicit_parent)
            kin__job_unref(explicit_parent);
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    j->sched.stack_size = (uint32_t)kin__stack_round(o.stack_size);
    if (afn)
        j->body.afn = afn;
    else
        j->body.fn = fn;
    j->arg = arg;
    j->result_free = o.result_free;
    take_site(j);

    kin__job_attach(j, parent, o.start == KIN_START_LAZY);
    if (explicit_parent)
        kin__job_unref(explicit_parent); /* j's tree link keeps it now */
    if (!j->parent)
        kin__registry_add(j); /* a root: kin_shutdown must find it */
    if (out) {
        kin__job_own(j, rq->owner);
        *out = kin__job_handle(j);
    }
    if (rq->hold)
        *rq->hold = j;
    switch (o.start) {
    case KIN_START_LAZY:
        kin__job_settle(j); /* born cancelled: completes now */
        break;
    case KIN_START_UNDISPATCHED:
        if (can_start_here(j)) {
            kin__start_undispatched(&j->sched);
            break;
        }
        dispatch_or_fail(j, who);
        break;
    default:
        dispatch_or_fail(j, who);
        break;
    }
    return 0;
}

/* kin__spawn checked the dispatcher; if the pool was shut down between the
 * check and now, the coroutine fails with KIN_ECLOSED instead of running. */
static void dispatch_or_fail(kin__job *j, const char *who) {
    if (kin__dispatch(&j->sched) < 0) {
        /* The pool was shut down between the check and now. */
        kin_error *e = kin__error_make(KIN_ECLOSED, "KinError", NULL,
                                       "%s: the %s dispatcher was shut "
                                       "down",
                                       who, j->sched.dispatcher->name);
        kin__job_body_done(j, KIN_ECLOSED, e);
        kin_error_release(e);
        kin__job_unref(j); /* the coroutine reference */
    }
}

/* The common launch: default options, into the current job, onto the
 * caller's own loop or (Default) its own worker. Everything kin__spawn
 * checks is known to hold here: the dispatcher is running (we run on it),
 * the worker exists, the parent is not final (it is running). */
static inline bool fast_applies(kin__job *co) {
    kin_dispatcher *d = co->cur->sched.dispatcher;
    kin__worker *w = co->sched.home;
    if (d->kind == KIN__DISP_LOOP)
        return atomic_load_explicit(&d->loop, memory_order_relaxed) == w;
    return d->kind == KIN__DISP_DEFAULT && w->pool == d->pool;
}

/* fast_applies(co) holds. Returns what kin__spawn would. */
static int spawn_fast(kin__job *co, kin_job *out, kin_fn fn, kin_async_fn afn,
                      void *arg) {
    kin__job *parent = co->cur;
    kin_dispatcher *d = parent->sched.dispatcher;
    kin__worker *w = co->sched.home;
    kin__job *j = kin__job_alloc(out ? 3 : 2); /* tree + coro (+ handle) */
    if (KIN__UNLIKELY(!j)) {
        if (out)
            out->id = 0;
        return kin__misuse(KIN_ENOMEM, "%s: out of memory",
                           afn ? "kin_async" : "kin_launch");
    }
    j->flags = afn ? KIN__F_ASYNC : 0;
    j->coro = j;
    j->sched.dispatcher = d;
    j->handler = parent->handler;
    j->handler_arg = parent->handler_arg;
    j->seq = kin__job_next_seq();
    j->sched.stack_size = (uint32_t)kin__stack_default_fast();
    if (afn)
        j->body.afn = afn;
    else
        j->body.fn = fn;
    j->arg = arg;
    take_site(j);
    /* the parent is running: linked (and owning the handle) in one lock
     * round */
    kin__job_attach_running(j, parent, out != NULL);
    if (out)
        *out = kin__job_handle(j);
    if (d->kind == KIN__DISP_LOOP) {
        j->sched.home = w;
        kin__runq_push(w, &j->sched);
    } else {
        dispatch_or_fail(j, afn ? "kin_async" : "kin_launch");
    }
    return 0;
}

static int launch_slow(kin__job *co, kin_job *out, const kin_launch_opts *opts,
                       kin_fn fn, void *arg) {
    if (!co) {
        if (out)
            out->id = 0;
        return kin__misuse(KIN_ENOTCORO,
                           "kin_launch: called outside a coroutine; use "
                           "kin_scope_launch with a scope object");
    }
    kin__spawn_req rq = {"kin_launch", co->cur, co->cur, 0, NULL};
    return kin__spawn(&rq, out, opts, fn, NULL, arg);
}

/* The fast path and the rest are both tail calls: no registers to save
 * around a call that might not apply. */
int kin_launch(kin_job *out, const kin_launch_opts *opts, kin_fn fn,
               void *arg) {
    kin__job *co = kin__running_job();
    if (KIN__LIKELY(co != NULL) && !opts && fn && fast_applies(co))
        return spawn_fast(co, out, fn, NULL, arg);
    return launch_slow(co, out, opts, fn, arg);
}

static int async_slow(kin__job *co, kin_job *out, const kin_launch_opts *opts,
                      kin_async_fn fn, void *arg) {
    if (!co) {
        if (out)
            out->id = 0;
        return kin__misuse(KIN_ENOTCORO,
                           "kin_async: called outside a coroutine; use "
                           "kin_scope_async with a scope object");
    }
    if (!fn) {
        if (out)
            out->id = 0;
        return kin__misuse(KIN_EINVAL,
                           "kin_async: the coroutine function is NULL");
    }
    kin__spawn_req rq = {"kin_async", co->cur, co->cur, 0, NULL};
    return kin__spawn(&rq, out, opts, NULL, fn, arg);
}

int kin_async(kin_job *out, const kin_launch_opts *opts, kin_async_fn fn,
              void *arg) {
    kin__job *co = kin__running_job();
    if (KIN__LIKELY(co != NULL) && !opts && fn && fast_applies(co))
        return spawn_fast(co, out, NULL, fn, arg);
    return async_slow(co, out, opts, fn, arg);
}

void kin__start_lazy(kin__job *j) {
    if (kin__job_state(j) != KIN_STATE_NEW) /* the usual case: no lock */
        return;
    if (j->kind == KIN__COROUTINE && kin__job_start(j) &&
        kin__dispatch(&j->sched) < 0) {
        kin_error *e = kin__error_make(KIN_ECLOSED, "KinError", NULL,
                                       "the %s dispatcher was shut down",
                                       j->sched.dispatcher->name);
        kin__job_body_done(j, KIN_ECLOSED, e);
        kin_error_release(e);
        kin__job_unref(j);
    }
}

int kin_start(kin_job job) {
    int err;
    kin__job *j = kin__job_acquire(job, &err);
    if (!j)
        return kin__misuse(err, err == KIN_ESTALE
                                    ? "kin_start: stale handle (the job "
                                      "completed and its record was "
                                      "reclaimed)"
                                    : "kin_start: invalid handle");
    int rc = 0;
    if (j->kind != KIN__COROUTINE || !kin__job_start(j))
        rc =
            kin__misuse(KIN_EALREADY, "kin_start: the job has already started");
    else if (kin__dispatch(&j->sched) < 0) {
        kin_error *e = kin__error_make(KIN_ECLOSED, "KinError", NULL,
                                       "kin_start: the %s dispatcher was "
                                       "shut down",
                                       j->sched.dispatcher->name);
        kin__job_body_done(j, KIN_ECLOSED, e);
        kin_error_release(e);
        kin__job_unref(j); /* the coroutine reference */
    }
    kin__job_unref(j);
    return rc;
}

static int run_loop(const char *who, const kin_run_opts *opts, kin_fn fn,
                    void *arg) {
    kin_run_opts o = {0};
    if (opts)
        o = *opts;
    if (!fn)
        return kin__misuse(KIN_EINVAL, "%s: the coroutine function is NULL",
                           who);
    if (kin__running_job())
        return kin__misuse(KIN_EPERM,
                           "%s: called from inside a coroutine, which would "
                           "block its thread's loop; use kin_coroutine_scope",
                           who);
    kin__worker *w = kin__worker_self();
    if (!w)
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    if (w->in_loop)
        return kin__misuse(KIN_EPERM,
                           "%s: this thread is already running a kin loop "
                           "(called from a completion handler?)",
                           who);
    if (w->hosted)
        return kin__misuse(KIN_EBUSY,
                           "%s: this thread hosts Main in its own event "
                           "loop (kin_main_attach); kin_main_detach first",
                           who);
    if ((o.test_default || o.test_io) &&
        kin__test_dispatch_begin(w, o.test_default, o.test_io) < 0)
        return kin__misuse(KIN_EBUSY,
                           "%s: another thread's test loop stands in for "
                           "Default or IO (test_default, test_io) now",
                           who);
    kin__job *j = kin__job_alloc(3); /* tree + coro + ours */
    if (!j) {
        if (o.test_default || o.test_io)
            kin__test_dispatch_end(w);
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    j->kind = KIN__COROUTINE;
    j->flags = KIN__F_BLOCKING;
    j->coro = j;
    j->sched.dispatcher = kin__dispatcher_bind_loop(w);
    j->seq = kin__job_next_seq();
    j->handler = o.handler;
    j->handler_arg = o.handler_arg;
    if (!kin__job_set_name(j, o.name)) {
        for (int k = 0; k < 3; k++)
            kin__job_unref(j);
        if (o.test_default || o.test_io)
            kin__test_dispatch_end(w);
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    j->sched.stack_size = (uint32_t)kin__stack_round(0);
    j->body.fn = fn;
    j->arg = arg;
    kin__job_attach(j, NULL, false);
    kin__registry_add(j);
    kin__node until;
    kin__loop_node_init(&until, w);
    kin__job_add_node(j, &until);
    j->sched.home = w;
    kin__worker_push(w, &j->sched);
    if (o.virtual_time)
        kin__worker_set_virtual(w, true);
    kin__run_loop(w, &until.fired);
    kin__run_queued(w); /* other trees' coroutines queued here: once each */
    if (o.test_default || o.test_io)
        kin__test_dispatch_end(w);
    if (o.virtual_time)
        kin__worker_set_virtual(w, false);
    kin_error *cause = kin__job_final_cause(j);
    int rc = cause ? cause->code : 0;
    kin__error_set(kin_error_retain(cause));
    kin__job_unref(j);
    return rc;
}

/* KIN_VIRTUAL_TIME=1 makes every kin_run_blocking a kin_run_test (tests of
 * whole programs). */
static bool virtual_time_env(void) {
    static int virtual_env = -1;
    if (virtual_env < 0) {
        const char *e = getenv("KIN_VIRTUAL_TIME");
        virtual_env = e && strcmp(e, "1") == 0;
    }
    return virtual_env == 1;
}

int kin_run_blocking(kin_fn fn, void *arg) {
    kin_run_opts o = {.virtual_time = virtual_time_env()};
    return run_loop("kin_run_blocking", &o, fn, arg);
}

int kin_run_blocking_opts(const kin_run_opts *opts, kin_fn fn, void *arg) {
    kin_run_opts o = {0};
    if (opts)
        o = *opts;
    o.virtual_time = o.virtual_time || virtual_time_env();
    return run_loop("kin_run_blocking_opts", &o, fn, arg);
}

int kin_run_test(kin_fn fn, void *arg) {
    kin_run_opts o = {.virtual_time = true};
    return run_loop("kin_run_test", &o, fn, arg);
}
