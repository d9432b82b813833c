/* Choosing the parent: launch(job) and launch(NonCancellable). */
#include <pthread.h>
#include <stdio.h>

#include <kin.h>

static pthread_t main_thread;

static void handler(kin_job job, const kin_error *e, void *arg) {
    (void)job;
    (void)arg;
    printf("handler: %s\n", kin_error_message(e));
}

static int host_body(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(10));
    printf("host body done\n");
    return 0;
}

static int adopted(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    printf("adopted child done\n");
    return 0;
}

static int orphan(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(200)); /* the launcher's cancellation does not reach */
    printf("orphan on the caller's thread: %s\n",
           pthread_equal(pthread_self(), main_thread) ? "true" : "false");
    return kin_fail("RuntimeException", "orphan failed");
}

static int launcher(void *arg) {
    (void)arg;
    KIN_TRY(
        kin_launch(NULL, &(kin_launch_opts){.no_parent = true}, orphan, NULL));
    return kin_delay(1000);
}

static int body(void *arg) {
    (void)arg;
    kin_job host, l;
    KIN_TRY(kin_launch(&host, NULL, host_body, NULL));
    KIN_TRY(kin_launch(NULL, &(kin_launch_opts){.parent = host}, adopted,
                       NULL)); /* launch(host) */
    KIN_TRY(kin_join(host));
    printf("host completed\n");

    KIN_TRY(
        kin_launch(&l, &(kin_launch_opts){.handler = handler}, launcher, NULL));
    KIN_TRY(kin_delay(100));
    KIN_TRY(kin_cancel_and_join(l));
    printf("launcher cancelled\n");
    return kin_delay(200);
}

int main(void) {
    main_thread = pthread_self();
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
