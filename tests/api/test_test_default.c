/* kin_run_opts.test_default / test_io: a test dispatcher for Default and IO
 * (kotlinx-coroutines-test's StandardTestDispatcher, injected for
 * Dispatchers.Default). Under the option, Default coroutines run on the test
 * loop's thread, in the loop's order and under its virtual clock, so a test
 * with Default coroutines gives the same interleaving every time; without
 * it they run on Default's threads in real time. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

static pthread_t test_thread;

#define DEFAULT_OPTS (&(kin_launch_opts){.dispatcher = kin_dispatcher_default()})

/* ---- three Default workers interleave by (virtual time, arming order) ---- */

static char log_[32];
static int nlog;

static int worker(void *arg) {
    char id = (char)(intptr_t)arg;
    int step = (id - 'A' + 1) * 10;
    CHECK(pthread_equal(pthread_self(), test_thread));
    CHECK(kin_dispatcher_current() == kin_dispatcher_default());
    CHECK_STR(kin_dispatcher_name(kin_dispatcher_current()), "Default");
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(kin_delay(step), 0);
        log_[nlog++] = id;
    }
    CHECK_EQ(kin_current_time(), 3 * step);
    return 0;
}

static int interleave(void *arg) {
    (void)arg;
    for (char c = 'A'; c <= 'C'; c++)
        CHECK_EQ(kin_launch(NULL, DEFAULT_OPTS, worker, (void *)(intptr_t)c),
                 0);
    CHECK_EQ(kin_test_advance_until_idle(), 0);
    /* t=10 A; 20 B (armed at 0) before A (armed at 10); 30 C, A; 40 B;
     * 60 C (armed at 30) before B (armed at 40); 90 C */
    CHECK_STR(log_, "ABACABCBC");
    CHECK_EQ(kin_current_time(), 90);
    return 0;
}

/* ---- kin_with_context(Default) is still a dispatch ------------------------- */

static int sibling(void *arg) {
    (void)arg;
    EXPECT(2);
    return 0;
}

static int on_default_block(void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK(pthread_equal(pthread_self(), test_thread));
    CHECK(kin_dispatcher_current() == kin_dispatcher_default());
    /* a Default coroutine of the test loop may step the clock too */
    CHECK_EQ(kin_test_advance_time_by(250), 0);
    return 0;
}

static int ctx(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, sibling, NULL), 0);
    CHECK_EQ(kin_with_context(kin_dispatcher_default(), on_default_block,
                              NULL),
             0);
    EXPECT(4);
    CHECK(kin_dispatcher_current() != kin_dispatcher_default());
    CHECK_EQ(kin_current_time(), 250);
    return 0;
}

/* ---- a scope object on Default: redirected only during the test ---------- */

static kin_scope scope;
static pthread_t ran_on;
static atomic_int ran;

static int where(void *arg) {
    (void)arg;
    ran_on = pthread_self();
    atomic_store(&ran, 1);
    return 0;
}

static int scope_during(void *arg) {
    (void)arg;
    kin_job j;
    CHECK_EQ(kin_scope_launch(scope, &j, NULL, where, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(pthread_equal(ran_on, test_thread));
    return 0;
}

/* ---- IO too, with test_io ---------------------------------------------------- */

static int io_block(void *arg) {
    (void)arg;
    CHECK(pthread_equal(pthread_self(), test_thread));
    CHECK(kin_dispatcher_current() == kin_dispatcher_io());
    CHECK_STR(kin_dispatcher_name(kin_dispatcher_current()), "IO");
    return kin_delay(40);
}

static int io_test(void *arg) {
    (void)arg;
    CHECK_EQ(kin_with_context(kin_dispatcher_io(), io_block, NULL), 0);
    CHECK_EQ(kin_current_time(), 40);
    return 0;
}

/* ---- one test loop at a time -------------------------------------------------- */

static int nothing(void *arg) {
    (void)arg;
    return 0;
}

static void *other_test(void *arg) {
    (void)arg;
    MISUSE(kin_run_blocking_opts(&(kin_run_opts){.virtual_time = true,
                                                 .test_default = true},
                                 nothing, NULL),
           KIN_EBUSY, "stands in for Default");
    /* without the option, another thread's test is fine */
    CHECK_EQ(kin_run_test(nothing, NULL), 0);
    return NULL;
}

static int exclusive(void *arg) {
    (void)arg;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, other_test, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0); /* blocks this loop: fine here */
    return 0;
}

/* ---- without the option: Default is real ------------------------------------ */

static int real_default(void *arg) {
    (void)arg;
    CHECK(!pthread_equal(pthread_self(), test_thread));
    return 0;
}

static int without(void *arg) {
    (void)arg;
    CHECK_EQ(kin_with_context(kin_dispatcher_default(), real_default, NULL),
             0);
    return 0;
}

int main(void) {
    test_thread = pthread_self();
    const kin_run_opts opts = {.virtual_time = true, .test_default = true};
    /* the same interleaving every time, whatever the machine's load */
    for (int round = 0; round < 20; round++) {
        nlog = 0;
        memset(log_, 0, sizeof log_);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_EQ(kin_run_blocking_opts(&opts, interleave, NULL), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK(t1.tv_sec - t0.tv_sec < 5); /* 90 virtual ms: no real wait */
    }
    CHECK_EQ(kin_run_blocking_opts(&opts, ctx, NULL), 0);
    CHECK_STEPS(4);

    CHECK_EQ(kin_scope_new(&scope, NULL), 0); /* Default, made before */
    CHECK_EQ(kin_run_blocking_opts(&opts, scope_during, NULL), 0);
    kin_job j;
    atomic_store(&ran, 0);
    CHECK_EQ(kin_scope_launch(scope, &j, NULL, where, NULL), 0);
    while (!atomic_load(&ran)) /* no kin_join in plain code */
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    CHECK_EQ(kin_scope_close(scope), 0);
    CHECK(!pthread_equal(ran_on, test_thread)); /* a real Default thread */

    CHECK_EQ(kin_run_blocking_opts(&(kin_run_opts){.virtual_time = true,
                                                   .test_default = true,
                                                   .test_io = true},
                                   io_test, NULL),
             0);
    CHECK_EQ(kin_run_blocking_opts(&opts, exclusive, NULL), 0);
    CHECK_EQ(kin_run_test(without, NULL), 0);
    return 0;
}
