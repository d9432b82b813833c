/* The cold flows of hot flows with operators and terminals, as kotlinx's
 * StateFlow / SharedFlow are used: first() of a StateFlow is its current
 * value; take(n) ends a collect normally (the subscriber leaves); map and
 * on_each run on each value; launch_in collects in the background until
 * its coroutine is cancelled; subscribers counts each collect of the
 * same cold flow (one cold flow, many collectors). */
#include "hot_rec.h"

static int times10(const void *in, void *out, void *arg) {
    (void)arg;
    *(int *)out = *(const int *)in * 10;
    return 0;
}

static int seen[16], nseen;
static int note(const void *value, void *arg) {
    (void)arg;
    seen[nseen++] = *(const int *)value;
    return 0;
}

static void test_first_and_take(void) {
    kin_state_flow s;
    int v = 5;
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    kin_flow f;
    CHECK_EQ(kin_state_flow_as_flow(s, &f), 0);
    int got = 0;
    CHECK_EQ(kin_flow_first(f, &got, sizeof got), 0);
    CHECK_EQ(got, 5);
    CHECK_EQ(kin_state_flow_subscribers(s), 0);
    CHECK_EQ(kin_flow_release(f), 0);
    CHECK_EQ(kin_state_flow_destroy(s), 0);

    kin_shared_flow sf;
    CHECK_EQ(kin_shared_flow_new(&sf, sizeof v,
                                 &(kin_shared_flow_opts){.replay = 3}),
             0);
    for (v = 1; v <= 3; v++)
        CHECK_EQ(kin_shared_flow_try_emit(sf, &v, sizeof v), 0);
    CHECK_EQ(kin_shared_flow_as_flow(sf, &f), 0);
    CHECK_EQ(kin_flow_map(&f, sizeof(int), times10, NULL), 0);
    CHECK_EQ(kin_flow_take(&f, 2), 0);
    int *values = NULL;
    size_t n = 0;
    CHECK_EQ(kin_flow_to_array(f, (void **)&values, &n), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(values[0], 10);
    CHECK_EQ(values[1], 20);
    free(values);
    CHECK_EQ(kin_shared_flow_subscribers(sf), 0);
    CHECK_EQ(kin_flow_release(f), 0);
    CHECK_EQ(kin_shared_flow_destroy(sf), 0);
}

static void test_launch_in(void) {
    check_step_ = 0;
    nseen = 0;
    kin_state_flow s;
    int v = 1;
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    kin_flow f;
    CHECK_EQ(kin_state_flow_as_flow(s, &f), 0);
    CHECK_EQ(kin_flow_on_each(&f, note, NULL), 0);
    kin_job a, b;
    CHECK_EQ(kin_flow_launch_in(f, (kin_scope){0}, &a), 0);
    CHECK_EQ(kin_flow_launch_in(f, (kin_scope){0}, &b), 0);
    CHECK_EQ(kin_flow_release(f), 0); /* launch_in holds it */
    EXPECT(1);
    yields(1);
    CHECK_EQ(kin_state_flow_subscribers(s), 2);
    CHECK_EQ(nseen, 2); /* each got the current value */
    v = 2;
    CHECK_EQ(kin_state_flow_set(s, &v, sizeof v), 1);
    yields(1);
    CHECK_EQ(nseen, 4);
    CHECK_EQ(seen[2], 2);
    CHECK_EQ(seen[3], 2);
    EXPECT(2);
    CHECK_EQ(kin_cancel(a, NULL), 0);
    CHECK_EQ(kin_join(a), 0);
    CHECK_EQ(kin_state_flow_subscribers(s), 1);
    CHECK_EQ(kin_cancel(b, NULL), 0);
    CHECK_EQ(kin_join(b), 0);
    CHECK_EQ(kin_state_flow_subscribers(s), 0);
    FINISH(3);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

static int body(void *arg) {
    (void)arg;
    test_first_and_take();
    test_launch_in();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
