/* IO: blocking calls run on IO threads, many at once (the pool grows while
 * calls block), so they never starve Default; the limit caps it; idle IO
 * threads leave after the keep-alive. Margins are wide: the checks are about
 * overlap, not speed. */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pthread_t main_thread;
static atomic_int running, peak, peak_threads;
static int count_io_threads(void);

static void raise_to(atomic_int *max, int v) {
    int p = atomic_load(max);
    while (v > p && !atomic_compare_exchange_weak(max, &p, v)) {
    }
}

static int blocking_call(void *arg) {
    (void)arg;
    CHECK_STR(kin_dispatcher_name(kin_dispatcher_current()), "IO");
    CHECK(!pthread_equal(pthread_self(), main_thread));
    raise_to(&peak, atomic_fetch_add(&running, 1) + 1);
    /* counted while the calls overlap: once they are over, idle threads
     * may already have left (the keep-alive is short here, and Valgrind
     * makes everything slow) */
    raise_to(&peak_threads, count_io_threads());
    usleep(100 * 1000); /* a blocking system call */
    atomic_fetch_sub(&running, 1);
    return 0;
}

static int caller(void *arg) {
    (void)arg;
    return kin_with_context(kin_dispatcher_io(), blocking_call, NULL);
}

static atomic_int ticks;
static int ticker(void *arg) {
    (void)arg;
    for (;;) {
        KIN_TRY(kin_delay(5));
        atomic_fetch_add(&ticks, 1);
    }
}

static int count_io_threads(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], name[64] = {0};
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(name, sizeof name, f) && strncmp(name, "kin-io-", 7) == 0)
                n++;
            fclose(f);
        }
    }
    closedir(d);
    return n;
}

static int run_calls(int n) {
    kin_launch_opts on_default = {.dispatcher = kin_dispatcher_default()};
    kin_job t;
    KIN_TRY(kin_launch(&t, &on_default, ticker, NULL));
    kin_job calls[8];
    for (int i = 0; i < n; i++)
        KIN_TRY(kin_launch(&calls[i], &on_default, caller, NULL));
    KIN_TRY(kin_join_all(calls, (size_t)n));
    for (int i = 0; i < n; i++)
        CHECK(!kin_job_is_cancelled(calls[i]));
    return kin_cancel_and_join(t);
}

static int body(void *arg) {
    (void)arg;
    /* Eight blocking calls overlap, and Default keeps ticking meanwhile. */
    atomic_store(&ticks, 0);
    KIN_TRY(run_calls(8));
    CHECK(atomic_load(&peak) >= 4);
    CHECK(atomic_load(&ticks) >= 3);
    CHECK(atomic_load(&peak_threads) >= 4);

    /* Idle IO threads leave after the keep-alive (100 ms here). */
    int left = count_io_threads();
    for (int i = 0; i < 300 && left > 0; i++) {
        KIN_TRY(kin_delay(10));
        left = count_io_threads();
    }
    CHECK_EQ(left, 0);

    /* A limit of 2: never more than two calls at once. */
    CHECK_EQ(kin_dispatcher_set_threads(kin_dispatcher_io(), 2), 0);
    atomic_store(&peak, 0);
    KIN_TRY(run_calls(6));
    CHECK(atomic_load(&peak) <= 2);
    CHECK(count_io_threads() <= 2);
    return 0;
}

int main(void) {
    main_thread = pthread_self();
    setenv("KIN_IO_KEEPALIVE_MS", "100", 1);
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(kin_dispatcher_set_threads(kin_dispatcher_io(), 0), KIN_EINVAL);
    CHECK_EQ(kin_dispatcher_set_threads(kin_dispatcher_main(), 2), KIN_EINVAL);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
