/*
 * coroutine.c — the job layer's side of a coroutine: what the scheduler
 * asks of it (the calls up declared in sched/coro.h), the cancellable wait
 * every suspension point of the API is built on, and the node that ends a
 * blocking loop when a job completes.
 *
 * The scheduler runs a kin__coro and knows nothing of jobs; here a
 * coroutine's body and failure to get a stack become job transitions
 * (job.c); its retirement, a reference drop, is kin__coro_retire in slot.c,
 * next to the record it may free.
 *
 * CANCELLABLE WAITS: a waiting coroutine publishes its current job in
 * cancel_wake before it checks for cancellation; cancel_tree (job.c) sets
 * CANCELLING before it reads cancel_wake (both seq_cst), so either the
 * waiter sees the cancellation or the canceller sees the waiter and wakes
 * it. The wait is a loop, so a spurious wake-up only costs a re-check.
 * cancel_wake stays set after the wait (kin__job_publish_wait, job.h): the
 * next wait in the same job then needs no store. The price is that a
 * cancellation of that job may later find the coroutine running and mark
 * it NOTIFIED: its next park then returns at once and its loop checks
 * again (a cancellable wait sees the cancellation first anyway). A wait
 * that is not cancellable clears cancel_wake first: a stray wake-up would
 * queue it before its real one and change the order coroutines run in.
 */
#include <string.h>

#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "sched/scheduler.h"

void kin__coro_no_stack(kin__coro *sco) {
    kin__job *co = kin__job_of(sco);
    char name[64];
    kin__job_display_name(co, name, sizeof name);
    kin_error *e = kin__error_make(
        KIN_ENOMEM, "OutOfMemoryError", NULL,
        "could not allocate a %zu-byte stack for coroutine '%s'",
        (size_t)sco->stack_size, name);
    kin__job_body_done(co, KIN_ENOMEM, e);
    kin_error_release(e);
    kin__job_unref(co);
}

/* A coroutine cancelled before its first run never runs its body (DEFAULT
 * and LAZY starts); ATOMIC and UNDISPATCHED bodies start regardless. The
 * scheduler asks only when the cancel_hint of the record is set. */
bool kin__coro_may_start(kin__coro *sco) {
    kin__job *co = kin__job_of(sco);
    if (co->start != KIN_START_ATOMIC && co->start != KIN_START_UNDISPATCHED &&
        kin__job_is_cancelling(co)) {
        kin__job_body_done(co, KIN_ECANCELED, NULL);
        kin__job_unref(co);
        return false;
    }
    return true;
}

void kin__coro_main(kin__coro *sco) {
    kin__job *co = kin__job_of(sco);
    co->cur = co;
    int rc;
    if (co->flags & KIN__F_ASYNC) {
        void *value = NULL;
        rc = co->body.afn(co->arg, &value);
        if (rc == 0)
            co->result = value;
        else if (value && co->result_free)
            co->result_free(value); /* a failed body's value is dropped */
    } else {
        rc = co->body.fn(co->arg);
    }
    kin__job_body_done(co, rc, sco->error);
    if (sco->error) {
        kin__error_unref(sco->error);
        sco->error = NULL;
    }
}

/* "name#seq" without snprintf: called from the SIGSEGV handler. */
void kin__coro_name(const kin__coro *sco, char *buf, size_t len) {
    if (len == 0)
        return;
    const kin__job *co = kin__job_of((kin__coro *)sco);
    const char *base = kin__job_base_name(co);
    size_t n = 0;
    while (base[n] && n + 1 < len) {
        buf[n] = base[n];
        n++;
    }
    char digits[24];
    int k = 0;
    unsigned long long v = co->seq;
    do {
        digits[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (n + 1 < len)
        buf[n++] = '#';
    while (k > 0 && n + 1 < len)
        buf[n++] = digits[--k];
    buf[n] = 0;
}

void kin__job_wait(kin__job *co, atomic_bool *fired, bool cancellable) {
    kin__job *cur = co->cur;
    /* A wait a cancellation must not end: no cancel_wake left over from an
     * earlier wait, or a cancellation would queue us now, ahead of the
     * place the real wake-up gives us (Kotlin's order, DESIGN rule 11). */
    if (!cancellable)
        atomic_store_explicit(&co->cancel_wake, NULL, memory_order_relaxed);
    for (;;) {
        if (cancellable) {
            kin__job_publish_wait(co, cur);
            if (kin__job_is_cancelling(cur))
                break;
        }
        if (atomic_load_explicit(fired, memory_order_acquire))
            break;
        kin__park(&co->sched);
    }
}

void kin__job_wake_waiter(kin__job *co, atomic_bool *fired) {
    bool held = kin__job_hold_for_wake(co);
    atomic_store_explicit(fired, true, memory_order_release);
    kin__wake(&co->sched);
    if (held)
        kin__job_unref(co);
}

static void loop_node_fire(kin__node *n, kin__job *job) {
    (void)job;
    kin__worker *w = n->arg; /* read before `fired`: the loop's thread may
                                return and drop n as soon as it sees it */
    atomic_store(&n->fired, true);
    kin__loop_stop(w);
}

void kin__loop_node_init(kin__node *n, kin__worker *w) {
    memset(n, 0, sizeof *n);
    n->fire = loop_node_fire;
    n->arg = w;
}
