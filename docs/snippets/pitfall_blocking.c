/* Pitfall: blocking on Default. A blocking call holds its worker thread,
 * and every coroutine that started on that worker waits with it. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <kin.h>

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static int blocking_read(void *arg) {
    (void)arg;
    nanosleep(&(struct timespec){.tv_nsec = 300 * 1000000L}, NULL);
    return 0;
}

/* Wrong: blocks the Default worker for 300 ms. */
static int load_wrong(void *arg) {
    return blocking_read(arg);
}

/* Right: the blocking call runs on IO; this coroutine suspends. */
static int load_right(void *arg) {
    return kin_with_context(kin_dispatcher_io(), blocking_read, arg);
}

/* Wants to wake up after 50 ms; records whether it was late. */
static int ticker(void *arg) {
    bool *late = arg;
    long long start = now_ms();
    KIN_TRY(kin_delay(50));
    *late = now_ms() - start >= 250;
    return 0;
}

struct run {
    kin_fn load;
    bool late;
};

static int both(void *arg) {
    struct run *r = arg;
    const kin_launch_opts on_default = {.dispatcher = kin_dispatcher_default()};
    KIN_TRY(kin_launch(NULL, &on_default, ticker, &r->late));
    KIN_TRY(kin_launch(NULL, &on_default, r->load, NULL));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    struct run wrong = {load_wrong, false}, right = {load_right, false};
    KIN_TRY(kin_coroutine_scope(both, &wrong));
    printf("blocking on Default: ticker late: %s\n",
           wrong.late ? "true" : "false");
    KIN_TRY(kin_coroutine_scope(both, &right));
    printf("blocking on IO:      ticker late: %s\n",
           right.late ? "true" : "false");
    return 0;
}

int main(void) {
    /* One Default worker makes the effect certain; with more, it hits
     * whichever coroutines started on the blocked worker. */
    kin_dispatcher_set_threads(kin_dispatcher_default(), 1);
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
