/* Every io function checks its arguments and says why (the misuse table),
 * the suspending ones return KIN_ENOTCORO outside a coroutine, and
 * kin_getaddrinfo resolves on IO and reports a bad name readably. */
#include <netdb.h>
#include <sys/resource.h>

#include "io_util.h"

/* Like check.h's MISUSE, for calls that return long and may answer -errno
 * without an error object (text NULL: no message to check). */
#define IO_MISUSE(call, code, text)                                               \
    do {                                                                       \
        long rc_ = (long)(call);                                               \
        if (rc_ != (long)(code)) {                                             \
            fprintf(stderr, "%s:%d: %s returned %ld, expected %s\n",          \
                    __FILE__, __LINE__, #call, rc_, #code);                    \
            exit(1);                                                           \
        }                                                                      \
        const char *want_ = (text);                                            \
        if (want_ && !strstr(last_message(), want_)) {                         \
            fprintf(stderr, "%s:%d: %s: message \"%s\" lacks \"%s\"\n",        \
                    __FILE__, __LINE__, #call, last_message(), want_);         \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

static int body(void *arg) {
    (void)arg;
    int sv[2];
    io_pair(sv);
    char b[4];
    IO_MISUSE(kin_wait_fd(-1, KIN_READABLE, 0), KIN_EINVAL, "bad fd -1");
    IO_MISUSE(kin_wait_fd(1 << 22, KIN_READABLE, 0), KIN_EINVAL, "bad fd");
    IO_MISUSE(kin_wait_fd(sv[0], 0, 0), KIN_EINVAL, "events must be");
    IO_MISUSE(kin_wait_fd(sv[0], 4, 0), KIN_EINVAL, "events must be");
    IO_MISUSE(kin_read(-1, b, 1), -EBADF, "kin_read: bad fd");
    IO_MISUSE(kin_read(sv[0], NULL, 1), KIN_EINVAL, "kin_read: buf is NULL");
    IO_MISUSE(kin_write(sv[0], NULL, 1), KIN_EINVAL, "kin_write: buf is NULL");
    IO_MISUSE(kin_recv(sv[0], NULL, 1, 0), KIN_EINVAL, "kin_recv: buf is NULL");
    IO_MISUSE(kin_send(-2, b, 1, 0), -EBADF, "kin_send: bad fd");
    IO_MISUSE(kin_accept(sv[0], (struct sockaddr *)b, NULL), KIN_EINVAL,
           "addr without addrlen");
    IO_MISUSE(kin_accept(-1, NULL, NULL), -EBADF, "kin_accept: bad fd");
    IO_MISUSE(kin_connect(sv[0], NULL, 0), KIN_EINVAL, "addr is NULL");
    IO_MISUSE(kin_close(-1), -EBADF, "kin_close: bad fd");
    IO_MISUSE(kin_set_nonblocking(-1), -EBADF, "bad fd");
    IO_MISUSE(kin_set_nonblocking(1 << 20), -EBADF, NULL); /* not open */
    struct addrinfo *res = NULL;
    IO_MISUSE(kin_getaddrinfo("localhost", NULL, NULL, NULL), KIN_EINVAL,
           "res is NULL");
    IO_MISUSE(kin_getaddrinfo(NULL, NULL, NULL, &res), KIN_EINVAL, "both NULL");
    /* a name that does not parse as a number, with AI_NUMERICHOST */
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST,
                             .ai_socktype = SOCK_STREAM};
    IO_MISUSE(kin_getaddrinfo("not-a-number", "80", &hints, &res), KIN_EADDRINFO,
           "getaddrinfo(not-a-number, 80): ");
    CHECK_STR(kin_error_type(kin_last_error()), "UnknownHostException");
    CHECK(res == NULL);
    CHECK_EQ(kin_getaddrinfo("127.0.0.1", "80", &hints, &res), 0);
    CHECK(res && res->ai_family == AF_INET);
    freeaddrinfo(res);
    /* a regular file is always ready */
    FILE *f = tmpfile();
    CHECK(f);
    CHECK_EQ(kin_wait_fd(fileno(f), KIN_READABLE | KIN_WRITABLE, -1),
             KIN_READABLE | KIN_WRITABLE);
    fclose(f);
    /* accept on a socket that does not listen: the system's error */
    IO_MISUSE(kin_accept(sv[0], NULL, NULL), -EINVAL, NULL);
    CHECK_EQ(kin_close(sv[0]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
    return 0;
}

int main(void) {
    char b[4];
    struct addrinfo *res;
    IO_MISUSE(kin_wait_fd(0, KIN_READABLE, 0), KIN_ENOTCORO, "outside a coroutine");
    IO_MISUSE(kin_read(0, b, 1), KIN_ENOTCORO, "kin_read: called outside");
    IO_MISUSE(kin_write(1, b, 1), KIN_ENOTCORO, "kin_write: called outside");
    IO_MISUSE(kin_recv(0, b, 1, 0), KIN_ENOTCORO, "kin_recv: called outside");
    IO_MISUSE(kin_send(1, b, 1, 0), KIN_ENOTCORO, "kin_send: called outside");
    IO_MISUSE(kin_accept(0, NULL, NULL), KIN_ENOTCORO, "kin_accept: called");
    IO_MISUSE(kin_connect(0, NULL, 0), KIN_ENOTCORO, "kin_connect: called");
    IO_MISUSE(kin_getaddrinfo("x", NULL, NULL, &res), KIN_ENOTCORO,
           "kin_getaddrinfo: called outside");
    /* not suspending: fine outside a coroutine */
    int sv[2];
    io_pair(sv);
    CHECK_EQ(kin_set_nonblocking(sv[0]), 0);
    CHECK_EQ(kin_close(sv[0]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_STR(kin_strerror(KIN_EADDRINFO), "address resolution failed");
    puts("test_io_misuse: ok");
    return 0;
}
