/* kin_flow_buffer and kin_flow_conflate (kotlinx's buffer / conflate):
 * the upstream runs in a coroutine of its own, through a channel, so the
 * emitter goes ahead of a slower collector by as much as the buffer
 * holds. The orders pinned here are those of kotlinx's buffer() docs
 * ("1A 1B 1C 2A 2B 2C") and of its channels: a send to a waiting receiver
 * hands the value over and goes on; a send to a full buffer suspends until
 * the collector takes a value. */
#include "check.h"

/* Steps: the emitter reaches steps[0..n) before each emit; the collector
 * reaches steps[n..2n) for each value. */
typedef struct script {
    int n;
    const int *emit_steps, *collect_steps;
    int seen;
} script;

static int emitter(kin_flow_collector *out, void *arg) {
    script *s = arg;
    for (int i = 1; i <= s->n; i++) {
        EXPECT(s->emit_steps[i - 1]);
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    }
    return 0;
}

static int collector(const void *v, void *arg) {
    script *s = arg;
    int x = *(const int *)v;
    CHECK_EQ(x, s->seen + 1);
    EXPECT(s->collect_steps[s->seen++]);
    return 0;
}

static void run_script(int n, const int *e, const int *c, int capacity,
                       int buffers) {
    check_step_ = 0;
    script s = {n, e, c, 0};
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), emitter, &s), 0);
    for (int i = 0; i < buffers; i++)
        CHECK_EQ(kin_flow_buffer(&f, capacity, KIN_OVERFLOW_SUSPEND), 0);
    EXPECT(1);
    CHECK_EQ(kin_flow_collect(f, collector, &s), 0);
    CHECK_EQ(s.seen, n);
    FINISH(2 * n + 2);
    CHECK_EQ(kin_flow_release(f), 0);
    /* nothing outlives the collect */
    kin_job kids[1];
    CHECK_EQ(kin_job_children(kin_current_job(), kids, 1), 0);
}

static int body(void *arg) {
    (void)arg;
    /* the default buffer: the emitter runs to the end first */
    run_script(3, (const int[]){2, 3, 4}, (const int[]){5, 6, 7},
               KIN_CHANNEL_BUFFERED, 1);
    /* rendezvous: 1 is handed to the waiting collector, the emit of 2
     * waits for it, the collector then takes 2 and waits for 3 */
    run_script(3, (const int[]){2, 3, 6}, (const int[]){4, 5, 7}, 0, 1);
    /* two values of room: the emit of 4 waits until the collector has
     * taken a value; 5 is handed to the waiting collector */
    run_script(5, (const int[]){2, 3, 4, 5, 10}, (const int[]){6, 7, 8, 9, 11},
               2, 1);
    /* buffer(2).buffer(2) fuses into one buffer of 4 (kotlinx's fuse adds
     * the capacities): one producer, and all five fit */
    run_script(5, (const int[]){2, 3, 4, 5, 6}, (const int[]){7, 8, 9, 10, 11},
               2, 2);
    return 0;
}

int main(void) {
    CHECK_EQ(kin_run_test(body, NULL), 0);
    return 0;
}
