/* Testing with virtual time: advanceTimeBy, runCurrent, advanceUntilIdle,
 * currentTime, and Default work on the test loop. */
#include <stdio.h>

#include <kin.h>

static int polls;

static int poller(void *arg) { /* the code under test */
    (void)arg;
    for (int i = 0; i < 3; i++) {
        KIN_TRY(kin_delay(1000));
        polls++;
    }
    return 0;
}

static int crunch(void *arg) { /* launched on Default */
    (void)arg;
    KIN_TRY(kin_delay(500));
    printf("crunched on %s at %lld ms\n",
           kin_dispatcher_name(kin_dispatcher_current()),
           (long long)kin_current_time());
    return 0;
}

static int test(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, poller, NULL));
    KIN_TRY(kin_launch(
        NULL, &(kin_launch_opts){.dispatcher = kin_dispatcher_default()},
        crunch, NULL));
    KIN_TRY(kin_test_advance_time_by(1000));
    printf("at %lld ms: %d polls\n", (long long)kin_current_time(), polls);
    KIN_TRY(kin_test_run_current());
    printf("at %lld ms: %d polls\n", (long long)kin_current_time(), polls);
    KIN_TRY(kin_test_advance_until_idle());
    printf("at %lld ms: %d polls\n", (long long)kin_current_time(), polls);
    return 0;
}

int main(void) {
    return kin_run_blocking_opts(&(kin_run_opts){.virtual_time = true,
                                                 .test_default = true},
                                 test, NULL) == 0 ? 0 : 1;
}
