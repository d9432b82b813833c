/* Pitfall: keeping a handle or a pointer past its lifetime (L2, L5). */
#include <stdio.h>

#include <kin.h>

static int quick(void *arg) {
    (void)arg;
    return kin_delay(10);
}

static int keeps_handle(void *arg) {
    kin_job *out = arg;
    return kin_launch(out, NULL, quick, NULL); /* the scope owns the handle */
}

static int count_up(void *arg) {
    int *count = arg;
    KIN_TRY(kin_delay(10));
    (*count)++;
    return 0;
}

/* Wrong (never called): the child keeps a pointer into this body's frame,
 * which ends when the body returns; the child is still running then. */
int launches_wrong(void *arg);
int launches_wrong(void *arg) {
    (void)arg;
    int count = 0;
    return kin_launch(NULL, NULL, count_up, &count);
}

/* Right: join the child (or launch inside kin_coroutine_scope) before the
 * frame ends. */
static int launches_right(void *arg) {
    (void)arg;
    int count = 0;
    kin_job child;
    KIN_TRY(kin_launch(&child, NULL, count_up, &count));
    KIN_TRY(kin_join(child));
    printf("count = %d\n", count);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_coroutine_scope(keeps_handle, &job));
    /* The scope has completed: the handle's record is gone (L2b). */
    printf("join after the scope: %s\n", kin_strerror(kin_join(job)));

    KIN_TRY(kin_launch(&job, NULL, quick, NULL));
    KIN_TRY(kin_join(job));
    KIN_TRY(kin_job_release(job)); /* given up (L2a) */
    printf("state after release: %s\n", kin_strerror(kin_job_state(job)));

    kin_job child;
    KIN_TRY(kin_launch(&child, NULL, launches_right, NULL));
    return kin_join(child);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
