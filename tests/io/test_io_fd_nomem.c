/* The fd records' chunk cannot be allocated (sched/poll.c): a system call
 * on an fd whose chunk of records does not exist yet makes it in
 * kin__fd_use_begin, and when that allocation fails the call goes ahead
 * uncounted (the shared record that never closes) instead of failing:
 *   1  the first kin call on fds 0..1023, its chunk allocation failing:
 *      kin_read still reads, and that chunk was the only allocation;
 *   2  the next call makes the chunk and works, waits too;
 *   3  kin_close of that fd closes it;
 *   4  kin_close of an fd whose chunk cannot be made closes it all the
 *      same (skipped where RLIMIT_NOFILE keeps fds below 1024).
 * Needs a build with -DKIN_FAULT_INJECTION=ON (elsewhere: skipped). */
#include <sys/resource.h>

#include "io_util.h"

/* fault.c's controls, present only in fault-injection builds */
extern void kin__fault_arm(long nth) __attribute__((weak));
extern long kin__fault_count(void) __attribute__((weak));

/* An fd >= 1024 (in the table's second chunk) open on the same file as
 * fd, or -1 if the limit does not allow it. */
static int high_dup(int fd) {
    struct rlimit rl;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < 2048 && rl.rlim_max >= 2048) {
        rl.rlim_cur = 2048;
        CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    if (rl.rlim_cur < 2048)
        return -1;
    return dup2(fd, 1500);
}

static int body(void *arg) {
    (void)arg;
    int sv[2];
    io_pair(sv);
    CHECK(sv[0] < 1024 && sv[1] < 1024);
    CHECK_EQ(write(sv[1], "ab", 2), 2);
    char b = 0;

    EXPECT(1);
    kin__fault_arm(1); /* the next allocation kin makes fails */
    CHECK_EQ(kin_read(sv[0], &b, 1), 1);
    CHECK_EQ(b, 'a');
    CHECK_EQ(kin__fault_count(), 1); /* the chunk, and nothing else */

    EXPECT(2);
    CHECK_EQ(kin_read(sv[0], &b, 1), 1);
    CHECK_EQ(b, 'b');
    CHECK(kin__fault_count() >= 2); /* the chunk, made this time */
    kin__fault_arm(0);
    CHECK_EQ(kin_wait_fd(sv[0], KIN_READABLE, 10), 0); /* times out */

    EXPECT(3);
    CHECK_EQ(kin_close(sv[0]), 0);
    errno = 0;
    CHECK(fcntl(sv[0], F_GETFD) < 0 && errno == EBADF);

    EXPECT(4);
    int hi = high_dup(sv[1]);
    if (hi < 0) {
        puts("  4: RLIMIT_NOFILE below 2048, skipped");
    } else {
        CHECK_EQ(hi, 1500);
        kin__fault_arm(1);
        CHECK_EQ(kin_close(hi), 0);
        CHECK_EQ(kin__fault_count(), 1);
        kin__fault_arm(0);
        errno = 0;
        CHECK(fcntl(hi, F_GETFD) < 0 && errno == EBADF);
    }
    CHECK_EQ(kin_close(sv[1]), 0);
    return 0;
}

int main(void) {
    if (!kin__fault_arm)
        return 77; /* not a fault-injection build */
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    FINISH(5);
    puts("test_io_fd_nomem: ok");
    return 0;
}
