/*
 * fd.c — suspending, cancellable I/O: kin_wait_fd and the socket call
 * wrappers with -errno results, kin_close, kin_getaddrinfo.
 *
 * LAYER: io. The poller is the scheduler's (sched/poll.c: one epoll per
 * worker, the fd records, readiness wakes the coroutine on its home);
 * here a wait becomes a suspension point with kin's contract (DESIGN rule
 * 2): a cancelled caller gets its cancellation code at once, before any
 * system call and again after resuming (prompt cancellation: a read that
 * became ready meanwhile is not performed, so no data is consumed), built
 * as every other wait on kin__job_wait (job/coroutine.c), with an optional
 * timer as kin_delay's (api/wait.c).
 *
 * The wrappers try the system call first and wait only on EAGAIN, as Go's
 * net package does: a ready fd costs one cancellation check on top of the
 * system call, never an epoll_ctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error.h"
#include "job/job.h"
#include "sched/poll.h"
#include "sched/scheduler.h"

static int cancelled_rc(kin__job *co) {
    kin_error *e = kin__job_cancel_error(co->cur);
    int code = e->code;
    kin__error_set(e);
    return code;
}

static kin__job *need_coro(const char *who) {
    kin__job *co = kin__running_job();
    if (!co)
        kin__misuse(KIN_ENOTCORO, "%s: called outside a coroutine", who);
    return co;
}

/* ---- Waiting -------------------------------------------------------------*/

typedef struct fd_timeout {
    kin__fd_waiter *wt;
    bool fired; /* home thread only */
} fd_timeout;

static void timeout_fire(kin__timer *t) {
    fd_timeout *to = t->arg;
    kin__coro *co = to->wt->co;
    to->fired = true;
    atomic_store_explicit(&to->wt->fired, true, memory_order_release);
    kin__wake(co);
}

/* Waits for fd on the calling coroutine co (not cancelled on entry).
 * epoch: the fd's epoch when the system call that found it not ready
 * began (kin__fd_use_begin): if kin_close closed the number since, the
 * wait would be on a closed or reused number: -EBADF. Returns the ready
 * directions, 0 on timeout, or a code. */
static int wait_fd(kin__job *co, int fd, int events, int64_t timeout_ms,
                   unsigned epoch) {
    kin__fd_waiter wt;
    /* -EBADF if closed through kin since that call: whatever the number
     * names now (nothing, or another file) is not what we were reading */
    int rc = kin__fd_wait_begin(&wt, &co->sched, fd, events, epoch);
    if (rc == 1)
        return events; /* not pollable: always ready */
    if (rc == KIN_EBUSY)
        return kin__misuse(KIN_EBUSY,
                           "kin_wait_fd: another coroutine already waits "
                           "on fd %d in this direction",
                           fd);
    if (rc == KIN_ENOMEM)
        return kin__misuse(KIN_ENOMEM, "kin_wait_fd: out of memory");
    if (rc < 0)
        return rc;
    kin__worker *w = co->sched.home;
    kin__timer t;
    fd_timeout to = {.wt = &wt};
    int64_t until = 0;
    if (timeout_ms > 0) {
        kin__timer_init(&t, timeout_fire, &to);
        int64_t now = kin__now(w);
        until = timeout_ms > (INT64_MAX - now) / 1000000
                    ? INT64_MAX
                    : now + timeout_ms * 1000000;
        if (kin__timer_add(&w->timers, &t, until, now) < 0) {
            kin__fd_wait_end(&wt);
            return kin__misuse(KIN_ENOMEM, "kin_wait_fd: out of memory");
        }
    }
    /* Keeps an Unconfined coroutine on w: its registration is in w's epoll. */
    co->sched.timers_armed++;
    kin__dbg_wait(co, KIN__W_FD, (uint64_t)fd, until);
    kin__job_wait(co, &wt.fired, true);
    kin__dbg_wait(co, KIN__W_NONE, 0, 0);
    kin__fd_wait_end(&wt); /* after this nobody touches wt */
    if (timeout_ms > 0)
        kin__timer_remove(&w->timers, &t);
    co->sched.timers_armed--;
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    if (wt.result < 0)
        return wt.result;
    return wt.revents; /* 0: the timer fired first */
}

/* poll(2) with no timeout: the ready directions among events, 0, or
 * -EBADF. */
static int look(int fd, int events, unsigned *epoch) {
    struct pollfd p = {.fd = fd,
                       .events = (short)(((events & KIN_READABLE) ? POLLIN : 0) |
                                         ((events & KIN_WRITABLE) ? POLLOUT : 0))};
    void *use = kin__fd_use_begin(fd, epoch);
    if (!use)
        return -EBADF;
    int n = poll(&p, 1, 0);
    if (n < 0)
        n = -errno;
    kin__fd_use_end(use, fd);
    if (n < 0)
        return n;
    if (n == 0)
        return 0;
    if (p.revents & POLLNVAL)
        return -EBADF;
    int k = 0;
    if (p.revents & (POLLIN | POLLHUP | POLLERR))
        k |= KIN_READABLE;
    if (p.revents & (POLLOUT | POLLHUP | POLLERR))
        k |= KIN_WRITABLE;
    return k & events;
}

int kin_wait_fd(int fd, int events, int64_t timeout_ms) {
    kin__job *co = need_coro("kin_wait_fd");
    if (!co)
        return KIN_ENOTCORO;
    if (fd < 0 || fd >= KIN__FD_MAX)
        return kin__misuse(KIN_EINVAL, "kin_wait_fd: bad fd %d", fd);
    if (events <= 0 || (events & ~(KIN_READABLE | KIN_WRITABLE)))
        return kin__misuse(KIN_EINVAL,
                           "kin_wait_fd: events must be KIN_READABLE, "
                           "KIN_WRITABLE or both (got %d)",
                           events);
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    unsigned epoch;
    int k = look(fd, events, &epoch);
    if (k != 0 || timeout_ms == 0)
        return k;
    return wait_fd(co, fd, events, timeout_ms < 0 ? -1 : timeout_ms, epoch);
}

int kin_set_nonblocking(int fd) {
    if (fd < 0)
        return kin__misuse(-EBADF, "kin_set_nonblocking: bad fd %d", fd);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

int kin_close(int fd) {
    if (fd < 0)
        return kin__misuse(-EBADF, "kin_close: bad fd %d", fd);
    return kin__fd_close(fd);
}

/* ---- Reading and writing ---------------------------------------------------*/

enum { OP_READ, OP_RECV, OP_WRITE, OP_SEND };

static long io_call(int op, int fd, void *buf, size_t n, int flags) {
    switch (op) {
    case OP_READ:
        return read(fd, buf, n);
    case OP_RECV:
        return recv(fd, buf, n, flags | MSG_DONTWAIT);
    case OP_WRITE:
        return write(fd, buf, n);
    default:
        return send(fd, buf, n, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
    }
}

/* One system call, counted so that a kin_close on another thread waits
 * for it to return before it closes the number (sched/poll.c). Returns
 * the count or -errno. */
static long io_once(int op, int fd, void *buf, size_t n, int flags,
                    unsigned *epoch) {
    void *use = kin__fd_use_begin(fd, epoch);
    if (KIN__UNLIKELY(!use))
        return -EBADF;
    long r = io_call(op, fd, buf, n, flags);
    if (r < 0)
        r = -errno;
    kin__fd_use_end(use, fd);
    return r;
}

/* One read-like call: suspends until some bytes, EOF or an error. */
static long do_read(const char *who, int op, int fd, void *buf, size_t n,
                    int flags) {
    kin__job *co = need_coro(who);
    if (!co)
        return KIN_ENOTCORO;
    if (fd < 0)
        return kin__misuse(-EBADF, "%s: bad fd %d", who, fd);
    if (!buf && n)
        return kin__misuse(KIN_EINVAL, "%s: buf is NULL", who);
    for (;;) {
        if (kin__job_is_cancelling(co->cur))
            return cancelled_rc(co);
        unsigned epoch;
        long r = io_once(op, fd, buf, n, flags, &epoch);
        if (r >= 0)
            return r;
        if (r == -EINTR)
            continue;
        if (r != -EAGAIN && r != -EWOULDBLOCK)
            return r;
        int rc = wait_fd(co, fd, KIN_READABLE, -1, epoch);
        if (rc < 0)
            return rc;
    }
}

/* All n bytes, or the short count when an error stops it after progress. */
static long do_write(const char *who, int op, int fd, const void *buf,
                     size_t n, int flags) {
    kin__job *co = need_coro(who);
    if (!co)
        return KIN_ENOTCORO;
    if (fd < 0)
        return kin__misuse(-EBADF, "%s: bad fd %d", who, fd);
    if (!buf && n)
        return kin__misuse(KIN_EINVAL, "%s: buf is NULL", who);
    size_t done = 0;
    long err = 0;
    do {
        if (kin__job_is_cancelling(co->cur)) {
            if (done)
                return (long)done;
            return cancelled_rc(co);
        }
        unsigned epoch;
        long r = io_once(op, fd, (char *)buf + done, n - done, flags, &epoch);
        if (r >= 0) {
            done += (size_t)r;
            continue;
        }
        if (r == -EINTR)
            continue;
        if (r != -EAGAIN && r != -EWOULDBLOCK) {
            err = r;
            break;
        }
        int rc = wait_fd(co, fd, KIN_WRITABLE, -1, epoch);
        if (rc < 0) {
            err = rc;
            break;
        }
    } while (done < n);
    return done ? (long)done : err;
}

long kin_read(int fd, void *buf, size_t n) {
    return do_read("kin_read", OP_READ, fd, buf, n, 0);
}

long kin_recv(int fd, void *buf, size_t n, int flags) {
    return do_read("kin_recv", OP_RECV, fd, buf, n, flags);
}

long kin_write(int fd, const void *buf, size_t n) {
    return do_write("kin_write", OP_WRITE, fd, buf, n, 0);
}

long kin_send(int fd, const void *buf, size_t n, int flags) {
    return do_write("kin_send", OP_SEND, fd, buf, n, flags);
}

/* ---- Connections -------------------------------------------------------------*/

int kin_accept(int fd, struct sockaddr *addr, unsigned *addrlen) {
    kin__job *co = need_coro("kin_accept");
    if (!co)
        return KIN_ENOTCORO;
    if (fd < 0)
        return kin__misuse(-EBADF, "kin_accept: bad fd %d", fd);
    if (addr && !addrlen)
        return kin__misuse(KIN_EINVAL, "kin_accept: addr without addrlen");
    for (;;) {
        if (kin__job_is_cancelling(co->cur))
            return cancelled_rc(co);
        unsigned epoch;
        void *use = kin__fd_use_begin(fd, &epoch);
        if (!use)
            return -EBADF;
        int c = accept4(fd, addr, (socklen_t *)addrlen,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0)
            c = -errno;
        kin__fd_use_end(use, fd);
        if (c >= 0)
            return c;
        if (c == -EINTR || c == -ECONNABORTED)
            continue;
        if (c != -EAGAIN && c != -EWOULDBLOCK)
            return c;
        int rc = wait_fd(co, fd, KIN_READABLE, -1, epoch);
        if (rc < 0)
            return rc;
    }
}

int kin_connect(int fd, const struct sockaddr *addr, unsigned len) {
    kin__job *co = need_coro("kin_connect");
    if (!co)
        return KIN_ENOTCORO;
    if (fd < 0)
        return kin__misuse(-EBADF, "kin_connect: bad fd %d", fd);
    if (!addr)
        return kin__misuse(KIN_EINVAL, "kin_connect: addr is NULL");
    if (kin__job_is_cancelling(co->cur))
        return cancelled_rc(co);
    unsigned epoch, epoch2;
    void *use = kin__fd_use_begin(fd, &epoch);
    if (!use)
        return -EBADF;
    int c = connect(fd, addr, (socklen_t)len);
    if (c < 0)
        c = -errno;
    kin__fd_use_end(use, fd);
    if (c == 0)
        return 0;
    if (c != -EINPROGRESS && c != -EINTR)
        return c;
    /* EINTR: the connection goes on asynchronously, as with EINPROGRESS.
     * Writable (or an error) means the attempt is over; SO_ERROR says how. */
    int rc = wait_fd(co, fd, KIN_WRITABLE, -1, epoch);
    if (rc < 0)
        return rc;
    int err = 0;
    socklen_t elen = sizeof err;
    use = kin__fd_use_begin(fd, &epoch2);
    if (!use)
        return -EBADF;
    c = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (c < 0)
        c = -errno;
    kin__fd_use_end(use, fd);
    if (c < 0)
        return c;
    return err ? -err : 0;
}

/* ---- Names -------------------------------------------------------------------*/

typedef struct gai_call {
    const char *node, *service;
    const struct addrinfo *hints;
    struct addrinfo *res;
    int rc;
    int err; /* errno for EAI_SYSTEM */
} gai_call;

static int gai_block(void *arg) {
    gai_call *g = arg;
    g->rc = getaddrinfo(g->node, g->service, g->hints, &g->res);
    g->err = errno;
    return 0;
}

int kin_getaddrinfo(const char *node, const char *service,
                    const struct addrinfo *hints, struct addrinfo **res) {
    kin__job *co = need_coro("kin_getaddrinfo");
    if (!co)
        return KIN_ENOTCORO;
    if (!res)
        return kin__misuse(KIN_EINVAL, "kin_getaddrinfo: res is NULL");
    if (!node && !service)
        return kin__misuse(KIN_EINVAL,
                           "kin_getaddrinfo: node and service are both NULL");
    *res = NULL;
    gai_call g = {.node = node, .service = service, .hints = hints};
    int rc = kin_with_context(kin_dispatcher_io(), gai_block, &g);
    if (rc < 0) { /* cancelled (after the lookup ended), closed, no memory */
        if (g.rc == 0 && g.res)
            freeaddrinfo(g.res);
        return rc;
    }
    if (g.rc == 0) {
        *res = g.res;
        return 0;
    }
    if (g.rc == EAI_SYSTEM)
        return g.err > 0 ? -g.err : -EIO;
    if (g.rc == EAI_MEMORY)
        return kin__misuse(KIN_ENOMEM, "kin_getaddrinfo: out of memory");
    kin__error_set(kin__error_make(KIN_EADDRINFO, "UnknownHostException",
                                   NULL, "getaddrinfo(%s, %s): %s",
                                   node ? node : "NULL",
                                   service ? service : "NULL",
                                   gai_strerror(g.rc)));
    return KIN_EADDRINFO;
}
