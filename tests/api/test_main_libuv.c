/* Main hosted by a libuv loop: the integration a libuv program writes once.
 * kin's fd in a uv_poll_t; before each loop iteration a uv_prepare_t asks
 * kin_main_timeout_ms and arms a uv_timer_t with it (libuv computes its
 * poll timeout after the prepare handles run); both callbacks call
 * kin_main_run_ready. A "screen" scope on Main runs coroutines that delay,
 * go to IO and back, and wait on a pipe that a libuv timer writes to; a
 * libuv timer then closes the screen without waiting, and the scope's
 * completion closes the libuv handles, which ends uv_run.
 *
 * Built against libuv when CMake found it (Debian: libuv1-dev); without it
 * the test reports "skipped" (exit 77) instead of failing the build. */
#include "check.h"

#ifndef KIN_HAVE_LIBUV
int main(void) {
    printf("libuv was not found at configure time: skipped\n");
    return 77;
}
#else
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static uv_loop_t *loop;
static uv_poll_t kin_poll;
static uv_prepare_t kin_prepare;
static uv_timer_t kin_timer, close_timer, write_timer;
static pthread_t loop_thread;
static int pipefd[2];
static int run_ready_calls;

/* ---- the glue ------------------------------------------------------------- */

static void run_kin(void) {
    int ran = kin_main_run_ready();
    CHECK(ran >= 0);
    run_ready_calls++;
}

static void on_kin_fd(uv_poll_t *h, int status, int events) {
    (void)h, (void)events;
    CHECK_EQ(status, 0);
    run_kin();
}

static void on_kin_timer(uv_timer_t *h) {
    (void)h;
    run_kin();
}

static void on_prepare(uv_prepare_t *h) {
    (void)h;
    int t = kin_main_timeout_ms();
    CHECK(t >= -1);
    if (t < 0)
        uv_timer_stop(&kin_timer);
    else
        uv_timer_start(&kin_timer, on_kin_timer, (uint64_t)t, 0);
}

/* ---- the screen -------------------------------------------------------- */

static void on_write_timer(uv_timer_t *h);
static void on_close_timer(uv_timer_t *h);

static void on_loop(void) {
    CHECK(pthread_equal(pthread_self(), loop_thread));
}

static int on_io(void *arg) {
    (void)arg;
    CHECK(!pthread_equal(pthread_self(), loop_thread));
    nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000}, NULL);
    return 0;
}

static int loader(void *arg) {
    (void)arg;
    on_loop();
    EXPECT(1);
    CHECK_EQ(kin_delay(20), 0); /* a kin timer, through the uv_timer_t */
    on_loop();
    EXPECT(2);
    CHECK_EQ(kin_with_context(kin_dispatcher_io(), on_io, NULL), 0);
    on_loop(); /* the way back woke the uv_poll_t */
    EXPECT(3);
    /* a Main coroutine may use the host's loop: it is on its thread */
    CHECK_EQ(uv_timer_start(&write_timer, on_write_timer, 10, 0), 0);
    return 0;
}

static void on_write_timer(uv_timer_t *h) {
    (void)h;
    on_loop();
    EXPECT(4);
    CHECK_EQ(write(pipefd[1], "k", 1), 1);
}

static int reader(void *arg) {
    (void)arg;
    char c;
    CHECK_EQ(kin_read(pipefd[0], &c, 1), 1); /* readiness via kin's epoll */
    on_loop();
    EXPECT(5);
    CHECK_EQ(c, 'k');
    CHECK_EQ(uv_timer_start(&close_timer, on_close_timer, 10, 0), 0);
    return 0;
}

static int forever(void *arg) {
    (void)arg;
    int rc = kin_delay(1000000);
    on_loop();
    EXPECT(7); /* cancelled by the close, cleanup on the loop */
    CHECK_EQ(rc, KIN_ECANCELED);
    return rc;
}

static kin_scope screen;

static void on_close_timer(uv_timer_t *h) {
    (void)h;
    EXPECT(6);
    CHECK_EQ(kin_scope_close_nowait(screen), 0);
}

static void on_screen_done(kin_job job, const kin_error *cause, void *arg) {
    (void)job, (void)arg;
    on_loop();
    EXPECT(8);
    CHECK(kin_error_is_cancellation(cause));
    /* the host tears its glue down; uv_run then returns */
    uv_close((uv_handle_t *)&kin_poll, NULL);
    uv_close((uv_handle_t *)&kin_prepare, NULL);
    uv_close((uv_handle_t *)&kin_timer, NULL);
    uv_close((uv_handle_t *)&close_timer, NULL);
    uv_close((uv_handle_t *)&write_timer, NULL);
}

int main(void) {
    loop_thread = pthread_self();
    loop = uv_default_loop();
    CHECK_EQ(pipe(pipefd), 0);
    CHECK_EQ(kin_set_nonblocking(pipefd[0]), 0);

    CHECK_EQ(kin_main_attach(), 0);
    CHECK_EQ(uv_poll_init(loop, &kin_poll, kin_main_fd()), 0);
    CHECK_EQ(uv_poll_start(&kin_poll, UV_READABLE, on_kin_fd), 0);
    CHECK_EQ(uv_prepare_init(loop, &kin_prepare), 0);
    CHECK_EQ(uv_prepare_start(&kin_prepare, on_prepare), 0);
    CHECK_EQ(uv_timer_init(loop, &kin_timer), 0);

    CHECK_EQ(kin_scope_new(&screen,
                           &(kin_scope_opts){.supervisor = true,
                                             .dispatcher =
                                                 kin_dispatcher_main()}),
             0);
    CHECK_EQ(kin_invoke_on_completion(kin_scope_job(screen), on_screen_done,
                                      NULL),
             0);
    CHECK_EQ(kin_scope_launch(screen, NULL, NULL, loader, NULL), 0);
    CHECK_EQ(kin_scope_launch(screen, NULL, NULL, reader, NULL), 0);
    CHECK_EQ(kin_scope_launch(screen, NULL, NULL, forever, NULL), 0);

    CHECK_EQ(uv_timer_init(loop, &write_timer), 0); /* started by loader */
    CHECK_EQ(uv_timer_init(loop, &close_timer), 0); /* and by reader */

    CHECK_EQ(uv_run(loop, UV_RUN_DEFAULT), 0);
    CHECK_STEPS(8);
    CHECK(run_ready_calls >= 4);
    CHECK_EQ(kin_main_detach(), 0);
    CHECK_EQ(uv_loop_close(loop), 0);
    close(pipefd[0]);
    close(pipefd[1]);
    return 0;
}
#endif
