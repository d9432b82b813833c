/* Default: coroutines run on the pool's threads, several at once; a started
 * coroutine stays on its thread, so its thread-locals (errno included) are
 * the same objects after each suspension point; work arrives from plain
 * code, from Main and from Default itself, and all of it runs. (The values
 * are the thread's: other coroutines on that thread may change them while
 * this one is suspended, as any function call may.) */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"

static pthread_t main_thread;
static _Thread_local int tls_marker;

/* Asked through pointers the compiler cannot see through, so the answer is
 * computed after the suspension point, not reused from before it. */
static pthread_t (*volatile self_thread)(void) = pthread_self;
static int *tls_address_impl(void) {
    return &tls_marker;
}
static int *errno_address_impl(void) {
    return &errno;
}
static int *(*volatile tls_address)(void) = tls_address_impl;
static int *(*volatile errno_address)(void) = errno_address_impl;

static int pinned(void *arg) {
    int id = (int)(intptr_t)arg;
    pthread_t me = pthread_self();
    CHECK(!pthread_equal(me, main_thread));
    CHECK_STR(kin_dispatcher_name(kin_dispatcher_current()), "Default");
    int *marker = &tls_marker, *err = &errno;
    for (int i = 0; i < 20; i++) {
        *marker = id;
        errno = 1000 + id;
        KIN_TRY(i % 2 ? kin_yield() : kin_delay(1));
        CHECK(pthread_equal(self_thread(), me));
        CHECK(tls_address() == marker);
        CHECK(errno_address() == err);
    }
    return 0;
}

/* Two coroutines that can only finish if they run at the same time. */
static atomic_int rendezvous;
static int meet(void *arg) {
    (void)arg;
    atomic_fetch_add(&rendezvous, 1);
    while (atomic_load(&rendezvous) < 2) {
    } /* spins without suspending: needs a second worker */
    return 0;
}

static atomic_long done_count;
static int tiny(void *arg) {
    (void)arg;
    atomic_fetch_add(&done_count, 1);
    return 0;
}

static int fan_out(void *arg) {
    long n = (long)arg;
    for (long i = 0; i < n; i++) /* from a Default worker: into its ring */
        KIN_TRY(kin_launch(NULL, NULL, tiny, NULL));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_launch_opts on_default = {.dispatcher = kin_dispatcher_default()};
    kin_job j[16];
    for (int i = 0; i < 16; i++)
        CHECK_EQ(kin_launch(&j[i], &on_default, pinned, (void *)(intptr_t)i),
                 0);
    CHECK_EQ(kin_join_all(j, 16), 0);
    for (int i = 0; i < 16; i++)
        CHECK(!kin_job_is_cancelled(j[i]));

    kin_job a, b;
    CHECK_EQ(kin_launch(&a, &on_default, meet, NULL), 0);
    CHECK_EQ(kin_launch(&b, &on_default, meet, NULL), 0);
    CHECK_EQ(kin_join(a), 0);
    CHECK_EQ(kin_join(b), 0);

    /* Many children from a Default coroutine: rings, stealing, overflow. */
    long n = test_scale(200000);
    CHECK_EQ(kin_with_context(kin_dispatcher_default(), fan_out, (void *)n), 0);
    CHECK_EQ(atomic_load(&done_count), n);
    return 0;
}

int main(void) {
    main_thread = pthread_self();
    CHECK_EQ(kin_dispatcher_set_threads(kin_dispatcher_default(), 2), 0);
    /* From plain code, before any loop exists. */
    kin_scope s;
    CHECK_EQ(kin_scope_new(&s, NULL), 0);
    long n = test_scale(100000);
    for (long i = 0; i < n; i++)
        CHECK_EQ(kin_scope_launch(s, NULL, NULL, tiny, NULL), 0);
    CHECK_EQ(kin_dispatcher_set_threads(kin_dispatcher_default(), 3),
             KIN_EBUSY);             /* it has started */
    CHECK_EQ(kin_scope_close(s), 0); /* cancels what has not run yet */
    long ran = atomic_load(&done_count);
    CHECK(ran >= 0 && ran <= n);
    atomic_store(&done_count, 0);
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
