/*
 * shared.c — kin_shared_flow, Kotlin's MutableSharedFlow: values emitted
 * to every current subscriber, a replay cache for new ones, an extra
 * buffer, and what an emit does when the slowest subscriber holds the
 * buffer full (SUSPEND, DROP_OLDEST, DROP_LATEST). The indices, the ring
 * and the waits are described in hot.h; the rules follow kotlinx's
 * SharedFlowImpl:
 *   - without subscribers an emit never suspends: the value goes into the
 *     replay cache (the last `replay` values) or nowhere;
 *   - a new subscriber starts with the replay cache, oldest first;
 *   - with subscribers, the buffer holds up to replay + extra_buffer
 *     values that the slowest one has not taken yet (or that the replay
 *     cache keeps); when it is full, SUSPEND queues the emit until the
 *     slowest subscriber takes a value (try_emit: KIN_FULL), DROP_LATEST
 *     drops the new value, DROP_OLDEST drops the oldest (slow subscribers
 *     skip it);
 *   - with no buffer at all (the default), an emit waits until every
 *     subscriber has taken its value (try_emit fails while any subscribe);
 *   - a subscriber that leaves (or a reset of the replay cache) may make
 *     room: queued emits go in, in order;
 *   - an emit cancelled while queued does not emit, except that a value
 *     some subscribers already took in a rendezvous stays taken (the
 *     others skip it), as in kotlinx.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "flow/hot.h"

#define WHAT "shared flow"

static inline kin__hot *get(kin_shared_flow s, const char *who, int *rc) {
    return kin__hot_get(s.id, KIN__HOT_SHARED, who, WHAT, rc);
}

/* ---- Indices and the ring (h locked) ------------------------------------ */

/* The oldest index still needed (see hot.h). */
static inline uint64_t head_of(kin__hot *h) {
    return h->nsubs && h->min_idx < h->replay_idx ? h->min_idx
                                                  : h->replay_idx;
}

static inline char *slot(kin__hot *h, uint64_t i) {
    return h->ring + (i & (h->rcap - 1)) * h->esize;
}

/* Grows the ring to hold need values; false if out of memory. */
static bool grow(kin__hot *h, uint64_t need) {
    uint64_t ncap = h->rcap ? h->rcap : 8;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / h->esize)
        return false;
    char *nr = kin__malloc(ncap * h->esize);
    if (!nr)
        return false;
    for (uint64_t i = head_of(h); i < h->end; i++)
        memcpy(nr + (i & (ncap - 1)) * h->esize, slot(h, i), h->esize);
    kin__free(h->ring);
    h->ring = nr;
    h->rcap = ncap;
    return true;
}

/* Appends value at end, keeping the replay cache at most `replay` long
 * (values nobody needs any more fall out). The caller has checked that
 * the buffer is not full. False if the ring could not grow. */
static bool append(kin__hot *h, const void *value) {
    if (h->cap == 0) { /* nothing is ever kept */
        h->end++;
        h->replay_idx = h->end;
        return true;
    }
    uint64_t end = h->end + 1;
    uint64_t rep = h->replay_idx;
    if (end - rep > h->replay)
        rep = end - h->replay;
    uint64_t head = h->nsubs && h->min_idx < rep ? h->min_idx : rep;
    KIN__ASSERT(end - head <= h->cap);
    if (h->esize && end - head > h->rcap && !grow(h, end - head))
        return false;
    h->end = end;
    h->replay_idx = rep;
    if (h->esize)
        memcpy(slot(h, end - 1), value, h->esize);
    return true;
}

/* With subscribers: is the buffer full? Only values a subscriber still
 * needs count (Kotlin's bufferSize >= bufferCapacity && minCollectorIndex
 * <= replayIndex): values kept only for the replay cache make room by
 * falling out of it. With cap == 0 it is always full. */
static inline bool full(kin__hot *h) {
    return h->end - head_of(h) >= h->cap && h->min_idx <= h->replay_idx;
}

static void recompute_min(kin__hot *h) {
    uint64_t m = UINT64_MAX;
    for (kin__hot_sub *s = h->subs; s; s = s->next)
        if (s->idx < m)
            m = s->idx;
    h->min_idx = h->subs ? m : h->end;
}

/* Can s take a value now? */
static inline bool readable(kin__hot *h, kin__hot_sub *s) {
    return s->idx < h->end ||
           (h->cap == 0 && h->qhead && s->idx == h->end);
}

static void wake_readers(kin__hot *h) {
    if (!h->nwaiting)
        return;
    for (kin__hot_sub *s = h->subs; s; s = s->next)
        if (s->waiting && readable(h, s))
            kin__hot_wake_sub(h, s);
}

static void queue_remove(kin__hot *h, kin__hot_emitter *e) {
    if (e->prev)
        e->prev->next = e->next;
    else
        h->qhead = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        h->qtail = e->prev;
    e->next = e->prev = NULL;
    h->qlen--;
}

static void complete_emitter(kin__hot *h, kin__hot_emitter *e, int st) {
    queue_remove(h, e);
    e->state = st;
    atomic_store_explicit(&e->fired, true, memory_order_release);
    /* Under the lock: the emitter takes it again before its frame goes */
    kin__wake(&e->co->sched);
}

/* After the slowest subscriber moved on or left (or the replay cache was
 * reset): queued emits whose values now fit go in, in order, and resume;
 * subscribers that can now read are woken. */
static void settle(kin__hot *h) {
    bool moved = false;
    while (h->qhead) {
        kin__hot_emitter *e = h->qhead;
        if (h->nsubs) {
            if (h->cap == 0 ? h->min_idx <= h->end /* not all took it */
                            : full(h))
                break;
        }
        if (!append(h, e->value))
            break; /* out of memory: it stays queued until the next time */
        complete_emitter(h, e, KIN__HE_DONE);
        moved = true;
    }
    if (moved)
        wake_readers(h);
}

/* Drops the oldest value for DROP_OLDEST (a subscriber needs it): slow
 * subscribers move past it. */
static void drop_oldest(kin__hot *h) {
    uint64_t nhead = head_of(h) + 1;
    if (h->replay_idx < nhead)
        h->replay_idx = nhead;
    for (kin__hot_sub *s = h->subs; s; s = s->next)
        if (s->idx < nhead)
            s->idx = nhead;
    recompute_min(h);
}

/* Results of offer. */
enum { OFFER_DONE = 0, OFFER_SUSPEND = 1, OFFER_NOMEM = 2 };

/* Kotlin's tryEmitLocked: puts value in unless it must wait. */
static int offer(kin__hot *h, const void *value) {
    if (h->nsubs == 0) /* replay cache only (the queue is empty then) */
        return append(h, value) ? OFFER_DONE : OFFER_NOMEM;
    if (h->qhead || full(h)) {
        switch (h->overflow) {
        case KIN_OVERFLOW_DROP_LATEST:
            return OFFER_DONE;
        case KIN_OVERFLOW_DROP_OLDEST:
            drop_oldest(h);
            break;
        default:
            return OFFER_SUSPEND;
        }
    }
    if (!append(h, value))
        return OFFER_NOMEM;
    wake_readers(h);
    return OFFER_DONE;
}

/* ---- Making and destroying --------------------------------------------------*/

int kin_shared_flow_new(kin_shared_flow *out, size_t elem_size,
                        const kin_shared_flow_opts *opts) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_shared_flow_new: out is NULL");
    out->id = 0;
    kin_shared_flow_opts o = opts ? *opts : (kin_shared_flow_opts){0};
    if ((unsigned)o.overflow > KIN_OVERFLOW_DROP_LATEST)
        return kin__misuse(KIN_EINVAL,
                           "kin_shared_flow_new: unknown overflow policy %d",
                           (int)o.overflow);
    if (o.replay > INT32_MAX || o.extra_buffer > INT32_MAX)
        return kin__misuse(KIN_EINVAL,
                           "kin_shared_flow_new: replay and extra_buffer "
                           "must be at most %d",
                           INT32_MAX);
    if (o.replay + o.extra_buffer == 0 && o.overflow != KIN_OVERFLOW_SUSPEND)
        return kin__misuse(KIN_EINVAL,
                           "kin_shared_flow_new: replay or extra_buffer must "
                           "be positive with a non-default overflow policy");
    kin__hot *h = kin__hot_alloc(KIN__HOT_SHARED);
    if (!h)
        return kin__misuse(KIN_ENOMEM, "kin_shared_flow_new: out of memory");
    h->esize = elem_size;
    h->replay = o.replay;
    h->cap = o.replay + o.extra_buffer;
    h->overflow = (uint8_t)o.overflow;
    out->id = kin__hot_id(h);
    kin__lock_release(&h->lock);
    return 0;
}

int kin_shared_flow_destroy(kin_shared_flow s) {
    int rc;
    kin__hot *h = get(s, "kin_shared_flow_destroy", &rc);
    if (!h)
        return rc;
    kin__hot_kill_subs(h);
    while (h->qhead)
        complete_emitter(h, h->qhead, KIN__HE_DESTROYED);
    char *ring = h->ring;
    h->ring = NULL;
    h->rcap = 0;
    kin__hot_free_locked(h);
    kin__free(ring);
    return 0;
}

int kin_shared_flow_subscribers(kin_shared_flow s) {
    int rc;
    kin__hot *h = get(s, "kin_shared_flow_subscribers", &rc);
    if (!h)
        return rc;
    int n = h->nsubs;
    kin__lock_release(&h->lock);
    return n;
}

int kin_shared_flow_reset_replay(kin_shared_flow s) {
    int rc;
    kin__hot *h = get(s, "kin_shared_flow_reset_replay", &rc);
    if (!h)
        return rc;
    h->replay_idx = h->end;
    settle(h);
    kin__lock_release(&h->lock);
    return 0;
}

/* ---- Emitting ------------------------------------------------------------ */

static __attribute__((cold)) int nomem(kin__hot *h, const char *who) {
    kin__lock_release(&h->lock);
    return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
}

int kin_shared_flow_try_emit(kin_shared_flow s, const void *value,
                             size_t size) {
    int rc;
    kin__hot *h = get(s, "kin_shared_flow_try_emit", &rc);
    if (!h)
        return rc;
    if ((rc = kin__hot_check_size(h, value, size, "kin_shared_flow_try_emit",
                                  "value")))
        return rc;
    int r = offer(h, value);
    if (r == OFFER_NOMEM)
        return nomem(h, "kin_shared_flow_try_emit");
    kin__lock_release(&h->lock);
    return r == OFFER_DONE ? 0 : KIN_FULL;
}

/* A queued emit whose job was cancelled (h locked; unlocks it). */
static int emit_cancelled(kin__hot *h, kin__hot_emitter *e) {
    bool first = h->qhead == e;
    queue_remove(h, e);
    if (h->cap == 0 && first) {
        /* A rendezvous some subscribers already took stays taken: the
         * value's index is used up and the others skip it (Kotlin marks
         * the cell NO_VALUE and moves on). */
        bool taken = false;
        for (kin__hot_sub *s = h->subs; s; s = s->next)
            taken |= s->idx > h->end;
        if (taken) {
            h->end++;
            h->replay_idx = h->end;
            for (kin__hot_sub *s = h->subs; s; s = s->next)
                if (s->idx < h->end)
                    s->idx = h->end;
            recompute_min(h);
        }
    }
    settle(h);
    wake_readers(h); /* cap 0: the next queued value may be readable now */
    kin__lock_release(&h->lock);
    return kin__hot_cancelled_rc(e->co);
}

/* An emit that must wait (h locked; unlocks it). */
static int emit_suspend(kin__hot *h, const void *value, kin__job *co) {
    kin__hot_emitter e = {0};
    e.co = co;
    e.value = value;
    atomic_init(&e.fired, false);
    e.prev = h->qtail;
    if (h->qtail)
        h->qtail->next = &e;
    else
        h->qhead = &e;
    h->qtail = &e;
    h->qlen++;
    if (h->cap == 0 && h->qhead == &e)
        wake_readers(h); /* a rendezvous: subscribers read it from e */
    if (kin__job_is_cancelling(co->cur))
        return emit_cancelled(h, &e);
    kin__lock_release(&h->lock);
    kin__job_wait(co, &e.fired, true);
    kin__lock_acquire(&h->lock); /* the waker is done with e after this */
    int st = e.state;
    if (st == KIN__HE_WAITING)
        return emit_cancelled(h, &e);
    kin__lock_release(&h->lock);
    if (st == KIN__HE_DESTROYED)
        return kin__hot_destroyed_rc("SharedFlow");
    if (kin__job_is_cancelling(co->cur)) /* prompt cancellation */
        return kin__hot_cancelled_rc(co);
    return 0;
}

int kin_shared_flow_emit(kin_shared_flow s, const void *value, size_t size) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__hot_outside("kin_shared_flow_emit");
    int rc;
    kin__hot *h = get(s, "kin_shared_flow_emit", &rc);
    if (!h)
        return rc;
    if ((rc = kin__hot_check_size(h, value, size, "kin_shared_flow_emit",
                                  "value")))
        return rc;
    int r = offer(h, value);
    if (KIN__LIKELY(r == OFFER_DONE)) {
        kin__lock_release(&h->lock);
        return 0;
    }
    if (r == OFFER_NOMEM)
        return nomem(h, "kin_shared_flow_emit");
    return emit_suspend(h, value, co);
}

/* ---- Collecting ------------------------------------------------------------ */

/* Takes the next value for s into buf if there is one (h locked). */
static bool take(kin__hot *h, kin__hot_sub *s, char *buf) {
    if (s->idx < h->end) {
        if (h->esize)
            memcpy(buf, slot(h, s->idx), h->esize);
    } else if (h->cap == 0 && h->qhead && s->idx == h->end) {
        if (h->esize) /* a rendezvous: from the emitter's record */
            memcpy(buf, h->qhead->value, h->esize);
    } else {
        return false;
    }
    uint64_t old = s->idx++;
    if (old == h->min_idx) { /* the slowest moved on: room, maybe */
        recompute_min(h);
        settle(h);
    }
    return true;
}

/* Unsubscribes (h locked; unlocks it): the slowest leaving may make room,
 * the last leaving lets every queued emit through. */
static void leave_unlock(kin__hot *h, kin__hot_sub *s) {
    if (!s->dead) {
        kin__hot_unlink(h, s);
        recompute_min(h);
        settle(h);
    }
    kin__lock_release(&h->lock);
}

static int collect_loop(kin__hot *h, kin__hot_sub *sub, char *buf,
                        kin__hot_fn fn, void *ctx) {
    kin__job *co = sub->co;
    for (;;) { /* h locked here */
        if (sub->dead) {
            kin__lock_release(&h->lock);
            return kin__hot_destroyed_rc("SharedFlow");
        }
        if (!take(h, sub, buf)) {
            if (kin__job_is_cancelling(co->cur)) {
                leave_unlock(h, sub);
                return kin__hot_cancelled_rc(co);
            }
            kin__hot_park(h, sub);
            continue;
        }
        kin__lock_release(&h->lock);
        if (kin__job_is_cancelling(co->cur)) { /* Kotlin's ensureActive */
            kin__lock_acquire(&h->lock);
            leave_unlock(h, sub);
            return kin__hot_cancelled_rc(co);
        }
        int rc = fn(buf, ctx);
        kin__lock_acquire(&h->lock);
        if (rc < 0) {
            leave_unlock(h, sub);
            return rc;
        }
    }
}

/* Subscribes (h locked): the replay cache first. */
static int subscribe(kin__hot *h, kin__hot_sub *sub, char *buf,
                     kin__hot_fn fn, void *ctx) {
    sub->idx = h->replay_idx;
    if (!h->subs || sub->idx < h->min_idx)
        h->min_idx = sub->idx;
    kin__hot_link(h, sub);
    return collect_loop(h, sub, buf, fn, ctx);
}

int kin__shared_flow_collect(uint64_t id, kin__hot_fn fn, void *ctx,
                             const char *who) {
    return kin__hot_collect(id, KIN__HOT_SHARED, WHAT, 1, subscribe, fn, ctx,
                            who);
}

int kin_shared_flow_as_flow(kin_shared_flow s, kin_flow *out) {
    return kin__hot_as_flow(s.id, KIN__HOT_SHARED, out, kin__shared_flow_collect,
                            "kin_shared_flow_as_flow", WHAT,
                            "kin_flow_collect (SharedFlow)");
}
