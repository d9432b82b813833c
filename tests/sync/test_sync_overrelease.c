/* A permit passed on by a cancelled waiter never makes more permits than
 * the semaphore has (or unlocks a mutex twice over), even after a release
 * beyond the acquires that the release's own check could not see: the
 * permit was in transit to the waiter (kotlinx's release() clamps the
 * count at its maximum, coerceAvailablePermitsAtMaximum). Found by the
 * model test (seed 16128): a one-permit semaphore then let two holders
 * in, and a Debug build stopped on an internal assertion. */
#include "check.h"

static kin_semaphore g_s;
static kin_mutex g_m;

static int sem_waiter(void *arg) {
    (void)arg;
    EXPECT(2);
    /* handed the permit, then cancelled before it runs: passes it on */
    CHECK_EQ(kin_semaphore_acquire(g_s), KIN_ECANCELED);
    EXPECT(4);
    return KIN_ECANCELED;
}

static int test_semaphore(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_new(&g_s, 1, NULL), 0);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    kin_job w;
    CHECK_EQ(kin_launch(&w, NULL, sem_waiter, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0); /* the waiter queues */
    EXPECT(3);
    CHECK_EQ(kin_semaphore_release(g_s), 0); /* to the waiter */
    /* one release too many, not seen: the count is 0 (the permit is in
     * transit), as in kotlinx, where it passes too */
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    CHECK_EQ(kin_cancel(w, NULL), 0);
    CHECK_EQ(kin_join(w), 0);
    FINISH(5);
    /* the waiter's permit had nowhere to go: still one */
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 1);
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 0); /* not a second holder */
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_release(g_s), KIN_EPERM);
    CHECK_EQ(kin_semaphore_destroy(g_s), 0);
    return 0;
}

static int mutex_waiter(void *arg) {
    (void)arg;
    EXPECT(2);
    CHECK_EQ(kin_mutex_lock(g_m, NULL), KIN_ECANCELED);
    EXPECT(4);
    return KIN_ECANCELED;
}

static int test_mutex(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_new(&g_m, NULL), 0);
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    kin_job w;
    CHECK_EQ(kin_launch(&w, NULL, mutex_waiter, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(3);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0); /* to the waiter */
    /* locked (by the waiter, in transit): an unlock with no owner token
     * passes, as kotlinx's unlock(null) */
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    CHECK_EQ(kin_cancel(w, NULL), 0);
    CHECK_EQ(kin_join(w), 0);
    FINISH(5);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    CHECK_EQ(kin_mutex_try_lock(g_m, NULL), 1);
    CHECK_EQ(kin_mutex_try_lock(g_m, NULL), 0); /* not locked twice over */
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), KIN_EPERM);
    CHECK_EQ(kin_mutex_destroy(g_m), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(test_semaphore, NULL), 0);
    check_step_ = 0;
    CHECK_EQ(kin_run_test(test_mutex, NULL), 0);
    printf("ok\n");
    return 0;
}
