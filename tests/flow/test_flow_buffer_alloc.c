/* No malloc per value through buffer and flow_on: the channel's buffer is
 * allocated once per collect, then reused. Counts the process's malloc
 * calls (glibc's __libc_malloc behind a counting malloc) for collects of
 * 100 and of 20,000 values: the difference must be small and not grow
 * with the number of values. Skipped under sanitizers, which own malloc. */
#include <stdatomic.h>

#include "check.h"

/* not with a static libc either: its malloc.o defines malloc too */
#if CHECK_TOOL_DIVISOR == 1 && defined(__GLIBC__) && !defined(KIN_TEST_STATIC)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static atomic_long mallocs;

void *malloc(size_t n) {
    atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m) {
    atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n) {
    atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}

static int numbers(kin_flow_collector *out, void *arg) {
    long n = *(long *)arg;
    for (long i = 0; i < n; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}

static int sum(const void *v, void *arg) {
    *(long *)arg += *(const long *)v;
    return 0;
}

/* The mallocs of one collect of n values. */
static long mallocs_for(long n, int on_default) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(long), numbers, &n), 0);
    if (on_default)
        CHECK_EQ(kin_flow_on(&f, kin_dispatcher_default()), 0);
    else
        CHECK_EQ(kin_flow_buffer(&f, 16, KIN_OVERFLOW_SUSPEND), 0);
    long s = 0;
    CHECK_EQ(kin_flow_collect(f, sum, &s), 0); /* warm up */
    long before = atomic_load(&mallocs);
    s = 0;
    CHECK_EQ(kin_flow_collect(f, sum, &s), 0);
    long used = atomic_load(&mallocs) - before;
    CHECK_EQ(s, n * (n - 1) / 2);
    kin_flow_release(f);
    return used;
}

static int body(void *arg) {
    (void)arg;
    for (int d = 0; d < 2; d++) {
        long few = mallocs_for(100, d), many = mallocs_for(20000, d);
        printf("%s: %ld mallocs for 100 values, %ld for 20000\n",
               d ? "flow_on(Default)" : "buffer(16)", few, many);
        CHECK(many - few < 20);
    }
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
}
#else
int main(void) {
    return 77; /* skipped */
}
#endif
