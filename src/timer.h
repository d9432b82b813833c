/*
 * timer.h — the timers of one worker: a 4-ary min-heap ordered by
 * (deadline, sequence number), so timers with equal deadlines fire in the
 * order they were armed. Add, remove and pop are O(log n); a million pending
 * timers cost 24 MB of heap entries plus the timers themselves, which live
 * inside the waiting coroutine's frame (delay) or scope (with_timeout).
 *
 * A heap belongs to one worker and is touched only by that worker's thread:
 * a coroutine arms and disarms its timers on the thread it runs on, and the
 * worker fires them there.
 */
#ifndef KIN_TIMER_H
#define KIN_TIMER_H

#include <stddef.h>
#include <stdint.h>

#define KIN__TIMER_IDLE ((size_t)-1)

typedef struct kin__timer kin__timer;
typedef void (*kin__timer_fn)(kin__timer *t);

struct kin__timer {
    int64_t deadline; /* nanoseconds on the worker's clock */
    size_t idx;       /* heap position, or KIN__TIMER_IDLE when not armed */
    kin__timer_fn fire;
    void *arg;
};

typedef struct kin__heap_entry {
    int64_t deadline;
    uint64_t seq;
    kin__timer *t;
} kin__heap_entry;

typedef struct kin__timer_heap {
    kin__heap_entry *v;
    size_t n, cap;
    uint64_t seq;
} kin__timer_heap;

static inline void kin__timer_init(kin__timer *t, kin__timer_fn fire,
                                   void *arg) {
    t->deadline = 0;
    t->idx = KIN__TIMER_IDLE;
    t->fire = fire;
    t->arg = arg;
}

/* Arms t for `deadline`. Returns 0, or -1 if the heap cannot grow. */
int kin__timer_add(kin__timer_heap *h, kin__timer *t, int64_t deadline);

/* Disarms t if it is armed. */
void kin__timer_remove(kin__timer_heap *h, kin__timer *t);

/* Removes and returns the earliest timer if its deadline is <= now. */
kin__timer *kin__timer_pop_due(kin__timer_heap *h, int64_t now);

/* The earliest deadline, or INT64_MAX if no timer is armed. */
static inline int64_t kin__timer_next(const kin__timer_heap *h) {
    return h->n ? h->v[0].deadline : INT64_MAX;
}

void kin__timer_heap_free(kin__timer_heap *h);

#endif
