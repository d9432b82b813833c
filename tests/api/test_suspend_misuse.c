/* Bad input to the suspending-by-hand calls, in test_misuse.c's table style:
 * each returns its documented code with a message that says why, takes
 * over what it documents taking (a value goes to on_drop, a failure is
 * released), never calls a callback it refused (L7), never crashes. */
#include <pthread.h>

#include "check.h"

static int drops, payload_frees, never_calls;

static void drop(void *v) {
    CHECK_STR((const char *)v, "v");
    drops++;
}

static void payload_free(void *p) {
    (void)p;
    payload_frees++;
}

static void never(kin_cont cont, void *arg) {
    (void)cont, (void)arg;
    never_calls++;
}

/* A failure whose release we can see. */
static kin_error *failure(void) {
    kin_error *e = kin_error_new(KIN_EFAILED, "X", "f");
    CHECK_EQ(kin_error_set_payload(e, e, payload_free), 0);
    return e;
}

static void start_noop(kin_cont cont, void *arg) {
    *(kin_cont *)arg = cont;
}

static void resume_self(kin_cont cont, void *arg) {
    *(kin_cont *)arg = cont;
    CHECK_EQ(kin_resume(cont, NULL), 0);
}

static int suspends_once(void *arg) {
    return kin_suspend(resume_self, arg, NULL);
}

static int waits(void *arg) {
    return kin_suspend(start_noop, arg, NULL);
}

static int cancelled(void *arg) {
    (void)arg;
    kin_cont c;
    kin_cancel(kin_current_job(), NULL);
    CHECK_EQ(kin_suspend(start_noop, &c, NULL), KIN_ECANCELED);
    MISUSE(kin_resume(c, "v"), KIN_EALREADY, "cancelled");
    return KIN_ECANCELED;
}

/* Every call that takes a continuation, with cont bad in the way `code`
 * and `words` say. */
static void all_refuse(kin_cont c, int code, const char *words) {
    int d = drops, f = payload_frees;
    MISUSE(kin_resume(c, "v"), code, words);
    MISUSE(kin_resume_ex(c, "v", drop), code, words);
    CHECK_EQ(drops, d + 1); /* not delivered: dropped, once */
    MISUSE(kin_resume_ex(c, "v", NULL), code, words);
    MISUSE(kin_resume_error(c, failure()), code, words);
    CHECK_EQ(payload_frees, f + 1); /* taken over even on error */
    MISUSE(kin_cont_on_cancel(c, never, NULL), code, words);
    QUIET(!kin_cont_is_active(c));
    CHECK_EQ(never_calls, 0);
}

static int in_coroutine(void *arg) {
    (void)arg;
    kin_cont zero = {0, 0};
    MISUSE(kin_suspend(NULL, NULL, NULL), KIN_EINVAL, "start is NULL");

    /* Zero, foreign, and a job handle with a zero number. */
    all_refuse(zero, KIN_EINVAL, "invalid continuation");
    all_refuse((kin_cont){0x00000001ffffff00ull, 1}, KIN_EINVAL,
               "invalid continuation");
    all_refuse((kin_cont){kin_current_job().id, 0}, KIN_EINVAL,
               "invalid continuation");
    /* A number this coroutine never handed out. */
    all_refuse((kin_cont){kin_current_job().id, 99}, KIN_EINVAL,
               "never handed it out");

    /* Over: resumed, then the coroutine moved on. */
    kin_cont c;
    void *v;
    CHECK_EQ(kin_suspend(resume_self, &c, &v), 0);
    all_refuse(c, KIN_EALREADY, "already resumed");
    kin_cont c2;
    CHECK_EQ(kin_suspend(resume_self, &c2, &v), 0);
    all_refuse(c, KIN_EALREADY, "moved on");

    /* Stale: the coroutine's record was reclaimed. */
    kin_job j;
    CHECK_EQ(kin_launch(&j, NULL, suspends_once, &c), 0);
    CHECK_EQ(kin_join(j), 0);
    CHECK_EQ(kin_job_release(j), 0);
    all_refuse(c, KIN_ESTALE, "stale continuation");

    /* NULL arguments on a good continuation. */
    kin_cont live = {0, 0};
    CHECK_EQ(kin_launch(&j, NULL, waits, &live), 0);
    CHECK_EQ(kin_yield(), 0);
    QUIET(kin_cont_is_active(live));
    MISUSE(kin_resume_error(live, NULL), KIN_EINVAL, "failure is NULL");
    MISUSE(kin_cont_on_cancel(live, NULL, NULL), KIN_EINVAL, "fn is NULL");
    QUIET(kin_cont_is_active(live)); /* refused calls changed nothing */
    CHECK_EQ(kin_resume(live, NULL), 0);
    CHECK_EQ(kin_join(j), 0);

    /* Cancelled: the suspension is over. */
    CHECK_EQ(kin_launch(&j, NULL, cancelled, NULL), 0);
    CHECK_EQ(kin_join(j), 0);
    return 0;
}

static void *plain_thread(void *arg) {
    (void)arg;
    /* A thread that does not run kin may resume (see the other tests),
     * but not suspend. */
    MISUSE(kin_suspend(start_noop, NULL, NULL), KIN_ENOTCORO,
           "outside a coroutine");
    MISUSE(kin_resume((kin_cont){0, 0}, NULL), KIN_EINVAL,
           "invalid continuation");
    return NULL;
}

int main(void) {
    MISUSE(kin_suspend(start_noop, NULL, NULL), KIN_ENOTCORO,
           "outside a coroutine");
    MISUSE(kin_suspend(NULL, NULL, NULL), KIN_ENOTCORO, "outside a coroutine");
    MISUSE(kin_resume((kin_cont){0, 0}, "v"), KIN_EINVAL,
           "invalid continuation");
    QUIET(!kin_cont_is_active((kin_cont){0, 0}));
    CHECK_EQ(kin_run_blocking(in_coroutine, NULL), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, plain_thread, NULL), 0);
    pthread_join(t, NULL);
    CHECK_EQ(never_calls, 0);
    CHECK_STR(kin_strerror(KIN_EALREADY), "already started, or already resumed");
    fprintf(stderr, "%d misuse cases, each with its code and message\n", check_cases_);
    return 0;
}
