/*
 * select.c — kotlinx's select and selectUnbiased over channel receive and
 * send, await, join and a timeout.
 *
 * Three phases, after Go's selectgo:
 *   1. With the locks of all its channels held (in address order), try the
 *      clauses in order (biased) or in a random order (unbiased); the
 *      first that can complete now does, and select returns it. Nothing
 *      can claim this select meanwhile: it has registered nothing yet.
 *   2. Otherwise queue a waiter on each channel clause (still under the
 *      locks), then, locks released, a completion node on each job clause
 *      and a timer for the timeout. From here the select is claimed by a
 *      CAS of sel.state from WAITING to a clause index: by a channel
 *      operation (channel.c's claim), by a job's completion, by the timer,
 *      or by this select's own registration finding a job already done.
 *   3. Suspend until claimed or cancelled; a cancellation CASes the state
 *      to CANCELLED, so after it nobody can complete a clause: the channels
 *      are left untouched. Then every registration is removed (each under
 *      its lock, which also waits for a claimer still copying an element).
 */
#include <stdlib.h>
#include <string.h>

#include "api/launch.h"
#include "base/alloc.h"
#include "base/error.h"
#include "sync/channel.h"

#define LOCAL_CLAUSES 8

typedef struct sel_node {
    kin__node node;
    kin__select *sel;
    int clause;
} sel_node;

typedef struct sel_slot {
    kin__chan_waiter w; /* channel clauses */
    kin__chan *c;
    sel_node jn; /* job clauses */
    kin__job *job;
    bool queued, noded;
} sel_slot;

static void sel_node_fire(kin__node *n, kin__job *job) {
    (void)job;
    sel_node *sn = (sel_node *)n;
    kin__select *sel = sn->sel;
    kin__job *co = sel->co; /* read before `fired` lets the select go */
    /* The completion may run on another thread than the select's: once
     * the state is set the select may return and its job finish before
     * the wake, so hold the job (see complete() in channel.c). The node
     * was added under this job's lock, so reading the home is safe. */
    bool held = kin__job_hold_for_wake(co);
    int idle = KIN__SEL_WAITING;
    bool won = atomic_compare_exchange_strong(&sel->state, &idle, sn->clause);
    atomic_store_explicit(&n->fired, true, memory_order_release);
    if (won)
        kin__wake(&co->sched);
    if (held)
        kin__job_unref(co);
}

typedef struct sel_timer {
    kin__select *sel;
    int clause;
} sel_timer;

static void sel_timer_fire(kin__timer *t) {
    sel_timer *st = t->arg;
    kin__select *sel = st->sel;
    int idle = KIN__SEL_WAITING;
    if (atomic_compare_exchange_strong(&sel->state, &idle, st->clause))
        kin__wake(&sel->co->sched);
}

static _Thread_local uint32_t t_rng;

static uint32_t rnd(void) {
    uint32_t x = t_rng;
    if (!x)
        x = (uint32_t)(uintptr_t)&t_rng ^ 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    t_rng = x;
    return x;
}

static bool is_chan_kind(int k) {
    return k == KIN_SELECT_RECEIVE || k == KIN_SELECT_RECEIVE_CATCHING ||
           k == KIN_SELECT_SEND;
}

static void lock_all(kin__chan **locks, size_t nl) {
    for (size_t i = 0; i < nl; i++)
        kin__lock_acquire(&locks[i]->lock);
}

static void unlock_all(kin__chan **locks, size_t nl) {
    for (size_t i = nl; i > 0; i--)
        kin__lock_release(&locks[i - 1]->lock);
}

/* The outcome of the claimed clause i (registered or immediate). */
static int finish(kin__job *co, kin_select_clause *cl, sel_slot *s, int i,
                  bool suspended, kin_undelivered_fn fn, void *uarg) {
    kin_select_clause *k = &cl[i];
    bool cancelled = suspended && kin__job_is_cancelling(co->cur);
    k->rc = 0;
    switch (k->kind) {
    case KIN_SELECT_RECEIVE:
    case KIN_SELECT_RECEIVE_CATCHING: {
        int st = atomic_load_explicit(&s[i].w.state, memory_order_acquire);
        kin_error *cause = s[i].w.cause;
        s[i].w.cause = NULL;
        if (st == KIN__W_DONE) {
            if (cancelled) {
                kin__chan_undelivered(fn, uarg, k->elem);
                return kin__chan_cancelled_rc(co);
            }
            return i;
        }
        int rc;
        if (cancelled)
            rc = kin__chan_cancelled_rc(co);
        else
            rc = kin__chan_closed_rc(
                cause, false, k->kind == KIN_SELECT_RECEIVE_CATCHING);
        kin_error_release(cause);
        if (rc < 0 && (cancelled || k->kind == KIN_SELECT_RECEIVE))
            return rc;
        k->rc = rc;
        return i;
    }
    case KIN_SELECT_SEND: {
        int st = atomic_load_explicit(&s[i].w.state, memory_order_acquire);
        kin_error *cause = s[i].w.cause;
        s[i].w.cause = NULL;
        if (st == KIN__W_DONE) {
            kin_error_release(cause);
            return cancelled ? kin__chan_cancelled_rc(co) : i;
        }
        kin__chan_undelivered(fn, uarg, k->elem);
        int rc = cancelled ? kin__chan_cancelled_rc(co)
                           : kin__chan_closed_rc(cause, true, false);
        kin_error_release(cause);
        return rc;
    }
    case KIN_SELECT_AWAIT: {
        kin__job *j = s[i].job;
        kin_error *cause = kin__job_final_cause(j);
        if (cause && !kin__is_cancel_code(cause->code)) {
            kin__error_set(kin_error_retain(cause)); /* rule 16 */
            return cause->code;
        }
        if (cancelled)
            return kin__chan_cancelled_rc(co);
        if (cause) {
            kin__error_set(kin_error_retain(cause));
            return cause->code;
        }
        if (k->result)
            *k->result = j->result;
        return i;
    }
    default: /* JOIN, TIMEOUT */
        return cancelled ? kin__chan_cancelled_rc(co) : i;
    }
}

static int do_select(kin_select_clause *cl, size_t n, bool unbiased,
                     const char *who) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine",
                           who);
    if (!cl || n == 0)
        return kin__misuse(KIN_EINVAL, "%s: no clauses", who);
    if (n > 1024)
        return kin__misuse(KIN_EINVAL, "%s: too many clauses (%zu)", who, n);
    sel_slot local_s[LOCAL_CLAUSES];
    kin__chan *local_l[LOCAL_CLAUSES];
    int local_o[LOCAL_CLAUSES];
    sel_slot *s = local_s;
    kin__chan **locks = local_l;
    int *order = local_o;
    if (n > LOCAL_CLAUSES) {
        s = kin__calloc(n, sizeof *s);
        locks = kin__calloc(n, sizeof *locks);
        order = kin__calloc(n, sizeof *order);
        if (!s || !locks || !order) {
            kin__free(s);
            kin__free(locks);
            kin__free(order);
            return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
        }
    } else {
        memset(s, 0, n * sizeof *s);
    }
    int rc = 0;
    size_t nl = 0, got = 0;
    kin_undelivered_fn fn = NULL;
    void *uarg = NULL;
    char tmp[256];

    /* ---- check every clause (nothing done yet) ---- */
    for (; got < n; got++) {
        kin_select_clause *k = &cl[got];
        if (is_chan_kind(k->kind)) {
            kin__chan *c = kin__chan_lock(k->channel, who, &rc);
            if (!c)
                goto out;
            bool bad = k->size != c->esize || (!k->elem && k->size);
            bool big = k->kind == KIN_SELECT_SEND &&
                       c->overflow == KIN_OVERFLOW_DROP_OLDEST &&
                       c->esize > sizeof tmp;
            kin__chan_unlock(c);
            if (bad) {
                rc = kin__misuse(KIN_EINVAL,
                                 "%s: clause %zu: element size %zu does not "
                                 "match the channel's, or elem is NULL",
                                 who, got, k->size);
                goto out;
            }
            if (big) {
                rc = kin__misuse(KIN_EINVAL,
                                 "%s: clause %zu: a SEND to a DROP_OLDEST "
                                 "channel takes elements of at most %zu "
                                 "bytes",
                                 who, got, sizeof tmp);
                goto out;
            }
            s[got].c = c;
            size_t at = 0; /* insert in address order, once */
            while (at < nl && locks[at] < c)
                at++;
            if (at == nl || locks[at] != c) {
                memmove(&locks[at + 1], &locks[at],
                        (nl - at) * sizeof *locks);
                locks[at] = c;
                nl++;
            }
        } else if (k->kind == KIN_SELECT_AWAIT || k->kind == KIN_SELECT_JOIN) {
            int err;
            kin__job *j = kin__job_acquire(k->job, &err);
            if (!j) {
                rc = kin__misuse(err,
                                 err == KIN_ESTALE
                                     ? "%s: clause %zu: stale job handle"
                                     : "%s: clause %zu: invalid job handle",
                                 who, got);
                goto out;
            }
            s[got].job = j;
            if (k->kind == KIN_SELECT_AWAIT && !(j->flags & KIN__F_ASYNC)) {
                got++;
                rc = kin__misuse(KIN_EINVAL,
                                 "%s: clause %zu: AWAIT of a job not made by "
                                 "kin_async or kin_deferred_new",
                                 who, got - 1);
                goto out;
            }
            if (kin__job_is_self_or_ancestor(co->cur, j)) {
                got++;
                rc = kin__misuse(KIN_EDEADLK,
                                 "%s: clause %zu: a coroutine cannot wait for "
                                 "itself or an enclosing job",
                                 who, got - 1);
                goto out;
            }
        } else if (k->kind != KIN_SELECT_TIMEOUT) {
            rc = kin__misuse(KIN_EINVAL, "%s: clause %zu: unknown kind %d",
                             who, got, (int)k->kind);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (int)i;
    if (unbiased)
        for (size_t i = n - 1; i > 0; i--) {
            size_t r = rnd() % (i + 1);
            int t = order[i];
            order[i] = order[r];
            order[r] = t;
        }
    for (size_t i = 0; i < n; i++)
        if (cl[i].kind == KIN_SELECT_AWAIT || cl[i].kind == KIN_SELECT_JOIN)
            kin__start_lazy(s[i].job);

    kin__select sel;
    sel.co = co;
    atomic_init(&sel.state, KIN__SEL_WAITING);

    /* ---- 1. the first clause that is ready now ---- */
    lock_all(locks, nl);
    for (size_t i = 0; i < n; i++) {
        kin__chan *c = s[i].c;
        if (c && !kin__chan_handle_ok(c, cl[i].channel)) {
            unlock_all(locks, nl);
            rc = kin__misuse(KIN_ESTALE, "%s: clause %zu: stale channel handle",
                             who, i);
            goto out;
        }
    }
    int winner = -1;
    kin__job *wake = NULL;
    const void *dropped = NULL;
    for (size_t oi = 0; oi < n && winner < 0; oi++) {
        int i = order[oi];
        kin_select_clause *k = &cl[i];
        kin__chan *c = s[i].c;
        int r = KIN__OP_SUSPEND;
        switch (k->kind) {
        case KIN_SELECT_RECEIVE:
        case KIN_SELECT_RECEIVE_CATCHING:
            r = kin__chan_recv_locked(c, k->elem, &wake);
            break;
        case KIN_SELECT_SEND:
            r = kin__chan_send_locked(c, k->elem, &wake, tmp, &dropped);
            if (r == KIN__W_CLOSED)
                s[i].w.cause = kin_error_retain(c->cause);
            break;
        case KIN_SELECT_TIMEOUT:
            if (k->timeout_ms <= 0)
                r = KIN__W_DONE;
            break;
        default:
            if (kin__state_final(kin__job_state(s[i].job)))
                r = KIN__W_DONE;
            break;
        }
        if (r == KIN_ENOMEM) {
            unlock_all(locks, nl);
            rc = kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
            goto out;
        }
        if (r == KIN__OP_SUSPEND)
            continue;
        winner = i;
        if (c) {
            if (r == KIN__W_CLOSED && k->kind != KIN_SELECT_SEND)
                s[i].w.cause = kin_error_retain(c->cause);
            atomic_init(&s[i].w.state, r);
            fn = c->undeliv;
            uarg = c->uarg;
        }
    }
    if (winner >= 0) {
        unlock_all(locks, nl);
        if (wake)
            kin__chan_wake(wake);
        if (dropped)
            kin__chan_undelivered(fn, uarg, (void *)dropped);
        rc = finish(co, cl, s, winner, false, fn, uarg);
        goto out;
    }

    /* ---- 2. register ---- */
    for (size_t i = 0; i < n; i++) {
        if (!s[i].c)
            continue;
        kin__chan_waiter *w = &s[i].w;
        w->co = co;
        w->elem = cl[i].elem;
        w->cause = NULL;
        w->sel = &sel;
        w->clause = (int)i;
        atomic_init(&w->state, KIN__W_WAITING);
        kin__wq_push(cl[i].kind == KIN_SELECT_SEND ? &s[i].c->sendq
                                                   : &s[i].c->recvq,
                     w);
        s[i].queued = true;
    }
    unlock_all(locks, nl);
    kin__timer timer;
    sel_timer st = {&sel, -1};
    kin__worker *home = co->sched.home;
    bool armed = false;
    for (size_t oi = 0; oi < n; oi++) {
        int i = order[oi];
        if (atomic_load(&sel.state) != KIN__SEL_WAITING)
            break;
        if (cl[i].kind == KIN_SELECT_AWAIT || cl[i].kind == KIN_SELECT_JOIN) {
            sel_node *sn = &s[i].jn;
            memset(sn, 0, sizeof *sn);
            sn->node.fire = sel_node_fire;
            sn->sel = &sel;
            sn->clause = i;
            if (kin__job_add_node(s[i].job, &sn->node)) {
                s[i].noded = true;
            } else { /* completed meanwhile */
                int idle = KIN__SEL_WAITING;
                atomic_compare_exchange_strong(&sel.state, &idle, i);
            }
        } else if (cl[i].kind == KIN_SELECT_TIMEOUT && !armed) {
            st.clause = i;
            kin__timer_init(&timer, sel_timer_fire, &st);
            int64_t now = kin__now(home);
            int64_t ms = cl[i].timeout_ms;
            int64_t ns = ms > (INT64_MAX - now) / 1000000 ? INT64_MAX - now
                                                          : ms * 1000000;
            kin__timer_add(&home->timers, &timer, now + ns, now);
            co->sched.timers_armed++;
            armed = true;
        }
    }

    /* ---- 3. wait, then take everything back ---- */
    kin__chan_wait(co, &sel.state, KIN__SEL_WAITING, KIN__W_SELECT, n);
    int idle = KIN__SEL_WAITING;
    atomic_compare_exchange_strong(&sel.state, &idle, KIN__SEL_CANCELLED);
    for (size_t i = 0; i < n; i++) {
        if (s[i].queued) {
            kin__chan *c = s[i].c;
            kin__lock_acquire(&c->lock);
            if (s[i].w.linked)
                kin__wq_remove(cl[i].kind == KIN_SELECT_SEND ? &c->sendq
                                                             : &c->recvq,
                               &s[i].w);
            if ((int)i == atomic_load(&sel.state)) {
                fn = c->undeliv;
                uarg = c->uarg;
            }
            kin__lock_release(&c->lock);
        }
        if (s[i].noded &&
            !atomic_load_explicit(&s[i].jn.node.fired, memory_order_acquire))
            kin__job_remove_node(s[i].job, &s[i].jn.node);
    }
    if (armed) {
        kin__timer_remove(&home->timers, &timer);
        co->sched.timers_armed--;
    }
    winner = atomic_load(&sel.state);
    if (winner == KIN__SEL_CANCELLED)
        rc = kin__chan_cancelled_rc(co);
    else
        rc = finish(co, cl, s, winner, true, fn, uarg);

out:
    for (size_t i = 0; i < got && i < n; i++) {
        if (s[i].job)
            kin__job_unref(s[i].job);
        kin_error_release(s[i].w.cause);
    }
    if (s != local_s) {
        kin__free(s);
        kin__free(locks);
        kin__free(order);
    }
    return rc;
}

int kin_select(kin_select_clause *clauses, size_t n) {
    return do_select(clauses, n, false, "kin_select");
}

int kin_select_unbiased(kin_select_clause *clauses, size_t n) {
    return do_select(clauses, n, true, "kin_select_unbiased");
}
