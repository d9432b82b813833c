/* CompletableDeferred: completed by hand with a value or a failure,
 * awaited by any number of coroutines (each sees the same value or the same
 * error object), usable as a parent (it then completes after its
 * children), completing twice says 0 the second time. */
#include "check.h"

static kin_job g_d;

static int awaiter(void *arg, void **out) {
    int id = (int)(long)arg;
    EXPECT(id == 1 ? 2 : 3);
    void *v = NULL;
    int rc = kin_await(g_d, &v);
    EXPECT(id == 1 ? 5 : 6);
    CHECK_EQ(rc, 0);
    *out = v;
    return 0;
}

static int value_case(void *arg) {
    (void)arg;
    static int value = 42;
    EXPECT(1);
    CHECK_EQ(kin_deferred_new(&g_d, NULL), 0);
    kin_job a, b;
    CHECK_EQ(kin_async(&a, NULL, awaiter, (void *)1L), 0);
    CHECK_EQ(kin_async(&b, NULL, awaiter, (void *)2L), 0);
    CHECK_EQ(kin_yield(), 0); /* both suspend in kin_await */
    EXPECT(4);
    CHECK_EQ(kin_deferred_complete(g_d, &value), 1);
    static int other = 7;
    CHECK_EQ(kin_deferred_complete(g_d, &other), 0);
    CHECK_EQ(kin_job_complete_exceptionally(
                 g_d, kin_error_new(KIN_EFAILED, NULL, "too late")),
             0);
    void *va = NULL, *vb = NULL;
    CHECK_EQ(kin_await(a, &va), 0);
    CHECK_EQ(kin_await(b, &vb), 0);
    EXPECT(7);
    CHECK(va == &value && vb == &value);
    void *v = NULL;
    CHECK_EQ(kin_await(g_d, &v), 0); /* completed: at once */
    CHECK(v == &value);
    return 0;
}

static const kin_error *seen[2];

static int failure_awaiter(void *arg) {
    int rc = kin_await(g_d, NULL);
    CHECK_EQ(rc, KIN_EFAILED);
    seen[(long)arg] = kin_error_retain(kin_last_error());
    return 0;
}

/* A root deferred (no parent) fails without failing anyone else. */
static int failure_case(void *arg) {
    (void)arg;
    CHECK_EQ(kin_deferred_new(&g_d, &(kin_job_opts){.name = "answer"}), 0);
    kin_job a, b;
    CHECK_EQ(kin_launch(&a, NULL, failure_awaiter, (void *)0L), 0);
    CHECK_EQ(kin_launch(&b, NULL, failure_awaiter, (void *)1L), 0);
    CHECK_EQ(kin_yield(), 0);
    kin_error *e = kin_error_new(KIN_EFAILED, "IOException", "no answer");
    CHECK_EQ(kin_job_complete_exceptionally(g_d, e), 1);
    CHECK_EQ(kin_join(a), 0);
    CHECK_EQ(kin_join(b), 0);
    CHECK(seen[0] == seen[1]);
    CHECK_STR(kin_error_message(seen[0]), "no answer");
    CHECK(kin_job_cause(g_d) == seen[0]);
    kin_error_release((kin_error *)seen[0]);
    kin_error_release((kin_error *)seen[1]);
    CHECK(kin_is_active());
    return 0;
}

static int child(void *arg) {
    (void)arg;
    EXPECT(3);
    CHECK_EQ(kin_delay(5), 0);
    EXPECT(4);
    return 0;
}

/* As a parent: complete() makes it COMPLETING; awaiters resume only after
 * the children. */
static int parent_case(void *arg) {
    (void)arg;
    static int value = 1;
    check_step_ = 0;
    EXPECT(1);
    kin_job d;
    CHECK_EQ(kin_deferred_new(&d, &(kin_job_opts){.parent = kin_current_job()}),
             0);
    CHECK_EQ(kin_launch(NULL, &(kin_launch_opts){.parent = d}, child, NULL), 0);
    CHECK_EQ(kin_deferred_complete(d, &value), 1);
    CHECK_EQ(kin_job_state(d), KIN_STATE_COMPLETING);
    EXPECT(2);
    void *v = NULL;
    CHECK_EQ(kin_await(d, &v), 0);
    EXPECT(5);
    CHECK(v == &value);
    return 0;
}

static int freed;
static void free_value(void *v) {
    CHECK_EQ(*(int *)v, 99);
    freed++;
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(value_case, NULL), 0);
    CHECK_STEPS(7);
    CHECK_EQ(kin_coroutine_scope(failure_case, NULL), 0);
    CHECK_EQ(kin_coroutine_scope(parent_case, NULL), 0);
    CHECK_STEPS(5);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);

    /* Misuse: completing something that is not a deferred; result_free. */
    kin_job j;
    CHECK_EQ(kin_job_new(&j, NULL), 0);
    CHECK_EQ(kin_deferred_complete(j, NULL), KIN_EINVAL);
    CHECK(strstr(kin_error_message(kin_last_error()), "not a deferred"));
    CHECK_EQ(kin_job_complete(j), 1);
    CHECK_EQ(kin_job_release(j), 0);
    CHECK_EQ(kin_job_new(&j, &(kin_job_opts){.result_free = free_value}),
             KIN_EINVAL);
    static int v = 99;
    kin_job d;
    CHECK_EQ(kin_deferred_new(&d, &(kin_job_opts){.result_free = free_value}),
             0);
    CHECK_EQ(kin_deferred_complete(d, &v), 1);
    CHECK_EQ(freed, 0);
    CHECK_EQ(kin_job_release(d), 0); /* the last reference: value freed */
    CHECK_EQ(freed, 1);
    return 0;
}
