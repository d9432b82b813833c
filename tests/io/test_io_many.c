/* Many waiters on many fds across Default's workers: N socket pairs, an
 * echo coroutine and a client coroutine per pair, all on Default, each
 * client doing R round trips with its own pattern. Every wait suspends only
 * its coroutine; readiness is seen by each coroutine's home worker. */
#include "io_util.h"

typedef struct conn {
    int sv[2];
    int id;
    long rounds;
} conn;

static int echo(void *arg) {
    conn *c = arg;
    char b[64];
    for (;;) {
        long n = kin_read(c->sv[1], b, sizeof b);
        if (n == 0)
            return 0;
        CHECK(n > 0);
        CHECK_EQ(kin_write(c->sv[1], b, (size_t)n), n);
    }
}

static int client(void *arg) {
    conn *c = arg;
    char out[32], in[32];
    for (long i = 0; i < c->rounds; i++) {
        int len = snprintf(out, sizeof out, "%d:%ld", c->id, i);
        CHECK_EQ(kin_write(c->sv[0], out, (size_t)len), len);
        long got = 0;
        while (got < len) {
            long n = kin_read(c->sv[0], in + got, sizeof in - (size_t)got);
            CHECK(n > 0);
            got += n;
        }
        CHECK_EQ(got, len);
        CHECK(memcmp(in, out, (size_t)len) == 0);
    }
    return shutdown(c->sv[0], SHUT_WR) == 0 ? 0 : -errno;
}

typedef struct all {
    conn *cs;
    long n;
} all;

static int launch_all(void *arg) {
    all *a = arg;
    kin_launch_opts o = {.dispatcher = kin_dispatcher_default()};
    for (long i = 0; i < a->n; i++) {
        KIN_TRY(kin_launch(NULL, &o, echo, &a->cs[i]));
        KIN_TRY(kin_launch(NULL, &o, client, &a->cs[i]));
    }
    return 0;
}

static int body(void *arg) {
    (void)arg;
    long n = test_scale_parked(400);
    conn *cs = calloc((size_t)n, sizeof *cs);
    CHECK(cs);
    for (long i = 0; i < n; i++) {
        io_pair(cs[i].sv);
        cs[i].id = (int)i;
        cs[i].rounds = 50;
    }
    all a = {cs, n};
    CHECK_EQ(kin_coroutine_scope(launch_all, &a), 0);
    for (long i = 0; i < n; i++) {
        CHECK_EQ(kin_close(cs[i].sv[0]), 0);
        CHECK_EQ(kin_close(cs[i].sv[1]), 0);
    }
    free(cs);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    puts("test_io_many: ok");
    return 0;
}
