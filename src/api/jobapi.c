/*
 * jobapi.c — inspecting and managing job handles: kin_current_job, the state
 * flags, kin_job_cause, kin_job_name, kin_job_children,
 * kin_invoke_on_completion, kin_job_release.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
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

int kin_invoke_on_completion(kin_job job, kin_completion_fn fn, void *arg) {
    if (!fn)
        return kin__misuse(KIN_EINVAL, "kin_invoke_on_completion: fn is NULL");
    int rc;
    kin__job *j = get("kin_invoke_on_completion", job, &rc);
    if (!j)
        return rc;
    kin__node *n = kin__calloc(1, sizeof *n);
    if (!n) {
        kin__job_unref(j);
        return kin__misuse(KIN_ENOMEM,
                           "kin_invoke_on_completion: out of memory");
    }
    n->fn = fn;
    n->arg = arg;
    if (!kin__job_add_node(j, n)) {
        kin__free(n);
        fn(job, kin__job_final_cause(j), arg);
    }
    kin__job_unref(j);
    return 0;
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
