/* kin_join_all waits for all; kin_await_all returns the values, or fails as
 * soon as one fails (the first to fail in time), without waiting for the
 * rest. */
#include "check.h"

static int after(void *arg, void **out) {
    long ms = (long)arg;
    KIN_TRY(kin_delay(ms));
    *out = (void *)(ms * 10);
    return 0;
}

static int fail_after(void *arg, void **out) {
    (void)out;
    long ms = (long)arg;
    KIN_TRY(kin_delay(ms));
    return kin_fail("RuntimeException", "failed after %ld ms", ms);
}

static int slow_done;
static int slow_launch(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(30));
    slow_done++;
    return 0;
}

static int sup_body(void *arg) {
    (void)arg;
    kin_job d[3];
    KIN_TRY(kin_async(&d[0], NULL, after, (void *)30L));
    KIN_TRY(kin_async(&d[1], NULL, after, (void *)10L));
    KIN_TRY(kin_async(&d[2], NULL, after, (void *)20L));
    void *v[3] = {0};
    CHECK_EQ(kin_await_all(d, 3, v), 0);
    CHECK_EQ((long)v[0], 300);
    CHECK_EQ((long)v[1], 100);
    CHECK_EQ((long)v[2], 200);

    /* Fails as soon as the 10 ms one fails; the 1000 ms one still runs. */
    kin_job f[3];
    KIN_TRY(kin_async(&f[0], NULL, after, (void *)1000L));
    KIN_TRY(kin_async(&f[1], NULL, fail_after, (void *)20L));
    KIN_TRY(kin_async(&f[2], NULL, fail_after, (void *)10L));
    CHECK_EQ(kin_await_all(f, 3, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "failed after 10 ms");
    CHECK(kin_job_is_active(f[0]));
    KIN_TRY(kin_cancel(f[0], NULL));

    kin_job l[4];
    for (int i = 0; i < 4; i++)
        KIN_TRY(kin_launch(&l[i], NULL, slow_launch, NULL));
    CHECK_EQ(kin_join_all(l, 4), 0);
    CHECK_EQ(slow_done, 4);
    CHECK_EQ(kin_join_all(NULL, 0), 0);
    CHECK_EQ(kin_await_all(NULL, 0, NULL), 0);

    /* Many jobs (beyond the on-stack fast path). */
    kin_job many[100];
    void *vals[100];
    for (int i = 0; i < 100; i++)
        KIN_TRY(kin_async(&many[i], NULL, after, (void *)(long)(i % 5)));
    CHECK_EQ(kin_await_all(many, 100, vals), 0);
    for (int i = 0; i < 100; i++)
        CHECK_EQ((long)vals[i], (i % 5) * 10);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_supervisor_scope(sup_body, NULL);
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
