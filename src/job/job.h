/*
 * job.h — the job record and the job state machine.
 *
 * GLOSSARY
 *   job        a node of the tree: a coroutine (launch, async, run_blocking),
 *              a scope (coroutine_scope, supervisor_scope, with_timeout,
 *              non_cancellable: a job whose body runs in place inside a
 *              coroutine), or a root (the job of a scope object).
 *   coroutine  a job with a body, a stack and a saved context. Its fields
 *              live in the same record (one slot, one allocation).
 *   cur        the innermost job of a running coroutine: where kin_launch
 *              attaches children and whose cancellation its suspension
 *              points report. A coroutine's cur is itself, or the innermost
 *              scope it is running the body of.
 *
 * RECORD LIFETIME (slot.c)
 *   Records live in a table of type-stable slots that are never unmapped, so
 *   a stale kin_job {index, generation} can always be checked safely. A
 *   record is reclaimed when its reference count drops to zero; then its
 *   generation is bumped and every old handle reads as stale. References:
 *     tree     from creation until the job has completed and left its parent
 *     coro     a coroutine's, until its stack is released (or it completes
 *              without ever starting)
 *     handle   one per kin_job handed out with ownership (kin.h rule L2)
 *     caller   taken by every API call for its duration, and by a scope
 *              function for the scope it runs
 *
 * STATE MACHINE (the table of kin.h and DESIGN.md section 1)
 *
 *     NEW --start--> ACTIVE --body ok--> COMPLETING --last child--> COMPLETED
 *      |               |                    |
 *      | cancel        | cancel, failure    | cancel, child failure
 *      v               v                    v
 *     CANCELLED <--- CANCELLING <-----------+
 *               body done and last child done
 *
 *   A job completes ("finalizes") when its body is done and it has no active
 *   children. The final cause is its first failure if it had one, else its
 *   first cancellation (DESIGN rule 13); later failures are kept in the job
 *   and attached to the first as suppressed, once each, when it finalizes
 *   (before anyone sees it final). A job becoming CANCELLING cancels all its
 *   children at once (rule 2); a failure also cancels the parent at once
 *   unless the parent is a supervisor or the job is a scope (rules 3, 5, 14).
 *   Finalization runs the exception handler if no parent took the failure
 *   (rule 7), publishes the final state, wakes waiters, runs completion
 *   handlers, releases the handles the job owned and tells the parent, which
 *   may finalize in turn (iteratively, never recursively).
 *
 * WHO GUARDS WHAT
 *   - Fields marked [immutable] are written before the record is published
 *     (linked into a parent or handed out) and only read afterwards.
 *   - [lock] fields are guarded by the job's own spinlock.
 *   - [parent lock] fields by the parent's lock; [owner lock] by the owner's.
 *   - [coro] fields belong to the thread the coroutine runs on (its home
 *     worker); other threads touch only the atomics park and cancel_wake.
 *   - state is written under the lock and read anywhere (atomic).
 *
 * LOCK ORDER: a parent's lock before its child's lock, never the reverse; no
 *   other lock is held while a job lock is taken, except the chain of job
 *   locks from an ancestor down that cancel_tree holds. Completing a child
 *   releases the child's lock before taking the parent's. Worker queues are
 *   lock-free and may be pushed to while holding job locks; the worker's
 *   sleep mutex is a leaf.
 */
#ifndef KIN_JOB_H
#define KIN_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/lock.h"
#include "kin.h"
#include "sched/coro.h"
#include "sched/scheduler.h"

typedef struct kin__job kin__job;

/* A job's later failures, in arrival order, each once and retained. */
typedef struct kin__later {
    uint32_t n, cap;
    kin_error *e[];
} kin__later;

enum kin__kind {
    KIN__COROUTINE = 0,
    KIN__SCOPE = 1,
    KIN__PLAIN = 2, /* no body (Kotlin's Job()): a scope object's root,
                       kin_job_new, kin_deferred_new */
};

/* What a suspended coroutine waits for (kin_dump). */
enum kin__wait_kind {
    KIN__W_NONE = 0,
    KIN__W_DELAY,     /* dbg_until */
    KIN__W_JOIN,      /* dbg_target */
    KIN__W_AWAIT,     /* dbg_target */
    KIN__W_JOIN_ALL,
    KIN__W_AWAIT_ALL,
    KIN__W_CHILDREN,  /* a scope function waiting for its children */
    KIN__W_CONTEXT,   /* with_context: the block on another dispatcher */
    KIN__W_CLOSE,     /* kin_scope_close */
    KIN__W_YIELD,
    KIN__W_SUSPEND,   /* kin_suspend: suspended by hand (job/suspend.c) */
    KIN__W_FD,        /* kin_wait_fd and the io calls: dbg_target = fd,
                         dbg_until = the timeout's end or 0 (io/fd.c) */
    KIN__W_CHAN_SEND, /* dbg_target = the channel's slot index (sync/) */
    KIN__W_CHAN_RECV, /* dbg_target = the channel's slot index */
    KIN__W_SELECT,    /* dbg_target = the number of clauses */
    KIN__W_MUTEX,     /* dbg_target = the mutex's slot index */
    KIN__W_SEMAPHORE, /* dbg_target = the semaphore's slot index */
};

enum kin__flag {
    KIN__F_SUPERVISOR = 1u << 0, /* children's failures don't cancel it */
    KIN__F_ASYNC = 1u << 1,      /* keeps a result; never calls a handler */
    KIN__F_SCOPED = 1u << 2,     /* its failure goes back to the caller */
    KIN__F_NONCANCEL = 1u << 3,  /* a non-cancellable section */
    KIN__F_BLOCKING = 1u << 4,   /* the coroutine of kin_run_blocking */
    KIN__F_SCOPE_OBJ = 1u << 5,  /* the root of a scope object */
    /* A plain job that takes its children's failures without handling
     * them (Kotlin's JobImpl.handlesException false: no ancestor is a
     * coroutine), so a failing child still reports to its handler. */
    KIN__F_UNHANDLED = 1u << 6,
    /* kin_produce's coroutine: kin__producer_done closes its channel as it
     * completes (below). */
    KIN__F_PRODUCER = 1u << 7,
};

/* An upcall (as sched/coro.h's), defined in sync/produce.c: a producer j
 * (KIN__F_PRODUCER) completes with cause (NULL: normally). Closes its
 * channel with cause, before j's state is final and anyone waiting for j
 * resumes, and drops the producer's hold on the channel: kotlinx's
 * ProducerCoroutine.onCompleted / onCancelled, run in
 * finalizeFinishingState. Returns true if the close carried cause into
 * the channel (it was open), false if the channel was closed already:
 * only then does an unhandled failure go to an exception handler.
 * Called by finalize, with no lock held. */
bool kin__producer_done(kin__job *j, kin_error *cause);

/* A completion-list node: a waiter (on the waiting coroutine's stack, or the
 * loop of kin_run_blocking) or a completion handler (malloc'd). Waiter nodes
 * are fired under the job's lock, so a waiter that gives up takes the lock
 * to unlink itself and then knows nobody touches its node any more. */
typedef struct kin__node kin__node;
struct kin__node {
    kin__node *next, *prev;
    /* Called under the job's lock when the job completes; NULL for a user
     * completion handler (called after the lock is released). */
    void (*fire)(kin__node *n, kin__job *job);
    atomic_bool fired;
    bool linked;
    /* Fire after the job's completion handlers, outside its lock, as Kotlin
     * resumes a scope's caller after them. Only for a waiter that nobody
     * else unlinks (a scope's caller waits without cancellation). */
    bool after_handlers;
    kin_completion_fn fn; /* user completion handler */
    void *arg;
    /* A user handler that runs when the job starts cancelling (or, if it
     * never does, when it completes): Kotlin's onCancelling = true. */
    bool on_cancelling;
    uint32_t id; /* names it for kin_dispose; 0: not disposable */
};

struct kin__job {
    /* ---- identity (slot.c): kept when the record is reclaimed ---- */
    _Atomic uint64_t refgen; /* generation << 32 | reference count */
    uint32_t idx;            /* [immutable] slot index */
    /* Kept, not zeroed, when the record is reclaimed: a thread may take
     * the lock of a record it holds no reference to (kin__job_disown takes
     * its owner's, which may be completing and reclaimed meanwhile; the
     * slots are type-stable). Zeroing it under such a holder would let the
     * record's next job take it too, and the stale holder's release would
     * then unlock the new job's lock. Free (0) whenever nobody holds it. */
    kin__lock lock;

    /* ---- everything below is zero in a free record (slot.c) ---- */
    uint8_t kind;    /* [immutable] enum kin__kind */
    uint8_t flags;   /* [immutable] enum kin__flag */
    uint8_t start;   /* [immutable] kin_start_mode */
    bool registered; /* a root in the registry (registry.c) */
    atomic_int state; /* kin_state; written under lock */
    bool body_done;   /* [lock] */
    bool finalizing;  /* [lock] finalize() has been claimed */
    bool never_ran;   /* [lock] cancelled while NEW: drop coro ref */
    bool handlers_running; /* [lock] final, completion handlers not yet run:
                            * after_handlers nodes still wait */
    uint32_t active;  /* [lock] children not yet completed */
    uint32_t node_ids;     /* [lock] the last kin__node.id given out */
    uint32_t n_cancelling; /* [lock] on_cancelling handlers linked */

    /* Hot when spawning and completing: the first lines. */
    kin__job *parent;         /* [immutable] NULL for roots */
    kin__job *coro;           /* [immutable] coroutine running the body */
    kin__job *fin_next;       /* job.c's list of jobs to finalize */
    kin__job *due_next;       /* job.c's per-thread list of jobs whose
                                 on_cancelling handlers are due */
    /* The coroutine as the scheduler sees it (sched/coro.h): context, stack,
     * home worker, park word, run-queue link and the dispatcher. Scopes and
     * roots use only its dispatcher (what their children inherit). */
    kin__coro sched;
    union {
        kin_fn fn;
        kin_async_fn afn;
    } body; /* [immutable] */
    void *arg;
    kin__job *cur;     /* [coro] innermost job */
    union {            /* a root has no siblings: the registry links instead */
        struct {
            kin__job *sib_prev, *sib_next; /* [parent lock] */
        };
        struct {
            kin__job *reg_prev, *reg_next; /* [registry mu] */
        };
    };
    kin__job *child_head; /* [lock] children in launch order */
    kin__job *child_tail;
    kin__node *nodes_head; /* [lock] completion list, registration order */
    kin__node *nodes_tail;
    _Atomic(kin__job *) cancel_wake; /* cur while in a cancellable wait */
    kin_handler_fn handler; /* [immutable] inherited exception handler */
    void *handler_arg;
    uint64_t seq; /* [immutable] the #id of messages */

    /* Colder: failures, results, handles, names. */
    /* [lock] for writes, each set once (NULL -> error, release store); read
     * without the lock with acquire loads. */
    _Atomic(kin_error *) cause;   /* first cause */
    _Atomic(kin_error *) failure; /* first failure */
    struct kin__later *later; /* [lock] failures after the first, attached
                               * to it as suppressed when the job completes */
    kin_error *cancel_self; /* [lock] what its own suspension points see */
    kin_error *cancel_kids; /* [lock] what its children are cancelled with */
    void *result;           /* async value: written by the body before it
                               completes, read after completion */
    void (*result_free)(void *);
    kin__job *outer;      /* [immutable] scopes: the cur they interrupted */
    kin__job *owned_head; /* [lock] handles this job owns (L2) */
    kin__job *owner;      /* [immutable] who owns the handle */
    kin__job *own_prev, *own_next; /* [owner lock] */
    atomic_bool handle_held;       /* [owner lock] if owner, else atomic */
    bool zombie_owns_tree;         /* finalized on its own stack: the zombie
                               release drops the tree reference too */
    char *name;                    /* [immutable] malloc'd copy, or NULL */
    const char *site_file; /* [immutable] where it was launched (debug) */
    int site_line;

    /* ---- for kin_dump (dump.c): set by the coroutine, read by anyone;
     * relaxed atomics, since a dump is a snapshot ---- */
    _Atomic uint8_t dbg_wait;    /* enum kin__wait_kind */
    _Atomic int64_t dbg_until;   /* delay: the deadline, ns */
    _Atomic uint64_t dbg_target; /* the job waited for (a kin_job id) */

    /* ---- suspending by hand: kin_suspend (job/suspend.c, design there).
     * susp_word is seq << 4 | phase | callback flag: the coroutine's
     * suspension number and how that suspension stands. Other threads
     * change it only under susp_lock, a leaf lock (taken under job locks
     * by a canceller, never the reverse); the coroutine itself starts a new
     * suspension with a plain store. susp_rec is the record of the current
     * suspension, on the coroutine's stack: read and written by others
     * only under susp_lock while the suspension is still waiting. ---- */
    _Atomic uint64_t susp_word;
    kin__lock susp_lock;
    struct kin__susp *susp_rec;
};

/* The job a scheduler record is embedded in. */
static inline kin__job *kin__job_of(kin__coro *co) {
    return (kin__job *)((char *)co - offsetof(kin__job, sched));
}

/* The job of the coroutine running on this thread, or NULL in plain code. */
static inline kin__job *kin__running_job(void) {
    kin__coro *co = kin__current_coro();
    return co ? kin__job_of(co) : NULL;
}

/* Notes what co is about to wait for, for kin_dump (three plain stores). */
static inline void kin__dbg_wait(kin__job *co, int kind, uint64_t target,
                                 int64_t until) {
    atomic_store_explicit(&co->dbg_target, target, memory_order_relaxed);
    atomic_store_explicit(&co->dbg_until, until, memory_order_relaxed);
    atomic_store_explicit(&co->dbg_wait, (uint8_t)kind, memory_order_relaxed);
}

/* The same for kinds whose dump line has no deadline (dbg_until is not
 * read for them), and its end: two stores and one, on hot waits. */
static inline void kin__dbg_wait_on(kin__job *co, int kind, uint64_t target) {
    atomic_store_explicit(&co->dbg_target, target, memory_order_relaxed);
    atomic_store_explicit(&co->dbg_wait, (uint8_t)kind, memory_order_relaxed);
}

static inline void kin__dbg_wait_over(kin__job *co) {
    atomic_store_explicit(&co->dbg_wait, KIN__W_NONE, memory_order_relaxed);
}

/* kin__error_set for co, the coroutine running on this thread (whose
 * current-error slot is its own): takes over the reference to e. */
static inline void kin__job_set_error(kin__job *co, kin_error *e) {
    kin_error *old = co->sched.error;
    co->sched.error = e;
    if (old)
        kin__error_unref(old);
}

/* ---- slot.c ---- */

/* Allocates a cleared record with `refs` references. NULL if out of memory.*/
kin__job *kin__job_alloc(uint32_t refs);
void kin__job_ref(kin__job *j);
void kin__job_unref(kin__job *j);
/* Takes a reference through a handle; NULL with *err set (KIN_EINVAL for a
 * zero or foreign handle, KIN_ESTALE for a reclaimed record). */
kin__job *kin__job_acquire(kin_job h, int *err);
static inline kin_job kin__job_handle(kin__job *j) {
    uint64_t gen = atomic_load_explicit(&j->refgen, memory_order_relaxed) >> 32;
    kin_job h = {(gen << 32) | j->idx};
    return h;
}
/* Next display id (per-thread blocks of a global counter). */
uint64_t kin__job_next_seq(void);

/* ---- job.c ---- */

static inline int kin__job_state(kin__job *j) {
    return atomic_load_explicit(&j->state, memory_order_acquire);
}
static inline bool kin__state_cancelled(int s) {
    return s == KIN_STATE_CANCELLING || s == KIN_STATE_CANCELLED;
}
static inline bool kin__state_final(int s) {
    return s == KIN_STATE_CANCELLED || s == KIN_STATE_COMPLETED;
}
/* Used at suspension points: seq_cst pairs with cancel_tree's store, see
 * kin__job_wait in coroutine.c. */
static inline bool kin__job_is_cancelling(kin__job *j) {
    return kin__state_cancelled(atomic_load(&j->state));
}

/* A cancellable wait of co in its current job cur publishes cur in
 * cancel_wake before it checks for cancellation (CANCELLABLE WAITS in
 * coroutine.c). The seq_cst store is a locked instruction (~9 ns here);
 * it is skipped when cancel_wake already holds cur, which is as good: the
 * earlier seq_cst store precedes our check in the total order. The waits
 * leave it set, so a loop of waits in one job stores once. */
static inline void kin__job_publish_wait(kin__job *co, kin__job *cur) {
    if (atomic_load_explicit(&co->cancel_wake, memory_order_relaxed) != cur)
        atomic_store(&co->cancel_wake, cur);
}

/* Links a new job (not yet visible to anyone) under parent and sets its
 * initial state: NEW if lazy, else ACTIVE, or CANCELLING with the parent's
 * cause if the parent is cancelling. Under a final parent (cancelled, or
 * completed: "Parent job is Completed") it is born CANCELLING and left
 * unlinked, a root of its own (Kotlin makes it the same way). Returns 0.
 * parent may be NULL (a root). */
int kin__job_attach(kin__job *j, kin__job *parent, bool lazy);

/* kin__job_attach (not lazy) then, with `own`, kin__job_own(j, parent),
 * for a new coroutine whose parent is the caller's current job: while
 * that runs its body (the usual case), in one lock round of the parent. */
void kin__job_attach_running(kin__job *j, kin__job *parent, bool own);

/* Records the owner of a handle (the caller's reference becomes the handle
 * reference). owner may be NULL (a handle nobody releases automatically). */
void kin__job_own(kin__job *j, kin__job *owner);

/* Drops an owned handle; KIN_ESTALE if it was not held. */
int kin__job_disown(kin__job *j);

/* NEW -> ACTIVE. Returns true if this call started it. */
bool kin__job_start(kin__job *j);

/* Finalizes j if its body is done and it has no active children (used after
 * kin__job_attach made a lazy job under a cancelling parent). */
void kin__job_settle(kin__job *j);

/* The body of j returned rc; err is the current error of its coroutine
 * (borrowed). Moves j towards completion and finalizes it if it has no
 * active children. */
void kin__job_body_done(kin__job *j, int rc, kin_error *err);

/* Cancels j and all its descendants with cause (a cancellation or, from a
 * child or a timer, any error); takes over the reference to cause. */
void kin__job_cancel(kin__job *j, kin_error *cause);

/* For roots (scope objects): cancels and marks the body done, so the root
 * completes once its children have. */
void kin__root_cancel(kin__job *j, kin_error *cause);

/* The cancellation a suspension point of j's body reports (a new
 * reference); j must be cancelling. */
kin_error *kin__job_cancel_error(kin__job *j);

/* Adds n to j's completion list. Returns false (nothing added) if j has
 * already completed. */
bool kin__job_add_node(kin__job *j, kin__node *n);

/* For a scope's caller that found j (its block's job) already complete:
 * returns once j has also left its parent. A completing job publishes its
 * final state first and unlinks from its parent just after (no user code
 * in between), perhaps on another thread; a caller that ran on in that gap
 * could finish its own body while j was still its child, and its own
 * completion would then run on j's thread. */
void kin__job_wait_left_parent(kin__job *j);

/* Unlinks n if it is still linked (after a waiter gave up). */
void kin__job_remove_node(kin__job *j, kin__node *n);

/* The final cause of a completed job (borrowed; NULL on success). */
kin_error *kin__job_final_cause(kin__job *j);

/* The name without the #id: the given one, or one for the job's kind. */
const char *kin__job_base_name(const kin__job *j);

/* Makes j's name a copy of name (at most 63 bytes); NULL keeps the kind's
 * name. Returns false if out of memory (then j has no name). */
bool kin__job_set_name(kin__job *j, const char *name);

/* The name given to j or, inherited, to its nearest enclosing job that has
 * one (a coroutine's kin_launch_opts.name, a scope object's name), as a
 * CoroutineName is inherited in Kotlin; NULL if none. j must be running
 * (its ancestors are then alive). */
const char *kin__job_given_name(kin__job *j);

/* Drops a list of later failures that was never attached (a record
 * reclaimed without finalizing). */
void kin__later_free(kin__later *l);

/* Fills buf with "name#seq". */
void kin__job_display_name(kin__job *j, char *buf, size_t len);

/* True if `target` is cur or one of its ancestors (a wait on it from cur
 * would never end). */
bool kin__job_is_self_or_ancestor(kin__job *cur, kin__job *target);

/* Adds a user completion handler n (malloc'd; fn, arg, on_cancelling set)
 * and gives it an id for kin__job_dispose_node. Returns that id (> 0) if
 * added, after which n may be run and freed by another thread at any
 * moment; 0 if it must be called now instead, with *cause (a new
 * reference, NULL for success): j has completed, or n is on_cancelling and
 * j is cancelling. */
uint32_t kin__job_add_handler(kin__job *j, kin__node *n, kin_error **cause);

/* Removes and frees the user handler with this id if it has not run yet.
 * True if it was removed. */
bool kin__job_dispose_node(kin__job *j, uint32_t id);

/* Completes a plain job by hand (kin_job_complete and friends): its body
 * counts as done, with success (failure NULL; value kept for a deferred)
 * or with failure (a reference taken over). Returns true if this call
 * completed it, false if it was already completing, cancelling or done. */
bool kin__job_complete(kin__job *j, void *value, kin_error *failure);

/* Cancels j's children, not j, with cause (a reference taken over). */
void kin__job_cancel_children(kin__job *j, kin_error *cause);

/* ---- handler.c: uncaught failures and failing handlers ---- */

/* Sends failure to fn (the context's exception handler), else to the
 * default handler; a handler that fails has its failure reported on. */
void kin__report_uncaught(kin_job job, kin_handler_fn fn, void *arg,
                          const kin_error *failure);
/* The default handler (kin_set_default_handler's, else stderr). */
void kin__default_handler(kin_job job, const kin_error *failure);
/* Calls the completion handler n of j; a failure it reports is gathered
 * into *gathered (one CompletionHandlerException per notification). */
void kin__call_completion(kin__job *j, kin_job h, kin__node *n,
                          const kin_error *cause, kin_error **gathered);
/* Reports what kin__call_completion gathered (if anything) once, as an
 * uncaught failure of j; takes over the reference. */
void kin__report_completion_failure(kin__job *j, kin_error *gathered);
/* Registers the completion handler n (malloc'd, fn/arg/on_cancelling set)
 * on j, whose handle is h, or, if j is already past the point where it
 * would run, calls it now and frees it. Never fails: a caller that must
 * not fail after some step allocates n before it. Returns the id for
 * kin__job_dispose_node, or 0 if n ran at once. */
uint32_t kin__job_watch(kin__job *j, kin_job h, kin__node *n);

/* ---- coroutine.c: the job layer's side of a coroutine ---- */

/* Suspends the coroutine of job co until *fired is set or, if cancellable,
 * until its current job is cancelled. May return spuriously only when one
 * of those holds; the caller cleans up what it registered. */
void kin__job_wait(kin__job *co, atomic_bool *fired, bool cancellable);

/* A waker that publishes a waiter's result (a flag on the waiter's stack)
 * and then wakes it must keep the waiter's job record alive in between:
 * once the flag is visible, a waiter on another thread may return, finish
 * and have its record reclaimed before kin__wake runs. A waiter that lives
 * on the waker's own thread cannot run in between (the thread is busy
 * here: kin__job_wakes_here); any other is held with a reference.
 * kin__job_hold_for_wake says
 * whether it took one (call it where registering the waiter happened
 * before: under the lock it registered under); kin__job_wake_waiter does
 * the whole hand-over for a flag. */
static inline bool kin__job_wakes_here(kin__job *co) {
    /* inline: every channel hand-off asks (ping-pong is two per round) */
    return co->sched.home == kin__worker_peek() &&
           co->sched.dispatcher->kind != KIN__DISP_UNCONFINED;
}
static inline bool kin__job_hold_for_wake(kin__job *co) {
    if (kin__job_wakes_here(co))
        return false;
    kin__job_ref(co);
    return true;
}
void kin__job_wake_waiter(kin__job *co, atomic_bool *fired);

/* A completion-list node that stops w's kin__run_loop when fired; the loop
 * runs while n->fired reads false. */
void kin__loop_node_init(kin__node *n, kin__worker *w);

#endif
