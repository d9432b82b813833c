/* The guide's concurrent flow operators: buffer, conflate, flow_on,
 * channel_flow, debounce, zip and combine, on virtual time (kin_run_test:
 * the delays take no real time and the times printed are exact). */
#include <stdio.h>
#include <string.h>

#include <kin.h>

/* flow { for (i in 1..3) { delay(100); emit(i) } } */
static int numbers(kin_flow_collector *out, void *arg) {
    (void)arg;
    for (int i = 1; i <= 3; i++) {
        KIN_TRY(kin_delay(100));
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
    }
    return 0;
}

/* collect { delay(300); println(it) } */
static int slow_print(const void *v, void *arg) {
    (void)arg;
    KIN_TRY(kin_delay(300));
    printf("%d ", *(const int *)v);
    return 0;
}

static int timed(const char *what, kin_flow f) {
    int64_t t0 = kin_current_time();
    int rc = kin_flow_collect(f, slow_print, NULL);
    printf("<- %s: %lld ms\n", what, (long long)(kin_current_time() - t0));
    return rc;
}

static int buffering(void) {
    kin_flow f;
    KIN_TRY(kin_flow_new(&f, sizeof(int), numbers, NULL));
    KIN_TRY(timed("sequential", f));
    kin_flow b = f, c = f;
    KIN_TRY(kin_flow_retain(f));
    KIN_TRY(kin_flow_retain(f));
    KIN_TRY(kin_flow_buffer(&b, KIN_CHANNEL_BUFFERED, KIN_OVERFLOW_SUSPEND));
    KIN_TRY(timed("buffer()", b)); /* the emitter runs ahead */
    KIN_TRY(kin_flow_conflate(&c));
    KIN_TRY(timed("conflate()", c)); /* 2 is dropped: 3 was newer */
    kin_flow_release(f);
    kin_flow_release(b);
    kin_flow_release(c);
    return 0;
}

/* flow_on: where each side runs */
static int where_emitted(kin_flow_collector *out, void *arg) {
    (void)arg;
    const char *d = kin_dispatcher_name(kin_dispatcher_current());
    return kin_flow_emit(out, &d, sizeof d);
}

static int print_where(const void *v, void *arg) {
    (void)arg;
    printf("emitted on %s, collected on %s\n", *(const char *const *)v,
           kin_dispatcher_name(kin_dispatcher_current()));
    return 0;
}

static int flow_on(void) {
    kin_flow f;
    KIN_TRY(kin_flow_new(&f, sizeof(const char *), where_emitted, NULL));
    KIN_TRY(kin_flow_on(&f, kin_dispatcher_default())); /* flowOn(Dispatchers.Default) */
    int rc = kin_flow_collect(f, print_where, NULL);
    kin_flow_release(f);
    return rc;
}

/* channelFlow { launch { delay(10); send(1) }; send(2) } */
static int send_later(void *arg) {
    kin_channel ch = *(kin_channel *)arg;
    KIN_TRY(kin_delay(10));
    int v = 1;
    return kin_channel_send(ch, &v, sizeof v);
}

static int two_senders(kin_channel ch, void *arg) {
    kin_channel *keep = arg; /* lives as long as the children */
    *keep = ch;
    KIN_TRY(kin_launch(NULL, NULL, send_later, keep));
    int v = 2;
    return kin_channel_send(ch, &v, sizeof v);
}

static int print_int(const void *v, void *arg) {
    (void)arg;
    printf("%d ", *(const int *)v);
    return 0;
}

static int channel_flow(void) {
    kin_channel keep;
    kin_flow f;
    KIN_TRY(kin_channel_flow(&f, sizeof(int), NULL, two_senders, &keep));
    int rc = kin_flow_collect(f, print_int, NULL);
    printf("<- channel_flow: done when both senders are\n");
    kin_flow_release(f);
    return rc;
}

/* flow { emit(1); delay(90); emit(2); delay(90); emit(3); delay(1010);
 *        emit(4); delay(1010); emit(5) } */
static int bursty(kin_flow_collector *out, void *arg) {
    (void)arg;
    static const int64_t pause[] = {90, 90, 1010, 1010, 0};
    for (int i = 1; i <= 5; i++) {
        KIN_TRY(kin_flow_emit(out, &i, sizeof i));
        KIN_TRY(kin_delay(pause[i - 1]));
    }
    return 0;
}

static int debounce(void) {
    kin_flow f;
    KIN_TRY(kin_flow_new(&f, sizeof(int), bursty, NULL));
    KIN_TRY(kin_flow_debounce(&f, 1000));
    int rc = kin_flow_collect(f, print_int, NULL);
    printf("<- debounce(1000)\n");
    kin_flow_release(f);
    return rc;
}

/* zip: flowOf(1, 2, 3).onEach { delay(10) } and
 *      flowOf("a", "b", "c", "d").onEach { delay(15) } (as chars);
 * combine: flowOf(1, 2) and flowOf("a", "b", "c"), the same delays */
typedef struct every {
    int n;
    int64_t ms;
    int letters;
} every;

static int ticking(kin_flow_collector *out, void *arg) {
    const every *e = arg;
    for (int i = 0; i < e->n; i++) {
        KIN_TRY(kin_delay(e->ms));
        if (e->letters) {
            char c = (char)('a' + i);
            KIN_TRY(kin_flow_emit(out, &c, 1));
        } else {
            int v = i + 1;
            KIN_TRY(kin_flow_emit(out, &v, sizeof v));
        }
    }
    return 0;
}

/* { i, s -> "$i$s" } */
static int glue(const void *a, const void *b, void *out, void *arg) {
    (void)arg;
    snprintf(out, 4, "%d%c", *(const int *)a, *(const char *)b);
    return 0;
}

static int print_str(const void *v, void *arg) {
    const int64_t *t0 = arg;
    printf("%s@%lld ", (const char *)v, (long long)(kin_current_time() - *t0));
    return 0;
}

static int pairs(int zip) {
    static const every nums3 = {3, 10, 0}, nums2 = {2, 10, 0},
                       chars4 = {4, 15, 1}, chars3 = {3, 15, 1};
    /* as in the kotlinx docs of zip and of combine */
    const every *nums = zip ? &nums3 : &nums2, *chars = zip ? &chars4 : &chars3;
    kin_flow f, other;
    KIN_TRY(kin_flow_new(&f, sizeof(int), ticking, (void *)nums));
    KIN_TRY(kin_flow_new(&other, 1, ticking, (void *)chars));
    if (zip)
        KIN_TRY(kin_flow_zip(&f, other, 4, glue, NULL));
    else
        KIN_TRY(kin_flow_combine(&f, other, 4, glue, NULL));
    int64_t t0 = kin_current_time();
    int rc = kin_flow_collect(f, print_str, &t0);
    printf("<- %s, done at %lld\n", zip ? "zip" : "combine",
           (long long)(kin_current_time() - t0));
    kin_flow_release(f);
    return rc;
}

static int body(void *arg) {
    (void)arg;
    KIN_TRY(buffering());
    KIN_TRY(flow_on());
    KIN_TRY(channel_flow());
    KIN_TRY(debounce());
    KIN_TRY(pairs(1));
    return pairs(0);
}

int main(void) {
    return kin_run_test(body, NULL) < 0;
}
