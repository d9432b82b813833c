/* One flow collected by many coroutines on the Default pool at once (a
 * flow is immutable: every collect has its own state), while handles are
 * retained and released from several threads: the sums are right, the
 * stage is freed once (on_free), and ThreadSanitizer sees no race. */
#include <stdatomic.h>

#include "check.h"

static atomic_int frees;
static void on_free(void *arg) {
    (void)arg;
    atomic_fetch_add(&frees, 1);
}
static int times3(const void *in, void *out, void *arg) {
    (void)arg;
    *(long *)out = *(const int *)in * 3L;
    return 0;
}
static int odd(const void *v, void *arg) {
    (void)arg;
    return *(const long *)v % 2 != 0;
}
static int add(void *acc, const void *v, void *arg) {
    (void)arg;
    *(long *)acc += *(const long *)v;
    return 0;
}

enum { N = 1000, TAKE = 400 };
static kin_flow g_f;
static atomic_int wrong;

static int collector(void *arg) {
    (void)arg;
    CHECK_EQ(kin_flow_retain(g_f), 0);
    long total = 0;
    for (int rep = 0; rep < 5; rep++) {
        total = 0;
        CHECK_EQ(kin_flow_fold(g_f, &total, sizeof total, add, NULL), 0);
        if (kin_flow_count(g_f, &(uint64_t){0}) != 0)
            atomic_fetch_add(&wrong, 1);
        kin_yield();
    }
    /* odd multiples of 3 among 3*1..3*800: 3 * (1 + 3 + ... + 799) */
    if (total != 3L * 400 * 400)
        atomic_fetch_add(&wrong, 1);
    CHECK_EQ(kin_flow_release(g_f), 0);
    return 0;
}

static int body(void *arg) {
    (void)arg;
    static int xs[N];
    for (int i = 0; i < N; i++)
        xs[i] = i + 1;
    CHECK_EQ(kin_flow_from_array(&g_f, xs, N, sizeof(int)), 0);
    CHECK_EQ(kin_flow_map(&g_f, sizeof(long), times3, NULL), 0);
    CHECK_EQ(kin_flow_filter(&g_f, odd, NULL), 0);
    CHECK_EQ(kin_flow_take(&g_f, TAKE), 0);
    CHECK_EQ(kin_flow_on_free(g_f, on_free, NULL), 0);
    long n = test_scale(64) < 8 ? 8 : test_scale(64);
    kin_launch_opts o = {.dispatcher = kin_dispatcher_default()};
    for (long i = 0; i < n; i++)
        CHECK_EQ(kin_launch(NULL, &o, collector, NULL), 0);
    return 0; /* run_blocking waits for the children */
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(atomic_load(&wrong), 0);
    CHECK_EQ(atomic_load(&frees), 0);
    CHECK_EQ(kin_flow_release(g_f), 0);
    CHECK_EQ(atomic_load(&frees), 1);
    return 0;
}
