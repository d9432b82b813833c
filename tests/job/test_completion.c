/* kin_invoke_on_completion: called once with the completion cause, after
 * the job completes, in registration order; at once if already complete. */
#include "check.h"

static int order[8], norder;
static const char *causes[8];

static void on_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job;
    order[norder] = (int)(long)arg;
    causes[norder] = cause ? kin_error_message(cause) : NULL;
    norder++;
    CHECK(kin_job_is_completed(job));
}

static int quick(void *arg) {
    (void)arg;
    return 0;
}

static int sleeper(void *arg) {
    (void)arg;
    return kin_delay(100000);
}

static int body(void *arg) {
    (void)arg;
    kin_job a, b;
    CHECK_EQ(kin_launch(&a, NULL, quick, NULL), 0);
    CHECK_EQ(kin_invoke_on_completion(a, on_done, (void *)1L), 0);
    CHECK_EQ(kin_invoke_on_completion(a, on_done, (void *)2L), 0);
    CHECK_EQ(norder, 0);
    CHECK_EQ(kin_join(a), 0);
    CHECK_EQ(norder, 2);
    CHECK_EQ(order[0], 1);
    CHECK_EQ(order[1], 2);
    CHECK(causes[0] == NULL);
    CHECK_EQ(kin_invoke_on_completion(a, on_done, (void *)3L), 0);
    CHECK_EQ(norder, 3); /* at once: already complete */

    CHECK_EQ(kin_launch(&b, NULL, sleeper, NULL), 0);
    CHECK_EQ(kin_invoke_on_completion(b, on_done, (void *)4L), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel(b, kin_error_new(KIN_ECANCELED, "CancellationException",
                                         "stop now")),
             0);
    CHECK_EQ(kin_join(b), 0);
    CHECK_EQ(norder, 4);
    CHECK_STR(causes[3], "stop now");
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
