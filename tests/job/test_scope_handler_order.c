/*
 * test_scope_handler_order — a scope function returns only after its job's
 * completion handlers have run, as kotlinx.coroutines resumes the caller of
 * coroutineScope after notifying the job's handlers (found by test_model_mt:
 * kin used to wake the caller first, so on several threads it could run on
 * while the thread that completed the scope still ran the handlers).
 *
 * The scope's last child runs on IO, so the scope completes on an IO
 * thread; the handler takes 20 ms; the caller (on Main) checks right after
 * the scope returned. The same for kin_with_context.
 */
#include "check.h"
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static atomic_int handler_done;

static void on_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause, (void)arg;
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
    atomic_store(&handler_done, 1);
}

static int io_child(void *arg) {
    (void)arg;
    return kin_delay(5);
}

static int scope_body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_invoke_on_completion(kin_current_job(), on_done, NULL), 0);
    kin_launch_opts o = {.dispatcher = kin_dispatcher_io()};
    return kin_launch(NULL, &o, io_child, NULL);
}

static int on_io(void *arg) {
    (void)arg;
    CHECK_EQ(kin_invoke_on_completion(kin_current_job(), on_done, NULL), 0);
    return 0;
}

static int main_body(void *arg) {
    (void)arg;
    for (int i = 0; i < 10; i++) {
        atomic_store(&handler_done, 0);
        CHECK_EQ(kin_coroutine_scope(scope_body, NULL), 0);
        CHECK(atomic_load(&handler_done));

        atomic_store(&handler_done, 0);
        CHECK_EQ(kin_with_context(kin_dispatcher_io(), on_io, NULL), 0);
        CHECK(atomic_load(&handler_done));
    }
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(main_body, NULL), 0);
    puts("test_scope_handler_order: ok");
    return 0;
}
