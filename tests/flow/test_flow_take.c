/* take (kotlinx's LimitTest): after the n-th value the upstream is stopped
 * at once: its emit returns KIN_ECANCELED (an AbortFlowException) and its
 * code after the n-th emit never runs; the collect completes normally.
 * Each take owns its abort: a nested take never swallows another's, and
 * an abort passing through on_completion is seen there as the cause. */
#include "check.h"

static int three_then_unreached(kin_flow_collector *out, void *arg) {
    (void)arg;
    EXPECT(2);
    int v = 1;
    CHECK_EQ(kin_flow_emit(out, &v, sizeof v), 0);
    EXPECT(4);
    v = 2;
    int rc = kin_flow_emit(out, &v, sizeof v); /* the 2nd: take(2) stops */
    EXPECT(6);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK_STR(kin_error_type(kin_last_error()), "AbortFlowException");
    CHECK_STR(last_message(), "Flow was aborted, no more elements needed");
    return rc; /* as a Kotlin emitter would rethrow */
}

static int step_collect(const void *v, void *arg) {
    (void)arg;
    EXPECT(*(const int *)v == 1 ? 3 : 5);
    return 0;
}

static void test_take_stops_upstream(void) {
    check_step_ = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), three_then_unreached, NULL), 0);
    CHECK_EQ(kin_flow_take(&f, 2), 0);
    EXPECT(1);
    CHECK_EQ(kin_flow_collect(f, step_collect, NULL), 0);
    FINISH(7);
    CHECK(kin_last_error() == NULL); /* the abort was handled */
    CHECK_EQ(kin_flow_release(f), 0);
}

/* An emitter that ignores the abort and returns 0 still stops: the
 * collect succeeds, with no value after the n-th. */
static int ignores_abort(kin_flow_collector *out, void *arg) {
    int *after = arg;
    for (int i = 1; i <= 5; i++)
        if (kin_flow_emit(out, &i, sizeof i) < 0)
            break;
    ++*after;
    return 0;
}
static int collect_int(const void *v, void *arg) {
    int *acc = arg;
    acc[++acc[0]] = *(const int *)v;
    return 0;
}

static void test_take_swallowed(void) {
    int after = 0, acc[8] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), ignores_abort, &after), 0);
    CHECK_EQ(kin_flow_take(&f, 2), 0);
    CHECK_EQ(kin_flow_collect(f, collect_int, acc), 0);
    CHECK_EQ(acc[0], 2);
    CHECK_EQ(after, 1);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* A take bigger than the flow changes nothing. */
static void test_take_more_than_there_is(void) {
    int xs[] = {1, 2, 3}, acc[8] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 3, sizeof(int)), 0);
    CHECK_EQ(kin_flow_take(&f, 10), 0);
    CHECK_EQ(kin_flow_collect(f, collect_int, acc), 0);
    CHECK_EQ(acc[0], 3);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* Nested takes: take(3).take(1): the outer abort passes through the inner
 * take, which must not take it for its own; take(1).take(3): the inner
 * abort ends the collect normally too. Either way one value. */
static void test_nested(uint64_t inner, uint64_t outer, int want) {
    int xs[] = {1, 2, 3, 4, 5}, acc[8] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 5, sizeof(int)), 0);
    CHECK_EQ(kin_flow_take(&f, inner), 0);
    CHECK_EQ(kin_flow_take(&f, outer), 0);
    CHECK_EQ(kin_flow_collect(f, collect_int, acc), 0);
    CHECK_EQ(acc[0], want);
    for (int i = 1; i <= want; i++)
        CHECK_EQ(acc[i], i);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* The inner take's code after its upstream returns sees the outer abort
 * pass by: an on_completion between the takes gets the outer's abort. */
static int saw_cause(kin_flow_collector *out, const kin_error *cause,
                     void *arg) {
    (void)out;
    char *seen = arg; /* copied: the cause lives as long as the collect */
    snprintf(seen, 64, "%s", cause ? kin_error_type(cause) : "success");
    CHECK(!cause || kin_error_is_cancellation(cause));
    return cause ? kin_error_code(cause) : 0;
}

static void test_abort_through_on_completion(void) {
    int xs[] = {1, 2, 3, 4, 5}, acc[8] = {0};
    char seen[64] = "";
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 5, sizeof(int)), 0);
    CHECK_EQ(kin_flow_take(&f, 4), 0);
    CHECK_EQ(kin_flow_on_completion(&f, saw_cause, seen), 0);
    CHECK_EQ(kin_flow_take(&f, 2), 0);
    CHECK_EQ(kin_flow_collect(f, collect_int, acc), 0);
    CHECK_EQ(acc[0], 2);
    CHECK_STR(seen, "AbortFlowException");
    CHECK_EQ(kin_flow_release(f), 0);
}

/* A downstream failure after the n-th value is not mistaken for the
 * abort. */
static int fail_on_2(const void *v, void *arg) {
    (void)arg;
    return *(const int *)v == 2 ? kin_fail("IllegalStateException", "boom")
                                : 0;
}

static void test_failure_at_nth(void) {
    int xs[] = {1, 2, 3};
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 3, sizeof(int)), 0);
    CHECK_EQ(kin_flow_take(&f, 2), 0);
    CHECK_EQ(kin_flow_collect(f, fail_on_2, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "boom");
    CHECK_EQ(kin_flow_release(f), 0);
}

static int body(void *arg) {
    (void)arg;
    test_take_stops_upstream();
    test_take_swallowed();
    test_take_more_than_there_is();
    test_nested(3, 1, 1);
    test_nested(1, 3, 1);
    test_nested(2, 2, 2);
    test_abort_through_on_completion();
    test_failure_at_nth();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
