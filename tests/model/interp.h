/*
 * interp.h — runs a program from prog.h on kin (public API only), records
 * what happens, and checks invariants that do not need the model:
 *
 *   I1 (rule 1)  a job completes only after all its child jobs; nobody's
 *                completion comes before its children's, and no job
 *                completes twice;
 *   I2 (L5)      nothing runs after its scope returned or its job completed:
 *                every event in a coroutine finds all enclosing scopes not
 *                yet returned and all enclosing jobs not yet completed;
 *   I3 (rule 2)  cancellation reaches every descendant: a job that completes
 *                successfully has no cancelling or cancelled ancestor (up to
 *                a non-cancellable section, rule 8);
 *   I4 (rules 3, 6, 7, 14) every failure reaches exactly one place: a
 *                failing job's failure is returned by its scope function, or
 *                is (or is suppressed in) its parent's final failure, or goes
 *                to one handler call (a launch under a supervisor); async
 *                never calls a handler; no other handler calls; a failure a
 *                body returned is its job's final failure or suppressed in it;
 *                a suppressed list never holds its own failure or one twice;
 *   I5 (L1, L2)  every handle the program kept is stale once its owner has
 *                completed (kin_run_blocking returned): nothing leaks;
 *   I6 (kin.h, suspending by hand) an on-cancel callback runs exactly once
 *                if kin_suspend returns the cancellation code, never
 *                otherwise, and before it returns; every value resumed with
 *                kin_resume_ex is delivered or goes to its on_drop, exactly
 *                once; one without on_drop is never dropped there.
 *   I7 (kin.h, channels) every element a channel accepted (every send that
 *                returned, a try_send that returned 0) is received exactly
 *                once or given to on_undelivered exactly once; one it did
 *                not accept, never;
 *   I8 (kin.h, mutex) no two coroutines are ever inside with_lock bodies
 *                at once, and the mutex is unlocked at the end; no more
 *                than the semaphore's permits (plus the bare releases
 *                that succeeded) are ever inside with_permit bodies, and
 *                every permit is back at the end;
 *   I9 (pipes)   a message is read at most once, and only if its write
 *                returned 2 (a select's SEND clause: I7 in its form for
 *                elements whose fate the result does not tell).
 *
 * Pipes: made (non-blocking) before the run, closed after it; an end the
 * program closed with kin_close is never used again (its number may be
 * reused): a read or write on it returns -EBADF after kin's cancellation
 * check, as kin_read / kin_write would on a closed fd. SIGPIPE is ignored
 * (a write to a pipe whose read end is closed returns -EPIPE). On Default
 * the watchdog closes the write ends after 50 ms, as it cancels the
 * channels. Under virtual time a pending fd wait makes the loop sleep for
 * real (kin.h's rule), so pipe programs use 1 ms ticks there.
 *
 * Channels and the mutex: the program's channels and its mutex are made
 * before the run and destroyed after it (elements still buffered go to
 * on_undelivered then, counted for I7 but not recorded as events); the
 * root's body closes every channel when it returns (model.h does the
 * same). On Default a watchdog cancels every channel after 50 ms, so that
 * a send or receive that the threads' order left without a partner ends.
 * A PRODUCE's channel (kin_produce) is made when it runs: the consumer's
 * handle goes to chans[] (closed with the others, cancelled by the
 * watchdog once made, destroyed after the run), the producer's own to
 * prodh[], which its SENDs use. A WITH_LOCK with LF_OWNER locks with the
 * owner token &value[its coroutine]; MX_HOLDS, MX_UNLOCK, MX_RELOCK call
 * kin_mutex_holds_lock, kin_mutex_unlock, kin_mutex_lock / try_lock with
 * the tokens prog.h says.
 *
 * Suspending by hand: the program's table (cont[], kslot[]) holds each
 * SUSPEND node's continuation once start stored it, or a RESUME that came
 * first (then start resumes with it: prog.h). On Default a background
 * thread resumes, from outside kin, suspensions still waiting after a few
 * ms (the threads' order may have cancelled the coroutine that was to
 * resume them, as "forever" is a few ms there): only invariants are
 * checked there, and resuming from a foreign thread is kin's contract too.
 *
 * "Parent" above is the job's parent: a launch with an explicit parent
 * (kin_launch_opts.parent) belongs to that job's family, one with
 * .no_parent and a root hand-made job to none (their failures go to their
 * handler, rule 7); a launch under a hand-made job that no coroutine or
 * scope is above (a root Job()) is cancelled with its parent and still
 * reports its failure to its handler (Kotlin's handlesException).
 * kin_job_parent is checked against what the interpreter expects.
 *
 * Epilogue: after the root's body returned, ki_root waits, in
 * kin_non_cancellable, for a hand-made "keeper" job that the completion of
 * the last counted job (a job node, a launch with an explicit parent or
 * none) completes, so nothing outside the root's tree outlives the
 * program (model.h says the same).
 *
 * Events are recorded in the order they happen on the one thread, as the
 * model records them (model.h): START, RET (a statement returned), END (a
 * body returned), with error objects retained until the comparison.
 *
 * Multi-threaded mode (ki_run's mt): the program's root body runs in
 * kin_with_context(Default), so every coroutine runs on the Default pool;
 * the recording is under a mutex, "forever" and ticks are short real
 * delays, and I3 is not checked (another thread may cancel an ancestor
 * between a job's completion and its completion handler).
 */
#ifndef KIN_MODEL_INTERP_H
#define KIN_MODEL_INTERP_H

#include <kin.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "model.h"
#include "prog.h"

#define KI_FOREVER_MS 1000000000LL /* 11 days: never fires in a test */

typedef struct k_ev {
    uint8_t kind;
    int16_t node;
    int rc;
    int val;
    kin_error *err; /* retained */
} k_ev;

typedef struct k_run {
    const mp_prog *p;
    int64_t tick_ms;
    bool mt;              /* on the Default pool */
    int64_t forever_ms;   /* "forever" in ms */
    pthread_mutex_t mu;   /* guards everything below in mt mode */
    atomic_int root_done; /* node 0's completion handler has returned */
    kin_job handle[MP_MAX_NODES];     /* kept launch handles (L2) */
    int16_t jparent[MP_MAX_NODES];    /* the job's parent node, -1: none */
    int16_t xfirst[MP_MAX_NODES];     /* explicit children: first + 1 */
    int16_t xnext[MP_MAX_NODES];      /* ... and the next one + 1 */
    bool counted[MP_MAX_NODES];       /* the epilogue waits for it */
    bool unhandled[MP_MAX_NODES];     /* job node: a root Job() family */
    bool detached[MP_MAX_NODES];      /* outside the root's tree */
    bool registering[MP_MAX_NODES];   /* its completion handler is being
                                         registered (maybe run at once) */
    int pending;                      /* counted jobs not completed */
    kin_job keeper;                   /* the epilogue's, once made */
    kin_job self[MP_MAX_NODES];       /* kin_current_job() in its body (L3) */
    bool created[MP_MAX_NODES];
    bool completed[MP_MAX_NODES];
    bool returned[MP_MAX_NODES]; /* scope calls */
    int ncomplete[MP_MAX_NODES];
    int final_state[MP_MAX_NODES];
    kin_error *final_cause[MP_MAX_NODES];
    int nhandled[MP_MAX_NODES];
    int handled_by[MP_MAX_NODES];
    kin_error *handled_err[MP_MAX_NODES];
    int value[MP_MAX_NODES]; /* an async's value is &value[node] */
    /* suspending by hand */
    kin_cont cont[MP_MAX_NODES];  /* SUSPEND: its continuation */
    int8_t kslot[MP_MAX_NODES];   /* SUSPEND: KS_* */
    int16_t kpend[MP_MAX_NODES];  /* KS_PENDING: the RESUME node */
    int64_t stored_at[MP_MAX_NODES]; /* KS_STORED: when (ms, Default) */
    int ncb[MP_MAX_NODES];        /* SUSPEND: on-cancel callbacks run */
    int ndrop[MP_MAX_NODES];      /* RESUME/SUSPEND: its value dropped */
    int ndeliv[MP_MAX_NODES];     /* ... delivered */
    bool resumed[MP_MAX_NODES];   /* RESUME (or fast SUSPEND) ran */
    int wd_value;                 /* the watchdog's value (Default) */
    /* channels and the mutex */
    kin_channel chans[MP_CH_TABLE]; /* produce channels: the consumer's
                                       handle, once made */
    kin_channel prodh[MP_CH_TABLE]; /* ... the producer's */
    kin_mutex mx;
    int holders;                  /* coroutines in a with_lock body (I8) */
    kin_semaphore sem;            /* "more" programs */
    int pfd[MP_MAX_PIPES][2];     /* pipes: read end, write end */
    bool pclosed[MP_MAX_PIPES][2];/* closed through kin_close */
    bool written[MP_MAX_NODES];   /* FD_WRITE: its message went in */
    int nread[MP_MAX_NODES];      /* ... read (I9) */
    int sem_holders;              /* ... in a with_permit body (I8) */
    int sem_extra;                /* bare releases that returned 0 */
    bool accepted[MP_MAX_NODES];  /* SEND/TRY_SEND: the channel took it */
    int nrecv[MP_MAX_NODES];      /* ... received */
    bool sel_sent[MP_MAX_NODES];  /* SELECT's SEND clause won */
    int nundel[MP_MAX_NODES];     /* ... given to on_undelivered */
    bool after;                   /* the run is over: events not recorded */
    int64_t start_ms;             /* Default: when the run began */
    atomic_int wd_stop;
    int nev;
    k_ev evs[8 * MP_MAX_NODES];
    int rb_rc;
    kin_error *rb_err;
    int nviol;
    char viol[8][256];
} k_run;

static k_run *KR;

enum { KS_EMPTY, KS_PENDING, KS_STORED };

static void ki_lock(void) {
    if (KR->mt)
        pthread_mutex_lock(&KR->mu);
}

static void ki_unlock(void) {
    if (KR->mt)
        pthread_mutex_unlock(&KR->mu);
}

static void ki_violation(const char *fmt, ...) KIN_PRINTF(1, 2);
static void ki_violation(const char *fmt, ...) {
    if (KR->nviol < 8) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(KR->viol[KR->nviol], sizeof KR->viol[0], fmt, ap);
        va_end(ap);
    }
    KR->nviol++;
}

static const mp_node *ki_node(int id) {
    return &KR->p->nodes[id];
}

/* I2: an event in the body of `owner` finds all enclosing scopes running
 * and all enclosing jobs not completed. */
/* The job parent of node s (see the top): the body owner, except for
 * launches with an explicit parent (or none) and job nodes. */
static int ki_jparent(int s) {
    const mp_node *n = ki_node(s);
    if (n->op == OP_LAUNCH || n->op == OP_ASYNC || mp_is_hand(n->op))
        return KR->jparent[s];
    return n->parent;
}

static void ki_check_alive(int owner, const char *what, int node) {
    for (int a = owner; a >= 0; a = ki_jparent(a)) {
        if (KR->completed[a])
            ki_violation("I2: %s #%d after job #%d completed", what, node, a);
        if (mp_is_scope(ki_node(a)->op) && KR->returned[a])
            ki_violation("I2: %s #%d after scope #%d returned", what, node,
                         a);
    }
}

static void ki_ev(int kind, int owner, int node, int rc, int val,
                  const kin_error *err) {
    static const char *const names[] = {"start", "return of", "end of body",
                                        "on-cancel callback of",
                                        "on_drop of", "undelivered"};
    ki_lock();
    ki_check_alive(owner, names[kind], node);
    if (KR->nev >= (int)(sizeof KR->evs / sizeof KR->evs[0]))
        ki_violation("too many events");
    else
        KR->evs[KR->nev++] = (k_ev){(uint8_t)kind, (int16_t)node, rc, val,
                                    rc < 0 ? kin_error_retain(err) : NULL};
    ki_unlock();
}

/* Every coroutine is launched with the name "n<node>". */
static int ki_node_of_job(kin_job job) {
    char name[64];
    int s;
    if (kin_job_name(job, name, sizeof name) < 0 ||
        sscanf(name, "n%d#", &s) != 1 || s < 0 || s >= KR->p->n)
        return -1;
    return s;
}

static void ki_handled(kin_job job, const kin_error *failure, int installer) {
    int s = ki_node_of_job(job);
    ki_lock();
    if (s < 0) {
        ki_violation("I4: a handler was called for an unknown job");
    } else if (KR->nhandled[s]++ == 0) {
        KR->handled_by[s] = installer;
        KR->handled_err[s] = kin_error_retain(failure);
    }
    ki_unlock();
}

/* An exception handler installed by the LAUNCH node (arg - 1). */
static void ki_handler(kin_job job, const kin_error *failure, void *arg) {
    ki_handled(job, failure, (int)(intptr_t)arg - 1);
}

static void ki_default_handler(kin_job job, const kin_error *failure,
                               void *arg) {
    (void)arg;
    ki_handled(job, failure, -1);
}

/* Completion of job node s (I1, I3). */
static void ki_on_complete(kin_job job, const kin_error *cause, void *arg) {
    (void)job;
    int s = (int)(intptr_t)arg;
    const mp_node *n = ki_node(s);
    ki_lock();
    if (KR->ncomplete[s]++) {
        ki_violation("I1: job #%d completed twice", s);
        ki_unlock();
        return;
    }
    KR->completed[s] = true;
    KR->final_state[s] = cause ? KIN_STATE_CANCELLED : KIN_STATE_COMPLETED;
    KR->final_cause[s] = kin_error_retain(cause);
    /* I1: its children first */
    for (int i = 0; i <= n->nkids; i++) {
        int k = i < n->nkids ? n->kids[i] : n->cleanup;
        if (k < 0 || !mp_is_job(ki_node(k)->op) || ki_jparent(k) != s)
            continue;
        if (KR->created[k] && !KR->completed[k])
            ki_violation("I1: job #%d completed before its child #%d%s", s, k,
                         mp_is_scope(ki_node(k)->op)
                             ? " (the scope's completion handler ran late)"
                             : "");
    }
    for (int k = KR->xfirst[s] - 1; k >= 0; k = KR->xnext[k] - 1)
        if (!KR->completed[k] && !(KR->mt && KR->registering[k]))
            ki_violation("I1: job #%d completed before its child #%d "
                         "(launched with it as explicit parent)",
                         s, k);
    int par = ki_jparent(s);
    /* On Default, a launch with an explicit parent (not the launcher) may
     * complete, and its parent too, before the launcher registers this
     * handler, which then runs late: no order to check. */
    bool late = KR->mt && KR->registering[s];
    if (par >= 0 && KR->completed[par] && !late)
        ki_violation("I1: job #%d completed after its parent #%d%s", s, par,
                     mp_is_scope(n->op)
                         ? " (the scope's completion handler ran late)"
                         : "");
    /* I3: success means no enclosing job was cancelled */
    if (!cause && n->op != OP_NONCANCEL && !KR->mt) {
        for (int a = par; a >= 0; a = ki_jparent(a)) {
            if (kin_job_is_cancelled(KR->self[a]))
                ki_violation("I3: job #%d completed successfully inside "
                             "cancelled job #%d",
                             s, a);
            if (ki_node(a)->op == OP_NONCANCEL)
                break;
        }
    }
    /* the epilogue, last: once the keeper is complete (and pending 0)
     * the run may end and check what this handler recorded (on Default,
     * seed 57242 found it checking before) */
    kin_job keeper = {0};
    if (KR->counted[s]) {
        KR->counted[s] = false;
        if (--KR->pending == 0)
            keeper = KR->keeper;
    }
    ki_unlock();
    if (keeper.id)
        kin_job_complete(keeper); /* 0 if done before: harmless */
    if (s == 0)
        atomic_store(&KR->root_done, 1);
}

static int ki_run_body(int owner);
static void ki_close_all(void);

static int ki_co(void *arg) {
    int s = (int)(intptr_t)arg;
    ki_ev(EV_START, s, s, 0, -1, NULL);
    kin_job me = kin_current_job();
    ki_lock();
    KR->self[s] = me;
    ki_unlock();
    int rc = ki_run_body(s);
    ki_ev(EV_END, s, s, rc, -1, kin_last_error());
    return rc;
}

static int ki_async(void *arg, void **out) {
    int s = (int)(intptr_t)arg;
    int rc = ki_co(arg);
    if (rc == 0)
        *out = &KR->value[s];
    return rc;
}

static int ki_wait_keeper(void *arg) {
    (void)arg;
    ki_lock();
    kin_job k = KR->keeper;
    ki_unlock();
    return kin_join(k);
}

/* The epilogue (see the top): after the root's body returned, wait for
 * the counted jobs, in a non-cancellable section, then return what the
 * body returned, with its error object. */
static int ki_epilogue(int rc) {
    ki_lock();
    bool wait = KR->pending > 0;
    ki_unlock();
    if (!wait)
        return rc;
    kin_error *saved = rc < 0 ? kin_error_retain(kin_last_error()) : NULL;
    kin_job k;
    int krc = kin_job_new(&k, &(kin_job_opts){.name = "keeper"});
    ki_lock();
    if (krc != 0)
        ki_violation("kin_job_new failed for the epilogue: %d", krc);
    KR->keeper = k;
    wait = krc == 0 && KR->pending > 0;
    ki_unlock();
    if (wait) {
        int wrc = kin_non_cancellable(ki_wait_keeper, NULL);
        if (wrc != 0) {
            ki_lock();
            ki_violation("the epilogue's kin_join returned %d", wrc);
            ki_unlock();
        }
    }
    if (krc == 0)
        kin_job_complete(k);
    if (saved)
        kin_fail_error(saved); /* the body's error is current again */
    return rc;
}

static int ki_root(void *arg) {
    (void)arg;
    kin_job me = kin_current_job();
    ki_lock();
    KR->created[0] = true;
    KR->self[0] = me;
    ki_unlock();
    if (kin_invoke_on_completion(me, ki_on_complete, (void *)0) != 0) {
        ki_lock();
        ki_violation("kin_invoke_on_completion failed on the root");
        ki_unlock();
    }
    int rc = ki_co((void *)0);
    ki_close_all(); /* the end of the root's body (model.h) */
    return ki_epilogue(rc);
}

/* Multi-threaded mode: the program's root runs on Default. */
static int ki_root_mt(void *arg) {
    return kin_with_context(kin_dispatcher_default(), ki_root, arg);
}

static int ki_scope(void *arg) {
    int s = (int)(intptr_t)arg;
    kin_job me = kin_current_job();
    ki_lock();
    KR->created[s] = true;
    KR->self[s] = me;
    KR->detached[s] = KR->detached[ki_node(s)->parent];
    ki_unlock();
    if (kin_invoke_on_completion(me, ki_on_complete, arg) != 0) {
        ki_lock();
        ki_violation("kin_invoke_on_completion failed on scope #%d", s);
        ki_unlock();
    }
    int rc = ki_run_body(s);
    ki_ev(EV_END, s, s, rc, -1, kin_last_error());
    return rc;
}

static int64_t ki_ms(int ticks) {
    return ticks == MP_INF ? KR->forever_ms : (int64_t)ticks * KR->tick_ms;
}

/* The kept handle of launch node t (stored by another coroutine). */
static kin_job ki_handle(int t) {
    ki_lock();
    kin_job h = KR->handle[t];
    ki_unlock();
    return h;
}

/* Records that scope s returned (I2). */
static void ki_returned(int s) {
    ki_lock();
    KR->returned[s] = true;
    ki_unlock();
}

/* ---- Suspending by hand ---------------------------------------------------- */

static int64_t ki_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* kin_cont_on_cancel's callback of SUSPEND node arg. */
static void ki_on_cancel(kin_cont cont, void *arg) {
    (void)cont;
    int s = (int)(intptr_t)arg;
    ki_ev(EV_CB, -1, s, 0, -1, NULL);
    ki_lock();
    KR->ncb[s]++;
    ki_unlock();
}

/* kin_resume_ex's on_drop: v is &value[node]. */
static void ki_drop(void *v) {
    int *iv = v;
    int r = iv >= KR->value && iv < KR->value + MP_MAX_NODES
                ? (int)(iv - KR->value)
                : -1;
    if (r < 0) {
        ki_lock();
        ki_violation("on_drop called with a value that is not a node's");
        ki_unlock();
        return;
    }
    ki_ev(EV_DROP, -1, r, 0, -1, NULL);
    ki_lock();
    KR->ndrop[r]++;
    ki_unlock();
}

/* Resumes cont as RESUME node r says (or a SUSPEND r, its fast path). */
static int ki_do_resume(kin_cont cont, int r) {
    const mp_node *n = ki_node(r);
    ki_lock();
    KR->resumed[r] = true;
    ki_unlock();
    if (n->op == OP_SUSPEND)
        return kin_resume_ex(cont, &KR->value[r], ki_drop);
    if (n->hflags & HF_ERR)
        return kin_resume_error(
            cont, kin_error_new(KIN_EFAILED, "ModelFailure", "F%d", r));
    if (n->hflags & HF_EX)
        return kin_resume_ex(cont, &KR->value[r], ki_drop);
    return kin_resume(cont, &KR->value[r]);
}

/* kin_suspend's start for SUSPEND node arg (prog.h). */
static void ki_start(kin_cont cont, void *arg) {
    int s = (int)(intptr_t)arg;
    const mp_node *n = ki_node(s);
    if (n->hflags & HF_CB) {
        int crc = kin_cont_on_cancel(cont, ki_on_cancel, arg);
        if (crc != 0) {
            ki_lock();
            ki_violation("kin_cont_on_cancel on #%d returned %d", s, crc);
            ki_unlock();
        }
    }
    ki_lock();
    int r = KR->kslot[s] == KS_PENDING ? KR->kpend[s] : -1;
    KR->kslot[s] = KS_STORED;
    KR->cont[s] = cont;
    KR->stored_at[s] = KR->mt ? ki_now_ms() : 0;
    ki_unlock();
    int rc1 = r >= 0 ? ki_do_resume(cont, r) : 0;
    int rc2 = n->hflags & HF_FAST ? ki_do_resume(cont, s) : 0;
    if ((rc1 != 0 && rc1 != KIN_EALREADY) ||
        (rc2 != 0 && rc2 != KIN_EALREADY)) {
        ki_lock();
        ki_violation("a resume in kin_suspend's start (#%d) returned %d, %d",
                     s, rc1, rc2);
        ki_unlock();
    }
}

/* ---- Channels and the mutex ------------------------------------------------ */

/* on_undelivered: the element is the SEND node that sent it. */
static void ki_undel(void *elem, void *arg) {
    (void)arg;
    int v = *(int *)elem;
    if (v < 0 || v >= KR->p->n) {
        ki_lock();
        ki_violation("on_undelivered called with element %d", v);
        ki_unlock();
        return;
    }
    if (!KR->after)
        ki_ev(EV_UNDEL, -1, v, 0, -1, NULL);
    ki_lock();
    KR->nundel[v]++;
    ki_unlock();
}

static int ki_lock_body(void *arg) {
    int s = (int)(intptr_t)arg;
    ki_lock();
    if (++KR->holders > 1)
        ki_violation("I8: with_lock body #%d entered while another holds "
                     "the mutex",
                     s);
    ki_unlock();
    int rc = ki_run_body(s);
    ki_lock();
    KR->holders--;
    ki_unlock();
    ki_ev(EV_END, s, s, rc, -1, kin_last_error());
    return rc;
}

static int ki_permit_body(void *arg) {
    int s = (int)(intptr_t)arg;
    ki_lock();
    if (++KR->sem_holders > KR->p->permits + KR->sem_extra)
        ki_violation("I8: with_permit body #%d entered while %d permits "
                     "are out",
                     s, KR->p->permits);
    ki_unlock();
    int rc = ki_run_body(s);
    ki_lock();
    KR->sem_holders--;
    ki_unlock();
    ki_ev(EV_END, s, s, rc, -1, kin_last_error());
    return rc;
}

/* kin_close of one end of pipe i, once (a closed number may be reused:
 * never closed again). Returns kin_close's result, or -EBADF if it was
 * closed already (the model says the same). */
static int ki_pipe_close(int i, int end) {
    ki_lock();
    bool was = KR->pclosed[i][end];
    KR->pclosed[i][end] = true;
    int rc = was ? -EBADF : kin_close(KR->pfd[i][end]);
    ki_unlock();
    return rc;
}

/* The consumer's handle of channel i (0 if a produce channel not made). */
static kin_channel ki_chan(int i) {
    ki_lock();
    kin_channel h = KR->chans[i];
    ki_unlock();
    return h;
}

static void ki_close_all(void) {
    for (int i = 0; i < KR->p->nch; i++)
        kin_channel_close(KR->chans[i], NULL);
    for (int i = MP_MAX_CHANS; i < MP_CH_TABLE; i++) {
        kin_channel h = ki_chan(i);
        if (h.id)
            kin_channel_close(h, NULL);
    }
    for (int i = 0; i < KR->p->npipe; i++) /* readers see end of file */
        ki_pipe_close(i, 1);
}

/* An fd statement. The error is cleared first: -errno results make no
 * error object (kin.h), and the model says "none" for them. A read or
 * write on an end the program closed is not made (the number may name
 * another file by then): its result is what kin gives for a closed fd,
 * after kin's cancellation check (kin_ensure_active). */
static int ki_fd_stmt(int s, int *val) {
    const mp_node *n = ki_node(s);
    int i = n->ch;
    kin_clear_error();
    switch (n->op) {
    case OP_FD_READ: {
        ki_lock();
        bool closed = KR->pclosed[i][0];
        ki_unlock();
        if (closed) {
            int rc = kin_ensure_active();
            if (rc < 0)
                return rc;
            kin_clear_error();
            return -EBADF;
        }
        if (n->hflags & FF_WAIT) {
            int k = kin_wait_fd(KR->pfd[i][0], KIN_READABLE, -1);
            if (k < 0)
                return k;
            if (k != KIN_READABLE) {
                ki_lock();
                ki_violation("kin_wait_fd of #%d returned %d", s, k);
                ki_unlock();
            }
        }
        int16_t b = -1;
        long rc = kin_read(KR->pfd[i][0], &b, sizeof b);
        if (rc == 2) {
            *val = b;
            ki_lock();
            if (b >= 0 && b < KR->p->n)
                KR->nread[b]++;
            else
                ki_violation("#%d read message %d", s, b);
            ki_unlock();
        } else if (rc > 0) {
            ki_lock();
            ki_violation("#%d read %ld bytes", s, rc);
            ki_unlock();
        }
        return (int)rc;
    }
    case OP_FD_WRITE: {
        int16_t b = (int16_t)s;
        /* under the lock, so that no close comes between the check and
         * the write (never suspends: the pipe has room) */
        ki_lock();
        long rc;
        if (KR->pclosed[i][1]) {
            ki_unlock();
            rc = kin_ensure_active();
            if (rc < 0)
                return (int)rc;
            kin_clear_error();
            return -EBADF;
        }
        rc = kin_write(KR->pfd[i][1], &b, sizeof b);
        KR->written[s] = rc == 2;
        ki_unlock();
        return (int)rc;
    }
    default:
        return ki_pipe_close(i, n->hflags & FF_WREND ? 1 : 0);
    }
}

static int ki_coro_of(int owner);

/* A channel or mutex statement. */
static int ki_chan_stmt(int s, int *val) {
    const mp_node *n = ki_node(s);
    kin_channel ch = KR->chans[n->ch];
    if (n->ch >= MP_MAX_CHANS) { /* a produce channel: whose handle */
        ki_lock();
        ch = n->op == OP_SEND || n->op == OP_TRY_SEND ? KR->prodh[n->ch]
                                                      : KR->chans[n->ch];
        ki_unlock();
    }
    int v = s, rc = 0;
    switch (n->op) {
    case OP_SEND:
    case OP_TRY_SEND:
        rc = n->op == OP_SEND ? kin_channel_send(ch, &v, sizeof v)
                              : kin_channel_try_send(ch, &v, sizeof v);
        ki_lock();
        KR->accepted[s] = n->op == OP_SEND || rc == 0;
        ki_unlock();
        break;
    case OP_RECEIVE:
    case OP_TRY_RECEIVE:
        v = -1;
        rc = n->op == OP_TRY_RECEIVE
                 ? kin_channel_try_receive(ch, &v, sizeof v)
             : n->hflags & RF_CATCH
                 ? kin_channel_receive_catching(ch, &v, sizeof v)
                 : kin_channel_receive(ch, &v, sizeof v);
        if (rc == 0) {
            *val = v;
            ki_lock();
            if (v >= 0 && v < KR->p->n)
                KR->nrecv[v]++;
            else
                ki_violation("#%d received element %d", s, v);
            ki_unlock();
        }
        break;
    case OP_SELECT: {
        /* the clauses of mp_sel_clauses: receive (maybe catching) from
         * ch; receive from or send to ch2; maybe a JOIN or an AWAIT of a
         * kept handle; maybe a TIMEOUT */
        int kinds[5], chans[5], ev[5];
        void *res = NULL;
        int nc = mp_sel_clauses(n, kinds, chans);
        kin_select_clause cl[5];
        memset(cl, 0, sizeof cl);
        for (int k = 0; k < nc; k++) {
            static const kin_select_kind kk[] = {
                [SK_RECV] = KIN_SELECT_RECEIVE,
                [SK_CATCH] = KIN_SELECT_RECEIVE_CATCHING,
                [SK_SEND] = KIN_SELECT_SEND, [SK_AWAIT] = KIN_SELECT_AWAIT,
                [SK_JOIN] = KIN_SELECT_JOIN, [SK_TMO] = KIN_SELECT_TIMEOUT};
            cl[k].kind = kk[kinds[k]];
            ev[k] = kinds[k] == SK_SEND ? s : -1;
            if (chans[k] >= 0) {
                cl[k].channel = KR->chans[chans[k]];
                cl[k].elem = &ev[k];
                cl[k].size = sizeof(int);
            } else if (kinds[k] == SK_TMO) {
                cl[k].timeout_ms = ki_ms(n->ticks);
            } else {
                cl[k].job = ki_handle(n->target);
                cl[k].result = kinds[k] == SK_AWAIT ? &res : NULL;
            }
        }
        rc = n->hflags & SF_UNBIASED ? kin_select_unbiased(cl, (size_t)nc)
                                     : kin_select(cl, (size_t)nc);
        int kind = rc >= 0 && rc < nc ? kinds[rc] : -1;
        if (kind == SK_CATCH && cl[rc].rc != 0) {
            *val = mp_closed_val(cl[rc].rc); /* closed: its result */
        } else if (kind == SK_RECV || kind == SK_CATCH) {
            v = ev[rc];
            *val = v;
            ki_lock();
            if (v >= 0 && v < KR->p->n)
                KR->nrecv[v]++;
            else
                ki_violation("#%d selected element %d", s, v);
            ki_unlock();
        } else if (kind == SK_AWAIT) {
            int *iv = res;
            *val = iv >= KR->value && iv < KR->value + MP_MAX_NODES
                       ? (int)(iv - KR->value)
                       : -2;
        } else if (rc >= 0 && kind < 0) {
            ki_lock();
            ki_violation("select #%d returned %d of %d clauses", s, rc, nc);
            ki_unlock();
        }
        if (n->hflags & SF_SEND) {
            ki_lock();
            KR->sel_sent[s] = kind == SK_SEND;
            ki_unlock();
        }
        break;
    }
    case OP_CLOSE:
        rc = kin_channel_close(ch, NULL);
        break;
    case OP_CANCEL_CH:
        rc = kin_channel_cancel(ch, NULL);
        break;
    case OP_WITH_LOCK: {
        /* LF_OWNER: the coroutine's owner token */
        const void *tok = n->hflags & LF_OWNER
                              ? (const void *)&KR->value[ki_coro_of(n->parent)]
                              : NULL;
        if (n->hflags & HF_TRY) {
            int t = kin_mutex_try_lock(KR->mx, tok);
            if (t != 1)
                break;
            rc = ki_lock_body((void *)(intptr_t)s);
            int u = kin_mutex_unlock(KR->mx, tok);
            if (u != 0)
                rc = u;
            break;
        }
        rc = kin_mutex_with_lock(KR->mx, tok, ki_lock_body,
                                 (void *)(intptr_t)s);
        break;
    }
    case OP_MX_HOLDS:
        rc = kin_mutex_holds_lock(
            KR->mx, &KR->value[n->target >= 0 ? n->target
                                              : ki_coro_of(n->parent)]);
        break;
    case OP_MX_UNLOCK: /* a token nobody locks with */
        rc = kin_mutex_unlock(KR->mx, &KR->value[s]);
        break;
    case OP_MX_RELOCK: {
        const void *tok = &KR->value[ki_coro_of(n->parent)];
        rc = n->hflags & HF_TRY ? kin_mutex_try_lock(KR->mx, tok)
                                : kin_mutex_lock(KR->mx, tok);
        break;
    }
    case OP_WITH_PERMIT:
        if (n->hflags & HF_TRY) {
            int t = kin_semaphore_try_acquire(KR->sem);
            if (t != 1)
                break;
            rc = ki_permit_body((void *)(intptr_t)s);
            int u = kin_semaphore_release(KR->sem);
            if (u != 0)
                rc = u;
            break;
        }
        rc = kin_semaphore_with_permit(KR->sem, ki_permit_body,
                                       (void *)(intptr_t)s);
        break;
    case OP_SEM_RELEASE:
        rc = kin_semaphore_release(KR->sem);
        if (rc == 0) {
            ki_lock();
            KR->sem_extra++;
            ki_unlock();
        }
        break;
    default:
        fprintf(stderr, "bad channel statement #%d\n", s);
        abort();
    }
    return rc;
}

/* The coroutine node whose stack runs owner's body. */
static int ki_coro_of(int owner) {
    return mp_coro_of(KR->p, owner);
}

/* KIN_EALREADY as kin says it (the current error a misuse code). */
static int ki_ealready(const char *why, int s) {
    return kin_fail_code(KIN_EALREADY, "KinError", "%s (#%d)", why, s);
}

/* RESUME node s. */
static int ki_resume_stmt(int s, int *val) {
    const mp_node *n = ki_node(s);
    int t = n->target;
    ki_lock();
    int st = KR->kslot[t];
    kin_cont c = KR->cont[t];
    if (st == KS_EMPTY) {
        KR->kslot[t] = KS_PENDING;
        KR->kpend[t] = (int16_t)s; /* resumed[s] once start takes it */
    }
    ki_unlock();
    *val = 0;
    if (st == KS_EMPTY)
        return 0; /* start takes it */
    if (st == KS_PENDING) {
        /* a second resume before the suspension: not delivered */
        ki_lock();
        KR->resumed[s] = true;
        ki_unlock();
        if ((n->hflags & (HF_EX | HF_ERR)) == HF_EX)
            ki_drop(&KR->value[s]);
        return ki_ealready("resumed twice before the suspension", s);
    }
    *val = kin_cont_is_active(c);
    int rc = ki_do_resume(c, s);
    if (rc == KIN_ESTALE) {
        /* kin.h: KIN_EALREADY, or KIN_ESTALE once the coroutine's record
         * was reclaimed: only after it completed */
        int co = ki_coro_of(ki_node(t)->parent);
        ki_lock();
        bool done = KR->completed[co];
        ki_unlock();
        if (done)
            rc = ki_ealready("stale continuation", s);
    }
    return rc;
}

/* SUSPEND node s. */
static int ki_suspend_stmt(int s, int *val) {
    void *v = NULL;
    int rc = kin_suspend(ki_start, (void *)(intptr_t)s, &v);
    int r = -1;
    if (rc == 0) {
        int *iv = v;
        r = iv >= KR->value && iv < KR->value + MP_MAX_NODES
                ? (int)(iv - KR->value)
                : -2;
        *val = r;
    }
    /* I6: the callback ran once if and only if it returns the
     * cancellation code, and before it returns */
    bool cancel = rc == KIN_ECANCELED || rc == KIN_ETIMEDOUT;
    ki_lock();
    if (r >= 0)
        KR->ndeliv[r]++;
    int want = cancel && (ki_node(s)->hflags & HF_CB) ? 1 : 0;
    if (KR->ncb[s] != want)
        ki_violation("I6: the on-cancel callback of #%d ran %d times, "
                     "kin_suspend returned %d",
                     s, KR->ncb[s], rc);
    ki_unlock();
    return rc;
}

/* Default: resumes suspensions left waiting (see the top). */
static void *ki_watchdog(void *arg) {
    (void)arg;
    bool cancelled = false, pdone[MP_CH_TABLE] = {false};
    while (!atomic_load(&KR->wd_stop)) {
        struct timespec ms = {0, 2000000};
        nanosleep(&ms, NULL);
        int64_t now = ki_now_ms();
        if (KR->p->chan && !cancelled && now - KR->start_ms > 50) {
            cancelled = true; /* every send and receive ends */
            for (int i = 0; i < KR->p->nch; i++)
                kin_channel_cancel(KR->chans[i], NULL);
            for (int i = 0; i < KR->p->npipe; i++) /* readers: EOF */
                ki_pipe_close(i, 1);
        }
        /* produce channels, also those made later (each once): that
         * ends their producers too */
        for (int i = MP_MAX_CHANS; cancelled && i < MP_CH_TABLE; i++) {
            kin_channel h = ki_chan(i);
            if (h.id && !pdone[i]) {
                pdone[i] = true;
                kin_channel_cancel(h, NULL);
            }
        }
        for (int s = 0; s < KR->p->n; s++) {
            if (KR->p->nodes[s].op != OP_SUSPEND)
                continue;
            ki_lock();
            bool old = KR->kslot[s] == KS_STORED &&
                       now - KR->stored_at[s] > 20;
            kin_cont c = KR->cont[s];
            ki_unlock();
            if (old && kin_cont_is_active(c))
                kin_resume(c, &KR->wd_value);
        }
    }
    return NULL;
}

/* kin_produce's body for PRODUCE node arg: its handle, then its body. */
static int ki_producer(kin_channel ch, void *arg) {
    int s = (int)(intptr_t)arg;
    ki_lock();
    KR->prodh[ki_node(s)->ch] = ch;
    ki_unlock();
    return ki_co(arg);
}

static int ki_capacity(int cap) {
    return cap == MP_CONFLATED   ? KIN_CHANNEL_CONFLATED
           : cap == MP_BUFFERED  ? KIN_CHANNEL_BUFFERED
           : cap == MP_UNLIMITED ? KIN_CHANNEL_UNLIMITED
                                 : cap;
}

/* After launching job node s (handle h, rc of the call `who`): registers
 * ki_on_complete on it and keeps or releases its handle, with
 * KR->registering[s] set meanwhile (ki_on_complete may run at once). */
static void ki_register_spawned(int s, kin_job h, int rc, const char *who,
                                void *arg) {
    const mp_node *n = ki_node(s);
    ki_lock();
    KR->registering[s] = true;
    ki_unlock();
    const char *bad = rc != 0 ? who
                      : kin_invoke_on_completion(h, ki_on_complete, arg)
                          ? "kin_invoke_on_completion"
                      : !n->keep && kin_job_release(h) ? "kin_job_release"
                                                       : NULL;
    ki_lock();
    KR->registering[s] = false;
    if (bad)
        ki_violation("%s failed on #%d", bad, s);
    if (n->keep)
        KR->handle[s] = h;
    ki_unlock();
}

/* PRODUCE node s in owner's body: a child of the current job, as a
 * launch; its handle kept if a statement uses it (prog.h MP_PRODUCE_ALL). */
static int ki_produce_stmt(int owner, int s) {
    const mp_node *n = ki_node(s);
    void *arg = (void *)(intptr_t)s;
    char name[16];
    snprintf(name, sizeof name, "n%d", s);
    kin_launch_opts o = {.name = name};
    if (n->handler) {
        o.handler = ki_handler;
        o.handler_arg = (void *)(intptr_t)(s + 1);
    }
    kin_channel_opts co = {.capacity = ki_capacity(n->ticks),
                           .on_undelivered = ki_undel};
    ki_lock();
    KR->created[s] = true;
    KR->jparent[s] = (int16_t)owner;
    KR->detached[s] = KR->detached[owner];
    if (KR->detached[s]) {
        KR->counted[s] = true;
        KR->pending++;
    }
    ki_unlock();
    kin_job h = {0};
    kin_channel out = {0};
    int rc = kin_produce(&out, &h, &o, &co, sizeof(int), ki_producer, arg);
    ki_lock();
    KR->chans[n->ch] = out;
    ki_unlock();
    ki_register_spawned(s, h, rc, "kin_produce", arg);
    return rc;
}

/* Runs statement s of owner's body; returns its result. */
static int ki_stmt(int owner, int s) {
    const mp_node *n = ki_node(s);
    void *arg = (void *)(intptr_t)s;
    int rc = 0, val = -1;
    switch (n->op) {
    case OP_LAUNCH:
    case OP_ASYNC: {
        char name[16];
        snprintf(name, sizeof name, "n%d", s);
        kin_launch_opts o = {
            .start = n->lazy ? KIN_START_LAZY : KIN_START_DEFAULT,
            .name = name};
        if (n->handler) {
            o.handler = ki_handler;
            o.handler_arg = (void *)(intptr_t)(s + 1);
        }
        int xp = n->xparent;
        if (xp >= 0)
            o.parent = ki_handle(xp);
        else if (xp == MP_NO_PARENT)
            o.no_parent = true;
        kin_job h = {0};
        ki_lock();
        KR->created[s] = true;
        KR->jparent[s] = (int16_t)(xp == -1 ? owner : xp);
        bool was_done = xp >= 0 && KR->completed[xp];
        /* outside the root's tree: counted before it can complete */
        KR->detached[s] = xp == MP_NO_PARENT ||
                          (xp >= 0 && (was_done || KR->detached[xp])) ||
                          (xp == -1 && KR->detached[owner]);
        if (KR->detached[s]) {
            KR->counted[s] = true;
            KR->pending++;
        }
        ki_unlock();
        rc = n->op == OP_LAUNCH ? kin_launch(&h, &o, ki_co, arg)
                                : kin_async(&h, &o, ki_async, arg);
        if (rc == 0 && xp >= 0) {
            /* a parent that has completed: born cancelled, alone */
            kin_job pp = {0};
            int prc = kin_job_parent(h, &pp);
            /* a job that has completed has no parent any more (kotlinx
             * disposes the parent handle at completion): the answer then
             * says nothing about where it was born */
            bool alone = pp.id == 0;
            if (alone && kin_job_is_completed(h)) {
                alone = was_done;
                if (!was_done)
                    pp.id = o.parent.id;
            }
            ki_lock();
            if (prc != 0 || (!KR->mt && alone != was_done) ||
                (!alone && pp.id != o.parent.id))
                ki_violation("kin_job_parent of #%d (launched with parent "
                             "#%d, %s): %d, %s",
                             s, xp, was_done ? "completed" : "not completed",
                             prc, alone ? "none" : "another job");
            if (KR->mt ? alone : was_done) {
                KR->jparent[s] = -1;
                if (!KR->detached[s]) { /* mt: it completed meanwhile */
                    KR->detached[s] = KR->counted[s] = true;
                    KR->pending++;
                }
            } else {
                KR->xnext[s] = KR->xfirst[xp];
                KR->xfirst[xp] = (int16_t)(s + 1);
            }
            ki_unlock();
        }
        ki_register_spawned(s, h, rc, "kin_launch/async", arg);
        break;
    }
    case OP_PRODUCE:
        rc = ki_produce_stmt(owner, s);
        break;
    case OP_SCOPE:
        rc = kin_coroutine_scope(ki_scope, arg);
        ki_returned(s);
        break;
    case OP_SUPERVISOR:
        rc = kin_supervisor_scope(ki_scope, arg);
        ki_returned(s);
        break;
    case OP_TIMEOUT:
        rc = kin_with_timeout(ki_ms(n->ticks), ki_scope, arg);
        ki_returned(s);
        break;
    case OP_TIMEOUT_NULL:
        rc = kin_with_timeout_or_null(ki_ms(n->ticks), ki_scope, arg);
        ki_returned(s);
        break;
    case OP_NONCANCEL:
        rc = kin_non_cancellable(ki_scope, arg);
        ki_returned(s);
        break;
    case OP_DELAY:
        rc = kin_delay(n->ticks == 0 ? 0 : ki_ms(n->ticks));
        break;
    case OP_YIELD:
        rc = kin_yield();
        break;
    case OP_ENSURE_ACTIVE:
        rc = kin_ensure_active();
        break;
    case OP_AWAIT: {
        void *v = NULL;
        rc = kin_await(ki_handle(n->target), &v);
        if (rc == 0) {
            int *iv = v;
            val = iv >= KR->value && iv < KR->value + MP_MAX_NODES
                      ? (int)(iv - KR->value)
                      : -2;
        }
        break;
    }
    case OP_JOIN:
        rc = kin_join(ki_handle(n->target));
        break;
    case OP_CANCEL:
        rc = kin_cancel(ki_handle(n->target), NULL);
        break;
    case OP_CANCEL_SELF:
        rc = kin_cancel(kin_current_job(), NULL);
        break;
    case OP_START:
        rc = kin_start(ki_handle(n->target));
        break;
    case OP_JOB_NEW:
    case OP_DEFERRED_NEW: {
        char name[16];
        snprintf(name, sizeof name, "n%d", s);
        kin_job_opts o = {.name = name, .supervisor = n->sup};
        int par = n->xparent == MP_NO_PARENT ? -1 : owner;
        if (par >= 0)
            o.parent = kin_current_job();
        kin_job h = {0};
        ki_lock();
        KR->created[s] = true;
        KR->jparent[s] = (int16_t)par;
        KR->unhandled[s] =
            par < 0 || (mp_is_hand(ki_node(par)->op) && KR->unhandled[par]);
        KR->detached[s] = par < 0 || KR->detached[par];
        if (KR->detached[s]) {
            KR->counted[s] = true;
            KR->pending++;
        }
        ki_unlock();
        rc = n->op == OP_JOB_NEW ? kin_job_new(&h, &o) : kin_deferred_new(&h, &o);
        ki_lock();
        KR->handle[s] = h;
        KR->self[s] = h;
        ki_unlock();
        kin_job pp = {0};
        const char *bad =
            rc != 0 ? "kin_job_new/kin_deferred_new"
            : kin_invoke_on_completion(h, ki_on_complete, arg)
                ? "kin_invoke_on_completion"
            : kin_job_parent(h, &pp) != 0 ||
                      (pp.id != o.parent.id &&
                       !(pp.id == 0 && kin_job_is_completed(h)))
                ? "kin_job_parent" /* a completed job has no parent */
                : NULL;
        if (bad) {
            ki_lock();
            ki_violation("%s failed on #%d", bad, s);
            if (rc != 0 && KR->counted[s]) {
                KR->counted[s] = false;
                KR->pending--;
            }
            ki_unlock();
        }
        break;
    }
    case OP_COMPLETE: {
        kin_job t = ki_handle(n->target);
        rc = ki_node(n->target)->op == OP_DEFERRED_NEW
                 ? kin_deferred_complete(t, &KR->value[s])
                 : kin_job_complete(t);
        break;
    }
    case OP_COMPLETE_EXC:
        rc = kin_job_complete_exceptionally(
            ki_handle(n->target),
            kin_error_new(KIN_EFAILED, "ModelFailure", "F%d", s));
        break;
    case OP_CANCEL_CHILDREN:
        rc = kin_job_cancel_children(
            n->target >= 0 ? ki_handle(n->target) : kin_current_job(), NULL);
        break;
    case OP_SUSPEND:
        rc = ki_suspend_stmt(s, &val);
        break;
    case OP_RESUME:
        rc = ki_resume_stmt(s, &val);
        break;
    case OP_SEND:
    case OP_RECEIVE:
    case OP_TRY_SEND:
    case OP_TRY_RECEIVE:
    case OP_CLOSE:
    case OP_CANCEL_CH:
    case OP_SELECT:
    case OP_WITH_LOCK:
    case OP_WITH_PERMIT:
    case OP_SEM_RELEASE:
    case OP_MX_HOLDS:
    case OP_MX_UNLOCK:
    case OP_MX_RELOCK:
        rc = ki_chan_stmt(s, &val);
        break;
    case OP_FD_READ:
    case OP_FD_WRITE:
    case OP_FD_CLOSE:
        rc = ki_fd_stmt(s, &val);
        break;
    default:
        fprintf(stderr, "bad statement #%d\n", s);
        abort();
    }
    ki_ev(EV_RET, owner, s, rc, val, kin_last_error());
    return rc;
}

/* A body: its statements in order, with its policy for negative results
 * (prog.h). */
static int ki_run_body(int owner) {
    const mp_node *o = ki_node(owner);
    for (int i = 0; i < o->nkids; i++) {
        int s = o->kids[i];
        if (ki_node(s)->op == OP_FAIL)
            return kin_fail("ModelFailure", "F%d", s);
        int rc = ki_stmt(owner, s);
        if (rc >= 0 || ki_node(s)->op == OP_START ||
            ki_node(s)->op == OP_RESUME ||
            mp_chan_no_policy(ki_node(s)->op, rc))
            continue;
        if (o->policy == POL_PROPAGATE)
            return rc;
        if (o->policy == POL_CLEANUP) {
            kin_error *saved = kin_error_retain(kin_last_error());
            int c = o->cleanup;
            int crc = kin_non_cancellable(ki_scope, (void *)(intptr_t)c);
            ki_returned(c);
            ki_ev(EV_RET, owner, c, crc, -1, kin_last_error());
            if (crc < 0) {
                kin_error_release(saved);
                return crc;
            }
            if (!saved) {
                ki_lock();
                ki_violation("no current error after code %d", rc);
                ki_unlock();
                return rc;
            }
            return kin_fail_error(saved); /* the original error again */
        }
        /* POL_IGNORE: carry on */
    }
    return 0;
}

/* ---- After the run ------------------------------------------------------------ */

/* e itself, or the copy kin attaches where e would close a cycle (same
 * code, type and message; kin.h, kin_error_suppressed). */
static bool ki_same_failure(const kin_error *x, const kin_error *e) {
    return x == e || (kin_error_code(x) == kin_error_code(e) &&
                      strcmp(kin_error_type(x), kin_error_type(e)) == 0 &&
                      strcmp(kin_error_message(x), kin_error_message(e)) == 0);
}

static bool ki_in_suppressed(const kin_error *root, const kin_error *e) {
    size_t n = kin_error_suppressed_count(root);
    for (size_t i = 0; i < n; i++)
        if (ki_same_failure(kin_error_suppressed(root, i), e))
            return true;
    return false;
}

/* True if e can reach target through suppressed lists (depth-limited). */
static bool ki_reaches(const kin_error *e, const kin_error *target,
                       int depth) {
    if (depth > 16)
        return false;
    size_t n = kin_error_suppressed_count(e);
    for (size_t i = 0; i < n; i++) {
        const kin_error *x = kin_error_suppressed(e, i);
        if (x == target || ki_reaches(x, target, depth + 1))
            return true;
    }
    return false;
}

/* I4 and I5. */
static void ki_check_after(void) {
    const mp_prog *p = KR->p;
    for (int s = 0; s < p->n; s++) {
        const mp_node *n = ki_node(s);
        if (!mp_is_job(n->op) || !KR->created[s])
            continue;
        if (KR->ncomplete[s] != 1) {
            ki_violation("I1: job #%d completed %d times", s,
                         KR->ncomplete[s]);
            continue;
        }
        const kin_error *f = KR->final_cause[s];
        /* a suppressed list never holds the failure itself or one twice */
        size_t ns = kin_error_suppressed_count(f);
        for (size_t i = 0; i < ns; i++) {
            const kin_error *x = kin_error_suppressed(f, i);
            if (x == f)
                ki_violation("I4: #%d's failure is suppressed in itself", s);
            for (size_t k = 0; k < i; k++)
                if (kin_error_suppressed(f, k) == x)
                    ki_violation("I4: a failure suppressed twice in #%d's", s);
            if (kin_error_is_cancellation(x))
                ki_violation("I4: a cancellation suppressed in #%d's", s);
        }
        /* Error objects are reference counted: a failure that is (through
         * suppressed lists) suppressed in itself is a cycle that leaks. */
        if (f && ki_reaches(f, f, 0))
            ki_violation("I4: #%d's failure %s is suppressed in one of its "
                         "own suppressed failures (a reference cycle)",
                         s, kin_error_message(f));
        bool failed = f && !kin_error_is_cancellation(f);
        bool to_handler = false;
        if (!failed) {
        } else if (s == 0) {
            if (KR->rb_err != f)
                ki_violation("I4: run_blocking did not return the root's "
                             "failure");
        } else if (mp_is_scope(n->op)) {
            /* rule 14: the scope function returns it */
            bool found = false;
            for (int e = 0; e < KR->nev; e++)
                if (KR->evs[e].kind == EV_RET && KR->evs[e].node == s)
                    found = KR->evs[e].err == f;
            if (!found)
                ki_violation("I4: scope #%d did not return its failure", s);
        } else {
            int par = ki_jparent(s);
            const mp_node *pn = par >= 0 ? ki_node(par) : NULL;
            if (!pn || pn->op == OP_SUPERVISOR ||
                (pn->op == OP_JOB_NEW && pn->sup)) {
                /* rule 7; never async; a job node's failure stays in it */
                to_handler = n->op == OP_LAUNCH;
                if (to_handler &&
                    (KR->nhandled[s] != 1 || KR->handled_err[s] != f))
                    ki_violation("I4: the failure of #%d (%s) did not reach "
                                 "its handler once",
                                 s, pn ? "under a supervisor" : "a root");
            } else {
                /* a root Job() takes it and does not handle it either */
                to_handler = n->op == OP_LAUNCH && mp_is_hand(pn->op) &&
                             KR->unhandled[par];
                if (to_handler &&
                    (KR->nhandled[s] != 1 || KR->handled_err[s] != f))
                    ki_violation("I4: the failure of #%d (under a root job "
                                 "#%d) did not reach its handler once",
                                 s, par);
                const kin_error *pf = KR->final_cause[par];
                if (!pf || (pf != f && !ki_in_suppressed(pf, f)))
                    ki_violation("I4: failure %s of #%d did not reach its "
                                 "parent #%d (whose failure is %s%s)",
                                 kin_error_message(f), s, par,
                                 pf ? kin_error_message(pf) : "none",
                                 pf && ki_reaches(f, pf, 0)
                                     ? ", already suppressed in it: not "
                                       "attached, it would make a cycle"
                                     : "");
            }
        }
        /* A producer whose parent did not take its failure reports it
         * only if its channel was closed already (the close did not carry
         * it; kotlinx's onCancelled): once at most here; the model
         * predicts which (m_finalize). */
        bool maybe_handler = failed && n->op == OP_PRODUCE &&
                             KR->nhandled[s] == 1 && KR->handled_err[s] == f;
        if (!to_handler && KR->nhandled[s] && !maybe_handler)
            ki_violation("I4: handler called %d times for #%d",
                         KR->nhandled[s], s);
        /* I5. Not on Default: a worker keeps the last coroutine it ran
         * (its zombie) until it runs another, and L2 promises readability
         * until the owner completes, not staleness at once. */
        if ((n->op == OP_LAUNCH || n->op == OP_ASYNC ||
             n->op == OP_PRODUCE || mp_is_hand(n->op)) &&
            n->keep && !KR->mt && kin_job_state(KR->handle[s]) != KIN_ESTALE)
            ki_violation("I5: the handle of #%d is not stale after its "
                         "owner completed",
                         s);
    }
    /* I6: a value resumed is delivered or dropped (on_drop) once */
    for (int s = 0; s < p->n; s++) {
        const mp_node *n = ki_node(s);
        if (!KR->resumed[s] || (n->op != OP_RESUME && n->op != OP_SUSPEND) ||
            (n->hflags & HF_ERR))
            continue;
        bool drops = n->op == OP_SUSPEND || (n->hflags & HF_EX);
        int got = KR->ndeliv[s] + KR->ndrop[s];
        if (drops ? got != 1 : (KR->ndrop[s] != 0 || KR->ndeliv[s] > 1))
            ki_violation("I6: the value of #%d was delivered %d times and "
                         "dropped %d times",
                         s, KR->ndeliv[s], KR->ndrop[s]);
    }
    /* I7: an element accepted is received or undelivered, once */
    for (int s = 0; s < p->n; s++) {
        int op = ki_node(s)->op;
        if (op != OP_SEND && op != OP_TRY_SEND)
            continue;
        int got = KR->nrecv[s] + KR->nundel[s];
        if (got != (KR->accepted[s] ? 1 : 0))
            ki_violation("I7: the element of #%d (%s) was received %d times "
                         "and undelivered %d times",
                         s, KR->accepted[s] ? "accepted" : "not accepted",
                         KR->nrecv[s], KR->nundel[s]);
    }
    /* I7 for a select's SEND clause: its element is delivered (once) if
     * the clause won; else it went to on_undelivered (the channel was
     * closed or cancelled), was received after all (prompt cancellation:
     * the select returned the cancellation), or stayed with the caller */
    for (int s = 0; s < p->n; s++) {
        const mp_node *n = ki_node(s);
        if (n->op != OP_SELECT || !(n->hflags & SF_SEND))
            continue;
        int got = KR->nrecv[s] + KR->nundel[s];
        if (KR->sel_sent[s] ? got != 1 : got > 1)
            ki_violation("I7: the element of select #%d (%s) was received "
                         "%d times and undelivered %d times",
                         s, KR->sel_sent[s] ? "sent" : "not sent",
                         KR->nrecv[s], KR->nundel[s]);
    }
    /* I9: a message is read at most once, and only if it was written */
    for (int s = 0; s < p->n; s++)
        if (KR->nread[s] > (KR->written[s] ? 1 : 0))
            ki_violation("I9: the message of #%d (%s) was read %d times", s,
                         KR->written[s] ? "written" : "not written",
                         KR->nread[s]);
    /* A failure a body returned is its job's failure or suppressed in it. */
    for (int e = 0; e < KR->nev; e++) {
        const k_ev *ev = &KR->evs[e];
        if (ev->kind != EV_END || !ev->err ||
            kin_error_is_cancellation(ev->err) || !KR->created[ev->node])
            continue;
        const kin_error *f = KR->final_cause[ev->node];
        if (f != ev->err && !(f && ki_in_suppressed(f, ev->err)))
            ki_violation("I4: failure %s, which body #%d returned, is lost: "
                         "its job's failure is %s%s",
                         kin_error_message(ev->err), ev->node,
                         f ? kin_error_message(f) : "none",
                         f && ki_reaches(ev->err, f, 0)
                             ? ", already suppressed in it (not attached: "
                               "it would make a cycle)"
                             : "");
    }
}

/* kin polls the fds every 61 picks while fd waits are pending, besides
 * when its run queue drains, and the count carries over from the programs
 * before (the Main loop's poller lives on); model.h follows the drains
 * only, and rejects a program that runs long enough for that count to
 * matter, counting from 0. So before a program with pipes one read waits
 * and is woken by a poll, which resets the count. */
static int ki_warm_reader(void *arg) {
    char b;
    return kin_read(*(int *)arg, &b, 1) == 1 ? 0 : -1;
}

static int ki_warm(void *arg) {
    (void)arg;
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    kin_set_nonblocking(fds[0]);
    kin_job j;
    int rc = kin_launch(&j, NULL, ki_warm_reader, &fds[0]);
    if (rc == 0) {
        kin_yield(); /* the reader waits */
        rc = write(fds[1], "x", 1) == 1 ? 0 : -1;
        if (rc == 0)
            rc = kin_join(j);
    }
    close(fds[0]);
    close(fds[1]);
    return rc;
}

/* How a program runs: with virtual time on the Main loop (kin_run_test),
 * on the wall clock on the Main loop (kin_run_blocking), or on the Default
 * pool (multi-threaded; "forever" is forever_ms of real time there). */
enum { KI_VIRTUAL, KI_WALLCLOCK, KI_DEFAULT_POOL };

/* Runs p on kin. The results are in *r (kept until ki_free). */
MP_FN void ki_run(k_run *r, const mp_prog *p, int mode, int64_t tick_ms,
                  int64_t forever_ms) {
    memset(r, 0, sizeof *r);
    for (int i = 0; i < MP_MAX_NODES; i++)
        r->handled_by[i] = -2;
    for (int i = 0; i < p->n; i++)
        r->jparent[i] = p->nodes[i].parent;
    r->p = p;
    r->tick_ms = tick_ms;
    r->mt = mode == KI_DEFAULT_POOL;
    r->forever_ms = r->mt ? forever_ms : KI_FOREVER_MS;
    pthread_mutex_init(&r->mu, NULL);
    KR = r;
    kin_set_default_handler(ki_default_handler, NULL);
    for (int i = 0; i < p->nch; i++) {
        kin_channel_opts co = {
            .capacity = p->chcap[i] == MP_CONFLATED   ? KIN_CHANNEL_CONFLATED
                        : p->chcap[i] == MP_BUFFERED  ? KIN_CHANNEL_BUFFERED
                        : p->chcap[i] == MP_UNLIMITED ? KIN_CHANNEL_UNLIMITED
                                                      : p->chcap[i],
            .overflow = (kin_overflow)p->chpol[i],
            .on_undelivered = ki_undel};
        if (kin_channel_new(&r->chans[i], sizeof(int), &co) != 0)
            ki_violation("kin_channel_new failed");
    }
    if (p->chan && kin_mutex_new(&r->mx, NULL) != 0)
        ki_violation("kin_mutex_new failed");
    if (p->more && kin_semaphore_new(&r->sem, p->permits, NULL) != 0)
        ki_violation("kin_semaphore_new failed");
    if (p->npipe) {
        /* a write to a pipe whose read end is closed: -EPIPE, no signal */
        signal(SIGPIPE, SIG_IGN);
        /* virtual time does not jump while an fd wait is pending: the loop
         * sleeps for real (kin.h), so short ticks keep it quick */
        if (mode == KI_VIRTUAL)
            r->tick_ms = 1;
    }
    for (int i = 0; i < p->npipe; i++)
        if (pipe(r->pfd[i]) != 0 || kin_set_nonblocking(r->pfd[i][0]) != 0 ||
            kin_set_nonblocking(r->pfd[i][1]) != 0)
            ki_violation("pipe failed");
    if (p->npipe && !r->mt && kin_run_blocking(ki_warm, NULL) != 0)
        ki_violation("the fd warm-up failed");
    r->start_ms = ki_now_ms();
    pthread_t wd;
    bool wd_on = r->mt && (p->hand || p->chan || p->npipe) &&
                 pthread_create(&wd, NULL, ki_watchdog, NULL) == 0;
    if (mode == KI_VIRTUAL)
        r->rb_rc = kin_run_test(ki_root, NULL);
    else if (mode == KI_WALLCLOCK)
        r->rb_rc = kin_run_blocking(ki_root, NULL);
    else
        r->rb_rc = kin_run_blocking(ki_root_mt, NULL);
    if (wd_on) {
        atomic_store(&r->wd_stop, 1);
        pthread_join(wd, NULL);
    }
    r->rb_err = kin_error_retain(r->rb_rc < 0 ? kin_last_error() : NULL);
    /* On Default, node 0's completion handler may still be running on a
     * worker (its waiter is woken first): wait for it. */
    for (int i = 0; i < 10000 && r->created[0] && !atomic_load(&r->root_done);
         i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    /* On Default a job born cancelled under a completed parent late in
     * the run may still be completing on a worker. */
    for (int i = 0; i < 10000; i++) {
        ki_lock();
        int left = r->pending;
        ki_unlock();
        if (left == 0 || !r->mt)
            break;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    if (r->pending != 0) {
        ki_violation("%d jobs outside the root's tree were left running "
                     "after kin_run_blocking returned",
                     r->pending);
        if (r->mt) {
            fprintf(stderr, "interp: jobs left running on Default\n");
            abort(); /* their completion handlers would find no run */
        }
    }
    r->after = true;
    for (int i = 0; i < MP_CH_TABLE; i++) {
        if (i >= p->nch && !r->chans[i].id)
            continue;
        int drc = kin_channel_destroy(r->chans[i]);
        if (drc != 0)
            ki_violation("kin_channel_destroy of ch%d returned %d", i, drc);
    }
    if (p->chan) {
        if (kin_mutex_is_locked(r->mx) != 0)
            ki_violation("I8: the mutex is locked at the end");
        if (kin_mutex_destroy(r->mx) != 0)
            ki_violation("kin_mutex_destroy failed");
    }
    for (int i = 0; i < p->npipe; i++)
        for (int e = 0; e < 2; e++)
            if (!r->pclosed[i][e])
                close(r->pfd[i][e]);
    if (p->more) {
        int av = kin_semaphore_available_permits(r->sem);
        if (av != p->permits)
            ki_violation("I8: %d of the semaphore's %d permits are "
                         "available at the end",
                         av, p->permits);
        if (kin_semaphore_destroy(r->sem) != 0)
            ki_violation("kin_semaphore_destroy failed");
    }
    kin_clear_error();
    ki_check_after();
    kin_clear_error();
    pthread_mutex_destroy(&r->mu);
    KR = NULL;
}

MP_FN void ki_free(k_run *r) {
    for (int i = 0; i < r->nev; i++)
        kin_error_release(r->evs[i].err);
    for (int i = 0; i < MP_MAX_NODES; i++) {
        kin_error_release(r->final_cause[i]);
        kin_error_release(r->handled_err[i]);
    }
    kin_error_release(r->rb_err);
    r->nev = 0;
    memset(r->final_cause, 0, sizeof r->final_cause);
    memset(r->handled_err, 0, sizeof r->handled_err);
    r->rb_err = NULL;
}

/* Describes a kin error the way m_desc describes a model one. */
MP_FN void ki_desc(const kin_error *e, char *buf, size_t len) {
    if (!e) {
        snprintf(buf, len, "-");
        return;
    }
    int code = kin_error_code(e);
    if (code == KIN_ECANCELED) {
        snprintf(buf, len, "CANCELLED");
        return;
    }
    if (code == KIN_ETIMEDOUT) {
        snprintf(buf, len, "TIMEDOUT");
        return;
    }
    int id;
    if (code != KIN_EFAILED ||
        sscanf(kin_error_message(e), "F%d", &id) != 1) {
        snprintf(buf, len, "E%d", code);
        return;
    }
    int ids[MP_MAX_COROS + 1], n = 0;
    size_t ns = kin_error_suppressed_count(e);
    for (size_t i = 0; i < ns && n <= MP_MAX_COROS; i++) {
        int x;
        if (sscanf(kin_error_message(kin_error_suppressed(e, i)), "F%d", &x) !=
            1)
            x = -1;
        ids[n++] = x;
    }
    qsort(ids, (size_t)n, sizeof ids[0], m_cmp_int);
    size_t o = (size_t)snprintf(buf, len, "F%d", id);
    for (int i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? ",F" : "{F",
                              ids[i]);
    if (n && o < len)
        snprintf(buf + o, len - o, "}");
}

#endif
