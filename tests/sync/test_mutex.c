/* kin_mutex, pinned step by step on one thread (kin_run_test), after
 * kotlinx.coroutines' MutexTest (common/test/sync/MutexTest.kt) and the
 * rules of its Mutex.kt: FIFO hand-off, cancellation of waiters (also
 * racing the hand-off), owner tokens, with_lock on failure and
 * cancellation. */
#include "check.h"

static kin_mutex g_m;
static int g_owner_a, g_owner_b, g_owner_c; /* owner tokens: their addresses */

static void reset(void) {
    check_step_ = 0;
}

/* ---- kotlinx testSimple: who runs first after unlock ---------------------- */

static int simple_child(void *arg) {
    (void)arg;
    EXPECT(4);
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0); /* suspends */
    EXPECT(7);                              /* now got lock */
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    EXPECT(8);
    return 0;
}

static int test_simple(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, simple_child, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0); /* free: no suspension */
    EXPECT(3);
    CHECK_EQ(kin_yield(), 0); /* the child runs and waits */
    EXPECT(5);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0); /* handed to the child... */
    EXPECT(6);                                /* ...which has not run yet */
    CHECK_EQ(kin_yield(), 0);
    FINISH(9);
    return 0;
}

/* ---- FIFO fairness and the hand-off ----------------------------------------*/

static int fifo_waiter(void *arg) {
    int *token = arg;
    CHECK_EQ(kin_mutex_lock(g_m, token), 0);
    if (token == &g_owner_a)
        EXPECT(5);
    else if (token == &g_owner_b)
        EXPECT(6);
    else
        EXPECT(7);
    CHECK_EQ(kin_mutex_holds_lock(g_m, token), 1);
    CHECK_EQ(kin_mutex_unlock(g_m, token), 0);
    return 0;
}

static int test_fifo(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    EXPECT(1);
    /* launched in the order a, b, c: they queue in that order */
    CHECK_EQ(kin_launch(NULL, NULL, fifo_waiter, &g_owner_a), 0);
    CHECK_EQ(kin_launch(NULL, NULL, fifo_waiter, &g_owner_b), 0);
    CHECK_EQ(kin_launch(NULL, NULL, fifo_waiter, &g_owner_c), 0);
    CHECK_EQ(kin_yield(), 0); /* all three wait */
    EXPECT(2);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    /* handed to a before it runs: locked, a is the holder, no barging */
    EXPECT(3);
    CHECK_EQ(kin_mutex_is_locked(g_m), 1);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 1);
    CHECK_EQ(kin_mutex_try_lock(g_m, NULL), 0);
    EXPECT(4);
    /* a queued lock of ours goes behind b and c */
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0); /* runs a, b, c first */
    EXPECT(8);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    FINISH(9);
    return 0;
}

/* ---- Cancellation of waiters ------------------------------------------------*/

static int cancel_waiter(void *arg) {
    int *token = arg;
    int rc = kin_mutex_lock(g_m, token);
    if (token == &g_owner_a) {
        EXPECT(4); /* cancelled while waiting */
        CHECK_EQ(rc, KIN_ECANCELED);
        CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 0);
        return rc;
    }
    EXPECT(6); /* b is next and gets it */
    CHECK_EQ(rc, 0);
    CHECK_EQ(kin_mutex_unlock(g_m, token), 0);
    return 0;
}

static int test_cancel_waiter(void *arg) {
    (void)arg;
    kin_job a, b;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    CHECK_EQ(kin_launch(&a, NULL, cancel_waiter, &g_owner_a), 0);
    CHECK_EQ(kin_launch(&b, NULL, cancel_waiter, &g_owner_b), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0); /* both wait, a first */
    EXPECT(2);
    CHECK_EQ(kin_cancel(a, NULL), 0);
    EXPECT(3);
    CHECK_EQ(kin_yield(), 0); /* a leaves the queue */
    EXPECT(5);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0); /* skips a: b gets it */
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_b), 1);
    CHECK_EQ(kin_join(b), 0);
    EXPECT(7);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    CHECK_EQ(kin_job_is_cancelled(a), true);
    FINISH(8);
    return 0;
}

/* The lock is handed to a, then a is cancelled before it resumes: a must
 * return KIN_ECANCELED (prompt cancellation) and pass the lock to b. */
static int test_cancel_races_handoff(void *arg) {
    (void)arg;
    kin_job a, b;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    CHECK_EQ(kin_launch(&a, NULL, cancel_waiter, &g_owner_a), 0);
    CHECK_EQ(kin_launch(&b, NULL, cancel_waiter, &g_owner_b), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(2);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0); /* handed to a */
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 1);
    CHECK_EQ(kin_cancel(a, NULL), 0); /* before a resumes */
    EXPECT(3);
    /* a runs (step 4), sees its cancellation, passes the lock on; b then
     * runs (step 6) */
    CHECK_EQ(kin_yield(), 0);
    EXPECT(5);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_b), 1);
    CHECK_EQ(kin_join(b), 0);
    EXPECT(7);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    FINISH(8);
    return 0;
}

/* The same race with nobody behind: the lock goes back to unlocked. */
static int lone_waiter(void *arg) {
    (void)arg;
    EXPECT(2);
    int rc = kin_mutex_lock(g_m, &g_owner_a);
    EXPECT(4);
    CHECK_EQ(rc, KIN_ECANCELED);
    CHECK(kin_error_is_cancellation(kin_last_error()));
    return rc;
}

static int test_cancel_races_handoff_alone(void *arg) {
    (void)arg;
    kin_job a;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    CHECK_EQ(kin_launch(&a, NULL, lone_waiter, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(3);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    CHECK_EQ(kin_cancel(a, NULL), 0);
    CHECK_EQ(kin_mutex_is_locked(g_m), 1); /* a's until it runs */
    CHECK_EQ(kin_join(a), 0);
    EXPECT(5);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    CHECK_EQ(kin_mutex_try_lock(g_m, NULL), 1);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    FINISH(6);
    return 0;
}

/* A cancelled caller: a free mutex is taken without a check (kotlinx: "does
 * not check for cancellation when it is not suspended"); a locked one
 * gives KIN_ECANCELED at once, without queueing. */
static int cancelled_caller(void *arg) {
    (void)arg;
    CHECK_EQ(kin_cancel(kin_current_job(), NULL), 0);
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    CHECK_EQ(kin_mutex_is_locked(g_m), 1);
    kin_mutex other;
    CHECK_EQ(kin_mutex_new(&other, &(kin_mutex_opts){.locked = true}), 0);
    CHECK_EQ(kin_mutex_lock(other, NULL), KIN_ECANCELED);
    CHECK_EQ(kin_mutex_destroy(other), KIN_EBUSY); /* still locked... */
    CHECK_EQ(kin_mutex_unlock(other, NULL), 0);
    CHECK_EQ(kin_mutex_destroy(other), 0); /* ...but nobody queued */
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    return KIN_ECANCELED;
}

static int test_cancelled_caller(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, cancelled_caller, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_is_cancelled(j), true);
    return 0;
}

/* A waiter inside a non-cancellable section keeps waiting when cancelled. */
static int nc_lock(void *arg) {
    (void)arg;
    EXPECT(2);
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    EXPECT(5);
    return kin_mutex_unlock(g_m, NULL);
}

static int nc_waiter(void *arg) {
    return kin_non_cancellable(nc_lock, arg);
}

static int test_non_cancellable(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    CHECK_EQ(kin_launch(&j, NULL, nc_waiter, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(3);
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(4);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    FINISH(6);
    return 0;
}

/* ---- Owner tokens (kotlinx testHoldsLock, testUnlockWithNullOwner,
 * testUnlockWithoutOwnerWithLockedQueue, testIllegalStateInvariant) -------- */

static int lock_b(void *arg) {
    (void)arg;
    return kin_mutex_lock(g_m, &g_owner_b);
}

static int test_holds_lock(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 0);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_b), 0);
    CHECK_EQ(kin_mutex_lock(g_m, &g_owner_a), 0);
    kin_job second;
    CHECK_EQ(kin_launch(&second, NULL, lock_b, NULL), 0);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 1);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_b), 0);
    CHECK_EQ(kin_mutex_unlock(g_m, &g_owner_a), 0);
    CHECK_EQ(kin_join(second), 0);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 0);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_b), 1);
    CHECK_EQ(kin_mutex_unlock(g_m, &g_owner_b), 0);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 0);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_b), 0);
    return 0;
}

static int test_unlock_null_owner(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_try_lock(g_m, &g_owner_a), 1);
    CHECK_EQ(kin_mutex_unlock(g_m, &g_owner_c), KIN_EPERM);
    CHECK(strstr(last_message(), "is locked by"));
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 1); /* unchanged */
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0); /* no token: whoever holds */
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 0);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), KIN_EPERM);
    CHECK(strstr(last_message(), "not locked"));
    /* locked with no token: a token does not match it */
    CHECK_EQ(kin_mutex_try_lock(g_m, NULL), 1);
    CHECK_EQ(kin_mutex_unlock(g_m, &g_owner_a), KIN_EPERM);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    return 0;
}

static int lock_b_steps(void *arg) {
    (void)arg;
    EXPECT(2);
    return kin_mutex_lock(g_m, &g_owner_b);
}

static int test_unlock_with_queue(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_try_lock(g_m, &g_owner_a), 1);
    EXPECT(1);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, lock_b_steps, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(3);
    CHECK_EQ(kin_mutex_unlock(g_m, &g_owner_b), KIN_EPERM); /* b waits */
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 0);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_b), 1);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_mutex_unlock(g_m, &g_owner_b), 0);
    FINISH(4);
    return 0;
}

static int test_already_locked_by_owner(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_try_lock(g_m, &g_owner_a), 1);
    CHECK_EQ(kin_mutex_try_lock(g_m, &g_owner_a), KIN_EDEADLK);
    CHECK(strstr(last_message(), "already locked by the specified owner"));
    CHECK_EQ(kin_mutex_lock(g_m, &g_owner_a), KIN_EDEADLK);
    CHECK_EQ(kin_mutex_try_lock(g_m, &g_owner_b), 0); /* another token */
    CHECK_EQ(kin_mutex_try_lock(g_m, NULL), 0);
    CHECK_EQ(kin_mutex_unlock(g_m, &g_owner_a), 0);
    return 0;
}


/* A release right after a cancel (the cancelled waiter has not run yet)
 * already passes it over, as kotlinx's cancellation handler marks the
 * waiter's cell CANCELLED inside cancel(). */
static int sync_cancel_waiter(void *arg) {
    int *token = arg;
    int rc = kin_mutex_lock(g_m, token);
    if (token == &g_owner_a) {
        EXPECT(4);
        CHECK_EQ(rc, KIN_ECANCELED);
        return rc;
    }
    EXPECT(5);
    CHECK_EQ(rc, 0);
    return kin_mutex_unlock(g_m, token);
}

static int test_cancel_then_unlock(void *arg) {
    (void)arg;
    kin_job a, b;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    CHECK_EQ(kin_launch(&a, NULL, sync_cancel_waiter, &g_owner_a), 0);
    CHECK_EQ(kin_launch(&b, NULL, sync_cancel_waiter, &g_owner_b), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(2);
    CHECK_EQ(kin_cancel(a, NULL), 0);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0); /* a has not run: skipped */
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_b), 1);
    EXPECT(3);
    CHECK_EQ(kin_join(b), 0);
    EXPECT(6);
    FINISH(7);
    return 0;
}

/* ... and with nobody else waiting, the mutex is free at once. */
static int test_cancel_then_unlock_alone(void *arg) {
    (void)arg;
    kin_job a;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    CHECK_EQ(kin_launch(&a, NULL, lock_b, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel(a, NULL), 0);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    CHECK_EQ(kin_mutex_try_lock(g_m, NULL), 1);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    CHECK_EQ(kin_join(a), 0);
    CHECK_EQ(kin_job_is_cancelled(a), true);
    return 0;
}

/* ---- with_lock -------------------------------------------------------------*/

static int inside(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_is_locked(g_m), 1);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 1);
    return 42;
}

static int failing(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_is_locked(g_m), 1);
    return kin_fail("IllegalStateException", "broken invariant");
}

static int sleeping(void *arg) {
    (void)arg;
    EXPECT(2);
    int rc = kin_delay(10000); /* cancelled */
    EXPECT(4);
    CHECK_EQ(rc, KIN_ECANCELED);
    return rc;
}

static int with_sleeping(void *arg) {
    (void)arg;
    return kin_mutex_with_lock(g_m, NULL, sleeping, NULL);
}

static int after_cancel(void *arg) {
    (void)arg;
    EXPECT(5); /* the next waiter got the lock */
    return 0;
}

static int with_after_cancel(void *arg) {
    (void)arg;
    return kin_mutex_with_lock(g_m, NULL, after_cancel, NULL);
}

static int self_unlock(void *arg) {
    (void)arg;
    return kin_mutex_unlock(g_m, NULL);
}

static int test_with_lock(void *arg) {
    (void)arg;
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    CHECK_EQ(kin_mutex_with_lock(g_m, &g_owner_a, inside, NULL), 42);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);

    /* failure: unlocked, the failure comes back with its error object */
    CHECK_EQ(kin_mutex_with_lock(g_m, NULL, failing, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "broken invariant");
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);

    /* cancellation inside the block: unlocked, the next waiter gets it */
    kin_job a, b;
    CHECK_EQ(kin_launch(&a, NULL, with_sleeping, NULL), 0);
    CHECK_EQ(kin_launch(&b, NULL, with_after_cancel, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0); /* a holds it and sleeps, b waits */
    EXPECT(3);
    CHECK_EQ(kin_mutex_is_locked(g_m), 1);
    CHECK_EQ(kin_cancel(a, NULL), 0);
    CHECK_EQ(kin_join(b), 0);
    EXPECT(6);
    CHECK_EQ(kin_job_is_cancelled(a), true);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);

    /* the block unlocked it itself: the finally's unlock error wins */
    CHECK_EQ(kin_mutex_with_lock(g_m, NULL, self_unlock, NULL), KIN_EPERM);
    CHECK(strstr(last_message(), "kin_mutex_with_lock: this mutex is not"));
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    FINISH(7);
    return 0;
}

/* Cancelled while waiting in with_lock: the block never runs. */
static int never(void *arg) {
    (void)arg;
    CHECK(!"the block of a cancelled with_lock ran");
    return 0;
}

static int with_never(void *arg) {
    (void)arg;
    int rc = kin_mutex_with_lock(g_m, NULL, never, NULL);
    EXPECT(3);
    CHECK_EQ(rc, KIN_ECANCELED);
    return rc;
}

static int test_with_lock_cancelled_waiting(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    CHECK_EQ(kin_launch(&j, NULL, with_never, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(2);
    CHECK_EQ(kin_cancel_and_join(j), 0);
    EXPECT(4);
    CHECK_EQ(kin_mutex_holds_lock(g_m, &g_owner_a), 0);
    CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
    FINISH(5);
    return 0;
}

/* ---- Mutex(locked = true); holding across a suspension ------------------- */

static int test_locked_initially(void *arg) {
    (void)arg;
    kin_mutex m;
    CHECK_EQ(kin_mutex_new(&m, &(kin_mutex_opts){.locked = true}), 0);
    CHECK_EQ(kin_mutex_is_locked(m), 1);
    CHECK_EQ(kin_mutex_try_lock(m, NULL), 0);
    CHECK_EQ(kin_mutex_unlock(m, &g_owner_a), KIN_EPERM); /* no token */
    CHECK_EQ(kin_mutex_unlock(m, NULL), 0);
    CHECK_EQ(kin_mutex_try_lock(m, NULL), 1);
    CHECK_EQ(kin_mutex_unlock(m, NULL), 0);
    CHECK_EQ(kin_mutex_destroy(m), 0);
    CHECK_EQ(kin_mutex_is_locked(m), KIN_ESTALE);
    return 0;
}

/* Holding the lock across a suspension (a delay) keeps others out. */
static int hold_across(void *arg) {
    int *log = arg;
    CHECK_EQ(kin_mutex_lock(g_m, NULL), 0);
    int v = *log;
    CHECK_EQ(kin_delay(10), 0);
    *log = v + 1; /* nobody else ran in between */
    return kin_mutex_unlock(g_m, NULL);
}

static int test_hold_across_suspension(void *arg) {
    (void)arg;
    int log = 0;
    for (int i = 0; i < 10; i++)
        CHECK_EQ(kin_launch(NULL, NULL, hold_across, &log), 0);
    CHECK_EQ(kin_delay(1000), 0);
    CHECK_EQ(log, 10);
    CHECK_EQ(kin_current_time(), 1000);
    return 0;
}

typedef struct test_case {
    const char *name;
    kin_fn fn;
} test_case;

int main(void) {
    static const test_case tests[] = {
        {"simple", test_simple},
        {"fifo", test_fifo},
        {"cancel_waiter", test_cancel_waiter},
        {"cancel_races_handoff", test_cancel_races_handoff},
        {"cancel_races_handoff_alone", test_cancel_races_handoff_alone},
        {"cancelled_caller", test_cancelled_caller},
        {"non_cancellable", test_non_cancellable},
        {"holds_lock", test_holds_lock},
        {"unlock_null_owner", test_unlock_null_owner},
        {"unlock_with_queue", test_unlock_with_queue},
        {"already_locked_by_owner", test_already_locked_by_owner},
        {"cancel_then_unlock", test_cancel_then_unlock},
        {"cancel_then_unlock_alone", test_cancel_then_unlock_alone},
        {"with_lock", test_with_lock},
        {"with_lock_cancelled_waiting", test_with_lock_cancelled_waiting},
        {"locked_initially", test_locked_initially},
        {"hold_across_suspension", test_hold_across_suspension},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        reset();
        CHECK_EQ(kin_mutex_new(&g_m, NULL), 0);
        int rc = kin_run_test(tests[i].fn, NULL);
        if (rc != 0) {
            fprintf(stderr, "%s: returned %d (%s)\n", tests[i].name, rc,
                    last_message());
            return 1;
        }
        /* every test leaves the mutex unlocked with nobody waiting */
        CHECK_EQ(kin_mutex_is_locked(g_m), 0);
        CHECK_EQ(kin_mutex_destroy(g_m), 0);
        printf("ok %s\n", tests[i].name);
    }
    return 0;
}
