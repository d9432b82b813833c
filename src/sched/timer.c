/*
 * timer.c — the hierarchical timing wheel of timer.h.
 *
 * Level k (k >= 1) puts a timer with absolute tick T in slot
 * (T >> SHIFT[k]) & 63 and holds it until the wheel reaches the start of
 * that block, when it is moved down ("cascaded") by its exact tick. A
 * timer is placed at the lowest level whose span covers its distance from
 * cur_tick, which guarantees its block starts strictly after the current
 * one at that level: the cascade can never be missed. The wheel advances
 * from event to event (the next non-empty slot or cascade point, found with
 * the bitmaps), not tick by tick.
 */
#include <stdbool.h>
#include <stdint.h>

#include "base/kin_assert.h"
#include "sched/timer.h"

static const int SHIFT[KIN__WHEEL_LEVELS] = {0, 8, 14, 20, 26};

enum { LEVEL_OVERFLOW = 100, LEVEL_DUE = 101 };

#define NS_PER_TICK KIN__TIMER_NS_PER_TICK

static inline int64_t tick_ceil(int64_t ns) {
    return ns <= 0 ? 0 : (ns + NS_PER_TICK - 1) / NS_PER_TICK;
}

static inline int64_t tick_floor(int64_t ns) {
    return ns <= 0 ? 0 : ns / NS_PER_TICK;
}

/* ---- Lists --------------------------------------------------------------- */

static inline void append(kin__timer_list *l, kin__timer *t) {
    t->next = NULL;
    t->prev = l->tail;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
}

static inline void unlink_from(kin__timer_list *l, kin__timer *t) {
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
}

static inline bool before(const kin__timer *a, const kin__timer *b) {
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

static kin__timer *merge(kin__timer *a, kin__timer *b) {
    kin__timer *out = NULL, **tail = &out;
    while (a && b) {
        if (before(b, a)) {
            *tail = b;
            b = b->next;
        } else {
            *tail = a;
            a = a->next;
        }
        tail = &(*tail)->next;
    }
    *tail = a ? a : b;
    return out;
}

/* Merge sort on the next links (stable: equal keys keep their order). */
static kin__timer *merge_sort(kin__timer *head) {
    if (!head || !head->next)
        return head;
    kin__timer *slow = head, *fast = head->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    kin__timer *second = slow->next;
    slow->next = NULL;
    return merge(merge_sort(head), merge_sort(second));
}

/* Sorts a detached list by (deadline, seq); usually it already is. Only
 * the next links are meaningful afterwards. */
static kin__timer *sort_list(kin__timer *head) {
    for (kin__timer *t = head; t && t->next; t = t->next)
        if (before(t->next, t))
            return merge_sort(head);
    return head;
}

/* ---- Placement ------------------------------------------------------------- */

static kin__timer_list *list_of(kin__timer_heap *h, const kin__timer *t) {
    switch (t->level) {
    case 0:
        return &h->l0[t->slot];
    case LEVEL_OVERFLOW:
        return &h->overflow;
    case LEVEL_DUE:
        return &h->due;
    default:
        return &h->hi[t->level - 1][t->slot];
    }
}

/* Puts t where its tick belongs relative to cur_tick. `cascading`: the
 * wheel is entering cur_tick and will process level-0 slot cur_tick next,
 * so a timer due exactly now goes there (sorted with its tick-mates). */
static void place_timer(kin__timer_heap *h, kin__timer *t, bool cascading) {
    int64_t tick = tick_ceil(t->deadline);
    if (cascading && tick == h->cur_tick) {
        int slot = (int)(tick & 255);
        t->level = 0;
        t->slot = slot;
        append(&h->l0[slot], t);
        h->bm0[slot >> 6] |= (uint64_t)1 << (slot & 63);
        return;
    }
    if (tick <= h->cur_tick) {
        t->level = LEVEL_DUE;
        append(&h->due, t);
        return;
    }
    uint64_t delta = (uint64_t)(tick - h->cur_tick);
    if (delta < 256) {
        int slot = (int)(tick & 255);
        t->level = 0;
        t->slot = slot;
        append(&h->l0[slot], t);
        h->bm0[slot >> 6] |= (uint64_t)1 << (slot & 63);
        return;
    }
    for (int k = 1; k < KIN__WHEEL_LEVELS; k++) {
        if (delta < ((uint64_t)1 << (SHIFT[k] + 6))) {
            int slot = (int)((tick >> SHIFT[k]) & 63);
            t->level = k;
            t->slot = slot;
            append(&h->hi[k - 1][slot], t);
            h->bmhi[k - 1] |= (uint64_t)1 << slot;
            return;
        }
    }
    t->level = LEVEL_OVERFLOW;
    append(&h->overflow, t);
}

static void place(kin__timer_heap *h, kin__timer *t) {
    place_timer(h, t, false);
}

int kin__timer_add(kin__timer_heap *h, kin__timer *t, int64_t deadline,
                   int64_t now) {
    KIN__ASSERT(t->level == KIN__TIMER_IDLE);
    if (h->n == 0) { /* empty: the wheel may jump to now */
        int64_t now_tick = tick_floor(now);
        if (now_tick > h->cur_tick)
            h->cur_tick = now_tick;
    }
    t->deadline = deadline;
    t->seq = h->seq++;
    place(h, t);
    h->n++;
    return 0;
}

void kin__timer_remove(kin__timer_heap *h, kin__timer *t) {
    if (t->level == KIN__TIMER_IDLE)
        return;
    kin__timer_list *l = list_of(h, t);
    unlink_from(l, t);
    if (!l->head) {
        if (t->level == 0)
            h->bm0[t->slot >> 6] &= ~((uint64_t)1 << (t->slot & 63));
        else if (t->level < KIN__WHEEL_LEVELS)
            h->bmhi[t->level - 1] &= ~((uint64_t)1 << t->slot);
    }
    t->level = KIN__TIMER_IDLE;
    h->n--;
}

/* ---- Advancing ------------------------------------------------------------ */

static inline uint64_t rotr64(uint64_t x, unsigned r) {
    r &= 63;
    return r ? (x >> r) | (x << (64 - r)) : x;
}

/* The next tick after cur_tick at which something happens: a non-empty
 * level-0 slot, the start of a non-empty coarse slot's block, or (with
 * overflow timers) the next turn of level 4. INT64_MAX if none. */
static int64_t next_event(const kin__timer_heap *h) {
    int64_t best = INT64_MAX;
    int64_t cur = h->cur_tick;
    /* level 0: slots (cur+1 .. cur+256) & 255 */
    int pos = (int)((cur + 1) & 255);
    for (int d = 0; d < 256;) {
        int slot = (pos + d) & 255;
        uint64_t word = h->bm0[slot >> 6] >> (slot & 63);
        if (word) {
            int step = __builtin_ctzll(word);
            if (d + step < 256) {
                best = cur + 1 + d + step;
                break;
            }
        }
        d += 64 - (slot & 63); /* next word boundary */
    }
    for (int k = 1; k < KIN__WHEEL_LEVELS; k++) {
        uint64_t bm = h->bmhi[k - 1];
        if (!bm)
            continue;
        int64_t block = cur >> SHIFT[k];
        unsigned from = (unsigned)((block + 1) & 63);
        int i = __builtin_ctzll(rotr64(bm, from));
        int64_t start = (block + 1 + i) << SHIFT[k];
        if (start < best)
            best = start;
    }
    if (h->overflow.head) {
        int64_t span = (int64_t)1 << SHIFT[KIN__WHEEL_LEVELS - 1];
        int64_t turn = ((cur >> SHIFT[KIN__WHEEL_LEVELS - 1]) + 1) * span;
        if (turn < best)
            best = turn;
    }
    return best;
}

/* Moves a coarse slot's timers down by their exact ticks. */
static void cascade(kin__timer_heap *h, int k, int slot) {
    kin__timer_list l = h->hi[k - 1][slot];
    h->hi[k - 1][slot].head = h->hi[k - 1][slot].tail = NULL;
    h->bmhi[k - 1] &= ~((uint64_t)1 << slot);
    for (kin__timer *t = l.head; t;) {
        kin__timer *next = t->next;
        place_timer(h, t, true);
        t = next;
    }
}

static void advance(kin__timer_heap *h, int64_t now_tick) {
    while (h->cur_tick < now_tick) {
        int64_t e = next_event(h);
        if (e > now_tick) {
            h->cur_tick = now_tick;
            return;
        }
        /* Enter e: cascades place timers of tick e in level-0 slot e, which
         * is sorted and fired just below. */
        h->cur_tick = e;
        for (int k = KIN__WHEEL_LEVELS - 1; k >= 1; k--) {
            if (e & (((int64_t)1 << SHIFT[k]) - 1))
                continue; /* not the start of a level-k block */
            int slot = (int)((e >> SHIFT[k]) & 63);
            if (h->bmhi[k - 1] & ((uint64_t)1 << slot))
                cascade(h, k, slot);
        }
        if (h->overflow.head &&
            !(e & (((int64_t)1 << SHIFT[KIN__WHEEL_LEVELS - 1]) - 1))) {
            kin__timer_list l = h->overflow;
            h->overflow.head = h->overflow.tail = NULL;
            for (kin__timer *t = l.head; t;) {
                kin__timer *next = t->next;
                place_timer(h, t, true);
                t = next;
            }
        }
        int slot = (int)(e & 255);
        if (h->bm0[slot >> 6] & ((uint64_t)1 << (slot & 63))) {
            kin__timer *list = sort_list(h->l0[slot].head);
            h->l0[slot].head = h->l0[slot].tail = NULL;
            h->bm0[slot >> 6] &= ~((uint64_t)1 << (slot & 63));
            for (kin__timer *t = list; t;) {
                kin__timer *next = t->next;
                t->level = LEVEL_DUE;
                append(&h->due, t);
                t = next;
            }
        }
    }
}

kin__timer *kin__timer_pop_due(kin__timer_heap *h, int64_t now) {
    if (!h->due.head) {
        if (h->n == 0)
            return NULL;
        int64_t now_tick = tick_floor(now);
        if (now_tick > h->cur_tick)
            advance(h, now_tick);
        if (!h->due.head)
            return NULL;
    }
    kin__timer *t = h->due.head;
    unlink_from(&h->due, t);
    t->level = KIN__TIMER_IDLE;
    h->n--;
    return t;
}

int64_t kin__timer_next(kin__timer_heap *h) {
    if (h->due.head)
        return h->due.head->deadline;
    if (h->n == 0)
        return INT64_MAX;
    int64_t e = next_event(h);
    return e == INT64_MAX ? INT64_MAX : e * NS_PER_TICK;
}

void kin__timer_heap_free(kin__timer_heap *h) {
    (void)h;
}

void kin__timer_reset(kin__timer_heap *h, int64_t now) {
    if (h->n == 0)
        h->cur_tick = tick_floor(now);
}
