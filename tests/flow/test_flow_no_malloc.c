/* No malloc per value: a map/filter/take chain (and on_each, transform,
 * distinct_until_changed, catch, on_completion) costs a fixed number of
 * allocations per collect whatever the number of values: collecting 10 and
 * 100,000 values makes the same number of malloc calls. This program
 * counts the calls by defining malloc/calloc/realloc over glibc's
 * __libc_* (skipped under sanitizers, which own malloc). */
#include "check.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) ||         \
    defined(KIN_TEST_STATIC)
/* sanitizers own malloc; a static libc's malloc.o defines it too */
#define NO_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NO_INTERPOSE 1
#endif
#endif

#ifndef NO_INTERPOSE
#include <stdatomic.h>
static atomic_long g_calls;
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t s);
void *__libc_realloc(void *p, size_t n);
void *malloc(size_t n) {
    atomic_fetch_add_explicit(&g_calls, 1, memory_order_relaxed);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t s) {
    atomic_fetch_add_explicit(&g_calls, 1, memory_order_relaxed);
    return __libc_calloc(n, s);
}
void *realloc(void *p, size_t n) {
    atomic_fetch_add_explicit(&g_calls, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}

static int source(kin_flow_collector *out, void *arg) {
    long n = *(long *)arg;
    for (long i = 0; i < n; i++)
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    return 0;
}
static int times3(const void *in, void *out, void *arg) {
    (void)arg;
    *(long *)out = *(const long *)in * 3;
    return 0;
}
static int even(const void *v, void *arg) {
    (void)arg;
    return *(const long *)v % 2 == 0;
}
static int each(const void *v, void *arg) {
    (void)v;
    ++*(long *)arg;
    return 0;
}
static int twice(kin_flow_collector *out, const void *v, void *arg) {
    (void)arg;
    KIN_TRY(kin_flow_emit(out, v, sizeof(long)));
    return kin_flow_emit(out, v, sizeof(long));
}
static int never(kin_flow_collector *out, const kin_error *cause, void *arg) {
    (void)out;
    (void)arg;
    return kin_error_code(cause);
}
static int count(const void *v, void *arg) {
    (void)v;
    ++*(long *)arg;
    return 0;
}

/* malloc calls made by one collect of n source values */
static long calls_for(long n) {
    static long src_n;
    src_n = n;
    long seen = 0, got = 0;
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(long), source, &src_n), 0);
    CHECK_EQ(kin_flow_map(&f, sizeof(long), times3, NULL), 0);
    CHECK_EQ(kin_flow_filter(&f, even, NULL), 0);
    CHECK_EQ(kin_flow_on_each(&f, each, &seen), 0);
    CHECK_EQ(kin_flow_transform(&f, sizeof(long), twice, NULL), 0);
    CHECK_EQ(kin_flow_distinct_until_changed(&f, NULL, NULL), 0);
    CHECK_EQ(kin_flow_catch(&f, never, NULL), 0);
    CHECK_EQ(kin_flow_on_completion(&f, never, NULL), 0);
    CHECK_EQ(kin_flow_take(&f, (uint64_t)n / 2), 0);
    long before = atomic_load(&g_calls);
    CHECK_EQ(kin_flow_collect(f, count, &got), 0);
    long calls = atomic_load(&g_calls) - before;
    CHECK_EQ(got, n / 2);
    CHECK_EQ(kin_flow_release(f), 0);
    return calls;
}

static int body(void *arg) {
    (void)arg;
    calls_for(10); /* warm: error objects, caches */
    long small = calls_for(10), big = calls_for(100000);
    printf("malloc calls per collect: %ld (10 values), %ld (100000 values)\n",
           small, big);
    CHECK_EQ(big, small);
    CHECK(small <= 4); /* take's abort error and little else */
    return 0;
}
#endif

int main(void) {
#ifdef NO_INTERPOSE
    printf("skipped: the sanitizer owns malloc\n");
    return 77;
#else
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    return 0;
#endif
}
