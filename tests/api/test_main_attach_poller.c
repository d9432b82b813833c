/* kin_main_attach and the thread's fd poller. A hosted loop's host waits on
 * an epoll fd, which an io_uring ring does not give:
 *   1  a thread whose kin_run_blocking already waited on an fd has its
 *      poller: built with -DKIN_POLLER=io_uring (and a kernel that allows
 *      it) that is a ring, and kin_main_attach returns KIN_EBUSY with a
 *      message naming io_uring, leaving Main to kin_run_blocking; with an
 *      epoll (the default build, or io_uring refused) it attaches;
 *   2  a thread that attaches first gets an epoll for its fd waits in
 *      every build, and kin_main_fd is that epoll.
 * Each case runs in a child process: Main belongs to one thread for the
 * life of a process. */
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sched/scheduler.h"

static const char *g_kind; /* the poller of the thread that waited */
static int g_waited;

/* Waits 10 ms on an empty socket: the wait makes the thread's poller. */
static int wait_once(void *arg) {
    (void)arg;
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 10), 0); /* timed out */
    g_kind = kin__poller_kind(kin__worker_self());
    CHECK(g_kind != NULL);
    CHECK_EQ(kin_close(sv[0]), 0);
    CHECK_EQ(kin_close(sv[1]), 0);
    g_waited = 1;
    return 0;
}

static void poller_first(void) {
    CHECK_EQ(kin_run_blocking(wait_once, NULL), 0);
    if (strcmp(g_kind, "io_uring") == 0) {
        MISUSE(kin_main_attach(), KIN_EBUSY, "io_uring");
        MISUSE(kin_main_fd(), KIN_EPERM, "not hosted");
        CHECK_EQ(kin_run_blocking(wait_once, NULL), 0); /* Main still works */
    } else {
        CHECK_STR(g_kind, "epoll");
        CHECK_EQ(kin_main_attach(), 0);
        CHECK(kin_main_fd() >= 0);
        CHECK_EQ(kin_main_detach(), 0);
    }
    printf("  1: poller first (%s): %s\n", g_kind,
           strcmp(g_kind, "io_uring") == 0 ? "KIN_EBUSY" : "attached");
}

static void attach_first(void) {
    CHECK_EQ(kin_main_attach(), 0);
    CHECK_EQ(kin_scope_launch(kin_global_scope(), NULL,
                              &(kin_launch_opts){.dispatcher =
                                                     kin_dispatcher_main()},
                              wait_once, NULL),
             0);
    for (int turns = 0; !g_waited; turns++) {
        CHECK(turns < 1000); /* 10 s */
        int t = kin_main_timeout_ms();
        CHECK(t >= -1);
        struct pollfd p = {.fd = kin_main_fd(), .events = POLLIN};
        CHECK(poll(&p, 1, t < 0 || t > 10 ? 10 : t) >= 0);
        CHECK(kin_main_run_ready() >= 0);
    }
    CHECK_STR(g_kind, "epoll");
    CHECK_EQ(kin_main_detach(), 0);
    printf("  2: attach first: %s\n", g_kind);
}

static void in_child(int step, void (*fn)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        fn();
        fflush(stdout);
        exit(0);
    }
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "step %d failed\n", step);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT(step);
}

int main(void) {
    in_child(1, poller_first);
    in_child(2, attach_first);
    FINISH(3);
    puts("test_main_attach_poller: ok");
    return 0;
}
