/*
 * mainloop.c — Main hosted in the program's own event loop: kin_main_attach,
 * kin_main_fd, kin_main_timeout_ms, kin_main_run_ready, kin_main_detach.
 *
 * The mechanics are the scheduler's (sched/scheduler.c, "A host's event
 * loop"): the attached thread's worker keeps its epoll as the fd the host
 * waits on, tells the host how long it may wait, and runs what is ready
 * without blocking. Here: the argument and thread checks, and which thread
 * hosts Main.
 *
 * WHO OWNS WHAT: g_host is the worker of the attached thread, or NULL;
 * written by that thread (attach, detach), read by any thread to tell
 * "another thread hosts Main" from "nobody does" in messages. The worker's
 * `hosted` flag is its owner thread's.
 */
#include "base/error.h"
#include "sched/dispatcher.h"
#include "sched/scheduler.h"

static _Atomic(kin__worker *) g_host;

/* The calling thread's worker if it hosts Main and the call comes from
 * plain code; else reports the misuse (KIN_EPERM) for `who`. With
 * `outside_loop`, also refuses a call from inside kin's loop (a completion
 * handler run by kin_main_run_ready). */
static kin__worker *host_self(const char *who, bool outside_loop, int *rc) {
    *rc = KIN_EPERM;
    if (kin__current_coro()) {
        kin__misuse(KIN_EPERM,
                    "%s: called from inside a coroutine; the host's event "
                    "loop calls it, in plain code",
                    who);
        return NULL;
    }
    kin__worker *w = kin__worker_peek();
    if (!w || !w->hosted) {
        if (atomic_load(&g_host))
            kin__misuse(KIN_EPERM,
                        "%s: Main is hosted by another thread's event loop; "
                        "call it on that thread",
                        who);
        else
            kin__misuse(KIN_EPERM,
                        "%s: Main is not hosted by an event loop (call "
                        "kin_main_attach first)",
                        who);
        return NULL;
    }
    if (outside_loop && w->in_loop) {
        kin__misuse(KIN_EPERM,
                    "%s: called while kin runs this thread's loop (from a "
                    "completion handler?)",
                    who);
        return NULL;
    }
    *rc = 0;
    return w;
}

int kin_main_attach(void) {
    const char *who = "kin_main_attach";
    if (kin__current_coro())
        return kin__misuse(KIN_EPERM,
                           "%s: called from inside a coroutine; attach from "
                           "the thread's plain code, before its event loop",
                           who);
    kin__worker *w = kin__worker_self();
    if (!w)
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    if (w->hosted)
        return kin__misuse(KIN_EALREADY,
                           "%s: this thread already hosts Main", who);
    if (w->in_loop)
        return kin__misuse(KIN_EPERM,
                           "%s: this thread is running a kin loop "
                           "(kin_run_blocking: called from a completion "
                           "handler?)",
                           who);
    if (atomic_load(&g_host))
        return kin__misuse(KIN_EBUSY,
                           "%s: another thread's event loop hosts Main", who);
    if (kin__main_bind(w) < 0)
        return kin__misuse(KIN_EBUSY,
                           "%s: Main belongs to another thread (the first "
                           "one that ran kin_run_blocking)",
                           who);
    int hrc = kin__host_set(w, true);
    if (hrc == KIN_EBUSY)
        return kin__misuse(KIN_EBUSY,
                           "%s: this thread's loop already polls with "
                           "io_uring, which has no fd to wait on",
                           who);
    if (hrc < 0)
        return kin__misuse(KIN_ENOMEM,
                           "%s: could not make the epoll and eventfd", who);
    kin__worker *none = NULL;
    if (!atomic_compare_exchange_strong(&g_host, &none, w)) {
        kin__host_set(w, false); /* lost a race with another thread */
        return kin__misuse(KIN_EBUSY,
                           "%s: another thread's event loop hosts Main", who);
    }
    return 0;
}

int kin_main_fd(void) {
    int rc;
    kin__worker *w = host_self("kin_main_fd", false, &rc);
    return w ? kin__host_fd(w) : rc;
}

int kin_main_timeout_ms(void) {
    int rc;
    kin__worker *w = host_self("kin_main_timeout_ms", false, &rc);
    return w ? kin__host_timeout_ms(w) : rc;
}

int kin_main_run_ready(void) {
    int rc;
    kin__worker *w = host_self("kin_main_run_ready", true, &rc);
    return w ? kin__run_ready(w) : rc;
}

int kin_main_detach(void) {
    int rc;
    kin__worker *w = host_self("kin_main_detach", true, &rc);
    if (!w)
        return rc;
    kin__host_set(w, false);
    atomic_store(&g_host, NULL);
    return 0;
}
