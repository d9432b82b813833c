/* Values of any size are copied through the chain: a 4 KiB struct through
 * map (whose output then needs one allocation per collect, not per value)
 * and distinct_until_changed, zero-size values (a flow of "Unit"), and a
 * suspending collector and map (kin_delay inside: the chain resumes where
 * it was). */
#include "check.h"

typedef struct {
    int id;
    unsigned char pad[4096];
    int tail;
} big;

static int emit_bigs(kin_flow_collector *out, void *arg) {
    (void)arg;
    static big b; /* static: the emitter's stack stays small */
    for (int i = 0; i < 5; i++) {
        memset(&b, i, sizeof b);
        b.id = i / 2; /* 0 0 1 1 2 */
        b.tail = i;
        KIN_TRY(kin_flow_emit(out, &b, sizeof b));
    }
    return 0;
}
static int grow(const void *in, void *out, void *arg) {
    (void)arg;
    const big *b = in;
    big *o = out;
    *o = *b;
    o->tail = b->tail * 100;
    CHECK_EQ(o->pad[4095], (unsigned char)b->tail);
    return 0;
}
static int same_id(const void *a, const void *b, void *arg) {
    (void)arg;
    return ((const big *)a)->id == ((const big *)b)->id;
}
static int log_big(const void *v, void *arg) {
    int *acc = arg;
    const big *b = v;
    CHECK_EQ(b->pad[0], (unsigned char)(b->tail / 100));
    acc[++acc[0]] = b->tail;
    return 0;
}

static void test_big(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(big), emit_bigs, NULL), 0);
    CHECK_EQ(kin_flow_map(&f, sizeof(big), grow, NULL), 0);
    CHECK_EQ(kin_flow_distinct_until_changed(&f, same_id, NULL), 0);
    int acc[8] = {0};
    CHECK_EQ(kin_flow_collect(f, log_big, acc), 0);
    CHECK_EQ(acc[0], 3);
    CHECK(acc[1] == 0 && acc[2] == 200 && acc[3] == 400);
    /* first copies the whole value */
    static big out;
    CHECK_EQ(kin_flow_first(f, &out, sizeof out), 0);
    CHECK_EQ(out.tail, 0);
    CHECK_EQ(kin_flow_release(f), 0);
}

static int emit_units(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 0; i < 7; i++)
        KIN_TRY(kin_flow_emit(out, NULL, 0));
    return 0;
}

static void test_unit(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, 0, emit_units, NULL), 0);
    CHECK_EQ(kin_flow_elem_size(f), 0);
    CHECK_EQ(kin_flow_take(&f, 5), 0);
    uint64_t c = 0;
    CHECK_EQ(kin_flow_count(f, &c), 0);
    CHECK_EQ(c, 5);
    void *xs = (void *)1;
    size_t n = 0;
    CHECK_EQ(kin_flow_to_array(f, &xs, &n), 0);
    CHECK_EQ(n, 5);
    free(xs);
    CHECK_EQ(kin_flow_release(f), 0);
}

/* Suspending inside the chain: every callback may suspend. */
static int slow_map(const void *in, void *out, void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(10));
    *(int *)out = *(const int *)in + 1;
    return 0;
}
static int slow_collect(const void *v, void *arg) {
    int *acc = arg;
    KIN_TRY(kin_delay(5));
    acc[++acc[0]] = *(const int *)v;
    return 0;
}

static void test_suspending(void) {
    int xs[] = {1, 2, 3}, acc[8] = {0};
    kin_flow f;
    CHECK_EQ(kin_flow_from_array(&f, xs, 3, sizeof(int)), 0);
    CHECK_EQ(kin_flow_map(&f, sizeof(int), slow_map, NULL), 0);
    int64_t t0 = kin_current_time();
    CHECK_EQ(kin_flow_collect(f, slow_collect, acc), 0);
    CHECK_EQ(kin_current_time() - t0, 45); /* sequential: 3 * (10 + 5) */
    CHECK(acc[0] == 3 && acc[1] == 2 && acc[3] == 4);
    CHECK_EQ(kin_flow_release(f), 0);
}

static int body(void *arg) {
    (void)arg;
    test_big();
    test_unit();
    test_suspending();
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
