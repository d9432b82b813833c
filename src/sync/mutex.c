/*
 * mutex.c — kin_mutex (kotlinx's Mutex): a semaphore with one permit
 * (semaphore.c, waitq.h) plus the optional owner token of kotlinx's
 * lock(owner) / unlock(owner) / holdsLock(owner). The rules and messages
 * follow kotlinx.coroutines' MutexImpl:
 *   - lock / try_lock with a token that already holds the mutex is an
 *     error ("This mutex is already locked by the specified owner"),
 *     instead of a deadlock;
 *   - unlock of an unlocked mutex is an error ("This mutex is not locked");
 *   - unlock with a token other than the holder's is an error; unlock with
 *     no token (NULL) unlocks whoever holds it;
 *   - unlock with waiters hands the lock to the first one (with its token)
 *     before it returns: is_locked stays true, try_lock fails, and the
 *     waiter runs when its worker gets to it while the unlocker runs on.
 */
#include "base/error.h"
#include "job/job.h"
#include "sched/scheduler.h"
#include "sync/waitq.h"

static kin__sync *get_mutex(kin_mutex h, const char *who, int *rc) {
    return kin__sync_get(h.id, KIN__SYNC_MUTEX, who, "mutex", rc);
}

/* "0x..." or "no owner", for messages. */
static const char *fmt_owner(const void *owner, char *buf, size_t len) {
    if (!owner)
        return "no owner";
    snprintf(buf, len, "%p", owner);
    return buf;
}

static int already_locked(const char *who, const void *owner) {
    char b[32];
    return kin__misuse(KIN_EDEADLK,
                       "%s: this mutex is already locked by the specified "
                       "owner %s",
                       who, fmt_owner(owner, b, sizeof b));
}

int kin_mutex_new(kin_mutex *out, const kin_mutex_opts *opts) {
    if (!out)
        return kin__misuse(KIN_EINVAL, "kin_mutex_new: out is NULL");
    out->id = 0;
    bool locked = opts && opts->locked;
    if (kin__sync_new(KIN__SYNC_MUTEX, 1, locked ? 0 : 1, &out->id) < 0)
        return kin__misuse(KIN_ENOMEM, "kin_mutex_new: out of memory");
    return 0;
}

int kin_mutex_destroy(kin_mutex mutex) {
    int rc;
    kin__sync *s = get_mutex(mutex, "kin_mutex_destroy", &rc);
    if (!s)
        return rc;
    if (s->head || s->avail == 0) {
        bool waiters = s->head != NULL;
        kin__lock_release(&s->lock);
        return kin__misuse(KIN_EBUSY, "kin_mutex_destroy: %s",
                           waiters ? "coroutines are waiting for the mutex"
                                   : "the mutex is locked");
    }
    kin__sync_destroy_locked(s);
    return 0;
}

static __attribute__((noinline, cold)) int outside_coroutine(const char *who) {
    return kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine", who);
}

/* The mutex is held (s locked; unlocks it): by this owner token, an error,
 * else suspend in FIFO order. */
static __attribute__((noinline)) int lock_contended(const char *who,
                                                    kin__job *co, kin__sync *s,
                                                    const void *owner) {
    if (owner && s->owner == owner) {
        kin__lock_release(&s->lock);
        return already_locked(who, owner);
    }
    return kin__sync_acquire_locked(s, co, owner);
}

/* The uncontended lock is inline: look-up, one check, two stores. */
static inline int lock_as(const char *who, kin__job *co, kin_mutex mutex,
                          const void *owner) {
    int rc;
    kin__sync *s = get_mutex(mutex, who, &rc);
    if (KIN__UNLIKELY(!s))
        return rc;
    if (KIN__LIKELY(s->avail > 0)) {
        /* Taken without a cancellation check, as kotlinx's lock() does
         * when it does not suspend (kin__sync_acquire_locked). */
        s->avail = 0;
        s->owner = owner;
        kin__lock_release(&s->lock);
        return 0;
    }
    return lock_contended(who, co, s, owner);
}

int kin_mutex_lock(kin_mutex mutex, const void *owner) {
    kin__job *co = kin__running_job();
    if (KIN__UNLIKELY(!co))
        return outside_coroutine("kin_mutex_lock");
    return lock_as("kin_mutex_lock", co, mutex, owner);
}

int kin_mutex_try_lock(kin_mutex mutex, const void *owner) {
    int rc;
    kin__sync *s = get_mutex(mutex, "kin_mutex_try_lock", &rc);
    if (!s)
        return rc;
    if (s->avail > 0) {
        s->avail = 0;
        s->owner = owner;
        kin__lock_release(&s->lock);
        return 1;
    }
    bool mine = owner && s->owner == owner;
    kin__lock_release(&s->lock);
    return mine ? already_locked("kin_mutex_try_lock", owner) : 0;
}

/* Unlock of a mutex that is not locked, or by another owner token (s
 * locked; unlocks it). */
static __attribute__((noinline, cold)) int
unlock_misuse(const char *who, kin__sync *s, const void *owner) {
    if (s->avail > 0) {
        kin__lock_release(&s->lock);
        return kin__misuse(KIN_EPERM, "%s: this mutex is not locked", who);
    }
    const void *holder = s->owner;
    kin__lock_release(&s->lock);
    char a[32], b[32];
    return kin__misuse(KIN_EPERM,
                       "%s: this mutex is locked by %s, but %s is expected",
                       who, fmt_owner(holder, a, sizeof a),
                       fmt_owner(owner, b, sizeof b));
}

static inline int unlock_as(const char *who, kin_mutex mutex,
                            const void *owner) {
    int rc;
    kin__sync *s = get_mutex(mutex, who, &rc);
    if (KIN__UNLIKELY(!s))
        return rc;
    if (KIN__UNLIKELY(s->avail > 0 || (owner && s->owner != owner)))
        return unlock_misuse(who, s, owner);
    kin__sync_release(s); /* to the first waiter, or back to the count */
    kin__lock_release(&s->lock);
    return 0;
}

int kin_mutex_unlock(kin_mutex mutex, const void *owner) {
    return unlock_as("kin_mutex_unlock", mutex, owner);
}

int kin_mutex_holds_lock(kin_mutex mutex, const void *owner) {
    if (!owner)
        return kin__misuse(KIN_EINVAL, "kin_mutex_holds_lock: owner is NULL");
    int rc;
    kin__sync *s = get_mutex(mutex, "kin_mutex_holds_lock", &rc);
    if (!s)
        return rc;
    int holds = s->avail == 0 && s->owner == owner;
    kin__lock_release(&s->lock);
    return holds;
}

int kin_mutex_is_locked(kin_mutex mutex) {
    int rc;
    kin__sync *s = get_mutex(mutex, "kin_mutex_is_locked", &rc);
    if (!s)
        return rc;
    int locked = s->avail == 0;
    kin__lock_release(&s->lock);
    return locked;
}

int kin_mutex_with_lock(kin_mutex mutex, const void *owner, kin_fn fn,
                        void *arg) {
    kin__job *co = kin__running_job();
    if (!co)
        return kin__misuse(KIN_ENOTCORO,
                           "kin_mutex_with_lock: called outside a coroutine");
    if (!fn)
        return kin__misuse(KIN_EINVAL, "kin_mutex_with_lock: function is NULL");
    int rc = lock_as("kin_mutex_with_lock", co, mutex, owner);
    if (rc < 0)
        return rc;
    int result = fn(arg);
    /* finally { unlock(owner) }: its error (fn unlocked or destroyed the
     * mutex itself) replaces fn's result, as a throwing finally does. */
    rc = unlock_as("kin_mutex_with_lock", mutex, owner);
    return rc < 0 ? rc : result;
}
