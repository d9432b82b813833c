/* kin_with_context called by a coroutine that is already cancelled: the
 * block never runs and the call returns the caller's cancellation, whatever
 * the dispatcher (kotlinx's withContext calls ensureActive() before each of
 * its paths: the same dispatcher, Unconfined, another dispatcher). In a
 * non-cancellable section the caller is not cancelled, so the block runs. */
#include "check.h"

static int ran;

static int block(void *arg) {
    (void)arg;
    ran++;
    return 0;
}

static int in_section(void *arg) {
    (void)arg;
    CHECK_EQ(kin_with_context(kin_dispatcher_current(), block, NULL), 0);
    CHECK_EQ(kin_with_context(kin_dispatcher_unconfined(), block, NULL), 0);
    return 0;
}

static int cancelled_scope(void *arg) {
    (void)arg;
    CHECK_EQ(kin_cancel(kin_current_job(),
                        kin_error_new(KIN_ECANCELED, "CancellationException",
                                      "stop")),
             0);
    EXPECT(2);
    CHECK_EQ(kin_with_context(kin_dispatcher_current(), block, NULL),
             KIN_ECANCELED);
    CHECK_STR(last_message(), "stop");
    CHECK_EQ(ran, 0);
    EXPECT(3);
    CHECK_EQ(kin_with_context(kin_dispatcher_unconfined(), block, NULL),
             KIN_ECANCELED);
    CHECK_STR(last_message(), "stop");
    CHECK_EQ(ran, 0);
    EXPECT(4);
    CHECK_EQ(kin_with_context(kin_dispatcher_default(), block, NULL),
             KIN_ECANCELED);
    CHECK_STR(last_message(), "stop");
    CHECK_EQ(ran, 0);
    EXPECT(5);
    CHECK_EQ(kin_non_cancellable(in_section, NULL), 0);
    CHECK_EQ(ran, 2);
    EXPECT(6);
    return KIN_ECANCELED;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_coroutine_scope(cancelled_scope, NULL), KIN_ECANCELED);
    CHECK_STR(last_message(), "stop");
    EXPECT(7);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    FINISH(8);
    return 0;
}
