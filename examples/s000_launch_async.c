/* Seed 000, "launch / async": a GlobalScope coroutine awaits an async fetch.
 *
 *   suspend fun fetchFromNetwork(): String { delay(100); return "payload" }
 *
 *   suspend fun s000_launch_async() = coroutineScope {
 *       val job = GlobalScope.launch {
 *           val deferred = async { fetchFromNetwork() }
 *           val result = deferred.await()
 *           println("Got: $result")
 *       }
 *       job.join()
 *   }
 */
#include <stdio.h>

#include <kin.h>

static int fetch_from_network(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(100));
    *result = "payload";
    return 0;
}

static int global_body(void *arg) {
    (void)arg;
    kin_job deferred;
    KIN_TRY(kin_async(&deferred, NULL, fetch_from_network, NULL));
    void *result;
    KIN_TRY(kin_await(deferred, &result));
    printf("Got: %s\n", (const char *)result);
    return 0;
}

static int launch_async(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(
        kin_scope_launch(kin_global_scope(), &job, NULL, global_body, NULL));
    return kin_join(job);
}

static int body(void *arg) {
    (void)arg;
    return kin_coroutine_scope(launch_async, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
