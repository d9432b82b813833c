/* kin_close while other coroutines wait on the fd: each waiter returns
 * -EBADF (never a hang), on the closer's thread and on other threads; a
 * wait that begins on a closed fd gets -EBADF; the fd number, reused by a
 * new socket, works normally (the record's generation moved on). */
#include <stdatomic.h>

#include "io_util.h"

static int fds[2];

/* The results are read by the closer on another thread (Default): atomics. */
static int wait_read(void *arg) {
    _Atomic long *rc = arg;
    char b;
    atomic_store(rc, kin_read(fds[0], &b, 1));
    return 0;
}

static int wait_write_full(void *arg) {
    _Atomic long *rc = arg;
    static char big[1 << 20];
    atomic_store(rc, kin_write(fds[0], big, sizeof big)); /* fills, waits */
    return 0;
}

typedef struct closer_arg {
    kin_dispatcher *d;
} closer_arg;

static int close_scope(void *arg) {
    closer_arg *c = arg;
    _Atomic long r = 1, w = 1;
    kin_launch_opts o = {.dispatcher = c->d};
    /* a reader and a writer on the same fd (one each: allowed) */
    CHECK_EQ(kin_launch(NULL, &o, wait_read, &r), 0);
    CHECK_EQ(kin_launch(NULL, &o, wait_write_full, &w), 0);
    CHECK_EQ(kin_delay(30), 0);
    CHECK_EQ(r, 1);
    CHECK_EQ(w, 1); /* both still waiting */
    CHECK_EQ(kin_close(fds[0]), 0);
    CHECK_EQ(kin_delay(50), 0);
    CHECK_EQ(r, -EBADF);
    /* the writer had written part of the megabyte: a short count */
    long wn = atomic_load(&w);
    CHECK(wn > 0 && wn < (1 << 20));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_dispatcher *ds[] = {NULL, kin_dispatcher_default()};
    for (int i = 0; i < 2; i++) {
        io_pair(fds);
        int old = fds[0];
        closer_arg c = {ds[i]};
        CHECK_EQ(kin_coroutine_scope(close_scope, &c), 0);
        /* waiting on a closed fd */
        CHECK_EQ(kin_wait_fd(old, KIN_READABLE, 100), -EBADF);
        char b;
        CHECK_EQ(kin_read(old, &b, 1), -EBADF);
        /* the number is reused: a fresh pair works */
        int peer = fds[1];
        int sv[2];
        io_pair(sv);
        CHECK(sv[0] == old || sv[1] == old);
        CHECK_EQ(write(sv[1], "q", 1), 1);
        CHECK_EQ(kin_read(sv[0], &b, 1), 1);
        CHECK_EQ(b, 'q');
        CHECK_EQ(kin_close(sv[0]), 0);
        CHECK_EQ(kin_close(sv[1]), 0);
        CHECK_EQ(kin_close(peer), 0);
    }
    CHECK_EQ(kin_close(-1), -EBADF);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    puts("test_io_close: ok");
    return 0;
}
