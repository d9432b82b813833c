/* The poller's backend (sched/poll.c, sched/poll_uring.c). Built with
 * -DKIN_POLLER=io_uring, the loops wait in io_uring rings, unless the
 * kernel refuses io_uring_setup (seccomp in a container, the
 * kernel.io_uring_disabled sysctl, an old kernel: ENOSYS, EPERM) or
 * KIN_POLLER=epoll is in the environment: then they use epoll, and
 * everything works the same. The default build always uses epoll.
 *
 * The backend is chosen once per process, so each case runs in a child
 * forked before kin starts: the real kernel (epoll under Valgrind);
 * KIN_POLLER=epoll; a seccomp
 * filter that makes io_uring_setup fail with EPERM, then with ENOSYS (what
 * Docker's default profile and a kernel without io_uring answer). Each
 * runs the same workload and checks which backend the loop used:
 *   - ping-pong with an echo coroutine on Default;
 *   - waits that time out, then readiness on the same fd, many times over,
 *     on fd numbers that are closed and reused (stale completions must not
 *     wake a later waiter or be lost);
 *   - no poll request outlives its wait: after a timed-out wait, a
 *     cancelled wait, and a kin_close from another thread while waited on,
 *     the peer sees EOF (an io_uring request still in flight would hold the
 *     socket open after close(2)). */
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "io_util.h"
#include "sched/scheduler.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define UNDER_VALGRIND() 0
#endif

/* ---- The workload ---------------------------------------------------------*/

static int echo(void *arg) {
    int fd = *(int *)arg;
    char b[64];
    long n;
    while ((n = kin_read(fd, b, sizeof b)) > 0)
        CHECK_EQ(kin_write(fd, b, (size_t)n), n);
    CHECK_EQ(n, 0);
    return 0;
}

static void ping_pong(void) {
    int sv[2];
    io_pair(sv);
    kin_launch_opts o = {.dispatcher = kin_dispatcher_default()};
    kin_job j;
    CHECK_EQ(kin_launch(&j, &o, echo, &sv[1]), 0);
    for (int i = 0; i < 200; i++) {
        char out[16], in[16];
        int len = snprintf(out, sizeof out, "m%d", i);
        CHECK_EQ(kin_write(sv[0], out, (size_t)len), len);
        long got = 0;
        while (got < len) {
            long n = kin_read(sv[0], in + got, sizeof in - (size_t)got);
            CHECK(n > 0);
            got += n;
        }
        CHECK(memcmp(in, out, (size_t)len) == 0);
    }
    CHECK_EQ(kin_close(sv[0]), 0); /* the echo reads EOF */
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
}

/* Timeouts, then readiness, on fds whose numbers are reused. */
static void timeouts_then_ready(void) {
    for (int round = 0; round < 20; round++) {
        int sv[2];
        io_pair(sv);
        for (int i = 0; i < 10; i++) {
            CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 1), 0);
            CHECK_EQ(write(sv[1], "x", 1), 1);
            char b;
            CHECK_EQ(kin_read(sv[0], &b, 1), 1);
            CHECK_EQ(b, 'x');
            /* no readiness left over: a short wait times out again */
            CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 1), 0);
        }
        CHECK_EQ(kin_close(sv[0]), 0);
        CHECK_EQ(kin_close(sv[1]), 0);
    }
}

/* The peer of a closed socket sees EOF at once (at most within timeout_ms:
 * a kin_close from another thread is finished by the waiter's home). */
static void check_eof(int peer, int timeout_ms) {
    struct pollfd p = {.fd = peer, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, timeout_ms), 1);
    char b;
    CHECK_EQ(recv(peer, &b, 1, MSG_DONTWAIT), 0);
}

static int read_one(void *arg) {
    int fd = *(int *)arg;
    char b;
    return (int)kin_read(fd, &b, 1) == -EBADF ? 0 : 1;
}

static int read_forever(void *arg) {
    int fd = *(int *)arg;
    char b;
    CHECK_EQ(kin_read(fd, &b, 1), KIN_ECANCELED); /* cancelled while waiting */
    return KIN_ECANCELED;
}

static int close_later(void *arg) {
    int fd = *(int *)arg;
    CHECK_EQ(kin_delay(20), 0);
    CHECK_EQ(kin_close(fd), 0);
    return 0;
}

static void nothing_outlives_a_wait(void) {
    int sv[2];
    /* a wait that timed out */
    io_pair(sv);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 5), 0);
    CHECK_EQ(close(sv[0]), 0); /* plain close(2): no kin record involved */
    check_eof(sv[1], 0);
    close(sv[1]);
    /* a wait that was cancelled */
    io_pair(sv);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, read_forever, &sv[0]), 0);
    CHECK_EQ(kin_delay(5), 0);
    CHECK_EQ(kin_cancel_and_join(j), 0);
    CHECK_EQ(close(sv[0]), 0);
    check_eof(sv[1], 0);
    close(sv[1]);
    /* kin_close on a Default thread while this loop waits on the fd */
    io_pair(sv);
    kin_launch_opts o = {.dispatcher = kin_dispatcher_default()};
    kin_job r, c;
    CHECK_EQ(kin_launch(&r, NULL, read_one, &sv[0]), 0);
    CHECK_EQ(kin_launch(&c, &o, close_later, &sv[0]), 0);
    CHECK_EQ(kin_join(c), 0);
    CHECK_EQ(kin_join(r), 0); /* read_one got -EBADF */
    check_eof(sv[1], 5000);
    close(sv[1]);
}

typedef struct expect {
    const char *kind;
} expect;

static int body(void *arg) {
    expect *e = arg;
    ping_pong();
    timeouts_then_ready();
    nothing_outlives_a_wait();
    CHECK_STR(kin__poller_kind(kin__worker_self()), e->kind);
    return 0;
}

/* ---- The cases --------------------------------------------------------------*/

/* Makes io_uring_setup fail with err in this process (and its threads). */
static bool refuse_io_uring(int err) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K,
                 SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return false;
    /* the filter must bite, or the case proves nothing */
    struct io_uring_params p = {0};
    errno = 0;
    return syscall(__NR_io_uring_setup, 4, &p) < 0 && errno == err;
}

/* What a build with io_uring should pick on this kernel: io_uring_setup
 * works and has what kin needs (EXT_ARG, NODROP), or epoll. Under
 * Valgrind, epoll (its io_uring_enter would stop every thread). */
static const char *kernel_choice(void) {
#if KIN_POLL_URING
    if (UNDER_VALGRIND())
        return "epoll";
    struct io_uring_params p = {0};
    int fd = (int)syscall(__NR_io_uring_setup, 4, &p);
    if (fd < 0)
        return "epoll";
    close(fd);
    if ((p.features & (IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP)) !=
        (IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP))
        return "epoll";
    return "io_uring";
#else
    return "epoll";
#endif
}

enum { REAL, ENV_EPOLL, SECCOMP_EPERM, SECCOMP_ENOSYS };
static const char *const names[] = {"the kernel as it is", "KIN_POLLER=epoll",
                                    "io_uring_setup -> EPERM",
                                    "io_uring_setup -> ENOSYS"};

static void run_case(int c) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        expect e = {"epoll"};
        if (c == REAL) {
            e.kind = kernel_choice();
        } else if (c == ENV_EPOLL) {
            setenv("KIN_POLLER", "epoll", 1);
        } else if (!refuse_io_uring(c == SECCOMP_EPERM ? EPERM : ENOSYS)) {
            printf("  %s: seccomp unavailable here, skipped\n", names[c]);
            fflush(stdout);
            _exit(0);
        }
        CHECK_EQ(kin_run_blocking(body, &e), 0);
        printf("  %s: %s, ok\n", names[c], e.kind);
        fflush(stdout);
        exit(0);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "case \"%s\" failed\n", names[c]);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void) {
    fflush(stdout);
    for (int c = REAL; c <= SECCOMP_ENOSYS; c++)
        run_case(c);
    puts("test_io_backend: ok");
    return 0;
}
