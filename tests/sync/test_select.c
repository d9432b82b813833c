/* select, after kotlinx's SelectRendezvousChannelTest, SelectBiasTest and
 * SelectTimeoutTest: the first ready clause wins, ties go to the first
 * listed (kin_select) or to any (kin_select_unbiased); a suspended select
 * is completed by exactly one clause; cancelled while suspended it leaves
 * every channel untouched. Also produce: closing on completion, and the
 * consumer's cancel reaching the producer. */
#include "check.h"

static kin_channel a, b;

static kin_channel chan(int capacity) {
    kin_channel ch;
    CHECK_EQ(kin_channel_new(&ch, sizeof(int),
                             &(kin_channel_opts){.capacity = capacity}),
             0);
    return ch;
}

static void test_bias(void) {
    a = chan(1), b = chan(1);
    int x = 1, y = 2;
    int first = 0, second = 0;
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(kin_channel_try_send(a, &x, sizeof x), 0);
        CHECK_EQ(kin_channel_try_send(b, &y, sizeof y), 0);
        int va = 0, vb = 0;
        kin_select_clause cl[2] = {
            {.kind = KIN_SELECT_RECEIVE, .channel = a, .elem = &va, .size = 4},
            {.kind = KIN_SELECT_RECEIVE, .channel = b, .elem = &vb, .size = 4},
        };
        CHECK_EQ(kin_select(cl, 2), 0); /* biased: always the first */
        CHECK_EQ(va, 1);
        CHECK_EQ(vb, 0); /* b untouched */
        cl[0].elem = &va;
        CHECK_EQ(kin_channel_try_send(a, &x, sizeof x), 0);
        int w = kin_select_unbiased(cl, 2);
        CHECK(w == 0 || w == 1);
        if (w == 0)
            first++;
        else
            second++;
        /* drain whatever is left */
        while (kin_channel_try_receive(a, &va, sizeof va) == 0)
            ;
        while (kin_channel_try_receive(b, &vb, sizeof vb) == 0)
            ;
    }
    CHECK(first > 10 && second > 10);
    CHECK_EQ(kin_channel_destroy(a), 0);
    CHECK_EQ(kin_channel_destroy(b), 0);
}

static int later_sender(void *arg) {
    (void)arg;
    EXPECT(3);
    int v = 42;
    CHECK_EQ(kin_channel_send(b, &v, sizeof v), 0); /* the select waits */
    EXPECT(4);
    return 0;
}

/* A suspended select resumed by a send on its second channel; the other
 * clauses are withdrawn. */
static void test_suspend(void) {
    check_step_ = 0;
    a = chan(0), b = chan(0);
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, later_sender, NULL), 0);
    int va = 0, vb = 0, out = 9;
    kin_select_clause cl[3] = {
        {.kind = KIN_SELECT_RECEIVE, .channel = a, .elem = &va, .size = 4},
        {.kind = KIN_SELECT_RECEIVE, .channel = b, .elem = &vb, .size = 4},
        {.kind = KIN_SELECT_SEND, .channel = a, .elem = &out, .size = 4},
    };
    EXPECT(2);
    CHECK_EQ(kin_select(cl, 3), 1);
    EXPECT(5);
    CHECK_EQ(vb, 42);
    /* nothing is left registered on a */
    CHECK_EQ(kin_channel_try_send(a, &out, sizeof out), KIN_FULL);
    CHECK_EQ(kin_channel_try_receive(a, &va, sizeof va), KIN_EMPTY);
    FINISH(6);
    CHECK_EQ(kin_channel_destroy(a), 0);
    CHECK_EQ(kin_channel_destroy(b), 0);
}

static int value_async(void *arg, void **out) {
    (void)arg;
    KIN_TRY(kin_delay(10));
    *out = (void *)(intptr_t)77;
    return 0;
}

static void test_timeout_await_join(void) {
    a = chan(0);
    int va;
    kin_select_clause cl[2] = {
        {.kind = KIN_SELECT_RECEIVE, .channel = a, .elem = &va, .size = 4},
        {.kind = KIN_SELECT_TIMEOUT, .timeout_ms = 5},
    };
    int64_t t0 = kin_current_time();
    CHECK_EQ(kin_select(cl, 2), 1);
    CHECK(kin_current_time() - t0 >= 5);
    cl[1].timeout_ms = 0; /* at once */
    CHECK_EQ(kin_select(cl, 2), 1);

    kin_job d;
    CHECK_EQ(kin_async(&d, NULL, value_async, NULL), 0);
    void *res = NULL;
    kin_select_clause c2[3] = {
        {.kind = KIN_SELECT_RECEIVE, .channel = a, .elem = &va, .size = 4},
        {.kind = KIN_SELECT_AWAIT, .job = d, .result = &res},
        {.kind = KIN_SELECT_TIMEOUT, .timeout_ms = 10000},
    };
    CHECK_EQ(kin_select(c2, 3), 1);
    CHECK_EQ((intptr_t)res, 77);
    c2[1].kind = KIN_SELECT_JOIN;
    CHECK_EQ(kin_select(c2, 3), 1); /* completed: ready at once */
    CHECK_EQ(kin_channel_destroy(a), 0);
}

/* Cancelled while suspended in select: every channel untouched. */
static int selector(void *arg) {
    (void)arg;
    int va, out = 5;
    kin_select_clause cl[2] = {
        {.kind = KIN_SELECT_RECEIVE, .channel = a, .elem = &va, .size = 4},
        {.kind = KIN_SELECT_SEND, .channel = b, .elem = &out, .size = 4},
    };
    return kin_select(cl, 2);
}

static void test_cancel(void) {
    a = chan(0), b = chan(0);
    kin_job s;
    CHECK_EQ(kin_launch(&s, NULL, selector, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_channel_destroy(a), KIN_EBUSY);
    CHECK_EQ(kin_cancel_and_join(s), 0);
    CHECK(kin_job_is_cancelled(s));
    int v = 1;
    CHECK_EQ(kin_channel_try_send(a, &v, sizeof v), KIN_FULL);
    CHECK_EQ(kin_channel_try_receive(b, &v, sizeof v), KIN_EMPTY);
    CHECK_EQ(kin_channel_destroy(a), 0);
    CHECK_EQ(kin_channel_destroy(b), 0);
}

/* Closed channels complete a select: receive with the error,
 * receive_catching with its result. */
static void test_closed(void) {
    a = chan(0);
    CHECK_EQ(kin_channel_close(a, NULL), 1);
    int va;
    kin_select_clause cl[1] = {
        {.kind = KIN_SELECT_RECEIVE, .channel = a, .elem = &va, .size = 4}};
    CHECK_EQ(kin_select(cl, 1), KIN_ECLOSED);
    cl[0].kind = KIN_SELECT_RECEIVE_CATCHING;
    CHECK_EQ(kin_select(cl, 1), 0);
    CHECK_EQ(cl[0].rc, KIN_CLOSED);
    CHECK_EQ(kin_channel_destroy(a), 0);
}

/* produce: closed when the producer completes, with its failure. */
static int squares(kin_channel ch, void *arg) {
    (void)arg;
    for (int i = 1; i <= 3; i++) {
        int v = i * i;
        KIN_TRY(kin_channel_send(ch, &v, sizeof v));
    }
    return kin_fail("IllegalStateException", "out of squares");
}

static int handled;
static void quiet(kin_job job, const kin_error *failure, void *arg) {
    (void)job, (void)failure, (void)arg;
    handled++;
}

/* Under a supervisor, so that the producer's failure does not cancel the
 * consumer (in a coroutine_scope it would, and the consumer's last receive
 * would end in its own cancellation, as in kotlinx). */
static int failing_consumer(void *arg) {
    (void)arg;
    kin_channel ch;
    KIN_TRY(kin_produce(&ch, NULL, &(kin_launch_opts){.handler = quiet}, NULL,
                        sizeof(int), squares, NULL));
    int v, sum = 0;
    int rc;
    while ((rc = kin_channel_receive_catching(ch, &v, sizeof v)) == 0)
        sum += v;
    CHECK_EQ(sum, 14);
    CHECK_EQ(rc, KIN_EFAILED);
    CHECK_STR(last_message(), "out of squares");
    CHECK_EQ(kin_channel_destroy(ch), 0);
    return 0;
}

static int forever(kin_channel ch, void *arg) {
    int *sent = arg;
    for (int i = 0;; i++) {
        int rc = kin_channel_send(ch, &i, sizeof i);
        if (rc < 0)
            return rc;
        (*sent)++;
    }
}

static void test_produce(void) {
    /* the failure reaches the receiver as the close cause, and so no
     * handler (kotlinx's ProducerCoroutine.onCancelled reports it only
     * when the close did not carry it) */
    CHECK_EQ(kin_supervisor_scope(failing_consumer, NULL), 0);
    CHECK_EQ(handled, 0);
    /* cancelling the consumer's channel cancels the producer */
    int sent = 0;
    kin_channel ch;
    kin_job p;
    CHECK_EQ(kin_produce(&ch, &p, NULL, NULL, sizeof(int), forever, &sent), 0);
    for (int i = 0; i < 5; i++) {
        int v;
        CHECK_EQ(kin_channel_receive(ch, &v, sizeof v), 0);
        CHECK_EQ(v, i);
    }
    CHECK_EQ(kin_channel_cancel(ch, NULL), 0);
    CHECK_EQ(kin_join(p), 0);
    CHECK(kin_job_is_cancelled(p));
    CHECK_EQ(kin_channel_destroy(ch), 0);
    /* destroying early: the producer is cancelled, the handle is stale */
    CHECK_EQ(kin_produce(&ch, &p, NULL, NULL, sizeof(int), forever, &sent), 0);
    int v;
    CHECK_EQ(kin_channel_receive(ch, &v, sizeof v), 0);
    CHECK_EQ(kin_channel_destroy(ch), 0);
    CHECK_EQ(kin_channel_receive(ch, &v, sizeof v), KIN_ESTALE);
    CHECK_EQ(kin_join(p), 0);
    CHECK(kin_job_is_cancelled(p));
}

static int body(void *arg) {
    (void)arg;
    test_bias();
    test_suspend();
    test_timeout_await_join();
    test_cancel();
    test_closed();
    test_produce();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    printf("ok\n");
    return 0;
}
