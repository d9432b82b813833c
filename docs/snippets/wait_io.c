/* Waiting for I/O: a reader suspends in kin_read, a timeout cancels it
 * without consuming data, a later read gets the bytes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/socket.h>

#include <kin.h>

static int sv[2];

static int read_line(void *arg) {
    char *buf = arg;
    long n = kin_read(sv[0], buf, 63);
    if (n < 0)
        return (int)n; /* KIN_ETIMEDOUT when the timeout cancels the read */
    buf[n] = 0;
    return 0;
}

static int writer(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(200));
    return kin_write(sv[1], "hello", 5) == 5 ? 0 : -1;
}

static int body(void *arg) {
    (void)arg;
    char buf[64];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    KIN_TRY(kin_launch(NULL, NULL, writer, NULL));
    int rc = kin_with_timeout(100, read_line, buf);
    printf("first read: %s\n", kin_strerror(rc));
    rc = kin_with_timeout(1000, read_line, buf);
    printf("second read: %s, got \"%s\"\n", kin_strerror(rc), buf);
    kin_close(sv[0]);
    kin_close(sv[1]);
    return 0;
}

int main(void) {
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
