/*
 * test_produce_close — kin_produce's completion, as kotlinx's
 * ProducerCoroutine does it:
 *   A. the channel is closed with the producer's final cause before
 *      anything learns that the producer completed (onCompleted /
 *      onCancelled run in finalizeFinishingState, before the job's state is
 *      final and its waiters are resumed): a receiver of the channel resumes
 *      before a joiner of the producer;
 *   B. a failure that the close carried into the channel is reported to no
 *      exception handler (onCancelled: `if (!_channel.close(cause) &&
 *      !handled) handleCoroutineException(...)`): a producer under a
 *      supervisor whose channel was open calls no handler.
 *
 * (The model test found both: kin closed the channel in a completion
 * handler, after the joiner resumed, and reported the failure like any
 * launch's. Now the job layer's finalize calls kin__producer_done.)
 */
#include "check.h"

static kin_channel g_ch;
static kin_job g_prod;
static int g_handled;
static int g_order[2], g_norder;

static int produce_nothing(kin_channel ch, void *arg) {
    (void)ch;
    (void)arg;
    EXPECT(4); /* started by J's join */
    return 0;
}

static int receiver(void *arg) {
    (void)arg;
    EXPECT(2);
    int x;
    CHECK_EQ(kin_channel_receive_catching(g_ch, &x, sizeof x), KIN_CLOSED);
    g_order[g_norder++] = 'R';
    return 0;
}

static int joiner(void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK_EQ(kin_join(g_prod), 0); /* starts the lazy producer */
    g_order[g_norder++] = 'J';
    return 0;
}

static int order(void *arg) {
    (void)arg;
    EXPECT(1);
    kin_launch_opts lazy = {.start = KIN_START_LAZY};
    CHECK_EQ(kin_produce(&g_ch, &g_prod, &lazy, NULL, sizeof(int),
                         produce_nothing, NULL),
             0);
    kin_job r, j;
    CHECK_EQ(kin_launch(&r, NULL, receiver, NULL), 0);
    CHECK_EQ(kin_launch(&j, NULL, joiner, NULL), 0);
    CHECK_EQ(kin_join(r), 0);
    CHECK_EQ(kin_join(j), 0);
    EXPECT(5);
    CHECK_EQ(g_norder, 2);
    CHECK_EQ(g_order[0], 'R'); /* the receiver saw the close first (A) */
    CHECK_EQ(g_order[1], 'J');
    kin_job_release(g_prod);
    CHECK_EQ(kin_channel_destroy(g_ch), 0);
    return 0;
}

static void handler(kin_job job, const kin_error *failure, void *arg) {
    (void)job;
    (void)failure;
    (void)arg;
    g_handled++;
}

static int produce_fail(kin_channel ch, void *arg) {
    (void)ch;
    (void)arg;
    EXPECT(8);
    return kin_fail("TestFailure", "boom");
}

static int sup_body(void *arg) {
    (void)arg;
    EXPECT(7);
    kin_launch_opts o = {.handler = handler};
    kin_channel ch;
    CHECK_EQ(kin_produce(&ch, NULL, &o, NULL, sizeof(int), produce_fail,
                         NULL),
             0);
    int x;
    CHECK_EQ(kin_channel_receive_catching(ch, &x, sizeof x), KIN_EFAILED);
    CHECK_STR(kin_error_message(kin_last_error()), "boom");
    EXPECT(9);
    CHECK_EQ(kin_channel_destroy(ch), 0);
    return 0;
}

static int unhandled(void *arg) {
    (void)arg;
    EXPECT(6);
    CHECK_EQ(kin_supervisor_scope(sup_body, NULL), 0);
    EXPECT(10);
    CHECK_EQ(g_handled, 0); /* the channel carried it: no handler (B) */
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(order, NULL), 0);
    CHECK_EQ(kin_run_test(unhandled, NULL), 0);
    FINISH(11);
    printf("test_produce_close: ok\n");
    return 0;
}
