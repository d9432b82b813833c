/* The undelivered-element callback and prompt cancellation, after kotlinx's
 * ChannelUndeliveredElementTest: every element that was sent but will never
 * be received reaches on_undelivered exactly once (a cancelled suspended
 * send, a send to a closed channel, channel cancel and destroy, dropped by
 * conflation or a drop policy, a receive cancelled after the element was
 * handed over); delivered ones never do. */
#include "check.h"

static int dropped[100]; /* how often each element reached the callback */
static int ndropped;

static void on_drop(void *elem, void *arg) {
    CHECK(arg == (void *)dropped);
    int v = *(int *)elem;
    CHECK(v >= 0 && v < 100);
    dropped[v]++;
    CHECK_EQ(dropped[v], 1); /* exactly once */
    ndropped++;
}

static void reset(void) {
    memset(dropped, 0, sizeof dropped);
    ndropped = 0;
    check_step_ = 0;
}

static kin_channel make(int capacity) {
    kin_channel ch;
    CHECK_EQ(kin_channel_new(&ch, sizeof(int),
                             &(kin_channel_opts){.capacity = capacity,
                                                 .on_undelivered = on_drop,
                                                 .undelivered_arg = dropped}),
             0);
    return ch;
}

static kin_channel q;

static int send_one(void *arg) {
    int v = (int)(intptr_t)arg;
    int rc = kin_channel_send(q, &v, sizeof v);
    return rc;
}

static const kin_launch_opts undispatched = {.start = KIN_START_UNDISPATCHED};

/* testRendezvousSendCancelled, testBufferedSendCancelled */
static void test_send_cancelled(void) {
    reset();
    q = make(0);
    kin_job s;
    CHECK_EQ(kin_launch(&s, &undispatched, send_one, (void *)1), 0);
    CHECK_EQ(kin_cancel_and_join(s), 0);
    CHECK_EQ(dropped[1], 1);
    CHECK_STR(kin_error_message(kin_job_cause(s)), "Job was cancelled");
    int v;
    CHECK_EQ(kin_channel_try_receive(q, &v, sizeof v), KIN_EMPTY); /* gone */
    CHECK_EQ(kin_channel_destroy(q), 0);

    reset();
    q = make(1);
    CHECK_EQ(kin_launch(NULL, &undispatched, send_one, (void *)1), 0); /* buf */
    CHECK_EQ(kin_launch(&s, &undispatched, send_one, (void *)2), 0); /* waits */
    CHECK_EQ(kin_cancel_and_join(s), 0);
    CHECK_EQ(ndropped, 1);
    CHECK_EQ(dropped[2], 1);
    CHECK_EQ(kin_channel_cancel(q, NULL), 0); /* now the buffered one */
    CHECK_EQ(ndropped, 2);
    CHECK_EQ(dropped[1], 1);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* testUnlimitedChannelCancelled, testConflatedResourceCancelled,
 * testSendToClosedChannel, and destroy with elements. */
static void test_channel_drops(void) {
    reset();
    q = make(KIN_CHANNEL_UNLIMITED);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(kin_channel_send(q, &i, sizeof i), 0);
    CHECK_EQ(ndropped, 0);
    CHECK_EQ(kin_channel_cancel(q, NULL), 0);
    CHECK_EQ(ndropped, 2);
    CHECK_EQ(kin_channel_destroy(q), 0);

    reset();
    q = make(KIN_CHANNEL_CONFLATED);
    int a = 1, b = 2;
    CHECK_EQ(kin_channel_send(q, &a, sizeof a), 0);
    CHECK_EQ(kin_channel_send(q, &b, sizeof b), 0);
    CHECK_EQ(dropped[1], 1); /* conflated: lost */
    CHECK_EQ(kin_channel_close(q, NULL), 1);
    CHECK_EQ(dropped[2], 0); /* still to be received */
    CHECK_EQ(kin_channel_cancel(q, NULL), 0);
    CHECK_EQ(dropped[2], 1);
    CHECK_EQ(kin_channel_destroy(q), 0);

    reset();
    q = make(3);
    CHECK_EQ(kin_channel_close(q, NULL), 1);
    a = 5;
    CHECK_EQ(kin_channel_send(q, &a, sizeof a), KIN_ECLOSED);
    CHECK_EQ(dropped[5], 1); /* send failed: not delivered */
    a = 6;
    CHECK_EQ(kin_channel_try_send(q, &a, sizeof a), KIN_ECLOSED);
    CHECK_EQ(dropped[6], 0); /* try_send: the caller keeps it */
    CHECK_EQ(kin_channel_destroy(q), 0);

    reset();
    q = make(4);
    for (int i = 10; i < 13; i++)
        CHECK_EQ(kin_channel_send(q, &i, sizeof i), 0);
    CHECK_EQ(kin_channel_receive(q, &a, sizeof a), 0);
    CHECK_EQ(kin_channel_destroy(q), 0);
    CHECK_EQ(ndropped, 2);
    CHECK_EQ(dropped[11] + dropped[12], 2);

    /* drop policies */
    reset();
    CHECK_EQ(kin_channel_new(&q, sizeof(int),
                             &(kin_channel_opts){.capacity = 1,
                                                 .overflow =
                                                     KIN_OVERFLOW_DROP_LATEST,
                                                 .on_undelivered = on_drop,
                                                 .undelivered_arg = dropped}),
             0);
    for (int i = 1; i <= 3; i++)
        CHECK_EQ(kin_channel_send(q, &i, sizeof i), 0);
    CHECK_EQ(dropped[2] + dropped[3], 2);
    CHECK_EQ(kin_channel_receive(q, &a, sizeof a), 0);
    CHECK_EQ(a, 1);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* Sent and received: never reported. */
static void test_delivered(void) {
    reset();
    q = make(0);
    CHECK_EQ(kin_launch(NULL, NULL, send_one, (void *)7), 0);
    int v;
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0);
    CHECK_EQ(v, 7);
    CHECK_EQ(kin_channel_close(q, NULL), 1);
    CHECK_EQ(kin_channel_cancel(q, NULL), 0);
    CHECK_EQ(ndropped, 0);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* Prompt cancellation of a suspended receive: the element was handed over
 * (the receiver is queued to resume), then the receiver is cancelled before
 * it runs: receive returns KIN_ECANCELED and the element goes to the
 * callback. */
static int prompt_receiver(void *arg) {
    (void)arg;
    EXPECT(2);
    int v = -1;
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), KIN_ECANCELED);
    EXPECT(5);
    CHECK_EQ(v, 3); /* it was copied, then handed to on_undelivered */
    CHECK_EQ(dropped[3], 1);
    return KIN_ECANCELED;
}

static void test_prompt_receive(void) {
    reset();
    q = make(0);
    kin_job r;
    CHECK_EQ(kin_launch(&r, NULL, prompt_receiver, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0); /* the receiver suspends */
    EXPECT(3);
    int v = 3;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0); /* no suspension */
    EXPECT(4);
    CHECK_EQ(kin_cancel(r, NULL), 0); /* before it resumes */
    CHECK_EQ(kin_join(r), 0);
    FINISH(6);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* Prompt cancellation of a suspended send: the element was taken, so it
 * is delivered (no callback), but send reports the cancellation. */
static int prompt_sender(void *arg) {
    (void)arg;
    EXPECT(2);
    int v = 4;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), KIN_ECANCELED);
    EXPECT(5);
    return KIN_ECANCELED;
}

static void test_prompt_send(void) {
    reset();
    q = make(0);
    kin_job s;
    CHECK_EQ(kin_launch(&s, NULL, prompt_sender, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(3);
    int v = 0;
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0); /* from the sender */
    CHECK_EQ(v, 4);
    EXPECT(4);
    CHECK_EQ(kin_cancel(s, NULL), 0);
    CHECK_EQ(kin_join(s), 0);
    FINISH(6);
    CHECK_EQ(ndropped, 0);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* A receive cancelled while nothing came: the channel is untouched. */
static int idle_receiver(void *arg) {
    (void)arg;
    int v;
    return kin_channel_receive(q, &v, sizeof v);
}

static void test_cancel_idle_receive(void) {
    reset();
    q = make(0);
    kin_job r;
    CHECK_EQ(kin_launch(&r, NULL, idle_receiver, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_channel_destroy(q), KIN_EBUSY); /* a waiter */
    CHECK_EQ(kin_cancel_and_join(r), 0);
    int v = 1;
    CHECK_EQ(kin_channel_try_send(q, &v, sizeof v), KIN_FULL); /* nobody */
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* testConsumeAll: cancel resumes every suspended sender with the
 * cancellation, each element reported once. */
static int consume_all_sender(void *arg) {
    int v = (int)(intptr_t)arg;
    EXPECT(v);
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), KIN_ECANCELED);
    CHECK_STR(last_message(), "Channel was cancelled");
    return 0;
}

static void test_consume_all(void) {
    reset();
    q = make(5);
    for (int i = 1; i <= 10; i++) {
        if (i <= 5) {
            EXPECT(i);
            CHECK_EQ(kin_channel_send(q, &i, sizeof i), 0);
        } else {
            CHECK_EQ(kin_launch(NULL, &undispatched, consume_all_sender,
                                (void *)(intptr_t)i),
                     0);
        }
    }
    EXPECT(11);
    CHECK_EQ(kin_channel_cancel(q, NULL), 0);
    CHECK(kin_channel_is_closed_for_send(q));
    CHECK(kin_channel_is_closed_for_receive(q));
    int v;
    CHECK_EQ(kin_channel_receive_catching(q, &v, sizeof v), KIN_ECANCELED);
    CHECK_EQ(kin_yield(), 0); /* the senders finish */
    CHECK_EQ(ndropped, 10);
    FINISH(12);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

static int body(void *arg) {
    (void)arg;
    test_send_cancelled();
    test_channel_drops();
    test_delivered();
    test_prompt_receive();
    test_prompt_send();
    test_cancel_idle_receive();
    test_consume_all();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
