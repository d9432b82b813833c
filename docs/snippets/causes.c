/* Causes: CancellationException(message, cause), and a job completed
 * exceptionally with a failure that has a cause. */
#include <stdio.h>

#include <kin.h>

static int sleeper(void *arg) {
    int rc = kin_delay(1000);
    if (rc == KIN_ECANCELED) {
        const kin_error *e = kin_last_error();
        printf("%s: %s\n", (const char *)arg, kin_error_message(e));
        for (const kin_error *c = kin_error_cause(e); c; c = kin_error_cause(c))
            printf("  caused by %s\n", kin_error_message(c));
    }
    return rc;
}

/* Kotlin's SomeException(message, cause): takes over the reference to
 * cause. */
static kin_error *with_cause(int code, const char *type, const char *message,
                             kin_error *cause) {
    kin_error *e = kin_error_new(code, type, "%s", message);
    kin_error_set_cause(e, cause); /* e retains cause */
    kin_error_release(cause);
    return e;
}

static int body(void *arg) {
    (void)arg;
    kin_job a, b, session;
    KIN_TRY(kin_launch(&a, NULL, sleeper, "a"));
    KIN_TRY(kin_delay(100));
    /* a.cancel(CancellationException("user left", IOException(...))) */
    kin_error *io = kin_error_new(KIN_EFAILED, "IOException", "socket closed");
    KIN_TRY(kin_cancel(a, with_cause(KIN_ECANCELED, "CancellationException",
                                     "user left", io)));
    KIN_TRY(kin_join(a));

    KIN_TRY(kin_job_new(&session, NULL)); /* Job(): a root */
    KIN_TRY(
        kin_launch(&b, &(kin_launch_opts){.parent = session}, sleeper, "b"));
    KIN_TRY(kin_delay(100));
    io = kin_error_new(KIN_EFAILED, "IOException", "socket closed");
    kin_error *lost =
        with_cause(KIN_EFAILED, "IllegalStateException", "lost connection", io);
    kin_job_complete_exceptionally(session, lost); /* fails session */
    return kin_join(b);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
