/* kin_shutdown: cancels every root, waits for them, stops the pools; then
 * dispatching to Default or IO fails with KIN_ECLOSED. Misuse: inside a
 * coroutine (KIN_EPERM), while a kin_run_blocking runs elsewhere
 * (KIN_EBUSY). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

static atomic_int cleaned;

static int forever(void *arg) {
    (void)arg;
    int rc = kin_delay(100000000);
    atomic_fetch_add(&cleaned, 1); /* cleanup runs: shutdown cancelled us */
    return rc;
}

static int try_shutdown(void *arg) {
    (void)arg;
    CHECK_EQ(kin_shutdown(), KIN_EPERM);
    return 0;
}

static atomic_int in_loop, release_loop;
static int hold_loop(void *arg) {
    (void)arg;
    atomic_store(&in_loop, 1);
    while (!atomic_load(&release_loop))
        KIN_TRY(kin_delay(1));
    return 0;
}

static void *other_thread(void *arg) {
    (void)arg;
    CHECK_EQ(kin_run_blocking(hold_loop, NULL), 0);
    return NULL;
}

static int noop(void *arg) {
    (void)arg;
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(try_shutdown, NULL), 0);

    /* Busy while another thread runs a loop. */
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, other_thread, NULL), 0);
    while (!atomic_load(&in_loop))
        usleep(1000);
    CHECK_EQ(kin_shutdown(), KIN_EBUSY);
    atomic_store(&release_loop, 1);
    pthread_join(t, NULL);

    /* Live roots on both pools: a scope object, global coroutines. */
    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(kin_scope_launch(s, NULL, NULL, forever, NULL), 0);
    kin_launch_opts on_io = {.dispatcher = kin_dispatcher_io()};
    for (int i = 0; i < 5; i++)
        CHECK_EQ(
            kin_scope_launch(kin_global_scope(), NULL, &on_io, forever, NULL),
            0);
    usleep(50 * 1000); /* let them start */
    CHECK_EQ(kin_shutdown(), 0);
    CHECK_EQ(atomic_load(&cleaned), 15);
    CHECK(!kin_scope_is_active(s));
    CHECK_EQ(kin_scope_close(s), 0);

    /* Closed afterwards. */
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    CHECK_EQ(kin_scope_launch(s, NULL, NULL, noop, NULL), KIN_ECLOSED);
    CHECK(strstr(last_message(), "shut down") != NULL);
    CHECK_EQ(kin_scope_launch(kin_global_scope(), NULL, &on_io, noop, NULL),
             KIN_ECLOSED);
    CHECK_EQ(kin_scope_close(s), 0);
    CHECK_EQ(kin_shutdown(), 0); /* twice is fine */
    /* Loops still work: Main is not a pool. */
    CHECK_EQ(kin_run_blocking(noop, NULL), 0);
    return 0;
}
