/* kin_dump: the tree of live jobs, one line each, with what each waits for;
 * launch sites in debug builds; safe from any thread while others launch
 * and complete; streams a big tree without holding it in memory; and the
 * signal-triggered dump. */
#undef NDEBUG /* record launch sites in this file, as a debug build does */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"
#include "dump_lines.h"

static int sleeper(void *arg) {
    (void)arg;
    return kin_delay(60000);
}

static int value(void *arg, void **out) {
    (void)arg;
    KIN_TRY(kin_delay(60000));
    *out = "v";
    return 0;
}

static int waiter(void *arg) {
    return kin_await(*(kin_job *)arg, NULL);
}

static int inner_scope(void *arg) {
    (void)arg;
    return kin_launch(NULL, &(kin_launch_opts){.name = "inner"}, sleeper, NULL);
}

static int parent(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, &(kin_launch_opts){.name = "kid"}, sleeper, NULL));
    return kin_coroutine_scope(inner_scope, NULL);
}

static int body(void *arg) {
    kin_scope *server = arg;
    kin_job v, w, p, lazy;
    KIN_TRY(kin_async(&v, &(kin_launch_opts){.name = "value"}, value, NULL));
    KIN_TRY(kin_launch(&w, &(kin_launch_opts){.name = "waiter"}, waiter, &v));
    KIN_TRY(kin_launch(&p, &(kin_launch_opts){.name = "parent"}, parent, NULL));
    KIN_TRY(kin_launch(
        &lazy, &(kin_launch_opts){.name = "lazy", .start = KIN_START_LAZY},
        sleeper, NULL));
    KIN_TRY(kin_scope_launch(*server, NULL, &(kin_launch_opts){.name = "conn"},
                             sleeper, NULL));
    for (int i = 0; i < 5; i++)
        KIN_TRY(kin_yield());

    char *d = dump_to_string();
    CHECK(find_line(d, "run_blocking 'run_blocking#", "[ACTIVE] on Main",
                    "(thread"));
    CHECK(find_line(d, "  async 'value#", "kin_delay (due in", "KiB touched"));
    CHECK(find_line(d, "  launch 'waiter#", "suspended awaiting value#",
                    "test_dump.c:"));
    CHECK(find_line(d, "  launch 'parent#",
                    "waiting for the children of scope#", "; 2 children"));
    CHECK(find_line(d, "    launch 'kid#", "kin_delay", NULL));
    CHECK(find_line(d, "    scope 'scope#", "; 1 child", NULL));
    CHECK(find_line(d, "      launch 'inner#", "kin_delay", "launched at"));
    CHECK(find_line(d, "  launch 'lazy#", "[NEW]", "lazy, not started"));
    CHECK(find_line(d, "scope object 'server#", "[ACTIVE] on Main", "1 child"));
    CHECK(find_line(d, "  launch 'conn#", "kin_delay", NULL));
    CHECK(find_line(d, "(2 roots, ", NULL, NULL));
    free(d);

    KIN_TRY(kin_cancel(p, NULL));
    KIN_TRY(kin_cancel(v, NULL));
    KIN_TRY(kin_cancel(lazy, NULL));
    KIN_TRY(kin_join(w));
    KIN_TRY(kin_join(p));
    return 0;
}

/* ---- Concurrency: dumps while Default launches and completes --------- */

static atomic_int stop_dumping;

static void *dumper(void *arg) {
    (void)arg;
    FILE *null = fopen("/dev/null", "w");
    CHECK(null);
    while (!atomic_load(&stop_dumping))
        CHECK(kin_dump(null) >= 0);
    fclose(null);
    return NULL;
}

static int tiny(void *arg) {
    (void)arg;
    return kin_yield();
}

static int churn(void *arg) {
    (void)arg;
    for (int round = 0; round < 50; round++)
        for (int i = 0; i < 200; i++)
            KIN_TRY(kin_launch(NULL, NULL, tiny, NULL));
    return 0;
}

static int churn_on_default(void *arg) {
    (void)arg;
    return kin_with_context(kin_dispatcher_default(), churn, NULL);
}

/* ---- A big tree, streamed --------------------------------------------- */

static long lines, bytes;
static ssize_t count_write(void *c, const char *buf, size_t n) {
    (void)c;
    for (size_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    bytes += (long)n;
    return (ssize_t)n;
}

static int big_scope(void *arg) {
    long n = *(long *)arg;
    for (long i = 0; i < n; i++)
        KIN_TRY(kin_launch(NULL, NULL, sleeper, NULL));
    KIN_TRY(kin_yield());
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    FILE *f =
        fopencookie(NULL, "w", (cookie_io_functions_t){.write = count_write});
    CHECK(f);
    setvbuf(f, NULL, _IOFBF, 4096);
    int printed = kin_dump(f);
    fclose(f);
    getrusage(RUSAGE_SELF, &after);
    CHECK(printed >= n);
    CHECK(lines >= n);
    /* Streamed: the peak RSS (parked coroutines at their peak already) grows
     * by far less than the text, which a dump that built it in memory
     * first would add (ru_maxrss is in KiB). */
    if (test_measures_memory())
        CHECK(after.ru_maxrss - before.ru_maxrss < bytes / 1024 / 4);
    kin_cancel(kin_current_job(), NULL);
    return 0;
}

static int big(void *arg) {
    int rc = kin_coroutine_scope(big_scope, arg);
    CHECK(rc == 0 || rc == KIN_ECANCELED);
    return 0;
}

int main(void) {
    kin_scope server;
    CHECK_EQ(
        kin_scope_new(&server,
                      &(kin_scope_opts){.name = "server",
                                        .dispatcher = kin_dispatcher_main()}),
        0);
    CHECK_EQ(kin_run_blocking(body, &server), 0);
    CHECK_EQ(kin_scope_close(server), 0);

    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, dumper, NULL), 0);
    CHECK_EQ(kin_run_blocking(churn_on_default, NULL), 0);
    atomic_store(&stop_dumping, 1);
    pthread_join(t, NULL);

    /* 100,000 lines (about 20 MB of text): a million took 45 s here, nearly
     * all of it the first touch of a million stacks (test_million has that) */
    long n = test_scale_parked(100000);
    CHECK_EQ(kin_run_test(big, &n), 0);

    /* On a signal: the dump arrives on the pipe. */
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    CHECK_EQ(kin_dump_on_signal(SIGUSR1, fds[1]), 0);
    CHECK_EQ(kin_dump_on_signal(SIGKILL, fds[1]), KIN_EINVAL);
    CHECK_EQ(kin_dump_on_signal(SIGUSR1, -1), KIN_EINVAL);
    raise(SIGUSR1);
    char buf[256] = {0};
    ssize_t r = read(fds[0], buf, sizeof buf - 1);
    CHECK(r > 0);
    CHECK(strstr(buf, "live jobs") != NULL);
    CHECK_EQ(kin_dump(NULL), KIN_EINVAL);
    CHECK_EQ(kin_shutdown(), 0);
    return 0;
}
