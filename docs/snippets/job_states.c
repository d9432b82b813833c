/* Job states: one job through New, Active, Cancelling, Cancelled; another
 * through Completing and Completed. */
#include <stdbool.h>
#include <stdio.h>

#include <kin.h>

static const char *tf(bool b) { return b ? "true" : "false"; }

static void show(const char *when, kin_job j) {
    static const char *const names[] = {"New",        "Active",    "Completing",
                                        "Cancelling", "Cancelled", "Completed"};
    int s = kin_job_state(j);
    printf("%-22s %-10s active=%-5s completed=%-5s cancelled=%s\n", when,
           s >= 0 ? names[s] : kin_strerror(s), tf(kin_job_is_active(j)),
           tf(kin_job_is_completed(j)), tf(kin_job_is_cancelled(j)));
}

static int cleanup(void *arg) {
    (void)arg;
    return kin_delay(50); /* cleanup that suspends */
}

static int sleep_then_clean_up(void *arg) {
    (void)arg;
    int rc = kin_delay(10000);
    KIN_TRY(kin_non_cancellable(cleanup, NULL));
    return rc;
}

static int child(void *arg) {
    (void)arg;
    return kin_delay(100);
}

static int parent(void *arg) {
    (void)arg;
    return kin_launch(NULL, NULL, child, NULL); /* body ends at once */
}

static int body(void *arg) {
    (void)arg;
    kin_job j;
    KIN_TRY(kin_launch(&j, &(kin_launch_opts){.start = KIN_START_LAZY},
                       sleep_then_clean_up, NULL));
    show("created lazy:", j);
    KIN_TRY(kin_start(j));
    show("after start:", j);
    KIN_TRY(kin_yield()); /* let it run to its delay */
    KIN_TRY(kin_cancel(j, NULL));
    show("after cancel:", j);
    KIN_TRY(kin_join(j));
    show("after join:", j);

    kin_job p;
    KIN_TRY(kin_launch(&p, NULL, parent, NULL));
    KIN_TRY(kin_yield()); /* its body returns, its child runs on */
    show("body done, child left:", p);
    KIN_TRY(kin_join(p));
    show("after join:", p);
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
