/* Bad input to every kin_state_flow_* and kin_shared_flow_* function, as
 * a table (tests/check.h's MISUSE): NULL pointers, wrong sizes, zero,
 * garbage, destroyed and wrong-kind handles, bad options, emit outside a
 * coroutine, collecting the cold flow of a destroyed hot flow. Each
 * returns its documented code with the words a reader needs; nothing
 * changes state. */
#include "check.h"

static kin_state_flow live_s;
static kin_shared_flow live_f;

static void state_rows(void) {
    int v = 1;
    kin_state_flow out;
    MISUSE(kin_state_flow_new(NULL, sizeof v, &v, NULL, NULL), KIN_EINVAL,
           "out is NULL");
    MISUSE(kin_state_flow_new(&out, sizeof v, NULL, NULL, NULL), KIN_EINVAL,
           "initial is NULL");
    CHECK_EQ(out.id, 0);

    kin_state_flow dead;
    CHECK_EQ(kin_state_flow_new(&dead, sizeof v, &v, NULL, NULL), 0);
    CHECK_EQ(kin_state_flow_destroy(dead), 0);
    kin_state_flow other_kind = {live_f.id};
    kin_state_flow hs[] = {{0}, {0x00000001ffffff00ull}, {1}, dead, other_kind};
    int code[] = {KIN_EINVAL, KIN_EINVAL, KIN_EINVAL, KIN_ESTALE, KIN_EINVAL};
    const char *words[] = {"invalid state flow handle",
                           "invalid state flow handle",
                           "invalid state flow handle",
                           "state flow was destroyed", "not a state flow"};
    for (int i = 0; i < 5; i++) {
        kin_flow f = {77};
        MISUSE(kin_state_flow_destroy(hs[i]), code[i], words[i]);
        MISUSE(kin_state_flow_get(hs[i], &v, sizeof v), code[i], words[i]);
        MISUSE(kin_state_flow_set(hs[i], &v, sizeof v), code[i], words[i]);
        MISUSE(kin_state_flow_compare_and_set(hs[i], &v, &v, sizeof v),
               code[i], words[i]);
        MISUSE(kin_state_flow_as_flow(hs[i], &f), code[i], words[i]);
        CHECK_EQ(f.id, 0);
        MISUSE(kin_state_flow_subscribers(hs[i]), code[i], words[i]);
    }
    long wide = 5;
    MISUSE(kin_state_flow_get(live_s, &wide, sizeof wide), KIN_EINVAL,
           "size 8, but the flow's values have 4 bytes");
    MISUSE(kin_state_flow_get(live_s, NULL, sizeof v), KIN_EINVAL,
           "out is NULL");
    MISUSE(kin_state_flow_set(live_s, &wide, sizeof wide), KIN_EINVAL,
           "size 8, but the flow's values have 4 bytes");
    MISUSE(kin_state_flow_set(live_s, NULL, sizeof v), KIN_EINVAL,
           "value is NULL");
    MISUSE(kin_state_flow_compare_and_set(live_s, NULL, &v, sizeof v),
           KIN_EINVAL, "expect is NULL");
    MISUSE(kin_state_flow_compare_and_set(live_s, &v, NULL, sizeof v),
           KIN_EINVAL, "update is NULL");
    MISUSE(kin_state_flow_compare_and_set(live_s, &wide, &wide, sizeof wide),
           KIN_EINVAL, "size 8");
    MISUSE(kin_state_flow_as_flow(live_s, NULL), KIN_EINVAL, "out is NULL");
    /* nothing changed */
    CHECK_EQ(kin_state_flow_get(live_s, &v, sizeof v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(kin_state_flow_subscribers(live_s), 0);
}

static void shared_rows(void) {
    int v = 1;
    kin_shared_flow out;
    MISUSE(kin_shared_flow_new(NULL, sizeof v, NULL), KIN_EINVAL,
           "out is NULL");
    MISUSE(kin_shared_flow_new(&out, sizeof v,
                               &(kin_shared_flow_opts){.overflow = 7}),
           KIN_EINVAL, "unknown overflow policy 7");
    CHECK_EQ(out.id, 0);
    MISUSE(kin_shared_flow_new(
               &out, sizeof v,
               &(kin_shared_flow_opts){.overflow = KIN_OVERFLOW_DROP_OLDEST}),
           KIN_EINVAL, "replay or extra_buffer must be positive");
    MISUSE(kin_shared_flow_new(
               &out, sizeof v,
               &(kin_shared_flow_opts){.overflow = KIN_OVERFLOW_DROP_LATEST}),
           KIN_EINVAL, "non-default overflow policy");
    MISUSE(kin_shared_flow_new(&out, sizeof v,
                               &(kin_shared_flow_opts){.replay = SIZE_MAX}),
           KIN_EINVAL, "must be at most");
    MISUSE(kin_shared_flow_new(
               &out, sizeof v,
               &(kin_shared_flow_opts){.extra_buffer = (size_t)1 << 40}),
           KIN_EINVAL, "must be at most");

    kin_shared_flow dead;
    CHECK_EQ(kin_shared_flow_new(&dead, sizeof v, NULL), 0);
    CHECK_EQ(kin_shared_flow_destroy(dead), 0);
    kin_shared_flow other_kind = {live_s.id};
    kin_shared_flow hs[] = {{0}, {0x00000001ffffff00ull}, {1}, dead,
                            other_kind};
    int code[] = {KIN_EINVAL, KIN_EINVAL, KIN_EINVAL, KIN_ESTALE, KIN_EINVAL};
    const char *words[] = {"invalid shared flow handle",
                           "invalid shared flow handle",
                           "invalid shared flow handle",
                           "shared flow was destroyed", "not a shared flow"};
    for (int i = 0; i < 5; i++) {
        kin_flow f = {77};
        MISUSE(kin_shared_flow_destroy(hs[i]), code[i], words[i]);
        MISUSE(kin_shared_flow_emit(hs[i], &v, sizeof v), code[i], words[i]);
        MISUSE(kin_shared_flow_try_emit(hs[i], &v, sizeof v), code[i],
               words[i]);
        MISUSE(kin_shared_flow_as_flow(hs[i], &f), code[i], words[i]);
        CHECK_EQ(f.id, 0);
        MISUSE(kin_shared_flow_subscribers(hs[i]), code[i], words[i]);
        MISUSE(kin_shared_flow_reset_replay(hs[i]), code[i], words[i]);
    }
    long wide = 5;
    MISUSE(kin_shared_flow_emit(live_f, &wide, sizeof wide), KIN_EINVAL,
           "size 8, but the flow's values have 4 bytes");
    MISUSE(kin_shared_flow_emit(live_f, NULL, sizeof v), KIN_EINVAL,
           "value is NULL");
    MISUSE(kin_shared_flow_try_emit(live_f, &wide, sizeof wide), KIN_EINVAL,
           "size 8");
    MISUSE(kin_shared_flow_try_emit(live_f, NULL, sizeof v), KIN_EINVAL,
           "value is NULL");
    MISUSE(kin_shared_flow_as_flow(live_f, NULL), KIN_EINVAL, "out is NULL");
    CHECK_EQ(kin_shared_flow_subscribers(live_f), 0);
}

/* The cold flow of a hot flow destroyed since: each collect says so. */
static int never(const void *value, void *arg) {
    (void)value;
    (void)arg;
    CHECK(0);
    return 0;
}

static int in_coroutine(void *arg) {
    (void)arg;
    state_rows(); /* in a coroutine: emit's rows get past its first check */
    shared_rows();
    kin_state_flow s;
    kin_shared_flow f;
    int v = 3;
    CHECK_EQ(kin_state_flow_new(&s, sizeof v, &v, NULL, NULL), 0);
    CHECK_EQ(kin_shared_flow_new(&f, sizeof v, NULL), 0);
    kin_flow fs, ff;
    CHECK_EQ(kin_state_flow_as_flow(s, &fs), 0);
    CHECK_EQ(kin_shared_flow_as_flow(f, &ff), 0);
    CHECK_EQ(kin_flow_elem_size(fs), sizeof v);
    CHECK_EQ(kin_flow_elem_size(ff), sizeof v);
    CHECK_EQ(kin_state_flow_destroy(s), 0);
    CHECK_EQ(kin_shared_flow_destroy(f), 0);
    MISUSE(kin_flow_collect(fs, never, NULL), KIN_ESTALE,
           "state flow was destroyed");
    MISUSE(kin_flow_collect(ff, never, NULL), KIN_ESTALE,
           "shared flow was destroyed");
    CHECK_EQ(kin_flow_release(fs), 0);
    CHECK_EQ(kin_flow_release(ff), 0);
    return 0;
}

int main(void) {
    int v = 1;
    CHECK_EQ(kin_state_flow_new(&live_s, sizeof v, &v, NULL, NULL), 0);
    CHECK_EQ(kin_shared_flow_new(&live_f, sizeof v, NULL), 0);
    /* emit suspends: only in a coroutine (try_emit works anywhere) */
    MISUSE(kin_shared_flow_emit(live_f, &v, sizeof v), KIN_ENOTCORO,
           "kin_shared_flow_emit: called outside a coroutine");
    CHECK_EQ(kin_shared_flow_try_emit(live_f, &v, sizeof v), 0);
    CHECK_EQ(kin_run_blocking(in_coroutine, NULL), 0);
    CHECK_EQ(kin_state_flow_destroy(live_s), 0);
    CHECK_EQ(kin_shared_flow_destroy(live_f), 0);
    printf("ok (%d rows)\n", check_cases_);
    return 0;
}
