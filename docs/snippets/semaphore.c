/* Semaphore: at most two downloads at a time, in the order they asked. */
#include <stdio.h>

#include <kin.h>

static kin_semaphore slots;

static int download(void *arg) {
    int id = *(int *)arg;
    printf("download %d starts (%d slot%s left)\n", id,
           kin_semaphore_available_permits(slots),
           kin_semaphore_available_permits(slots) == 1 ? "" : "s");
    KIN_TRY(kin_delay(100));
    printf("download %d done\n", id);
    return 0;
}

static int fetch(void *arg) {
    return kin_semaphore_with_permit(slots, download, arg);
}

static int body(void *arg) {
    (void)arg;
    static int ids[4] = {1, 2, 3, 4};
    KIN_TRY(kin_semaphore_new(&slots, 2, NULL));
    kin_job jobs[4];
    for (int i = 0; i < 4; i++)
        KIN_TRY(kin_launch(&jobs[i], NULL, fetch, &ids[i]));
    KIN_TRY(kin_join_all(jobs, 4));
    printf("release beyond the permits: %s\n",
           kin_semaphore_release(slots) == KIN_EPERM
               ? kin_error_message(kin_last_error())
               : "?");
    return kin_semaphore_destroy(slots);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
