/* The timing wheel (timer.c), against a reference: timers with deadlines
 * from sub-millisecond to beyond 49 days, a third of them disarmed, time
 * advancing in random steps. Every pop must be the reference's next timer:
 * expired (never early; deadlines round up to whole milliseconds), in
 * (deadline, arming order) order, none lost, none twice. */
#include "check.h"
#include "sched/timer.h"

static unsigned long long rng = 88172645463325252ull;
static unsigned long long next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define MS 1000000ll

static void on_fire(kin__timer *t) {
    (void)t;
}

static int64_t tick_ceil(int64_t ns) {
    return (ns + MS - 1) / MS;
}

typedef struct ref {
    kin__timer *t;
    int64_t deadline;
    long idx;
    int removed, fired;
} ref;

static int cmp_ref(const void *a, const void *b) {
    const ref *x = a, *y = b;
    if (x->deadline != y->deadline)
        return x->deadline < y->deadline ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int main(void) {
    const char *seed = getenv("KIN_TIMER_SEED");
    if (seed && atoll(seed))
        rng = (unsigned long long)atoll(seed);
    long n = test_scale(300000);
    kin__timer *t = calloc((size_t)n, sizeof *t);
    ref *r = calloc((size_t)n, sizeof *r);
    kin__timer_heap *h = calloc(1, sizeof *h);
    CHECK(t && r && h);
    int64_t now = 5 * MS + 123;
    for (long i = 0; i < n; i++) {
        int64_t d;
        switch (next_rand() % 6) {
        case 0:
            d = (int64_t)(next_rand() % MS);
            break; /* < 1 ms */
        case 1:
            d = (int64_t)(next_rand() % (300 * MS));
            break; /* level 0-1 */
        case 2:
            d = (int64_t)(next_rand() % (40000 * MS));
            break; /* level 2 */
        case 3:
            d = (int64_t)(next_rand() % (3600000 * MS));
            break; /* level 3-4 */
        case 4:
            d = (int64_t)(next_rand() % 1000) * MS;
            break; /* ties */
        default:
            d = (int64_t)(50ll * 24 * 3600 * 1000 + next_rand() % 1000) * MS;
        }       /* overflow */
        d += 1; /* strictly in the future */
        kin__timer_init(&t[i], on_fire, &r[i]);
        CHECK_EQ(kin__timer_add(h, &t[i], now + d, now), 0);
        r[i] = (ref){&t[i], now + d, i, 0, 0};
    }
    CHECK_EQ(h->n, n);
    long removed = 0;
    for (long i = 0; i < n; i += 3) {
        kin__timer_remove(h, &t[i]);
        kin__timer_remove(h, &t[i]); /* twice is harmless */
        CHECK(!kin__timer_armed(&t[i]));
        r[i].removed = 1;
        removed++;
    }
    CHECK_EQ(h->n, n - removed);

    /* The reference order of the timers that stay. */
    ref *order = calloc((size_t)(n - removed), sizeof *order);
    long m = 0;
    for (long i = 0; i < n; i++)
        if (!r[i].removed)
            order[m++] = r[i];
    qsort(order, (size_t)m, sizeof *order, cmp_ref);

    long next = 0, popped = 0;
    int64_t end = now + 52ll * 24 * 3600 * 1000 * MS;
    while (now < end) {
        /* Steps of 0.3 ms up to ~2 days: mixes fine and coarse advances. */
        int64_t step;
        switch (next_rand() % 4) {
        case 0:
            step = 300000;
            break;
        case 1:
            step = (int64_t)(next_rand() % (50 * MS));
            break;
        case 2:
            step = (int64_t)(next_rand() % (20000 * MS));
            break;
        default:
            step = (int64_t)(next_rand() % (2ll * 24 * 3600 * 1000)) * MS;
        }
        now += step + 1;
        int64_t next_hint = kin__timer_next(h);
        kin__timer *x;
        while ((x = kin__timer_pop_due(h, now)) != NULL) {
            ref *rx = x->arg;
            CHECK(!rx->removed && !rx->fired);
            CHECK(tick_ceil(rx->deadline) * MS <=
                  now - now % MS); /* never early */
            if (!(next < m && order[next].t == x)) {
                fprintf(stderr,
                        "now %lld: got deadline %lld (tick %lld) idx %ld; want "
                        "deadline %lld (tick %lld) idx %ld; popped %ld\n",
                        (long long)now, (long long)rx->deadline,
                        (long long)tick_ceil(rx->deadline), rx->idx,
                        (long long)order[next].deadline,
                        (long long)tick_ceil(order[next].deadline),
                        order[next].idx, popped);
            }
            CHECK(next < m && order[next].t == x); /* reference order */
            CHECK(!kin__timer_armed(x));
            rx->fired = 1;
            next++;
            popped++;
        }
        /* Everything expired has fired; the next hint is a lower bound. */
        if (next < m) {
            CHECK(tick_ceil(order[next].deadline) * MS > now - now % MS);
            int64_t hint = kin__timer_next(h);
            CHECK(hint <= tick_ceil(order[next].deadline) * MS);
        }
        (void)next_hint;
    }
    CHECK_EQ(popped, m);
    CHECK_EQ(h->n, 0);
    CHECK_EQ(kin__timer_next(h), INT64_MAX);

    /* Adding to an empty wheel far in the future, and ties in one tick. */
    kin__timer a, b, c;
    kin__timer_init(&a, on_fire, NULL);
    kin__timer_init(&b, on_fire, NULL);
    kin__timer_init(&c, on_fire, NULL);
    CHECK_EQ(kin__timer_add(h, &a, now + 10 * MS, now), 0);
    CHECK_EQ(kin__timer_add(h, &b, now + 10 * MS, now), 0);
    CHECK_EQ(kin__timer_add(h, &c, now + 9 * MS + 1, now), 0);
    CHECK(kin__timer_pop_due(h, now + 9 * MS) == NULL);
    int64_t later = now + 11 * MS;
    CHECK(kin__timer_pop_due(h, later) == &c);
    CHECK(kin__timer_pop_due(h, later) == &a); /* equal deadlines: FIFO */
    CHECK(kin__timer_pop_due(h, later) == &b);
    CHECK(kin__timer_pop_due(h, later) == NULL);
    free(order);
    free(t);
    free(r);
    free(h);
    return 0;
}
