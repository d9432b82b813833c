/* Misuse of Main hosting (kin_main_*): called before attaching, twice,
 * from another thread, from inside a coroutine, while kin_run_blocking
 * owns Main, kin_run_blocking while attached; and kin_scope_close_nowait's
 * bad handles. Each row: the documented code and a message saying why. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

static int noop(void *arg) {
    (void)arg;
    return 0;
}

static void *while_blocking_owns_main(void *arg) {
    (void)arg;
    /* the main thread is inside kin_run_blocking: Main is its */
    MISUSE(kin_main_attach(), KIN_EBUSY, "Main belongs to another thread");
    MISUSE(kin_main_fd(), KIN_EPERM, "kin_main_attach first");
    MISUSE(kin_main_run_ready(), KIN_EPERM, "kin_main_attach first");
    return NULL;
}

static int in_blocking(void *arg) {
    (void)arg;
    MISUSE(kin_main_attach(), KIN_EPERM, "inside a coroutine");
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, while_blocking_owns_main, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    return 0;
}

static void *other_thread(void *arg) {
    (void)arg;
    MISUSE(kin_main_attach(), KIN_EBUSY, "another thread's event loop");
    MISUSE(kin_main_fd(), KIN_EPERM, "another thread's event loop");
    MISUSE(kin_main_timeout_ms(), KIN_EPERM, "another thread's event loop");
    MISUSE(kin_main_run_ready(), KIN_EPERM, "another thread's event loop");
    MISUSE(kin_main_detach(), KIN_EPERM, "another thread's event loop");
    /* a kin_run_blocking of its own is fine: its own loop, not Main */
    CHECK_EQ(kin_run_blocking(noop, NULL), 0);
    return NULL;
}

static atomic_int in_main_ran;

static int on_main(void *arg) {
    (void)arg;
    MISUSE(kin_main_attach(), KIN_EPERM, "inside a coroutine");
    MISUSE(kin_main_fd(), KIN_EPERM, "inside a coroutine");
    MISUSE(kin_main_timeout_ms(), KIN_EPERM, "inside a coroutine");
    MISUSE(kin_main_run_ready(), KIN_EPERM, "inside a coroutine");
    MISUSE(kin_main_detach(), KIN_EPERM, "inside a coroutine");
    MISUSE(kin_run_blocking(noop, NULL), KIN_EPERM, "inside a coroutine");
    atomic_store(&in_main_ran, 1);
    return 0;
}

int main(void) {
    /* nothing attached yet */
    MISUSE(kin_main_fd(), KIN_EPERM, "not hosted");
    MISUSE(kin_main_timeout_ms(), KIN_EPERM, "not hosted");
    MISUSE(kin_main_run_ready(), KIN_EPERM, "not hosted");
    MISUSE(kin_main_detach(), KIN_EPERM, "not hosted");

    /* kin_run_blocking owns Main while it runs (and binds it to this
     * thread for good) */
    CHECK_EQ(kin_run_blocking(in_blocking, NULL), 0);

    /* this thread owns Main: it may host it */
    CHECK_EQ(kin_main_attach(), 0);
    MISUSE(kin_main_attach(), KIN_EALREADY, "already hosts Main");
    MISUSE(kin_run_blocking(noop, NULL), KIN_EBUSY, "kin_main_detach first");
    MISUSE(kin_run_test(noop, NULL), KIN_EBUSY, "hosts Main");

    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, other_thread, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);

    /* from inside a coroutine run by kin_main_run_ready */
    CHECK_EQ(kin_scope_launch(kin_global_scope(), NULL,
                              &(kin_launch_opts){.dispatcher =
                                                     kin_dispatcher_main()},
                              on_main, NULL),
             0);
    CHECK_EQ(kin_main_run_ready(), 1);
    CHECK(atomic_load(&in_main_ran));

    /* kin_scope_close_nowait's bad handles */
    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    MISUSE(kin_scope_close_nowait(kin_global_scope()), KIN_EINVAL,
           "global scope");
    kin_job j;
    CHECK_EQ(kin_scope_launch(s, &j, &(kin_launch_opts){.start =
                                                           KIN_START_LAZY},
                              noop, NULL),
             0);
    MISUSE(kin_scope_close_nowait((kin_scope){j.id}), KIN_EINVAL,
           "not a scope");
    MISUSE(kin_scope_close_nowait((kin_scope){0}), KIN_EINVAL, "invalid");
    CHECK_EQ(kin_scope_close_nowait(s), 0);
    MISUSE(kin_scope_close_nowait(s), KIN_ESTALE, "closed");
    MISUSE(kin_scope_close(s), KIN_ESTALE, "closed");
    MISUSE(kin_scope_launch(s, NULL, NULL, noop, NULL), KIN_ESTALE, "closed");

    CHECK_EQ(kin_main_detach(), 0);
    MISUSE(kin_main_detach(), KIN_EPERM, "not hosted");
    CHECK_EQ(kin_run_blocking(noop, NULL), 0); /* allowed again */
    CHECK_EQ(check_cases_, 29); /* every row ran */
    return 0;
}
