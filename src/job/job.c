/*
 * job.c — the job state machine: causes, cancellation of a tree, failure
 * propagation, completion. See job.h for the states, the guards and the lock
 * order; this file is where those rules are carried out.
 *
 * Three paths move a job:
 *   kin__job_body_done   its body returned (ok, cancelled or failed)
 *   kin__job_cancel      somebody cancelled it, or a child failed, or a timer
 *   finalize             body done and no active children: complete it
 * Each takes job locks only parent-before-child. Work that would need a lock
 * against that order (finalizing a job found while holding its parent's
 * lock) is put on a "deferred" list and done after the locks are released.
 *
 * LAYER: job (src/job/README.md). Calls down into sched/ to wake waiting
 * coroutines (kin__wake) and never includes api/; the scheduler reaches
 * this layer only through the functions sched/coro.h declares.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/kin_assert.h"
#include "job/job.h"
#include "job/registry.h"
#include "job/suspend.h"
#include "sched/scheduler.h"

/* ---- Causes ---------------------------------------------------------------*/

/* Keeps e (retained) in j's list of later failures, once by identity.
 * Out of memory drops it, as attaching it would. Out of line: rare, and it
 * would make record_cause_locked's callers save registers. */
static __attribute__((noinline, cold)) void add_later_locked(kin__job *j,
                                                             kin_error *e) {
    KIN__ASSERT_HELD(&j->lock);
    kin__later *l = j->later;
    uint32_t n = l ? l->n : 0;
    for (uint32_t i = 0; i < n; i++)
        if (l->e[i] == e)
            return;
    if (!l || l->n == l->cap) {
        uint32_t cap = l ? l->cap * 2 : 4;
        kin__later *g = kin__realloc(l, sizeof *g + cap * sizeof g->e[0]);
        if (!g)
            return;
        g->n = n;
        g->cap = cap;
        j->later = l = g;
    }
    l->e[l->n++] = kin_error_retain(e);
}

/* Attaches the later failures to the first, in arrival order, and frees
 * the list: done when the job finalizes, before its final state is
 * published (kotlinx adds them in finalizeFinishingState). Until then the
 * family, still cancelling, sees the first failure alone. */
static void attach_later(kin_error *first, kin__later *l) {
    for (uint32_t i = 0; i < l->n; i++) {
        kin__error_add_suppressed(first, l->e[i]);
        kin_error_release(l->e[i]);
    }
    kin__free(l);
}

void kin__later_free(kin__later *l) {
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n; i++)
        kin_error_release(l->e[i]);
    kin__free(l);
}

/* Records a cause: the first cancellation and the first failure are kept;
 * later failures are kept for attach_later (once each, by identity); later
 * cancellations are dropped (DESIGN rule 13). */
static inline void record_cause_locked(kin__job *j, kin_error *cause) {
    KIN__ASSERT_HELD(&j->lock);
    kin_error *first = atomic_load_explicit(&j->cause, memory_order_relaxed);
    if (!first)
        atomic_store_explicit(&j->cause, kin__error_ref(cause),
                              memory_order_release);
    if (kin__is_cancel_code(cause->code))
        return;
    kin_error *f = atomic_load_explicit(&j->failure, memory_order_relaxed);
    if (!f)
        atomic_store_explicit(&j->failure, kin__error_ref(cause),
                              memory_order_release);
    else if (f != cause)
        add_later_locked(j, cause);
}

static inline kin_error *load_failure(kin__job *j) {
    return atomic_load_explicit(&j->failure, memory_order_acquire);
}

static inline kin_error *load_cause(kin__job *j) {
    return atomic_load_explicit(&j->cause, memory_order_acquire);
}

static kin_error *root_cause_locked(kin__job *j) {
    kin_error *f = load_failure(j);
    return f ? f : load_cause(j);
}

/* What j's children are cancelled with: j's own cancellation if it is one
 * (so children of a timed-out block see the timeout itself), else a
 * "Parent job is Cancelling" cancellation whose cause is j's failure. */
static kin_error *kids_cause_locked(kin__job *j) {
    kin_error *root = root_cause_locked(j);
    KIN__ASSERT(root);
    if (kin__is_cancel_code(root->code))
        return root;
    if (!j->cancel_kids)
        j->cancel_kids = kin__error_make(KIN_ECANCELED, "CancellationException",
                                         root, "Parent job is Cancelling");
    return j->cancel_kids;
}

kin_error *kin__job_cancel_error(kin__job *j) {
    /* The common case, a plain cancellation: both fields are set once and
     * never change, so no lock is needed to read and retain them. */
    kin_error *f = load_failure(j), *c = load_cause(j);
    if (!f && c && kin__is_cancel_code(c->code))
        return kin_error_retain(c);
    kin__lock_acquire(&j->lock);
    kin_error *root = root_cause_locked(j);
    kin_error *e;
    if (!root)
        e = kin__error_make(KIN_ECANCELED, "CancellationException", NULL,
                            "Job was cancelled");
    else if (kin__is_cancel_code(root->code))
        e = kin_error_retain(root);
    else {
        if (!j->cancel_self)
            j->cancel_self =
                kin__error_make(KIN_ECANCELED, "CancellationException", root,
                                "Job is cancelling");
        e = kin_error_retain(j->cancel_self);
    }
    kin__lock_release(&j->lock);
    return e;
}

/* ---- Marking and the tree walk ---------------------------------------------*/

static bool claim_finalize_locked(kin__job *j) {
    if (j->body_done && j->active == 0 && !j->finalizing) {
        j->finalizing = true;
        return true;
    }
    return false;
}

/* Unlinks n from j's completion list; j is locked and n linked. */
static void unlink_node_locked(kin__job *j, kin__node *n) {
    KIN__ASSERT_HELD(&j->lock);
    if (n->prev)
        n->prev->next = n->next;
    else
        j->nodes_head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        j->nodes_tail = n->prev;
    n->linked = false;
}

/* ---- on_cancelling handlers --------------------------------------------------*/

/* Jobs whose on_cancelling handlers became due on this thread: marked under
 * locks in the middle of a tree walk, run once the walk has let go of every
 * lock (run_cancelling_due, at the end of kin__job_cancel and
 * kin__job_body_done). Each entry holds a reference. */
static __thread kin__job *t_due;

static __attribute__((noinline, cold)) void
note_cancelling_due_locked(kin__job *j) {
    kin__job_ref(j);
    j->due_next = t_due;
    t_due = j;
}

/* Runs the on_cancelling handlers of one job with its cause. */
static void run_cancelling_handlers(kin__job *j) {
    kin__node *list = NULL, **tail = &list;
    kin__lock_acquire(&j->lock);
    kin__node *n = j->nodes_head;
    while (n && j->n_cancelling) {
        kin__node *next = n->next;
        if (!n->fire && n->on_cancelling) {
            unlink_node_locked(j, n);
            n->next = NULL;
            *tail = n;
            tail = &n->next;
            j->n_cancelling--;
        }
        n = next;
    }
    kin_error *cause = kin_error_retain(root_cause_locked(j));
    kin__lock_release(&j->lock);
    kin_error *failed = NULL;
    kin_job h = kin__job_handle(j);
    while (list) {
        kin__node *next = list->next;
        kin__call_completion(j, h, list, cause, &failed);
        kin__free(list);
        list = next;
    }
    kin_error_release(cause);
    kin__report_completion_failure(j, failed);
}

static __attribute__((noinline)) void run_cancelling_due_list(void) {
    while (t_due != NULL) {
        kin__job *j = t_due;
        t_due = j->due_next;
        j->due_next = NULL;
        run_cancelling_handlers(j);
        kin__job_unref(j);
    }
}

static inline void run_cancelling_due(void) {
    if (KIN__UNLIKELY(t_due != NULL))
        run_cancelling_due_list();
}

/* Records cause in j; returns true if j turned CANCELLING just now. A NEW
 * (lazy, never started) job or a root has no body left to run, so its body
 * counts as done from here on. */
static inline bool mark_cancelling_locked(kin__job *j, kin_error *cause) {
    int s = atomic_load_explicit(&j->state, memory_order_relaxed);
    if (kin__state_final(s))
        return false;
    record_cause_locked(j, cause);
    if (s == KIN_STATE_CANCELLING)
        return false;
    if (s == KIN_STATE_NEW) {
        j->body_done = true;
        j->never_ran = j->kind == KIN__COROUTINE;
    }
    if (j->kind == KIN__PLAIN)
        j->body_done = true;
    /* seq_cst: pairs with the coroutine's store to cancel_wake in
     * kin__job_wait (either it sees CANCELLING, or we see it waiting and
     * wake it). */
    atomic_store(&j->state, KIN_STATE_CANCELLING);
    /* A coroutine not yet started will ask before it runs (sched/coro.h). */
    atomic_store_explicit(&j->sched.cancel_hint, true, memory_order_relaxed);
    if (KIN__UNLIKELY(j->n_cancelling != 0))
        note_cancelling_due_locked(j);
    return true;
}

/* A job just marked cancelling whose body is done completes after the walk
 * (not queued: there is nothing left to run). */
static void defer_finalize_locked(kin__job *j, kin__job **fin) {
    if (claim_finalize_locked(j)) {
        j->fin_next = *fin;
        *fin = j;
    }
}

/* Queues j's coroutine if it is suspended in j (cancellable). Called once
 * j's subtree is marked: a family resumes its children first and itself
 * last, in Kotlin's order (a job's completion list holds its children,
 * attached when launched, before its own continuation, attached when it
 * suspended; the list is notified in order, depth first). */
static void wake_own_locked(kin__job *j) {
    kin__job *co = j->coro;
    if (co && atomic_load(&co->cancel_wake) == j) {
        /* in a kin_suspend (job/suspend.c): only then a call */
        if (kin__susp_phase(atomic_load_explicit(
                &co->susp_word, memory_order_acquire)) == KIN__SUSP_WAITING)
            kin__susp_cancel_locked(co);
        kin__wake(&co->sched);
    }
}

/* root is locked and was just marked: cancel every descendant, iteratively
 * (trees can be deep and this may run on a small coroutine stack). Holds the
 * locks along the current path, parent before child; returns with root
 * still locked. Marks in pre-order, wakes in post-order (wake_own_locked). */
static void cancel_descendants_locked(kin__job *root, kin__job **fin) {
    kin__job *node = root;
    kin__job *child = root->child_head;
    if (!child)
        return;
    /* What node's children are cancelled with: found once per node, not
     * once per child (a root may have a million children). */
    kin_error *kc = kids_cause_locked(node);
    for (;;) {
        if (child) {
            kin__lock_acquire(&child->lock);
            if (mark_cancelling_locked(child, kc)) {
                defer_finalize_locked(child, fin);
                if (child->child_head) { /* down: cancel its children */
                    node = child;
                    child = node->child_head;
                    kc = kids_cause_locked(node);
                    continue;
                }
                wake_own_locked(child); /* a leaf: marked and woken */
            }
            kin__job *next = child->sib_next;
            kin__lock_release(&child->lock);
            child = next;
            continue;
        }
        if (node == root)
            return;
        wake_own_locked(node);
        kin__job *next = node->sib_next; /* guarded by the parent's lock */
        kin__job *up = node->parent;
        kin__lock_release(&node->lock);
        node = up;
        child = next;
        kc = kids_cause_locked(node);
    }
}

/* Cancels j and its subtree with cause. Returns true if j turned
 * CANCELLING now. */
static bool cancel_tree(kin__job *j, kin_error *cause, kin__job **fin) {
    kin__lock_acquire(&j->lock);
    bool newly = mark_cancelling_locked(j, cause);
    if (newly) {
        defer_finalize_locked(j, fin);
        cancel_descendants_locked(j, fin);
        wake_own_locked(j);
    }
    kin__lock_release(&j->lock);
    return newly;
}

/* A failure made j cancelling: cancel the parents it reaches, at once
 * (DESIGN rule 3). Stops at scopes (their caller gets the failure, rule 14),
 * supervisors (rule 5), roots, and parents that were already cancelling
 * (they pass their final cause up when they complete). */
/* The walk holds a reference to each parent it reaches: a parent is alive
 * only while its child is linked to it, and once the walk has let go of the
 * child's lock another thread may finalize that child (its last child
 * completed), unlink it and let the parent complete and be reclaimed. A
 * child that is already final has offered its failure to its parent itself
 * (offer_failure_to_parent), so the walk stops there. */
static void propagate_up(kin__job *j, kin_error *failure, kin__job **fin) {
    kin__job *held = NULL; /* the job the walk holds a reference to */
    for (;;) {
        if (j->flags & (KIN__F_SCOPED | KIN__F_NONCANCEL))
            break;
        kin__lock_acquire(&j->lock);
        kin__job *p = j->parent;
        bool linked = p && !kin__state_final(atomic_load_explicit(
                               &j->state, memory_order_relaxed));
        if (linked)
            kin__job_ref(p);
        kin__lock_release(&j->lock);
        if (held)
            kin__job_unref(held);
        held = NULL;
        if (!linked)
            break;
        held = j = p;
        if ((p->flags & KIN__F_SUPERVISOR) || !cancel_tree(p, failure, fin))
            break;
    }
    if (held)
        kin__job_unref(held);
}

static void finalize(kin__job *j);
static void finalize_from(kin__job *j, bool locked, bool own_stack);
static inline bool finalize_simple_locked(kin__job *j, bool own_stack,
                                          kin__job **up);

static void run_deferred(kin__job *fin) {
    kin__susp_drain(); /* kin_suspend's on-cancel callbacks (suspend.c) */
    while (fin) {
        kin__job *next = fin->fin_next;
        fin->fin_next = NULL;
        finalize(fin);
        fin = next;
    }
}

void kin__job_cancel(kin__job *j, kin_error *cause) {
    kin__job *fin = NULL;
    bool newly = cancel_tree(j, cause, &fin);
    if (newly && !kin__is_cancel_code(cause->code))
        propagate_up(j, cause, &fin);
    kin_error_release(cause);
    run_cancelling_due();
    run_deferred(fin);
}

void kin__job_cancel_children(kin__job *j, kin_error *cause) {
    /* Collected under j's lock, cancelled one by one without it (each
     * cancel walks down from the child, taking locks parent first). */
    kin__lock_acquire(&j->lock);
    size_t n = 0;
    for (kin__job *c = j->child_head; c; c = c->sib_next)
        n++;
    kin__job **kids = n ? kin__calloc(n, sizeof *kids) : NULL;
    size_t k = 0;
    if (kids)
        for (kin__job *c = j->child_head; c; c = c->sib_next) {
            kin__job_ref(c);
            kids[k++] = c;
        }
    kin__lock_release(&j->lock);
    for (size_t i = 0; i < k; i++) {
        kin__job_cancel(kids[i], kin_error_retain(cause));
        kin__job_unref(kids[i]);
    }
    kin__free(kids);
    kin_error_release(cause);
}

void kin__root_cancel(kin__job *j, kin_error *cause) {
    KIN__ASSERT(j->kind == KIN__PLAIN);
    kin__job_cancel(j, cause);
}

/* ---- Creation ---------------------------------------------------------------*/

/* Links the new job j (nobody else sees it yet) as the last child of
 * parent (locked, in state ps: ACTIVE, COMPLETING or CANCELLING); under a
 * cancelling parent it is born cancelling (Kotlin). */
static inline void link_child_locked(kin__job *parent, kin__job *j, int ps) {
    KIN__ASSERT_HELD(&parent->lock);
    j->parent = parent;
    j->sib_prev = parent->child_tail;
    j->sib_next = NULL;
    if (parent->child_tail)
        parent->child_tail->sib_next = j;
    else
        parent->child_head = j;
    parent->child_tail = j;
    parent->active++;
    if (KIN__UNLIKELY(ps == KIN_STATE_CANCELLING)) {
        /* its lock is taken for the helpers' sake */
        kin__lock_acquire(&j->lock);
        mark_cancelling_locked(j, kids_cause_locked(parent));
        kin__lock_release(&j->lock);
    }
}

/* Records that owner (locked) holds j's handle: it is released when owner
 * completes (kin.h L2). */
static inline void link_owned_locked(kin__job *owner, kin__job *j) {
    KIN__ASSERT_HELD(&owner->lock);
    j->owner = owner;
    atomic_store_explicit(&j->handle_held, true, memory_order_relaxed);
    j->own_prev = NULL;
    j->own_next = owner->owned_head;
    if (owner->owned_head)
        owner->owned_head->own_prev = j;
    owner->owned_head = j;
}

int kin__job_attach(kin__job *j, kin__job *parent, bool lazy) {
    int initial = lazy ? KIN_STATE_NEW : KIN_STATE_ACTIVE;
    atomic_store_explicit(&j->state, initial, memory_order_relaxed);
    if (!parent)
        return 0;
    kin__lock_acquire(&parent->lock);
    int ps = atomic_load_explicit(&parent->state, memory_order_relaxed);
    /* A parent claimed for finalization (body done, no children left) is
     * as good as final: it publishes its state without looking at its
     * children again, so a child linked now would outlive it (rule 1).
     * The window is open between the claim and the publication (another
     * thread launching with .parent, or an on_cancelling or exception
     * handler running in between); kotlinx's sealed Finishing state
     * likewise invokes a new child's handler at once. */
    if (parent->finalizing && ps == KIN_STATE_CANCELLING)
        ps = KIN_STATE_CANCELLED;
    else if (parent->finalizing && ps == KIN_STATE_COMPLETING)
        ps = KIN_STATE_COMPLETED;
    if (ps == KIN_STATE_COMPLETED) {
        /* Kotlin: a child of a completed job is born cancelled ("Parent
         * job is Completed"); like a cancelled one, it stands alone. */
        kin__lock_release(&parent->lock);
        kin_error *c = kin__error_make(KIN_ECANCELED, "CancellationException",
                                       NULL, "Parent job is Completed");
        kin__lock_acquire(&j->lock);
        mark_cancelling_locked(j, c);
        kin__lock_release(&j->lock);
        kin_error_release(c);
        return 0;
    }
    if (ps == KIN_STATE_CANCELLED) {
        /* A cancelled scope object: Kotlin makes the child, born cancelled.
         * There is no family left to join, so it stands alone. */
        kin__lock_acquire(&j->lock);
        mark_cancelling_locked(j, kids_cause_locked(parent));
        kin__lock_release(&j->lock);
        kin__lock_release(&parent->lock);
        return 0;
    }
    link_child_locked(parent, j, ps);
    kin__lock_release(&parent->lock);
    return 0;
}

void kin__job_attach_running(kin__job *j, kin__job *parent, bool own) {
    kin__lock_acquire(&parent->lock);
    int ps = atomic_load_explicit(&parent->state, memory_order_relaxed);
    if (KIN__UNLIKELY(parent->body_done ||
                      (ps != KIN_STATE_ACTIVE && ps != KIN_STATE_CANCELLING))) {
        /* Not running its body after all: a completion handler launching
         * from the stack of a coroutine that has just completed. */
        kin__lock_release(&parent->lock);
        kin__job_attach(j, parent, false);
        if (own)
            kin__job_own(j, parent);
        return;
    }
    atomic_store_explicit(&j->state, KIN_STATE_ACTIVE, memory_order_relaxed);
    link_child_locked(parent, j, ps);
    if (own) /* kin__job_own's work, under the same lock round */
        link_owned_locked(parent, j);
    kin__lock_release(&parent->lock);
}

void kin__job_settle(kin__job *j) {
    kin__lock_acquire(&j->lock);
    bool fin = claim_finalize_locked(j);
    kin__lock_release(&j->lock);
    if (fin)
        finalize(j);
}

bool kin__job_start(kin__job *j) {
    kin__lock_acquire(&j->lock);
    bool started =
        atomic_load_explicit(&j->state, memory_order_relaxed) == KIN_STATE_NEW;
    if (started)
        atomic_store_explicit(&j->state, KIN_STATE_ACTIVE,
                              memory_order_release);
    kin__lock_release(&j->lock);
    return started;
}

/* ---- Handles owned by jobs (kin.h rule L2) ----------------------------------*/

void kin__job_own(kin__job *j, kin__job *owner) {
    if (!owner) {
        j->owner = NULL;
        atomic_store(&j->handle_held, true);
        return;
    }
    kin__lock_acquire(&owner->lock);
    link_owned_locked(owner, j);
    kin__lock_release(&owner->lock);
}

int kin__job_disown(kin__job *j) {
    kin__job *owner = j->owner;
    bool held;
    if (!owner) {
        held = atomic_exchange(&j->handle_held, false);
    } else {
        /* owner may have completed and even been reused; its lock is still
         * a valid lock (type-stable slots) and handle_held is false then. */
        kin__lock_acquire(&owner->lock);
        held = atomic_load_explicit(&j->handle_held, memory_order_relaxed);
        if (held) {
            atomic_store_explicit(&j->handle_held, false, memory_order_relaxed);
            if (j->own_prev)
                j->own_prev->own_next = j->own_next;
            else
                owner->owned_head = j->own_next;
            if (j->own_next)
                j->own_next->own_prev = j->own_prev;
            j->own_prev = j->own_next = NULL;
        }
        kin__lock_release(&owner->lock);
    }
    if (!held)
        return KIN_ESTALE;
    kin__job_unref(j);
    return 0;
}

/* ---- Completion list ----------------------------------------------------------*/

bool kin__job_add_node(kin__job *j, kin__node *n) {
    kin__lock_acquire(&j->lock);
    if (kin__state_final(
            atomic_load_explicit(&j->state, memory_order_relaxed)) &&
        !(n->after_handlers && j->handlers_running)) {
        kin__lock_release(&j->lock);
        return false;
    }
    n->next = NULL;
    n->prev = j->nodes_tail;
    if (j->nodes_tail)
        j->nodes_tail->next = n;
    else
        j->nodes_head = n;
    j->nodes_tail = n;
    n->linked = true;
    kin__lock_release(&j->lock);
    return true;
}

void kin__job_wait_left_parent(kin__job *j) {
    KIN__ASSERT(kin__state_final(
        atomic_load_explicit(&j->state, memory_order_acquire)));
    kin__job *p = j->parent; /* immutable; alive: it is our caller's job */
    if (!p)
        return;
    /* j's sibling links are p's (under p->lock): linked while j is a child */
    for (unsigned spins = 0;; spins++) {
        kin__lock_acquire(&p->lock);
        bool linked = j->sib_prev || p->child_head == j;
        kin__lock_release(&p->lock);
        if (!linked)
            return;
        /* the gap is a few hundred instructions: wait it out unless the
         * thread in it lost its CPU */
        if (spins < 100)
            kin__cpu_relax();
        else
            sched_yield();
    }
}

uint32_t kin__job_add_handler(kin__job *j, kin__node *n, kin_error **cause) {
    *cause = NULL;
    kin__lock_acquire(&j->lock);
    int s = atomic_load_explicit(&j->state, memory_order_relaxed);
    if (kin__state_final(s) || (n->on_cancelling && kin__state_cancelled(s))) {
        *cause = kin_error_retain(s == KIN_STATE_COMPLETED
                                      ? NULL
                                      : root_cause_locked(j));
        kin__lock_release(&j->lock);
        return 0;
    }
    if (++j->node_ids == 0)
        j->node_ids = 1;
    uint32_t id = n->id = j->node_ids;
    if (n->on_cancelling)
        j->n_cancelling++;
    n->next = NULL;
    n->prev = j->nodes_tail;
    if (j->nodes_tail)
        j->nodes_tail->next = n;
    else
        j->nodes_head = n;
    j->nodes_tail = n;
    n->linked = true;
    kin__lock_release(&j->lock);
    /* n belongs to j from here: another thread may complete j, run n and
     * free it at once, so its id is returned, never read back from n */
    return id;
}

bool kin__job_dispose_node(kin__job *j, uint32_t id) {
    kin__node *found = NULL;
    kin__lock_acquire(&j->lock);
    for (kin__node *n = j->nodes_head; n; n = n->next) {
        if (!n->fire && n->id == id) {
            found = n;
            break;
        }
    }
    if (found) {
        unlink_node_locked(j, found);
        if (found->on_cancelling)
            j->n_cancelling--;
    }
    kin__lock_release(&j->lock);
    kin__free(found);
    return found != NULL;
}

void kin__job_remove_node(kin__job *j, kin__node *n) {
    kin__lock_acquire(&j->lock);
    if (n->linked)
        unlink_node_locked(j, n);
    kin__lock_release(&j->lock);
}

/* ---- Body done -----------------------------------------------------------------*/

/* The cause a body's return code stands for, or NULL for success. err is
 * the body's current error (borrowed): it is the failure when its code
 * matches, and is then returned borrowed (*owned false: the caller's slot
 * keeps it alive, and a cancelled child, the common case, costs no
 * reference count); any other cause is a new reference (*owned true). */
static kin_error *cause_of_rc(kin__job *j, int rc, kin_error *err,
                              bool *owned) {
    *owned = false;
    if (rc == 0)
        return NULL;
    if (rc < 0 && err && err->code == rc)
        return err;
    *owned = true;
    if (rc > 0)
        return kin__error_make(KIN_EINVAL, "KinError", NULL,
                               "coroutine body returned %d; bodies return 0 "
                               "or a negative code",
                               rc);
    if (kin__is_cancel_code(rc)) {
        /* Returning the cancellation code it was given: its own cause. */
        kin_error *own = NULL;
        kin__lock_acquire(&j->lock);
        own = kin_error_retain(root_cause_locked(j));
        kin__lock_release(&j->lock);
        if (own && kin__is_cancel_code(own->code))
            return own;
        kin_error_release(own);
        return kin__error_make(rc,
                               rc == KIN_ETIMEDOUT
                                   ? "TimeoutCancellationException"
                                   : "CancellationException",
                               NULL, "Job was cancelled");
    }
    return kin__error_make(rc, "Failure", NULL, "%s", kin_strerror(rc));
}

/* Moves j towards completion: its body is done with cause (borrowed; NULL
 * for success). A deferred's value is stored with a successful end. With
 * `once` (completion by hand), nothing happens and false is returned if j
 * is already done or final, so two racing completers agree on who won.
 * `own_stack`: see finalize_from. */
static inline __attribute__((always_inline)) bool
body_done_with(kin__job *j, kin_error *cause, void *value,
                           bool own_stack, bool once) {
    kin__job *fin = NULL;
    bool newly = false;

    kin__lock_acquire(&j->lock);
    int s = atomic_load_explicit(&j->state, memory_order_relaxed);
    if (once && (j->body_done || kin__state_final(s))) {
        kin__lock_release(&j->lock);
        return false;
    }
    if (cause) {
        newly = mark_cancelling_locked(j, cause);
        if (newly)
            cancel_descendants_locked(j, &fin);
    } else {
        if (value)
            j->result = value; /* published by the final state's release */
        if (s == KIN_STATE_ACTIVE)
            atomic_store_explicit(&j->state, KIN_STATE_COMPLETING,
                                  memory_order_release);
    }
    j->body_done = true;
    /* kin_dump reads the stack under this lock while this is set; the
     * stack goes back to a pool only after the switch away from it. */
    atomic_store_explicit(&j->sched.dbg_stack, NULL, memory_order_relaxed);
    bool fin_now = claim_finalize_locked(j);
    if (fin_now && !newly) {
        /* The common cases: success, or a cancelled coroutine ending with
         * its cancellation (or a later failure) while already cancelling,
         * with no children left. Nothing was marked by this call, so there
         * is no walk to finish, no parent to cancel and nothing deferred:
         * finalize in the same lock round. */
        kin__job *up; /* the simple case inline: no call on this path */
        if (!finalize_simple_locked(j, own_stack, &up))
            finalize_from(j, true, own_stack);
        else if (up)
            finalize(up);
        return true;
    }
    kin__lock_release(&j->lock);

    if (newly && !kin__is_cancel_code(cause->code))
        propagate_up(j, cause, &fin);
    run_cancelling_due();
    run_deferred(fin);
    if (fin_now)
        finalize_from(j, false, own_stack);
    return true;
}

void kin__job_body_done(kin__job *j, int rc, kin_error *err) {
    bool owned;
    kin_error *cause = cause_of_rc(j, rc, err, &owned);
    /* Finalizing on the coroutine's own stack (see finalize_from). */
    bool own_stack = j->kind == KIN__COROUTINE && j->sched.stack != NULL &&
                     kin__current_coro() == &j->sched;
    body_done_with(j, cause, NULL, own_stack, false);
    if (owned)
        kin_error_release(cause);
}

bool kin__job_complete(kin__job *j, void *value, kin_error *failure) {
    KIN__ASSERT(j->kind == KIN__PLAIN);
    bool mine = body_done_with(j, failure,
                               (j->flags & KIN__F_ASYNC) ? value : NULL,
                               false, true);
    kin_error_release(failure);
    return mine;
}

/* ---- Finalization ---------------------------------------------------------------*/

/* Offers j's failure to its parent at completion. Returns true if the parent
 * (or the scope function's caller) took it, false if j must report it
 * itself (DESIGN rule 7). */
static bool offer_failure_to_parent(kin__job *j, kin_error *failure) {
    if (j->flags & (KIN__F_SCOPED | KIN__F_NONCANCEL | KIN__F_BLOCKING))
        return true; /* the caller gets it as a return value */
    kin__job *p = j->parent;
    if (!p || (p->flags & KIN__F_SUPERVISOR))
        return false;
    kin_error_retain(failure);
    kin__job_cancel(p, failure); /* records it; no-op if already there */
    /* Kotlin's handlesException: a root Job() (a scope object's, or a
     * kin_job_new root and the plain jobs under it) is cancelled but does
     * not handle the failure, so the child reports it too. */
    return !(p->flags & KIN__F_UNHANDLED);
}

static void report_uncaught(kin__job *j, kin_error *failure) {
    kin__report_uncaught(kin__job_handle(j), j->handler, j->handler_arg,
                         failure);
}

static void unlink_child_locked(kin__job *p, kin__job *j) {
    if (j->sib_prev)
        j->sib_prev->sib_next = j->sib_next;
    else
        p->child_head = j->sib_next;
    if (j->sib_next)
        j->sib_next->sib_prev = j->sib_prev;
    else
        p->child_tail = j->sib_prev;
    j->sib_prev = j->sib_next = NULL;
    p->active--;
}

/* finalize_from's common case, tried first on each job it finalizes: j
 * (locked, claimed) is a child with nothing on its completion list, no
 * handles to release, no failure to offer, no channel to close (not a
 * producer) and a body that ran (a coroutine finishing its body with
 * success or its cancellation: a million cancelled children come this
 * way). Publishes its final state, leaves its parent and drops its tree
 * reference; *up is the parent if this completes it in turn. Returns
 * false, with nothing done and j still locked, if j is not that simple. */
static inline bool finalize_simple_locked(kin__job *j, bool own_stack,
                                          kin__job **up) {
    KIN__ASSERT_HELD(&j->lock);
    kin__job *p = j->parent;
    if (!p || j->nodes_head || j->owned_head || j->never_ran ||
        (j->flags & KIN__F_PRODUCER)) /* it closes its channel first */
        return false;
    int s = atomic_load_explicit(&j->state, memory_order_relaxed);
    int final = KIN_STATE_COMPLETED;
    if (kin__state_cancelled(s)) {
        kin_error *cause = root_cause_locked(j);
        if (!kin__is_cancel_code(cause->code))
            return false; /* a failure: offered to the parent first */
        final = KIN_STATE_CANCELLED;
    }
    /* as publish_locked: readers of the final state see cause and result */
    atomic_store_explicit(&j->state, final, memory_order_release);
    kin__lock_release(&j->lock);
    kin__lock_acquire(&p->lock);
    unlink_child_locked(p, j);
    *up = claim_finalize_locked(p) ? p : NULL;
    kin__lock_release(&p->lock);
    if (own_stack)
        j->zombie_owns_tree = true; /* dropped with the coroutine's */
    else
        kin__job_unref(j); /* the tree reference */
    return true;
}

/* Publishes j's final state and fires its waiters. Called with j locked;
 * returns with it unlocked, with j's completion handlers, the waiters that
 * fire after them, and owned handles (to run, fire and release after) in
 * *handlers, *late and *owned. */
static void publish_locked(kin__job *j, kin_error *cause, kin__node **handlers,
                           kin__node **late, kin__job **owned) {
    KIN__ASSERT_HELD(&j->lock);
    /* release: readers of the final state (acquire) see cause, failure and
     * result; no Dekker pairing needs seq_cst here (only CANCELLING does). */
    atomic_store_explicit(&j->state,
                          cause ? KIN_STATE_CANCELLED : KIN_STATE_COMPLETED,
                          memory_order_release);
    kin__node *list = NULL, **tail = &list;
    *late = NULL;
    kin__node *n = j->nodes_head;
    j->nodes_head = j->nodes_tail = NULL;
    while (n) {
        kin__node *next = n->next;
        n->linked = false;
        if (n->fire && n->after_handlers) {
            n->next = *late; /* at most one: the scope's caller */
            *late = n;
        } else if (n->fire) {
            n->fire(n, j); /* waiters: under the lock (see kin__node) */
        } else {
            n->next = NULL;
            *tail = n;
            tail = &n->next;
        }
        n = next;
    }
    j->n_cancelling = 0; /* any left run now, as completion handlers */
    *handlers = list;
    j->handlers_running = list != NULL;
    *owned = j->owned_head;
    j->owned_head = NULL;
    for (kin__job *o = *owned; o; o = o->own_next)
        atomic_store_explicit(&o->handle_held, false, memory_order_relaxed);
    kin__lock_release(&j->lock);
}

/* Completes j (its body is done and it has no active children), then its
 * parent if that completes in turn, and so on up: a loop, not recursion.
 * `locked`: j's lock is held on entry (kin__job_body_done's fast path).
 * `own_stack`: j is the coroutine running this code, finishing its body;
 * its tree reference is then dropped with its coroutine reference, by the
 * zombie release after the last switch (one atomic instead of two). */
static void finalize_from(kin__job *j, bool locked, bool own_stack) {
    while (j) {
        if (!locked)
            kin__lock_acquire(&j->lock);
        locked = false;
        kin__job *parent_next;
        if (finalize_simple_locked(j, own_stack, &parent_next)) {
            own_stack = false;
            j = parent_next;
            continue;
        }
        int s = atomic_load_explicit(&j->state, memory_order_relaxed);
        kin_error *cause =
            kin__state_cancelled(s) ? root_cause_locked(j) : NULL;
        bool root = !j->parent && j->kind != KIN__SCOPE;
        bool producer = j->flags & KIN__F_PRODUCER;
        if ((cause && !kin__is_cancel_code(cause->code)) || root ||
            KIN__UNLIKELY(producer)) {
            /* The slow path: the lock is dropped to call out. cause and
             * failure are frozen: nothing records a cause in a finalizing
             * job (offer_failure_to_parent touches only the parent). */
            kin__later *later = j->later;
            j->later = NULL;
            kin__lock_release(&j->lock);
            if (later) { /* only with a failure, which is then the cause */
                KIN__ASSERT(cause == load_failure(j));
                attach_later(cause, later);
            }
            bool failed = cause && !kin__is_cancel_code(cause->code);
            bool taken = failed && offer_failure_to_parent(j, cause);
            /* A producer closes its channel now, after its parent was
             * offered the failure and before it reports one (kotlinx's
             * onCancelled: close(cause), and a handler only if that
             * failed and the parent did not take it). */
            if (producer && kin__producer_done(j, cause))
                taken = true;
            if (failed && !taken && j->kind == KIN__COROUTINE &&
                !(j->flags & KIN__F_ASYNC))
                report_uncaught(j, cause);
            /* A root leaves the registry before anyone learns it completed:
             * whoever returns from waiting for it (kin_run_blocking, then
             * maybe kin_shutdown) must not find it there. */
            if (root)
                kin__registry_remove(j);
            kin__lock_acquire(&j->lock);
        }
        bool never_ran = j->never_ran;
        kin__node *handlers, *late;
        kin__job *owned;
        publish_locked(j, cause, &handlers, &late, &owned);

        if (KIN__UNLIKELY(handlers != NULL)) {
            kin_job h = kin__job_handle(j);
            kin_error *failed = NULL;
            while (handlers) {
                kin__node *next = handlers->next;
                kin__call_completion(j, h, handlers, cause, &failed);
                kin__free(handlers);
                handlers = next;
            }
            kin__report_completion_failure(j, failed);
            /* after_handlers nodes added while the handlers ran */
            kin__lock_acquire(&j->lock);
            j->handlers_running = false;
            kin__node *more = j->nodes_head;
            j->nodes_head = j->nodes_tail = NULL;
            while (more) {
                KIN__ASSERT(more->after_handlers); /* add_node refused others */
                kin__node *next = more->next;
                more->linked = false;
                more->next = late;
                late = more;
                more = next;
            }
            kin__lock_release(&j->lock);
        }
        while (owned) {
            kin__job *next = owned->own_next;
            owned->own_prev = owned->own_next = NULL;
            kin__job_unref(owned);
            owned = next;
        }

        kin__job *p = j->parent, *up = NULL;
        if (p) {
            kin__lock_acquire(&p->lock);
            unlink_child_locked(p, j);
            if (claim_finalize_locked(p))
                up = p;
            kin__lock_release(&p->lock);
        }
        /* The scope's caller resumes only now that j has left its parent,
         * as in kotlinx (the parent's child handle is notified before the
         * scope coroutine's afterCompletion resumes the caller): else the
         * caller could run on, finish its own body while j is still its
         * child, and leave its completion, and its completion handlers, to
         * this thread (a kin_with_context(IO) block then completed a Main
         * scope on the IO thread: docs/snippets/main_host.c hung). */
        while (late) {
            kin__node *next = late->next; /* late may vanish once fired */
            late->fire(late, j);
            late = next;
        }
        if (never_ran)
            kin__job_unref(j); /* the coroutine reference: it never ran */
        if (own_stack)
            j->zombie_owns_tree = true; /* dropped with the coroutine's */
        else
            kin__job_unref(j); /* the tree reference */
        own_stack = false;
        j = up;
    }
}

static void finalize(kin__job *j) {
    finalize_from(j, false, false);
}

/* ---- Queries ---------------------------------------------------------------------*/

kin_error *kin__job_final_cause(kin__job *j) {
    int s = kin__job_state(j);
    if (s != KIN_STATE_CANCELLED)
        return NULL;
    /* Frozen once final; the acquire load of state orders the read. */
    kin_error *f = load_failure(j);
    return f ? f : load_cause(j);
}

bool kin__job_set_name(kin__job *j, const char *name) {
    if (!name)
        return true;
    size_t n = strlen(name);
    if (n > 63)
        n = 63;
    char *copy = kin__malloc(n + 1);
    if (!copy)
        return false;
    memcpy(copy, name, n);
    copy[n] = 0;
    j->name = copy;
    return true;
}

const char *kin__job_base_name(const kin__job *j) {
    if (j->name)
        return j->name;
    if (j->flags & KIN__F_BLOCKING)
        return "run_blocking";
    if (j->kind == KIN__PLAIN && !(j->flags & KIN__F_SCOPE_OBJ))
        return (j->flags & KIN__F_ASYNC) ? "deferred" : "job";
    return j->kind == KIN__COROUTINE ? "coroutine" : "scope";
}

const char *kin__job_given_name(kin__job *j) {
    for (kin__job *x = j; x; x = x->parent ? x->parent : x->outer)
        if (x->name)
            return x->name;
    return NULL;
}

void kin__job_display_name(kin__job *j, char *buf, size_t len) {
    snprintf(buf, len, "%s#%llu", kin__job_base_name(j),
             (unsigned long long)j->seq);
}

bool kin__job_is_self_or_ancestor(kin__job *cur, kin__job *target) {
    for (kin__job *x = cur; x; x = x->parent ? x->parent : x->outer)
        if (x == target)
            return true;
    return false;
}
