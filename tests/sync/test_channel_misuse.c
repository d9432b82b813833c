/* Bad input to every channel, produce and select function, as a table:
 * each returns its documented code and the current error says why. NULLs,
 * zero, foreign and destroyed handles, size mismatches, bad capacities and
 * policies, suspending calls outside a coroutine, destroy with waiters. */
#include "check.h"

static const kin_channel zero = {0};
static const kin_channel foreign = {0x00000002ffffff00ull};
static kin_channel dead; /* destroyed */
static kin_channel live; /* int elements, rendezvous */

static int each(void *elem, void *arg) {
    (void)elem, (void)arg;
    return 0;
}

static int prod(kin_channel ch, void *arg) {
    (void)ch, (void)arg;
    return 0;
}

static int waiter(void *arg) {
    (void)arg;
    int v;
    return kin_channel_receive(live, &v, sizeof v);
}

static void plain_code(void) {
    int v = 0;
    /* suspending calls outside a coroutine */
    MISUSE(kin_channel_send(live, &v, sizeof v), KIN_ENOTCORO, "outside");
    MISUSE(kin_channel_receive(live, &v, sizeof v), KIN_ENOTCORO, "outside");
    MISUSE(kin_channel_receive_catching(live, &v, sizeof v), KIN_ENOTCORO,
           "outside");
    MISUSE(kin_channel_for_each(live, &v, sizeof v, each, NULL), KIN_ENOTCORO,
           "outside");
    kin_select_clause cl = {.kind = KIN_SELECT_TIMEOUT};
    MISUSE(kin_select(&cl, 1), KIN_ENOTCORO, "outside");
    MISUSE(kin_select_unbiased(&cl, 1), KIN_ENOTCORO, "outside");
    kin_channel ch;
    MISUSE(kin_produce(&ch, NULL, NULL, NULL, 4, prod, NULL), KIN_ENOTCORO,
           "outside");
    /* the non-suspending ones work from plain code */
    QUIET(kin_channel_try_send(live, &v, sizeof v) == KIN_FULL);
    QUIET(kin_channel_try_receive(live, &v, sizeof v) == KIN_EMPTY);
}

static int body(void *arg) {
    (void)arg;
    int v = 0;
    long l = 0;
    kin_channel ch;
    /* kin_channel_new */
    MISUSE(kin_channel_new(NULL, 4, NULL), KIN_EINVAL, "out is NULL");
    MISUSE(kin_channel_new(&ch, 4, &(kin_channel_opts){.capacity = -5}),
           KIN_EINVAL, "invalid capacity -5");
    MISUSE(kin_channel_new(&ch, 4,
                           &(kin_channel_opts){.capacity = KIN_CHANNEL_CONFLATED,
                                               .overflow =
                                                   KIN_OVERFLOW_DROP_LATEST}),
           KIN_EINVAL, "CONFLATED");
    MISUSE(kin_channel_new(&ch, 4,
                           &(kin_channel_opts){.overflow = (kin_overflow)7}),
           KIN_EINVAL, "overflow");
    MISUSE(kin_channel_new(&ch, SIZE_MAX / 2,
                           &(kin_channel_opts){.capacity = 1000}),
           KIN_EINVAL, "too large");

    /* every function with a zero, a foreign and a destroyed handle */
    kin_channel bad[3] = {zero, foreign, dead};
    int code[3] = {KIN_EINVAL, KIN_EINVAL, KIN_ESTALE};
    const char *words[3] = {"invalid", "invalid", "stale"};
    for (int i = 0; i < 3; i++) {
        MISUSE(kin_channel_send(bad[i], &v, sizeof v), code[i], words[i]);
        MISUSE(kin_channel_receive(bad[i], &v, sizeof v), code[i], words[i]);
        MISUSE(kin_channel_receive_catching(bad[i], &v, sizeof v), code[i],
               words[i]);
        MISUSE(kin_channel_try_send(bad[i], &v, sizeof v), code[i], words[i]);
        MISUSE(kin_channel_try_receive(bad[i], &v, sizeof v), code[i],
               words[i]);
        MISUSE(kin_channel_close(bad[i], NULL), code[i], words[i]);
        MISUSE(kin_channel_close(bad[i], kin_error_new(KIN_EFAILED, NULL, "x")),
               code[i], words[i]); /* the cause is released */
        MISUSE(kin_channel_cancel(bad[i], NULL), code[i], words[i]);
        MISUSE(kin_channel_destroy(bad[i]), code[i], words[i]);
        MISUSE(kin_channel_for_each(bad[i], &v, sizeof v, each, NULL),
               code[i], words[i]);
        QUIET(!kin_channel_is_closed_for_send(bad[i]));
        QUIET(!kin_channel_is_closed_for_receive(bad[i]));
        QUIET(!kin_channel_is_empty(bad[i]));
        kin_select_clause cl = {.kind = KIN_SELECT_RECEIVE,
                                .channel = bad[i],
                                .elem = &v,
                                .size = sizeof v};
        MISUSE(kin_select(&cl, 1), code[i], words[i]);
    }

    /* element size mismatch and NULL elements */
    MISUSE(kin_channel_send(live, &l, sizeof l), KIN_EINVAL, "element size 8");
    MISUSE(kin_channel_receive(live, &l, sizeof l), KIN_EINVAL,
           "element size 8");
    MISUSE(kin_channel_receive_catching(live, &l, sizeof l), KIN_EINVAL,
           "element size 8");
    MISUSE(kin_channel_try_send(live, &l, sizeof l), KIN_EINVAL,
           "element size 8");
    MISUSE(kin_channel_try_receive(live, &l, sizeof l), KIN_EINVAL,
           "element size 8");
    MISUSE(kin_channel_for_each(live, &l, sizeof l, each, NULL), KIN_EINVAL,
           "element size 8");
    MISUSE(kin_channel_send(live, NULL, sizeof v), KIN_EINVAL, "NULL");
    MISUSE(kin_channel_receive(live, NULL, sizeof v), KIN_EINVAL, "NULL");
    MISUSE(kin_channel_try_send(live, NULL, sizeof v), KIN_EINVAL, "NULL");
    MISUSE(kin_channel_for_each(live, &v, sizeof v, NULL, NULL), KIN_EINVAL,
           "fn is NULL");

    /* cancel with a cause that is not a cancellation */
    MISUSE(kin_channel_cancel(live, kin_error_new(KIN_EFAILED, NULL, "no")),
           KIN_EINVAL, "must be a cancellation");

    /* destroy with a suspended receiver */
    kin_job w;
    CHECK_EQ(kin_launch(&w, NULL, waiter, NULL), 0);
    CHECK_EQ(kin_yield(), 0);
    MISUSE(kin_channel_destroy(live), KIN_EBUSY, "suspended");
    CHECK_EQ(kin_cancel_and_join(w), 0);

    /* kin_produce */
    MISUSE(kin_produce(NULL, NULL, NULL, NULL, 4, prod, NULL), KIN_EINVAL,
           "out is NULL");
    MISUSE(kin_produce(&ch, NULL, NULL, NULL, 4, NULL, NULL), KIN_EINVAL,
           "fn is NULL");
    MISUSE(kin_produce(&ch, NULL, NULL, &(kin_channel_opts){.capacity = -9}, 4,
                       prod, NULL),
           KIN_EINVAL, "invalid capacity");
    QUIET(ch.id == 0);
    /* the launch refuses after the channel was made: the channel is
     * freed again (both its references), nothing runs, *out stays zero */
    kin_job pj = {1};
    MISUSE(kin_produce(&ch, &pj, &(kin_launch_opts){.start = 99}, NULL, 4,
                       prod, NULL),
           KIN_EINVAL, "kin_produce: unknown start mode");
    QUIET(ch.id == 0 && pj.id == 0);

    /* kin_select */
    MISUSE(kin_select(NULL, 1), KIN_EINVAL, "no clauses");
    kin_select_clause one = {.kind = KIN_SELECT_TIMEOUT};
    MISUSE(kin_select(&one, 0), KIN_EINVAL, "no clauses");
    kin_select_clause badkind = {.kind = (kin_select_kind)99};
    MISUSE(kin_select(&badkind, 1), KIN_EINVAL, "unknown kind");
    kin_select_clause sz = {.kind = KIN_SELECT_SEND, .channel = live,
                            .elem = &l, .size = sizeof l};
    MISUSE(kin_select(&sz, 1), KIN_EINVAL, "element size");
    kin_select_clause self = {.kind = KIN_SELECT_JOIN,
                              .job = kin_current_job()};
    MISUSE(kin_select(&self, 1), KIN_EDEADLK, "itself");
    kin_select_clause notasync = {.kind = KIN_SELECT_AWAIT, .job = w};
    MISUSE(kin_select(&notasync, 1), KIN_EINVAL, "kin_async");
    kin_select_clause nojob = {.kind = KIN_SELECT_JOIN};
    MISUSE(kin_select(&nojob, 1), KIN_EINVAL, "invalid job");
    CHECK_EQ(kin_job_release(w), 0);

    /* the producer's handle does not destroy; the consumer's goes stale */
    return 0;
}

int main(void) {
    kin_channel tmp;
    CHECK_EQ(kin_channel_new(&dead, 4, NULL), 0);
    CHECK_EQ(kin_channel_destroy(dead), 0);
    CHECK_EQ(kin_channel_new(&tmp, 4, NULL), 0); /* reuses dead's record */
    CHECK_EQ(kin_channel_new(&live, 4, NULL), 0);
    plain_code();
    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    CHECK_EQ(kin_channel_destroy(live), 0);
    CHECK_EQ(kin_channel_destroy(tmp), 0);
    MISUSE(kin_channel_destroy(live), KIN_ESTALE, "stale");
    printf("ok: %d cases\n", check_cases_);
    return 0;
}
