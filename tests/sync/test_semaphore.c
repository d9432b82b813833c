/* kin_semaphore, pinned step by step on one thread (kin_run_test), after
 * kotlinx.coroutines' SemaphoreTest (common/test/sync/SemaphoreTest.kt)
 * and the rules of its Semaphore.kt: FIFO order, cancellation (also racing
 * the hand-off), release beyond the permits, try_acquire, with_permit. */
#include "check.h"

static kin_semaphore g_s;

/* ---- kotlinx testSimple ----------------------------------------------------*/

static int simple_child(void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    EXPECT(4);
    return 0;
}

static int test_simple(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_new(&g_s, 2, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, simple_child, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    EXPECT(2);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0); /* suspends; the child releases */
    FINISH(5);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    return 0;
}

/* ---- kotlinx testSimpleAsMutex ---------------------------------------------*/

static int as_mutex_child(void *arg) {
    (void)arg;
    EXPECT(4);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0); /* suspends */
    EXPECT(7);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    EXPECT(8);
    return 0;
}

static int test_simple_as_mutex(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_new(&g_s, 1, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, as_mutex_child, NULL), 0);
    EXPECT(2);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    EXPECT(3);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(5);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    EXPECT(6);
    CHECK_EQ(kin_yield(), 0);
    FINISH(9);
    return 0;
}

/* ---- kotlinx tryAcquireTest, withSemaphoreTest; release beyond permits --- */

static int check_zero(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_available_permits(g_s), 0);
    return 7;
}

static int test_try_acquire(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_new(&g_s, 2, NULL), 0);
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 1);
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 1);
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 0);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 1);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 0);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    /* one release too many: an error, and nothing changes */
    CHECK_EQ(kin_semaphore_release(g_s), KIN_EPERM);
    CHECK(strstr(last_message(), "cannot be greater than 2"));
    CHECK_EQ(kin_semaphore_available_permits(g_s), 2);
    return 0;
}

static int test_with_permit(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_new(&g_s, 1, NULL), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    CHECK_EQ(kin_semaphore_with_permit(g_s, check_zero, NULL), 7);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    return 0;
}

static int acquired_permits_case(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_new(&g_s, 3,
                               &(kin_semaphore_opts){.acquired_permits = 2}),
             0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    CHECK_EQ(kin_semaphore_destroy(g_s), KIN_EBUSY); /* 2 are out */
    CHECK(strstr(last_message(), "2 permits are not released"));
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_release(g_s), KIN_EPERM);
    return 0;
}

/* ---- kotlinx fairnessTest ----------------------------------------------------*/

static int fair_first(void *arg) {
    (void)arg;
    EXPECT(2);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0); /* suspends */
    EXPECT(6);
    return 0;
}

static int fair_second(void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0); /* suspends */
    EXPECT(9);
    return 0;
}

static int test_fairness(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_new(&g_s, 1, NULL), 0);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    CHECK_EQ(kin_launch(NULL, NULL, fair_first, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, fair_second, NULL), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(4);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    EXPECT(5);
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 0); /* handed over: no barging */
    CHECK_EQ(kin_yield(), 0);
    EXPECT(7);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    EXPECT(8);
    CHECK_EQ(kin_yield(), 0);
    FINISH(10);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    return 0;
}

/* ---- Cancellation (kotlinx testCancellationReturnsPermitBack,
 * testCancellationDoesNotResumeWaitingAcquirers) ------------------------------*/

static int try_then_acquire(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 0);
    return kin_semaphore_acquire(g_s);
}

static int test_cancel_returns_permit(void *arg) {
    (void)arg;
    CHECK_EQ(kin_semaphore_new(&g_s, 1, NULL), 0);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, try_then_acquire, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel_and_join(j), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 0);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    /* the same, releasing right after the cancel, before the waiter ran:
     * kotlinx marks it cancelled inside cancel(), so the permit is free */
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    CHECK_EQ(kin_launch(&j, NULL, try_then_acquire, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel(j, NULL), 0);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    CHECK_EQ(kin_semaphore_try_acquire(g_s), 1);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    return 0;
}

static int unreached_after_acquire(void *arg) {
    int step = *(int *)arg;
    EXPECT(step);
    int rc = kin_semaphore_acquire(g_s);
    CHECK_EQ(rc, KIN_ECANCELED);
    return rc;
}

static int test_cancel_does_not_resume_others(void *arg) {
    (void)arg;
    static int two = 2, three = 3;
    CHECK_EQ(kin_semaphore_new(&g_s, 1, NULL), 0);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    kin_job j1, j2;
    CHECK_EQ(kin_launch(&j1, NULL, unreached_after_acquire, &two), 0);
    CHECK_EQ(kin_launch(&j2, NULL, unreached_after_acquire, &three), 0);
    EXPECT(1);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(4);
    CHECK_EQ(kin_cancel(j2, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(5);
    CHECK_EQ(kin_cancel(j1, NULL), 0);
    CHECK_EQ(kin_join(j1), 0);
    CHECK_EQ(kin_join(j2), 0);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 0); /* still ours */
    FINISH(6);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    return 0;
}

/* A cancelled first waiter is skipped; and a permit handed to a waiter
 * that is cancelled before it resumes goes to the next one. */
static int order_waiter(void *arg) {
    int id = *(int *)arg;
    int rc = kin_semaphore_acquire(g_s);
    if (id == 1) {
        EXPECT(3);
        CHECK_EQ(rc, KIN_ECANCELED); /* handed a permit, then cancelled */
        return rc;
    }
    if (id == 2) {
        EXPECT(4);
        CHECK_EQ(rc, KIN_ECANCELED); /* cancelled while waiting */
        return rc;
    }
    EXPECT(5); /* id 3 gets the permit */
    CHECK_EQ(rc, 0);
    return kin_semaphore_release(g_s);
}

static int test_cancel_races_handoff(void *arg) {
    (void)arg;
    static int ids[3] = {1, 2, 3};
    CHECK_EQ(kin_semaphore_new(&g_s, 2, NULL), 0);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    kin_job j[3];
    for (int i = 0; i < 3; i++)
        CHECK_EQ(kin_launch(&j[i], NULL, order_waiter, &ids[i]), 0);
    CHECK_EQ(kin_yield(), 0); /* all three wait, in order */
    EXPECT(1);
    CHECK_EQ(kin_semaphore_release(g_s), 0); /* handed to 1 */
    CHECK_EQ(kin_semaphore_available_permits(g_s), 0);
    CHECK_EQ(kin_cancel(j[0], NULL), 0); /* 1: before it resumes */
    CHECK_EQ(kin_cancel(j[1], NULL), 0); /* 2: still waiting */
    EXPECT(2);
    CHECK_EQ(kin_join(j[2]), 0);
    EXPECT(6);
    CHECK_EQ(kin_semaphore_available_permits(g_s), 1);
    CHECK_EQ(kin_semaphore_release(g_s), 0);
    FINISH(7);
    return 0;
}

/* Two permits, five coroutines holding one across a delay: never more than
 * two inside, and they enter in launch order. */
static int g_inside, g_max_inside, g_order[5], g_n_order;

static int limited(void *arg) {
    int id = *(int *)arg;
    CHECK_EQ(kin_semaphore_acquire(g_s), 0);
    g_order[g_n_order++] = id;
    if (++g_inside > g_max_inside)
        g_max_inside = g_inside;
    CHECK_EQ(kin_delay(100), 0);
    g_inside--;
    return kin_semaphore_release(g_s);
}

static int test_limits_concurrency(void *arg) {
    (void)arg;
    static int ids[5] = {0, 1, 2, 3, 4};
    CHECK_EQ(kin_semaphore_new(&g_s, 2, NULL), 0);
    g_inside = g_max_inside = g_n_order = 0;
    for (int i = 0; i < 5; i++)
        CHECK_EQ(kin_launch(NULL, NULL, limited, &ids[i]), 0);
    CHECK_EQ(kin_delay(1000), 0);
    CHECK_EQ(g_max_inside, 2);
    CHECK_EQ(g_n_order, 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(g_order[i], i);
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
        {"simple_as_mutex", test_simple_as_mutex},
        {"try_acquire", test_try_acquire},
        {"with_permit", test_with_permit},
        {"acquired_permits", acquired_permits_case},
        {"fairness", test_fairness},
        {"cancel_returns_permit", test_cancel_returns_permit},
        {"cancel_does_not_resume_others", test_cancel_does_not_resume_others},
        {"cancel_races_handoff", test_cancel_races_handoff},
        {"limits_concurrency", test_limits_concurrency},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        check_step_ = 0;
        g_s.id = 0;
        int rc = kin_run_test(tests[i].fn, NULL);
        if (rc != 0) {
            fprintf(stderr, "%s: returned %d (%s)\n", tests[i].name, rc,
                    last_message());
            return 1;
        }
        /* every test gives all permits back with nobody waiting */
        CHECK_EQ(kin_semaphore_destroy(g_s), 0);
        printf("ok %s\n", tests[i].name);
    }
    return 0;
}
