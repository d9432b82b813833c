/* The guide's "Flows" section: a cold flow from an emitter, a chain of
 * operators collected twice, catch for an upstream failure, and first. */
#include <stdio.h>

#include <kin.h>

static int numbers(kin_flow_collector *out, void *arg) {
    (void)arg;
    printf("started\n");
    for (int i = 1; i <= 10; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i)); /* emit(i) */
    return 0;
}
static int square(const void *in, void *out, void *arg) {
    (void)arg;
    *(int *)out = *(const int *)in * *(const int *)in;
    return 0;
}
static int odd(const void *v, void *arg) {
    (void)arg;
    return *(const int *)v % 2 == 1;
}
static int done(kin_flow_collector *out, const kin_error *cause, void *arg) {
    (void)out;
    (void)arg;
    printf("done: %s\n", cause ? kin_error_type(cause) : "null");
    return 0;
}
static int print_int(const void *v, void *arg) {
    (void)arg;
    printf("%d\n", *(const int *)v);
    return 0;
}

static int flaky(kin_flow_collector *out, void *arg) {
    (void)arg;
    int v = 1;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    return kin_fail("IOException", "disk gone");
}
static int recover(kin_flow_collector *out, const kin_error *cause, void *arg) {
    (void)arg;
    printf("caught: %s\n", kin_error_message(cause));
    int v = -1;
    return kin_flow_emit(out, &v, sizeof v); /* emit(-1) */
}

static int body(void *arg) {
    (void)arg;
    kin_flow f;
    KIN_TRY(kin_flow_new(&f, sizeof(int), numbers, NULL));
    KIN_TRY(kin_flow_map(&f, sizeof(int), square, NULL));
    KIN_TRY(kin_flow_filter(&f, odd, NULL));
    KIN_TRY(kin_flow_take(&f, 3));
    KIN_TRY(kin_flow_on_completion(&f, done, NULL));
    printf("nothing ran yet\n");
    KIN_TRY(kin_flow_collect(f, print_int, NULL));
    int first;
    KIN_TRY(kin_flow_first(f, &first, sizeof first)); /* runs it again */
    printf("first: %d\n", first);
    kin_flow_release(f);

    kin_flow g;
    KIN_TRY(kin_flow_new(&g, sizeof(int), flaky, NULL));
    KIN_TRY(kin_flow_catch(&g, recover, NULL));
    KIN_TRY(kin_flow_collect(g, print_int, NULL));
    kin_flow_release(g);
    return 0;
}

int main(void) {
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
