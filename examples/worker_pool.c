/* A worker pool: fan-out of jobs to three workers on Default, fan-in of results.
 * In Kotlin:
 *
 *   val left = AtomicInteger()     // jobs whose result never came back
 *   suspend fun pool(wanted: Int, got: MutableList<Int>) = coroutineScope {
 *       val jobs = Channel<Int>(10) { left.incrementAndGet() }
 *       val results = Channel<Int> { left.incrementAndGet() }
 *       launch { for (j in 1..10) jobs.send(j); jobs.close() }
 *       repeat(3) { launch(Dispatchers.Default) { for (j in jobs) {
 *           try { delay(10L * j) }  // the work: longer for bigger jobs
 *           catch (e: CancellationException) { left.incrementAndGet(); throw e }
 *           results.send(j * j)
 *       } } }
 *       repeat(wanted) { got += results.receive() }
 *       if (wanted < 10) cancel()   // enough: stop the whole pool
 *   }                               // then jobs.cancel(): what is buffered is left
 *
 * Results arrive as workers finish, so they are sorted before printing. The
 * second run stops after four: the scope's cancellation reaches the producer
 * and every worker, and each job not done is counted once, by on_undelivered
 * (still in a channel) or by its worker (cut short): always 4 + 6 = 10.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <kin.h>

enum { JOBS = 10, WORKERS = 3 };

static kin_channel jobs, results;
static atomic_int left;

static void left_undone(void *elem, void *arg) { /* on_undelivered */
    (void)elem, (void)arg, atomic_fetch_add(&left, 1);
}

static int produce_jobs(kin_channel ch, void *arg) {
    (void)arg;
    for (int j = 1; j <= JOBS; j++)
        KIN_TRY(kin_channel_send(ch, &j, sizeof j));
    return 0; /* kin_produce closes the channel */
}

static int worker(void *arg) {
    (void)arg;
    int j, rc;
    while ((rc = kin_channel_receive_catching(jobs, &j, sizeof j)) == 0) {
        if ((rc = kin_delay(10 * j)) < 0) { /* cancelled with the job in hand */
            left_undone(&j, NULL);
            return rc;
        }
        int sq = j * j;
        KIN_TRY(kin_channel_send(results, &sq, sizeof sq));
    }
    return rc == KIN_CLOSED ? 0 : rc;
}

typedef struct run { int wanted, n, got[JOBS]; } run;

static int pool(void *arg) {
    run *r = arg;
    kin_channel_opts count_left = {.on_undelivered = left_undone};
    KIN_TRY(kin_channel_new(&results, sizeof(int), &count_left));
    count_left.capacity = JOBS;
    KIN_TRY(kin_produce(&jobs, NULL, NULL, &count_left, sizeof(int), produce_jobs, NULL));
    for (int w = 0; w < WORKERS; w++)
        KIN_TRY(kin_launch(NULL, &(kin_launch_opts){.dispatcher = kin_dispatcher_default()},
                           worker, NULL));
    while (r->n < r->wanted) /* fan-in */
        KIN_TRY(kin_channel_receive(results, &r->got[r->n++], sizeof(int)));
    if (r->wanted < JOBS)
        kin_cancel(kin_current_job(), NULL); /* cancel() the scope */
    return 0;
}

static int ascending(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

static int run_pool(int wanted) {
    run r = {.wanted = wanted};
    atomic_store(&left, 0);
    int rc = kin_coroutine_scope(pool, &r);
    kin_channel_destroy(jobs); /* what is still buffered goes to left_undone */
    kin_channel_destroy(results);
    qsort(r.got, r.n, sizeof r.got[0], ascending);
    int total = 0;
    printf("%d results%s", r.n, rc == 0 ? ":" : "");
    for (int i = 0; i < r.n && rc == 0; i++) /* run 2's depend on timing */
        total += r.got[i], printf(" %d", r.got[i]);
    if (rc == 0)
        printf(", total %d", total);
    printf(" (%s); left undone: %d\n", rc == 0 ? "all done" : kin_strerror(rc),
           atomic_load(&left));
    return rc == KIN_ECANCELED ? 0 : rc;
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(run_pool(JOBS));
    return run_pool(4);
}

int main(void) {
    return kin_run_blocking(body, NULL) == 0 ? 0 : 1;
}
