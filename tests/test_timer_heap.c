/* The timer heap (timer.c): a million timers, random deadlines, random
 * removals; pops come out in (deadline, arming order) order. */
#include "check.h"
#include "timer.h"

static int fired;
static void on_fire(kin__timer *t) {
    (void)t;
    fired++;
}

static unsigned long long rng = 88172645463325252ull;
static unsigned long long next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(void) {
    enum { N = 1000000 };
    kin__timer *t = calloc(N, sizeof *t);
    CHECK(t);
    kin__timer_heap h = {0};
    for (int i = 0; i < N; i++) {
        kin__timer_init(&t[i], on_fire, (void *)(long)i);
        CHECK_EQ(kin__timer_add(&h, &t[i], (int64_t)(next_rand() % 1000)), 0);
    }
    CHECK_EQ(h.n, N);
    /* Remove every third one. */
    int removed = 0;
    for (int i = 0; i < N; i += 3) {
        kin__timer_remove(&h, &t[i]);
        kin__timer_remove(&h, &t[i]); /* twice is harmless */
        removed++;
    }
    CHECK_EQ(h.n, N - removed);
    int64_t last = -1;
    long last_idx = -1;
    int popped = 0;
    kin__timer *x;
    while ((x = kin__timer_pop_due(&h, INT64_MAX)) != NULL) {
        long idx = (long)x->arg;
        CHECK(x->deadline >= last);
        if (x->deadline == last)
            CHECK(idx > last_idx); /* FIFO among equal deadlines */
        CHECK(idx % 3 != 0);
        CHECK(x->idx == KIN__TIMER_IDLE);
        last = x->deadline;
        last_idx = idx;
        popped++;
    }
    CHECK_EQ(popped, N - removed);
    CHECK_EQ(kin__timer_next(&h), INT64_MAX);

    /* pop_due respects `now`. */
    kin__timer a, b;
    kin__timer_init(&a, on_fire, NULL);
    kin__timer_init(&b, on_fire, NULL);
    CHECK_EQ(kin__timer_add(&h, &a, 100), 0);
    CHECK_EQ(kin__timer_add(&h, &b, 50), 0);
    CHECK(kin__timer_pop_due(&h, 49) == NULL);
    CHECK(kin__timer_pop_due(&h, 50) == &b);
    CHECK_EQ(kin__timer_next(&h), 100);
    kin__timer_heap_free(&h);
    free(t);
    (void)fired;
    return 0;
}
