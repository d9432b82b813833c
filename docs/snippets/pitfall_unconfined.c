/* Pitfall: thread-locals in an Unconfined coroutine, which can change
 * threads at a suspension point. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <kin.h>

/* glibc declares pthread_self() (and errno's address) const, so a compiler
 * may reuse a value computed before a suspension point. Calling through a
 * volatile pointer forces a fresh call. */
static pthread_t (*volatile self_thread)(void) = pthread_self;

static int value_on_default(void *arg, void **out) {
    (void)arg;
    KIN_TRY(kin_delay(20));
    *out = "12345";
    return 0;
}

/* Needs one thread throughout: run it on a confined dispatcher. */
static int thread_affine(void *arg) {
    (void)arg;
    pthread_t before = self_thread();
    KIN_TRY(kin_yield());
    printf("same thread in with_context block: %s\n",
           pthread_equal(before, self_thread()) ? "true" : "false");
    return 0;
}

static int unconfined_body(void *arg) {
    kin_job *d = arg;
    pthread_t before = self_thread();
    void *text;
    KIN_TRY(kin_await(*d, &text)); /* resumed by the Default worker */
    printf("same thread after await: %s\n",
           pthread_equal(before, self_thread()) ? "true" : "false");

    errno = 0;
    long n = strtol(text, NULL, 10);
    int err = errno; /* copy errno before the next suspension point */
    KIN_TRY(kin_delay(1));
    printf("parsed %ld, errno %d\n", n, err);

    return kin_with_context(kin_dispatcher_default(), thread_affine, NULL);
}

static int body(void *arg) {
    (void)arg;
    kin_job d, u;
    KIN_TRY(kin_async(
        &d, &(kin_launch_opts){.dispatcher = kin_dispatcher_default()},
        value_on_default, NULL));
    KIN_TRY(kin_launch(
        &u, &(kin_launch_opts){.dispatcher = kin_dispatcher_unconfined()},
        unconfined_body, &d));
    return kin_join(u);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
