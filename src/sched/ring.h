/*
 * ring.h — a worker's stealable queue of coroutines that have not started
 * (Default pool only). After the Go runtime's runq: a fixed ring of 256
 * slots; the owner pushes at the tail and pops at the head; thieves take
 * half from the head. One compare-and-swap per pop or steal, none per push.
 *
 * Indices grow forever (modulo 2^32); slots are atomics so a thief's read of
 * a slot the owner is overwriting is not a data race (its CAS then fails).
 */
#ifndef KIN_RING_H
#define KIN_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define KIN__RING_CAP 256u

typedef struct kin__coro kin__coro;

typedef struct kin__ring {
    atomic_uint head; /* next to take: owner and thieves */
    atomic_uint tail; /* next free slot: written by owner */
    _Atomic(kin__coro *) buf[KIN__RING_CAP];
    _Atomic int64_t since; /* when it last became non-empty */
} kin__ring;

static inline unsigned kin__ring_len(kin__ring *r) {
    unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);
    unsigned t = atomic_load_explicit(&r->tail, memory_order_acquire);
    return t - h;
}

/* Owner only. Returns false when full. */
static inline bool kin__ring_push(kin__ring *r, kin__coro *j) {
    unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);
    unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (t - h >= KIN__RING_CAP)
        return false;
    atomic_store_explicit(&r->buf[t % KIN__RING_CAP], j, memory_order_relaxed);
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    return true;
}

/* Owner only. */
static inline kin__coro *kin__ring_pop(kin__ring *r) {
    unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);
    for (;;) {
        unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (t == h)
            return NULL;
        kin__coro *j = atomic_load_explicit(&r->buf[h % KIN__RING_CAP],
                                           memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&r->head, &h, h + 1,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire))
            return j;
    }
}

/* Any thread: moves up to half of r (at most max) into out[]; returns how
 * many. */
static inline unsigned kin__ring_steal(kin__ring *r, kin__coro **out,
                                       unsigned max) {
    for (;;) {
        unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);
        unsigned t = atomic_load_explicit(&r->tail, memory_order_acquire);
        unsigned n = t - h;
        n = n - n / 2;
        if (n == 0)
            return 0;
        if (n > KIN__RING_CAP / 2) /* inconsistent snapshot: retry */
            continue;
        if (n > max)
            n = max;
        for (unsigned i = 0; i < n; i++)
            out[i] = atomic_load_explicit(&r->buf[(h + i) % KIN__RING_CAP],
                                          memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&r->head, &h, h + n,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire))
            return n;
    }
}

#endif
