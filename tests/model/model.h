/*
 * model.h — an independent model of DESIGN.md's rules, used to predict what
 * kin does with a program from prog.h. It does not call kin: it is a small
 * simulator with a virtual clock and one FIFO run queue, the way kin's Main
 * loop (and kotlinx.coroutines' runBlocking event loop) behaves (rule 11).
 *
 * What it predicts, for comparison with kin's run (interp.h):
 *   - the trace: which coroutine started, what each statement returned
 *     (suspension points, scopes, awaits, joins, cancel, start), what each
 *     body returned, in the order they happen on the one thread;
 *   - each job's final state and cause;
 *   - which exception handler got which failure;
 *   - what kin_run_blocking returned.
 *
 * Errors are modelled as objects with identity (m_err), because identity is
 * what the rules talk about: "every awaiter gets the same error object",
 * "each later failure is attached once" (rule 3), "a real failure beats an
 * earlier plain cancellation" (rule 13).
 *
 * Time: virtual, in ticks. It advances only when the run queue is empty, to
 * the next timer. When kin also runs with virtual time (kin_run_test),
 * timers due at the same instant all fire, in arming order, before anything
 * runs; on the wall clock such a program is rejected (M_AMBIGUOUS), since
 * their order would be down to noise. Programs that cannot finish (M_STUCK:
 * a wait that nothing ends, which kin would run forever) are rejected too.
 *
 * Where each rule of DESIGN.md is implemented:
 *   rule 1, 12   m_claim_finalize / m_finalize: a job completes when its
 *                body is done and its last child completed, then its parent
 *   rule 2       m_cancel_tree / m_cancel_descendants; every suspension point
 *                in m_stmt and m_turn returns m_cancel_err at once
 *   rule 3, 13   m_record_cause (first failure, suppressed failures, a
 *                failure beats a cancellation), m_propagate_up
 *   rule 4       m_body_done: a cancellation code cancels only its job
 *   rule 5       m_propagate_up and m_offer_to_parent stop at a supervisor
 *   rule 6, 16   m_await_outcome (and OP_ASYNC is an ordinary child)
 *   rule 7       m_finalize / m_offer_to_parent: the handler of a launch
 *   rule 8       OP_NONCANCEL in m_stmt: a job with no parent
 *   rule 9, 15   OP_TIMEOUT* in m_stmt, m_fire_timer, m_scope_result
 *   rule 10      m_start_lazy, m_mark_cancelling (a NEW job completes)
 *   rule 11      m_enqueue, m_wake, m_run's loop; scope bodies run in place
 *   rule 14      m_offer_to_parent (scoped), m_scope_result
 *
 * Hand-made jobs and deferreds (kin_job_new, kin_deferred_new; Kotlin's
 * Job(parent), SupervisorJob(parent), CompletableDeferred(parent)) are jobs
 * of kind MJ_HAND with no coroutine: their "body" is done when they are
 * completed by hand or cancelled (Kotlin's onCancelComplete: a cancelled
 * Job() is completing, complete() then says false), and they run no
 * handler. A root Job() (and a Job() under one) does not handle its
 * children's failures (Kotlin's handlesException): m_offer_to_parent
 * cancels it and still lets the child report (its handler).
 * Epilogue: after the program root's body returned, the interpreter waits
 * (non-cancellably) until every job outside the root's tree (made by the
 * extended operations: root job nodes, no_parent launches, launches under
 * them, jobs born cancelled under a completed parent) has completed, so
 * none outlives the program; the model's root coroutine waits the same way
 * (MW_EPI), woken by the last one's completion. After
 * the root completed, kin_run_blocking runs what is still queued once
 * (kin.h); a program that still has a job left then is rejected (M_LEAKY).
 *
 * Suspending by hand (kin_suspend; Kotlin's suspendCancellableCoroutine):
 * each SUSPEND node is a slot (m_model.slot): EMPTY, PENDING (a resume came
 * first: it waits in the interpreter's table, start takes it), WAITING
 * (parked), RESUMED (by value or failure, queued: rule 11, like any
 * wake-up), CANCELLED, DONE. A cancellation that reaches a WAITING
 * suspension (m_wake_own, in the walk's post-order: children first) marks
 * it CANCELLED and queues its on-cancel callback, which runs in the
 * canceller when the walk is over, before the completions it found
 * (m_run_deferred; kin's kin__susp_drain, Kotlin's invokeOnCancellation
 * handler called from cancel()); the coroutine resumes with the
 * cancellation when its turn comes. Prompt cancellation (rule 16): a
 * suspension RESUMED with a value whose job is cancelling when its turn
 * comes returns the cancellation, runs the callback there, then drops the
 * value (on_drop); a failure is returned anyway. Events EV_CB (callback;
 * node: the SUSPEND) and EV_DROP (on_drop; node: whose value: the RESUME,
 * or the SUSPEND for its own fast-path resume).
 *
 * The "more" operations (prog.h): the semaphore is the mutex with k
 * permits (m_sync: kin's kin__sync, FIFO hand-off, waiters whose job is
 * cancelling passed over, prompt cancellation passing the permit on); a
 * select's SEND clause waits in the channel's sender queue with its node
 * as the element, a TIMEOUT clause is a timer that claims the select if
 * nothing did (armed after the clauses are registered, as kin arms it);
 * the drop policies in m_send_now; pipes and kin's poller at m_pipe.
 *
 * The "chx" additions: BUFFERED (64, or 1 with a drop policy) and
 * UNLIMITED capacities in m_run's channel setup; a select's clauses come
 * from mp_sel_clauses (prog.h), its immediate phase and registration are
 * in m_stmt (OP_SELECT), its outcome after a wait in m_turn (MW_SELECT);
 * a RECEIVE_CATCHING clause completes on a closed channel with a result
 * (not an error), a JOIN or AWAIT clause is a waiter on the job's
 * completion list (m_add_waiter), claimed in registration order with the
 * other waiters by m_finalize; AWAIT's outcome is m_await_outcome's.
 * produce: OP_PRODUCE in m_stmt (a launch that makes its channel), the
 * close with the final cause in m_finalize (kotlinx's ProducerCoroutine:
 * before anything learns the completion; a failure that the close carried
 * is reported to no handler), the producer cancelled with its channel in
 * OP_CANCEL_CH. The mutex's owner tokens: m_sync.owner, set where the
 * mutex is taken (OP_WITH_LOCK) or handed over (m_unlock); OP_MX_*.
 *
 * Model decisions where DESIGN.md is silent or open to reading are marked
 * "DECISION": the order of completions found during one cancellation
 * (m_run_deferred), and what "a wait that ends in a failure" means (m_await_outcome).
 */
#ifndef KIN_MODEL_MODEL_H
#define KIN_MODEL_MODEL_H

#include <errno.h>
#include <kin.h> /* the result codes and state numbers only: no kin calls */
#include <stdlib.h>

#include "prog.h"

/* Channel operations' results trigger a body's policy only when they are
 * a cancellation code (the coroutine's, or a cancelled channel's cause):
 * a closed channel (KIN_ECLOSED) is carried on from, as receiveCatching. */
static inline bool mp_chan_no_policy(int op, int rc) {
    return ((op >= OP_SEND && op <= OP_SELECT) ||
            (op >= OP_FD_READ && op <= OP_SEM_RELEASE) ||
            (op >= OP_MX_HOLDS && op <= OP_MX_RELOCK)) &&
           rc != KIN_ECANCELED && rc != KIN_ETIMEDOUT;
}


enum { M_OK = 0, M_STUCK = 1, M_AMBIGUOUS = 2, M_TOO_LONG = 3, M_LEAKY = 4 };

/* Cancellation wake order. When a cancellation reaches several suspended
 * coroutines at once, each is queued (rule 11: a resumed waiter is queued).
 * kotlinx.coroutines notifies a job's completion list in registration
 * order: its children (attached when launched) before its own suspended
 * continuation (attached when it suspended), so a family resumes children
 * first (depth first), itself last (checked with the Debian
 * kotlinx-coroutines 1.0.1 jar; tests/job/test_cancel_wake_order.c).
 * kin used to wake a job's own coroutine first; this model found it. */

/* ---- Errors ------------------------------------------------------------------ */

enum { ME_FAIL, ME_CANCEL, ME_TIMEOUT, ME_MISUSE };

typedef struct m_err {
    int kind;
    int code;      /* KIN_EFAILED, KIN_ECANCELED, KIN_ETIMEDOUT, ... */
    int node;      /* ME_FAIL: the FAIL node that raised it */
    int nsupp;
    int16_t supp[MP_MAX_COROS]; /* suppressed failures, in order */
} m_err;

/* ---- Jobs ------------------------------------------------------------------------- */

enum { MJ_CORO, MJ_SCOPE, MJ_HAND };

typedef struct m_job {
    bool exists;
    int kind;
    bool async, supervisor, scoped, noncancel, blocking;
    int parent; /* node id of the parent job, or -1 */
    int child_head, child_tail, sib_next, sib_prev; /* active children */
    int active;                                     /* active children */
    int state;                                      /* kin_state numbers */
    bool body_done, finalizing, never_ran;
    int cause;      /* first cancellation (or the failure), m_err or -1 */
    int failure;    /* first failure, or -1 */
    int kids_err;   /* "Parent job is Cancelling" for its children */
    int self_err;   /* "Job is cancelling" for its own suspension points */
    int handler;    /* node that installed the handler in effect, -1: default */
    int timeout_err;/* timeout scopes: the timeout they report as their own */
    int timer;      /* timeout scopes: their timer, or -1 */
    int nwait;
    int16_t waiters[64]; /* coroutines waiting for its completion (FIFO) */
    int co;         /* the coroutine whose stack runs its body */
    int final_cause;/* after completion: failure ?: cause, or -1 */
    int nlater;     /* later failures, attached to `failure` at completion */
    int16_t later[MP_MAX_COROS];
    int handled_by; /* handler event: installer (-1 default), -2 none */
    int handled_err;
    bool deferred;  /* MJ_HAND: kin_deferred_new */
    bool unhandled; /* MJ_HAND: no coroutine or scope above handles */
    bool counted;   /* the epilogue waits for it (m_model.pending) */
    bool detached;  /* outside the program root's tree */
    int value_node; /* deferred: the COMPLETE node whose value it holds */
    int prod_ch;    /* PRODUCE: its channel, else -1 */
} m_job;

/* ---- Coroutines --------------------------------------------------------------------- */

enum { MW_NONE, MW_DELAY, MW_YIELD, MW_JOIN, MW_AWAIT, MW_SCOPE, MW_EPI,
       MW_SUSPEND, MW_SEND, MW_RECV, MW_LOCK, MW_SELECT, MW_FD };

/* A channel waiter's state (m_co.chst), as kin's kin__chan_waiter. */
enum { CW_NONE, CW_WAITING, CW_DONE, CW_CLOSED, CW_CANCELLED };

typedef struct m_frame {
    int owner;     /* node whose body runs */
    int pc;        /* next statement */
    int prev_cur;  /* scope frames: the current job outside */
    bool ending;   /* the body returned `ret` */
    int ret;
    bool in_cleanup;
    int saved_rc, saved_err;
} m_frame;

typedef struct m_co {
    bool exists, started, queued, done;
    int sp;
    m_frame fr[2 * MP_MAX_DEPTH + 4];
    int cur;  /* current job: innermost scope, or the coroutine itself */
    int err;  /* kin_last_error of this coroutine, m_err or -1 */
    int wait; /* MW_*: what it is suspended in */
    int wait_target;
    bool cancellable;
    int timer; /* MW_DELAY */
    int stmt;  /* the statement that suspended */
    int epi_ret, epi_err; /* MW_EPI: what the root's body returned */
    int chst;   /* MW_SEND / MW_RECV: CW_* */
    int chval;  /* the element: its SEND node */
    int chcause;/* CW_CLOSED, CW_CANCELLED: the channel's cause, or -1 */
    bool mxg;   /* MW_LOCK: the lock (a permit) was handed to it */
    int chwhich;/* MW_SELECT: the clause (its index) that claimed it */
} m_co;

/* A channel of the program's table (kin's BufferedChannel). */
typedef struct m_chan {
    int cap;        /* 0 rendezvous, 1..3, 64 (BUFFERED), MP_MAX_NODES
                       (UNLIMITED: never full, a program has fewer
                       elements); conflated: 1, dropping */
    int pol;        /* MP_SUSPEND, MP_DROP_OLDEST (conflated too),
                       MP_DROP_LATEST */
    int closed;     /* 0, 1 closed, 2 cancelled */
    int cause;      /* the close / cancel cause (m_err), or -1 */
    int nbuf, nrq, nsq;
    int16_t buf[MP_MAX_NODES]; /* buffered elements (SEND nodes) */
    int16_t rq[MP_MAX_COROS];  /* suspended receivers (coroutines), FIFO */
    int16_t sq[MP_MAX_COROS];  /* suspended senders */
    bool made;      /* a produce channel: its PRODUCE ran */
    int producer;   /* ... the PRODUCE node, else -1 */
} m_chan;

/* A pipe (issue 10): messages in it, its ends, its reader. Readiness as
 * kin's poller sees it (sched/poll.c): a reader whose read found the pipe
 * empty arms it (EPOLLONESHOT); a write or the write end's close while it
 * is armed puts it on the epoll ready list (once, in the order they became
 * ready: the kernel's rdllist), and the loop polls when its run queue
 * drains (m_poll), waking each armed reader whose pipe is readable then.
 * kin also polls every 61 picks while waits are pending: the model does
 * not follow that, so a program that runs 40 turns with a wait pending is
 * rejected (M_AMBIGUOUS). */
typedef struct m_pipe {
    bool rd_closed, wr_closed;
    bool listed; /* on the ready list */
    int reader;  /* the coroutine armed on it, or -1 */
    int nmsg;
    int16_t msg[MP_MAX_NODES]; /* FD_WRITE nodes, FIFO */
} m_pipe;

/* The mutex and the semaphore (kin's kin__sync: one design for both). */
enum { M_MUTEX, M_SEM };
typedef struct m_sync {
    int avail; /* free permits (the mutex: 1 unlocked, 0 locked) */
    int owner; /* the mutex: the holder's owner token (a coroutine node:
                  its LF_OWNER with_lock), -1 none; set at the hand-off */
    int nq;
    int16_t q[MP_MAX_COROS]; /* waiters, FIFO */
} m_sync;

typedef struct m_timer {
    int64_t deadline;
    bool live;
    bool is_timeout; /* else a delay */
    bool sel;        /* a select's TIMEOUT clause (who: the coroutine) */
    int who;         /* delay: coroutine node; timeout: scope node */
} m_timer;

/* ---- Events --------------------------------------------------------------------------- */

enum { EV_START, EV_RET, EV_END, EV_CB, EV_DROP, EV_UNDEL };

/* A SUSPEND node's slot (see the top). */
enum { SL_EMPTY, SL_PENDING, SL_WAITING, SL_RESUMED, SL_CANCELLED, SL_DONE };

typedef struct m_ev {
    uint8_t kind;
    int16_t node;
    int rc;
    int val; /* AWAIT that returned 0: the async node whose value came */
    int err; /* rc < 0: the error object */
} m_ev;

typedef struct m_model {
    const mp_prog *p;
    bool virtual_time; /* kin_run_test: timers due together fire in order */
    int status;
    int64_t now;
    m_job jobs[MP_MAX_NODES];
    m_co cos[MP_MAX_NODES];
    int nerr;
    m_err errs[4 * MP_MAX_NODES];
    int qhead, qtail;
    int16_t queue[MP_MAX_NODES + 1];
    int ntimers;
    m_timer timers[2 * MP_MAX_NODES];
    int nev;
    m_ev evs[8 * MP_MAX_NODES];
    int rb_rc, rb_err; /* kin_run_blocking's result */
    int pending;       /* counted jobs not completed (the epilogue) */
    int64_t steps;
    int64_t max_ticks; /* a timed program longer than this: M_TOO_LONG */
    /* suspending by hand; zeroed with the fields above */
    int8_t slot[MP_MAX_NODES];     /* SL_* per SUSPEND node */
    int16_t slot_r[MP_MAX_NODES];  /* PENDING, RESUMED: the RESUME node */
    int slot_err[MP_MAX_NODES];    /* ... its failure (HF_ERR), else -1 */
    int ncbq;                      /* on-cancel callbacks to run, FIFO */
    int16_t cbq[MP_MAX_NODES];
    /* channels and the mutex (zeroed by m_run) */
    m_chan ch[MP_CH_TABLE];
    m_sync sy[2]; /* M_MUTEX, M_SEM */
    m_pipe pipes[MP_MAX_PIPES];
    int nready;
    int8_t readyq[MP_MAX_PIPES]; /* the epoll ready list */
    int fd_pending; /* fd waits between arming and resuming (kin's
                       poller->pending) */
    int picks;      /* turns since the last poll with waits pending */
    bool unpredictable; /* kin's choice is random here: M_AMBIGUOUS */
} m_model;

/* ---- Helpers ---------------------------------------------------------------------------- */

static int m_err_new(m_model *m, int kind, int code, int node) {
    if (m->nerr >= (int)(sizeof m->errs / sizeof m->errs[0])) {
        fprintf(stderr, "model: out of error objects\n");
        abort();
    }
    m_err *e = &m->errs[m->nerr];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->code = code;
    e->node = node;
    return m->nerr++;
}

static bool m_is_cancel(const m_model *m, int e) {
    return e >= 0 && (m->errs[e].code == KIN_ECANCELED ||
                      m->errs[e].code == KIN_ETIMEDOUT);
}

static bool m_final(int state) {
    return state == KIN_STATE_CANCELLED || state == KIN_STATE_COMPLETED;
}

static m_job *J(m_model *m, int id) {
    return &m->jobs[id];
}
static const mp_node *N(const m_model *m, int id) {
    return &m->p->nodes[id];
}

static void m_emit(m_model *m, int kind, int node, int rc, int val, int err) {
    if (m->nev >= (int)(sizeof m->evs / sizeof m->evs[0])) {
        fprintf(stderr, "model: out of events\n");
        abort();
    }
    m->evs[m->nev++] =
        (m_ev){(uint8_t)kind, (int16_t)node, rc, val, rc < 0 ? err : -1};
}

/* Rule 11: a launched child and a resumed waiter go to the tail of the one
 * FIFO queue; a coroutine already queued (or running) is not queued twice. */
static void m_enqueue(m_model *m, int co) {
    m_co *c = &m->cos[co];
    if (c->queued || c->done)
        return;
    c->queued = true;
    m->queue[m->qtail] = (int16_t)co;
    m->qtail = (m->qtail + 1) % (MP_MAX_NODES + 1);
}

static void m_wake(m_model *m, int co) {
    m_co *c = &m->cos[co];
    if (!c->started || c->wait == MW_NONE)
        return; /* not started (it is queued to start), or running */
    m_enqueue(m, co);
}

static int m_timer_add(m_model *m, int ticks, bool is_timeout, int who) {
    int t = m->ntimers++;
    m->timers[t] = (m_timer){m->now + ticks, true, is_timeout, false, who};
    return t;
}

/* The root cause of a job: a real failure beats a cancellation (rule 13). */
static int m_root(m_job *j) {
    return j->failure >= 0 ? j->failure : j->cause;
}

/* Rule 3 / 13: the first cancellation and the first failure are kept; a
 * later failure is attached to the first as suppressed, once (by identity),
 * when the job completes (m_finalize; kotlinx's finalizeFinishingState);
 * cancellations are never attached, nor a failure to itself.
 * As in Kotlin, a failure is attached even where it makes a cycle (the
 * same failure object can reach two jobs in opposite orders: one rethrows
 * an awaited failure that another already holds). kin's error objects are
 * reference counted, so there it attaches a copy without the edges that
 * lead back (src/base/error.c); descriptions show one level of suppressed
 * failures by name, so the two read the same. */
static void m_add_suppressed(m_model *m, int root, int e) {
    m_err *r = &m->errs[root];
    if (root == e)
        return;
    for (int i = 0; i < r->nsupp; i++)
        if (r->supp[i] == e)
            return;
    if (r->nsupp >= MP_MAX_COROS) {
        fprintf(stderr, "model: too many suppressed failures\n");
        abort();
    }
    r->supp[r->nsupp++] = (int16_t)e;
}

static void m_record_cause(m_model *m, m_job *j, int e) {
    if (m_is_cancel(m, e)) {
        if (j->cause < 0)
            j->cause = e;
        return;
    }
    if (j->failure < 0) {
        j->failure = e;
        if (j->cause < 0)
            j->cause = e;
    } else if (e != j->failure) {
        for (int i = 0; i < j->nlater; i++)
            if (j->later[i] == e)
                return;
        if (j->nlater >= MP_MAX_COROS) {
            fprintf(stderr, "model: too many later failures\n");
            abort();
        }
        j->later[j->nlater++] = (int16_t)e; /* attached at completion */
    }
}

/* What a cancelled job's children are cancelled with: its cancellation
 * itself (so the children of a timed-out block see the timeout), or, when
 * the root cause is a failure, one "Parent job is Cancelling" per job. */
static int m_kids_err(m_model *m, m_job *j) {
    int root = m_root(j);
    if (m_is_cancel(m, root))
        return root;
    if (j->kids_err < 0)
        j->kids_err = m_err_new(m, ME_CANCEL, KIN_ECANCELED, -1);
    return j->kids_err;
}

/* Rule 2: what a suspension point of a cancelled job returns. */
static int m_cancel_err(m_model *m, m_job *j) {
    int root = m_root(j);
    if (root < 0)
        return m_err_new(m, ME_CANCEL, KIN_ECANCELED, -1);
    if (m_is_cancel(m, root))
        return root;
    if (j->self_err < 0)
        j->self_err = m_err_new(m, ME_CANCEL, KIN_ECANCELED, -1);
    return j->self_err;
}

static bool m_cancelling(m_model *m, int job) {
    return J(m, job)->state == KIN_STATE_CANCELLING;
}

/* ---- Cancellation and completion (rules 1-7, 12-14) ---------------------------------- */

typedef struct m_fin {
    int n;
    int16_t ids[MP_MAX_NODES];
} m_fin;

static void m_finalize(m_model *m, int id);
static bool m_close(m_model *m, m_chan *h, int cause);

static bool m_claim_finalize(m_job *j) {
    if (j->body_done && j->active == 0 && !j->finalizing) {
        j->finalizing = true;
        return true;
    }
    return false;
}

/* Makes j cancelling with cause e; true if it turned cancelling now. A lazy
 * job that never started has no body left to run (rule 10). */
static bool m_mark_cancelling(m_model *m, int id, int e) {
    m_job *j = J(m, id);
    if (m_final(j->state))
        return false;
    m_record_cause(m, j, e);
    if (j->state == KIN_STATE_CANCELLING)
        return false;
    if (j->state == KIN_STATE_NEW) {
        j->body_done = true;
        j->never_ran = true;
    }
    if (j->kind == MJ_HAND)
        j->body_done = true; /* Kotlin's onCancelComplete */
    j->state = KIN_STATE_CANCELLING;
    return true;
}

/* The coroutine suspended in a cancellable wait of job id, if any: rule 2,
 * its suspension point returns at once (it is queued). */
static void m_wake_own(m_model *m, int id) {
    int c = J(m, id)->co;
    if (c < 0)
        return;
    m_co *co = &m->cos[c];
    if (co->started && !co->done && !co->queued && co->wait != MW_NONE &&
        co->cancellable && co->cur == id) {
        if (co->wait == MW_SUSPEND && m->slot[co->stmt] == SL_WAITING) {
            /* kin_suspend: cancelled; its callback runs after the walk */
            m->slot[co->stmt] = SL_CANCELLED;
            if (N(m, co->stmt)->hflags & HF_CB)
                m->cbq[m->ncbq++] = (int16_t)co->stmt;
        }
        m_wake(m, c);
    }
}

/* Rule 2: cancelling a job cancels all its descendants (those not yet
 * completed), each with its parent's kids_err. */
static void m_cancel_descendants(m_model *m, int id, m_fin *fin);

static void m_defer_finalize(m_model *m, int id, m_fin *fin) {
    if (m_claim_finalize(J(m, id)))
        fin->ids[fin->n++] = (int16_t)id;
}

static void m_cancel_descendants(m_model *m, int id, m_fin *fin) {
    m_job *j = J(m, id);
    for (int c = j->child_head; c >= 0;) {
        int next = J(m, c)->sib_next;
        if (m_mark_cancelling(m, c, m_kids_err(m, j))) {
            m_defer_finalize(m, c, fin);
            m_cancel_descendants(m, c, fin);
            m_wake_own(m, c);
        }
        c = next;
    }
}

/* Cancels a job and its subtree; true if it turned cancelling now. */
static bool m_cancel_tree(m_model *m, int id, int e, m_fin *fin) {
    if (!m_mark_cancelling(m, id, e))
        return false;
    m_defer_finalize(m, id, fin);
    m_cancel_descendants(m, id, fin);
    m_wake_own(m, id);
    return true;
}

/* Rule 3: a failure cancels the parent at once, which cancels the other
 * children, and so on up. It stops at a scope function (rule 14: the caller
 * gets the failure as a return value), at a non-cancellable section, at a
 * supervisor (rule 5), at the root, and at a parent that was already
 * cancelling (it passes its final cause up when it completes). */
static void m_propagate_up(m_model *m, int id, int e, m_fin *fin) {
    for (;;) {
        m_job *j = J(m, id);
        if (j->scoped || j->noncancel)
            return;
        int p = j->parent;
        if (p < 0 || J(m, p)->supervisor)
            return;
        if (!m_cancel_tree(m, p, e, fin))
            return;
        id = p;
    }
}

/* Jobs whose bodies are done and that have no children left complete after
 * the walk; DECISION: most recently found first, as kin does (the order is
 * visible only through the wake-ups that those completions cause). */
static void m_run_deferred(m_model *m, m_fin *fin) {
    /* first the on-cancel callbacks the walk found, in its order, in the
     * canceller (kin: job.c run_deferred, suspend.c kin__susp_drain) */
    for (int i = 0; i < m->ncbq; i++)
        m_emit(m, EV_CB, m->cbq[i], 0, -1, -1);
    m->ncbq = 0;
    for (int i = fin->n - 1; i >= 0; i--)
        m_finalize(m, fin->ids[i]);
}

static void m_cancel_job(m_model *m, int id, int e) {
    m_fin fin = {0};
    bool newly = m_cancel_tree(m, id, e, &fin);
    if (newly && !m_is_cancel(m, e))
        m_propagate_up(m, id, e, &fin);
    m_run_deferred(m, &fin);
}

/* What a body's return code stands for: the current error when its code
 * matches (so a body that returns what await gave it fails with the same
 * object), else a new object. */
static int m_cause_of_rc(m_model *m, int id, int rc, int err) {
    if (rc == 0)
        return -1;
    if (err >= 0 && m->errs[err].code == rc)
        return err;
    if (rc == KIN_ECANCELED || rc == KIN_ETIMEDOUT) {
        int own = m_root(J(m, id));
        if (m_is_cancel(m, own))
            return own;
        return m_err_new(m, rc == KIN_ETIMEDOUT ? ME_TIMEOUT : ME_CANCEL, rc,
                         -1);
    }
    return m_err_new(m, ME_MISUSE, rc, -1);
}

/* A body returned rc (with err as its current error). Rule 4: a
 * cancellation code cancels only this job; rule 3: a failure also cancels
 * the family. Rule 1: the job completes once its children have. */
static void m_body_done(m_model *m, int id, int rc, int err) {
    m_job *j = J(m, id);
    int cause = m_cause_of_rc(m, id, rc, err);
    m_fin fin = {0};
    bool newly = false;
    if (cause >= 0) {
        newly = m_mark_cancelling(m, id, cause);
        if (newly)
            m_cancel_descendants(m, id, &fin);
    } else if (j->state == KIN_STATE_ACTIVE) {
        j->state = KIN_STATE_COMPLETING;
    }
    j->body_done = true;
    bool now = m_claim_finalize(j);
    if (newly && !m_is_cancel(m, cause))
        m_propagate_up(m, id, cause, &fin);
    m_run_deferred(m, &fin);
    if (now)
        m_finalize(m, id);
}

/* At completion a failure goes to exactly one place (rules 6, 7, 14):
 * a scope function's caller (as its return value), the parent job (unless
 * it is a supervisor), or else, for a launch (never an async), the
 * exception handler in its context or the default handler. Returns true if
 * somebody took it. */
static bool m_offer_to_parent(m_model *m, int id, int e) {
    m_job *j = J(m, id);
    if (j->scoped || j->noncancel || j->blocking)
        return true;
    if (j->parent < 0 || J(m, j->parent)->supervisor)
        return false;
    m_cancel_job(m, j->parent, e);
    /* Kotlin's childCancelled: cancelImpl(cause) && handlesException */
    return !J(m, j->parent)->unhandled;
}

static void m_unlink_child(m_model *m, int p, int c) {
    m_job *pj = J(m, p), *cj = J(m, c);
    if (cj->sib_prev >= 0)
        J(m, cj->sib_prev)->sib_next = cj->sib_next;
    else
        pj->child_head = cj->sib_next;
    if (cj->sib_next >= 0)
        J(m, cj->sib_next)->sib_prev = cj->sib_prev;
    else
        pj->child_tail = cj->sib_prev;
    cj->sib_next = cj->sib_prev = -1;
    pj->active--;
}

/* Completes a job whose body is done and whose children have completed,
 * then its parent if that completes in turn (rule 1, rule 12). */
static void m_finalize(m_model *m, int id) {
    while (id >= 0) {
        m_job *j = J(m, id);
        int cause = j->state == KIN_STATE_CANCELLING ? m_root(j) : -1;
        for (int i = 0; i < j->nlater; i++) /* rule 13, at completion */
            m_add_suppressed(m, j->failure, j->later[i]);
        j->nlater = 0;
        /* a producer closes its channel with its final cause (kotlinx's
         * ProducerCoroutine.onCancelled / onCompleted: after its failure
         * went to its parent, before anything learns it completed) */
        if (cause >= 0 && !m_is_cancel(m, cause)) {
            bool taken = m_offer_to_parent(m, id, cause);
            /* a producer's failure that went into its channel is not
             * reported (onCancelled: close(cause) || handled) */
            if (j->prod_ch >= 0 && m_close(m, &m->ch[j->prod_ch], cause))
                taken = true;
            if (!taken && j->kind == MJ_CORO && !j->async) {
                j->handled_by = j->handler; /* rule 7 */
                j->handled_err = cause;
            }
        } else if (j->prod_ch >= 0) {
            m_close(m, &m->ch[j->prod_ch], cause);
        }
        j->state = cause >= 0 ? KIN_STATE_CANCELLED : KIN_STATE_COMPLETED;
        j->final_cause = cause;
        if (j->timer >= 0)
            m->timers[j->timer].live = false; /* firing would do nothing */
        for (int i = 0; i < j->nwait; i++) { /* in registration order */
            m_co *w = &m->cos[j->waiters[i]];
            if (w->wait == MW_SELECT) {
                /* a select's job clause claims it if still free */
                if (w->chst != CW_WAITING)
                    continue;
                int kinds[5], chans[5];
                int nc = mp_sel_clauses(N(m, w->stmt), kinds, chans);
                w->chst = CW_DONE;
                for (int k = 0; k < nc; k++)
                    if (kinds[k] == SK_AWAIT || kinds[k] == SK_JOIN)
                        w->chwhich = k;
            }
            m_wake(m, j->waiters[i]);
        }
        j->nwait = 0;
        /* then its completion handlers: the interpreter's completes its
         * keeper when the last counted job is done (the epilogue) */
        if (j->counted) {
            j->counted = false;
            if (--m->pending == 0 && m->cos[0].wait == MW_EPI)
                m_wake(m, 0);
        }
        int p = j->parent, up = -1;
        if (p >= 0) {
            m_unlink_child(m, p, id);
            if (m_claim_finalize(J(m, p)))
                up = p;
        }
        id = up;
    }
}

/* Creates job id (a coroutine or a scope) as a child of parent (or none).
 * A child of a cancelling parent is born cancelled (Kotlin). */
static void m_job_create(m_model *m, int id, int kind, int parent, bool lazy) {
    m_job *j = J(m, id);
    memset(j, 0, sizeof *j);
    j->exists = true;
    j->kind = kind;
    j->parent = -1; /* set below, unless the parent has completed */
    j->child_head = j->child_tail = j->sib_next = j->sib_prev = -1;
    j->state = lazy ? KIN_STATE_NEW : KIN_STATE_ACTIVE;
    j->cause = j->failure = j->kids_err = j->self_err = -1;
    j->timeout_err = j->timer = -1;
    j->co = -1;
    j->final_cause = -1;
    j->handled_by = -2;
    j->handled_err = -1;
    j->handler = -1;
    j->value_node = -2; /* kin_job_complete: the value NULL */
    j->prod_ch = -1;
    /* outside the root's tree: no parent (a non-cancellable section is
     * waited for by its caller: inside), or a parent outside */
    j->detached = id != 0 && kind != MJ_SCOPE &&
                  (parent < 0 || m_final(J(m, parent)->state));
    if (parent >= 0 && J(m, parent)->detached)
        j->detached = true;
    if (parent < 0)
        return;
    m_job *p = J(m, parent);
    if (m_final(p->state)) {
        /* an explicit parent that has completed: the child is born
         * cancelled and stands alone (kin.h kin_launch_opts.parent) */
        m_mark_cancelling(m, id, p->state == KIN_STATE_COMPLETED
                                     ? m_err_new(m, ME_CANCEL, KIN_ECANCELED,
                                                 -1)
                                     : m_kids_err(m, p));
        return;
    }
    j->parent = parent;
    j->sib_prev = p->child_tail;
    if (p->child_tail >= 0)
        J(m, p->child_tail)->sib_next = id;
    else
        p->child_head = id;
    p->child_tail = id;
    p->active++;
    if (p->state == KIN_STATE_CANCELLING)
        m_mark_cancelling(m, id, m_kids_err(m, p));
}

/* ---- Running coroutines -------------------------------------------------------------------- */

enum { ST_DONE, ST_SUSPENDED, ST_PUSHED };

static void m_push_frame(m_co *c, int owner, int prev_cur) {
    m_frame *f = &c->fr[c->sp++];
    memset(f, 0, sizeof *f);
    f->owner = owner;
    f->prev_cur = prev_cur;
    f->saved_err = -1;
}

static void m_suspend(m_model *m, m_co *c, int stmt, int wait, int target,
                      bool cancellable) {
    (void)m;
    c->wait = wait;
    c->wait_target = target;
    c->cancellable = cancellable;
    c->stmt = stmt;
}

/* kin_start / join / await of a LAZY job start it: queued (rule 10). */
static bool m_start_lazy(m_model *m, int id) {
    m_job *j = J(m, id);
    if (j->state != KIN_STATE_NEW)
        return false;
    j->state = KIN_STATE_ACTIVE;
    m_enqueue(m, id);
    return true;
}

static void m_add_waiter(m_model *m, int job, int co) {
    m_job *j = J(m, job);
    if (j->nwait >= 64) {
        fprintf(stderr, "model: too many waiters\n");
        abort();
    }
    j->waiters[j->nwait++] = (int16_t)co;
}

static void m_remove_waiter(m_model *m, int job, int co) {
    m_job *j = J(m, job);
    for (int i = 0; i < j->nwait; i++) {
        if (j->waiters[i] == co) {
            memmove(&j->waiters[i], &j->waiters[i + 1],
                    (size_t)(j->nwait - i - 1) * sizeof j->waiters[0]);
            j->nwait--;
            return;
        }
    }
}

/* The outcome of await on a completed async job (rule 6, rule 16): its
 * failure, delivered even if the caller was cancelled meanwhile; else the
 * caller's cancellation (prompt cancellation drops the value; not when c
 * is NULL: the job had completed before the await); else the job's
 * cancellation; else its value.
 * DECISION (rule 16, as kin.h words it for kin_await): the failure counts
 * if the awaited job has failed by the time the awaiter runs again, even if
 * the awaiter was cancelled (and queued) first. kotlinx.coroutines decides
 * when the awaiter is cancelled: once its continuation is cancelled it gets
 * the CancellationException even if the job fails before it runs (see the
 * report). */
static int m_await_outcome(m_model *m, m_co *c, int target, int *err,
                           int *val) {
    m_job *t = J(m, target);
    int cause = t->final_cause;
    if (cause >= 0 && !m_is_cancel(m, cause)) {
        *err = cause;
        return m->errs[cause].code;
    }
    if (c && m_cancelling(m, c->cur)) { /* c NULL: completed before */
        *err = m_cancel_err(m, J(m, c->cur));
        return m->errs[*err].code;
    }
    if (cause >= 0) {
        *err = cause;
        return m->errs[cause].code;
    }
    /* its value: the interpreter returns &value[node] (a deferred:
     * &value[the COMPLETE node]) */
    *val = t->kind == MJ_HAND ? t->value_node : target;
    return 0;
}

static int m_cancel_rc(m_model *m, m_co *c, int *err) {
    *err = m_cancel_err(m, J(m, c->cur));
    return m->errs[*err].code;
}

/* Node r's value (r a RESUME, or a SUSPEND resuming itself) goes to an
 * on_drop when it is not delivered. */
static bool m_has_drop(const m_model *m, int r) {
    const mp_node *n = N(m, r);
    return n->op == OP_SUSPEND ||
           ((n->hflags & HF_EX) && !(n->hflags & HF_ERR));
}

/* The coroutine whose stack runs owner's body. */
static int m_coro_of(const m_model *m, int owner) {
    return mp_coro_of(m->p, owner);
}

static const mp_node *m_stmt_node(m_model *m, int s) {
    return N(m, s);
}

/* ---- Channels and the mutex (issue 11; kin's src/sync) ----------------------*/

/* A channel of capacity cap (prog.h: 0, a size, MP_CONFLATED,
 * MP_BUFFERED, MP_UNLIMITED) and overflow policy pol, as kin_channel_new
 * makes it. */
static void m_chan_init(m_chan *h, int cap, int pol) {
    h->pol = cap == MP_CONFLATED ? MP_DROP_OLDEST : pol;
    h->cap = cap == MP_CONFLATED ? 1 : cap == MP_BUFFERED ? 64 : cap;
    if (cap == MP_UNLIMITED) { /* the overflow policy is moot */
        h->cap = MP_MAX_NODES;
        h->pol = MP_SUSPEND;
    }
    /* kin.h: a one-element buffer, as kotlinx's Channel() (also BUFFERED
     * with a drop policy) */
    if (h->pol != MP_SUSPEND && (cap == 0 || cap == MP_BUFFERED))
        h->cap = 1;
    h->cause = -1;
}

/* Waiter records stay in their queue until claimed or until their own
 * coroutine runs again (a cancelled waiter is not skipped: an element handed
 * to it meanwhile goes to the callback, prompt cancellation); a mutex
 * release passes over waiters whose job is cancelling. */

static void m_q_remove(int16_t *q, int *n, int co) {
    for (int i = 0; i < *n; i++)
        if (q[i] == co) {
            memmove(&q[i], &q[i + 1], (size_t)(*n - i - 1) * sizeof q[0]);
            (*n)--;
            return;
        }
}

/* The first waiter of a queue, unlinked; on a channel, a select that
 * another clause has claimed is dropped on the way (kin's claim). */
static int m_claim_q(m_model *m, int16_t *q, int *n, bool chan) {
    while (*n > 0) {
        int co = q[0];
        memmove(&q[0], &q[1], (size_t)(*n - 1) * sizeof q[0]);
        (*n)--;
        if (!chan || m->cos[co].chst == CW_WAITING)
            return co;
    }
    return -1;
}

static int m_claim(m_model *m, int16_t *q, int *n) {
    return m_claim_q(m, q, n, true);
}

/* The clause of select waiter co that waits on channel h (send: its SEND
 * clause), or 0 for a plain send or receive. */
static int m_clause(m_model *m, int co, const m_chan *h, bool send) {
    if (m->cos[co].wait != MW_SELECT)
        return 0;
    int kinds[5], chans[5];
    int nc = mp_sel_clauses(N(m, m->cos[co].stmt), kinds, chans);
    for (int i = 0; i < nc; i++)
        if (chans[i] >= 0 && &m->ch[chans[i]] == h &&
            (kinds[i] == SK_SEND) == send)
            return i;
    fprintf(stderr, "model: select #%d has no such clause\n",
            m->cos[co].stmt);
    abort();
}

/* A receive that need not wait: from the buffer (the first suspended
 * sender's element takes the freed place) or from a suspended sender. */
static bool m_recv_now(m_model *m, m_chan *h, int *val) {
    if (h->nbuf) {
        *val = h->buf[0];
        memmove(&h->buf[0], &h->buf[1], (size_t)--h->nbuf * sizeof h->buf[0]);
        int w = m_claim(m, h->sq, &h->nsq);
        if (w >= 0) {
            h->buf[h->nbuf++] = (int16_t)m->cos[w].chval;
            m->cos[w].chwhich = m_clause(m, w, h, true);
            m->cos[w].chst = CW_DONE;
            m_wake(m, w);
        }
        return true;
    }
    int w = m_claim(m, h->sq, &h->nsq);
    if (w < 0)
        return false;
    *val = m->cos[w].chval;
    m->cos[w].chwhich = m_clause(m, w, h, true);
    m->cos[w].chst = CW_DONE;
    m_wake(m, w);
    return true;
}

/* A send that need not wait (kin's send_locked) on an open channel: to a
 * suspended receiver (queued, rule 11), into the buffer, or dropped by the
 * overflow policy (the dropped element to the callback); false if it
 * would suspend. */
static bool m_send_now(m_model *m, m_chan *h, int s) {
    int w = m_claim(m, h->rq, &h->nrq);
    if (w >= 0) {
        m->cos[w].chwhich = m_clause(m, w, h, false);
        m->cos[w].chst = CW_DONE;
        m->cos[w].chval = s;
        m_wake(m, w);
        return true;
    }
    if (h->nbuf < h->cap) {
        h->buf[h->nbuf++] = (int16_t)s;
        return true;
    }
    if (h->pol == MP_DROP_OLDEST) { /* conflated too */
        int d = h->buf[0];
        memmove(&h->buf[0], &h->buf[1], (size_t)(h->nbuf - 1) * sizeof h->buf[0]);
        h->buf[h->nbuf - 1] = (int16_t)s;
        m_emit(m, EV_UNDEL, d, 0, -1, -1);
        return true;
    }
    if (h->pol == MP_DROP_LATEST) {
        m_emit(m, EV_UNDEL, s, 0, -1, -1);
        return true;
    }
    return false;
}

static bool m_any_waiting(const m_model *m, const int16_t *q, int n) {
    for (int i = 0; i < n; i++)
        if (m->cos[q[i]].chst == CW_WAITING)
            return true;
    return false;
}

/* Whether a select's receive (send) clause on h can complete now. */
static bool m_recv_ready(const m_model *m, const m_chan *h) {
    return h->nbuf || m_any_waiting(m, h->sq, h->nsq) || h->closed;
}
static bool m_send_ready(const m_model *m, const m_chan *h) {
    return h->closed || m_any_waiting(m, h->rq, h->nrq) || h->nbuf < h->cap ||
           h->pol != MP_SUSPEND;
}

/* A closed channel's result: its cause's code (the cause current), else
 * KIN_CLOSED (catching: try_receive), else KIN_ECLOSED (a new error). */
static int m_closed_rc(m_model *m, int cause, bool catching, int *err) {
    if (cause >= 0) {
        *err = cause;
        return m->errs[cause].code;
    }
    if (catching)
        return KIN_CLOSED;
    *err = m_err_new(m, ME_MISUSE, KIN_ECLOSED, -1);
    return KIN_ECLOSED;
}

/* kin_channel_close(ch, cause): receivers of the empty channel resume. */
static bool m_close(m_model *m, m_chan *h, int cause) {
    if (h->closed)
        return false;
    h->closed = 1;
    h->cause = cause;
    int w;
    while ((w = m_claim(m, h->rq, &h->nrq)) >= 0) {
        m->cos[w].chwhich = m_clause(m, w, h, false);
        m->cos[w].chst = CW_CLOSED;
        m->cos[w].chcause = cause;
        m_wake(m, w);
    }
    return true;
}

/* kin_channel_cancel(ch, NULL): close (the first cause stays), senders
 * resume, the buffer goes to the callback, in the canceller. */
static void m_chan_cancel(m_model *m, m_chan *h, int e) {
    if (!h->closed)
        m_close(m, h, e);
    h->closed = 2;
    int w;
    while ((w = m_claim(m, h->sq, &h->nsq)) >= 0) {
        m->cos[w].chwhich = m_clause(m, w, h, true);
        m->cos[w].chst = CW_CANCELLED;
        m->cos[w].chcause = h->cause;
        m_wake(m, w);
    }
    for (int i = 0; i < h->nbuf; i++)
        m_emit(m, EV_UNDEL, h->buf[i], 0, -1, -1);
    h->nbuf = 0;
}

/* ---- Pipes --------------------------------------------------------------- */

static void m_unlist(m_model *m, int i) {
    for (int k = 0; k < m->nready; k++)
        if (m->readyq[k] == i) {
            memmove(&m->readyq[k], &m->readyq[k + 1],
                    (size_t)(m->nready - k - 1) * sizeof m->readyq[0]);
            m->nready--;
            break;
        }
    m->pipes[i].listed = false;
}

/* Pipe i became readable: an armed reader's entry joins the ready list. */
static void m_pipe_ready(m_model *m, int i) {
    m_pipe *q = &m->pipes[i];
    if (q->reader >= 0 && !q->listed) {
        q->listed = true;
        m->readyq[m->nready++] = (int8_t)i;
    }
}

/* epoll_wait(0): each listed pipe that is readable wakes its reader
 * (detached, as kin's dispatch does); returns how many. */
static int m_poll(m_model *m) {
    int woken = 0;
    for (int k = 0; k < m->nready; k++) {
        m_pipe *q = &m->pipes[m->readyq[k]];
        q->listed = false;
        if (q->reader < 0 || !(q->nmsg > 0 || q->wr_closed))
            continue;
        m_co *c = &m->cos[q->reader];
        c->chst = CW_DONE;
        m_wake(m, q->reader);
        q->reader = -1;
        woken++;
    }
    m->nready = 0;
    m->picks = 0;
    return woken;
}

/* A read (after the cancellation check): a message, EOF (0), KIN_EBUSY
 * (another reader is armed), -EBADF (the read end was closed), or it arms
 * the pipe and suspends. */
static int m_fd_read(m_model *m, int ci, int s, int *rc, int *err, int *val) {
    m_co *c = &m->cos[ci];
    int i = N(m, s)->ch;
    m_pipe *q = &m->pipes[i];
    if (q->rd_closed) {
        *rc = -EBADF; /* -errno: no error object */
        *err = -1;
        return ST_DONE;
    }
    if (q->nmsg > 0) {
        *val = q->msg[0];
        memmove(&q->msg[0], &q->msg[1], (size_t)--q->nmsg * sizeof q->msg[0]);
        *rc = 2;
        return ST_DONE;
    }
    if (q->wr_closed) {
        *rc = 0; /* end of file */
        return ST_DONE;
    }
    if (q->reader >= 0) {
        *rc = KIN_EBUSY;
        *err = m_err_new(m, ME_MISUSE, KIN_EBUSY, -1);
        return ST_DONE;
    }
    q->reader = ci;
    c->chst = CW_WAITING;
    m->fd_pending++;
    m_suspend(m, c, s, MW_FD, i, true);
    return ST_SUSPENDED;
}

/* kin_close of one end: a reader armed on a closed read end wakes with
 * -EBADF at once (queued); closing the write end makes the pipe readable
 * (end of file). */
static void m_fd_close(m_model *m, int i, bool wrend) {
    m_pipe *q = &m->pipes[i];
    if (wrend) {
        q->wr_closed = true;
        m_pipe_ready(m, i);
        return;
    }
    q->rd_closed = true;
    q->nmsg = 0;
    if (q->reader >= 0) {
        m->cos[q->reader].chst = CW_CLOSED;
        m_wake(m, q->reader);
        q->reader = -1;
    }
    m_unlist(m, i);
}

static void m_close_all(m_model *m) {
    for (int i = 0; i < m->p->nch; i++)
        m_close(m, &m->ch[i], -1);
    for (int i = MP_MAX_CHANS; i < MP_CH_TABLE; i++)
        if (m->ch[i].made) /* the consumer's handle closes it */
            m_close(m, &m->ch[i], -1);
    for (int i = 0; i < m->p->npipe; i++) /* readers see end of file */
        if (!m->pipes[i].wr_closed)
            m_fd_close(m, i, true);
}

/* Unlock / release: the first waiter whose job is not cancelling gets the
 * lock (the permit); passed-over waiters are unlinked (kin's
 * kin__sync_release_locked). */
static void m_unlock(m_model *m, int k) {
    m_sync *y = &m->sy[k];
    while (y->nq > 0) {
        int w = m_claim_q(m, y->q, &y->nq, false);
        if (m_cancelling(m, m->cos[w].cur))
            continue;
        m->cos[w].mxg = true;
        /* handed over with the waiter's owner token (kin.h, kotlinx's
         * CancellableContinuationWithOwner.tryResume) */
        y->owner = N(m, m->cos[w].stmt)->hflags & LF_OWNER ? w : -1;
        m_wake(m, w);
        return;
    }
    y->owner = -1;
    /* never more than the permits: a cancelled waiter's pass-on after a
     * release beyond the acquires has nothing to give back (kotlinx's
     * release() clamps the count) */
    if (y->avail < (k == M_MUTEX ? 1 : m->p->permits))
        y->avail++;
}

/* The result of a completed scope job for its caller (rules 9, 14, 15). */
static int m_scope_result(m_model *m, int s, int *err) {
    m_job *j = J(m, s);
    int cause = j->final_cause;
    if (cause < 0)
        return 0;
    if (mp_is_timeout(N(m, s)->op) && cause == j->timeout_err) {
        /* its own timeout, even if the block swallowed it (rule 15) */
        if (N(m, s)->op == OP_TIMEOUT_NULL)
            return KIN_NULL;
        *err = cause;
        return KIN_ETIMEDOUT;
    }
    *err = cause;
    return m->errs[cause].code;
}

static void m_result(m_model *m, int ci, int s, int rc, int err, int val);

/* Starts statement s in coroutine ci. ST_DONE: its result is in *rc / *err
 * / *val. ST_SUSPENDED: the coroutine waits. ST_PUSHED: a body to run. */
static int m_stmt(m_model *m, int ci, int s, int *rc, int *err, int *val) {
    m_co *c = &m->cos[ci];
    const mp_node *n = m_stmt_node(m, s);
    *rc = 0;
    *err = -1;
    *val = -1;
    switch (n->op) {
    case OP_LAUNCH:
    case OP_ASYNC:
    case OP_PRODUCE: {
        /* an explicit parent changes the family, not the context (the
         * handler below is still the caller's) */
        int parent = n->xparent == -1             ? c->cur
                     : n->xparent == MP_NO_PARENT ? -1
                                                  : n->xparent;
        m_job_create(m, s, MJ_CORO, parent, n->lazy);
        m_job *j = J(m, s);
        if (j->detached) {
            j->counted = true;
            m->pending++;
        }
        j->co = s;
        j->async = n->op == OP_ASYNC;
        /* rule 7: its own handler, else the one in its parent's context */
        j->handler = n->handler ? s : J(m, c->cur)->handler;
        m_co *nc = &m->cos[s];
        memset(nc, 0, sizeof *nc);
        nc->exists = true;
        nc->err = -1;
        if (n->op == OP_PRODUCE) { /* its channel, then the launch */
            m_chan_init(&m->ch[n->ch], n->ticks, MP_SUSPEND);
            m->ch[n->ch].made = true;
            m->ch[n->ch].producer = s;
            j->prod_ch = n->ch;
        }
        if (!n->lazy) {
            m_enqueue(m, s); /* rule 11: queued, runs when we suspend */
        } else if (j->state == KIN_STATE_CANCELLING) {
            /* born cancelled and lazy: it completes now, never runs */
            if (m_claim_finalize(j))
                m_finalize(m, s);
        }
        return ST_DONE;
    }
    case OP_SCOPE:
    case OP_SUPERVISOR:
    case OP_TIMEOUT:
    case OP_TIMEOUT_NULL:
    case OP_NONCANCEL: {
        if (mp_is_timeout(n->op) && n->ticks == 0) {
            /* a zero timeout never runs the block */
            if (n->op == OP_TIMEOUT_NULL) {
                *rc = KIN_NULL;
            } else {
                *err = m_err_new(m, ME_TIMEOUT, KIN_ETIMEDOUT, -1);
                *rc = KIN_ETIMEDOUT;
            }
            return ST_DONE;
        }
        /* rule 8: a non-cancellable section hangs off no parent, so outer
         * cancellation does not reach it */
        int parent = n->op == OP_NONCANCEL ? -1 : c->cur;
        m_job_create(m, s, MJ_SCOPE, parent, false);
        m_job *j = J(m, s);
        j->co = ci;
        j->scoped = n->op != OP_NONCANCEL;
        j->noncancel = n->op == OP_NONCANCEL;
        j->detached = J(m, c->cur)->detached;
        j->supervisor = n->op == OP_SUPERVISOR;
        j->handler = J(m, c->cur)->handler;
        if (mp_is_timeout(n->op)) {
            j->timeout_err = m_err_new(m, ME_TIMEOUT, KIN_ETIMEDOUT, s);
            if (n->ticks != MP_INF)
                j->timer = m_timer_add(m, n->ticks, true, s);
        }
        m_push_frame(c, s, c->cur);
        c->cur = s; /* scope functions run their body in place (rule 11) */
        return ST_PUSHED;
    }
    case OP_DELAY:
        if (n->ticks == 0)
            return ST_DONE; /* delay(0): no suspension, no check (kotlinx) */
        if (m_cancelling(m, c->cur)) { /* rule 2 */
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        m_suspend(m, c, s, MW_DELAY, -1, true);
        c->timer = n->ticks == MP_INF ? -1 : m_timer_add(m, n->ticks, false, ci);
        return ST_SUSPENDED;
    case OP_YIELD:
        if (m_cancelling(m, c->cur)) {
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        m_suspend(m, c, s, MW_YIELD, -1, false);
        m_enqueue(m, ci); /* to the tail: the others run first */
        return ST_SUSPENDED;
    case OP_ENSURE_ACTIVE:
        if (m_cancelling(m, c->cur))
            *rc = m_cancel_rc(m, c, err);
        return ST_DONE;
    case OP_AWAIT:
    case OP_JOIN: {
        int t = n->target;
        if (n->op == OP_AWAIT && m_final(J(m, t)->state)) {
            /* kotlinx's await fast path: a completed deferred gives its
             * outcome without a look at the caller (join still checks) */
            *rc = m_await_outcome(m, NULL, t, err, val);
            return ST_DONE;
        }
        if (m_cancelling(m, c->cur)) { /* checked before anything else */
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        m_start_lazy(m, t);
        if (m_final(J(m, t)->state)) { /* no suspension */
            if (n->op == OP_AWAIT)
                *rc = m_await_outcome(m, c, t, err, val);
            return ST_DONE;
        }
        m_add_waiter(m, t, ci);
        m_suspend(m, c, s, n->op == OP_AWAIT ? MW_AWAIT : MW_JOIN, t, true);
        return ST_SUSPENDED;
    }
    case OP_CANCEL:
    case OP_CANCEL_SELF: {
        int t = n->op == OP_CANCEL ? n->target : c->cur;
        m_cancel_job(m, t, m_err_new(m, ME_CANCEL, KIN_ECANCELED, -1));
        return ST_DONE;
    }
    case OP_START:
        if (!m_start_lazy(m, n->target)) {
            *rc = KIN_EALREADY;
            *err = m_err_new(m, ME_MISUSE, KIN_EALREADY, -1);
        }
        return ST_DONE;
    case OP_FAIL:
        *err = m_err_new(m, ME_FAIL, KIN_EFAILED, s);
        *rc = KIN_EFAILED;
        return ST_DONE;
    case OP_JOB_NEW:
    case OP_DEFERRED_NEW: {
        /* Job(parent) / CompletableDeferred(parent): a parent that is
         * cancelling gives a job born cancelled, completed at once */
        int parent = n->xparent == MP_NO_PARENT ? -1 : c->cur;
        m_job_create(m, s, MJ_HAND, parent, false);
        m_job *j = J(m, s);
        j->deferred = n->op == OP_DEFERRED_NEW;
        j->supervisor = n->sup;
        j->unhandled = j->parent < 0 || (J(m, j->parent)->kind == MJ_HAND &&
                                         J(m, j->parent)->unhandled);
        if (j->detached) {
            j->counted = true;
            m->pending++;
        }
        if (m_claim_finalize(j))
            m_finalize(m, s);
        return ST_DONE;
    }
    case OP_COMPLETE:
    case OP_COMPLETE_EXC: {
        /* complete() / completeExceptionally(): 1 if this call completed
         * it, 0 if it was completing, cancelled or completed already */
        int t = n->target;
        int e = n->op == OP_COMPLETE_EXC ? m_err_new(m, ME_FAIL, KIN_EFAILED, s)
                                         : -1;
        m_job *j = J(m, t);
        if (j->body_done || m_final(j->state))
            return ST_DONE;
        *rc = 1;
        if (e < 0 && j->deferred)
            j->value_node = s;
        m_body_done(m, t, e < 0 ? 0 : KIN_EFAILED, e);
        return ST_DONE;
    }
    case OP_CANCEL_CHILDREN: {
        /* cancelChildren(): the children it has now, one by one */
        int t = n->target >= 0 ? n->target : c->cur;
        int e = m_err_new(m, ME_CANCEL, KIN_ECANCELED, -1);
        int16_t kids[MP_MAX_NODES];
        int nk = 0;
        for (int k = J(m, t)->child_head; k >= 0; k = J(m, k)->sib_next)
            kids[nk++] = (int16_t)k;
        for (int i = 0; i < nk; i++)
            m_cancel_job(m, kids[i], e);
        return ST_DONE;
    }
    case OP_SUSPEND: {
        /* start: registers the callback, takes a resume that came first,
         * maybe resumes itself (HF_FAST); then parks unless resumed */
        bool cb = n->hflags & HF_CB, fast = n->hflags & HF_FAST;
        bool pend = m->slot[s] == SL_PENDING;
        if (m_cancelling(m, c->cur)) {
            /* already cancelled: start runs with a cancelled continuation
             * (its callback at once, every resume KIN_EALREADY) */
            if (cb)
                m_emit(m, EV_CB, s, 0, -1, -1);
            if (pend && m_has_drop(m, m->slot_r[s]))
                m_emit(m, EV_DROP, m->slot_r[s], 0, -1, -1);
            if (fast)
                m_emit(m, EV_DROP, s, 0, -1, -1);
            m->slot[s] = SL_DONE;
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        m->slot[s] = pend ? SL_RESUMED : SL_WAITING;
        if (fast && !pend) {
            m->slot[s] = SL_RESUMED;
            m->slot_r[s] = (int16_t)s;
            m->slot_err[s] = -1;
        } else if (fast) {
            m_emit(m, EV_DROP, s, 0, -1, -1); /* KIN_EALREADY */
        }
        if (m->slot[s] == SL_RESUMED) { /* no parking */
            m->slot[s] = SL_DONE;
            if (m->slot_err[s] >= 0) {
                *err = m->slot_err[s];
                *rc = m->errs[*err].code;
            } else {
                *val = m->slot_r[s];
            }
            return ST_DONE;
        }
        m_suspend(m, c, s, MW_SUSPEND, -1, true);
        return ST_SUSPENDED;
    }
    case OP_RESUME: {
        int t = n->target;
        int e = n->hflags & HF_ERR ? m_err_new(m, ME_FAIL, KIN_EFAILED, s) : -1;
        *val = m->slot[t] == SL_WAITING; /* kin_cont_is_active */
        switch (m->slot[t]) {
        case SL_EMPTY: /* before the suspension: it waits in the table */
            m->slot[t] = SL_PENDING;
            m->slot_r[t] = (int16_t)s;
            m->slot_err[t] = e;
            break;
        case SL_WAITING: /* the coroutine is queued (rule 11) */
            m->slot[t] = SL_RESUMED;
            m->slot_r[t] = (int16_t)s;
            m->slot_err[t] = e;
            m_wake(m, m_coro_of(m, N(m, t)->parent));
            break;
        default: /* a second resume, after cancellation, after the end */
            if (m_has_drop(m, s))
                m_emit(m, EV_DROP, s, 0, -1, -1);
            *rc = KIN_EALREADY;
            *err = m_err_new(m, ME_MISUSE, KIN_EALREADY, -1);
            break;
        }
        return ST_DONE;
    }
    case OP_SEND:
    case OP_TRY_SEND: {
        m_chan *h = &m->ch[n->ch];
        bool tr = n->op == OP_TRY_SEND;
        if (h->closed) { /* a send's element goes to the callback */
            if (!tr)
                m_emit(m, EV_UNDEL, s, 0, -1, -1);
            *rc = m_closed_rc(m, h->cause, false, err);
            return ST_DONE;
        }
        if (m_send_now(m, h, s))
            return ST_DONE;
        if (tr) {
            *rc = KIN_FULL;
            return ST_DONE;
        }
        if (m_cancelling(m, c->cur)) { /* cancelled: would suspend */
            m_emit(m, EV_UNDEL, s, 0, -1, -1);
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        h->sq[h->nsq++] = (int16_t)ci;
        c->chst = CW_WAITING;
        c->chval = s;
        m_suspend(m, c, s, MW_SEND, -1, true);
        return ST_SUSPENDED;
    }
    case OP_RECEIVE:
    case OP_TRY_RECEIVE: {
        m_chan *h = &m->ch[n->ch];
        bool tr = n->op == OP_TRY_RECEIVE;
        if (m_recv_now(m, h, val))
            return ST_DONE;
        if (h->closed) {
            *rc = m_closed_rc(m, h->cause, tr || (n->hflags & RF_CATCH),
                              err);
            return ST_DONE;
        }
        if (tr) {
            *rc = KIN_EMPTY;
            return ST_DONE;
        }
        if (m_cancelling(m, c->cur)) {
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        h->rq[h->nrq++] = (int16_t)ci;
        c->chst = CW_WAITING;
        m_suspend(m, c, s, MW_RECV, -1, true);
        return ST_SUSPENDED;
    }
    case OP_SELECT: {
        /* the first clause that can complete now wins (biased: in order;
         * unbiased: kin draws the order, so two ready clauses make the
         * program unpredictable); a closed channel completes a RECEIVE or
         * SEND clause with its error, a RECEIVE_CATCHING one with its
         * closed result; a job clause is ready when the job has completed
         * (AWAIT: its outcome, a failure or cancellation as the select's
         * error). The job of a job clause is started first if lazy (kin's
         * select, kotlinx's onJoin / onAwait registration), even if the
         * caller is cancelled. */
        int kinds[5], chans[5];
        int nc = mp_sel_clauses(n, kinds, chans), win = -1, ready = 0;
        if (n->hflags & SF_JOB)
            m_start_lazy(m, n->target);
        for (int k = 0; k < nc; k++) {
            m_chan *h = chans[k] >= 0 ? &m->ch[chans[k]] : NULL;
            bool r = kinds[k] == SK_SEND   ? m_send_ready(m, h)
                     : kinds[k] == SK_TMO  ? n->ticks == 0
                     : h                   ? m_recv_ready(m, h)
                                           : m_final(J(m, n->target)->state);
            ready += r;
            if (r && win < 0)
                win = k;
        }
        if (ready > 1 && (n->hflags & SF_UNBIASED))
            m->unpredictable = true;
        if (win >= 0) {
            m_chan *h = chans[win] >= 0 ? &m->ch[chans[win]] : NULL;
            *rc = win;
            switch (kinds[win]) {
            case SK_SEND:
                if (h->closed) { /* the element goes to the callback */
                    m_emit(m, EV_UNDEL, s, 0, -1, -1);
                    *rc = m_closed_rc(m, h->cause, false, err);
                } else {
                    m_send_now(m, h, s);
                }
                break;
            case SK_RECV:
            case SK_CATCH:
                if (!m_recv_now(m, h, val)) {
                    int e = -1, r = m_closed_rc(m, h->cause,
                                                kinds[win] == SK_CATCH, &e);
                    if (kinds[win] == SK_CATCH) {
                        *val = mp_closed_val(r);
                    } else {
                        *rc = r;
                        *err = e;
                    }
                }
                break;
            case SK_AWAIT: {
                /* phase 1 does not look at the caller (as await's fast
                 * path) */
                int r = m_await_outcome(m, NULL, n->target, err, val);
                if (r < 0)
                    *rc = r;
                break;
            }
            default: /* JOIN, TIMEOUT */
                break;
            }
            return ST_DONE;
        }
        if (m_cancelling(m, c->cur)) {
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        for (int k = 0; k < nc; k++) {
            if (chans[k] < 0)
                continue;
            m_chan *h = &m->ch[chans[k]];
            if (kinds[k] == SK_SEND)
                h->sq[h->nsq++] = (int16_t)ci;
            else
                h->rq[h->nrq++] = (int16_t)ci;
        }
        if (n->hflags & SF_JOB) /* a node on the job's completion list */
            m_add_waiter(m, n->target, ci);
        c->chst = CW_WAITING;
        c->chval = s; /* the SEND clause's element */
        c->timer = -1;
        if ((n->hflags & SF_TMO) && n->ticks != MP_INF) { /* ticks > 0 */
            c->timer = m_timer_add(m, n->ticks, false, ci);
            m->timers[c->timer].sel = true;
        }
        m_suspend(m, c, s, MW_SELECT, -1, true);
        return ST_SUSPENDED;
    }
    case OP_CLOSE:
        *rc = m_close(m, &m->ch[n->ch], -1) ? 1 : 0;
        return ST_DONE;
    case OP_CANCEL_CH: {
        /* a produce channel's cancel cancels its producer too, with the
         * same cause (kotlinx's ChannelCoroutine.cancel), if it runs */
        m_chan *h = &m->ch[n->ch];
        int e = m_err_new(m, ME_CANCEL, KIN_ECANCELED, -1);
        m_chan_cancel(m, h, e);
        if (h->producer >= 0 && !m_final(J(m, h->producer)->state))
            m_cancel_job(m, h->producer, e);
        return ST_DONE;
    }
    case OP_WITH_LOCK:
    case OP_WITH_PERMIT: {
        m_sync *y = &m->sy[n->op == OP_WITH_LOCK ? M_MUTEX : M_SEM];
        if (y->avail > 0) { /* free: taken without a cancellation check */
            y->avail--;
            y->owner = n->op == OP_WITH_LOCK && (n->hflags & LF_OWNER) ? ci
                                                                       : -1;
            m_push_frame(c, s, c->cur);
            return ST_PUSHED;
        }
        if (n->hflags & HF_TRY)
            return ST_DONE; /* try_lock said 0: the body is skipped */
        if (m_cancelling(m, c->cur)) {
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        y->q[y->nq++] = (int16_t)ci;
        c->mxg = false;
        m_suspend(m, c, s, MW_LOCK, n->op == OP_WITH_LOCK ? M_MUTEX : M_SEM,
                  true);
        return ST_SUSPENDED;
    }
    case OP_FD_READ:
        if (m_cancelling(m, c->cur)) { /* checked before reading */
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        return m_fd_read(m, ci, s, rc, err, val);
    case OP_FD_WRITE: {
        m_pipe *q = &m->pipes[n->ch];
        if (m_cancelling(m, c->cur)) {
            *rc = m_cancel_rc(m, c, err);
            return ST_DONE;
        }
        if (q->wr_closed || q->rd_closed) { /* -EBADF, -EPIPE */
            *rc = q->wr_closed ? -EBADF : -EPIPE;
            *err = -1;
            return ST_DONE;
        }
        q->msg[q->nmsg++] = (int16_t)s;
        m_pipe_ready(m, n->ch);
        *rc = 2;
        return ST_DONE;
    }
    case OP_MX_HOLDS: { /* holdsLock(owner) */
        int tok = n->target >= 0 ? n->target : ci;
        *rc = m->sy[M_MUTEX].avail == 0 && m->sy[M_MUTEX].owner == tok;
        return ST_DONE;
    }
    case OP_MX_UNLOCK: /* unlock(owner) by an owner that holds nothing */
        *rc = KIN_EPERM;
        *err = m_err_new(m, ME_MISUSE, KIN_EPERM, -1);
        return ST_DONE;
    case OP_MX_RELOCK: /* lock / tryLock by the holder's own owner: an
                          error at once, no cancellation check (kotlinx's
                          tryLock throws before lock() could suspend) */
        *rc = KIN_EDEADLK;
        *err = m_err_new(m, ME_MISUSE, KIN_EDEADLK, -1);
        return ST_DONE;
    case OP_SEM_RELEASE:
        if (m->sy[M_SEM].avail == m->p->permits) {
            *rc = KIN_EPERM;
            *err = m_err_new(m, ME_MISUSE, KIN_EPERM, -1);
        } else {
            m_unlock(m, M_SEM);
        }
        return ST_DONE;
    case OP_FD_CLOSE: {
        m_pipe *q = &m->pipes[n->ch];
        bool wrend = n->hflags & FF_WREND;
        if (wrend ? q->wr_closed : q->rd_closed) {
            *rc = -EBADF;
            *err = -1;
            return ST_DONE;
        }
        m_fd_close(m, n->ch, wrend);
        return ST_DONE;
    }
    default:
        fprintf(stderr, "model: bad op %d\n", n->op);
        abort();
    }
}

/* Applies a statement's result in the top frame: records it, then the
 * body's policy (prog.h). */
static void m_result(m_model *m, int ci, int s, int rc, int err, int val) {
    m_co *c = &m->cos[ci];
    m_frame *f = &c->fr[c->sp - 1];
    const mp_node *n = N(m, s);
    if (rc < 0)
        c->err = err; /* kin_last_error */
    if (n->op == OP_FAIL) {
        f->ending = true;
        f->ret = rc;
        return;
    }
    m_emit(m, EV_RET, s, rc, val, err);
    if (f->in_cleanup) { /* s was the cleanup section */
        f->in_cleanup = false;
        f->ending = true;
        if (rc < 0) {
            f->ret = rc; /* the cleanup's failure replaces the original */
        } else {
            c->err = f->saved_err; /* kin_fail_error(saved) */
            f->ret = f->saved_rc;
        }
        return;
    }
    if (rc >= 0 || n->op == OP_START || n->op == OP_RESUME)
        return;
    if (mp_chan_no_policy(n->op, rc))
        return;
    const mp_node *o = N(m, f->owner);
    switch (o->policy) {
    case POL_PROPAGATE:
        f->ending = true;
        f->ret = rc;
        break;
    case POL_IGNORE:
        break;
    case POL_CLEANUP:
        f->in_cleanup = true;
        f->saved_rc = rc;
        f->saved_err = err;
        f->pc = o->nkids; /* no statement after the cleanup */
        break;
    }
}

/* Pops a finished scope frame and hands the result to the frame below. */
static void m_scope_return(m_model *m, int ci) {
    m_co *c = &m->cos[ci];
    int s = c->fr[c->sp - 1].owner;
    c->sp--;
    int err = -1;
    int rc = m_scope_result(m, s, &err);
    m_result(m, ci, s, rc, err, -1);
}

/* Runs coroutine ci until it suspends or its body has ended. */
static void m_exec(m_model *m, int ci) {
    m_co *c = &m->cos[ci];
    for (;;) {
        m_frame *f = &c->fr[c->sp - 1];
        if (f->ending) {
            m_emit(m, EV_END, f->owner, f->ret, -1, c->err);
            if (c->sp == 1) { /* the coroutine's body returned */
                c->sp = 0;
                if (ci == 0)
                    m_close_all(m); /* the interpreter closes them here */
                if (ci == 0 && m->pending > 0) {
                    /* the epilogue: wait for the counted jobs first */
                    c->epi_ret = f->ret;
                    c->epi_err = c->err;
                    m_suspend(m, c, 0, MW_EPI, -1, false);
                    return;
                }
                c->done = true;
                m_body_done(m, ci, f->ret, c->err);
                return;
            }
            int s = f->owner;
            if (N(m, s)->op == OP_WITH_LOCK ||
                N(m, s)->op == OP_WITH_PERMIT) { /* finally { unlock() } */
                int ret = f->ret, err = c->err;
                c->sp--;
                if (N(m, s)->op == OP_WITH_PERMIT &&
                    m->sy[M_SEM].avail == m->p->permits) {
                    /* a bare release gave it back already: the release's
                     * error replaces the result */
                    ret = KIN_EPERM;
                    err = m_err_new(m, ME_MISUSE, KIN_EPERM, -1);
                } else {
                    m_unlock(m, N(m, s)->op == OP_WITH_LOCK ? M_MUTEX : M_SEM);
                }
                m_result(m, ci, s, ret, err, -1);
                continue;
            }
            c->cur = f->prev_cur;
            m_body_done(m, s, f->ret, c->err);
            if (!m_final(J(m, s)->state)) {
                /* wait for the scope's children; not cancellable: they use
                 * our stack (L5), they are cancelled with the scope instead */
                m_add_waiter(m, s, ci);
                m_suspend(m, c, s, MW_SCOPE, s, false);
                return;
            }
            m_scope_return(m, ci);
            continue;
        }
        const mp_node *o = N(m, f->owner);
        int s;
        if (f->in_cleanup) {
            s = o->cleanup;
        } else if (f->pc < o->nkids) {
            s = o->kids[f->pc++];
        } else {
            f->ending = true;
            f->ret = 0;
            continue;
        }
        int rc, err, val;
        int st = m_stmt(m, ci, s, &rc, &err, &val);
        if (st == ST_SUSPENDED)
            return;
        if (st == ST_DONE)
            m_result(m, ci, s, rc, err, val);
        /* ST_PUSHED: the loop runs the new frame */
    }
}

/* One turn of coroutine ci, picked from the queue. */
static void m_turn(m_model *m, int ci) {
    m_co *c = &m->cos[ci];
    c->queued = false;
    if (!c->started) {
        c->started = true;
        if (m_cancelling(m, ci)) {
            /* cancelled before it ran: its body never runs (kin.h
             * KIN_START_DEFAULT; Kotlin's cancellable start) */
            c->done = true;
            J(m, ci)->never_ran = true;
            m_body_done(m, ci, KIN_ECANCELED, -1);
            return;
        }
        m_emit(m, EV_START, ci, 0, -1, -1);
        c->cur = ci;
        m_push_frame(c, ci, -1);
        m_exec(m, ci);
        return;
    }
    /* resumed: what its suspension point returns */
    int s = c->stmt, rc = 0, err = -1, val = -1;
    int wait = c->wait;
    c->wait = MW_NONE;
    switch (wait) {
    case MW_DELAY:
        if (c->timer >= 0)
            m->timers[c->timer].live = false;
        c->timer = -1;
        if (m_cancelling(m, c->cur))
            rc = m_cancel_rc(m, c, &err);
        break;
    case MW_YIELD:
        if (m_cancelling(m, c->cur))
            rc = m_cancel_rc(m, c, &err);
        break;
    case MW_JOIN:
        m_remove_waiter(m, c->wait_target, ci);
        if (m_cancelling(m, c->cur))
            rc = m_cancel_rc(m, c, &err);
        break;
    case MW_AWAIT:
        m_remove_waiter(m, c->wait_target, ci);
        if (m_final(J(m, c->wait_target)->state))
            rc = m_await_outcome(m, c, c->wait_target, &err, &val);
        else
            rc = m_cancel_rc(m, c, &err);
        break;
    case MW_SCOPE:
        m_scope_return(m, ci);
        m_exec(m, ci);
        return;
    case MW_SUSPEND:
        if (m->slot[s] == SL_RESUMED && m->slot_err[s] >= 0) {
            /* a failure is delivered even if cancelled (rule 16) */
            err = m->slot_err[s];
            rc = m->errs[err].code;
        } else if (m->slot[s] == SL_RESUMED && !m_cancelling(m, c->cur)) {
            val = m->slot_r[s];
        } else {
            if (m->slot[s] == SL_RESUMED) {
                /* prompt cancellation: the callback, then the value's
                 * on_drop, on this coroutine */
                if (N(m, s)->hflags & HF_CB)
                    m_emit(m, EV_CB, s, 0, -1, -1);
                if (m_has_drop(m, m->slot_r[s]))
                    m_emit(m, EV_DROP, m->slot_r[s], 0, -1, -1);
            }
            rc = m_cancel_rc(m, c, &err);
        }
        m->slot[s] = SL_DONE;
        break;
    case MW_SEND: {
        m_chan *h = &m->ch[N(m, s)->ch];
        if (c->chst == CW_WAITING) { /* cancelled: taken back */
            m_q_remove(h->sq, &h->nsq, ci);
            m_emit(m, EV_UNDEL, c->chval, 0, -1, -1);
            rc = m_cancel_rc(m, c, &err);
        } else if (c->chst == CW_DONE) { /* delivered */
            if (m_cancelling(m, c->cur))
                rc = m_cancel_rc(m, c, &err);
        } else { /* CW_CANCELLED: the channel was cancelled */
            m_emit(m, EV_UNDEL, c->chval, 0, -1, -1);
            if (m_cancelling(m, c->cur))
                rc = m_cancel_rc(m, c, &err);
            else
                rc = m_closed_rc(m, c->chcause, false, &err);
        }
        c->chst = CW_NONE;
        break;
    }
    case MW_RECV: {
        m_chan *h = &m->ch[N(m, s)->ch];
        if (c->chst == CW_WAITING) {
            m_q_remove(h->rq, &h->nrq, ci);
            rc = m_cancel_rc(m, c, &err);
        } else if (c->chst == CW_DONE) {
            if (m_cancelling(m, c->cur)) { /* prompt cancellation */
                m_emit(m, EV_UNDEL, c->chval, 0, -1, -1);
                rc = m_cancel_rc(m, c, &err);
            } else {
                val = c->chval;
            }
        } else { /* CW_CLOSED */
            if (m_cancelling(m, c->cur))
                rc = m_cancel_rc(m, c, &err);
            else
                rc = m_closed_rc(m, c->chcause,
                                 N(m, s)->hflags & RF_CATCH, &err);
        }
        c->chst = CW_NONE;
        break;
    }
    case MW_SELECT: {
        const mp_node *sn = N(m, s);
        int kinds[5], chans[5];
        int nc = mp_sel_clauses(sn, kinds, chans);
        for (int k = 0; k < nc; k++) { /* every registration taken back */
            if (chans[k] < 0)
                continue;
            m_chan *h = &m->ch[chans[k]];
            if (kinds[k] == SK_SEND)
                m_q_remove(h->sq, &h->nsq, ci);
            else
                m_q_remove(h->rq, &h->nrq, ci);
        }
        if (sn->hflags & SF_JOB)
            m_remove_waiter(m, sn->target, ci);
        if (c->timer >= 0)
            m->timers[c->timer].live = false;
        c->timer = -1;
        bool canc = m_cancelling(m, c->cur);
        int kind = c->chst == CW_WAITING ? -1 : kinds[c->chwhich];
        if (c->chst == CW_WAITING) { /* cancelled: nothing taken */
            rc = m_cancel_rc(m, c, &err);
        } else if (kind == SK_AWAIT) {
            /* a failure even if cancelled (rule 16), then the caller's
             * cancellation, then the job's, then its value */
            rc = m_await_outcome(m, c, sn->target, &err, &val);
            if (rc >= 0)
                rc = c->chwhich;
        } else if (c->chst == CW_DONE &&
                   (kind == SK_RECV || kind == SK_CATCH)) {
            if (canc) { /* prompt cancellation */
                m_emit(m, EV_UNDEL, c->chval, 0, -1, -1);
                rc = m_cancel_rc(m, c, &err);
            } else {
                rc = c->chwhich;
                val = c->chval;
            }
        } else if (c->chst == CW_DONE) { /* sent, joined, or timed out */
            rc = canc ? m_cancel_rc(m, c, &err) : c->chwhich;
        } else if (c->chst == CW_CANCELLED) { /* SEND: channel cancelled */
            m_emit(m, EV_UNDEL, s, 0, -1, -1);
            rc = canc ? m_cancel_rc(m, c, &err)
                      : m_closed_rc(m, c->chcause, false, &err);
        } else if (canc) {
            rc = m_cancel_rc(m, c, &err);
        } else if (kind == SK_CATCH) { /* closed: a result, not an error */
            int e = -1;
            val = mp_closed_val(m_closed_rc(m, c->chcause, true, &e));
            rc = c->chwhich;
        } else {
            rc = m_closed_rc(m, c->chcause, false, &err);
        }
        c->chst = CW_NONE;
        break;
    }
    case MW_LOCK:
        if (c->mxg && !m_cancelling(m, c->cur)) {
            c->mxg = false;
            m_push_frame(c, s, c->cur);
            m_exec(m, ci);
            return;
        }
        if (c->mxg)
            m_unlock(m, c->wait_target); /* prompt cancellation: passed on */
        else
            m_q_remove(m->sy[c->wait_target].q, &m->sy[c->wait_target].nq,
                       ci);
        c->mxg = false;
        rc = m_cancel_rc(m, c, &err);
        break;
    case MW_FD: {
        m_pipe *q = &m->pipes[c->wait_target];
        m->fd_pending--;
        if (q->reader == ci) { /* still armed: disarmed (EPOLL_CTL_DEL) */
            q->reader = -1;
            m_unlist(m, c->wait_target);
        }
        int st = c->chst;
        c->chst = CW_NONE;
        if (m_cancelling(m, c->cur)) {
            rc = m_cancel_rc(m, c, &err); /* nothing read */
        } else if (st == CW_CLOSED) {
            rc = -EBADF; /* kin_close while waiting */
        } else if (m_fd_read(m, ci, s, &rc, &err, &val) == ST_SUSPENDED) {
            return; /* another read took the message: waits again */
        }
        break;
    }
    case MW_EPI:
        c->done = true;
        c->err = c->epi_err;
        m_body_done(m, ci, c->epi_ret, c->epi_err);
        return;
    default:
        fprintf(stderr, "model: resumed coroutine #%d not waiting\n", ci);
        abort();
    }
    m_result(m, ci, s, rc, err, val);
    m_exec(m, ci);
}

/* ---- The loop --------------------------------------------------------------------------------- */

static void m_fire_timer(m_model *m, int t) {
    m_timer *tm = &m->timers[t];
    tm->live = false;
    if (tm->sel) { /* a select's TIMEOUT clause claims it if still free */
        m_co *c = &m->cos[tm->who];
        if (c->wait == MW_SELECT && c->chst == CW_WAITING) {
            int kinds[5], chans[5];
            c->chst = CW_DONE;
            c->chwhich = mp_sel_clauses(N(m, c->stmt), kinds, chans) - 1;
            m_wake(m, tm->who);
        }
    } else if (tm->is_timeout) {
        /* rule 9: the block is cancelled with its own timeout */
        m_cancel_job(m, tm->who, J(m, tm->who)->timeout_err);
    } else {
        m_wake(m, tm->who);
    }
}

/* Runs the program; returns M_OK, M_STUCK, M_AMBIGUOUS or M_TOO_LONG.
 * virtual_time: kin runs it with kin_run_test (timers due at the same
 * instant are fine), else on the wall clock (they are not: M_AMBIGUOUS). */
MP_FN int m_run(m_model *m, const mp_prog *p, bool virtual_time,
                int64_t max_ticks) {
    memset(m, 0, offsetof(m_model, jobs));
    m->virtual_time = virtual_time;
    m->nerr = m->qhead = m->qtail = m->ntimers = m->nev = 0;
    m->rb_rc = 0;
    m->rb_err = -1;
    m->steps = 0;
    m->pending = 0;
    m->ncbq = 0;
    memset(m->slot, 0, sizeof m->slot);
    memset(m->ch, 0, sizeof m->ch);
    for (int i = 0; i < MP_CH_TABLE; i++) {
        m->ch[i].cause = -1;
        m->ch[i].producer = -1;
    }
    for (int i = 0; i < p->nch; i++)
        m_chan_init(&m->ch[i], p->chcap[i], p->chpol[i]);
    memset(m->sy, 0, sizeof m->sy);
    m->sy[M_MUTEX].avail = 1;
    m->sy[M_MUTEX].owner = m->sy[M_SEM].owner = -1;
    m->sy[M_SEM].avail = p->permits;
    m->unpredictable = false;
    memset(m->pipes, 0, sizeof m->pipes);
    for (int i = 0; i < MP_MAX_PIPES; i++)
        m->pipes[i].reader = -1;
    m->nready = m->fd_pending = m->picks = 0;
    m->p = p;
    m->max_ticks = max_ticks;
    for (int i = 0; i < p->n; i++) {
        m->jobs[i].exists = false;
        m->cos[i].exists = false;
    }
    m_job_create(m, 0, MJ_CORO, -1, false);
    J(m, 0)->blocking = true; /* run_blocking: its failure is its result */
    J(m, 0)->co = 0;
    m_co *root = &m->cos[0];
    memset(root, 0, sizeof *root);
    root->exists = true;
    root->err = -1;
    m_enqueue(m, 0);
    for (;;) {
        while (m->qhead != m->qtail && !m_final(J(m, 0)->state)) {
            int ci = m->queue[m->qhead];
            m->qhead = (m->qhead + 1) % (MP_MAX_NODES + 1);
            if (++m->steps > 10000000)
                return m->status = M_STUCK;
            if (m->fd_pending > 0 && ++m->picks >= 40)
                m->unpredictable = true; /* kin may poll meanwhile */
            m_turn(m, ci);
            if (m->unpredictable)
                return m->status = M_AMBIGUOUS;
            if (m->qhead == m->qtail && m->fd_pending > 0 && m_poll(m) > 0)
                continue; /* the queue drained: kin looks at the fds */
        }
        if (m_final(J(m, 0)->state))
            break;
        /* Nothing runnable: the clock moves to the next live timer. */
        int best = -1, ties = 0;
        for (int t = 0; t < m->ntimers; t++) {
            if (!m->timers[t].live)
                continue;
            if (best < 0 || m->timers[t].deadline < m->timers[best].deadline) {
                best = t;
                ties = 0;
            } else if (m->timers[t].deadline == m->timers[best].deadline) {
                ties++;
            }
        }
        if (best < 0)
            return m->status = M_STUCK;
        if (ties && !m->virtual_time)
            return m->status = M_AMBIGUOUS;
        m->now = m->timers[best].deadline;
        if (m->now > m->max_ticks)
            return m->status = M_TOO_LONG;
        /* Every timer due now fires before anything runs, in the order
         * they were armed (kin.h kin_run_test; kotlinx-coroutines-test
         * orders its events by time, then by arming order, too). On a real
         * clock there is no such tie: the program was rejected above. */
        for (int t = best; t < m->ntimers; t++)
            if (m->timers[t].live && m->timers[t].deadline == m->now)
                m_fire_timer(m, t);
    }
    /* kin_run_blocking runs the coroutines still queued once each, up to
     * their next suspension (kin.h); anything left after that would outlive
     * the program: rejected. */
    int nq = (m->qtail - m->qhead + MP_MAX_NODES + 1) % (MP_MAX_NODES + 1);
    for (int i = 0; i < nq; i++) {
        int ci = m->queue[m->qhead];
        m->qhead = (m->qhead + 1) % (MP_MAX_NODES + 1);
        m_turn(m, ci);
    }
    for (int i = 0; i < p->n; i++)
        if (m->jobs[i].exists && !m_final(m->jobs[i].state))
            return m->status = M_LEAKY;
    int cause = J(m, 0)->final_cause;
    m->rb_rc = cause < 0 ? 0 : m->errs[cause].code;
    m->rb_err = cause;
    return m->status = M_OK;
}

/* After M_STUCK: turns each "forever" delay that some coroutine is stuck in
 * into delay(0) (or, in a timed program, a few ticks), and each suspension
 * by hand that nothing resumed into one that resumes itself at once
 * (HF_FAST: its later resumes get KIN_EALREADY), so that the program can
 * finish. Returns how many it changed (0: the program cannot be repaired
 * this way). The caller runs the model again. */
MP_FN int m_repair(const m_model *m, mp_prog *p, unsigned salt) {
    int changed = 0;
    for (int c = 0; c < p->n; c++) {
        const m_co *co = &m->cos[c];
        if (co->exists && co->started && !co->done &&
            co->wait == MW_SUSPEND && m->slot[co->stmt] == SL_WAITING) {
            p->nodes[co->stmt].hflags |= HF_FAST;
            changed++;
            continue;
        }
        if (co->exists && co->started && !co->done &&
            (co->wait == MW_SEND || co->wait == MW_RECV ||
             co->wait == MW_SELECT) &&
            co->chst == CW_WAITING) { /* never suspends again */
            if (co->wait == MW_SELECT && (p->more || p->chx)) {
                /* a TIMEOUT(0) clause: it never waits */
                p->nodes[co->stmt].hflags |= SF_TMO;
                p->nodes[co->stmt].ticks = 0;
                changed++;
                continue;
            }
            p->nodes[co->stmt].op =
                co->wait == MW_SEND ? OP_TRY_SEND : OP_TRY_RECEIVE;
            changed++;
            continue;
        }
        if (co->exists && co->started && !co->done && co->wait == MW_FD) {
            p->nodes[co->stmt].op = OP_YIELD; /* nothing is ever written */
            changed++;
            continue;
        }
        if (co->exists && co->started && !co->done && co->wait == MW_LOCK &&
            !co->mxg) {
            p->nodes[co->stmt].hflags |= HF_TRY;
            changed++;
            continue;
        }
        if (!co->exists || !co->started || co->done || co->wait != MW_DELAY)
            continue;
        mp_node *n = &p->nodes[co->stmt];
        if (n->ticks != MP_INF)
            continue;
        n->ticks = (int16_t)(p->timed ? 1 + (int)((salt + (unsigned)c) % 6) : 0);
        changed++;
    }
    return changed;
}

/* ---- Descriptions, for comparing with kin ---------------------------------------------------------- */

static int m_cmp_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

/* "F12{F3,F7}" for a failure raised by FAIL node 12 with two suppressed
 * failures (sorted), "CANCELLED" / "TIMEDOUT" for cancellations, "E<code>"
 * otherwise. */
MP_FN void m_desc(const m_model *m, int e, char *buf, size_t len) {
    if (e < 0) {
        snprintf(buf, len, "-");
        return;
    }
    const m_err *x = &m->errs[e];
    if (x->code == KIN_ECANCELED) {
        snprintf(buf, len, "CANCELLED");
        return;
    }
    if (x->code == KIN_ETIMEDOUT) {
        snprintf(buf, len, "TIMEDOUT");
        return;
    }
    if (x->kind != ME_FAIL) {
        snprintf(buf, len, "E%d", x->code);
        return;
    }
    int ids[MP_MAX_COROS], n = 0;
    for (int i = 0; i < x->nsupp; i++)
        ids[n++] = m->errs[x->supp[i]].kind == ME_FAIL
                       ? m->errs[x->supp[i]].node
                       : -1;
    qsort(ids, (size_t)n, sizeof ids[0], m_cmp_int);
    size_t o = (size_t)snprintf(buf, len, "F%d", x->node);
    for (int i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? ",F" : "{F",
                              ids[i]);
    if (n && o < len)
        snprintf(buf + o, len - o, "}");
}

#endif
