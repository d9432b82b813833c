/*
 * error.h — error objects (internal side of kin_error).
 *
 * An error object is immutable after it is made, except its list of
 * suppressed failures, which a job that failed with it appends to when the
 * job completes (job.c, attach_later). Readers outside that job's family
 * (awaiters of an async that failed with it) may read the list meanwhile,
 * so it is guarded by the object's own lock. References are atomic, so error
 * objects travel freely between threads: a failure made on one worker is
 * read by an awaiter on another.
 *
 * Every coroutine, and every thread outside coroutines, has a "current
 * error" slot (kin_last_error): the object behind the last negative code a
 * kin call returned there. scheduler.c owns the slots; this file reads and writes
 * them through kin__error_slot().
 */
#ifndef KIN_ERROR_H
#define KIN_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

#include "base/lock.h"
#include "kin.h"

struct kin_error {
    atomic_int refs; /* < 0: a static object that is never freed */
    int code;
    kin__lock lock; /* readers' guard of suppressed/nsup/capsup; writers also
                     * hold error.c's suppress_lock */
    const char *type;
    const char *message;
    void *payload;
    void (*payload_free)(void *);
    kin_error *cause;
    kin_error **suppressed;
    size_t nsup, capsup;
    unsigned walk_mark; /* cycle check's visit mark (suppress_lock) */
    uint64_t serial;    /* 0, or this object's name for copy_of */
    uint64_t copy_of;   /* a copy made to break a cycle: the serial of the
                         * original (both guarded by suppress_lock) */
};

static inline bool kin__is_cancel_code(int code) {
    return code == KIN_ECANCELED || code == KIN_ETIMEDOUT;
}

/* kin_error_retain and kin_error_release for a non-NULL error, inline: a
 * tree cancelled from its root retains its cause once per descendant, and
 * each of them releases it when it completes and when it is reclaimed. */
static inline kin_error *kin__error_ref(kin_error *e) {
    if (atomic_load_explicit(&e->refs, memory_order_relaxed) >= 0)
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}
void kin__error_free(kin_error *e); /* the last reference went */
static inline void kin__error_unref(kin_error *e) {
    if (atomic_load_explicit(&e->refs, memory_order_relaxed) >= 0 &&
        atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        kin__error_free(e);
}

/* Makes an error object (one reference, owned by the caller). Never returns
 * NULL: out of memory gives a static object with the same code when kin
 * knows the code, else the static "out of memory" error. `cause` is
 * retained. */
kin_error *kin__error_make(int code, const char *type, kin_error *cause,
                           const char *fmt, ...) KIN_PRINTF(4, 5);
kin_error *kin__error_makev(int code, const char *type, kin_error *cause,
                            const char *fmt, va_list ap);

/* Attaches `e` to `root` as suppressed, unless it is root itself, a
 * cancellation, or already attached (identity, or a copy of it). If e
 * already holds root among its causes and suppressed failures, attaching
 * it would make a reference cycle that is never freed: a copy of e without
 * the edges that lead back to root is attached instead. Out of memory
 * drops it. */
void kin__error_add_suppressed(kin_error *root, kin_error *e);

/* The current-error slot of the calling coroutine or thread. Implemented by
 * the layer that knows the running coroutine (sched/scheduler.c). */
kin_error **kin__error_slot(void);

/* Replaces the current error with e, taking over the caller's reference
 * (e may be NULL). */
void kin__error_set(kin_error *e);

/* Reports misuse: makes an error with type "KinError" and the message,
 * makes it current and returns code. */
int kin__misuse(int code, const char *fmt, ...) KIN_PRINTF(2, 3);


#endif
