/* Timeouts: with_timeout cancels the block and reports a timeout;
 * with_timeout_or_null reports "no value" instead. */
#include <stdio.h>

#include <kin.h>

static int wont_print(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(1000));
    printf("This won't print\n");
    return 0;
}

/* Scope functions return only a code: the value goes out through arg. */
static int completed(void *arg) {
    const char **value = arg;
    KIN_TRY(kin_delay(1000));
    *value = "completed";
    return 0;
}

static int timeouts(void *arg) {
    (void)arg;
    int rc = kin_with_timeout(500, wont_print, NULL);
    if (rc == KIN_ETIMEDOUT)
        printf("Timed out: %s\n", kin_error_message(kin_last_error()));
    else
        KIN_TRY(rc);

    const char *result = NULL;
    rc = kin_with_timeout_or_null(500, completed, &result);
    KIN_TRY(rc); /* negative: a failure or a cancellation of ours */
    printf("Result: %s\n", rc == KIN_NULL ? "null" : result);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(timeouts, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
