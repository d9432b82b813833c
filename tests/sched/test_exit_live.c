/* A program that returns from main while coroutines are alive on the pools
 * (suspended in a delay, or spinning without ever suspending) exits at once
 * with main's status: the coroutines are abandoned like daemon threads and
 * their cleanup does not run (documented at kin_shutdown). Runs itself as a
 * child process and checks how it ends. */
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static atomic_int spinning;

static int sleeper(void *arg) {
    (void)arg;
    int rc = kin_delay(100000000);
    printf("cleanup ran\n"); /* must not appear */
    return rc;
}

static int spinner(void *arg) {
    (void)arg;
    atomic_store(&spinning, 1);
    for (;;) {
    }
    return 0;
}

static int child(void) {
    for (int i = 0; i < 20; i++)
        CHECK_EQ(
            kin_scope_launch(kin_global_scope(), NULL, NULL, sleeper, NULL), 0);
    CHECK_EQ(kin_scope_launch(kin_global_scope(), NULL, NULL, spinner, NULL),
             0);
    while (!atomic_load(&spinning))
        usleep(1000);
    printf("main returns\n");
    return 7;
}

int main(int argc, char **argv) {
    if (argc > 1)
        return child();
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        const char *emu = getenv("KIN_TEST_EMULATOR");
        if (emu && *emu)
            execlp(emu, emu, argv[0], "child", (char *)NULL);
        else
            execl(argv[0], argv[0], "child", (char *)NULL);
        _exit(99);
    }
    close(fds[1]);
    char buf[256] = {0};
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 &&
           (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 7);
    CHECK_STR(buf, "main returns\n");
    CHECK(secs < 30); /* "at once": no hang waiting for the spinner */
    return 0;
}
