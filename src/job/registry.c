/*
 * registry.c — the list of live roots (see registry.h). Guarded by g_mu.
 * Lock order: g_mu before job locks (kin_dump walks trees under it); no
 * code takes g_mu while holding a job lock (roots are removed from finalize
 * with no lock held, and collected with references for cancellation).
 */
#include <pthread.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "job/registry.h"
#include "sched/dispatcher.h"
#include "sched/scheduler.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static kin__job *g_head;        /* [g_mu] */
static size_t g_count;          /* [g_mu] */
static kin__node *g_drain_node; /* [g_mu] fired when g_count drops to 0 */

void kin__registry_add(kin__job *root) {
    pthread_mutex_lock(&g_mu);
    root->reg_prev = NULL;
    root->reg_next = g_head;
    if (g_head)
        g_head->reg_prev = root;
    g_head = root;
    g_count++;
    root->registered = true;
    pthread_mutex_unlock(&g_mu);
}

void kin__registry_remove(kin__job *root) {
    pthread_mutex_lock(&g_mu);
    if (root->registered) {
        if (root->reg_prev)
            root->reg_prev->reg_next = root->reg_next;
        else
            g_head = root->reg_next;
        if (root->reg_next)
            root->reg_next->reg_prev = root->reg_prev;
        root->reg_prev = root->reg_next = NULL;
        root->registered = false;
        g_count--;
        if (g_count == 0 && g_drain_node) {
            kin__node *n = g_drain_node;
            g_drain_node = NULL;
            n->fire(n, root);
        }
    }
    pthread_mutex_unlock(&g_mu);
}

size_t kin__registry_count(void) {
    pthread_mutex_lock(&g_mu);
    size_t n = g_count;
    pthread_mutex_unlock(&g_mu);
    return n;
}

int kin__registry_drain(void) {
    kin__worker *w = kin__worker_self();
    if (!w)
        return kin__misuse(KIN_ENOMEM, "kin_shutdown: out of memory");
    if (w->in_loop)
        return kin__misuse(KIN_EBUSY,
                           "kin_shutdown: this thread is running a kin loop");
    pthread_mutex_lock(&g_mu);
    size_t n = 0;
    for (kin__job *r = g_head; r; r = r->reg_next) {
        if (r->flags & KIN__F_BLOCKING) {
            pthread_mutex_unlock(&g_mu);
            return kin__misuse(KIN_EBUSY,
                               "kin_shutdown: a kin_run_blocking is running");
        }
        n++;
    }
    kin__job **roots = n ? kin__calloc(n, sizeof *roots) : NULL;
    if (n && !roots) {
        pthread_mutex_unlock(&g_mu);
        return kin__misuse(KIN_ENOMEM, "kin_shutdown: out of memory");
    }
    size_t k = 0;
    for (kin__job *r = g_head; r; r = r->reg_next) {
        kin__job_ref(r);
        roots[k++] = r;
    }
    pthread_mutex_unlock(&g_mu);

    for (size_t i = 0; i < n; i++) {
        kin__job_cancel(roots[i],
                        kin__error_make(KIN_ECANCELED, "CancellationException",
                                        NULL, "kin_shutdown"));
        kin__job_unref(roots[i]);
    }
    kin__free(roots);

    /* Wait, running this thread's loop: some roots may run on it. */
    kin__node done;
    kin__loop_node_init(&done, w);
    pthread_mutex_lock(&g_mu);
    bool empty = g_count == 0;
    if (!empty)
        g_drain_node = &done;
    pthread_mutex_unlock(&g_mu);
    if (!empty)
        kin__run_loop(w, &done.fired);
    return 0;
}

size_t kin__registry_visit(void (*fn)(kin__job *root, void *arg), void *arg) {
    pthread_mutex_lock(&g_mu);
    size_t n = 0;
    for (kin__job *r = g_head; r; r = r->reg_next, n++)
        fn(r, arg);
    pthread_mutex_unlock(&g_mu);
    return n;
}

/* ---- Shutdown: cancel every root, then stop the pools --------------------*/

int kin_shutdown(void) {
    if (kin__current_coro())
        return kin__misuse(KIN_EPERM,
                           "kin_shutdown: called from inside a coroutine");
    int rc = kin__registry_drain();
    if (rc < 0)
        return rc;
    kin__pools_stop();
    return 0;
}

/* sched/dispatcher.h asks at exit: a live root means live coroutines. */
bool kin__exit_abandons_work(void) {
    return kin__registry_count() != 0;
}
