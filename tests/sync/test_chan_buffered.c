/* Buffered, unlimited and conflated channels, after kotlinx's
 * BufferedChannelTest, ConflatedChannelTest and ChannelBufferOverflowTest:
 * a receive from a full buffer moves the first suspended sender's element
 * into it; suspended senders are served FIFO; close drains, cancel drops;
 * conflation and the drop policies keep the newest / oldest elements. */
#include "check.h"

static kin_channel q;

static int sender_simple(void *arg) {
    (void)arg;
    EXPECT(4);
    int v = 1;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0); /* buffered */
    CHECK(!kin_channel_is_empty(q));
    EXPECT(5);
    v = 2;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0); /* suspends: full */
    EXPECT(9);
    return 0;
}

static int receiver_simple(void *arg) {
    (void)arg;
    EXPECT(6);
    int v = 0;
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0); /* from the buffer */
    CHECK_EQ(v, 1);
    CHECK(!kin_channel_is_empty(q)); /* the sender's element moved in */
    EXPECT(7);
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0); /* no suspension */
    CHECK_EQ(v, 2);
    EXPECT(8);
    return 0;
}

static void test_simple(void) {
    check_step_ = 0;
    CHECK_EQ(kin_channel_new(&q, sizeof(int), &(kin_channel_opts){.capacity = 1}),
             0);
    CHECK(kin_channel_is_empty(q));
    EXPECT(1);
    kin_job s, r;
    CHECK_EQ(kin_launch(&s, NULL, sender_simple, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_launch(&r, NULL, receiver_simple, NULL), 0);
    EXPECT(3);
    CHECK_EQ(kin_join(s), 0);
    CHECK_EQ(kin_join(r), 0);
    CHECK(kin_channel_is_empty(q));
    FINISH(10);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* Suspended senders of a full buffer are served in the order they came. */
static int fifo_sender(void *arg) {
    int v = (int)(intptr_t)arg;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0);
    return 0;
}

static void test_fifo_senders(void) {
    CHECK_EQ(kin_channel_new(&q, sizeof(int), &(kin_channel_opts){.capacity = 2}),
             0);
    for (int i = 0; i < 6; i++)
        CHECK_EQ(kin_launch(NULL, NULL, fifo_sender, (void *)(intptr_t)i), 0);
    CHECK_EQ(kin_yield(), 0); /* 0, 1 buffered; 2..5 suspended in order */
    for (int i = 0; i < 6; i++) {
        int v = -1;
        CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0);
        CHECK_EQ(v, i);
    }
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* close: buffered elements are still received, then the closed result. */
static void test_close_drains(void) {
    CHECK_EQ(kin_channel_new(&q, sizeof(int),
                             &(kin_channel_opts){.capacity = KIN_CHANNEL_UNLIMITED}),
             0);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(kin_channel_send(q, &i, sizeof i), 0); /* never suspends */
    kin_error *cause = kin_error_new(KIN_EFAILED, "IOException", "boom");
    CHECK_EQ(kin_channel_close(q, cause), 1);
    CHECK(kin_channel_is_closed_for_send(q));
    CHECK(!kin_channel_is_closed_for_receive(q));
    int v = 7;
    CHECK_EQ(kin_channel_try_send(q, &v, sizeof v), KIN_EFAILED);
    CHECK_STR(last_message(), "boom");
    for (int i = 0; i < 1000; i++) {
        CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0);
        CHECK_EQ(v, i);
    }
    CHECK(kin_channel_is_closed_for_receive(q));
    CHECK_EQ(kin_channel_receive(q, &v, sizeof v), KIN_EFAILED);
    CHECK_STR(last_message(), "boom");
    CHECK_EQ(kin_channel_receive_catching(q, &v, sizeof v), KIN_EFAILED);
    CHECK(kin_last_error() != NULL);
    CHECK_STR(kin_error_type(kin_last_error()), "IOException");
    CHECK_EQ(kin_channel_try_receive(q, &v, sizeof v), KIN_EFAILED);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* cancel: what is buffered is dropped; receive gives the cancellation. */
static void test_cancel_drops(void) {
    CHECK_EQ(kin_channel_new(&q, sizeof(int), &(kin_channel_opts){.capacity = 5}),
             0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(kin_channel_send(q, &i, sizeof i), 0);
    CHECK_EQ(kin_channel_cancel(q, NULL), 0);
    CHECK(kin_channel_is_closed_for_send(q));
    CHECK(kin_channel_is_closed_for_receive(q));
    int v;
    CHECK_EQ(kin_channel_receive_catching(q, &v, sizeof v), KIN_ECANCELED);
    CHECK_STR(last_message(), "Channel was cancelled");
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* ConflatedChannelTest.testConflatedSend: the newest element wins. */
static void test_conflated(void) {
    CHECK_EQ(kin_channel_new(&q, sizeof(int),
                             &(kin_channel_opts){.capacity = KIN_CHANNEL_CONFLATED}),
             0);
    int v = 1;
    CHECK_EQ(kin_channel_try_send(q, &v, sizeof v), 0);
    v = 2;
    CHECK_EQ(kin_channel_send(q, &v, sizeof v), 0); /* never suspends */
    CHECK_EQ(kin_channel_try_receive(q, &v, sizeof v), 0);
    CHECK_EQ(v, 2);
    CHECK_EQ(kin_channel_try_receive(q, &v, sizeof v), KIN_EMPTY);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

/* ChannelBufferOverflowTest: DROP_LATEST keeps 1, 2; DROP_OLDEST 4, 5. */
static void test_overflow(void) {
    kin_overflow pol[2] = {KIN_OVERFLOW_DROP_LATEST, KIN_OVERFLOW_DROP_OLDEST};
    int want[2][2] = {{1, 2}, {4, 5}};
    for (int p = 0; p < 2; p++) {
        CHECK_EQ(kin_channel_new(&q, sizeof(int),
                                 &(kin_channel_opts){.capacity = 2,
                                                     .overflow = pol[p]}),
                 0);
        for (int i = 1; i <= 5; i++)
            CHECK_EQ(kin_channel_try_send(q, &i, sizeof i), 0);
        int v;
        CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0);
        CHECK_EQ(v, want[p][0]);
        CHECK_EQ(kin_channel_receive(q, &v, sizeof v), 0);
        CHECK_EQ(v, want[p][1]);
        CHECK_EQ(kin_channel_try_receive(q, &v, sizeof v), KIN_EMPTY);
        CHECK_EQ(kin_channel_destroy(q), 0);
    }
}

/* Elements of any size are copied in and out; size 0 works as a signal. */
typedef struct big {
    char text[1000];
    int n;
} big;

static void test_sizes(void) {
    CHECK_EQ(kin_channel_new(&q, sizeof(big), &(kin_channel_opts){.capacity = 3}),
             0);
    big b = {.n = 1};
    snprintf(b.text, sizeof b.text, "hello");
    CHECK_EQ(kin_channel_send(q, &b, sizeof b), 0);
    b.n = 2;
    CHECK_EQ(kin_channel_send(q, &b, sizeof b), 0);
    big out;
    CHECK_EQ(kin_channel_receive(q, &out, sizeof out), 0);
    CHECK_EQ(out.n, 1);
    CHECK_STR(out.text, "hello");
    CHECK_EQ(kin_channel_destroy(q), 0);
    CHECK_EQ(kin_channel_new(&q, 0, &(kin_channel_opts){.capacity = 2}), 0);
    CHECK_EQ(kin_channel_send(q, NULL, 0), 0);
    CHECK_EQ(kin_channel_try_receive(q, NULL, 0), 0);
    CHECK_EQ(kin_channel_try_receive(q, NULL, 0), KIN_EMPTY);
    CHECK_EQ(kin_channel_destroy(q), 0);
}

static int sum_fn(void *elem, void *arg) {
    *(long *)arg += *(int *)elem;
    return 0;
}

static int numbers(kin_channel ch, void *arg) {
    (void)arg;
    for (int i = 1; i <= 10; i++)
        KIN_TRY(kin_channel_send(ch, &i, sizeof i));
    return 0;
}

static void test_for_each(void) {
    kin_channel ch;
    CHECK_EQ(kin_produce(&ch, NULL, NULL, &(kin_channel_opts){.capacity = 4},
                         sizeof(int), numbers, NULL),
             0);
    long sum = 0;
    int x;
    CHECK_EQ(kin_channel_for_each(ch, &x, sizeof x, sum_fn, &sum), 0);
    CHECK_EQ(sum, 55);
    CHECK_EQ(kin_channel_destroy(ch), 0);
}

static int body(void *arg) {
    (void)arg;
    test_simple();
    test_fifo_senders();
    test_close_drains();
    test_cancel_drops();
    test_conflated();
    test_overflow();
    test_sizes();
    test_for_each();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
