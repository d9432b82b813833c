/* Bad input to the concurrent flow operators, as a table: each returns
 * its documented code with a message that says why, takes its upstream
 * flows over even on error (they are released: their handles go stale),
 * and leaves *f zero. */
#include "check.h"

static int empty(kin_flow_collector *out, void *arg) {
    (void)out, (void)arg;
    return 0;
}

static int prod(kin_channel ch, void *arg) {
    (void)ch, (void)arg;
    return 0;
}

static int comb(const void *a, const void *b, void *out, void *arg) {
    (void)a, (void)b, (void)out, (void)arg;
    return 0;
}

static kin_flow fresh(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), empty, NULL), 0);
    return f;
}

static kin_flow stale(void) {
    kin_flow f = fresh();
    CHECK_EQ(kin_flow_release(f), 0);
    return f;
}

/* f was taken over: released (stale now) and *f zeroed */
static void gone(kin_flow orig, kin_flow now) {
    CHECK_EQ(now.id, 0);
    CHECK_EQ(kin_flow_retain(orig), KIN_ESTALE);
}

int main(void) {
    kin_flow f, o, orig, oo;
    const kin_flow zero = {0};

    /* buffer */
    MISUSE(kin_flow_buffer(NULL, 1, KIN_OVERFLOW_SUSPEND), KIN_EINVAL,
           "f is NULL");
    f = zero;
    MISUSE(kin_flow_buffer(&f, 1, KIN_OVERFLOW_SUSPEND), KIN_EINVAL,
           "zero handle");
    f = stale();
    MISUSE(kin_flow_buffer(&f, 1, KIN_OVERFLOW_SUSPEND), KIN_ESTALE,
           "stale flow handle");
    CHECK_EQ(f.id, 0);
    f = (kin_flow){0x00000001ffffff00ull};
    MISUSE(kin_flow_buffer(&f, 1, KIN_OVERFLOW_SUSPEND), KIN_EINVAL,
           "invalid flow handle");
    orig = f = fresh();
    MISUSE(kin_flow_buffer(&f, -5, KIN_OVERFLOW_SUSPEND), KIN_EINVAL,
           "buffer size should be non-negative, BUFFERED or CONFLATED, but "
           "was -5");
    gone(orig, f);
    orig = f = fresh();
    MISUSE(kin_flow_buffer(&f, 1, (kin_overflow)7), KIN_EINVAL,
           "unknown overflow policy 7");
    gone(orig, f);
    orig = f = fresh();
    MISUSE(kin_flow_buffer(&f, KIN_CHANNEL_CONFLATED, KIN_OVERFLOW_DROP_LATEST),
           KIN_EINVAL, "CONFLATED capacity cannot be used with a non-default");
    gone(orig, f);

    /* conflate */
    MISUSE(kin_flow_conflate(NULL), KIN_EINVAL, "f is NULL");
    f = zero;
    MISUSE(kin_flow_conflate(&f), KIN_EINVAL, "zero handle");
    f = stale();
    MISUSE(kin_flow_conflate(&f), KIN_ESTALE, "stale flow handle");

    /* flow_on */
    MISUSE(kin_flow_on(NULL, kin_dispatcher_default()), KIN_EINVAL,
           "f is NULL");
    f = zero;
    MISUSE(kin_flow_on(&f, kin_dispatcher_default()), KIN_EINVAL,
           "zero handle");
    f = stale();
    MISUSE(kin_flow_on(&f, kin_dispatcher_default()), KIN_ESTALE,
           "stale flow handle");
    orig = f = fresh();
    MISUSE(kin_flow_on(&f, NULL), KIN_EINVAL, "the dispatcher is NULL");
    gone(orig, f);

    /* debounce */
    MISUSE(kin_flow_debounce(NULL, 10), KIN_EINVAL, "f is NULL");
    f = zero;
    MISUSE(kin_flow_debounce(&f, 10), KIN_EINVAL, "zero handle");
    f = stale();
    MISUSE(kin_flow_debounce(&f, 10), KIN_ESTALE, "stale flow handle");
    orig = f = fresh();
    MISUSE(kin_flow_debounce(&f, -1), KIN_EINVAL,
           "debounce timeout should not be negative");
    gone(orig, f);

    /* channel_flow */
    MISUSE(kin_channel_flow(NULL, 4, NULL, prod, NULL), KIN_EINVAL,
           "out is NULL");
    f.id = 99;
    MISUSE(kin_channel_flow(&f, 4, NULL, NULL, NULL), KIN_EINVAL,
           "fn is NULL");
    CHECK_EQ(f.id, 0);
    MISUSE(kin_channel_flow(&f, 4, &(kin_channel_opts){.capacity = -7}, prod,
                            NULL),
           KIN_EINVAL, "but was -7");
    MISUSE(kin_channel_flow(&f, 4, &(kin_channel_opts){.overflow = 9}, prod,
                            NULL),
           KIN_EINVAL, "unknown overflow policy 9");
    MISUSE(kin_channel_flow(&f,
                            4,
                            &(kin_channel_opts){.capacity =
                                                    KIN_CHANNEL_CONFLATED,
                                                .overflow =
                                                    KIN_OVERFLOW_DROP_OLDEST},
                            prod, NULL),
           KIN_EINVAL, "CONFLATED capacity");

    /* zip and combine: both flows are taken over */
    for (int k = 0; k < 2; k++) {
        int (*op)(kin_flow *, kin_flow, size_t, kin_flow_combine_fn, void *) =
            k ? kin_flow_combine : kin_flow_zip;
        const char *name = k ? "kin_flow_combine" : "kin_flow_zip";
        oo = o = fresh();
        MISUSE(op(NULL, o, 4, comb, NULL), KIN_EINVAL, "f is NULL");
        CHECK_EQ(kin_flow_retain(oo), KIN_ESTALE); /* other released */
        f = zero;
        oo = o = fresh();
        MISUSE(op(&f, o, 4, comb, NULL), KIN_EINVAL, "zero handle");
        CHECK_EQ(kin_flow_retain(oo), KIN_ESTALE);
        f = stale();
        oo = o = fresh();
        MISUSE(op(&f, o, 4, comb, NULL), KIN_ESTALE, "stale flow handle");
        CHECK_EQ(kin_flow_retain(oo), KIN_ESTALE);
        orig = f = fresh();
        MISUSE(op(&f, zero, 4, comb, NULL), KIN_EINVAL,
               "other is no flow (zero handle)");
        gone(orig, f);
        orig = f = fresh();
        MISUSE(op(&f, stale(), 4, comb, NULL), KIN_ESTALE, "stale flow");
        gone(orig, f);
        orig = f = fresh();
        oo = o = fresh();
        MISUSE(op(&f, o, 4, NULL, NULL), KIN_EINVAL, "fn is NULL");
        CHECK(strstr(last_message(), name));
        gone(orig, f);
        CHECK_EQ(kin_flow_retain(oo), KIN_ESTALE);
    }
    printf("%d misuse rows\n", check_cases_);
    return 0;
}
