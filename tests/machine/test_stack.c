/* Stacks: the per-coroutine stack size option is honoured (a coroutine can
 * use nearly all of it), children may use their parent's stack memory
 * (kin.h L5), and stacks are reused from the pool. */
#include "check.h"

static int use_stack(void *arg) {
    size_t bytes = (size_t)arg;
    volatile char buf[1];
    /* Touch `bytes` of stack below us through a VLA-free recursion. */
    char *p = __builtin_alloca(bytes);
    memset(p, 0xab, bytes);
    buf[0] = p[bytes - 1];
    (void)buf;
    return kin_yield();
}

typedef struct shared {
    int values[16];
    int sum;
} shared;

static int child_writes(void *arg) {
    shared *sh = arg;
    KIN_TRY(kin_delay(1));
    for (int i = 0; i < 16; i++)
        sh->sum += sh->values[i];
    return 0;
}

static int scope_body(void *arg) {
    shared *sh = arg;
    for (int i = 0; i < 4; i++)
        KIN_TRY(kin_launch(NULL, NULL, child_writes, sh));
    return 0;
}

static int body(void *arg) {
    (void)arg;
    /* A 1 MiB stack, 900 KiB of it used. */
    kin_job j;
    CHECK_EQ(kin_launch(&j, &(kin_launch_opts){.stack_size = 1 << 20},
                        use_stack, (void *)(size_t)(900 * 1024)),
             0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(!kin_job_is_cancelled(j));
    /* A tiny request is rounded up to the minimum and still works. */
    CHECK_EQ(kin_launch(&j, &(kin_launch_opts){.stack_size = 1}, use_stack,
                        (void *)(size_t)1024),
             0);
    CHECK_EQ(kin_join(j), 0);
    CHECK(!kin_job_is_cancelled(j));

    /* L5: the scope's children read and write the caller's locals. */
    shared sh = {.sum = 0};
    for (int i = 0; i < 16; i++)
        sh.values[i] = i;
    CHECK_EQ(kin_coroutine_scope(scope_body, &sh), 0);
    CHECK_EQ(sh.sum, 4 * 120);

    /* Many short coroutines reuse a handful of stacks. */
    for (long i = 0; i < test_scale(100000); i++)
        CHECK_EQ(kin_launch(NULL, NULL, use_stack, (void *)(size_t)64), 0);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
