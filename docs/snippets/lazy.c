/* Lazy start: the body runs on start, join or await; cancelled before
 * that, it never runs. */
#include <stdio.h>

#include <kin.h>

static int compute(void *arg, void **result) {
    (void)arg;
    printf("computing\n");
    *result = "42";
    return 0;
}

static int never(void *arg) {
    (void)arg;
    printf("never printed\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    const kin_launch_opts lazy = {.start = KIN_START_LAZY};
    kin_job answer, unused;
    KIN_TRY(kin_async(&answer, &lazy, compute, NULL));
    KIN_TRY(kin_launch(&unused, &lazy, never, NULL));
    KIN_TRY(kin_delay(100));
    printf("nothing started yet\n");
    void *v;
    KIN_TRY(kin_await(answer, &v)); /* starts it */
    printf("answer: %s\n", (char *)v);
    KIN_TRY(kin_cancel(unused, NULL)); /* a lazy job left unstarted would
                                          keep run_blocking waiting */
    printf("unused cancelled: %s\n",
           kin_job_is_cancelled(unused) ? "true" : "false");
    return 0;
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
