/*
 * uring.h — a minimal io_uring ring over the raw system calls (no
 * liburing): set-up, getting a submission entry, io_uring_enter with a
 * timeout, walking the completions. Built only with -DKIN_POLLER=io_uring;
 * used by the io_uring poller (sched/poll_uring.c), which knows fds and
 * waiters: this file knows neither. One owner thread per ring (the ring is
 * made IORING_SETUP_SINGLE_ISSUER where the kernel has it).
 */
#ifndef KIN_SCHED_URING_H
#define KIN_SCHED_URING_H

#include <linux/io_uring.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kin__uring {
    int fd;
    unsigned setup_flags; /* what io_uring_setup accepted */
    /* submission queue: the kernel reads entries up to *sq_tail and moves
     * *sq_head; sq_local is the tail of entries prepared here */
    unsigned *sq_head, *sq_tail, *sq_flags, sq_mask, sq_entries, sq_local;
    struct io_uring_sqe *sqes;
    /* completion queue: the kernel writes up to *cq_tail, we move *cq_head */
    unsigned *cq_head, *cq_tail, cq_mask;
    struct io_uring_cqe *cqes;
    void *sq_map, *cq_map; /* cq_map == sq_map with IORING_FEAT_SINGLE_MMAP */
    size_t sq_map_len, cq_map_len, sqes_len;
} kin__uring;

/* Sets up a ring of `entries` submissions and `cq_entries` completions
 * (powers of two), trying the cheapest task-work mode the kernel accepts
 * (DEFER_TASKRUN, then COOP_TASKRUN, then the default). Needs
 * IORING_FEAT_EXT_ARG (5.11) and IORING_FEAT_NODROP. Returns 0 or -errno:
 * -ENOSYS, -EPERM (seccomp, io_uring_disabled), -ENOMEM, -EOPNOTSUPP (a
 * kernel without the needed features). */
int kin__uring_init(kin__uring *u, unsigned entries, unsigned cq_entries);

/* Unmaps and closes the ring (any thread; the kernel cancels what is in
 * flight). */
void kin__uring_free(kin__uring *u);

/* A zeroed submission entry at the tail, counted as queued (the caller
 * fills it in before the next kin__uring_enter, which publishes and
 * submits it), or NULL if the queue is full and submitting what is queued
 * did not make room. */
struct io_uring_sqe *kin__uring_sqe(kin__uring *u);

/* Entries prepared and not yet taken by the kernel. */
static inline unsigned kin__uring_unsubmitted(const kin__uring *u) {
    return u->sq_local - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
}

/* True if completions may be waiting in the kernel (deferred task work, an
 * overflowed completion queue): a kin__uring_enter with GETEVENTS fetches
 * them. A memory read, no system call. */
static inline bool kin__uring_kernel_work(const kin__uring *u) {
    return __atomic_load_n(u->sq_flags, __ATOMIC_RELAXED) &
           (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
}

/* Completions ready to be read. */
static inline unsigned kin__uring_cq_ready(const kin__uring *u) {
    return __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE) -
           __atomic_load_n(u->cq_head, __ATOMIC_RELAXED);
}

/* One io_uring_enter: submits every queued entry and, with getevents, runs
 * the ring's deferred work and waits until min_complete completions are
 * ready or timeout_ns passed (-1: no limit). Returns 0, or -errno
 * (-ETIME on timeout, -EINTR on a signal: both harmless). */
int kin__uring_enter(kin__uring *u, unsigned min_complete, bool getevents,
                     int64_t timeout_ns);

/* The completion at the head, or NULL; kin__uring_cqe_seen consumes it. */
static inline struct io_uring_cqe *kin__uring_peek(kin__uring *u) {
    unsigned head = __atomic_load_n(u->cq_head, __ATOMIC_RELAXED);
    if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
        return NULL;
    return &u->cqes[head & u->cq_mask];
}

static inline void kin__uring_cqe_seen(kin__uring *u) {
    unsigned head = __atomic_load_n(u->cq_head, __ATOMIC_RELAXED);
    __atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
}

#endif
