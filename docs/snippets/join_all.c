/* joinAll / awaitAll: wait for many jobs at once. */
#include <stdint.h>
#include <stdio.h>

#include <kin.h>

static int worker(void *arg) {
    int i = (int)(intptr_t)arg;
    KIN_TRY(kin_delay(30 * (3 - i)));
    printf("worker %d done\n", i);
    return 0;
}

static int square(void *arg, void **result) {
    intptr_t i = (intptr_t)arg;
    KIN_TRY(kin_delay(10 * i));
    *result = (void *)(i * i);
    return 0;
}

static int fails(void *arg, void **result) {
    (void)arg;
    (void)result;
    KIN_TRY(kin_delay(5));
    return kin_fail("IllegalStateException", "no square for you");
}

static int all(void *arg) {
    (void)arg;
    kin_job jobs[3];
    for (int i = 0; i < 3; i++)
        KIN_TRY(kin_launch(&jobs[i], NULL, worker, (void *)(intptr_t)i));
    KIN_TRY(kin_join_all(jobs, 3)); /* joinAll(a, b, c) */
    printf("all joined\n");

    kin_job deferreds[3];
    void *values[3];
    for (int i = 0; i < 3; i++)
        KIN_TRY(
            kin_async(&deferreds[i], NULL, square, (void *)(intptr_t)(i + 1)));
    KIN_TRY(kin_await_all(deferreds, 3, values)); /* awaitAll() */
    printf("squares: %d %d %d\n", (int)(intptr_t)values[0],
           (int)(intptr_t)values[1], (int)(intptr_t)values[2]);

    /* awaitAll returns the first failure at once. */
    KIN_TRY(kin_async(&deferreds[0], NULL, square, (void *)(intptr_t)50));
    KIN_TRY(kin_async(&deferreds[1], NULL, fails, NULL));
    if (kin_await_all(deferreds, 2, NULL) == KIN_EFAILED)
        printf("await_all: %s\n", kin_error_message(kin_last_error()));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    /* Under a supervisor the failed async does not cancel its sibling. */
    return kin_supervisor_scope(all, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
