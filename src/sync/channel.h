/*
 * channel.h — the channel record, its waiters, and what select.c and
 * produce.c need from channel.c.
 *
 * ONE LOCK PER OPERATION. A channel is a ring buffer of elements (copied
 * in and out, esize bytes each) and two FIFO queues of suspended waiters,
 * receivers and senders, all under the channel's spinlock. A waiter record
 * lives on the suspended coroutine's stack; whoever completes it (a sender
 * for a receiver, a receiver for a sender, close, cancel) does so under the
 * lock: it unlinks the record, copies the element, sets the result, and
 * after unlocking wakes the coroutine (kin__wake: queued, as kotlinx
 * dispatches a resumed continuation). A waiter that wakes up for another
 * reason (its job was cancelled) takes the lock to unlink itself; what it
 * finds there (still linked, or already completed) decides, once, whether
 * the element moved.
 *
 * SELECT WAITERS. A waiter with sel != NULL belongs to a kin_select that
 * waits on several things at once. Completing it first claims the select
 * (a CAS of sel->state from KIN__SEL_WAITING to the clause index); if that
 * fails the select has already been completed by another clause, and the
 * record is skipped (unlinked, ignored). A select registers its channel
 * clauses while holding all their locks (taken in address order, as Go's
 * sellock), so nobody can claim it while it registers; job and timer
 * clauses claim with the same CAS.
 *
 * HANDLES. A kin_channel is {gen << 33 | producer bit << 32 | index}.
 * Records live in chunks that are never freed (base/table.h), so any
 * handle can be looked up safely; the generation is compared under the
 * record's lock and bumped when the record is freed. A kin_produce
 * channel has two handles: the consumer's and the producer's (the bit
 * set); the consumer's becomes stale at kin_channel_destroy, the
 * producer's when the record is freed, once the producer has completed
 * too.
 *
 * LOCK ORDER: channel locks (several only in select, by address) before
 * job locks; nothing is taken under a channel lock except job locks
 * (select's completion nodes); user callbacks run without channel locks.
 */
#ifndef KIN_SYNC_CHANNEL_H
#define KIN_SYNC_CHANNEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lock.h"
#include "base/table.h"
#include "job/job.h"
#include "kin.h"

/* kin__chan_waiter.state (plain waiters) and results of the core ops. */
enum {
    KIN__W_WAITING = 0,
    KIN__W_DONE = 1,      /* the element moved */
    KIN__W_CLOSED = 2,    /* receiver: closed and drained */
    KIN__W_CANCELLED = 3, /* sender: the channel was cancelled */
};

/* kin__select.state besides a clause index (>= 0). */
enum {
    KIN__SEL_WAITING = -1,
    KIN__SEL_CANCELLED = -2,
};

typedef struct kin__select {
    kin__job *co;
    atomic_int state; /* KIN__SEL_WAITING, a clause index, or CANCELLED */
} kin__select;

typedef struct kin__chan_waiter kin__chan_waiter;
struct kin__chan_waiter {
    kin__chan_waiter *next, *prev; /* [chan lock] */
    kin__job *co;
    void *elem;       /* receiver: where to; sender: from where (const) */
    atomic_int state; /* KIN__W_*; written under the chan lock */
    bool linked;      /* [chan lock] */
    kin_error *cause; /* closed / cancelled: the channel's cause (a
                       * reference for the waiter), or NULL */
    kin__select *sel; /* NULL: a plain send / receive */
    int clause;       /* index in the select */
};

typedef struct kin__wq {
    kin__chan_waiter *head, *tail;
} kin__wq;

typedef struct kin__chan kin__chan;
struct kin__chan {
    kin__lock lock;
    uint32_t idx;  /* [immutable] */
    uint32_t gen;  /* [lock] handles of other generations are stale */
    bool live;     /* [lock] in use */
    bool user_dead; /* [lock] the consumer destroyed it; producer runs */
    uint8_t closed; /* [lock] 0 open, 1 closed, 2 cancelled */
    uint8_t overflow; /* kin_overflow */
    int refs;       /* [lock] consumer handle + running producer */
    uint64_t valid[2]; /* [lock] the ids of the consumer's and the
                        * producer's handle while they name this record, 0
                        * once stale: live, gen and user_dead folded into
                        * the one compare every operation makes */
    size_t esize;
    size_t cap;     /* logical buffer size; SIZE_MAX: unlimited */
    char *buf;      /* [lock] ring of bcap slots */
    size_t bcap, head, count;
    kin__wq recvq, sendq; /* [lock] suspended waiters, FIFO */
    kin_error *cause;     /* [lock] close / cancel cause, or NULL */
    kin_undelivered_fn undeliv;
    void *uarg;
    kin_job producer; /* kin_produce: the producer (cancelled with us) */
    kin__chan *free_next;
};

/* Results of the core operations (besides KIN__W_DONE). */
enum {
    KIN__OP_SUSPEND = 10, /* not ready: a waiter must be queued */
};

/* The record table (channel.c; base/table.h): chunks never freed. */
#define KIN__CHAN_CHUNK_SHIFT 8
extern _Atomic(void *) kin__chan_chunks[KIN__TABLE_MAX_CHUNKS];
extern kin__table kin__chan_table;

/* The error half of kin__chan_lock (c may be NULL: foreign handle). */
kin__chan *kin__chan_lock_failed(kin__chan *c, const char *who, int *rc);

/* True if h still names c (c locked): the same as live, gen matching and
 * (a producer's handle, or !user_dead), kept in valid[] by channel.c. */
static inline bool kin__chan_handle_ok(kin__chan *c, kin_channel h) {
    return c->valid[(h.id >> 32) & 1] == h.id;
}

/* The record of a handle without locking (select sorts by it); NULL for a
 * foreign handle. */
static inline kin__chan *kin__chan_peek(kin_channel h) {
    return kin__table_peek(&kin__chan_table, kin__chan_chunks, (uint32_t)h.id,
                           KIN__CHAN_CHUNK_SHIFT, sizeof(kin__chan));
}

/* Looks the handle up and locks the record. NULL (unlocked) with *rc set
 * to a misuse code (KIN_EINVAL / KIN_ESTALE) and the message made. */
static inline kin__chan *kin__chan_lock(kin_channel h, const char *who,
                                        int *rc) {
    kin__chan *c = kin__chan_peek(h);
    if (KIN__UNLIKELY(!c))
        return kin__chan_lock_failed(NULL, who, rc);
    kin__lock_acquire(&c->lock);
    if (KIN__UNLIKELY(!kin__chan_handle_ok(c, h)))
        return kin__chan_lock_failed(c, who, rc);
    return c;
}

/* kin__chan_lock's fast half: the record of h, locked, or NULL (nothing
 * held, no message) when h is foreign or stale or the lock is taken; the
 * caller then goes the long way, through kin__chan_lock. */
static inline kin__chan *kin__chan_try_lock(kin_channel h) {
    kin__chan *c = kin__chan_peek(h);
    if (KIN__UNLIKELY(!c || !kin__lock_try(&c->lock)))
        return NULL;
    if (KIN__UNLIKELY(!kin__chan_handle_ok(c, h))) {
        kin__lock_release(&c->lock);
        return NULL;
    }
    return c;
}

static inline void kin__chan_unlock(kin__chan *c) {
    kin__lock_release(&c->lock);
}


/* Core operations, c locked. They complete at most one counterpart waiter
 * (whose coroutine is stored in *wake, to be woken after unlocking) and
 * return KIN__W_DONE, KIN__W_CLOSED (the channel is closed for this
 * operation), or KIN__OP_SUSPEND. A send with a drop policy may drop an
 * element: *dropped then points to it (the sender's own element) or
 * dropped_buf holds it (DROP_OLDEST; dropped_buf has esize bytes) and the
 * caller hands it to the callback after unlocking. KIN_ENOMEM if the
 * buffer could not grow. */
int kin__chan_send_locked(kin__chan *c, const void *elem, kin__job **wake,
                          void *dropped_buf, const void **dropped);
int kin__chan_recv_locked(kin__chan *c, void *elem, kin__job **wake);

/* Wakes the waiter whose completion a *_locked call returned in *wake
 * (after unlocking), and lets go of the reference held on its job for the
 * wake-up, if one was taken (see complete() in channel.c). */
void kin__chan_wake(kin__job *completed);

/* Queues w (set up by the caller) at the tail of q / unlinks it; c locked. */
void kin__wq_push(kin__wq *q, kin__chan_waiter *w);
void kin__wq_remove(kin__wq *q, kin__chan_waiter *w);

/* The closed result of a send / receive, as a return code: sets the
 * current error (the cause, or a Closed*ChannelException). c locked or
 * its cause retained by the caller: pass the cause. */
int kin__chan_closed_rc(kin_error *cause, bool send, bool catching);

/* Hands an element to the callback of c (read while c was valid). */
static inline void kin__chan_undelivered(kin_undelivered_fn fn, void *arg,
                                         void *elem) {
    if (fn)
        fn(elem, arg);
}

/* Waits until *state != KIN__W_WAITING (plain waiters) or the select is
 * claimed, or the current job is cancelled. what and target say what it
 * waits for, for kin_dump (enum kin__wait_kind, job/job.h). */
void kin__chan_wait(kin__job *co, atomic_int *state, int idle, int what,
                    uint64_t target);

/* Sets the current job's cancellation as the current error and returns its
 * code. */
int kin__chan_cancelled_rc(kin__job *co);

/* Makes a channel record (locked: no; live, refs 1). */
int kin__chan_make(kin__chan **out, size_t esize, const kin_channel_opts *opts,
                   const char *who);
kin_channel kin__chan_handle(kin__chan *c, bool producer);

/* Drops one reference (c locked; unlocks it). Frees the record when none
 * is left, handing buffered elements to the callback. */
void kin__chan_unref_unlock(kin__chan *c);

/* Closes c with cause (taken over) if it is open; c locked. Returns true if
 * it closed it. Suspended receivers (the buffer is empty if there are any)
 * are completed with KIN__W_CLOSED and woken (under the lock: a waiter's
 * record may vanish once its state is set). */
bool kin__chan_close_locked(kin__chan *c, kin_error *cause);

/* Cancels c (kin_channel_cancel without the producer); c locked, unlocks
 * it; cause taken over. Calls the callbacks for the dropped elements. */
void kin__chan_cancel_unlock(kin__chan *c, kin_error *cause);

#endif
