/* Stack overflow is reported, never silent: in a child process a coroutine
 * overflows its stack; the process must die of SIGABRT after printing
 *   kin: stack overflow in coroutine 'NAME' (stack of N bytes)
 * In guard mode (the default) by the guard page (a page-table marker on
 * Linux 6.13 and later; "map": a PROT_NONE mapping of its own, as on older
 * kernels, forced with KIN_STACK_GUARD=map); in canary mode
 * (KIN_STACK_GUARD=0, what kin falls back to when vm.max_map_count rules
 * out more guard pages) by the canary check at the next switch, or by the
 * stack-pointer check when a runaway recursion finally faults. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static volatile int keep_going = 1;

static int depth(int n) {
    volatile char pad[256];
    pad[0] = (char)n;
    if (!keep_going) /* always true: hides the recursion from the compiler */
        return 0;
    return depth(n + 1) + pad[0];
}

static int runaway(void *arg) {
    (void)arg;
    return depth(0);
}

static int bounded(void *arg) {
    (void)arg;
    /* Overrun the 64 KiB stack by a little, then switch away. */
    char *p = __builtin_alloca(64 * 1024 + 512);
    memset(p, 1, 64 * 1024 + 512);
    __asm__ __volatile__("" ::"r"(p) : "memory");
    return kin_yield();
}

static int child_body(void *arg) {
    kin_launch_opts o = {.name = "deep", .stack_size = 64 * 1024};
    KIN_TRY(kin_launch(NULL, &o, (kin_fn)arg, NULL));
    return kin_yield();
}

static void expect_death(const char *self, const char *mode, const char *what) {
    int pipefd[2];
    CHECK_EQ(pipe(pipefd), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        if (strcmp(mode, "canary") == 0)
            setenv("KIN_STACK_GUARD", "0", 1);
        else if (strcmp(mode, "map") == 0)
            setenv("KIN_STACK_GUARD", "map", 1);
        const char *emu = getenv("KIN_TEST_EMULATOR");
        if (emu && *emu)
            execlp(emu, emu, self, "child", what, (char *)NULL);
        else
            execl(self, self, "child", what, (char *)NULL);
        _exit(99);
    }
    close(pipefd[1]);
    char buf[1024] = {0};
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 &&
           (r = read(pipefd[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    close(pipefd[0]);
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    fprintf(stderr, "[%s/%s] %s", mode, what, buf);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGABRT);
    CHECK(strstr(buf, "kin: stack overflow in coroutine 'deep#") != NULL);
    CHECK(strstr(buf, "' (stack of 65536 bytes)\n") != NULL);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#endif

int main(int argc, char **argv) {
#ifdef UNDER_SANITIZER
    /* The sanitizer's own SIGSEGV handler reports overflows in these
     * builds; kin leaves it in place. */
    (void)argc, (void)argv, (void)expect_death;
    return 77;
#endif
    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        kin_fn fn = strcmp(argv[2], "runaway") == 0 ? runaway : bounded;
        kin_run_blocking(child_body, (void *)fn);
        return 0; /* not reached */
    }
    expect_death(argv[0], "guard", "runaway");
    expect_death(argv[0], "guard", "bounded");
    expect_death(argv[0], "map", "runaway");
    expect_death(argv[0], "map", "bounded");
    expect_death(argv[0], "canary", "bounded");
    expect_death(argv[0], "canary", "runaway");
    return 0;
}
