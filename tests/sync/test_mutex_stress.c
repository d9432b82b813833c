/* kin_mutex and kin_semaphore under threads: coroutines on every Default
 * worker and on the IO pool contend for one mutex that guards a plain
 * (non-atomic) counter; the final count is exact, and ThreadSanitizer (CI
 * runs every test under it) sees the lock order every increment. Some hold
 * the lock across a suspension, so waiters really park and are handed the
 * lock across threads. A semaphore never lets more than its permits in.
 * Waiters cancelled at random moments never take the lock and never lose
 * it. Iterations shrink under sanitizers (CHECK_TOOL_DIVISOR). */
#include <stdatomic.h>

#include "check.h"

static kin_mutex g_m;
static kin_semaphore g_s;
static long g_counter;   /* guarded by g_m */
static long g_iters;     /* increments per coroutine */
static atomic_long g_inside, g_max_inside, g_entered;

static int increment(void *arg) {
    (void)arg;
    g_counter++;
    return 0;
}

static int increment_slowly(void *arg) {
    (void)arg;
    long v = g_counter;
    KIN_TRY(kin_yield()); /* suspended while holding the lock */
    g_counter = v + 1;
    return 0;
}

static int worker(void *arg) {
    long id = (long)(intptr_t)arg;
    char token; /* this coroutine's owner token: its address */
    for (long i = 0; i < g_iters; i++) {
        if ((i + id) % 64 == 0) {
            KIN_TRY(kin_mutex_with_lock(g_m, NULL, increment_slowly, NULL));
        } else if (i % 2) {
            KIN_TRY(kin_mutex_with_lock(g_m, NULL, increment, NULL));
        } else {
            KIN_TRY(kin_mutex_lock(g_m, &token));
            g_counter++;
            CHECK_EQ(kin_mutex_holds_lock(g_m, &token), 1);
            KIN_TRY(kin_mutex_unlock(g_m, &token));
        }
    }
    return 0;
}

static long g_coroutines;

static int launch_all(void *arg) {
    (void)arg;
    kin_launch_opts io = {.dispatcher = kin_dispatcher_io()};
    for (long c = 0; c < g_coroutines; c++)
        KIN_TRY(kin_launch(NULL, c % 8 == 0 ? &io : NULL, worker,
                           (void *)(intptr_t)c));
    return 0;
}

static int counter_on_default(void *arg) {
    (void)arg;
    return kin_coroutine_scope(launch_all, NULL);
}

/* ---- semaphore: at most `permits` inside ------------------------------------*/

enum { PERMITS = 3 };

static int inside_sem(void *arg) {
    (void)arg;
    long now = atomic_fetch_add(&g_inside, 1) + 1;
    long max = atomic_load(&g_max_inside);
    while (now > max && !atomic_compare_exchange_weak(&g_max_inside, &max, now))
        ;
    atomic_fetch_add(&g_entered, 1);
    int rc = kin_yield();
    atomic_fetch_sub(&g_inside, 1);
    return rc;
}

static int sem_worker(void *arg) {
    (void)arg;
    for (long i = 0; i < g_iters / 4 + 1; i++)
        KIN_TRY(kin_semaphore_with_permit(g_s, inside_sem, NULL));
    return 0;
}

static int sem_launch_all(void *arg) {
    (void)arg;
    kin_launch_opts io = {.dispatcher = kin_dispatcher_io()};
    for (long c = 0; c < g_coroutines; c++)
        KIN_TRY(kin_launch(NULL, c % 8 == 0 ? &io : NULL, sem_worker, NULL));
    return 0;
}

static int sem_on_default(void *arg) {
    (void)arg;
    return kin_coroutine_scope(sem_launch_all, NULL);
}

/* ---- cancellation at random moments -------------------------------------------*/

static atomic_long g_locked_ok, g_cancelled;

static int holder(void *arg) {
    (void)arg;
    for (;;) {
        int rc = kin_mutex_lock(g_m, NULL);
        if (rc < 0) {
            CHECK_EQ(rc, KIN_ECANCELED);
            atomic_fetch_add(&g_cancelled, 1);
            return rc;
        }
        g_counter++;
        atomic_fetch_add(&g_locked_ok, 1);
        rc = kin_yield(); /* may see the cancellation while holding it */
        CHECK_EQ(kin_mutex_unlock(g_m, NULL), 0);
        if (rc < 0) {
            atomic_fetch_add(&g_cancelled, 1);
            return rc;
        }
    }
}

static int cancel_round(void *arg) {
    (void)arg;
    enum { K = 16 };
    kin_job jobs[K];
    kin_launch_opts io = {.dispatcher = kin_dispatcher_io()};
    for (int k = 0; k < K; k++)
        KIN_TRY(kin_launch(&jobs[k], k % 4 == 0 ? &io : NULL, holder, NULL));
    unsigned seed = 12345;
    for (int k = 0; k < K; k++) {
        seed = seed * 1103515245u + 12345u;
        for (unsigned y = 0; y < (seed >> 16) % 8; y++)
            KIN_TRY(kin_yield());
        KIN_TRY(kin_cancel(jobs[k], NULL));
    }
    return kin_join_all(jobs, K);
}

static int cancel_on_default(void *arg) {
    long rounds = *(long *)arg;
    for (long r = 0; r < rounds; r++)
        KIN_TRY(kin_coroutine_scope(cancel_round, NULL));
    return 0;
}

static int run_on_default(void *arg) {
    kin_fn fn = *(kin_fn *)arg;
    return kin_with_context(kin_dispatcher_default(), fn, NULL);
}

static int run_cancel(void *arg) {
    return kin_with_context(kin_dispatcher_default(), cancel_on_default, arg);
}

int main(void) {
    kin_dispatcher_set_threads(kin_dispatcher_default(), 4);
    CHECK_EQ(kin_mutex_new(&g_m, NULL), 0);
    g_coroutines = test_scale(1000) < 50 ? 50 : test_scale(1000);
    g_iters = test_scale(1000) < 20 ? 20 : test_scale(1000);

    kin_fn fn = counter_on_default;
    CHECK_EQ(kin_run_blocking(run_on_default, &fn), 0);
    CHECK_EQ(g_counter, g_coroutines * g_iters);
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    printf("ok counter %ld\n", g_counter);

    CHECK_EQ(kin_semaphore_new(&g_s, PERMITS, NULL), 0);
    fn = sem_on_default;
    CHECK_EQ(kin_run_blocking(run_on_default, &fn), 0);
    CHECK_EQ(atomic_load(&g_entered), g_coroutines * (g_iters / 4 + 1));
    CHECK(atomic_load(&g_max_inside) <= PERMITS);
    CHECK(atomic_load(&g_max_inside) >= 1);
    CHECK_EQ(kin_semaphore_available_permits(g_s), PERMITS);
    CHECK_EQ(kin_semaphore_destroy(g_s), 0);
    printf("ok semaphore max inside %ld\n", atomic_load(&g_max_inside));

    g_counter = 0;
    long rounds = test_scale(200) < 10 ? 10 : test_scale(200);
    CHECK_EQ(kin_run_blocking(run_cancel, &rounds), 0);
    CHECK_EQ(g_counter, atomic_load(&g_locked_ok));
    CHECK(atomic_load(&g_cancelled) <= rounds * 16); /* some never start */
    CHECK_EQ(kin_mutex_is_locked(g_m), 0);
    CHECK_EQ(kin_mutex_destroy(g_m), 0);
    printf("ok cancellation %ld locks\n", atomic_load(&g_locked_ok));
    return 0;
}
