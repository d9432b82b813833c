/*
 * poll.h — the fd poller inside the scheduler: each worker gets, on its
 * first fd wait, a poller (an epoll instance, or an io_uring ring with
 * -DKIN_POLLER=io_uring, and an eventfd); it then sleeps in the poller
 * (fds, timers and cross-thread wake-ups in one call) instead of its
 * condition variable. See poll.c for the design, poll_uring.c for the
 * io_uring backend. Layer: sched; knows kin__coro, never jobs: the io
 * layer (io/fd.c) builds the cancellable waits and the public calls on top.
 */
#ifndef KIN_SCHED_POLL_H
#define KIN_SCHED_POLL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/lock.h"
#include "sched/coro.h"

/* Which system interface a poller waits in (chosen when it is made). */
enum { KIN__POLL_EPOLL, KIN__POLL_URING };

/* The per-worker poller. Owner thread only, except wake_fd in the worker
 * (kin__worker.poll_wake), which wakers read, and `kind`, which kin_close
 * reads on any thread (set before the poller is published). */
typedef struct kin__poller {
    int kind;         /* KIN__POLL_EPOLL or KIN__POLL_URING */
    int epfd;         /* epoll instance (epoll kind; else -1) */
    int evfd;         /* eventfd: kin__worker_unpark writes it */
    int pending;      /* fd waits begun on this worker and not ended */
    unsigned picks;   /* picks since the last poll while busy */
    int32_t spin_ns;  /* how long an idle worker polls before it blocks:
                         adapted by scheduler.c's spin_polling */
    unsigned spin_skips; /* idle sleeps without spinning (spin_ns 0) */
    struct kin__uring_poller *uring; /* ring and requests (io_uring kind) */
} kin__poller;

/* One coroutine waiting for one fd in one or both directions. Lives on
 * the waiting coroutine's stack from kin__fd_wait_begin to
 * kin__fd_wait_end. Fields below `fired` are written under the fd
 * record's lock by whoever detaches the waiter (readiness on the home
 * thread, or kin__fd_close on any thread), then `fired` is set. */
typedef struct kin__fd_waiter {
    kin__coro *co;      /* the waiting coroutine; its home owns the epoll */
    kin__worker *home;  /* co->home when the wait began (pinned meanwhile) */
    int fd;
    int events;         /* KIN_READABLE | KIN_WRITABLE wanted */
    uint32_t gen;       /* the fd record's generation at the start */
    atomic_bool fired;  /* set when detached (or by the io layer's timer) */
    bool attached;      /* [fd lock] still in the fd record */
    int revents;        /* [fd lock] what was ready (KIN_READABLE...) */
    int result;         /* [fd lock] 0, or -EBADF: closed through kin (or,
                           io_uring, closed before the poll was armed) */
    uint64_t req;       /* [home] the io_uring request in flight, or 0 */
} kin__fd_waiter;

/* Starts waiting: records wt in fd's record and arms fd in the home
 * worker's poller (made on first use; an io_uring poll request is only
 * queued: submitted by the worker's next poll or sleep, and an fd that is
 * not open then wakes the waiter with -EBADF instead of failing here). On
 * the waiting coroutine's thread.
 * Returns 0 (then kin__fd_wait_end must follow), 1 if the fd cannot be
 * polled (a regular file or directory: always ready; nothing to end),
 * KIN_EBUSY (another coroutine waits on fd in one of these directions),
 * -EBADF (fd closed, or being closed through kin_close, or closed through
 * kin since epoch: the value kin__fd_use_begin gave the call that found
 * fd not ready; checked under the record's lock before anything is
 * armed), KIN_ENOMEM, KIN_EINVAL (fd beyond the table: KIN__FD_MAX), or
 * -errno of epoll. */
int kin__fd_wait_begin(kin__fd_waiter *wt, kin__coro *co, int fd, int events,
                       unsigned epoch);

/* Ends a wait begun with 0, on the same thread: if wt is still attached
 * (timeout, cancellation) detaches it and disarms fd in the poller (an
 * io_uring request still in flight is removed now, also after kin_close).
 * After it returns nobody touches wt, and no poll request references
 * the file. */
void kin__fd_wait_end(kin__fd_waiter *wt);

/* Closes fd: every coroutine waiting on it (any worker) is detached, its
 * registration removed, and woken with result -EBADF; the generation moves
 * on so stale readiness is ignored; then close(2). Any thread. Returns 0
 * or -errno of close. */
int kin__fd_close(int fd);

/* Brackets one system call of the io layer on fd (read, write, accept4,
 * connect, poll...) so that kin__fd_close never closes fd under it (see
 * poll.c, CLOSE WHILE IN USE); *epoch gets the number's epoch (how many
 * times kin closed it, mod 2^14; kin__fd_wait_begin checks it). Returns a
 * token for kin__fd_use_end, or
 * NULL if fd is being closed through kin (the call must not be made:
 * -EBADF). Any thread; never suspends (yields the thread for the few
 * microseconds of a close(2) of the same number). kin__fd_use_end may
 * change errno: read it before. */
void *kin__fd_use_begin(int fd, unsigned *epoch);

/* Marks fd as one of kin's own (own = true, right after kin made it) or
 * no longer (own = false, right before kin closes it). A call through kin
 * on an own fd (kin_read, kin_wait_fd, kin_close, ...) fails with -EBADF
 * and a message: it can only come from a caller whose fd was closed with
 * plain close(2) and whose number kin then reused for a poller, an
 * eventfd or a ring, and reading, arming or closing that would steal the
 * loop's wake-ups. Numbers the table cannot hold go unguarded. */
void kin__fd_mark_own(int fd, bool own);
void kin__fd_use_end(void *token, int fd);

/* Polls w's poller (the calling thread's worker) and wakes the coroutines
 * whose fds are ready. timeout_ms: 0 do not block, -1 forever. Returns the
 * number of coroutines woken. */
int kin__poll(kin__worker *w, int timeout_ms);

/* fd waits pending on w (owner thread). */
static inline int kin__poll_pending(const kin__poller *p) {
    return p ? p->pending : 0;
}

/* w's poller, made on first use (owner thread, while w is not asleep);
 * NULL if out of memory or out of fds. kin_main_attach makes it at once:
 * the host waits on its epoll. */
kin__poller *kin__poller_of(kin__worker *w);

/* Frees w's poller (the worker is being freed). */
void kin__poller_free(kin__poller *p);

/* "epoll" or "io_uring": what w's poller waits in; NULL if w has none
 * yet. For tests and benchmarks. */
const char *kin__poller_kind(const kin__worker *w);

/* The largest fd number kin can wait on, plus one. */
#define KIN__FD_MAX (1 << 22)

#endif
