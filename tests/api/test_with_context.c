/* kin_with_context: the block runs on the target dispatcher as a child of
 * the caller; its result or failure comes back as the return value;
 * cancellation flows both ways; the caller's stack stays valid for it; onto
 * the dispatcher the caller is already on it runs in place. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"

static pthread_t main_thread;

typedef struct frame {
    int in, out;
    const char *where;
    char *caller_local;
} frame;

static int compute(void *arg) {
    frame *f = arg;
    f->where = kin_dispatcher_name(kin_dispatcher_current());
    KIN_TRY(kin_delay(1));
    f->out = f->in * 2; /* writes the caller's frame (L5) */
    return 0;
}

static int fails(void *arg) {
    (void)arg;
    return kin_fail("IOException", "disk on fire");
}

static atomic_int block_cancelled;
static int sleeps(void *arg) {
    (void)arg;
    int rc = kin_delay(100000);
    if (rc == KIN_ECANCELED)
        atomic_store(&block_cancelled, 1);
    return rc;
}

static int calls_sleeps(void *arg) {
    int *rc = arg;
    *rc = kin_with_context(kin_dispatcher_io(), sleeps, NULL);
    return *rc;
}

static int in_place(void *arg) {
    frame *f = arg;
    char here;
    /* Same stack as the caller: no hop, no new coroutine. */
    long distance = (long)((char *)&here - f->caller_local);
    CHECK(distance < 0 ? -distance < 65536 : distance < 65536);
    f->where = kin_dispatcher_name(kin_dispatcher_current());
    return 0;
}

static int nested_main(void *arg) {
    frame *f = arg;
    CHECK(pthread_equal(pthread_self(), main_thread));
    f->out = f->in + 1;
    return 0;
}

static int nested_default(void *arg) {
    return kin_with_context(kin_dispatcher_main(), nested_main, arg);
}

static int nested_io(void *arg) {
    return kin_with_context(kin_dispatcher_default(), nested_default, arg);
}

static int body(void *arg) {
    (void)arg;
    frame f = {.in = 21};
    CHECK_EQ(kin_with_context(kin_dispatcher_default(), compute, &f), 0);
    CHECK_EQ(f.out, 42);
    CHECK_STR(f.where, "Default");
    CHECK_EQ(kin_with_context(kin_dispatcher_io(), compute, &f), 0);
    CHECK_STR(f.where, "IO");

    /* A failure comes back; the caller is not cancelled. */
    CHECK_EQ(kin_with_context(kin_dispatcher_io(), fails, NULL), KIN_EFAILED);
    CHECK_STR(last_message(), "disk on fire");
    CHECK_STR(kin_error_type(kin_last_error()), "IOException");
    CHECK(kin_is_active());

    /* Cancelling the caller cancels the block on the other thread. */
    int rc = 0;
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, calls_sleeps, &rc), 0);
    CHECK_EQ(kin_delay(20), 0);
    CHECK_EQ(kin_cancel_and_join(j), 0);
    CHECK_EQ(atomic_load(&block_cancelled), 1);
    CHECK_EQ(rc, KIN_ECANCELED);

    /* Onto the dispatcher we are on: in place. */
    char local;
    frame g = {.caller_local = &local};
    CHECK_EQ(kin_with_context(kin_dispatcher_main(), in_place, &g), 0);
    CHECK_STR(g.where, "Main");

    /* Main -> IO -> Default -> Main. */
    frame h = {.in = 1};
    CHECK_EQ(kin_with_context(kin_dispatcher_io(), nested_io, &h), 0);
    CHECK_EQ(h.out, 2);

    CHECK_EQ(kin_with_context(NULL, compute, &f), KIN_EINVAL);
    CHECK_EQ(kin_with_context(kin_dispatcher_io(), NULL, NULL), KIN_EINVAL);
    return 0;
}

static int after_shutdown(void *arg) {
    frame f = {.in = 1};
    (void)arg;
    return kin_with_context(kin_dispatcher_default(), compute, &f);
}

int main(void) {
    main_thread = pthread_self();
    CHECK_EQ(kin_with_context(kin_dispatcher_io(), compute, NULL),
             KIN_ENOTCORO);
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(kin_shutdown(), 0);
    /* After shutdown the pools are closed. */
    CHECK_EQ(kin_run_blocking(after_shutdown, NULL), KIN_ECLOSED);
    CHECK(strstr(last_message(), "shut down") != NULL);
    return 0;
}
