/* Main hosted by the program's own poll() loop (kin_main_attach): the
 * fd becomes readable for work from other threads and for fds Main's
 * coroutines wait on; kin_main_timeout_ms tells the host about work it
 * queued itself and about timers; kin_main_run_ready runs one pass without
 * blocking; a "screen" scope on Main closed without waiting
 * (kin_scope_close_nowait) cancels its coroutines, whose cleanup then runs
 * in the host's next turns. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pthread_t host_thread;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One turn of the host's loop: wait (at most cap ms, so a bug fails
 * instead of hanging) for kin's fd with kin's timeout, then run what is
 * ready. *woke_by_fd: the fd was readable. Returns how many ran. */
static int turn(int cap, bool *woke_by_fd) {
    int t = kin_main_timeout_ms();
    CHECK(t >= -1);
    if (t < 0 || t > cap)
        t = cap;
    struct pollfd p = {.fd = kin_main_fd(), .events = POLLIN};
    int n = poll(&p, 1, t);
    CHECK(n >= 0);
    if (woke_by_fd)
        *woke_by_fd = n == 1 && (p.revents & POLLIN);
    int ran = kin_main_run_ready();
    CHECK(ran >= 0);
    return ran;
}

/* Turns until *flag is set; at most 10 s. */
static void turn_until(atomic_int *flag) {
    int64_t end = now_ms() + 10000;
    while (!atomic_load(flag)) {
        CHECK(now_ms() < end);
        turn(100, NULL);
    }
}

static void on_main(void) {
    CHECK(pthread_equal(pthread_self(), host_thread));
    CHECK(kin_dispatcher_current() == kin_dispatcher_main());
}

/* ---- queued before the attach, from another thread ----------------------- */

static atomic_int early_ran;

static int early(void *arg) {
    (void)arg;
    on_main();
    atomic_store(&early_ran, 1);
    return 0;
}

static void *launch_early(void *arg) {
    (void)arg;
    CHECK_EQ(kin_scope_launch(kin_global_scope(), NULL,
                              &(kin_launch_opts){.dispatcher =
                                                     kin_dispatcher_main()},
                              early, NULL),
             0);
    return NULL;
}

/* ---- launches from host code, delays ---------------------------------------- */

static atomic_int delayed_done;

static int delayed(void *arg) {
    (void)arg;
    on_main();
    EXPECT(2);
    CHECK_EQ(kin_delay(30), 0);
    EXPECT(4);
    atomic_store(&delayed_done, 1);
    return 0;
}

static int immediate(void *arg) {
    (void)arg;
    EXPECT(1); /* UNDISPATCHED from host code: runs inside the launch */
    CHECK_EQ(kin_yield(), 0);
    EXPECT(3);
    return 0;
}

/* ---- a result from IO comes back through the fd ------------------------------ */

static atomic_int io_done;

static int blocking_io(void *arg) {
    (void)arg;
    CHECK(!pthread_equal(pthread_self(), host_thread));
    usleep(20000); /* a blocking call, on IO */
    return 0;
}

static int loads(void *arg) {
    (void)arg;
    CHECK_EQ(kin_with_context(kin_dispatcher_io(), blocking_io, NULL), 0);
    on_main(); /* back on Main */
    atomic_store(&io_done, 1);
    return 0;
}

/* ---- an fd a Main coroutine waits on ------------------------------------------- */

static int pipefd[2];
static atomic_int read_done;

static int reader(void *arg) {
    (void)arg;
    char c = 0;
    CHECK_EQ(kin_read(pipefd[0], &c, 1), 1);
    CHECK_EQ(c, 'x');
    on_main();
    atomic_store(&read_done, 1);
    return 0;
}

static void *writer(void *arg) {
    (void)arg;
    usleep(20000);
    CHECK_EQ(write(pipefd[1], "x", 1), 1);
    return NULL;
}

/* ---- a yielding coroutine does not starve the host ------------------------------ */

static atomic_int spins;

static int spinner(void *arg) {
    (void)arg;
    for (;;) {
        atomic_fetch_add(&spins, 1);
        int rc = kin_yield();
        if (rc < 0)
            return rc;
    }
}

/* ---- the screen: closed on "destroy" without waiting ------------------------- */

static atomic_int ticks, cleanups;

static int ticker(void *arg) {
    (void)arg;
    int rc;
    while ((rc = kin_delay(5)) == 0)
        atomic_fetch_add(&ticks, 1);
    CHECK_EQ(rc, KIN_ECANCELED);
    /* cleanup that suspends: in a non-cancellable section */
    atomic_fetch_add(&cleanups, 1);
    return rc;
}

static int slow_cleanup(void *arg) {
    (void)arg;
    CHECK_EQ(kin_delay(20), 0);
    atomic_fetch_add(&cleanups, 1);
    return 0;
}

static int waits_forever(void *arg) {
    (void)arg;
    char c;
    long rc = kin_read(pipefd[0], &c, 1); /* nobody writes */
    CHECK_EQ(rc, KIN_ECANCELED);
    return kin_non_cancellable(slow_cleanup, NULL);
}

static atomic_int screen_done;

static void screen_completed(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)arg;
    CHECK(kin_error_is_cancellation(cause));
    atomic_store(&screen_done, 1);
}

int main(void) {
    host_thread = pthread_self();
    CHECK_EQ(pipe(pipefd), 0);
    CHECK_EQ(kin_set_nonblocking(pipefd[0]), 0);

    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, launch_early, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);

    CHECK_EQ(kin_main_attach(), 0);
    int fd = kin_main_fd();
    CHECK(fd >= 0);
    CHECK_EQ(kin_main_timeout_ms(), 0); /* the early one is queued */
    CHECK_EQ(kin_main_run_ready(), 1);
    CHECK(atomic_load(&early_ran));
    CHECK_EQ(kin_main_timeout_ms(), -1); /* nothing left */
    CHECK_EQ(kin_main_run_ready(), 0);

    kin_scope screen;
    CHECK_EQ(kin_scope_new(&screen,
                           &(kin_scope_opts){.supervisor = true,
                                             .dispatcher =
                                                 kin_dispatcher_main(),
                                             .name = "screen"}),
             0);

    /* host code launches; the coroutines run in the host's turns */
    CHECK_EQ(kin_scope_launch(screen, NULL, NULL, delayed, NULL), 0);
    CHECK_EQ(kin_scope_launch(screen, NULL,
                              &(kin_launch_opts){.start =
                                                     KIN_START_UNDISPATCHED},
                              immediate, NULL),
             0);
    CHECK_STEPS(1);
    CHECK_EQ(kin_main_timeout_ms(), 0);
    CHECK_EQ(kin_main_run_ready(), 2); /* delayed, then immediate's rest */
    CHECK_STEPS(3);
    int t1 = kin_main_timeout_ms(); /* the 30 ms delay: its deadline is */
    CHECK(t1 > 0 && t1 <= 31);      /* rounded up to the wheel's 1 ms tick */
    turn_until(&delayed_done);
    CHECK_STEPS(4);

    /* a wake-up from an IO thread makes the fd readable: wait on it alone */
    CHECK_EQ(kin_scope_launch(screen, NULL, NULL, loads, NULL), 0);
    CHECK_EQ(kin_main_run_ready(), 1); /* loads, up to its with_context */
    CHECK_EQ(kin_main_timeout_ms(), -1); /* no timer: only the fd */
    bool by_fd = false;
    while (!atomic_load(&io_done)) {
        turn(10000, &by_fd);
        if (!atomic_load(&io_done))
            continue;
        CHECK(by_fd); /* woken by the fd, not the cap */
    }

    /* an fd a Main coroutine waits on, made readable by another thread */
    CHECK_EQ(kin_scope_launch(screen, NULL, NULL, reader, NULL), 0);
    CHECK_EQ(kin_main_run_ready(), 1); /* reader waits in kin_read */
    CHECK_EQ(pthread_create(&t, NULL, writer, NULL), 0);
    CHECK_EQ(kin_main_timeout_ms(), -1);
    turn(10000, &by_fd);
    CHECK(by_fd);
    CHECK_EQ(pthread_join(t, NULL), 0);
    turn_until(&read_done);

    /* one pass per call: a coroutine that keeps yielding is run once */
    kin_job spin;
    CHECK_EQ(kin_scope_launch(screen, &spin, NULL, spinner, NULL), 0);
    for (int i = 1; i <= 3; i++) {
        CHECK_EQ(kin_main_timeout_ms(), 0);
        CHECK_EQ(kin_main_run_ready(), 1);
        CHECK_EQ(atomic_load(&spins), i);
    }

    /* "destroy": close the screen without waiting */
    CHECK_EQ(kin_scope_launch(screen, NULL, NULL, ticker, NULL), 0);
    CHECK_EQ(kin_scope_launch(screen, NULL, NULL, waits_forever, NULL), 0);
    CHECK_EQ(kin_invoke_on_completion(kin_scope_job(screen), screen_completed,
                                      NULL),
             0);
    int64_t until = now_ms() + 30;
    while (now_ms() < until || atomic_load(&ticks) < 2)
        turn(100, NULL);
    CHECK_EQ(kin_scope_close_nowait(screen), 0); /* returns at once */
    CHECK(!atomic_load(&screen_done));
    MISUSE(kin_scope_launch(screen, NULL, NULL, ticker, NULL), KIN_ESTALE,
           "closed");
    MISUSE(kin_scope_close_nowait(screen), KIN_ESTALE, "closed");
    turn_until(&screen_done); /* cleanup runs in the host's turns */
    CHECK_EQ(atomic_load(&cleanups), 2);
    CHECK_EQ(kin_main_timeout_ms(), -1);

    /* kin_scope_close from a host callback waits, running Main meanwhile */
    kin_scope other;
    CHECK_EQ(kin_scope_new(&other, &(kin_scope_opts){.dispatcher =
                                                         kin_dispatcher_main()}),
             0);
    atomic_store(&cleanups, 0);
    CHECK_EQ(kin_scope_launch(other, NULL, NULL, waits_forever, NULL), 0);
    CHECK_EQ(kin_main_run_ready(), 1);
    CHECK_EQ(kin_scope_close(other), 0);
    CHECK_EQ(atomic_load(&cleanups), 1);

    /* detach and attach again */
    CHECK_EQ(kin_main_detach(), 0);
    CHECK_EQ(kin_main_attach(), 0);
    CHECK_EQ(kin_main_timeout_ms(), -1);
    CHECK_EQ(kin_main_detach(), 0);
    close(pipefd[0]);
    close(pipefd[1]);
    return 0;
}
