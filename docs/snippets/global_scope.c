/* GlobalScope.launch: a root coroutine that nobody waits for unless you
 * keep its handle. */
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
    printf("Got: %s\n", (char *)result);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_job job;
    KIN_TRY(
        kin_scope_launch(kin_global_scope(), &job, NULL, global_body, NULL));
    /* Not a child of body: without this join, body (and run_blocking)
     * would return before "Got: payload". */
    return kin_join(job);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
