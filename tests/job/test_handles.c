/* Handle lifetimes (kin.h L1-L3): a handle kept from kin_launch stays valid
 * until released or until its owner (the job current at launch) completes;
 * then every call reports KIN_ESTALE; borrowed handles become stale once the
 * job is reclaimed; async results live as long as the handle, and
 * result_free runs exactly once. */
#include "check.h"

#include <stdatomic.h>
#include <unistd.h>

static atomic_int frees;
static void count_free(void *p) {
    CHECK_STR(p, "owned value");
    frees++;
}

static int produce(void *arg, void **out) {
    (void)arg;
    *out = "owned value";
    return 0;
}

static int quick(void *arg) {
    (void)arg;
    return 0;
}

static kin_job escaped;

static int launches_and_returns(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(&escaped, NULL, quick, NULL));
    return kin_join(escaped);
}

static int body(void *arg) {
    (void)arg;
    kin_job d;
    kin_launch_opts o = {.result_free = count_free};
    CHECK_EQ(kin_async(&d, &o, produce, NULL), 0); /* on this loop */
    void *v;
    CHECK_EQ(kin_await(d, &v), 0);
    CHECK_EQ(kin_await(d, &v), 0); /* as often as you like */
    CHECK_EQ(frees, 0);            /* the handle keeps the value */
    CHECK_EQ(kin_job_release(d), 0);
    CHECK_EQ(frees, 1); /* released with the record */
    CHECK_EQ(kin_await(d, &v), KIN_ESTALE);

    /* The owner is the innermost scope: the handle dies with it. */
    CHECK_EQ(kin_coroutine_scope(launches_and_returns, NULL), 0);
    CHECK_EQ(kin_job_state(escaped), KIN_ESTALE);
    CHECK_STR(last_message(),
              "kin_job_state: stale handle (the job completed and its record "
              "was reclaimed)");

    /* A borrowed handle of a running job works until it is reclaimed. */
    kin_job me = kin_current_job();
    CHECK_EQ(kin_job_state(me), KIN_STATE_ACTIVE);
    CHECK_EQ(kin_job_release(me), KIN_ESTALE); /* not an owned handle */
    return 0;
}

static int join_it(void *arg) {
    return kin_join(*(kin_job *)arg);
}

static int value_async(void *arg, void **out) {
    (void)arg;
    *out = "owned value";
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);

    /* Handles taken in a coroutine are released when it completes. */
    frees = 0;
    CHECK_EQ(kin_run_blocking(launches_and_returns, NULL), 0);
    CHECK_EQ(kin_job_state(escaped), KIN_ESTALE);

    /* Global scope from plain code: nobody owns it but you. */
    kin_job g;
    kin_launch_opts o = {.result_free = count_free};
    CHECK_EQ(kin_scope_async(kin_global_scope(), &g, &o, value_async, NULL), 0);
    CHECK_EQ(kin_run_blocking(join_it, &g), 0); /* g runs on Default */
    CHECK(kin_job_is_completed(g));
    CHECK_EQ(frees, 0);
    CHECK_EQ(kin_job_release(g), 0);
    /* The record goes when its last reference does: the pool thread drops
     * the coroutine's own reference just after the job completes. */
    for (int i = 0; i < 5000 && atomic_load(&frees) == 0; i++)
        usleep(1000);
    CHECK_EQ(frees, 1);
    return 0;
}
