/* Unconfined: starts at once in the caller's thread, and after a suspension
 * continues in the thread that resumed it; a pending timer of its own keeps
 * it where the timer is. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

static pthread_t main_thread;
static _Atomic(pthread_t) completer;

/* glibc declares self_thread() const, so a compiler may reuse its value
 * across a suspension point: in an Unconfined coroutine, which can change
 * threads there, ask through a pointer the compiler cannot see through. */
static pthread_t (*volatile self_thread)(void) = pthread_self;

static int slow_value(void *arg, void **out) {
    (void)arg;
    KIN_TRY(kin_delay(20));
    atomic_store(&completer, pthread_self());
    *out = "from Default";
    return 0;
}

static int unconfined_body(void *arg) {
    kin_job *d = arg;
    EXPECT(2); /* runs inside kin_launch, on the caller's thread */
    CHECK(pthread_equal(self_thread(), main_thread));
    CHECK_STR(kin_dispatcher_name(kin_dispatcher_current()), "Unconfined");
    void *v;
    KIN_TRY(kin_await(*d, &v)); /* completed on a Default worker */
    CHECK_STR(v, "from Default");
    /* Resumed by the Default worker that completed d: we are there now. */
    CHECK(pthread_equal(self_thread(), atomic_load(&completer)));
    CHECK(!pthread_equal(self_thread(), main_thread));
    /* A delay keeps us on this worker: the timer lives here. */
    pthread_t here = self_thread();
    KIN_TRY(kin_delay(5));
    CHECK(pthread_equal(self_thread(), here));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_job d, u;
    CHECK_EQ(kin_async(
                 &d, &(kin_launch_opts){.dispatcher = kin_dispatcher_default()},
                 slow_value, NULL),
             0);
    EXPECT(1);
    CHECK_EQ(kin_launch(
                 &u,
                 &(kin_launch_opts){.dispatcher = kin_dispatcher_unconfined()},
                 unconfined_body, &d),
             0);
    EXPECT(3);
    CHECK_EQ(kin_join(u), 0);
    CHECK(!kin_job_is_cancelled(u));
    /* with_context onto Unconfined runs in place. */
    CHECK_EQ(kin_with_context(kin_dispatcher_unconfined(), NULL, NULL),
             KIN_EINVAL);
    return 0;
}

int main(void) {
    main_thread = pthread_self();
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
