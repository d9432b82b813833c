/* Thread safety of the API: cancel, start, the flags, completion handlers,
 * release and scope objects work from threads that do not run kin, while
 * the jobs run on Default; wake-ups across threads are never lost. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "check.h"

enum { N = 64 };
static kin_job jobs[N];
static atomic_int started[N], completed_calls[N], cancelled_seen;

static int victim(void *arg) {
    int i = (int)(intptr_t)arg;
    atomic_store(&started[i], 1);
    int rc = kin_delay(100000);
    if (rc == KIN_ECANCELED)
        atomic_fetch_add(&cancelled_seen, 1);
    return rc;
}

static void on_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job;
    int i = (int)(intptr_t)arg;
    CHECK(cause && kin_error_code(cause) == KIN_ECANCELED);
    atomic_fetch_add(&completed_calls[i], 1);
}

static void *canceller(void *arg) {
    int half = (int)(intptr_t)arg;
    for (int i = half; i < N; i += 2) {
        while (!atomic_load(&started[i]))
            usleep(100);
        CHECK(kin_job_is_active(jobs[i]));
        CHECK_EQ(
            kin_invoke_on_completion(jobs[i], on_done, (void *)(intptr_t)i), 0);
        CHECK_EQ(kin_cancel(jobs[i], NULL), 0);
    }
    return NULL;
}

int main(void) {
    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    for (int i = 0; i < N; i++)
        CHECK_EQ(
            kin_scope_launch(s, &jobs[i], NULL, victim, (void *)(intptr_t)i),
            0);
    pthread_t t[2];
    for (int k = 0; k < 2; k++)
        CHECK_EQ(pthread_create(&t[k], NULL, canceller, (void *)(intptr_t)k),
                 0);
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    /* Every victim is woken and completes: no lost wake-up. */
    for (int i = 0; i < N; i++) {
        for (int w = 0; w < 10000 && !kin_job_is_completed(jobs[i]); w++)
            usleep(1000);
        CHECK(kin_job_is_completed(jobs[i]));
        CHECK(kin_job_is_cancelled(jobs[i]));
    }
    CHECK_EQ(atomic_load(&cancelled_seen), N);
    for (int i = 0; i < N; i++) {
        for (int w = 0; w < 1000 && !atomic_load(&completed_calls[i]); w++)
            usleep(1000);
        CHECK_EQ(atomic_load(&completed_calls[i]), 1); /* exactly once */
        CHECK_EQ(kin_job_release(jobs[i]), 0);
    }
    CHECK(kin_scope_is_active(s)); /* cancelled children don't cancel it */
    CHECK_EQ(kin_scope_close(s), 0);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
