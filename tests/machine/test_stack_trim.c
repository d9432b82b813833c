/* Cached stacks decay instead of going back to the kernel at the first idle
 * moment: a burst's stacks stay resident, so a second burst right after it
 * faults no stack page in; once they have gone unused for one to two
 * seconds, the idle loop gives their memory back (their pages are no longer
 * resident), down to the cache's budget of 1024 stacks. A stack given back
 * and reused keeps its guard page (or its canary). */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "machine/stack.h"

#define N 4000
#define KEEP 1024 /* GLOBAL_KEEP in stack.c */

static char *tops[N]; /* a local of each child: in its stack's top page */

static int parked(void *arg) {
    volatile char local = 1;
    tops[(intptr_t)arg] = (char *)&local;
    return kin_delay(10);
}

static int burst(void *arg) {
    (void)arg;
    for (long i = 0; i < N; i++)
        KIN_TRY(kin_launch(NULL, NULL, parked, (void *)(intptr_t)i));
    return 0;
}

/* How many of the children's top pages are resident. */
static long resident(void) {
    long page = sysconf(_SC_PAGESIZE), n = 0;
    for (long i = 0; i < N; i++) {
        unsigned char v = 0;
        void *p = (void *)((uintptr_t)tops[i] & ~(uintptr_t)(page - 1));
        if (mincore(p, (size_t)page, &v) == 0 && (v & 1))
            n++;
    }
    return n;
}

/* Takes stacks until one comes from the cold list (given back, now reused)
 * and checks its overflow protection, then returns them all. */
static void check_reused_stack(void) {
    static kin__stack *taken[N];
    kin__stack_pool pool = {0};
    size_t size = kin__stack_round(0);
    long n = 0;
    kin__stack_stats st;
    do {
        CHECK(n < N);
        taken[n] = kin__stack_get(&pool, size);
        CHECK(taken[n] != NULL);
        n++;
        kin__stack_get_stats(&st);
    } while (st.cached > 0 || pool.count > 0);
    kin__stack *s = kin__stack_get(&pool, size); /* from the cold list */
    CHECK(s != NULL);
    CHECK_EQ(s->size, size);
    CHECK(s->usable > size - 256 && s->usable < size);
    if (s->guarded) {
        /* Writing just below it must fault (guard page or marker). */
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            *(volatile char *)(s->lo - 1) = 1;
            _exit(0);
        }
        int status;
        CHECK_EQ(waitpid(pid, &status, 0), pid);
        CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    } else {
        CHECK(s->canary != NULL); /* canary mode: checked at each switch */
    }
    kin__stack_put(&pool, s);
    for (long i = 0; i < n; i++)
        kin__stack_put(&pool, taken[i]);
    kin__stack_pool_drain(&pool);
}

static long minflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

static int body(void *arg) {
    (void)arg;
    CHECK_EQ(kin_coroutine_scope(burst, NULL), 0);
    /* All N finished: their stacks are cached (the loop's own pool keeps up
     * to 256 more), still resident although the loop was idle meanwhile. */
    kin__stack_stats st;
    kin__stack_get_stats(&st);
    CHECK(st.cached + 256 >= N);
    if (test_measures_memory())
        CHECK_EQ(resident(), N);

    /* A second burst reuses them: no stack page is faulted in again. */
    long f0 = minflt();
    CHECK_EQ(kin_coroutine_scope(burst, NULL), 0);
    if (test_measures_memory())
        CHECK(minflt() - f0 < N / 10);

    /* Idle for 3 s: stacks unused for a whole 1 s epoch go back. */
    CHECK_EQ(kin_delay(3000), 0);
    kin__stack_get_stats(&st);
    CHECK(st.cached <= KEEP);
    if (test_measures_memory())
        CHECK(resident() <= KEEP + 256);
    check_reused_stack();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
