/* Scope objects: plain C code launches into them; they can be cancelled and
 * closed; a scope that launches ten million short children one after
 * another holds bounded memory (completed children are reclaimed), and
 * handles the caller keeps stay safe to use. */
#include <sys/resource.h>

#include "check.h"

static long completed;

static int tiny(void *arg) {
    (void)arg;
    completed++;
    return 0;
}

static long max_rss_kb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int sleeper(void *arg) {
    int *cancelled = arg;
    int rc = kin_delay(100000);
    if (rc == KIN_ECANCELED)
        (*cancelled)++;
    return rc;
}

static int drive(void *arg) {
    kin_scope *s = arg;
    /* One after another: each batch completes before the next is launched. */
    const long total = test_scale(10 * 1000 * 1000), batch = 10000;
    kin_job first = {0}, last = {0};
    long rss_early = 0;
    for (long i = 0; i < total; i += batch) {
        for (long k = 0; k < batch; k++) {
            kin_job *keep = i == 0 && k == 0     ? &first
                            : i + k == total - 1 ? &last
                                                 : NULL;
            KIN_TRY(kin_scope_launch(*s, keep, NULL, tiny, NULL));
        }
        KIN_TRY(kin_yield()); /* the batch runs and completes */
        if (i == total / 10)
            rss_early = max_rss_kb();
    }
    KIN_TRY(kin_yield());
    CHECK_EQ(completed, total);
    /* Bounded: the peak after a tenth of the children equals the peak after
     * all of them (within 8 MB of noise): nothing grows with the count. */
    long rss_late = max_rss_kb();
    fprintf(stderr, "peak RSS after %ld: %ld KiB, after %ld: %ld KiB\n",
            total / 10, rss_early, total, rss_late);
    if (test_measures_memory())
        CHECK(rss_late - rss_early < 8 * 1024);
    /* Kept handles are still valid and report the completed jobs. */
    CHECK(kin_job_is_completed(first));
    CHECK(kin_job_is_completed(last));
    CHECK_EQ(kin_job_state(first), KIN_STATE_COMPLETED);
    CHECK_EQ(kin_job_release(first), 0);
    CHECK_EQ(kin_job_state(first), KIN_ESTALE); /* released: stale, safe */
    CHECK_EQ(kin_job_children(kin_scope_job(*s), NULL, 0), 0);
    return 0;
}

static int use_scope_from_coroutine(void *arg) {
    kin_scope *s = arg;
    int cancelled = 0;
    kin_job a, b;
    KIN_TRY(kin_scope_launch(*s, &a, NULL, sleeper, &cancelled));
    KIN_TRY(kin_scope_launch(*s, &b, NULL, sleeper, &cancelled));
    KIN_TRY(kin_yield());
    CHECK_EQ(kin_job_children(kin_scope_job(*s), NULL, 0), 2);
    CHECK(kin_scope_is_active(*s));
    CHECK_EQ(kin_scope_cancel(*s, NULL), 0);
    CHECK(!kin_scope_is_active(*s));
    KIN_TRY(kin_join(a));
    KIN_TRY(kin_join(b));
    CHECK_EQ(cancelled, 2);
    /* A cancelled (not closed) scope creates children cancelled. */
    kin_job c;
    KIN_TRY(kin_scope_launch(*s, &c, NULL, tiny, NULL));
    KIN_TRY(kin_join(c));
    CHECK(kin_job_is_cancelled(c));
    return 0;
}

int main(void) {
    /* These scopes run on Main (this thread's loop), so the checks can read
     * plain variables; test_dispatch_scope covers scopes on Default. */
    kin_scope_opts on_main = {.dispatcher = kin_dispatcher_main()};

    /* Launch from plain code: the coroutines wait for this thread's loop. */
    kin_scope s;
    CHECK_EQ(kin_scope_new(
                 &s, &(kin_scope_opts){.name = "server",
                                       .dispatcher = kin_dispatcher_main()}),
             0);
    kin_job j;
    CHECK_EQ(kin_scope_launch(s, &j, NULL, tiny, NULL), 0);
    CHECK_EQ(completed, 0);
    char name[64];
    CHECK(kin_job_name(kin_scope_job(s), name, sizeof name) > 0);
    CHECK(strncmp(name, "server#", 7) == 0);
    CHECK_EQ(kin_scope_close(s), 0);        /* runs the loop until done */
    CHECK_EQ(kin_job_state(j), KIN_ESTALE); /* owned by the closed scope */

    CHECK_EQ(kin_scope_new(&s, &on_main), 0);
    CHECK_EQ(kin_run_blocking(use_scope_from_coroutine, &s), 0);
    CHECK_EQ(kin_scope_close(s), 0);

    completed = 0;
    CHECK_EQ(kin_scope_new(&s, &on_main), 0);
    CHECK_EQ(kin_run_blocking(drive, &s), 0);
    CHECK_EQ(kin_scope_close(s), 0);
    return 0;
}
