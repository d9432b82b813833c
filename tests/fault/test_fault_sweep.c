/* Failure injection: for N = 1, 2, ... the Nth allocation kin makes (malloc,
 * a job record, a stack mapping) fails, in a child process each. The
 * workload checks that every call returns 0 or its documented code
 * (KIN_ENOMEM, or what the failure turns into: a scope whose child could not
 * start fails with KIN_ENOMEM), nothing crashes or hangs, the job tree ends
 * consistent (every root completes, kin_shutdown finishes), and, in the
 * AddressSanitizer build this runs in, LeakSanitizer finds no leak at the
 * child's exit. The sweep ends at the first N the workload never reaches. */
#include <signal.h>

#include "../check.h"
#include "sweep.h"
#include "base/alloc.h"
#include "job/registry.h"

static int g_nomem_seen; /* calls that reported KIN_ENOMEM */

#define CHECK_RC(rc, ...)                                                      \
    do {                                                                       \
        int rc_ = (rc), ok_ = 0, allowed_[] = {__VA_ARGS__};                   \
        for (size_t i_ = 0; i_ < sizeof allowed_ / sizeof allowed_[0]; i_++)   \
            ok_ |= rc_ == allowed_[i_];                                        \
        if (rc_ == KIN_ENOMEM)                                                 \
            g_nomem_seen++;                                                    \
        if (!ok_) {                                                            \
            fprintf(stderr, "%s:%d: %s returned %d (%s: %s)\n", __FILE__,      \
                    __LINE__, #rc, rc_, kin_strerror(rc_),                     \
                    kin_error_message(kin_last_error()));                      \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static int child_ok(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(1));
    return 0;
}

static int child_fails(void *arg) {
    (void)arg;
    return kin_fail("Expected", "a failure of the workload");
}

static int value(void *arg, void **out) {
    KIN_TRY(kin_yield());
    *out = arg;
    return 0;
}

static int scope_body(void *arg) {
    (void)arg;
    for (int i = 0; i < 3; i++)
        KIN_TRY(kin_launch(NULL, NULL, child_ok, NULL));
    kin_job a, b;
    KIN_TRY(kin_async(&a, NULL, value, (void *)1));
    KIN_TRY(
        kin_async(&b, &(kin_launch_opts){.name = "named"}, value, (void *)2));
    void *va, *vb;
    KIN_TRY(kin_await(a, &va));
    KIN_TRY(kin_await(b, &vb));
    CHECK((long)va + (long)vb == 3);
    return 0;
}

static void handler(kin_job job, const kin_error *e, void *arg) {
    (void)job, (void)arg;
    int code = kin_error_code(e);
    CHECK(code == KIN_EFAILED || code == KIN_ENOMEM);
}

static int sup_body(void *arg) {
    (void)arg;
    kin_launch_opts o = {.handler = handler};
    KIN_TRY(kin_launch(NULL, &o, child_fails, NULL));
    KIN_TRY(kin_launch(NULL, &o, child_ok, NULL));
    return 0;
}

static int slow(void *arg) {
    (void)arg;
    return kin_delay(1000);
}

static int on_default(void *arg) {
    (void)arg;
    return kin_yield();
}

static void noted(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)cause;
    ++*(int *)arg;
}

static int many_body(void *arg) {
    (void)arg;
    kin_job js[40];
    int n = 0;
    for (int i = 0; i < 40; i++) {
        int rc = kin_async(&js[n], NULL, value, (void *)(long)i);
        CHECK_RC(rc, 0, KIN_ENOMEM);
        if (rc == 0)
            n++;
    }
    void *vals[40];
    CHECK_RC(kin_await_all(js, (size_t)n, vals), 0, KIN_ENOMEM);
    /* A child that failed (no stack) cancelled this scope: then cancelled. */
    CHECK_RC(kin_join_all(js, (size_t)n), 0, KIN_ECANCELED);
    return 0;
}

static int sleeper(void *arg) {
    (void)arg;
    return kin_delay(100000);
}

/* The suppressed-cycle program of test_suppressed_cycle: the failure F1
 * reaches S after F2 {F1} did, so S lists a copy of F2 (error.c's cycle
 * check, and the copy, allocate). */
static kin_job g_d;
static int fails_f1(void *arg, void **out) {
    (void)arg, (void)out;
    for (int i = 0; i < 3; i++)
        KIN_TRY(kin_yield());
    return kin_fail("RuntimeException", "F1");
}
static int await_then_fail_f2(void *arg) {
    (void)arg;
    kin_await(g_d, NULL);
    return kin_fail("RuntimeException", "F2");
}
static int await_and_rethrow(void *arg) {
    (void)arg;
    return kin_await(g_d, NULL);
}
static int b_body(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, await_then_fail_f2, NULL));
    return kin_launch(NULL, NULL, await_and_rethrow, NULL);
}
static int cycle_body(void *arg) {
    (void)arg;
    KIN_TRY(kin_async(&g_d, NULL, fails_f1, NULL));
    return kin_launch(NULL, NULL, b_body, NULL);
}

/* Flows: building a chain (each operator may fail: the upstream is then
 * released and *f zeroed), collecting it (take's abort, big values through
 * map: one scratch allocation per collect), to_array's growth, a retry
 * with backoff (its copy of the options), launch_in. */
static int fl_source(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (long i = 0; i < 50; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}
typedef struct {
    long v;
    char pad[300];
} fl_big;
static int fl_widen(const void *in, void *out, void *arg) {
    (void)arg;
    memset(out, 0, sizeof(fl_big));
    ((fl_big *)out)->v = *(const long *)in;
    return 0;
}
static int fl_narrow(const void *in, void *out, void *arg) {
    (void)arg;
    *(long *)out = ((const fl_big *)in)->v;
    return 0;
}
static int fl_even(const void *v, void *arg) {
    (void)arg;
    return *(const long *)v % 2 == 0;
}
static int fl_fails_once(kin_flow_collector *out, void *arg) {
    int *runs = arg;
    long v = 7;
    KIN_TRY(kin_flow_emit(out, &v, sizeof v));
    return ++*runs == 1 ? kin_fail("IOException", "once") : 0;
}

static int flow_body(void *arg) {
    (void)arg;
    kin_flow f;
    int rc = kin_flow_new(&f, sizeof(long), fl_source, NULL);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0)
        rc = kin_flow_map(&f, sizeof(fl_big), fl_widen, NULL);
    if (rc == 0)
        rc = kin_flow_map(&f, sizeof(long), fl_narrow, NULL);
    if (rc == 0)
        rc = kin_flow_filter(&f, fl_even, NULL);
    if (rc == 0)
        rc = kin_flow_take(&f, 20);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        void *xs = NULL;
        size_t n = 0;
        rc = kin_flow_to_array(f, &xs, &n);
        CHECK_RC(rc, 0, KIN_ENOMEM);
        CHECK(rc == 0 ? n == 20 : xs == NULL);
        free(xs);
        long first = -1;
        CHECK_RC(kin_flow_first(f, &first, sizeof first), 0, KIN_ENOMEM);
        CHECK_RC(kin_flow_launch_in(f, (kin_scope){0}, NULL), 0, KIN_ENOMEM);
        CHECK_EQ(kin_flow_release(f), 0);
    } else {
        CHECK_EQ(f.id, 0);
    }
    int runs = 0;
    rc = kin_flow_new(&f, sizeof(long), fl_fails_once, &runs);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0)
        rc = kin_flow_retry_backoff(&f, &(kin_retry_opts){.base_ms = 1});
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        uint64_t c = 0;
        /* ECANCELED: the launch_in child above failed (its stack) and
         * cancelled this scope, as structured concurrency wants */
        CHECK_RC(kin_flow_count(f, &c), 0, KIN_ENOMEM, KIN_ECANCELED);
        CHECK_EQ(kin_flow_release(f), 0);
    }
    return 0;
}

/* Hand-made jobs, completion handlers you can dispose, channels (a buffer
 * that grows, produce), select with a timeout, Mutex, Semaphore, hot
 * flows and an fd wait (the loop's poller is made on the first one). */
static int produce_three(kin_channel ch, void *arg) {
    (void)arg;
    for (long i = 0; i < 3; i++)
        KIN_TRY(kin_channel_send(ch, &i, sizeof i));
    return 0;
}

static int sync_body(void *arg) {
    (void)arg;
    kin_job j, d;
    int rc = kin_job_new(&j, NULL);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        int calls = 0;
        kin_disposable h;
        int r2 = kin_invoke_on_completion_ex(j, NULL, noted, &calls, &h);
        CHECK_RC(r2, 0, KIN_ENOMEM);
        if (r2 == 0)
            CHECK_RC(kin_dispose(h), 1);
        CHECK_RC(kin_job_complete(j), 1);
        CHECK_RC(kin_join(j), 0);
        CHECK_EQ(calls, 0);
        CHECK_EQ(kin_job_release(j), 0);
    }
    rc = kin_deferred_new(&d, NULL);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        CHECK_RC(kin_deferred_complete(d, (void *)5), 1);
        void *v = NULL;
        CHECK_RC(kin_await(d, &v), 0);
        CHECK(v == (void *)5);
        CHECK_EQ(kin_job_release(d), 0);
    }

    kin_channel ch;
    rc = kin_channel_new(&ch, sizeof(long),
                         &(kin_channel_opts){.capacity = KIN_CHANNEL_UNLIMITED});
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        long sent = 0, v, got = 0;
        for (long i = 0; i < 200; i++) { /* the buffer grows: allocations */
            int r2 = kin_channel_send(ch, &i, sizeof i);
            CHECK_RC(r2, 0, KIN_ENOMEM);
            sent += r2 == 0;
        }
        while (kin_channel_try_receive(ch, &v, sizeof v) == 0)
            got++;
        CHECK_EQ(got, sent);
        kin_select_clause cl[2] = {
            {.kind = KIN_SELECT_RECEIVE, .channel = ch, .elem = &v,
             .size = sizeof v},
            {.kind = KIN_SELECT_TIMEOUT, .timeout_ms = 2}};
        CHECK_RC(kin_select(cl, 2), 1, KIN_ENOMEM);
        CHECK_EQ(kin_channel_destroy(ch), 0);
    }
    kin_mutex m;
    rc = kin_mutex_new(&m, NULL);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        CHECK_RC(kin_mutex_lock(m, NULL), 0);
        CHECK_RC(kin_mutex_unlock(m, NULL), 0);
        CHECK_EQ(kin_mutex_destroy(m), 0);
    }
    kin_semaphore sem;
    rc = kin_semaphore_new(&sem, 2, NULL);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        CHECK_RC(kin_semaphore_acquire(sem), 0);
        CHECK_RC(kin_semaphore_release(sem), 0);
        CHECK_EQ(kin_semaphore_destroy(sem), 0);
    }

    kin_state_flow st;
    long zero = 0, one = 1;
    rc = kin_state_flow_new(&st, sizeof zero, &zero, NULL, NULL);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        CHECK_RC(kin_state_flow_set(st, &one, sizeof one), 1);
        kin_flow f;
        int r2 = kin_state_flow_as_flow(st, &f);
        CHECK_RC(r2, 0, KIN_ENOMEM);
        if (r2 == 0) {
            long v = -1;
            CHECK_RC(kin_flow_first(f, &v, sizeof v), 0, KIN_ENOMEM);
            CHECK_EQ(kin_flow_release(f), 0);
        }
        CHECK_EQ(kin_state_flow_destroy(st), 0);
    }
    kin_shared_flow sh;
    rc = kin_shared_flow_new(&sh, sizeof zero,
                             &(kin_shared_flow_opts){.replay = 4});
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        for (long i = 0; i < 10; i++)
            CHECK_RC(kin_shared_flow_emit(sh, &i, sizeof i), 0, KIN_ENOMEM);
        CHECK_EQ(kin_shared_flow_destroy(sh), 0);
    }

    int p[2];
    CHECK_EQ(pipe(p), 0);
    CHECK_RC(kin_wait_fd(p[0], KIN_READABLE, 2), 0, KIN_ENOMEM);
    CHECK_EQ(kin_close(p[0]), 0);
    CHECK_EQ(kin_close(p[1]), 0);

    /* last: a producer that cannot start fails, and cancels this scope */
    rc = kin_produce(&ch, NULL, NULL, NULL, sizeof(long), produce_three, NULL);
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        long v, got = 0;
        int r2;
        while ((r2 = kin_channel_receive_catching(ch, &v, sizeof v)) == 0)
            got++;
        /* the producer could not start (no stack): it failed, so this
         * scope is cancelled (ECANCELED) or the channel closed first */
        CHECK_RC(r2, KIN_CLOSED, KIN_ENOMEM, KIN_ECANCELED);
        CHECK(r2 == KIN_CLOSED ? got == 3 : got == 0);
        CHECK_EQ(kin_channel_destroy(ch), 0);
    }

    return 0;
}

static int body(void *arg) {
    (void)arg;
    CHECK_RC(kin_coroutine_scope(sync_body, NULL), 0, KIN_ENOMEM);
    CHECK_RC(kin_coroutine_scope(scope_body, NULL), 0, KIN_ENOMEM);
    CHECK_RC(kin_coroutine_scope(many_body, NULL), 0, KIN_ENOMEM);
    CHECK_RC(kin_coroutine_scope(cycle_body, NULL), KIN_EFAILED, KIN_ENOMEM);
    CHECK_RC(kin_fail("Built", "an error object %d", 42), KIN_EFAILED);
    kin_error *e =
        kin_error_new(KIN_ECANCELED, "CancellationException", "a cause");
    kin_job sl;
    int rc0 =
        kin_launch(&sl, &(kin_launch_opts){.name = "sleeper"}, sleeper, NULL);
    CHECK_RC(rc0, 0, KIN_ENOMEM);
    if (rc0 == 0) {
        CHECK_RC(kin_yield(), 0);
        CHECK_RC(kin_cancel(sl, e), 0); /* e may be NULL: the default */
        CHECK_RC(kin_join(sl), 0);
        CHECK(kin_job_is_cancelled(sl));
    } else {
        kin_error_release(e);
    }
    CHECK_RC(kin_supervisor_scope(sup_body, NULL), 0, KIN_ENOMEM);
    CHECK_RC(kin_with_timeout(5, slow, NULL), KIN_ETIMEDOUT, KIN_ENOMEM);
    CHECK_RC(kin_with_timeout_or_null(5, slow, NULL), KIN_NULL, KIN_ENOMEM);

    kin_scope s;
    int rc = kin_scope_new(
        &s, &(kin_scope_opts){.name = "faulty",
                              .handler = handler,
                              .dispatcher = kin_dispatcher_main()});
    CHECK_RC(rc, 0, KIN_ENOMEM);
    if (rc == 0) {
        kin_job j = {0};
        CHECK_RC(kin_scope_launch(s, &j, NULL, child_ok, NULL), 0, KIN_ENOMEM);
        int calls = 0;
        if (j.id) {
            int r2 = kin_invoke_on_completion(j, noted, &calls);
            CHECK_RC(r2, 0, KIN_ENOMEM);
            CHECK_RC(kin_join(j), 0);
            CHECK_EQ(calls, r2 == 0 ? 1 : 0);
        }
        CHECK_RC(kin_scope_close(s), 0);
    }
    CHECK_RC(kin_with_context(kin_dispatcher_default(), on_default, NULL), 0,
             KIN_ENOMEM);
    CHECK_RC(kin_coroutine_scope(flow_body, NULL), 0, KIN_ENOMEM);
    return 0;
}

/* One run with the Nth allocation failing. Exit 0: done and fault hit;
 * 3: the workload made fewer than N allocations (the sweep is over). */
static int child(long n) {
    kin__fault_arm(n);
    int rc = kin_run_test(body, NULL);
    if (getenv("KIN_FAULT_VERBOSE"))
        fprintf(stderr, "fault %ld: kin_run_test -> %s (%s)\n", n,
                kin_strerror(rc),
                rc ? kin_error_message(kin_last_error()) : "");
    CHECK_RC(rc, 0, KIN_ENOMEM);
    long made = kin__fault_count();
    kin__fault_arm(0); /* shutdown itself must not fail here */
    CHECK_EQ(kin_shutdown(), 0);
    CHECK_EQ(kin__registry_count(), 0);
    return made < n ? 3 : 0;
}

int main(int argc, char **argv) {
    return fault_sweep_main(argc, argv, child, 20);
}
