/* StateFlow and SharedFlow: a temperature that a display watches (the
 * current value first, then changes, conflated and distinct), and events
 * with a replay cache of 2 that a listener takes three of. */
#include <stdio.h>

#include <kin.h>

static int display(const void *value, void *arg) {
    (void)arg;
    printf("display: %d\n", *(const int *)value);
    return 0;
}

static int show_temperature(void *arg) {
    kin_state_flow *temperature = arg;
    kin_flow f;
    KIN_TRY(kin_state_flow_as_flow(*temperature, &f));
    int rc = kin_flow_collect(f, display, NULL); /* ends only when cancelled */
    kin_flow_release(f);
    return rc;
}

static int got(const void *value, void *arg) {
    (void)arg;
    printf("got %d\n", *(const int *)value);
    return 0;
}

static int listen3(void *arg) {
    kin_shared_flow *events = arg;
    kin_flow f;
    KIN_TRY(kin_shared_flow_as_flow(*events, &f));
    KIN_TRY(kin_flow_take(&f, 3));
    int rc = kin_flow_collect(f, got, NULL);
    kin_flow_release(f);
    printf("listener done\n");
    return rc;
}

static int state_flow(void) {
    kin_state_flow temperature;
    int v = 20;
    KIN_TRY(kin_state_flow_new(&temperature, sizeof v, &v, NULL, NULL));
    kin_job job;
    KIN_TRY(kin_launch(&job, NULL, show_temperature, &temperature));
    KIN_TRY(kin_yield()); /* display: 20 */
    v = 21;
    kin_state_flow_set(temperature, &v, sizeof v);
    v = 22; /* the display has not run yet: it will see 22 only */
    kin_state_flow_set(temperature, &v, sizeof v);
    printf("set 22 again: %d\n", kin_state_flow_set(temperature, &v, sizeof v));
    KIN_TRY(kin_yield()); /* display: 22 */
    int expect = 22, update = 23;
    printf("compare_and_set(22, 23): %d\n",
           kin_state_flow_compare_and_set(temperature, &expect, &update,
                                          sizeof v));
    kin_cancel_and_join(job);
    return kin_state_flow_destroy(temperature);
}

static int shared_flow(void) {
    kin_shared_flow events;
    KIN_TRY(kin_shared_flow_new(&events, sizeof(int),
                                &(kin_shared_flow_opts){.replay = 2}));
    for (int e = 1; e <= 3; e++) /* nobody listens: only the cache keeps */
        KIN_TRY(kin_shared_flow_emit(events, &e, sizeof e));
    kin_job job;
    KIN_TRY(kin_launch(&job, NULL, listen3, &events));
    KIN_TRY(kin_yield()); /* got 2, got 3: the replay cache */
    printf("subscribers: %d\n", kin_shared_flow_subscribers(events));
    int e = 4;
    KIN_TRY(kin_shared_flow_emit(events, &e, sizeof e));
    KIN_TRY(kin_join(job)); /* got 4, and take(3) ends the collect */
    printf("subscribers: %d\n", kin_shared_flow_subscribers(events));
    return kin_shared_flow_destroy(events);
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(state_flow());
    return shared_flow();
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
