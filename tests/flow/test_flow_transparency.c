/* The flow invariants (kotlinx's FlowInvariantsTest, SafeCollector):
 *  - exception transparency: an emit after a failed emit returns
 *    KIN_EFLOW with kotlinx's message, and the collect ends with KIN_EFLOW
 *    whatever the emitter returns; an emitter that swallows the failure
 *    and returns 0 still gets the downstream failure as the result;
 *  - context preservation: an emit from another coroutine (or thread)
 *    returns KIN_EFLOW ("emission from another coroutine is detected");
 *  - cancellation transparency: a cancelled collector stops a
 *    non-suspending emitter at its next emit. */
#include "check.h"

static int fail_on_1(const void *v, void *arg) {
    (void)arg;
    return *(const int *)v == 1 ? kin_fail("TestException", "collector")
                                : 0;
}

/* Emits again after the failure, then "recovers". */
static int emits_after_failure(kin_flow_collector *out, void *arg) {
    int *second_rc = arg;
    int v = 1;
    CHECK_EQ(kin_flow_emit(out, &v, sizeof v), KIN_EFAILED);
    v = 2;
    *second_rc = kin_flow_emit(out, &v, sizeof v);
    return 0;
}

static void test_violation(void) {
    int second = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emits_after_failure, &second), 0);
    CHECK_EQ(kin_flow_collect(f, fail_on_1, NULL), KIN_EFLOW);
    CHECK_EQ(second, KIN_EFLOW);
    CHECK_STR(kin_error_type(kin_last_error()), "IllegalStateException");
    CHECK(strstr(last_message(), "Flow exception transparency is violated"));
    CHECK(strstr(last_message(), "TestException: collector"));
    CHECK(strstr(last_message(), "kin_flow_catch"));
    /* the original failure is its cause */
    CHECK_STR(kin_error_message(kin_error_cause(kin_last_error())),
              "collector");
    CHECK_EQ(kin_flow_release(f), 0);
}

/* The same through a transform (its fn emits into the downstream
 * collector). */
static int transform_twice(kin_flow_collector *out, const void *v, void *arg) {
    (void)arg;
    kin_flow_emit(out, v, sizeof(int)); /* fails; ignored */
    kin_flow_emit(out, v, sizeof(int)); /* the violation */
    return 0;
}
static void test_violation_in_transform(void) {
    int xs[] = {1, 2};
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 2, sizeof(int)), 0);
    CHECK_EQ(kin_flow_transform(&f, sizeof(int), transform_twice, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, fail_on_1, NULL), KIN_EFLOW);
    CHECK(strstr(last_message(), "exception transparency"));
    CHECK_EQ(kin_flow_release(f), 0);
}

/* Swallowing without emitting again: the downstream failure is the
 * result anyway (no failure is lost). */
static int swallows(kin_flow_collector *out, void *arg) {
    (void)arg;
    int v = 1;
    CHECK(kin_flow_emit(out, &v, sizeof v) < 0);
    kin_clear_error();
    return 0;
}

static void test_swallowed(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), swallows, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, fail_on_1, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "collector");
    CHECK_EQ(kin_flow_release(f), 0);
}

/* Emission from a child coroutine of the emitter. */
typedef struct {
    kin_flow_collector *out;
    int rc;
    char msg[512];
} child_emit;

static int child_body(void *arg) {
    child_emit *c = arg;
    int v = 5;
    c->rc = kin_flow_emit(c->out, &v, sizeof v);
    snprintf(c->msg, sizeof c->msg, "%s", last_message());
    kin_clear_error();
    return 0;
}

static int emits_from_child(kin_flow_collector *out, void *arg) {
    child_emit *c = arg;
    c->out = out;
    kin_job j;
    KIN_TRY(kin_launch(&j, NULL, child_body, c));
    KIN_TRY(kin_join(j));
    kin_job_release(j);
    int v = 6; /* the emitter's own emit still works */
    return kin_flow_emit(out, &v, sizeof v);
}
static int log_int(const void *v, void *arg) {
    int *acc = arg;
    acc[++acc[0]] = *(const int *)v;
    return 0;
}

static void test_other_coroutine(void) {
    child_emit c = {0};
    int acc[4] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emits_from_child, &c), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), 0);
    CHECK_EQ(c.rc, KIN_EFLOW);
    CHECK(strstr(c.msg, "Flow invariant is violated: emission from another "
                        "coroutine is detected"));
    CHECK(strstr(c.msg, "kin_channel_flow"));
    CHECK_EQ(acc[0], 1);
    CHECK_EQ(acc[1], 6);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* From kin_with_context on another dispatcher (its block is another
 * coroutine): Kotlin's "use flowOn instead". In place on the same
 * dispatcher (a scope function runs in the collecting coroutine) it is
 * allowed, as kotlinx allows coroutineScope { emit(x) }. */
static kin_flow_collector *g_out;
static int emit_in_block(void *arg) {
    int v = *(int *)arg;
    return kin_flow_emit(g_out, &v, sizeof v);
}
static int emits_with_context(kin_flow_collector *out, void *arg) {
    (void)arg;
    g_out = out;
    int v = 1;
    KIN_TRY(kin_coroutine_scope(emit_in_block, &v)); /* in place: fine */
    v = 2;
    int rc = kin_with_context(kin_dispatcher_default(), emit_in_block, &v);
    CHECK_EQ(rc, KIN_EFLOW);
    CHECK(strstr(last_message(), "kin_flow_on"));
    return rc;
}

static void test_with_context(void) {
    int acc[4] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emits_with_context, NULL), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), KIN_EFLOW);
    CHECK(strstr(last_message(), "emission from another coroutine"));
    CHECK_EQ(acc[0], 1);
    CHECK_EQ(acc[1], 1);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* From a plain thread (outside coroutines) too, during the collect. */
#include <pthread.h>
static void *thread_emit(void *arg) {
    child_emit *c = arg;
    int v = 7;
    c->rc = kin_flow_emit(c->out, &v, sizeof v);
    snprintf(c->msg, sizeof c->msg, "%s", last_message());
    return NULL;
}
static int emits_from_thread(kin_flow_collector *out, void *arg) {
    child_emit *c = arg;
    c->out = out;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, thread_emit, c), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    return 0;
}

static void test_outside(void) {
    child_emit c = {0};
    int acc[4] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emits_from_thread, &c), 0);
    CHECK_EQ(kin_flow_collect(f, log_int, acc), 0);
    CHECK_EQ(c.rc, KIN_EFLOW);
    CHECK(strstr(c.msg, "emission from another coroutine"));
    CHECK_EQ(acc[0], 0);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* Cancellation transparency: a non-suspending emitter loop is stopped by
 * the collector's cancellation at its next emit. */
static int endless(kin_flow_collector *out, void *arg) {
    long *n = arg;
    for (;;) {
        int rc = kin_flow_emit(out, n, sizeof *n);
        if (rc < 0) {
            CHECK_EQ(rc, KIN_ECANCELED);
            return rc;
        }
        ++*n;
    }
}
static int cancel_at_5(const void *v, void *arg) {
    (void)arg;
    if (*(const long *)v == 5)
        kin_cancel(kin_current_job(), NULL);
    return 0;
}
static int collect_endless(void *arg) {
    kin_flow f = *(kin_flow *)arg;
    return kin_flow_collect(f, cancel_at_5, NULL);
}

static void test_cancellation(void) {
    long n = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(long), endless, &n), 0);
    CHECK_EQ(kin_flow_map(&f, sizeof(long), (kin_flow_map_fn)NULL, NULL),
             KIN_EINVAL); /* f is gone: a fresh one below */
    CHECK_EQ(f.id, 0);
    CHECK_EQ(kin_flow_new(&f, sizeof(long), endless, &n), 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, collect_endless, &f), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(kin_job_is_cancelled(j));
    CHECK_EQ(n, 6); /* the emit of 6, after the cancellation, returned at
                     * once without reaching the collector */
    CHECK_EQ(kin_job_release(j), 0);
    CHECK_EQ(kin_flow_release(f), 0);
}

static int body(void *arg) {
    (void)arg;
    test_violation();
    test_violation_in_transform();
    test_swallowed();
    test_other_coroutine();
    test_outside();
    test_with_context();
    test_cancellation();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
