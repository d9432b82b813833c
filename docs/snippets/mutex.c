/* Mutex: a thousand coroutines on Default increment one counter under a
 * kin_mutex; with_lock unlocks however the block ends. */
#include <stdio.h>

#include <kin.h>

static kin_mutex mutex;
static long counter; /* guarded by mutex */

static int increment(void *arg) {
    (void)arg;
    counter++;
    return 0;
}

static int worker(void *arg) {
    (void)arg;
    for (int k = 0; k < 1000; k++)
        KIN_TRY(kin_mutex_with_lock(mutex, NULL, increment, NULL));
    return 0;
}

static int launch_all(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++)
        KIN_TRY(kin_launch(NULL, NULL, worker, NULL));
    return 0;
}

static int on_default(void *arg) {
    (void)arg;
    return kin_coroutine_scope(launch_all, NULL);
}

static int fails(void *arg) {
    (void)arg;
    return kin_fail("IllegalStateException", "no");
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(kin_mutex_new(&mutex, NULL));
    KIN_TRY(kin_with_context(kin_dispatcher_default(), on_default, NULL));
    printf("Counter = %ld\n", counter);
    int rc = kin_mutex_with_lock(mutex, NULL, fails, NULL);
    printf("with_lock: %s, locked: %d\n",
           kin_error_message(kin_last_error()), kin_mutex_is_locked(mutex));
    (void)rc;
    return kin_mutex_destroy(mutex);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
