/* The terminals (kotlinx's Reduce.kt, Count.kt, Collection.kt, launchIn):
 * first stops the upstream after one value; single fails on a second one
 * ("Flow has more than one element"); first, single and reduce of an empty
 * flow give KIN_ENOELEM with kotlinx's messages; fold, count, to_array;
 * launch_in collects in a new coroutine (of a scope, or a child). */
#include "check.h"

static int emit_n(kin_flow_collector *out, void *arg) {
    int n = *(int *)arg;
    for (int i = 1; i <= n; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}
static int first_then_unreached(kin_flow_collector *out, void *arg) {
    (void)arg;
    int v = 11;
    int rc = kin_flow_emit(out, &v, sizeof v);
    CHECK_EQ(rc, KIN_ECANCELED); /* first stopped us */
    return rc;
}
static int sum(void *acc, const void *v, void *arg) {
    (void)arg;
    *(int *)acc += *(const int *)v;
    return 0;
}
static int sum_long(void *acc, const void *v, void *arg) {
    (void)arg;
    *(long *)acc += *(const int *)v;
    return 0;
}
static int fail_fold(void *acc, const void *v, void *arg) {
    (void)acc;
    (void)arg;
    return *(const int *)v == 2 ? kin_fail("TestException", "fold") : 0;
}

static void test_first_single(void) {
    int n, v = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), first_then_unreached, NULL), 0);
    CHECK_EQ(kin_flow_first(f, &v, sizeof v), 0);
    CHECK_EQ(v, 11);
    CHECK(kin_last_error() == NULL);
    CHECK_EQ(kin_flow_release(f), 0);

    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_n, &n), 0);
    n = 0;
    CHECK_EQ(kin_flow_first(f, &v, sizeof v), KIN_ENOELEM);
    CHECK_STR(kin_error_type(kin_last_error()), "NoSuchElementException");
    CHECK_STR(last_message(), "Expected at least one element");
    CHECK_EQ(kin_flow_single(f, &v, sizeof v), KIN_ENOELEM);
    CHECK_STR(last_message(), "Flow is empty");
    CHECK_EQ(kin_flow_reduce(f, &v, sizeof v, sum, NULL), KIN_ENOELEM);
    CHECK_STR(last_message(), "Empty flow can't be reduced");
    n = 1;
    v = 0;
    CHECK_EQ(kin_flow_single(f, &v, sizeof v), 0);
    CHECK_EQ(v, 1);
    n = 3;
    CHECK_EQ(kin_flow_single(f, &v, sizeof v), KIN_EFLOW);
    CHECK_STR(kin_error_type(kin_last_error()), "IllegalArgumentException");
    CHECK_STR(last_message(), "Flow has more than one element");
    CHECK_EQ(kin_flow_first(f, &v, sizeof v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(kin_flow_reduce(f, &v, sizeof v, sum, NULL), 0);
    CHECK_EQ(v, 6);
    long acc = 100;
    CHECK_EQ(kin_flow_fold(f, &acc, sizeof acc, sum_long, NULL), 0);
    CHECK_EQ(acc, 106);
    CHECK_EQ(kin_flow_fold(f, &acc, sizeof acc, fail_fold, NULL),
             KIN_EFAILED);
    CHECK_STR(last_message(), "fold");
    uint64_t c = 0;
    CHECK_EQ(kin_flow_count(f, &c), 0);
    CHECK_EQ(c, 3);
    int *xs = NULL;
    size_t len = 99;
    CHECK_EQ(kin_flow_to_array(f, (void **)&xs, &len), 0);
    CHECK_EQ(len, 3);
    CHECK(xs[0] == 1 && xs[1] == 2 && xs[2] == 3);
    free(xs);
    n = 1000; /* grows */
    CHECK_EQ(kin_flow_to_array(f, (void **)&xs, &len), 0);
    CHECK_EQ(len, 1000);
    CHECK_EQ(xs[999], 1000);
    free(xs);
    n = 0;
    CHECK_EQ(kin_flow_to_array(f, (void **)&xs, &len), 0);
    CHECK(xs == NULL && len == 0);
    CHECK_EQ(kin_flow_count(f, &c), 0);
    CHECK_EQ(c, 0);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* to_array keeps nothing when the flow fails. */
static int emit_then_fail(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 0; i < 100; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return kin_fail("TestException", "late");
}

static void test_to_array_failure(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_then_fail, NULL), 0);
    void *xs = (void *)1;
    size_t len = 5;
    CHECK_EQ(kin_flow_to_array(f, &xs, &len), KIN_EFAILED);
    CHECK(xs == NULL && len == 0);
    uint64_t c = 77;
    CHECK_EQ(kin_flow_count(f, &c), KIN_EFAILED);
    CHECK_EQ(c, 77); /* untouched */
    CHECK_EQ(kin_flow_release(f), 0);
}

/* launch_in: the flow (with on_each) runs in a new coroutine; the handle
 * keeps the flow alive after the caller's release. */
static int record(const void *v, void *arg) {
    int *acc = arg;
    acc[++acc[0]] = *(const int *)v;
    return 0;
}

static void test_launch_in(void) {
    int n = 3, acc[8] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_n, &n), 0);
    CHECK_EQ(kin_flow_on_each(&f, record, acc), 0);
    kin_job j;
    CHECK_EQ(kin_flow_launch_in(f, (kin_scope){0}, &j), 0);
    CHECK_EQ(kin_flow_release(f), 0); /* the coroutine holds its own */
    CHECK_EQ(acc[0], 0);              /* not run yet: queued */
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(acc[0], 3);
    CHECK_EQ(kin_job_release(j), 0);
}

static void test_launch_in_scope(void) {
    int n = 2, acc[8] = {0};
    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emit_n, &n), 0);
    CHECK_EQ(kin_flow_on_each(&f, record, acc), 0);
    kin_job j1;
    CHECK_EQ(kin_flow_launch_in(f, s, &j1), 0);
    /* a cancelled scope: the coroutine is born cancelled, never runs, and
     * the flow's reference still goes */
    int acc2[8] = {0};
    kin_flow g;
    CHECK_EQ(kin_flow_new(&g, sizeof(int), emit_n, &n), 0);
    CHECK_EQ(kin_flow_on_each(&g, record, acc2), 0);
    CHECK_EQ(kin_flow_release(f), 0);
    CHECK_EQ(kin_join(j1), 0);
    CHECK_EQ(acc[0], 2);
    CHECK_EQ(kin_job_release(j1), 0);
    CHECK_EQ(kin_scope_close(s), 0);
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    CHECK_EQ(kin_scope_cancel(s, NULL), 0);
    kin_job j;
    CHECK_EQ(kin_flow_launch_in(g, s, &j), 0);
    CHECK_EQ(kin_flow_release(g), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(kin_job_is_cancelled(j));
    CHECK_EQ(kin_job_release(j), 0);
    CHECK_EQ(kin_scope_close(s), 0);
    CHECK_EQ(acc2[0], 0);
}

static int body(void *arg) {
    (void)arg;
    test_first_single();
    test_to_array_failure();
    test_launch_in();
    test_launch_in_scope();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
