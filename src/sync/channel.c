/*
 * channel.c — kotlinx's Channel: rendezvous, buffered, unlimited and
 * conflated channels, the buffer overflow policies, close and cancel, and
 * the undelivered-element callback. The design (one lock per operation,
 * waiter records on the suspended coroutine's stack, checked handles) is in
 * channel.h; select.c and produce.c build on the core operations here.
 *
 * Ordering, as kotlinx's BufferedChannel:
 *   - a send that finds a suspended receiver hands the element over, queues
 *     the receiver to resume and goes on without suspending; a receive that
 *     finds a suspended sender (rendezvous) does the same the other way;
 *   - receivers and senders are served FIFO; a receive from a full buffer
 *     moves the first suspended sender's element into the buffer and
 *     resumes that sender;
 *   - close lets receivers drain the buffer and the elements of senders
 *     that were already suspended (RendezvousChannelTest's
 *     testSuspendSendOnClosedChannel), then gives the closed result;
 *   - cancel drops everything (to the undelivered callback).
 */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "sync/channel.h"

/* ---- The record table -------------------------------------------------------*/

#define DEFAULT_BUFFERED 64 /* kotlinx's CHANNEL_DEFAULT_CAPACITY */
#define DROP_TMP 256        /* DROP_OLDEST copies smaller elements here */

_Atomic(void *) kin__chan_chunks[KIN__TABLE_MAX_CHUNKS];
kin__table kin__chan_table =
    KIN__TABLE_INIT(kin__chan_chunks, kin__chan, KIN__CHAN_CHUNK_SHIFT,
                    free_next, idx, gen, 1);

static kin__chan *record_alloc(void) {
    return kin__table_alloc(&kin__chan_table);
}

static void record_free(kin__chan *c) {
    kin__table_free(&kin__chan_table, c);
}

kin_channel kin__chan_handle(kin__chan *c, bool producer) {
    kin_channel h = {((uint64_t)c->gen << 33) | ((uint64_t)producer << 32) |
                     c->idx};
    return h;
}

kin__chan *kin__chan_lock_failed(kin__chan *c, const char *who, int *rc) {
    if (!c) {
        *rc = kin__misuse(KIN_EINVAL, "%s: invalid channel handle", who);
        return NULL;
    }
    kin__lock_release(&c->lock);
    *rc = kin__misuse(KIN_ESTALE,
                      "%s: stale channel handle (the channel was destroyed)",
                      who);
    return NULL;
}

/* ---- Waiter queues ------------------------------------------------------------*/

void kin__wq_push(kin__wq *q, kin__chan_waiter *w) {
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->linked = true;
}

void kin__wq_remove(kin__wq *q, kin__chan_waiter *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->next = w->prev = NULL;
    w->linked = false;
}

/* Unlinks the first waiter of a non-empty q (the common case of
 * kin__wq_remove). Its next/prev are left as they were: nobody follows
 * them once `linked` is false. */
static inline kin__chan_waiter *wq_pop_head(kin__wq *q) {
    kin__chan_waiter *w = q->head;
    kin__chan_waiter *next = w->next;
    q->head = next;
    if (next)
        next->prev = NULL;
    else
        q->tail = NULL;
    w->linked = false;
    return w;
}

/* The first waiter of q that can be completed, unlinked; select waiters
 * whose select another clause has completed are dropped on the way. */
static kin__chan_waiter *claim_select(kin__wq *q);

static inline kin__chan_waiter *claim(kin__wq *q) {
    if (KIN__LIKELY(!q->head))
        return NULL;
    if (KIN__LIKELY(!q->head->sel))
        return wq_pop_head(q);
    return claim_select(q);
}

static __attribute__((noinline)) kin__chan_waiter *claim_select(kin__wq *q) {
    for (;;) {
        kin__chan_waiter *w = q->head;
        if (!w)
            return NULL;
        wq_pop_head(q);
        if (!w->sel)
            return w;
        int idle = KIN__SEL_WAITING;
        if (atomic_compare_exchange_strong(&w->sel->state, &idle, w->clause))
            return w;
    }
}

/* Completes a claimed waiter: its record may vanish once state is set.
 * Returns its job for kin__chan_wake. The wake comes after the state (and
 * usually after the channel lock is released), and in between a waiter on
 * another thread may see its state, return, finish and have its job record
 * reclaimed. So unless the waiter lives on this very thread (busy here, it
 * cannot run before the wake), its job is held with a reference until the
 * wake is done; the returned pointer's low bit says so (job records are
 * aligned). Called under the lock that registered the waiter, which makes
 * reading its home safe. */
static inline kin__job *complete(kin__chan_waiter *w, int st) {
    kin__job *co = w->co;
    uintptr_t held = kin__job_hold_for_wake(co) ? 1 : 0;
    atomic_store_explicit(&w->state, st, memory_order_release);
    return (kin__job *)((uintptr_t)co | held);
}

void kin__chan_wake(kin__job *completed) {
    uintptr_t v = (uintptr_t)completed;
    kin__job *co = (kin__job *)(v & ~(uintptr_t)1);
    kin__wake(&co->sched);
    if (v & 1)
        kin__job_unref(co);
}

/* Copies one element: inline for the common small sizes, 8 bytes (a
 * pointer, a long) first. */
static inline void copy_elem(void *dst, const void *src, size_t n) {
    if (KIN__LIKELY(n == 8)) {
        memcpy(dst, src, 8);
        return;
    }
    switch (n) {
    case 0:
        break;
    case 4:
        memcpy(dst, src, 4);
        break;
    case 16:
        memcpy(dst, src, 16);
        break;
    default:
        memcpy(dst, src, n);
    }
}

/* ---- The ring buffer --------------------------------------------------------*/

static inline char *ring_at(kin__chan *c, size_t i) {
    size_t pos = c->head + i;
    if (pos >= c->bcap)
        pos -= c->bcap;
    return c->buf + pos * c->esize;
}

/* Grows a full ring (count == bcap < cap); false if out of memory. */
static bool ring_grow(kin__chan *c) {
    size_t ncap = c->bcap ? c->bcap * 2 : 8;
    if (ncap > c->cap)
        ncap = c->cap;
    char *nb = kin__malloc(ncap * c->esize);
    if (!nb)
        return false;
    for (size_t i = 0; i < c->count; i++)
        memcpy(nb + i * c->esize, ring_at(c, i), c->esize);
    kin__free(c->buf);
    c->buf = nb;
    c->bcap = ncap;
    c->head = 0;
    return true;
}

/* Room for one more element (count < cap holds). */
static inline bool ring_room(kin__chan *c) {
    return c->esize == 0 || c->count < c->bcap || ring_grow(c);
}

static inline void ring_push(kin__chan *c, const void *elem) {
    if (c->esize)
        copy_elem(ring_at(c, c->count), elem, c->esize);
    c->count++;
}

static inline void ring_pop(kin__chan *c, void *elem) {
    if (c->esize) {
        copy_elem(elem, c->buf + c->head * c->esize, c->esize);
        if (++c->head == c->bcap)
            c->head = 0;
    }
    c->count--;
}

/* Detaches the buffered elements (for the callback outside the lock). */
typedef struct detached {
    char *buf;
    size_t bcap, head, count, esize;
    kin_undelivered_fn fn;
    void *arg;
} detached;

static detached detach_buffer(kin__chan *c, bool keep) {
    detached d = {c->buf, c->bcap, c->head, c->count, c->esize, c->undeliv,
                  c->uarg};
    if (keep && !c->undeliv) { /* nothing to call: keep the memory */
        d.buf = NULL;
        d.count = 0;
    } else {
        c->buf = NULL;
        c->bcap = 0;
    }
    c->head = 0;
    c->count = 0;
    return d;
}

static void drop_detached(detached *d) {
    char zero[1] = {0};
    for (size_t i = 0; i < d->count && d->fn; i++) {
        size_t pos = d->head + i;
        if (pos >= d->bcap)
            pos -= d->bcap;
        d->fn(d->esize ? d->buf + pos * d->esize : zero, d->arg);
    }
    kin__free(d->buf);
}

/* ---- Core operations (c locked) -------------------------------------------*/

/* What a full buffer does with one more element (c->count == c->cap, no
 * receiver waits): drop, or suspend. */
static int send_overflow(kin__chan *c, const void *elem, void *dropped_buf,
                         const void **dropped) {
    switch (c->overflow) {
    case KIN_OVERFLOW_DROP_LATEST:
        *dropped = elem;
        return KIN__W_DONE;
    case KIN_OVERFLOW_DROP_OLDEST:
        ring_pop(c, dropped_buf);
        ring_push(c, elem);
        *dropped = dropped_buf;
        return KIN__W_DONE;
    default:
        return KIN__OP_SUSPEND;
    }
}

static inline int send_locked(kin__chan *c, const void *elem, kin__job **wake,
                              void *dropped_buf, const void **dropped) {
    if (KIN__UNLIKELY(c->closed))
        return KIN__W_CLOSED;
    kin__chan_waiter *w = claim(&c->recvq);
    if (w) { /* a receiver waits: the buffer is empty */
        copy_elem(w->elem, elem, c->esize);
        *wake = complete(w, KIN__W_DONE);
        return KIN__W_DONE;
    }
    if (c->count < c->cap) {
        if (KIN__UNLIKELY(!ring_room(c)))
            return KIN_ENOMEM;
        ring_push(c, elem);
        return KIN__W_DONE;
    }
    if (KIN__LIKELY(c->overflow == KIN_OVERFLOW_SUSPEND))
        return KIN__OP_SUSPEND;
    return send_overflow(c, elem, dropped_buf, dropped);
}

static inline int recv_locked(kin__chan *c, void *elem, kin__job **wake) {
    if (c->count) {
        ring_pop(c, elem);
        kin__chan_waiter *w = claim(&c->sendq);
        if (w) { /* its element takes the freed place */
            ring_push(c, w->elem);
            *wake = complete(w, KIN__W_DONE);
        }
        return KIN__W_DONE;
    }
    kin__chan_waiter *w = claim(&c->sendq);
    if (w) {
        copy_elem(elem, w->elem, c->esize);
        *wake = complete(w, KIN__W_DONE);
        return KIN__W_DONE;
    }
    return c->closed ? KIN__W_CLOSED : KIN__OP_SUSPEND;
}

int kin__chan_send_locked(kin__chan *c, const void *elem, kin__job **wake,
                          void *dropped_buf, const void **dropped) {
    return send_locked(c, elem, wake, dropped_buf, dropped);
}

int kin__chan_recv_locked(kin__chan *c, void *elem, kin__job **wake) {
    return recv_locked(c, elem, wake);
}

bool kin__chan_close_locked(kin__chan *c, kin_error *cause) {
    if (c->closed) {
        kin_error_release(cause);
        return false;
    }
    c->closed = 1;
    c->cause = cause;
    kin__chan_waiter *w;
    while ((w = claim(&c->recvq)) != NULL) {
        w->cause = kin_error_retain(cause);
        kin__chan_wake(complete(w, KIN__W_CLOSED));
    }
    return true;
}

void kin__chan_cancel_unlock(kin__chan *c, kin_error *cause) {
    kin__chan_close_locked(c, cause);
    c->closed = 2;
    kin__chan_waiter *w;
    while ((w = claim(&c->sendq)) != NULL) {
        w->cause = kin_error_retain(c->cause);
        kin__chan_wake(complete(w, KIN__W_CANCELLED));
    }
    detached d = detach_buffer(c, true);
    kin__chan_unlock(c);
    drop_detached(&d);
}

void kin__chan_unref_unlock(kin__chan *c) {
    if (--c->refs > 0) {
        kin__chan_unlock(c);
        return;
    }
    c->live = false;
    c->valid[0] = c->valid[1] = 0;
    c->gen = (c->gen + 1) & 0x7fffffffu;
    if (c->gen == 0)
        c->gen = 1;
    detached d = detach_buffer(c, false);
    kin_error *cause = c->cause;
    c->cause = NULL;
    kin__chan_unlock(c);
    drop_detached(&d);
    kin_error_release(cause);
    record_free(c);
}

/* ---- Results ----------------------------------------------------------------*/

int kin__chan_closed_rc(kin_error *cause, bool send, bool catching) {
    if (cause) {
        kin__error_set(kin_error_retain(cause));
        return cause->code;
    }
    if (catching)
        return KIN_CLOSED;
    kin__error_set(kin__error_make(KIN_ECLOSED,
                                   send ? "ClosedSendChannelException"
                                        : "ClosedReceiveChannelException",
                                   NULL, "Channel was closed"));
    return KIN_ECLOSED;
}

int kin__chan_cancelled_rc(kin__job *co) {
    kin_error *e = kin__job_cancel_error(co->cur);
    int code = e->code;
    kin__error_set(e);
    return code;
}

/* Inlined into send and receive (their suspending path is hot in
 * ping-pong); select calls it through kin__chan_wait. */
static inline __attribute__((always_inline)) void
chan_wait(kin__job *co, atomic_int *state, int idle, int what,
          uint64_t target) {
    kin__job *cur = co->cur;
    kin__dbg_wait_on(co, what, target);
    for (;;) {
        /* paired with cancel_tree (see kin__job_wait); left set after */
        kin__job_publish_wait(co, cur);
        if (kin__job_is_cancelling(cur))
            break;
        if (atomic_load_explicit(state, memory_order_acquire) != idle)
            break;
        kin__park(&co->sched);
        if (atomic_load_explicit(state, memory_order_acquire) != idle)
            break;
    }
    kin__dbg_wait_over(co);
}

void kin__chan_wait(kin__job *co, atomic_int *state, int idle, int what,
                    uint64_t target) {
    chan_wait(co, state, idle, what, target);
}

/* ---- Making and destroying --------------------------------------------------*/

int kin__chan_make(kin__chan **out, size_t esize, const kin_channel_opts *opts,
                   const char *who) {
    kin_channel_opts o = opts ? *opts : (kin_channel_opts){0};
    if ((unsigned)o.overflow > KIN_OVERFLOW_DROP_LATEST)
        return kin__misuse(KIN_EINVAL, "%s: unknown overflow policy %d", who,
                           (int)o.overflow);
    size_t cap;
    int overflow = o.overflow;
    if (o.capacity == KIN_CHANNEL_CONFLATED) {
        if (o.overflow != KIN_OVERFLOW_SUSPEND)
            return kin__misuse(KIN_EINVAL,
                               "%s: CONFLATED capacity cannot be used with a "
                               "non-default overflow policy",
                               who);
        cap = 1;
        overflow = KIN_OVERFLOW_DROP_OLDEST;
    } else if (o.capacity == KIN_CHANNEL_UNLIMITED) {
        cap = SIZE_MAX;
        overflow = KIN_OVERFLOW_SUSPEND;
    } else if (o.capacity == KIN_CHANNEL_BUFFERED) {
        cap = o.overflow == KIN_OVERFLOW_SUSPEND ? DEFAULT_BUFFERED : 1;
    } else if (o.capacity < 0) {
        return kin__misuse(KIN_EINVAL,
                           "%s: invalid capacity %d (0, a buffer size, or "
                           "one of KIN_CHANNEL_CONFLATED, _BUFFERED, "
                           "_UNLIMITED)",
                           who, o.capacity);
    } else if (o.capacity == 0) {
        cap = o.overflow == KIN_OVERFLOW_SUSPEND ? 0 : 1;
    } else {
        cap = (size_t)o.capacity;
    }
    if (esize && cap != SIZE_MAX && cap > SIZE_MAX / esize)
        return kin__misuse(KIN_EINVAL, "%s: buffer too large", who);
    kin__chan *c = record_alloc();
    if (!c)
        return kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
    kin__lock_acquire(&c->lock);
    c->live = true;
    c->user_dead = false;
    c->closed = 0;
    c->overflow = (uint8_t)overflow;
    c->refs = 1;
    c->esize = esize;
    c->cap = cap;
    c->buf = NULL;
    c->bcap = c->head = c->count = 0;
    c->recvq = (kin__wq){0};
    c->sendq = (kin__wq){0};
    c->cause = NULL;
    c->undeliv = o.on_undelivered;
    c->uarg = o.undelivered_arg;
    c->producer = (kin_job){0};
    c->valid[0] = kin__chan_handle(c, false).id;
    c->valid[1] = kin__chan_handle(c, true).id;
    kin__lock_release(&c->lock);
    *out = c;
    return 0;
}

int kin_channel_new(kin_channel *out, size_t elem_size,
                    const kin_channel_opts *opts) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_channel_new: out is NULL");
    out->id = 0;
    kin__chan *c = NULL; /* gcc -O3 cannot tell KIN_TRY set it */
    KIN_TRY(kin__chan_make(&c, elem_size, opts, "kin_channel_new"));
    *out = kin__chan_handle(c, false);
    return 0;
}

/* Cancels the producer of a kin_produce channel (no locks held). */
static void cancel_producer(kin_job producer, kin_error *cause) {
    int err;
    kin__job *j = producer.id ? kin__job_acquire(producer, &err) : NULL;
    if (!j) {
        kin_error_release(cause);
        return;
    }
    kin__job_cancel(j, cause);
    kin__job_unref(j);
}

static kin_error *channel_cancelled(void) {
    return kin__error_make(KIN_ECANCELED, "CancellationException", NULL,
                           "Channel was cancelled");
}

int kin_channel_destroy(kin_channel ch) {
    int rc;
    kin__chan *c = kin__chan_lock(ch, "kin_channel_destroy", &rc);
    if (!c)
        return rc;
    if ((ch.id >> 32) & 1) {
        kin__chan_unlock(c);
        return kin__misuse(KIN_EINVAL,
                           "kin_channel_destroy: the producer's handle does "
                           "not own the channel (the consumer destroys it)");
    }
    if (c->refs == 1 && (c->recvq.head || c->sendq.head)) {
        kin__chan_unlock(c);
        return kin__misuse(KIN_EBUSY,
                           "kin_channel_destroy: coroutines are suspended on "
                           "the channel (cancel it first)");
    }
    if (c->refs > 1) { /* the producer still runs: cancel it, leave it */
        c->user_dead = true;
        c->valid[0] = 0; /* the consumer's handle is stale from now */
        c->refs--;
        kin_job producer = c->producer;
        kin__chan_cancel_unlock(c, channel_cancelled());
        cancel_producer(producer, channel_cancelled());
        return 0;
    }
    kin__chan_unref_unlock(c);
    return 0;
}

/* ---- Send --------------------------------------------------------------------*/

/* Misuse and the unusual outcomes live in cold functions, out of line, so
 * the common paths (a hand-off to a waiting receiver, a free buffer slot, a
 * plain suspension) are straight code without their stack set-up. */

static __attribute__((noinline, cold)) int outside_coroutine(const char *who) {
    return kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine", who);
}

static __attribute__((noinline, cold)) int
bad_size(kin__chan *c, const char *who, const void *elem, size_t size) {
    size_t want = c->esize;
    kin__chan_unlock(c);
    if (size != want)
        return kin__misuse(KIN_EINVAL,
                           "%s: element size %zu, but the channel's elements "
                           "have %zu bytes",
                           who, size, want);
    (void)elem;
    return kin__misuse(KIN_EINVAL, "%s: elem is NULL", who);
}

/* True if elem / size fit the channel (c locked). */
static inline bool size_ok(kin__chan *c, const void *elem, size_t size) {
    return size == c->esize && (elem || !size);
}

/* Locks c for a send, with a buffer for a DROP_OLDEST victim. */
static kin__chan *send_begin(kin_channel ch, const char *who, const void *elem,
                             size_t size, char *tmp, void **dbuf, int *rc) {
    kin__chan *c = kin__chan_lock(ch, who, rc);
    if (!c)
        return NULL;
    if (KIN__UNLIKELY(!size_ok(c, elem, size))) {
        *rc = bad_size(c, who, elem, size);
        return NULL;
    }
    *dbuf = tmp;
    if (c->overflow == KIN_OVERFLOW_DROP_OLDEST && c->esize > DROP_TMP) {
        kin__chan_unlock(c);
        *dbuf = kin__malloc(size);
        if (!*dbuf) {
            *rc = kin__misuse(KIN_ENOMEM, "%s: out of memory", who);
            return NULL;
        }
        c = kin__chan_lock(ch, who, rc);
        if (!c) {
            kin__free(*dbuf);
            return NULL;
        }
    }
    return c;
}

static void send_end(char *tmp, void *dbuf) {
    if (dbuf != tmp)
        kin__free(dbuf);
}

/* A suspended send that did not simply deliver its element: cancelled
 * (st still WAITING: take the waiter back unless it was taken meanwhile),
 * cancelled after delivering (prompt cancellation), or the channel was
 * cancelled. */
static __attribute__((noinline)) int
send_unusual(kin__chan *c, kin__chan_waiter *w, const void *elem,
             kin__job *co, kin_undelivered_fn fn, void *uarg) {
    int st = atomic_load_explicit(&w->state, memory_order_acquire);
    if (st == KIN__W_WAITING) {
        kin__lock_acquire(&c->lock);
        st = atomic_load_explicit(&w->state, memory_order_acquire);
        if (st == KIN__W_WAITING)
            kin__wq_remove(&c->sendq, w);
        kin__chan_unlock(c);
        if (st == KIN__W_WAITING) {
            kin__chan_undelivered(fn, uarg, (void *)elem);
            return kin__chan_cancelled_rc(co);
        }
    }
    if (st == KIN__W_DONE) { /* delivered */
        if (kin__job_is_cancelling(co->cur))
            return kin__chan_cancelled_rc(co); /* prompt cancellation */
        return 0;
    }
    /* KIN__W_CANCELLED: the channel was cancelled */
    kin__chan_undelivered(fn, uarg, (void *)elem);
    if (kin__job_is_cancelling(co->cur)) {
        kin_error_release(w->cause);
        return kin__chan_cancelled_rc(co);
    }
    int rc = kin__chan_closed_rc(w->cause, true, false);
    kin_error_release(w->cause);
    return rc;
}

/* A send that must suspend (c locked; unlocks it): a waiter record on our
 * stack at the tail of sendq, then the wait (kotlinx checks cancellation
 * only when it suspends: here). The common ending (a receiver took the
 * element and we are not cancelled) is one load and one check. */
static inline int send_suspend(kin__chan *c, const void *elem, kin__job *co) {
    kin_undelivered_fn fn = c->undeliv;
    void *uarg = c->uarg;
    kin__chan_waiter w;
    w.co = co;
    w.elem = (void *)elem;
    w.sel = NULL;
    w.cause = NULL;
    atomic_init(&w.state, KIN__W_WAITING);
    kin__wq_push(&c->sendq, &w);
    kin__chan_unlock(c);
    chan_wait(co, &w.state, KIN__W_WAITING, KIN__W_CHAN_SEND, c->idx);
    if (KIN__LIKELY(atomic_load_explicit(&w.state, memory_order_acquire) ==
                        KIN__W_DONE &&
                    !kin__job_is_cancelling(co->cur)))
        return 0;
    return send_unusual(c, &w, elem, co, fn, uarg);
}

/* The unusual ends of kin__chan_send_locked (c locked; unlocks it): an
 * element dropped by the overflow policy, closed, out of memory. */
static __attribute__((noinline)) int send_rest(kin__chan *c, const void *elem,
                                               int r, kin__job *wake,
                                               const void *dropped) {
    kin_undelivered_fn fn = c->undeliv;
    void *uarg = c->uarg;
    if (r == KIN__W_DONE) {
        kin__chan_unlock(c);
        if (wake)
            kin__chan_wake(wake);
        if (dropped)
            kin__chan_undelivered(fn, uarg, (void *)dropped);
        return 0;
    }
    if (r == KIN__W_CLOSED) {
        kin_error *cause = kin_error_retain(c->cause);
        kin__chan_unlock(c);
        kin__chan_undelivered(fn, uarg, (void *)elem);
        int rc = kin__chan_closed_rc(cause, true, false);
        kin_error_release(cause);
        return rc;
    }
    kin__chan_unlock(c); /* KIN_ENOMEM */
    return kin__misuse(KIN_ENOMEM, "kin_channel_send: out of memory");
}

/* A send on a checked, locked channel (unlocks it). dbuf: room for a
 * DROP_OLDEST victim, NULL if the channel does not drop the oldest. */
static inline int send_on(kin__chan *c, const void *elem, kin__job *co,
                          void *dbuf) {
    kin__job *wake = NULL;
    const void *dropped = NULL;
    int r = send_locked(c, elem, &wake, dbuf, &dropped);
    if (KIN__LIKELY(r == KIN__W_DONE && !dropped)) {
        kin__chan_unlock(c);
        if (wake)
            kin__chan_wake(wake);
        return 0;
    }
    if (r == KIN__OP_SUSPEND)
        return send_suspend(c, elem, co);
    return send_rest(c, elem, r, wake, dropped);
}

/* DROP_OLDEST channels: with room on the stack for the dropped element. */
static __attribute__((noinline)) int send_dropping(kin_channel ch,
                                                   const void *elem,
                                                   size_t size, kin__job *co) {
    char tmp[DROP_TMP];
    int rc;
    void *dbuf;
    kin__chan *c = send_begin(ch, "kin_channel_send", elem, size, tmp, &dbuf,
                              &rc);
    if (!c)
        return rc;
    rc = send_on(c, elem, co, dbuf);
    send_end(tmp, dbuf);
    return rc;
}

/* kin_channel_send the long way: a contended lock, misuse, DROP_OLDEST. */
static __attribute__((noinline)) int send_slow(kin_channel ch,
                                               const void *elem, size_t size) {
    kin__job *co = kin__running_job();
    if (KIN__UNLIKELY(!co))
        return outside_coroutine("kin_channel_send");
    int rc;
    kin__chan *c = kin__chan_lock(ch, "kin_channel_send", &rc);
    if (KIN__UNLIKELY(!c))
        return rc;
    if (KIN__UNLIKELY(!size_ok(c, elem, size)))
        return bad_size(c, "kin_channel_send", elem, size);
    if (KIN__UNLIKELY(c->overflow == KIN_OVERFLOW_DROP_OLDEST)) {
        kin__chan_unlock(c); /* again, with a buffer for the victim */
        return send_dropping(ch, elem, size, co);
    }
    return send_on(c, elem, co, NULL);
}

/* The fast paths' hand-off: the 8-byte element goes to (send) or comes
 * from (receive) the head waiter of q, if it is a plain waiter on this
 * thread, which needs no reference held for the wake (complete()). True
 * if done (c unlocked); false with nothing changed. */
static inline bool hand_over_here(kin__chan *c, kin__wq *q, void *elem,
                                  bool sending) {
    kin__chan_waiter *w = q->head;
    kin__job *co = w->co;
    if (KIN__UNLIKELY(w->sel || !kin__job_wakes_here(co)))
        return false;
    wq_pop_head(q);
    if (sending)
        memcpy(w->elem, elem, 8);
    else
        memcpy(elem, w->elem, 8);
    atomic_store_explicit(&w->state, KIN__W_DONE, memory_order_release);
    kin__chan_unlock(c);
    kin__wake(&co->sched);
    return true;
}

/* The two commonest sends of 8-byte elements (c locked, open): to a
 * receiver waiting on this thread, or into a free slot of the buffer when
 * no receiver waits. True if done (c unlocked); false with nothing
 * changed. */
static inline bool send_fast(kin__chan *c, const void *elem) {
    if (KIN__UNLIKELY(c->esize != 8 || c->closed))
        return false;
    if (c->recvq.head)
        return hand_over_here(c, &c->recvq, (void *)elem, true);
    if (c->count < c->cap && c->count < c->bcap) {
        memcpy(ring_at(c, c->count), elem, 8);
        c->count++;
        kin__chan_unlock(c);
        return true;
    }
    return false;
}

/* The common send: the lock at the first try, then send_fast. Everything
 * else leaves by a tail call, so this path calls nothing but the wake and
 * saves no registers (a ping-pong's sends are all hand-offs to a waiting
 * receiver). */
int kin_channel_send(kin_channel ch, const void *elem, size_t size) {
    kin__job *co = kin__running_job();
    kin__chan *c = co ? kin__chan_try_lock(ch) : NULL;
    if (KIN__UNLIKELY(!c))
        return send_slow(ch, elem, size);
    if (KIN__UNLIKELY(!size_ok(c, elem, size) ||
                      c->overflow == KIN_OVERFLOW_DROP_OLDEST)) {
        kin__chan_unlock(c);
        return send_slow(ch, elem, size);
    }
    if (KIN__LIKELY(send_fast(c, elem)))
        return 0;
    return send_on(c, elem, co, NULL);
}

int kin_channel_try_send(kin_channel ch, const void *elem, size_t size) {
    int rc;
    char tmp[DROP_TMP];
    void *dbuf;
    kin__chan *c = send_begin(ch, "kin_channel_try_send", elem, size, tmp,
                              &dbuf, &rc);
    if (!c)
        return rc;
    kin__job *wake = NULL;
    const void *dropped = NULL;
    kin_undelivered_fn fn = c->undeliv;
    void *uarg = c->uarg;
    int r = kin__chan_send_locked(c, elem, &wake, dbuf, &dropped);
    kin_error *cause = r == KIN__W_CLOSED ? kin_error_retain(c->cause) : NULL;
    kin__chan_unlock(c);
    if (wake)
        kin__chan_wake(wake);
    if (dropped)
        kin__chan_undelivered(fn, uarg, (void *)dropped);
    send_end(tmp, dbuf);
    switch (r) {
    case KIN__W_DONE:
        return 0;
    case KIN__OP_SUSPEND:
        return KIN_FULL;
    case KIN_ENOMEM:
        return kin__misuse(KIN_ENOMEM, "kin_channel_try_send: out of memory");
    default:
        rc = kin__chan_closed_rc(cause, true, false);
        kin_error_release(cause);
        return rc;
    }
}

/* ---- Receive -------------------------------------------------------------------*/

/* A receive from a closed, drained channel (c locked; unlocks it). */
static __attribute__((noinline)) int recv_closed(kin__chan *c, bool catching) {
    kin_error *cause = kin_error_retain(c->cause);
    kin__chan_unlock(c);
    int rc = kin__chan_closed_rc(cause, false, catching);
    kin_error_release(cause);
    return rc;
}

/* A suspended receive that did not simply get its element: cancelled
 * (st still WAITING: take the waiter back unless it was completed
 * meanwhile), cancelled after the element came (prompt cancellation), or
 * closed. */
static __attribute__((noinline)) int
recv_unusual(kin__chan *c, kin__chan_waiter *w, void *elem, kin__job *co,
             bool catching, kin_undelivered_fn fn, void *uarg) {
    int st = atomic_load_explicit(&w->state, memory_order_acquire);
    if (st == KIN__W_WAITING) {
        kin__lock_acquire(&c->lock);
        st = atomic_load_explicit(&w->state, memory_order_acquire);
        if (st == KIN__W_WAITING)
            kin__wq_remove(&c->recvq, w);
        kin__chan_unlock(c);
        if (st == KIN__W_WAITING)
            return kin__chan_cancelled_rc(co); /* nothing was taken */
    }
    if (st == KIN__W_DONE) {
        if (!kin__job_is_cancelling(co->cur))
            return 0;
        /* prompt cancellation: the element goes to the callback */
        kin__chan_undelivered(fn, uarg, elem);
        return kin__chan_cancelled_rc(co);
    }
    /* KIN__W_CLOSED */
    if (kin__job_is_cancelling(co->cur)) {
        kin_error_release(w->cause);
        return kin__chan_cancelled_rc(co);
    }
    int rc = kin__chan_closed_rc(w->cause, false, catching);
    kin_error_release(w->cause);
    return rc;
}

/* A receive that must suspend (c locked; unlocks it): a waiter record on
 * our stack at the tail of recvq, then the wait. The common ending (a
 * sender handed the element over and we are not cancelled) is one load
 * and one check; everything else is recv_unusual. */
static inline int recv_suspend(kin__chan *c, void *elem, kin__job *co,
                               bool catching) {
    kin_undelivered_fn fn = c->undeliv;
    void *uarg = c->uarg;
    kin__chan_waiter w;
    w.co = co;
    w.elem = elem;
    w.sel = NULL;
    w.cause = NULL;
    atomic_init(&w.state, KIN__W_WAITING);
    kin__wq_push(&c->recvq, &w);
    kin__chan_unlock(c);
    chan_wait(co, &w.state, KIN__W_WAITING, KIN__W_CHAN_RECV, c->idx);
    if (KIN__LIKELY(atomic_load_explicit(&w.state, memory_order_acquire) ==
                        KIN__W_DONE &&
                    !kin__job_is_cancelling(co->cur)))
        return 0;
    return recv_unusual(c, &w, elem, co, catching, fn, uarg);
}

/* The rest of a receive (c locked and checked; unlocks it): out of line,
 * so that the common paths before it save no registers. */
static __attribute__((noinline)) int
receive_on(kin__chan *c, void *elem, kin__job *co, bool catching) {
    kin__job *wake = NULL;
    int r = recv_locked(c, elem, &wake);
    if (KIN__LIKELY(r == KIN__W_DONE)) {
        kin__chan_unlock(c);
        if (wake)
            kin__chan_wake(wake);
        return 0;
    }
    if (KIN__UNLIKELY(r == KIN__W_CLOSED))
        return recv_closed(c, catching);
    return recv_suspend(c, elem, co, catching);
}

/* A receive the long way: a contended lock, misuse. */
static __attribute__((noinline)) int receive_slow(kin_channel ch, void *elem,
                                                  size_t size, const char *who,
                                                  bool catching) {
    kin__job *co = kin__running_job();
    if (KIN__UNLIKELY(!co))
        return outside_coroutine(who);
    int rc;
    kin__chan *c = kin__chan_lock(ch, who, &rc);
    if (KIN__UNLIKELY(!c))
        return rc;
    if (KIN__UNLIKELY(!size_ok(c, elem, size)))
        return bad_size(c, who, elem, size);
    return receive_on(c, elem, co, catching);
}

/* The two commonest receives of 8-byte elements (c locked): the oldest
 * buffered element when no sender waits for the freed place, or the
 * element of a sender waiting on this thread. True if done (c unlocked);
 * false with nothing changed. */
static inline bool recv_fast(kin__chan *c, void *elem) {
    if (KIN__UNLIKELY(c->esize != 8))
        return false;
    if (c->count) {
        if (c->sendq.head)
            return false;
        memcpy(elem, c->buf + c->head * 8, 8);
        if (++c->head == c->bcap)
            c->head = 0;
        c->count--;
        kin__chan_unlock(c);
        return true;
    }
    return c->sendq.head && hand_over_here(c, &c->sendq, elem, false);
}

/* The common receive: the lock at the first try, then recv_fast, which
 * calls nothing but the wake; the rest (the suspension) is receive_on. */
static inline __attribute__((always_inline)) int
receive(kin_channel ch, void *elem, size_t size, const char *who,
        bool catching) {
    kin__job *co = kin__running_job();
    kin__chan *c = co ? kin__chan_try_lock(ch) : NULL;
    if (KIN__UNLIKELY(!c))
        return receive_slow(ch, elem, size, who, catching);
    if (KIN__UNLIKELY(!size_ok(c, elem, size))) {
        kin__chan_unlock(c);
        return receive_slow(ch, elem, size, who, catching);
    }
    if (KIN__LIKELY(recv_fast(c, elem)))
        return 0;
    return receive_on(c, elem, co, catching);
}

int kin_channel_receive(kin_channel ch, void *elem, size_t size) {
    return receive(ch, elem, size, "kin_channel_receive", false);
}

int kin_channel_receive_catching(kin_channel ch, void *elem, size_t size) {
    return receive(ch, elem, size, "kin_channel_receive_catching", true);
}

int kin_channel_try_receive(kin_channel ch, void *elem, size_t size) {
    int rc;
    kin__chan *c = kin__chan_lock(ch, "kin_channel_try_receive", &rc);
    if (!c)
        return rc;
    if (KIN__UNLIKELY(!size_ok(c, elem, size)))
        return bad_size(c, "kin_channel_try_receive", elem, size);
    kin__job *wake = NULL;
    int r = kin__chan_recv_locked(c, elem, &wake);
    kin_error *cause = r == KIN__W_CLOSED ? kin_error_retain(c->cause) : NULL;
    kin__chan_unlock(c);
    if (wake)
        kin__chan_wake(wake);
    if (r == KIN__W_DONE)
        return 0;
    if (r == KIN__OP_SUSPEND)
        return KIN_EMPTY;
    rc = kin__chan_closed_rc(cause, false, true);
    kin_error_release(cause);
    return rc;
}

int kin_channel_for_each(kin_channel ch, void *elem, size_t size,
                         int (*fn)(void *elem, void *arg), void *arg) {
    if (!fn)
        return kin__misuse(KIN_EINVAL, "kin_channel_for_each: fn is NULL");
    for (;;) {
        int rc = receive(ch, elem, size, "kin_channel_for_each", true);
        if (rc == KIN_CLOSED)
            return 0;
        if (rc != 0)
            return rc;
        rc = fn(elem, arg);
        if (rc < 0)
            return rc;
    }
}

/* ---- Close, cancel, state -----------------------------------------------------*/

int kin_channel_close(kin_channel ch, kin_error *cause) {
    int rc;
    kin__chan *c = kin__chan_lock(ch, "kin_channel_close", &rc);
    if (!c) {
        kin_error_release(cause);
        return rc;
    }
    bool closed = kin__chan_close_locked(c, cause);
    kin__chan_unlock(c);
    return closed ? 1 : 0;
}

int kin_channel_cancel(kin_channel ch, kin_error *cause) {
    if (cause && !kin_error_is_cancellation(cause)) {
        kin_error_release(cause);
        return kin__misuse(KIN_EINVAL,
                           "kin_channel_cancel: the cause must be a "
                           "cancellation (code KIN_ECANCELED or "
                           "KIN_ETIMEDOUT)");
    }
    int rc;
    kin__chan *c = kin__chan_lock(ch, "kin_channel_cancel", &rc);
    if (!c) {
        kin_error_release(cause);
        return rc;
    }
    if (!cause)
        cause = channel_cancelled();
    kin_job producer = c->refs > 1 || c->user_dead ? c->producer
                                                   : (kin_job){0};
    kin_error *pc = producer.id ? kin_error_retain(cause) : NULL;
    kin__chan_cancel_unlock(c, cause);
    if (producer.id)
        cancel_producer(producer, pc);
    return 0;
}

/* Reads a predicate under the lock; false for bad handles (no error set). */
static bool query(kin_channel ch, int which) {
    kin__chan *c = kin__chan_peek(ch);
    if (!c)
        return false;
    kin__lock_acquire(&c->lock);
    bool r = false;
    if (kin__chan_handle_ok(c, ch)) {
        bool drained = c->count == 0 && !c->sendq.head;
        if (which == 0)
            r = c->closed != 0;
        else if (which == 1)
            r = c->closed && drained;
        else
            r = !c->closed && drained;
    }
    kin__lock_release(&c->lock);
    return r;
}

bool kin_channel_is_closed_for_send(kin_channel ch) {
    return query(ch, 0);
}

bool kin_channel_is_closed_for_receive(kin_channel ch) {
    return query(ch, 1);
}

bool kin_channel_is_empty(kin_channel ch) {
    return query(ch, 2);
}
