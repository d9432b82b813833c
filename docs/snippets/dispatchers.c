/* Dispatchers: where a coroutine runs. with_context runs a block elsewhere
 * and returns its result. */
#define _DEFAULT_SOURCE /* usleep */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <kin.h>

static pthread_t main_thread;

static const char *where(void) {
    return pthread_equal(pthread_self(), main_thread) ? "main thread"
                                                      : "pool thread";
}

/* CPU work: belongs on Default. */
static int sum_numbers(void *arg) {
    long long *sum = arg;
    for (long long i = 1; i <= 1000000; i++)
        *sum += i;
    printf("sum on %s (%s)\n", kin_dispatcher_name(kin_dispatcher_current()),
           where());
    return 0;
}

/* A blocking call: belongs on IO. */
static int blocking_read(void *arg) {
    (void)arg;
    usleep(50 * 1000); /* stands for read(), a database call, ... */
    printf("read on %s (%s)\n", kin_dispatcher_name(kin_dispatcher_current()),
           where());
    return 0;
}

static int unconfined(void *arg) {
    (void)arg;
    printf("unconfined starts on %s\n", where());
    return 0;
}

static int body(void *arg) {
    (void)arg;
    printf("body on %s (%s)\n", kin_dispatcher_name(kin_dispatcher_current()),
           where());
    long long sum = 0;
    KIN_TRY(kin_with_context(kin_dispatcher_default(), sum_numbers, &sum));
    KIN_TRY(kin_with_context(kin_dispatcher_io(), blocking_read, NULL));
    printf("sum = %lld, back on %s\n", sum,
           kin_dispatcher_name(kin_dispatcher_current()));
    KIN_TRY(kin_launch(
        NULL, &(kin_launch_opts){.dispatcher = kin_dispatcher_unconfined()},
        unconfined, NULL));
    printf("after launch(Unconfined)\n");
    return 0;
}

int main(void) {
    main_thread = pthread_self();
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
