/* Recording collectors for the hot-flow tests: each records the ints it
 * gets; a slow one then waits on its gate channel (a rendezvous the test
 * sends to) before it takes the next value. */
#ifndef KIN_TEST_HOT_REC_H
#define KIN_TEST_HOT_REC_H

#include "hot_collect.h"

typedef struct rec {
    int seen[64];
    int n;
    kin_channel gate; /* zero: not slow */
    int rc;           /* the collect's result (1 while it runs) */
    kin_shared_flow sf;
    kin_state_flow st;
} rec;

static inline int rec_value(const void *value, void *arg) {
    rec *r = arg;
    CHECK(r->n < 64);
    r->seen[r->n++] = *(const int *)value;
    if (r->gate.id) {
        int x;
        return kin_channel_receive(r->gate, &x, sizeof x);
    }
    return 0;
}

static inline int rec_shared(void *arg) {
    rec *r = arg;
    r->rc = 1;
    r->rc = collect_shared(r->sf, rec_value, r);
    return 0;
}

static inline int rec_state(void *arg) {
    rec *r = arg;
    r->rc = 1;
    r->rc = collect_state(r->st, rec_value, r);
    return 0;
}

/* Lets a slow recorder take its next value. */
static inline void rec_release(rec *r) {
    int x = 0;
    CHECK_EQ(kin_channel_send(r->gate, &x, sizeof x), 0);
}

static inline void rec_check(const rec *r, int n, const int *want) {
    if (r->n != n) {
        fprintf(stderr, "recorded %d values, want %d:", r->n, n);
        for (int i = 0; i < r->n; i++)
            fprintf(stderr, " %d", r->seen[i]);
        fprintf(stderr, "\n");
    }
    CHECK_EQ(r->n, n);
    for (int i = 0; i < n; i++)
        CHECK_EQ(r->seen[i], want[i]);
}

#define REC_CHECK(r, ...)                                                      \
    do {                                                                       \
        const int want_[] = {__VA_ARGS__};                                     \
        rec_check((r), (int)(sizeof want_ / sizeof want_[0]), want_);          \
    } while (0)

static inline void yields(int n) {
    for (int i = 0; i < n; i++)
        CHECK_EQ(kin_yield(), 0);
}

#endif
