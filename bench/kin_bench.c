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
#define _GNU_SOURCE /* clock_gettime, SOCK_NONBLOCK, socketpair */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* chan_mpmc: N elements through a 1024-element buffer from 4 producers to
 * 4 consumers, all on Default (every worker); check = the number of
 * elements received (each producer sends its share; the consumers receive
 * until the channel is closed after the producers are done). */
enum { MPMC_SIDE = 4 };
static kin_channel g_mpmc;
static atomic_long g_mpmc_got;

static int mpmc_producer(void *arg) {
    long share = (long)(intptr_t)arg;
    for (long i = 0; i < share; i++)
        KIN_TRY(kin_channel_send(g_mpmc, &i, sizeof i));
    return 0;
}

static int mpmc_consumer(void *arg) {
    (void)arg;
    long v, got = 0;
    int rc;
    while ((rc = kin_channel_receive_catching(g_mpmc, &v, sizeof v)) == 0)
        got++;
    atomic_fetch_add_explicit(&g_mpmc_got, got, memory_order_relaxed);
    return rc == KIN_CLOSED ? 0 : rc;
}

static int mpmc_producers(void *arg) {
    (void)arg;
    for (long p = 0; p < MPMC_SIDE; p++) {
        long share = g_n / MPMC_SIDE + (p < g_n % MPMC_SIDE ? 1 : 0);
        KIN_TRY(kin_launch(NULL, NULL, mpmc_producer, (void *)(intptr_t)share));
    }
    return 0;
}

static int mpmc_scope(void *arg) {
    (void)arg;
    for (int c = 0; c < MPMC_SIDE; c++)
        KIN_TRY(kin_launch(NULL, NULL, mpmc_consumer, NULL));
    /* the producers' own scope ends when all of them have sent everything */
    int rc = kin_coroutine_scope(mpmc_producers, NULL);
    kin_channel_close(g_mpmc, NULL);
    return rc;
}

static int mpmc_on_default(void *arg) {
    (void)arg;
    return kin_coroutine_scope(mpmc_scope, NULL);
}

static int chan_mpmc(long *check) {
    KIN_TRY(kin_channel_new(&g_mpmc, sizeof(long),
                            &(kin_channel_opts){.capacity = 1024}));
    atomic_store(&g_mpmc_got, 0);
    int rc = kin_with_context(kin_dispatcher_default(), mpmc_on_default, NULL);
    kin_channel_destroy(g_mpmc);
    KIN_TRY(rc);
    *check = atomic_load(&g_mpmc_got);
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

/* mutex_pthread: the floor the mutex row is compared with: N increments of
 * a plain counter under a pthread mutex by as many threads as Default has
 * workers (BENCH_THREADS=1: one), started before the clock, N in total.
 * Threads block in the kernel where coroutines would suspend: this is what
 * a C program without kin would write. */
static pthread_mutex_t g_pmtx = PTHREAD_MUTEX_INITIALIZER;
static long g_pmtx_count; /* guarded by g_pmtx */

static void *pthread_mutex_worker(void *arg) {
    long times = (long)(intptr_t)arg;
    for (long i = 0; i < times; i++) {
        pthread_mutex_lock(&g_pmtx);
        g_pmtx_count++;
        pthread_mutex_unlock(&g_pmtx);
    }
    return NULL;
}

static int mutex_pthread(long *check) {
    long k = 1;
    const char *one = getenv("BENCH_THREADS");
    if (!(one && strcmp(one, "1") == 0)) {
        k = sysconf(_SC_NPROCESSORS_ONLN);
        if (k < 1)
            k = 1;
    }
    pthread_t th[256];
    if (k > 256)
        k = 256;
    g_pmtx_count = 0;
    for (long t = 0; t < k; t++) {
        long times = g_n / k + (t < g_n % k ? 1 : 0);
        if (pthread_create(&th[t], NULL, pthread_mutex_worker,
                           (void *)(intptr_t)times) != 0)
            return KIN_ENOMEM;
    }
    for (long t = 0; t < k; t++)
        pthread_join(th[t], NULL);
    *check = g_pmtx_count;
    return 0;
}


/* ---- I/O (issue 10) ---------------------------------------------------------
 * The Go peer (bench/peers/go) runs the same designs: a server goroutine per
 * connection, a client goroutine per connection, TCP_NODELAY on every socket
 * (Go's default), clients closed with SO_LINGER 0 (no TIME_WAIT left to use
 * up loopback's ephemeral ports between runs). */

static double g_sc_ms = -1; /* a scenario's own timed part, when it has one */
static double *g_lat;       /* echo: per round trip, microseconds */
static char g_extra[256];   /* a scenario's extra figures, printed on stderr */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* io_ready: write one byte into a socketpair, then read it back; the read
 * is ready at once. Timed: kin_read (tries read(2), never parks). Also
 * measured: the plain read(2) and kin_wait_fd + read(2) on the same fd. */
static int io_ready_body(void *arg) {
    (void)arg;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) <
        0)
        return -errno;
    char c = 'x', r;
    long ok = 0;
    double tp = 0, tk = 0, tw = 0; /* blocks of 1000, interleaved: no order bias */
    for (long done = 0; done < g_n;) {
        long b = g_n - done < 1000 ? g_n - done : 1000;
        double t0 = now_ms();
        for (long i = 0; i < b; i++) { /* plain */
            if (write(sv[1], &c, 1) != 1 || read(sv[0], &r, 1) != 1)
                return -EIO;
        }
        double t1 = now_ms();
        for (long i = 0; i < b; i++) { /* kin_read */
            if (write(sv[1], &c, 1) != 1)
                return -EIO;
            ok += kin_read(sv[0], &r, 1) == 1;
        }
        double t2 = now_ms();
        for (long i = 0; i < b; i++) { /* kin_wait_fd, then read(2) */
            if (write(sv[1], &c, 1) != 1 ||
                kin_wait_fd(sv[0], KIN_READABLE, -1) != KIN_READABLE ||
                read(sv[0], &r, 1) != 1)
                return -EIO;
        }
        double t3 = now_ms();
        tp += t1 - t0;
        tk += t2 - t1;
        tw += t3 - t2;
        done += b;
    }
    kin_close(sv[0]);
    kin_close(sv[1]);
    double plain = tp * 1e6 / (double)g_n;
    double kr = tk * 1e6 / (double)g_n;
    double wf = tw * 1e6 / (double)g_n;
    snprintf(g_extra, sizeof g_extra,
             "io_ready plain ns/op=%.1f kin_read ns/op=%.1f overhead=%.1f "
             "kin_wait_fd+read ns/op=%.1f overhead=%.1f",
             plain, kr, kr - plain, wf, wf - plain);
    g_sc_ms = tk;
    return (int)(ok == g_n ? 0 : -EIO);
}

static int io_ready(long *check) {
    KIN_TRY(kin_coroutine_scope(io_ready_body, NULL));
    *check = g_n;
    return 0;
}

/* A listening socket on 127.0.0.1, an ephemeral port. */
static int listen_any(struct sockaddr_in *a) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    *a = (struct sockaddr_in){.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof *a;
    if (bind(fd, (struct sockaddr *)a, sizeof *a) < 0 ||
        listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)a, &len) < 0) {
        int e = errno;
        kin_close(fd);
        return -e;
    }
    return fd;
}

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void close_abort(int fd) { /* RST: no TIME_WAIT */
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    kin_close(fd);
}

static int connect_to(const struct sockaddr_in *a) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = kin_connect(fd, (const struct sockaddr *)a, sizeof *a);
    if (rc < 0) {
        kin_close(fd);
        return rc;
    }
    nodelay(fd);
    return fd;
}

enum { MSG = 64 };

static long read_full(int fd, char *buf, long n) {
    long got = 0;
    while (got < n) {
        long r = kin_recv(fd, buf + got, (size_t)(n - got), 0);
        if (r <= 0)
            return r < 0 ? r : got;
        got += r;
    }
    return got;
}

/* Server side: echo 64-byte messages until the client goes away. */
static atomic_long g_parked;
static atomic_long g_served_eof;

/* echo_1's placement: the client and the server coroutine run on one
 * Default worker or on two, as work stealing decides, and the two cost
 * differently (a cross-thread wake-up per message when split). The
 * scenario reports which one it got; BENCH_ECHO_PLACE=same or =split
 * makes echo_1 retry (after one round trip) until it gets that one. */
static _Atomic(pthread_t *) g_server_thread;
static pthread_t g_server_thread_id;
static int g_echo_place;         /* 0: as it comes; 1: same; 2: split */
static atomic_bool g_echo_retry; /* the placement was not the one wanted */
static const char *g_echo_placed = "";
static long g_echo_conns; /* g_echo.conns, for the server side */
static atomic_bool g_accept_started;

/* BENCH_ECHO_PLACE=split: keeps this worker busy (no suspension) until
 * the server has started, which then can only be on the other worker
 * (it steals it); the client, launched after, starts here. Bounded: if
 * nobody steals, the first round trip finds them together and echo_1
 * tries again. */
static void hold_worker_for_server(void) {
    double until = now_ms() + 200;
    while (!atomic_load(&g_accept_started) && now_ms() < until) {
    }
}

static int echo_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[MSG];
    nodelay(fd);
    if (g_echo_conns == 1) {
        g_server_thread_id = pthread_self();
        atomic_store(&g_server_thread, &g_server_thread_id);
    }
    for (;;) {
        atomic_fetch_add_explicit(&g_parked, 1, memory_order_relaxed);
        long n = read_full(fd, buf, MSG);
        if (n != MSG)
            break;
        if (kin_send(fd, buf, MSG, 0) != MSG)
            break;
    }
    atomic_fetch_add_explicit(&g_served_eof, 1, memory_order_relaxed);
    kin_close(fd);
    return 0;
}

typedef struct accept_arg {
    int lfd;
    long conns;
} accept_arg;

/* Accepts conns connections, a coroutine each (they live on in the scope
 * around the server). */
static int accept_n(void *arg) {
    accept_arg *aa = arg;
    atomic_store(&g_accept_started, true);
    for (long i = 0; i < aa->conns; i++) {
        int fd = kin_accept(aa->lfd, NULL, NULL);
        if (fd < 0)
            return fd;
        KIN_TRY(kin_launch(NULL, NULL, echo_conn, (void *)(intptr_t)fd));
    }
    return 0;
}

static int server_scope(void *arg) {
    return kin_coroutine_scope(accept_n, arg);
}

typedef struct echo_cfg {
    struct sockaddr_in addr;
    long conns;
    long ok; /* atomic via g_echo_ok */
} echo_cfg;

static echo_cfg g_echo;
static atomic_long g_echo_ok;

/* After the first round trip of echo_1 (the server has started): notes
 * the placement; false if BENCH_ECHO_PLACE wants the other one. */
static bool placed_as_wanted(void) {
    pthread_t *srv = atomic_load(&g_server_thread);
    bool same = srv && pthread_equal(*srv, pthread_self());
    g_echo_placed = same ? " place=same" : " place=split";
    if (g_echo_place == 0 || g_echo_place == (same ? 1 : 2))
        return true;
    atomic_store(&g_echo_retry, true);
    return false;
}

static int echo_client(void *arg) {
    long idx = (long)(intptr_t)arg;
    long per = g_n / g_echo.conns, extra = g_n % g_echo.conns;
    long rounds = per + (idx < extra);
    long off = idx * per + (idx < extra ? idx : extra);
    int fd = connect_to(&g_echo.addr);
    if (fd < 0)
        return fd;
    char out[MSG], in[MSG];
    memset(out, 'a' + (int)(idx % 26), sizeof out);
    long ok = 0;
    for (long i = 0; i < rounds; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        out[0] = (char)i;
        if (kin_send(fd, out, MSG, 0) != MSG || read_full(fd, in, MSG) != MSG)
            break;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (i == 0 && g_echo.conns == 1 && !placed_as_wanted())
            break;
        g_lat[off + i] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
                         (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
        ok += memcmp(in, out, MSG) == 0;
    }
    close_abort(fd);
    atomic_fetch_add_explicit(&g_echo_ok, ok, memory_order_relaxed);
    return 0;
}

static int echo_clients(void *arg) {
    (void)arg;
    for (long i = 0; i < g_echo.conns; i++)
        KIN_TRY(kin_launch(NULL, NULL, echo_client, (void *)(intptr_t)i));
    return 0;
}

static int echo_on_default(void *arg) {
    int lfd = (int)(intptr_t)arg;
    accept_arg aa = {lfd, g_echo.conns};
    kin_job server;
    KIN_TRY(kin_launch(&server, NULL, server_scope, &aa));
    if (g_echo_place == 2 && g_echo.conns == 1)
        hold_worker_for_server();
    int rc = kin_coroutine_scope(echo_clients, NULL);
    if (rc < 0)
        kin_cancel(server, NULL);
    int src = kin_join(server);
    return rc < 0 ? rc : src;
}

static int echo_run_once(long conns, long *check);

static int echo_run(long conns, long *check) {
    for (int attempt = 0;; attempt++) {
        int rc = echo_run_once(conns, check);
        if (rc < 0 || !atomic_exchange(&g_echo_retry, false))
            return rc;
        if (attempt == 1000) {
            fprintf(stderr, "kin-bench: echo: never got the placement "
                            "BENCH_ECHO_PLACE asks for\n");
            return KIN_EINVAL;
        }
    }
}

static int echo_run_once(long conns, long *check) {
    if (conns > g_n)
        conns = g_n;
    g_echo.conns = g_echo_conns = conns;
    g_echo_placed = "";
    atomic_store(&g_server_thread, NULL);
    atomic_store(&g_accept_started, false);
    atomic_store(&g_echo_ok, 0);
    atomic_store(&g_served_eof, 0);
    int lfd = listen_any(&g_echo.addr);
    if (lfd < 0)
        return lfd;
    double t0 = now_ms();
    int rc = kin_with_context(kin_dispatcher_default(), echo_on_default,
                              (void *)(intptr_t)lfd);
    double ms = now_ms() - t0;
    kin_close(lfd);
    KIN_TRY(rc);
    *check = atomic_load(&g_echo_ok);
    if (atomic_load(&g_echo_retry))
        return 0;
    if (g_echo_place)
        g_sc_ms = ms; /* the attempts with the other placement are not in */
    qsort(g_lat, (size_t)g_n, sizeof *g_lat, cmp_double);
    snprintf(g_extra, sizeof g_extra,
             "echo conns=%ld req/s=%.0f p50_us=%.1f p99_us=%.1f%s", conns,
             (double)g_n / (ms / 1e3), g_lat[g_n / 2],
             g_lat[(long)((double)g_n * 0.99)], g_echo_placed);
    return 0;
}

static int echo_1(long *check) { return echo_run(1, check); }
static int echo_1000(long *check) { return echo_run(1000, check); }

/* idle_10k: N connections, each held by a server coroutine parked in a read;
 * the client ends are plain sockets held by one coroutine. Peak RSS per
 * connection is the extra figure (ru_maxrss, and the resident size from
 * /proc/self/statm at the peak). check = server coroutines that saw EOF. */
static long rss_now_kib(void) {
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static long maxrss_kib(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static long g_idle_maxrss0, g_idle_rss0;

static int idle_clients(void *arg) {
    int *fds = arg;
    for (long i = 0; i < g_n; i++) {
        fds[i] = connect_to(&g_echo.addr);
        if (fds[i] < 0) {
            int rc = fds[i];
            for (long k = 0; k < i; k++)
                close_abort(fds[k]);
            return rc;
        }
    }
    while (atomic_load(&g_parked) < g_n) /* every server coroutine reads */
        KIN_TRY(kin_delay(1));
    KIN_TRY(kin_delay(20)); /* and is parked */
    long peak = maxrss_kib(), cur = rss_now_kib();
    snprintf(g_extra, sizeof g_extra,
             "idle conns=%ld maxrss_kib=%ld (before %ld) bytes/conn=%.0f "
             "statm_rss_kib=%ld (before %ld) bytes/conn=%.0f",
             g_n, peak, g_idle_maxrss0,
             (double)(peak - g_idle_maxrss0) * 1024 / (double)g_n, cur,
             g_idle_rss0, (double)(cur - g_idle_rss0) * 1024 / (double)g_n);
    for (long i = 0; i < g_n; i++)
        close_abort(fds[i]);
    return 0;
}

static int idle_on_default(void *arg) {
    int lfd = (int)(intptr_t)arg;
    accept_arg aa = {lfd, g_n};
    int *fds = malloc((size_t)g_n * sizeof *fds);
    if (!fds)
        return KIN_ENOMEM;
    kin_job server;
    int rc = kin_launch(&server, NULL, server_scope, &aa);
    if (rc < 0) {
        free(fds);
        return rc;
    }
    rc = kin_coroutine_scope(idle_clients, fds);
    free(fds);
    if (rc < 0)
        kin_cancel(server, NULL);
    int src = kin_join(server);
    return rc < 0 ? rc : src;
}

static int idle_10k(long *check) {
    /* The baseline is taken once, before the first repetition: a later one
     * reuses what the first left resident (cached stacks, fd records), so
     * a baseline taken before it would hide the connections' cost. */
    if (g_idle_maxrss0 == 0) {
        g_idle_maxrss0 = maxrss_kib();
        g_idle_rss0 = rss_now_kib();
    }
    atomic_store(&g_parked, 0);
    atomic_store(&g_served_eof, 0);
    int lfd = listen_any(&g_echo.addr);
    if (lfd < 0)
        return lfd;
    int rc = kin_with_context(kin_dispatcher_default(), idle_on_default,
                              (void *)(intptr_t)lfd);
    kin_close(lfd);
    KIN_TRY(rc);
    *check = atomic_load(&g_served_eof);
    return 0;
}

/* 2 fds per connection in one process: raise the soft limit to the hard
 * one, and the hard one too when allowed (root). */
static void raise_nofile(long need) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if ((long)rl.rlim_max < need) {
        struct rlimit up = {(rlim_t)need, (rlim_t)need};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
            return;
    }
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- Flows (issue 12) ------------------------------------------------------
 * flow_chain: Kotlin's
 *     flow { for (i in 0 until n) emit(i) }.map { it * 3 }
 *         .filter { it % 2 == 0 }.take(n / 2).collect { count++; sum += it }
 * on the calling coroutine: a fused sequential chain, one call chain per
 * value. ns/op is per source element (N of them; half reach the
 * collector); check = the values collected (N / 2). The same work as a
 * plain C loop, the overhead floor, is timed in the same process and
 * printed on stderr ("flow_chain plain ns/op=..."). The Go peer runs the
 * classic goroutine-and-channel pipeline (bench/peers/go). */
static int fc_source(kin_flow_collector *out, void *arg) {
    long n = *(const long *)arg;
    for (long i = 0; i < n; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}
static int fc_times3(const void *in, void *out, void *arg) {
    (void)arg;
    *(long *)out = *(const long *)in * 3;
    return 0;
}
static int fc_even(const void *v, void *arg) {
    (void)arg;
    return *(const long *)v % 2 == 0;
}
static int fc_count(const void *v, void *arg) {
    long *acc = arg;
    acc[0]++;
    acc[1] += *(const long *)v;
    return 0;
}

/* The floor: the same values, the same order, no flow. */
static __attribute__((noinline)) long fc_plain(long n, long *sum) {
    long cnt = 0, s = 0, want = n / 2;
    for (long i = 0; i < n && cnt < want; i++) {
        long v = i * 3;
        if (v % 2 == 0) {
            s += v;
            cnt++;
        }
    }
    *sum = s;
    return cnt;
}

static int flow_chain(long *check) {
    static long n;
    n = g_n;
    long acc[2] = {0, 0};
    double t0 = now_ms();
    kin_flow f;
    KIN_TRY(kin_flow_new(&f, sizeof(long), fc_source, &n));
    KIN_TRY(kin_flow_map(&f, sizeof(long), fc_times3, NULL));
    KIN_TRY(kin_flow_filter(&f, fc_even, NULL));
    if (n / 2 > 0)
        KIN_TRY(kin_flow_take(&f, (uint64_t)(n / 2)));
    int rc = kin_flow_collect(f, fc_count, acc);
    kin_flow_release(f);
    KIN_TRY(rc);
    double t1 = now_ms();
    COUNT_STOP(); /* callgrind: the flow's part only */
    long psum = 0;
    long pcnt = fc_plain(n, &psum);
    double t2 = now_ms();
    if (pcnt != acc[0] || psum != acc[1])
        return kin_fail("BenchError", "flow_chain: the flow got %ld (sum %ld), "
                                      "the plain loop %ld (sum %ld)",
                        acc[0], acc[1], pcnt, psum);
    double kn = (t1 - t0) * 1e6 / (double)n, pn = (t2 - t1) * 1e6 / (double)n;
    snprintf(g_extra, sizeof g_extra,
             "flow_chain plain ns/op=%.2f kin ns/op=%.2f overhead=%.2f", pn, kn,
             kn - pn);
    g_sc_ms = t1 - t0;
    *check = acc[0];
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
    {"chan_mpmc", chan_mpmc},         {"mutex", mutex_bench},
    {"mutex_pthread", mutex_pthread},
    {"io_ready", io_ready},           {"echo_1", echo_1},
    {"echo_1000", echo_1000},         {"idle_10k", idle_10k},
    {"flow_chain", flow_chain},
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
        if (g_sc_ms >= 0) { /* the scenario timed its own part */
            ms = g_sc_ms;
            g_sc_ms = -1;
        }
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
        if (g_extra[0]) {
            fprintf(stderr, "%s\n", g_extra);
            g_extra[0] = 0;
        }
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
                    "KIN_DEFAULT_THREADS=1) runs Default on one worker;\n"
                    "  BENCH_ECHO_PLACE=same|split: echo_1's client and "
                    "server on one worker or two\n");
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
    if (strncmp(sc->name, "echo_", 5) == 0) {
        g_lat = calloc((size_t)g_n, sizeof *g_lat);
        if (!g_lat) {
            fprintf(stderr, "kin-bench: out of memory\n");
            return 1;
        }
    }
    if (strcmp(sc->name, "idle_10k") == 0 || strcmp(sc->name, "echo_1000") == 0)
        raise_nofile(2 * g_n + 64);
    signal(SIGPIPE, SIG_IGN);
    const char *place = getenv("BENCH_ECHO_PLACE");
    if (place && *place) {
        if (strcmp(place, "same") != 0 && strcmp(place, "split") != 0)
            usage("BENCH_ECHO_PLACE must be same or split");
        g_echo_place = strcmp(place, "same") == 0 ? 1 : 2;
    }
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
    free(g_lat);
    return rc == 0 ? 0 : 1;
}
