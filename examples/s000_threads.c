/* Seed 000, "Threads & Dispatchers": a parent on Main, an async child on IO.
 *
 *   GlobalScope.launch(Dispatchers.Main) {
 *       println("Parent on: ${Thread.currentThread().name}")
 *       val deferred = async(Dispatchers.IO) {
 *           println("Child async on: ${Thread.currentThread().name}")
 *           fetchFromNetwork() // heavy work on IO pool
 *       }
 *       val result = deferred.await() // suspends Main thread coroutine, but doesn't block
 *       println("Got: $result on ${Thread.currentThread().name}")
 *   }
 *
 * Kotlin's Main is Android's UI thread; kin's is the thread that runs
 * kin_run_blocking. Each line names the dispatcher and the thread.
 */
#define _GNU_SOURCE /* pthread_getname_np / pthread_setname_np */
#include <pthread.h>
#include <stdio.h>

#include <kin.h>

static const char *thread_name(char buf[16]) {
    pthread_getname_np(pthread_self(), buf, 16);
    return buf;
}

static int fetch_from_network(void *arg, void **result) {
    (void)arg;
    char name[16];
    printf("Child async on: %s (%s)\n", thread_name(name),
           kin_dispatcher_name(kin_dispatcher_current()));
    KIN_TRY(kin_delay(100));
    *result = "payload";
    return 0;
}

static int parent(void *arg) {
    (void)arg;
    char name[16];
    printf("Parent on: %s (%s)\n", thread_name(name),
           kin_dispatcher_name(kin_dispatcher_current()));
    kin_job deferred;
    KIN_TRY(kin_async(&deferred,
                      &(kin_launch_opts){.dispatcher = kin_dispatcher_io()},
                      fetch_from_network, NULL));
    void *result;
    KIN_TRY(kin_await(deferred, &result));
    printf("Got: %s on %s (%s)\n", (const char *)result, thread_name(name),
           kin_dispatcher_name(kin_dispatcher_current()));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(kin_scope_launch(kin_global_scope(), &job,
                             &(kin_launch_opts){.dispatcher =
                                                    kin_dispatcher_main()},
                             parent, NULL));
    return kin_join(job);
}

int main(void) {
    pthread_setname_np(pthread_self(), "main");
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
