/* Collecting a kin_state_flow, after kotlinx's StateFlowTest: a new
 * collector gets the current value first; a slow collector skips
 * intermediate values (conflation) and never gets a value equal to the
 * one it got last (A, B, A set while it is busy: nothing); an equal set
 * wakes nobody; subscribers counts the collectors; cancelling a collector
 * ends its collect with the cancellation; destroying the flow ends every
 * collect with KIN_ECANCELED; a failing collector function ends its
 * collect with that failure; with a custom equality the collector
 * compares with it too. */
#include "hot_rec.h"

static kin_state_flow s;
static int seen[16], nseen;

static int record(const void *value, void *arg) {
    (void)arg;
    CHECK(nseen < 16);
    seen[nseen++] = *(const int *)value;
    return 0;
}

static int collector(void *arg) {
    int *rc = arg;
    *rc = collect_state(s, record, NULL);
    return 0;
}

static void set(int v, int changed) {
    CHECK_EQ(kin_state_flow_set(s, &v, sizeof v), changed);
}

static void test_order(void) {
    check_step_ = 0;
    nseen = 0;
    int v = 0, rc = 1;
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    kin_job c;
    CHECK_EQ(kin_launch(&c, NULL, collector, &rc), 0);
    EXPECT(1);
    CHECK_EQ(kin_state_flow_subscribers(s), 0); /* not started yet */
    CHECK_EQ(kin_yield(), 0);                   /* it gets 0 and waits */
    EXPECT(2);
    CHECK_EQ(nseen, 1);
    CHECK_EQ(seen[0], 0);
    CHECK_EQ(kin_state_flow_subscribers(s), 1);
    set(1, 1);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(nseen, 2);
    CHECK_EQ(seen[1], 1);
    EXPECT(3);
    set(2, 1); /* conflated: only the latest reaches the collector */
    set(3, 1);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(nseen, 3);
    CHECK_EQ(seen[2], 3);
    set(3, 0); /* equal: nothing happens */
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(nseen, 3);
    EXPECT(4);
    set(4, 1); /* 4 then back to 3 while it waits in the queue: it reads
                  3, the value it got last, and passes nothing on */
    set(3, 1);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(nseen, 3);
    set(5, 1);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(nseen, 4);
    CHECK_EQ(seen[3], 5);
    EXPECT(5);
    CHECK_EQ(kin_cancel(c, NULL), 0);
    CHECK_EQ(kin_join(c), 0);
    CHECK_EQ(rc, KIN_ECANCELED); /* collecting never completes normally */
    CHECK_EQ(kin_state_flow_subscribers(s), 0);
    set(6, 1);
    CHECK_EQ(nseen, 4);
    FINISH(6);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

/* Two collectors; destroy ends both with KIN_ECANCELED. */
static void test_destroy(void) {
    nseen = 0;
    int v = 7, rc1 = 1, rc2 = 1;
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    kin_job c1, c2;
    CHECK_EQ(kin_launch(&c1, NULL, collector, &rc1), 0);
    CHECK_EQ(kin_launch(&c2, NULL, collector, &rc2), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(nseen, 2);
    CHECK_EQ(kin_state_flow_subscribers(s), 2);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
    CHECK_EQ(kin_join(c1), 0);
    CHECK_EQ(kin_join(c2), 0);
    CHECK_EQ(rc1, KIN_ECANCELED);
    CHECK_EQ(rc2, KIN_ECANCELED);
    CHECK_EQ(kin_state_flow_get(s, &v, sizeof v), KIN_ESTALE);
}

/* A collector busy in its function when the flow is destroyed ends at
 * its next wait, with KIN_ECANCELED, without touching the flow. */
static kin_channel gate;

static int record_then_wait(const void *value, void *arg) {
    (void)arg;
    record(value, NULL);
    int x;
    return kin_channel_receive(gate, &x, sizeof x);
}

static int slow_collector(void *arg) {
    int *rc = arg;
    *rc = collect_state(s, record_then_wait, NULL);
    return 0;
}

static void test_destroy_while_busy(void) {
    nseen = 0;
    int v = 1, rc = 1;
    CHECK_EQ(kin_channel_new(&gate, sizeof(int), NULL), 0);
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    kin_job c;
    CHECK_EQ(kin_launch(&c, NULL, slow_collector, &rc), 0);
    CHECK_EQ(kin_yield(), 0); /* in record_then_wait with 1 */
    CHECK_EQ(nseen, 1);
    set(2, 1);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
    /* a new flow may take the same record meanwhile: untouched */
    kin_state_flow other;
    v = 50;
    CHECK_EQ(kin_state_flow_new(&other, sizeof v, &v, NULL, NULL), 0);
    CHECK_EQ(kin_channel_send(gate, &v, sizeof v), 0);
    CHECK_EQ(kin_join(c), 0);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK_EQ(nseen, 1);
    CHECK_EQ(kin_state_flow_subscribers(other), 0);
    CHECK_EQ(kin_state_flow_get(other, &v, sizeof v), 0);
    CHECK_EQ(v, 50);
    CHECK_EQ(kin_state_flow_destroy(other), 0);
    CHECK_EQ(kin_channel_destroy(gate), 0);
}

/* The collector's function fails: its collect ends with that failure. */
static int fail_on_two(const void *value, void *arg) {
    (void)arg;
    if (*(const int *)value == 2)
        return kin_fail_code(-77, "Boom", "two is too many");
    return 0;
}

static int failing_collector(void *arg) {
    int *rc = arg;
    *rc = collect_state(s, fail_on_two, NULL);
    if (*rc == -77)
        CHECK_STR(last_message(), "two is too many");
    return 0;
}

static void test_collector_fails(void) {
    int v = 1, rc = 1;
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    kin_job c;
    CHECK_EQ(kin_launch(&c, NULL, failing_collector, &rc), 0);
    CHECK_EQ(kin_yield(), 0);
    set(2, 1);
    CHECK_EQ(kin_join(c), 0);
    CHECK_EQ(rc, -77);
    CHECK_EQ(kin_state_flow_subscribers(s), 0);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

/* A set from a plain thread wakes a collector on the loop. */
#include <pthread.h>
static void *set_from_thread(void *arg) {
    (void)arg;
    int v = 42;
    CHECK_EQ(kin_state_flow_set(s, &v, sizeof v), 1);
    return NULL;
}

static int until_42(const void *value, void *arg) {
    (void)arg;
    record(value, NULL);
    return *(const int *)value == 42 ? kin_fail_code(-42, "Done", "done") : 0;
}

static int thread_collector(void *arg) {
    int *rc = arg;
    *rc = collect_state(s, until_42, NULL);
    return 0;
}

static void test_plain_thread(void) {
    nseen = 0;
    int v = 0, rc = 1;
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    kin_job c;
    CHECK_EQ(kin_launch(&c, NULL, thread_collector, &rc), 0);
    CHECK_EQ(kin_yield(), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, set_from_thread, NULL), 0);
    CHECK_EQ(kin_join(c), 0); /* suspends the loop until the thread's set */
    pthread_join(t, NULL);
    CHECK_EQ(rc, -42);
    CHECK_EQ(seen[nseen - 1], 42);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

/* With a custom equality the collector compares with it too: a value
 * equal (by id) to the one it got last is not passed on, even though its
 * bytes differ. */
typedef struct item {
    int id;
    int payload;
} item;

static int item_eq(const void *a, const void *b, void *arg) {
    (void)arg;
    return ((const item *)a)->id == ((const item *)b)->id;
}

static item items[8];
static int nitems;

static int record_item(const void *value, void *arg) {
    (void)arg;
    items[nitems++] = *(const item *)value;
    return 0;
}

static int item_collector(void *arg) {
    int *rc = arg;
    *rc = collect_state(s, record_item, NULL);
    return 0;
}

static void test_custom_eq(void) {
    item a = {1, 10};
    int rc = 1;
    CHECK_EQ(kin_state_flow_new(&s, sizeof a, &a, item_eq, NULL), 0);
    kin_job c;
    CHECK_EQ(kin_launch(&c, NULL, item_collector, &rc), 0);
    yields(1);
    CHECK_EQ(nitems, 1);
    item b = {2, 20}, a2 = {1, 30};
    CHECK_EQ(kin_state_flow_set(s, &b, sizeof b), 1);
    CHECK_EQ(kin_state_flow_set(s, &a2, sizeof a2), 1); /* differs from b */
    yields(1);
    CHECK_EQ(nitems, 1); /* a2 equals a, the last one it got */
    item b2 = {2, 40};
    CHECK_EQ(kin_state_flow_set(s, &b2, sizeof b2), 1);
    yields(1);
    CHECK_EQ(nitems, 2);
    CHECK_EQ(items[1].payload, 40);
    CHECK_EQ(kin_cancel(c, NULL), 0);
    CHECK_EQ(kin_join(c), 0);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
}

static int body(void *arg) {
    (void)arg;
    test_order();
    test_custom_eq();
    test_destroy();
    test_destroy_while_busy();
    test_collector_fails();
    test_plain_thread();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
