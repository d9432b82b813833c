/* Every public flow function given bad input or a stale handle returns the
 * documented code with a readable message; operators given a bad call
 * still take the upstream over (it is released, *f zeroed: kin.h
 * BUILDING); on_free runs exactly once, when the last reference goes. */
#include "check.h"

static int frees;
static void count_free(void *arg) {
    (void)arg;
    frees++;
}
static int nop_emitter(kin_flow_collector *out, void *arg) {
    (void)out;
    (void)arg;
    return 0;
}
static int nop_value(const void *v, void *arg) {
    (void)v;
    (void)arg;
    return 0;
}
static int nop_fold(void *acc, const void *v, void *arg) {
    (void)acc;
    (void)v;
    (void)arg;
    return 0;
}
static int nop_fn(void *arg) {
    (void)arg;
    return 0;
}

/* A fresh flow whose freeing is counted. */
static kin_flow counted(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), nop_emitter, NULL), 0);
    CHECK_EQ(kin_flow_on_free(f, count_free, NULL), 0);
    return f;
}

/* An operator call that must fail and release its upstream. */
#define OP_MISUSE(call_with_f, code, words)                                    \
    do {                                                                       \
        int before_ = frees;                                                   \
        f = counted();                                                         \
        MISUSE(call_with_f, code, words);                                      \
        CHECK_EQ(f.id, 0);                                                     \
        CHECK_EQ(frees, before_ + 1);                                          \
    } while (0)

static kin_flow stale(void) {
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), nop_emitter, NULL), 0);
    CHECK_EQ(kin_flow_release(f), 0);
    return f;
}

static int emit_rows(kin_flow_collector *out, void *arg) {
    (void)arg;
    int v = 1;
    MISUSE(kin_flow_emit(NULL, &v, sizeof v), KIN_EINVAL, "out is NULL");
    MISUSE(kin_flow_emit(out, &v, 2), KIN_EINVAL, "elem_size 4");
    MISUSE(kin_flow_emit(out, NULL, sizeof v), KIN_EINVAL, "value is NULL");
    return 0;
}

static int body(void *arg) {
    (void)arg;
    kin_flow f, s = stale();
    kin_flow foreign = {((uint64_t)1 << 32) | 0x7fffffffu};
    int v = 0;

    /* builders */
    MISUSE(kin_flow_new(NULL, 4, nop_emitter, NULL), KIN_EINVAL,
           "out is NULL");
    f.id = 99;
    MISUSE(kin_flow_new(&f, 4, NULL, NULL), KIN_EINVAL, "fn is NULL");
    CHECK_EQ(f.id, 0);
    MISUSE(kin_flow_from_array(NULL, &v, 1, 4), KIN_EINVAL, "out is NULL");
    MISUSE(kin_flow_from_array(&f, NULL, 1, 4), KIN_EINVAL,
           "values is NULL");
    MISUSE(kin_flow_from_array(&f, &v, SIZE_MAX / 2, 4), KIN_EINVAL,
           "overflows");

    /* references */
    MISUSE(kin_flow_retain((kin_flow){0}), KIN_EINVAL, "invalid flow handle");
    MISUSE(kin_flow_retain(foreign), KIN_EINVAL, "invalid flow handle");
    MISUSE(kin_flow_retain(s), KIN_ESTALE, "stale flow handle");
    MISUSE(kin_flow_release((kin_flow){0}), KIN_EINVAL, "invalid");
    MISUSE(kin_flow_release(s), KIN_ESTALE, "stale");
    MISUSE(kin_flow_on_free(s, count_free, NULL), KIN_ESTALE, "stale");
    MISUSE(kin_flow_on_free((kin_flow){0}, count_free, NULL), KIN_EINVAL,
           "invalid");
    f = counted();
    MISUSE(kin_flow_on_free(f, NULL, NULL), KIN_EINVAL, "fn is NULL");
    MISUSE(kin_flow_on_free(f, count_free, NULL), KIN_EBUSY,
           "already has an on_free");
    QUIET(kin_flow_elem_size(s) == 0);
    QUIET(kin_flow_elem_size((kin_flow){0}) == 0);
    QUIET(kin_flow_elem_size(foreign) == 0);
    QUIET(kin_flow_elem_size(f) == sizeof(int));
    /* retain + two releases: on_free once, at the last */
    frees = 0;
    CHECK_EQ(kin_flow_retain(f), 0);
    CHECK_EQ(kin_flow_release(f), 0);
    CHECK_EQ(frees, 0);
    CHECK_EQ(kin_flow_release(f), 0);
    CHECK_EQ(frees, 1);
    MISUSE(kin_flow_release(f), KIN_ESTALE, "stale");
    CHECK_EQ(frees, 1);

    /* operators: the upstream is taken over even on error */
    MISUSE(kin_flow_map(NULL, 4, NULL, NULL), KIN_EINVAL, "f is NULL");
    f.id = 0;
    MISUSE(kin_flow_map(&f, 4, NULL, NULL), KIN_EINVAL, "zero handle");
    f = s;
    MISUSE(kin_flow_filter(&f, NULL, NULL), KIN_ESTALE, "stale");
    CHECK_EQ(f.id, 0);
    frees = 0;
    OP_MISUSE(kin_flow_map(&f, 4, NULL, NULL), KIN_EINVAL,
              "kin_flow_map: fn is NULL");
    OP_MISUSE(kin_flow_filter(&f, NULL, NULL), KIN_EINVAL,
              "kin_flow_filter: fn is NULL");
    OP_MISUSE(kin_flow_transform(&f, 4, NULL, NULL), KIN_EINVAL,
              "kin_flow_transform: fn is NULL");
    OP_MISUSE(kin_flow_take(&f, 0), KIN_EINVAL, "should be positive");
    OP_MISUSE(kin_flow_on_each(&f, NULL, NULL), KIN_EINVAL, "fn is NULL");
    OP_MISUSE(kin_flow_on_start(&f, NULL, NULL), KIN_EINVAL, "fn is NULL");
    OP_MISUSE(kin_flow_on_completion(&f, NULL, NULL), KIN_EINVAL,
              "fn is NULL");
    OP_MISUSE(kin_flow_catch(&f, NULL, NULL), KIN_EINVAL, "fn is NULL");
    OP_MISUSE(kin_flow_retry(&f, 0, NULL, NULL), KIN_EINVAL,
              "Expected positive amount of retries");
    OP_MISUSE(kin_flow_retry_when(&f, NULL, NULL), KIN_EINVAL, "fn is NULL");
    OP_MISUSE(kin_flow_retry_backoff(&f, &(kin_retry_opts){.factor = 0.5}),
              KIN_EINVAL, "factor");
    OP_MISUSE(kin_flow_retry_backoff(&f, &(kin_retry_opts){.jitter = 1.5}),
              KIN_EINVAL, "jitter");
    OP_MISUSE(kin_flow_retry_backoff(&f, &(kin_retry_opts){.base_ms = -1}),
              KIN_EINVAL, "negative delay");
    MISUSE(kin_flow_retry_backoff(NULL, NULL), KIN_EINVAL, "f is NULL");
    f = s;
    MISUSE(kin_flow_distinct_until_changed(&f, NULL, NULL), KIN_ESTALE,
           "stale");

    /* terminals */
    uint64_t c;
    void *xs;
    size_t n;
    MISUSE(kin_flow_collect(s, nop_value, NULL), KIN_ESTALE, "stale");
    MISUSE(kin_flow_collect((kin_flow){0}, nop_value, NULL), KIN_EINVAL,
           "invalid");
    MISUSE(kin_flow_first(s, &v, 4), KIN_ESTALE, "stale");
    MISUSE(kin_flow_single(s, &v, 4), KIN_ESTALE, "stale");
    MISUSE(kin_flow_count(s, &c), KIN_ESTALE, "stale");
    MISUSE(kin_flow_to_array(s, &xs, &n), KIN_ESTALE, "stale");
    MISUSE(kin_flow_launch_in(s, (kin_scope){0}, NULL), KIN_ESTALE, "stale");
    f = counted();
    MISUSE(kin_flow_collect(f, NULL, NULL), KIN_EINVAL, "fn is NULL");
    MISUSE(kin_flow_first(f, &v, 8), KIN_EINVAL, "size 8");
    MISUSE(kin_flow_first(f, NULL, 4), KIN_EINVAL, "out is NULL");
    MISUSE(kin_flow_single(f, &v, 2), KIN_EINVAL, "size 2");
    MISUSE(kin_flow_reduce(f, &v, 2, NULL, NULL), KIN_EINVAL, "fn is NULL");
    MISUSE(kin_flow_reduce(f, NULL, 4, nop_fold, NULL),
           KIN_EINVAL, "acc is NULL");
    MISUSE(kin_flow_reduce(f, &v, 2, nop_fold, NULL),
           KIN_EINVAL, "size 2");
    MISUSE(kin_flow_fold(f, NULL, 4, nop_fold, NULL),
           KIN_EINVAL, "acc is NULL");
    MISUSE(kin_flow_fold(f, &v, 4, NULL, NULL), KIN_EINVAL, "fn is NULL");
    MISUSE(kin_flow_count(f, NULL), KIN_EINVAL, "out is NULL");
    MISUSE(kin_flow_to_array(f, NULL, &n), KIN_EINVAL, "values is NULL");
    MISUSE(kin_flow_to_array(f, &xs, NULL), KIN_EINVAL, "n is NULL");
    MISUSE(kin_retry(NULL, NULL, NULL), KIN_EINVAL, "fn is NULL");
    MISUSE(kin_retry(&(kin_retry_opts){.max_ms = -5}, nop_fn, NULL),
           KIN_EINVAL, "negative delay");
    MISUSE(kin_retry(&(kin_retry_opts){.factor = -1}, nop_fn, NULL),
           KIN_EINVAL, "factor");

    /* emit inside a collect */
    kin_flow e;
    CHECK_EQ(kin_flow_new(&e, sizeof(int), emit_rows, NULL), 0);
    CHECK_EQ(kin_flow_collect(e, nop_value, NULL), 0);
    CHECK_EQ(kin_flow_release(e), 0);

    frees = 0;
    CHECK_EQ(kin_flow_release(f), 0);
    CHECK_EQ(frees, 1);
    return 0;
}

/* A chain is freed stage by stage when its last handle goes: each stage's
 * on_free once, the downstream stage first (it held the upstream). */
static int order[8], norder;
static void note_free(void *arg) {
    order[norder++] = (int)(intptr_t)arg;
}
static int times2(const void *in, void *out, void *arg) {
    (void)arg;
    *(int *)out = *(const int *)in * 2;
    return 0;
}

static void test_chain_free(void) {
    int xs[] = {1, 2};
    kin_flow a, b;
    CHECK_EQ(kin_flow_from_array(&a, xs, 2, sizeof(int)), 0);
    CHECK_EQ(kin_flow_on_free(a, note_free, (void *)1), 0);
    CHECK_EQ(kin_flow_retain(a), 0); /* keep a handle on the upstream */
    b = a;
    CHECK_EQ(kin_flow_map(&b, sizeof(int), times2, NULL), 0);
    CHECK_EQ(kin_flow_on_free(b, note_free, (void *)2), 0);
    CHECK_EQ(kin_flow_release(b), 0);
    CHECK_EQ(norder, 1);
    CHECK_EQ(order[0], 2);
    CHECK_EQ(kin_flow_elem_size(a), sizeof(int)); /* still ours */
    CHECK_EQ(kin_flow_release(a), 0);
    CHECK_EQ(norder, 2);
    CHECK_EQ(order[1], 1);
}

int main(void) {
    /* outside a coroutine */
    kin_flow f;
    CHECK_EQ(kin_flow_new(&f, sizeof(int), nop_emitter, NULL), 0);
    int v;
    uint64_t c;
    void *xs;
    size_t n;
    MISUSE(kin_flow_collect(f, nop_value, NULL), KIN_ENOTCORO,
           "outside a coroutine");
    MISUSE(kin_flow_first(f, &v, 4), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_flow_single(f, &v, 4), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_flow_reduce(f, &v, 4, nop_fold, NULL),
           KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_flow_fold(f, &v, 4, nop_fold, NULL),
           KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_flow_count(f, &c), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_flow_to_array(f, &xs, &n), KIN_ENOTCORO,
           "outside a coroutine");
    MISUSE(kin_flow_launch_in(f, (kin_scope){0}, NULL), KIN_ENOTCORO,
           "outside a coroutine");
    MISUSE(kin_retry(NULL, nop_fn, NULL), KIN_ENOTCORO,
           "outside a coroutine");
    CHECK_EQ(kin_flow_release(f), 0);

    CHECK_EQ(kin_run_blocking(body, NULL), 0);
    test_chain_free();
    printf("%d misuse rows\n", check_cases_);
    return 0;
}
