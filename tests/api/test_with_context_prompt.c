/* kin_with_context onto another dispatcher, with the caller cancelled while
 * it waits: the call returns the caller's cancellation even if the block
 * completed successfully before the cancellation came (kotlinx resumes the
 * caller of withContext through a cancellable dispatch: prompt
 * cancellation, DESIGN rule 16). A block failure still wins over that
 * cancellation, and a block cancelled with its caller reports the
 * cancellation even if it swallowed it. */
#include <sched.h>
#include <stdatomic.h>

#include "check.h"

static atomic_int started, go;

static int succeeds(void *arg) {
    (void)arg;
    atomic_store(&started, 1);
    while (!atomic_load(&go))
        sched_yield();
    return 0;
}

static int fails(void *arg) {
    (void)arg;
    atomic_store(&started, 1);
    while (!atomic_load(&go))
        sched_yield();
    return kin_fail("IOException", "disk on fire");
}

static int swallows(void *arg) {
    (void)arg;
    atomic_store(&started, 1);
    CHECK_EQ(kin_delay(100000), KIN_ECANCELED);
    return 0;
}

typedef struct call {
    kin_fn block;
    int rc;
    char msg[64];
} call;

static int caller(void *arg) {
    call *c = arg;
    c->rc = kin_with_context(kin_dispatcher_default(), c->block, NULL);
    snprintf(c->msg, sizeof c->msg, "%s", last_message());
    return 0;
}

static kin_error *cancellation(void) {
    return kin_error_new(KIN_ECANCELED, "CancellationException",
                         "caller cancelled");
}

/* Launches caller(c) and lets its block finish on Default; then, before
 * the caller can resume (this thread, its loop, does not suspend
 * meanwhile), cancels it; then waits for it. */
static void cancel_after_block(call *c) {
    atomic_store(&started, 0);
    atomic_store(&go, 0);
    kin_job j, b;
    CHECK_EQ(kin_launch(&j, NULL, caller, c), 0);
    while (!atomic_load(&started))
        CHECK_EQ(kin_delay(1), 0);
    CHECK_EQ(kin_job_children(j, &b, 1), 1); /* the block's job */
    atomic_store(&go, 1);
    while (!kin_job_is_completed(b)) /* the caller holds b: not stale */
        sched_yield();
    CHECK_EQ(kin_cancel(j, cancellation()), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_release(j), 0);
}

static int body(void *arg) {
    (void)arg;
    call c = {.block = succeeds};
    cancel_after_block(&c);
    CHECK_EQ(c.rc, KIN_ECANCELED); /* the block's 0 is dropped */
    CHECK_STR(c.msg, "caller cancelled");

    call f = {.block = fails};
    cancel_after_block(&f);
    CHECK_EQ(f.rc, KIN_EFAILED); /* a failure wins */
    CHECK_STR(f.msg, "disk on fire");

    /* Cancelled while the block runs: the block is cancelled too. */
    call s = {.block = swallows};
    atomic_store(&started, 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, caller, &s), 0);
    while (!atomic_load(&started))
        CHECK_EQ(kin_delay(1), 0);
    CHECK_EQ(kin_cancel(j, cancellation()), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_release(j), 0);
    CHECK_EQ(s.rc, KIN_ECANCELED);
    CHECK_STR(s.msg, "caller cancelled");

    call q = {.block = succeeds}; /* not cancelled: the block's result */
    atomic_store(&go, 1);
    CHECK_EQ(caller(&q), 0);
    CHECK_EQ(q.rc, 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
