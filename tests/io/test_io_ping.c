/* Ping-pong over a socketpair between two coroutines: on the run_blocking
 * loop (the poller of a loop), on Default and on IO (the pollers of pool
 * workers, the two ends possibly on different threads). Each side waits in
 * kin_read while the other runs: only the coroutine suspends. */
#include "io_util.h"

typedef struct side {
    int fd;
    long rounds;
    bool starts;
} side;

static int pinger(void *arg) {
    side *s = arg;
    unsigned char b = 0;
    for (long i = 0; i < s->rounds; i++) {
        if (s->starts) {
            b = (unsigned char)i;
            CHECK_EQ(kin_write(s->fd, &b, 1), 1);
            CHECK_EQ(kin_read(s->fd, &b, 1), 1);
            CHECK_EQ(b, (unsigned char)(i + 1));
        } else {
            CHECK_EQ(kin_read(s->fd, &b, 1), 1);
            CHECK_EQ(b, (unsigned char)i);
            b = (unsigned char)(i + 1);
            CHECK_EQ(kin_write(s->fd, &b, 1), 1);
        }
    }
    return 0;
}

typedef struct run {
    kin_dispatcher *d;
    side a, b;
} run;

static int ping_scope(void *arg) {
    run *r = arg;
    kin_launch_opts o = {.dispatcher = r->d};
    KIN_TRY(kin_launch(NULL, &o, pinger, &r->b)); /* the waiter first */
    KIN_TRY(kin_launch(NULL, &o, pinger, &r->a));
    return 0;
}

static void ping_on(kin_dispatcher *d) {
    int sv[2];
    io_pair(sv);
    long rounds = test_scale(2000);
    run r = {d, {sv[0], rounds, true}, {sv[1], rounds, false}};
    CHECK_EQ(kin_coroutine_scope(ping_scope, &r), 0);
    CHECK_EQ(kin_close(sv[0]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
}

static int body(void *arg) {
    (void)arg;
    ping_on(NULL); /* the loop's own poller */
    ping_on(kin_dispatcher_default());
    ping_on(kin_dispatcher_io());
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    puts("test_io_ping: ok");
    return 0;
}
