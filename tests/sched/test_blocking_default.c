/* The documented pitfall: a blocking system call on Default takes a worker
 * away from every other coroutine that could run there; the same call
 * through kin_with_context(kin_dispatcher_io(), ...) leaves Default free.
 * Default has one worker here so the effect is certain; margins are wide
 * (a 5 ms ticker over 200 ms blocks). */
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

static atomic_int ticks;

static int ticker(void *arg) {
    (void)arg;
    for (;;) {
        KIN_TRY(kin_delay(5));
        atomic_fetch_add(&ticks, 1);
    }
}

static int block_200ms(void *arg) {
    (void)arg;
    usleep(200 * 1000);
    return 0;
}

static int on_default(void *arg) {
    int *stalled_ticks = arg;
    KIN_TRY(kin_delay(20)); /* the ticker is running */
    int before = atomic_load(&ticks);
    block_200ms(NULL); /* wrong: blocks the only Default worker */
    stalled_ticks[0] = atomic_load(&ticks) - before;
    before = atomic_load(&ticks);
    KIN_TRY(
        kin_with_context(kin_dispatcher_io(), block_200ms, NULL)); /* right */
    stalled_ticks[1] = atomic_load(&ticks) - before;
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_launch_opts d = {.dispatcher = kin_dispatcher_default()};
    kin_job t, w;
    int stalled[2] = {0, 0};
    KIN_TRY(kin_launch(&t, &d, ticker, NULL));
    KIN_TRY(kin_launch(&w, &d, on_default, stalled));
    KIN_TRY(kin_join(w));
    KIN_TRY(kin_cancel_and_join(t));
    fprintf(stderr, "ticks while blocking on Default: %d, through IO: %d\n",
            stalled[0], stalled[1]);
    CHECK(stalled[0] <= 1); /* the ticker could not run */
    CHECK(stalled[1] >= 5); /* it ran meanwhile (about 40 expected) */
    return 0;
}

int main(void) {
    CHECK_EQ(kin_dispatcher_set_threads(kin_dispatcher_default(), 1), 0);
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
