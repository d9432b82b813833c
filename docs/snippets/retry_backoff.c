/* The guide's "Retry with backoff" section: kin_retry around a flaky
 * call, and kin_flow_retry_backoff on a flow, on virtual time
 * (kin_run_test), so the delays printed are exact. */
#include <stdio.h>
#include <string.h>

#include <kin.h>

static int tries;

static int fetch(void *arg) { /* fails twice, then succeeds */
    (void)arg;
    tries++;
    printf("try %d at %lld ms\n", tries, (long long)kin_current_time());
    if (tries < 3)
        return kin_fail("IOException", "connection reset");
    return 0;
}

static int io_only(const kin_error *cause, uint64_t attempt, void *arg) {
    (void)attempt;
    (void)arg;
    return strcmp(kin_error_type(cause), "IOException") == 0;
}

static int readings(kin_flow_collector *out, void *arg) {
    (void)arg;
    tries++;
    printf("collect %d at %lld ms\n", tries, (long long)kin_current_time());
    int v = tries * 10;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    if (tries < 2)
        return kin_fail("IOException", "sensor offline");
    return 0;
}
static int print_int(const void *v, void *arg) {
    (void)arg;
    printf("got %d\n", *(const int *)v);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_retry_opts opts = {
        .attempts = 5, .base_ms = 100, .factor = 2.0, .max_ms = 1000,
        .retry_if = io_only, /* which failures are worth another try */
    };
    KIN_TRY(kin_retry(&opts, fetch, NULL));
    printf("fetched after %d tries\n", tries);

    tries = 0;
    kin_flow f;
    KIN_TRY(kin_flow_new(&f, sizeof(int), readings, NULL));
    KIN_TRY(kin_flow_retry_backoff(&f, &opts));
    KIN_TRY(kin_flow_collect(f, print_int, NULL));
    kin_flow_release(f);
    return 0;
}

int main(void) {
    return kin_run_test(body, NULL) == 0 ? 0 : 1;
}
