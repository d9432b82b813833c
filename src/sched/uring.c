/*
 * uring.c — the raw io_uring ring (see uring.h). Built only with
 * -DKIN_POLLER=io_uring.
 *
 * LAYER: sched, below the poller. Owner: one thread per ring (the worker
 * whose poller made it); the kernel shares the ring memory, read and
 * written here with acquire/release atomics on the head and tail words.
 *
 * TASK-WORK MODES. A poll request's completion is posted by "task work" of
 * the submitting thread. By default the kernel interrupts that thread
 * (an IPI) to run it; IORING_SETUP_COOP_TASKRUN waits for its next system
 * call; IORING_SETUP_DEFER_TASKRUN (6.1, with SINGLE_ISSUER) waits for its
 * next io_uring_enter(GETEVENTS). The last two set IORING_SQ_TASKRUN in the
 * shared flags (with TASKRUN_FLAG), so a busy worker learns from one memory
 * read that it has completions to fetch: no interrupts, no system call
 * when there is nothing. The poller relies only on that flag, so all three
 * modes work; set-up tries the cheapest first.
 *
 * Rejected: liburing (a new dependency for ~150 lines); SQPOLL (a kernel
 * thread spinning per ring: busy polling, which kin's idle rule forbids).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sched/uring.h"

#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif

static int sys_setup(unsigned entries, struct io_uring_params *p) {
    return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned min, unsigned flags,
                     const void *arg, size_t argsz) {
    return (int)syscall(__NR_io_uring_enter, fd, submit, min, flags, arg,
                        argsz);
}

static void unmap(kin__uring *u) {
    if (u->sqes && u->sqes != MAP_FAILED)
        munmap(u->sqes, u->sqes_len);
    if (u->cq_map && u->cq_map != MAP_FAILED && u->cq_map != u->sq_map)
        munmap(u->cq_map, u->cq_map_len);
    if (u->sq_map && u->sq_map != MAP_FAILED)
        munmap(u->sq_map, u->sq_map_len);
}

static int map_rings(kin__uring *u, const struct io_uring_params *p) {
    u->sq_map_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    u->cq_map_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    bool single = p->features & IORING_FEAT_SINGLE_MMAP;
    if (single) {
        if (u->cq_map_len > u->sq_map_len)
            u->sq_map_len = u->cq_map_len;
        u->cq_map_len = u->sq_map_len;
    }
    u->sq_map = mmap(NULL, u->sq_map_len, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
    if (u->sq_map == MAP_FAILED)
        return -errno;
    u->cq_map = single ? u->sq_map
                       : mmap(NULL, u->cq_map_len, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_POPULATE, u->fd,
                              IORING_OFF_CQ_RING);
    if (u->cq_map == MAP_FAILED)
        return -errno;
    u->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
    u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
    if (u->sqes == MAP_FAILED)
        return -errno;
    char *sq = u->sq_map, *cq = u->cq_map;
    u->sq_head = (unsigned *)(sq + p->sq_off.head);
    u->sq_tail = (unsigned *)(sq + p->sq_off.tail);
    u->sq_flags = (unsigned *)(sq + p->sq_off.flags);
    u->sq_mask = *(unsigned *)(sq + p->sq_off.ring_mask);
    u->sq_entries = p->sq_entries;
    u->sq_local = *u->sq_tail;
    unsigned *array = (unsigned *)(sq + p->sq_off.array);
    for (unsigned i = 0; i < p->sq_entries; i++)
        array[i] = i; /* entry i of the ring is sqes[i], once and for all */
    u->cq_head = (unsigned *)(cq + p->cq_off.head);
    u->cq_tail = (unsigned *)(cq + p->cq_off.tail);
    u->cq_mask = *(unsigned *)(cq + p->cq_off.ring_mask);
    u->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
    return 0;
}

int kin__uring_init(kin__uring *u, unsigned entries, unsigned cq_entries) {
    static const unsigned modes[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
            IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
            IORING_SETUP_SUBMIT_ALL,
        0,
    };
    memset(u, 0, sizeof *u);
    u->fd = -1;
    struct io_uring_params p;
    int fd = -1;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0] && fd < 0; i++) {
        memset(&p, 0, sizeof p);
        p.flags = modes[i] | IORING_SETUP_CQSIZE;
        p.cq_entries = cq_entries;
        fd = sys_setup(entries, &p);
        if (fd < 0 && errno != EINVAL)
            return -errno; /* ENOSYS, EPERM, ENOMEM: no mode will do */
    }
    if (fd < 0)
        return -errno;
    u->fd = fd;
    u->setup_flags = p.flags;
    if (!(p.features & IORING_FEAT_EXT_ARG) ||
        !(p.features & IORING_FEAT_NODROP)) {
        kin__uring_free(u);
        return -EOPNOTSUPP;
    }
    int rc = map_rings(u, &p);
    if (rc < 0) {
        kin__uring_free(u);
        return rc;
    }
    return 0;
}

void kin__uring_free(kin__uring *u) {
    unmap(u); /* first: a mapping holds a reference to the ring */
    if (u->fd >= 0)
        close(u->fd);
    memset(u, 0, sizeof *u);
    u->fd = -1;
}

struct io_uring_sqe *kin__uring_sqe(kin__uring *u) {
    if (u->sq_local - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE) >=
        u->sq_entries) {
        kin__uring_enter(u, 0, false, -1); /* make room */
        if (kin__uring_unsubmitted(u) >= u->sq_entries)
            return NULL;
    }
    struct io_uring_sqe *sqe = &u->sqes[u->sq_local & u->sq_mask];
    memset(sqe, 0, sizeof *sqe);
    u->sq_local++;
    return sqe;
}

/* Makes the entries prepared so far visible to the kernel: the release
 * store orders their contents before the tail. Without SQPOLL the kernel
 * reads the queue only inside io_uring_enter, so this is done there. */
static void publish(kin__uring *u) {
    __atomic_store_n(u->sq_tail, u->sq_local, __ATOMIC_RELEASE);
}

int kin__uring_enter(kin__uring *u, unsigned min_complete, bool getevents,
                     int64_t timeout_ns) {
    publish(u);
    unsigned submit = kin__uring_unsubmitted(u);
    unsigned flags = 0;
    struct __kernel_timespec ts;
    struct io_uring_getevents_arg arg = {0};
    const void *argp = NULL;
    size_t argsz = 0;
    if (getevents) {
        flags |= IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
        if (timeout_ns >= 0) {
            ts.tv_sec = timeout_ns / 1000000000;
            ts.tv_nsec = timeout_ns % 1000000000;
            arg.ts = (uint64_t)(uintptr_t)&ts;
        }
        argp = &arg;
        argsz = sizeof arg;
    }
    int rc = sys_enter(u->fd, submit, min_complete, flags, argp, argsz);
    return rc < 0 ? -errno : 0;
}
