/* DESIGN rule 11: on one thread a launched child is queued and first runs
 * when its parent suspends or yields, in FIFO order; a resumed waiter is
 * queued, not run inside the coroutine that woke it; scope functions run
 * their body in place. */
#include "check.h"

static int child(void *arg) {
    int step = (int)(long)arg;
    EXPECT(step);
    return 0;
}

static int yielder(void *arg) {
    (void)arg;
    EXPECT(4);
    CHECK_EQ(kin_yield(), 0);
    EXPECT(10);
    return 0;
}

static int other(void *arg) {
    (void)arg;
    EXPECT(5);
    return 0;
}

static int in_place(void *arg) {
    (void)arg;
    EXPECT(7); /* the scope body runs at once, in the caller */
    return 0;
}

static int waiter_body(void *arg) {
    kin_job *target = arg;
    EXPECT(11);
    CHECK_EQ(kin_join(*target), 0);
    EXPECT(15); /* queued when woken, not run inside the waker */
    return 0;
}

static int waker(void *arg) {
    (void)arg;
    EXPECT(12);
    return 0; /* completing wakes waiter_body */
}

static int waker_after(void *arg) {
    (void)arg;
    EXPECT(13);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    CHECK_EQ(kin_launch(NULL, NULL, child, (void *)2L), 0);
    CHECK_EQ(kin_launch(NULL, NULL, child, (void *)3L), 0);
    CHECK_EQ(kin_launch(NULL, NULL, yielder, NULL), 0);
    CHECK_EQ(kin_launch(NULL, NULL, other, NULL), 0);
    CHECK_EQ(kin_yield(), 0); /* 2..5 run; yielder requeues behind us */
    EXPECT(6);
    CHECK_EQ(kin_coroutine_scope(in_place, NULL), 0);
    EXPECT(8);
    kin_job w;
    CHECK_EQ(kin_launch(&w, &(kin_launch_opts){.start = KIN_START_LAZY}, waker,
                        NULL),
             0);
    CHECK_EQ(kin_launch(NULL, NULL, waiter_body, &w), 0);
    EXPECT(9);
    CHECK_EQ(kin_start(w), 0); /* queued behind waiter_body */
    CHECK_EQ(kin_launch(NULL, NULL, waker_after, NULL), 0);
    CHECK_EQ(kin_join(w), 0); /* yielder 10, waiter 11, waker 12, after 13 */
    EXPECT(14);
    CHECK_EQ(kin_yield(), 0);
    FINISH(16);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_STEPS(16);
    return 0;
}
