/*
 * poll.c — the fd poller, part of the scheduler (Go's netpoller, per worker).
 *
 * LAYER: sched. Knows kin__coro and workers, never jobs; the io layer
 * (io/fd.c) builds cancellable, timed waits and the public calls on it.
 *
 * ONE EPOLL PER WORKER. A started coroutine never leaves its worker, so an
 * fd wait is armed in its home worker's epoll and its readiness is seen by
 * the thread that will run it: waking it is a local run-queue push, and
 * the waiter's deregistration after a timeout or a cancellation happens on
 * the same thread as readiness processing, so the two never race. The
 * epoll and an eventfd are made lazily on a worker's first fd wait; a
 * worker without them sleeps in its condition variable as before.
 *
 * SLEEPING AND WAKING. kin__worker_sleep (scheduler.c) sleeps in
 * epoll_wait when the worker has a poller; kin__worker_unpark writes the
 * eventfd instead of signalling the cv. The no-lost-wake-up protocol is
 * unchanged: the waker stores wake_token, then reads sleeping; the sleeper
 * stores sleeping, then reads the token (all seq_cst). A write that lands
 * after the sleep ended leaves the eventfd readable: the next epoll_wait
 * returns at once and drains it (one spurious wake-up, never a lost one).
 *
 * NOT STARVING FDS. While a worker is busy it polls without blocking when
 * its run queue drains and every POLL_EVERY picks (Go's scheduler polls the
 * network in findrunnable and from sysmon). Only workers with pending fd
 * waits poll. Such a worker, once idle, first polls without blocking for
 * a budget that adapts to whether that pays (spin_polling in scheduler.c,
 * see IDLE_SPIN_NS: readiness made by a thread on another CPU is caught
 * within microseconds, without the kernel waking a sleeping thread; a
 * spinner that keeps that thread from a CPU soon stops spinning), then
 * blocks in epoll_wait. It never busy-polls while idle.
 *
 * THE FD RECORD. A table indexed by fd number holds, per fd: a spinlock,
 * a generation, and at most one waiter per direction (a second one gets
 * KIN_EBUSY). The epoll entry's data is (generation << 32 | fd), not a
 * pointer to the waiter: the readers and the writer of one fd may wait on
 * the same worker, and epoll keeps one entry per (fd, epoll), armed for
 * the union of their directions. A closed fd's number is reused by the
 * kernel; kin_close bumps the generation, so readiness queued for the old
 * file (an event already fetched by epoll_wait) finds a different
 * generation and is dropped.
 *
 * REGISTRATIONS. Entries are EPOLLONESHOT: readiness disarms the entry and
 * detaches the waiters it satisfies (under the fd lock, on the home
 * thread); the entry stays in the epoll, disarmed, so the next wait on that
 * worker re-arms it with one EPOLL_CTL_MOD (rec->reg remembers which worker
 * may hold one; a wrong guess costs ENOENT and an ADD). A timeout or a
 * cancellation leaves the waiter attached: kin__fd_wait_end detaches it and
 * removes the entry (or re-arms it for the other direction's waiter).
 * kin__fd_close removes the waiters' entries from the closing thread
 * (epoll_ctl is thread-safe) before close(2), so an entry never outlives
 * its file while a waiter depends on it. Disarmed entries left behind are
 * removed by the kernel when the file is closed.
 *
 * CLOSE WHILE IN USE. kin_close may run while another thread is inside
 * read(2), accept4(2)... on the same fd (a coroutine closes a connection
 * another one reads). Closing under a system call is a race on the
 * number (the kernel may hand it to a new file before the call starts),
 * so every system call of the io layer is bracketed by
 * kin__fd_use_begin/_end, which count them in the record's `use` word,
 * and close(2) is deferred to the last of them, as Go's fdMutex defers
 * the close to the last reference. One atomic word decides who closes:
 * the close that sets USE_CLOSING while no call is in flight, or the call
 * whose end brings the count to zero with USE_CLOSING set. Calls that
 * begin while USE_CLOSING is set fail with -EBADF (the file is being
 * closed); calls that begin while close(2) itself runs (USE_CLOSE_RUNNING)
 * wait for it, because the number may name a new file right after. A
 * second kin_close that begins while one is under way (`closing`, set
 * under the record's lock from its start until its close(2) returned)
 * gets -EBADF and closes nothing: it never calls close(2) on a number the
 * first one has just freed for reuse. The word also counts the closes
 * (its epoch): a call that got EAGAIN and then waits passes the epoch it
 * began in to kin__fd_wait_begin, which checks it under the record's lock
 * before it arms anything, so a wait never starts on a number closed (and
 * perhaps reused) since its system call: -EBADF instead of waiting on
 * someone else's file, or forever, or arming (and later removing) the
 * number in an epoll where it now names one of kin's own eventfds: that
 * lost every wake-up of a worker.
 *
 * TWO BACKENDS. Built with -DKIN_POLLER=io_uring, a worker's poller is an
 * io_uring ring instead (poll_uring.c: a oneshot POLL_ADD per wait,
 * submitted with the sleep). The fd records, the waiters' attach/detach
 * under the record's lock, the generations and kin_close's detaching are
 * the same for both; only arming, disarming and polling differ (the
 * `kind` branches below). If the ring cannot be made (io_uring_setup
 * fails: ENOSYS, EPERM in containers or with kernel.io_uring_disabled,
 * an old kernel), KIN_POLLER=epoll is in the environment or the process
 * runs under Valgrind (see uring_wanted), the poller is
 * an epoll: a refusal is remembered, so every later worker goes straight
 * to epoll (running out of fds or memory is not: the next worker tries
 * again, and a process may then have pollers of both kinds, which
 * kin_close handles per waiter). A loop hosted in a program's own event
 * loop (kin_main_attach) always gets an epoll: the host waits on its fd.
 *
 * Rejected: one global epoll and a poller thread (a cross-thread hand-off
 * per readiness, and a pinned coroutine must still be woken on its home);
 * data.ptr = the waiter (cannot express two waiters of one fd on one
 * worker, and a stale event would be a dangling pointer).
 *
 * Not yet: edge-triggered permanent registrations as Go does (EPOLLET,
 * added once per fd and worker, readiness that finds no waiter kept in
 * the record for the next wait, as Go's pollDesc does). A prototype (issue
 * 10) saved the two epoll_ctl of a round trip: echo_1 on one worker
 * 49,000 -> 58,000 req/s, echo_1000 57,000 -> 67,000 (Go 59,000), medians
 * of 5-6 interleaved runs. But it trusts that a registration outlives
 * the wait, and kin.h allows close(2) of an fd nobody waits on: the kernel
 * then drops the entry, the number is reused (socket, pipe, accept), and
 * the record, which saw nothing, still says "registered": the new file's
 * waits never see readiness. Go owns its fds; kin would need either that
 * rule in its contract (fds kin waited on are closed with kin_close) or a
 * check of waits that outlast an interval (EPOLL_CTL_MOD, ADD on ENOENT)
 * before the worker blocks and every few POLL_EVERY passes.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/kin_assert.h"
#include "base/lock.h"
#include "base/sanitizer.h"
#include "sched/poll.h"
#include "sched/scheduler.h"
#if KIN_POLL_URING
#include <stdlib.h>
#include <string.h>

#include "sched/poll_uring.h"
#endif

#define WAKE_TAG UINT64_MAX /* the eventfd's epoll data */
#define CHUNK 1024
#define NCHUNKS (KIN__FD_MAX / CHUNK)

typedef struct fd_rec {
    kin__lock lock;
    uint32_t gen;          /* [lock] bumped by kin__fd_close */
    bool closing;          /* [lock] kin__fd_close is between bump and close */
    atomic_uint use;       /* system calls on fd in flight (the low bits)
                            * and USE_CLOSING / USE_CLOSE_RUNNING: see
                            * kin__fd_use_begin */
    kin__worker *reg;      /* [lock] a worker whose epoll may hold fd */
    kin__fd_waiter *rd;    /* [lock] the KIN_READABLE waiter */
    kin__fd_waiter *wr;    /* [lock] the KIN_WRITABLE waiter */
} fd_rec;

static _Atomic(fd_rec *) g_chunks[NCHUNKS];

/* The use word: two flags, the epoch (closes of this number through kin,
 * mod 2^14) and the calls in flight. */
#define USE_CLOSING 0x80000000u
#define USE_CLOSE_RUNNING 0x40000000u
#define USE_OWN 0x8000u /* one of kin's own fds: see kin__fd_mark_own */
#define USE_FLAGS (USE_CLOSING | USE_CLOSE_RUNNING | USE_OWN)
#define USE_EPOCH_SHIFT 16
#define USE_EPOCH_MASK 0x3fffu
#define USE_CALLS 0x7fffu

static inline unsigned epoch_of(unsigned s) {
    return (s >> USE_EPOCH_SHIFT) & USE_EPOCH_MASK;
}


/* The record of fd, made on first use; NULL if out of memory. */
static fd_rec *rec_of(int fd, bool make) {
    size_t c = (size_t)fd / CHUNK;
    fd_rec *chunk = atomic_load_explicit(&g_chunks[c], memory_order_acquire);
    if (!chunk) {
        if (!make)
            return NULL;
        fd_rec *fresh = kin__calloc(CHUNK, sizeof *fresh);
        if (!fresh)
            return NULL;
        if (atomic_compare_exchange_strong(&g_chunks[c], &chunk, fresh))
            chunk = fresh;
        else
            kin__free(fresh); /* another thread made it */
    }
    return &chunk[(size_t)fd % CHUNK];
}

/* A call on one of kin's own fds: the caller's fd was closed with plain
 * close(2) and kin reused the number for a poller or a wake-up. */
static __attribute__((cold)) int own_fd_misuse(int fd) {
    return kin__misuse(-EBADF,
                       "fd %d is one of kin's own (a poller's or a wake-up's): "
                       "the descriptor it named was closed with close(2), "
                       "not kin_close, and the number reused",
                       fd);
}

void kin__fd_mark_own(int fd, bool own) {
    fd_rec *r = fd >= 0 && fd < KIN__FD_MAX ? rec_of(fd, own) : NULL;
    if (!r)
        return; /* out of memory: that number goes unguarded */
    if (own)
        atomic_fetch_or(&r->use, USE_OWN);
    else
        atomic_fetch_and(&r->use, ~USE_OWN);
}

#if KIN_POLL_URING
/* 1: try io_uring; 0: epoll (KIN_POLLER=epoll, Valgrind, or the kernel
 * refused a ring); -1: not decided yet. */
static atomic_int g_try_uring = -1;

/* Valgrind (3.19) runs io_uring_enter holding its lock on all threads:
 * a worker asleep in its ring would stop every other thread, the wakers
 * included. Under Valgrind the pollers are epolls. */
static bool uring_wanted(void) {
    int v = atomic_load_explicit(&g_try_uring, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("KIN_POLLER");
        v = !(e && strcmp(e, "epoll") == 0) && !KIN__RUNNING_ON_VALGRIND();
        atomic_store(&g_try_uring, v);
    }
    return v;
}

/* An io_uring poller for p, or false (then p is an epoll). */
static bool uring_make(kin__poller *p) {
    if (!uring_wanted())
        return false;
    int rc = kin__uring_poller_init(p);
    if (rc < 0) {
        /* A refusal is for good: later workers go straight to epoll. Out
         * of fds or memory is not: the next worker tries again. */
        if (rc != -EMFILE && rc != -ENFILE && rc != -ENOMEM && rc != -EAGAIN)
            atomic_store(&g_try_uring, 0);
        return false;
    }
    p->kind = KIN__POLL_URING;
    return true;
}
#endif

/* An epoll and an eventfd for p; false if they could not be made. */
static bool epoll_make(kin__poller *p) {
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    p->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
    if (p->epfd >= 0 && p->evfd >= 0 &&
        epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->evfd, &ev) == 0) {
        kin__fd_mark_own(p->epfd, true);
        kin__fd_mark_own(p->evfd, true);
        return true;
    }
    if (p->epfd >= 0)
        close(p->epfd);
    if (p->evfd >= 0)
        close(p->evfd);
    return false;
}

kin__poller *kin__poller_of(kin__worker *w) {
    if (w->poller)
        return w->poller;
    kin__poller *p = kin__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kind = KIN__POLL_EPOLL;
    p->epfd = -1;
#if KIN_POLL_URING
    /* a hosted loop's host waits on the poller's fd: an epoll */
    bool made = (!w->hosted && uring_make(p)) || epoll_make(p);
#else
    bool made = epoll_make(p);
#endif
    if (!made) {
        kin__free(p);
        return NULL;
    }
    w->poller = p;
    /* Made while the worker runs (not sleeping): a waker that reads the
     * sleeping flag of a later sleep reads this too (seq_cst). */
    atomic_store(&w->poll_wake, p->evfd + 1);
    return p;
}

void kin__poller_free(kin__poller *p) {
    if (!p)
        return;
#if KIN_POLL_URING
    if (p->kind == KIN__POLL_URING)
        kin__uring_poller_fini(p);
#endif
    if (p->epfd >= 0) {
        kin__fd_mark_own(p->epfd, false);
        close(p->epfd);
    }
    kin__fd_mark_own(p->evfd, false);
    close(p->evfd);
    kin__free(p);
}

const char *kin__poller_kind(const kin__worker *w) {
    if (!w->poller)
        return NULL;
    return w->poller->kind == KIN__POLL_URING ? "io_uring" : "epoll";
}

/* The directions wanted by rec's waiters that live on w. */
static uint32_t interest_on(fd_rec *r, kin__worker *w) {
    uint32_t ev = 0;
    if (r->rd && r->rd->home == w)
        ev |= EPOLLIN | EPOLLRDHUP;
    if (r->wr && r->wr->home == w)
        ev |= EPOLLOUT;
    return ev;
}

/* Arms (or, with no interest, removes) fd in w's epoll. Under r's lock. */
static int arm(fd_rec *r, kin__worker *w, int fd, uint32_t interest) {
    kin__poller *p = w->poller;
    if (!interest) {
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
        if (r->reg == w)
            r->reg = NULL;
        return 0;
    }
    struct epoll_event ev = {.events = interest | EPOLLONESHOT,
                             .data.u64 = (uint64_t)r->gen << 32 |
                                         (uint32_t)fd};
    int first = r->reg == w ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int rc = epoll_ctl(p->epfd, first, fd, &ev);
    if (rc < 0 && (errno == ENOENT || errno == EEXIST))
        rc = epoll_ctl(p->epfd, first == EPOLL_CTL_MOD ? EPOLL_CTL_ADD
                                                       : EPOLL_CTL_MOD,
                       fd, &ev);
    if (rc < 0)
        return -errno;
    r->reg = w;
    return 0;
}

int kin__fd_wait_begin(kin__fd_waiter *wt, kin__coro *co, int fd,
                       int events, unsigned epoch) {
    if (fd >= KIN__FD_MAX)
        return KIN_EINVAL;
    kin__worker *w = co->home;
    kin__poller *p = kin__poller_of(w);
    fd_rec *r = rec_of(fd, true);
    if (!p || !r)
        return KIN_ENOMEM;
    wt->co = co;
    wt->home = w;
    wt->fd = fd;
    wt->events = events;
    wt->revents = 0;
    wt->result = 0;
    atomic_init(&wt->fired, false);
    kin__lock_acquire(&r->lock);
    while (r->closing) {
        /* Another thread is inside kin__fd_close's close(2) of this number.
         * Once close(2) returned, the number may already name a new file
         * (socket() or accept() on another thread reused it) whose first
         * read just got EAGAIN: failing that wait with -EBADF would be
         * wrong. Wait for the close to finish; a wait on the old file then
         * fails in epoll_ctl with -EBADF, as before. */
        kin__lock_release(&r->lock);
        sched_yield();
        kin__lock_acquire(&r->lock);
    }
    if (epoch_of(atomic_load(&r->use)) != epoch) {
        /* kin_close closed this number since the call that found it not
         * ready: the number may name another file now (even one of kin's
         * own: an eventfd, an epoll), which must never be armed or
         * disarmed in our epoll. close_now moves the epoch before it
         * clears `closing`, under this lock. */
        kin__lock_release(&r->lock);
        return -EBADF;
    }
    if (KIN__UNLIKELY(atomic_load(&r->use) & USE_OWN)) {
        kin__lock_release(&r->lock);
        return own_fd_misuse(fd);
    }
    if (((events & KIN_READABLE) && r->rd) ||
        ((events & KIN_WRITABLE) && r->wr)) {
        kin__lock_release(&r->lock);
        return KIN_EBUSY;
    }
    if (events & KIN_READABLE)
        r->rd = wt;
    if (events & KIN_WRITABLE)
        r->wr = wt;
    wt->gen = r->gen;
    wt->attached = true;
    wt->req = 0;
    int rc;
#if KIN_POLL_URING
    if (p->kind == KIN__POLL_URING)
        rc = kin__uring_arm(p, wt);
    else
#endif
        rc = arm(r, w, fd, interest_on(r, w));
    if (rc < 0) {
        if (r->rd == wt)
            r->rd = NULL;
        if (r->wr == wt)
            r->wr = NULL;
        wt->attached = false;
        /* the other direction's waiter on w (if any) keeps its entry */
    }
    kin__lock_release(&r->lock);
    if (rc == -EPERM)
        return 1; /* regular file, directory: epoll refuses, always ready */
    if (rc < 0)
        return rc;
    p->pending++;
    return 0;
}

void kin__fd_wait_end(kin__fd_waiter *wt) {
    kin__worker *w = wt->home;
    fd_rec *r = rec_of(wt->fd, false);
    KIN__ASSERT(r);
    kin__lock_acquire(&r->lock);
    if (wt->attached) {
        if (r->rd == wt)
            r->rd = NULL;
        if (r->wr == wt)
            r->wr = NULL;
        wt->attached = false;
        /* else kin__fd_close removed it already */
        if (w->poller->kind == KIN__POLL_EPOLL && r->gen == wt->gen)
            arm(r, w, wt->fd, interest_on(r, w));
    }
    kin__lock_release(&r->lock);
#if KIN_POLL_URING
    if (w->poller->kind == KIN__POLL_URING)
        kin__uring_disarm(w->poller, wt); /* also after kin__fd_close */
#endif
    w->poller->pending--;
}

static int ready_of(uint32_t ev) {
    int k = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        k |= KIN_READABLE;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        k |= KIN_WRITABLE;
    return k;
}

/* Readiness of one entry, on w's thread: detach and wake the waiters on w
 * it satisfies; re-arm for the ones still waiting. */
static int dispatch(kin__worker *w, uint64_t data, uint32_t ev) {
    int fd = (int)(uint32_t)data;
    uint32_t gen = (uint32_t)(data >> 32);
    fd_rec *r = rec_of(fd, false);
    if (!r)
        return 0;
    int ready = ready_of(ev);
    kin__coro *wake[2];
    int n = 0;
    kin__lock_acquire(&r->lock);
    if (r->gen == gen) {
        kin__fd_waiter *ws[2] = {r->rd, r->wr != r->rd ? r->wr : NULL};
        for (int i = 0; i < 2; i++) {
            kin__fd_waiter *wt = ws[i];
            if (!wt || wt->home != w || !(wt->events & ready))
                continue;
            if (r->rd == wt)
                r->rd = NULL;
            if (r->wr == wt)
                r->wr = NULL;
            wt->attached = false;
            wt->revents = wt->events & ready;
            wake[n++] = wt->co; /* read before fired: wt may then go */
            atomic_store_explicit(&wt->fired, true, memory_order_release);
        }
        uint32_t left = interest_on(r, w);
        if (left) /* the entry is disarmed (ONESHOT): re-arm for the rest */
            arm(r, w, fd, left);
    }
    kin__lock_release(&r->lock);
    for (int i = 0; i < n; i++)
        kin__wake(wake[i]);
    return n;
}

#if KIN_POLL_URING
int kin__poll_fire(kin__fd_waiter *wt, int res) {
    fd_rec *r = rec_of(wt->fd, false);
    KIN__ASSERT(r);
    kin__coro *co = NULL;
    kin__lock_acquire(&r->lock);
    if (wt->attached && r->gen == wt->gen) {
        if (r->rd == wt)
            r->rd = NULL;
        if (r->wr == wt)
            r->wr = NULL;
        wt->attached = false;
        if (res < 0) {
            wt->result = res; /* -EBADF: not open when the poll was armed */
        } else {
            int k = wt->events & ready_of((uint32_t)res);
            wt->revents = k ? k : wt->events;
        }
        co = wt->co; /* read before fired: wt may then go */
        atomic_store_explicit(&wt->fired, true, memory_order_release);
    }
    kin__lock_release(&r->lock);
    if (!co)
        return 0;
    kin__wake(co);
    return 1;
}
#endif

int kin__poll(kin__worker *w, int timeout_ms) {
    kin__poller *p = w->poller;
#if KIN_POLL_URING
    if (p->kind == KIN__POLL_URING)
        return kin__uring_poll(w, timeout_ms);
#endif
    struct epoll_event evs[32]; /* may run on a coroutine's stack */
    int woken = 0;
    int n = epoll_wait(p->epfd, evs, 32, timeout_ms);
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == WAKE_TAG) {
            uint64_t v;
            while (read(p->evfd, &v, sizeof v) > 0) {
            }
            continue;
        }
        woken += dispatch(w, evs[i].data.u64, evs[i].events);
    }
    p->picks = 0;
    return woken;
}

/* ---- Close while in use ------------------------------------------------------*/

/* fds the table cannot hold (beyond KIN__FD_MAX, or out of memory for a
 * chunk) are not counted: their calls share this record, never closing. */
static fd_rec g_uncounted;

/* The close(2) itself, once nothing is in flight; USE_CLOSE_RUNNING makes
 * new calls wait until the number is free again. */
static int close_now(fd_rec *r, int fd) {
    unsigned e = epoch_of(atomic_load(&r->use));
    atomic_store(&r->use, USE_CLOSING | USE_CLOSE_RUNNING |
                              (e << USE_EPOCH_SHIFT));
    int rc = close(fd) < 0 ? -errno : 0;
    /* the new epoch before `closing` ends: a wait that registers after
     * that (kin__fd_wait_begin waits for it) sees the epoch moved */
    atomic_store(&r->use, ((e + 1) & USE_EPOCH_MASK) << USE_EPOCH_SHIFT);
    kin__lock_acquire(&r->lock);
    r->closing = false;
    kin__lock_release(&r->lock);
    return rc;
}

static __attribute__((noinline)) void *use_begin_slow(int fd,
                                                     unsigned *epoch) {
    fd_rec *r = fd >= 0 && fd < KIN__FD_MAX ? rec_of(fd, true) : NULL;
    *epoch = 0;
    if (!r)
        return &g_uncounted;
    unsigned s = atomic_load_explicit(&r->use, memory_order_relaxed);
    if (s & USE_OWN) {
        own_fd_misuse(fd);
        return NULL;
    }
    for (;;) {
        if (s & USE_CLOSE_RUNNING) {
            sched_yield(); /* close(2) of this number is under way */
            s = atomic_load_explicit(&r->use, memory_order_relaxed);
            continue;
        }
        if (s & USE_CLOSING)
            return NULL;
        if (atomic_compare_exchange_weak_explicit(&r->use, &s, s + 1,
                                                  memory_order_acquire,
                                                  memory_order_relaxed)) {
            *epoch = epoch_of(s);
            return r;
        }
    }
}

/* The common case inline: the fd's chunk exists and nobody closes it. */
void *kin__fd_use_begin(int fd, unsigned *epoch) {
    if (KIN__LIKELY((unsigned)fd < KIN__FD_MAX)) {
        fd_rec *chunk = atomic_load_explicit(&g_chunks[(unsigned)fd / CHUNK],
                                             memory_order_acquire);
        if (KIN__LIKELY(chunk)) {
            fd_rec *r = &chunk[(unsigned)fd % CHUNK];
            unsigned s = atomic_load_explicit(&r->use, memory_order_relaxed);
            if (KIN__LIKELY(!(s & USE_FLAGS)) &&
                atomic_compare_exchange_strong_explicit(
                    &r->use, &s, s + 1, memory_order_acquire,
                    memory_order_relaxed)) {
                *epoch = epoch_of(s);
                return r;
            }
        }
    }
    return use_begin_slow(fd, epoch);
}

void kin__fd_use_end(void *token, int fd) {
    fd_rec *r = token;
    if (KIN__UNLIKELY(r == &g_uncounted))
        return;
    unsigned s = atomic_fetch_sub_explicit(&r->use, 1, memory_order_acq_rel);
    if (KIN__UNLIKELY((s & USE_CALLS) == 1 && (s & USE_CLOSING)))
        close_now(r, fd); /* the last call out closes (kin__fd_close) */
}

int kin__fd_close(int fd) {
    /* made if missing: a call starting now on another thread counts in it */
    fd_rec *r = fd >= 0 && fd < KIN__FD_MAX ? rec_of(fd, true) : NULL;
    if (!r)
        return close(fd) < 0 ? -errno : 0;
    if (KIN__UNLIKELY(atomic_load(&r->use) & USE_OWN))
        return own_fd_misuse(fd);
    kin__coro *wake[2];
    int n = 0;
    kin__lock_acquire(&r->lock);
    if (r->closing) {
        /* Another kin_close of fd is under way (its close(2) deferred to a
         * call in flight, or running): it closes. Deciding by the use word
         * alone would be too late: that close may clear its flags (the
         * number closed, perhaps reused already) between our taking this
         * lock and our fetch_or below, and we would close(2) again. */
        kin__lock_release(&r->lock);
        return -EBADF;
    }
    r->gen++;
    r->closing = true;
    kin__fd_waiter *ws[2] = {r->rd, r->wr != r->rd ? r->wr : NULL};
    r->rd = r->wr = NULL;
    for (int i = 0; i < 2; i++) {
        kin__fd_waiter *wt = ws[i];
        if (!wt)
            continue;
        /* an io_uring request is removed by the waiter's home when its
         * wait ends (rings belong to their thread); until then it holds
         * the file open, so the close below may not be the last one */
        if (wt->home->poller->kind == KIN__POLL_EPOLL)
            epoll_ctl(wt->home->poller->epfd, EPOLL_CTL_DEL, fd, NULL);
        wt->attached = false;
        wt->result = -EBADF;
        wake[n++] = wt->co;
        atomic_store_explicit(&wt->fired, true, memory_order_release);
    }
    r->reg = NULL;
    kin__lock_release(&r->lock);
    for (int i = 0; i < n; i++)
        kin__wake(wake[i]);
    unsigned s = atomic_fetch_or(&r->use, USE_CLOSING);
    if (s & USE_FLAGS) /* not expected: `closing` stops a second close */
        return -EBADF;
    if ((s & USE_CALLS) == 0)
        return close_now(r, fd);
    return 0; /* the last system call in flight closes it (its errors are
               * lost, as with Go's Close racing a Read) */
}
