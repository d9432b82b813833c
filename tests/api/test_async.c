/* DESIGN rule 6: async keeps its failure for await, which returns it to
 * every awaiter (the same error object); in a non-supervisor parent it also
 * cancels the parent. Values: every awaiter gets the same value. */
#include "check.h"

static int value(void *arg, void **out) {
    KIN_TRY(kin_delay(5));
    *out = arg;
    return 0;
}

static int failing(void *arg, void **out) {
    (void)arg, (void)out;
    KIN_TRY(kin_delay(5));
    return kin_fail("ArithmeticException", "Division by zero");
}

static const kin_error *seen[3];

static int awaiter(void *arg) {
    kin_job *d = arg;
    static int k;
    int rc = kin_await(*d, NULL);
    CHECK_EQ(rc, KIN_EFAILED);
    seen[k++] = kin_error_retain(kin_last_error());
    return 0;
}

static kin_job shared_b; /* awaited by children that outlive sup_body's frame */

static int sup_body(void *arg) {
    (void)arg;
    kin_job a;
    KIN_TRY(kin_async(&a, NULL, value, (void *)"forty-two"));
    KIN_TRY(kin_async(&shared_b, NULL, failing, NULL));
    void *v1 = NULL, *v2 = NULL;
    CHECK_EQ(kin_await(a, &v1), 0);
    CHECK_EQ(kin_await(a, &v2), 0);
    CHECK_STR(v1, "forty-two");
    CHECK(v1 == v2);
    KIN_TRY(kin_launch(NULL, NULL, awaiter, &shared_b));
    KIN_TRY(kin_launch(NULL, NULL, awaiter, &shared_b));
    KIN_TRY(kin_launch(NULL, NULL, awaiter, &shared_b));
    return 0;
}

static int scope_body(void *arg) {
    int *cancelled = arg;
    kin_job b;
    KIN_TRY(kin_async(&b, NULL, failing, NULL));
    int rc = kin_delay(100000); /* the failed async cancels this scope */
    if (rc == KIN_ECANCELED)
        *cancelled = 1;
    return rc;
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_supervisor_scope(sup_body, NULL), 0);
    CHECK(seen[0] && seen[0] == seen[1] && seen[1] == seen[2]);
    CHECK_STR(kin_error_message(seen[0]), "Division by zero");
    CHECK_STR(kin_error_type(seen[0]), "ArithmeticException");
    for (int i = 0; i < 3; i++)
        kin_error_release((kin_error *)seen[i]);

    int cancelled = 0;
    CHECK_EQ(kin_coroutine_scope(scope_body, &cancelled), KIN_EFAILED);
    CHECK_EQ(cancelled, 1);
    CHECK_STR(kin_error_message(kin_last_error()), "Division by zero");
    return 0;
}

static int handler_calls;
static void count_handler(kin_job j, const kin_error *e, void *arg) {
    (void)j, (void)e, (void)arg;
    handler_calls++;
}

int main(void) {
    kin_set_default_handler(count_handler, NULL);
    CHECK_EQ(kin_run_test(body, NULL), 0);
    CHECK_EQ(handler_calls, 0); /* async never calls a handler (rule 7) */
    return 0;
}
