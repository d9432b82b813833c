/* kin_channel_flow (kotlinx's channelFlow): the producer and the
 * coroutines it launches send into one channel; the collector receives
 * what they send, in the order sent; the flow completes when the producer
 * and all its children have completed; it fails with the first failure
 * among them; when the collector stops, they are all cancelled. Each
 * collect runs the producer again. */
#include "check.h"

static int send_int(kin_channel ch, int v) {
    return kin_channel_send(ch, &v, sizeof v);
}

typedef struct kid {
    kin_channel ch;
    int base;
    int64_t pause;
} kid;

static int kid_main(void *arg) {
    kid *k = arg;
    for (int i = 0; i < 2; i++) {
        KIN_TRY(kin_delay(k->pause));
        KIN_TRY(send_int(k->ch, k->base + i));
    }
    return 0;
}

typedef struct prod {
    int runs;
    kid kids[2];
} prod;

static int producer(kin_channel ch, void *arg) {
    prod *p = arg;
    p->runs++;
    EXPECT(2);
    p->kids[0] = (kid){ch, 10, 10}; /* 10 @10, 11 @20 */
    p->kids[1] = (kid){ch, 20, 15}; /* 20 @15, 21 @30 */
    KIN_TRY(kin_launch(NULL, NULL, kid_main, &p->kids[0]));
    KIN_TRY(kin_launch(NULL, NULL, kid_main, &p->kids[1]));
    KIN_TRY(send_int(ch, 1));
    EXPECT(3); /* the producer body returns; its children go on */
    return 0;
}

typedef struct got {
    int n;
    int v[8];
    int64_t t[8];
} got;

static int record(const void *v, void *arg) {
    got *g = arg;
    g->v[g->n] = *(const int *)v;
    g->t[g->n++] = kin_current_time();
    return 0;
}

static int failing_kid(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(5));
    return kin_fail("IOException", "child failed");
}

typedef struct watch {
    int cancelled;
} watch;

static watch w_sender;

static int endless_sender(kin_channel ch, void *arg) {
    (void)arg;
    for (int i = 0;; i++) {
        int rc = send_int(ch, i);
        if (rc < 0) {
            w_sender.cancelled = kin_error_is_cancellation(kin_last_error());
            return rc;
        }
    }
}

static int failing_producer(kin_channel ch, void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, failing_kid, NULL));
    for (int i = 0;; i++) { /* until the child's failure cancels us */
        KIN_TRY(send_int(ch, i));
        KIN_TRY(kin_delay(1));
    }
}

static int stop_at_3(const void *v, void *arg) {
    (void)arg;
    return *(const int *)v == 3 ? kin_fail("Stop", "enough") : 0;
}

/* channel_flow + flow_on fuse: the producer itself runs on Default; its
 * argument is freed by the kin_flow_on_free of the channel_flow, which
 * lives as long as the fused flow. */
static kin_dispatcher *producer_ran_on;
static int freed;

static int where(kin_channel ch, void *arg) {
    (void)arg;
    producer_ran_on = kin_dispatcher_current();
    for (int i = 0; i < 100; i++)
        KIN_TRY(send_int(ch, i));
    return 0;
}

static void on_free(void *arg) {
    (void)arg;
    freed++;
}

static int sum(const void *v, void *arg) {
    *(int *)arg += *(const int *)v;
    return 0;
}

static void fused_with_flow_on(void) {
    kin_flow f;
    CHECK_EQ(kin_channel_flow(&f, sizeof(int), NULL, where, NULL), 0);
    CHECK_EQ(kin_flow_on_free(f, on_free, NULL), 0);
    CHECK_EQ(kin_flow_on(&f, kin_dispatcher_default()), 0);
    CHECK_EQ(kin_flow_buffer(&f, 8, KIN_OVERFLOW_SUSPEND), 0);
    int s = 0;
    CHECK_EQ(kin_flow_collect(f, sum, &s), 0);
    CHECK_EQ(s, 4950);
    CHECK(producer_ran_on == kin_dispatcher_default());
    CHECK_EQ(freed, 0);
    kin_flow_release(f);
    CHECK_EQ(freed, 1); /* with the last flow that used it */
}

static int body(void *arg) {
    (void)arg;
    prod p = {0};
    kin_flow f;
    CHECK_EQ(kin_channel_flow(&f, sizeof(int), NULL, producer, &p), 0);
    EXPECT(1);
    CHECK_EQ(p.runs, 0); /* cold */
    got g = {0};
    int64_t t0 = kin_current_time();
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    FINISH(4);
    const int want[] = {1, 10, 20, 11, 21};
    const int64_t at[] = {0, 10, 15, 20, 30};
    CHECK_EQ(g.n, 5);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(g.v[i], want[i]);
        CHECK_EQ(g.t[i] - t0, at[i]);
    }
    CHECK_EQ(kin_current_time() - t0, 30); /* done with the last child */
    /* again: the producer runs again */
    g.n = 0;
    check_step_ = 1;
    CHECK_EQ(kin_flow_collect(f, record, &g), 0);
    CHECK_EQ(p.runs, 2);
    CHECK_EQ(g.n, 5);
    kin_flow_release(f);

    /* a child's failure is the flow's */
    CHECK_EQ(kin_channel_flow(&f, sizeof(int), NULL, failing_producer, NULL),
             0);
    g.n = 0;
    int rc = kin_flow_collect(f, record, &g);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(last_message(), "child failed");
    CHECK(g.n >= 1);
    kin_flow_release(f);

    /* the collector stops: the producer is cancelled */
    CHECK_EQ(kin_channel_flow(&f, sizeof(int),
                              &(kin_channel_opts){.capacity = 2},
                              endless_sender, NULL),
             0);
    rc = kin_flow_collect(f, stop_at_3, NULL);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(last_message(), "enough");
    CHECK_EQ(w_sender.cancelled, 1);
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
    kin_flow_release(f);
    fused_with_flow_on();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
