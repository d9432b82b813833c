/* Main: the loop of the first thread that runs kin_run_blocking. Work
 * dispatched to it before that waits; work dispatched from Default or from a
 * thread that does not run kin runs on the main thread. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

static pthread_t main_thread;
static atomic_int early_ran, from_thread_ran;

static int on_main(void *arg) {
    atomic_int *flag = arg;
    CHECK(pthread_equal(pthread_self(), main_thread));
    CHECK(kin_dispatcher_current() == kin_dispatcher_main());
    CHECK_STR(kin_dispatcher_name(kin_dispatcher_current()), "Main");
    atomic_store(flag, 1);
    return 0;
}

static int hop_back(void *arg) {
    (void)arg;
    CHECK(!pthread_equal(pthread_self(), main_thread));
    atomic_int flag = 0;
    KIN_TRY(kin_with_context(kin_dispatcher_main(), on_main, &flag));
    CHECK_EQ(atomic_load(&flag), 1);
    /* And a launch onto Main from Default. */
    atomic_int flag2 = 0;
    kin_job j;
    KIN_TRY(kin_launch(&j,
                       &(kin_launch_opts){.dispatcher = kin_dispatcher_main()},
                       on_main, &flag2));
    KIN_TRY(kin_join(j));
    CHECK_EQ(atomic_load(&flag2), 1);
    return 0;
}

static void *plain_thread(void *arg) {
    kin_scope *s = arg;
    /* A thread that does not run kin launches onto Main. */
    CHECK_EQ(kin_scope_launch(*s, NULL, NULL, on_main, &from_thread_ran), 0);
    kin_job none = {0};
    CHECK_EQ(kin_join(none), KIN_ENOTCORO); /* plain threads cannot join */
    CHECK(strstr(last_message(), "outside a coroutine") != NULL);
    return NULL;
}

static int body(void *arg) {
    kin_scope *s = arg;
    CHECK_EQ(atomic_load(&early_ran), 1); /* ran when the loop started */
    KIN_TRY(kin_with_context(kin_dispatcher_default(), hop_back, NULL));
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, plain_thread, s), 0);
    while (!atomic_load(&from_thread_ran))
        KIN_TRY(kin_delay(1));
    pthread_join(t, NULL);
    return 0;
}

int main(void) {
    main_thread = pthread_self();
    /* Before any loop: Main has no thread yet, the coroutine waits. */
    kin_job early;
    CHECK_EQ(kin_scope_launch(
                 kin_global_scope(), &early,
                 &(kin_launch_opts){.dispatcher = kin_dispatcher_main()},
                 on_main, &early_ran),
             0);
    CHECK_EQ(atomic_load(&early_ran), 0);
    kin_scope s;
    CHECK_EQ(kin_scope_new(
                 &s, &(kin_scope_opts){.dispatcher = kin_dispatcher_main()}),
             0);
    CHECK_EQ(kin_run_blocking(body, &s), 0);
    CHECK(kin_job_is_completed(early));
    CHECK_EQ(kin_job_release(early), 0);
    CHECK_EQ(kin_scope_close(s), 0);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
