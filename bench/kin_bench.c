/*
 * kin_bench.c — kin's side of the benchmarks (bench/peers/ has the same
 * scenarios for kotlinx.coroutines and Go).
 *
 *   kin-bench SCENARIO N [REPS]
 *
 * prints, per repetition, one line
 *
 *   SCENARIO n=N check=C ms=M ns/op=X minflt/op=F
 *
 * where check is computed from the work (nothing can be skipped),
 * ns/op = ms * 1e6 / N and minflt/op is the process's minor page faults
 * (getrusage ru_minflt) during the repetition divided by N: a first touch
 * of fresh memory costs a fault, which in a VM can cost more than the rest
 * of a spawn. It uses only kin's public API, as a user's program
 * would. Each scenario is written the way the peers write it (see
 * bench/peers/README.md): same structure, same work, same thread counts.
 *
 * Two more instruments, for the numbers that wall time on a shared machine
 * cannot give:
 *   - KIN_BENCH_MALLOC=1 prints "mallocs/op: X" on stderr for each
 *     repetition (malloc, calloc and realloc calls made by kin inside the
 *     timed region; kin-bench links with -Wl,--wrap for them).
 *   - Under `valgrind --tool=callgrind --instr-atstart=no`, only the timed
 *     region is counted (callgrind client requests), so the total divided by
 *     N is instructions per op (scripts/bench.sh does this).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <kin.h>

#if defined(KIN_BENCH_CALLGRIND)
#include <valgrind/callgrind.h>
#define COUNT_START() CALLGRIND_START_INSTRUMENTATION
#define COUNT_STOP() CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_ZERO() CALLGRIND_ZERO_STATS
#else
#define COUNT_START() ((void)0)
#define COUNT_STOP() ((void)0)
#define CALLGRIND_ZERO() ((void)0)
#endif

/* ---- malloc counting (link with -Wl,--wrap=malloc,--wrap=calloc,...) ---- */

static atomic_long g_mallocs;
static atomic_int g_counting;

#if defined(KIN_BENCH_WRAP_MALLOC)
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n) {
    if (atomic_load_explicit(&g_counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&g_mallocs, 1, memory_order_relaxed);
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
    if (atomic_load_explicit(&g_counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&g_mallocs, 1, memory_order_relaxed);
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
    if (atomic_load_explicit(&g_counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&g_mallocs, 1, memory_order_relaxed);
    return __real_realloc(p, n);
}
#endif

/* ---- helpers ----------------------------------------------------------- */

static long g_n;
static long minflt(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* ---- spawn --------------------------------------------------------------- */

static long g_done; /* one thread: a plain counter, as the peers use */
static atomic_long g_done_mt;

static int empty_child(void *arg) {
    (void)arg;
    g_done++;
    return 0;
}

static int spawn_scope(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++)
        KIN_TRY(kin_launch(NULL, NULL, empty_child, NULL));
    return 0;
}

static int spawn(long *check) {
    g_done = 0;
    KIN_TRY(kin_coroutine_scope(spawn_scope, NULL));
    *check = g_done;
    return 0;
}

/* ---- spawn_mt ------------------------------------------------------------ */

static int empty_child_mt(void *arg) {
    (void)arg;
    atomic_fetch_add_explicit(&g_done_mt, 1, memory_order_relaxed);
    return 0;
}

static int spawn_mt_scope(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++)
        KIN_TRY(kin_launch(NULL, NULL, empty_child_mt, NULL));
    return 0;
}

static int spawn_mt_on_default(void *arg) {
    (void)arg;
    return kin_coroutine_scope(spawn_mt_scope, NULL);
}

static int spawn_mt(long *check) {
    atomic_store(&g_done_mt, 0);
    KIN_TRY(
        kin_with_context(kin_dispatcher_default(), spawn_mt_on_default, NULL));
    *check = atomic_load(&g_done_mt);
    return 0;
}

/* ---- spawn_cpu ----------------------------------------------------------- */

static long g_spin_iters;

static uint64_t spin(long iters, uint64_t seed) {
    uint64_t x = seed | 1; /* xorshift64, as the peers */
    for (long k = 0; k < iters; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

/* The fastest of many ~10 us runs, as the peers calibrate. */
static void calibrate_spin(void) {
    if (g_spin_iters)
        return;
    volatile uint64_t sink = 0;
    long iters = 4096;
    for (int round = 0; round < 3; round++) {
        double best = 1e30;
        for (int k = 0; k < 2000; k++) {
            double t0 = now_ms();
            sink += spin(iters, sink);
            double dt = now_ms() - t0;
            if (dt < best)
                best = dt;
        }
        iters = (long)((double)iters * 0.010 / best);
        if (iters < 1)
            iters = 1;
    }
    g_spin_iters = iters;
    fprintf(stderr, "spawn_cpu: %ld iterations per child (~10 us)\n", iters);
}

static int cpu_child(void *arg) {
    if (spin(g_spin_iters, (uint64_t)(uintptr_t)arg + 1) != 0)
        atomic_fetch_add_explicit(&g_done_mt, 1, memory_order_relaxed);
    return 0;
}

static int spawn_cpu_scope(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++)
        KIN_TRY(kin_launch(NULL, NULL, cpu_child, (void *)(uintptr_t)i));
    return 0;
}

static int spawn_cpu_on_default(void *arg) {
    (void)arg;
    return kin_coroutine_scope(spawn_cpu_scope, NULL);
}

static int spawn_cpu(long *check) {
    atomic_store(&g_done_mt, 0);
    KIN_TRY(
        kin_with_context(kin_dispatcher_default(), spawn_cpu_on_default, NULL));
    *check = atomic_load(&g_done_mt);
    return 0;
}

/* ---- yield --------------------------------------------------------------- */

static long g_yields;

static int yielder(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++) {
        KIN_TRY(kin_yield());
        g_yields++;
    }
    return 0;
}

static int yield_scope(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, yielder, NULL));
    KIN_TRY(kin_launch(NULL, NULL, yielder, NULL));
    return 0;
}

static int yield_bench(long *check) {
    g_yields = 0;
    KIN_TRY(kin_coroutine_scope(yield_scope, NULL));
    *check = g_yields;
    return 0;
}

/* ---- suspend: two coroutines hand the turn to each other by hand -------
 * Like yield, but each suspends in kin_suspend and the other resumes it:
 * the cost of one suspension and one kin_resume from the same thread.
 * kin only (no peer program has it yet). */

static kin_cont g_turn; /* the continuation of the coroutine that waits */

static void hand_over(kin_cont cont, void *arg) {
    (void)arg;
    kin_cont other = g_turn;
    g_turn = cont;
    if (other.seq)
        kin_resume(other, NULL);
}

static int suspender(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++) {
        KIN_TRY(kin_suspend(hand_over, NULL, NULL));
        g_yields++;
    }
    if (kin_cont_is_active(g_turn)) /* the other's last suspension */
        KIN_TRY(kin_resume(g_turn, NULL));
    return 0;
}

static int suspend_scope(void *arg) {
    (void)arg;
    KIN_TRY(kin_launch(NULL, NULL, suspender, NULL));
    KIN_TRY(kin_launch(NULL, NULL, suspender, NULL));
    return 0;
}

static int suspend_bench(long *check) {
    g_yields = 0;
    g_turn = (kin_cont){0, 0};
    KIN_TRY(kin_coroutine_scope(suspend_scope, NULL));
    *check = g_yields;
    return 0;
}

/* ---- async --------------------------------------------------------------- */

static int identity(void *arg, void **out) {
    *out = arg;
    return 0;
}

static kin_job *g_jobs;

static int async_scope(void *arg) {
    long *sum = arg;
    for (long i = 0; i < g_n; i++)
        KIN_TRY(kin_async(&g_jobs[i], NULL, identity, (void *)(intptr_t)i));
    for (long i = 0; i < g_n; i++) {
        void *v;
        KIN_TRY(kin_await(g_jobs[i], &v));
        *sum += (long)(intptr_t)v;
    }
    return 0;
}

static int async_bench(long *check) {
    long sum = 0;
    /* The scope owns the handles (kin.h L2): all released when it ends. */
    KIN_TRY(kin_coroutine_scope(async_scope, &sum));
    *check = sum;
    return 0;
}

/* ---- park and timers ------------------------------------------------------ */

static long g_woke;

static int park_child(void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(1000));
    g_woke++;
    return 0;
}

static int park_scope(void *arg) {
    kin_fn child = (kin_fn)arg;
    for (long i = 0; i < g_n; i++)
        KIN_TRY(kin_launch(NULL, NULL, child, (void *)(intptr_t)i));
    return 0;
}

static int park(long *check) {
    g_woke = 0;
    KIN_TRY(kin_coroutine_scope(park_scope, (void *)park_child));
    *check = g_woke;
    return 0;
}

static int timer_child(void *arg) {
    KIN_TRY(kin_delay((int64_t)((intptr_t)arg % 1000)));
    g_woke++;
    return 0;
}

static int timers(long *check) {
    g_woke = 0;
    KIN_TRY(kin_coroutine_scope(park_scope, (void *)timer_child));
    *check = g_woke;
    return 0;
}

/* ---- cancel -------------------------------------------------------------- */

static long g_started, g_cancelled;
static double g_cancel_only_ms;

static int long_sleeper(void *arg) {
    (void)arg;
    g_started++;
    int rc = kin_delay(3600 * 1000);
    if (rc == KIN_ECANCELED)
        g_cancelled++;
    return rc;
}

static int cancel_parent(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++)
        KIN_TRY(kin_launch(NULL, NULL, long_sleeper, NULL));
    return 0;
}

static int cancel_bench(long *check) {
    g_started = g_cancelled = 0;
    kin_job parent;
    KIN_TRY(kin_launch(&parent, NULL, cancel_parent, NULL));
    while (g_started < g_n) /* every child is now suspended in its delay */
        KIN_TRY(kin_yield());
    /* Under callgrind, count the cancel-only part (the figure that matters). */
    COUNT_STOP();
    CALLGRIND_ZERO();
    COUNT_START();
    double t0 = now_ms();
    KIN_TRY(kin_cancel(parent, NULL));
    KIN_TRY(kin_join(parent));
    g_cancel_only_ms = now_ms() - t0;
    KIN_TRY(kin_job_release(parent));
    *check = g_cancelled;
    return 0;
}

/* ---- supervise ------------------------------------------------------------ */

static int maybe_fail(void *arg, void **out) {
    if ((intptr_t)arg % 10 == 0)
        return kin_fail("Failure", "child failed");
    *out = (void *)(intptr_t)1;
    return 0;
}

static int supervise_scope(void *arg) {
    long *sum = arg;
    for (long i = 0; i < g_n; i++)
        KIN_TRY(kin_async(&g_jobs[i], NULL, maybe_fail, (void *)(intptr_t)i));
    for (long i = 0; i < g_n; i++) {
        void *v;
        int rc = kin_await(g_jobs[i], &v);
        if (rc == 0)
            *sum += (long)(intptr_t)v;
        else if (rc != KIN_EFAILED) /* expected: the failure, at await */
            return rc;
    }
    return 0;
}

static int supervise(long *check) {
    long sum = 0;
    KIN_TRY(kin_supervisor_scope(supervise_scope, &sum));
    *check = sum;
    return 0;
}

/* ---- with_context --------------------------------------------------------- */

static int echo(void *arg) {
    long *v = arg;
    *v = *v + 1;
    return 0;
}

static int with_context_bench(long *check) {
    long ok = 0;
    for (long i = 0; i < g_n; i++) {
        long v = i;
        KIN_TRY(kin_with_context(kin_dispatcher_io(), echo, &v));
        if (v == i + 1)
            ok++;
    }
    *check = ok;
    return 0;
}

/* ---- channels --------------------------------------------------------------- */

static kin_channel g_ping, g_pong;

static int ponger(void *arg) {
    (void)arg;
    for (long i = 0; i < g_n; i++) {
        long v;
        KIN_TRY(kin_channel_receive(g_ping, &v, sizeof v));
        v++;
        KIN_TRY(kin_channel_send(g_pong, &v, sizeof v));
    }
    return 0;
}

/* One round trip: ping -> ponger, pong -> back, two coroutines on one
 * thread over rendezvous channels. */
static int chan_pingpong(long *check) {
    KIN_TRY(kin_channel_new(&g_ping, sizeof(long), NULL));
    KIN_TRY(kin_channel_new(&g_pong, sizeof(long), NULL));
    kin_job j;
    KIN_TRY(kin_launch(&j, NULL, ponger, NULL));
    long ok = 0;
    for (long i = 0; i < g_n; i++) {
        long v = i;
        KIN_TRY(kin_channel_send(g_ping, &v, sizeof v));
        KIN_TRY(kin_channel_receive(g_pong, &v, sizeof v));
        if (v == i + 1)
            ok++;
    }
    KIN_TRY(kin_join(j));
    KIN_TRY(kin_job_release(j));
    kin_channel_destroy(g_ping);
    kin_channel_destroy(g_pong);
    *check = ok;
    return 0;
}

static int buffered_producer(void *arg) {
    kin_channel ch = *(kin_channel *)arg;
    for (long i = 0; i < g_n; i++)
        KIN_TRY(kin_channel_send(ch, &i, sizeof i));
    return 0;
}

/* N elements through a 1024-element buffer, one producer, one consumer. */
static int chan_buffered(long *check) {
    kin_channel ch;
    KIN_TRY(kin_channel_new(&ch, sizeof(long),
                            &(kin_channel_opts){.capacity = 1024}));
    kin_job j;
    KIN_TRY(kin_launch(&j, NULL, buffered_producer, &ch));
    long sum = 0;
    for (long i = 0; i < g_n; i++) {
        long v;
        KIN_TRY(kin_channel_receive(ch, &v, sizeof v));
        sum += v == i;
    }
    KIN_TRY(kin_join(j));
    KIN_TRY(kin_job_release(j));
    kin_channel_destroy(ch);
    *check = sum;
    return 0;
}

/* ---- driver --------------------------------------------------------------- */

/* ---- mutex -------------------------------------------------------------- */

/* 1,000 coroutines on Default each lock a Mutex, increment a plain counter
 * and unlock, N/1,000 times (N in total; fewer coroutines if N < 1,000).
 * With BENCH_THREADS=1 nobody ever finds the mutex locked (the critical
 * section does not suspend), so that figure is the uncontended
 * lock/unlock path plus the loop. */
enum { MUTEX_COROUTINES = 1000 };
static kin_mutex g_mtx;
static long g_mtx_count; /* guarded by g_mtx */

static int mutex_child(void *arg) {
    long times = (long)(intptr_t)arg;
    for (long i = 0; i < times; i++) {
        KIN_TRY(kin_mutex_lock(g_mtx, NULL));
        g_mtx_count++;
        KIN_TRY(kin_mutex_unlock(g_mtx, NULL));
    }
    return 0;
}

static int mutex_scope(void *arg) {
    (void)arg;
    long k = g_n < MUTEX_COROUTINES ? g_n : MUTEX_COROUTINES;
    for (long c = 0; c < k; c++) {
        long times = g_n / k + (c < g_n % k ? 1 : 0);
        KIN_TRY(kin_launch(NULL, NULL, mutex_child, (void *)(intptr_t)times));
    }
    return 0;
}

static int mutex_on_default(void *arg) {
    (void)arg;
    return kin_coroutine_scope(mutex_scope, NULL);
}

static int mutex_bench(long *check) {
    g_mtx_count = 0;
    KIN_TRY(kin_with_context(kin_dispatcher_default(), mutex_on_default, NULL));
    *check = g_mtx_count;
    return 0;
}

typedef struct scenario {
    const char *name;
    int (*run)(long *check);
} scenario;

static const scenario SCENARIOS[] = {
    {"spawn", spawn},         {"spawn_mt", spawn_mt},
    {"spawn_cpu", spawn_cpu}, {"yield", yield_bench},
    {"async", async_bench},   {"park", park},
    {"timers", timers},       {"cancel", cancel_bench},
    {"supervise", supervise}, {"with_context", with_context_bench},
    {"suspend", suspend_bench},
    {"chan_pingpong", chan_pingpong}, {"chan_buffered", chan_buffered},
    {"mutex", mutex_bench},
};
#define N_SCENARIOS (sizeof SCENARIOS / sizeof SCENARIOS[0])

typedef struct run_arg {
    const scenario *sc;
    long reps;
} run_arg;

static int run_all(void *arg) {
    run_arg *ra = arg;
    for (long r = 0; r < ra->reps; r++) {
        long check = 0;
        long mallocs0 = atomic_load(&g_mallocs);
        atomic_store(&g_counting, 1);
        COUNT_START();
        long flt0 = minflt();
        double t0 = now_ms();
        int rc = ra->sc->run(&check);
        double ms = now_ms() - t0;
        long flt = minflt() - flt0;
        COUNT_STOP();
        atomic_store(&g_counting, 0);
        if (rc < 0) {
            fprintf(stderr, "kin-bench: %s failed: %s (%s)\n", ra->sc->name,
                    kin_strerror(rc), kin_error_message(kin_last_error()));
            return rc;
        }
        printf("%s n=%ld check=%ld ms=%.3f ns/op=%.1f minflt/op=%.3f\n",
               ra->sc->name, g_n, check, ms, ms * 1e6 / (double)g_n,
               (double)flt / (double)g_n);
        fflush(stdout);
        if (strcmp(ra->sc->name, "cancel") == 0)
            fprintf(stderr, "cancel-only ms: %.3f\n", g_cancel_only_ms);
        if (getenv("KIN_BENCH_MALLOC"))
            fprintf(stderr, "%s mallocs/op: %.4f\n", ra->sc->name,
                    (double)(atomic_load(&g_mallocs) - mallocs0) / (double)g_n);
    }
    return 0;
}

static void usage(const char *msg) {
    fprintf(stderr, "kin-bench: %s\n", msg);
    fprintf(stderr, "usage: kin-bench SCENARIO N [REPS]\n  SCENARIO:");
    for (size_t i = 0; i < N_SCENARIOS; i++)
        fprintf(stderr, " %s", SCENARIOS[i].name);
    fprintf(stderr, "\n  N > 0, REPS > 0 (default 1); BENCH_THREADS=1 (or "
                    "KIN_DEFAULT_THREADS=1) runs Default on one worker\n");
    exit(2);
}

static long parse_positive(const char *s, const char *what) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s must be a positive integer, not '%s'",
                 what, s);
        usage(msg);
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4)
        usage("wrong number of arguments");
    const scenario *sc = NULL;
    for (size_t i = 0; i < N_SCENARIOS; i++)
        if (strcmp(argv[1], SCENARIOS[i].name) == 0)
            sc = &SCENARIOS[i];
    if (!sc) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown scenario '%s'", argv[1]);
        usage(msg);
    }
    g_n = parse_positive(argv[2], "N");
    long reps = argc == 4 ? parse_positive(argv[3], "REPS") : 1;
    if (strcmp(sc->name, "async") == 0 || strcmp(sc->name, "supervise") == 0) {
        g_jobs = calloc((size_t)g_n, sizeof *g_jobs);
        if (!g_jobs) {
            fprintf(stderr, "kin-bench: out of memory\n");
            return 1;
        }
    }
    if (strcmp(sc->name, "spawn_cpu") == 0)
        calibrate_spin();
    if (strcmp(sc->name, "mutex") == 0 && kin_mutex_new(&g_mtx, NULL) < 0) {
        fprintf(stderr, "kin-bench: out of memory\n");
        return 1;
    }
    /* The runner's one-worker variant (bench/peers/run-all.sh). */
    const char *threads = getenv("BENCH_THREADS");
    if (threads && atoi(threads) > 0)
        kin_dispatcher_set_threads(kin_dispatcher_default(), atoi(threads));
    run_arg ra = {sc, reps};
    int rc = kin_run_blocking(run_all, &ra);
    free(g_jobs);
    return rc == 0 ? 0 : 1;
}
