/* Error objects: code, type, message, payload with its destructor, cause,
 * suppressed list; current-error slots per coroutine and per thread. */
#include "check.h"

static int payload_freed;
static void free_payload(void *p) {
    CHECK_EQ(*(int *)p, 7);
    payload_freed++;
    free(p);
}

static int fails_with_payload(void *arg) {
    (void)arg;
    kin_error *e =
        kin_error_new(-5 /* -EIO */, "IOException", "read %s", "failed");
    CHECK(e);
    int *p = malloc(sizeof *p);
    *p = 7;
    CHECK_EQ(kin_error_set_payload(e, p, free_payload), 0);
    CHECK_EQ(kin_error_set_payload(e, p, free_payload), KIN_EINVAL);
    return kin_fail_error(e);
}

static int returns_errno(void *arg) {
    (void)arg;
    return -2; /* -ENOENT without kin_fail: kin makes the error object */
}

static int own_slot(void *arg) {
    (void)arg;
    CHECK(kin_last_error() == NULL); /* each coroutine has its own slot */
    kin_fail("X", "inside");
    CHECK_STR(last_message(), "inside");
    kin_clear_error();
    CHECK(kin_last_error() == NULL);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(fails_with_payload, NULL), -5);
    const kin_error *e = kin_last_error();
    CHECK_EQ(kin_error_code(e), -5);
    CHECK_STR(kin_error_type(e), "IOException");
    CHECK_STR(kin_error_message(e), "read failed");
    CHECK_EQ(*(int *)kin_error_payload(e), 7);
    CHECK(!kin_error_is_cancellation(e));
    kin_error *kept = kin_error_retain(e);

    CHECK_EQ(kin_coroutine_scope(returns_errno, NULL), -2);
    CHECK_EQ(kin_error_code(kin_last_error()), -2);
    CHECK_STR(kin_error_type(kin_last_error()), "Failure");
    CHECK(strlen(kin_error_message(kin_last_error())) > 0);
    CHECK_EQ(payload_freed, 0); /* we still hold a reference */
    kin_error_release(kept);
    CHECK_EQ(payload_freed, 1);

    kin_fail("Outer", "outer");
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, own_slot, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_STR(last_message(), "outer"); /* untouched by the child */
    return 0;
}

int main(void) {
    CHECK(kin_error_new(0, "X", "zero is not an error") == NULL);
    kin_error *e = kin_error_new(KIN_ECANCELED, NULL, "why %d", 42);
    CHECK_STR(kin_error_type(e), "Failure");
    CHECK_STR(kin_error_message(e), "why 42");
    CHECK(kin_error_is_cancellation(e));
    CHECK_EQ(kin_error_suppressed_count(e), 0);
    CHECK(kin_error_suppressed(e, 0) == NULL);
    CHECK(kin_error_cause(e) == NULL);
    kin_error_release(e);
    kin_error_release(NULL);
    CHECK(kin_error_retain(NULL) == NULL);
    CHECK_EQ(kin_error_code(NULL), 0);
    CHECK_STR(kin_error_message(NULL), "");

    /* Plain code has a current error too. */
    CHECK_EQ(kin_fail("Plain", "outside %s", "coroutines"), KIN_EFAILED);
    CHECK_STR(last_message(), "outside coroutines");
    CHECK_EQ(kin_fail_code(-22, NULL, "einval"), -22);
    CHECK_EQ(kin_error_code(kin_last_error()), -22);
    kin_clear_error();

    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
