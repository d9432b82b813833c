/* Reproduction (found by test_model_mt): on several threads, a scope
 * function returns, and the job around it may even complete, before the
 * scope job's own completion handlers (kin_invoke_on_completion) have run.
 *
 * kin's scope waiter is a node that fires while the scope job's final state
 * is published, before the completion handlers, so the caller is woken (and
 * may run on its own thread) while the thread that completed the scope
 * still runs the handlers. kotlinx.coroutines runs a job's completion
 * handlers first and resumes the scope's caller after them
 * (JobSupport.completeStateFinalization, then afterCompletion), so there
 * `coroutineScope { coroutineContext[Job]!!.invokeOnCompletion { ... } }`
 * has run its handler when coroutineScope returns. With kin_non_cancellable
 * (no parent) the enclosing coroutine can complete before the handler ran.
 *
 * Here the scope's last child runs on IO, so the scope completes on an IO
 * thread; the handler takes 20 ms; the caller (on Main) checks right after
 * the scope returned. Exit 1 if the handler had not run.
 *
 * Build: cc -I include tests/model/repro/scope_handler_order.c build/libkin.a
 *        -lpthread */
#include <kin.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static atomic_int handler_done;

static void on_scope_done(kin_job job, const kin_error *cause, void *arg) {
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
    kin_invoke_on_completion(kin_current_job(), on_scope_done, NULL);
    kin_launch_opts o = {.dispatcher = kin_dispatcher_io()};
    return kin_launch(NULL, &o, io_child, NULL);
}

static int main_body(void *arg) {
    int *early = arg;
    for (int i = 0; i < 20; i++) {
        atomic_store(&handler_done, 0);
        kin_coroutine_scope(scope_body, NULL);
        if (!atomic_load(&handler_done))
            (*early)++;
        while (!atomic_load(&handler_done))
            kin_delay(1);
    }
    return 0;
}

int main(void) {
    int early = 0;
    kin_run_blocking(main_body, &early);
    printf("kin_coroutine_scope returned before its job's completion handler "
           "had run: %d of 20 times\n",
           early);
    return early ? 1 : 0;
}
