/* CompletableDeferred: completed by hand, awaited by many. */
#include <stdint.h>
#include <stdio.h>

#include <kin.h>

static kin_job answer, failed; /* the two deferreds */

static int reader(void *arg) {
    void *v;
    KIN_TRY(kin_await(answer, &v));
    printf("reader %d got %d\n", (int)(intptr_t)arg, (int)(intptr_t)v);
    return 0;
}

static int failed_reader(void *arg) {
    if (kin_await(failed, NULL) == KIN_EFAILED) /* catch (e: IOException) */
        printf("reader %d: %s: %s\n", (int)(intptr_t)arg,
               kin_error_type(kin_last_error()),
               kin_error_message(kin_last_error()));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(kin_deferred_new(&answer, NULL)); /* CompletableDeferred<Int>() */
    kin_job readers[2];
    for (int i = 0; i < 2; i++)
        KIN_TRY(kin_launch(&readers[i], NULL, reader, (void *)(intptr_t)i));
    KIN_TRY(kin_delay(100));
    /* 1: this call completed it; 0: it was already complete */
    int rc = kin_deferred_complete(answer, (void *)(intptr_t)42);
    printf("complete(42): %s\n", rc == 1 ? "true" : "false");
    rc = kin_deferred_complete(answer, (void *)(intptr_t)7);
    printf("complete(7): %s\n", rc == 1 ? "true" : "false");
    KIN_TRY(kin_join_all(readers, 2));
    void *v;
    KIN_TRY(kin_await(answer, &v)); /* completed: returns at once */
    printf("await again: %d\n", (int)(intptr_t)v);

    KIN_TRY(kin_deferred_new(&failed, NULL));
    for (int i = 0; i < 2; i++)
        KIN_TRY(
            kin_launch(&readers[i], NULL, failed_reader, (void *)(intptr_t)i));
    KIN_TRY(kin_delay(100));
    kin_job_complete_exceptionally(
        failed, kin_error_new(KIN_EFAILED, "IOException", "no answer"));
    return kin_join_all(readers, 2);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
