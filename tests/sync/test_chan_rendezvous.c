/* Rendezvous channels, step by step as kotlinx's RendezvousChannelTest:
 * a send to a suspended receiver hands the element over, queues the
 * receiver and goes on without suspending; a receive from a suspended
 * sender does the same the other way; close lets receivers take what
 * suspended senders still hold (testSuspendSendOnClosedChannel); send after
 * close and receive on a closed, empty channel give the closed results. */
#include "check.h"

static kin_channel q;

static int sender_simple(void *arg) {
    (void)arg;
    EXPECT(4);
    int v = 1;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0); /* suspends: first */
    EXPECT(7);
    v = 2;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0); /* receiver is there */
    EXPECT(8);
    return 0;
}

static int receiver_simple(void *arg) {
    (void)arg;
    EXPECT(5);
    int v = 0;
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0); /* sender was there */
    CHECK_EQ(v, 1);
    EXPECT(6);
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0); /* suspends */
    CHECK_EQ(v, 2);
    EXPECT(9);
    return 0;
}

static void test_simple(void) {
    check_step_ = 0;
    CHECK_EQ(kin_channel_new(&q, sizeof(int), NULL), 0);
    EXPECT(1);
    kin_job s, r;
    CHECK_EQ(kin_launch(&s, NULL, sender_simple, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_launch(&r, NULL, receiver_simple, NULL), 0);
    EXPECT(3);
    CHECK_EQ(kin_join(s), 0);
    CHECK_EQ(kin_join(r), 0);
    FINISH(10);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

static int closed_receiver(void *arg) {
    (void)arg;
    EXPECT(3); /* suspends: the close resumes it */
    int v;
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), KIN_ECLOSED);
    CHECK_STR(kin_error_type(kin_last_error()),
              "ClosedReceiveChannelException");
    EXPECT(5);
    return 0;
}

static void test_closed_exceptions(void) {
    check_step_ = 0;
    CHECK_EQ(kin_channel_new(&q, sizeof(int), NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, closed_receiver, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_yield(), 0); /* receiver suspends */
    EXPECT(4);
    CHECK_EQ(kin_channel_close(q, NULL), 1);
    CHECK_EQ(kin_channel_close(q, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(6);
    int v = 42;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), KIN_ECLOSED);
    CHECK_STR(kin_error_type(kin_last_error()), "ClosedSendChannelException");
    CHECK_EQ(kin_channel_receive_catching(q, &v, sizeof v), KIN_CLOSED);
    CHECK(kin_channel_is_closed_for_send(q));
    CHECK(kin_channel_is_closed_for_receive(q));
    FINISH(7);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

static int suspend_send(void *arg) {
    (void)arg;
    EXPECT(4);
    int v = 42;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0); /* suspends */
    EXPECT(11);
    return 0;
}

static int closer(void *arg) {
    (void)arg;
    EXPECT(5);
    CHECK_EQ(kin_channel_close(q, NULL), 1);
    EXPECT(6);
    return 0;
}

static void test_suspend_send_on_closed(void) {
    check_step_ = 0;
    CHECK_EQ(kin_channel_new(&q, sizeof(int), NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, suspend_send, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_launch(NULL, NULL, closer, NULL), 0);
    EXPECT(3);
    CHECK_EQ(kin_yield(), 0); /* to the sender */
    EXPECT(7);
    CHECK_EQ(kin_yield(), 0); /* the sender is not resumed by the close */
    EXPECT(8);
    CHECK(!kin_channel_is_closed_for_receive(q));
    int v = 0;
    CHECK_EQ(kin_channel_receive_catching(q, &v, sizeof v), 0);
    CHECK_EQ(v, 42);
    EXPECT(9);
    CHECK_EQ(kin_channel_receive_catching(q, &v, sizeof v), KIN_CLOSED);
    EXPECT(10);
    CHECK_EQ(kin_yield(), 0); /* to the sender: it was resumed */
    FINISH(12);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

static int try_side(void *arg) {
    (void)arg;
    EXPECT(3);
    int v = 0;
    CHECK_EQ(kin_channel_try_receive(q, &v, sizeof v), KIN_EMPTY);
    EXPECT(4);
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0);
    CHECK_EQ(v, 2);
    EXPECT(7);
    CHECK_EQ(kin_channel_try_receive(q, &v, sizeof v), KIN_EMPTY);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(9);
    CHECK_EQ(kin_channel_try_receive(q, &v, sizeof v), 0);
    CHECK_EQ(v, 3);
    EXPECT(10);
    return 0;
}

/* testOfferAndPool, with trySend / tryReceive */
static void test_try(void) {
    check_step_ = 0;
    CHECK_EQ(kin_channel_new(&q, sizeof(int), NULL), 0);
    int v = 1;
    CHECK_EQ(kin_channel_try_send(q, &v, sizeof v), KIN_FULL);
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, try_side, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(5);
    v = 2;
    CHECK_EQ(kin_channel_try_send(q, &v, sizeof v), 0);
    EXPECT(6);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(8);
    v = 3;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0);
    FINISH(11);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

static int body(void *arg) {
    (void)arg;
    test_simple();
    test_closed_exceptions();
    test_suspend_send_on_closed();
    test_try();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
