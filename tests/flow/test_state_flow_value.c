/* kin_state_flow's value, without collectors (kotlinx's MutableStateFlow:
 * StateFlowTest's testEqualsConflation, compareAndSet's documented
 * results): get returns the current value; set returns 1 for a change and
 * 0 for an equal value (the flow's eq, or the bytes); compare_and_set
 * fails unless the value equals expect, and succeeds without a change
 * when update equals it too; a plain thread may set and read. */
#include <pthread.h>

#include "check.h"

/* Equal when the ids match (the payload does not count). */
typedef struct item {
    int id;
    int payload;
} item;

static int eq_calls;

static int item_eq(const void *a, const void *b, void *arg) {
    CHECK(arg == &eq_calls);
    eq_calls++;
    return ((const item *)a)->id == ((const item *)b)->id;
}

static void test_bytes(void) {
    kin_state_flow s;
    int v = 1;
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    CHECK(s.id != 0);
    v = 0;
    CHECK_EQ(kin_state_flow_get(s, &v, sizeof v), 0);
    CHECK_EQ(v, 1);
    v = 1;
    CHECK_EQ(kin_state_flow_set(s, &v, sizeof v), 0); /* equal: no change */
    v = 2;
    CHECK_EQ(kin_state_flow_set(s, &v, sizeof v), 1);
    CHECK_EQ(kin_state_flow_get(s, &v, sizeof v), 0);
    CHECK_EQ(v, 2);
    int expect = 5, update = 7;
    CHECK_EQ(kin_state_flow_compare_and_set(s, &expect, &update, sizeof(int)),
             0); /* 2 != 5 */
    CHECK_EQ(kin_state_flow_get(s, &v, sizeof v), 0);
    CHECK_EQ(v, 2);
    expect = 2;
    CHECK_EQ(kin_state_flow_compare_and_set(s, &expect, &update, sizeof(int)),
             1);
    CHECK_EQ(kin_state_flow_get(s, &v, sizeof v), 0);
    CHECK_EQ(v, 7);
    expect = 7; /* expect == update == current: true, nothing changes */
    CHECK_EQ(kin_state_flow_compare_and_set(s, &expect, &expect, sizeof(int)),
             1);
    CHECK_EQ(kin_state_flow_subscribers(s), 0);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

static void test_custom_eq(void) {
    kin_state_flow s;
    item a = {1, 10};
    CHECK_EQ(kin_state_flow_new(&s, sizeof a, &a, item_eq, &eq_calls), 0);
    item b = {1, 99}; /* equal by id: the value stays a */
    CHECK_EQ(kin_state_flow_set(s, &b, sizeof b), 0);
    CHECK(eq_calls >= 1);
    item got;
    CHECK_EQ(kin_state_flow_get(s, &got, sizeof got), 0);
    CHECK_EQ(got.payload, 10);
    item c = {2, 20};
    CHECK_EQ(kin_state_flow_set(s, &c, sizeof c), 1);
    item expect = {2, -1}, update = {3, 30};
    CHECK_EQ(kin_state_flow_compare_and_set(s, &expect, &update, sizeof(item)),
             1); /* equal by id */
    CHECK_EQ(kin_state_flow_get(s, &got, sizeof got), 0);
    CHECK_EQ(got.id, 3);
    CHECK_EQ(got.payload, 30);
    expect.id = 9;
    CHECK_EQ(kin_state_flow_compare_and_set(s, &expect, &update, sizeof(item)),
             0);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

/* An eq that sets the flow itself (it runs without the flow's lock): the
 * outer set sees the value move and compares again. */
static kin_state_flow g_s;
static int reentrant_once;

static int reentrant_eq(const void *a, const void *b, void *arg) {
    (void)arg;
    if (!reentrant_once) {
        reentrant_once = 1;
        int v = 100;
        CHECK_EQ(kin_state_flow_set(g_s, &v, sizeof v), 1);
    }
    return *(const int *)a == *(const int *)b;
}

static void test_eq_may_reenter(void) {
    int v = 1;
    CHECK_EQ(kin_state_flow_new(&g_s, sizeof v, &v, reentrant_eq, NULL), 0);
    v = 100; /* compared with 1 (not equal), but 100 is set meanwhile: the
                retry finds it equal */
    CHECK_EQ(kin_state_flow_set(g_s, &v, sizeof v), 0);
    CHECK_EQ(kin_state_flow_get(g_s, &v, sizeof v), 0);
    CHECK_EQ(v, 100);
    CHECK_EQ(kin_state_flow_destroy(g_s), 0);
}

/* Zero-size values: every set is equal. */
static void test_zero_size(void) {
    kin_state_flow s;
    CHECK_EQ(kin_state_flow_new(&s, 0, NULL, NULL, NULL), 0);
    CHECK_EQ(kin_state_flow_set(s, NULL, 0), 0);
    CHECK_EQ(kin_state_flow_get(s, NULL, 0), 0);
    CHECK_EQ(kin_state_flow_compare_and_set(s, NULL, NULL, 0), 1);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

/* Values larger than the stack copies (a custom eq copies them). */
typedef struct big {
    char bytes[1000];
} big;

static int big_eq(const void *a, const void *b, void *arg) {
    (void)arg;
    return memcmp(a, b, sizeof(big)) == 0;
}

static void test_big(void) {
    static big x, y;
    memset(&x, 'a', sizeof x);
    kin_state_flow s;
    CHECK_EQ(kin_state_flow_new(&s, sizeof x, &x, big_eq, NULL), 0);
    CHECK_EQ(kin_state_flow_set(s, &x, sizeof x), 0);
    memset(&y, 'b', sizeof y);
    CHECK_EQ(kin_state_flow_set(s, &y, sizeof y), 1);
    static big z;
    CHECK_EQ(kin_state_flow_get(s, &z, sizeof z), 0);
    CHECK(memcmp(&z, &y, sizeof z) == 0);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

/* set from plain threads: each increment by CAS lands exactly once. */
static kin_state_flow g_counter;
#define PER_THREAD 2000

static void *adder(void *arg) {
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        for (;;) {
            int cur, next;
            CHECK_EQ(kin_state_flow_get(g_counter, &cur, sizeof cur), 0);
            next = cur + 1;
            int r = kin_state_flow_compare_and_set(g_counter, &cur, &next,
                                                   sizeof cur);
            CHECK(r == 0 || r == 1);
            if (r)
                break;
        }
    }
    return NULL;
}

static void test_threads(void) {
    int v = 0;
    CHECK_EQ(kin_state_flow_new(&g_counter, sizeof v, &v, NULL, NULL), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, adder, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(kin_state_flow_get(g_counter, &v, sizeof v), 0);
    CHECK_EQ(v, 4 * PER_THREAD);
    CHECK_EQ(kin_state_flow_destroy(g_counter), 0);
}

int main(void) {
    test_bytes();
    test_custom_eq();
    test_eq_may_reenter();
    test_zero_size();
    test_big();
    test_threads();
    printf("ok\n");
    return 0;
}
