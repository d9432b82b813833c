/* Seed 003, "async exceptions": an async failure surfaces at await, where it is caught.
 *
 *   suspend fun s003_async_trycatch() = supervisorScope {
 *       val deferred = async { throw ArithmeticException("Division by zero") }
 *       try { deferred.await() } catch (e: ArithmeticException) { println("Caught from async: ${e.message}") }
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int divide(void *arg, void **result) {
    (void)arg;
    (void)result;
    return kin_fail("ArithmeticException", "Division by zero");
}

static int async_trycatch(void *arg) {
    (void)arg;
    kin_job deferred;
    KIN_TRY(kin_async(&deferred, NULL, divide, NULL));
    int rc = kin_await(deferred, NULL);
    if (rc == KIN_EFAILED)
        printf("Caught from async: %s\n", kin_error_message(kin_last_error()));
    else
        KIN_TRY(rc);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_supervisor_scope(async_trycatch, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
