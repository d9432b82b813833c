/* A million coroutines suspended at the same time, on a stock kernel
 * (vm.max_map_count 65530): kin switches from guard pages to canaries past
 * the mapping budget. All of them wake and complete. Virtual time, so the
 * one-second delay costs nothing; under tools the count shrinks
 * (test_scale_parked). */
#include <sys/resource.h>
#ifdef KIN_CONTEXT_UCONTEXT
#include <ucontext.h>
#endif

#include "check.h"
#include "machine/stack.h"

static long woke, started;

static int parked(void *arg) {
    (void)arg;
    started++;
    KIN_TRY(kin_delay(1000));
    woke++;
    return 0;
}

static int scope_body(void *arg) {
    long n = *(long *)arg;
    for (long i = 0; i < n; i++)
        KIN_TRY(kin_launch(NULL, NULL, parked, NULL));
    while (started < n) /* all of them are suspended in the delay now */
        KIN_TRY(kin_yield());
    CHECK_EQ(woke, 0);
    return 0;
}

static int body(void *arg) {
    return kin_coroutine_scope(scope_body, arg);
}

int main(void) {
    long n = test_scale_parked(1000000);
    CHECK_EQ(kin_run_test(body, &n), 0);
    CHECK_EQ(woke, n);
    kin__stack_stats st;
    kin__stack_get_stats(&st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "%ld coroutines parked at once; %zu guard-page stacks (limit "
            "%zu), %zu canary stacks; peak RSS %ld MiB\n",
            n, st.mapped, st.guard_limit, st.canary, ru.ru_maxrss / 1024);
    CHECK(st.mapped <= st.guard_limit);
    /* One stack page and the record each: under 5 GiB (the benchmark
     * issue's target). The portable ucontext backend also keeps glibc's
     * ucontext_t (936 bytes on x86-64) in every record. */
    long limit_mib = 5 * 1024;
#ifdef KIN_CONTEXT_UCONTEXT
    limit_mib += (long)(n * (long)sizeof(ucontext_t) >> 20);
#endif
    if (test_measures_memory() && n == 1000000)
        CHECK(ru.ru_maxrss / 1024 < limit_mib);
    return 0;
}
