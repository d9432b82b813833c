/*
 * timer.c — the 4-ary min-heap of timer.h. Four children per node halve the
 * depth of a binary heap; the entries carry their keys, so sifting compares
 * without touching the timers themselves (which are scattered over coroutine
 * stacks and would miss the cache).
 */
#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "kin_assert.h"
#include "timer.h"

static inline bool before(const kin__heap_entry *a, const kin__heap_entry *b) {
    return a->deadline < b->deadline ||
           (a->deadline == b->deadline && a->seq < b->seq);
}

static inline void place(kin__timer_heap *h, size_t i, kin__heap_entry e) {
    h->v[i] = e;
    e.t->idx = i;
}

static void sift_up(kin__timer_heap *h, size_t i, kin__heap_entry e) {
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!before(&e, &h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(kin__timer_heap *h, size_t i, kin__heap_entry e) {
    for (;;) {
        size_t first = 4 * i + 1;
        if (first >= h->n)
            break;
        size_t last = first + 4 < h->n ? first + 4 : h->n;
        size_t best = first;
        for (size_t c = first + 1; c < last; c++)
            if (before(&h->v[c], &h->v[best]))
                best = c;
        if (!before(&h->v[best], &e))
            break;
        place(h, i, h->v[best]);
        i = best;
    }
    place(h, i, e);
}

int kin__timer_add(kin__timer_heap *h, kin__timer *t, int64_t deadline) {
    KIN__ASSERT(t->idx == KIN__TIMER_IDLE);
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        kin__heap_entry *v = kin__realloc(h->v, cap * sizeof *v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    t->deadline = deadline;
    kin__heap_entry e = {deadline, h->seq++, t};
    sift_up(h, h->n++, e);
    return 0;
}

void kin__timer_remove(kin__timer_heap *h, kin__timer *t) {
    size_t i = t->idx;
    if (i == KIN__TIMER_IDLE)
        return;
    KIN__ASSERT(i < h->n && h->v[i].t == t);
    t->idx = KIN__TIMER_IDLE;
    kin__heap_entry last = h->v[--h->n];
    if (i == h->n)
        return;
    if (i > 0 && before(&last, &h->v[(i - 1) / 4]))
        sift_up(h, i, last);
    else
        sift_down(h, i, last);
}

kin__timer *kin__timer_pop_due(kin__timer_heap *h, int64_t now) {
    if (h->n == 0 || h->v[0].deadline > now)
        return NULL;
    kin__timer *t = h->v[0].t;
    t->idx = KIN__TIMER_IDLE;
    kin__heap_entry last = h->v[--h->n];
    if (h->n > 0)
        sift_down(h, 0, last);
    return t;
}

void kin__timer_heap_free(kin__timer_heap *h) {
    kin__free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
