/* Cancellation racing readiness, on Default's workers (the canceller and
 * the writer run on other threads than the reader): each round, a reader
 * waits for one byte while another coroutine writes it and cancels the
 * reader. Whatever wins, no byte is lost or invented: the reader got it
 * (1), or it returned KIN_ECANCELED and the byte is still in the socket.
 * Then the same with kin_close racing readiness: 1 or -EBADF, never a
 * hang, never a close(2) under the reader's read(2) (TSan checks it: the
 * close is left to the call in flight), and never a wait on the number
 * after it was closed (another file may have it by then). Many rounds
 * (fewer under sanitizers: CHECK_TOOL_DIVISOR). */
#include <signal.h>
#include <stdatomic.h>

#include "io_util.h"

typedef struct round {
    int sv[2];
    kin_job reader;
    long got;
    char byte;
    int mode; /* 0: cancel, 1: close */
    long spin; /* how long the racer waits after the reader started */
    atomic_bool started;
} round;

static int reader(void *arg) {
    round *r = arg;
    atomic_store(&r->started, true);
    r->got = kin_read(r->sv[0], &r->byte, 1);
    return 0;
}

static int racer(void *arg) {
    round *r = arg;
    while (!atomic_load(&r->started)) /* race the wait, not the start */
        KIN_TRY(kin_yield());
    for (int i = (int)(r->spin % 200); i > 0; i--)
        __asm__ __volatile__("" ::: "memory");
    CHECK_EQ(write(r->sv[1], "r", 1), 1);
    if (r->mode == 0)
        CHECK_EQ(kin_cancel(r->reader, NULL), 0);
    else
        CHECK_EQ(kin_close(r->sv[0]), 0);
    return 0;
}

static int one_round(void *arg) {
    round *r = arg;
    kin_launch_opts o = {.dispatcher = kin_dispatcher_default()};
    KIN_TRY(kin_launch(&r->reader, &o, reader, r));
    KIN_TRY(kin_launch(NULL, &o, racer, r));
    return 0;
}

/* Every Default worker makes its epoll and eventfd on its first fd wait;
 * make them all now, so that no fd is created while a round closes one (a
 * reader that has not reached kin_read yet would then read whatever file
 * reused the number: a use-after-close of the test, not of kin). */
static int warm(void *arg) {
    (void)arg;
    int sv[2];
    io_pair(sv);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 20), 0);
    CHECK_EQ(kin_close(sv[0]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
    return 0;
}

static int warm_all(void *arg) {
    kin_launch_opts o = {.dispatcher = kin_dispatcher_default()};
    for (int i = 0; i < 64; i++)
        KIN_TRY(kin_launch(NULL, &o, warm, arg));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(warm_all, NULL), 0);
    long n = test_scale(3000);
    long got[2] = {0, 0}, lost[2] = {0, 0};
    for (long i = 0; i < n; i++) {
        round r = {.got = 99, .mode = (int)(i & 1), .spin = i * 37};
        io_pair(r.sv);
        CHECK_EQ(kin_coroutine_scope(one_round, &r), 0);
        if (r.got == 1) {
            CHECK_EQ(r.byte, 'r');
            got[r.mode]++;
        } else if (r.got == 99) { /* cancelled before it started */
            CHECK_EQ(r.mode, 0);
            CHECK_EQ(io_pending(r.sv[0]), 1);
            lost[0]++;
        } else if (r.mode == 0) {
            CHECK_EQ(r.got, KIN_ECANCELED);
            CHECK_EQ(io_pending(r.sv[0]), 1); /* not consumed */
            lost[0]++;
        } else {
            CHECK_EQ(r.got, -EBADF);
            lost[1]++;
        }
        if (r.mode == 0)
            CHECK_EQ(kin_close(r.sv[0]), 0);
        CHECK_EQ(kin_close(r.sv[1]), 0);
    }
    printf("cancel: read %ld, cancelled %ld; close: read %ld, closed %ld\n",
           got[0], lost[0], got[1], lost[1]);
    return 0;
}

int main(void) {
    kin_dump_on_signal(SIGUSR1, 2); /* a hang: kill -USR1 shows who waits */
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    puts("test_io_race: ok");
    return 0;
}
