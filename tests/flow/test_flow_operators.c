/* map, filter, transform, on_each, distinct_until_changed: each value goes
 * down the chain in place, before the emitter's next line runs (kotlinx's
 * operators are sequential), and the order of the callbacks is pinned. */
#include "check.h"

static int emit_1_to_4(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 4; i++) {
        int step = check_step_;
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
        CHECK(check_step_ > step || i % 2); /* even values ran the chain */
    }
    return 0;
}

/* The chain in test_order: onEach -> filter(even) -> map(x*10) -> collect.
 * Odd values: onEach, filter (2 steps). Even: onEach, filter, map, collect
 * (4 steps). */
static int seen_each(const void *v, void *arg) {
    (void)v;
    (void)arg;
    check_step_++;
    return 0;
}
static int even(const void *v, void *arg) {
    (void)arg;
    check_step_++;
    return *(const int *)v % 2 == 0;
}
static int times10(const void *in, void *out, void *arg) {
    (void)arg;
    check_step_++;
    *(long *)out = *(const int *)in * 10L;
    return 0;
}
static int collect_long(const void *v, void *arg) {
    long *acc = arg;
    check_step_++;
    acc[acc[0] + 1] = *(const long *)v;
    acc[0]++;
    return 0;
}

static void test_order(void) {
    check_step_ = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_1_to_4, NULL), 0);
    CHECK_EQ(kin_flow_on_each(&f, seen_each, NULL), 0);
    CHECK_EQ(kin_flow_filter(&f, even, NULL), 0);
    CHECK_EQ(kin_flow_map(&f, sizeof(long), times10, NULL), 0);
    CHECK_EQ(kin_flow_elem_size(f), sizeof(long));
    long acc[8] = {0};
    CHECK_EQ(kin_flow_collect(f, collect_long, acc), 0);
    CHECK_EQ(check_step_, 2 + 4 + 2 + 4);
    CHECK_EQ(acc[0], 2);
    CHECK_EQ(acc[1], 20);
    CHECK_EQ(acc[2], 40);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* transform: any number of values per upstream value (here x copies of
 * x), each emitted down before the transform's next line. */
static int repeat(kin_flow_collector *out, const void *v, void *arg) {
    (void)arg;
    int x = *(const int *)v;
    for (int i = 0; i < x; i++) {
        short s = (short)(x * 100 + i);
        KIN_TRY(kin_flow_emit(out, &s, sizeof s));
    }
    return 0;
}
static int collect_short(const void *v, void *arg) {
    short *acc = arg;
    acc[acc[0] + 1] = *(const short *)v;
    acc[0]++;
    return 0;
}

static void test_transform(void) {
    int xs[] = {0, 1, 2, 3};
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 4, sizeof(int)), 0);
    CHECK_EQ(kin_flow_transform(&f, sizeof(short), repeat, NULL), 0);
    short acc[16] = {0};
    CHECK_EQ(kin_flow_collect(f, collect_short, acc), 0);
    short want[] = {6, 100, 200, 201, 300, 301, 302};
    for (int i = 0; i < 7; i++)
        CHECK_EQ(acc[i], want[i]);
    /* a transform's emit of the wrong size is refused */
    CHECK_EQ(kin_flow_release(f), 0);
}

static int bad_size(kin_flow_collector *out, const void *v, void *arg) {
    (void)arg;
    return kin_flow_emit(out, v, sizeof(int) + 1);
}
static int ignore(const void *v, void *arg) {
    (void)v;
    (void)arg;
    return 0;
}

static void test_transform_bad_size(void) {
    int xs[] = {1};
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 1, sizeof(int)), 0);
    CHECK_EQ(kin_flow_transform(&f, sizeof(int), bad_size, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, ignore, NULL), KIN_EINVAL);
    CHECK(strstr(last_message(), "elem_size"));
    CHECK_EQ(kin_flow_release(f), 0);
}

/* map / filter / on_each failures stop the flow with that failure; a
 * callback that returns a code without raising it gets an error object
 * for that code. */
static int fail_at_3(const void *in, void *out, void *arg) {
    (void)arg;
    if (*(const int *)in == 3)
        return -5; /* -EIO, not raised */
    *(int *)out = *(const int *)in;
    return 0;
}
static int count_calls(const void *v, void *arg) {
    (void)v;
    ++*(int *)arg;
    return 0;
}
static int pred_fails(const void *v, void *arg) {
    (void)arg;
    return *(const int *)v == 2 ? kin_fail("IllegalStateException", "pred")
                                : 1;
}

static void test_failures(void) {
    int xs[] = {1, 2, 3, 4};
    kin_flow f;
    int calls = 0;
    CHECK_EQ(kin_flow_from_array(&f, xs, 4, sizeof(int)), 0);
    CHECK_EQ(kin_flow_map(&f, sizeof(int), fail_at_3, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, count_calls, &calls), -5);
    CHECK_EQ(calls, 2);
    CHECK_EQ(kin_error_code(kin_last_error()), -5);
    CHECK_EQ(kin_flow_release(f), 0);

    calls = 0;
    CHECK_EQ(kin_flow_from_array(&f, xs, 4, sizeof(int)), 0);
    CHECK_EQ(kin_flow_filter(&f, pred_fails, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, count_calls, &calls), KIN_EFAILED);
    CHECK_STR(last_message(), "pred");
    CHECK_EQ(calls, 1);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* distinct_until_changed: drops a value equal to the one before it (bytes,
 * or eq); the first value always passes. */
typedef struct {
    int key, payload;
} pair;
static int same_key(const void *a, const void *b, void *arg) {
    (void)arg;
    return ((const pair *)a)->key == ((const pair *)b)->key;
}
static int collect_pair(const void *v, void *arg) {
    int *acc = arg;
    acc[++acc[0]] = ((const pair *)v)->payload;
    return 0;
}
static int collect_int(const void *v, void *arg) {
    int *acc = arg;
    acc[++acc[0]] = *(const int *)v;
    return 0;
}

static void test_distinct(void) {
    int xs[] = {1, 1, 2, 2, 2, 1, 3, 3};
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 8, sizeof(int)), 0);
    CHECK_EQ(kin_flow_distinct_until_changed(&f, NULL, NULL), 0);
    int acc[16] = {0};
    CHECK_EQ(kin_flow_collect(f, collect_int, acc), 0);
    CHECK_EQ(acc[0], 4);
    CHECK(acc[1] == 1 && acc[2] == 2 && acc[3] == 1 && acc[4] == 3);
    /* collected again: a fresh "previous" per collect */
    acc[0] = 0;
    CHECK_EQ(kin_flow_collect(f, collect_int, acc), 0);
    CHECK_EQ(acc[0], 4);
    CHECK_EQ(kin_flow_release(f), 0);

    pair ps[] = {{1, 10}, {1, 11}, {2, 20}, {1, 12}, {1, 13}};
    CHECK_EQ(kin_flow_from_array(&f, ps, 5, sizeof(pair)), 0);
    CHECK_EQ(kin_flow_distinct_until_changed(&f, same_key, NULL), 0);
    memset(acc, 0, sizeof acc);
    CHECK_EQ(kin_flow_collect(f, collect_pair, acc), 0);
    CHECK_EQ(acc[0], 3);
    CHECK(acc[1] == 10 && acc[2] == 20 && acc[3] == 12);
    CHECK_EQ(kin_flow_release(f), 0);
}

static int body(void *arg) {
    (void)arg;
    test_order();
    test_transform();
    test_transform_bad_size();
    test_failures();
    test_distinct();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
