/*
 * launch.c — making coroutines: kin_launch, kin_async, kin_start,
 * kin_run_blocking. Scope objects launch through kin__spawn too (scope.c).
 */
#include <string.h>

#include "error.h"
#include "job.h"
#include "kin_assert.h"
#include "launch.h"
#include "scheduler.h"

static void copy_name(char dst[32], const char *src) {
    if (!src)
        return;
    size_t n = strlen(src);
    if (n > 31)
        n = 31;
    memcpy(dst, src, n);
    dst[n] = 0;
}

int kin__spawn(const char *who, kin__job *parent, kin__job *owner,
               kin_job *out, const kin_launch_opts *opts, kin_fn fn,
               kin_async_fn afn, void *arg) {
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
        return kin__misuse(KIN_EINVAL,
                           "%s: result_free is only for kin_async", who);
    /* Make sure the thread can run coroutines before anything is linked,
     * so a failure here leaves nothing behind. */
    if (!kin__worker_self())
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    kin__job *j = kin__job_alloc(out ? 3 : 2); /* tree + coro (+ handle) */
    if (!j)
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    j->kind = KIN__COROUTINE;
    j->flags = afn ? KIN__F_ASYNC : 0;
    j->start = (uint8_t)o.start;
    j->coro = j;
    j->handler = o.handler ? o.handler : parent ? parent->handler : NULL;
    j->handler_arg = o.handler ? o.handler_arg
                     : parent  ? parent->handler_arg
                               : NULL;
    j->seq = kin__job_next_seq();
    copy_name(j->name, o.name);
    j->stack_size = kin__stack_round(o.stack_size);
    if (afn)
        j->body.afn = afn;
    else
        j->body.fn = fn;
    j->arg = arg;
    j->result_free = o.result_free;

    int rc = kin__job_attach(j, parent, o.start == KIN_START_LAZY);
    if (rc < 0) {
        for (int refs = out ? 3 : 2; refs > 0; refs--)
            kin__job_unref(j);
        return kin__misuse(rc, "%s: the scope has completed", who);
    }
    if (out) {
        kin__job_own(j, owner);
        *out = kin__job_handle(j);
    }
    switch (o.start) {
    case KIN_START_LAZY:
        kin__job_settle(j); /* born cancelled: completes now */
        break;
    case KIN_START_UNDISPATCHED:
        kin__start_undispatched(j);
        break;
    default:
        kin__dispatch(j); /* cannot fail: the worker exists */
        break;
    }
    return 0;
}

int kin_launch(kin_job *out, const kin_launch_opts *opts, kin_fn fn,
               void *arg) {
    kin__job *co = kin__current_coro();
    if (!co) {
        if (out)
            out->id = 0;
        return kin__misuse(KIN_ENOTCORO,
                           "kin_launch: called outside a coroutine; use "
                           "kin_scope_launch with a scope object");
    }
    return kin__spawn("kin_launch", co->cur, co->cur, out, opts, fn, NULL,
                      arg);
}

int kin_async(kin_job *out, const kin_launch_opts *opts, kin_async_fn fn,
              void *arg) {
    kin__job *co = kin__current_coro();
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
    return kin__spawn("kin_async", co->cur, co->cur, out, opts, NULL, fn,
                      arg);
}

void kin__start_lazy(kin__job *j) {
    if (j->kind == KIN__COROUTINE && kin__job_start(j))
        kin__dispatch(j);
}

int kin_start(kin_job job) {
    int err;
    kin__job *j = kin__job_acquire(job, &err);
    if (!j)
        return kin__misuse(err, "kin_start: %s", kin_strerror(err));
    int rc = 0;
    if (j->kind != KIN__COROUTINE || !kin__job_start(j))
        rc = kin__misuse(KIN_EALREADY,
                         "kin_start: the job has already started");
    else if (kin__dispatch(j) < 0)
        rc = KIN_ENOMEM; /* unreachable in practice: see kin__dispatch */
    kin__job_unref(j);
    return rc;
}

int kin_run_blocking(kin_fn fn, void *arg) {
    if (!fn)
        return kin__misuse(KIN_EINVAL,
                           "kin_run_blocking: the coroutine function is NULL");
    if (kin__current_coro())
        return kin__misuse(KIN_EPERM,
                           "kin_run_blocking: called from inside a coroutine, "
                           "which would block its thread's loop; use "
                           "kin_coroutine_scope");
    kin__worker *w = kin__worker_self();
    if (!w)
        return kin__misuse(KIN_ENOMEM, "kin_run_blocking: out of memory");
    if (w->in_loop)
        return kin__misuse(KIN_EPERM,
                           "kin_run_blocking: this thread is already running "
                           "a kin loop (called from a completion handler?)");
    kin__job *j = kin__job_alloc(3); /* tree + coro + ours */
    if (!j)
        return kin__misuse(KIN_ENOMEM, "kin_run_blocking: out of memory");
    j->kind = KIN__COROUTINE;
    j->flags = KIN__F_BLOCKING;
    j->coro = j;
    j->seq = kin__job_next_seq();
    copy_name(j->name, "run_blocking");
    j->stack_size = kin__stack_round(0);
    j->body.fn = fn;
    j->arg = arg;
    kin__job_attach(j, NULL, false);
    kin__node until;
    kin__loop_node_init(&until, w);
    kin__job_add_node(j, &until);
    kin__dispatch(j);
    kin__run_loop(w, &until);
    kin_error *cause = kin__job_final_cause(j);
    int rc = cause ? cause->code : 0;
    kin__error_set(kin_error_retain(cause));
    kin__job_unref(j);
    return rc;
}
