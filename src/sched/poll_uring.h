/*
 * poll_uring.h — the io_uring backend of the poller, for poll.c only
 * (built with -DKIN_POLLER=io_uring). poll.c keeps the fd records and
 * the waiters' attach/detach protocol for both backends; poll_uring.c
 * owns the ring and its requests. Everything here runs on the poller's
 * owner thread (the worker's), under the rules given for each call.
 */
#ifndef KIN_SCHED_POLL_URING_H
#define KIN_SCHED_POLL_URING_H

#include "sched/poll.h"

/* Makes p's ring and eventfd; sets p->evfd, p->uring. 0 or -errno (then p
 * is unchanged and the caller falls back to epoll). */
int kin__uring_poller_init(kin__poller *p);

/* Frees p's ring (any thread: the worker is being freed). */
void kin__uring_poller_fini(kin__poller *p);

/* Queues a poll request for wt (attached, under its fd record's lock: this
 * takes no other lock). 0, or KIN_ENOMEM. */
int kin__uring_arm(kin__poller *p, kin__fd_waiter *wt);

/* wt's wait ended without its request completing (timeout, cancellation,
 * kin_close): removes the request now, so that nothing keeps a reference
 * to the file once the wait is over. No lock held. */
void kin__uring_disarm(kin__poller *p, kin__fd_waiter *wt);

/* kin__poll for an io_uring poller. */
int kin__uring_poll(kin__worker *w, int timeout_ms);

/* Defined in poll.c: wt's request completed with res (poll mask or
 * -errno); detaches and wakes wt if it is still attached. Returns the
 * number of coroutines woken (0 or 1). No lock held. */
int kin__poll_fire(kin__fd_waiter *wt, int res);

#endif
