/* Two coroutines on Default call kin_close on the same fd at the same time:
 * one gets 0, the other -EBADF, neither hangs, and close(2) runs once.
 *   1-5  with a kin_read of fd in flight on another thread (a blocking
 *        socket: the call stays inside read(2)), both closes find the
 *        close under way: neither calls close(2) (the fd is still open),
 *        the read's end closes it, and the number, reused by a new socket
 *        right after, stays open (no late second close(2));
 *   6    with nothing in flight, many rounds of the two racing: each
 *        round one 0 and one -EBADF (CHECK_TOOL_DIVISOR fewer under
 *        sanitizers). */
#include <stdatomic.h>
#include <sys/syscall.h>

#include "io_util.h"

typedef struct pair {
    int fd;
    atomic_int ready; /* closers waiting for go */
    atomic_bool go;
    atomic_int rc[2];
} pair;

typedef struct closer {
    pair *p;
    int i;
} closer;

static int close_it(void *arg) {
    closer *c = arg;
    atomic_fetch_add(&c->p->ready, 1);
    while (!atomic_load(&c->p->go)) /* both start together (yield: one */
        KIN_TRY(kin_yield());       /* Default worker may run both) */
    atomic_store(&c->p->rc[c->i], kin_close(c->p->fd));
    return 0;
}

static int two_closers(void *arg) {
    pair *p = arg;
    kin_launch_opts o = {.dispatcher = kin_dispatcher_default()};
    static closer cs[2];
    for (int i = 0; i < 2; i++) {
        cs[i] = (closer){p, i};
        KIN_TRY(kin_launch(NULL, &o, close_it, &cs[i]));
    }
    while (atomic_load(&p->ready) < 2)
        KIN_TRY(kin_yield());
    atomic_store(&p->go, true);
    return 0;
}

/* Runs two closers of fd at once; checks one got 0, the other -EBADF. */
static void close_twice(int fd) {
    pair p = {.fd = fd};
    CHECK_EQ(kin_coroutine_scope(two_closers, &p), 0);
    int a = atomic_load(&p.rc[0]), b = atomic_load(&p.rc[1]);
    CHECK((a == 0 && b == -EBADF) || (a == -EBADF && b == 0));
}

/* ---- a read in flight ---------------------------------------------------- */

static int sv[2];
static atomic_int reader_tid;
static atomic_long reader_got = 99;

static int read_one(void *arg) {
    (void)arg;
    char b;
    atomic_store(&reader_tid, (int)syscall(SYS_gettid));
    atomic_store(&reader_got, kin_read(sv[0], &b, 1)); /* blocks in read(2) */
    return 0;
}

static void *reader_thread(void *arg) {
    (void)arg;
    CHECK_EQ(kin_run_blocking(read_one, NULL), 0);
    return NULL;
}

/* The scheduling state of a thread ('S': asleep, here inside read(2)), or
 * '?' where /proc cannot tell. */
static char thread_state(int tid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* after the name, which may hold spaces */
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Waits (at most 10 s) until the reader sleeps inside its read(2): asleep
 * at two looks 10 ms apart (nothing else on its way there sleeps that
 * long). */
static void wait_reader_blocked(void) {
    int64_t end = io_now_ms() + 10000;
    while (!atomic_load(&reader_tid)) {
        CHECK(io_now_ms() < end);
        CHECK_EQ(kin_delay(1), 0);
    }
    int tid = atomic_load(&reader_tid), asleep = 0;
    while (asleep < 2) {
        char st = thread_state(tid);
        if (st == '?') { /* no /proc: give it time */
            CHECK_EQ(kin_delay(200), 0);
            return;
        }
        asleep = st == 'S' ? asleep + 1 : 0;
        CHECK(io_now_ms() < end);
        CHECK_EQ(kin_delay(10), 0);
    }
}

static int with_call_in_flight(void) {
    /* blocking (no SOCK_NONBLOCK): the read waits inside the system call */
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int fd = sv[0];
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, reader_thread, NULL), 0);
    wait_reader_blocked();
    EXPECT(1);
    close_twice(fd);
    EXPECT(2); /* nobody closed under the read: still open */
    CHECK(fcntl(fd, F_GETFD) >= 0);
    CHECK_EQ(write(sv[1], "x", 1), 1);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&reader_got), 1);
    EXPECT(3); /* the read's end made the one close(2) */
    errno = 0;
    CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);
    EXPECT(4); /* the number is free: a new socket gets it */
    int nv[2];
    io_pair(nv);
    CHECK(nv[0] == fd || nv[1] == fd);
    EXPECT(5); /* and keeps it: no second close(2) comes later */
    CHECK_EQ(kin_delay(20), 0);
    CHECK(fcntl(fd, F_GETFD) >= 0);
    CHECK_EQ(kin_close(nv[0]), 0);
    CHECK_EQ(kin_close(nv[1]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    with_call_in_flight();
    EXPECT(6);
    long n = test_scale(2000);
    for (long i = 0; i < n; i++) {
        int s[2];
        io_pair(s);
        close_twice(s[0]);
        CHECK_EQ(kin_close(s[1]), 0);
    }
    printf("%ld racing pairs of kin_close: one 0, one -EBADF each\n", n);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    FINISH(7); /* the rounds ended */
    puts("test_io_close_twice: ok");
    return 0;
}
