/* The basic cold flow: a recipe that runs again on each collect, in the
 * collecting coroutine (kotlinx's FlowTest / flow { } and asFlow()): the
 * emitter runs only when collected, each emit runs the collector in place
 * before it returns (sequential), the collector's failure stops the
 * emitter, and the flow's handle works until its last reference goes. */
#include "check.h"

static int emitter(kin_flow_collector *out, void *arg) {
    int *runs = arg;
    ++*runs;
    int steps = *runs <= 2; /* the third collect fails at 2 */
    if (steps)
        EXPECT(*runs == 1 ? 2 : 9);
    for (int i = 1; i <= 3; i++) {
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
        if (steps) /* after the collector ran */
            EXPECT((*runs == 1 ? 2 : 9) + i * 2);
        else
            CHECK(i == 1); /* the emit of 2 failed */
    }
    return 0;
}

static int sum_and_step(const void *v, void *arg) {
    int x = *(const int *)v;
    int *sum = arg;
    *sum += x;
    check_step_++; /* the collector's own step, between the emitter's */
    return 0;
}

static int fail_on_two(const void *v, void *arg) {
    (void)arg;
    if (*(const int *)v == 2)
        return kin_fail("IllegalStateException", "collector fails on %d", 2);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    int runs = 0, sum = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emitter, &runs), 0);
    EXPECT(1);
    CHECK_EQ(runs, 0); /* cold: nothing ran yet */
    CHECK_EQ(kin_flow_collect(f, sum_and_step, &sum), 0);
    /* steps 2..8 in the first collect */
    CHECK_EQ(runs, 1);
    CHECK_EQ(sum, 6);
    CHECK_EQ(kin_flow_collect(f, sum_and_step, &sum), 0); /* runs again */
    CHECK_EQ(runs, 2);
    CHECK_EQ(sum, 12);
    CHECK_EQ(check_step_, 15);
    CHECK_EQ(kin_flow_elem_size(f), sizeof(int));

    /* the collector's failure is the collect's result, and stops it */
    check_step_ = 100;
    int rc = kin_flow_collect(f, fail_on_two, NULL);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(last_message(), "collector fails on 2");
    CHECK_EQ(kin_flow_release(f), 0);
    CHECK_EQ(kin_flow_release(f), KIN_ESTALE);

    /* from_array copies the values now */
    int xs[4] = {5, 6, 7, 8};
    CHECK_EQ(kin_flow_from_array(&f, xs, 4, sizeof(int)), 0);
    xs[0] = 100;
    sum = 0;
    check_step_ = 0;
    CHECK_EQ(kin_flow_collect(f, sum_and_step, &sum), 0);
    CHECK_EQ(sum, 26);
    CHECK_EQ(check_step_, 4);
    CHECK_EQ(kin_flow_release(f), 0);

    /* an empty array */
    CHECK_EQ(kin_flow_from_array(&f, NULL, 0, sizeof(int)), 0);
    sum = 0;
    CHECK_EQ(kin_flow_collect(f, sum_and_step, &sum), 0);
    CHECK_EQ(sum, 0);
    CHECK_EQ(kin_flow_release(f), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
