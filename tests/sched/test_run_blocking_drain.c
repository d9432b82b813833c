/* When kin_run_blocking's body and children are done, coroutines of other
 * trees already queued on its loop (here global-scope coroutines dispatched
 * to it) run before it returns, once each, up to their next suspension, as
 * kotlinx's event loop drains its queue when runBlocking shuts it down.
 * What they queue meanwhile (a yield) and their delays are not waited for:
 * they continue in the thread's next loop. */
#include "check.h"

/* Handles taken inside `first`: owned by it (L2), so afterwards they work
 * as lent handles, valid while their coroutines run (L3). */
static kin_job yielder, sleeper;
static int yielder_done, sleeper_done;

static int yields(void *arg) {
    (void)arg;
    EXPECT(2); /* in the drain */
    CHECK_EQ(kin_yield(), 0);
    EXPECT(5); /* in the next kin_run_blocking */
    yielder_done = 1;
    return 0;
}

static int sleeps(void *arg) {
    (void)arg;
    EXPECT(3); /* in the drain */
    CHECK_EQ(kin_delay(10), 0);
    EXPECT(7);
    sleeper_done = 1;
    return 0;
}

static int first(void *arg) {
    (void)arg;
    EXPECT(1);
    kin_launch_opts here = {.dispatcher = kin_dispatcher_current()};
    CHECK_EQ(kin_scope_launch(kin_global_scope(), &yielder, &here, yields,
                              NULL),
             0);
    CHECK_EQ(kin_scope_launch(kin_global_scope(), &sleeper, &here, sleeps,
                              NULL),
             0);
    return 0; /* without suspending: both are still queued */
}

static int second(void *arg) {
    (void)arg;
    EXPECT(6);
    CHECK(yielder_done);
    CHECK_EQ(kin_join(sleeper), 0); /* still running: the handle is valid */
    CHECK(sleeper_done);
    EXPECT(8);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(first, NULL), 0);
    EXPECT(4);
    CHECK(!yielder_done && !sleeper_done); /* not waited for */
    CHECK_EQ(kin_job_state(yielder), KIN_STATE_ACTIVE);
    CHECK_EQ(kin_job_state(sleeper), KIN_STATE_ACTIVE);
    CHECK_EQ(kin_run_blocking(second, NULL), 0);
    FINISH(9);
    return 0;
}
