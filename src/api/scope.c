/*
 * scope.c — scope objects (Kotlin's CoroutineScope(Job() + handler)) and the
 * global scope. A scope object is a root job with no body: it is ACTIVE
 * until cancelled, then completes once its children have. The kin_scope
 * handle holds one reference, dropped by kin_scope_close.
 */
#include <string.h>

#include "api/launch.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "job/registry.h"
#include "sched/dispatcher.h"
#include "sched/scheduler.h"

/* The global scope's handle: index 0 is never a real slot. */
#define GLOBAL_ID UINT64_C(0xffffffff00000000)

kin_scope kin_global_scope(void) {
    kin_scope s = {GLOBAL_ID};
    return s;
}

static bool is_global(kin_scope s) {
    return s.id == GLOBAL_ID;
}

/* Takes a reference to the scope's root. */
static kin__job *scope_root(const char *who, kin_scope s, int *rc) {
    kin_job h = {s.id};
    kin__job *j = kin__job_acquire(h, rc);
    if (!j) {
        *rc = kin__misuse(*rc == KIN_ESTALE ? KIN_ESTALE : KIN_EINVAL,
                          *rc == KIN_ESTALE ? "%s: the scope was closed"
                                            : "%s: invalid scope handle",
                          who);
        return NULL;
    }
    if (!(j->flags & KIN__F_SCOPE_OBJ)) {
        kin__job_unref(j);
        *rc = kin__misuse(KIN_EINVAL, "%s: the handle is a job, not a scope",
                          who);
        return NULL;
    }
    return j;
}

int kin_scope_new(kin_scope *out, const kin_scope_opts *opts) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_scope_new: out is NULL");
    out->id = 0;
    kin_scope_opts o = {0};
    if (opts)
        o = *opts;
    kin__job *j = kin__job_alloc(2); /* tree + the scope handle */
    if (!j)
        return kin__misuse(KIN_ENOMEM, "kin_scope_new: out of memory");
    j->kind = KIN__PLAIN;
    j->flags = KIN__F_SCOPE_OBJ | KIN__F_UNHANDLED |
               (o.supervisor ? KIN__F_SUPERVISOR : 0);
    j->handler = o.handler;
    j->handler_arg = o.handler_arg;
    j->sched.dispatcher = kin__dispatcher_resolve(o.dispatcher, NULL);
    j->seq = kin__job_next_seq();
    if (!kin__job_set_name(j, o.name)) {
        kin__job_unref(j);
        kin__job_unref(j);
        return kin__misuse(KIN_ENOMEM, "kin_scope_new: out of memory");
    }
    kin__job_attach(j, NULL, false);
    kin__registry_add(j);
    atomic_store(&j->handle_held, true);
    kin_job h = kin__job_handle(j);
    out->id = h.id;
    return 0;
}

static int scope_spawn(const char *who, kin_scope scope, kin_job *out,
                       const kin_launch_opts *opts, kin_fn fn, kin_async_fn afn,
                       void *arg) {
    if (out)
        out->id = 0;
    kin__job *co = kin__running_job();
    if (is_global(scope)) {
        kin__spawn_req rq = {who, NULL, co ? co->cur : NULL, 0, NULL};
        return kin__spawn(&rq, out, opts, fn, afn, arg);
    }
    int rc;
    kin__job *root = scope_root(who, scope, &rc);
    if (!root)
        return rc;
    /* Closed (kin_scope_close_nowait, or a kin_scope_close still waiting):
     * the record lives on until its coroutines have finished, but the
     * handle takes no new work. */
    if (!atomic_load(&root->handle_held)) {
        kin__job_unref(root);
        return kin__misuse(KIN_ESTALE, "%s: the scope was closed", who);
    }
    kin__spawn_req rq = {who, root, co ? co->cur : root, 0, NULL};
    rc = kin__spawn(&rq, out, opts, fn, afn, arg);
    kin__job_unref(root);
    return rc;
}

int kin_scope_launch(kin_scope scope, kin_job *out, const kin_launch_opts *opts,
                     kin_fn fn, void *arg) {
    return scope_spawn("kin_scope_launch", scope, out, opts, fn, NULL, arg);
}

int kin_scope_async(kin_scope scope, kin_job *out, const kin_launch_opts *opts,
                    kin_async_fn fn, void *arg) {
    if (!fn) {
        if (out)
            out->id = 0;
        return kin__misuse(KIN_EINVAL,
                           "kin_scope_async: the coroutine function is NULL");
    }
    return scope_spawn("kin_scope_async", scope, out, opts, NULL, fn, arg);
}

kin_job kin_scope_job(kin_scope scope) {
    kin_job h = {is_global(scope) ? 0 : scope.id};
    return h;
}

int kin_scope_ensure_active(kin_scope scope) {
    if (is_global(scope))
        return 0;
    int rc;
    kin__job *root = scope_root("kin_scope_ensure_active", scope, &rc);
    if (!root)
        return rc;
    rc = kin__job_ensure_active_of(root);
    kin__job_unref(root);
    return rc;
}

bool kin_scope_is_active(kin_scope scope) {
    if (is_global(scope))
        return true;
    int rc;
    kin_job h = {scope.id};
    kin__job *j = kin__job_acquire(h, &rc);
    if (!j)
        return false;
    bool active =
        (j->flags & KIN__F_SCOPE_OBJ) && kin__job_state(j) == KIN_STATE_ACTIVE;
    kin__job_unref(j);
    return active;
}

int kin_scope_cancel(kin_scope scope, kin_error *cause) {
    if (cause && !kin_error_is_cancellation(cause)) {
        kin_error_release(cause);
        return kin__misuse(KIN_EINVAL, "kin_scope_cancel: the cause must be a "
                                       "cancellation");
    }
    if (is_global(scope)) {
        kin_error_release(cause);
        return kin__misuse(KIN_EINVAL,
                           "kin_scope_cancel: the global scope cannot be "
                           "cancelled");
    }
    int rc;
    kin__job *root = scope_root("kin_scope_cancel", scope, &rc);
    if (!root) {
        kin_error_release(cause);
        return rc;
    }
    if (!cause)
        cause = kin__error_make(KIN_ECANCELED, "CancellationException", NULL,
                                "Job was cancelled");
    kin__root_cancel(root, cause);
    kin__job_unref(root);
    return 0;
}

typedef struct close_waiter {
    kin__node node;
    kin__job *co;
} close_waiter;

static void close_waiter_fire(kin__node *n, kin__job *job) {
    (void)job;
    kin__job *co = ((close_waiter *)n)->co;
    kin__job_wake_waiter(co, &n->fired);
}

int kin_scope_close(kin_scope scope) {
    if (is_global(scope))
        return kin__misuse(KIN_EINVAL,
                           "kin_scope_close: the global scope cannot be "
                           "closed");
    int rc;
    kin__job *root = scope_root("kin_scope_close", scope, &rc);
    if (!root)
        return rc;
    kin__job *co = kin__running_job();
    if (co && kin__job_is_self_or_ancestor(co->cur, root)) {
        kin__job_unref(root);
        return kin__misuse(KIN_EDEADLK,
                           "kin_scope_close: called from one of the scope's "
                           "own coroutines, which would wait for itself");
    }
    kin__worker *w = NULL;
    if (!co) {
        w = kin__worker_self();
        if (!w || w->in_loop) {
            kin__job_unref(root);
            return kin__misuse(w ? KIN_EDEADLK : KIN_ENOMEM,
                               "kin_scope_close: %s",
                               w ? "this thread is running a kin loop "
                                   "(called from a completion handler?)"
                                 : "out of memory");
        }
    }
    /* Only one close takes the handle's reference. */
    if (!atomic_exchange(&root->handle_held, false)) {
        kin__job_unref(root);
        return kin__misuse(KIN_ESTALE,
                           "kin_scope_close: the scope is already closed");
    }
    kin__root_cancel(root,
                     kin__error_make(KIN_ECANCELED, "CancellationException",
                                     NULL, "Job was cancelled"));
    if (co) {
        close_waiter cw = {.co = co};
        cw.node.fire = close_waiter_fire;
        if (kin__job_add_node(root, &cw.node)) {
            kin__dbg_wait(co, KIN__W_CLOSE, kin__job_handle(root).id, 0);
            kin__job_wait(co, &cw.node.fired, false);
            kin__dbg_wait(co, KIN__W_NONE, 0, 0);
        }
    } else {
        kin__node until;
        kin__loop_node_init(&until, w);
        if (kin__job_add_node(root, &until))
            kin__run_loop(w, &until.fired);
    }
    kin__job_unref(root); /* the handle's */
    kin__job_unref(root); /* ours */
    return 0;
}

int kin_scope_close_nowait(kin_scope scope) {
    if (is_global(scope))
        return kin__misuse(KIN_EINVAL,
                           "kin_scope_close_nowait: the global scope cannot "
                           "be closed");
    int rc;
    kin__job *root = scope_root("kin_scope_close_nowait", scope, &rc);
    if (!root)
        return rc;
    /* Only one close takes the handle's reference. */
    if (!atomic_exchange(&root->handle_held, false)) {
        kin__job_unref(root);
        return kin__misuse(KIN_ESTALE, "kin_scope_close_nowait: the scope "
                                       "was closed");
    }
    kin__root_cancel(root,
                     kin__error_make(KIN_ECANCELED, "CancellationException",
                                     NULL, "Job was cancelled"));
    kin__job_unref(root); /* the handle's: the tree keeps it till done */
    kin__job_unref(root); /* ours */
    return 0;
}
