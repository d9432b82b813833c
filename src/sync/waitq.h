/*
 * waitq.h — the record behind kin_mutex and kin_semaphore: a counting
 * semaphore with a FIFO queue of suspended acquirers, and the table of
 * records their handles name. A Mutex is this semaphore with one permit
 * plus an owner token, as in kotlinx.coroutines (MutexImpl extends
 * SemaphoreImpl(1, ...)). semaphore.c owns the table and the core;
 * mutex.c adds the owner checks.
 *
 * WHY HANDLES, NOT A USER-ALLOCATED STRUCT. kin.h promises that a stale or
 * garbage handle gives an error, never undefined behaviour (L1). A struct
 * the user allocates could carry a magic number and a generation, but a
 * destroyed one may have been freed or reused as something else, and reading
 * its magic is then exactly the undefined behaviour we promise away. So the
 * records live in chunks that are allocated on demand and never freed
 * (type-stable memory: base/table.h, as the job records of job/slot.c): a
 * handle {generation << 32 | index} is bounds-checked, and the generation
 * is compared under the record's own lock, so even a destroy racing a lock
 * on another thread is an error code (KIN_ESTALE), not a race on freed
 * memory.
 * Memory is bounded by the peak number of live mutexes and semaphores. The
 * cost on the fast path is one indexed load before the record's spinlock,
 * which every operation takes anyway.
 *
 * THE WAIT. A suspended acquirer puts a kin__waiter on its own stack at the
 * tail of the queue and parks in kin__job_wait (job/coroutine.c) until
 * `granted` is set or its current job is cancelled. A release with waiters
 * hands the permit straight to the first one (for a mutex: the lock, with
 * the waiter's owner token), sets `granted` and wakes it, all under the
 * record's lock: the permit never becomes available in between, so nobody
 * barges in (kotlinx's fairness: the woken waiter is queued on its worker,
 * and the releaser runs on). The woken waiter always takes the lock once
 * more before it returns, so the releaser has finished touching its node
 * and its coroutine (kin__wake) before the node's frame can go away.
 *
 * CANCELLATION. A waiter whose job is cancelled wakes up (cancel_wake), takes
 * the lock and unlinks itself: a cancelled waiter never takes the permit.
 * A release that comes before it could do so skips it (and unlinks it): in
 * kotlinx the cancellation handler marks the waiter's cell CANCELLED inside
 * cancel(), so a release right after a cancel already passes it over; kin
 * checks the waiter's job state instead, which cancel sets first. If
 * the permit was handed to it before it could unlink (granted, but cancelled
 * before it resumed), prompt cancellation (DESIGN rule 16) makes it return
 * the cancellation code anyway, so it passes the permit on to the next
 * waiter, or back to the count: the permit is never lost. This is kotlinx's
 * onCancellation = { release() } / { unlock(owner) } of tryResume.
 *
 * LOCKS. kin__sync.lock is a spinlock (base/lock.h) and a leaf, except that
 * kin__wake is called under it (lock-free queue pushes, at most a worker's
 * sleep mutex, also a leaf). No job lock is ever taken under it: error
 * objects are made after it is released.
 */
#ifndef KIN_SYNC_WAITQ_H
#define KIN_SYNC_WAITQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/lock.h"
#include "base/table.h"
#include "job/job.h"
#include "kin.h"

enum kin__sync_kind {
    KIN__SYNC_FREE = 0,
    KIN__SYNC_MUTEX = 1,
    KIN__SYNC_SEMAPHORE = 2,
};

/* One suspended acquirer, on its own coroutine's stack. */
typedef struct kin__waiter {
    struct kin__waiter *next, *prev; /* [lock] the queue */
    kin__job *co;                    /* the waiting coroutine */
    kin__job *cur;                   /* its current job: whose cancellation
                                        ends the wait */
    const void *owner;               /* mutex: the token it locks with */
    bool queued;                     /* [lock] still in the queue */
    atomic_bool granted;             /* set under lock by the releaser */
} kin__waiter;

typedef struct kin__sync {
    kin__lock lock;
    uint32_t gen;  /* [lock] bumped by destroy: old handles are stale */
    uint32_t idx;  /* [immutable] slot index */
    uint8_t kind;  /* [lock] enum kin__sync_kind; FREE when destroyed */
    int permits;   /* [lock] the maximum (1 for a mutex) */
    int avail;     /* [lock] available permits; > 0 only with no waiter */
    const void *owner;        /* [lock] mutex: holder's token (may be NULL) */
    kin__waiter *head, *tail; /* [lock] FIFO of suspended acquirers */
    struct kin__sync *free_next; /* [table mu] free list */
} kin__sync;

/* Makes a record of kind with permits, avail available and owner NULL;
 * *id receives its handle. KIN_ENOMEM (no message set) if out of memory. */
int kin__sync_new(uint8_t kind, int permits, int avail, uint64_t *id);

/* The table (semaphore.c; base/table.h): chunks of records, never freed;
 * 2^24 live objects at most. */
#define KIN__SYNC_CHUNK_SHIFT 8
extern _Atomic(void *) kin__sync_chunks[KIN__TABLE_MAX_CHUNKS];
extern kin__table kin__sync_table;

/* The error half of kin__sync_get (s: the record, locked, or NULL for an
 * index out of range): unlocks s, makes the message, sets *rc, NULL. */
__attribute__((cold)) kin__sync *
kin__sync_get_failed(uint64_t id, kin__sync *s, uint8_t kind, const char *who,
                     const char *what, int *rc);

/* Looks the handle up and returns its record LOCKED, or NULL with a
 * misuse error made current and *rc set: KIN_EINVAL (zero, garbage, or a
 * record of the other kind), KIN_ESTALE (destroyed). who and what name
 * the function and the kind ("mutex", "semaphore") in the message.
 * Inline: one bounds check, one indexed load, the lock and one compare of
 * generation and kind; everything else is the cold kin__sync_get_failed.
 * (A zero generation never matches: records start at 1 and skip 0.) */
static inline kin__sync *kin__sync_get(uint64_t id, uint8_t kind,
                                       const char *who, const char *what,
                                       int *rc) {
    if (KIN__UNLIKELY(!kin__table_has(&kin__sync_table, (uint32_t)id)))
        return kin__sync_get_failed(id, NULL, kind, who, what, rc);
    kin__sync *s = kin__table_at(kin__sync_chunks, (uint32_t)id,
                                 KIN__SYNC_CHUNK_SHIFT, sizeof(kin__sync));
    kin__lock_acquire(&s->lock);
    if (KIN__LIKELY(s->gen == (uint32_t)(id >> 32) && s->kind == kind))
        return s;
    return kin__sync_get_failed(id, s, kind, who, what, rc);
}

/* Destroys a locked record (checked by the caller: nothing held, no
 * waiter) and unlocks it; every handle to it reads as stale from now. */
void kin__sync_destroy_locked(kin__sync *s);

/* Takes a permit for co (owner: the mutex token) from the locked record s,
 * suspending in FIFO order while none is available, and unlocks s.
 * Returns 0, or the cancellation code of co (set as its current error):
 * at once if it would have to wait and its job is cancelling (it does not
 * check when a permit is free, as kotlinx), or after waking cancelled;
 * a permit granted to a cancelled waiter is passed on. */
int kin__sync_acquire_locked(kin__sync *s, kin__job *co, const void *owner);

/* Gives one permit back to the locked record s (which must have one out):
 * to the first waiter (a mutex then belongs to its owner token) or to the
 * count. Does not unlock. */
void kin__sync_release_locked(kin__sync *s);

/* kin__sync_release_locked with its common case inline: nobody waits, the
 * permit goes back to the count. */
static inline void kin__sync_release(kin__sync *s) {
    if (KIN__LIKELY(s->head == NULL)) {
        s->avail++;
        s->owner = NULL;
        return;
    }
    kin__sync_release_locked(s);
}

/* The cancellation code of co's current job, set as the current error. */
int kin__sync_cancelled_rc(kin__job *co);

#endif
