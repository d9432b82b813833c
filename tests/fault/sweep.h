/* sweep.h — the driver of a failure-injection sweep: for N = 1, 2, ... the
 * program runs itself again as "PROG child N", a child process in which
 * the Nth allocation kin makes fails. The child runs the workload and
 * exits 0 (done, the fault was hit), 3 (it made fewer than N allocations:
 * the sweep is over) or anything else (a failure: reported with N). */
#ifndef KIN_TESTS_FAULT_SWEEP_H
#define KIN_TESTS_FAULT_SWEEP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Returns main's exit status: 0 when at least min_faults faults were
 * injected and each child passed, 1 otherwise. A call with argv
 * "child N" runs child(N) instead and returns its status. */
static inline int fault_sweep_main(int argc, char **argv, int (*child)(long n),
                                   long min_faults) {
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return child(atol(argv[2]));
    long n;
    for (n = 1; n < 100000; n++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            char buf[32];
            snprintf(buf, sizeof buf, "%ld", n);
            execl(argv[0], argv[0], "child", buf, (char *)NULL);
            _exit(99);
        }
        int status;
        CHECK_EQ(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
            break;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "fault at allocation %ld: %s %d\n", n,
                    WIFSIGNALED(status) ? "killed by signal" : "exit",
                    WIFSIGNALED(status) ? WTERMSIG(status)
                                        : WEXITSTATUS(status));
            return 1;
        }
    }
    fprintf(stderr, "%ld allocation failures injected, each reported\n",
            n - 1);
    CHECK(n - 1 >= min_faults);
    return 0;
}

#endif
