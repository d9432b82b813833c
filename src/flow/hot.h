/*
 * hot.h — the records behind kin_state_flow and kin_shared_flow (Kotlin's
 * MutableStateFlow and MutableSharedFlow), their table, and the collect
 * loops that their as_flow stages run.
 *
 * HANDLES. As kin_channel and kin_mutex: records live in chunks that are
 * allocated on demand and never freed (base/table.h; hot.c owns the
 * table); a handle is {generation << 32 | index}, bounds-checked, and its
 * generation and kind are compared under the record's own spinlock.
 * Destroy bumps the generation, so every later call with an old handle is
 * KIN_ESTALE.
 *
 * SUBSCRIBERS. A collector (Kotlin's subscriber) links a kin__hot_sub that
 * lives on its own coroutine's stack for the whole collect. It waits for a
 * value by setting `waiting` and parking in kin__job_wait on `fired`; a
 * setter or emitter that makes a value readable for it clears `waiting`,
 * sets `fired` and calls kin__wake, all under the record's lock (as the
 * Mutex does). The subscriber always takes the lock again after it wakes,
 * before its frame can go away, so the waker has finished with the record
 * on its stack by then.
 *
 * DESTROY WITH SUBSCRIBERS. Destroy unlinks every subscriber and suspended
 * emitter under the lock, marks each (`dead`, or the emitter's state) and
 * wakes it, then frees the record at once. A subscriber or emitter that
 * comes back locks the record's spinlock (memory that is never unmapped,
 * possibly reused by a new flow by then) and looks only at its own record,
 * written under that same lock: marked, it returns KIN_ECANCELED without
 * touching the flow again. So no reference count is needed.
 *
 * STATE FLOW. One value (esize bytes, malloc'd at creation) and a version
 * that counts changes. A subscriber remembers the version it read last and
 * waits while it is current; it reads the value and its version in one
 * critical section, compares it with the value it passed on last (the
 * flow's equality, outside the lock) and passes it on only if it differs
 * (Kotlin's StateFlow collector does the same `oldState != newState`).
 * A custom equality runs outside the lock: set and compare_and_set copy
 * the value and its version, compare unlocked, and retry if the version
 * moved meanwhile (optimistic), so eq may be slow or call kin freely.
 *
 * SHARED FLOW. Kotlin's SharedFlowImpl, with absolute indices: values
 * [head, end) are in a ring of rcap (a power of two, grown on demand up to
 * cap = replay + extra_buffer) slots; the replay cache is [replay_idx,
 * end) (at most `replay` values; reset_replay moves replay_idx to end);
 * each subscriber reads at its own index, from replay_idx when it
 * subscribes; min_idx is the slowest subscriber's. A value is kept while
 * the replay cache or a subscriber still needs it: head = min(min_idx,
 * replay_idx) (replay_idx alone without subscribers). The buffer is full
 * when end - head reaches cap and a subscriber still needs the oldest
 * value (min_idx <= replay_idx, Kotlin's condition); an emit then, under
 * SUSPEND, queues a kin__hot_emitter on its stack (FIFO) and waits: each
 * time the slowest subscriber moves on, queued values move into the ring
 * and their emitters resume. With cap == 0 (Kotlin's default
 * MutableSharedFlow()) subscribers read the first queued emitter's value
 * straight from its record (a rendezvous), and that emitter resumes once
 * every subscriber has taken it. Without subscribers nothing suspends: the
 * value only goes into the replay cache.
 *
 * LOCKS. kin__hot.lock is a spinlock and a leaf, except that kin__wake is
 * called under it (as under the Mutex's lock). User callbacks (equality,
 * the collector's function) run without it.
 */
#ifndef KIN_FLOW_HOT_H
#define KIN_FLOW_HOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lock.h"
#include "base/table.h"
#include "job/job.h"
#include "kin.h"

enum kin__hot_kind {
    KIN__HOT_FREE = 0,
    KIN__HOT_STATE = 1,
    KIN__HOT_SHARED = 2,
};

/* A collector's subscription, on its coroutine's stack during a collect. */
typedef struct kin__hot_sub {
    struct kin__hot_sub *next, *prev; /* [lock] the record's list */
    kin__job *co;                     /* the collecting coroutine */
    uint64_t idx;  /* [lock] shared: next index to read; state: the
                    * version read last */
    bool waiting;  /* [lock] parked until a value is readable */
    bool dead;     /* [lock] the flow was destroyed (unlinked) */
    atomic_bool fired; /* set by the waker, under the lock */
} kin__hot_sub;

/* kin__hot_emitter.state */
enum {
    KIN__HE_WAITING = 0,
    KIN__HE_DONE = 1,      /* the value went into the flow */
    KIN__HE_DESTROYED = 2, /* the flow was destroyed first */
};

/* A suspended kin_shared_flow_emit, on its coroutine's stack. */
typedef struct kin__hot_emitter {
    struct kin__hot_emitter *next, *prev; /* [lock] FIFO */
    kin__job *co;
    const void *value;
    int state;         /* [lock] KIN__HE_* */
    atomic_bool fired; /* set by the waker, under the lock */
} kin__hot_emitter;

typedef struct kin__hot {
    kin__lock lock;
    uint32_t gen;  /* [lock] bumped by destroy */
    uint32_t idx;  /* [immutable] slot index */
    uint8_t kind;  /* [lock] enum kin__hot_kind */
    uint8_t overflow; /* shared: kin_overflow */
    size_t esize;     /* [lock] bytes per value */
    int nsubs;        /* [lock] subscribers (subscriptionCount) */
    int nwaiting;     /* [lock] of them, parked */
    kin__hot_sub *subs, *subs_tail; /* [lock] */

    /* state flow */
    char *value;      /* [lock] the current value */
    uint64_t version; /* [lock] bumped on each change */
    kin_flow_equal_fn eq;
    void *eq_arg;

    /* shared flow (indices absolute, see the top) */
    size_t replay, cap; /* replay, replay + extra_buffer */
    char *ring;         /* [lock] rcap slots, NULL until needed */
    uint64_t rcap;      /* [lock] a power of two, or 0 */
    uint64_t end, replay_idx, min_idx; /* [lock] */
    kin__hot_emitter *qhead, *qtail;   /* [lock] suspended emitters */
    size_t qlen;                       /* [lock] */

    struct kin__hot *free_next; /* [table mu] */
} kin__hot;

/* The table (hot.c; base/table.h): chunks of records, never freed. */
#define KIN__HOT_CHUNK_SHIFT 8
extern _Atomic(void *) kin__hot_chunks[KIN__TABLE_MAX_CHUNKS];
extern kin__table kin__hot_table;

/* A new record of kind (locked, fields zeroed but for gen and idx), or NULL
 * if out of memory (no error set). */
kin__hot *kin__hot_alloc(uint8_t kind);

/* Its handle (h locked). */
static inline uint64_t kin__hot_id(kin__hot *h) {
    return ((uint64_t)h->gen << 32) | h->idx;
}

/* The error half of kin__hot_get. */
__attribute__((cold)) kin__hot *kin__hot_get_failed(uint64_t id, kin__hot *h,
                                                    const char *who,
                                                    const char *what,
                                                    int *rc);

/* Looks the handle up and returns its record LOCKED, or NULL with a misuse
 * error made current and *rc set: KIN_EINVAL (zero, garbage, the other
 * kind), KIN_ESTALE (destroyed). */
static inline kin__hot *kin__hot_get(uint64_t id, uint8_t kind,
                                     const char *who, const char *what,
                                     int *rc) {
    if (KIN__UNLIKELY(!kin__table_has(&kin__hot_table, (uint32_t)id)))
        return kin__hot_get_failed(id, NULL, who, what, rc);
    kin__hot *h = kin__table_at(kin__hot_chunks, (uint32_t)id,
                                KIN__HOT_CHUNK_SHIFT, sizeof(kin__hot));
    kin__lock_acquire(&h->lock);
    if (KIN__LIKELY(h->gen == (uint32_t)(id >> 32) && h->kind == kind))
        return h;
    return kin__hot_get_failed(id, h, who, what, rc);
}

/* Frees a record whose contents the caller has already taken apart (h
 * locked; unlocks it): old handles read as stale from now on. */
void kin__hot_free_locked(kin__hot *h);

/* Subscriber lists (h locked). */
void kin__hot_link(kin__hot *h, kin__hot_sub *s);
void kin__hot_unlink(kin__hot *h, kin__hot_sub *s);

/* Wakes a parked subscriber (h locked). */
void kin__hot_wake_sub(kin__hot *h, kin__hot_sub *s);

/* Unlinks every subscriber, marks it dead and wakes it (destroy). */
void kin__hot_kill_subs(kin__hot *h);

/* Parks the calling subscriber until a waker fires it or its job is
 * cancelled (h locked on entry and on return). */
void kin__hot_park(kin__hot *h, kin__hot_sub *s);

/* KIN_ECANCELED with "the StateFlow / SharedFlow was destroyed" current. */
int kin__hot_destroyed_rc(const char *what);

/* The cancellation code of co's current job, made current. */
int kin__hot_cancelled_rc(kin__job *co);

/* KIN_ENOTCORO with the message made. */
int kin__hot_outside(const char *who);

/* Checks size and pointer for a value transfer (h locked; on error
 * unlocks it and returns KIN_EINVAL with the message made, else 0). */
int kin__hot_check_size(kin__hot *h, const void *p, size_t size,
                        const char *who, const char *name);

/* Memory for esize bytes: buf (of bufsize bytes) if it fits, else
 * malloc'd; NULL if out of memory. kin__hot_buf_free undoes it. */
void *kin__hot_buf(void *buf, size_t bufsize, size_t esize);
void kin__hot_buf_free(void *buf, void *p);

/* What a collect passes each value to: the as_flow stage's emit into its
 * collector. Returns 0 to go on, negative to stop with that code. */
typedef int (*kin__hot_fn)(const void *value, void *ctx);

/* The collect loops (suspend; never return 0): subscribe to the flow,
 * pass values to fn until it fails, the collector is cancelled
 * (cancellation code) or the flow is destroyed (KIN_ECANCELED), then
 * unsubscribe. KIN_ENOTCORO, KIN_EINVAL, KIN_ESTALE for bad calls. who
 * names the caller in messages. */
int kin__state_flow_collect(uint64_t id, kin__hot_fn fn, void *ctx,
                            const char *who);
int kin__shared_flow_collect(uint64_t id, kin__hot_fn fn, void *ctx,
                             const char *who);

/* What the two collects share (hot.c): checks the caller and the handle
 * (of kind; what names it in messages), makes buf for nvals values of the
 * flow's esize (on the stack when small), looks the record up again and
 * calls subscribe with it locked and sub ready but for idx (zeroed, its
 * coroutine set, not linked). subscribe links sub and runs the loop, whose
 * result is returned. */
typedef int (*kin__hot_subscribe_fn)(kin__hot *h, kin__hot_sub *sub,
                                     char *buf, kin__hot_fn fn, void *ctx);
int kin__hot_collect(uint64_t id, uint8_t kind, const char *what,
                     size_t nvals, kin__hot_subscribe_fn subscribe,
                     kin__hot_fn fn, void *ctx, const char *who);

/* The as_flow of both kinds: a cold flow stage (flow.h) whose collect
 * runs collect(id, ...) into the collector (KIN_EINVAL / KIN_ESTALE for a
 * bad id, checked now and again at each collect). */
int kin__hot_as_flow(uint64_t id, uint8_t kind, kin_flow *out,
                     int (*collect)(uint64_t, kin__hot_fn, void *,
                                    const char *),
                     const char *who, const char *what, const char *col_who);

#endif
