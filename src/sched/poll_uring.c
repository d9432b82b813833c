/*
 * poll_uring.c — the io_uring backend of the per-worker poller (built
 * with -DKIN_POLLER=io_uring; epoll stays the default, and the fallback
 * at run time: poll.c).
 *
 * LAYER: sched. OWNERSHIP: everything here belongs to the poller's owner
 * thread (the worker's): the ring, the request table. Other threads never
 * touch a ring: kin_close on another thread only detaches and wakes the
 * waiter (poll.c, under the fd record's lock), and the waiter's home
 * thread removes the request when the wait ends. The rings are made
 * IORING_SETUP_SINGLE_ISSUER, which the kernel enforces.
 *
 * ONE RING PER WORKER, as one epoll per worker (poll.c): a wait is armed
 * on its coroutine's home, so readiness, timeouts and cancellations of a
 * wait are handled by one thread.
 *
 * A WAIT = ONE ONESHOT IORING_OP_POLL_ADD. kin__fd_wait_begin queues it;
 * nothing is entered then: the request is submitted by the worker's next
 * io_uring_enter, which is the one it sleeps in when it has nothing left
 * to run (submit and wait in one system call, where epoll needs
 * epoll_ctl then epoll_wait), or a non-blocking one when a busy worker
 * polls (sched/scheduler.c: when its queue drains, every 61 picks). While
 * nothing is queued and the kernel has nothing for us (IORING_SQ_TASKRUN
 * clear, see uring.c), a non-blocking poll is a few memory reads: the
 * busy worker's polls cost no system call (an idle worker with waits
 * pending does not spin: it submits and sleeps in one enter).
 *
 * REQUEST IDS. A request's user_data is (sequence << 32 | slot) in a
 * per-worker table: the slot points to the waiter while the wait lasts.
 * When a wait ends without its request completing (timeout, cancellation,
 * kin_close), kin__uring_disarm clears the slot's waiter (the slot stays
 * taken until the request's last completion arrives, then is reused) and
 * submits IORING_OP_POLL_REMOVE at once with GETEVENTS: the cancellation
 * runs in that call, so the file is no longer referenced by the ring when
 * the wait is over (a close(2) by the user then really closes it). A
 * completion whose slot has no waiter is stale and dropped; the fd record's
 * generation (poll.c) is checked as well.
 *
 * WAKE-UPS from other threads: kin__worker_unpark writes the worker's
 * eventfd (as for epoll), which a multishot POLL_ADD watches: every write
 * wakes the poll, and the counter is never read (a read per wake-up saved).
 * Where the kernel has no multishot poll (5.11, 5.12), a oneshot poll is
 * re-armed after reading the counter.
 *
 * Rejected: multishot polls on the user's fds (one per fd and worker, as
 * Go's edge-triggered epoll): a request holds a reference to its file, so
 * an fd closed with close(2) rather than kin_close would stay open (its
 * peer never sees EOF) until the ring goes; IORING_OP_MSG_RING for
 * wake-ups (a waker that is not a kin worker has no ring to send from);
 * IORING_OP_READ on the eventfd (its buffer must outlive the ring's
 * asynchronous teardown); a TIMEOUT request for timers (EXT_ARG gives the
 * wait its timeout without one).
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/kin_assert.h"
#include "sched/poll_uring.h"
#include "sched/scheduler.h"
#include "sched/uring.h"

#define SQ_ENTRIES 256
#define CQ_ENTRIES 4096 /* completions overflow into the kernel (NODROP) */
#define UD_IGNORE 0     /* POLL_REMOVE's own completion */
#define UD_WAKE 1       /* the eventfd's poll */
#define NO_SLOT UINT32_MAX

typedef struct req_slot {
    kin__fd_waiter *wt; /* NULL: free, or the wait is over (stale) */
    uint32_t seq;       /* 0: free; else the request's sequence */
    uint32_t next_free;
} req_slot;

struct kin__uring_poller {
    kin__uring ring;
    req_slot *slots;
    uint32_t nslots;
    uint32_t free_head; /* NO_SLOT: none free */
    uint32_t seq;       /* the last sequence given out */
    bool wake_armed;    /* the eventfd's poll is in the ring */
    bool wake_oneshot;  /* the kernel has no multishot poll */
};

/* ---- The request table -------------------------------------------------*/

static uint32_t slot_alloc(struct kin__uring_poller *u) {
    if (u->free_head == NO_SLOT) {
        uint32_t n = u->nslots ? u->nslots * 2 : 64;
        req_slot *s = kin__realloc(u->slots, n * sizeof *s);
        if (!s)
            return NO_SLOT;
        for (uint32_t i = u->nslots; i < n; i++)
            s[i] = (req_slot){.next_free = i + 1 < n ? i + 1 : NO_SLOT};
        u->slots = s;
        u->free_head = u->nslots;
        u->nslots = n;
    }
    uint32_t i = u->free_head;
    u->free_head = u->slots[i].next_free;
    if (++u->seq == 0)
        u->seq = 1;
    u->slots[i].seq = u->seq;
    u->slots[i].wt = NULL;
    return i;
}

static void slot_free(struct kin__uring_poller *u, uint32_t i) {
    u->slots[i] = (req_slot){.next_free = u->free_head};
    u->free_head = i;
}

static uint64_t ud_of(struct kin__uring_poller *u, uint32_t i) {
    return (uint64_t)u->slots[i].seq << 32 | i;
}

/* The slot a request id names, or NULL if it is not (or no longer) one. */
static req_slot *slot_of(struct kin__uring_poller *u, uint64_t ud) {
    uint32_t i = (uint32_t)ud, seq = (uint32_t)(ud >> 32);
    if (seq == 0 || i >= u->nslots || u->slots[i].seq != seq)
        return NULL;
    return &u->slots[i];
}

static void set_events(struct io_uring_sqe *sqe, uint32_t ev) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    ev = ev << 16 | ev >> 16; /* the kernel reads two halfwords (liburing) */
#endif
    sqe->poll32_events = ev;
}

/* ---- Set-up ---------------------------------------------------------------*/

int kin__uring_poller_init(kin__poller *p) {
    struct kin__uring_poller *u = kin__calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    int rc = kin__uring_init(&u->ring, SQ_ENTRIES, CQ_ENTRIES);
    if (rc < 0) {
        kin__free(u);
        return rc;
    }
    int evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (evfd < 0) {
        rc = -errno;
        kin__uring_free(&u->ring);
        kin__free(u);
        return rc;
    }
    u->free_head = NO_SLOT;
    p->evfd = evfd;
    p->uring = u;
    kin__fd_mark_own(u->ring.fd, true);
    kin__fd_mark_own(evfd, true);
    return 0;
}

void kin__uring_poller_fini(kin__poller *p) {
    struct kin__uring_poller *u = p->uring;
    kin__fd_mark_own(u->ring.fd, false);
    kin__uring_free(&u->ring); /* cancels what is in flight */
    kin__free(u->slots);
    kin__free(u);
    p->uring = NULL;
}

/* ---- Waits ---------------------------------------------------------------*/

int kin__uring_arm(kin__poller *p, kin__fd_waiter *wt) {
    struct kin__uring_poller *u = p->uring;
    uint32_t i = slot_alloc(u);
    if (i == NO_SLOT)
        return KIN_ENOMEM;
    struct io_uring_sqe *sqe = kin__uring_sqe(&u->ring);
    if (!sqe) { /* the kernel takes no more submissions: out of resources */
        slot_free(u, i);
        return KIN_ENOMEM;
    }
    uint32_t ev = 0;
    if (wt->events & KIN_READABLE)
        ev |= POLLIN | POLLRDHUP;
    if (wt->events & KIN_WRITABLE)
        ev |= POLLOUT;
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = wt->fd;
    set_events(sqe, ev);
    sqe->user_data = ud_of(u, i);
    u->slots[i].wt = wt;
    wt->req = sqe->user_data;
    return 0;
}

void kin__uring_disarm(kin__poller *p, kin__fd_waiter *wt) {
    if (!wt->req)
        return; /* its completion came: nothing in flight */
    struct kin__uring_poller *u = p->uring;
    req_slot *s = slot_of(u, wt->req);
    KIN__ASSERT(s && s->wt == wt);
    s->wt = NULL; /* stale from now on; freed by its completion */
    struct io_uring_sqe *sqe = kin__uring_sqe(&u->ring);
    if (sqe) {
        sqe->opcode = IORING_OP_POLL_REMOVE;
        sqe->fd = -1;
        sqe->addr = wt->req;
        sqe->user_data = UD_IGNORE;
    }
    wt->req = 0;
    /* Submit now, and GETEVENTS so that deferred task work (the removal's
     * completion) runs in this call: the request drops its file. */
    kin__uring_enter(&u->ring, 0, true, -1);
}

/* ---- Polling ---------------------------------------------------------------*/

static void arm_wake(kin__poller *p, struct kin__uring_poller *u) {
    struct io_uring_sqe *sqe = kin__uring_sqe(&u->ring);
    if (!sqe)
        return; /* tried again at the next poll */
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = p->evfd;
    set_events(sqe, POLLIN);
    sqe->len = u->wake_oneshot ? 0 : IORING_POLL_ADD_MULTI;
    sqe->user_data = UD_WAKE;
    u->wake_armed = true;
}

/* The eventfd's poll completed (a wake-up) or ended. */
static void wake_cqe(kin__poller *p, struct kin__uring_poller *u, int res,
                     unsigned flags) {
    if (flags & IORING_CQE_F_MORE)
        return; /* multishot: still armed, the counter need not be read */
    if (res == -EINVAL && !u->wake_oneshot)
        u->wake_oneshot = true; /* a kernel without multishot poll */
    uint64_t v;
    while (read(p->evfd, &v, sizeof v) > 0) {
    }
    u->wake_armed = false; /* re-armed at the end of this poll */
}

static int reap(kin__poller *p, struct kin__uring_poller *u) {
    int woken = 0;
    struct io_uring_cqe *cqe;
    while ((cqe = kin__uring_peek(&u->ring)) != NULL) {
        uint64_t ud = cqe->user_data;
        int res = cqe->res;
        unsigned flags = cqe->flags;
        kin__uring_cqe_seen(&u->ring);
        if (ud == UD_IGNORE)
            continue;
        if (ud == UD_WAKE) {
            wake_cqe(p, u, res, flags);
            continue;
        }
        req_slot *s = slot_of(u, ud);
        if (!s)
            continue;
        kin__fd_waiter *wt = s->wt;
        slot_free(u, (uint32_t)ud);
        if (wt) { /* the wait is still on: it is the waiter's */
            wt->req = 0;
            woken += kin__poll_fire(wt, res);
        }
    }
    return woken;
}

int kin__uring_poll(kin__worker *w, int timeout_ms) {
    kin__poller *p = w->poller;
    struct kin__uring_poller *u = p->uring;
    kin__uring *ring = &u->ring;
    if (!u->wake_armed)
        arm_wake(p, u);
    if (!u->wake_armed && timeout_ms != 0)
        timeout_ms = 1; /* no way to be woken: do not sleep long */
    if (timeout_ms != 0 && kin__uring_cq_ready(ring) == 0)
        kin__uring_enter(ring, 1, true,
                         timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
    else if (kin__uring_unsubmitted(ring) || kin__uring_kernel_work(ring))
        kin__uring_enter(ring, 0, true, -1);
    int woken = reap(p, u);
    /* Completions that overflowed into the kernel, or task work that came
     * while reaping: fetch them now (bounded: the rest waits for the next
     * poll, which the flags make enter). */
    for (int i = 0; i < 4 && kin__uring_kernel_work(ring); i++) {
        kin__uring_enter(ring, 0, true, -1);
        woken += reap(p, u);
    }
    if (!u->wake_armed)
        arm_wake(p, u); /* submitted by the next enter, before any sleep */
    p->picks = 0;
    return woken;
}
