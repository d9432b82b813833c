/* Seed 002, "parallelTasks": collect the successful results, list the failures.
 *
 *   suspend fun s002_parallel_tasks() = supervisorScope {
 *       val t1: suspend () -> Int = { delay(30); 1 }
 *       val t2: suspend () -> Int = { delay(10); throw RuntimeException("API2 down") }
 *       val t3: suspend () -> Int = { delay(20); 3 }
 *       val tasks = linkedMapOf("API1" to t1, "API2" to t2, "API3" to t3)
 *       val deferreds = tasks.map { (name, task) -> name to async { runCatching { task() } } }
 *       val results = deferreds.map { (name, d) -> name to d.await() }
 *       val ok = results.mapNotNull { it.second.getOrNull() }
 *       val bad = results.mapNotNull { (n, r) -> r.exceptionOrNull()?.let { n to it.message } }
 *       println("Successful: ${ok.size} $ok")
 *       println("Failed: ${bad.size} $bad")
 *   }
 *
 * runCatching: under a supervisor a failed async harms nobody, so each await's
 * outcome (a value, or the failure kept in the job) is the Result.
 */
#include <stdint.h>
#include <stdio.h>

#include <kin.h>

static int t1(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(30));
    *result = (void *)(intptr_t)1;
    return 0;
}

static int t2(void *arg, void **result) {
    (void)arg;
    (void)result;
    KIN_TRY(kin_delay(10));
    return kin_fail("RuntimeException", "API2 down");
}

static int t3(void *arg, void **result) {
    (void)arg;
    KIN_TRY(kin_delay(20));
    *result = (void *)(intptr_t)3;
    return 0;
}

static const struct {
    const char *name;
    kin_async_fn task;
} tasks[] = {{"API1", t1}, {"API2", t2}, {"API3", t3}};
#define N_TASKS (sizeof tasks / sizeof tasks[0])

static int parallel_tasks(void *arg) {
    (void)arg;
    kin_job deferreds[N_TASKS];
    for (size_t i = 0; i < N_TASKS; i++)
        KIN_TRY(kin_async(&deferreds[i], NULL, tasks[i].task, NULL));
    int rcs[N_TASKS];
    void *values[N_TASKS];
    for (size_t i = 0; i < N_TASKS; i++)
        rcs[i] = kin_await(deferreds[i], &values[i]);
    int n_ok = 0;
    for (size_t i = 0; i < N_TASKS; i++)
        n_ok += rcs[i] == 0;
    printf("Successful: %d [", n_ok);
    for (size_t i = 0, k = 0; i < N_TASKS; i++)
        if (rcs[i] == 0)
            printf("%s%d", k++ ? ", " : "", (int)(intptr_t)values[i]);
    printf("]\n");
    printf("Failed: %d [", (int)N_TASKS - n_ok);
    for (size_t i = 0, k = 0; i < N_TASKS; i++)
        if (rcs[i] < 0)
            printf("%s(%s, %s)", k++ ? ", " : "", tasks[i].name,
                   kin_error_message(kin_job_cause(deferreds[i])));
    printf("]\n");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    return kin_supervisor_scope(parallel_tasks, NULL);
}

int main(void) { return kin_run_blocking(body, NULL) == 0 ? 0 : 1; }
