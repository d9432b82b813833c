/*
 * jobapi.c — inspecting and managing job handles: kin_current_job, the state
 * flags, kin_job_cause, kin_job_name, kin_job_children, kin_job_parent,
 * kin_job_cancel_children, kin_job_ensure_active, completion handlers (and
 * disposing of them), kin_job_release; hand-made jobs and deferreds
 * (kin_job_new, kin_deferred_new, completing them by hand).
 */
#include <string.h>

#include "api/launch.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "job/registry.h"
#include "sched/dispatcher.h"
#include "sched/scheduler.h"

static kin__job *get(const char *who, kin_job h, int *rc) {
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

kin_job kin_current_job(void) {
    kin__job *co = kin__running_job();
    kin_job none = {0};
    return co ? kin__job_handle(co->cur) : none;
}

int kin_job_state(kin_job job) {
    int rc;
    kin__job *j = get("kin_job_state", job, &rc);
    if (!j)
        return rc;
    int s = kin__job_state(j);
    kin__job_unref(j);
    return s;
}

/* Flags never report an error through the current-error slot: a bad handle
 * simply has no flag set. */
static int quiet_state(kin_job job) {
    int rc;
    kin__job *j = kin__job_acquire(job, &rc);
    if (!j)
        return -1;
    int s = kin__job_state(j);
    kin__job_unref(j);
    return s;
}

bool kin_job_is_active(kin_job job) {
    int s = quiet_state(job);
    return s == KIN_STATE_ACTIVE || s == KIN_STATE_COMPLETING;
}

bool kin_job_is_completed(kin_job job) {
    int s = quiet_state(job);
    return s == KIN_STATE_CANCELLED || s == KIN_STATE_COMPLETED;
}

bool kin_job_is_cancelled(kin_job job) {
    int s = quiet_state(job);
    return s == KIN_STATE_CANCELLING || s == KIN_STATE_CANCELLED;
}

const kin_error *kin_job_cause(kin_job job) {
    int rc;
    kin__job *j = kin__job_acquire(job, &rc);
    if (!j)
        return NULL;
    kin_error *cause = kin__job_final_cause(j);
    kin__job_unref(j);
    return cause;
}

int kin_job_name(kin_job job, char *buf, size_t len) {
    int rc;
    kin__job *j = get("kin_job_name", job, &rc);
    if (!j)
        return rc;
    char tmp[64];
    kin__job_display_name(j, tmp, sizeof tmp);
    kin__job_unref(j);
    if (buf && len) {
        size_t n = strlen(tmp);
        if (n >= len)
            n = len - 1;
        memcpy(buf, tmp, n);
        buf[n] = 0;
    }
    return (int)strlen(tmp);
}

int kin_job_children(kin_job job, kin_job *out, size_t cap) {
    if (cap && !out)
        return kin__misuse(KIN_EINVAL, "kin_job_children: out is NULL");
    int rc;
    kin__job *j = get("kin_job_children", job, &rc);
    if (!j)
        return rc;
    size_t n = 0;
    kin__lock_acquire(&j->lock);
    for (kin__job *c = j->child_head; c; c = c->sib_next) {
        if (kin__state_final(kin__job_state(c)))
            continue;
        if (n < cap)
            out[n] = kin__job_handle(c);
        n++;
    }
    kin__lock_release(&j->lock);
    kin__job_unref(j);
    return n > (size_t)INT32_MAX ? INT32_MAX : (int)n;
}

/* Registers fn (with its options) on the job behind h; calls it at once if
 * the job is past the point where it would run. */
static int add_completion(const char *who, kin_job h,
                          const kin_completion_opts *opts, kin_completion_fn fn,
                          void *arg, kin_disposable *out) {
    if (out)
        out->job = out->id = 0;
    if (!fn)
        return kin__misuse(KIN_EINVAL, "%s: fn is NULL", who);
    int rc;
    kin__job *j = get(who, h, &rc);
    if (!j)
        return rc;
    kin__node *n = kin__calloc(1, sizeof *n);
    if (!n) {
        kin__job_unref(j);
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    n->fn = fn;
    n->arg = arg;
    n->on_cancelling = opts && opts->on_cancelling;
    uint32_t id = kin__job_watch(j, h, n);
    if (out && id) {
        out->job = h.id;
        out->id = id;
    }
    kin__job_unref(j);
    return 0;
}

int kin_invoke_on_completion(kin_job job, kin_completion_fn fn, void *arg) {
    return add_completion("kin_invoke_on_completion", job, NULL, fn, arg, NULL);
}

int kin_invoke_on_completion_ex(kin_job job, const kin_completion_opts *opts,
                                kin_completion_fn fn, void *arg,
                                kin_disposable *out) {
    return add_completion("kin_invoke_on_completion_ex", job, opts, fn, arg,
                          out);
}

int kin_dispose(kin_disposable handle) {
    if (handle.job == 0 && handle.id == 0)
        return 0; /* the handle of a handler that ran at once */
    if (handle.id == 0 || handle.id > UINT32_MAX)
        return kin__misuse(KIN_EINVAL, "kin_dispose: invalid handle");
    int rc;
    kin_job h = {handle.job};
    kin__job *j = kin__job_acquire(h, &rc);
    if (!j) {
        if (rc == KIN_ESTALE)
            return 0; /* reclaimed: its handlers have run */
        return kin__misuse(KIN_EINVAL, "kin_dispose: invalid handle");
    }
    bool removed = kin__job_dispose_node(j, (uint32_t)handle.id);
    kin__job_unref(j);
    return removed ? 1 : 0;
}

int kin_job_parent(kin_job job, kin_job *parent) {
    if (!parent)
        return kin__misuse(KIN_EINVAL, "kin_job_parent: parent is NULL");
    parent->id = 0;
    int rc;
    kin__job *j = get("kin_job_parent", job, &rc);
    if (!j)
        return rc;
    /* A parent outlives its children only while they are linked to it: a
     * final job may already be unlinked and its parent reclaimed, and, as
     * in kotlinx (the parent handle is disposed at completion), a
     * completed job has no parent any more. */
    kin__lock_acquire(&j->lock);
    if (j->parent && !kin__state_final(kin__job_state(j)))
        *parent = kin__job_handle(j->parent);
    kin__lock_release(&j->lock);
    kin__job_unref(j);
    return 0;
}

int kin_job_cancel_children(kin_job job, kin_error *cause) {
    int rc;
    kin__job *j = get("kin_job_cancel_children", job, &rc);
    if (!j) {
        kin_error_release(cause);
        return rc;
    }
    cause = kin__cancel_cause("kin_job_cancel_children", cause);
    if (!cause) {
        kin__job_unref(j);
        return KIN_EINVAL;
    }
    kin__job_cancel_children(j, cause);
    kin__job_unref(j);
    return 0;
}

int kin__job_ensure_active_of(kin__job *j) {
    int s = kin__job_state(j);
    if (s == KIN_STATE_ACTIVE || s == KIN_STATE_COMPLETING)
        return 0;
    if (s == KIN_STATE_NEW) {
        kin__error_set(kin__error_make(KIN_EFAILED, "IllegalStateException",
                                       NULL, "Job is still new"));
        return KIN_EFAILED;
    }
    kin_error *e =
        s == KIN_STATE_COMPLETED
            ? kin__error_make(KIN_ECANCELED, "CancellationException", NULL,
                              "Job has completed normally")
            : kin__job_cancel_error(j);
    int code = e->code;
    kin__error_set(e);
    return code;
}

int kin_job_ensure_active(kin_job job) {
    int rc;
    kin__job *j = get("kin_job_ensure_active", job, &rc);
    if (!j)
        return rc;
    rc = kin__job_ensure_active_of(j);
    kin__job_unref(j);
    return rc;
}

/* ---- Hand-made jobs and deferreds -------------------------------------------*/

static int make_plain(const char *who, kin_job *out, const kin_job_opts *opts,
                      bool deferred) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "%s: out is NULL", who);
    out->id = 0;
    kin_job_opts o = {0};
    if (opts)
        o = *opts;
    if (o.result_free && !deferred)
        return kin__misuse(KIN_EINVAL,
                           "%s: result_free is only for kin_deferred_new", who);
    kin__job *parent = NULL;
    if (o.parent.id) {
        int rc;
        parent = get(who, o.parent, &rc);
        if (!parent)
            return rc;
    }
    kin__job *j = kin__job_alloc(2); /* tree + the handle */
    if (!j) {
        if (parent)
            kin__job_unref(parent);
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    j->kind = KIN__PLAIN;
    j->flags = (deferred ? KIN__F_ASYNC : 0) |
               (o.supervisor ? KIN__F_SUPERVISOR : 0);
    /* Kotlin's JobImpl.handlesException: true only if some ancestor is a
     * job that handles failures (a coroutine or a scope). */
    if (!parent || (parent->kind == KIN__PLAIN &&
                    (parent->flags & KIN__F_UNHANDLED)))
        j->flags |= KIN__F_UNHANDLED;
    j->sched.dispatcher = parent ? parent->sched.dispatcher
                                 : kin__dispatcher_resolve(NULL, NULL);
    j->result_free = o.result_free;
    j->seq = kin__job_next_seq();
    if (!kin__job_set_name(j, o.name)) {
        kin__job_unref(j);
        kin__job_unref(j);
        if (parent)
            kin__job_unref(parent);
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    }
    kin__job_attach(j, parent, false);
    if (!j->parent)
        kin__registry_add(j); /* a root (or born cancelled): shutdown finds it */
    kin__job *co = kin__running_job();
    kin__job_own(j, co ? co->cur : NULL);
    *out = kin__job_handle(j);
    if (parent)
        kin__job_unref(parent);
    /* Born cancelled under a completed or cancelled parent: there is no
     * body to wait for, so it completes now. */
    kin__job_settle(j);
    return 0;
}

int kin_job_new(kin_job *out, const kin_job_opts *opts) {
    return make_plain("kin_job_new", out, opts, false);
}

int kin_deferred_new(kin_job *out, const kin_job_opts *opts) {
    return make_plain("kin_deferred_new", out, opts, true);
}

/* A hand-made job (kin_job_new / kin_deferred_new) behind h, referenced. */
static kin__job *get_plain(const char *who, kin_job h, bool deferred,
                           int *rc) {
    kin__job *j = get(who, h, rc);
    if (!j)
        return NULL;
    if (j->kind != KIN__PLAIN || (j->flags & KIN__F_SCOPE_OBJ) ||
        (deferred && !(j->flags & KIN__F_ASYNC))) {
        kin__job_unref(j);
        *rc = kin__misuse(KIN_EINVAL,
                          deferred ? "%s: not a deferred (kin_deferred_new)"
                                   : "%s: not a hand-made job (kin_job_new or "
                                     "kin_deferred_new)",
                          who);
        return NULL;
    }
    return j;
}

int kin_job_complete(kin_job job) {
    int rc;
    kin__job *j = get_plain("kin_job_complete", job, false, &rc);
    if (!j)
        return rc;
    rc = kin__job_complete(j, NULL, NULL) ? 1 : 0;
    kin__job_unref(j);
    return rc;
}

int kin_job_complete_exceptionally(kin_job job, kin_error *failure) {
    if (!failure)
        return kin__misuse(KIN_EINVAL,
                           "kin_job_complete_exceptionally: failure is NULL");
    int rc;
    kin__job *j =
        get_plain("kin_job_complete_exceptionally", job, false, &rc);
    if (!j) {
        kin_error_release(failure);
        return rc;
    }
    rc = kin__job_complete(j, NULL, failure) ? 1 : 0;
    kin__job_unref(j);
    return rc;
}

int kin_deferred_complete(kin_job deferred, void *value) {
    int rc;
    kin__job *j = get_plain("kin_deferred_complete", deferred, true, &rc);
    if (!j)
        return rc;
    rc = kin__job_complete(j, value, NULL) ? 1 : 0;
    kin__job_unref(j);
    return rc;
}

int kin_job_release(kin_job job) {
    int rc;
    kin__job *j = get("kin_job_release", job, &rc);
    if (!j)
        return rc;
    rc = kin__job_disown(j);
    kin__job_unref(j);
    if (rc < 0)
        return kin__misuse(rc, "kin_job_release: the handle is not held "
                               "(released already, or its owner completed)");
    return 0;
}
