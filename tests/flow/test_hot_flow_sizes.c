/* Values of any size in hot flows: zero-size values (signals, Kotlin's
 * SharedFlow<Unit>) and values larger than the stack copies (1000 bytes,
 * copied through malloc'd buffers once per collect), through a
 * SharedFlow whose ring grows while a slow subscriber holds values, and
 * a StateFlow. */
#include "hot_rec.h"

typedef struct big {
    int n;
    char fill[996];
} big;

static int big_seen[64], nbig;

static int on_big(const void *value, void *arg) {
    (void)arg;
    const big *b = value;
    for (size_t i = 0; i < sizeof b->fill; i++)
        CHECK_EQ(b->fill[i], (char)(b->n + (int)i));
    big_seen[nbig++] = b->n;
    return nbig == 40 ? kin_fail_code(-5, "Done", "enough") : 0;
}

static kin_shared_flow g_sf;
static int big_collector(void *arg) {
    (void)arg;
    CHECK_EQ(collect_shared(g_sf, on_big, NULL), -5);
    return 0;
}

static void make_big(big *b, int n) {
    b->n = n;
    for (size_t i = 0; i < sizeof b->fill; i++)
        b->fill[i] = (char)(n + (int)i);
}

static void test_big_shared(void) {
    CHECK_EQ(kin_shared_flow_new(&g_sf, sizeof(big),
                                 &(kin_shared_flow_opts){.replay = 5,
                                                         .extra_buffer = 30}),
             0);
    static big b;
    for (int i = 0; i < 10; i++) { /* no subscriber: the cache keeps 5 */
        make_big(&b, i);
        CHECK_EQ(kin_shared_flow_try_emit(g_sf, &b, sizeof b), 0);
    }
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, big_collector, NULL), 0);
    yields(1); /* it took the 5 and waits */
    CHECK_EQ(nbig, 5);
    for (int i = 10; i < 45; i++) { /* 35 more: the ring grows to 35 */
        make_big(&b, i);
        CHECK_EQ(kin_shared_flow_try_emit(g_sf, &b, sizeof b), 0);
    }
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(nbig, 40);
    for (int i = 0; i < 40; i++)
        CHECK_EQ(big_seen[i], 5 + i);
    CHECK_EQ(kin_shared_flow_destroy(g_sf), 0);
}

static int ticks;
static int on_tick(const void *value, void *arg) {
    (void)value;
    (void)arg;
    return ++ticks == 3 ? kin_fail_code(-6, "Done", "three") : 0;
}

static int tick_collector(void *arg) {
    (void)arg;
    CHECK_EQ(collect_shared(g_sf, on_tick, NULL), -6);
    return 0;
}

static void test_zero_size_shared(void) {
    CHECK_EQ(kin_shared_flow_new(&g_sf, 0,
                                 &(kin_shared_flow_opts){.replay = 1}),
             0);
    CHECK_EQ(kin_shared_flow_try_emit(g_sf, NULL, 0), 0);
    CHECK_EQ(kin_shared_flow_try_emit(g_sf, NULL, 0), 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, tick_collector, NULL), 0);
    yields(1);
    CHECK_EQ(ticks, 1); /* replay 1 */
    CHECK_EQ(kin_shared_flow_emit(g_sf, NULL, 0), 0);
    CHECK_EQ(kin_shared_flow_emit(g_sf, NULL, 0), 0); /* buffer 1: waits */
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(ticks, 3);
    CHECK_EQ(kin_shared_flow_destroy(g_sf), 0);
}

static kin_state_flow g_st;
static int on_big_state(const void *value, void *arg) {
    (void)arg;
    const big *b = value;
    CHECK_EQ(b->fill[0], (char)b->n);
    return b->n == 9 ? kin_fail_code(-7, "Done", "nine") : 0;
}

static int big_state_collector(void *arg) {
    (void)arg;
    CHECK_EQ(collect_state(g_st, on_big_state, NULL), -7);
    return 0;
}

static void test_big_state(void) {
    static big b;
    make_big(&b, 0);
    CHECK_EQ(kin_state_flow_new(&g_st, sizeof b, &b, NULL, NULL), 0);
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, big_state_collector, NULL), 0);
    yields(1);
    for (int i = 1; i <= 9; i++) {
        make_big(&b, i);
        CHECK_EQ(kin_state_flow_set(g_st, &b, sizeof b), 1);
        if (i % 3 == 0)
            yields(1);
    }
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_state_flow_destroy(g_st), 0);
}

static int body(void *arg) {
    (void)arg;
    test_big_shared();
    test_zero_size_shared();
    test_big_state();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    printf("ok\n");
    return 0;
}
