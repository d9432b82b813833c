/* An explicit parent for a launch (Kotlin's launch(job), launch(Job()) for
 * no parent): the family changes, the context (dispatcher, handler) is
 * still the caller's. Also kin_job_parent, kin_job_cancel_children,
 * kin_job_ensure_active and kin_scope_ensure_active. */
#include <pthread.h>

#include "check.h"

static pthread_t main_thread;

static int orphan(void *arg) {
    (void)arg;
    EXPECT(4);
    /* The caller's dispatcher (this run_blocking loop), not Default. */
    CHECK(pthread_equal(pthread_self(), main_thread));
    CHECK_STR(kin_dispatcher_name(kin_dispatcher_current()), "Main");
    CHECK_EQ(kin_delay(10), 0); /* the caller's cancellation does not reach */
    EXPECT(6);
    return 0;
}

static kin_job g_orphan;

static int launcher(void *arg) {
    (void)arg;
    EXPECT(2);
    CHECK_EQ(kin_launch(&g_orphan, &(kin_launch_opts){.no_parent = true},
                        orphan, NULL),
             0);
    kin_job p = {1};
    CHECK_EQ(kin_job_parent(g_orphan, &p), 0);
    CHECK_EQ(p.id, 0); /* a root */
    CHECK_EQ(kin_job_release(g_orphan), 0);
    EXPECT(3);
    return kin_delay(100000); /* cancelled below */
}

static int adopted(void *arg) {
    int *ran = arg;
    CHECK_EQ(kin_delay(5), 0);
    (*ran)++;
    return 0;
}

static int waits_for_adopted(void *arg) {
    (void)arg;
    return kin_delay(1);
}

static int sleeper(void *arg) {
    int *cancelled = arg;
    if (kin_delay(100000) == KIN_ECANCELED)
        (*cancelled)++;
    return 0;
}

static int body(void *arg) {
    (void)arg;
    EXPECT(1);
    kin_job l;
    CHECK_EQ(kin_launch(&l, NULL, launcher, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_cancel_and_join(l), 0);
    EXPECT(5);
    CHECK_EQ(kin_delay(20), 0); /* the orphan finishes on its own */
    EXPECT(7);

    /* launch(job): a coroutine's job adopts the new one; it completes only
     * after it (rule 1), though the launch came from here. */
    kin_job host;
    int ran = 0;
    CHECK_EQ(kin_launch(&host, NULL, waits_for_adopted, NULL), 0);
    CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.parent = host}, adopted, &ran),
             0);
    kin_job kids[2];
    CHECK_EQ(kin_job_children(host, kids, 2), 1);
    kin_job p;
    CHECK_EQ(kin_job_parent(kids[0], &p), 0);
    CHECK_EQ(p.id, host.id);
    CHECK_EQ(kin_join(host), 0);
    CHECK_EQ(ran, 1);

    /* cancelChildren: the children go, the job stays active. */
    kin_job group;
    CHECK_EQ(kin_job_new(&group, &(kin_job_opts){.parent = kin_current_job()}),
             0);
    int cancelled = 0;
    for (int i = 0; i < 3; i++)
        CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.parent = group}, sleeper,
                            &cancelled),
                 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(kin_job_cancel_children(group, NULL), 0);
    CHECK(kin_job_is_active(group));
    CHECK_EQ(kin_job_ensure_active(group), 0);
    CHECK_EQ(kin_yield(), 0);
    CHECK_EQ(cancelled, 3);
    CHECK_EQ(kin_job_children(group, NULL, 0), 0);

    /* ensureActive on a handle. */
    CHECK_EQ(kin_job_complete(group), 1);
    CHECK_EQ(kin_join(group), 0);
    CHECK_EQ(kin_job_ensure_active(group), KIN_ECANCELED);
    CHECK_STR(kin_error_message(kin_last_error()), "Job has completed normally");
    kin_job lazy;
    CHECK_EQ(kin_launch(&lazy, &(kin_launch_opts){.start = KIN_START_LAZY},
                        waits_for_adopted, NULL),
             0);
    CHECK_EQ(kin_job_ensure_active(lazy), KIN_EFAILED);
    CHECK_STR(kin_error_type(kin_last_error()), "IllegalStateException");
    CHECK_EQ(kin_cancel(lazy, kin_error_new(KIN_ECANCELED,
                                            "CancellationException", "nope")),
             0);
    CHECK_EQ(kin_job_ensure_active(lazy), KIN_ECANCELED);
    CHECK_STR(kin_error_message(kin_last_error()), "nope");

    /* Misuse. */
    CHECK_EQ(kin_launch(NULL,
                        &(kin_launch_opts){.parent = group, .no_parent = true},
                        sleeper, NULL),
             KIN_EINVAL);
    CHECK(strstr(kin_error_message(kin_last_error()), "both set"));
    kin_job garbage = {0x12345};
    CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.parent = garbage}, sleeper,
                        NULL),
             KIN_EINVAL);
    CHECK(strstr(kin_error_message(kin_last_error()), "invalid parent"));
    CHECK_EQ(kin_job_cancel_children(
                 group, kin_error_new(KIN_EFAILED, NULL, "not a cancel")),
             KIN_EINVAL);
    CHECK_EQ(kin_job_parent(group, NULL), KIN_EINVAL);
    return 0;
}

int main(void) {
    main_thread = pthread_self();
    CHECK_EQ(kin_run_test(body, NULL), 0);
    FINISH(8);

    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    CHECK_EQ(kin_scope_ensure_active(s), 0);
    CHECK_EQ(kin_scope_cancel(s, kin_error_new(KIN_ECANCELED,
                                               "CancellationException",
                                               "screen closed")),
             0);
    CHECK_EQ(kin_scope_ensure_active(s), KIN_ECANCELED);
    CHECK_STR(kin_error_message(kin_last_error()), "screen closed");
    CHECK_EQ(kin_scope_close(s), 0);
    CHECK_EQ(kin_scope_ensure_active(s), KIN_ESTALE);
    CHECK_EQ(kin_scope_ensure_active(kin_global_scope()), 0);
    return 0;
}
