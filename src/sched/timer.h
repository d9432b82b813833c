/*
 * timer.h — the timers of one worker: a hierarchical timing wheel with
 * millisecond ticks (after Varghese & Lauck, as in the Linux kernel and
 * Kafka). Arming and disarming are O(1) list operations, so cancelling a
 * million sleeping coroutines is a million unlinks; firing costs O(1) per
 * timer plus, rarely, moving a coarse slot down a level.
 *
 *   level 0   256 slots of 1 ms          (the next 256 ms)
 *   level 1    64 slots of 256 ms        (16 s)
 *   level 2    64 slots of 16.4 s        (17 min)
 *   level 3    64 slots of 17.5 min      (18.6 h)
 *   level 4    64 slots of 18.6 h        (49.7 days)
 *   overflow   beyond that (re-placed when level 4 turns)
 *
 * A timer's slot comes from its absolute tick, so the wheel can jump over
 * empty stretches; bitmaps of non-empty slots find the next event with a
 * bit scan. A deadline is rounded up to a whole tick: a timer never fires
 * early, and at most 1 ms late. Timers due in the same tick fire in the
 * order (deadline, arming order), as kotlinx.coroutines' event loop does.
 *
 * The timers themselves live inside the waiting coroutine's frame (delay) or
 * scope (with_timeout). A wheel belongs to one worker and is touched only by
 * its thread: a coroutine arms and disarms on the thread it runs on, and the
 * worker fires them there.
 */
#ifndef KIN_TIMER_H
#define KIN_TIMER_H

#include <stddef.h>
#include <stdint.h>

#define KIN__TIMER_IDLE (-1)
#define KIN__TIMER_NS_PER_TICK 1000000 /* the wheel's tick: 1 ms */
#define KIN__WHEEL_LEVELS 5

typedef struct kin__timer kin__timer;
typedef void (*kin__timer_fn)(kin__timer *t);

struct kin__timer {
    int64_t deadline; /* nanoseconds on the worker's clock */
    uint64_t seq;     /* arming order */
    kin__timer *prev, *next;
    int level; /* KIN__TIMER_IDLE when not armed; else a list id */
    int slot;
    kin__timer_fn fire;
    void *arg;
};

typedef struct kin__timer_list {
    kin__timer *head, *tail;
} kin__timer_list;

typedef struct kin__timer_heap {
    int64_t cur_tick; /* the last tick processed, in ms */
    size_t n;         /* armed timers */
    uint64_t seq;
    kin__timer_list l0[256];
    kin__timer_list hi[KIN__WHEEL_LEVELS - 1][64];
    uint64_t bm0[4];                      /* non-empty level-0 slots */
    uint64_t bmhi[KIN__WHEEL_LEVELS - 1]; /* non-empty higher slots */
    kin__timer_list overflow;
    kin__timer_list due; /* expired, in firing order */
} kin__timer_heap;

static inline void kin__timer_init(kin__timer *t, kin__timer_fn fire,
                                   void *arg) {
    t->deadline = 0;
    t->seq = 0;
    t->prev = t->next = NULL;
    t->level = KIN__TIMER_IDLE;
    t->slot = 0;
    t->fire = fire;
    t->arg = arg;
}

static inline int kin__timer_armed(const kin__timer *t) {
    return t->level != KIN__TIMER_IDLE;
}

/* Arms t for `deadline`; `now` is the worker's current time. Returns 0
 * (kept as an int for the callers' error paths: the wheel never
 * allocates). */
int kin__timer_add(kin__timer_heap *h, kin__timer *t, int64_t deadline,
                   int64_t now);

/* Disarms t if it is armed. */
void kin__timer_remove(kin__timer_heap *h, kin__timer *t);

/* Removes and returns the next expired timer (deadline <= now), in firing
 * order, or NULL. */
kin__timer *kin__timer_pop_due(kin__timer_heap *h, int64_t now);

/* False if kin__timer_pop_due(h, now) would return NULL without moving the
 * wheel: nothing expired is waiting and `now` is still in the wheel's
 * current tick. Inline, for the look at the timers before each pick. */
static inline int kin__timer_maybe_due(const kin__timer_heap *h, int64_t now) {
    return h->due.head != NULL ||
           (h->n != 0 && now > 0 &&
            now / KIN__TIMER_NS_PER_TICK > h->cur_tick);
}

/* When the next timer may expire (a lower bound: a coarse slot's start),
 * or INT64_MAX if no timer is armed. */
int64_t kin__timer_next(kin__timer_heap *h);

/* Moves an empty wheel's position to `now` (also backwards: leaving
 * virtual time). */
void kin__timer_reset(kin__timer_heap *h, int64_t now);

void kin__timer_heap_free(kin__timer_heap *h);

#endif
